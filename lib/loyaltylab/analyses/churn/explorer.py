"""The interactive view (JupyterLab): one segment's survival curve with the horizon, and its early-warning summary.
Only the segments the suppressed KM table shows can be picked; the notebook cell only displays :func:`explorer`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab import i18n, privacy
from loyaltylab.analyses.churn.baseline import conditional_churn_probability, cumhaz_for, partial_hazard
from loyaltylab.analyses.churn.data import UNIT_ZH
from loyaltylab.analyses.churn.km import kaplan_meier
from loyaltylab.analyses.churn.plots import plot_km

ALL = "All customers"


def explorer_segments(result) -> list[str]:
    """The segments the interactive view may offer: exactly those the suppressed KM table shows."""
    if result.km_groups is None:
        return []
    return [str(v) for v in privacy.visible(result.km_groups.table)["value"]]


def plot_explorer(result, segment: str, horizon: float):
    """(figure, summary table) for one segment (or all customers) at ``horizon``; a hidden or too small group gets a
    'suppressed' figure and no table."""
    import matplotlib.pyplot as plt

    sd = result.data
    groups = sd.extra["segment"] if "segment" in sd.extra else pd.Series("All", index=sd.frame.index)
    mask = (groups == segment).to_numpy() if segment != ALL else np.ones(sd.n, dtype=bool)
    sub = sd.frame.loc[mask]
    if segment != ALL and segment not in explorer_segments(result):
        sub = sub.iloc[:0]       # a group the suppressed table hides is never drawn
    if len(sub) < result.min_cell:
        fig, ax = plt.subplots(figsize=(8, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, i18n.t(f"{segment}: suppressed (fewer than {result.min_cell} customers)",
                                 f"{segment}：已隐藏（客户少于 {result.min_cell} 位）"), ha="center")
        return fig, None
    km = kaplan_meier(sub["duration"], sub["event"], times=[horizon], label=str(segment),
                      confidence=result.confidence)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    plot_km(km, time_unit=sd.time_unit, at_risk=False, horizon=horizon, ax=ax, title=i18n.t(f"{segment}: survival", f"{i18n.word(segment) if segment == ALL else segment}：生存曲线"))
    msd = result.data_for_models                     # the customers the scoring model knows
    active = sub.index[sub["event"].to_numpy() == 0].intersection(msd.frame.index)
    t0 = msd.frame.loc[active, "duration"].to_numpy(dtype=float)
    h0, _ = cumhaz_for(result.scoring, msd, active, t0)
    h1, _ = cumhaz_for(result.scoring, msd, active, t0 + float(horizon))
    p = conditional_churn_probability(h0, h1, partial_hazard(result.scoring, msd.frame.loc[active]))
    summary = pd.DataFrame([{"segment": segment, "customers": int(len(sub)), "active": int(len(active)),
                             f"S({horizon:g})": float(km.survival_at["survival"].iloc[0]),
                             f"expected churners within {horizon:g} {sd.time_unit}": float(p.sum()),
                             "mean probability": float(p.mean()) if len(p) else np.nan}])
    return fig, summary


def explorer(result):
    """A segment dropdown and a horizon slider over :func:`plot_explorer` (ipywidgets)."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from loyaltylab import notebook

    def show(segment, horizon_value):
        _, summary = plot_explorer(result, segment, horizon_value)
        plt.show()
        if summary is not None:
            notebook.show_table(summary, precision=2)

    longest = int(result.data.frame["duration"].max())
    return widgets.interactive(
        show,
        segment=widgets.Dropdown(options=[ALL, *explorer_segments(result)], description=i18n.word("Segment")),
        horizon_value=widgets.IntSlider(value=int(result.horizon), min=1, max=max(longest, int(result.horizon)),
                                        description=i18n.t(f"Horizon ({result.data.time_unit})",
                                                           f"预警期（{UNIT_ZH.get(result.data.time_unit, result.data.time_unit)}）")),
    )
