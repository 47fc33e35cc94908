"""Asymmetry (Kano, penalty–reward): the outcome's drop in a driver's bottom box and rise in its top box relative to
its middle, with intervals — "basic", "performance" and "excitement" factors
(:func:`loyaltylab.stats.importance.penalty_reward`). A group of drivers is scored by each respondent's mean over
its members. A driver whose smallest non-empty box has fewer than ``min_cell`` respondents is suppressed (its box
means would describe a handful of people).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab import privacy
from loyaltylab.stats import clustered
from loyaltylab.stats import importance as imp

CORRECTION = "holm"
HIDDEN = ["bottom_max", "top_min", "n_bottom", "n_middle", "n_top", "mean_bottom", "mean_middle", "mean_top",
          "penalty", "penalty_se", "penalty_ci_low", "penalty_ci_high", "reward", "reward_se", "reward_ci_low",
          "reward_ci_high", "estimate", "se", "ci_low", "ci_high", "p_value", "p_adjusted"]


def unit_scores(model: pd.DataFrame, drivers, names, index) -> pd.DataFrame:
    """One column per unit: the driver itself, or each respondent's mean over a group's members."""
    drivers = list(drivers)
    return pd.DataFrame({name: model[[drivers[i] for i in ix]].mean(axis=1) for name, ix in zip(names, index)},
                        index=model.index)


def penalty_reward(model: pd.DataFrame, outcome: str, scores: pd.DataFrame, clusters, *, confidence: float,
                   min_cell: int) -> pd.DataFrame:
    """The penalty–reward table of every unit (see the module), suppressed below ``min_cell`` people per box."""
    names = list(scores.columns)
    data = scores.assign(**{"__y": model[outcome].to_numpy()})
    cluster = None
    if clusters is not None:
        data["__cluster"] = clusters
        cluster = "__cluster"
    table = imp.penalty_reward(data, "__y", names, cluster=cluster, confidence=confidence, correction=CORRECTION)
    people = []
    for name, b, t in table[["driver", "bottom_max", "top_min"]].itertuples(index=False):
        x = scores[name].to_numpy()
        box = np.where(x <= b, 0, np.where(x >= t, 2, 1))
        per = (clustered.people_per_group(box, clusters, 3) if clusters is not None
               else np.bincount(box, minlength=3))
        people.append(int(per[per > 0].min()) if (per > 0).any() else 0)
    out = privacy.suppress(table, "n", min_cell, value_cols=HIDDEN, people=np.asarray(people),
                           complementary=False)
    out["category"] = out["category"].where(~out["suppressed"], None)
    out["significant"] = out["significant"].astype(bool) & ~out["suppressed"]
    return out
