"""The secondary models on a fixed-seed sample (analyses/churn/sampling.py): on the course data with the caps lowered
below its size, the conclusions equal those of the fit on everyone, the notes say so exactly when a sample
was drawn, the sample is the same on every run, and a large action list is split into a CSV and a Parquet file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyaltylab import loaders, synth
from loyaltylab.analyses import churn, clv
from loyaltylab.analyses.churn import sampling, warning
from loyaltylab.analyses.churn.cox import fit_cox, term_wald_tests
from loyaltylab.analyses.churn.data import prepare
from loyaltylab.narrative import esc

CAP = 6_000            # below the course world's 20,000 customers (18,333 at the backtest's cutoff)
SAMPLED = "fixed-seed random sample"
CAPS = ("AFT_SAMPLE", "BACKTEST_SAMPLE", "REMEDY_SAMPLE", "VALIDATION_SAMPLE")


def analyse(path: str, **extra):
    p = clv.Params(customers_path=path, **extra)
    result = churn.analyze(p.churn_params())
    return result.with_clv(clv.analyze(p, churn_result=result))


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    """The course data itself (20,000 customers, seed 42). The 3,000-customer world of conftest.py is too small
    for this comparison: there the fit on everyone reaches no conclusion a sample could repeat (Weibull vs
    log-logistic ΔAIC 1.8, the channel term p = 0.09), so a sample of 2,000 flips both by chance."""
    out = tmp_path_factory.mktemp("course20k")
    synth.write(synth.generate(), out, fmt="csv")
    return out


@pytest.fixture(scope="module")
def fits(course_dir):
    path = str(course_dir / "customers.csv")
    full = analyse(path)
    with pytest.MonkeyPatch.context() as mp:
        for cap in CAPS:
            mp.setattr(sampling, cap, CAP)
        sampled = analyse(path)
    return full, sampled


def _significant(p_values) -> np.ndarray:
    return np.asarray(p_values, dtype=float) < 0.05


def _aft_terms(result) -> pd.Series:
    """The Weibull AFT's p-value per term (a factor is one Wald test on k−1 df, as for the Cox model)."""
    fitter = result.aft.fitters["weibull"]
    cols = list(result.aft.coefficients["covariate"])
    at = [("lambda_", c) for c in cols]
    coef = pd.Series(fitter.params_.loc[at].to_numpy(), index=cols)
    var = pd.DataFrame(fitter.variance_matrix_.loc[at, at].to_numpy(), index=cols, columns=cols)
    return term_wald_tests(coef, var, result.data_for_models.design.term_columns).set_index("term")["p_value"]


def _same_conclusions(full: pd.DataFrame, part: pd.DataFrame, full_terms: pd.Series, part_terms: pd.Series):
    """Every term significant at 5% in both fits or in neither; every coefficient significant on everyone has the
    same sign in the sample."""
    assert list(full_terms.index) == list(part_terms.index)
    assert (_significant(full_terms) == _significant(part_terms.loc[full_terms.index])).all()
    decided = full.index[_significant(full["p_value"])]
    assert len(decided)
    assert (np.sign(full.loc[decided, "coef"]) == np.sign(part.loc[decided, "coef"])).all()


def test_sample_rows_are_fixed_and_keep_the_churn_share():
    events = (np.random.default_rng(3).random(10_001) < 0.27).astype(int)
    rows = sampling.sample_rows(events, 2_500)
    assert np.array_equal(rows, sampling.sample_rows(events, 2_500))                 # same seed, same rows
    assert not np.array_equal(rows, sampling.sample_rows(events, 2_500, seed=1))
    assert len(rows) == 2_500 and len(np.unique(rows)) == 2_500 and np.all(np.diff(rows) > 0)
    assert abs(events[rows].sum() - 2_500 * events.mean()) <= 0.5                    # churn share exact
    assert sampling.sample_rows(events, 10_001) is None and sampling.sample_rows(events, None) is None


def test_under_the_caps_nothing_is_sampled(fits):
    full, _ = fits
    assert full.data.n <= min(getattr(sampling, cap) for cap in CAPS)          # the course data: 20,000
    assert not any(SAMPLED in note for note in full.model_notes)
    assert full.backtest.notes == () and full.nps.backtest.notes == () and full.validation.notes == ()


