"""The churn report's sentences, computed from the result. Every data-derived word — a segment value, a covariate or
factor name, a column name, a stratum — goes through :func:`narrative.esc`; intervals and significance levels
follow the analysis' ``confidence``.

``describe_x(result) -> list[str]`` (Markdown sentences); :func:`key_findings` for the "Key findings" cell;
:func:`captions` for table captions (plain text: the table display escapes it)."""
from __future__ import annotations

import numpy as np

from loyaltylab import narrative, privacy
from loyaltylab.analyses.churn.baseline import SUPPORT_AT_RISK, TAIL_EVENTS
from loyaltylab.analyses.churn.km import CI_TYPE_TEXT
from loyaltylab.narrative import count, esc, percent

UNIT_ZH = {"days": "天", "weeks": "周", "months": "个月", "years": "年"}


def level(share: float) -> str:
    """A level as a percentage without spurious digits: 0.95 → '95%', 0.025 → '2.5%'."""
    return f"{round(100 * float(share), 6):g}%"


def _alpha(result) -> float:
    return round(1.0 - result.confidence, 12)


def _names(values) -> str:
    return ", ".join(esc(v) for v in values)


def _unit(result) -> str:
    return result.data.time_unit


# --------------------------------------------------------------------------------------------------------------------
# model terms in words
# --------------------------------------------------------------------------------------------------------------------
def term_parts(name: str, design) -> list[tuple[str, str | None]]:
    """A design column or term (``a``, ``a[b]``, ``a:b``, ``a[b]:c``) as its parts: (variable, level) for a category
    level, (variable, None) for a number or a whole categorical variable. Level values may hold ':' or ']', so the
    name is matched against the design's own variables and levels, not split blindly."""
    variables = sorted({v for t in design.terms for v in t.split(":")} | set(design.categorical), key=len,
                       reverse=True)
    parts, rest = [], name
    while rest:
        for var in variables:
            if var in design.categorical and rest.startswith(var + "["):
                lv = next((lv for lv in sorted(design.categorical[var], key=len, reverse=True)
                           if rest.startswith(f"{var}[{lv}]")), None)
                if lv is not None:
                    parts.append((var, lv))
                    rest = rest[len(var) + len(lv) + 2:]
                    break
            if rest == var or rest.startswith(var + ":"):
                parts.append((var, None))
                rest = rest[len(var):]
                break
        else:                                    # not a name of this design: keep it whole
            return [*parts, (rest, None)]
        rest = rest[1:] if rest.startswith(":") else rest
    return parts


def term_words(name: str, design) -> str:
    """A model term or design column in words, escaped Markdown: 'segment[Premium]' → 'segment Premium',
    'a:b' → 'a and b together', a number → its name. Every sentence names a term through this."""
    words = [f"{esc(var)} {esc(lv)}" if lv is not None else esc(var) for var, lv in term_parts(name, design)]
    return words[0] if len(words) == 1 else " and ".join(words) + " together"


def _held_at(var: str, design) -> str:
    """What a main effect is conditional on when ``var`` is also in an interaction: ' (with b at 0)'."""
    others = []
    for term in design.terms:
        parts = term.split(":")
        if len(parts) > 1 and var in parts:
            for o in parts:
                if o != var and o not in (x for x, _ in others):
                    others.append((o, design.categorical[o][0] if o in design.categorical else None))
    if not others:
        return ""
    held = ", ".join(f"{esc(o)} {esc(ref)}" if ref is not None else f"{esc(o)} = 0" for o, ref in others)
    return f" (for {held}: the model also has an interaction)"


def driver_words(row, sd) -> str:
    """One Cox coefficient as a sentence fragment with its direction: a category level against the reference level,
    a number per unit and per standard deviation."""
    design, hr = sd.design, float(row.hazard_ratio)
    parts = term_parts(row.covariate, design)
    if len(parts) == 1 and parts[0][1] is not None:
        var, lv = parts[0]
        ref = design.categorical[var][0]
        return (f"customers with {esc(var)} {esc(lv)} churn at {hr:.2f}× the rate of those with {esc(var)} "
                f"{esc(ref)}")
    words = term_words(row.covariate, design)
    sdev = float(sd.frame[row.covariate].std()) if row.covariate in sd.frame else float("nan")
    change = f"lowers the churn hazard by {percent(1 - hr)}" if hr < 1 else f"raises the churn hazard by {percent(hr - 1)}"
    per_sd = (f"; {float(np.exp(row.coef * sdev)):.2f}× per standard deviation ({sdev:.3g})"
              if np.isfinite(sdev) and sdev > 0 else "")
    held = _held_at(parts[0][0], design) if len(parts) == 1 else ""
    return f"each extra unit of {words} {change} (HR {hr:.2f} per unit{per_sd}){held}"


