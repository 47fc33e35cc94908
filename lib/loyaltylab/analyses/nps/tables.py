"""NPS tables: overall, by segment (each segment against the rest), by period (each against the one before), and
the distribution of the 0–10 answers — all from category counts, suppressed through :func:`privacy.suppress`.

Groups with fewer than ``min_cell`` people (distinct customers when a cluster column says who answered) are hidden,
counts included, plus the smallest further groups needed so a hidden group cannot be recovered by subtraction.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab import params, privacy
from loyaltylab.constants import NPS_CATEGORIES
from loyaltylab.errors import DataError
from loyaltylab.measures import category_codes
from loyaltylab.stats import clustered
from loyaltylab.stats.multiplicity import CORRECTIONS, adjust_pvalues

from .score import NPSResult, difference_arrays, from_counts, nps_arrays

MISSING_LABEL = "(missing)"
STAT_COLUMNS = ["promoters_pct", "passives_pct", "detractors_pct", "nps", "se", "ci_low", "ci_high"]
PERIOD_ALIASES = {"ME": "M", "MONTH": "M", "QE": "Q", "QUARTER": "Q", "YE": "Y", "A": "Y", "YEAR": "Y"}
PERIOD_NAMES = {"M": "month", "Q": "quarter", "Y": "year"}

check_period = params.choice("M", "Q", "Y", aliases=PERIOD_ALIASES)
check_correction = params.choice(*CORRECTIONS)


def normalise_period(period: str) -> str:
    """'M', 'Q' or 'Y' (also 'month', 'QE', 'A', …); anything else is a ParameterError."""
    return check_period(period, "period")


def group_counts(codes: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups, 3) counts of detractors, passives, promoters; rows with a missing score are ignored."""
    ok = codes >= 0
    flat = np.bincount(groups[ok].astype("int64") * 3 + codes[ok], minlength=n_groups * 3)
    return flat.reshape(n_groups, 3)


def overall(
    frame: pd.DataFrame, *, score_col: str = "nps", confidence: float = 0.95, ci_method: str = "normal",
    min_cell: int | None = privacy.DEFAULT_MIN_CELL, cluster_col: str | None = None, source: str | None = None,
) -> NPSResult:
    """The NPS of a prepared frame (scores already validated); ``cluster_col`` → cluster-robust interval, and
    ``min_cell`` counts distinct respondents."""
    codes = category_codes(frame[score_col])
    zeros = np.zeros(len(frame), "int64")
    det, pas, pro = group_counts(codes, zeros, 1)[0]
    clusters = clustered.cluster_codes(frame, cluster_col, source)
    deff, people = 1.0, None
    if clusters is not None:
        t = clustered.cluster_sums(codes, zeros, 1, clusters)
        deff, people = float(clustered.deff_from_sums(t)[0]), int(t["G"][0])
    return from_counts(pro, pas, det, confidence=confidence, ci_method=ci_method, min_cell=min_cell, deff=deff,
                       people=people)


def _segment_keys(frame: pd.DataFrame, column: str, codes: np.ndarray):
    """Group code per row (a blank value is its own group, '(missing)'), labels, and the counts per group —
    groups without a scored response (unused categories of a categorical column) dropped."""
    keys, uniques = pd.factorize(frame[column], sort=False)
    labels = [str(u) for u in uniques]
    if (keys < 0).any():
        keys = np.where(keys < 0, len(labels), keys)
        labels.append(MISSING_LABEL)
    counts = group_counts(codes, keys, len(labels))
    present = counts.sum(axis=1) > 0
    if not present.all():
        remap = np.cumsum(present) - 1
        keys = np.where(present[keys], remap[keys], -1)
        codes = np.where(keys >= 0, codes, -1).astype("int8")
        counts, labels = counts[present], [lab for lab, k in zip(labels, present) if k]
        keys = np.maximum(keys, 0)
    return keys, codes, labels, counts


