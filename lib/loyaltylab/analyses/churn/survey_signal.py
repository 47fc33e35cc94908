"""The last NPS answer as a churn predictor ("NPS predicts who leaves"), and the survey signal in the early warning.

When a survey is given (``survey_path``; by default the survey file beside the customers file — the course survey on
the course data), each customer's answers are matched on the customer id, and the last answer dated strictly
before the end of the customer's observation (the churn day, or the snapshot for an active customer) is classified
by :mod:`loyaltylab.measures` (detractor 0–6, passive 7–8, promoter 9–10). Then:

* among respondents, a Cox model on the churn model's covariates + that category (detractor the reference) gives the
  hazard ratios of passives and promoters — the estimator behind truth.json ``churn.hazard_ratios.nps_category``
  (``synth.simulate_population_estimates``), fitted by :func:`loyaltylab.stats.survival.cox_fit` (R's ``coxph``);
* Kaplan–Meier curves by the category, groups below ``min_cell`` suppressed (:func:`.km.km_by_group`);
* the early warning's backtest is run again at the same cutoff, with the same scoring model (stratified as the
  backtest's was) and the survey signal as three more covariates (answered before the cutoff at all; last category
  passive; promoter — a non-respondent is 0, 0, 0), so the page can say how much the survey adds (backtest AUC with
  vs without, on the same customers).

The category is that of an answer given during the customer's life, held fixed from signup, as truth.json defines
it: a descriptive association ("who leaves"), not the effect of raising a customer's score.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import i18n, io, loaders, measures, paths
from loyaltylab.analyses.churn.cox import drop_infinite
from loyaltylab.analyses.churn.data import SurvivalData, days_per_unit, restrict
from loyaltylab.analyses.churn.km import KMGroups, alpha_of, default_times, km_by_group
from loyaltylab.analyses.churn.warning import Backtest, backtest, backtest_dates, churn_dates
from loyaltylab.constants import NPS_CATEGORIES
from loyaltylab.errors import DataError

AUTO = "auto"
"""``survey_path`` default: the survey file beside the customers file (``survey.csv`` / ``.parquet`` / ``.xlsx``)."""
TERM = "last_nps"                   # the category's term in the respondents' Cox model
COMPARED = NPS_CATEGORIES[1:]       # passive, promoter (vs detractor)
SIGNALS = ("answered_survey", "last_nps_passive", "last_nps_promoter")


@dataclass(frozen=True)
class Answers:
    """The survey's answers matched to customers: per answer the customers frame's row, its date and its category
    code (0 detractor, 1 passive, 2 promoter)."""

    rows: np.ndarray
    dates: np.ndarray
    codes: np.ndarray
    path: str                   # the survey as reports show it
    n_read: int                 # answers with a score
    n_matched: int              # of which with a date and a customer id found in the customers file


@dataclass(frozen=True)
class NPSPredictor:
    """The last NPS answer as a churn predictor (see the module docstring)."""

    survey: str
    n_customers: int            # customers in the models
    n_respondents: int          # of which answered before the end of their observation
    n_churners: int             # respondents who churned
    table: pd.DataFrame         # category, n, coef, se, hazard_ratio, hr_lower, hr_upper, p_value, suppressed
    km: KMGroups                # survival by last category (respondents; small groups suppressed)
    covariates: tuple[str, ...]  # the churn model's terms held equal
    backtest: Backtest | None   # the backtest with the survey signal (None without dates)
    auc_without: float | None
    auc_with: float | None
    truth: pd.DataFrame | None  # category, true, estimate, lower, upper, covered (course data)
    confidence: float = 0.95
    notes: tuple[str, ...] = ()
    dated: bool = True          # answers were checked against each customer's end of observation

    def hazard_ratio(self, category: str) -> pd.Series | None:
        """The row of ``category`` (passive / promoter) when shown, else None."""
        rows = self.table[(self.table["category"] == category) & ~self.table["suppressed"].astype(bool)]
        return rows.iloc[0] if len(rows) and np.isfinite(rows.iloc[0]["hazard_ratio"]) else None


# --------------------------------------------------------------------------------------------------------------------
# reading and matching
# --------------------------------------------------------------------------------------------------------------------
def survey_file(survey_path: str | None, customers: loaders.Customers) -> Path | None:
    """The survey to use: ``survey_path``; :data:`AUTO` → a file named survey beside the customers file (None when
    there is none, or the customers were not read from a file); None → none."""
    if survey_path is None:
        return None
    if survey_path != AUTO:
        return paths.resolve_input(survey_path, "survey")
    cust = paths.resolve_input(customers.path, "customers")
    if not cust.is_file():
        return None
    for suffix in dict.fromkeys((cust.suffix, ".csv", ".parquet", ".xlsx")):
        candidate = cust.with_name("survey" + suffix)
        if candidate.is_file():
            return candidate
    return None


def load_answers(file: Path, customers: loaders.Customers, *, id_col: str, survey_id_col: str, score_col: str,
                 date_col: str, encoding: str | None, min_cell: int) -> Answers:
    """Read the survey (``loaders.load_survey``: scores 0–10, dates, one-line errors) and match each answer to the
    customers file's row by the customer id (compared as text, as both files are read)."""
    columns = {survey_id_col: "customer_id"} if survey_id_col != "customer_id" else None
    survey = loaders.load_survey(file, score_col=score_col, date_col=date_col, cluster_col="customer_id",
                                 columns=columns, encoding=encoding, min_cell=min_cell, measures=(),
                                 only_used_columns=True)
    frame = survey.frame
    ids = customers.frame[id_col].dropna().astype(str)
    lookup = pd.Series(ids.index, index=ids.to_numpy())
    lookup = lookup[~lookup.index.duplicated(keep=False)]
    answer_ids = frame["cluster_id"]
    rows = answer_ids.dropna().astype(str).map(lookup).reindex(frame.index)
    dates = frame["date"]
    ok = rows.notna() & dates.notna()
    if len(frame) and not rows.notna().any():
        raise DataError(survey.source, survey_id_col, f"no survey customer id matches one in {customers.source} "
                        f"(column '{id_col}'): check that both files use the same ids")
    return Answers(rows=rows[ok].to_numpy(dtype=np.int64), dates=dates[ok].to_numpy(dtype="datetime64[ns]"),
                   codes=measures.category_codes(frame.loc[ok, "nps"]).astype(np.int64),
                   path=paths.display_path(file), n_read=int(len(frame)), n_matched=int(ok.sum()))


