"""loyaltylab.analyses.nps: the statistic, its intervals, tables by segment and period, planning, drivers, loading."""
from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyaltylab import loaders, measures, narrative, results
from loyaltylab.analyses import nps
from loyaltylab.analyses.nps.analysis import records
from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats.multiplicity import adjust_pvalues

Z95 = 1.959963984540054


def load(survey, customers=None, **kwargs):
    """The survey as notebook 01 loads it; cluster_col None unless given (the default of the old nps.load)."""
    kwargs.setdefault("cluster_col", None)
    return nps.load(nps.Params(survey_path=None if survey is None else str(survey),
                               customers_path=None if customers is None else str(customers), **kwargs))


def analyze(data, **kwargs):
    """Every part of the analysis on loaded data, with these parameters."""
    return nps.run(data, nps.Params(**kwargs))


# --- classification and the statistic --------------------------------------------------------------------------


def test_classify_cut_offs():
    cats = measures.classify(pd.Series([0, 6, 7, 8, 9, 10, np.nan]))
    assert cats.tolist()[:6] == ["detractor", "detractor", "passive", "passive", "promoter", "promoter"]
    assert pd.isna(cats.iloc[6])


def test_exact_nps_on_hand_counted_data():
    # promoters: 10, 9, 9, 10 (4); passives: 8, 7 (2); detractors: 6, 0, 3, 5 (4) → (4 − 4) / 10 = 0
    r = nps.net_promoter_score([10, 9, 9, 8, 7, 6, 0, 3, 10, 5])
    assert (r.n, r.promoters, r.passives, r.detractors) == (10, 4, 2, 4)
    assert r.nps == 0.0
    # 3 promoters, 1 passive, 1 detractor of 5 → 60% − 20% = 40 points
    r = nps.net_promoter_score([9, 9, 10, 7, 2])
    assert r.nps == pytest.approx(40.0)
    assert (r.promoters_pct, r.passives_pct, r.detractors_pct) == pytest.approx((60.0, 20.0, 20.0))
    # blanks are not responses
    assert nps.net_promoter_score([9, None, 0, np.nan]).nps == 0.0


def test_standard_error_and_normal_interval_by_hand():
    # p_P = .5, p_D = .2: var = .5 + .2 − .3² = .61; SE = 100·√(.61/100) = 7.8102 points
    r = nps.from_counts(50, 30, 20)
    assert r.nps == pytest.approx(30.0)
    assert r.se == pytest.approx(100 * math.sqrt(0.61 / 100))
    assert r.se == pytest.approx(7.81025, abs=1e-5)
    assert (r.ci_low, r.ci_high) == pytest.approx((30 - Z95 * r.se, 30 + Z95 * r.se))
    # n = 5 (60/20/20): SE = 100·√(.64/5) = 35.777; the interval is clipped to the scale
    small = nps.from_counts(3, 1, 1)
    assert small.se == pytest.approx(100 * math.sqrt(0.64 / 5))
    assert small.ci_high == 100.0 and small.ci_low == pytest.approx(40 - Z95 * small.se)


def test_other_interval_methods_are_sensible():
    for method in ("adjusted", "score"):
        r = nps.from_counts(50, 30, 20, ci_method=method)
        assert r.ci_low < r.nps < r.ci_high and r.ci_method == method
        assert abs((r.ci_high - r.ci_low) - 2 * Z95 * r.se) < 2.0  # close to the Wald width at n = 100
        sym = nps.from_counts(20, 10, 20, ci_method=method)
        assert sym.ci_low == pytest.approx(-sym.ci_high, abs=1e-6)
        all_promoters = nps.from_counts(8, 0, 0, ci_method=method)
        assert all_promoters.ci_high == 100.0 and all_promoters.ci_low < 100.0  # Wald would give [100, 100]
    with pytest.raises(DataError, match="ci_method = 'bootstrap'"):
        nps.from_counts(1, 1, 1, ci_method="bootstrap")


COVERAGE_MIXES = {"typical": (0.45, 0.35, 0.20), "skewed": (0.80, 0.15, 0.05)}


def _coverage(probs, n, method, samples=2000):
    rng = np.random.default_rng([2026, n, int(probs[0] * 100)])
    counts = rng.multinomial(n, probs, size=samples)
    a = nps.nps_arrays(counts[:, 0], counts[:, 1], counts[:, 2], 0.95, method)
    true = 100 * (probs[0] - probs[2])
    return float(np.mean((a["ci_low"] <= true) & (true <= a["ci_high"])))


def test_interval_coverage_of_the_true_nps():
    """Coverage of the true NPS by 95% intervals, 2,000 simulated samples per cell (fixed seeds):

    ========  ===  ======  ========  ======
    mix       n    normal  adjusted  score
    ========  ===  ======  ========  ======
    typical   200  0.9455  0.9490    0.9500
    typical   30   0.9375  0.9525    0.9550
    skewed    200  0.9375  0.9475    0.9460
    skewed    30   0.9155  0.9530    0.9560
    ========  ===  ======  ========  ======

    typical = 45/35/20% (NPS 25), skewed = 80/15/5% (NPS 75). Monte-Carlo SE ≈ 0.005. The Wald interval
    under-covers with few responses at a skewed mix; the adjusted Wald and the score interval stay near 95%.
    """
    for name, probs in COVERAGE_MIXES.items():
        for n in (200, 30):
            cov = {m: _coverage(probs, n, m) for m in nps.CI_METHODS}
            for method in ("adjusted", "score"):
                assert 0.935 <= cov[method] <= 0.97, (name, n, method, cov)
            if n == 200:
                assert 0.93 <= cov["normal"] <= 0.965, (name, n, cov)
            else:
                assert 0.90 <= cov["normal"] <= 0.96, (name, n, cov)
    assert _coverage(COVERAGE_MIXES["skewed"], 30, "normal") < _coverage(COVERAGE_MIXES["skewed"], 30, "adjusted")


