"""Survival statistics that equal R's ``survival`` package (≥ 3.0), computed in O(n log n) or O(n·p²).

* :class:`CoxDesign` — the data of a Cox model (design matrix, durations, events, strata, case weights, the
  term → columns map and the coefficients), built from arrays or from a fitted lifelines ``CoxPHFitter``.
* :func:`cox_fit` — R's ``coxph`` Newton–Raphson (``coxfit6``: Efron ties, step halving, ``eps=1e-9``), with R's
  "coefficient may be infinite" and singularity rules.
* :func:`cox_model_tests` — the likelihood-ratio, Wald and score (log-rank) tests of ``summary.coxph``.
* :func:`concordance` / :func:`cox_concordance` — Harrell's C and its infinitesimal-jackknife standard error as
  ``concordancefit`` (``summary.coxph``'s "Concordance= 0.64 (se = 0.025)").
* :func:`monotone_likelihood` — which coefficients run to ±infinity (separation in the data, R's rule on the fit).
* :func:`km_median` / :func:`rmst` — Kaplan–Meier median with its CI and the restricted mean with its standard error,
  as ``print(survfit(...), rmean=tau)``.
* :func:`logrank_test` — the k-group (stratified, G-rho) test of ``survdiff``.

The proportional-hazards test (``cox.zph``) is in :mod:`loyaltylab.stats.ph_test`. Every result was checked against
R 4.2 / survival 3.5.3 on lung, rossi, gbsg2, larynx, veteran, pbc, colon and mgus2 (tests/test_stats_survival.py).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import params
from loyaltylab.errors import ParameterError

TIES = ("efron", "breslow")
CONF_TYPES = ("log", "log-log", "plain")


def _event_flags(events, n: int | None = None) -> np.ndarray:
    e = np.asarray(events)
    if e.dtype != bool:
        e = e.astype(float)
        if not np.isin(e, (0.0, 1.0)).all():
            raise ValueError("events must be 0/1 or boolean (1 = event, 0 = censored)")
    e = e.astype(bool).ravel()
    if n is not None and len(e) != n:
        raise ValueError("events must have one value per row")
    return e


def _codes(labels, n: int, what: str) -> tuple[np.ndarray, tuple]:
    """Integer codes in the sorted order of the labels (R's factor order); a missing label is an error."""
    codes, uniq = pd.factorize(pd.Series(np.asarray(labels, dtype=object)), sort=True)
    if len(codes) != n or (codes < 0).any():
        raise ValueError(f"{what} must have one non-missing label per row")
    return codes, tuple(uniq)


# ====================================================================================================================
# The data of a Cox model
# ====================================================================================================================
@dataclass(frozen=True, eq=False)
class CoxDesign:
    """Design matrix ``x`` (n × p), ``durations``, ``events`` (bool), optional ``strata`` (integer codes in the sorted
    order of the labels, as R numbers a factor), case ``weights`` and coefficients ``beta`` (None before a fit).
    ``terms`` maps each model term to its columns: a factor with k levels is one term of k−1 columns."""

    x: np.ndarray
    durations: np.ndarray
    events: np.ndarray
    columns: tuple[str, ...]
    terms: Mapping[str, tuple[str, ...]]
    beta: np.ndarray | None = None
    strata: np.ndarray | None = None
    strata_labels: tuple = ()
    weights: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.durations)

    def with_beta(self, beta) -> CoxDesign:
        b = np.asarray(beta, dtype=float).ravel()
        if len(b) != len(self.columns):
            raise ValueError("beta must have one value per column")
        return replace(self, beta=b)

    def term_index(self, terms: Mapping[str, Sequence[str]] | None = None) -> dict[str, np.ndarray]:
        """term → positions of its columns in ``x``."""
        pos = {c: i for i, c in enumerate(self.columns)}
        return {t: np.array([pos[c] for c in cols], dtype=int) for t, cols in (terms or self.terms).items()}


def cox_design(x, durations, events, *, columns: Sequence[str] | None = None,
               terms: Mapping[str, Sequence[str]] | None = None, beta=None, strata=None, weights=None) -> CoxDesign:
    """Check and pack the arrays of a Cox model. ``x``: a DataFrame or an (n × p) array with ``columns``; ``strata``:
    one label per row, or a DataFrame of several stratifying columns (their combinations are the strata);
    ``terms``: term → its columns (default: each column is its own term)."""
    if isinstance(x, pd.DataFrame):
        columns = tuple(str(c) for c in x.columns) if columns is None else tuple(columns)
        x = x.to_numpy(dtype=float)
    x = np.array(x, dtype=float, ndmin=2, copy=True)
    if x.shape[0] == 1 and np.ndim(durations) == 1 and len(durations) != 1:
        x = x.T
    n = x.shape[0]
    columns = tuple(f"x{i}" for i in range(x.shape[1])) if columns is None else tuple(str(c) for c in columns)
    t = np.asarray(durations, dtype=float).ravel()
    d = _event_flags(events)
    if len(columns) != x.shape[1] or len(t) != n or len(d) != n:
        raise ValueError("x, durations, events and columns do not have matching sizes")
    if not (np.isfinite(x).all() and np.isfinite(t).all()):
        raise ValueError("x and durations must be finite (drop missing values first)")
    terms = {c: (c,) for c in columns} if terms is None else {str(k): tuple(map(str, v)) for k, v in terms.items()}
    listed = [c for cols in terms.values() for c in cols]
    if sorted(listed) != sorted(columns):
        raise ValueError("terms must list every column of x exactly once")
    codes, labels = None, ()
    if strata is not None:
        if isinstance(strata, pd.DataFrame):
            strata = pd.Series(list(strata.astype(str).itertuples(index=False, name=None)), dtype=object)
        codes, labels = _codes(strata, n, "strata")
    w = None
    if weights is not None:
        w = np.asarray(weights, dtype=float).ravel()
        if len(w) != n or not (np.isfinite(w) & (w > 0)).all():
            raise ValueError("weights must be positive and finite, one per row")
    b = None if beta is None else np.asarray(beta, dtype=float).ravel()
    if b is not None and len(b) != len(columns):
        raise ValueError("beta must have one value per column")
    return CoxDesign(x, t, d, columns, terms, b, codes, labels, w)


