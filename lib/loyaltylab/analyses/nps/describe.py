"""The NPS report in words: "What this shows" for each section and the key findings, computed from the result.

Every data-derived value (segment values, column names, file names, theme and period labels) goes through
:func:`loyaltylab.narrative.esc`, so it renders as text and never as Markdown or HTML; numbers through the
narrative formats.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from loyaltylab import privacy
from loyaltylab import themes as th
from loyaltylab.narrative import count, esc, interval, number, p_value, percent, signed
from loyaltylab.stats.multiplicity import CORRECTION_NAMES

from .planning import sample_size
from .tables import MISSING_LABEL, PERIOD_NAMES

if TYPE_CHECKING:
    from .analysis import NPSReport

LOYAL_MARK = 50.0
"""The course's mark of a loyal customer base, NPS ≥ 50 (a benchmark stated neutrally on other data)."""


def _ci(low, high, confidence: float) -> str:
    return interval(low, high, confidence)


def withheld_sentence(result: NPSReport) -> str:
    """Why a fan-out part shows nothing: its totals would let a small group elsewhere in the batch be worked out."""
    return (f"This report ({esc(_filters(result.data.filters))}) is withheld as a whole: with its numbers, the report "
            f"on everyone minus the other parts of this batch ({esc(_scope(result.data.filters))}) would give away a "
            f"group of fewer than {count(result.params.min_cell)} people (a blank value, or a part too small to "
            "report) — so no NPS, count or table is shown here.")


def _withheld(result: NPSReport, short: bool = True) -> list[str] | None:
    """For a withheld part: the sentence (the overall and the key findings) or a pointer to it (the other
    sections); None for any other report."""
    if not getattr(result, "withheld", False):
        return None
    return ["Not shown: this report is withheld as a whole (see above)." if short else withheld_sentence(result)]


def _filters(filters) -> str:
    return ", ".join(f"{c} = {v}" for c, v in (filters or {}).items())


def describe_overall(result: NPSReport) -> list[str]:
    o, p = result.overall, result.params
    if (w := _withheld(result, short=False)) is not None:
        return w
    if o.suppressed:
        return [f"Only {count(o.n)} responses — fewer than min_cell = {p.min_cell}, so no NPS is shown."]
    lines = [f"NPS is **{signed(o.nps)}** ({_ci(o.ci_low, o.ci_high, p.confidence)}, {esc(o.ci_method)} interval; "
             f"n = {count(o.n)}): {number(o.promoters_pct)}% promoters, {number(o.passives_pct)}% passives, "
             f"{number(o.detractors_pct)}% detractors."]
    mark = (f"the course's loyal-base mark of NPS ≥ {LOYAL_MARK:.0f}" if result.is_course
            else f"NPS {LOYAL_MARK:.0f}, a common benchmark for a loyal customer base")
    if o.ci_low >= LOYAL_MARK:
        lines.append(f"The whole interval lies above {mark}.")
    elif o.ci_high < LOYAL_MARK:
        lines.append(f"The whole interval lies below {mark} ({number(LOYAL_MARK - o.nps)} points short).")
    else:
        lines.append(f"The interval includes {LOYAL_MARK:.0f}: the data cannot tell whether the base reaches "
                     f"{mark}.")
    if result.cluster_col:
        lines.append(f"Intervals allow for customers answering more than once (clustered by "
                     f"{esc(result.cluster_col)}; design effect {number(o.deff, 2)}, i.e. the interval is "
                     f"{number(math.sqrt(o.deff), 2)}× as wide as if every response were a different customer).")
    if result.data.dropped_rows:
        lines.append(f"{count(result.data.dropped_rows)} responses without a score were left out.")
    return lines


