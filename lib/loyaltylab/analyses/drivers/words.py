"""The driver report's words in the reader's language (issue 14): short labels, dimension names, lists and notes.

Sentences are written twice with :func:`loyaltylab.i18n.t`; the Chinese one names a SERVQUAL dimension in Chinese
only (the English one keeps the bilingual label) and is tidied so that Latin names sit between spaces without
spaces next to Chinese punctuation. Word-valued cells (Kano category, warning kind, truth measure) are translated
here, not through the shared glossary, because the same English word ("basic", "performance") is a data value
elsewhere (a segment called "Basic").
"""
from __future__ import annotations

import re

from loyaltylab import i18n
from loyaltylab.constants import DIMENSIONS
from loyaltylab.narrative import esc, p_value

KANO_ZH = {"basic": "必备型因素", "performance": "期望型因素", "excitement": "魅力型因素"}
QUADRANT_ZH = {"concentrate here": "重点改进", "keep up the good work": "继续保持",
               "possible overkill": "可能过度投入", "low priority": "低优先级"}
WARNING_ZH = {"suppressor": "抑制效应（符号反转）", "collinear_pair": "高度共线的驱动因素对", "vif": "VIF 过高",
              "few_rows": "每个预测变量的回答过少"}
OUTCOME_ZH = {"promoter": "是否为推荐者", "nps": "NPS 评分（0–10）", "satisfaction": "满意度",
              "repurchase_intent": "再购意愿"}
MEASURE_ZH = {"lmg_share": "LMG 份额", "relative_weight_share": "相对权重份额"}
CELL_ZH = {**KANO_ZH, **WARNING_ZH, **MEASURE_ZH}

_FULL_WIDTH = "，。：；、（）？！“”—"
_SPACES_AT_PUNCTUATION = re.compile(rf" *([{_FULL_WIDTH}]) *")
_SPACE_BETWEEN_HANZI = re.compile(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])")


def pick(en: str, zh: str) -> str:
    """A short label (legend, caption, cell, chart title) in the current language; ``both``: ``中文 / English``."""
    return en if zh == en else i18n.label(en, tidy(zh))


def cell(value) -> object:
    """A word-valued table cell the analysis produces (Kano category, warning kind, measure) in the language."""
    return pick(value, CELL_ZH[value]) if isinstance(value, str) and value in CELL_ZH else value


def label_zh(name) -> str:
    """A driver's name inside a Chinese sentence: the Chinese dimension name, else the name escaped (spaced)."""
    return DIMENSIONS[name]["zh"] if name in DIMENSIONS else f" {esc(name)} "


def join_zh(items) -> str:
    """'甲', '甲和乙', '甲、乙和丙'."""
    items = list(items)
    if len(items) <= 2:
        return "和".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]


def tidy(text: str) -> str:
    """A Chinese sentence without doubled spaces or spaces next to Chinese punctuation or at its ends."""
    text = _SPACES_AT_PUNCTUATION.sub(r"\1", re.sub(r" {2,}", " ", text))
    return _SPACE_BETWEEN_HANZI.sub("", text).strip()


def t(en: str, zh: str) -> str:
    """:func:`loyaltylab.i18n.t` with the Chinese sentence tidied."""
    return i18n.t(en, tidy(zh))


def p_zh(p) -> str:
    """:func:`loyaltylab.narrative.p_value` for a Chinese sentence (the same numbers)."""
    text = p_value(p)
    return "p 值不可用" if text == "p not available" else text


class Note(str):
    """A note of the analysis (kept in English in results.json) that carries its Chinese for the report."""

    zh: str

    def __new__(cls, en: str, zh: str = ""):
        note = super().__new__(cls, en)
        note.zh = zh
        return note


def note_text(note: str) -> str:
    """A note, escaped and as a sentence, in the current language."""
    zh = getattr(note, "zh", None)
    return t(esc(note) + ".", esc(zh) + "。") if zh else esc(note) + "."
