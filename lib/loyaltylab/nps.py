"""Net Promoter Score (净推荐值): classification, intervals, segment and trend tables, planning, drivers, themes.

Every statistic is computed from category counts (promoters, passives, detractors per group), so a table over a
million responses costs a few ``np.bincount`` calls. Functions return DataFrames or small frozen dataclasses;
plots live in the ``plot_*`` functions at the end and take those results.

Conventions: NPS and its intervals are in points (−100..100); percentages are 0..100; ``confidence`` is a
two-sided level (0.95); groups with fewer than ``min_cell`` respondents are suppressed (their statistics are
blank), plus the smallest further groups needed so that a suppressed group cannot be recovered by subtraction.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import privacy
from loyaltylab.constants import DETRACTOR_MAX, DIMENSIONS, NPS_CATEGORIES, PROMOTER_MIN
from loyaltylab.errors import DataError
from loyaltylab.plots import ACCENT, NPS_COLORS, PALETTE, SUPPRESSED_COLOR, forest_plot

CI_METHODS = ("normal", "adjusted", "score")
"""``normal``: Wald interval from the trinomial variance. ``adjusted``: Rocks (2016) adjusted Wald — add 3
pseudo-respondents (¾ promoter, 1½ passive, ¾ detractor) before computing the Wald interval. ``score``: the
iterative score interval (invert the score test with the variance at the constrained maximum-likelihood estimate,
as Tango 1998 does for a difference of paired proportions); Rocks (2016) found both close to nominal coverage."""

CORRECTIONS = ("holm", "fdr_bh", "bonferroni", None)
PERIOD_ALIASES = {"M": "M", "ME": "M", "MONTH": "M", "Q": "Q", "QE": "Q", "QUARTER": "Q", "Y": "Y", "YE": "Y",
                  "A": "Y", "YEAR": "Y"}
PERIOD_NAMES = {"M": "month", "Q": "quarter", "Y": "year"}
LOYAL_MARK = 50.0
"""The course's mark of a loyal customer base: NPS ≥ 50."""
MISSING_LABEL = "(missing)"
CORRECTION_NAMES = {"holm": "Holm", "fdr_bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni"}
CATEGORY_LABELS = {"promoter": "Promoters", "passive": "Passives", "detractor": "Detractors"}
PARAMETERS = "parameters"
"""The ``source`` of a :class:`DataError` about a notebook parameter rather than a file."""
JOIN_WARN_RATE = 0.9
"""Below this share of survey responses matching a customer, the report warns that the segment join is poor."""


# --- classification and counts ------------------------------------------------------------------------------


def category_codes(scores) -> np.ndarray:
    """0 = detractor (0–6), 1 = passive (7–8), 2 = promoter (9–10), −1 = missing; int8 array."""
    v = np.asarray(scores, dtype="float64")
    codes = np.where(v >= PROMOTER_MIN, 2, np.where(v <= DETRACTOR_MAX, 0, 1)).astype("int8")
    codes[np.isnan(v)] = -1
    return codes


def classify(scores) -> pd.Series:
    """Each 0–10 score as 'detractor' / 'passive' / 'promoter' (an ordered categorical; missing stays missing)."""
    s = scores if isinstance(scores, pd.Series) else pd.Series(scores)
    cat = pd.Categorical.from_codes(category_codes(s), categories=list(NPS_CATEGORIES), ordered=True)
    return pd.Series(cat, index=s.index, name="category")


def check_scores(scores: pd.Series, source: str | None = None, column: str | None = None) -> pd.Series:
    """Scores must be whole numbers 0–10 (blanks allowed); otherwise a one-line DataError naming the rows."""
    s = scores if isinstance(scores, pd.Series) else pd.Series(scores)
    column = column if column is not None else (str(s.name) if s.name is not None else "nps")
    num = pd.to_numeric(s, errors="coerce")
    text = num.isna() & s.notna()
    if text.any():
        raise DataError.from_mask(source, column, "must be a number 0–10 (found text)", s, text)
    bad = num.notna() & ((num < 0) | (num > 10))
    if bad.any():
        raise DataError.from_mask(source, column, "must be between 0 and 10", s, bad)
    frac = num.notna() & (num != np.round(num))
    if frac.any():
        raise DataError.from_mask(source, column, "must be a whole number 0–10", s, frac)
    return num.astype("float64")


# --- the statistic and its intervals ------------------------------------------------------------------------


def _check_confidence(confidence) -> float:
    ok = isinstance(confidence, numbers.Real) and not isinstance(confidence, bool) and 0 < confidence < 1
    if not ok:
        raise DataError(PARAMETERS, None, f"confidence = {confidence!r}: must be a level between 0 and 1 "
                        "(e.g. 0.95, not 95)")
    return float(confidence)


def z_value(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + _check_confidence(confidence) / 2))


def _check_method(ci_method: str) -> str:
    if not isinstance(ci_method, str) or ci_method not in CI_METHODS:
        raise DataError(PARAMETERS, None, f"ci_method = {ci_method!r}: must be one of {', '.join(CI_METHODS)}")
    return ci_method


def _check_min_cell(min_cell) -> int:
    """privacy.check_min_cell with a one-line DataError about the parameter (min_cell = 0 would show everyone)."""
    try:
        if isinstance(min_cell, bool):
            raise ValueError
        return privacy.check_min_cell(min_cell)
    except (TypeError, ValueError):
        raise DataError(PARAMETERS, None, f"min_cell = {min_cell!r}: must be a whole number ≥ 1 (e.g. 5)") from None


def check_parameters(
    *, period: str = "Q", min_cell: int = privacy.DEFAULT_MIN_CELL, confidence: float = 0.95,
    ci_method: str = "normal", correction: str | None = "holm",
) -> None:
    """Check the analysis parameters before any data is read: a one-line DataError (source 'parameters') for
    confidence = 95, an unknown ci_method / period / correction, or min_cell < 1."""
    _check_confidence(confidence)
    _check_method(ci_method)
    normalise_period(period)
    _check_min_cell(min_cell)
    _check_correction(correction)


def _check_correction(method) -> None:
    if method not in CORRECTIONS:
        raise DataError(PARAMETERS, None, f"correction = {method!r}: must be one of "
                        f"{', '.join(repr(c) for c in CORRECTIONS)}")


def _constrained_detractor_share(n_pro, n_pas, n_det, delta):
    """MLE of the detractor share given promoters − detractors = ``delta`` ≥ 0 (Tango's quadratic root)."""
    n = n_pro + n_pas + n_det
    a = 2.0 * n
    b = delta * (2.0 * n - n_pro + n_det) - (n_pro + n_det)
    c = -n_det * delta * (1.0 - delta)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (-b + np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))) / (2.0 * a)
    return np.clip(x, 0.0, (1.0 - delta) / 2.0)


def _score_variance(n_pro, n_pas, n_det, delta):
    """Trinomial variance of one response's (promoter − detractor) at the constrained MLE for ``delta``."""
    flip = delta < 0
    p, d = np.where(flip, n_det, n_pro), np.where(flip, n_pro, n_det)
    dd = np.abs(delta)
    q_det = _constrained_detractor_share(p, n_pas, d, dd)
    q_pro = q_det + dd
    return np.maximum(q_pro + q_det - dd * dd, 0.0)


def _score_interval(n_pro, n_pas, n_det, z, iterations: int = 60):
    """Invert |d̂ − Δ| ≤ z·sqrt(V(Δ)/n) by vectorised bisection on each side of d̂ (proportions, −1..1)."""
    n = n_pro + n_pas + n_det
    est = (n_pro - n_det) / n

    def outside(delta):
        return (est - delta) ** 2 > z * z * _score_variance(n_pro, n_pas, n_det, delta) / n

    bounds = []
    for edge in (-1.0, 1.0):
        inner, outer = est.copy(), np.full_like(est, edge)
        for _ in range(iterations):
            mid = (inner + outer) / 2
            out = outside(mid)
            outer = np.where(out, mid, outer)
            inner = np.where(out, inner, mid)
        # inner is inside the acceptance region; at the edge itself (e.g. all detractors) the edge is accepted.
        bounds.append(np.where(outside(np.full_like(est, edge)), inner, edge))
    return bounds[0], bounds[1]


