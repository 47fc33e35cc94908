"""The service-quality report in words: "What this shows" for each section and the key findings, computed from the
result, in the notebook's language (:func:`loyaltylab.i18n.t`: each sentence written in English and Chinese side by
side, from the same numbers). Every data-derived value (dimension, item, segment and column names, file names) goes
through :func:`loyaltylab.narrative.esc`, so it renders as text and never as Markdown or HTML; numbers through the
narrative formats.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from loyaltylab import privacy
from loyaltylab.i18n import chinese, column_zh, english, t
from loyaltylab.narrative import count, esc, interval, join_words, number, p_value, percent, signed

from . import structure as st
from .instrument import reader_label
from .scales import LOW_RELIABILITY, SETS_ZH
from .truth import STRATEGIES

if TYPE_CHECKING:
    from .analysis import ServqualReport

FIT_MARKS = {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08}
"""Hu & Bentler's (1999) marks of good fit: CFI and TLI ≥ 0.95, RMSEA ≤ 0.06, SRMR ≤ 0.08."""
KMO_WORDS = ((0.9, "marvellous"), (0.8, "meritorious"), (0.7, "middling"), (0.6, "mediocre"), (0.5, "miserable"),
             (0.0, "unacceptable"))
"""Kaiser's (1974) words for the KMO measure of sampling adequacy."""
KMO_WORDS_ZH = {"marvellous": "极佳", "meritorious": "良好", "middling": "中等", "mediocre": "一般",
                "miserable": "较差", "unacceptable": "不可接受"}


def dim_name(dimension) -> str:
    """A dimension as the report writes it (bilingual for the five SERVQUAL dimensions in English, Chinese alone in
    a Chinese report), escaped."""
    return esc(reader_label(str(dimension), bilingual=True))


def _ci(low, high, confidence: float, digits: int = 2) -> str:
    return f"{confidence:.0%} CI {signed(low, digits)} to {signed(high, digits)}"


def _ci_zh(low, high, confidence: float, digits: int = 2) -> str:
    return f"{confidence:.0%} 置信区间 {signed(low, digits)} 至 {signed(high, digits)}"


def _interval_zh(low, high, confidence: float, digits: int = 1) -> str:
    return f"{confidence:.0%} 置信区间 {number(low, digits)} 至 {number(high, digits)}".replace("-", "−")


def _join_zh(items) -> str:
    """'甲'、'甲和乙'、'甲、乙和丙' (' 和 ' before a Latin name: 'CFI、TLI 和 SRMR')."""
    items = list(items)
    if not items:
        return ""
    last = " 和 " if items[-1][:1].isascii() else "和"
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + last + items[-1]


def _servqual(result: ServqualReport) -> bool:
    return result.mode == "servqual"


def _what(result: ServqualReport) -> tuple[str, str]:
    """The score a sentence is about: the gap (SERVQUAL) or the perception (SERVPERF), in English and Chinese."""
    return ("gap", "差距") if _servqual(result) else ("perception", "感知")


def describe_data(result: ServqualReport) -> list[str]:
    """What was read: responses, respondents, the instrument found, and what the file lacked (each note escaped:
    it names the user's columns and files)."""
    inst = result.instrument
    servqual = result.mode == "servqual"
    mode = "expectations and perceptions (SERVQUAL gaps)" if servqual else "perceptions only (SERVPERF)"
    mode_zh = "含期望与感知（SERVQUAL 差距）" if servqual else "仅有感知（SERVPERF）"
    who = f" from {count(result.people)} customers" if result.people is not None else ""
    who_zh = f"（来自 {count(result.people)} 位客户）" if result.people is not None else ""
    file = esc(result.data.inputs.get("survey"))
    sizes = [f"{dim_name(d)} {len(items)}" for d, items in inst.dimensions.items()]
    en = (f"{count(result.n)} responses{who} in {file}: {len(inst.items)} items in {len(inst.dimensions)} "
          f"dimensions (" + ", ".join(sizes) + f"), {mode}"
          + (", with adequate and desired service (zone of tolerance)" if inst.has_zone else "") + ".")
    zh = (f"{file} 共有 {count(result.n)} 份回答{who_zh}：{len(inst.dimensions)} 个维度、{len(inst.items)} 个题项（"
          + "、".join(sizes) + f"），{mode_zh}" + ("，并含适当服务与理想服务（容忍区间）" if inst.has_zone else "") + "。")
    return [t(en, zh)] + describe_notes(result)


def describe_notes(result: ServqualReport) -> list[str]:
    """What the file lacked and was left out (each note escaped: it names the user's columns)."""
    return [t(f"Note: {esc(english(n))}.", f"说明：{esc(chinese(n))}。") for n in result.notes]


