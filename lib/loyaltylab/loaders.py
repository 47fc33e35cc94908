"""The two loaders every analysis uses: the survey (responses) and the customers table.

Both read through :mod:`loyaltylab.io` (encodings, delimiters, Excel sheets, Parquet, column mapping, one-line
DataError), apply ``filters``, and refuse a whole report on fewer than ``min_cell`` people.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loyaltylab import io, paths, privacy


@dataclass(frozen=True)
class Customers:
    """The customers table as read: ``frame`` (index = 0-based data row), its display ``source`` and the
    course world's ``truth`` when the file is course data (a truth.json beside it)."""

    frame: pd.DataFrame
    source: str
    path: str
    truth: dict | None = None
    filters: dict = field(default_factory=dict)


def load_customers(
    customers_path=None,
    *,
    filters: Mapping | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    min_cell: int = privacy.DEFAULT_MIN_CELL,
    id_columns: Sequence[str] = (),
) -> Customers:
    """Read the customers file (None → the course data) as it is — no column mapping or type coercion, which the
    analysis does with its own column parameters — apply ``filters`` and refuse fewer than ``min_cell`` rows.
    ``id_columns``: further id columns (e.g. the analysis' ``id_col``) read as text exactly as in the file, like
    ``io.ID_COLUMNS``."""
    file = paths.resolve_input(customers_path, "customers")
    frame = io.read_raw(file, encoding=encoding, sheet=sheet,
                        id_columns=(*io.ID_COLUMNS, *(c for c in id_columns if c)) if id_columns else None)
    source = frame.attrs["loyaltylab"]["source"]
    filters = dict(filters or {})
    frame = io.apply_filters(frame, filters, source=source)
    privacy.require_group_size(len(frame), min_cell, source=source, what="customers", filters=filters)
    return Customers(frame=frame, source=source, path=paths.display_path(file), truth=paths.truth_for(file),
                     filters=filters)


# --- survey ---------------------------------------------------------------------------------------------------

SURVEY_MEASURES: dict[str, str] = {
    "outcomes": "satisfaction, repurchase_intent (and nps when it is not the score column)",
    "expectations": "SERVQUAL expectation items E1, E2, …",
    "perceptions": "SERVQUAL perception items P1, P2, …",
    "importance": "importance points per dimension (importance_*)",
}
"""What :func:`load_survey` can keep beside the score, by name (``measures=``)."""
OUTCOME_COLUMNS = ("nps", "satisfaction", "repurchase_intent")


@dataclass(frozen=True)
class SurveyData:
    """Responses ready for analysis (index = 0-based data row of the survey file).

    ``frame`` columns: ``nps`` (the 0–10 score from ``score_col``; rows without one are dropped and counted in
    ``dropped_rows``) when a score column is given, ``response_id`` when present, ``date``, ``comment`` and
    ``language`` when asked for / present, ``cluster_id`` (the ``cluster_col`` values) when given, the segment and
    filter columns, and the ``measures`` asked for that are in the file (outcomes, E / P items, importance).
    ``join_match_rate``: the share of survey responses whose customer_id was found in the customers file (None
    when no join was needed). ``truth``: the course world's truth.json (None on a user's data).
    """

    frame: pd.DataFrame
    dropped_rows: int
    inputs: dict
    segment_cols: tuple[str, ...]
    has_dates: bool
    has_comments: bool
    filters: dict = field(default_factory=dict)
    truth: dict | None = None
    cluster_col: str | None = None
    join_match_rate: float | None = None
    source: str = "survey"
    skipped: tuple[str, ...] = ()
    """Optional columns named in the parameters that the files lack (``optional=True``), left out."""


def _measure_columns(columns, measures: tuple[str, ...], score_col: str | None) -> list[str]:
    """The survey's columns that belong to the ``measures`` asked for, in file order."""
    def item(name: str, prefix: str) -> bool:
        return name.startswith(prefix) and name[len(prefix):].isdigit()

    keep = []
    for c in columns:
        c = str(c)
        if (("outcomes" in measures and c in OUTCOME_COLUMNS and not (c == "nps" and score_col))
                or ("expectations" in measures and item(c, "E"))
                or ("perceptions" in measures and item(c, "P"))
                or ("importance" in measures and c.startswith("importance_"))):
            keep.append(c)
    return keep


