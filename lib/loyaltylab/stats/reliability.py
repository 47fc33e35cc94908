"""Reliability of multi-item scales: Cronbach's alpha with Feldt's interval and item analysis, McDonald's omega,
and the reliability of difference (gap, P − E) scores.

Everything is computed from the items' covariance matrix, so each statistic has a ``*_from_frame`` form (rows =
respondents) and a ``*_from_cov`` form (covariance + n): a million respondents cost one covariance computation.
Reverse-keyed items are handled by flipping the sign of their row and column of the covariance matrix, which is
what reversing the scores (max + min − x) does to it.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import params
from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats.factor import SampleMoments, _as_frame, _one_blas_thread

__all__ = [
    "AlphaResult", "alpha_from_frame", "alpha_from_cov", "feldt_interval", "OmegaResult", "omega_from_frame",
    "omega_from_cov", "difference_score_reliability", "GapReliability", "gap_reliability_from_frame",
    "gap_reliability_from_cov",
]


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of a scale and its item analysis.

    ``alpha`` (raw, from covariances) with Feldt's ``confidence`` interval (``ci_low``, ``ci_high``),
    ``std_alpha`` (from correlations), ``average_r`` (mean inter-item correlation). ``items`` (index = item):
    ``alpha_if_deleted``, ``std_alpha_if_deleted``, ``average_r_if_deleted``, ``r_drop`` (corrected item–total
    correlation: the item against the sum of the other items), ``item_total_r`` and ``std_item_total_r`` (the
    item against the total including it, from covariances / correlations). ``reversed``: the reverse-keyed items.
    """

    alpha: float
    ci_low: float
    ci_high: float
    std_alpha: float
    average_r: float
    n: int
    n_items: int
    items: pd.DataFrame
    reversed: tuple[str, ...]
    confidence: float = 0.95


