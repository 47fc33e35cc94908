"""Importances by segment: each driver's LMG share within every segment value, and whether it differs from the
rest of the respondents (a cluster-bootstrap difference, p = 2·(1 + replicates beyond 0) / (1 + replicates),
Holm-adjusted across the segment values × drivers of one segment column). Segments with fewer than ``min_cell`` respondents are suppressed (privacy.suppress: counts hidden,
complementary suppression), and so is every driver row of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import privacy
from loyaltylab.stats import clustered
from loyaltylab.stats.multiplicity import adjust_pvalues

from . import bootstrap, groups

ROWS_PER_PREDICTOR = 10
"""Fewer complete responses than this per predictor in a segment: its importances are flagged as unstable."""
SUBSET_BUDGET = 2 ** 21
GROUP_COLUMNS = ["column", "value", "n", "r2", "few_rows", "suppressed"]
TABLE_COLUMNS = ["column", "value", "driver", "lmg", "estimate", "ci_low", "ci_high", "rest", "diff_vs_rest",
                 "diff_ci_low", "diff_ci_high", "p_value", "p_adjusted", "significant", "n", "suppressed"]


@dataclass(frozen=True)
class SegmentImportance:
    """``groups``: one row per segment value (column, value, n, r2, few_rows, suppressed); ``table``: one row per
    segment value × driver — lmg, estimate (the LMG share within the segment) with its percentile interval, rest
    (the share among all other respondents), diff_vs_rest with its interval, p_value, p_adjusted (``correction``
    across the visible rows of the column), significant. ``n_boot`` 0: no intervals or tests."""

    groups: pd.DataFrame
    table: pd.DataFrame
    n_boot: int
    confidence: float
    correction: str | None


def _codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes (−1 = missing) and the values in sorted (text) order."""
    labels = sorted(pd.unique(values.dropna()), key=str)
    index = {v: i for i, v in enumerate(labels)}
    codes = values.map(index).fillna(-1).to_numpy(dtype="int64")
    return codes, labels


