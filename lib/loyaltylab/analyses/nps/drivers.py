"""What separates promoters from detractors: SERVQUAL dimension scores by NPS category (means, Cohen's d) and a
logistic model of promoter vs detractor on all dimensions at once. Dimension scores are
:func:`loyaltylab.measures.dimension_scores` (each respondent's mean of the items they answered)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import params, privacy
from loyaltylab.constants import DIMENSIONS, NPS_CATEGORIES
from loyaltylab.measures import category_codes, dimension_scores
from loyaltylab.stats import clustered
from loyaltylab.stats.effects import MAGNITUDE_CUTS, cohens_d
from loyaltylab.stats.multiplicity import adjust_pvalues

MIN_MODEL_GROUP = 10
"""The logistic model needs at least this many promoters and detractors (and ``min_cell``)."""
MEANS_COLUMNS = ["dimension", "label", "category", "n", "mean", "sd", "ci_low", "ci_high", "deff", "suppressed"]
EFFECTS_COLUMNS = ["dimension", "label", "n_promoters", "n_detractors", "mean_promoters", "mean_detractors",
                   "difference", "se_difference", "deff", "cohens_d", "d_ci_low", "d_ci_high", "p_value",
                   "suppressed"]


def dimension_label(dim: str) -> str:
    """'Reliability' for a SERVQUAL dimension; any other name as it is."""
    return DIMENSIONS[dim]["en"] if dim in DIMENSIONS else dim


def effect_word(d: float) -> str:
    """Cohen's conventions: negligible, small, medium, large."""
    a = abs(d)
    small, medium, large = MAGNITUDE_CUTS
    return "negligible" if a < small else "small" if a < medium else "medium" if a < large else "large"


@dataclass(frozen=True)
class DimensionComparison:
    """``means``: one row per dimension × NPS category (n, mean, sd, interval, deff); ``effects``: promoters vs
    detractors per dimension (difference with its SE and design effect, Cohen's d with interval, p-value,
    Holm-adjusted). ``cluster_col`` is set when the intervals and tests are cluster-robust."""

    means: pd.DataFrame
    effects: pd.DataFrame
    confidence: float = 0.95
    cluster_col: str | None = None


def _category_stats(x, codes, clusters, confidence):
    """Per NPS category: n, mean, variance, SD, interval half-width, deff and the people counted (clusters)."""
    n = np.bincount(codes, minlength=3)[:3].astype("float64")
    s1 = np.bincount(codes, weights=x, minlength=3)[:3]
    s2 = np.bincount(codes, weights=x**2, minlength=3)[:3]
    if clusters is not None:
        sums = clustered.value_cluster_sums(x, codes, 3, clusters)
        deff, df, people = clustered.deff_from_sums(sums), np.maximum(sums["G"] - 1, 1), sums["G"]
    else:
        deff, df, people = np.ones(3), np.maximum(n - 1, 1), n
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        var = np.maximum(s2 - n * mean**2, 0.0) / (n - 1)
        sd = np.sqrt(var)
        t = stats.t.ppf(0.5 + confidence / 2, df)
        half = t * sd / np.sqrt(n) * np.sqrt(deff)
    return {"n": n, "mean": mean, "var": var, "sd": sd, "half": half, "deff": deff, "people": people}


