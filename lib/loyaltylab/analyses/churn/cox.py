"""Cox proportional hazards: the fit, the Schoenfeld check and its remedy, and predictions from the model
(baseline cumulative hazard per stratum, conditional churn probability, risk scores)."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from loyaltylab import params
from loyaltylab.analyses.churn.data import SurvivalData
from loyaltylab.analyses.churn.km import alpha_of, step_at
from loyaltylab.errors import DataError

PH_TEST_MAX_ROWS = 25_000      # Schoenfeld residuals grow ~quadratically in lifelines: a fixed-seed subsample above this
TABLE_COLUMNS = ["covariate", "coef", "se", "hazard_ratio", "hr_lower", "hr_upper", "p_value"]


@dataclass(frozen=True)
class CoxResult:
    fitter: object                 # lifelines CoxPHFitter
    table: pd.DataFrame            # covariate, term, coef, se, coef_lower, coef_upper, hazard_ratio, hr_lower, hr_upper, p_value, significant
    concordance: float | None      # on the fitting data (see validation.validate() for held-out)
    aic_partial: float
    log_likelihood: float
    n: int
    events: int
    penalizer: float
    strata: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    strata_follow_up: dict = field(default_factory=dict)   # stratum label → longest duration in that stratum
    confidence: float = 0.95

    @property
    def label(self) -> str:
        return f"Cox stratified by {', '.join(self.strata)}" if self.strata else "Cox"


def _fit_lifelines(data, strata, penalizer, alpha, source):
    """(fitter, penalizer used, notes): an unpenalised fit that does not converge is refitted with a small ridge."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    notes = []
    pen = penalizer
    for attempt in range(2):
        cph = CoxPHFitter(penalizer=pen, alpha=alpha)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cph.fit(data, duration_col="duration", event_col="event",
                        strata=[f"__stratum_{s}" for s in strata] or None)
            return cph, pen, notes
        except ConvergenceError as exc:
            if attempt == 1:
                raise DataError(source, None, f"the Cox model did not converge ({str(exc).splitlines()[0]}); "
                                "try fewer covariates or penalizer=0.1") from None
            pen = max(pen, 0.01)
            notes.append(f"The unpenalised Cox fit did not converge; refitted with penalizer={pen}.")
    raise AssertionError("unreachable")


def fit_cox(
    sd: SurvivalData,
    *,
    penalizer: float = 0.0,
    strata: Sequence[str] = (),
    rows=None,
    concordance: bool = True,
    confidence: float = 0.95,
) -> CoxResult:
    """Cox PH (Efron ties; lifelines picks its batch algorithm for tied integer durations), with ``confidence``
    intervals; a covariate is significant when p < 1 − ``confidence``.

    ``strata``: categorical variables to stratify by (their dummies leave the model; each stratum gets its own
    baseline). ``rows``: a boolean mask / index to fit on a subset (train split, subsample)."""
    from scipy import stats

    alpha = alpha_of(confidence)
    strata = tuple(strata)
    frame = sd.frame if rows is None else sd.frame.loc[rows]
    cols = [c for c in sd.design.columns if not set(sd.design.term_of(c).split(":")) & set(strata)]
    data = frame[["duration", "event", *cols]]
    if strata:
        data = data.assign(**{f"__stratum_{s}": sd.base.loc[data.index, s].astype(str) for s in strata})
    if data["event"].sum() == 0:
        raise DataError(sd.source, None, "no churn events among the customers analysed: a survival model needs some")
    cph, pen, notes = _fit_lifelines(data, strata, params.non_negative(penalizer, "penalizer"), alpha, sd.source)
    s = cph.summary
    z = float(stats.norm.ppf(1 - alpha / 2))
    table = pd.DataFrame({
        "covariate": s.index.astype(str),
        "term": [sd.design.term_of(c) for c in s.index],
        "coef": s["coef"].to_numpy(),
        "se": s["se(coef)"].to_numpy(),
    })
    table["coef_lower"] = table["coef"] - z * table["se"]
    table["coef_upper"] = table["coef"] + z * table["se"]
    table["hazard_ratio"] = np.exp(table["coef"])
    table["hr_lower"] = np.exp(table["coef_lower"])
    table["hr_upper"] = np.exp(table["coef_upper"])
    table["p_value"] = s["p"].to_numpy()
    table["significant"] = table["p_value"] < alpha
    follow_up = {}
    if strata:
        labels = _stratum_labels(strata, sd, data.index)
        follow_up = data["duration"].groupby(labels.to_numpy(), sort=False).max().to_dict()
    result = CoxResult(
        fitter=cph, table=table, concordance=None, aic_partial=float(cph.AIC_partial_),
        log_likelihood=float(cph.log_likelihood_), n=int(len(data)), events=int(data["event"].sum()), penalizer=pen,
        strata=strata, notes=tuple(notes), strata_follow_up=follow_up, confidence=float(confidence),
    )
    if concordance:
        from lifelines.utils import concordance_index

        # for a stratified model the partial hazard alone ignores the strata: rank by the cumulative hazard at the
        # median duration instead (the same order as the partial hazard when there are no strata)
        c = (float(cph.concordance_index_) if not strata else
             float(concordance_index(data["duration"], -risk_score(result, sd, data.index,
                                                                    float(data["duration"].median())),
                                     data["event"])))
        result = replace(result, concordance=c)
    return result