def _check_survey_parameters(score_col, segment_cols, date_col, comment_col, cluster_col, filters, columns,
                             customers_columns, min_cell, encoding, sheet, measures) -> dict:
    """Every parameter in the one ParameterError form, before any file is read; returns them normalised."""
    from loyaltylab import params
    from loyaltylab.errors import ParameterError

    unknown = [m for m in measures if m not in SURVEY_MEASURES]
    if unknown:
        raise ParameterError("measures", list(measures), f"must name some of {', '.join(SURVEY_MEASURES)}")
    return {
        "score_col": params.optional_column(score_col, "score_col") if score_col is None
        else params.column(score_col, "score_col"),
        "segment_cols": params.columns(segment_cols, "segment_cols"),
        "date_col": params.optional_column(date_col, "date_col"),
        "comment_col": params.optional_column(comment_col, "comment_col"),
        "cluster_col": params.optional_column(cluster_col, "cluster_col"),
        "filters": params.mapping(filters, "filters"),
        "columns": params.mapping(columns, "columns"),
        "customers_columns": params.mapping(customers_columns, "customers_columns"),
        "min_cell": params.min_cell(min_cell, "min_cell"),
        "encoding": params.encoding(encoding, "encoding"),
        "sheet": params.sheet(sheet, "sheet"),
    }


def _customers_beside(survey_file, customers_path):
    """The customers file: ``customers_path``, else a customers file beside the survey, else None."""
    if customers_path not in (None, ""):
        return paths.resolve_input(customers_path, "customers")
    for suffix in (survey_file.suffix, ".csv", ".parquet", ".xlsx"):
        candidate = survey_file.with_name("customers" + suffix)
        if candidate.exists():
            return candidate
    return None


