"""The service-quality analysis (issue 11): statistics against scipy / formulas / lavaan, the wiring of the shared
reliability and factor statistics, results.json's contract keys, user-shaped instruments and the course truth."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyaltylab import measures, results, synth
from loyaltylab.analyses import servqual
from loyaltylab.analyses.servqual import gaps, groups, instrument, priorities
from loyaltylab.constants import DIMENSIONS
from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats import clustered, factor
from loyaltylab.stats import reliability as rel
from loyaltylab.stats.multiplicity import adjust_pvalues

HS = "tests/fixtures/holzinger_swineford1939.csv"
HS_DIMENSIONS = {"visual": [1, 2, 3], "textual": [4, 5, 6], "speed": [7, 8, 9]}
E_ITEMS = [f"E{i}" for i in range(1, 23)]
P_ITEMS = [f"P{i}" for i in range(1, 23)]
ISSUE_DIMENSION_KEYS = {"expectation", "perception", "gap", "ci_low", "ci_high", "p_value", "p_adjusted",
                        "alpha_perception", "alpha_expectation", "alpha_gap", "n_items"}
ISSUE_ITEM_KEYS = {"dimension", "expectation", "perception", "gap", "ci_low", "ci_high", "t", "p_value", "p_adjusted",
                   "wilcoxon_p", "cohens_dz"}
ISSUE_CFA_KEYS = {"chisq", "df", "p_value", "cfi", "tli", "rmsea", "rmsea_ci_low", "rmsea_ci_high", "srmr", "loadings"}


@pytest.fixture(scope="module")
def course(small_course_dir):
    """The analysis on the small course world (the course's own instrument, truth.json beside it)."""
    p = servqual.Params(survey_path=str(small_course_dir / "survey.csv"), n_bootstrap=100)
    return servqual.analyze(p)


@pytest.fixture(scope="module")
def course_doc(course):
    return json.loads(results.dumps(course.to_results()))


@pytest.fixture(scope="module")
def survey(small_course_dir) -> pd.DataFrame:
    return pd.read_csv(small_course_dir / "survey.csv", dtype={"customer_id": str, "response_id": str})


# --- parameters --------------------------------------------------------------------------------------------------


def test_defaults_and_the_pzb_map():
    p = servqual.Params()
    assert p.dimensions == {d: tuple(spec["items"]) for d, spec in DIMENSIONS.items()}
    assert p.scale == (1, 7) and p.expectation_prefix == "E" and p.perception_prefix == "P"
    assert servqual.Params(dimensions={"a": ["rel1", 2.0]}).dimensions == {"a": ("rel1", 2)}
    assert servqual.Params(scale=None).scale is None and servqual.Params(expectation_prefix="").expectation_prefix is None


@pytest.mark.parametrize("kwargs, name", [
    ({"expectation_prefix": "P"}, "expectation_prefix"),
    ({"importance_columns": {"nope": "x"}}, "importance_columns"),
    ({"dimensions": {"a": [1, 2], "b": [2, 3]}}, "dimensions"),
    ({"scale": [7, 1]}, "scale"),
    ({"perception_prefix": ""}, "perception_prefix"),
])
def test_bad_parameters_are_one_line(kwargs, name):
    with pytest.raises(ParameterError) as info:
        servqual.Params(**kwargs)
    assert str(info.value).startswith(f"parameters: {name} = ") and "\n" not in str(info.value)


# --- the statistics: against scipy and the formulas ---------------------------------------------------------------


@pytest.mark.parametrize("n", [20, 40, 50, 51, 400, 5000])
def test_paired_t_and_wilcoxon_equal_scipy(n):
    rng = np.random.default_rng(n)
    e = rng.integers(1, 8, (n, 3)).astype(float)
    p = np.clip(e + rng.integers(-3, 3, (n, 3)), 1, 7)
    p[0, 0] = np.nan  # a skipped answer: that pair is left out
    t = gaps.paired(p, e)
    for j in range(3):
        ok = np.isfinite(p[:, j])
        ref = stats.ttest_rel(p[ok, j], e[ok, j])
        w = stats.wilcoxon(p[ok, j] - e[ok, j], zero_method="wilcox")
        d = p[ok, j] - e[ok, j]
        assert t.loc[j, "t"] == pytest.approx(ref.statistic, rel=1e-10)
        assert t.loc[j, "p_value"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
        assert t.loc[j, "wilcoxon_stat"] == pytest.approx(w.statistic)
        assert t.loc[j, "wilcoxon_p"] == pytest.approx(w.pvalue, rel=1e-8, abs=1e-300)
        assert t.loc[j, "cohens_dz"] == pytest.approx(d.mean() / d.std(ddof=1))
        ci = stats.t.interval(0.95, ok.sum() - 1, loc=d.mean(), scale=stats.sem(d))
        assert (t.loc[j, "ci_low"], t.loc[j, "ci_high"]) == pytest.approx(ci)
        assert t.loc[j, "expectation"] == pytest.approx(e[ok, j].mean())


def test_signed_rank_on_means_and_continuous_values_equals_scipy():
    rng = np.random.default_rng(3)
    for k in (3, 4, 5):  # dimension gaps: means of k whole-number gaps (counted on a grid, not sorted)
        x = rng.integers(-3, 3, (3000, k)).mean(axis=1)
        ref = stats.wilcoxon(x)
        assert gaps.signed_rank(x) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-9)
    x = rng.normal(0.05, 1, 2000)
    ref = stats.wilcoxon(x)
    assert gaps.signed_rank(x) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-9)
    assert math.isnan(gaps.signed_rank(np.zeros(100))[1])