def driver_strength(row, sd) -> float:
    """|log HR| over a meaningful contrast: a level against the reference, a number over one standard deviation."""
    parts = term_parts(row.covariate, sd.design)
    if len(parts) == 1 and parts[0][1] is not None:
        return abs(float(row.coef))
    sdev = float(sd.frame[row.covariate].std()) if row.covariate in sd.frame else float("nan")
    return abs(float(row.coef)) * (sdev if np.isfinite(sdev) else 1.0)


def reason_words(group: str, result) -> str:
    """A reason group of the early warning's table in words with its direction: 'segment is Basic' →
    'segment Basic' (a category is listed only when it raises the hazard), a number → 'high x' / 'low x'."""
    sd, beta = result.data_for_models, result.scoring.fitter.params_
    design = sd.design
    for var, levels in design.categorical.items():
        for lv in levels:
            if group == f"{var} is {lv}":
                return f"{esc(var)} {esc(lv)}"
    cols = [c for c in design.term_columns.get(group, ()) if c in beta.index]
    words = term_words(group, design)
    if len(cols) == 1:
        return ("high " if float(beta[cols[0]]) > 0 else "low ") + words
    return words


# --------------------------------------------------------------------------------------------------------------------
# one sentence (or two) per section
# --------------------------------------------------------------------------------------------------------------------
def _data(result) -> str:
    sd = result.data
    return (f"{count(sd.n)} customers analysed, {count(sd.events)} churned ({percent(sd.events / sd.n)}) — the other "
            f"{count(sd.n - sd.events)} are censored (still customers), which is why this is survival analysis; "
            f"{count(sd.dropped_rows)} of {count(sd.n_input)} rows were left out under the stated policy.")


def _km(result) -> str:
    unit, km = _unit(result), result.km
    s0 = km.survival_at.iloc[0] if len(km.survival_at) else None
    text = (f"Median customer lifetime: {narrative.duration(km.median, unit)}"
            + (f"; {percent(s0['survival'])} are still customers after {s0['time']:g} {unit}." if s0 is not None
               else "."))
    groups = result.km_groups
    if groups is not None:
        vis = groups.table[~groups.table["suppressed"].astype(bool)]
        col = next((c for c in vis.columns if c.startswith("S(")), None)
        if col is not None and len(vis) >= 2:
            best = vis.loc[vis[col].idxmax()]
            worst = vis.loc[vis[col].idxmin()]
            def who(value) -> str:      # '1 customers' reads as a count: name the column for a number
                text = str(value)
                numeric = text.lstrip("+-").replace(".", "", 1).isdigit()
                return (f"customers with {esc(groups.column)} = {esc(text)}" if numeric
                        else f"{esc(text)} customers")
            text += (f" By {esc(groups.column)}: {percent(best[col])} of {who(best['value'])} remain at "
                     f"{col[2:-1]} {unit}, against {percent(worst[col])} of {who(worst['value'])}.")
    return text


def _logrank(result) -> str:
    lr = result.logrank
    if lr is None or lr.p_value is None:
        return "Fewer than two groups large enough to compare: no log-rank test."
    verdict = "differ" if lr.p_value < _alpha(result) else "do not differ significantly"
    n_sig = int(lr.pairwise["significant"].sum())
    left = (f"; {count(lr.left_out)} {'group' if lr.left_out == 1 else 'groups'} with fewer than "
            f"{result.min_cell} customers {'is' if lr.left_out == 1 else 'are'} left out" if lr.left_out else "")
    shown = set(result.km_groups.curves) if result.km_groups is not None else set(lr.groups)
    hidden = [g for g in lr.groups if g not in shown]
    also = (f", including {_names(hidden)}, which the table hides only to protect a smaller group's count"
            if hidden else "")
    return (f"Survival curves by {esc(lr.column)} {verdict} (log-rank χ² = {lr.statistic:.1f}, df = {lr.df}, "
            f"{narrative.p_value(lr.p_value)}; R's survdiff over every group with at least {result.min_cell} "
            f"customers{also}{left}); {n_sig} of {len(lr.pairwise)} pairs differ after Holm's correction.")


