"""Estimated vs true (course data): the generator's coefficients against the Cox and Weibull AFT intervals.

When the course world has a hazard factor the data do not show (latent loyalty), a Cox model on the observed
covariates does not estimate the generating β: it converges to the *pseudo-true* coefficients, which truth.json gives
as ``churn.pseudo_true_coefficients`` (same names as ``churn.coefficients``; from a large fixed-seed simulation).
Coverage is checked against those when present, else against ``churn.coefficients`` (:func:`cox_targets`). The
Weibull AFT likewise uses ``churn.pseudo_true_aft_coefficients`` when the file has it.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from loyaltylab.analyses.churn.aft import AFTComparison, weibull_shape_interval
from loyaltylab.analyses.churn.cox import CoxResult


def cox_targets(truth: Mapping | None) -> tuple[dict, str]:
    """(the values a Cox fit on the course covariates estimates, which key they came from)."""
    churn = (truth or {}).get("churn", {})
    if churn.get("pseudo_true_coefficients"):
        return dict(churn["pseudo_true_coefficients"]), "pseudo_true_coefficients"
    return dict(churn.get("coefficients", {})), "coefficients"


def aft_targets(truth: Mapping | None) -> tuple[dict, str]:
    """The same for the Weibull AFT coefficients."""
    churn = (truth or {}).get("churn", {})
    if churn.get("pseudo_true_aft_coefficients"):
        return dict(churn["pseudo_true_aft_coefficients"]), "pseudo_true_aft_coefficients"
    return dict(churn.get("aft_coefficients", {})), "aft_coefficients"


def compare_with_truth(cox: CoxResult, truth: Mapping | None, aft: AFTComparison | None = None) -> pd.DataFrame | None:
    """Cox β (and Weibull AFT α, and the Weibull shape) with their intervals (at the models' confidence) next to the
    values they estimate (:func:`cox_targets`); ``covered`` says whether the interval holds the target. The frame's
    ``attrs["against"]`` names the truth.json key the Cox rows were compared with."""
    if not truth or "churn" not in truth:
        return None

    def matched(model: str, table: pd.DataFrame, true: Mapping) -> list[dict]:
        return [{"model": model, "covariate": r.covariate, "true": float(true[r.covariate]), "estimate": float(r.coef),
                 "lower": float(r.coef_lower), "upper": float(r.coef_upper)}
                for r in table.itertuples() if r.covariate in true and np.isfinite(r.coef)]

    targets, against = cox_targets(truth)
    rows = matched("Cox", cox.table, targets)
    if aft is not None and len(aft.coefficients):
        rows += matched("Weibull AFT", aft.coefficients, aft_targets(truth)[0])
        shape = truth["churn"].get("baseline", {}).get("shape")
        if shape is not None and np.isfinite(aft.weibull_shape):
            lo, hi = weibull_shape_interval(aft)
            rows.append({"model": "Weibull AFT", "covariate": "shape k", "true": float(shape),
                         "estimate": aft.weibull_shape, "lower": lo, "upper": hi})
    if not rows:
        return None
    out = pd.DataFrame(rows)
    out["covered"] = (out["lower"] <= out["true"]) & (out["true"] <= out["upper"])
    out.attrs["against"] = against
    return out
