"""From a customers table to survival data: durations, events, the design matrix, and the input policy.

Input policy (stated in the report by :func:`policy_table`)
    * duration from ``duration_col`` + ``event_col``, or from ``signup_col`` / ``churn_date_col`` and a snapshot
      (dates are used when the duration column is absent or when ``snapshot_date`` is given explicitly);
    * events: 1/0, True/False, Yes/No (是/否) — or, with ``event_value``, "equals this value"; anything else is a
      DataError; a missing duration or event → row dropped and counted;
    * negative duration (churn before signup) → DataError; zero duration (no time at risk yet, e.g. telco
      ``tenure`` 0) → dropped and counted; signup after the snapshot → dropped and counted; a churn date after the
      snapshot → the customer is still active at the snapshot (censored there) and counted; ``event_col`` = 1 with a
      blank churn date → churned (at signup + ``duration_col`` when the file has one, else at the snapshot), counted;
    * missing covariate values → row dropped and counted (complete cases); a covariate with a single value left
      (e.g. after a segment filter) is left out of the models, with a note;
    * a category level with fewer than ``min_cell`` customers gets no coefficient of its own: such levels are pooled
      into one level ``(other)`` when together they have at least ``min_cell`` customers, else they are counted with
      the reference level; the note names the levels, never their counts.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from loyaltylab import io, params
from loyaltylab.errors import DataError, ParameterError
from loyaltylab.i18n import Both, term_zh

TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}  # days per unit
DAYS_PER_MONTH = 30.4375
COURSE_COVARIATES = (
    "provider_proactive", "customer_proactive", "provider_proactive:customer_proactive", "segment", "channel",
)
MAX_SEGMENT_LEVELS = 20        # more levels than this in segment_col → DataError (choose a categorical column)
OTHER_LEVEL = "(other)"        # the pooled level of the categories with fewer than min_cell customers
KEPT_RULES = ("churn after snapshot", "churned without a churn date")   # policies that keep the row

UNIT_ZH = {"days": "天", "weeks": "周", "months": "个月", "years": "年"}

POLICIES = {
    "missing duration or event": "row dropped and counted",
    "zero duration": "row dropped and counted (no time at risk yet)",
    "signup after snapshot": "row dropped and counted (not yet a customer at the snapshot)",
    "churn after snapshot": "kept as active (censored at the snapshot) and counted",
    "churned without a churn date": ("kept as churned (at signup + the duration column when there is one, else at "
                                     "the snapshot) and counted"),
    "missing covariate": "row dropped and counted (complete cases)",
    "category level below min_cell": ("no coefficient of its own: pooled into '(other)', or counted with the "
                                      "reference level when even the pool is below min_cell (see the notes)"),
    "negative duration": "error: the file is refused, with one line naming the rows",
    "unreadable event value": "error: the file is refused, with one line naming the rows",
}


@dataclass(frozen=True)
class Design:
    """How covariates became model columns: treatment contrasts vs the most frequent level, products for a:b."""

    terms: tuple[str, ...]                      # terms in the model, e.g. ("age", "segment", "a:b")
    columns: tuple[str, ...]                    # design columns, e.g. ("age", "segment[Premium]", "a:b")
    term_columns: dict[str, tuple[str, ...]]    # term → its design columns
    categorical: dict[str, tuple[str, ...]]     # categorical variable → levels, reference first
    notes: tuple[str, ...] = ()

    @property
    def reference_levels(self) -> dict[str, str]:
        return {k: v[0] for k, v in self.categorical.items()}

    def term_of(self, column: str) -> str:
        for term, cols in self.term_columns.items():
            if column in cols:
                return term
        raise KeyError(column)


def _quoted_zh(name) -> str:
    """A column or term inside a Chinese note, in Chinese curly quotes: “细分市场”, “spend”."""
    return f"“{term_zh(name)}”"


@dataclass(frozen=True)
class SurvivalData:
    """Durations, events and the design matrix, one row per kept customer (index = 0-based data row of the file)."""

    frame: pd.DataFrame          # "duration", "event", then the design columns
    base: pd.DataFrame           # the covariates as read (numbers, category labels), for strata and labels
    extra: pd.DataFrame          # id / segment / revenue / acquisition cost columns kept for reporting
    design: Design
    n_input: int
    dropped: dict[str, int]
    time_unit: str
    source: str
    duration_from: str           # a sentence: where durations came from
    snapshot: pd.Timestamp | None = None
    roles: dict[str, str | None] = field(default_factory=dict)  # "id", "segment", "revenue", "acquisition_cost"

    @property
    def n(self) -> int:
        return len(self.frame)

    @property
    def events(self) -> int:
        return int(self.frame["event"].sum())

    @property
    def covariates(self) -> list[str]:
        return list(self.design.columns)

    @property
    def dropped_rows(self) -> int:
        return int(sum(v for k, v in self.dropped.items() if k not in KEPT_RULES))


def days_per_unit(time_unit: str) -> float:
    return TIME_UNITS[params.choice(*TIME_UNITS)(time_unit, "time_unit")]


def parse_terms(covariates: Sequence[str] | str | None) -> tuple[list[str], list[str]]:
    """Terms as given (``"a:b"`` is an interaction) and the distinct variables they use, in order."""
    if covariates is None:
        covariates = list(COURSE_COVARIATES)
    if isinstance(covariates, str):
        covariates = [covariates]
    terms, variables = [], []
    for term in covariates:
        term = str(term).strip()
        parts = [p.strip() for p in term.split(":")]
        if not term or any(not p for p in parts):
            raise ParameterError("covariates", list(covariates), f"empty name in covariate term {term!r}")
        term = ":".join(parts)
        if term not in terms:
            terms.append(term)
        for p in parts:
            if p not in variables:
                variables.append(p)
    return terms, variables


def _is_text(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def _looks_numeric(s: pd.Series) -> bool:
    """A text column whose every non-blank value parses as a number (e.g. TotalCharges with blanks).
    Checked on the distinct values only, so a million rows with a few labels cost nothing."""
    try:
        io.coerce_numeric(pd.DataFrame({"x": pd.unique(s.dropna())}), "x", source="probe")
        return True
    except DataError:
        return False


def _label(v) -> object:
    """A category label: stripped text, whole floats without '.0'; blanks and NA-like tokens → missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return np.nan
    if isinstance(v, str):
        v = v.strip()
        return np.nan if v in io.MISSING_TOKENS else v
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _as_labels(s: pd.Series) -> pd.Series:
    """Category labels for a column, computed once per distinct value."""
    uniques = pd.unique(s)
    mapping = {u: _label(u) for u in uniques if not (isinstance(u, float) and math.isnan(u))}
    return s.map(mapping).astype(object)


