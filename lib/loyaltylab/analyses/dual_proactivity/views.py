"""The result tables as the notebook shows them: readable column names, p-values and flags as text, hidden counts
reading 'suppressed'. (Display only; results.json keeps its own names.)"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .describe import STATUS_WORDS, cell_names

VIEWS = {
    "coefficients": {"term": "Term", "estimate": "Estimate", "se": "SE", "ci_low": "CI low", "ci_high": "CI high",
                     "p_value": "p"},
    "slopes": {"probe": "Probe", "label": "At", "w_value": "Moderator value", "estimate": "Slope of x", "se": "SE",
               "ci_low": "CI low", "ci_high": "CI high", "p_value": "p", "significant": "Significant"},
    "cells": {"cell": "Cell", "n": "Responses", "customers": "Customers", "estimate": "Mean", "ci_low": "CI low",
              "ci_high": "CI high", "suppressed": "suppressed"},
    "contrasts": {"contrast": "Contrast", "estimate": "Estimate", "ci_low": "CI low", "ci_high": "CI high",
                  "p_value": "p", "significant": "Significant"},
    "retention": {"cell": "Cell", "n": "Customers", "events": "Churned", "retention": "Retention at horizon",
                  "ci_low": "CI low", "ci_high": "CI high", "rmst": "Mean months (to horizon)",
                  "rmst_ci_low": "CI low ", "rmst_ci_high": "CI high ", "suppressed": "suppressed"},
    "claims": {"slide": "Slide claim", "testable": "Testable", "measure": "Measure", "dual": "Dual-proactive",
               "rest": "Rest", "estimate": "Difference / ratio", "ci_low": "CI low", "ci_high": "CI high",
               "why": "Why not"},
    "status": {"status": "Failure history", "n": "Customers", "share": "Share", "suppressed": "suppressed"},
    "by_type": {"failure_type": "Failure type", "n": "Incidents", "customers": "Customers",
                "recovery_rate": "Recovered", "ci_low": "CI low", "ci_high": "CI high",
                "median_hours": "Median hours", "mean_satisfaction": "Recovery satisfaction",
                "well_share": "Recovered well", "suppressed": "suppressed"},
    "speed": {"band": "Recovery time", "n": "Incidents", "customers": "Customers", "estimate": "Recovery satisfaction",
              "ci_low": "CI low", "ci_high": "CI high", "suppressed": "suppressed"},
    "groups": {"status": "Group", "n": "Responses", "customers": "Customers", "nps": "NPS", "ci_low": "CI low",
               "ci_high": "CI high", "suppressed": "suppressed"},
    "paradox": {"outcome": "Outcome", "comparison": "Comparison", "model": "Model", "estimate": "Difference",
                "ci_low": "CI low", "ci_high": "CI high", "p_greater": "p (one-sided)", "margin": "Margin",
                "p_tost": "p (TOST)", "verdict": "Verdict"},
    "hazard": {"status": "Status", "customers": "Customers", "events": "Churned in status",
               "hazard_ratio": "Hazard ratio", "ci_low": "CI low", "ci_high": "CI high", "p_value": "p",
               "suppressed": "suppressed"},
    "truth": {"quantity": "Quantity", "scale": "Scale", "estimate": "Estimate", "ci_low": "CI low",
              "ci_high": "CI high", "true": "True", "covered": "Interval contains truth", "note": "Note"},
}


def _p_text(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def view(table: pd.DataFrame, kind: str, result=None) -> pd.DataFrame:
    """A result table with readable column names (p-values and flags as text, hidden counts 'suppressed')."""
    columns = VIEWS[kind]
    out = table[[c for c in columns if c in table]].copy()
    for col in out.columns:
        if col.startswith("p_") or col == "p_value":
            out[col] = out[col].map(_p_text).astype(object)
        elif col in ("significant", "covered", "testable"):
            out[col] = out[col].map(lambda v: "yes" if v is True or v == 1 else ("no" if v is False or v == 0
                                                                               else "")).astype(object)
        elif isinstance(out[col].dtype, pd.Int64Dtype) or (col in ("customers", "n") and "suppressed" in out):
            hidden = out["suppressed"].astype(bool) if "suppressed" in out else pd.Series(False, index=out.index)
            out[col] = [("suppressed" if h or pd.isna(v) else int(v)) for v, h in zip(out[col], hidden)]
    if result is not None and "cell" in out:
        out["cell"] = out["cell"].map(cell_names(result, raw=True))
    if "status" in out:
        out["status"] = out["status"].map(lambda s: STATUS_WORDS.get(s, s))
    return out.rename(columns=columns)
