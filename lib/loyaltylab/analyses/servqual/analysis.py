"""The service-quality analysis of notebook 02: parameters, the whole run and its result.

``analyze(Params(...))`` loads the survey through :func:`loyaltylab.loaders.load_survey`, matches the questionnaire
(:mod:`.instrument`) and computes every part the notebook shows; the :class:`ServqualReport` has the shared result
shape (headline, tables in the standard columns, key findings, the results.json document of :mod:`.results_doc`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltylab import io, loaders, measures, params, privacy, results
from loyaltylab.analyses.base import AnalysisResult
from loyaltylab.analyses.nps.tables import check_period
from loyaltylab.errors import ParameterError
from loyaltylab.i18n import Both
from loyaltylab.loaders import SurveyData
from loyaltylab.stats import clustered
from loyaltylab.stats.factor import ROTATIONS, SampleMoments

from . import gaps, groups, instrument, priorities, scales, structure, truth
from .instrument import Instrument

NOTEBOOK = "02_service_quality.ipynb"
NOTEBOOK_ONLY = ("language", "interactive", "output_dir")
ANALYSIS = "servqual"
CORRECTION = "holm"
RMSEA_CONFIDENCE = 0.90
"""The RMSEA interval is a 90% interval by the lavaan / SEM convention, whatever ``confidence`` is."""


@dataclass(frozen=True)
class Params(params.Params):
    """The parameters of notebook 02 (same names and defaults), checked before any file is read."""

    survey_path: str | None = params.field(None, params.path)
    customers_path: str | None = params.field(None, params.path)
    columns: dict | None = params.field(None, params.mapping)
    customers_columns: dict | None = params.field(None, params.mapping)
    dimensions: dict | None = params.field(None, instrument.check_dimensions)
    perception_prefix: str = params.field("P", params.prefix)
    expectation_prefix: str | None = params.field("E", params.optional_prefix)
    adequate_prefix: str | None = params.field(None, params.optional_prefix)
    desired_prefix: str | None = params.field(None, params.optional_prefix)
    scale: tuple | None = params.field((1, 7), params.scale)
    outcome_cols: tuple[str, ...] = params.field(("satisfaction", "nps", "repurchase_intent"), params.columns)
    importance_prefix: str | None = params.field("importance_", params.optional_prefix)
    importance_columns: dict | None = params.field(None, params.mapping)
    segment_cols: tuple[str, ...] = params.field(("segment", "region"), params.columns)
    date_col: str | None = params.field("date", params.optional_column)
    period: str = params.field("Q", check_period)
    cluster_col: str | None = params.field("customer_id", params.optional_column)
    rotation: str = params.field("oblimin", params.choice(*ROTATIONS))
    n_bootstrap: int = params.field(200, params.whole(0, 10_000))
    seed: int = params.field(0, params.whole(0))
    min_cell: int = params.field(privacy.DEFAULT_MIN_CELL, params.min_cell)
    confidence: float = params.field(0.95, params.confidence)
    filters: dict | None = params.field(None, params.mapping)
    encoding: str | None = params.field(None, params.encoding)
    sheet: str | int | None = params.field(None, params.sheet)

    def check_together(self) -> None:
        prefixes = [x for x in (self.perception_prefix, self.expectation_prefix, self.adequate_prefix,
                                self.desired_prefix) if x]
        if len(set(prefixes)) != len(prefixes):
            raise ParameterError("expectation_prefix", self.expectation_prefix, "the perception, expectation, "
                                 "adequate and desired prefixes must differ")
        unknown = [k for k in (self.importance_columns or {}) if k not in self.dimensions]
        if unknown:
            raise ParameterError("importance_columns", self.importance_columns,
                                 f"'{unknown[0]}' is not one of the dimensions ({', '.join(self.dimensions)})")
        if any(not isinstance(v, str) or not v.strip() for v in (self.importance_columns or {}).values()):
            raise ParameterError("importance_columns", self.importance_columns, "must map dimensions to column names")


def example_parameters(files: Mapping) -> dict:
    """The parameters that run this analysis on the contract test's tiny user-shaped data set."""
    return {"survey_path": str(files["survey"]), "customers_path": str(files["customers"]),
            "segment_cols": [files["segment_col"], "region"], "cluster_col": "customer_id", "n_bootstrap": 50}