def levels_by_frequency(values: pd.Series) -> list[str]:
    """Distinct values, most frequent first (ties: alphabetical) — the order of every per-group table."""
    counts = values.value_counts(dropna=True)
    order = sorted(counts.index, key=lambda v: (-int(counts[v]), str(v)))
    return [str(v) for v in order]


def _base_variables(df, variables, forced, source) -> tuple[pd.DataFrame, dict[str, str]]:
    base: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    for var in variables:
        s = df[var]
        if var in forced or (_is_text(s) and not _looks_numeric(s)):
            base[var] = _as_labels(s)
            kinds[var] = "categorical"
        else:
            base[var] = io.coerce_numeric(df, var, source=source)
            kinds[var] = "numeric"
    return pd.DataFrame(base, index=df.index), kinds


def _pool_rare_levels(values: pd.Series, var: str, min_cell: int | None, reference: str | None,
                      notes: list[str]) -> pd.Series:
    """Levels with fewer than ``min_cell`` customers get no coefficient (a 2-customer level's hazard ratio would say
    how many of them churned): pooled into :data:`OTHER_LEVEL` when the pool has at least ``min_cell`` customers,
    else relabelled as the reference level (the most frequent one, or ``reference``). The note names the levels and
    what was done — never their counts."""
    if not min_cell or min_cell <= 1:
        return values
    counts = values.value_counts(dropna=True)
    rare = sorted((str(v) for v in counts.index if int(counts[v]) < min_cell), key=str)
    if not rare or len(rare) == len(counts):
        return values
    names = ", ".join(f"'{v}'" for v in rare)
    few = f"'{var}': {'the level' if len(rare) == 1 else 'the levels'} {names} {'has' if len(rare) == 1 else 'have'}"
    names_zh = "、".join(f"“{v}”" for v in rare)
    few_zh = f"{_quoted_zh(var)}：{'水平' if len(rare) == 1 else '这些水平'}{names_zh}"
    pooled = int(counts[[v for v in counts.index if str(v) in rare]].sum())
    if pooled >= min_cell and len(rare) > 1:
        label = OTHER_LEVEL
        while label in counts.index:
            label += "*"
        notes.append(Both(f"{few} fewer than {min_cell} customers each: pooled into one level '{label}' in the "
                          "models (their counts are not shown).",
                          f"{few_zh}各自的客户都少于 {min_cell} 位：在模型中合并为一个水平“{label}”（不显示其人数）。"))
    else:
        common = [str(v) for v in levels_by_frequency(values) if str(v) not in rare]
        label = reference if reference in common else common[0]
        notes.append(Both(
            f"{few} fewer than {min_cell} customers, too few to be a level of their own even together: in "
            f"the models they are counted with the reference level '{label}' (their counts are not shown).",
            f"{few_zh}的客户少于 {min_cell} 位，合在一起也不足以单独成为一个水平：在模型中计入参照水平“{label}”"
            "（不显示其人数）。"))
    return values.where(~values.isin(rare), label)


