"""The loyalty-driver analysis (lib/loyaltylab/analyses/drivers): its wiring to the shared statistics, checked
against brute force, relaimpo's published values, a second implementation of Johnson's weights and statsmodels;
its own pieces (groups, the logistic bootstrap lattice, the per-segment bootstrap engine, Kano suppression, the
truth comparison); its parameters; results.json; and data the issue does not name."""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab import results
from loyaltylab.analyses import drivers as dr
from loyaltylab.analyses.drivers import bootstrap, groups, keydrivers, logistic, segments
from loyaltylab.analyses.drivers import truth as truth_mod
from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats import dominance as dom
from loyaltylab.stats import importance as imp

FIXTURES = Path(__file__).parent / "fixtures"
SWISS_X = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
# relaimpo 2.2-7 (see tests/test_stats_importance.py): calc.relimp(Fertility ~ ., swiss), R² and the lmg shares
# published in Grömping (2006), and Johnson's weights from R's eigen route.
RELAIMPO_R2 = 0.70673500159272595
PUBLISHED_LMG_SHARES = [0.08078165, 0.24220256, 0.36807952, 0.14937728, 0.15955899]
R_RELATIVE_WEIGHTS = [0.048416895811900659, 0.15470824980615999, 0.27196410464599913, 0.11468002994756153,
                      0.11696572138110456]
CONTRACT_DRIVER_KEYS = {"lmg", "lmg_share", "lmg_ci_low", "lmg_ci_high", "relative_weight", "relative_weight_share",
                        "beta_std", "vif", "rank", "performance"}


# --- helpers ---------------------------------------------------------------------------------------------------


def _r2(y: np.ndarray, X: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), X])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    centred = y - y.mean()
    return 1.0 - resid @ resid / (centred @ centred)


def _brute_orderings(y, units: list[np.ndarray], controls: np.ndarray | None = None) -> np.ndarray:
    """Average R² gain of each unit (a block of columns) over every ordering, each prefix a separate lstsq fit."""
    base = np.empty((len(y), 0)) if controls is None else controls
    out = np.zeros(len(units))
    orders = list(itertools.permutations(range(len(units))))
    for order in orders:
        prev = _r2(y, base)
        cols = [base]
        for k in order:
            cols.append(units[k])
            cur = _r2(y, np.column_stack(cols))
            out[k] += cur - prev
            prev = cur
    return out / len(orders)


