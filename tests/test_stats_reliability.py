"""loyaltylab.stats.reliability against psych::alpha, lavaan one-factor omega, the difference-score formula and
simulation. R 4.x, psych 2.2.9, lavaan 0.6-14; reference values are stored below with the calls that made them."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats import reliability as rel
from loyaltylab.stats.factor import SampleMoments

HS_CSV = Path(__file__).parent / "fixtures" / "holzinger_swineford1939.csv"
X9 = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(HS_CSV)


# psych::alpha(HolzingerSwineford1939[, c("x1","x2","x3")])
HS3 = dict(alpha=0.6261171319, std_alpha=0.6271838544, average_r=0.3592874958, ci=(0.55, 0.69))
HS3_DROP = {  # alpha.drop raw_alpha, std.alpha, average_r; item.stats r.drop, raw.r, std.r
    "x1": (0.5069876394, 0.5072944576, 0.3398489810, 0.4490315413, 0.7666367589, 0.7654349280),
    "x2": (0.6115414959, 0.6117550979, 0.4406679953, 0.3749679618, 0.7259515674, 0.7210334347),
    "x3": (0.4583777276, 0.4583906268, 0.2973455110, 0.4842812342, 0.7779148459, 0.7841537931),
}
# a <- psych::alpha(HolzingerSwineford1939[, paste0("x", 1:9)]); a$total; a$alpha.drop; a$item.stats; a$feldt
HS9 = dict(alpha=0.7604885958, std_alpha=0.760402219, average_r=0.2606990013, ci=(0.7177168660, 0.7990788326))
HS9_DROP = {
    "x1": (0.7248063129, 0.7251118180, 0.2479678321, 0.5220367208, 0.6573590757, 0.6531734600),
    "x2": (0.7642312951, 0.7631851770, 0.2871596105, 0.2752430624, 0.4530447972, 0.4449342550),
    "x3": (0.7489559626, 0.7482430225, 0.2708769272, 0.3701721208, 0.5283279448, 0.5314496714),
    "x4": (0.7150013103, 0.7185813143, 0.2419522079, 0.5807066421, 0.7029190453, 0.6851365109),
    "x5": (0.7235720486, 0.7255209695, 0.2483509923, 0.5253853810, 0.6733244960, 0.6511375999),
    "x6": (0.7141539954, 0.7167712752, 0.2403175140, 0.5951390193, 0.7074603663, 0.6938221938),
    "x7": (0.7664368385, 0.7649800138, 0.2892020996, 0.2457316445, 0.4138205798, 0.4340818183),
    "x8": (0.7484244821, 0.7471307238, 0.2697140130, 0.3690554493, 0.5113611862, 0.5376286289),
    "x9": (0.7310302035, 0.7280644089, 0.2507498149, 0.4947809977, 0.6174141585, 0.6383918421),
}
DROP_COLUMNS = ["alpha_if_deleted", "std_alpha_if_deleted", "average_r_if_deleted", "r_drop", "item_total_r",
                "std_item_total_r"]

# HS x1..x9 with missing answers, x7 reverse-keyed, psych's default pairwise covariances:
#   HS <- HolzingerSwineford1939[, paste0("x", 1:9)]; i <- seq_len(nrow(HS)) - 1
#   HS$x2[i %% 7 == 0] <- NA; HS$x5[i %% 11 == 3] <- NA; HS$x9[i %% 13 == 5] <- NA
#   a <- psych::alpha(HS, keys = c("x7"))
HS_NA = dict(alpha=0.678618725650409, std_alpha=0.668850377727727, average_r=0.183287003065985,
             ci=(0.621226748429801, 0.730399890320425))
HS_NA_DROP = {  # alpha.drop raw_alpha, std.alpha, average_r; item.stats r.drop, std.r
    "x1": (0.609581598342728, 0.596143395144237, 0.155773185729699, 0.541716759183119, 0.6869993063170939),
    "x2": (0.664004665815925, 0.651002463700301, 0.189080953985455, 0.298639172192801, 0.4890473904038947),
    "x3": (0.647754021339714, 0.633361192012838, 0.177587614067610, 0.374158107768140, 0.5573536377486409),
    "x4": (0.604687135740561, 0.596793660474617, 0.156128801799158, 0.563017622656348, 0.6848858389199874),
    "x5": (0.601849855115234, 0.594775256129114, 0.155027735435624, 0.554183050574352, 0.6914296035617855),
    "x6": (0.594856015414596, 0.583656866577915, 0.149104991369209, 0.620616544104847, 0.7266291560027622),
    "x7": (0.760924343147835, 0.759105247427054, 0.282587807556639, -0.253037492344534, -0.0666746463684724),
    "x8": (0.681728574666358, 0.673065566291487, 0.204669961217342, 0.193583919459953, 0.3964001189012972),
    "x9": (0.650770815984525, 0.636575351708083, 0.179621976433126, 0.364102723552987, 0.5452631871119161),
}

A_ITEMS = ["A1", "A2", "A3", "A4", "A5"]
# cov(psych::bfi[, 1:5], use = "pairwise"); nrow(bfi) = 2800
BFI_PAIRWISE_COV = np.array([
    [1.981723884958347, -0.560225113749248, -0.485841314114451, -0.305074709395230, -0.321240974079247],
    [-0.560225113749248, 1.373630696746456, 0.741629027461088, 0.582148334662931, 0.576094732868913],
    [-0.485841314114451, 0.741629027461088, 1.694770824130410, 0.696134951313665, 0.828038484937675],
    [-0.305074709395230, 0.582148334662931, 0.696134951313665, 2.189312886260571, 0.573723643957574],
    [-0.321240974079247, 0.576094732868913, 0.828038484937675, 0.573723643957574, 1.583852701748300],
])
# a <- psych::alpha(bfi[, 1:5], keys = c("A1"))
BFI = dict(alpha=0.7030184461, std_alpha=0.7130285787, average_r=0.3319676571, ci=(0.6852643259, 0.7200633899))
BFI_DROP = {  # alpha.drop raw_alpha, std.alpha, average_r; item.stats r.drop, std.r
    "A1": (0.7185173570, 0.7255091486, 0.3978722613, 0.3084177395, 0.5664248142),
    "A2": (0.6171800370, 0.6255798818, 0.2946317348, 0.5636151638, 0.7479918646),
    "A3": (0.6002595788, 0.6129446570, 0.2836175698, 0.5870045895, 0.7673622565),
    "A4": (0.6858056523, 0.6935413428, 0.3613368892, 0.3944440866, 0.6306788429),
    "A5": (0.6429529601, 0.6555301885, 0.3223798304, 0.4885651358, 0.6991918436),
}
# bc <- bfi[complete.cases(bfi[, 1:5]), 1:5]; cov(bc); nrow(bc) = 2709
BFI_COMPLETE_COV = np.array([
    [1.972831684744707, -0.564487159983708, -0.491584346287036, -0.309817022202375, -0.323710341315370],
    [-0.564487159983708, 1.383951574515279, 0.747013892637540, 0.586230290955309, 0.575542136747523],
    [-0.491584346287036, 0.747013892637540, 1.701860366969776, 0.702303253065851, 0.831433789550996],
    [-0.309817022202375, 0.586230290955309, 0.702303253065851, 2.209508433238295, 0.575154867003309],
    [-0.323710341315370, 0.575542136747523, 0.831433789550996, 0.575154867003309, 1.591642934296914],
])
# om <- function(model, data) { f <- lavaan::cfa(model, data = data, std.lv = TRUE); pe <- parameterEstimates(f)
#   l <- pe$est[pe$op == "=~"]; th <- pe$est[pe$op == "~~" & pe$lhs == pe$rhs & pe$lhs != "f"]
#   sum(l)^2 / (sum(l)^2 + sum(th)) }
OMEGA_HS9 = 0.7380691717  # om('f =~ x1 + x2 + ... + x9', HolzingerSwineford1939)
OMEGA_HS3 = 0.6325531563  # om('f =~ x1 + x2 + x3', HolzingerSwineford1939)
OMEGA_HS3_LAMBDA = (0.7236898406, 0.5629087297, 0.8013091998)  # λ (std.lv = TRUE)
OMEGA_HS3_THETA = (0.8346428616, 1.0649176307, 0.6327684297)
OMEGA_BFI = 0.7121289655  # bc$A1 <- 7 - bc$A1; om('f =~ A1 + A2 + A3 + A4 + A5', bc)


def _check_alpha(result, ref, drop, columns, tol=1e-8):
    assert result.alpha == pytest.approx(ref["alpha"], abs=tol)
    assert result.std_alpha == pytest.approx(ref["std_alpha"], abs=tol)
    assert result.average_r == pytest.approx(ref["average_r"], abs=tol)
    for item, values in drop.items():
        got = result.items.loc[item, columns].to_numpy(dtype=float)
        np.testing.assert_allclose(got, values, atol=tol, err_msg=item)


def test_alpha_three_items_matches_psych(hs):
    result = rel.alpha_from_frame(hs, ["x1", "x2", "x3"])
    _check_alpha(result, HS3, HS3_DROP, DROP_COLUMNS)
    assert (result.n, result.n_items) == (301, 3)
    # psych prints the Feldt bounds to 2 decimals only
    assert (round(result.ci_low, 2), round(result.ci_high, 2)) == HS3["ci"]


def test_alpha_nine_items_matches_psych_including_feldt(hs):
    result = rel.alpha_from_frame(hs, X9)
    _check_alpha(result, HS9, HS9_DROP, DROP_COLUMNS)
    assert (result.ci_low, result.ci_high) == pytest.approx(HS9["ci"], abs=1e-9)
    assert result.confidence == 0.95


def test_alpha_pairwise_missing_and_reverse_key_matches_psych(hs):
    x = hs[X9].copy()
    i = np.arange(len(x))
    x.loc[i % 7 == 0, "x2"] = np.nan
    x.loc[i % 11 == 3, "x5"] = np.nan
    x.loc[i % 13 == 5, "x9"] = np.nan
    result = rel.alpha_from_frame(x, reverse=["x7"])
    _check_alpha(result, HS_NA, HS_NA_DROP, DROP_COLUMNS[:4] + ["std_item_total_r"])
    assert result.n == 301
    assert (result.ci_low, result.ci_high) == pytest.approx(HS_NA["ci"], abs=1e-12)
    assert result.reversed == ("x7",)
    listwise = rel.alpha_from_frame(x, reverse=["x7"], missing="listwise")
    assert listwise.n == int(x.notna().all(axis=1).sum())
    assert listwise.alpha != pytest.approx(result.alpha, abs=1e-4)


def test_alpha_from_cov_matches_psych_on_bfi_with_reverse_key():
    cov = pd.DataFrame(BFI_PAIRWISE_COV, index=A_ITEMS, columns=A_ITEMS)
    result = rel.alpha_from_cov(cov, 2800, reverse=["A1"])
    _check_alpha(result, BFI, BFI_DROP, DROP_COLUMNS[:4] + ["std_item_total_r"])
    assert (result.ci_low, result.ci_high) == pytest.approx(BFI["ci"], abs=1e-9)
    unkeyed = rel.alpha_from_cov(cov, 2800)
    assert unkeyed.alpha < 0.5 < result.alpha


def test_reverse_key_equals_reversing_the_scores(hs):
    x = hs[X9]
    flipped = x.assign(x7=x["x7"].max() + x["x7"].min() - x["x7"])
    keyed = rel.alpha_from_frame(x, reverse="x7")
    direct = rel.alpha_from_frame(flipped)
    assert keyed.alpha == pytest.approx(direct.alpha, abs=1e-12)
    pd.testing.assert_frame_equal(keyed.items, direct.items, atol=1e-12)


def test_cov_frame_array_and_moments_paths_agree(hs):
    x = hs[X9]
    from_frame = rel.alpha_from_frame(x, missing="listwise")
    from_array = rel.alpha_from_cov(np.cov(x.to_numpy(), rowvar=False), 301)
    from_moments = rel.alpha_from_cov(SampleMoments.from_frame(x))
    for other in (from_array, from_moments):
        assert other.alpha == pytest.approx(from_frame.alpha, abs=1e-12)
        assert other.ci_low == pytest.approx(from_frame.ci_low, abs=1e-12)
        np.testing.assert_allclose(other.items.to_numpy(), from_frame.items.to_numpy(), atol=1e-12)
    assert list(from_array.items.index) == X9  # an array's items are named x1..xp


def test_feldt_interval_matches_psych_alpha_ci():
    # unlist(psych::alpha.ci(0.8, 100, 5, p.val = 0.10)[c("lower.ci", "upper.ci")])
    assert rel.feldt_interval(0.8, 100, 5, confidence=0.90) == pytest.approx((0.7430785863, 0.8479858509), abs=1e-9)


def test_feldt_interval_covers_true_alpha_for_parallel_items():
    """Feldt's interval is exact for parallel items (compound-symmetric normal scores): coverage over seeds."""
    rng = np.random.default_rng(20261130)
    k, n, reps, rho = 5, 60, 400, 0.35
    true_alpha = k * rho / (1 + (k - 1) * rho)
    common = rng.standard_normal((reps, n, 1)) * np.sqrt(rho)
    scores = common + rng.standard_normal((reps, n, k)) * np.sqrt(1 - rho)
    covered = 0
    for rep in range(reps):
        result = rel.alpha_from_cov(np.cov(scores[rep], rowvar=False), n)
        covered += result.ci_low <= true_alpha <= result.ci_high
    assert abs(covered / reps - 0.95) < 3 * np.sqrt(0.95 * 0.05 / reps)


