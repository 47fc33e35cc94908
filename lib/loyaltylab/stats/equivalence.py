"""Two-group comparisons with an equivalence test — for the service recovery paradox (are recovered customers
higher than, as high as, or lower than those who never had a failure?).

A difference A − B (a mean, or an NPS in points −100…100) gets its ``confidence`` interval, a two-sided p, the
one-sided p for H1: A > B, and Schuirmann's (1987) two one-sided tests (TOST) against ±``margin``. All verdicts read
off the one interval: with α = (1 − confidence)/2 the interval is the (1 − 2α) interval TOST uses, so the default
0.95 tests equivalence at α = 0.025 and ``confidence=0.90`` gives the textbook 5% TOST.

Verdict (:data:`VERDICTS`): ``"equivalent"`` when the interval lies inside (−margin, margin) — also when it excludes 0,
since the margin is the smallest difference that matters (the ``significant`` column still says so);
otherwise ``"higher"`` when it lies above 0, ``"lower"`` below 0, else ``"inconclusive"``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import params
from loyaltylab.constants import DETRACTOR_MAX, PROMOTER_MIN
from loyaltylab.errors import DataError, ParameterError
from loyaltylab.stats.moderation import _controls, _resolve_cov_type, _vector, cluster_codes, ols

VERDICTS = ("higher", "equivalent", "inconclusive", "lower")
SCORES = ("mean", "nps")


def tost(estimate, se, margin=None, *, df=math.inf, confidence: float = 0.95) -> pd.DataFrame:
    """Vectorised inference for differences with standard errors: interval, two-sided p, one-sided p for H1: > 0
    (``p_greater``), TOST p (the larger of the two one-sided p-values against −margin and +margin; NaN without a
    margin), ``significant``, ``equivalent`` and ``verdict``. t with ``df`` degrees of freedom (normal if infinite).

    Tested against a hand computation, scipy's one-sided t tests and statsmodels' ``ttost_ind``.
    """
    confidence = params.confidence(confidence)
    est = np.atleast_1d(np.asarray(estimate, dtype="float64"))
    se = np.broadcast_to(np.asarray(se, dtype="float64"), est.shape)
    df = np.broadcast_to(np.asarray(df, dtype="float64"), est.shape)
    if margin is None:
        m = np.full(est.shape, np.nan)
    else:
        m = np.broadcast_to(np.asarray(margin, dtype="float64"), est.shape)
        if not np.all(np.isfinite(m) & (m > 0)):
            raise ParameterError("margin", margin, "must be a number greater than 0 (in the outcome's units)")
    alpha = (1 - confidence) / 2
    finite = np.isfinite(df)
    dfs = np.where(finite, df, 1.0)

    def sf(z):
        return np.where(finite, stats.t.sf(z, dfs), stats.norm.sf(z))

    crit = np.where(finite, stats.t.ppf(1 - alpha, dfs), stats.norm.ppf(1 - alpha))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = est / se
        p_lower_bound = sf((est + m) / se)
        p_upper_bound = sf(-(est - m) / se)
    p_greater = sf(z)
    p_two = np.minimum(1.0, 2 * sf(np.abs(z)))
    p_tost = np.maximum(p_lower_bound, p_upper_bound)
    low, high = est - crit * se, est + crit * se
    equivalent = (low > -m) & (high < m)
    verdict = np.where(equivalent, "equivalent", np.where(low > 0, "higher", np.where(high < 0, "lower",
                                                                                          "inconclusive")))
    verdict = np.where(np.isfinite(est) & np.isfinite(se), verdict, "inconclusive")
    return pd.DataFrame({"estimate": est, "se": se, "df": df, "ci_low": low, "ci_high": high, "p_value": p_two,
                         "p_greater": p_greater, "p_tost": p_tost, "margin": m, "significant": p_two < 1 - confidence,
                         "equivalent": equivalent, "verdict": verdict})


@dataclass(frozen=True)
class GroupDifference:
    """A − B with its inference (see :func:`tost`). ``value_a``/``value_b``: the two groups' means (or NPS);
    ``n_a``/``n_b``: rows; ``n_clusters``: distinct clusters in both groups (None if independent); ``method``:
    ``welch``, ``ols`` (regression with the group dummy), ``trinomial`` or ``trinomial_clustered``."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float
    p_greater: float
    p_tost: float
    margin: float
    significant: bool
    equivalent: bool
    verdict: str
    value_a: float
    value_b: float
    n_a: int
    n_b: int
    n_clusters: int | None
    method: str
    adjusted: bool
    confidence: float

    def as_dict(self) -> dict:
        return asdict(self)


