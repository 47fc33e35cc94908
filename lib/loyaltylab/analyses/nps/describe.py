"""The NPS report in words: "What this shows" for each section and the key findings, computed from the result.

Every data-derived value (segment values, column names, file names, theme and period labels) goes through
:func:`loyaltylab.narrative.esc`, so it renders as text and never as Markdown or HTML; numbers through the
narrative formats. Each sentence is written in English and Chinese (:func:`loyaltylab.i18n.t`); the numbers are
formatted once and shared by both.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import numpy as np

from loyaltylab import i18n, privacy
from loyaltylab import themes as th
from loyaltylab.i18n import column_zh
from loyaltylab.narrative import count, esc, interval, number, p_value, percent, signed
from loyaltylab.stats.multiplicity import CORRECTION_NAMES

from .comments import theme_zh
from .planning import sample_size
from .tables import MISSING_LABEL, PERIOD_NAMES

if TYPE_CHECKING:
    from .analysis import NPSReport

LOYAL_MARK = 50.0
"""The course's mark of a loyal customer base, NPS ≥ 50 (a benchmark stated neutrally on other data)."""
PERIOD_NAMES_ZH = {"M": "月", "Q": "季度", "Y": "年度"}
CI_METHODS_ZH = {"normal": "正态近似（Wald）", "adjusted": "调整 Wald", "score": "得分法（score）"}
EFFECT_ZH = {"negligible": "可忽略的效应", "small": "小效应", "medium": "中等效应", "large": "大效应"}
CATEGORY_ZH = {"detractors": "贬损者", "promoters": "推荐者"}


def _ci(low, high, confidence: float) -> str:
    return interval(low, high, confidence)


def _ci_zh(low, high, confidence: float, digits: int = 1) -> str:
    """'95% 置信区间 16.6 至 25.2', a negative bound with the minus sign of :func:`loyaltylab.narrative.signed`
    (−8.1): one minus sign in a Chinese sentence."""
    return f"{confidence:.0%} 置信区间 {number(low, digits)} 至 {number(high, digits)}".replace("-", "−")


def _p_zh(p) -> str:
    text = p_value(p)
    return "p 值不可用" if text == "p not available" else text


def _zh(label) -> str:
    """A fixed English label (a column name such as 'region', a SERVQUAL dimension) in Chinese when the glossary
    has it, else as it is; escaped."""
    return esc(i18n.zh_of(str(label)) or label)


def withheld_sentence(result: NPSReport) -> str:
    """Why a fan-out part shows nothing: its totals would let a small group elsewhere in the batch be worked out."""
    shown, n = esc(_filters(result.data.filters)), count(result.params.min_cell)
    return i18n.t(
        f"This report ({shown}) is withheld as a whole: with its numbers, the report "
        f"on everyone minus the other parts of this batch ({esc(_scope(result.data.filters))}) would give away a "
        f"group of fewer than {n} people (a blank value, or a part too small to "
        "report) — so no NPS, count or table is shown here.",
        f"本报告（{shown}）整体不予发布：如果公布它的数字，用全体客户的报告减去本批次的其他部分"
        f"（{esc(_scope_zh(result.data.filters))}）就能推算出一个少于 {n} 人的群体（某个空白取值，或一个因人数过少"
        "而未报告的部分）——因此这里不显示任何 NPS、人数或表格。")


def _withheld(result: NPSReport, short: bool = True) -> list[str] | None:
    """For a withheld part: the sentence (the overall and the key findings) or a pointer to it (the other
    sections); None for any other report."""
    if not getattr(result, "withheld", False):
        return None
    return [i18n.t("Not shown: this report is withheld as a whole (see above).", "不显示：本报告整体不予发布（见上文）。")
            if short else withheld_sentence(result)]


def _filters(filters) -> str:
    return ", ".join(f"{c} = {v}" for c, v in (filters or {}).items())


