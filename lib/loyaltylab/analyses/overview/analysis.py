"""The data overview: what a user must know before analysing — sizes, date ranges, gaps, distributions, warnings.

``analyze(Params(...))`` reads and validates every table, then computes the summary tables (:mod:`.tables`) and the
distributions (:mod:`.distributions`: the NPS score distribution exactly as 01_nps publishes it, SERVQUAL dimension
means from :func:`loyaltylab.measures.dimension_scores`, suppressed histograms of tenure and revenue).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from loyaltylab import io, params, paths, privacy, results
from loyaltylab.analyses.base import AnalysisResult
from loyaltylab.analyses.overview import distributions, tables
from loyaltylab.errors import ParameterError

NOTEBOOK = "00_data_overview.ipynb"
NOTEBOOK_ONLY = ("language", "interactive", "output_dir")
ANALYSIS = "overview"
HEADLINE_ORDER = ("Customers", "Responses", "Incidents", "Warnings")
HISTOGRAM_COLUMNS = ("tenure_days", "monthly_revenue")


@dataclass(frozen=True)
class Params(params.Params):
    """The parameters of notebooks/00_data_overview.ipynb (all but ``interactive`` and ``output_dir``).

    All paths None: the course data. When some are given, the tables left None are skipped — a user's own survey
    is never mixed with the course world's customers. ``columns`` maps a user's names per table, e.g.
    ``{"customers": {"customerID": "customer_id"}}``; ``filters`` restrict the customers table and follow to the
    other tables through ``customer_id``. ``encoding`` and ``sheet`` apply to every input file.
    """

    customers_path: str | None = params.field(None, params.path)
    survey_path: str | None = params.field(None, params.path)
    transactions_path: str | None = params.field(None, params.path)
    incidents_path: str | None = params.field(None, params.path)
    columns: dict | None = params.field(None, params.mapping)
    segment_cols: tuple[str, ...] = params.field(("segment", "channel", "region"), params.columns)
    snapshot_date: str | None = params.field(None, params.date)
    filters: dict | None = params.field(None, params.mapping)
    min_cell: int = params.field(privacy.DEFAULT_MIN_CELL, params.min_cell)
    encoding: str | None = params.field(None, params.encoding)
    sheet: str | int | None = params.field(None, params.sheet)

    def check_together(self) -> None:
        for table, mapping in self.columns.items():
            if table not in paths.TABLES:
                raise ParameterError("columns", self.columns,
                                     f"keys must be table names ({', '.join(paths.TABLES)}), each with a mapping "
                                     "of your column names onto the canonical ones")
            self.columns[table] = params.mapping(mapping, f"columns[{table}]")

    def table_paths(self) -> dict[str, str | None]:
        return {t: getattr(self, f"{t}_path") for t in paths.TABLES}


@dataclass(frozen=True)
class Overview(AnalysisResult):
    """Everything the overview notebook shows, computed once.

    ``data``: the validated tables as read (after filters); ``summary``, ``missing``, ``segments`` and ``warnings``
    as in results.json; ``nps_distribution`` (None without an NPS column), ``dimension_means`` (None without
    SERVQUAL items) and ``histograms`` ({column: binned counts}) are suppressed for ``params.min_cell``.
    """

    params: Params
    data: dict[str, pd.DataFrame]
    inputs: dict[str, str]
    summary: pd.DataFrame
    missing: pd.DataFrame
    segments: dict[str, pd.DataFrame]
    warnings: list[str] = field(default_factory=list)
    nps_distribution: pd.DataFrame | None = None
    dimension_means: pd.DataFrame | None = None
    histograms: dict[str, pd.DataFrame] = field(default_factory=dict)

    analysis = ANALYSIS

    @property
    def min_cell(self) -> int:
        return self.params.min_cell

    @property
    def rows(self) -> dict[str, int]:
        return {t: int(n) for t, n in self.summary.set_index("table")["rows"].items()}

    def headline(self) -> dict:
        rows = self.rows
        return {"Customers": rows.get("customers"), "Responses": rows.get("survey"),
                "Incidents": rows.get("incidents"), "Warnings": len(self.warnings)}

    def headline_order(self) -> list[str]:
        return list(HEADLINE_ORDER)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The published tables (standard columns ``n`` and ``suppressed`` where groups are counted)."""
        out = {"summary": self.summary, "missing": self.missing}
        out.update({f"segments_{col}": table for col, table in self.segments.items()})
        if self.nps_distribution is not None:
            out["nps_distribution"] = self.nps_distribution
        if self.dimension_means is not None:
            out["dimension_means"] = self.dimension_means
        out.update({f"histogram_{col}": table for col, table in self.histograms.items()})
        return out

    def key_findings(self) -> list[str]:
        from loyaltylab.analyses.overview import describe

        return describe.key_findings(self)

    def notes(self) -> list[str]:
        from loyaltylab.analyses.overview import describe

        return describe.suppression_notes(self)

    def to_results(self) -> dict:
        """The results.json document: the keys the overview always wrote plus the document keys."""
        summary = self.summary.set_index("table")
        missing = {t: {r.column: r.missing for r in g.itertuples()}
                   for t, g in self.missing.groupby("table", sort=True)}
        date_ranges = {t: {"first": row.first_date, "last": row.last_date}
                       for t, row in summary.iterrows() if pd.notna(row.first_date)}
        return results.document(
            ANALYSIS, params=self.params.as_dict(), inputs=self.inputs, headline=self.headline(),
            headline_order=self.headline_order(), tables=self.tables(), notes=self.notes(),
            rows=self.rows, missing=missing, date_ranges=date_ranges, warnings=list(self.warnings),
            segments=dict(self.segments),
        )