def _variable_columns(complete, variables, kinds, reference_levels, notes, min_cell=None):
    var_columns: dict[str, dict[str, pd.Series]] = {}
    categorical_levels: dict[str, tuple[str, ...]] = {}
    for var in variables:
        values = complete[var]
        if kinds[var] == "categorical":
            values = _pool_rare_levels(values, var, min_cell, reference_levels.get(var), notes)
            complete[var] = values
            levels = levels_by_frequency(values)
            ref = reference_levels.get(var)
            if ref is not None and ref in levels:
                levels = [ref] + [lv for lv in levels if lv != ref]
            if len(levels) < 2:
                notes.append(Both(f"'{var}' has a single value here ({levels[0] if levels else 'none'}); "
                                  "it is left out of the models.",
                                  f"{_quoted_zh(var)}在这里只有一个取值（{levels[0] if levels else '无'}）；不纳入模型。"))
                continue
            categorical_levels[var] = tuple(levels)
            var_columns[var] = {f"{var}[{lv}]": (values == lv).astype("float64") for lv in levels[1:]}
        else:
            if values.nunique() < 2:
                notes.append(Both(f"'{var}' is constant here; it is left out of the models.",
                                  f"{_quoted_zh(var)}在这里是常数；不纳入模型。"))
                continue
            var_columns[var] = {var: values.astype("float64")}
    return var_columns, categorical_levels


def _term_columns(terms, var_columns, notes):
    columns: dict[str, pd.Series] = {}
    term_columns: dict[str, tuple[str, ...]] = {}
    for term in terms:
        parts = term.split(":")
        if any(p not in var_columns for p in parts):
            if len(parts) > 1:
                notes.append(Both(f"interaction '{term}' is left out (one of its parts is).",
                                  f"交互项{_quoted_zh(term)}不纳入模型（它的某个组成部分未纳入）。"))
            continue
        cols = dict(var_columns[parts[0]])
        for p in parts[1:]:
            cols = {f"{name_a}:{name_b}": col_a * col_b
                    for name_a, col_a in cols.items() for name_b, col_b in var_columns[p].items()}
        kept = []
        for name, col in cols.items():
            if name in columns:
                continue
            if len(parts) > 1 and col.nunique() < 2:
                notes.append(Both(f"'{name}' is constant here; it is left out of the models.",
                                  f"{_quoted_zh(name)}在这里是常数；不纳入模型。"))
                continue
            columns[name] = col
            kept.append(name)
        if kept:
            term_columns[term] = tuple(kept)
    return columns, term_columns


