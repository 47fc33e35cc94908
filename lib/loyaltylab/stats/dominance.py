"""The array engine of relative importance: all-subsets R², Shapley / LMG, dominance, Johnson's relative weights,
VIFs, and bootstrap replicates of a covariance matrix from per-cluster sufficient statistics.

:mod:`loyaltylab.stats.importance` turns data frames into results with these. Conventions: a covariance (or
correlation) array has the outcome in row/column 0 and the p drivers after it; it may carry leading batch axes
(bootstrap replicates). A vector of subset values has length 2**p and is indexed by bit mask: bit j set means driver
j is in the model. Every function here works on such arrays, so one call covers one sample or a thousand replicates.

References: Lindeman, Merenda & Gold (1980) and Grömping (2006, relaimpo ``lmg``) for the average over orderings;
Budescu (1993) and Azen & Budescu (2003) for complete, conditional and general dominance. Tested against literal
averaging over all p! orderings with separate least-squares fits, against relaimpo 2.2-7 and against R's ``lm``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
from scipy import sparse

ALIAS_TOL = 1e-10
"""A driver whose variance left after the others in the model is below this share of its own variance adds
nothing (it is aliased), as ``lm`` drops an aliased column."""

SWEEP_BUDGET = 2 ** 20
"""Floats of sweep state held at once (8 MB): a batch of covariances is swept this many cells at a time."""

TIE_TOL = 1e-12
"""Contributions closer than this (in R² units) count as tied: no dominance either way."""

COUNT_BUDGET = 2 ** 19
"""Cells of the (replicates × clusters) count block drawn at once in the bootstrap (4 MB, cache-sized)."""
ROW_BUDGET = 2 ** 14
"""Rows (on average) whose per-row sufficient statistics are formed at once in the bootstrap."""


def correlation(cov: np.ndarray) -> np.ndarray:
    """Covariance → correlation over the last two axes; a variable without variance is left at 0 (no NaN)."""
    cov = np.asarray(cov, dtype="float64")
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0, None))
    inv = np.divide(1.0, sd, out=np.zeros_like(sd), where=sd > 0)
    return cov * inv[..., :, None] * inv[..., None, :]


def sweep_out(cov: np.ndarray, index) -> np.ndarray:
    """The covariance of the other variables given ``index`` (Schur complement), by sweeping one variable at a time.

    Aliased variables (see ALIAS_TOL) are skipped, so collinear controls need no special care.
    """
    cov = np.asarray(cov, dtype="float64")
    keep = [i for i in range(cov.shape[-1]) if i not in set(index)]
    base = np.diagonal(cov, axis1=-2, axis2=-1)
    for k in index:
        piv = cov[..., k, k]
        ok = piv > ALIAS_TOL * np.maximum(base[..., k], np.finfo(float).tiny)
        col = np.where(ok[..., None], cov[..., :, k], 0.0) / np.where(ok, piv, 1.0)[..., None]
        cov = cov - col[..., :, None] * cov[..., k, None, :]
    return cov[..., keep, :][..., :, keep]


def _last_outcome(cov: np.ndarray) -> np.ndarray:
    """Outcome-first → outcome-last, so each sweep pivots on index 0 and keeps a view of the rest."""
    order = [*range(1, cov.shape[-1]), 0]
    return cov[..., order, :][..., :, order]


def subset_r2(cov: np.ndarray) -> np.ndarray:
    """Explained share of the outcome variance for every subset of the drivers: shape (..., 2**p).

    ``cov`` is (..., 1+p, 1+p), outcome first. One vectorised sweep per driver: after step m the array holds, for
    every subset of drivers 0..m-1, the covariance of (drivers m..p-1, outcome) given that subset, so the whole
    lattice costs about 6·2**p multiply-adds and 2**p·(p-m)² floats of memory at step m (a few MB for p = 20).
    Values are relative to ``cov[..., 0, 0]``.
    """
    cov = np.asarray(cov, dtype="float64")
    batch, p = cov.shape[:-2], cov.shape[-1] - 1
    flat = _last_outcome(cov).reshape((-1, p + 1, p + 1))
    cap = max(2 ** m * (p + 1 - m) ** 2 for m in range(p + 1))
    piece = max(1, SWEEP_BUDGET // cap)
    buffers = np.empty((2, min(piece, len(flat)) * cap))
    explained = np.empty((len(flat), 2 ** p))
    for lo in range(0, len(flat), piece):
        _sweep_lattice(flat[lo:lo + piece], buffers, explained[lo:lo + piece])
    with np.errstate(invalid="ignore", divide="ignore"):
        return (explained / flat[:, -1, -1][:, None]).reshape(batch + (2 ** p,))


def _sweep_lattice(flat: np.ndarray, buffers: np.ndarray, explained: np.ndarray) -> None:
    """Explained sums of squares of every subset for a (b, p+1, p+1) outcome-last batch, into ``explained``."""
    b, p = flat.shape[0], flat.shape[-1] - 1
    base = np.diagonal(flat, axis1=-2, axis2=-1)[:, :p]
    state = flat[:, None, :, :]
    explained[:, 0] = 0.0
    for m in range(p):
        k, r = 2 ** m, p - m
        piv = state[:, :, 0, 0]
        ok = piv > ALIAS_TOL * np.maximum(base[:, m, None], np.finfo(float).tiny)
        inv = np.where(ok, 1.0 / np.where(ok, piv, 1.0), 0.0)
        col = state[:, :, 1:, 0]
        scaled = col * inv[:, :, None]
        np.add(explained[:, :k], col[:, :, -1] * scaled[:, :, -1], out=explained[:, k:2 * k])
        nxt = buffers[m % 2, :b * 2 * k * r * r].reshape(b, 2 * k, r, r)
        nxt[:, :k] = state[:, :, 1:, 1:]
        np.multiply(col[:, :, :, None], scaled[:, :, None, :], out=nxt[:, k:])
        np.subtract(nxt[:, :k], nxt[:, k:], out=nxt[:, k:])
        state = nxt


def _popcount(n_masks: int) -> np.ndarray:
    return np.bitwise_count(np.arange(n_masks, dtype=np.uint32)).astype(np.int64)


def _n_drivers(values: np.ndarray) -> int:
    p = int(round(math.log2(values.shape[-1])))
    if 2 ** p != values.shape[-1]:
        raise ValueError("subset values must have length 2**p")
    return p


@functools.lru_cache(maxsize=4)
def _cached_size_groups(p: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    return _size_groups(p)


def _size_groups(p: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """For each size k: the masks of size k and their (masks × drivers) membership matrix as floats."""
    masks = np.arange(2 ** p)
    size = _popcount(2 ** p)
    groups = []
    for k in range(p + 1):
        idx = masks[size == k]
        groups.append((idx, ((idx[:, None] >> np.arange(p)) & 1).astype("float64")))
    return tuple(groups)


def conditional_contributions(values: np.ndarray) -> np.ndarray:
    """Average gain of each driver over the subsets of the others of each size: shape (..., p, p) = [driver, size].

    Azen & Budescu's (2003) conditional dominance statistics; their mean over sizes is the LMG / Shapley value.
    With M_k[j] = Σ v(T) over subsets T of size k that contain j and t_k = Σ v(T) over all subsets of size k, the
    sum of gains of j over subsets of size k is M_{k+1}[j] − (t_k − M_k[j]): one pass over the values per size.
    """
    values = np.asarray(values, dtype="float64")
    p = _n_drivers(values)
    member_sum = np.zeros(values.shape[:-1] + (p + 1, p))
    total = np.zeros(values.shape[:-1] + (p + 1,))
    for k, (idx, member) in enumerate(_cached_size_groups(p) if p <= 16 else _size_groups(p)):
        chunk = values[..., idx]
        total[..., k] = chunk.sum(axis=-1)
        member_sum[..., k, :] = chunk @ member
    gains = member_sum[..., 1:, :] - total[..., :p, None] + member_sum[..., :p, :]
    comb = np.array([math.comb(p - 1, k) for k in range(p)], dtype="float64")
    return np.swapaxes(gains, -1, -2) / comb


def shapley(values: np.ndarray) -> np.ndarray:
    """LMG / Shapley value of each driver (general dominance): the average gain over all orderings, (..., p)."""
    return conditional_contributions(values).mean(axis=-1)


def complete_dominance(values: np.ndarray, tol: float = TIE_TOL) -> np.ndarray:
    """[i, j] is True when driver i adds more than driver j to every subset of the other drivers (Budescu 1993)."""
    values = np.asarray(values, dtype="float64")
    p = _n_drivers(values)
    batch = values.shape[:-1]
    out = np.zeros(batch + (p, p), dtype=bool)
    for i in range(p):
        for j in range(i + 1, p):
            grid = values.reshape(batch + (2 ** (p - 1 - j), 2, 2 ** (j - i - 1), 2, 2 ** i))
            diff = (grid[..., 0, :, 1, :] - grid[..., 1, :, 0, :]).reshape(batch + (-1,))
            out[..., i, j] = diff.min(axis=-1) > tol
            out[..., j, i] = diff.max(axis=-1) < -tol
    return out


def conditional_dominance(cond: np.ndarray, tol: float = TIE_TOL) -> np.ndarray:
    """[i, j] is True when driver i's average gain beats j's at every model size (from conditional contributions)."""
    diff = cond[..., :, None, :] - cond[..., None, :, :]
    return (diff > tol).all(axis=-1)


def general_dominance(lmg: np.ndarray, tol: float = TIE_TOL) -> np.ndarray:
    """[i, j] is True when driver i's LMG / Shapley value exceeds driver j's."""
    return (lmg[..., :, None] - lmg[..., None, :]) > tol


def dominance_table(values: np.ndarray, names, tol: float = TIE_TOL, conditional: np.ndarray | None = None
                    ) -> pd.DataFrame:
    """One row per pair of drivers: who dominates whom, completely, conditionally and generally.

    Columns: driver, other, complete, conditional, general — each the name of the dominant driver of the pair or
    None when neither dominates at that level. Complete implies conditional implies general (Azen & Budescu 2003).
    ``conditional`` may pass the already computed :func:`conditional_contributions`.
    """
    names = list(names)
    cond = conditional_contributions(values) if conditional is None else conditional
    levels = {"complete": complete_dominance(values, tol), "conditional": conditional_dominance(cond, tol),
              "general": general_dominance(cond.mean(axis=-1), tol)}
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            row = {"driver": names[i], "other": names[j]}
            for level, dom in levels.items():
                row[level] = names[i] if dom[i, j] else names[j] if dom[j, i] else None
            rows.append(row)
    return pd.DataFrame(rows, columns=["driver", "other", "complete", "conditional", "general"])


def sampled_shapley(cov: np.ndarray, n_permutations: int, seed: int, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo LMG / Shapley values from random orderings: (estimate, Monte Carlo standard error), each (p,).

    For many drivers, where 2**p subsets are too many. Orderings are drawn with ``numpy.random.default_rng(seed)``;
    along each ordering the sequential gains come from one sweep per driver. The standard error is the standard
    deviation of a driver's gain over orderings divided by √n_permutations; the estimates sum exactly to the full
    model's explained share in every ordering.
    """
    cov = np.asarray(cov, dtype="float64")
    p = cov.shape[-1] - 1
    var_y = cov[0, 0]
    last = _last_outcome(cov)
    rng = np.random.default_rng(seed)
    total, total_sq, done = np.zeros(p), np.zeros(p), 0
    while done < n_permutations:
        m = min(chunk, n_permutations - done)
        perms = np.argsort(rng.random((m, p)), axis=1)
        order = np.concatenate([perms, np.full((m, 1), p)], axis=1)
        state = last[order[:, :, None], order[:, None, :]]
        base = np.diagonal(state, axis1=-2, axis2=-1)[:, :p].copy()
        gains = np.empty((m, p))
        for k in range(p):
            piv = state[:, 0, 0]
            ok = piv > ALIAS_TOL * np.maximum(base[:, k], np.finfo(float).tiny)
            inv = np.where(ok, 1.0 / np.where(ok, piv, 1.0), 0.0)
            col = state[:, 1:, 0]
            gains[:, k] = col[:, -1] ** 2 * inv
            state = state[:, 1:, 1:] - (col[:, :, None] * col[:, None, :]) * inv[:, None, None]
        by_driver = np.empty_like(gains)
        np.put_along_axis(by_driver, perms, gains, axis=1)
        total += by_driver.sum(axis=0)
        total_sq += (by_driver ** 2).sum(axis=0)
        done += m
    mean = total / done / var_y
    var = np.clip(total_sq / done / var_y ** 2 - mean ** 2, 0, None) * done / max(done - 1, 1)
    return mean, np.sqrt(var / done)