def load_tables(p: Params) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Read and validate each table (``io.read_table``: column maps, snapshot date, encoding, sheet); ``filters``
    apply to the customers table and follow to the other tables through ``customer_id``; a filtered customers table
    of fewer than ``min_cell`` customers is refused.

    The overview validates all four tables against their canonical rules, which :mod:`loyaltylab.loaders` (raw
    reads for analyses with their own column parameters) does not, so it reads through :mod:`loyaltylab.io`.
    """
    given = p.table_paths()
    use_course = all(v is None for v in given.values())
    files = {table: paths.resolve_input(path, table) for table, path in given.items()
             if path is not None or use_course}
    data, inputs = {}, {}
    for table in sorted(files, key=lambda t: -_size(files[t])):  # the largest first, while memory is free
        data[table] = io.read_table(files[table], table, columns=p.columns.get(table) or None,
                                    snapshot_date=p.snapshot_date, encoding=p.encoding, sheet=p.sheet)
    data = {table: data[table] for table in files}
    inputs = {table: paths.display_path(file) for table, file in files.items()}
    if p.filters and "customers" in data:
        customers = io.apply_filters(data["customers"], p.filters, source=inputs["customers"])
        privacy.require_group_size(len(customers), p.min_cell, source=inputs["customers"], what="customers",
                                   filters=p.filters)
        data["customers"] = customers
        keep = set(customers["customer_id"])
        for table, df in data.items():
            if table != "customers" and "customer_id" in df:
                data[table] = df[df["customer_id"].isin(keep)]
    return data, inputs


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:  # read_table names the problem
        return 0


def analyze(p: Params) -> Overview:
    """Load, validate and summarise the tables."""
    data, inputs = load_tables(p)
    customers = data.get("customers", pd.DataFrame())
    survey = data.get("survey")
    return Overview(
        params=p,
        data=data,
        inputs=inputs,
        summary=tables.table_summary(data),
        missing=tables.missing_values(data),
        segments=tables.segment_sizes(customers, p.segment_cols, p.min_cell),
        warnings=tables.quality_warnings(data, p.min_cell),
        nps_distribution=distributions.score_distribution(survey, p.min_cell),
        dimension_means=distributions.dimension_means(survey, p.min_cell),
        histograms={col: distributions.histogram(customers[col], p.min_cell)
                    for col in HISTOGRAM_COLUMNS if col in customers},
    )


def example_parameters(files: dict[str, Path]) -> dict:
    """The parameters that run the overview on a tiny user-shaped data set (the contract test's files)."""
    out = {f"{t}_path": str(files[t]) for t in paths.TABLES if t in files}
    if "segment_col" in files:
        out["segment_cols"] = [str(files["segment_col"])]
    return out