def _family_adjust(p_values, correction, confidence):
    """Multiplicity correction across a segment table; with exactly two groups "A vs rest" and "B vs rest" are one
    and the same test (same |z|, same p), so the family has one member and both rows get its result."""
    family = np.asarray(p_values, dtype="float64").copy()
    k = len(family)
    if k == 2:
        family[1:] = np.nan
    p_adj, reject = adjust_pvalues(family, correction, 1 - confidence)
    if k == 2:
        p_adj, reject = np.full(2, p_adj[0]), np.full(2, reject[0])
    return p_adj, reject


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
    hide=None,
) -> pd.DataFrame:
    """NPS for each value of ``column`` with its interval, and each segment tested against the rest.

    Columns: column, value, n, promoters/passives/detractors_pct, nps, se, ci_low, ci_high, deff, diff_vs_rest,
    p_value, p_adjusted (``correction`` across the visible segments of this table), significant, suppressed. A
    blank segment value is its own group, '(missing)'. Rows: largest group first, suppressed groups last with
    n = <NA>. ``cluster_col`` (e.g. customer_id) makes SEs and intervals cluster-robust when one customer answers
    several times, and ``min_cell`` then counts customers. With exactly two groups the correction counts the one
    test once: p_adjusted = p_value. ``hide`` ({value label: True}) hides further groups: what a fan-out part hides
    to protect the rest of its batch (:mod:`.linked`).
    """
    min_cell = params.min_cell(min_cell)
    correction = check_correction(correction, "correction")
    if column not in frame:
        raise DataError(source, column, "column not found (named in the parameters)")
    clusters = clustered.cluster_codes(frame, cluster_col, source)
    keys, codes, labels, counts = _segment_keys(frame, column, category_codes(frame[score_col]))
    k = len(labels)
    deff = rest_deff = people = None
    if clusters is not None:  # the (segment, customer) sums give the design effects and the people per segment
        t = clustered.cluster_sums(codes, keys, k, clusters)
        deff, rest_deff, people = clustered.deff_from_sums(t), clustered.deff_from_sums(clustered.rest_sums(t)), t["G"]
    s = nps_arrays(counts[:, 2], counts[:, 1], counts[:, 0], confidence, ci_method, deff)
    rest = counts.sum(axis=0)[None, :] - counts
    r = nps_arrays(rest[:, 2], rest[:, 1], rest[:, 0], confidence, "normal", rest_deff)
    d = difference_arrays(s["nps"], s["se"], r["nps"], r["se"], confidence)
    table = pd.DataFrame({"value": labels, "n": s["n"].astype("int64"), **{c: s[c] for c in STAT_COLUMNS},
                          "deff": s["deff"], "diff_vs_rest": d["difference"],
                          "p_value": np.where(r["n"] > 0, d["p_value"], np.nan)})
    table = privacy.suppress(table, n_col="n", min_cell=min_cell, people=people,
                             value_cols=[*STAT_COLUMNS, "deff", "diff_vs_rest", "p_value"],
                             also_hide=_hide_mask(labels, hide))
    table["p_adjusted"], table["significant"] = _family_adjust(table["p_value"], correction, confidence)
    sizes = table["n"].to_numpy(dtype="float64", na_value=np.nan)
    order = np.lexsort((table["value"].to_numpy(), np.where(np.isnan(sizes), np.inf, -sizes)))
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "column", column)
    return table[["column", "value", "n", *STAT_COLUMNS, "deff", "diff_vs_rest", "p_value", "p_adjusted",
                  "significant", "suppressed"]]


