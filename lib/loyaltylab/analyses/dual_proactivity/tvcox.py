"""Cox regression on counting-process data (start, stop] — covariates that change over time, such as a customer's
failure status, which changes at each incident date.

lifelines' ``CoxTimeVaryingFitter`` gives the same estimates but loops over event times in Python: 92 s for
100,000 customers on the course data, far too slow for a million. :func:`fit_counting` computes the Efron (or
Breslow) partial likelihood with weighted counts over the sorted event times — O(n·p²) per Newton step — and is
tested against ``CoxTimeVaryingFitter`` (coefficients and standard errors) and, with every start at 0, against R's
``coxph`` (:func:`loyaltylab.stats.survival.cox_fit`). Identical rows (discrete covariates, whole days) are counted
once with a frequency weight, which leaves the Efron likelihood unchanged. :func:`status_intervals` turns customers' lifetimes and
dated incidents into those (start, stop] rows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import params
from loyaltylab.errors import DataError

TIES = ("efron", "breslow")


@dataclass(frozen=True)
class CountingFit:
    """A fitted Cox model: ``table`` has ``covariate, coef, se, hazard_ratio, ci_low, ci_high, p_value`` (intervals
    for the hazard ratio at ``confidence``); ``cov`` is the inverse information; ``loglik_null`` (β = 0) is NaN for
    a fit started elsewhere."""

    table: pd.DataFrame
    cov: np.ndarray
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    n_rows: int
    events: int
    ties: str
    confidence: float


class _Risk:
    """The data of a fit, prepared once: identical rows (risk window, event, covariates) counted once with a
    frequency weight (exactly equivalent to the replicated rows), covariates centred, rows whose risk window starts
    at time 0 first. Per evaluation, :meth:`sums` computes S0, S1, S2 over every risk set and D0, D1, D2 over the
    deaths at each event time with weighted ``bincount`` s, one pair of covariates at a time (memory O(rows))."""

    def __init__(self, lo, hi, ev, X, T):
        rows, w = _distinct_rows(lo, hi, ev, X, T)
        lo, hi, ev, Xa = lo[rows], hi[rows], ev[rows], X[rows]
        order = np.argsort(lo > 0, kind="stable")                # windows opening at 0 first
        lo, hi, ev, Xa, w = lo[order], hi[order], ev[order], Xa[order], w[order]
        self.k0 = int(np.sum(lo == 0))
        self.w, self.lo, self.hi, self.T, self.p = w, lo, hi, T, X.shape[1]
        self.XT = np.ascontiguousarray((Xa - X.mean(axis=0)).T)
        self.pairs = [(a, b) for a in range(self.p) for b in range(a, self.p)]
        self.dead = np.flatnonzero(ev)
        self.dj = self.hi[self.dead]                       # a death happens at the end of its window
        self.d = np.bincount(self.dj, weights=self.w[self.dead], minlength=T).round().astype("int64")
        self.x_dead = self.XT[:, self.dead] @ self.w[self.dead]
        self.n_distinct = len(w)

    def _window(self, v: np.ndarray) -> np.ndarray:
        """Σ v over the rows at risk at each event time: windows from 0 by a reversed cumulative sum of where they
        close, the others by +v where they open and −v after they close."""
        T, k = self.T, self.k0
        out = np.cumsum(np.bincount(self.hi[:k], weights=v[:k], minlength=T)[::-1])[::-1]
        if k < len(v):
            diff = np.bincount(self.lo[k:], weights=v[k:], minlength=T + 1) - np.bincount(
                self.hi[k:] + 1, weights=v[k:], minlength=T + 1)
            out = out + np.cumsum(diff)[:T]
        return out

    def sums(self, beta: np.ndarray):
        eta = beta @ self.XT
        r = self.w * np.exp(eta)
        Xr = self.XT * r
        p, T, dead = self.p, self.T, self.dead
        S0, D0 = self._window(r), np.bincount(self.dj, weights=r[dead], minlength=T)
        S1 = np.column_stack([self._window(v) for v in Xr]) if p else np.empty((T, 0))
        D1 = np.column_stack([np.bincount(self.dj, weights=v[dead], minlength=T) for v in Xr]) if p else \
            np.empty((T, 0))
        S2, D2 = np.empty((T, p, p)), np.empty((T, p, p))
        for a, b in self.pairs:
            v = Xr[a] * self.XT[b]
            S2[:, a, b] = S2[:, b, a] = self._window(v)
            D2[:, a, b] = D2[:, b, a] = np.bincount(self.dj, weights=v[dead], minlength=T)
        return float(eta[dead] @ self.w[dead]), S0, S1, S2, D0, D1, D2


def _distinct_rows(lo, hi, ev, X, T) -> tuple[np.ndarray, np.ndarray]:
    """(one row of each distinct (lo, hi, event, covariates), how many rows it stands for). Covariate rows are told
    apart by a random projection and checked with a second, independent one (without aggregation if they ever
    disagree)."""
    rng = np.random.default_rng(0)
    proj, check = (X @ rng.uniform(1.0, 2.0, X.shape[1]) if X.shape[1] else np.zeros(len(lo)) for _ in range(2))
    pattern = pd.factorize(proj)[0].astype("int64")
    key = ((pattern * (T + 2) + lo) * (T + 2) + hi) * 2 + ev.astype("int64")
    codes = pd.factorize(key)[0]                       # numbered in order of first appearance
    first = np.flatnonzero(codes == np.maximum.accumulate(np.r_[-1, codes[:-1]]) + 1) if len(codes) else codes
    if not np.array_equal(check[first][codes], check):
        return np.arange(len(lo)), np.ones(len(lo))
    return first, np.bincount(codes).astype("float64")


def _square(flat: np.ndarray, pairs, p: int) -> np.ndarray:
    out = np.empty((flat.shape[0], p, p))
    for k, (a, b) in enumerate(pairs):
        out[:, a, b] = out[:, b, a] = flat[:, k]
    return out


def _efron_terms(S0, S1, S2, D0, D1, D2, d: np.ndarray, ties: str):
    """Log-likelihood denominator part, its gradient and information, summed over the deaths (Efron: the k-th of
    d tied deaths sees the risk set minus k/d of the dying)."""
    jj = np.repeat(np.arange(len(d)), d)
    if ties == "efron":
        kk = np.arange(len(jj)) - np.repeat(np.cumsum(d) - d, d)
        c = kk / d[jj]
    else:
        c = np.zeros(len(jj))
    den = S0[jj] - c * D0[jj]
    a = (S1[jj] - c[:, None] * D1[jj]) / den[:, None]
    # Σ_k (S2 − c_k D2)/den_k, grouped by event time: (Σ_k 1/den_k)·S2 − (Σ_k c_k/den_k)·D2
    inv = np.bincount(jj, weights=1 / den, minlength=len(d))
    cinv = np.bincount(jj, weights=c / den, minlength=len(d))
    info = np.einsum("j,jab->ab", inv, S2) - np.einsum("j,jab->ab", cinv, D2) - a.T @ a
    return float(np.log(den).sum()), a.sum(axis=0), info


def fit_counting(start, stop, event, X, *, columns=None, ties: str = "efron", confidence: float = 0.95,
                 max_iter: int = 30, eps: float = 1e-9, init=None) -> CountingFit:
    """Cox partial likelihood for rows at risk on (start, stop] with an event at ``stop`` when ``event``; Newton–
    Raphson from ``init`` (default 0) with step halving, stopping when the log-likelihood changes by less than
    ``eps`` relatively. Model-based standard errors (inverse information), Wald intervals and p-values."""
    ties = params.choice(*TIES)(ties, "ties")
    confidence = params.confidence(confidence)
    start = np.asarray(start, dtype="float64")
    stop = np.asarray(stop, dtype="float64")
    event = np.asarray(event).astype(bool)
    X = np.asarray(X, dtype="float64").reshape(len(stop), -1)
    columns = [f"x{i}" for i in range(X.shape[1])] if columns is None else list(columns)
    if not (np.all(np.isfinite(start)) and np.all(np.isfinite(stop)) and np.all(np.isfinite(X))):
        raise DataError(None, None, "start, stop and covariates must be finite")
    if np.any(stop <= start):
        raise DataError(None, None, "every interval needs stop > start")
    times = np.unique(stop[event])
    if len(times) == 0:
        raise DataError(None, None, "no events: a Cox model needs some")
    lo = np.searchsorted(times, start, side="right")          # first event time strictly after start
    hi = np.searchsorted(times, stop, side="right") - 1        # last event time at or before stop
    keep = hi >= lo
    risk = _Risk(lo[keep], hi[keep], event[keep], X[keep], len(times))

    def evaluate(b):
        eta_dead, *sums = risk.sums(b)
        log_den, grad_den, info = _efron_terms(*sums, risk.d, ties)
        return eta_dead - log_den, risk.x_dead - grad_den, info

    beta = np.zeros(X.shape[1]) if init is None else np.asarray(init, dtype="float64").copy()
    ll, grad, info = evaluate(beta)
    ll0, converged, iterations = (ll if init is None else math.nan), False, 0
    while iterations < max_iter:
        iterations += 1
        step = np.linalg.solve(info, grad)
        new = beta + step
        new_ll, new_grad, new_info = evaluate(new)
        halvings = 0
        while (not np.isfinite(new_ll) or new_ll < ll - 1e-12 * abs(ll)) and halvings < 30:
            halvings += 1
            new = beta + step / 2 ** halvings
            new_ll, new_grad, new_info = evaluate(new)
        change = abs(new_ll - ll)
        beta, ll, grad, info = new, new_ll, new_grad, new_info
        if change <= eps * abs(ll):
            converged = True
            break
    cov = np.linalg.inv(info)
    se = np.sqrt(np.diag(cov))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    table = pd.DataFrame({"covariate": columns, "coef": beta, "se": se})
    table["hazard_ratio"] = np.exp(beta)
    table["ci_low"] = np.exp(beta - z * se)
    table["ci_high"] = np.exp(beta + z * se)
    table["p_value"] = 2 * stats.norm.sf(np.abs(beta / se))
    return CountingFit(table, cov, ll, ll0, iterations, converged, int(keep.sum()), int(event[keep].sum()), ties,
                       confidence)


def status_intervals(duration, event, change_customer, change_day, change_status) -> pd.DataFrame:
    """(start, stop] rows per customer with the status in force: customer ``i`` is followed from 0 to
    ``duration[i]`` (an event at the end when ``event[i]``) in status 0 until its first change; a change at day
    ``d`` gives the new status from just after ``d`` on (so an incident on the day a customer leaves is not
    counted as that day's status). Changes at or after the end of follow-up are ignored; several changes on one day
    keep the last. Returns ``customer, start, stop, event, status`` (rows with stop ≤ start dropped).
    """
    duration = np.asarray(duration, dtype="float64")
    event = np.asarray(event).astype(bool)
    n = len(duration)
    cust = np.asarray(change_customer, dtype="int64")
    day = np.maximum(np.asarray(change_day, dtype="float64"), 0.0)
    status = np.asarray(change_status, dtype="int64")
    ok = day < duration[cust]
    cust, day, status = cust[ok], day[ok], status[ok]
    c = np.concatenate([np.arange(n), cust])
    s = np.concatenate([np.zeros(n), day])
    st = np.concatenate([np.zeros(n, dtype="int64"), status])
    order = np.lexsort((np.arange(len(c)), s, c))             # by customer, start, then file order
    c, s, st = c[order], s[order], st[order]
    keep = np.r_[(c[1:] != c[:-1]) | (s[1:] != s[:-1]), True]  # several changes on one day: the last
    c, s, st = c[keep], s[keep], st[keep]
    last = np.r_[c[1:] != c[:-1], True]
    stop = np.where(last, duration[c], np.r_[s[1:], 0.0])
    out = pd.DataFrame({"customer": c, "start": s, "stop": stop, "event": last & event[c], "status": st})
    return out.loc[out["stop"] > out["start"]].reset_index(drop=True)
