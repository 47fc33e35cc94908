"""Moderation (two-way interaction) models: Hayes' PROCESS model 1 and the R ``interactions`` package in Python.

The model is ``y ~ x + w + x·w + controls`` with x and w mean-centred by default, fitted by OLS (or logit for a 0/1
outcome) with cluster-robust standard errors when several rows belong to one customer. From the coefficient
covariance come simple slopes of x at chosen values of w, the Johnson–Neyman points where the slope of x crosses
significance, the interaction on the probability scale for logit models, a 2×2 "neither / firm only / customer only /
both" cut with its synergy contrast, and a response surface with sparse regions masked.

Standard errors (``cov_type``):

* ``"cluster"`` (the default when ``clusters`` is given): CR1, statsmodels' cluster covariance with the small-sample
  factor G/(G−1)·(N−1)/(N−K) — the same as R ``sandwich::vcovCL(fit, cluster = ~g)`` (type HC1, the default) and
  Stata's ``vce(cluster g)`` for regress. Tests and intervals use t with G−1 degrees of freedom.
* ``"HC3"`` (the default without clusters): PROCESS' ``hc=3`` and ``interactions``' ``robust = "HC3"``. PROCESS
  itself defaults to ordinary OLS standard errors — ``cov_type="nonrobust"`` reproduces that; ``"HC0"``–``"HC2"``
  are also accepted. Tests use t with N−K degrees of freedom, as ``lm`` and PROCESS do.

Logit models use the normal distribution (as ``glm`` and PROCESS do) and ``"nonrobust"`` (maximum-likelihood) standard
errors unless clustered; clustered logit errors use the factor G/(G−1) alone, as R and Stata do for a logit.
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special, stats

from loyaltylab import params, privacy
from loyaltylab.errors import DataError, ParameterError

COV_TYPES = ("cluster", "HC0", "HC1", "HC2", "HC3", "nonrobust")
TERMS = ("const", "x", "w", "x:w")
CELLS = ("neither", "firm_only", "customer_only", "both")
"""2×2 cells: x low & w low, x high & w low, x low & w high, both high (x = the firm's, w = the customer's)."""
PERCENTILES = (16.0, 50.0, 84.0)
"""PROCESS' default conditioning values of a continuous moderator (Hayes 2022, §7.3)."""
_check_cov_type = params.choice(*COV_TYPES, aliases={"CR1": "cluster", "OLS": "nonrobust"})


# --- small shared pieces ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """One estimate with its standard error, ``confidence`` interval and two-sided p-value."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float = math.inf
    confidence: float = 0.95

    @property
    def significant(self) -> bool:
        return bool(self.p_value < 1 - self.confidence)


def critical_value(confidence: float, df: float) -> float:
    """Two-sided critical value: t with ``df`` degrees of freedom, normal when df is infinite."""
    q = 0.5 + confidence / 2
    return float(stats.norm.ppf(q) if not np.isfinite(df) else stats.t.ppf(q, df))


def inference(estimate, se, df: float, confidence: float) -> dict[str, np.ndarray]:
    """Vectorised Wald inference: statistic, two-sided p-value and interval for estimates with standard errors."""
    est = np.asarray(estimate, dtype="float64")
    se = np.asarray(se, dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = est / se
    dist = stats.norm if not np.isfinite(df) else stats.t(df)
    crit = critical_value(confidence, df)
    return {"estimate": est, "se": se, "statistic": stat, "p_value": 2 * dist.sf(np.abs(stat)),
            "ci_low": est - crit * se, "ci_high": est + crit * se}


def _estimate(est: float, se: float, df: float, confidence: float) -> Estimate:
    r = inference(est, se, df, confidence)
    return Estimate(float(est), float(se), float(r["ci_low"]), float(r["ci_high"]), float(r["p_value"]),
                    float(df), confidence)


def _vector(values, name: str) -> np.ndarray:
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values).ravel())
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.any():
        raise DataError.from_mask(None, name, "must be numeric", s.reset_index(drop=True),
                                  bad.reset_index(drop=True))
    return num.to_numpy(dtype="float64")


def _controls(controls, n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    if controls is None:
        return np.empty((n, 0)), ()
    if isinstance(controls, pd.Series):
        controls = controls.to_frame()
    if isinstance(controls, pd.DataFrame):
        parts = []
        for col in controls.columns:
            s = controls[col].reset_index(drop=True)
            if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
                parts.append(s.rename(col))
                continue
            dummies = pd.get_dummies(s, prefix=str(col), drop_first=True, dtype="float64")
            dummies.loc[s.isna().to_numpy()] = np.nan
            parts.append(dummies)
        frame = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=range(n))
        names = tuple(str(c) for c in frame.columns)
        matrix = np.column_stack([_vector(frame[c], str(c)) for c in frame.columns]) if names else np.empty((n, 0))
    else:
        matrix = np.asarray(controls, dtype="float64")
        matrix = matrix.reshape(len(matrix), -1) if matrix.ndim != 2 else matrix
        names = tuple(f"control_{i}" for i in range(matrix.shape[1]))
    if matrix.shape[0] != n:
        raise DataError(None, "controls", f"must have one row per observation ({n}), found {matrix.shape[0]}")
    clash = set(names) & set(TERMS)
    if clash:
        raise DataError(None, "controls", f"names {sorted(clash)} are reserved for the model's own terms")
    return matrix, names