def nps_arrays(
    n_pro, n_pas, n_det, confidence: float = 0.95, ci_method: str = "normal", deff=None,
) -> dict[str, np.ndarray]:
    """Vectorised core: NPS, SE and interval (points) for arrays of category counts. n = 0 gives NaN.

    ``deff`` (design effect, ≥ 1, e.g. from :func:`cluster_design_effect`) widens everything for correlated
    responses: the SE is multiplied by √deff and the interval is computed on the effective counts (counts / deff),
    as Korn & Graubard do for proportions from complex samples. None = independent responses (deff 1).
    """
    _check_method(ci_method)
    z = z_value(confidence)
    n_pro, n_pas, n_det = (np.asarray(x, dtype="float64") for x in (n_pro, n_pas, n_det))
    n = n_pro + n_pas + n_det
    deff = np.ones_like(n) if deff is None else np.broadcast_to(np.asarray(deff, dtype="float64"), n.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_pro, p_pas, p_det = n_pro / n, n_pas / n, n_det / n
        est = p_pro - p_det
        se = np.sqrt(np.maximum(p_pro + p_det - est * est, 0.0) / n * deff)
        e_pro, e_pas, e_det = n_pro / deff, n_pas / deff, n_det / deff
        if ci_method == "normal":
            low, high = est - z * se, est + z * se
        elif ci_method == "adjusted":
            n_adj = e_pro + e_pas + e_det + 3.0
            pa, da = (e_pro + 0.75) / n_adj, (e_det + 0.75) / n_adj
            center = pa - da
            half = z * np.sqrt((pa + da - center * center) / n_adj)
            low, high = center - half, center + half
        else:
            low, high = _score_interval(e_pro, e_pas, e_det, z)
    empty = n <= 0
    out = {
        "n": n, "promoters_pct": 100 * p_pro, "passives_pct": 100 * p_pas, "detractors_pct": 100 * p_det,
        "nps": 100 * est, "se": 100 * se,
        "ci_low": 100 * np.clip(low, -1.0, 1.0), "ci_high": 100 * np.clip(high, -1.0, 1.0),
        "deff": deff.copy(),
    }
    for key in out:
        if key != "n":
            out[key] = np.where(empty, np.nan, out[key])
    return out


def _cluster_sums(codes, groups, n_groups: int, clusters) -> dict[str, np.ndarray]:
    """Per group: n, Σx, Σx², and over the (group, cluster) cells Σs², Σs·m, Σm² and their number (x = +1/0/−1,
    s = a cell's Σx, m = its size)."""
    codes = np.asarray(codes)
    ok = codes >= 0
    return _value_cluster_sums(codes[ok].astype("float64") - 1.0, np.asarray(groups)[ok], n_groups,
                               np.asarray(clusters)[ok])


def _value_cluster_sums(x, groups, n_groups: int, clusters) -> dict[str, np.ndarray]:
    """:func:`_cluster_sums` for any values ``x`` (no missing values; e.g. a dimension's perception means)."""
    x = np.asarray(x, dtype="float64")
    g = np.asarray(groups).astype("int64")
    c = np.asarray(clusters).astype("int64")
    if len(x) == 0:
        return {k: np.zeros(n_groups) for k in ("n", "S", "Q", "A", "B", "C", "G")}
    width = int(c.max()) + 1
    keys, inverse = np.unique(g * width + c, return_inverse=True)
    s = np.bincount(inverse, weights=x)
    m = np.bincount(inverse).astype("float64")
    gk = keys // width

    def per_group(weights, index=gk):
        return np.bincount(index, weights=weights, minlength=n_groups)[:n_groups]

    return {"n": per_group(m), "S": per_group(s), "Q": per_group(x * x, g), "A": per_group(s * s),
            "B": per_group(s * m), "C": per_group(m * m), "G": per_group(np.ones_like(m))}


def _deff_from_sums(t: Mapping[str, np.ndarray]) -> np.ndarray:
    n, G = t["n"], t["G"]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = t["S"] / n
        ss = t["A"] - 2 * mean * t["B"] + mean**2 * t["C"]
        v_cluster = G / (G - 1) * np.maximum(ss, 0.0) / n**2
        v_iid = (t["Q"] / n - mean**2) / n
        deff = v_cluster / v_iid
    return np.where((G >= 2) & (v_iid > 0) & np.isfinite(deff), np.maximum(deff, 1.0), 1.0)


def cluster_design_effect(codes, groups, n_groups: int, clusters) -> np.ndarray:
    """Design effect per group when responses are clustered (several answers by one customer).

    Cluster-robust (sandwich) variance of the mean of +1/0/−1 over the iid trinomial variance, from per-cluster sums:
    V = G/(G−1) · Σ_c (s_c − m_c·x̄)² / n². Truncated below at 1 (never narrower than the iid interval); 1 when a
    group has fewer than two clusters or no variance.
    """
    return _deff_from_sums(_cluster_sums(codes, groups, n_groups, clusters))


def _cluster_rest_deff(codes, groups, n_groups: int, clusters) -> tuple[np.ndarray, np.ndarray]:
    """(deff of each group, deff of everyone outside it) — the second by subtraction, exact when clusters are
    nested in groups (customers in customer segments)."""
    t = _cluster_sums(codes, groups, n_groups, clusters)
    rest = {k: v.sum() - v for k, v in t.items()}
    return _deff_from_sums(t), _deff_from_sums(rest)


@dataclass(frozen=True)
class NPSResult:
    """One NPS with its uncertainty. Numbers are NaN when the group is suppressed (n < min_cell)."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float
    se: float
    ci_low: float
    ci_high: float
    promoters_pct: float
    passives_pct: float
    detractors_pct: float
    confidence: float = 0.95
    ci_method: str = "normal"
    suppressed: bool = False
    deff: float = 1.0

    @property
    def margin(self) -> float:
        """Half-width of the interval in points."""
        return (self.ci_high - self.ci_low) / 2

    def as_dict(self) -> dict:
        return asdict(self)


def from_counts(
    promoters: int, passives: int, detractors: int, *, confidence: float = 0.95, ci_method: str = "normal",
    min_cell: int | None = None, deff: float = 1.0,
) -> NPSResult:
    """NPS from the three category counts. With ``min_cell`` a group below it is returned suppressed;
    ``deff`` > 1 widens the interval for clustered responses (see :func:`nps_arrays`)."""
    counts = [int(promoters), int(passives), int(detractors)]
    if min(counts) < 0:
        raise ValueError(f"counts must be non-negative, got {counts}")
    a = nps_arrays(*counts, confidence=confidence, ci_method=ci_method, deff=deff)
    n = sum(counts)
    suppressed = min_cell is not None and n < _check_min_cell(min_cell)
    vals = {k: (math.nan if suppressed else float(a[k])) for k in
            ("nps", "se", "ci_low", "ci_high", "promoters_pct", "passives_pct", "detractors_pct")}
    shown = (0, 0, 0) if suppressed else counts
    return NPSResult(n, *shown, **vals, confidence=confidence, ci_method=ci_method, suppressed=suppressed,
                     deff=float(deff))


def net_promoter_score(
    scores, *, confidence: float = 0.95, ci_method: str = "normal", min_cell: int | None = None,
    source: str | None = None,
) -> NPSResult:
    """The NPS of 0–10 scores (blanks ignored) with SE and ``confidence`` interval by ``ci_method``."""
    s = check_scores(scores if isinstance(scores, pd.Series) else pd.Series(scores), source=source)
    det, pas, pro = np.bincount(category_codes(s.dropna()), minlength=3)[:3]
    return from_counts(pro, pas, det, confidence=confidence, ci_method=ci_method, min_cell=min_cell)


# --- comparing two NPS values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """NPS(a) − NPS(b) in points, with the independent-groups z-test and its interval."""

    difference: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    confidence: float = 0.95


def difference_arrays(nps_a, se_a, nps_b, se_b, confidence: float = 0.95) -> dict[str, np.ndarray]:
    """Vectorised z-test of NPS_a − NPS_b for independent groups (points in, points out)."""
    z_crit = z_value(confidence)
    diff = np.asarray(nps_a, float) - np.asarray(nps_b, float)
    se = np.sqrt(np.asarray(se_a, float) ** 2 + np.asarray(se_b, float) ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = diff / se
        p = 2 * stats.norm.sf(np.abs(z))
    # zero variance in both groups: identical → p = 1, different → p = 0 (both are certain)
    degenerate = (se == 0) & np.isfinite(diff)
    with np.errstate(invalid="ignore"):
        z = np.where(degenerate, np.where(diff == 0, 0.0, np.sign(diff) * np.inf), z)
    p = np.where(degenerate, np.where(diff == 0, 1.0, 0.0), p)
    return {"difference": diff, "se": se, "z": z, "p_value": p,
            "ci_low": diff - z_crit * se, "ci_high": diff + z_crit * se}


def compare(a: NPSResult, b: NPSResult, confidence: float | None = None) -> Difference:
    """Test whether two independent groups' NPS differ (e.g. a segment vs the rest, a period vs the previous)."""
    confidence = a.confidence if confidence is None else confidence
    d = difference_arrays(a.nps, a.se, b.nps, b.se, confidence)
    return Difference(**{k: float(v) for k, v in d.items()}, confidence=confidence)


def adjust_pvalues(p_values, method: str | None = "holm", alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Multiple-comparison correction over the finite p-values (NaN stays NaN): (adjusted p, reject at ``alpha``).

    ``holm`` (step-down, controls the family-wise error), ``fdr_bh`` (Benjamini–Hochberg false discovery rate),
    ``bonferroni``, or None (no correction). Same values as statsmodels' ``multipletests``.
    """
    _check_correction(method)
    p = np.asarray(p_values, dtype="float64").copy()
    ok = np.isfinite(p)
    q = p[ok]
    m = len(q)
    if method is not None and m:
        order = np.argsort(q, kind="mergesort")
        ranked = q[order]
        if method == "bonferroni":
            adj = np.minimum(ranked * m, 1.0)
        elif method == "holm":
            adj = np.minimum(np.maximum.accumulate(ranked * (m - np.arange(m))), 1.0)
        else:
            adj = np.minimum(np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1], 1.0)
        out = np.empty(m)
        out[order] = adj
        p[ok] = out
    reject = np.where(ok, p < alpha, False)
    return p, reject.astype(bool)


# --- tables by segment and by period ------------------------------------------------------------------------


def _group_counts(codes: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups, 3) counts of detractors, passives, promoters; rows with a missing score are ignored."""
    ok = codes >= 0
    flat = np.bincount(groups[ok].astype("int64") * 3 + codes[ok], minlength=n_groups * 3)
    return flat.reshape(n_groups, 3)


STAT_COLUMNS = ["promoters_pct", "passives_pct", "detractors_pct", "nps", "se", "ci_low", "ci_high"]


def _suppressed_table(table: pd.DataFrame, min_cell: int, value_cols: Sequence[str],
                      people: np.ndarray | None = None) -> pd.DataFrame:
    """Complementary suppression with the counts of suppressed groups hidden too (n = <NA>): a count of 3 is
    itself a small cell. An empty group (n = 0, e.g. a period without responses) identifies nobody and keeps 0.

    ``people`` (distinct respondents per group, when a cluster column says who answered) is what ``min_cell``
    counts: six answers from two customers are still two people."""
    empty = table["n"].to_numpy() == 0
    counted = table.assign(_people=table["n"].to_numpy() if people is None else people)
    out = privacy.suppress(counted, n_col="_people", min_cell=min_cell, value_cols=list(value_cols))
    out = out.drop(columns="_people")
    out["n"] = out["n"].astype("Int64")
    out.loc[out["suppressed"].to_numpy() & ~empty, "n"] = pd.NA
    return out


def _people_per_group(keys: np.ndarray, clusters: np.ndarray | None, n_groups: int) -> np.ndarray | None:
    """Distinct clusters (respondents) in each group; None without a cluster column."""
    if clusters is None:
        return None
    ok = keys >= 0
    pairs = np.unique(np.stack([keys[ok], np.asarray(clusters)[ok]]), axis=1)
    return np.bincount(pairs[0], minlength=n_groups)


def _cluster_codes(frame: pd.DataFrame, cluster_col: str | None, source: str | None) -> np.ndarray | None:
    if not cluster_col:
        return None
    if cluster_col not in frame:
        raise DataError(source, cluster_col, "column not found (named in the parameters as the cluster column)")
    codes, _ = pd.factorize(frame[cluster_col], sort=False)
    # a response without a cluster id is its own cluster
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        codes[missing] = codes.max() + 1 + np.arange(int(missing.sum()))
    return codes


def by_segment(
    frame: pd.DataFrame,
    column: str,
    *,
    score_col: str = "nps",
    min_cell: int = privacy.DEFAULT_MIN_CELL,
    confidence: float = 0.95,
    ci_method: str = "normal",
    correction: str | None = "holm",
    cluster_col: str | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """NPS for each value of ``column`` with its interval, and each segment tested against the rest.

    Columns: value, n, promoters/passives/detractors_pct, nps, se, ci_low, ci_high, deff, diff_vs_rest, p_value,
    p_adjusted (``correction`` across the visible segments of this table), significant, suppressed. A blank
    segment value is its own group, '(missing)'. Rows: largest group first, suppressed groups last with n = <NA>.
    ``cluster_col`` (e.g. customer_id) makes SEs and intervals cluster-robust when one customer answers several
    times. With exactly two groups, "A vs rest" and "B vs rest" are one and the same test (same |z|, same p), so the
    correction counts it once: p_adjusted = p_value.
    """
    min_cell = _check_min_cell(min_cell)
    if column not in frame:
        raise DataError(source, column, "column not found (named in the parameters)")
    codes = category_codes(frame[score_col])
    clusters = _cluster_codes(frame, cluster_col, source)
    keys, uniques = pd.factorize(frame[column], sort=False)
    labels = [str(u) for u in uniques]
    if (keys < 0).any():
        keys = np.where(keys < 0, len(labels), keys)
        labels.append(MISSING_LABEL)
    counts = _group_counts(codes, keys, len(labels))
    present = counts.sum(axis=1) > 0
    if not present.all():  # unused categories of a categorical column
        remap = np.cumsum(present) - 1
        keys = np.where(present[keys], remap[keys], -1)
        codes = np.where(keys >= 0, codes, -1).astype("int8")
        counts, labels = counts[present], [lab for lab, k in zip(labels, present) if k]
        keys = np.maximum(keys, 0)
    k = len(labels)
    deff, rest_deff = _cluster_rest_deff(codes, keys, k, clusters) if clusters is not None else (None, None)
    s = nps_arrays(counts[:, 2], counts[:, 1], counts[:, 0], confidence, ci_method, deff)
    rest = counts.sum(axis=0)[None, :] - counts
    r = nps_arrays(rest[:, 2], rest[:, 1], rest[:, 0], confidence, "normal", rest_deff)
    d = difference_arrays(s["nps"], s["se"], r["nps"], r["se"], confidence)
    table = pd.DataFrame({"value": labels, "n": s["n"].astype("int64"), **{c: s[c] for c in STAT_COLUMNS},
                          "deff": s["deff"], "diff_vs_rest": d["difference"], "p_value": d["p_value"]})
    table["p_value"] = np.where(r["n"] > 0, table["p_value"], np.nan)
    table = _suppressed_table(table, min_cell, [*STAT_COLUMNS, "deff", "diff_vs_rest", "p_value"],
                              _people_per_group(keys, clusters, k))
    family = table["p_value"].to_numpy(dtype="float64").copy()
    if k == 2:  # one test, not two: keep only the first in the family, then give both rows its result
        family[1:] = np.nan
    p_adj, reject = adjust_pvalues(family, correction, 1 - confidence)
    if k == 2:
        p_adj, reject = np.full(2, p_adj[0]), np.full(2, reject[0])
    table["p_adjusted"], table["significant"] = p_adj, reject
    sizes = table["n"].to_numpy(dtype="float64", na_value=np.nan)
    order = np.lexsort((table["value"].to_numpy(), np.where(np.isnan(sizes), np.inf, -sizes)))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "column", column)
    return table[["column", "value", "n", *STAT_COLUMNS, "deff", "diff_vs_rest", "p_value", "p_adjusted",
                  "significant", "suppressed"]]


def normalise_period(period: str) -> str:
    key = str(period).upper() if isinstance(period, str) else None
    if key not in PERIOD_ALIASES:
        raise DataError(PARAMETERS, None, f"period = {period!r}: must be 'M' (month), 'Q' (quarter) or 'Y' (year)")
    return PERIOD_ALIASES[key]


def period_index(dates: pd.Series, period: str = "Q") -> tuple[np.ndarray, pd.DataFrame]:
    """Integer period of each date (−1 when missing) and the table of all periods from first to last."""
    period = normalise_period(period)
    d = pd.to_datetime(dates, errors="coerce")
    ok = d.notna().to_numpy()
    if not ok.any():
        return np.full(len(d), -1, "int64"), pd.DataFrame({"period": pd.Series([], dtype=object),
                                                           "start": pd.Series([], dtype="datetime64[ns]")})
    year = d.dt.year.to_numpy(dtype="float64", na_value=np.nan)
    month = d.dt.month.to_numpy(dtype="float64", na_value=np.nan)
    per_year = {"M": 12, "Q": 4, "Y": 1}[period]
    ordinal = np.where(ok, year * per_year + (month - 1) // (12 // per_year), -1).astype("int64")
    first, last = ordinal[ok].min(), ordinal[ok].max()
    ordinals = np.arange(first, last + 1)
    years, within = ordinals // per_year, ordinals % per_year
    if period == "M":
        labels = [f"{y}-{m + 1:02d}" for y, m in zip(years, within)]
    elif period == "Q":
        labels = [f"{y}Q{q + 1}" for y, q in zip(years, within)]
    else:
        labels = [str(y) for y in years]
    start = pd.to_datetime(pd.DataFrame({"year": years, "month": within * (12 // per_year) + 1, "day": 1}))
    return np.where(ok, ordinal - first, -1), pd.DataFrame({"period": labels, "start": start})


def trend(
    frame: pd.DataFrame,
    *,
    date_col: str = "date",
    score_col: str = "nps",
    period: str = "Q",
    min_cell: int = privacy.DEFAULT_MIN_CELL,
    confidence: float = 0.95,
    ci_method: str = "normal",
    correction: str | None = "holm",
    cluster_col: str | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """NPS per month / quarter / year with intervals; each period tested against the one before.

    Columns: period, start, n, the NPS statistics, deff, change (vs the previous period), p_value, p_adjusted
    (``correction`` across the table's changes), change_significant, suppressed. Periods without responses are
    kept (n = 0, suppressed) so gaps show; other suppressed periods have n = <NA>. Responses without a date are left out. The change test treats the two
    periods as independent samples (a customer answering in both makes it slightly conservative).
    """
    min_cell = _check_min_cell(min_cell)
    if date_col not in frame:
        raise DataError(source, date_col, "column not found (named in the parameters)")
    keys, periods = period_index(frame[date_col], period)
    codes = category_codes(frame[score_col])
    clusters = _cluster_codes(frame, cluster_col, source)
    ok = keys >= 0
    k = len(periods)
    counts = _group_counts(codes[ok], keys[ok], k)
    deff = cluster_design_effect(codes[ok], keys[ok], k, clusters[ok]) if clusters is not None else None
    s = nps_arrays(counts[:, 2], counts[:, 1], counts[:, 0], confidence, ci_method, deff)
    prev_nps, prev_se = np.r_[np.nan, s["nps"][:-1]], np.r_[np.nan, s["se"][:-1]]
    d = difference_arrays(s["nps"], s["se"], prev_nps, prev_se, confidence)
    table = periods.assign(n=s["n"].astype("int64"), **{c: s[c] for c in STAT_COLUMNS}, deff=s["deff"],
                           change=d["difference"], p_value=d["p_value"])
    table = _suppressed_table(table, min_cell, [*STAT_COLUMNS, "deff", "change", "p_value"],
                              _people_per_group(keys, clusters, k))
    hidden = table["suppressed"].to_numpy()
    prev_hidden = np.r_[True, hidden[:-1]]
    table.loc[prev_hidden, ["change", "p_value"]] = np.nan
    table["p_adjusted"], table["change_significant"] = adjust_pvalues(table["p_value"], correction, 1 - confidence)
    return table[["period", "start", "n", *STAT_COLUMNS, "deff", "change", "p_value", "p_adjusted",
                  "change_significant", "suppressed"]]


def overall(
    frame: pd.DataFrame, *, score_col: str = "nps", confidence: float = 0.95, ci_method: str = "normal",
    min_cell: int | None = privacy.DEFAULT_MIN_CELL, cluster_col: str | None = None, source: str | None = None,
) -> NPSResult:
    """The NPS of a prepared frame (scores already validated); ``cluster_col`` → cluster-robust interval."""
    codes = category_codes(frame[score_col])
    zeros = np.zeros(len(frame), "int64")
    det, pas, pro = _group_counts(codes, zeros, 1)[0]
    clusters = _cluster_codes(frame, cluster_col, source)
    deff = float(cluster_design_effect(codes, zeros, 1, clusters)[0]) if clusters is not None else 1.0
    return from_counts(pro, pas, det, confidence=confidence, ci_method=ci_method, min_cell=min_cell, deff=deff)


def distribution(frame: pd.DataFrame, score_col: str = "nps", min_cell: int | None = None) -> pd.DataFrame:
    """Responses per score 0–10 with category, percentage and ``suppressed``.

    With ``min_cell`` a score given by 1 to ``min_cell`` − 1 respondents is suppressed (n and pct blank), plus the
    smallest further scores of the same NPS category when needed: the category totals are published (the shares of
    promoters, passives, detractors), so a lone hidden score could otherwise be recovered by subtraction. Scores
    nobody gave stay visible as 0 (they identify no one)."""
    v = frame[score_col].dropna().to_numpy(dtype="float64").astype("int64")
    counts = np.bincount(v, minlength=11)[:11]
    scores = np.arange(11)
    total = counts.sum()
    cats = category_codes(scores)
    hidden = np.zeros(11, bool)
    if min_cell is not None:
        min_cell = _check_min_cell(min_cell)
        for k in range(3):
            idx = np.flatnonzero((cats == k) & (counts > 0))
            hidden[idx] = privacy.complementary_mask(counts[idx], min_cell)
    table = pd.DataFrame({
        "score": scores, "n": pd.array(counts, dtype="Int64"),
        "pct": 100 * counts / total if total else np.zeros(11),
        "category": np.asarray(NPS_CATEGORIES)[cats], "suppressed": hidden,
    })
    table.loc[hidden, "n"] = pd.NA
    table.loc[hidden, "pct"] = np.nan
    return table


# --- sample-size planning -----------------------------------------------------------------------------------


def _unit_variance(promoters_pct: float, detractors_pct: float) -> float:
    p, d = promoters_pct / 100, detractors_pct / 100
    if not (0 <= p <= 1 and 0 <= d <= 1 and p + d <= 1 + 1e-12):
        raise ValueError(f"need 0 ≤ promoters_pct, detractors_pct and their sum ≤ 100; got {promoters_pct}, {detractors_pct}")
    return 1e4 * (p + d - (p - d) ** 2)


def margin_of_error(n: int, promoters_pct: float, detractors_pct: float, confidence: float = 0.95) -> float:
    """Half-width (points) of the normal interval with ``n`` respondents at a promoter/detractor mix."""
    return z_value(confidence) * math.sqrt(_unit_variance(promoters_pct, detractors_pct) / n)


def sample_size(margin: float, promoters_pct: float, detractors_pct: float, confidence: float = 0.95) -> int:
    """Respondents needed for a ±``margin``-point interval: n = z²·(p + d − (p − d)²)·100² / margin²."""
    if margin <= 0:
        raise ValueError(f"margin must be positive (NPS points), got {margin!r}")
    n = z_value(confidence) ** 2 * _unit_variance(promoters_pct, detractors_pct) / margin**2
    return max(1, math.ceil(n - 1e-9))


def sample_size_table(
    margins: Sequence[float] = (2, 3, 5, 10),
    mixes: Mapping[str, tuple[float, float]] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Respondents needed per margin of error (rows) and promoter/detractor mix (columns, name → (P%, D%))."""
    if mixes is None:
        mixes = {"P 50% / D 50% (worst case)": (50.0, 50.0)}
    table = pd.DataFrame({"margin": list(margins)})
    for name, (p, d) in mixes.items():
        table[name] = [sample_size(m, p, d, confidence) for m in margins]
    return table


def planning_mixes(result: NPSResult) -> dict[str, tuple[float, float]]:
    """The observed mix, a mix at the course's NPS 50 mark, and the worst case, for the planning table."""
    mixes = {}
    if np.isfinite(result.nps):
        mixes[f"observed (P {result.promoters_pct:.0f}% / D {result.detractors_pct:.0f}%)"] = (
            result.promoters_pct, result.detractors_pct)
    mixes["NPS 50 (P 60% / D 10%)"] = (60.0, 10.0)
    mixes["worst case (P 50% / D 50%)"] = (50.0, 50.0)
    return mixes


# --- what separates promoters from detractors ----------------------------------------------------------------


def dimension_scores(frame: pd.DataFrame, prefix: str = "P") -> pd.DataFrame:
    """Each respondent's mean perception per SERVQUAL dimension (mean of the items answered; all items of a
    dimension must be columns of ``frame``). Dimensions without their items are left out."""
    out = {}
    for dim, spec in DIMENSIONS.items():
        cols = [f"{prefix}{i}" for i in spec["items"]]
        if all(c in frame for c in cols):
            out[dim] = frame[cols].astype("float64").mean(axis=1)
    return pd.DataFrame(out, index=frame.index)


def _label(dim: str) -> str:
    return DIMENSIONS[dim]["en"] if dim in DIMENSIONS else dim


@dataclass(frozen=True)
class DimensionComparison:
    """``means``: one row per dimension × NPS category (n, mean, sd, interval, deff); ``effects``: promoters vs
    detractors per dimension (difference with its SE and design effect, Cohen's d with interval, p-value,
    Holm-adjusted). ``cluster_col`` is set when the intervals and tests are cluster-robust."""

    means: pd.DataFrame
    effects: pd.DataFrame
    confidence: float = 0.95
    cluster_col: str | None = None


def _effect_word(d: float) -> str:
    a = abs(d)
    return "negligible" if a < 0.2 else "small" if a < 0.5 else "medium" if a < 0.8 else "large"


def _clustered_difference_variance(x, codes, clusters, mean_p: float, mean_d: float, n_p: float, n_d: float):
    """Cluster-robust (sandwich) variance of mean(promoters) − mean(detractors) and the number of clusters.

    Each response's influence on the difference is (x − m_P)/n_P for a promoter and −(x − m_D)/n_D for a detractor;
    V = G/(G−1) · Σ_c (Σ_{i∈c} influence_i)². A customer who answered once as a promoter and once as a detractor
    contributes both terms to one cluster sum, so the covariance between the two groups is allowed for too.
    """
    sel = (codes == 2) | (codes == 0)
    x, codes, clusters = x[sel], codes[sel], clusters[sel]
    psi = np.where(codes == 2, (x - mean_p) / n_p, -(x - mean_d) / n_d)
    _, inverse = np.unique(clusters, return_inverse=True)
    u = np.bincount(inverse, weights=psi)
    g = len(u)
    return (g / (g - 1) * float(np.sum(u * u)) if g >= 2 else np.nan), g


def compare_dimensions(
    frame: pd.DataFrame, *, score_col: str = "nps", prefix: str = "P", confidence: float = 0.95,
    min_cell: int = privacy.DEFAULT_MIN_CELL, cluster_col: str | None = None, source: str | None = None,
) -> DimensionComparison:
    """Perception means by NPS category for each SERVQUAL dimension, from per-category sums and sums of squares.

    Independent responses (``cluster_col`` None): t intervals for the means, Welch's t-test, and the usual
    large-sample interval of Cohen's d (Hedges & Olkin). With ``cluster_col`` (several answers by one customer) every
    uncertainty is cluster-robust: the means' intervals use the design effect from the per-(category, customer)
    sums of :func:`cluster_design_effect` with t on G − 1 degrees of freedom (G customers); the difference's SE is
    the sandwich SE of :func:`_clustered_difference_variance` and its test t on G − 1 df. Cohen's d itself is
    unchanged (the SDs describe answers, not customers), but its interval is widened by √deff of the difference —
    Kish's effective sample size n / deff applied to both terms of the d variance. Design effects are truncated
    at 1 (never narrower than the independent-responses result). Answering every question 3× gives, clustered,
    the same intervals as answering once.
    """
    min_cell = _check_min_cell(min_cell)
    z = z_value(confidence)
    scores = dimension_scores(frame, prefix)
    codes = category_codes(frame[score_col])
    clusters = _cluster_codes(frame, cluster_col, source)
    mean_rows, effect_rows = [], []
    for dim in scores.columns:
        x = scores[dim].to_numpy()
        ok = np.isfinite(x) & (codes >= 0)
        n = np.bincount(codes[ok], minlength=3)[:3].astype("float64")
        s1 = np.bincount(codes[ok], weights=x[ok], minlength=3)[:3]
        s2 = np.bincount(codes[ok], weights=x[ok] ** 2, minlength=3)[:3]
        if clusters is not None:
            sums = _value_cluster_sums(x[ok], codes[ok], 3, clusters[ok])
            deff, df = _deff_from_sums(sums), np.maximum(sums["G"] - 1, 1)
        else:
            deff, df = np.ones(3), np.maximum(n - 1, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s1 / n
            var = np.maximum(s2 - n * mean**2, 0.0) / (n - 1)
            sd = np.sqrt(var)
            t = stats.t.ppf(0.5 + confidence / 2, df)
            half = t * sd / np.sqrt(n) * np.sqrt(deff)
        for k, cat in enumerate(NPS_CATEGORIES):
            small = n[k] < min_cell
            mean_rows.append({
                "dimension": dim, "label": _label(dim), "category": cat, "n": int(n[k]),
                "mean": np.nan if small else mean[k], "sd": np.nan if small else sd[k],
                "ci_low": np.nan if small else mean[k] - half[k], "ci_high": np.nan if small else mean[k] + half[k],
                "deff": np.nan if small else deff[k], "suppressed": bool(small),
            })
        n_p, n_d = n[2], n[0]
        row = {"dimension": dim, "label": _label(dim), "n_promoters": int(n_p), "n_detractors": int(n_d)}
        if min(n_p, n_d) < max(min_cell, 2):
            row.update(mean_promoters=np.nan, mean_detractors=np.nan, difference=np.nan, se_difference=np.nan,
                       deff=np.nan, cohens_d=np.nan, d_ci_low=np.nan, d_ci_high=np.nan, p_value=np.nan,
                       suppressed=True)
        else:
            pooled = math.sqrt(((n_p - 1) * var[2] + (n_d - 1) * var[0]) / (n_p + n_d - 2))
            diff = mean[2] - mean[0]
            d = diff / pooled if pooled > 0 else np.nan
            se_d = math.sqrt((n_p + n_d) / (n_p * n_d) + d * d / (2 * (n_p + n_d)))
            se_iid = math.sqrt(var[2] / n_p + var[0] / n_d)
            deff_diff = 1.0
            if clusters is None:
                p_value = float(stats.ttest_ind_from_stats(mean[2], sd[2], n_p, mean[0], sd[0], n_d,
                                                           equal_var=False).pvalue)
            else:
                v_cr, g = _clustered_difference_variance(x[ok], codes[ok], clusters[ok], mean[2], mean[0], n_p, n_d)
                if se_iid > 0 and np.isfinite(v_cr):
                    deff_diff = max(v_cr / se_iid**2, 1.0)
                se = se_iid * math.sqrt(deff_diff)
                with np.errstate(invalid="ignore", divide="ignore"):
                    p_value = float(2 * stats.t.sf(abs(diff / se), max(g - 1, 1))) if se > 0 else float(diff == 0)
            se_d *= math.sqrt(deff_diff)
            row.update(mean_promoters=mean[2], mean_detractors=mean[0], difference=diff,
                       se_difference=se_iid * math.sqrt(deff_diff), deff=deff_diff, cohens_d=d,
                       d_ci_low=d - z * se_d, d_ci_high=d + z * se_d, p_value=p_value, suppressed=False)
        effect_rows.append(row)
    means = pd.DataFrame(mean_rows, columns=["dimension", "label", "category", "n", "mean", "sd", "ci_low", "ci_high",
                                             "deff", "suppressed"])
    effects = pd.DataFrame(effect_rows, columns=[
        "dimension", "label", "n_promoters", "n_detractors", "mean_promoters", "mean_detractors", "difference",
        "se_difference", "deff", "cohens_d", "d_ci_low", "d_ci_high", "p_value", "suppressed"])
    effects["p_adjusted"], effects["significant"] = adjust_pvalues(effects["p_value"], "holm", 1 - confidence)
    effects["effect"] = [_effect_word(d) if np.isfinite(d) else "" for d in effects["cohens_d"]]
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


MIN_MODEL_GROUP = 10


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

    scores = dimension_scores(frame, prefix)
    codes = category_codes(frame[score_col])
    clusters = _cluster_codes(frame, cluster_col, source)
    keep = (codes != 1) & (codes >= 0) & scores.notna().all(axis=1).to_numpy()
    y = (codes[keep] == 2).astype("float64")
    n_p, n_d = int(y.sum()), int(len(y) - y.sum())
    columns = ["dimension", "label", "odds_ratio", "ci_low", "ci_high", "p_value", "coef", "se"]
    empty = pd.DataFrame(columns=columns)
    if scores.shape[1] == 0:
        return PromoterModel(empty, int(keep.sum()), n_p, n_d, np.nan, False, "no SERVQUAL perception items")
    need = max(MIN_MODEL_GROUP, _check_min_cell(min_cell))
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
            return PromoterModel(empty, len(y), n_p, n_d, np.nan, False, f"model could not be fit ({type(exc).__name__})")
    converged = bool(fit.mle_retvals.get("converged", True)) and not any(
        "separation" in str(w.message).lower() for w in caught)
    params, bse = np.asarray(fit.params)[1:], np.asarray(fit.bse)[1:]
    ci = np.asarray(fit.conf_int(alpha=1 - confidence))[1:]
    table = pd.DataFrame({
        "dimension": list(scores.columns), "label": [_label(d) for d in scores.columns],
        "odds_ratio": np.exp(params), "ci_low": np.exp(ci[:, 0]), "ci_high": np.exp(ci[:, 1]),
        "p_value": np.asarray(fit.pvalues)[1:], "coef": params, "se": bse,
    })
    note = "" if converged else "the fit did not converge cleanly (near-perfect separation?); read the odds ratios with care"
    return PromoterModel(table, len(y), n_p, n_d, float(fit.prsquared), converged, note, cluster_col)


# --- verbatim themes -----------------------------------------------------------------------------------------


def theme_shares(
    frame: pd.DataFrame, assigned: pd.DataFrame, *, score_col: str = "nps", min_cell: int = privacy.DEFAULT_MIN_CELL,
) -> pd.DataFrame:
    """Share of commenting promoters / detractors / everyone whose comment mentions each theme (a comment can
    mention several). Rows: the lexicon's themes plus 'unclassified'; a theme mentioned by fewer than ``min_cell``
    comments is suppressed (its count too), as is a share whose base (commenting promoters or detractors) is below
    ``min_cell``, and any promoter or detractor count below ``min_cell`` (blank with its share and the difference).
    No complementary suppression: themes overlap (a comment can mention several), so they do not partition a
    published total that a hidden cell could be recovered from."""
    from loyaltylab import themes as th

    min_cell = _check_min_cell(min_cell)
    has = assigned["has_comment"].to_numpy(bool)
    codes = category_codes(frame[score_col])
    base = {k: int((has & (codes == k)).sum()) for k in (0, 2)}
    theme_names = [c for c in assigned.columns if c not in ("theme", "themes", "n_themes", "has_comment")]
    rows = []
    for theme in [*theme_names, th.UNCLASSIFIED]:
        mention = has & (assigned[theme].to_numpy(bool) if theme != th.UNCLASSIFIED else assigned["n_themes"].eq(0).to_numpy())
        n, n_p, n_d = int(mention.sum()), int((mention & (codes == 2)).sum()), int((mention & (codes == 0)).sum())
        rows.append({
            "theme": theme, "label": th.theme_label(theme), "n": n,
            "n_promoters": n_p, "share_promoters": 100 * n_p / base[2] if base[2] >= min_cell else np.nan,
            "n_detractors": n_d, "share_detractors": 100 * n_d / base[0] if base[0] >= min_cell else np.nan,
            "share_all": 100 * n / has.sum() if has.sum() else np.nan,
        })
    table = pd.DataFrame(rows)
    for who in ("promoters", "detractors"):
        small = table[f"n_{who}"] < min_cell
        table[f"n_{who}"] = table[f"n_{who}"].astype("float64").mask(small)
        table[f"share_{who}"] = table[f"share_{who}"].mask(small)
    table["difference"] = table["share_promoters"] - table["share_detractors"]
    table = privacy.suppress(table, n_col="n", min_cell=min_cell, complementary=False, hide_counts=True,
                             value_cols=["n_promoters", "share_promoters", "n_detractors", "share_detractors",
                                         "share_all", "difference"])
    for col in ("n", "n_promoters", "n_detractors"):
        table[col] = table[col].astype("Int64")
    table.attrs["commenting_promoters"], table.attrs["commenting_detractors"] = base[2], base[0]
    return table


def representative_quotes(
    frame: pd.DataFrame, assigned: pd.DataFrame, theme: str, *, comment_col: str = "comment",
    category: str | None = None, k: int = 2, score_col: str = "nps",
) -> list[str]:
    """Up to ``k`` comments whose primary theme is ``theme`` (optionally from one NPS category), chosen
    deterministically: single-theme comments first, then length closest to the typical (median) length, then text."""
    mask = (assigned["theme"] == theme).to_numpy()
    if category is not None:
        mask &= category_codes(frame[score_col]) == NPS_CATEGORIES.index(category)
    if not mask.any():
        return []
    cand = pd.DataFrame({"text": frame.loc[mask, comment_col].astype(str).str.strip(),
                         "n_themes": assigned.loc[mask, "n_themes"].to_numpy()})
    counts = cand.groupby("text", sort=True)["n_themes"].agg(["size", "min"]).reset_index()
    median_len = float(np.median(counts["text"].str.len()))
    counts["mixed"] = counts["min"] > 1
    counts["distance"] = (counts["text"].str.len() - median_len).abs()
    chosen = counts.sort_values(["mixed", "distance", "size", "text"], ascending=[True, True, False, True])
    return chosen["text"].head(k).tolist()


def quotes_table(
    frame: pd.DataFrame, assigned: pd.DataFrame, shares: pd.DataFrame, *, comment_col: str = "comment",
    k: int = 2, top: int = 3, score_col: str = "nps",
) -> pd.DataFrame:
    """Quotes for the ``top`` themes of detractors and of promoters (visible themes only): theme, category, quote."""
    rows = []
    visible = privacy.visible(shares)
    visible = visible[visible["theme"] != "unclassified"]
    for category, col in (("detractor", "share_detractors"), ("promoter", "share_promoters")):
        ranked = visible.dropna(subset=[col]).sort_values([col, "theme"], ascending=[False, True]).head(top)
        for theme in ranked["theme"]:
            for quote in representative_quotes(frame, assigned, theme, comment_col=comment_col, category=category,
                                               k=k, score_col=score_col):
                rows.append({"category": category, "theme": theme, "quote": quote})
    return pd.DataFrame(rows, columns=["category", "theme", "quote"])


def quotes_html(quotes: pd.DataFrame) -> str:
    """Quotes grouped by category and theme as escaped HTML (headings and text both escaped)."""
    from loyaltylab import notebook
    from loyaltylab import themes as th

    parts = []
    for (category, theme), group in quotes.groupby(["category", "theme"], sort=False):
        heading = f"{CATEGORY_LABELS[category]} — {th.theme_label(theme, bilingual=True)}"
        parts.append(f"<p><b>{notebook.escape(heading)}</b></p>" + notebook.quotes_html(group["quote"]))
    return "".join(parts) or "<p>No comments to quote.</p>"


# --- loading: survey (+ customers for segments), filters, blank scores ---------------------------------------


@dataclass(frozen=True)
class NPSData:
    """Responses ready for analysis: one row per response with a score (index = 0-based row of the survey file).

    ``frame`` columns: ``nps`` (0–10), ``response_id`` when present, ``date``, ``comment``, ``language`` when
    asked for / present, ``cluster_id`` (the ``cluster_col`` values) when given, the segment columns, and the
    perception items P1..P22 found in the file. ``join_match_rate``: the share of survey responses whose
    customer_id was found in the customers file (None when no join was needed).
    """

    frame: pd.DataFrame
    dropped_rows: int
    inputs: dict
    segment_cols: tuple[str, ...]
    has_dates: bool
    has_comments: bool
    filters: dict = field(default_factory=dict)
    truth: dict | None = None
    cluster_col: str | None = None
    join_match_rate: float | None = None


def _check_names(score_col, segment_cols, date_col, comment_col, cluster_col, filters, columns, customers_columns):
    """Column-name parameters have the right shape (a name, a list of names, a mapping) — before any file is read."""
    def fail(name, value, rule):
        raise DataError(PARAMETERS, None, f"{name} = {value!r}: {rule}")

    if not isinstance(score_col, str) or not score_col:
        fail("score_col", score_col, "must be the name of the 0–10 column, e.g. \"nps\"")
    for name, value in (("date_col", date_col), ("comment_col", comment_col), ("cluster_col", cluster_col)):
        if value is not None and not isinstance(value, str):
            fail(name, value, "must be a column name or None")
    if not all(isinstance(c, str) and c for c in segment_cols):
        fail("segment_cols", list(segment_cols), "must be a list of column names, e.g. [\"segment\", \"region\"]")
    for name, value in (("filters", filters), ("columns", columns), ("customers_columns", customers_columns)):
        if value is not None and not isinstance(value, Mapping):
            fail(name, value, "must be a mapping, e.g. {\"region\": \"North\"} or {}")


def _customers_file(survey_file: Path, customers_path) -> Path | None:
    from loyaltylab import paths

    if customers_path not in (None, ""):
        return paths.resolve_input(customers_path, "customers")
    for suffix in (survey_file.suffix, ".csv", ".parquet", ".xlsx"):
        candidate = survey_file.with_name("customers" + suffix)
        if candidate.exists():
            return candidate
    return None


def load(
    survey_path=None,
    customers_path=None,
    *,
    score_col: str = "nps",
    segment_cols: Sequence[str] = ("segment", "region", "channel"),
    date_col: str | None = "date",
    comment_col: str | None = "comment",
    filters: Mapping | None = None,
    cluster_col: str | None = None,
    columns: Mapping[str, str] | None = None,
    customers_columns: Mapping[str, str] | None = None,
    min_cell: int = privacy.DEFAULT_MIN_CELL,
) -> NPSData:
    """Read and validate the survey (None → the course data), add segment columns from the customers table when
    the survey lacks them (joined on ``customer_id``; ``customers_path`` None → a customers file beside the
    survey), apply ``filters``, drop rows with a blank score (counted in ``dropped_rows``). ``cluster_col`` names
    the column identifying who answered (customer_id) when one customer may answer several times. ``columns`` /
    ``customers_columns`` map the files' own column names onto the canonical ones ({"推荐值": "nps"}; see
    :func:`loyaltylab.io.map_columns`); the other parameters then use the canonical names.

    Every problem is a one-line :class:`~loyaltylab.errors.DataError`: a column named in the parameters that is
    missing, scores outside 0–10, non-integers or text, dates that are not dates, no survey customer_id found in
    the customers file, and fewer than ``min_cell`` responses left after ``filters`` (a report on so few people
    would identify them). A partial join is not an error: ``join_match_rate`` records it and the findings warn.
    """
    from loyaltylab import io, paths

    segment_cols = (segment_cols,) if isinstance(segment_cols, str) else tuple(segment_cols or ())
    _check_names(score_col, segment_cols, date_col, comment_col, cluster_col, filters, columns, customers_columns)
    min_cell = _check_min_cell(min_cell)
    filters = dict(filters or {})
    survey_file = paths.resolve_input(survey_path, "survey")
    required = [score_col] + [c for c in (date_col, comment_col, cluster_col) if c]
    survey = io.read_table(survey_file, "survey", columns=columns or None, required=required)
    source = survey.attrs.get("loyaltylab", {}).get("source", paths.display_path(survey_file))
    scores = io.coerce_numeric(survey, score_col, source=source, min_value=0, max_value=10, integer=True)
    frame = pd.DataFrame({"nps": scores}, index=survey.index)
    if "response_id" in survey:
        frame["response_id"] = survey["response_id"]
    if cluster_col:
        frame["cluster_id"] = survey[cluster_col]
    if date_col:
        frame["date"] = io.coerce_date(survey, date_col, source=source)
    if comment_col:
        frame["comment"] = survey[comment_col].astype("object").where(survey[comment_col].notna(), None)
        if "language" in survey:
            frame["language"] = survey["language"]
    inputs = {"survey": paths.display_path(survey_file), "customers": None}
    wanted = list(dict.fromkeys([*segment_cols, *filters]))
    from_customers = [c for c in wanted if c not in survey.columns]
    for col in wanted:
        if col in survey.columns:
            frame[col] = survey[col]
    match_rate = None
    if from_customers:
        customers_file = _customers_file(survey_file, customers_path)
        if customers_file is None:
            raise DataError(source, from_customers[0], "column not in the survey, and no customers file to join "
                            "(set customers_path)")
        io.require_columns(survey, ["customer_id"], source=source)
        customers = io.read_table(customers_file, "customers", columns=customers_columns or None,
                                  required=["customer_id"])
        _require_joined_columns(customers, from_customers, segment_cols)
        inputs["customers"] = paths.display_path(customers_file)
        match_rate = _join_match_rate(survey, customers, source, from_customers)
        lookup = customers.set_index("customer_id")
        for col in from_customers:
            frame[col] = survey["customer_id"].map(lookup[col])
    elif customers_path not in (None, ""):
        inputs["customers"] = paths.display_path(paths.resolve_input(customers_path, "customers"))
    frame = io.apply_filters(frame, filters, source=source)
    perception = [c for c in survey.columns if c.startswith("P") and c[1:].isdigit()]
    frame = frame.join(survey.loc[frame.index, perception]) if perception else frame
    blank = frame["nps"].isna()
    dropped = int(blank.sum())
    frame = frame.loc[~blank]
    privacy.require_group_size(len(frame), min_cell, source=source, what="responses", filters=filters)
    return NPSData(
        frame=frame,
        dropped_rows=dropped,
        inputs=inputs,
        segment_cols=segment_cols,
        has_dates=bool(date_col),
        has_comments=bool(comment_col),
        filters=filters,
        truth=paths.truth_for(survey_file),
        cluster_col=cluster_col or None,
        join_match_rate=match_rate,
    )


def _require_joined_columns(customers: pd.DataFrame, columns: Sequence[str], segment_cols: Sequence[str]) -> None:
    """A segment / filter column found in neither file: a one-line DataError naming the parameter and a guess."""
    import difflib

    for col in columns:
        if col not in customers.columns:
            names = [str(c) for c in customers.columns]
            guess = difflib.get_close_matches(str(col), names, n=1, cutoff=0.6)
            param = "segment_cols" if col in segment_cols else "filters"
            raise DataError(customers.attrs.get("loyaltylab", {}).get("source", "customers"), col,
                            f"named in {param} but in neither the survey nor the customers file"
                            + (f"; did you mean '{guess[0]}'?" if guess else "")
                            + f"; customers columns: {', '.join(names[:15])}{', …' if len(names) > 15 else ''}")


def _join_match_rate(survey: pd.DataFrame, customers: pd.DataFrame, source: str, columns: Sequence[str]) -> float:
    """Share of survey responses whose customer_id is in the customers table; none at all is a DataError (the
    segment columns would silently all be '(missing)'). Ids are compared as text (io coerces both)."""
    matched = survey["customer_id"].isin(customers["customer_id"].dropna())
    if len(survey) and not matched.any():
        cust_source = customers.attrs.get("loyaltylab", {}).get("source", "the customers file")
        label = survey.attrs.get("loyaltylab", {}).get("mapped", {}).get("customer_id", "customer_id")
        raise DataError(source, label, f"no survey customer_id matches one in {cust_source} (column 'customer_id'), "
                        f"so {', '.join(columns)} cannot be joined: check that both files use the same ids "
                        "(same prefix, leading zeros, type)")
    return float(matched.mean()) if len(survey) else 1.0


# --- estimated vs true (course data) --------------------------------------------------------------------------


def truth_comparison(
    result: NPSResult, segments: Mapping[str, pd.DataFrame], truth: Mapping | None, filters: Mapping | None = None,
) -> pd.DataFrame | None:
    """Estimated vs true population NPS from the course world's truth.json: overall and per segment value.

    With ``filters`` the overall truth is the filtered group's (single column, single value) and segment rows are
    left out — the truth holds only one-way population values."""
    if not truth or "nps" not in truth:
        return None
    t = truth["nps"]
    by = t.get("by_segment", {})
    rows = []

    def add(scope, value, est, low, high, true, n):
        rows.append({"scope": scope, "value": value, "n": n, "estimate": est, "ci_low": low, "ci_high": high,
                     "true": true, "error": est - true if np.isfinite(est) else np.nan,
                     "covered": bool(low <= true <= high) if np.isfinite(est) else False})

    filters = dict(filters or {})
    if not filters:
        add("overall", "everyone", result.nps, result.ci_low, result.ci_high, float(t["overall"]), result.n)
        for col, table in segments.items():
            for r in privacy.visible(table).itertuples():
                true = by.get(col, {}).get(str(r.value))
                if true is not None:
                    add(col, r.value, r.nps, r.ci_low, r.ci_high, float(true), r.n)
    elif len(filters) == 1:
        (col, value), = filters.items()
        true = by.get(col, {}).get(str(value)) if not isinstance(value, (list, tuple, set)) else None
        if true is not None:
            add("overall", f"{col} = {value}", result.nps, result.ci_low, result.ci_high, float(true), result.n)
    return pd.DataFrame(rows, columns=["scope", "value", "n", "estimate", "ci_low", "ci_high", "true", "error",
                                       "covered"]) if rows else None


def theme_accuracy(data: NPSData, assigned: pd.DataFrame):
    """Theme assignment checked against truth.json ``comment_themes`` (course data only), or None."""
    from loyaltylab import themes as th

    truth = (data.truth or {}).get("comment_themes")
    if not truth or "response_id" not in data.frame:
        return None
    true = data.frame["response_id"].map(truth)
    if true.notna().sum() == 0:
        return None
    return th.accuracy(assigned["theme"], true)


# --- the whole analysis, its results.json and its findings in words ------------------------------------------


@dataclass(frozen=True)
class NPSReport:
    """Everything notebook 01 shows, computed once by :func:`analyze`."""

    data: NPSData
    overall: NPSResult
    distribution: pd.DataFrame
    segments: dict
    trend: pd.DataFrame | None
    dimensions: DimensionComparison | None
    model: PromoterModel | None
    assigned: pd.DataFrame | None
    themes: pd.DataFrame | None
    quotes: pd.DataFrame | None
    sample_sizes: pd.DataFrame
    truth: pd.DataFrame | None
    theme_accuracy: object | None
    params: dict


def analyze(
    data: NPSData,
    *,
    period: str = "Q",
    min_cell: int = privacy.DEFAULT_MIN_CELL,
    confidence: float = 0.95,
    ci_method: str = "normal",
    correction: str | None = "holm",
    margins: Sequence[float] = (2, 3, 5, 10),
) -> NPSReport:
    """Run every part of the NPS analysis on loaded data (bad parameters: a one-line DataError; fewer than
    ``min_cell`` responses: a DataError, no report)."""
    from loyaltylab import themes as th

    check_parameters(period=period, min_cell=min_cell, confidence=confidence, ci_method=ci_method,
                     correction=correction)
    min_cell = _check_min_cell(min_cell)
    period = normalise_period(period)
    f = data.frame
    privacy.require_group_size(len(f), min_cell, source=data.inputs.get("survey"), what="responses",
                               filters=data.filters)
    opts = {"min_cell": min_cell, "confidence": confidence, "ci_method": ci_method}
    cluster = "cluster_id" if data.cluster_col else None
    result = overall(f, cluster_col=cluster, **opts)
    segments = {c: by_segment(f, c, correction=correction, cluster_col=cluster, **opts) for c in data.segment_cols}
    trend_table = trend(f, period=period, correction=correction, cluster_col=cluster, **opts) if data.has_dates else None
    has_items = dimension_scores(f.head(0)).shape[1] > 0
    dims = model = None
    if has_items:  # cluster_col named as the user knows it (customer_id), not the frame's internal cluster_id
        dims = replace(compare_dimensions(f, confidence=confidence, min_cell=min_cell, cluster_col=cluster),
                       cluster_col=data.cluster_col)
        model = replace(promoter_model(f, confidence=confidence, min_cell=min_cell, cluster_col=cluster),
                        cluster_col=data.cluster_col)
    assigned = shares = quotes = accuracy = None
    if data.has_comments:
        assigned = th.assign(f["comment"])
        shares = theme_shares(f, assigned, min_cell=min_cell)
        quotes = quotes_table(f, assigned, shares)
        accuracy = theme_accuracy(data, assigned)
    ref = result if not result.suppressed else from_counts(0, 0, 0)
    sizes = sample_size_table(margins, planning_mixes(ref), confidence)
    return NPSReport(
        data=data, overall=result, distribution=distribution(f, min_cell=min_cell), segments=segments, trend=trend_table,
        dimensions=dims, model=model, assigned=assigned, themes=shares, quotes=quotes, sample_sizes=sizes,
        truth=truth_comparison(result, segments, data.truth, data.filters), theme_accuracy=accuracy,
        params={"period": period, "correction": correction, "cluster_col": data.cluster_col, **opts},
    )


def _records(table: pd.DataFrame | None, columns: Sequence[str]) -> list[dict]:
    if table is None:
        return []
    return table[[c for c in columns if c in table]].to_dict(orient="records")


def to_results(report: NPSReport) -> dict:
    """The machine-readable results (results.json): stable keys, numbers null when suppressed."""
    o = report.overall
    seg_cols = ["value", "n", "nps", "se", "ci_low", "ci_high", "promoters_pct", "detractors_pct", "deff", "diff_vs_rest",
                "p_value", "p_adjusted", "significant", "suppressed"]
    trend_cols = ["period", "n", "nps", "se", "ci_low", "ci_high", "change", "p_value", "p_adjusted",
                  "change_significant", "suppressed"]
    theme_cols = ["theme", "n", "share_promoters", "share_detractors", "n_promoters", "n_detractors", "suppressed"]
    results = {
        "n": o.n,
        "dropped_rows": report.data.dropped_rows,
        "nps": o.nps, "se": o.se, "ci_low": o.ci_low, "ci_high": o.ci_high,
        "ci_method": o.ci_method, "confidence": o.confidence,
        "cluster_col": report.params["cluster_col"], "design_effect": o.deff,
        "promoters_pct": o.promoters_pct, "passives_pct": o.passives_pct, "detractors_pct": o.detractors_pct,
        "suppressed": o.suppressed,
        "min_cell": report.params["min_cell"],
        "period": report.params["period"],
        "correction": report.params["correction"],
        "filters": report.data.filters,
        "join_match_rate": report.data.join_match_rate,
        "by_segment": {c: _records(t, seg_cols) for c, t in report.segments.items()},
        "trend": _records(report.trend, trend_cols),
        "themes": _records(report.themes, theme_cols),
        "sample_size": _records(report.sample_sizes.melt("margin", var_name="mix", value_name="n"),
                                ["margin", "mix", "n"]),
        "inputs": report.data.inputs,
        "headline": {
            "NPS": None if not np.isfinite(o.nps) else round(o.nps, 1),
            "CI low": None if not np.isfinite(o.ci_low) else round(o.ci_low, 1),
            "CI high": None if not np.isfinite(o.ci_high) else round(o.ci_high, 1),
            "Responses": o.n,
            "Promoters %": None if not np.isfinite(o.promoters_pct) else round(o.promoters_pct, 1),
            "Detractors %": None if not np.isfinite(o.detractors_pct) else round(o.detractors_pct, 1),
        },
        "headline_order": ["NPS", "CI low", "CI high", "Responses", "Promoters %", "Detractors %"],
    }
    if report.dimensions is not None:
        results["dimensions"] = _records(report.dimensions.effects, [
            "dimension", "mean_promoters", "mean_detractors", "difference", "se_difference", "cohens_d", "d_ci_low",
            "d_ci_high", "p_adjusted", "suppressed"])
    if report.model is not None:
        results["promoter_model"] = {
            "n": report.model.n, "pseudo_r2": report.model.pseudo_r2, "converged": report.model.converged,
            "note": report.model.note, "cluster_col": report.model.cluster_col,
            "odds_ratios": _records(report.model.table, ["dimension", "odds_ratio", "ci_low", "ci_high", "p_value"]),
        }
    if report.truth is not None:
        results["truth"] = _records(report.truth, ["scope", "value", "estimate", "true", "covered"])
    if report.theme_accuracy is not None:
        results["theme_accuracy"] = {"n": report.theme_accuracy.n, "accuracy": report.theme_accuracy.accuracy,
                                     "coverage": report.theme_accuracy.coverage}
    return results


def _esc(value) -> str:
    """Data-derived text going into Markdown findings: HTML-escaped (a segment value is user input)."""
    from loyaltylab import notebook

    return notebook.escape(value)


def _pts(x: float) -> str:
    return f"{x:+.1f}".replace("+0.0", "0.0").replace("-0.0", "0.0")


def _pval(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _ci(result_like, confidence: float) -> str:
    return f"{confidence:.0%} CI {_pts(result_like.ci_low)} to {_pts(result_like.ci_high)}"


def describe_overall(report: NPSReport) -> list[str]:
    o, conf = report.overall, report.params["confidence"]
    if o.suppressed:
        return [f"Only {o.n} responses — fewer than min_cell = {report.params['min_cell']}, so no NPS is shown."]
    lines = [f"NPS is **{_pts(o.nps)}** ({_ci(o, conf)}, {o.ci_method} interval; n = {o.n:,}): "
             f"{o.promoters_pct:.1f}% promoters, {o.passives_pct:.1f}% passives, {o.detractors_pct:.1f}% detractors."]
    if o.ci_low >= LOYAL_MARK:
        lines.append(f"The whole interval lies above the course's loyal-base mark of NPS ≥ {LOYAL_MARK:.0f}.")
    elif o.ci_high < LOYAL_MARK:
        lines.append(f"The whole interval lies below the course's loyal-base mark of NPS ≥ {LOYAL_MARK:.0f} "
                     f"({LOYAL_MARK - o.nps:.1f} points short).")
    else:
        lines.append(f"The interval includes {LOYAL_MARK:.0f}: the data cannot tell whether the base reaches the "
                     "loyal mark of NPS ≥ 50.")
    if report.params.get("cluster_col"):
        lines.append(f"Intervals allow for customers answering more than once (clustered by "
                     f"{report.params['cluster_col']}; design effect {o.deff:.2f}, i.e. the interval is "
                     f"{math.sqrt(o.deff):.2f}× as wide as if every response were a different customer).")
    if report.data.dropped_rows:
        lines.append(f"{report.data.dropped_rows:,} responses without a score were left out.")
    return lines


def describe_segments(report: NPSReport) -> list[str]:
    lines = []
    corr = report.params["correction"]
    adj = f"{CORRECTION_NAMES[corr]}-adjusted " if corr else ""
    for col, table in report.segments.items():
        shown = privacy.visible(table)
        hidden = int(table["suppressed"].sum())
        sig = shown[shown["significant"]]
        if len(shown) == 0:
            lines.append(f"By {_esc(col)}: every group is suppressed (fewer than {report.params['min_cell']} responses).")
            continue
        best, worst = shown.loc[shown["nps"].idxmax()], shown.loc[shown["nps"].idxmin()]
        text = (f"By {_esc(col)}: NPS ranges from {_pts(worst['nps'])} ({_esc(worst['value'])}) to "
                f"{_pts(best['nps'])} ({_esc(best['value'])}). ")
        if len(sig):
            parts = [f"{_esc(r.value)} {'above' if r.diff_vs_rest > 0 else 'below'} the rest by "
                     f"{abs(r.diff_vs_rest):.1f} points ({adj}{_pval(r.p_adjusted)})" for r in sig.itertuples()]
            text += "Significantly different from the rest: " + "; ".join(parts) + "."
        else:
            text += f"No {_esc(col)} differs significantly from the rest ({adj}p ≥ {1 - report.params['confidence']:.2f})."
        if hidden:
            text += f" {hidden} group(s) suppressed (small cells)."
        lines.append(text)
    return lines


def describe_trend(report: NPSReport) -> list[str]:
    t = report.trend
    if t is None or len(privacy.visible(t)) == 0:
        return ["No dated responses to show a trend."] if t is not None else []
    name = PERIOD_NAMES[report.params["period"]]
    shown = privacy.visible(t)
    last = shown.iloc[-1]
    line = (f"Latest {name} ({last['period']}): NPS {_pts(last['nps'])} "
            f"({report.params['confidence']:.0%} CI {_pts(last['ci_low'])} to {_pts(last['ci_high'])}, n = {last['n']:,}).")
    if np.isfinite(last["change"]):
        line += (f" Change from the previous {name}: {_pts(last['change'])} points "
                 f"({'significant' if last['change_significant'] else 'not significant'}).")
    flagged = t[t["change_significant"]]
    if len(flagged):
        line += " Significant changes: " + ", ".join(f"{r.period} ({_pts(r.change)})" for r in flagged.itertuples()) + "."
    else:
        line += f" No {name}-to-{name} change is statistically significant across {len(shown)} {name}s."
    return [line]


def describe_dimensions(report: NPSReport) -> list[str]:
    if report.dimensions is None:
        return []
    eff = report.dimensions.effects.dropna(subset=["cohens_d"])
    lines = []
    if len(eff):
        top = eff.loc[eff["cohens_d"].idxmax()]
        low = eff.loc[eff["cohens_d"].idxmin()]
        lines.append(f"Promoters rate every dimension higher than detractors; the gap is largest for "
                     f"{DIMENSIONS[top['dimension']]['en']} ({top['mean_promoters']:.2f} vs {top['mean_detractors']:.2f}, "
                     f"Cohen's d = {top['cohens_d']:.2f}, {top['effect']}) and smallest for "
                     f"{DIMENSIONS[low['dimension']]['en']} (d = {low['cohens_d']:.2f})."
                     if (eff["difference"] > 0).all() else
                     f"The largest promoter–detractor gap is for {DIMENSIONS[top['dimension']]['en']} "
                     f"(Cohen's d = {top['cohens_d']:.2f}).")
    m = report.model
    if m is not None and len(m.table):
        best = m.table.loc[m.table["odds_ratio"].idxmax()]
        lines.append(f"Holding the other dimensions constant, one point more on {best['label']} multiplies the odds "
                     f"of being a promoter rather than a detractor by {best['odds_ratio']:.2f} "
                     f"({report.params['confidence']:.0%} CI {best['ci_low']:.2f}–{best['ci_high']:.2f}; "
                     f"n = {m.n:,}, pseudo-R² = {m.pseudo_r2:.2f}"
                     + (f"; cluster-robust by {_esc(m.cluster_col)}" if m.cluster_col else "") + ").")
    elif m is not None and m.note:
        lines.append(f"Logistic model not shown: {m.note}.")
    return lines


def describe_themes(report: NPSReport) -> list[str]:
    from loyaltylab import themes as th

    t = report.themes
    if t is None:
        return []
    shown = privacy.visible(t)
    shown = shown[shown["theme"] != th.UNCLASSIFIED]
    lines = []
    for col, who in (("share_detractors", "detractors"), ("share_promoters", "promoters")):
        s = shown.dropna(subset=[col])
        if len(s):
            r = s.sort_values([col, "theme"], ascending=[False, True]).iloc[0]
            lines.append(f"Commenting {who} most often write about {th.theme_label(r['theme'], bilingual=True)} "
                         f"({r[col]:.0f}% of their comments).")
    un = t[t["theme"] == th.UNCLASSIFIED]
    if len(un) and np.isfinite(un["share_all"].iloc[0]):
        lines.append(f"{un['share_all'].iloc[0]:.0f}% of comments match no theme in the lexicon.")
    acc = report.theme_accuracy
    if acc is not None:
        lines.append(f"On the course data the lexicon's primary theme matches the true theme for "
                     f"{acc.accuracy:.1%} of {acc.n:,} comments.")
    return lines


def describe_sample_size(report: NPSReport) -> list[str]:
    o = report.overall
    if o.suppressed:
        return []
    conf = report.params["confidence"]
    need = sample_size(5, o.promoters_pct, o.detractors_pct, conf)
    line = f"With this survey's mix, ±5 points ({conf:.0%}) needs about {need:,} responses from different customers"
    if o.deff > 1:
        line += (f" — about {math.ceil(need * o.deff):,} when customers answer repeatedly as here "
                 f"(design effect {o.deff:.2f})")
    return [line + f"; the {o.n:,} responses here give ±{o.margin:.1f} points."]


def describe_truth(report: NPSReport) -> list[str]:
    t = report.truth
    if t is None:
        return []
    first = t.iloc[0]
    covered = int(t["covered"].sum())
    return [f"True NPS ({_esc(first['scope'] if first['value'] == 'everyone' else first['value'])}): {first['true']:.1f}; estimate {first['estimate']:.1f} "
            f"({'inside' if first['covered'] else 'outside'} its interval). "
            f"{covered} of {len(t)} intervals in the comparison contain the true value."]


def describe_join(report: NPSReport) -> list[str]:
    """A warning when many survey responses found no customer to take their segment from."""
    rate = report.data.join_match_rate
    if rate is None or rate >= JOIN_WARN_RATE:
        return []
    return [f"**Warning:** only {rate:.1%} of survey responses matched a customer in "
            f"{_esc(report.data.inputs.get('customers'))} on customer_id (expected ≥ {JOIN_WARN_RATE:.0%}); the rest "
            f"are shown as segment '{MISSING_LABEL}'. Check that both files use the same ids."]


def key_findings(report: NPSReport) -> list[str]:
    """The 'Key findings' bullets, each computed from the results (data warnings first)."""
    lines = describe_join(report) + describe_overall(report)[:2]
    for part in (describe_segments(report)[:3], describe_trend(report), describe_dimensions(report)[:1],
                 describe_themes(report)[:2], describe_truth(report)):
        lines.extend(part)
    hidden = sum(int(t["suppressed"].sum()) for t in report.segments.values())
    if hidden:
        lines.append(f"{hidden} segment cell(s) are suppressed to protect respondents (min_cell = "
                     f"{report.params['min_cell']}).")
    return lines


# --- tables as shown in the notebook ---------------------------------------------------------------------------

VIEWS = {
    "segment": {"value": "Segment", "n": "n", "nps": "NPS", "ci_low": "CI low", "ci_high": "CI high",
                "deff": "Design effect", "diff_vs_rest": "vs rest", "p_adjusted": "p (adjusted)",
                "significant": "Differs from rest", "suppressed": "suppressed"},
    "trend": {"period": "Period", "n": "n", "nps": "NPS", "ci_low": "CI low", "ci_high": "CI high",
              "change": "Change", "p_adjusted": "p (adjusted)", "change_significant": "Significant change",
              "suppressed": "suppressed"},
    "effects": {"label": "Dimension", "mean_detractors": "Detractors", "mean_promoters": "Promoters",
                "difference": "Difference", "cohens_d": "Cohen's d", "d_ci_low": "d CI low", "d_ci_high": "d CI high",
                "effect": "Effect", "p_adjusted": "p (adjusted)"},
    "model": {"label": "Dimension", "odds_ratio": "Odds ratio", "ci_low": "CI low", "ci_high": "CI high",
              "p_value": "p"},
    "themes": {"label": "Theme", "n": "Comments", "share_detractors": "% of detractors",
               "share_promoters": "% of promoters", "difference": "Difference (points)", "suppressed": "suppressed"},
    "truth": {"scope": "Scope", "value": "Group", "n": "n", "estimate": "Estimate", "ci_low": "CI low",
              "ci_high": "CI high", "true": "True NPS", "covered": "Interval contains truth"},
    "sample_size": {"margin": "Margin (± points)"},
}


def _p_text(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def view(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A result table with readable column names for display (p-values and flags as text)."""
    columns = VIEWS[kind]
    out = table[[c for c in columns if c in table] + ([] if kind != "sample_size" else
                                                        [c for c in table if c != "margin"])].copy()
    for col in out.columns:
        if col.startswith("p_") or col == "p_value":
            out[col] = out[col].map(_p_text).astype(object)
        elif col in ("significant", "change_significant", "covered"):
            out[col] = out[col].map(lambda v: "yes" if v is True or v == 1 else "").astype(object)
        elif isinstance(out[col].dtype, pd.Int64Dtype):  # hidden counts read like the other suppressed cells
            out[col] = out[col].map(lambda v: "suppressed" if pd.isna(v) else int(v)).astype(object)
    return out.rename(columns=columns)


# --- charts (English labels: matplotlib has no CJK font here) -------------------------------------------------


def plot_distribution(dist: pd.DataFrame, ax=None):
    """Responses per score 0–10, bars coloured by category; suppressed scores (few respondents) are not drawn."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    hidden = dist["suppressed"].to_numpy(bool) if "suppressed" in dist else np.zeros(len(dist), bool)
    shown = dist.loc[~hidden]
    ax.bar(shown["score"], shown["n"].astype("float64"), color=[NPS_COLORS[c] for c in shown["category"]],
           width=0.8)
    for score in dist.loc[hidden, "score"]:
        ax.text(score, 0, "suppressed", rotation=90, ha="center", va="bottom", fontsize=8, color=SUPPRESSED_COLOR)
    ax.set_xticks(range(11))
    ax.set_xlabel("Likelihood to recommend (0–10)")
    ax.set_ylabel("Responses")
    ax.set_title("Score distribution: detractors 0–6, passives 7–8, promoters 9–10")
    handles = [plt.Rectangle((0, 0), 1, 1, color=NPS_COLORS[c]) for c in NPS_CATEGORIES]
    ax.legend(handles, [CATEGORY_LABELS[c] for c in NPS_CATEGORIES], loc="upper left")
    return ax


def plot_overall(result: NPSResult):
    """Left: the shares of detractors / passives / promoters; right: the NPS with its interval on −100..100,
    with the course's NPS ≥ 50 mark."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1.4, 1]})
    left = 0.0
    if result.suppressed:
        ax1.text(0.5, 0.5, "suppressed (n < min_cell)", ha="center", va="center", color=SUPPRESSED_COLOR)
    else:
        for cat, share in (("detractor", result.detractors_pct), ("passive", result.passives_pct),
                           ("promoter", result.promoters_pct)):
            ax1.barh(0, share, left=left, color=NPS_COLORS[cat])
            if share >= 6:
                ax1.text(left + share / 2, 0, f"{CATEGORY_LABELS[cat]}\n{share:.0f}%", ha="center", va="center",
                         color="white", fontsize=9, fontweight="bold")
            left += share
        ax2.plot([result.ci_low, result.ci_high], [0, 0], color=ACCENT, lw=3)
        ax2.plot(result.nps, 0, "o", color=ACCENT, ms=10)
        ax2.annotate(f"NPS {result.nps:+.1f}\n[{result.ci_low:+.1f}, {result.ci_high:+.1f}]", (result.nps, 0),
                     xytext=(0, 12), textcoords="offset points", ha="center", va="bottom", fontsize=9)
    ax1.set_xlim(0, 100)
    ax1.set_yticks([])
    ax1.set_xlabel("Share of responses (%)")
    ax1.set_title("Who answered what")
    ax2.axvline(0, color="#555555", lw=1)
    ax2.axvline(LOYAL_MARK, color=NPS_COLORS["promoter"], ls="--", lw=1)
    ax2.text(LOYAL_MARK, -0.9, " NPS 50", color=NPS_COLORS["promoter"], fontsize=8, va="bottom")
    ax2.set_xlim(-100, 100)
    ax2.set_ylim(-1, 1.2)
    ax2.set_yticks([])
    ax2.set_xlabel("NPS (points)")
    ax2.set_title(f"NPS with {result.confidence:.0%} interval")
    fig.tight_layout()
    return fig


def plot_segments(tables: Mapping[str, pd.DataFrame], reference: float | None = None):
    """One forest plot per segment column: NPS with interval, significant segments highlighted, suppressed
    segments listed but not drawn; the dashed line is the overall NPS."""
    tables = {c: t for c, t in tables.items() if len(t)}
    heights = [max(1.6, 0.42 * len(t) + 1.0) for t in tables.values()] or [1.6]
    fig, axes = plt.subplots(len(heights), 1, figsize=(8, sum(heights)), gridspec_kw={"height_ratios": heights},
                             squeeze=False)
    for ax, (col, table) in zip(axes[:, 0], tables.items()):
        shown = table.assign(label=[str(v) if hidden or pd.isna(n) else f"{v} (n={n:,})"
                                    for v, n, hidden in zip(table["value"], table["n"], table["suppressed"])])
        forest_plot(shown, "nps", "ci_low", "ci_high", "label", ref=reference, highlight_col="significant",
                    xlabel="NPS (points)", title=f"NPS by {col} (highlighted: differs from the rest)", ax=ax)
    drawn = [privacy.visible(t) for t in tables.values()]
    lows = [t["ci_low"].min() for t in drawn if len(t)]
    highs = [t["ci_high"].max() for t in drawn if len(t)]
    if lows:
        pad = 0.05 * (max(highs) - min(lows) + 1)
        for ax in axes[:, 0]:
            ax.set_xlim(min(lows) - pad, max(highs) + pad)
    if not tables:
        axes[0, 0].text(0.5, 0.5, "no segment columns", ha="center", va="center", transform=axes[0, 0].transAxes)
    fig.tight_layout()
    return fig


def plot_trend(table: pd.DataFrame, ax=None, title: str | None = None):
    """NPS per period with its interval band; red markers where the change from the previous period is
    significant; gaps where a period is suppressed."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(table))
    y = table["nps"].to_numpy(dtype="float64")
    ax.fill_between(x, table["ci_low"].to_numpy(dtype="float64"), table["ci_high"].to_numpy(dtype="float64"),
                    color=ACCENT, alpha=0.18, linewidth=0, label="interval")
    ax.plot(x, y, "o-", color=ACCENT, lw=2, ms=4, label="NPS")
    flagged = table["change_significant"].to_numpy(bool)
    if flagged.any():
        ax.plot(x[flagged], y[flagged], "o", color=PALETTE[3], ms=10, mfc="none", mew=2, label="significant change")
    hidden = table["suppressed"].to_numpy(bool)
    for xi in x[hidden]:
        ax.axvspan(xi - 0.5, xi + 0.5, color=SUPPRESSED_COLOR, alpha=0.3, lw=0)
    ax.axhline(LOYAL_MARK, color=NPS_COLORS["promoter"], ls="--", lw=1, label="NPS 50 mark")
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels(table["period"].to_numpy()[::step], rotation=45 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
    ax.set_ylabel("NPS (points)")
    ax.set_title(title or "NPS over time" + (" (grey: suppressed)" if hidden.any() else ""))
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_dimensions(comparison: DimensionComparison, ax=None):
    """Mean perception (1–7) per SERVQUAL dimension for detractors, passives and promoters, with intervals."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    m = comparison.means
    dims = list(dict.fromkeys(m["dimension"]))
    x = np.arange(len(dims))
    for k, cat in enumerate(NPS_CATEGORIES):
        rows = m[m["category"] == cat].set_index("dimension").reindex(dims)
        xs = x + (k - 1) * 0.22
        yerr = np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]])
        ax.errorbar(xs, rows["mean"], yerr=yerr, fmt="o", color=NPS_COLORS[cat], capsize=3, ms=7,
                    label=CATEGORY_LABELS[cat])
    ax.set_xticks(x)
    ax.set_xticklabels([_label(d) for d in dims])
    ax.set_ylabel("Mean perception (1–7)")
    ax.set_title("SERVQUAL perceptions by NPS category")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return ax


def plot_odds_ratios(model: PromoterModel, ax=None):
    """Odds ratios (log scale) of being a promoter rather than a detractor, per scale point of each dimension."""
    if len(model.table) == 0:
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 2))
        ax.text(0.5, 0.5, model.note or "no model", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    table = model.table.assign(significant=model.table["p_value"] < 0.05, suppressed=False)
    return forest_plot(table, "odds_ratio", "ci_low", "ci_high", "label", ref=1.0, log_x=True,
                       highlight_col="significant", xlabel="Odds ratio per scale point (log scale)",
                       title="Promoter vs detractor: logistic model", ax=ax)


def plot_themes(shares: pd.DataFrame, ax=None):
    """Share of commenting detractors and promoters mentioning each theme."""
    shown = privacy.visible(shares)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.5 * len(shown) + 1)))
    y = np.arange(len(shown))[::-1]
    ax.barh(y + 0.2, shown["share_detractors"].fillna(0), height=0.4, color=NPS_COLORS["detractor"],
            label="Detractors")
    ax.barh(y - 0.2, shown["share_promoters"].fillna(0), height=0.4, color=NPS_COLORS["promoter"], label="Promoters")
    ax.set_yticks(y)
    ax.set_yticklabels(shown["label"])
    ax.set_xlabel("Share of commenters mentioning the theme (%)")
    ax.set_title("What promoters and detractors write about")
    ax.legend(loc="lower right")
    return ax


def plot_truth(table: pd.DataFrame, ax=None):
    """Estimated NPS with interval (blue) against the true population NPS (black cross), course data only."""
    t = table.assign(label=[f"{s}: {v}" if s != "overall" else ("overall" if v == "everyone" else f"overall ({v})")
                            for s, v in zip(table["scope"], table["value"])],
                     missed=~table["covered"], suppressed=False)
    ax = forest_plot(t, "estimate", "ci_low", "ci_high", "label", highlight_col="missed", xlabel="NPS (points)",
                     title="Estimated NPS (dot, interval) vs true NPS (x)", ax=ax)
    y = np.arange(len(t))[::-1]
    ax.plot(t["true"], y, "x", color="#000000", ms=8, mew=2)
    return ax


# --- interactive explorer (JupyterLab only; the batch shows the static charts) --------------------------------


def explorer(
    data: NPSData, *, min_cell: int = privacy.DEFAULT_MIN_CELL, confidence: float = 0.95, ci_method: str = "normal",
):
    """An ipywidgets panel: pick a segment column, a period and optionally one segment value to look within;
    shows the segment table and forest plot, and the trend, for that selection (small cells suppressed)."""
    import ipywidgets as widgets
    from IPython.display import display

    from loyaltylab import notebook

    f = data.frame
    cols = list(data.segment_cols)
    within = ["All"] + [f"{c} = {v}" for c in cols for v in sorted(f[c].dropna().astype(str).unique())]
    group = widgets.Dropdown(options=cols or ["(none)"], description="Group by")
    per = widgets.Dropdown(options=[("Quarter", "Q"), ("Month", "M"), ("Year", "Y")], value="Q", description="Period")
    sub = widgets.Dropdown(options=within, value="All", description="Within")
    out = widgets.Output()
    cluster = "cluster_id" if data.cluster_col else None
    opts = {"min_cell": min_cell, "confidence": confidence, "ci_method": ci_method, "cluster_col": cluster}

    def subset():
        if sub.value == "All":
            return f
        col, _, value = sub.value.partition(" = ")
        return f[f[col].astype(str) == value]

    def render(*_):
        out.clear_output(wait=True)
        with out:
            part = subset()
            res = overall(part, **opts)
            notebook.show_findings([f"{notebook.escape(sub.value)}: n = {res.n:,}, NPS "
                                    + ("suppressed" if res.suppressed else f"{res.nps:+.1f} [{res.ci_low:+.1f}, {res.ci_high:+.1f}]")],
                                   title="Selection")
            if cols:
                table = by_segment(part, group.value, **opts)
                notebook.show_table(table.drop(columns=["column"]), caption=f"NPS by {group.value}")
                fig = plot_segments({group.value: table}, reference=None if res.suppressed else res.nps)
                display(fig)
                plt.close(fig)
            if data.has_dates:
                fig, ax = plt.subplots(figsize=(9, 3.6))
                plot_trend(trend(part, period=per.value, **opts), ax=ax)
                display(fig)
                plt.close(fig)

    for w in (group, per, sub):
        w.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([group, per, sub]), out])