def describe_gaps(result: ServqualReport) -> list[str]:
    """The overall score and the dimensions ranked, the largest gap in words."""
    o, conf = result.overall.iloc[0], result.params.confidence
    ranked = result.ranking()
    if not _servqual(result):
        low, high = ranked.iloc[0], ranked.iloc[-1]
        est, n = number(o["estimate"], 2), count(o["n"])
        lo, hi = number(low["perception"], 2), number(high["perception"], 2)
        return [t(f"Perceptions only (SERVPERF): the mean perception over the {len(ranked)} dimensions is "
                  f"**{est}** ({interval(o['ci_low'], o['ci_high'], conf, 2)}; n = {n}).",
                  f"仅有感知（SERVPERF）：{len(ranked)} 个维度的平均感知得分为 **{est}**"
                  f"（{_interval_zh(o['ci_low'], o['ci_high'], conf, 2)}；n = {n}）。"),
                t(f"The lowest-rated dimension is {dim_name(low['dimension'])} ({lo}); the "
                  f"highest is {dim_name(high['dimension'])} ({hi}).",
                  f"评分最低的维度是{dim_name(low['dimension'])}（{lo}），最高的是{dim_name(high['dimension'])}（{hi}）。")]
    worst = ranked.iloc[0]
    short = o["estimate"] < 0
    est, n = signed(o["estimate"], 2), count(o["n"])
    lines = [t(f"Overall, perceptions {'fall short of' if short else 'exceed'} expectations: the unweighted SERVQUAL "
               f"score (mean gap P − E) is **{est}** ({_ci(o['ci_low'], o['ci_high'], conf)}; n = {n} responses).",
               f"总体而言，顾客感知{'低于' if short else '高于'}期望：未加权 SERVQUAL 得分（平均差距 P − E）为 **{est}**"
               f"（{_ci_zh(o['ci_low'], o['ci_high'], conf)}；n = {n} 份回答）。")]
    name, gap = dim_name(worst["dimension"]), signed(worst["estimate"], 2)
    if worst["estimate"] < 0:
        e, p = number(worst["expectation"], 2), number(worst["perception"], 2)
        lines.append(t(f"The largest gap is in {name}: customers expect {e} and perceive {p}, a gap of {gap} "
                       f"({_ci(worst['ci_low'], worst['ci_high'], conf)}).",
                       f"差距最大的是{name}：顾客期望 {e}，实际感知 {p}，差距为 {gap}"
                       f"（{_ci_zh(worst['ci_low'], worst['ci_high'], conf)}）。"))
    else:
        lines.append(t(f"No dimension falls short: the smallest gap is {name} ({gap}).",
                       f"没有任何维度低于期望：差距最小的是{name}（{gap}）。"))
    order = [f"{dim_name(r.dimension)} {signed(r.estimate, 2)}" for r in ranked.itertuples()]
    lines.append(t("From the largest shortfall down: " + "; ".join(order) + ".",
                   "按差距从大到小：" + "；".join(order) + "。"))
    if result.cluster_col:
        col, people = esc(result.cluster_col), count(result.people)
        lines.append(t(f"Intervals allow for customers answering more than once (clustered by {col}; {people} "
                       "customers).",
                       f"区间估计考虑了同一客户多次作答的情况（按{esc(column_zh(result.cluster_col))}聚类；{people} 位客户）。"))
    return lines


def describe_items(result: ServqualReport) -> list[str]:
    """The items with the largest gaps, how many are significant after Holm, and the signed-rank check."""
    if not _servqual(result):
        low = result.items.sort_values("perception").head(3)
        parts = [(esc(r.item), dim_name(r.dimension), number(r.perception, 2)) for r in low.itertuples()]
        return [t("The lowest-rated items: " + "; ".join(f"item {i} ({d}) {p}" for i, d, p in parts) + ".",
                  "评分最低的题项：" + "；".join(f"题项 {i}（{d}）{p}" for i, d, p in parts) + "。")]
    items = result.items
    top = items.sort_values("gap").head(3)
    sig = items[items["significant"].astype(bool)]
    alpha = 1 - result.params.confidence
    level, k = number(alpha, 2), len(items)
    parts = [(esc(r.item), dim_name(r.dimension), signed(r.gap, 2), signed(r.cohens_dz, 2)) for r in top.itertuples()]
    lines = [t("The largest item gaps: " + "; ".join(f"item {i} ({d}) {g} (dz = {z})" for i, d, g, z in parts) + ".",
               "差距最大的题项：" + "；".join(f"题项 {i}（{d}）{g}（dz = {z}）" for i, d, g, z in parts) + "。")]
    lines.append(t(f"{len(sig)} of {k} item gaps differ from zero after Holm's correction across the {k} items "
                   f"(adjusted p < {level}).",
                   f"对 {k} 个题项做 Holm 校正后，有 {len(sig)} 个题项的差距显著不为零（校正后 p < {level}）。"))
    agree = int(((items["wilcoxon_p"] < alpha) == (items["p_value"] < alpha)).sum())
    lines.append(t(f"The Wilcoxon signed-rank test (zero gaps dropped, Wilcoxon's rule) agrees with the paired t-test "
                   f"at the {level} level on {agree} of {k} items.",
                   f"Wilcoxon 符号秩检验（按 Wilcoxon 的规则剔除零差距）与配对 t 检验在 {level} 水平上的结论，"
                   f"在 {k} 个题项中有 {agree} 个一致。"))
    return lines