def test_bad_scores_raise_data_error():
    for bad, rule in ((11, "between 0 and 10"), (-1, "between 0 and 10"), (7.5, "whole number"), ("abc", "text")):
        with pytest.raises(DataError) as err:
            nps.net_promoter_score(pd.Series([9, 8, bad], name="nps"), source="survey.csv")
        msg = str(err.value)
        assert "survey.csv" in msg and "'nps'" in msg and rule in msg and "row 4" in msg and "\n" not in msg


# --- comparisons and multiple testing ---------------------------------------------------------------------------


def test_difference_test_by_hand():
    a, b = nps.from_counts(50, 30, 20), nps.from_counts(30, 30, 40)  # NPS 30 (var .61), −10 (var .69)
    d = nps.compare(a, b)
    se = 100 * math.sqrt(0.61 / 100 + 0.69 / 100)
    assert d.difference == pytest.approx(40.0)
    assert d.se == pytest.approx(se)
    assert d.z == pytest.approx(40 / se)
    assert d.p_value == pytest.approx(2 * stats.norm.sf(40 / se))
    assert d.p_value == pytest.approx(0.000451, abs=5e-6)
    same = nps.compare(nps.from_counts(5, 0, 0), nps.from_counts(7, 0, 0))
    assert same.p_value == 1.0  # zero variance in both groups and no difference


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "bonferroni"])
def test_corrections_match_statsmodels(method):
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.001, 0.04, np.nan, 0.03, 0.2, 0.0101, 0.5])
    adjusted, reject = adjust_pvalues(p, method, alpha=0.05)
    ok = np.isfinite(p)
    expected = multipletests(p[ok], alpha=0.05, method=method)[1]
    assert np.allclose(adjusted[ok], expected)
    assert np.isnan(adjusted[2]) and not reject[2]
    assert (reject[ok] == (expected < 0.05)).all()
    assert np.array_equal(adjust_pvalues(p, None)[0], p, equal_nan=True)


def test_segment_vs_rest_controls_family_wise_error():
    """Under the null (every segment has the same mix) Holm keeps the chance of any false flag near 5%."""
    rng = np.random.default_rng(5)
    false_alarms = 0
    reps = 300
    for _ in range(reps):
        scores = rng.choice([10, 8, 3], size=800, p=[0.4, 0.35, 0.25])
        frame = pd.DataFrame({"nps": scores, "seg": np.repeat(list("abcd"), 200)})
        false_alarms += bool(nps.by_segment(frame, "seg")["significant"].any())
    assert false_alarms / reps <= 0.09


def test_segment_table_flags_a_real_difference():
    frame = pd.DataFrame({
        "nps": [10] * 80 + [3] * 20 + [10] * 30 + [3] * 70 + [8] * 100,
        "seg": ["high"] * 100 + ["low"] * 100 + ["mid"] * 100,
    })
    t = nps.by_segment(frame, "seg").set_index("value")
    assert t.loc["high", "nps"] == pytest.approx(60.0) and t.loc["low", "nps"] == pytest.approx(-40.0)
    assert t.loc["high", "significant"] and t.loc["low", "significant"]
    # rest of "high": 30 promoters, 100 passives, 70 detractors → NPS −20
    assert t.loc["high", "diff_vs_rest"] == pytest.approx(80.0)
    assert (t["p_adjusted"] >= t["p_value"]).all()


# --- suppression ------------------------------------------------------------------------------------------------


def _frame_with_groups(sizes, seed=0):
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"g{i}" for i in range(len(sizes))], sizes)
    return pd.DataFrame({"nps": rng.integers(0, 11, len(groups)), "grp": groups})


def test_suppression_never_shows_a_small_group():
    rng = np.random.default_rng(42)
    for trial in range(200):
        min_cell = int(rng.integers(2, 12))
        sizes = rng.integers(1, 40, size=int(rng.integers(2, 8)))
        table = nps.by_segment(_frame_with_groups(sizes, trial), "grp", min_cell=min_cell)
        true_n = np.array([sizes[int(v[1:])] for v in table["value"]])  # sizes from the data, not the table
        small = true_n < min_cell
        assert table.loc[small, "suppressed"].all()
        hidden = table[table["suppressed"]]
        stats_cols = ["n", "nps", "se", "ci_low", "ci_high", "promoters_pct", "passives_pct", "detractors_pct",
                      "diff_vs_rest", "p_value", "p_adjusted"]
        assert hidden[stats_cols].isna().all().all()  # the count of a suppressed group is hidden too
        assert not hidden["significant"].any()
        shown = ~table["suppressed"].to_numpy()
        assert (table.loc[shown, "n"].to_numpy() == true_n[shown]).all()
        # complementary suppression: the hidden groups together are 0 or ≥ min_cell (no recovery by subtraction)
        total_hidden = true_n[~shown].sum()
        assert total_hidden == 0 or total_hidden >= min_cell or len(hidden) == len(table)


def test_single_small_group_gets_a_complementary_partner():
    table = nps.by_segment(_frame_with_groups([3, 40, 50, 60]), "grp", min_cell=5).set_index("value")
    assert table.loc["g0", "suppressed"] and table.loc["g1", "suppressed"]  # g1: smallest other group
    assert not table.loc["g2", "suppressed"] and not table.loc["g3", "suppressed"]


