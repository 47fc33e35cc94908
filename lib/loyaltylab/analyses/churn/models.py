"""The survival models of one analysis, fitted in order: coefficients that do not exist are removed, the Cox model
is fitted with R's statistics, its proportional hazards are tested, and — when a categorical variable violates them
and its strata keep enough customers — the stratified model that scores is fitted. The backtest runs the same steps
on the data as they were at its cutoff, so it measures the model that scores the action list."""
from __future__ import annotations

from dataclasses import dataclass

from loyaltylab.analyses.churn import sampling
from loyaltylab.analyses.churn.cox import CoxResult, drop_infinite, fit_cox, with_missing
from loyaltylab.analyses.churn.data import SurvivalData
from loyaltylab.analyses.churn.ph import PHTest, ph_remedy, ph_test
from loyaltylab.errors import DataError


@dataclass(frozen=True)
class Models:
    data: SurvivalData                 # the customers the models use (levels without churners left out)
    cox: CoxResult
    ph: PHTest
    remedy: CoxResult | None
    infinite: tuple[str, ...] = ()     # coefficients that do not exist
    notes: tuple[str, ...] = ()        # why, in words

    @property
    def scoring(self) -> CoxResult:
        """The model behind the early warning, at_risk.csv, the validation and CLV."""
        return self.remedy if self.remedy is not None else self.cox


def fit_models(sd: SurvivalData, *, penalizer: float = 0.0, confidence: float = 0.95,
               r_stats: bool = True, concordance: bool = True) -> Models:
    """Cox (with R's statistics when ``r_stats``), its PH test and the stratified remedy, on ``sd`` without the
    coefficients that do not exist (:func:`~loyaltylab.analyses.churn.cox.drop_infinite`). ``concordance=False``
    skips the models' C-index on the fitting data (the backtest scores with them and never reads it; at 200,000
    customers that saves about 40% of a backtest). The stratified model is fitted on a fixed-seed sample of
    ``sampling.REMEDY_SAMPLE`` customers when there are more (said in the notes)."""
    model_sd, infinite, notes = drop_infinite(sd)
    if not model_sd.design.columns:
        raise DataError(sd.source, "covariates", "no covariate has a finite Cox coefficient here (" +
                        " ".join(notes) + ")")
    if model_sd.events < 2 or model_sd.n - model_sd.events < 1:
        raise DataError(sd.source, None, "too few customers left for the models once the levels without churners "
                        "are left out")
    cox = fit_cox(model_sd, penalizer=penalizer, confidence=confidence, r_stats=r_stats, concordance=concordance)
    cox = with_missing(cox, infinite, sd)
    ph = ph_test(cox, model_sd, confidence=confidence)
    remedy_sd = sampling.sample(model_sd, sampling.REMEDY_SAMPLE) if ph.strata else model_sd
    remedy = ph_remedy(remedy_sd, ph, penalizer=penalizer, confidence=confidence, r_stats=r_stats,
                       concordance=concordance)
    if remedy_sd is not model_sd:
        notes = (*notes, sampling.remedy_note(remedy_sd.n, model_sd.n))
    return Models(model_sd, cox, ph, remedy, infinite, notes)
