"""Relative importance (LMG / Shapley, relative weights, dominance, first / last / Pratt, betas, VIF), the cluster
bootstrap of sufficient statistics, logistic dominance and penalty–reward, each against a reference.

References: relaimpo 2.2-7 (Grömping), run in R 4 from its CRAN sources; the shares printed in Grömping's relaimpo
vignette / J. Stat. Software 17(1) paper for R's ``swiss`` data; brute force over all orderings (numpy lstsq here,
``lm`` / ``glm`` in R); statsmodels OLS, VIF and cluster-robust covariances; coverage over seeds.
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats import dominance as dom
from loyaltylab.stats import importance as imp

FIXTURES = Path(__file__).parent / "fixtures"
SWISS_X = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]

# R 4.x: source("relaimpo/R/*.R") (relaimpo 2.2-7 from CRAN, global version), then
#   r <- calc.relimp(Fertility ~ ., data = swiss, type = c("lmg", "last", "first", "betasq", "pratt"))
#   sprintf("%.17g", r@R2); sprintf("%.17g", r@lmg); ... (rela = FALSE: raw values relative to var(Fertility))
RELAIMPO_R2 = 0.70673500159272595
RELAIMPO = {
    "lmg": [0.057091220768091297, 0.17117302890023411, 0.26013467862438494, 0.10557015037349374,
            0.11276592292652191],
    "last": [0.042869607125493973, 0.0073874185151244038, 0.16196269307733632, 0.062372625827423811,
             0.056945258732497298],
    "first": [0.12466490990574784, 0.41716447050059058, 0.44061564672392378, 0.21500350161854379,
              0.17351892732486232],
    "betasq": [0.097919729041395065, 0.027151862623226459, 0.4494372059668344, 0.12082577956586207,
               0.063069278591506517],
    "pratt": [-0.11048599096238741, 0.10642740433893444, 0.44500456758203061, 0.16117681499660749,
              0.10461220563754078],
}
# Same, with always = "Agriculture" (a control kept in every model); r@R2.decomp = R² beyond Agriculture.
RELAIMPO_ALWAYS_R2_DECOMP = 0.58207009168697799
RELAIMPO_ALWAYS = {
    "lmg": [0.14321438620550511, 0.23737103727588407, 0.088689062374704045, 0.11279560583088463],
    "last": [0.0073874185151241306, 0.16196269307733624, 0.062372625827423714, 0.05694525873249711],
    "first": [0.30793954729029527, 0.3245835120176182, 0.12361332885392896, 0.19259582335418071],
    "betasq": [0.014354098149634445, 0.26562230905616407, 0.10138766143753226, 0.062835684475763182],
    "pratt": [0.066484543210876434, 0.29362667103599244, 0.11195028510463244, 0.11000859233547676],
}
# Grömping, "Relative Importance for Linear Regression in R: The Package relaimpo" (vignette of 2005-12-16, as in
# J. Stat. Software 17(1), 2006), swiss example, rela = TRUE (each metric normalised to sum 100%), 8 decimals.
PUBLISHED_SHARES = {
    "lmg": [0.08078165, 0.24220256, 0.36807952, 0.14937728, 0.15955899],
    "last": [0.12930541, 0.02228229, 0.48851983, 0.18813138, 0.17176109],
    "first": [0.09093207, 0.30428474, 0.32139030, 0.15682612, 0.12656677],
    "betasq": [0.12911291, 0.03580132, 0.59260934, 0.15931588, 0.08316055],
    "pratt": [-0.1563330, 0.1505903, 0.6296626, 0.2280583, 0.1480218],
}
# R: LMG by brute force over all 120 orderings, each prefix fitted with lm(Fertility ~ prefix, swiss).
R_BRUTE_LMG = [0.057091220768091103, 0.17117302890023436, 0.260134678624384, 0.10557015037349357,
               0.11276592292652202]
# R: Johnson's relative weights, eigen route: R <- cor(swiss); e <- eigen(R[-1, -1]);
#   Lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors); rw <- Lam^2 %*% solve(Lam, R[-1, 1])^2
R_RELATIVE_WEIGHTS = [0.048416895811900659, 0.15470824980615999, 0.27196410464599913, 0.11468002994756153,
                      0.11696572138110456]
# R: swiss$High <- as.numeric(swiss$Fertility > 70); McFadden R² = 1 - logLik(glm(binomial))/logLik(null), glm
# with control = glm.control(epsilon = 1e-14, maxit = 100); LMG by brute force over all orderings; "always" runs keep
# Agriculture in every model (its R² alone: R_LOGIT_R2_AGRICULTURE).
R_LOGIT_R2 = 0.49509575985437471
R_LOGIT_LMG = [0.072865575688488768, 0.19641957619359829, 0.081629003461669583, 0.085076910389910623,
               0.059104694120707214]
R_LOGIT_R2_AGRICULTURE = 0.020324868113198225
R_LOGIT_LMG_ALWAYS = [0.23783643947054176, 0.091376080609514673, 0.088324513813574188, 0.057233857847545914]


@pytest.fixture(scope="module")
def swiss() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "swiss.csv", index_col=0)


def _r2_rows(y: np.ndarray, X: np.ndarray, cols) -> float:
    design = np.column_stack([np.ones(len(y)), X[:, list(cols)]])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    centred = y - y.mean()
    return 1.0 - resid @ resid / (centred @ centred)


def _brute_lmg(y: np.ndarray, X: np.ndarray, drivers, controls=()) -> np.ndarray:
    """Average gain over every ordering of ``drivers`` (column indices), each prefix a separate lstsq fit."""
    out = dict.fromkeys(drivers, 0.0)
    orders = list(itertools.permutations(drivers))
    for order in orders:
        prev = _r2_rows(y, X, controls)
        for k in range(len(order)):
            cur = _r2_rows(y, X, [*controls, *order[:k + 1]])
            out[order[k]] += cur - prev
            prev = cur
    return np.array([out[d] / len(orders) for d in drivers])


def _simulated(n: int, p: int, seed: int, noise: float = 2.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) @ (np.eye(p) + 0.4 * rng.normal(size=(p, p)))
    y = X @ rng.uniform(-0.5, 1.0, p) + noise * rng.normal(size=n)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    frame["y"] = y
    return frame


# ---------------------------------------------------------------------------------------------------------------
# Point estimates against relaimpo, the published shares and R


def test_swiss_matches_relaimpo(swiss):
    res = imp.relative_importance(swiss, "Fertility", SWISS_X)
    assert res.r2 == pytest.approx(RELAIMPO_R2, abs=1e-12)
    assert res.r2_controls == 0.0 and res.exact and res.n == 47
    for measure, expected in RELAIMPO.items():
        np.testing.assert_allclose(res.table[measure], expected, rtol=0, atol=1e-12, err_msg=measure)
    np.testing.assert_allclose(res.table["lmg"], R_BRUTE_LMG, rtol=0, atol=1e-12)
    assert res.table["lmg"].sum() == pytest.approx(res.r2, abs=1e-14)
    assert list(res.table["rank"]) == [5, 2, 1, 4, 3]


def test_swiss_matches_published_shares(swiss):
    table = imp.relative_importance(swiss, "Fertility", SWISS_X).table
    np.testing.assert_allclose(table["lmg_share"], PUBLISHED_SHARES["lmg"], atol=5.1e-9)
    for measure in ("last", "first", "betasq", "pratt"):
        share = table[measure] / table[measure].sum()
        decimals = 7 if measure == "pratt" else 8
        np.testing.assert_allclose(share, PUBLISHED_SHARES[measure], atol=0.51 * 10.0 ** -decimals, err_msg=measure)


def test_swiss_controls_match_relaimpo_always(swiss):
    res = imp.relative_importance(swiss, "Fertility", SWISS_X[1:], controls=["Agriculture"])
    assert res.r2_drivers == pytest.approx(RELAIMPO_ALWAYS_R2_DECOMP, abs=1e-12)
    assert res.r2 == pytest.approx(RELAIMPO_R2, abs=1e-12)
    assert res.r2_controls == pytest.approx(RELAIMPO["first"][0], abs=1e-12)
    for measure, expected in RELAIMPO_ALWAYS.items():
        np.testing.assert_allclose(res.table[measure], expected, rtol=0, atol=1e-12, err_msg=measure)
    assert res.table["lmg_share"].sum() == pytest.approx(1.0, abs=1e-12)


def test_relative_weights_match_r_and_sum_to_r2(swiss):
    res = imp.relative_importance(swiss, "Fertility", SWISS_X)
    np.testing.assert_allclose(res.table["relative_weight"], R_RELATIVE_WEIGHTS, rtol=0, atol=1e-12)
    assert res.table["relative_weight"].sum() == pytest.approx(res.r2, abs=1e-12)
    assert res.table["relative_weight_share"].sum() == pytest.approx(1.0, abs=1e-12)


def _svd_relative_weights(y: np.ndarray, X: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """Johnson (2000) via the SVD of the standardised rows (drivers residualised on controls when given)."""
    sd_y = y.std(ddof=1)
    if C is not None:
        design = np.column_stack([np.ones(len(y)), C])
        y = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
        X = X - design @ np.linalg.lstsq(design, X, rcond=None)[0]
    n = len(y)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    u, d, vt = np.linalg.svd(Z, full_matrices=False)
    q = math.sqrt(n - 1) * u @ vt
    lam = vt.T @ np.diag(d) @ vt / math.sqrt(n - 1)
    beta = q.T @ ((y - y.mean()) / sd_y) / (n - 1)
    return (lam ** 2) @ (beta ** 2)


def test_relative_weights_match_svd_route_with_and_without_controls():
    frame = _simulated(400, 6, seed=3)
    X, y = frame[[f"x{j}" for j in range(6)]].to_numpy(), frame["y"].to_numpy()
    res = imp.relative_importance(frame, "y", [f"x{j}" for j in range(6)])
    np.testing.assert_allclose(res.table["relative_weight"], _svd_relative_weights(y, X), rtol=0, atol=1e-12)
    res = imp.relative_importance(frame, "y", [f"x{j}" for j in range(4)], controls=["x4", "x5"])
    np.testing.assert_allclose(res.table["relative_weight"], _svd_relative_weights(y, X[:, :4], X[:, 4:]),
                               rtol=0, atol=1e-12)
    assert res.table["relative_weight"].sum() == pytest.approx(res.r2_drivers, abs=1e-12)


def test_lmg_equals_brute_force_over_orderings():
    frame = _simulated(300, 5, seed=1)
    X, y = frame[[f"x{j}" for j in range(5)]].to_numpy(), frame["y"].to_numpy()
    res = imp.relative_importance(frame, "y", [f"x{j}" for j in range(5)])
    np.testing.assert_allclose(res.table["lmg"], _brute_lmg(y, X, range(5)), rtol=0, atol=1e-10)
    res = imp.relative_importance(frame, "y", ["x0", "x1", "x2"], controls=["x3", "x4"])
    np.testing.assert_allclose(res.table["lmg"], _brute_lmg(y, X, [0, 1, 2], controls=[3, 4]), rtol=0, atol=1e-10)
    assert res.r2_controls == pytest.approx(_r2_rows(y, X, [3, 4]), abs=1e-12)


def test_subset_r2_is_every_least_squares_fit_and_batches_agree():
    frame = _simulated(200, 5, seed=2)
    X, y = frame[[f"x{j}" for j in range(5)]].to_numpy(), frame["y"].to_numpy()
    cov = np.cov(np.column_stack([y, X]), rowvar=False)
    values = dom.subset_r2(cov)
    expected = [_r2_rows(y, X, [j for j in range(5) if mask >> j & 1]) for mask in range(32)]
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    batch = np.stack([cov, 2.0 * cov, cov[np.ix_([0, 2, 1, 3, 4, 5], [0, 2, 1, 3, 4, 5])]])
    together = dom.subset_r2(batch)
    for k in range(3):
        np.testing.assert_allclose(together[k], dom.subset_r2(batch[k]), rtol=0, atol=1e-14)


def test_aliased_driver_adds_nothing_like_least_squares():
    frame = _simulated(150, 4, seed=4)
    frame["x4"] = frame["x0"] - 2 * frame["x1"]
    X, y = frame[[f"x{j}" for j in range(5)]].to_numpy(), frame["y"].to_numpy()
    res = imp.relative_importance(frame, "y", [f"x{j}" for j in range(5)])
    np.testing.assert_allclose(res.table["lmg"], _brute_lmg(y, X, range(5)), rtol=0, atol=1e-9)
    assert res.table.loc[4, "last"] == pytest.approx(0.0, abs=1e-9)
    assert np.isinf(res.table.loc[4, "vif"])


def test_betas_pratt_and_vif_match_statsmodels():
    frame = _simulated(250, 4, seed=5)
    names = [f"x{j}" for j in range(4)]
    z = (frame - frame.mean()) / frame.std()
    fit = sm.OLS(z["y"], sm.add_constant(z[names])).fit()
    res = imp.relative_importance(frame, "y", names)
    np.testing.assert_allclose(res.table["beta"], fit.params[names], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.table["pratt"], fit.params[names] * z[names].corrwith(z["y"]), atol=1e-12)
    design = sm.add_constant(frame[names]).to_numpy()
    np.testing.assert_allclose(res.table["vif"], [variance_inflation_factor(design, j) for j in range(1, 5)],
                               rtol=1e-10)


def test_sampled_lmg_agrees_with_exact_within_monte_carlo_error():
    frame = _simulated(500, 7, seed=6)
    names = [f"x{j}" for j in range(7)]
    exact = imp.relative_importance(frame, "y", names)
    sampled = imp.relative_importance(frame, "y", names, max_exact=4, n_permutations=3000, seed=11)
    assert not sampled.exact and sampled.n_permutations == 3000 and sampled.dominance is None
    se = sampled.table["lmg_se"].to_numpy()
    assert (se > 0).all()
    assert (np.abs(sampled.table["lmg"] - exact.table["lmg"]) < 4 * se).all()
    assert sampled.table["lmg"].sum() == pytest.approx(exact.r2, abs=1e-12)
    for measure in ("first", "last", "pratt", "beta", "relative_weight"):
        np.testing.assert_allclose(sampled.table[measure], exact.table[measure], atol=1e-12, err_msg=measure)
    again = imp.relative_importance(frame, "y", names, max_exact=4, n_permutations=3000, seed=11)
    pd.testing.assert_frame_equal(again.table, sampled.table)


# ---------------------------------------------------------------------------------------------------------------
# Dominance


def test_dominance_matches_explicit_subset_loops():
    frame = _simulated(300, 5, seed=7, noise=1.0)
    X, y = frame[[f"x{j}" for j in range(5)]].to_numpy(), frame["y"].to_numpy()
    r2 = {frozenset(S): _r2_rows(y, X, S) for k in range(6) for S in itertools.combinations(range(5), k)}
    res = imp.relative_importance(frame, "y", [f"x{j}" for j in range(5)])
    for j in range(5):
        others = [i for i in range(5) if i != j]
        for k in range(5):
            gains = [r2[frozenset(S) | {j}] - r2[frozenset(S)] for S in itertools.combinations(others, k)]
            assert res.conditional.iloc[j, k] == pytest.approx(np.mean(gains), abs=1e-12)
    np.testing.assert_allclose(res.conditional.mean(axis=1), res.table["lmg"], atol=1e-14)
    by_pair = res.dominance.set_index(["driver", "other"])
    for i, j in itertools.combinations(range(5), 2):
        rest = [k for k in range(5) if k not in (i, j)]
        diffs = [r2[frozenset(S) | {i}] - r2[frozenset(S) | {j}]
                 for k in range(4) for S in itertools.combinations(rest, k)]
        expect = f"x{i}" if min(diffs) > 0 else f"x{j}" if max(diffs) < 0 else None
        row = by_pair.loc[(f"x{i}", f"x{j}")]
        assert row["complete"] == expect
        cond = res.conditional.to_numpy()
        expect = f"x{i}" if (cond[i] > cond[j]).all() else f"x{j}" if (cond[i] < cond[j]).all() else None
        assert row["conditional"] == expect
        assert row["general"] == (f"x{i}" if res.table["lmg"][i] > res.table["lmg"][j] else f"x{j}")
    assert by_pair["complete"].notna().any() and by_pair["complete"].isna().any()


def test_dominance_levels_nest():
    rng = np.random.default_rng(8)
    for _ in range(20):
        a = rng.normal(size=(7, 7))
        values = dom.subset_r2(a @ a.T)
        complete = dom.complete_dominance(values)
        cond = dom.conditional_contributions(values)
        conditional = dom.conditional_dominance(cond)
        general = dom.general_dominance(dom.shapley(values))
        assert not (complete & ~conditional).any() and not (conditional & ~general).any()
        assert not (general & general.T).any()


# ---------------------------------------------------------------------------------------------------------------
# Warnings as data


def test_warnings_flag_suppression_collinearity_and_few_rows():
    rng = np.random.default_rng(9)
    n = 2000
    t, u = rng.normal(size=n), rng.normal(size=n)
    frame = pd.DataFrame({"y": t + 0.5 * rng.normal(size=n), "x1": t + u, "x2": u + 0.1 * t,
                          "x3": rng.normal(size=n)})
    frame["x4"] = frame["x3"] + 0.05 * rng.normal(size=n)
    warn = imp.relative_importance(frame, "y", ["x1", "x2", "x3", "x4"]).warnings
    kinds = set(zip(warn["kind"], warn["driver"]))
    assert ("suppressor", "x2") in kinds and ("suppressor", "x1") not in kinds
    row = warn[warn["kind"] == "suppressor"].iloc[0]
    assert row["value"] < -0.05 < 0 < row["reference"]
    assert ("vif", "x3") in kinds and ("vif", "x4") in kinds
    pair = warn[warn["kind"] == "collinear_pair"]
    assert list(zip(pair["driver"], pair["other"])) == [("x3", "x4")] and pair["value"].iloc[0] > 0.99
    assert "few_rows" not in set(warn["kind"])
    few = imp.relative_importance(frame.head(30), "y", ["x1", "x2", "x3", "x4"]).warnings
    row = few[few["kind"] == "few_rows"].iloc[0]
    assert row["value"] == pytest.approx(7.5) and row["threshold"] == 10


def test_clean_drivers_raise_no_warning():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(3000, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=X @ [0.5, 0.3, 0.2] + rng.normal(size=3000))
    warn = imp.relative_importance(frame, "y", ["a", "b", "c"]).warnings
    assert warn.empty and list(warn.columns) == imp.WARNING_COLUMNS


# ---------------------------------------------------------------------------------------------------------------
# Cluster bootstrap of the sufficient statistics


def _clustered_frame(n_clusters: int, size: int, seed: int, rho: float, beta, corr: float = 0.3) -> pd.DataFrame:
    """Rows in clusters of ``size``: drivers and error share a cluster effect with intra-class correlation rho."""
    rng = np.random.default_rng(seed)
    p = len(beta)
    sigma = np.full((p, p), corr) + (1 - corr) * np.eye(p)
    chol = np.linalg.cholesky(sigma)
    cluster = np.repeat(np.arange(n_clusters), size)
    shared = rng.normal(size=(n_clusters, p)) @ chol.T
    own = rng.normal(size=(n_clusters * size, p)) @ chol.T
    X = math.sqrt(rho) * shared[cluster] + math.sqrt(1 - rho) * own
    e = math.sqrt(rho) * rng.normal(size=n_clusters)[cluster] + math.sqrt(1 - rho) * rng.normal(size=len(cluster))
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    frame["y"] = X @ np.asarray(beta) + e
    frame["customer"] = cluster
    return frame


def test_replicate_covariances_equal_explicit_resampling():
    rng = np.random.default_rng(12)
    values = rng.normal(size=(90, 4)) + [10.0, -3.0, 0.0, 100.0]
    clusters = pd.factorize(rng.integers(0, 31, 90))[0]
    n_clusters = clusters.max() + 1
    covs = dom.replicate_covariances(values, clusters, n_boot=40, seed=5, block=7)
    counts = np.concatenate([c for _, _, c in dom.replicate_counts(n_clusters, 40, 5, block=7)], axis=1)
    assert counts.shape == (40, n_clusters) and (counts.sum(axis=1) == n_clusters).all()
    for b in range(40):
        explicit = np.cov(values, rowvar=False, fweights=counts[b, clusters])
        np.testing.assert_allclose(covs[b], explicit, rtol=1e-11, atol=1e-11)
    rows = dom.replicate_covariances(values, None, n_boot=10, seed=6, block=13)
    counts = np.concatenate([c for _, _, c in dom.replicate_counts(90, 10, 6, block=13)], axis=1)
    for b in range(10):
        np.testing.assert_allclose(rows[b], np.cov(values, rowvar=False, fweights=counts[b]), rtol=1e-11, atol=1e-11)


def test_replicate_counts_are_multinomial():
    counts = np.concatenate([c for _, _, c in dom.replicate_counts(500, 400, 3, block=64)], axis=1)
    assert (counts.sum(axis=1) == 500).all()
    assert counts.mean() == pytest.approx(1.0)
    assert counts.var() == pytest.approx(1 - 1 / 500, rel=0.02)
    per_cluster = counts.mean(axis=0)
    assert abs(per_cluster[:64].mean() - per_cluster[448:].mean()) < 0.05
    assert (np.corrcoef(counts[:, 0], counts[:, 499])[0, 1]) == pytest.approx(-1 / 499, abs=0.1)


def test_bootstrap_tables_are_consistent_with_their_replicates():
    frame = _clustered_frame(120, 3, seed=13, rho=0.5, beta=[0.6, 0.4, 0.2, 0.1])
    names = [f"x{j}" for j in range(4)]
    res = imp.bootstrap_importance(frame, "y", names, cluster="customer", n_boot=300, seed=2,
                                   complete_dominance=True)
    assert res.n_clusters == 120 and res.n_boot == 300
    values, codes = frame[["y", *names]].to_numpy(), frame["customer"].to_numpy()
    covs = dom.replicate_covariances(values, codes, n_boot=300, seed=2)
    for b in (0, 17, 299):
        cov = pd.DataFrame(covs[b], index=["y", *names], columns=["y", *names])
        one = imp.importance_from_covariance(cov, "y", names, n=len(frame))
        for measure in imp.MEASURES:
            np.testing.assert_allclose(res.replicates[measure][b], one.table[measure], atol=1e-12)
    lmg = res.intervals[res.intervals["measure"] == "lmg"]
    reps = res.replicates["lmg"]
    np.testing.assert_allclose(lmg["ci_low"], np.quantile(reps, 0.025, axis=0))
    np.testing.assert_allclose(lmg["ci_high"], np.quantile(reps, 0.975, axis=0))
    np.testing.assert_allclose(lmg["estimate"], res.point.table["lmg"])
    probs = res.rank_probabilities.to_numpy()
    np.testing.assert_allclose(probs.sum(axis=0), 1.0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert res.ranks.loc[0, "ci_low"] == 1 and probs[0, 0] > 0.9
    assert len(res.pairs) == 6
    first = res.pairs.iloc[0]
    diff = reps[:, 0] - reps[:, 1]
    assert first["p_value"] == pytest.approx(2 * min((diff <= 0).mean(), (diff >= 0).mean()))
    assert first["general_driver"] == pytest.approx((diff > 0).mean())
    assert (res.pairs["complete_driver"] <= res.pairs["conditional_driver"]).all()
    assert (res.pairs["conditional_driver"] <= res.pairs["general_driver"]).all()
    assert (res.pairs["p_adjusted"] >= res.pairs["p_value"]).all()


@pytest.mark.slow
def test_bootstrap_percentile_intervals_cover_population_lmg_shares():
    beta, rho, corr = [0.5, 0.35, 0.25, 0.15], 0.7, 0.3
    p = len(beta)
    sigma = np.full((p, p), corr) + (1 - corr) * np.eye(p)
    cov_xy = sigma @ beta
    population = np.block([[np.array([[beta @ sigma @ beta + 1.0]]), cov_xy[None, :]], [cov_xy[:, None], sigma]])
    truth = dom.shapley(dom.subset_r2(population))
    truth = truth / truth.sum()
    names = [f"x{j}" for j in range(p)]
    hits: dict = {"customer": [], None: []}
    for seed in range(100):
        frame = _clustered_frame(150, 4, seed=1000 + seed, rho=rho, beta=beta, corr=corr)
        for cluster in hits:
            res = imp.bootstrap_importance(frame, "y", names, cluster=cluster, n_boot=200, seed=seed)
            share = res.intervals[res.intervals["measure"] == "lmg_share"]
            hits[cluster].extend((share["ci_low"] <= truth) & (truth <= share["ci_high"]))
    clustered, naive = np.mean(hits["customer"]), np.mean(hits[None])
    assert 0.90 <= clustered <= 0.99
    assert naive < clustered - 0.05


# ---------------------------------------------------------------------------------------------------------------
# Logistic outcome


def test_logistic_lmg_matches_r_glm_brute_force(swiss):
    data = swiss.assign(High=(swiss["Fertility"] > 70).astype(int))
    res = imp.logistic_importance(data, "High", SWISS_X)
    assert res.exact and res.n == res.n_total == 47 and res.n_fits == 32 and res.n_troubled == 0
    assert res.r2 == pytest.approx(R_LOGIT_R2, abs=1e-9)
    np.testing.assert_allclose(res.table["lmg"], R_LOGIT_LMG, rtol=0, atol=1e-9)
    assert res.table["lmg"].sum() == pytest.approx(res.r2, abs=1e-12)
    np.testing.assert_allclose(res.conditional.mean(axis=1), res.table["lmg"], atol=1e-14)
    always = imp.logistic_importance(data, "High", SWISS_X[1:], controls=["Agriculture"])
    assert always.r2_controls == pytest.approx(R_LOGIT_R2_AGRICULTURE, abs=1e-9)
    np.testing.assert_allclose(always.table["lmg"], R_LOGIT_LMG_ALWAYS, rtol=0, atol=1e-9)


def test_logistic_sampling_of_rows_and_orderings():
    rng = np.random.default_rng(14)
    X = rng.normal(size=(3000, 6))
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(6)])
    frame["promoter"] = rng.random(3000) < 1 / (1 + np.exp(-(X @ [1.0, 0.6, 0.4, 0.2, 0.1, 0.0])))
    names = [f"x{j}" for j in range(6)]
    exact = imp.logistic_importance(frame, "promoter", names, max_rows=1000, seed=3)
    assert exact.n == 1000 and exact.n_total == 3000
    again = imp.logistic_importance(frame, "promoter", names, max_rows=1000, seed=3)
    pd.testing.assert_frame_equal(exact.table, again.table)
    other = imp.logistic_importance(frame, "promoter", names, max_rows=1000, seed=4)
    assert not np.allclose(other.table["lmg"], exact.table["lmg"])
    sampled = imp.logistic_importance(frame, "promoter", names, max_rows=1000, seed=3, max_exact=3,
                                      n_permutations=300)
    assert not sampled.exact and sampled.dominance is None and sampled.n_fits <= 64
    assert (np.abs(sampled.table["lmg"] - exact.table["lmg"]) < 4 * sampled.table["lmg_se"] + 1e-12).all()


# ---------------------------------------------------------------------------------------------------------------
# Penalty–reward


def _kano_frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, n // 3, n)
    x = rng.integers(1, 8, size=(n, 4)).astype(float)
    y = (-1.5 * (x[:, 0] <= 3) + 1.5 * (x[:, 1] >= 6) + 0.4 * x[:, 2] + rng.normal(size=n)
         + rng.normal(size=n // 3)[cluster])
    frame = pd.DataFrame(x, columns=["basic", "delight", "linear", "none"])
    return frame.assign(y=y, customer=cluster)


@pytest.mark.parametrize("cluster", ["customer", None])
def test_penalty_reward_matches_statsmodels_robust_ols(cluster):
    frame = _kano_frame(3000, seed=15)
    table = imp.penalty_reward(frame, "y", ["basic", "linear"], cluster=cluster).set_index("driver")
    for d in ("basic", "linear"):
        dummies = pd.DataFrame({"bottom": frame[d] <= 3, "top": frame[d] >= 6}).astype(float)
        design = sm.add_constant(dummies)
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": frame["customer"]}} if cluster else {"cov_type": "HC1"}
        fit = sm.OLS(frame["y"], design).fit(**kw)
        row = table.loc[d]
        assert row["penalty"] == pytest.approx(-fit.params["bottom"], abs=1e-12)
        assert row["reward"] == pytest.approx(fit.params["top"], abs=1e-12)
        assert row["penalty_se"] == pytest.approx(fit.bse["bottom"], rel=1e-10)
        assert row["reward_se"] == pytest.approx(fit.bse["top"], rel=1e-10)
        contrast = fit.t_test(np.array([[0.0, 1.0, 1.0]]), use_t=False)
        assert row["estimate"] == pytest.approx(float(np.squeeze(contrast.effect)), abs=1e-12)
        assert row["se"] == pytest.approx(float(np.squeeze(contrast.sd)), rel=1e-10)
        assert row["p_value"] == pytest.approx(float(np.squeeze(contrast.pvalue)), rel=1e-8)


def test_penalty_reward_categories_and_cut_points():
    frame = _kano_frame(20000, seed=16)
    frame["nps"] = np.random.default_rng(17).integers(0, 11, len(frame))
    table = imp.penalty_reward(frame, "y", ["basic", "delight", "linear", "none", "nps"], cluster="customer",
                               bottom_max={"linear": 2}, top_min={"linear": 6}).set_index("driver")
    assert table.loc["basic", "category"] == "basic" and table.loc["basic", "penalty"] > 1.2
    assert table.loc["delight", "category"] == "excitement" and table.loc["delight", "reward"] > 1.2
    assert table.loc["linear", "category"] == "performance"
    assert table.loc["linear", "penalty"] == pytest.approx(table.loc["linear", "reward"], abs=0.1)
    assert table.loc["none", "category"] == "performance"
    assert (table.loc["basic", ["bottom_max", "top_min"]] == [3.0, 6.0]).all()
    assert table.loc["linear", "bottom_max"] == 2
    nps = frame["nps"].to_numpy(dtype=float)
    assert table.loc["nps", "bottom_max"] == np.quantile(nps, 1 / 3)
    assert table.loc["nps", "top_min"] == np.quantile(nps, 2 / 3)
    assert table.loc["nps", "n_bottom"] == (nps <= np.quantile(nps, 1 / 3)).sum()
    assert (table["n"] == len(frame)).all()


def test_penalty_reward_empty_box_gives_no_category():
    frame = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "d": [1.0, 2, 2, 1, 2, 1]})
    row = imp.penalty_reward(frame, "y", ["d"], bottom_max=1, top_min=6).iloc[0]
    assert row["n_top"] == 0 and row["category"] is None and np.isnan(row["penalty"])


# ---------------------------------------------------------------------------------------------------------------
# Bad input


def test_bad_parameters_and_data_are_one_line_errors(swiss):
    with pytest.raises(ParameterError, match="confidence"):
        imp.bootstrap_importance(swiss, "Fertility", SWISS_X, confidence=95)
    with pytest.raises(DataError, match="Nope"):
        imp.relative_importance(swiss, "Fertility", ["Nope"])
    with pytest.raises(DataError, match="same value"):
        imp.relative_importance(swiss.assign(Flat=1.0), "Fertility", ["Agriculture", "Flat"])
    with pytest.raises(DataError, match="0/1"):
        imp.logistic_importance(swiss, "Fertility", SWISS_X)
    with pytest.raises(ParameterError, match="max_exact"):
        imp.bootstrap_importance(swiss, "Fertility", SWISS_X, max_exact=3)
    with pytest.raises(ParameterError, match="distinct"):
        imp.relative_importance(swiss, "Fertility", ["Agriculture"], controls=["Agriculture"])
