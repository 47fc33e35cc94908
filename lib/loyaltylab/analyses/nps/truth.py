"""Estimated vs true (course data only): the course world's truth.json holds the population NPS overall and per
segment value, and each comment's true theme."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from loyaltylab import privacy
from loyaltylab import themes as th

from .score import NPSResult

TRUTH_COLUMNS = ["scope", "value", "n", "estimate", "ci_low", "ci_high", "true", "error", "covered"]


def truth_comparison(
    result: NPSResult, segments: Mapping[str, pd.DataFrame], truth: Mapping | None, filters: Mapping | None = None,
) -> pd.DataFrame | None:
    """Estimated vs true population NPS from the course world's truth.json: overall and per visible segment value.

    With ``filters`` the overall truth is the filtered group's (single column, single value) and segment rows are
    left out — the truth holds only one-way population values. None without a truth (a user's data)."""
    if not truth or "nps" not in truth:
        return None
    t = truth["nps"]
    by = t.get("by_segment", {})
    rows = []

    def add(scope, value, est, low, high, true, n):
        rows.append({"scope": scope, "value": value, "n": n, "estimate": est, "ci_low": low, "ci_high": high,
                     "true": true, "error": est - true if np.isfinite(est) else np.nan,
                     "covered": bool(low <= true <= high) if np.isfinite(est) else False})

    filters = dict(filters or {})
    if not filters:
        add("overall", "everyone", result.nps, result.ci_low, result.ci_high, float(t["overall"]), result.n)
        for col, table in segments.items():
            for r in privacy.visible(table).itertuples():
                true = by.get(col, {}).get(str(r.value))
                if true is not None:
                    add(col, r.value, r.nps, r.ci_low, r.ci_high, float(true), r.n)
    elif len(filters) == 1:
        (col, value), = filters.items()
        true = by.get(col, {}).get(str(value)) if not isinstance(value, (list, tuple, set)) else None
        if true is not None:
            add("overall", f"{col} = {value}", result.nps, result.ci_low, result.ci_high, float(true), result.n)
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS) if rows else None


def theme_accuracy(frame: pd.DataFrame, assigned: pd.DataFrame, truth: Mapping | None):
    """Theme assignment checked against truth.json ``comment_themes`` (course data only), or None."""
    true_themes = (truth or {}).get("comment_themes")
    if not true_themes or "response_id" not in frame:
        return None
    true = frame["response_id"].map(true_themes)
    if true.notna().sum() == 0:
        return None
    return th.accuracy(assigned["theme"], true)