def _segment_line(col: str, table, result: NPSReport) -> str:
    p = result.params
    adj = f"{CORRECTION_NAMES[result.correction]}-adjusted " if result.correction else ""
    shown = privacy.visible(table)
    hidden = int(table["suppressed"].sum())
    batch_only = result.linked.extra_by_table.get(("segments", col), 0) if result.linked is not None else 0
    if len(shown) == 0:
        why = (f"groups of fewer than {p.min_cell} respondents, and the groups that would give them away here or in "
               "another part of this batch" if batch_only else f"fewer than {p.min_cell} respondents")
        return f"By {esc(col)}: every group is suppressed ({why})."
    best, worst = shown.loc[shown["nps"].idxmax()], shown.loc[shown["nps"].idxmin()]
    text = (f"By {esc(col)}: NPS ranges from {signed(worst['nps'])} ({esc(worst['value'])}) to "
            f"{signed(best['nps'])} ({esc(best['value'])}). ")
    sig = shown[shown["significant"].astype(bool)]
    if len(sig):
        parts = [f"{esc(r.value)} {'above' if r.diff_vs_rest > 0 else 'below'} the rest by "
                 f"{number(abs(r.diff_vs_rest))} points ({adj}{p_value(r.p_adjusted)})" for r in sig.itertuples()]
        text += "Significantly different from the rest: " + "; ".join(parts) + "."
    else:
        text += f"No {esc(col)} differs significantly from the rest ({adj}p ≥ {number(1 - p.confidence, 2)})."
    if hidden:
        if not batch_only:
            text += f" {hidden} group(s) suppressed (small cells)."
        elif batch_only == hidden:
            text += f" {hidden} group(s) suppressed to protect small groups in another part of this batch."
        else:
            text += (f" {hidden} group(s) suppressed (small cells; {batch_only} of them to protect another part of "
                     "this batch).")
    return text


