"""Survival-based churn (生存分析): Kaplan–Meier, log-rank, Cox, AFT, validation, early warning, CLV.

Churn is a time-to-event question. Most customers have not churned *yet* — their lifetimes are censored at the
snapshot — so a churn rate or a yes/no classifier is biased. Everything here is survival analysis with lifelines.

Shape: plain functions over DataFrames returning frozen dataclasses; ``plot_*`` functions draw those results;
no printing, no global state, fixed seeds. :func:`analyze` runs the whole notebook pipeline once.

Input policy (stated in the report by :func:`policy_table`)
    * duration from ``duration_col`` + ``event_col``, or from ``signup_col`` / ``churn_date_col`` and a snapshot
      (dates are used when the duration column is absent or when ``snapshot_date`` is given explicitly);
    * events: 1/0, True/False, Yes/No (是/否) — or, with ``event_value``, "equals this value"; anything else is a
      DataError; a missing duration or event → row dropped and counted;
    * negative duration (churn before signup) → DataError; zero duration (no time at risk yet, e.g. telco
      ``tenure`` 0) → dropped and counted; signup after the snapshot → dropped and counted; a churn date after the
      snapshot → the customer is still active at the snapshot (censored there) and counted;
    * missing covariate values → row dropped and counted (complete cases); a covariate with a single value left
      (e.g. after a segment filter) is left out of the models, with a note.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from loyaltylab import io, privacy
from loyaltylab.errors import DataError

TIME_UNITS = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}  # days per unit
DAYS_PER_MONTH = 30.4375
COURSE_COVARIATES = (
    "provider_proactive", "customer_proactive", "provider_proactive:customer_proactive", "segment", "channel",
)
LTV_CAC_TARGET = 3.0
AFT_MODELS = ("weibull", "lognormal", "loglogistic")
PARAMETERS = "parameters"
MAX_SEGMENT_LEVELS = 20        # more levels than this in segment_col → DataError (choose a categorical column)
PH_TEST_MAX_ROWS = 25_000      # Schoenfeld residuals grow ~quadratically in lifelines: a fixed-seed subsample above this

POLICIES = {
    "missing duration or event": "row dropped and counted",
    "zero duration": "row dropped and counted (no time at risk yet)",
    "signup after snapshot": "row dropped and counted (not yet a customer at the snapshot)",
    "churn after snapshot": "kept as active (censored at the snapshot) and counted",
    "missing covariate": "row dropped and counted (complete cases)",
    "negative duration": "error: the input is rejected with a DataError",
    "unreadable event value": "error: the input is rejected with a DataError",
}


# ====================================================================================================================
# Data preparation
# ====================================================================================================================
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
        return int(sum(v for k, v in self.dropped.items() if k != "churn after snapshot"))


def days_per_unit(time_unit: str) -> float:
    if time_unit not in TIME_UNITS:
        raise DataError(PARAMETERS, "time_unit", f"must be one of {', '.join(TIME_UNITS)}, got {time_unit!r}")
    return TIME_UNITS[time_unit]


def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_)) \
        and math.isfinite(float(x))


def check_share(value, name: str = "margin") -> float:
    """A share in (0, 1] (margin): a one-line DataError naming the parameter otherwise."""
    if not _is_number(value) or not 0 < float(value) <= 1:
        raise DataError(PARAMETERS, name, f"must be a share between 0 (excluded) and 1, e.g. 0.3 for 30%; "
                        f"got {value!r}")
    return float(value)


def check_rate(value, name: str = "discount_rate") -> float:
    """An annual discount rate in [0, 1): 0 means undiscounted; 1 or more is almost surely a percentage typed as a
    whole number (10 for 10%)."""
    if not _is_number(value) or not 0 <= float(value) < 1:
        raise DataError(PARAMETERS, name, f"must be an annual rate between 0 and 1 (0.10 for 10%; 0 = no "
                        f"discounting); got {value!r}")
    return float(value)


def check_penalizer(value) -> float:
    if not _is_number(value) or float(value) < 0:
        raise DataError(PARAMETERS, "penalizer", f"must be a number ≥ 0 (0 = no penalty, try 0.1); got {value!r}")
    return float(value)


def check_min_cell(value) -> int:
    if not _is_number(value) or float(value) != int(value) or int(value) < 1:
        raise DataError(PARAMETERS, "min_cell", f"must be a whole number ≥ 1 (the smallest group that may be shown, "
                        f"e.g. 5); got {value!r}")
    return privacy.check_min_cell(int(value))


def check_horizon(value, time_unit: str) -> float:
    if not _is_number(value) or float(value) <= 0:
        raise DataError(PARAMETERS, "horizon", f"must be a positive number of {time_unit}; got {value!r}")
    return float(value)


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
            raise DataError(PARAMETERS, "covariates", f"empty name in covariate term {term!r}")
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


def _levels_by_frequency(values: pd.Series) -> list[str]:
    counts = values.value_counts(dropna=True)
    order = sorted(counts.index, key=lambda v: (-int(counts[v]), str(v)))
    return [str(v) for v in order]


def build_design(
    df: pd.DataFrame,
    covariates: Sequence[str] | None,
    categorical: Sequence[str] | None = None,
    *,
    source: str,
    reference_levels: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, Design, pd.Series]:
    """The design matrix for ``covariates`` (course defaults when None).

    Numeric columns enter per unit as given; text columns (and those listed in ``categorical``) become treatment
    dummies ``column[level]`` against the most frequent level (ties: alphabetical); ``"a:b"`` is the product of the
    two terms' columns. Returns (design frame, base variables, Design, missing-covariate mask).
    """
    terms, variables = parse_terms(covariates)
    io.require_columns(df, variables, source=source)
    forced = set(categorical or ())
    unknown = forced - set(df.columns)
    if unknown:
        io.require_columns(df, sorted(unknown), source=source)
    reference_levels = dict(reference_levels or {})

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
    base_df = pd.DataFrame(base, index=df.index)
    missing = base_df.isna().any(axis=1)
    complete = base_df.loc[~missing]

    notes: list[str] = []
    var_columns: dict[str, dict[str, pd.Series]] = {}
    categorical_levels: dict[str, tuple[str, ...]] = {}
    for var in variables:
        values = complete[var]
        if kinds[var] == "categorical":
            levels = _levels_by_frequency(values)
            ref = reference_levels.get(var)
            if ref is not None and ref in levels:
                levels = [ref] + [lv for lv in levels if lv != ref]
            if len(levels) < 2:
                notes.append(f"'{var}' has a single value here ({levels[0] if levels else 'none'}); "
                             "it is left out of the models.")
                continue
            categorical_levels[var] = tuple(levels)
            var_columns[var] = {f"{var}[{lv}]": (values == lv).astype("float64") for lv in levels[1:]}
        else:
            if values.nunique() < 2:
                notes.append(f"'{var}' is constant here; it is left out of the models.")
                continue
            var_columns[var] = {var: values.astype("float64")}

    columns: dict[str, pd.Series] = {}
    term_columns: dict[str, tuple[str, ...]] = {}
    for term in terms:
        parts = term.split(":")
        if any(p not in var_columns for p in parts):
            if len(parts) > 1:
                notes.append(f"interaction '{term}' is left out (one of its parts is).")
            continue
        cols = dict(var_columns[parts[0]])
        for p in parts[1:]:
            nxt = {}
            for name_a, col_a in cols.items():
                for name_b, col_b in var_columns[p].items():
                    nxt[f"{name_a}:{name_b}"] = col_a * col_b
            cols = nxt
        kept = []
        for name, col in cols.items():
            if name in columns:
                continue
            if len(parts) > 1 and col.nunique() < 2:
                notes.append(f"'{name}' is constant here; it is left out of the models.")
                continue
            columns[name] = col
            kept.append(name)
        if kept:
            term_columns[term] = tuple(kept)
    X = pd.DataFrame(columns, index=complete.index)
    design = Design(
        terms=tuple(term_columns), columns=tuple(X.columns), term_columns=term_columns,
        categorical={k: v for k, v in categorical_levels.items()}, notes=tuple(notes),
    )
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
) -> SurvivalData:
    """Durations, events and covariates under the policy in the module docstring."""
    unit_days = days_per_unit(time_unit)
    n_input = len(df)
    dropped = {k: 0 for k in ("missing duration or event", "zero duration", "signup after snapshot",
                              "churn after snapshot", "missing covariate")}
    has_duration = bool(duration_col) and duration_col in df.columns and bool(event_col) and event_col in df.columns
    has_dates = bool(signup_col) and signup_col in df.columns and bool(churn_date_col) and churn_date_col in df.columns
    use_dates = has_dates and (snapshot_date is not None or not has_duration)
    snapshot = None
    if use_dates:
        signup = io.coerce_date(df, signup_col, source=source)
        churn = io.coerce_date(df, churn_date_col, source=source)
        snapshot = io._parse_snapshot(snapshot_date) if snapshot_date is not None else None
        if snapshot is None:
            snapshot = infer_snapshot(df, signup, churn, duration_col, time_unit, source)
        before = churn.notna() & signup.notna() & (churn < signup)
        if before.any():
            raise DataError.from_mask(source, churn_date_col, f"churn date before {signup_col} (negative duration)",
                                      df[churn_date_col], before)
        missing = signup.isna()
        late_signup = signup.notna() & (signup > snapshot)
        late_churn = churn.notna() & (churn > snapshot) & ~late_signup & ~missing
        end = churn.where(churn.notna() & ~late_churn, snapshot)
        days = (end - signup).dt.days.astype("float64")
        duration = days / unit_days
        event = (churn.notna() & ~late_churn).astype("float64")
        dropped["missing duration or event"] += int(missing.sum())
        dropped["signup after snapshot"] += int(late_signup.sum())
        dropped["churn after snapshot"] += int(late_churn.sum())
        keep = ~missing & ~late_signup
        duration_from = (f"'{signup_col}' to '{churn_date_col}' (or to the snapshot {snapshot:%Y-%m-%d} when "
                         f"active), in {time_unit}")
    elif has_duration:
        dur = io.coerce_numeric(df, duration_col, source=source)
        negative = dur < 0
        if negative.any():
            raise DataError.from_mask(source, duration_col, "must not be negative (a duration is time since signup)",
                                      df[duration_col], negative)
        ev = io.coerce_flag(df, event_col, source=source, true_value=event_value)
        missing = dur.isna() | ev.isna()
        duration = dur
        event = ev.astype("float64")
        dropped["missing duration or event"] += int(missing.sum())
        keep = ~missing
        rule = f"= {event_value!r}" if event_value is not None else "1 / yes / true"
        duration_from = f"'{duration_col}' in {time_unit}; churn = '{event_col}' {rule}"
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
        df.loc[keep], covariates, categorical, source=source, reference_levels=reference_levels)
    dropped["missing covariate"] += int(missing_cov.sum())
    rows = X.index
    frame = pd.concat([pd.DataFrame({"duration": duration.loc[rows].astype("float64"),
                                     "event": event.loc[rows].astype("int64")}, index=rows), X], axis=1)

    roles = {"id": id_col, "segment": segment_col, "revenue": revenue_col, "acquisition_cost": acquisition_cost_col}
    extra = {}
    for role, col in roles.items():
        if not col:
            continue
        io.require_columns(df, [col], source=source)
        if role in ("revenue", "acquisition_cost"):
            extra[role] = io.coerce_numeric(df, col, source=source, min_value=0).loc[rows]
        elif role == "id":
            extra[role] = df[col].loc[rows].astype(str)
        else:
            extra[role] = df[col].loc[rows].astype(object).where(df[col].loc[rows].notna(), "(missing)").astype(str)
    if "id" in extra and extra["id"].duplicated().any():
        dup = extra["id"].duplicated(keep=False)
        # row numbers only: the ids themselves are personal data and never go into a message
        masked = pd.Series("(duplicate id)", index=extra["id"].index)
        raise DataError.from_mask(source, id_col, "duplicated customer id", masked, dup)
    if "segment" in extra:
        n_levels = int(extra["segment"].nunique())
        if n_levels > MAX_SEGMENT_LEVELS:
            raise DataError(source, segment_col, f"has {n_levels} distinct values (more than {MAX_SEGMENT_LEVELS}); "
                            "segment_col must be a categorical column such as a plan, contract or region — "
                            "not an id, a date or a number")
    return SurvivalData(
        frame=frame, base=base.loc[rows], extra=pd.DataFrame(extra, index=rows), design=design, n_input=n_input,
        dropped=dropped, time_unit=time_unit, source=source, duration_from=duration_from, snapshot=snapshot,
        roles={k: v for k, v in roles.items()},
    )


def policy_table(sd: SurvivalData) -> pd.DataFrame:
    """Every input rule, what happens, and how many rows it touched here."""
    rows = [{"rule": rule, "policy": policy, "rows": sd.dropped.get(rule, 0) if rule in sd.dropped else 0}
            for rule, policy in POLICIES.items()]
    return pd.DataFrame(rows)


# ====================================================================================================================
# Kaplan–Meier and log-rank
# ====================================================================================================================
@dataclass(frozen=True)
class KMResult:
    fitter: object               # lifelines KaplanMeierFitter (fitted on counts per duration)
    label: str
    n: int
    events: int
    median: float                # inf when not reached
    median_lower: float
    median_upper: float
    survival_at: pd.DataFrame    # time, survival, lower, upper, at_risk


def default_times(time_unit: str, horizon: float, max_duration: float) -> list[float]:
    """The horizon and whole years (1, 2, 3) within the follow-up."""
    year = TIME_UNITS["years"] / days_per_unit(time_unit)
    times = [float(horizon)] + [round(k * year, 6) for k in (1, 2, 3)]
    out = sorted({t for t in times if 0 < t <= max_duration})
    return out


def _step_at(index: np.ndarray, values: np.ndarray, t, before: float = 1.0) -> np.ndarray:
    """Right-continuous step function value at t (``before`` before the first index)."""
    pos = np.searchsorted(index, np.asarray(t, dtype=float), side="right") - 1
    vals = np.asarray(values, dtype=float)
    return np.where(pos >= 0, vals[np.clip(pos, 0, len(vals) - 1)], before)


def kaplan_meier(
    durations, events, *, times: Sequence[float] = (), alpha: float = 0.05, label: str = "All customers"
) -> KMResult:
    """KM with Greenwood (log-log) confidence band, fitted on counts per (duration, event) — fast at 1M rows."""
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    d = pd.Series(np.asarray(durations, dtype=float))
    e = pd.Series(np.asarray(events, dtype=int))
    counts = pd.DataFrame({"d": d, "e": e}).groupby(["d", "e"], sort=True).size().reset_index(name="w")
    kmf = KaplanMeierFitter(alpha=alpha, label=label)
    kmf.fit(counts["d"], counts["e"], weights=counts["w"], label=label)
    ci = median_survival_times(kmf.confidence_interval_)
    med_lo, med_hi = (float(ci.iloc[0, 0]), float(ci.iloc[0, 1])) if ci.shape[1] == 2 else (np.nan, np.nan)
    sf = kmf.survival_function_
    idx = sf.index.to_numpy(dtype=float)
    band = kmf.confidence_interval_survival_function_
    times = list(times)
    table = pd.DataFrame({
        "time": np.asarray(times, dtype=float),
        "survival": _step_at(idx, sf.iloc[:, 0].to_numpy(), times),
        "lower": _step_at(idx, band.iloc[:, 0].to_numpy(), times),
        "upper": _step_at(idx, band.iloc[:, 1].to_numpy(), times),
        "at_risk": [int((d >= t).sum()) for t in times] if len(d) < 2_000_000 else np.nan,
    })
    return KMResult(fitter=kmf, label=label, n=int(len(d)), events=int(e.sum()), median=float(kmf.median_survival_time_),
                    median_lower=med_lo, median_upper=med_hi, survival_at=table)


@dataclass(frozen=True)
class KMGroups:
    column: str
    table: pd.DataFrame            # value, n, events, median, median_lower, median_upper, S(t)…, suppressed
    curves: dict[str, KMResult]    # visible groups only


def shown_groups(groups: pd.Series, min_cell: int) -> tuple[list[str], list[str]]:
    """(all groups by frequency, the groups a suppressed table shows). Complementary suppression decides: a group
    is shown only if ``privacy.suppress(..., complementary=True)`` keeps it, so a hidden group can never be recovered
    from the shown ones — every curve, test and list built per group must use exactly the second list."""
    order = _ordered_groups(groups)
    if not order:
        return [], []
    counts = groups.value_counts()
    table = privacy.suppress(pd.DataFrame({"value": order, "n": [int(counts[g]) for g in order]}),
                             min_cell=min_cell, value_cols=[])
    return order, list(privacy.visible(table)["value"])


def km_by_group(sd: SurvivalData, column: str = "segment", *, min_cell: int = 5, times: Sequence[float] = (),
                alpha: float = 0.05) -> KMGroups:
    """KM per value of a segment column; groups the (complementary) suppression hides get no curve, no numbers."""
    groups = _group_values(sd, column)
    order, shown = shown_groups(groups, min_cell)
    rows, curves = [], {}
    for value in order:
        mask = (groups == value).to_numpy()
        sub = sd.frame.loc[mask]
        row = {"value": value, "n": int(mask.sum()), "events": int(sub["event"].sum())}
        if value in shown:
            km = kaplan_meier(sub["duration"], sub["event"], times=times, alpha=alpha, label=str(value))
            curves[value] = km
            row.update(median=km.median, median_lower=km.median_lower, median_upper=km.median_upper)
            for t, s in zip(km.survival_at["time"], km.survival_at["survival"]):
                row[f"S({t:g})"] = s
        else:
            row.update(median=np.nan, median_lower=np.nan, median_upper=np.nan)
            for t in times:
                row[f"S({t:g})"] = np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    table = privacy.suppress(table, min_cell=min_cell) if len(table) else table.assign(suppressed=[])
    assert set(curves) == set(privacy.visible(table)["value"])
    return KMGroups(column=column, table=table, curves=curves)


def _group_values(sd: SurvivalData, column: str) -> pd.Series:
    if "segment" in sd.extra and sd.roles.get("segment") == column:
        return sd.extra["segment"]
    if column in sd.base:
        return sd.base[column].astype(str)
    raise DataError(sd.source, column, "segment column was not loaded (pass it as segment_col)")


def _ordered_groups(groups: pd.Series) -> list[str]:
    return _levels_by_frequency(groups)


@dataclass(frozen=True)
class LogrankResult:
    column: str
    statistic: float | None
    df: int | None
    p_value: float | None
    groups: tuple[str, ...]        # the groups tested (suppressed ones are left out)
    pairwise: pd.DataFrame         # group_a, group_b, statistic, p_value, p_holm, significant


def logrank(sd: SurvivalData, column: str = "segment", *, min_cell: int = 5, alpha: float = 0.05) -> LogrankResult:
    """Log-rank test across the (unsuppressed) groups, and pairwise with Holm's correction."""
    from lifelines.statistics import logrank_test, multivariate_logrank_test
    from statsmodels.stats.multitest import multipletests

    groups = _group_values(sd, column)
    _, tested = shown_groups(groups, min_cell)
    empty = pd.DataFrame(columns=["group_a", "group_b", "statistic", "p_value", "p_holm", "significant"])
    if len(tested) < 2:
        return LogrankResult(column, None, None, None, tuple(tested), empty)
    mask = groups.isin(tested).to_numpy()
    f = sd.frame.loc[mask]
    g = groups[mask]
    res = multivariate_logrank_test(f["duration"], g, f["event"])
    rows = []
    for i, a in enumerate(tested):
        for b in tested[i + 1:]:
            ma, mb = (g == a).to_numpy(), (g == b).to_numpy()
            r = logrank_test(f["duration"][ma], f["duration"][mb], f["event"][ma], f["event"][mb])
            rows.append({"group_a": a, "group_b": b, "statistic": float(r.test_statistic), "p_value": float(r.p_value)})
    pairwise = pd.DataFrame(rows)
    pairwise["p_holm"] = multipletests(pairwise["p_value"], method="holm")[1]
    pairwise["significant"] = pairwise["p_holm"] < alpha
    return LogrankResult(column, float(res.test_statistic), int(res.degrees_of_freedom), float(res.p_value),
                         tuple(tested), pairwise)


