"""Survival-based churn (生存分析): Kaplan–Meier, log-rank, Cox, AFT, validation, early warning and its backtest.

The notebook's surface is below; the estimators live in ``data``, ``km``, ``cox``, ``ph``, ``models``,
``baseline``, ``aft``, ``validation``, ``warning``, ``survey_signal`` (the last NPS answer as a churn predictor)
and ``truth``; R's survival statistics they report come from
``loyaltylab.stats.survival`` and ``loyaltylab.stats.ph_test``. Customer lifetime value and the sBG cohort model are
the ``clv`` analysis.
"""
from loyaltylab.analyses.churn.aft import aft_vs_cox
from loyaltylab.analyses.churn.analysis import NOTEBOOK, Params, Result, analyze, analyze_customers
from loyaltylab.analyses.churn.cox import tests_table
from loyaltylab.analyses.churn.data import policy_table
from loyaltylab.analyses.churn.describe import (
    captions,
    coefficient_table,
    describe_aft,
    describe_backtest,
    describe_cox,
    describe_data,
    describe_km,
    describe_logrank,
    describe_nps,
    describe_ph,
    describe_ph_plot,
    describe_truth,
    describe_validation,
    describe_warning,
    describe_warning_intro,
    key_findings,
)
from loyaltylab.analyses.churn.explorer import explorer, explorer_segments
from loyaltylab.analyses.churn.km import logrank_table
from loyaltylab.analyses.churn.plots import (
    plot_backtest,
    plot_hazard_ratios,
    plot_km,
    plot_nps_survival,
    plot_ph_residuals,
    plot_risk_distribution,
    plot_truth,
    plot_validation,
)
from loyaltylab.analyses.churn.survey_signal import nps_table
from loyaltylab.analyses.churn.validation import metrics_table
from loyaltylab.analyses.churn.warning import remove_action_list, risk_factor_table, write_action_list

__all__ = [
    "NOTEBOOK", "Params", "Result", "analyze", "analyze_customers",
    "policy_table", "logrank_table", "coefficient_table", "tests_table", "aft_vs_cox", "metrics_table",
    "risk_factor_table", "write_action_list", "remove_action_list", "nps_table",
    "captions", "key_findings", "describe_data", "describe_km", "describe_logrank", "describe_cox", "describe_ph",
    "describe_ph_plot", "describe_aft", "describe_validation", "describe_warning_intro", "describe_warning",
    "describe_backtest", "describe_nps", "describe_truth",
    "plot_km", "plot_hazard_ratios", "plot_ph_residuals", "plot_validation", "plot_backtest",
    "plot_risk_distribution", "plot_truth", "plot_nps_survival",
    "explorer", "explorer_segments",
]