def test_omega_matches_lavaan_one_factor(hs):
    nine = rel.omega_from_frame(hs, X9)
    assert nine.omega == pytest.approx(OMEGA_HS9, abs=1e-6)
    three = rel.omega_from_frame(hs, ["x1", "x2", "x3"])
    assert three.omega == pytest.approx(OMEGA_HS3, abs=1e-6)
    # lavaan fits S with divisor N; ours has divisor N - 1: loadings scale by sqrt(N/(N-1)), θ by N/(N-1), ω not.
    scale = 301 / 300
    np.testing.assert_allclose(three.items["loading"], np.array(OMEGA_HS3_LAMBDA) * np.sqrt(scale), atol=1e-5)
    np.testing.assert_allclose(three.items["residual_variance"], np.array(OMEGA_HS3_THETA) * scale, atol=1e-5)
    lam, theta = np.array(OMEGA_HS3_LAMBDA), np.array(OMEGA_HS3_THETA)
    np.testing.assert_allclose(three.items["std_loading"], lam / np.sqrt(lam**2 + theta), atol=1e-6)


def test_omega_from_cov_with_reverse_key_matches_lavaan_on_bfi():
    cov = pd.DataFrame(BFI_COMPLETE_COV, index=A_ITEMS, columns=A_ITEMS)
    result = rel.omega_from_cov(cov, reverse=["A1"])
    assert result.omega == pytest.approx(OMEGA_BFI, abs=1e-6)
    assert (result.items["std_loading"] > 0).all()


