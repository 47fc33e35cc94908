"""Verbatim themes: what free-text comments (Chinese or English) are about, by a bilingual lexicon.

The lexicon (``theme_lexicon.json`` beside this module, or a file of your own with the same shape) ties words to
the five SERVQUAL dimensions plus price/value. Chinese text is segmented with jieba (the segmenter made for it);
English text is split into lower-cased words with a light suffix stemmer. A comment's themes are those with at
least one matching term; its primary theme is the one with the most distinct matching terms (ties: the theme
mentioned first). Deterministic: the same text always gets the same themes.
"""
from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

LEXICON_PATH = Path(__file__).with_name("theme_lexicon.json")
UNCLASSIFIED = "unclassified"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_EN_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


@dataclass(frozen=True)
class Lexicon:
    """Terms per theme. ``zh`` maps a Chinese term to its theme; ``en`` maps a tuple of stemmed words to its theme."""

    themes: tuple[str, ...]
    labels: Mapping[str, tuple[str, str]]
    zh: Mapping[str, str]
    en: Mapping[tuple[str, ...], str]
    zh_prefixes: tuple[str, ...]
    zh_suffixes: tuple[str, ...]
    max_en_words: int


def stem(word: str) -> str:
    """A light English stemmer applied alike to text and lexicon: waits/waited/waiting → wait, prices → pric."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix, keep in (("ies", 4), ("ing", 5), ("ed", 4), ("es", 4), ("s", 4)):
        if w.endswith(suffix) and len(w) >= keep + len(suffix) - 1 and not (suffix == "s" and w.endswith("ss")):
            w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]
    return w


def english_words(text: str) -> list[tuple[str, int]]:
    """Stemmed lower-case words with their character offsets."""
    return [(stem(m.group()), m.start()) for m in _EN_WORD.finditer(text.lower())]


def _read_lexicon(path: Path) -> Lexicon:
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    zh: dict[str, str] = {}
    en: dict[tuple[str, ...], str] = {}
    labels = {}
    for theme, entry in spec["themes"].items():
        labels[theme] = (entry.get("en_label", theme), entry.get("zh_label", theme))
        for term in entry.get("zh", []):
            zh.setdefault(term, theme)  # first theme listed wins a duplicated term
        for term in entry.get("en", []):
            key = tuple(w for w, _ in english_words(term))
            if key:
                en.setdefault(key, theme)
    return Lexicon(
        themes=tuple(spec["themes"]),
        labels=labels,
        zh=zh,
        en=en,
        zh_prefixes=tuple(sorted(spec.get("zh_prefixes", []), key=len, reverse=True)),
        zh_suffixes=tuple(sorted(spec.get("zh_suffixes", []), key=len, reverse=True)),
        max_en_words=max((len(k) for k in en), default=1),
    )


@lru_cache(maxsize=8)
def _cached_lexicon(path: str) -> Lexicon:
    return _read_lexicon(Path(path))


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The packaged lexicon, or a JSON file of the same shape (cached per path)."""
    return _cached_lexicon(str(Path(path or LEXICON_PATH).resolve()))


def theme_label(theme: str, bilingual: bool = False, lexicon: Lexicon | None = None) -> str:
    """'Price / value' for charts, 'Price / value (价格)' in narrative."""
    if theme == UNCLASSIFIED:
        return "No theme found (未识别)" if bilingual else "No theme found"
    lex = lexicon or load_lexicon()
    en, zh = lex.labels.get(theme, (theme, theme))
    return f"{en} ({zh})" if bilingual else en


# --- Chinese segmentation -------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _tokenizer(lexicon_key: str):
    """One jieba tokenizer per lexicon, initialised once, its logging silenced, lexicon terms added as words."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for term in sorted(load_lexicon(lexicon_key).zh):
        if len(term) > 1:
            tk.add_word(term)
    return tk


def warm_up() -> None:
    """Build the default lexicon's tokenizer now (jieba loads its dictionary, ~0.7 s): the batch's kernel zygote
    does this once for every kernel forked from it (:mod:`loyaltylab.zygote`)."""
    _tokenizer(str(LEXICON_PATH.resolve()))


def segment(text: str, lexicon_path: str | Path | None = None) -> list[tuple[str, int]]:
    """jieba tokens (default mode) of a text with their character offsets; whitespace dropped."""
    tk = _tokenizer(str(Path(lexicon_path or LEXICON_PATH).resolve()))
    return [(w, start) for w, start, _ in tk.tokenize(text) if w.strip()]


def _strip_modifiers(token: str, lexicon: Lexicon) -> str:
    """太慢了 → 慢: drop degree adverbs / negations in front and particles behind."""
    changed = True
    while changed and len(token) > 1:
        changed = False
        for p in lexicon.zh_prefixes:
            if token.startswith(p) and len(token) > len(p):
                token, changed = token[len(p):], True
                break
        for s in lexicon.zh_suffixes:
            if token.endswith(s) and len(token) > len(s):
                token, changed = token[: -len(s)], True
                break
    return token


def _chinese_matches(text: str, lexicon: Lexicon, lexicon_path: str) -> list[tuple[str, str, int, int]]:
    tokens = [(w, s) for w, s in segment(text, lexicon_path) if _CJK.search(w)]
    found = []
    for i, (tok, start) in enumerate(tokens):
        end = start + len(tok)
        stripped = _strip_modifiers(tok, lexicon)
        candidates = {(tok, start, end), (stripped, start, end)}  # 太慢了 → 慢 (single characters only so)
        # sub-words of a long token (as jieba's search mode does) and runs of 2–3 tokens: multi-character terms
        for size in (2, 3, 4):
            if len(tok) > size:
                candidates.update((tok[j:j + size], start + j, start + j + size) for j in range(len(tok) - size + 1))
        run = tok
        for nxt, nstart in tokens[i + 1:i + 3]:
            if nstart != start + len(run):
                break
            run += nxt
            candidates.add((run, start, start + len(run)))
        for term, s0, s1 in candidates:
            theme = lexicon.zh.get(term)
            if theme is not None and (len(term) > 1 or term in (tok, stripped)):
                found.append((theme, term, s0, s1))
    return found


def _english_matches(text: str, lexicon: Lexicon) -> list[tuple[str, str, int, int]]:
    words = [(m.group(), m.start(), m.end()) for m in _EN_WORD.finditer(text.lower())]
    stems = [stem(w) for w, _, _ in words]
    found = []
    for i in range(len(words)):
        for size in range(1, lexicon.max_en_words + 1):
            key = tuple(stems[i:i + size])
            if len(key) < size:
                break
            theme = lexicon.en.get(key)
            if theme is not None:
                found.append((theme, " ".join(key), words[i][1], words[i + size - 1][2]))
    return found


def _longest_matches(found: list[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    """Drop a match lying inside a longer one (等候区 is a place, not 等候 waiting; 个人信息 is privacy)."""
    keep = []
    for m in found:
        inside = any(o is not m and o[2] <= m[2] and m[3] <= o[3] and (o[3] - o[2] > m[3] - m[2]
                     or (o[3] - o[2] == m[3] - m[2] and len(o[1]) > len(m[1]))) for o in found)
        if not inside:
            keep.append(m)
    return keep


def matches(text: str, lexicon_path: str | Path | None = None) -> list[tuple[str, str, int, int]]:
    """(theme, term, start, end) for every lexicon term found in ``text``, longest matches only."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return []
    text = str(text)
    key = str(Path(lexicon_path or LEXICON_PATH).resolve())
    lexicon = load_lexicon(key)
    found = _english_matches(text, lexicon)
    if _CJK.search(text):
        found += _chinese_matches(text, lexicon, key)
    return sorted(set(_longest_matches(found)), key=lambda m: (m[2], m[3], m[1]))


