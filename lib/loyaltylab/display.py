"""Result tables as a manager reads them: words for headers and flags, integers as integers, p-values as
'< 0.001', medians never reached as 'not reached', hidden rows marked 'hidden' — never `inf`, `True`, `nan`,
`.000` or a snake_case header. Every table a notebook shows goes through :func:`for_people` (via
``notebook.show_table``); the analyses' DataFrames keep their numbers for results.json and the tests. Headers and
the table's words are in the notebook's language (:func:`loyaltylab.i18n.word`)."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from loyaltylab import i18n, narrative

HEADERS = {
    "aft_coef": "AFT coefficient", "aic": "AIC", "best": "Best", "chi_square": "χ²", "chisq": "χ²",
    "cfi": "CFI", "ci_high": "CI high", "ci_low": "CI low", "coef": "Coefficient", "cox_coef": "Cox coefficient",
    "delta_aic": "ΔAIC", "df": "df", "dz": "Effect size (d_z)", "first_date": "First date",
    "group_a": "Group", "group_b": "Compared with", "hazard_ratio": "Hazard ratio", "hr_lower": "HR low",
    "hr_upper": "HR high", "implied_ph_coef": "Implied Cox coefficient", "last_date": "Last date",
    "log_likelihood": "Log-likelihood", "ltv_cac": "LTV/CAC", "mean_cac": "Mean acquisition cost",
    "mean_clv": "Mean CLV", "mean_ltv": "Mean LTV", "mean_remaining_lifetime": "Mean remaining lifetime",
    "median_lower": "Median, low", "median_upper": "Median, high", "meets_target": "Meets target",
    "missing_cells": "Missing cells", "n": "n", "n_active": "Active", "n_at_risk": "At risk",
    "n_params": "Parameters", "observed_lower": "Observed, low", "observed_upper": "Observed, high",
    "p": "p", "p_holm": "p (Holm)", "p_value": "p", "pct": "%", "rmsea": "RMSEA", "se": "SE", "srmr": "SRMR", "tli": "TLI",
    "share_of_top_decile": "Share of the top tenth", "tau": "τ", "time_ratio": "Time ratio",
    "top_decile_observed": "Top tenth, observed", "top_decile_predicted": "Top tenth, predicted",
    "within_ci": "Truth inside the interval", "covered": "Truth inside the interval", "vs": "Compared with",
}
P_COLUMN = re.compile(r"^(p|p[ _].*|.*p_value|p_holm)$", re.IGNORECASE)
NOT_REACHED = re.compile(r"median|lifetime", re.IGNORECASE)
SURVIVAL_AT = re.compile(r"^S\((?P<t>[0-9.]+)\)$")
HIDDEN = "hidden"


def header(name: object) -> str:
    """:func:`header_en` in the current language."""
    m = SURVIVAL_AT.match(str(name))
    if m and i18n.current() != "en":
        english = header_en(name)
        if english in i18n.glossary():
            return i18n.word(english)
        t = float(m["t"])
        shown = narrative.count(t) if t == int(t) else narrative.number(t, 2)
        return i18n.t(english, f"仍在网比例（t = {shown}）")
    return i18n.word(header_en(name))


def header_en(name: object) -> str:
    """A column name in words: ``hr_lower`` → 'HR low', ``S(365.25)`` → 'Remaining at 1 year'; headers that
    already read as words are kept."""
    text = str(name)
    if text in HEADERS:
        return HEADERS[text]
    m = SURVIVAL_AT.match(text)
    if m:
        t = float(m["t"])
        years = t / 365.25
        if t >= 365 and abs(years - round(years)) < 1e-9:
            k = int(round(years))
            return f"Remaining at {k} year{'s' if k > 1 else ''}"
        return f"Remaining at {narrative.count(t) if t == int(t) else narrative.number(t, 2)}"
    if re.fullmatch(r"[a-z][a-z0-9_]+", text):
        words = text.replace("_", " ")
        return words[:1].upper() + words[1:]
    return text


def _is_flag(col: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(col):
        return True
    if col.dtype == object:
        values = col.dropna()
        return len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values)
    return False


def _integral(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return len(finite) > 0 and bool(np.all(finite == np.round(finite))) and bool(np.abs(finite).max() >= 2)


def _whole(value) -> bool:
    return (isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()
            and abs(value) >= 2)


def _cell(value, precision: int, *, p: bool, whole: bool, not_reached: bool) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return i18n.word("yes" if value else "no")
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.strftime("%Y-%m-%d")  # a date, not 'YYYY-MM-DD 00:00:00'
    if not isinstance(value, (int, float, np.integer, np.floating)):
        return i18n.word(str(value))
    x = float(value)
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return (i18n.word("not reached") if not_reached else "∞") if x > 0 else "−∞"
    if p:
        return "< 0.001" if x < 0.001 else f"{x:.3f}"
    if whole or isinstance(value, (int, np.integer)):
        return narrative.count(x)
    return f"{x:,.{precision}f}"


def for_people(table: pd.DataFrame, precision: int = 1) -> pd.DataFrame:
    """``table`` as text cells for a report: see the module docstring. A ``suppressed`` column is dropped and the
    numeric cells of its rows read 'hidden'; an all-empty ``note`` column is dropped."""
    shown = table.reset_index(drop=True)
    hidden = np.zeros(len(shown), dtype=bool)
    if "suppressed" in shown:
        hidden = shown["suppressed"].fillna(False).astype(bool).to_numpy()
        shown = shown.drop(columns="suppressed")
    if "note" in shown and shown["note"].fillna("").astype(str).str.strip().eq("").all():
        shown = shown.drop(columns="note")
    out = {}
    for name in shown.columns:
        col = shown[name]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if _is_flag(col):
            cells = ["–" if pd.isna(v) else i18n.word("yes" if v else "no") for v in col]
        elif numeric:
            values = col.to_numpy(dtype="float64", na_value=np.nan)
            p = bool(P_COLUMN.match(str(name)))
            whole = not p and (pd.api.types.is_integer_dtype(col) or _integral(values))
            reached = bool(NOT_REACHED.search(str(name)))
            cells = [_cell(v, precision, p=p, whole=whole, not_reached=reached) for v in col.tolist()]
        else:  # a mixed column (e.g. metric | value): whole numbers of 2 or more read as counts
            cells = ["–" if v is None or (isinstance(v, float) and math.isnan(v)) else
                     _cell(v, precision, p=False, whole=_whole(v), not_reached=False) for v in col.tolist()]
        if numeric and hidden.any():
            cells = [i18n.word(HIDDEN) if h else c for c, h in zip(cells, hidden)]
        label = header(name)
        out[label if label not in out else str(name)] = cells
    return pd.DataFrame(out, index=shown.index, columns=list(out)) if out else pd.DataFrame(index=shown.index)
