"""The moderation model (Hayes' PROCESS model 1 / R ``interactions``) and the course's 2×2 on the survey responses,
from :mod:`loyaltylab.stats.moderation`: the interaction with its interval, simple slopes (16th/50th/84th
percentiles and ±1 SD), the Johnson–Neyman region, the interaction plot's lines, the response surface (masked where
fewer than ``min_cell`` customers lie), the interaction on the probability scale for a 0/1 outcome, and the
neither / firm only / customer only / both cells with the synergy contrast (cells under ``min_cell`` hidden).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from loyaltylab import privacy
from loyaltylab.errors import DataError
from loyaltylab.stats import moderation as mod
from loyaltylab.stats.equivalence import nps_values

from .data import CLUSTER, PROMOTER, Y

CELL_KEYS = {"neither": "neither", "firm_only": "firm", "customer_only": "customer", "both": "both"}
"""stats.moderation's cell names → the results.json names."""
MAX_GRID_LEVELS = 15
"""A variable with at most this many distinct values is drawn at those values (counts such as contacts per year)."""


@dataclass(frozen=True)
class Interaction:
    """The moderation model and what is read off it (see the module docstring). ``cells``: one row per 2×2 cell
    (``cell`` = neither / firm / customer / both, ``estimate`` = the outcome's mean, interval, ``n`` responses,
    ``customers``, ``suppressed``); ``synergy`` is None when a cell is hidden (a contrast of a hidden cell would
    reveal it) or the cut leaves a cell empty. ``nps_cells`` / ``nps_synergy``: the same in NPS points when the
    outcome is the 0–10 score. ``odds_synergy``: the ratio of odds ratios for a 0/1 outcome."""

    model: mod.Moderation
    outcome: str
    x: str
    moderator: str
    slopes: pd.DataFrame
    jn: mod.JohnsonNeyman
    lines: pd.DataFrame
    surface: mod.ResponseSurface
    probability: mod.ProbabilityInteraction | None
    cells: pd.DataFrame | None
    contrasts: pd.DataFrame | None
    synergy: mod.Estimate | None
    nps_cells: pd.DataFrame | None
    nps_synergy: mod.Estimate | None
    odds_synergy: dict | None
    x_cut: float
    w_cut: float
    n_customers: int | None
    notes: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        return self.model.family

    @property
    def interaction(self) -> mod.Estimate:
        return self.model.interaction


def model_frame(responses: pd.DataFrame, x: str, moderator: str, controls) -> pd.DataFrame:
    """The responses with a value in every model column (the rows the model uses)."""
    cols = [Y, x, moderator, *controls]
    keep = responses[cols].notna().all(axis=1)
    if CLUSTER in responses:
        keep &= responses[CLUSTER] >= 0
    return responses.loc[keep]


def _clusters(frame: pd.DataFrame):
    return frame[CLUSTER] if CLUSTER in frame else None


def _slopes(model: mod.Moderation) -> pd.DataFrame:
    parts = []
    for probe in ("percentiles", "sd"):
        t = mod.simple_slopes(model, at=probe)
        t.insert(0, "probe", probe)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def _grid(values: np.ndarray) -> np.ndarray | None:
    levels = np.unique(values)
    return levels if len(levels) <= MAX_GRID_LEVELS else None


def interaction_lines(model: mod.Moderation, n_points: int = 41) -> pd.DataFrame:
    """Predicted outcome (a probability for logit) against x at the moderator's 16th / 50th / 84th percentiles,
    controls at their means, with a delta-method band at the model's confidence."""
    data = model._data
    b, V = model.params, model.cov
    controls = data.X[:, 4:].mean(axis=0) if data.X.shape[1] > 4 else np.empty(0)
    xs = np.linspace(data.x.min(), data.x.max(), n_points)
    values, labels = mod.moderator_values(model, "percentiles")
    crit = mod.critical_value(model.confidence, model.df)
    rows = []
    for w, label in zip(values, labels):
        u, v = xs - model.x_center, w - model.w_center
        A = np.column_stack([np.ones_like(u), u, np.full_like(u, v), u * v, np.tile(controls, (len(u), 1))])
        eta = A @ b
        se = np.sqrt(np.einsum("ij,jk,ik->i", A, V, A))
        lo, hi = eta - crit * se, eta + crit * se
        if model.family == "logistic":
            eta, lo, hi = special.expit(eta), special.expit(lo), special.expit(hi)
        rows.append(pd.DataFrame({"label": label, "w_value": w, "x_value": xs, "predicted": eta, "ci_low": lo,
                                  "ci_high": hi}))
    return pd.concat(rows, ignore_index=True)


