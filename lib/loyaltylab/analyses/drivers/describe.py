"""The driver report in words: "What this shows" for each section and the key findings, computed from the result.

Every data-derived value (driver, control and segment column names, segment values, file names) goes through
:func:`loyaltylab.narrative.esc`, so it renders as text and never as Markdown or HTML; numbers through the
narrative formats. The course's framing (the SERVQUAL dimensions, the truth) appears only on the course data.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loyaltylab.constants import DIMENSIONS, dimension_label
from loyaltylab.narrative import count, esc, join_words, number, p_value, percent
from loyaltylab.stats.multiplicity import CORRECTION_NAMES

from .data import PROMOTER

if TYPE_CHECKING:
    from .analysis import DriversReport


def label(name) -> str:
    """A driver's name for a sentence: the bilingual SERVQUAL label for a dimension, else the name escaped."""
    return dimension_label(name, bilingual=True) if name in DIMENSIONS else esc(name)


def _ci(low, high, confidence: float, fmt=percent) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""
    return f"{confidence:.0%} CI {fmt(low)} to {fmt(high)}"


def _pct(x) -> str:
    return percent(x, 0)


def _outcome(r: DriversReport) -> str:
    return "promoter vs not" if r.outcome == PROMOTER else esc(r.outcome)


def describe_data(r: DriversReport) -> list[str]:
    """What was read and left out."""
    d = r.data
    who = (f" from {count(r.decomposition.boot.n_clusters)} respondents (repeat answers clustered by "
           f"{esc(d.cluster_col)})" if d.cluster_col and r.boot is not None else "")
    lines = [f"{count(r.n)} complete responses{who} with the outcome {_outcome(r)}, "
             f"{len(d.drivers)} driver columns" + (f" and the controls {join_words([esc(c) for c in d.controls])}"
                                                   if d.controls else "") + "."]
    if d.from_customers:
        lines.append(f"Joined from the customers file on customer_id: {join_words([esc(c) for c in d.from_customers])}.")
    lines += [esc(n) + "." for n in r.notes]
    return lines


def describe_importance(r: DriversReport) -> list[str]:
    """R², the shares of the drivers (LMG) and whether the relative weights agree."""
    t, conf = r.ranked(), r.params.confidence
    dec = r.decomposition
    if dec.kind == "logistic":
        lines = [f"The drivers explain a McFadden pseudo-R² of {number(r.r2, 3)} in the logistic model of promoter "
                 f"vs not (n = {count(dec.point.n)})."]
    else:
        lines = [f"Together the drivers explain R² = {number(r.r2, 3)} of the variance in {_outcome(r)}."]
        if dec.point.controls:
            lines[0] = (f"The controls alone explain R² = {number(dec.point.r2_controls, 3)}; the drivers add "
                        f"{number(dec.point.r2_drivers, 3)} on top (total {number(r.r2, 3)}), and it is that part "
                        "that is shared out below.")
    top = t.iloc[0]
    ci = _ci(top["lmg_share_ci_low"], top["lmg_share_ci_high"], conf, _pct)
    lines.append(f"{label(top['driver'])} explains the largest share: **{_pct(top['lmg_share'])}** of the explained "
                 f"variance{f' ({ci})' if ci else ''}. In order: "
                 + "; ".join(f"{label(x.driver)} {_pct(x.lmg_share)}" for x in t.itertuples()) + ".")
    if dec.kind == "linear" and t["relative_weight_share"].notna().all():
        rw_order = list(t.sort_values("relative_weight_share", ascending=False)["driver"])
        if rw_order == list(t["driver"]):
            lines.append("Johnson's relative weights rank the drivers in the same order (they agree with the LMG to "
                         "within a few points, as they usually do).")
        else:
            lines.append("Johnson's relative weights order the drivers differently: "
                         + ", ".join(label(x) for x in rw_order) + " — where the two methods disagree, the drivers "
                         "are too close to rank.")
    return lines


