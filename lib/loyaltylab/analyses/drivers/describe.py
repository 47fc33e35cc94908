"""The driver report in words: "What this shows" for each section and the key findings, computed from the result.

Every data-derived value (driver, control and segment column names, segment values, file names) goes through
:func:`loyaltylab.narrative.esc`, so it renders as text and never as Markdown or HTML; numbers through the
narrative formats. The course's framing (the SERVQUAL dimensions, the truth) appears only on the course data.
Every sentence is written in English and Chinese (:func:`.words.t`); the English ones are the reference.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loyaltylab.constants import DIMENSIONS, dimension_label
from loyaltylab.i18n import column_zh
from loyaltylab.narrative import count, esc, join_words, number, p_value, percent
from loyaltylab.stats.multiplicity import CORRECTION_NAMES

from .data import PROMOTER
from .words import OUTCOME_ZH, join_zh, label_zh, note_text, p_zh
from .words import t as say

if TYPE_CHECKING:
    from .analysis import DriversReport


def label(name) -> str:
    """A driver's name for a sentence: the bilingual SERVQUAL label for a dimension, else the name escaped."""
    return dimension_label(name, bilingual=True) if name in DIMENSIONS else esc(name)


def _labels_zh(names) -> str:
    return join_zh([label_zh(x) for x in names])


def _ci(low, high, confidence: float, fmt=percent) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"{confidence:.0%} CI {fmt(low)} to {fmt(high)}"


def _ci_zh(low, high, confidence: float, fmt=percent) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"{confidence:.0%} 置信区间 {fmt(low)} 至 {fmt(high)}".replace("-", "−")    # one minus sign in Chinese


def _pct(x) -> str:
    return percent(x, 0)


def _outcome(r: DriversReport) -> str:
    return "promoter vs not" if r.outcome == PROMOTER else esc(r.outcome)


def _outcome_zh(r: DriversReport) -> str:
    if r.outcome == PROMOTER:
        return "“是否为推荐者”"
    return f" {OUTCOME_ZH[r.outcome]} " if r.outcome in OUTCOME_ZH else f" {esc(r.outcome)} "


def describe_data(r: DriversReport) -> list[str]:
    """What was read and left out."""
    d = r.data
    clustered = d.cluster_col and r.boot is not None
    n_clusters = count(r.decomposition.boot.n_clusters) if clustered else ""
    who = (f" from {n_clusters} respondents (repeat answers clustered by {esc(d.cluster_col)})" if clustered else "")
    who_zh = (f"，来自 {n_clusters} 位受访者（同一受访者的重复回答按{esc(column_zh(d.cluster_col))}聚类）" if clustered else "")
    controls = [esc(c) for c in d.controls]
    lines = [say(f"{count(r.n)} complete responses{who} with the outcome {_outcome(r)}, "
                 f"{len(d.drivers)} driver columns" + (f" and the controls {join_words(controls)}" if d.controls else "")
                 + ".",
                 f"共 {count(r.n)} 条完整回答{who_zh}；结果变量为{_outcome_zh(r)}，驱动因素 {len(d.drivers)} 列"
                 + (f"，控制变量为 {join_zh(controls)}" if d.controls else "") + "。")]
    if d.from_customers:
        joined = [esc(c) for c in d.from_customers]
        lines.append(say(f"Joined from the customers file on customer_id: {join_words(joined)}.",
                         f"按 customer_id 从客户文件并入：{join_zh(joined)}。"))
    lines += [note_text(n) for n in r.notes]
    return lines


