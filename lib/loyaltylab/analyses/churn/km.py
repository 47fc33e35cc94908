"""Kaplan–Meier survival curves (overall and per group), restricted mean survival time, and log-rank tests.

Curves and their table hide small groups (complementary suppression: a hidden group's count must not be recoverable
from the shown ones). Tests are not tables: the log-rank test runs over every group with at least ``min_cell``
customers — a group hidden only to protect another one's count is still tested (the first version dropped it: on
lung by ECOG a 1-patient level hid a 45-patient group too, and the test said p 0.079 where R says 0.0003).

Confidence intervals of the curves and of the median are lifelines' ``log-log`` ones (R:
``survfit(..., conf.type = "log-log")``; R's default ``log`` gives somewhat different limits) — :data:`CI_TYPE`,
stated in the report. The log-rank test is R's ``survdiff`` (``loyaltylab.stats.survival.logrank_test``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import privacy
from loyaltylab.analyses.churn.data import TIME_UNITS, SurvivalData, days_per_unit, group_values, levels_by_frequency
from loyaltylab.stats import survival as rsurv
from loyaltylab.stats.multiplicity import adjust_pvalues

CI_TYPE = "log-log"
CI_TYPE_TEXT = ("log-log (R: survfit(..., conf.type = \"log-log\"); R's default conf.type \"log\" gives somewhat "
                "different limits)")
CI_TYPE_TEXT_ZH = ("log-log（R：survfit(..., conf.type = \"log-log\")；R 默认的 conf.type \"log\" 给出的区间略有"
                   "不同）")


def alpha_of(confidence: float) -> float:
    """1 − confidence, rounded so that 0.95 gives exactly 0.05 (the same intervals as lifelines' default)."""
    return round(1.0 - float(confidence), 12)


@dataclass(frozen=True)
class KMResult:
    fitter: object               # lifelines KaplanMeierFitter (fitted on counts per duration)
    label: str
    n: int
    events: int
    median: float                # inf when not reached
    median_lower: float
    median_upper: float
    survival_at: pd.DataFrame    # time, survival, lower, upper, at_risk
    confidence: float = 0.95


def default_times(time_unit: str, horizon: float, max_duration: float) -> list[float]:
    """The horizon and whole years (1, 2, 3) within the follow-up."""
    year = TIME_UNITS["years"] / days_per_unit(time_unit)
    times = [float(horizon)] + [round(k * year, 6) for k in (1, 2, 3)]
    return sorted({t for t in times if 0 < t <= max_duration})


def step_at(index: np.ndarray, values: np.ndarray, t, before: float = 1.0) -> np.ndarray:
    """Right-continuous step function value at t (``before`` before the first index)."""
    pos = np.searchsorted(index, np.asarray(t, dtype=float), side="right") - 1
    vals = np.asarray(values, dtype=float)
    return np.where(pos >= 0, vals[np.clip(pos, 0, len(vals) - 1)], before)


def kaplan_meier(
    durations, events, *, times: Sequence[float] = (), confidence: float = 0.95, label: str = "All customers"
) -> KMResult:
    """KM with Greenwood (log-log) confidence band at ``confidence`` (R: ``conf.type = "log-log"``), fitted on counts
    per (duration, event) — fast at 1M rows."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    d = pd.Series(np.asarray(durations, dtype=float))
    e = pd.Series(np.asarray(events, dtype=int))
    counts = pd.DataFrame({"d": d, "e": e}).groupby(["d", "e"], sort=True).size().reset_index(name="w")
    kmf = KaplanMeierFitter(alpha=alpha_of(confidence), label=label)
    kmf.fit(counts["d"], counts["e"], weights=counts["w"], label=label)
    ci = median_survival_times(kmf.confidence_interval_)
    med_lo, med_hi = (float(ci.iloc[0, 0]), float(ci.iloc[0, 1])) if ci.shape[1] == 2 else (np.nan, np.nan)
    sf = kmf.survival_function_
    idx = sf.index.to_numpy(dtype=float)
    band = kmf.confidence_interval_survival_function_
    times = list(times)
    table = pd.DataFrame({
        "time": np.asarray(times, dtype=float),
        "survival": step_at(idx, sf.iloc[:, 0].to_numpy(), times),
        "lower": step_at(idx, band.iloc[:, 0].to_numpy(), times),
        "upper": step_at(idx, band.iloc[:, 1].to_numpy(), times),
        "at_risk": [int((d >= t).sum()) for t in times] if len(d) < 2_000_000 else np.nan,
    })
    return KMResult(fitter=kmf, label=label, n=int(len(d)), events=int(e.sum()),
                    median=float(kmf.median_survival_time_), median_lower=med_lo, median_upper=med_hi,
                    survival_at=table, confidence=float(confidence))


@dataclass(frozen=True)
class KMGroups:
    column: str
    table: pd.DataFrame            # value, n, events, censored, median, median_lower, median_upper, S(t)…, suppressed
    curves: dict[str, KMResult]    # visible groups only


def shown_groups(groups: pd.Series, min_cell: int) -> tuple[list[str], list[str]]:
    """(all groups by frequency, the groups a suppressed table shows). Complementary suppression decides: a group
    is shown only if ``privacy.suppress(..., complementary=True)`` keeps it, so a hidden group can never be recovered
    from the shown ones — every curve, table and list built per group must use exactly the second list (a test uses
    :func:`tested_groups`: hiding protects published counts, it must not remove a group from a test)."""
    order = levels_by_frequency(groups)
    if not order:
        return [], []
    counts = groups.value_counts()
    table = privacy.suppress(pd.DataFrame({"value": order, "n": [int(counts[g]) for g in order]}),
                             min_cell=min_cell, value_cols=[])
    return order, list(privacy.visible(table)["value"])


def km_by_group(sd: SurvivalData, column: str = "segment", *, min_cell: int = 5, times: Sequence[float] = (),
                confidence: float = 0.95) -> KMGroups:
    """KM per value of a segment column; groups the (complementary) suppression hides get no curve, no numbers —
    not even their counts of customers and churners."""
    groups = group_values(sd, column)
    order, shown = shown_groups(groups, min_cell)
    rows, curves = [], {}
    for value in order:
        mask = (groups == value).to_numpy()
        sub = sd.frame.loc[mask]
        row = {"value": value, "n": int(mask.sum()), "events": int(sub["event"].sum()),
               "censored": int(mask.sum() - sub["event"].sum())}
        if value in shown:
            km = kaplan_meier(sub["duration"], sub["event"], times=times, confidence=confidence, label=str(value))
            curves[value] = km
            row.update(median=km.median, median_lower=km.median_lower, median_upper=km.median_upper)
            for t, s in zip(km.survival_at["time"], km.survival_at["survival"]):
                row[f"S({t:g})"] = s
        else:
            row.update(median=np.nan, median_lower=np.nan, median_upper=np.nan)
            for t in times:
                row[f"S({t:g})"] = np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        table = privacy.suppress(table, min_cell=min_cell, hide_counts=True)
        for col in ("events", "censored"):
            table[col] = table[col].round().astype("Int64")             # counts, hidden with their group
    else:
        table = table.assign(suppressed=[])
    assert set(curves) == set(privacy.visible(table)["value"])
    return KMGroups(column=column, table=table, curves=curves)


@dataclass(frozen=True)
class LogrankResult:
    column: str
    statistic: float | None
    df: int | None
    p_value: float | None
    groups: tuple[str, ...]        # the groups tested: every group with at least min_cell customers
    pairwise: pd.DataFrame         # group_a, group_b, statistic, p_value, p_holm, significant
    left_out: int = 0              # groups with fewer than min_cell customers (not tested, not named)


def tested_groups(groups: pd.Series, min_cell: int) -> list[str]:
    """Every group with at least ``min_cell`` customers, most frequent first (what a test may use)."""
    counts = groups.value_counts()
    return [g for g in levels_by_frequency(groups) if int(counts[g]) >= min_cell]


def logrank(sd: SurvivalData, column: str = "segment", *, min_cell: int = 5,
            confidence: float = 0.95) -> LogrankResult:
    """R's ``survdiff`` across every group with at least ``min_cell`` customers, and pairwise with Holm's
    correction; a pair is significant when its Holm-adjusted p-value is below 1 − ``confidence``."""
    groups = group_values(sd, column)
    tested = tested_groups(groups, min_cell)
    left_out = int(groups.nunique()) - len(tested)
    empty = pd.DataFrame(columns=["group_a", "group_b", "statistic", "p_value", "p_holm", "significant"])
    if len(tested) < 2:
        return LogrankResult(column, None, None, None, tuple(tested), empty, left_out)
    mask = groups.isin(tested).to_numpy()
    f = sd.frame.loc[mask]
    g = groups[mask].astype(str).to_numpy()
    T, E = f["duration"].to_numpy(dtype=float), f["event"].to_numpy(dtype=int)
    res = rsurv.logrank_test(T, E, g)
    rows = []
    for i, a in enumerate(tested):
        for b in tested[i + 1:]:
            m = (g == a) | (g == b)
            r = rsurv.logrank_test(T[m], E[m], g[m])
            rows.append({"group_a": a, "group_b": b, "statistic": float(r.statistic), "p_value": float(r.p_value)})
    pairwise = pd.DataFrame(rows)
    pairwise["p_holm"] = adjust_pvalues(pairwise["p_value"].to_numpy(), "holm")[0]
    pairwise["significant"] = pairwise["p_holm"] < alpha_of(confidence)
    return LogrankResult(column, float(res.statistic), int(res.df), float(res.p_value), tuple(tested), pairwise,
                         left_out)


def rmst_table(sd: SurvivalData, km_groups: KMGroups | None, *, confidence: float = 0.95,
               tau: float | None = None) -> pd.DataFrame:
    """Restricted mean survival time (R's ``print(survfit(...), rmean = tau)``: the area under the KM curve up to
    τ, with its SE and interval) for all customers and every group the KM table shows. τ: the shortest follow-up
    of those curves (each curve is then estimated up to τ), unless given."""
    T, E = sd.frame["duration"].to_numpy(dtype=float), sd.frame["event"].to_numpy(dtype=int)
    shown = [] if km_groups is None else list(km_groups.curves)
    groups = group_values(sd, km_groups.column).astype(str).to_numpy() if shown else None
    if tau is None:
        ends = [float(T.max())] + [float(T[groups == g].max()) for g in shown]
        tau = min(ends)
    rows = [rsurv.rmst(T, E, tau=tau, confidence=confidence).assign(group="All customers")]
    for g in shown:
        m = groups == g
        rows.append(rsurv.rmst(T[m], E[m], tau=tau, confidence=confidence).assign(group=g))
    out = pd.concat(rows, ignore_index=True)
    return out[["group", "estimate", "se", "ci_low", "ci_high", "tau"]]


def logrank_table(lr: LogrankResult) -> pd.DataFrame:
    """The overall test as a one-row table (empty when fewer than two groups could be tested)."""
    if lr.statistic is None:
        return pd.DataFrame(columns=["groups", "chi_square", "df", "p_value"])
    return pd.DataFrame([{"groups": ", ".join(lr.groups), "chi_square": lr.statistic, "df": lr.df,
                          "p_value": lr.p_value}])
