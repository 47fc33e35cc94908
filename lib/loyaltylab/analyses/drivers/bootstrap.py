"""Bootstrap pieces the shared :func:`loyaltylab.stats.importance.bootstrap_importance` does not cover: the summary
of replicate importances of driver *groups* and of the logistic decomposition (the same tables it gives), and the
per-segment replicates of the by-segment comparison.

Per-segment replicates come from a *stratified* cluster bootstrap: within each segment value its respondents are
resampled with replacement, independently of the other segments, and each replicate's sufficient statistics
Σ(1, x, x xᵀ) are kept per segment value. A segment's "rest" in a replicate is the sum over the other segments, so
segment and rest are independent resamples — the bootstrap of a difference between two independent groups. A
segment with more than :data:`NORMAL_LIMIT_CLUSTERS` respondents has its replicate sums drawn from their normal
limit (mean G·F̄, covariance G·Cov(F) over its G respondents' feature sums F), which costs one pass instead of
n_boot × G random draws (as SERVQUAL's IPA bootstrap does); smaller ones are resampled exactly
(:func:`loyaltylab.stats.dominance.replicate_counts`). A respondent who answered in several segments (a segment on
the survey row) counts as one cluster in each.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import sparse
from threadpoolctl import threadpool_limits

from loyaltylab.stats import dominance as dom
from loyaltylab.stats import importance as imp
from loyaltylab.stats.multiplicity import adjust_pvalues

ROW_BUDGET = dom.ROW_BUDGET
CONSTANT_TOL = 1e-9
"""A variance below this (in the standardised units of :func:`stratum_sums`) is a constant column within the
stratum — a control that is the segment itself, say — and is set to exactly 0 (then swept out as aliased)."""


def percentile(x: np.ndarray, confidence: float, axis: int = 0, method: str = "linear"):
    """Percentile interval over replicates (NaN replicates left out; an all-NaN column gives NaN)."""
    tail = (1 - confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return (np.nanquantile(x, tail, axis=axis, method=method),
                np.nanquantile(x, 1 - tail, axis=axis, method=method))


def two_sided_p(diff: np.ndarray, plus_one: bool = False) -> np.ndarray:
    """Twice the smaller share of replicate differences beyond 0 (capped at 1), per column; NaN-aware.
    ``plus_one``: (1 + count) / (1 + replicates), never 0 (Davison & Hinkley 1997, eq. 4.11), so that a test on
    few replicates cannot claim p = 0."""
    ok = np.isfinite(diff)
    count = ok.sum(axis=0)
    low = np.where(ok, diff <= 0, False).sum(axis=0)
    high = np.where(ok, diff >= 0, False).sum(axis=0)
    k = int(plus_one)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.minimum(1.0, 2 * (np.minimum(low, high) + k) / (count + k)), np.nan)


def summarise(point, reps: dict, measures, *, n: int, n_clusters: int, confidence: float, seed: int,
              correction: str | None = "holm", values: np.ndarray | None = None) -> imp.BootstrapImportance:
    """A :class:`~loyaltylab.stats.importance.BootstrapImportance` from replicate arrays (n_boot, p) of each of
    ``measures`` (``lmg`` among them): the same intervals, ranks, rank probabilities and pairwise LMG differences
    that ``bootstrap_importance`` gives. ``values`` (n_boot, 2**p), when given, adds the shares of replicates in
    which one unit dominates the other completely, conditionally and generally."""
    names = list(point.table["driver"])
    p = len(names)
    rows = []
    for k in measures:
        low, high = percentile(reps[k], confidence)
        rows.append(pd.DataFrame({"measure": k, "driver": names, "estimate": point.table[k].to_numpy(),
                                  "se": np.nanstd(reps[k], axis=0, ddof=1), "ci_low": low, "ci_high": high, "n": n}))
    intervals = pd.concat(rows, ignore_index=True)
    lmg = np.nan_to_num(reps["lmg"], nan=-np.inf)
    ranks = (-lmg).argsort(axis=1).argsort(axis=1) + 1
    probs = pd.DataFrame(np.stack([(ranks == r).mean(axis=0) for r in range(1, p + 1)], axis=1), index=names,
                         columns=range(1, p + 1))
    probs.index.name, probs.columns.name = "driver", "rank"
    low, high = percentile(ranks, confidence, method="inverted_cdf")
    rank_table = pd.DataFrame({"driver": names, "estimate": point.table["rank"].to_numpy(),
                               "ci_low": low.astype("int64"), "ci_high": high.astype("int64"), "n": n})
    i, j = np.triu_indices(p, k=1)
    diff = reps["lmg"][:, i] - reps["lmg"][:, j]
    low, high = percentile(diff, confidence)
    p_value = two_sided_p(diff)
    p_adj, reject = adjust_pvalues(p_value, correction, 1 - confidence)
    est = point.table["lmg"].to_numpy()
    pairs = pd.DataFrame({"driver": np.array(names)[i], "other": np.array(names)[j], "estimate": est[i] - est[j],
                          "se": np.nanstd(diff, axis=0, ddof=1), "ci_low": low, "ci_high": high,
                          "p_value": p_value, "p_adjusted": p_adj, "significant": reject, "n": n})
    shares = {"complete": None, "conditional": None, "general": dom.general_dominance(reps["lmg"]).mean(axis=0)}
    if values is not None:
        shares["complete"] = dom.complete_dominance(values).mean(axis=0)
        shares["conditional"] = dom.conditional_dominance(dom.conditional_contributions(values)).mean(axis=0)
    for level, share in shares.items():
        pairs[f"{level}_driver"] = share[i, j] if share is not None else np.nan
        pairs[f"{level}_other"] = share[j, i] if share is not None else np.nan
    return imp.BootstrapImportance(point, intervals, rank_table, probs, pairs, len(reps["lmg"]), n_clusters,
                                   confidence, seed, reps)


# --- per-segment replicates -------------------------------------------------------------------------------------


def _features(x: np.ndarray) -> np.ndarray:
    """(1, x, upper triangle of x xᵀ) per row."""
    d = x.shape[1]
    iu, ju = np.triu_indices(d)
    return np.hstack([np.ones((len(x), 1)), x, x[:, iu] * x[:, ju]])


def covariances(sums: np.ndarray, d: int) -> np.ndarray:
    """Covariance arrays (..., d, d) from summed features (..., 1 + d + d(d+1)/2); NaN where fewer than 2 rows;
    a column constant within the stratum (:data:`CONSTANT_TOL`) exactly 0."""
    size, total = sums[..., 0], sums[..., 1:1 + d]
    iu, ju = np.triu_indices(d)
    cross = np.zeros(sums.shape[:-1] + (d, d))
    cross[..., iu, ju] = sums[..., 1 + d:]
    cross[..., ju, iu] = sums[..., 1 + d:]
    with np.errstate(invalid="ignore", divide="ignore"):
        size = np.where(size > 1.5, size, np.nan)
        cov = (cross - total[..., :, None] * total[..., None, :] / size[..., None, None]) / (size - 1)[..., None, None]
    flat = np.diagonal(cov, axis1=-2, axis2=-1) < CONSTANT_TOL  # rounding noise of a constant column: exactly 0
    return np.where(flat[..., :, None] | flat[..., None, :], 0.0, cov)


NORMAL_LIMIT_CLUSTERS = 20_000
"""Above this many respondents in a segment, its replicate sums come from their normal limit (see the module)."""


def _pair_features(x: np.ndarray, key: np.ndarray):
    """Yield (pair keys, summed features) over row chunks of ``x`` sorted by ``key``, each chunk ending at a key
    boundary (so a pair's rows are summed in one chunk)."""
    n = len(key)
    chunk = max(ROW_BUDGET * 4, 1)
    start = 0
    while start < n:
        stop = min(n, start + chunk)
        if stop < n:  # extend to the end of the last pair
            stop = int(np.searchsorted(key, key[stop - 1], side="right"))
        k = key[start:stop]
        first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        member = sparse.csr_matrix((np.ones(len(k)), np.arange(len(k)), np.r_[first, len(k)]),
                                   shape=(len(first), len(k)))
        yield k[first], np.asarray(member @ _features(x[start:stop]))
        start = stop


def _replicates(feats: np.ndarray, n_boot: int, rng: np.random.Generator, seed: int) -> np.ndarray:
    """(n_boot, F) replicate sums of G cluster feature sums ``feats`` (G, F): exact multinomial resampling up to
    :data:`NORMAL_LIMIT_CLUSTERS`, else the normal limit."""
    g = len(feats)
    if g == 0:
        return np.zeros((n_boot, feats.shape[1]))
    if g <= NORMAL_LIMIT_CLUSTERS:
        out = np.zeros((n_boot, feats.shape[1]))
        for start, stop, counts in dom.replicate_counts(g, n_boot, seed):
            out += counts.astype("float64") @ feats[start:stop]
        return out
    mean = feats.mean(axis=0)
    centred = feats - mean
    vals, vecs = np.linalg.eigh(centred.T @ centred / g)
    root = vecs * np.sqrt(np.clip(vals, 0, None))
    return g * mean + np.sqrt(g) * rng.standard_normal((n_boot, len(mean))) @ root.T


def stratum_sums(values: np.ndarray, clusters: np.ndarray | None, strata: list[np.ndarray], n_strata: list[int], *,
                 n_boot: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Point and replicate sufficient statistics per stratum, for several stratifications (segment columns).

    ``values`` (n, d) complete rows; ``strata`` one integer code array per segment column (−1 = no value, left out
    of every stratum); ``clusters`` who answered (None: each row its own cluster). Returns (point sums (S, F) per
    column, replicate sums (n_boot, S, F) per column) of the features (1, x, x xᵀ) of the standardised values
    (centred and scaled overall, for precision; correlations, hence every importance measure, are unchanged).
    ``n_boot`` 0: the point sums only (replicate arrays of length 0). Deterministic given ``seed``.
    """
    x = np.asarray(values, dtype="float64")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    x = (x - mean) / np.where(scale > 0, scale, 1.0)
    n, d = x.shape
    f = 1 + d + d * (d + 1) // 2
    codes = np.arange(n) if clusters is None else np.asarray(clusters, dtype="int64")
    width = int(codes.max()) + 1 if n else 1
    point, reps = [], []
    for j, (s_codes, k) in enumerate(zip(strata, n_strata)):
        s_codes = np.asarray(s_codes, dtype="int64")
        ok = np.flatnonzero(s_codes >= 0)
        key = s_codes[ok] * width + codes[ok]
        order = np.argsort(key, kind="stable")
        feats = [[] for _ in range(k)]
        pt = np.zeros((k, f))
        for pairs, sums in _pair_features(x[ok[order]], key[order]):
            which = pairs // width
            for s in np.unique(which):
                part = sums[which == s]
                pt[s] += part.sum(axis=0)
                feats[s].append(part)
        rp = np.zeros((n_boot, k, f))
        if n_boot:
            with threadpool_limits(1, user_api="blas"):
                for s in range(k):
                    rng = np.random.default_rng([seed, j, s])
                    block = np.concatenate(feats[s]) if feats[s] else np.zeros((0, f))
                    rp[:, s] = _replicates(block, n_boot, rng, int(rng.integers(2 ** 31)))
        point.append(pt)
        reps.append(rp)
    return point, reps