def describe_importance(r: DriversReport) -> list[str]:
    """R², the shares of the drivers (LMG) and whether the relative weights agree."""
    t, conf = r.ranked(), r.params.confidence
    dec = r.decomposition
    r2 = number(r.r2, 3)
    if dec.kind == "logistic":
        lines = [say(f"The drivers explain a McFadden pseudo-R² of {r2} in the logistic model of promoter "
                     f"vs not (n = {count(dec.point.n)}).",
                     f"在“是否为推荐者”的逻辑回归模型中，驱动因素共解释了麦克法登伪 R² = {r2}"
                     f"（n = {count(dec.point.n)}）。")]
    elif dec.point.controls:
        controls, drivers = number(dec.point.r2_controls, 3), number(dec.point.r2_drivers, 3)
        lines = [say(f"The controls alone explain R² = {controls}; the drivers add {drivers} on top (total {r2}), "
                     "and it is that part that is shared out below.",
                     f"控制变量单独解释 R² = {controls}；驱动因素在此基础上再解释 {drivers}（合计 {r2}），"
                     "下面分配的正是驱动因素增加的这一部分。")]
    else:
        lines = [say(f"Together the drivers explain R² = {r2} of the variance in {_outcome(r)}.",
                     f"各驱动因素合计解释了{_outcome_zh(r)}方差的 R² = {r2}。")]
    top = t.iloc[0]
    ci = _ci(top["lmg_share_ci_low"], top["lmg_share_ci_high"], conf, _pct)
    ci_zh = _ci_zh(top["lmg_share_ci_low"], top["lmg_share_ci_high"], conf, _pct)
    share = _pct(top["lmg_share"])
    lines.append(say(f"{label(top['driver'])} explains the largest share: **{share}** of the explained "
                     f"variance{f' ({ci})' if ci else ''}. In order: "
                     + "; ".join(f"{label(x.driver)} {_pct(x.lmg_share)}" for x in t.itertuples()) + ".",
                     f"{label_zh(top['driver'])}所占份额最大：占已解释方差的 **{share}**{f'（{ci_zh}）' if ci else ''}。"
                     "依次为：" + "；".join(f"{label_zh(x.driver)} {_pct(x.lmg_share)}" for x in t.itertuples())
                     + "。"))
    if dec.kind == "linear" and t["relative_weight_share"].notna().all():
        rw_order = list(t.sort_values("relative_weight_share", ascending=False)["driver"])
        if rw_order == list(t["driver"]):
            lines.append(say("Johnson's relative weights rank the drivers in the same order (they agree with the LMG "
                             "to within a few points, as they usually do).",
                             "Johnson 相对权重给出的排序相同（与 LMG 相差不过几个百分点，通常都是如此）。"))
        else:
            lines.append(say("Johnson's relative weights order the drivers differently: "
                             + ", ".join(label(x) for x in rw_order) + " — where the two methods disagree, the "
                             "drivers are too close to rank.",
                             "Johnson 相对权重给出的排序不同：" + "、".join(label_zh(x) for x in rw_order)
                             + "——两种方法不一致之处，说明这些驱动因素过于接近，无法排出先后。"))
    return lines


