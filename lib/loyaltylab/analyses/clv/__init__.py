"""Customer lifetime value (客户终身价值) from the churn survival model, LTV/CAC by segment, and contractual cohort
retention with the shifted-beta-geometric model (``sbg``)."""
from loyaltylab.analyses.clv.analysis import NOTEBOOK, Params, Result, analyze
from loyaltylab.analyses.clv.describe import captions, describe_sbg, describe_value
from loyaltylab.analyses.clv.explorer import explorer
from loyaltylab.analyses.clv.plots import plot_ltv_cac, plot_sbg
from loyaltylab.analyses.clv.sbg import summary_table as sbg_summary_table
from loyaltylab.analyses.clv.value import CustomerValue, customer_value

__all__ = [
    "NOTEBOOK", "Params", "Result", "analyze", "CustomerValue", "customer_value", "sbg_summary_table",
    "captions", "describe_value", "describe_sbg", "plot_ltv_cac", "plot_sbg", "explorer",
]