@dataclass(frozen=True)
class ServqualReport(AnalysisResult):
    """Everything notebook 02 shows, computed once by :func:`analyze`.

    Tables (one row each): ``items`` (item, dimension, n, expectation, perception with its interval, gap with its
    paired interval, t, p_value, p_adjusted, significant, wilcoxon_p, cohens_dz), ``dimensions`` (the same per
    dimension, from respondents' dimension scores, plus n_items), ``overall`` (the unweighted score — the mean of
    the respondent's dimension scores — and the importance-weighted one). In SERVPERF mode the expectation and gap
    columns are NaN. ``scores``: per respondent the overall and dimension scores (gaps, or perceptions).
    """

    params: Params
    data: SurveyData
    instrument: Instrument
    n: int
    people: int | None
    dropped_rows: int
    items: pd.DataFrame
    dimensions: pd.DataFrame
    overall: pd.DataFrame
    reliability: scales.Reliability
    structure: structure.Structure
    invariance: dict
    servperf: pd.DataFrame | None
    ipa: priorities.IPA | None
    segments: dict
    trend: pd.DataFrame | None
    zone: pd.DataFrame | None
    truth: pd.DataFrame | None
    strategies: pd.DataFrame | None
    scores: pd.DataFrame
    clusters: np.ndarray | None
    notes: tuple[str, ...]

    analysis = ANALYSIS
    correction = CORRECTION

    @property
    def mode(self) -> str:
        return self.instrument.mode

    @property
    def course(self) -> bool:
        """The course data (a truth.json beside the survey): course framing applies."""
        return self.data.truth is not None

    @property
    def cluster_col(self) -> str | None:
        return self.data.cluster_col

    def ranking(self) -> pd.DataFrame:
        """The dimensions from the largest shortfall (lowest gap, or lowest perception in SERVPERF mode) up."""
        return self.dimensions.sort_values("estimate", kind="stable").reset_index(drop=True)

    def headline(self) -> dict:
        o = self.overall.iloc[0]
        worst = self.ranking().iloc[0]["dimension"]

        def r(x):
            return None if not np.isfinite(x) else round(float(x), 2)

        name = "Gap" if self.mode == "servqual" else "Perception"
        return {name: r(o["estimate"]), "CI low": r(o["ci_low"]), "CI high": r(o["ci_high"]),
                ("Largest gap" if self.mode == "servqual" else "Lowest dimension"): str(worst), "Responses": self.n}

    def headline_order(self) -> list[str]:
        return list(self.headline())

    def tables(self) -> dict[str, pd.DataFrame]:
        from .results_doc import tables

        return tables(self)

    def key_findings(self) -> list[str]:
        from .describe import key_findings

        return key_findings(self)

    def to_results(self) -> dict:
        """The results.json document: the shared document keys plus this analysis' keys (issue 11's contract)."""
        from .results_doc import content

        return results.document(ANALYSIS, params=self.params.as_dict(), inputs=self.data.inputs,
                                headline=self.headline(), headline_order=self.headline_order(),
                                tables=self.tables(), notes=list(self.notes), **content(self))


# --- running it ------------------------------------------------------------------------------------------------


def load(p: Params) -> SurveyData:
    """The survey (and the customers' segment columns) as ``p`` says; optional columns the files lack are left
    out (listed in ``skipped``)."""
    return loaders.load_survey(
        p.survey_path, p.customers_path, score_col=None, segment_cols=p.segment_cols, date_col=p.date_col,
        comment_col=None, filters=p.filters, cluster_col=p.cluster_col, columns=p.columns,
        customers_columns=p.customers_columns, encoding=p.encoding, sheet=p.sheet, min_cell=p.min_cell,
        measures=(), keep=instrument.candidate_columns(p), optional=True,
    )


def _skipped_notes(data: SurveyData, p: Params) -> list[str]:
    out = []
    for col in data.skipped:
        if col == p.date_col:
            out.append(Both(f"no date column '{col}': no trend", f"没有日期列“{col}”：不分析趋势"))
        elif col == p.cluster_col:
            out.append(Both(f"no '{col}' column: every response treated as a different respondent",
                            f"没有“{col}”列：每份回答都视为不同的受访者"))
        else:
            out.append(Both(f"segment column '{col}' is in neither the survey nor a customers file: left out",
                            f"细分列“{col}”既不在问卷中，也不在客户文件中：未纳入分析"))
    return out