def coefficient_table(cox: CoxResult) -> pd.DataFrame:
    """The columns a report shows: covariate, coef, se, hazard ratio with its interval, p-value."""
    return cox.table[TABLE_COLUMNS]


def _stratum_labels(strata: Sequence[str], sd: SurvivalData, index) -> pd.Series:
    """The baseline column lifelines uses for each row: the stratum value, or a tuple of values for several strata."""
    vals = sd.base.loc[index, list(strata)].astype(str)
    if len(strata) == 1:
        return vals.iloc[:, 0].astype(object)
    return pd.Series(list(vals.itertuples(index=False, name=None)), index=index, dtype=object)


# --------------------------------------------------------------------------------------------------------------------
# Predictions: conditional survival under the Cox model
# --------------------------------------------------------------------------------------------------------------------
def baseline_cumhaz(cox: CoxResult) -> tuple[np.ndarray, np.ndarray]:
    """Breslow baseline cumulative hazard H0(t) (for lifelines' centred covariates) as (times, values)."""
    b = cox.fitter.baseline_cumulative_hazard_
    return b.index.to_numpy(dtype=float), b.iloc[:, 0].to_numpy(dtype=float)


def cumhaz_at(times: np.ndarray, values: np.ndarray, t, *, tail_window: float | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """H0 at ``t`` (a right-continuous step function). Beyond the last observed time the hazard is extended at the
    average rate of the last ``tail_window`` (default: the last 10% of follow-up) — a constant-hazard tail instead
    of lifelines' flat one, which would say nobody churns after the longest tenure seen. Returns (H0, extrapolated)."""
    t = np.asarray(t, dtype=float)
    h = step_at(times, values, t, before=0.0)
    tau = float(times[-1])
    window = float(tail_window) if tail_window else 0.1 * tau
    window = min(max(window, 1e-9), tau)
    start = step_at(times, values, np.array([tau - window]), before=0.0)[0]
    rate = max((float(values[-1]) - start) / window, 0.0)
    beyond = t > tau
    h = np.where(beyond, float(values[-1]) + rate * (t - tau), h)
    return h, beyond


def cumhaz_for(cox: CoxResult, sd: SurvivalData, index, t, *, tail_window: float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Baseline cumulative hazard H0(t_i) for each row in ``index`` (its own stratum's baseline for a stratified
    model; a row whose stratum the model has not seen gets NaN). ``t``: one time per row, or a (rows × k) array.
    Returns (H0, extrapolated) with the shape of ``t``."""
    t = np.asarray(t, dtype=float)
    if not cox.strata:
        times, values = baseline_cumhaz(cox)
        return cumhaz_at(times, values, t, tail_window=tail_window)
    b = cox.fitter.baseline_cumulative_hazard_
    codes, uniques = pd.factorize(_stratum_labels(cox.strata, sd, index))
    h = np.full(t.shape, np.nan)
    beyond = np.zeros(t.shape, dtype=bool)
    for k, label in enumerate(uniques):
        rows = np.flatnonzero(codes == k)
        if label not in b.columns or label not in cox.strata_follow_up:
            continue
        col = b[label].dropna()
        col = col[col.index.to_numpy(dtype=float) <= float(cox.strata_follow_up[label])]
        if not len(col):
            continue
        hh, bb = cumhaz_at(col.index.to_numpy(dtype=float), col.to_numpy(dtype=float), t[rows],
                           tail_window=tail_window)
        h[rows], beyond[rows] = hh, bb
    return h, beyond


def partial_hazard(cox: CoxResult, X: pd.DataFrame) -> np.ndarray:
    """exp((x − x̄)'β) as lifelines uses it with its baseline (x̄ = the fitting data's means)."""
    cph = cox.fitter
    cols = list(cph.params_.index)
    lp = (X[cols].to_numpy(dtype=float) - cph._norm_mean[cols].to_numpy(dtype=float)) @ cph.params_[cols].to_numpy()
    return np.exp(lp)


def risk_score(cox: CoxResult, sd: SurvivalData, index, t: float) -> np.ndarray:
    """H0_stratum(t)·exp(x'β): a ranking score that respects the strata (= the partial hazard without strata)."""
    X = sd.frame.loc[index]
    if not cox.strata:
        return partial_hazard(cox, X)
    h, _ = cumhaz_for(cox, sd, index, np.full(len(X), float(t)))
    return h * partial_hazard(cox, X)


def conditional_churn_probability(cumhaz_now: np.ndarray, cumhaz_later: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """P(churn in (t, t+h] | survived to t) = 1 − S(t+h|x)/S(t|x) = 1 − exp(−(H0(t+h) − H0(t))·exp(x'β))."""
    return -np.expm1(-(np.asarray(cumhaz_later) - np.asarray(cumhaz_now)) * np.asarray(partial))


def predict_survival(cox: CoxResult, X: pd.DataFrame, t: float, sd: SurvivalData | None = None) -> np.ndarray:
    """S(t | x) under the Cox model (a stratified model needs ``sd`` for each row's stratum)."""
    if cox.strata:
        if sd is None:
            raise ValueError("a stratified model needs sd to look up each row's stratum")
        h0, _ = cumhaz_for(cox, sd, X.index, np.full(len(X), float(t)))
        return np.exp(-h0 * partial_hazard(cox, X))
    times, values = baseline_cumhaz(cox)
    h0, _ = cumhaz_at(times, values, np.array([t]))
    return np.exp(-h0[0] * partial_hazard(cox, X))


# --------------------------------------------------------------------------------------------------------------------
# Proportional hazards: the Schoenfeld test and the stratified remedy
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PHTest:
    """Schoenfeld-residual test of proportional hazards (Grambsch & Therneau), per covariate and global."""

    table: pd.DataFrame            # covariate, term, statistic, p_value, violated
    global_statistic: float
    global_df: int
    global_p: float
    violations: tuple[str, ...]
    advice: pd.DataFrame           # term, kind, p_value, action
    time_transform: str
    n_used: int = 0                # customers in the test (a fixed-seed subsample above max_rows)
    n_total: int = 0
    confidence: float = 0.95

    @property
    def sampled(self) -> bool:
        return self.n_used < self.n_total


def _ph_advice(table: pd.DataFrame, sd: SurvivalData) -> pd.DataFrame:
    rows = []
    for term, sub in table[table["violated"]].groupby("term", sort=False):
        parts = term.split(":")
        if len(parts) == 1 and term in sd.design.categorical:
            kind, action = "categorical", (f"stratify by {term}: each {term} level gets its own baseline hazard "
                                           "(applied below as a sensitivity check)")
        elif len(parts) == 1:
            kind, action = "numeric", (f"let the effect of {term} change over time: add {term}×log(time) "
                                       "(episode-split data, CoxTimeVaryingFitter) or bin it and stratify")
        else:
            kind, action = "interaction", "check the interaction's effect by period (fit the model on early and late tenure)"
        rows.append({"term": term, "kind": kind, "p_value": float(sub["p_value"].min()), "action": action})
    return pd.DataFrame(rows, columns=["term", "kind", "p_value", "action"])


def ph_test(cox: CoxResult, sd: SurvivalData, *, confidence: float = 0.95, time_transform: str = "km",
            max_rows: int = PH_TEST_MAX_ROWS, seed: int = 0) -> PHTest:
    """Per-covariate tests as lifelines' ``proportional_hazard_test`` (R's classic cox.zph approximation) and the
    matching global test  T = z' V⁻¹ z / (d Σ(g−ḡ)²),  z = Σ_k (g_k − ḡ) s_k  over events k, where s_k are the
    scaled Schoenfeld residuals, V the coefficient covariance and g the transformed event times. A covariate
    violates proportional hazards when p < 1 − ``confidence``.

    Above ``max_rows`` customers (default 25,000) the test runs on a fixed-seed subsample refit: lifelines' scaled
    Schoenfeld residuals cost time growing about quadratically with n, and 25,000 customers already detect
    departures from proportional hazards that matter in practice. The report states the sample size."""
    from lifelines.statistics import TimeTransformers, proportional_hazard_test
    from scipy import stats

    if cox.strata:
        raise ValueError("ph_test expects an unstratified model")
    if cox.n > max_rows:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(sd.n, size=max_rows, replace=False))
        cox = fit_cox(sd, penalizer=cox.penalizer, rows=sd.frame.index[keep], concordance=False,
                      confidence=cox.confidence)
        data = sd.frame.iloc[keep]
    else:
        data = sd.frame
    cph = cox.fitter
    cols = list(cph.params_.index)
    df = data[["duration", "event", *cols]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaled = cph.compute_residuals(df, kind="scaled_schoenfeld")
        per = proportional_hazard_test(cph, df, time_transform=time_transform, precomputed_residuals=scaled)
    events, durations, weights = cph.event_observed, cph.durations, cph.weights
    g = np.asarray(TimeTransformers().get(time_transform)(durations, events, weights)[events.values], dtype=float)
    gc = g - g.mean()
    d = float(events.sum())
    zvec = (gc[:, None] * scaled.to_numpy()).sum(axis=0)
    V = cph.variance_matrix_.loc[cols, cols].to_numpy()
    global_stat = float(zvec @ np.linalg.solve(V, zvec) / (d * float((gc ** 2).sum())))
    global_df = len(cols)
    global_p = float(stats.chi2.sf(global_stat, global_df))
    table = pd.DataFrame({
        "covariate": cols,
        "term": [sd.design.term_of(c) for c in cols],
        "statistic": np.asarray(per.test_statistic, dtype=float),
        "p_value": np.asarray(per.p_value, dtype=float),
    })
    table["violated"] = table["p_value"] < alpha_of(confidence)
    violations = tuple(table.loc[table["violated"], "covariate"])
    return PHTest(table, global_stat, global_df, global_p, violations, _ph_advice(table, sd), time_transform,
                  n_used=int(len(data)), n_total=int(sd.n), confidence=float(confidence))


def ph_remedy(sd: SurvivalData, ph: PHTest, *, penalizer: float = 0.0, confidence: float = 0.95
              ) -> CoxResult | None:
    """Stratify by the categorical variables that violate PH (the standard remedy); None when there are none."""
    strata = [t for t in ph.advice["term"] if t in sd.design.categorical] if len(ph.advice) else []
    if not strata:
        return None
    return fit_cox(sd, penalizer=penalizer, strata=strata, concordance=True, confidence=confidence)