def _brute_subsets(y, X: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """Shapley values over all 2**p subsets: Σ |S|!(p−|S|−1)!/p! · (R²(S ∪ j) − R²(S)), each R² an lstsq fit."""
    p = X.shape[1]
    r2 = {}
    for mask in range(2 ** p):
        cols = [j for j in range(p) if mask >> j & 1]
        r2[mask] = _r2(y, np.column_stack([controls, X[:, cols]]))
    out = np.zeros(p)
    for j in range(p):
        for mask in range(2 ** p):
            if mask >> j & 1:
                continue
            k = bin(mask).count("1")
            out[j] += math.factorial(k) * math.factorial(p - k - 1) / math.factorial(p) * (r2[mask | 1 << j] - r2[mask])
    return out


def _johnson_svd(y: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights, second implementation: SVD of the standardised rows, Z = U Vᵀ."""
    Xs = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    u, s, vt = np.linalg.svd(Xs, full_matrices=False)
    z = u @ vt * np.sqrt(len(y) - 1)  # orthonormal counterparts with unit variance
    lam = np.linalg.lstsq(z, Xs, rcond=None)[0]
    beta = np.linalg.lstsq(z, ys, rcond=None)[0]
    return (lam ** 2).T @ beta ** 2


def _simulated_file(tmp_path: Path, n: int = 400, seed: int = 3, name: str = "survey.csv", **extra) -> Path:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4)) @ np.array([[1, .5, .3, .2], [0, 1, .4, .1], [0, 0, 1, .5], [0, 0, 0, 1]])
    frame = pd.DataFrame(z, columns=["speed", "price", "staff", "app"])
    frame["plan"] = rng.choice(["Basic", "Plus", "Pro"], n, p=[.5, .3, .2])
    frame["score"] = z @ np.array([.5, .3, .2, .1]) + (frame["plan"] == "Pro") * .4 + rng.normal(size=n)
    frame["customer_id"] = [f"K{i // 2:05d}" for i in range(n)]
    for k, v in extra.items():
        frame[k] = v
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def swiss() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "swiss.csv", index_col=0)


@pytest.fixture(scope="module")
def course(small_course_dir):
    return dr.analyze(dr.Params(survey_path=str(small_course_dir / "survey.csv"), n_bootstrap=200))


# --- wiring vs the statistics ----------------------------------------------------------------------------------


def test_lmg_through_the_analysis_equals_brute_force_over_orderings(tmp_path):
    path = _simulated_file(tmp_path)
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="score", drivers=["speed", "price", "staff", "app"],
                               controls=["plan"], segment_cols=[], n_bootstrap=0))
    raw = pd.read_csv(path)
    dummies = np.column_stack([(raw["plan"] == lv).astype(float) for lv in ("Plus", "Pro")])
    X = raw[["speed", "price", "staff", "app"]].to_numpy()
    brute = _brute_orderings(raw["score"].to_numpy(), [X[:, [j]] for j in range(4)], dummies)
    np.testing.assert_allclose(res.drivers["lmg"], brute, atol=1e-10)
    assert res.r2 == pytest.approx(_r2(raw["score"].to_numpy(), np.column_stack([dummies, X])), abs=1e-12)
    assert res.decomposition.point.r2_controls == pytest.approx(_r2(raw["score"].to_numpy(), dummies), abs=1e-12)
    assert res.drivers["lmg_share"].sum() == pytest.approx(1.0)
    assert res.data.control_columns == ("plan[Plus]", "plan[Pro]")  # the most frequent level is the reference


def test_swiss_user_file_gives_relaimpo_values_with_default_parameters_otherwise(swiss):
    res = dr.analyze(dr.Params(survey_path=str(FIXTURES / "swiss.csv"), outcome="Fertility", drivers=SWISS_X,
                               n_bootstrap=100))
    np.testing.assert_allclose(res.drivers["lmg_share"], PUBLISHED_LMG_SHARES, atol=5.1e-9)
    np.testing.assert_allclose(res.drivers["relative_weight"], R_RELATIVE_WEIGHTS, atol=1e-12)
    assert res.r2 == pytest.approx(RELAIMPO_R2, abs=1e-14)
    assert res.data.cluster_col is None and res.segments is None and res.truth is None
    assert any("customer_id" in n for n in res.notes) and any("'segment'" in n for n in res.notes)
    y, X = swiss["Fertility"].to_numpy(), swiss[SWISS_X].to_numpy()
    np.testing.assert_allclose(res.drivers["relative_weight"], _johnson_svd(y, X), atol=1e-10)
    # standardised betas and VIFs as statsmodels gives them
    import statsmodels.api as sm
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    zs = (swiss - swiss.mean()) / swiss.std()
    beta = sm.OLS(zs["Fertility"], zs[SWISS_X]).fit().params.to_numpy()
    np.testing.assert_allclose(res.drivers["beta_std"], beta, atol=1e-10)
    design = sm.add_constant(swiss[SWISS_X]).to_numpy()
    np.testing.assert_allclose(res.drivers["vif"], [variance_inflation_factor(design, j) for j in range(1, 6)],
                               rtol=1e-9)
    # the suppressor: Agriculture correlates positively with Fertility, its beta is negative
    w = res.warnings
    assert ((w["kind"] == "suppressor") & (w["driver"] == "Agriculture")).any()
    assert any("Sign flip" in line and "Agriculture" in line for line in dr.describe_warnings(res))
    assert not any("SERVQUAL" in line or "course" in line for line in dr.describe_importance(res))


def test_holzinger_data_the_issue_does_not_name_equals_brute_force_over_subsets():
    path = FIXTURES / "holzinger_swineford1939.csv"
    xs = [f"x{j}" for j in range(1, 9)]
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="x9", drivers=xs, controls=["grade"],
                               segment_cols=["school"], n_bootstrap=200, cluster_col=None))
    raw = pd.read_csv(path).dropna(subset=["x9", *xs, "grade"])
    brute = _brute_subsets(raw["x9"].to_numpy(), raw[xs].to_numpy(), raw[["grade"]].to_numpy())
    np.testing.assert_allclose(res.drivers["lmg"], brute, atol=1e-10)
    assert res.decomposition.boot is not None and res.decomposition.boot.n_boot == 200
    lmg = res.decomposition.boot.intervals.query("measure == 'lmg'")
    assert ((lmg["ci_low"] <= lmg["estimate"]) & (lmg["estimate"] <= lmg["ci_high"])).all()
    # the two schools: point shares equal the decomposition of each school's rows (grade stays a control)
    for school in ("Pasteur", "Grant-White"):
        part = raw[raw["school"] == school]
        direct = imp.relative_importance(part, "x9", xs, ["grade"]).table["lmg_share"].to_numpy()
        mine = res.segments.table.query("value == @school")["estimate"].to_numpy()
        np.testing.assert_allclose(mine, direct, atol=1e-9)


def test_driver_groups_equal_brute_force_over_orderings_of_the_groups(tmp_path):
    path = _simulated_file(tmp_path)
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="score", drivers=["speed", "price", "staff", "app"],
                               driver_groups={"people": ["staff", "app"], "offer": ["speed", "price"]},
                               segment_cols=["plan"], n_bootstrap=50))
    raw = pd.read_csv(path)
    X = raw[["speed", "price", "staff", "app"]].to_numpy()
    assert list(res.drivers["driver"]) == ["offer", "people"]
    brute = _brute_orderings(raw["score"].to_numpy(), [X[:, [0, 1]], X[:, [2, 3]]])
    np.testing.assert_allclose(res.drivers["lmg"], brute, atol=1e-10)
    rw = imp.relative_importance(raw, "score", ["speed", "price", "staff", "app"]).table["relative_weight"]
    np.testing.assert_allclose(res.drivers["relative_weight"], [rw[0] + rw[1], rw[2] + rw[3]], atol=1e-12)
    assert res.drivers["beta_std"].isna().all() and res.drivers["members"].tolist() == [["speed", "price"],
                                                                                     ["staff", "app"]]
    assert res.boot.intervals["measure"].str.contains("lmg_share").any() and len(res.boot.pairs) == 1
    assert res.segments.table["driver"].unique().tolist() == ["offer", "people"]
    # one group of one driver each: the same as no groups
    one = groups.measures(np.cov(raw[["score", "speed", "price"]].to_numpy(), rowvar=False), 2, [[0], [1]])
    plain = imp.relative_importance(raw, "score", ["speed", "price"])
    np.testing.assert_allclose(one["lmg"], plain.table["lmg"], atol=1e-12)


def test_logistic_lattice_matches_the_statsmodels_one(swiss):
    data = swiss.assign(High=(swiss["Fertility"] > 70).astype(float))
    ref = imp.logistic_importance(data, "High", SWISS_X)
    mine = logistic.lattice(data["High"].to_numpy(), np.empty((len(data), 0)), data[SWISS_X].to_numpy())
    np.testing.assert_allclose(mine, ref.subset_r2, atol=1e-7)
    # integer weights = duplicated rows
    w = np.random.default_rng(0).integers(1, 4, len(data)).astype(float)
    dup = data.loc[data.index.repeat(w.astype(int))]
    np.testing.assert_allclose(logistic.lattice(data["High"].to_numpy(), data[["Agriculture"]].to_numpy(),
                                                data[SWISS_X[1:]].to_numpy(), w),
                               imp.logistic_importance(dup, "High", SWISS_X[1:], ["Agriculture"]).subset_r2,
                               atol=1e-7)


def test_promoter_outcome_is_the_logistic_decomposition(small_course_dir):
    res = dr.analyze(dr.Params(survey_path=str(small_course_dir / "survey.csv"), outcome="promoter",
                               n_bootstrap=20))
    assert res.decomposition.kind == "logistic" and res.segments is None and res.promoter is None
    frame = res.data.model
    ref = imp.logistic_importance(frame, "promoter", res.data.drivers, max_rows=len(frame) + 1)
    np.testing.assert_allclose(res.drivers["lmg"], ref.table["lmg"], atol=1e-12)
    assert res.r2 == pytest.approx(ref.r2)
    assert res.boot.n_boot == 20 and res.drivers["lmg_share_ci_low"].notna().all()
    assert res.drivers["relative_weight"].isna().all() and res.drivers["vif"].notna().all()
    doc = json.loads(results.dumps(res.to_results()))
    assert doc["model"].startswith("logistic") and set(doc["drivers"]["reliability"]) >= CONTRACT_DRIVER_KEYS


def test_nps_outcome_has_the_promoter_decomposition_beside_it(course):
    assert course.promoter is not None and course.promoter.kind == "logistic"
    assert course.promoter.point.table["lmg_share"].sum() == pytest.approx(1.0)


# --- the per-segment engine ------------------------------------------------------------------------------------


def test_stratum_sums_resample_like_the_shared_bootstrap_engine():
    """One stratum, exact path: the same multinomial draws as stats.dominance.replicate_covariances."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(600, 4)) @ rng.normal(size=(4, 4))
    clusters = pd.factorize(rng.integers(0, 250, 600))[0]
    point, reps = bootstrap.stratum_sums(x, clusters, [np.zeros(600, dtype=int)], [1], n_boot=30, seed=7)
    counts_seed = int(np.random.default_rng([7, 0, 0]).integers(2 ** 31))
    mine = dom.correlation(bootstrap.covariances(reps[0][:, 0], 4))
    shared = dom.correlation(dom.replicate_covariances(x, clusters, n_boot=30, seed=counts_seed))
    np.testing.assert_allclose(mine, shared, atol=1e-10)
    np.testing.assert_allclose(dom.correlation(bootstrap.covariances(point[0][0], 4)), np.corrcoef(x, rowvar=False),
                               atol=1e-12)


def test_stratum_sums_normal_limit_agrees_with_exact_resampling(monkeypatch):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3000, 3)) @ np.array([[1, .5, .2], [0, 1, .4], [0, 0, 1]])
    clusters = pd.factorize(rng.integers(0, 1500, 3000))[0]
    strata = [rng.integers(0, 2, 3000)]
    _, exact = bootstrap.stratum_sums(x, clusters, strata, [2], n_boot=600, seed=3)
    monkeypatch.setattr(bootstrap, "NORMAL_LIMIT_CLUSTERS", 10)
    _, normal = bootstrap.stratum_sums(x, clusters, strata, [2], n_boot=600, seed=3)
    for reps in (exact, normal):
        assert reps[0].shape == (600, 2, 10)
    a = dom.correlation(bootstrap.covariances(exact[0], 3))[..., 0, 1]
    b = dom.correlation(bootstrap.covariances(normal[0], 3))[..., 0, 1]
    np.testing.assert_allclose(a.mean(axis=0), b.mean(axis=0), atol=0.01)
    np.testing.assert_allclose(a.std(axis=0), b.std(axis=0), rtol=0.15)


