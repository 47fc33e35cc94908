"""One source, two languages: every heading, sentence, table header and chart label in English, Chinese or both.

A notebook's ``language`` parameter (``"en"``, ``"zh"`` or ``"both"``) is set once with :func:`use`; from then on

* :func:`t` picks a sentence written in both languages in the library (``t(f"… {x}", f"…{x}")``): sentences carry
  numbers, so each is written twice next to each other, never translated word by word;
* :func:`word` translates a fixed label (table header, caption, chart title or axis, "yes") through the glossary in
  ``lib/loyaltylab/glossary/*.json`` (English → Chinese, one file per topic); a label without an entry stays as it is;
* notebook narrative is kept in markdown cells tagged ``lang-en`` / ``lang-zh`` (:mod:`loyaltylab.sections` keeps
  the reader's language in a report; untagged cells serve both).

In ``"both"`` a sentence reads Chinese, then English on the next line; a label reads ``中文 / English``.
"""
from __future__ import annotations

import contextlib
import json
import re
from functools import lru_cache
from importlib import resources

from loyaltylab.errors import ParameterError

LANGUAGES = ("en", "zh", "both")
DEFAULT = "en"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

_current = DEFAULT


def check(value, name: str = "language") -> str:
    """A language parameter: ``en``, ``zh`` or ``both`` (case-insensitive; ``中文``/``cn`` mean ``zh``)."""
    aliases = {"zh": "zh", "cn": "zh", "zh-cn": "zh", "zh_cn": "zh", "中文": "zh", "chinese": "zh",
               "en": "en", "english": "en", "英文": "en", "both": "both", "双语": "both", "bilingual": "both"}
    if isinstance(value, str) and value.strip().lower() in aliases:
        return aliases[value.strip().lower()]
    raise ParameterError(name, value, 'must be "en" (English), "zh" (中文) or "both"')


check.bad = ("fr", None, 1, ["zh"])


def use(language) -> str:
    """Set the language of everything the library writes from now on (checked); returns it."""
    global _current
    _current = check(language)
    return _current


def current() -> str:
    return _current


@contextlib.contextmanager
def language(lang):
    """``with i18n.language("zh"): …`` — a temporary language (tests, the batch index)."""
    global _current
    before = _current
    _current = check(lang)
    try:
        yield _current
    finally:
        _current = before


def _pick(en: str, zh: str, joiner: str) -> str:
    if _current == "en":
        return en
    if _current == "zh":
        return zh
    return f"{zh}{joiner}{en}" if zh != en else en


def t(en: str, zh: str) -> str:
    """The sentence in the current language (``both``: Chinese, a line break, English)."""
    return _pick(en, zh, "\n")


def label(en: str, zh: str) -> str:
    """A short label written in both languages (``both``: ``中文 / English`` on one line, like :func:`word`)."""
    return _pick(en, zh, " / ")


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    """English label → Chinese, merged from every ``glossary/*.json`` file (sorted by name; keys must agree)."""
    merged: dict[str, str] = {}
    folder = resources.files("loyaltylab") / "glossary"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            for en, zh in json.loads(entry.read_text(encoding="utf-8")).items():
                if not en.startswith("_"):
                    merged.setdefault(en, zh)
    return merged


def zh_of(label: str) -> str | None:
    """The glossary's Chinese for ``label`` (exact, then ignoring case and surrounding space), or None."""
    terms = glossary()
    text = str(label)
    if text in terms:
        return terms[text]
    key = text.strip()
    if key in terms:
        return terms[key]
    lowered = _lowered()
    return lowered.get(key.lower())


@lru_cache(maxsize=1)
def _lowered() -> dict[str, str]:
    return {k.lower(): v for k, v in glossary().items()}


