"""The service-quality report in words: "What this shows" for each section and the key findings, computed from the
result. Every data-derived value (dimension, item, segment and column names, file names) goes through
:func:`loyaltylab.narrative.esc`, so it renders as text and never as Markdown or HTML; numbers through the narrative
formats.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from loyaltylab import privacy
from loyaltylab.narrative import count, esc, interval, join_words, number, p_value, percent, signed

from . import structure as st
from .instrument import label
from .scales import LOW_RELIABILITY

if TYPE_CHECKING:
    from .analysis import ServqualReport

FIT_MARKS = {"cfi": 0.95, "tli": 0.95, "rmsea": 0.06, "srmr": 0.08}
"""Hu & Bentler's (1999) marks of good fit: CFI and TLI ≥ 0.95, RMSEA ≤ 0.06, SRMR ≤ 0.08."""
KMO_WORDS = ((0.9, "marvellous"), (0.8, "meritorious"), (0.7, "middling"), (0.6, "mediocre"), (0.5, "miserable"),
             (0.0, "unacceptable"))
"""Kaiser's (1974) words for the KMO measure of sampling adequacy."""


def dim_name(dimension) -> str:
    """A dimension as the report writes it (bilingual for the five SERVQUAL dimensions), escaped."""
    return esc(label(str(dimension), bilingual=True))


def _ci(low, high, confidence: float, digits: int = 2) -> str:
    return f"{confidence:.0%} CI {signed(low, digits)} to {signed(high, digits)}"


def _servqual(result: ServqualReport) -> bool:
    return result.mode == "servqual"


def describe_data(result: ServqualReport) -> list[str]:
    """What was read: responses, respondents, the instrument found, and what the file lacked (each note escaped:
    it names the user's columns and files)."""
    inst = result.instrument
    mode = ("expectations and perceptions (SERVQUAL gaps)" if result.mode == "servqual" else
            "perceptions only (SERVPERF)")
    who = f" from {count(result.people)} customers" if result.people is not None else ""
    lines = [f"{count(result.n)} responses{who} in {esc(result.data.inputs.get('survey'))}: "
             f"{len(inst.items)} items in {len(inst.dimensions)} dimensions ("
             + ", ".join(f"{dim_name(d)} {len(items)}" for d, items in inst.dimensions.items())
             + f"), {mode}" + (", with adequate and desired service (zone of tolerance)" if inst.has_zone else "")
             + "."]
    return lines + describe_notes(result)


def describe_notes(result: ServqualReport) -> list[str]:
    """What the file lacked and was left out (each note escaped: it names the user's columns)."""
    return [f"Note: {esc(n)}." for n in result.notes]


def describe_gaps(result: ServqualReport) -> list[str]:
    """The overall score and the dimensions ranked, the largest gap in words."""
    o, conf = result.overall.iloc[0], result.params.confidence
    ranked = result.ranking()
    if not _servqual(result):
        low = ranked.iloc[0]
        return [f"Perceptions only (SERVPERF): the mean perception over the {len(ranked)} dimensions is "
                f"**{number(o['estimate'], 2)}** ({interval(o['ci_low'], o['ci_high'], conf, 2)}; "
                f"n = {count(o['n'])}).",
                f"The lowest-rated dimension is {dim_name(low['dimension'])} ({number(low['perception'], 2)}); the "
                f"highest is {dim_name(ranked.iloc[-1]['dimension'])} ({number(ranked.iloc[-1]['perception'], 2)})."]
    worst = ranked.iloc[0]
    direction = "fall short of" if o["estimate"] < 0 else "exceed"
    lines = [f"Overall, perceptions {direction} expectations: the unweighted SERVQUAL score (mean gap P − E) is "
             f"**{signed(o['estimate'], 2)}** ({_ci(o['ci_low'], o['ci_high'], conf)}; n = {count(o['n'])} "
             "responses)."]
    if worst["estimate"] < 0:
        lines.append(f"The largest gap is in {dim_name(worst['dimension'])}: customers expect "
                     f"{number(worst['expectation'], 2)} and perceive {number(worst['perception'], 2)}, a gap of "
                     f"{signed(worst['estimate'], 2)} ({_ci(worst['ci_low'], worst['ci_high'], conf)}).")
    else:
        lines.append(f"No dimension falls short: the smallest gap is {dim_name(worst['dimension'])} "
                     f"({signed(worst['estimate'], 2)}).")
    order = [f"{dim_name(r.dimension)} {signed(r.estimate, 2)}" for r in ranked.itertuples()]
    lines.append("From the largest shortfall down: " + "; ".join(order) + ".")
    if result.cluster_col:
        lines.append(f"Intervals allow for customers answering more than once (clustered by "
                     f"{esc(result.cluster_col)}; {count(result.people)} customers).")
    return lines