def test_suppressed_counts_are_not_published():
    frame = _frame_with_groups([3, 40, 50, 60])
    table = nps.by_segment(frame, "grp", min_cell=5)
    hidden = table[table["suppressed"]]
    assert set(hidden["value"]) == {"g0", "g1"} and hidden["n"].isna().all()
    assert table["value"].tolist()[-2:] == ["g0", "g1"]  # suppressed rows last, not ordered by their hidden size
    shown = nps.view(table, "segment")
    assert shown.loc[shown["Segment"] == "g0", "n"].tolist() == ["suppressed"]
    fig = nps.plot_segments({"grp": table})
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "g0" in labels and not any("n=3" in lab or "n=40" in lab for lab in labels)
    assert any(lab == "g3 (n=60)" for lab in labels)
    import matplotlib.pyplot as plt

    plt.close(fig)
    # trend: a period with 3 responses hides its count; an empty period (identifies nobody) keeps 0 and, with the
    # one suppression path (privacy.suppress), is not marked suppressed: a suppressed row never shows a count
    dates = ["2025-01-15"] * 100 + ["2025-02-10"] * 3 + ["2025-08-01"] * 100 + ["2025-10-01"] * 100
    t = nps.trend(pd.DataFrame({"nps": np.arange(303) % 11, "date": pd.to_datetime(dates)}), period="Q", min_cell=5)
    assert t["period"].tolist() == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert t["n"].tolist()[1:] == [0, 100, 100] and t["suppressed"].tolist() == [False, False, False, False]
    assert np.isnan(t.loc[1, "nps"])
    t = nps.trend(pd.DataFrame({"nps": np.arange(303) % 11, "date": pd.to_datetime(dates)}), period="M", min_cell=5)
    feb = t.set_index("period").loc["2025-02"]
    assert feb["suppressed"] and pd.isna(feb["n"])
    rows = results.to_jsonable(records(table, ["value", "n", "nps", "suppressed"]))
    assert [r for r in rows if r["value"] == "g0"] == [{"value": "g0", "n": None, "nps": None, "suppressed": True}]


def test_two_level_column_is_one_test_not_two():
    # 60 vs 40 promoters of 100 each, rest detractors: NPS 20 vs −20, z ≈ 2.89, p ≈ 0.0039 — once, not Holm ×2
    frame = pd.DataFrame({"nps": [10] * 60 + [0] * 40 + [10] * 40 + [0] * 60,
                          "language": ["zh"] * 100 + ["en"] * 100})
    t = nps.by_segment(frame, "language").set_index("value")
    assert t.loc["zh", "p_value"] == pytest.approx(t.loc["en", "p_value"])
    assert t["p_adjusted"].tolist() == pytest.approx(t["p_value"].tolist())
    # a p-value between α/2 and α is significant (Holm over two copies of one test would double it)
    frame = pd.DataFrame({"nps": [10] * 57 + [0] * 43 + [10] * 43 + [0] * 57, "language": ["zh"] * 100 + ["en"] * 100})
    t = nps.by_segment(frame, "language")
    assert 0.025 < t["p_value"].iloc[0] < 0.05 and t["significant"].all()
    # with three groups the family still has three tests
    three = pd.DataFrame({"nps": [10] * 57 + [0] * 43 + [10] * 43 + [0] * 57 + [8] * 100,
                          "seg": ["a"] * 100 + ["b"] * 100 + ["c"] * 100})
    t3 = nps.by_segment(three, "seg")
    assert (t3["p_adjusted"] > t3["p_value"]).any()


def test_distribution_never_shows_a_small_score():
    # 0 ×20, 1 ×2 (small), 3 ×15, 6 ×25 | 7 ×30, 8 ×3 (small) | 9 ×4 (small), 10 ×40; 2, 4, 5: nobody
    frame = pd.DataFrame({"nps": [0] * 20 + [1] * 2 + [3] * 15 + [6] * 25 + [7] * 30 + [8] * 3 + [9] * 4 + [10] * 40})
    dist = nps.distribution(frame, min_cell=5).set_index("score")
    assert dist.loc[[1, 8, 9], "suppressed"].all() and dist.loc[[1, 8, 9], "n"].isna().all()
    # complementary within a category (category totals are published): the smallest other score of each goes too
    assert dist.loc[[3, 7, 10], "suppressed"].all() and dist.loc[[3, 7, 10], "pct"].isna().all()
    assert dist.loc[[0, 6], "n"].tolist() == [20, 25] and not dist.loc[[0, 6], "suppressed"].any()
    assert dist.loc[[2, 4, 5], "n"].tolist() == [0] * 3 and not dist.loc[[2, 4, 5], "suppressed"].any()
    for cat in ("detractor", "passive", "promoter"):
        hidden = dist[(dist["category"] == cat) & dist["suppressed"]].index
        true = frame["nps"].isin(hidden).sum()
        assert true == 0 or true >= 5
    ax = nps.plot_distribution(dist.reset_index())
    heights = sorted(patch.get_height() for patch in ax.patches if patch.get_height() > 0)
    assert heights == [20, 25]  # only the visible scores are drawn
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
    assert nps.distribution(frame)["n"].tolist()[:2] == [20, 2]  # without min_cell: the plain counts


def test_overall_suppressed_below_min_cell():
    r = nps.from_counts(2, 1, 0, min_cell=5)
    assert r.suppressed and math.isnan(r.nps) and r.promoters == 0