def cluster_codes(clusters, n: int) -> np.ndarray | None:
    """Cluster labels as 0..G−1 codes (−1 = missing), or None for independent rows."""
    if clusters is None:
        return None
    codes, _ = pd.factorize(pd.Series(np.asarray(clusters).ravel()) if not isinstance(clusters, pd.Series)
                            else clusters.reset_index(drop=True))
    if len(codes) != n:
        raise DataError(None, "clusters", f"must have one label per observation ({n}), found {len(codes)}")
    return codes.astype("int64")


def _recode(codes: np.ndarray | None) -> tuple[np.ndarray | None, int | None]:
    """Codes of the clusters present as 0..G−1, and G. (Float copies of these go to statsmodels: numpy 2.4's
    ``np.unique`` of int64 is ~30× slower than of float64 on a million rows.)"""
    if codes is None:
        return None, None
    inverse, uniq = pd.factorize(codes)
    return inverse.astype("int64"), len(uniq)


def _resolve_cov_type(cov_type, clusters, default: str) -> str:
    if cov_type is None:
        return "cluster" if clusters is not None else default
    cov_type = _check_cov_type(cov_type, "cov_type")
    if cov_type == "cluster" and clusters is None:
        raise ParameterError("cov_type", cov_type, "needs clusters (who answered) for cluster-robust errors")
    return cov_type


def _is_binary(v: np.ndarray) -> bool:
    return bool(np.all((v == 0) | (v == 1)))


# --- OLS with robust covariance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OLSFit:
    """Coefficients, their covariance and the degrees of freedom used for t tests."""

    params: np.ndarray
    cov: np.ndarray
    df: float
    cov_type: str
    n: int
    n_clusters: int | None
    r2: float
    xtx_inv: np.ndarray = field(repr=False)
    tss: float = field(repr=False, default=math.nan)


def ols(y, X, clusters=None, cov_type: str | None = None) -> OLSFit:
    """OLS of ``y`` on the design ``X`` (with its constant) via statsmodels, with CR1 cluster-robust (``clusters``
    as 0..G−1 codes) or HC0–HC3 / classical covariance. t degrees of freedom: G−1 when clustered, else N−K."""
    cov_type = _resolve_cov_type(cov_type, clusters, "HC3")
    y = np.asarray(y, dtype="float64")
    X = np.asarray(X, dtype="float64")
    n, k = X.shape
    xtx = X.T @ X
    if np.linalg.matrix_rank(xtx) < k:
        raise DataError(None, None, "the model's variables are collinear (a control is constant or duplicates "
                        "another)")
    model = sm.OLS(y, X)
    n_clusters = None
    if cov_type == "cluster":
        codes, n_clusters = _recode(clusters)
        if n_clusters < 2:
            raise DataError(None, "clusters", "cluster-robust errors need at least 2 clusters")
        res = model.fit(cov_type="cluster", cov_kwds={"groups": codes.astype("float64")}, use_t=True)
        df = float(n_clusters - 1)
    else:
        res = model.fit(cov_type=cov_type, use_t=True) if cov_type != "nonrobust" else model.fit()
        df = float(n - k)
    if df < 1:
        raise DataError(None, None, f"too few observations ({n}) or clusters for {k} coefficients")
    cov = np.asarray(res.cov_params(), dtype="float64")
    tss = float(np.sum((y - y.mean()) ** 2))
    return OLSFit(np.asarray(res.params, dtype="float64"), cov, df, cov_type, n, n_clusters, float(res.rsquared),
                  np.linalg.inv(xtx), tss)


# --- the moderation model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    y: np.ndarray
    X: np.ndarray
    x: np.ndarray
    w: np.ndarray
    clusters: np.ndarray | None


