"""The overview in sentences, in the notebook's language (:func:`loyaltylab.i18n.t`: each sentence written in
English and Chinese side by side). Every data-derived string (column names, table names, segment values) goes
through :func:`loyaltylab.narrative.esc`; numbers through the narrative formats, the same in both languages."""
from __future__ import annotations

import pandas as pd

from loyaltylab import i18n, privacy
from loyaltylab.analyses.overview.tables import SEGMENT_COLUMNS_ZH, TABLE_NAMES_ZH, quality_warnings
from loyaltylab.constants import DIMENSIONS, dimension_label
from loyaltylab.narrative import count, esc, number, percent, signed

HISTOGRAM_LABELS = {"tenure_days": "tenure", "monthly_revenue": "monthly revenue"}
HISTOGRAM_LABELS_ZH = {"tenure_days": "在网时长", "monthly_revenue": "月收入"}


def _table_zh(name) -> str:
    return TABLE_NAMES_ZH.get(name, f" {esc(name)} 表")


def key_findings(result) -> list[str]:
    """The overview's key findings in words, built from the computed summary (no hand-written numbers)."""
    rows = result.rows
    summary = result.summary.set_index("table")
    survey = summary.loc["survey"] if "survey" in rows else None
    gap = result.missing.sort_values("pct", kind="stable").iloc[-1] if len(result.missing) else None
    n_warn = len(result.warnings)
    n_customers, n_responses = count(rows.get("customers", 0)), count(rows.get("survey", 0))
    n_transactions, n_incidents = count(rows.get("transactions", 0)), count(rows.get("incidents", 0))
    if survey is not None and pd.notna(survey.first_date):
        first, last = f"{survey.first_date:%Y-%m-%d}", f"{survey.last_date:%Y-%m-%d}"
        dates = i18n.t(f"Survey responses run from {first} to {last}.", f"问卷回答的时间范围为 {first} 至 {last}。")
    else:
        dates = i18n.t("The survey table has no dates.", "问卷表中没有日期。")
    if gap is not None:
        column = esc(gap["column"])
        missing = i18n.t(
            f"{len(result.missing)} columns have missing values; the largest share is <code>{column}</code> "
            f"in {esc(gap['table'])} ({gap['pct']:.0f}%).",
            f"{len(result.missing)} 列存在缺失值；缺失比例最高的是{_table_zh(gap['table'])}中的 <code>{column}</code>"
            f"（{gap['pct']:.0f}%）。",
        )
    else:
        missing = i18n.t("No missing values.", "没有缺失值。")
    return [
        i18n.t(f"{n_customers} customers, {n_responses} survey responses, "
               f"{n_transactions} transactions and {n_incidents} service incidents.",
               f"共有 {n_customers} 位客户、{n_responses} 份问卷回答、{n_transactions} 笔交易和 {n_incidents} 起服务失误。"),
        dates,
        missing,
        (i18n.t(f"{n_warn} data-quality warning(s): read them below before analysing.",
                f"{n_warn} 条数据质量提示：分析之前请先阅读下方的提示。") if n_warn
         else i18n.t("No data-quality warnings.", "没有数据质量提示。")),
    ]


def describe_warnings(result) -> list[str]:
    """The data-quality warnings as a list in the current language (their sentences hold numbers and fixed words
    only; worded again from the data so that they read in the language the notebook shows)."""
    warnings = list(result.warnings)
    if warnings and i18n.current() != "en":
        worded = quality_warnings(result.data, result.min_cell)
        warnings = worded if len(worded) == len(warnings) else warnings
    return warnings or [i18n.t("No data-quality warnings.", "没有数据质量提示。")]


def _hidden(table: pd.DataFrame | None) -> int:
    return 0 if table is None else int(table["suppressed"].astype(bool).sum())


def describe_distributions(result) -> list[str]:
    """What the NPS answers and the SERVQUAL means show."""
    lines = []
    dist = result.nps_distribution
    if dist is not None:
        hidden = _hidden(dist)
        shown = privacy.visible(dist)
        top = shown.loc[shown["n"].astype("float64").idxmax()] if shown["n"].notna().any() else None
        if top is not None:
            score, share = int(top["score"]), number(top["pct"], 1)
            en = f"The most frequent answer is {score} ({share}% of responses)."
            zh = f"最常见的回答是 {score} 分（占全部回答的 {share}%）。"
        else:
            en, zh = "No NPS answers to show.", "没有可显示的 NPS 回答。"
        if hidden:
            en += (f" {hidden} score(s) are hidden, exactly as in the NPS report: fewer than {result.min_cell} "
                   "respondents gave them, or they protect a score that few gave.")
            zh += (f"有 {hidden} 个分值被隐藏，与 NPS 报告完全一致：给出这些分值的受访者少于 {result.min_cell} 人，"
                   "或隐藏它们是为了保护另一个很少有人给出的分值。")
        lines.append(i18n.t(en, zh))
    means = result.dimension_means
    if means is not None and len(privacy.visible(means)):
        shown = privacy.visible(means).assign(gap=lambda t: t["perception"] - t["expectation"])
        worst = shown.loc[shown["gap"].idxmin()]
        short = int((shown["gap"] < 0).sum())
        gap = signed(worst["gap"], 2)
        dim = worst["dimension"]
        dim_zh = DIMENSIONS[dim]["zh"] if dim in DIMENSIONS else esc(dim)
        lines.append(i18n.t(
            f"Perception falls short of expectation in {short} of {len(shown)} SERVQUAL dimensions; the largest "
            f"gap is {dimension_label(dim, bilingual=True)}: {gap} on the 1–7 scale.",
            f"在 {len(shown)} 个 SERVQUAL 维度中，有 {short} 个维度的感知低于期望；差距最大的是{dim_zh}："
            f"在 1–7 分量表上为 {gap}。",
        ))
    return lines or [i18n.t("The survey has no NPS scores or SERVQUAL items to show.",
                            "问卷中没有可显示的 NPS 分数或 SERVQUAL 题项。")]


