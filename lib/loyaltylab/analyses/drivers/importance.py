"""The decomposition: how much of the outcome each driver (or group of drivers) explains, and how sure we are.

A numeric outcome gets every linear measure of :mod:`loyaltylab.stats.importance` — the exact LMG / Shapley
decomposition of R² (relaimpo's ``lmg``), Johnson's relative weights, dominance, first / last / Pratt, standardised
betas and VIFs — with a cluster bootstrap of the sufficient statistics for every interval, rank and pairwise
difference. Driver groups (relaimpo's ``groups``) enter and leave the model as units (:mod:`.groups`). The outcome
``promoter`` (0/1) gets the dominance decomposition of McFadden's pseudo-R² of logistic models (:mod:`.logistic`).

:func:`derived_importance` is the shared entry point for "the derived importance of the five SERVQUAL dimensions
for an outcome" (SERVQUAL's priorities chart can call it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from loyaltylab import measures
from loyaltylab.constants import DIMENSION_NAMES
from loyaltylab.errors import DataError
from loyaltylab.stats import dominance as dom
from loyaltylab.stats import importance as imp

from . import bootstrap, groups, logistic
from .words import Note

MAX_EXACT = 20
"""Exact LMG (all 2**p subsets) up to this many drivers; beyond, a sampling estimate with its Monte Carlo error
(and no bootstrap, which needs the exact lattice in every replicate)."""
COMPLETE_DOMINANCE_MAX = 10
"""Up to this many drivers the bootstrap also counts complete dominance in every replicate (cheap when small)."""
CORRECTION = "holm"
UNIT_MEASURES = ("lmg", "lmg_share", "relative_weight", "relative_weight_share", "first", "last", "pratt")
DRIVER_COLUMNS = ["driver", "lmg", "lmg_share", "lmg_ci_low", "lmg_ci_high", "lmg_share_ci_low", "lmg_share_ci_high",
                  "relative_weight", "relative_weight_share", "relative_weight_share_ci_low",
                  "relative_weight_share_ci_high", "first", "last", "pratt", "betasq", "beta_std", "r", "vif", "rank",
                  "rank_ci_low", "rank_ci_high", "lmg_se", "members", "n"]


@dataclass(frozen=True, eq=False)
class Decomposition:
    """``point``: the importance result of the reported units (drivers, or groups of them) — an
    :class:`~loyaltylab.stats.importance.ImportanceResult` (linear) or
    :class:`~loyaltylab.stats.importance.LogisticImportance` (``kind`` 'logistic'); ``boot``: its bootstrap (None
    when ``n_boot`` is 0 or the LMG is sampled); ``linear``: the linear model of the individual drivers, whose
    standardised betas, VIFs and warnings the report shows (for a 0/1 outcome: the linear probability model);
    ``units`` / ``index``: unit names and their drivers' positions."""

    kind: str
    point: object
    boot: imp.BootstrapImportance | None
    linear: imp.ImportanceResult
    units: tuple[str, ...]
    index: tuple[tuple[int, ...], ...]
    grouped: bool
    notes: tuple[str, ...]

    @property
    def r2(self) -> float:
        return float(self.point.r2)

    def table(self) -> pd.DataFrame:
        """One row per unit: every measure with its interval (:data:`DRIVER_COLUMNS`)."""
        pt = self.point.table.set_index("driver")
        lin = self.linear.table.set_index("driver")
        out = pd.DataFrame({"driver": list(self.units)})
        for c in ("lmg", "lmg_share", "relative_weight", "relative_weight_share", "first", "last", "pratt",
                  "betasq", "rank", "lmg_se"):
            out[c] = pt[c].reindex(self.units).to_numpy() if c in pt else np.nan
        drivers = list(self.linear.drivers)
        single = [len(ix) == 1 for ix in self.index]
        for c, src in (("beta_std", "beta"), ("r", "r"), ("vif", "vif")):
            vals = lin[src].reindex([drivers[ix[0]] for ix in self.index]).to_numpy()
            out[c] = np.where(single, vals, np.nan)
        out["members"] = [[drivers[i] for i in ix] for ix in self.index]
        out["n"] = self.point.n
        for c in ("lmg_ci_low", "lmg_ci_high", "lmg_share_ci_low", "lmg_share_ci_high",
                  "relative_weight_share_ci_low", "relative_weight_share_ci_high", "rank_ci_low", "rank_ci_high"):
            out[c] = np.nan
        if self.boot is not None:
            iv = self.boot.intervals.set_index(["measure", "driver"])
            for m in ("lmg", "lmg_share", "relative_weight_share"):
                if (m, self.units[0]) in iv.index:
                    part = iv.loc[m].reindex(self.units)
                    out[f"{m}_ci_low"], out[f"{m}_ci_high"] = part["ci_low"].to_numpy(), part["ci_high"].to_numpy()
            rk = self.boot.ranks.set_index("driver").reindex(self.units)
            out["rank_ci_low"], out["rank_ci_high"] = rk["ci_low"].to_numpy(), rk["ci_high"].to_numpy()
        out["rank"] = out["rank"].astype("int64")
        return out[DRIVER_COLUMNS]

    @property
    def dominance(self) -> pd.DataFrame | None:
        """Pairs: driver, other, complete, conditional, general (the dominant one, or None)."""
        return self.point.dominance

    @property
    def conditional(self) -> pd.DataFrame | None:
        return self.point.conditional


