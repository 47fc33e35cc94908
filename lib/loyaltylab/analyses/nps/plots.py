"""NPS charts. Each takes the whole result or the part it draws; suppressed groups are listed but never drawn.
Fixed labels are English here and put into the notebook's language through the glossary when a chart is shown
(:func:`loyaltylab.i18n.translate_figure`); labels with numbers or data in them are written in both languages."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from loyaltylab import i18n, privacy
from loyaltylab.constants import NPS_CATEGORIES
from loyaltylab.plots import ACCENT, NPS_COLORS, PALETTE, SUPPRESSED_COLOR, forest_plot

from .analysis import NPSReport
from .comments import CATEGORY_LABELS
from .describe import LOYAL_MARK, model_note
from .drivers import DimensionComparison, PromoterModel, dimension_label
from .score import NPSResult
from .views import label


def _part(obj, attr: str):
    """The part of a whole result a chart draws, or ``obj`` itself when it is that part already."""
    return getattr(obj, attr) if isinstance(obj, NPSReport) else obj


def plot_distribution(result_or_table, ax=None):
    """Responses per score 0–10, bars coloured by category; suppressed scores (few respondents) are not drawn."""
    dist = _part(result_or_table, "distribution")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    hidden = dist["suppressed"].to_numpy(bool) if "suppressed" in dist else np.zeros(len(dist), bool)
    shown = dist.loc[~hidden]
    ax.bar(shown["score"], shown["n"].astype("float64"), color=[NPS_COLORS[c] for c in shown["category"]],
           width=0.8)
    for score in dist.loc[hidden, "score"]:
        ax.text(score, 0, "suppressed", rotation=90, ha="center", va="bottom", fontsize=8, color=SUPPRESSED_COLOR)
    ax.set_xticks(range(11))
    ax.set_xlabel("Likelihood to recommend (0–10)")
    ax.set_ylabel("Responses")
    ax.set_title("Score distribution: detractors 0–6, passives 7–8, promoters 9–10")
    handles = [plt.Rectangle((0, 0), 1, 1, color=NPS_COLORS[c]) for c in NPS_CATEGORIES]
    ax.legend(handles, [CATEGORY_LABELS[c] for c in NPS_CATEGORIES], loc="upper left")
    return ax


def plot_overall(result_or_nps, ax=None):
    """Left: the shares of detractors / passives / promoters; right: the NPS with its interval on −100..100,
    with the course's NPS ≥ 50 mark. ``ax``: a pair of axes (default: a new figure); returns the figure."""
    result: NPSResult = _part(result_or_nps, "overall")
    if ax is None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1.4, 1]})
    else:
        ax1, ax2 = ax
        fig = ax1.figure
    left = 0.0
    if result.suppressed:
        ax1.text(0.5, 0.5, "suppressed (n < min_cell)", ha="center", va="center", color=SUPPRESSED_COLOR)
    else:
        for cat, share in (("detractor", result.detractors_pct), ("passive", result.passives_pct),
                           ("promoter", result.promoters_pct)):
            ax1.barh(0, share, left=left, color=NPS_COLORS[cat])
            if share >= 6:
                ax1.text(left + share / 2, 0, f"{i18n.word(CATEGORY_LABELS[cat])}\n{share:.0f}%", ha="center", va="center",
                         color="white", fontsize=9, fontweight="bold")
            left += share
        ax2.plot([result.ci_low, result.ci_high], [0, 0], color=ACCENT, lw=3)
        ax2.plot(result.nps, 0, "o", color=ACCENT, ms=10)
        ax2.annotate(f"NPS {result.nps:+.1f}\n[{result.ci_low:+.1f}, {result.ci_high:+.1f}]", (result.nps, 0),
                     xytext=(0, 12), textcoords="offset points", ha="center", va="bottom", fontsize=9)
    ax1.set_xlim(0, 100)
    ax1.set_yticks([])
    ax1.set_xlabel("Share of responses (%)")
    ax1.set_title("Who answered what")
    ax2.axvline(0, color="#555555", lw=1)
    ax2.axvline(LOYAL_MARK, color=NPS_COLORS["promoter"], ls="--", lw=1)
    ax2.text(LOYAL_MARK, -0.9, " NPS 50", color=NPS_COLORS["promoter"], fontsize=8, va="bottom")
    ax2.set_xlim(-100, 100)
    ax2.set_ylim(-1, 1.2)
    ax2.set_yticks([])
    ax2.set_xlabel("NPS (points)")
    ax2.set_title(label(f"NPS with {result.confidence:.0%} interval", f"NPS 及其 {result.confidence:.0%} 置信区间"))
    fig.tight_layout()
    return fig