def _shares(sums: np.ndarray, d: int, p: int, index) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lmg, share, r2) from summed features (..., F), in chunks that keep the subset lattice small."""
    cov = bootstrap.covariances(sums, d)
    flat = cov.reshape((-1, d, d))
    units = p if index is None else len(index)
    step = max(1, SUBSET_BUDGET // 2 ** units)
    parts = [groups.lmg_shares(flat[lo:lo + step], p, index) for lo in range(0, len(flat), step)]
    lmg, share, r2 = (np.concatenate([x[k] for x in parts]) for k in range(3))
    lead = cov.shape[:-2]
    return lmg.reshape(lead + (-1,)), share.reshape(lead + (-1,)), r2.reshape(lead)


def by_segment(model: pd.DataFrame, segments: dict[str, pd.Series], clusters: np.ndarray | None, p: int,
               names: list[str], index: list[list[int]] | None, *, n_boot: int, seed: int, confidence: float,
               min_cell: int, correction: str | None = "holm") -> SegmentImportance:
    """Importances within each value of each segment column (``segments``: column → values of the model's rows).

    ``model`` holds the complete rows (outcome, drivers, control columns); ``names`` / ``index`` the reported units
    (drivers, or groups of them: :func:`loyaltylab.analyses.drivers.groups.units`).
    """
    x = model.to_numpy(dtype="float64")
    n_rows, d = x.shape
    cols = list(segments)
    coded = [_codes(segments[c]) for c in cols]
    point, reps = bootstrap.stratum_sums(x, clusters, [c for c, _ in coded], [len(lv) for _, lv in coded],
                                         n_boot=n_boot, seed=seed)
    group_rows, tables = [], []
    predictors = d - 1
    for col, (codes, labels), pt, rp in zip(cols, coded, point, reps):
        k = len(labels)
        counts = np.bincount(codes[codes >= 0], minlength=k)
        people = clustered.people_per_group(codes, clusters, k) if clusters is not None else counts
        rest_pt = pt.sum(axis=0, keepdims=True) - pt
        fit = counts > predictors + 1
        lmg, share, r2 = _shares(pt, d, p, index)
        _, rest_share, _ = _shares(rest_pt, d, p, index)
        lmg[~fit], share[~fit], r2[~fit] = np.nan, np.nan, np.nan
        gtable = pd.DataFrame({"column": col, "value": labels, "n": counts, "r2": r2,
                               "few_rows": counts < ROWS_PER_PREDICTOR * predictors, "people": people})
        gtable = privacy.suppress(gtable, "n", min_cell, value_cols=["r2"], people="people")
        hidden = gtable["suppressed"].to_numpy(bool)
        group_rows.append(gtable)
        long = _long(col, labels, names, counts, lmg, share, rest_share)
        if n_boot:
            _, r_share, _ = _shares(rp, d, p, index)
            _, r_rest, _ = _shares(rp.sum(axis=1, keepdims=True) - rp, d, p, index)
            _intervals(long, r_share, r_rest, fit & ~hidden, confidence, correction)
        tables.append(_suppress(long, names, people, min_cell))
    gcols = pd.concat(group_rows, ignore_index=True) if group_rows else pd.DataFrame(columns=GROUP_COLUMNS)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=TABLE_COLUMNS)
    return SegmentImportance(gcols[GROUP_COLUMNS], table[TABLE_COLUMNS], n_boot, confidence, correction)


def _long(col, labels, names, counts, lmg, share, rest_share) -> pd.DataFrame:
    k, u = len(labels), len(names)
    out = pd.DataFrame({"column": col, "value": np.repeat(np.array(labels, dtype=object), u),
                        "driver": np.tile(np.array(names, dtype=object), k), "lmg": lmg.ravel(),
                        "estimate": share.ravel(), "rest": rest_share.ravel()})
    out["diff_vs_rest"] = out["estimate"] - out["rest"]
    for c in ("ci_low", "ci_high", "diff_ci_low", "diff_ci_high", "p_value", "p_adjusted"):
        out[c] = np.nan
    out["significant"] = False
    out["n"] = np.repeat(counts, u)
    return out


def _intervals(long: pd.DataFrame, r_share: np.ndarray, r_rest: np.ndarray, tested: np.ndarray,
               confidence: float, correction: str | None) -> None:
    """Percentile intervals of the share and of its difference from the rest, p-values and the correction over the
    tested (visible, fitted) segment values × drivers — in place."""
    b, k, u = r_share.shape
    low, high = bootstrap.percentile(r_share.reshape(b, -1), confidence)
    diff = (r_share - r_rest).reshape(b, -1)
    d_low, d_high = bootstrap.percentile(diff, confidence)
    p = bootstrap.two_sided_p(diff, plus_one=True)
    mask = np.repeat(tested, u) & np.isfinite(long["estimate"].to_numpy()) & np.isfinite(
        long["rest"].to_numpy())
    p = np.where(mask, p, np.nan)
    p_adj, reject = adjust_pvalues(p, correction, 1 - confidence)
    long["ci_low"], long["ci_high"] = np.where(mask, low, np.nan), np.where(mask, high, np.nan)
    long["diff_ci_low"], long["diff_ci_high"] = np.where(mask, d_low, np.nan), np.where(mask, d_high, np.nan)
    long["p_value"], long["p_adjusted"], long["significant"] = p, p_adj, reject & mask


def _suppress(long: pd.DataFrame, names, people, min_cell: int) -> pd.DataFrame:
    """Each driver's rows of one column suppressed like the segment table (the same people, hence the same
    complementary choice); the hidden rows' counts and numbers blanked."""
    parts = []
    values = ["lmg", "estimate", "ci_low", "ci_high", "rest", "diff_vs_rest", "diff_ci_low", "diff_ci_high",
              "p_value", "p_adjusted"]
    for name in names:
        part = long[long["driver"] == name]
        out = privacy.suppress(part, "n", min_cell, value_cols=values, people=np.asarray(people))
        out["significant"] = out["significant"].astype(bool) & ~out["suppressed"]
        parts.append(out)
    return pd.concat(parts).sort_index(kind="stable")