def _grouped_point(cov: pd.DataFrame, outcome: str, drivers, controls, n: int, names, index
                   ) -> imp.ImportanceResult:
    """An ImportanceResult of units (groups of drivers): lmg, shares, relative weights and Pratt summed over
    members, first / last, dominance and conditional contributions of the units."""
    cols = [outcome, *drivers, *controls]
    m = groups.measures(cov.loc[cols, cols].to_numpy(dtype="float64"), len(drivers), index)
    table = pd.DataFrame({"driver": names, **{k: m[k] for k in UNIT_MEASURES}})
    table["lmg_se"] = 0.0
    for c in ("betasq", "beta", "r", "vif"):
        table[c] = np.nan
    table["rank"] = table["lmg"].rank(ascending=False, method="min").astype("int64")
    cond = pd.DataFrame(m["conditional"], index=names)
    cond.index.name, cond.columns.name = "driver", "size"
    return imp.ImportanceResult(
        outcome, tuple(names), tuple(controls), n, float(m["r2"]), float(m["r2_controls"]), float(m["r2_drivers"]),
        table, cond, dom.dominance_table(m["values"], names, conditional=m["conditional"]),
        pd.DataFrame(columns=imp.WARNING_COLUMNS), True, 0, m["values"])


def _grouped_boot(model: pd.DataFrame, clusters, point: imp.ImportanceResult, p: int, index, *, n_boot: int,
                  seed: int, confidence: float) -> imp.BootstrapImportance:
    """The cluster bootstrap of the unit measures (replicate covariances from the shared engine)."""
    values = model.to_numpy(dtype="float64")
    with threadpool_limits(1, user_api="blas"):
        covs = dom.replicate_covariances(values, clusters, n_boot=n_boot, seed=seed)
        step = max(1, imp.SUBSET_BUDGET // 2 ** len(index))
        parts = [groups.measures(covs[lo:lo + step], p, index) for lo in range(0, n_boot, step)]
    reps = {k: np.concatenate([m[k] for m in parts]) for k in (*UNIT_MEASURES, "r2")}
    lattice = np.concatenate([m["values"] for m in parts])
    n_clusters = len(values) if clusters is None else int(np.max(clusters)) + 1
    return bootstrap.summarise(point, reps, UNIT_MEASURES, n=point.n, n_clusters=n_clusters, confidence=confidence,
                               seed=seed, correction=CORRECTION, values=lattice)


def decompose(model: pd.DataFrame, outcome: str, drivers, controls, driver_groups: dict, clusters, *,
              n_boot: int, seed: int, confidence: float, logistic_outcome: bool = False) -> Decomposition:
    """Every importance measure of the drivers (or their groups) for ``outcome`` on the complete rows ``model``
    (outcome, drivers, control columns), with the cluster bootstrap when ``n_boot`` > 0."""
    drivers, controls = list(drivers), list(controls)
    names, index = groups.units(drivers, driver_groups)
    grouped = any(len(ix) > 1 for ix in index)
    notes = []
    p = len(drivers)
    if grouped and len(names) > groups.MAX_UNITS:
        raise DataError(None, None, f"{len(names)} driver groups and ungrouped drivers: at most {groups.MAX_UNITS}")
    frame = model if clusters is None else model.assign(__cluster=clusters)
    cluster = None if clusters is None else "__cluster"
    boot = None
    if n_boot and not grouped and not logistic_outcome and p <= MAX_EXACT:
        boot = imp.bootstrap_importance(frame, outcome, drivers, controls, cluster=cluster, n_boot=n_boot,
                                        confidence=confidence, seed=seed, correction=CORRECTION,
                                        max_exact=MAX_EXACT, complete_dominance=p <= COMPLETE_DOMINANCE_MAX)
        return Decomposition("linear", boot.point, boot, boot.point, tuple(names), tuple(map(tuple, index)), False,
                             ())
    linear = imp.relative_importance(model, outcome, drivers, controls, max_exact=MAX_EXACT)
    if not linear.exact:
        notes.append(Note(f"{p} drivers: the LMG is estimated from {linear.n_permutations:,} random orderings "
                          "(its Monte Carlo standard error is in lmg_se); no bootstrap",
                          f"{p} 个驱动因素：LMG 由 {linear.n_permutations:,} 个随机进入顺序估计（其蒙特卡洛标准误见 "
                          "lmg_se）；不做自助法"))
    if logistic_outcome:
        point, boot = logistic.decompose(model, outcome, drivers, controls, clusters, n_boot=n_boot, seed=seed,
                                         confidence=confidence)
        notes += logistic.notes(point, boot)
        return Decomposition("logistic", point, boot, linear, tuple(names), tuple(map(tuple, index)), False,
                             tuple(notes))
    point = linear
    if grouped:
        x = model.to_numpy(dtype="float64")
        cov = pd.DataFrame(np.cov(x, rowvar=False), index=model.columns, columns=model.columns)
        point = _grouped_point(cov, outcome, drivers, controls, linear.n, names, index)
        if n_boot:
            boot = _grouped_boot(model, clusters, point, p, index, n_boot=n_boot, seed=seed, confidence=confidence)
    return Decomposition("linear", point, boot, linear, tuple(names), tuple(map(tuple, index)), grouped,
                         tuple(notes))


def derived_importance(data: pd.DataFrame, outcome: str, drivers=None, *, controls=(), cluster: str | None = None,
                       n_bootstrap: int = 0, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Derived importance of drivers for an outcome — by default the five SERVQUAL perception dimensions.

    ``data``: one row per response with the ``outcome`` column and either the driver columns or the perception
    items P1…P22 (then the drivers are the respondents' dimension scores, :func:`loyaltylab.measures.
    dimension_scores`, or the dimension columns ``data`` already has). Complete rows only. Returns one row per
    driver: driver, lmg (share of the outcome variance, Shapley / relaimpo ``lmg``), lmg_share (of R²; sums to 1),
    ci_low / ci_high (percentile interval of lmg_share from a cluster bootstrap of ``n_bootstrap`` replicates over
    ``cluster``; NaN when 0), relative_weight_share (Johnson), rank (1 = most important), performance (the mean)
    and n. The decomposition is the loyalty-driver analysis' (notebook 03).
    """
    if drivers is None:
        have = [d for d in DIMENSION_NAMES if d in data]
        scores = data[have] if have else measures.dimension_scores(data)
        drivers = list(scores.columns)
        if not drivers:
            raise DataError(None, None, "no SERVQUAL perception items (P1…P22) or dimension scores to derive "
                            "importance from")
    else:
        drivers = list(drivers)
        scores = data[drivers]
    cols = {outcome: data[outcome], **{d: scores[d] for d in drivers}, **{c: data[c] for c in controls}}
    frame = pd.DataFrame(cols, index=data.index).astype("float64")
    ok = np.isfinite(frame.to_numpy()).all(axis=1)
    clusters = None
    if cluster is not None:
        codes = pd.factorize(data[cluster])[0]
        ok &= codes >= 0
        clusters = pd.factorize(codes[ok])[0]
    frame = frame.loc[ok]
    dec = decompose(frame, outcome, drivers, list(controls), {}, clusters, n_boot=n_bootstrap, seed=seed,
                    confidence=confidence)
    t = dec.table()
    return pd.DataFrame({"driver": t["driver"], "lmg": t["lmg"], "lmg_share": t["lmg_share"],
                         "ci_low": t["lmg_share_ci_low"], "ci_high": t["lmg_share_ci_high"],
                         "relative_weight_share": t["relative_weight_share"], "rank": t["rank"],
                         "performance": frame[drivers].mean().to_numpy(), "n": t["n"]})
