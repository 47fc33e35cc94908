"""CLV charts: LTV/CAC (or mean CLV) by segment, and the sBG cohort projection. Fixed labels are translated through
the glossary (``glossary/clv.json``) when a chart is shown; labels built from data are written in both languages."""
from __future__ import annotations

import pandas as pd

from loyaltylab import i18n
from loyaltylab.analyses.clv.value import LTV_CAC_TARGET


def plot_ltv_cac(result, ax=None):
    """LTV/CAC by segment against the mark of 3 (mean CLV when there is no acquisition cost); hidden segments grey
    and empty. ``result``: the CLV result or its ``value``."""
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE, SUPPRESSED_COLOR

    value = getattr(result, "value", result)
    if value is None:
        return None
    t = value.by_segment
    if ax is None:
        _, ax = plt.subplots()
    ratio = t["ltv_cac"].notna().any()
    col = "ltv_cac" if ratio else "mean_clv"
    colors = [SUPPRESSED_COLOR if s else (PALETTE[2] if (not ratio or v > LTV_CAC_TARGET) else PALETTE[3])
              for s, v in zip(t["suppressed"], t[col].fillna(0))]
    ax.bar(t["value"].astype(str), t[col].fillna(0), color=colors)
    if ratio:
        ax.axhline(LTV_CAC_TARGET, color="#555555", ls="--", lw=1, label=f"LTV/CAC = {LTV_CAC_TARGET:g}")
        ax.legend()
        ax.set_ylabel("LTV / CAC")
        ax.set_title("Lifetime value vs acquisition cost by segment")
    else:
        ax.set_ylabel("Mean CLV of active customers")
        ax.set_title("Customer lifetime value by segment")
    return ax


def plot_sbg(result, ax=None, unit: str | None = None):
    """Observed (dots) and sBG expected/projected (lines) % of each cohort surviving. ``result``: the CLV result, or
    a mapping cohort → projection table (``sbg.project``)."""
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE

    projections: dict[str, pd.DataFrame] = result if isinstance(result, dict) else result.projections()
    unit = unit or (result.params.cohort_period if not isinstance(result, dict) else "period")
    if ax is None:
        _, ax = plt.subplots()
    for i, (name, proj) in enumerate(projections.items()):
        color = PALETTE[i % len(PALETTE)]
        obs = proj.dropna(subset=["observed_pct"])
        ax.plot(obs["period"], obs["observed_pct"], "o", color=color, label=i18n.t(f"{name} observed", f"{name} 实际"))
        ax.plot(proj["period"], proj["expected_pct"], "-", color=color, label=i18n.t(f"{name} sBG", f"{name} sBG 模型"))
        ax.axvline(obs["period"].max(), color="#999999", ls=":", lw=1)
    ax.set_xlabel(unit.capitalize())
    ax.set_ylabel("% of cohort still customers")
    ax.set_ylim(0, 105)
    ax.set_title("Cohort retention: observed and sBG projection")
    ax.legend()
    return ax
