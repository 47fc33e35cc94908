"""results.json: the ``dual_proactivity`` and ``recovery`` keys (the names issue 13 fixes are a public interface;
further keys are only added) and the headline numbers.

``dual_proactivity``: outcome, interaction (on the outcome's own scale per unit of x × moderator; log-odds for
``promoter``), ci_low, ci_high, p_value, jn_low, jn_high, synergy (+ ci), cells {neither, firm, customer, both:
{mean, ci_low, ci_high, n}}, simple_slopes [{at, slope, ci_low, ci_high}] — and more. ``recovery``: groups
{status: {n, nps, ci_low, ci_high}}, paradox {difference, ci_low, ci_high, p_one_sided, equivalent} (recovered well
− never failed in NPS points, adjusted when adjust_for is given), churn_hazard_ratios {status: hr}. Hidden groups
carry ``suppressed: true`` and no counts.
"""
from __future__ import annotations

import math

import numpy as np

from .describe import synergy_verdict

HEADLINE_ORDER = ["Interaction", "Interaction p", "Synergy", "Paradox (NPS points)", "Responses", "Customers"]


def _num(x):
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _count(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) or x is np.nan or str(x) == "<NA>" else int(x)


def _cells(table) -> dict:
    if table is None:
        return {}
    out = {}
    for r in table.to_dict(orient="records"):
        hidden = bool(r["suppressed"])
        out[r["cell"]] = {"mean": None if hidden else _num(r["estimate"]),
                          "ci_low": None if hidden else _num(r["ci_low"]),
                          "ci_high": None if hidden else _num(r["ci_high"]),
                          "n": None if hidden else _count(r["n"]),
                          "customers": None if hidden else _count(r["customers"]), "suppressed": hidden}
    return out


def _estimate(est) -> dict | None:
    if est is None:
        return None
    return {"estimate": _num(est.estimate), "se": _num(est.se), "ci_low": _num(est.ci_low),
            "ci_high": _num(est.ci_high), "p_value": _num(est.p_value)}


def dual_content(result) -> dict:
    it, p = result.interaction, result.params
    est, jn = it.interaction, it.jn
    bounds = list(jn.bounds) + [None, None]
    syn = it.synergy
    slopes = [{"at": _num(r["w_value"]), "slope": _num(r["estimate"]), "ci_low": _num(r["ci_low"]),
               "ci_high": _num(r["ci_high"]), "p_value": _num(r["p_value"]), "probe": r["probe"], "label": r["label"]}
              for r in it.slopes.to_dict(orient="records")]
    out = {
        "outcome": p.outcome, "x": p.x, "moderator": p.moderator, "controls": list(p.controls),
        "family": it.family, "interaction": est.estimate, "se": est.se, "ci_low": est.ci_low,
        "ci_high": est.ci_high, "p_value": est.p_value, "cov_type": it.model.cov_type, "n": it.model.n,
        "n_customers": it.n_customers,
        "jn_low": _num(bounds[0]), "jn_high": _num(bounds[1]), "jn_in_range": list(jn.in_range),
        "jn_observed_range": [jn.w_min, jn.w_max],
        "jn_significant_regions": jn.significant_regions.to_dict(orient="records"),
        "synergy": _num(syn.estimate) if syn else None, "synergy_ci_low": _num(syn.ci_low) if syn else None,
        "synergy_ci_high": _num(syn.ci_high) if syn else None, "synergy_p_value": _num(syn.p_value) if syn else None,
        "synergy_verdict": synergy_verdict(syn),
        "cuts": {"x": result.x_cut, "moderator": result.w_cut},
        "cells": _cells(it.cells),
        "simple_slopes": slopes,
        "coefficients": it.model.coefficients[["term", "estimate", "se", "ci_low", "ci_high", "p_value"]].to_dict(
            orient="records"),
        "r2": _num(it.model.r2), "r2_change": _num(it.model.r2_change),
    }
    if it.nps_cells is not None:
        out["cells_nps"] = _cells(it.nps_cells)
        out["synergy_nps"] = _estimate(it.nps_synergy)
    if it.probability is not None:
        pi = it.probability
        out["probability_scale"] = {"interaction": pi.estimate, "se": pi.se, "ci_low": pi.ci_low,
                                    "ci_high": pi.ci_high, "p_value": pi.p_value, "method": pi.method}
        out["odds_ratio"] = {"interaction": math.exp(est.estimate), "ci_low": math.exp(est.ci_low),
                             "ci_high": math.exp(est.ci_high)}
        out["synergy_odds"] = it.odds_synergy
    out["retention"] = _retention(result)
    out["claims"] = [] if result.claims is None else result.claims.to_dict(orient="records")
    return out


def _retention(result) -> dict | None:
    ret = result.retention
    if ret is None:
        return None
    cells = {}
    for r in ret.cells.to_dict(orient="records"):
        hidden = bool(r["suppressed"])
        cells[r["cell"]] = {k: (None if hidden else _num(r[k])) for k in ("retention", "ci_low", "ci_high", "rmst",
                                                                            "rmst_ci_low", "rmst_ci_high")}
        cells[r["cell"]].update(n=None if hidden else _count(r["n"]), events=None if hidden else _count(r["events"]),
                                suppressed=hidden)
    return {"horizon_months": ret.horizon_months, "cells": cells, "synergy": ret.synergy,
            "cox_interaction": ret.cox_interaction, "cox_covariates": list(ret.covariates)}


