"""Structure (结构效度) of the perception items: sampling adequacy (KMO, Bartlett), the number of factors by parallel
analysis, an EFA with a rotation, the CFA of the dimension model with lavaan's fit measures, composite reliability
and AVE (Fornell–Larcker), and measurement invariance across segments (configural → metric) before their means are
compared. Everything from covariance matrices (:mod:`loyaltylab.stats.factor`); this module wires the instrument.

The structure is assessed on the perceptions — the instrument's answers (SERVPERF's scale); gap scores inherit
the difference-score problems the reliability section shows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loyaltylab.errors import DataError
from loyaltylab.i18n import Both
from loyaltylab.stats import factor

from .instrument import Instrument

INVARIANCE_LEVELS = ("configural", "metric")
ITEMS_PER_GROUP = 10
"""A group enters the invariance test with at least this many responses per item (and min_cell people)."""
DELTA_CFI = -0.01
"""Cheung & Rensvold (2002): a CFI drop beyond 0.01 from configural to metric suggests non-invariant loadings."""


@dataclass(frozen=True)
class Structure:
    """KMO / Bartlett, parallel analysis, the EFA (``n_factors`` from parallel analysis), the CFA of the dimension
    model and per segment column the invariance test (with the groups it used). Parts that cannot be estimated are
    None with a note. ``item_of``: column → item key."""

    kmo: factor.KMOResult | None
    bartlett: factor.BartlettResult | None
    parallel: factor.ParallelAnalysisResult | None
    n_factors: int | None
    efa: factor.EFAResult | None
    cfa: factor.CFAResult | None
    model: dict
    item_of: dict
    rmsea_confidence: float
    invariance: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def cfa_model(inst: Instrument) -> tuple[dict, list[str]]:
    """{dimension: perception columns} for the dimensions with at least 2 items, and notes on the others."""
    model, notes = {}, []
    for dim, items in inst.dimensions.items():
        if len(items) >= 2:
            model[dim] = [inst.perception[i] for i in items]
        else:
            notes.append(Both(f"'{dim}' has one item: left out of the factor model",
                              f"“{dim}”只有一个题项：未纳入因子模型"))
    return model, notes


def _max_factors(p: int) -> int:
    """The most factors an ML EFA of p items can have with non-negative degrees of freedom."""
    k = 1
    while k + 1 < p and ((p - k - 1) ** 2 - (p + k + 1)) >= 0:
        k += 1
    return k


def structure(moments: factor.SampleMoments, inst: Instrument, *, rotation: str = "oblimin", seed: int = 0,
              rmsea_confidence: float = 0.90) -> Structure:
    """Adequacy, parallel analysis, EFA and CFA on the perception items' moments (listwise complete rows)."""
    cols = inst.columns("perception")
    item_of = {inst.perception[i]: i for i in inst.items}
    moments = moments.subset(cols)
    notes: list[str] = []
    kmo = bartlett = parallel = efa = cfa = None
    n_factors = None
    model, model_notes = cfa_model(inst)
    notes += model_notes
    if len(cols) >= 3 and moments.n > len(cols):
        try:
            kmo = factor.kmo(moments)
            bartlett = factor.bartlett_sphericity(moments)
            parallel = factor.parallel_analysis(moments, seed=seed)
            n_factors = int(min(max(parallel.n_factors, 1), _max_factors(len(cols))))
            efa = factor.efa(moments, n_factors, rotation=rotation, seed=seed)
        except DataError as exc:
            notes.append(Both(f"no exploratory factor analysis: {exc.rule}", f"未做探索性因子分析：{exc.rule}"))
    else:
        notes.append(Both("no exploratory factor analysis: it needs at least 3 items and more respondents than items",
                          "未做探索性因子分析：至少需要 3 个题项，且受访者人数多于题项数"))
    if model:
        try:
            cfa = factor.cfa(model, moments, confidence=rmsea_confidence)
            if not cfa.converged:
                notes.append(Both("the CFA did not converge; read its fit with care",
                                  "CFA 未收敛；请谨慎解读其拟合指标"))
        except DataError as exc:
            notes.append(Both(f"no confirmatory factor analysis: {exc.rule}", f"未做验证性因子分析：{exc.rule}"))
    return Structure(kmo, bartlett, parallel, n_factors, efa, cfa, model, item_of, rmsea_confidence,
                     notes=tuple(notes))


def invariance(items: np.ndarray, columns, keys: np.ndarray, labels, visible, model: dict, *, min_n: int,
               rmsea_confidence: float = 0.90):
    """Configural and metric invariance of ``model`` across the groups of one segment column.

    ``items``: the answers (rows × ``columns``); ``keys``: group code per row (−1 = no group); ``visible``: per
    group, whether the segment table shows it. Only visible groups with at least ``min_n`` complete responses enter (a hidden or
    small group is never shown here either). Returns (InvarianceResult or None, the groups used, a note or None).
    """
    if not model:
        return None, (), Both("no factor model to test", "没有可检验的因子模型")
    cols = [c for cs in model.values() for c in cs]
    index = [list(columns).index(c) for c in cols]
    x = items[:, index] if index != list(range(items.shape[1])) else items
    complete = np.isfinite(x).all(axis=1)
    groups = {}
    for g, label in enumerate(labels):
        rows = complete & (keys == g)
        if visible[g] and rows.sum() >= min_n:
            groups[label] = rows
    if len(groups) < 2:
        return None, tuple(groups), Both(f"fewer than two groups with at least {min_n} complete responses; "
                                         "measurement invariance not tested",
                                         f"完整回答不少于 {min_n} 份的组不足两个；未检验测量不变性")
    try:  # complete rows only, so each group's covariance is numpy's (divisor n − 1), as from_frame's listwise
        moments = {}
        for label, rows in groups.items():
            block = x[rows]
            moments[label] = factor.SampleMoments.from_cov(
                pd.DataFrame(np.cov(block, rowvar=False), index=cols, columns=cols), len(block), block.mean(axis=0))
        result = factor.measurement_invariance(model, moments=moments, levels=INVARIANCE_LEVELS,
                                               confidence=rmsea_confidence)
    except DataError as exc:
        return None, tuple(groups), Both(f"measurement invariance not tested: {exc.rule}",
                                         f"未检验测量不变性：{exc.rule}")
    return result, tuple(groups), None


def metric_holds(result) -> bool | None:
    """Whether equal loadings fit about as well as free ones (ΔCFI ≥ −0.01); None without a test."""
    if result is None or "metric" not in result.comparisons.index:
        return None
    return bool(result.comparisons.loc["metric", "delta_cfi"] >= DELTA_CFI)
