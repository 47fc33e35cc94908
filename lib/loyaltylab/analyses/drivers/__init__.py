"""Loyalty drivers (忠诚驱动因素): notebook 03's analysis — which drivers move NPS, satisfaction or repurchase
intent, by how much (the exact LMG / Shapley decomposition of R², relative weights, dominance), how sure we are
(cluster bootstrap of ranks and differences), where to invest first (key-driver chart, derived vs stated), which
factors are basic or excitement (penalty–reward), by segment, and on the course data against the truth.

``result = drivers.analyze(drivers.Params(...))``; then ``result.key_findings()``, the ``describe_*`` sentences,
the ``plot_*`` charts, ``view`` tables, ``explorer(result)`` and ``result.to_results()`` (results.json); every
sentence, table and chart in the language set with :func:`loyaltylab.i18n.use` (``fallback(section)``: what a
section says when it has nothing to show).
:func:`derived_importance` is the shared "derived importance of the five SERVQUAL dimensions for an outcome".
"""
from __future__ import annotations

from .analysis import (
    NOTEBOOK,
    NOTEBOOK_ONLY,
    DriversReport,
    Params,
    analyze,
    check_driver_groups,
    example_parameters,
    load,
    run,
)
from .data import PROMOTER, DriverData
from .describe import (
    describe_data,
    describe_dominance,
    describe_importance,
    describe_kano,
    describe_key_drivers,
    describe_measures,
    describe_promoter,
    describe_segments,
    describe_stated,
    describe_truth,
    describe_uncertainty,
    describe_warnings,
    fallback,
    key_findings,
)
from .explorer import explorer, selection
from .importance import Decomposition, decompose, derived_importance
from .plots import (
    plot_importance,
    plot_kano,
    plot_key_drivers,
    plot_measures,
    plot_pairs,
    plot_rank_probabilities,
    plot_segments,
    plot_stated,
    plot_truth,
)
from .views import rank_view, segment_views, view

__all__ = [
    "NOTEBOOK", "NOTEBOOK_ONLY", "PROMOTER", "Decomposition", "DriverData", "DriversReport", "Params", "analyze",
    "check_driver_groups", "decompose", "derived_importance", "describe_data", "describe_dominance",
    "describe_importance", "describe_kano", "describe_key_drivers", "describe_measures", "describe_promoter",
    "describe_segments", "describe_stated", "describe_truth", "describe_uncertainty", "describe_warnings",
    "example_parameters", "explorer", "fallback", "key_findings", "load", "plot_importance", "plot_kano", "plot_key_drivers",
    "plot_measures", "plot_pairs", "plot_rank_probabilities", "plot_segments", "plot_stated", "plot_truth",
    "rank_view", "run", "segment_views", "selection", "view",
]