def test_segment_and_rest_point_estimates_equal_the_direct_decomposition(course):
    seg, f = course.segments, course.data.frame.loc[course.data.complete]
    m = course.data.model
    for value in ("Basic", "Premium"):
        inside = (f["segment"] == value).to_numpy()
        direct = imp.relative_importance(m[inside], "nps", course.data.drivers).table
        rest = imp.relative_importance(m[~inside], "nps", course.data.drivers).table
        rows = seg.table.query("column == 'segment' and value == @value")
        np.testing.assert_allclose(rows["estimate"], direct["lmg_share"], atol=1e-9)
        np.testing.assert_allclose(rows["rest"], rest["lmg_share"], atol=1e-9)
    tested = seg.table[seg.table["p_value"].notna()]
    assert (tested["p_value"] >= 2 / (seg.n_boot + 1) - 1e-12).all()  # never p = 0 on finitely many replicates


def test_segment_test_keeps_its_level_when_nothing_differs():
    """A world where every segment has the same drivers: Holm-significant differences are rare."""
    hits = 0
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        n = 900
        x = rng.normal(size=(n, 3)) @ np.array([[1, .5, .3], [0, 1, .4], [0, 0, 1]])
        y = x @ np.array([.5, .3, .2]) + rng.normal(size=n)
        model = pd.DataFrame(np.column_stack([y, x]), columns=["y", "a", "b", "c"])
        seg = pd.Series(rng.choice(["u", "v", "w"], n), index=model.index)
        res = segments.by_segment(model, {"s": seg}, None, 3, ["a", "b", "c"], None, n_boot=200, seed=seed,
                                  confidence=0.95, min_cell=5)
        hits += bool(res.table["significant"].any())
    assert hits <= 2