def _cox(result) -> str:
    # hazard ratios from the model that scores (the stratified one when PH had to be remedied: a covariate it
    # stratifies by has no single hazard ratio any more, so none is quoted for it)
    sc = result.scoring
    t = sc.table
    which = ("the Cox model" if not sc.strata else
             f"the Cox model stratified by {_names(sc.strata)} (the model behind the scores; each "
             f"{'/'.join(esc(s) for s in sc.strata)} level has its own baseline hazard, so no hazard ratio is quoted "
             "for it)")
    sd = result.data_for_models
    main = t[t["significant"] & ~t["term"].str.contains(":", regex=False) & np.isfinite(t["coef"])]
    if len(main):
        strength = np.array([driver_strength(r, sd) for r in main.itertuples()])
        ranked = main.iloc[np.argsort(-strength, kind="stable")]
        parts = [driver_words(r, sd) for r in ranked.head(3).itertuples()]
        text = (f"Strongest churn drivers in {which} (a category against its reference level, a number over one "
                "standard deviation): " + "; ".join(parts) + ".")
    else:
        text = (f"In {which} no covariate has a hazard ratio significantly different from 1 at the "
                f"{level(_alpha(result))} level.")
    # an interaction is a term "a:b" of the covariates parameter (a level value may contain ':' too)
    for r in t[t["term"].str.contains(":", regex=False) & np.isfinite(t["coef"])].itertuples():
        synergy = "lowers" if r.coef < 0 else "raises"
        text += (f" The interaction — {term_words(r.covariate, sd.design)} — has HR {r.hazard_ratio:.3f} per unit "
                 f"of their product ({level(result.confidence)} CI {r.hr_lower:.3f}–{r.hr_upper:.3f}, "
                 f"{narrative.p_value(r.p_value)}): doing both {synergy} the churn hazard beyond the two separate "
                 "effects" + (" — the course's 1+1>2." if r.coef < 0 and r.p_value < _alpha(result) and result.is_course
                              else "."))
    return text


def _ph(result) -> str:
    ph = result.ph
    test = (f"R's survival ≥ 3.0 cox.zph, per term, {esc(ph.time_transform)} time transform; global "
            f"χ² = {ph.global_statistic:.2f}, df = {ph.global_df}, {narrative.p_value(ph.global_p)}")
    if ph.violations and ph.global_p >= _alpha(result):
        verb = "has" if len(ph.violations) == 1 else "have"
        return (f"{_names(ph.violations)} {verb} a proportional-hazards p-value below the {level(_alpha(result))} "
                f"level, but the global test does not reject proportional hazards ({test}); with {len(ph.table)} "
                "terms tested that can be chance, so the unstratified model scores.")
    if ph.violations:
        skipped = (f" Stratifying by {_names(ph.not_stratified)} as well would leave strata of fewer than "
                   f"{SUPPORT_AT_RISK} customers, so {'it stays a covariate' if len(ph.not_stratified) == 1 else 'they stay covariates'}."
                   if ph.not_stratified else "")
        remedy = (f"; the remedy — a model stratified by {_names(result.remedy.strata)} — is the model that scores "
                  "the early warning, at_risk.csv, the validation and CLV." if result.remedy is not None
                  else "; see the advice below (no categorical variable to stratify by with enough customers per "
                  "stratum, so the plain model scores).")
        return f"Proportional hazards is doubtful for {_names(ph.violations)} ({test}){remedy}{skipped}"
    return (f"No covariate violates proportional hazards at the {level(_alpha(result))} level ({test}): the hazard "
            "ratios hold over the whole customer life.")