def test_clustered_standard_error_is_the_shared_design_effect():
    rng = np.random.default_rng(5)
    clusters = rng.integers(0, 300, 1000)
    x = rng.normal(size=1000) + rng.normal(size=300)[clusters]
    s = gaps.column_stats(x, gaps.membership(clusters, 1000)).iloc[0]
    deff = clustered.deff_from_sums(clustered.value_cluster_sums(x, np.zeros(1000, int), 1, clusters))[0]
    assert s["deff"] == pytest.approx(deff) and deff > 1.2
    assert s["se"] == pytest.approx(x.std(ddof=1) / math.sqrt(1000) * math.sqrt(deff))
    assert s["df"] == len(np.unique(clusters)) - 1


def test_group_sums_equal_value_cluster_sums():
    rng = np.random.default_rng(6)
    keys, clusters = rng.integers(0, 4, 2000), rng.integers(0, 500, 2000)
    x = rng.normal(size=(2000, 2))
    x[::7, 1] = np.nan
    for j, t in enumerate(groups.cluster_sums(x, keys, 4, clusters)):
        ok = np.isfinite(x[:, j])
        ref = clustered.value_cluster_sums(x[ok, j], keys[ok], 4, clusters[ok])
        for key in clustered.SUM_KEYS:
            np.testing.assert_allclose(t[key], ref[key])


def test_gap_scores_are_respondent_means_of_item_gaps():
    f = pd.DataFrame({"P1": [5, 4, np.nan], "P2": [3, np.nan, np.nan], "E1": [6, 6, 2], "E2": [5, 1, 3]})
    g = measures.gap_scores(f, {"d": [1, 2]})
    assert g["d"].tolist()[:2] == [-1.5, -2.0] and math.isnan(g["d"].iloc[2])
    assert measures.dimension_items("d", "P_", {"d": ["rel1", "rel2"]}) == ["P_rel1", "P_rel2"]


# --- the analysis on the course data --------------------------------------------------------------------------------


def test_results_json_has_the_issue_keys(course_doc):
    doc = course_doc
    assert doc["analysis"] == "servqual" and doc["mode"] == "servqual" and isinstance(doc["n"], int)
    assert set(doc["dimensions"]) == set(instrument.PZB_DIMENSIONS)
    for entry in doc["dimensions"].values():
        assert ISSUE_DIMENSION_KEYS <= set(entry)
    assert set(doc["items"]) == {str(i) for i in range(1, 23)}
    for entry in doc["items"].values():
        assert ISSUE_ITEM_KEYS <= set(entry)
    assert {"gap", "ci_low", "ci_high", "weighted_gap"} <= set(doc["overall"])
    assert ISSUE_CFA_KEYS <= set(doc["cfa"]) and set(doc["cfa"]["loadings"]) == set(doc["items"])
    assert doc["cfa"]["rmsea_confidence"] == 0.9
    assert {"n_factors", "kmo"} <= set(doc["efa"])
    for entry in doc["ipa"].values():
        assert {"importance", "performance", "quadrant"} <= set(entry)
        assert entry["quadrant"] in priorities.QUADRANT_ORDER
    assert {"outcome", "r2_servperf", "r2_servqual"} <= set(doc["servperf_vs_servqual"])
    assert doc["servperf_vs_servqual"]["outcome"] == "satisfaction"


