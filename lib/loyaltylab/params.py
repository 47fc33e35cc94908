"""The only parameter validators. Every analysis declares its parameters as a frozen dataclass of checked fields.

A check takes ``(value, name)`` and returns the normalised value or raises :class:`ParameterError` with the one
form ``parameters: name = value: rule``. Checks run when ``Params(...)`` is built — before any file is read — so a
typo such as ``confidence=95`` costs nothing. Each check carries ``bad`` example values; the contract test feeds
them to every analysis.

    @dataclass(frozen=True)
    class Params(params.Params):
        confidence: float = params.field(0.95, params.confidence)
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from loyaltylab.errors import ParameterError

Check = Callable[[Any, str], Any]


def _examples(*bad):
    def mark(check):
        check.bad = bad
        return check
    return mark


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


@_examples(95, 0, 1, "high", None, float("nan"))
def confidence(value, name: str = "confidence") -> float:
    """A two-sided confidence level in (0, 1)."""
    if not _is_real(value) or not 0 < float(value) < 1:
        raise ParameterError(name, value, "must be a level between 0 and 1 (e.g. 0.95, not 95)")
    return float(value)


@_examples(0, -1, 2.5, "5", None, float("inf"), True)
def min_cell(value, name: str = "min_cell") -> int:
    """The smallest group that may be shown: a whole number ≥ 1 (k-anonymity)."""
    if not _is_real(value) or float(value) != int(value) or int(value) < 1:
        raise ParameterError(name, value, "must be a whole number ≥ 1 (the smallest group that may be shown, "
                             "e.g. 5)")
    return int(value)


@_examples(1, 10, -0.1, "0.1", None)
def rate(value, name: str = "discount_rate") -> float:
    """An annual rate in [0, 1): 0 means none; 1 or more is a percentage typed as a whole number."""
    if not _is_real(value) or not 0 <= float(value) < 1:
        raise ParameterError(name, value, "must be a rate between 0 and 1 (0.10 for 10%; 0 = none)")
    return float(value)


@_examples(0, 1.5, 30, "0.3", None)
def share(value, name: str = "margin") -> float:
    """A share in (0, 1]."""
    if not _is_real(value) or not 0 < float(value) <= 1:
        raise ParameterError(name, value, "must be a share between 0 (excluded) and 1 (e.g. 0.3 for 30%)")
    return float(value)


@_examples("median", [1], float("nan"), True)
def optional_number(value, name: str) -> float | None:
    """A finite number, or None (the analysis' own default, e.g. the median)."""
    if value is None:
        return None
    if not _is_real(value):
        raise ParameterError(name, value, "must be a number, or None")
    return float(value)


@_examples(0, -5, "90", None, float("inf"))
def positive(value, name: str) -> float:
    """A finite number > 0."""
    if not _is_real(value) or float(value) <= 0:
        raise ParameterError(name, value, "must be a number greater than 0")
    return float(value)


@_examples(-1, "0", None, float("nan"))
def non_negative(value, name: str) -> float:
    """A finite number ≥ 0."""
    if not _is_real(value) or float(value) < 0:
        raise ParameterError(name, value, "must be a number ≥ 0")
    return float(value)


def whole(minimum: int = 1, maximum: int | None = None) -> Check:
    """A whole number in [minimum, maximum]."""
    bad = (minimum - 1, minimum + 0.5, "x", None) + ((maximum + 1,) if maximum is not None else ())

    @_examples(*bad)
    def check(value, name: str) -> int:
        ok = _is_real(value) and float(value) == int(value) and int(value) >= minimum
        if not ok or (maximum is not None and int(value) > maximum):
            upper = f" and ≤ {maximum}" if maximum is not None else ""
            raise ParameterError(name, value, f"must be a whole number ≥ {minimum}{upper}")
        return int(value)
    return check


def choice(*options, aliases: Mapping | None = None) -> Check:
    """One of ``options`` (case-insensitive for text; ``aliases`` map other spellings onto an option)."""
    aliases = {str(k).upper(): v for k, v in (aliases or {}).items()}

    @_examples("no-such-choice", 3.5, ["x"])
    def check(value, name: str):
        if value in options and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            key = value.strip().upper()
            for option in options:
                if isinstance(option, str) and option.upper() == key:
                    return option
            if key in aliases:
                return aliases[key]
        shown = ", ".join("None" if o is None else str(o) for o in options)
        raise ParameterError(name, value, f"must be one of {shown}")
    return check


@_examples(1, "yes", None, "True")
def boolean(value, name: str) -> bool:
    """True or False (not 'yes', not 1: YAML reads `yes` as True, but a typo should not pass silently)."""
    if not isinstance(value, bool):
        raise ParameterError(name, value, "must be True or False")
    return value


def _column(value, name: str, optional: bool) -> str | None:
    if value is None or (optional and value == ""):
        if optional:
            return None
        raise ParameterError(name, value, "must be a column name")
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(name, value, "must be a column name" + (" or None" if optional else ""))
    return value


@_examples(3, ["a", "b"], {"a": 1}, "", None)
def column(value, name: str) -> str:
    """A required column name (text)."""
    return _column(value, name, optional=False)


@_examples(3, ["a", "b"], {"a": 1})
def optional_column(value, name: str) -> str | None:
    """A column name, or None (the part that needs it is skipped)."""
    return _column(value, name, optional=True)


@_examples(3, [1, 2], {"a": 1}, [""], ["a", None])
def columns(value, name: str) -> tuple[str, ...]:
    """A list of column names (a single name is a list of one; None or [] is none)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(c, str) and c.strip() for c in value):
        raise ParameterError(name, value, "must be a list of column names, e.g. [\"segment\", \"region\"]")
    return tuple(dict.fromkeys(value))


@_examples(3, [1, 2], {"a": 1}, [""], ["a", None])
def optional_columns(value, name: str) -> tuple[str, ...] | None:
    """A list of column names, or None for the analysis' own default list (unlike :func:`columns`, where None
    means none)."""
    return None if value is None else columns(value, name)


@_examples(3, ["region"], "region=North")
def mapping(value, name: str) -> dict:
    """A mapping (None is empty), e.g. filters {"region": "North"} or a column map {"推荐值": "nps"}."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ParameterError(name, value, "must be a mapping, e.g. {\"region\": \"North\"} or {}")
    return dict(value)