def describe_histograms(result) -> list[str]:
    """How many histogram bars are hidden, per column."""
    lines = []
    for col, table in result.histograms.items():
        label = HISTOGRAM_LABELS.get(col, esc(col))
        label_zh = HISTOGRAM_LABELS_ZH.get(col, f" {esc(col)} ")
        hidden = _hidden(table)
        if hidden:
            lines.append(i18n.t(
                f"{hidden} of {len(table)} {label} bars hold fewer than {result.min_cell} customers (or "
                "would let one be worked out from the total) and are not drawn.",
                f"{label_zh}直方图的 {len(table)} 个柱中，有 {hidden} 个少于 {result.min_cell} 位客户"
                "（或可由总数反推出其人数），未予绘出。",
            ))
        else:
            lines.append(i18n.t(f"Every {label} bar holds at least {result.min_cell} customers or none.",
                                f"{label_zh}直方图的每个柱要么至少有 {result.min_cell} 位客户，要么为空。"))
    return lines or [i18n.t("The customers table has no tenure or revenue column.", "客户表中没有在网时长或收入列。")]


def _by_zh(col) -> str:
    return f"按{SEGMENT_COLUMNS_ZH[col]}" if col in SEGMENT_COLUMNS_ZH else f"按 {esc(col)} "


def describe_segments(result) -> list[str]:
    """The largest level of each segment column and how many levels are suppressed."""
    lines = []
    for col, table in result.segments.items():
        shown = privacy.visible(table)
        hidden = _hidden(table)
        if len(shown) and shown["n"].notna().any():
            top = shown.loc[shown["n"].astype("float64").idxmax()]
            value, n, share = esc(top["value"]), count(top["n"]), percent(top["pct"] / 100)
            en = f"By {esc(col)}: the largest group is {value} ({n} customers, {share})."
            zh = f"{_by_zh(col)}划分：最大的组是 {value}（{n} 位客户，占 {share}）。"
        else:
            en = f"By {esc(col)}: every group is suppressed."
            zh = f"{_by_zh(col)}划分：所有组均已抑制。"
        if hidden:
            en += f" {hidden} group(s) are suppressed (fewer than {result.min_cell} customers, or complementary)."
            zh += f"有 {hidden} 个组已抑制（客户少于 {result.min_cell} 位，或为互补抑制）。"
        lines.append(i18n.t(en, zh))
    return lines or [i18n.t("None of the segment columns is in the customers table.", "客户表中没有任何一个细分列。")]


def suppression_notes(result) -> list[str]:
    """Notes for results.json: what was hidden (no data-derived text)."""
    notes = []
    hidden = _hidden(result.nps_distribution)
    if hidden:
        notes.append(i18n.t(
            f"NPS score distribution: {hidden} score(s) hidden (fewer than min_cell={result.min_cell} "
            "respondents, or complementary), exactly as in the NPS report.",
            f"NPS 分值分布：{hidden} 个分值已隐藏（受访者少于 min_cell={result.min_cell} 人，或为互补抑制），"
            "与 NPS 报告完全一致。",
        ))
    for col, table in result.histograms.items():
        if _hidden(table):
            notes.append(i18n.t(f"Histogram of {HISTOGRAM_LABELS.get(col, col)}: {_hidden(table)} bar(s) hidden.",
                                f"{HISTOGRAM_LABELS_ZH.get(col, col)}直方图：{_hidden(table)} 个柱已隐藏。"))
    if any(_hidden(t) for t in result.segments.values()):
        notes.append(i18n.t("Segment sizes: groups below min_cell and their complementary groups are hidden.",
                            "细分规模：少于 min_cell 的组及其互补组已隐藏。"))
    return notes


def explorer_off_note() -> str:
    """What the static report says in place of the interactive explorer."""
    return i18n.t("Interactive explorer off (`interactive=False`): the charts above are the static view.",
                  "交互式浏览器已关闭（`interactive=False`）：上方图表即为静态视图。")