def describe_items(result: ServqualReport) -> list[str]:
    """The items with the largest gaps, how many are significant after Holm, and the signed-rank check."""
    if not _servqual(result):
        low = result.items.sort_values("perception").head(3)
        return ["The lowest-rated items: " + "; ".join(f"item {esc(r.item)} ({dim_name(r.dimension)}) "
                                                      f"{number(r.perception, 2)}" for r in low.itertuples()) + "."]
    items = result.items
    top = items.sort_values("gap").head(3)
    sig = items[items["significant"].astype(bool)]
    alpha = 1 - result.params.confidence
    lines = ["The largest item gaps: " + "; ".join(
        f"item {esc(r.item)} ({dim_name(r.dimension)}) {signed(r.gap, 2)} (dz = {signed(r.cohens_dz, 2)})"
        for r in top.itertuples()) + "."]
    lines.append(f"{len(sig)} of {len(items)} item gaps differ from zero after Holm's correction across the "
                 f"{len(items)} items (adjusted p < {number(alpha, 2)}).")
    agree = int(((items["wilcoxon_p"] < alpha) == (items["p_value"] < alpha)).sum())
    lines.append(f"The Wilcoxon signed-rank test (zero gaps dropped, Wilcoxon's rule) agrees with the paired t-test "
                 f"at the {number(alpha, 2)} level on {agree} of {len(items)} items.")
    return lines


def describe_weighted(result: ServqualReport) -> list[str]:
    """The importance-weighted score beside the unweighted one."""
    o = result.overall.iloc[0]
    if not o["n_weighted"]:
        return ["No stated importance points: no weighted score."]
    what = "SERVQUAL gap" if _servqual(result) else "perception score"
    diff = o["weighted"] - o["estimate"]
    return [f"Weighted by each respondent's stated importance points (normalised to sum 1 — points out of 100 used "
            f"as they are would make the score 100 times too large), the {what} is {signed(o['weighted'], 2)} "
            f"({_ci(o['weighted_ci_low'], o['weighted_ci_high'], result.params.confidence)}; "
            f"n = {count(o['n_weighted'])} responses with points), {signed(diff, 2)} against the unweighted "
            f"{signed(o['estimate'], 2)}: customers weight "
            + ("the dimensions where service falls short more heavily." if diff < 0 else
               "the dimensions where service does better more heavily.")]


def describe_reliability(result: ServqualReport) -> list[str]:
    """α ranges per answer set, the weakest dimension, items whose deletion would raise α, gap-score reliability."""
    rel = result.reliability
    a = rel.alphas
    if not len(a):
        return ["No dimension has two or more items: no internal-consistency reliability."]
    lines = []
    for which in ("perception", "expectation", "gap"):
        part = a[a["set"] == which]
        if len(part):
            low = part.loc[part["alpha"].idxmin()]
            lines.append(f"Cronbach's α of the {which} items ranges from {number(part['alpha'].min(), 2)} "
                         f"({dim_name(low['dimension'])}) to {number(part['alpha'].max(), 2)}"
                         + (f"; {len(part[part['alpha'] < LOW_RELIABILITY])} below {number(LOW_RELIABILITY, 2)}"
                            if (part["alpha"] < LOW_RELIABILITY).any() else "") + ".")
    items = rel.items.merge(a[["dimension", "set", "alpha"]], on=["dimension", "set"])
    raise_ = items[items["alpha_if_deleted"] > items["alpha"] + 0.01]
    if len(raise_):
        lines.append("Deleting these items would raise their scale's α by more than 0.01: " + join_words(
            [f"{esc(r.item)} ({dim_name(r.dimension)}, {r.set})" for r in raise_.head(5).itertuples()]) + ".")
    else:
        lines.append("No item lowers its scale's reliability (α if deleted never exceeds α by more than 0.01).")
    g = rel.gap_scores
    if g is not None and len(g):
        low = g[g["low"].astype(bool)]
        worst = g.loc[g["reliability"].idxmin()]
        if len(low):
            lines.append(f"**Flag:** the P − E difference score is unreliable (below {number(LOW_RELIABILITY, 2)}) "
                         "for " + join_words([f"{dim_name(r.dimension)} ({number(r.reliability, 2)})"
                                              for r in low.itertuples()])
                         + " — the classic critique of gap scores (Peter, Churchill & Brown 1993).")
        else:
            lines.append(f"The P − E difference scores are reliable enough (lowest {number(worst['reliability'], 2)}, "
                         f"{dim_name(worst['dimension'])}): perceptions and expectations correlate only "
                         f"{number(worst['corr_pe'], 2)}, so the difference keeps most of their reliability.")
    return lines