def _mean_where(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    count = ok.sum(axis=0)
    return np.divide(np.where(ok, x, 0.0).sum(axis=0), count, out=np.full(x.shape[1], np.nan), where=count > 0)


def _score_table(label_col: str, labels, perception: np.ndarray, expectation: np.ndarray | None,
                 gap: np.ndarray | None, members, confidence: float) -> pd.DataFrame:
    """Per column: n, expectation, perception (with its interval) and the paired gap statistics (SERVQUAL), or the
    perception statistics alone (SERVPERF); Holm across the rows."""
    ps = gaps.column_stats(perception, members, confidence)
    out = pd.DataFrame({label_col: list(labels)})
    if gap is not None:
        g = gaps.single(gap, members, confidence)
        ok = np.isfinite(gap)
        out["n"] = g["n"].to_numpy()
        out["expectation"] = _mean_where(expectation, ok) if expectation is not None else np.nan
        out["perception"] = _mean_where(perception, ok)
        for c in ("gap", "ci_low", "ci_high", "t", "p_value", "cohens_dz", "wilcoxon_p", "deff"):
            out[c] = g[c].to_numpy()
    else:
        out["n"] = ps["n"].to_numpy()
        out["expectation"] = np.nan
        out["perception"] = ps["mean"].to_numpy()
        for c in ("gap", "ci_low", "ci_high", "t", "p_value", "cohens_dz", "wilcoxon_p"):
            out[c] = np.nan
        out["deff"] = ps["deff"].to_numpy()
    out["perception_ci_low"], out["perception_ci_high"] = ps["ci_low"].to_numpy(), ps["ci_high"].to_numpy()
    out = gaps.holm(out, confidence)
    out.loc[out["p_value"].isna(), "significant"] = False
    out["estimate"] = out["gap"] if gap is not None else out["perception"]
    return out


def _zone(inst: Instrument, num: pd.DataFrame, p: Params, perception_dims: pd.DataFrame, members) -> pd.DataFrame:
    """Zone of tolerance per dimension: adequate and desired service, perception, MSA = P − adequate and
    MSS = P − desired with paired intervals, and where the perception falls (below / within / above the zone)."""
    dims = {d: items for d, items in inst.dimensions.items()}
    msa = measures.gap_scores(num, dims, p.perception_prefix, p.adequate_prefix)
    mss = measures.gap_scores(num, dims, p.perception_prefix, p.desired_prefix)
    adequate = measures.dimension_scores(num, dims, p.adequate_prefix)
    desired = measures.dimension_scores(num, dims, p.desired_prefix)
    a = gaps.single(msa.to_numpy(), members, p.confidence)
    s = gaps.single(mss.to_numpy(), members, p.confidence)
    table = pd.DataFrame({"dimension": list(dims), "adequate": adequate.mean().to_numpy(),
                          "desired": desired.mean().to_numpy(), "perception": perception_dims.mean().to_numpy(),
                          "msa": a["gap"], "msa_ci_low": a["ci_low"], "msa_ci_high": a["ci_high"],
                          "mss": s["gap"], "mss_ci_low": s["ci_low"], "mss_ci_high": s["ci_high"], "n": a["n"]})
    table["position"] = np.where(table["msa_ci_high"] < 0, "below the zone",
                                 np.where(table["mss_ci_low"] > 0, "above the zone", "within the zone"))
    return table


def _people(clusters: np.ndarray | None, n: int) -> int | None:
    return None if clusters is None else int(len(np.unique(clusters))) if n else 0


@dataclass(frozen=True)
class _Answers:
    """The responses with perception answers and their item matrices (one per answer set), the numeric frame the
    measures score (``num``: every item column), and who answered (``clusters``, ``members``)."""

    frame: pd.DataFrame
    sets: dict
    num: pd.DataFrame
    clusters: np.ndarray | None
    members: object
    people: int | None
    dropped: int


def _answers(data: SurveyData, inst: Instrument, p: Params) -> _Answers:
    """Check every item against the scale, drop responses without a perception answer, refuse a report on fewer
    than ``min_cell`` responses or respondents."""
    source, f = data.source, data.frame
    perception = instrument.item_matrix(f, inst.columns("perception"), p.scale, source)
    answered = np.isfinite(perception).any(axis=1)
    dropped = int((~answered).sum())
    if dropped:
        f, perception = f.loc[answered], perception[answered]
    sets = {"perception": perception}
    for which in ("expectation", "adequate", "desired"):
        if getattr(inst, which) is not None:
            sets[which] = instrument.item_matrix(f, inst.columns(which), p.scale, source)
    privacy.require_group_size(len(f), p.min_cell, source=source, what="responses with perception answers",
                               filters=data.filters)
    clusters = clustered.cluster_codes(f, "cluster_id" if data.cluster_col else None, source)
    people = _people(clusters, len(f))
    if people is not None:
        privacy.require_group_size(people, p.min_cell, source=source, what=f"respondents (distinct "
                                   f"{data.cluster_col})", filters=data.filters)
    cols = [c for which in sets for c in inst.columns(which)]
    num = pd.DataFrame(np.hstack(list(sets.values())), columns=cols, index=f.index)
    return _Answers(f, sets, num, clusters, gaps.membership(clusters, len(f)), people, dropped)


def _gap_tables(a: _Answers, inst: Instrument, p: Params, source: str | None = None):
    """Items, dimensions and the overall score (gaps, or perceptions in SERVPERF mode), and each respondent's
    scores: (items, dimensions, overall, scores, perception dimension scores, gap dimension scores or None,
    stated weights or None)."""
    dims = dict(inst.dimensions)
    servqual = inst.mode == "servqual"
    p_dim = measures.dimension_scores(a.num, dims, p.perception_prefix)
    e_dim = measures.dimension_scores(a.num, dims, p.expectation_prefix) if servqual else None
    g_dim = measures.gap_scores(a.num, dims, p.perception_prefix, p.expectation_prefix) if servqual else None
    perception, e_items = a.sets["perception"], a.sets.get("expectation")
    items = _score_table("item", inst.items, perception, e_items, perception - e_items if servqual else None,
                         a.members, p.confidence)
    item_dim = inst.item_dimension()
    items.insert(1, "dimension", [item_dim[i] for i in inst.items])
    dim_table = _score_table("dimension", list(dims), p_dim.to_numpy(), None if e_dim is None else e_dim.to_numpy(),
                             None if g_dim is None else g_dim.to_numpy(), a.members, p.confidence)
    dim_table.insert(1, "n_items", [len(dims[d]) for d in dims])
    score_dims = g_dim if servqual else p_dim
    overall_score = gaps.row_mean(score_dims.to_numpy())
    weights = instrument.stated_weights(a.frame, inst.importance, source)
    overall = _overall(overall_score, p_dim, score_dims, weights, a.members, p.confidence, servqual)
    scores = pd.DataFrame({"overall": overall_score, **{d: score_dims[d].to_numpy() for d in dims}},
                          index=a.frame.index)
    return items, dim_table, overall, scores, p_dim, g_dim, weights


def _by_group(data: SurveyData, a: _Answers, scores: pd.DataFrame, model: dict, p_cols, p: Params):
    """Segment tables, the invariance test per segment column (visible groups only) and the trend."""
    segments, invariance = {}, {}
    min_n = max(p.min_cell, structure.ITEMS_PER_GROUP * len(p_cols))
    for col in data.segment_cols:
        segments[col] = groups.by_segment(a.frame[col], scores, col, clusters=a.clusters, min_cell=p.min_cell,
                                          confidence=p.confidence)
        keys, labels = groups.group_keys(a.frame[col])
        invariance[col] = structure.invariance(a.sets["perception"], p_cols, keys, labels,
                                               groups.visible_groups(segments[col], labels), model, min_n=min_n,
                                               rmsea_confidence=RMSEA_CONFIDENCE)
    trend = (groups.by_period(a.frame["date"], scores, period=p.period, clusters=a.clusters, min_cell=p.min_cell,
                              confidence=p.confidence) if data.has_dates else None)
    return segments, invariance, trend


def run(data: SurveyData, p: Params | None = None) -> ServqualReport:
    """Every part of the service-quality analysis on loaded ``data`` (see the module and the notebook).

    Runs with one BLAS thread: the products here are thin (a million rows × a few dozen columns) and BLAS threads
    spinning on a busy machine cost more than they gain (measured at a million responses on 2 shared cores: 35 s
    instead of 48 s wall, 14 s instead of 20 s CPU)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _run(data, Params() if p is None else p)


def _run(data: SurveyData, p: Params) -> ServqualReport:
    source = data.source
    inst = instrument.resolve(data.frame.columns, p, source)
    a = _answers(data, inst, p)
    f, num, servqual = a.frame, a.num, inst.mode == "servqual"
    items, dim_table, overall, scores, p_dim, g_dim, weights = _gap_tables(a, inst, p, source)

    complete = bool(np.isfinite(num.to_numpy()).all())
    all_moments = SampleMoments.from_frame(num, list(num.columns), missing="listwise" if complete else "pairwise")
    p_cols = inst.columns("perception")
    p_moments = all_moments.subset(p_cols) if complete else SampleMoments.from_frame(num, p_cols)
    rel = scales.reliability(all_moments, inst, p.confidence, p.seed)
    struct = structure.structure(p_moments, inst, rotation=p.rotation, seed=p.seed,
                                 rmsea_confidence=RMSEA_CONFIDENCE)
    segments, invariance, trend = _by_group(data, a, scores, struct.model, p_cols, p)

    outcomes = {c: io.coerce_numeric(f, c, source=source).to_numpy() for c in inst.outcomes}
    servperf = (priorities.servperf_vs_servqual(outcomes, p_dim.to_numpy(), None if g_dim is None
                                                else g_dim.to_numpy()) if outcomes else None)
    first = inst.outcomes[0] if inst.outcomes else None
    ipa = priorities.ipa(p_dim.to_numpy(), list(inst.dimensions), outcomes.get(first), first, weights, a.clusters,
                         n_bootstrap=p.n_bootstrap, seed=p.seed, confidence=p.confidence)
    zone = _zone(inst, num, p, p_dim, a.members) if inst.has_zone else None
    truth_table = strategies = None
    if truth.applies(data.truth, p.dimensions, p.perception_prefix, inst.expectation and p.expectation_prefix,
                     data.filters):
        truth_table = truth.truth_comparison(data.truth, dim_table, items, overall, servqual)
    if data.truth is not None and set(inst.dimensions) <= set(truth.STRATEGIES):  # the course data
        strategies = truth.strategy_table(dim_table)
    notes = [*_skipped_notes(data, p), *inst.notes, *rel.notes, *struct.notes]
    if a.dropped:
        notes.append(Both(f"{a.dropped} responses without any perception answer were left out",
                          f"{a.dropped} 份没有任何感知回答的问卷未纳入分析"))
    return ServqualReport(
        params=p, data=data, instrument=inst, n=len(f), people=a.people, dropped_rows=a.dropped, items=items,
        dimensions=dim_table, overall=overall, reliability=rel, structure=struct, invariance=invariance,
        servperf=servperf, ipa=ipa, segments=segments, trend=trend, zone=zone, truth=truth_table,
        strategies=strategies, scores=scores, clusters=a.clusters, notes=tuple(notes),
    )


def _overall(score: np.ndarray, p_dim: pd.DataFrame, score_dims: pd.DataFrame, weights, members, confidence: float,
             servqual: bool) -> pd.DataFrame:
    """The overall score (mean of each respondent's dimension scores), its interval and test, the perception
    score beside it, and the weighted score from stated importance (normalised points)."""
    s = gaps.single(score, members, confidence).iloc[0]
    perc = gaps.column_stats(gaps.row_mean(p_dim.to_numpy()), members, confidence).iloc[0]
    row = {"measure": "overall", "n": int(s["n"]), "estimate": s["gap"], "ci_low": s["ci_low"],
           "ci_high": s["ci_high"], "p_value": s["p_value"] if servqual else np.nan,
           "perception": perc["mean"], "perception_ci_low": perc["ci_low"], "perception_ci_high": perc["ci_high"],
           "weighted": np.nan, "weighted_ci_low": np.nan, "weighted_ci_high": np.nan, "n_weighted": 0}
    w = gaps.weighted_score(score_dims.to_numpy(), weights)
    if w is not None and np.isfinite(w).sum() >= 2:
        ws = gaps.column_stats(w, members, confidence).iloc[0]
        row.update(weighted=ws["mean"], weighted_ci_low=ws["ci_low"], weighted_ci_high=ws["ci_high"],
                   n_weighted=int(ws["n"]))
    return pd.DataFrame([row])


def analyze(p: Params | Mapping | None = None) -> ServqualReport:
    """Check the parameters (before any file is read), load the survey and run everything: the notebook's one call.
    ``p`` is a :class:`Params` or a mapping of its fields."""
    if p is None or isinstance(p, Mapping):
        p = Params(**dict(p or {}))
    return run(load(p), p)