# ====================================================================================================================
# Cox proportional hazards
# ====================================================================================================================
@dataclass(frozen=True)
class CoxResult:
    fitter: object                 # lifelines CoxPHFitter
    table: pd.DataFrame            # covariate, term, coef, se, coef_lower, coef_upper, hazard_ratio, hr_lower, hr_upper, p_value, significant
    concordance: float | None      # on the fitting data (see validate() for held-out)
    aic_partial: float
    log_likelihood: float
    n: int
    events: int
    penalizer: float
    strata: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    strata_follow_up: dict = field(default_factory=dict)   # stratum label → longest duration in that stratum

    @property
    def label(self) -> str:
        return f"Cox stratified by {', '.join(self.strata)}" if self.strata else "Cox"


def fit_cox(
    sd: SurvivalData,
    *,
    penalizer: float = 0.0,
    strata: Sequence[str] = (),
    rows=None,
    concordance: bool = True,
    alpha: float = 0.05,
) -> CoxResult:
    """Cox PH (Efron ties; lifelines picks its batch algorithm for tied integer durations).

    ``strata``: categorical variables to stratify by (their dummies leave the model; each stratum gets its own
    baseline). ``rows``: a boolean mask / index to fit on a subset (train split, subsample)."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError
    from scipy import stats

    strata = tuple(strata)
    frame = sd.frame if rows is None else sd.frame.loc[rows]
    cols = [c for c in sd.design.columns if not set(sd.design.term_of(c).split(":")) & set(strata)]
    data = frame[["duration", "event", *cols]]
    if strata:
        data = data.assign(**{f"__stratum_{s}": sd.base.loc[data.index, s].astype(str) for s in strata})
    if data["event"].sum() == 0:
        raise DataError(sd.source, None, "no churn events among the customers analysed: a survival model needs some")
    notes = []
    pen = check_penalizer(penalizer)
    for attempt in range(2):
        cph = CoxPHFitter(penalizer=pen, alpha=alpha)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cph.fit(data, duration_col="duration", event_col="event",
                        strata=[f"__stratum_{s}" for s in strata] or None)
            break
        except ConvergenceError as exc:
            if attempt == 1:
                raise DataError(sd.source, None, f"the Cox model did not converge ({str(exc).splitlines()[0]}); "
                                "try fewer covariates or penalizer=0.1") from None
            pen = max(pen, 0.01)
            notes.append(f"The unpenalised Cox fit did not converge; refitted with penalizer={pen}.")
    s = cph.summary
    z = float(stats.norm.ppf(1 - alpha / 2))
    table = pd.DataFrame({
        "covariate": s.index.astype(str),
        "term": [sd.design.term_of(c) for c in s.index],
        "coef": s["coef"].to_numpy(),
        "se": s["se(coef)"].to_numpy(),
    })
    table["coef_lower"] = table["coef"] - z * table["se"]
    table["coef_upper"] = table["coef"] + z * table["se"]
    table["hazard_ratio"] = np.exp(table["coef"])
    table["hr_lower"] = np.exp(table["coef_lower"])
    table["hr_upper"] = np.exp(table["coef_upper"])
    table["p_value"] = s["p"].to_numpy()
    table["significant"] = table["p_value"] < alpha
    follow_up = {}
    if strata:
        labels = _stratum_labels(strata, sd, data.index)
        follow_up = data["duration"].groupby(labels.to_numpy(), sort=False).max().to_dict()
    result = CoxResult(
        fitter=cph, table=table, concordance=None, aic_partial=float(cph.AIC_partial_),
        log_likelihood=float(cph.log_likelihood_), n=int(len(data)), events=int(data["event"].sum()), penalizer=pen,
        strata=strata, notes=tuple(notes), strata_follow_up=follow_up,
    )
    if concordance:
        from lifelines.utils import concordance_index

        # for a stratified model the partial hazard alone ignores the strata: rank by the cumulative hazard at the
        # median duration instead (the same order as the partial hazard when there are no strata)
        c = (float(cph.concordance_index_) if not strata else
             float(concordance_index(data["duration"], -risk_score(result, sd, data.index,
                                                                    float(data["duration"].median())),
                                     data["event"])))
        result = replace(result, concordance=c)
    return result


def _stratum_labels(strata: Sequence[str], sd: SurvivalData, index) -> pd.Series:
    """The baseline column lifelines uses for each row: the stratum value, or a tuple of values for several strata."""
    vals = sd.base.loc[index, list(strata)].astype(str)
    if len(strata) == 1:
        return vals.iloc[:, 0].astype(object)
    return pd.Series(list(vals.itertuples(index=False, name=None)), index=index, dtype=object)


def cumhaz_for(cox: CoxResult, sd: SurvivalData, index, t, *, tail_window: float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Baseline cumulative hazard H0(t_i) for each row in ``index`` (its own stratum's baseline for a stratified
    model; a row whose stratum the model has not seen gets NaN). ``t``: one time per row, or a (rows × k) array.
    Returns (H0, extrapolated) with the shape of ``t``."""
    t = np.asarray(t, dtype=float)
    if not cox.strata:
        times, values = baseline_cumhaz(cox)
        return cumhaz_at(times, values, t, tail_window=tail_window)
    b = cox.fitter.baseline_cumulative_hazard_
    codes, uniques = pd.factorize(_stratum_labels(cox.strata, sd, index))
    h = np.full(t.shape, np.nan)
    beyond = np.zeros(t.shape, dtype=bool)
    for k, label in enumerate(uniques):
        rows = np.flatnonzero(codes == k)
        if label not in b.columns or label not in cox.strata_follow_up:
            continue
        col = b[label].dropna()
        col = col[col.index.to_numpy(dtype=float) <= float(cox.strata_follow_up[label])]
        if not len(col):
            continue
        hh, bb = cumhaz_at(col.index.to_numpy(dtype=float), col.to_numpy(dtype=float), t[rows],
                           tail_window=tail_window)
        h[rows], beyond[rows] = hh, bb
    return h, beyond