def describe_measures(r: DriversReport) -> list[str]:
    """Why standardised betas mislead when drivers are correlated."""
    t = r.drivers
    if t["beta_std"].isna().all():
        return []
    by_lmg = list(r.ranked()["driver"])
    by_beta = list(t.assign(b=t["beta_std"].abs()).sort_values("b", ascending=False)["driver"])
    vif = t.loc[t["vif"].idxmax()]
    size = number(vif["vif"], 2)
    overlap = (("the drivers overlap strongly.", "驱动因素之间高度重叠。") if vif["vif"] > 5 else
               ("the drivers overlap, as ratings of one service do.", "驱动因素之间有所重叠，同一项服务的各项评分通常如此。")
               if vif["vif"] > 1.5 else ("the drivers barely overlap.", "驱动因素之间几乎没有重叠。"))
    lines = [say(f"The largest VIF is {size} ({label(vif['driver'])}): " + overlap[0],
                 f"最大的 VIF 为 {size}（{label_zh(vif['driver'])}）：" + overlap[1])]
    if by_beta != by_lmg:
        lines.append(say("Ranked by the size of their standardised betas the drivers come out as "
                         + ", ".join(label(x) for x in by_beta) + " — not the LMG order. A beta credits a driver only "
                         "with what it adds after all the others, so correlated drivers split their common part "
                         "arbitrarily; the LMG averages over every order of entry instead.",
                         "按标准化回归系数（beta）的绝对值排序，驱动因素依次为" + "、".join(label_zh(x) for x in by_beta)
                         + "——与 LMG 的排序不同。beta 只计入一个驱动因素在其他所有因素之后新增的解释力，相关的驱动因素"
                         "如何分摊共同部分因而带有任意性；LMG 则对所有进入顺序取平均。"))
    else:
        lines.append(say("Here the standardised betas happen to rank the drivers as the LMG does; their sizes still "
                         "understate drivers that share variance with others.",
                         "此处标准化 beta 的排序恰好与 LMG 相同；但对于与其他因素共享方差的驱动因素，beta 的大小"
                         "仍会低估其作用。"))
    small_last = t[(t["last"] < 0.5 * t["lmg"]) & (t["lmg"] > 0)]
    if len(small_last):
        x = small_last.loc[small_last["lmg"].idxmax()]
        last, first = number(x["last"], 3), number(x["first"], 3)
        lines.append(say(f"{label(x['driver'])} adds only {last} to R² when entered last but {first} when entered "
                         "first: most of its effect is shared with the others.",
                         f"{label_zh(x['driver'])}最后进入模型时只使 R² 增加 {last}，最先进入时却增加 {first}："
                         "其作用大部分与其他驱动因素共享。"))
    neg = t[t["pratt"] < 0]
    if len(neg):
        lines.append(say("Negative Pratt measures (" + join_words([label(x) for x in neg["driver"]]) + ") mark "
                         "drivers whose beta and correlation with the outcome have opposite signs.",
                         "Pratt 指标为负（" + _labels_zh(neg["driver"]) + "）表示该驱动因素的 beta 与它和结果变量的"
                         "相关系数符号相反。"))
    return lines


def _ahead(r: DriversReport) -> str | None:
    """Is the first driver really ahead of the second? (the bootstrap difference of their LMG), or None."""
    t, pairs = r.ranked(), r.boot.pairs
    if len(t) < 2:
        return None
    a, b = t.iloc[0]["driver"], t.iloc[1]["driver"]
    row = pairs[((pairs["driver"] == a) & (pairs["other"] == b)) | ((pairs["driver"] == b) & (pairs["other"] == a))]
    if not len(row):
        return None
    x = row.iloc[0]
    adj = CORRECTION_NAMES.get(r.correction, "")
    sign = 1 if x["driver"] == a else -1
    diff, lo, hi = sign * x["estimate"], *sorted((sign * x["ci_low"], sign * x["ci_high"]))
    conf = r.boot.confidence
    verdict = "really is ahead" if x["significant"] else "is not reliably ahead"
    verdict_zh = "确实领先" if x["significant"] else "并不能可靠地判定其领先"
    return say(f"Is {label(a)} really ahead of {label(b)}? It {verdict}: the difference in LMG is "
               f"{number(diff, 3)} of R² ({_ci(lo, hi, conf, lambda v: number(v, 3))}, {adj}-adjusted "
               f"{p_value(x['p_adjusted'])}).",
               f"{label_zh(a)}真的领先于{label_zh(b)}吗？{verdict_zh}：两者的 LMG 之差为 R² 的 {number(diff, 3)}"
               f"（{_ci_zh(lo, hi, conf, lambda v: number(v, 3))}，经 {adj} 校正 {p_zh(x['p_adjusted'])}）。")


