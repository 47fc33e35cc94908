"""Notebook 05 in words: "What this shows" for each section and the key findings, computed from the result.

Every data-derived value (column names, file names, failure types) goes through :func:`loyaltylab.narrative.esc`;
numbers through the narrative formats. The course's framing — the firm's and the customer's proactivity, "1+1>2",
the slides' claims, the course's recovery definition — is used only on the course data; a user's file gets neutral
wording with its own column names. Every sentence is written in English and Chinese (:func:`loyaltylab.i18n.t`);
the words they share (cell and status names, the variables) come in pairs, one per language.
"""
from __future__ import annotations

import math
import re

from loyaltylab import i18n
from loyaltylab.i18n import column_zh
from loyaltylab.narrative import count, esc, interval, number, p_value, percent, signed

COURSE_COLUMNS = {"provider_proactive": "the firm's proactive outreach (provider_proactive, contacts per year)",
                  "customer_proactive": "the customer's proactive participation (customer_proactive, actions per "
                                        "year)"}
COURSE_COLUMNS_ZH = {"provider_proactive": "企业主动服务（provider_proactive，每年主动联系次数）",
                     "customer_proactive": "顾客主动参与（customer_proactive，每年主动参与次数）"}
OUTCOME_WORDS = {"nps": "the 0–10 recommend score", "promoter": "the chance of being a promoter (9–10)",
                 "satisfaction": "satisfaction (1–7)", "repurchase_intent": "repurchase intent (1–7)"}
OUTCOME_WORDS_ZH = {"nps": "推荐意愿得分（0–10）", "promoter": "成为推荐者（9–10 分）的概率",
                    "satisfaction": "满意度（1–7）", "repurchase_intent": "再购意愿（1–7）"}
STATUS_WORDS = {"never_failed": "never failed", "recovered_well": "recovered well", "recovered_poorly":
                "recovered poorly", "not_recovered": "not recovered", "double_deviation":
                "second failure after a good recovery"}
STATUS_WORDS_ZH = {"never_failed": "从未失误", "recovered_well": "补救良好", "recovered_poorly": "补救不佳",
                   "not_recovered": "未补救", "double_deviation": "补救良好后再次失误"}
VERDICT_WORDS = {"not_shown": "cannot be tested (a cell is empty or too small to show)"}
VERDICT_WORDS_ZH = {"not_shown": "无法检验（有组为空或人数太少，不予显示）"}
SHORT_WORDS = {"x": "the firm's outreach", "moderator": "the customer's participation"}
SHORT_WORDS_ZH = {"x": "企业主动服务", "moderator": "顾客主动参与"}
COURSE_CELLS = {"neither": "neither proactive", "firm": "firm only", "customer": "customer only", "both": "both"}
COURSE_CELLS_ZH = {"neither": "双方都不主动", "firm": "仅企业主动", "customer": "仅顾客主动", "both": "双方都主动"}
SECTION_WORDS_ZH = {"retention": "按四组的留存分析", "recovery": "服务补救部分",
                    "churn by failure status": "按失误经历的流失分析"}
REASONS_ZH = {
    "no incidents file": "没有服务失误（incidents）文件",
    "the survey has no customer_id to link responses to incidents": "问卷中没有 customer_id，无法把回答与服务失误记录关联",
    "needs the customers file with tenure_col, churn_col and signup_col (to place incidents on each lifetime)":
        "需要含 tenure_col、churn_col 和 signup_col 的客户文件（以便把每次失误放到客户的生命周期上）",
    "no customers file, so no customer lifetimes": "没有客户文件，因此没有客户生命周期数据",
    "tenure_col / churn_col not set": "未设置 tenure_col / churn_col",
    "no lifetimes": "没有客户生命周期数据",
}
REASON_PATTERNS_ZH = (
    (re.compile(r"^the customers file has no column (?P<cols>.+)$"), "客户文件中没有列 {cols}"),
    (re.compile(r"^(?P<share>[0-9.]+%) of responses have no matching customer and are left out of the models$"),
     "{share} 的回答找不到对应的客户，未纳入模型"),
    (re.compile(r"^the 2×2 cut leaves empty cells \((?P<cells>.+)\); choose other thresholds$"),
     "2×2 的切分留下了空组（{cells}）；请换一个切分点"),
    (re.compile(r"^2×2: (?P<rest>.+)$"), "2×2：{rest}"),
)


