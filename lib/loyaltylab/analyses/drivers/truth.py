"""The course data only: estimated against true importance shares, with interval coverage.

The generator's driver weights act on *latent* quality; what a survey can decompose are the *observed* dimension
scores (item means with rounding, clipping and item noise), whose population LMG shares and relative weights differ
from the latent weights. truth.json ``drivers.population.<outcome>`` holds those observed-score values (a fixed-seed
large simulation of the course world), so that is what an estimate is judged against; the latent weights are shown
beside them for context only.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

TRUTH_COLUMNS = ["measure", "driver", "estimate", "ci_low", "ci_high", "true", "error", "covered", "latent_weight"]


def population(truth: Mapping | None, outcome: str) -> dict | None:
    """truth.json's population values for ``outcome`` on the observed dimension scores, or None."""
    if not truth:
        return None
    pop = (truth.get("drivers") or {}).get("population") or {}
    return pop.get(outcome)


def applies(truth: Mapping | None, outcome: str, default_drivers: bool, controls, grouped: bool, filters,
            kind: str) -> bool:
    """The comparison means something only for the five dimension scores of the whole (unfiltered) course data,
    without controls or groups, with an outcome the truth covers."""
    return bool(population(truth, outcome) and default_drivers and not controls and not grouped and not filters
                and kind == "linear")


def truth_comparison(truth: Mapping, outcome: str, table: pd.DataFrame, r2: float, boot) -> pd.DataFrame:
    """Estimated vs true LMG share, relative-weight share and raw LMG per dimension, and R², each with its bootstrap
    interval and whether it covers the truth."""
    pop = population(truth, outcome)
    latent = (truth.get("drivers") or {}).get("weights") or {}
    total = sum(latent.values()) or np.nan
    t = table.set_index("driver")
    rows = []

    def add(measure, driver, est, low, high, true):
        covered = bool(low <= true <= high) if np.isfinite(low) and np.isfinite(high) else None
        rows.append({"measure": measure, "driver": driver, "estimate": est, "ci_low": low, "ci_high": high,
                     "true": true, "error": est - true, "covered": covered,
                     "latent_weight": latent.get(driver, np.nan) / total if driver in latent else np.nan})

    for measure, ci in (("lmg_share", "lmg_share"), ("relative_weight_share", "relative_weight_share"),
                        ("lmg", "lmg")):
        values = pop.get(measure) or {}
        for d in t.index:
            if d in values:
                r = t.loc[d]
                add(measure, d, float(r[measure]), float(r[f"{ci}_ci_low"]), float(r[f"{ci}_ci_high"]),
                    float(values[d]))
    if "r2" in pop:
        low = high = np.nan
        if boot is not None and "r2" in boot.replicates:
            tail = (1 - boot.confidence) / 2
            low, high = np.nanquantile(boot.replicates["r2"], [tail, 1 - tail])
        add("r2", None, float(r2), low, high, float(pop["r2"]))
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS)