def test_gaps_agree_with_a_direct_computation(course, survey):
    d = course.dimensions.set_index("dimension")
    g = measures.gap_scores(survey, instrument.PZB_DIMENSIONS)
    for dim in instrument.PZB_DIMENSIONS:
        assert d.loc[dim, "gap"] == pytest.approx(g[dim].mean())
        assert d.loc[dim, "gap"] == pytest.approx(d.loc[dim, "perception"] - d.loc[dim, "expectation"])
    items = course.items.set_index("item")
    assert items.loc["5", "gap"] == pytest.approx((survey["P5"] - survey["E5"]).mean())
    assert course.overall["estimate"].iloc[0] == pytest.approx(g.mean(axis=1).mean())
    assert items["p_adjusted"].tolist() == pytest.approx(list(adjust_pvalues(items["p_value"], "holm")[0]))
    ranking = course.ranking()
    assert ranking["dimension"].iloc[0] == d["gap"].idxmin() == "reliability"


def test_weighted_score_uses_normalised_points(course, survey):
    cols = [f"importance_{d}" for d in instrument.PZB_DIMENSIONS]
    pts = survey[cols].to_numpy(float)
    ok = np.isfinite(pts).all(axis=1)
    g = measures.gap_scores(survey, instrument.PZB_DIMENSIONS).to_numpy()
    w = pts[ok] / pts[ok].sum(axis=1, keepdims=True)
    assert course.overall["weighted"].iloc[0] == pytest.approx((w * g[ok]).sum(axis=1).mean())
    assert -7 < course.overall["weighted"].iloc[0] < 0  # not 100× the gap