def _effect_row(dim, c, x, codes, clusters, confidence, min_cell, hidden: bool = False) -> dict:
    """Promoters vs detractors on one dimension: difference, its (cluster-robust) SE and test, Cohen's d."""
    n_p, n_d = c["n"][2], c["n"][0]
    row = {"dimension": dim, "label": dimension_label(dim), "n_promoters": int(n_p), "n_detractors": int(n_d)}
    if hidden or min(c["people"][2], c["people"][0]) < max(min_cell, 2):
        return {**row, "suppressed": True}
    mean, var, sd = c["mean"], c["var"], c["sd"]
    diff = mean[2] - mean[0]
    se_iid = math.sqrt(var[2] / n_p + var[0] / n_d)
    deff_diff = 1.0
    if clusters is None:
        p_value = float(stats.ttest_ind_from_stats(mean[2], sd[2], n_p, mean[0], sd[0], n_d, equal_var=False).pvalue)
    else:
        v_cr, g = clustered.clustered_difference_variance(x, codes, clusters, mean[2], mean[0], n_p, n_d)
        if se_iid > 0 and np.isfinite(v_cr):
            deff_diff = max(v_cr / se_iid**2, 1.0)
        se = se_iid * math.sqrt(deff_diff)
        with np.errstate(invalid="ignore", divide="ignore"):
            p_value = float(2 * stats.t.sf(abs(diff / se), max(g - 1, 1))) if se > 0 else float(diff == 0)
    d = cohens_d(mean[2], var[2], n_p, mean[0], var[0], n_d, confidence=confidence, deff=deff_diff)
    return {**row, "mean_promoters": mean[2], "mean_detractors": mean[0], "difference": diff,
            "se_difference": se_iid * math.sqrt(deff_diff), "deff": deff_diff, "cohens_d": d.d,
            "d_ci_low": d.ci_low, "d_ci_high": d.ci_high, "p_value": p_value, "suppressed": False}


def compare_dimensions(
    frame: pd.DataFrame, *, score_col: str = "nps", prefix: str = "P", confidence: float = 0.95,
    min_cell: int = privacy.DEFAULT_MIN_CELL, cluster_col: str | None = None, source: str | None = None,
    hide: dict | None = None,
) -> DimensionComparison:
    """Perception means by NPS category for each SERVQUAL dimension, from per-category sums and sums of squares.

    Independent responses (``cluster_col`` None): t intervals for the means, Welch's t-test, and the usual
    large-sample interval of Cohen's d (Hedges & Olkin). With ``cluster_col`` (several answers by one customer) every
    uncertainty is cluster-robust: the means' intervals use the design effect from the per-(category, customer)
    sums with t on G − 1 degrees of freedom (G customers); the difference's SE is the sandwich SE of
    :func:`loyaltylab.stats.clustered.clustered_difference_variance` and its test t on G − 1 df. Cohen's d itself
    is unchanged, but its interval is widened by √deff of the difference (:func:`loyaltylab.stats.effects.cohens_d`).
    Design effects are truncated at 1. Answering every question 3× gives, clustered, the same intervals as answering
    once. A category with fewer than ``min_cell`` people is hidden (its count too); so is a dimension's
    promoter–detractor row when either group is. ``hide`` ({(dimension, category): True}) hides further means:
    what a fan-out part hides to protect the rest of its batch (:mod:`.linked`).
    """
    min_cell = params.min_cell(min_cell)
    params.confidence(confidence)
    scores = dimension_scores(frame, prefix=prefix)
    codes = category_codes(frame[score_col])
    clusters = clustered.cluster_codes(frame, cluster_col, source)
    mean_rows, effect_rows = [], []
    hide = hide or {}
    for dim in scores.columns:
        x = scores[dim].to_numpy()
        ok = np.isfinite(x) & (codes >= 0)
        cl = clusters[ok] if clusters is not None else None
        c = _category_stats(x[ok], codes[ok], cl, confidence)
        for k, cat in enumerate(NPS_CATEGORIES):
            mean_rows.append({
                "dimension": dim, "label": dimension_label(dim), "category": cat, "n": int(c["n"][k]),
                "mean": c["mean"][k], "sd": c["sd"][k], "ci_low": c["mean"][k] - c["half"][k],
                "ci_high": c["mean"][k] + c["half"][k], "deff": c["deff"][k], "people": c["people"][k],
            })
        effect_rows.append(_effect_row(dim, c, x[ok], codes[ok], cl, confidence, min_cell,
                                       hidden=any(hide.get((dim, cat), False) for cat in ("promoter", "detractor"))))
    means = pd.DataFrame(mean_rows, columns=[*MEANS_COLUMNS[:-1], "people"])
    linked = [bool(hide.get((r["dimension"], r["category"]), False)) for r in mean_rows]
    means = privacy.suppress(means, n_col="n", min_cell=min_cell, people="people", complementary=False,
                             value_cols=["mean", "sd", "ci_low", "ci_high", "deff"], also_hide=linked)[MEANS_COLUMNS]
    effects = pd.DataFrame(effect_rows, columns=EFFECTS_COLUMNS)
    effects["suppressed"] = effects["suppressed"].astype(bool)
    for col in ("n_promoters", "n_detractors"):
        effects[col] = pd.array(effects[col], dtype="Int64")
        effects.loc[effects["suppressed"], col] = pd.NA
    effects["p_adjusted"], effects["significant"] = adjust_pvalues(effects["p_value"], "holm", 1 - confidence)
    effects["effect"] = [effect_word(d) if np.isfinite(d) else "" for d in effects["cohens_d"]]
    return DimensionComparison(means, effects, confidence, cluster_col)