def last_category(answers: Answers, ends: pd.Series) -> np.ndarray:
    """Per customer row of ``ends`` (the end of the customer's observation; NaT = no limit): the category code of
    their last answer dated strictly before it, −1 when there is none. Same-day answers: the later row of the file."""
    pos = ends.index.get_indexer(answers.rows)
    end = ends.to_numpy(dtype="datetime64[ns]")
    out = np.full(len(ends), -1, dtype=np.int64)
    known = pos >= 0
    limit = np.where(known, end[np.where(known, pos, 0)], np.datetime64("NaT"))
    keep = known & (np.isnat(limit) | (answers.dates < limit))
    if not keep.any():
        return out
    p, d, c = pos[keep], answers.dates[keep], answers.codes[keep]
    order = np.lexsort((np.arange(len(p)), d, p))
    p, c = p[order], c[order]
    last = np.r_[p[1:] != p[:-1], True]
    out[p[last]] = c[last]
    return out


def observation_ends(df: pd.DataFrame, sd: SurvivalData, *, signup_col: str | None, snapshot) -> pd.Series:
    """The last day of each analysed customer's observation: signup + duration (the churn day or the snapshot) when
    the file has signup dates, else the snapshot when one is known (NaT: no limit)."""
    rows = sd.frame.index
    end = pd.Series(pd.NaT, index=rows, dtype="datetime64[ns]")
    if signup_col and signup_col in df.columns:
        signup = io.coerce_date(df, signup_col, source=sd.source).loc[rows]
        end = signup + pd.to_timedelta(sd.frame["duration"] * days_per_unit(sd.time_unit), unit="D")
    snap = sd.snapshot if sd.snapshot is not None else io.parse_snapshot(snapshot)
    if snap is not None:
        end = end.fillna(snap)
    return end


def signals_at(answers: Answers, ends: pd.Series, names: tuple[str, ...] = SIGNALS) -> pd.DataFrame:
    """The survey signal as numeric covariates: answered (0/1), last category passive (0/1), promoter (0/1)."""
    code = last_category(answers, ends)
    return pd.DataFrame({names[0]: (code >= 0).astype("float64"), names[1]: (code == 1).astype("float64"),
                         names[2]: (code == 2).astype("float64")}, index=ends.index)


