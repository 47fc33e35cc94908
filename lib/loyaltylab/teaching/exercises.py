"""The course's exercises, per notebook: what a student computes or decides, in Chinese and English; how the correct
answer is computed from the student's own data (library calls on the notebook's result — never a stored number);
the tolerance, in words; a hint that never gives the answer away; and the reference solution (the code of the
notebook's cell tagged ``solution``).

``EXERCISES`` keeps them in notebook order; :func:`for_notebook` lists one notebook's. The expected answers use
other library code than the reference solutions (``nps.from_counts`` against the formula, the library's α against
the variance formula, the synergy contrast against the cell means), so a test running the solutions also checks
that the two agree.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from loyaltylab.constants import DIMENSIONS

from .answers import Choice, ChoiceSet, Kind, Number, Verdict, YesNo
from .context import NOTEBOOKS, Context, NotApplicable


@dataclass(frozen=True)
class Exercise:
    id: str
    notebook: str
    title_zh: str
    title_en: str
    prompt_zh: str
    prompt_en: str
    checked_zh: str  # "你的 … 与 …": what the check compares, for its message
    checked_en: str  # "your … against …"
    hint_zh: str
    hint_en: str
    answer: Kind
    expected: Callable[[Context], object]
    solution: str
    options: Callable[[Context], Sequence[str]] | None = None
    aliases: Callable[[Context], Mapping[str, str]] | None = None
    points: float = 1.0

    def tolerance(self) -> tuple[str, str]:
        return self.answer.words()

    def expected_value(self, ctx: Context):
        """The correct answer on this context's data, as a plain value (float, bool, text or a sorted list)."""
        if not ctx.course:
            raise NotApplicable("练习只适用于课程数据（数据文件旁有 truth.json）",
                                "the exercises are written for the course world (a truth.json beside the data)")
        value = self.expected(ctx)
        if value is None:
            raise NotApplicable("这份数据上算不出本题的答案", "this data give no answer to this exercise")
        return self.answer.plain(value)

    def normalise(self, value, ctx: Context | None = None):
        """The student's answer as a plain value; AnswerError (zh, en) when it has the wrong form."""
        if isinstance(self.answer, (Choice, ChoiceSet)):
            options = list(self.options(ctx)) if self.options and ctx is not None else []
            aliases = dict(self.aliases(ctx)) if self.aliases and ctx is not None else {}
            return self.answer.plain(self.answer.normalise(value, options, aliases))
        return self.answer.plain(self.answer.normalise(value))


def _need(value, zh: str, en: str):
    if value is None:
        raise NotApplicable(zh, en)
    return value


def _dimension_aliases(ctx: Context) -> dict[str, str]:
    out = {}
    for key, d in DIMENSIONS.items():
        out[d["zh"]] = key
        out[d["en"]] = key
        out[f"{d['en']} ({d['zh']})"] = key
    return out


# --- 01 · NPS -------------------------------------------------------------------------------------------------------


def _nps_overall(ctx: Context):
    o = ctx.result.overall
    if o.suppressed:
        raise NotApplicable("NPS 因样本太小而被隐藏", "the NPS is suppressed (too few respondents)")
    return o


def _nps_from_counts(ctx: Context):
    from loyaltylab.analyses import nps

    o = _nps_overall(ctx)
    return nps.from_counts(o.promoters, o.passives, o.detractors, confidence=0.95)


def _nps_mark(ctx: Context) -> str:
    o = _nps_overall(ctx)
    return "yes" if o.ci_low >= 50 else "no" if o.ci_high < 50 else "can't tell"


def _nps_sample_size(ctx: Context) -> int:
    from loyaltylab.analyses import nps

    o = _nps_overall(ctx)
    return nps.sample_size(4, o.promoters_pct, o.detractors_pct, confidence=0.95)


# --- 02 · SERVQUAL --------------------------------------------------------------------------------------------------


def _gap_table(ctx: Context):
    table = ctx.result.dimensions
    if table is None or "gap" not in table or table["gap"].notna().sum() == 0:
        raise NotApplicable("这份问卷没有期望题项，算不出差距", "this questionnaire has no expectation items: no gaps")
    return table.dropna(subset=["gap"]).set_index("dimension")


def _largest_gap(ctx: Context) -> str:
    return str(_gap_table(ctx)["gap"].idxmin())


def _gap_reliable(ctx: Context) -> bool:
    table = _gap_table(ctx)
    row = table.loc[table["gap"].idxmin()]
    return bool(row["ci_high"] < 0 or row["ci_low"] > 0)