def describe_overall(result: NPSReport) -> list[str]:
    o, p = result.overall, result.params
    if (w := _withheld(result, short=False)) is not None:
        return w
    if o.suppressed:
        return [i18n.t(f"Only {count(o.n)} responses — fewer than min_cell = {p.min_cell}, so no NPS is shown.",
                       f"只有 {count(o.n)} 份回答，少于 min_cell = {p.min_cell}，因此不显示 NPS。")]
    nps, ci, n = signed(o.nps), _ci(o.ci_low, o.ci_high, p.confidence), count(o.n)
    pro, pas, det = number(o.promoters_pct), number(o.passives_pct), number(o.detractors_pct)
    lines = [i18n.t(f"NPS is **{nps}** ({ci}, {esc(o.ci_method)} interval; "
                    f"n = {n}): {pro}% promoters, {pas}% passives, {det}% detractors.",
                    f"NPS 为 **{nps}**（{_ci_zh(o.ci_low, o.ci_high, p.confidence)}，"
                    f"{esc(CI_METHODS_ZH.get(o.ci_method, o.ci_method))}区间；n = {n}）：推荐者 {pro}%，中立者 {pas}%，"
                    f"贬损者 {det}%。")]
    mark = (f"the course's loyal-base mark of NPS ≥ {LOYAL_MARK:.0f}" if result.is_course
            else f"NPS {LOYAL_MARK:.0f}, a common benchmark for a loyal customer base")
    mark_zh = (f"课程设定的忠诚客户群标准 NPS ≥ {LOYAL_MARK:.0f}" if result.is_course
               else f"常用的忠诚客户群基准 NPS {LOYAL_MARK:.0f}")
    if o.ci_low >= LOYAL_MARK:
        lines.append(i18n.t(f"The whole interval lies above {mark}.", f"整个置信区间都高于{mark_zh}。"))
    elif o.ci_high < LOYAL_MARK:
        short = number(LOYAL_MARK - o.nps)
        lines.append(i18n.t(f"The whole interval lies below {mark} ({short} points short).",
                            f"整个置信区间都低于{mark_zh}（还差 {short} 分）。"))
    else:
        lines.append(i18n.t(f"The interval includes {LOYAL_MARK:.0f}: the data cannot tell whether the base reaches "
                            f"{mark}.",
                            f"置信区间包含 {LOYAL_MARK:.0f}：数据无法判断客户群是否达到{mark_zh}。"))
    if result.cluster_col:
        col, deff, wide = esc(result.cluster_col), number(o.deff, 2), number(math.sqrt(o.deff), 2)
        col_zh = esc(column_zh(result.cluster_col))
        lines.append(i18n.t(f"Intervals allow for customers answering more than once (clustered by "
                            f"{col}; design effect {deff}, i.e. the interval is "
                            f"{wide}× as wide as if every response were a different customer).",
                            f"置信区间已考虑同一客户多次回答的情况（按{col_zh}聚类；设计效应为 {deff}，即区间宽度是"
                            f"每份回答都来自不同客户时的 {wide} 倍）。"))
    if result.data.dropped_rows:
        dropped = count(result.data.dropped_rows)
        lines.append(i18n.t(f"{dropped} responses without a score were left out.",
                            f"{dropped} 份没有评分的回答未纳入分析。"))
    return lines