def _hide_mask(labels, hide) -> np.ndarray | None:
    """``hide`` ({label: bool}) as a mask over ``labels`` (None when nothing extra is hidden)."""
    if not hide:
        return None
    return np.array([bool(hide.get(str(label), False)) for label in labels], dtype=bool)


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
    hide=None,
) -> pd.DataFrame:
    """NPS per month / quarter / year with intervals; each period tested against the one before.

    Columns: period, start, n, the NPS statistics, deff, change (vs the previous period), p_value, p_adjusted
    (``correction`` across the table's changes), change_significant, suppressed. Periods without responses are
    kept (n = 0, statistics blank) so gaps show; suppressed periods have n = <NA>. Responses without a date are
    left out. The change test treats the two periods as independent samples (a customer answering in both makes it
    slightly conservative); there is no change after a hidden or empty period. ``hide`` ({period label: True}):
    further periods a fan-out part hides to protect the rest of its batch (:mod:`.linked`).
    """
    min_cell = params.min_cell(min_cell)
    correction = check_correction(correction, "correction")
    if date_col not in frame:
        raise DataError(source, date_col, "column not found (named in the parameters)")
    keys, periods = period_index(frame[date_col], period)
    codes = category_codes(frame[score_col])
    clusters = clustered.cluster_codes(frame, cluster_col, source)
    ok = keys >= 0
    k = len(periods)
    counts = group_counts(codes[ok], keys[ok], k)
    deff = people = None
    if clusters is not None:
        t = clustered.cluster_sums(codes[ok], keys[ok], k, clusters[ok])
        deff, people = clustered.deff_from_sums(t), t["G"]
    s = nps_arrays(counts[:, 2], counts[:, 1], counts[:, 0], confidence, ci_method, deff)
    prev_nps, prev_se = np.r_[np.nan, s["nps"][:-1]], np.r_[np.nan, s["se"][:-1]]
    d = difference_arrays(s["nps"], s["se"], prev_nps, prev_se, confidence)
    table = periods.assign(n=s["n"].astype("int64"), **{c: s[c] for c in STAT_COLUMNS}, deff=s["deff"],
                           change=d["difference"], p_value=d["p_value"])
    table = privacy.suppress(table, n_col="n", min_cell=min_cell, people=people,
                             value_cols=[*STAT_COLUMNS, "deff", "change", "p_value"],
                             also_hide=_hide_mask(periods["period"], hide))
    prev_hidden = np.r_[True, table["suppressed"].to_numpy()[:-1]]
    table.loc[prev_hidden, ["change", "p_value"]] = np.nan
    table["p_adjusted"], table["change_significant"] = adjust_pvalues(table["p_value"], correction, 1 - confidence)
    return table[["period", "start", "n", *STAT_COLUMNS, "deff", "change", "p_value", "p_adjusted",
                  "change_significant", "suppressed"]]


def distribution(frame: pd.DataFrame, score_col: str = "nps", min_cell: int | None = None, hide=None) -> pd.DataFrame:
    """Responses per score 0–10 with category, percentage and ``suppressed``.

    With ``min_cell`` a score given by 1 to ``min_cell`` − 1 respondents is suppressed (n and pct blank), plus the
    smallest further scores of the same NPS category when needed (:func:`privacy.suppress_counts`): the category
    totals are published (the shares of promoters, passives, detractors), so a lone hidden score could otherwise be
    recovered by subtraction. Scores nobody gave stay visible as 0 (they identify no one). ``hide`` (11 booleans):
    further scores a fan-out part hides to protect the rest of its batch (:mod:`.linked`)."""
    v = frame[score_col].dropna().to_numpy(dtype="float64").astype("int64")
    counts = np.bincount(v, minlength=11)[:11]
    scores = np.arange(11)
    total = counts.sum()
    cats = category_codes(scores)
    hidden = np.zeros(11, bool)
    if min_cell is not None:
        for k in range(3):
            idx = np.flatnonzero(cats == k)
            hidden[idx] = privacy.suppress_counts(counts[idx], min_cell)
    if hide is not None:
        hidden |= np.asarray(hide, dtype=bool) & (counts > 0)
    table = pd.DataFrame({
        "score": scores, "n": pd.array(counts, dtype="Int64"),
        "pct": 100 * counts / total if total else np.zeros(11),
        "category": np.asarray(NPS_CATEGORIES)[cats], "suppressed": hidden,
    })
    table.loc[hidden, "n"] = pd.NA
    table.loc[hidden, "pct"] = np.nan
    return table
