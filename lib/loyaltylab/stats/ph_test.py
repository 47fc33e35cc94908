"""The proportional-hazards test of R's survival ≥ 3.0 ``cox.zph``: an exact score test per term and global.

For a term with columns j the test adds g(t)·x_j to the model and computes the score test of those coefficients at
(β̂, 0): U₂ = Σ_events g(t_i)(x_i − x̄(t_i)) against the full 2p × 2p information matrix (R's C routine zph1; the
pre-3.0 approximation used by lifelines' ``proportional_hazard_test`` replaces that matrix by a diagonal one). A factor
with k levels is one test on k−1 df. One pass over the rows sorted by time: O(n log n + n·p²).

The scaled Schoenfeld residuals (+ β̂, per term) with the transformed time are returned as data for the usual plot
with a smooth. Tested against R 4.2 / survival 3.5.3 ``cox.zph`` (tests/test_stats_survival.py).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import params
from loyaltylab.stats.survival import TIES, CoxDesign, _cox_sums, _info, _risk, cox_design_from_fitter, cox_fit

TRANSFORMS = ("km", "rank", "identity", "log")


@dataclass(frozen=True)
class PHTest:
    """``table``: term, chisq, df, p_value, one row per term and a last row "GLOBAL".
    ``residuals``: one row per event sorted by (stratum, time) — time, transformed_time, stratum (stratified
    models), and per term the scaled Schoenfeld residual + β̂ (+1 for a multi-column term: its linear predictor);
    NaN where the term does not vary within the stratum. ``var``: R's ``zph$var``. Equal to R's ``cox.zph``."""

    table: pd.DataFrame
    residuals: pd.DataFrame
    var: pd.DataFrame
    transform: str


def _transform(times: np.ndarray, events: np.ndarray, transform) -> tuple[np.ndarray, str]:
    if callable(transform):
        return np.asarray(transform(times), dtype=float), getattr(transform, "__name__", "user")
    transform = params.choice(*TRANSFORMS)(transform, "transform")
    if transform == "identity":
        return times.astype(float), transform
    if transform == "log":
        with np.errstate(divide="ignore"):
            return np.log(times), transform
    if transform == "rank":
        return stats.rankdata(times), transform
    ut, inv = np.unique(times, return_inverse=True)
    dead = np.bincount(inv, weights=events.astype(float))
    at_risk = np.bincount(inv)[::-1].cumsum()[::-1]
    surv = np.cumprod(1 - dead / at_risk)
    return 1.0 - np.append(1.0, surv)[np.searchsorted(ut, times, "left")], transform


def cox_zph(design: CoxDesign, *, transform: str | Callable = "km", terms: Mapping[str, Sequence[str]] | None = None,
            global_test: bool = True, ties: str = "efron") -> PHTest:
    """R's ``cox.zph(fit, transform, terms=TRUE)`` at the design's coefficients (or :func:`cox_fit`'s when
    ``design.beta`` is None). ``terms`` overrides the design's term → columns map; pass one term per column for
    R's ``terms=FALSE``. ``transform``: "km" (1 − left-continuous KM of all rows, R's default), "rank", "identity",
    "log" or a function of the times. Stratified models use R's within-stratum risk sets and residual scaling."""
    ties = params.choice(*TIES)(ties, "ties")
    beta = cox_fit(design, ties=ties).coef.to_numpy() if design.beta is None else design.beta
    keep = np.isfinite(beta)
    cols = [c for c, k in zip(design.columns, keep) if k]
    terms = design.terms if terms is None else {str(t): tuple(map(str, cs)) for t, cs in terms.items()}
    unknown = sorted({c for cs in terms.values() for c in cs} - set(design.columns))
    if unknown:
        raise ValueError(f"terms name columns that are not in the design: {unknown}")
    term_cols = {t: tuple(c for c in cs if c in cols) for t, cs in terms.items()}
    term_cols = {t: cs for t, cs in term_cols.items() if cs}
    pos = {c: i for i, c in enumerate(cols)}
    asgn = [np.array([pos[c] for c in cs]) for cs in term_cols.values()]
    x = design.x[:, keep]
    beta = beta[keep]
    sub = CoxDesign(x, design.durations, design.events, tuple(cols), term_cols, beta, design.strata,
                    design.strata_labels, design.weights)
    p = len(cols)

    tt, tname = _transform(design.durations, design.events, transform)
    gtime = tt - tt[design.events].mean()
    rk = _risk(sub)
    s = _cox_sums(rk, beta, ties, info=False)
    gam = gtime[rk.order][rk.deaths]
    ngroups = len(rk.gstart)
    ggrp = np.zeros(ngroups)
    ggrp[rk.dgroup] = gam
    wd = rk.w[rk.deaths]
    u2 = (wd * gam) @ rk.x[rk.deaths] - (s.omega * gam) @ s.m
    imat = np.empty((2 * p, 2 * p))
    imat[:p, :p] = _info(rk, s.r, s.a, s.b, s.m, s.omega)
    imat[:p, p:] = _info(rk, s.r, s.a * ggrp, s.b * ggrp, s.m, s.omega * gam)
    imat[p:, :p] = imat[:p, p:].T
    imat[p:, p:] = _info(rk, s.r, s.a * ggrp ** 2, s.b * ggrp ** 2, s.m, s.omega * gam ** 2)

    chisq, df = [], []
    for jj in asgn:
        kk = np.concatenate([np.arange(p), jj + p])
        u = np.concatenate([np.zeros(p), u2[jj]])
        chisq.append(float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u)))
        df.append(len(jj))
    names = list(term_cols)
    if global_test:
        u = np.concatenate([np.zeros(p), u2])
        chisq.append(float(u @ np.linalg.solve(imat, u)))
        df.append(p)
        names.append("GLOBAL")
    table = pd.DataFrame({"term": names, "chisq": chisq, "df": df})
    table["p_value"] = stats.chi2.sf(table["chisq"], table["df"])

    resid, var = _scaled_residuals(rk, s, imat[:p, :p], beta, asgn)
    rows = rk.order[rk.deaths]
    out = pd.DataFrame({"time": design.durations[rows], "transformed_time": tt[rows]})
    if design.strata is not None:
        out["stratum"] = np.asarray(design.strata_labels, dtype=object)[design.strata[rows]]
    for name, col in zip(term_cols, resid.T):
        out[name] = col
    return PHTest(table, out, pd.DataFrame(var, index=list(term_cols), columns=list(term_cols)), tname)


