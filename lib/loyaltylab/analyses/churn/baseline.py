"""Predictions from a Cox model: the baseline cumulative hazard where the data support it, conditional churn
probability, survival and risk scores.

Supported baselines (the rule behind the early warning, ``at_risk.csv``, the validation and CLV)
    A baseline hazard (one per stratum of a stratified model) is used as estimated only up to the tenure at which
    :data:`SUPPORT_AT_RISK` (50) of its customers are still at risk — or half of them in a stratum of fewer than
    100. Beyond that tenure the Breslow steps rest on a handful of customers (on Telco, strata with 7–12 customers
    left put 63–72-month customers at the top of the action list with 30–65% predicted churn), so the hazard is
    continued at a constant rate instead: the stratum's average rate over the window holding its last
    :data:`TAIL_EVENTS` (20) churn events before that tenure (at least the last 10% of its supported follow-up).
    The same constant-rate tail extends every baseline beyond the longest tenure observed. ``extrapolated`` marks
    the customers whose horizon reaches past the supported part.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loyaltylab.analyses.churn.km import step_at

if TYPE_CHECKING:
    from loyaltylab.analyses.churn.cox import CoxResult
    from loyaltylab.analyses.churn.data import SurvivalData

SUPPORT_AT_RISK = 50      # a baseline is used while at least this many of its customers are at risk
TAIL_EVENTS = 20          # events in the window that sets the constant-rate tail beyond the supported part


@dataclass(frozen=True)
class Baseline:
    """One baseline cumulative hazard H0 (lifelines' centred covariates): its steps up to ``supported_until``, and
    the window over which the constant-rate tail is averaged."""

    times: np.ndarray
    values: np.ndarray
    supported_until: float       # the tenure at which SUPPORT_AT_RISK customers were still at risk
    tail_window: float
    follow_up: float             # the longest tenure in the stratum
    customers: int


def support_threshold(n_customers: int, at_risk: int = SUPPORT_AT_RISK) -> int:
    """Customers that must remain at risk: ``at_risk``, or half a stratum smaller than twice that (at least 1)."""
    return int(max(1, min(at_risk, math.ceil(n_customers / 2))))


def supported_baseline(times: np.ndarray, values: np.ndarray, durations: np.ndarray, events: np.ndarray, *,
                       at_risk: int = SUPPORT_AT_RISK, tail_events: int = TAIL_EVENTS) -> Baseline:
    """The :class:`Baseline` of one stratum from its Breslow steps and its customers' durations and events."""
    d = np.sort(np.asarray(durations, dtype=float))[::-1]
    need = support_threshold(len(d), at_risk)
    until = float(d[need - 1]) if len(d) else 0.0
    keep = np.asarray(times, dtype=float) <= until
    ev = np.sort(np.asarray(durations, dtype=float)[(np.asarray(events) == 1) & (np.asarray(durations) <= until)])
    start = float(ev[-tail_events]) if len(ev) >= tail_events else 0.0
    window = max(until - start, 0.1 * until)
    return Baseline(np.asarray(times, dtype=float)[keep], np.asarray(values, dtype=float)[keep], until,
                    float(window) if window > 0 else 1e-9, float(d[0]) if len(d) else 0.0, int(len(d)))


def stratum_codes(strata: Sequence[str], sd: SurvivalData, index) -> tuple[np.ndarray, list]:
    """(code per row, labels): each row's stratum as a code into ``labels``, the baseline columns lifelines uses —
    the stratum value as text, or a tuple of texts for several strata. Each column is factorised and only its
    distinct values turned into text (at 1M customers ~30× faster than texts per row)."""
    positions = None if index is sd.base.index else sd.base.index.get_indexer(index)
    codes, labels = None, [()]
    for name in strata:
        values = sd.base[name] if positions is None else sd.base[name].take(positions)
        raw, uniques = pd.factorize(values)
        names = list(pd.Index(uniques).astype(str))
        missing = raw < 0
        if missing.any():  # None and NaN read differently as text
            extra, extra_uniques = pd.factorize(values[missing].astype(str).to_numpy(dtype=object))
            raw[missing] = extra + len(names)
            names += list(extra_uniques)
        texts, text_uniques = pd.factorize(np.asarray(names, dtype=object))
        col = texts[raw]
        codes = col if codes is None else codes * len(text_uniques) + col
        labels = [(*a, b) for a in labels for b in text_uniques]
    if codes is None:
        return np.zeros(len(index), dtype=np.intp), [()]
    codes, seen = pd.factorize(codes)
    chosen = [labels[k] for k in seen]
    return codes, [c[0] for c in chosen] if len(strata) == 1 else chosen


def stratum_labels(strata: Sequence[str], sd: SurvivalData, index) -> pd.Series:
    """The baseline column lifelines uses for each row: the stratum value, or a tuple of values for several strata."""
    codes, labels = stratum_codes(strata, sd, index)
    table = np.empty(len(labels), dtype=object)
    table[:] = labels
    return pd.Series(table[codes], index=index, dtype=object)


def fit_baselines(cph, data: pd.DataFrame, strata: Sequence[str], sd: SurvivalData, *,
                  at_risk: int = SUPPORT_AT_RISK) -> dict:
    """Supported baselines of a fitted lifelines CoxPHFitter on ``data`` (duration, event, …): key None for an
    unstratified model, else the stratum label."""
    b = cph.baseline_cumulative_hazard_
    T, E = data["duration"].to_numpy(dtype=float), data["event"].to_numpy(dtype=int)
    if not strata:
        return {None: supported_baseline(b.index.to_numpy(dtype=float), b.iloc[:, 0].to_numpy(dtype=float), T, E,
                                         at_risk=at_risk)}
    codes, uniques = stratum_codes(strata, sd, data.index)
    out = {}
    for k, label in enumerate(uniques):
        if label not in b.columns:
            continue
        col = b[label].dropna()
        m = codes == k
        out[label] = supported_baseline(col.index.to_numpy(dtype=float), col.to_numpy(dtype=float), T[m], E[m],
                                        at_risk=at_risk)
    return out


def baseline_cumhaz(cox: CoxResult) -> tuple[np.ndarray, np.ndarray]:
    """lifelines' Breslow baseline cumulative hazard H0(t) (centred covariates) as (times, values), unsupported
    steps included (the model's own estimate; predictions use :func:`cumhaz_for`)."""
    b = cox.fitter.baseline_cumulative_hazard_
    return b.index.to_numpy(dtype=float), b.iloc[:, 0].to_numpy(dtype=float)


def cumhaz_at(times: np.ndarray, values: np.ndarray, t, *, tail_window: float | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """H0 at ``t`` (a right-continuous step function). Beyond the last time the hazard is extended at the average
    rate of the last ``tail_window`` (default: the last 10% of follow-up) — a constant-hazard tail instead of a
    flat one, which would say nobody churns after the longest tenure seen. Returns (H0, extrapolated)."""
    t = np.asarray(t, dtype=float)
    if not len(times):
        return np.zeros(t.shape), np.ones(t.shape, dtype=bool)
    h = step_at(times, values, t, before=0.0)
    tau = float(times[-1])
    window = float(tail_window) if tail_window else 0.1 * tau
    window = min(max(window, 1e-9), tau) if tau > 0 else 1e-9
    start = step_at(times, values, np.array([tau - window]), before=0.0)[0]
    rate = max((float(values[-1]) - start) / window, 0.0)
    beyond = t > tau
    h = np.where(beyond, float(values[-1]) + rate * (t - tau), h)
    return h, beyond


def _at(base: Baseline, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """H0 of one supported baseline: its steps up to ``supported_until``, then the constant-rate tail."""
    times, values = base.times, base.values
    if len(times) and times[-1] < base.supported_until:      # no step between the last event and the cap
        times, values = np.append(times, base.supported_until), np.append(values, values[-1])
    return cumhaz_at(times, values, t, tail_window=base.tail_window)


def cumhaz_for(cox: CoxResult, sd: SurvivalData, index, t, codes: tuple[np.ndarray, list] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Supported baseline cumulative hazard H0(t_i) for each row in ``index`` (its own stratum's for a stratified
    model; NaN for a stratum the model has not seen). ``t``: one time per row, or a (rows × k) array. ``codes``:
    :func:`stratum_codes` of these rows when the caller has them. Returns (H0, extrapolated: beyond the supported
    part) with the shape of ``t``."""
    t = np.asarray(t, dtype=float)
    if not cox.strata:
        return _at(cox.baselines[None], t)
    codes, uniques = codes if codes is not None else stratum_codes(cox.strata, sd, index)
    h = np.full(t.shape, np.nan)
    beyond = np.zeros(t.shape, dtype=bool)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    for k, label in enumerate(uniques):
        base = cox.baselines.get(label)
        if base is None:
            continue
        rows = order[bounds[k]:bounds[k + 1]]
        h[rows], beyond[rows] = _at(base, t[rows])
    return h, beyond


def cumhaz_on_grid(cox: CoxResult, labels: list | None, times) -> np.ndarray:
    """H0 at the same ``times`` for every stratum in ``labels`` (one row each; NaN for a stratum the model has not
    seen), or one row for an unstratified model: what :func:`cumhaz_for` gives each of a stratum's rows when they
    all share the times — computed once per stratum rather than once per row."""
    times = np.asarray(times, dtype=float)
    if not cox.strata:
        return _at(cox.baselines[None], times)[0][None, :]
    out = np.full((len(labels), len(times)), np.nan)
    for k, label in enumerate(labels):
        base = cox.baselines.get(label)
        if base is not None:
            out[k] = _at(base, times)[0]
    return out


def partial_hazard(cox: CoxResult, X: pd.DataFrame) -> np.ndarray:
    """exp((x − x̄)'β) as lifelines uses it with its baseline (x̄ = the fitting data's means)."""
    cph = cox.fitter
    cols = list(cph.params_.index)
    lp = (X[cols].to_numpy(dtype=float) - cph._norm_mean[cols].to_numpy(dtype=float)) @ cph.params_[cols].to_numpy()
    return np.exp(lp)


def risk_score(cox: CoxResult, sd: SurvivalData, index, t: float) -> np.ndarray:
    """H0_stratum(t)·exp(x'β): a ranking score that respects the strata (= the partial hazard without strata)."""
    X = sd.frame.loc[index]
    if not cox.strata:
        return partial_hazard(cox, X)
    h, _ = cumhaz_for(cox, sd, index, np.full(len(X), float(t)))
    return h * partial_hazard(cox, X)


def conditional_churn_probability(cumhaz_now: np.ndarray, cumhaz_later: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """P(churn in (t, t+h] | survived to t) = 1 − S(t+h|x)/S(t|x) = 1 − exp(−(H0(t+h) − H0(t))·exp(x'β))."""
    return -np.expm1(-(np.asarray(cumhaz_later) - np.asarray(cumhaz_now)) * np.asarray(partial))


def predict_survival(cox: CoxResult, X: pd.DataFrame, t: float, sd: SurvivalData | None = None) -> np.ndarray:
    """S(t | x) under the Cox model with its supported baseline (a stratified model needs ``sd`` for each row's
    stratum)."""
    if cox.strata and sd is None:
        raise ValueError("a stratified model needs sd to look up each row's stratum")
    if cox.strata:
        h0, _ = cumhaz_for(cox, sd, X.index, np.full(len(X), float(t)))
        return np.exp(-h0 * partial_hazard(cox, X))
    h0, _ = _at(cox.baselines[None], np.array([float(t)]))
    return np.exp(-h0[0] * partial_hazard(cox, X))
