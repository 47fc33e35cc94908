"""Small-cell suppression (k-anonymity for reported groups): no group below ``min_cell`` is shown."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_MIN_CELL = 5


def check_min_cell(min_cell) -> int:
    """``min_cell`` as a whole number ≥ 1, or a one-line ParameterError (the one validator, in params)."""
    from loyaltylab import params

    return params.min_cell(min_cell)


def suppress(
    table: pd.DataFrame,
    n_col: str = "n",
    min_cell: int = DEFAULT_MIN_CELL,
    value_cols: Sequence[str] | None = None,
    hide_counts: bool = True,
    complementary: bool = True,
    people=None,
    also_hide=None,
) -> pd.DataFrame:
    """The one suppression path: mark groups with fewer than ``min_cell`` people as suppressed and blank them.

    ``people`` (a column name or an array; default ``n_col``) is what ``min_cell`` counts — six answers from two
    customers are two people. ``value_cols`` (default: every numeric column but ``n_col``) are blanked in hidden
    rows, and so is the count itself unless ``hide_counts=False`` (a count of 3 is itself a small cell). With
    ``complementary`` (the default) further groups are hidden when the hidden ones could otherwise be recovered by
    subtracting the shown groups from a published total (:func:`complementary_mask`). An empty group (n = 0)
    identifies nobody: it stays visible with its 0. The ``people`` column, if named, is dropped from the result.
    ``also_hide`` (a boolean per row) hides further rows: the cells a :func:`linked_mask` over a whole batch hides
    in this part, which already include what this table's own suppression hides.
    """
    min_cell = check_min_cell(min_cell)
    out = table.copy()
    people_col = people if isinstance(people, str) else None
    sizes = out[people_col] if people_col else (out[n_col] if people is None else pd.Series(people, index=out.index))
    sizes = pd.to_numeric(sizes, errors="coerce").fillna(0).to_numpy(dtype="float64")
    small = complementary_mask(sizes, min_cell) if complementary else (sizes > 0) & (sizes < min_cell)
    if also_hide is not None:
        small = small | np.asarray(also_hide, dtype=bool)
    if value_cols is None:
        value_cols = [c for c in out.select_dtypes("number").columns if c not in (n_col, people_col)]
    if small.any():
        for col in value_cols:
            if pd.api.types.is_integer_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col]):
                out[col] = out[col].astype("float64")
            out.loc[small, col] = np.nan
    if people_col:
        out = out.drop(columns=people_col)
    if n_col in out and (pd.api.types.is_numeric_dtype(out[n_col]) or out[n_col].isna().all()):
        out[n_col] = pd.array(pd.to_numeric(out[n_col]).round(), dtype="Int64")
        if hide_counts:
            out.loc[small, n_col] = pd.NA
    out["suppressed"] = small
    return out


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a suppressed table that may be drawn in a chart."""
    return table.loc[~table["suppressed"].astype(bool)] if "suppressed" in table else table


def complementary_mask(n, min_cell: int) -> np.ndarray:
    """Primary suppression (0 < n < min_cell) plus the smallest further non-empty groups until the hidden groups
    together hold 0 or at least ``min_cell`` people — otherwise the total minus the shown groups would reveal
    them. Empty groups are neither hidden nor used as complements (a visible 0 reveals nothing and hides nothing)."""
    n = np.asarray(n, dtype="float64")
    hidden = (n > 0) & (n < min_cell)
    total = n[hidden].sum()
    while 0 < total < min_cell:
        candidates = np.flatnonzero(~hidden & (n > 0))
        if not len(candidates):
            break
        pick = candidates[np.argmin(n[candidates])]
        hidden[pick] = True
        total += n[pick]
    return hidden