def _aft(result) -> str:
    a = result.aft
    if not np.isfinite(a.weibull_shape):
        return f"By AIC the best parametric model is the {esc(a.best)} AFT."
    shape = ("a falling churn hazard: the longer a customer stays, the less likely they leave"
             if a.weibull_shape < 1 else "a rising churn hazard")
    return f"By AIC the best parametric model is the {esc(a.best)} AFT; the Weibull shape is {a.weibull_shape:.2f} ({shape})."


def _validation(result) -> str:
    v, unit = result.validation, _unit(result)
    text = (f"On held-out customers the {esc(v.model)} model's C-index is {v.c_index_test:.2f} (0.5 = chance, "
            f"training {v.c_index_train:.2f}); "
            + (f"the Brier score at {result.horizon:g} {unit} is {v.brier_at_horizon:.3f} against "
               f"{v.brier_null:.3f} for the no-covariate KM."
               if np.isfinite(v.brier_at_horizon) else "the horizon lies beyond the follow-up."))
    bt = v.by_tenure
    if len(bt):
        gap = (bt["predicted"] - bt["observed"]).abs()
        worst = bt.loc[gap.idxmax()]
        text += (f" Conditional calibration by tenure (P(churn within {result.horizon:g} {unit} | still a customer "
                 f"at tenure t)): predicted within the observed {level(result.confidence)} interval in "
                 f"{int(bt['within_ci'].sum())} of {len(bt)} tenure bands; the largest gap is at tenure "
                 f"{worst['landmark']:g} {unit} ({100 * worst['predicted']:.1f}% predicted vs "
                 f"{100 * worst['observed']:.1f}% observed).")
    return text


def _warning(result) -> str:
    w = result.warning
    shown = privacy.visible(w.factor_counts) if len(w.factor_counts) else w.factor_counts
    reasons = ", ".join(reason_words(g, result) for g in shown["factor"].head(3)) if len(shown) else "none"
    return (f"Of {count(w.n_active)} active customers about {count(w.expected_churners)} are expected to churn "
            f"within {result.horizon:g} {_unit(result)} (scored by the {esc(w.model)} model); the top decile's most "
            f"common reasons: {reasons}.")


def _reasons_rule(result) -> str:
    w = result.warning
    strata = (f" {_names(w.strata)} {'acts' if len(w.strata) == 1 else 'act'} through the stratum's own baseline "
              "hazard (no coefficient), so it is never listed as a reason; its effect is in the probability."
              if w.strata else "")
    return ("The reasons listed for a customer are the model terms that raise this customer's churn hazard above "
            f"the average customer's and whose effect is significant at the {level(_alpha(result))} level (for a "
            "category other than the reference level: that level's own coefficient too), up to three, largest first; "
            f"a customer with none has no reason listed.{strata}")


def _backtest(result) -> str:
    b, unit = result.backtest, _unit(result)
    if b is None:
        return "The file has no signup/churn dates, so the early warning cannot be backtested."
    return (f"Scored as of {b.cutoff:%Y-%m-%d} and checked against the next {result.horizon:g} {unit}: AUC "
            f"{b.auc:.2f}, top-decile lift {b.top_decile_lift:.1f}× ({100 * b.top_decile_rate:.1f}% vs "
            f"{100 * b.base_rate:.1f}% churned); {count(b.n_churned)} actual vs {count(b.expected_churners)} "
            "predicted churners.")


def _truth(result) -> str | None:
    if result.truth is None:
        return None
    cx = result.truth[result.truth["model"] == "Cox"]
    what = ("pseudo-true hazard coefficients (what a Cox model on these covariates estimates when latent loyalty, "
            "which the data do not show, also lowers the hazard)"
            if result.truth.attrs.get("against") == "pseudo_true_coefficients" else "true hazard coefficients")
    return (f"{int(cx['covered'].sum())} of {len(cx)} {what} lie inside the Cox model's "
            f"{level(result.confidence)} intervals (about {level(result.confidence)} is expected).")