def describe_weighted(result: ServqualReport) -> list[str]:
    """The importance-weighted score beside the unweighted one."""
    o = result.overall.iloc[0]
    if not o["n_weighted"]:
        return [t("No stated importance points: no weighted score.", "没有顾客自述的重要性分数：无法计算加权得分。")]
    servqual = _servqual(result)
    diff = o["weighted"] - o["estimate"]
    conf = result.params.confidence
    w, d, e, n = signed(o["weighted"], 2), signed(diff, 2), signed(o["estimate"], 2), count(o["n_weighted"])
    low, high = o["weighted_ci_low"], o["weighted_ci_high"]
    return [t(f"Weighted by each respondent's stated importance points (normalised to sum 1 — points out of 100 used "
              f"as they are would make the score 100 times too large), the "
              f"{'SERVQUAL gap' if servqual else 'perception score'} is {w} ({_ci(low, high, conf)}; n = {n} "
              f"responses with points), {d} against the unweighted {e}: customers weight "
              + ("the dimensions where service falls short more heavily." if diff < 0 else
                 "the dimensions where service does better more heavily."),
              f"按每位受访者自述的重要性分数加权（先归一化为总和 1——若直接使用满分 100 的原始分数，得分会被放大 100 倍），"
              f"{'SERVQUAL 差距' if servqual else '感知得分'}为 {w}（{_ci_zh(low, high, conf)}；n = {n} 份给出分数的回答），"
              f"与未加权的 {e} 相比变化 {d}：顾客给"
              + ("服务不足的维度更高的权重。" if diff < 0 else "服务较好的维度更高的权重。"))]


def describe_reliability(result: ServqualReport) -> list[str]:
    """α ranges per answer set, the weakest dimension, items whose deletion would raise α, gap-score reliability."""
    rel = result.reliability
    a = rel.alphas
    if not len(a):
        return [t("No dimension has two or more items: no internal-consistency reliability.",
                  "没有任何维度包含两个或以上题项：无法计算内部一致性信度。")]
    lines = []
    mark = number(LOW_RELIABILITY, 2)
    for which in ("perception", "expectation", "gap"):
        part = a[a["set"] == which]
        if len(part):
            low = part.loc[part["alpha"].idxmin()]
            lo, hi, name = number(part["alpha"].min(), 2), number(part["alpha"].max(), 2), dim_name(low["dimension"])
            below = len(part[part["alpha"] < LOW_RELIABILITY]) if (part["alpha"] < LOW_RELIABILITY).any() else 0
            lines.append(t(f"Cronbach's α of the {which} items ranges from {lo} ({name}) to {hi}"
                           + (f"; {below} below {mark}" if below else "") + ".",
                           f"{SETS_ZH[which]}题项的 Cronbach's α 介于 {lo}（{name}）与 {hi} 之间"
                           + (f"；其中 {below} 个低于 {mark}" if below else "") + "。"))
    items = rel.items.merge(a[["dimension", "set", "alpha"]], on=["dimension", "set"])
    raise_ = items[items["alpha_if_deleted"] > items["alpha"] + 0.01]
    if len(raise_):
        rows = list(raise_.head(5).itertuples())
        lines.append(t("Deleting these items would raise their scale's α by more than 0.01: " + join_words(
            [f"{esc(r.item)} ({dim_name(r.dimension)}, {r.set})" for r in rows]) + ".",
            "删除以下题项会使所在量表的 α 提高 0.01 以上：" + _join_zh(
                [f"{esc(r.item)}（{dim_name(r.dimension)}，{SETS_ZH.get(r.set, r.set)}）" for r in rows]) + "。"))
    else:
        lines.append(t("No item lowers its scale's reliability (α if deleted never exceeds α by more than 0.01).",
                       "没有题项拉低所在量表的信度（删除任一题项后的 α 都不比原 α 高出 0.01 以上）。"))
    g = rel.gap_scores
    if g is not None and len(g):
        low = g[g["low"].astype(bool)]
        worst = g.loc[g["reliability"].idxmin()]
        if len(low):
            flagged = [f"{dim_name(r.dimension)} ({number(r.reliability, 2)})" for r in low.itertuples()]
            flagged_zh = [f"{dim_name(r.dimension)}（{number(r.reliability, 2)}）" for r in low.itertuples()]
            lines.append(t(f"**Flag:** the P − E difference score is unreliable (below {mark}) for "
                           + join_words(flagged) + " — the classic critique of gap scores (Peter, Churchill & Brown "
                           "1993).",
                           "**警示：**" + _join_zh(flagged_zh) + f"的 P − E 差异分数信度不足（低于 {mark}）——这正是"
                           "对差距得分的经典批评（Peter, Churchill & Brown 1993）。"))
        else:
            r, name, c = number(worst["reliability"], 2), dim_name(worst["dimension"]), number(worst["corr_pe"], 2)
            lines.append(t(f"The P − E difference scores are reliable enough (lowest {r}, {name}): perceptions and "
                           f"expectations correlate only {c}, so the difference keeps most of their reliability.",
                           f"P − E 差异分数的信度足够（最低为 {r}，{name}）：感知与期望的相关仅为 {c.replace('-', '−')}，"
                           "因此差异分数保留了两者的大部分信度。"))
    return lines


