"""Notebook 05 in words: "What this shows" for each section and the key findings, computed from the result.

Every data-derived value (column names, file names, failure types) goes through :func:`loyaltylab.narrative.esc`;
numbers through the narrative formats. The course's framing — the firm's and the customer's proactivity, "1+1>2",
the slides' claims, the course's recovery definition — is used only on the course data; a user's file gets neutral
wording with its own column names.
"""
from __future__ import annotations

import math
import re

from loyaltylab.narrative import count, esc, interval, number, p_value, percent, signed

COURSE_COLUMNS = {"provider_proactive": "the firm's proactive outreach (provider_proactive, contacts per year)",
                  "customer_proactive": "the customer's proactive participation (customer_proactive, actions per "
                                        "year)"}
OUTCOME_WORDS = {"nps": "the 0–10 recommend score", "promoter": "the chance of being a promoter (9–10)",
                 "satisfaction": "satisfaction (1–7)", "repurchase_intent": "repurchase intent (1–7)"}
STATUS_WORDS = {"never_failed": "never failed", "recovered_well": "recovered well", "recovered_poorly":
                "recovered poorly", "not_recovered": "not recovered", "double_deviation":
                "second failure after a good recovery"}
VERDICT_WORDS = {"not_shown": "cannot be tested (a cell is empty or too small to show)"}