def _ratio_words(row, confidence: float) -> str:
    """'0.47× the rate of detractors (95% CI 0.42–0.54)' — and 'not significantly different' when the interval
    holds 1."""
    text = (f"{row['hazard_ratio']:.2f}× the rate of detractors ({level(confidence)} CI {row['hr_lower']:.2f}–"
            f"{row['hr_upper']:.2f}")
    if row["hr_lower"] <= 1 <= row["hr_upper"]:
        text += f"; not significantly different from detractors at the {level(round(1 - confidence, 12))} level"
    return text + ")"


def _nps(result) -> str | None:
    """The last NPS answer as a churn predictor, in words (None when no survey is used)."""
    pred = result.nps
    if pred is None:
        return None
    parts = []
    for cat, name in (("promoter", "promoters"), ("passive", "passives")):
        row = pred.hazard_ratio(cat)
        if row is not None:
            parts.append(f"{name} churn at {_ratio_words(row, pred.confidence)}")
    lead = "NPS predicts who leaves: among" if result.is_course and parts else "Among"
    who = (f"{lead} the {count(pred.n_respondents)} customers who answered the survey before they churned or the "
           f"snapshot ({count(pred.n_churners)} of them churned), ")
    if not parts:
        return (who + "no hazard ratio against detractors can be shown: a category has fewer than "
                f"{result.min_cell} respondents (such groups are not shown), no detractor answered, or a category's "
                "coefficient does not exist.")
    return (who + " and ".join(parts) + ", with the churn model's covariates held equal (Cox model on the category "
            "of each customer's last answer, detractors the reference).")


def _nps_backtest(result) -> str | None:
    pred = result.nps
    if pred is None:
        return None
    if pred.auc_without is None or pred.auc_with is None or not np.isfinite(pred.auc_with):
        return ("Without signup and churn dates there is no backtest, so what the survey signal adds to the early "
                "warning cannot be measured.")
    gain = pred.auc_with - pred.auc_without
    b = pred.backtest
    return (f"With the survey signal (whether the customer had answered by the backtest's cutoff, and the category "
            f"of their last answer) as further covariates, the early warning's backtest AUC is {pred.auc_with:.3f} "
            f"against {pred.auc_without:.3f} without it ({gain:+.3f}; same cutoff {b.cutoff:%Y-%m-%d}, same "
            f"{count(b.n_scored)} active customers, {count(b.n_churned)} of whom churned in the next "
            f"{result.horizon:g} {_unit(result)}).")


def _nps_truth(result) -> str | None:
    pred = result.nps
    if pred is None or pred.truth is None:
        return None
    t = pred.truth
    values = ", ".join(f"{esc(r.category)} {r.true:.3f}" for r in t.itertuples())
    return (f"Against the course world's truth — the hazard ratios this model estimates in the population ({values}; "
            f"truth.json churn.hazard_ratios.nps_category) — {int(t['covered'].sum())} of {len(t)} "
            f"{level(pred.confidence)} intervals cover the true value.")


def findings(result) -> dict[str, str]:
    """One or two sentences per report section (keys: data, km, logrank, cox, ph, aft, validation, warning,
    backtest, nps when a survey is used, clv when the CLV analysis is attached, truth on the course data)."""
    out = {"data": _data(result), "km": _km(result), "logrank": _logrank(result), "cox": _cox(result),
           "ph": _ph(result), "aft": _aft(result), "validation": _validation(result), "warning": _warning(result),
           "backtest": _backtest(result)}
    nps = _nps(result)
    if nps is not None:
        out["nps"] = nps
    if result.clv is not None:
        out["clv"] = " ".join(result.clv.key_findings())
    truth = _truth(result)
    if truth is not None:
        out["truth"] = truth
    return out


def key_findings(result) -> list[str]:
    """The report's headline sentences, in order (the PH verdict after the Cox line when it fails)."""
    f = findings(result)
    keys = ["data", "km", "logrank", "cox", "validation", "warning", "backtest", "nps", "clv", "truth"]
    lines = [f[k] for k in keys if k in f]
    if result.ph.violations:
        lines.insert(4, f["ph"])
    return lines


# --------------------------------------------------------------------------------------------------------------------
# "What this shows", per section of the notebook
# --------------------------------------------------------------------------------------------------------------------
def describe_data(result) -> list[str]:
    """Where durations came from and what the input policy did; then the design notes (constant or single-valued
    covariates left out)."""
    return [f"Durations: {esc(result.data.duration_from)}. " + _data(result),
            *(esc(note) for note in result.data.design.notes)]


