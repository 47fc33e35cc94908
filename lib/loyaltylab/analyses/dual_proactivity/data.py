"""From the files to the frames the analysis uses: one row per survey response (the outcome, x, the moderator, the
controls, who answered, when), the customers table (lifetimes, the customer-level columns) and the incidents.

Which files
    * ``survey_path`` None → the course survey. ``customers_path`` / ``incidents_path`` None → the file of that name
      beside the survey (``customers.csv`` / ``.parquet`` / ``.xlsx``; the course data's by default); when there is
      none, the sections that need it (retention, recovery) are skipped with a note. One file holding every column
      works on its own.
    * x, the moderator and the controls are read from the survey when it has them, otherwise from the customers file
      joined on ``customer_id``; the outcome comes from the survey (``promoter`` = an ``nps`` score of 9–10).
    * ``filters`` on a column of the customers file select customers (their responses and incidents follow); filters
      on other columns apply to the survey.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab import io, loaders, paths, privacy
from loyaltylab.constants import PROMOTER_MIN
from loyaltylab.errors import DataError

PROMOTER = "promoter"
"""The outcome name that means "an NPS score of 9–10" (a 0/1 outcome → a logistic model)."""
LOYALTY_OUTCOMES = ("nps", "satisfaction", "repurchase_intent")
"""The survey's loyalty outcomes the recovery section compares (those the survey has)."""
Y, CLUSTER, CUSTOMER, DATE = "__y", "__cluster", "__customer", "__date"
INCIDENT_COLUMNS = ("customer_id", "date", "recovered", "recovery_hours", "recovery_satisfaction")


@dataclass(frozen=True)
class DualData:
    """What the analysis reads. ``responses``: one row per response (index = the survey's data row) with
    ``__y`` (the outcome), the x / moderator / control columns under their own names, ``__cluster`` (who answered,
    as integer codes, −1 = unknown; only with ``cluster_col``), ``__customer`` (the customer as an integer code,
    −1 = unknown; when the survey has customer_id), ``__date`` (when the survey has ``date_col``) and the loyalty
    outcomes the survey has (nps, satisfaction, repurchase_intent).

    Customers are numbered once: the customers file's rows are 0 … n_customers − 1 (in file order, after
    filters), then survey customers it lacks. ``customers``: the customers file as read (filtered; None without
    one); ``incidents``: the incidents file with ``__customer`` codes, only the customers numbered.
    ``customer_ids``: the id of every code (for the few places that need the text)."""

    responses: pd.DataFrame
    customers: pd.DataFrame | None
    incidents: pd.DataFrame | None
    inputs: dict
    sources: dict
    truth: dict | None
    filters: dict
    n_customers: int = 0
    customer_ids: pd.Index | None = None
    notes: tuple[str, ...] = ()
    from_customers: tuple[str, ...] = ()
    join_match_rate: float | None = None

    @property
    def is_course(self) -> bool:
        """Course data: a truth.json lies beside the survey (and beside the customers file, when one is used)."""
        return self.truth is not None

    @property
    def universe(self) -> np.ndarray:
        """The codes of the customers analysed: the customers file's, or (without one) every respondent's."""
        if self.customers is not None:
            return np.arange(self.n_customers)
        codes = self.responses[CUSTOMER].to_numpy() if CUSTOMER in self.responses else np.empty(0, dtype="int64")
        return np.unique(codes[codes >= 0])


def _beside(survey_file: Path, given, table: str) -> Path | None:
    """``given`` (a path), else a file named ``table`` beside the survey, else None."""
    if given not in (None, ""):
        return paths.resolve_input(given, table)
    for suffix in dict.fromkeys((survey_file.suffix, ".csv", ".parquet", ".xlsx")):
        candidate = survey_file.with_name(table + suffix)
        if candidate.exists():
            return candidate
    return None


