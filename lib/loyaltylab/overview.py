"""Data overview: what a user must know before analysing — sizes, date ranges, gaps, distributions, warnings."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from loyaltylab import io, paths, privacy
from loyaltylab.constants import DETRACTOR_MAX, DIMENSIONS, PERCEPTION_ITEMS, PROMOTER_MIN, TABLES_DATE_COLUMNS
from loyaltylab.plots import NPS_COLORS, PALETTE


@dataclass(frozen=True)
class Overview:
    """Everything the overview notebook shows, computed once."""

    tables: dict[str, pd.DataFrame]
    inputs: dict[str, str]
    summary: pd.DataFrame
    missing: pd.DataFrame
    segments: dict[str, pd.DataFrame]
    warnings: list[str] = field(default_factory=list)


def load_tables(
    table_paths: Mapping[str, str | Path | None],
    snapshot_date: str | None = None,
    filters: Mapping[str, object] | None = None,
    columns: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Read and validate each table; ``filters`` apply to the customers table and follow to the other tables
    through ``customer_id``.

    When every path is None the course data is read. When some are given, the ones left None are skipped —
    a user's own survey is never mixed with the course world's customers.
    """
    tables, inputs = {}, {}
    use_course = all(p is None or str(p) == "" for p in table_paths.values())
    for table, given in table_paths.items():
        if not use_course and (given is None or str(given) == ""):
            continue
        path = paths.resolve_input(given, table)
        mapping = dict((columns or {}).get(table) or {})
        tables[table] = io.read_table(path, table, columns=mapping or None, snapshot_date=snapshot_date)
        inputs[table] = paths.display_path(path)
    if filters and "customers" in tables:
        customers = io.apply_filters(tables["customers"], dict(filters), source=inputs["customers"])
        tables["customers"] = customers
        keep = set(customers["customer_id"])
        for table, df in tables.items():
            if table != "customers" and "customer_id" in df:
                tables[table] = df[df["customer_id"].isin(keep)]
    return tables, inputs


def table_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per table: rows, columns, missing cells, first and last date."""
    rows = []
    for name, df in tables.items():
        date_col = TABLES_DATE_COLUMNS.get(name)
        dates = df[date_col] if date_col in df else pd.Series(dtype="datetime64[ns]")
        rows.append(
            {
                "table": name,
                "rows": len(df),
                "columns": df.shape[1],
                "missing_cells": int(df.isna().sum().sum()),
                "first_date": dates.min() if len(dates) else pd.NaT,
                "last_date": dates.max() if len(dates) else pd.NaT,
            }
        )
    return pd.DataFrame(rows)


def missing_values(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Columns with missing values, with the share missing (structural gaps included, e.g. churn_date of actives)."""
    rows = []
    for name, df in tables.items():
        counts = df.isna().sum()
        for col, n in counts[counts > 0].items():
            rows.append({"table": name, "column": col, "missing": int(n), "pct": 100.0 * n / max(len(df), 1)})
    return pd.DataFrame(rows, columns=["table", "column", "missing", "pct"])


def segment_sizes(customers: pd.DataFrame, columns: Sequence[str], min_cell: int) -> dict[str, pd.DataFrame]:
    """Customers per level of each segment column, small groups suppressed (count hidden)."""
    out = {}
    for col in columns:
        if col not in customers:
            continue
        counts = customers[col].fillna("(missing)").astype(str).value_counts().sort_index()
        table = pd.DataFrame({"value": counts.index, "n": counts.to_numpy()})
        table["pct"] = 100.0 * table["n"] / max(len(customers), 1)
        out[col] = privacy.suppress(table, n_col="n", min_cell=min_cell, value_cols=["pct"], hide_counts=True)
    return out