def _difference(est, se, df, margin, confidence, value_a, value_b, n_a, n_b, n_clusters, method, adjusted):
    row = tost(est, se, margin, df=df, confidence=confidence).iloc[0]
    fields = ("estimate", "se", "df", "ci_low", "ci_high", "p_value", "p_greater", "p_tost", "margin")
    return GroupDifference(*(float(row[f]) for f in fields), bool(row["significant"]), bool(row["equivalent"]),
                           str(row["verdict"]), float(value_a), float(value_b), int(n_a), int(n_b), n_clusters,
                           method, adjusted, confidence)


def _groups(group, a, b, n: int) -> tuple[np.ndarray, np.ndarray]:
    g = group.reset_index(drop=True) if isinstance(group, pd.Series) else pd.Series(np.asarray(group).ravel())
    if len(g) != n:
        raise DataError(None, "group", f"must have one label per observation ({n}), found {len(g)}")
    in_a, in_b = (g == a).to_numpy(), (g == b).to_numpy()
    for label, mask in ((a, in_a), (b, in_b)):
        if mask.sum() < 2:
            raise DataError(None, "group", f"group {label!r} needs at least 2 observations, found {int(mask.sum())}")
    return in_a, in_b


def nps_values(scores) -> np.ndarray:
    """0–10 scores → +100 (promoter, 9–10), 0 (passive), −100 (detractor, 0–6); missing stays NaN. The mean of these
    is the NPS in points."""
    v = _vector(scores, "score")
    bad = np.isfinite(v) & ((v < 0) | (v > 10))
    if bad.any():
        s = pd.Series(v)
        raise DataError.from_mask(None, "score", "must be between 0 and 10", s, pd.Series(bad))
    return np.where(np.isnan(v), np.nan, np.where(v >= PROMOTER_MIN, 100.0, np.where(v <= DETRACTOR_MAX, -100.0,
                                                                                    0.0)))


def _welch(ya, yb):
    na, nb = len(ya), len(yb)
    va, vb = ya.var(ddof=1) / na, yb.var(ddof=1) / nb
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va * va / (na - 1) + vb * vb / (nb - 1)) if va + vb > 0 else math.inf
    return float(ya.mean() - yb.mean()), se, df


def _linearised_variance(s, in_a, codes):
    """Cluster-robust variance of mean_A − mean_B: G/(G−1)·Σ_c (Σ_{i∈c} ψ_i)², ψ_i = (s_i − m_A)/n_A in A and
    −(s_i − m_B)/n_B in B — clusters spanning both groups contribute their covariance."""
    na, nb = in_a.sum(), (~in_a).sum()
    ma, mb = s[in_a].mean(), s[~in_a].mean()
    psi = np.where(in_a, (s - ma) / na, -(s - mb) / nb)
    inverse, _ = pd.factorize(codes)
    u = np.bincount(inverse, weights=psi)
    g = len(u)
    return (g / (g - 1) * float(u @ u) if g >= 2 else math.nan), g


def nps_difference(scores, group, clusters=None, *, margin: float | None = None, a=1, b=0,
                   confidence: float = 0.95) -> GroupDifference:
    """NPS(A) − NPS(B) in points from 0–10 scores, with the trinomial delta-method variance
    (p + d − (p − d)²)/n per group for independent responses, or its cluster-robust (linearised) form when
    ``clusters`` says who answered; normal-theory interval, one-sided p (H1: A > B) and TOST against ±``margin``.

    Tested against the trinomial variance computed by hand in R, statsmodels' cluster sandwich for the clustered
    form, and coverage over seeds.
    """
    confidence = params.confidence(confidence)
    s = nps_values(scores)
    n = len(s)
    in_a, in_b = _groups(group, a, b, n)
    codes = cluster_codes(clusters, n)
    keep = np.isfinite(s) & (in_a | in_b)
    if codes is not None:
        keep &= codes >= 0
    s, in_a = s[keep], in_a[keep]
    na, nb = int(in_a.sum()), int((~in_a).sum())
    if min(na, nb) < 2:
        raise DataError(None, "group", "each group needs at least 2 answered scores")
    nps_a, nps_b = s[in_a].mean(), s[~in_a].mean()
    if codes is None:
        var = s[in_a].var() / na + s[~in_a].var() / nb
        method, g = "trinomial", None
    else:
        var, g = _linearised_variance(s, in_a, codes[keep])
        method = "trinomial_clustered"
    return _difference(nps_a - nps_b, math.sqrt(var), math.inf, margin, confidence, nps_a, nps_b, na, nb, g,
                       method, False)