def test_missing_segment_values_are_their_own_group():
    frame = pd.DataFrame({"nps": [9] * 10 + [2] * 10, "seg": ["a"] * 10 + [None] * 10})
    t = nps.by_segment(frame, "seg")
    assert set(t["value"]) == {"a", nps.MISSING_LABEL}


# --- trend ------------------------------------------------------------------------------------------------------


def test_trend_periods_gaps_and_flags():
    dates = (["2025-01-15"] * 100 + ["2025-02-10"] * 100 + ["2025-08-01"] * 100)
    scores = [10] * 90 + [2] * 10 + [10] * 88 + [2] * 12 + [10] * 30 + [2] * 70
    frame = pd.DataFrame({"nps": scores, "date": pd.to_datetime(dates)})
    q = nps.trend(frame, period="Q")
    assert q["period"].tolist() == ["2025Q1", "2025Q2", "2025Q3"]
    assert q["n"].tolist() == [200, 0, 100]
    assert not q.loc[1, "suppressed"] and math.isnan(q.loc[1, "nps"])  # empty: visible 0, no statistics
    assert math.isnan(q.loc[2, "change"])  # the previous quarter is empty: no comparison
    m = nps.trend(frame, period="M")
    assert m["period"].tolist()[:3] == ["2025-01", "2025-02", "2025-03"] and len(m) == 8
    assert m.loc[0, "nps"] == pytest.approx(80.0) and m.loc[1, "nps"] == pytest.approx(76.0)
    assert not m.loc[1, "change_significant"]  # 80 → 76 with n = 100: noise
    contiguous = frame.assign(date=pd.to_datetime(["2025-01-15"] * 100 + ["2025-04-10"] * 100 + ["2025-07-01"] * 100))
    t = nps.trend(contiguous, period="Q")
    assert t["change_significant"].tolist() == [False, False, True]  # 76 → −40 is real
    assert t.loc[2, "change"] == pytest.approx(-40.0 - 76.0)
    with pytest.raises(DataError, match="period = 'fortnight'"):
        nps.trend(frame, period="fortnight")


# --- sample size ------------------------------------------------------------------------------------------------


def test_sample_size_by_hand():
    # z² · (p + d − (p − d)²) · 100² / m² = 3.8415 · 0.61 · 10000 / 25 = 937.3 → 938
    assert nps.sample_size(5, 50, 20) == 938
    assert nps.sample_size(5, 50, 50) == 1537  # worst case: variance 1 → 3.8415 · 10000 / 25
    assert nps.sample_size(10, 50, 20) == math.ceil(Z95**2 * 0.61 * 1e4 / 100)
    assert nps.margin_of_error(938, 50, 20) <= 5 < nps.margin_of_error(937, 50, 20)
    table = nps.sample_size_table((3, 5), {"a": (50, 20)})
    assert table["a"].tolist() == [nps.sample_size(3, 50, 20), 938]
    with pytest.raises(ValueError):
        nps.sample_size(5, 70, 40)


# --- clustered responses ----------------------------------------------------------------------------------------


def test_design_effect_for_repeated_answers():
    rng = np.random.default_rng(3)
    once = rng.choice([10, 8, 3], size=600, p=[0.4, 0.35, 0.25])
    frame = pd.DataFrame({"nps": np.r_[once, once], "cid": np.r_[np.arange(600), np.arange(600)]})
    r = nps.overall(frame, cluster_col="cid", min_cell=None)
    assert r.deff == pytest.approx(2.0, rel=0.01)  # every answer given twice: half the information
    plain = nps.overall(frame, min_cell=None)
    assert r.se == pytest.approx(plain.se * math.sqrt(r.deff))
    single = nps.overall(frame.iloc[:600], cluster_col="cid", min_cell=None)
    assert single.deff == pytest.approx(1.0, abs=0.01)


# --- promoters vs detractors on SERVQUAL dimensions -------------------------------------------------------------


def _servqual_frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    quality = rng.normal(size=n)
    items = {f"P{i}": np.clip(np.round(4 + quality + rng.normal(0, 0.8, n)), 1, 7) for i in range(1, 23)}
    score = np.clip(np.round(7 + 2 * quality + rng.normal(0, 1, n)), 0, 10)
    return pd.DataFrame({"nps": score, **items})


def test_dimension_comparison_matches_direct_computation():
    frame = _servqual_frame()
    comp = nps.compare_dimensions(frame)
    cats = measures.classify(frame["nps"])
    rel = frame[[f"P{i}" for i in range(5, 10)]].mean(axis=1)
    pro, det = rel[cats == "promoter"], rel[cats == "detractor"]
    row = comp.effects.set_index("dimension").loc["reliability"]
    assert row["mean_promoters"] == pytest.approx(pro.mean()) and row["mean_detractors"] == pytest.approx(det.mean())
    pooled = math.sqrt(((len(pro) - 1) * pro.var() + (len(det) - 1) * det.var()) / (len(pro) + len(det) - 2))
    assert row["cohens_d"] == pytest.approx((pro.mean() - det.mean()) / pooled)
    assert row["p_value"] == pytest.approx(stats.ttest_ind(pro, det, equal_var=False).pvalue)
    means = comp.means.set_index(["dimension", "category"])
    assert means.loc[("reliability", "promoter"), "sd"] == pytest.approx(pro.std())
    assert (comp.effects["cohens_d"] > 0.5).all()


def test_promoter_model_odds_ratios():
    model = nps.promoter_model(_servqual_frame(1500))
    assert list(model.table["dimension"]) == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    assert (model.table["ci_low"] < model.table["odds_ratio"]).all()
    assert model.table["odds_ratio"].prod() > 1  # jointly, better perceptions make promoters
    tiny = nps.promoter_model(_servqual_frame(30))
    assert tiny.table.empty and tiny.note


