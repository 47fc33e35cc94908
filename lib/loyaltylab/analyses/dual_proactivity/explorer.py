"""The JupyterLab explorer of notebook 05 (ipywidgets; the batch report shows the static charts instead): move the
moderator to see the slope of x there, and move the 2×2 cut points to see the cells and the synergy change."""
from __future__ import annotations

import math

from loyaltylab.narrative import esc, interval, p_value, signed
from loyaltylab.stats import moderation as mod

from . import interaction as interaction_mod


def slope_line(result, w_value: float) -> str:
    """'At moderator = 3: slope of x +0.120 (95% CI …, p = …)' for one moderator value."""
    t = mod.simple_slopes(result.interaction.model, at=[w_value]).iloc[0]
    inside = result.interaction.jn.w_min <= w_value <= result.interaction.jn.w_max
    return (f"At {esc(result.params.moderator)} = {w_value:g}: slope of {esc(result.params.x)} "
            f"{signed(t['estimate'], 3)} ({interval(t['ci_low'], t['ci_high'], result.params.confidence, 3)}, "
            f"{p_value(t['p_value'])})" + ("" if inside else " — outside the observed range"))


def cut_line(result, x_cut: float, w_cut: float) -> str:
    """The synergy contrast at other cut points (cells under min_cell: not shown)."""
    from dataclasses import replace

    p = replace(result.params, x_cut=x_cut, moderator_cut=w_cut)
    try:
        it = interaction_mod.fit_interaction(result.data.responses, p, x_cut, w_cut)
    except Exception as exc:  # noqa: BLE001 - any failure is shown as text in the widget
        return f"Cannot cut there: {esc(str(exc))}"
    s = it.synergy
    if s is None or not math.isfinite(s.estimate):
        return "A cell is empty or smaller than min_cell at these cuts: no synergy shown."
    return (f"Cut at {esc(result.params.x)} > {x_cut:g}, {esc(result.params.moderator)} > {w_cut:g}: synergy "
            f"{signed(s.estimate, 3)} ({interval(s.ci_low, s.ci_high, result.params.confidence, 3)}, "
            f"{p_value(s.p_value)})")


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
                                   max=float(jn.w_max), step=step_w, description="Moderator")
    x_cut = widgets.FloatSlider(value=result.x_cut, min=float(x.min()), max=float(x.max()),
                                step=(float(x.max() - x.min()) / 20) or 1.0, description="x cut")
    w_cut = widgets.FloatSlider(value=result.w_cut, min=float(jn.w_min), max=float(jn.w_max), step=step_w,
                                description="Moderator cut")
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