def classify_text(text: str, lexicon_path: str | Path | None = None) -> tuple[str | None, tuple[str, ...]]:
    """(primary theme or None, all themes found — primary first)."""
    found = matches(text, lexicon_path)
    if not found:
        return None, ()
    lexicon = load_lexicon(lexicon_path)
    terms: dict[str, set] = {}
    first: dict[str, int] = {}
    for theme, term, pos, _ in found:
        terms.setdefault(theme, set()).add(term)
        first[theme] = min(pos, first.get(theme, pos))
    order = sorted(terms, key=lambda t: (-len(terms[t]), first[t], lexicon.themes.index(t)))
    return order[0], tuple(order)


def assign(texts: Iterable, lexicon_path: str | Path | None = None) -> pd.DataFrame:
    """Themes of each comment: ``theme`` (primary, missing when none found), ``themes`` ('a;b'), ``n_themes`` and
    one boolean column per lexicon theme. Index follows ``texts`` (a Series keeps its index)."""
    s = texts if isinstance(texts, pd.Series) else pd.Series(list(texts))
    lexicon = load_lexicon(lexicon_path)
    values = s.astype("object").where(s.notna(), None)
    values = values.map(lambda v: None if v is None or not str(v).strip() else str(v))
    unique = pd.unique(values.dropna())
    done = {text: classify_text(text, lexicon_path) for text in unique}
    primary = values.map(lambda v: done[v][0] if v is not None else None)
    every = values.map(lambda v: done[v][1] if v is not None else ())
    out = pd.DataFrame({"theme": primary.astype("object"), "themes": every.map(";".join)}, index=s.index)
    out["n_themes"] = every.map(len).astype("int64")
    for theme in lexicon.themes:
        out[theme] = every.map(lambda ts, t=theme: t in ts).astype(bool)
    out["has_comment"] = values.notna().to_numpy()
    return out


# --- checking against known themes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Accuracy:
    """Agreement of the primary theme with known themes (e.g. the course data's ``truth.json``)."""

    n: int
    accuracy: float
    coverage: float
    accuracy_classified: float
    by_theme: pd.DataFrame
    confusion: pd.DataFrame


def accuracy(predicted: pd.Series, truth: pd.Series) -> Accuracy:
    """Compare primary themes with true themes over the index both share (unclassified counts as wrong).

    ``by_theme``: per true theme, n, recall, and precision of the predicted theme; ``confusion``: counts,
    true themes in rows, predicted in columns.
    """
    both = pd.DataFrame({"pred": predicted, "true": truth}).dropna(subset=["true"])
    if both.empty:
        raise ValueError("no comment has a known theme to compare with")
    pred = both["pred"].fillna(UNCLASSIFIED).astype(str)
    true = both["true"].astype(str)
    hit = (pred == true).to_numpy()
    classified = (pred != UNCLASSIFIED).to_numpy()
    themes = sorted(set(true))
    rows = []
    for t in themes:
        is_t, pred_t = (true == t).to_numpy(), (pred == t).to_numpy()
        rows.append({"theme": t, "n": int(is_t.sum()), "recall": float(hit[is_t].mean()) if is_t.any() else np.nan,
                     "precision": float(hit[pred_t].mean()) if pred_t.any() else np.nan})
    confusion = pd.crosstab(true, pred).sort_index()
    return Accuracy(
        n=len(both),
        accuracy=float(hit.mean()),
        coverage=float(classified.mean()),
        accuracy_classified=float(hit[classified].mean()) if classified.any() else np.nan,
        by_theme=pd.DataFrame(rows),
        confusion=confusion,
    )
