"""Fixed-seed samples for the secondary models when the data are large.

The headline Cox model, its proportional-hazards test and the scoring of every active customer use every customer.
The secondary models — the AFT model comparison, the backtest's refits at its cutoff (without and with the survey
signal), the stratified model when the PH test calls for one (lifelines' stratified fit is the slowest step: minutes
at a million customers) and the validation's training fit — are fitted on a fixed-seed random sample once the
customers exceed a cap: their estimates are then √(n / cap) times less precise than on everyone. The caps are the
size of the course data (20,000 customers, about 5,000 churners at a quarter churning: there every conclusion of
the AFT comparison is already decided) or larger; the backtest and the validation still score every customer they
evaluate. At a million customers this takes churn + CLV from about 465 s of CPU to about a fifth of it. The sample is stratified by churn, so its churn share is the data's to one
customer, and drawn with :data:`SEED` (the same rows on every run). Each sampling adds a note saying what was
fitted on how many of how many customers; on data under the caps nothing is sampled and no note appears.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from loyaltylab import i18n
from loyaltylab.analyses.churn.data import SurvivalData, restrict

SEED = 20_151                  # the samples' seed: the same customers on every run
AFT_SAMPLE = 20_000            # customers the AFT model comparison (three parametric fits) is fitted on
BACKTEST_SAMPLE = 50_000       # customers the backtest's models are refitted on at its cutoff (all are scored)
REMEDY_SAMPLE = 100_000        # customers the stratified Cox model (the PH test's remedy) is fitted on
VALIDATION_SAMPLE = 50_000     # training customers of the held-out validation's model (the held-out 30%: all)


def sample_rows(events, cap: int | None, seed: int = SEED) -> np.ndarray | None:
    """Sorted row positions of a fixed-seed random sample of ``cap`` customers, stratified by ``events`` (churners
    and the others each sampled in their share, rounded), or None when there are no more than ``cap`` rows."""
    churned = np.asarray(events, dtype=float) > 0
    n = len(churned)
    if cap is None or n <= cap:
        return None
    rng = np.random.default_rng(seed)
    events_at = np.flatnonzero(churned)
    others_at = np.flatnonzero(~churned)
    n_events = int(round(cap * len(events_at) / n))
    picked = np.concatenate([rng.choice(events_at, n_events, replace=False),
                             rng.choice(others_at, cap - n_events, replace=False)])
    return np.sort(picked)


def sample(sd: SurvivalData, cap: int | None, seed: int = SEED) -> SurvivalData:
    """``sd`` on its fixed-seed sample of ``cap`` customers (:func:`sample_rows`; the design rebuilt on them), or
    ``sd`` itself when it has no more than ``cap`` customers."""
    rows = sample_rows(sd.frame["event"].to_numpy(), cap, seed)
    if rows is None:
        return sd
    keep = np.zeros(sd.n, dtype=bool)
    keep[rows] = True
    return restrict(sd, keep)


def scoring_data(full: SurvivalData, fitted: SurvivalData) -> SurvivalData:
    """The customers of ``full`` that a model fitted on ``fitted`` (a sample of them, its levels without churners
    left out) can score, in the fitted design: customers of a categorical level the fitted design does not know are
    left out, as the models leave out a level without churners. (Should a sample's design differ from everyone's in
    its columns — a reference level absent from the sample — the sample itself is scored.)"""
    if fitted is full:
        return full
    keep = np.ones(full.n, dtype=bool)
    for var, levels in fitted.design.categorical.items():
        if var in full.base.columns:
            keep &= full.base[var].astype(str).isin([str(level) for level in levels]).to_numpy()
    if not keep.all() or not set(fitted.design.columns) <= set(full.frame.columns):
        full = restrict(full, keep)
    if not set(fitted.design.columns) <= set(full.frame.columns):
        return fitted
    return replace(full, frame=full.frame[["duration", "event", *fitted.design.columns]], design=fitted.design)


def note(what_en: str, what_zh: str, used: int, total: int, why_en: str = "", why_zh: str = "",
         whom_en: str = "customers", whom_zh: str = "名客户") -> str:
    """One sentence: what was fitted on how many of how many customers, and why (in the current language)."""
    return i18n.t(
        f"{what_en} was fitted on a fixed-seed random sample of {used:,} of the {total:,} {whom_en} (churners and "
        f"active customers in their shares, the same rows on every run) to keep the analysis fast at this size; its "
        f"estimates are about {(total / used) ** 0.5:.1f}× less precise than a fit on everyone{why_en}.",
        f"{what_zh}基于固定随机种子抽取的 {used:,} 名客户样本（共 {total:,} {whom_zh}；流失与在网客户按原比例抽取，每次运行"
        f"抽到同样的客户）拟合，以便在这一数据规模下快速完成分析；其估计的精度约为全量拟合的 1/{(total / used) ** 0.5:.1f}"
        f"{why_zh}。")


def aft_note(used: int, total: int) -> str:
    return note("The AFT model comparison (Weibull, log-normal, log-logistic)", "AFT 模型比较（Weibull、对数正态、对数逻辑）",
                used, total, "; the Cox model and the early warning use every customer",
                "；Cox 模型和提前预警使用全部客户")


def backtest_note(used: int, total: int) -> str:
    return note("The backtest's model at its cutoff (without and with the survey signal)",
                "回测在截止日重新拟合的模型（不含及含调查信号）", used, total,
                "; every customer active at the cutoff is scored, so the AUC is measured on all of them",
                "；截止日所有在网客户都参与评分，AUC 基于全部这些客户计算", "customers known at the cutoff",
                "名截止日已有的客户")


def remedy_note(used: int, total: int) -> str:
    return note("The stratified Cox model (the PH test's remedy, which scores the early warning)",
                "分层 Cox 模型（比例风险检验后的补救模型，用于提前预警评分）", used, total,
                "; the unstratified Cox model and the PH test use every customer, and every active customer is scored",
                "；未分层的 Cox 模型和比例风险检验使用全部客户，所有在网客户都参与评分")


def validation_note(used: int, total: int) -> str:
    return note("The validation's model", "验证所用的模型", used, total,
                "; it is evaluated on every customer of the held-out 30%", "；评估使用留出的全部 30% 客户",
                "customers of its 70% training part", "名 70% 训练部分的客户")
