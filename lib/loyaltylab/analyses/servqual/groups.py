"""Gaps by segment (each group against the rest, Holm-adjusted) and by period (each against the one before), from
per-group and per-(group, customer) sums (:mod:`loyaltylab.stats.clustered`). Groups with fewer than ``min_cell``
people — distinct customers when ``clusters`` says who answered — are hidden through :func:`privacy.suppress`,
counts included, with the complementary groups that would let them be recovered by subtraction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import privacy
from loyaltylab.analyses.nps.tables import period_index
from loyaltylab.stats import clustered
from loyaltylab.stats.multiplicity import adjust_pvalues

MISSING_LABEL = "(missing)"
LONG_COLUMNS = ["column", "value", "measure", "n", "estimate", "ci_low", "ci_high", "deff", "diff_vs_rest",
                "p_value", "p_adjusted", "significant", "suppressed"]


def group_keys(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Group code per row and the labels; a blank value is its own group, '(missing)'."""
    try:
        keys, uniques = pd.factorize(values, sort=True)
    except TypeError:  # values of mixed types that cannot be ordered: first appearance
        keys, uniques = pd.factorize(values, sort=False)
    labels = [str(u) for u in uniques]
    if (keys < 0).any():
        keys = np.where(keys < 0, len(labels), keys)
        labels.append(MISSING_LABEL)
    return keys, labels


def cluster_sums(x: np.ndarray, keys: np.ndarray, k: int, clusters: np.ndarray | None) -> list[dict]:
    """For each column of ``x`` (rows × measures, NaN left out), the per-group sums of
    :data:`loyaltylab.stats.clustered.SUM_KEYS` that :func:`~loyaltylab.stats.clustered.deff_from_sums` takes —
    as :func:`~loyaltylab.stats.clustered.value_cluster_sums` computes them, with the (group, customer) cells found
    once for all measures instead of once per measure."""
    x = np.atleast_2d(np.asarray(x, dtype="float64").T).T
    keys = np.asarray(keys, dtype="int64")
    if clusters is not None:
        c = np.asarray(clusters, dtype="int64")
        width = int(c.max()) + 1 if len(c) else 1
        cells, inverse = np.unique(keys * width + c, return_inverse=True)
        cell_group = cells // width
    out = []
    for j in range(x.shape[1]):
        ok = np.isfinite(x[:, j])
        v, g = x[ok, j], keys[ok]
        t = {"n": np.bincount(g, minlength=k)[:k].astype("float64"), "S": np.bincount(g, v, minlength=k)[:k],
             "Q": np.bincount(g, v * v, minlength=k)[:k]}
        if clusters is not None:
            cell = inverse[ok]
            sc = np.bincount(cell, v, minlength=len(cells))
            mc = np.bincount(cell, minlength=len(cells)).astype("float64")
            t.update(A=np.bincount(cell_group, sc * sc, minlength=k)[:k], B=np.bincount(cell_group, sc * mc,
                                                                                         minlength=k)[:k],
                     C=np.bincount(cell_group, mc * mc, minlength=k)[:k],
                     G=np.bincount(cell_group, (mc > 0).astype("float64"), minlength=k)[:k])
        out.append(t)
    return out


