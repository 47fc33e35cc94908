"""Charts of notebook 03: importance shares with intervals, the measures side by side, rank probabilities, pairwise
differences, the key-driver (IPA) chart, derived vs stated importance, penalty–reward, shares by segment and
estimated vs true shares. Each takes the result (or a table) and an optional Axes, and returns the Axes.
Suppressed groups are not drawn. Fixed labels are translated when a chart is shown (glossary/drivers.json);
labels built from the data (titles naming the outcome, driver names, Kano categories) here, in the report's
language."""
from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from loyaltylab import i18n, privacy
from loyaltylab import plots as shared
from loyaltylab.constants import DIMENSIONS, dimension_label
from loyaltylab.i18n import column_zh

from .words import KANO_ZH, OUTCOME_ZH, pick, tidy

if TYPE_CHECKING:
    from .analysis import DriversReport

QUADRANT_COLORS = {"concentrate here": shared.PALETTE[3], "keep up the good work": shared.PALETTE[2],
                   "low priority": "#888888", "possible overkill": shared.PALETTE[1]}
KANO_COLORS = {"basic": shared.PALETTE[3], "performance": shared.PALETTE[0], "excitement": shared.PALETTE[2]}


def text(value) -> str:
    """Data-derived chart text: a ``$`` would start matplotlib mathtext (and a stray one raises), so it is escaped."""
    return str(value).replace("$", r"\$")


def _name(driver) -> str:
    """A chart label: the dimension's name (English, Chinese or both), else the column name (matplotlib draws text,
    not markup)."""
    return pick(dimension_label(driver), DIMENSIONS[driver]["zh"]) if driver in DIMENSIONS else text(driver)


def _outcome_zh(outcome) -> str:
    return OUTCOME_ZH.get(outcome, text(outcome))


def _ax(ax, rows: int = 5, width: float = 8.0):
    if ax is None:
        _, ax = plt.subplots(figsize=(width, max(2.6, 0.45 * rows + 1.2)))
    return ax


