"""Churn charts: survival curves, hazard ratios, calibration, risk scores, estimated vs true, and survival by the last
NPS answer. Labels with numbers are written in both languages here (:func:`loyaltylab.i18n.t`); fixed labels are
translated through the glossary (``glossary/churn.json``) when a chart is shown."""
from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab import i18n
from loyaltylab.analyses.churn.cox import CoxResult
from loyaltylab.analyses.churn.data import UNIT_ZH
from loyaltylab.analyses.churn.describe import level
from loyaltylab.analyses.churn.km import KMGroups, KMResult
from loyaltylab.analyses.churn.warning import EarlyWarning
from loyaltylab.i18n import column_zh, term_zh

AT_RISK_ROWS = {"At risk": "风险集", "Censored": "删失", "Events": "流失"}


def _unit_zh(unit: str) -> str:
    return UNIT_ZH.get(unit, unit)


def tenure_label(time_unit: str) -> str:
    return i18n.t(f"Tenure ({time_unit})", f"在网时长（{_unit_zh(time_unit)}）")


def _translate_at_risk(ax) -> None:
    """lifelines' risk table under a KM plot is a second axis' tick labels: its row names (and 'All customers') in
    the report's language."""
    if i18n.current() == "en":
        return
    for other in ax.figure.axes:
        if other is ax:
            continue
        labels = [t.get_text() for t in other.get_xticklabels()]
        if not any(name in label for label in labels for name in AT_RISK_ROWS):
            continue
        new = []
        for label in labels:
            for en, zh in {**AT_RISK_ROWS, "All customers": "全体客户"}.items():
                label = label.replace(en, zh if i18n.current() == "zh" else i18n.word(en))
            new.append(label)
        other.set_xticks(other.get_xticks())
        other.set_xticklabels(new, ha="right")


def plot_km(km: KMResult | KMGroups, *, time_unit: str = "days", at_risk: bool = True, horizon: float | None = None,
            ax=None, title: str | None = None, words: bool = False):
    """KM curve(s) with confidence bands (log-log) and, under the plot, the customers at risk, censored and churned
    (visible groups only; censored and churned are cumulative up to each tick, as lifelines and R's risk tables).
    ``words``: the curves' labels are library words (NPS categories), put in the report's language; segment values
    are data and stay as they are."""
    import matplotlib.pyplot as plt
    from lifelines.plotting import add_at_risk_counts

    from loyaltylab.plots import PALETTE

    curves = list(km.curves.values()) if isinstance(km, KMGroups) else [km]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.5 if at_risk else 4.5))
    for i, c in enumerate(curves):
        name = i18n.word(c.label) if words or c.label == "All customers" else c.label
        c.fitter.plot_survival_function(ax=ax, ci_show=True, color=PALETTE[i % len(PALETTE)],
                                        label=f"{name} (n={c.n:,})")
    if horizon is not None:
        ax.axvline(horizon, color="#555555", ls=":", lw=1)
    ax.set_xlabel(tenure_label(time_unit))
    ax.set_ylabel("Share still a customer")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or (i18n.t("Kaplan-Meier survival by " + km.column,
                                  f"按{column_zh(km.column)}的 Kaplan-Meier 生存曲线")
                           if isinstance(km, KMGroups) else "Kaplan-Meier survival"))
    if at_risk and curves:
        add_at_risk_counts(*[c.fitter for c in curves], ax=ax, rows_to_show=["At risk", "Censored", "Events"])
        _translate_at_risk(ax)
    plt.tight_layout()
    return ax


