"""Relative importance of groups of drivers (relaimpo's ``groups=``): each group — say the five reliability items —
enters and leaves the model as one unit, so the LMG / Shapley value, dominance, first and last are those of the
units; relative weights and Pratt measures of a group are the sums of its members' (both are additive).

Everything works on covariance arrays with leading batch axes (bootstrap replicates), ordered (outcome, drivers,
controls) as in :mod:`loyaltylab.stats.importance`; controls stay in every model and every value is R² beyond the
controls relative to the total outcome variance, as there. The unit lattice has 2**g subsets (g units), each an
ordinary least-squares R² from the partialled correlation, so g stays small (:data:`MAX_UNITS`).
"""
from __future__ import annotations

import numpy as np

from loyaltylab.stats import dominance as dom

MAX_UNITS = 12
"""Units (groups plus ungrouped drivers) at most: 2**12 subset fits per covariance."""


def units(drivers, groups: dict) -> tuple[list[str], list[list[int]]]:
    """(unit names, driver indices of each unit): a group where its first member stands in ``drivers``, an
    ungrouped driver as itself."""
    drivers = list(drivers)
    member_of = {m: g for g, ms in groups.items() for m in ms}
    names, index = [], []
    for i, d in enumerate(drivers):
        g = member_of.get(d)
        if g is None:
            names.append(d)
            index.append([i])
        elif g not in names:
            names.append(g)
            index.append([drivers.index(m) for m in groups[g]])
    return names, index


def unit_values(part: np.ndarray, index: list[list[int]]) -> np.ndarray:
    """Explained share of the outcome variance (beyond the controls) for every subset of the units, (..., 2**g).

    ``part`` is the correlation of (outcome, drivers) partialled on the controls, (..., 1+p, 1+p). A subset's value
    is s'S⁻s over the union of its units' drivers (pseudo-inverse: an aliased driver adds nothing, as in ``lm``).
    """
    g = len(index)
    out = np.zeros(part.shape[:-2] + (2 ** g,))
    sxy, sxx = part[..., 1:, 0], part[..., 1:, 1:]
    for mask in range(1, 2 ** g):
        cols = [c for j in range(g) if mask >> j & 1 for c in index[j]]
        s = sxy[..., cols]
        inv = np.linalg.pinv(sxx[..., cols, :][..., :, cols], hermitian=True)
        out[..., mask] = np.einsum("...i,...ij,...j->...", s, inv, s)
    return out


def measures(cov: np.ndarray, p: int, index: list[list[int]]) -> dict:
    """Every unit measure from covariance arrays (..., 1+p+q, 1+p+q): lmg, lmg_share, relative_weight(_share),
    first, last, pratt, r2, r2_controls, r2_drivers, values (the lattice) and conditional (unit × size)."""
    corr = dom.correlation(cov)
    q = corr.shape[-1] - 1 - p
    part = dom.sweep_out(corr, list(range(1 + p, 1 + p + q))) if q else corr
    resid_y = part[..., 0, 0]
    values = unit_values(part, index)
    cond = dom.conditional_contributions(values)
    g = len(index)
    full, bits = 2 ** g - 1, 1 << np.arange(g)
    sxx, sxy = part[..., 1:, 1:], part[..., 1:, 0]
    beta = np.einsum("...ij,...j->...i", np.linalg.pinv(sxx, hermitian=True), sxy)
    rw = dom.johnson_weights(part) * resid_y[..., None]
    pratt = beta * sxy
    out = {"values": values, "conditional": cond, "lmg": cond.mean(axis=-1), "first": values[..., bits],
           "last": values[..., [full]] - values[..., full ^ bits], "r2_drivers": values[..., full],
           "r2_controls": 1.0 - resid_y,
           "relative_weight": np.stack([rw[..., ix].sum(axis=-1) for ix in index], axis=-1),
           "pratt": np.stack([pratt[..., ix].sum(axis=-1) for ix in index], axis=-1)}
    out["r2"] = out["r2_controls"] + out["r2_drivers"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["lmg_share"] = out["lmg"] / out["r2_drivers"][..., None]
        out["relative_weight_share"] = out["relative_weight"] / out["relative_weight"].sum(axis=-1, keepdims=True)
    return out


def lmg_shares(cov: np.ndarray, p: int, index: list[list[int]] | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lmg, lmg_share, r2) of drivers (``index`` None) or units from covariance arrays (NaN arrays give NaN) — the
    light path the segment bootstrap uses (no relative weights, no dominance)."""
    cov = np.asarray(cov, dtype="float64")
    diag = np.diagonal(cov, axis1=-2, axis2=-1)
    # a control may be constant within a segment (the segment itself as a control): it is swept out as aliased
    valid = np.isfinite(cov).all(axis=(-2, -1)) & (diag[..., :1 + p] > 0).all(axis=-1)
    cov = np.where(valid[..., None, None], np.nan_to_num(cov), np.eye(cov.shape[-1]))
    corr = dom.correlation(cov)
    q = corr.shape[-1] - 1 - p
    part = dom.sweep_out(corr, list(range(1 + p, 1 + p + q))) if q else corr
    if index is None:
        values = dom.subset_r2(part) * part[..., 0, 0][..., None]
    else:
        values = unit_values(part, index)
    lmg = dom.shapley(values)
    r2 = 1.0 - part[..., 0, 0] + values[..., -1]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = lmg / values[..., [-1]]
    nan = ~valid
    lmg[nan], share[nan], r2[nan] = np.nan, np.nan, np.nan
    return lmg, share, r2
