"""Survival-based churn (生存分析): parameters, the whole pipeline once, and its result.

Churn is a time-to-event question. Most customers have not churned *yet* — their lifetimes are censored at the
snapshot — so a churn rate or a yes/no classifier is biased. Everything here is survival analysis: Kaplan–Meier,
restricted mean survival and log-rank (km.py), Cox with R's statistics (cox.py), R ≥ 3.0's proportional-hazards
test and its remedy (ph.py), both fitted in order by models.py, predictions on supported baselines (baseline.py),
AFT models (aft.py), held-out validation (validation.py), the early warning with its backtest (warning.py), the
last NPS answer as a churn predictor and the survey signal in the backtest when a survey is given (survey_signal.py)
and, on the course data, the truth (truth.py). Customer lifetime value and the sBG cohort model are the ``clv``
analysis, which reuses this result.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from loyaltylab import i18n, loaders, parallel, params, privacy, results
from loyaltylab.analyses.base import AnalysisResult, standard_table
from loyaltylab.analyses.churn import describe, sampling
from loyaltylab.analyses.churn.aft import AFTComparison, fit_aft
from loyaltylab.analyses.churn.baseline import SUPPORT_AT_RISK, TAIL_EVENTS
from loyaltylab.analyses.churn.cox import CoxResult, drop_infinite
from loyaltylab.analyses.churn.data import TIME_UNITS, SurvivalData, parse_terms, policy_table, prepare
from loyaltylab.analyses.churn.km import (
    CI_TYPE,
    KMGroups,
    KMResult,
    LogrankResult,
    default_times,
    kaplan_meier,
    km_by_group,
    rmst_table,
)
from loyaltylab.analyses.churn.km import logrank as logrank_test
from loyaltylab.analyses.churn.models import fit_models
from loyaltylab.analyses.churn.ph import PHTest
from loyaltylab.analyses.churn.survey_signal import AUTO, NPSPredictor, load_answers, nps_predictor, observation_ends
from loyaltylab.analyses.churn.survey_signal import survey_file as find_survey
from loyaltylab.analyses.churn.truth import compare_with_truth
from loyaltylab.analyses.churn.validation import Validation, metrics_table, validate
from loyaltylab.analyses.churn.warning import Backtest, EarlyWarning, backtest, early_warning
from loyaltylab.errors import DataError, ParameterError

NOTEBOOK = "04_churn_survival.ipynb"
NOTEBOOK_ONLY = ("language", "interactive", "output_dir")
EMPTY_CLV = {"unit": "months", "mean_remaining_lifetime": None, "mean_clv": None, "model": None,
             "ltv_cac_by_segment": []}
HEADLINE_ORDER = ["Customers", "Churned", "Median lifetime", "Expected churners", "C-index (test)", "Backtest AUC"]


def _survey_path(value, name: str) -> str | None:
    """A survey file, ``"auto"`` (the survey beside the customers file, when there is one) or None (no survey)."""
    return value if value == AUTO else params.path(value, name)


_survey_path.bad = params.path.bad


@dataclass(frozen=True)
class Params(params.Params):
    """Every churn parameter of notebooks/04_churn_survival.ipynb (the CLV ones are ``clv.Params``)."""

    customers_path: str | None = params.field(None, params.path)
    id_col: str | None = params.field("customer_id", params.optional_column)
    duration_col: str | None = params.field("tenure_days", params.optional_column)
    event_col: str | None = params.field("churned", params.optional_column)
    event_value: object = params.field(None, params.any_value)
    covariates: tuple[str, ...] | None = params.field(None, params.optional_columns)
    categorical: tuple[str, ...] = params.field(None, params.columns)
    segment_col: str | None = params.field("segment", params.optional_column)
    time_unit: str = params.field("days", params.choice(*TIME_UNITS))
    horizon: float = params.field(90, params.positive)
    penalizer: float = params.field(0.0, params.non_negative)
    signup_col: str | None = params.field("signup_date", params.optional_column)
    churn_date_col: str | None = params.field("churn_date", params.optional_column)
    snapshot_date: str | None = params.field(None, params.date)
    filters: dict = params.field(None, params.mapping)
    min_cell: int = params.field(5, params.min_cell)
    confidence: float = params.field(0.95, params.confidence)
    encoding: str | None = params.field(None, params.encoding)
    sheet: str | int | None = params.field(None, params.sheet)
    write_action_list: bool = params.field(False, params.boolean)
    survey_path: str | None = params.field(AUTO, _survey_path)
    survey_id_col: str = params.field("customer_id", params.column)
    survey_score_col: str = params.field("nps", params.column)
    survey_date_col: str | None = params.field("date", params.optional_column)

    def check_together(self) -> None:
        if self.covariates is not None:
            if not self.covariates:
                raise ParameterError("covariates", list(self.covariates), "must name at least one column (None = "
                                     "the course covariates)")
            parse_terms(self.covariates)

    def churn_params(self) -> Params:
        """The churn part of these parameters (itself here; the CLV parameters extend it)."""
        if type(self) is Params:
            return self
        return Params(**{name: getattr(self, name) for name in Params.names()})


def example_parameters(files: dict) -> dict:
    """The parameters that run churn on the contract test's tiny user-shaped customers file."""
    segment = files["segment_col"]
    return {"customers_path": str(files["customers"]), "segment_col": segment,
            "covariates": ("provider_proactive", "customer_proactive", "provider_proactive:customer_proactive",
                           segment, "channel")}


