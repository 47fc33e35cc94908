"""Suppression across one batch: a part of a fan-out (``filters = {region: "North"}``) also hides the cells that
would let a reader recover a hidden cell of another part — or of the report on everyone — by subtracting published
numbers (overall Premium minus South Premium = North Premium).

Each table a part publishes per group is one row of a linked table: rows are the values of the filter column (a
row for missing values too), columns the groups (segment values, periods, scores, themes, category × dimension).
The report on everyone publishes the column totals (hiding what its own suppression hides), each part its row and
the row total. :func:`loyaltylab.privacy.linked_mask` over the people per cell — seeded with what every part's own
suppression hides, reproduced here exactly — gives the cells to hide. Every part computes the same mask from the
same unfiltered data, so the batch is consistent without the parts knowing of each other; the report on everyone
is unchanged.

The parts' own totals link too: the report on everyone's n and category counts minus the published parts give the
people whose filter value is blank, or a part refused for having fewer than ``min_cell`` people. When such a small
group exists, the smallest further parts are withheld as a whole (:func:`_withheld`) so it cannot be worked out.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loyaltylab import io, privacy
from loyaltylab.constants import NPS_CATEGORIES
from loyaltylab.measures import category_codes, dimension_scores
from loyaltylab.stats import clustered

from .tables import MISSING_LABEL, period_index


@dataclass(frozen=True)
class LinkedHiding:
    """What a part hides to protect the rest of its batch, by table: ``segments`` {column: {value label: hidden}},
    ``trend`` {period label: hidden}, ``distribution`` (11 booleans, scores 0–10), ``themes`` {count column
    ("n", "n_promoters", "n_detractors"): {theme: hidden}}, ``dimension_means`` {(dimension, category): hidden}.
    ``extra`` counts the cells hidden only for the batch (beyond this part's own suppression), ``extra_by_table``
    per table (keys ("segments", column), ("trend",), ("distribution",), ("themes", count column), ("means",
    dimension)). ``withheld``: the part publishes no number at all."""

    segments: dict = field(default_factory=dict)
    trend: dict = field(default_factory=dict)
    distribution: np.ndarray | None = None
    themes: dict = field(default_factory=dict)
    dimension_means: dict = field(default_factory=dict)
    extra: int = 0
    extra_by_table: dict = field(default_factory=dict)
    withheld: bool = False
    """The whole part is withheld: its totals would give away a small unpublished group (:func:`_withheld`)."""


def _people(cells: np.ndarray, clusters: np.ndarray | None, size: int) -> np.ndarray:
    """People per cell code (distinct clusters; responses when nobody is identified)."""
    if clusters is None:
        return np.bincount(cells, minlength=size)[:size].astype("float64")
    return clustered.people_per_group(cells, clusters, size).astype("float64")


def _rows(base: pd.DataFrame, column: str, value) -> tuple[np.ndarray, int, int]:
    """Row code of each response (the sorted values of ``column``, missing values last as their own row), the
    number of rows and this part's row. A list filter merges its values into the row of the first."""
    s = base[column]
    try:
        codes, uniques = pd.factorize(s, sort=True)
    except TypeError:  # values that do not sort together: sort their text
        codes, uniques = pd.factorize(s.astype(str).where(s.notna()), sort=True)
    n_rows = len(uniques) + int((codes < 0).any())
    codes = np.where(codes < 0, len(uniques), codes).astype("int64")
    member = base.index.isin(io.apply_filters(base, {column: value}).index)
    mine = np.unique(codes[member])
    codes = np.where(np.isin(codes, mine), mine[0], codes)
    return codes, n_rows, int(mine[0])


def _withheld(base, column, rows, n_rows, part, clusters, min_cell) -> bool:
    """Whether the part in row ``part`` is withheld as a whole, so that no small group of the batch follows from
    the parts' own totals (n and promoters / passives / detractors) subtracted from the report on everyone's.

    A 1-D linked table: one cell per value of ``column`` (people, as the analysis counts them), the column total
    published by the report on everyone. Not published: the blank row (no part) and every part refused for fewer
    than ``min_cell`` people. When one of these holds 1 to ``min_cell`` − 1 people, :func:`privacy.linked_mask`
    hides further parts — the smallest first, in the order the report on everyone's own table of ``column`` meets
    them, seeded with what that table's complementary suppression hides so the two agree — until the hidden cells
    are at least two, hold ``min_cell`` people together, and neither all lack nor all are of an NPS category. An
    unpublished group of ``min_cell`` people or more is no secret and withholds nothing by itself."""
    people = _people(rows, clusters, n_rows)
    blank = np.zeros(n_rows, bool)
    blank[np.unique(rows[base[column].isna().to_numpy()])] = True
    unpublished = (blank | (people < min_cell)) & (people > 0)
    if not (unpublished & (people < min_cell)).any():
        return False
    first = np.full(n_rows, np.inf)
    np.minimum.at(first, rows, np.arange(len(rows), dtype="float64"))
    first[blank] = np.inf  # a blank value comes last in the report on everyone's table
    order = np.argsort(first, kind="stable")  # rows in that table's order: ties are broken alike
    cats = _categories(rows, category_codes(base["nps"]).astype("int64"), n_rows)[order]
    seed = unpublished[order] | privacy.complementary_mask(people[order], min_cell)
    hidden = privacy.linked_mask(people[order, None], min_cell, seed=seed[:, None], row_totals=False,
                                 categories=cats[:, None, :])[:, 0]
    return bool(hidden[np.flatnonzero(order == part)[0]])


def _categories(cells: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    """(size, 3) answers per cell and NPS category (detractor, passive, promoter)."""
    return np.bincount(cells * 3 + codes, minlength=size * 3)[: size * 3].reshape(size, 3)


def _own_in_order(people: np.ndarray, order_key: np.ndarray, min_cell: int) -> np.ndarray:
    """Each row's own complementary suppression, its groups taken in ``order_key`` order (the order the part's
    own table meets them in, which decides ties)."""
    own = np.zeros(people.shape, bool)
    for r in range(people.shape[0]):
        order = np.argsort(order_key[r], kind="stable")
        own[r, order] = privacy.complementary_mask(people[r, order], min_cell)
    return own


def _segment_grid(base, column, rows, n_rows, part, clusters, min_cell):
    """(labels, final mask of the part's row, own mask of the part's row) for one segment table."""
    keys, uniques = pd.factorize(base[column], sort=False)  # the order tables.by_segment meets them in
    labels = [str(u) for u in uniques]
    if (keys < 0).any():
        keys = np.where(keys < 0, len(labels), keys)
        labels.append(MISSING_LABEL)
    g = len(labels)
    cells = rows * g + keys
    people = _people(cells, clusters, n_rows * g).reshape(n_rows, g)
    first = np.full(n_rows * g, np.inf)
    np.minimum.at(first, cells, np.arange(len(cells), dtype="float64"))
    first = first.reshape(n_rows, g)
    if labels[-1] == MISSING_LABEL:  # a blank value comes last in each table, whenever it first appears
        first[:, -1] = np.inf
    own = _own_in_order(people, first, min_cell)
    totals = privacy.complementary_mask(_people(keys, clusters, g), min_cell)
    cats = _categories(cells, category_codes(base["nps"]).astype("int64"), n_rows * g).reshape(n_rows, g, 3)
    mask = privacy.linked_mask(people, min_cell, seed=own, hidden_totals=totals, categories=cats)
    return labels, mask[part], own[part]


def _trend_grid(base, period, rows, n_rows, part, clusters, min_cell):
    """(period labels, final mask of the part's row, own mask) for the trend table."""
    keys, periods = period_index(base["date"], period)
    k = len(periods)
    ok = keys >= 0
    if not k:
        return [], np.zeros(0, bool), np.zeros(0, bool)
    cells = rows[ok] * k + keys[ok]
    people = _people(cells, None if clusters is None else clusters[ok], n_rows * k).reshape(n_rows, k)
    own = _own_in_order(people, np.broadcast_to(np.arange(k), people.shape), min_cell)
    totals = privacy.complementary_mask(_people(keys[ok], None if clusters is None else clusters[ok], k), min_cell)
    codes = category_codes(base["nps"]).astype("int64")[ok]
    cats = _categories(cells, codes, n_rows * k).reshape(n_rows, k, 3)
    mask = privacy.linked_mask(people, min_cell, seed=own, hidden_totals=totals, categories=cats)
    return list(periods["period"]), mask[part], own[part]


def _distribution_grid(base, rows, n_rows, part, clusters, min_cell):
    """(final mask, own mask) of the part's score distribution: one linked table per NPS category, since each
    part publishes its category counts (shares × n) and the report on everyone each score's count."""
    scores = base["nps"].to_numpy(dtype="float64").astype("int64")
    cells = rows * 11 + scores
    answers = np.bincount(cells, minlength=n_rows * 11)[: n_rows * 11].reshape(n_rows, 11)
    people = _people(cells, clusters, n_rows * 11).reshape(n_rows, 11)
    totals = answers.sum(axis=0)
    cats = category_codes(np.arange(11))
    mask, own = np.zeros(11, bool), np.zeros(11, bool)
    for c in range(3):
        idx = np.flatnonzero(cats == c)
        seed = np.array([privacy.suppress_counts(a, min_cell) for a in answers[:, idx]])  # tables.distribution's
        hidden_totals = privacy.suppress_counts(totals[idx], min_cell)
        m = privacy.linked_mask(people[:, idx], min_cell, seed=seed, hidden_totals=hidden_totals)
        mask[idx], own[idx] = m[part], seed[part]
    return mask, own


def _theme_grids(base, assigned, rows, n_rows, part, clusters, min_cell):
    """{count column: (themes, final mask, own mask)} for the theme table. Themes overlap (a comment can mention
    several), so a part publishes no total over them: only the columns (the report on everyone's counts) link."""
    from loyaltylab import themes as th

    has = assigned["has_comment"].to_numpy(bool)
    codes = category_codes(base["nps"])
    names = [c for c in assigned.columns if c not in ("theme", "themes", "n_themes", "has_comment")]
    names.append(th.UNCLASSIFIED)
    mention = np.column_stack([assigned[t].to_numpy(bool) if t != th.UNCLASSIFIED
                               else assigned["n_themes"].eq(0).to_numpy() for t in names]) & has[:, None]
    k = len(names)
    out, row_hidden, total_row_hidden = {}, None, None
    for col, who in (("n", None), ("n_promoters", 2), ("n_detractors", 0)):
        m = mention if who is None else mention & (codes == who)[:, None]
        r_idx, t_idx = np.nonzero(m)
        cells = rows[r_idx] * k + t_idx
        comments = np.bincount(cells, minlength=n_rows * k)[: n_rows * k].reshape(n_rows, k)
        people = _people(cells, None if clusters is None else clusters[r_idx], n_rows * k).reshape(n_rows, k)
        totals = m.sum(axis=0)
        seed = (comments > 0) & (comments < min_cell)  # comments.theme_shares: no complementary suppression
        hidden_totals = (totals > 0) & (totals < min_cell)
        if who is not None:  # a hidden theme row hides its promoter and detractor counts too
            seed |= row_hidden
            hidden_totals |= total_row_hidden
        mask = privacy.linked_mask(people, min_cell, seed=seed, hidden_totals=hidden_totals, row_totals=False)
        if who is None:
            row_hidden, total_row_hidden = mask | seed, hidden_totals
        out[col] = (names, (mask | seed)[part], seed[part])
    return out


def _dimension_grids(base, rows, n_rows, part, clusters, min_cell):
    """{dimension: (categories, final mask, own mask)} for the perception means: each (dimension, category) is a
    column of people whose mean the report on everyone publishes; a part publishes no mean over its categories."""
    scores = dimension_scores(base)
    codes = category_codes(base["nps"])
    out = {}
    for dim in scores.columns:
        ok = np.isfinite(scores[dim].to_numpy()) & (codes >= 0)
        cells = rows[ok] * 3 + codes[ok]
        people = _people(cells, None if clusters is None else clusters[ok], n_rows * 3).reshape(n_rows, 3)
        totals = _people(codes[ok], None if clusters is None else clusters[ok], 3)
        seed = (people > 0) & (people < min_cell)
        mask = privacy.linked_mask(people, min_cell, seed=seed, hidden_totals=(totals > 0) & (totals < min_cell),
                                   row_totals=False)
        out[dim] = (list(NPS_CATEGORIES), mask[part], seed[part])
    return out


def linked_hiding(
    unfiltered: pd.DataFrame, filters: Mapping, *, segment_cols=(), period: str | None = "Q", min_cell: int,
    cluster_col: str | None = None, assigned: pd.DataFrame | None = None, dimensions: bool = False,
) -> LinkedHiding:
    """What the part ``filters`` selects from ``unfiltered`` (the same survey, loaded without filters) hides so no
    hidden cell anywhere in its batch can be worked out by subtraction. ``period`` None: no trend table;
    ``assigned`` (themes of every unfiltered comment): a theme table; ``dimensions``: a perception-means table.

    One linked table per filter column, over the responses that match the other filters (with several filter
    columns, a part is hidden where any of them says so)."""
    min_cell = privacy.check_min_cell(min_cell)
    merged: dict = {}  # table key → {label: hidden}; several filter columns: hidden where any linked table says so
    own: dict = {}  # table key → {label: hidden by the part's own suppression} (the same for every filter column)
    withheld = False
    for column, value in filters.items():
        others = {c: v for c, v in filters.items() if c != column}
        base = io.apply_filters(unfiltered, others) if others else unfiltered
        clusters = clustered.cluster_codes(base, cluster_col)
        rows, n_rows, part = _rows(base, column, value)
        withheld |= _withheld(base, column, rows, n_rows, part, clusters, min_cell)
        grids = {("segments", col): _segment_grid(base, col, rows, n_rows, part, clusters, min_cell)
                 for col in segment_cols if col not in filters}
        if period is not None:
            grids[("trend",)] = _trend_grid(base, period, rows, n_rows, part, clusters, min_cell)
        grids[("distribution",)] = (list(range(11)), *_distribution_grid(base, rows, n_rows, part, clusters,
                                                                         min_cell))
        if assigned is not None:
            for col, grid in _theme_grids(base, assigned.loc[base.index], rows, n_rows, part, clusters,
                                          min_cell).items():
                grids[("themes", col)] = grid
        if dimensions:
            for dim, grid in _dimension_grids(base, rows, n_rows, part, clusters, min_cell).items():
                grids[("means", dim)] = grid
        for key, (labels, final, alone) in grids.items():
            table = merged.setdefault(key, {})
            for label, hide in zip(labels, final | alone):
                table[label] = table.get(label, False) or bool(hide)
            own.setdefault(key, dict(zip(labels, map(bool, alone))))
    by_table = {key: sum(hide and not own[key][label] for label, hide in table.items())
                for key, table in merged.items()}
    return LinkedHiding(
        segments={key[1]: t for key, t in merged.items() if key[0] == "segments"},
        trend=merged.get(("trend",), {}),
        distribution=np.array([merged[("distribution",)][s] for s in range(11)]) if merged else None,
        themes={key[1]: t for key, t in merged.items() if key[0] == "themes"},
        dimension_means={(key[1], cat): hide for key, t in merged.items() if key[0] == "means"
                         for cat, hide in t.items()},
        extra=int(sum(by_table.values())), extra_by_table={k: int(v) for k, v in by_table.items() if v},
        withheld=withheld,
    )
