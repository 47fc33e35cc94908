"""The two loaders every analysis uses: the survey (responses) and the customers table.

Both read through :mod:`loyaltylab.io` (encodings, delimiters, Excel sheets, Parquet, column mapping, one-line
DataError), apply ``filters``, and refuse a whole report on fewer than ``min_cell`` people.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from loyaltylab import io, paths, privacy


@dataclass(frozen=True)
class Customers:
    """The customers table as read: ``frame`` (index = 0-based data row), its display ``source`` and the
    course world's ``truth`` when the file is course data (a truth.json beside it)."""

    frame: pd.DataFrame
    source: str
    path: str
    truth: dict | None = None
    filters: dict = field(default_factory=dict)


def load_customers(
    customers_path=None,
    *,
    filters: Mapping | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    min_cell: int = privacy.DEFAULT_MIN_CELL,
) -> Customers:
    """Read the customers file (None → the course data) as it is — no column mapping or type coercion, which the
    analysis does with its own column parameters — apply ``filters`` and refuse fewer than ``min_cell`` rows."""
    file = paths.resolve_input(customers_path, "customers")
    frame = io.read_raw(file, encoding=encoding, sheet=sheet)
    source = frame.attrs["loyaltylab"]["source"]
    filters = dict(filters or {})
    frame = io.apply_filters(frame, filters, source=source)
    privacy.require_group_size(len(frame), min_cell, source=source, what="customers", filters=filters)
    return Customers(frame=frame, source=source, path=paths.display_path(file), truth=paths.truth_for(file),
                     filters=filters)


# --- survey ---------------------------------------------------------------------------------------------------