def plot_segments(result_or_tables, reference: float | None = None):
    """One forest plot per segment column: NPS with interval, significant segments highlighted, suppressed
    segments listed but not drawn; the dashed line is the overall NPS (``reference``; from a whole result by
    default). Returns the figure."""
    if isinstance(result_or_tables, NPSReport):
        if reference is None and not result_or_tables.overall.suppressed:
            reference = result_or_tables.overall.nps
        result_or_tables = result_or_tables.segments
    tables: Mapping[str, pd.DataFrame] = {c: t for c, t in result_or_tables.items() if len(t)}
    heights = [max(1.6, 0.42 * len(t) + 1.0) for t in tables.values()] or [1.6]
    fig, axes = plt.subplots(len(heights), 1, figsize=(8, sum(heights)), gridspec_kw={"height_ratios": heights},
                             squeeze=False)
    for ax, (col, table) in zip(axes[:, 0], tables.items()):
        shown = table.assign(label=[str(v) if hidden or pd.isna(n) else f"{v} (n={n:,})"
                                    for v, n, hidden in zip(table["value"], table["n"], table["suppressed"])])
        forest_plot(shown, "nps", "ci_low", "ci_high", "label", ref=reference, highlight_col="significant",
                    xlabel="NPS (points)", ax=ax,
                    title=label(f"NPS by {col} (highlighted: differs from the rest)",
                                f"按{i18n.zh_of(str(col)) or col}划分的 NPS（高亮：与其余客户显著不同）"))
    drawn = [privacy.visible(t) for t in tables.values()]
    lows = [t["ci_low"].min() for t in drawn if len(t)]
    highs = [t["ci_high"].max() for t in drawn if len(t)]
    if lows:
        pad = 0.05 * (max(highs) - min(lows) + 1)
        for ax in axes[:, 0]:
            ax.set_xlim(min(lows) - pad, max(highs) + pad)
    if not tables:
        axes[0, 0].text(0.5, 0.5, "no segment columns", ha="center", va="center", transform=axes[0, 0].transAxes)
    fig.tight_layout()
    return fig


def plot_trend(result_or_table, ax=None, title: str | None = None):
    """NPS per period with its interval band; red markers where the change from the previous period is
    significant; grey bands where a period is suppressed, gaps where it had no responses."""
    table = _part(result_or_table, "trend")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(table))
    y = table["nps"].to_numpy(dtype="float64")
    ax.fill_between(x, table["ci_low"].to_numpy(dtype="float64"), table["ci_high"].to_numpy(dtype="float64"),
                    color=ACCENT, alpha=0.18, linewidth=0, label="interval")
    ax.plot(x, y, "o-", color=ACCENT, lw=2, ms=4, label="NPS")
    flagged = table["change_significant"].to_numpy(bool)
    if flagged.any():
        ax.plot(x[flagged], y[flagged], "o", color=PALETTE[3], ms=10, mfc="none", mew=2, label="significant change")
    hidden = table["suppressed"].to_numpy(bool)
    for xi in x[hidden]:
        ax.axvspan(xi - 0.5, xi + 0.5, color=SUPPRESSED_COLOR, alpha=0.3, lw=0)
    ax.axhline(LOYAL_MARK, color=NPS_COLORS["promoter"], ls="--", lw=1, label="NPS 50 mark")
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step])
    many = len(x) > 8
    ax.set_xticklabels(table["period"].to_numpy()[::step], rotation=45 if many else 0, ha="right" if many else "center")
    ax.set_ylabel("NPS (points)")
    ax.set_title(title or "NPS over time" + (" (grey: suppressed)" if hidden.any() else ""))
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_dimensions(result_or_comparison, ax=None):
    """Mean perception (1–7) per SERVQUAL dimension for detractors, passives and promoters, with intervals."""
    comparison: DimensionComparison = _part(result_or_comparison, "dimensions")
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 4))
    m = comparison.means
    dims = list(dict.fromkeys(m["dimension"]))
    x = np.arange(len(dims))
    for k, cat in enumerate(NPS_CATEGORIES):
        rows = m[m["category"] == cat].set_index("dimension").reindex(dims)
        xs = x + (k - 1) * 0.22
        yerr = np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]])
        ax.errorbar(xs, rows["mean"], yerr=yerr, fmt="o", color=NPS_COLORS[cat], capsize=3, ms=7,
                    label=CATEGORY_LABELS[cat])
    ax.set_xticks(x)
    ax.set_xticklabels([i18n.word(dimension_label(d)) for d in dims])
    ax.set_ylabel("Mean perception (1–7)")
    ax.set_title("SERVQUAL perceptions by NPS category")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return ax