def _tripled(frame):
    """Every response given three times by the same customer."""
    once = frame.assign(cid=np.arange(len(frame)))
    return pd.concat([once] * 3, ignore_index=True)


def test_clustered_dimension_comparison_on_repeated_answers():
    """Clustered on 3×-repeated answers ≈ unclustered on the answers given once (not √3 too narrow)."""
    once = _servqual_frame(500, seed=4)
    noise = np.random.default_rng(9).normal(0, 4, (len(once), 22)).round()
    items = [f"P{i}" for i in range(1, 23)]
    once[items] = np.clip(once[items].to_numpy() + noise, 1, 7)  # moderate effects (d ≈ 0.8–1), p not ~0
    plain = nps.compare_dimensions(once)
    naive = nps.compare_dimensions(_tripled(once))
    clustered = nps.compare_dimensions(_tripled(once), cluster_col="cid")
    a, b, c = (x.effects.set_index("dimension") for x in (plain, clustered, naive))
    assert b["cohens_d"].to_numpy() == pytest.approx(a["cohens_d"].to_numpy(), rel=5e-3)  # SDs: n−1 vs 3n−1
    assert b["se_difference"].to_numpy() == pytest.approx(a["se_difference"].to_numpy(), rel=0.01)
    assert c["se_difference"].to_numpy() == pytest.approx(a["se_difference"].to_numpy() / math.sqrt(3), rel=0.01)
    width = (a["d_ci_high"] - a["d_ci_low"]).to_numpy()
    assert (b["d_ci_high"] - b["d_ci_low"]).to_numpy() == pytest.approx(width, rel=0.01)
    assert (c["d_ci_high"] - c["d_ci_low"]).to_numpy() == pytest.approx(width / math.sqrt(3), rel=0.01)
    assert b["deff"].to_numpy() == pytest.approx(3.0, rel=0.02)
    # the tests agree too (as z-equivalents: the p-values are tiny)
    z_a, z_b = stats.norm.isf(a["p_value"].to_numpy() / 2), stats.norm.isf(b["p_value"].to_numpy() / 2)
    assert z_b == pytest.approx(z_a, rel=0.02)
    ma, mb = (x.means.set_index(["dimension", "category"]) for x in (plain, clustered))
    assert (mb["ci_high"] - mb["ci_low"]).to_numpy() == pytest.approx((ma["ci_high"] - ma["ci_low"]).to_numpy(),
                                                                       rel=0.01)
    assert clustered.cluster_col == "cid"


def test_clustered_promoter_model_on_repeated_answers():
    once = _servqual_frame(1500, seed=2)
    plain = nps.promoter_model(once)
    robust_once = nps.promoter_model(once.assign(cid=np.arange(len(once))), cluster_col="cid")
    clustered = nps.promoter_model(_tripled(once), cluster_col="cid")
    naive = nps.promoter_model(_tripled(once))
    assert clustered.table["odds_ratio"].to_numpy() == pytest.approx(plain.table["odds_ratio"].to_numpy(), rel=1e-6)
    # clustered SEs on the tripled data: those of the answers given once (sandwich form), not 1/√3 of them
    assert clustered.table["se"].to_numpy() == pytest.approx(robust_once.table["se"].to_numpy(), rel=0.01)
    assert clustered.table["se"].to_numpy() == pytest.approx(plain.table["se"].to_numpy(), rel=0.2)
    assert naive.table["se"].to_numpy() == pytest.approx(plain.table["se"].to_numpy() / math.sqrt(3), rel=0.01)
    assert clustered.cluster_col == "cid" and plain.cluster_col is None


# --- the course data --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course(small_course_dir):
    data = load(small_course_dir / "survey.csv", small_course_dir / "customers.csv", cluster_col="customer_id")
    return data, analyze(data)


def test_course_nps_close_to_truth(course):
    data, report = course
    truth = data.truth
    o = report.overall
    # This fixture's world (seed 11) is an unlucky draw: z = (estimate − truth) / SE ≈ −2.9. Across 24 seeds of
    # 3,000 customers the cluster-robust z had mean −0.02 and SD 1.05, i.e. the SE is calibrated.
    assert abs(o.nps - truth["nps"]["overall"]) < 3 * o.se
    premium = report.segments["segment"].set_index("value").loc["Premium"]
    assert abs(premium["nps"] - truth["nps"]["by_segment"]["segment"]["Premium"]) < 3 * premium["se"]
    assert report.segments["segment"].set_index("value").loc["Premium", "significant"]
    assert o.deff > 1.2  # customers answer 1–3 times
    assert report.truth is not None and len(report.truth) == 1 + 3 + 5 + 4
    row = report.truth.iloc[0]
    assert row["covered"] == (row["ci_low"] <= row["true"] <= row["ci_high"])


