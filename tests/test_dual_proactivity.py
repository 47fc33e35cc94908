"""Notebook 05's analysis (dual proactivity and service recovery): parameters, the wiring to the statistics modules
(every estimate equals stats.moderation / stats.equivalence / lifelines on the same rows, built here independently),
the time-varying Cox, privacy, results.json, single-file runs, and the course world's truth — like with like."""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyaltylab import results, synth
from loyaltylab.analyses import dual_proactivity as dual
from loyaltylab.analyses.dual_proactivity import data as data_mod
from loyaltylab.analyses.dual_proactivity import interaction as interaction_mod
from loyaltylab.analyses.dual_proactivity import recovery, retention, tvcox
from loyaltylab.analyses.dual_proactivity import truth as truth_mod
from loyaltylab.errors import ParameterError
from loyaltylab.stats import equivalence as eq
from loyaltylab.stats import moderation as m
from loyaltylab.stats import survival as sv

ROOT = Path(__file__).resolve().parents[1]
STATES = ROOT / "tests" / "fixtures" / "moderation" / "states.csv"
R_STATES_JN = (-0.749635218182, 11.7439204257)  # interactions vignette: johnson_neyman(fiti, Murder), uniroot in R


@pytest.fixture(scope="module")
def course(small_course_dir) -> dual.Result:
    return dual.analyze(dual.Params(survey_path=str(small_course_dir / "survey.csv")))


@pytest.fixture(scope="module")
def joined(small_world) -> pd.DataFrame:
    """The survey with its customers' columns, joined here with pandas on the text ids."""
    return small_world.survey.merge(small_world.customers, on="customer_id", how="left", validate="many_to_one")


# --- parameters ----------------------------------------------------------------------------------------------------


def test_parameters_are_checked_together_before_reading():
    assert dual.Params().x == "provider_proactive" and dual.Params().controls == ()
    cases = [({"x": "a", "moderator": "a"}, "moderator"), ({"outcome": "provider_proactive"}, "outcome"),
             ({"controls": ["customer_proactive"]}, "controls"), ({"cov_type": "cluster", "cluster_col": None},
                                                                  "cov_type"),
             ({"x_cut": "median"}, "x_cut"), ({"cov_type": "HC9"}, "cov_type"), ({"margin_nps": 0}, "margin_nps")]
    for kwargs, name in cases:
        with pytest.raises(ParameterError) as info:
            dual.Params(**kwargs)
        assert str(info.value).startswith(f"parameters: {name} = ")
    assert dual.Params(cov_type="OLS").cov_type == "nonrobust" and dual.Params(controls="segment").controls == (
        "segment",)


# --- the moderation model and the 2×2: the stats modules on the same rows ------------------------------------------


def test_moderation_model_is_stats_moderation_on_the_joined_rows(course, joined):
    it = course.interaction
    d = joined.dropna(subset=["nps"])
    fit = m.fit(d["nps"], d["provider_proactive"], d["customer_proactive"], None, d["customer_id"])
    assert it.model.n == fit.n and it.n_customers == fit.n_clusters
    np.testing.assert_allclose(it.model.params, fit.params, rtol=1e-10)
    np.testing.assert_allclose(it.model.cov, fit.cov, rtol=1e-8)
    np.testing.assert_allclose(it.jn.bounds, m.johnson_neyman(fit).bounds, rtol=1e-8)
    slopes = pd.concat([m.simple_slopes(fit, "percentiles"), m.simple_slopes(fit, "sd")], ignore_index=True)
    np.testing.assert_allclose(it.slopes["estimate"], slopes["estimate"], rtol=1e-9)
    np.testing.assert_allclose(it.slopes["ci_low"], slopes["ci_low"], rtol=1e-9)
    # the 2×2 cut at the median customer
    cx, cw = (float(np.median(course.data.customers[c])) for c in ("provider_proactive", "customer_proactive"))
    assert (course.x_cut, course.w_cut) == (cx, cw)
    syn = m.synergy_2x2(d["nps"], d["provider_proactive"], d["customer_proactive"], d["customer_id"],
                        x_threshold=cx, w_threshold=cw)
    cells = it.cells.set_index("cell")
    for ours, theirs in zip(("neither", "firm", "customer", "both"), syn.cells.itertuples()):
        assert cells.loc[ours, "estimate"] == pytest.approx(theirs.estimate, rel=1e-10)
        assert cells.loc[ours, "n"] == theirs.n and cells.loc[ours, "customers"] == theirs.n_clusters
    assert it.synergy.estimate == pytest.approx(syn.synergy.estimate, rel=1e-10)
    assert it.synergy.ci_low == pytest.approx(syn.synergy.ci_low, rel=1e-10)
    nps = m.synergy_2x2(eq.nps_values(d["nps"]), d["provider_proactive"], d["customer_proactive"], d["customer_id"],
                        x_threshold=cx, w_threshold=cw)
    assert it.nps_synergy.estimate == pytest.approx(nps.synergy.estimate, rel=1e-10)