def _numeric(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    return io.coerce_numeric(frame, column, source=source)


def control_values(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    """A control as numbers when the column holds numbers, else as text labels (the model makes dummies)."""
    s = frame[column]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    return s.astype("object").where(s.notna(), None)


def load_customers(p, customers_file: Path | None, filters: dict):
    """The customers frame (filtered on the filter columns it has; customer_id unique), its source and the
    filters it did not take."""
    if customers_file is None:
        return None, None, dict(filters)
    loaded = loaders.load_customers(customers_file, encoding=p.encoding, sheet=p.sheet, min_cell=p.min_cell)
    frame, source = loaded.frame, loaded.source
    mine = {k: v for k, v in filters.items() if k in frame.columns}
    frame = io.apply_filters(frame, mine, source=source)
    privacy.require_group_size(len(frame), p.min_cell, source=source, what="customers", filters=mine)
    if "customer_id" in frame:
        ids = frame["customer_id"]
        dup = ids.duplicated(keep=False) & ids.notna()
        if dup.any():
            raise DataError.from_mask(source, "customer_id", "duplicated value (must be unique)", ids, dup)
    return frame, source, {k: v for k, v in filters.items() if k not in mine}


def _outcome(p, s: pd.DataFrame, source: str) -> pd.Series:
    if p.outcome == PROMOTER:
        if "nps" not in s:
            raise DataError(source, "nps", "outcome 'promoter' needs the 0–10 nps column in the survey")
        score = s["nps"].astype("float64")
        return (score >= PROMOTER_MIN).astype("float64").where(score.notna())
    if p.outcome not in s:
        raise DataError(source, p.outcome, "the outcome column is not in the survey (parameter outcome)")
    return _numeric(s, p.outcome, source)


def _codes(customers, survey_ids) -> tuple[pd.Index, int, np.ndarray | None]:
    """(id of every code, number of customers-file codes, each response's code)."""
    base = pd.Index(customers["customer_id"].to_numpy(), dtype=object) if customers is not None and \
        "customer_id" in customers else pd.Index([], dtype=object)
    if survey_ids is None:
        return base, len(base), None
    extra = pd.Index(pd.unique(survey_ids.dropna().to_numpy()), dtype=object).difference(base, sort=False)
    index = base.append(extra)
    codes = index.get_indexer(survey_ids.to_numpy())
    return index, len(base), codes


def _column(name, param, s, customers, survey_source, customers_source, codes, n_base):
    """Column ``name`` per response: from the survey, else from the customers file through the customer codes."""
    convert = control_values if param in ("controls", "adjust_for") else _numeric
    if name in s:
        return convert(s, name, survey_source), False
    if customers is None or name not in customers:
        where = "the survey" + (" nor the customers file" if customers is not None else " (and no customers file)")
        raise DataError(survey_source, name, f"named in {param} but in neither {where}")
    if codes is None:
        raise DataError(survey_source, "customer_id", f"needed to join '{name}' from the customers file")
    values = convert(customers, name, customers_source).to_numpy()
    matched = (codes >= 0) & (codes < n_base)
    out = np.full(len(codes), np.nan, dtype=object if values.dtype == object else "float64")
    out[matched] = values[codes[matched]]
    return pd.Series(out, index=s.index), True


def load(p) -> DualData:
    """Read the survey, the customers and the incidents files as ``p`` says (see the module docstring) and
    :func:`assemble` them."""
    survey_file = paths.resolve_input(p.survey_path, "survey")
    customers_file = _beside(survey_file, p.customers_path, "customers")
    incidents_file = _beside(survey_file, p.incidents_path, "incidents")
    customers, customers_source, rest = load_customers(p, customers_file, dict(p.filters or {}))
    keep = list(dict.fromkeys([p.x, p.moderator, *p.controls, "customer_id", *p.adjust_for,
                               *([p.date_col] if p.date_col else []),
                               *([p.outcome] if p.outcome != PROMOTER else ["nps"])]))
    survey = loaders.load_survey(
        survey_file, p.customers_path, score_col=None, segment_cols=(), date_col=None, comment_col=None,
        filters=rest, cluster_col=p.cluster_col, encoding=p.encoding, sheet=p.sheet, min_cell=p.min_cell,
        measures=("outcomes",), keep=keep)
    incidents, incidents_source = read_incidents(p, incidents_file)
    inputs = {"survey": paths.display_path(survey_file),
              "customers": paths.display_path(customers_file) if customers_file is not None else None,
              "incidents": paths.display_path(incidents_file) if incidents_file is not None else None}
    truth = survey.truth
    if truth is not None and customers_file is not None and customers_file.parent != survey_file.parent:
        truth = None
    cluster = survey.frame["cluster_id"] if survey.cluster_col else None
    return assemble(p, survey.frame, customers, incidents, cluster=cluster, inputs=inputs, truth=truth,
                    sources={"survey": survey.source, "customers": customers_source, "incidents": incidents_source},
                    customers_filtered=len(rest) < len(p.filters or {}))


def assemble(p, s: pd.DataFrame, customers: pd.DataFrame | None, incidents: pd.DataFrame | None, *, cluster=None,
             inputs: dict | None = None, truth: dict | None = None, sources: dict | None = None,
             customers_filtered: bool = False) -> DualData:
    """The analysis' frames from tables already read (the survey ``s`` with its canonical columns, the customers
    and incidents tables or None): customers numbered once, columns joined through the numbers, the outcome
    built. ``cluster``: who answered, one label per survey row (None: independent rows). Tests and benchmarks call
    this on generated frames; :func:`load` on the files."""
    sources = dict(sources or {"survey": "survey", "customers": "customers", "incidents": "incidents"})
    source, customers_source = sources["survey"], sources.get("customers")
    ids, n_base, codes = _codes(customers, s["customer_id"] if "customer_id" in s else None)
    if codes is not None and customers is not None and customers_filtered:
        mine = (codes >= 0) & (codes < n_base)   # filtered customers: their responses only
        s, codes = s.loc[mine], codes[mine]
        cluster = cluster.loc[mine] if cluster is not None else None
        privacy.require_group_size(len(s), p.min_cell, source=source, what="responses", filters=p.filters)
    responses = pd.DataFrame({Y: _outcome(p, s, source)}, index=s.index)
    joined = []
    roles = ((p.x, "x"), (p.moderator, "moderator"), *((c, "controls") for c in p.controls))
    for name, param in roles:
        responses[name], from_customers = _column(name, param, s, customers, source, customers_source, codes,
                                                  n_base)
        joined += [name] if from_customers else []
    if cluster is not None:
        same = p.cluster_col == "customer_id" and codes is not None
        responses[CLUSTER] = codes if same else pd.factorize(pd.Series(cluster).to_numpy())[0]
    if codes is not None:
        responses[CUSTOMER] = codes
    if p.date_col and p.date_col in s:
        dates = s[p.date_col]
        responses[DATE] = dates if pd.api.types.is_datetime64_any_dtype(dates) else io.coerce_date(
            s, p.date_col, source=source)
    for col in LOYALTY_OUTCOMES:
        if col in s:
            responses[col] = s[col].astype("float64")
    for col in p.adjust_for:
        if col not in responses and (col in s or (customers is not None and col in customers and codes is not None)):
            responses[col] = _column(col, "adjust_for", s, customers, source, customers_source, codes, n_base)[0]
    notes: list[str] = []
    match = None
    if joined:
        match = float(((codes >= 0) & (codes < n_base)).mean()) if len(codes) else 1.0
        if match == 0:
            raise DataError(source, "customer_id", "no survey customer_id matches one in the customers file")
        if match < 1:
            notes.append(f"{1 - match:.1%} of responses have no matching customer and are left out of the models")
    limit = n_base if customers is not None else len(ids)
    return DualData(responses=responses, customers=customers,
                    incidents=_number_incidents(incidents, ids, limit, sources),
                    inputs=dict(inputs or {}), sources=sources, truth=truth, filters=dict(p.filters or {}),
                    n_customers=n_base, customer_ids=ids, notes=tuple(notes), from_customers=tuple(joined),
                    join_match_rate=match)


def read_incidents(p, incidents_file):
    """The incidents file (customer_id, date, recovered, recovery_hours, recovery_satisfaction required), or None."""
    if incidents_file is None:
        return None, None
    frame = io.read_table(incidents_file, "incidents", required=INCIDENT_COLUMNS, encoding=p.encoding,
                          sheet=p.sheet)
    return frame, frame.attrs.get("loyaltylab", {}).get("source", paths.display_path(incidents_file))


def _number_incidents(frame: pd.DataFrame | None, ids: pd.Index, limit: int, sources: dict) -> pd.DataFrame | None:
    """The incidents of the customers analysed — codes below ``limit``: the customers file's (after filters), or
    without one the survey's respondents — with their codes in ``__customer``."""
    if frame is None:
        return None
    codes = ids.get_indexer(frame["customer_id"].to_numpy())
    keep = (codes >= 0) & (codes < limit)
    frame = frame.loc[keep].assign(**{CUSTOMER: codes[keep]})
    bad = frame["date"].isna()
    if bad.any():
        raise DataError.from_mask(sources.get("incidents"), "date", "missing incident date", frame["customer_id"],
                                  bad)
    return frame.assign(recovered=frame["recovered"].astype("float64"),
                        date=pd.to_datetime(frame["date"]))