def build_design(
    df: pd.DataFrame,
    covariates: Sequence[str] | None,
    categorical: Sequence[str] | None = None,
    *,
    source: str,
    reference_levels: Mapping[str, str] | None = None,
    min_cell: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Design, pd.Series]:
    """The design matrix for ``covariates`` (course defaults when None).

    Numeric columns enter per unit as given; text columns (and those listed in ``categorical``) become treatment
    dummies ``column[level]`` against the most frequent level (ties: alphabetical); ``"a:b"`` is the product of the
    two terms' columns. With ``min_cell``, levels with fewer customers are pooled (:func:`_pool_rare_levels`; the
    base variables carry the pooled labels). Returns (design frame, base variables, Design, missing-covariate mask).
    """
    terms, variables = parse_terms(covariates)
    io.require_columns(df, variables, source=source)
    forced = set(categorical or ())
    unknown = forced - set(df.columns)
    if unknown:
        io.require_columns(df, sorted(unknown), source=source)
    base_df, kinds = _base_variables(df, variables, forced, source)
    missing = base_df.isna().any(axis=1)
    complete = base_df.loc[~missing].copy()
    notes: list[str] = []
    var_columns, categorical_levels = _variable_columns(complete, variables, kinds, dict(reference_levels or {}),
                                                        notes, min_cell)
    base_df.loc[complete.index, list(categorical_levels)] = complete[list(categorical_levels)]
    columns, term_columns = _term_columns(terms, var_columns, notes)
    X = pd.DataFrame(columns, index=complete.index)
    design = Design(terms=tuple(term_columns), columns=tuple(X.columns), term_columns=term_columns,
                    categorical=dict(categorical_levels), notes=tuple(notes))
    return X, base_df, design, missing


def infer_snapshot(
    df: pd.DataFrame, signup: pd.Series, churn: pd.Series | None, duration_col: str | None, time_unit: str,
    source: str,
) -> pd.Timestamp | None:
    """The export day when not given: the latest signup + duration (exact for course-style files, where an active
    customer's duration runs to the snapshot), else the latest signup or churn date."""
    candidates = []
    if duration_col and duration_col in df.columns:
        dur = io.coerce_numeric(df, duration_col, source=source)
        ends = signup + pd.to_timedelta(dur * days_per_unit(time_unit), unit="D")
        if ends.notna().any():
            candidates.append(ends.max().normalize())
    if not candidates:
        for s in (signup, churn):
            if s is not None and s.notna().any():
                candidates.append(s.max())
    return max(candidates) if candidates else None