def risk_score(cox: CoxResult, sd: SurvivalData, index, t: float) -> np.ndarray:
    """H0_stratum(t)·exp(x'β): a ranking score that respects the strata (= the partial hazard without strata)."""
    X = sd.frame.loc[index]
    if not cox.strata:
        return partial_hazard(cox, X)
    h, _ = cumhaz_for(cox, sd, index, np.full(len(X), float(t)))
    return h * partial_hazard(cox, X)


@dataclass(frozen=True)
class PHTest:
    """Schoenfeld-residual test of proportional hazards (Grambsch & Therneau), per covariate and global."""

    table: pd.DataFrame            # covariate, term, statistic, p_value, violated
    global_statistic: float
    global_df: int
    global_p: float
    violations: tuple[str, ...]
    advice: pd.DataFrame           # term, kind, p_value, action
    time_transform: str
    n_used: int = 0                # customers in the test (a fixed-seed subsample above max_rows)
    n_total: int = 0

    @property
    def sampled(self) -> bool:
        return self.n_used < self.n_total


def ph_test(cox: CoxResult, sd: SurvivalData, *, alpha: float = 0.05, time_transform: str = "km",
            max_rows: int = PH_TEST_MAX_ROWS, seed: int = 0) -> PHTest:
    """Per-covariate tests as lifelines' ``proportional_hazard_test`` (R's classic cox.zph approximation) and the
    matching global test  T = z' V⁻¹ z / (d Σ(g−ḡ)²),  z = Σ_k (g_k − ḡ) s_k  over events k, where s_k are the
    scaled Schoenfeld residuals, V the coefficient covariance and g the transformed event times.

    Above ``max_rows`` customers (default 25,000) the test runs on a fixed-seed subsample refit: lifelines' scaled
    Schoenfeld residuals cost time growing about quadratically with n, and 25,000 customers already detect
    departures from proportional hazards that matter in practice. The report states the sample size."""
    from lifelines.statistics import TimeTransformers, proportional_hazard_test
    from scipy import stats

    if cox.strata:
        raise ValueError("ph_test expects an unstratified model")
    if cox.n > max_rows:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(sd.n, size=max_rows, replace=False))
        cox = fit_cox(sd, penalizer=cox.penalizer, rows=sd.frame.index[keep], concordance=False)
        data = sd.frame.iloc[keep]
    else:
        data = sd.frame
    cph = cox.fitter
    cols = list(cph.params_.index)
    df = data[["duration", "event", *cols]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaled = cph.compute_residuals(df, kind="scaled_schoenfeld")
        per = proportional_hazard_test(cph, df, time_transform=time_transform, precomputed_residuals=scaled)
    events, durations, weights = cph.event_observed, cph.durations, cph.weights
    g = np.asarray(TimeTransformers().get(time_transform)(durations, events, weights)[events.values], dtype=float)
    gc = g - g.mean()
    d = float(events.sum())
    zvec = (gc[:, None] * scaled.to_numpy()).sum(axis=0)
    V = cph.variance_matrix_.loc[cols, cols].to_numpy()
    global_stat = float(zvec @ np.linalg.solve(V, zvec) / (d * float((gc ** 2).sum())))
    global_df = len(cols)
    global_p = float(stats.chi2.sf(global_stat, global_df))
    table = pd.DataFrame({
        "covariate": cols,
        "term": [sd.design.term_of(c) for c in cols],
        "statistic": np.asarray(per.test_statistic, dtype=float),
        "p_value": np.asarray(per.p_value, dtype=float),
    })
    table["violated"] = table["p_value"] < alpha
    violations = tuple(table.loc[table["violated"], "covariate"])
    advice_rows = []
    for term, sub in table[table["violated"]].groupby("term", sort=False):
        parts = term.split(":")
        if len(parts) == 1 and term in sd.design.categorical:
            kind, action = "categorical", (f"stratify by {term}: each {term} level gets its own baseline hazard "
                                           "(applied below as a sensitivity check)")
        elif len(parts) == 1:
            kind, action = "numeric", (f"let the effect of {term} change over time: add {term}×log(time) "
                                       "(episode-split data, CoxTimeVaryingFitter) or bin it and stratify")
        else:
            kind, action = "interaction", "check the interaction's effect by period (fit the model on early and late tenure)"
        advice_rows.append({"term": term, "kind": kind, "p_value": float(sub["p_value"].min()), "action": action})
    advice = pd.DataFrame(advice_rows, columns=["term", "kind", "p_value", "action"])
    return PHTest(table, global_stat, global_df, global_p, violations, advice, time_transform,
                  n_used=int(len(data)), n_total=int(sd.n))


def ph_remedy(sd: SurvivalData, ph: PHTest, *, penalizer: float = 0.0) -> CoxResult | None:
    """Stratify by the categorical variables that violate PH (the standard remedy); None when there are none."""
    strata = [t for t in ph.advice["term"] if t in sd.design.categorical] if len(ph.advice) else []
    if not strata:
        return None
    return fit_cox(sd, penalizer=penalizer, strata=strata, concordance=True)


# ====================================================================================================================
# Parametric alternative (AFT)
# ====================================================================================================================
@dataclass(frozen=True)
class AFTComparison:
    table: pd.DataFrame            # model, log_likelihood, n_params, aic, delta_aic, best
    best: str
    fitters: dict[str, object]
    coefficients: pd.DataFrame     # Weibull AFT: covariate, coef, se, coef_lower, coef_upper, implied_ph_coef
    weibull_shape: float
    weibull_scale: float           # exp(intercept): the baseline scale in time units
    cox_aic_partial: float | None


def fit_aft(sd: SurvivalData, *, cox: CoxResult | None = None, models: Sequence[str] = AFT_MODELS,
            penalizer: float = 0.0, rows=None) -> AFTComparison:
    """Weibull, log-normal and log-logistic AFT models on the same covariates, compared by AIC.

    The Weibull AFT is also a PH model: its coefficients α relate to the Cox β by β = −α·shape, shown as
    ``implied_ph_coef``. The Cox AIC is on the partial likelihood and is not comparable to the full-likelihood AICs;
    it is reported for completeness only."""
    from lifelines import LogLogisticAFTFitter, LogNormalAFTFitter, WeibullAFTFitter

    classes = {"weibull": WeibullAFTFitter, "lognormal": LogNormalAFTFitter, "loglogistic": LogLogisticAFTFitter}
    unknown = [m for m in models if m not in classes]
    if unknown:
        raise DataError(PARAMETERS, "models", f"unknown AFT model(s) {unknown}; choose from {list(classes)}")
    frame = sd.frame if rows is None else sd.frame.loc[rows]
    data = frame[["duration", "event", *sd.design.columns]]
    fitters, rows_out = {}, []
    for name in models:
        fitter = classes[name](penalizer=penalizer)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitter.fit(data, duration_col="duration", event_col="event")
        except Exception as exc:  # a failing alternative should not stop the report
            rows_out.append({"model": name, "log_likelihood": np.nan, "n_params": np.nan, "aic": np.nan,
                             "note": f"did not converge: {type(exc).__name__}"})
            continue
        fitters[name] = fitter
        rows_out.append({"model": name, "log_likelihood": float(fitter.log_likelihood_),
                         "n_params": int(len(fitter.params_)), "aic": float(fitter.AIC_), "note": ""})
    table = pd.DataFrame(rows_out)
    best = str(table.loc[table["aic"].idxmin(), "model"]) if table["aic"].notna().any() else "weibull"
    table["delta_aic"] = table["aic"] - table["aic"].min()
    table["best"] = table["model"] == best
    coefs, shape, scale = pd.DataFrame(), np.nan, np.nan
    if "weibull" in fitters:
        w = fitters["weibull"]
        s = w.summary.loc["lambda_"]
        shape = float(np.exp(w.params_.loc[("rho_", "Intercept")]))
        scale = float(np.exp(w.params_.loc[("lambda_", "Intercept")]))
        s = s.drop(index="Intercept")
        coefs = pd.DataFrame({
            "covariate": s.index.astype(str), "coef": s["coef"].to_numpy(), "se": s["se(coef)"].to_numpy(),
            "coef_lower": s["coef lower 95%"].to_numpy(), "coef_upper": s["coef upper 95%"].to_numpy(),
            "p_value": s["p"].to_numpy(),
        })
        coefs = coefs.set_index("covariate").loc[list(sd.design.columns)].reset_index()
        coefs["implied_ph_coef"] = -coefs["coef"] * shape
    return AFTComparison(table, best, fitters, coefs, shape, scale,
                         cox.aic_partial if cox is not None else None)


# ====================================================================================================================
# Predictions: conditional survival under the Cox model
# ====================================================================================================================
def baseline_cumhaz(cox: CoxResult) -> tuple[np.ndarray, np.ndarray]:
    """Breslow baseline cumulative hazard H0(t) (for lifelines' centred covariates) as (times, values)."""
    b = cox.fitter.baseline_cumulative_hazard_
    return b.index.to_numpy(dtype=float), b.iloc[:, 0].to_numpy(dtype=float)


def cumhaz_at(times: np.ndarray, values: np.ndarray, t, *, tail_window: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """H0 at ``t`` (a right-continuous step function). Beyond the last observed time the hazard is extended at the
    average rate of the last ``tail_window`` (default: the last 10% of follow-up) — a constant-hazard tail instead
    of lifelines' flat one, which would say nobody churns after the longest tenure seen. Returns (H0, extrapolated)."""
    t = np.asarray(t, dtype=float)
    h = _step_at(times, values, t, before=0.0)
    tau = float(times[-1])
    window = float(tail_window) if tail_window else 0.1 * tau
    window = min(max(window, 1e-9), tau)
    start = _step_at(times, values, np.array([tau - window]), before=0.0)[0]
    rate = max((float(values[-1]) - start) / window, 0.0)
    beyond = t > tau
    h = np.where(beyond, float(values[-1]) + rate * (t - tau), h)
    return h, beyond


def partial_hazard(cox: CoxResult, X: pd.DataFrame) -> np.ndarray:
    """exp((x − x̄)'β) as lifelines uses it with its baseline (x̄ = the fitting data's means)."""
    cph = cox.fitter
    cols = list(cph.params_.index)
    lp = (X[cols].to_numpy(dtype=float) - cph._norm_mean[cols].to_numpy(dtype=float)) @ cph.params_[cols].to_numpy()
    return np.exp(lp)


def conditional_churn_probability(cumhaz_now: np.ndarray, cumhaz_later: np.ndarray, partial: np.ndarray) -> np.ndarray:
    """P(churn in (t, t+h] | survived to t) = 1 − S(t+h|x)/S(t|x) = 1 − exp(−(H0(t+h) − H0(t))·exp(x'β))."""
    return -np.expm1(-(np.asarray(cumhaz_later) - np.asarray(cumhaz_now)) * np.asarray(partial))


def predict_survival(cox: CoxResult, X: pd.DataFrame, t: float, sd: SurvivalData | None = None) -> np.ndarray:
    """S(t | x) under the Cox model (a stratified model needs ``sd`` for each row's stratum)."""
    if cox.strata:
        if sd is None:
            raise ValueError("a stratified model needs sd to look up each row's stratum")
        h0, _ = cumhaz_for(cox, sd, X.index, np.full(len(X), float(t)))
        return np.exp(-h0 * partial_hazard(cox, X))
    times, values = baseline_cumhaz(cox)
    h0, _ = cumhaz_at(times, values, np.array([t]))
    return np.exp(-h0[0] * partial_hazard(cox, X))


# ====================================================================================================================
# Validation
# ====================================================================================================================
@dataclass(frozen=True)
class Validation:
    horizon: float
    n_train: int
    n_test: int
    c_index_train: float
    c_index_test: float
    brier_at_horizon: float        # IPCW Brier score of the Cox model at the horizon, test data
    brier_null: float              # the same for the no-covariate KM (everyone gets the average)
    calibration: pd.DataFrame      # decile, n, predicted, observed, observed_lower, observed_upper
    test_size: float
    seed: int
    by_tenure: pd.DataFrame = field(default_factory=pd.DataFrame)  # see tenure_calibration()
    model: str = "Cox"


def split(n: int, test_size: float = 0.3, seed: int = 0) -> np.ndarray:
    """A fixed-seed boolean test mask."""
    rng = np.random.default_rng(seed)
    test = np.zeros(n, dtype=bool)
    test[rng.permutation(n)[: int(round(test_size * n))]] = True
    return test


def censoring_km(durations, events) -> tuple[np.ndarray, np.ndarray]:
    """G(t): KM of the censoring distribution (censoring is the 'event')."""
    km = kaplan_meier(durations, 1 - np.asarray(events, dtype=int), label="censoring")
    sf = km.fitter.survival_function_
    return sf.index.to_numpy(dtype=float), sf.iloc[:, 0].to_numpy(dtype=float)


def brier_score(durations, events, surv_at_h, horizon: float, G: tuple[np.ndarray, np.ndarray]) -> float:
    """IPCW Brier score at ``horizon`` (Graf et al. 1999): churned before h → (0 − S)²/G(T−); still a customer at
    h → (1 − S)²/G(h); censored before h → 0 weight."""
    T = np.asarray(durations, dtype=float)
    E = np.asarray(events, dtype=int)
    S = np.asarray(surv_at_h, dtype=float)
    gt, gv = G
    g_minus = _step_at(gt, gv, np.nextafter(T, -np.inf), before=1.0)
    g_h = float(_step_at(gt, gv, np.array([horizon]), before=1.0)[0])
    died = (T <= horizon) & (E == 1)
    alive = T > horizon
    with np.errstate(divide="ignore", invalid="ignore"):
        contrib = np.where(died, S ** 2 / np.where(g_minus > 0, g_minus, np.nan), 0.0)
        contrib = np.where(alive, (1 - S) ** 2 / g_h if g_h > 0 else np.nan, contrib)
    return float(np.nanmean(contrib)) if len(contrib) else np.nan


def calibration_table(durations, events, predicted_risk, horizon: float, bins: int = 10) -> pd.DataFrame:
    """Predicted vs observed churn by the horizon, per risk decile; observed = 1 − KM(h) within the decile."""
    risk = np.asarray(predicted_risk, dtype=float)
    n = len(risk)
    bins = int(max(1, min(bins, n // 10 if n >= 20 else 1)))
    order = np.argsort(risk, kind="mergesort")
    decile = np.empty(n, dtype=int)
    decile[order] = (np.arange(n) * bins) // max(n, 1) + 1
    T = np.asarray(durations, dtype=float)
    E = np.asarray(events, dtype=int)
    rows = []
    for b in range(1, bins + 1):
        m = decile == b
        km = kaplan_meier(T[m], E[m], times=[horizon])
        s = km.survival_at.iloc[0]
        rows.append({"decile": b, "n": int(m.sum()), "predicted": float(risk[m].mean()),
                     "observed": float(1 - s["survival"]), "observed_lower": float(1 - s["upper"]),
                     "observed_upper": float(1 - s["lower"])})
    return pd.DataFrame(rows)


def tenure_calibration(cox: CoxResult, sd: SurvivalData, index, horizon: float, *, bands: int = 5,
                       min_cell: int = 5) -> pd.DataFrame:
    """Conditional calibration by tenure band (landmark analysis; no dates needed): for each band start t (quantiles
    of the active customers' tenure), the customers still here at t are predicted P(churn in (t, t+h] | survived to
    t, x) by the model and compared with the Kaplan–Meier estimate of the same conditional probability among them.
    This is exactly what the early warning claims for a customer of tenure t. Bands whose t + h lies beyond the
    follow-up, or with fewer than ``min_cell`` customers at risk, are left out."""
    f = sd.frame.loc[index]
    T = f["duration"].to_numpy(dtype=float)
    E = f["event"].to_numpy(dtype=int)
    active_t = T[E == 0] if (E == 0).any() else T
    qs = np.unique(np.quantile(active_t, np.linspace(0, 1, bands + 1)[:-1], method="lower"))
    edges = list(qs) + [np.inf]
    rows = []
    for a, b in zip(edges[:-1], edges[1:]):
        landmark = float(a) if a > 0 else 0.0
        if landmark + horizon > T.max():
            continue
        at_risk = T > landmark
        n = int(at_risk.sum())
        if n < min_cell or E[at_risk].sum() == 0:
            continue
        idx = f.index[at_risk]
        h_now, _ = cumhaz_for(cox, sd, idx, np.full(n, landmark))
        h_later, _ = cumhaz_for(cox, sd, idx, np.full(n, landmark + horizon))
        p = conditional_churn_probability(h_now, h_later, partial_hazard(cox, f.loc[idx]))
        km = kaplan_meier(T[at_risk] - landmark, E[at_risk], times=[horizon])
        srow = km.survival_at.iloc[0]
        # the riskiest tenth of those at risk at t: what the early warning's top decile would contain at this tenure
        k = max(int(math.ceil(0.1 * n)), 1)
        top = np.argsort(-np.nan_to_num(p, nan=-1.0), kind="stable")[:k]
        top_pred = top_obs = np.nan
        if k >= min_cell:
            top_pred = float(np.nanmean(p[top]))
            top_km = kaplan_meier(T[at_risk][top] - landmark, E[at_risk][top], times=[horizon])
            top_obs = float(1 - top_km.survival_at["survival"].iloc[0])
        rows.append({"band": f"{a:g}–{b:g}" if np.isfinite(b) else f"≥ {a:g}", "landmark": landmark,
                     "n_at_risk": n, "predicted": float(np.nanmean(p)), "observed": float(1 - srow["survival"]),
                     "observed_lower": float(1 - srow["upper"]), "observed_upper": float(1 - srow["lower"]),
                     "top_decile_predicted": top_pred, "top_decile_observed": top_obs})
    out = pd.DataFrame(rows, columns=["band", "landmark", "n_at_risk", "predicted", "observed", "observed_lower",
                                      "observed_upper", "top_decile_predicted", "top_decile_observed"])
    out["within_ci"] = (out["predicted"] >= out["observed_lower"]) & (out["predicted"] <= out["observed_upper"])
    return out


def validate(sd: SurvivalData, *, horizon: float, penalizer: float = 0.0, test_size: float = 0.3, seed: int = 0,
             bins: int = 10, strata: Sequence[str] = (), min_cell: int = 5) -> Validation:
    """Fit on a fixed-seed 70% split, evaluate on the other 30%: concordance, Brier at the horizon, calibration by
    risk decile and (conditional, landmark) calibration by tenure band. ``strata``: validate the stratified model
    that scores the early warning (rows of a stratum absent from the training part are left out of the metrics)."""
    from lifelines.utils import concordance_index

    test = split(sd.n, test_size, seed)
    idx = sd.frame.index
    cox = fit_cox(sd, penalizer=penalizer, rows=idx[~test], concordance=True, strata=strata)
    te = sd.frame.loc[idx[test]]
    tr = sd.frame.loc[idx[~test]]
    s_h = predict_survival(cox, te, horizon, sd=sd)
    ok = np.isfinite(s_h)
    te, s_h = te.loc[ok], s_h[ok]
    risk = risk_score(cox, sd, te.index, horizon) if cox.strata else partial_hazard(cox, te)
    c_test = float(concordance_index(te["duration"], -risk, te["event"])) if te["event"].sum() else np.nan
    G = censoring_km(tr["duration"], tr["event"])
    km_train = kaplan_meier(tr["duration"], tr["event"], times=[horizon])
    s_null = float(km_train.survival_at["survival"].iloc[0])
    follow_up = horizon <= te["duration"].max()
    brier = brier_score(te["duration"], te["event"], s_h, horizon, G) if follow_up else np.nan
    brier0 = brier_score(te["duration"], te["event"], np.full(len(te), s_null), horizon, G) if follow_up else np.nan
    calib = calibration_table(te["duration"], te["event"], 1 - s_h, horizon, bins=bins)
    by_tenure = tenure_calibration(cox, sd, te.index, horizon, min_cell=min_cell)
    return Validation(float(horizon), int((~test).sum()), int(len(te)), float(cox.concordance), c_test,
                      brier, brier0, calib, test_size, seed, by_tenure, cox.label)


# ====================================================================================================================
# Early warning (提前预警)
# ====================================================================================================================
@dataclass(frozen=True)
class EarlyWarning:
    horizon: float
    scores: pd.DataFrame           # active customers, ranked: tenure, churn_probability, rank, risk_decile, top_factors, extrapolated
    n_active: int
    expected_churners: float
    factor_counts: pd.DataFrame    # how often each factor is a top reason in the top decile (aggregate, no ids;
    #                                numeric terms grouped by name; counts below min_cell suppressed)
    model: str = "Cox"             # the model that scored (the stratified one when PH was remedied)


def _term_codes(sd: SurvivalData, pos: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per term: (codes per customer, label per code) — 'segment=Basic', 'provider_proactive=0', 'x1=1.23'.

    Labels are formatted once per distinct value (numbers rounded to 3 significant digits), so this stays fast
    at a million customers. ``pos``: row positions in ``sd``."""
    out = {}
    base = sd.base.iloc[pos]
    for term in sd.design.terms:
        parts = term.split(":")
        if len(parts) == 1 and term in sd.design.categorical:
            codes, uniques = pd.factorize(base[term], sort=True)
            names = [f"{term}={u}" for u in uniques]
        else:
            prod = np.ones(len(pos))
            for p in parts:
                if p not in sd.design.categorical:
                    prod = prod * base[p].to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                mag = np.where(prod != 0, np.floor(np.log10(np.abs(prod))), 0)
            rounded = np.round(prod / 10 ** (mag - 2)) * 10 ** (mag - 2)
            uniques, codes = np.unique(rounded, return_inverse=True)
            names = [f"{term}={u:.3g}" for u in uniques]
        out[term] = (np.asarray(codes).ravel(), np.array(names, dtype=object))
    return out


def top_factors(cox: CoxResult, sd: SurvivalData, rows: pd.Index, k: int = 3) -> tuple[pd.Series, np.ndarray]:
    """The ``k`` model terms that raise each customer's hazard most above the average customer's
    (contribution of a term = Σ β_j (x_j − x̄_j) over its columns), as 'term=value; …'. Terms that lower the
    hazard are not listed."""
    cph = cox.fitter
    pos = sd.frame.index.get_indexer(rows)
    X = sd.frame.iloc[pos]
    terms = [t for t in sd.design.terms if any(c in cph.params_.index for c in sd.design.term_columns[t])]
    n = len(pos)
    contrib = np.zeros((n, len(terms)))
    for j, term in enumerate(terms):
        cols = [c for c in sd.design.term_columns[term] if c in cph.params_.index]
        xc = X[cols].to_numpy(dtype=float) - cph._norm_mean[cols].to_numpy(dtype=float)
        contrib[:, j] = xc @ cph.params_[cols].to_numpy()
    if not terms or k <= 0 or n == 0:
        return pd.Series("", index=rows, dtype=object), contrib
    # one id per (term, value) label; the last id means "nothing"
    labels = _term_codes(sd, pos)
    ids = np.empty((n, len(terms)), dtype=np.int64)
    names: list[str] = []
    for j, term in enumerate(terms):
        codes, term_names = labels[term]
        ids[:, j] = codes + len(names)
        names.extend(term_names)
    none = len(names)
    names_arr = np.array([*names, ""], dtype=object)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :k]
    r = np.arange(n)
    key = np.zeros(n, dtype=np.int64)
    picks = []
    for p in range(order.shape[1]):
        j = order[:, p]
        gid = np.where(contrib[r, j] > 0, ids[r, j], none)
        picks.append(gid)
        key = key * (none + 1) + gid
    # format each distinct combination once
    if (none + 1) ** len(picks) < 2 ** 62:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # too many labels for one integer key
        _, first, inverse = np.unique(np.stack(picks, axis=1), axis=0, return_index=True, return_inverse=True)
    texts = np.array(["; ".join(names_arr[g[i]] for g in picks if g[i] != none) for i in first], dtype=object)
    return pd.Series(texts[inverse.ravel()], index=rows), contrib


def _factor_term(factor: str, sd: SurvivalData) -> str:
    """'segment=Basic' stays (a category); 'MonthlyCharges=44.8' → 'MonthlyCharges' (numeric terms by name)."""
    term = factor.split("=", 1)[0]
    return factor if term in sd.design.categorical else term


def early_warning(cox: CoxResult, sd: SurvivalData, *, horizon: float, top_k: int = 3,
                  tail_window: float | None = None, min_cell: int = 5) -> EarlyWarning:
    """For active customers: P(churn within ``horizon`` | already survived their tenure), ranked (stable order).
    A stratified ``cox`` scores each customer with their own stratum's baseline hazard."""
    is_active = sd.frame["event"].to_numpy() == 0
    active = sd.frame.index[is_active]
    X = sd.frame[is_active]
    tenure = X["duration"].to_numpy(dtype=float)
    h_now, _ = cumhaz_for(cox, sd, active, tenure, tail_window=tail_window)
    h_later, extrap = cumhaz_for(cox, sd, active, tenure + float(horizon), tail_window=tail_window)
    prob = conditional_churn_probability(h_now, h_later, partial_hazard(cox, X))
    order = np.argsort(-prob, kind="stable")
    ranked = active[order]
    factors, _ = top_factors(cox, sd, ranked, k=top_k) if len(ranked) else (pd.Series(dtype=object), None)
    n = len(ranked)
    scores = pd.DataFrame({
        "tenure": tenure[order],
        "churn_probability": prob[order],
        "rank": np.arange(1, n + 1),
        "risk_decile": (np.arange(n) * 10) // max(n, 1) + 1,
        "top_factors": factors.to_numpy() if n else [],
        "extrapolated": extrap[order],
    }, index=ranked)
    top = scores.loc[scores["risk_decile"] == 1, "top_factors"]
    exploded = top[top != ""].str.split("; ").explode()
    if len(exploded):
        terms = {f: _factor_term(f, sd) for f in pd.unique(exploded)}
        # a customer counts once per term (two values of one numeric term cannot both be listed, but be safe)
        grouped = pd.DataFrame({"row": exploded.index, "factor": exploded.map(terms).to_numpy()}).drop_duplicates()
        factor_counts = grouped["factor"].value_counts().rename_axis("factor").reset_index(name="customers")
        factor_counts["share_of_top_decile"] = factor_counts["customers"] / max(len(top), 1)
        factor_counts = factor_counts.sort_values(["customers", "factor"], ascending=[False, True],
                                                  kind="mergesort").reset_index(drop=True)
        factor_counts = privacy.suppress(factor_counts, n_col="customers", min_cell=min_cell,
                                         value_cols=["share_of_top_decile"], hide_counts=True, complementary=False)
    else:
        factor_counts = pd.DataFrame(columns=["factor", "customers", "share_of_top_decile", "suppressed"])
    return EarlyWarning(float(horizon), scores, int(n), float(prob.sum()), factor_counts, cox.label)


def at_risk_table(ew: EarlyWarning, sd: SurvivalData, value: CLVResult | None = None) -> pd.DataFrame:
    """The action list (the only output with customer ids): id, probability, rank, top factors (+ value at risk)."""
    ids = sd.extra["id"].loc[ew.scores.index] if "id" in sd.extra else pd.Series(
        [f"row {int(i) + 2}" for i in ew.scores.index], index=ew.scores.index)
    id_name = sd.roles.get("id") or "row"
    out = pd.DataFrame({
        id_name: ids.to_numpy(),
        "rank": ew.scores["rank"].to_numpy(),
        f"tenure_{sd.time_unit}": ew.scores["tenure"].to_numpy(),
        f"churn_probability_{ew.horizon:g}_{sd.time_unit}": ew.scores["churn_probability"].round(6).to_numpy(),
        "risk_decile": ew.scores["risk_decile"].to_numpy(),
        "top_factors": ew.scores["top_factors"].to_numpy(),
    })
    if value is not None and "clv" in value.customers:
        clv = value.customers["clv"].reindex(ew.scores.index).to_numpy()
        out["expected_remaining_months"] = np.round(
            value.customers["remaining_months"].reindex(ew.scores.index).to_numpy(), 2)
        out["clv"] = np.round(clv, 2)
        out["value_at_risk"] = np.round(clv * ew.scores["churn_probability"].to_numpy(), 2)
    return out


@dataclass(frozen=True)
class Backtest:
    """Early warning re-run as of (snapshot − horizon) and compared with who churned in the following window."""

    cutoff: pd.Timestamp
    snapshot: pd.Timestamp
    horizon: float
    n_train: int
    n_scored: int
    n_churned: int
    auc: float
    top_decile_lift: float
    top_decile_rate: float
    base_rate: float
    brier: float
    expected_churners: float
    calibration: pd.DataFrame      # decile, n, predicted, observed


def auc_score(y, score) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, dtype=int)
    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else np.nan


def lift_at(y, score, fraction: float = 0.1) -> tuple[float, float, float]:
    """(lift, rate in the top ``fraction`` by score, base rate); stable ordering for ties."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    k = max(1, int(math.ceil(fraction * n)))
    top = np.argsort(-np.asarray(score, dtype=float), kind="stable")[:k]
    base = float(y.mean()) if n else np.nan
    rate = float(y[top].mean()) if n else np.nan
    return (rate / base if base > 0 else np.nan), rate, base


def backtest(
    df: pd.DataFrame,
    *,
    horizon: float,
    time_unit: str = "days",
    signup_col: str = "signup_date",
    churn_date_col: str = "churn_date",
    snapshot_date=None,
    duration_col: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    penalizer: float = 0.0,
    source: str = "<data>",
    bins: int = 10,
) -> Backtest | None:
    """Move the snapshot back by the horizon, fit and score as if it were then, and compare with who actually churned
    in the window. None when the file has no signup/churn dates."""
    if not (signup_col and churn_date_col and signup_col in df.columns and churn_date_col in df.columns):
        return None
    unit_days = days_per_unit(time_unit)
    if snapshot_date is None:
        signup = io.coerce_date(df, signup_col, source=source)
        churn = io.coerce_date(df, churn_date_col, source=source)
        snapshot = infer_snapshot(df, signup, churn, duration_col, time_unit, source)
    else:
        snapshot = io._parse_snapshot(snapshot_date)
    if snapshot is None:
        return None
    cutoff = snapshot - pd.Timedelta(days=round(float(horizon) * unit_days))
    past = prepare(df, duration_col=None, event_col=None, signup_col=signup_col, churn_date_col=churn_date_col,
                   snapshot_date=cutoff, covariates=covariates, categorical=categorical, time_unit=time_unit,
                   source=source)
    if past.events == 0:
        return None
    cox = fit_cox(past, penalizer=penalizer, concordance=False)
    ew = early_warning(cox, past, horizon=horizon, top_k=0)
    churn = io.coerce_date(df, churn_date_col, source=source)
    scored = ew.scores.index
    y = (churn.loc[scored].notna() & (churn.loc[scored] <= snapshot)).to_numpy().astype(int)
    p = ew.scores["churn_probability"].to_numpy()
    lift, rate, base = lift_at(y, p, 0.1)
    order = np.argsort(p, kind="mergesort")
    n = len(p)
    nb = int(max(1, min(bins, n // 10 if n >= 20 else 1)))
    dec = np.empty(n, dtype=int)
    dec[order] = (np.arange(n) * nb) // max(n, 1) + 1
    calib = (pd.DataFrame({"decile": dec, "predicted": p, "observed": y}).groupby("decile")
             .agg(n=("predicted", "size"), predicted=("predicted", "mean"), observed=("observed", "mean"))
             .reset_index())
    return Backtest(
        cutoff=cutoff, snapshot=snapshot, horizon=float(horizon), n_train=past.n, n_scored=int(n),
        n_churned=int(y.sum()), auc=auc_score(y, p), top_decile_lift=lift, top_decile_rate=rate, base_rate=base,
        brier=float(np.mean((p - y) ** 2)) if n else np.nan, expected_churners=float(p.sum()), calibration=calib,
    )


# ====================================================================================================================
# Customer lifetime value (客户终身价值)
# ====================================================================================================================
@dataclass(frozen=True)
class CLVResult:
    customers: pd.DataFrame        # per customer (no ids): segment, active, remaining_months, discounted_months, clv, ltv_at_acquisition, acquisition_cost
    by_segment: pd.DataFrame       # value, n, n_active, mean_remaining_lifetime, mean_clv, mean_ltv, mean_cac, ltv_cac, meets_target, suppressed
    mean_remaining_lifetime: float  # months, active customers
    mean_clv: float                 # active customers
    model: str
    margin: float
    discount_rate: float
    max_months: int


def monthly_discount_factors(discount_rate: float, months: int, start: int = 1) -> np.ndarray:
    """(1 + annual rate)^(−k/12) for k = start … start+months−1."""
    check_rate(discount_rate)
    k = np.arange(start, start + months, dtype=float)
    return (1.0 + float(discount_rate)) ** (-k / 12.0)


def discounted_lifetime(survival: np.ndarray, discount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a (customers × months) survival matrix: expected months alive Σ S_k and the discounted
    Σ S_k·δ_k. Multiply the discounted one by margin × revenue per month for the value."""
    S = np.asarray(survival, dtype=float)
    return S.sum(axis=1), S @ np.asarray(discount, dtype=float)


def _aft_survival(fitter, X: pd.DataFrame, times: np.ndarray, conditional_after=None, chunk: int = 20_000) -> np.ndarray:
    out = np.empty((len(X), len(times)))
    for start, S in _survival_chunks(fitter, X, times, conditional_after, chunk):
        out[start:start + len(S)] = S
    return out


def _survival_chunks(fitter, X: pd.DataFrame, times: np.ndarray, conditional_after=None, chunk: int = 20_000):
    """(start, survival matrix of rows start … start+chunk) from a lifelines AFT fitter, one chunk at a time."""
    for start in range(0, len(X), chunk):
        part = X.iloc[start:start + chunk]
        cond = None if conditional_after is None else np.asarray(conditional_after)[start:start + chunk]
        sf = fitter.predict_survival_function(part, times=times, conditional_after=cond)
        yield start, sf.to_numpy().T


def _cox_survival_chunks(cox: CoxResult, sd: SurvivalData, index, times: np.ndarray, conditional_after=None,
                         chunk: int = 20_000):
    """The same from a (stratified) Cox model: S(t0 + t | x) / S(t0 | x), with the constant-hazard tail beyond
    each stratum's follow-up (see :func:`cumhaz_at`)."""
    times = np.asarray(times, dtype=float)
    for start in range(0, len(index), chunk):
        idx = index[start:start + chunk]
        t0 = (np.zeros(len(idx)) if conditional_after is None
              else np.asarray(conditional_after, dtype=float)[start:start + chunk])
        h0, _ = cumhaz_for(cox, sd, idx, t0)
        grid = t0[:, None] + times[None, :]
        h, _ = cumhaz_for(cox, sd, idx, grid)
        ph = partial_hazard(cox, sd.frame.loc[idx])
        yield start, np.exp(-(h - h0[:, None]) * ph[:, None])


def customer_value(
    aft: AFTComparison,
    sd: SurvivalData,
    *,
    margin: float = 0.3,
    discount_rate: float = 0.10,
    max_years: int = 10,
    min_cell: int = 5,
    model: str | None = None,
    cox: CoxResult | None = None,
    chunk: int = 20_000,
) -> CLVResult | None:
    """Expected remaining lifetime and CLV from the parametric model (it extrapolates beyond the data smoothly) —
    or, with ``cox`` (the stratified model when proportional hazards had to be remedied), from that Cox model so the
    value and the early warning come from the same model that passed the check.

    Revenue is per month; a customer alive at the start of month k pays margin × revenue, discounted at
    (1 + annual rate)^(−k/12) (rate 0 = undiscounted). Remaining value of an active customer: months k = 1 …
    12·max_years after today, conditional on the tenure already survived. LTV at acquisition (for LTV/CAC): months
    k = 0 … from signup. LTV/CAC per segment = mean LTV / mean acquisition cost, against the course's "> 3" mark.
    Survival matrices are built ``chunk`` customers at a time and reduced at once (memory stays flat at 1M rows)."""
    if "revenue" not in sd.extra:
        return None
    check_share(margin, "margin")
    check_rate(discount_rate)
    if cox is not None:
        name, fitter = cox.label, None
    else:
        name = model or aft.best
        fitter = aft.fitters.get(name) or aft.fitters.get("weibull")
        if fitter is None:
            return None
    months = int(12 * max_years)
    m = DAYS_PER_MONTH / days_per_unit(sd.time_unit)       # one month in time units
    X = sd.frame[list(sd.design.columns)]
    active = sd.frame["event"].to_numpy() == 0
    revenue = sd.extra["revenue"].to_numpy(dtype=float)
    grid_future = m * np.arange(1, months + 1)
    remaining = np.full(sd.n, np.nan)
    discounted = np.full(sd.n, np.nan)
    disc_future = monthly_discount_factors(discount_rate, months, start=1)
    disc_start = monthly_discount_factors(discount_rate, months, start=0)

    def chunks(rows_mask, grid, conditional_after):
        if cox is not None:
            return _cox_survival_chunks(cox, sd, sd.frame.index[rows_mask], grid, conditional_after, chunk)
        return _survival_chunks(fitter, X.loc[rows_mask], grid, conditional_after, chunk)

    if active.any():
        pos = np.flatnonzero(active)
        rem = np.empty(len(pos))
        disc = np.empty(len(pos))
        for start, S in chunks(active, grid_future, sd.frame.loc[active, "duration"].to_numpy()):
            rem[start:start + len(S)], disc[start:start + len(S)] = discounted_lifetime(S, disc_future)
        remaining[pos], discounted[pos] = rem, disc
    disc_new = np.empty(sd.n)
    for start, S in chunks(np.ones(sd.n, dtype=bool), m * np.arange(0, months), None):
        disc_new[start:start + len(S)] = discounted_lifetime(S, disc_start)[1]
    customers = pd.DataFrame({
        "segment": sd.extra["segment"].to_numpy() if "segment" in sd.extra else "All",
        "active": active,
        "revenue": revenue,
        "remaining_months": remaining,
        "discounted_months": discounted,
        "clv": margin * revenue * discounted,
        "ltv_at_acquisition": margin * revenue * disc_new,
        "acquisition_cost": sd.extra["acquisition_cost"].to_numpy(dtype=float) if "acquisition_cost" in sd.extra
        else np.nan,
    }, index=sd.frame.index)
    g = customers.groupby("segment", sort=False)
    by = pd.DataFrame({
        "n": g.size(),
        "n_active": g["active"].sum(),
        "mean_remaining_lifetime": g["remaining_months"].mean(),
        "mean_clv": g["clv"].mean(),
        "mean_ltv": g["ltv_at_acquisition"].mean(),
        "mean_cac": g["acquisition_cost"].mean(),
    })
    by["ltv_cac"] = by["mean_ltv"] / by["mean_cac"]
    by = by.rename_axis("value").reset_index()
    by["value"] = by["value"].astype(str)
    by = by.set_index("value").loc[_levels_by_frequency(customers["segment"].astype(str))].reset_index()
    by = privacy.suppress(by, min_cell=min_cell)
    by["meets_target"] = [None if pd.isna(v) else bool(v > LTV_CAC_TARGET) for v in by["ltv_cac"]]
    act = customers[customers["active"]]
    return CLVResult(customers, by, float(act["remaining_months"].mean()) if len(act) else np.nan,
                     float(act["clv"].mean()) if len(act) else np.nan, name, float(margin), float(discount_rate),
                     months)


# ====================================================================================================================
# Estimated vs true (course data)
# ====================================================================================================================
def compare_with_truth(cox: CoxResult, truth: Mapping | None, aft: AFTComparison | None = None) -> pd.DataFrame | None:
    """Cox β (and Weibull AFT α) with 95% intervals next to the generator's true values."""
    if not truth or "churn" not in truth:
        return None

    def matched(model: str, table: pd.DataFrame, true: Mapping) -> list[dict]:
        return [{"model": model, "covariate": r.covariate, "true": float(true[r.covariate]), "estimate": float(r.coef),
                 "lower": float(r.coef_lower), "upper": float(r.coef_upper)}
                for r in table.itertuples() if r.covariate in true]

    rows = matched("Cox", cox.table, truth["churn"].get("coefficients", {}))
    if aft is not None and len(aft.coefficients):
        rows += matched("Weibull AFT", aft.coefficients, truth["churn"].get("aft_coefficients", {}))
        shape = truth["churn"].get("baseline", {}).get("shape")
        if shape is not None and np.isfinite(aft.weibull_shape):
            w = aft.fitters["weibull"]
            lo, hi = np.exp(w.confidence_intervals_.loc[("rho_", "Intercept")].to_numpy())
            rows.append({"model": "Weibull AFT", "covariate": "shape k", "true": float(shape),
                         "estimate": aft.weibull_shape, "lower": float(lo), "upper": float(hi)})
    if not rows:
        return None
    out = pd.DataFrame(rows)
    out["covered"] = (out["lower"] <= out["true"]) & (out["true"] <= out["upper"])
    return out


# ====================================================================================================================
# The whole pipeline
# ====================================================================================================================
@dataclass(frozen=True)
class ChurnAnalysis:
    data: SurvivalData
    horizon: float
    min_cell: int
    km: KMResult
    km_groups: KMGroups | None
    logrank: LogrankResult | None
    cox: CoxResult
    ph: PHTest
    remedy: CoxResult | None
    aft: AFTComparison
    validation: Validation
    warning: EarlyWarning
    backtest: Backtest | None
    value: CLVResult | None
    truth: pd.DataFrame | None

    @property
    def scoring(self) -> CoxResult:
        """The Cox model behind the early warning, at_risk.csv, CLV and the validation: the stratified remedy when
        the Schoenfeld check led to one (its hazard ratios are the ones to report), else the plain model."""
        return self.remedy if self.remedy is not None else self.cox


def analyze(
    df: pd.DataFrame,
    *,
    source: str = "<data>",
    id_col: str | None = "customer_id",
    duration_col: str | None = "tenure_days",
    event_col: str | None = "churned",
    event_value=None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    segment_col: str | None = "segment",
    time_unit: str = "days",
    horizon: float = 90,
    revenue_col: str | None = "monthly_revenue",
    margin: float = 0.3,
    discount_rate: float = 0.10,
    acquisition_cost_col: str | None = "acquisition_cost",
    penalizer: float = 0.0,
    min_cell: int = 5,
    signup_col: str | None = "signup_date",
    churn_date_col: str | None = "churn_date",
    snapshot_date=None,
    truth: Mapping | None = None,
) -> ChurnAnalysis:
    """Everything the churn notebook shows, computed once."""
    # every parameter is checked before any data is read or model fitted: one line naming the parameter
    days_per_unit(time_unit)
    min_cell = check_min_cell(min_cell)
    horizon = check_horizon(horizon, time_unit)
    penalizer = check_penalizer(penalizer)
    margin = check_share(margin, "margin")
    discount_rate = check_rate(discount_rate)
    privacy.require_group_size(len(df), min_cell, source=source, what="customers")
    reference = (truth or {}).get("churn", {}).get("reference_levels") if truth else None
    sd = prepare(df, duration_col=duration_col, event_col=event_col, event_value=event_value, signup_col=signup_col,
                 churn_date_col=churn_date_col, snapshot_date=snapshot_date, covariates=covariates,
                 categorical=categorical, time_unit=time_unit, id_col=id_col, segment_col=segment_col,
                 revenue_col=revenue_col, acquisition_cost_col=acquisition_cost_col, source=source,
                 reference_levels=reference)
    if not sd.design.columns:
        raise DataError(source, "covariates", "no usable covariates for the Cox model (give at least one column "
                        "that varies between customers)")
    if sd.n < 10 or sd.events < 2:
        raise DataError(source, duration_col or churn_date_col,
                        f"too few customers with usable data for survival analysis ({sd.n} rows, {sd.events} churned)")
    times = default_times(time_unit, horizon, float(sd.frame["duration"].max()))
    km = kaplan_meier(sd.frame["duration"], sd.frame["event"], times=times)
    km_groups = lr = None
    if segment_col:
        km_groups = km_by_group(sd, segment_col, min_cell=min_cell, times=times)
        lr = logrank(sd, segment_col, min_cell=min_cell)
    cox = fit_cox(sd, penalizer=penalizer)
    ph = ph_test(cox, sd)
    remedy = ph_remedy(sd, ph, penalizer=penalizer)
    aft = fit_aft(sd, cox=cox, penalizer=penalizer)
    scoring = remedy if remedy is not None else cox
    val = validate(sd, horizon=horizon, penalizer=penalizer, strata=scoring.strata, min_cell=min_cell)
    value = customer_value(aft, sd, margin=margin, discount_rate=discount_rate, min_cell=min_cell,
                           cox=remedy)
    ew = early_warning(scoring, sd, horizon=horizon, min_cell=min_cell)
    bt = backtest(df, horizon=horizon, time_unit=time_unit, signup_col=signup_col, churn_date_col=churn_date_col,
                  snapshot_date=snapshot_date, duration_col=duration_col, covariates=covariates,
                  categorical=categorical, penalizer=penalizer, source=source)
    return ChurnAnalysis(sd, float(horizon), min_cell, km, km_groups, lr, cox, ph, remedy, aft, val, ew, bt, value,
                         compare_with_truth(cox, truth, aft))


def _num(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def results_dict(ca: ChurnAnalysis, *, inputs: Mapping[str, str], sbg_fits=None, discount_rate: float = 0.10,
                 sbg_periods: int = 12) -> dict:
    """results.json: the issue's keys plus ``headline`` and ``inputs``. Numbers only, no customer ids."""
    from loyaltylab import sbg as sbg_mod

    sd = ca.data
    cox = ca.cox.table.set_index("covariate")
    km_groups = []
    if ca.km_groups is not None:
        for r in ca.km_groups.table.to_dict(orient="records"):
            km_groups.append({"value": r["value"], "n": r["n"], "events": r["events"], "median": r["median"],
                              "suppressed": bool(r["suppressed"])})
    lr = ca.logrank
    sbg_out = None
    if sbg_fits:
        def one(f):
            proj = sbg_mod.project(f, sbg_periods)
            return {"cohort": f.cohort, "alpha": f.alpha, "beta": f.beta,
                    "projection": [{"period": int(p), "expected_pct": e, "observed_pct": o}
                                   for p, e, o in zip(proj["period"], proj["expected_pct"], proj["observed_pct"])],
                    "derl": sbg_mod.derl(f.alpha, f.beta, discount_rate, renewals=f.n_periods),
                    "del": sbg_mod.discounted_expected_lifetime(f.alpha, f.beta, discount_rate)}
        cohorts = [one(f) for f in sbg_fits]
        sbg_out = {**cohorts[0], "cohorts": cohorts}
    bt = ca.backtest
    value = ca.value
    truth = None
    if ca.truth is not None:
        cx = ca.truth[ca.truth["model"] == "Cox"]
        truth = {"cox_covered": int(cx["covered"].sum()), "cox_total": int(len(cx)),
                 "rows": ca.truth.to_dict(orient="records")}
    res = {
        "n": sd.n,
        "events": sd.events,
        "dropped_rows": sd.dropped_rows,
        "dropped": dict(sd.dropped),
        "n_input": sd.n_input,
        "time_unit": sd.time_unit,
        "duration_from": sd.duration_from,
        "design_notes": list(sd.design.notes),
        "reference_levels": sd.design.reference_levels,
        "km": {"median": _num(ca.km.median), "median_ci": [_num(ca.km.median_lower), _num(ca.km.median_upper)],
               "survival_at": {f"{t:g}": s for t, s in zip(ca.km.survival_at["time"], ca.km.survival_at["survival"])}},
        "km_by_segment": km_groups,
        "logrank": {"statistic": lr.statistic if lr else None, "df": lr.df if lr else None,
                    "p_value": lr.p_value if lr else None,
                    "pairwise": lr.pairwise.to_dict(orient="records") if lr else []},
        "cox": {
            "coefficients": cox["coef"].to_dict(), "se": cox["se"].to_dict(),
            "hazard_ratios": cox["hazard_ratio"].to_dict(), "p_values": cox["p_value"].to_dict(),
            "concordance": ca.cox.concordance,
            "ph_test": {"global_p": ca.ph.global_p, "violations": list(ca.ph.violations),
                        "actions": ca.ph.advice.to_dict(orient="records"),
                        "stratified_by": list(ca.remedy.strata) if ca.remedy else [],
                        "n_tested": ca.ph.n_used, "n_total": ca.ph.n_total},
            "notes": list(ca.cox.notes),
            "scoring_model": ca.scoring.label,
            "scoring_hazard_ratios": ca.scoring.table.set_index("covariate")["hazard_ratio"].to_dict(),
        },
        "aft": {"model": ca.aft.best, "aic": float(ca.aft.table.loc[ca.aft.table["best"], "aic"].iloc[0]),
                "cox_aic": ca.aft.cox_aic_partial, "aic_by_model": dict(zip(ca.aft.table["model"], ca.aft.table["aic"])),
                "weibull_shape": ca.aft.weibull_shape},
        "validation": {"c_index_test": ca.validation.c_index_test, "c_index_train": ca.validation.c_index_train,
                       "brier_at_horizon": ca.validation.brier_at_horizon, "brier_null": ca.validation.brier_null,
                       "n_test": ca.validation.n_test, "model": ca.validation.model,
                       "calibration_by_tenure": ca.validation.by_tenure.to_dict(orient="records")},
        "early_warning": {
            "horizon": ca.horizon, "n_active": ca.warning.n_active, "expected_churners": ca.warning.expected_churners,
            "model": ca.warning.model,
            "backtest_auc": bt.auc if bt else None, "top_decile_lift": bt.top_decile_lift if bt else None,
            "backtest_cutoff": bt.cutoff if bt else None, "backtest_churned": bt.n_churned if bt else None,
            "backtest_expected": bt.expected_churners if bt else None,
        },
        "clv": {
            "unit": "months",
            "mean_remaining_lifetime": value.mean_remaining_lifetime if value else None,
            "mean_clv": value.mean_clv if value else None,
            "model": value.model if value else None,
            "ltv_cac_by_segment": ([{"value": r["value"], "n": r["n"], "ltv_cac": r["ltv_cac"],
                                     "meets_target": r["meets_target"], "suppressed": bool(r["suppressed"])}
                                    for r in value.by_segment.to_dict(orient="records")] if value else []),
        },
        "sbg": sbg_out,
        "truth": truth,
        "headline": {
            "Customers": sd.n,
            "Churned": sd.events,
            "Median lifetime": _num(ca.km.median),
            "C-index (test)": ca.validation.c_index_test,
            "Backtest AUC": bt.auc if bt else None,
            "Expected churners": ca.warning.expected_churners,
        },
        "headline_order": ["Customers", "Churned", "Median lifetime", "Expected churners", "C-index (test)",
                           "Backtest AUC"],
        "inputs": dict(inputs),
    }
    return res


def fmt_time(x: float, unit: str) -> str:
    if x is None or not np.isfinite(x):
        return "not reached"
    return f"{x:,.0f} {unit}"


def findings(ca: ChurnAnalysis) -> dict[str, str]:
    """One or two sentences per report section, built from the computed results (no hand-written numbers)."""
    sd, unit = ca.data, ca.data.time_unit
    out: dict[str, str] = {}
    out["data"] = (f"{sd.n:,} customers analysed, {sd.events:,} churned ({100 * sd.events / sd.n:.0f}%) — the other "
                   f"{sd.n - sd.events:,} are censored (still customers), which is why this is survival analysis; "
                   f"{sd.dropped_rows:,} of {sd.n_input:,} rows were left out under the stated policy.")
    km = ca.km
    s0 = km.survival_at.iloc[0] if len(km.survival_at) else None
    out["km"] = (f"Median customer lifetime: {fmt_time(km.median, unit)}"
                 + (f"; {100 * s0['survival']:.0f}% are still customers after {s0['time']:g} {unit}." if s0 is not None
                    else "."))
    if ca.km_groups is not None:
        vis = ca.km_groups.table[~ca.km_groups.table["suppressed"]]
        col = next((c for c in vis.columns if c.startswith("S(")), None)
        if col is not None and len(vis) >= 2:
            best = vis.loc[vis[col].idxmax()]
            worst = vis.loc[vis[col].idxmin()]
            out["km"] += (f" By {ca.km_groups.column}: {100 * best[col]:.0f}% of {best['value']} customers remain at "
                          f"{col[2:-1]} {unit}, against {100 * worst[col]:.0f}% of {worst['value']} customers.")
    lr = ca.logrank
    if lr is not None and lr.p_value is not None:
        verdict = "differ" if lr.p_value < 0.05 else "do not differ significantly"
        n_sig = int(lr.pairwise["significant"].sum())
        out["logrank"] = (f"Survival curves by {lr.column} {verdict} (log-rank χ² = {lr.statistic:.1f}, df = {lr.df}, "
                          f"p {_pfmt(lr.p_value, eq=True)}); {n_sig} of {len(lr.pairwise)} pairs differ after Holm's "
                          "correction.")
    else:
        out["logrank"] = "Fewer than two groups large enough to compare: no log-rank test."
    # hazard ratios from the model that scores (the stratified one when PH had to be remedied: a covariate it
    # stratifies by has no single hazard ratio any more, so none is quoted for it)
    sc = ca.scoring
    t = sc.table
    which = ("the Cox model" if not sc.strata else
             f"the Cox model stratified by {', '.join(sc.strata)} (the model behind the scores; each "
             f"{'/'.join(sc.strata)} level has its own baseline hazard, so no hazard ratio is quoted for it)")
    sig = t[t["significant"]].sort_values("p_value")
    if len(sig):
        parts = [f"{r.covariate} (HR {r.hazard_ratio:.2f})" for r in sig.head(3).itertuples()]
        out["cox"] = f"Strongest churn drivers in {which}: " + ", ".join(parts) + "."
    else:
        out["cox"] = f"In {which} no covariate has a hazard ratio significantly different from 1 at the 5% level."
    inter = t[t["covariate"].str.contains(":", regex=False)]
    for r in inter.itertuples():
        synergy = "lowers" if r.coef < 0 else "raises"
        out["cox"] += (f" The interaction {r.covariate} has HR {r.hazard_ratio:.3f} per unit of the product "
                       f"(95% CI {r.hr_lower:.3f}–{r.hr_upper:.3f}, p {_pfmt(r.p_value, eq=True)}): doing both "
                       f"{synergy} the churn hazard beyond the two separate effects"
                       + (" — the course's 1+1>2." if r.coef < 0 and r.p_value < 0.05 else "."))
    ph = ca.ph
    sample = (f" (tested on a fixed-seed sample of {ph.n_used:,} of {ph.n_total:,} customers)" if ph.sampled
              else "")
    if ph.violations:
        out["ph"] = (f"Proportional hazards is doubtful for {', '.join(ph.violations)} (global Schoenfeld test "
                     f"p {_pfmt(ph.global_p, eq=True)}){sample}"
                     + (f"; the remedy — a model stratified by {', '.join(ca.remedy.strata)} — is the model that "
                        "scores the early warning, at_risk.csv and CLV." if ca.remedy is not None
                        else "; see the advice below (no categorical variable to stratify by, so the plain model "
                        "scores)."))
    else:
        out["ph"] = (f"No covariate violates proportional hazards at the 5% level (global Schoenfeld test "
                     f"p {_pfmt(ph.global_p, eq=True)}){sample}: the hazard ratios hold over the whole customer "
                     "life.")
    a = ca.aft
    out["aft"] = (f"By AIC the best parametric model is the {a.best} AFT"
                  + (f"; the Weibull shape is {a.weibull_shape:.2f} ("
                     + ("a falling churn hazard: the longer a customer stays, the less likely they leave"
                        if a.weibull_shape < 1 else "a rising churn hazard") + ")." if np.isfinite(a.weibull_shape)
                     else "."))
    v = ca.validation
    out["validation"] = (f"On held-out customers the {v.model} model's C-index is {v.c_index_test:.2f} (0.5 = "
                         f"chance, training {v.c_index_train:.2f}); "
                         + (f"the Brier score at {ca.horizon:g} {unit} is {v.brier_at_horizon:.3f} against "
                            f"{v.brier_null:.3f} for the no-covariate KM."
                            if np.isfinite(v.brier_at_horizon) else "the horizon lies beyond the follow-up."))
    bt_ = v.by_tenure
    if len(bt_):
        gap = (bt_["predicted"] - bt_["observed"]).abs()
        worst = bt_.loc[gap.idxmax()]
        out["validation"] += (f" Conditional calibration by tenure (P(churn within {ca.horizon:g} {unit} | still a "
                              f"customer at tenure t)): predicted within the observed 95% interval in "
                              f"{int(bt_['within_ci'].sum())} of {len(bt_)} tenure bands; the largest gap is at "
                              f"tenure {worst['landmark']:g} {unit} ({100 * worst['predicted']:.1f}% predicted vs "
                              f"{100 * worst['observed']:.1f}% observed).")
    w = ca.warning
    shown = privacy.visible(w.factor_counts) if len(w.factor_counts) else w.factor_counts
    out["warning"] = (f"Of {w.n_active:,} active customers about {w.expected_churners:,.0f} are expected to churn "
                      f"within {ca.horizon:g} {unit} (scored by the {w.model} model); the top decile's most common "
                      "reasons: " + (", ".join(shown["factor"].head(3)) if len(shown) else "none") + ".")
    b = ca.backtest
    out["backtest"] = (f"Scored as of {b.cutoff:%Y-%m-%d} and checked against the next {ca.horizon:g} {unit}: "
                       f"AUC {b.auc:.2f}, top-decile lift {b.top_decile_lift:.1f}× ({100 * b.top_decile_rate:.1f}% vs "
                       f"{100 * b.base_rate:.1f}% churned); {b.n_churned:,} actual vs {b.expected_churners:,.0f} "
                       "predicted churners." if b is not None else
                       "The file has no signup/churn dates, so the early warning cannot be backtested.")
    if ca.value is not None:
        val = ca.value
        out["clv"] = (f"Active customers' expected remaining lifetime averages {val.mean_remaining_lifetime:.0f} "
                      f"months and their mean CLV is {val.mean_clv:,.0f} (margin {val.margin:.0%}, discount "
                      f"{val.discount_rate:.0%} a year, {val.model} model, capped at {val.max_months // 12} years"
                      + ("; the stratified Cox model extends each stratum's hazard at its recent rate beyond the "
                         "follow-up" if ca.remedy is not None else "") + ").")
        ok = val.by_segment.dropna(subset=["ltv_cac"])
        if len(ok):
            passing = list(ok.loc[ok["ltv_cac"] > LTV_CAC_TARGET, "value"])
            out["clv"] += (f" LTV/CAC is above 3 in {len(passing)} of {len(ok)} segments"
                           + (f" ({', '.join(passing)})." if passing else "."))
    else:
        out["clv"] = "No revenue column: customer lifetime value is not computed."
    if ca.truth is not None:
        cx = ca.truth[ca.truth["model"] == "Cox"]
        out["truth"] = (f"{int(cx['covered'].sum())} of {len(cx)} true hazard coefficients lie inside the Cox "
                        "model's 95% intervals (about 95% is expected).")
    return out


def key_findings(ca: ChurnAnalysis) -> list[str]:
    """The report's headline sentences, in order."""
    f = findings(ca)
    keys = ["data", "km", "logrank", "cox", "validation", "warning", "backtest", "clv", "truth"]
    lines = [f[k] for k in keys if k in f]
    if ca.ph.violations:
        lines.insert(4, f["ph"])
    return lines


def aft_vs_cox(ca: ChurnAnalysis) -> pd.DataFrame:
    """Weibull AFT coefficients (time ratios) and the PH coefficients they imply, next to the Cox estimates."""
    a = ca.aft.coefficients
    if not len(a):
        return pd.DataFrame()
    c = ca.cox.table.set_index("covariate")["coef"]
    return pd.DataFrame({
        "covariate": a["covariate"],
        "aft_coef": a["coef"],
        "time_ratio": np.exp(a["coef"]),
        "implied_ph_coef": a["implied_ph_coef"],
        "cox_coef": a["covariate"].map(c),
    })


def metrics_table(ca: ChurnAnalysis) -> pd.DataFrame:
    """Validation and backtest numbers as one small table."""
    v, b, unit = ca.validation, ca.backtest, ca.data.time_unit
    rows = [
        ("C-index, training data", v.c_index_train),
        (f"C-index, held-out {v.test_size:.0%}", v.c_index_test),
        (f"Brier score at {ca.horizon:g} {unit}, Cox", v.brier_at_horizon),
        (f"Brier score at {ca.horizon:g} {unit}, no covariates", v.brier_null),
    ]
    if b is not None:
        rows += [
            (f"Backtest cutoff ({b.cutoff:%Y-%m-%d}): customers scored", b.n_scored),
            ("Backtest: churned in the window", b.n_churned),
            ("Backtest: predicted churners", b.expected_churners),
            ("Backtest AUC", b.auc),
            ("Backtest top-decile lift", b.top_decile_lift),
        ]
    return pd.DataFrame(rows, columns=["measure", "value"])


def _pfmt(p: float, eq: bool = False) -> str:
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.3f}" if eq else f"{p:.3f}"


# ====================================================================================================================
# Plots (English labels only)
# ====================================================================================================================
def plot_km(km: KMResult | KMGroups, *, time_unit: str = "days", at_risk: bool = True, horizon: float | None = None,
            ax=None, title: str | None = None):
    """KM curve(s) with confidence bands and the number at risk under the plot."""
    import matplotlib.pyplot as plt
    from lifelines.plotting import add_at_risk_counts

    from loyaltylab.plots import PALETTE

    curves = list(km.curves.values()) if isinstance(km, KMGroups) else [km]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.5 if at_risk else 4.5))
    for i, c in enumerate(curves):
        c.fitter.plot_survival_function(ax=ax, ci_show=True, color=PALETTE[i % len(PALETTE)],
                                        label=f"{c.label} (n={c.n:,})")
    if horizon is not None:
        ax.axvline(horizon, color="#555555", ls=":", lw=1)
    ax.set_xlabel(f"Tenure ({time_unit})")
    ax.set_ylabel("Share still a customer")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or ("Kaplan-Meier survival by " + km.column if isinstance(km, KMGroups)
                           else "Kaplan-Meier survival"))
    if at_risk and curves:
        add_at_risk_counts(*[c.fitter for c in curves], ax=ax, rows_to_show=["At risk"])
    plt.tight_layout()
    return ax


def plot_hazard_ratios(cox: CoxResult, ax=None, title: str = "Cox hazard ratios (95% CI)"):
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    from loyaltylab.plots import forest_plot

    t = cox.table.assign(label=cox.table["covariate"])
    ax = forest_plot(t, "hazard_ratio", "hr_lower", "hr_upper", "label", ref=1.0, highlight_col="significant",
                     xlabel="Hazard ratio (log scale; < 1 = longer customer life; red = p < 0.05)", title=title,
                     log_x=True, ax=ax)
    lo, hi = ax.get_xlim()
    ticks = [v for v in (0.5, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2) if lo <= v <= hi]
    if hi / lo > 5:
        ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks or [1.0]))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    return ax