def linked_mask(counts, min_cell: int, *, seed=None, hidden_totals=None, row_totals: bool = True,
                categories=None) -> np.ndarray:
    """Suppression for linked tables: ``counts[p, g]`` people of group ``g`` in part ``p`` of a batch (part ``p``'s
    report shows its row and the row total; the report on everyone shows the column totals).

    Hidden: every cell with 1 to ``min_cell`` − 1 people and every ``seed`` cell (what each part's own suppression
    hides); then, until nothing changes, (a) every row and column that hides anything hides at least two cells
    holding ``min_cell`` people or more together (further non-empty cells are added, chosen to close rectangles
    rather than start new chains: :func:`_line_rules`), (b) a column whose total the report on everyone hides
    (``hidden_totals``, its own suppression) hides at least one cell, so that total cannot be summed from the
    parts, and (c) no hidden cell or hidden total is fixed by the published numbers taken
    together (:func:`determined`: chains of subtractions across several rows and columns); a further cell of its
    row or column is hidden until it is not. So no hidden cell follows from published totals minus shown cells —
    within one report or across the reports of one batch. ``row_totals=False``: the parts publish no row total
    (overlapping groups such as comment themes), only the columns link. A cell no hiding can protect (its column
    has no other part, so its total is the cell) is left to the total's own suppression.

    ``categories[p, g, k]`` (answers per category, e.g. detractors / passives / promoters, when the tables show
    shares): (d) the hidden cells of a line must not all lack a category the line has, nor all be of it — the line's
    total minus its shown cells would say that every hidden group has 0 % (or 100 %) of it — so the smallest further
    cell that breaks the pattern is hidden.
    """
    n = np.asarray(counts, dtype="float64")
    min_cell = check_min_cell(min_cell)
    nonempty = n > 0
    hidden = nonempty & (n < min_cell)
    if seed is not None:
        hidden |= np.asarray(seed, dtype=bool) & nonempty
    totals = np.zeros(n.shape[1], bool) if hidden_totals is None else np.asarray(hidden_totals, dtype=bool).copy()
    totals &= nonempty.any(axis=0)
    if not hidden.any() and not totals.any():
        return hidden
    cats = None if categories is None else np.asarray(categories, dtype="float64")
    lost_cells, lost_totals = determined(n, nonempty, totals, row_totals)  # fixed even with every cell hidden
    while True:
        _line_rules(n, hidden, totals, min_cell, row_totals, cats)
        cells, tots = determined(n, hidden, totals, row_totals)
        cells &= ~lost_cells
        tots &= ~lost_totals
        if not cells.any() and not tots.any():
            return hidden
        if cells.any():
            r, g = np.argwhere(cells)[0]
            lines = [(r, slice(None)), (slice(None), g)] if row_totals else [(slice(None), g)]
        else:
            r, g = None, int(np.flatnonzero(tots)[0])
            lines = [(slice(None), g)]
        pick = _unfixing_cell(n, hidden, totals, row_totals, lines, (r, g))
        if pick is None:  # every non-empty cell is hidden: what is still fixed is fixed whatever is hidden
            return hidden
        hidden[pick] = True


def _line_rules(n, hidden, totals, min_cell, row_totals, cats=None) -> None:
    """Rules (a), (b) and (d) of :func:`linked_mask`, in place, one cell at a time until no line breaks them.

    Which cell: one that is the only way to mend a line; else one that mends the most broken lines at once; else
    one that starts the fewest new chains (its other line already hides something); else the smallest. (Greedy
    cell suppression: a line mended with a cell of an unmarked line would make that line need a complement too.)
    """
    while True:
        broken = _broken_lines(n, hidden, totals, min_cell, row_totals, cats)
        if not broken:
            return
        forced = [cands[0] for cands in broken if len(cands) == 1]
        if forced:
            hidden[forced[0]] = True
            continue
        mends: dict[tuple, int] = {}
        for cands in broken:
            for cell in cands:
                mends[cell] = mends.get(cell, 0) + 1

        def starts(cell):  # lines of the cell that hide nothing yet and would then need a complement
            r, g = cell
            return int(row_totals and not hidden[r].any()) + int(not hidden[:, g].any() and not totals[g])

        hidden[min(mends, key=lambda c: (-mends[c], starts(c), n[c], c))] = True


def _broken_lines(n, hidden, totals, min_cell, row_totals, cats) -> list[list[tuple]]:
    """For each line that breaks rule (a), (b) or (d), the cells (r, g) that could mend it."""
    broken = []
    lines = [(r, slice(None)) for r in range(n.shape[0])] if row_totals else []
    lines += [(slice(None), g) for g in range(n.shape[1])]
    for line in lines:
        values, mask = n[line], hidden[line]
        column = isinstance(line[0], slice)
        if column and totals[line[1]]:  # (b): its total is hidden: one hidden cell keeps it unknown
            cands = np.flatnonzero(values > 0) if not mask.any() else []
        elif not mask.any():
            continue
        elif mask.sum() < 2 or values[mask].sum() < min_cell:  # (a)
            cands = np.flatnonzero(~mask & (values > 0))
        elif cats is not None:  # (d)
            cands = _category_candidates(cats[line], mask, values)
        else:
            continue
        if len(cands):
            broken.append([(int(i), line[1]) if column else (line[0], int(i)) for i in cands])
    return broken


