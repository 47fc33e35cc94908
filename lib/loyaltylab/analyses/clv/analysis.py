"""Customer lifetime value (客户终身价值) and contractual cohort retention (sBG): parameters, pipeline, result.

CLV needs a survival model. It reuses the churn analysis: ``analyze(params, churn_result=result)`` takes the churn
result the notebook already computed — its prepared data, its AFT fits and, when proportional hazards had to be
remedied, its stratified Cox model — so nothing is fitted twice. Without ``churn_result`` it runs the churn analysis
itself on the same parameters (``Params`` extends the churn parameters).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from loyaltylab import loaders, params, paths, results
from loyaltylab.analyses import churn
from loyaltylab.analyses.base import AnalysisResult
from loyaltylab.analyses.churn.analysis import example_parameters as churn_example_parameters
from loyaltylab.analyses.churn.data import role_columns, with_roles
from loyaltylab.analyses.clv import describe, sbg
from loyaltylab.analyses.clv.value import CustomerValue, customer_value

NOTEBOOK = churn.NOTEBOOK
NOTEBOOK_ONLY = ("language", "interactive", "output_dir")
SBG_PERIODS = 12                 # periods shown in the sBG projection


@dataclass(frozen=True)
class Params(churn.Params):
    """The churn parameters (for the survival model) plus the value and cohort parameters."""

    revenue_col: str | None = params.field("monthly_revenue", params.optional_column)
    margin: float = params.field(0.3, params.share)
    discount_rate: float = params.field(0.10, params.rate)
    acquisition_cost_col: str | None = params.field("acquisition_cost", params.optional_column)
    cohort_retention_path: str | None = params.field(None, params.path)
    cohort_period: str = params.field("year", params.choice(*sbg.PERIODS_PER_YEAR))


def example_parameters(files: dict) -> dict:
    """The churn example plus the course-named revenue and acquisition-cost columns (no cohort table)."""
    return churn_example_parameters(files)


@dataclass(frozen=True)
class Result(AnalysisResult):
    """Value per customer and segment (``value``, None without a revenue column) and the sBG fits per cohort."""

    params: Params
    churn: churn.Result
    value: CustomerValue | None
    sbg_fits: tuple[sbg.SBGFit, ...] = ()
    sbg_skipped: tuple[str, ...] = ()
    cohort_rate: float = 0.10          # the annual discount rate per cohort period
    cohort_source: str | None = None   # the cohort table as reports show it

    analysis = "clv"

    def inputs(self) -> dict[str, str]:
        out = {"customers": self.churn.customers.path}
        if self.cohort_source is not None:
            out["cohort_retention"] = self.cohort_source
        return out

    def results_content(self) -> dict:
        """results.json's ``clv`` and ``sbg`` keys (the churn notebook's document carries them too)."""
        v = self.value
        clv = {
            "unit": "months",
            "mean_remaining_lifetime": v.mean_remaining_lifetime if v else None,
            "mean_clv": v.mean_clv if v else None,
            "model": v.model if v else None,
            "ltv_cac_by_segment": ([{"value": r["value"], "n": r["n"], "ltv_cac": r["ltv_cac"],
                                     "meets_target": r["meets_target"], "suppressed": bool(r["suppressed"])}
                                    for r in v.by_segment.to_dict(orient="records")] if v else []),
        }
        cohorts = [self._cohort(f) for f in self.sbg_fits]
        return {"clv": clv, "sbg": {**cohorts[0], "cohorts": cohorts} if cohorts else None}

    def _cohort(self, f: sbg.SBGFit) -> dict:
        proj = sbg.project(f, SBG_PERIODS)
        return {"cohort": f.cohort, "alpha": f.alpha, "beta": f.beta,
                "projection": [{"period": int(p), "expected_pct": e, "observed_pct": o}
                               for p, e, o in zip(proj["period"], proj["expected_pct"], proj["observed_pct"])],
                "derl": sbg.derl(f.alpha, f.beta, self.cohort_rate, renewals=f.n_periods),
                "del": sbg.discounted_expected_lifetime(f.alpha, f.beta, self.cohort_rate)}

    def projections(self) -> dict[str, pd.DataFrame]:
        return {f.cohort: sbg.project(f, SBG_PERIODS) for f in self.sbg_fits}

    def headline(self) -> dict:
        v = self.value
        return {"Mean CLV (active customers)": v.mean_clv if v else None,
                "Mean remaining lifetime (months)": v.mean_remaining_lifetime if v else None,
                "Cohorts fitted (sBG)": len(self.sbg_fits)}

    def key_findings(self) -> list[str]:
        return describe.key_findings(self)

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {}
        if self.value is not None:
            out["clv_by_segment"] = self.value.by_segment
        if self.sbg_fits:
            out["sbg"] = sbg.summary_table(self.sbg_fits, self.cohort_rate)
        return out

    def to_results(self) -> dict:
        return results.document("clv", params=self.params.as_dict(), inputs=self.inputs(), headline=self.headline(),
                                headline_order=list(self.headline()), tables=self.tables(),
                                notes=describe.notes(self), **self.results_content())


def analyze(params: Params, churn_result: churn.Result | None = None) -> Result:
    """CLV and the sBG cohorts. ``churn_result``: the churn analysis already run on the same churn parameters (its
    survival models are reused); None runs it here."""
    if churn_result is None:
        customers = loaders.load_customers(params.customers_path, filters=params.filters, encoding=params.encoding,
                                           sheet=params.sheet, min_cell=params.min_cell, id_columns=(params.id_col,))
        # the value columns are checked before the survival models are fitted
        role_columns(customers.frame, customers.frame.index,
                     {"revenue": params.revenue_col, "acquisition_cost": params.acquisition_cost_col},
                     customers.source)
        churn_result = churn.analyze_customers(customers, params.churn_params())
    elif churn_result.params != params.churn_params():
        raise ValueError("churn_result was computed with other churn parameters than params")
    sd = with_roles(churn_result.data_for_models, churn_result.customers.frame, revenue=params.revenue_col,
                    acquisition_cost=params.acquisition_cost_col)
    value = customer_value(churn_result.aft, sd, margin=params.margin, discount_rate=params.discount_rate,
                           min_cell=params.min_cell, cox=churn_result.remedy)
    fits, skipped, cohort_source = (), (), None
    cohort_rate = sbg.period_rate(params.discount_rate, params.cohort_period)
    if params.cohort_retention_path:
        cohort_file = paths.resolve_input(params.cohort_retention_path, "customers")
        cohort_source = paths.display_path(cohort_file)
        table = sbg.read_cohort_table(cohort_file, encoding=params.encoding, sheet=params.sheet)
        fits = tuple(sbg.fit_cohorts(table, source=cohort_source))
        skipped = tuple(sbg.skipped_cohorts(table))
    return Result(params, churn_result, value, fits, skipped, cohort_rate, cohort_source)
