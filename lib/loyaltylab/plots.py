"""One look for every chart: theme, palette, labels; plus the chart types several analyses share."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

# Colour-blind-safe (Okabe–Ito), readable on a projector.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
NPS_COLORS = {"detractor": "#D55E00", "passive": "#999999", "promoter": "#009E73"}
SUPPRESSED_COLOR = "#BBBBBB"
ACCENT = PALETTE[0]


CJK_FONT = "Noto Sans CJK SC"
"""Chinese glyphs come from Noto Sans CJK SC, shipped by the ``mplfonts`` dependency (SIL Open Font License)."""


def register_cjk_font() -> str | None:
    """Register the bundled CJK font with matplotlib (once); its family name, or None if it is not installed."""
    from importlib import resources

    from matplotlib import font_manager

    if any(f.name == CJK_FONT for f in font_manager.fontManager.ttflist):
        return CJK_FONT
    try:
        path = resources.files("mplfonts") / "fonts" / "NotoSansCJKsc-Regular.otf"
    except ModuleNotFoundError:
        return None
    if not path.is_file():
        return None
    font_manager.fontManager.addfont(str(path))
    return CJK_FONT


def set_theme(context: str = "notebook") -> None:
    """Apply the project theme (seaborn whitegrid, larger type, the shared palette) with a CJK fallback font, so
    Chinese category values and labels render instead of boxes and raise no missing-glyph warnings; every chart
    shown inline carries alt text (:mod:`loyaltylab.alt_text`)."""
    import logging

    from loyaltylab import alt_text, i18n

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # the CJK font has no bold face: no notice
    sns.set_theme(context=context, style="whitegrid", palette=PALETTE, font_scale=1.05)
    alt_text.install()
    cjk = register_cjk_font()
    plt.rcParams.update(
        {
            "font.family": ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"],
            "figure.figsize": (8, 4.5),
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "axes.titleweight": "bold" if i18n.current() == "en" else "normal",  # the CJK font has no bold face
            "axes.titlesize": 13,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )


def forest_plot(
    table: pd.DataFrame,
    estimate: str,
    low: str,
    high: str,
    label: str,
    ref: float | None = None,
    suppressed_col: str = "suppressed",
    highlight_col: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    log_x: bool = False,
    ax=None,
):
    """Point estimates with intervals, one row per group; suppressed groups are listed but not drawn."""
    rows = table.reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.0, 0.42 * len(rows) + 1.0)))
    y = np.arange(len(rows))[::-1]
    hidden = rows[suppressed_col].fillna(False).to_numpy(bool) if suppressed_col in rows else np.zeros(len(rows), bool)
    hot = rows[highlight_col].fillna(False).to_numpy(bool) if highlight_col and highlight_col in rows else None
    for yi, (_, r), h in zip(y, rows.iterrows(), hidden):
        if h:
            ax.text(0.01, yi, "suppressed (small group)", va="center", color=SUPPRESSED_COLOR,
                    transform=ax.get_yaxis_transform(), fontsize=9)
            continue
        color = PALETTE[3] if hot is not None and hot[len(rows) - 1 - yi] else ACCENT
        ax.plot([r[low], r[high]], [yi, yi], color=color, lw=2)
        ax.plot(r[estimate], yi, "o", color=color, ms=7)
    if ref is not None:
        ax.axvline(ref, color="#555555", ls="--", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels(rows[label].astype(str))
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel or estimate)
    if title:
        ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return ax
