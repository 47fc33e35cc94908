"""results.json of the driver analysis: the tables in the standard columns and the analysis' own keys.

The names issue 12 set are the contract: ``outcome``, ``n``, ``r2``, ``drivers.<name>`` = {lmg, lmg_share,
lmg_ci_low, lmg_ci_high, relative_weight, relative_weight_share, beta_std, vif, rank, performance},
``dominance.complete`` (pairs), ``dominance.general.<name>``, ``kano.<name>`` = {penalty, reward, category}. Every
other key is added beside them (add keys, never rename or drop one).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from loyaltylab.analyses.base import standard_table

if TYPE_CHECKING:
    from .analysis import DriversReport

DRIVER_KEYS = ["lmg", "lmg_share", "lmg_ci_low", "lmg_ci_high", "relative_weight", "relative_weight_share",
               "beta_std", "vif", "rank", "performance", "lmg_share_ci_low", "lmg_share_ci_high",
               "relative_weight_share_ci_low", "relative_weight_share_ci_high", "rank_ci_low", "rank_ci_high",
               "first", "last", "pratt", "r", "lmg_se", "members"]
KANO_KEYS = ["penalty", "reward", "category", "penalty_ci_low", "penalty_ci_high", "reward_ci_low", "reward_ci_high",
             "estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "significant", "bottom_max", "top_min", "n",
             "n_bottom", "n_middle", "n_top", "suppressed"]
SEGMENT_KEYS = ["lmg", "estimate", "ci_low", "ci_high", "rest", "diff_vs_rest", "diff_ci_low", "diff_ci_high",
                "p_value", "p_adjusted", "significant"]


def _records(table: pd.DataFrame | None, columns=None) -> list[dict]:
    if table is None:
        return []
    cols = [c for c in (columns or table.columns) if c in table]
    return table[cols].to_dict(orient="records")


def tables(report: DriversReport) -> dict[str, pd.DataFrame]:
    """The result tables in the standard columns (estimate, ci_low, ci_high, p_value, p_adjusted, significant, n,
    suppressed); suppressed rows carry no count."""
    dec = report.decomposition
    out = {"drivers": standard_table(report.drivers.rename(columns={"lmg_share": "estimate"}), {
        "lmg_share_ci_low": "ci_low", "lmg_share_ci_high": "ci_high"})}
    if dec.boot is not None:
        out["pairs"] = dec.boot.pairs
        out["ranks"] = dec.boot.ranks
        out["rank_probabilities"] = dec.boot.rank_probabilities.reset_index().rename(columns=str)
    if dec.dominance is not None:
        out["dominance"] = dec.dominance
        out["conditional_dominance"] = dec.conditional.reset_index().rename(columns=str)
    out["key_drivers"] = standard_table(report.key_drivers, {"importance": "estimate", "importance_ci_low": "ci_low",
                                                             "importance_ci_high": "ci_high"})
    if report.stated is not None:
        out["stated"] = report.stated
    out["kano"] = report.kano
    if report.promoter is not None:
        out["promoter"] = report.promoter.point.table
    if report.segments is not None:
        out["segments"] = report.segments.groups
        out["by_segment"] = report.segments.table
    out["warnings"] = report.warnings
    if report.truth is not None:
        out["truth"] = report.truth
    return out


def _drivers(report: DriversReport) -> dict:
    t = report.drivers.set_index("driver")
    return {name: {k: row[k] for k in DRIVER_KEYS if k in row} for name, row in t.iterrows()}


def _dominance(report: DriversReport) -> dict:
    dec = report.decomposition
    general = {d: float(v) for d, v in zip(report.drivers["driver"], report.drivers["lmg"])}
    out: dict = {"general": general, "complete": [], "conditional": []}
    table = dec.dominance
    if table is None:
        out["complete"] = out["conditional"] = None
        return out
    shares = None
    if dec.boot is not None:
        shares = dec.boot.pairs.set_index(["driver", "other"])
    for level in ("complete", "conditional"):
        rows = []
        for r in table.itertuples(index=False):
            row = {"driver": r.driver, "other": r.other, "dominant": getattr(r, level)}
            if shares is not None and (r.driver, r.other) in shares.index:
                s = shares.loc[(r.driver, r.other)]
                row["share_driver"] = s[f"{level}_driver"]
                row["share_other"] = s[f"{level}_other"]
            rows.append(row)
        out[level] = rows
    out["general_pairs"] = [{"driver": r.driver, "other": r.other, "dominant": r.general}
                            for r in table.itertuples(index=False)]
    return out


def _kano(report: DriversReport) -> dict:
    t = report.kano.set_index("driver")
    return {name: {k: row[k] for k in KANO_KEYS if k in row} for name, row in t.iterrows()}


def _ranks(report: DriversReport) -> dict:
    boot = report.decomposition.boot
    if boot is None:
        return {}
    probs = boot.rank_probabilities
    rk = boot.ranks.set_index("driver")
    return {d: {"rank": int(rk.loc[d, "estimate"]), "ci_low": int(rk.loc[d, "ci_low"]),
                "ci_high": int(rk.loc[d, "ci_high"]),
                "probabilities": {str(k): float(v) for k, v in probs.loc[d].items()}} for d in probs.index}


def _segments(report: DriversReport) -> dict:
    seg = report.segments
    if seg is None:
        return {}
    out = {}
    for col, groups in seg.groups.groupby("column", sort=False):
        rows = []
        table = seg.table[seg.table["column"] == col]
        for g in groups.itertuples(index=False):
            hidden = bool(g.suppressed)
            part = table[table["value"] == g.value]
            rows.append({"value": g.value, "n": None if hidden else g.n, "r2": None if hidden else g.r2,
                         "few_rows": None if hidden else bool(g.few_rows), "suppressed": hidden,
                         "drivers": {} if hidden else {r["driver"]: {k: r[k] for k in SEGMENT_KEYS}
                                                       for r in part.to_dict(orient="records")}})
        out[col] = rows
    return out


def _promoter(report: DriversReport) -> dict | None:
    dec = report.promoter
    if dec is None:
        return None
    pt = dec.point
    return {"r2": pt.r2, "n": pt.n, "n_total": pt.n_total,
            "drivers": {r["driver"]: {"lmg": r["lmg"], "lmg_share": r["lmg_share"], "rank": int(r["rank"])}
                        for r in pt.table.to_dict(orient="records")},
            "dominance": _records(dec.dominance)}


def content(report: DriversReport) -> dict:
    """The analysis' own results.json keys (a public interface: names and meanings never change)."""
    dec, p, d = report.decomposition, report.params, report.data
    pt = dec.point
    boot = dec.boot
    return {
        "outcome": report.outcome, "n": report.n, "r2": report.r2,
        "r2_controls": float(pt.r2_controls), "r2_drivers": float(pt.r2_drivers),
        "model": "logistic (McFadden pseudo-R²)" if dec.kind == "logistic" else "linear (R²)",
        "exact": bool(pt.exact), "n_total": int(getattr(pt, "n_total", report.n)),
        "drivers": _drivers(report), "dominance": _dominance(report), "kano": _kano(report),
        "driver_columns": list(d.drivers), "controls": list(d.controls), "control_columns": list(d.control_columns),
        "driver_groups": {k: list(v) for k, v in d.groups.items()},
        "default_drivers": d.default_drivers, "from_customers": list(d.from_customers),
        "cluster_col": d.cluster_col, "n_clusters": None if boot is None else boot.n_clusters,
        "n_bootstrap": 0 if boot is None else boot.n_boot, "confidence": p.confidence,
        "correction": report.correction, "min_cell": p.min_cell, "filters": d.filters,
        "n_incomplete": d.n_incomplete,
        "ranks": _ranks(report),
        "pairs": _records(boot.pairs) if boot is not None else [],
        "key_drivers": {"performance_scale": report.performance_scale, "crosshair_importance": 1 / len(dec.units),
                        "drivers": _records(report.key_drivers)},
        "stated": ({"spearman": report.stated_summary.get("spearman"), "n": report.stated_summary.get("n"),
                    "drivers": _records(report.stated)} if report.stated is not None else None),
        "promoter": _promoter(report),
        "by_segment": _segments(report),
        "warnings": _records(report.warnings),
        "truth": _records(report.truth) if report.truth is not None else None,
        "truth_basis": "population LMG shares of the observed dimension scores" if report.truth is not None
        else None,
    }