def test_course_results_json_is_complete_and_deterministic(course, small_course_dir):
    data, report = course
    res = report.to_results()
    for key in ("n", "dropped_rows", "nps", "ci_low", "ci_high", "ci_method", "promoters_pct", "passives_pct",
                "detractors_pct", "by_segment", "trend", "themes", "headline", "inputs"):
        assert key in res
    assert set(res["by_segment"]) == {"segment", "region", "channel"}
    for row in res["by_segment"]["region"]:
        assert {"value", "n", "nps", "ci_low", "ci_high", "suppressed", "p_value", "significant"} <= set(row)
    assert {"period", "n", "nps", "ci_low", "ci_high", "suppressed", "change_significant"} <= set(res["trend"][0])
    assert {"theme", "n", "share_promoters", "share_detractors"} <= set(res["themes"][0])
    assert res["headline"]["Responses"] == res["n"]
    assert res["join_match_rate"] == 1.0 and not nps.describe_join(report)
    assert res["promoter_model"]["cluster_col"] == "customer_id"  # the user's column, clustered model
    again = analyze(load(small_course_dir / "survey.csv", small_course_dir / "customers.csv",
                         cluster_col="customer_id")).to_results()
    assert results.dumps(res) == results.dumps(again)


def test_key_findings_are_sentences(course):
    _, report = course
    lines = nps.key_findings(report)
    assert lines[0].startswith("NPS is") and any("True NPS" in line for line in lines)


def test_course_framing_only_on_the_course_data(course, small_course_dir, tmp_path):
    _, report = course
    assert any("the course's loyal-base mark" in line for line in nps.describe_overall(report))
    for name in ("survey.csv", "customers.csv"):      # the same rows without a truth.json: a user's own file
        shutil.copy(small_course_dir / name, tmp_path / name)
    mine = analyze(load(tmp_path / "survey.csv", tmp_path / "customers.csv", cluster_col="customer_id"))
    lines = nps.describe_overall(mine) + nps.key_findings(mine)
    assert not [line for line in lines if "course" in line.lower()]
    assert any("a common benchmark for a loyal customer base" in line for line in lines)
    assert mine.to_results()["course_data"] is False and report.to_results()["course_data"] is True


def test_blank_scores_are_dropped_and_counted(small_course_dir, tmp_path):
    survey = pd.read_csv(small_course_dir / "survey.csv", dtype=str, keep_default_na=False)
    survey.loc[[0, 5, 9], "nps"] = ""
    survey.to_csv(tmp_path / "survey.csv", index=False)
    data = load(tmp_path / "survey.csv", small_course_dir / "customers.csv")
    assert data.dropped_rows == 3 and len(data.frame) == len(survey) - 3


def test_filters_apply_after_the_join(small_course_dir):
    data = load(small_course_dir / "survey.csv", small_course_dir / "customers.csv", filters={"region": "North"})
    assert set(data.frame["region"]) == {"North"}
    report = analyze(data)
    assert report.truth is not None and report.truth["value"].tolist() == ["region = North"]


@pytest.mark.parametrize(
    ("value", "rule"),
    [("11", "must be between 0 and 10"), ("7.5", "must be a whole number"), ("abc", "not a number")],
)
def test_bad_survey_scores_give_one_line_errors(small_course_dir, tmp_path, value, rule):
    survey = pd.read_csv(small_course_dir / "survey.csv", dtype=str, keep_default_na=False)
    survey.loc[3, "nps"] = value
    survey.to_csv(tmp_path / "survey.csv", index=False)
    with pytest.raises(DataError) as err:
        load(tmp_path / "survey.csv", small_course_dir / "customers.csv")
    msg = str(err.value)
    assert "survey.csv" in msg and "'nps'" in msg and rule in msg and "row 5" in msg and "\n" not in msg


def test_missing_named_columns_give_data_errors(small_course_dir, tmp_path):
    with pytest.raises(DataError, match="'ltr'.*missing"):
        load(small_course_dir / "survey.csv", small_course_dir / "customers.csv", score_col="ltr")
    with pytest.raises(DataError, match="'tier'"):
        load(small_course_dir / "survey.csv", small_course_dir / "customers.csv", segment_cols=["tier"])
    shutil.copy(small_course_dir / "survey.csv", tmp_path / "survey.csv")
    with pytest.raises(DataError, match="customers"):
        load(tmp_path / "survey.csv", None)  # segment columns need a customers file


@pytest.mark.parametrize(
    ("params", "text"),
    [({"confidence": 95}, "confidence = 95"), ({"confidence": "0.95"}, "confidence = '0.95'"),
     ({"ci_method": "wilson"}, "ci_method = 'wilson'"), ({"period": "W"}, "period = 'W'"),
     ({"min_cell": 0}, "min_cell = 0"), ({"min_cell": 2.5}, "min_cell = 2.5"),
     ({"correction": "sidak"}, "correction = 'sidak'")],
)
def test_bad_parameters_are_one_line_data_errors(params, text):
    """One form for every parameter: the analysis' Params; the table functions' own keywords (correction)."""
    frame = pd.DataFrame({"nps": [9, 3, 8] * 10, "seg": ["a", "b", "c"] * 10})
    with pytest.raises(ParameterError) as err:
        if "correction" in params:
            nps.by_segment(frame, "seg", **params)
        else:
            nps.Params(**params)
    msg = str(err.value)
    assert isinstance(err.value, DataError)
    assert msg.startswith(f"parameters: {text}: ") and "\n" not in msg


