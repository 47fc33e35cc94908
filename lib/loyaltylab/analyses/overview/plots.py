"""The overview's charts. Hidden (suppressed) bars are never drawn with their height; each chart says when some
are hidden. Data-derived labels are drawn with ``parse_math=False`` so a ``$`` in a name is text, not mathtext.
Fixed labels are English here and put into the notebook's language when shown (:func:`loyaltylab.i18n.translate_figure`,
glossary ``overview.json``); labels with numbers in them are written in both languages with :func:`loyaltylab.i18n.t`."""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from loyaltylab import i18n, privacy
from loyaltylab.constants import DIMENSIONS
from loyaltylab.plots import NPS_COLORS, PALETTE, SUPPRESSED_COLOR

HISTOGRAM_TITLES = {"tenure_days": "Tenure (days)", "monthly_revenue": "Monthly revenue"}
HIDDEN_WHAT_ZH = {"bars": "个柱", "scores": "个分值", "periods": "个时期"}


def _table(result_or_table, attribute: str):
    return getattr(result_or_table, attribute) if hasattr(result_or_table, attribute) else result_or_table


def hidden_note(ax, n_hidden: int, min_cell: int | None, what: str = "bars") -> None:
    """Say on the chart (under the x-axis label; call it after setting the label) that small bars are hidden."""
    if n_hidden:
        below = f"fewer than {min_cell}" if min_cell else "too few"
        below_zh = f"少于 {min_cell} 人" if min_cell else "人数过少"
        note = i18n.t(f"{n_hidden} {what} hidden to protect groups of {below} people",
                      f"已隐藏 {n_hidden} {HIDDEN_WHAT_ZH.get(what, what)}，以保护{below_zh}的群体")
        label = i18n.word(ax.get_xlabel())
        ax.set_xlabel(f"{label}\n{note}" if label else note, parse_math=False)


def _min_cell(result_or_table) -> int | None:
    return getattr(result_or_table, "min_cell", None)


def plot_nps_distribution(result_or_table, ax=None):
    """Responses per NPS score, coloured by category; hidden scores are marked, not drawn."""
    dist = _table(result_or_table, "nps_distribution")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    shown = privacy.visible(dist)
    ax.bar(shown["score"], shown["n"].astype("float64"), color=[NPS_COLORS[c] for c in shown["category"]])
    hidden = dist.loc[dist["suppressed"].astype(bool), "score"]
    for score in hidden:
        ax.text(score, 0, "hidden", rotation=90, ha="center", va="bottom", fontsize=8, color=SUPPRESSED_COLOR)
    ax.set_xticks(range(11))
    ax.set_xlabel("Likelihood to recommend (0–10)")
    hidden_note(ax, len(hidden), _min_cell(result_or_table), "scores")
    ax.set_ylabel("Responses")
    ax.set_title("NPS answers: detractors 0–6, passives 7–8, promoters 9–10")
    return ax


def plot_dimension_means(result_or_table, ax=None):
    """Mean expectation and perception per SERVQUAL dimension (1–7); suppressed dimensions left empty."""
    means = _table(result_or_table, "dimension_means")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    x = np.arange(len(means))
    ax.bar(x - 0.2, means["expectation"], width=0.4, label="Expectation", color=PALETTE[1])
    ax.bar(x + 0.2, means["perception"], width=0.4, label="Perception", color=PALETTE[0])
    ax.set_xticks(x)
    ax.set_xticklabels([i18n.word(DIMENSIONS[d]["en"]) if d in DIMENSIONS else str(d) for d in means["dimension"]],
                       parse_math=False)
    ax.set_ylim(1, 7)
    ax.set_ylabel("Mean (1–7)")
    ax.set_title("SERVQUAL: expectation vs perception by dimension")
    ax.legend()
    return ax