def _paradox(test) -> dict | None:
    if test is None or isinstance(test, str):
        return None
    r, u = test.result, test.unadjusted
    return {"difference": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_one_sided": r.p_greater,
            "equivalent": r.equivalent, "verdict": r.verdict, "margin": r.margin, "p_tost": r.p_tost,
            "p_value": r.p_value, "adjusted": r.adjusted, "value_recovered_well": r.value_a,
            "value_never_failed": r.value_b,
            "unadjusted": {"difference": u.estimate, "ci_low": u.ci_low, "ci_high": u.ci_high,
                           "p_one_sided": u.p_greater, "equivalent": u.equivalent, "verdict": u.verdict}}


def recovery_content(result) -> dict:
    rec, p = result.recovery, result.params
    definition = {"well_max_hours": p.well_max_hours, "well_min_satisfaction": p.well_min_satisfaction}
    if rec is None:
        return {"groups": {}, "paradox": None, "churn_hazard_ratios": {}, "definition": definition,
                "skipped": result.skipped.get("recovery")}
    groups = {}
    for r in rec.groups.to_dict(orient="records"):
        hidden = bool(r["suppressed"])
        groups[r["status"]] = {"n": None if hidden else _count(r["n"]),
                               "customers": None if hidden else _count(r["customers"]),
                               "nps": None if hidden else _num(r["nps"]), "ci_low": None if hidden else _num(r["ci_low"]),
                               "ci_high": None if hidden else _num(r["ci_high"]), "suppressed": hidden}
    double = groups.pop("double_deviation", None)
    hz = rec.hazard
    hrs, hazard = {}, {}
    if hz is not None:
        for r in hz.table.to_dict(orient="records"):
            hidden = bool(r["suppressed"])
            hrs[r["status"]] = None if hidden else _num(r["hazard_ratio"])
            hazard[r["status"]] = {"hr": None if hidden else _num(r["hazard_ratio"]),
                                   "ci_low": None if hidden else _num(r["ci_low"]),
                                   "ci_high": None if hidden else _num(r["ci_high"]),
                                   "p_value": None if hidden else _num(r["p_value"]),
                                   "customers": None if hidden else _count(r["customers"]),
                                   "events": None if hidden else _count(r["events"]), "suppressed": hidden}
    status_counts = {r["status"]: {"n": None if r["suppressed"] else _count(r["n"]),
                                   "share": None if r["suppressed"] else _num(r["share"]),
                                   "suppressed": bool(r["suppressed"])}
                     for r in rec.status_counts.to_dict(orient="records")}
    tests = rec.paradox
    return {
        "groups": groups,
        "paradox": _paradox((tests.get("nps") or {}).get("recovered_well")),
        "churn_hazard_ratios": hrs,
        "churn_hazard": hazard,
        "churn_hazard_fixed_status": ({r["status"]: (None if r["suppressed"] else _num(r["hazard_ratio"]))
                                       for r in hz.fixed.to_dict(orient="records")}
                                      if hz is not None and hz.fixed is not None else {}),
        "paradox_by_outcome": {o: _paradox(t.get("recovered_well")) for o, t in tests.items()},
        "double_deviation": {"group": double, "vs_never_failed": {o: _paradox(t.get("double_deviation"))
                                                                  for o, t in tests.items()}},
        "status_counts": status_counts,
        "definition": definition,
        "responses_counted": rec.after_rule,
        "incidents": rec.incidents_n,
        "recovered_share": _num(rec.recovered_share),
        "recovered_well_per_incident": _num(rec.well_per_incident),
        "speed_slope_per_doubling": _estimate(rec.speed_slope),
        "margins": {"nps": p.margin_nps, "scale": p.margin_scale},
        "skipped": result.skipped.get("churn by failure status"),
    }


def content(result) -> dict:
    truth = None
    if result.truth is not None:
        t = result.truth
        compared = t.loc[t["covered"].notna()]
        truth = {"covered": int(compared["covered"].astype(bool).sum()), "compared": int(len(compared)),
                 "rows": t.to_dict(orient="records")}
    return {"dual_proactivity": dual_content(result), "recovery": recovery_content(result),
            "skipped": dict(result.skipped), "truth": truth, "min_cell": result.params.min_cell,
            "confidence": result.params.confidence, "filters": result.data.filters,
            "join_match_rate": result.data.join_match_rate}


def headline(result) -> dict:
    it = result.interaction
    out = {"Interaction": round(it.interaction.estimate, 4), "Interaction p": round(it.interaction.p_value, 4),
           "Synergy": round(it.synergy.estimate, 3) if it.synergy is not None else None,
           "Responses": it.model.n}
    if it.n_customers is not None:
        out["Customers"] = it.n_customers
    rec = result.recovery
    test = (rec.paradox.get("nps") or {}).get("recovered_well") if rec is not None else None
    if test is not None and not isinstance(test, str):
        out["Paradox (NPS points)"] = round(test.result.estimate, 1)
    return out
