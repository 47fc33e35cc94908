"""The CLV and sBG sentences, computed from the result; segment values, cohort names and model labels go through
:func:`narrative.esc`. Every sentence is written in English and Chinese (:func:`loyaltylab.i18n.t`)."""
from __future__ import annotations

import numpy as np

from loyaltylab import i18n
from loyaltylab.analyses.churn.describe import bilingual, level, model_label
from loyaltylab.analyses.clv.sbg import MIN_PERIODS
from loyaltylab.analyses.clv.value import LTV_CAC_TARGET
from loyaltylab.i18n import column_zh
from loyaltylab.narrative import esc, number

PERIOD_ZH = {"year": "年", "quarter": "季度", "month": "月", "period": "期"}


def _value(result) -> str:
    val = result.value
    if val is None:
        return i18n.t("No revenue column: customer lifetime value is not computed.",
                      "没有收入列：不计算客户终身价值。")
    months, clv = f"{val.mean_remaining_lifetime:.0f}", f"{val.mean_clv:,.0f}"
    margin, rate, years = level(val.margin), level(val.discount_rate), val.max_months // 12
    stratified = result.churn.remedy is not None
    text = i18n.t(
        f"Active customers' expected remaining lifetime averages {months} months and "
        f"their mean CLV is {clv} (margin {margin}, discount {rate} a year, {esc(val.model)} model, capped at "
        f"{years} years"
        + ("; the stratified Cox model uses each stratum's baseline where at least 50 of its customers are at "
           "risk and extends it at its recent rate beyond that" if stratified else "")
        + ").",
        f"在网客户的预期剩余生命周期平均为 {months} 个月，平均客户终身价值（CLV）为 {clv}（毛利率 {margin}，年折现率 "
        f"{rate}，{model_label(val.model)} 模型，最长按 {years} 年计"
        + ("；分层 Cox 模型在每层至少有 50 位客户处于风险集时使用该层的基线，此后按其近期速率外推" if stratified
           else "")
        + "）。")
    ok = val.by_segment.dropna(subset=["ltv_cac"])
    if len(ok):
        passing = list(ok.loc[ok["ltv_cac"] > LTV_CAC_TARGET, "value"])
        target, n_pass, n = f"{LTV_CAC_TARGET:g}", len(passing), len(ok)
        text += i18n.t(f" LTV/CAC is above {target} in {n_pass} of {n} segments"
                       + (f" ({', '.join(esc(p) for p in passing)})." if passing else "."),
                       f"{n} 个细分市场中有 {n_pass} 个的 LTV/CAC 高于 {target}"
                       + (f"（{'、'.join(esc(p) for p in passing)}）。" if passing else "。"))
    return text


@bilingual
def key_findings(result) -> list[str]:
    """The CLV line of the churn report's key findings."""
    return [_value(result)]


@bilingual
def describe_value(result) -> list[str]:
    return [_value(result)]


@bilingual
def describe_sbg(result) -> list[str]:
    """Per fitted cohort its mean churn probability and DERL; the cohorts too young to fit; or why there is none."""
    if not result.sbg_fits and not result.sbg_skipped:
        return [i18n.t("No cohort table given (`cohort_retention_path = None`): the sBG projection is skipped.",
                       "没有提供客户群留存表（`cohort_retention_path = None`）：不做 sBG 预测。")]
    period = result.params.cohort_period
    pz = PERIOD_ZH.get(period, period)
    lines = []
    for row in _summary(result):
        finite = np.isfinite(row["derl_after_last_period"])
        value = number(row["derl_after_last_period"], 2)
        derl = f"{value} {period}s" if finite else "unbounded (α ≤ 1 and no discounting)"
        derl_zh = f"{value} {pz}" if finite else "无上限（α ≤ 1 且不折现）"
        cohort, share = esc(row["cohort"]), level(round(row["mean_churn_probability"], 3))
        a, b = f"{row['alpha']:.3f}", f"{row['beta']:.3f}"
        lines.append(i18n.t(
            f"Cohort {cohort}: on average {share} of customers leave per {period} (α = {a}, β = {b}); a customer "
            f"who has just renewed has a discounted expected residual lifetime of {derl}.",
            f"客户群 {cohort}：平均每{pz}有 {share} 的客户离开（α = {a}，β = {b}）；刚刚续约的客户，其折现后的预期剩余"
            f"生命周期为 {derl_zh}。"))
    if result.sbg_skipped:
        names = ", ".join(esc(c) for c in result.sbg_skipped)
        lines.append(i18n.t(f"Too young to fit (fewer than {MIN_PERIODS} observed periods): {names}.",
                            f"观测期太短、无法拟合（观测期少于 {MIN_PERIODS} 期）的客户群：{names}。"))
    return lines


def _summary(result):
    from loyaltylab.analyses.clv.sbg import summary_table

    return summary_table(result.sbg_fits, result.cohort_rate).to_dict(orient="records") if result.sbg_fits else []


def notes(result) -> list[str]:
    """Plain-text notes for results.json."""
    out = []
    if result.sbg_skipped:
        out.append(f"Too young to fit (fewer than {MIN_PERIODS} observed periods): {', '.join(result.sbg_skipped)}.")
    return out


@bilingual
def captions(result) -> dict[str, str]:
    """Table captions (plain text; the table display escapes them), in the current language."""
    p = result.params
    segment = result.churn.km_groups.column if result.churn.km_groups is not None else "segment"
    period, pz = p.cohort_period, PERIOD_ZH.get(p.cohort_period, p.cohort_period)
    rate, annual = f"{result.cohort_rate:.2%}", level(p.discount_rate)
    return {
        "by_segment": i18n.t(f"Lifetime and value by {segment} (months; money per customer)",
                             f"按{column_zh(segment)}的生命周期与价值（单位：月；金额为每位客户）"),
        "sbg": i18n.t(f"sBG estimates per cohort (DEL/DERL in {period}s, discounted at {rate} per {period} = "
                      f"{annual} a year)",
                      f"各客户群的 sBG 估计（DEL/DERL 以{pz}为单位，每{pz}折现率 {rate}，相当于年折现率 {annual}）"),
    }