def describe_measures(r: DriversReport) -> list[str]:
    """Why standardised betas mislead when drivers are correlated."""
    t = r.drivers
    if t["beta_std"].isna().all():
        return []
    by_lmg = list(r.ranked()["driver"])
    by_beta = list(t.assign(b=t["beta_std"].abs()).sort_values("b", ascending=False)["driver"])
    vif = t.loc[t["vif"].idxmax()]
    lines = [f"The largest VIF is {number(vif['vif'], 2)} ({label(vif['driver'])}): "
             + ("the drivers overlap strongly." if vif["vif"] > 5 else "the drivers overlap, as ratings of one "
                "service do." if vif["vif"] > 1.5 else "the drivers barely overlap.")]
    if by_beta != by_lmg:
        lines.append("Ranked by the size of their standardised betas the drivers come out as "
                     + ", ".join(label(x) for x in by_beta) + " — not the LMG order. A beta credits a driver only "
                     "with what it adds after all the others, so correlated drivers split their common part "
                     "arbitrarily; the LMG averages over every order of entry instead.")
    else:
        lines.append("Here the standardised betas happen to rank the drivers as the LMG does; their sizes still "
                     "understate drivers that share variance with others.")
    small_last = t[(t["last"] < 0.5 * t["lmg"]) & (t["lmg"] > 0)]
    if len(small_last):
        x = small_last.loc[small_last["lmg"].idxmax()]
        lines.append(f"{label(x['driver'])} adds only {number(x['last'], 3)} to R² when entered last but "
                     f"{number(x['first'], 3)} when entered first: most of its effect is shared with the others.")
    neg = t[t["pratt"] < 0]
    if len(neg):
        lines.append("Negative Pratt measures (" + join_words([label(x) for x in neg["driver"]]) + ") mark drivers "
                     "whose beta and correlation with the outcome have opposite signs.")
    return lines


def describe_uncertainty(r: DriversReport) -> list[str]:
    """Rank stability and the pairwise differences, from the bootstrap."""
    boot = r.boot
    if boot is None:
        return [f"No bootstrap (n_bootstrap = {r.params.n_bootstrap}): no intervals."] if not r.params.n_bootstrap \
            else []
    conf = boot.confidence
    probs = boot.rank_probabilities
    t = r.ranked()
    top = t.iloc[0]["driver"]
    lines = [f"Cluster bootstrap over {count(boot.n_clusters)} respondents, {count(boot.n_boot)} replicates. "
             f"{label(top)} ranks first in {_pct(probs.loc[top, 1])} of them."]
    settled = [d for d in t["driver"] if probs.loc[d].max() >= 0.95]
    if len(settled) == len(t):
        lines.append("Every driver keeps its rank in at least 95% of the replicates: the order is settled.")
    elif settled:
        lines.append(f"Rank settled (same rank in ≥ 95% of replicates): {join_words([label(d) for d in settled])}; "
                     "the others swap places from sample to sample.")
    pairs = boot.pairs
    adj = CORRECTION_NAMES.get(r.correction, "")
    if len(t) > 1:
        a, b = t.iloc[0]["driver"], t.iloc[1]["driver"]
        row = pairs[((pairs["driver"] == a) & (pairs["other"] == b)) | ((pairs["driver"] == b) & (pairs["other"] == a))]
        if len(row):
            x = row.iloc[0]
            sign = 1 if x["driver"] == a else -1
            diff, lo, hi = sign * x["estimate"], *sorted((sign * x["ci_low"], sign * x["ci_high"]))
            verdict = "really is ahead" if x["significant"] else "is not reliably ahead"
            lines.append(f"Is {label(a)} really ahead of {label(b)}? It {verdict}: the difference in LMG is "
                         f"{number(diff, 3)} of R² ({_ci(lo, hi, conf, lambda v: number(v, 3))}, {adj}-adjusted "
                         f"{p_value(x['p_adjusted'])}).")
    sig = int(pairs["significant"].sum())
    lines.append(f"{sig} of {len(pairs)} pairwise differences are significant after {adj} adjustment.")
    return lines


def describe_dominance(r: DriversReport) -> list[str]:
    """Complete, conditional and general dominance in words."""
    dom = r.decomposition.dominance
    if dom is None:
        return []
    lines = []
    for level, what in (("complete", "adds more R² than the other in every model of the other drivers"),
                        ("conditional", "adds more on average at every model size")):
        won = dom[dom[level].notna()]
        lines.append(f"{level.capitalize()} dominance ({what}): {len(won)} of {len(dom)} pairs are decided"
                     + (f", e.g. {label(won.iloc[0][level])} over "
                        f"{label(won.iloc[0]['other'] if won.iloc[0][level] == won.iloc[0]['driver'] else won.iloc[0]['driver'])}"
                        if len(won) else "") + ".")
    lines.append("General dominance is the LMG itself: the order above.")
    return lines


def describe_promoter(r: DriversReport) -> list[str]:
    """The logistic decomposition of promoter vs not beside an nps outcome."""
    dec = r.promoter
    if dec is None:
        return []
    t = dec.point.table.sort_values("rank")
    same = list(t["driver"]) == list(r.ranked()["driver"])
    return [f"For promoter (9–10) vs not, McFadden's pseudo-R² is {number(dec.point.r2, 3)} (n = "
            f"{count(dec.point.n)}); its shares: " + "; ".join(f"{label(x.driver)} {_pct(x.lmg_share)}"
                                                                for x in t.itertuples()) + ".",
            "The order is the same as for the 0–10 score." if same else
            "The order differs from the 0–10 score's: what makes a promoter is not quite what raises the mean score."]