def test_small_segments_are_suppressed_with_their_counts(tmp_path):
    plan = ["Basic"] * 200 + ["Plus"] * 197 + ["Tiny <b>x</b>"] * 3
    path = _simulated_file(tmp_path, plan=plan)
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="score", drivers=["speed", "price", "staff", "app"],
                               segment_cols=["plan"], n_bootstrap=50, cluster_col=None))
    g = res.segments.groups.set_index("value")
    assert g.loc["Tiny <b>x</b>", "suppressed"] and pd.isna(g.loc["Tiny <b>x</b>", "n"])
    assert g["suppressed"].sum() == 2  # complementary: the next-smallest group too
    hidden = res.segments.table[res.segments.table["suppressed"]]
    assert hidden["n"].isna().all() and hidden["estimate"].isna().all() and not hidden["significant"].any()
    doc = json.loads(results.dumps(res.to_results()))
    for row in doc["by_segment"]["plan"]:
        if row["suppressed"]:
            assert row["n"] is None and row["drivers"] == {}


# --- other sections ------------------------------------------------------------------------------------------


def test_kano_suppresses_drivers_with_a_small_box(tmp_path):
    rng = np.random.default_rng(2)
    n = 300
    rating = np.r_[np.full(3, 1), rng.integers(4, 8, n - 3)]  # only three respondents in the bottom box (1–3)
    frame = pd.DataFrame({"y": rng.normal(size=n) + 0.2 * rating, "rating": rating, "other": rng.normal(size=n)})
    path = tmp_path / "k.csv"
    frame.to_csv(path, index=False)
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="y", drivers=["rating", "other"], n_bootstrap=0))
    k = res.kano.set_index("driver")
    assert k.loc["rating", "suppressed"] and pd.isna(k.loc["rating", "n_bottom"]) and k.loc["rating", "category"] is None
    assert not k.loc["other", "suppressed"] and k.loc["other", "category"] in ("basic", "performance", "excitement")
    doc = json.loads(results.dumps(res.to_results()))
    assert doc["kano"]["rating"]["penalty"] is None and doc["kano"]["rating"]["n"] is None
    assert set(doc["kano"]["other"]) >= {"penalty", "reward", "category"}


