"""Notebook 05's charts, labelled in the notebook's language (English, Chinese or both). Each takes the whole result; hidden (small) cells and groups are listed
as suppressed or left out, never drawn; the response surface is greyed where fewer than ``min_cell`` customers
lie."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from loyaltylab import i18n, privacy
from loyaltylab.analyses.churn.data import DAYS_PER_MONTH
from loyaltylab.plots import ACCENT, PALETTE, SUPPRESSED_COLOR, forest_plot
from loyaltylab.stats import moderation as mod

from .describe import STATUS_WORDS, STATUS_WORDS_ZH, _label, cell_labels, course_framing, status_label


def _text(value) -> str:
    """A data-derived label for matplotlib: '$' would start mathtext."""
    return str(value).replace("$", r"\$")


OUTCOME_AXIS = {"nps": "Recommend score (0–10)", "promoter": "promoter", "satisfaction": "Satisfaction (1–7)",
                "repurchase_intent": "Repurchase intent (1–7)"}
OUTCOME_AXIS_ZH = {"nps": "推荐意愿得分（0–10）", "promoter": "推荐者", "satisfaction": "满意度（1–7）",
                   "repurchase_intent": "再购意愿（1–7）"}
PARADOX_TITLES = {"nps": ("NPS (points)", "NPS（分）"), "satisfaction": ("Satisfaction (1–7)", "满意度（1–7）"),
                  "repurchase_intent": ("Repurchase intent (1–7)", "再购意愿（1–7）")}


def _names(result, zh: bool = False) -> tuple[str, str, str]:
    """x, the moderator and the outcome as the axes name them (in Chinese with ``zh``; a user's columns as named)."""
    p = result.params
    outcome = (OUTCOME_AXIS_ZH if zh else OUTCOME_AXIS).get(p.outcome, _text(p.outcome))
    if course_framing(result):
        if zh:
            return "企业主动服务（每年联系次数）", "顾客主动参与", outcome
        return "Firm's proactive outreach (contacts / year)", "customer participation", outcome
    return _text(p.x), _text(p.moderator), outcome


def _axis_names(result) -> tuple[str, str, str]:
    """:func:`_names` in the current language."""
    return tuple(_label(en, zh) for en, zh in zip(_names(result), _names(result, zh=True)))


def plot_interaction(result, ax=None):
    """The outcome against x at the moderator's 16th / 50th / 84th percentiles (controls at their means), with
    bands: non-parallel lines are the interaction."""
    it = result.interaction
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    xname, wname, yname = _axis_names(result)
    wname_en, wname_zh = _names(result)[1], _names(result, zh=True)[1]
    for i, (label, part) in enumerate(it.lines.groupby("label", sort=False)):
        color = PALETTE[i % len(PALETTE)]
        w = part["w_value"].iloc[0]
        ax.plot(part["x_value"], part["predicted"], color=color, lw=2,
                label=_label(f"{wname_en} = {w:.3g} ({label})", f"{wname_zh} = {w:.3g}（{label}）"))
        ax.fill_between(part["x_value"], part["ci_low"], part["ci_high"], color=color, alpha=0.15)
    ax.set_xlabel(xname)
    ax.set_ylabel(_label("P(" + _names(result)[2] + ")", "P(" + _names(result, zh=True)[2] + ")")
                  if it.family == "logistic" else yname)
    ax.set_title(_label("Interaction plot: predicted outcome by the moderator's level", "交互图：调节变量不同水平下的结果预测值"))
    ax.legend(loc="best", fontsize=9)
    return ax


def plot_jn(result, ax=None):
    """The slope of x across the moderator's observed range with its pointwise band; significant stretches
    shaded, Johnson–Neyman points inside the data marked."""
    it = result.interaction
    m, jn = it.model, it.jn
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    w = np.linspace(jn.w_min, jn.w_max, 200)
    u = w - m.w_center
    slope = m.params[1] + m.params[3] * u
    se = np.sqrt(m.cov[1, 1] + 2 * u * m.cov[1, 3] + u * u * m.cov[3, 3])
    crit = mod.critical_value(m.confidence, m.df)
    ax.plot(w, slope, color=ACCENT, lw=2)
    ax.fill_between(w, slope - crit * se, slope + crit * se, color=ACCENT, alpha=0.15)
    ax.axhline(0, color="#555555", lw=1, ls="--")
    for r in jn.significant_regions.itertuples():
        ax.axvspan(r.observed_low, r.observed_high, color=PALETTE[2], alpha=0.08)
    for b, inside in zip(jn.bounds, jn.in_range):
        if inside:
            ax.axvline(b, color=PALETTE[3], lw=1, ls=":")
    xname, wname, _ = _axis_names(result)
    ax.set_xlabel(wname)
    logistic = it.family == "logistic"
    xname_zh = "企业主动服务" if course_framing(result) else _text(i18n.column_names().get(result.params.x, result.params.x))
    ax.set_ylabel(_label("Slope of x" + (" (log-odds)" if logistic else ""), f"{xname_zh}的斜率" + ("（对数几率）" if logistic
                                                                                        else "")))
    ax.set_title(_label("Johnson–Neyman: where the slope of x is significant (shaded)",
                        f"Johnson–Neyman：{xname_zh}的斜率在哪些区域显著（阴影）"))
    return ax


def plot_surface(result, ax=None):
    """Predicted outcome over the (x, moderator) grid; grey where fewer than min_cell customers lie nearby."""
    s = result.interaction.surface
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    values = np.ma.masked_array(s.predicted, mask=s.mask)
    cmap = plt.get_cmap("viridis").with_extremes(bad=SUPPRESSED_COLOR)
    mesh = ax.pcolormesh(_edges(s.x_grid), _edges(s.w_grid), values, cmap=cmap, shading="flat")
    plt.colorbar(mesh, ax=ax, label=_label("predicted outcome", "结果预测值"))
    xname, wname, _ = _axis_names(result)
    ax.set_xlabel(xname)
    ax.set_ylabel(wname)
    ax.set_title(_label(f"Response surface (grey: fewer than {s.min_cell} customers)",
                        f"响应面（灰色：附近客户少于 {s.min_cell} 位）"))
    return ax


def _edges(grid: np.ndarray) -> np.ndarray:
    if len(grid) == 1:
        return np.array([grid[0] - 0.5, grid[0] + 0.5])
    mid = (grid[1:] + grid[:-1]) / 2
    return np.concatenate([[grid[0] - (mid[0] - grid[0])], mid, [grid[-1] + (grid[-1] - mid[-1])]])


def plot_cells(result, ax=None):
    """The 2×2: cell means with intervals, x low / high on the axis, one line per moderator level (parallel lines
    = no synergy)."""
    it = result.interaction
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    if it.cells is None:
        ax.text(0.5, 0.5, _label("no 2×2 (a cell is empty)", "无法做 2×2（有组为空）"), ha="center", va="center",
                transform=ax.transAxes)
        return ax
    xname, wname, yname = _axis_names(result)
    (_, w_en, y_en), (_, w_zh, y_zh) = _names(result), _names(result, zh=True)
    cells = it.cells.set_index("cell")
    levels = ((False, _label(f"{w_en} low", f"{w_zh}低")), (True, _label(f"{w_en} high", f"{w_zh}高")))
    for i, (wh, label) in enumerate(levels):
        keys = ("neither", "firm") if not wh else ("customer", "both")
        rows = cells.loc[list(keys)]
        xs = np.array([0, 1]) + (i - 0.5) * 0.04
        shown = ~rows["suppressed"].astype(bool).to_numpy()
        est = rows["estimate"].to_numpy(dtype="float64")
        err = np.vstack([est - rows["ci_low"].to_numpy(dtype="float64"), rows["ci_high"].to_numpy(dtype="float64")
                         - est])
        ax.errorbar(xs[shown], est[shown], yerr=err[:, shown], marker="o", capsize=4, color=PALETTE[i], label=label)
        for xi, hidden in zip(xs, ~shown):
            if hidden:
                ax.text(xi, 0.02, _label("suppressed", "已抑制"), color=SUPPRESSED_COLOR, transform=ax.get_xaxis_transform(),
                        ha="center", fontsize=8)
    ax.set_xticks([0, 1], [_label("low", "低"), _label("high", "高")])
    ax.set_xlabel(xname)
    ax.set_ylabel(_label("share " + y_en, y_zh + "占比") if it.family == "logistic" else yname)
    ax.set_title(_label("The 2×2: cell means", "2×2：各组均值"))
    ax.legend(fontsize=9)
    return ax


def plot_retention(result, ax=None):
    """Kaplan–Meier retention per cell (visible cells only), months on the axis, the horizon dotted."""
    ret = result.retention
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.5))
    if ret is None:
        ax.text(0.5, 0.5, _label("no customer lifetimes", "没有客户生命周期数据"), ha="center", va="center",
                transform=ax.transAxes)
        return ax
    names = cell_labels(result)
    for i, (cell, km) in enumerate(ret.curves.items()):
        sf = km.fitter.survival_function_
        band = km.fitter.confidence_interval_survival_function_
        t = sf.index.to_numpy(dtype="float64") / DAYS_PER_MONTH
        ax.step(t, sf.iloc[:, 0], where="post", color=PALETTE[i % len(PALETTE)], label=_text(names[cell]))
        ax.fill_between(t, band.iloc[:, 0], band.iloc[:, 1], step="post", color=PALETTE[i % len(PALETTE)],
                        alpha=0.12)
    ax.axvline(ret.horizon_months, color="#555555", ls=":", lw=1)
    ax.set_xlabel(_label("Months since signup", "注册后月数"))
    ax.set_ylabel(_label("Share still a customer", "仍在网的客户占比"))
    ax.set_ylim(0, 1.02)
    ax.set_title(_label("Retention by the four cells (Kaplan–Meier)", "四组的留存曲线（Kaplan–Meier）"))
    ax.legend(fontsize=9)
    return ax


