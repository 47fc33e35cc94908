"""Customer lifetime value (客户终身价值) from a survival model: expected remaining lifetime, discounted value, and
LTV/CAC by segment."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import params, privacy
from loyaltylab.analyses.churn.aft import AFTComparison
from loyaltylab.analyses.churn.baseline import cumhaz_for, cumhaz_on_grid, partial_hazard, stratum_codes
from loyaltylab.analyses.churn.cox import CoxResult
from loyaltylab.analyses.churn.data import DAYS_PER_MONTH, SurvivalData, days_per_unit, levels_by_frequency

LTV_CAC_TARGET = 3.0


@dataclass(frozen=True)
class CustomerValue:
    customers: pd.DataFrame        # per customer (no ids): segment, active, revenue, remaining_months, discounted_months, clv, ltv_at_acquisition, acquisition_cost
    by_segment: pd.DataFrame       # value, n, n_active, mean_remaining_lifetime, mean_clv, mean_ltv, mean_cac, ltv_cac, suppressed, meets_target
    mean_remaining_lifetime: float  # months, active customers
    mean_clv: float                 # active customers
    model: str
    margin: float
    discount_rate: float
    max_months: int


def monthly_discount_factors(discount_rate: float, months: int, start: int = 1) -> np.ndarray:
    """(1 + annual rate)^(−k/12) for k = start … start+months−1 (rate 0 = undiscounted)."""
    rate = params.rate(discount_rate, "discount_rate")
    k = np.arange(start, start + months, dtype=float)
    return (1.0 + rate) ** (-k / 12.0)


def discounted_lifetime(survival: np.ndarray, discount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a (customers × months) survival matrix: expected months alive Σ S_k and the discounted
    Σ S_k·δ_k. Multiply the discounted one by margin × revenue per month for the value."""
    S = np.asarray(survival, dtype=float)
    return S.sum(axis=1), S @ np.asarray(discount, dtype=float)


def _survival_chunks(fitter, X: pd.DataFrame, times: np.ndarray, conditional_after=None, chunk: int = 20_000):
    """(start, survival matrix of rows start … start+chunk) from a lifelines AFT fitter, one chunk at a time."""
    for start in range(0, len(X), chunk):
        part = X.iloc[start:start + chunk]
        cond = None if conditional_after is None else np.asarray(conditional_after)[start:start + chunk]
        sf = fitter.predict_survival_function(part, times=times, conditional_after=cond)
        yield start, sf.to_numpy().T


def _cox_survival_chunks(cox: CoxResult, sd: SurvivalData, index, times: np.ndarray, conditional_after=None,
                         chunk: int = 20_000):
    """The same from a (stratified) Cox model: S(t0 + t | x) / S(t0 | x), with the constant-hazard tail beyond
    each stratum's supported follow-up (see :mod:`loyaltylab.analyses.churn.baseline`)."""
    times = np.asarray(times, dtype=float)
    codes, labels = stratum_codes(cox.strata, sd, index) if cox.strata else (np.zeros(len(index), dtype=np.intp), None)
    ph_all = partial_hazard(cox, sd.frame.loc[index])
    shared = cumhaz_on_grid(cox, labels, np.r_[0.0, times]) if conditional_after is None else None
    for start in range(0, len(index), chunk):
        idx = index[start:start + chunk]
        part = codes[start:start + chunk]
        if shared is not None:  # from signup: every customer of a stratum shares the grid
            h = shared[part]
            h0, h = h[:, 0], h[:, 1:]
        else:
            t0 = np.asarray(conditional_after, dtype=float)[start:start + chunk]
            h0, _ = cumhaz_for(cox, sd, idx, t0, codes=(part, labels) if cox.strata else None)
            h, _ = cumhaz_for(cox, sd, idx, t0[:, None] + times[None, :], codes=(part, labels) if cox.strata else None)
        ph = ph_all[start:start + chunk]
        yield start, np.exp(-(h - h0[:, None]) * ph[:, None])