def test_without_clusters_the_item_tests_are_scipy(small_course_dir, survey):
    r = servqual.analyze(servqual.Params(survey_path=str(small_course_dir / "survey.csv"), cluster_col=None,
                                         segment_cols=[], n_bootstrap=0))
    row = r.items.set_index("item").loc["11"]
    ref = stats.ttest_rel(survey["P11"], survey["E11"])
    assert row["t"] == pytest.approx(ref.statistic) and row["p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
    assert row["wilcoxon_p"] == pytest.approx(stats.wilcoxon(survey["P11"] - survey["E11"]).pvalue, rel=1e-9)
    assert r.people is None and r.cluster_col is None


def test_reliability_is_wired_to_the_shared_statistics(course, survey):
    a = course.reliability.alphas.set_index(["dimension", "set"])
    p_cols, e_cols = [f"P{i}" for i in range(5, 10)], [f"E{i}" for i in range(5, 10)]
    ref = rel.alpha_from_frame(survey, p_cols)
    assert a.loc[("reliability", "perception"), "alpha"] == pytest.approx(ref.alpha)
    assert a.loc[("reliability", "perception"), "ci_low"] == pytest.approx(ref.ci_low)
    gaps_frame = pd.DataFrame(survey[p_cols].to_numpy() - survey[e_cols].to_numpy())
    assert a.loc[("reliability", "gap"), "alpha"] == pytest.approx(rel.alpha_from_frame(gaps_frame).alpha)
    k = 5  # Cronbach's formula on the expectation items
    c = survey[e_cols].cov().to_numpy()
    assert a.loc[("reliability", "expectation"), "alpha"] == pytest.approx(k / (k - 1) * (1 - np.trace(c) / c.sum()))
    g = course.reliability.gap_scores.set_index("dimension").loc["reliability"]
    assert g["reliability"] == pytest.approx(rel.gap_reliability_from_frame(survey, p_cols, e_cols).reliability)
    items = course.reliability.items
    assert set(items["item"]) == {str(i) for i in range(1, 23)}
    assert a.loc[("empathy", "perception"), "omega"] > 0.5


def test_structure_is_wired_to_the_shared_statistics(course, survey):
    s = course.structure
    model = {d: [f"P{i}" for i in items] for d, items in instrument.PZB_DIMENSIONS.items()}
    ref = factor.cfa(model, survey[P_ITEMS])
    assert s.cfa.fit.chi2 == pytest.approx(ref.fit.chi2, rel=1e-6) and s.cfa.fit.df == ref.fit.df == 199
    assert s.cfa.fit.confidence == 0.9
    assert s.kmo.overall == pytest.approx(factor.kmo(survey[P_ITEMS].cov()).overall)
    assert s.n_factors == 5 and s.efa.loadings.shape == (22, 5)
    inv, used, note = course.invariance["segment"]
    assert note is None and len(used) >= 2 and list(inv.fits.index) == ["configural", "metric"]


def test_servperf_vs_servqual_r2_is_ols(course, survey):
    import statsmodels.api as sm

    p = measures.dimension_scores(survey, instrument.PZB_DIMENSIONS)
    g = measures.gap_scores(survey, instrument.PZB_DIMENSIONS)
    row = course.servperf.set_index("outcome").loc["satisfaction"]
    assert row["r2_servperf"] == pytest.approx(sm.OLS(survey["satisfaction"], sm.add_constant(p)).fit().rsquared)
    assert row["r2_servqual"] == pytest.approx(sm.OLS(survey["satisfaction"], sm.add_constant(g)).fit().rsquared)


def test_ipa_importance_is_the_lmg_share(course, survey):
    from loyaltylab.stats.importance import relative_importance

    p = measures.dimension_scores(survey, instrument.PZB_DIMENSIONS)
    frame = p.assign(satisfaction=survey["satisfaction"])
    ref = relative_importance(frame, "satisfaction", list(p.columns)).table.set_index("driver")
    t = course.ipa.table.set_index("dimension")
    assert course.ipa.source == "derived" and course.ipa.derived_method == "lmg"
    assert t["importance"].to_numpy() == pytest.approx(ref.loc[t.index, "lmg_share"].to_numpy())
    assert t["performance"].to_numpy() == pytest.approx(p.mean().loc[t.index].to_numpy())
    hi_i, hi_p = t["importance"] >= t["importance"].mean(), t["performance"] >= t["performance"].mean()
    assert list(t["quadrant"]) == [priorities.QUADRANTS[(a, b)] for a, b in zip(hi_i, hi_p)]
    assert t["stability"].between(0, 1).all()
    stated = survey[[f"importance_{d}" for d in t.index]].dropna()
    assert t["importance_stated"].to_numpy() == pytest.approx(
        (stated.to_numpy() / stated.to_numpy().sum(axis=1, keepdims=True)).mean(axis=0))


def test_bootstrap_normal_limit_matches_resampling(monkeypatch):
    """Above NORMAL_LIMIT_CLUSTERS the replicate sums come from their normal limit: same spread as resampling."""
    rng = np.random.default_rng(8)
    clusters = rng.integers(0, 30_000, 60_000)
    x = np.column_stack([rng.normal(5, 1, 60_000), rng.normal(0, 2, 60_000)]) + rng.normal(size=(30_000, 1))[clusters]
    monkeypatch.setattr(priorities, "NORMAL_LIMIT_CLUSTERS", 10**9)
    resampled = priorities._replicates(x, None, clusters, 400, 1)
    monkeypatch.setattr(priorities, "NORMAL_LIMIT_CLUSTERS", 1)
    monkeypatch.setattr(priorities, "COV_SAMPLE_CLUSTERS", 10_000)
    normal = priorities._replicates(x, None, clusters, 400, 1)
    spread = [(s[:, 1:3] / s[:, :1]).std(axis=0) for s in (resampled, normal)]
    assert spread[1] == pytest.approx(spread[0], rel=0.15)
    assert (normal[:, 1:3] / normal[:, :1]).mean(axis=0) == pytest.approx(x.mean(axis=0), abs=0.003)
    assert priorities._point_sums(x, None) == pytest.approx(priorities._features(x, None).sum(axis=0))


def test_segments_are_suppressed_and_holm_adjusted(course):
    t = course.segments["segment"]
    assert set(t["measure"]) == {"overall", *instrument.PZB_DIMENSIONS}
    visible = t[~t["suppressed"]]
    assert visible["n"].notna().all() and (visible["ci_low"] < visible["estimate"]).all()
    scores = course.scores.assign(segment=course.data.frame.loc[course.scores.index, "segment"])
    basic = t[(t["value"] == "Basic") & (t["measure"] == "reliability")].iloc[0]
    assert basic["estimate"] == pytest.approx(scores.loc[scores["segment"] == "Basic", "reliability"].mean())


def test_tiny_segments_show_no_numbers(small_course_dir, survey, tmp_path):
    s = survey.copy()
    s["wave"] = np.where(np.arange(len(s)) < 3, "pilot", "main")
    s.loc[:2, "customer_id"] = s.loc[0, "customer_id"]
    s.to_csv(tmp_path / "survey.csv", index=False)
    r = servqual.analyze(servqual.Params(survey_path=str(tmp_path / "survey.csv"), segment_cols=["wave"],
                                         n_bootstrap=0))
    pilot = r.segments["wave"][r.segments["wave"]["value"] == "pilot"]
    assert pilot["suppressed"].all() and pilot["n"].isna().all() and pilot["estimate"].isna().all()
    doc = json.loads(results.dumps(r.to_results()))
    assert all(row["n"] is None for row in doc["by_segment"]["wave"] if row["suppressed"])
    assert doc["invariance"]["wave"]["groups"] == [] or "pilot" not in doc["invariance"]["wave"]["groups"]


def test_truth_coverage_and_strategies_on_the_course_data(course):
    t = course.truth
    assert set(t["scope"]) == {"overall", "dimension", "item"} and len(t) == 28
    assert t["covered"].mean() >= 0.8
    assert course.strategies["dimension"].iloc[0] == "reliability"
    assert course.strategies["strategy"].iloc[0] == "standardised processes"


def test_no_truth_with_filters_or_another_instrument(small_course_dir):
    p = servqual.Params(survey_path=str(small_course_dir / "survey.csv"), filters={"language": "zh"}, n_bootstrap=0,
                        segment_cols=[])
    r = servqual.analyze(p)
    assert r.truth is None and r.course and r.strategies is not None  # still the course data: its strategies


# --- user-shaped instruments -------------------------------------------------------------------------------------


def test_perception_only_file_is_servperf(survey, tmp_path):
    survey.drop(columns=E_ITEMS).to_csv(tmp_path / "survey.csv", index=False)
    r = servqual.analyze(servqual.Params(survey_path=str(tmp_path / "survey.csv"), segment_cols=[], n_bootstrap=0))
    assert r.mode == "servperf" and any("SERVPERF" in n for n in r.notes)
    doc = json.loads(results.dumps(r.to_results()))
    for entry in doc["dimensions"].values():
        assert entry["expectation"] is None and entry["gap"] is None and entry["alpha_gap"] is None
        assert entry["perception"] is not None and entry["alpha_perception"] > 0.5
    for entry in doc["items"].values():
        assert entry["gap"] is None and entry["expectation"] is None and entry["t"] is None
    assert doc["overall"]["gap"] is None and doc["overall"]["weighted_gap"] is None
    assert doc["servperf_vs_servqual"]["r2_servqual"] is None and doc["servperf_vs_servqual"]["r2_servperf"] > 0
    assert doc["cfa"]["df"] == 199 and doc["truth"] is None and doc["strategies"] is None and not r.course


def _own_names(survey: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The course items on a 1–5 scale, once with their own names (E_rel1 / P_rel1 …) and once canonical."""
    short = {"tangibles": "tan", "reliability": "rel", "responsiveness": "res", "assurance": "ass", "empathy": "emp"}
    dims, renames = {}, {}
    for d, items in instrument.PZB_DIMENSIONS.items():
        dims[d] = [f"{short[d]}{k + 1}" for k in range(len(items))]
        for k, i in enumerate(items):
            renames[f"E{i}"], renames[f"P{i}"] = f"E_{short[d]}{k + 1}", f"P_{short[d]}{k + 1}"
    five = survey[["customer_id", "satisfaction", *E_ITEMS, *P_ITEMS]].copy()
    five[E_ITEMS + P_ITEMS] = np.round((five[E_ITEMS + P_ITEMS] - 1) * 4 / 6 + 1).astype(int)
    return five.rename(columns=renames), five, dims


def test_own_item_names_and_a_five_point_scale_give_the_canonical_results(survey, tmp_path):
    own, canonical, dims = _own_names(survey)
    own.to_csv(tmp_path / "own.csv", index=False)
    (tmp_path / "canon").mkdir()
    canonical.to_csv(tmp_path / "canon" / "survey.csv", index=False)
    common = {"scale": [1, 5], "segment_cols": [], "n_bootstrap": 0}
    a = servqual.analyze(servqual.Params(survey_path=str(tmp_path / "own.csv"), dimensions=dims,
                                         expectation_prefix="E_", perception_prefix="P_", **common))
    b = servqual.analyze(servqual.Params(survey_path=str(tmp_path / "canon" / "survey.csv"), **common))
    assert a.mode == "servqual" and list(a.items["item"])[:2] == ["tan1", "tan2"]
    np.testing.assert_allclose(a.dimensions["gap"], b.dimensions["gap"])
    np.testing.assert_allclose(a.items["p_value"], b.items["p_value"])
    assert a.structure.cfa.fit.chi2 == pytest.approx(b.structure.cfa.fit.chi2, rel=1e-8)
    assert a.reliability.alphas["alpha"].to_numpy() == pytest.approx(b.reliability.alphas["alpha"].to_numpy())
    doc = json.loads(results.dumps(a.to_results()))
    assert set(doc["items"]) == {i for items in dims.values() for i in items}
    assert doc["items"]["rel1"]["perception_col"] == "P_rel1" and doc["items"]["rel1"]["expectation_col"] == "E_rel1"


def test_answers_off_the_scale_are_a_data_error(survey, tmp_path):
    own, _, dims = _own_names(survey)
    own.loc[4, "P_rel2"] = 6
    own.to_csv(tmp_path / "own.csv", index=False)
    with pytest.raises(DataError) as info:
        servqual.analyze(servqual.Params(survey_path=str(tmp_path / "own.csv"), dimensions=dims, scale=[1, 5],
                                         expectation_prefix="E_", perception_prefix="P_"))
    assert "P_rel2" in str(info.value) and "between 1 and 5" in str(info.value) and "row 6" in str(info.value)


def test_ids_and_items_only_work_with_the_defaults(survey, tmp_path):
    survey[["customer_id", *E_ITEMS, *P_ITEMS]].to_csv(tmp_path / "items.csv", index=False)
    r = servqual.analyze(servqual.Params(survey_path=str(tmp_path / "items.csv"), n_bootstrap=0))
    text = " ".join(r.notes)
    for missing in ("'date'", "segment", "region", "satisfaction", "importance_tangibles"):
        assert missing in text
    assert r.mode == "servqual" and r.people is not None and r.ipa is None and r.servperf is None
    assert r.segments == {} and r.trend is None and r.truth is None and r.structure.cfa is not None
    assert servqual.describe_ipa(r) and servqual.describe_servperf(r)


def test_no_perception_items_is_the_one_error(survey, tmp_path):
    survey[["customer_id", *E_ITEMS]].to_csv(tmp_path / "e.csv", index=False)
    with pytest.raises(DataError) as info:
        servqual.analyze(servqual.Params(survey_path=str(tmp_path / "e.csv")))
    assert "no dimension has all its perception items" in str(info.value)


def test_zone_of_tolerance(survey, tmp_path):
    s = survey[["customer_id", *P_ITEMS]].copy()
    for i in range(1, 23):
        s[f"A{i}"] = np.clip(survey[f"E{i}"] - 1, 1, 7)
        s[f"D{i}"] = np.clip(survey[f"E{i}"] + 0, 1, 7)
    s.to_csv(tmp_path / "zone.csv", index=False)
    r = servqual.analyze(servqual.Params(survey_path=str(tmp_path / "zone.csv"), expectation_prefix=None,
                                         adequate_prefix="A", desired_prefix="D", n_bootstrap=0))
    z = r.zone.set_index("dimension")
    p = measures.dimension_scores(s, instrument.PZB_DIMENSIONS)
    a = measures.dimension_scores(s, instrument.PZB_DIMENSIONS, prefix="A")
    assert z.loc["reliability", "msa"] == pytest.approx((p - a)["reliability"].mean())
    assert set(z["position"]) <= {"below the zone", "within the zone", "above the zone"}
    assert servqual.describe_zone(r)


# --- data the issue does not name: Holzinger & Swineford (1939) as a perceptions-only instrument -------------------


@pytest.fixture(scope="module")
def holzinger():
    return servqual.analyze(servqual.Params(survey_path=HS, dimensions=HS_DIMENSIONS, perception_prefix="x",
                                            scale=None, segment_cols=["school"], n_bootstrap=0))


def test_holzinger_swineford_gives_lavaans_cfa(holzinger):
    f = holzinger.structure.cfa.fit
    assert f.chi2 == pytest.approx(85.306, abs=0.001) and f.df == 24
    assert (f.cfi, f.tli, f.rmsea, f.srmr) == pytest.approx((0.931, 0.896, 0.092, 0.065), abs=0.0006)
    assert (f.rmsea_ci_low, f.rmsea_ci_high) == pytest.approx((0.071, 0.114), abs=0.0006)
    doc = json.loads(results.dumps(holzinger.to_results()))
    assert doc["cfa"]["chisq"] == pytest.approx(85.306, abs=0.001) and doc["mode"] == "servperf"
    assert set(doc["cfa"]["loadings"]) == {str(i) for i in range(1, 10)}
    assert doc["cfa"]["loadings"]["1"] == pytest.approx(0.772, abs=0.001)  # lavaan std.all, visual =~ x1


def test_holzinger_swineford_invariance_by_school_gives_lavaans(holzinger):
    inv, used, note = holzinger.invariance["school"]
    assert note is None and set(used) == {"Pasteur", "Grant-White"}
    assert inv.fits.loc["configural", "chi2"] == pytest.approx(115.851, abs=0.001)
    assert inv.fits.loc["configural", "df"] == 48 and inv.fits.loc["metric", "df"] == 54
    assert inv.fits.loc["metric", "chi2"] == pytest.approx(124.044, abs=0.001)


def test_holzinger_swineford_reliability_by_the_formula(holzinger):
    data = pd.read_csv(HS)
    a = holzinger.reliability.alphas.set_index("dimension")
    for dim, items in HS_DIMENSIONS.items():
        c = data[[f"x{i}" for i in items]].cov().to_numpy()
        assert a.loc[dim, "alpha"] == pytest.approx(3 / 2 * (1 - np.trace(c) / c.sum()))
    assert any("'date'" in n for n in holzinger.notes)


def test_holzinger_swineford_on_a_likert_scale_is_refused():
    with pytest.raises(DataError) as info:
        servqual.analyze(servqual.Params(survey_path=HS, dimensions=HS_DIMENSIONS, perception_prefix="x"))
    assert "must be between 1 and 7" in str(info.value)


# --- coverage of the course world's true gaps over seeds --------------------------------------------------------------


@pytest.mark.slow
def test_interval_coverage_of_the_true_gaps_over_seeds():
    """Cluster-robust 95% intervals of the 5 dimension gaps and 22 item gaps cover truth.json's values about 95% of
    the time over 25 course worlds (3,000 customers each); intervals that ignore repeat answers do not."""
    covered, naive, items_covered = [], [], []
    for seed in range(100, 125):
        world = synth.generate(n_customers=3000, seed=seed)
        s, truth = world.survey, world.truth["servqual"]
        members = gaps.membership(pd.factorize(s["customer_id"])[0], len(s))
        g = measures.gap_scores(s, instrument.PZB_DIMENSIONS)
        true = np.array([truth["dimensions"][d]["gap"] for d in g.columns])
        for m, out in ((members, covered), (None, naive)):
            r = gaps.single(g.to_numpy(), m)
            out += list((r["ci_low"] <= true) & (true <= r["ci_high"]))
        it = gaps.single(s[P_ITEMS].to_numpy(float) - s[E_ITEMS].to_numpy(float), members)
        ti = np.array([truth["items"][f"P{i}"] - truth["items"][f"E{i}"] for i in range(1, 23)])
        items_covered += list((it["ci_low"] <= ti) & (ti <= it["ci_high"]))
    assert 0.89 <= np.mean(covered) <= 0.99
    assert 0.89 <= np.mean(items_covered) <= 0.99
    assert np.mean(naive) < np.mean(covered)