def test_difference_score_formula():
    # hand-computed: σP² = 4, σE² = 1, ρPP = .8, ρEE = .7, ρPE = .5 → (3.2 + .7 − 2) / (5 − 2) = 1.9 / 3
    assert rel.difference_score_reliability(0.8, 0.7, 4.0, 1.0, 0.5) == pytest.approx(1.9 / 3, abs=1e-15)
    # uncorrelated, equal variances: the mean of the two reliabilities
    assert rel.difference_score_reliability(0.9, 0.7, 2.0, 2.0, 0.0) == pytest.approx(0.8, abs=1e-15)
    # swapping P and E changes nothing; a correlation near the reliabilities drives it towards 0
    assert rel.difference_score_reliability(0.7, 0.8, 1.0, 4.0, 0.5) == pytest.approx(1.9 / 3, abs=1e-15)
    assert rel.difference_score_reliability(0.8, 0.8, 1.0, 1.0, 0.8) == pytest.approx(0.0, abs=1e-12)
    out = rel.difference_score_reliability(np.array([0.8, 0.9]), 0.7, 4.0, 1.0, np.array([0.5, 0.0]))
    np.testing.assert_allclose(out, [1.9 / 3, (3.6 + 0.7) / 5])
    assert np.isnan(rel.difference_score_reliability(0.8, 0.8, 1.0, 1.0, 1.0))
    with pytest.raises(ParameterError):
        rel.difference_score_reliability(0.8, 0.8, 1.0, 1.0, 1.5)
    with pytest.raises(ParameterError):
        rel.difference_score_reliability(0.8, 0.8, 0.0, 1.0, 0.5)


