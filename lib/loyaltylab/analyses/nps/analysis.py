"""The NPS analysis of notebook 01: parameters, the whole run, its result and results.json.

``analyze(Params(...))`` loads the survey through :func:`loyaltylab.loaders.load_survey` and computes every part
the notebook shows; the :class:`NPSReport` it returns has the shared result shape (headline, tables in the standard
columns, key findings, the results.json document).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from loyaltylab import i18n, loaders, params, privacy, results
from loyaltylab.analyses.base import AnalysisResult, standard_table
from loyaltylab.loaders import SurveyData
from loyaltylab.measures import dimension_scores

from . import comments, drivers, planning, tables, truth
from .linked import LinkedHiding, linked_hiding
from .score import CI_METHODS, NPSResult, from_counts

NOTEBOOK = "01_nps.ipynb"
NOTEBOOK_ONLY = ("language", "interactive", "output_dir")
ANALYSIS = "nps"
CORRECTION = "holm"
"""The multiple-comparison correction of the segment and trend tables (Holm: controls the family-wise error)."""


@dataclass(frozen=True)
class Params(params.Params):
    """The parameters of notebook 01 (same names and defaults), checked before any file is read."""

    survey_path: str | None = params.field(None, params.path)
    customers_path: str | None = params.field(None, params.path)
    columns: dict | None = params.field(None, params.mapping)
    customers_columns: dict | None = params.field(None, params.mapping)
    score_col: str = params.field("nps", params.column)
    segment_cols: tuple[str, ...] = params.field(("segment", "region", "channel"), params.columns)
    date_col: str | None = params.field("date", params.optional_column)
    period: str = params.field("Q", tables.check_period)
    comment_col: str | None = params.field("comment", params.optional_column)
    cluster_col: str | None = params.field("customer_id", params.optional_column)
    min_cell: int = params.field(privacy.DEFAULT_MIN_CELL, params.min_cell)
    confidence: float = params.field(0.95, params.confidence)
    ci_method: str = params.field("normal", params.choice(*CI_METHODS))
    filters: dict | None = params.field(None, params.mapping)
    encoding: str | None = params.field(None, params.encoding)
    sheet: str | int | None = params.field(None, params.sheet)


def example_parameters(files: Mapping) -> dict:
    """The parameters that run this analysis on the contract test's tiny user-shaped data set."""
    return {"survey_path": str(files["survey"]), "customers_path": str(files["customers"]),
            "segment_cols": [files["segment_col"], "region", "channel"], "cluster_col": "customer_id"}


