"""loyaltylab.stats.equivalence against hand computations, scipy's t tests, statsmodels' TOST, R (values stored
below) and coverage over seeds.

R values were printed by §9 of ``Rscript tests/fixtures/moderation/reference.R`` (R 4.2.2, sandwich) on
tests/fixtures/moderation/clustered.csv with group A = ``xb == 1``, B = ``xb == 0``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.weightstats import ttost_ind

from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats import equivalence as eq
from loyaltylab.stats.moderation import ols

FIXTURES = Path(__file__).parent / "fixtures" / "moderation"

# ea <- lm(y ~ xb + c1 + c2); coef, sqrt(vcovCL(ea, cluster = ~cid)["xb","xb"]), sqrt(vcovHC(ea, "HC2")["xb","xb"])
R_ADJUSTED = (0.541830423442, 0.231241660099, 0.183910683755)
# eu <- lm(y ~ xb); coef, sqrt(vcovCL(eu, cluster = ~cid)["xb","xb"])
R_UNADJUSTED_CLUSTERED = (0.508318444247, 0.232293061499)
# t.test(y[xb == 1], y[xb == 0]): t, df, p, conf.int
R_WELCH = (2.75281235936, 169.134094621, 0.00655395225441, 0.143794532025, 0.872842356469)
# score <- pmin(10, pmax(0, round(2 * y + 5))); s <- 100 * (score >= 9) - 100 * (score <= 6)
# es <- lm(s ~ xb + c1 + c2): coef, sqrt(vcovCL(es, cluster = ~cid)["xb","xb"])
R_NPS_ADJUSTED = (28.9588867666, 14.4075198804)
# NPS of A, NPS of B, sqrt(sum of 1e4 * (p + d - (p - d)^2) / n) — the trinomial delta method by hand
R_NPS_TRINOMIAL = (1.20481927711, -26.1744966443, 11.4466599274)


@pytest.fixture(scope="module")
def d() -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / "clustered.csv")
    # R's round() rounds halves to even, as numpy does
    return frame.assign(score=np.clip(np.round(2 * frame.y + 5), 0, 10))


def _two_samples(seed=3, na=80, nb=120):
    rng = np.random.default_rng(seed)
    ya, yb = rng.normal(1.2, 1, na), rng.normal(1.0, 2, nb)
    return ya, yb, np.r_[ya, yb], np.r_[np.ones(na), np.zeros(nb)]


# --- TOST and the verdict ------------------------------------------------------------------------------------------


def test_tost_by_hand():
    est, se, df, m = 0.8, 0.5, 30.0, 2.0
    row = eq.tost(est, se, m, df=df, confidence=0.90).iloc[0]
    t = stats.t(df)
    assert row["p_greater"] == pytest.approx(t.sf(est / se))
    assert row["p_value"] == pytest.approx(2 * t.sf(est / se))
    assert row["p_tost"] == pytest.approx(max(t.sf((est + m) / se), t.cdf((est - m) / se)))
    assert row["ci_low"] == pytest.approx(est - t.ppf(0.95) * se)
    assert row["ci_high"] == pytest.approx(est + t.ppf(0.95) * se)
    assert bool(row["equivalent"]) == (row["p_tost"] < 0.05)


def test_welch_difference_matches_scipy_and_r(d):
    ya, yb, y, g = _two_samples()
    row = eq.compare_groups(y, g, margin=0.5).unadjusted
    welch = stats.ttest_ind(ya, yb, equal_var=False)
    greater = stats.ttest_ind(ya, yb, equal_var=False, alternative="greater")
    assert row.estimate / row.se == pytest.approx(welch.statistic, rel=1e-12)
    assert row.df == pytest.approx(welch.df, rel=1e-12)
    assert row.p_value == pytest.approx(welch.pvalue, rel=1e-10)
    assert row.p_greater == pytest.approx(greater.pvalue, rel=1e-10)
    ci = welch.confidence_interval(0.95)
    assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    r = eq.compare_groups(d.y, d.xb).unadjusted
    assert (r.estimate / r.se, r.df, r.p_value, r.ci_low, r.ci_high) == pytest.approx(R_WELCH, rel=1e-9)


def test_tost_matches_two_scipy_one_sided_tests_and_statsmodels_ttost():
    ya, yb, y, g = _two_samples()
    margin = 0.5
    row = eq.compare_groups(y, g, margin=margin, confidence=0.90).unadjusted
    above_lower = stats.ttest_ind(ya + margin, yb, equal_var=False, alternative="greater").pvalue
    below_upper = stats.ttest_ind(ya - margin, yb, equal_var=False, alternative="less").pvalue
    assert row.p_tost == pytest.approx(max(above_lower, below_upper), rel=1e-10)
    assert row.p_tost == pytest.approx(ttost_ind(ya, yb, -margin, margin, usevar="unequal")[0], rel=1e-10)


def test_equivalence_reads_off_the_interval_for_any_confidence():
    rng = np.random.default_rng(0)
    est, se = rng.normal(0, 2, 400), rng.uniform(0.2, 1.5, 400)
    for confidence in (0.90, 0.95):
        t = eq.tost(est, se, 1.5, df=40, confidence=confidence)
        alpha = (1 - confidence) / 2
        assert np.array_equal(t["equivalent"], t["p_tost"] < alpha)
        assert np.array_equal(t["ci_low"] > 0, t["p_greater"] < alpha)
        assert 0 < t["equivalent"].mean() < 1


@pytest.mark.parametrize("est, se, verdict", [
    (3.0, 1.0, "higher"),         # interval (1.04, 4.96) above 0, not inside ±2
    (-3.0, 1.0, "lower"),
    (0.1, 0.5, "equivalent"),     # (−0.88, 1.08) inside ±2
    (1.5, 0.2, "equivalent"),     # (1.11, 1.89): above 0 but inside ±2 — a difference smaller than the margin
    (0.5, 1.5, "inconclusive"),   # (−2.44, 3.44)
])
def test_verdicts(est, se, verdict):
    row = eq.tost(est, se, 2.0).iloc[0]
    assert row["verdict"] == verdict
    assert row["significant"] == (abs(est) / se > stats.norm.ppf(0.975))


def test_without_margin_the_verdict_is_about_the_sign_only():
    t = eq.tost([3.0, 0.1, -3.0], 1.0)
    assert list(t["verdict"]) == ["higher", "inconclusive", "lower"]
    assert t["p_tost"].isna().all() and not t["equivalent"].any()


# --- adjusted and clustered comparisons against R -------------------------------------------------------------------


def test_adjusted_difference_matches_r_with_vcovcl_and_hc2(d):
    cl = eq.compare_groups(d.y, d.xb, d[["c1", "c2"]], d.cid, margin=1.0)
    assert cl.adjusted.estimate == pytest.approx(R_ADJUSTED[0], rel=1e-9)
    assert cl.adjusted.se == pytest.approx(R_ADJUSTED[1], rel=1e-8)
    assert cl.adjusted.df == 59 and cl.adjusted.n_clusters == 60
    assert cl.unadjusted.estimate == pytest.approx(R_UNADJUSTED_CLUSTERED[0], rel=1e-9)
    assert cl.unadjusted.se == pytest.approx(R_UNADJUSTED_CLUSTERED[1], rel=1e-8)
    hc2 = eq.compare_groups(d.y, d.xb, d[["c1", "c2"]], margin=1.0)
    assert hc2.adjusted.se == pytest.approx(R_ADJUSTED[2], rel=1e-8)
    assert hc2.adjusted.df == len(d) - 5
    assert list(cl.table["model"]) == ["unadjusted", "adjusted"] and cl.result is cl.adjusted
    assert cl.table["n"].tolist() == [len(d), len(d)]


def test_hc2_on_the_group_dummy_alone_is_welch():
    ya, yb, y, g = _two_samples()
    fit = ols(y, np.column_stack([np.ones(len(y)), g]), cov_type="HC2")
    welch = eq.compare_groups(y, g).unadjusted
    assert np.sqrt(fit.cov[1, 1]) == pytest.approx(welch.se, rel=1e-12)


def test_nps_difference_trinomial_and_adjusted_match_r(d):
    tri = eq.nps_difference(d.score, d.xb)
    assert (tri.value_a, tri.value_b, tri.se) == pytest.approx(R_NPS_TRINOMIAL, rel=1e-9)
    assert tri.estimate == pytest.approx(R_NPS_TRINOMIAL[0] - R_NPS_TRINOMIAL[1], rel=1e-12)
    cmp = eq.compare_groups(d.score, d.xb, d[["c1", "c2"]], d.cid, score="nps", margin=10)
    assert cmp.adjusted.estimate == pytest.approx(R_NPS_ADJUSTED[0], rel=1e-9)
    assert cmp.adjusted.se == pytest.approx(R_NPS_ADJUSTED[1], rel=1e-8)
    assert cmp.unadjusted.method == "trinomial_clustered"


def test_clustered_nps_variance_is_the_cluster_sandwich(d):
    """Linearised variance = statsmodels' cluster sandwich for s ~ 1 + A without its (N−1)/(N−K) factor."""
    diff = eq.nps_difference(d.score, d.xb, d.cid)
    s = eq.nps_values(d.score)
    res = sm.OLS(s, sm.add_constant(d.xb.to_numpy(float))).fit(cov_type="cluster", cov_kwds={"groups":
                                                                                          pd.factorize(d.cid)[0]})
    n = len(d)
    assert diff.se ** 2 == pytest.approx(res.cov_params()[1, 1] * (n - 2) / (n - 1), rel=1e-10)
    assert diff.n_clusters == 60


