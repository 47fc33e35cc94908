"""What every analysis result offers: headline numbers, tables in standard columns, key findings, results.json."""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

STANDARD_COLUMNS = ("estimate", "ci_low", "ci_high", "p_value", "p_adjusted", "significant", "n", "suppressed")
"""The column names every result table uses for what they mean (other columns keep their own names)."""


def standard_table(table: pd.DataFrame, rename: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``table`` with its columns renamed onto :data:`STANDARD_COLUMNS` (e.g. ``{"nps": "estimate"}``)."""
    out = table.rename(columns=dict(rename or {}))
    missing = [c for c in (rename or {}).values() if c not in out]
    if missing:
        raise KeyError(f"columns {missing} not in the table")
    return out


class AnalysisResult:
    """Mixin for each analysis' frozen result dataclass.

    Subclasses set ``analysis`` (the registered name) and implement :meth:`headline`, :meth:`tables`,
    :meth:`key_findings` and :meth:`to_results` (built with :func:`loyaltylab.results.document`).
    """

    analysis: str = ""

    def headline(self) -> dict:
        raise NotImplementedError

    def headline_order(self) -> list[str]:
        return list(self.headline())

    def tables(self) -> dict[str, pd.DataFrame]:
        return {}

    def key_findings(self) -> list[str]:
        raise NotImplementedError

    def to_results(self) -> dict:
        raise NotImplementedError