def test_key_driver_quadrants_and_stated_importance(course, small_course_dir):
    k = course.key_drivers
    p = len(k)
    hi = k["importance"] >= 1 / p
    good = k["performance_axis"] >= k["performance_axis"].mean()
    expect = [keydrivers.QUADRANTS[(bool(a), bool(b))] for a, b in zip(hi, good)]
    assert list(k["quadrant"]) == expect and course.performance_scale == "mean"
    assert k["importance_stability"].between(0, 1).all()
    s = course.stated
    assert s is not None and s["stated"].sum() == pytest.approx(1.0)
    survey = pd.read_csv(small_course_dir / "survey.csv")
    rows = course.data.frame.index[course.data.complete]
    f = survey.loc[rows, [f"importance_{d}" for d in course.data.drivers]].dropna()
    np.testing.assert_allclose(s["stated"], (f.div(f.sum(axis=1), axis=0)).mean().to_numpy(), atol=1e-12)


def test_collinear_drivers_are_flagged_with_a_grouping_offer(tmp_path):
    rng = np.random.default_rng(4)
    a = rng.normal(size=300)
    frame = pd.DataFrame({"a<b>": a, "a2": a + 0.1 * rng.normal(size=300), "c": rng.normal(size=300)})
    frame["y"] = frame.sum(axis=1) + rng.normal(size=300)
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="y", drivers=["a<b>", "a2", "c"], n_bootstrap=0))
    lines = dr.describe_warnings(res)
    assert any("driver\\_groups" in x or "driver_groups" in x for x in lines)
    assert not any("<b>" in x for x in lines)  # the column name is escaped