def test_one_answer_per_cluster_gives_the_independent_variance_times_g_over_g_minus_1(d):
    independent = eq.nps_difference(d.score, d.xb)
    singletons = eq.nps_difference(d.score, d.xb, np.arange(len(d)))
    g = len(d)
    assert singletons.se ** 2 == pytest.approx(independent.se ** 2 * g / (g - 1), rel=1e-12)


def test_other_groups_are_ignored_and_labels_can_be_text():
    ya, yb, y, g = _two_samples()
    labels = np.where(g == 1, "recovered", "never_failed")
    extra_y = np.r_[y, [100.0, -100.0, 50.0]]
    extra_g = np.r_[labels, ["unrecovered"] * 3]
    a = eq.compare_groups(extra_y, extra_g, a="recovered", b="never_failed").unadjusted
    b = eq.compare_groups(y, g).unadjusted
    assert a.estimate == pytest.approx(b.estimate) and a.se == pytest.approx(b.se)


def test_bad_input():
    ya, yb, y, g = _two_samples()
    with pytest.raises(ParameterError, match="margin"):
        eq.compare_groups(y, g, margin=0)
    with pytest.raises(ParameterError, match="margin"):
        eq.tost(1.0, 1.0, -1)
    with pytest.raises(ParameterError, match="score"):
        eq.compare_groups(y, g, score="median")
    with pytest.raises(ParameterError, match="confidence"):
        eq.tost(1.0, 1.0, confidence=95)
    with pytest.raises(DataError, match="group 2"):
        eq.compare_groups(y, g, a=2)
    with pytest.raises(DataError, match="between 0 and 10"):
        eq.nps_difference(np.r_[y, 11], np.r_[g, 1])


