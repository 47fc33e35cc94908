"""The CLV and sBG sentences, computed from the result; segment values, cohort names and model labels go through
:func:`narrative.esc`."""
from __future__ import annotations

import numpy as np

from loyaltylab.analyses.churn.describe import level
from loyaltylab.analyses.clv.sbg import MIN_PERIODS
from loyaltylab.analyses.clv.value import LTV_CAC_TARGET
from loyaltylab.narrative import esc, number


def _value(result) -> str:
    val = result.value
    if val is None:
        return "No revenue column: customer lifetime value is not computed."
    text = (f"Active customers' expected remaining lifetime averages {val.mean_remaining_lifetime:.0f} months and "
            f"their mean CLV is {val.mean_clv:,.0f} (margin {level(val.margin)}, discount {level(val.discount_rate)} "
            f"a year, {esc(val.model)} model, capped at {val.max_months // 12} years"
            + ("; the stratified Cox model uses each stratum's baseline where at least 50 of its customers are at "
               "risk and extends it at its recent rate beyond that" if result.churn.remedy is not None else "")
            + ").")
    ok = val.by_segment.dropna(subset=["ltv_cac"])
    if len(ok):
        passing = list(ok.loc[ok["ltv_cac"] > LTV_CAC_TARGET, "value"])
        text += (f" LTV/CAC is above {LTV_CAC_TARGET:g} in {len(passing)} of {len(ok)} segments"
                 + (f" ({', '.join(esc(p) for p in passing)})." if passing else "."))
    return text


def key_findings(result) -> list[str]:
    """The CLV line of the churn report's key findings."""
    return [_value(result)]


def describe_value(result) -> list[str]:
    return [_value(result)]


def describe_sbg(result) -> list[str]:
    """Per fitted cohort its mean churn probability and DERL; the cohorts too young to fit; or why there is none."""
    if not result.sbg_fits and not result.sbg_skipped:
        return ["No cohort table given (`cohort_retention_path = None`): the sBG projection is skipped."]
    period = result.params.cohort_period
    lines = []
    for row in _summary(result):
        derl = (f"{number(row['derl_after_last_period'], 2)} {period}s" if np.isfinite(row["derl_after_last_period"])
                else "unbounded (α ≤ 1 and no discounting)")
        lines.append(f"Cohort {esc(row['cohort'])}: on average {level(round(row['mean_churn_probability'], 3))} "
                     f"of customers leave per {period} (α = {row['alpha']:.3f}, β = {row['beta']:.3f}); a customer "
                     f"who has just renewed has a discounted expected residual lifetime of {derl}.")
    if result.sbg_skipped:
        lines.append(f"Too young to fit (fewer than {MIN_PERIODS} observed periods): "
                     f"{', '.join(esc(c) for c in result.sbg_skipped)}.")
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


def captions(result) -> dict[str, str]:
    """Table captions (plain text; the table display escapes them)."""
    p = result.params
    segment = result.churn.km_groups.column if result.churn.km_groups is not None else "segment"
    return {
        "by_segment": f"Lifetime and value by {segment} (months; money per customer)",
        "sbg": (f"sBG estimates per cohort (DEL/DERL in {p.cohort_period}s, discounted at {result.cohort_rate:.2%} "
                f"per {p.cohort_period} = {level(p.discount_rate)} a year)"),
    }