def _ok(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def reason_zh(text: str) -> str:
    """A note or skip reason the analysis writes in English (results.json keeps it), in Chinese when it is one of
    the analysis' own; data-derived parts (column names) stay as they are."""
    text = str(text)
    if text in REASONS_ZH:
        return REASONS_ZH[text]
    for pattern, zh in REASON_PATTERNS_ZH:
        m = pattern.match(text)
        if m:
            return zh.format(**{k: reason_zh(v) for k, v in m.groupdict().items()})
    return text


def _label(en: str, zh: str) -> str:
    """A short label (table cell, legend) in the current language; ``both``: '中文 / English' like i18n.word."""
    lang = i18n.current()
    return en if lang == "en" or zh == en else zh if lang == "zh" else f"{zh} / {en}"


def course_framing(result) -> bool:
    """The course's words apply: course data and the course's own x and moderator."""
    p = result.params
    return result.is_course and (p.x, p.moderator) == ("provider_proactive", "customer_proactive")


def _var(result, which: str, zh: bool = False) -> str:
    name = getattr(result.params, which)
    if course_framing(result) and name in COURSE_COLUMNS:
        return (COURSE_COLUMNS_ZH if zh else COURSE_COLUMNS)[name]
    return f"'{esc(name)}'"


def _short(result, which: str, zh: bool = False) -> str:
    name = getattr(result.params, which)
    if course_framing(result):
        return (SHORT_WORDS_ZH if zh else SHORT_WORDS)[which]
    return f"'{esc(name)}'"


def _outcome(result, zh: bool = False) -> str:
    o = result.params.outcome
    words = OUTCOME_WORDS_ZH if zh else OUTCOME_WORDS
    return words.get(o, f"'{esc(o)}'") if result.is_course or o in ("nps", "promoter") else f"'{esc(o)}'"


def _ci(low, high, result, digits: int = 2) -> str:
    return interval(low, high, result.params.confidence, digits)


def _ci_zh(low, high, result, digits: int = 2) -> str:
    return interval_zh(low, high, result.params.confidence, digits)


def interval_zh(low, high, confidence: float = 0.95, digits: int = 1) -> str:
    """'95% 置信区间 20.8 至 24.2' (the numbers as :func:`loyaltylab.narrative.interval` writes them; a negative
    bound with the minus sign of :func:`loyaltylab.narrative.signed`, one minus sign in a Chinese sentence)."""
    return f"{confidence:.0%} 置信区间 {number(low, digits)} 至 {number(high, digits)}".replace("-", "−")


def _list_zh(items) -> str:
    return "、".join(items)


def synergy_verdict(est) -> str:
    """holds (interval above 0), reversed (below 0), cannot_tell (includes 0), not_shown (no synergy)."""
    if est is None or not _ok(est.estimate):
        return "not_shown"
    if est.ci_low > 0:
        return "holds"
    if est.ci_high < 0:
        return "reversed"
    return "cannot_tell"


# --- the moderation model -------------------------------------------------------------------------------------


def describe_data(result) -> list[str]:
    d, it = result.data, result.interaction
    controls = result.params.controls
    en = (f"{count(it.model.n)} responses" + (f" from {count(it.n_customers)} customers" if it.n_customers else "")
          + f" enter the model of {_outcome(result)} on {_var(result, 'x')} × {_var(result, 'moderator')}"
          + (f", controlling for {', '.join(esc(c) for c in controls)}" if controls else "") + ".")
    zh = ((f"来自 {count(it.n_customers)} 位客户的 " if it.n_customers else "") + f"{count(it.model.n)} 条回答进入模型："
          f"以{_outcome(result, True)}为结果变量，对{_var(result, 'x', True)} × {_var(result, 'moderator', True)}回归"
          + (f"，控制变量为{'、'.join(esc(column_zh(c)) for c in controls)}" if controls else "") + "。")
    lines = [i18n.t(en, zh)]
    if d.from_customers:
        cols = [esc(c) for c in d.from_customers]
        source = esc(d.inputs.get("customers"))
        lines.append(i18n.t(f"{', '.join(cols)} come from the customers file ({source}), joined on customer_id.",
                            f"{_list_zh(esc(column_zh(c)) for c in d.from_customers)}来自客户文件（{source}），"
                            "按客户编号（customer_id）合并。"))
    if it.n_customers is None:
        lines.append(i18n.t("Every response is treated as independent (no cluster_col).",
                            "每条回答都被视为相互独立（未设置 cluster_col）。"))
    else:
        cluster = esc(result.params.cluster_col)
        lines.append(i18n.t(f"Standard errors are cluster-robust by {cluster} (repeat answers of one "
                            "customer are not independent evidence).",
                            f"标准误按{esc(column_zh(result.params.cluster_col))}做聚类稳健估计（同一位客户的多次回答不是相互独立的证据）。"))
    for note in d.notes:
        lines.append(i18n.t(esc(note) + ".", esc(reason_zh(note)) + "。"))
    return lines


def describe_model(result) -> list[str]:
    it = result.interaction
    est = it.interaction
    x, w = _short(result, "x"), _short(result, "moderator")
    xz, wz = _short(result, "x", True), _short(result, "moderator", True)
    ci_en, ci_zh, p = _ci(est.ci_low, est.ci_high, result, 3), _ci_zh(est.ci_low, est.ci_high, result, 3), p_value(
        est.p_value)
    b3 = signed(est.estimate, 3)
    if it.family == "logistic":
        ratio = number(math.exp(est.estimate), 3)
        lines = [i18n.t(f"The interaction of {x} and {w} is {b3} on the log-odds scale ({ci_en}, "
                        f"{p}): each extra unit of {w} multiplies the odds ratio of one more unit of {x} "
                        f"by {ratio}.",
                        f"{xz}与{wz}的交互项在对数几率（log-odds）尺度上为 {b3}（{ci_zh}，{p}）：{wz}每增加一个单位，"
                        f"{xz}每增加一个单位的优势比（odds ratio）就乘以 {ratio}。")]
        pi = it.probability
        if pi is not None:
            conf = result.params.confidence
            pp, est_pp = p_value(pi.p_value), signed(100 * pi.estimate, 2)
            lines.append(i18n.t(
                f"On the probability scale (Ai & Norton's average cross-partial) the interaction is "
                f"{est_pp} percentage points per unit of {x} × {w} "
                f"({interval(100 * pi.ci_low, 100 * pi.ci_high, conf, 2)}, "
                f"{pp}) — the odds scale and the probability scale can disagree, which is "
                "why both are shown.",
                f"在概率尺度上（Ai 和 Norton 的平均交叉偏导），{xz} × {wz}每个单位的交互作用为 {est_pp} 个百分点"
                f"（{interval_zh(100 * pi.ci_low, 100 * pi.ci_high, conf, 2)}，{pp}）——几率尺度与概率尺度的结论"
                "可能不一致，所以两者都列出。"))
        return lines
    sig = est.p_value < 1 - result.params.confidence
    lines = [i18n.t(f"The interaction of {x} and {w} on {_outcome(result)} is {b3} "
                    f"({ci_en}, {p}): each extra unit of {w} changes "
                    f"the effect of one more unit of {x} by {b3} on the outcome's scale"
                    + (" — a significant interaction." if sig else " — not significantly different from no interaction."),
                    f"{xz}与{wz}对{_outcome(result, True)}的交互项为 {b3}（{ci_zh}，{p}）：{wz}每增加一个单位，"
                    f"{xz}每增加一个单位的效应在结果变量的尺度上改变 {b3}"
                    + ("——交互作用显著。" if sig else "——与没有交互作用相比差异不显著。"))]
    if _ok(it.model.r2_change):
        change, r2 = number(100 * it.model.r2_change, 2), number(it.model.r2, 3)
        lines.append(i18n.t(f"The product term adds {change} percentage points of explained "
                            f"variance (R² = {r2}).",
                            f"乘积项使解释方差增加 {change} 个百分点（R² = {r2}）。"))
    return lines


def describe_slopes(result) -> list[str]:
    it = result.interaction
    x, w = _short(result, "x"), _short(result, "moderator")
    xz, wz = _short(result, "x", True), _short(result, "moderator", True)
    logistic = it.family == "logistic"
    scale = " log-odds" if logistic else ""
    parts, parts_zh = [], []
    pct = it.slopes.loc[it.slopes["probe"] == "percentiles"]
    where_zh = {"p16": "低（第 16 百分位", "p50": "中（中位数", "p84": "高（第 84 百分位"}
    for r in pct.itertuples():
        where = {"p16": "low (16th percentile", "p50": "middle (median", "p84": "high (84th percentile"}.get(
            r.label, f"{esc(r.label)} (")
        level, slope = number(r.w_value, 2), signed(r.estimate, 3)
        parts.append(f"at {where}, {level}) {slope}{scale} "
                     f"({_ci(r.ci_low, r.ci_high, result, 3)}{', significant' if r.significant else ''})")
        parts_zh.append(f"{where_zh.get(r.label, esc(r.label) + '（')}，{level}）时为 {slope}"
                        f"{'（对数几率）' if logistic else ''}（{_ci_zh(r.ci_low, r.ci_high, result, 3)}"
                        f"{'，显著' if r.significant else ''}）")
    lines = [i18n.t(f"Simple slopes of {x} by the level of {w}: " + "; ".join(parts) + ".",
                    f"按{wz}的水平看{xz}的简单斜率：" + "；".join(parts_zh) + "。")]
    sd = it.slopes.loc[it.slopes["probe"] == "sd"]
    if len(sd) == 3:
        lo, hi = sd.iloc[0], sd.iloc[-1]
        s_lo, s_hi, w_lo, w_hi = (signed(lo["estimate"], 3), signed(hi["estimate"], 3), number(lo["w_value"], 2),
                                  number(hi["w_value"], 2))
        lines.append(i18n.t(f"At ±1 SD of {w} (as R's interactions package reports): {s_lo} at "
                            f"{w_lo} and {s_hi} at {w_hi}.",
                            f"在{wz}的均值 ±1 个标准差处（R 的 interactions 包的报告方式）：{w_lo} 时为 {s_lo}，"
                            f"{w_hi} 时为 {s_hi}。"))
    return lines


def describe_jn(result) -> list[str]:
    jn = result.interaction.jn
    x, w = _short(result, "x"), _short(result, "moderator")
    xz, wz = _short(result, "x", True), _short(result, "moderator", True)
    lo, hi = number(jn.w_min, 2), number(jn.w_max, 2)
    rng, rng_zh = f"{lo} to {hi}", f"{lo} 至 {hi}"
    regions = jn.significant_regions
    if not jn.bounds:
        whole = bool(jn.regions["significant"].iloc[0])
        return [i18n.t(f"Johnson–Neyman: the slope of {x} is {'significant' if whole else 'not significant'} at every "
                       f"value of {w} — there is no point where it changes (observed range {rng}).",
                       f"Johnson–Neyman：在{wz}的每一个取值上，{xz}的斜率都{'显著' if whole else '不显著'}——"
                       f"不存在显著性发生变化的点（观测范围 {rng_zh}）。")]
    shown = ", ".join(number(b, 2) + ("" if inside else " (outside the data)")
                      for b, inside in zip(jn.bounds, jn.in_range))
    shown_zh = "、".join(number(b, 2).replace("-", "−") + ("" if inside else "（在数据范围之外）")
                        for b, inside in zip(jn.bounds, jn.in_range))
    lines = [i18n.t(f"Johnson–Neyman point(s) for the slope of {x}: {shown}; {w} runs from {rng} in the data.",
                    f"{xz}斜率的 Johnson–Neyman 点：{shown_zh}；数据中{wz}的取值范围为 {rng_zh}。")]
    if len(regions):
        parts = [f"{number(r.observed_low, 2)} to {number(r.observed_high, 2)} "
                 f"({'positive' if r.slope_sign > 0 else 'negative'}, {percent(r.share_rows)} of responses)"
                 for r in regions.itertuples()]
        parts_zh = [f"{number(r.observed_low, 2)} 至 {number(r.observed_high, 2)}"
                    f"（{'为正' if r.slope_sign > 0 else '为负'}，占回答的 {percent(r.share_rows)}）"
                    for r in regions.itertuples()]
        lines.append(i18n.t(f"Within the observed range the slope of {x} is significant where {w} is "
                            + "; ".join(parts) + ".",
                            f"在观测范围内，当{wz}处于以下区间时{xz}的斜率显著：" + "；".join(parts_zh) + "。"))
    else:
        lines.append(i18n.t(f"Within the observed range of {w} the slope of {x} is not significant anywhere: the "
                            "significant region lies outside the data.",
                            f"在{wz}的观测范围内，{xz}的斜率处处不显著：显著区域位于数据范围之外。"))
    if not all(jn.in_range):
        lines.append(i18n.t("A Johnson–Neyman point outside the observed range is an extrapolation of the model, "
                            "not a finding about the data.",
                            "落在观测范围之外的 Johnson–Neyman 点是模型的外推，而不是关于数据的发现。"))
    return lines


def cell_names(result, raw: bool = False, zh: bool = False) -> dict:
    """The four cells in words (the course's "firm only" … on the course data; the columns' names otherwise,
    escaped for Markdown unless ``raw`` — tables and charts escape on their own); ``zh``: in Chinese."""
    if course_framing(result):
        return dict(COURSE_CELLS_ZH if zh else COURSE_CELLS)
    quote = (lambda v: f"'{v}'") if raw else (lambda v: f"'{esc(v)}'")
    x, w = quote(result.params.x), quote(result.params.moderator)
    if zh:
        return {"neither": "两者都低", "firm": f"仅 {x} 高", "customer": f"仅 {w} 高", "both": "两者都高"}
    return {"neither": "both low", "firm": f"high {x} only", "customer": f"high {w} only", "both": "both high"}


def cell_labels(result) -> dict:
    """The four cells for tables and charts (unescaped) in the current language."""
    en, zh = cell_names(result, raw=True), cell_names(result, raw=True, zh=True)
    return {k: _label(en[k], zh[k]) for k in en}


def status_label(status: str) -> str:
    """A failure history for tables and charts in the current language."""
    return _label(STATUS_WORDS.get(status, status), STATUS_WORDS_ZH.get(status, status))


def synergy_sentence(result) -> str:
    """The "1+1>2" verdict with its evidence (neutral wording on a user's data)."""
    it = result.interaction
    digits = 3 if it.family == "logistic" else 2
    course = course_framing(result)
    label = "“1+1>2”" if course else "a synergy (both high − each high alone + both low > 0)"
    label_zh = "“1+1>2”" if course else "协同效应（两者都高 − 各自单独高 + 两者都低 > 0）"
    s = it.synergy
    if s is None:
        return i18n.t(f"Whether {label} holds {VERDICT_WORDS['not_shown']}.",
                      f"{label_zh}是否成立{VERDICT_WORDS_ZH['not_shown']}。")
    est = signed(s.estimate, digits)
    evidence = (f"both − firm only − customer only + neither = {est} " if course
                else f"the synergy contrast is {est} ")
    evidence += f"({_ci(s.ci_low, s.ci_high, result, digits)}, {p_value(s.p_value)})"
    evidence_zh = (f"双方都主动 − 仅企业主动 − 仅顾客主动 + 双方都不主动 = {est}" if course else f"协同对比为 {est}")
    evidence_zh += f"（{_ci_zh(s.ci_low, s.ci_high, result, digits)}，{p_value(s.p_value)}）"
    verdict = synergy_verdict(s)
    en = {"holds": f"{label[0].upper()}{label[1:]} holds: {evidence} — together they raise the outcome by more "
                   "than the sum of each alone.",
          "reversed": f"The opposite of {label} shows: {evidence} — together they add less than the sum of each "
                      "alone.",
          "cannot_tell": f"Whether {label} holds cannot be told from the 2×2: {evidence}; the interval includes "
                         "0."}[verdict]
    zh = {"holds": f"{label_zh}成立：{evidence_zh}——两者共同作用对结果的提升大于各自单独作用之和。",
          "reversed": f"结果与{label_zh}相反：{evidence_zh}——两者共同作用的提升小于各自单独作用之和。",
          "cannot_tell": f"仅凭 2×2 无法判断{label_zh}是否成立：{evidence_zh}；区间包含 0。"}[verdict]
    return i18n.t(en, zh)


def describe_synergy(result) -> list[str]:
    it = result.interaction
    if it.cells is None:
        notes = "; ".join(it.notes)
        return [i18n.t("The 2×2 cut could not be made: " + esc(notes) + ".",
                       "无法做 2×2 切分：" + esc("；".join(reason_zh(n) for n in it.notes)) + "。")]
    names, names_zh = cell_names(result), cell_names(result, zh=True)
    x, w = _short(result, "x"), _short(result, "moderator")
    xz, wz = _short(result, "x", True), _short(result, "moderator", True)
    digits = 3 if it.family == "logistic" else 2
    cells, cells_zh = [], []
    for r in it.cells.itertuples():
        value = "suppressed" if r.suppressed else number(r.estimate, digits)
        cells.append(f"{names[r.cell]} {value}")
        cells_zh.append(f"{names_zh[r.cell]} {'已抑制' if r.suppressed else value}")
    xc, wc = number(result.x_cut, 2), number(result.w_cut, 2)
    lines = [i18n.t(f"Cut at {x} > {xc} and {w} > {wc} (medians unless set), the "
                    f"cell means of {_outcome(result)} are: " + "; ".join(cells) + ".",
                    f"以{xz} > {xc}、{wz} > {wc} 切分（未设定时取中位数），各组{_outcome(result, True)}的均值为："
                    + "；".join(cells_zh) + "。")]
    verdict = synergy_verdict(it.synergy)
    lines.append(synergy_sentence(result))
    if it.synergy is None:
        return lines
    if verdict == "cannot_tell" and it.interaction.p_value < 1 - result.params.confidence:
        lines.append(i18n.t("The continuous interaction above uses every level of both variables and is the more "
                            "powerful test; the 2×2 throws that detail away at the cut points.",
                            "上面的连续交互项用到了两个变量的全部取值，是更有效力的检验；2×2 在切分点处丢掉了这些细节。"))
    if it.nps_synergy is not None:
        n = it.nps_synergy
        est = signed(n.estimate, 1)
        lines.append(i18n.t(f"In NPS points the same contrast is {est} ({_ci(n.ci_low, n.ci_high, result, 1)}).",
                            f"以 NPS 分数计，同一对比为 {est}（{_ci_zh(n.ci_low, n.ci_high, result, 1)}）。"))
    if it.odds_synergy:
        o = it.odds_synergy
        ratio = number(o["ratio"], 2)
        lines.append(i18n.t(f"On the odds scale the ratio of odds ratios is {ratio} "
                            f"({_ci(o['ci_low'], o['ci_high'], result, 2)}; 1 = no synergy).",
                            f"在几率尺度上，优势比之比为 {ratio}（{_ci_zh(o['ci_low'], o['ci_high'], result, 2)}；"
                            "1 表示没有协同效应）。"))
    return lines


# --- retention, the Cox interaction, the slides' claims ---------------------------------------------------------


def describe_retention(result) -> list[str]:
    ret = result.retention
    if ret is None:
        why = result.skipped.get("retention", "no lifetimes")
        return [i18n.t(f"Retention by the four cells is skipped: {esc(why)}.",
                       f"按四组的留存分析已跳过：{esc(reason_zh(why))}。")]
    names, names_zh = cell_names(result), cell_names(result, zh=True)
    h = number(ret.horizon_months, 0)
    parts = [f"{names[r.cell]} {'suppressed' if r.suppressed else percent(r.retention, 1)}"
             for r in ret.cells.itertuples()]
    parts_zh = [f"{names_zh[r.cell]} {'已抑制' if r.suppressed else percent(r.retention, 1)}"
                for r in ret.cells.itertuples()]
    lines = [i18n.t(f"Retention at {h} months by cell (Kaplan–Meier): " + "; ".join(parts) + ".",
                    f"各组 {h} 个月留存率（Kaplan–Meier）：" + "；".join(parts_zh) + "。")]
    if ret.synergy:
        s = ret.synergy["retention"]
        conf = result.params.confidence
        est, p = signed(100 * s["estimate"], 1), p_value(s["p_value"])
        lines.append(i18n.t(f"The synergy contrast on retention is {est} percentage points "
                            f"({interval(100 * s['ci_low'], 100 * s['ci_high'], conf, 1)}, {p}).",
                            f"留存率上的协同对比为 {est} 个百分点"
                            f"（{interval_zh(100 * s['ci_low'], 100 * s['ci_high'], conf, 1)}，{p}）。"))
        if "rmst" in ret.synergy:
            r = ret.synergy["rmst"]
            est = signed(r["estimate"], 2)
            lines.append(i18n.t(f"On the restricted mean lifetime over the first {h} months it is "
                                f"{est} months ({_ci(r['ci_low'], r['ci_high'], result, 2)}).",
                                f"在前 {h} 个月的限制平均生存时间（RMST）上，协同对比为 {est} 个月"
                                f"（{_ci_zh(r['ci_low'], r['ci_high'], result, 2)}）。"))
    return lines


def _model_terms(columns, zh: bool = False) -> str:
    """Design columns in words: category levels ``a[b]`` as their variable ``a`` once, a product ``a:b`` as
    'a × b' — never a bracketed code name in a sentence (``zh``: course columns in Chinese, joined with 、)."""
    words = []
    for col in columns:
        parts = [re.sub(r"\[.*\]$", "", part) for part in str(col).split(":")]
        if zh:
            with i18n.language("zh"):
                parts = [column_zh(part) for part in parts]
        word = " × ".join(esc(part) for part in parts)
        if word not in words:
            words.append(word)
    return ("、" if zh else ", ").join(words)


def describe_cox(result) -> list[str]:
    ret = result.retention
    if ret is None or ret.cox_interaction is None:
        return []
    c = ret.cox_interaction
    x, w = _short(result, "x"), _short(result, "moderator")
    xz, wz = _short(result, "x", True), _short(result, "moderator", True)
    lowers = c["hazard_ratio"] < 1
    effect = "lowers" if lowers else "raises"
    sig = c["p_value"] < 1 - result.params.confidence
    terms, hr, p = _model_terms(ret.covariates), number(c["hazard_ratio"], 3), p_value(c["p_value"])
    en = (f"In the churn analysis' Cox model (adjusted for {terms}), each extra unit of "
          f"{x} × {w} multiplies the churn hazard by {hr} "
          f"({_ci(c['ci_low'], c['ci_high'], result, 3)}, {p}): the combination {effect} churn "
          + ("beyond the two effects alone." if sig else "but not significantly beyond the two effects alone."))
    zh = (f"在流失分析的 Cox 模型中（控制{_model_terms(ret.covariates, zh=True)}），{xz} × {wz}每增加一个单位，流失风险乘以 {hr}"
          f"（{_ci_zh(c['ci_low'], c['ci_high'], result, 3)}，{p}）：两者的组合"
          + (f"在两个单独效应之外进一步{'降低' if lowers else '提高'}了流失风险。" if sig else
             f"{'降低' if lowers else '提高'}了流失风险，但超出两个单独效应的部分不显著。"))
    return [i18n.t(en, zh)]


CLAIMS_ZH = {"92% customer satisfaction": "客户满意度 92%", "3.5× stickiness (retention)": "客户黏性（留存）提高 3.5 倍",
             "25% lower cost": "成本降低 25%", "40% faster innovation": "创新速度提高 40%"}
WHY_ZH = {
    "the survey has no satisfaction column": "问卷中没有满意度（satisfaction）列",
    "the dual-proactive group or the rest has fewer than min_cell customers":
        "双主动组或其他客户不足 min_cell 位",
    "no customer lifetimes (customers file with tenure and churn)": "没有客户生命周期数据（需要含在网时长和流失的客户文件）",
    "the data have no cost-to-serve measure (acquisition cost is paid before the relationship starts, not a result "
    "of it)": "数据中没有服务成本的度量（获客成本发生在关系开始之前，不是关系的结果）",
    "the data have no measure of innovation speed": "数据中没有创新速度的度量",
}
MEASURE_PATTERNS_ZH = (
    (re.compile(r"^share of responses with satisfaction ≥ (?P<v>\S+) \(1–7 scale\)$"),
     "满意度 ≥ {v} 的回答占比（1–7 分量表）"),
    (re.compile(r"^retention at (?P<v>\S+) months, dual-proactive ÷ the rest$"), "{v} 个月留存率：双主动客户 ÷ 其他客户"),
)


def claim_zh(text: str) -> str:
    """A cell of the slides' claims table (the slide's words, the measure, why not) in Chinese."""
    text = str(text)
    if text in CLAIMS_ZH:
        return CLAIMS_ZH[text]
    if text in WHY_ZH:
        return WHY_ZH[text]
    for pattern, zh in MEASURE_PATTERNS_ZH:
        m = pattern.match(text)
        if m:
            return zh.format(**m.groupdict())
    return text


def describe_claims(result) -> list[str]:
    if result.claims is None:
        return []
    lines = []
    conf = result.params.confidence
    for r in result.claims.itertuples():
        slide_zh = claim_zh(r.slide)
        if not r.testable:
            lines.append(i18n.t(f"“{r.slide}”: cannot be tested here — {r.why}.",
                                f"“{slide_zh}”：这里无法检验——{claim_zh(r.why)}。"))
        elif r.claim == "satisfaction":
            dual, rest, diff = percent(r.dual, 1), percent(r.rest, 1), signed(100 * r.estimate, 1)
            inside = r.dual_ci_low <= 0.92 <= r.dual_ci_high
            lines.append(i18n.t(
                f"“{r.slide}”: {dual} of the dual-proactive customers' responses are "
                f"satisfied ({interval(100 * r.dual_ci_low, 100 * r.dual_ci_high, conf, 1)}"
                f"%) vs {rest} for the rest; difference {diff} points "
                f"({interval(100 * r.ci_low, 100 * r.ci_high, conf, 1)}). "
                + ("The 92% lies inside the interval." if inside else "The 92% lies outside the interval."),
                f"“{slide_zh}”：双主动客户的回答中 {dual} 表示满意"
                f"（{interval_zh(100 * r.dual_ci_low, 100 * r.dual_ci_high, conf, 1)}%），其他客户为 {rest}；"
                f"差异 {diff} 个百分点（{interval_zh(100 * r.ci_low, 100 * r.ci_high, conf, 1)}）。"
                + ("92% 落在区间之内。" if inside else "92% 落在区间之外。")))
        else:
            best = 1 / r.rest if r.rest > 0 else math.inf
            h, ratio = number(result.params.horizon_months, 0), number(r.estimate, 2)
            dual, rest = percent(r.dual, 1), percent(r.rest, 1)
            text = (f"“{r.slide}”: retention at {h} months of the "
                    f"dual-proactive customers is {ratio}× that of the rest "
                    f"({_ci(r.ci_low, r.ci_high, result, 2)}; {dual} vs {rest}).")
            text_zh = (f"“{slide_zh}”：双主动客户的 {h} 个月留存率是其他客户的 {ratio} 倍"
                       f"（{_ci_zh(r.ci_low, r.ci_high, result, 2)}；{dual} 对 {rest}）。")
            if best < 3.5:
                rest0, top = percent(r.rest, 0), number(best, 2)
                text += (f" With the rest retaining {rest0}, a retention ratio above {top} "
                         "is impossible, so 3.5× cannot mean retention here")
                text_zh += f"其他客户的留存率为 {rest0}，留存率之比不可能超过 {top}，所以这里的 3.5 倍不可能指留存率"
                if _ok(r.churn_ratio):
                    churn = number(r.churn_ratio, 2)
                    text += (f"; read as churn, the rest churn {churn}× as often "
                             f"({_ci(r.churn_ratio_ci_low, r.churn_ratio_ci_high, result, 2)})")
                    text_zh += (f"；若按流失理解，其他客户的流失频率是双主动客户的 {churn} 倍"
                                f"（{_ci_zh(r.churn_ratio_ci_low, r.churn_ratio_ci_high, result, 2)}）")
                text += "."
                text_zh += "。"
            lines.append(i18n.t(text, text_zh))
    return lines


# --- recovery ----------------------------------------------------------------------------------------------------


def describe_recovery(result) -> list[str]:
    rec = result.recovery
    if rec is None:
        why = result.skipped.get("recovery", "")
        return [i18n.t(f"The recovery section is skipped: {esc(why)}.",
                       f"服务补救部分已跳过：{esc(reason_zh(why))}。")]
    p = result.params
    hours, sat = number(p.well_max_hours, 0), number(p.well_min_satisfaction, 0)
    definition = f"recovered within {hours} hours with a recovery satisfaction of at least {sat}"
    course = result.is_course and (p.well_max_hours, p.well_min_satisfaction) == (24.0, 6.0)
    prefix = "The course defines an incident as recovered well when it was " if course else "An incident counts as "\
        "recovered well when it was "
    prefix_zh = "课程对“补救良好”的定义：" if course else "一次服务失误算作“补救良好”的条件："
    counts = rec.status_counts
    parts = [f"{STATUS_WORDS[r.status]} {'suppressed' if r.suppressed else count(r.n)}" for r in counts.itertuples()]
    parts_zh = [f"{STATUS_WORDS_ZH[r.status]} {'已抑制' if r.suppressed else count(r.n)}"
                for r in counts.itertuples()]
    n_inc, recovered, well = count(rec.incidents_n), percent(rec.recovered_share, 0), percent(rec.well_per_incident, 0)
    lines = [i18n.t(prefix + definition + ".", prefix_zh + f"在 {hours} 小时内完成补救，且补救满意度不低于 {sat}。"),
             i18n.t("Customers by failure history: " + "; ".join(parts) + ".",
                    "按失误经历划分的客户：" + "；".join(parts_zh) + "。"),
             i18n.t(f"Of {n_inc} incidents {recovered} were recovered and {well} recovered well.",
                    f"{n_inc} 次服务失误中，{recovered} 得到补救，{well} 补救良好。")]
    shown = rec.by_type.loc[~rec.by_type["suppressed"].astype(bool)]
    if len(shown) > 1:
        lo = shown.loc[shown["recovery_rate"].idxmin()]
        hi = shown.loc[shown["recovery_rate"].idxmax()]
        lo_rate, hi_rate = percent(lo["recovery_rate"], 0), percent(hi["recovery_rate"], 0)
        lo_type, hi_type = esc(lo["failure_type"]), esc(hi["failure_type"])
        lines.append(i18n.t(f"Recovery rates range from {lo_rate} ({lo_type}) to {hi_rate} ({hi_type}).",
                            f"补救率从 {lo_rate}（{lo_type}）到 {hi_rate}（{hi_type}）不等。"))
    return lines


def describe_speed(result) -> list[str]:
    rec = result.recovery
    if rec is None or rec.speed_slope is None:
        return []
    s = rec.speed_slope
    faster = s.ci_high < 0
    est, p = signed(s.estimate, 2), p_value(s.p_value)
    return [i18n.t(f"Each doubling of the recovery time changes recovery satisfaction by {est} points "
                   f"on the 1–7 scale ({_ci(s.ci_low, s.ci_high, result, 2)}, {p}): "
                   + ("faster recovery, happier customers." if faster else "no clear speed effect."),
                   f"补救时间每增加一倍，补救满意度（1–7 分）变化 {est} 分（{_ci_zh(s.ci_low, s.ci_high, result, 2)}，"
                   f"{p}）：" + ("补救越快，客户越满意。" if faster else "看不出明显的速度效应。"))]


PARADOX_WORDS = {
    "higher": "the recovery paradox shows: customers recovered well are more loyal than those who never had a "
              "failure",
    "equivalent": "no paradox: customers recovered well are as loyal as those who never failed (the interval lies "
                  "within the margin) — recovery restores loyalty but does not raise it",
    "inconclusive": "cannot tell: the interval includes both no difference and differences larger than the margin",
    "lower": "no paradox: customers recovered well remain less loyal than those who never failed",
}
PARADOX_WORDS_ZH = {
    "higher": "出现了服务补救悖论：补救良好的客户比从未遇到失误的客户更忠诚",
    "equivalent": "没有悖论：补救良好的客户与从未失误的客户同样忠诚（区间落在等效界限之内）——补救恢复了忠诚，但没有提高忠诚",
    "inconclusive": "无法判断：区间既包含“没有差异”，也包含超过等效界限的差异",
    "lower": "没有悖论：补救良好的客户仍不如从未失误的客户忠诚",
}
AFTER_RULE_ZH = {"after the first incident": "仅计首次失误之后的回答", "all responses": "计入全部回答"}


def _diff(g, digits, result) -> str:
    return (f"{signed(g.estimate, digits)} ({_ci(g.ci_low, g.ci_high, result, digits)}; one-sided "
            f"{p_value(g.p_greater)}; equivalence margin ±{number(g.margin, digits)}, TOST {p_value(g.p_tost)})")


def _diff_zh(g, digits, result, unit: str) -> str:
    return (f"{signed(g.estimate, digits)} {unit}（{_ci_zh(g.ci_low, g.ci_high, result, digits)}；单侧检验 "
            f"{p_value(g.p_greater)}；等效界限 ±{number(g.margin, digits)}，TOST {p_value(g.p_tost)}）")


def describe_paradox(result) -> list[str]:
    rec = result.recovery
    if rec is None:
        return []
    lines = []
    for outcome, tests in rec.paradox.items():
        test = tests.get("recovered_well")
        unit = "NPS points" if outcome == "nps" else "points (1–7)"
        unit_zh = "个 NPS 分" if outcome == "nps" else "分（1–7 分量表）"
        label = {"nps": "NPS", "satisfaction": "satisfaction", "repurchase_intent": "repurchase intent"}[outcome]
        label_zh = {"nps": "NPS", "satisfaction": "满意度", "repurchase_intent": "再购意愿"}[outcome]
        if test is None:
            lines.append(i18n.t(f"{label}: too few customers in a group to compare (fewer than min_cell).",
                                f"{label_zh}：有一组客户太少，无法比较（不足 min_cell 位）。"))
            continue
        if isinstance(test, str):
            lines.append(i18n.t(f"{label}: not compared ({esc(test)}).",
                                f"{label_zh}：未比较（{esc(reason_zh(test))}）。"))
            continue
        g = test.result
        adjusted = [esc(c) for c in result.params.adjust_for if c]
        how = "adjusted for " + ", ".join(adjusted) if g.adjusted else "unadjusted"
        adjusted_zh = [esc(column_zh(c)) for c in result.params.adjust_for if c]
        how_zh = "调整了" + "、".join(adjusted_zh) if g.adjusted else "未调整"
        digits = 1 if outcome == "nps" else 2
        after_zh = AFTER_RULE_ZH.get(rec.after_rule, rec.after_rule)
        lines.append(i18n.t(f"{label}, recovered well − never failed ({rec.after_rule}, {how}): "
                            f"{_diff(g, digits, result)} {unit}: {PARADOX_WORDS[g.verdict]}.",
                            f"{label_zh}，补救良好 − 从未失误（{after_zh}，{how_zh}）："
                            f"{_diff_zh(g, digits, result, unit_zh)}：{PARADOX_WORDS_ZH[g.verdict]}。"))
    if lines:
        lines.append(i18n.t("The meta-analysis of de Matos, Henrique & Rossi (2007) finds the paradox on satisfaction "
                            "but not on repurchase intention or word of mouth: compare the rows above.",
                            "de Matos、Henrique 和 Rossi（2007）的元分析发现，悖论出现在满意度上，而不出现在再购意愿"
                            "或口碑上：请对照上面各行。"))
    return lines


def describe_double_deviation(result) -> list[str]:
    rec = result.recovery
    if rec is None:
        return []
    g = rec.groups.set_index("status").loc["double_deviation"]
    if g["suppressed"] or not _ok(g["nps"]):
        return [i18n.t("A second failure after a good recovery: too few customers to show (fewer than min_cell).",
                       "补救良好后再次失误：客户太少，不予显示（不足 min_cell 位）。")]
    nps = signed(g["nps"], 1)
    lines = [i18n.t(f"Customers whose first failure was recovered well and who then failed again have an NPS of "
                    f"{nps} after the second failure ({_ci(g['ci_low'], g['ci_high'], result, 1)}).",
                    f"首次失误补救良好、之后再次遇到失误的客户，在第二次失误之后的 NPS 为 {nps}"
                    f"（{_ci_zh(g['ci_low'], g['ci_high'], result, 1)}）。")]
    test = (rec.paradox.get("nps") or {}).get("double_deviation")
    if test is not None and not isinstance(test, str):
        lines.append(i18n.t(f"Against never failed: {_diff(test.result, 1, result)} NPS points. Maxham & Netemeyer "
                            "(2002) find that a paradox after the first recovery does not survive a second failure.",
                            f"与从未失误的客户相比：{_diff_zh(test.result, 1, result, '个 NPS 分')}。Maxham 和 Netemeyer"
                            "（2002）发现，首次补救后出现的悖论经不起第二次失误。"))
    return lines


def describe_hazard(result) -> list[str]:
    rec = result.recovery
    if rec is None or rec.hazard is None:
        if "churn by failure status" not in result.skipped:
            return []
        why = result.skipped["churn by failure status"]
        return [i18n.t(f"Churn by failure status is skipped: {esc(why)}.",
                       f"按失误经历的流失分析已跳过：{esc(reason_zh(why))}。")]
    hz = rec.hazard
    parts, parts_zh = [], []
    for r in hz.table.itertuples():
        if r.status == "never_failed":
            continue
        parts.append(f"{STATUS_WORDS[r.status]} " + ("suppressed" if r.suppressed else
                                                     f"{number(r.hazard_ratio, 2)} ({_ci(r.ci_low, r.ci_high, result)})"))
        parts_zh.append(f"{STATUS_WORDS_ZH[r.status]} " + (
            "已抑制" if r.suppressed else f"{number(r.hazard_ratio, 2)}（{_ci_zh(r.ci_low, r.ci_high, result)}）"))
    lines = [i18n.t("Churn hazard vs never failed, with the status changing at each incident date: "
                    + "; ".join(parts) + ".",
                    "相对于从未失误的客户的流失风险比（失误经历在每次失误发生当天更新）：" + "；".join(parts_zh) + "。")]
    if hz.fixed is not None:
        fixed = hz.fixed.loc[(hz.fixed["status"] != "never_failed") & ~hz.fixed["suppressed"].astype(bool)]
        if len(fixed):
            shown = "; ".join(f"{STATUS_WORDS[r.status]} {number(r.hazard_ratio, 2)}" for r in fixed.itertuples())
            shown_zh = "；".join(f"{STATUS_WORDS_ZH[r.status]} {number(r.hazard_ratio, 2)}"
                                for r in fixed.itertuples())
            lines.append(i18n.t(f"With the status fixed at the snapshot the same ratios would read {shown} — biased "
                                "downwards, because a customer who lives longer has more time to fail: the fixed "
                                "status credits failures to time before they happened.",
                                f"若把失误经历固定为快照时的状态，同样的风险比会是：{shown_zh}——向下偏倚，因为在网时间越长的"
                                "客户越有时间遇到失误：固定状态把失误算到了它发生之前的时间上。"))
    return lines


def describe_truth(result) -> list[str]:
    t = result.truth
    if t is None:
        return []
    compared = t.loc[t["covered"].notna()]
    lines = []
    if len(compared):
        hits, n = int(compared["covered"].astype(bool).sum()), len(compared)
        lines.append(i18n.t(f"{hits} of {n} intervals contain the generator's true value (about 19 in 20 should).",
                            f"{n} 个区间中有 {hits} 个包含数据生成器的真值（应约为 20 个中有 19 个）。"))
    missing = t.loc[t["covered"].isna()]
    if len(missing):
        lines.append(i18n.t(f"{len(missing)} quantities have no truth on their scale yet (see the table's notes); the "
                            "latent loyalty interaction is never compared with a survey-scale estimate.",
                            f"{len(missing)} 个量在其尺度上还没有真值（见表中的说明）；潜在忠诚度上的交互作用从不与问卷"
                            "尺度上的估计值比较。"))
    return lines


# --- fallbacks the notebook shows when a section has nothing to say --------------------------------------------


def describe_claims_or_note(result) -> list[str]:
    """The slides' claims, or why they are not tested (not the course data)."""
    return describe_claims(result) or [i18n.t("Not the course data: the slides' claims are not tested.",
                                              "不是课程数据：不检验幻灯片中的说法。")]


def describe_paradox_or_note(result) -> list[str]:
    """The paradox tests and double deviation, or that there were no incidents."""
    return describe_paradox(result) + describe_double_deviation(result) or [
        i18n.t("No incidents: no paradox test.", "没有服务失误记录：不做悖论检验。")]


def describe_hazard_or_note(result) -> list[str]:
    """Churn by failure status, or that it was skipped for lack of lifetimes."""
    return describe_hazard(result) or [i18n.t("No customer lifetimes: churn by failure status skipped.",
                                              "没有客户生命周期数据：跳过按失误经历的流失分析。")]


def describe_truth_or_note(result) -> list[str]:
    """Estimated vs true, or that there is no truth (not the course data)."""
    return describe_truth(result) or [i18n.t("Not the course data: no truth to compare.",
                                             "不是课程数据：没有可比较的真值。")]


# --- key findings --------------------------------------------------------------------------------------------


def key_findings(result) -> list[str]:
    lines = describe_model(result)[:1] + [synergy_sentence(result)]
    jn = describe_jn(result)
    lines.append(jn[1] if len(jn) > 1 else jn[0])
    if result.retention is not None:
        lines += describe_retention(result)[:1] + describe_cox(result)
    rec = result.recovery
    if rec is not None:
        paradox = describe_paradox(result)
        lines += paradox[:1] + describe_hazard(result)[:1]
    for section, why in result.skipped.items():
        lines.append(i18n.t(f"Skipped {esc(section)}: {esc(why)}.",
                            f"已跳过{SECTION_WORDS_ZH.get(section, esc(section))}：{esc(reason_zh(why))}。"))
    return lines