# --- coverage and size over seeds ----------------------------------------------------------------------------------


def _clustered_groups(rng, n_clusters=150, per=4):
    cid = np.repeat(np.arange(n_clusters), per)
    in_a = (rng.random(n_clusters) < 0.4)[cid]
    return cid, in_a, rng.normal(size=n_clusters)[cid]


@pytest.mark.slow
def test_clustered_mean_and_nps_intervals_cover_95_percent():
    cover_mean, cover_nps, naive_nps = [], [], []
    probs_a, probs_b = np.array([0.2, 0.3, 0.5]), np.array([0.25, 0.35, 0.4])  # detractor, passive, promoter
    truth_nps = 100 * ((probs_a[2] - probs_a[0]) - (probs_b[2] - probs_b[0]))
    for seed in range(300):
        rng = np.random.default_rng(seed)
        cid, in_a, u = _clustered_groups(rng)
        y = 0.3 * in_a + u + rng.normal(size=len(cid))
        r = eq.compare_groups(y, in_a.astype(int), clusters=cid, a=1, b=0).unadjusted
        cover_mean.append(r.ci_low < 0.3 < r.ci_high)
        shared = rng.random(len(cid)) < 0.6  # answers copy their customer's draw: clustered, same marginal mix
        v = np.where(shared, rng.random(150)[cid], rng.random(len(cid)))
        p = np.where(in_a[:, None], probs_a, probs_b)
        category = (v[:, None] > np.cumsum(p, axis=1)[:, :2]).sum(axis=1)
        scores = np.array([3.0, 7.0, 10.0])[category]
        c = eq.nps_difference(scores, in_a.astype(int), cid)
        cover_nps.append(c.ci_low < truth_nps < c.ci_high)
        i = eq.nps_difference(scores, in_a.astype(int))
        naive_nps.append(i.ci_low < truth_nps < i.ci_high)
    assert 0.92 <= np.mean(cover_mean) <= 0.98
    assert 0.92 <= np.mean(cover_nps) <= 0.98
    assert np.mean(naive_nps) < 0.90  # ignoring the clustering is detectably wrong here


@pytest.mark.slow
def test_tost_size_at_the_margin_and_power_at_zero():
    """A true difference exactly at the margin is declared equivalent with probability ≤ α = 2.5%."""
    at_margin, at_zero = [], []
    for seed in range(400):
        rng = np.random.default_rng(10_000 + seed)
        yb = rng.normal(0, 1, 150)
        for shift, out in ((0.4, at_margin), (0.0, at_zero)):
            ya = rng.normal(shift, 1, 150)
            r = eq.compare_groups(np.r_[ya, yb], np.r_[np.ones(150), np.zeros(150)], margin=0.4).unadjusted
            out.append(r.verdict == "equivalent")
    assert np.mean(at_margin) <= 0.045
    assert np.mean(at_zero) > 0.5
