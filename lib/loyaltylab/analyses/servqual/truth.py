"""The course data only: estimated vs true gaps (truth.json ``servqual``) with interval coverage, and the course's
improvement strategy for each dimension, shown beside the largest gaps."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .instrument import PZB_DIMENSIONS

STRATEGIES: dict[str, dict[str, str]] = {
    "tangibles": {"strategy": "facilities and materials", "zh": "改善设施与材料",
                  "actions": "modern equipment, clean and appealing facilities, neat staff, clear printed and digital "
                             "materials",
                  "actions_zh": "现代化的设备、整洁美观的设施、仪表整洁的员工、清晰的纸质与数字资料"},
    "reliability": {"strategy": "standardised processes", "zh": "流程标准化",
                    "actions": "service blueprints and standard operating procedures, doing it right the first time, "
                               "keeping promised times, error-free records",
                    "actions_zh": "服务蓝图与标准作业程序、第一次就把事情做对、按承诺的时间完成、记录准确无误"},
    "responsiveness": {"strategy": "resource allocation and training", "zh": "资源配置与培训",
                       "actions": "staffing for peaks, response-time standards, training and empowering front-line "
                                  "staff to act at once",
                       "actions_zh": "按高峰配置人手、制定响应时限标准、培训并授权一线员工当场解决问题"},
    "assurance": {"strategy": "staff expertise and credentials", "zh": "员工专业能力与资质",
                  "actions": "product and service training, certification, courteous and knowledgeable staff who "
                             "inspire trust",
                  "actions_zh": "产品与服务培训、资格认证、礼貌而专业、令人信赖的员工"},
    "empathy": {"strategy": "personalised care", "zh": "个性化关怀",
                "actions": "individual attention, convenient hours, knowing the customer's needs (CRM), having "
                           "the customer's interest at heart",
                "actions_zh": "对顾客的个别关注、方便的营业时间、了解顾客需求（CRM）、真正把顾客利益放在心上"},
}
"""The course's improvement strategy per SERVQUAL dimension (seed table)."""

TRUTH_COLUMNS = ["scope", "name", "n", "estimate", "ci_low", "ci_high", "true", "error", "covered"]


def applies(truth: Mapping | None, dimensions: Mapping, perception_prefix: str, expectation_prefix: str | None,
            filters: Mapping | None) -> bool:
    """The comparison means something only on the unfiltered course data read with the course's own instrument."""
    return bool(truth and "servqual" in truth and not filters and perception_prefix == "P"
                and expectation_prefix in ("E", None)
                and {d: tuple(str(i) for i in items) for d, items in dimensions.items()}
                == {d: tuple(str(i) for i in items) for d, items in PZB_DIMENSIONS.items()})


def truth_comparison(truth: Mapping, dimensions: pd.DataFrame, items: pd.DataFrame, overall: pd.DataFrame,
                     servqual: bool) -> pd.DataFrame:
    """Estimated vs true: the overall score, each dimension and each item (gaps in SERVQUAL mode, perceptions in
    SERVPERF mode), with whether the interval covers the true value. The truth is the population mean of the
    observed 1–7 answers (truth.json ``servqual``); the overall score's truth is the mean of the dimensions'."""
    t = truth["servqual"]
    key = "gap" if servqual else "perception"
    rows = []

    def add(scope, name, row, true):
        est = float(row["estimate"])
        rows.append({"scope": scope, "name": name, "n": int(row["n"]), "estimate": est, "ci_low": row["ci_low"],
                     "ci_high": row["ci_high"], "true": true, "error": est - true,
                     "covered": bool(row["ci_low"] <= true <= row["ci_high"]) if np.isfinite(est) else False})

    dim_truth = {d: float(v[key]) for d, v in t["dimensions"].items()}
    if len(overall) and set(dimensions["dimension"]) == set(dim_truth):
        add("overall", "all dimensions", overall.iloc[0], float(np.mean(list(dim_truth.values()))))
    for _, r in dimensions.iterrows():
        if r["dimension"] in dim_truth:
            add("dimension", r["dimension"], r, dim_truth[r["dimension"]])
    item_truth = t.get("items", {})
    for _, r in items.iterrows():
        p_true = item_truth.get(f"P{r['item']}")
        e_true = item_truth.get(f"E{r['item']}")
        if p_true is None or (servqual and e_true is None):
            continue
        add("item", str(r["item"]), r, float(p_true) - float(e_true) if servqual else float(p_true))
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS)


def strategy_table(dimensions: pd.DataFrame) -> pd.DataFrame:
    """The dimensions from the largest shortfall (most negative gap) down, each with the course's strategy."""
    d = dimensions.sort_values("estimate", kind="stable").reset_index(drop=True)
    return pd.DataFrame({
        "rank": np.arange(1, len(d) + 1), "dimension": d["dimension"], "estimate": d["estimate"],
        "strategy": [STRATEGIES.get(x, {}).get("strategy", "") for x in d["dimension"]],
        "strategy_zh": [STRATEGIES.get(x, {}).get("zh", "") for x in d["dimension"]],
        "actions": [STRATEGIES.get(x, {}).get("actions", "") for x in d["dimension"]],
    })
