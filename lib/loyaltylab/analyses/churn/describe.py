"""The churn report's sentences, computed from the result. Every data-derived word — a segment value, a covariate or
factor name, a column name, a stratum — goes through :func:`narrative.esc`; intervals and significance levels
follow the analysis' ``confidence``.

``describe_x(result) -> list[str]`` (Markdown sentences); :func:`key_findings` for the "Key findings" cell;
:func:`captions` for table captions (plain text: the table display escapes it). Every sentence is written in
English and Chinese next to each other (:func:`loyaltylab.i18n.t`); numbers are formatted once for both."""
from __future__ import annotations

import functools

import numpy as np

from loyaltylab import i18n, narrative, privacy
from loyaltylab.analyses.churn.baseline import SUPPORT_AT_RISK, TAIL_EVENTS
from loyaltylab.analyses.churn.cox import coefficient_table as cox_coefficient_table
from loyaltylab.analyses.churn.data import UNIT_ZH
from loyaltylab.analyses.churn.km import CI_TYPE_TEXT, CI_TYPE_TEXT_ZH
from loyaltylab.i18n import column_zh, said, term_zh
from loyaltylab.narrative import count, esc, percent


def _paired(en, zh):
    """The English and the Chinese result of one function as the ``both`` reader sees them (item by item)."""
    if isinstance(en, dict):
        return {k: _paired(en[k], zh[k]) for k in en}
    if isinstance(en, (list, tuple)):
        return type(en)(_paired(a, b) for a, b in zip(en, zh))
    if not isinstance(en, str):
        return en
    return en if zh == en else f"{zh}\n{en}"