def _means(t: dict, clustered_sums: bool, confidence: float) -> dict[str, np.ndarray]:
    n = t["n"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = t["S"] / n
        var = (t["Q"] - t["S"] ** 2 / n) / (n - 1)
        deff = clustered.deff_from_sums(t) if clustered_sums else np.ones_like(n)
        se = np.sqrt(np.maximum(var, 0) / n * deff)
        df = (t["G"] - 1) if clustered_sums else n - 1
        q = stats.t.ppf(0.5 + confidence / 2, np.maximum(df, 1))
    return {"n": n, "mean": mean, "se": se, "deff": deff, "df": df, "ci_low": mean - q * se, "ci_high": mean + q * se}


def group_means(x: np.ndarray, keys: np.ndarray, k: int, clusters: np.ndarray | None, confidence: float,
                rest: bool = False) -> list[dict]:
    """For each column of ``x``, per group (and with ``rest`` per everyone-but-the-group): n, mean, se
    (cluster-robust with ``clusters``), deff, df and the interval. NaN values are left out."""
    out = []
    for t in cluster_sums(x, keys, k, clusters):
        entry = {"group": _means(t, clusters is not None, confidence)}
        if rest:
            entry["rest"] = _means({key: v.sum() - v for key, v in t.items()}, clusters is not None, confidence)
        out.append(entry)
    return out


def _family_adjust(table: pd.DataFrame, n_groups: int, confidence: float) -> pd.DataFrame:
    """Holm across the table's tests; with exactly two groups "A vs rest" and "B vs rest" are one test per
    measure, counted once."""
    p = table["p_value"].to_numpy(dtype="float64").copy()
    if n_groups == 2:
        first = table["value"] == table["value"].iloc[0]
        p_first, reject_first = adjust_pvalues(np.where(first, p, np.nan), "holm", 1 - confidence)
        by_measure = dict(zip(table.loc[first, "measure"], zip(p_first[first.to_numpy()],
                                                             reject_first[first.to_numpy()])))
        table["p_adjusted"] = [by_measure.get(m, (np.nan, False))[0] if np.isfinite(v) else np.nan
                               for m, v in zip(table["measure"], p)]
        table["significant"] = [bool(by_measure.get(m, (np.nan, False))[1]) and np.isfinite(v)
                                for m, v in zip(table["measure"], p)]
        return table
    table["p_adjusted"], table["significant"] = adjust_pvalues(p, "holm", 1 - confidence)
    return table


def by_segment(values: pd.Series, scores: pd.DataFrame, column: str, *, clusters: np.ndarray | None = None,
               min_cell: int = privacy.DEFAULT_MIN_CELL, confidence: float = 0.95) -> pd.DataFrame:
    """For each value of one segment column and each score (columns of ``scores``: 'overall' and the dimensions,
    gaps or perceptions), the mean with its interval and the difference from everyone else (z test, Holm-adjusted
    across the table). Long format (:data:`LONG_COLUMNS`); hidden groups have every number blank and n = <NA>."""
    keys, labels = group_keys(values)
    k = len(labels)
    wide = pd.DataFrame({"value": labels})
    measures = list(scores.columns)
    computed = group_means(scores.to_numpy(dtype="float64"), keys, k, clusters, confidence, rest=True)
    for m, r in zip(measures, computed):
        g, rest = r["group"], r["rest"]
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = g["mean"] - rest["mean"]
            z = diff / np.sqrt(g["se"] ** 2 + rest["se"] ** 2)
        wide[f"{m}|estimate"], wide[f"{m}|ci_low"], wide[f"{m}|ci_high"] = g["mean"], g["ci_low"], g["ci_high"]
        wide[f"{m}|deff"], wide[f"{m}|diff_vs_rest"] = g["deff"], diff
        wide[f"{m}|p_value"] = np.where(rest["n"] > 1, 2 * stats.norm.sf(np.abs(z)), np.nan)
        wide[f"{m}|n"] = g["n"]
    wide["n"] = np.bincount(keys, minlength=k)
    people = clustered.people_per_group(keys, clusters, k)
    wide = privacy.suppress(wide, n_col="n", min_cell=min_cell, people=people)
    rows = []
    for _, r in wide.iterrows():
        for m in measures:
            rows.append({"column": column, "value": r["value"], "measure": m,
                         "n": pd.NA if r["suppressed"] else int(r[f"{m}|n"]),
                         **{c: r[f"{m}|{c}"] for c in ("estimate", "ci_low", "ci_high", "deff", "diff_vs_rest",
                                                       "p_value")},
                         "suppressed": bool(r["suppressed"])})
    long = pd.DataFrame(rows)
    long["n"] = pd.array(long["n"], dtype="Int64")
    long = _family_adjust(long, k, confidence)
    order = {m: i for i, m in enumerate(measures)}
    sizes = wide.set_index("value")["n"].astype("Float64").fillna(-1.0).to_dict()
    long = long.assign(_size=long["value"].map(sizes), _m=long["measure"].map(order))
    long = long.sort_values(["_m", "_size", "value"], ascending=[True, False, True], kind="stable")
    return long.drop(columns=["_size", "_m"]).reset_index(drop=True)[LONG_COLUMNS]


def visible_groups(table: pd.DataFrame, labels) -> np.ndarray:
    """Per label, whether the segment table shows it (not suppressed)."""
    hidden = set(table.loc[table["suppressed"].astype(bool), "value"])
    return np.array([lab not in hidden for lab in labels])


def by_period(dates: pd.Series, scores: pd.DataFrame, *, period: str = "Q", clusters: np.ndarray | None = None,
              min_cell: int = privacy.DEFAULT_MIN_CELL, confidence: float = 0.95) -> pd.DataFrame:
    """Per month / quarter / year: the overall score (``scores['overall']``) with its interval, the change from the
    previous period (z test, Holm across the table's changes) and each dimension's mean. Periods without
    responses stay (n = 0) so gaps show; hidden periods have every number blank and n = <NA>; no change is
    computed after a hidden or empty period."""
    keys, periods = period_index(dates, period)
    ok = keys >= 0
    k = len(periods)
    table = periods.copy()
    table["n"] = np.bincount(keys[ok], minlength=k)[:k]
    c = np.asarray(clusters)[ok] if clusters is not None else None
    computed = group_means(scores.to_numpy(dtype="float64")[ok], keys[ok], k, c, confidence)
    for m, r in zip(scores.columns, computed):
        r = r["group"]
        if m == "overall":
            table["estimate"], table["ci_low"], table["ci_high"], table["se"] = (r["mean"], r["ci_low"],
                                                                               r["ci_high"], r["se"])
        else:
            table[m] = r["mean"]
    prev_est, prev_se = np.r_[np.nan, table["estimate"].to_numpy()[:-1]], np.r_[np.nan, table["se"].to_numpy()[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["change"] = table["estimate"] - prev_est
        z = table["change"] / np.sqrt(table["se"] ** 2 + prev_se**2)
    table["p_value"] = 2 * stats.norm.sf(np.abs(z))
    people = clustered.people_per_group(keys[ok], c, k) if c is not None else None
    table = privacy.suppress(table, n_col="n", min_cell=min_cell, people=people)
    prev_hidden = np.r_[True, table["suppressed"].to_numpy()[:-1]]
    table.loc[prev_hidden, ["change", "p_value"]] = np.nan
    table["p_adjusted"], table["significant"] = adjust_pvalues(table["p_value"], "holm", 1 - confidence)
    cols = ["period", "start", "n", "estimate", "ci_low", "ci_high", "change", "p_value", "p_adjusted", "significant",
            *[m for m in scores.columns if m != "overall"], "suppressed"]
    return table[cols]