def cox_design_from_fitter(fitter, data: pd.DataFrame, *, terms: Mapping[str, Sequence[str]] | None = None,
                           refit: bool = True) -> CoxDesign:
    """The :class:`CoxDesign` of a fitted lifelines ``CoxPHFitter`` and the frame it was fitted on (the fitter keeps
    no copy of its design matrix; formulas, strata and weights columns are taken from the fitter). With ``refit``
    the coefficients are :func:`cox_fit`'s, i.e. R's (unpenalised, whatever the fitter's penalizer): lifelines'
    damped Newton stops up to ~2e-4 from the maximum on ordinary data (lung, stratified), which moves cox.zph p-values
    by up to ~4e-4 and Wald tests by ~1e-3. Without ``refit`` a penalised fitter is refused: R's tests assume none."""
    model = getattr(fitter, "_model", fitter)
    if getattr(model, "entry_col", None):
        raise ValueError("delayed entry (entry_col) is not supported")
    if not refit and np.any(np.asarray(getattr(fitter, "penalizer", 0.0)) != 0):
        raise ValueError("R's tests are defined for an unpenalised fit: use penalizer=0 or refit=True")
    cols = [str(c) for c in fitter.params_.index]
    x = model.regressors.transform_df(data)["beta_"][cols] if getattr(model, "formula", None) else data[cols]
    events = data[model.event_col] if model.event_col else np.ones(len(data), bool)
    weights = data[model.weights_col] if model.weights_col else None
    names = [fitter.strata] if isinstance(fitter.strata, str) else list(fitter.strata or ())
    strata = (data[names[0]] if len(names) == 1 else data[names]) if names else None
    design = cox_design(x, data[model.duration_col], events, columns=cols, terms=terms,
                        beta=fitter.params_.to_numpy(dtype=float), strata=strata, weights=weights)
    return design.with_beta(cox_fit(design).coef.to_numpy()) if refit else design


# ====================================================================================================================
# Risk sets: sums over rows sorted by (stratum, time) with cumulative sums, O(n log n + n·p²)
# ====================================================================================================================
@dataclass(frozen=True, eq=False)
class _Risk:
    order: np.ndarray     # rows sorted by (stratum, time), ties in input order (R's order())
    x: np.ndarray         # sorted, centred
    w: np.ndarray
    strat: np.ndarray
    gstart: np.ndarray    # first sorted row of each (stratum, time) group
    gstrat: np.ndarray    # stratum of each group (non-decreasing)
    deaths: np.ndarray    # sorted positions of the events
    dgroup: np.ndarray
    dl: np.ndarray        # rank of each event among the tied events of its group (0, 1, …)
    dcount: np.ndarray    # events per group (one entry per event)
    dstart: np.ndarray    # first event of each group that has events (events are sorted by group)
    sstart: np.ndarray    # first sorted row of each stratum
    row_group: np.ndarray


