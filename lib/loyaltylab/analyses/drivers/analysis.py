"""The loyalty-driver analysis of notebook 03: parameters, the whole run and its result.

``analyze(Params(...))`` reads the survey (and the customers file when a named column lives there, data.py),
decomposes the outcome over the drivers with every relative-importance measure and its cluster bootstrap
(importance.py; groups.py for driver groups, logistic.py for promoter vs not), draws the key-driver chart's table
and the derived-vs-stated comparison (keydrivers.py), the penalty–reward asymmetry (kano.py), the importances by
segment (segments.py) and, on the course data, compares the shares with the truth (truth.py). The
:class:`DriversReport` has the shared result shape (headline, tables, key findings, results.json).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import params, privacy, results
from loyaltylab.analyses.base import AnalysisResult
from loyaltylab.errors import ParameterError

from . import data as data_mod
from . import importance, kano, keydrivers, segments, truth
from .data import PROMOTER, DriverData
from .words import Note

NOTEBOOK = "03_loyalty_drivers.ipynb"
NOTEBOOK_ONLY = ("language", "interactive", "output_dir")
ANALYSIS = "drivers"
CORRECTION = "holm"


def _examples(*bad):
    def mark(check):
        check.bad = bad
        return check
    return mark


@_examples(3, ["a"], {"g": []}, {"g": "x"}, {"g": ["x", "x"]}, {"": ["x"]}, {"g": ["x"], "h": ["x"]},
           {"g": [1, 2]}, {"g": ["x", ""]})
def check_driver_groups(value, name: str = "driver_groups") -> dict | None:
    """Groups of driver columns that enter the model as one unit, e.g. {"reliability": ["P5", "P6", "P7", "P8",
    "P9"]}; None or {} for none. Each group a name and a non-empty list of distinct column names, no column in two
    groups."""
    rule = ("must map each group name to its driver columns, e.g. {\"reliability\": [\"P5\", \"P6\"]}, each column in "
            "one group (or None)")
    if value is None or (isinstance(value, Mapping) and not value):
        return None
    if not isinstance(value, Mapping):
        raise ParameterError(name, value, rule)
    out, seen = {}, set()
    for group, members in value.items():
        ok = (isinstance(group, str) and group.strip() and isinstance(members, Sequence)
              and not isinstance(members, (str, bytes)) and members
              and all(isinstance(m, str) and m.strip() for m in members) and len(set(members)) == len(members)
              and not seen & set(members))
        if not ok:
            raise ParameterError(name, value, rule)
        seen |= set(members)
        out[group] = tuple(members)
    return out


@dataclass(frozen=True)
class Params(params.Params):
    """The parameters of notebook 03 (same names and defaults), checked before any file is read."""

    survey_path: str | None = params.field(None, params.path)
    customers_path: str | None = params.field(None, params.path)
    columns: dict | None = params.field(None, params.mapping)
    customers_columns: dict | None = params.field(None, params.mapping)
    outcome: str = params.field("nps", params.column)
    drivers: tuple[str, ...] | None = params.field(None, params.optional_columns)
    controls: tuple[str, ...] = params.field((), params.columns)
    driver_groups: dict | None = params.field(None, check_driver_groups)
    cluster_col: str | None = params.field("customer_id", params.optional_column)
    segment_cols: tuple[str, ...] = params.field(("segment", "region"), params.columns)
    n_bootstrap: int = params.field(1000, params.whole(0, 100_000))
    seed: int = params.field(0, params.whole(0))
    min_cell: int = params.field(privacy.DEFAULT_MIN_CELL, params.min_cell)
    confidence: float = params.field(0.95, params.confidence)
    filters: dict | None = params.field(None, params.mapping)
    encoding: str | None = params.field(None, params.encoding)
    sheet: str | int | None = params.field(None, params.sheet)

    def check_together(self) -> None:
        named = [*(self.drivers or ())]
        if self.outcome in named or self.outcome in self.controls:
            raise ParameterError("outcome", self.outcome, "must not also be a driver or a control")
        both = [c for c in self.controls if c in named]
        if both:
            raise ParameterError("controls", list(self.controls), f"'{both[0]}' is also a driver")
        if 0 < self.n_bootstrap < 10:
            raise ParameterError("n_bootstrap", self.n_bootstrap, "must be 0 (no bootstrap) or at least 10 "
                                 "(1000 for stable 95% intervals)")
        groups = self.driver_groups or {}
        members = [m for ms in groups.values() for m in ms]
        if self.drivers and any(m not in self.drivers for m in members):
            missing = next(m for m in members if m not in self.drivers)
            raise ParameterError("driver_groups", dict(groups), f"'{missing}' is not one of the drivers")
        if groups and self.outcome == PROMOTER:
            raise ParameterError("driver_groups", dict(groups), "groups need a numeric outcome (not promoter)")
        if self.outcome in members or any(c in members for c in self.controls):
            raise ParameterError("driver_groups", dict(groups), "must not contain the outcome or a control")


def example_parameters(files: Mapping) -> dict:
    """The parameters that run this analysis on the contract test's tiny user-shaped data set."""
    return {"survey_path": str(files["survey"]), "customers_path": str(files["customers"]),
            "segment_cols": [files["segment_col"], "region"], "cluster_col": "customer_id", "n_bootstrap": 50}