def test_truth_comparison_when_the_population_is_known(course):
    table = course.drivers
    pop = {"r2": course.r2, "lmg": dict(zip(table["driver"], table["lmg"])),
           "lmg_share": dict(zip(table["driver"], table["lmg_share"] + 0.5)),
           "relative_weight_share": dict(zip(table["driver"], table["relative_weight_share"]))}
    truth = {"drivers": {"population": {"nps": pop}, "weights": {"tangibles": .1, "reliability": .35,
                                                                 "responsiveness": .25, "assurance": .15,
                                                                 "empathy": .15}}}
    assert truth_mod.applies(truth, "nps", True, (), False, {}, "linear")
    assert not truth_mod.applies(truth, "nps", True, (), False, {"region": "North"}, "linear")
    assert not truth_mod.applies(truth, "nps", True, ("segment",), False, {}, "linear")
    assert not truth_mod.applies(truth, "satisfaction", True, (), False, {}, "linear")
    t = truth_mod.truth_comparison(truth, "nps", table, course.r2, course.boot)
    shares = t[t["measure"] == "lmg_share"]
    assert not shares["covered"].any()
    assert t[t["measure"] == "relative_weight_share"]["covered"].all()
    assert t[t["measure"] == "r2"]["covered"].all()
    assert shares.set_index("driver").loc["reliability", "latent_weight"] == pytest.approx(0.35)


def test_course_truth_is_used_when_truth_json_has_it(course):
    pop = truth_mod.population(course.data.truth, "nps")
    if pop is None:
        assert course.truth is None and dr.describe_truth(course) == []
        pytest.skip("truth.json has no drivers.population yet")
    t = course.truth
    assert set(t["measure"]) >= {"lmg_share", "relative_weight_share"}
    assert t["covered"].dropna().mean() >= 0.6
    assert any("observed dimension scores" in line for line in dr.describe_truth(course))


def test_course_world_intervals_cover_the_true_shares_over_seeds(tmp_path):
    """Bootstrap coverage of truth.json's population shares of the observed dimension scores, over course worlds."""
    from loyaltylab import synth

    covered = []
    for seed in (21, 22, 23):
        world = synth.generate(n_customers=1500, seed=seed)
        if truth_mod.population(world.truth, "satisfaction") is None:
            pytest.skip("truth.json has no drivers.population yet")
        out = tmp_path / str(seed)
        synth.write(world, out, fmt="csv")
        res = dr.analyze(dr.Params(survey_path=str(out / "survey.csv"), outcome="satisfaction", segment_cols=[],
                                   n_bootstrap=300, seed=seed))
        t = res.truth
        covered += list(t.loc[t["measure"].isin(["lmg_share", "relative_weight_share"]), "covered"].astype(bool))
    assert np.mean(covered) >= 0.8


def test_bootstrap_covers_known_population_shares():
    """Intervals of LMG shares on samples from a known normal population contain its shares about 95% of the time."""
    cov = np.array([[1.0, .5, .45, .35], [.5, 1, .4, .3], [.45, .4, 1, .35], [.35, .3, .35, 1]])
    cols = ["y", "a", "b", "c"]
    true = imp.importance_from_covariance(pd.DataFrame(cov, index=cols, columns=cols), "y", ["a", "b", "c"],
                                          n=10 ** 6).table["lmg_share"].to_numpy()
    covered, total = 0, 0
    for seed in range(30):
        x = np.random.default_rng(seed).multivariate_normal(np.zeros(4), cov, size=500)
        model = pd.DataFrame(x, columns=cols)
        dec = dr.decompose(model, "y", ["a", "b", "c"], [], {}, None, n_boot=200, seed=seed, confidence=0.95)
        t = dec.table()
        covered += int(((t["lmg_share_ci_low"] <= true) & (true <= t["lmg_share_ci_high"])).sum())
        total += 3
    assert covered / total >= 0.85


def test_derived_importance_is_the_shared_entry_point(course, small_course_dir):
    survey = pd.read_csv(small_course_dir / "survey.csv")
    table = dr.derived_importance(survey, "nps")
    np.testing.assert_allclose(table["lmg_share"], course.drivers["lmg_share"], atol=1e-12)
    assert list(table["driver"]) == list(course.drivers["driver"])
    boot = dr.derived_importance(survey, "nps", cluster="customer_id", n_bootstrap=50)
    assert (boot["ci_low"] <= boot["lmg_share"]).all() and (boot["lmg_share"] <= boot["ci_high"]).all()


