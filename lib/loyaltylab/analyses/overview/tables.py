"""The overview's tables: one row per table, missing values, segment sizes (suppressed), data-quality warnings."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from loyaltylab import i18n, privacy
from loyaltylab.constants import PERCEPTION_ITEMS, TABLES_DATE_COLUMNS

MISSING_LEVEL = "(missing)"
TABLE_NAMES_ZH = {"customers": "客户表", "survey": "问卷表", "transactions": "交易表", "incidents": "服务失误表"}
SEGMENT_COLUMNS_ZH = {"segment": "细分市场", "channel": "渠道", "region": "地区"}


def table_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per table: rows, columns, missing cells, first and last date."""
    rows = []
    for name, df in tables.items():
        date_col = TABLES_DATE_COLUMNS.get(name)
        dates = df[date_col] if date_col in df else pd.Series(dtype="datetime64[ns]")
        rows.append(
            {
                "table": name,
                "rows": len(df),
                "columns": df.shape[1],
                "missing_cells": int(df.isna().sum().sum()),
                "first_date": dates.min() if len(dates) else pd.NaT,
                "last_date": dates.max() if len(dates) else pd.NaT,
            }
        )
    return pd.DataFrame(rows, columns=["table", "rows", "columns", "missing_cells", "first_date", "last_date"])


def missing_values(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Columns with missing values, with the share missing (structural gaps included, e.g. churn_date of actives)."""
    rows = []
    for name, df in tables.items():
        counts = df.isna().sum()
        for col, n in counts[counts > 0].items():
            rows.append({"table": name, "column": col, "missing": int(n), "pct": 100.0 * n / max(len(df), 1)})
    return pd.DataFrame(rows, columns=["table", "column", "missing", "pct"])


def segment_sizes(customers: pd.DataFrame, columns: Sequence[str], min_cell: int) -> dict[str, pd.DataFrame]:
    """Customers per level of each segment column, small groups suppressed (count hidden, complementary)."""
    out = {}
    for col in columns:
        if col not in customers:
            continue
        counts = customers[col].fillna(MISSING_LEVEL).astype(str).value_counts().sort_index()
        table = pd.DataFrame({"value": counts.index, "n": counts.to_numpy()})
        table["pct"] = 100.0 * table["n"] / max(len(customers), 1)
        out[col] = privacy.suppress(table, n_col="n", min_cell=min_cell, value_cols=["pct"], hide_counts=True)
    return out


def segment_tables(result) -> dict[str, pd.DataFrame]:
    """The segment-size tables with the caption each is shown under (``Customers by <column>``; the caption is
    escaped where it is shown)."""
    return {i18n.t(f"Customers by {col}", f"按{SEGMENT_COLUMNS_ZH.get(col, f' {col} ')}划分的客户"): table
            for col, table in result.segments.items()}


def _survey_warnings(survey: pd.DataFrame, customers: pd.DataFrame | None) -> list[str]:
    warnings = []
    if customers is not None and "customer_id" in survey and "customer_id" in customers:
        orphans = ~survey["customer_id"].isin(customers["customer_id"])
        if orphans.any():
            warnings.append(i18n.t(f"{orphans.sum():,} survey responses belong to customers not in the customers table.",
                                   f"{orphans.sum():,} 份问卷回答所属的客户不在客户表中。"))
    items = [c for c in PERCEPTION_ITEMS if c in survey]
    if items:
        values = survey[items].dropna().to_numpy()
        straight = int((values.max(axis=1) == values.min(axis=1)).sum()) if len(values) else 0
        if straight:
            warnings.append(i18n.t(
                f"{straight:,} responses give the same answer to all {len(items)} perception items "
                "(straight-lining); consider excluding them from SERVQUAL analyses.",
                f"{straight:,} 份回答对全部 {len(items)} 个感知题项给出了同一个答案（直线作答）；"
                "做 SERVQUAL 分析时可考虑将其剔除。",
            ))
    if "nps" in survey:
        blank = survey["nps"].isna().sum()
        if blank:
            warnings.append(i18n.t(f"{blank:,} responses have no NPS score; NPS analyses drop them.",
                                   f"{blank:,} 份回答没有 NPS 分数；NPS 分析会将其剔除。"))
    if {"customer_id", "date"} <= set(survey.columns):
        dup = survey.duplicated(["customer_id", "date"]).sum()
        if dup:
            warnings.append(i18n.t(
                f"{dup:,} responses repeat a customer on the same date (possible double submission).",
                f"{dup:,} 份回答是同一客户在同一天的重复回答（可能是重复提交）。"))
    return warnings


def _customer_warnings(customers: pd.DataFrame, min_cell: int) -> list[str]:
    warnings = []
    if "segment" in customers:
        small = customers["segment"].value_counts()
        small = small[small < min_cell]
        if len(small):
            warnings.append(i18n.t(f"{len(small)} segment(s) have fewer than {min_cell} customers and are suppressed.",
                                   f"{len(small)} 个细分市场的客户少于 {min_cell} 位，已作抑制处理。"))
    if {"churned", "churn_date"} <= set(customers.columns):
        no_date = ((customers["churned"] == 1) & customers["churn_date"].isna()).sum()
        if no_date:
            warnings.append(i18n.t(f"{no_date:,} churned customers have no churn date.",
                                   f"{no_date:,} 位已流失客户没有流失日期。"))
    if "tenure_days" in customers:
        short = (customers["tenure_days"] < 30).mean()
        if short > 0.2:
            warnings.append(i18n.t(
                f"{short:.0%} of customers have under 30 days of tenure: early-life churn dominates.",
                f"{short:.0%} 的客户在网时长不足 30 天：早期流失占主导。"))
    return warnings


def quality_warnings(tables: Mapping[str, pd.DataFrame], min_cell: int) -> list[str]:
    """Plain-language data-quality warnings a user should read before trusting an analysis.

    The sentences hold only numbers and fixed words (table names are the four canonical ones), never a value or
    column name from the data, so they need no escaping; they are written in the current language
    (:mod:`loyaltylab.i18n`), and an English run's results.json keeps them as they always read.
    """
    customers = tables.get("customers")
    survey = tables.get("survey")
    warnings: list[str] = []
    if survey is not None:
        warnings += _survey_warnings(survey, customers)
    if customers is not None:
        warnings += _customer_warnings(customers, min_cell)
    for name, df in tables.items():
        if len(df) == 0:
            warnings.append(i18n.t(f"The {name} table has no rows.", f"{TABLE_NAMES_ZH.get(name, name)}没有任何数据行。"))
    return warnings