@dataclass(frozen=True)
class Comparison:
    """Unadjusted (and, with controls, adjusted) A − B. ``table``: one row per model with the
    :class:`GroupDifference` fields; ``result`` is the adjusted one when present (else the unadjusted)."""

    unadjusted: GroupDifference
    adjusted: GroupDifference | None
    score: str
    a: object
    b: object

    @property
    def result(self) -> GroupDifference:
        return self.adjusted if self.adjusted is not None else self.unadjusted

    @property
    def table(self) -> pd.DataFrame:
        rows = [self.unadjusted] + ([self.adjusted] if self.adjusted is not None else [])
        table = pd.DataFrame([r.as_dict() for r in rows])
        table.insert(0, "model", ["unadjusted", "adjusted"][: len(rows)])
        table["n"] = table["n_a"] + table["n_b"]
        return table


def compare_groups(y, group, controls=None, clusters=None, *, margin: float | None = None, a=1, b=0,
                   score: str = "mean", confidence: float = 0.95, cov_type: str | None = None) -> Comparison:
    """Compare group ``a`` with group ``b`` (rows in other groups are ignored) on a mean (``score="mean"``) or an
    NPS from 0–10 scores (``score="nps"``, points), unadjusted and — with ``controls`` — adjusted by a regression of
    the outcome (±100/0 per respondent for NPS) on the group dummy and the controls.

    Unadjusted: Welch's t (mean) or the trinomial delta method (NPS), or with ``clusters`` the CR1 regression on the
    dummy (mean) / linearised NPS variance. Adjusted: OLS with CR1 cluster-robust errors (t on G−1 df) or, without
    clusters, HC2 (t on N−K df; with no controls HC2 is Welch's standard error). Tested against scipy's Welch test
    and R ``lm`` + ``sandwich::vcovCL`` / ``vcovHC(type = "HC2")``; coverage checked over seeds.
    """
    confidence = params.confidence(confidence)
    score = params.choice(*SCORES)(score, "score")
    if margin is not None:
        margin = params.positive(margin, "margin")
    v = nps_values(y) if score == "nps" else _vector(y, "y")
    n = len(v)
    in_a, in_b = _groups(group, a, b, n)
    codes = cluster_codes(clusters, n)
    C, names = _controls(controls, n)
    cov_type = _resolve_cov_type(cov_type, codes, "HC2")

    if score == "nps":
        unadjusted = nps_difference(y, group, clusters, margin=margin, a=a, b=b, confidence=confidence)
    else:
        keep = np.isfinite(v) & (in_a | in_b) & (codes >= 0 if codes is not None else True)
        ya, yb = v[keep & in_a], v[keep & in_b]
        if min(len(ya), len(yb)) < 2:
            raise DataError(None, "group", "each group needs at least 2 observations with a value")
        if codes is None:
            est, se, df = _welch(ya, yb)
            unadjusted = _difference(est, se, df, margin, confidence, ya.mean(), yb.mean(), len(ya), len(yb), None,
                                     "welch", False)
        else:
            unadjusted = _regression(v[keep], in_a[keep], np.empty((int(keep.sum()), 0)), codes[keep], cov_type,
                                     margin, confidence, False)
    adjusted = None
    if names:
        keep = np.isfinite(v) & (in_a | in_b) & np.isfinite(C).all(axis=1)
        if codes is not None:
            keep &= codes >= 0
        adjusted = _regression(v[keep], in_a[keep], C[keep], codes[keep] if codes is not None else None, cov_type,
                               margin, confidence, True)
    return Comparison(unadjusted, adjusted, score, a, b)


def _regression(v, in_a, C, codes, cov_type, margin, confidence, adjusted) -> GroupDifference:
    dummy = in_a.astype("float64")
    if dummy.min() == dummy.max():
        raise DataError(None, "group", "both groups need observations with complete controls")
    X = np.column_stack([np.ones(len(v)), dummy, C])
    res = ols(v, X, codes, cov_type)
    na, nb = int(in_a.sum()), int((~in_a).sum())
    return _difference(res.params[1], math.sqrt(res.cov[1, 1]), res.df, margin, confidence, v[in_a].mean(),
                       v[~in_a].mean(), na, nb, res.n_clusters, "ols", adjusted)