def _segment_line(col: str, table, result: NPSReport) -> str:
    p = result.params
    name = CORRECTION_NAMES[result.correction] if result.correction else ""
    adj = f"{name}-adjusted " if name else ""
    adj_zh = f"经 {name} 校正，" if name else ""
    shown = privacy.visible(table)
    hidden = int(table["suppressed"].sum())
    batch_only = result.linked.extra_by_table.get(("segments", col), 0) if result.linked is not None else 0
    by, by_zh = esc(col), _zh(col)
    if len(shown) == 0:
        why = (f"groups of fewer than {p.min_cell} respondents, and the groups that would give them away here or in "
               "another part of this batch" if batch_only else f"fewer than {p.min_cell} respondents")
        why_zh = (f"少于 {p.min_cell} 名受访者的组，以及在本报告或本批次其他部分中会暴露它们的组" if batch_only
                  else f"少于 {p.min_cell} 名受访者")
        return i18n.t(f"By {by}: every group is suppressed ({why}).", f"按{by_zh}：所有组均已抑制（{why_zh}）。")
    best, worst = shown.loc[shown["nps"].idxmax()], shown.loc[shown["nps"].idxmin()]
    low, high = f"{signed(worst['nps'])} ({esc(worst['value'])})", f"{signed(best['nps'])} ({esc(best['value'])})"
    text = f"By {by}: NPS ranges from {low} to {high}. "
    text_zh = (f"按{by_zh}：NPS 从 {signed(worst['nps'])}（{esc(worst['value'])}）到 "
               f"{signed(best['nps'])}（{esc(best['value'])}）不等。")
    sig = shown[shown["significant"].astype(bool)]
    if len(sig):
        rows = [(esc(r.value), r.diff_vs_rest > 0, number(abs(r.diff_vs_rest)), p_value(r.p_adjusted))
                for r in sig.itertuples()]
        text += "Significantly different from the rest: " + "; ".join(
            f"{v} {'above' if up else 'below'} the rest by {d} points ({adj}{pv})" for v, up, d, pv in rows) + "."
        text_zh += "与其余客户差异显著：" + "；".join(
            f"{v} {'高于' if up else '低于'}其余客户 {d} 分（{adj_zh}{pv}）" for v, up, d, pv in rows) + "。"
    else:
        alpha = number(1 - p.confidence, 2)
        text += f"No {by} differs significantly from the rest ({adj}p ≥ {alpha})."
        text_zh += f"没有哪个{by_zh}与其余客户存在显著差异（{adj_zh}p ≥ {alpha}）。"
    if hidden:
        if not batch_only:
            text += f" {hidden} group(s) suppressed (small cells)."
            text_zh += f"{hidden} 个组因人数过少已抑制。"
        elif batch_only == hidden:
            text += f" {hidden} group(s) suppressed to protect small groups in another part of this batch."
            text_zh += f"{hidden} 个组已抑制，以保护本批次其他部分中的小样本组。"
        else:
            text += (f" {hidden} group(s) suppressed (small cells; {batch_only} of them to protect another part of "
                     "this batch).")
            text_zh += f"{hidden} 个组已抑制（人数过少；其中 {batch_only} 个是为了保护本批次的其他部分）。"
    return i18n.t(text, text_zh)


