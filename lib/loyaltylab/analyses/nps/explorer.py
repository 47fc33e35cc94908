"""The JupyterLab explorer of notebook 01 (ipywidgets; the batch report shows the static charts instead)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from loyaltylab import i18n
from loyaltylab.narrative import count, esc, signed

from . import plots, tables

if TYPE_CHECKING:
    from .analysis import NPSReport


def selection_line(label: str, res) -> str:
    """'segment = Premium: n = 1,204, NPS +31.0 [+27.1, +34.9]' (the value escaped; suppressed when small)."""
    hidden = i18n.word("suppressed")
    shown = hidden if res.suppressed else f"{signed(res.nps)} [{signed(res.ci_low)}, {signed(res.ci_high)}]"
    return f"{esc(i18n.word(label))}: n = {count(res.n) if not res.suppressed else hidden}, NPS {shown}"


def explorer(result: NPSReport):
    """An ipywidgets panel: pick a segment column, a period and optionally one segment value to look within;
    shows the segment table and forest plot, and the trend, for that selection (small cells suppressed, the same
    parameters as the report; on everything a fan-out part selects, its cells hidden for the batch stay hidden)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from loyaltylab import notebook

    from .views import segment_caption, view

    data, p = result.data, result.params
    f = data.frame
    cols = list(data.segment_cols)
    within = ["All"] + [f"{c} = {v}" for c in cols for v in sorted(f[c].dropna().astype(str).unique())]
    group = widgets.Dropdown(options=cols or ["(none)"], description=i18n.word("Group by"))
    per = widgets.Dropdown(options=[(i18n.word(name), code) for name, code in (("Quarter", "Q"), ("Month", "M"),
                                                                                ("Year", "Y"))],
                           value=p.period, description=i18n.word("Period"))
    sub = widgets.Dropdown(options=within, value="All", description=i18n.word("Within"))
    out = widgets.Output()
    cluster = "cluster_id" if data.cluster_col else None
    opts = {"min_cell": p.min_cell, "confidence": p.confidence, "ci_method": p.ci_method, "cluster_col": cluster}

    def subset():
        if sub.value == "All":
            return f
        col, _, value = sub.value.partition(" = ")
        return f[f[col].astype(str) == value]

    def render(*_):
        out.clear_output(wait=True)
        with out:
            part = subset()
            res = tables.overall(part, **opts)
            notebook.show_findings([selection_line(sub.value, res)], title="Selection")
            linked = result.linked if sub.value == "All" else None
            if cols:
                table = tables.by_segment(part, group.value, hide=linked.segments.get(group.value) if linked else None,
                                          **opts)
                notebook.show_table(view(table, "segment"), caption=segment_caption(group.value))
                fig = plots.plot_segments({group.value: table}, reference=None if res.suppressed else res.nps)
                display(fig)
                plt.close(fig)
            if data.has_dates:
                fig, ax = plt.subplots(figsize=(9, 3.6))
                same = linked is not None and per.value == p.period
                plots.plot_trend(tables.trend(part, period=per.value, hide=linked.trend if same else None, **opts),
                                 ax=ax)
                display(fig)
                plt.close(fig)

    for w in (group, per, sub):
        w.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([group, per, sub]), out])