def load_survey(
    survey_path=None,
    customers_path=None,
    *,
    score_col: str | None = "nps",
    segment_cols=(),
    date_col: str | None = "date",
    comment_col: str | None = None,
    filters: Mapping | None = None,
    cluster_col: str | None = None,
    columns: Mapping[str, str] | None = None,
    customers_columns: Mapping[str, str] | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    min_cell: int = privacy.DEFAULT_MIN_CELL,
    measures=tuple(SURVEY_MEASURES),
    keep=(),
    optional: bool = False,
    only_used_columns: bool = False,
) -> SurveyData:
    """(Long on purpose: every survey analysis shares this one reading path and its options.)

    Read and validate the survey (None → the course data); add segment / filter columns from the customers table
    when the survey lacks them (joined on ``customer_id``; ``customers_path`` None → a customers file beside the
    survey); apply ``filters``; drop rows without a score (counted in ``dropped_rows``); refuse fewer than
    ``min_cell`` responses.

    ``score_col`` is the 0–10 column kept as ``nps`` (None: no score, no rows dropped). ``cluster_col`` names who
    answered (customer_id) when one customer may answer several times. ``columns`` / ``customers_columns`` map the
    files' own column names onto the canonical ones ({"推荐值": "nps"}; :func:`loyaltylab.io.map_columns`); the
    other parameters then use the canonical names. ``encoding`` / ``sheet`` are passed to the reader for both
    files. ``measures`` picks what to keep beside the score (:data:`SURVEY_MEASURES`; default all that the file
    has); ``keep`` names further survey columns kept as they are when the file has them (an instrument's own item
    names, say). ``optional=True``: a ``date_col``, ``comment_col``, ``cluster_col`` or segment column that the files
    lack is left out and listed in ``SurveyData.skipped`` instead of being an error (filters stay required).

    ``only_used_columns=True`` reads and validates only the survey columns this call uses (ids, score, date,
    comment and its language, cluster, segments, filters, ``keep``, the outcome measures) — faster on a wide survey
    (a million responses with SERVQUAL items and comments), and a problem in another column is then not reported.
    With ``measures`` beyond "outcomes" (items found by their names in the file) every column is read.

    Every problem is a one-line DataError: a bad parameter (ParameterError, before any file is read), a column named
    in the parameters that is missing, scores outside 0–10, non-integers or text, dates that are not dates, no
    survey customer_id found in the customers file, fewer than ``min_cell`` responses left after ``filters``. A
    partial join is not an error: ``join_match_rate`` records it.
    """
    measures = (measures,) if isinstance(measures, str) else tuple(measures or ())
    p = _check_survey_parameters(score_col, segment_cols, date_col, comment_col, cluster_col, filters, columns,
                                 customers_columns, min_cell, encoding, sheet, measures)
    score_col, date_col, comment_col, cluster_col = p["score_col"], p["date_col"], p["comment_col"], p["cluster_col"]
    segment_cols, filters, read = p["segment_cols"], p["filters"], {"encoding": p["encoding"], "sheet": p["sheet"]}
    survey_file = paths.resolve_input(survey_path, "survey")
    required = [c for c in (score_col, date_col, comment_col, cluster_col) if c and not (optional and c != score_col)]
    usecols = _used_columns(p, keep, measures) if only_used_columns else None
    survey = io.read_table(survey_file, "survey", columns=p["columns"] or None, required=required, usecols=usecols,
                           **read)
    source = survey.attrs.get("loyaltylab", {}).get("source", paths.display_path(survey_file))
    skipped = []
    if optional:
        skipped = [c for c in (date_col, comment_col, cluster_col) if c and c not in survey.columns]
        date_col, comment_col, cluster_col = (None if c in skipped else c for c in (date_col, comment_col,
                                                                                     cluster_col))
    frame = pd.DataFrame(index=survey.index)
    if score_col:
        frame["nps"] = io.coerce_numeric(survey, score_col, source=source, min_value=0, max_value=10, integer=True)
        if score_col != "nps":  # read_table checks the canonical nps column itself
            io.check_nps_scale(frame["nps"], score_col, source)
    if "response_id" in survey:
        frame["response_id"] = survey["response_id"]
    if cluster_col:
        frame["cluster_id"] = survey[cluster_col]
    if date_col:
        frame["date"] = io.coerce_date(survey, date_col, source=source)
    if comment_col:
        frame["comment"] = survey[comment_col].astype("object").where(survey[comment_col].notna(), None)
        if "language" in survey:
            frame["language"] = survey["language"]
    inputs = {"survey": paths.display_path(survey_file), "customers": None}
    wanted = list(dict.fromkeys([*segment_cols, *filters]))
    from_customers = [c for c in wanted if c not in survey.columns]
    for col in wanted:
        if col in survey.columns:
            frame[col] = survey[col]
    joined, match_rate, absent = _join_customers(survey, survey_file, customers_path, from_customers, p, read,
                                                 inputs, source, segment_cols, optional)
    skipped += absent
    segment_cols = tuple(c for c in segment_cols if c not in absent)
    for col, values in joined.items():
        frame[col] = values
    frame = io.apply_filters(frame, filters, source=source)
    kept = [c for c in _measure_columns(survey.columns, measures, score_col) if c not in frame]
    kept += [c for c in dict.fromkeys(keep or ()) if c in survey.columns and c not in frame and c not in kept]
    frame = frame.join(survey.loc[frame.index, kept]) if kept else frame
    dropped = 0
    if score_col:
        blank = frame["nps"].isna()
        dropped = int(blank.sum())
        frame = frame.loc[~blank]
    privacy.require_group_size(len(frame), p["min_cell"], source=source, what="responses", filters=filters)
    return SurveyData(frame=frame, dropped_rows=dropped, inputs=inputs, segment_cols=segment_cols,
                      has_dates=bool(date_col), has_comments=bool(comment_col), filters=filters,
                      truth=paths.truth_for(survey_file), cluster_col=cluster_col or None, join_match_rate=match_rate,
                      source=source, skipped=tuple(skipped))


def _used_columns(p: dict, keep, measures: tuple[str, ...]) -> list[str] | None:
    """The canonical survey columns :func:`load_survey` uses with these parameters; None when the measures asked
    for are found by name pattern in the file (SERVQUAL items, importance_*), so every column is read."""
    if any(m != "outcomes" for m in measures):
        return None
    named = [p["score_col"], p["date_col"], p["comment_col"], p["cluster_col"], *p["segment_cols"], *p["filters"],
             *(keep or ())]
    implied = ["response_id", "customer_id", *(["language"] if p["comment_col"] else []),
               *(OUTCOME_COLUMNS if measures else ())]
    return list(dict.fromkeys(str(c) for c in [*named, *implied] if c))