def describe_key_drivers(r: DriversReport) -> list[str]:
    """The IPA quadrants: where to invest first."""
    k = r.key_drivers
    lines = []
    for quadrant, advice in (("concentrate here", "more important than average and below-average performance — "
                              "invest here first"),
                             ("keep up the good work", "important and performing above average — protect"),
                             ("possible overkill", "performing well on something that moves the outcome little"),
                             ("low priority", "neither important nor strong")):
        names = k[k["quadrant"] == quadrant]["driver"]
        if len(names):
            lines.append(f"**{quadrant.capitalize()}**: {join_words([label(x) for x in names])} ({advice}).")
    shaky = k[k["importance_stability"] < 0.8]
    if len(shaky):
        lines.append("Near the importance line (on the same side in fewer than 80% of the replicates): "
                     + join_words([label(x) for x in shaky["driver"]]) + "; their quadrant is uncertain.")
    if r.performance_scale == "pomp":
        lines.append("The drivers are on different scales, so performance is the percent of each driver's observed "
                     "range (POMP).")
    return lines


def describe_stated(r: DriversReport) -> list[str]:
    """Derived against stated importance."""
    s = r.stated
    if s is None:
        return []
    said = s.sort_values("stated", ascending=False).iloc[0]
    moved = s.sort_values("derived", ascending=False).iloc[0]
    rho = r.stated_summary.get("spearman")
    line = (f"Asked directly ({count(r.stated_summary.get('n'))} respondents gave importance points), customers say "
            f"{label(said['driver'])} matters most ({_pct(said['stated'])} of their points); the ratings show "
            f"{label(moved['driver'])} moves {_outcome(r)} most ({_pct(moved['derived'])} of R²).")
    if rho is not None and np.isfinite(rho):
        line += f" Spearman's rank correlation between the two is {number(rho, 2)}."
    gap = s.loc[s["difference"].abs().idxmax()]
    return [line, f"The largest disagreement is {label(gap['driver'])}: {_pct(gap['stated'])} stated against "
                  f"{_pct(gap['derived'])} derived. Stated importance measures what people believe matters; derived "
                  "importance what actually moves their answers."]


def describe_kano(r: DriversReport) -> list[str]:
    """Basic, performance and excitement factors."""
    k = r.kano
    shown = k[~k["suppressed"].astype(bool) & k["category"].notna()]
    lines = []
    for cat, meaning in (("basic", "a low rating costs more than a high one gains — must-be qualities"),
                         ("excitement", "a high rating gains more than a low one costs — delighters"),
                         ("performance", "loss and gain about symmetric")):
        names = shown[shown["category"] == cat]["driver"]
        if len(names):
            lines.append(f"**{cat.capitalize()}**: {join_words([label(x) for x in names])} ({meaning}).")
    hidden = int(k["suppressed"].astype(bool).sum())
    if hidden:
        lines.append(f"{hidden} driver(s) suppressed: a rating box with fewer than {r.params.min_cell} respondents.")
    if len(shown):
        x = shown.loc[shown["penalty"].idxmax()]
        if r.outcome == PROMOTER:
            def fmt(v):
                return f"{number(100 * v, 0)} points"
            what = "a promoter share lower than its middle by"
        else:
            def fmt(v):
                return number(v, 2)
            what = f"{_outcome(r)} lower than its middle by"
        lines.append(f"The largest penalty: {label(x['driver'])} — its bottom box has {what} {fmt(x['penalty'])} "
                     f"({_ci(x['penalty_ci_low'], x['penalty_ci_high'], r.params.confidence, fmt)}).")
    return lines


def _segment_line(col: str, groups: pd.DataFrame, table: pd.DataFrame, r: DriversReport) -> str:
    adj = CORRECTION_NAMES.get(r.correction, "")
    hidden = int(groups["suppressed"].sum())
    shown = groups[~groups["suppressed"].astype(bool)]
    if not len(shown):
        return f"By {esc(col)}: every group is suppressed (fewer than {r.params.min_cell} respondents)."
    text = f"By {esc(col)} ({len(shown)} groups shown): "
    sig = table[table["significant"].astype(bool)]
    if r.segments.n_boot == 0:
        text += "no bootstrap, so no test of differences."
    elif len(sig):
        text += "; ".join(f"in {esc(x.value)} the share of {label(x.driver)} is {_pct(x.estimate)} against "
                          f"{_pct(x.rest)} in the rest ({adj}-adjusted {p_value(x.p_adjusted)})"
                          for x in sig.itertuples()) + "."
    else:
        text += (f"no driver's share differs significantly from the rest of the respondents ({adj}-adjusted across "
                 "groups and drivers): the same drivers matter everywhere.")
    few = shown[shown["few_rows"].astype(bool)]
    if len(few):
        text += f" {len(few)} group(s) have fewer than 10 responses per predictor: their shares are unstable."
    if hidden:
        text += f" {hidden} group(s) suppressed (small cells)."
    return text


