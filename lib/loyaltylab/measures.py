"""The one definition of the survey's measures: NPS categories and SERVQUAL dimension scores.

Every analysis that classifies a 0–10 answer or scores a SERVQUAL dimension calls these, so "promoter" and
"the respondent's reliability score" mean the same thing in every report.

- NPS (Reichheld 2003): promoters answer 9–10, passives 7–8, detractors 0–6.
- A SERVQUAL dimension score (Parasuraman, Zeithaml & Berry 1988) is the respondent's mean over the dimension's
  items *that respondent answered* (a skipped item does not drag the mean down). Statistics over respondents —
  the mean perception of a dimension, a promoter–detractor difference — are statistics of these scores, never of
  the pooled item answers (which would weight respondents by how many items they answered).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from loyaltylab.constants import DETRACTOR_MAX, DIMENSIONS, NPS_CATEGORIES, PROMOTER_MIN
from loyaltylab.errors import DataError

__all__ = ["category_codes", "check_scores", "classify", "dimension_items", "dimension_means", "dimension_scores",
           "gap_scores"]


# --- NPS categories -------------------------------------------------------------------------------------------


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


# --- SERVQUAL dimension scores --------------------------------------------------------------------------------


def dimension_items(dimension: str, prefix: str = "P", dimensions: Mapping[str, Mapping] = DIMENSIONS) -> list[str]:
    """The item columns of ``dimension``: ``P5``…``P9`` for reliability perceptions, ``E5``… for expectations.
    ``dimensions`` maps a name to ``{"items": [ids], ...}`` or directly to its item ids (``{"rel": ["rel1", …]}``
    with prefix ``P_`` gives ``P_rel1``, …)."""
    spec = dimensions[dimension]
    return [f"{prefix}{i}" for i in (spec["items"] if isinstance(spec, Mapping) else spec)]


def dimension_scores(
    frame: pd.DataFrame, dimensions: Mapping[str, Mapping] = DIMENSIONS, prefix: str = "P",
) -> pd.DataFrame:
    """Each respondent's score per dimension: the mean of the dimension's items they answered (NaN when they
    answered none). A dimension is scored only when all its item columns are in ``frame``; the others are left
    out (a survey that asked two of the five reliability items does not measure reliability).

    ``dimensions`` maps a name to ``{"items": [numbers], ...}`` (default: the 22-item SERVQUAL of
    :data:`loyaltylab.constants.DIMENSIONS`); ``prefix`` picks perceptions ``P`` or expectations ``E``.
    Gap scores are ``dimension_scores(f, prefix="P") - dimension_scores(f, prefix="E")``.
    """
    out = {}
    for dim in dimensions:
        cols = dimension_items(dim, prefix, dimensions)
        if all(c in frame for c in cols):
            out[dim] = _row_means(frame[cols].to_numpy(dtype="float64", na_value=np.nan))
    return pd.DataFrame(out, index=frame.index)


def _row_means(x: np.ndarray) -> np.ndarray:
    """Each row's mean over its answered (finite) entries; NaN when none (numpy: 10× pandas' mean(axis=1))."""
    answered = np.isfinite(x)
    if answered.all():
        return x.mean(axis=1)
    count = answered.sum(axis=1)
    total = np.where(answered, x, 0.0).sum(axis=1)
    return np.divide(total, count, out=np.full(len(x), np.nan), where=count > 0)


def gap_scores(
    frame: pd.DataFrame, dimensions: Mapping[str, Mapping] = DIMENSIONS, perception_prefix: str = "P",
    expectation_prefix: str = "E",
) -> pd.DataFrame:
    """Each respondent's SERVQUAL gap per dimension: the mean of the item gaps P − E over the dimension's items the
    respondent answered *both* questions of (NaN when none). With every item answered this equals
    ``dimension_scores(prefix="P") - dimension_scores(prefix="E")``. A dimension is scored only when all its P and E
    item columns are in ``frame``."""
    out = {}
    for dim in dimensions:
        p_cols = dimension_items(dim, perception_prefix, dimensions)
        e_cols = dimension_items(dim, expectation_prefix, dimensions)
        if all(c in frame for c in p_cols + e_cols):
            diff = frame[p_cols].to_numpy(dtype="float64", na_value=np.nan) - frame[e_cols].to_numpy(
                dtype="float64", na_value=np.nan)
            out[dim] = _row_means(diff)
    return pd.DataFrame(out, index=frame.index)


def dimension_means(
    frame: pd.DataFrame, dimensions: Mapping[str, Mapping] = DIMENSIONS, prefix: str = "P",
) -> pd.DataFrame:
    """Per dimension, the mean over respondents of their :func:`dimension_scores`, with the number of respondents
    scored, the SD and the standard error: columns ``dimension, n, mean, sd, se`` (one row per scored dimension,
    in the order of ``dimensions``). This is the dimension mean every report shows (not the pooled item mean)."""
    scores = dimension_scores(frame, dimensions, prefix)
    n = scores.notna().sum()
    sd = scores.std(ddof=1)
    table = pd.DataFrame({"dimension": list(scores.columns), "n": n.to_numpy(dtype="int64"),
                          "mean": scores.mean().to_numpy(), "sd": sd.to_numpy()})
    with np.errstate(invalid="ignore", divide="ignore"):
        table["se"] = table["sd"] / np.sqrt(table["n"])
    return table
