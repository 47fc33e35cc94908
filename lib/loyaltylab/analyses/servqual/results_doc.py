"""results.json of the service-quality analysis (issue 11's key names are the contract: add keys, never rename)
and the result's tables in the standard columns.

Keys: ``n``; ``dimensions.<dim>`` = {expectation, perception, gap, ci_low, ci_high, p_value, p_adjusted,
alpha_perception, alpha_expectation, alpha_gap, n_items, …}; ``items.<item>`` = {dimension, expectation, perception,
gap, ci_low, ci_high, t, p_value, p_adjusted, wilcoxon_p, cohens_dz, …}; ``overall`` = {gap, ci_low, ci_high,
weighted_gap, …}; ``cfa`` = {chisq, df, p_value, cfi, tli, rmsea, rmsea_ci_low, rmsea_ci_high, srmr, loadings, …};
``efa`` = {n_factors, kmo, …}; ``ipa.<dim>`` = {importance, performance, quadrant, …}; ``servperf_vs_servqual`` =
{outcome, r2_servperf, r2_servqual, …}. ci_low / ci_high / p_value belong to the gap; in SERVPERF mode the
expectation and gap keys are null and the perception's interval is in perception_ci_low / perception_ci_high.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loyaltylab.analyses.base import standard_table

from . import scales, structure

if TYPE_CHECKING:
    from .analysis import ServqualReport

ITEM_KEYS = ["dimension", "n", "expectation", "perception", "perception_ci_low", "perception_ci_high", "gap",
             "ci_low", "ci_high", "t", "p_value", "p_adjusted", "wilcoxon_p", "cohens_dz", "deff"]
DIMENSION_KEYS = ["n", "n_items", "expectation", "perception", "perception_ci_low", "perception_ci_high", "gap",
                  "ci_low", "ci_high", "t", "p_value", "p_adjusted", "wilcoxon_p", "cohens_dz", "deff"]
FIT_KEYS = {"chi2": "chisq", "df": "df", "p_value": "p_value", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
            "rmsea_ci_low": "rmsea_ci_low", "rmsea_ci_high": "rmsea_ci_high", "srmr": "srmr", "aic": "aic",
            "bic": "bic", "n": "n", "n_parameters": "n_parameters"}


def _plain(row: pd.Series, keys) -> dict:
    return {k: row[k] for k in keys if k in row.index}


def _fit(fit) -> dict:
    d = asdict(fit)
    out = {new: d[old] for old, new in FIT_KEYS.items()}
    out["rmsea_confidence"] = d["confidence"]
    return out


def _cfa(report: ServqualReport) -> dict | None:
    s = report.structure
    if s.cfa is None:
        return None
    c = s.cfa
    out = _fit(c.fit)
    out["loadings"] = {s.item_of[r.item]: r.std_estimate for r in c.loadings.itertuples()}
    out["factor_correlations"] = {a: {b: float(c.factor_correlations.loc[a, b]) for b in c.factor_correlations}
                                  for a in c.factor_correlations.index}
    out["reliability"] = {f: {"composite_reliability": r["composite_reliability"], "ave": r["ave"],
                              "sqrt_ave": r["sqrt_ave"], "max_abs_correlation": r["max_abs_correlation"],
                              "fornell_larcker": bool(r["fornell_larcker"])} for f, r in c.reliability.iterrows()}
    out["converged"] = bool(c.converged)
    out["on"] = "perception"
    return out


def _efa(report: ServqualReport) -> dict | None:
    s = report.structure
    if s.efa is None and s.kmo is None:
        return None
    out = {"n_factors": s.n_factors, "kmo": None if s.kmo is None else s.kmo.overall,
           "kmo_items": None if s.kmo is None else {s.item_of[k]: v for k, v in s.kmo.per_item.items()},
           "bartlett_chi2": None if s.bartlett is None else s.bartlett.statistic,
           "bartlett_df": None if s.bartlett is None else s.bartlett.df,
           "bartlett_p": None if s.bartlett is None else s.bartlett.p_value,
           "parallel_components": None if s.parallel is None else s.parallel.n_components,
           "rotation": None if s.efa is None else s.efa.rotation, "method": None if s.efa is None else s.efa.method,
           "on": "perception"}
    if s.efa is not None:
        out["loadings"] = {s.item_of[i]: {f: float(v) for f, v in row.items()} for i, row in
                           s.efa.loadings.iterrows()}
        out["communalities"] = {s.item_of[i]: float(v) for i, v in s.efa.communalities.items()}
        out["variance"] = s.efa.variance.to_dict(orient="index")
    return out


def _invariance(report: ServqualReport) -> dict:
    out = {}
    for col, (res, used, note) in report.invariance.items():
        entry = {"groups": [str(g) for g in used], "note": note, "metric_holds": structure.metric_holds(res)}
        if res is not None:
            entry["n"] = {str(k): int(v) for k, v in res.n.items()}
            for level in res.fits.index:
                entry[level] = {FIT_KEYS.get(k, k): v for k, v in res.fits.loc[level].items()
                                if k in FIT_KEYS}
            if "metric" in res.comparisons.index:
                entry["comparison"] = res.comparisons.loc["metric"].to_dict()
        out[col] = entry
    return out


def content(report: ServqualReport) -> dict:
    """The analysis' own results.json keys."""
    rel = report.reliability
    servqual = report.mode == "servqual"
    dims = {}
    gap_rel = rel.gap_scores.set_index("dimension") if rel.gap_scores is not None and len(rel.gap_scores) else None
    for _, r in report.dimensions.iterrows():
        d = r["dimension"]
        entry = _plain(r, DIMENSION_KEYS)
        entry["alpha_perception"] = scales.alpha_of(rel, d, "perception")
        entry["alpha_expectation"] = scales.alpha_of(rel, d, "expectation") if servqual else None
        entry["alpha_gap"] = scales.alpha_of(rel, d, "gap") if servqual else None
        entry["gap_score_reliability"] = (float(gap_rel.loc[d, "reliability"]) if gap_rel is not None
                                          and d in gap_rel.index else None)
        entry["items"] = list(report.instrument.dimensions[d])
        dims[d] = entry
    items = {}
    for _, r in report.items.iterrows():
        entry = _plain(r, ITEM_KEYS)
        entry["perception_col"] = report.instrument.perception[r["item"]]
        entry["expectation_col"] = (report.instrument.expectation or {}).get(r["item"])
        items[str(r["item"])] = entry
    o = report.overall.iloc[0]
    overall = {"gap": o["estimate"] if servqual else None, "ci_low": o["ci_low"] if servqual else None,
               "ci_high": o["ci_high"] if servqual else None, "p_value": o["p_value"] if servqual else None,
               "weighted_gap": o["weighted"] if servqual else None,
               "weighted_ci_low": o["weighted_ci_low"] if servqual else None,
               "weighted_ci_high": o["weighted_ci_high"] if servqual else None, "n_weighted": o["n_weighted"],
               "perception": o["perception"], "perception_ci_low": o["perception_ci_low"],
               "perception_ci_high": o["perception_ci_high"],
               "weighted_perception": None if servqual else o["weighted"], "n": o["n"]}
    ipa = {}
    if report.ipa is not None:
        for _, r in report.ipa.table.iterrows():
            ipa[r["dimension"]] = {k: r[k] for k in ("importance", "performance", "quadrant", "importance_derived",
                                                     "importance_stated", "stability")}
    spvq = None
    if report.servperf is not None and len(report.servperf):
        first = report.servperf.iloc[0]
        spvq = {"outcome": first["outcome"], "r2_servperf": first["r2_servperf"],
                "r2_servqual": first["r2_servqual"] if servqual else None, "n": first["n"],
                "adj_r2_servperf": first["adj_r2_servperf"],
                "adj_r2_servqual": first["adj_r2_servqual"] if servqual else None,
                "by_outcome": report.servperf.to_dict(orient="records")}
    ranking = report.ranking()
    out = {
        "n": report.n, "people": report.people, "dropped_rows": report.dropped_rows, "mode": report.mode,
        "confidence": report.params.confidence, "min_cell": report.params.min_cell, "correction": report.correction,
        "cluster_col": report.cluster_col, "filters": report.data.filters,
        "dimensions": dims, "items": items, "overall": overall,
        "ranking": list(ranking["dimension"]), "largest_gap": ranking.iloc[0]["dimension"] if servqual else None,
        "reliability": {"alphas": rel.alphas.to_dict(orient="records"),
                        "gap_scores": None if rel.gap_scores is None else rel.gap_scores.to_dict(orient="records"),
                        "low_mark": scales.LOW_RELIABILITY},
        "cfa": _cfa(report), "efa": _efa(report), "invariance": _invariance(report),
        "ipa": ipa, "ipa_method": None if report.ipa is None else {
            "source": report.ipa.source, "derived_method": report.ipa.derived_method, "outcome": report.ipa.outcome,
            "crosshair_importance": report.ipa.crosshair[0], "crosshair_performance": report.ipa.crosshair[1],
            "n": report.ipa.n, "n_bootstrap": report.ipa.n_bootstrap},
        "servperf_vs_servqual": spvq,
        "by_segment": {c: t.to_dict(orient="records") for c, t in report.segments.items()},
        "trend": [] if report.trend is None else report.trend.to_dict(orient="records"),
        "zone_of_tolerance": None if report.zone is None else {
            r["dimension"]: {k: r[k] for k in r.index if k != "dimension"} for _, r in report.zone.iterrows()},
        "truth": None if report.truth is None else report.truth.to_dict(orient="records"),
        "strategies": None if report.strategies is None else report.strategies.to_dict(orient="records"),
    }
    return out


