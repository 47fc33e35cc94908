"""Tables as the notebook shows them (readable column names, the columns a reader needs) and the sections that
appear only when they apply (the zone of tolerance; the course data's truth and strategies) — so the notebook
builds no DataFrame and leaves out what does not apply instead of showing it empty."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from loyaltylab import i18n
from loyaltylab.i18n import column_zh

from . import scales
from .instrument import reader_label
from .truth import STRATEGIES

if TYPE_CHECKING:
    from .analysis import ServqualReport

SECTIONS = {
    "zone": """## Zone of tolerance (容忍区间)

With two expectation levels — the **adequate** service customers will accept and the **desired** service they hope
for — perceptions can be placed in the **zone of tolerance** between them (Parasuraman, Zeithaml & Berry 1994).
**MSA** (measure of service adequacy) = perception − adequate: below 0 the service is not acceptable. **MSS**
(measure of service superiority) = perception − desired: above 0 it delights. A dimension is *below* the zone when
its MSA interval lies below 0, *above* when its MSS interval lies above 0.""",
    "truth": """## Estimated vs true gaps (course data)

The course data are generated from a known model, so the true population gaps are known (`truth.json`, the
expected means of the observed 1–7 answers). An interval at the `confidence` level (95% by default) should contain
the truth about 19 times in 20 — a few misses across 28 intervals are expected, and because a customer's answers
move together, misses come in groups.""",
    "strategies": """## What to improve: the course's strategy per dimension (改进策略)

The course pairs each SERVQUAL dimension with an improvement strategy: reliability → **standardised processes**,
responsiveness → **resource allocation and training**, assurance → **staff expertise and credentials**, empathy →
**personalised care**, tangibles → **facilities and materials**. The table puts them beside the gaps, largest
shortfall first.""",
}
SECTIONS_ZH = {
    "zone": """## 容忍区间 (zone of tolerance)

有了两个期望水平——顾客愿意接受的**适当服务** (adequate service) 和顾客希望得到的**理想服务** (desired
service)——就可以把感知放进两者之间的**容忍区间**来看 (Parasuraman, Zeithaml & Berry 1994)。**MSA**
（服务适当性测量）= 感知 − 适当服务：低于 0 说明服务不可接受。**MSS**（服务优越性测量）= 感知 − 理想服务：
高于 0 说明服务令顾客惊喜。某维度的 MSA 区间整体低于 0 时，该维度*低于*容忍区间；MSS 区间整体高于 0 时，
该维度*高于*容忍区间。""",
    "truth": """## 估计差距与真实差距（课程数据）

课程数据由一个已知模型生成，因此总体中的真实差距是已知的（`truth.json`，即 1–7 分观测回答的期望均值）。
按 `confidence` 水平（默认 95%）构造的区间，大约每 20 次中应有 19 次包含真值——28 个区间中出现几次未覆盖是
正常的；而且同一位顾客的各题回答是相互关联的，所以未覆盖往往成批出现。""",
    "strategies": """## 如何改进：课程为各维度给出的改进策略

课程为每个 SERVQUAL 维度配了一条改进策略：可靠性 → **流程标准化**，响应性 → **资源配置与培训**，
保障性 → **员工专业能力与资质**，移情性 → **个性化关怀**，有形性 → **改善设施与材料**。下表把策略与差距
并列，按差距从大到小排列。""",
}
"""The sections' heading and explanation in Chinese (:data:`SECTIONS` in English)."""


def applies(result: ServqualReport, section: str) -> bool:
    """Whether a conditional section has something to show."""
    return {"zone": result.zone is not None, "truth": result.truth is not None,
            "strategies": result.strategies is not None}[section]


def show_section(result: ServqualReport, section: str) -> bool:
    """Display the section's heading and explanation when it applies; True when it does (the notebook then shows
    its chart and table), False when it is left out."""
    if not applies(result, section):
        return False
    from IPython.display import Markdown, display

    display(Markdown(section_text(section)))
    return True


def section_text(section: str) -> str:
    """A conditional section's heading and explanation in the notebook's language (``both``: Chinese, then
    English)."""
    language = i18n.current()
    if language == "en":
        return SECTIONS[section]
    if language == "zh":
        return SECTIONS_ZH[section]
    return SECTIONS_ZH[section] + "\n\n" + SECTIONS[section]


def segment_views(result: ServqualReport) -> list[tuple[str, pd.DataFrame]]:
    """(caption, table) per segment column, for the notebook's loop."""
    what, what_zh = ("gaps", "差距") if result.mode == "servqual" else ("perceptions", "感知")
    return [(i18n.t(f"{what.capitalize()} by {col} (each group against the rest)",
                    f"按{column_zh(col)}分组的{what_zh}（各组与其余客户比较）"), view(result, "segment", col))
            for col in result.segments]