def describe_uncertainty(r: DriversReport) -> list[str]:
    """Rank stability and the pairwise differences, from the bootstrap."""
    boot = r.boot
    if boot is None:
        n = r.params.n_bootstrap
        return [say(f"No bootstrap (n_bootstrap = {n}): no intervals.",
                    f"未做自助法（n_bootstrap = {n}）：没有区间估计。")] if not n else []
    probs = boot.rank_probabilities
    t = r.ranked()
    top = t.iloc[0]["driver"]
    respondents, replicates, first = count(boot.n_clusters), count(boot.n_boot), _pct(probs.loc[top, 1])
    lines = [say(f"Cluster bootstrap over {respondents} respondents, {replicates} replicates. "
                 f"{label(top)} ranks first in {first} of them.",
                 f"整群自助法：{respondents} 位受访者，{replicates} 次重抽样。{label_zh(top)}在其中 {first} 的重抽样中"
                 "排名第一。")]
    settled = [d for d in t["driver"] if probs.loc[d].max() >= 0.95]
    if len(settled) == len(t):
        lines.append(say("Every driver keeps its rank in at least 95% of the replicates: the order is settled.",
                         "每个驱动因素在至少 95% 的重抽样中名次不变：排序是稳定的。"))
    elif settled:
        lines.append(say(f"Rank settled (same rank in ≥ 95% of replicates): {join_words([label(d) for d in settled])}; "
                         "the others swap places from sample to sample.",
                         f"名次稳定（在 ≥ 95% 的重抽样中名次相同）：{_labels_zh(settled)}；其余驱动因素的名次随样本"
                         "而互换。"))
    pairs = boot.pairs
    adj = CORRECTION_NAMES.get(r.correction, "")
    ahead = _ahead(r)
    if ahead:
        lines.append(ahead)
    sig = int(pairs["significant"].sum())
    lines.append(say(f"{sig} of {len(pairs)} pairwise differences are significant after {adj} adjustment.",
                     f"经 {adj} 校正后，{len(pairs)} 对两两差异中有 {sig} 对显著。"))
    return lines


def describe_dominance(r: DriversReport) -> list[str]:
    """Complete, conditional and general dominance in words."""
    dom = r.decomposition.dominance
    if dom is None:
        return []
    lines = []
    for level, what, level_zh, what_zh in (
            ("complete", "adds more R² than the other in every model of the other drivers", "完全优势",
             "在其余驱动因素构成的每一个模型中，都比对方增加更多的 R²"),
            ("conditional", "adds more on average at every model size", "条件优势",
             "在每一种模型规模下，平均增加的 R² 都更多")):
        won = dom[dom[level].notna()]
        example = example_zh = ""
        if len(won):
            first = won.iloc[0]
            loser = first["other"] if first[level] == first["driver"] else first["driver"]
            example = f", e.g. {label(first[level])} over {label(loser)}"
            example_zh = f"，例如{label_zh(first[level])}优于{label_zh(loser)}"
        lines.append(say(f"{level.capitalize()} dominance ({what}): {len(won)} of {len(dom)} pairs are decided"
                         + example + ".",
                         f"{level_zh}（{what_zh}）：{len(dom)} 对中有 {len(won)} 对分出了高下{example_zh}。"))
    lines.append(say("General dominance is the LMG itself: the order above.", "一般优势就是 LMG 本身，即上面的排序。"))
    return lines


def describe_promoter(r: DriversReport) -> list[str]:
    """The logistic decomposition of promoter vs not beside an nps outcome."""
    dec = r.promoter
    if dec is None:
        return []
    t = dec.point.table.sort_values("rank")
    same = list(t["driver"]) == list(r.ranked()["driver"])
    r2, n = number(dec.point.r2, 3), count(dec.point.n)
    return [say(f"For promoter (9–10) vs not, McFadden's pseudo-R² is {r2} (n = {n}); its shares: "
                + "; ".join(f"{label(x.driver)} {_pct(x.lmg_share)}" for x in t.itertuples()) + ".",
                f"对于“是否为推荐者（9–10 分）”，麦克法登伪 R² 为 {r2}（n = {n}）；各驱动因素所占份额："
                + "；".join(f"{label_zh(x.driver)} {_pct(x.lmg_share)}" for x in t.itertuples()) + "。"),
            say("The order is the same as for the 0–10 score.", "排序与 0–10 分评分的排序相同。") if same else
            say("The order differs from the 0–10 score's: what makes a promoter is not quite what raises the mean "
                "score.", "排序与 0–10 分评分的排序不同：促使顾客成为推荐者的因素，与提高平均分的因素并不完全相同。")]