def _kmo_word(value: float) -> str:
    return next(word for mark, word in KMO_WORDS if value >= mark)


def _cfa_lines(result: ServqualReport) -> list[str]:
    s = result.structure
    if s.cfa is None:
        return []
    f = s.cfa.fit
    good = [m.upper() for m in ("cfi", "tli") if getattr(f, m) >= FIT_MARKS[m]]
    good += [m.upper() for m in ("rmsea", "srmr") if getattr(f, m) <= FIT_MARKS[m]]
    chi2, df, p, k = f"χ² = {number(f.chi2, 1)}", count(f.df), p_value(f.p_value), len(s.model)
    cfi, tli, rmsea, srmr = (f"CFI = {number(f.cfi, 3)}", f"TLI = {number(f.tli, 3)}", f"RMSEA = {number(f.rmsea, 3)}",
                             f"SRMR = {number(f.srmr, 3)}")
    level, low, high = percent(s.rmsea_confidence), number(f.rmsea_ci_low, 3), number(f.rmsea_ci_high, 3)
    en = (f"CFA of the {k}-dimension model: {chi2} on {df} df ({p}), {cfi}, {tli}, {rmsea} ({level} CI {low} to "
          f"{high}), {srmr}. "
          + (f"Meets Hu & Bentler's marks on {join_words(good)}." if good else
             "Misses every one of Hu & Bentler's marks (CFI, TLI ≥ 0.95; RMSEA ≤ 0.06; SRMR ≤ 0.08)."))
    zh = (f"{k} 维度模型的 CFA：{chi2}，自由度 {df}（{p}），{cfi}，{tli}，{rmsea}（{level} 置信区间 {low} 至 {high}），"
          f"{srmr}。"
          + (f"{_join_zh(good)} 达到了 Hu & Bentler 的标准。" if good else
             "Hu & Bentler 的各项标准（CFI、TLI ≥ 0.95；RMSEA ≤ 0.06；SRMR ≤ 0.08）均未达到。"))
    lines = [t(en, zh)]
    r = s.cfa.reliability
    bad = r[~r["fornell_larcker"].astype(bool)]
    cr = (number(r["composite_reliability"].min(), 2), number(r["composite_reliability"].max(), 2))
    ave = (number(r["ave"].min(), 2), number(r["ave"].max(), 2))
    failing = [dim_name(x) for x in bad.index]
    lines.append(t(f"Composite reliability ranges from {cr[0]} to {cr[1]}, AVE from {ave[0]} to {ave[1]}; " + (
        "every dimension passes the Fornell–Larcker check (√AVE above its correlations with the others)."
        if not len(bad) else
        "the Fornell–Larcker check fails for " + join_words(failing)
        + " (too highly correlated with another dimension to count as distinct)."),
        f"组合信度介于 {cr[0]} 至 {cr[1]}，AVE 介于 {ave[0]} 至 {ave[1]}；" + (
        "所有维度都通过了 Fornell–Larcker 检验（√AVE 高于该维度与其他维度的相关）。" if not len(bad) else
        _join_zh(failing) + "未通过 Fornell–Larcker 检验（与另一维度相关过高，难以视为独立的维度）。")))
    return lines


