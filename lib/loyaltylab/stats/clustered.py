"""Clustered responses: design effects, cluster-robust variances and people per group, from per-cluster sums.

When one customer answers several times, the answers are correlated and carry less information than as many
customers would. Everything here is computed from sums per (group, cluster) cell in a few ``np.bincount`` calls,
so a million responses cost well under a second. Clusters and groups are integer codes (``cluster_codes``,
``pd.factorize``); no I/O, no text.

Names: ``n`` responses, ``S`` Σx, ``Q`` Σx², per (group, cluster) cell ``s`` its Σx and ``m`` its size;
``A`` Σs², ``B`` Σs·m, ``C`` Σm², ``G`` the number of clusters — per group.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from loyaltylab.errors import DataError

__all__ = [
    "cluster_codes", "cluster_design_effect", "cluster_rest_deff", "cluster_sums", "clustered_difference_variance",
    "deff_from_sums", "people_per_group", "rest_sums", "value_cluster_sums",
]

SUM_KEYS = ("n", "S", "Q", "A", "B", "C", "G")
DENSE_CELLS_PER_ROW = 8
"""Up to this many possible (group, cluster) cells per row the cell sums are dense bincounts (fast, O(cells)
memory); beyond, the occupied cells are found by sorting the keys."""


def _cell_key(groups: np.ndarray, clusters: np.ndarray) -> tuple[np.ndarray, int]:
    """One int64 key per (group, cluster) pair: group · width + cluster (46× faster than np.unique(axis=1))."""
    width = int(clusters.max()) + 1 if len(clusters) else 1
    return np.asarray(groups, dtype=np.int64) * width + np.asarray(clusters, dtype=np.int64), width


def value_cluster_sums(x, groups, n_groups: int, clusters) -> dict[str, np.ndarray]:
    """Per group: n, Σx, Σx², and over its (group, cluster) cells Σs², Σs·m, Σm² and their number G, for any
    values ``x`` without missing values (e.g. +1/0/−1 NPS codes or a dimension's perception scores)."""
    x = np.asarray(x, dtype="float64")
    g = np.asarray(groups).astype("int64")
    c = np.asarray(clusters).astype("int64")
    if len(x) == 0:
        return {k: np.zeros(n_groups) for k in SUM_KEYS}
    key, width = _cell_key(g, c)
    if n_groups * width <= DENSE_CELLS_PER_ROW * len(x) + (1 << 20):  # dense: two bincounts, no sort
        s = np.bincount(key, weights=x, minlength=n_groups * width)
        m = np.bincount(key, minlength=n_groups * width)
        cells = np.flatnonzero(m)
        s, m, gk = s[cells], m[cells].astype("float64"), cells // width
    else:
        keys, inverse = np.unique(key, return_inverse=True)
        s = np.bincount(inverse, weights=x)
        m = np.bincount(inverse).astype("float64")
        gk = keys // width

    def per_group(weights, index=gk):
        return np.bincount(index, weights=weights, minlength=n_groups)[:n_groups]

    return {"n": per_group(m), "S": per_group(s), "Q": per_group(x * x, g), "A": per_group(s * s),
            "B": per_group(s * m), "C": per_group(m * m), "G": per_group(np.ones_like(m))}


def cluster_sums(codes, groups, n_groups: int, clusters) -> dict[str, np.ndarray]:
    """:func:`value_cluster_sums` of the NPS contributions x = +1 / 0 / −1 of category ``codes`` (0 detractor,
    1 passive, 2 promoter; −1 = missing, left out)."""
    codes = np.asarray(codes)
    ok = codes >= 0
    return value_cluster_sums(codes[ok].astype("float64") - 1.0, np.asarray(groups)[ok], n_groups,
                              np.asarray(clusters)[ok])


def deff_from_sums(t: Mapping[str, np.ndarray]) -> np.ndarray:
    """Design effect per group: the cluster-robust (sandwich) variance of the mean,
    V = G/(G−1) · Σ_c (s_c − m_c·x̄)² / n², over the iid variance. Truncated below at 1 (never narrower than the
    iid interval); 1 when a group has fewer than two clusters or no variance."""
    n, G = t["n"], t["G"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = t["S"] / n
        ss = t["A"] - 2 * mean * t["B"] + mean**2 * t["C"]
        v_cluster = G / (G - 1) * np.maximum(ss, 0.0) / n**2
        v_iid = (t["Q"] / n - mean**2) / n
        deff = v_cluster / v_iid
    return np.where((G >= 2) & (v_iid > 0) & np.isfinite(deff), np.maximum(deff, 1.0), 1.0)


def cluster_design_effect(codes, groups, n_groups: int, clusters) -> np.ndarray:
    """Design effect of the NPS per group when responses are clustered (several answers by one customer)."""
    return deff_from_sums(cluster_sums(codes, groups, n_groups, clusters))


def rest_sums(t: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The sums of everyone outside each group, by subtraction from the total (exact when clusters are nested in
    groups, e.g. customers in customer segments)."""
    return {k: v.sum() - v for k, v in t.items()}


def cluster_rest_deff(codes, groups, n_groups: int, clusters) -> tuple[np.ndarray, np.ndarray]:
    """(deff of each group, deff of everyone outside it) — see :func:`rest_sums`."""
    t = cluster_sums(codes, groups, n_groups, clusters)
    return deff_from_sums(t), deff_from_sums(rest_sums(t))


def clustered_difference_variance(x, codes, clusters, mean_p: float, mean_d: float, n_p: float, n_d: float):
    """Cluster-robust (sandwich) variance of mean(promoters) − mean(detractors) and the number of clusters.

    Each response's influence on the difference is (x − m_P)/n_P for a promoter (code 2) and −(x − m_D)/n_D for a
    detractor (code 0); V = G/(G−1) · Σ_c (Σ_{i∈c} influence_i)². A customer who answered once as a promoter and
    once as a detractor contributes both terms to one cluster sum, so the covariance between the two groups is
    allowed for too.
    """
    x, codes, clusters = np.asarray(x, dtype="float64"), np.asarray(codes), np.asarray(clusters)
    sel = (codes == 2) | (codes == 0)
    x, codes, clusters = x[sel], codes[sel], clusters[sel]
    psi = np.where(codes == 2, (x - mean_p) / n_p, -(x - mean_d) / n_d)
    _, inverse = np.unique(clusters, return_inverse=True)
    u = np.bincount(inverse, weights=psi)
    g = len(u)
    return (g / (g - 1) * float(np.sum(u * u)) if g >= 2 else np.nan), g


def cluster_codes(frame: pd.DataFrame, cluster_col: str | None, source: str | None = None) -> np.ndarray | None:
    """Integer cluster code per row of ``frame`` from ``cluster_col`` (None → None: independent responses). A row
    without a cluster id is its own cluster. A missing column is a one-line DataError."""
    if not cluster_col:
        return None
    if cluster_col not in frame:
        raise DataError(source, cluster_col, "column not found (named in the parameters as the cluster column)")
    codes, _ = pd.factorize(frame[cluster_col], sort=False)
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        codes[missing] = codes.max() + 1 + np.arange(int(missing.sum()))
    return codes


def people_per_group(groups, clusters, n_groups: int) -> np.ndarray | None:
    """Distinct clusters (people) in each group (rows with a group code < 0 are left out); None without
    clusters. One int64 key per (group, cluster) pair, sorted, its distinct values counted per group (the ``G``
    of :func:`value_cluster_sums` is the same count, for free, when the sums are computed anyway)."""
    if clusters is None:
        return None
    groups = np.asarray(groups, dtype=np.int64)
    clusters = np.asarray(clusters, dtype=np.int64)
    ok = groups >= 0
    if not ok.all():
        groups, clusters = groups[ok], clusters[ok]
    key, width = _cell_key(groups, clusters)
    key.sort()  # a fresh array: sorted in place
    pairs = key[np.r_[True, key[1:] != key[:-1]]] if len(key) else key
    return np.bincount(pairs // width, minlength=n_groups)[:n_groups]
