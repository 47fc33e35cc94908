"""The result tables as the notebook shows them: readable column names, p-values and flags as text, hidden counts
reading 'suppressed'. (Display only; the tables in results.json keep their own names.)"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from loyaltylab import i18n
from loyaltylab.i18n import column_zh

if TYPE_CHECKING:
    from .analysis import NPSReport

VIEWS = {
    "segment": {"value": "Segment", "n": "n", "nps": "NPS", "ci_low": "CI low", "ci_high": "CI high",
                "deff": "Design effect", "diff_vs_rest": "vs rest", "p_adjusted": "p (adjusted)",
                "significant": "Differs from rest", "suppressed": "suppressed"},
    "trend": {"period": "Period", "n": "n", "nps": "NPS", "ci_low": "CI low", "ci_high": "CI high",
              "change": "Change", "p_adjusted": "p (adjusted)", "change_significant": "Significant change",
              "suppressed": "suppressed"},
    "effects": {"label": "Dimension", "mean_detractors": "Detractors", "mean_promoters": "Promoters",
                "difference": "Difference", "cohens_d": "Cohen's d", "d_ci_low": "d CI low", "d_ci_high": "d CI high",
                "effect": "Effect", "p_adjusted": "p (adjusted)"},
    "model": {"label": "Dimension", "odds_ratio": "Odds ratio", "ci_low": "CI low", "ci_high": "CI high",
              "p_value": "p"},
    "themes": {"label": "Theme", "n": "Comments", "share_detractors": "% of detractors",
               "share_promoters": "% of promoters", "difference": "Difference (points)", "suppressed": "suppressed"},
    "truth": {"scope": "Scope", "value": "Group", "n": "n", "estimate": "Estimate", "ci_low": "CI low",
              "ci_high": "CI high", "true": "True NPS", "covered": "Interval contains truth"},
    "sample_size": {"margin": "Margin (± points)"},
}


def _p_text(p) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def view(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A result table with readable column names for display (p-values and flags as text)."""
    columns = VIEWS[kind]
    extra = [c for c in table if c != "margin"] if kind == "sample_size" else []
    out = table[[c for c in columns if c in table] + extra].copy()
    for col in out.columns:
        if col.startswith("p_") or col == "p_value":
            out[col] = out[col].map(_p_text).astype(object)
        elif col in ("significant", "change_significant", "covered"):
            out[col] = out[col].map(lambda v: "yes" if v is True or v == 1 else "").astype(object)
        elif isinstance(out[col].dtype, pd.Int64Dtype):  # hidden counts read like the other suppressed cells
            out[col] = out[col].map(lambda v: "suppressed" if pd.isna(v) else int(v)).astype(object)
    out = out.rename(columns=columns)
    return out.rename(columns=mix_label) if kind == "sample_size" else out


def label(en: str, zh: str) -> str:
    """A label computed from the data in the current language (``both``: '中文 / English', as glossary labels)."""
    language = i18n.current()
    return en if language == "en" else zh if language == "zh" else f"{zh} / {en}"


MIX = re.compile(r"^(?P<name>observed|NPS 50|worst case) \(P (?P<p>[0-9.]+)% / D (?P<d>[0-9.]+)%\)$")
MIX_ZH = {"observed": "本次调查", "NPS 50": "NPS 50", "worst case": "最坏情况"}


def mix_label(name: str) -> str:
    """A promoter/detractor mix of the planning table ('observed (P 41% / D 20%)') in the current language."""
    m = MIX.match(str(name))
    if not m:
        return name
    return label(name, f"{MIX_ZH[m['name']]}（推荐者 {m['p']}% / 贬损者 {m['d']}%）")


def segment_caption(column: str) -> str:
    """'NPS by region' (a course column named in Chinese, else through the glossary when it has the name)."""
    name = str(column)
    zh = column_zh(name) if name in i18n.column_names() else i18n.zh_of(name) or name
    return label(f"NPS by {column}", f"按{zh}划分的 NPS")


def segment_views(result: NPSReport) -> list[tuple[str, pd.DataFrame]]:
    """(caption, table) for each segment column, ready for ``notebook.show_table`` (which escapes the caption)."""
    return [(segment_caption(column), view(table, "segment")) for column, table in result.segments.items()]
