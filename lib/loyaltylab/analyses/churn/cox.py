"""Cox proportional hazards: the fit, the statistics R's ``summary(coxph(...))`` prints, and coefficients that do
not exist.

The model is fitted with lifelines (its baseline hazard drives the predictions in :mod:`.baseline`). The reported
statistics are R's (``loyaltylab.stats.survival``, equal to survival 3.5 to ~1e-10): for an unpenalised model the
coefficients and standard errors are R's ``coxph`` fit (lifelines' Newton stops up to ~2e-4 away, which moves Wald
tests by ~1e-3), the likelihood-ratio, Wald and score tests, the concordance with its standard error, and one Wald
test per term (a factor with k levels is one test on k−1 df, as ``car::Anova(fit, test.statistic = "Wald")``).

Coefficients that do not exist (:func:`drop_infinite`): a level whose customers never churned, or a covariate that
separates churners from the others, makes the partial likelihood monotone — R warns "coefficient may be infinite"
and lifelines returns −16.6 with SE 3059. Such a level's customers are left out of the models (its counts are
≥ min_cell: rarer levels are pooled when the data are prepared); such a covariate is left out. Either way the
coefficient is named in the notes and has no value (NaN) in the table.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import i18n, params
from loyaltylab.analyses.churn.baseline import fit_baselines, risk_score, stratum_codes, stratum_labels
from loyaltylab.analyses.churn.data import SurvivalData, restrict
from loyaltylab.analyses.churn.km import alpha_of
from loyaltylab.errors import DataError
from loyaltylab.stats.survival import (
    cox_concordance,
    cox_design,
    cox_fit,
    cox_model_tests,
    monotone_likelihood,
)

TABLE_COLUMNS = ["covariate", "coef", "se", "hazard_ratio", "hr_lower", "hr_upper", "p_value"]
TEST_NAMES = {"likelihood_ratio": "Likelihood ratio", "wald": "Wald", "score": "Score (log-rank)"}
# A stratified fit gets one column of stratum codes: lifelines partitions by a single integer key about twice as
# fast as by several text columns (a MultiIndex), with the same estimates.
STRATUM = "__stratum"


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
    baselines: dict = field(default_factory=dict)   # stratum label (None: unstratified) → baseline.Baseline
    confidence: float = 0.95
    tests: pd.DataFrame | None = None        # test, statistic, df, p_value: LR, Wald, score (R's summary.coxph)
    term_tests: pd.DataFrame | None = None   # term, chisq, df, p_value: one Wald test per term
    concordance_se: float | None = None      # R's infinitesimal-jackknife SE (unstratified models)
    design: object = None                    # stats.survival.CoxDesign at R's coefficients (for the PH test)
    infinite: tuple[str, ...] = ()           # coefficients that do not exist (NaN rows of the table)
    estimates_from: str = "lifelines"        # "R coxph" when coef/se are R's fit

    @property
    def label(self) -> str:
        return f"Cox stratified by {', '.join(self.strata)}" if self.strata else "Cox"

    def term_significant(self, term: str) -> bool:
        """Whether the term's Wald test is below 1 − confidence (a factor: its multi-df test)."""
        if self.term_tests is None or term not in set(self.term_tests["term"]):
            rows = self.table[self.table["term"] == term]
            return bool(len(rows) and rows["significant"].any())
        p = float(self.term_tests.set_index("term").loc[term, "p_value"])
        return bool(p < alpha_of(self.confidence))


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
                cph.fit(data, duration_col="duration", event_col="event", strata=[STRATUM] if strata else None)
            return cph, pen, notes
        except ConvergenceError as exc:
            if attempt == 1:
                raise DataError(source, None, f"the Cox model did not converge ({str(exc).splitlines()[0]}); "
                                "try fewer covariates or penalizer=0.1") from None
            pen = max(pen, 0.01)
            notes.append(i18n.t(f"The unpenalised Cox fit did not converge; refitted with penalizer={pen}.",
                                f"不加惩罚的 Cox 拟合没有收敛；已用 penalizer={pen} 重新拟合。"))
    raise AssertionError("unreachable")