def plot_calibration(table: pd.DataFrame, *, title: str = "Calibration at the horizon", ax=None):
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    hi = float(max(table["predicted"].max(), table["observed"].max(), 0.01)) * 1.1
    ax.plot([0, hi], [0, hi], ls="--", color="#777777", lw=1, label="perfect calibration")
    if {"observed_lower", "observed_upper"} <= set(table.columns):
        ax.errorbar(table["predicted"], table["observed"],
                    yerr=[np.clip(table["observed"] - table["observed_lower"], 0, None),
                          np.clip(table["observed_upper"] - table["observed"], 0, None)],
                    fmt="o", color=PALETTE[0], label="risk decile")
    else:
        ax.plot(table["predicted"], table["observed"], "o", color=PALETTE[0], label="risk decile")
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    ax.set_xlabel("Predicted churn probability")
    ax.set_ylabel("Observed churn share")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return ax


def plot_risk_distribution(ew: EarlyWarning, *, time_unit: str = "days", ax=None):
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE

    if ax is None:
        _, ax = plt.subplots()
    ax.hist(ew.scores["churn_probability"], bins=40, color=PALETTE[0])
    if len(ew.scores) >= 10:
        cut = ew.scores.loc[ew.scores["risk_decile"] == 1, "churn_probability"].min()
        ax.axvline(cut, color=PALETTE[3], ls="--", lw=1.5, label="top-decile threshold")
        ax.legend()
    ax.set_xlabel(f"P(churn within {ew.horizon:g} {time_unit} | tenure so far)")
    ax.set_ylabel("Active customers")
    ax.set_title("Early-warning scores")
    return ax


