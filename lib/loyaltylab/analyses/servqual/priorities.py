"""Priorities: which score predicts the outcomes better (SERVQUAL gaps or SERVPERF perceptions, the Cronin & Taylor
1992 debate), and the importance-performance analysis (IPA, Martilla & James 1977) with the bootstrap stability of
each dimension's quadrant.

Both work from sufficient statistics: R² from covariance matrices, and the bootstrap from per-customer sums of
(1, x, x xᵀ) resampled by customer — no row is read twice.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}
"""(importance above the crosshair, performance above the crosshair) → Martilla & James's quadrant."""
QUADRANT_ORDER = ("concentrate here", "keep up the good work", "low priority", "possible overkill")


def _cov(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(axis=0)
    return centred.T @ centred / (len(x) - 1)


def r_squared(cov: np.ndarray) -> float:
    """R² of variable 0 on the others from their covariance matrix (pseudo-inverse: aliased predictors drop out)."""
    sxx, sxy = cov[1:, 1:], cov[1:, 0]
    if cov[0, 0] <= 0:
        return float("nan")
    return float(sxy @ np.linalg.pinv(sxx, hermitian=True) @ sxy / cov[0, 0])


def servperf_vs_servqual(outcomes: dict[str, np.ndarray], perception: np.ndarray, gap: np.ndarray | None
                         ) -> pd.DataFrame:
    """Per outcome, over the rows with the outcome and every dimension score: R² (and adjusted R²) of the outcome
    on the perception scores (SERVPERF) and on the gap scores (SERVQUAL). Columns: outcome, n, r2_servperf,
    adj_r2_servperf, r2_servqual, adj_r2_servqual, difference (servqual − servperf)."""
    rows = []
    k = perception.shape[1]
    for name, y in outcomes.items():
        parts = [y[:, None], perception] + ([gap] if gap is not None else [])
        x = np.column_stack(parts)
        ok = np.isfinite(x).all(axis=1)
        n = int(ok.sum())
        row = {"outcome": name, "n": n, "r2_servperf": np.nan, "adj_r2_servperf": np.nan, "r2_servqual": np.nan,
               "adj_r2_servqual": np.nan}
        if n > k + 2:
            c = _cov(x[ok])
            adj = (n - 1) / (n - k - 1)
            row["r2_servperf"] = r_squared(c[: k + 1, : k + 1])
            row["adj_r2_servperf"] = 1 - (1 - row["r2_servperf"]) * adj
            if gap is not None:
                idx = [0, *range(k + 1, 2 * k + 1)]
                row["r2_servqual"] = r_squared(c[np.ix_(idx, idx)])
                row["adj_r2_servqual"] = 1 - (1 - row["r2_servqual"]) * adj
        rows.append(row)
    out = pd.DataFrame(rows, columns=["outcome", "n", "r2_servperf", "adj_r2_servperf", "r2_servqual",
                                      "adj_r2_servqual"])
    out["difference"] = out["r2_servqual"] - out["r2_servperf"]
    return out


# --- importance-performance analysis ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IPA:
    """``table`` (one row per dimension): performance (mean perception), importance (the one the quadrant uses),
    importance_derived, importance_stated, quadrant, stability (share of bootstrap replicates giving the same
    quadrant), the percentile intervals of performance and importance. ``source``: 'derived' or 'stated';
    ``derived_method``: 'lmg' (LMG shares of R², :mod:`loyaltylab.stats.dominance` — the loyalty-driver
    analysis' decomposition) or 'correlation';
    ``crosshair``: (importance, performance) — the means over the dimensions (data-centred quadrants)."""

    table: pd.DataFrame
    source: str
    derived_method: str | None
    outcome: str | None
    crosshair: tuple[float, float]
    n: int
    n_bootstrap: int
    confidence: float


def _quadrants(importance: np.ndarray, performance: np.ndarray) -> np.ndarray:
    """Quadrant codes 0..3 (:data:`QUADRANT_ORDER`) against the crosshair of the means (last axis = dimensions)."""
    hi_i = importance >= importance.mean(axis=-1, keepdims=True)
    hi_p = performance >= performance.mean(axis=-1, keepdims=True)
    return np.where(hi_i, np.where(hi_p, 1, 0), np.where(hi_p, 3, 2))


def _derived(cov: np.ndarray, method: str) -> np.ndarray:
    """Derived importance from covariance matrices (..., 1+D, 1+D), outcome first: LMG shares or correlations."""
    if method == "lmg":
        from loyaltylab.stats import dominance as dom

        lmg = dom.shapley(dom.subset_r2(cov))
        return lmg / lmg.sum(axis=-1, keepdims=True)
    sd = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    return cov[..., 0, 1:] / (sd[..., :1] * sd[..., 1:])


def _derived_method() -> str:
    """'lmg' when the loyalty-driver statistics (:mod:`loyaltylab.stats.dominance`) are importable, else
    'correlation'."""
    try:
        from loyaltylab.stats.dominance import shapley, subset_r2  # noqa: F401
    except ImportError:
        return "correlation"
    return "lmg"


def _features(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Per row (1, x, upper triangle of x xᵀ, stated weights, has weights)."""
    d = x.shape[1]
    iu, ju = np.triu_indices(d)
    parts = [np.ones((len(x), 1)), x, x[:, iu] * x[:, ju]]
    if w is not None:
        has = np.isfinite(w).all(axis=1)
        parts += [np.where(has[:, None], w, 0.0), has[:, None].astype("float64")]
    return np.hstack(parts)


NORMAL_LIMIT_CLUSTERS = 20_000
"""Above this many customers (clusters) the replicate sums are drawn from their normal limit (see
:func:`_replicates`)."""
COV_SAMPLE_CLUSTERS = 50_000
"""Customers whose feature sums estimate the covariance of the normal limit (all of them below this number)."""


def _point_sums(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """``_features(x, w).sum(axis=0)`` without forming the per-row features (one BLAS product for x xᵀ)."""
    iu, ju = np.triu_indices(x.shape[1])
    parts = [np.array([float(len(x))]), x.sum(axis=0), (x.T @ x)[iu, ju]]
    if w is not None:
        has = np.isfinite(w).all(axis=1)
        parts += [w[has].sum(axis=0), np.array([float(has.sum())])]
    return np.concatenate(parts)


def _cluster_sums(feats: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
    """Per-customer sums of the row features (rows are their own customers when ``codes`` is None)."""
    from scipy import sparse

    if codes is None:
        return feats
    codes = pd.factorize(codes)[0]
    g = int(codes.max()) + 1
    return np.asarray(sparse.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))),
                                        shape=(g, len(codes))) @ feats)


def _replicates(x: np.ndarray, w: np.ndarray | None, clusters: np.ndarray | None, n_boot: int, seed: int,
                total: np.ndarray | None = None) -> np.ndarray:
    """(n_boot, features) sums of :func:`_features` over cluster-bootstrap replicates (whole customers resampled).

    A replicate's sums are Σ_c N_c·F_c over the G customers' feature sums F_c with multinomial counts N (G draws
    with replacement). Above :data:`NORMAL_LIMIT_CLUSTERS` customers that sum of G independent terms is drawn from
    its normal limit — mean G·F̄ (``total``, the exact sums), covariance G·Cov(F) with Cov(F) estimated from
    :data:`COV_SAMPLE_CLUSTERS` randomly chosen customers — which costs a fixed amount instead of O(n_boot·G)
    random draws (a million responses in well under a second; the spread agrees with resampling, see the tests).
    """
    rng = np.random.default_rng(seed)
    codes = None if clusters is None else pd.factorize(clusters)[0]
    g = len(x) if codes is None else int(codes.max()) + 1
    if g > NORMAL_LIMIT_CLUSTERS:
        total = _point_sums(x, w) if total is None else total
        pick = rng.choice(g, size=min(g, COV_SAMPLE_CLUSTERS), replace=False)
        rows = pick if codes is None else np.flatnonzero(np.isin(codes, pick))
        sample = _cluster_sums(_features(x[rows], None if w is None else w[rows]),
                               None if codes is None else codes[rows])
        centred = sample - sample.mean(axis=0)
        values, vectors = np.linalg.eigh(centred.T @ centred / len(sample))
        root = vectors * np.sqrt(np.clip(values, 0, None))
        return total + np.sqrt(g) * rng.standard_normal((n_boot, len(total))) @ root.T
    feats = _cluster_sums(_features(x, w), codes)
    out = np.empty((n_boot, feats.shape[1]))
    for b in range(n_boot):
        out[b] = np.bincount(rng.integers(0, g, g), minlength=g).astype("float64") @ feats
    return out


def _unpack(sums: np.ndarray, d: int, has_w: bool):
    """Means (..., d), covariances (..., d, d) and stated-weight means (..., D) from summed features."""
    size = sums[..., 0]
    total = sums[..., 1:1 + d]
    iu, ju = np.triu_indices(d)
    cross = np.zeros((*sums.shape[:-1], d, d))
    cross[..., iu, ju] = sums[..., 1 + d:1 + d + len(iu)]
    cross[..., ju, iu] = sums[..., 1 + d:1 + d + len(iu)]
    mean = total / size[..., None]
    cov = (cross - total[..., :, None] * total[..., None, :] / size[..., None, None]) / (size - 1)[..., None, None]
    stated = None
    if has_w:
        k = 1 + d + len(iu)
        stated = sums[..., k:-1] / sums[..., -1:]
    return mean, cov, stated


def ipa(perception: np.ndarray, dims, outcome: np.ndarray | None = None, outcome_name: str | None = None,
        weights: np.ndarray | None = None, clusters: np.ndarray | None = None, *, n_bootstrap: int = 200,
        seed: int = 0, confidence: float = 0.95) -> IPA | None:
    """Importance-performance analysis over the rows with every dimension's perception score (and the outcome when
    importance is derived). Importance: derived from ``outcome`` when given (LMG shares, else correlations), else
    stated (mean normalised points). None when there is neither, or fewer than two dimensions."""
    dims = list(dims)
    if len(dims) < 2 or (outcome is None and weights is None):
        return None
    method = _derived_method() if outcome is not None else None
    x = perception if outcome is None else np.column_stack([outcome, perception])
    ok = np.isfinite(x).all(axis=1)
    if ok.sum() <= x.shape[1] + 1:
        return None
    x, w = x[ok], (weights[ok] if weights is not None else None)
    if w is not None and not np.isfinite(w).all(axis=1).any():
        w = None
    if outcome is None and w is None:
        return None
    d = x.shape[1]
    point = _point_sums(x, w)
    mean, cov, stated = _unpack(point, d, w is not None)
    lead = 0 if outcome is None else 1
    perf = mean[lead:]
    derived = _derived(cov, method) if outcome is not None else None
    importance = derived if derived is not None else stated
    quad = _quadrants(importance, perf)
    table = pd.DataFrame({"dimension": dims, "performance": perf, "importance": importance,
                          "importance_derived": derived if derived is not None else np.nan,
                          "importance_stated": stated if stated is not None else np.nan,
                          "quadrant": np.asarray(QUADRANT_ORDER)[quad]})
    if n_bootstrap:
        sums = _replicates(x, w, None if clusters is None else np.asarray(clusters)[ok], n_bootstrap, seed, point)
        r_mean, r_cov, r_stated = _unpack(sums, d, w is not None)
        r_perf = r_mean[:, lead:]
        r_imp = _derived(r_cov, method) if outcome is not None else r_stated
        r_quad = _quadrants(r_imp, r_perf)
        tail = (1 - confidence) / 2
        table["stability"] = (r_quad == quad[None, :]).mean(axis=0)
        table["performance_ci_low"], table["performance_ci_high"] = np.quantile(r_perf, [tail, 1 - tail], axis=0)
        table["importance_ci_low"], table["importance_ci_high"] = np.quantile(r_imp, [tail, 1 - tail], axis=0)
    else:
        for c in ("stability", "performance_ci_low", "performance_ci_high", "importance_ci_low",
                  "importance_ci_high"):
            table[c] = np.nan
    return IPA(table, "derived" if derived is not None else "stated", method, outcome_name if derived is not None
               else None, (float(importance.mean()), float(perf.mean())), int(ok.sum()), int(n_bootstrap),
               confidence)