@dataclass(frozen=True)
class Moderation:
    """A fitted moderation model. ``coefficients`` has one row per term (``const, x, w, x:w`` and the controls, on
    the centred scale when ``centered``); ``interaction`` is the x·w coefficient (log-odds for logit).

    ``r2_change`` is the R² lost by dropping x·w; ``f_change`` its F test on (1, df) degrees of freedom computed with
    the model's covariance (PROCESS' "R2-chng" test; the classical F with ``cov_type="nonrobust"``), NaN when
    clustered or for logit (whose ``r2`` is NaN too). ``w_mean``/``w_sd`` (n − 1)/``w_min``/``w_max`` describe the
    moderator in the rows used; ``df`` is the t tests' degrees of freedom (infinite = normal, for logit).
    """

    family: str
    terms: tuple[str, ...]
    params: np.ndarray = field(repr=False)
    cov: np.ndarray = field(repr=False)
    coefficients: pd.DataFrame = field(repr=False)
    interaction: Estimate
    df: float
    cov_type: str
    confidence: float
    n: int
    n_clusters: int | None
    centered: bool
    x_center: float
    w_center: float
    w_mean: float
    w_sd: float
    w_min: float
    w_max: float
    r2: float
    r2_change: float
    f_change: float
    f_change_p: float
    _data: _Data = field(repr=False, compare=False)


def _prepare(y, x, w, controls, clusters, center: bool):
    yv, xv, wv = _vector(y, "y"), _vector(x, "x"), _vector(w, "w")
    n = len(yv)
    if len(xv) != n or len(wv) != n:
        raise DataError(None, None, f"y, x and w must have the same length (found {n}, {len(xv)}, {len(wv)})")
    C, names = _controls(controls, n)
    codes = cluster_codes(clusters, n)
    keep = np.isfinite(yv) & np.isfinite(xv) & np.isfinite(wv) & np.isfinite(C).all(axis=1)
    if codes is not None:
        keep &= codes >= 0
    yv, xv, wv, C = yv[keep], xv[keep], wv[keep], C[keep]
    codes = codes[keep] if codes is not None else None
    for name, v in (("x", xv), ("w", wv)):
        if len(v) and np.ptp(v) == 0:
            raise DataError(None, name, "must vary (it is constant in the rows used)")
    cx, cw = (float(xv.mean()), float(wv.mean())) if center and len(yv) else (0.0, 0.0)
    xc, wc = xv - cx, wv - cw
    X = np.column_stack([np.ones(len(yv)), xc, wc, xc * wc, C])
    return yv, xv, wv, X, codes, (*TERMS, *names), cx, cw


def _coefficient_table(terms, params_, cov, df, confidence) -> pd.DataFrame:
    r = inference(params_, np.sqrt(np.diag(cov)), df, confidence)
    table = pd.DataFrame({"term": list(terms), **r})
    table["significant"] = table["p_value"] < 1 - confidence
    return table


def _moderation(family, terms, params_, cov, df, cov_type, confidence, n, n_clusters, center, cx, cw, data,
                r2=math.nan, r2_change=math.nan, f_change=math.nan, f_change_p=math.nan) -> Moderation:
    table = _coefficient_table(terms, params_, cov, df, confidence)
    w = data.w
    return Moderation(
        family, tuple(terms), params_, cov, table, _estimate(params_[3], math.sqrt(cov[3, 3]), df, confidence),
        df, cov_type, confidence, n, n_clusters, center, cx, cw, float(w.mean()), float(w.std(ddof=1)),
        float(w.min()), float(w.max()), r2, r2_change, f_change, f_change_p, data)


def fit(y, x, w, controls=None, clusters=None, *, center: bool = True, cov_type: str | None = None,
        confidence: float = 0.95) -> Moderation:
    """OLS moderation model (PROCESS model 1): y on x, w, x·w and ``controls``, rows with a missing value dropped.

    ``controls``: an array or a DataFrame (text columns become dummies); ``clusters``: one label per row (e.g. the
    customer) for CR1 cluster-robust errors. Reproduces R ``lm(y ~ x*w + c)`` with ``sandwich::vcovCL`` (tested on
    simulated clustered data) and the ``interactions`` vignette's states model (published coefficients and SEs).
    """
    confidence = params.confidence(confidence)
    yv, xv, wv, X, codes, terms, cx, cw = _prepare(y, x, w, controls, clusters, center)
    cov_type = _resolve_cov_type(cov_type, codes, "HC3")
    res = ols(yv, X, codes, cov_type)
    b3 = res.params[3]
    r2_change = float(b3 * b3 / (res.xtx_inv[3, 3] * res.tss)) if res.tss > 0 else math.nan
    if cov_type == "cluster":
        f_change = f_p = math.nan
    else:
        f_change = float(b3 * b3 / res.cov[3, 3])
        f_p = float(stats.f.sf(f_change, 1, res.df))
    data = _Data(yv, X, xv, wv, codes)
    return _moderation("linear", terms, res.params, res.cov, res.df, cov_type, confidence, res.n, res.n_clusters,
                       center, cx, cw, data, res.r2, r2_change, f_change, f_p)