def _risk(design: CoxDesign, x: np.ndarray | None = None, center: bool = True) -> _Risk:
    x = design.x if x is None else x
    if design.strata is None:
        strat = np.zeros(design.n, dtype=np.int64)
        order = np.argsort(design.durations, kind="stable")
    else:
        strat = design.strata.astype(np.int64)
        order = np.lexsort((design.durations, strat))
    t, s = design.durations[order], strat[order]
    xs = x[order]
    if center:
        xs -= x.mean(axis=0)
    w = np.ones(design.n) if design.weights is None else design.weights[order]
    new = np.ones(design.n, dtype=bool)
    new[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
    gstart = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    gstrat = s[gstart]
    deaths = np.flatnonzero(design.events[order])
    dgroup = group[deaths]
    dnew = np.ones(len(deaths), dtype=bool)
    dnew[1:] = dgroup[1:] != dgroup[:-1]
    dfirst = np.flatnonzero(dnew)
    rank = np.arange(len(deaths)) - np.repeat(dfirst, np.diff(np.append(dfirst, len(deaths))))
    dcount = np.repeat(np.diff(np.append(dfirst, len(deaths))), np.diff(np.append(dfirst, len(deaths))))
    snew_rows = np.ones(design.n, dtype=bool)
    snew_rows[1:] = s[1:] != s[:-1]
    return _Risk(order, xs, w, s, gstart, gstrat, deaths, dgroup, rank, dcount, dfirst, np.flatnonzero(snew_rows),
                 group)


def _seg_cumsum(v: np.ndarray, seg: np.ndarray, reverse: bool = False) -> np.ndarray:
    """Cumulative sums along axis 0 that restart at each stratum (``seg`` is sorted): from each group to the end of
    its stratum when ``reverse``, from the start of its stratum otherwise. No sum crosses a stratum, so a small tail
    of one stratum is never the difference of two large totals."""
    if seg[0] == seg[-1]:
        return np.cumsum(v[::-1], axis=0)[::-1] if reverse else np.cumsum(v, axis=0)
    step = slice(None, None, -1) if reverse else slice(None)
    out = pd.DataFrame(v[step]).groupby(seg[step], sort=False).cumsum().to_numpy()[step]
    return out.reshape(v.shape)


@dataclass(frozen=True, eq=False)
class _Sums:
    loglik: float
    u: np.ndarray          # score Σ ω (x − m) over events
    info: np.ndarray       # information matrix
    m: np.ndarray          # per event: risk-set mean (Efron: the l-th of the tied terms)
    omega: np.ndarray      # per event weight in the sums (Efron: mean weight of the tied events)
    r: np.ndarray
    a: np.ndarray          # per group Σ_l ω/den
    b: np.ndarray          # per group Σ_l ω·(l/d)/den


def _cox_sums(rk: _Risk, beta: np.ndarray, ties: str = "efron", info: bool = True) -> _Sums:
    """Log partial likelihood, score and information at ``beta`` (R's coxfit6/zph1 sums, vectorised).

    The information's Σ_k Σ_{j∈R_k} r_j x_j x_jᵀ / D_k is collapsed to Xᵀ diag(r_j·Σ_{k: j∈R_k} 1/D_k) X, so no
    n × p × p array is formed."""
    with np.errstate(all="ignore"):
        eta = rk.x @ beta
        smax = np.maximum.reduceat(eta, rk.sstart)
        shift = np.repeat(smax, np.diff(np.append(rk.sstart, len(eta))))
        r = rk.w * np.exp(eta - shift)
        rx = r[:, None] * rk.x
        D = _seg_cumsum(np.add.reduceat(r, rk.gstart), rk.gstrat, reverse=True)
        A = _seg_cumsum(np.add.reduceat(rx, rk.gstart, axis=0), rk.gstrat, reverse=True)
        dd, g = rk.deaths, rk.dgroup
        ngroups = len(rk.gstart)
        wd = rk.w[dd]
        if ties == "efron":
            frac = rk.dl / rk.dcount
            reps = np.diff(np.append(rk.dstart, len(dd)))
            Dd = np.repeat(np.add.reduceat(r[dd], rk.dstart), reps)
            DdX = np.repeat(np.add.reduceat(rx[dd], rk.dstart, axis=0), reps, axis=0)
            den = D[g] - frac * Dd
            num = A[g] - frac[:, None] * DdX
            omega = np.repeat(np.add.reduceat(wd, rk.dstart), reps) / rk.dcount
        else:
            frac = np.zeros(len(dd))
            den, num, omega = D[g], A[g], wd
        m = num / den[:, None]
        loglik = float(wd @ eta[dd] - omega @ (np.log(den) + shift[dd]))
        u = wd @ rk.x[dd] - omega @ m
        a = np.bincount(g, weights=omega / den, minlength=ngroups)
        b = np.bincount(g, weights=omega * frac / den, minlength=ngroups)
        imat = _info(rk, r, a, b, m, omega) if info else None
    return _Sums(loglik, u, imat, m, omega, r, a, b)


def _info(rk: _Risk, r, a, b, m, omega) -> np.ndarray:
    """Σ_k ω_k (C_k/D_k − m_k m_kᵀ) for per-group weights ``a`` = Σ ω/den over the events of a group (applied to the
    whole risk set) and ``b`` = Σ ω·(l/d)/den (the tied events, Efron), per-event ``omega``."""
    v = r * _seg_cumsum(a, rk.gstrat)[rk.row_group]
    v[rk.deaths] -= r[rk.deaths] * b[rk.dgroup]
    return (rk.x * v[:, None]).T @ rk.x - (m * omega[:, None]).T @ m


# ====================================================================================================================
# R's coxph fit (coxfit6) and the tests of summary.coxph
# ====================================================================================================================
@dataclass(frozen=True)
class CoxFit:
    """A Cox fit by R's algorithm. ``coef`` is NaN for a column R reports as singular (NA)."""

    coef: pd.Series
    se: pd.Series
    var: pd.DataFrame
    loglik_null: float
    loglik: float
    score_test: float
    iterations: int
    converged: bool
    infinite: tuple[str, ...]   # R: "Loglik converged before variable …; coefficient may be infinite"
    singular: tuple[str, ...]   # R: NA coefficient
    ties: str = "efron"


def _cholesky2_pivots(imat: np.ndarray, toler: float) -> np.ndarray:
    """Which pivots R's cholesky2 keeps (the others are declared redundant)."""
    mat = np.array(imat, dtype=float)
    k = mat.shape[0]
    dmax = np.max(np.diag(mat), initial=0.0)
    eps = toler if not dmax > 0 else dmax * toler
    keep = np.zeros(k, dtype=bool)
    for i in range(k):
        pivot = mat[i, i]
        if np.isfinite(pivot) and pivot >= eps:
            keep[i] = True
            col = mat[i + 1:, i] / pivot
            mat[i + 1:, i + 1:] -= pivot * np.outer(col, col)
    return keep


def _solve_kept(imat, u, keep):
    out = np.zeros_like(u)
    if keep.any():
        out[keep] = np.linalg.solve(imat[np.ix_(keep, keep)], u[keep])
    return out


def _inv_kept(imat, keep):
    out = np.zeros_like(imat)
    if keep.any():
        out[np.ix_(keep, keep)] = np.linalg.inv(imat[np.ix_(keep, keep)])
    return out


def cox_fit(design: CoxDesign, *, ties: str = "efron", eps: float = 1e-9, max_iter: int = 20,
            toler_chol: float = np.finfo(float).eps ** 0.75, toler_inf: float | None = None) -> CoxFit:
    """Fit the Cox model as R's ``coxph`` does (``coxph.control`` defaults; columns not all in {−1, 0, 1} centred and
    scaled; start at 0; Newton–Raphson with step halving; stop when |1 − ℓ_old/ℓ_new| ≤ eps) and flag coefficients
    as R does: infinite when the next Newton step still exceeds eps and toler_inf·|β|; singular when the Cholesky
    pivot falls below toler_chol. Equal to R's ``coef``, ``vcov``, ``loglik``, ``score`` and warnings (tested)."""
    ties = params.choice(*TIES)(ties, "ties")
    toler_inf = np.sqrt(eps) if toler_inf is None else toler_inf
    w = np.ones(design.n) if design.weights is None else design.weights
    x = design.x
    plain = np.all(np.isin(x, (-1.0, 0.0, 1.0)), axis=0)
    mean = np.where(plain, 0.0, w @ x / w.sum())
    spread = w @ np.abs(x - mean) / w.sum()
    scale = np.where(plain | ~(spread > 0), 1.0, 1.0 / np.where(spread > 0, spread, 1.0))
    rk = _risk(design, (x - mean) * scale, center=False)
    p = x.shape[1]
    beta = np.zeros(p)
    s = _cox_sums(rk, beta, ties)
    loglik0 = s.loglik
    keep = _cholesky2_pivots(s.info, toler_chol)
    step = _solve_kept(s.info, s.u, keep)
    score = float(s.u @ step)
    best, newbeta, halving, converged, it = loglik0, beta + step, 0, False, 0
    if max_iter > 0 and np.isfinite(loglik0):
        while it < max_iter:
            it += 1
            s = _cox_sums(rk, newbeta, ties)
            keep = _cholesky2_pivots(s.info, toler_chol)
            finite = np.isfinite(s.loglik) and np.isfinite(s.u).all() and np.isfinite(s.info).all()
            with np.errstate(all="ignore"):
                change = abs(1 - np.float64(best) / np.float64(s.loglik))
            if finite and change <= eps:
                beta, converged = newbeta, True
                break
            if not finite or s.loglik < best:
                halving += 1
                newbeta = (newbeta + halving * beta) / (halving + 1.0)
            else:
                halving, best = 0, s.loglik
                step = _solve_kept(s.info, s.u, keep)
                beta, newbeta = newbeta, newbeta + step
        if not converged:
            s = _cox_sums(rk, beta, ties)
            keep = _cholesky2_pivots(s.info, toler_chol)
    var_s = _inv_kept(s.info, keep)
    var = var_s * np.outer(scale, scale)
    coef = beta * scale
    with np.errstate(all="ignore"):
        nstep = np.abs(var @ (s.u * scale))
    singular = np.diag(var) == 0
    infinite = np.zeros(p, dtype=bool)
    if converged and max_iter > 1:
        infinite = ~np.isfinite(s.u) | ((nstep > eps) & (nstep > toler_inf * np.abs(coef)))
    cols = list(design.columns)
    coef = np.where(singular, np.nan, coef)
    return CoxFit(pd.Series(coef, index=cols), pd.Series(np.sqrt(np.diag(var)), index=cols),
                  pd.DataFrame(var, index=cols, columns=cols), float(loglik0), float(s.loglik), score, it,
                  converged, tuple(c for c, f in zip(cols, infinite) if f),
                  tuple(c for c, f in zip(cols, singular) if f), ties)


@dataclass(frozen=True)
class CoxTests:
    """``table``: test (likelihood_ratio, wald, score), statistic, df, p_value — ``summary.coxph``'s three tests."""

    table: pd.DataFrame
    loglik_null: float
    loglik: float


def cox_model_tests(design: CoxDesign, *, ties: str = "efron") -> CoxTests:
    """Likelihood-ratio 2(ℓ(β̂) − ℓ(0)), Wald β̂ᵀ I(β̂) β̂ and score U(0)ᵀ I(0)⁻¹ U(0) tests at the design's
    coefficients (a lifelines fit; NaN coefficients are left out), or at :func:`cox_fit`'s when ``design.beta`` is
    None. df = the coefficients kept. Tested against R's ``summary(coxph(...))`` ``logtest``, ``waldtest``,
    ``sctest``."""
    ties = params.choice(*TIES)(ties, "ties")
    if design.beta is None:
        fit = cox_fit(design, ties=ties)
        keep = ~fit.coef.isna().to_numpy()
        coef = fit.coef.to_numpy()[keep]
        wald = float(coef @ _solve_kept(fit.var.to_numpy()[np.ix_(keep, keep)], coef, np.ones(len(coef), bool)))
        lr, score, ll0, ll = 2.0 * (fit.loglik - fit.loglik_null), fit.score_test, fit.loglik_null, fit.loglik
    else:
        keep = np.isfinite(design.beta)
        beta = np.where(keep, design.beta, 0.0)
        rk = _risk(design)
        s0 = _cox_sums(rk, np.zeros_like(beta), ties)
        s1 = _cox_sums(rk, beta, ties)
        score = float(s0.u @ _solve_kept(s0.info, s0.u, _cholesky2_pivots(s0.info, np.finfo(float).eps ** 0.75)))
        wald = float(beta[keep] @ s1.info[np.ix_(keep, keep)] @ beta[keep])
        ll0, ll = s0.loglik, s1.loglik
        lr = 2.0 * (ll - ll0)
    df = int(keep.sum())
    table = pd.DataFrame({"test": ["likelihood_ratio", "wald", "score"], "statistic": [lr, wald, score],
                          "df": df})
    table["p_value"] = stats.chi2.sf(table["statistic"], df)
    return CoxTests(table, float(ll0), float(ll))


# ====================================================================================================================
# Concordance (concordancefit) with its infinitesimal-jackknife standard error
# ====================================================================================================================
@dataclass(frozen=True)
class Concordance:
    """Harrell's C with R's standard error; ``concordant`` … ``tied_xy`` are R's (weighted) pair counts."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float
    n: int


def _prefix_counts(blocks: np.ndarray, vals: np.ndarray, wts: np.ndarray, lim: np.ndarray, qv: np.ndarray,
                   qfloor: np.ndarray):
    """For each query (L, v, f): Σ w over the points in blocks < L with value in [f, v), and with value == v
    (``blocks``: the non-decreasing block of each point, e.g. its time). A merge-sort tree over the blocks:
    O((n + q) log n · log blocks), all in numpy."""
    less = np.zeros(len(lim))
    equal = np.zeros(len(lim))
    span = np.int64(vals.max(initial=0)) + 2
    nblocks = int(blocks[-1]) + 1 if len(blocks) else 0
    perm = np.arange(len(vals))
    cw = np.zeros(len(vals) + 1)
    k = 0
    while (1 << k) <= nblocks:
        keys = (blocks >> k) * span + vals
        perm = perm[np.argsort(keys[perm], kind="stable")]
        skeys = keys[perm]
        np.cumsum(wts[perm], out=cw[1:])
        sel = np.flatnonzero((lim >> k) & 1)
        if len(sel):
            base = ((lim[sel] >> k) - 1) * span
            target = base + qv[sel]
            clo = cw[np.searchsorted(skeys, target, "left")]
            less[sel] += clo - cw[np.searchsorted(skeys, base + qfloor[sel], "left")]
            equal[sel] += cw[np.searchsorted(skeys, target, "right")] - clo
        k += 1
    return less, equal


def _concordance_counts(t, d, x, w, s):
    """R's concordance3 over all strata at once: pair counts (before ``reverse``) and per-row influence counts — for an
    event, the comparable longer times of its stratum with larger, smaller and equal x; for every row, the earlier
    events of its stratum it outlived with smaller, larger and equal x. Values are ranked within stratum
    (key = dense rank of (stratum, x)), so a prefix of the (stratum, −time) order never mixes strata."""
    order = np.lexsort((d, -t, s))
    t, d, x, w, s = t[order], d[order], x[order], w[order], s[order]
    n = len(t)
    _, xr = np.unique(x, return_inverse=True)
    _, key = np.unique(s.astype(np.int64) * (int(xr.max(initial=0)) + 1) + xr, return_inverse=True)
    key = key.astype(np.int64).ravel()
    snew = np.ones(n, dtype=bool)
    snew[1:] = s[1:] != s[:-1]
    sstart = np.flatnonzero(snew)
    srow = np.repeat(sstart, np.diff(np.append(sstart, n)))
    floor = np.repeat(np.minimum.reduceat(key, sstart), np.diff(np.append(sstart, n)))
    new = snew.copy()
    new[1:] |= (t[1:] != t[:-1]) | (d[1:] != d[:-1])
    bstart = np.flatnonzero(new)
    blk = np.cumsum(new) - 1
    dead = np.flatnonzero(d)
    wd = w[dead]
    # events: comparators are the rows of the stratum before the block of events at the same time
    blk = blk.astype(np.int64)
    less, equal = _prefix_counts(blk, key, w, blk[dead], key[dead], floor[dead])
    cw = np.concatenate([[0.0], np.cumsum(w)])
    greater = cw[bstart[blk[dead]]] - cw[srow[dead]] - less - equal
    counts = np.array([wd @ greater, wd @ less, wd @ equal, 0.0, 0.0])
    infl = np.zeros((n, 3))
    infl[dead, 0], infl[dead, 1], infl[dead, 2] = greater, less, equal
    # every row: the events of its stratum at later positions (earlier times), past its own tied events
    nd_before = np.concatenate([[0], np.cumsum(d)])
    bend = np.append(bstart[1:], n)[blk]
    lim2 = nd_before[np.where(d, bend, np.arange(1, n + 1))].astype(np.int64)
    dnew = np.append(True, blk[dead][1:] != blk[dead][:-1])
    dblk = (np.cumsum(dnew) - 1).astype(np.int64)                  # the blocks of tied events, numbered
    dblocks_before = np.concatenate([[0], np.cumsum(dnew)]).astype(np.int64)
    pl, pe = _prefix_counts(dblk, key[dead], wd, dblocks_before[lim2], key, floor)
    dw_by_key = np.bincount(key[dead], weights=wd, minlength=int(key.max(initial=0)) + 1)
    cum = np.concatenate([[0.0], np.cumsum(dw_by_key)])
    send = np.append(sstart[1:], n)[np.cumsum(snew) - 1]
    s_less, s_eq = cum[key] - cum[floor] - pl, dw_by_key[key] - pe
    cwd = np.concatenate([[0.0], np.cumsum(wd)])
    s_gt = (cwd[nd_before[send]] - cwd[lim2]) - s_less - s_eq
    infl[:, 0] += s_less
    infl[:, 1] += s_gt
    infl[:, 2] += s_eq
    tied_y = _tied_pairs(dblk, wd)
    counts[4] = _tied_pairs(np.unique(dblk * (np.int64(key.max(initial=0)) + 1) + key[dead], return_inverse=True)[1],
                            wd)
    counts[3] = tied_y - counts[4]
    back = np.empty(n, dtype=int)
    back[order] = np.arange(n)
    return counts, infl[back]


def _tied_pairs(group: np.ndarray, w: np.ndarray) -> float:
    """Σ over pairs of events in the same group of the product of their weights."""
    s1 = np.bincount(group.ravel(), weights=w)
    s2 = np.bincount(group.ravel(), weights=w * w)
    return float(((s1 ** 2 - s2) / 2).sum())


def concordance(durations, events, predictor, *, strata=None, weights=None, higher_is_riskier: bool = True,
                confidence: float = 0.95) -> Concordance:
    """Harrell's C of ``predictor`` for right-censored times, as R's ``concordancefit`` (timewt "n"): a pair is
    comparable when the shorter time is an event (a censored time equal to an event time counts as longer); ties in
    the predictor count ½; pairs are formed within strata only. ``higher_is_riskier=True`` is R's ``reverse=TRUE``
    (a Cox linear predictor). The SE is R's infinitesimal jackknife; the CI is estimate ± z·se."""
    confidence = params.confidence(confidence)
    t = np.asarray(durations, dtype=float)
    d = _event_flags(events, len(t))
    x = np.asarray(predictor, dtype=float)
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    if len(x) != len(t) or len(w) != len(t) or not (np.isfinite(t).all() and np.isfinite(x).all()):
        raise ValueError("durations, events, predictor and weights must be finite and of one length")
    s = np.zeros(len(t), dtype=np.int64) if strata is None else _codes(strata, len(t), "strata")[0]
    counts, infl = _concordance_counts(t, d, x, w, s)
    npair = counts[:3].sum()
    with np.errstate(all="ignore"):
        somer = (counts[0] - counts[1]) / npair
        dfbeta = ((infl[:, 0] - infl[:, 1]) - infl.sum(axis=1) * somer) * w / (2 * npair)
    est = (somer + 1) / 2
    conc, disc = counts[0], counts[1]
    if higher_is_riskier:
        est, conc, disc = 1 - est, counts[1], counts[0]
    se = float(np.sqrt(np.sum(dfbeta ** 2)))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return Concordance(float(est), se, float(est - z * se), float(est + z * se), float(conc), float(disc),
                       float(counts[2]), float(counts[3]), float(counts[4]), len(t))


def cox_concordance(design: CoxDesign, *, confidence: float = 0.95) -> Concordance:
    """The concordance ``summary.coxph`` prints: C of the linear predictor Xβ (within strata), with its SE. Xβ is
    summed column by column so that rows with equal covariates tie exactly (a BLAS product may round them apart)."""
    if design.beta is None:
        raise ValueError("the design has no coefficients: fit the model first")
    lp = np.zeros(design.n)
    for col, b in zip(design.x.T, np.nan_to_num(design.beta)):
        lp += col * b
    return concordance(design.durations, design.events, lp, strata=design.strata, weights=design.weights,
                       confidence=confidence)


# ====================================================================================================================
# Monotone likelihood: coefficients that run to ±infinity
# ====================================================================================================================
@dataclass(frozen=True)
class MonotoneCheck:
    """``table``: one row per column — column, term, coef and se (R's fit), members and events (0/1 columns),
    separation ("+"/"-": the event has the largest/smallest value of its risk set at every event time, so the
    likelihood rises for ever as β → ±∞), flat (no variation within any risk set), r_infinite, singular
    (R's warning and NA rules), affected. ``affected_terms``: the terms to pool or drop before refitting."""

    table: pd.DataFrame
    affected_columns: tuple[str, ...]
    affected_terms: tuple[str, ...]
    converged: bool


def _separation(design: CoxDesign) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rk = _risk(design, center=False)
    grp = np.repeat(np.arange(len(rk.gstart)), np.diff(np.append(rk.gstart, design.n)))
    xs = design.x[rk.order]
    back = slice(None, None, -1)
    gmax = pd.DataFrame(np.maximum.reduceat(xs, rk.gstart, axis=0)[back]).groupby(rk.gstrat[back], sort=False)
    gmin = pd.DataFrame(np.minimum.reduceat(xs, rk.gstart, axis=0)[back]).groupby(rk.gstrat[back], sort=False)
    gmax, gmin = gmax.cummax().to_numpy()[back], gmin.cummin().to_numpy()[back]
    xe = xs[rk.deaths]
    hi, lo = gmax[grp[rk.deaths]], gmin[grp[rk.deaths]]
    top = (xe >= hi).all(axis=0)
    bottom = (xe <= lo).all(axis=0)
    flat = (hi == lo).all(axis=0)
    return top & ~flat, bottom & ~flat, flat


def monotone_likelihood(design: CoxDesign, *, ties: str = "efron") -> MonotoneCheck:
    """Find coefficients whose partial likelihood is monotone (an infinite estimate): a level with no events among its
    members, a column that separates the events from their risk sets, and R's own rules on its fit (Newton step still
    large after the log-likelihood converged; a singular pivot; no convergence). No warning escapes."""
    fit = cox_fit(design, ties=ties)
    top, bottom, flat = _separation(design)
    d, x = design.events, design.x
    binary = np.all(np.isin(x, (0.0, 1.0)), axis=0)
    members = np.where(binary, (x == 1).sum(axis=0), -1)
    events = np.where(binary, (x[d] == 1).sum(axis=0), -1)
    term_of = {c: t for t, cols in design.terms.items() for c in cols}
    cols = list(design.columns)
    table = pd.DataFrame({
        "column": cols, "term": [term_of[c] for c in cols],
        "coef": fit.coef.to_numpy(), "se": fit.se.to_numpy(),
        "members": pd.Series(members, dtype="Int64").where(binary),
        "events": pd.Series(events, dtype="Int64").where(binary),
        "separation": np.where(top, "+", np.where(bottom, "-", "")),
        "flat": flat,
        "r_infinite": [c in fit.infinite for c in cols],
        "singular": [c in fit.singular for c in cols],
    })
    table["affected"] = (table["separation"] != "") | table["flat"] | table["r_infinite"] | table["singular"]
    if not fit.converged:
        table["affected"] |= ~np.isfinite(table["se"]) | (table["se"] > 1e3 * (1 + table["coef"].abs()))
    affected = tuple(table.loc[table["affected"], "column"])
    terms = tuple(dict.fromkeys(term_of[c] for c in affected))
    return MonotoneCheck(table, affected, terms, fit.converged)


# ====================================================================================================================
# Kaplan–Meier: median with its CI, restricted mean with its SE (survfit / survmean)
# ====================================================================================================================
def _km(t: np.ndarray, d: np.ndarray):
    """R's survfitKM over every distinct time: time, n.risk, n.event, surv and the Greenwood SE of log S."""
    ut, inv = np.unique(t, return_inverse=True)
    n_event = np.bincount(inv, weights=d.astype(float))
    n_risk = np.bincount(inv)[::-1].cumsum()[::-1].astype(float)
    with np.errstate(all="ignore"):
        surv = np.cumprod(1 - n_event / n_risk)
        gw = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
        std = np.sqrt(np.cumsum(gw))
    return ut, n_risk, n_event, surv, std


def _km_band(surv, std, conf_type: str, confidence: float):
    """``survfit_confint`` (conf.lower = "usual"): NaN where R gives NA."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(all="ignore"):
        if conf_type == "plain":
            half = std * surv * z
            lo, hi = np.maximum(surv - half, 0), np.minimum(surv + half, 1)
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lo = np.where(std == 0, surv, np.exp(np.log(xx) - z * std))
            hi = np.minimum(np.where(std == 0, surv, np.exp(np.log(xx) + z * std)), 1)
        else:
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            half = z * std / np.log(xx)
            lo = np.where(std == 0, surv, np.exp(-np.exp(np.log(-np.log(xx)) - half)))
            hi = np.where(std == 0, surv, np.exp(-np.exp(np.log(-np.log(xx)) + half)))
    return lo, hi


def _first_below_half(y: np.ndarray, x: np.ndarray) -> float:
    """R's survmean ``minmin``: the first x with y < ½; at y == ½ (to √eps) the midpoint to the next drop."""
    tol = np.sqrt(np.finfo(float).eps)
    keep = ~np.isnan(y) & (y < 0.5 + tol)
    if not keep.any():
        return np.nan
    x, y = x[keep], y[keep]
    if abs(y[0] - 0.5) < tol and (y < y[0]).any():
        return float((x[0] + x[np.argmax(y < y[0])]) / 2)
    return float(x[0])


def _groups(durations, events, groups):
    t = np.asarray(durations, dtype=float)
    d = _event_flags(events, len(t))
    if not np.isfinite(t).all():
        raise ValueError("durations must be finite")
    if groups is None:
        return [("all", np.arange(len(t)))], t, d
    codes, labels = _codes(groups, len(t), "groups")
    return [(lab, np.flatnonzero(codes == k)) for k, lab in enumerate(labels)], t, d


def km_median(durations, events, groups=None, *, confidence: float = 0.95, conf_type: str = "log") -> pd.DataFrame:
    """Kaplan–Meier median per group with R's CI: the times where the lower and upper pointwise bands of
    ``survfit(..., conf.type=conf_type)`` cross ½ (NaN where a band never does). Columns: group, estimate, ci_low,
    ci_high, conf_type, n, events. Equal to R's ``print(survfit(...))`` for "log" (R's default), "log-log", "plain"."""
    confidence = params.confidence(confidence)
    conf_type = params.choice(*CONF_TYPES)(conf_type, "conf_type")
    parts, t, d = _groups(durations, events, groups)
    rows = []
    for label, idx in parts:
        ut, _, _, surv, std = _km(t[idx], d[idx])
        lo, hi = _km_band(surv, std, conf_type, confidence)
        rows.append({"group": label, "estimate": _first_below_half(surv, ut), "ci_low": _first_below_half(lo, ut),
                     "ci_high": _first_below_half(hi, ut), "conf_type": conf_type, "n": len(idx),
                     "events": int(d[idx].sum())})
    return pd.DataFrame(rows)


def rmst(durations, events, groups=None, *, tau: float, confidence: float = 0.95) -> pd.DataFrame:
    """Restricted mean survival time ∫₀^τ S(t) dt per group with R's standard error (``survmean``: Σ_k A_k² d_k /
    (n_k(n_k − d_k)), A_k the area from t_k to τ) and the normal CI estimate ± z·se. Columns: group, estimate, se,
    ci_low, ci_high, tau, n, events. Equal to R's ``print(survfit(...), rmean=tau)`` *rmean and *se(rmean)."""
    confidence = params.confidence(confidence)
    parts, t, d = _groups(durations, events, groups)
    tau = float(tau)
    if not np.isfinite(tau) or tau < t.min():
        raise ParameterError("tau", tau, "must be at least the shortest duration")
    z = stats.norm.ppf(0.5 + confidence / 2)
    rows = []
    for label, idx in parts:
        ut, n_risk, n_event, surv, _ = _km(t[idx], d[idx])
        keep = ut <= tau
        with np.errstate(all="ignore"):
            hh = np.where(n_risk - n_event == 0, 0.0, n_event / (n_risk * (n_risk - n_event)))[keep]
        tt = np.append(ut[keep], tau)
        ss = np.append(surv[keep], surv[keep][-1] if keep.any() else 1.0)
        hh = np.append(hh, 0.0)
        start = min(0.0, float(t.min()))
        rect = np.diff(np.append(start, tt)) * np.append(1.0, ss[:-1])
        after = np.cumsum(rect[1:][::-1])[::-1]
        est = float(rect.sum())
        se = float(np.sqrt(np.sum(after ** 2 * hh[:-1])))
        rows.append({"group": label, "estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
                     "tau": tau, "n": len(idx), "events": int(d[idx].sum())})
    return pd.DataFrame(rows)


# ====================================================================================================================
# k-group log-rank test (survdiff)
# ====================================================================================================================
@dataclass(frozen=True)
class LogrankTest:
    """``table``: group, n, observed, expected (summed over strata)."""

    statistic: float
    df: int
    p_value: float
    table: pd.DataFrame


def logrank_test(durations, events, groups, *, strata=None, rho: float = 0.0) -> LogrankTest:
    """The k-group log-rank test of R's ``survdiff`` (hypergeometric variance, tied times; ``strata`` sums the
    per-stratum O − E and variances; ``rho`` > 0 weights each time by S(t−)^rho, Fleming–Harrington G-rho).
    df = groups with expected > 0, minus 1."""
    rho = params.non_negative(rho, "rho")
    t = np.asarray(durations, dtype=float)
    d = _event_flags(events, len(t))
    gcode, glabels = _codes(groups, len(t), "groups")
    k = len(glabels)
    if k < 2 or not np.isfinite(t).all():
        raise ValueError("groups must have at least two distinct labels and durations must be finite")
    scode = np.zeros(len(t), dtype=int) if strata is None else _codes(strata, len(t), "strata")[0]
    order = np.lexsort((t, scode))
    ts, ss = t[order], scode[order]
    new = np.ones(len(t), dtype=bool)
    new[1:] = (ts[1:] != ts[:-1]) | (ss[1:] != ss[:-1])
    gid = np.cumsum(new) - 1
    ng = int(gid[-1]) + 1
    gstrat = ss[new]
    cell = gid * k + gcode[order]
    at = np.bincount(cell, minlength=ng * k).reshape(ng, k).astype(float)
    dead = np.bincount(cell, weights=d[order].astype(float), minlength=ng * k).reshape(ng, k)
    risk = _seg_cumsum(at, gstrat, reverse=True)
    n = risk.sum(axis=1)
    dt = dead.sum(axis=1)
    wt = np.ones(ng)
    if rho != 0:
        km = pd.Series(1 - dt / n).groupby(gstrat, sort=False).cumprod().to_numpy()
        first = np.append(True, gstrat[1:] != gstrat[:-1])
        wt = np.where(first, 1.0, np.append(1.0, km[:-1])) ** rho
    frac = risk / n[:, None]
    obs = wt @ dead
    exp = (wt * dt) @ frac
    with np.errstate(all="ignore"):
        c = np.where(n > 1, wt ** 2 * dt * (n - dt) / (n - 1), 0.0)
    var = np.diag(c @ frac) - (frac * c[:, None]).T @ frac
    used = exp > 0
    df = int(used.sum()) - 1
    if df < 1:
        stat = 0.0
    else:
        idx = np.flatnonzero(used)[1:]
        diff = (obs - exp)[idx]
        stat = float(diff @ np.linalg.solve(var[np.ix_(idx, idx)], diff))
    table = pd.DataFrame({"group": list(glabels), "n": np.bincount(gcode, minlength=k), "observed": obs,
                          "expected": exp})
    return LogrankTest(stat, df, float(stats.chi2.sf(stat, df)) if df >= 1 else np.nan, table)
