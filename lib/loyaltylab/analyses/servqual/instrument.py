"""The questionnaire as the file has it: which dimensions are scored, which columns hold each item's expectation,
perception (and adequate / desired service) answers, outcomes and stated importance — and the item matrices.

A researcher's instrument rarely has exactly Parasuraman, Zeithaml & Berry's 22 items. ``dimensions`` maps each
dimension to its item ids and the prefixes find the columns: item ``5`` with prefixes ``E`` / ``P`` is ``E5`` /
``P5``; item ``rel1`` with ``E_`` / ``P_`` is ``E_rel1`` / ``P_rel1``. What the file lacks is left out with a note;
only "no dimension has all its perception items" is an error.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loyaltylab import i18n, io, params
from loyaltylab.constants import DIMENSIONS
from loyaltylab.errors import DataError
from loyaltylab.i18n import Both

PZB_DIMENSIONS: dict[str, tuple[int, ...]] = {d: tuple(spec["items"]) for d, spec in DIMENSIONS.items()}
"""The 22-item SERVQUAL of Parasuraman, Zeithaml & Berry (1988): tangibles 1–4, reliability 5–9, responsiveness
10–13, assurance 14–17, empathy 18–22 (the course data's items)."""


def check_dimensions(value, name: str = "dimensions") -> dict:
    """Dimension → item ids (:func:`loyaltylab.params.item_groups`); None is the 22-item PZB map."""
    return dict(PZB_DIMENSIONS) if value is None else params.item_groups(value, name)


check_dimensions.bad = params.item_groups.bad


def label(dimension: str, bilingual: bool = False) -> str:
    """'Reliability' / 'Reliability (可靠性)' for the five SERVQUAL dimensions; any other name as it is."""
    spec = DIMENSIONS.get(dimension)
    if spec is None:
        return str(dimension)
    return f"{spec['en']} ({spec['zh']})" if bilingual else spec["en"]


def reader_label(dimension: str, bilingual: bool = False) -> str:
    """:func:`label` for a reader of the current language: Chinese alone in ``zh``; in ``both`` the bilingual label
    ('Reliability (可靠性)'), or '可靠性 / Reliability' on a chart; unchanged in English."""
    spec = DIMENSIONS.get(dimension)
    if spec is None or i18n.current() == "en":
        return label(dimension, bilingual)
    if i18n.current() == "zh":
        return spec["zh"]
    return label(dimension, True) if bilingual else f"{spec['zh']} / {spec['en']}"


@dataclass(frozen=True)
class Instrument:
    """The scored part of the questionnaire.

    ``dimensions``: dimension → item keys (text) of the dimensions whose perception items are all in the file.
    ``perception`` / ``expectation`` / ``adequate`` / ``desired``: item key → column (None when that set is not
    analysed). ``outcomes``: outcome columns found. ``importance``: dimension → stated-importance column (None when
    the file lacks one of them). ``notes``: what was left out and why (plain text; escaped when shown).
    """

    dimensions: dict[str, tuple[str, ...]]
    perception: dict[str, str]
    expectation: dict[str, str] | None
    adequate: dict[str, str] | None
    desired: dict[str, str] | None
    outcomes: tuple[str, ...]
    importance: dict[str, str] | None
    notes: tuple[str, ...] = field(default=())

    @property
    def mode(self) -> str:
        """'servqual' (gaps P − E) or 'servperf' (perceptions only)."""
        return "servqual" if self.expectation is not None else "servperf"

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(i for items in self.dimensions.values() for i in items)

    @property
    def has_zone(self) -> bool:
        return self.adequate is not None and self.desired is not None

    def item_dimension(self) -> dict[str, str]:
        return {i: d for d, items in self.dimensions.items() for i in items}

    def columns(self, which: str) -> list[str]:
        """The columns of one answer set ('perception', 'expectation', 'adequate', 'desired') in item order."""
        mapping = getattr(self, which)
        return [] if mapping is None else [mapping[i] for i in self.items]


def candidate_columns(p) -> list[str]:
    """Every survey column the parameters could name (kept by the loader when the file has them)."""
    prefixes = [x for x in (p.perception_prefix, p.expectation_prefix, p.adequate_prefix, p.desired_prefix) if x]
    cols = [f"{pre}{i}" for pre in prefixes for items in p.dimensions.values() for i in items]
    cols += list(p.outcome_cols) + list(importance_columns(p).values())
    return list(dict.fromkeys(cols))


def importance_columns(p) -> dict[str, str]:
    """Dimension → the stated-importance column the parameters name (``importance_columns``, else the prefix)."""
    out = {}
    for dim in p.dimensions:
        if p.importance_columns and dim in p.importance_columns:
            out[dim] = str(p.importance_columns[dim])
        elif p.importance_prefix:
            out[dim] = f"{p.importance_prefix}{dim}"
    return out


ANSWER_SETS_ZH = {"expectation": "期望", "adequate-service": "适当服务", "desired-service": "理想服务"}
"""The answer sets' names in Chinese (notes on what the file lacks)."""


def _answer_set(frame_columns, dimensions, prefix: str | None, what: str, notes: list[str]) -> dict | None:
    """Item key → column for one answer set when the file has every item of every scored dimension, else None
    (with a note when the file has some of them)."""
    if not prefix:
        return None
    cols = {str(i): f"{prefix}{i}" for items in dimensions.values() for i in items}
    missing = [c for c in cols.values() if c not in frame_columns]
    what_zh = ANSWER_SETS_ZH.get(what, what)
    if missing and len(missing) < len(cols):
        notes.append(Both(f"{what} left out: column '{missing[0]}' is not in the survey ({len(missing)} of "
                          f"{len(cols)} missing)",
                          f"未分析{what_zh}：问卷中没有“{missing[0]}”列（{len(cols)} 列中缺 {len(missing)} 列）"))
    elif missing:
        first = next(iter(cols.values()))
        notes.append(Both(f"no {what} columns ({first}, …) in the survey",
                          f"问卷中没有{what_zh}列（{first}, …）"))
    return None if missing else cols


def resolve(frame_columns, p, source: str | None = None) -> Instrument:
    """Match the parameters to the columns the loaded survey has."""
    frame_columns = set(frame_columns)
    notes: list[str] = []
    scored = {}
    first_missing = None
    for dim, items in p.dimensions.items():
        missing = [f"{p.perception_prefix}{i}" for i in items if f"{p.perception_prefix}{i}" not in frame_columns]
        if missing:
            first_missing = first_missing or missing[0]
            notes.append(Both(f"dimension '{dim}' left out: perception column '{missing[0]}' is not in the survey",
                              f"未分析维度“{dim}”：问卷中没有感知列“{missing[0]}”"))
        else:
            scored[dim] = tuple(str(i) for i in items)
    if not scored:
        raise DataError(source, first_missing, "no dimension has all its perception items in the survey (columns "
                        f"are the perception_prefix '{p.perception_prefix}' + the item ids of dimensions)")
    perception = {i: f"{p.perception_prefix}{i}" for items in scored.values() for i in items}
    expectation = _answer_set(frame_columns, scored, p.expectation_prefix, "expectation", notes)
    if p.expectation_prefix and expectation is None:
        notes[-1] += Both(": perceptions only (SERVPERF), no gaps", "：仅分析感知（SERVPERF），不计算差距")
    adequate = _answer_set(frame_columns, scored, p.adequate_prefix, "adequate-service", notes)
    desired = _answer_set(frame_columns, scored, p.desired_prefix, "desired-service", notes)
    if (p.adequate_prefix or p.desired_prefix) and (adequate is None or desired is None):
        notes.append(Both("no zone of tolerance: it needs both adequate- and desired-service columns",
                          "无法分析容忍区间：需要同时有适当服务列和理想服务列"))
        adequate = desired = None
    outcomes = tuple(c for c in p.outcome_cols if c in frame_columns)
    absent = [c for c in p.outcome_cols if c not in frame_columns]
    if absent:
        notes.append(Both(f"outcome column(s) not in the survey: {', '.join(absent)}",
                          f"问卷中没有以下结果变量列：{', '.join(absent)}"))
    wanted = {d: c for d, c in importance_columns(p).items() if d in scored}
    importance = wanted if wanted and all(c in frame_columns for c in wanted.values()) else None
    if wanted and importance is None:
        gone = next(c for c in wanted.values() if c not in frame_columns)
        notes.append(Both(f"no stated importance: column '{gone}' is not in the survey",
                          f"没有自述重要性：问卷中没有“{gone}”列"))
    return Instrument(scored, perception, expectation, adequate, desired, outcomes, importance, tuple(notes))


def item_matrix(frame: pd.DataFrame, columns, scale, source: str | None = None) -> np.ndarray:
    """The answers of ``columns`` as a float matrix (NaN = not answered), each checked against ``scale`` ([low,
    high], or None: any number): text or an answer off the scale is a one-line DataError naming the rows."""
    low, high = (None, None) if scale is None else scale
    out = np.empty((len(frame), len(columns)))
    for j, col in enumerate(columns):
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            x = s.to_numpy(dtype="float64", na_value=np.nan)
            bad = np.isinf(x) | ((x < low) | (x > high) if scale is not None else False)
            if np.any(bad):
                io.coerce_numeric(frame, col, source=source, min_value=low, max_value=high)  # raises the message
                raise DataError.from_mask(source, col, "not a finite number", s, bad)
        else:
            x = io.coerce_numeric(frame, col, source=source, min_value=low, max_value=high).to_numpy()
        out[:, j] = x
    return out


def stated_weights(frame: pd.DataFrame, importance: Mapping[str, str] | None, source: str | None = None):
    """Each response's stated importance points normalised to sum 1 across the dimensions (n × D; NaN rows where
    points are missing or sum to 0). Points given as 0–100 and left unnormalised would make a weighted score 100×
    too large — the common confusion this avoids."""
    if importance is None:
        return None
    points = np.column_stack([io.coerce_numeric(frame, c, source=source, min_value=0).to_numpy()
                              for c in importance.values()])
    total = points.sum(axis=1)
    ok = np.isfinite(total) & (total > 0)
    out = np.full(points.shape, np.nan)
    out[ok] = points[ok] / total[ok, None]
    return out