def _durations_from_dates(df, signup_col, churn_date_col, snapshot_date, duration_col, time_unit, source, dropped,
                          event_col=None, event_value=None):
    signup = io.coerce_date(df, signup_col, source=source)
    churn = io.coerce_date(df, churn_date_col, source=source)
    snapshot = io.parse_snapshot(snapshot_date) if snapshot_date is not None else None
    if snapshot is None:
        snapshot = infer_snapshot(df, signup, churn, duration_col, time_unit, source)
    churn = fill_churn_dates(df, churn, signup, event_col, event_value, duration_col, time_unit, snapshot,
                                  source, dropped)
    before = churn.notna() & signup.notna() & (churn < signup)
    if before.any():
        raise DataError.from_mask(source, churn_date_col, f"churn date before {signup_col} (negative duration)",
                                  df[churn_date_col], before)
    missing = signup.isna()
    late_signup = signup.notna() & (signup > snapshot)
    late_churn = churn.notna() & (churn > snapshot) & ~late_signup & ~missing
    end = churn.where(churn.notna() & ~late_churn, snapshot)
    duration = (end - signup).dt.days.astype("float64") / days_per_unit(time_unit)
    event = (churn.notna() & ~late_churn).astype("float64")
    dropped["missing duration or event"] += int(missing.sum())
    dropped["signup after snapshot"] += int(late_signup.sum())
    dropped["churn after snapshot"] += int(late_churn.sum())
    duration_from = Both(f"'{signup_col}' to '{churn_date_col}' (or to the snapshot {snapshot:%Y-%m-%d} when "
                         f"active), in {time_unit}",
                         f"从{_quoted_zh(signup_col)}到{_quoted_zh(churn_date_col)}（在网客户则到快照日 {snapshot:%Y-%m-%d}），"
                         f"单位：{UNIT_ZH.get(time_unit, time_unit)}")
    return duration, event, ~missing & ~late_signup, duration_from, snapshot


def fill_churn_dates(df, churn, signup, event_col, event_value, duration_col, time_unit, snapshot, source,
                          dropped) -> pd.Series:
    """Churn dates with the blanks of customers whose ``event_col`` says they churned filled in: signup + the
    duration column when the file has one (its value is the time to churn), else the snapshot (they had left by
    then). Such a customer was once counted as active and put on the at-risk list."""
    if not (event_col and event_col in df.columns):
        return churn
    flag = io.coerce_flag(df, event_col, source=source, true_value=event_value)
    blank = churn.isna() & (flag == 1).fillna(False).to_numpy(dtype=bool) & signup.notna()
    if not blank.any():
        return churn
    fill = pd.Series(snapshot, index=df.index, dtype="datetime64[ns]")
    if duration_col and duration_col in df.columns:
        dur = io.coerce_numeric(df, duration_col, source=source)
        implied = signup + pd.to_timedelta(dur * days_per_unit(time_unit), unit="D")
        fill = implied.where(dur.notna() & (dur >= 0), fill)
    dropped["churned without a churn date"] += int(blank.sum())
    return churn.where(~blank, fill)


def _durations_from_column(df, duration_col, event_col, event_value, time_unit, source, dropped):
    dur = io.coerce_numeric(df, duration_col, source=source)
    negative = dur < 0
    if negative.any():
        raise DataError.from_mask(source, duration_col, "must not be negative (a duration is time since signup)",
                                  df[duration_col], negative)
    ev = io.coerce_flag(df, event_col, source=source, true_value=event_value)
    missing = dur.isna() | ev.isna()
    dropped["missing duration or event"] += int(missing.sum())
    rule = f"= {event_value!r}" if event_value is not None else "1 / yes / true"
    duration_from = Both(f"'{duration_col}' in {time_unit}; churn = '{event_col}' {rule}",
                         f"{_quoted_zh(duration_col)}，单位：{UNIT_ZH.get(time_unit, time_unit)}；"
                         f"流失 = {_quoted_zh(event_col)} {rule}")
    return dur, ev.astype("float64"), ~missing, duration_from