def plot_ltv_cac(value: CLVResult, ax=None):
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE, SUPPRESSED_COLOR

    t = value.by_segment
    if ax is None:
        _, ax = plt.subplots()
    ratio = t["ltv_cac"].notna().any()
    col = "ltv_cac" if ratio else "mean_clv"
    colors = [SUPPRESSED_COLOR if s else (PALETTE[2] if (not ratio or v > LTV_CAC_TARGET) else PALETTE[3])
              for s, v in zip(t["suppressed"], t[col].fillna(0))]
    ax.bar(t["value"].astype(str), t[col].fillna(0), color=colors)
    if ratio:
        ax.axhline(LTV_CAC_TARGET, color="#555555", ls="--", lw=1, label="LTV/CAC = 3")
        ax.legend()
        ax.set_ylabel("LTV / CAC")
        ax.set_title("Lifetime value vs acquisition cost by segment")
    else:
        ax.set_ylabel("Mean CLV of active customers")
        ax.set_title("Customer lifetime value by segment")
    return ax


def plot_truth(table: pd.DataFrame, ax=None, title: str = "Estimated (95% CI) vs true coefficients"):
    import matplotlib.pyplot as plt

    from loyaltylab.plots import PALETTE, forest_plot

    t = table[table["covariate"] != "shape k"].reset_index(drop=True)
    t = t.assign(label=t["model"] + ": " + t["covariate"])
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.4 * len(t) + 1.4))
    ax = forest_plot(t, "estimate", "lower", "upper", "label", ref=0.0, title=title, xlabel="Coefficient", ax=ax)
    y = np.arange(len(t))[::-1]
    ax.plot(t["true"], y, "x", color=PALETTE[3], ms=9, mew=2, label="true value")
    ax.plot([], [], "o-", color=PALETTE[0], label="estimate, 95% CI")
    ax.legend(loc="best", framealpha=0.9, frameon=True)
    plt.tight_layout()
    return ax


