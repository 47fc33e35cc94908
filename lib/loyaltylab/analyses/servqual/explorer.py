"""The JupyterLab explorer of notebook 02 (ipywidgets; the batch report shows the static charts instead)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from loyaltylab import i18n
from loyaltylab.i18n import column_zh

from . import groups, plots
from .instrument import reader_label
from .views import view

if TYPE_CHECKING:
    from .analysis import ServqualReport


def explorer(result: ServqualReport):
    """Pick a dimension (or the overall score), a segment column and a period: shows the dimension's item gaps, the
    segment comparison on that score and its trend (small groups stay suppressed; the report's parameters)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from loyaltylab import notebook

    p = result.params
    word = i18n.word
    dims = [(word("Overall score"), "overall")] + [(reader_label(d, True), d) for d in result.instrument.dimensions]
    measure = widgets.Dropdown(options=dims, value="overall", description=word("Score"))
    cols = list(result.segments) or [word("(none)")]
    column = widgets.Dropdown(options=cols, description=word("Segment"))
    period = widgets.Dropdown(options=[(word("Quarter"), "Q"), (word("Month"), "M"), (word("Year"), "Y")],
                              value=p.period, description=word("Period"))
    out = widgets.Output()

    def render(*_):
        out.clear_output(wait=True)
        with out:
            m = measure.value
            fig, ax = plt.subplots(figsize=(8, 4))
            plots.plot_item_gaps(result, None if m == "overall" else m, ax=ax)
            display(fig)
            plt.close(fig)
            if result.segments:
                fig, ax = plt.subplots(figsize=(8, 3.5))
                plots.plot_segments(result, column.value, m, ax=ax)
                display(fig)
                plt.close(fig)
                table = view(result, "segment", column.value)
                score = "overall" if m == "overall" else reader_label(m, True)
                notebook.show_table(table[table["Score"] == score],
                                    caption=i18n.t(f"By {column.value}", f"按{column_zh(column.value)}"), precision=2)
            if result.trend is not None:
                scores = result.scores[["overall"]] if m == "overall" else result.scores[[m]].rename(
                    columns={m: "overall"})
                table = groups.by_period(result.data.frame.loc[result.scores.index, "date"], scores,
                                         period=period.value, clusters=result.clusters, min_cell=p.min_cell,
                                         confidence=p.confidence)
                fig, ax = plt.subplots(figsize=(9, 3.4))
                plots.plot_trend(result, ax=ax, table=table)
                display(fig)
                plt.close(fig)

    for w in (measure, column, period):
        w.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([measure, column, period]), out])