def role_columns(df: pd.DataFrame, rows, roles: Mapping[str, str | None], source: str) -> dict[str, pd.Series]:
    """The reporting columns (``id``, ``segment``, ``revenue``, ``acquisition_cost``) at ``rows``: revenue and cost
    as numbers ≥ 0 (checked on every row of the file), ids as text, segments as text with '(missing)'."""
    extra = {}
    for role, col in roles.items():
        if not col:
            continue
        io.require_columns(df, [col], source=source)
        if role in ("revenue", "acquisition_cost"):
            extra[role] = io.coerce_numeric(df, col, source=source, min_value=0).loc[rows]
        elif role == "id":       # as in the file (read as text: loaders passes id_col to io.read_raw)
            ids = df[col].loc[rows].astype(object)
            extra[role] = ids.where(ids.notna(), "").astype(str)
        else:
            extra[role] = _as_labels(df[col].loc[rows]).fillna("(missing)").astype(str)   # 2.0 → "2"
    if "id" in extra and extra["id"].duplicated().any():
        dup = extra["id"].duplicated(keep=False)
        # row numbers only: the ids themselves are personal data and never go into a message
        masked = pd.Series("(duplicate id)", index=extra["id"].index)
        raise DataError.from_mask(source, roles["id"], "duplicated customer id", masked, dup)
    if "segment" in extra:
        n_levels = int(extra["segment"].nunique())
        if n_levels > MAX_SEGMENT_LEVELS:
            raise DataError(source, roles["segment"], f"has {n_levels} distinct values (more than "
                            f"{MAX_SEGMENT_LEVELS}); segment_col must be a categorical column such as a plan, "
                            "contract or region — not an id, a date or a number")
    return extra


def with_roles(sd: SurvivalData, df: pd.DataFrame, **roles: str | None) -> SurvivalData:
    """``sd`` with further reporting columns read from ``df`` (the file it was prepared from), e.g.
    ``with_roles(sd, raw, revenue="monthly_revenue")`` — how the CLV analysis adds revenue to churn's data."""
    extra = role_columns(df, sd.frame.index, roles, sd.source)
    merged = sd.extra.assign(**extra) if extra else sd.extra.copy()
    for role, col in roles.items():
        if not col and role in merged:
            merged = merged.drop(columns=role)
    return replace(sd, extra=merged, roles={**sd.roles, **roles})


def prepare(
    df: pd.DataFrame,
    *,
    duration_col: str | None = "tenure_days",
    event_col: str | None = "churned",
    event_value=None,
    signup_col: str | None = "signup_date",
    churn_date_col: str | None = "churn_date",
    snapshot_date=None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    time_unit: str = "days",
    id_col: str | None = None,
    segment_col: str | None = None,
    revenue_col: str | None = None,
    acquisition_cost_col: str | None = None,
    source: str = "<data>",
    reference_levels: Mapping[str, str] | None = None,
    min_cell: int | None = None,
) -> SurvivalData:
    """Durations, events and covariates under the policy in the module docstring (``min_cell``: category levels
    with fewer customers are pooled). An error about the id column names rows, never ids."""
    try:
        return _prepare(df, duration_col, event_col, event_value, signup_col, churn_date_col, snapshot_date,
                        covariates, categorical, time_unit, id_col, segment_col, revenue_col, acquisition_cost_col,
                        source, reference_levels, min_cell)
    except DataError as exc:
        if id_col and exc.column == id_col and exc.values and not isinstance(exc, ParameterError):
            masked = [v if v == "(duplicate id)" else "(id)" for v in exc.values]
            raise DataError(exc.source, exc.column, exc.rule, exc.rows, masked, n_bad=exc.n_bad) from None
        raise