def describe_structure(result: ServqualReport) -> list[str]:
    """Sampling adequacy, the number of factors, the CFA fit against Hu & Bentler's marks, CR / AVE."""
    s = result.structure
    lines = []
    if s.kmo is not None:
        kmo, word = number(s.kmo.overall, 2), _kmo_word(s.kmo.overall)
        chi2, df, p = number(s.bartlett.statistic, 0), count(s.bartlett.df), p_value(s.bartlett.p_value)
        lines.append(t(f"Sampling adequacy: KMO = {kmo} ({word}); Bartlett's test χ² = {chi2} on {df} df ({p}): the "
                       "items share enough variance to factor.",
                       f"抽样适切性：KMO = {kmo}（{KMO_WORDS_ZH[word]}）；Bartlett 球形检验 χ² = {chi2}，自由度 {df}"
                       f"（{p}）：题项之间有足够的共同变异，适合做因子分析。"))
    if s.parallel is not None and s.efa is not None:
        k = len(result.instrument.dimensions)
        rotation = esc(s.efa.rotation)
        lines.append(t(f"Parallel analysis retains {s.parallel.n_factors} factor(s) (of {k} dimensions in the "
                       f"questionnaire); the EFA ({rotation} rotation) uses {s.n_factors}.",
                       f"平行分析保留 {s.parallel.n_factors} 个因子（问卷设计为 {k} 个维度）；"
                       f"EFA（{rotation} 旋转）采用 {s.n_factors} 个因子。"))
    lines += _cfa_lines(result)
    return lines or [t("Too few items for a factor analysis.", "题项太少，无法做因子分析。")]


def describe_invariance(result: ServqualReport) -> list[str]:
    """Per segment column: do the items measure the same thing in each group (configural → metric)? Without
    segment columns, one sentence saying so."""
    lines = []
    what, what_zh = ("gaps", "差距") if _servqual(result) else ("scores", "得分")
    for col, (res, used, note) in result.invariance.items():
        if res is None:
            lines.append(t(f"By {esc(col)}: {esc(english(note))}.", f"按{esc(column_zh(col))}：{esc(chinese(note))}。"))
            continue
        cmp = res.comparisons.loc["metric"]
        holds = st.metric_holds(res)
        d_cfi, chi2, df, p = (signed(cmp["delta_cfi"], 3), number(cmp["chi2_diff"], 1), count(cmp["df_diff"]),
                              p_value(cmp["p_value"]))
        lines.append(t(f"By {esc(col)} ({len(used)} groups with enough responses): equal loadings change CFI by "
                       f"{d_cfi} (Δχ² = {chi2} on {df} df, {p}). "
                       + ("Metric invariance holds (ΔCFI ≥ −0.01): the dimensions mean the same in each group, so "
                          f"their {what} can be compared." if holds else
                          f"Metric invariance fails (ΔCFI < −0.01): compare these groups' {what} with care."),
                       f"按{esc(column_zh(col))}（{len(used)} 个回答数足够的组）：限定各组载荷相等后，CFI 变化 {d_cfi}"
                       f"（Δχ² = {chi2}，自由度 {df}，{p}）。"
                       + ("度量不变性成立（ΔCFI ≥ −0.01）：各维度在各组中含义相同，因此可以比较各组的"
                          f"{what_zh}。" if holds else
                          f"度量不变性不成立（ΔCFI < −0.01）：比较这些组的{what_zh}时需谨慎。")))
    return lines or [t("No segment columns: nothing to compare.", "没有细分列：无可比较。")]