def _model_columns(sd: SurvivalData, strata: Sequence[str]) -> list[str]:
    return [c for c in sd.design.columns if not set(sd.design.term_of(c).split(":")) & set(strata)]


def _r_design(sd: SurvivalData, data: pd.DataFrame, cols: list[str], strata: Sequence[str]):
    terms = {t: tuple(c for c in cs if c in cols) for t, cs in sd.design.term_columns.items()}
    terms = {t: cs for t, cs in terms.items() if cs}
    labels = stratum_labels(strata, sd, data.index).astype(str) if strata else None
    return cox_design(data[cols], data["duration"], data["event"], terms=terms, strata=labels)


def _coefficient_table(names, terms, coef, se, alpha) -> pd.DataFrame:
    z = float(stats.norm.ppf(1 - alpha / 2))
    table = pd.DataFrame({"covariate": list(names), "term": list(terms), "coef": np.asarray(coef, dtype=float),
                          "se": np.asarray(se, dtype=float)})
    table["coef_lower"] = table["coef"] - z * table["se"]
    table["coef_upper"] = table["coef"] + z * table["se"]
    with np.errstate(over="ignore"):
        table["hazard_ratio"] = np.exp(table["coef"])
        table["hr_lower"] = np.exp(table["coef_lower"])
        table["hr_upper"] = np.exp(table["coef_upper"])
    table["p_value"] = 2 * stats.norm.sf(np.abs(table["coef"] / table["se"]))
    table["significant"] = table["p_value"] < alpha
    return table


def term_wald_tests(coef: pd.Series, var: pd.DataFrame, term_columns: dict) -> pd.DataFrame:
    """One Wald test per term: β_Tᵀ V_T⁻¹ β_T on len(T) df (a factor is one multi-df test)."""
    rows = []
    for term, cols in term_columns.items():
        cols = [c for c in cols if c in coef.index and np.isfinite(coef[c])]
        if not cols:
            continue
        b = coef[cols].to_numpy(dtype=float)
        chisq = float(b @ np.linalg.solve(var.loc[cols, cols].to_numpy(dtype=float), b))
        rows.append({"term": term, "chisq": chisq, "df": len(cols), "p_value": float(stats.chi2.sf(chisq, len(cols)))})
    return pd.DataFrame(rows, columns=["term", "chisq", "df", "p_value"])


def _name_strata(cph, labels: list) -> None:
    """Name the baseline columns of a fit on stratum codes by their strata, as a fit on the strata themselves would
    (the value, or a tuple of values)."""
    fitted = getattr(cph, "_model", cph)  # CoxPHFitter holds the fitted model and passes attributes through
    for attr in ("baseline_hazard_", "baseline_cumulative_hazard_", "baseline_survival_"):
        frame = vars(fitted).get(attr)
        if isinstance(frame, pd.DataFrame):
            frame.columns = pd.Index([labels[int(c)] for c in frame.columns], dtype=object, tupleize_cols=False)