def word(label, *, sep: str = " / ") -> str:
    """A fixed label in the current language via the glossary (``both``: ``中文 / English``); unknown labels and
    labels that already contain Chinese stay unchanged."""
    text = "" if label is None else str(label)
    if _current == "en" or not text.strip() or CJK.search(text):
        return text
    zh = zh_of(text)
    if zh is None:
        return text
    return zh if _current == "zh" else f"{zh}{sep}{text}"


def has_chinese(text: str) -> bool:
    return bool(CJK.search(str(text)))


ACRONYMS = frozenset({
    "NPS", "CI", "SE", "SD", "AIC", "BIC", "CFI", "TLI", "RMSEA", "SRMR", "AUC", "HR", "LTV", "CAC", "CLV", "AFT",
    "Cox", "Holm", "SERVQUAL", "SERVPERF", "IPA", "KMO", "EFA", "CFA", "Kano", "Kaplan", "Meier", "Weibull",
    "sBG", "ROC", "OLS", "HC3", "Wald", "Shapley", "LMG", "VIF", "Cronbach", "McDonald", "Bartlett", "RMST",
    "Schoenfeld", "Brier", "Harrell", "Efron", "Breslow", "Tukey", "Bonferroni", "Rocks", "Wilson", "PZB",
    "Pearson", "Spearman", "Johnson", "Neyman", "Fisher", "Cohen", "Likert", "ATE", "OR", "RR", "CSV", "ID", "IDs",
    "jieba", "omega", "alpha", "log", "exp", "min", "max", "and", "per", "vs",
})


def english_only(text: str) -> bool:
    """True when ``text`` has an English word (3+ letters, not a field acronym or name, not a file, path or code
    name) and no Chinese: the test of a ``zh`` report — what a Chinese reader would be left to read in English."""
    text = str(text)
    if has_chinese(text):
        return False
    text = re.sub(r"\S*[A-Za-z0-9][_./@][A-Za-z0-9]\S*", " ", text)  # file names, paths, job and column names
    words = re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text)
    return any(w.strip("'’-") not in ACRONYMS for w in words)


def _axis_formatter(axis):
    """Translate an axis' tick labels when they are words (fixed, categorical or function ticks); numbers and
    dates stay as they are (their text is not in the glossary, and date formatters are left alone)."""
    from matplotlib import dates, ticker

    fmt = axis.get_major_formatter()
    if isinstance(fmt, ticker.FixedFormatter):
        fmt.seq = [word(s) for s in fmt.seq]
    elif not getattr(fmt, "_translated", False) and not isinstance(
            fmt, dates.AutoDateFormatter | dates.ConciseDateFormatter | dates.DateFormatter | ticker.NullFormatter):
        axis.set_major_formatter(_translated_formatter(fmt))


def _translated_formatter(inner):
    from matplotlib import ticker

    class Translated(ticker.Formatter):
        _translated = True

        def __call__(self, x, pos=None):
            return word(inner(x, pos))

        def format_ticks(self, values):
            inner.set_locs(values)
            return [word(s) for s in inner.format_ticks(values)]

        def set_locs(self, locs):
            inner.set_locs(locs)

        def get_offset(self):
            return inner.get_offset()

        def format_data(self, value):
            return inner.format_data(value)

        def format_data_short(self, value):
            return inner.format_data_short(value)

        def set_axis(self, axis):
            super().set_axis(axis)
            inner.set_axis(axis)

    return Translated()


def figure_texts(fig) -> list:
    """Every text artist a reader sees on ``fig``: suptitle, figure texts, titles, axis labels, legends,
    annotations (tick labels excluded: they are data values or numbers, translated through their formatter)."""
    out = []
    if getattr(fig, "_suptitle", None) is not None:
        out.append(fig._suptitle)
    out.extend(getattr(fig, "texts", []))
    for legend in getattr(fig, "legends", []):
        out.extend([legend.get_title(), *legend.get_texts()])
    for ax in fig.axes:
        out.extend([ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None),
                    ax.xaxis.label, ax.yaxis.label, *ax.texts])
        legend = ax.get_legend()
        if legend is not None:
            out.extend([legend.get_title(), *legend.get_texts()])
    return [a for a in out if a is not None and a.get_text()]


