"""The JupyterLab explorer of notebook 03 (ipywidgets; the batch report shows the static charts instead): pick an
outcome, a set of drivers and a segment to look within; the decomposition (point estimates, no bootstrap) is redone
for that selection. Selections with fewer than ``min_cell`` respondents are not shown."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loyaltylab.errors import DataError
from loyaltylab.narrative import count, esc, number

from . import importance, plots
from .data import CLUSTER, PROMOTER
from .views import name
from .words import OUTCOME_ZH, pick, t

if TYPE_CHECKING:
    from .analysis import DriversReport


def selection(result: DriversReport, outcome: str, drivers, within: str = "All") -> tuple[pd.DataFrame | None, str]:
    """The decomposition for one selection: (driver table or None, a one-line summary, values escaped)."""
    f, p = result.data.frame, result.params
    drivers = [d for d in drivers if d != outcome]
    if not drivers:
        return None, t("Pick at least one driver other than the outcome.", "请至少选择一个结果变量以外的驱动因素。")
    rows = np.ones(len(f), dtype=bool)
    if within != "All":
        col, _, value = within.partition(" = ")
        rows &= (f[col].astype(str) == value).to_numpy()
    controls = list(result.data.control_columns)
    cols = [outcome, *drivers, *controls]
    model = f.loc[rows, cols].astype("float64")
    ok = np.isfinite(model.to_numpy()).all(axis=1)
    model = model.loc[ok]
    people = (f.loc[rows, CLUSTER][ok].nunique() if CLUSTER in f else len(model))
    if people < p.min_cell:
        return None, t(f"{esc(within)}: fewer than {p.min_cell} respondents — suppressed.",
                       f"{_within_zh(within)}：受访者少于 {p.min_cell} 人——已抑制。")
    try:
        dec = importance.decompose(model, outcome, drivers, controls, {}, None, n_boot=0, seed=p.seed,
                                   confidence=p.confidence, logistic_outcome=outcome == PROMOTER)
    except DataError as exc:
        return None, esc(str(exc))
    fit = "McFadden R²" if outcome == PROMOTER else "R²"
    fit_zh = "麦克法登 R²" if outcome == PROMOTER else "R²"
    n, r2 = count(len(model)), number(dec.r2, 3)
    return dec.table(), t(f"{esc(within)}: n = {n}, {fit} = {r2} for {esc(outcome)} on {len(drivers)} drivers",
                          f"{_within_zh(within)}：n = {n}，{OUTCOME_ZH.get(outcome, esc(outcome))} 对 {len(drivers)} "
                          f"个驱动因素的 {fit_zh} = {r2}")


def _within_zh(within: str) -> str:
    return "全部受访者" if within == "All" else esc(within)


def explorer(result: DriversReport):
    """An ipywidgets panel: outcome, drivers and a segment to look within; shows the shares and their table."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from loyaltylab import i18n, notebook

    d = result.data
    outcome = widgets.Dropdown(options=list(d.explore_outcomes), value=d.outcome,
                               description=pick("Outcome", "结果变量"))
    drivers = widgets.SelectMultiple(options=[(name(x), x) for x in d.explore_drivers], value=tuple(d.drivers),
                                     description=pick("Drivers", "驱动因素"), rows=min(8, len(d.explore_drivers)))
    within = [(pick("All", "全部"), "All")] + [(f"{c} = {v}", f"{c} = {v}") for c in d.segment_cols
                                              for v in sorted(d.frame[c].dropna().astype(str).unique())]
    sub = widgets.Dropdown(options=within, value="All", description=pick("Within", "范围"))
    out = widgets.Output()

    def render(*_):
        out.clear_output(wait=True)
        with out:
            table, line = selection(result, outcome.value, drivers.value, sub.value)
            notebook.show_findings([line], title="Selection")
            if table is not None:
                fig, ax = plt.subplots(figsize=(8, max(2.6, 0.45 * len(table) + 1.2)))
                title = plots.text(outcome.value)
                plots.plot_selection(table, pick(f"What drives {title}", f"{title} 的驱动因素"), ax=ax)
                i18n.translate_figure(fig)
                display(fig)
                plt.close(fig)
                from .views import view

                notebook.show_table(view(table, "drivers"), caption="Shares for this selection", precision=1)

    for w in (outcome, drivers, sub):
        w.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([outcome, sub]), drivers, out])