def _cells(syn: mod.Synergy, min_cell: int) -> pd.DataFrame:
    cells = syn.cells.rename(columns={"n_clusters": "customers"})
    cells["cell"] = cells["cell"].map(CELL_KEYS)
    return privacy.suppress(cells[["cell", "x_high", "w_high", "estimate", "se", "ci_low", "ci_high", "n",
                                   "customers"]], min_cell=min_cell, people=cells["customers"].to_numpy(),
                            value_cols=["estimate", "se", "ci_low", "ci_high", "customers"])


def _odds_synergy(cells: pd.DataFrame, confidence: float) -> dict | None:
    """Ratio of odds ratios (both·neither)/(firm·customer) from the cell shares and their (clustered) standard
    errors (delta method on the log-odds; cells hold different customers, so they are independent)."""
    p = cells.set_index("cell")["estimate"]
    se = cells.set_index("cell")["se"]
    if not ((p > 0) & (p < 1)).all():
        return None
    logit_se = se / (p * (1 - p))
    sign = pd.Series({"both": 1, "neither": 1, "firm": -1, "customer": -1})
    est = float((sign * special.logit(p)).sum())
    s = float(np.sqrt((logit_se ** 2).sum()))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    return {"ratio": math.exp(est), "ci_low": math.exp(est - z * s), "ci_high": math.exp(est + z * s),
            "p_value": float(2 * stats.norm.sf(abs(est / s)))}


def _two_by_two(frame, x, moderator, p, x_cut, w_cut, y):
    try:
        return mod.synergy_2x2(y, frame[x], frame[moderator], _clusters(frame), x_threshold=x_cut,
                               w_threshold=w_cut, cov_type=p.cov_type, confidence=p.confidence)
    except DataError as exc:
        return exc.rule


def fit_interaction(responses: pd.DataFrame, p, x_cut: float, w_cut: float) -> Interaction:
    """Everything the moderation section shows, on the responses with complete model columns."""
    frame = model_frame(responses, p.x, p.moderator, p.controls)
    if len(frame) < 10:
        raise DataError(None, None, f"only {len(frame)} responses have the outcome, x, moderator and controls: "
                        "too few for a moderation model")
    controls = frame[list(p.controls)] if p.controls else None
    fitter = mod.fit_logistic if p.outcome == PROMOTER else mod.fit
    model = fitter(frame[Y], frame[p.x], frame[p.moderator], controls, _clusters(frame), cov_type=p.cov_type,
                   confidence=p.confidence)
    surface = mod.response_surface(model, x_grid=_grid(frame[p.x].to_numpy()),
                                   w_grid=_grid(frame[p.moderator].to_numpy()), min_cell=p.min_cell)
    probability = mod.probability_interaction(model) if model.family == "logistic" else None
    notes = []
    syn = _two_by_two(frame, p.x, p.moderator, p, x_cut, w_cut, frame[Y])
    cells = contrasts = synergy = odds = nps_cells = nps_synergy = None
    if isinstance(syn, str):
        notes.append(f"2×2: {syn}")
    else:
        cells, contrasts = _cells(syn, p.min_cell), syn.contrasts
        if not cells["suppressed"].any():
            synergy = syn.synergy
            odds = _odds_synergy(cells, p.confidence) if model.family == "logistic" else None
        if p.outcome == "nps":
            syn_nps = _two_by_two(frame, p.x, p.moderator, p, x_cut, w_cut, nps_values(frame[Y]))
            if not isinstance(syn_nps, str):
                nps_cells = _cells(syn_nps, p.min_cell)
                nps_synergy = None if nps_cells["suppressed"].any() else syn_nps.synergy
    n_customers = int(frame[CLUSTER].nunique()) if CLUSTER in frame else None
    return Interaction(model, p.outcome, p.x, p.moderator, _slopes(model), mod.johnson_neyman(model),
                       interaction_lines(model), surface, probability, cells, contrasts, synergy, nps_cells,
                       nps_synergy, odds, float(x_cut), float(w_cut), n_customers, tuple(notes))


def default_cut(values) -> float:
    """The median (the course's "high" = above the median customer); for a variable with two values, their
    midpoint (0/1 → 0.5, so "high" = 1)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(dtype="float64")
    if not len(v):
        raise DataError(None, None, "no values to cut at the median")
    levels = np.unique(v)
    if len(levels) == 2:
        return float(levels.mean())
    return float(np.median(v))
