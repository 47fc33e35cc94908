"""The last NPS answer as a churn predictor (issue 13 §3): loyaltylab.analyses.churn.survey_signal and its place in the
churn analysis, against R's survival, truth.json and hand examples.

References:
* R 4 / survival 3.5, lifelines' Rossi data, the respondents' model (rows with ``i % 5 == 0`` did not answer; the
  category of the others is ``(7·age + prio) mod 3`` → detractor / passive / promoter):
  ``coxph(Surv(week, arrest) ~ fin + age + prio + cat, data = r)`` (Efron ties) →
  catpassive 0.0306669547498 (SE 0.2643441631954, 95% HR 0.614197903333–1.731125879335, p 0.907643452057),
  catpromoter 0.0595282088175 (SE 0.2723601245820, 95% HR 0.622328104461–1.810031491641, p 0.826989439588);
  345 respondents, 87 events.
* truth.json ``churn.hazard_ratios.nps_category``: the pseudo-true hazard ratios of this very model (Cox on the
  course covariates + the last answer's category, respondents only; ``synth.simulate_population_estimates``).
  Measured while writing this module: 200 seeds × 4,000 customers → 381 of 400 95% intervals cover (95.3%); the
  20-seed test below sees 37 of 40.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from loyaltylab import loaders, measures, results, synth
from loyaltylab.analyses import churn
from loyaltylab.analyses.churn import analysis, describe, survey_signal
from loyaltylab.analyses.churn.data import prepare
from loyaltylab.errors import DataError, ParameterError

R_ROSSI = {  # R: coxph(Surv(week, arrest) ~ fin + age + prio + cat), respondents only
    "passive": {"coef": 0.0306669547498, "se": 0.2643441631954, "lower": 0.614197903333, "upper": 1.731125879335,
                "p": 0.907643452057334},
    "promoter": {"coef": 0.0595282088175, "se": 0.2723601245820, "lower": 0.622328104461, "upper": 1.810031491641,
                 "p": 0.826989439587990},
}


def _answers(rows, dates, scores) -> survey_signal.Answers:
    rows = np.asarray(rows, dtype=np.int64)
    return survey_signal.Answers(rows=rows, dates=pd.to_datetime(pd.Series(dates)).to_numpy("datetime64[ns]"),
                                 codes=measures.category_codes(scores).astype(np.int64), path="survey.csv",
                                 n_read=len(rows), n_matched=len(rows))


def _world_answers(customers: pd.DataFrame, survey: pd.DataFrame) -> survey_signal.Answers:
    """A generated survey matched to the customers' rows (every course answer has a customer)."""
    rows = survey["customer_id"].astype(str).map(pd.Series(customers.index, index=customers["customer_id"]))
    return _answers(rows, survey["date"], survey["nps"])


@pytest.fixture(scope="module")
def alone(small_world):
    """The course customers analysed from memory: no file, so no survey beside it."""
    return churn.analyze_customers(loaders.Customers(frame=small_world.customers, source="t", path="t"),
                                   churn.Params())


@pytest.fixture(scope="module")
def course(small_course_dir):
    result = churn.analyze(churn.Params(customers_path=str(small_course_dir / "customers.csv")))
    truth = json.loads((small_course_dir / "truth.json").read_text(encoding="utf-8"))
    return result, truth


# --------------------------------------------------------------------------------------------------------------------
# The estimator: R, hand examples, truth
# --------------------------------------------------------------------------------------------------------------------
def test_respondents_model_equals_R_coxph():
    rossi = load_rossi()
    sd = prepare(rossi, duration_col="week", event_col="arrest", covariates=["fin", "age", "prio"], source="rossi",
                 signup_col=None, churn_date_col=None)
    i = np.arange(len(rossi))
    code = np.where(i % 5 == 0, -1, (rossi["age"].to_numpy() * 7 + rossi["prio"].to_numpy()) % 3)
    resp, term = survey_signal._respondents(sd, code)
    assert (resp.n, resp.events) == (345, 87)
    assert resp.design.categorical[term] == ("detractor", "passive", "promoter")
    table, notes = survey_signal.hazard_ratio_table(resp, term, confidence=0.95)
    assert notes == ()
    t = table.set_index("category")
    for cat, r in R_ROSSI.items():
        assert t.loc[cat, "coef"] == pytest.approx(r["coef"], abs=1e-8)
        assert t.loc[cat, "se"] == pytest.approx(r["se"], abs=1e-8)
        assert t.loc[cat, "hr_lower"] == pytest.approx(r["lower"], abs=1e-7)
        assert t.loc[cat, "hr_upper"] == pytest.approx(r["upper"], abs=1e-7)
        assert t.loc[cat, "p_value"] == pytest.approx(r["p"], abs=1e-8)