def translate_figure(fig) -> None:
    """Put ``fig``'s fixed labels into the current language through the glossary (called when a chart is shown;
    sentences built with :func:`t` are already in it)."""
    if _current == "en":
        return
    for artist in figure_texts(fig):
        text = artist.get_text()
        new = word(text, sep="\n")  # both: two lines, so a chart keeps its width
        if new != text:
            artist.set_text(new)
    for ax in fig.axes:
        _axis_formatter(ax.xaxis)
        _axis_formatter(ax.yaxis)


@lru_cache(maxsize=1)
def column_names() -> dict[str, str]:
    """The course data's canonical column names in Chinese (``glossary/columns/*.json``), kept apart from the label
    glossary: ``churned`` the column is 是否流失, "Churned" the headline is 已流失."""
    merged: dict[str, str] = {}
    folder = resources.files("loyaltylab") / "glossary" / "columns"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json"):
            merged.update({k: v for k, v in json.loads(entry.read_text(encoding="utf-8")).items()
                           if not k.startswith("_")})
    return merged


def column(name) -> str:
    """A column name inside a sentence, caption or chart title: a canonical column in Chinese (``segment`` → 细分市场;
    ``both``: 细分市场 (segment)); any other name — a user's own column — exactly as it is."""
    text = "" if name is None else str(name)
    zh = column_names().get(text)
    if _current == "en" or zh is None:
        return text
    return zh if _current == "zh" else f"{zh} ({text})"


DESIGN_TERM = re.compile(r"^(?P<col>[^\[\]:]+)\[(?:T\.)?(?P<level>[^\]]*)\]$")


def term(name) -> str:
    """A model term (a design column) for a reader: ``segment[Standard]`` → 'segment = Standard' (细分市场 = Standard),
    ``a:b`` → 'a × b'; plain columns through :func:`column`. English keeps the design name as it is."""
    text = "" if name is None else str(name)
    if _current == "en":
        return text
    if ":" in text and "[" not in text:
        return " × ".join(term(part) for part in text.split(":"))
    m = DESIGN_TERM.match(text)
    if m:
        return f"{column(m['col'])} = {m['level']}"
    return column(text)


def column_zh(name) -> str:
    """A canonical course column in Chinese whatever the current language (the Chinese side of :func:`t`); a
    user's own column exactly as it is. :func:`column` adds the English name in ``both``, which suits a label, not
    a sentence."""
    text = "" if name is None else str(name)
    return column_names().get(text, text)


def term_zh(name) -> str:
    """A model term in Chinese whatever the current language: ``segment[Standard]`` → 细分市场 = Standard."""
    with language("zh"):
        return term(name)


class Both(str):
    """A sentence made while an analysis runs (a note, where the data came from) and shown later, kept in both
    languages: it reads as the language current when it was made (code that treats it as text is unchanged);
    :func:`said` gives it in the language current when it is shown, so a ``both`` report never nests the pair
    inside another two-language sentence. ``+`` joins both sides."""

    def __new__(cls, en: str, zh: str):
        made = super().__new__(cls, t(en, zh))
        made.en, made.zh = en, zh
        return made

    def __getnewargs__(self):
        return self.en, self.zh

    def __add__(self, other):
        if isinstance(other, Both):
            return Both(self.en + other.en, self.zh + other.zh)
        return str(self) + other


def said(text) -> str:
    """A :class:`Both` sentence in the current language; any other text as it is."""
    return t(text.en, text.zh) if isinstance(text, Both) else text


def english(text) -> str:
    """The English of a :class:`Both` sentence (for the English side of :func:`t`); any other text as it is."""
    return text.en if isinstance(text, Both) else text


def chinese(text) -> str:
    """The Chinese of a :class:`Both` sentence (for the Chinese side of :func:`t`); any other text as it is."""
    return text.zh if isinstance(text, Both) else text
