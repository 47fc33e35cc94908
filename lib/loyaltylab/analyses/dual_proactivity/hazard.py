"""Churn hazard by failure status, with the status as a time-varying covariate.

A customer is *never failed* from signup until the first incident; after each incident the status is that of the
incidents so far (recovered well / recovered poorly / not recovered). A status fixed at the snapshot would credit a
customer with failures they have not had yet — and since long-lived customers collect more incidents, it makes
failures look protective. Both models are fitted (the fixed one only to show that bias) with
:func:`.tvcox.fit_counting` (Efron ties), adjusted like the churn model: x, the moderator, their product and the
churn controls (those the customers file has).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import io, privacy
from loyaltylab.analyses.churn.data import SurvivalData
from loyaltylab.errors import DataError

from .data import CUSTOMER
from .recovery import STATUSES, incident_quality
from .retention import design_columns
from .tvcox import CountingFit, fit_counting, status_intervals

FIXED_MAX_CUSTOMERS = 200_000
"""The fixed-status contrast model runs on at most this many customers (a fixed-seed sample): it only shows the
bias of fixing the status at the snapshot."""


@dataclass(frozen=True)
class Hazard:
    """``table``: status, customers (ever in that status), events (churns while in it), hazard_ratio, ci_low,
    ci_high, p_value (vs never failed), suppressed; ``fixed``: the same from the fixed-at-snapshot status."""

    table: pd.DataFrame
    fixed: pd.DataFrame | None
    fit: CountingFit
    adjusted_for: tuple[str, ...]
    n_customers: int
    n_rows: int
    events: int
    notes: tuple[str, ...] = ()


def _changes(sd: SurvivalData, customers: pd.DataFrame, incidents: pd.DataFrame, signup: pd.Series, p):
    """(row of ``sd``, day since signup, status code 1..3) at each incident of a customer in ``sd`` — the status
    after it (the worst recovery so far: 1 recovered well, 2 recovered poorly, 3 not recovered)."""
    position = customers.index.get_indexer(sd.frame.index)      # customer code of each sd row
    row_of = np.full(len(customers), -1, dtype="int64")
    row_of[position] = np.arange(sd.n)
    codes = incidents[CUSTOMER].to_numpy()
    inside = codes < len(customers)
    rows = np.where(inside, row_of[np.where(inside, codes, 0)], -1)
    keep = rows >= 0
    quality = incident_quality(incidents, p.well_max_hours, p.well_min_satisfaction).to_numpy() + 1
    frame = pd.DataFrame({"row": rows[keep], "date": incidents["date"].to_numpy()[keep], "code": quality[keep]})
    frame = frame.sort_values(["row", "date"], kind="stable")
    frame["code"] = frame.groupby("row")["code"].cummax()
    start = signup.to_numpy(dtype="datetime64[ns]")[position][frame["row"].to_numpy()]
    day = (frame["date"].to_numpy(dtype="datetime64[ns]") - start) / np.timedelta64(1, "D")
    ok = ~np.isnan(day)
    return frame["row"].to_numpy()[ok], day[ok], frame["code"].to_numpy()[ok]


def _status_table(fit: CountingFit, rows: pd.DataFrame, n: int, min_cell: int) -> pd.DataFrame:
    ever = rows.groupby("status")["customer"].nunique().reindex(range(4), fill_value=0)
    events = rows.groupby("status")["event"].sum().reindex(range(4), fill_value=0)
    coef = fit.table.set_index("covariate")
    out = []
    for code, status in enumerate(STATUSES):
        row = {"status": status, "n": int(ever[code]), "events": int(events[code])}
        if code == 0:
            row.update(hazard_ratio=1.0, ci_low=np.nan, ci_high=np.nan, p_value=np.nan)
        elif status in coef.index:
            r = coef.loc[status]
            row.update(hazard_ratio=r["hazard_ratio"], ci_low=r["ci_low"], ci_high=r["ci_high"],
                       p_value=r["p_value"])
        out.append(row)
    table = pd.DataFrame(out).reindex(columns=["status", "n", "events", "hazard_ratio", "ci_low", "ci_high",
                                               "p_value"])
    table = privacy.suppress(table, min_cell=min_cell, complementary=False)
    table["events"] = table["events"].round().astype("Int64")
    return table.rename(columns={"n": "customers"})


def _fit(rows: pd.DataFrame, covariates: pd.DataFrame, confidence: float, init: dict | None = None):
    """The Cox fit on the status dummies present with churn events (a status nobody churned in has an infinite
    log hazard ratio: its person-time is left out, with a note) and the adjustment columns that vary."""
    status = rows["status"].to_numpy()
    events = np.bincount(status, weights=rows["event"].to_numpy(), minlength=4)
    present = np.bincount(status, minlength=4) > 0
    usable = [c for c in range(1, 4) if events[c] > 0]
    dropped = [STATUSES[c] for c in range(1, 4) if present[c] and events[c] == 0]
    if dropped:
        rows = rows.loc[np.isin(status, [0, *usable])]
        status = rows["status"].to_numpy()
    Z = covariates.to_numpy(dtype="float64")
    varies = [j for j in range(Z.shape[1]) if np.ptp(Z[:, j]) > 0]
    names = [STATUSES[c] for c in usable] + [str(covariates.columns[j]) for j in varies]
    X = np.column_stack([*(status == c for c in usable), Z[rows["customer"].to_numpy()][:, varies]]).astype(
        "float64") if names else np.empty((len(rows), 0))
    start = [float((init or {}).get(c, 0.0)) for c in names]
    fit = fit_counting(rows["start"].to_numpy(), rows["stop"].to_numpy(), rows["event"].to_numpy(), X,
                       columns=names, confidence=confidence, init=start if init else None)
    notes = [f"no churn while {s.replace('_', ' ')}: its time at risk is left out of the model" for s in dropped]
    return fit, rows, notes


def _fixed(fit: CountingFit, dur, ev, pos, code, covariates, n: int, confidence: float, min_cell: int):
    """The status fixed at the end of follow-up (the biased contrast), on at most FIXED_MAX_CUSTOMERS customers
    drawn with a fixed seed (it only illustrates the bias)."""
    final = np.zeros(n, dtype="int64")
    np.maximum.at(final, pos, code)
    rows = pd.DataFrame({"customer": np.arange(n), "start": 0.0, "stop": dur, "event": ev, "status": final})
    if n > FIXED_MAX_CUSTOMERS:
        pick = np.sort(np.random.default_rng(0).choice(n, FIXED_MAX_CUSTOMERS, replace=False))
        rows = rows.iloc[pick].reset_index(drop=True).assign(customer=np.arange(FIXED_MAX_CUSTOMERS))
        covariates = covariates.iloc[pick].reset_index(drop=True)
    ffit, _, _ = _fit(rows, covariates, confidence, dict(zip(fit.table["covariate"], fit.table["coef"])))
    return _status_table(ffit, rows, len(rows), min_cell)


def hazard_by_status(customers: pd.DataFrame, incidents: pd.DataFrame, sd: SurvivalData, p, source: str,
                     init: dict | None = None) -> Hazard:
    """The time-varying model (and the fixed-status one for contrast) on the customers' lifetimes ``sd``. ``init``:
    starting values by covariate name (the retention Cox model's; statuses start at 0) — the same maximum, reached
    in fewer Newton steps."""
    signup = io.coerce_date(customers, p.signup_col, source=source)
    if signup.loc[sd.frame.index].isna().any():
        raise DataError(source, p.signup_col, "missing signup date")
    terms = [p.x, p.moderator, f"{p.x}:{p.moderator}", *p.churn_controls]
    covariates = sd.frame[design_columns(sd, terms)].reset_index(drop=True)
    dur, ev = sd.frame["duration"].to_numpy(), sd.frame["event"].to_numpy().astype(bool)
    pos, day, code = _changes(sd, customers, incidents, signup, p)
    rows = status_intervals(dur, ev, pos, day, code)
    fit, _, notes = _fit(rows, covariates, p.confidence, init)
    table = _status_table(fit, rows, sd.n, p.min_cell)
    fixed = None
    try:
        fixed = _fixed(fit, dur, ev, pos, code, covariates, sd.n, p.confidence, p.min_cell)
    except (DataError, np.linalg.LinAlgError):
        notes.append("the fixed-status model could not be fitted")
    return Hazard(table, fixed, fit, tuple(covariates.columns), sd.n, fit.n_rows, fit.events, tuple(notes))