@dataclass(frozen=True)
class NPSReport(AnalysisResult):
    """Everything notebook 01 shows, computed once by :func:`analyze`."""

    data: SurveyData
    overall: NPSResult
    distribution: pd.DataFrame
    segments: dict
    trend: pd.DataFrame | None
    dimensions: drivers.DimensionComparison | None
    model: drivers.PromoterModel | None
    assigned: pd.DataFrame | None
    themes: pd.DataFrame | None
    quotes: pd.DataFrame | None
    sample_sizes: pd.DataFrame
    truth: pd.DataFrame | None
    theme_accuracy: object | None
    params: Params
    linked: LinkedHiding | None = None
    """What this fan-out part hides to protect the rest of its batch (None: no ``filters``)."""

    analysis = ANALYSIS
    correction = CORRECTION

    @property
    def is_course(self) -> bool:
        """The course data (a truth.json beside the survey): course framing applies."""
        return self.data.truth is not None

    @property
    def withheld(self) -> bool:
        """A fan-out part withheld as a whole to protect a small group elsewhere in its batch."""
        return self.linked is not None and self.linked.withheld

    @property
    def cluster_col(self) -> str | None:
        """The column that says who answered, as the user named it (None: every response independent)."""
        return self.data.cluster_col

    def headline(self) -> dict:
        o = self.overall

        def one(x):
            return None if not np.isfinite(x) else round(x, 1)

        return {"NPS": one(o.nps), "CI low": one(o.ci_low), "CI high": one(o.ci_high), "Responses": o.n,
                "Promoters %": one(o.promoters_pct), "Detractors %": one(o.detractors_pct)}

    def headline_order(self) -> list[str]:
        return ["NPS", "CI low", "CI high", "Responses", "Promoters %", "Detractors %"]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The result tables in the standard columns (estimate, ci_low, ci_high, p_value, p_adjusted, significant,
        n, suppressed); hidden rows carry no count."""
        o = self.overall
        out = {"overall": pd.DataFrame([{"estimate": o.nps, "ci_low": o.ci_low, "ci_high": o.ci_high, "se": o.se,
                                          "deff": o.deff, "n": o.n, "suppressed": o.suppressed}]),
               "distribution": self.distribution}
        if self.segments:
            out["by_segment"] = standard_table(pd.concat(list(self.segments.values()), ignore_index=True),
                                               {"nps": "estimate"})
        if self.trend is not None:
            out["trend"] = standard_table(self.trend, {"nps": "estimate"})
        if self.dimensions is not None:
            out["dimension_means"] = standard_table(self.dimensions.means, {"mean": "estimate"})
            out["dimensions"] = standard_table(self.dimensions.effects, {
                "cohens_d": "estimate", "d_ci_low": "ci_low", "d_ci_high": "ci_high"})
        if self.model is not None and len(self.model.table):
            out["promoter_model"] = standard_table(self.model.table, {"odds_ratio": "estimate"})
        if self.themes is not None:
            out["themes"] = self.themes
        out["sample_size"] = self.sample_sizes.melt("margin", var_name="mix", value_name="n")
        if self.truth is not None:
            out["truth"] = self.truth
        return out

    def key_findings(self) -> list[str]:
        from .describe import key_findings

        return key_findings(self)

    def notes(self) -> list[str]:
        """Plain-text notes on what the numbers rest on (for results.json)."""
        out = []
        rate = self.data.join_match_rate
        if rate is not None and rate < JOIN_WARN_RATE:
            out.append(f"only {rate:.1%} of survey responses matched a customer; the rest are segment "
                       f"'{tables.MISSING_LABEL}'")
        if self.data.dropped_rows:
            out.append(f"{self.data.dropped_rows} responses without a score were left out")
        if self.model is not None and self.model.note:
            out.append(f"promoter model: {self.model.note}")
        if self.withheld:
            from .describe import withheld_sentence

            with i18n.language("en"):  # results.json's notes stay English in every report language
                out.append(withheld_sentence(self))
        elif self.linked is not None and self.linked.extra:
            out.append(f"{self.linked.extra} further cells are hidden so that no small group in another part of "
                       "this batch can be worked out by subtraction")
        return out

    def to_results(self) -> dict:
        """The results.json document: the shared document keys plus every key notebook 01 has always written
        (stable names; numbers null when suppressed)."""
        return results.document(ANALYSIS, params=self.params.as_dict(), inputs=self.data.inputs,
                                headline=self.headline(), headline_order=self.headline_order(),
                                tables=self.tables(), notes=self.notes(), **_content(self))


JOIN_WARN_RATE = 0.9
"""Below this share of survey responses matching a customer, the report warns that the segment join is poor."""
SEGMENT_KEYS = ["value", "n", "nps", "se", "ci_low", "ci_high", "promoters_pct", "detractors_pct", "deff",
                "diff_vs_rest", "p_value", "p_adjusted", "significant", "suppressed"]
TREND_KEYS = ["period", "n", "nps", "se", "ci_low", "ci_high", "change", "p_value", "p_adjusted", "change_significant",
              "suppressed"]
THEME_KEYS = ["theme", "n", "share_promoters", "share_detractors", "n_promoters", "n_detractors", "suppressed"]
DIMENSION_KEYS = ["dimension", "mean_promoters", "mean_detractors", "difference", "se_difference", "cohens_d",
                  "d_ci_low", "d_ci_high", "p_adjusted", "suppressed"]


def records(table: pd.DataFrame | None, columns) -> list[dict]:
    """Rows of ``table`` as dicts of the ``columns`` it has ([] for None)."""
    if table is None:
        return []
    return table[[c for c in columns if c in table]].to_dict(orient="records")


def _content(report: NPSReport) -> dict:
    """The analysis' own results.json keys (a public interface: names and meanings never change)."""
    o, p = report.overall, report.params
    out = {
        "n": o.n, "dropped_rows": report.data.dropped_rows,
        "nps": o.nps, "se": o.se, "ci_low": o.ci_low, "ci_high": o.ci_high,
        "ci_method": o.ci_method, "confidence": o.confidence,
        "cluster_col": report.cluster_col, "design_effect": o.deff,
        "promoters_pct": o.promoters_pct, "passives_pct": o.passives_pct, "detractors_pct": o.detractors_pct,
        "suppressed": o.suppressed, "min_cell": p.min_cell, "period": p.period, "correction": report.correction,
        "filters": report.data.filters, "join_match_rate": report.data.join_match_rate,
        "by_segment": {c: records(t, SEGMENT_KEYS) for c, t in report.segments.items()},
        "trend": records(report.trend, TREND_KEYS),
        "themes": records(report.themes, THEME_KEYS),
        "sample_size": records(report.sample_sizes.melt("margin", var_name="mix", value_name="n"),
                               ["margin", "mix", "n"]),
    }
    if report.dimensions is not None:
        out["dimensions"] = records(report.dimensions.effects, DIMENSION_KEYS)
    if report.model is not None:
        m = report.model
        out["promoter_model"] = {
            "n": m.n, "pseudo_r2": m.pseudo_r2, "converged": m.converged, "note": m.note, "cluster_col": m.cluster_col,
            "odds_ratios": records(m.table, ["dimension", "odds_ratio", "ci_low", "ci_high", "p_value"]),
        }
    if report.truth is not None:
        out["truth"] = records(report.truth, ["scope", "value", "estimate", "true", "covered"])
    if report.theme_accuracy is not None:
        acc = report.theme_accuracy
        out["theme_accuracy"] = {"n": acc.n, "accuracy": acc.accuracy, "coverage": acc.coverage}
    return out