def quality_warnings(tables: Mapping[str, pd.DataFrame], min_cell: int) -> list[str]:
    """Plain-language data-quality warnings a user should read before trusting an analysis."""
    warnings: list[str] = []
    customers = tables.get("customers")
    survey = tables.get("survey")
    if customers is not None and survey is not None and "customer_id" in survey:
        orphans = ~survey["customer_id"].isin(customers["customer_id"])
        if orphans.any():
            warnings.append(f"{orphans.sum():,} survey responses belong to customers not in the customers table.")
    if survey is not None:
        items = [c for c in PERCEPTION_ITEMS if c in survey]
        if items:
            answered = survey[items].dropna()
            values = answered.to_numpy()
            straight = int((values.max(axis=1) == values.min(axis=1)).sum()) if len(values) else 0
            if straight:
                warnings.append(
                    f"{straight:,} responses give the same answer to all {len(items)} perception items "
                    "(straight-lining); consider excluding them from SERVQUAL analyses."
                )
        if "nps" in survey:
            blank = survey["nps"].isna().sum()
            if blank:
                warnings.append(f"{blank:,} responses have no NPS score; NPS analyses drop them.")
        if {"customer_id", "date"} <= set(survey.columns):
            dup = survey.duplicated(["customer_id", "date"]).sum()
            if dup:
                warnings.append(f"{dup:,} responses repeat a customer on the same date (possible double submission).")
    if customers is not None:
        if "segment" in customers:
            small = customers["segment"].value_counts()
            small = small[small < min_cell]
            if len(small):
                warnings.append(f"{len(small)} segment(s) have fewer than {min_cell} customers and are suppressed.")
        if {"churned", "churn_date"} <= set(customers.columns):
            no_date = ((customers["churned"] == 1) & customers["churn_date"].isna()).sum()
            if no_date:
                warnings.append(f"{no_date:,} churned customers have no churn date.")
        if "tenure_days" in customers:
            short = (customers["tenure_days"] < 30).mean()
            if short > 0.2:
                warnings.append(f"{short:.0%} of customers have under 30 days of tenure: early-life churn dominates.")
    for name, df in tables.items():
        if len(df) == 0:
            warnings.append(f"The {name} table has no rows.")
    return warnings


def build(
    table_paths: Mapping[str, str | Path | None],
    min_cell: int = privacy.DEFAULT_MIN_CELL,
    segment_cols: Sequence[str] = ("segment", "channel", "region"),
    snapshot_date: str | None = None,
    filters: Mapping[str, object] | None = None,
    columns: Mapping[str, Mapping[str, str]] | None = None,
) -> Overview:
    """Load, validate and summarise the tables; ``columns`` maps a user's names per table, e.g.
    ``{"customers": {"customerID": "customer_id"}}``."""
    min_cell = privacy.check_min_cell(min_cell)
    tables, inputs = load_tables(table_paths, snapshot_date=snapshot_date, filters=filters, columns=columns)
    if filters and "customers" in tables:
        privacy.require_group_size(len(tables["customers"]), min_cell, source=inputs["customers"],
                                   what="customers", filters=dict(filters))
    customers = tables.get("customers", pd.DataFrame())
    return Overview(
        tables=tables,
        inputs=inputs,
        summary=table_summary(tables),
        missing=missing_values(tables),
        segments=segment_sizes(customers, segment_cols, min_cell),
        warnings=quality_warnings(tables, min_cell),
    )


def nps_distribution(survey: pd.DataFrame, score_col: str = "nps") -> pd.DataFrame:
    """Responses per score 0–10 with the NPS category of each score."""
    counts = survey[score_col].dropna().astype(int).value_counts().reindex(range(11), fill_value=0)
    category = np.where(counts.index >= PROMOTER_MIN, "promoter", np.where(counts.index <= DETRACTOR_MAX, "detractor", "passive"))
    return pd.DataFrame({"score": counts.index, "n": counts.to_numpy(), "category": category})


def likert_means(survey: pd.DataFrame) -> pd.DataFrame:
    """Mean expectation and perception per SERVQUAL dimension (1–7)."""
    rows = []
    for dim, spec in DIMENSIONS.items():
        e_cols = [f"E{i}" for i in spec["items"] if f"E{i}" in survey]
        p_cols = [f"P{i}" for i in spec["items"] if f"P{i}" in survey]
        if not (e_cols and p_cols):
            continue
        rows.append({"dimension": dim, "expectation": survey[e_cols].stack().mean(), "perception": survey[p_cols].stack().mean()})
    return pd.DataFrame(rows, columns=["dimension", "expectation", "perception"])


def results_dict(ov: Overview) -> dict:
    """The machine-readable summary the overview notebook writes to results.json."""
    summary = ov.summary.set_index("table")
    missing = {t: {r.column: r.missing for r in g.itertuples()} for t, g in ov.missing.groupby("table", sort=True)}
    date_ranges = {
        t: {"first": row.first_date, "last": row.last_date} for t, row in summary.iterrows() if pd.notna(row.first_date)
    }
    rows = {t: int(n) for t, n in summary["rows"].items()}
    return {
        "rows": rows,
        "missing": missing,
        "date_ranges": date_ranges,
        "warnings": ov.warnings,
        "segments": dict(ov.segments),
        "inputs": ov.inputs,
        "headline": {
            "Customers": rows.get("customers"),
            "Responses": rows.get("survey"),
            "Incidents": rows.get("incidents"),
            "Warnings": len(ov.warnings),
        },
        "headline_order": ["Customers", "Responses", "Incidents", "Warnings"],
    }