def describe_servperf(result: ServqualReport) -> list[str]:
    """Which score predicts the outcomes better: gaps (SERVQUAL) or perceptions (SERVPERF)."""
    table = result.servperf
    if table is None or not len(table):
        return [t("No outcome column (overall satisfaction, NPS, repurchase intent): the SERVQUAL vs SERVPERF "
                  "comparison needs one.",
                  "没有结果变量列（总体满意度、NPS、再购买意愿）：比较 SERVQUAL 与 SERVPERF 至少需要一个。")]
    lines = []
    for r in table.itertuples():
        outcome, n, r2p = esc(r.outcome), count(r.n), number(r.r2_servperf, 3)
        outcome_zh = esc(column_zh(r.outcome))
        if not _servqual(result):
            lines.append(t(f"The five perception scores explain R² = {r2p} of {outcome} (n = {n}); without "
                           "expectations there is no gap model to compare.",
                           f"五个感知得分对{outcome_zh}的解释力为 R² = {r2p}（n = {n}）；没有期望数据，无法与差距模型比较。"))
            continue
        r2q = number(r.r2_servqual, 3)
        perf = r.r2_servperf > r.r2_servqual
        lines.append(t(f"{outcome}: perceptions explain R² = {r2p}, gaps R² = {r2q} (n = {n}) — "
                       f"{'perceptions alone (SERVPERF)' if perf else 'the gaps (SERVQUAL)'} predict better.",
                       f"{outcome_zh}：感知的 R² = {r2p}，差距的 R² = {r2q}（n = {n}）——"
                       f"{'只用感知（SERVPERF）' if perf else '差距（SERVQUAL）'}的预测力更强。"))
    if _servqual(result) and len(table) and (table["r2_servperf"] > table["r2_servqual"]).all():
        lines.append(t("As Cronin & Taylor (1992) argued, subtracting expectations adds noise rather than information "
                       "about these outcomes.",
                       "正如 Cronin 和 Taylor（1992）所指出的，对这些结果变量而言，减去期望带来的是噪声而不是信息。"))
    return lines


QUADRANTS_ZH = {"concentrate here": "重点改进", "keep up the good work": "继续保持", "low priority": "低优先级",
                "possible overkill": "可能过度投入"}
"""Martilla & James's quadrants in Chinese (also in the glossary, for the table and the chart)."""


def describe_ipa(result: ServqualReport) -> list[str]:
    """The quadrants, where the importance came from, and how stable each quadrant is."""
    ipa = result.ipa
    if ipa is None:
        return [t("No outcome column and no stated importance: no importance-performance analysis.",
                  "既没有结果变量列，也没有自述重要性：无法做重要性—表现分析。")]
    table = ipa.table
    outcome, outcome_zh = esc(ipa.outcome), esc(column_zh(ipa.outcome))
    if ipa.source == "derived" and ipa.derived_method == "lmg":
        source = ("derived importance: LMG shares of R² (each dimension's average contribution over all orders of "
                  f"entry) of {outcome}")
        source_zh = f"推导重要性：{outcome_zh}的 R² 中各维度的 LMG 份额（各维度在所有进入顺序下的平均贡献）"
    elif ipa.source == "derived":
        source = f"derived importance: the correlation of each dimension's perception score with {outcome}"
        source_zh = f"推导重要性：各维度感知得分与{outcome_zh}的相关系数"
    else:
        source, source_zh = "stated importance (mean normalised points)", "自述重要性（归一化后的平均分数）"
    n = count(ipa.n)
    lines = [t(f"Importance is {source}; the crosshair is the mean importance and mean performance of the "
               f"dimensions (n = {n}).",
               f"重要性采用{source_zh}；十字线位于各维度重要性与表现的均值处（n = {n}）。")]

    def names(quadrant):
        dims = [dim_name(x) for x in table.loc[table["quadrant"] == quadrant, "dimension"]]
        return dims, join_words(dims), _join_zh(dims)

    dims, en, zh = names("concentrate here")
    if dims:
        lines.append(t(f"**Concentrate here** (important, performing below average): {en}.",
                       f"**重点改进**（重要但表现低于平均）：{zh}。"))
    dims, en, zh = names("keep up the good work")
    if dims:
        lines.append(t(f"Keep up the good work: {en}.", f"继续保持：{zh}。"))
    dims, en, zh = names("possible overkill")
    if dims:
        lines.append(t(f"Possible overkill (performing above average on what matters less): {en}.",
                       f"可能过度投入（在较不重要的方面表现高于平均）：{zh}。"))
    if ipa.n_bootstrap and table["stability"].notna().all():
        shaky = table[table["stability"] < 0.8]
        reps = count(ipa.n_bootstrap)
        moved = [f"{dim_name(r.dimension)} ({percent(r.stability)})" for r in shaky.itertuples()]
        moved_zh = [f"{dim_name(r.dimension)}（{percent(r.stability)}）" for r in shaky.itertuples()]
        lines.append(t(f"Across {reps} bootstrap replicates (whole customers resampled) "
                       + ("every dimension stays in its quadrant at least 80% of the time." if not len(shaky) else
                          join_words(moved) + " land in another quadrant in more than 20% of replicates: near a "
                          "crosshair, their quadrant is uncertain."),
                       f"在 {reps} 次自助法（bootstrap）重抽样中（以客户为单位整体重抽），"
                       + ("每个维度至少有 80% 的次数留在原象限。" if not len(shaky) else
                          _join_zh(moved_zh) + "有超过 20% 的次数落入其他象限：它们靠近十字线，所属象限并不确定。")))
    return lines


