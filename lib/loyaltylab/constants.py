"""Shared vocabulary of the course: SERVQUAL dimensions, NPS categories, canonical table columns."""
from __future__ import annotations

# Parasuraman, Zeithaml & Berry (1988): 22 items in five dimensions.
DIMENSIONS: dict[str, dict] = {
    "tangibles": {"items": [1, 2, 3, 4], "en": "Tangibles", "zh": "有形性"},
    "reliability": {"items": [5, 6, 7, 8, 9], "en": "Reliability", "zh": "可靠性"},
    "responsiveness": {"items": [10, 11, 12, 13], "en": "Responsiveness", "zh": "响应性"},
    "assurance": {"items": [14, 15, 16, 17], "en": "Assurance", "zh": "保障性"},
    "empathy": {"items": [18, 19, 20, 21, 22], "en": "Empathy", "zh": "移情性"},
}
DIMENSION_NAMES = tuple(DIMENSIONS)
EXPECTATION_ITEMS = tuple(f"E{i}" for i in range(1, 23))
PERCEPTION_ITEMS = tuple(f"P{i}" for i in range(1, 23))
IMPORTANCE_COLUMNS = tuple(f"importance_{d}" for d in DIMENSIONS)

# NPS: promoters 9–10, passives 7–8, detractors 0–6.
PROMOTER_MIN = 9
DETRACTOR_MAX = 6
NPS_CATEGORIES = ("detractor", "passive", "promoter")

COMMENT_THEMES = (*DIMENSION_NAMES, "price")

CUSTOMERS_COLUMNS = (
    "customer_id", "signup_date", "segment", "channel", "region", "monthly_revenue", "acquisition_cost",
    "provider_proactive", "customer_proactive", "churned", "churn_date", "tenure_days",
)
SURVEY_COLUMNS = (
    "response_id", "customer_id", "date", "nps", "satisfaction", "repurchase_intent",
    *EXPECTATION_ITEMS, *PERCEPTION_ITEMS, *IMPORTANCE_COLUMNS, "comment", "language",
)
TRANSACTIONS_COLUMNS = ("customer_id", "date", "amount")
INCIDENTS_COLUMNS = (
    "customer_id", "date", "failure_type", "recovered", "recovery_hours", "recovery_satisfaction",
)
TABLE_COLUMNS = {
    "customers": CUSTOMERS_COLUMNS,
    "survey": SURVEY_COLUMNS,
    "transactions": TRANSACTIONS_COLUMNS,
    "incidents": INCIDENTS_COLUMNS,
}


def dimension_label(name: str, bilingual: bool = False) -> str:
    """'Reliability' for charts (fonts without CJK), 'Reliability (可靠性)' for narrative and tables."""
    d = DIMENSIONS[name]
    return f"{d['en']} ({d['zh']})" if bilingual else d["en"]

# The date that places each table's rows in time (for date ranges and period filters).
TABLES_DATE_COLUMNS = {"customers": "signup_date", "survey": "date", "transactions": "date", "incidents": "date"}