def test_promoter_outcome_is_logistic_on_both_scales(small_course_dir, joined):
    res = dual.analyze(dual.Params(survey_path=str(small_course_dir / "survey.csv"), outcome="promoter",
                                   incidents_path=None, controls=[]))
    it = res.interaction
    d = joined.dropna(subset=["nps"])
    fit = m.fit_logistic((d["nps"] >= 9).astype(int), d["provider_proactive"], d["customer_proactive"], None,
                         d["customer_id"])
    assert it.family == "logistic"
    np.testing.assert_allclose(it.model.params, fit.params, rtol=1e-6)
    pi = m.probability_interaction(fit)
    assert it.probability.estimate == pytest.approx(pi.estimate, rel=1e-5)
    assert it.odds_synergy["ratio"] > 0 and it.odds_synergy["ci_low"] < it.odds_synergy["ratio"]
    doc = json.loads(results.dumps(res.to_results()))["dual_proactivity"]
    assert doc["probability_scale"]["interaction"] == pytest.approx(pi.estimate, rel=1e-5)
    assert doc["odds_ratio"]["interaction"] == pytest.approx(math.exp(fit.interaction.estimate), rel=1e-5)
    assert res.recovery is not None          # incidents_path None: the incidents file beside the survey


# --- recovery: statuses, the paradox, double deviation ----------------------------------------------------------------


def test_statuses_follow_the_definition(tmp_path):
    day = pd.Timestamp("2025-01-01")
    incidents = pd.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E", "E"],
        "date": [day, day, day, day, day, day + pd.Timedelta(days=30)],
        "recovered": [1, 1, 1, 0, 1, 0],
        "recovery_hours": [10.0, 30.0, 10.0, np.nan, 5.0, np.nan],
        "recovery_satisfaction": [7.0, 7.0, 5.0, np.nan, 7.0, np.nan],
    })
    ids = pd.Index(["A", "B", "C", "D", "E", "F"], dtype=object)
    inc = incidents.assign(**{data_mod.CUSTOMER: ids.get_indexer(incidents["customer_id"])})
    st = recovery.classify(np.arange(6), inc, 24, 6).set_index(pd.Index(ids))
    assert st["status"].to_dict() == {"A": "recovered_well", "B": "recovered_poorly", "C": "recovered_poorly",
                                      "D": "not_recovered", "E": "not_recovered", "F": "never_failed"}
    assert st.loc["E", "second_after_good"] == day + pd.Timedelta(days=30) and pd.isna(st.loc["A",
                                                                                          "second_after_good"])
    assert st.loc["E", "n_incidents"] == 2 and st.loc["F", "n_incidents"] == 0
    looser = recovery.classify(np.arange(6), inc, 48, 5).set_index(pd.Index(ids))["status"]
    assert looser["B"] == "recovered_well" and looser["C"] == "recovered_well"


def _hand_status(world) -> pd.DataFrame:
    inc = world.incidents.sort_values(["customer_id", "date"])
    well = (inc["recovered"] == 1) & (inc["recovery_hours"] <= 24) & (inc["recovery_satisfaction"] >= 6)
    code = np.where(inc["recovered"] != 1, 3, np.where(well, 1, 2))
    per = pd.DataFrame({"customer_id": inc["customer_id"], "code": code, "date": inc["date"]})
    g = per.groupby("customer_id").agg(code=("code", "max"), first=("date", "min"))
    out = world.customers[["customer_id"]].merge(g, on="customer_id", how="left")
    out["code"] = out["code"].fillna(0).astype(int)
    out["status"] = np.array(dual.STATUSES)[out["code"]]
    return out


