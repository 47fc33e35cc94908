"""Factor structure of a multi-item scale: sampling adequacy, number of factors, EFA, CFA and measurement invariance.

Everything runs from sufficient statistics (:class:`SampleMoments`: covariance matrix, means, n), so a million
respondents cost one covariance computation. Results are frozen dataclasses and DataFrames (no text, no I/O).

Reference implementations the tests compare against: psych 2.2.9 (``KMO``, ``cortest.bartlett``, ``fa``,
``fa.parallel``) and lavaan 0.6-14 (``cfa``, ``group=``, ``group.equal=``) on ``HolzingerSwineford1939``.
"""
from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats
from threadpoolctl import ThreadpoolController

from loyaltylab import params
from loyaltylab.errors import DataError, ParameterError

__all__ = [
    "SampleMoments", "KMOResult", "kmo", "BartlettResult", "bartlett_sphericity", "ParallelAnalysisResult",
    "parallel_analysis", "EFAResult", "efa", "FitMeasures", "CFAResult", "cfa", "MultiGroupCFAResult",
    "multigroup_cfa", "InvarianceResult", "measurement_invariance", "INVARIANCE_LEVELS", "ROTATIONS",
]

ROTATIONS = ("varimax", "oblimin", "promax", "none")
INVARIANCE_LEVELS = ("configural", "metric", "scalar")
"""configural: same pattern, all parameters free per group; metric: loadings equal; scalar: loadings and item
intercepts equal (factor means free in every group but the first)."""