# --------------------------------------------------------------------------------------------------------------------
# the estimators
# --------------------------------------------------------------------------------------------------------------------
def _respondents(msd: SurvivalData, code: np.ndarray) -> tuple[SurvivalData, str]:
    """The model data of the respondents with their last category as one more categorical term (detractor the
    reference level; the design is rebuilt on them)."""
    term = TERM
    while term in msd.base.columns or term in msd.design.terms:
        term = "_" + term
    labels = pd.Series(np.array(NPS_CATEGORIES, dtype=object)[np.clip(code, 0, None)], index=msd.frame.index)
    design = replace(msd.design, terms=(*msd.design.terms, term),
                     categorical={**msd.design.categorical, term: tuple(NPS_CATEGORIES)})
    aug = replace(msd, base=msd.base.assign(**{term: labels.where(code >= 0)}), design=design)
    return restrict(aug, code >= 0), term


def hazard_ratio_table(sd: SurvivalData, term: str, *, confidence: float) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Cox (Efron ties, R's ``coxph`` algorithm) on ``sd``'s design: the rows of passive and promoter vs detractor
    (NaN when the coefficient does not exist), and notes on what was left out."""
    from loyaltylab.stats.survival import cox_design, cox_fit

    model, _, notes = drop_infinite(sd)
    cols = list(model.design.columns)
    z = float(stats.norm.ppf(1 - alpha_of(confidence) / 2))
    coef = pd.Series(np.nan, index=cols)
    se = coef.copy()
    if cols and model.events >= 1:
        fit = cox_fit(cox_design(model.frame[cols], model.frame["duration"], model.frame["event"],
                                 terms=model.design.term_columns))
        bad = set(fit.infinite) | set(fit.singular)
        coef = fit.coef.where([c not in bad for c in fit.coef.index])
        se = fit.se.where(coef.notna())
    ref_ok = model.design.categorical.get(term, ("",))[0] == NPS_CATEGORIES[0]
    rows = []
    for cat in COMPARED:
        col = f"{term}[{cat}]"
        b = float(coef.get(col, np.nan)) if ref_ok else np.nan
        s = float(se.get(col, np.nan)) if ref_ok else np.nan
        with np.errstate(invalid="ignore", over="ignore"):
            rows.append({"category": cat, "coef": b, "se": s, "hazard_ratio": np.exp(b),
                         "hr_lower": np.exp(b - z * s), "hr_upper": np.exp(b + z * s),
                         "p_value": float(2 * stats.norm.sf(abs(b / s))) if np.isfinite(b) and s > 0 else np.nan})
    return pd.DataFrame(rows), tuple(notes)


def _with_suppression(table: pd.DataFrame, km: KMGroups) -> pd.DataFrame:
    """Counts per category from the KM table; a category the KM table hides — or every one, when the reference
    (detractor) is hidden — shows no count and no hazard ratio."""
    kt = km.table.set_index("value")
    hidden = {str(v) for v in kt.index[kt["suppressed"].astype(bool)]}
    ref_hidden = NPS_CATEGORIES[0] in hidden or NPS_CATEGORIES[0] not in kt.index
    out = table.copy()
    out.insert(1, "n", pd.array([kt["n"].get(c, pd.NA) if c in kt.index else 0 for c in out["category"]],
                                dtype="Int64"))
    out["suppressed"] = [(c in hidden) or ref_hidden for c in out["category"]]
    values = ["coef", "se", "hazard_ratio", "hr_lower", "hr_upper", "p_value"]
    out.loc[out["suppressed"], values] = np.nan
    out.loc[out["category"].isin(hidden), "n"] = pd.NA
    return out


def compare_with_truth(table: pd.DataFrame, truth: Mapping | None) -> pd.DataFrame | None:
    """The hazard ratios with their intervals next to truth.json ``churn.hazard_ratios.nps_category`` (the
    pseudo-true values of this very model); None off the course data."""
    true = ((truth or {}).get("churn", {}).get("hazard_ratios", {}) or {}).get("nps_category")
    if not true:
        return None
    rows = [{"category": r.category, "true": float(true[r.category]), "estimate": r.hazard_ratio,
             "lower": r.hr_lower, "upper": r.hr_upper}
            for r in table.itertuples() if r.category in true and np.isfinite(r.hazard_ratio)]
    if not rows:
        return None
    out = pd.DataFrame(rows)
    out["covered"] = (out["lower"] <= out["true"]) & (out["true"] <= out["upper"])
    return out


def _signal_names(df: pd.DataFrame) -> tuple[str, ...]:
    names = []
    for name in SIGNALS:
        while name in df.columns:
            name = "_" + name
        names.append(name)
    return tuple(names)


def survey_backtest(df: pd.DataFrame, answers: Answers, backtest_args: Mapping,
                    strata: tuple[str, ...] = ()) -> Backtest | None:
    """The backtest (same arguments, same cutoff, the same scoring model's ``strata`` — so the comparison isolates the
    survey signal, and no second PH test is paid for) with the survey signal as of the cutoff: answers dated before
    min(cutoff, the customer's churn day)."""
    a = dict(backtest_args)
    dates = backtest_dates(df, horizon=a["horizon"], time_unit=a["time_unit"], signup_col=a["signup_col"],
                           churn_date_col=a["churn_date_col"], snapshot_date=a["snapshot_date"],
                           duration_col=a["duration_col"], source=a["source"])
    if dates is None:
        return None
    snapshot, cutoff = dates
    churn = churn_dates(df, a["churn_date_col"], a["signup_col"], a["event_col"], a["event_value"],
                        a["duration_col"], a["time_unit"], snapshot, a["source"])
    ends = churn.where(churn.notna() & (churn < cutoff), cutoff).astype("datetime64[ns]")
    return backtest(df, **a, signals=signals_at(answers, ends, _signal_names(df)), strata=tuple(strata))


def nps_predictor(msd: SurvivalData, df: pd.DataFrame, answers: Answers, *, ends: pd.Series, min_cell: int,
                  confidence: float, horizon: float, backtest_args: Mapping | None, backtest_without: Backtest | None,
                  truth: Mapping | None) -> tuple[NPSPredictor | None, str | None]:
    """(the predictor, None) or (None, why not — one sentence) on the model data ``msd``; ``ends`` holds each
    customer's end of observation (:func:`observation_ends`)."""
    ends = ends.reindex(msd.frame.index)
    code = last_category(answers, ends)
    resp, term = _respondents(msd, code)
    if resp.n < min_cell:
        return None, i18n.t(f"Fewer than {min_cell} customers answered the survey before they churned or the "
                            "snapshot, so NPS as a churn predictor is not shown.",
                            f"在流失前（或快照日前）回答过调查的客户少于 {min_cell} 位，因此不展示 NPS 对流失的预测。")
    if resp.events == 0:
        return None, i18n.t("None of the customers who answered the survey churned, so NPS cannot be a churn "
                            "predictor here.",
                            "回答过调查的客户中没有人流失，因此这里 NPS 无法作为流失的预测因素。")
    times = default_times(msd.time_unit, float(horizon), float(resp.frame["duration"].max()))
    km = km_by_group(resp, term, min_cell=min_cell, times=times, confidence=confidence)
    table, notes = hazard_ratio_table(resp, term, confidence=confidence)
    table = _with_suppression(table, km)
    bt = None
    if backtest_without is not None and backtest_args is not None:
        bt = survey_backtest(df, answers, backtest_args, backtest_without.strata)
    auc_without = backtest_without.auc if backtest_without is not None else None
    auc_with = bt.auc if bt is not None else None
    return NPSPredictor(
        survey=answers.path, n_customers=msd.n, n_respondents=resp.n, n_churners=resp.events, table=table, km=km,
        covariates=tuple(msd.design.terms), backtest=bt, auc_without=auc_without, auc_with=auc_with,
        truth=compare_with_truth(table, truth), confidence=float(confidence), notes=notes,
        dated=bool(ends.notna().any()),
    ), None


def nps_table(result) -> pd.DataFrame:
    """The hazard ratio table a report shows: per compared category its respondents, hazard ratio vs detractors
    with its interval and p-value (a hidden row carries no numbers) and, on the course data, the true value and
    whether the interval covers it. Empty when no survey is used."""
    pred = result.nps
    if pred is None:
        return pd.DataFrame(columns=["category", "n", "hazard_ratio", "hr_lower", "hr_upper", "p_value"])
    out = pred.table[["category", "n", "hazard_ratio", "hr_lower", "hr_upper", "p_value", "suppressed"]]
    if pred.truth is not None:
        out = out.merge(pred.truth[["category", "true", "covered"]].rename(columns={"true": "true_hazard_ratio"}),
                        on="category", how="left")
    return out