def _keyed(cov: pd.DataFrame, reverse: Sequence[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    reverse = (reverse,) if isinstance(reverse, str) else tuple(reverse)
    unknown = [r for r in reverse if r not in cov.columns]
    if unknown:
        raise ParameterError("reverse", unknown[0], f"is not one of the items ({', '.join(map(str, cov.columns))})")
    if not reverse:
        return cov, reverse
    keys = np.where(cov.columns.isin(reverse), -1.0, 1.0)
    return cov * np.outer(keys, keys), reverse


def _alpha_parts(c: np.ndarray) -> tuple[float, float, float]:
    k = c.shape[0]
    sd = np.sqrt(np.diag(c))
    r = c / np.outer(sd, sd)
    average_r = (r.sum() - k) / (k * (k - 1))
    alpha = k / (k - 1) * (1.0 - np.trace(c) / c.sum())
    std_alpha = k * average_r / (1 + (k - 1) * average_r)
    return float(alpha), float(std_alpha), float(average_r)


def feldt_interval(alpha: float, n: int, n_items: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt's (1965) interval for alpha: 1 − (1 − α)·F quantiles on (n − 1, (n − 1)(k − 1)) df; the "Feldt"
    bounds of ``psych::alpha`` / ``psych::alpha.ci``."""
    confidence = params.confidence(confidence)
    df1, df2 = n - 1, (n - 1) * (n_items - 1)
    tail = (1 - confidence) / 2
    low = 1 - (1 - alpha) * stats.f.ppf(1 - tail, df1, df2)
    high = 1 - (1 - alpha) * stats.f.ppf(tail, df1, df2)
    return float(low), float(high)


@_one_blas_thread
def alpha_from_cov(cov, n: int | None = None, *, reverse: Sequence[str] = (), confidence: float = 0.95) -> AlphaResult:
    """Cronbach's alpha and item analysis from the items' covariance matrix (DataFrame or SampleMoments; an array's
    items are named x1..xp) and the number of respondents n (for the interval).

    Tested against ``psych::alpha`` (raw_alpha, std.alpha, average_r, alpha.drop, item.stats r.drop / raw.r /
    std.r, Feldt bounds) on HolzingerSwineford1939 and on ``bfi`` A1–A5 with A1 reverse-keyed.
    """
    if isinstance(cov, SampleMoments):
        n = cov.n if n is None else n
    frame = _as_frame(cov, "cov")
    n = params.whole(2)(n, "n")
    confidence = params.confidence(confidence)
    frame, reverse = _keyed(frame, reverse)
    c = frame.to_numpy()
    k = c.shape[0]
    alpha, std_alpha, average_r = _alpha_parts(c)
    low, high = feldt_interval(alpha, n, k, confidence)
    sd = np.sqrt(np.diag(c))
    r = c / np.outer(sd, sd)
    total = c.sum()
    row = c.sum(axis=1)
    rest_var = total - 2 * row + np.diag(c)
    dropped = np.empty((k, 3))
    for i in range(k):
        keep = np.arange(k) != i
        if k > 2:
            dropped[i] = _alpha_parts(c[np.ix_(keep, keep)])
        else:
            dropped[i] = c[0, 1] / c[1 - i, 1 - i], r[0, 1], r[0, 1]
    items = pd.DataFrame({
        "alpha_if_deleted": dropped[:, 0], "std_alpha_if_deleted": dropped[:, 1],
        "average_r_if_deleted": dropped[:, 2], "r_drop": (row - np.diag(c)) / np.sqrt(np.diag(c) * rest_var),
        "item_total_r": row / np.sqrt(np.diag(c) * total), "std_item_total_r": r.sum(axis=1) / math.sqrt(r.sum()),
    }, index=frame.columns)
    items.index.name = "item"
    return AlphaResult(alpha, low, high, std_alpha, average_r, n, k, items, reverse, confidence)


def alpha_from_frame(frame: pd.DataFrame, items: Sequence[str] | None = None, *, reverse: Sequence[str] = (),
                     confidence: float = 0.95, missing: str = "pairwise") -> AlphaResult:
    """Cronbach's alpha from item scores (rows = respondents). ``missing='pairwise'`` (psych's default) uses every
    available pair of answers and n = all rows, as ``psych::alpha``; 'listwise' keeps complete rows only.
    ``item_total_r`` comes from the covariances, so with missing answers it differs from psych's raw.r (which
    correlates with the mean of each row's available items); every other column matches psych either way."""
    moments = SampleMoments.from_frame(frame, items, missing=missing)
    return alpha_from_cov(moments.cov, moments.n, reverse=reverse, confidence=confidence)


@dataclass(frozen=True)
class OmegaResult:
    """McDonald's omega total from a one-factor ML model: ω = (Σλ)² / ((Σλ)² + Σθ) with unstandardised loadings λ
    and residual variances θ (the factor's variance fixed at 1). ``items``: ``loading``, ``residual_variance``,
    ``std_loading``."""

    omega: float
    items: pd.DataFrame
    n_items: int
    reversed: tuple[str, ...]


@_one_blas_thread
def omega_from_cov(cov, *, reverse: Sequence[str] = (), seed: int = 0) -> OmegaResult:
    """Omega total from the one-factor ML solution of the items' covariance matrix.

    This is the CFA-based composite reliability (Raykov 1997; lavaan ``cfa('f =~ …', std.lv=TRUE)`` then
    (Σλ)²/((Σλ)² + Σθ)), not ``psych::omega(nfactors=1)``'s omega.tot, which uses the observed total variance and a
    minres fit. The ML fit (``statsmodels`` Factor on the correlation matrix, rescaled by the item SDs — ML is
    scale-invariant) matches lavaan to 1e-6 on HolzingerSwineford1939 and ``bfi`` A1–A5 (A1 reverse-keyed).
    """
    from statsmodels.multivariate.factor import Factor

    frame, reverse = _keyed(_as_frame(cov, "cov"), reverse)
    k = frame.shape[0]
    if k < 3:
        raise ParameterError("items", list(frame.columns), "omega needs at least 3 items (a one-factor model)")
    c = frame.to_numpy()
    sd = np.sqrt(np.diag(c))
    corr = c / np.outer(sd, sd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = Factor(corr=corr, n_factor=1, method="ml").fit(rng=seed)
    std_loading = np.asarray(fitted.loadings, dtype=float)[:, 0]
    if std_loading.sum() < 0:
        std_loading = -std_loading
    loading = std_loading * sd
    residual = np.asarray(fitted.uniqueness, dtype=float) * sd**2
    omega = loading.sum() ** 2 / (loading.sum() ** 2 + residual.sum())
    items = pd.DataFrame({"loading": loading, "residual_variance": residual, "std_loading": std_loading},
                         index=pd.Index(frame.columns, name="item"))
    return OmegaResult(float(omega), items, k, reverse)


def omega_from_frame(frame: pd.DataFrame, items: Sequence[str] | None = None, *, reverse: Sequence[str] = (),
                     missing: str = "listwise", seed: int = 0) -> OmegaResult:
    """Omega total from item scores (listwise complete rows by default, as lavaan)."""
    moments = SampleMoments.from_frame(frame, items, missing=missing)
    return omega_from_cov(moments.cov, reverse=reverse, seed=seed)


def difference_score_reliability(reliability_p, reliability_e, var_p, var_e, corr_pe):
    """Reliability of D = P − E from the reliabilities of P and E, their variances and their correlation:

        ρ_DD = (σP²ρPP + σE²ρEE − 2σPσEρPE) / (σP² + σE² − 2σPσEρPE)

    (Lord 1963; the classical-test-theory result behind Peter, Churchill & Brown's 1993 critique of SERVQUAL gap
    scores). Accepts scalars or arrays (broadcast); NaN where D has no variance.
    """
    rel_p, rel_e, v_p, v_e, r = (np.asarray(a, dtype=float) for a in (reliability_p, reliability_e, var_p, var_e,
                                                                         corr_pe))
    if (v_p <= 0).any() or (v_e <= 0).any():
        raise ParameterError("var_p / var_e", (var_p, var_e), "variances must be positive")
    if (np.abs(r) > 1).any():
        raise ParameterError("corr_pe", corr_pe, "must be a correlation between −1 and 1")
    cross = 2 * np.sqrt(v_p * v_e) * r
    denominator = v_p + v_e - cross
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(denominator > 1e-12 * (v_p + v_e), (v_p * rel_p + v_e * rel_e - cross) / denominator, np.nan)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class GapReliability:
    """Reliability of a gap score (mean of P items − mean of E items) and its ingredients: each composite's alpha,
    variance, the P–E correlation, and the gap's own alpha when the item gaps P_i − E_i are treated as items."""

    reliability: float
    alpha_p: float
    alpha_e: float
    var_p: float
    var_e: float
    corr_pe: float
    alpha_of_item_gaps: float
    n: int | None


@_one_blas_thread
def gap_reliability_from_cov(cov, p_items: Sequence[str], e_items: Sequence[str], n: int | None = None
                             ) -> GapReliability:
    """Gap-score reliability from the joint covariance matrix of the P and E items (paired in order: p_items[i]
    with e_items[i]); alphas as :func:`alpha_from_cov`, then :func:`difference_score_reliability`."""
    if isinstance(cov, SampleMoments):
        n = cov.n if n is None else n
    frame = _as_frame(cov, "cov")
    p_items, e_items = list(p_items), list(e_items)
    if len(p_items) != len(e_items) or len(p_items) < 2:
        raise ParameterError("e_items", e_items, "must pair one-to-one with p_items (at least 2 pairs)")
    absent = [c for c in p_items + e_items if c not in frame.columns]
    if absent:
        raise DataError(None, absent[0], "is not one of the items")
    c_pp = frame.loc[p_items, p_items].to_numpy()
    c_ee = frame.loc[e_items, e_items].to_numpy()
    c_pe = frame.loc[p_items, e_items].to_numpy()
    k = len(p_items)
    var_p, var_e, cov_pe = c_pp.sum() / k**2, c_ee.sum() / k**2, c_pe.sum() / k**2
    corr_pe = cov_pe / math.sqrt(var_p * var_e)
    alpha_p, alpha_e = _alpha_parts(c_pp)[0], _alpha_parts(c_ee)[0]
    gaps = c_pp + c_ee - c_pe - c_pe.T
    return GapReliability(
        difference_score_reliability(alpha_p, alpha_e, var_p, var_e, corr_pe), alpha_p, alpha_e, float(var_p),
        float(var_e), float(corr_pe), _alpha_parts(gaps)[0], None if n is None else int(n),
    )


def gap_reliability_from_frame(frame: pd.DataFrame, p_items: Sequence[str], e_items: Sequence[str], *,
                               missing: str = "listwise") -> GapReliability:
    """Gap-score reliability from item scores (rows = respondents)."""
    moments = SampleMoments.from_frame(frame, list(p_items) + list(e_items), missing=missing)
    return gap_reliability_from_cov(moments.cov, p_items, e_items, moments.n)
