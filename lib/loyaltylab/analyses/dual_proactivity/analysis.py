"""Dual proactivity (服务营销双主动, "1+1>2") and service recovery (服务补救): notebook 05's analysis.

``analyze(Params(...))`` reads the files (data.py), fits the moderation model and the 2×2 (interaction.py), retention
by the four cells and the Cox interaction (retention.py), the slides' claims (claims.py, course data only), the
recovery statuses, the paradox test and double deviation (recovery.py) and churn by failure status with a
time-varying status (hazard.py), and, on the course data, compares with the truth (truth.py). Sections whose table
is missing are skipped with a note.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from loyaltylab import params, privacy, results
from loyaltylab.analyses.base import AnalysisResult, standard_table
from loyaltylab.errors import ParameterError
from loyaltylab.stats.moderation import COV_TYPES

from . import claims as claims_mod
from . import data as data_mod
from . import hazard as hazard_mod
from . import interaction as interaction_mod
from . import recovery as recovery_mod
from . import retention as retention_mod
from . import truth as truth_mod
from .data import DualData

NOTEBOOK = "05_dual_proactivity_and_recovery.ipynb"
NOTEBOOK_ONLY = ("language", "interactive", "output_dir")
ANALYSIS = "dual_proactivity"
_check_cov_type = params.choice(None, *COV_TYPES, aliases={"CR1": "cluster", "OLS": "nonrobust"})


@dataclass(frozen=True)
class Params(params.Params):
    """The parameters of notebook 05 (same names and defaults), checked before any file is read."""

    survey_path: str | None = params.field(None, params.path)
    customers_path: str | None = params.field(None, params.path)
    incidents_path: str | None = params.field(None, params.path)
    x: str = params.field("provider_proactive", params.column)
    moderator: str = params.field("customer_proactive", params.column)
    outcome: str = params.field("nps", params.column)
    controls: tuple[str, ...] = params.field((), params.columns)
    x_cut: float | None = params.field(None, params.optional_number)
    moderator_cut: float | None = params.field(None, params.optional_number)
    cluster_col: str | None = params.field("customer_id", params.optional_column)
    cov_type: str | None = params.field(None, _check_cov_type)
    date_col: str | None = params.field("date", params.optional_column)
    tenure_col: str | None = params.field("tenure_days", params.optional_column)
    churn_col: str | None = params.field("churned", params.optional_column)
    signup_col: str | None = params.field("signup_date", params.optional_column)
    churn_controls: tuple[str, ...] = params.field(("segment", "channel"), params.columns)
    horizon_months: float = params.field(12.0, params.positive)
    adjust_for: tuple[str, ...] = params.field(("tenure_days", "segment"), params.columns)
    well_max_hours: float = params.field(24.0, params.positive)
    well_min_satisfaction: float = params.field(6.0, params.positive)
    margin_nps: float = params.field(5.0, params.positive)
    margin_scale: float = params.field(0.25, params.positive)
    satisfied_min: float = params.field(5.0, params.positive)
    min_cell: int = params.field(privacy.DEFAULT_MIN_CELL, params.min_cell)
    confidence: float = params.field(0.95, params.confidence)
    filters: dict | None = params.field(None, params.mapping)
    encoding: str | None = params.field(None, params.encoding)
    sheet: str | int | None = params.field(None, params.sheet)

    def check_together(self) -> None:
        if self.x == self.moderator:
            raise ParameterError("moderator", self.moderator, "must differ from x")
        if self.outcome in (self.x, self.moderator):
            raise ParameterError("outcome", self.outcome, "must differ from x and the moderator")
        clash = [c for c in self.controls if c in (self.x, self.moderator, self.outcome)]
        if clash:
            raise ParameterError("controls", list(self.controls), f"must not repeat x, the moderator or the "
                                 f"outcome ({clash[0]})")
        if self.cov_type == "cluster" and not self.cluster_col:
            raise ParameterError("cov_type", self.cov_type, "needs cluster_col (who answered)")


def example_parameters(files: Mapping) -> dict:
    """The parameters that run this analysis on the contract test's tiny user-shaped data set."""
    segment = files["segment_col"]
    return {"survey_path": str(files["survey"]), "customers_path": str(files["customers"]),
            "incidents_path": str(files["incidents"]), "controls": [segment], "churn_controls": [segment, "channel"],
            "adjust_for": ["tenure_days", segment]}