def test_customer_columns_are_joined_and_text_controls_become_dummies(small_course_dir):
    res = dr.analyze(dr.Params(survey_path=str(small_course_dir / "survey.csv"), outcome="satisfaction",
                               drivers=["reliability", "provider_proactive"], controls=["channel"], n_bootstrap=0,
                               segment_cols=["segment"]))
    assert set(res.data.from_customers) == {"provider_proactive", "channel"}
    customers = pd.read_csv(small_course_dir / "customers.csv").set_index("customer_id")
    survey = pd.read_csv(small_course_dir / "survey.csv")
    f = res.data.frame
    np.testing.assert_array_equal(f["provider_proactive"], survey["customer_id"].map(customers["provider_proactive"]))
    assert {c for c in res.data.control_columns} == {"channel[Store]", "channel[Phone]", "channel[Partner]"}
    doc = json.loads(results.dumps(res.to_results()))
    assert doc["inputs"]["customers"].endswith("customers.csv")


# --- parameters, files, results.json ---------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, name", [
    ({"driver_groups": {"g": ["x"], "h": ["x"]}}, "driver_groups"),
    ({"driver_groups": {"g": "x"}}, "driver_groups"),
    ({"outcome": "a", "drivers": ["a", "b"]}, "outcome"),
    ({"drivers": ["a", "b"], "controls": ["b"]}, "controls"),
    ({"n_bootstrap": 5}, "n_bootstrap"),
    ({"drivers": ["a", "b"], "driver_groups": {"g": ["a", "c"]}}, "driver_groups"),
    ({"outcome": "promoter", "driver_groups": {"g": ["a", "b"]}}, "driver_groups"),
    ({"confidence": 95}, "confidence"),
])
def test_bad_parameters_are_one_line_before_reading(kwargs, name):
    with pytest.raises(ParameterError) as info:
        dr.Params(**kwargs)
    assert str(info.value).startswith(f"parameters: {name} = ") and "\n" not in str(info.value)


def test_parameters_normalise():
    p = dr.Params(drivers=["a", "b"], controls="c", driver_groups={}, segment_cols=None)
    assert p.drivers == ("a", "b") and p.controls == ("c",) and p.driver_groups is None and p.segment_cols == ()
    assert dr.Params(driver_groups={"g": ["a", "b"]}).driver_groups == {"g": ("a", "b")}


def test_a_file_with_just_an_outcome_and_drivers_runs_with_the_defaults(tmp_path):
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(rng.normal(size=(120, 3)), columns=["价格", "服务", "速度"])
    frame["满意度"] = frame.sum(axis=1) + rng.normal(size=120)
    path = tmp_path / "own.csv"
    frame.to_csv(path, index=False)
    res = dr.analyze({"survey_path": str(path), "outcome": "满意度", "drivers": ["价格", "服务", "速度"]})
    assert res.n == 120 and res.data.cluster_col is None and res.segments is None and res.stated is None
    assert res.truth is None and res.promoter is None and not res.is_course
    assert res.boot.n_boot == 1000 and res.boot.n_clusters == 120
    doc = json.loads(results.dumps(res.to_results()))
    assert doc["drivers"]["价格"]["rank"] in (1, 2, 3) and doc["by_segment"] == {}
    assert res.key_findings()


def test_missing_columns_and_text_drivers_are_one_line_data_errors(tmp_path, small_course_dir):
    path = _simulated_file(tmp_path)
    with pytest.raises(DataError, match="neither the survey"):
        dr.analyze(dr.Params(survey_path=str(path), outcome="score", drivers=["speed", "nope"]))
    with pytest.raises(DataError, match="not a number|must be numeric|number"):
        dr.analyze(dr.Params(survey_path=str(path), outcome="score", drivers=["speed", "plan"]))
    with pytest.raises(DataError, match="perception items"):
        dr.analyze(dr.Params(survey_path=str(path), outcome="score"))