def test_last_answer_before_the_end_of_observation():
    """Hand example: answers on or after a customer's end day never count; the last earlier one does; same-day
    answers: the later row of the file; NaT end = no limit; a customer not in ``ends`` is ignored."""
    ends = pd.Series(pd.to_datetime(["2026-03-01", "2026-03-01", "2026-03-01", pd.NaT, "2026-03-01"]),
                     index=[10, 11, 12, 13, 14])
    answers = _answers(
        rows=[10, 10, 10, 11, 11, 12, 13, 13, 99],
        dates=["2026-01-01", "2026-02-01", "2026-03-01",    # 10: promoter on the end day is not used → passive
               "2026-02-10", "2026-02-10",                  # 11: same day: the later row (promoter)
               "2026-03-02",                                # 12: only after the end → none
               "2026-01-01", "2027-01-01",                  # 13: no limit → the later one
               "2026-01-01"],                               # row 99 is not among the customers
        scores=[3, 8, 10, 0, 9, 10, 5, 7, 10])
    code = survey_signal.last_category(answers, ends)
    assert code.tolist() == [1, 2, -1, 1, -1]
    signals = survey_signal.signals_at(answers, ends)
    assert signals.columns.tolist() == list(survey_signal.SIGNALS)
    assert signals.to_numpy().tolist() == [[1, 1, 0], [1, 0, 1], [0, 0, 0], [1, 1, 0], [0, 0, 0]]


def test_answers_after_churn_change_nothing(small_world):
    """A promoter answer dated on or after each churner's churn day (an exit survey, or a data error) must not make
    churners look like promoters: the estimator ignores it."""
    cu, sv = small_world.customers, small_world.survey
    sd = prepare(cu, source="course", id_col="customer_id",
                 reference_levels=small_world.truth["churn"]["reference_levels"])
    ends = survey_signal.observation_ends(cu, sd, signup_col="signup_date", snapshot=None)
    churned = cu[cu["churned"] == 1]
    late = pd.DataFrame({"customer_id": churned["customer_id"], "date": churned["churn_date"], "nps": 10})
    base = survey_signal.nps_predictor(sd, cu, _world_answers(cu, sv), ends=ends, min_cell=5, confidence=0.95,
                                       horizon=90, backtest_args=None, backtest_without=None, truth=None)[0]
    leaky = survey_signal.nps_predictor(sd, cu, _world_answers(cu, pd.concat([sv, late], ignore_index=True)),
                                        ends=ends, min_cell=5, confidence=0.95, horizon=90, backtest_args=None,
                                        backtest_without=None, truth=None)[0]
    pd.testing.assert_frame_equal(base.table, leaky.table)
    assert base.n_respondents == leaky.n_respondents
    assert (ends.loc[churned.index] == pd.to_datetime(churned["churn_date"])).all()


@pytest.mark.slow
def test_intervals_cover_the_truth_over_seeds():
    """20 seeds × 4,000 customers: the 95% intervals of the passive and promoter hazard ratios cover truth.json's
    ``churn.hazard_ratios.nps_category`` about 95% of the time (37 of 40 when written), and promoters always churn
    less than detractors."""
    covered = total = 0
    for seed in range(1, 21):
        world = synth.generate(4_000, seed)
        cu = world.customers
        sd = prepare(cu, source=f"seed {seed}", reference_levels=world.truth["churn"]["reference_levels"])
        ends = survey_signal.observation_ends(cu, sd, signup_col="signup_date", snapshot=None)
        pred, note = survey_signal.nps_predictor(sd, cu, _world_answers(cu, world.survey), ends=ends, min_cell=5,
                                                 confidence=0.95, horizon=90, backtest_args=None,
                                                 backtest_without=None, truth=world.truth)
        assert note is None
        covered += int(pred.truth["covered"].sum())
        total += len(pred.truth)
        assert pred.hazard_ratio("promoter")["hr_upper"] < 1
    assert total == 40
    assert covered >= 34, f"coverage {covered}/{total}"


