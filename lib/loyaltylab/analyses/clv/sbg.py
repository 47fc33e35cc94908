"""Contractual cohort retention with the shifted-beta-geometric (sBG) model.

Fader & Hardie (2007), "How to project customer retention", Journal of Interactive Marketing 21(1): every customer
has a constant churn probability θ per renewal period, θ varies across customers as Beta(α, β). Heterogeneity makes
the cohort's retention rate rise over time (the most churn-prone leave first) — which is why a constant retention
rate understates the value of a customer base (Fader & Hardie 2010, "Customer-base valuation in a contractual
setting: the perils of ignoring heterogeneity", Marketing Science 29(1)).

Input: survivors per period of one cohort (period 0 = everyone acquired), e.g. 1000, 631, 468, ... A retention
*triangle* (younger cohorts observed for fewer periods, later cells blank) is fine: each cohort is fitted on the
periods it has; a cohort with fewer than 3 observed periods cannot be fitted and is skipped (see :func:`fit_cohorts`).

Discount rates: the user gives an annual rate; :func:`period_rate` converts it to the cohort table's period
(year, quarter or month) — DEL/DERL are sums over renewal periods and need the per-period rate. The rate follows
the one rule of every analysis (``params.rate``: 0 ≤ r < 1). At 0 the sums have closed forms that are finite only
for α > 1 (DERL = (β + n)/(α − 1)); with α ≤ 1 the undiscounted expected lifetime is infinite (inf, shown as
"unbounded" and null in results.json).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special

from loyaltylab import params
from loyaltylab.errors import DataError

PERIODS_PER_YEAR = {"year": 1, "quarter": 4, "month": 12}
MIN_PERIODS = 3   # period 0 plus two renewals


def period_rate(annual_rate: float, cohort_period: str = "year") -> float:
    """The discount rate per cohort period equivalent to ``annual_rate``: (1 + r)^(1/k) − 1, k periods a year."""
    cohort_period = params.choice(*PERIODS_PER_YEAR)(cohort_period, "cohort_period")
    annual_rate = params.rate(annual_rate, "discount_rate")
    return float((1.0 + annual_rate) ** (1.0 / PERIODS_PER_YEAR[cohort_period]) - 1.0)


@dataclass(frozen=True)
class SBGFit:
    """Maximum-likelihood sBG estimates for one cohort."""

    alpha: float
    beta: float
    log_likelihood: float
    survivors: tuple[float, ...]  # observed, period 0 first
    cohort: str = "cohort"

    @property
    def n_periods(self) -> int:
        return len(self.survivors) - 1

    @property
    def mean_churn_probability(self) -> float:
        """E[θ] = α / (α + β): the average customer's churn probability per period."""
        return self.alpha / (self.alpha + self.beta)


def survival(alpha: float, beta: float, t) -> np.ndarray:
    """S(t) = B(α, β + t) / B(α, β): the share of a cohort still a customer after t renewal periods."""
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


def churn_probability(alpha: float, beta: float, t) -> np.ndarray:
    """P(T = t) = B(α + 1, β + t − 1) / B(α, β): the share of the cohort lost in period t (t ≥ 1)."""
    t = np.asarray(t, dtype=float)
    return np.exp(special.betaln(alpha + 1, beta + t - 1) - special.betaln(alpha, beta))


def retention_rate(alpha: float, beta: float, t) -> np.ndarray:
    """r_t = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1): rises with t (the sorting effect)."""
    t = np.asarray(t, dtype=float)
    return (beta + t - 1) / (alpha + beta + t - 1)


def _check_survivors(survivors: Sequence[float], source: str) -> np.ndarray:
    s = np.asarray(list(survivors), dtype=float)
    if s.ndim != 1 or len(s) < 3:
        raise DataError(source, "survivors", "needs at least 3 periods (period 0 plus two renewals)")
    bad = ~np.isfinite(s) | (s < 0)
    if bad.any():
        idx = np.flatnonzero(bad)
        raise DataError(source, "survivors", "must be non-negative numbers", idx.tolist(), s[idx].tolist())
    increasing = np.flatnonzero(np.diff(s) > 0) + 1
    if len(increasing):
        raise DataError(source, "survivors", "must not increase from one period to the next (one cohort)",
                        increasing.tolist(), s[increasing].tolist())
    if s[0] <= 0:
        raise DataError(source, "survivors", "period 0 must be the (positive) cohort size", [0], [s[0]])
    return s


def log_likelihood(alpha: float, beta: float, survivors: Sequence[float]) -> float:
    """Log-likelihood of a cohort's survivor counts: churners in periods 1..n plus the survivors beyond n."""
    s = np.asarray(survivors, dtype=float)
    n = len(s) - 1
    lost = s[:-1] - s[1:]
    t = np.arange(1, n + 1)
    with np.errstate(divide="ignore"):
        ll = np.sum(np.where(lost > 0, lost * np.log(churn_probability(alpha, beta, t)), 0.0))
        if s[-1] > 0:
            ll += s[-1] * np.log(survival(alpha, beta, n))
    return float(ll)


