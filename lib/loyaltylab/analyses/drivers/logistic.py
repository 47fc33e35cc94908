"""Promoter vs not: dominance of McFadden's pseudo-R² of logistic models, with a cluster bootstrap.

The point estimate is :func:`loyaltylab.stats.importance.logistic_importance` (statsmodels fits, tested against R's
``glm``) on a simple random sample of at most :data:`MAX_ROWS` complete rows. Its bootstrap resamples whole
respondents of that sample; each replicate needs 2**p logistic fits, so they are made here with a compact Newton
iteration on the replicate's distinct rows weighted by their resampling counts (the same maximum likelihood; a test
checks its lattice against the statsmodels one), warm-started from the model one driver smaller.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab.stats import dominance as dom
from loyaltylab.stats import importance as imp

from . import bootstrap
from .words import Note

MAX_ROWS = 5000
"""Rows the logistic decomposition uses at most (a simple random sample; logistic fits need the rows)."""
MAX_BOOT = 200
"""Bootstrap replicates of the logistic decomposition at most (each needs 2**p fits)."""
MEASURES = ("lmg", "lmg_share", "first", "last")


def _loglik(eta: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    return float(w @ (y * eta - np.logaddexp(0.0, eta)))


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, start: np.ndarray, max_iter: int = 50) -> tuple[float, np.ndarray]:
    """Weighted logistic maximum likelihood by Newton's method with step halving: (log-likelihood, coefficients)."""
    beta = start.copy()
    eta = x @ beta
    ll = _loglik(eta, y, w)
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-eta))
        grad = x.T @ (w * (y - mu))
        hess = (x * (w * mu * (1.0 - mu))[:, None]).T @ x
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(hess, grad, rcond=None)[0]
        t = 1.0
        while t > 1e-6:
            new = beta + t * step
            new_eta = x @ new
            new_ll = _loglik(new_eta, y, w)
            if new_ll >= ll - 1e-12:
                break
            t /= 2
        done = abs(new_ll - ll) < 1e-10 * (1.0 + abs(ll))
        beta, eta, ll = new, new_eta, new_ll
        if done:
            break
    return ll, beta


def lattice(y: np.ndarray, controls: np.ndarray, drivers: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """McFadden R² beyond the controls for every subset of the drivers (bit j = driver j), (2**p,)."""
    n, p = drivers.shape
    w = np.ones(n) if w is None else w
    ybar = float(w @ y / w.sum())
    if not 0 < ybar < 1:
        return np.full(2 ** p, np.nan)
    ll0 = float(w.sum() * (ybar * np.log(ybar) + (1 - ybar) * np.log(1 - ybar)))
    base = np.column_stack([np.ones(n), controls])
    k0 = base.shape[1]
    coef = {0: None}
    r2 = np.empty(2 ** p)
    for mask in range(2 ** p):
        cols = [j for j in range(p) if mask >> j & 1]
        x = np.column_stack([base, drivers[:, cols]])
        if mask == 0:
            start = np.zeros(k0)
            start[0] = np.log(ybar / (1 - ybar))
        else:
            top = mask.bit_length() - 1
            start = np.append(coef[mask ^ (1 << top)], 0.0)
        ll, coef[mask] = _fit(x, y, w, start)
        r2[mask] = 1.0 - ll / ll0
    return r2 - r2[0]


def _sample(model: pd.DataFrame, clusters, seed: int):
    """The rows the point estimate uses: all, or a simple random sample of MAX_ROWS (and their clusters)."""
    rng = np.random.default_rng(seed)
    if len(model) <= MAX_ROWS:
        return model, clusters
    keep = np.sort(rng.choice(len(model), MAX_ROWS, replace=False))
    return model.iloc[keep], (None if clusters is None else pd.factorize(np.asarray(clusters)[keep])[0])


def decompose(model: pd.DataFrame, outcome: str, drivers, controls, clusters, *, n_boot: int, seed: int,
              confidence: float) -> tuple[imp.LogisticImportance, imp.BootstrapImportance | None]:
    """The logistic decomposition on (a sample of) the complete rows and its cluster bootstrap (at most
    :data:`MAX_BOOT` replicates; None when ``n_boot`` is 0 or there are more than 10 drivers)."""
    sample, codes = _sample(model, clusters, seed)
    point = imp.logistic_importance(sample, outcome, drivers, controls, max_rows=max(len(sample), 50), seed=seed)
    if not n_boot or not point.exact:
        return point, None
    b = min(n_boot, MAX_BOOT)
    p = len(drivers)
    y = sample[outcome].to_numpy(dtype="float64")
    xc = sample[list(controls)].to_numpy(dtype="float64").reshape(len(sample), -1)
    xd = sample[list(drivers)].to_numpy(dtype="float64")
    codes = np.arange(len(sample)) if codes is None else np.asarray(codes)
    g = int(codes.max()) + 1
    rng = np.random.default_rng(seed + 1)
    values = np.full((b, 2 ** p), np.nan)
    for r in range(b):
        counts = np.bincount(rng.integers(0, g, g), minlength=g).astype("float64")[codes]
        used = counts > 0
        with np.errstate(all="ignore"):
            values[r] = lattice(y[used], xc[used], xd[used], counts[used])
    ok = np.isfinite(values).all(axis=1)
    cond = dom.conditional_contributions(np.where(ok[:, None], values, 0.0))
    lmg = np.where(ok[:, None], cond.mean(axis=-1), np.nan)
    full, bits = 2 ** p - 1, 1 << np.arange(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = {"lmg": lmg, "lmg_share": lmg / values[:, [full]], "first": values[:, bits],
                "last": values[:, [full]] - values[:, full ^ bits], "r2": values[:, full]}
    boot = bootstrap.summarise(point, reps, MEASURES, n=point.n, n_clusters=g, confidence=confidence, seed=seed,
                               values=values[ok] if ok.any() else None)
    return point, boot


def notes(point: imp.LogisticImportance, boot) -> list[str]:
    out = []
    if point.n < point.n_total:
        out.append(Note(f"the logistic decomposition uses a random sample of {point.n:,} of the {point.n_total:,} "
                        "complete responses",
                        f"逻辑回归分解使用从 {point.n_total:,} 条完整回答中随机抽取的 {point.n:,} 条"))
    if point.n_troubled:
        out.append(Note(f"{point.n_troubled} of {point.n_fits} logistic fits warned (separation or no convergence)",
                        f"{point.n_fits} 次逻辑回归拟合中有 {point.n_troubled} 次出现警告（完全分离或未收敛）"))
    if boot is not None and boot.n_boot < MAX_BOOT + 1:
        out.append(Note(f"the logistic decomposition's intervals come from {boot.n_boot} bootstrap replicates",
                        f"逻辑回归分解的区间基于 {boot.n_boot} 次自助法重抽样"))
    return out