def _category_candidates(cats, hidden, line) -> np.ndarray:
    """Rule (d): shown non-empty cells of a line that would break its hidden cells' all-or-none pattern in a
    category (empty when there is none)."""
    answers = cats.sum(axis=1)
    in_hidden, in_line = cats[hidden].sum(axis=0), cats.sum(axis=0)
    for k in range(cats.shape[1]):
        if in_hidden[k] == 0 and in_line[k] > 0:
            want = cats[:, k] > 0
        elif in_hidden[k] == answers[hidden].sum() and in_line[k] < answers.sum():
            want = cats[:, k] < answers
        else:
            continue
        return np.flatnonzero(~hidden & (line > 0) & want)
    return np.array([], dtype="int64")


def _unfixing_cell(n, hidden, totals, row_totals, lines, target):
    """A visible non-empty cell whose hiding leaves ``target`` (a cell (r, g), or a column total (None, g))
    undetermined — the cells of ``lines`` (its row and column) first, smallest first, then any other; else the
    smallest of ``lines`` (or of all), from which the line rules go on; None when every non-empty cell is hidden."""
    visible = ~hidden & (n > 0)
    near = np.zeros_like(hidden)
    for line in lines:
        near[line] = True
    ordered = [tuple(rc) for mask in (near & visible, ~near & visible)
               for rc in sorted(map(tuple, np.argwhere(mask)), key=lambda rc: (n[rc], rc))]
    if not ordered:
        return None
    r, g = target
    for cell in ordered:
        trial = hidden.copy()
        trial[cell] = True
        cells, tots = determined(n, trial, totals, row_totals)
        if not (tots[g] if r is None else cells[r, g]):
            return cell
    return ordered[0]


def determined(counts, hidden, hidden_totals=None, row_totals: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Which hidden cells (and hidden column totals) the published numbers fix exactly: the row totals (when
    ``row_totals``), the column totals (unknown where ``hidden_totals``), their grand total and the shown cells.

    The unknowns are the hidden cells and totals; each published line is one linear equation in them. An unknown
    is fixed when its unit vector lies in the equations' row space — its squared projection on the space spanned by
    the right singular vectors of the non-zero singular values is 1. (Subtraction of any combination of lines.)
    """
    n = np.asarray(counts, dtype="float64")
    hidden = np.asarray(hidden, dtype=bool)
    rows, cols = n.shape
    totals = np.zeros(cols, bool) if hidden_totals is None else np.asarray(hidden_totals, dtype=bool)
    cells = np.argwhere(hidden)
    tot = np.flatnonzero(totals)
    k, u = len(cells), len(cells) + len(tot)
    out_cells, out_totals = np.zeros_like(hidden), np.zeros(cols, bool)
    if u == 0:
        return out_cells, out_totals
    idx = np.arange(k)
    blocks = []
    if row_totals:
        a = np.zeros((rows, u))
        a[cells[:, 0], idx] = 1.0
        blocks.append(a)
    a = np.zeros((cols, u))
    a[cells[:, 1], idx] = 1.0
    a[tot, k + np.arange(len(tot))] = -1.0
    blocks.append(a)
    if len(tot):
        a = np.zeros((1, u))
        a[0, k:] = 1.0
        blocks.append(a)
    a = np.vstack(blocks)
    a = a[np.abs(a).sum(axis=1) > 0]
    _, s, vt = np.linalg.svd(a, full_matrices=False)
    rank = int((s > s.max() * max(a.shape) * np.finfo(float).eps).sum())
    fixed = (vt[:rank] ** 2).sum(axis=0) > 1 - 1e-8
    out_cells[cells[fixed[:k], 0], cells[fixed[:k], 1]] = True
    out_totals[tot[fixed[k:]]] = True
    return out_cells, out_totals


def suppress_counts(counts, min_cell: int) -> np.ndarray:
    """Mask for a published distribution (counts per category that sum to a published total, often shown as
    shares): hide what :func:`complementary_mask` hides. Use it for score distributions and category shares."""
    return complementary_mask(np.asarray(counts, dtype="float64"), check_min_cell(min_cell))


def require_group_size(n: int, min_cell: int, *, source: str | None = None, what: str = "rows", filters=None) -> None:
    """A whole report on fewer than ``min_cell`` people would identify them: refuse it with a DataError.

    Call it after ``filters`` (a fan-out job on a tiny region, say) are applied.
    """
    from loyaltylab.errors import DataError

    min_cell = check_min_cell(min_cell)
    if n < min_cell:
        scope = f" matching filters {filters}" if filters else ""
        raise DataError(source, None, f"only {n} {what}{scope}: fewer than min_cell={min_cell}, so the whole report "
                        "is suppressed to protect anonymity")