# --------------------------------------------------------------------------------------------------------------------
# In the churn analysis (course data)
# --------------------------------------------------------------------------------------------------------------------
def test_course_hazard_ratios_cover_truth_and_point_the_right_way(course):
    result, truth = course
    pred = result.nps
    assert result.nps_note is None and pred is not None
    true = truth["churn"]["hazard_ratios"]["nps_category"]
    assert pred.truth is not None and pred.truth["covered"].all()
    assert set(pred.truth["category"]) == set(true)
    promoter, passive = pred.hazard_ratio("promoter"), pred.hazard_ratio("passive")
    assert promoter["hr_upper"] < 1                                      # promoters churn less than detractors
    assert promoter["hazard_ratio"] < passive["hazard_ratio"] < 1
    # respondents: customers with an answer before their end; their churners
    assert 0 < pred.n_churners < pred.n_respondents < result.data.n
    assert pred.covariates == tuple(result.data_for_models.design.terms)
    km = pred.km.table.set_index("value")
    assert set(km.index) == {"detractor", "passive", "promoter"} and not km["suppressed"].any()
    assert int(km["n"].sum()) == pred.n_respondents and int(km["events"].sum()) == pred.n_churners
    # the category's survival follows the hazard ratios
    col = next(c for c in km.columns if c.startswith("S("))
    assert km.loc["promoter", col] > km.loc["passive", col] > km.loc["detractor", col]


def test_course_backtest_with_the_survey_signal(course):
    result, _ = course
    pred = result.nps
    assert pred.auc_without == result.backtest.auc                      # the same backtest, not a second version
    assert pred.backtest is not None and np.isfinite(pred.auc_with)
    assert pred.backtest.cutoff == result.backtest.cutoff
    assert pred.backtest.n_scored == result.backtest.n_scored              # the same customers scored
    assert pred.auc_with > 0.5


def test_course_results_and_sentences(course):
    result, truth = course
    doc = json.loads(results.dumps(result.to_results()))
    nps = doc["nps_predictor"]
    assert set(nps) >= {"n_respondents", "hazard_ratios", "auc_without", "auc_with"}
    assert nps["n_respondents"] == result.nps.n_respondents
    assert set(nps["hazard_ratios"]) == {"passive", "promoter"}
    assert set(nps["hazard_ratios"]["promoter"]) >= {"hr", "ci_low", "ci_high"}
    assert nps["auc_without"] == doc["early_warning"]["backtest_auc"]
    assert doc["inputs"]["survey"].endswith("survey.csv") and doc["input_sha256"]["survey"]
    assert "nps_predictor" in result.tables() and "nps_km" in result.tables()
    lines = churn.describe_nps(result)
    promoter = result.nps.hazard_ratio("promoter")
    assert lines[0].startswith("NPS predicts who leaves")                 # the course's framing, on course data
    assert f"promoters churn at {promoter['hazard_ratio']:.2f}× the rate of detractors (95% CI" in lines[0]
    assert "backtest AUC" in lines[1] and f"{result.nps.auc_with:.3f}" in lines[1]
    assert any("2 of 2 95% intervals cover" in line for line in lines)
    assert any(line.startswith("NPS predicts who leaves") for line in result.key_findings())
    table = churn.nps_table(result)
    assert table["covered"].all() and table["true_hazard_ratio"].notna().all()


def test_chart(course, alone):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result, _ = course
    ax = churn.plot_nps_survival(result)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [lbl.split(" ")[0] for lbl in labels] == ["detractor", "passive", "promoter"]
    plt.close("all")
    assert churn.plot_nps_survival(alone) is None


# --------------------------------------------------------------------------------------------------------------------
# Parameters, other files, privacy
# --------------------------------------------------------------------------------------------------------------------
def test_survey_parameters_are_checked_before_reading():
    assert churn.Params().survey_path == "auto"
    for name, bad in (("survey_path", 3), ("survey_path", ""), ("survey_id_col", None), ("survey_score_col", ""),
                      ("survey_date_col", 5)):
        with pytest.raises(ParameterError, match=f"^parameters: {name} = "):
            churn.Params(**{name: bad})


