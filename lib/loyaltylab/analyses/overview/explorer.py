"""The interactive explorer: pick a table and a column, see its distribution — suppressed like every chart.

Numbers are binned (:func:`..distributions.histogram`), dates counted per month, everything else counted per
level; bars of fewer than ``min_cell`` people (distinct ``customer_id`` where the table has one) are hidden, with
complementary bars. The NPS score column shows the NPS report's own distribution. Identifiers and free text are
never charted.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from loyaltylab import i18n, privacy
from loyaltylab.analyses.overview import distributions
from loyaltylab.analyses.overview import plots as overview_plots

ID_AND_TEXT_COLUMNS = {"customer_id", "response_id", "comment"}
MAX_DISCRETE = 20


def explorable_columns(df: pd.DataFrame) -> list[str]:
    """Columns safe to chart in the explorer: never identifiers or free text."""
    return [c for c in df.columns if c not in ID_AND_TEXT_COLUMNS]


def column_distribution(df: pd.DataFrame, column: str, min_cell: int = privacy.DEFAULT_MIN_CELL
                        ) -> tuple[str, pd.DataFrame]:
    """``(kind, table)``: ``"histogram"`` (left, right, n), ``"periods"`` (period, n) or ``"levels"`` (value, n),
    each with ``suppressed``. Whole numbers with at most 20 distinct values are levels in numeric order."""
    if column in ID_AND_TEXT_COLUMNS:
        raise ValueError(f"{column} is an identifier or free text and is not charted")
    values = df[column]
    people = df["customer_id"].to_numpy(dtype=object) if "customer_id" in df else None
    if pd.api.types.is_datetime64_any_dtype(values):
        return "periods", distributions.period_counts(values, min_cell, people=people)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        x = values.dropna().astype("float64")
        if x.nunique() > MAX_DISCRETE or not (x == x.round()).all():
            return "histogram", distributions.histogram(values, min_cell, people=people)
        levels = distributions.category_counts(values.astype("Int64"), min_cell, people=people)
        order = levels["value"].astype("int64").argsort(kind="stable")
        return "levels", levels.iloc[order].reset_index(drop=True)
    return "levels", distributions.category_counts(values, min_cell, people=people)


def plot_column(df: pd.DataFrame, column: str, min_cell: int = privacy.DEFAULT_MIN_CELL, ax=None):
    """The suppressed distribution of one column (:func:`column_distribution`) as a chart."""
    kind, table = column_distribution(df, column, min_cell)
    ylabel = "Rows"
    if kind == "histogram":
        ax = overview_plots.plot_histogram(table, ax=ax, title=column, min_cell=min_cell, ylabel=ylabel)
    elif kind == "periods":
        ax = overview_plots.plot_periods(table, ax=ax, title=column, min_cell=min_cell, ylabel=ylabel)
        ax.figure.tight_layout()
    else:
        ax = overview_plots.plot_counts(table, ax=ax, title=column, xlabel=ylabel, limit=MAX_DISCRETE)
    return ax


def explorer(result):
    """Dropdowns for a table and one of its columns, and the column's suppressed distribution."""
    import ipywidgets as widgets

    data = result.data
    if not data:
        return widgets.HTML(i18n.t("No tables to explore.", "没有可浏览的数据表。"))

    def show(table, column):
        if column is None:
            return
        if table == "survey" and column == "nps" and result.nps_distribution is not None:
            overview_plots.plot_nps_distribution(result)
        else:
            plot_column(data[table], column, min_cell=result.min_cell)
        plt.show()

    first = next(iter(data))
    table_picker = widgets.Dropdown(options=list(data), value=first, description=i18n.word("Table"))
    column_picker = widgets.Dropdown(options=explorable_columns(data[first]), description=i18n.word("Column"))

    def on_table(change):
        column_picker.options = explorable_columns(data[change["new"]])

    table_picker.observe(on_table, "value")
    return widgets.interactive(show, table=table_picker, column=column_picker)
