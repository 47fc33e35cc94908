"""Service recovery (服务补救): each customer's failure history, recovery by failure type, the speed → satisfaction
curve, the recovery paradox test and double deviation.

Statuses (the definition is a parameter; the default is the course's): an incident is *recovered well* when it was
recovered within ``well_max_hours`` with a recovery satisfaction of at least ``well_min_satisfaction``. A customer is
*never failed* (no incident), *recovered well* (every incident recovered well), *not recovered* (an incident was
never recovered) or *recovered poorly* (all recovered, at least one too slowly or to low satisfaction). The course
world's "other failure" is the last two together.

The paradox test compares loyalty after the failure: for the failed groups only responses dated after the
customer's first incident count; recovered well − never failed, unadjusted and adjusted for ``adjust_for`` (tenure
and segment by default: longer-lived customers have more incidents), with the interval, the one-sided p (H1:
recovered well > never failed) and the TOST equivalence test against ±margin
(:func:`loyaltylab.stats.equivalence.compare_groups`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import privacy
from loyaltylab.errors import DataError
from loyaltylab.stats import moderation as mod
from loyaltylab.stats.equivalence import compare_groups, nps_values

from .data import CUSTOMER, DATE, LOYALTY_OUTCOMES

STATUSES = ("never_failed", "recovered_well", "recovered_poorly", "not_recovered")
STATUS_LABELS = {"never_failed": "never failed", "recovered_well": "recovered well",
                 "recovered_poorly": "recovered poorly", "not_recovered": "not recovered",
                 "double_deviation": "second failure after a good recovery"}
SPEED_BINS = (0.0, 1.0, 3.0, 6.0, 12.0, 24.0, 48.0, 96.0, math.inf)
"""Recovery-time bands (hours) for the speed → satisfaction curve."""
OUTCOME_LABELS = {"nps": "NPS", "satisfaction": "satisfaction", "repurchase_intent": "repurchase intent"}


@dataclass(frozen=True)
class Recovery:
    """What the recovery section shows. ``status``: customer, status, first_incident, n_incidents (one row per
    customer analysed); ``status_counts``: status, n (customers), share, suppressed; ``by_type``: failure_type,
    n (incidents), customers, recovery_rate (+ ci), median_hours, mean_satisfaction, well_share, suppressed;
    ``speed``: band, n (incidents), customers, estimate (mean recovery satisfaction) + ci, suppressed;
    ``speed_slope``: recovery satisfaction per doubling of the recovery time; ``groups``: the loyalty of each status
    after its first failure (NPS points); ``paradox``: outcome → :class:`Comparison`-like dicts; ``double``:
    the double-deviation row; ``hazard``: the time-varying Cox (see hazard.py)."""

    status: pd.DataFrame
    status_counts: pd.DataFrame
    by_type: pd.DataFrame
    speed: pd.DataFrame
    speed_slope: mod.Estimate | None
    groups: pd.DataFrame
    paradox: dict
    paradox_table: pd.DataFrame
    double: pd.DataFrame
    incidents_n: int
    well_per_incident: float
    recovered_share: float
    after_rule: str
    notes: tuple[str, ...] = ()
    hazard: object = None


def incident_quality(incidents: pd.DataFrame, max_hours: float, min_satisfaction: float) -> pd.Series:
    """Per incident: 0 recovered well, 1 recovered poorly (too slow, too unsatisfying or either unknown),
    2 not recovered."""
    recovered = incidents["recovered"].fillna(0).to_numpy() == 1
    hours = incidents["recovery_hours"].to_numpy(dtype="float64")
    sat = incidents["recovery_satisfaction"].to_numpy(dtype="float64")
    well = recovered & (hours <= max_hours) & (sat >= min_satisfaction)
    return pd.Series(np.where(~recovered, 2, np.where(well, 0, 1)), index=incidents.index)


def classify(universe: np.ndarray, incidents: pd.DataFrame, max_hours: float, min_satisfaction: float
             ) -> pd.DataFrame:
    """One row per customer code in ``universe``: status (see the module docstring), first_incident (date),
    n_incidents and second_after_good (the date of a second incident that followed a first one recovered well,
    else NaT)."""
    inc = pd.DataFrame({"code": incidents[CUSTOMER].to_numpy(), "date": incidents["date"].to_numpy(),
                        "quality": incident_quality(incidents, max_hours, min_satisfaction).to_numpy()})
    inc = inc.sort_values(["code", "date"], kind="stable")
    g = inc.groupby("code", sort=True)
    worst, first, count = g["quality"].max(), g["date"].min(), g.size()
    rank = g.cumcount().to_numpy()
    first_quality = pd.Series(inc["quality"].to_numpy()[rank == 0], index=inc["code"].to_numpy()[rank == 0])
    second = pd.Series(inc["date"].to_numpy()[rank == 1], index=inc["code"].to_numpy()[rank == 1])
    second = second[first_quality.reindex(second.index).to_numpy() == 0]
    universe = np.asarray(universe, dtype="int64")
    code = worst.reindex(universe).to_numpy(dtype="float64")
    status = np.where(np.isnan(code), 0, code + 1).astype("int64")
    return pd.DataFrame({"customer": universe, "status": np.asarray(STATUSES, dtype=object)[status],
                         "status_code": status, "first_incident": first.reindex(universe).to_numpy(),
                         "n_incidents": count.reindex(universe).fillna(0).astype("int64").to_numpy(),
                         "second_after_good": second.reindex(universe).to_numpy()})


def status_counts(status: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    counts = status["status"].value_counts().reindex(list(STATUSES), fill_value=0)
    table = pd.DataFrame({"status": list(STATUSES), "n": counts.to_numpy(),
                          "share": counts.to_numpy() / max(int(counts.sum()), 1)})
    return privacy.suppress(table, min_cell=min_cell)


def mean_ci(values, clusters, confidence: float) -> dict:
    """A mean with its interval: cluster-robust (CR1: G/(G−1)·Σ_g (Σ_{i∈g} (y_i − ȳ))² / N², t on G − 1 df — what
    an intercept-only OLS with ``vcovCL`` gives) when ``clusters`` (integer codes) are given, else the usual s/√N
    with t on N − 1 df (= HC2 for an intercept)."""
    v = np.asarray(values, dtype="float64")
    n = len(v)
    m = float(v.mean()) if n else math.nan
    if n < 2:
        return {"estimate": m, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    if clusters is not None:
        codes = np.asarray(clusters)
        if not (np.issubdtype(codes.dtype, np.integer) and codes.min() >= 0):
            codes = pd.factorize(codes)[0]
        u = np.bincount(codes, weights=v - m)
        g = int(np.count_nonzero(np.bincount(codes)))
        if g < 2:
            return {"estimate": m, "se": math.nan, "ci_low": math.nan, "ci_high": math.nan}
        se, df = math.sqrt(g / (g - 1) * float(u @ u)) / n, g - 1
    else:
        se, df = float(v.std(ddof=1)) / math.sqrt(n), n - 1
    r = mod.inference(m, se, df, confidence)
    return {"estimate": m, "se": se, "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"])}


def by_type(incidents: pd.DataFrame, quality: pd.Series, confidence: float, min_cell: int) -> pd.DataFrame:
    """Recovery by failure type: incidents, customers, share recovered (cluster-robust interval), median hours to
    recover, mean recovery satisfaction and share recovered well; types with few customers hidden."""
    kinds = incidents["failure_type"].fillna("(missing)").astype(str) if "failure_type" in incidents else pd.Series(
        "all", index=incidents.index)
    kind_code, labels = pd.factorize(kinds, sort=True)
    codes = incidents[CUSTOMER].to_numpy()
    rec_all = (incidents["recovered"].fillna(0) == 1).to_numpy()
    rows = []
    for k, kind in enumerate(labels):
        mask = kind_code == k
        rec = rec_all[mask]
        rate = mean_ci(rec.astype("float64"), codes[mask], confidence)
        part = incidents.loc[mask]
        hours = part["recovery_hours"].to_numpy(dtype="float64")[rec]
        sats = part["recovery_satisfaction"].to_numpy(dtype="float64")[rec]
        rows.append({"failure_type": kind, "n": int(mask.sum()), "customers": int(pd.unique(codes[mask]).size),
                     "recovery_rate": rate["estimate"], "ci_low": rate["ci_low"], "ci_high": rate["ci_high"],
                     "median_hours": float(np.nanmedian(hours)) if np.isfinite(hours).any() else math.nan,
                     "mean_satisfaction": float(np.nanmean(sats)) if np.isfinite(sats).any() else math.nan,
                     "well_share": float((quality.to_numpy()[mask] == 0).mean())})
    table = pd.DataFrame(rows)
    customers = table.pop("customers").to_numpy()
    out = privacy.suppress(table, min_cell=min_cell, people=customers)
    out.insert(2, "customers", np.where(out["suppressed"], np.nan, customers))
    return out


def speed_curve(incidents: pd.DataFrame, confidence: float, min_cell: int):
    """Mean recovery satisfaction by recovery-time band (recovered incidents) and the slope per doubling of the
    recovery time (OLS on log2 hours, clustered by customer)."""
    rec = incidents.loc[(incidents["recovered"] == 1) & incidents["recovery_hours"].notna()
                        & incidents["recovery_satisfaction"].notna()]
    hours = rec["recovery_hours"].to_numpy(dtype="float64")
    sat = rec["recovery_satisfaction"].to_numpy(dtype="float64")
    who = rec[CUSTOMER].to_numpy()
    band = np.searchsorted(np.asarray(SPEED_BINS), hours, side="right") - 1
    rows = []
    for k in range(len(SPEED_BINS) - 1):
        mask = band == k
        if not mask.any():
            continue
        lo, hi = SPEED_BINS[k], SPEED_BINS[k + 1]
        ci = mean_ci(sat[mask], who[mask], confidence)
        rows.append({"band": f"{lo:g}+ h" if math.isinf(hi) else f"{lo:g}–{hi:g} h", "hours_low": lo,
                     "hours_high": hi, "n": int(mask.sum()), "customers": int(pd.unique(who[mask]).size),
                     "estimate": ci["estimate"], "ci_low": ci["ci_low"], "ci_high": ci["ci_high"]})
    table = pd.DataFrame(rows, columns=["band", "hours_low", "hours_high", "n", "customers", "estimate", "ci_low",
                                        "ci_high"])
    customers = table.pop("customers").to_numpy()
    out = privacy.suppress(table, min_cell=min_cell, people=customers, value_cols=["estimate", "ci_low", "ci_high"])
    out.insert(4, "customers", np.where(out["suppressed"], np.nan, customers))
    slope = None
    positive = hours > 0
    if positive.sum() >= 10 and np.ptp(np.log2(hours[positive])) > 0:
        X = np.column_stack([np.ones(positive.sum()), np.log2(hours[positive])])
        codes = who[positive]
        fit = mod.ols(sat[positive], X, codes, "cluster" if len(np.unique(codes)) >= 2 else "HC3")
        r = mod.inference(fit.params[1], math.sqrt(fit.cov[1, 1]), fit.df, confidence)
        slope = mod.Estimate(float(r["estimate"]), float(r["se"]), float(r["ci_low"]), float(r["ci_high"]),
                             float(r["p_value"]), fit.df, confidence)
    return out, slope


def _after(responses: pd.DataFrame, since: pd.Series) -> pd.Series:
    """Responses dated after ``since`` (the customer's first incident, or its second); without dates, all."""
    if DATE not in responses:
        return pd.Series(True, index=responses.index)
    return responses[DATE] > since


def loyalty_frame(responses: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Responses with their customer's status, kept when they count: every response of a never-failed customer,
    a failed customer's only after the first incident; ``double`` marks responses after a second failure that
    followed a recovery done well. Responses of customers outside the ones classified are left out."""
    size = int(max(status["customer"].max(), responses[CUSTOMER].max()) + 1) if len(status) else 0
    code = np.full(size, -1, dtype="int64")
    first = np.full(size, np.datetime64("NaT"), dtype="datetime64[ns]")
    second = first.copy()
    idx = status["customer"].to_numpy()
    code[idx] = status["status_code"].to_numpy()
    first[idx] = status["first_incident"].to_numpy(dtype="datetime64[ns]")
    second[idx] = status["second_after_good"].to_numpy(dtype="datetime64[ns]")
    cust = responses[CUSTOMER].to_numpy()
    known = cust >= 0
    c = np.where(known, cust, 0)
    st = np.where(known, code[c] if size else -1, -1)
    frame = responses.assign(status_code=st, first=np.where(known, first[c], np.datetime64("NaT")),
                             second=np.where(known, second[c], np.datetime64("NaT")))
    frame = frame.loc[frame["status_code"] >= 0]
    frame = frame.assign(status=np.asarray(STATUSES, dtype=object)[frame["status_code"].to_numpy()])
    counts = (frame["status_code"] == 0) | _after(frame, frame["first"])
    frame = frame.assign(double=frame["second"].notna() & _after(frame, frame["second"]))
    return frame.loc[counts]


def group_loyalty(frame: pd.DataFrame, confidence: float, min_cell: int) -> pd.DataFrame:
    """NPS (points) per status after the first failure (and for the double-deviation group), with
    cluster-robust intervals; groups under ``min_cell`` customers hidden."""
    rows = []
    code = frame["status_code"].to_numpy()
    groups = [(s, code == k) for k, s in enumerate(STATUSES)] + [("double_deviation", frame["double"].to_numpy())]
    for name, mask in groups:
        part = frame.loc[mask & frame["nps"].notna()] if "nps" in frame else frame.iloc[:0]
        row = {"status": name, "n": len(part), "customers": int(part[CUSTOMER].nunique())}
        if len(part):
            row.update(mean_ci(nps_values(part["nps"]), part[CUSTOMER].to_numpy(), confidence))
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=["status", "n", "customers", "estimate", "se", "ci_low", "ci_high"])
    customers = table.pop("customers").to_numpy()
    out = privacy.suppress(table, min_cell=min_cell, people=customers, complementary=True)
    out.insert(2, "customers", np.where(out["suppressed"], np.nan, customers))
    return out.rename(columns={"estimate": "nps"})


def compare(frame: pd.DataFrame, outcome: str, group: str, adjust_cols, margin: float, confidence: float,
            min_cell: int):
    """``group`` (recovered_well or double_deviation) − never failed on ``outcome`` (NPS points for nps), adjusted
    for ``adjust_cols`` when given (:func:`compare_groups`); None when a side has fewer than ``min_cell``
    customers."""
    code = frame["status_code"].to_numpy()
    a = frame["double"].to_numpy() if group == "double_deviation" else code == STATUSES.index(group)
    keep = (a | (code == 0)) & frame[outcome].notna().to_numpy()
    part = frame.loc[keep]
    labels = a[keep].astype(int)
    for side in (1, 0):
        if pd.unique(part[CUSTOMER].to_numpy()[labels == side]).size < min_cell:
            return None
    controls = part[list(adjust_cols)] if adjust_cols else None
    score = "nps" if outcome == "nps" else "mean"
    return compare_groups(part[outcome], labels, controls, part[CUSTOMER].to_numpy(), margin=margin, score=score,
                          confidence=confidence)


def paradox_tests(frame: pd.DataFrame, adjust_cols, margins: dict, confidence: float, min_cell: int) -> dict:
    """outcome → {"recovered_well": Comparison | None (+ "double_deviation" for NPS)}: None when a side has fewer
    than ``min_cell`` customers, a message when the comparison cannot be made."""
    out = {}
    for outcome in LOYALTY_OUTCOMES:
        if outcome not in frame or frame[outcome].notna().sum() == 0:
            continue
        margin = margins["nps"] if outcome == "nps" else margins["scale"]
        out[outcome] = {}
        for group in ("recovered_well", "double_deviation") if outcome == "nps" else ("recovered_well",):
            try:
                out[outcome][group] = compare(frame, outcome, group, adjust_cols, margin, confidence, min_cell)
            except DataError as exc:
                out[outcome][group] = exc.rule
    return out


def paradox_table(tests: dict) -> pd.DataFrame:
    """One row per outcome × comparison × model (unadjusted / adjusted)."""
    rows = []
    for outcome, by_group in tests.items():
        for group, comparison in by_group.items():
            if comparison is None or isinstance(comparison, str):
                continue
            t = comparison.table
            t.insert(0, "comparison", f"{group} - never_failed")
            t.insert(0, "outcome", outcome)
            rows.append(t)
    if not rows:
        return pd.DataFrame(columns=["outcome", "comparison", "model", "estimate", "ci_low", "ci_high", "p_value",
                                     "p_greater", "p_tost", "verdict", "n"])
    table = pd.concat(rows, ignore_index=True)
    return table.drop(columns=["n_clusters", "confidence"], errors="ignore")
