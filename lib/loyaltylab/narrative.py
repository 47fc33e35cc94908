"""Sentences from data: escaping every data-derived value, and number formats for people.

Findings are Markdown that nbconvert renders to HTML. A segment value, a column or factor name, a cohort name is
user input: :func:`esc` makes it inert for both languages — HTML special characters become entities and every
other ASCII punctuation mark is backslash-escaped, so ``<img onerror=…>``, ``[x](javascript:…)``, a backtick, a
``|`` or ``https://…`` render as the literal text and never as markup, a link or a code span. Newlines become
spaces (a value cannot start a new Markdown block).
"""
from __future__ import annotations

import html
import math
import re
import string
from collections.abc import Iterable

_MARKDOWN_PUNCTUATION = "".join(c for c in string.punctuation if c not in "<>&\"'")
_MD_RE = re.compile("([" + re.escape(_MARKDOWN_PUNCTUATION) + "])")
_SPACE_RE = re.compile(r"\s+")
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


def esc(value: object) -> str:
    """A data-derived value as inert Markdown + HTML text (see the module docstring)."""
    text = "" if value is None else str(value)
    text = _SPACE_RE.sub(" ", _INVISIBLE_RE.sub("", text)).strip()
    return html.escape(_MD_RE.sub(r"\\\1", text), quote=True)


def esc_html(value: object) -> str:
    """A data-derived value inside raw HTML (tables, quote lists): entities only."""
    return html.escape("" if value is None else str(value), quote=True)


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def count(n) -> str:
    """A count as an integer with thousands separators: 14,027 (never 14027.000)."""
    return f"{int(round(float(n))):,}" if _finite(n) else "–"


def number(x, digits: int = 1) -> str:
    """A measurement: 0.62, 22.5; '–' when missing."""
    return f"{float(x):,.{digits}f}" if _finite(x) else "–"


def signed(x, digits: int = 1) -> str:
    """A difference with its sign: +3.2, −1.0, 0.0."""
    if not _finite(x):
        return "–"
    text = f"{float(x):+.{digits}f}"
    return "0." + "0" * digits if float(text) == 0 else text.replace("-", "−")


def percent(share, digits: int = 0) -> str:
    """A share 0–1 as a percentage: 0.234 → 23%."""
    return f"{100 * float(share):.{digits}f}%" if _finite(share) else "–"


def p_value(p) -> str:
    """'p < 0.001' or 'p = 0.034'."""
    if not _finite(p):
        return "p not available"
    return "p < 0.001" if float(p) < 0.001 else f"p = {float(p):.3f}"


def interval(low, high, confidence: float = 0.95, digits: int = 1) -> str:
    """'95% CI 20.8 to 24.2'."""
    return f"{confidence:.0%} CI {number(low, digits)} to {number(high, digits)}"


def duration(x, unit: str, digits: int = 0) -> str:
    """A time with its unit, or 'not reached' (a median survival that the data never reach)."""
    return f"{float(x):,.{digits}f} {unit}" if _finite(x) else "not reached"


def join_words(items: Iterable[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if len(items) <= 2:
        return f" {last} ".join(items)
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def findings_markdown(lines: Iterable[str], title: str = "Key findings") -> str:
    """A bulleted block of sentences (already built with :func:`esc` for every data-derived value)."""
    body = "\n".join(f"- {line}" for line in lines)
    return f"### {title}\n\n{body}\n" if title else f"{body}\n"