def plot_histogram(table: pd.DataFrame, ax=None, title: str | None = None, min_cell: int | None = None,
                   ylabel: str = "Customers"):
    """Bars of a binned table (:func:`..distributions.histogram`); suppressed bars are not drawn."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    shown = privacy.visible(table)
    ax.bar(shown["left"], shown["n"].astype("float64"), width=(shown["right"] - shown["left"]), align="edge",
           color=PALETTE[0])
    if len(table):
        ax.set_xlim(float(table["left"].iloc[0]), float(table["right"].iloc[-1]))
    # at most five tick labels: long numbers in a narrow panel (4.5 in) ran into each other
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    if title:
        ax.set_title(title, parse_math=False)
    ax.set_ylabel(ylabel)
    hidden_note(ax, int(table["suppressed"].astype(bool).sum()), min_cell)
    return ax


def plot_periods(table: pd.DataFrame, ax=None, title: str | None = None, min_cell: int | None = None,
                 ylabel: str = "Rows"):
    """Bars of a period count table (:func:`..distributions.period_counts`: ``period`` as '2024-03', '2024Q1' or
    '2024'), suppressed periods not drawn, on a real date axis whose labels matplotlib's AutoDateLocator and
    ConciseDateFormatter space so they never overlap."""
    import matplotlib.dates as mdates

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    if len(table):
        periods = pd.PeriodIndex(table["period"].astype(str), freq=_period_freq(str(table["period"].iloc[0])))
        start = periods.start_time
        width = (periods.end_time - start).days.to_numpy(dtype="float64") * 0.9
        shown = ~table["suppressed"].astype(bool).to_numpy()
        ax.bar(mdates.date2num(start.to_pydatetime())[shown], table["n"].astype("float64").to_numpy()[shown],
               width=width[shown], align="edge", color=PALETTE[0])
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if title:
        ax.set_title(title, parse_math=False)
    ax.set_ylabel(ylabel)
    hidden_note(ax, int(table["suppressed"].astype(bool).sum()), min_cell, "periods")
    return ax


def _period_freq(label: str) -> str:
    """The pandas frequency of a period label: '2024-03' → M, '2024Q1' → Q, '2024' → Y."""
    return "Q" if "Q" in label else "M" if "-" in label else "Y"


def plot_histograms(result):
    """Tenure and monthly revenue of the customers, small bars hidden."""
    hists: Mapping[str, pd.DataFrame] = result.histograms
    k = max(len(hists), 1)
    fig, axes = plt.subplots(1, k, figsize=(4.5 * k, 3.6), squeeze=False)
    for ax, (col, table) in zip(axes[0], hists.items()):
        plot_histogram(table, ax=ax, title=HISTOGRAM_TITLES.get(col, col), min_cell=result.min_cell)
    fig.tight_layout()
    return fig


def plot_segment_sizes(result_or_segments):
    """Customers per level of each segment column; suppressed levels are not drawn (their number is in the title)."""
    segments = _table(result_or_segments, "segments")
    k = max(len(segments), 1)
    fig, axes = plt.subplots(1, k, figsize=(4.2 * k, 3.6), squeeze=False)
    for ax, (col, table) in zip(axes[0], segments.items()):
        plot_counts(table, ax=ax, label_col="value", title=str(col).capitalize(), xlabel="Customers")
    fig.tight_layout()
    return fig


def plot_counts(table: pd.DataFrame, ax=None, label_col: str = "value", title: str | None = None,
                xlabel: str = "Rows", limit: int | None = None):
    """Horizontal bars of the visible rows of a suppressed count table (at most ``limit``, in table order)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    shown = privacy.visible(table)
    shown = shown if limit is None else shown.head(limit)
    y = np.arange(len(shown))[::-1]
    ax.barh(y, shown["n"].astype("float64"), color=PALETTE[0])
    ax.set_yticks(y)
    ax.set_yticklabels(shown[label_col].astype(str).tolist(), parse_math=False)
    n_hidden = int(table["suppressed"].astype(bool).sum())
    if title is not None:
        if n_hidden:
            title = i18n.t(f"{title} ({n_hidden} suppressed)", f"{i18n.word(title)}（{n_hidden} 个已抑制）")
        ax.set_title(title, parse_math=False)
    ax.set_xlabel(xlabel)
    return ax
