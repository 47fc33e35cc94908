"""From the files to the frame the driver analysis models: one row per survey response with the outcome, the
drivers, the controls (text controls as dummy columns), who answered and the segment columns.

Where each named column comes from
    1. the survey, when it has a column of that name (after ``columns``);
    2. a SERVQUAL dimension name (tangibles, reliability, …) whose perception items P1…P22 are in the survey: the
       respondent's dimension score, :func:`loyaltylab.measures.dimension_scores` (the one definition);
    3. the customers file (``customers_path``, else a customers file beside the survey), joined on customer_id.

The outcome ``promoter`` is 1 for an nps score of 9–10 and 0 otherwise (a logistic decomposition). Optional
columns the files lack — ``cluster_col``, segment columns — are left out with a note, so a file with just an
outcome and its driver columns runs with the default parameters otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab import io, loaders, measures, paths, privacy
from loyaltylab.constants import DIMENSIONS, PROMOTER_MIN
from loyaltylab.errors import DataError
from loyaltylab.stats import clustered

from .words import Note

PROMOTER = "promoter"
"""The outcome name that means "an nps score of 9–10" (1) against every other score (0)."""
LOYALTY_OUTCOMES = ("nps", "satisfaction", "repurchase_intent")
STATED_PREFIX = "importance_"
"""Stated importance of driver ``d`` is the survey column ``importance_<d>`` (points), when every driver has one."""
CLUSTER = "__cluster"


@dataclass(frozen=True)
class DriverData:
    """What the analysis reads.

    ``frame``: every response kept (index = the survey's data row) with the outcome (under ``outcome``), each
    driver, each control column of the model (``control_columns``: numbers, or 0/1 dummies of a text control named
    ``control[level]``, the most frequent level left out), ``__cluster`` (who answered, when known), the segment
    columns and, for the explorer, the other loyalty outcomes and dimension scores the survey has. ``complete``
    marks the rows with every model column (outcome, drivers, controls) — the rows every estimate uses.
    ``stated``: stated importance points per response (one column per driver) or None.
    """

    frame: pd.DataFrame
    complete: np.ndarray
    outcome: str
    drivers: tuple[str, ...]
    controls: tuple[str, ...]
    control_columns: tuple[str, ...]
    groups: dict
    default_drivers: bool
    segment_cols: tuple[str, ...]
    cluster_col: str | None
    stated: pd.DataFrame | None
    inputs: dict
    source: str
    truth: dict | None
    filters: dict
    n_read: int
    explore_outcomes: tuple[str, ...] = ()
    explore_drivers: tuple[str, ...] = ()
    from_customers: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    sources: dict = field(default_factory=dict)

    @property
    def is_course(self) -> bool:
        """Course data: a truth.json lies beside the survey."""
        return self.truth is not None

    @property
    def model(self) -> pd.DataFrame:
        """The complete rows of the model columns (outcome, drivers, control columns) as float64."""
        cols = [self.outcome, *self.drivers, *self.control_columns]
        return self.frame.loc[self.complete, cols].astype("float64")

    @property
    def clusters(self) -> np.ndarray | None:
        """Cluster codes of the complete rows (None: every response independent)."""
        if CLUSTER not in self.frame:
            return None
        return clustered.cluster_codes(self.frame.loc[self.complete], CLUSTER)

    @property
    def n(self) -> int:
        return int(self.complete.sum())

    @property
    def n_incomplete(self) -> int:
        return self.n_read - self.n


def _customers_file(survey_file: Path, customers_path) -> Path | None:
    """``customers_path``, else a customers file beside the survey, else None."""
    if customers_path not in (None, ""):
        return paths.resolve_input(customers_path, "customers")
    for suffix in dict.fromkeys((survey_file.suffix, ".csv", ".parquet", ".xlsx")):
        candidate = survey_file.with_name("customers" + suffix)
        if candidate.exists():
            return candidate
    return None


class _Resolver:
    """Finds each named column: survey, then dimension score, then customers file (read once, when needed)."""

    def __init__(self, p, survey: loaders.SurveyData, survey_file: Path):
        self.p, self.s, self.source = p, survey.frame, survey.source
        self.customers_file = _customers_file(survey_file, p.customers_path)
        self._customers = None
        self._dims = None
        self.joined: list[str] = []
        self.customers_source = None

    @property
    def dimensions(self) -> pd.DataFrame:
        """The perception dimension scores the survey's P items allow (the one definition, measures)."""
        if self._dims is None:
            items = [c for d in DIMENSIONS for c in measures.dimension_items(d, "P") if c in self.s]
            num = pd.DataFrame({c: io.coerce_numeric(self.s, c, source=self.source) for c in items},
                               index=self.s.index)
            self._dims = measures.dimension_scores(num)
        return self._dims

    def customers(self) -> pd.DataFrame | None:
        if self._customers is None and self.customers_file is not None:
            loaded = loaders.load_customers(self.customers_file, encoding=self.p.encoding, sheet=self.p.sheet,
                                            min_cell=self.p.min_cell)
            frame = io.map_columns(loaded.frame, "customers", self.p.customers_columns or None,
                                   source=loaded.source)
            self.customers_source = loaded.source
            self._customers = frame
        return self._customers

    def raw(self, name: str, param: str) -> pd.Series:
        """The column as read (text kept), one value per survey row."""
        if name in self.s:
            return self.s[name]
        if name in self.dimensions:
            return self.dimensions[name]
        c = self.customers()
        if c is None or name not in c:
            where = "the survey (nor its SERVQUAL perception items)" + (
                " nor the customers file" if c is not None else ", and there is no customers file")
            raise DataError(self.source, name, f"named in {param} but in neither {where}")
        if "customer_id" not in self.s or "customer_id" not in c:
            raise DataError(self.source, "customer_id", f"needed to join '{name}' from the customers file")
        ids = c["customer_id"]
        dup = ids.duplicated(keep=False) & ids.notna()
        if dup.any():
            raise DataError.from_mask(self.customers_source, "customer_id", "duplicated value (must be unique)",
                                      ids, dup)
        by_id = pd.Series(c[name].to_numpy(), index=ids.to_numpy())
        values = self.s["customer_id"].map(by_id)
        if values.notna().sum() == 0 and self.s["customer_id"].notna().any():
            raise DataError(self.source, "customer_id", f"no survey customer_id matches the customers file, so "
                            f"'{name}' cannot be joined")
        self.joined.append(name)
        return pd.Series(values.to_numpy(), index=self.s.index, name=name)

    def numeric(self, name: str, param: str) -> pd.Series:
        s = self.raw(name, param)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            return s.astype("float64")
        where = self.customers_source if name in self.joined else self.source
        return io.coerce_numeric(pd.DataFrame({name: s}), name, source=where)


def _dummies(values: pd.Series, name: str) -> pd.DataFrame:
    """0/1 columns ``name[level]`` of a text control, the most frequent level left out (missing stays missing)."""
    text = values.astype("object").where(values.notna(), None)
    counts = text.value_counts(sort=True)
    levels = sorted(counts.index, key=lambda v: (-counts[v], str(v)))[1:]
    out = pd.DataFrame({f"{name}[{lv}]": (text == lv).astype("float64") for lv in levels}, index=values.index)
    out.loc[text.isna()] = np.nan
    return out


def _controls(res: _Resolver, controls) -> tuple[pd.DataFrame, list[str]]:
    frames, notes = [], []
    for c in controls:
        raw = res.raw(c, "controls")
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            frames.append(pd.DataFrame({c: raw.astype("float64")}, index=raw.index))
            continue
        d = _dummies(raw, c)
        if d.shape[1] == 0:
            notes.append(Note(f"control '{c}' has one value only: left out", f"控制变量“{c}”只有一个取值：已略去"))
            continue
        frames.append(d)
    out = pd.concat(frames, axis=1) if frames else pd.DataFrame(index=res.s.index)
    return out, notes


def _outcome(res: _Resolver, outcome: str) -> pd.Series:
    if outcome != PROMOTER:
        return res.numeric(outcome, "outcome")
    if "nps" not in res.s:
        raise DataError(res.source, "nps", "outcome 'promoter' needs the 0–10 nps column in the survey")
    score = io.coerce_numeric(res.s, "nps", source=res.source, min_value=0, max_value=10, integer=True)
    return (score >= PROMOTER_MIN).astype("float64").where(score.notna())


def _drivers(p, res: _Resolver) -> tuple[tuple[str, ...], bool]:
    """The driver columns: as named, else the members of driver_groups, else the five dimension scores."""
    if p.drivers:
        return tuple(p.drivers), False
    if p.driver_groups:
        return tuple(m for members in p.driver_groups.values() for m in members), False
    dims = tuple(res.dimensions.columns)
    if not dims:
        raise DataError(res.source, None, "no SERVQUAL perception items (P1…P22) to score the five dimensions: name "
                        "the driver columns in the parameter drivers")
    return dims, True


def _stated(res: _Resolver, drivers, index) -> pd.DataFrame | None:
    """Stated importance points per response for every driver (``importance_<driver>``), or None."""
    cols = [STATED_PREFIX + d for d in drivers]
    if not all(c in res.s for c in cols):
        return None
    out = pd.DataFrame({d: io.coerce_numeric(res.s, STATED_PREFIX + d, source=res.source, min_value=0)
                        for d in drivers}, index=res.s.index)
    return out.loc[index]


def load(p) -> DriverData:
    """Read the survey (and the customers file when a named column lives there) as ``p`` says."""
    survey_file = paths.resolve_input(p.survey_path, "survey")
    named = [*(p.drivers or ()), *(m for ms in (p.driver_groups or {}).values() for m in ms), *p.controls]
    outcome_col = "nps" if p.outcome == PROMOTER else p.outcome
    keep = list(dict.fromkeys([outcome_col, *named, "customer_id", *LOYALTY_OUTCOMES]))
    survey = loaders.load_survey(
        survey_file, p.customers_path, score_col=None, segment_cols=p.segment_cols, date_col=None,
        comment_col=None, filters=p.filters, cluster_col=p.cluster_col, columns=p.columns,
        customers_columns=p.customers_columns, encoding=p.encoding, sheet=p.sheet, min_cell=p.min_cell,
        measures=("outcomes", "perceptions", "importance"), keep=keep, optional=True)
    res = _Resolver(p, survey, survey_file)
    notes = _skipped_notes(survey, p)
    drivers, default = _drivers(p, res)
    frame = pd.DataFrame({p.outcome: _outcome(res, p.outcome)}, index=survey.frame.index)
    for d in drivers:
        frame[d] = res.numeric(d, "drivers")
    controls, control_notes = _controls(res, p.controls)
    notes += control_notes
    clash = [c for c in controls.columns if c in frame]
    if clash:
        raise DataError(res.source, clash[0], "is both a driver (or the outcome) and a control")
    frame = frame.join(controls)
    if survey.cluster_col:
        frame[CLUSTER] = survey.frame["cluster_id"]
    for c in survey.segment_cols:
        if c not in frame:
            frame[c] = survey.frame[c]
    outcomes = [c for c in LOYALTY_OUTCOMES if c in survey.frame and c not in frame]
    for c in outcomes:
        frame[c] = io.coerce_numeric(survey.frame, c, source=res.source)
    if "nps" in survey.frame and p.outcome != PROMOTER and PROMOTER not in frame:
        score = frame["nps"] if "nps" in frame else io.coerce_numeric(survey.frame, "nps", source=res.source)
        if score.dropna().between(0, 10).all():
            frame[PROMOTER] = (score >= PROMOTER_MIN).astype("float64").where(score.notna())
    for c in res.dimensions.columns:
        if c not in frame:
            frame[c] = res.dimensions[c]
    model_cols = [p.outcome, *drivers, *controls.columns]
    complete = np.isfinite(frame[model_cols].to_numpy(dtype="float64", na_value=np.nan)).all(axis=1)
    if survey.cluster_col:
        complete &= frame[CLUSTER].notna().to_numpy()
    data = DriverData(
        frame=frame, complete=complete, outcome=p.outcome, drivers=drivers, controls=tuple(p.controls),
        control_columns=tuple(controls.columns), groups=dict(p.driver_groups or {}), default_drivers=default,
        segment_cols=tuple(survey.segment_cols), cluster_col=survey.cluster_col, stated=_stated(
            res, drivers, frame.index), inputs=_inputs(survey, res), source=res.source, truth=survey.truth,
        filters=dict(p.filters or {}), n_read=len(frame),
        explore_outcomes=tuple(dict.fromkeys([p.outcome, *[c for c in (*LOYALTY_OUTCOMES, PROMOTER)
                                                           if c in frame]])),
        explore_drivers=tuple(dict.fromkeys([*drivers, *res.dimensions.columns])),
        from_customers=tuple(dict.fromkeys(res.joined)), notes=tuple(notes),
        sources={"survey": res.source, "customers": res.customers_source})
    _require_people(data, p.min_cell)
    return data


def _inputs(survey: loaders.SurveyData, res: _Resolver) -> dict:
    inputs = dict(survey.inputs)
    if res.joined and res.customers_file is not None:
        inputs["customers"] = paths.display_path(res.customers_file)
    return inputs


def _skipped_notes(survey: loaders.SurveyData, p) -> list[str]:
    out = []
    for col in survey.skipped:
        if col == p.cluster_col:
            out.append(Note(f"no '{col}' column: every response is treated as a different respondent",
                            f"没有“{col}”列：每条回答都视为来自不同的受访者"))
        else:
            out.append(Note(f"segment column '{col}' is in neither the survey nor a customers file: left out",
                            f"细分列“{col}”既不在调查文件中，也不在客户文件中：已略去"))
    return out


def _require_people(data: DriverData, min_cell: int) -> None:
    """No report on fewer than ``min_cell`` complete responses, nor on fewer than ``min_cell`` respondents."""
    privacy.require_group_size(data.n, min_cell, source=data.source, what="complete responses (outcome, drivers "
                               "and controls all answered)", filters=data.filters)
    codes = data.clusters
    if codes is not None:
        privacy.require_group_size(len(np.unique(codes)), min_cell, source=data.source,
                                   what=f"respondents (distinct {data.cluster_col})", filters=data.filters)