QUADRANT_ADVICE = (
    ("concentrate here", "more important than average and below-average performance — invest here first",
     "重点改进", "重要性高于平均而表现低于平均——应优先在此投入"),
    ("keep up the good work", "important and performing above average — protect", "继续保持",
     "重要且表现高于平均——应保持"),
    ("possible overkill", "performing well on something that moves the outcome little", "可能过度投入",
     "在对结果影响不大的方面表现很好"),
    ("low priority", "neither important nor strong", "低优先级", "既不重要，表现也不突出"))


def describe_key_drivers(r: DriversReport) -> list[str]:
    """The IPA quadrants: where to invest first."""
    k = r.key_drivers
    lines = []
    for quadrant, advice, quadrant_zh, advice_zh in QUADRANT_ADVICE:
        names = k[k["quadrant"] == quadrant]["driver"]
        if len(names):
            lines.append(say(f"**{quadrant.capitalize()}**: {join_words([label(x) for x in names])} ({advice}).",
                             f"**{quadrant_zh}**：{_labels_zh(names)}（{advice_zh}）。"))
    shaky = k[k["importance_stability"] < 0.8]
    if len(shaky):
        lines.append(say("Near the importance line (on the same side in fewer than 80% of the replicates): "
                         + join_words([label(x) for x in shaky["driver"]]) + "; their quadrant is uncertain.",
                         "靠近重要性分界线（在不到 80% 的重抽样中落在同一侧）：" + _labels_zh(shaky["driver"])
                         + "；其所属象限并不确定。"))
    if r.performance_scale == "pomp":
        lines.append(say("The drivers are on different scales, so performance is the percent of each driver's "
                         "observed range (POMP).",
                         "各驱动因素的量表不同，因此表现以各自观测范围的百分比表示（POMP）。"))
    return lines


def describe_stated(r: DriversReport) -> list[str]:
    """Derived against stated importance."""
    s = r.stated
    if s is None:
        return []
    said = s.sort_values("stated", ascending=False).iloc[0]
    moved = s.sort_values("derived", ascending=False).iloc[0]
    rho = r.stated_summary.get("spearman")
    n = count(r.stated_summary.get("n"))
    line = (f"Asked directly ({n} respondents gave importance points), customers say "
            f"{label(said['driver'])} matters most ({_pct(said['stated'])} of their points); the ratings show "
            f"{label(moved['driver'])} moves {_outcome(r)} most ({_pct(moved['derived'])} of R²).")
    line_zh = (f"直接询问时（{n} 位受访者分配了重要性点数），顾客认为{label_zh(said['driver'])}最重要"
               f"（占其点数的 {_pct(said['stated'])}）；而评分数据显示，对{_outcome_zh(r)}影响最大的是"
               f"{label_zh(moved['driver'])}（占 R² 的 {_pct(moved['derived'])}）。")
    if rho is not None and np.isfinite(rho):
        line += f" Spearman's rank correlation between the two is {number(rho, 2)}."
        line_zh += f"两者的 Spearman 等级相关系数为 {number(rho, 2)}。"
    gap = s.loc[s["difference"].abs().idxmax()]
    stated, derived = _pct(gap["stated"]), _pct(gap["derived"])
    return [say(line, line_zh),
            say(f"The largest disagreement is {label(gap['driver'])}: {stated} stated against {derived} derived. "
                "Stated importance measures what people believe matters; derived importance what actually moves "
                "their answers.",
                f"分歧最大的是{label_zh(gap['driver'])}：陈述重要性 {stated}，推导重要性 {derived}。陈述重要性衡量的是"
                "人们认为什么重要；推导重要性衡量的是什么真正影响了他们的回答。")]