def _segment_line(col: str, table, result: ServqualReport) -> str:
    what, what_zh = _what(result)
    name, name_zh = esc(col), esc(column_zh(col))
    overall = privacy.visible(table[table["measure"] == "overall"]).dropna(subset=["estimate"])
    hidden = int(table.loc[table["measure"] == "overall", "suppressed"].sum())
    if not len(overall):
        m = result.params.min_cell
        return t(f"By {name}: every group is suppressed (fewer than {m} respondents).",
                 f"按{name_zh}：所有组都因受访者少于 {m} 人而被抑制。")
    lo, hi = overall.loc[overall["estimate"].idxmin()], overall.loc[overall["estimate"].idxmax()]
    fmt = signed if _servqual(result) else number
    low, high = f"{fmt(lo['estimate'], 2)}", f"{fmt(hi['estimate'], 2)}"
    en = f"By {name}: the overall {what} ranges from {low} ({esc(lo['value'])}) to {high} ({esc(hi['value'])}). "
    zh = f"按{name_zh}：总体{what_zh}从 {low}（{esc(lo['value'])}）到 {high}（{esc(hi['value'])}）。"
    shown = privacy.visible(table)
    sig = shown[shown["significant"].astype(bool)]
    if len(sig):
        rows = list(sig.head(4).itertuples())
        parts = [f"{esc(r.value)} on {'the overall score' if r.measure == 'overall' else dim_name(r.measure)} "
                 f"({'above' if r.diff_vs_rest > 0 else 'below'} the rest by {number(abs(r.diff_vs_rest), 2)}, "
                 f"Holm-adjusted {p_value(r.p_adjusted)})" for r in rows]
        parts_zh = [f"{esc(r.value)} 的{'总体得分' if r.measure == 'overall' else dim_name(r.measure)}"
                    f"（比其余客户{'高' if r.diff_vs_rest > 0 else '低'} {number(abs(r.diff_vs_rest), 2)}，"
                    f"Holm 校正后 {p_value(r.p_adjusted)}）" for r in rows]
        en += f"{len(sig)} group × score difference(s) from the rest are significant, e.g. " + "; ".join(parts) + "."
        zh += f"共有 {len(sig)} 项“组 × 得分”与其余客户的差异显著，例如：" + "；".join(parts_zh) + "。"
    else:
        en += f"No group differs significantly from the rest (Holm-adjusted across {name}'s table)."
        zh += f"没有哪个组与其余客户存在显著差异（在{name_zh}的表内做 Holm 校正）。"
    if hidden:
        en += f" {hidden} group(s) suppressed (small cells)."
        zh += f"另有 {hidden} 个组因人数过少而被抑制。"
    return t(en, zh)


def describe_segments(result: ServqualReport) -> list[str]:
    if not result.segments:
        return [t("No segment columns: no comparison by segment.", "没有细分列：不做细分市场比较。")]
    return [_segment_line(col, table, result) for col, table in result.segments.items()]


def describe_trend(result: ServqualReport) -> list[str]:
    trend = result.trend
    if trend is None:
        return [t("No date column: no trend.", "没有日期列：不分析趋势。")]
    shown = privacy.visible(trend).dropna(subset=["estimate"])
    if not len(shown):
        return [t("No period has enough respondents to show.", "没有哪个时期的受访者人数足以展示。")]
    last = shown.iloc[-1]
    what, what_zh = _what(result)
    period, est, n = esc(last["period"]), signed(last["estimate"], 2), count(last["n"])
    conf = result.params.confidence
    en = (f"Latest period ({period}): overall {what} {est} ({_ci(last['ci_low'], last['ci_high'], conf)}, "
          f"n = {n}).")
    zh = f"最近一期（{period}）：总体{what_zh} {est}（{_ci_zh(last['ci_low'], last['ci_high'], conf)}，n = {n}）。"
    flagged = trend[trend["significant"].astype(bool)]
    if len(flagged):
        changes = [(esc(r.period), signed(r.change, 2)) for r in flagged.itertuples()]
        en += " Significant changes from the period before: " + ", ".join(f"{p} ({c})" for p, c in changes) + "."
        zh += "与上一期相比变化显著的时期：" + "、".join(f"{p}（{c}）" for p, c in changes) + "。"
    else:
        en += f" No period-to-period change is significant (Holm-adjusted across {len(shown)} periods)."
        zh += f"相邻时期之间的变化都不显著（对 {len(shown)} 个时期做 Holm 校正）。"
    return [t(en, zh)]


ZONE_ZH = {"below the zone": "低于容忍区间", "within the zone": "处于容忍区间内", "above the zone": "高于容忍区间"}