def fit_logistic(y, x, w, controls=None, clusters=None, *, center: bool = True, cov_type: str | None = None,
                 confidence: float = 0.95) -> Moderation:
    """Logit moderation model for a 0/1 outcome (e.g. promoter): the interaction on the log-odds scale.

    Maximum-likelihood standard errors, or cluster-robust ones with ``clusters`` with the factor G/(G−1) only — as
    R ``sandwich::vcovCL`` does for a ``glm`` (type HC0 there) and Stata's ``logit, vce(cluster)``; statsmodels' extra
    (N−1)/(N−K) is removed. Normal-theory tests. Tested against R ``glm`` + ``vcovCL``.
    Use :func:`probability_interaction` for the interaction on the probability scale.
    """
    confidence = params.confidence(confidence)
    yv, xv, wv, X, codes, terms, cx, cw = _prepare(y, x, w, controls, clusters, center)
    if not _is_binary(yv):
        raise DataError(None, "y", "must be 0/1 for a logistic model")
    if yv.min() == yv.max():
        raise DataError(None, "y", "must contain both 0 and 1")
    cov_type = _resolve_cov_type(cov_type, codes, "nonrobust")
    if cov_type not in ("cluster", "nonrobust", "HC0"):
        raise ParameterError("cov_type", cov_type, "must be cluster, HC0 or nonrobust for a logistic model")
    params_, cov, n_clusters = _logit(yv, X, codes, cov_type)
    data = _Data(yv, X, xv, wv, codes)
    return _moderation("logistic", terms, params_, cov, math.inf, cov_type, confidence, len(yv), n_clusters,
                       center, cx, cw, data)


