"""Gaps (差距) between perceived and expected service: per item, per dimension and overall, with paired intervals
and tests — all from column sums and per-customer sums, so a million responses cost a few matrix passes.

- Paired t: the mean gap over its standard error. When customers answer repeatedly (``clusters``) the standard
  error is cluster-robust: the design effect of :func:`loyaltylab.stats.clustered.deff_from_sums` (sandwich variance
  over the iid variance, never below 1) widens it, and the t distribution has G − 1 degrees of freedom (G customers)
  instead of n − 1. Without clusters it is exactly ``scipy.stats.ttest_rel``.
- Wilcoxon signed-rank: **zeros dropped** (Wilcoxon's rule, scipy's ``zero_method='wilcox'``), ties get average ranks
  with the tie-corrected variance. Above 50 gaps the normal approximation (scipy's 'asymptotic' method, no continuity
  correction), computed from the counts of each distinct |gap|; up to 50 scipy itself (exact / permutation). It
  treats responses as independent — a check on the t-test, not cluster-robust.
- Cohen's dz: mean gap / SD of the gaps (the paired standardised effect).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse, stats

from loyaltylab.stats import clustered
from loyaltylab.stats.multiplicity import adjust_pvalues

WILCOXON_EXACT_MAX = 50
"""Up to this many gaps (zeros included) scipy decides the method (exact or permutation), as ``method='auto'``."""
STAT_COLUMNS = ["n", "mean", "sd", "se", "deff", "df", "ci_low", "ci_high", "t", "p_value"]


def membership(clusters, n: int):
    """The (clusters × rows) indicator matrix of integer cluster codes 0..G−1 (None: every row its own cluster)."""
    if clusters is None:
        return None
    codes = np.asarray(clusters, dtype="int64")
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(int(codes.max()) + 1 if n else 0, n))


def column_stats(x: np.ndarray, members=None, confidence: float = 0.95) -> pd.DataFrame:
    """Per column of ``x`` (rows × columns, NaN = missing): n, mean, sd, se, deff, df, ci_low, ci_high, t and the
    two-sided p_value of mean = 0. ``members`` (:func:`membership`) makes se cluster-robust (see the module)."""
    x = np.atleast_2d(np.asarray(x, dtype="float64").T).T
    obs = np.isfinite(x)
    complete = bool(obs.all())
    n = obs.sum(axis=0).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (x if complete else np.where(obs, x, 0.0)).sum(axis=0) / n
        centred = x - mean if complete else np.where(obs, x - mean, 0.0)
        ss = np.einsum("ij,ij->j", centred, centred)
        sd = np.sqrt(ss / (n - 1))
    deff, df = np.ones_like(n), n - 1
    if members is not None:
        s = np.asarray(members @ centred)  # per-cluster sums of deviations: the sandwich needs only these
        if complete:  # every column answered by every row: the cluster sizes are the same for all
            sizes = np.asarray(members.sum(axis=1), dtype="float64").ravel()
            c_sum, g_count = np.full_like(n, sizes @ sizes), np.full_like(n, float((sizes > 0).sum()))
        else:
            m = np.asarray(members @ obs.astype("float64"))
            c_sum, g_count = np.einsum("ij,ij->j", m, m), (m > 0).sum(axis=0).astype("float64")
        sums = {"n": n, "S": np.zeros_like(n), "Q": ss, "A": np.einsum("ij,ij->j", s, s),
                "B": np.zeros_like(n), "C": c_sum, "G": g_count}
        deff = clustered.deff_from_sums(sums)
        df = sums["G"] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        se = sd / np.sqrt(n) * np.sqrt(deff)
        t = mean / se
        q = stats.t.ppf(0.5 + confidence / 2, np.maximum(df, 1))
        p = np.where(df >= 1, 2 * stats.t.sf(np.abs(t), np.maximum(df, 1)), np.nan)
    p = np.where(np.isfinite(t), p, np.where(mean == 0, 1.0, np.nan))
    out = pd.DataFrame({"n": n.astype("int64"), "mean": mean, "sd": sd, "se": se, "deff": deff, "df": df,
                        "ci_low": mean - q * se, "ci_high": mean + q * se, "t": t, "p_value": p})
    return out


def signed_rank(d) -> tuple[float, float]:
    """Wilcoxon signed-rank test of ``d`` (NaN ignored): (statistic = min(W+, W−), two-sided p). Zeros dropped
    (Wilcoxon's rule). Equal to ``scipy.stats.wilcoxon(d)`` (see the module)."""
    d = np.asarray(d, dtype="float64")
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.nan, math.nan
    if d.size <= WILCOXON_EXACT_MAX:
        if not np.any(d != 0):
            return 0.0, math.nan
        res = stats.wilcoxon(d, zero_method="wilcox")
        return float(res.statistic), float(res.pvalue)
    nz = d[d != 0]
    count = nz.size
    if count == 0:
        return 0.0, math.nan
    ties, positive = _tie_counts(nz)
    ranks = np.cumsum(ties) - (ties - 1) / 2.0  # average rank of each tied group
    r_plus = float((positive * ranks).sum())
    r_minus = count * (count + 1) / 2.0 - r_plus
    mean = count * (count + 1) / 4.0
    var = (count * (count + 1) * (2 * count + 1) - ((ties**3 - ties).sum()) / 2) / 24.0
    if var <= 0:
        return min(r_plus, r_minus), math.nan
    z = (r_plus - mean) / math.sqrt(var)
    return min(r_plus, r_minus), float(2 * stats.norm.sf(abs(z)))


GRID = 2520
"""lcm(1, …, 10): means of up to 10 whole-number answers lie on this grid, so their |gap| values are counted with
``np.bincount`` (linear) instead of sorted."""


def _tie_counts(nz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the distinct |values| in increasing order: how many there are (ties) and how many of them are positive."""
    scaled = np.abs(nz) * GRID
    grid = np.rint(scaled)
    if grid.max() < 2**22 and np.all(np.abs(scaled - grid) < 1e-6):
        idx = grid.astype("int64")
        ties = np.bincount(idx)
        positive = np.bincount(idx, weights=(nz > 0).astype("float64"), minlength=len(ties))
        keep = ties > 0
        return ties[keep].astype("float64"), positive[keep]
    _, inverse, ties = np.unique(np.abs(nz), return_inverse=True, return_counts=True)
    positive = np.bincount(inverse, weights=(nz > 0).astype("float64"), minlength=len(ties))
    return ties.astype("float64"), positive


def paired(perception: np.ndarray, expectation: np.ndarray, members=None, confidence: float = 0.95,
           labels=None) -> pd.DataFrame:
    """Per column pair, over the rows that answered both: mean expectation, perception and gap P − E with the
    paired t interval and test, Cohen's dz and the Wilcoxon signed-rank p (see the module).

    Columns: label, n, expectation, perception, gap, sd, se, deff, df, ci_low, ci_high, t, p_value, cohens_dz,
    wilcoxon_stat, wilcoxon_p."""
    p = np.atleast_2d(np.asarray(perception, dtype="float64").T).T
    e = np.atleast_2d(np.asarray(expectation, dtype="float64").T).T
    both = np.isfinite(p) & np.isfinite(e)
    d = np.where(both, p - e, np.nan)
    s = column_stats(d, members, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        count = both.sum(axis=0)
        mean_e = np.where(both, e, 0).sum(axis=0) / count
        mean_p = np.where(both, p, 0).sum(axis=0) / count
        dz = s["mean"].to_numpy() / s["sd"].to_numpy()
    wil = [signed_rank(d[:, j]) for j in range(d.shape[1])]
    out = pd.DataFrame({"label": list(labels) if labels is not None else list(range(d.shape[1])),
                        "n": s["n"], "expectation": mean_e, "perception": mean_p, "gap": s["mean"],
                        **{c: s[c] for c in ("sd", "se", "deff", "df", "ci_low", "ci_high", "t", "p_value")},
                        "cohens_dz": dz, "wilcoxon_stat": [w[0] for w in wil], "wilcoxon_p": [w[1] for w in wil]})
    return out


def single(scores: np.ndarray, members=None, confidence: float = 0.95, labels=None) -> pd.DataFrame:
    """Like :func:`paired` for scores that are already gaps (or perceptions alone): gap = the mean score, with its
    interval, t test of 0, Cohen's d (mean / SD) and the signed-rank p. Expectation and perception are NaN."""
    x = np.atleast_2d(np.asarray(scores, dtype="float64").T).T
    s = column_stats(x, members, confidence)
    wil = [signed_rank(x[:, j]) for j in range(x.shape[1])]
    with np.errstate(invalid="ignore", divide="ignore"):
        dz = s["mean"].to_numpy() / s["sd"].to_numpy()
    return pd.DataFrame({"label": list(labels) if labels is not None else list(range(x.shape[1])),
                         "n": s["n"], "expectation": np.nan, "perception": np.nan, "gap": s["mean"],
                         **{c: s[c] for c in ("sd", "se", "deff", "df", "ci_low", "ci_high", "t", "p_value")},
                         "cohens_dz": dz, "wilcoxon_stat": [w[0] for w in wil], "wilcoxon_p": [w[1] for w in wil]})


def holm(table: pd.DataFrame, confidence: float, column: str = "p_value") -> pd.DataFrame:
    """``table`` with p_adjusted (Holm across its rows) and significant (p_adjusted < 1 − confidence)."""
    out = table.copy()
    out["p_adjusted"], out["significant"] = adjust_pvalues(out[column].to_numpy(dtype="float64"), "holm",
                                                           1 - confidence)
    return out


def row_mean(x: np.ndarray) -> np.ndarray:
    """Each row's mean over its finite entries (NaN when it has none), without a warning."""
    obs = np.isfinite(x)
    count = obs.sum(axis=1)
    total = np.where(obs, x, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(len(x), np.nan), where=count > 0)


def weighted_score(scores: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
    """Σ_d w_d · score_d per respondent with every dimension scored and weights given (else NaN); None without
    weights. Weights are each respondent's stated points normalised to sum 1 (:func:`instrument.stated_weights`)."""
    if weights is None:
        return None
    ok = np.isfinite(scores).all(axis=1) & np.isfinite(weights).all(axis=1)
    out = np.full(len(scores), np.nan)
    out[ok] = (scores[ok] * weights[ok]).sum(axis=1)
    return out