def _by_segment(customers: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    g = customers.groupby("segment", sort=False)
    by = pd.DataFrame({
        "n": g.size(),
        "n_active": g["active"].sum(),
        "mean_remaining_lifetime": g["remaining_months"].mean(),
        "mean_clv": g["clv"].mean(),
        "mean_ltv": g["ltv_at_acquisition"].mean(),
        "mean_cac": g["acquisition_cost"].mean(),
    })
    by["ltv_cac"] = by["mean_ltv"] / by["mean_cac"]
    by = by.rename_axis("value").reset_index()
    by["value"] = by["value"].astype(str)
    by = by.set_index("value").loc[levels_by_frequency(customers["segment"].astype(str))].reset_index()
    by = privacy.suppress(by, min_cell=min_cell, hide_counts=True)     # a hidden segment shows no count either
    by["n_active"] = by["n_active"].round().astype("Int64")
    by["meets_target"] = [None if pd.isna(v) else bool(v > LTV_CAC_TARGET) for v in by["ltv_cac"]]
    return by


def customer_value(
    aft: AFTComparison,
    sd: SurvivalData,
    *,
    margin: float = 0.3,
    discount_rate: float = 0.10,
    max_years: int = 10,
    min_cell: int = 5,
    model: str | None = None,
    cox: CoxResult | None = None,
    chunk: int = 20_000,
) -> CustomerValue | None:
    """Expected remaining lifetime and CLV from the parametric model (it extrapolates beyond the data smoothly) —
    or, with ``cox`` (the stratified model when proportional hazards had to be remedied), from that Cox model so the
    value and the early warning come from the same model that passed the check. None without a revenue column.

    Revenue is per month; a customer alive at the start of month k pays margin × revenue, discounted at
    (1 + annual rate)^(−k/12) (rate 0 = undiscounted). Remaining value of an active customer: months k = 1 …
    12·max_years after today, conditional on the tenure already survived. LTV at acquisition (for LTV/CAC): months
    k = 0 … from signup. LTV/CAC per segment = mean LTV / mean acquisition cost, against the course's "> 3" mark.
    Survival matrices are built ``chunk`` customers at a time and reduced at once (memory stays flat at 1M rows)."""
    if "revenue" not in sd.extra:
        return None
    margin = params.share(margin, "margin")
    discount_rate = params.rate(discount_rate, "discount_rate")
    if cox is not None:
        name, fitter = cox.label, None
    else:
        name = model or aft.best
        fitter = aft.fitters.get(name) or aft.fitters.get("weibull")
        if fitter is None:
            return None
    months = int(12 * max_years)
    m = DAYS_PER_MONTH / days_per_unit(sd.time_unit)       # one month in time units
    X = sd.frame[list(sd.design.columns)]
    active = sd.frame["event"].to_numpy() == 0
    revenue = sd.extra["revenue"].to_numpy(dtype=float)
    remaining = np.full(sd.n, np.nan)
    discounted = np.full(sd.n, np.nan)

    def chunks(rows_mask, grid, conditional_after):
        if cox is not None:
            return _cox_survival_chunks(cox, sd, sd.frame.index[rows_mask], grid, conditional_after, chunk)
        return _survival_chunks(fitter, X.loc[rows_mask], grid, conditional_after, chunk)

    if active.any():
        pos = np.flatnonzero(active)
        rem, disc = np.empty(len(pos)), np.empty(len(pos))
        disc_future = monthly_discount_factors(discount_rate, months, start=1)
        for start, S in chunks(active, m * np.arange(1, months + 1), sd.frame.loc[active, "duration"].to_numpy()):
            rem[start:start + len(S)], disc[start:start + len(S)] = discounted_lifetime(S, disc_future)
        remaining[pos], discounted[pos] = rem, disc
    disc_new = np.empty(sd.n)
    disc_start = monthly_discount_factors(discount_rate, months, start=0)
    for start, S in chunks(np.ones(sd.n, dtype=bool), m * np.arange(0, months), None):
        disc_new[start:start + len(S)] = discounted_lifetime(S, disc_start)[1]
    customers = pd.DataFrame({
        "segment": sd.extra["segment"].to_numpy() if "segment" in sd.extra else "All",
        "active": active,
        "revenue": revenue,
        "remaining_months": remaining,
        "discounted_months": discounted,
        "clv": margin * revenue * discounted,
        "ltv_at_acquisition": margin * revenue * disc_new,
        "acquisition_cost": sd.extra["acquisition_cost"].to_numpy(dtype=float) if "acquisition_cost" in sd.extra
        else np.nan,
    }, index=sd.frame.index)
    act = customers[customers["active"]]
    return CustomerValue(customers, _by_segment(customers, min_cell),
                         float(act["remaining_months"].mean()) if len(act) else np.nan,
                         float(act["clv"].mean()) if len(act) else np.nan, name, float(margin), float(discount_rate),
                         months)