def describe_segments(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    return [_segment_line(col, table, result) for col, table in result.segments.items()]


def describe_trend(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    t = result.trend
    if t is None:
        return []
    shown = privacy.visible(t).dropna(subset=["nps"])
    if len(shown) == 0:
        return ["No dated responses to show a trend."]
    name = PERIOD_NAMES[result.params.period]
    last = shown.iloc[-1]
    line = (f"Latest {name} ({esc(last['period'])}): NPS {signed(last['nps'])} "
            f"({_ci(last['ci_low'], last['ci_high'], result.params.confidence)}, n = {count(last['n'])}).")
    if np.isfinite(last["change"]):
        line += (f" Change from the previous {name}: {signed(last['change'])} points "
                 f"({'significant' if last['change_significant'] else 'not significant'}).")
    flagged = t[t["change_significant"].astype(bool)]
    if len(flagged):
        line += " Significant changes: " + ", ".join(f"{esc(r.period)} ({signed(r.change)})"
                                                     for r in flagged.itertuples()) + "."
    else:
        line += f" No {name}-to-{name} change is statistically significant across {len(shown)} {name}s."
    return [line]


def describe_dimensions(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    if result.dimensions is None:
        return []
    eff = result.dimensions.effects.dropna(subset=["cohens_d"])
    lines = []
    if len(eff):
        top, low = eff.loc[eff["cohens_d"].idxmax()], eff.loc[eff["cohens_d"].idxmin()]
        if (eff["difference"] > 0).all():
            lines.append(f"Promoters rate every dimension higher than detractors; the gap is largest for "
                         f"{esc(top['label'])} ({number(top['mean_promoters'], 2)} vs "
                         f"{number(top['mean_detractors'], 2)}, Cohen's d = {number(top['cohens_d'], 2)}, "
                         f"{esc(top['effect'])}) and smallest for {esc(low['label'])} "
                         f"(d = {number(low['cohens_d'], 2)}).")
        else:
            lines.append(f"The largest promoter–detractor gap is for {esc(top['label'])} "
                         f"(Cohen's d = {number(top['cohens_d'], 2)}).")
    m = result.model
    if m is not None and len(m.table):
        best = m.table.loc[m.table["odds_ratio"].idxmax()]
        lines.append(f"Holding the other dimensions constant, one point more on {esc(best['label'])} multiplies the "
                     f"odds of being a promoter rather than a detractor by {number(best['odds_ratio'], 2)} "
                     f"({percent(result.params.confidence)} CI {number(best['ci_low'], 2)}–"
                     f"{number(best['ci_high'], 2)}; n = {count(m.n)}, pseudo-R² = {number(m.pseudo_r2, 2)}"
                     + (f"; cluster-robust by {esc(m.cluster_col)}" if m.cluster_col else "") + ").")
    elif m is not None and m.note:
        lines.append(f"Logistic model not shown: {esc(m.note)}.")
    return lines


def describe_themes(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    t = result.themes
    if t is None:
        return []
    shown = privacy.visible(t)
    shown = shown[shown["theme"] != th.UNCLASSIFIED]
    lines = []
    for col, who in (("share_detractors", "detractors"), ("share_promoters", "promoters")):
        s = shown.dropna(subset=[col])
        if len(s):
            r = s.sort_values([col, "theme"], ascending=[False, True]).iloc[0]
            lines.append(f"Commenting {who} most often write about {esc(th.theme_label(r['theme'], bilingual=True))} "
                         f"({number(r[col], 0)}% of their comments).")
    un = t[t["theme"] == th.UNCLASSIFIED]
    if len(un) and np.isfinite(un["share_all"].iloc[0]):
        lines.append(f"{number(un['share_all'].iloc[0], 0)}% of comments match no theme in the lexicon.")
    acc = result.theme_accuracy
    if acc is not None:
        lines.append(f"On the course data the lexicon's primary theme matches the true theme for "
                     f"{percent(acc.accuracy, 1)} of {count(acc.n)} comments.")
    return lines


def describe_sample_size(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    o = result.overall
    if o.suppressed:
        return []
    conf = result.params.confidence
    need = sample_size(5, o.promoters_pct, o.detractors_pct, conf)
    line = (f"With this survey's mix, ±5 points ({percent(conf)}) needs about {count(need)} responses from "
            "different customers")
    if o.deff > 1:
        line += (f" — about {count(math.ceil(need * o.deff))} when customers answer repeatedly as here "
                 f"(design effect {number(o.deff, 2)})")
    return [line + f"; the {count(o.n)} responses here give ±{number(o.margin)} points."]


def describe_truth(result: NPSReport) -> list[str]:
    if (w := _withheld(result)) is not None:
        return w
    t = result.truth
    if t is None:
        return ["No `truth.json` beside the survey file: this comparison exists only for the course data."]
    first = t.iloc[0]
    covered = int(t["covered"].sum())
    who = first["scope"] if first["value"] == "everyone" else first["value"]
    return [f"True NPS ({esc(who)}): {number(first['true'])}; estimate {number(first['estimate'])} "
            f"({'inside' if first['covered'] else 'outside'} its interval). "
            f"{covered} of {len(t)} intervals in the comparison contain the true value."]


def describe_join(result: NPSReport) -> list[str]:
    """A warning when many survey responses found no customer to take their segment from."""
    from .analysis import JOIN_WARN_RATE

    rate = result.data.join_match_rate
    if rate is None or rate >= JOIN_WARN_RATE:
        return []
    return [f"**Warning:** only {percent(rate, 1)} of survey responses matched a customer in "
            f"{esc(result.data.inputs.get('customers'))} on customer_id (expected ≥ {percent(JOIN_WARN_RATE)}); "
            f"the rest are shown as segment '{esc(MISSING_LABEL)}'. Check that both files use the same ids."]


def key_findings(result: NPSReport) -> list[str]:
    """The 'Key findings' bullets, each computed from the results (data warnings first)."""
    if (w := _withheld(result, short=False)) is not None:
        return w
    lines = describe_join(result) + describe_overall(result)[:2]
    for part in (describe_segments(result)[:3], describe_trend(result), describe_dimensions(result)[:1],
                 describe_themes(result)[:2], describe_truth(result) if result.truth is not None else []):
        lines.extend(part)
    hidden = sum(int(t["suppressed"].sum()) for t in result.segments.values())
    if hidden:
        lines.append(f"{hidden} segment cell(s) are suppressed to protect respondents (min_cell = "
                     f"{result.params.min_cell}).")
    return lines + describe_linked(result)


def describe_linked(result: NPSReport) -> list[str]:
    """One sentence when this fan-out part hides cells only to protect the other parts of its batch."""
    extra = result.linked.extra if result.linked is not None else 0
    if not extra:
        return []
    return [f"{count(extra)} further cell(s) are hidden in this report so that no small group in another part of "
            f"this batch ({esc(_scope(result.data.filters))}) or in the report on everyone can be worked out by "
            "subtraction."]


def _scope(filters) -> str:
    """'the other values of region' for the filter columns of a part."""
    return "the other values of " + ", ".join(str(c) for c in filters)