def invariance_views(result: ServqualReport) -> list[tuple[str, pd.DataFrame]]:
    """(caption, fit table) per segment column whose measurement invariance was tested."""
    return [(i18n.t(f"Measurement invariance by {col}: configural vs metric",
                    f"按{column_zh(col)}的测量不变性：形态不变与度量不变"), view(result, "invariance", col))
            for col, (res, _, _) in result.invariance.items() if res is not None]


def _dims(values) -> list[str]:
    return [reader_label(str(v), bilingual=True) for v in values]


def _scores(result: ServqualReport, name: str, column=None) -> pd.DataFrame:
    servqual = result.mode == "servqual"
    t = result.dimensions if name == "dimensions" else result.items
    key = "dimension" if name == "dimensions" else "item"
    out = pd.DataFrame({key.capitalize(): _dims(t[key]) if name == "dimensions" else t["item"]})
    if name == "items":
        out["Dimension"] = _dims(t["dimension"])
    out["n"] = t["n"]
    if servqual:
        out["Expectation"], out["Perception"], out["Gap P − E"] = t["expectation"], t["perception"], t["gap"]
        out["CI low"], out["CI high"], out["p (Holm)"] = t["ci_low"], t["ci_high"], t["p_adjusted"]
        out["Wilcoxon p"], out["dz"] = t["wilcoxon_p"], t["cohens_dz"]
    else:
        out["Perception"], out["CI low"], out["CI high"] = t["perception"], t["perception_ci_low"], t[
            "perception_ci_high"]
    if name == "dimensions":
        out["α (P)"] = [scales.alpha_of(result.reliability, d, "perception") for d in t["dimension"]]
    return out


def _overall(result: ServqualReport, name=None, column=None) -> pd.DataFrame:
    o = result.overall.iloc[0]
    what = "Gap P − E" if result.mode == "servqual" else "Perception"
    rows = [{"Score": f"{what} (unweighted)", "Estimate": o["estimate"], "CI low": o["ci_low"],
             "CI high": o["ci_high"], "n": o["n"]}]
    if o["n_weighted"]:
        rows.append({"Score": f"{what} (weighted by stated importance)", "Estimate": o["weighted"],
                     "CI low": o["weighted_ci_low"], "CI high": o["weighted_ci_high"], "n": o["n_weighted"]})
    return pd.DataFrame(rows)


def _reliability(result: ServqualReport, name: str, column=None) -> pd.DataFrame:
    r = result.reliability
    if name == "reliability":
        a = r.alphas
        return pd.DataFrame({"Dimension": _dims(a["dimension"]), "Answers": a["set"], "α": a["alpha"],
                             "CI low (Feldt)": a["ci_low"], "CI high (Feldt)": a["ci_high"], "ω": a["omega"],
                             "Items": a["n_items"]})
    if name == "item_analysis":
        i = r.items
        return pd.DataFrame({"Dimension": _dims(i["dimension"]), "Answers": i["set"], "Item": i["item"],
                             "α if deleted": i["alpha_if_deleted"], "Corrected item–total r": i["r_drop"]})
    g = r.gap_scores
    return pd.DataFrame({"Dimension": _dims(g["dimension"]), "Reliability of P − E": g["reliability"],
                         "α (P)": g["alpha_p"], "α (E)": g["alpha_e"], "r(P, E)": g["corr_pe"], "Low": g["low"]})


LEVELS_ZH = {"configural": "形态不变", "metric": "度量不变"}
"""Measurement-invariance levels in Chinese."""


def _level(level: str) -> str:
    """An invariance level in the current language ('形态不变 / configural' in both)."""
    zh = LEVELS_ZH.get(level)
    if zh is None or i18n.current() == "en":
        return level
    return zh if i18n.current() == "zh" else f"{zh} / {level}"


def _structure(result: ServqualReport, name: str, column=None) -> pd.DataFrame:
    s = result.structure
    if name == "efa":
        t = s.efa.loadings.rename(index=s.item_of)
        t.insert(0, "Item", t.index)
        t["Communality"] = s.efa.communalities.to_numpy()
        return t.reset_index(drop=True)
    if name == "cfa_fit":
        f, level = s.cfa.fit, f"{s.rmsea_confidence:.0%}"
        return pd.DataFrame([{"χ²": f.chi2, "df": f.df, "p": f.p_value, "CFI": f.cfi, "TLI": f.tli, "RMSEA": f.rmsea,
                              f"RMSEA {level} CI low": f.rmsea_ci_low, f"RMSEA {level} CI high": f.rmsea_ci_high,
                              "SRMR": f.srmr, "AIC": f.aic, "BIC": f.bic, "n": f.n}])
    if name == "cfa_loadings":
        ld = s.cfa.loadings
        return pd.DataFrame({"Dimension": _dims(ld["factor"]), "Item": [s.item_of[i] for i in ld["item"]],
                             "Standardised loading": ld["std_estimate"],
                             "Residual variance (std.)": ld["std_residual_variance"]})
    if name == "cfa_reliability":
        r = s.cfa.reliability
        return pd.DataFrame({"Dimension": _dims(r.index), "Composite reliability": r["composite_reliability"],
                             "AVE": r["ave"], "√AVE": r["sqrt_ave"],
                             "Largest |r| with another": r["max_abs_correlation"],
                             "Fornell–Larcker": r["fornell_larcker"]})
    f = result.invariance[column][0].fits
    return pd.DataFrame({"Level": [_level(x) for x in f.index], "χ²": f["chi2"].to_numpy(), "df": f["df"].to_numpy(),
                         "CFI": f["cfi"].to_numpy(), "RMSEA": f["rmsea"].to_numpy(), "SRMR": f["srmr"].to_numpy()})


