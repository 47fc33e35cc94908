"""Notebook 05's charts (English labels). Each takes the whole result; hidden (small) cells and groups are listed
as suppressed or left out, never drawn; the response surface is greyed where fewer than ``min_cell`` customers
lie."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from loyaltylab import privacy
from loyaltylab.analyses.churn.data import DAYS_PER_MONTH
from loyaltylab.plots import ACCENT, PALETTE, SUPPRESSED_COLOR, forest_plot
from loyaltylab.stats import moderation as mod

from .describe import STATUS_WORDS, course_framing


def _text(value) -> str:
    """A data-derived label for matplotlib: '$' would start mathtext."""
    return str(value).replace("$", r"\$")


OUTCOME_AXIS = {"nps": "Recommend score (0–10)", "promoter": "promoter", "satisfaction": "Satisfaction (1–7)",
                "repurchase_intent": "Repurchase intent (1–7)"}


def _names(result) -> tuple[str, str, str]:
    p = result.params
    outcome = OUTCOME_AXIS.get(p.outcome, _text(p.outcome))
    if course_framing(result):
        return "Firm's proactive outreach (contacts / year)", "customer participation", outcome
    return _text(p.x), _text(p.moderator), outcome


def plot_interaction(result, ax=None):
    """The outcome against x at the moderator's 16th / 50th / 84th percentiles (controls at their means), with
    bands: non-parallel lines are the interaction."""
    it = result.interaction
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    xname, wname, yname = _names(result)
    for i, (label, part) in enumerate(it.lines.groupby("label", sort=False)):
        color = PALETTE[i % len(PALETTE)]
        w = part["w_value"].iloc[0]
        ax.plot(part["x_value"], part["predicted"], color=color, lw=2, label=f"{wname} = {w:.3g} ({label})")
        ax.fill_between(part["x_value"], part["ci_low"], part["ci_high"], color=color, alpha=0.15)
    ax.set_xlabel(xname)
    ax.set_ylabel(("P(" + yname + ")") if it.family == "logistic" else yname)
    ax.set_title("Interaction plot: predicted outcome by the moderator's level")
    ax.legend(loc="best", fontsize=9)
    return ax


def plot_jn(result, ax=None):
    """The slope of x across the moderator's observed range with its pointwise band; significant stretches
    shaded, Johnson–Neyman points inside the data marked."""
    it = result.interaction
    m, jn = it.model, it.jn
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    w = np.linspace(jn.w_min, jn.w_max, 200)
    u = w - m.w_center
    slope = m.params[1] + m.params[3] * u
    se = np.sqrt(m.cov[1, 1] + 2 * u * m.cov[1, 3] + u * u * m.cov[3, 3])
    crit = mod.critical_value(m.confidence, m.df)
    ax.plot(w, slope, color=ACCENT, lw=2)
    ax.fill_between(w, slope - crit * se, slope + crit * se, color=ACCENT, alpha=0.15)
    ax.axhline(0, color="#555555", lw=1, ls="--")
    for r in jn.significant_regions.itertuples():
        ax.axvspan(r.observed_low, r.observed_high, color=PALETTE[2], alpha=0.08)
    for b, inside in zip(jn.bounds, jn.in_range):
        if inside:
            ax.axvline(b, color=PALETTE[3], lw=1, ls=":")
    xname, wname, _ = _names(result)
    ax.set_xlabel(wname)
    ax.set_ylabel("Slope of x" + (" (log-odds)" if it.family == "logistic" else ""))
    ax.set_title("Johnson–Neyman: where the slope of x is significant (shaded)")
    return ax


def plot_surface(result, ax=None):
    """Predicted outcome over the (x, moderator) grid; grey where fewer than min_cell customers lie nearby."""
    s = result.interaction.surface
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    values = np.ma.masked_array(s.predicted, mask=s.mask)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad(SUPPRESSED_COLOR)
    mesh = ax.pcolormesh(_edges(s.x_grid), _edges(s.w_grid), values, cmap=cmap, shading="flat")
    plt.colorbar(mesh, ax=ax, label="predicted outcome")
    xname, wname, _ = _names(result)
    ax.set_xlabel(xname)
    ax.set_ylabel(wname)
    ax.set_title(f"Response surface (grey: fewer than {s.min_cell} customers)")
    return ax


def _edges(grid: np.ndarray) -> np.ndarray:
    if len(grid) == 1:
        return np.array([grid[0] - 0.5, grid[0] + 0.5])
    mid = (grid[1:] + grid[:-1]) / 2
    return np.concatenate([[grid[0] - (mid[0] - grid[0])], mid, [grid[-1] + (grid[-1] - mid[-1])]])


def plot_cells(result, ax=None):
    """The 2×2: cell means with intervals, x low / high on the axis, one line per moderator level (parallel lines
    = no synergy)."""
    it = result.interaction
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    if it.cells is None:
        ax.text(0.5, 0.5, "no 2×2 (a cell is empty)", ha="center", va="center", transform=ax.transAxes)
        return ax
    xname, wname, yname = _names(result)
    cells = it.cells.set_index("cell")
    for i, (wh, label) in enumerate(((False, f"{wname} low"), (True, f"{wname} high"))):
        keys = ("neither", "firm") if not wh else ("customer", "both")
        rows = cells.loc[list(keys)]
        xs = np.array([0, 1]) + (i - 0.5) * 0.04
        shown = ~rows["suppressed"].astype(bool).to_numpy()
        est = rows["estimate"].to_numpy(dtype="float64")
        err = np.vstack([est - rows["ci_low"].to_numpy(dtype="float64"), rows["ci_high"].to_numpy(dtype="float64")
                         - est])
        ax.errorbar(xs[shown], est[shown], yerr=err[:, shown], marker="o", capsize=4, color=PALETTE[i], label=label)
        for xi, hidden in zip(xs, ~shown):
            if hidden:
                ax.text(xi, 0.02, "suppressed", color=SUPPRESSED_COLOR, transform=ax.get_xaxis_transform(),
                        ha="center", fontsize=8)
    ax.set_xticks([0, 1], ["low", "high"])
    ax.set_xlabel(xname)
    ax.set_ylabel(("share " + yname) if it.family == "logistic" else yname)
    ax.set_title("The 2×2: cell means")
    ax.legend(fontsize=9)
    return ax


def plot_retention(result, ax=None):
    """Kaplan–Meier retention per cell (visible cells only), months on the axis, the horizon dotted."""
    ret = result.retention
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    if ret is None:
        ax.text(0.5, 0.5, "no customer lifetimes", ha="center", va="center", transform=ax.transAxes)
        return ax
    from .describe import cell_names

    names = cell_names(result, raw=True)
    for i, (cell, km) in enumerate(ret.curves.items()):
        sf = km.fitter.survival_function_
        band = km.fitter.confidence_interval_survival_function_
        t = sf.index.to_numpy(dtype="float64") / DAYS_PER_MONTH
        ax.step(t, sf.iloc[:, 0], where="post", color=PALETTE[i % len(PALETTE)], label=_text(names[cell]))
        ax.fill_between(t, band.iloc[:, 0], band.iloc[:, 1], step="post", color=PALETTE[i % len(PALETTE)],
                        alpha=0.12)
    ax.axvline(ret.horizon_months, color="#555555", ls=":", lw=1)
    ax.set_xlabel("Months since signup")
    ax.set_ylabel("Share still a customer")
    ax.set_ylim(0, 1.02)
    ax.set_title("Retention by the four cells (Kaplan–Meier)")
    ax.legend(fontsize=9)
    return ax


def plot_recovery_groups(result, ax=None):
    """NPS after the first failure by failure history (and after a second failure), with intervals; the
    never-failed NPS dashed."""
    rec = result.recovery
    if rec is None:
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 2))
        ax.text(0.5, 0.5, "no incidents", ha="center", va="center", transform=ax.transAxes)
        return ax
    g = rec.groups.assign(label=rec.groups["status"].map(STATUS_WORDS))
    never = g.loc[(g["status"] == "never_failed") & ~g["suppressed"].astype(bool), "nps"]
    return forest_plot(g, "nps", "ci_low", "ci_high", "label", ref=float(never.iloc[0]) if len(never) else None,
                       xlabel="NPS (points)", title="Loyalty after the failure, by recovery", ax=ax)


def plot_paradox(result, ax=None):
    """Recovered well − never failed on each outcome (unadjusted and adjusted), against 0; each outcome's
    equivalence margin shaded (NPS in points, 1–7 outcomes in scale points — one panel per outcome)."""
    rec = result.recovery
    table = rec.paradox_table if rec is not None else pd.DataFrame()
    table = table.loc[table["comparison"] == "recovered_well - never_failed"] if len(table) else table
    outcomes = list(dict.fromkeys(table["outcome"])) if len(table) else []
    if ax is None:
        _, axes = plt.subplots(1, max(len(outcomes), 1), figsize=(4 * max(len(outcomes), 1), 2.8), squeeze=False,
                               sharey=True)
        axes = axes[0]
    else:
        axes = np.atleast_1d(ax)
    if not outcomes:
        axes[0].text(0.5, 0.5, "no paradox test", ha="center", va="center", transform=axes[0].transAxes)
        return axes[0]
    for a, outcome in zip(axes, outcomes):
        part = table.loc[table["outcome"] == outcome].reset_index(drop=True)
        margin = float(part["margin"].iloc[0])
        a.axvspan(-margin, margin, color=PALETTE[2], alpha=0.12)
        a.axvline(0, color="#555555", lw=1, ls="--")
        for i, r in part.iterrows():
            a.plot([r["ci_low"], r["ci_high"]], [i, i], color=ACCENT, lw=2)
            a.plot(r["estimate"], i, "o", color=ACCENT)
        a.set_yticks(range(len(part)), part["model"].tolist())
        a.set_ylim(-0.7, len(part) - 0.3)
        a.set_title({"nps": "NPS (points)", "satisfaction": "Satisfaction (1–7)",
                     "repurchase_intent": "Repurchase intent (1–7)"}.get(outcome, outcome))
        a.set_xlabel("recovered well − never failed\n(shaded: within the margin)")
    axes[0].figure.tight_layout()
    return axes[0]


def plot_speed(result, ax=None):
    """Mean recovery satisfaction by how fast the incident was recovered (bands with few customers hidden)."""
    rec = result.recovery
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    if rec is None or not len(rec.speed):
        ax.text(0.5, 0.5, "no recovered incidents", ha="center", va="center", transform=ax.transAxes)
        return ax
    s = privacy.visible(rec.speed).reset_index(drop=True)
    xs = np.arange(len(s))
    ax.errorbar(xs, s["estimate"], yerr=[s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]], marker="o",
                capsize=4, color=ACCENT)
    ax.set_xticks(xs, s["band"].tolist())
    ax.set_xlabel("Recovery time")
    ax.set_ylabel("Recovery satisfaction (1–7)")
    ax.set_title("Faster recovery, happier customers?")
    return ax


def plot_hazard(result, ax=None):
    """Churn hazard ratios vs never failed: status changing at each incident (time-varying) and, for contrast,
    fixed at the snapshot (log axis)."""
    rec = result.recovery
    hz = rec.hazard if rec is not None else None
    if hz is None:
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 2))
        ax.text(0.5, 0.5, "no time-varying model", ha="center", va="center", transform=ax.transAxes)
        return ax
    rows = [hz.table.assign(label=hz.table["status"].map(STATUS_WORDS) + " (time-varying)")]
    if hz.fixed is not None:
        rows.append(hz.fixed.assign(label=hz.fixed["status"].map(STATUS_WORDS) + " (fixed, biased)"))
    t = pd.concat(rows, ignore_index=True)
    t = t.loc[t["status"] != "never_failed"]
    ax = forest_plot(t, "hazard_ratio", "ci_low", "ci_high", "label", ref=1.0, log_x=True,
                     xlabel="Churn hazard ratio vs never failed (log scale)", title="Churn by failure status", ax=ax)
    lo, hi = ax.get_xlim()
    ticks = [v for v in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks or [1.0]))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    return ax
