"""The data overview (notebooks/00_data_overview.ipynb): sizes, date ranges, gaps, distributions, segment sizes,
data-quality warnings — every count suppressed for ``min_cell``."""
from loyaltylab.analyses.overview.analysis import NOTEBOOK, NOTEBOOK_ONLY, Overview, Params, analyze, load_tables
from loyaltylab.analyses.overview.describe import (
    describe_distributions,
    describe_histograms,
    describe_segments,
    describe_warnings,
    explorer_off_note,
    key_findings,
)
from loyaltylab.analyses.overview.explorer import explorable_columns, explorer, plot_column
from loyaltylab.analyses.overview.plots import (
    plot_dimension_means,
    plot_histograms,
    plot_nps_distribution,
    plot_segment_sizes,
)
from loyaltylab.analyses.overview.tables import segment_tables

__all__ = [
    "NOTEBOOK", "NOTEBOOK_ONLY", "Overview", "Params", "analyze", "describe_distributions", "describe_histograms",
    "describe_segments", "describe_warnings", "explorable_columns", "explorer", "explorer_off_note", "key_findings",
    "load_tables", "plot_column", "plot_dimension_means", "plot_histograms", "plot_nps_distribution",
    "plot_segment_sizes", "segment_tables",
]
