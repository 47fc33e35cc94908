"""The overview's distributions, every one suppressed for ``min_cell`` through :mod:`loyaltylab.privacy`.

- :func:`score_distribution` is 01_nps' own table (:func:`loyaltylab.analyses.nps.tables.distribution`), so the two
  reports hide the same NPS scores and opening both reveals nothing either hides.
- :func:`dimension_means` uses the one definition of a SERVQUAL dimension score and mean
  (:func:`loyaltylab.measures.dimension_means`: the mean over respondents of their dimension scores).
- :func:`histogram` bins a numeric column on round edges (the edges do not give away the smallest or largest
  value) and hides bars of fewer than ``min_cell`` people, with complementary bars so that the published total
  cannot reveal them; :func:`category_counts` and :func:`period_counts` do the same for levels and months.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from loyaltylab import measures, privacy
from loyaltylab.analyses.nps import tables as nps_tables

HISTOGRAM_BINS = 40
NICE_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)


def score_distribution(survey: pd.DataFrame | None, min_cell: int, score_col: str = "nps") -> pd.DataFrame | None:
    """Responses per NPS score 0–10 exactly as 01_nps publishes them (same suppression); None without scores."""
    if survey is None or score_col not in survey:
        return None
    return nps_tables.distribution(survey, score_col=score_col, min_cell=min_cell)


def _people(frame: pd.DataFrame, scored: pd.Series) -> int:
    if "customer_id" in frame:
        return int(frame.loc[scored.to_numpy(bool), "customer_id"].nunique())
    return int(scored.sum())


def dimension_means(survey: pd.DataFrame | None, min_cell: int) -> pd.DataFrame | None:
    """Mean expectation and perception (1–7) per SERVQUAL dimension: :func:`loyaltylab.measures.dimension_means`
    (the mean over respondents of their dimension scores) of the E and of the P items.

    ``n`` is the smaller of the two numbers of responses scored; a dimension scored for fewer than ``min_cell``
    people (distinct customers when the survey has ``customer_id``) is suppressed. None without a dimension whose
    E and P items are all in the survey.
    """
    if survey is None:
        return None
    e = measures.dimension_means(survey, prefix="E").set_index("dimension")
    p = measures.dimension_means(survey, prefix="P").set_index("dimension")
    dims = [d for d in p.index if d in e.index]
    if not dims:
        return None
    table = pd.DataFrame({"dimension": dims, "expectation": e.loc[dims, "mean"].to_numpy(),
                          "perception": p.loc[dims, "mean"].to_numpy(),
                          "n": np.minimum(e.loc[dims, "n"].to_numpy(), p.loc[dims, "n"].to_numpy())})
    scores = {prefix: measures.dimension_scores(survey, prefix=prefix) for prefix in ("E", "P")}
    people = [min(_people(survey, scores["E"][d].notna()), _people(survey, scores["P"][d].notna())) for d in dims]
    return privacy.suppress(table, n_col="n", min_cell=min_cell, value_cols=["expectation", "perception"],
                            people=np.asarray(people))


def nice_edges(low: float, high: float, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """About ``bins`` equal bins on round edges (1, 2, 2.5 or 5 × 10^k wide) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("histogram of non-finite values")
    span = high - low
    if span <= 0:
        step = 10.0 ** math.floor(math.log10(abs(low))) if low else 1.0
        start = math.floor(low / step) * step
        return np.array([start, start + step])
    raw = span / bins
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in NICE_STEPS if m * magnitude >= raw * (1 - 1e-9))
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    if stop <= high:
        stop += step
    n = int(round((stop - start) / step))
    return start + step * np.arange(n + 1)


def _suppressed_counts(table: pd.DataFrame, codes: np.ndarray, people, min_cell: int) -> pd.DataFrame:
    """``table`` (one row per bin/level) with ``n`` rows per code, hidden for bins of fewer than ``min_cell``
    people (``people``: one id per row, or None when each row is a person)."""
    k = len(table)
    n = np.bincount(codes, minlength=k)[:k]
    if people is None:
        distinct = n
    else:
        pairs = pd.DataFrame({"code": codes, "who": np.asarray(people)}).dropna().drop_duplicates()
        distinct = np.bincount(pairs["code"].to_numpy(dtype="int64"), minlength=k)[:k]
    table = table.assign(n=n)
    return privacy.suppress(table, n_col="n", min_cell=min_cell, value_cols=[], people=distinct)


def histogram(values: pd.Series, min_cell: int, bins: int = HISTOGRAM_BINS, people=None) -> pd.DataFrame:
    """Rows per bin (``left``, ``right``, ``n``, ``suppressed``) of a numeric column; missing values left out.

    ``people`` (one id per row of ``values``, e.g. customer_id) makes ``min_cell`` count distinct people;
    by default every row is a person (the customers table).
    """
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    keep = x.notna().to_numpy()
    x = x.to_numpy()[keep]
    if people is not None:
        people = np.asarray(people, dtype=object)[keep]
    if not len(x):
        empty = pd.DataFrame({"left": [], "right": [], "n": pd.array([], dtype="Int64"), "suppressed": []})
        return empty.astype({"left": "float64", "right": "float64", "suppressed": bool})
    edges = nice_edges(float(x.min()), float(x.max()), bins)
    codes = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    table = pd.DataFrame({"left": edges[:-1], "right": edges[1:]})
    return _suppressed_counts(table, codes, people, min_cell)


def category_counts(values: pd.Series, min_cell: int, people=None) -> pd.DataFrame:
    """Rows per level (``value``, ``n``, ``suppressed``), largest first; missing values left out."""
    keep = values.notna().to_numpy()
    text = values[keep].astype(str)
    codes, levels = pd.factorize(text, sort=True)
    table = pd.DataFrame({"value": np.asarray(levels, dtype=object)})
    out = _suppressed_counts(table, codes, None if people is None else np.asarray(people, dtype=object)[keep],
                             min_cell)
    order = np.argsort(-np.bincount(codes, minlength=len(levels)), kind="stable")
    return out.iloc[order].reset_index(drop=True)


def period_counts(dates: pd.Series, min_cell: int, people=None) -> pd.DataFrame:
    """Rows per month (per quarter beyond five years, per year beyond twenty) of a date column, every period
    between the first and the last included (``period``, ``n``, ``suppressed``)."""
    d = pd.to_datetime(dates, errors="coerce")
    keep = d.notna().to_numpy()
    d = d[keep]
    if not len(d):
        return pd.DataFrame({"period": [], "n": pd.array([], dtype="Int64"), "suppressed": []})
    span_years = (d.max() - d.min()).days / 365.25
    freq = "M" if span_years <= 5 else "Q" if span_years <= 20 else "Y"
    periods = d.dt.to_period(freq)
    index = pd.period_range(periods.min(), periods.max(), freq=freq)
    codes = pd.PeriodIndex(periods).asi8 - index[0].ordinal
    table = pd.DataFrame({"period": index.astype(str)})
    return _suppressed_counts(table, codes, None if people is None else np.asarray(people, dtype=object)[keep],
                              min_cell)