def plot_hazard_ratios(cox: CoxResult, ax=None, title: str | None = None):
    """Hazard ratios with their intervals on a log axis; significant ones highlighted."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    from loyaltylab.plots import forest_plot

    alpha = round(1.0 - cox.confidence, 12)
    t = cox.table[np.isfinite(cox.table["coef"])]          # a coefficient that does not exist is not drawn
    t = t.assign(label=[i18n.term(c) for c in t["covariate"]])
    conf = level(cox.confidence)
    ax = forest_plot(t, "hazard_ratio", "hr_lower", "hr_upper", "label", ref=1.0, highlight_col="significant",
                     xlabel=i18n.t(f"Hazard ratio (log scale; < 1 = longer customer life; red = p < {alpha:g})",
                                   f"风险比（对数刻度；< 1 表示客户生命周期更长；红色 = p < {alpha:g}）"),
                     title=title or i18n.t(f"Cox hazard ratios ({conf} CI)", f"Cox 风险比（{conf} 置信区间）"),
                     log_x=True, ax=ax)
    lo, hi = ax.get_xlim()
    ticks = [v for v in (0.5, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2) if lo <= v <= hi]
    if hi / lo > 5:
        ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks or [1.0]))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    return ax


def plot_calibration(table: pd.DataFrame, *, title: str = "Calibration at the horizon", ax=None):
    """Predicted vs observed churn per risk decile (with the observed interval when the table has one)."""
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    hi = float(max(table["predicted"].max(), table["observed"].max(), 0.01)) * 1.1
    ax.plot([0, hi], [0, hi], ls="--", color="#777777", lw=1, label="perfect calibration")
    if {"observed_lower", "observed_upper"} <= set(table.columns):
        ax.errorbar(table["predicted"], table["observed"],
                    yerr=[np.clip(table["observed"] - table["observed_lower"], 0, None),
                          np.clip(table["observed_upper"] - table["observed"], 0, None)],
                    fmt="o", color=PALETTE[0], label="risk decile")
    else:
        ax.plot(table["predicted"], table["observed"], "o", color=PALETTE[0], label="risk decile")
    # the y axis reaches the top of every error bar (the top decile's interval is the widest)
    top = float(np.nanmax(table["observed_upper"])) if "observed_upper" in table.columns and len(table) else 0.0
    ax.set_xlim(0, hi)
    ax.set_ylim(0, max(hi, top * 1.05 if np.isfinite(top) else 0.0))
    ax.set_xlabel("Predicted churn probability")
    ax.set_ylabel("Observed churn share")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return ax


def plot_validation(result, ax=None):
    """The held-out calibration at the horizon."""
    h, unit = f"{result.horizon:g}", result.data.time_unit
    return plot_calibration(result.validation.calibration,
                            title=i18n.t(f"Calibration at {h} {unit} (held-out)", f"{h} {_unit_zh(unit)}时的校准（留出样本）"),
                            ax=ax)


def plot_backtest(result, ax=None):
    """The backtest's predicted vs actual churn by decile (None when there is no backtest)."""
    if result.backtest is None:
        return None
    return plot_calibration(result.backtest.calibration, title="Backtest: predicted vs actual churn by decile", ax=ax)


def plot_risk_distribution(ew: EarlyWarning, *, time_unit: str = "days", ax=None):
    """Histogram of the active customers' churn probabilities, with the top-decile threshold."""
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE

    if ax is None:
        _, ax = plt.subplots()
    ax.hist(ew.scores["churn_probability"], bins=40, color=PALETTE[0])
    if len(ew.scores) >= 10:
        cut = ew.scores.loc[ew.scores["risk_decile"] == 1, "churn_probability"].min()
        ax.axvline(cut, color=PALETTE[3], ls="--", lw=1.5, label="top-decile threshold")
        ax.legend()
    ax.set_xlabel(i18n.t(f"P(churn within {ew.horizon:g} {time_unit} | tenure so far)",
                         f"P(在 {ew.horizon:g} {_unit_zh(time_unit)}内流失 | 已有在网时长)"))
    ax.set_ylabel("Active customers")
    ax.set_title("Early-warning scores")
    return ax


def plot_truth(table: pd.DataFrame, ax=None, title: str | None = None, confidence: float = 0.95):
    """Estimated coefficients with their intervals and the generator's true values (course data)."""
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE, forest_plot

    t = table[table["covariate"] != "shape k"].reset_index(drop=True)
    t = t.assign(label=t["model"] + ": " + [i18n.term(c) for c in t["covariate"]])
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.4 * len(t) + 1.4))
    conf = level(confidence)
    title = title or i18n.t(f"Estimated ({conf} CI) vs true coefficients", f"系数估计值（{conf} 置信区间）与真值")
    ax = forest_plot(t, "estimate", "lower", "upper", "label", ref=0.0, title=title, xlabel="Coefficient", ax=ax)
    y = np.arange(len(t))[::-1]
    ax.plot(t["true"], y, "x", color=PALETTE[3], ms=9, mew=2, label="true value")
    ax.plot([], [], "o-", color=PALETTE[0], label=i18n.t(f"estimate, {conf} CI", f"估计值，{conf} 置信区间"))
    ax.legend(loc="best", framealpha=0.9, frameon=True)
    plt.tight_layout()
    return ax