def bilingual(fn):
    """Sentences are built from pieces, each written in both languages; in ``both`` the whole result is built once
    in each language and then paired (a sentence reads Chinese, then English — never piece by piece)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if i18n.current() != "both":
            return fn(*args, **kwargs)
        with i18n.language("en"):
            en = fn(*args, **kwargs)
        with i18n.language("zh"):
            zh = fn(*args, **kwargs)
        return _paired(en, zh)
    return wrapper


def level(share: float) -> str:
    """A level as a percentage without spurious digits: 0.95 → '95%', 0.025 → '2.5%'."""
    return f"{round(100 * float(share), 6):g}%"


def _alpha(result) -> float:
    return round(1.0 - result.confidence, 12)


def _names(values) -> str:
    return ", ".join(esc(v) for v in values)


def _names_zh(values) -> str:
    """Column names for a Chinese sentence: canonical course columns in Chinese, joined with 、."""
    return "、".join(esc(column_zh(v)) for v in values)


def _col(name) -> str:
    """A column name in the current language, escaped (a user's own column stays as it is)."""
    return esc(column_zh(name))


def _zh_join(words: str, tail: str) -> str:
    """Chinese words after a name: a space only after a Latin letter or digit ('x 偏高', '细分市场偏高')."""
    return f"{words}{tail}" if not words or i18n.has_chinese(words[-1]) else f"{words} {tail}"


def _unit(result) -> str:
    return result.data.time_unit


# --------------------------------------------------------------------------------------------------------------------
# model terms in words
# --------------------------------------------------------------------------------------------------------------------
def term_parts(name: str, design) -> list[tuple[str, str | None]]:
    """A design column or term (``a``, ``a[b]``, ``a:b``, ``a[b]:c``) as its parts: (variable, level) for a category
    level, (variable, None) for a number or a whole categorical variable. Level values may hold ':' or ']', so the
    name is matched against the design's own variables and levels, not split blindly."""
    variables = sorted({v for t in design.terms for v in t.split(":")} | set(design.categorical), key=len,
                       reverse=True)
    parts, rest = [], name
    while rest:
        for var in variables:
            if var in design.categorical and rest.startswith(var + "["):
                lv = next((lv for lv in sorted(design.categorical[var], key=len, reverse=True)
                           if rest.startswith(f"{var}[{lv}]")), None)
                if lv is not None:
                    parts.append((var, lv))
                    rest = rest[len(var) + len(lv) + 2:]
                    break
            if rest == var or rest.startswith(var + ":"):
                parts.append((var, None))
                rest = rest[len(var):]
                break
        else:                                    # not a name of this design: keep it whole
            return [*parts, (rest, None)]
        rest = rest[1:] if rest.startswith(":") else rest
    return parts


def term_words(name: str, design) -> str:
    """A model term or design column in words, escaped Markdown: 'segment[Premium]' → 'segment Premium',
    'a:b' → 'a and b together', a number → its name. Every sentence names a term through this."""
    if i18n.current() == "en":
        words = [f"{esc(var)} {esc(lv)}" if lv is not None else esc(var) for var, lv in term_parts(name, design)]
    else:
        words = [f"{_col(var)}为 {esc(lv)}" if lv is not None else _col(var) for var, lv in term_parts(name, design)]
    if len(words) == 1:
        return words[0]
    return i18n.t(" and ".join(words) + " together", "与".join(words) + "的共同作用")


def _held_at(var: str, design) -> str:
    """What a main effect is conditional on when ``var`` is also in an interaction: ' (with b at 0)'."""
    others = []
    for term in design.terms:
        parts = term.split(":")
        if len(parts) > 1 and var in parts:
            for o in parts:
                if o != var and o not in (x for x, _ in others):
                    others.append((o, design.categorical[o][0] if o in design.categorical else None))
    if not others:
        return ""
    held = ", ".join(f"{esc(o)} {esc(ref)}" if ref is not None else f"{esc(o)} = 0" for o, ref in others)
    held_zh = "、".join(f"{_col(o)}为 {esc(ref)}" if ref is not None else f"{_col(o)} = 0" for o, ref in others)
    return i18n.t(f" (for {held}: the model also has an interaction)", f"（指{_zh_join(held_zh, '时')}：模型中还有交互项）")


def driver_words(row, sd) -> str:
    """One Cox coefficient as a sentence fragment with its direction: a category level against the reference level,
    a number per unit and per standard deviation."""
    design, hr = sd.design, float(row.hazard_ratio)
    parts = term_parts(row.covariate, design)
    if len(parts) == 1 and parts[0][1] is not None:
        var, lv = parts[0]
        ref = design.categorical[var][0]
        return i18n.t(f"customers with {esc(var)} {esc(lv)} churn at {hr:.2f}× the rate of those with {esc(var)} "
                      f"{esc(ref)}",
                      f"{_col(var)}为 {esc(lv)} 的客户，流失率是{_col(var)}为 {esc(ref)} 的客户的 {hr:.2f} 倍")
    words = term_words(row.covariate, design)
    sdev = float(sd.frame[row.covariate].std()) if row.covariate in sd.frame else float("nan")
    per_sd_ok = np.isfinite(sdev) and sdev > 0
    held = _held_at(parts[0][0], design) if len(parts) == 1 else ""
    change = percent(1 - hr) if hr < 1 else percent(hr - 1)
    per_sd = float(np.exp(row.coef * sdev)) if per_sd_ok else float("nan")
    en_change = f"lowers the churn hazard by {change}" if hr < 1 else f"raises the churn hazard by {change}"
    en_sd = f"; {per_sd:.2f}× per standard deviation ({sdev:.3g})" if per_sd_ok else ""
    zh_change = f"流失风险降低 {change}" if hr < 1 else f"流失风险提高 {change}"
    zh_sd = f"；每增加一个标准差（{sdev:.3g}）为 {per_sd:.2f} 倍" if per_sd_ok else ""
    return i18n.t(f"each extra unit of {words} {en_change} (HR {hr:.2f} per unit{en_sd}){held}",
                  f"{_zh_join(words, '每增加一个单位')}，{zh_change}（每单位风险比 {hr:.2f}{zh_sd}）{held}")


def driver_strength(row, sd) -> float:
    """|log HR| over a meaningful contrast: a level against the reference, a number over one standard deviation."""
    parts = term_parts(row.covariate, sd.design)
    if len(parts) == 1 and parts[0][1] is not None:
        return abs(float(row.coef))
    sdev = float(sd.frame[row.covariate].std()) if row.covariate in sd.frame else float("nan")
    return abs(float(row.coef)) * (sdev if np.isfinite(sdev) else 1.0)


def reason_words(group: str, result) -> str:
    """A reason group of the early warning's table in words with its direction: 'segment is Basic' →
    'segment Basic' (a category is listed only when it raises the hazard), a number → 'high x' / 'low x'."""
    sd, beta = result.data_for_models, result.scoring.fitter.params_
    design = sd.design
    for var, levels in design.categorical.items():
        for lv in levels:
            if group == f"{var} is {lv}":
                return i18n.t(f"{esc(var)} {esc(lv)}", f"{_col(var)}为 {esc(lv)}")
    cols = [c for c in design.term_columns.get(group, ()) if c in beta.index]
    words = term_words(group, design)
    if len(cols) == 1:
        high = float(beta[cols[0]]) > 0
        return i18n.t(("high " if high else "low ") + words, _zh_join(words, "偏高" if high else "偏低"))
    return words


def factor_label(group: str) -> str:
    """A reason group of the risk-factor table as a table cell in the current language ('segment is Basic' →
    'segment 为 Basic'); a term name (a data word) stays as it is."""
    var, sep, lv = group.partition(" is ")
    if not sep or i18n.current() == "en":
        return group
    with i18n.language("zh"):
        zh = f"{column_zh(var)}为 {lv}"
    return zh if i18n.current() == "zh" else f"{zh} / {group}"


def model_label(label: str) -> str:
    """A scoring model's label ('Cox', 'Cox stratified by channel', 'weibull') in the current language, escaped."""
    prefix = "Cox stratified by "
    if label.startswith(prefix):
        return i18n.t(esc(label), f"按{_names_zh(label[len(prefix):].split(', '))}分层的 Cox")
    return i18n.t(esc(label), AFT_ZH[label]) if label in AFT_ZH else esc(label)


def coefficient_table(cox):
    """The Cox table a report shows (:func:`loyaltylab.analyses.churn.cox.coefficient_table`) with each covariate
    named for the reader: ``segment[Standard]`` → 细分市场 = Standard in Chinese; English keeps the design name."""
    table = cox_coefficient_table(cox)
    if i18n.current() == "en":
        return table
    return table.assign(covariate=[i18n.term(c) for c in table["covariate"]])


AFT_ZH = {"weibull": "Weibull AFT", "lognormal": "对数正态 AFT", "loglogistic": "对数逻辑斯蒂 AFT"}


def _unit_zh(unit: str) -> str:
    return UNIT_ZH.get(unit, unit)


def _duration(x, unit: str) -> str:
    """narrative.duration in the current language (a median never reached: 'not reached' / '未达到')."""
    if not np.isfinite(float(x)):
        return i18n.t(narrative.duration(x, unit), "未达到")
    return i18n.t(narrative.duration(x, unit), f"{float(x):,.0f} {_unit_zh(unit)}")


# --------------------------------------------------------------------------------------------------------------------
# one sentence (or two) per section
# --------------------------------------------------------------------------------------------------------------------
def _data(result) -> str:
    sd = result.data
    n, events, rest = count(sd.n), count(sd.events), count(sd.n - sd.events)
    dropped, n_input, share = count(sd.dropped_rows), count(sd.n_input), percent(sd.events / sd.n)
    return i18n.t(
        f"{n} customers analysed, {events} churned ({share}) — the other {rest} are censored (still customers), which "
        f"is why this is survival analysis; {dropped} of {n_input} rows were left out under the stated policy.",
        f"共分析 {n} 位客户，其中 {events} 位已流失（{share}）；其余 {rest} 位是删失观测（仍是客户），这正是要用生存分析"
        f"的原因；按既定的数据规则，{n_input} 行中有 {dropped} 行未纳入分析。")


def _km(result) -> str:
    unit, km = _unit(result), result.km
    uz = _unit_zh(unit)
    s0 = km.survival_at.iloc[0] if len(km.survival_at) else None
    median = _duration(km.median, unit)
    if s0 is not None:
        text = i18n.t(f"Median customer lifetime: {median}; {percent(s0['survival'])} are still customers after "
                      f"{s0['time']:g} {unit}.",
                      f"客户生命周期中位数：{median}；{s0['time']:g} {uz}后仍有 {percent(s0['survival'])} 的客户在网。")
    else:
        text = i18n.t(f"Median customer lifetime: {median}.", f"客户生命周期中位数：{median}。")
    groups = result.km_groups
    if groups is not None:
        vis = groups.table[~groups.table["suppressed"].astype(bool)]
        col = next((c for c in vis.columns if c.startswith("S(")), None)
        if col is not None and len(vis) >= 2:
            best = vis.loc[vis[col].idxmax()]
            worst = vis.loc[vis[col].idxmin()]
            column = esc(groups.column)
            column_zh = _col(groups.column)

            def who(value) -> str:      # '1 customers' reads as a count: name the column for a number
                text = str(value)
                numeric = text.lstrip("+-").replace(".", "", 1).isdigit()
                return i18n.t(f"customers with {column} = {esc(text)}" if numeric else f"{esc(text)} customers",
                              f"{column_zh} = {esc(text)} 的客户" if numeric else f"{esc(text)} 客户")
            at = col[2:-1]
            text += i18n.t(f" By {column}: {percent(best[col])} of {who(best['value'])} remain at {at} {unit}, "
                           f"against {percent(worst[col])} of {who(worst['value'])}.",
                           f"按{column_zh}：{who(best['value'])}在 {at} {uz}时仍有 {percent(best[col])} 在网，"
                           f"而 {who(worst['value'])}只有 {percent(worst[col])}。")
    return text


def _logrank(result) -> str:
    lr = result.logrank
    if lr is None or lr.p_value is None:
        return i18n.t("Fewer than two groups large enough to compare: no log-rank test.",
                      "足够大、可以比较的组不到两个：不做 log-rank 检验。")
    differ = lr.p_value < _alpha(result)
    n_sig = int(lr.pairwise["significant"].sum())
    n_pairs = len(lr.pairwise)
    one = lr.left_out == 1
    left = (f"; {count(lr.left_out)} {'group' if one else 'groups'} with fewer than "
            f"{result.min_cell} customers {'is' if one else 'are'} left out" if lr.left_out else "")
    left_zh = f"；{count(lr.left_out)} 个客户数少于 {result.min_cell} 的组未纳入检验" if lr.left_out else ""
    shown = set(result.km_groups.curves) if result.km_groups is not None else set(lr.groups)
    hidden = [g for g in lr.groups if g not in shown]
    also = (f", including {_names(hidden)}, which the table hides only to protect a smaller group's count"
            if hidden else "")
    also_zh = f"，其中包括 {_names(hidden)}（表格隐藏它只是为了保护另一个较小组的人数）" if hidden else ""
    column, stat, p = esc(lr.column), f"{lr.statistic:.1f}", narrative.p_value(lr.p_value)
    column_zh = _col(lr.column)
    return i18n.t(
        f"Survival curves by {column} {'differ' if differ else 'do not differ significantly'} (log-rank "
        f"χ² = {stat}, df = {lr.df}, {p}; R's survdiff over every group with at least {result.min_cell} "
        f"customers{also}{left}); {n_sig} of {n_pairs} pairs differ after Holm's correction.",
        f"按{column_zh}分组的生存曲线{'存在显著差异' if differ else '没有显著差异'}（log-rank χ² = {stat}，"
        f"自由度 = {lr.df}，{p}；R 的 survdiff，纳入所有至少有 {result.min_cell} 位客户的组{also_zh}{left_zh}）；"
        f"经 Holm 校正后，{n_pairs} 对组中有 {n_sig} 对存在显著差异。")


def _cox(result) -> str:
    # hazard ratios from the model that scores (the stratified one when PH had to be remedied: a covariate it
    # stratifies by has no single hazard ratio any more, so none is quoted for it)
    sc = result.scoring
    t = sc.table
    strata = _names(sc.strata)
    which = i18n.t(
        "the Cox model" if not sc.strata else
        f"the Cox model stratified by {strata} (the model behind the scores; each "
        f"{'/'.join(esc(s) for s in sc.strata)} level has its own baseline hazard, so no hazard ratio is quoted "
        "for it)",
        "Cox 模型" if not sc.strata else
        f"按{_names_zh(sc.strata)}分层的 Cox 模型（即用于评分的模型；{'/'.join(_col(s) for s in sc.strata)}的每个水平都有自己的"
        "基线风险，因此不给出它的风险比）")
    sd = result.data_for_models
    main = t[t["significant"] & ~t["term"].str.contains(":", regex=False) & np.isfinite(t["coef"])]
    if len(main):
        strength = np.array([driver_strength(r, sd) for r in main.itertuples()])
        ranked = main.iloc[np.argsort(-strength, kind="stable")]
        parts = [driver_words(r, sd) for r in ranked.head(3).itertuples()]
        text = i18n.t(f"Strongest churn drivers in {which} (a category against its reference level, a number over "
                      "one standard deviation): " + "; ".join(parts) + ".",
                      f"{which}中最强的流失驱动因素（类别变量与其参照水平比较，数值变量按一个标准差计）："
                      + "；".join(parts) + "。")
    else:
        text = i18n.t(f"In {which} no covariate has a hazard ratio significantly different from 1 at the "
                      f"{level(_alpha(result))} level.",
                      f"在{which}中，没有任何协变量的风险比在 {level(_alpha(result))} 显著性水平上与 1 有显著差异。")
    # an interaction is a term "a:b" of the covariates parameter (a level value may contain ':' too)
    for r in t[t["term"].str.contains(":", regex=False) & np.isfinite(t["coef"])].itertuples():
        lowers = r.coef < 0
        course = lowers and r.p_value < _alpha(result) and result.is_course
        words, conf, p = term_words(r.covariate, sd.design), level(result.confidence), narrative.p_value(r.p_value)
        interval = f"{r.hr_lower:.3f}–{r.hr_upper:.3f}"
        text += i18n.t(
            f" The interaction — {words} — has HR {r.hazard_ratio:.3f} per unit of their product ({conf} CI "
            f"{interval}, {p}): doing both {'lowers' if lowers else 'raises'} the churn hazard beyond the two "
            "separate effects" + (" — the course's 1+1>2." if course else "."),
            f"交互项（{words}）按二者乘积每单位的风险比为 {r.hazard_ratio:.3f}（{conf} 置信区间 {interval}，{p}）："
            f"两者兼顾时，流失风险在两个单独效应之外进一步{'降低' if lowers else '升高'}"
            + ("——这就是课程所说的 1+1>2。" if course else "。"))
    return text


def _ph(result) -> str:
    ph = result.ph
    alpha = level(_alpha(result))
    names = _names(ph.violations)
    names_zh = "、".join(esc(term_zh(v)) for v in ph.violations)
    stat, p, transform = f"{ph.global_statistic:.2f}", narrative.p_value(ph.global_p), esc(ph.time_transform)
    test = (f"R's survival ≥ 3.0 cox.zph, per term, {transform} time transform; global "
            f"χ² = {stat}, df = {ph.global_df}, {p}")
    test_zh = f"R survival ≥ 3.0 的 cox.zph，逐项检验，{transform} 时间变换；全局 χ² = {stat}，自由度 = {ph.global_df}，{p}"
    if ph.violations and ph.global_p >= _alpha(result):
        verb = "has" if len(ph.violations) == 1 else "have"
        return i18n.t(
            f"{names} {verb} a proportional-hazards p-value below the {alpha} level, but the global test does not "
            f"reject proportional hazards ({test}); with {len(ph.table)} terms tested that can be chance, so the "
            "unstratified model scores.",
            f"{names_zh}的比例风险检验 p 值低于 {alpha} 显著性水平，但全局检验并不拒绝比例风险假设（{test_zh}）；"
            f"共检验了 {len(ph.table)} 项，这可能只是偶然，因此仍由未分层的模型评分。")
    if ph.violations:
        skipped = skipped_zh = ""
        if ph.not_stratified:
            one = len(ph.not_stratified) == 1
            others = _names(ph.not_stratified)
            skipped = (f" Stratifying by {others} as well would leave strata of fewer than {SUPPORT_AT_RISK} "
                       f"customers, so {'it stays a covariate' if one else 'they stay covariates'}.")
            skipped_zh = (f"若再按{_names_zh(ph.not_stratified)}分层，会出现客户少于 {SUPPORT_AT_RISK} 位的层，因此"
                          f"{'它' if one else '它们'}仍作为协变量。")
        if result.remedy is not None:
            strata = _names(result.remedy.strata)
            remedy = (f"; the remedy — a model stratified by {strata} — is the model that scores the early warning, "
                      "at_risk.csv, the validation and CLV.")
            remedy_zh = f"；补救方法是按{_names_zh(result.remedy.strata)}分层的模型，流失预警、at_risk.csv、模型验证和 CLV 都由它评分。"
        else:
            remedy = ("; see the advice below (no categorical variable to stratify by with enough customers per "
                      "stratum, so the plain model scores).")
            remedy_zh = "；见下方的处理建议（没有可以分层且每层客户足够多的类别变量，因此仍由普通模型评分）。"
        return i18n.t(f"Proportional hazards is doubtful for {names} ({test}){remedy}{skipped}",
                      f"{names_zh}的比例风险假设存疑（{test_zh}）{remedy_zh}{skipped_zh}")
    return i18n.t(f"No covariate violates proportional hazards at the {alpha} level ({test}): the hazard "
                  "ratios hold over the whole customer life.",
                  f"在 {alpha} 显著性水平上，没有协变量违反比例风险假设（{test_zh}）：风险比在整个客户生命周期内保持不变。")


def _aft(result) -> str:
    a = result.aft
    best = model_label(a.best)
    if not np.isfinite(a.weibull_shape):
        return i18n.t(f"By AIC the best parametric model is the {esc(a.best)} AFT.",
                      f"按 AIC，最优的参数模型是 {best} 模型。")
    falling = a.weibull_shape < 1
    shape = ("a falling churn hazard: the longer a customer stays, the less likely they leave" if falling
             else "a rising churn hazard")
    shape_zh = "流失风险随时间下降：客户留得越久，越不容易离开" if falling else "流失风险随时间上升"
    return i18n.t(f"By AIC the best parametric model is the {esc(a.best)} AFT; the Weibull shape is "
                  f"{a.weibull_shape:.2f} ({shape}).",
                  f"按 AIC，最优的参数模型是 {best} 模型；Weibull 形状参数为 {a.weibull_shape:.2f}（{shape_zh}）。")


def _validation(result) -> str:
    v, unit = result.validation, _unit(result)
    uz, h = _unit_zh(unit), f"{result.horizon:g}"
    test, train = f"{v.c_index_test:.2f}", f"{v.c_index_train:.2f}"
    brier, null = f"{v.brier_at_horizon:.3f}", f"{v.brier_null:.3f}"
    finite = np.isfinite(v.brier_at_horizon)
    text = i18n.t(
        f"On held-out customers the {esc(v.model)} model's C-index is {test} (0.5 = chance, training {train}); "
        + (f"the Brier score at {h} {unit} is {brier} against {null} for the no-covariate KM." if finite
           else "the horizon lies beyond the follow-up."),
        f"在留出的客户上，{model_label(v.model)} 模型的一致性指数（C 指数）为 {test}（0.5 相当于随机，训练集为 {train}）；"
        + (f"{h} {uz}时的 Brier 分数为 {brier}，无协变量的 KM 为 {null}。" if finite else "预测期超出了随访期。"))
    bt = v.by_tenure
    if len(bt):
        gap = (bt["predicted"] - bt["observed"]).abs()
        worst = bt.loc[gap.idxmax()]
        conf, inside, bands = level(result.confidence), int(bt["within_ci"].sum()), len(bt)
        at, pred, obs = f"{worst['landmark']:g}", f"{100 * worst['predicted']:.1f}%", f"{100 * worst['observed']:.1f}%"
        text += i18n.t(
            f" Conditional calibration by tenure (P(churn within {h} {unit} | still a customer at tenure t)): "
            f"predicted within the observed {conf} interval in {inside} of {bands} tenure bands; the largest gap is "
            f"at tenure {at} {unit} ({pred} predicted vs {obs} observed).",
            f"按在网时长的条件校准（P(在 {h} {uz}内流失 | 在网时长 t 时仍是客户)）：{bands} 个在网时长区间中有 "
            f"{inside} 个的预测值落在观测值的 {conf} 置信区间内；差距最大的是在网时长 {at} {uz}处（预测 {pred}，"
            f"观测 {obs}）。")
    return text


def _warning(result) -> str:
    w = result.warning
    shown = privacy.visible(w.factor_counts) if len(w.factor_counts) else w.factor_counts
    reasons = [reason_words(g, result) for g in shown["factor"].head(3)] if len(shown) else []
    active, expected, h = count(w.n_active), count(w.expected_churners), f"{result.horizon:g}"
    return i18n.t(
        f"Of {active} active customers about {expected} are expected to churn within {h} {_unit(result)} (scored by "
        f"the {esc(w.model)} model); the top decile's most common reasons: {', '.join(reasons) or 'none'}.",
        f"在 {active} 位在网客户中，预计约 {expected} 位会在 {h} {_unit_zh(_unit(result))}内流失（评分模型："
        f"{model_label(w.model)}）；风险最高的 10% 客户最常见的原因：{'、'.join(reasons) or '无'}。")


def _reasons_rule(result) -> str:
    w = result.warning
    alpha = level(_alpha(result))
    one = len(w.strata) == 1
    strata = (f" {_names(w.strata)} {'acts' if one else 'act'} through the stratum's own baseline "
              "hazard (no coefficient), so it is never listed as a reason; its effect is in the probability."
              if w.strata else "")
    strata_zh = (f"{_names_zh(w.strata)}通过所在层自己的基线风险起作用（没有系数），因此从不列为原因；它的影响已体现在"
                 "概率中。" if w.strata else "")
    return i18n.t(
        "The reasons listed for a customer are the model terms that raise this customer's churn hazard above "
        f"the average customer's and whose effect is significant at the {alpha} level (for a "
        "category other than the reference level: that level's own coefficient too), up to three, largest first; "
        f"a customer with none has no reason listed.{strata}",
        "为每位客户列出的原因，是使该客户的流失风险高于平均客户、且效应在 "
        f"{alpha} 显著性水平上显著的模型项（对参照水平以外的类别，该水平自身的系数也须显著），最多三项，从大到小排列；"
        f"没有这类项的客户不列原因。{strata_zh}")


def _backtest(result) -> str:
    b, unit = result.backtest, _unit(result)
    if b is None:
        return i18n.t("The file has no signup/churn dates, so the early warning cannot be backtested.",
                      "文件中没有注册/流失日期，因此无法回测流失预警。")
    cutoff, h, auc, lift = f"{b.cutoff:%Y-%m-%d}", f"{result.horizon:g}", f"{b.auc:.2f}", f"{b.top_decile_lift:.1f}×"
    top, base = f"{100 * b.top_decile_rate:.1f}%", f"{100 * b.base_rate:.1f}%"
    actual, predicted = count(b.n_churned), count(b.expected_churners)
    return i18n.t(
        f"Scored as of {cutoff} and checked against the next {h} {unit}: AUC {auc}, top-decile lift {lift} ({top} vs "
        f"{base} churned); {actual} actual vs {predicted} predicted churners.",
        f"以 {cutoff} 为时点评分，再与随后 {h} {_unit_zh(unit)}的实际情况对照：AUC {auc}，风险最高 10% 客户的提升度 "
        f"{lift}（流失率 {top}，整体 {base}）；实际流失 {actual} 人，预测流失 {predicted} 人。")


def _truth(result) -> str | None:
    if result.truth is None:
        return None
    cx = result.truth[result.truth["model"] == "Cox"]
    pseudo = result.truth.attrs.get("against") == "pseudo_true_coefficients"
    what = ("pseudo-true hazard coefficients (what a Cox model on these covariates estimates when latent loyalty, "
            "which the data do not show, also lowers the hazard)" if pseudo else "true hazard coefficients")
    what_zh = ("伪真实风险系数（当数据中看不到的潜在忠诚度也在降低流失风险时，基于这些协变量的 Cox 模型所估计的值）"
               if pseudo else "真实风险系数")
    covered, n, conf = int(cx["covered"].sum()), len(cx), level(result.confidence)
    return i18n.t(f"{covered} of {n} {what} lie inside the Cox model's {conf} intervals (about {conf} is expected).",
                  f"{n} 个{what_zh}中有 {covered} 个落在 Cox 模型的 {conf} 置信区间内（预期约为 {conf}）。")


def _ratio_words(row, confidence: float) -> str:
    """'0.47× the rate of detractors (95% CI 0.42–0.54)' — and 'not significantly different' when the interval
    holds 1."""
    conf, alpha = level(confidence), level(round(1 - confidence, 12))
    hr, interval = f"{row['hazard_ratio']:.2f}", f"{row['hr_lower']:.2f}–{row['hr_upper']:.2f}"
    holds_one = row["hr_lower"] <= 1 <= row["hr_upper"]
    return i18n.t(
        f"{hr}× the rate of detractors ({conf} CI {interval}"
        + (f"; not significantly different from detractors at the {alpha} level" if holds_one else "") + ")",
        f"贬损者的 {hr} 倍（{conf} 置信区间 {interval}"
        + (f"；在 {alpha} 显著性水平上与贬损者没有显著差异" if holds_one else "") + "）")


def _nps(result) -> str | None:
    """The last NPS answer as a churn predictor, in words (None when no survey is used)."""
    pred = result.nps
    if pred is None:
        return None
    parts = []
    for cat, name, name_zh in (("promoter", "promoters", "推荐者"), ("passive", "passives", "中立者")):
        row = pred.hazard_ratio(cat)
        if row is not None:
            parts.append(i18n.t(f"{name} churn at {_ratio_words(row, pred.confidence)}",
                                f"{name_zh}的流失率是{_ratio_words(row, pred.confidence)}"))
    lead = "NPS predicts who leaves: among" if result.is_course and parts else "Among"
    lead_zh = "NPS 能预测谁会离开：在" if result.is_course and parts else "在"
    n, churners = count(pred.n_respondents), count(pred.n_churners)
    who = i18n.t(f"{lead} the {n} customers who answered the survey before they churned or the snapshot "
                 f"({churners} of them churned), ",
                 f"{lead_zh}流失前（或快照日前）回答过调查的 {n} 位客户中（其中 {churners} 位已流失），")
    if not parts:
        return who + i18n.t(
            "no hazard ratio against detractors can be shown: a category has fewer than "
            f"{result.min_cell} respondents (such groups are not shown), no detractor answered, or a category's "
            "coefficient does not exist.",
            f"无法给出相对贬损者的风险比：某个类别的受访者少于 {result.min_cell} 人（这样的组不显示）、没有贬损者作答，"
            "或某个类别的系数不存在。")
    return who + i18n.t(
        " and ".join(parts) + ", with the churn model's covariates held equal (Cox model on the category "
        "of each customer's last answer, detractors the reference).",
        "，".join(parts) + "；以上控制了流失模型的协变量（Cox 模型以每位客户最后一次回答的类别为自变量，贬损者为参照）。")


def _nps_backtest(result) -> str | None:
    pred = result.nps
    if pred is None:
        return None
    if pred.auc_without is None or pred.auc_with is None or not np.isfinite(pred.auc_with):
        return i18n.t("Without signup and churn dates there is no backtest, so what the survey signal adds to the "
                      "early warning cannot be measured.",
                      "没有注册和流失日期就无法回测，因此无法衡量调查信号给流失预警带来的增益。")
    gain = pred.auc_with - pred.auc_without
    b = pred.backtest
    with_, without = f"{pred.auc_with:.3f}", f"{pred.auc_without:.3f}"
    cutoff, scored, churned, h = f"{b.cutoff:%Y-%m-%d}", count(b.n_scored), count(b.n_churned), f"{result.horizon:g}"
    return i18n.t(
        f"With the survey signal (whether the customer had answered by the backtest's cutoff, and the category "
        f"of their last answer) as further covariates, the early warning's backtest AUC is {with_} "
        f"against {without} without it ({gain:+.3f}; same cutoff {cutoff}, same "
        f"{scored} active customers, {churned} of whom churned in the next {h} {_unit(result)}).",
        f"把调查信号（客户在回测截止日前是否回答过调查，以及最后一次回答的类别）作为额外的协变量后，流失预警的回测 AUC "
        f"为 {with_}，不加时为 {without}（{gain:+.3f}；同一截止日 {cutoff}，同样的 {scored} 位在网客户，其中 {churned} "
        f"位在随后 {h} {_unit_zh(_unit(result))}内流失）。")


def _nps_truth(result) -> str | None:
    pred = result.nps
    if pred is None or pred.truth is None:
        return None
    t = pred.truth
    values = ", ".join(f"{esc(r.category)} {r.true:.3f}" for r in t.itertuples())
    values_zh = "，".join(f"{esc(i18n.word(r.category))} {r.true:.3f}" for r in t.itertuples())
    covered, n, conf = int(t["covered"].sum()), len(t), level(pred.confidence)
    return i18n.t(
        f"Against the course world's truth — the hazard ratios this model estimates in the population ({values}; "
        f"truth.json churn.hazard_ratios.nps_category) — {covered} of {n} {conf} intervals cover the true value.",
        f"与课程数据的真值对照（该模型在总体中估计的风险比：{values_zh}；truth.json churn.hazard_ratios.nps_category），"
        f"{n} 个 {conf} 置信区间中有 {covered} 个覆盖了真值。")


@bilingual
def findings(result) -> dict[str, str]:
    """One or two sentences per report section (keys: data, km, logrank, cox, ph, aft, validation, warning,
    backtest, nps when a survey is used, clv when the CLV analysis is attached, truth on the course data)."""
    out = {"data": _data(result), "km": _km(result), "logrank": _logrank(result), "cox": _cox(result),
           "ph": _ph(result), "aft": _aft(result), "validation": _validation(result), "warning": _warning(result),
           "backtest": _backtest(result)}
    nps = _nps(result)
    if nps is not None:
        out["nps"] = nps
    if result.clv is not None:
        out["clv"] = " ".join(result.clv.key_findings())
    truth = _truth(result)
    if truth is not None:
        out["truth"] = truth
    return out


@bilingual
def key_findings(result) -> list[str]:
    """The report's headline sentences, in order (the PH verdict after the Cox line when it fails)."""
    f = findings(result)
    keys = ["data", "km", "logrank", "cox", "validation", "warning", "backtest", "nps", "clv", "truth"]
    lines = [f[k] for k in keys if k in f]
    if result.ph.violations:
        lines.insert(4, f["ph"])
    return lines


# --------------------------------------------------------------------------------------------------------------------
# "What this shows", per section of the notebook
# --------------------------------------------------------------------------------------------------------------------
@bilingual
def describe_data(result) -> list[str]:
    """Where durations came from and what the input policy did; then the design notes (constant or single-valued
    covariates left out)."""
    source = esc(said(result.data.duration_from))
    return [i18n.t(f"Durations: {source}. ", f"时长来源：{source}。") + _data(result),
            *(esc(said(note)) for note in result.data.design.notes)]


@bilingual
def describe_km(result) -> list[str]:
    """The curves, the interval type, and the restricted mean survival time."""
    lines = [_km(result), i18n.t(f"Intervals of the curves and of the median: {CI_TYPE_TEXT}.",
                                 f"曲线和中位数的置信区间：{CI_TYPE_TEXT_ZH}。")]
    t = result.rmst
    if t is not None and len(t):
        unit = _unit(result)
        uz = _unit_zh(unit)
        shown = t[t["group"] != "All customers"]
        tau, total = f"{t['tau'].iloc[0]:g}", f"{t['estimate'].iloc[0]:.1f}"
        groups = [(esc(r.group), f"{r.estimate:.1f}", f"{r.se:.1f}") for r in shown.itertuples()]
        text = i18n.t(
            f"Restricted mean survival time up to τ = {tau} {unit} (the expected {unit} as a customer within the "
            f"first {tau}; R: print(survfit(...), rmean = τ)): {total} {unit} for all customers"
            + ("; " + ", ".join(f"{g} {e} (SE {s})" for g, e, s in groups) if groups else "") + ".",
            f"截至 τ = {tau} {uz}的限制平均生存时间（即前 {tau} {uz}内预期作为客户的时长；R：print(survfit(...), "
            f"rmean = τ)）：全体客户为 {total} {uz}"
            + ("；" + "，".join(f"{g} {e}（标准误 {s}）" for g, e, s in groups) if groups else "") + "。")
        lines.append(text)
    return lines


@bilingual
def describe_logrank(result) -> list[str]:
    return [_logrank(result)]


def _model_tests(result) -> str | None:
    c = result.cox
    if c.tests is None:
        return None
    t = c.tests.set_index("test")
    names = (("likelihood_ratio", "likelihood ratio", "似然比"), ("wald", "Wald", "Wald"), ("score", "score", "得分"))
    stats = [(en, zh, f"{t.loc[key, 'statistic']:.2f}", int(t.loc[key, "df"]), narrative.p_value(t.loc[key, "p_value"]))
             for key, en, zh in names]
    parts = [f"{en} χ² = {s} (df {df}, {p})" for en, _, s, df, p in stats]
    parts_zh = [f"{zh} χ² = {s}（自由度 {df}，{p}）" for _, zh, s, df, p in stats]
    has_se = c.concordance_se is not None
    conc = f"; concordance {c.concordance:.3f} (SE {c.concordance_se:.3f})" if has_se else ""
    conc_zh = f"；一致性指数（C 指数）{c.concordance:.3f}（标准误 {c.concordance_se:.3f}）" if has_se else ""
    return i18n.t("The model as a whole (R's summary.coxph): " + ", ".join(parts) + conc + ". Each term is tested "
                  "as a whole in the table of terms (a factor is one test on k−1 df).",
                  "模型的整体检验（R 的 summary.coxph）：" + "，".join(parts_zh) + conc_zh + "。各项的整体检验见项检验表"
                  "（一个因子是一个自由度为 k−1 的检验）。")


@bilingual
def describe_cox(result) -> list[str]:
    """The drivers, R's tests of the model, and every coefficient that does not exist, in words."""
    tests = _model_tests(result)
    return [_cox(result), *([tests] if tests else []), *(esc(said(note)) for note in result.model_notes),
            *(esc(said(note)) for note in result.cox.notes)]


@bilingual
def describe_ph(result) -> list[str]:
    """The PH verdict, which model scores the early warning, and how its baseline is kept to what the data support."""
    remedy = result.remedy is not None
    scoring = i18n.t(
        f"**Model used for scoring:** {esc(result.scoring.label)}. The early warning, `at_risk.csv`, the "
        "validation and CLV all use this model"
        + (" (the stratified remedy, since proportional hazards failed for a categorical variable)." if remedy
           else "."),
        f"**用于评分的模型：**{model_label(result.scoring.label)}。流失预警、`at_risk.csv`、模型验证和 CLV 都使用这个模型"
        + ("（即分层补救模型，因为有类别变量不满足比例风险假设）。" if remedy else "。"))
    per_stratum = bool(result.scoring.strata)
    rule = i18n.t(
        f"Each baseline hazard{' (one per stratum)' if per_stratum else ''} is used only up to the "
        f"tenure at which {SUPPORT_AT_RISK} of its customers (or half of a smaller stratum) are still at risk; "
        f"beyond that it continues at its average rate over its last {TAIL_EVENTS} churn events, so no "
        "probability rests on a handful of customers. The test uses every customer (it costs O(n log n)).",
        f"每条基线风险{'（每层一条）' if per_stratum else ''}只使用到其客户仍有 {SUPPORT_AT_RISK} 位（较小的层为一半）"
        f"处于风险集的在网时长为止；此后按最后 {TAIL_EVENTS} 次流失事件的平均速率延续，因此没有哪个概率只依赖少数几位"
        "客户。该检验使用全部客户（计算量为 O(n log n)）。")
    return [_ph(result), scoring, rule]


@bilingual
def describe_ph_plot(result) -> list[str]:
    """What the scaled Schoenfeld residual plot shows."""
    if not result.ph.violations:
        return [i18n.t("No term violates proportional hazards, so no residual plot is needed.",
                       "没有项违反比例风险假设，因此不需要残差图。")]
    return [i18n.t(
        "Each point is a churn event: the term's scaled Schoenfeld residual plus its coefficient, against "
        "tenure (R's km scale). The smooth (lowess) estimates the coefficient at each tenure; under proportional "
        "hazards it is flat at the dashed line (the Cox estimate). A factor is shown by its linear predictor.",
        "每个点是一次流失事件：该项的标度 Schoenfeld 残差加上其系数，横轴为在网时长（R 的 km 尺度）。平滑曲线（lowess）"
        "估计了各个在网时长上的系数；若比例风险假设成立，它应在虚线（Cox 估计值）处保持水平。因子以其线性预测值表示。")]


@bilingual
def describe_aft(result) -> list[str]:
    lines = []
    if result.aft.cox_aic_partial is not None:
        aic = f"{result.aft.cox_aic_partial:,.1f}"
        lines.append(i18n.t(f"*Note:* the Cox model's AIC is {aic}, but it is computed from a "
                            "**partial likelihood, not comparable** with the parametric models' AICs above.",
                            f"*注意：* Cox 模型的 AIC 为 {aic}，但它基于**偏似然计算，不能与**上面参数模型的 AIC "
                            "**相比较**。"))
    return [*lines, _aft(result)]


@bilingual
def describe_validation(result) -> list[str]:
    return [_validation(result)]


@bilingual
def describe_warning_intro(result) -> list[str]:
    """The horizon of this run, in words (the section's heading and narrative are static)."""
    unit = _unit(result)
    ahead = f"{result.horizon:g} {unit}"
    ahead_zh = f"提前{result.horizon:g}{UNIT_ZH.get(unit, unit)}预警"
    span_zh = f"{result.horizon:g} {UNIT_ZH.get(unit, unit)}"
    return [i18n.t(f"Here the horizon is **{ahead}**: who will leave in the next {ahead}? ({ahead_zh})",
                   f"本报告的预警期为 **{span_zh}**：未来 {span_zh}内谁会离开？（{ahead_zh}）")]


@bilingual
def describe_warning(result) -> list[str]:
    """The warning, the rule behind the reasons, and whether the action list was written."""
    n = count(result.warning.n_active)
    written = i18n.t(
        f" The ranked action list ({n} customers, with their ids) is in `at_risk.csv`."
        if result.params.write_action_list else
        " The ranked action list with customer ids is written only when the `write_action_list` parameter "
        "is True (it is off here).",
        f"按风险排序的行动清单（{n} 位客户，含客户 ID）保存在 `at_risk.csv` 中。"
        if result.params.write_action_list else
        "只有当参数 `write_action_list` 为 True 时，才会写出带客户 ID 的排序行动清单（本次未开启）。")
    if result.params.write_action_list:
        from loyaltylab.analyses.churn.warning import action_list_note

        written += action_list_note(result.warning.n_active)
    return [_warning(result) + written, _reasons_rule(result)]


@bilingual
def describe_backtest(result) -> list[str]:
    return [_backtest(result)]


@bilingual
def describe_nps(result) -> list[str]:
    """The last NPS answer as a churn predictor, what the survey signal adds to the early warning and, on the course
    data, the truth — or the one sentence saying why the section is skipped."""
    if result.nps is None:
        return [esc(result.nps_note or i18n.t("No survey is used, so NPS as a churn predictor is not shown.",
                                              "未使用调查数据，因此不展示 NPS 对流失的预测。"))]
    pred = result.nps
    lines = [_nps(result), _nps_backtest(result)]
    timing = i18n.t(
        "Answers dated on or after a customer's churn day (or the snapshot) are not used." if pred.dated else
        "The customers file has no signup dates (signup_col) and no snapshot date is known, so the answers "
        "could not be checked against each customer's churn day: every dated answer counts.",
        "日期在客户流失日（或快照日）当天及之后的回答不使用。" if pred.dated else
        "客户文件中没有注册日期（signup_col），也不知道快照日期，因此无法把回答与每位客户的流失日对照：所有带日期的"
        "回答都计入。")
    lines.append(i18n.t(
        "The category is that of an answer given during the customer's life and held from signup: it "
        "describes who leaves, it is not the effect of raising a customer's score. ",
        "这个类别来自客户在网期间给出的回答，并视为从注册起就不变：它描述的是哪些客户会离开，而不是提高客户评分的"
        "效果。") + timing)
    lines += [esc(note) for note in pred.notes]
    truth = _nps_truth(result)
    if truth is not None:
        lines.append(truth)
    return [line for line in lines if line]


@bilingual
def describe_truth(result) -> list[str]:
    truth = _truth(result)
    return [truth] if truth is not None else [i18n.t(
        "No `truth.json` beside the input file: this is not the course data.",
        "输入文件旁没有 `truth.json`：这不是课程数据。")]


@bilingual
def captions(result) -> dict[str, str]:
    """Table captions (plain text; the table display escapes them), in the current language."""
    conf = level(result.confidence)
    unit = _unit(result)
    uz = _unit_zh(unit)
    h = f"{result.horizon:g}"
    ph = result.ph
    t = i18n.t
    km_column = result.km_groups.column if result.km_groups is not None else ""
    strata = ", ".join(result.remedy.strata) if result.remedy is not None else ""
    ph_stats = f"χ² = {ph.global_statistic:.2f}, df = {ph.global_df}, p = {ph.global_p:.4g}"
    out = {
        "policy": t("Input rules and rows affected", "数据规则及受影响的行数"),
        "km_by_segment": (t(f"Survival by {km_column} (share still a customer)",
                            f"按{column_zh(km_column)}的生存率（仍在网客户的占比；时间单位：{uz}）")
                          if result.km_groups is not None else ""),
        "logrank": t("Log-rank test across groups", "各组间的 log-rank 检验"),
        "pairwise": t("Pairwise log-rank tests (Holm-adjusted)", "两两 log-rank 检验（Holm 校正）"),
        "cox": t(f"Cox proportional hazards ({conf} intervals)", f"Cox 比例风险模型（{conf} 置信区间）"),
        "ph": t(f"Proportional-hazards test per term (R ≥ 3.0 cox.zph, time transform: {ph.time_transform}); "
                f"global {ph_stats}",
                f"逐项的比例风险检验（R ≥ 3.0 cox.zph，时间变换：{ph.time_transform}）；全局 "
                f"χ² = {ph.global_statistic:.2f}，自由度 = {ph.global_df}，p = {ph.global_p:.4g}"),
        "ph_plot": t("Scaled Schoenfeld residuals of the terms that violate proportional hazards, with a lowess smooth",
                     "违反比例风险假设的项的标度 Schoenfeld 残差及 lowess 平滑曲线"),
        "cox_tests": t("Tests of the whole model (R: summary.coxph): likelihood ratio, Wald, score",
                       "模型整体检验（R：summary.coxph）：似然比、Wald、得分检验"),
        "cox_terms": t("One Wald test per term (a factor is one test on k−1 df)",
                       "每项一个 Wald 检验（一个因子是一个自由度为 k−1 的检验）"),
        "rmst": t(f"Restricted mean survival time ({conf} intervals; {unit})",
                  f"限制平均生存时间（{conf} 置信区间；单位：{uz}）"),
        "advice": t("What to do about the violations", "违反比例风险假设时的处理建议"),
        "remedy": t(f"Cox model stratified by {strata}",
                    f"按{'、'.join(column_zh(s) for s in result.remedy.strata)}分层的 Cox 模型") if strata else "",
        "aft": t("Parametric models by AIC", "按 AIC 比较的参数模型"),
        "aft_vs_cox": t("Weibull AFT vs Cox", "Weibull AFT 与 Cox 的比较"),
        "validation": t("Validation", "模型验证"),
        "calibration": t(f"Calibration at {h} {unit} (held-out)", f"{h} {uz}时的校准（留出样本）"),
        "by_tenure": t(f"Conditional calibration by tenure (held-out): P(churn within {h} {unit} | "
                       "still a customer at the band's start), predicted vs Kaplan–Meier",
                       f"按在网时长的条件校准（留出样本）：P(在 {h} {uz}内流失 | 区间起点时仍是客户)，预测值与 "
                       "Kaplan–Meier 估计的比较"),
        "risk_factors": t("Most common risk factors in the top decile", "风险最高 10% 客户中最常见的风险因素"),
        "backtest": t("Backtest: predicted vs actual churn by decile", "回测：各风险十分位的预测与实际流失"),
        "truth": t("Estimated vs true coefficients", "系数估计值与真值"),
        "nps": t(f"Churn hazard ratio by the last NPS answer vs detractors ({conf} intervals; respondents, the churn "
                 "model's covariates held equal)",
                 f"按最后一次 NPS 回答类别、相对贬损者的流失风险比（{conf} 置信区间；受访者；控制流失模型的协变量）"),
        "nps_km": t("Survival by the last NPS answer (respondents; share still a customer)",
                    "按最后一次 NPS 回答类别的生存率（受访者；仍在网客户的占比）"),
    }
    return out
