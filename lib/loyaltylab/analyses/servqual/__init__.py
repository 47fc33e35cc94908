"""Service quality (SERVQUAL, 服务质量差距模型): notebook 02's analysis — gaps between perceived and expected service
per item, dimension and overall (paired intervals, t and Wilcoxon tests, Holm), reliability (α, ω, gap-score
reliability), structure (KMO, parallel analysis, EFA, CFA, measurement invariance), SERVQUAL vs SERVPERF, the
importance-performance analysis, segments and periods, the zone of tolerance and the course data's truth.

``result = servqual.analyze(servqual.Params(...))``; then ``result.key_findings()``, the ``describe_*`` sentences,
the ``plot_*`` charts, ``view(result, name)`` tables, ``explorer(result)`` and ``result.to_results()``.
"""
from __future__ import annotations

from .analysis import NOTEBOOK, NOTEBOOK_ONLY, Params, ServqualReport, analyze, example_parameters, load, run
from .describe import (
    describe_data,
    describe_gaps,
    describe_invariance,
    describe_ipa,
    describe_items,
    describe_notes,
    describe_reliability,
    describe_segments,
    describe_servperf,
    describe_strategies,
    describe_structure,
    describe_trend,
    describe_truth,
    describe_weighted,
    describe_zone,
    key_findings,
)
from .explorer import explorer
from .gaps import column_stats, paired, signed_rank
from .instrument import PZB_DIMENSIONS, Instrument, resolve
from .plots import (
    plot_gap_intervals,
    plot_gaps,
    plot_ipa,
    plot_item_gaps,
    plot_loadings,
    plot_reliability,
    plot_segments,
    plot_servperf,
    plot_trend,
    plot_truth,
    plot_zone,
)
from .priorities import QUADRANTS, servperf_vs_servqual
from .truth import STRATEGIES
from .views import SECTIONS, invariance_views, segment_views, show_section, view

__all__ = [
    "NOTEBOOK", "NOTEBOOK_ONLY", "PZB_DIMENSIONS", "QUADRANTS", "SECTIONS", "STRATEGIES", "Instrument", "Params",
    "ServqualReport", "analyze", "column_stats", "describe_data", "describe_gaps", "describe_invariance", "describe_ipa",
    "describe_items", "describe_notes", "describe_reliability", "describe_segments", "describe_servperf",
    "describe_strategies", "describe_structure", "describe_trend", "describe_truth", "describe_weighted",
    "describe_zone", "example_parameters", "explorer", "key_findings", "load", "paired", "plot_gap_intervals",
    "plot_gaps", "plot_ipa", "plot_item_gaps", "plot_loadings", "plot_reliability", "plot_segments",
    "plot_servperf", "plot_trend", "plot_truth", "plot_zone", "resolve", "run", "servperf_vs_servqual",
    "segment_views", "invariance_views", "show_section", "signed_rank", "view",
]
