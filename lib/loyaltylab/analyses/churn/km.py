"""Kaplan–Meier survival curves (overall and per group) and log-rank tests, with small groups suppressed."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import privacy
from loyaltylab.analyses.churn.data import TIME_UNITS, SurvivalData, days_per_unit, group_values, levels_by_frequency
from loyaltylab.stats.multiplicity import adjust_pvalues


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
    """KM with Greenwood (log-log) confidence band at ``confidence``, fitted on counts per (duration, event) — fast
    at 1M rows."""
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
    table: pd.DataFrame            # value, n, events, median, median_lower, median_upper, S(t)…, suppressed
    curves: dict[str, KMResult]    # visible groups only


def shown_groups(groups: pd.Series, min_cell: int) -> tuple[list[str], list[str]]:
    """(all groups by frequency, the groups a suppressed table shows). Complementary suppression decides: a group
    is shown only if ``privacy.suppress(..., complementary=True)`` keeps it, so a hidden group can never be recovered
    from the shown ones — every curve, test and list built per group must use exactly the second list."""
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
        row = {"value": value, "n": int(mask.sum()), "events": int(sub["event"].sum())}
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
        table["events"] = table["events"].round().astype("Int64")     # a count, hidden with its group
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
    groups: tuple[str, ...]        # the groups tested (suppressed ones are left out)
    pairwise: pd.DataFrame         # group_a, group_b, statistic, p_value, p_holm, significant


def logrank(sd: SurvivalData, column: str = "segment", *, min_cell: int = 5,
            confidence: float = 0.95) -> LogrankResult:
    """Log-rank test across the (unsuppressed) groups, and pairwise with Holm's correction; a pair is significant
    when its Holm-adjusted p-value is below 1 − ``confidence``."""
    from lifelines.statistics import logrank_test, multivariate_logrank_test

    groups = group_values(sd, column)
    _, tested = shown_groups(groups, min_cell)
    empty = pd.DataFrame(columns=["group_a", "group_b", "statistic", "p_value", "p_holm", "significant"])
    if len(tested) < 2:
        return LogrankResult(column, None, None, None, tuple(tested), empty)
    mask = groups.isin(tested).to_numpy()
    f = sd.frame.loc[mask]
    g = groups[mask]
    res = multivariate_logrank_test(f["duration"], g, f["event"])
    rows = []
    for i, a in enumerate(tested):
        for b in tested[i + 1:]:
            ma, mb = (g == a).to_numpy(), (g == b).to_numpy()
            r = logrank_test(f["duration"][ma], f["duration"][mb], f["event"][ma], f["event"][mb])
            rows.append({"group_a": a, "group_b": b, "statistic": float(r.test_statistic), "p_value": float(r.p_value)})
    pairwise = pd.DataFrame(rows)
    pairwise["p_holm"] = adjust_pvalues(pairwise["p_value"].to_numpy(), "holm")[0]
    pairwise["significant"] = pairwise["p_holm"] < alpha_of(confidence)
    return LogrankResult(column, float(res.test_statistic), int(res.degrees_of_freedom), float(res.p_value),
                         tuple(tested), pairwise)


def logrank_table(lr: LogrankResult) -> pd.DataFrame:
    """The overall test as a one-row table (empty when fewer than two groups could be tested)."""
    if lr.statistic is None:
        return pd.DataFrame(columns=["groups", "chi_square", "df", "p_value"])
    return pd.DataFrame([{"groups": ", ".join(lr.groups), "chi_square": lr.statistic, "df": lr.df,
                          "p_value": lr.p_value}])