def describe_km(result) -> list[str]:
    """The curves, the interval type, and the restricted mean survival time."""
    lines = [_km(result), f"Intervals of the curves and of the median: {CI_TYPE_TEXT}."]
    t = result.rmst
    if t is not None and len(t):
        unit = _unit(result)
        shown = t[t["group"] != "All customers"]
        text = (f"Restricted mean survival time up to τ = {t['tau'].iloc[0]:g} {unit} (the expected {unit} as a "
                f"customer within the first {t['tau'].iloc[0]:g}; R: print(survfit(...), rmean = τ)): "
                f"{t['estimate'].iloc[0]:.1f} {unit} for all customers")
        if len(shown):
            text += "; " + ", ".join(f"{esc(r.group)} {r.estimate:.1f} (SE {r.se:.1f})" for r in shown.itertuples())
        lines.append(text + ".")
    return lines


def describe_logrank(result) -> list[str]:
    return [_logrank(result)]


def _model_tests(result) -> str | None:
    c = result.cox
    if c.tests is None:
        return None
    t = c.tests.set_index("test")
    parts = [f"{name} χ² = {t.loc[key, 'statistic']:.2f} (df {int(t.loc[key, 'df'])}, "
             f"{narrative.p_value(t.loc[key, 'p_value'])})"
             for key, name in (("likelihood_ratio", "likelihood ratio"), ("wald", "Wald"), ("score", "score"))]
    conc = (f"; concordance {c.concordance:.3f} (SE {c.concordance_se:.3f})" if c.concordance_se is not None
            else "")
    return ("The model as a whole (R's summary.coxph): " + ", ".join(parts) + conc + ". Each term is tested as a "
            "whole in the table of terms (a factor is one test on k−1 df).")


def describe_cox(result) -> list[str]:
    """The drivers, R's tests of the model, and every coefficient that does not exist, in words."""
    tests = _model_tests(result)
    return [_cox(result), *([tests] if tests else []), *(esc(note) for note in result.model_notes),
            *(esc(note) for note in result.cox.notes)]


def describe_ph(result) -> list[str]:
    """The PH verdict, which model scores the early warning, and how its baseline is kept to what the data support."""
    scoring = (f"**Model used for scoring:** {esc(result.scoring.label)}. The early warning, `at_risk.csv`, the "
               "validation and CLV all use this model"
               + (" (the stratified remedy, since proportional hazards failed for a categorical variable)."
                  if result.remedy is not None else "."))
    rule = (f"Each baseline hazard{' (one per stratum)' if result.scoring.strata else ''} is used only up to the "
            f"tenure at which {SUPPORT_AT_RISK} of its customers (or half of a smaller stratum) are still at risk; "
            f"beyond that it continues at its average rate over its last {TAIL_EVENTS} churn events, so no "
            "probability rests on a handful of customers. The test uses every customer (it costs O(n log n)).")
    return [_ph(result), scoring, rule]


def describe_ph_plot(result) -> list[str]:
    """What the scaled Schoenfeld residual plot shows."""
    if not result.ph.violations:
        return ["No term violates proportional hazards, so no residual plot is needed."]
    return ["Each point is a churn event: the term's scaled Schoenfeld residual plus its coefficient, against "
            "tenure (R's km scale). The smooth (lowess) estimates the coefficient at each tenure; under proportional "
            "hazards it is flat at the dashed line (the Cox estimate). A factor is shown by its linear predictor."]


def describe_aft(result) -> list[str]:
    lines = []
    if result.aft.cox_aic_partial is not None:
        lines.append(f"*Note:* the Cox model's AIC is {result.aft.cox_aic_partial:,.1f}, but it is computed from a "
                     "**partial likelihood, not comparable** with the parametric models' AICs above.")
    return [*lines, _aft(result)]


def describe_validation(result) -> list[str]:
    return [_validation(result)]


def describe_warning_intro(result) -> list[str]:
    """The horizon of this run, in words (the section's heading and narrative are static)."""
    unit = _unit(result)
    ahead = f"{result.horizon:g} {unit}"
    ahead_zh = f"提前{result.horizon:g}{UNIT_ZH.get(unit, unit)}预警"
    return [f"Here the horizon is **{ahead}**: who will leave in the next {ahead}? ({ahead_zh})"]