# --- running it ------------------------------------------------------------------------------------------------


def load(p: Params) -> SurveyData:
    """The survey (and the customers' segment columns) as ``p`` says, through the shared survey loader."""
    return loaders.load_survey(
        p.survey_path, p.customers_path, score_col=p.score_col, segment_cols=p.segment_cols, date_col=p.date_col,
        comment_col=p.comment_col, filters=p.filters, cluster_col=p.cluster_col, columns=p.columns,
        customers_columns=p.customers_columns, encoding=p.encoding, sheet=p.sheet, min_cell=p.min_cell,
        measures=("perceptions",),
    )


def load_unfiltered(p: Params) -> SurveyData | None:
    """The survey as ``p`` says but without its ``filters`` (None when there are none), the filter columns kept:
    what every part of a fan-out batch shares, for suppression across the batch (:mod:`.linked`)."""
    if not p.filters:
        return None
    everyone = replace(p, filters=None, segment_cols=tuple(dict.fromkeys([*p.segment_cols, *p.filters])))
    return load(everyone)


def _require_people(data: SurveyData, min_cell: int) -> None:
    """No report on fewer than ``min_cell`` responses, nor on fewer than ``min_cell`` distinct respondents."""
    f = data.frame
    privacy.require_group_size(len(f), min_cell, source=data.inputs.get("survey"), what="responses",
                               filters=data.filters)
    if data.cluster_col and "cluster_id" in f:
        people = int(f["cluster_id"].nunique(dropna=True) + f["cluster_id"].isna().sum())
        privacy.require_group_size(people, min_cell, source=data.inputs.get("survey"),
                                   what=f"respondents (distinct {data.cluster_col})", filters=data.filters)


def _linked(data: SurveyData, unfiltered: SurveyData | None, p: Params, has_dims: bool):
    """(what this part hides for its batch, every unfiltered comment's themes) — (None, None) without filters."""
    if not data.filters or unfiltered is None:
        return None, None
    everyone = unfiltered.frame
    assigned = None
    if data.has_comments:
        from loyaltylab import themes as th

        assigned = th.assign(everyone["comment"])
    hiding = linked_hiding(everyone, data.filters, segment_cols=data.segment_cols,
                           period=p.period if data.has_dates else None, min_cell=p.min_cell,
                           cluster_col="cluster_id" if data.cluster_col else None, assigned=assigned,
                           dimensions=has_dims)
    return hiding, assigned