def fit_cox(
    sd: SurvivalData,
    *,
    penalizer: float = 0.0,
    strata: Sequence[str] = (),
    rows=None,
    concordance: bool = True,
    confidence: float = 0.95,
    r_stats: bool = False,
) -> CoxResult:
    """Cox PH (Efron ties), with ``confidence`` intervals; a covariate is significant when p < 1 − ``confidence``.

    ``strata``: categorical variables to stratify by (their dummies leave the model; each stratum gets its own
    baseline). ``rows``: a boolean mask / index to fit on a subset (train split, subsample). ``r_stats``: the
    statistics R reports (coefficients and SEs of R's fit when unpenalised, LR/Wald/score tests, one Wald test per
    term, concordance with its SE) — for the models a report shows; the validation and backtest refits skip them."""
    alpha = alpha_of(confidence)
    strata = tuple(strata)
    frame = sd.frame if rows is None else sd.frame.loc[rows]
    cols = _model_columns(sd, strata)
    data = frame[["duration", "event", *cols]]
    labels = None
    if strata:
        codes, labels = stratum_codes(strata, sd, data.index)
        data = data.assign(**{STRATUM: codes})
    if data["event"].sum() == 0:
        raise DataError(sd.source, None, "no churn events among the customers analysed: a survival model needs some")
    cph, pen, notes = _fit_lifelines(data, strata, params.non_negative(penalizer, "penalizer"), alpha, sd.source)
    if labels is not None:
        _name_strata(cph, labels)
    s = cph.summary
    names = [str(c) for c in s.index]
    coef, se, var = s["coef"], s["se(coef)"], cph.variance_matrix_
    extra: dict = {}
    if r_stats:
        design = _r_design(sd, data, names, strata)
        rfit = cox_fit(design)
        if pen == 0 and rfit.converged and not rfit.infinite and not rfit.singular:
            coef, se, var = rfit.coef, rfit.se, rfit.var
            extra["estimates_from"] = "R coxph"
        at = design.with_beta(np.nan_to_num(rfit.coef.to_numpy()))
        tests = cox_model_tests(at).table
        extra.update(design=at, tests=tests,
                     term_tests=term_wald_tests(pd.Series(np.asarray(coef, dtype=float), index=names),
                                                pd.DataFrame(np.asarray(var, dtype=float), index=names,
                                                             columns=names), sd.design.term_columns))
        if not strata and concordance:
            c = cox_concordance(at, confidence=confidence)
            extra.update(concordance=c.estimate, concordance_se=c.se)
    table = _coefficient_table(names, [sd.design.term_of(c) for c in names], np.asarray(coef, dtype=float),
                               np.asarray(se, dtype=float), alpha)
    result = CoxResult(
        fitter=cph, table=table, concordance=None, aic_partial=float(cph.AIC_partial_),
        log_likelihood=float(cph.log_likelihood_), n=int(len(data)), events=int(data["event"].sum()), penalizer=pen,
        strata=strata, notes=tuple(notes), baselines=fit_baselines(cph, data, strata, sd),
        confidence=float(confidence), **{k: v for k, v in extra.items() if k != "concordance"},
    )
    if concordance:
        c = extra.get("concordance")
        if c is None:
            from lifelines.utils import concordance_index

            # for a stratified model the partial hazard alone ignores the strata: rank by the cumulative hazard at
            # the median duration instead (the same order as the partial hazard when there are no strata)
            c = (float(cph.concordance_index_) if not strata else
                 float(concordance_index(data["duration"], -risk_score(result, sd, data.index,
                                                                        float(data["duration"].median())),
                                         data["event"])))
        result = replace(result, concordance=float(c))
    return result


def coefficient_table(cox: CoxResult) -> pd.DataFrame:
    """The columns a report shows: covariate, coef, se, hazard ratio with its interval, p-value (a coefficient that
    does not exist shows no numbers)."""
    return cox.table[TABLE_COLUMNS]


def tests_table(cox: CoxResult) -> pd.DataFrame:
    """R's three tests of the whole model (likelihood ratio, Wald, score) as a small table."""
    if cox.tests is None:
        return pd.DataFrame(columns=["test", "chi_square", "df", "p_value"])
    t = cox.tests
    return pd.DataFrame({"test": t["test"].map(TEST_NAMES), "chi_square": t["statistic"], "df": t["df"],
                         "p_value": t["p_value"]})


def with_missing(cox: CoxResult, infinite: Sequence[str], sd: SurvivalData) -> CoxResult:
    """``cox`` with a row of no numbers for each coefficient that does not exist (named in the notes)."""
    if not infinite:
        return cox
    rows = pd.DataFrame({"covariate": list(infinite), "term": [_term_name(c, sd) for c in infinite]})
    table = pd.concat([cox.table, rows], ignore_index=True)
    table["significant"] = table["significant"].eq(True)
    return replace(cox, table=table, infinite=tuple(infinite))


