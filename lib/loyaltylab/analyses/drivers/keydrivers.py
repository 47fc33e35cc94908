"""The key-driver chart: derived importance (the LMG share) against performance (the driver's mean), in the
quadrants of importance-performance analysis (Martilla & James 1977), and derived against stated importance (the
survey's importance points) — the classic finding that what customers say matters is not what moves them.

Quadrants are drawn at the mean over the drivers: for importance that is 1/p exactly (the shares sum to 1), so a
driver is "important" when it explains more than an equal share. When the drivers are on different scales their
means cannot be compared, and performance is taken as the percent of each driver's observed range (POMP:
100·(mean − min)/(max − min)).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}
"""(importance above the crosshair, performance above the crosshair) → Martilla & James's quadrant."""
QUADRANT_ORDER = ("concentrate here", "keep up the good work", "low priority", "possible overkill")
COMMON_SCALE = 0.5
"""Drivers share a scale when each one's observed range covers at least this share of their joint range (ratings
1–7 do; percentages next to counts do not)."""
KEY_COLUMNS = ["driver", "importance", "importance_ci_low", "importance_ci_high", "performance", "performance_min",
               "performance_max", "performance_axis", "quadrant", "importance_stability", "rank"]


def key_drivers(scores: pd.DataFrame, table: pd.DataFrame, share_reps: np.ndarray | None) -> tuple[pd.DataFrame,
                                                                                                       str]:
    """One row per unit: importance (LMG share) with its interval, performance (mean of the unit's scores over the
    complete rows), the axis the quadrant uses, the quadrant and its stability on the importance side (the share
    of bootstrap replicates in which the driver stays on the same side of 1/p). Returns (table, scale) with scale
    'mean' (common scale) or 'pomp'."""
    imp = table.set_index("driver")["lmg_share"].reindex(scores.columns).to_numpy()
    perf = scores.mean().to_numpy()
    lo, hi = scores.min().to_numpy(), scores.max().to_numpy()
    union = float(np.nanmax(hi) - np.nanmin(lo))
    common = bool(union > 0 and ((hi - lo) >= COMMON_SCALE * union).all())
    with np.errstate(invalid="ignore", divide="ignore"):
        axis = perf if common else 100 * (perf - lo) / (hi - lo)
    cross_i, cross_p = 1.0 / len(imp), float(np.nanmean(axis))
    high_i, high_p = imp >= cross_i, axis >= cross_p
    quadrant = [QUADRANTS[(bool(a), bool(b))] for a, b in zip(high_i, high_p)]
    stability = np.full(len(imp), np.nan)
    if share_reps is not None and len(share_reps):
        stability = ((share_reps >= cross_i) == high_i[None, :]).mean(axis=0)
    t = table.set_index("driver").reindex(scores.columns)
    out = pd.DataFrame({"driver": list(scores.columns), "importance": imp,
                        "importance_ci_low": t["lmg_share_ci_low"].to_numpy(),
                        "importance_ci_high": t["lmg_share_ci_high"].to_numpy(), "performance": perf,
                        "performance_min": lo, "performance_max": hi, "performance_axis": axis,
                        "quadrant": quadrant, "importance_stability": stability, "rank": t["rank"].to_numpy()})
    return out[KEY_COLUMNS], "mean" if common else "pomp"


def stated_vs_derived(stated: pd.DataFrame | None, table: pd.DataFrame) -> tuple[pd.DataFrame | None, dict]:
    """Derived (LMG share) beside stated importance (each respondent's points normalised to shares over the
    drivers, averaged over the respondents who gave points to every driver), their ranks, and Spearman's rank
    correlation between them. (None, {}) without stated importance."""
    if stated is None:
        return None, {}
    pts = stated.to_numpy(dtype="float64")
    total = pts.sum(axis=1)
    ok = np.isfinite(pts).all(axis=1) & (total > 0)
    if ok.sum() == 0:
        return None, {}
    shares = pts[ok] / total[ok, None]
    derived = table.set_index("driver")["lmg_share"].reindex(stated.columns).to_numpy()
    mean = shares.mean(axis=0)
    se = shares.std(axis=0, ddof=1) / np.sqrt(ok.sum()) if ok.sum() > 1 else np.full(len(mean), np.nan)
    out = pd.DataFrame({"driver": list(stated.columns), "derived": derived, "stated": mean, "stated_se": se,
                        "difference": derived - mean,
                        "rank_derived": pd.Series(derived).rank(ascending=False, method="min").to_numpy(),
                        "rank_stated": pd.Series(mean).rank(ascending=False, method="min").to_numpy(),
                        "n": int(ok.sum())})
    rho = float(stats.spearmanr(derived, mean).statistic) if len(mean) > 2 else float("nan")
    return out, {"spearman": rho, "n": int(ok.sum())}