def describe_zone(result: ServqualReport) -> list[str]:
    z = result.zone
    if z is None:
        return []
    lines = []
    for pos in ("below the zone", "within the zone", "above the zone"):
        part = z[z["position"] == pos]
        if len(part):
            marks = [(dim_name(r.dimension), signed(r.msa, 2), signed(r.mss, 2)) for r in part.itertuples()]
            lines.append(t(f"{pos.capitalize()}: " + join_words([f"{d} (MSA {a}, MSS {s})" for d, a, s in marks]) + ".",
                           f"{ZONE_ZH[pos]}：" + _join_zh([f"{d}（MSA {a}，MSS {s}）" for d, a, s in marks]) + "。"))
    lines.append(t("MSA (measure of service adequacy) = perception − adequate service; MSS (measure of service "
                   "superiority) = perception − desired service. Below the zone (MSA < 0) customers are dissatisfied; "
                   "above it (MSS > 0) delighted.",
                   "MSA（服务适当性测量）= 感知 − 适当服务；MSS（服务优越性测量）= 感知 − 理想服务。"
                   "低于容忍区间（MSA < 0）时顾客不满意；高于容忍区间（MSS > 0）时顾客感到惊喜。"))
    return lines


def describe_truth(result: ServqualReport) -> list[str]:
    truth = result.truth
    if truth is None:
        return []
    what, what_zh = _what(result)
    lines = []
    for scope, scope_zh in (("dimension", "维度"), ("item", "题项")):
        part = truth[truth["scope"] == scope]
        if len(part):
            covered, error, expected = (int(part["covered"].sum()), number(part["error"].abs().max(), 3),
                                        percent(result.params.confidence))
            lines.append(t(f"{covered} of {len(part)} {scope} {what} intervals contain the true value (expected about "
                           f"{expected}); the largest error is {error} scale points.",
                           f"{len(part)} 个{scope_zh}{what_zh}区间中有 {covered} 个包含真值（预期约 {expected}）；"
                           f"最大误差为 {error} 个量表分。"))
    ov = truth[truth["scope"] == "overall"]
    if len(ov):
        r = ov.iloc[0]
        true, est = signed(r["true"], 3), signed(r["estimate"], 3)
        lines.insert(0, t(f"True overall {what} {true}; estimated {est} "
                          f"({'inside' if r['covered'] else 'outside'} its interval).",
                          f"总体{what_zh}的真值为 {true}；估计值为 {est}（真值落在区间{'内' if r['covered'] else '外'}）。"))
    return lines


def describe_strategies(result: ServqualReport) -> list[str]:
    s = result.strategies
    if s is None or not len(s):
        return []
    worst = list(s.head(2).itertuples())
    return [t("The course's remedy for the largest gaps: " + "; ".join(
        f"{dim_name(r.dimension)} ({signed(r.estimate, 2)}) → {r.strategy} ({r.strategy_zh}): {r.actions}"
        for r in worst) + ".",
        "针对差距最大的维度，课程给出的改进策略：" + "；".join(
            f"{dim_name(r.dimension)}（{signed(r.estimate, 2)}）→ {r.strategy_zh}："
            f"{STRATEGIES.get(r.dimension, {}).get('actions_zh', r.actions)}" for r in worst) + "。")]


def key_findings(result: ServqualReport) -> list[str]:
    """The 'Key findings' bullets, each computed from the results."""
    lines = describe_gaps(result)[:2]
    rel = result.reliability.gap_scores
    if rel is not None and rel["low"].any():
        lines.append(describe_reliability(result)[-1])
    lines += _cfa_lines(result)[:1]
    if result.servperf is not None and len(result.servperf) and _servqual(result):
        lines.append(describe_servperf(result)[0])
    if result.ipa is not None:
        lines += describe_ipa(result)[1:2]
    lines += describe_segments(result)[:2] if result.segments else []
    lines += describe_truth(result)[:1] + describe_strategies(result)
    hidden = sum(int(table.loc[table["measure"] == "overall", "suppressed"].sum())
                 for table in result.segments.values())
    if hidden:
        m = result.params.min_cell
        lines.append(t(f"{hidden} segment group(s) are suppressed to protect respondents (min_cell = {m}).",
                       f"为保护受访者，有 {hidden} 个细分组被抑制（min_cell = {m}）。"))
    if result.notes:
        k = len(result.notes)
        lines.append(t(f"{k} note(s) on what this file lacks are listed under 'The data'.",
                       f"关于该文件缺少哪些内容的 {k} 条说明列在“数据”一节。"))
    return lines