def _one_blas_thread(func):
    """Run with one BLAS thread: these are small matrices and thin products that threads do not speed up, and
    OpenBLAS threads spinning on a busy machine made them 10–50× slower (measured on 2 shared cores)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _threadpools().limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)
    return wrapper


@functools.cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


# ------------------------------------------------------------------------------------------------ sample moments
@dataclass(frozen=True)
class SampleMoments:
    """Sufficient statistics of a set of items: unbiased covariance (divisor n − 1), item means and n.

    Build it once from a large frame (:meth:`from_frame`) or from published numbers (a covariance matrix and n)
    and pass it to every function here instead of the data.
    """

    cov: pd.DataFrame
    n: int
    mean: pd.Series | None = None

    @classmethod
    @_one_blas_thread
    def from_frame(cls, frame: pd.DataFrame, items: Sequence[str] | None = None, *,
                   missing: str = "listwise") -> SampleMoments:
        """Moments of ``items`` (default: every column). ``missing='listwise'`` (lavaan's default) drops rows with
        any missing item and n counts the rows kept; ``'pairwise'`` (psych's default) uses every available pair,
        each mean over the rows that answered the item, and n counts all rows, as ``psych::alpha`` does."""
        missing = params.choice("listwise", "pairwise")(missing, "missing")
        items = list(frame.columns if items is None else items)
        absent = [c for c in items if c not in frame.columns]
        if absent:
            raise DataError(None, absent[0], "is not a column of the data")
        block = frame[items]
        non_numeric = [c for c in items if not pd.api.types.is_numeric_dtype(block[c])]
        if non_numeric:
            raise DataError(None, non_numeric[0], "must be numeric (item scores)")
        x = block.to_numpy(dtype=float)
        observed = np.isfinite(x)
        complete = observed.all(axis=1)
        if missing == "listwise" or complete.all():
            if not complete.all():
                x = x[complete]
            n = x.shape[0]
            if n < 2:
                raise DataError(None, None, f"needs at least 2 complete rows over {len(items)} items, has {n}")
            mean = x.mean(axis=0)
            cov = _crossprod(x, shift=mean) / (n - 1)
            if missing == "pairwise":
                n = len(frame)
        else:
            counts = observed.sum(axis=0)
            if (counts < 2).any():
                raise DataError(None, items[int(np.argmin(counts))], "has fewer than 2 answers")
            mean = np.nansum(x, axis=0) / counts
            mask = observed.astype(float)
            pair_n = _crossprod(mask)
            if (pair_n < 2).any():
                i, j = np.argwhere(pair_n < 2)[0]
                raise DataError(None, items[i], f"and '{items[j]}' are answered together by fewer than 2 rows")
            x0 = np.where(observed, x - mean, 0.0)
            sums = _crossprod(x0, mask)
            cov = (_crossprod(x0) - sums * sums.T / pair_n) / (pair_n - 1)
            n = len(frame)
        return cls(pd.DataFrame(cov, index=items, columns=items), int(n), pd.Series(mean, index=items))

    @classmethod
    def from_cov(cls, cov, n: int, mean=None) -> SampleMoments:
        """Moments from a covariance matrix (DataFrame, or array named x1..xp) with divisor n − 1, and n."""
        cov = _as_frame(cov, "cov")
        n = params.whole(2)(n, "n")
        if mean is not None:
            mean = pd.Series(np.asarray(mean, dtype=float), index=cov.index)
        return cls(cov, n, mean)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(self.cov.columns)

    def corr(self) -> pd.DataFrame:
        """The correlation matrix."""
        sd = np.sqrt(np.diag(self.cov.to_numpy()))
        return pd.DataFrame(self.cov.to_numpy() / np.outer(sd, sd), index=self.cov.index, columns=self.cov.columns)

    def subset(self, items: Sequence[str]) -> SampleMoments:
        """The moments of some of the items."""
        items = list(items)
        absent = [c for c in items if c not in self.cov.columns]
        if absent:
            raise DataError(None, absent[0], "is not one of the items")
        mean = None if self.mean is None else self.mean[items]
        return SampleMoments(self.cov.loc[items, items], self.n, mean)


def _crossprod(a: np.ndarray, b: np.ndarray | None = None, shift: np.ndarray | None = None,
               chunk: int = 65_536) -> np.ndarray:
    """(a − shift)'(a − shift), or a'b, in row blocks: no centred copy of a million-row matrix."""
    out = np.zeros((a.shape[1], (a if b is None else b).shape[1]))
    for start in range(0, a.shape[0], chunk):
        left = a[start:start + chunk]
        if shift is not None:
            left = left - shift
        right = left if b is None else b[start:start + chunk]
        out += left.T @ right
    return out


def _as_frame(matrix, name: str) -> pd.DataFrame:
    if isinstance(matrix, SampleMoments):
        matrix = matrix.cov
    if isinstance(matrix, pd.DataFrame):
        frame = matrix.astype(float)
        if list(frame.index) != list(frame.columns):
            frame = frame.set_axis(frame.columns, axis=0)
    else:
        values = np.asarray(matrix, dtype=float)
        if values.ndim != 2 or values.shape[0] != values.shape[1]:
            raise ParameterError(name, f"array of shape {values.shape}", "must be a square matrix")
        labels = [f"x{i + 1}" for i in range(values.shape[1])]
        frame = pd.DataFrame(values, index=labels, columns=labels)
    values = frame.to_numpy()
    if values.shape[0] != values.shape[1] or values.shape[0] < 2:
        raise ParameterError(name, f"{values.shape[0]}×{values.shape[1]}", "must be a square matrix of ≥ 2 items")
    if not np.isfinite(values).all():
        raise DataError(None, None, f"the {name} matrix has missing or infinite entries")
    if not np.allclose(values, values.T, rtol=1e-8, atol=1e-10 * np.abs(values).max()):
        raise DataError(None, None, f"the {name} matrix is not symmetric")
    sd = np.sqrt(np.diag(values))
    if not (sd > 0).all():
        raise DataError(None, str(frame.columns[int(np.argmin(sd))]), "has no variance")
    return frame


def _corr(matrix, name: str = "corr") -> pd.DataFrame:
    """A correlation matrix from a covariance or correlation matrix (or SampleMoments)."""
    frame = _as_frame(matrix, name)
    values = frame.to_numpy()
    sd = np.sqrt(np.diag(values))
    r = values / np.outer(sd, sd)
    np.fill_diagonal(r, 1.0)
    if np.linalg.eigvalsh(r)[0] <= 1e-12:
        raise DataError(None, None, "the items' correlation matrix is singular (an item is a linear combination "
                        "of others, or there are fewer respondents than items)")
    return pd.DataFrame(r, index=frame.columns, columns=frame.columns)


def _n(moments_or_matrix, n) -> int:
    if n is None and isinstance(moments_or_matrix, SampleMoments):
        return moments_or_matrix.n
    return params.whole(2)(n, "n")


# ---------------------------------------------------------------------------------------------------- adequacy
@dataclass(frozen=True)
class KMOResult:
    """Kaiser–Meyer–Olkin measure of sampling adequacy, overall and per item (MSA)."""

    overall: float
    per_item: pd.Series


def kmo(corr) -> KMOResult:
    """KMO from a correlation (or covariance) matrix: Σr² / (Σr² + Σq²) over off-diagonal correlations r and
    partial correlations q (from the inverse correlation matrix). Tested against ``psych::KMO``."""
    r = _corr(corr)
    values = r.to_numpy()
    inv = np.linalg.inv(values)
    d = np.sqrt(np.diag(inv))
    q = -inv / np.outer(d, d)
    r2 = values**2
    q2 = q**2
    np.fill_diagonal(r2, 0.0)
    np.fill_diagonal(q2, 0.0)
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMOResult(float(r2.sum() / (r2.sum() + q2.sum())), pd.Series(per_item, index=r.columns, name="msa"))


@dataclass(frozen=True)
class BartlettResult:
    """Bartlett's test that the correlation matrix is the identity (no common variance to factor)."""

    statistic: float
    df: int
    p_value: float
    n: int


def bartlett_sphericity(corr, n: int | None = None) -> BartlettResult:
    """χ² = −(n − 1 − (2p + 5)/6)·log|R| on p(p − 1)/2 df. Tested against ``psych::cortest.bartlett(R, n)``."""
    r = _corr(corr).to_numpy()
    n = _n(corr, n)
    p = r.shape[0]
    logdet = np.linalg.slogdet(r)[1]
    statistic = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    return BartlettResult(float(statistic), df, float(stats.chi2.sf(statistic, df)), n)


# ------------------------------------------------------------------------------------------- parallel analysis
@dataclass(frozen=True)
class ParallelAnalysisResult:
    """Observed eigenvalues against eigenvalues of random normal data of the same n × p.

    ``eigenvalues`` (index 1..p): ``observed_pc`` (correlation matrix), ``random_pc_mean``, ``random_pc_quantile``,
    and the same three for ``fa`` (reduced correlation matrix: squared multiple correlations on the diagonal).
    ``n_components`` / ``n_factors``: how many leading observed eigenvalues exceed the random quantile.
    """

    eigenvalues: pd.DataFrame
    n_components: int
    n_factors: int
    n: int
    n_sim: int
    quantile: float
    seed: int


def _leading_run(flags: np.ndarray) -> int:
    failed = np.flatnonzero(~flags)
    return int(failed[0]) if failed.size else int(flags.size)


def _reduced_eigenvalues(r: np.ndarray) -> np.ndarray:
    """Eigenvalues (descending) of correlation matrices with squared multiple correlations on the diagonal."""
    smc = 1.0 - 1.0 / np.diagonal(np.linalg.inv(r), axis1=-2, axis2=-1)
    reduced = r.copy()
    idx = np.arange(r.shape[-1])
    reduced[..., idx, idx] = smc
    return np.linalg.eigvalsh(reduced)[..., ::-1]


def parallel_analysis(corr, n: int | None = None, *, n_sim: int = 500, quantile: float = 0.95,
                      seed: int = 0) -> ParallelAnalysisResult:
    """Horn's parallel analysis, deterministic given ``seed``.

    Random correlation matrices are drawn exactly, not approximately, for any n: the cross-product matrix of n
    independent standard normal rows (centred) is Wishart(n − 1, I), drawn through Bartlett's decomposition at
    O(p²) per replicate, so n = 1,000,000 costs the same as n = 300 and no row cap is needed. Retained: the
    leading eigenvalues above the ``quantile`` of the random ones (psych ``fa.parallel`` counts the same leading
    run; its default compares with the mean — the ``random_*_mean`` columns). FA-style eigenvalues use squared
    multiple correlations as communalities (Humphreys–Ilgen), where psych uses a one-factor minres fit.
    """
    r = _corr(corr).to_numpy()
    n = _n(corr, n)
    n_sim = params.whole(10)(n_sim, "n_sim")
    quantile = params.confidence(quantile, "quantile")
    p = r.shape[0]
    if n <= p:
        raise DataError(None, None, f"parallel analysis needs more respondents ({n}) than items ({p})")
    rng = np.random.default_rng(seed)
    a = np.zeros((n_sim, p, p))
    rows, cols = np.tril_indices(p, -1)
    a[:, rows, cols] = rng.standard_normal((n_sim, rows.size))
    idx = np.arange(p)
    a[:, idx, idx] = np.sqrt(rng.chisquare(n - 1 - idx, size=(n_sim, p)))
    w = a @ np.swapaxes(a, 1, 2)
    sd = np.sqrt(np.diagonal(w, axis1=1, axis2=2))
    sim_r = w / (sd[:, :, None] * sd[:, None, :])
    sim_r[:, idx, idx] = 1.0
    sim_pc = np.linalg.eigvalsh(sim_r)[:, ::-1]
    sim_fa = _reduced_eigenvalues(sim_r)
    obs_pc = np.linalg.eigvalsh(r)[::-1]
    obs_fa = _reduced_eigenvalues(r)
    table = pd.DataFrame({
        "observed_pc": obs_pc, "random_pc_mean": sim_pc.mean(axis=0),
        "random_pc_quantile": np.quantile(sim_pc, quantile, axis=0),
        "observed_fa": obs_fa, "random_fa_mean": sim_fa.mean(axis=0),
        "random_fa_quantile": np.quantile(sim_fa, quantile, axis=0),
    }, index=pd.RangeIndex(1, p + 1, name="factor"))
    return ParallelAnalysisResult(
        table, _leading_run(obs_pc > table["random_pc_quantile"].to_numpy()),
        _leading_run(obs_fa > table["random_fa_quantile"].to_numpy()), n, n_sim, quantile, seed,
    )


# ------------------------------------------------------------------------------------------------------- EFA
@dataclass(frozen=True)
class EFAResult:
    """Exploratory factor solution (standardised: from the correlation matrix).

    ``loadings`` items × factors (pattern matrix when oblique), ``factor_correlations`` (identity when
    orthogonal), ``variance``: per factor ``ss_loadings`` (for oblique rotations the variance each factor accounts
    for, diag(ΦΛ'Λ), as psych reports), ``proportion`` and ``cumulative``. ``chi2``/``df``/``p_value``: the ML
    likelihood-ratio test of k factors with Bartlett's correction, as ``psych::fa`` (NaN for principal axis).
    """

    loadings: pd.DataFrame
    communalities: pd.Series
    uniquenesses: pd.Series
    factor_correlations: pd.DataFrame
    variance: pd.DataFrame
    method: str
    rotation: str
    n: int | None
    chi2: float
    df: int
    p_value: float


def _varimax_kaiser(loadings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from statsmodels.multivariate.factor_rotation import rotate_factors

    h = np.sqrt((loadings**2).sum(axis=1))
    rotated, t = rotate_factors(loadings / h[:, None], "varimax")
    return rotated * h[:, None], t


def _promax(loadings: np.ndarray, power: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Hendrickson–White promax as ``psych::fa(rotate="promax")``: rows Kaiser-normalised, varimax, target
    x·|x|³, rows rescaled (``psych::kaiser(f, "Promax")``); returns the pattern and the factor correlations."""
    h = np.sqrt((loadings**2).sum(axis=1))
    x, t = _varimax_kaiser(loadings / h[:, None])
    target = x * np.abs(x) ** (power - 1)
    u = np.linalg.lstsq(x, target, rcond=None)[0]
    u = u * np.sqrt(np.diag(np.linalg.inv(u.T @ u)))[None, :]
    ui = np.linalg.inv(t @ u)
    return (x @ u) * h[:, None], ui @ ui.T


@_one_blas_thread
def efa(corr, n_factors: int, *, n: int | None = None, method: str = "ml", rotation: str = "varimax",
        seed: int = 0) -> EFAResult:
    """EFA with ``statsmodels.multivariate.factor.Factor`` (``method`` 'ml' or 'pa') and a psych-style rotation.

    Rotations follow ``psych::fa``: 'varimax' with Kaiser normalisation (``stats::varimax``), 'oblimin'
    (quartimin, unnormalised, as GPArotation), 'promax' (power 4, Kaiser-normalised as psych),
    'none'. Columns are signed to a positive sum and ordered by the variance they account for, as psych does.
    Tested against ``psych::fa(HolzingerSwineford1939[x1..x9], 3, fm=, rotate=)``; 'pa' differs from psych by up
    to ~0.005 because psych stops its iterations earlier (communality change < 0.001).
    """
    from statsmodels.multivariate.factor import Factor

    r = _corr(corr)
    names = list(r.columns)
    p = len(names)
    n = n if n is not None else (corr.n if isinstance(corr, SampleMoments) else None)
    if n is not None:
        n = params.whole(2)(n, "n")
    n_factors = params.whole(1, p - 1)(n_factors, "n_factors")
    method = params.choice("ml", "pa")(method, "method")
    rotation = params.choice(*ROTATIONS)(rotation, "rotation")
    model = Factor(corr=r.to_numpy(), n_factor=n_factors, method=method, nobs=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = model.fit(rng=seed, opt={"gtol": 1e-10, "maxiter": 5000}) if method == "ml" else model.fit()
    unrotated = np.asarray(fitted.loadings, dtype=float)
    communality = (unrotated**2).sum(axis=1)
    phi = np.eye(n_factors)
    if n_factors == 1 or rotation == "none":
        loadings = unrotated
    elif rotation == "varimax":
        loadings = _varimax_kaiser(unrotated)[0]
    elif rotation == "oblimin":
        from statsmodels.multivariate.factor_rotation import rotate_factors

        loadings, t = rotate_factors(unrotated, "quartimin")
        phi = t.T @ t
    else:
        loadings, phi = _promax(unrotated)
    signs = np.sign(loadings.sum(axis=0))
    signs[signs == 0] = 1
    loadings = loadings * signs
    phi = phi * np.outer(signs, signs)
    accounted = np.diag(phi @ loadings.T @ loadings)
    order = np.argsort(-accounted, kind="stable")
    loadings, phi, accounted = loadings[:, order], phi[np.ix_(order, order)], accounted[order]
    labels = [f"F{i + 1}" for i in range(n_factors)]
    uniq = 1.0 - communality
    chi2 = math.nan
    df = ((p - n_factors) ** 2 - (p + n_factors)) // 2
    p_value = math.nan
    if method == "ml" and n is not None:
        implied = unrotated @ unrotated.T + np.diag(uniq)
        f_ml = (np.linalg.slogdet(implied)[1] - np.linalg.slogdet(r.to_numpy())[1]
                + np.trace(np.linalg.solve(implied, r.to_numpy())) - p)
        chi2 = float((n - 1 - (2 * p + 5) / 6 - 2 * n_factors / 3) * f_ml)
        p_value = float(stats.chi2.sf(chi2, df)) if df > 0 else math.nan
    variance = pd.DataFrame({"ss_loadings": accounted, "proportion": accounted / p,
                             "cumulative": np.cumsum(accounted) / p}, index=labels)
    return EFAResult(
        pd.DataFrame(loadings, index=names, columns=labels), pd.Series(communality, index=names, name="communality"),
        pd.Series(uniq, index=names, name="uniqueness"), pd.DataFrame(phi, index=labels, columns=labels),
        variance, method, rotation, n, chi2, df, p_value,
    )


# ------------------------------------------------------------------------------------------------------- CFA
@dataclass(frozen=True)
class FitMeasures:
    """Global fit of an ML factor model, defined as lavaan 0.6 defines them (normal likelihood, N not N − 1).

    χ² = Σ_g N_g·F_ML,g; CFI and TLI against the independence model; RMSEA = √(max(χ² − df, 0)/(df·N))·√G with
    its ``confidence`` interval from the non-central χ² (lavaan's ``lav_fit_rmsea_ci``); SRMR = lavaan's
    ``srmr_bentler`` (residual covariances scaled by the observed SDs, means included when the model has a mean
    structure, groups weighted by N_g/N); AIC and BIC from the multivariate normal log-likelihood.
    """

    chi2: float
    df: int
    p_value: float
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci_low: float
    rmsea_ci_high: float
    srmr: float
    aic: float
    bic: float
    loglik: float
    n_parameters: int
    baseline_chi2: float
    baseline_df: int
    n: int
    confidence: float

    def as_series(self) -> pd.Series:
        return pd.Series(asdict(self))


@dataclass(frozen=True)
class _Spec:
    items: tuple[str, ...]
    factors: tuple[str, ...]
    pattern: np.ndarray
    markers: np.ndarray
    members: tuple[tuple[int, ...], ...]

    @property
    def free_loadings(self) -> np.ndarray:
        free = self.pattern.copy()
        free[self.markers, np.arange(len(self.factors))] = False
        return free


def _spec(model: Mapping[str, Sequence[str]]) -> _Spec:
    if not isinstance(model, Mapping) or not model:
        raise ParameterError("model", model, "must map each factor to its items, e.g. {'tangibles': ['q1', 'q2', "
                             "'q3'], ...}")
    factors = tuple(str(f) for f in model)
    items: list[str] = []
    for factor, members in model.items():
        members = [members] if isinstance(members, str) else list(members)
        if len(members) < 2 or len(set(members)) != len(members):
            raise ParameterError("model", {factor: members}, "each factor needs at least 2 distinct items")
        items += [m for m in members if m not in items]
    if set(items) & set(factors):
        raise ParameterError("model", model, "a factor cannot have the name of an item")
    pattern = np.zeros((len(items), len(factors)), dtype=bool)
    rows = tuple(tuple(items.index(m) for m in ([ms] if isinstance(ms, str) else ms)) for ms in model.values())
    for j, members in enumerate(rows):
        pattern[list(members), j] = True
    return _Spec(tuple(items), factors, pattern, np.array([r[0] for r in rows]), rows)


@dataclass(frozen=True)
class _Group:
    """One group's data: covariance with divisor N (ML), means, N."""

    cov: np.ndarray
    mean: np.ndarray | None
    n: int


def _groups_from_moments(moments: Sequence[SampleMoments], spec: _Spec) -> list[_Group]:
    out = []
    for m in moments:
        absent = [i for i in spec.items if i not in m.cov.columns]
        if absent:
            raise DataError(None, absent[0], "is in the model but not in the data")
        cov = m.cov.loc[list(spec.items), list(spec.items)].to_numpy(dtype=float) * (m.n - 1) / m.n
        if np.linalg.eigvalsh(cov)[0] <= 0:
            raise DataError(None, None, "the items' covariance matrix is singular (fewer respondents than items, or "
                            "an item is a combination of others)")
        mean = None if m.mean is None else m.mean[list(spec.items)].to_numpy(dtype=float)
        out.append(_Group(cov, mean, m.n))
    return out


@dataclass(frozen=True)
class _Estimates:
    """Per group Λ (p×k), Φ (k×k), θ (p) and model means μ (None = saturated: the sample means)."""

    lam: list[np.ndarray]
    phi: list[np.ndarray]
    theta: list[np.ndarray]
    mu: list[np.ndarray | None]
    kappa: list[np.ndarray | None]

    def sigma(self, g: int) -> np.ndarray:
        return self.lam[g] @ self.phi[g] @ self.lam[g].T + np.diag(self.theta[g])


def _fit_measures(groups: list[_Group], est: _Estimates, n_parameters: int, meanstructure: bool,
                  confidence: float) -> FitMeasures:
    p = groups[0].cov.shape[0]
    n_total = sum(g.n for g in groups)
    n_groups = len(groups)
    chi2 = baseline = loglik = srmr = 0.0
    for gi, g in enumerate(groups):
        sigma = est.sigma(gi)
        sign, logdet = np.linalg.slogdet(sigma)
        if sign <= 0:
            raise DataError(None, None, "the fitted factor model's implied covariance is not positive definite")
        inv = np.linalg.inv(sigma)
        logdet_s = np.linalg.slogdet(g.cov)[1]
        resid_mean = np.zeros(p) if est.mu[gi] is None else g.mean - est.mu[gi]
        discrepancy = (logdet + np.trace(g.cov @ inv) + resid_mean @ inv @ resid_mean)
        chi2 += g.n * (discrepancy - logdet_s - p)
        baseline += g.n * (np.log(np.diag(g.cov)).sum() - logdet_s)
        loglik += -0.5 * g.n * (p * math.log(2 * math.pi) + discrepancy)
        sd = np.sqrt(np.diag(g.cov))
        resid = (g.cov - sigma) / np.outer(sd, sd)
        ss = (resid[np.tril_indices(p)] ** 2).sum()
        count = p * (p + 1) / 2
        if meanstructure:
            ss += ((resid_mean / sd) ** 2).sum()
            count += p
        srmr += g.n / n_total * math.sqrt(ss / count)
    moments_per_group = p * (p + 1) // 2 + (p if meanstructure else 0)
    df = n_groups * moments_per_group - n_parameters
    baseline_df = n_groups * p * (p - 1) // 2
    chi2 = max(float(chi2), 0.0)
    p_value = float(stats.chi2.sf(chi2, df)) if df > 0 else math.nan
    t1 = max(chi2 - df, 0.0)
    t2 = max(chi2 - df, baseline - baseline_df, 0.0)
    cfi = 1.0 if t2 == 0 else 1.0 - t1 / t2
    tli = ((baseline / baseline_df - chi2 / df) / (baseline / baseline_df - 1)) if df > 0 else math.nan
    rmsea, low, high = _rmsea(chi2, df, n_total, n_groups, confidence)
    return FitMeasures(
        chi2, int(df), p_value, float(cfi), float(tli), rmsea, low, high, float(srmr),
        float(-2 * loglik + 2 * n_parameters), float(-2 * loglik + n_parameters * math.log(n_total)),
        float(loglik), int(n_parameters), float(baseline), int(baseline_df), int(n_total), confidence,
    )


def _rmsea(chi2: float, df: int, n: int, n_groups: int, confidence: float) -> tuple[float, float, float]:
    """RMSEA and its interval as lavaan's ``lav_fit_rmsea`` / ``lav_fit_rmsea_ci``."""
    if df < 1:
        return math.nan, math.nan, math.nan
    scale = math.sqrt(n_groups)
    rmsea = math.sqrt(max(chi2 - df, 0.0) / (df * n)) * scale
    upper_p, lower_p = 0.5 + confidence / 2, 0.5 - confidence / 2

    def cdf(lam: float) -> float:
        return float(stats.chi2.cdf(chi2, df) if lam <= 0 else stats.ncx2.cdf(chi2, df, lam))

    low = 0.0
    if cdf(0.0) > upper_p:
        low = math.sqrt(optimize.brentq(lambda lam: cdf(lam) - upper_p, 0.0, chi2) / (n * df)) * scale
    high = 0.0
    top = max(n, 4 * chi2)
    if cdf(0.0) > lower_p and cdf(top) < lower_p:
        high = math.sqrt(optimize.brentq(lambda lam: cdf(lam) - lower_p, 0.0, top) / (n * df)) * scale
    return rmsea, low, high


def _standardised(spec: _Spec, est: _Estimates, g: int, group_label=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    lam, phi = est.lam[g], est.phi[g]
    sigma_sd = np.sqrt(np.diag(est.sigma(g)))
    phi_sd = np.sqrt(np.diag(phi))
    std = lam * phi_sd[None, :] / sigma_sd[:, None]
    rows = []
    for j, factor in enumerate(spec.factors):
        for i in spec.members[j]:
            rows.append({"factor": factor, "item": spec.items[i], "estimate": float(lam[i, j]),
                         "std_estimate": float(std[i, j]), "fixed": bool(i == spec.markers[j]),
                         "residual_variance": float(est.theta[g][i]),
                         "std_residual_variance": float(est.theta[g][i] / sigma_sd[i] ** 2)})
    loadings = pd.DataFrame(rows)
    if group_label is not None:
        loadings.insert(0, "group", group_label)
    corr = phi / np.outer(phi_sd, phi_sd)
    return loadings, pd.DataFrame(corr, index=list(spec.factors), columns=list(spec.factors))


def _reliability_table(spec: _Spec, loadings: pd.DataFrame, factor_corr: pd.DataFrame) -> pd.DataFrame:
    """Composite reliability (Σλ)²/((Σλ)² + Σθ) and AVE Σλ²/(Σλ² + Σθ) from standardised estimates, and the
    Fornell–Larcker check: √AVE above the factor's largest absolute correlation with another factor."""
    rows = []
    corr = factor_corr.to_numpy()
    for j, factor in enumerate(spec.factors):
        block = loadings[loadings["factor"] == factor]
        lam = block["std_estimate"].to_numpy()
        theta = block["std_residual_variance"].to_numpy()
        cr = lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum())
        ave = (lam**2).sum() / ((lam**2).sum() + theta.sum())
        others = np.abs(np.delete(corr[j], j))
        max_corr = float(others.max()) if others.size else math.nan
        rows.append({"factor": factor, "n_items": len(block), "composite_reliability": cr, "ave": ave,
                     "sqrt_ave": math.sqrt(ave), "max_abs_correlation": max_corr,
                     "fornell_larcker": bool(others.size == 0 or math.sqrt(ave) > max_corr)})
    return pd.DataFrame(rows).set_index("factor")


@dataclass(frozen=True)
class CFAResult:
    """A one-group confirmatory factor analysis fitted by ML (marker-variable identification, as lavaan).

    ``fit``: :class:`FitMeasures`. ``loadings``: one row per (factor, item) with the unstandardised ``estimate``
    (markers fixed at 1), ``std_estimate`` (lavaan's std.all), residual variances raw and standardised.
    ``factor_correlations`` / ``factor_covariances``: k × k. ``reliability``: per factor ``composite_reliability``,
    ``ave``, ``sqrt_ave``, ``max_abs_correlation`` and ``fornell_larcker`` (√AVE > every |r| with other factors).
    """

    model: Mapping[str, tuple[str, ...]]
    fit: FitMeasures
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    factor_covariances: pd.DataFrame
    reliability: pd.DataFrame
    implied_cov: pd.DataFrame
    converged: bool

    def std_loadings(self) -> pd.DataFrame:
        """Standardised loadings as an items × factors matrix (0 where an item does not load)."""
        return self.loadings.pivot_table(index="item", columns="factor", values="std_estimate", fill_value=0.0,
                                         sort=False)


def _moments_arg(data, cov, n, items, missing="listwise") -> SampleMoments:
    if isinstance(data, SampleMoments):
        return data
    if data is not None:
        if cov is not None:
            raise ParameterError("cov", "given", "give either data or cov + n, not both")
        return SampleMoments.from_frame(data, items, missing=missing)
    if cov is None:
        raise ParameterError("data", None, "give a DataFrame of item scores, SampleMoments, or cov + n")
    if isinstance(cov, SampleMoments):
        return cov
    return SampleMoments.from_cov(cov, n)


@_one_blas_thread
def cfa(model: Mapping[str, Sequence[str]], data: pd.DataFrame | SampleMoments | None = None, *, cov=None,
        n: int | None = None, confidence: float = 0.90) -> CFAResult:
    """Fit a CFA by maximum likelihood with semopy from a DataFrame (listwise complete rows), SampleMoments, or a
    covariance matrix (divisor n − 1) and n.

    ``model`` maps each factor to its items, e.g. ``{"visual": ["x1", "x2", "x3"], ...}``; factors covary freely
    and each factor's first item is its marker (loading 1), as lavaan's ``cfa()``. The covariance is rescaled to
    divisor N before fitting, as lavaan does, so estimates and χ² match lavaan. semopy (SLSQP, tight tolerance)
    gives the estimates, checked (gradient below 1e-10) and if need be polished by the Fisher scoring that
    :func:`multigroup_cfa` uses, so χ² = N·F stays exact at N = 10⁶; the fit measures are computed here
    (:class:`FitMeasures`) because semopy lacks the RMSEA interval and SRMR. ``confidence`` is the level of the
    RMSEA interval: 0.90 by convention. Tested against lavaan's Holzinger–Swineford example (χ² 85.306 on 24 df,
    CFI 0.931, TLI 0.896, RMSEA 0.092 [0.071, 0.114], SRMR 0.065) and a model with a cross-loading.
    """
    import semopy

    spec = _spec(model)
    confidence = params.confidence(confidence)
    moments = _moments_arg(data, cov, n, list(spec.items))
    (group,) = _groups_from_moments([moments], spec)
    p, k = spec.pattern.shape
    _check_df(spec)
    obs = [f"v{i}" for i in range(p)]
    lat = [f"f{j}" for j in range(k)]
    lines = [f"{lat[j]} =~ " + " + ".join(obs[i] for i in spec.members[j]) for j in range(k)]
    fitted = semopy.Model("\n".join(lines))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted.fit(cov=pd.DataFrame(group.cov, index=obs, columns=obs), n_samples=group.n,
                   options={"ftol": 1e-12, "maxiter": 20000})
    lam = _reorder(fitted.mx_lambda, fitted.names_lambda, obs, lat)
    phi = _reorder(fitted.mx_psi, fitted.names_psi, lat, lat)
    theta = np.diag(_reorder(fitted.mx_theta, fitted.names_theta, obs, obs))
    engine = _MultiGroupML(spec, [group], False, False)
    start = np.concatenate([lam[engine.free[:, 0], engine.free[:, 1]], phi[engine.tril], theta])
    est, converged = engine.fit(start=start)
    n_parameters = int(spec.free_loadings.sum() + k * (k + 1) // 2 + p)
    fit = _fit_measures([group], est, n_parameters, False, confidence)
    loadings, factor_corr = _standardised(spec, est, 0)
    factors = list(spec.factors)
    return CFAResult(
        {f: tuple([m] if isinstance(m, str) else m) for f, m in model.items()}, fit, loadings, factor_corr,
        pd.DataFrame(est.phi[0], index=factors, columns=factors), _reliability_table(spec, loadings, factor_corr),
        pd.DataFrame(est.sigma(0), index=list(spec.items), columns=list(spec.items)), converged,
    )


def _reorder(matrix: np.ndarray, names: tuple, rows: list[str], cols: list[str]) -> np.ndarray:
    r_index = [list(names[0]).index(r) for r in rows]
    c_index = [list(names[1]).index(c) for c in cols]
    return np.asarray(matrix, dtype=float)[np.ix_(r_index, c_index)]


def _check_df(spec: _Spec) -> None:
    p, k = spec.pattern.shape
    free = int(spec.free_loadings.sum() + k * (k + 1) // 2 + p)
    if free > p * (p + 1) // 2:
        raise ParameterError("model", dict(zip(spec.factors, (spec.items[i] for i in spec.markers))),
                             f"has {free} parameters for {p * (p + 1) // 2} (co)variances and is not identified; "
                             "a factor on its own needs 3 items")


# ------------------------------------------------------------------------------------ multi-group ML estimation
class _MultiGroupML:
    """ML for a CFA over G groups with loadings (and intercepts) optionally equal across groups.

    Parameters: free loadings (one block, or one per group), Φ lower triangle per group, θ per group; with equal
    intercepts also ν (shared) and factor means κ for groups 2..G (group 1's are 0). Otherwise means are saturated
    (the sample means) and drop out of the fit. Objective Σ_g (N_g/N)·F_ML,g, minimised by Fisher scoring
    (analytic gradient and expected information, step halving).
    """

    def __init__(self, spec: _Spec, groups: list[_Group], equal_loadings: bool, equal_intercepts: bool):
        self.spec, self.groups = spec, groups
        self.equal_loadings, self.equal_intercepts = equal_loadings, equal_intercepts
        p, k = spec.pattern.shape
        self.p, self.k, self.n_groups = p, k, len(groups)
        self.free = np.argwhere(spec.free_loadings)
        self.tril = np.tril_indices(k)
        self.weights = np.array([g.n for g in groups], dtype=float) / sum(g.n for g in groups)
        self.logdet_s = [np.linalg.slogdet(g.cov)[1] for g in groups]
        n_lam = len(self.free)
        layout, offset = {}, 0
        for g in range(self.n_groups):
            if g == 0 or not equal_loadings:
                layout[("lam", g)] = slice(offset, offset + n_lam)
                offset += n_lam
            else:
                layout[("lam", g)] = layout[("lam", 0)]
            layout[("phi", g)] = slice(offset, offset + len(self.tril[0]))
            offset += len(self.tril[0])
            layout[("theta", g)] = slice(offset, offset + p)
            offset += p
        if equal_intercepts:
            layout["nu"] = slice(offset, offset + p)
            offset += p
            for g in range(1, self.n_groups):
                layout[("kappa", g)] = slice(offset, offset + k)
                offset += k
        self.layout, self.size = layout, offset

    @property
    def n_parameters(self) -> int:
        """Free parameters as lavaan counts them (the saturated intercepts included)."""
        return self.size + (0 if self.equal_intercepts else self.p * self.n_groups)

    def unpack(self, x: np.ndarray) -> _Estimates:
        lams, phis, thetas, mus, kappas = [], [], [], [], []
        for g in range(self.n_groups):
            lam = np.zeros((self.p, self.k))
            lam[self.spec.markers, np.arange(self.k)] = 1.0
            lam[self.free[:, 0], self.free[:, 1]] = x[self.layout[("lam", g)]]
            phi = np.zeros((self.k, self.k))
            phi[self.tril] = x[self.layout[("phi", g)]]
            phi = phi + np.tril(phi, -1).T
            lams.append(lam)
            phis.append(phi)
            thetas.append(x[self.layout[("theta", g)]].copy())
            if self.equal_intercepts:
                kappa = np.zeros(self.k) if g == 0 else x[self.layout[("kappa", g)]]
                kappas.append(kappa)
                mus.append(x[self.layout["nu"]] + lam @ kappa)
            else:
                kappas.append(None)
                mus.append(None)
        return _Estimates(lams, phis, thetas, mus, kappas)

    def objective(self, x: np.ndarray, information: bool = False):
        """Σ_g w_g·F_ML,g, its gradient and (``information=True``) its expected Hessian
        Σ_g w_g·[tr(Σ⁻¹∂ₐΣ Σ⁻¹∂ᵦΣ) + 2 ∂ₐμ'Σ⁻¹∂ᵦμ] for Fisher scoring."""
        est = self.unpack(x)
        total, grad = 0.0, np.zeros(self.size)
        hess = np.zeros((self.size, self.size)) if information else None
        for g, data in enumerate(self.groups):
            lam, phi = est.lam[g], est.phi[g]
            sigma = est.sigma(g)
            try:
                chol = np.linalg.cholesky(sigma)
            except np.linalg.LinAlgError:
                return (math.inf, grad, hess) if information else (math.inf, grad)
            logdet = 2.0 * float(np.log(np.diag(chol)).sum())
            inv = np.linalg.inv(sigma)
            inv_s = inv @ data.cov
            value = logdet + np.trace(inv_s) - self.logdet_s[g] - self.p
            gs = inv - inv_s @ inv
            if self.equal_intercepts:
                resid = data.mean - est.mu[g]
                a = inv @ resid
                value += resid @ a
                gs -= np.outer(a, a)
                g_mu = -2.0 * a
            w = self.weights[g]
            total += w * value
            g_lam = 2.0 * gs @ lam @ phi
            if self.equal_intercepts:
                g_lam += np.outer(g_mu, est.kappa[g])
                grad[self.layout["nu"]] += w * g_mu
                if g > 0:
                    grad[self.layout[("kappa", g)]] += w * (lam.T @ g_mu)
            g_phi = lam.T @ gs @ lam
            g_phi = 2.0 * g_phi - np.diag(np.diag(g_phi))
            grad[self.layout[("lam", g)]] += w * g_lam[self.free[:, 0], self.free[:, 1]]
            grad[self.layout[("phi", g)]] += w * g_phi[self.tril]
            grad[self.layout[("theta", g)]] += w * np.diag(gs)
            if information:
                index, d_sigma, d_mu = self._derivatives(g, est)
                left = inv @ d_sigma
                block = np.einsum("aij,bji->ab", left, left)
                if d_mu is not None:
                    block += 2.0 * d_mu @ inv @ d_mu.T
                hess[np.ix_(index, index)] += w * block
        return (float(total), grad, hess) if information else (float(total), grad)

    def _derivatives(self, g: int, est: _Estimates):
        """∂Σ_g/∂θ (q_g × p × p) and ∂μ_g/∂θ (q_g × p) for the parameters that enter group g, with their indices."""
        lam, phi = est.lam[g], est.phi[g]
        p, k = self.p, self.k
        lam_idx = np.arange(self.size)[self.layout[("lam", g)]]
        phi_idx = np.arange(self.size)[self.layout[("phi", g)]]
        theta_idx = np.arange(self.size)[self.layout[("theta", g)]]
        mats = []
        lp = lam @ phi
        for i, j in self.free:
            d = np.zeros((p, p))
            d[i, :] += lp[:, j]
            d[:, i] += lp[:, j]
            mats.append(d)
        for a, b in zip(*self.tril):
            d = np.outer(lam[:, a], lam[:, b])
            mats.append(d + d.T if a != b else d)
        for i in range(p):
            d = np.zeros((p, p))
            d[i, i] = 1.0
            mats.append(d)
        index = [lam_idx, phi_idx, theta_idx]
        d_mu = None
        if self.equal_intercepts:
            kappa = est.kappa[g]
            mu_rows = [np.eye(p)[i] * kappa[j] for i, j in self.free]
            mu_rows += [np.zeros(p)] * (len(phi_idx) + p)
            mats += [np.zeros((p, p))] * p
            mu_rows += list(np.eye(p))
            index.append(np.arange(self.size)[self.layout["nu"]])
            if g > 0:
                mats += [np.zeros((p, p))] * k
                mu_rows += list(lam.T)
                index.append(np.arange(self.size)[self.layout[("kappa", g)]])
            d_mu = np.array(mu_rows)
        return np.concatenate(index), np.array(mats), d_mu

    def start(self) -> np.ndarray:
        """Per group: each factor's loadings from the first principal component of its items' covariance block
        (scaled to the marker), factor covariances from the cross-block covariances, θ = half the item variance."""
        x = np.zeros(self.size)
        lam_sum = np.zeros(len(self.free))
        for g, data in enumerate(self.groups):
            s = data.cov
            lam = np.zeros((self.p, self.k))
            phi = np.zeros((self.k, self.k))
            for j in range(self.k):
                rows = np.flatnonzero(self.spec.pattern[:, j])
                values, vectors = np.linalg.eigh(s[np.ix_(rows, rows)])
                a = vectors[:, -1] * math.sqrt(values[-1])
                marker = int(np.flatnonzero(rows == self.spec.markers[j])[0])
                if abs(a[marker]) < 1e-3 * np.abs(a).max():
                    a = np.full(len(rows), math.sqrt(max(values[-1], 1e-8) / len(rows)))
                if a[marker] < 0:
                    a = -a
                lam[rows, j] = a / a[marker]
                phi[j, j] = a[marker] ** 2
            for j in range(self.k):
                for m in range(j):
                    rj, rm = np.flatnonzero(self.spec.pattern[:, j]), np.flatnonzero(self.spec.pattern[:, m])
                    block = s[np.ix_(rj, rm)] / np.outer(lam[rj, j], lam[rm, m])
                    phi[j, m] = phi[m, j] = float(np.median(block))
            scale = np.sqrt(np.diag(phi))
            corr = np.clip(phi / np.outer(scale, scale), -0.95, 0.95)
            np.fill_diagonal(corr, 1.0)
            while np.linalg.eigvalsh(corr)[0] < 0.05:
                corr = 0.5 * corr + 0.5 * np.eye(self.k)
            phi = corr * np.outer(scale, scale)
            lam_free = lam[self.free[:, 0], self.free[:, 1]]
            lam_sum += lam_free / self.n_groups
            x[self.layout[("lam", g)]] = lam_free
            x[self.layout[("phi", g)]] = phi[self.tril]
            x[self.layout[("theta", g)]] = 0.5 * np.diag(s)
        if self.equal_loadings:
            x[self.layout[("lam", 0)]] = lam_sum
        if self.equal_intercepts:
            x[self.layout["nu"]] = self.groups[0].mean
        return x

    def fit(self, start: np.ndarray | None = None, max_iter: int = 200) -> tuple[_Estimates, bool]:
        """Fisher scoring with step halving; converged when the largest gradient entry is below 1e-10."""
        x = self.start() if start is None else np.asarray(start, dtype=float)
        value, grad, hess = self.objective(x, information=True)
        if not math.isfinite(value):
            raise DataError(None, None, "the factor model cannot be started on these data (implied covariance "
                            "not positive definite)")
        for _ in range(max_iter):
            if np.abs(grad).max() < 1e-10:
                return self.unpack(x), True
            try:
                step = np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(hess, grad, rcond=None)[0]
            size = 1.0
            while size > 1e-8:
                candidate = x - size * step
                new_value, new_grad, new_hess = self.objective(candidate, information=True)
                if new_value <= value + 1e-14 * max(abs(value), 1.0):
                    break
                size /= 2
            else:
                break
            x, value, grad, hess = candidate, new_value, new_grad, new_hess
        return self.unpack(x), bool(np.abs(grad).max() < 1e-7)


@dataclass(frozen=True)
class MultiGroupCFAResult:
    """A CFA fitted jointly over groups (lavaan's ``cfa(..., group=, group.equal=)``, mean structure included).

    ``loadings``: one row per (group, factor, item) as in :class:`CFAResult`; ``factor_correlations``: per group;
    ``factor_means``: per group (scalar level only; the first group is the reference at 0).
    """

    model: Mapping[str, tuple[str, ...]]
    level: str
    groups: tuple
    n: pd.Series
    fit: FitMeasures
    loadings: pd.DataFrame
    factor_correlations: Mapping[object, pd.DataFrame]
    factor_means: pd.DataFrame | None
    converged: bool


def _group_moments(data, group, moments, items) -> dict:
    if moments is not None:
        if not isinstance(moments, Mapping) or len(moments) < 2:
            raise ParameterError("moments", moments, "must map each of ≥ 2 groups to its SampleMoments")
        return dict(moments)
    if data is None or group is None:
        raise ParameterError("group", group, "give data and a group column, or moments per group")
    if group not in data.columns:
        raise DataError(None, group, "is not a column of the data")
    labels = pd.unique(data[group].dropna())
    if len(labels) < 2:
        raise DataError(None, group, "needs at least 2 groups")
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise DataError(None, absent[0], "is in the model but not in the data")
    block, keys = data[items], data[group].to_numpy()
    return {label: SampleMoments.from_frame(block[keys == label], items) for label in labels}


@_one_blas_thread
def multigroup_cfa(model: Mapping[str, Sequence[str]], data: pd.DataFrame | None = None, group: str | None = None,
                   *, moments: Mapping[object, SampleMoments] | None = None, level: str = "configural",
                   confidence: float = 0.90) -> MultiGroupCFAResult:
    """Fit the CFA jointly over groups by ML at one invariance ``level`` (see :data:`INVARIANCE_LEVELS`).

    Groups come from ``data[group]`` (order of first appearance, as lavaan; listwise complete rows per group) or
    from ``moments`` ({label: SampleMoments}, means required for 'scalar'). semopy has no cross-group equality
    constraints, so the stacked ML objective is minimised here by Fisher scoring. Tested against lavaan
    ``cfa(HS.model, data=HolzingerSwineford1939, group="school", group.equal=...)``.
    """
    spec = _spec(model)
    level = params.choice(*INVARIANCE_LEVELS)(level, "level")
    confidence = params.confidence(confidence)
    by_group = _group_moments(data, group, moments, list(spec.items))
    if level == "scalar" and any(m.mean is None for m in by_group.values()):
        raise ParameterError("moments", "no means", "scalar invariance needs each group's item means")
    _check_df(spec)
    groups = _groups_from_moments(list(by_group.values()), spec)
    engine = _MultiGroupML(spec, groups, level in ("metric", "scalar"), level == "scalar")
    est, converged = engine.fit()
    fit = _fit_measures(groups, est, engine.n_parameters, True, confidence)
    labels = tuple(by_group)
    tables, corrs = [], {}
    for g, label in enumerate(labels):
        loadings, corr = _standardised(spec, est, g, label)
        tables.append(loadings)
        corrs[label] = corr
    means = None
    if level == "scalar":
        means = pd.DataFrame([est.kappa[g] for g in range(len(labels))], index=list(labels),
                             columns=list(spec.factors))
    return MultiGroupCFAResult(
        {f: tuple([m] if isinstance(m, str) else m) for f, m in model.items()}, level, labels,
        pd.Series({label: m.n for label, m in by_group.items()}, name="n"), fit, pd.concat(tables, ignore_index=True),
        corrs, means, converged,
    )


@dataclass(frozen=True)
class InvarianceResult:
    """Measurement invariance across groups: one fitted model per level and the nested comparisons.

    ``fits`` (index = level): the :class:`FitMeasures` columns. ``comparisons`` (index 'metric', 'scalar', each
    against the previous level): ``chi2_diff``, ``df_diff``, ``p_value`` (χ² difference test), ``delta_cfi``
    (CFI of the stricter model minus the looser: below −0.01 suggests non-invariance, Cheung & Rensvold 2002),
    ``delta_rmsea``.
    """

    fits: pd.DataFrame
    comparisons: pd.DataFrame
    groups: tuple
    n: pd.Series
    models: Mapping[str, MultiGroupCFAResult]


@_one_blas_thread
def measurement_invariance(model: Mapping[str, Sequence[str]], data: pd.DataFrame | None = None,
                           group: str | None = None, *, moments: Mapping[object, SampleMoments] | None = None,
                           levels: Sequence[str] = INVARIANCE_LEVELS, confidence: float = 0.90) -> InvarianceResult:
    """Configural → metric (equal loadings) → scalar (equal loadings and intercepts) with χ² difference tests and
    ΔCFI. Tested against lavaan 0.6-14 on Holzinger–Swineford by school: configural χ² 115.851 (48 df), metric
    124.044 (54 df), scalar 164.103 (60 df); ``anova``: Δχ² 8.192 on 6 df, p = 0.224."""
    levels = tuple(params.choice(*INVARIANCE_LEVELS)(lv, "levels") for lv in levels)
    if not levels or list(levels) != sorted(set(levels), key=INVARIANCE_LEVELS.index):
        raise ParameterError("levels", levels, "must be distinct levels in the order configural, metric, scalar")
    spec = _spec(model)
    by_group = _group_moments(data, group, moments, list(spec.items))
    fitted = {lv: multigroup_cfa(model, moments=by_group, level=lv, confidence=confidence) for lv in levels}
    fits = pd.DataFrame([asdict(r.fit) for r in fitted.values()], index=pd.Index(levels, name="level"))
    rows = []
    for looser, stricter in zip(levels, levels[1:]):
        a, b = fitted[looser].fit, fitted[stricter].fit
        diff, ddf = b.chi2 - a.chi2, b.df - a.df
        rows.append({"level": stricter, "against": looser, "chi2_diff": diff, "df_diff": ddf,
                     "p_value": float(stats.chi2.sf(max(diff, 0.0), ddf)) if ddf > 0 else math.nan,
                     "delta_cfi": b.cfi - a.cfi, "delta_rmsea": b.rmsea - a.rmsea})
    comparisons = pd.DataFrame(rows, columns=["level", "against", "chi2_diff", "df_diff", "p_value", "delta_cfi",
                                              "delta_rmsea"]).set_index("level")
    first = next(iter(fitted.values()))
    return InvarianceResult(fits, comparisons, first.groups, first.n, fitted)