def test_paradox_is_compare_groups_on_responses_after_the_first_failure(course, small_world, joined):
    status = _hand_status(small_world)
    d = joined.merge(status[["customer_id", "status", "first"]], on="customer_id")
    after = (d["status"] == "never_failed") | (pd.to_datetime(d["date"]) > d["first"])
    d = d.loc[after & d["status"].isin(["recovered_well", "never_failed"])]
    group = (d["status"] == "recovered_well").astype(int)
    cmp = eq.compare_groups(d["nps"], group, d[["tenure_days", "segment"]], d["customer_id"], margin=5,
                            score="nps")
    test = course.recovery.paradox["nps"]["recovered_well"]
    for ours, theirs in ((test.adjusted, cmp.adjusted), (test.unadjusted, cmp.unadjusted)):
        assert ours.estimate == pytest.approx(theirs.estimate, rel=1e-9)
        assert ours.ci_low == pytest.approx(theirs.ci_low, rel=1e-9)
        assert ours.p_greater == pytest.approx(theirs.p_greater, rel=1e-9)
        assert ours.verdict == theirs.verdict
    counts = course.recovery.status_counts.set_index("status")["n"]
    assert counts.to_dict() == status["status"].value_counts().reindex(list(dual.STATUSES)).to_dict()
    doc = json.loads(results.dumps(course.to_results()))["recovery"]
    assert doc["paradox"]["difference"] == pytest.approx(cmp.adjusted.estimate, rel=1e-9)
    assert doc["paradox"]["p_one_sided"] == pytest.approx(cmp.adjusted.p_greater, rel=1e-9)
    assert doc["groups"]["recovered_well"]["nps"] == pytest.approx(cmp.unadjusted.value_a, rel=1e-9)


def test_mean_interval_is_the_intercept_only_regression():
    rng = np.random.default_rng(3)
    y, g = rng.normal(size=300), rng.integers(0, 60, 300)
    fit = m.ols(y, np.ones((300, 1)), m.cluster_codes(g, 300), "cluster")
    ci = recovery.mean_ci(y, g, 0.95)
    assert ci["se"] == pytest.approx(math.sqrt(fit.cov[0, 0]), rel=1e-10)
    assert ci["ci_low"] == pytest.approx(fit.params[0] - stats.t.ppf(0.975, fit.df) * ci["se"], rel=1e-10)
    assert fit.df == len(np.unique(g)) - 1
    hc2 = m.ols(y, np.ones((300, 1)), None, "HC2")
    assert recovery.mean_ci(y, None, 0.95)["se"] == pytest.approx(math.sqrt(hc2.cov[0, 0]), rel=1e-10)


# --- retention, the Cox models ---------------------------------------------------------------------------------------


def test_retention_cells_match_lifelines(course):
    from lifelines import KaplanMeierFitter
    from lifelines.utils import restricted_mean_survival_time

    ret = course.retention
    cells = ret.cells.set_index("cell")
    for cell in ("neither", "firm", "customer", "both"):
        part = ret.frame.loc[ret.frame["cell"] == cell]
        kmf = KaplanMeierFitter().fit(part["duration"], part["event"])
        assert cells.loc[cell, "retention"] == pytest.approx(float(kmf.predict(ret.horizon_days)), rel=1e-9)
        rmst_days = restricted_mean_survival_time(kmf, t=ret.horizon_days)
        assert cells.loc[cell, "rmst"] * 30.4375 == pytest.approx(rmst_days, rel=1e-6)
    signs = {"neither": 1, "firm": -1, "customer": -1, "both": 1}
    assert ret.synergy["retention"]["estimate"] == pytest.approx(sum(signs[c] * cells.loc[c, "retention"]
                                                                     for c in signs), rel=1e-12)