def test_skipped_with_one_sentence(small_course_dir, alone):
    """No survey beside a customers file (or none read from a file), survey_path None, no answer dates: the section is
    skipped with one sentence and results.json has nps_predictor None."""
    assert alone.nps is None and alone.nps_note.startswith("No survey file lies beside the customers file")
    assert alone.to_results()["nps_predictor"] is None
    assert churn.describe_nps(alone)[0].startswith("No survey file lies beside")
    assert not any("NPS" in line for line in alone.key_findings())
    path = str(small_course_dir / "customers.csv")
    fast = {"customers_path": path, "signup_col": None, "churn_date_col": None}      # no backtest
    undated = churn.analyze(churn.Params(**fast, survey_date_col=None))
    assert undated.nps is None and "survey_date_col" in undated.nps_note
    assert "survey" not in undated.to_results()["inputs"]
    off = churn.analyze(churn.Params(**fast, survey_path=None))
    assert off.nps is None and off.nps_note.startswith("No survey is used (survey_path is None)")


def test_a_survey_with_its_own_column_names(small_course_dir, tmp_path):
    """A user's survey elsewhere, with its own names for the id, score and date columns, gives the same result as the
    course names — and an explicit survey that does not fit is a one-line DataError, never a skipped section."""
    survey = pd.read_csv(small_course_dir / "survey.csv", dtype={"customer_id": str})
    own = survey[["customer_id", "date", "nps"]].rename(columns={"customer_id": "客户编号", "date": "答卷日期",
                                                                 "nps": "推荐值"})
    own.to_csv(tmp_path / "answers.csv", index=False)
    customers = str(small_course_dir / "customers.csv")
    kw = {"customers_path": customers, "signup_col": None, "churn_date_col": None}   # no backtest: fast
    mine = churn.analyze(churn.Params(**kw, survey_path=str(tmp_path / "answers.csv"), survey_id_col="客户编号",
                                      survey_score_col="推荐值", survey_date_col="答卷日期"))
    default = churn.analyze(churn.Params(**kw))
    pd.testing.assert_frame_equal(mine.nps.table, default.nps.table)
    assert mine.nps.auc_with is None and "no backtest" in churn.describe_nps(mine)[1]
    # without signup dates or a snapshot the answers cannot be placed before churn: the page says so
    assert not mine.nps.dated and "could not be checked" in churn.describe_nps(mine)[2]
    with pytest.raises(DataError) as info:
        churn.analyze(churn.Params(**kw, survey_path=str(tmp_path / "answers.csv")))
    assert "\n" not in str(info.value) and "column 'nps': required column is missing" in str(info.value)


def test_small_categories_show_no_numbers(small_world):
    """min_cell above the detractors' count: their KM row hides its count, and with the reference hidden no hazard
    ratio is shown (in the table, results.json's nps_predictor and the sentence)."""
    cu = small_world.customers
    sd = prepare(cu, source="course", reference_levels=small_world.truth["churn"]["reference_levels"])
    ends = survey_signal.observation_ends(cu, sd, signup_col="signup_date", snapshot=None)
    answers = _world_answers(cu, small_world.survey)
    code = survey_signal.last_category(answers, ends)
    n_detractors = int((code == 0).sum())
    pred, _ = survey_signal.nps_predictor(sd, cu, answers, ends=ends, min_cell=n_detractors + 1, confidence=0.95,
                                          horizon=90, backtest_args=None, backtest_without=None, truth=None)
    km = pred.km.table.set_index("value")
    assert km.loc["detractor", "suppressed"] and pd.isna(km.loc["detractor", "n"])
    assert pred.table["suppressed"].all() and pred.table["hazard_ratio"].isna().all()
    assert pred.hazard_ratio("promoter") is None
    view = SimpleNamespace(nps=pred, is_course=True, min_cell=n_detractors + 1)
    doc = analysis._nps_content(view)
    assert all(r == {"hr": None, "ci_low": None, "ci_high": None, "suppressed": True}
               for r in doc["hazard_ratios"].values())
    sentence = describe._nps(view)
    assert "no hazard ratio against detractors can be shown" in sentence and "×" not in sentence
    assert not sentence.startswith("NPS predicts")                    # no course framing without the evidence