def describe_warning(result) -> list[str]:
    """The warning, the rule behind the reasons, and whether the action list was written."""
    written = (f" The ranked action list ({count(result.warning.n_active)} customers, with their ids) is in "
               "`at_risk.csv`." if result.params.write_action_list else
               " The ranked action list with customer ids is written only when the `write_action_list` parameter "
               "is True (it is off here).")
    if result.params.write_action_list:
        from loyaltylab.analyses.churn.warning import action_list_note

        written += action_list_note(result.warning.n_active)
    return [_warning(result) + written, _reasons_rule(result)]


def describe_backtest(result) -> list[str]:
    return [_backtest(result)]


def describe_nps(result) -> list[str]:
    """The last NPS answer as a churn predictor, what the survey signal adds to the early warning and, on the course
    data, the truth — or the one sentence saying why the section is skipped."""
    if result.nps is None:
        return [esc(result.nps_note or "No survey is used, so NPS as a churn predictor is not shown.")]
    pred = result.nps
    lines = [_nps(result), _nps_backtest(result)]
    timing = ("Answers dated on or after a customer's churn day (or the snapshot) are not used." if pred.dated else
              "The customers file has no signup dates (signup_col) and no snapshot date is known, so the answers "
              "could not be checked against each customer's churn day: every dated answer counts.")
    lines.append("The category is that of an answer given during the customer's life and held from signup: it "
                 "describes who leaves, it is not the effect of raising a customer's score. " + timing)
    lines += [esc(note) for note in pred.notes]
    truth = _nps_truth(result)
    if truth is not None:
        lines.append(truth)
    return [line for line in lines if line]


def describe_truth(result) -> list[str]:
    truth = _truth(result)
    return [truth] if truth is not None else ["No `truth.json` beside the input file: this is not the course data."]


def captions(result) -> dict[str, str]:
    """Table captions (plain text; the table display escapes them)."""
    conf = level(result.confidence)
    unit = _unit(result)
    ph = result.ph
    out = {
        "policy": "Input rules and rows affected",
        "km_by_segment": (f"Survival by {result.km_groups.column} (share still a customer)"
                          if result.km_groups is not None else ""),
        "logrank": "Log-rank test across groups",
        "pairwise": "Pairwise log-rank tests (Holm-adjusted)",
        "cox": f"Cox proportional hazards ({conf} intervals)",
        "ph": (f"Proportional-hazards test per term (R ≥ 3.0 cox.zph, time transform: {ph.time_transform}); "
               f"global χ² = {ph.global_statistic:.2f}, df = {ph.global_df}, p = {ph.global_p:.4g}"),
        "ph_plot": "Scaled Schoenfeld residuals of the terms that violate proportional hazards, with a lowess smooth",
        "cox_tests": "Tests of the whole model (R: summary.coxph): likelihood ratio, Wald, score",
        "cox_terms": "One Wald test per term (a factor is one test on k−1 df)",
        "rmst": (f"Restricted mean survival time ({conf} intervals; {unit})"),
        "advice": "What to do about the violations",
        "remedy": (f"Cox model stratified by {', '.join(result.remedy.strata)}" if result.remedy is not None else ""),
        "aft": "Parametric models by AIC",
        "aft_vs_cox": "Weibull AFT vs Cox",
        "validation": "Validation",
        "calibration": f"Calibration at {result.horizon:g} {unit} (held-out)",
        "by_tenure": (f"Conditional calibration by tenure (held-out): P(churn within {result.horizon:g} {unit} | "
                      "still a customer at the band's start), predicted vs Kaplan–Meier"),
        "risk_factors": "Most common risk factors in the top decile",
        "backtest": "Backtest: predicted vs actual churn by decile",
        "truth": "Estimated vs true coefficients",
        "nps": (f"Churn hazard ratio by the last NPS answer vs detractors ({conf} intervals; respondents, the churn "
                "model's covariates held equal)"),
        "nps_km": "Survival by the last NPS answer (respondents; share still a customer)",
    }
    return out