def test_difference_score_reliability_against_simulated_true_scores():
    """Tau-equivalent P and E items around correlated true scores: the formula, fed with sample alphas, variances
    and correlation, recovers var(true gap) / var(observed gap) computed from the simulated true scores."""
    rng = np.random.default_rng(7)
    n, k = 200_000, 4
    true = rng.multivariate_normal([5.5, 6.0], [[1.0, 0.55], [0.55, 0.8]], size=n)
    p = true[:, [0]] + rng.standard_normal((n, k)) * 1.1
    e = true[:, [1]] + rng.standard_normal((n, k)) * 0.9
    frame = pd.DataFrame(np.hstack([p, e]), columns=[f"p{i}" for i in range(k)] + [f"e{i}" for i in range(k)])
    gap = rel.gap_reliability_from_frame(frame, [f"p{i}" for i in range(k)], [f"e{i}" for i in range(k)])
    observed_gap = p.mean(axis=1) - e.mean(axis=1)
    true_gap = true[:, 0] - true[:, 1]
    empirical = true_gap.var() / observed_gap.var()
    assert gap.reliability == pytest.approx(empirical, abs=0.01)
    assert gap.alpha_p == pytest.approx(rel.alpha_from_frame(frame, [f"p{i}" for i in range(k)]).alpha, abs=1e-12)
    assert gap.corr_pe == pytest.approx(np.corrcoef(p.mean(axis=1), e.mean(axis=1))[0, 1], abs=1e-10)
    assert gap.var_p == pytest.approx(p.mean(axis=1).var(ddof=1), rel=1e-10)
    item_gaps = pd.DataFrame(p - e)
    assert gap.alpha_of_item_gaps == pytest.approx(rel.alpha_from_frame(item_gaps).alpha, abs=1e-10)
    assert gap.n == n
    assert gap.reliability < min(gap.alpha_p, gap.alpha_e)


def test_bad_input():
    cov = pd.DataFrame(BFI_PAIRWISE_COV, index=A_ITEMS, columns=A_ITEMS)
    with pytest.raises(ParameterError, match="reverse"):
        rel.alpha_from_cov(cov, 2800, reverse=["A9"])
    with pytest.raises(ParameterError, match="confidence"):
        rel.alpha_from_cov(cov, 2800, confidence=95)
    with pytest.raises(ParameterError, match="n ="):
        rel.alpha_from_cov(cov, 1)
    with pytest.raises(DataError, match="numeric"):
        rel.alpha_from_frame(pd.DataFrame({"a": ["x", "y", "z"], "b": [1, 2, 3]}))
    with pytest.raises(DataError, match="no variance"):
        rel.alpha_from_frame(pd.DataFrame({"a": [1, 1, 1], "b": [1, 2, 3]}))
    with pytest.raises(ParameterError, match="3 items"):
        rel.omega_from_cov(cov.iloc[:2, :2])
    with pytest.raises(ParameterError, match="pair"):
        rel.gap_reliability_from_cov(cov, ["A1", "A2"], ["A3"])
