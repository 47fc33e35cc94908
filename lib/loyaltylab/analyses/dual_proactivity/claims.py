"""The course slides' four numbers for firms using the dual model — "92% customer satisfaction", "3.5× stickiness
(retention)", "25% lower cost", "40% faster innovation" — and what this data can say about each: the dual-proactive
customers (both above their cut) against the rest, with intervals, where the data has the measure."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab.stats.equivalence import compare_groups

from .data import CLUSTER, CUSTOMER
from .recovery import mean_ci
from .retention import Retention, km_group

CLAIMS = (
    ("satisfaction", "92% customer satisfaction", 0.92),
    ("retention", "3.5× stickiness (retention)", 3.5),
    ("cost", "25% lower cost", 0.25),
    ("innovation", "40% faster innovation", 0.40),
)


def _row(claim, text, claimed, testable, why, **values) -> dict:
    return {"claim": claim, "slide": text, "claimed": claimed, "testable": testable, "why": why,
            **{k: values.get(k, math.nan) for k in ("dual", "dual_ci_low", "dual_ci_high", "rest", "rest_ci_low",
                                                    "rest_ci_high", "estimate", "ci_low", "ci_high", "p_value")},
            "churn_ratio": values.get("churn_ratio", math.nan),
            "churn_ratio_ci_low": values.get("churn_ratio_ci_low", math.nan),
            "churn_ratio_ci_high": values.get("churn_ratio_ci_high", math.nan),
            "measure": values.get("measure", ""), "n_dual": values.get("n_dual"), "n_rest": values.get("n_rest")}


def satisfaction_claim(responses: pd.DataFrame, x: str, w: str, x_cut: float, w_cut: float, satisfied_min: float,
                       confidence: float, min_cell: int) -> dict:
    """Share satisfied (satisfaction ≥ ``satisfied_min``) among the dual-proactive customers' responses vs the
    rest, cluster-robust by customer."""
    text, claimed = CLAIMS[0][1], CLAIMS[0][2]
    if "satisfaction" not in responses:
        return _row("satisfaction", text, claimed, False, "the survey has no satisfaction column")
    part = responses.loc[responses[["satisfaction", x, w]].notna().all(axis=1)]
    dual = ((part[x] > x_cut) & (part[w] > w_cut)).to_numpy()
    who = part[CLUSTER] if CLUSTER in part else part[CUSTOMER] if CUSTOMER in part else None
    people = [int(pd.Series(who.to_numpy()[m]).nunique()) if who is not None else int(m.sum())
              for m in (dual, ~dual)]
    measure = f"share of responses with satisfaction ≥ {satisfied_min:g} (1–7 scale)"
    if min(people) < min_cell:
        return _row("satisfaction", text, claimed, False, "the dual-proactive group or the rest has fewer than "
                    "min_cell customers", measure=measure)
    satisfied = (part["satisfaction"] >= satisfied_min).astype("float64").to_numpy()
    clusters = who.to_numpy() if who is not None else None
    a = mean_ci(satisfied[dual], clusters[dual] if clusters is not None else None, confidence)
    b = mean_ci(satisfied[~dual], clusters[~dual] if clusters is not None else None, confidence)
    diff = compare_groups(satisfied, dual.astype(int), None, clusters, confidence=confidence).result
    return _row("satisfaction", text, claimed, True, "", measure=measure, dual=a["estimate"],
                dual_ci_low=a["ci_low"], dual_ci_high=a["ci_high"], rest=b["estimate"], rest_ci_low=b["ci_low"],
                rest_ci_high=b["ci_high"], estimate=diff.estimate, ci_low=diff.ci_low, ci_high=diff.ci_high,
                p_value=diff.p_value, n_dual=people[0], n_rest=people[1])


def retention_claim(ret: Retention | None, confidence: float, min_cell: int) -> dict:
    """Retention at the horizon, dual-proactive vs the rest, as a ratio (log-scale delta interval)."""
    text, claimed = CLAIMS[1][1], CLAIMS[1][2]
    if ret is None:
        return _row("retention", text, claimed, False, "no customer lifetimes (customers file with tenure and churn)")
    frame = ret.frame
    dual = (frame["cell"] == "both").to_numpy()
    people = [int(dual.sum()), int((~dual).sum())]
    measure = f"retention at {ret.horizon_months:g} months, dual-proactive ÷ the rest"
    if min(people) < min_cell:
        return _row("retention", text, claimed, False, "the dual-proactive group or the rest has fewer than "
                    "min_cell customers", measure=measure)
    sa, sea = km_group(frame, dual, ret.horizon_days, confidence)
    sb, seb = km_group(frame, ~dual, ret.horizon_days, confidence)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    ci = {}
    for name, (num, se_num, den, se_den) in {"dual": (sa, sea, 1, 0), "rest": (sb, seb, 1, 0),
                                             "ratio": (sa, sea, sb, seb)}.items():
        est = num / den
        se_log = math.sqrt((se_num / num) ** 2 + ((se_den / den) ** 2 if se_den else 0.0)) if num > 0 else math.nan
        ci[name] = (est, est * math.exp(-z * se_log), est * math.exp(z * se_log), se_log)
    ratio, lo, hi, se_log = ci["ratio"]
    p = float(2 * stats.norm.sf(abs(math.log(ratio) / se_log))) if ratio > 0 and se_log > 0 else math.nan
    churn = {}
    if sa < 1 and sb < 1:   # the rest's churn ÷ the dual group's, delta method on the log scale
        cr = (1 - sb) / (1 - sa)
        se_c = math.sqrt((seb / (1 - sb)) ** 2 + (sea / (1 - sa)) ** 2)
        churn = {"churn_ratio": cr, "churn_ratio_ci_low": cr * math.exp(-z * se_c),
                 "churn_ratio_ci_high": cr * math.exp(z * se_c)}
    return _row("retention", text, claimed, True, "", measure=measure, dual=sa, dual_ci_low=ci["dual"][1],
                dual_ci_high=min(ci["dual"][2], 1.0), rest=sb, rest_ci_low=ci["rest"][1],
                rest_ci_high=min(ci["rest"][2], 1.0), estimate=ratio, ci_low=lo, ci_high=hi, p_value=p,
                n_dual=people[0], n_rest=people[1], **churn)


def claims_table(responses, ret, x, w, x_cut, w_cut, satisfied_min, confidence, min_cell) -> pd.DataFrame:
    """One row per slide claim: testable, why not, and for the testable ones the dual-proactive group, the rest
    and their difference (satisfaction share) or ratio (retention), with intervals."""
    rows = [satisfaction_claim(responses, x, w, x_cut, w_cut, satisfied_min, confidence, min_cell),
            retention_claim(ret, confidence, min_cell),
            _row("cost", CLAIMS[2][1], CLAIMS[2][2], False, "the data have no cost-to-serve measure (acquisition "
                 "cost is paid before the relationship starts, not a result of it)"),
            _row("innovation", CLAIMS[3][1], CLAIMS[3][2], False, "the data have no measure of innovation speed")]
    table = pd.DataFrame(rows)
    for col in ("n_dual", "n_rest"):
        table[col] = pd.array([None if v is None or pd.isna(v) else int(v) for v in table[col]], dtype="Int64")
    return table


def max_retention_ratio(rest: float) -> float:
    """The largest retention ratio possible when the rest retain ``rest`` (the dual group can retain at most 100%)."""
    return 1.0 / rest if rest > 0 else np.inf
