"""Small example exports in data/examples/: what a Chinese firm's survey and CRM exports look like.

They are a course world (300 customers, seed 7) with Chinese headers and Chinese region names, so every README
command that brings "your own data" runs as written. ``python -m loyaltylab.examples`` rewrites them (byte-stable).
"""
from __future__ import annotations

import sys
from pathlib import Path

from loyaltylab import paths, synth

SURVEY_HEADERS = {"response_id": "问卷编号", "customer_id": "客户编号", "date": "日期", "nps": "推荐分",
                  "satisfaction": "满意度", "repurchase_intent": "复购意向", "comment": "评论"}
CUSTOMER_HEADERS = {"customer_id": "客户编号", "signup_date": "注册日期", "segment": "客户类型", "channel": "渠道",
                    "region": "地区", "monthly_revenue": "月收入", "acquisition_cost": "获客成本",
                    "churned": "是否流失", "churn_date": "流失日期", "tenure_days": "在网天数"}
REGIONS = {"North": "华北", "South": "华南", "East": "华东", "West": "西部", "Central": "华中"}
SEGMENTS = {"Basic": "基础版", "Standard": "标准版", "Premium": "高级版"}


def write_examples(out_dir: str | Path | None = None, n_customers: int = 300, seed: int = 7) -> list[Path]:
    """Write survey_zh.csv (UTF-8 with BOM, as Excel saves it) and customers_zh.csv into ``out_dir``."""
    out = Path(out_dir) if out_dir else paths.project_root() / "data" / "examples"
    world = synth.generate(n_customers=n_customers, seed=seed)
    keep = [c for c in world.survey.columns if c in SURVEY_HEADERS or c[:1] in "EP" and c[1:].isdigit()]
    survey = world.survey[keep].rename(columns=SURVEY_HEADERS)
    customers = world.customers[list(CUSTOMER_HEADERS)].copy()
    customers["region"] = customers["region"].astype(str).map(REGIONS)
    customers["segment"] = customers["segment"].astype(str).map(SEGMENTS)
    customers = customers.rename(columns=CUSTOMER_HEADERS)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("survey_zh.csv", survey), ("customers_zh.csv", customers)):
        target = out / name
        text = frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d")
        paths.write_atomic(target, "\ufeff" + text)
        written.append(target)
    return written


if __name__ == "__main__":
    for path in write_examples(sys.argv[1] if len(sys.argv) > 1 else None):
        print(paths.display_path(path))