def test_cox_interaction_is_the_churn_analysis_model(course):
    from loyaltylab.analyses.churn.cox import fit_cox

    sd = course.retention.sd
    cols = list(course.retention.covariates)           # the design columns of x, moderator, x:moderator, controls
    assert cols == retention.design_columns(sd, ["provider_proactive", "customer_proactive",
                                                 "provider_proactive:customer_proactive", "segment", "channel"])
    sub = type(sd)(**{**sd.__dict__, "frame": sd.frame[["duration", "event", *cols]]})
    churn = fit_cox(sub, concordance=False).table.set_index("covariate")
    ours = course.retention.cox.set_index("covariate")
    np.testing.assert_allclose(ours.loc[churn.index, "coef"], churn["coef"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.loc[churn.index, "se"], churn["se"], rtol=1e-5)
    assert course.retention.cox_interaction["covariate"] == "provider_proactive:customer_proactive"


def _counting_data(seed: int, n: int = 1500):
    rng = np.random.default_rng(seed)
    T = np.ceil(rng.exponential(200, n))
    e = rng.random(n) < 0.7
    k = rng.poisson(0.8, n)
    cust = np.repeat(np.arange(n), k)
    day = np.floor(rng.random(len(cust)) * T[cust])
    iv = tvcox.status_intervals(T, e, cust, day, rng.integers(1, 4, len(cust)))
    seg = rng.integers(0, 3, n)[iv["customer"]]
    X = np.column_stack([(iv["status"] == s).astype(float) for s in (1, 2, 3)] + [(seg == 1), (seg == 2)])
    return iv, X.astype(float)


def test_counting_process_cox_matches_lifelines_time_varying():
    from lifelines import CoxTimeVaryingFitter

    iv, X = _counting_data(1)
    fit = tvcox.fit_counting(iv["start"], iv["stop"], iv["event"], X, columns=list("abcde"))
    frame = pd.DataFrame(X, columns=list("abcde")).assign(id=iv["customer"], start=iv["start"], stop=iv["stop"],
                                                          event=iv["event"].astype(int))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctv = CoxTimeVaryingFitter().fit(frame, id_col="id", start_col="start", stop_col="stop", event_col="event")
    np.testing.assert_allclose(fit.table["coef"], ctv.params_.to_numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.table["se"], ctv.standard_errors_.to_numpy(), rtol=1e-6)
    assert fit.converged and 0 < fit.n_rows <= len(iv)   # rows at risk at no event time do not count


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_counting_process_cox_from_zero_matches_r_coxph(ties):
    rng = np.random.default_rng(7)
    n = 800
    X = np.column_stack([rng.integers(0, 2, n), rng.poisson(2, n), rng.normal(size=n)]).astype(float)
    T = np.ceil(rng.exponential(100 * np.exp(-0.3 * X[:, 0] + 0.1 * X[:, 1])))
    e = rng.random(n) < 0.8
    ours = tvcox.fit_counting(np.zeros(n), T, e, X, ties=ties)
    r = sv.cox_fit(sv.cox_design(X, T, e), ties=ties)
    np.testing.assert_allclose(ours.table["coef"], r.coef.to_numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.table["se"], r.se.to_numpy(), rtol=1e-6)
    assert ours.loglik == pytest.approx(r.loglik, rel=1e-10)


def test_status_intervals_by_hand():
    iv = tvcox.status_intervals([10, 5, 8], [True, False, True], [0, 0, 1, 2, 2], [3, 7, 9, 0, 0], [1, 3, 2, 1, 2])
    expected = [(0, 0, 3, False, 0), (0, 3, 7, False, 1), (0, 7, 10, True, 3),   # changes at 3 and 7
                (1, 0, 5, False, 0),                                            # change after follow-up ignored
                (2, 0, 8, True, 2)]                                             # two changes on day 0: the last
    got = [(r.customer, r.start, r.stop, bool(r.event), r.status) for r in iv.itertuples()]
    assert got == expected


# --- privacy, results.json, single files --------------------------------------------------------------------------


def test_small_cells_are_hidden_with_their_counts(small_course_dir):
    res = dual.analyze(dual.Params(survey_path=str(small_course_dir / "survey.csv"), x_cut=8, min_cell=10))
    cells = res.interaction.cells.set_index("cell")
    assert cells.loc["firm", "suppressed"] and pd.isna(cells.loc["firm", "n"]) and pd.isna(
        cells.loc["firm", "customers"]) and pd.isna(cells.loc["firm", "estimate"])
    assert res.interaction.synergy is None
    assert any("cannot be tested" in line for line in dual.describe_synergy(res))
    doc = json.loads(results.dumps(res.to_results()))
    node = doc["dual_proactivity"]["cells"]["firm"]
    assert node["suppressed"] and node["n"] is None and node["mean"] is None and node["customers"] is None
    assert doc["dual_proactivity"]["synergy"] is None
    hidden = res.retention.cells.set_index("cell").loc["firm"]
    assert hidden["suppressed"] and pd.isna(hidden["n"]) and pd.isna(hidden["events"])
    assert "firm" not in res.retention.curves
    assert res.interaction.surface.mask.any()


def test_results_json_has_the_issue_keys(course):
    doc = json.loads(results.dumps(course.to_results()))
    d = doc["dual_proactivity"]
    assert {"outcome", "interaction", "ci_low", "ci_high", "p_value", "jn_low", "jn_high", "synergy",
            "synergy_ci_low", "synergy_ci_high", "cells", "simple_slopes"} <= set(d)
    assert set(d["cells"]) == {"neither", "firm", "customer", "both"}
    assert all({"mean", "ci_low", "ci_high", "n"} <= set(c) for c in d["cells"].values())
    assert all({"at", "slope", "ci_low", "ci_high"} <= set(s) for s in d["simple_slopes"])
    assert d["interaction"] == pytest.approx(course.interaction.interaction.estimate)
    r = doc["recovery"]
    assert {"groups", "paradox", "churn_hazard_ratios"} <= set(r)
    assert set(r["groups"]) == set(dual.STATUSES)
    assert all({"n", "nps", "ci_low", "ci_high"} <= set(g) for g in r["groups"].values())
    assert {"difference", "ci_low", "ci_high", "p_one_sided", "equivalent"} <= set(r["paradox"])
    assert set(r["churn_hazard_ratios"]) == set(dual.STATUSES) and r["churn_hazard_ratios"]["never_failed"] == 1
    assert -100 <= r["groups"]["never_failed"]["nps"] <= 100 and doc["analysis"] == "dual_proactivity"


def test_a_single_user_file_runs_with_the_other_sections_skipped():
    """R's state.x77 (tests/fixtures/moderation/states.csv): Income ~ Illiteracy × Murder + HS Grad with classical
    errors reproduces the interactions vignette's Johnson–Neyman interval; no customers or incidents file."""
    res = dual.analyze(dual.Params(survey_path=str(STATES), x="illiteracy", moderator="murder", outcome="income",
                                   controls=["hs_grad"], cluster_col=None, customers_path=None, incidents_path=None,
                                   cov_type="nonrobust"))
    np.testing.assert_allclose(res.interaction.jn.bounds, R_STATES_JN, rtol=1e-8)
    assert res.interaction.jn.in_range == (False, True)
    assert set(res.skipped) == {"retention", "recovery"} and res.claims is None and res.truth is None
    doc = json.loads(results.dumps(res.to_results()))
    assert doc["dual_proactivity"]["jn_low"] == pytest.approx(R_STATES_JN[0], rel=1e-8)
    assert doc["dual_proactivity"]["jn_high"] == pytest.approx(R_STATES_JN[1], rel=1e-8)
    assert doc["recovery"]["groups"] == {} and doc["recovery"]["paradox"] is None
    text = " ".join(res.key_findings() + dual.describe_synergy(res))
    assert "1+1>2" not in text and "firm" not in text and "'illiteracy'" in text     # neutral wording


def test_truth_keys_are_read_when_present(course):
    """The keys data/README.md documents, read from truth.json when present — injected here with known values."""
    truth = json.loads(json.dumps(course.data.truth))
    it, test = course.interaction, course.recovery.paradox["nps"]["recovered_well"]
    truth["dual_proactivity"]["nps_scale"] = {"interaction": it.interaction.estimate, "synergy": 99.0,
                                              "cells": {"both": 1.0}, "cuts": {"provider": -1, "customer": -1}}
    truth["recovery_paradox"]["after_first_incident"] = {"nps": {"never_failed": 0.0, "recovered_well": 0.0},
                                                         "difference": test.unadjusted.estimate,
                                                         "effect": test.adjusted.estimate}
    truth["churn"]["pseudo_true_coefficients"] = dict(zip(course.retention.cox["covariate"],
                                                          course.retention.cox["coef"]))
    truth["churn"]["hazard_ratios"] = {"failure_status": {"recovered_well": 1.0, "other_failure": 1.0}}
    data = type(course.data)(**{**course.data.__dict__, "truth": truth})
    table = truth_mod.compare_with_truth(type(course)(**{**course.__dict__, "data": data})).set_index("quantity")
    assert table.loc["interaction", "covered"]
    assert table.loc["paradox difference (unadjusted)", "covered"] and table.loc["paradox difference (adjusted)",
                                                                                 "covered"]
    assert table.loc["Cox β provider_proactive:customer_proactive", "covered"]
    assert pd.isna(table.loc["2×2 synergy", "true"]) and "cuts differ" in table.loc["2×2 synergy", "note"]
    assert table.loc["churn hazard ratio, not recovered", "true"] == 1.0        # other failure = poorly ∪ not
    assert pd.isna(table.loc["interaction (latent loyalty)", "covered"])       # never compared across scales
    with_controls = dual.Params(controls=["segment"])
    res = type(course)(**{**course.__dict__, "data": data, "params": with_controls})
    row = truth_mod.compare_with_truth(res).set_index("quantity").loc["interaction"]
    assert pd.isna(row["true"]) and "without controls" in row["note"]        # a different model: not compared


# --- the course world's truth, over seeds (like with like) -------------------------------------------------------------


def _world_data(world, params) -> data_mod.DualData:
    s = world.survey.set_index(pd.RangeIndex(len(world.survey)))
    return data_mod.assemble(params, s, world.customers, world.incidents, cluster=s["customer_id"],
                             truth=world.truth, sources={"survey": "survey", "customers": "customers",
                                                         "incidents": "incidents"})


def _covered(est, truth) -> bool:
    return est.ci_low <= truth <= est.ci_high


def _expected_score(loyalty: np.ndarray) -> np.ndarray:
    """E[clip(round(7.55 + 1.3·L + e), 0, 10)], e ~ N(0, 1): the course's NPS model, exactly."""
    model = synth.NPS_MODEL
    mu = model["intercept"] + model["slope"] * loyalty
    cuts = np.arange(0.5, 10.0)                      # score ≥ k ⇔ mu + e ≥ k − 0.5, k = 1..10
    return stats.norm.sf((cuts[None, :] - mu[:, None]) / model["noise_sd"]).sum(axis=1)


def _pseudo_true_score_interaction() -> float:
    """The population interaction on the 0–10 score when truth.json does not record it: the OLS of the exact
    E[score | L] on 1 + f + c + f·c over the responses of a 300,000-customer world."""
    big = synth.generate(n_customers=300_000, seed=20260630)
    pos = big.survey["customer_id"].map(pd.Series(np.arange(len(big.customers)),
                                                  index=big.customers["customer_id"])).to_numpy()
    cust = big.customers.iloc[pos]
    fit = m.fit(_expected_score(big.latent["loyalty"].to_numpy()[pos]), cust["provider_proactive"].to_numpy(),
                cust["customer_proactive"].to_numpy(), None, big.survey["customer_id"])
    return fit.interaction.estimate


@pytest.mark.slow
def test_interaction_coverage_on_the_latent_and_the_score_scales():
    """Latent scale: an outcome equal to each customer's loyalty without failures (L0, the scale of truth.json's
    dual_proactivity.loyalty.interaction = γ_fc). Score scale: the 0–10 score is clipped, so its interaction is
    truth.json's dual_proactivity.nps_scale.interaction (the population OLS), not 1.3·γ_fc."""
    probe = synth.generate(n_customers=500, seed=1)
    recorded = (probe.truth["dual_proactivity"].get("nps_scale") or {}).get("interaction")
    score_truth = recorded if recorded is not None else _pseudo_true_score_interaction()
    gamma = probe.truth["dual_proactivity"]["loyalty"]["interaction"]
    seeds = range(100, 130)
    hits_latent = hits_score = 0
    for seed in seeds:
        world = synth.generate(n_customers=2500, seed=seed)
        lat = world.latent
        base = (lat["loyalty_base"] if "loyalty_base" in lat else
                lat["loyalty"] - lat["status"].map(synth.RECOVERY_EFFECT).astype(float)).to_numpy()
        pos = world.survey["customer_id"].map(pd.Series(np.arange(len(world.customers)),
                                                        index=world.customers["customer_id"])).to_numpy()
        world.survey["latent"] = base[pos]
        for outcome in ("latent", "nps"):
            p = dual.Params(outcome=outcome, incidents_path=None)
            it = interaction_mod.fit_interaction(_world_data(world, p).responses, p, 2.0, 2.0)
            if outcome == "latent":
                hits_latent += _covered(it.interaction, gamma)
            else:
                hits_score += _covered(it.interaction, score_truth)
    n = len(seeds)
    assert abs(score_truth - 1.3 * gamma) > 0.01      # the clipped score is not 1.3 × the latent interaction
    assert hits_latent >= n - 5 and hits_score >= n - 5, (hits_latent, hits_score)


@pytest.mark.slow
def test_paradox_and_churn_by_status_coverage_over_seeds():
    """The unadjusted paradox difference against truth.json's recovery_paradox.after_first_incident.difference
    (NPS points; older truth files: the difference of recovery_paradox.nps), and the time-varying hazard ratios
    against churn.hazard_ratios.failure_status (a world whose churn does not depend on failures, generator 1.x: 1).
    The status fixed at the snapshot is biased downwards, below the time-varying estimate."""
    seeds = range(200, 220)
    hits_diff = hits_hr = total_hr = fixed_lower = 0
    for seed in seeds:
        world = synth.generate(n_customers=3000, seed=seed)
        p = dual.Params()
        res = dual.run(_world_data(world, p), p)
        rp, version = world.truth["recovery_paradox"], int(str(world.truth["generator_version"]).split(".")[0])
        diff = (rp.get("after_first_incident") or {}).get("difference")
        if diff is None:
            diff = rp["nps"]["recovered_well"] - rp["nps"]["never_failed"]
        hits_diff += _covered(res.recovery.paradox["nps"]["recovered_well"].unadjusted, diff)
        recorded = (world.truth["churn"].get("hazard_ratios") or {}).get("failure_status")
        hz = res.recovery.hazard
        for r in hz.table.itertuples():
            if r.status == "never_failed" or r.suppressed or (recorded is None and version >= 2):
                continue
            true = 1.0 if recorded is None else recorded.get(r.status, recorded.get("other_failure"))
            total_hr += 1
            hits_hr += r.ci_low <= true <= r.ci_high
        fixed = hz.fixed.set_index("status")
        fixed_lower += bool(fixed.loc["not_recovered", "hazard_ratio"] < hz.table.set_index("status").loc[
            "not_recovered", "hazard_ratio"])
    assert hits_diff >= len(seeds) - 4, hits_diff
    assert total_hr == 0 or hits_hr >= total_hr * 0.85, (hits_hr, total_hr)
    assert fixed_lower >= len(seeds) - 2


def test_course_result_compares_only_like_with_like(course):
    t = course.truth.set_index("quantity")
    assert t.loc["paradox difference (unadjusted)", "covered"] in (True, False)
    assert t.loc["paradox difference (unadjusted)", "true"] is not None
    assert "latent" in t.loc["interaction (latent loyalty)", "note"]
    assert pd.isna(t.loc["interaction (latent loyalty)", "estimate"])
    covered = t["covered"].dropna()
    assert len(covered) >= 3 and covered.mean() >= 0.6


def test_filters_select_customers_and_their_responses(small_course_dir, small_world):
    res = dual.analyze(dual.Params(survey_path=str(small_course_dir / "survey.csv"), filters={"region": "North"}))
    north = set(small_world.customers.loc[small_world.customers["region"] == "North", "customer_id"])
    assert res.data.n_customers == len(north) and res.truth is None          # no population truth for a part
    ids = res.data.customer_ids[res.data.responses[data_mod.CUSTOMER].to_numpy()]
    assert set(ids) <= north and len(res.data.responses) == small_world.survey["customer_id"].isin(north).sum()
    assert set(res.data.incidents["customer_id"]) <= north
    assert res.to_results()["filters"] == {"region": "North"}


def test_explorer_builds(course):
    pytest.importorskip("ipywidgets")
    box = dual.explorer(course)
    assert box.children and "slope" in dual.explorer_slope_line(course, 2.0)
    assert "synergy" in dual.explorer_cut_line(course, 2.0, 2.0).lower()
