"""Planning the next survey: margin of error and the responses a target precision needs."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .score import NPSResult, z_value

MARGINS = (2, 3, 5, 10)
"""The margins of error (± NPS points) of the planning table."""


def _unit_variance(promoters_pct: float, detractors_pct: float) -> float:
    p, d = promoters_pct / 100, detractors_pct / 100
    if not (0 <= p <= 1 and 0 <= d <= 1 and p + d <= 1 + 1e-12):
        raise ValueError("need 0 ≤ promoters_pct, detractors_pct and their sum ≤ 100; "
                         f"got {promoters_pct}, {detractors_pct}")
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
    margins: Sequence[float] = MARGINS,
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