@dataclass(frozen=True, eq=False)
class DriversReport(AnalysisResult):
    """Everything notebook 03 shows, computed once by :func:`analyze`.

    ``drivers``: one row per driver (or group) — every importance measure with its interval, ranks, standardised
    beta, VIF and performance (:data:`.importance.DRIVER_COLUMNS` + performance). ``key_drivers``: the IPA table;
    ``stated``: derived beside stated importance (None without importance points); ``kano``: penalty–reward;
    ``promoter``: the logistic decomposition of promoter vs not beside a 0–10 nps outcome (None otherwise);
    ``segments``: importances by segment (None without segment columns); ``truth``: estimated vs true shares
    (course data only); ``warnings``: reasons for care (kind, driver, other, value, reference, threshold).
    """

    params: Params
    data: DriverData
    decomposition: importance.Decomposition
    drivers: pd.DataFrame
    key_drivers: pd.DataFrame
    performance_scale: str
    stated: pd.DataFrame | None
    stated_summary: dict
    kano: pd.DataFrame
    promoter: importance.Decomposition | None
    segments: segments.SegmentImportance | None
    truth: pd.DataFrame | None
    warnings: pd.DataFrame
    notes: tuple[str, ...]

    analysis = ANALYSIS
    correction = CORRECTION

    @property
    def outcome(self) -> str:
        return self.data.outcome

    @property
    def n(self) -> int:
        return int(self.decomposition.linear.n)

    @property
    def r2(self) -> float:
        return self.decomposition.r2

    @property
    def boot(self):
        return self.decomposition.boot

    @property
    def is_course(self) -> bool:
        return self.data.is_course

    @property
    def cluster_col(self) -> str | None:
        return self.data.cluster_col

    def ranked(self) -> pd.DataFrame:
        """The drivers from the most important (largest LMG) down."""
        return self.drivers.sort_values(["rank", "driver"], kind="stable").reset_index(drop=True)

    def headline(self) -> dict:
        top = self.ranked().iloc[0]

        def r(x, k):
            return None if x is None or not np.isfinite(x) else round(float(x), k)

        return {"Outcome": self.outcome, "R²": r(self.r2, 3), "Top driver": str(top["driver"]),
                "Top share %": r(100 * top["lmg_share"], 1), "Responses": self.n}

    def tables(self) -> dict[str, pd.DataFrame]:
        from .results_doc import tables

        return tables(self)

    def key_findings(self) -> list[str]:
        from .describe import key_findings

        return key_findings(self)

    def to_results(self) -> dict:
        """The results.json document: the shared document keys plus this analysis' keys (issue 12's contract)."""
        from .results_doc import content

        return results.document(ANALYSIS, params=self.params.as_dict(), inputs=self.data.inputs,
                                headline=self.headline(), headline_order=self.headline_order(),
                                tables=self.tables(), notes=list(self.notes), **content(self))