def plot_odds_ratios(result_or_model, ax=None):
    """Odds ratios (log scale) of being a promoter rather than a detractor, per scale point of each dimension."""
    model: PromoterModel = _part(result_or_model, "model")
    if len(model.table) == 0:
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 2))
        ax.text(0.5, 0.5, model_note(model.note) or "no model", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    table = model.table.assign(significant=model.table["p_value"] < 0.05, suppressed=False,
                               label=model.table["label"].map(i18n.word))
    ax = forest_plot(table, "odds_ratio", "ci_low", "ci_high", "label", ref=1.0, log_x=True,
                     highlight_col="significant", xlabel="Odds ratio per scale point (log scale)",
                     title="Promoter vs detractor: logistic model", ax=ax)
    plain_log_ticks(ax)
    return ax


PLAIN_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10, 20, 50, 100)


def plain_log_ticks(ax) -> None:
    """Plain numbers (0.5, 1, 2, 4) on a log x axis instead of matplotlib's '10⁰, 2×10⁰': ticks at the round
    values inside the axis' range, no minor labels."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    lo, hi = sorted(ax.get_xlim())
    ticks = [t for t in PLAIN_TICKS if lo <= t <= hi]
    if len(ticks) > 7:                        # a wide range: fewer, doubling or decade steps
        ticks = [t for t in ticks if t in (0.01, 0.1, 0.25, 0.5, 1, 2, 4, 10, 100)]
    if len(ticks) < 2:                        # a narrow range: two inner points (and 1), 3 digits
        inner = {float(f"{t:.3g}") for t in np.geomspace(lo, hi, 4)[1:-1]} | {1.0}
        ticks = sorted(t for t in inner if lo <= t <= hi)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(lo, hi)


def plot_themes(result_or_shares, ax=None):
    """Share of commenting detractors and promoters mentioning each theme."""
    shown = privacy.visible(_part(result_or_shares, "themes"))
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.5 * len(shown) + 1)))
    y = np.arange(len(shown))[::-1]
    ax.barh(y + 0.2, shown["share_detractors"].fillna(0), height=0.4, color=NPS_COLORS["detractor"],
            label="Detractors")
    ax.barh(y - 0.2, shown["share_promoters"].fillna(0), height=0.4, color=NPS_COLORS["promoter"], label="Promoters")
    ax.set_yticks(y)
    ax.set_yticklabels([i18n.word(theme) for theme in shown["label"]])
    ax.set_xlabel("Share of commenters mentioning the theme (%)")
    ax.set_title("What promoters and detractors write about")
    ax.legend(loc="lower right")
    return ax


def plot_truth(result_or_table, ax=None):
    """Estimated NPS with interval (blue) against the true population NPS (black cross), course data only."""
    table = _part(result_or_table, "truth")
    overall = i18n.word("overall")
    t = table.assign(label=[f"{i18n.word(s)}: {v}" if s != "overall" else (overall if v == "everyone" else
                                                                          f"{overall} ({v})")
                            for s, v in zip(table["scope"], table["value"])],
                     missed=~table["covered"], suppressed=False)
    ax = forest_plot(t, "estimate", "ci_low", "ci_high", "label", highlight_col="missed", xlabel="NPS (points)",
                     title="Estimated NPS (dot, interval) vs true NPS (x)", ax=ax)
    y = np.arange(len(t))[::-1]
    ax.plot(t["true"], y, "x", color="#000000", ms=8, mew=2)
    return ax