KANO_MEANING = (
    ("basic", "a low rating costs more than a high one gains — must-be qualities", "必备型因素",
     "低评分造成的损失大于高评分带来的收益——必备质量"),
    ("excitement", "a high rating gains more than a low one costs — delighters", "魅力型因素",
     "高评分带来的收益大于低评分造成的损失——惊喜因素"),
    ("performance", "loss and gain about symmetric", "期望型因素", "损失与收益大致对称"))


def describe_kano(r: DriversReport) -> list[str]:
    """Basic, performance and excitement factors."""
    k = r.kano
    shown = k[~k["suppressed"].astype(bool) & k["category"].notna()]
    lines = []
    for cat, meaning, cat_zh, meaning_zh in KANO_MEANING:
        names = shown[shown["category"] == cat]["driver"]
        if len(names):
            lines.append(say(f"**{cat.capitalize()}**: {join_words([label(x) for x in names])} ({meaning}).",
                             f"**{cat_zh}**：{_labels_zh(names)}（{meaning_zh}）。"))
    hidden = int(k["suppressed"].astype(bool).sum())
    if hidden:
        lines.append(say(f"{hidden} driver(s) suppressed: a rating box with fewer than {r.params.min_cell} "
                         "respondents.",
                         f"{hidden} 个驱动因素被抑制：某个评分区间的受访者少于 {r.params.min_cell} 人。"))
    if len(shown):
        x = shown.loc[shown["penalty"].idxmax()]
        if r.outcome == PROMOTER:
            def fmt(v):
                return f"{number(100 * v, 0)} points"

            def fmt_zh(v):
                return number(100 * v, 0)
            what, what_zh, unit_zh = "a promoter share lower than its middle by", "推荐者占比", " 个百分点"
        else:
            def fmt(v):
                return number(v, 2)
            fmt_zh, unit_zh = fmt, ""
            what, what_zh = f"{_outcome(r)} lower than its middle by", _outcome_zh(r)
        conf = r.params.confidence
        lines.append(say(f"The largest penalty: {label(x['driver'])} — its bottom box has {what} {fmt(x['penalty'])} "
                         f"({_ci(x['penalty_ci_low'], x['penalty_ci_high'], conf, fmt)}).",
                         f"惩罚最大的是{label_zh(x['driver'])}：其低分组的{what_zh}比中间组低 {fmt_zh(x['penalty'])}"
                         f"{unit_zh}（{_ci_zh(x['penalty_ci_low'], x['penalty_ci_high'], conf, fmt_zh)}{unit_zh}）。"))
    return lines


def _segment_line(col: str, groups: pd.DataFrame, table: pd.DataFrame, r: DriversReport) -> str:
    adj = CORRECTION_NAMES.get(r.correction, "")
    hidden = int(groups["suppressed"].sum())
    shown = groups[~groups["suppressed"].astype(bool)]
    name, name_zh = esc(col), esc(column_zh(col))
    if not len(shown):
        return say(f"By {name}: every group is suppressed (fewer than {r.params.min_cell} respondents).",
                   f"按{name_zh}划分：所有组都被抑制（受访者少于 {r.params.min_cell} 人）。")
    text = f"By {name} ({len(shown)} groups shown): "
    text_zh = f"按{name_zh}划分（显示 {len(shown)} 组）："
    sig = table[table["significant"].astype(bool)]
    if r.segments.n_boot == 0:
        text += "no bootstrap, so no test of differences."
        text_zh += "未做自助法，因此不检验差异。"
    elif len(sig):
        text += "; ".join(f"in {esc(x.value)} the share of {label(x.driver)} is {_pct(x.estimate)} against "
                          f"{_pct(x.rest)} in the rest ({adj}-adjusted {p_value(x.p_adjusted)})"
                          for x in sig.itertuples()) + "."
        text_zh += "；".join(f"在 {esc(x.value)} 组中，{label_zh(x.driver)}的份额为 {_pct(x.estimate)}，其余受访者中为 "
                             f"{_pct(x.rest)}（经 {adj} 校正 {p_zh(x.p_adjusted)}）"
                             for x in sig.itertuples()) + "。"
    else:
        text += (f"no driver's share differs significantly from the rest of the respondents ({adj}-adjusted across "
                 "groups and drivers): the same drivers matter everywhere.")
        text_zh += (f"没有哪个驱动因素的份额与其余受访者有显著差异（经 {adj} 校正，跨组和驱动因素）：各处起作用的"
                    "驱动因素相同。")
    few = shown[shown["few_rows"].astype(bool)]
    if len(few):
        text += f" {len(few)} group(s) have fewer than 10 responses per predictor: their shares are unstable."
        text_zh += f"{len(few)} 个组中每个预测变量不足 10 条回答：其份额不稳定。"
    if hidden:
        text += f" {hidden} group(s) suppressed (small cells)."
        text_zh += f"{hidden} 个组因样本过小被抑制。"
    return say(text, text_zh)


