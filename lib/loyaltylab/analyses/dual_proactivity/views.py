"""The result tables as the notebook shows them: readable column names, p-values and flags as text, hidden counts
reading 'suppressed'. (Display only; results.json keeps its own names.) Headers and fixed words are translated by
:func:`loyaltylab.display.for_people` through the glossary (glossary/dual_proactivity.json); cells built from the
data (cell and status names, the slides' claims, the truth table's rows) are put in the notebook's language here."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from loyaltylab import i18n

from .describe import COURSE_CELLS_ZH, STATUS_WORDS_ZH, _label, cell_labels, claim_zh, status_label

VIEWS = {
    "coefficients": {"term": "Term", "estimate": "Estimate", "se": "SE", "ci_low": "CI low", "ci_high": "CI high",
                     "p_value": "p"},
    "slopes": {"probe": "Probe", "label": "At", "w_value": "Moderator value", "estimate": "Slope of x", "se": "SE",
               "ci_low": "CI low", "ci_high": "CI high", "p_value": "p", "significant": "Significant"},
    "cells": {"cell": "Cell", "n": "Responses", "customers": "Customers", "estimate": "Mean", "ci_low": "CI low",
              "ci_high": "CI high", "suppressed": "suppressed"},
    "contrasts": {"contrast": "Contrast", "estimate": "Estimate", "ci_low": "CI low", "ci_high": "CI high",
                  "p_value": "p", "significant": "Significant"},
    "retention": {"cell": "Cell", "n": "Customers", "events": "Churned", "retention": "Retention at horizon",
                  "ci_low": "CI low", "ci_high": "CI high", "rmst": "Mean months (to horizon)",
                  "rmst_ci_low": "CI low ", "rmst_ci_high": "CI high ", "suppressed": "suppressed"},
    "claims": {"slide": "Slide claim", "testable": "Testable", "measure": "Measure", "dual": "Dual-proactive",
               "rest": "Rest", "estimate": "Difference / ratio", "ci_low": "CI low", "ci_high": "CI high",
               "why": "Why not"},
    "status": {"status": "Failure history", "n": "Customers", "share": "Share", "suppressed": "suppressed"},
    "by_type": {"failure_type": "Failure type", "n": "Incidents", "customers": "Customers",
                "recovery_rate": "Recovered", "ci_low": "CI low", "ci_high": "CI high",
                "median_hours": "Median hours", "mean_satisfaction": "Recovery satisfaction",
                "well_share": "Recovered well", "suppressed": "suppressed"},
    "speed": {"band": "Recovery time", "n": "Incidents", "customers": "Customers", "estimate": "Recovery satisfaction",
              "ci_low": "CI low", "ci_high": "CI high", "suppressed": "suppressed"},
    "groups": {"status": "Group", "n": "Responses", "customers": "Customers", "nps": "NPS", "ci_low": "CI low",
               "ci_high": "CI high", "suppressed": "suppressed"},
    "paradox": {"outcome": "Outcome", "comparison": "Comparison", "model": "Model", "estimate": "Difference",
                "ci_low": "CI low", "ci_high": "CI high", "p_greater": "p (one-sided)", "margin": "Margin",
                "p_tost": "p (TOST)", "verdict": "Verdict"},
    "hazard": {"status": "Status", "customers": "Customers", "events": "Churned in status",
               "hazard_ratio": "Hazard ratio", "ci_low": "CI low", "ci_high": "CI high", "p_value": "p",
               "suppressed": "suppressed"},
    "truth": {"quantity": "Quantity", "scale": "Scale", "estimate": "Estimate", "ci_low": "CI low",
              "ci_high": "CI high", "true": "True", "covered": "Interval contains truth", "note": "Note"},
}


# Headers that read the same in Chinese as another column of the table: distinct English keys outside English
HEADERS_NOT_EN = {"retention": {"rmst_ci_low": "Mean months, CI low", "rmst_ci_high": "Mean months, CI high"},
                  "truth": {"true": "True value"}}
VERDICT_CELLS_ZH = {"higher": "更高", "equivalent": "等效", "inconclusive": "无法判断", "lower": "更低"}
OUTCOME_ZH = {"nps": "NPS", "satisfaction": "满意度", "repurchase_intent": "再购意愿", "promoter": "推荐者"}
TRUTH_ZH = (
    (r"interaction \(latent loyalty\)", "交互作用（潜在忠诚度）"),
    (r"interaction", "交互作用"),
    (r"2×2 cell (?P<cell>\w+)", "2×2 组别：{cell}"),
    (r"2×2 synergy", "2×2 协同效应"),
    (r"Cox β(?P<cov>.*)", "Cox 系数 β{cov}"),
    (r"retention at horizon \((?P<cell>\w+)\)", "12 个月留存率（{cell}）"),
    (r"NPS after the first failure, (?P<status>.+)", "首次失误之后的 NPS（{status}）"),
    (r"paradox difference \(unadjusted\)", "悖论差异（未调整）"),
    (r"paradox difference \(adjusted\)", "悖论差异（调整后）"),
    (r"churn hazard ratio, (?P<status>.+)", "流失风险比（{status}）"),
    (r"recovery paradox", "服务补救悖论"),
    (r"latent", "潜在尺度"),
    (r"NPS points", "NPS 分"),
    (r"log hazard", "对数风险"),
    (r"share", "占比"),
    (r"hazard ratio", "风险比"),
    (r"(?P<outcome>\w+) scale", "{outcome} 尺度"),
    (r"(?P<outcome>\w+) mean", "{outcome} 均值"),
    (r"the generator's γ_fc is on the latent loyalty scale: not comparable with an estimate on a survey scale",
     "生成器的 γ_fc 在潜在忠诚度尺度上：不能与问卷尺度上的估计值比较"),
    (r"truth\.json records no (?P<outcome>\w+) scale for this outcome", "truth.json 没有记录这个结果变量的 {outcome} 尺度"),
    (r"the truth is the model without controls \(controls=\[\]\)", "真值对应不含控制变量的模型（controls=[]）"),
    (r"the cuts differ from the recorded truth's", "切分点与真值记录的不同"),
    (r"the Cox model's covariates differ from the course's", "Cox 模型的协变量与课程的不同"),
    (r"the hazard model's covariates differ from the course's", "风险模型的协变量与课程的不同"),
    (r"the recovery definition differs from the course's: no truth to compare", "补救良好的定义与课程的不同：没有可比较的真值"),
    (r"truth\.json does not record (?P<key>[\w.]+)(?P<rest>.*)", "truth.json 未记录 {key}{rest}"),
)
TRUTH_PARTS_ZH = {"cell": COURSE_CELLS_ZH, "status": {v.replace("_", " "): z for v, z in STATUS_WORDS_ZH.items()},
                  "outcome": OUTCOME_ZH,
                  "rest": {" (what a Cox fit on these covariates estimates)": "（即在这些协变量上拟合 Cox 模型所估计的量）"}}


def truth_zh(text: str) -> str:
    """A cell of the estimated-vs-true table (quantity, scale, note) in Chinese; names from the data stay."""
    text = "" if text is None else str(text)
    for pattern, zh in TRUTH_ZH:
        m = re.fullmatch(pattern, text)
        if m:
            return zh.format(**{k: TRUTH_PARTS_ZH.get(k, {}).get(v, v) for k, v in m.groupdict().items()})
    return text


def term_zh(term: str, result=None) -> str:
    """A moderation model's term (``const``, ``x``, ``w``, ``x:w``, a control) in Chinese: x and w by the columns
    they stand for when ``result`` is given (``provider_proactive`` → 企业主动服务), else by their role."""
    column_names = i18n.column_names()
    if result is not None:
        names = {"x": column_names.get(result.params.x, result.params.x),
                 "w": column_names.get(result.params.moderator, result.params.moderator)}
    else:
        names = {"x": "x（自变量）", "w": "w（调节变量）"}
    if term == "const":
        return "截距"
    if term == "x:w":
        return f"{names['x']} × {names['w']}" if result is not None else "x × w（交互项）"
    return names.get(term) or column_names.get(term, term)


def _p_text(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def view(table: pd.DataFrame, kind: str, result=None) -> pd.DataFrame:
    """A result table with readable column names (p-values and flags as text, hidden counts 'suppressed')."""
    columns = VIEWS[kind]
    if i18n.current() != "en":
        columns = {**columns, **HEADERS_NOT_EN.get(kind, {})}
        if kind == "slopes" and result is not None:         # x is a column: name it
            columns.update(estimate=_label(columns["estimate"], f"{term_zh('x', result)}的斜率"))
        if kind == "retention" and result is not None:     # the horizon is a parameter: name it
            months = f"{result.params.horizon_months:g}"
            columns.update(retention=_label(columns["retention"], f"{months} 个月留存率"),
                           rmst=_label(columns["rmst"], f"平均在网月数（{months} 个月内）"))
    out = table[[c for c in columns if c in table]].copy()
    for col in out.columns:
        if col.startswith("p_") or col == "p_value":
            out[col] = out[col].map(_p_text).astype(object)
        elif col in ("significant", "covered", "testable"):
            out[col] = out[col].map(lambda v: "yes" if v is True or v == 1 else ("no" if v is False or v == 0
                                                                               else "")).astype(object)
        elif isinstance(out[col].dtype, pd.Int64Dtype) or (col in ("customers", "n") and "suppressed" in out):
            hidden = out["suppressed"].astype(bool) if "suppressed" in out else pd.Series(False, index=out.index)
            out[col] = [("suppressed" if h or pd.isna(v) else int(v)) for v, h in zip(out[col], hidden)]
    if kind == "coefficients" and "term" in out and i18n.current() != "en":
        out["term"] = [_label(v, term_zh(v, result)) for v in out["term"]]
    if result is not None and "cell" in out:
        out["cell"] = out["cell"].map(cell_labels(result))
    if "status" in out:
        out["status"] = out["status"].map(status_label)
    if "verdict" in out:
        out["verdict"] = [_label(v, VERDICT_CELLS_ZH[v]) if v in VERDICT_CELLS_ZH else v for v in out["verdict"]]
    if i18n.current() != "en":
        words = {"claims": claim_zh, "truth": truth_zh}.get(kind)
        for col in ("slide", "measure", "why", "quantity", "scale", "note") if words else ():
            if col in out:
                out[col] = [v if not isinstance(v, str) or not v else _label(v, words(v)) for v in out[col]]
    return out.rename(columns=columns)