def run(data: SurveyData, p: Params | None = None, unfiltered: SurveyData | None = None) -> NPSReport:
    """Every part of the NPS analysis on loaded ``data`` (fewer than ``min_cell`` responses or respondents: a
    DataError, no report). Tables are computed on the frame's canonical names (``nps``, ``date``, ``cluster_id``).

    ``unfiltered`` (:func:`load_unfiltered`: the same survey without ``filters``) makes a filtered run hide, besides
    its own small cells, those that would let a reader recover a hidden cell of another part of its batch by
    subtraction (:mod:`.linked`); without it a filtered run is suppressed on its own only."""
    p = Params() if p is None else p
    _require_people(data, p.min_cell)
    f = data.frame
    opts = {"min_cell": p.min_cell, "confidence": p.confidence, "ci_method": p.ci_method}
    cluster = "cluster_id" if data.cluster_col else None
    has_dims = dimension_scores(f.head(0)).shape[1] > 0
    hiding, assigned_all = _linked(data, unfiltered, p, has_dims)
    if hiding is not None and hiding.withheld:
        return _withheld(data, p, hiding)
    hide = hiding or LinkedHiding()
    result = tables.overall(f, cluster_col=cluster, **opts)
    segments = {c: tables.by_segment(f, c, correction=CORRECTION, cluster_col=cluster,
                                     hide=hide.segments.get(c), **opts)
                for c in data.segment_cols}
    trend = (tables.trend(f, period=p.period, correction=CORRECTION, cluster_col=cluster, hide=hide.trend, **opts)
             if data.has_dates else None)
    dims = model = None
    if has_dims:  # cluster_col named as the user knows it, not 'cluster_id'
        dims = replace(drivers.compare_dimensions(f, confidence=p.confidence, min_cell=p.min_cell,
                                                  cluster_col=cluster, hide=hide.dimension_means),
                       cluster_col=data.cluster_col)
        model = replace(drivers.promoter_model(f, confidence=p.confidence, min_cell=p.min_cell, cluster_col=cluster),
                        cluster_col=data.cluster_col)
    assigned = shares = quotes = accuracy = None
    if data.has_comments:
        from loyaltylab import themes as th

        assigned = th.assign(f["comment"]) if assigned_all is None else assigned_all.loc[f.index]
        shares = comments.theme_shares(f, assigned, min_cell=p.min_cell, hide=hide.themes)
        quotes = comments.quotes_table(f, assigned, shares)
        accuracy = truth.theme_accuracy(f, assigned, data.truth)
    ref = result if not result.suppressed else from_counts(0, 0, 0)
    sizes = planning.sample_size_table(planning.MARGINS, planning.planning_mixes(ref), p.confidence)
    return NPSReport(
        data=data, overall=result, distribution=tables.distribution(f, min_cell=p.min_cell, hide=hide.distribution),
        segments=segments,
        trend=trend, dimensions=dims, model=model, assigned=assigned, themes=shares, quotes=quotes,
        sample_sizes=sizes, truth=truth.truth_comparison(result, segments, data.truth, data.filters),
        theme_accuracy=accuracy, params=p, linked=hiding,
    )


def _withheld(data: SurveyData, p: Params, hiding: LinkedHiding) -> NPSReport:
    """A fan-out part withheld as a whole (:func:`.linked._withheld`): no NPS, no count, no table — not even a
    visible 0 or an absent group, which would say what the hidden total holds. The batch goes on."""
    blank = from_counts(0, 0, 0, confidence=p.confidence, ci_method=p.ci_method, min_cell=p.min_cell)
    overall = replace(blank, n=None, suppressed=True)
    dist = tables.distribution(data.frame.head(0), min_cell=p.min_cell).assign(n=pd.NA, pct=np.nan, suppressed=True)
    dist["n"] = dist["n"].astype("Int64")
    sizes = planning.sample_size_table(planning.MARGINS, planning.planning_mixes(blank), p.confidence)
    return NPSReport(data=replace(data, dropped_rows=None), overall=overall, distribution=dist, segments={},
                     trend=None, dimensions=None, model=None, assigned=None, themes=None, quotes=None,
                     sample_sizes=sizes, truth=None, theme_accuracy=None, params=p, linked=hiding)


def analyze(p: Params | Mapping | None = None) -> NPSReport:
    """Check the parameters (before any file is read), load the survey and run everything: the notebook's one call.
    ``p`` is a :class:`Params` or a mapping of its fields."""
    if p is None or isinstance(p, Mapping):
        p = Params(**dict(p or {}))
    data = load(p)  # the part first: its own refusals (too few people, no match) come before anything else
    return run(data, p, load_unfiltered(p))