def describe_segments(r: DriversReport) -> list[str]:
    seg = r.segments
    if seg is None:
        return []
    return [_segment_line(col, g, seg.table[seg.table["column"] == col], r)
            for col, g in seg.groups.groupby("column", sort=False)]


def describe_warnings(r: DriversReport) -> list[str]:
    """Suppressors and sign flips, collinear pairs (with a grouping to offer), VIFs, small n per driver."""
    w = r.warnings
    lines = []
    for x in w[w["kind"] == "suppressor"].itertuples():
        ref, value = number(x.reference, 2), number(x.value, 2)
        lines.append(say(f"Sign flip: {label(x.driver)} correlates {'positively' if x.reference > 0 else 'negatively'} "
                         f"with {_outcome(r)} (r = {ref}) but its standardised beta is {value} — a suppressor "
                         "effect; read its beta with care (its LMG is not affected the same way).",
                         f"符号反转：{label_zh(x.driver)}与{_outcome_zh(r)}{'正' if x.reference > 0 else '负'}相关"
                         f"（r = {ref}），但其标准化 beta 为 {value}——这是抑制效应；解读其 beta 时需谨慎（其 LMG "
                         "不受同样的影响）。"))
    for x in w[w["kind"] == "collinear_pair"].itertuples():
        code = f"driver_groups = {{\"{esc(x.driver)} + {esc(x.other)}\": [\"{esc(x.driver)}\", \"{esc(x.other)}\"]}}"
        lines.append(say(f"{label(x.driver)} and {label(x.other)} correlate at r = {number(x.value, 2)}: how the LMG "
                         f"splits their common part is arbitrary. Consider reporting them together: {code}.",
                         f"{label_zh(x.driver)}与{label_zh(x.other)}的相关系数 r = {number(x.value, 2)}：LMG 如何分配"
                         f"两者的共同部分带有任意性。可考虑将两者合并报告：{code}。"))
    for x in w[w["kind"] == "vif"].itertuples():
        value, limit = number(x.value, 1), number(x.threshold, 0)
        lines.append(say(f"{label(x.driver)} has VIF {value} (above {limit}): its beta is unstable.",
                         f"{label_zh(x.driver)}的 VIF 为 {value}（高于 {limit}）：其 beta 不稳定。"))
    for x in w[w["kind"] == "few_rows"].itertuples():
        value, limit = number(x.value, 1), number(x.threshold, 0)
        lines.append(say(f"Only {value} responses per predictor (fewer than {limit}): every importance here is "
                         "imprecise; collect more responses or use fewer drivers.",
                         f"每个预测变量只有 {value} 条回答（少于 {limit}）：这里的每个重要性估计都不精确；"
                         "请收集更多回答，或减少驱动因素。"))
    if not lines:
        lines.append(say("No sign flips, no VIF above 5, no pair of drivers correlated above 0.9 and at least 10 "
                         "responses per predictor: nothing here calls for special care.",
                         "没有符号反转，没有高于 5 的 VIF，没有相关系数高于 0.9 的驱动因素对，且每个预测变量至少有 "
                         "10 条回答：无需特别注意。"))
    return lines