def fit_sbg(survivors: Sequence[float], cohort: str = "cohort", source: str = "<cohort table>") -> SBGFit:
    """Fit α, β by maximum likelihood (on the log scale, Nelder–Mead then BFGS polish; deterministic)."""
    s = _check_survivors(survivors, source)

    def nll(log_params):
        a, b = np.exp(log_params)
        value = -log_likelihood(a, b, s)
        return value if np.isfinite(value) else 1e300

    start = np.log([1.0, 1.0])
    first = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12,
                                                                          "maxiter": 5000})
    polish = optimize.minimize(nll, first.x, method="BFGS", options={"gtol": 1e-9})
    best = polish if polish.fun <= first.fun else first
    a, b = np.exp(best.x)
    return SBGFit(alpha=float(a), beta=float(b), log_likelihood=float(-best.fun),
                  survivors=tuple(float(v) for v in s), cohort=str(cohort))


def project(fit: SBGFit, periods: int) -> pd.DataFrame:
    """Observed vs fitted survival for the calibration periods, then the projection up to ``periods``.

    Columns: period, observed_pct (None beyond the data), expected_pct, retention_rate, projected (bool).
    """
    t = np.arange(0, max(int(periods), fit.n_periods) + 1)
    observed = np.full(len(t), np.nan)
    s = np.asarray(fit.survivors)
    observed[: len(s)] = 100.0 * s / s[0]
    rr = np.where(t >= 1, retention_rate(fit.alpha, fit.beta, np.maximum(t, 1)), np.nan)
    return pd.DataFrame({
        "period": t,
        "observed_pct": observed,
        "expected_pct": 100.0 * survival(fit.alpha, fit.beta, t),
        "retention_rate": rr,
        "projected": t > fit.n_periods,
    })


def discounted_expected_lifetime(alpha: float, beta: float, discount_rate: float) -> float:
    """DEL = Σ_{t≥0} S(t)/(1+d)^t = ₂F₁(1, β; α+β; 1/(1+d)) — in renewal periods, for a just-acquired customer
    (the first payment is made at acquisition, undiscounted). At rate 0: (α + β − 1)/(α − 1), infinite for α ≤ 1."""
    discount_rate = params.rate(discount_rate, "discount_rate")
    if discount_rate == 0:
        return _undiscounted(alpha, alpha + beta - 1.0)
    value = float(special.hyp2f1(1.0, beta, alpha + beta, 1.0 / (1.0 + discount_rate)))
    return value if np.isfinite(value) else 1.0 + _residual_sum(alpha, beta, discount_rate, 0) / (1.0 + discount_rate)


def derl(alpha: float, beta: float, discount_rate: float, renewals: int = 0) -> float:
    """Discounted expected residual lifetime (Fader & Hardie 2010, eq. 6) of a customer who has made ``renewals``
    renewals and is about to face the next renewal decision:

        DERL = (β + n) / (α + β + n) · ₂F₁(1, β + n + 1; α + β + n + 1; 1/(1+d)),   n = renewals.

    Multiply by the margin per period to get the customer's expected residual value. At rate 0 (Gauss's sum):
    (β + n)/(α − 1), infinite for α ≤ 1.
    """
    discount_rate = params.rate(discount_rate, "discount_rate")
    n = float(renewals)
    if n < 0:
        raise ValueError("renewals must be ≥ 0")
    if discount_rate == 0:
        return _undiscounted(alpha, beta + n)
    value = float((beta + n) / (alpha + beta + n)
                  * special.hyp2f1(1.0, beta + n + 1.0, alpha + beta + n + 1.0, 1.0 / (1.0 + discount_rate)))
    return value if np.isfinite(value) else _residual_sum(alpha, beta, discount_rate, n)


def _residual_sum(alpha: float, beta: float, discount_rate: float, n: float, tol: float = 1e-14) -> float:
    """Σ_{t>n} S(t)/S(n) / (1+d)^(t−n−1) by direct summation (where scipy's ₂F₁ fails for large α, β)."""
    total, term, t = 0.0, 1.0, n + 1.0
    while True:
        term *= (beta + t - 1.0) / (alpha + beta + t - 1.0)
        total += term / (1.0 + discount_rate) ** (t - n - 1.0)
        if term / (1.0 + discount_rate) ** (t - n - 1.0) < tol * max(total, 1.0) or t - n > 1e6:
            return total
        t += 1.0


def _undiscounted(alpha: float, numerator: float) -> float:
    """numerator / (α − 1): the undiscounted sums of an sBG cohort, finite only when α > 1."""
    return float(numerator / (alpha - 1.0)) if alpha > 1.0 else float("inf")


