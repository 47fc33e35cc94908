"""The overview in sentences. Every data-derived string (column names, table names, segment values) goes through
:func:`loyaltylab.narrative.esc`; numbers through the narrative formats."""
from __future__ import annotations

import pandas as pd

from loyaltylab import privacy
from loyaltylab.constants import dimension_label
from loyaltylab.narrative import count, esc, number, percent, signed

HISTOGRAM_LABELS = {"tenure_days": "tenure", "monthly_revenue": "monthly revenue"}


def key_findings(result) -> list[str]:
    """The overview's key findings in words, built from the computed summary (no hand-written numbers)."""
    rows = result.rows
    summary = result.summary.set_index("table")
    survey = summary.loc["survey"] if "survey" in rows else None
    gap = result.missing.sort_values("pct", kind="stable").iloc[-1] if len(result.missing) else None
    n_warn = len(result.warnings)
    return [
        f"{count(rows.get('customers', 0))} customers, {count(rows.get('survey', 0))} survey responses, "
        f"{count(rows.get('transactions', 0))} transactions and {count(rows.get('incidents', 0))} service incidents.",
        (f"Survey responses run from {survey.first_date:%Y-%m-%d} to {survey.last_date:%Y-%m-%d}."
         if survey is not None and pd.notna(survey.first_date) else "The survey table has no dates."),
        (f"{len(result.missing)} columns have missing values; the largest share is <code>{esc(gap['column'])}</code> "
         f"in {esc(gap['table'])} ({gap['pct']:.0f}%)." if gap is not None else "No missing values."),
        (f"{n_warn} data-quality warning(s): read them below before analysing." if n_warn
         else "No data-quality warnings."),
    ]


def describe_warnings(result) -> list[str]:
    """The data-quality warnings as a list (their sentences hold numbers and fixed words only)."""
    return list(result.warnings) or ["No data-quality warnings."]


def _hidden(table: pd.DataFrame | None) -> int:
    return 0 if table is None else int(table["suppressed"].astype(bool).sum())


def describe_distributions(result) -> list[str]:
    """What the NPS answers and the SERVQUAL means show."""
    lines = []
    dist = result.nps_distribution
    if dist is not None:
        hidden = _hidden(dist)
        shown = privacy.visible(dist)
        top = shown.loc[shown["n"].astype("float64").idxmax()] if shown["n"].notna().any() else None
        line = (f"The most frequent answer is {int(top['score'])} ({number(top['pct'], 1)}% of responses)."
                if top is not None else "No NPS answers to show.")
        if hidden:
            line += (f" {hidden} score(s) are hidden, exactly as in the NPS report: fewer than {result.min_cell} "
                     "respondents gave them, or they protect a score that few gave.")
        lines.append(line)
    means = result.dimension_means
    if means is not None and len(privacy.visible(means)):
        shown = privacy.visible(means).assign(gap=lambda t: t["perception"] - t["expectation"])
        worst = shown.loc[shown["gap"].idxmin()]
        short = int((shown["gap"] < 0).sum())
        lines.append(
            f"Perception falls short of expectation in {short} of {len(shown)} SERVQUAL dimensions; the largest "
            f"gap is {dimension_label(worst['dimension'], bilingual=True)}: {signed(worst['gap'], 2)} on the 1–7 "
            "scale."
        )
    return lines or ["The survey has no NPS scores or SERVQUAL items to show."]


def describe_histograms(result) -> list[str]:
    """How many histogram bars are hidden, per column."""
    lines = []
    for col, table in result.histograms.items():
        label = HISTOGRAM_LABELS.get(col, esc(col))
        hidden = _hidden(table)
        if hidden:
            lines.append(f"{hidden} of {len(table)} {label} bars hold fewer than {result.min_cell} customers (or "
                         "would let one be worked out from the total) and are not drawn.")
        else:
            lines.append(f"Every {label} bar holds at least {result.min_cell} customers or none.")
    return lines or ["The customers table has no tenure or revenue column."]


def describe_segments(result) -> list[str]:
    """The largest level of each segment column and how many levels are suppressed."""
    lines = []
    for col, table in result.segments.items():
        shown = privacy.visible(table)
        hidden = _hidden(table)
        if len(shown) and shown["n"].notna().any():
            top = shown.loc[shown["n"].astype("float64").idxmax()]
            line = (f"By {esc(col)}: the largest group is {esc(top['value'])} "
                    f"({count(top['n'])} customers, {percent(top['pct'] / 100)}).")
        else:
            line = f"By {esc(col)}: every group is suppressed."
        if hidden:
            line += f" {hidden} group(s) are suppressed (fewer than {result.min_cell} customers, or complementary)."
        lines.append(line)
    return lines or ["None of the segment columns is in the customers table."]


def suppression_notes(result) -> list[str]:
    """Notes for results.json: what was hidden (no data-derived text)."""
    notes = []
    hidden = _hidden(result.nps_distribution)
    if hidden:
        notes.append(f"NPS score distribution: {hidden} score(s) hidden (fewer than min_cell={result.min_cell} "
                     "respondents, or complementary), exactly as in the NPS report.")
    for col, table in result.histograms.items():
        if _hidden(table):
            notes.append(f"Histogram of {HISTOGRAM_LABELS.get(col, col)}: {_hidden(table)} bar(s) hidden.")
    if any(_hidden(t) for t in result.segments.values()):
        notes.append("Segment sizes: groups below min_cell and their complementary groups are hidden.")
    return notes
