"""Estimated vs true on the course data — only like with like (data/README.md, truth.json).

truth.json's ``dual_proactivity.loyalty`` is on the latent loyalty scale, which no survey column measures (the 0–10
score clips it at 10), so it is listed but never compared with an estimate on the outcome's scale. Compared, when
truth.json records them and the analysis ran the model the key describes:

* ``dual_proactivity.nps_scale`` / ``satisfaction_scale``: ``interaction`` (population OLS coefficient of x·w in the
  outcome ~ 1 + x + w + x·w over responses — this analysis with ``controls=[]``), ``cells`` and ``synergy`` (NPS
  points for nps, scale means for satisfaction) at the population median ``cuts`` — compared when the cuts used
  here are those;
* ``churn.pseudo_true_coefficients`` (what a Cox fit on the course covariates estimates; in a world whose churn
  depends only on the observed columns, generator 1.x, ``churn.coefficients``) — when the Cox model here has exactly
  those covariates;
* ``recovery_paradox.after_first_incident``: ``nps`` by status and ``difference`` (recovered well − never failed)
  over responses dated after the first incident — the unadjusted paradox test (older truth files: ``nps``);
* ``churn.hazard_ratios.failure_status`` {recovered_well, other_failure} (time-varying status + the course
  covariates; other failure = recovered poorly ∪ not recovered here) — when the hazard model has those covariates;
* keys the generator does not record yet are listed with a note: ``dual_proactivity.retention`` = {horizon_days,
  cuts, survival: {cell: population share retained at the horizon}} and
  ``recovery_paradox.after_first_incident.effect`` (the adjusted paradox difference: the population coefficient of
  the recovered-well dummy when the ±100 NPS values of the responses counted above are regressed on it, tenure_days
  and the segment dummies — NPS points).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping

import pandas as pd

COURSE_X, COURSE_W = "provider_proactive", "customer_proactive"
SCALE_KEYS = {"nps": "nps_scale", "satisfaction": "satisfaction_scale"}


def _get(truth: Mapping, *keys):
    node = truth
    for k in keys:
        if not isinstance(node, Mapping) or k not in node:
            return None
        node = node[k]
    return node


def _version(truth: Mapping) -> int:
    try:
        return int(str(truth.get("generator_version", "1")).split(".")[0])
    except ValueError:
        return 1


def course_definition(truth: Mapping) -> tuple[float, float] | None:
    """(max hours, min recovery satisfaction) of the course's "recovered well": ``recovery_paradox.definition_max_hours``
    / ``definition_min_satisfaction`` when recorded, else read from the ``definition`` sentence."""
    rp = truth.get("recovery_paradox") or {}
    if "definition_max_hours" in rp and "definition_min_satisfaction" in rp:
        return float(rp["definition_max_hours"]), float(rp["definition_min_satisfaction"])
    text = str(rp.get("definition", ""))
    hours = re.search(r"within\s+([\d.]+)\s*h", text)
    sat = re.search(r"recovery_satisfaction\s*>=\s*([\d.]+)", text)
    return (float(hours.group(1)), float(sat.group(1))) if hours and sat else None


def _row(quantity, scale, estimate, low, high, true, note=""):
    finite = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (low, high))
    covered = None if true is None or not finite else bool(low <= true <= high)
    return {"quantity": quantity, "scale": scale, "estimate": estimate, "ci_low": low, "ci_high": high,
            "true": None if true is None else float(true), "covered": covered, "note": note}


def _missing(quantity, scale, estimate, low, high, note):
    return _row(quantity, scale, estimate, low, high, None, note)


def _course_model(result) -> bool:
    return (result.params.x, result.params.moderator) == (COURSE_X, COURSE_W)


def interaction_rows(result, truth: Mapping) -> list[dict]:
    p, it = result.params, result.interaction
    rows = [_missing("interaction (latent loyalty)", "latent", math.nan, math.nan, math.nan,
                     "the generator's γ_fc is on the latent loyalty scale: not comparable with an estimate on a "
                     "survey scale")]
    rows[0]["true"] = _get(truth, "dual_proactivity", "loyalty", "interaction")
    if not _course_model(result) or it is None:
        return rows
    node = _get(truth, "dual_proactivity", SCALE_KEYS.get(p.outcome, "-"))
    est = it.interaction
    scale = f"{p.outcome} scale"
    if node is None:
        return rows + [_missing("interaction", scale, est.estimate, est.ci_low, est.ci_high,
                                f"truth.json records no {p.outcome} scale for this outcome")]
    if p.controls:
        rows.append(_missing("interaction", scale, est.estimate, est.ci_low, est.ci_high,
                             "the truth is the model without controls (controls=[])"))
    else:
        rows.append(_row("interaction", scale, est.estimate, est.ci_low, est.ci_high, node.get("interaction")))
    cuts = node.get("cuts") or {}
    same_cuts = (cuts.get("provider"), cuts.get("customer")) == (it.x_cut, it.w_cut)
    cells = it.nps_cells if p.outcome == "nps" else it.cells
    synergy = it.nps_synergy if p.outcome == "nps" else it.synergy
    unit = "NPS points" if p.outcome == "nps" else f"{p.outcome} mean"
    note = "" if same_cuts else "the cuts differ from the recorded truth's"
    if cells is not None:
        for r in cells.loc[~cells["suppressed"].astype(bool)].itertuples():
            true = (node.get("cells") or {}).get(r.cell) if same_cuts else None
            rows.append(_row(f"2×2 cell {r.cell}", unit, r.estimate, r.ci_low, r.ci_high, true, note))
    if synergy is not None:
        rows.append(_row("2×2 synergy", unit, synergy.estimate, synergy.ci_low, synergy.ci_high,
                         node.get("synergy") if same_cuts else None, note))
    return rows


def cox_truth(truth: Mapping) -> dict | None:
    """The Cox coefficients a fit on the course covariates estimates (pseudo-true; the generating β in a world where
    churn depends on the observed columns only)."""
    pseudo = _get(truth, "churn", "pseudo_true_coefficients")
    if pseudo is not None:
        return pseudo
    return _get(truth, "churn", "coefficients") if _version(truth) < 2 else None


def _course_covariates(columns, truth: Mapping) -> bool:
    """The model's covariates are exactly the course's churn covariates (the names of ``churn.coefficients``)."""
    names = set(_get(truth, "churn", "coefficients") or {})
    return bool(names) and set(columns) == names


def retention_rows(result, truth: Mapping) -> list[dict]:
    ret = result.retention
    if ret is None or not _course_model(result):
        return []
    rows = []
    coefs = cox_truth(truth) or {}
    if ret.cox is not None and _course_covariates(ret.cox["covariate"], truth):
        for r in ret.cox.itertuples():
            rows.append(_row(f"Cox β {r.covariate}", "log hazard", r.coef, r.coef_lower, r.coef_upper,
                             coefs.get(r.covariate), "" if coefs else "truth.json does not record "
                             "churn.pseudo_true_coefficients (what a Cox fit on these covariates estimates)"))
    elif ret.cox is not None:
        rows.append(_missing("Cox β", "log hazard", math.nan, math.nan, math.nan,
                             "the Cox model's covariates differ from the course's"))
    node = _get(truth, "dual_proactivity", "retention") or {}
    cuts = node.get("cuts") or {}
    comparable = ((cuts.get("provider"), cuts.get("customer")) == (ret.x_cut, ret.w_cut)
                  and node.get("horizon_days") is not None and abs(node["horizon_days"] - ret.horizon_days) < 1e-6)
    for r in ret.cells.loc[~ret.cells["suppressed"].astype(bool)].itertuples():
        true = (node.get("survival") or {}).get(r.cell) if comparable else None
        rows.append(_row(f"retention at horizon ({r.cell})", "share", r.retention, r.ci_low, r.ci_high, true,
                         "" if true is not None else "truth.json does not record dual_proactivity.retention"))
    return rows


def recovery_rows(result, truth: Mapping) -> list[dict]:
    rec, p = result.recovery, result.params
    if rec is None:
        return []
    if course_definition(truth) != (p.well_max_hours, p.well_min_satisfaction):
        return [_missing("recovery paradox", "NPS points", math.nan, math.nan, math.nan,
                         "the recovery definition differs from the course's: no truth to compare")]
    after = _get(truth, "recovery_paradox", "after_first_incident")
    nps = (after or {}).get("nps") or (_get(truth, "recovery_paradox", "nps") if _version(truth) < 2 else None) or {}
    rows = []
    groups = rec.groups.set_index("status")
    for status in ("never_failed", "recovered_well"):
        if status in groups.index and status in nps and not groups.loc[status, "suppressed"]:
            g = groups.loc[status]
            rows.append(_row(f"NPS after the first failure, {status.replace('_', ' ')}", "NPS points", g["nps"],
                             g["ci_low"], g["ci_high"], nps[status]))
    test = (rec.paradox.get("nps") or {}).get("recovered_well")
    if test is not None and not isinstance(test, str):
        u = test.unadjusted
        diff = (after or {}).get("difference")
        if diff is None and "recovered_well" in nps and "never_failed" in nps:
            diff = nps["recovered_well"] - nps["never_failed"]
        rows.append(_row("paradox difference (unadjusted)", "NPS points", u.estimate, u.ci_low, u.ci_high, diff))
        if test.adjusted is not None:
            a = test.adjusted
            rows.append(_row("paradox difference (adjusted)", "NPS points", a.estimate, a.ci_low, a.ci_high,
                             (after or {}).get("effect"),
                             "" if (after or {}).get("effect") is not None else
                             "truth.json does not record recovery_paradox.after_first_incident.effect"))
    return rows + _hazard_rows(result, truth)


def _hazard_rows(result, truth: Mapping) -> list[dict]:
    hz = result.recovery.hazard
    if hz is None:
        return []
    hrs = _get(truth, "churn", "hazard_ratios", "failure_status") or {}
    same_model = _course_covariates(hz.adjusted_for, truth)
    rows = []
    for r in hz.table.loc[~hz.table["suppressed"].astype(bool) & (hz.table["status"] != "never_failed")].itertuples():
        key = r.status if r.status in hrs else "other_failure"
        true = hrs.get(key) if same_model else None
        note = "" if true is not None else ("the hazard model's covariates differ from the course's" if not
                                            same_model else "truth.json does not record "
                                            "churn.hazard_ratios.failure_status")
        rows.append(_row(f"churn hazard ratio, {r.status.replace('_', ' ')}", "hazard ratio", r.hazard_ratio,
                         r.ci_low, r.ci_high, true, note))
    return rows


def compare_with_truth(result) -> pd.DataFrame | None:
    """Every comparison above for a course-data result (None on a user's data or under filters)."""
    truth = result.data.truth
    if truth is None or result.data.filters:
        return None
    rows = interaction_rows(result, truth) + retention_rows(result, truth) + recovery_rows(result, truth)
    return pd.DataFrame(rows) if rows else None