def _truth_lines(r: DriversReport) -> list[str]:
    t = r.truth
    if t is None:
        return []
    lines = []
    for measure, name, name_zh in (("lmg_share", "LMG shares", "LMG 份额"),
                                   ("relative_weight_share", "relative-weight shares", "相对权重份额")):
        part = t[(t["measure"] == measure) & t["covered"].notna()]
        if len(part):
            covered, error = int(part["covered"].astype(bool).sum()), number(part["error"].abs().max() * 100, 1)
            lines.append(say(f"{covered} of {len(part)} {name} have intervals that contain the true population value; "
                             f"the largest error is {error} percentage points.",
                             f"{len(part)} 个 {name_zh}中有 {covered} 个的区间包含总体真值；最大误差为 {error} 个百分点。"))
    lines.append(say("The truth here is the population decomposition of the observed dimension scores (item means "
                     "with rounding and noise), not the generator's latent weights: the latent weights (shown beside) "
                     "act on quality the survey can only measure with error, so the observed shares are flatter.",
                     "这里的真值是观测维度得分（题项均值，含取整与噪声）的总体分解，而不是数据生成器的潜在权重："
                     "潜在权重（并列显示）作用于调查只能带误差测量的服务质量，因此观测到的份额分布更平坦。"))
    return lines


def describe_truth(r: DriversReport) -> list[str]:
    """Estimated vs true shares (course data)."""
    return _truth_lines(r)


FALLBACK = {
    "measures": ("Groups of drivers have no single beta.", "驱动因素组没有单一的 beta。"),
    "promoter": ("Shown beside a 0–10 nps outcome.", "仅在结果变量为 0–10 分的 nps 时并列显示。"),
    "segments": ("No segment columns.", "没有细分列。"),
    "truth": ("No course truth for this data and these parameters.", "这份数据和这组参数没有课程数据的真值。"),
}


def fallback(section: str) -> list[str]:
    """The sentence a section shows when it has nothing to say (``measures``, ``promoter``, ``segments``,
    ``truth``), in the report's language."""
    return [say(*FALLBACK[section])]


def key_findings(r: DriversReport) -> list[str]:
    """The few sentences at the top of the report."""
    t = r.ranked()
    lines = describe_importance(r)[:2]
    if r.boot is not None:
        ahead = _ahead(r)
        lines += [ahead] if ahead else []
    conc = r.key_drivers[r.key_drivers["quadrant"] == "concentrate here"]["driver"]
    if len(conc):
        lines.append(say(f"Invest first in {join_words([label(x) for x in conc])}: above-average importance, "
                         "below-average performance.",
                         f"优先投资于{_labels_zh(conc)}：重要性高于平均，表现低于平均。"))
    elif len(t):
        top = t.iloc[0]["driver"]
        lines.append(say(f"No driver is both important and weak; protect {label(top)}.",
                         f"没有哪个驱动因素既重要又薄弱；应保持{label_zh(top)}的优势。"))
    cats = r.kano[~r.kano["suppressed"].astype(bool)]
    basic = cats[cats["category"] == "basic"]["driver"]
    if len(basic):
        lines.append(say(f"Basic factors (a low rating hurts more than a high one helps): "
                         f"{join_words([label(x) for x in basic])}.",
                         f"必备型因素（低评分造成的伤害大于高评分带来的帮助）：{_labels_zh(basic)}。"))
    if len(r.warnings):
        lines.append(say(f"{len(r.warnings)} caution(s) about the decomposition: see the warnings section.",
                         f"关于分解结果有 {len(r.warnings)} 条注意事项：见“严谨的分析者会检查什么”一节。"))
    lines += _truth_lines(r)[:1]
    return lines