def read_cohort_table(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None
                      ) -> pd.DataFrame:
    """A cohort retention table: columns ``period`` and ``survivors`` (and optionally ``cohort``), or wide with
    one column per cohort and the period in the first column. Returns long format: cohort, period, survivors."""
    from loyaltylab import io

    source = str(path)
    raw = io.read_raw(path, encoding=encoding, sheet=sheet)
    cols = {c.lower().strip(): c for c in raw.columns}
    if "period" in cols and "survivors" in cols:
        out = pd.DataFrame({
            "cohort": raw[cols["cohort"]].astype(str) if "cohort" in cols else "cohort",
            "period": io.coerce_numeric(raw, cols["period"], source=source, min_value=0, integer=True,
                                        allow_missing=False),
            "survivors": io.coerce_numeric(raw, cols["survivors"], source=source, min_value=0,
                                           allow_missing=False),
        })
    else:
        if raw.shape[1] < 2:
            raise DataError(source, None, "needs columns 'period' and 'survivors' (or a period column followed by "
                                          "one survivors column per cohort)")
        period_col = raw.columns[0]
        period = io.coerce_numeric(raw, period_col, source=source, min_value=0, integer=True, allow_missing=False)
        parts = []
        for col in raw.columns[1:]:
            surv = io.coerce_numeric(raw, col, source=source, min_value=0, allow_missing=True)
            # a retention triangle: a younger cohort's later periods are blank — keep its observed periods, but a
            # blank followed by a number is a hole, not the end of the data
            seen = surv.notna().to_numpy()
            last = int(np.flatnonzero(seen)[-1]) if seen.any() else -1
            holes = ~seen[: last + 1]
            if holes.any():
                bad = pd.Series(holes.tolist() + [False] * (len(seen) - last - 1), index=raw.index)
                raise DataError.from_mask(source, str(col), "blank inside a cohort's periods (only the latest "
                                          "periods of a younger cohort may be blank)", raw[col], bad)
            parts.append(pd.DataFrame({"cohort": str(col), "period": period, "survivors": surv}).loc[seen])
        out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["cohort", "period"], kind="mergesort").reset_index(drop=True)
    for cohort, g in out.groupby("cohort", sort=True):
        periods = g["period"].to_numpy()
        if periods[0] != 0 or np.any(np.diff(periods) != 1):
            raise DataError(source, "period", f"cohort {cohort!r}: periods must run 0, 1, 2, … without gaps",
                            [], [], n_bad=0)
        values = g["survivors"].to_numpy()
        if len(values) >= MIN_PERIODS:
            _check_survivors(values, source)
        elif np.any(np.diff(values) > 0) or values[0] <= 0:
            raise DataError(source, "survivors", f"cohort {cohort!r}: must start with a positive cohort size and "
                            "not increase from one period to the next", [], [], n_bad=0)
    return out


def fit_cohorts(table: pd.DataFrame, source: str = "<cohort table>") -> list[SBGFit]:
    """Fit one sBG per cohort of a long table (cohort, period, survivors), each on its own observed periods.
    Cohorts with fewer than 3 observed periods (the youngest rows of a triangle) are skipped — compare
    :func:`skipped_cohorts`; if none is left, a DataError says so."""
    fits = []
    for cohort, g in table.sort_values(["cohort", "period"], kind="mergesort").groupby("cohort", sort=True):
        if len(g) < MIN_PERIODS:
            continue
        fits.append(fit_sbg(g["survivors"].to_numpy(), cohort=str(cohort), source=source))
    if not fits and len(table):
        raise DataError(source, "survivors", f"no cohort has {MIN_PERIODS} or more observed periods (period 0 plus "
                        "two renewals): nothing to fit")
    return fits


def skipped_cohorts(table: pd.DataFrame) -> list[str]:
    """Cohorts too young to fit (fewer than 3 observed periods)."""
    sizes = table.groupby("cohort", sort=True).size()
    return [str(c) for c, n in sizes.items() if n < MIN_PERIODS]


def summary_table(fits: Sequence[SBGFit], discount_rate: float) -> pd.DataFrame:
    """One row per cohort: α, β, mean churn probability, DEL (at acquisition) and DERL after the last period."""
    rows = []
    for f in fits:
        rows.append({
            "cohort": f.cohort,
            "alpha": f.alpha,
            "beta": f.beta,
            "mean_churn_probability": f.mean_churn_probability,
            "log_likelihood": f.log_likelihood,
            "del_at_acquisition": discounted_expected_lifetime(f.alpha, f.beta, discount_rate),
            "derl_after_last_period": derl(f.alpha, f.beta, discount_rate, renewals=f.n_periods),
        })
    return pd.DataFrame(rows)