def _priorities(result: ServqualReport, name: str, column=None) -> pd.DataFrame:
    if name == "servperf":
        t = result.servperf
        out = pd.DataFrame({"Outcome": t["outcome"], "n": t["n"], "R² perceptions (SERVPERF)": t["r2_servperf"]})
        if result.mode == "servqual":
            out["R² gaps (SERVQUAL)"], out["Difference"] = t["r2_servqual"], t["difference"]
        return out
    t = result.ipa.table
    return pd.DataFrame({"Dimension": _dims(t["dimension"]), "Performance": t["performance"],
                         "Importance": t["importance"], "Derived": t["importance_derived"],
                         "Stated": t["importance_stated"], "Quadrant": t["quadrant"], "Stability": t["stability"]})


def _groups(result: ServqualReport, name: str, column=None) -> pd.DataFrame:
    if name == "segment":
        t = result.segments[column]
        return pd.DataFrame({"Group": t["value"],
                             "Score": ["overall" if m == "overall" else reader_label(m, True) for m in t["measure"]],
                             "n": t["n"], "Estimate": t["estimate"], "CI low": t["ci_low"], "CI high": t["ci_high"],
                             "vs rest": t["diff_vs_rest"], "p (Holm)": t["p_adjusted"],
                             "Differs from rest": t["significant"], "suppressed": t["suppressed"]})
    t = result.trend
    dims = [c for c in t.columns if c in result.instrument.dimensions]
    out = t[["period", "n", "estimate", "ci_low", "ci_high", "change", "p_adjusted", "significant", *dims,
             "suppressed"]].rename(columns={"period": "Period", "estimate": "Overall", "ci_low": "CI low",
                                            "ci_high": "CI high", "change": "Change", "p_adjusted": "p (Holm)",
                                            "significant": "Significant change"})
    return out.rename(columns={d: reader_label(d) for d in dims})


def _course(result: ServqualReport, name: str, column=None) -> pd.DataFrame:
    if name == "zone":
        z = result.zone
        return pd.DataFrame({"Dimension": _dims(z["dimension"]), "Adequate": z["adequate"],
                             "Perception": z["perception"], "Desired": z["desired"], "MSA": z["msa"],
                             "MSS": z["mss"], "Position": z["position"]})
    if name == "truth":
        t = result.truth
        return pd.DataFrame({"Scope": t["scope"], "Name": [reader_label(x, True) if scope == "dimension" else x
                                                           for scope, x in zip(t["scope"], t["name"])],
                             "Estimate": t["estimate"], "CI low": t["ci_low"], "CI high": t["ci_high"],
                             "True": t["true"], "Covered": t["covered"]})
    t = result.strategies
    out = pd.DataFrame({"Rank": t["rank"], "Dimension": _dims(t["dimension"]), "Gap": t["estimate"]})
    actions_zh = [STRATEGIES.get(d, {}).get("actions_zh", a) for d, a in zip(t["dimension"], t["actions"])]
    if i18n.current() == "zh":
        out["Strategy"], out["Actions"] = t["strategy_zh"].to_numpy(), actions_zh
        return out
    if i18n.current() == "both":
        out["Strategy"], out["Actions"], out["措施"] = t["strategy"], t["actions"], actions_zh
        return out
    out["Strategy"], out["策略"], out["Actions"] = t["strategy"], t["strategy_zh"], t["actions"]
    return out


VIEWS = {"dimensions": _scores, "items": _scores, "overall": _overall, "reliability": _reliability,
         "item_analysis": _reliability, "gap_reliability": _reliability, "efa": _structure, "cfa_fit": _structure,
         "cfa_loadings": _structure, "cfa_reliability": _structure, "invariance": _structure,
         "servperf": _priorities, "ipa": _priorities, "segment": _groups, "trend": _groups, "zone": _course,
         "truth": _course, "strategies": _course}


def view(result: ServqualReport, name: str, column: str | None = None) -> pd.DataFrame:
    """A result table for display (readable column names): one of :data:`VIEWS`; 'invariance' and 'segment' take
    the segment ``column``."""
    if name not in VIEWS:
        raise KeyError(f"unknown view {name!r}; one of {', '.join(VIEWS)}")
    return VIEWS[name](result, name, column)
