"""Net Promoter Score (净推荐值): notebook 01's analysis — the score with honest intervals, by segment and period,
what separates promoters from detractors, comment themes, sample-size planning, and the course data's truth.

``result = nps.analyze(nps.Params(...))``; then ``result.key_findings()``, the ``describe_*`` sentences, the
``plot_*`` charts, ``view`` tables, ``explorer(result)`` and ``result.to_results()`` (results.json).
"""
from __future__ import annotations

from .analysis import NOTEBOOK, NOTEBOOK_ONLY, NPSReport, Params, analyze, example_parameters, load, run
from .comments import quotes_html, quotes_table, representative_quotes, theme_shares
from .describe import (
    describe_dimensions,
    describe_join,
    describe_overall,
    describe_sample_size,
    describe_segments,
    describe_themes,
    describe_trend,
    describe_truth,
    key_findings,
)
from .drivers import DimensionComparison, PromoterModel, compare_dimensions, promoter_model
from .explorer import explorer
from .planning import margin_of_error, planning_mixes, sample_size, sample_size_table
from .plots import (
    plot_dimensions,
    plot_distribution,
    plot_odds_ratios,
    plot_overall,
    plot_segments,
    plot_themes,
    plot_trend,
    plot_truth,
)
from .score import CI_METHODS, Difference, NPSResult, compare, from_counts, net_promoter_score, nps_arrays
from .tables import MISSING_LABEL, by_segment, distribution, overall, period_index, trend
from .truth import theme_accuracy, truth_comparison
from .views import segment_views, view

__all__ = [
    "CI_METHODS", "MISSING_LABEL", "NOTEBOOK", "NOTEBOOK_ONLY", "Difference", "DimensionComparison", "NPSReport",
    "NPSResult", "Params", "PromoterModel", "analyze", "by_segment", "compare", "compare_dimensions",
    "describe_dimensions", "describe_join", "describe_overall", "describe_sample_size", "describe_segments",
    "describe_themes", "describe_trend", "describe_truth", "distribution", "example_parameters", "explorer",
    "from_counts", "key_findings", "load", "margin_of_error", "net_promoter_score", "nps_arrays", "overall",
    "period_index", "planning_mixes", "plot_dimensions", "plot_distribution", "plot_odds_ratios", "plot_overall",
    "plot_segments", "plot_themes", "plot_trend", "plot_truth", "promoter_model", "quotes_html", "quotes_table",
    "representative_quotes", "run", "sample_size", "sample_size_table", "segment_views", "theme_accuracy",
    "theme_shares", "trend", "truth_comparison", "view",
]