@dataclass(frozen=True)
class Result(AnalysisResult):
    """Everything the churn notebook shows, computed once. ``clv``: the CLV analysis' result when attached with
    :meth:`with_clv` (its value feeds the action list, the findings and results.json's ``clv``/``sbg`` keys)."""

    params: Params
    customers: loaders.Customers
    data: SurvivalData
    km: KMResult
    km_groups: KMGroups | None
    logrank: LogrankResult | None
    cox: CoxResult
    ph: PHTest
    remedy: CoxResult | None
    aft: AFTComparison
    validation: Validation
    warning: EarlyWarning
    backtest: Backtest | None
    truth: pd.DataFrame | None
    clv: object = None
    model_data: SurvivalData | None = None      # the customers the models use (None: all of ``data``)
    rmst: pd.DataFrame | None = None            # restricted mean survival time, all customers and shown groups
    model_notes: tuple[str, ...] = ()           # coefficients that do not exist, in words
    nps: NPSPredictor | None = None             # the last NPS answer as a churn predictor (when a survey is given)
    nps_note: str | None = None                 # why it is not shown, in one sentence

    analysis = "churn"

    @property
    def horizon(self) -> float:
        return float(self.params.horizon)

    @property
    def min_cell(self) -> int:
        return self.params.min_cell

    @property
    def confidence(self) -> float:
        return self.params.confidence

    @property
    def is_course(self) -> bool:
        """Course data: a truth.json lies beside the customers file."""
        return self.customers.truth is not None

    @property
    def scoring(self) -> CoxResult:
        """The Cox model behind the early warning, at_risk.csv, CLV and the validation: the stratified remedy when
        the Schoenfeld check led to one (its hazard ratios are the ones to report), else the plain model."""
        return self.remedy if self.remedy is not None else self.cox

    @property
    def data_for_models(self) -> SurvivalData:
        """The customers behind the models, the early warning and CLV (levels without churners left out)."""
        return self.model_data if self.model_data is not None else self.data

    @property
    def value(self):
        """The CLV analysis' per-customer value (``clv.CustomerValue``) when attached, else None."""
        return getattr(self.clv, "value", None)

    def with_clv(self, clv_result) -> Result:
        """This result with the CLV analysis attached (computed from it with ``clv.analyze(…, churn_result=…)``)."""
        if clv_result is not None and getattr(clv_result, "churn", self) is not self:
            raise ValueError("the CLV result was computed from another churn result")
        return replace(self, clv=clv_result)

    # --- the AnalysisResult interface ----------------------------------------------------------------------------
    def headline(self) -> dict:
        bt = self.backtest
        return {
            "Customers": self.data.n,
            "Churned": self.data.events,
            "Median lifetime": _finite(self.km.median),
            "C-index (test)": self.validation.c_index_test,
            "Backtest AUC": bt.auc if bt else None,
            "Expected churners": self.warning.expected_churners,
        }

    def headline_order(self) -> list[str]:
        return list(HEADLINE_ORDER)

    def key_findings(self) -> list[str]:
        return describe.key_findings(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        return tables(self)

    def to_results(self) -> dict:
        return to_results(self)


# From this many customers the backtests and the AFT comparison run in a forked process beside the Cox models (below
# it, forking costs more than it saves).
BESIDE_FROM = 200_000


def _finite(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def analyze(params: Params) -> Result:
    """Read the customers file (``loaders.load_customers``: encoding, sheet, filters, min_cell) and run everything."""
    params = params.churn_params()
    customers = loaders.load_customers(params.customers_path, filters=params.filters, encoding=params.encoding,
                                       sheet=params.sheet, min_cell=params.min_cell, id_columns=(params.id_col,))
    return analyze_customers(customers, params)


def analyze_customers(customers: loaders.Customers, params: Params) -> Result:
    """Everything the churn notebook shows, computed once, on a customers table already read."""
    params = params.churn_params()
    df, source, p = customers.frame, customers.source, params
    privacy.require_group_size(len(df), p.min_cell, source=source, what="customers", filters=customers.filters)
    truth = customers.truth
    reference = (truth or {}).get("churn", {}).get("reference_levels") if truth else None
    sd = prepare(df, duration_col=p.duration_col, event_col=p.event_col, event_value=p.event_value,
                 signup_col=p.signup_col, churn_date_col=p.churn_date_col, snapshot_date=p.snapshot_date,
                 covariates=p.covariates, categorical=p.categorical, time_unit=p.time_unit, id_col=p.id_col,
                 segment_col=p.segment_col, source=source, reference_levels=reference, min_cell=p.min_cell)
    _check_usable(sd, p)
    conf, horizon = p.confidence, float(p.horizon)
    bt_args = dict(horizon=horizon, time_unit=p.time_unit, signup_col=p.signup_col, churn_date_col=p.churn_date_col,
                   snapshot_date=p.snapshot_date, duration_col=p.duration_col, covariates=p.covariates,
                   categorical=p.categorical, penalizer=p.penalizer, source=source, event_col=p.event_col,
                   event_value=p.event_value, min_cell=p.min_cell, confidence=conf)
    side = parallel.Beside(_beside_the_models, p, customers, sd, bt_args, when=sd.n >= BESIDE_FROM)
    times = default_times(p.time_unit, horizon, float(sd.frame["duration"].max()))
    km = kaplan_meier(sd.frame["duration"], sd.frame["event"], times=times, confidence=conf)
    km_groups = lr = None
    if p.segment_col:
        km_groups = km_by_group(sd, p.segment_col, min_cell=p.min_cell, times=times, confidence=conf)
        lr = logrank_test(sd, p.segment_col, min_cell=p.min_cell, confidence=conf)
    rmst = rmst_table(sd, km_groups, confidence=conf)
    models = fit_models(sd, penalizer=p.penalizer, confidence=conf)
    msd, cox, remedy = models.data, models.cox, models.remedy
    scoring = models.scoring
    val = validate(msd, horizon=horizon, penalizer=p.penalizer, strata=scoring.strata, min_cell=p.min_cell,
                   confidence=conf)
    ew = early_warning(scoring, msd, horizon=horizon, min_cell=p.min_cell)
    bt, nps, nps_note, aft, aft_n = side.result()
    aft = replace(aft, cox_aic_partial=cox.aic_partial)
    sampled = [*([sampling.aft_note(aft_n, msd.n)] if aft_n != msd.n else []), *val.notes,
               *(bt.notes if bt is not None else ()), *(nps.backtest.notes if nps and nps.backtest else ())]
    return Result(p, customers, sd, km, km_groups, lr, cox, models.ph, remedy, aft, val, ew, bt,
                  compare_with_truth(cox, truth, aft), model_data=msd if msd is not sd else None, rmst=rmst,
                  model_notes=tuple(dict.fromkeys([*models.notes, *sampled])), nps=nps, nps_note=nps_note)


def _beside_the_models(p: Params, customers: loaders.Customers, sd: SurvivalData, bt_args: dict):
    """(backtest, NPS predictor, why not, AFT comparison, customers it was fitted on): the steps that need only the
    prepared data — at real sizes computed beside the Cox models (:class:`loyaltylab.parallel.Beside`). The model
    data are the prepared data without the coefficients that do not exist, as :func:`fit_models` makes them; the
    AFT comparison's Cox AIC is filled in by the caller."""
    bt = backtest(customers.frame, **bt_args)
    msd = drop_infinite(sd)[0]
    nps, nps_note = _survey_signal(p, customers, sd, msd, bt_args, bt)
    aft_sd = sampling.sample(msd, sampling.AFT_SAMPLE)
    aft = fit_aft(aft_sd, penalizer=p.penalizer, confidence=bt_args["confidence"])
    return bt, nps, nps_note, aft, aft_sd.n


def _survey_signal(p: Params, customers: loaders.Customers, sd: SurvivalData, msd: SurvivalData, bt_args: dict,
                   bt: Backtest | None) -> tuple[NPSPredictor | None, str | None]:
    """The last NPS answer as a churn predictor and the backtest with the survey signal (survey_signal.py), or why
    not in one sentence. With ``survey_path="auto"`` a survey file that cannot be used is a note, not an error."""
    what = "so NPS as a churn predictor is not shown"
    what_zh = "因此不展示 NPS 对流失的预测"
    file = find_survey(p.survey_path, customers)
    if file is None:
        return None, (i18n.t(f"No survey is used (survey_path is None), {what}.",
                             f"未使用调查数据（survey_path 为 None），{what_zh}。") if p.survey_path is None else
                      i18n.t(f"No survey file lies beside the customers file (set survey_path to use one), {what}.",
                             f"客户文件旁没有调查文件（可用 survey_path 指定），{what_zh}。"))
    if not p.id_col:
        return None, i18n.t(f"The survey's answers are matched to customers by id_col, which is not set, {what}.",
                            f"调查回答要通过 id_col 与客户匹配，但 id_col 没有设置，{what_zh}。")
    if not p.survey_date_col:
        return None, i18n.t(f"Without the survey's answer dates (survey_date_col) no answer can be placed before a "
                            f"customer's churn, {what}.",
                            f"没有调查的回答日期（survey_date_col），就无法判断回答是否在客户流失之前，{what_zh}。")
    try:
        answers = load_answers(file, customers, id_col=p.id_col, survey_id_col=p.survey_id_col,
                               score_col=p.survey_score_col, date_col=p.survey_date_col, encoding=p.encoding,
                               min_cell=p.min_cell)
    except DataError as exc:
        if p.survey_path != AUTO:
            raise
        return None, i18n.t(f"The survey beside the customers file could not be used ({exc}), {what}.",
                            f"客户文件旁的调查文件无法使用（{exc}），{what_zh}。")
    ends = observation_ends(customers.frame, sd, signup_col=p.signup_col, snapshot=p.snapshot_date)
    return nps_predictor(msd, customers.frame, answers, ends=ends, min_cell=p.min_cell, confidence=p.confidence,
                         horizon=float(p.horizon), backtest_args=bt_args, backtest_without=bt,
                         truth=customers.truth)


def _check_usable(sd: SurvivalData, p: Params) -> None:
    """One-line errors for data no survival model can use."""
    column = p.event_col or p.churn_date_col
    if not sd.design.columns:
        raise DataError(sd.source, "covariates", "no usable covariates for the Cox model (give at least one column "
                        "that varies between customers)")
    if sd.n < 10 or sd.events < 2:
        raise DataError(sd.source, p.duration_col or p.churn_date_col,
                        f"too few customers with usable data for survival analysis ({sd.n} rows, {sd.events} churned)")
    if sd.events == sd.n:
        raise DataError(sd.source, column, f"every one of the {sd.n} customers churned: there is no active customer "
                        "to warn about and no censoring; check event_col / event_value (and the churn dates)")


# --------------------------------------------------------------------------------------------------------------------
# results.json and the standard tables
# --------------------------------------------------------------------------------------------------------------------
def _km_by_segment(result: Result) -> list[dict]:
    if result.km_groups is None:
        return []
    return [{"value": r["value"], "n": r["n"], "events": r["events"], "median": r["median"],
             "suppressed": bool(r["suppressed"])} for r in result.km_groups.table.to_dict(orient="records")]


def _stat(chisq, df, p) -> dict:
    return {"chisq": float(chisq), "df": int(df), "p_value": float(p)}


def _ph_content(result: Result) -> dict:
    ph = result.ph
    return {"global_p": ph.global_p, "violations": list(ph.violations),
            "actions": ph.advice.to_dict(orient="records"),
            "stratified_by": list(result.remedy.strata) if result.remedy else [],
            "n_tested": ph.n_used, "n_total": ph.n_total,
            # new: R >= 3.0 cox.zph (exact score test), a factor is one term
            "global": _stat(ph.global_statistic, ph.global_df, ph.global_p),
            "terms": {r.term: _stat(r.chisq, r.df, r.p_value) for r in ph.table.itertuples()},
            "time_transform": ph.time_transform, "method": "R survival >= 3.0 cox.zph (exact score test)",
            "not_stratified": list(ph.not_stratified)}


def _cox_content(result: Result) -> dict:
    cox = result.cox.table.set_index("covariate")
    c = result.cox
    tests = c.tests.set_index("test") if c.tests is not None else None
    return {
        "coefficients": cox["coef"].to_dict(), "se": cox["se"].to_dict(),
        "hazard_ratios": cox["hazard_ratio"].to_dict(), "p_values": cox["p_value"].to_dict(),
        "concordance": c.concordance,
        "ph_test": _ph_content(result),
        "notes": [*result.model_notes, *c.notes],
        "scoring_model": result.scoring.label,
        "scoring_hazard_ratios": result.scoring.table.set_index("covariate")["hazard_ratio"].to_dict(),
        # new keys (issue 10): R's summary.coxph
        "concordance_se": c.concordance_se,
        "model_tests": ({name: {"statistic": float(r.statistic), "df": int(r.df), "p_value": float(r.p_value)}
                         for name, r in tests.iterrows()} if tests is not None else None),
        "term_tests": ({r.term: _stat(r.chisq, r.df, r.p_value) for r in c.term_tests.itertuples()}
                       if c.term_tests is not None else None),
        "infinite": list(c.infinite),
        "estimates_from": c.estimates_from,
    }


def _rmst_content(result: Result) -> dict | None:
    t = result.rmst
    if t is None or not len(t):
        return None
    return {"tau": float(t["tau"].iloc[0]), "unit": result.data.time_unit,
            "groups": [{"value": r.group, "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low,
                        "ci_high": r.ci_high} for r in t.itertuples()]}


def _nps_content(result: Result) -> dict | None:
    """results.json ``nps_predictor``: the last NPS answer as a churn predictor (None when no survey is used)."""
    pred = result.nps
    if pred is None:
        return None
    ratios = {}
    for r in pred.table.itertuples():
        hidden = bool(r.suppressed)
        ratios[r.category] = {"hr": None if hidden else _finite(float(r.hazard_ratio)),
                              "ci_low": None if hidden else _finite(float(r.hr_lower)),
                              "ci_high": None if hidden else _finite(float(r.hr_upper)), "suppressed": hidden}
    return {"n_respondents": pred.n_respondents, "n_churners": pred.n_churners, "hazard_ratios": ratios,
            "auc_without": pred.auc_without, "auc_with": pred.auc_with}


def _content(result: Result) -> dict:
    """The churn keys of results.json (names and meanings kept from the first version: analysts' scripts read them;
    issue 10 only adds keys; issue 13 adds one).

    ``nps_predictor`` (None when no survey is used) = {``n_respondents``: customers of the models with a survey
    answer dated before their churn or the snapshot, ``n_churners``: of which churned, ``hazard_ratios``: {passive,
    promoter: {``hr``, ``ci_low``, ``ci_high`` (at ``confidence``), ``suppressed``}} — the churn hazard of
    customers whose last answer was passive / promoter relative to detractors, from a Cox model on the churn model's
    covariates + that category among respondents (truth.json ``churn.hazard_ratios.nps_category`` on the course
    data), ``auc_without`` / ``auc_with``: the backtest AUC of the early warning without (= early_warning
    .backtest_auc) and with the survey signal (answered, last category) as covariates, same cutoff; None without
    dates}. A category with fewer than min_cell respondents shows no numbers."""
    sd, km, lr, aft, v, ew, bt = (result.data, result.km, result.logrank, result.aft, result.validation,
                                  result.warning, result.backtest)
    truth = None
    if result.truth is not None:
        cx = result.truth[result.truth["model"] == "Cox"]
        truth = {"cox_covered": int(cx["covered"].sum()), "cox_total": int(len(cx)),
                 "rows": result.truth.to_dict(orient="records"), "against": result.truth.attrs.get("against")}
    value = result.clv.results_content() if result.clv is not None else {"clv": dict(EMPTY_CLV), "sbg": None}
    return {
        "n": sd.n, "events": sd.events, "dropped_rows": sd.dropped_rows, "dropped": dict(sd.dropped),
        "n_input": sd.n_input, "time_unit": sd.time_unit, "duration_from": sd.duration_from,
        "design_notes": list(sd.design.notes), "reference_levels": sd.design.reference_levels,
        "km": {"median": _finite(km.median), "median_ci": [_finite(km.median_lower), _finite(km.median_upper)],
               "survival_at": {f"{t:g}": s for t, s in zip(km.survival_at["time"], km.survival_at["survival"])},
               "ci_type": CI_TYPE},
        "km_by_segment": _km_by_segment(result),
        "rmst": _rmst_content(result),
        "logrank": {"statistic": lr.statistic if lr else None, "df": lr.df if lr else None,
                    "p_value": lr.p_value if lr else None,
                    "pairwise": lr.pairwise.to_dict(orient="records") if lr else [],
                    "groups": list(lr.groups) if lr else [], "groups_left_out": lr.left_out if lr else 0},
        "cox": _cox_content(result),
        "aft": {"model": aft.best, "aic": float(aft.table.loc[aft.table["best"], "aic"].iloc[0]),
                "cox_aic": aft.cox_aic_partial, "aic_by_model": dict(zip(aft.table["model"], aft.table["aic"])),
                "weibull_shape": aft.weibull_shape},
        "validation": {"c_index_test": v.c_index_test, "c_index_train": v.c_index_train,
                       "brier_at_horizon": v.brier_at_horizon, "brier_null": v.brier_null, "n_test": v.n_test,
                       "model": v.model, "calibration_by_tenure": v.by_tenure.to_dict(orient="records")},
        "early_warning": {
            "horizon": result.horizon, "n_active": ew.n_active, "expected_churners": ew.expected_churners,
            "model": ew.model, "backtest_auc": bt.auc if bt else None,
            "top_decile_lift": bt.top_decile_lift if bt else None, "backtest_cutoff": bt.cutoff if bt else None,
            "backtest_churned": bt.n_churned if bt else None, "backtest_expected": bt.expected_churners if bt else None,
            "support_at_risk": SUPPORT_AT_RISK, "tail_events": TAIL_EVENTS,
            "action_list_written": bool(result.params.write_action_list),
        },
        **value,
        "truth": truth,
        "nps_predictor": _nps_content(result),
    }


def to_results(result: Result) -> dict:
    """The results.json document: the churn keys (+ ``clv``/``sbg`` from the attached CLV analysis), the document
    keys, the headline and the standard tables. Numbers only, no customer ids."""
    used = result.params.as_dict()
    inputs = {"customers": result.customers.path}
    if result.nps is not None:
        inputs["survey"] = result.nps.survey
    if result.clv is not None:
        used.update(result.clv.params.as_dict())
        inputs.update({k: v for k, v in result.clv.inputs().items() if k != "customers"})
    notes = list(dict.fromkeys([*result.data.design.notes, *result.data_for_models.design.notes,
                                *result.model_notes, *result.cox.notes,
                                *([result.nps_note] if result.nps_note else []),
                                *(result.nps.notes if result.nps is not None else ())]))
    return results.document("churn", params=used, inputs=inputs, headline=result.headline(),
                            headline_order=result.headline_order(), tables=result.tables(), notes=notes,
                            **_content(result))


def tables(result: Result) -> dict[str, pd.DataFrame]:
    """The result's tables in the standard columns (estimate, ci_low, ci_high, p_value, p_adjusted, significant, n,
    suppressed); hidden groups carry no counts."""
    interval = {"median": "estimate", "median_lower": "ci_low", "median_upper": "ci_high"}
    hazard = {"hazard_ratio": "estimate", "hr_lower": "ci_low", "hr_upper": "ci_high"}
    observed = {"observed": "estimate", "observed_lower": "ci_low", "observed_upper": "ci_high"}
    out: dict[str, pd.DataFrame] = {"policy": policy_table(result.data)}
    if result.km_groups is not None:
        out["km_by_segment"] = standard_table(result.km_groups.table, interval)
    if result.logrank is not None and len(result.logrank.pairwise):
        out["logrank_pairwise"] = standard_table(result.logrank.pairwise, {"p_holm": "p_adjusted"})
    out["cox"] = standard_table(result.cox.table, hazard)
    if result.cox.tests is not None:
        out["cox_tests"] = standard_table(result.cox.tests, {"statistic": "estimate"})
    if result.cox.term_tests is not None and len(result.cox.term_tests):
        out["cox_terms"] = standard_table(result.cox.term_tests, {"chisq": "estimate"})
    if result.remedy is not None:
        out["cox_stratified"] = standard_table(result.remedy.table, hazard)
    out["ph_test"] = standard_table(result.ph.table, {"violated": "significant", "chisq": "estimate"})
    if result.rmst is not None and len(result.rmst):
        out["rmst"] = standard_table(result.rmst)
    out["aft_models"] = result.aft.table
    if len(result.aft.coefficients):
        out["weibull_aft"] = standard_table(result.aft.coefficients, {"coef": "estimate", "coef_lower": "ci_low",
                                                                      "coef_upper": "ci_high"})
    with i18n.language("en"):               # results.json names its measures in English whatever the report's language
        out["validation"] = metrics_table(result.validation, result.backtest, time_unit=result.data.time_unit)
    out["calibration"] = standard_table(result.validation.calibration, observed)
    if len(result.validation.by_tenure):
        out["calibration_by_tenure"] = standard_table(result.validation.by_tenure, {**observed, "n_at_risk": "n"})
    if len(result.warning.factor_counts):
        out["risk_factors"] = standard_table(result.warning.factor_counts,
                                             {"customers": "n", "share_of_top_decile": "estimate"})
    if result.truth is not None:
        out["truth"] = standard_table(result.truth, {"lower": "ci_low", "upper": "ci_high"})
    if result.nps is not None:
        out["nps_predictor"] = standard_table(result.nps.table, hazard)
        out["nps_km"] = standard_table(result.nps.km.table, interval)
        if result.nps.truth is not None:
            out["nps_truth"] = standard_table(result.nps.truth, {"lower": "ci_low", "upper": "ci_high"})
    if result.clv is not None:
        out.update(result.clv.tables())
    return out