def _kmo_word(value: float) -> str:
    return next(word for mark, word in KMO_WORDS if value >= mark)


def _cfa_lines(result: ServqualReport) -> list[str]:
    s = result.structure
    if s.cfa is None:
        return []
    f = s.cfa.fit
    good = [m.upper() for m in ("cfi", "tli") if getattr(f, m) >= FIT_MARKS[m]]
    good += [m.upper() for m in ("rmsea", "srmr") if getattr(f, m) <= FIT_MARKS[m]]
    lines = [f"CFA of the {len(s.model)}-dimension model: χ² = {number(f.chi2, 1)} on {count(f.df)} df "
             f"({p_value(f.p_value)}), CFI = {number(f.cfi, 3)}, TLI = {number(f.tli, 3)}, RMSEA = "
             f"{number(f.rmsea, 3)} ({percent(s.rmsea_confidence)} CI {number(f.rmsea_ci_low, 3)} to "
             f"{number(f.rmsea_ci_high, 3)}), SRMR = {number(f.srmr, 3)}. "
             + (f"Meets Hu & Bentler's marks on {join_words(good)}." if good else
                "Misses every one of Hu & Bentler's marks (CFI, TLI ≥ 0.95; RMSEA ≤ 0.06; SRMR ≤ 0.08).")]
    r = s.cfa.reliability
    bad = r[~r["fornell_larcker"].astype(bool)]
    lines.append(f"Composite reliability ranges from {number(r['composite_reliability'].min(), 2)} to "
                 f"{number(r['composite_reliability'].max(), 2)}, AVE from {number(r['ave'].min(), 2)} to "
                 f"{number(r['ave'].max(), 2)}; " + (
                     "every dimension passes the Fornell–Larcker check (√AVE above its correlations with the "
                     "others)." if not len(bad) else
                     "the Fornell–Larcker check fails for " + join_words([dim_name(x) for x in bad.index])
                     + " (too highly correlated with another dimension to count as distinct)."))
    return lines


def describe_structure(result: ServqualReport) -> list[str]:
    """Sampling adequacy, the number of factors, the CFA fit against Hu & Bentler's marks, CR / AVE."""
    s = result.structure
    lines = []
    if s.kmo is not None:
        lines.append(f"Sampling adequacy: KMO = {number(s.kmo.overall, 2)} ({_kmo_word(s.kmo.overall)}); "
                     f"Bartlett's test χ² = {number(s.bartlett.statistic, 0)} on {count(s.bartlett.df)} df "
                     f"({p_value(s.bartlett.p_value)}): the items share enough variance to factor.")
    if s.parallel is not None and s.efa is not None:
        k = len(result.instrument.dimensions)
        lines.append(f"Parallel analysis retains {s.parallel.n_factors} factor(s) (of {k} dimensions in the "
                     f"questionnaire); the EFA ({esc(s.efa.rotation)} rotation) uses {s.n_factors}.")
    lines += _cfa_lines(result)
    return lines or ["Too few items for a factor analysis."]


def describe_invariance(result: ServqualReport) -> list[str]:
    """Per segment column: do the items measure the same thing in each group (configural → metric)?"""
    lines = []
    what = "gaps" if _servqual(result) else "scores"
    for col, (res, used, note) in result.invariance.items():
        if res is None:
            lines.append(f"By {esc(col)}: {esc(note)}.")
            continue
        cmp = res.comparisons.loc["metric"]
        holds = st.metric_holds(res)
        lines.append(f"By {esc(col)} ({len(used)} groups with enough responses): equal loadings change CFI by "
                     f"{signed(cmp['delta_cfi'], 3)} (Δχ² = {number(cmp['chi2_diff'], 1)} on "
                     f"{count(cmp['df_diff'])} df, {p_value(cmp['p_value'])}). "
                     + ("Metric invariance holds (ΔCFI ≥ −0.01): the dimensions mean the same in each group, so "
                        f"their {what} can be compared." if holds else
                        f"Metric invariance fails (ΔCFI < −0.01): compare these groups' {what} with care."))
    return lines