def test_bad_parameters_fail_before_the_data(small_course_dir, tmp_path):
    missing = tmp_path / "no_such_survey.csv"
    with pytest.raises(DataError, match="^parameters: min_cell = 0"):
        load(missing, min_cell=0)  # the parameter, not the missing file
    for bad in ({"score_col": None}, {"segment_cols": [1]}, {"filters": "region=North"}, {"columns": ["nps"]}):
        with pytest.raises(DataError, match=f"^parameters: {next(iter(bad))} = "):
            load(missing, **bad)
    data = load(small_course_dir / "survey.csv", small_course_dir / "customers.csv", segment_cols=["segment"],
                comment_col=None)
    for bad in ({"confidence": 95}, {"ci_method": "exact"}, {"period": "week"}, {"min_cell": 0}):
        with pytest.raises(DataError, match="^parameters: "):
            analyze(data, **bad)
    with pytest.raises(DataError, match="'segmnt': named in segment_cols .*did you mean 'segment'"):
        load(small_course_dir / "survey.csv", small_course_dir / "customers.csv", segment_cols=["segmnt"])
    # the shared loader checks its own parameters the same way, before reading
    with pytest.raises(ParameterError, match="^parameters: min_cell = 0"):
        loaders.load_survey(missing, min_cell=0)
    with pytest.raises(ParameterError, match="^parameters: encoding = 'utf8x'"):
        loaders.load_survey(missing, encoding="utf8x")


def test_tiny_filtered_population_gives_no_report(small_course_dir, tmp_path):
    survey = pd.read_csv(small_course_dir / "survey.csv", dtype=str, keep_default_na=False)
    survey["wave"] = ["pilot"] * 4 + ["main"] * (len(survey) - 4)
    survey.to_csv(tmp_path / "survey.csv", index=False)
    with pytest.raises(DataError) as err:
        load(tmp_path / "survey.csv", small_course_dir / "customers.csv", filters={"wave": "pilot"})
    msg = str(err.value)
    assert "only 4 responses" in msg and "wave" in msg and "min_cell=5" in msg and "\n" not in msg
    assert len(load(tmp_path / "survey.csv", small_course_dir / "customers.csv", filters={"wave": "pilot"},
                        min_cell=4).frame) == 4
    data = load(tmp_path / "survey.csv", small_course_dir / "customers.csv", filters={"wave": "pilot"}, min_cell=3,
                    comment_col=None)
    with pytest.raises(DataError, match="only 4 responses"):
        analyze(data, min_cell=5)  # a stricter min_cell at analysis time is enforced too


def test_column_mapping_for_a_chinese_export(small_course_dir, tmp_path):
    survey = pd.read_csv(small_course_dir / "survey.csv", dtype=str, keep_default_na=False)
    customers = pd.read_csv(small_course_dir / "customers.csv", dtype=str, keep_default_na=False)
    survey_names = {"response_id": "编号", "customer_id": "客户编号", "date": "日期", "nps": "推荐值", "comment": "评论",
                    "language": "语言"}
    customers_names = {"customer_id": "客户编号", "segment": "套餐", "region": "地区", "channel": "渠道"}
    survey.rename(columns=survey_names).to_csv(tmp_path / "survey.csv", index=False)
    customers.rename(columns=customers_names).to_csv(tmp_path / "customers.csv", index=False)
    kwargs = {"cluster_col": "customer_id"}
    mapped = load(tmp_path / "survey.csv", tmp_path / "customers.csv", **kwargs,
                      columns={v: k for k, v in survey_names.items()},
                      customers_columns={v: k for k, v in customers_names.items()})
    original = load(small_course_dir / "survey.csv", small_course_dir / "customers.csv", **kwargs)
    pd.testing.assert_frame_equal(mapped.frame, original.frame)
    with pytest.raises(DataError, match="'推荐值'"):  # unmapped: the error names the file's column
        load(tmp_path / "survey.csv", tmp_path / "customers.csv", columns={"推荐": "nps"})


def test_failed_customers_join_is_an_error(small_course_dir, tmp_path):
    customers = pd.read_csv(small_course_dir / "customers.csv", dtype=str, keep_default_na=False)
    customers["customer_id"] = customers["customer_id"].str.replace("C", "K", regex=False)
    customers.to_csv(tmp_path / "customers.csv", index=False)
    with pytest.raises(DataError) as err:
        load(small_course_dir / "survey.csv", tmp_path / "customers.csv")
    msg = str(err.value)
    assert "survey.csv" in msg and "customers.csv" in msg and "customer_id" in msg and "\n" not in msg