def _term_name(column: str, sd: SurvivalData) -> str:
    try:
        return sd.design.term_of(column)
    except KeyError:
        return column.split("[", 1)[0]


# --------------------------------------------------------------------------------------------------------------------
# Coefficients that do not exist
# --------------------------------------------------------------------------------------------------------------------
def _zero_event_levels(sd: SurvivalData) -> list[tuple[str, str]]:
    """(variable, level) of every categorical level of the model whose customers never churned."""
    out = []
    for var in sd.design.categorical:
        if var not in sd.design.terms:
            continue
        events = sd.frame["event"].groupby(sd.base[var].astype(str).to_numpy()).sum()
        if (events > 0).sum() >= 1:
            out += [(var, str(level)) for level, e in events.items() if e == 0]
    return out


def drop_infinite(sd: SurvivalData, *, rounds: int = 4) -> tuple[SurvivalData, tuple[str, ...], tuple[str, ...]]:
    """(model data, coefficients that do not exist, notes in words). A categorical level whose customers never
    churned leaves the models with its customers (its coefficient would be −∞; a reference level without churners
    would send every other level's to +∞); then the unstratified design is checked for monotone likelihood
    (``stats.survival.monotone_likelihood``: separation, R's infinite/singular rules) and an affected term leaves the
    model. Repeated until the fit is finite. No warning escapes."""
    gone: list[str] = []
    notes: list[str] = []
    for _ in range(rounds):
        if not sd.design.columns or sd.events == 0:
            break
        empty = _zero_event_levels(sd)
        if empty:
            keep = np.ones(sd.n, dtype=bool)
            for var, level in empty:
                keep &= (sd.base[var].astype(str) != level).to_numpy()
                name = f"{var}[{level}]"
                is_ref = sd.design.categorical[var][0] == level
                ref = " (the reference level)" if is_ref else ""
                notes.append(i18n.t(
                    f"{name}{ref}: none of its customers churned, so its coefficient does not exist (the "
                    "likelihood is monotone and the estimate runs to infinity; R warns 'coefficient may "
                    "be infinite'); its customers are left out of the models and the action list.",
                    f"{name}{'（参照水平）' if is_ref else ''}：该水平没有客户流失，因此它的系数不存在（似然函数单调，"
                    "估计值趋于无穷；R 会警告 'coefficient may be infinite'）；这些客户不纳入模型和行动清单。"))
                gone.append(name)
            sd = restrict(sd, keep)
            continue
        design = cox_design(sd.frame[list(sd.design.columns)], sd.frame["duration"], sd.frame["event"],
                            terms=sd.design.term_columns)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check = monotone_likelihood(design)
        if not check.affected_columns:
            break
        for col in check.affected_columns:
            notes.append(i18n.t(
                f"{col}: its coefficient runs to ±∞ (the likelihood is monotone: the covariate separates "
                f"churners from the others; R warns 'coefficient may be infinite'); the term "
                f"'{sd.design.term_of(col)}' is left out of the model.",
                f"{col}：它的系数趋于 ±∞（似然函数单调：该协变量把流失客户与其他客户完全分开；R 会警告 "
                f"'coefficient may be infinite'）；项 '{sd.design.term_of(col)}' 不纳入模型。"))
            gone.append(col)
        sd = _without_terms(sd, set(check.affected_terms))
    return sd, tuple(dict.fromkeys(gone)), tuple(dict.fromkeys(notes))


def _without_terms(sd: SurvivalData, terms: set[str]) -> SurvivalData:
    term_columns = {t: c for t, c in sd.design.term_columns.items() if t not in terms}
    columns = tuple(c for cs in term_columns.values() for c in cs)
    design = replace(sd.design, terms=tuple(term_columns), columns=columns, term_columns=term_columns)
    return replace(sd, frame=sd.frame[["duration", "event", *columns]], design=design)