@dataclass(frozen=True)
class Result(AnalysisResult):
    """Everything notebook 05 shows, computed once by :func:`analyze`. ``retention``, ``claims`` and ``recovery``
    are None when skipped (``skipped`` says why); ``claims`` only on the course data."""

    params: Params
    data: DualData
    interaction: interaction_mod.Interaction
    x_cut: float
    w_cut: float
    retention: retention_mod.Retention | None
    claims: pd.DataFrame | None
    recovery: recovery_mod.Recovery | None
    truth: pd.DataFrame | None
    skipped: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    analysis = ANALYSIS

    @property
    def is_course(self) -> bool:
        return self.data.is_course

    def headline(self) -> dict:
        from .content import headline

        return headline(self)

    def headline_order(self) -> list[str]:
        from .content import HEADLINE_ORDER

        return [k for k in HEADLINE_ORDER if k in self.headline()]

    def tables(self) -> dict[str, pd.DataFrame]:
        return tables(self)

    def key_findings(self) -> list[str]:
        from .describe import key_findings

        return key_findings(self)

    def to_results(self) -> dict:
        from .content import content

        doc_params = self.params.as_dict()
        return results.document(ANALYSIS, params=doc_params, inputs=self.data.inputs, headline=self.headline(),
                                headline_order=self.headline_order(), tables=self.tables(),
                                notes=list(self.notes) + [f"{k}: {v}" for k, v in self.skipped.items()],
                                **content(self))


# --- running it ------------------------------------------------------------------------------------------------


def _cuts(d: DualData, p: Params) -> tuple[float, float]:
    def pick(given, column):
        if given is not None:
            return float(given)
        if d.customers is not None and column in d.customers:
            return interaction_mod.default_cut(d.customers[column])
        return interaction_mod.default_cut(d.responses[column])

    return pick(p.x_cut, p.x), pick(p.moderator_cut, p.moderator)


def _retention(d: DualData, p: Params, sd, x_cut: float, w_cut: float, skipped: dict):
    if sd is None:
        return None
    missing = [f"{col} ({name})" for col, name in ((p.x, "x"), (p.moderator, "moderator"))
               if col not in sd.base] + [f"{col} (churn_controls)" for col in p.churn_controls if col not in sd.base]
    if missing:
        skipped["retention"] = f"the customers file has no column {', '.join(missing)}"
        return None
    return retention_mod.analyze_retention(sd, p, d.sources["customers"], x_cut, w_cut)


def _recovery(d: DualData, p: Params, sd, ret, skipped: dict):
    if d.incidents is None:
        skipped["recovery"] = "no incidents file"
        return None
    if data_mod.CUSTOMER not in d.responses:
        skipped["recovery"] = "the survey has no customer_id to link responses to incidents"
        return None
    r = d.responses
    status = recovery_mod.classify(d.universe, d.incidents, p.well_max_hours, p.well_min_satisfaction)
    adjust_cols = [a for a in p.adjust_for if a in r]
    notes = [f"adjust_for column {a} not found: not adjusted for it" for a in p.adjust_for if a not in r]
    frame = recovery_mod.loyalty_frame(r, status)
    if data_mod.DATE not in r:
        notes.append("the survey has no date column: every response counts, not only those after the failure")
    quality = recovery_mod.incident_quality(d.incidents, p.well_max_hours, p.well_min_satisfaction)
    speed, slope = recovery_mod.speed_curve(d.incidents, p.confidence, p.min_cell)
    tests = recovery_mod.paradox_tests(frame, adjust_cols, {"nps": p.margin_nps, "scale": p.margin_scale},
                                       p.confidence, p.min_cell)
    hz = None
    if sd is not None and p.signup_col and p.signup_col in d.customers:
        init = dict(zip(ret.cox["covariate"], ret.cox["coef"])) if ret is not None and ret.cox is not None else None
        hz = hazard_mod.hazard_by_status(d.customers, d.incidents, sd, p, d.sources["customers"], init)
    else:
        skipped["churn by failure status"] = ("needs the customers file with tenure_col, churn_col and signup_col "
                                              "(to place incidents on each lifetime)")
    n_inc = len(d.incidents)
    return recovery_mod.Recovery(
        status=status, status_counts=recovery_mod.status_counts(status, p.min_cell),
        by_type=recovery_mod.by_type(d.incidents, quality, p.confidence, p.min_cell), speed=speed,
        speed_slope=slope, groups=recovery_mod.group_loyalty(frame, p.confidence, p.min_cell), paradox=tests,
        paradox_table=recovery_mod.paradox_table(tests), double=frame.loc[frame["double"]], incidents_n=n_inc,
        well_per_incident=float((quality == 0).mean()) if n_inc else float("nan"),
        recovered_share=float((d.incidents["recovered"] == 1).mean()) if n_inc else float("nan"),
        after_rule="after the first incident" if data_mod.DATE in r else "all responses", notes=tuple(notes),
        hazard=hz)


