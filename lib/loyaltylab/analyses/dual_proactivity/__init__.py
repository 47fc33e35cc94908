"""Dual proactivity (服务营销双主动, "1+1>2") and service recovery (服务补救): notebook 05's analysis — the moderation
model with simple slopes and Johnson–Neyman, the 2×2 and its synergy contrast, retention by the four cells, the
slides' claims, recovery statuses, the recovery-paradox test with equivalence, double deviation and churn by a
time-varying failure status.

``result = dual_proactivity.analyze(dual_proactivity.Params(...))``; then ``result.key_findings()``, the
``describe_*`` sentences, the ``plot_*`` charts, ``view`` tables, ``explorer(result)`` and ``result.to_results()``.
"""
from __future__ import annotations

from .analysis import NOTEBOOK, NOTEBOOK_ONLY, Params, Result, analyze, example_parameters, load, run
from .describe import (
    describe_claims,
    describe_claims_or_note,
    describe_cox,
    describe_data,
    describe_double_deviation,
    describe_hazard,
    describe_hazard_or_note,
    describe_jn,
    describe_model,
    describe_paradox,
    describe_paradox_or_note,
    describe_recovery,
    describe_retention,
    describe_slopes,
    describe_speed,
    describe_synergy,
    describe_truth,
    describe_truth_or_note,
    key_findings,
    synergy_verdict,
)
from .explorer import cut_line as explorer_cut_line
from .explorer import explorer
from .explorer import slope_line as explorer_slope_line
from .plots import (
    plot_cells,
    plot_hazard,
    plot_interaction,
    plot_jn,
    plot_paradox,
    plot_recovery_groups,
    plot_retention,
    plot_speed,
    plot_surface,
)
from .recovery import STATUSES, classify
from .tvcox import fit_counting, status_intervals
from .views import view

__all__ = [
    "NOTEBOOK", "NOTEBOOK_ONLY", "STATUSES", "Params", "Result", "analyze", "classify", "describe_claims",
    "describe_claims_or_note", "describe_cox", "describe_data", "describe_double_deviation", "describe_hazard",
    "describe_hazard_or_note", "describe_jn", "describe_model", "describe_paradox", "describe_paradox_or_note",
    "describe_recovery", "describe_retention", "describe_slopes", "describe_speed", "describe_synergy",
    "describe_truth", "describe_truth_or_note", "example_parameters", "explorer", "explorer_cut_line", "explorer_slope_line",
    "fit_counting", "key_findings", "load",
    "plot_cells", "plot_hazard", "plot_interaction", "plot_jn", "plot_paradox", "plot_recovery_groups",
    "plot_retention", "plot_speed", "plot_surface", "run", "status_intervals", "synergy_verdict", "view",
]