def _prepare(df, duration_col, event_col, event_value, signup_col, churn_date_col, snapshot_date, covariates,
             categorical, time_unit, id_col, segment_col, revenue_col, acquisition_cost_col, source, reference_levels,
             min_cell) -> SurvivalData:
    days_per_unit(time_unit)
    n_input = len(df)
    dropped = {k: 0 for k in ("missing duration or event", "zero duration", "signup after snapshot",
                              "churn after snapshot", "missing covariate", "churned without a churn date")}
    has_duration = bool(duration_col) and duration_col in df.columns and bool(event_col) and event_col in df.columns
    has_dates = bool(signup_col) and signup_col in df.columns and bool(churn_date_col) and churn_date_col in df.columns
    snapshot = None
    if has_dates and (snapshot_date is not None or not has_duration):
        duration, event, keep, duration_from, snapshot = _durations_from_dates(
            df, signup_col, churn_date_col, snapshot_date, duration_col, time_unit, source, dropped,
            event_col=event_col, event_value=event_value)
    elif has_duration:
        duration, event, keep, duration_from = _durations_from_column(
            df, duration_col, event_col, event_value, time_unit, source, dropped)
    else:
        needed = [c for c in (duration_col, event_col) if c] or [signup_col, churn_date_col]
        missing_cols = [c for c in needed if c not in df.columns] or [c for c in (signup_col, churn_date_col)
                                                                      if c and c not in df.columns]
        io.require_columns(df, missing_cols or needed, source=source)
        raise DataError(source, None, "needs a duration and an event column, or signup and churn date columns")

    zero = keep & (duration == 0)
    dropped["zero duration"] += int(zero.sum())
    keep = keep & ~zero

    X, base, design, missing_cov = build_design(
        df.loc[keep], covariates, categorical, source=source, reference_levels=reference_levels, min_cell=min_cell)
    dropped["missing covariate"] += int(missing_cov.sum())
    rows = X.index
    frame = pd.concat([pd.DataFrame({"duration": duration.loc[rows].astype("float64"),
                                     "event": event.loc[rows].astype("int64")}, index=rows), X], axis=1)
    roles = {"id": id_col, "segment": segment_col, "revenue": revenue_col, "acquisition_cost": acquisition_cost_col}
    extra = role_columns(df, rows, roles, source)
    return SurvivalData(
        frame=frame, base=base.loc[rows], extra=pd.DataFrame(extra, index=rows), design=design, n_input=n_input,
        dropped=dropped, time_unit=time_unit, source=source, duration_from=duration_from, snapshot=snapshot,
        roles=dict(roles),
    )


def policy_table(sd: SurvivalData) -> pd.DataFrame:
    """Every input rule, what happens, and how many rows it touched here (a rule that counts no rows — rare levels
    are pooled, not dropped — has no number: None, shown as '–')."""
    counts = [int(sd.dropped[rule]) if rule in sd.dropped else (None if rule == "category level below min_cell" else 0)
              for rule in POLICIES]
    return pd.DataFrame({"rule": list(POLICIES), "policy": list(POLICIES.values()),
                         "rows": pd.Series(counts, dtype=object)})


def group_values(sd: SurvivalData, column: str) -> pd.Series:
    """The group of every customer in ``sd`` by ``column`` (the segment column, or a categorical covariate)."""
    if "segment" in sd.extra and sd.roles.get("segment") == column:
        return sd.extra["segment"]
    if column in sd.base:
        return sd.base[column].astype(str)
    raise DataError(sd.source, column, "segment column was not loaded (pass it as segment_col)")


def restrict(sd: SurvivalData, keep, note: str | None = None) -> SurvivalData:
    """``sd`` on the rows where ``keep`` holds, with its design rebuilt on them: a level left without customers
    loses its column (a reference level left without customers gives way to the most frequent remaining one), a
    column left constant leaves the model. ``note`` (in words) is added to the design notes."""
    keep = np.asarray(keep, dtype=bool)
    rows = sd.frame.index[keep]
    base = sd.base.loc[rows].copy()
    terms = list(sd.design.terms)
    variables = list(dict.fromkeys(p for t in terms for p in t.split(":")))
    kinds = {v: "categorical" if v in sd.design.categorical else "numeric" for v in variables}
    notes = [*sd.design.notes, *([note] if note else [])]
    fresh: list[str] = []
    var_columns, levels = _variable_columns(base, variables, kinds, sd.design.reference_levels, fresh)
    columns, term_columns = _term_columns(terms, var_columns, fresh)
    X = pd.DataFrame(columns, index=rows)
    design = Design(terms=tuple(term_columns), columns=tuple(X.columns), term_columns=term_columns,
                    categorical=dict(levels), notes=tuple(notes + fresh))
    frame = pd.concat([sd.frame.loc[rows, ["duration", "event"]], X], axis=1)
    return replace(sd, frame=frame, base=base, extra=sd.extra.loc[rows], design=design)