def test_sampled_fits_say_so(fits):
    full, sampled = fits
    notes = [n for n in sampled.model_notes if SAMPLED in n]
    assert full.remedy is None                                   # the course data need no stratified model
    assert len(notes) == 3                       # the AFT comparison; the backtests (one note); the validation
    assert any(n.startswith("The validation's model") and f"{CAP:,} of the {full.validation.n_train:,}" in n
               for n in notes)
    assert any(n.startswith("The AFT model comparison") and f"{CAP:,} of the {sampled.data_for_models.n:,}" in n
               for n in notes)
    assert any(n.startswith("The backtest's model") for n in notes)
    assert sampled.backtest.n_train <= CAP < full.backtest.n_train
    shown = sampled.to_results()["notes"]
    assert all(n in shown for n in notes)
    assert all(esc(n) in churn.describe.describe_cox(sampled) for n in notes)     # shown under the Cox model


def test_the_sample_is_the_same_on_every_run(fits, course_dir):
    _, sampled = fits
    with pytest.MonkeyPatch.context() as mp:
        for cap in CAPS:
            mp.setattr(sampling, cap, CAP)
        again = churn.analyze(churn.Params(customers_path=str(course_dir / "customers.csv")))
    pd.testing.assert_frame_equal(again.aft.table, sampled.aft.table)
    assert again.backtest.auc == sampled.backtest.auc and again.nps.auc_with == sampled.nps.auc_with


def test_sampled_conclusions_equal_the_full_fit(fits):
    full, sampled = fits
    # the headline Cox model and the scoring stay on every customer
    pd.testing.assert_frame_equal(full.cox.table, sampled.cox.table)
    assert full.warning.expected_churners == sampled.warning.expected_churners
    # AFT: the same best distribution by AIC (decided on everyone: the runner-up is ≥ 10 AIC behind)
    assert sorted(full.aft.table["delta_aic"])[1] >= 10
    assert sampled.aft.best == full.aft.best
    _same_conclusions(full.aft.coefficients.set_index("covariate"), sampled.aft.coefficients.set_index("covariate"),
                      _aft_terms(full), _aft_terms(sampled))
    # the backtests score every customer active at the cutoff; their AUC moves by less than 0.03
    assert sampled.backtest.n_scored == full.backtest.n_scored
    assert abs(sampled.backtest.auc - full.backtest.auc) < 0.03
    assert sampled.nps.backtest.n_scored == full.nps.backtest.n_scored
    assert abs(sampled.nps.auc_with - full.nps.auc_with) < 0.03
    assert sampled.backtest.strata == full.backtest.strata
    # the validation's model fitted on a sample of the training part, evaluated on all of the held-out part
    assert sampled.validation.n_test == full.validation.n_test
    assert abs(sampled.validation.c_index_test - full.validation.c_index_test) < 0.03


def test_backtest_refit_terms_agree(course_dir):
    """The backtest's Cox model at the cutoff fitted on the sample against the same model on everyone."""
    df = loaders.load_customers(str(course_dir / "customers.csv")).frame
    bt = warning.backtest(df, horizon=90)
    past = prepare(df, snapshot_date=bt.cutoff)
    assert past.n > CAP
    everyone, part = fit_cox(past, r_stats=True), fit_cox(sampling.sample(past, CAP), r_stats=True)
    _same_conclusions(everyone.table.set_index("covariate"), part.table.set_index("covariate"),
                      everyone.term_tests.set_index("term")["p_value"], part.term_tests.set_index("term")["p_value"])