def describe_segments(r: DriversReport) -> list[str]:
    seg = r.segments
    if seg is None:
        return []
    return [_segment_line(col, g, seg.table[seg.table["column"] == col], r)
            for col, g in seg.groups.groupby("column", sort=False)]


def describe_warnings(r: DriversReport) -> list[str]:
    """Suppressors and sign flips, collinear pairs (with a grouping to offer), VIFs, small n per driver."""
    w = r.warnings
    lines = []
    for x in w[w["kind"] == "suppressor"].itertuples():
        lines.append(f"Sign flip: {label(x.driver)} correlates {'positively' if x.reference > 0 else 'negatively'} "
                     f"with {_outcome(r)} (r = {number(x.reference, 2)}) but its standardised beta is "
                     f"{number(x.value, 2)} — a suppressor effect; read its beta with care (its LMG is not affected "
                     "the same way).")
    for x in w[w["kind"] == "collinear_pair"].itertuples():
        lines.append(f"{label(x.driver)} and {label(x.other)} correlate at r = {number(x.value, 2)}: how the LMG splits "
                     "their common part is arbitrary. Consider reporting them together: driver_groups = "
                     f"{{\"{esc(x.driver)} + {esc(x.other)}\": [\"{esc(x.driver)}\", \"{esc(x.other)}\"]}}.")
    for x in w[w["kind"] == "vif"].itertuples():
        lines.append(f"{label(x.driver)} has VIF {number(x.value, 1)} (above {number(x.threshold, 0)}): its beta is "
                     "unstable.")
    for x in w[w["kind"] == "few_rows"].itertuples():
        lines.append(f"Only {number(x.value, 1)} responses per predictor (fewer than {number(x.threshold, 0)}): every "
                     "importance here is imprecise; collect more responses or use fewer drivers.")
    if not lines:
        lines.append("No sign flips, no VIF above 5, no pair of drivers correlated above 0.9 and at least 10 "
                     "responses per predictor: nothing here calls for special care.")
    return lines


def describe_truth(r: DriversReport) -> list[str]:
    """Estimated vs true shares (course data)."""
    t = r.truth
    if t is None:
        return []
    lines = []
    for measure, name in (("lmg_share", "LMG shares"), ("relative_weight_share", "relative-weight shares")):
        part = t[(t["measure"] == measure) & t["covered"].notna()]
        if len(part):
            lines.append(f"{int(part['covered'].astype(bool).sum())} of {len(part)} {name} have intervals that contain "
                         f"the true population value; the largest error is {number(part['error'].abs().max() * 100, 1)} "
                         "percentage points.")
    lines.append("The truth here is the population decomposition of the observed dimension scores (item means with "
                 "rounding and noise), not the generator's latent weights: the latent weights (shown beside) act on "
                 "quality the survey can only measure with error, so the observed shares are flatter.")
    return lines


def key_findings(r: DriversReport) -> list[str]:
    """The few sentences at the top of the report."""
    t = r.ranked()
    lines = describe_importance(r)[:2]
    if r.boot is not None:
        lines += [x for x in describe_uncertainty(r) if x.startswith("Is ")][:1]
    conc = r.key_drivers[r.key_drivers["quadrant"] == "concentrate here"]["driver"]
    if len(conc):
        lines.append(f"Invest first in {join_words([label(x) for x in conc])}: above-average importance, "
                     "below-average performance.")
    elif len(t):
        lines.append(f"No driver is both important and weak; protect {label(t.iloc[0]['driver'])}.")
    cats = r.kano[~r.kano["suppressed"].astype(bool)]
    basic = cats[cats["category"] == "basic"]["driver"]
    if len(basic):
        lines.append(f"Basic factors (a low rating hurts more than a high one helps): "
                     f"{join_words([label(x) for x in basic])}.")
    if len(r.warnings):
        lines.append(f"{len(r.warnings)} caution(s) about the decomposition: see the warnings section.")
    lines += describe_truth(r)[:1]
    return lines