def plot_recovery_groups(result, ax=None):
    """NPS after the first failure by failure history (and after a second failure), with intervals; the
    never-failed NPS dashed."""
    rec = result.recovery
    if rec is None:
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 2))
        ax.text(0.5, 0.5, _label("no incidents", "没有服务失误记录"), ha="center", va="center", transform=ax.transAxes)
        return ax
    g = rec.groups.assign(label=rec.groups["status"].map(status_label))
    never = g.loc[(g["status"] == "never_failed") & ~g["suppressed"].astype(bool), "nps"]
    return forest_plot(g, "nps", "ci_low", "ci_high", "label", ref=float(never.iloc[0]) if len(never) else None,
                       xlabel=_label("NPS (points)", "NPS（分）"),
                       title=_label("Loyalty after the failure, by recovery", "失误之后的忠诚度（按补救情况）"), ax=ax)


def plot_paradox(result, ax=None):
    """Recovered well − never failed on each outcome (unadjusted and adjusted), against 0; each outcome's
    equivalence margin shaded (NPS in points, 1–7 outcomes in scale points — one panel per outcome)."""
    rec = result.recovery
    table = rec.paradox_table if rec is not None else pd.DataFrame()
    table = table.loc[table["comparison"] == "recovered_well - never_failed"] if len(table) else table
    outcomes = list(dict.fromkeys(table["outcome"])) if len(table) else []
    if ax is None:
        _, axes = plt.subplots(1, max(len(outcomes), 1), figsize=(4 * max(len(outcomes), 1), 2.8), squeeze=False,
                               sharey=True)
        axes = axes[0]
    else:
        axes = np.atleast_1d(ax)
    if not outcomes:
        axes[0].text(0.5, 0.5, _label("no paradox test", "未做悖论检验"), ha="center", va="center",
                     transform=axes[0].transAxes)
        return axes[0]
    for a, outcome in zip(axes, outcomes):
        part = table.loc[table["outcome"] == outcome].reset_index(drop=True)
        margin = float(part["margin"].iloc[0])
        a.axvspan(-margin, margin, color=PALETTE[2], alpha=0.12)
        a.axvline(0, color="#555555", lw=1, ls="--")
        for i, r in part.iterrows():
            a.plot([r["ci_low"], r["ci_high"]], [i, i], color=ACCENT, lw=2)
            a.plot(r["estimate"], i, "o", color=ACCENT)
        models = {"unadjusted": "未调整", "adjusted": "调整后"}
        a.set_yticks(range(len(part)), [_label(m, models.get(m, m)) for m in part["model"]])
        a.set_ylim(-0.7, len(part) - 0.3)
        a.set_title(_label(*PARADOX_TITLES[outcome]) if outcome in PARADOX_TITLES else outcome)
        a.set_xlabel(_label("recovered well − never failed\n(shaded: within the margin)",
                            "补救良好 − 从未失误\n（阴影：等效界限之内）"))
    axes[0].figure.tight_layout()
    return axes[0]


