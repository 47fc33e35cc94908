"""The Net Promoter Score and its uncertainty, from category counts (promoters, passives, detractors).

Everything is vectorised over arrays of counts, so a table over a million responses costs a few ``np.bincount``
calls upstream and microseconds here. NPS and its intervals are in points (−100..100), percentages 0..100,
``confidence`` a two-sided level (0.95). No I/O, no text.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from loyaltylab import measures, params

CI_METHODS = ("normal", "adjusted", "score")
"""``normal``: Wald interval from the trinomial variance. ``adjusted``: Rocks (2016) adjusted Wald — add 3
pseudo-respondents (¾ promoter, 1½ passive, ¾ detractor) before computing the Wald interval. ``score``: the
iterative score interval (invert the score test with the variance at the constrained maximum-likelihood estimate,
as Tango 1998 does for a difference of paired proportions); Rocks (2016) found both close to nominal coverage."""

check_ci_method = params.choice(*CI_METHODS)


def z_value(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence`` (1.96 at 0.95)."""
    return float(stats.norm.ppf(0.5 + params.confidence(confidence) / 2))


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


def score_interval(n_pro, n_pas, n_det, z, iterations: int = 60):
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


def normal_interval(est, se, z):
    """Wald: estimate ± z·SE (proportions)."""
    return est - z * se, est + z * se


def adjusted_interval(e_pro, e_pas, e_det, z):
    """Rocks (2016) adjusted Wald on (effective) counts: ¾ promoter, 1½ passive, ¾ detractor added."""
    n_adj = e_pro + e_pas + e_det + 3.0
    pa, da = (e_pro + 0.75) / n_adj, (e_det + 0.75) / n_adj
    center = pa - da
    half = z * np.sqrt((pa + da - center * center) / n_adj)
    return center - half, center + half


def nps_arrays(
    n_pro, n_pas, n_det, confidence: float = 0.95, ci_method: str = "normal", deff=None,
) -> dict[str, np.ndarray]:
    """Vectorised core: NPS, SE and interval (points) for arrays of category counts. n = 0 gives NaN.

    ``deff`` (design effect, ≥ 1, e.g. from :func:`loyaltylab.stats.clustered.cluster_design_effect`) widens
    everything for correlated responses: the SE is multiplied by √deff and the interval is computed on the effective
    counts (counts / deff), as Korn & Graubard do for proportions from complex samples. None = independent
    responses (deff 1).
    """
    ci_method = check_ci_method(ci_method, "ci_method")
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
            low, high = normal_interval(est, se, z)
        elif ci_method == "adjusted":
            low, high = adjusted_interval(e_pro, e_pas, e_det, z)
        else:
            low, high = score_interval(e_pro, e_pas, e_det, z)
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
    min_cell: int | None = None, deff: float = 1.0, people: int | None = None,
) -> NPSResult:
    """NPS from the three category counts. With ``min_cell`` a group of fewer people is returned suppressed
    (``people``: distinct respondents when some answered more than once; default the number of responses);
    ``deff`` > 1 widens the interval for clustered responses (see :func:`nps_arrays`)."""
    counts = [int(promoters), int(passives), int(detractors)]
    if min(counts) < 0:
        raise ValueError(f"counts must be non-negative, got {counts}")
    a = nps_arrays(*counts, confidence=confidence, ci_method=ci_method, deff=deff)
    n = sum(counts)
    suppressed = min_cell is not None and (n if people is None else people) < params.min_cell(min_cell)
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
    s = measures.check_scores(scores if isinstance(scores, pd.Series) else pd.Series(scores), source=source)
    det, pas, pro = np.bincount(measures.category_codes(s.dropna()), minlength=3)[:3]
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