def _join_customers(survey, survey_file, customers_path, from_customers, p, read, inputs, source, segment_cols,
                    optional):
    """The segment / filter columns the survey lacks, from the customers file (joined on customer_id): ({column:
    values per survey row}, the join's match rate or None, the columns neither file has when ``optional``).
    Records the customers file in ``inputs``."""
    from loyaltylab.errors import DataError

    match_rate = customers = None
    absent: list[str] = []
    customers_file = _customers_beside(survey_file, customers_path) if from_customers else None
    if from_customers and optional:  # read the customers file once; what neither file has is left out
        if customers_file is not None and "customer_id" in survey.columns:
            customers = io.read_table(customers_file, "customers", columns=p["customers_columns"] or None,
                                      required=["customer_id"], **read)
        absent = [c for c in from_customers if c not in p["filters"] and (customers is None or c not in customers)]
        from_customers = [c for c in from_customers if c not in absent]
    joined = {}
    if from_customers:
        if customers_file is None:
            raise DataError(source, from_customers[0], "column not in the survey, and no customers file to join "
                            "(set customers_path)")
        io.require_columns(survey, ["customer_id"], source=source)
        if customers is None:
            customers = io.read_table(customers_file, "customers", columns=p["customers_columns"] or None,
                                      required=["customer_id"], **read)
        _require_joined_columns(customers, from_customers, segment_cols)
        inputs["customers"] = paths.display_path(customers_file)
        # one hash of the customers' ids serves the match rate and every joined column (what Series.map does,
        # once per column)
        where = pd.Index(customers["customer_id"]).get_indexer(survey["customer_id"].to_numpy())
        match_rate = _join_match_rate(survey, customers, source, from_customers, where >= 0)
        joined = {col: pd.Series(_take(customers[col], where), index=survey.index, name="customer_id")
                  for col in from_customers}
    elif customers_path not in (None, ""):
        inputs["customers"] = paths.display_path(paths.resolve_input(customers_path, "customers"))
    return joined, match_rate, absent


def _require_joined_columns(customers: pd.DataFrame, columns, segment_cols) -> None:
    """A segment / filter column found in neither file: a one-line DataError naming the parameter and a guess."""
    import difflib

    from loyaltylab.errors import DataError

    for col in columns:
        if col not in customers.columns:
            names = [str(c) for c in customers.columns]
            guess = difflib.get_close_matches(str(col), names, n=1, cutoff=0.6)
            param = "segment_cols" if col in segment_cols else "filters"
            raise DataError(customers.attrs.get("loyaltylab", {}).get("source", "customers"), col,
                            f"named in {param} but in neither the survey nor the customers file"
                            + (f"; did you mean '{guess[0]}'?" if guess else "")
                            + f"; customers columns: {', '.join(names[:15])}{', …' if len(names) > 15 else ''}")


def _take(column: pd.Series, where: np.ndarray):
    """``column``'s values at positions ``where``, missing where -1 (NaN, NaT or <NA>, as Series.map gives)."""
    values = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
    return pd.api.extensions.take(values, where, allow_fill=True)


def _join_match_rate(survey: pd.DataFrame, customers: pd.DataFrame, source: str, columns, matched) -> float:
    """Share of survey responses whose customer_id is in the customers table (``matched``, per response); none at
    all is a DataError (the segment columns would silently all be missing). Ids are compared as text (io coerces
    both; the customers' ids are unique, io refuses duplicates)."""
    from loyaltylab.errors import DataError

    if len(survey) and not matched.any():
        cust_source = customers.attrs.get("loyaltylab", {}).get("source", "the customers file")
        label = survey.attrs.get("loyaltylab", {}).get("mapped", {}).get("customer_id", "customer_id")
        raise DataError(source, label, f"no survey customer_id matches one in {cust_source} (column 'customer_id'), "
                        f"so {', '.join(columns)} cannot be joined: check that both files use the same ids "
                        "(same prefix, leading zeros, type)")
    return float(matched.mean()) if len(survey) else 1.0