def tables(report: ServqualReport) -> dict[str, pd.DataFrame]:
    """The result tables in the standard columns (estimate, ci_low, ci_high, p_value, p_adjusted, significant, n,
    suppressed); hidden rows carry no count."""
    out = {
        "dimensions": report.dimensions.drop(columns=["gap"]),
        "items": report.items.drop(columns=["gap"]),
        "overall": report.overall,
        "reliability": standard_table(report.reliability.alphas, {"alpha": "estimate"}),
    }
    if report.reliability.gap_scores is not None:
        out["gap_score_reliability"] = standard_table(report.reliability.gap_scores, {"reliability": "estimate"})
    s = report.structure
    if s.cfa is not None:
        fit = pd.DataFrame([_fit(s.cfa.fit)])
        out["cfa_fit"] = fit
        loadings = s.cfa.loadings.assign(item=[s.item_of[i] for i in s.cfa.loadings["item"]]).rename(
            columns={"estimate": "unstandardised"})
        out["cfa_loadings"] = standard_table(loadings, {"std_estimate": "estimate"})
        out["cfa_reliability"] = s.cfa.reliability.reset_index()
    if s.efa is not None:
        out["efa_loadings"] = s.efa.loadings.assign(communality=s.efa.communalities).rename(
            index=s.item_of).rename_axis("item").reset_index()
    for col, (res, _, _) in report.invariance.items():
        if res is not None:
            out[f"invariance:{col}"] = res.fits.reset_index()
    if report.servperf is not None:
        out["servperf_vs_servqual"] = report.servperf
    if report.ipa is not None:
        out["ipa"] = standard_table(report.ipa.table, {"importance": "estimate"})
    for col, table in report.segments.items():
        out[f"by_segment:{col}"] = table
    if report.trend is not None:
        out["trend"] = report.trend
    if report.zone is not None:
        out["zone_of_tolerance"] = report.zone
    if report.truth is not None:
        out["truth"] = report.truth
    if report.strategies is not None:
        out["strategies"] = report.strategies
    return {k: v.replace({np.inf: np.nan}) if isinstance(v, pd.DataFrame) else v for k, v in out.items()}