def test_results_json_has_the_contract_keys(course):
    doc = json.loads(results.dumps(course.to_results()))
    assert doc["analysis"] == "drivers" and doc["outcome"] == "nps"
    assert doc["n"] == course.n and doc["r2"] == pytest.approx(course.r2, abs=1e-9)
    dims = ["tangibles", "reliability", "responsiveness", "assurance", "empathy"]
    assert set(doc["drivers"]) == set(dims)
    for d in dims:
        assert set(doc["drivers"][d]) >= CONTRACT_DRIVER_KEYS
        assert doc["drivers"][d]["lmg_ci_low"] <= doc["drivers"][d]["lmg"] <= doc["drivers"][d]["lmg_ci_high"]
        assert set(doc["kano"][d]) >= {"penalty", "reward", "category"}
        assert doc["dominance"]["general"][d] == pytest.approx(doc["drivers"][d]["lmg"])
    pairs = doc["dominance"]["complete"]
    assert len(pairs) == 10 and all({"driver", "other", "dominant"} <= set(x) for x in pairs)
    assert all(x["dominant"] in (None, x["driver"], x["other"]) for x in pairs)
    assert sum(doc["drivers"][d]["lmg"] for d in dims) == pytest.approx(doc["r2"])
    assert set(doc["ranks"]["reliability"]["probabilities"]) == {"1", "2", "3", "4", "5"}
    assert doc["headline"]["Outcome"] == "nps" and doc["headline_order"]
    assert doc["n_bootstrap"] == 200 and doc["cluster_col"] == "customer_id"


def test_every_sentence_is_built(course):
    for fn in (dr.describe_data, dr.describe_importance, dr.describe_measures, dr.describe_uncertainty,
               dr.describe_dominance, dr.describe_promoter, dr.describe_key_drivers, dr.describe_stated,
               dr.describe_kano, dr.describe_segments, dr.describe_warnings):
        lines = fn(course)
        assert lines and all(isinstance(x, str) and x for x in lines), fn.__name__
    assert any("Reliability" in x for x in dr.describe_importance(course))


def test_explorer_selection(course):
    table, line = dr.selection(course, "satisfaction", ["reliability", "empathy"], "segment = Premium")
    assert table is not None and len(table) == 2 and "Premium" in line
    f = course.data.frame.loc[course.data.complete]
    part = f[f["segment"] == "Premium"]
    direct = imp.relative_importance(part, "satisfaction", ["reliability", "empathy"]).table
    np.testing.assert_allclose(table["lmg_share"], direct["lmg_share"], atol=1e-12)
    none, msg = dr.selection(course, "nps", ["nps"])
    assert none is None and "driver" in msg


def test_plots_draw(course):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for fn in (dr.plot_importance, dr.plot_measures, dr.plot_rank_probabilities, dr.plot_pairs,
               dr.plot_key_drivers, dr.plot_stated, dr.plot_kano, dr.plot_segments):
        assert fn(course) is not None, fn.__name__
        plt.close("all")


def test_dollar_signs_in_names_do_not_break_the_charts(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = ["$x$"] * 150 + ["a $ b"] * 150 + ["$"] * 100
    path = _simulated_file(tmp_path, plan=plan)
    frame = pd.read_csv(path).rename(columns={"speed": "cost $", "price": "$price"})
    frame.to_csv(path, index=False)
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="score", drivers=["cost $", "$price", "staff"],
                               segment_cols=["plan"], n_bootstrap=20))
    for fn in (dr.plot_importance, dr.plot_measures, dr.plot_key_drivers, dr.plot_kano, dr.plot_segments):
        fig = fn(res).figure
        fig.canvas.draw()
        plt.close("all")


def test_more_than_twenty_drivers_are_sampled_with_their_monte_carlo_error(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(400, 22))
    frame = pd.DataFrame(x, columns=[f"d{j}" for j in range(22)])
    frame["y"] = x @ rng.uniform(0, 1, 22) + rng.normal(size=400)
    path = tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    res = dr.analyze(dr.Params(survey_path=str(path), outcome="y", drivers=[f"d{j}" for j in range(22)],
                               n_bootstrap=50))
    assert not res.decomposition.point.exact and res.boot is None
    assert (res.drivers["lmg_se"] > 0).all() and res.drivers["lmg"].sum() == pytest.approx(res.r2)
    assert any("Monte Carlo" in n for n in res.notes)
    assert res.decomposition.dominance is None
    doc = json.loads(results.dumps(res.to_results()))
    assert doc["exact"] is False and doc["dominance"]["complete"] is None and doc["dominance"]["general"]


def test_filters_select_rows_and_drop_the_course_comparison(small_course_dir, course):
    res = dr.analyze(dr.Params(survey_path=str(small_course_dir / "survey.csv"), filters={"region": "North"},
                               segment_cols=["segment"], n_bootstrap=0))
    assert 0 < res.n < course.n and res.truth is None
    assert set(res.data.frame["region"]) == {"North"} if "region" in res.data.frame else True
