"""Estimated vs true (course data): the generator's coefficients against the Cox and Weibull AFT intervals."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from loyaltylab.analyses.churn.aft import AFTComparison, weibull_shape_interval
from loyaltylab.analyses.churn.cox import CoxResult


def compare_with_truth(cox: CoxResult, truth: Mapping | None, aft: AFTComparison | None = None) -> pd.DataFrame | None:
    """Cox β (and Weibull AFT α, and the Weibull shape) with their intervals (at the models' confidence) next to the
    generator's true values; ``covered`` says whether the interval holds the truth."""
    if not truth or "churn" not in truth:
        return None

    def matched(model: str, table: pd.DataFrame, true: Mapping) -> list[dict]:
        return [{"model": model, "covariate": r.covariate, "true": float(true[r.covariate]), "estimate": float(r.coef),
                 "lower": float(r.coef_lower), "upper": float(r.coef_upper)}
                for r in table.itertuples() if r.covariate in true]

    rows = matched("Cox", cox.table, truth["churn"].get("coefficients", {}))
    if aft is not None and len(aft.coefficients):
        rows += matched("Weibull AFT", aft.coefficients, truth["churn"].get("aft_coefficients", {}))
        shape = truth["churn"].get("baseline", {}).get("shape")
        if shape is not None and np.isfinite(aft.weibull_shape):
            lo, hi = weibull_shape_interval(aft)
            rows.append({"model": "Weibull AFT", "covariate": "shape k", "true": float(shape),
                         "estimate": aft.weibull_shape, "lower": lo, "upper": hi})
    if not rows:
        return None
    out = pd.DataFrame(rows)
    out["covered"] = (out["lower"] <= out["true"]) & (out["true"] <= out["upper"])
    return out