def plot_explorer(ca: ChurnAnalysis, segment: str, horizon: float):
    """The interactive view: one segment's KM curve with the horizon, and its early-warning summary."""
    import matplotlib.pyplot as plt

    sd = ca.data
    groups = sd.extra["segment"] if "segment" in sd.extra else pd.Series("All", index=sd.frame.index)
    mask = (groups == segment).to_numpy() if segment != "All customers" else np.ones(sd.n, dtype=bool)
    sub = sd.frame.loc[mask]
    if segment != "All customers" and segment not in explorer_segments(ca):
        sub = sub.iloc[:0]       # a group the suppressed table hides is never drawn
    if len(sub) < ca.min_cell:
        fig, ax = plt.subplots(figsize=(8, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{segment}: suppressed (fewer than {ca.min_cell} customers)", ha="center")
        return fig, None
    km = kaplan_meier(sub["duration"], sub["event"], times=[horizon], label=str(segment))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    plot_km(km, time_unit=sd.time_unit, at_risk=False, horizon=horizon, ax=ax, title=f"{segment}: survival")
    active = sub.index[sub["event"].to_numpy() == 0]
    t0 = sub.loc[active, "duration"].to_numpy(dtype=float)
    h0, _ = cumhaz_for(ca.scoring, sd, active, t0)
    h1, _ = cumhaz_for(ca.scoring, sd, active, t0 + float(horizon))
    p = conditional_churn_probability(h0, h1, partial_hazard(ca.scoring, sub.loc[active]))
    summary = pd.DataFrame([{"segment": segment, "customers": int(len(sub)), "active": int(len(active)),
                             f"S({horizon:g})": float(km.survival_at["survival"].iloc[0]),
                             f"expected churners within {horizon:g} {sd.time_unit}": float(p.sum()),
                             "mean probability": float(p.mean()) if len(p) else np.nan}])
    return fig, summary


def explorer_segments(ca: ChurnAnalysis) -> list[str]:
    """The segments the interactive view may offer: exactly those the suppressed KM table shows."""
    if ca.km_groups is None:
        return []
    return [str(v) for v in privacy.visible(ca.km_groups.table)["value"]]
