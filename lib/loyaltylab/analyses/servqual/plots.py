"""Charts of notebook 02: expectations vs perceptions, gap intervals, reliability, loadings, the IPA grid, groups,
the trend, the zone of tolerance and estimated vs true. Each ``plot_x(result, ax=None) -> Axes``; suppressed groups
are listed but never drawn. Fixed labels are English (translated through the glossary when shown); labels built
from values are written in the notebook's language here."""
from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np

from loyaltylab import i18n, plots
from loyaltylab.i18n import column_zh

from .instrument import reader_label
from .priorities import QUADRANT_ORDER

if TYPE_CHECKING:
    from .analysis import ServqualReport


def _text(value) -> str:
    """A data-derived label for matplotlib: '$' would start mathtext."""
    return str(value).replace("$", r"\$")


def _axes(ax, size=(8, 4.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_gaps(result: ServqualReport, ax=None):
    """Per dimension the mean expectation (open circle) and perception (dot) joined by the gap; perceptions with
    their interval alone in SERVPERF mode."""
    t = result.dimensions
    ax = _axes(ax, (8, max(2.5, 0.55 * len(t) + 1.2)))
    y = np.arange(len(t))[::-1]
    names = [_text(reader_label(d)) for d in t["dimension"]]
    if result.mode == "servqual":
        for yi, r in zip(y, t.itertuples()):
            ax.plot([r.expectation, r.perception], [yi, yi], color="#999999", lw=2, zorder=1)
        ax.scatter(t["expectation"], y, s=70, facecolors="white", edgecolors=plots.PALETTE[0], lw=2,
                   label="Expectation (E)", zorder=2)
        ax.scatter(t["perception"], y, s=70, color=plots.PALETTE[3], label="Perception (P)", zorder=3)
        ax.set_title("Expectations vs perceptions by dimension")
        ax.legend(loc="lower right")
    else:
        ax.errorbar(t["perception"], y, xerr=[t["perception"] - t["perception_ci_low"],
                                              t["perception_ci_high"] - t["perception"]], fmt="o",
                    color=plots.PALETTE[0], capsize=3)
        ax.set_title("Mean perception by dimension (SERVPERF)")
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.set_xlabel(_mean_answer(result))
    ax.grid(axis="y", visible=False)
    return ax


def _mean_answer(result: ServqualReport) -> str:
    if not result.params.scale:
        return "Mean answer"
    low, high = result.params.scale
    return i18n.t(f"Mean answer (scale {low}–{high})", f"平均得分（{low}–{high} 分量表）")


def plot_gap_intervals(result: ServqualReport, ax=None):
    """Forest plot of the dimension gaps (and the overall score) with their intervals; 0 = expectations met."""
    t = result.dimensions.assign(name=[_text(reader_label(d)) for d in result.dimensions["dimension"]])
    o = result.overall.iloc[0]
    rows = t[["name", "estimate", "ci_low", "ci_high"]].copy()
    rows.loc[len(rows)] = [i18n.word("Overall"), o["estimate"], o["ci_low"], o["ci_high"]]
    servqual = result.mode == "servqual"
    what = "Gap P − E" if servqual else "Perception"
    level = f"{result.params.confidence:.0%}"
    return plots.forest_plot(rows, "estimate", "ci_low", "ci_high", "name",
                             ref=0.0 if servqual else None, xlabel=what,
                             title=i18n.t(f"{what} with {level} intervals",
                                          f"{'差距 P − E ' if servqual else '感知'}及其 {level} 置信区间"), ax=ax)


def plot_item_gaps(result: ServqualReport, dimension: str | None = None, ax=None):
    """Forest plot of the item gaps (or perceptions), optionally of one dimension; Holm-significant items in red."""
    t = result.items if dimension is None else result.items[result.items["dimension"] == dimension]
    servqual = result.mode == "servqual"
    rows = t.assign(name=[_text(f"{i} · {reader_label(d)}") for i, d in zip(t["item"], t["dimension"])],
                    low=t["ci_low"] if servqual else t["perception_ci_low"],
                    high=t["ci_high"] if servqual else t["perception_ci_high"])
    return plots.forest_plot(rows, "estimate", "low", "high", "name", ref=0.0 if servqual else None,
                             highlight_col="significant" if servqual else None,
                             xlabel="Gap P − E" if servqual else "Perception", title="Items", ax=ax)


def plot_reliability(result: ServqualReport, ax=None):
    """Cronbach's α per dimension and answer set, with the 0.70 mark."""
    from .scales import LOW_RELIABILITY

    a = result.reliability.alphas
    ax = _axes(ax)
    dims = list(dict.fromkeys(a["dimension"]))
    sets = list(dict.fromkeys(a["set"]))
    width = 0.8 / max(len(sets), 1)
    x = np.arange(len(dims))
    for k, which in enumerate(sets):
        part = a[a["set"] == which].set_index("dimension").reindex(dims)
        ax.bar(x + (k - (len(sets) - 1) / 2) * width, part["alpha"], width, label=which, color=plots.PALETTE[k])
    ax.axhline(LOW_RELIABILITY, color="#555555", ls="--", lw=1)
    ax.set_xticks(x)
    ax.set_xticklabels([_text(reader_label(d)) for d in dims], rotation=20, ha="right")
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("Cronbach's α")
    ax.set_title("Reliability by dimension")
    ax.legend(loc="upper center", ncol=len(sets))
    return ax


def plot_loadings(result: ServqualReport, ax=None):
    """Heat map of the rotated EFA loadings (items × factors)."""
    s = result.structure
    if s.efa is None:
        return None
    ld = s.efa.loadings
    ax = _axes(ax, (1.2 * ld.shape[1] + 3, 0.3 * ld.shape[0] + 1.5))
    im = ax.imshow(ld.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_yticks(range(ld.shape[0]))
    ax.set_yticklabels([_text(s.item_of[i]) for i in ld.index], fontsize=8)
    ax.set_xticks(range(ld.shape[1]))
    ax.set_xticklabels(ld.columns)
    for (i, j), v in np.ndenumerate(ld.to_numpy()):
        if abs(v) >= 0.3:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    ax.figure.colorbar(im, ax=ax, shrink=0.6)
    ax.set_title(i18n.t(f"EFA loadings ({s.efa.rotation})", f"EFA 因子载荷（{s.efa.rotation} 旋转）"))
    ax.grid(False)
    return ax


def plot_ipa(result: ServqualReport, ax=None):
    """Importance (y) against performance (x) with the crosshair at the dimensions' means and the quadrants."""
    ipa = result.ipa
    if ipa is None:
        return None
    t = ipa.table
    ax = _axes(ax, (7, 5.5))
    colors = dict(zip(QUADRANT_ORDER, (plots.PALETTE[3], plots.PALETTE[2], "#999999", plots.PALETTE[1])))
    for r in t.itertuples():
        ax.scatter(r.performance, r.importance, s=80, color=colors[r.quadrant], zorder=3)
        ax.annotate(_text(reader_label(r.dimension)), (r.performance, r.importance), textcoords="offset points",
                    xytext=(6, 4), fontsize=9)
    imp, perf = ipa.crosshair
    ax.axhline(imp, color="#555555", ls="--", lw=1)
    ax.axvline(perf, color="#555555", ls="--", lw=1)
    corners = {"concentrate here": (0.02, 0.97, "left", "top"), "keep up the good work": (0.98, 0.97, "right", "top"),
               "low priority": (0.02, 0.03, "left", "bottom"), "possible overkill": (0.98, 0.03, "right", "bottom")}
    for name, (x, y, ha, va) in corners.items():
        ax.text(x, y, name, transform=ax.transAxes, ha=ha, va=va, color=colors[name], fontsize=9)
    ax.margins(0.25)
    ax.set_xlabel("Performance (mean perception)")
    ax.set_ylabel("Importance (" + ("derived" if ipa.source == "derived" else "stated") + ")")
    ax.set_title("Importance-performance analysis")
    return ax


def plot_servperf(result: ServqualReport, ax=None):
    """R² of each outcome on perceptions (SERVPERF) and on gaps (SERVQUAL)."""
    t = result.servperf
    if t is None or not len(t):
        return None
    ax = _axes(ax)
    x = np.arange(len(t))
    ax.bar(x - 0.2, t["r2_servperf"], 0.4, label="perceptions (SERVPERF)", color=plots.PALETTE[0])
    if result.mode == "servqual":
        ax.bar(x + 0.2, t["r2_servqual"], 0.4, label="gaps (SERVQUAL)", color=plots.PALETTE[1])
    ax.set_xticks(x)
    ax.set_xticklabels([_text(o) for o in t["outcome"]])
    ax.set_ylabel("R²")
    ax.set_title("Which score predicts the outcomes?")
    ax.legend()
    return ax


def plot_segments(result: ServqualReport, column: str | None = None, measure: str = "overall", ax=None):
    """The groups of one segment column on one score (overall or a dimension); hidden groups listed, not drawn."""
    if not result.segments:
        return None
    column = column or next(iter(result.segments))
    t = result.segments[column]
    t = t[t["measure"] == measure].assign(name=lambda d: [_text(v) for v in d["value"]])
    what, what_zh = ("gap", "差距") if result.mode == "servqual" else ("perception", "感知")
    score_zh = "总体" if measure == "overall" else reader_label(measure)
    return plots.forest_plot(t, "estimate", "ci_low", "ci_high", "name", highlight_col="significant",
                             ref=0.0 if result.mode == "servqual" else None,
                             xlabel=i18n.t(f"{'Overall' if measure == 'overall' else reader_label(measure)} {what}",
                                           f"{score_zh}{what_zh}"),
                             title=_text(i18n.t(f"By {column}", f"按{column_zh(column)}")), ax=ax)


def plot_trend(result: ServqualReport, ax=None, table=None):
    """The overall score per period with its interval band; hidden periods are gaps in the line."""
    t = result.trend if table is None else table
    if t is None:
        return None
    ax = _axes(ax, (9, 3.6))
    shown = t.copy()
    shown.loc[shown["suppressed"].astype(bool), ["estimate", "ci_low", "ci_high"]] = np.nan
    x = np.arange(len(shown))
    ax.plot(x, shown["estimate"], marker="o", color=plots.ACCENT)
    ax.fill_between(x, shown["ci_low"].astype(float), shown["ci_high"].astype(float), color=plots.ACCENT, alpha=0.2)
    flagged = shown[shown["significant"].astype(bool)]
    ax.scatter(np.flatnonzero(shown["significant"].astype(bool)), flagged["estimate"], s=140, facecolors="none",
               edgecolors=plots.PALETTE[3], lw=2, zorder=3)
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([_text(p) for p in shown["period"]][::step], rotation=30, ha="right")
    ax.set_ylabel("Overall gap" if result.mode == "servqual" else "Overall perception")
    ax.set_title("Over time")
    return ax


def plot_zone(result: ServqualReport, ax=None):
    """Per dimension the zone between adequate and desired service, and the perception in it."""
    z = result.zone
    if z is None:
        return None
    ax = _axes(ax, (8, 0.6 * len(z) + 1.5))
    y = np.arange(len(z))[::-1]
    ax.barh(y, z["desired"] - z["adequate"], left=z["adequate"], color=plots.PALETTE[5], alpha=0.4,
            label="zone of tolerance")
    ax.scatter(z["perception"], y, color=plots.PALETTE[3], zorder=3, label="perception")
    ax.set_yticks(y)
    ax.set_yticklabels([_text(reader_label(d)) for d in z["dimension"]])
    ax.set_xlabel("Mean answer")
    ax.set_title("Zone of tolerance")
    ax.legend(loc="lower right")
    return ax


def plot_truth(result: ServqualReport, ax=None):
    """Estimated (with interval) vs true gaps of the dimensions and the overall score (course data)."""
    t = result.truth
    if t is None:
        return None
    part = t[t["scope"] != "item"].assign(name=lambda d: [_text(i18n.word(x) if x == "all dimensions" else
                                                                reader_label(x)) for x in d["name"]])
    ax = plots.forest_plot(part, "estimate", "ci_low", "ci_high", "name", title="Estimated vs true", ax=ax,
                           xlabel="Gap P − E" if result.mode == "servqual" else "Perception")
    y = np.arange(len(part))[::-1]
    ax.scatter(part["true"], y, marker="x", color=plots.PALETTE[3], s=60, zorder=4, label="true")
    ax.legend(loc="lower right")
    return ax


__all__ = ["plot_gaps", "plot_gap_intervals", "plot_item_gaps", "plot_reliability", "plot_loadings", "plot_ipa",
           "plot_servperf", "plot_segments", "plot_trend", "plot_zone", "plot_truth"]