# --- running it ------------------------------------------------------------------------------------------------


def load(p: Params) -> DriverData:
    """The survey (and customer columns) as ``p`` says; optional columns the files lack are left out with a note."""
    return data_mod.load(p)


def _promoter_beside(data: DriverData, dec: importance.Decomposition, p: Params) -> importance.Decomposition | None:
    """Beside a 0–10 nps outcome: the logistic decomposition of promoter vs not on the same rows (no bootstrap)."""
    if data.outcome != "nps" or PROMOTER not in data.frame or dec.grouped:
        return None
    rows = data.complete & data.frame[PROMOTER].notna().to_numpy()
    frame = data.frame.loc[rows, [PROMOTER, *data.drivers, *data.control_columns]].astype("float64")
    if frame[PROMOTER].nunique() < 2:
        return None
    return importance.decompose(frame, PROMOTER, data.drivers, data.control_columns, {}, None, n_boot=0,
                                seed=p.seed, confidence=p.confidence, logistic_outcome=True)


def run(data: DriverData, p: Params | None = None) -> DriversReport:
    """Every part of the driver analysis on loaded ``data`` (see the module and the notebook)."""
    p = Params() if p is None else p
    model, clusters = data.model, data.clusters
    dec = importance.decompose(model, data.outcome, data.drivers, data.control_columns, data.groups, clusters,
                               n_boot=p.n_bootstrap, seed=p.seed, confidence=p.confidence,
                               logistic_outcome=data.outcome == PROMOTER)
    table = dec.table()
    scores = kano.unit_scores(model, data.drivers, dec.units, dec.index)
    table["performance"] = scores.mean().reindex(dec.units).to_numpy()
    reps = dec.boot.replicates.get("lmg_share") if dec.boot is not None else None
    key, scale = keydrivers.key_drivers(scores, table, reps)
    stated = data.stated.loc[data.complete] if data.stated is not None and not dec.grouped else None
    stated_table, stated_summary = keydrivers.stated_vs_derived(stated, table)
    penalty = kano.penalty_reward(model, data.outcome, scores, clusters, confidence=p.confidence,
                                  min_cell=p.min_cell)
    notes = list(data.notes) + list(dec.notes)
    if data.n_incomplete:
        notes.append(Note(f"{data.n_incomplete:,} responses without the outcome, a driver or a control were left out",
                          f"{data.n_incomplete:,} 条缺少结果变量、驱动因素或控制变量的回答已略去"))
    by_segment = None
    if data.segment_cols and dec.kind == "linear":
        frame = data.frame.loc[data.complete]
        by_segment = segments.by_segment(model, {c: frame[c] for c in data.segment_cols}, clusters,
                                         len(data.drivers), list(dec.units),
                                         [list(ix) for ix in dec.index] if dec.grouped else None,
                                         n_boot=p.n_bootstrap, seed=p.seed + 1, confidence=p.confidence,
                                         min_cell=p.min_cell, correction=CORRECTION)
    elif data.segment_cols:
        notes.append(Note("importances by segment are computed for a numeric outcome, not for promoter vs not",
                          "分细分市场的重要性只对数值型结果变量计算，不对“是否为推荐者”计算"))
    comparison = None
    if truth.applies(data.truth, data.outcome, data.default_drivers, data.controls, dec.grouped, data.filters,
                     dec.kind):
        comparison = truth.truth_comparison(data.truth, data.outcome, table, dec.r2, dec.boot)
    return DriversReport(
        params=p, data=data, decomposition=dec, drivers=table, key_drivers=key, performance_scale=scale,
        stated=stated_table, stated_summary=stated_summary, kano=penalty, promoter=_promoter_beside(data, dec, p),
        segments=by_segment, truth=comparison, warnings=dec.linear.warnings, notes=tuple(notes))


def analyze(p: Params | Mapping | None = None) -> DriversReport:
    """Check the parameters (before any file is read), load the data and run everything: the notebook's one call.
    ``p`` is a :class:`Params` or a mapping of its fields."""
    if p is None or isinstance(p, Mapping):
        p = Params(**dict(p or {}))
    return run(load(p), p)