def _logit(y, X, codes, cov_type, start=None):
    if np.linalg.matrix_rank(X.T @ X) < X.shape[1]:
        raise DataError(None, None, "the model's variables are collinear (a control is constant or duplicates "
                        "another)")
    kwargs, n_clusters = {}, None
    if cov_type == "cluster":
        codes, n_clusters = _recode(codes)
        if n_clusters < 2:
            raise DataError(None, "clusters", "cluster-robust errors need at least 2 clusters")
        kwargs = {"cov_type": "cluster", "cov_kwds": {"groups": codes.astype("float64")}}
    elif cov_type == "HC0":
        kwargs = {"cov_type": "HC0"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            res = sm.Logit(y, X).fit(disp=0, maxiter=100, start_params=start, **kwargs)
        except np.linalg.LinAlgError:
            raise DataError(None, "y", "the logistic model cannot be fitted (perfect separation)") from None
    p = np.asarray(res.params, dtype="float64")
    if not res.mle_retvals.get("converged", True) or not np.all(np.isfinite(p)) or np.abs(p).max() > 1e3:
        raise DataError(None, "y", "the logistic model did not converge (perfect or quasi-complete separation)")
    cov = np.asarray(res.cov_params(), dtype="float64")
    if cov_type == "cluster":
        n, k = X.shape
        cov = cov * (n - k) / (n - 1)
    return p, cov, n_clusters


# --- simple slopes and Johnson–Neyman ----------------------------------------------------------------------


def moderator_values(model: Moderation, at="percentiles") -> tuple[np.ndarray, list[str]]:
    """Values of w to probe: ``"percentiles"`` (16th/50th/84th, PROCESS' default; numpy's linear rule = R type 7),
    ``"sd"`` (mean − 1 SD, mean, mean + 1 SD, the ``interactions`` default), or given values. A moderator with two
    values (e.g. 0/1) is probed at those two values for either keyword, as PROCESS does."""
    w = model._data.w
    if isinstance(at, str):
        at = at.lower()
        if at not in ("percentiles", "sd"):
            raise ParameterError("at", at, "must be 'percentiles', 'sd' or a list of moderator values")
        levels = np.unique(w)
        if len(levels) == 2:
            return levels.astype("float64"), [f"w={v:g}" for v in levels]
        if at == "percentiles":
            return np.percentile(w, PERCENTILES), [f"p{p:g}" for p in PERCENTILES]
        m, s = model.w_mean, model.w_sd
        return np.array([m - s, m, m + s]), ["mean-1sd", "mean", "mean+1sd"]
    values = np.atleast_1d(np.asarray(at, dtype="float64"))
    if not np.all(np.isfinite(values)):
        raise ParameterError("at", at, "must be finite moderator values")
    return values, [f"w={v:g}" for v in values]


def _slope_variance(model: Moderation, u):
    V = model.cov
    return V[1, 1] + 2 * u * V[1, 3] + u * u * V[3, 3]


def simple_slopes(model: Moderation, at="percentiles", confidence: float | None = None) -> pd.DataFrame:
    """The conditional effect of x (b_x + b_xw·(w − w̄)) at moderator values, with SE from the coefficient covariance
    (var b_x + 2u·cov + u²·var b_xw), interval and p. For logit models the slope is on the log-odds scale.

    Tested against refitting with w centred at each value (the slope becomes the x coefficient) in R and Python.
    """
    confidence = model.confidence if confidence is None else params.confidence(confidence)
    values, labels = moderator_values(model, at)
    u = values - model.w_center
    est = model.params[1] + model.params[3] * u
    se = np.sqrt(_slope_variance(model, u))
    r = inference(est, se, model.df, confidence)
    table = pd.DataFrame({"label": labels, "w_value": values, **r})
    table["significant"] = table["p_value"] < 1 - confidence
    return table


@dataclass(frozen=True)
class JohnsonNeyman:
    """Where the slope of x is significant. ``bounds``: the values of w (original scale) where its p-value equals
    1 − confidence (0, 1 or 2 of them); ``in_range``: whether each lies within the observed w; ``share_below``:
    share of rows with w below each bound (PROCESS' "% below"). ``regions`` partitions the real line at the bounds:
    ``low, high, significant, slope_sign`` (+1/−1 in significant regions, 0 elsewhere) and the part inside the
    observed range (``observed_low``, ``observed_high``, NaN when none) with the share of rows in it."""

    bounds: tuple[float, ...]
    in_range: tuple[bool, ...]
    share_below: tuple[float, ...]
    regions: pd.DataFrame
    w_min: float
    w_max: float
    critical_value: float
    confidence: float

    @property
    def significant_regions(self) -> pd.DataFrame:
        """The observed parts of the significant regions (intervals of w where the slope of x is significant)."""
        r = self.regions
        return r.loc[r["significant"] & r["observed_low"].notna(), ["observed_low", "observed_high", "slope_sign",
                                                                   "share_rows"]].reset_index(drop=True)


def _jn_roots(b1, b3, v11, v13, v33, t):
    a = b3 * b3 - t * t * v33
    b = 2 * (b1 * b3 - t * t * v13)
    c = b1 * b1 - t * t * v11
    scale = max(abs(a), abs(b), abs(c), 1e-300)
    if abs(a) <= 1e-12 * scale:
        return (-c / b,) if abs(b) > 1e-12 * scale else ()
    disc = b * b - 4 * a * c
    if disc < 0:
        return ()
    sq = math.sqrt(disc)
    q = -0.5 * (b + math.copysign(sq, b))
    roots = sorted({q / a, c / q} if q != 0 else {0.0})
    return tuple(roots)


def johnson_neyman(model: Moderation, confidence: float | None = None) -> JohnsonNeyman:
    """Johnson–Neyman points: solve (b_x + b_xw·u)² = t²·var(u) for u = w − w̄ (a quadratic), with t the model's
    critical value (t on the model's df, as ``interactions::johnson_neyman(df = "residual")``; normal for logit).

    Tested against a fine grid search for where the simple slope's p-value crosses 1 − confidence and R ``uniroot``.
    """
    confidence = model.confidence if confidence is None else params.confidence(confidence)
    t = critical_value(confidence, model.df)
    b, V = model.params, model.cov
    roots_u = _jn_roots(b[1], b[3], V[1, 1], V[1, 3], V[3, 3], t)
    bounds = tuple(float(r + model.w_center) for r in roots_u)
    w = np.sort(model._data.w)
    n = len(w)
    edges = [-math.inf, *bounds, math.inf]
    rows = []
    for low, high in zip(edges[:-1], edges[1:]):
        if math.isinf(low) and math.isinf(high):
            probe = model.w_mean
        elif math.isinf(low):
            probe = high - max(1.0, abs(high))
        elif math.isinf(high):
            probe = low + max(1.0, abs(low))
        else:
            probe = (low + high) / 2
        u = probe - model.w_center
        slope = b[1] + b[3] * u
        sig = bool(slope * slope > t * t * _slope_variance(model, u))
        o_low, o_high = max(low, model.w_min), min(high, model.w_max)
        inside = o_low <= o_high
        share = (np.searchsorted(w, high, "left") - np.searchsorted(w, low, "left")) / n
        rows.append({"low": low, "high": high, "significant": sig, "slope_sign": int(np.sign(slope)) if sig else 0,
                     "observed_low": o_low if inside else math.nan, "observed_high": o_high if inside else math.nan,
                     "share_rows": float(share)})
    regions = pd.DataFrame(rows)
    in_range = tuple(bool(model.w_min <= v <= model.w_max) for v in bounds)
    share_below = tuple(float(np.searchsorted(w, v, "left") / n) for v in bounds)
    return JohnsonNeyman(bounds, in_range, share_below, regions, model.w_min, model.w_max, t, confidence)


# --- the interaction on the probability scale -----------------------------------------------------------------


@dataclass(frozen=True)
class ProbabilityInteraction:
    """The x·w interaction of a logit model on the probability scale, averaged over the rows used.

    ``method``: ``"discrete"`` — the double difference P(1,1) − P(1,0) − P(0,1) + P(0,0) for 0/1 x and w;
    ``"cross_partial"`` — Ai & Norton's (2003) ∂²P/∂x∂w for continuous x and w (per unit of x per unit of w); the mixed
    cases use the difference over the 0/1 variable of the derivative in the other. ``ci_method``: ``"delta"`` or
    ``"bootstrap"`` (cluster bootstrap, percentile interval; p from the bootstrap SE)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    ci_method: str
    confidence: float
    n_boot: int = 0


def _interaction_function(model: Moderation, method: str):
    X = model._data.X
    cx, cw = model.x_center, model.w_center
    xc, wc = X[:, 1], X[:, 2]
    rest = [0, *range(4, X.shape[1])]
    Z = X[:, rest]

    def value(beta: np.ndarray) -> float:
        base = Z @ beta[rest]
        b1, b2, b3 = beta[1], beta[2], beta[3]

        def eta(xv, wv):
            return base + b1 * xv + b2 * wv + b3 * xv * wv

        if method == "discrete":
            x1, x0, w1, w0 = 1 - cx, -cx, 1 - cw, -cw
            return float(np.mean(special.expit(eta(x1, w1)) - special.expit(eta(x1, w0))
                                 - special.expit(eta(x0, w1)) + special.expit(eta(x0, w0))))
        if method == "x_binary":
            total = 0.0
            for xv, sign in ((1 - cx, 1), (-cx, -1)):
                p = special.expit(eta(xv, wc))
                total = total + sign * p * (1 - p) * (b2 + b3 * xv)
            return float(np.mean(total))
        if method == "w_binary":
            total = 0.0
            for wv, sign in ((1 - cw, 1), (-cw, -1)):
                p = special.expit(eta(xc, wv))
                total = total + sign * p * (1 - p) * (b1 + b3 * wv)
            return float(np.mean(total))
        p = special.expit(eta(xc, wc))
        u = p * (1 - p)
        return float(np.mean(b3 * u + (b1 + b3 * wc) * (b2 + b3 * xc) * u * (1 - 2 * p)))

    return value


def _numeric_gradient(f, beta: np.ndarray) -> np.ndarray:
    grad = np.empty_like(beta)
    for j in range(len(beta)):
        h = 1e-5 * max(1.0, abs(beta[j]))
        up, down = beta.copy(), beta.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (f(up) - f(down)) / (2 * h)
    return grad


def _cluster_bootstrap_rows(codes: np.ndarray | None, n: int, rng: np.random.Generator) -> np.ndarray:
    if codes is None:
        return rng.integers(0, n, n)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = rng.integers(0, len(counts), len(counts))
    sizes = counts[pick]
    offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return order[np.repeat(starts[pick], sizes) + offsets]


def probability_interaction(model: Moderation, *, method: str = "auto", ci_method: str = "delta",
                            n_boot: int = 999, seed: int | None = 0,
                            confidence: float | None = None) -> ProbabilityInteraction:
    """Average interaction effect on the probability scale for a :func:`fit_logistic` model (Ai & Norton 2003).

    The log-odds coefficient of x·w is not the interaction in probabilities: even with b_xw = 0 the effect of x on
    P varies with w. ``method="auto"`` picks the discrete double difference when x and w are both 0/1, the
    cross-partial when both are continuous, and the mixed form otherwise. ``ci_method="delta"`` uses the gradient
    (central differences, as statsmodels' margins do) and the model's covariance (clustered if the model is) —
    covariates treated as fixed; ``"bootstrap"`` resamples clusters (or rows) ``n_boot`` times and refits.
    Tested against finite differences of predicted probabilities and R ``glm`` + numDeriv.
    """
    if model.family != "logistic":
        raise ParameterError("model", model.family, "must be a logistic moderation model (fit_logistic)")
    confidence = model.confidence if confidence is None else params.confidence(confidence)
    method = params.choice("auto", "discrete", "cross_partial", "mixed")(method, "method")
    ci_method = params.choice("delta", "bootstrap")(ci_method, "ci_method")
    data = model._data
    xb, wb = _is_binary(data.x), _is_binary(data.w)
    if method == "auto":
        method = "discrete" if xb and wb else "cross_partial" if not (xb or wb) else "mixed"
    if method == "discrete" and not (xb and wb):
        raise ParameterError("method", method, "needs x and w both coded 0/1")
    if method == "mixed" and xb == wb:
        raise ParameterError("method", method, "needs exactly one of x and w coded 0/1")
    kind = "x_binary" if method == "mixed" and xb else "w_binary" if method == "mixed" else method
    f = _interaction_function(model, kind)
    est = f(model.params)
    if ci_method == "delta":
        g = _numeric_gradient(f, model.params)
        se = float(math.sqrt(max(g @ model.cov @ g, 0.0)))
        r = inference(est, se, math.inf, confidence)
        return ProbabilityInteraction(est, se, float(r["ci_low"]), float(r["ci_high"]), float(r["p_value"]),
                                      method, ci_method, confidence)
    n_boot = params.whole(20)(n_boot, "n_boot")
    rng = np.random.default_rng(seed)
    draws = np.full(n_boot, np.nan)
    for b in range(n_boot):
        rows = _cluster_bootstrap_rows(data.clusters, len(data.y), rng)
        sub = _Data(data.y[rows], data.X[rows], data.x[rows], data.w[rows], None)
        try:
            beta, _, _ = _logit(sub.y, sub.X, None, "nonrobust", start=model.params)
        except DataError:
            continue
        draws[b] = _interaction_function(_with_data(model, sub), kind)(beta)
    draws = draws[np.isfinite(draws)]
    se = float(draws.std(ddof=1))
    lo, hi = np.percentile(draws, [50 * (1 - confidence), 50 * (1 + confidence)])
    p = float(2 * stats.norm.sf(abs(est) / se)) if se > 0 else math.nan
    return ProbabilityInteraction(est, se, float(lo), float(hi), p, method, ci_method, confidence, len(draws))


def _with_data(model: Moderation, data: _Data) -> Moderation:
    return replace(model, _data=data)


# --- the 2×2 cut --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Synergy:
    """The 2×2 cut of x (firm) and w (customer) at thresholds ("high" = above the threshold; 0/1 used as is).

    ``cells``: one row per cell in :data:`CELLS` order — ``cell, x_high, w_high, estimate`` (the cell mean), ``se,
    ci_low, ci_high, n`` (rows) and ``n_clusters`` (distinct clusters; = n without clusters). ``contrasts``: firm
    only − neither, customer only − neither, both − neither and the synergy both − firm − customer + neither, with
    ``estimate, se, ci_low, ci_high, p_value, significant``; ``synergy`` is the last as an :class:`Estimate`."""

    cells: pd.DataFrame
    contrasts: pd.DataFrame
    synergy: Estimate
    x_threshold: float
    w_threshold: float
    cov_type: str
    df: float
    confidence: float


def _threshold(v: np.ndarray, threshold, name: str) -> tuple[np.ndarray, float]:
    if threshold is None:
        if _is_binary(v):
            return v == 1, 0.5
        threshold = float(np.median(v))
    elif isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not math.isfinite(threshold):
        raise ParameterError(f"{name}_threshold", threshold, "must be a number (or None for the median)")
    return v > threshold, float(threshold)


def synergy_2x2(y, x, w, clusters=None, *, x_threshold: float | None = None, w_threshold: float | None = None,
                cov_type: str | None = None, confidence: float = 0.95) -> Synergy:
    """Cell means of y in the 2×2 cut of x and w and the synergy contrast both − firm − customer + neither.

    A saturated OLS of y on the four cell dummies (no intercept) gives the cell means; its CR1 cluster-robust
    covariance (or HC2 without clusters — per-cell variance s²/n, Welch's) gives every contrast's SE. t on G−1
    (clustered) or N−4 degrees of freedom. Tested against R ``lm(y ~ 0 + cell)`` + ``sandwich::vcovCL``.
    """
    confidence = params.confidence(confidence)
    yv, xv, wv = _vector(y, "y"), _vector(x, "x"), _vector(w, "w")
    codes = cluster_codes(clusters, len(yv))
    keep = np.isfinite(yv) & np.isfinite(xv) & np.isfinite(wv)
    if codes is not None:
        keep &= codes >= 0
        codes = codes[keep]
    yv, xv, wv = yv[keep], xv[keep], wv[keep]
    xh, xt = _threshold(xv, x_threshold, "x")
    wh, wt = _threshold(wv, w_threshold, "w")
    cell = xh.astype("int64") + 2 * wh.astype("int64")
    n_rows = np.bincount(cell, minlength=4)
    if (n_rows == 0).any():
        empty = [CELLS[i] for i in np.flatnonzero(n_rows == 0)]
        raise DataError(None, None, f"the 2×2 cut leaves empty cells ({', '.join(empty)}); choose other thresholds")
    cov_type = _resolve_cov_type(cov_type, codes, "HC2")
    X = np.zeros((len(yv), 4))
    X[np.arange(len(yv)), cell] = 1.0
    res = ols(yv, X, codes, cov_type)
    if codes is None:
        n_cl = n_rows
    else:
        pairs = pd.unique(cell * (int(codes.max()) + 1) + codes)
        n_cl = np.bincount(pairs // (int(codes.max()) + 1), minlength=4)
    r = inference(res.params, np.sqrt(np.diag(res.cov)), res.df, confidence)
    cells = pd.DataFrame({"cell": list(CELLS), "x_high": [False, True, False, True],
                          "w_high": [False, False, True, True],
                          **{k: r[k] for k in ("estimate", "se", "ci_low", "ci_high")},
                          "n": n_rows, "n_clusters": n_cl})
    L = np.array([[-1, 1, 0, 0], [-1, 0, 1, 0], [-1, 0, 0, 1], [1, -1, -1, 1]], dtype="float64")
    est = L @ res.params
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, res.cov, L))
    c = inference(est, se, res.df, confidence)
    contrasts = pd.DataFrame({"contrast": ["firm_only - neither", "customer_only - neither", "both - neither",
                                           "synergy"], **{k: c[k] for k in ("estimate", "se", "ci_low", "ci_high",
                                                                            "p_value")}})
    contrasts["significant"] = contrasts["p_value"] < 1 - confidence
    return Synergy(cells, contrasts, _estimate(est[3], se[3], res.df, confidence), xt, wt, cov_type, res.df,
                   confidence)


# --- response surface ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseSurface:
    """Predicted y (probability for logit) over a grid: ``predicted[i, j]`` at w = ``w_grid[i]``, x = ``x_grid[j]``,
    controls at their means. ``n_clusters``/``n_rows`` count what lies in each grid point's neighbourhood (the
    rectangle halfway to the adjacent grid points); ``mask`` is True where fewer than ``min_cell`` clusters do —
    the prediction there is an extrapolation and identifies few customers."""

    x_grid: np.ndarray
    w_grid: np.ndarray
    predicted: np.ndarray
    n_clusters: np.ndarray
    n_rows: np.ndarray
    mask: np.ndarray
    min_cell: int


def _edges(grid: np.ndarray) -> np.ndarray:
    if len(grid) == 1:
        return np.array([-np.inf, np.inf])
    mid = (grid[1:] + grid[:-1]) / 2
    return np.concatenate([[grid[0] - (mid[0] - grid[0])], mid, [grid[-1] + (grid[-1] - mid[-1])]])


def _grid(values, data: np.ndarray, n_grid: int, name: str) -> np.ndarray:
    if values is None:
        return np.linspace(data.min(), data.max(), n_grid)
    grid = np.sort(np.atleast_1d(np.asarray(values, dtype="float64")))
    if not len(grid) or not np.all(np.isfinite(grid)) or len(np.unique(grid)) != len(grid):
        raise ParameterError(name, values, "must be distinct finite values")
    return grid


def response_surface(model: Moderation, *, n_grid: int = 25, x_grid: Sequence[float] | None = None,
                     w_grid: Sequence[float] | None = None,
                     min_cell: int = privacy.DEFAULT_MIN_CELL) -> ResponseSurface:
    """Predictions of the fitted model over an (x, w) grid (default: ``n_grid`` points spanning each observed range)
    with a mask where fewer than ``min_cell`` distinct clusters (rows, without clusters) lie near the grid point.
    For a 0/1 variable pass its grid (``x_grid=[0, 1]``). Tested against brute-force counts and predictions."""
    n_grid = params.whole(2)(n_grid, "n_grid")
    min_cell = params.min_cell(min_cell)
    data = model._data
    xg = _grid(x_grid, data.x, n_grid, "x_grid")
    wg = _grid(w_grid, data.w, n_grid, "w_grid")
    b = model.params
    base = b[0] + (data.X[:, 4:].mean(axis=0) @ b[4:] if data.X.shape[1] > 4 else 0.0)
    U, W = np.meshgrid(xg - model.x_center, wg - model.w_center)
    eta = base + b[1] * U + b[2] * W + b[3] * U * W
    predicted = special.expit(eta) if model.family == "logistic" else eta
    ix = np.searchsorted(_edges(xg), data.x, "right") - 1
    iw = np.searchsorted(_edges(wg), data.w, "right") - 1
    inside = (ix >= 0) & (ix < len(xg)) & (iw >= 0) & (iw < len(wg))
    key = iw[inside] * len(xg) + ix[inside]
    size = len(xg) * len(wg)
    n_rows = np.bincount(key, minlength=size)
    if data.clusters is None:
        n_cl = n_rows
    else:
        width = int(data.clusters.max()) + 1
        pairs = pd.unique(key * width + data.clusters[inside])
        n_cl = np.bincount(pairs // width, minlength=size)
    shape = (len(wg), len(xg))
    n_cl, n_rows = n_cl.reshape(shape), n_rows.reshape(shape)
    return ResponseSurface(xg, wg, predicted, n_cl, n_rows, n_cl < min_cell, min_cell)