def describe_servperf(result: ServqualReport) -> list[str]:
    """Which score predicts the outcomes better: gaps (SERVQUAL) or perceptions (SERVPERF)."""
    t = result.servperf
    if t is None or not len(t):
        return ["No outcome column (overall satisfaction, NPS, repurchase intent): the SERVQUAL vs SERVPERF "
                "comparison needs one."]
    lines = []
    for r in t.itertuples():
        if not _servqual(result):
            lines.append(f"The five perception scores explain R² = {number(r.r2_servperf, 3)} of {esc(r.outcome)} "
                         f"(n = {count(r.n)}); without expectations there is no gap model to compare.")
            continue
        better = "perceptions alone (SERVPERF)" if r.r2_servperf > r.r2_servqual else "the gaps (SERVQUAL)"
        lines.append(f"{esc(r.outcome)}: perceptions explain R² = {number(r.r2_servperf, 3)}, gaps "
                     f"R² = {number(r.r2_servqual, 3)} (n = {count(r.n)}) — {better} predict better.")
    if _servqual(result) and len(t) and (t["r2_servperf"] > t["r2_servqual"]).all():
        lines.append("As Cronin & Taylor (1992) argued, subtracting expectations adds noise rather than information "
                     "about these outcomes.")
    return lines


def describe_ipa(result: ServqualReport) -> list[str]:
    """The quadrants, where the importance came from, and how stable each quadrant is."""
    ipa = result.ipa
    if ipa is None:
        return ["No outcome column and no stated importance: no importance-performance analysis."]
    t = ipa.table
    if ipa.source == "derived":
        how = ("LMG shares of R² (each dimension's average contribution over all orders of entry) of "
               if ipa.derived_method == "lmg" else "the correlation of each dimension's perception score with ")
        source = f"derived importance: {how}{esc(ipa.outcome)}"
    else:
        source = "stated importance (mean normalised points)"
    lines = [f"Importance is {source}; the crosshair is the mean importance and mean performance of the "
             f"dimensions (n = {count(ipa.n)})."]
    focus = t[t["quadrant"] == "concentrate here"]
    if len(focus):
        lines.append("**Concentrate here** (important, performing below average): "
                     + join_words([dim_name(x) for x in focus["dimension"]]) + ".")
    keep = t[t["quadrant"] == "keep up the good work"]
    if len(keep):
        lines.append("Keep up the good work: " + join_words([dim_name(x) for x in keep["dimension"]]) + ".")
    over = t[t["quadrant"] == "possible overkill"]
    if len(over):
        lines.append("Possible overkill (performing above average on what matters less): "
                     + join_words([dim_name(x) for x in over["dimension"]]) + ".")
    if ipa.n_bootstrap and t["stability"].notna().all():
        shaky = t[t["stability"] < 0.8]
        lines.append(f"Across {count(ipa.n_bootstrap)} bootstrap replicates (whole customers resampled) "
                     + ("every dimension stays in its quadrant at least 80% of the time." if not len(shaky) else
                        join_words([f"{dim_name(r.dimension)} ({percent(r.stability)})" for r in shaky.itertuples()])
                        + " land in another quadrant in more than 20% of replicates: near a crosshair, their quadrant is "
                        "uncertain."))
    return lines


def _segment_line(col: str, table, result: ServqualReport) -> str:
    what = "gap" if _servqual(result) else "perception"
    overall = privacy.visible(table[table["measure"] == "overall"]).dropna(subset=["estimate"])
    hidden = int(table.loc[table["measure"] == "overall", "suppressed"].sum())
    if not len(overall):
        return f"By {esc(col)}: every group is suppressed (fewer than {result.params.min_cell} respondents)."
    lo, hi = overall.loc[overall["estimate"].idxmin()], overall.loc[overall["estimate"].idxmax()]
    fmt = signed if _servqual(result) else number
    text = (f"By {esc(col)}: the overall {what} ranges from {fmt(lo['estimate'], 2)} ({esc(lo['value'])}) to "
            f"{fmt(hi['estimate'], 2)} ({esc(hi['value'])}). ")
    sig = privacy.visible(table)[privacy.visible(table)["significant"].astype(bool)]
    if len(sig):
        parts = [f"{esc(r.value)} on {'the overall score' if r.measure == 'overall' else dim_name(r.measure)} "
                 f"({'above' if r.diff_vs_rest > 0 else 'below'} the rest by {number(abs(r.diff_vs_rest), 2)}, "
                 f"Holm-adjusted {p_value(r.p_adjusted)})" for r in sig.head(4).itertuples()]
        text += f"{len(sig)} group × score difference(s) from the rest are significant, e.g. " + "; ".join(parts) + "."
    else:
        text += f"No group differs significantly from the rest (Holm-adjusted across {esc(col)}'s table)."
    if hidden:
        text += f" {hidden} group(s) suppressed (small cells)."
    return text