def _survival(d: DualData, p: Params, skipped: dict):
    """The customers' lifetimes with one design for both Cox models (x, moderator, their product, the churn
    controls; the adjust_for columns), or None with the reason in ``skipped``."""
    c = d.customers
    if c is None:
        skipped["retention"] = "no customers file, so no customer lifetimes"
        return None
    if not (p.tenure_col and p.churn_col):
        skipped["retention"] = "tenure_col / churn_col not set"
        return None
    missing = [f"{col} ({name})" for col, name in ((p.tenure_col, "tenure_col"), (p.churn_col, "churn_col"))
               if col not in c]
    if missing:
        skipped["retention"] = f"the customers file has no column {', '.join(missing)}"
        return None
    return retention_mod.survival_data(c, p, d.sources["customers"], d.truth)


def run(d: DualData, p: Params) -> Result:
    """Every section on loaded data (sections without their table skipped, with the reason in ``skipped``)."""
    skipped: dict = {}
    x_cut, w_cut = _cuts(d, p)
    it = interaction_mod.fit_interaction(d.responses, p, x_cut, w_cut)
    sd = _survival(d, p, skipped)
    ret = _retention(d, p, sd, x_cut, w_cut, skipped)
    claims = (claims_mod.claims_table(d.responses, ret, p.x, p.moderator, x_cut, w_cut, p.satisfied_min,
                                      p.confidence, p.min_cell) if d.is_course else None)
    rec = _recovery(d, p, sd, ret, skipped)
    result = Result(p, d, it, x_cut, w_cut, ret, claims, rec, None, skipped,
                    tuple(d.notes) + it.notes + (ret.notes if ret else ()) + (rec.notes if rec else ())
                    + (rec.hazard.notes if rec and rec.hazard else ()))
    return replace(result, truth=truth_mod.compare_with_truth(result))


def load(p: Params) -> DualData:
    """The survey, customers and incidents as ``p`` says (see data.py)."""
    return data_mod.load(p)


def analyze(p: Params | Mapping | None = None) -> Result:
    """Check the parameters (before any file is read), read the files and run everything: the notebook's one call."""
    if p is None or isinstance(p, Mapping):
        p = Params(**dict(p or {}))
    return run(load(p), p)


# --- the standard tables -----------------------------------------------------------------------------------------


def tables(result: Result) -> dict[str, pd.DataFrame]:
    """The result tables in the standard columns (estimate, ci_low, ci_high, p_value, p_adjusted, significant, n,
    suppressed); hidden rows carry no counts."""
    it = result.interaction
    out = {"coefficients": it.model.coefficients.drop(columns=["statistic"]),
           "simple_slopes": it.slopes.drop(columns=["statistic"]),
           "johnson_neyman": it.jn.regions}
    if it.cells is not None:
        out["cells"] = it.cells
        out["contrasts"] = it.contrasts if it.synergy is not None else it.contrasts.iloc[:0]
    if it.nps_cells is not None:
        out["cells_nps"] = it.nps_cells
    ret = result.retention
    if ret is not None:
        out["retention_cells"] = standard_table(ret.cells, {"retention": "estimate"})
        if ret.synergy:
            out["retention_synergy"] = pd.DataFrame([{"measure": k, **v} for k, v in ret.synergy.items()])
        if ret.cox is not None:
            out["cox"] = standard_table(ret.cox.drop(columns=["coef_lower", "coef_upper"]),
                                        {"hazard_ratio": "estimate"})
    if result.claims is not None:
        out["claims"] = result.claims
    rec = result.recovery
    if rec is not None:
        out["recovery_status"] = standard_table(rec.status_counts, {"share": "estimate"})
        out["recovery_by_type"] = standard_table(rec.by_type, {"recovery_rate": "estimate"})
        out["recovery_speed"] = rec.speed
        out["recovery_groups"] = standard_table(rec.groups, {"nps": "estimate"})
        out["paradox"] = rec.paradox_table
        if rec.hazard is not None:
            out["churn_by_status"] = standard_table(rec.hazard.table, {"hazard_ratio": "estimate"})
            if rec.hazard.fixed is not None:
                out["churn_by_status_fixed"] = standard_table(rec.hazard.fixed, {"hazard_ratio": "estimate"})
    if result.truth is not None:
        out["truth"] = result.truth
    return out