def plot_importance(result: DriversReport, ax=None):
    """Each driver's share of R² (LMG) with its interval, and Johnson's relative-weight share as a diamond."""
    t = result.ranked()
    ax = _ax(ax, len(t))
    y = np.arange(len(t))[::-1]
    share = 100 * t["lmg_share"].to_numpy()
    ax.barh(y, share, color=shared.ACCENT, alpha=0.85, label="LMG share")
    lo, hi = 100 * t["lmg_share_ci_low"].to_numpy(), 100 * t["lmg_share_ci_high"].to_numpy()
    ok = np.isfinite(lo) & np.isfinite(hi)
    if ok.any():
        ax.errorbar(share[ok], y[ok], xerr=[share[ok] - lo[ok], hi[ok] - share[ok]], fmt="none", ecolor="#222222",
                    capsize=3, label=pick(f"{result.params.confidence:.0%} CI",
                                          f"{result.params.confidence:.0%} 置信区间"))
    rw = 100 * t["relative_weight_share"].to_numpy()
    if np.isfinite(rw).any():
        ax.plot(rw, y, "D", color=shared.PALETTE[1], ms=6, label="relative weight share")
    ax.axvline(100 / len(t), color="#555555", ls=":", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels([_name(d) for d in t["driver"]])
    ax.set_xlabel("share of the explained variance (%)")
    logistic = result.decomposition.kind == "logistic"
    ax.set_title(i18n.t(f"What drives {text(result.outcome)}" + (" (McFadden R²)" if logistic
                                                               else f" (R² = {result.r2:.2f})"),
                        tidy(f"{_outcome_zh(result.outcome)} 的驱动因素" + ("（麦克法登 R²）" if logistic
                                                                          else f"（R² = {result.r2:.2f}）"))))
    ax.legend(fontsize=9, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    ax.grid(axis="y", visible=False)
    return ax


def plot_measures(result: DriversReport, ax=None):
    """The same R² credited by each measure: first, last, Pratt, beta², LMG, relative weight (shares of their sum)."""
    t = result.drivers
    cols = [c for c in ("first", "last", "pratt", "betasq", "lmg", "relative_weight") if t[c].notna().all()]
    shares = t[cols].div(t[cols].sum(axis=0), axis=1) * 100
    ax = _ax(ax, len(t), 9)
    width = 0.8 / max(len(t), 1)
    x = np.arange(len(cols))
    for i, d in enumerate(t["driver"]):
        ax.bar(x + i * width - 0.4 + width / 2, shares.iloc[i], width, label=_name(d),
               color=shared.PALETTE[i % len(shared.PALETTE)])
    ax.set_xticks(x)
    names = {"first": ("first", "首位进入"), "last": ("last", "末位进入"), "pratt": ("Pratt", "Pratt 指标"),
             "betasq": ("beta²", "β²"), "lmg": ("LMG", "LMG"), "relative_weight": ("rel. weight", "相对权重")}
    ax.set_xticklabels([pick(*names[c]) for c in cols])
    ax.axhline(0, color="#333333", lw=0.8)
    ax.set_ylabel("share of the measure's total (%)")
    ax.set_title("One R², six ways to share it")
    ax.legend(fontsize=8, ncol=min(len(t), 5), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return ax


def plot_rank_probabilities(result: DriversReport, ax=None):
    """Heat map of P(driver has rank k) over the bootstrap replicates."""
    boot = result.boot
    if boot is None:
        return None
    probs = boot.rank_probabilities.loc[list(result.ranked()["driver"])]
    ax = _ax(ax, len(probs), 7)
    im = ax.imshow(probs.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(probs.to_numpy()):
        if v >= 0.005:
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=8, color="white" if v > 0.6 else "#222222")
    ax.set_xticks(range(probs.shape[1]))
    ax.set_xticklabels([str(c) for c in probs.columns])
    ax.set_yticks(range(len(probs)))
    ax.set_yticklabels([_name(d) for d in probs.index])
    ax.set_xlabel("rank (1 = most important)")
    ax.set_title("How stable is the order? P(rank) over bootstrap samples")
    ax.grid(False)
    plt.colorbar(im, ax=ax, fraction=0.04)
    return ax


def plot_pairs(result: DriversReport, ax=None):
    """Pairwise LMG differences with intervals; significant (adjusted) pairs highlighted."""
    boot = result.boot
    if boot is None:
        return None
    pairs = boot.pairs.assign(label=[f"{_name(a)} − {_name(b)}" for a, b in zip(boot.pairs["driver"],
                                                                                 boot.pairs["other"])])
    return shared.forest_plot(pairs, "estimate", "ci_low", "ci_high", "label", ref=0.0, highlight_col="significant",
                              xlabel="difference in LMG (R² units)", title="Is one driver really ahead of another?",
                              ax=ax)


def plot_key_drivers(result: DriversReport, ax=None):
    """Derived importance (share of R²) against performance, in IPA quadrants (crosshair: 1/p and the mean)."""
    k = result.key_drivers
    ax = _ax(ax, 8, 8)
    x, y = k["performance_axis"].to_numpy(), 100 * k["importance"].to_numpy()
    lo, hi = 100 * k["importance_ci_low"].to_numpy(), 100 * k["importance_ci_high"].to_numpy()
    for xi, yi, low, high, q, d in zip(x, y, lo, hi, k["quadrant"], k["driver"]):
        color = QUADRANT_COLORS[q]
        if np.isfinite(low) and np.isfinite(high):
            ax.plot([xi, xi], [low, high], color=color, lw=1.5, alpha=0.6)
        ax.plot(xi, yi, "o", color=color, ms=9)
        ax.annotate(_name(d), (xi, yi), textcoords="offset points", xytext=(6, 4), fontsize=9)
    ax.axhline(100 / len(k), color="#555555", ls="--", lw=1)
    ax.axvline(np.nanmean(x), color="#555555", ls="--", lw=1)
    for q, (hx, hy) in {"concentrate here": (0.02, 0.97), "keep up the good work": (0.98, 0.97),
                        "low priority": (0.02, 0.03), "possible overkill": (0.98, 0.03)}.items():
        ax.text(hx, hy, q, transform=ax.transAxes, ha="left" if hx < 0.5 else "right",
                va="top" if hy > 0.5 else "bottom", color=QUADRANT_COLORS[q], fontsize=9, fontweight="bold")
    ax.set_xlabel("performance (mean)" if result.performance_scale == "mean" else "performance (% of observed range)")
    ax.set_ylabel("derived importance (share of R², %)")
    ax.set_title("Key-driver chart: where to invest first")
    return ax


def plot_stated(result: DriversReport, ax=None):
    """Derived and stated importance side by side (shares, %)."""
    s = result.stated
    if s is None:
        return None
    ax = _ax(ax, len(s), 8)
    y = np.arange(len(s))[::-1]
    ax.barh(y + 0.2, 100 * s["derived"], 0.4, color=shared.ACCENT, label="derived (share of R²)")
    ax.barh(y - 0.2, 100 * s["stated"], 0.4, color=shared.PALETTE[1], label="stated (share of points)")
    ax.set_yticks(y)
    ax.set_yticklabels([_name(d) for d in s["driver"]])
    ax.set_xlabel("%")
    ax.set_title("What customers say matters vs what moves them")
    ax.legend(fontsize=9, loc="lower right")
    ax.grid(axis="y", visible=False)
    return ax


def plot_kano(result: DriversReport, ax=None):
    """Penalty (drop in the bottom box) against reward (rise in the top box), coloured by Kano category."""
    k = privacy.visible(result.kano).dropna(subset=["penalty", "reward"])
    ax = _ax(ax, 8, 7)
    for r in k.itertuples():
        color = KANO_COLORS.get(r.category, "#888888")
        ax.plot([r.penalty_ci_low, r.penalty_ci_high], [r.reward, r.reward], color=color, alpha=0.5)
        ax.plot([r.penalty, r.penalty], [r.reward_ci_low, r.reward_ci_high], color=color, alpha=0.5)
        category = pick(r.category, KANO_ZH.get(r.category, r.category)) if isinstance(r.category, str) else r.category
        ax.plot(r.penalty, r.reward, "o", color=color, ms=8, label=category)
        ax.annotate(_name(r.driver), (r.penalty, r.reward), textcoords="offset points", xytext=(6, 4), fontsize=9)
    if len(k):
        top = float(np.nanmax(np.r_[k["penalty_ci_high"], k["reward_ci_high"], 0.0]))
        ax.plot([0, top], [0, top], color="#555555", ls="--", lw=1)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=9, loc="upper left")
    outcome, outcome_zh = text(result.outcome), _outcome_zh(result.outcome)
    ax.set_xlabel(pick(f"penalty: middle − bottom box ({outcome})", f"惩罚：中间组 − 低分组（{outcome_zh}）"))
    ax.set_ylabel(pick(f"reward: top − middle box ({outcome})", f"奖励：高分组 − 中间组（{outcome_zh}）"))
    ax.set_title("Penalty–reward (Kano): basic below the line, excitement above")
    return ax


def plot_segments(result: DriversReport, column: str | None = None, ax=None):
    """Each driver's share of R² within each (visible) group of one segment column."""
    seg = result.segments
    if seg is None or not len(seg.groups):
        return None
    column = column or seg.groups["column"].iloc[0]
    t = privacy.visible(seg.table[seg.table["column"] == column]).dropna(subset=["estimate"])
    drivers = list(result.ranked()["driver"])
    values = list(dict.fromkeys(t["value"]))
    ax = _ax(ax, len(drivers), 9)
    width = 0.8 / max(len(values), 1)
    y = np.arange(len(drivers))[::-1]
    for i, v in enumerate(values):
        part = t[t["value"] == v].set_index("driver").reindex(drivers)
        est = 100 * part["estimate"].to_numpy()
        lo, hi = 100 * part["ci_low"].to_numpy(), 100 * part["ci_high"].to_numpy()
        pos = y + 0.4 - (i + 0.5) * width
        ax.barh(pos, est, width, color=shared.PALETTE[i % len(shared.PALETTE)], label=text(v))
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            ax.errorbar(est[ok], pos[ok], xerr=[est[ok] - lo[ok], hi[ok] - est[ok]], fmt="none", ecolor="#333333",
                        capsize=2, lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([_name(d) for d in drivers])
    ax.set_xlabel("share of R² within the group (%)")
    ax.set_title(i18n.t(f"Driver shares by {text(column)}", f"按{text(column_zh(column))}划分的驱动因素份额"))
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="y", visible=False)
    return ax


def plot_truth(result: DriversReport, ax=None):
    """Estimated LMG shares with intervals against the population shares of the observed scores (course data)."""
    t = result.truth
    if t is None:
        return None
    part = t[t["measure"] == "lmg_share"].reset_index(drop=True)
    ax = _ax(ax, len(part))
    y = np.arange(len(part))[::-1]
    ax.errorbar(100 * part["estimate"], y, xerr=[100 * (part["estimate"] - part["ci_low"]),
                                                 100 * (part["ci_high"] - part["estimate"])],
                fmt="o", color=shared.ACCENT, capsize=3, label="estimate")
    ax.plot(100 * part["true"], y, "x", color=shared.PALETTE[3], ms=9, mew=2, label="true (observed scores)")
    lat = part["latent_weight"].to_numpy()
    if np.isfinite(lat).any():
        ax.plot(100 * lat, y, "|", color="#777777", ms=12, mew=2, label="latent weight share")
    ax.set_yticks(y)
    ax.set_yticklabels([_name(d) for d in part["driver"]])
    ax.set_xlabel("share of R² (%)")
    ax.set_title("Estimated vs true importance shares")
    ax.legend(fontsize=9, loc="lower right")
    ax.grid(axis="y", visible=False)
    return ax


def plot_selection(table: pd.DataFrame, title: str, ax=None):
    """A plain bar chart of LMG shares (the explorer's selection)."""
    ax = _ax(ax, len(table))
    t = table.sort_values("lmg_share")
    ax.barh([_name(d) for d in t["driver"]], 100 * t["lmg_share"], color=shared.ACCENT)
    ax.set_xlabel("share of R² (%)")
    ax.set_title(title)
    return ax
