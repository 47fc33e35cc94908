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
) -> pd.DataFrame:
    """The one suppression path: mark groups with fewer than ``min_cell`` people as suppressed and blank them.

    ``people`` (a column name or an array; default ``n_col``) is what ``min_cell`` counts — six answers from two
    customers are two people. ``value_cols`` (default: every numeric column but ``n_col``) are blanked in hidden
    rows, and so is the count itself unless ``hide_counts=False`` (a count of 3 is itself a small cell). With
    ``complementary`` (the default) further groups are hidden when the hidden ones could otherwise be recovered by
    subtracting the shown groups from a published total (:func:`complementary_mask`). An empty group (n = 0)
    identifies nobody: it stays visible with its 0. The ``people`` column, if named, is dropped from the result.
    """
    min_cell = check_min_cell(min_cell)
    out = table.copy()
    people_col = people if isinstance(people, str) else None
    sizes = out[people_col] if people_col else (out[n_col] if people is None else pd.Series(people, index=out.index))
    sizes = pd.to_numeric(sizes, errors="coerce").fillna(0).to_numpy(dtype="float64")
    small = complementary_mask(sizes, min_cell) if complementary else (sizes > 0) & (sizes < min_cell)
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


def linked_mask(counts, min_cell: int) -> np.ndarray:
    """Suppression for linked tables: ``counts[p, g]`` people of group ``g`` in part ``p`` of a batch (a region's
    report shows its row; the overall report shows the column totals).

    A cell is hidden when it has 1 to ``min_cell`` − 1 people; then, until nothing changes, every row and every
    column that hides anything hides at least two cells holding ``min_cell`` people or more together (the smallest
    further non-empty cells are added), so no hidden cell follows from a published total minus the shown cells of
    its row or of its column — within one report or across the reports of one batch.
    """
    n = np.asarray(counts, dtype="float64")
    min_cell = check_min_cell(min_cell)
    hidden = (n > 0) & (n < min_cell)
    changed = True
    while changed:
        changed = False
        for grid, mask in ((n, hidden), (n.T, hidden.T)):
            for line, line_hidden in zip(grid, mask):
                while line_hidden.any() and (line_hidden.sum() < 2 or line[line_hidden].sum() < min_cell):
                    candidates = np.flatnonzero(~line_hidden & (line > 0))
                    if not len(candidates):
                        break
                    line_hidden[candidates[np.argmin(line[candidates])]] = True
                    changed = True
    return hidden


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