def describe_segments(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    return [_segment_line(col, table, result) for col, table in result.segments.items()]


def describe_trend(result: NPSReport, *, fallback: bool = False) -> list[str]:
    """The trend in words; ``fallback``: a sentence saying why there is none (the notebook's section) instead of
    nothing (the key findings)."""
    if (w := _withheld(result)) is not None:
        return w
    t = result.trend
    if t is None:
        return [i18n.t("No date column: no trend.", "没有日期列：无法分析趋势。")] if fallback else []
    shown = privacy.visible(t).dropna(subset=["nps"])
    if len(shown) == 0:
        return [i18n.t("No dated responses to show a trend.", "没有带日期的回答，无法显示趋势。")]
    name, name_zh = PERIOD_NAMES[result.params.period], PERIOD_NAMES_ZH[result.params.period]
    last = shown.iloc[-1]
    period, nps, n = esc(last["period"]), signed(last["nps"]), count(last["n"])
    conf = result.params.confidence
    line = f"Latest {name} ({period}): NPS {nps} ({_ci(last['ci_low'], last['ci_high'], conf)}, n = {n})."
    line_zh = f"最近一个{name_zh}（{period}）：NPS {nps}（{_ci_zh(last['ci_low'], last['ci_high'], conf)}，n = {n}）。"
    if np.isfinite(last["change"]):
        change, sig = signed(last["change"]), bool(last["change_significant"])
        line += (f" Change from the previous {name}: {change} points "
                 f"({'significant' if sig else 'not significant'}).")
        line_zh += f"与上一个{name_zh}相比变化 {change} 分（{'显著' if sig else '不显著'}）。"
    flagged = t[t["change_significant"].astype(bool)]
    if len(flagged):
        changes = [(esc(r.period), signed(r.change)) for r in flagged.itertuples()]
        line += " Significant changes: " + ", ".join(f"{per} ({c})" for per, c in changes) + "."
        line_zh += "显著变化：" + "、".join(f"{per}（{c}）" for per, c in changes) + "。"
    else:
        line += f" No {name}-to-{name} change is statistically significant across {len(shown)} {name}s."
        line_zh += f"在 {len(shown)} 个{name_zh}中，前后两个{name_zh}之间的变化都不具有统计显著性。"
    return [i18n.t(line, line_zh)]


MODEL_NOTES_ZH = (
    (re.compile(r"^no SERVQUAL perception items$"), "没有 SERVQUAL 感知题项"),
    (re.compile(r"^too few promoters or detractors to fit \(need (\d+) of each\)$"),
     r"推荐者或贬损者太少，无法拟合（各需至少 \1 人）"),
    (re.compile(r"^model could not be fit \((\w+)\)$"), r"模型无法拟合（\1）"),
    (re.compile(r"^the fit did not converge cleanly \(near-perfect separation\?\); read the odds ratios with care$"),
     "拟合未能顺利收敛（可能接近完全分离）；解读优势比时需谨慎"),
)


def model_note(note: str) -> str:
    """The promoter model's note (why it is not shown, or a caution) in the report's language; results.json keeps
    the English note."""
    note = str(note or "")
    for pattern, zh in MODEL_NOTES_ZH:
        if pattern.match(note):
            return i18n.t(note, pattern.sub(zh, note))
    return note


def describe_dimensions(result: NPSReport, *, fallback: bool = False) -> list[str]:
    """The promoter–detractor gaps in words; ``fallback``: a sentence when the survey has no SERVQUAL items."""
    if (w := _withheld(result)) is not None:
        return w
    if result.dimensions is None:
        return ([i18n.t("No SERVQUAL perception items in this survey.", "本次调查没有 SERVQUAL 感知题项。")]
                if fallback else [])
    eff = result.dimensions.effects.dropna(subset=["cohens_d"])
    lines = []
    if len(eff):
        top, low = eff.loc[eff["cohens_d"].idxmax()], eff.loc[eff["cohens_d"].idxmin()]
        d_top = number(top["cohens_d"], 2)
        if (eff["difference"] > 0).all():
            mp, md, d_low = number(top["mean_promoters"], 2), number(top["mean_detractors"], 2), number(low["cohens_d"], 2)
            lines.append(i18n.t(
                f"Promoters rate every dimension higher than detractors; the gap is largest for "
                f"{esc(top['label'])} ({mp} vs {md}, Cohen's d = {d_top}, {esc(top['effect'])}) and smallest for "
                f"{esc(low['label'])} (d = {d_low}).",
                f"推荐者对每个维度的评分都高于贬损者；差距最大的是{_zh(top['label'])}（{mp} 对 {md}，"
                f"Cohen's d = {d_top}，{EFFECT_ZH.get(top['effect'], esc(top['effect']))}），"
                f"最小的是{_zh(low['label'])}（d = {d_low}）。"))
        else:
            lines.append(i18n.t(f"The largest promoter–detractor gap is for {esc(top['label'])} "
                                f"(Cohen's d = {d_top}).",
                                f"推荐者与贬损者差距最大的维度是{_zh(top['label'])}（Cohen's d = {d_top}）。"))
    m = result.model
    if m is not None and len(m.table):
        best = m.table.loc[m.table["odds_ratio"].idxmax()]
        odds, lo, hi = number(best["odds_ratio"], 2), number(best["ci_low"], 2), number(best["ci_high"], 2)
        conf, n, r2 = percent(result.params.confidence), count(m.n), number(m.pseudo_r2, 2)
        lines.append(i18n.t(
            f"Holding the other dimensions constant, one point more on {esc(best['label'])} multiplies the "
            f"odds of being a promoter rather than a detractor by {odds} "
            f"({conf} CI {lo}–{hi}; n = {n}, pseudo-R² = {r2}"
            + (f"; cluster-robust by {esc(m.cluster_col)}" if m.cluster_col else "") + ").",
            f"在其他维度保持不变时，{_zh(best['label'])}每高 1 分，成为推荐者（而非贬损者）的优势（odds）变为原来的 "
            f"{odds} 倍（{conf} 置信区间 {lo}–{hi}；n = {n}，伪 R² = {r2}"
            + (f"；按{esc(column_zh(m.cluster_col))}聚类稳健" if m.cluster_col else "") + "）。"))
    elif m is not None and m.note:
        note = esc(model_note(m.note))
        lines.append(i18n.t(f"Logistic model not shown: {note}.", f"未显示逻辑回归模型：{note}。"))
    return lines


def describe_themes(result: NPSReport, *, fallback: bool = False) -> list[str]:
    """The comment themes in words; ``fallback``: a sentence when the survey has no comment column."""
    if (w := _withheld(result)) is not None:
        return w
    t = result.themes
    if t is None:
        return [i18n.t("No comment column: no themes.", "没有评论列：无法分析主题。")] if fallback else []
    shown = privacy.visible(t)
    shown = shown[shown["theme"] != th.UNCLASSIFIED]
    lines = []
    for col, who in (("share_detractors", "detractors"), ("share_promoters", "promoters")):
        s = shown.dropna(subset=[col])
        if len(s):
            r = s.sort_values([col, "theme"], ascending=[False, True]).iloc[0]
            share = number(r[col], 0)
            lines.append(i18n.t(
                f"Commenting {who} most often write about {esc(th.theme_label(r['theme'], bilingual=True))} "
                f"({share}% of their comments).",
                f"写了评论的{CATEGORY_ZH[who]}最常谈到{esc(theme_zh(r['theme']))}（占其评论的 {share}%）。"))
    un = t[t["theme"] == th.UNCLASSIFIED]
    if len(un) and np.isfinite(un["share_all"].iloc[0]):
        unmatched = float(un["share_all"].iloc[0])
        share = number(unmatched, 1 if 0 < unmatched < 1 else 0)       # 0.5%, not '0%' beside a table's 0.5
        lines.append(i18n.t(f"{share}% of comments match no theme in the lexicon.",
                            f"{share}% 的评论没有匹配到词典中的任何主题。"))
    acc = result.theme_accuracy
    if acc is not None:
        rate, n = percent(acc.accuracy, 1), count(acc.n)
        lines.append(i18n.t(f"On the course data the lexicon's primary theme matches the true theme for "
                            f"{rate} of {n} comments.",
                            f"在课程数据上，词典判定的主要主题与真实主题一致的评论占 {rate}（共 {n} 条评论）。"))
    return lines


def describe_sample_size(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    o = result.overall
    if o.suppressed:
        return []
    conf = percent(result.params.confidence)
    need = sample_size(5, o.promoters_pct, o.detractors_pct, result.params.confidence)
    line = (f"With this survey's mix, ±5 points ({conf}) needs about {count(need)} responses from "
            "different customers")
    line_zh = f"按本次调查的构成，要达到 ±5 分的精度（{conf} 置信水平），约需 {count(need)} 份来自不同客户的回答"
    if o.deff > 1:
        repeated, deff = count(math.ceil(need * o.deff)), number(o.deff, 2)
        line += (f" — about {repeated} when customers answer repeatedly as here "
                 f"(design effect {deff})")
        line_zh += f"；若像本次一样有客户多次回答，则约需 {repeated} 份（设计效应 {deff}）"
    n, margin = count(o.n), number(o.margin)
    return [i18n.t(line + f"; the {n} responses here give ±{margin} points.",
                   line_zh + f"。本次的 {n} 份回答可达到 ±{margin} 分。")]


def describe_truth(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    t = result.truth
    if t is None:
        return [i18n.t("No `truth.json` beside the survey file: this comparison exists only for the course data.",
                       "调查文件旁没有 `truth.json`：这一比较只适用于课程数据。")]
    first = t.iloc[0]
    covered = int(t["covered"].sum())
    who = first["scope"] if first["value"] == "everyone" else first["value"]
    if first["value"] == "everyone":
        who_zh = "总体"
    else:
        col, sep, value = str(first["value"]).partition(" = ")
        who_zh = f"{_zh(col)} = {esc(value)}" if sep else esc(first["value"])
    true, est = number(first["true"]), number(first["estimate"])
    return [i18n.t(f"True NPS ({esc(who)}): {true}; estimate {est} "
                   f"({'inside' if first['covered'] else 'outside'} its interval). "
                   f"{covered} of {len(t)} intervals in the comparison contain the true value.",
                   f"真实 NPS（{who_zh}）：{true}；估计值 {est}（落在置信区间{'内' if first['covered'] else '外'}）。"
                   f"比较中的 {len(t)} 个区间有 {covered} 个包含真值。")]


def describe_join(result: NPSReport) -> list[str]:
    """A warning when many survey responses found no customer to take their segment from."""
    from .analysis import JOIN_WARN_RATE

    rate = result.data.join_match_rate
    if rate is None or rate >= JOIN_WARN_RATE:
        return []
    share, file, expected = percent(rate, 1), esc(result.data.inputs.get("customers")), percent(JOIN_WARN_RATE)
    return [i18n.t(f"**Warning:** only {share} of survey responses matched a customer in "
                   f"{file} on customer_id (expected ≥ {expected}); "
                   f"the rest are shown as segment '{esc(MISSING_LABEL)}'. Check that both files use the same ids.",
                   f"**警告：**调查回答中只有 {share} 能按 customer_id 匹配到 {file} 中的客户（应不低于 {expected}）；"
                   f"其余回答的细分市场显示为“{_zh(MISSING_LABEL)}”。请检查两个文件是否使用相同的客户编号。")]


def key_findings(result: NPSReport) -> list[str]:
    """The 'Key findings' bullets, each computed from the results (data warnings first)."""
    if (w := _withheld(result, short=False)) is not None:
        return w
    lines = describe_join(result) + describe_overall(result)[:2]
    for part in (describe_segments(result)[:3], describe_trend(result), describe_dimensions(result)[:1],
                 describe_themes(result)[:2], describe_truth(result) if result.truth is not None else []):
        lines.extend(part)
    hidden = sum(int(t["suppressed"].sum()) for t in result.segments.values())
    if hidden:
        min_cell = result.params.min_cell
        lines.append(i18n.t(f"{hidden} segment cell(s) are suppressed to protect respondents (min_cell = "
                            f"{min_cell}).",
                            f"为保护受访者，{hidden} 个细分单元格已抑制（min_cell = {min_cell}）。"))
    return lines + describe_linked(result)


def describe_linked(result: NPSReport) -> list[str]:
    """One sentence when this fan-out part hides cells only to protect the other parts of its batch."""
    extra = result.linked.extra if result.linked is not None else 0
    if not extra:
        return []
    return [i18n.t(f"{count(extra)} further cell(s) are hidden in this report so that no small group in another part of "
                   f"this batch ({esc(_scope(result.data.filters))}) or in the report on everyone can be worked out by "
                   "subtraction.",
                   f"本报告另外隐藏了 {count(extra)} 个单元格，以免有人通过相减推算出本批次其他部分"
                   f"（{esc(_scope_zh(result.data.filters))}）或全体客户报告中的小样本组。")]


def _scope(filters) -> str:
    """'the other values of region' for the filter columns of a part."""
    return "the other values of " + ", ".join(str(c) for c in filters)


def _scope_zh(filters) -> str:
    """'地区的其他取值' for the filter columns of a part."""
    return "、".join(i18n.zh_of(str(c)) or str(c) for c in filters) + " 的其他取值"