def _alpha_reliability(ctx: Context) -> float:
    alphas = ctx.result.reliability.alphas
    row = alphas[(alphas["dimension"] == "reliability") & (alphas["set"] == "perception")]
    if row.empty:
        raise NotApplicable("这份问卷没有可靠性维度的感知题项", "this questionnaire has no Reliability perception items")
    return float(row["alpha"].iloc[0])


def _servperf_gain(ctx: Context) -> float:
    table = _need(ctx.result.servperf, "这份数据没有 SERVPERF 与 SERVQUAL 的比较",
                  "this data have no SERVPERF vs SERVQUAL comparison")
    row = table[table["outcome"] == "satisfaction"]
    if row.empty or row["r2_servqual"].isna().all():
        raise NotApplicable("没有满意度或差距分数，无法比较", "no satisfaction or no gap scores to compare")
    return float(row["r2_servperf"].iloc[0] - row["r2_servqual"].iloc[0])


# --- 03 · drivers ---------------------------------------------------------------------------------------------------


def _drivers(ctx: Context):
    return ctx.result.drivers.set_index("driver")


def _top_driver(ctx: Context) -> str:
    return str(_drivers(ctx)["lmg_share"].idxmax())


def _top_share(ctx: Context) -> float:
    return float(_drivers(ctx)["lmg_share"].max() * 100)


def _top_sure(ctx: Context) -> float:
    boot = _need(ctx.result.boot, "没有自助法重抽样（n_bootstrap = 0）", "no bootstrap (n_bootstrap = 0)")
    return float(boot.rank_probabilities.loc[_top_driver(ctx), 1] * 100)


def _invest_first(ctx: Context) -> list[str]:
    kd = ctx.result.key_drivers
    return [str(d) for d in kd.loc[kd["quadrant"] == "concentrate here", "driver"]]


def _driver_names(ctx: Context) -> list[str]:
    return [str(d) for d in ctx.result.drivers["driver"]]


# --- 04 · churn and CLV ---------------------------------------------------------------------------------------------


def _hazard_change(ctx: Context) -> float:
    from loyaltylab.analyses import churn

    table = churn.coefficient_table(ctx.result.cox).set_index("covariate")
    if "customer_proactive" not in table.index:
        raise NotApplicable("Cox 模型里没有 customer_proactive", "the Cox model has no customer_proactive term")
    return float((table.loc["customer_proactive", "hazard_ratio"] - 1) * 100)


def _expected_churners(ctx: Context) -> float:
    warning = ctx.result.warning
    if float(warning.horizon) != 90 or ctx.result.data.time_unit != "days":
        raise NotApplicable("本题按 90 天预警计算：请把 horizon 设为 90、time_unit 设为 \"days\"",
                            "this exercise is about the 90-day warning: set horizon = 90 and time_unit = \"days\"")
    return float(warning.expected_churners)


def _ltv_value(ctx: Context):
    clv = _need(getattr(ctx.result, "clv", None), "没有 CLV 结果", "no CLV result")
    return _need(clv.value, "没有收入或获客成本列，算不出 LTV/CAC", "no revenue or acquisition cost: no LTV/CAC")


def _ltv_cac_segments(ctx: Context) -> list[str]:
    by = _ltv_value(ctx).by_segment
    return [str(v) for v in by.loc[by["meets_target"].fillna(False).astype(bool), "value"]]


def _segment_names(ctx: Context) -> list[str]:
    return [str(v) for v in _ltv_value(ctx).by_segment["value"]]


# --- 05 · dual proactivity and recovery -----------------------------------------------------------------------------


def _synergy(ctx: Context):
    it = ctx.result.interaction
    syn = _need(it.synergy, "2×2 的格子被隐藏或缺失，没有协同对比", "the 2×2 cells are hidden or missing: no synergy contrast")
    return syn


def _synergy_estimate(ctx: Context) -> float:
    return float(_synergy(ctx).estimate)


def _one_plus_one(ctx: Context) -> str:
    from loyaltylab.analyses import dual_proactivity as dual

    verdict = dual.synergy_verdict(_synergy(ctx))
    return {"holds": "yes", "reversed": "no", "cannot_tell": "can't tell"}.get(verdict)


def _paradox(ctx: Context) -> str:
    recovery = _need(ctx.result.recovery, "没有服务失败数据（incidents）", "no incidents: no recovery paradox")
    try:
        verdict = recovery.paradox["nps"]["recovered_well"].adjusted.verdict
    except (KeyError, AttributeError, TypeError):
        raise NotApplicable("没有“补救良好”组的 NPS 比较", "no NPS comparison of the recovered-well group") from None
    return {"higher": "yes", "equivalent": "no", "lower": "no", "inconclusive": "can't tell"}[verdict]