def key_findings(ov: Overview) -> list[str]:
    """The overview's key findings in words, built from the computed summary (no hand-written numbers)."""
    rows = ov.summary.set_index("table")["rows"].to_dict()
    survey = ov.summary.set_index("table").loc["survey"] if "survey" in rows else None
    gap = ov.missing.sort_values("pct").iloc[-1] if len(ov.missing) else None
    return [
        f"{rows.get('customers', 0):,} customers, {rows.get('survey', 0):,} survey responses, "
        f"{rows.get('transactions', 0):,} transactions and {rows.get('incidents', 0):,} service incidents.",
        (f"Survey responses run from {survey.first_date:%Y-%m-%d} to {survey.last_date:%Y-%m-%d}."
         if survey is not None and pd.notna(survey.first_date) else "The survey table has no dates."),
        (f"{len(ov.missing)} columns have missing values; the largest share is `{gap['column']}` in "
         f"{gap['table']} ({gap['pct']:.0f}%)." if gap is not None else "No missing values."),
        (f"{len(ov.warnings)} data-quality warning(s): read them below before analysing."
         if ov.warnings else "No data-quality warnings."),
    ]

# --- charts -------------------------------------------------------------------------------------------------


def plot_nps_distribution(dist: pd.DataFrame, ax=None):
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    ax.bar(dist["score"], dist["n"], color=[NPS_COLORS[c] for c in dist["category"]])
    ax.set_xticks(range(11))
    ax.set_xlabel("Likelihood to recommend (0–10)")
    ax.set_ylabel("Responses")
    ax.set_title("NPS answers: detractors 0–6, passives 7–8, promoters 9–10")
    return ax


def plot_likert_means(means: pd.DataFrame, ax=None):
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    x = np.arange(len(means))
    ax.bar(x - 0.2, means["expectation"], width=0.4, label="Expectation", color=PALETTE[1])
    ax.bar(x + 0.2, means["perception"], width=0.4, label="Perception", color=PALETTE[0])
    ax.set_xticks(x)
    ax.set_xticklabels([DIMENSIONS[d]["en"] for d in means["dimension"]])
    ax.set_ylim(1, 7)
    ax.set_ylabel("Mean (1–7)")
    ax.set_title("SERVQUAL: expectation vs perception by dimension")
    ax.legend()
    return ax


def plot_numeric_histograms(customers: pd.DataFrame, columns: Sequence[str] = ("tenure_days", "monthly_revenue")):
    cols = [c for c in columns if c in customers]
    fig, axes = plt.subplots(1, max(len(cols), 1), figsize=(4.5 * max(len(cols), 1), 3.6), squeeze=False)
    for ax, col in zip(axes[0], cols):
        ax.hist(customers[col].dropna(), bins=40, color=PALETTE[0])
        ax.set_title(col.replace("_", " ").capitalize())
        ax.set_ylabel("Customers")
    fig.tight_layout()
    return fig


def plot_segment_sizes(segments: Mapping[str, pd.DataFrame]):
    fig, axes = plt.subplots(1, max(len(segments), 1), figsize=(4.2 * max(len(segments), 1), 3.6), squeeze=False)
    for ax, (col, table) in zip(axes[0], segments.items()):
        shown = privacy.visible(table)
        ax.barh(shown["value"], shown["n"], color=PALETTE[0])
        n_hidden = int(table["suppressed"].sum())
        ax.set_title(col.capitalize() + (f" ({n_hidden} suppressed)" if n_hidden else ""))
        ax.set_xlabel("Customers")
    fig.tight_layout()
    return fig


ID_AND_TEXT_COLUMNS = {"customer_id", "response_id", "comment"}


def explorable_columns(df: pd.DataFrame) -> list[str]:
    """Columns safe to chart in the explorer: never identifiers or free text."""
    return [c for c in df.columns if c not in ID_AND_TEXT_COLUMNS]


def plot_column(df: pd.DataFrame, column: str, min_cell: int = privacy.DEFAULT_MIN_CELL, ax=None):
    """Histogram for numbers and dates, bar chart for categories (levels below ``min_cell`` suppressed)."""
    if column in ID_AND_TEXT_COLUMNS:
        raise ValueError(f"{column} is an identifier or free text and is not charted")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    values = df[column].dropna()
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        ax.hist(values, bins=40, color=PALETTE[0])
        ax.set_ylabel("Rows")
    else:
        counts = values.astype(str).value_counts()
        shown = counts[counts >= min_cell].head(20)
        ax.barh(shown.index[::-1], shown.to_numpy()[::-1], color=PALETTE[0])
        hidden = int((counts < min_cell).sum())
        if hidden:
            ax.set_xlabel(f"Rows ({hidden} level(s) below min_cell suppressed)")
    ax.set_title(column)
    return ax