def _ok(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def course_framing(result) -> bool:
    """The course's words apply: course data and the course's own x and moderator."""
    p = result.params
    return result.is_course and (p.x, p.moderator) == ("provider_proactive", "customer_proactive")


def _var(result, which: str) -> str:
    name = getattr(result.params, which)
    if course_framing(result) and name in COURSE_COLUMNS:
        return COURSE_COLUMNS[name]
    return f"'{esc(name)}'"


def _short(result, which: str) -> str:
    name = getattr(result.params, which)
    if course_framing(result):
        return {"x": "the firm's outreach", "moderator": "the customer's participation"}[which]
    return f"'{esc(name)}'"


def _outcome(result) -> str:
    o = result.params.outcome
    return OUTCOME_WORDS.get(o, f"'{esc(o)}'") if result.is_course or o in ("nps", "promoter") else f"'{esc(o)}'"


def _ci(low, high, result, digits: int = 2) -> str:
    return interval(low, high, result.params.confidence, digits)


def synergy_verdict(est) -> str:
    """holds (interval above 0), reversed (below 0), cannot_tell (includes 0), not_shown (no synergy)."""
    if est is None or not _ok(est.estimate):
        return "not_shown"
    if est.ci_low > 0:
        return "holds"
    if est.ci_high < 0:
        return "reversed"
    return "cannot_tell"


# --- the moderation model -------------------------------------------------------------------------------------


def describe_data(result) -> list[str]:
    d, it = result.data, result.interaction
    lines = [f"{count(it.model.n)} responses" + (f" from {count(it.n_customers)} customers" if it.n_customers else "")
             + f" enter the model of {_outcome(result)} on {_var(result, 'x')} × {_var(result, 'moderator')}"
             + (f", controlling for {', '.join(esc(c) for c in result.params.controls)}" if result.params.controls
                else "") + "."]
    if d.from_customers:
        lines.append(f"{', '.join(esc(c) for c in d.from_customers)} come from the customers file "
                     f"({esc(d.inputs.get('customers'))}), joined on customer_id.")
    if it.n_customers is None:
        lines.append("Every response is treated as independent (no cluster_col).")
    else:
        lines.append(f"Standard errors are cluster-robust by {esc(result.params.cluster_col)} (repeat answers of one "
                     "customer are not independent evidence).")
    for note in d.notes:
        lines.append(esc(note) + ".")
    return lines


def describe_model(result) -> list[str]:
    it = result.interaction
    est = it.interaction
    x, w = _short(result, "x"), _short(result, "moderator")
    if it.family == "logistic":
        lines = [f"The interaction of {x} and {w} is {signed(est.estimate, 3)} on the log-odds scale "
                 f"({_ci(est.ci_low, est.ci_high, result, 3)}, "
                 f"{p_value(est.p_value)}): each extra unit of {w} multiplies the odds ratio of one more unit of {x} "
                 f"by {number(math.exp(est.estimate), 3)}."]
        pi = it.probability
        if pi is not None:
            lines.append(f"On the probability scale (Ai & Norton's average cross-partial) the interaction is "
                         f"{signed(100 * pi.estimate, 2)} percentage points per unit of {x} × {w} "
                         f"({interval(100 * pi.ci_low, 100 * pi.ci_high, result.params.confidence, 2)}, "
                         f"{p_value(pi.p_value)}) — the odds scale and the probability scale can disagree, which is "
                         "why both are shown.")
        return lines
    sig = est.p_value < 1 - result.params.confidence
    lines = [f"The interaction of {x} and {w} on {_outcome(result)} is {signed(est.estimate, 3)} "
             f"({_ci(est.ci_low, est.ci_high, result, 3)}, {p_value(est.p_value)}): each extra unit of {w} changes "
             f"the effect of one more unit of {x} by {signed(est.estimate, 3)} on the outcome's scale"
             + (" — a significant interaction." if sig else " — not significantly different from no interaction.")]
    if _ok(it.model.r2_change):
        lines.append(f"The product term adds {number(100 * it.model.r2_change, 2)} percentage points of explained "
                     f"variance (R² = {number(it.model.r2, 3)}).")
    return lines


def describe_slopes(result) -> list[str]:
    it = result.interaction
    x, w = _short(result, "x"), _short(result, "moderator")
    scale = " log-odds" if it.family == "logistic" else ""
    parts = []
    pct = it.slopes.loc[it.slopes["probe"] == "percentiles"]
    for r in pct.itertuples():
        where = {"p16": "low (16th percentile", "p50": "middle (median", "p84": "high (84th percentile"}.get(
            r.label, f"{esc(r.label)} (")
        parts.append(f"at {where}, {number(r.w_value, 2)}) {signed(r.estimate, 3)}{scale} "
                     f"({_ci(r.ci_low, r.ci_high, result, 3)}{', significant' if r.significant else ''})")
    lines = [f"Simple slopes of {x} by the level of {w}: " + "; ".join(parts) + "."]
    sd = it.slopes.loc[it.slopes["probe"] == "sd"]
    if len(sd) == 3:
        lo, hi = sd.iloc[0], sd.iloc[-1]
        lines.append(f"At ±1 SD of {w} (as R's interactions package reports): {signed(lo['estimate'], 3)} at "
                     f"{number(lo['w_value'], 2)} and {signed(hi['estimate'], 3)} at {number(hi['w_value'], 2)}.")
    return lines


def describe_jn(result) -> list[str]:
    jn = result.interaction.jn
    x, w = _short(result, "x"), _short(result, "moderator")
    rng = f"{number(jn.w_min, 2)} to {number(jn.w_max, 2)}"
    regions = jn.significant_regions
    if not jn.bounds:
        whole = bool(jn.regions["significant"].iloc[0])
        return [f"Johnson–Neyman: the slope of {x} is {'significant' if whole else 'not significant'} at every "
                f"value of {w} — there is no point where it changes (observed range {rng})."]
    shown = ", ".join(number(b, 2) + ("" if inside else " (outside the data)")
                      for b, inside in zip(jn.bounds, jn.in_range))
    lines = [f"Johnson–Neyman point(s) for the slope of {x}: {shown}; {w} runs from {rng} in the data."]
    if len(regions):
        parts = [f"{number(r.observed_low, 2)} to {number(r.observed_high, 2)} ({'positive' if r.slope_sign > 0 else 'negative'}, "
                 f"{percent(r.share_rows)} of responses)" for r in regions.itertuples()]
        lines.append(f"Within the observed range the slope of {x} is significant where {w} is " + "; ".join(parts)
                     + ".")
    else:
        lines.append(f"Within the observed range of {w} the slope of {x} is not significant anywhere: the "
                     "significant region lies outside the data.")
    if not all(jn.in_range):
        lines.append("A Johnson–Neyman point outside the observed range is an extrapolation of the model, not a "
                     "finding about the data.")
    return lines


def cell_names(result, raw: bool = False) -> dict:
    """The four cells in words (the course's "firm only" … on the course data; the columns' names otherwise,
    escaped for Markdown unless ``raw`` — tables and charts escape on their own)."""
    if course_framing(result):
        return {"neither": "neither proactive", "firm": "firm only", "customer": "customer only", "both": "both"}
    quote = (lambda v: f"'{v}'") if raw else (lambda v: f"'{esc(v)}'")
    x, w = quote(result.params.x), quote(result.params.moderator)
    return {"neither": "both low", "firm": f"high {x} only", "customer": f"high {w} only", "both": "both high"}


def synergy_sentence(result) -> str:
    """The "1+1>2" verdict with its evidence (neutral wording on a user's data)."""
    it = result.interaction
    digits = 3 if it.family == "logistic" else 2
    label = "“1+1>2”" if course_framing(result) else "a synergy (both high − each high alone + both low > 0)"
    s = it.synergy
    if s is None:
        return f"Whether {label} holds {VERDICT_WORDS['not_shown']}."
    evidence = f"both − firm only − customer only + neither = {signed(s.estimate, digits)} " if course_framing(
        result) else f"the synergy contrast is {signed(s.estimate, digits)} "
    evidence += f"({_ci(s.ci_low, s.ci_high, result, digits)}, {p_value(s.p_value)})"
    return {"holds": f"{label[0].upper()}{label[1:]} holds: {evidence} — together they raise the outcome by more "
                     "than the sum of each alone.",
            "reversed": f"The opposite of {label} shows: {evidence} — together they add less than the sum of each "
                        "alone.",
            "cannot_tell": f"Whether {label} holds cannot be told from the 2×2: {evidence}; the interval includes "
                           "0."}[synergy_verdict(s)]


def describe_synergy(result) -> list[str]:
    it = result.interaction
    if it.cells is None:
        return ["The 2×2 cut could not be made: " + esc("; ".join(it.notes)) + "."]
    names = cell_names(result)
    x, w = _short(result, "x"), _short(result, "moderator")
    digits = 3 if it.family == "logistic" else 2
    cells = []
    for r in it.cells.itertuples():
        cells.append(f"{names[r.cell]} {'suppressed' if r.suppressed else number(r.estimate, digits)}")
    lines = [f"Cut at {x} > {number(result.x_cut, 2)} and {w} > {number(result.w_cut, 2)} (medians unless set), the "
             f"cell means of {_outcome(result)} are: " + "; ".join(cells) + "."]
    verdict = synergy_verdict(it.synergy)
    lines.append(synergy_sentence(result))
    if it.synergy is None:
        return lines
    if verdict == "cannot_tell" and it.interaction.p_value < 1 - result.params.confidence:
        lines.append("The continuous interaction above uses every level of both variables and is the more powerful "
                     "test; the 2×2 throws that detail away at the cut points.")
    if it.nps_synergy is not None:
        n = it.nps_synergy
        lines.append(f"In NPS points the same contrast is {signed(n.estimate, 1)} "
                     f"({_ci(n.ci_low, n.ci_high, result, 1)}).")
    if it.odds_synergy:
        o = it.odds_synergy
        lines.append(f"On the odds scale the ratio of odds ratios is {number(o['ratio'], 2)} "
                     f"({_ci(o['ci_low'], o['ci_high'], result, 2)}; 1 = no synergy).")
    return lines


# --- retention, the Cox interaction, the slides' claims ---------------------------------------------------------


def describe_retention(result) -> list[str]:
    ret = result.retention
    if ret is None:
        return [f"Retention by the four cells is skipped: {esc(result.skipped.get('retention', 'no lifetimes'))}."]
    names = cell_names(result)
    h = number(ret.horizon_months, 0)
    parts = [f"{names[r.cell]} {'suppressed' if r.suppressed else percent(r.retention, 1)}"
             for r in ret.cells.itertuples()]
    lines = [f"Retention at {h} months by cell (Kaplan–Meier): " + "; ".join(parts) + "."]
    if ret.synergy:
        s = ret.synergy["retention"]
        lines.append(f"The synergy contrast on retention is {signed(100 * s['estimate'], 1)} percentage points "
                     f"({interval(100 * s['ci_low'], 100 * s['ci_high'], result.params.confidence, 1)}, "
                     f"{p_value(s['p_value'])}).")
        if "rmst" in ret.synergy:
            r = ret.synergy["rmst"]
            lines.append(f"On the restricted mean lifetime over the first {h} months it is "
                         f"{signed(r['estimate'], 2)} months ({_ci(r['ci_low'], r['ci_high'], result, 2)}).")
    return lines


def _model_terms(columns) -> str:
    """Design columns in words: category levels ``a[b]`` as their variable ``a`` once, a product ``a:b`` as
    'a × b' — never a bracketed code name in a sentence."""
    words = []
    for col in columns:
        word = " × ".join(esc(re.sub(r"\[.*\]$", "", part)) for part in str(col).split(":"))
        if word not in words:
            words.append(word)
    return ", ".join(words)


def describe_cox(result) -> list[str]:
    ret = result.retention
    if ret is None or ret.cox_interaction is None:
        return []
    c = ret.cox_interaction
    x, w = _short(result, "x"), _short(result, "moderator")
    effect = "lowers" if c["hazard_ratio"] < 1 else "raises"
    sig = c["p_value"] < 1 - result.params.confidence
    return [f"In the churn analysis' Cox model (adjusted for {_model_terms(ret.covariates)}), each extra unit of "
            f"{x} × {w} multiplies the churn hazard by {number(c['hazard_ratio'], 3)} "
            f"({_ci(c['ci_low'], c['ci_high'], result, 3)}, {p_value(c['p_value'])}): the combination {effect} churn "
            + ("beyond the two effects alone." if sig else "but not significantly beyond the two effects alone.")]


def describe_claims(result) -> list[str]:
    if result.claims is None:
        return []
    lines = []
    for r in result.claims.itertuples():
        if not r.testable:
            lines.append(f"“{r.slide}”: cannot be tested here — {r.why}.")
        elif r.claim == "satisfaction":
            lines.append(f"“{r.slide}”: {percent(r.dual, 1)} of the dual-proactive customers' responses are "
                         f"satisfied ({interval(100 * r.dual_ci_low, 100 * r.dual_ci_high, result.params.confidence, 1)}"
                         f"%) vs {percent(r.rest, 1)} for the rest; difference {signed(100 * r.estimate, 1)} points "
                         f"({interval(100 * r.ci_low, 100 * r.ci_high, result.params.confidence, 1)}). "
                         + ("The 92% lies inside the interval." if r.dual_ci_low <= 0.92 <= r.dual_ci_high else
                            "The 92% lies outside the interval."))
        else:
            best = 1 / r.rest if r.rest > 0 else math.inf
            text = (f"“{r.slide}”: retention at {number(result.params.horizon_months, 0)} months of the "
                    f"dual-proactive customers is {number(r.estimate, 2)}× that of the rest "
                    f"({_ci(r.ci_low, r.ci_high, result, 2)}; {percent(r.dual, 1)} vs {percent(r.rest, 1)}).")
            if best < 3.5:
                text += (f" With the rest retaining {percent(r.rest, 0)}, a retention ratio above {number(best, 2)} "
                         "is impossible, so 3.5× cannot mean retention here")
                if _ok(r.churn_ratio):
                    text += (f"; read as churn, the rest churn {number(r.churn_ratio, 2)}× as often "
                             f"({_ci(r.churn_ratio_ci_low, r.churn_ratio_ci_high, result, 2)})")
                text += "."
            lines.append(text)
    return lines


# --- recovery ----------------------------------------------------------------------------------------------------


def describe_recovery(result) -> list[str]:
    rec = result.recovery
    if rec is None:
        return [f"The recovery section is skipped: {esc(result.skipped.get('recovery', ''))}."]
    p = result.params
    definition = (f"recovered within {number(p.well_max_hours, 0)} hours with a recovery satisfaction of at least "
                  f"{number(p.well_min_satisfaction, 0)}")
    prefix = "The course defines an incident as recovered well when it was " if result.is_course and (
        p.well_max_hours, p.well_min_satisfaction) == (24.0, 6.0) else "An incident counts as recovered well when "\
        "it was "
    counts = rec.status_counts
    parts = [f"{STATUS_WORDS[r.status]} {'suppressed' if r.suppressed else count(r.n)}" for r in counts.itertuples()]
    lines = [prefix + definition + ".",
             "Customers by failure history: " + "; ".join(parts) + ".",
             f"Of {count(rec.incidents_n)} incidents {percent(rec.recovered_share, 0)} were recovered and "
             f"{percent(rec.well_per_incident, 0)} recovered well."]
    shown = rec.by_type.loc[~rec.by_type["suppressed"].astype(bool)]
    if len(shown) > 1:
        lo = shown.loc[shown["recovery_rate"].idxmin()]
        hi = shown.loc[shown["recovery_rate"].idxmax()]
        lines.append(f"Recovery rates range from {percent(lo['recovery_rate'], 0)} ({esc(lo['failure_type'])}) to "
                     f"{percent(hi['recovery_rate'], 0)} ({esc(hi['failure_type'])}).")
    return lines


def describe_speed(result) -> list[str]:
    rec = result.recovery
    if rec is None or rec.speed_slope is None:
        return []
    s = rec.speed_slope
    return [f"Each doubling of the recovery time changes recovery satisfaction by {signed(s.estimate, 2)} points "
            f"on the 1–7 scale ({_ci(s.ci_low, s.ci_high, result, 2)}, {p_value(s.p_value)}): "
            + ("faster recovery, happier customers." if s.ci_high < 0 else "no clear speed effect.")]


PARADOX_WORDS = {
    "higher": "the recovery paradox shows: customers recovered well are more loyal than those who never had a "
              "failure",
    "equivalent": "no paradox: customers recovered well are as loyal as those who never failed (the interval lies "
                  "within the margin) — recovery restores loyalty but does not raise it",
    "inconclusive": "cannot tell: the interval includes both no difference and differences larger than the margin",
    "lower": "no paradox: customers recovered well remain less loyal than those who never failed",
}


def _diff(g, digits, result) -> str:
    return (f"{signed(g.estimate, digits)} ({_ci(g.ci_low, g.ci_high, result, digits)}; one-sided "
            f"{p_value(g.p_greater)}; equivalence margin ±{number(g.margin, digits)}, TOST {p_value(g.p_tost)})")


def describe_paradox(result) -> list[str]:
    rec = result.recovery
    if rec is None:
        return []
    lines = []
    for outcome, tests in rec.paradox.items():
        test = tests.get("recovered_well")
        unit = "NPS points" if outcome == "nps" else "points (1–7)"
        label = {"nps": "NPS", "satisfaction": "satisfaction", "repurchase_intent": "repurchase intent"}[outcome]
        if test is None:
            lines.append(f"{label}: too few customers in a group to compare (fewer than min_cell).")
            continue
        if isinstance(test, str):
            lines.append(f"{label}: not compared ({esc(test)}).")
            continue
        g = test.result
        how = "adjusted for " + ", ".join(esc(c) for c in result.params.adjust_for if c) if g.adjusted else "unadjusted"
        lines.append(f"{label}, recovered well − never failed ({rec.after_rule}, {how}): "
                     f"{_diff(g, 1 if outcome == 'nps' else 2, result)} {unit}: {PARADOX_WORDS[g.verdict]}.")
    if lines:
        lines.append("The meta-analysis of de Matos, Henrique & Rossi (2007) finds the paradox on satisfaction but "
                     "not on repurchase intention or word of mouth: compare the rows above.")
    return lines


def describe_double_deviation(result) -> list[str]:
    rec = result.recovery
    if rec is None:
        return []
    g = rec.groups.set_index("status").loc["double_deviation"]
    if g["suppressed"] or not _ok(g["nps"]):
        return ["A second failure after a good recovery: too few customers to show (fewer than min_cell)."]
    lines = [f"Customers whose first failure was recovered well and who then failed again have an NPS of "
             f"{signed(g['nps'], 1)} after the second failure ({_ci(g['ci_low'], g['ci_high'], result, 1)})."]
    test = (rec.paradox.get("nps") or {}).get("double_deviation")
    if test is not None and not isinstance(test, str):
        lines.append(f"Against never failed: {_diff(test.result, 1, result)} NPS points. Maxham & Netemeyer (2002) "
                     "find that a paradox after the first recovery does not survive a second failure.")
    return lines


def describe_hazard(result) -> list[str]:
    rec = result.recovery
    if rec is None or rec.hazard is None:
        return ([f"Churn by failure status is skipped: {esc(result.skipped['churn by failure status'])}."]
                if "churn by failure status" in result.skipped else [])
    hz = rec.hazard
    parts = []
    for r in hz.table.itertuples():
        if r.status == "never_failed":
            continue
        parts.append(f"{STATUS_WORDS[r.status]} " + ("suppressed" if r.suppressed else
                                                     f"{number(r.hazard_ratio, 2)} ({_ci(r.ci_low, r.ci_high, result)})"))
    lines = ["Churn hazard vs never failed, with the status changing at each incident date: " + "; ".join(parts) + "."]
    if hz.fixed is not None:
        fixed = hz.fixed.loc[(hz.fixed["status"] != "never_failed") & ~hz.fixed["suppressed"].astype(bool)]
        if len(fixed):
            shown = "; ".join(f"{STATUS_WORDS[r.status]} {number(r.hazard_ratio, 2)}" for r in fixed.itertuples())
            lines.append(f"With the status fixed at the snapshot the same ratios would read {shown} — biased "
                         "downwards, because a customer who lives longer has more time to fail: the fixed status "
                         "credits failures to time before they happened.")
    return lines


def describe_truth(result) -> list[str]:
    t = result.truth
    if t is None:
        return []
    compared = t.loc[t["covered"].notna()]
    lines = []
    if len(compared):
        lines.append(f"{int(compared['covered'].astype(bool).sum())} of {len(compared)} intervals contain the "
                     "generator's true value (about 19 in 20 should).")
    missing = t.loc[t["covered"].isna()]
    if len(missing):
        lines.append(f"{len(missing)} quantities have no truth on their scale yet (see the table's notes); the "
                     "latent loyalty interaction is never compared with a survey-scale estimate.")
    return lines


# --- key findings --------------------------------------------------------------------------------------------


def key_findings(result) -> list[str]:
    lines = describe_model(result)[:1] + [synergy_sentence(result)]
    jn = describe_jn(result)
    lines.append(jn[1] if len(jn) > 1 else jn[0])
    if result.retention is not None:
        lines += describe_retention(result)[:1] + describe_cox(result)
    rec = result.recovery
    if rec is not None:
        paradox = describe_paradox(result)
        lines += paradox[:1] + describe_hazard(result)[:1]
    for section, why in result.skipped.items():
        lines.append(f"Skipped {esc(section)}: {esc(why)}.")
    return lines