def _interaction_significant(ctx: Context) -> bool:
    table = ctx.result.interaction.model.coefficients.set_index("term")
    if "x:w" not in table.index:
        raise NotApplicable("模型里没有交互项", "the model has no interaction term")
    return bool(table.loc["x:w", "p_value"] < 0.05)


# --- the registry ---------------------------------------------------------------------------------------------------

_EXERCISES = (
    # 01 · NPS
    Exercise(
        "nps_score", "01_nps", "用人数算 NPS", "The NPS from counts",
        "只用 `result.overall` 里推荐者、中立者和贬损者的人数（`.promoters`、`.passives`、`.detractors`），算出净推荐值"
        "（NPS）：推荐者百分比减去贬损者百分比，取值在 −100 到 +100 之间。",
        "Using only the numbers of promoters, passives and detractors in `result.overall` (`.promoters`, "
        "`.passives`, `.detractors`), compute the Net Promoter Score: the percentage of promoters minus the "
        "percentage of detractors, between −100 and +100.",
        "你的 NPS 与用你的数据集中三类人数算出的 NPS", "your NPS against the one computed from your dataset's counts",
        "每类人数除以全部回答数（三类之和）得到比例；推荐者比例减去贬损者比例，再乘以 100。中立者不进分子，但要算进分母。",
        "Divide each count by all responses (the three groups together), subtract the detractors' share from the "
        "promoters' share and multiply by 100. Passives are not in the numerator, but they are in the denominator.",
        Number(0.1, "分", "points"),
        lambda ctx: _nps_from_counts(ctx).nps,
        "o = result.overall\n"
        "n = o.promoters + o.passives + o.detractors\n"
        "answer = 100 * (o.promoters - o.detractors) / n",
    ),
    Exercise(
        "nps_margin", "01_nps", "误差范围", "The margin of error",
        "把每个回答都看作相互独立，用同样的人数算出这个 NPS 的 95% 误差范围（置信区间宽度的一半）："
        "SE = 100 · √((p_P + p_D − (p_P − p_D)²) / n)，误差范围 = 1.96 · SE。",
        "Treating every response as independent, compute the 95% margin of error (half the width of the "
        "interval) of that NPS from the same counts: SE = 100 · √((p_P + p_D − (p_P − p_D)²) / n), margin = "
        "1.96 · SE.",
        "你的误差范围与用你的数据集中三类人数算出的误差范围",
        "your margin of error against the one computed from your dataset's counts",
        "p_P 和 p_D 是 0 到 1 之间的比例（不是百分数），n 是回答总数。笔记本自己的区间更宽，因为它还考虑了同一客户的重复回答"
        "（设计效应）；本题不考虑这一点，所以不能直接抄笔记本的区间。",
        "p_P and p_D are shares between 0 and 1 (not percentages) and n is the number of responses. The "
        "notebook's own interval is wider because it also allows for repeat answers by the same customer (the "
        "design effect); this exercise leaves that out, so the notebook's interval is not the answer.",
        Number(0.1, "分", "points"),
        lambda ctx: _nps_from_counts(ctx).margin,
        "o = result.overall\n"
        "n = o.promoters + o.passives + o.detractors\n"
        "p_p, p_d = o.promoters / n, o.detractors / n\n"
        "answer = 1.96 * 100 * ((p_p + p_d - (p_p - p_d) ** 2) / n) ** 0.5",
    ),
    Exercise(
        "nps_mark", "01_nps", "是否达到 NPS ≥ 50", "Does it clear NPS ≥ 50?",
        "课程把 NPS ≥ 50 作为客户高度忠诚的标志。用笔记本的 95% 置信区间（`result.overall.ci_low`、`.ci_high`，"
        "已考虑重复回答）判断：整个区间都不低于 50 答 `\"yes\"`，整个区间都低于 50 答 `\"no\"`，区间包含 50 答 "
        "`\"can't tell\"`。",
        "The course takes NPS ≥ 50 as the mark of a loyal customer base. Judge it with the notebook's 95% "
        "interval (`result.overall.ci_low`, `.ci_high`, which allows for repeat answers): `\"yes\"` if the whole "
        "interval is at or above 50, `\"no\"` if the whole interval is below 50, `\"can't tell\"` if it contains 50.",
        "你的判断与用你的数据集的 95% 置信区间对照 50 得出的判断",
        "your verdict against the one read from your dataset's 95% interval and the mark of 50",
        "不要只看点估计，要把区间的两端都和 50 比较；用 `result.overall` 的区间，而不是练习 2 里忽略重复回答的那个。",
        "Do not judge by the point estimate alone: compare both ends of the interval with 50, and use the "
        "interval in `result.overall`, not the one of exercise 2 that ignores repeat answers.",
        Verdict(),
        _nps_mark,
        "o = result.overall\n"
        "answer = \"yes\" if o.ci_low >= 50 else \"no\" if o.ci_high < 50 else \"can't tell\"",
    ),
    Exercise(
        "nps_sample_size", "01_nps", "下一次调查要多少回答", "How many responses next time?",
        "下一次调查希望把 NPS 的误差范围控制在 ±4 分（95% 置信水平，回答看作相互独立）。按本次调查推荐者和贬损者的比例"
        "（`result.overall.promoters_pct`、`.detractors_pct`，单位是 %），需要多少份回答？向上取整。",
        "The next survey should pin the NPS down to ±4 points (95%, responses treated as independent). At this "
        "survey's shares of promoters and detractors (`result.overall.promoters_pct`, `.detractors_pct`, in %), "
        "how many responses does it need? Round up.",
        "你的样本量与按你的数据集的推荐者、贬损者比例算出的 ±4 分所需样本量",
        "your sample size against the one needed for ±4 points at your dataset's shares of promoters and detractors",
        "把练习 2 的误差公式倒过来解 n：n = 1.96² · 100² · (p_P + p_D − (p_P − p_D)²) / 4²。p_P、p_D 要用 0 到 1 的比例，"
        "不是百分数。",
        "Solve the margin formula of exercise 2 for n: n = 1.96² · 100² · (p_P + p_D − (p_P − p_D)²) / 4², with "
        "p_P and p_D as shares between 0 and 1, not percentages.",
        Number(2, "份回答", "responses", relative=0.005, integer=True),
        _nps_sample_size,
        "import math\n"
        "o = result.overall\n"
        "p_p, p_d = o.promoters_pct / 100, o.detractors_pct / 100\n"
        "answer = math.ceil(1.96 ** 2 * 100 ** 2 * (p_p + p_d - (p_p - p_d) ** 2) / 4 ** 2)",
    ),
    # 02 · SERVQUAL
    Exercise(
        "servqual_largest_gap", "02_service_quality", "最大的差距", "The largest gap",
        "哪个 SERVQUAL 维度离顾客的期望最远，也就是平均差距 P − E 最负？看 `result.dimensions` 的 `gap` 列。用维度名作答，"
        "英文或中文都可以（tangibles 有形性、reliability 可靠性、responsiveness 响应性、assurance 保障性、empathy 移情性）。",
        "Which SERVQUAL dimension falls furthest short of expectations — the most negative mean gap P − E? Look at "
        "the `gap` column of `result.dimensions`. Answer with the dimension's name in English or Chinese "
        "(tangibles 有形性, reliability 可靠性, responsiveness 响应性, assurance 保障性, empathy 移情性).",
        "你选的维度与你的数据集中平均差距最负的维度", "your dimension against the one with the most negative mean gap in "
        "your dataset",
        "“差距最大”指 P − E 最负（感知比期望低得最多），不是期望最高的维度，也不是感知最低的维度。",
        "The largest shortfall is the most negative P − E (perception furthest below expectation) — not the "
        "dimension with the highest expectation, nor the one with the lowest perception.",
        Choice(),
        _largest_gap,
        "gaps = result.dimensions.set_index(\"dimension\")[\"gap\"]\n"
        "answer = gaps.idxmin()",
        options=lambda ctx: list(_gap_table(ctx).index), aliases=_dimension_aliases,
    ),
    Exercise(
        "servqual_gap_reliable", "02_service_quality", "这个差距可靠吗", "Is that gap reliable?",
        "上一题那个最大的差距是否可靠地不等于 0：它的 95% 置信区间（`result.dimensions` 的 `ci_low` 到 `ci_high`，已按"
        "客户聚类调整）是否不包含 0？答 `True` 或 `False`。",
        "Is that largest gap reliably different from zero — does its 95% confidence interval (`ci_low` to "
        "`ci_high` in `result.dimensions`, cluster-robust) exclude 0? Answer `True` or `False`.",
        "你的判断与你的数据集中最负差距的置信区间",
        "your answer against the interval of the most negative gap in your dataset",
        "取上一题那个维度所在的行；区间两端同号（都小于 0 或都大于 0）时才不包含 0。",
        "Take the row of the dimension from the previous exercise; an interval excludes 0 only when both its ends "
        "have the same sign.",
        YesNo(),
        _gap_reliable,
        "table = result.dimensions.set_index(\"dimension\")\n"
        "row = table.loc[table[\"gap\"].idxmin()]\n"
        "answer = bool(row[\"ci_high\"] < 0 or row[\"ci_low\"] > 0)",
    ),
    Exercise(
        "servqual_alpha", "02_service_quality", "自己算 Cronbach's α", "Cronbach's α by hand",
        "用 `result.data.frame` 里的回答，自己算出可靠性维度五个感知题项 P5–P9 的 Cronbach's α："
        "α = k/(k − 1) · (1 − 各题方差之和 / 总分的方差)，k = 5。（研究中一般以 0.70 作为量表可靠的标准。）",
        "From the responses in `result.data.frame`, compute Cronbach's α of the five Reliability perception items "
        "P5–P9 yourself: α = k/(k − 1) · (1 − sum of the item variances / variance of the item total), k = 5. "
        "(Research takes 0.70 as the mark of a reliable scale.)",
        "你的 α 与程序库用你的数据集中 P5–P9 算出的 α",
        "your α against the one the library computes from your dataset's P5–P9",
        "用五列各自的方差（pandas 的 `.var()`，分母 n − 1）和它们逐行相加后的总分的方差；k 是题目数，不是回答数。",
        "Use the variances of the five columns (pandas `.var()`, denominator n − 1) and the variance of their row "
        "total; k is the number of items, not of responses.",
        Number(0.005),
        _alpha_reliability,
        "items = result.data.frame[[\"P5\", \"P6\", \"P7\", \"P8\", \"P9\"]].dropna()\n"
        "k = items.shape[1]\n"
        "answer = k / (k - 1) * (1 - items.var().sum() / items.sum(axis=1).var())",
    ),
    Exercise(
        "servqual_servperf", "02_service_quality", "SERVQUAL 还是 SERVPERF", "SERVQUAL or SERVPERF?",
        "对满意度（`satisfaction`）来说，只用感知（SERVPERF）的 R² 比用差距（SERVQUAL）的 R² 高多少？用 `result.servperf` "
        "算 R²(SERVPERF) − R²(SERVQUAL)；正数表示只看感知预测得更好，正如 Cronin & Taylor (1992) 所说。",
        "For `satisfaction`, how much higher is the R² of the perceptions alone (SERVPERF) than that of the gaps "
        "(SERVQUAL)? Compute R²(SERVPERF) − R²(SERVQUAL) from `result.servperf`; a positive number means the "
        "perceptions alone predict better, as Cronin & Taylor (1992) argued.",
        "你的 R² 之差与你的数据集中满意度的 SERVPERF、SERVQUAL 的 R² 之差",
        "your difference against the one between the SERVPERF and SERVQUAL R² of satisfaction in your dataset",
        "取 `outcome` 为 satisfaction 的那一行，用 `r2_servperf` 减 `r2_servqual`（注意表里的 `difference` 列方向相反）。",
        "Take the row whose `outcome` is satisfaction and subtract `r2_servqual` from `r2_servperf` (the table's "
        "`difference` column runs the other way).",
        Number(0.005),
        _servperf_gain,
        "row = result.servperf.set_index(\"outcome\").loc[\"satisfaction\"]\n"
        "answer = row[\"r2_servperf\"] - row[\"r2_servqual\"]",
    ),
    # 03 · drivers
    Exercise(
        "drivers_top", "03_loyalty_drivers", "最重要的驱动因素", "The most important driver",
        "哪个驱动因素在 NPS 的可解释方差（R²）中占的份额最大（LMG）？看 `result.drivers` 的 `lmg_share` 列，用驱动因素的名称"
        "作答（英文或中文）。",
        "Which driver takes the largest share of the explained variance (R²) of the NPS (LMG)? Look at the "
        "`lmg_share` column of `result.drivers`, and answer with the driver's name (English or Chinese).",
        "你选的驱动因素与你的数据集中 LMG 份额最大的驱动因素",
        "your driver against the one with the largest LMG share in your dataset",
        "比较的是 LMG 份额，而不是标准化回归系数（beta）或单独的相关系数——第 2 节说明了为什么 beta 会误导。",
        "Compare the LMG shares, not the standardised betas or the correlations on their own — section 2 shows "
        "why betas mislead.",
        Choice(),
        _top_driver,
        "answer = result.drivers.set_index(\"driver\")[\"lmg_share\"].idxmax()",
        options=_driver_names, aliases=_dimension_aliases,
    ),
    Exercise(
        "drivers_top_share", "03_loyalty_drivers", "它占多少", "How large is its share?",
        "这个最重要的驱动因素占可解释方差的百分之几？用它的 LMG（`lmg` 列，R² 的单位）除以总的 R²（`result.r2`），"
        "以百分数作答（例如 25 表示 25%）。",
        "What percentage of the explained variance does that top driver take? Divide its LMG (the `lmg` column, in "
        "R² units) by the total R² (`result.r2`) and answer in percent (25 for 25%).",
        "你的百分数与你的数据集中最重要驱动因素的 LMG 份额",
        "your percentage against the top driver's LMG share in your dataset",
        "各驱动因素的 LMG 加起来正好等于 R²；份额 = LMG / R²。记得乘以 100。",
        "The drivers' LMG values add up exactly to R²; a share is LMG / R². Remember to multiply by 100.",
        Number(0.5, "个百分点", "percentage points"),
        _top_share,
        "top = result.drivers.set_index(\"driver\")[\"lmg\"]\n"
        "answer = 100 * top.max() / result.r2",
    ),
    Exercise(
        "drivers_top_sure", "03_loyalty_drivers", "有多大把握", "How sure are we?",
        "我们有多大把握说它就是第一？在整群自助法的重抽样中，它排第一的比例是百分之几？看 `result.boot.rank_probabilities`"
        "（行是驱动因素，列是名次），以百分数作答。",
        "How sure are we that it is the first? In what percentage of the cluster-bootstrap replicates does it rank "
        "first? Look at `result.boot.rank_probabilities` (rows: drivers, columns: ranks) and answer in percent.",
        "你的百分数与你的数据集的自助法中最重要驱动因素排第一的比例",
        "your percentage against the share of your dataset's bootstrap replicates that rank the top driver first",
        "取这个驱动因素那一行、名次 1 那一列的概率，再乘以 100。",
        "Take that driver's row and the rank-1 column, and multiply the probability by 100.",
        Number(1.0, "个百分点", "percentage points"),
        _top_sure,
        "top = result.drivers.set_index(\"driver\")[\"lmg_share\"].idxmax()\n"
        "answer = 100 * result.boot.rank_probabilities.loc[top, 1]",
    ),
    Exercise(
        "drivers_invest_first", "03_loyalty_drivers", "先投资哪里", "Where to invest first",
        "关键驱动因素图里，哪些驱动因素落在“重点改进”（concentrate here）象限——重要性高于平均、表现低于平均？看 "
        "`result.key_drivers` 的 `quadrant` 列，以名称列表作答（例如 `[\"a\", \"b\"]`），一个也没有就写 `[]`。",
        "Which drivers fall in the key-driver chart's \"concentrate here\" quadrant — above-average importance, "
        "below-average performance? Look at the `quadrant` column of `result.key_drivers` and answer with a list of "
        "names (e.g. `[\"a\", \"b\"]`), `[]` if none.",
        "你的名单与你的数据集中落在“重点改进”象限的驱动因素",
        "your list against the drivers in the \"concentrate here\" quadrant of your dataset",
        "“重点改进”要同时满足两个条件：重要性在平均线之上，表现在平均线之下。只满足一个的不算。",
        "\"Concentrate here\" needs both: importance above the average line and performance below it. Meeting one "
        "of the two is not enough.",
        ChoiceSet(),
        _invest_first,
        "kd = result.key_drivers\n"
        "answer = list(kd.loc[kd[\"quadrant\"] == \"concentrate here\", \"driver\"])",
        options=_driver_names, aliases=_dimension_aliases,
    ),
    # 04 · churn and CLV
    Exercise(
        "churn_hazard_ratio", "04_churn_survival", "风险比是什么意思", "What a hazard ratio means",
        "Cox 模型中 `customer_proactive`（客户主动参与）的风险比（`churn.coefficient_table(result.cox)` 的 "
        "`hazard_ratio` 列）意味着：客户主动参与每多一个单位，流失风险在任何在网时长上都变化百分之几？以百分数作答，降低写负数"
        "（例如风险比 0.62 对应 −38）。",
        "The Cox model's hazard ratio of `customer_proactive` (the `hazard_ratio` column of "
        "`churn.coefficient_table(result.cox)`): by what percentage does one more unit of the customer's proactive "
        "participation change the churn hazard, at every tenure? Answer in percent, negative for lower (a hazard "
        "ratio of 0.62 would be −38).",
        "你的百分数与你的数据集中 customer_proactive 的风险比所对应的变化",
        "your percentage against the change implied by the hazard ratio of customer_proactive in your dataset",
        "风险比是乘数：风险比 − 1 就是变化的比例，再乘以 100。注意模型里还有它与企业主动性的交互项，所以这是企业主动性为 0 "
        "时的效应。",
        "A hazard ratio multiplies the hazard: hazard ratio − 1 is the change as a share; multiply by 100. The model "
        "also has its interaction with the firm's outreach, so this is the effect where the firm's outreach is 0.",
        Number(0.5, "个百分点", "percentage points"),
        _hazard_change,
        "hr = churn.coefficient_table(result.cox).set_index(\"covariate\").loc[\"customer_proactive\", \"hazard_ratio\"]\n"
        "answer = 100 * (hr - 1)",
    ),
    Exercise(
        "churn_expected_90d", "04_churn_survival", "90 天内预计流失多少人", "Expected churners within 90 days",
        "在目前仍在网的客户中，模型预计未来 90 天内有多少人流失？把每位在网客户的 90 天流失概率加起来"
        "（`result.warning.scores` 的 `churn_probability` 列）。",
        "Of the customers still active, how many does the model expect to churn within 90 days? Add up "
        "each active customer's probability of churning within 90 days (the `churn_probability` column of "
        "`result.warning.scores`).",
        "你的人数与用你的数据集中每位在网客户的流失概率加总得到的人数",
        "your number against the sum of the churn probabilities of your dataset's active customers",
        "预计人数是概率之和，不是概率超过 0.5 的人数，也不是已经流失的人数。",
        "The expected number is the sum of the probabilities — not the number of customers above 0.5, nor those "
        "who have already churned.",
        Number(1.0, "人", "customer"),
        _expected_churners,
        "answer = result.warning.scores[\"churn_probability\"].sum()",
    ),
    Exercise(
        "clv_ltv_cac", "04_churn_survival", "LTV/CAC 是否超过 3", "Does LTV/CAC clear 3?",
        "课程的经验法则是 LTV/CAC 应大于 3。哪些细分市场达到了？看 CLV 结果的分细分市场表（`result.clv.value.by_segment`，"
        "`value` 是细分市场名称，`ltv_cac` 是比值），以名称列表作答，一个也没有就写 `[]`。",
        "The course's rule of thumb is that LTV/CAC should exceed 3. Which segments clear it? Look at the CLV "
        "result's table by segment (`result.clv.value.by_segment`: `value` is the segment, `ltv_cac` the ratio) and "
        "answer with a list of names, `[]` if none.",
        "你的名单与你的数据集中 LTV/CAC 大于 3 的细分市场",
        "your list against the segments whose LTV/CAC exceeds 3 in your dataset",
        "比较的是新客户的终身价值与获客成本之比（`ltv_cac` 列），不是 CLV 本身；被隐藏（suppressed）的细分市场不算。",
        "Compare the ratio of a new customer's lifetime value to the acquisition cost (the `ltv_cac` column), not "
        "the CLV itself; suppressed segments do not count.",
        ChoiceSet(),
        _ltv_cac_segments,
        "seg = result.clv.value.by_segment\n"
        "answer = list(seg.loc[seg[\"ltv_cac\"] > 3, \"value\"])",
        options=_segment_names,
    ),
    # 05 · dual proactivity and recovery
    Exercise(
        "dual_synergy", "05_dual_proactivity_and_recovery", "协同对比", "The synergy contrast",
        "用 `result.interaction.cells` 中四个格子的平均值（`cell` 为 neither、firm、customer、both，`estimate` 是平均值），"
        "算出协同对比：（双方主动 − 仅企业主动）−（仅客户主动 − 都不主动）。",
        "From the four cell means in `result.interaction.cells` (`cell`: neither, firm, customer, both; "
        "`estimate`: the mean), compute the synergy contrast (both − firm only) − (customer only − neither).",
        "你的协同对比与你的数据集的 2×2 协同对比",
        "your synergy contrast against the 2×2 synergy contrast of your dataset",
        "先算“客户主动”在企业主动时带来的提升（both − firm），再减去它在企业不主动时带来的提升（customer − neither）。",
        "First the lift the customer's proactivity gives when the firm is proactive (both − firm), then subtract "
        "the lift it gives when the firm is not (customer − neither).",
        Number(0.01, "分", "points"),
        _synergy_estimate,
        "m = result.interaction.cells.set_index(\"cell\")[\"estimate\"]\n"
        "answer = (m[\"both\"] - m[\"firm\"]) - (m[\"customer\"] - m[\"neither\"])",
    ),
    Exercise(
        "dual_one_plus_one", "05_dual_proactivity_and_recovery", "“1+1>2” 成立吗", "Does \"1+1>2\" hold?",
        "用协同对比的 95% 置信区间（`result.interaction.synergy` 的 `ci_low`、`ci_high`）判断：区间整体在 0 以上答 "
        "`\"yes\"`，整体在 0 以下（相反）答 `\"no\"`，包含 0 答 `\"can't tell\"`。",
        "Judge by the synergy contrast's 95% interval (`ci_low`, `ci_high` of `result.interaction.synergy`): "
        "`\"yes\"` if the whole interval is above 0, `\"no\"` if it is below 0 (the opposite), `\"can't tell\"` if "
        "it contains 0.",
        "你的判断与你的数据集中协同对比的置信区间", "your verdict against the interval of your dataset's synergy contrast",
        "点估计大于 0 还不够：要看整个区间。区间包含 0 时，这些数据既不能说成立，也不能说不成立。",
        "A positive point estimate is not enough: look at the whole interval. When it contains 0, these data can "
        "say neither that it holds nor that it fails.",
        Verdict(),
        _one_plus_one,
        "s = result.interaction.synergy\n"
        "answer = \"yes\" if s.ci_low > 0 else \"no\" if s.ci_high < 0 else \"can't tell\"",
    ),
    Exercise(
        "dual_paradox", "05_dual_proactivity_and_recovery", "服务补救悖论", "The service recovery paradox",
        "补救良好的客户在失败之后比从未失败的客户更愿意推荐吗？用调整后的比较 "
        "`result.recovery.paradox[\"nps\"][\"recovered_well\"].adjusted`（`ci_low`、`ci_high` 和等效界限 `margin`）："
        "若区间完全落在 ±margin 之内（差别小到无关紧要）或整体在 0 以下，答 `\"no\"`；否则若区间整体在 0 以上，答 "
        "`\"yes\"`；其余情况答 `\"can't tell\"`。",
        "Are customers whose failure was recovered well more willing to recommend afterwards than customers who "
        "never failed? Use the adjusted comparison `result.recovery.paradox[\"nps\"][\"recovered_well\"].adjusted` "
        "(`ci_low`, `ci_high` and the equivalence margin `margin`): `\"no\"` if the interval lies within ±margin "
        "(too small a difference to matter) or entirely below 0; otherwise `\"yes\"` if it lies entirely above 0; "
        "`\"can't tell\"` in every other case.",
        "你的判断与你的数据集中调整后的补救悖论检验",
        "your verdict against the adjusted recovery-paradox test of your dataset",
        "用调整后（adjusted）的比较，不是未调整的：在网越久的客户失败越多，也可能因别的原因更忠诚。先检查等效（区间在 ±margin "
        "之内），再检查方向。",
        "Use the adjusted comparison, not the unadjusted one: longer-lived customers have more failures and may be "
        "more loyal for other reasons. Check equivalence (inside ±margin) first, then the direction.",
        Verdict(),
        _paradox,
        "d = result.recovery.paradox[\"nps\"][\"recovered_well\"].adjusted\n"
        "if (-d.margin < d.ci_low and d.ci_high < d.margin) or d.ci_high < 0:\n"
        "    answer = \"no\"\n"
        "elif d.ci_low > 0:\n"
        "    answer = \"yes\"\n"
        "else:\n"
        "    answer = \"can't tell\"",
    ),
    Exercise(
        "dual_interaction", "05_dual_proactivity_and_recovery", "连续交互项显著吗", "Is the continuous interaction "
        "significant?",
        "在第 2 节的调节模型中，交互项 x·w（`result.interaction.model.coefficients` 中 `term` 为 `\"x:w\"` 的行）在 5% "
        "水平上显著吗？答 `True` 或 `False`。",
        "In section 2's moderation model, is the interaction x·w (the row of `result.interaction.model.coefficients` "
        "whose `term` is `\"x:w\"`) significant at the 5% level? Answer `True` or `False`.",
        "你的判断与你的数据集中交互项的 p 值", "your answer against the p-value of the interaction in your dataset",
        "看 `x:w` 这一行的 `p_value` 是否小于 0.05，不是 `x` 或 `w` 的主效应。",
        "Look at whether the `p_value` of the `x:w` row is below 0.05 — not at the main effects `x` or `w`.",
        YesNo(),
        _interaction_significant,
        "row = result.interaction.model.coefficients.set_index(\"term\").loc[\"x:w\"]\n"
        "answer = bool(row[\"p_value\"] < 0.05)",
    ),
)

EXERCISES: dict[str, Exercise] = {e.id: e for e in _EXERCISES}
assert len(EXERCISES) == len(_EXERCISES) and all(e.notebook in NOTEBOOKS for e in _EXERCISES)


def for_notebook(notebook: str) -> list[Exercise]:
    """One notebook's exercises, in order (``notebook``: "01_nps" or "01_nps.ipynb")."""
    key = notebook.removesuffix(".ipynb")
    return [e for e in _EXERCISES if e.notebook == key]


def get(exercise_id: str) -> Exercise | None:
    return EXERCISES.get(exercise_id)
