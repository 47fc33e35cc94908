"""The exceptions users see — bad data, a bad parameter, a bad batch config — each one line."""
from __future__ import annotations

from collections.abc import Sequence

MAX_EXAMPLES = 5


class DataError(ValueError):
    """Bad input: names the file, the column, the rule broken and the first offending rows.

    ``rows`` are spreadsheet-style row numbers (the header is row 1, the first data row is row 2),
    so a user can jump straight to them in Excel or a text editor.
    """

    def __init__(
        self,
        source: str | None,
        column: str | None,
        rule: str,
        rows: Sequence[int] = (),
        values: Sequence[object] = (),
        n_bad: int | None = None,
    ):
        self.source = str(source) if source is not None else "<data>"
        self.column = column
        self.rule = rule
        self.rows = list(rows)
        self.values = list(values)
        self.n_bad = len(self.rows) if n_bad is None else int(n_bad)
        super().__init__(self._format())

    def _render_traceback_(self) -> list[str]:
        """IPython/Jupyter show this instead of a traceback: the one line is all a user needs."""
        return [f"\x1b[31mDataError\x1b[0m: {self}"]

    def _format(self) -> str:
        parts = [self.source]
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        parts.append(self.rule)
        line = ": ".join(parts)
        if self.n_bad:
            examples = ", ".join(
                f"row {r} ({_short(v)})" for r, v in zip(self.rows[:MAX_EXAMPLES], self.values[:MAX_EXAMPLES])
            )
            noun = "row" if self.n_bad == 1 else "rows"
            line += f": {self.n_bad} {noun}"
            if examples:
                line += f", e.g. {examples}"
        return line.replace("\n", " ")

    @classmethod
    def from_mask(cls, source, column, rule, series, bad_mask) -> DataError:
        """Build the error from a boolean mask over a Series whose index is the 0-based data row."""
        bad = series[bad_mask]
        rows = [spreadsheet_row(i) for i in bad.index[:MAX_EXAMPLES]]
        return cls(source, column, rule, rows, list(bad.iloc[:MAX_EXAMPLES]), n_bad=int(bad_mask.sum()))


def spreadsheet_row(index_label) -> int | object:
    """0-based data row → the row number a user sees in a spreadsheet (header is row 1)."""
    try:
        return int(index_label) + 2
    except (TypeError, ValueError):
        return index_label


def _short(value: object, width: int = 30) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


PARAMETERS = "parameters"
"""The ``source`` of every :class:`ParameterError`: the message reads ``parameters: name = value: rule``."""


class ParameterError(DataError):
    """A bad notebook / analysis parameter, raised before any file is read.

    One form for every analysis: ``parameters: confidence = 95: must be a level between 0 and 1 (e.g. 0.95)``.
    A subclass of DataError so a notebook shows it as one line and callers catching bad input catch it too.
    """

    def __init__(self, name: str, value: object, rule: str):
        self.name = name
        self.value = value
        super().__init__(PARAMETERS, None, f"{name} = {_short(value, 60)}: {rule}")

    def __reduce__(self):
        return (self.__class__, (self.name, self.value, self.rule.split(": ", 1)[-1]))


class ConfigError(DataError):
    """A bad reports.yml, job selection or ``-p`` value; one line naming the file and what is wrong."""

    def __init__(self, source: object, message: str):
        super().__init__(str(source), None, message)

    def __reduce__(self):  # picklable despite the custom signature
        return (self.__class__, (self.source, self.rule))