def plot_speed(result, ax=None):
    """Mean recovery satisfaction by how fast the incident was recovered (bands with few customers hidden)."""
    rec = result.recovery
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.8))
    if rec is None or not len(rec.speed):
        ax.text(0.5, 0.5, _label("no recovered incidents", "没有已补救的服务失误"), ha="center", va="center",
                transform=ax.transAxes)
        return ax
    s = privacy.visible(rec.speed).reset_index(drop=True)
    xs = np.arange(len(s))
    ax.errorbar(xs, s["estimate"], yerr=[s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]], marker="o",
                capsize=4, color=ACCENT)
    ax.set_xticks(xs, [_label(b, b.replace(" h", " 小时")) for b in s["band"]])
    if i18n.current() != "en":          # '6–12 小时' is wider than '6–12 h': slanted, the bands do not run together
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.set_xlabel(_label("Recovery time", "补救时长"))
    ax.set_ylabel(_label("Recovery satisfaction (1–7)", "补救满意度（1–7）"))
    ax.set_title(_label("Faster recovery, happier customers?", "补救越快，客户越满意吗？"))
    return ax


def _status_as(status: str, en: str, zh: str) -> str:
    return _label(STATUS_WORDS.get(status, status) + en, STATUS_WORDS_ZH.get(status, status) + zh)