def test_a_large_action_list_is_a_csv_of_the_top_and_a_parquet_of_everyone(small_course_dir, tmp_path, monkeypatch):
    result = analyse(str(small_course_dir / "customers.csv"), write_action_list=True)
    n_active = result.warning.n_active
    out = tmp_path / "out"
    written = churn.write_action_list(result, out)
    assert written == out / warning.ACTION_LIST and not (out / warning.FULL_ACTION_LIST).exists()
    whole = pd.read_csv(written, dtype={"customer_id": str})
    assert len(whole) == n_active and warning.action_list_note(n_active) == ""

    monkeypatch.setattr(warning, "ACTION_LIST_ROWS", 100)
    written = churn.write_action_list(result, out)
    top = pd.read_csv(written, dtype={"customer_id": str})
    ranked = pd.read_parquet(out / warning.FULL_ACTION_LIST)
    assert len(top) == 100 and list(top["rank"]) == list(range(1, 101))
    assert len(ranked) == n_active and list(ranked["rank"]) == list(range(1, n_active + 1))
    assert list(top.columns) == list(ranked.columns) == list(whole.columns)
    pd.testing.assert_frame_equal(top, whole.head(100))
    assert list(ranked["customer_id"]) == list(whole["customer_id"])
    assert not list(out.glob(".at_risk*"))
    note = warning.action_list_note(n_active)
    assert "100" in note and f"{n_active:,}" in note and warning.FULL_ACTION_LIST in note
    assert any(note.strip() in line for line in churn.describe_warning(result))
    churn.remove_action_list(out)
    assert not (out / warning.ACTION_LIST).exists() and not (out / warning.FULL_ACTION_LIST).exists()


def test_the_parquet_list_is_neutralised_too(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    n = 300
    df = pd.DataFrame({"member_no": [f"M{i:04d}" for i in range(n)], "tenure_days": rng.integers(30, 900, n),
                       "churned": (rng.random(n) < 0.3).astype(int), "plan": rng.choice(["A", "B"], n),
                       "x": rng.normal(size=n)})
    hostile = ["=1+2", "+cmd", "-2+3", "@SUM(A1)"]
    df.loc[: len(hostile) - 1, "member_no"] = hostile
    df.loc[: len(hostile) - 1, "churned"] = 0
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    p = churn.Params(customers_path=str(path), id_col="member_no", covariates=["x", "plan"], segment_col="plan",
                     write_action_list=True, signup_col=None, churn_date_col=None, survey_path=None)
    monkeypatch.setattr(warning, "ACTION_LIST_ROWS", 10)
    out = churn.write_action_list(churn.analyze(p), tmp_path / "out")
    ranked = pd.read_parquet(out.parent / warning.FULL_ACTION_LIST)
    assert {"'" + h for h in hostile} <= set(ranked["member_no"])
    assert not ranked["member_no"].str[:1].isin(["=", "+", "-", "@"]).any()


def test_the_stratified_remedy_on_a_sample(tmp_path, monkeypatch):
    """A plan whose hazard falls with tenure against one whose hazard rises violates proportional hazards: the
    stratified model that scores is fitted on the sample, says so, reaches the same conclusion about x and still
    scores every active customer."""
    rng = np.random.default_rng(8)
    n = 6_000
    plan = rng.choice(["A", "B"], n)
    x = rng.normal(size=n)
    shape = np.where(plan == "A", 0.6, 2.0)
    lifetime = 400 * rng.weibull(shape) * np.exp(-0.4 * x / shape)
    follow = rng.uniform(100, 900, n)
    df = pd.DataFrame({"tenure_days": np.minimum(lifetime, follow).round() + 1,
                       "churned": (lifetime <= follow).astype(int), "plan": plan, "x": x})
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    p = churn.Params(customers_path=str(path), id_col=None, covariates=["x", "plan"], segment_col="plan",
                     signup_col=None, churn_date_col=None, survey_path=None)
    full = churn.analyze(p)
    assert full.remedy is not None and full.remedy.strata == ("plan",)
    monkeypatch.setattr(sampling, "REMEDY_SAMPLE", 2_500)
    sampled = churn.analyze(p)
    assert sampled.remedy.strata == ("plan",) and sampled.remedy.n == 2_500 and full.remedy.n == n
    assert any(n.startswith("The stratified Cox model") and "2,500 of the 6,000" in n for n in sampled.model_notes)
    assert not any(SAMPLED in n for n in full.model_notes)
    a, b = full.remedy.table.set_index("covariate"), sampled.remedy.table.set_index("covariate")
    assert list(a.index) == list(b.index) == ["x"]
    assert np.sign(a.loc["x", "coef"]) == np.sign(b.loc["x", "coef"]) and b.loc["x", "p_value"] < 0.05
    pd.testing.assert_frame_equal(full.cox.table, sampled.cox.table)
    assert sampled.warning.n_active == full.warning.n_active