def _scaled_residuals(rk, s, imat, beta, asgn):
    """Schoenfeld residuals scaled by the per-stratum average information, as R's cox.zph."""
    dd = rk.deaths
    reps = np.diff(np.append(rk.dstart, len(dd)))
    schoen = rk.x[dd] - np.repeat(np.add.reduceat(s.m, rk.dstart, axis=0), reps, axis=0) / rk.dcount[:, None]
    dstrat = rk.strat[dd]
    strata = np.unique(rk.strat)
    bounds = np.searchsorted(dstrat, np.append(strata, strata[-1] + 1))
    lo = np.minimum.reduceat(rk.x, rk.sstart, axis=0)
    hi = np.maximum.reduceat(rk.x, rk.sstart, axis=0)
    used = np.where(hi > lo, np.diff(bounds)[:, None], 0)
    for jj in asgn:
        if len(jj) > 1 and (used[:, jj] == 0).any():
            used[:, jj] = used[:, jj].max(axis=1, keepdims=True)
    wtmat = sum(np.minimum.outer(row, row) for row in used)
    vmean = imat / np.where(wtmat == 0, 1, wtmat)
    temp = np.zeros((len(beta), len(asgn)))
    for i, jj in enumerate(asgn):
        temp[jj, i] = 1.0 if len(jj) == 1 else beta[jj]
    sresid = schoen @ temp
    vmean = temp.T @ vmean @ temp
    used = used[:, [jj[0] for jj in asgn]]
    for k in range(len(strata)):
        kk = used[k] > 0
        rows = slice(bounds[k], bounds[k + 1])
        if kk.any():
            sresid[rows, kk] = np.linalg.solve(vmean[np.ix_(kk, kk)], sresid[rows][:, kk].T).T
            sresid[rows, ~kk] = np.nan
    add = np.array([beta[jj[0]] if len(jj) == 1 else 1.0 for jj in asgn])
    return sresid + add, np.linalg.inv(vmean)


def ph_test_from_fitter(fitter, data: pd.DataFrame, *, terms: Mapping[str, Sequence[str]] | None = None,
                        transform: str | Callable = "km") -> PHTest:
    """:func:`cox_zph` for a fitted lifelines ``CoxPHFitter`` (unpenalised; strata and weights as fitted) and the
    frame it was fitted on."""
    return cox_zph(cox_design_from_fitter(fitter, data, terms=terms), transform=transform)