def johnson_weights(cov: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights of the drivers, (..., p), relative to ``cov[..., 0, 0]``; they sum to R².

    ``cov`` is (..., 1+p, 1+p), outcome first. The drivers are replaced by their closest orthonormal counterparts
    Z = X·Rxx^(-1/2) (eigen-decomposition of the driver correlation matrix Rxx); the weight of driver j is
    Σ_k Λ_jk² β_k² with Λ = Rxx^(1/2) and β the regression of the outcome on Z. Tested against a singular value
    decomposition of the standardised rows.
    """
    cov = np.asarray(cov, dtype="float64")
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0, None))
    sdx = sd[..., 1:]
    inv = np.divide(1.0, sdx, out=np.zeros_like(sdx), where=sdx > 0)
    rxx = cov[..., 1:, 1:] * inv[..., :, None] * inv[..., None, :]
    rxy = cov[..., 1:, 0] * inv / sd[..., :1]
    lam, vec = np.linalg.eigh(rxx)
    tol = ALIAS_TOL * np.maximum(lam[..., -1:], np.finfo(float).tiny)
    root = np.sqrt(np.clip(lam, 0, None))
    inv_root = np.where(lam > tol, 1.0 / np.where(lam > tol, root, 1.0), 0.0)
    half = (vec * root[..., None, :]) @ np.swapaxes(vec, -1, -2)
    beta = np.einsum("...ij,...j->...i", (vec * inv_root[..., None, :]) @ np.swapaxes(vec, -1, -2), rxy)
    return np.einsum("...jk,...k->...j", half ** 2, beta ** 2)


def vif(cov: np.ndarray) -> np.ndarray:
    """Variance inflation factor of each variable given all the others (inf when it is an exact combination)."""
    corr = correlation(cov)
    k = corr.shape[-1]
    out = np.empty(k)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        coef = np.linalg.lstsq(corr[np.ix_(others, others)], corr[others, j], rcond=None)[0]
        resid = 1.0 - corr[others, j] @ coef
        out[j] = np.inf if resid <= ALIAS_TOL else 1.0 / resid
    return out


def replicate_counts(n_clusters: int, n_boot: int, seed: int, block: int | None = None):
    """Yield (start, stop, counts) blocks of multinomial resampling counts, counts shaped (n_boot, stop - start).

    Each replicate draws ``n_clusters`` clusters with replacement. To keep memory at ``COUNT_BUDGET`` cells the
    clusters are cut into blocks of ``block``: the number of draws landing in each block is drawn first
    (multinomial over blocks), then the draws within a block (uniform, counted with ``bincount``) — together exactly
    a multinomial over all clusters. Deterministic given (n_clusters, n_boot, seed, block).
    """
    block = block or max(1, min(n_clusters, COUNT_BUDGET // n_boot))
    index = np.uint32 if n_boot * block < 2 ** 32 else np.int64
    starts = np.arange(0, n_clusters, block)
    sizes = np.minimum(block, n_clusters - starts)
    rng = np.random.default_rng(seed)
    per_block = rng.multinomial(n_clusters, sizes / n_clusters, size=n_boot)
    for k, (start, size) in enumerate(zip(starts, sizes)):
        draws = per_block[:, k]
        flat = np.repeat(np.arange(0, n_boot * size, size, dtype=index), draws)
        flat += rng.integers(0, size, size=len(flat), dtype=index)
        yield int(start), int(start + size), np.bincount(flat, minlength=n_boot * size).reshape(n_boot, size)


def _row_features(x: np.ndarray) -> np.ndarray:
    """(1, x, upper triangle of x xᵀ row by row): the per-row terms of a covariance's sufficient statistics."""
    rows, d = x.shape
    out = np.empty((rows, 1 + d + d * (d + 1) // 2))
    out[:, 0] = 1.0
    out[:, 1:1 + d] = x
    k = 1 + d
    for i in range(d):
        np.multiply(x[:, i:i + 1], x[:, i:], out=out[:, k:k + d - i])
        k += d - i
    return out


def replicate_covariances(values: np.ndarray, clusters: np.ndarray | None = None, *, n_boot: int, seed: int = 0,
                          block: int | None = None) -> np.ndarray:
    """Covariance matrices of ``n_boot`` cluster-bootstrap replicates of the rows, (n_boot, d, d), rows touched once.

    Rows are sorted by cluster and cut into blocks of whole clusters. For each block the per-cluster sums of
    (1, x, x xᵀ) are formed once (a sparse cluster-indicator product) and every replicate's sums grow by its
    resampling counts for those clusters times them (a dense matrix product), so the cost is
    n_boot × n_clusters × d(d+3)/2 multiply-adds and memory stays at about ``COUNT_BUDGET`` cells whatever the
    number of rows or clusters. ``clusters=None`` makes every row its own cluster. Data are centred and scaled
    first so the sums keep their precision. Counts come from :func:`replicate_counts`.
    """
    x = np.asarray(values, dtype="float64")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    x = (x - mean) / scale
    n, d = x.shape
    if clusters is None:
        bounds, n_clusters = np.arange(n + 1), n
    else:
        codes = np.asarray(clusters)
        order = np.argsort(codes, kind="stable")
        x, codes = x[order], codes[order]
        n_clusters = int(codes[-1]) + 1
        bounds = np.searchsorted(codes, np.arange(n_clusters + 1))
    block = block or max(1, min(n_clusters, COUNT_BUDGET // n_boot, ROW_BUDGET * n_clusters // n))
    sums = np.zeros((n_boot, 1 + d + d * (d + 1) // 2))
    for start, stop, counts in replicate_counts(n_clusters, n_boot, seed, block):
        lo, hi = bounds[start], bounds[stop]
        feats = _row_features(x[lo:hi])
        if clusters is not None:
            member = sparse.csr_matrix((np.ones(hi - lo), np.arange(hi - lo), bounds[start:stop + 1] - lo),
                                       shape=(stop - start, hi - lo))
            feats = member @ feats
        sums += counts.astype("float64") @ feats
    size, total = sums[:, 0], sums[:, 1:1 + d]
    iu, ju = np.triu_indices(d)
    cross = np.zeros((n_boot, d, d))
    cross[:, iu, ju] = sums[:, 1 + d:]
    cross[:, ju, iu] = sums[:, 1 + d:]
    cov = (cross - total[:, :, None] * total[:, None, :] / size[:, None, None]) / (size - 1)[:, None, None]
    return cov * scale[:, None] * scale[None, :]