def plot_hazard(result, ax=None):
    """Churn hazard ratios vs never failed: status changing at each incident (time-varying) and, for contrast,
    fixed at the snapshot (log axis)."""
    rec = result.recovery
    hz = rec.hazard if rec is not None else None
    if hz is None:
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 2))
        ax.text(0.5, 0.5, _label("no time-varying model", "没有时变模型"), ha="center", va="center",
                transform=ax.transAxes)
        return ax
    rows = [hz.table.assign(label=[_status_as(s, " (time-varying)", "（时变）") for s in hz.table["status"]])]
    if hz.fixed is not None:
        rows.append(hz.fixed.assign(label=[_status_as(s, " (fixed, biased)", "（固定状态，有偏）")
                                           for s in hz.fixed["status"]]))
    t = pd.concat(rows, ignore_index=True)
    t = t.loc[t["status"] != "never_failed"]
    ax = forest_plot(t, "hazard_ratio", "ci_low", "ci_high", "label", ref=1.0, log_x=True,
                     xlabel=_label("Churn hazard ratio vs never failed (log scale)", "相对于从未失误的流失风险比（对数刻度）"),
                     title=_label("Churn by failure status", "按失误经历的流失"), ax=ax)
    lo, hi = ax.get_xlim()
    ticks = [v for v in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 10) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks or [1.0]))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    return ax