@dataclass(frozen=True)
class PromoterModel:
    """Logistic regression of promoter (1) vs detractor (0) on the dimension means: odds ratios per scale point,
    each holding the other dimensions constant. ``table`` is empty (and ``note`` says why) when it cannot be fit."""

    table: pd.DataFrame
    n: int
    n_promoters: int
    n_detractors: int
    pseudo_r2: float
    converged: bool
    note: str = ""
    cluster_col: str | None = None


def promoter_model(
    frame: pd.DataFrame, *, score_col: str = "nps", prefix: str = "P", confidence: float = 0.95,
    min_cell: int = privacy.DEFAULT_MIN_CELL, cluster_col: str | None = None, source: str | None = None,
) -> PromoterModel:
    """Promoters vs detractors (passives left out) on the SERVQUAL dimension perception means (statsmodels Logit).

    With ``cluster_col`` the SEs, intervals and p-values are cluster-robust (statsmodels ``cov_type="cluster"``,
    one cluster per customer), so a customer answering three times does not count as three independent answers;
    the odds ratios themselves are the same maximum-likelihood estimates."""
    import warnings

    import statsmodels.api as sm

    scores = dimension_scores(frame, prefix=prefix)
    codes = category_codes(frame[score_col])
    clusters = clustered.cluster_codes(frame, cluster_col, source)
    keep = (codes != 1) & (codes >= 0) & scores.notna().all(axis=1).to_numpy()
    y = (codes[keep] == 2).astype("float64")
    n_p, n_d = int(y.sum()), int(len(y) - y.sum())
    columns = ["dimension", "label", "odds_ratio", "ci_low", "ci_high", "p_value", "coef", "se"]
    empty = pd.DataFrame(columns=columns)
    if scores.shape[1] == 0:
        return PromoterModel(empty, int(keep.sum()), n_p, n_d, np.nan, False, "no SERVQUAL perception items")
    need = max(MIN_MODEL_GROUP, params.min_cell(min_cell))
    if min(n_p, n_d) < need:
        return PromoterModel(empty, len(y), n_p, n_d, np.nan, False,
                             f"too few promoters or detractors to fit (need {need} of each)")
    X = sm.add_constant(scores.loc[keep].to_numpy(), has_constant="add")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cov = {} if clusters is None else {"cov_type": "cluster", "cov_kwds": {"groups": clusters[keep]}}
            fit = sm.Logit(y, X).fit(disp=0, maxiter=200, method="newton", **cov)
        except Exception as exc:  # singular matrix, perfect separation
            return PromoterModel(empty, len(y), n_p, n_d, np.nan, False,
                                 f"model could not be fit ({type(exc).__name__})")
    converged = bool(fit.mle_retvals.get("converged", True)) and not any(
        "separation" in str(w.message).lower() for w in caught)
    coefs, bse = np.asarray(fit.params)[1:], np.asarray(fit.bse)[1:]
    ci = np.asarray(fit.conf_int(alpha=1 - confidence))[1:]
    table = pd.DataFrame({
        "dimension": list(scores.columns), "label": [dimension_label(d) for d in scores.columns],
        "odds_ratio": np.exp(coefs), "ci_low": np.exp(ci[:, 0]), "ci_high": np.exp(ci[:, 1]),
        "p_value": np.asarray(fit.pvalues)[1:], "coef": coefs, "se": bse,
    })
    note = ("" if converged else
            "the fit did not converge cleanly (near-perfect separation?); read the odds ratios with care")
    return PromoterModel(table, len(y), n_p, n_d, float(fit.prsquared), converged, note, cluster_col)