@_examples(3, ["a.csv"], {"path": "a.csv"}, "")
def path(value, name: str) -> str | None:
    """An input file: a path as text, or None (the course data, or: skip this table)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(name, value, "must be a file path as text (or None for the course data)")
    return value


@_examples("30 June", 20260630, "2026-13-01", ["2026-06-30"])
def date(value, name: str) -> str | None:
    """An ISO date (``2026-06-30``) or None."""
    if value is None or value == "":
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            pass
    raise ParameterError(name, value, "must be a date as YYYY-MM-DD, or None")


@_examples(5, "utf8x", ["gbk"])
def encoding(value, name: str = "encoding") -> str | None:
    """A text encoding Python knows (``gbk``, ``utf-8-sig``, ``cp1252``), or None to detect it."""
    import codecs

    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParameterError(name, value, "must be an encoding name such as \"gbk\" or \"utf-8\", or None")
    try:
        codecs.lookup(value)
    except LookupError:
        raise ParameterError(name, value, "is not an encoding Python knows (try \"gbk\", \"utf-8\", "
                             "\"cp1252\")") from None
    return value


@_examples(-1, 2.5, ["Sheet1"])
def sheet(value, name: str = "sheet") -> str | int | None:
    """An Excel sheet: its name or 0-based position, or None for the only / first sheet."""
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    if _is_real(value) and float(value) == int(value) and int(value) >= 0:
        return int(value)
    raise ParameterError(name, value, "must be a sheet name or a position (0 = first), or None")


@_examples(3, "", ["P"], None)
def prefix(value, name: str) -> str:
    """A column-name prefix: ``"P"`` finds item 5 as column ``P5``, ``"P_"`` finds item ``rel1`` as ``P_rel1``."""
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(name, value, "must be a column-name prefix as text, e.g. \"P\" or \"P_\"")
    return value


@_examples(3, ["E"], {"a": 1})
def optional_prefix(value, name: str) -> str | None:
    """A column-name prefix, or None (the part that needs it is skipped)."""
    return None if value is None or value == "" else prefix(value, name)


@_examples([7, 1], [1], "1-7", 7, [1, "7"], [1, float("inf")], [True, 7])
def scale(value, name: str = "scale") -> tuple | None:
    """An answer scale [lowest, highest], e.g. [1, 7] or [1, 5]; None accepts any numbers."""
    if value is None:
        return None
    ok = (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
          and all(_is_real(v) for v in value) and float(value[0]) < float(value[1]))
    if not ok:
        raise ParameterError(name, value, "must be [lowest, highest] answer, e.g. [1, 7] or [1, 5], or None for any "
                             "numbers")
    return tuple(int(v) if float(v).is_integer() else float(v) for v in value)


def _item_id(value):
    if isinstance(value, str) and value.strip():
        return value
    if _is_real(value) and float(value).is_integer():
        return int(value)
    return None


@_examples(3, ["a"], {}, {"a": []}, {"a": 5}, {"a": [1, 1]}, {"": [1]}, {"a": [1], "b": [1]}, {"a": [None]},
           {"a": [1.5]})
def item_groups(value, name: str) -> dict:
    """Groups of questionnaire items, e.g. dimensions {"reliability": [5, 6, 7, 8, 9], "rel": ["rel1", "rel2"]}:
    text names, each a non-empty list of distinct item ids (whole numbers or text), no item in two groups."""
    rule = ("must map each group to its item ids, e.g. {\"reliability\": [5, 6, 7, 8, 9], \"empathy\": [18, 19]}, "
            "each item in one group")
    if not isinstance(value, Mapping) or not value:
        raise ParameterError(name, value, rule)
    out, seen = {}, set()
    for group, items in value.items():
        if not isinstance(group, str) or not group.strip() or isinstance(items, (str, bytes)) \
                or not isinstance(items, Sequence) or not items:
            raise ParameterError(name, value, rule)
        ids = tuple(_item_id(i) for i in items)
        if any(i is None for i in ids) or len({str(i) for i in ids}) != len(ids) or seen & {str(i) for i in ids}:
            raise ParameterError(name, value, rule)
        seen |= {str(i) for i in ids}
        out[group] = ids
    return out


def any_value(value, name: str):
    """No check (the value is a plain value already; the report runner refuses anything else)."""
    return value


any_value.bad = ()


def field(default, check: Check, **kwargs):
    """A dataclass field whose value is validated by ``check`` when the Params object is built."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("use a tuple or None for a default, not a mutable value")
    return dataclasses.field(default=default, metadata={"check": check, **kwargs})


class Params:
    """Base of every analysis' frozen ``Params`` dataclass: checks and normalises each field on construction."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            if check is not None:
                object.__setattr__(self, f.name, check(getattr(self, f.name), f.name))
        self.check_together()

    def check_together(self) -> None:
        """Rules that involve several parameters; override (raise ParameterError)."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def defaults(cls) -> dict:
        return {f.name: f.default for f in dataclasses.fields(cls)}

    @classmethod
    def from_namespace(cls, namespace: Mapping, **overrides):
        """Build from a notebook's globals: every field taken by name (a missing one keeps its default)."""
        values = {n: namespace[n] for n in cls.names() if n in namespace}
        return cls(**{**values, **overrides})

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def bad_examples(params_cls) -> list[tuple[str, object]]:
    """(field, bad value) pairs for every checked field: what the contract test feeds each analysis."""
    out = []
    for f in dataclasses.fields(params_cls):
        check = f.metadata.get("check")
        for bad in getattr(check, "bad", ()):
            out.append((f.name, bad))
    return out
