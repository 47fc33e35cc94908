"""Reliability (信度) of each dimension's items — perceptions, expectations and the item gaps P − E — from one
covariance matrix of every item (:class:`loyaltylab.stats.factor.SampleMoments`): Cronbach's α with Feldt's
interval, α if an item is deleted, corrected item–total correlations, McDonald's ω, and the reliability of the
P − E difference score (Lord 1963; the critique of Peter, Churchill & Brown 1993).

The statistics are :mod:`loyaltylab.stats.reliability`'s; this module only wires the instrument to them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab.errors import DataError
from loyaltylab.i18n import Both
from loyaltylab.stats import reliability as rel
from loyaltylab.stats.factor import SampleMoments

from .instrument import Instrument

LOW_RELIABILITY = 0.70
"""Nunnally's (1978) mark for research use: a reliability below it is flagged."""
SETS = ("perception", "expectation", "gap")
SETS_ZH = {"perception": "感知", "expectation": "期望", "gap": "差距"}
"""The answer sets' names in Chinese."""


@dataclass(frozen=True)
class Reliability:
    """``alphas``: dimension, set ('perception', 'expectation', 'gap'), alpha, ci_low, ci_high (Feldt), std_alpha,
    omega (NaN below 3 items), n_items, n. ``items``: dimension, set, item, alpha_if_deleted, r_drop.
    ``gap_scores``: dimension, reliability of the P − E difference score, alpha_p, alpha_e, corr_pe,
    alpha_of_item_gaps, low (below :data:`LOW_RELIABILITY`). ``notes``: dimensions that could not be assessed."""

    alphas: pd.DataFrame
    items: pd.DataFrame
    gap_scores: pd.DataFrame | None
    notes: tuple[str, ...]
    confidence: float


def _set_cov(moments: SampleMoments, inst: Instrument, dim: str, which: str) -> pd.DataFrame:
    """The covariance of one dimension's items of one set, labelled by item key (gaps: C_pp + C_ee − C_pe − C_ep)."""
    items = list(inst.dimensions[dim])
    if which != "gap":
        cols = [getattr(inst, which)[i] for i in items]
        c = moments.cov.loc[cols, cols].to_numpy()
    else:
        p_cols = [inst.perception[i] for i in items]
        e_cols = [inst.expectation[i] for i in items]
        c_pe = moments.cov.loc[p_cols, e_cols].to_numpy()
        c = moments.cov.loc[p_cols, p_cols].to_numpy() + moments.cov.loc[e_cols, e_cols].to_numpy() - c_pe - c_pe.T
    return pd.DataFrame(c, index=items, columns=items)


def reliability(moments: SampleMoments, inst: Instrument, confidence: float = 0.95, seed: int = 0) -> Reliability:
    """α, its Feldt interval, item analysis and ω per dimension and answer set; the gap-score reliability."""
    sets = ["perception"] + (["expectation", "gap"] if inst.mode == "servqual" else [])
    rows, item_rows, gap_rows, notes = [], [], [], []
    for dim, items in inst.dimensions.items():
        if len(items) < 2:
            notes.append(Both(f"'{dim}' has one item: no internal-consistency reliability",
                              f"“{dim}”只有一个题项：无法计算内部一致性信度"))
            continue
        for which in sets:
            cov = _set_cov(moments, inst, dim, which)
            try:
                a = rel.alpha_from_cov(cov, moments.n, confidence=confidence)
            except DataError as exc:
                notes.append(Both(f"'{dim}' {which}: no alpha ({exc.rule})",
                                  f"“{dim}”的{SETS_ZH.get(which, which)}题项：无法计算 α（{exc.rule}）"))
                continue
            omega = math.nan
            if len(items) >= 3:
                try:
                    omega = rel.omega_from_cov(cov, seed=seed).omega
                except DataError:
                    pass
            rows.append({"dimension": dim, "set": which, "alpha": a.alpha, "ci_low": a.ci_low, "ci_high": a.ci_high,
                         "std_alpha": a.std_alpha, "omega": omega, "n_items": a.n_items, "n": a.n})
            for item, r in a.items.iterrows():
                item_rows.append({"dimension": dim, "set": which, "item": item,
                                  "alpha_if_deleted": r["alpha_if_deleted"], "r_drop": r["r_drop"]})
        if inst.mode == "servqual":
            try:
                g = rel.gap_reliability_from_cov(moments.cov, [inst.perception[i] for i in items],
                                                 [inst.expectation[i] for i in items], moments.n)
            except DataError:
                continue
            gap_rows.append({"dimension": dim, "reliability": g.reliability, "alpha_p": g.alpha_p,
                             "alpha_e": g.alpha_e, "corr_pe": g.corr_pe, "alpha_of_item_gaps": g.alpha_of_item_gaps,
                             "low": bool(np.isfinite(g.reliability) and g.reliability < LOW_RELIABILITY)})
    alphas = pd.DataFrame(rows, columns=["dimension", "set", "alpha", "ci_low", "ci_high", "std_alpha", "omega",
                                         "n_items", "n"])
    items_table = pd.DataFrame(item_rows, columns=["dimension", "set", "item", "alpha_if_deleted", "r_drop"])
    gap_table = pd.DataFrame(gap_rows, columns=["dimension", "reliability", "alpha_p", "alpha_e", "corr_pe",
                                                "alpha_of_item_gaps", "low"]) if inst.mode == "servqual" else None
    return Reliability(alphas, items_table, gap_table, tuple(notes), confidence)


def alpha_of(rel_result: Reliability, dim: str, which: str) -> float:
    """One dimension's α for one set (NaN when not computed)."""
    a = rel_result.alphas
    hit = a[(a["dimension"] == dim) & (a["set"] == which)]
    return float(hit["alpha"].iloc[0]) if len(hit) else math.nan
