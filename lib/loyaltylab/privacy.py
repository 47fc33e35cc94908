"""Small-cell suppression (k-anonymity for reported groups): no group below ``min_cell`` is shown."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_MIN_CELL = 5


def check_min_cell(min_cell: int) -> int:
    if int(min_cell) != min_cell or min_cell < 1:
        raise ValueError(f"min_cell must be a positive integer, got {min_cell!r}")
    return int(min_cell)


def suppress(
    table: pd.DataFrame,
    n_col: str = "n",
    min_cell: int = DEFAULT_MIN_CELL,
    value_cols: Sequence[str] | None = None,
    hide_counts: bool = False,
    complementary: bool = True,
) -> pd.DataFrame:
    """Mark groups with fewer than ``min_cell`` members as suppressed and blank their statistics.

    ``value_cols`` defaults to every numeric column except ``n_col``. With ``hide_counts`` the count
    itself is blanked too (use it when the count alone would identify someone). With ``complementary``
    (the default) further groups are hidden when the hidden ones could otherwise be recovered by subtraction
    from the total (see :func:`complementary_mask`).
    """
    min_cell = check_min_cell(min_cell)
    out = table.copy()
    n = out[n_col].fillna(0).to_numpy(dtype="float64")
    small = complementary_mask(n, min_cell) if complementary else n < min_cell
    if value_cols is None:
        value_cols = [c for c in out.select_dtypes("number").columns if c != n_col]
    for col in value_cols:
        if small.any():
            out[col] = out[col].astype("float64") if pd.api.types.is_integer_dtype(out[col]) else out[col]
            out.loc[small, col] = np.nan
    if hide_counts and small.any():
        out[n_col] = out[n_col].astype("float64")
        out.loc[small, n_col] = np.nan
    out["suppressed"] = small
    return out


def visible(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a suppressed table that may be drawn in a chart."""
    return table.loc[~table["suppressed"]] if "suppressed" in table else table


def complementary_mask(n, min_cell: int) -> np.ndarray:
    """Primary suppression (n < min_cell) plus the smallest further groups until the hidden groups together hold
    0 or at least ``min_cell`` members — otherwise the total minus the shown groups would reveal them."""
    n = np.asarray(n, dtype="float64")
    hidden = n < min_cell
    total = n[hidden].sum()
    while 0 < total < min_cell and (~hidden).any():
        candidates = np.flatnonzero(~hidden)
        pick = candidates[np.argmin(n[candidates])]
        hidden[pick] = True
        total += n[pick]
    return hidden


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