def plot_nps_survival(result, ax=None):
    """Kaplan–Meier curves of the respondents by the category of their last NPS answer (detractor, passive,
    promoter; a group the suppressed table hides is not drawn), with the horizon dotted. None when no survey is
    used or no group can be shown."""
    from dataclasses import replace

    from loyaltylab.constants import NPS_CATEGORIES

    pred = getattr(result, "nps", None)
    if pred is None or not pred.km.curves:
        return None
    curves = {c: pred.km.curves[c] for c in NPS_CATEGORIES if c in pred.km.curves}
    return plot_km(replace(pred.km, curves=curves), time_unit=result.data.time_unit, at_risk=False,
                   horizon=result.horizon, ax=ax, title="Survival by the last NPS answer (customers who answered)",
                   words=True)


def plot_ph_residuals(result, terms=None, *, max_points: int = 3000, axes=None):
    """R's ``plot(cox.zph(fit))`` for the terms that violate proportional hazards (or ``terms``): each churn event's
    scaled Schoenfeld residual + β̂ against tenure on the km scale, with a lowess smooth (the coefficient as it
    changes with tenure) and the Cox estimate dashed (a factor: its linear predictor, reference 1). At most
    ``max_points`` events are drawn (a fixed-seed sample; the smooth uses the same points). None when there is
    nothing to draw."""
    import matplotlib.pyplot as plt
    from statsmodels.nonparametric.smoothers_lowess import lowess

    from loyaltylab.plots import PALETTE

    ph = result.ph
    terms = [t for t in (ph.violations if terms is None else terms) if t in ph.residuals.columns]
    if not terms:
        return None
    res = ph.residuals
    if len(res) > max_points:
        res = res.iloc[np.sort(np.random.default_rng(0).choice(len(res), max_points, replace=False))]
    if axes is None:
        _, axes = plt.subplots(1, len(terms), figsize=(5.2 * len(terms), 4), squeeze=False)
        axes = axes[0]
    coef = result.cox.table.set_index("covariate")["coef"]
    x = res["transformed_time"].to_numpy(dtype=float)
    for ax, term in zip(np.atleast_1d(axes), terms):
        y = res[term].to_numpy(dtype=float)
        ok = np.isfinite(y)
        ax.scatter(x[ok], y[ok], s=6, alpha=0.35, color=PALETTE[0], label="events")
        smooth = lowess(y[ok], x[ok], frac=0.5, it=0, return_sorted=True)
        ax.plot(smooth[:, 0], smooth[:, 1], color=PALETTE[3], lw=2, label="lowess smooth")
        cols = [c for c in result.data_for_models.design.term_columns.get(term, ()) if c in coef.index]
        ref = float(coef[cols[0]]) if len(cols) == 1 else 1.0
        ax.axhline(ref, color="#555555", ls="--", lw=1, label="Cox estimate")
        ticks = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
        order = np.argsort(x)
        labels = np.interp(ticks, x[order], res["time"].to_numpy(dtype=float)[order])
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{v:.3g}" for v in labels])
        unit = result.data.time_unit
        ax.set_xlabel(i18n.t(f"Tenure ({unit}, {ph.time_transform} scale)",
                             f"在网时长（{_unit_zh(unit)}，{ph.time_transform} 尺度）"))
        ax.set_ylabel(i18n.t(f"Beta(t) for {term}", f"{term_zh(term)}的 Beta(t)"))
        p_value = float(ph.table.set_index("term").loc[term, "p_value"])
        ax.set_title(i18n.t(f"{term}: p = {p_value:.3g}", f"{term_zh(term)}的比例风险检验 p = {p_value:.3g}"))
        ax.legend(loc="best", fontsize=8)
    plt.tight_layout()
    return axes
