"""The parametric alternative: accelerated failure time models (Weibull, log-normal, log-logistic) compared by AIC."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import params
from loyaltylab.analyses.churn.cox import CoxResult
from loyaltylab.analyses.churn.data import SurvivalData
from loyaltylab.analyses.churn.km import alpha_of

AFT_MODELS = ("weibull", "lognormal", "loglogistic")


@dataclass(frozen=True)
class AFTComparison:
    table: pd.DataFrame            # model, log_likelihood, n_params, aic, note, delta_aic, best
    best: str
    fitters: dict[str, object]
    coefficients: pd.DataFrame     # Weibull AFT: covariate, coef, se, coef_lower, coef_upper, p_value, implied_ph_coef
    weibull_shape: float
    weibull_scale: float           # exp(intercept): the baseline scale in time units
    cox_aic_partial: float | None
    confidence: float = 0.95


def interval_columns(summary: pd.DataFrame, quantity: str = "coef") -> tuple[str, str]:
    """lifelines' interval columns of a summary (``coef lower 90%``, ``coef upper 90%``), found by their prefix,
    so they are read at the level the model was fitted with (never a hard-coded 95%)."""
    lower = [c for c in summary.columns if str(c).startswith(f"{quantity} lower ")]
    upper = [c for c in summary.columns if str(c).startswith(f"{quantity} upper ")]
    if len(lower) != 1 or len(upper) != 1:
        raise KeyError(f"no unique '{quantity} lower/upper' interval columns in {list(summary.columns)}")
    return lower[0], upper[0]


def fit_aft(sd: SurvivalData, *, cox: CoxResult | None = None, models: Sequence[str] = AFT_MODELS,
            penalizer: float = 0.0, rows=None, confidence: float = 0.95) -> AFTComparison:
    """Weibull, log-normal and log-logistic AFT models on the same covariates, compared by AIC, with ``confidence``
    intervals.

    The Weibull AFT is also a PH model: its coefficients α relate to the Cox β by β = −α·shape, shown as
    ``implied_ph_coef``. The Cox AIC is on the partial likelihood and is not comparable to the full-likelihood AICs;
    it is reported for completeness only."""
    from lifelines import LogLogisticAFTFitter, LogNormalAFTFitter, WeibullAFTFitter

    classes = {"weibull": WeibullAFTFitter, "lognormal": LogNormalAFTFitter, "loglogistic": LogLogisticAFTFitter}
    models = tuple(params.choice(*classes)(m, "models") for m in models)
    frame = sd.frame if rows is None else sd.frame.loc[rows]
    data = frame[["duration", "event", *sd.design.columns]]
    fitters, rows_out = {}, []
    for name in models:
        fitter = classes[name](penalizer=penalizer, alpha=alpha_of(confidence))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitter.fit(data, duration_col="duration", event_col="event")
        except Exception as exc:  # a failing alternative should not stop the report
            rows_out.append({"model": name, "log_likelihood": np.nan, "n_params": np.nan, "aic": np.nan,
                             "note": f"did not converge: {type(exc).__name__}"})
            continue
        fitters[name] = fitter
        rows_out.append({"model": name, "log_likelihood": float(fitter.log_likelihood_),
                         "n_params": int(len(fitter.params_)), "aic": float(fitter.AIC_), "note": ""})
    table = pd.DataFrame(rows_out)
    best = str(table.loc[table["aic"].idxmin(), "model"]) if table["aic"].notna().any() else "weibull"
    table["delta_aic"] = table["aic"] - table["aic"].min()
    table["best"] = table["model"] == best
    coefs, shape, scale = pd.DataFrame(), np.nan, np.nan
    if "weibull" in fitters:
        w = fitters["weibull"]
        s = w.summary.loc["lambda_"]
        low, high = interval_columns(s)
        shape = float(np.exp(w.params_.loc[("rho_", "Intercept")]))
        scale = float(np.exp(w.params_.loc[("lambda_", "Intercept")]))
        s = s.drop(index="Intercept")
        coefs = pd.DataFrame({
            "covariate": s.index.astype(str), "coef": s["coef"].to_numpy(), "se": s["se(coef)"].to_numpy(),
            "coef_lower": s[low].to_numpy(), "coef_upper": s[high].to_numpy(), "p_value": s["p"].to_numpy(),
        })
        coefs = coefs.set_index("covariate").loc[list(sd.design.columns)].reset_index()
        coefs["implied_ph_coef"] = -coefs["coef"] * shape
    return AFTComparison(table, best, fitters, coefs, shape, scale,
                         cox.aic_partial if cox is not None else None, float(confidence))


def weibull_shape_interval(aft: AFTComparison) -> tuple[float, float]:
    """The Weibull shape k's interval at the fit's confidence (exp of lifelines' interval of log k)."""
    w = aft.fitters["weibull"]
    lo, hi = np.exp(w.confidence_intervals_.loc[("rho_", "Intercept")].to_numpy())
    return float(lo), float(hi)


def aft_vs_cox(aft: AFTComparison, cox: CoxResult) -> pd.DataFrame:
    """Weibull AFT coefficients (time ratios) and the PH coefficients they imply, next to the Cox estimates."""
    a = aft.coefficients
    if not len(a):
        return pd.DataFrame()
    c = cox.table.set_index("covariate")["coef"]
    return pd.DataFrame({
        "covariate": a["covariate"],
        "aft_coef": a["coef"],
        "time_ratio": np.exp(a["coef"]),
        "implied_ph_coef": a["implied_ph_coef"],
        "cox_coef": a["covariate"].map(c),
    })
