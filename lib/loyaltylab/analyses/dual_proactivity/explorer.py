"""The JupyterLab explorer of notebook 05 (ipywidgets; the batch report shows the static charts instead): move the
moderator to see the slope of x there, and move the 2×2 cut points to see the cells and the synergy change."""
from __future__ import annotations

import math

from loyaltylab import i18n
from loyaltylab.i18n import column_zh
from loyaltylab.narrative import esc, interval, p_value, signed
from loyaltylab.stats import moderation as mod

from . import interaction as interaction_mod
from .describe import _label, interval_zh


def slope_line(result, w_value: float) -> str:
    """'At moderator = 3: slope of x +0.120 (95% CI …, p = …)' for one moderator value."""
    t = mod.simple_slopes(result.interaction.model, at=[w_value]).iloc[0]
    inside = result.interaction.jn.w_min <= w_value <= result.interaction.jn.w_max
    w, x, conf = esc(result.params.moderator), esc(result.params.x), result.params.confidence
    w_zh, x_zh = esc(column_zh(result.params.moderator)), esc(column_zh(result.params.x))
    est, p = signed(t["estimate"], 3), p_value(t["p_value"])
    return i18n.t(f"At {w} = {w_value:g}: slope of {x} "
                  f"{est} ({interval(t['ci_low'], t['ci_high'], conf, 3)}, "
                  f"{p})" + ("" if inside else " — outside the observed range"),
                  f"{w_zh} = {w_value:g} 时，{x_zh}的斜率为 {est}（{interval_zh(t['ci_low'], t['ci_high'], conf, 3)}，{p}）"
                  + ("" if inside else "——超出观测范围"))


def cut_line(result, x_cut: float, w_cut: float) -> str:
    """The synergy contrast at other cut points (cells under min_cell: not shown)."""
    from dataclasses import replace

    p = replace(result.params, x_cut=x_cut, moderator_cut=w_cut)
    try:
        it = interaction_mod.fit_interaction(result.data.responses, p, x_cut, w_cut)
    except Exception as exc:  # noqa: BLE001 - any failure is shown as text in the widget
        return i18n.t(f"Cannot cut there: {esc(str(exc))}", f"无法在此处切分：{esc(str(exc))}")
    s = it.synergy
    if s is None or not math.isfinite(s.estimate):
        return i18n.t("A cell is empty or smaller than min_cell at these cuts: no synergy shown.",
                      "在这些切分点上有组为空或少于 min_cell：不显示协同效应。")
    x, w, conf = esc(result.params.x), esc(result.params.moderator), result.params.confidence
    x_zh, w_zh = esc(column_zh(result.params.x)), esc(column_zh(result.params.moderator))
    est, p = signed(s.estimate, 3), p_value(s.p_value)
    return i18n.t(f"Cut at {x} > {x_cut:g}, {w} > {w_cut:g}: synergy "
                  f"{est} ({interval(s.ci_low, s.ci_high, conf, 3)}, {p})",
                  f"以{x_zh} > {x_cut:g}、{w_zh} > {w_cut:g} 切分：协同效应 {est}"
                  f"（{interval_zh(s.ci_low, s.ci_high, conf, 3)}，{p}）")


def explorer(result):
    """An ipywidgets panel: a moderator slider (the simple slope of x there) and two cut-point sliders (the 2×2
    cells and the synergy contrast at those cuts)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from loyaltylab import notebook

    from . import plots
    from .views import view

    jn = result.interaction.jn
    x = result.data.responses[result.params.x].dropna()
    step_w = 1.0 if float(jn.w_max - jn.w_min) >= 10 else (jn.w_max - jn.w_min) / 20 or 1.0
    w_slider = widgets.FloatSlider(value=float(result.interaction.model.w_mean), min=float(jn.w_min),
                                   max=float(jn.w_max), step=step_w, description=_label("Moderator", "调节变量"))
    x_cut = widgets.FloatSlider(value=result.x_cut, min=float(x.min()), max=float(x.max()),
                                step=(float(x.max() - x.min()) / 20) or 1.0, description=_label("x cut", "x 切分点"))
    w_cut = widgets.FloatSlider(value=result.w_cut, min=float(jn.w_min), max=float(jn.w_max), step=step_w,
                                description=_label("Moderator cut", "调节变量切分点"))
    out = widgets.Output()

    def render(*_):
        out.clear_output(wait=True)
        with out:
            notebook.show_findings([slope_line(result, w_slider.value),
                                    cut_line(result, x_cut.value, w_cut.value)], title="Selection")
            fig, ax = plt.subplots(figsize=(8, 4))
            plots.plot_jn(result, ax=ax)
            ax.axvline(w_slider.value, color="#000000", lw=1)
            display(fig)
            plt.close(fig)
            if result.interaction.cells is not None:
                notebook.show_table(view(result.interaction.cells, "cells", result), caption="2×2 at the report's cuts")

    for w in (w_slider, x_cut, w_cut):
        w.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([w_slider]), widgets.HBox([x_cut, w_cut]), out])