def describe_segments(result: ServqualReport) -> list[str]:
    if not result.segments:
        return ["No segment columns: no comparison by segment."]
    return [_segment_line(col, table, result) for col, table in result.segments.items()]


def describe_trend(result: ServqualReport) -> list[str]:
    t = result.trend
    if t is None:
        return ["No date column: no trend."]
    shown = privacy.visible(t).dropna(subset=["estimate"])
    if not len(shown):
        return ["No period has enough respondents to show."]
    last = shown.iloc[-1]
    what = "gap" if _servqual(result) else "perception"
    line = (f"Latest period ({esc(last['period'])}): overall {what} {signed(last['estimate'], 2)} "
            f"({_ci(last['ci_low'], last['ci_high'], result.params.confidence)}, n = {count(last['n'])}).")
    flagged = t[t["significant"].astype(bool)]
    if len(flagged):
        line += " Significant changes from the period before: " + ", ".join(
            f"{esc(r.period)} ({signed(r.change, 2)})" for r in flagged.itertuples()) + "."
    else:
        line += f" No period-to-period change is significant (Holm-adjusted across {len(shown)} periods)."
    return [line]


def describe_zone(result: ServqualReport) -> list[str]:
    z = result.zone
    if z is None:
        return []
    lines = []
    for pos in ("below the zone", "within the zone", "above the zone"):
        part = z[z["position"] == pos]
        if len(part):
            lines.append(f"{pos.capitalize()}: " + join_words(
                [f"{dim_name(r.dimension)} (MSA {signed(r.msa, 2)}, MSS {signed(r.mss, 2)})"
                 for r in part.itertuples()]) + ".")
    lines.append("MSA (measure of service adequacy) = perception − adequate service; MSS (measure of service "
                 "superiority) = perception − desired service. Below the zone (MSA < 0) customers are dissatisfied; "
                 "above it (MSS > 0) delighted.")
    return lines


def describe_truth(result: ServqualReport) -> list[str]:
    t = result.truth
    if t is None:
        return []
    what = "gap" if _servqual(result) else "perception"
    lines = []
    for scope in ("dimension", "item"):
        part = t[t["scope"] == scope]
        if len(part):
            lines.append(f"{int(part['covered'].sum())} of {len(part)} {scope} {what} intervals contain the true "
                         f"value (expected about {percent(result.params.confidence)}); the largest error is "
                         f"{number(part['error'].abs().max(), 3)} scale points.")
    ov = t[t["scope"] == "overall"]
    if len(ov):
        r = ov.iloc[0]
        lines.insert(0, f"True overall {what} {signed(r['true'], 3)}; estimated {signed(r['estimate'], 3)} "
                        f"({'inside' if r['covered'] else 'outside'} its interval).")
    return lines


def describe_strategies(result: ServqualReport) -> list[str]:
    s = result.strategies
    if s is None or not len(s):
        return []
    worst = s.head(2)
    return ["The course's remedy for the largest gaps: " + "; ".join(
        f"{dim_name(r.dimension)} ({signed(r.estimate, 2)}) → {r.strategy} ({r.strategy_zh}): {r.actions}" for r in worst.itertuples()) + "."]


def key_findings(result: ServqualReport) -> list[str]:
    """The 'Key findings' bullets, each computed from the results."""
    lines = describe_gaps(result)[:2]
    rel = result.reliability.gap_scores
    if rel is not None and rel["low"].any():
        lines.append(describe_reliability(result)[-1])
    lines += _cfa_lines(result)[:1]
    if result.servperf is not None and len(result.servperf) and _servqual(result):
        lines.append(describe_servperf(result)[0])
    if result.ipa is not None:
        lines += describe_ipa(result)[1:2]
    lines += describe_segments(result)[:2] if result.segments else []
    lines += describe_truth(result)[:1] + describe_strategies(result)
    hidden = sum(int(t.loc[t["measure"] == "overall", "suppressed"].sum()) for t in result.segments.values())
    if hidden:
        lines.append(f"{hidden} segment group(s) are suppressed to protect respondents (min_cell = "
                     f"{result.params.min_cell}).")
    if result.notes:
        lines.append(f"{len(result.notes)} note(s) on what this file lacks are listed under 'The data'.")
    return lines
