"""The result tables as the notebook shows them: readable column names, shares as percentages, p-values and flags as
text, hidden counts reading 'suppressed'. (Display only; the tables in results.json keep their own names.) Headers
are translated on display through the glossary (glossary/drivers.json); driver names and the analysis' own words
(Kano category, warning kind, measure) here, in the report's language."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loyaltylab import i18n
from loyaltylab.constants import DIMENSIONS, dimension_label
from loyaltylab.i18n import column_zh

from .words import cell, pick

if TYPE_CHECKING:
    from .analysis import DriversReport

VIEWS = {
    "drivers": {"driver": "Driver", "lmg_share": "Share of R² %", "lmg_share_ci_low": "CI low %",
                "lmg_share_ci_high": "CI high %", "lmg": "LMG (R² units)", "relative_weight_share": "Relative weight %",
                "rank": "Rank", "rank_ci_low": "Rank CI low", "rank_ci_high": "Rank CI high",
                "performance": "Performance (mean)"},
    "measures": {"driver": "Driver", "r": "r with outcome", "first": "First", "last": "Last", "pratt": "Pratt",
                 "betasq": "Beta²", "lmg": "LMG", "relative_weight": "Relative weight", "beta_std": "Std. beta",
                 "vif": "VIF"},
    "pairs": {"driver": "Driver", "other": "vs", "estimate": "LMG difference", "ci_low": "CI low",
              "ci_high": "CI high", "p_adjusted": "p (adjusted)", "significant": "Significant",
              "complete_driver": "Dominates completely (share)", "complete_other": "Dominated completely (share)"},
    "ranks": {"driver": "Driver"},
    "dominance": {"driver": "Driver", "other": "vs", "complete": "Complete", "conditional": "Conditional",
                  "general": "General"},
    "key_drivers": {"driver": "Driver", "importance": "Share of R² %", "performance": "Performance",
                    "performance_axis": "Performance axis", "quadrant": "Quadrant",
                    "importance_stability": "Same side of 1/p (share)"},
    "stated": {"driver": "Driver", "derived": "Derived %", "stated": "Stated %", "difference": "Derived − stated %",
               "rank_derived": "Rank derived", "rank_stated": "Rank stated"},
    "kano": {"driver": "Driver", "n_bottom": "n bottom", "n_middle": "n middle", "n_top": "n top",
             "penalty": "Penalty", "penalty_ci_low": "Penalty CI low", "penalty_ci_high": "Penalty CI high",
             "reward": "Reward", "reward_ci_low": "Reward CI low", "reward_ci_high": "Reward CI high",
             "p_adjusted": "p (adjusted)", "category": "Category", "suppressed": "suppressed"},
    "segment": {"value": "Group", "driver": "Driver", "n": "n", "estimate": "Share %", "ci_low": "CI low %",
                "ci_high": "CI high %", "rest": "Rest %", "diff_vs_rest": "Difference (points)",
                "p_adjusted": "p (adjusted)", "significant": "Differs from rest", "suppressed": "suppressed"},
    "segment_groups": {"value": "Group", "n": "n", "r2": "R²", "few_rows": "< 10 per predictor",
                       "suppressed": "suppressed"},
    "truth": {"measure": "Measure", "driver": "Driver", "estimate": "Estimate", "ci_low": "CI low",
              "ci_high": "CI high", "true": "True (observed scores)", "covered": "Interval contains truth",
              "latent_weight": "Latent weight share"},
    "promoter": {"driver": "Driver", "lmg": "LMG (McFadden R²)", "lmg_share": "Share %", "first": "First",
                 "last": "Last", "rank": "Rank"},
    "warnings": {"kind": "Kind", "driver": "Driver", "other": "Other", "value": "Value", "reference": "Reference",
                 "threshold": "Threshold"},
}
PERCENT = {"lmg_share", "lmg_share_ci_low", "lmg_share_ci_high", "relative_weight_share", "importance", "derived",
           "stated", "difference", "rest"}
SEGMENT_PERCENT = {"estimate", "ci_low", "ci_high", "rest", "diff_vs_rest"}


def _p_text(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def name(driver) -> str:
    """A driver's display name (the bilingual label for a SERVQUAL dimension, its Chinese name alone in a Chinese
    report); table cells are escaped on display."""
    if driver not in DIMENSIONS:
        return str(driver)
    return DIMENSIONS[driver]["zh"] if i18n.current() == "zh" else dimension_label(driver, bilingual=True)


def view(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A result table with readable column names for display."""
    columns = VIEWS[kind]
    if kind == "ranks":
        out = table.copy()
        out.columns = [str(c) for c in out.columns]
        out = out.rename(columns={c: pick(f"P(rank {c})", f"P(名次 {c})") for c in out.columns if c.isdigit()})
    else:
        out = table[[c for c in columns if c in table]].copy()
    percent = SEGMENT_PERCENT if kind == "segment" else PERCENT
    for col in out.columns:
        if col in ("driver", "other", "complete", "conditional", "general"):
            out[col] = out[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else name(v))
        elif col.startswith("p_") or col == "p_value":
            out[col] = out[col].map(_p_text).astype(object)
        elif col in ("category", "kind", "measure"):
            out[col] = out[col].map(cell).astype(object)
        elif col in ("significant", "covered", "few_rows"):
            out[col] = out[col].map(lambda v: "yes" if v is True or v == 1 else "").astype(object)
        elif col in percent:
            out[col] = 100 * out[col].astype("float64")
        elif isinstance(out[col].dtype, pd.Int64Dtype):
            out[col] = out[col].map(lambda v: "suppressed" if pd.isna(v) else int(v)).astype(object)
    return out.rename(columns=columns)


def rank_view(result: DriversReport) -> pd.DataFrame | None:
    """Rank probabilities: one row per driver, P(rank k) per column."""
    boot = result.boot
    if boot is None:
        return None
    probs = boot.rank_probabilities.reset_index()
    return view(probs, "ranks")


def segment_views(result: DriversReport) -> list[tuple[str, pd.DataFrame]]:
    """(caption, table) per segment column: the groups, then the driver shares (ready for notebook.show_table)."""
    seg = result.segments
    if seg is None:
        return []
    out = []
    for col, groups in seg.groups.groupby("column", sort=False):
        out.append((pick(f"Groups by {col}", f"按{column_zh(col)}划分的组"), view(groups, "segment_groups")))
        out.append((pick(f"Driver shares by {col}", f"按{column_zh(col)}划分的驱动因素份额"),
                    view(seg.table[seg.table["column"] == col], "segment")))
    return out