def test_partial_customers_join_is_reported(small_course_dir, tmp_path):
    customers = pd.read_csv(small_course_dir / "customers.csv", dtype=str, keep_default_na=False)
    customers.iloc[: len(customers) // 4].to_csv(tmp_path / "customers.csv", index=False)
    data = load(small_course_dir / "survey.csv", tmp_path / "customers.csv", segment_cols=["segment"],
                comment_col=None)
    assert 0.15 < data.join_match_rate < 0.35
    assert set(data.frame["segment"].dropna()) and data.frame["segment"].isna().mean() > 0.6
    report = analyze(data)
    first = nps.key_findings(report)[0]
    assert first.startswith("**Warning:**") and f"{data.join_match_rate:.1%}" in first
    assert narrative.esc(data.inputs["customers"]) in first  # the file name escaped, like every data-derived value
    res = report.to_results()
    assert res["join_match_rate"] == pytest.approx(data.join_match_rate)
    assert nps.MISSING_LABEL in [r["value"] for r in res["by_segment"]["segment"]]


def test_min_cell_counts_people_not_answers():
    """Six answers from two customers are two people: with a cluster column the group is suppressed."""
    frame = pd.DataFrame({
        "nps": [10, 9, 3, 10, 8, 7] + [9, 10, 2, 6, 8, 10, 9, 1],
        "segment": ["Tiny"] * 6 + ["Big"] * 8,
        "customer_id": ["a", "a", "a", "b", "b", "b"] + [f"c{i}" for i in range(8)],
        "date": pd.to_datetime(["2025-01-05"] * 6 + ["2025-01-06"] * 8),
    })
    by_answers = nps.by_segment(frame, "segment", min_cell=5).set_index("value")
    by_people = nps.by_segment(frame, "segment", min_cell=5, cluster_col="customer_id").set_index("value")
    assert not by_answers.loc["Tiny", "suppressed"]
    assert by_people.loc["Tiny", "suppressed"] and pd.isna(by_people.loc["Tiny", "n"])
    assert np.isnan(by_people.loc["Tiny", "nps"])
    # the other group is hidden as well: otherwise overall minus it would reveal the two customers
    assert by_people["suppressed"].all()
    trend = nps.trend(frame[frame.segment == "Tiny"], period="M", min_cell=5, cluster_col="customer_id")
    assert trend["suppressed"].all() and trend["nps"].isna().all()


# --- the shared pieces this analysis brought: measures, clustered sums, effect sizes ----------------------------


def test_dimension_scores_are_respondent_means_of_the_items_answered():
    frame = pd.DataFrame({f"P{i}": [7.0, 1.0] for i in range(1, 23)})
    frame.loc[0, ["P5", "P6"]] = np.nan  # respondent 0 skipped two reliability items: mean of the other three
    frame.loc[0, ["P7", "P8", "P9"]] = [4.0, 5.0, 6.0]
    scores = measures.dimension_scores(frame)
    assert list(scores.columns) == ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    assert scores.loc[0, "reliability"] == pytest.approx(5.0) and scores.loc[1, "reliability"] == 1.0
    means = measures.dimension_means(frame).set_index("dimension")
    # over respondents (5 and 1 → 3), not the pooled item mean ((4+5+6+1·5)/8 = 2.5)
    assert means.loc["reliability", "mean"] == pytest.approx(3.0) and means.loc["reliability", "n"] == 2
    assert measures.dimension_scores(frame.drop(columns="P22")).columns.tolist()[-1] == "assurance"
    gaps = measures.dimension_scores(frame.assign(**{f"E{i}": 4.0 for i in range(1, 23)}), prefix="E")
    assert (gaps == 4.0).all().all()
    one = {"only": {"items": [1, 2]}}
    assert measures.dimension_scores(frame, dimensions=one)["only"].tolist() == [7.0, 1.0]


def test_people_per_group_matches_the_pairwise_unique_count():
    from loyaltylab.stats import clustered

    rng = np.random.default_rng(1)
    groups, people = rng.integers(0, 7, 5000), rng.integers(0, 900, 5000)
    groups[:10] = -1  # rows outside every group are not counted
    expected = np.bincount(np.unique(np.stack([groups[10:], people[10:]]), axis=1)[0], minlength=7)
    assert clustered.people_per_group(groups, people, 7).tolist() == expected.tolist()
    assert clustered.people_per_group(groups, None, 7) is None


def test_cohens_d_against_a_direct_computation():
    from loyaltylab.stats.effects import cohens_d

    rng = np.random.default_rng(2)
    a, b = rng.normal(1, 2, 80), rng.normal(0, 1.5, 120)
    d = cohens_d(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    pooled = math.sqrt((79 * a.var(ddof=1) + 119 * b.var(ddof=1)) / 198)
    assert d.d == pytest.approx((a.mean() - b.mean()) / pooled)
    se = math.sqrt(200 / (80 * 120) + d.d**2 / 400)
    assert (d.ci_low, d.ci_high) == pytest.approx((d.d - Z95 * se, d.d + Z95 * se))
    wide = cohens_d(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b), deff=4.0)
    assert wide.d == d.d and wide.se == pytest.approx(2 * d.se)


# --- escaping and hidden counts in what the report shows ---------------------------------------------------------


def test_segment_values_and_names_never_become_markup():
    """NPS used to escape HTML only: a segment value `[click](javascript:…)` became a live link."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    rng = np.random.default_rng(3)
    hostile = ["[click](javascript:alert(1))", "<img src=x onerror=alert(1)>", "a `b` | c"]
    frame = pd.DataFrame({"nps": rng.choice([10, 8, 2], 600), "plan`<i>|x": np.repeat(hostile, 200)})
    data = loaders.SurveyData(frame=frame, dropped_rows=0, inputs={"survey": "s.csv", "customers": None},
                              segment_cols=("plan`<i>|x",), has_dates=False, has_comments=False)
    report = nps.run(data, nps.Params(segment_cols=["plan`<i>|x"], cluster_col=None))
    lines = nps.key_findings(report) + nps.describe_segments(report)
    html = markdown2html_mistune("\n".join(f"- {line}" for line in lines))
    assert "<a " not in html and "<img" not in html and "<i>" not in html and "<code>" not in html
    assert "href" not in html and "onerror=" not in html.replace("onerror=alert(1)&gt;", "")


def test_tables_hide_counts_of_hidden_groups_and_use_standard_columns(course):
    _, report = course
    tables = report.tables()
    assert {"by_segment", "trend", "distribution", "dimensions", "dimension_means", "themes"} <= set(tables)
    assert {"estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "significant", "n", "suppressed"} <= set(
        tables["by_segment"])
    comparison = nps.compare_dimensions(_servqual_frame(300).assign(nps=[0] * 3 + [10] * 297), min_cell=5)
    means = comparison.means.set_index("category")
    assert means.loc["detractor", "suppressed"].all() and means.loc["detractor", "n"].isna().all()
    assert comparison.effects["suppressed"].all() and comparison.effects["n_detractors"].isna().all()
    res = report.to_results()
    assert set(results.DOCUMENT_KEYS) <= set(res) and res["analysis"] == "nps"
    assert results.to_jsonable(res)["params"]["segment_cols"] == ["segment", "region", "channel"]
