"""Effect sizes with their intervals (no I/O, no text)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

__all__ = ["CohensD", "cohens_d", "MAGNITUDE_CUTS"]

MAGNITUDE_CUTS = (0.2, 0.5, 0.8)
"""Cohen's (1988) conventions for |d|: small from 0.2, medium from 0.5, large from 0.8."""


@dataclass(frozen=True)
class CohensD:
    """Standardised mean difference (a − b) / pooled SD, its standard error and ``confidence`` interval."""

    d: float
    se: float
    ci_low: float
    ci_high: float
    pooled_sd: float
    confidence: float = 0.95


def cohens_d(
    mean_a: float, var_a: float, n_a: float, mean_b: float, var_b: float, n_b: float, *,
    confidence: float = 0.95, deff: float = 1.0,
) -> CohensD:
    """Cohen's d of group a vs group b from each group's mean, variance (n − 1 denominator) and size, with the
    usual large-sample interval (Hedges & Olkin 1985): SE² = (n_a + n_b)/(n_a·n_b) + d²/(2(n_a + n_b)).

    ``deff`` (≥ 1, e.g. the design effect of the difference when a customer answers several times) widens the
    interval by √deff — Kish's effective sample size n / deff applied to both terms. d itself is unchanged (the
    SDs describe answers, not customers). d is NaN when the pooled SD is 0.
    """
    pooled = math.sqrt(((n_a - 1) * var_a + (n_b - 1) * var_b) / (n_a + n_b - 2))
    d = (mean_a - mean_b) / pooled if pooled > 0 else math.nan
    se = math.sqrt((n_a + n_b) / (n_a * n_b) + d * d / (2 * (n_a + n_b)))
    se *= math.sqrt(deff)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return CohensD(d, se, d - z * se, d + z * se, pooled, confidence)
