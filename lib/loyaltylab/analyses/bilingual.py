"""Sentences made while an analysis runs (notes, where the data came from) and shown later: kept in both languages,
so a ``both`` report shows each language's sentence inside that language's paragraph, never the pair nested in
the other (a note made in ``both`` and quoted in a ``both`` sentence would read Chinese, English, then both again)."""
from __future__ import annotations

from loyaltylab import i18n


class Both(str):
    """A sentence in English and Chinese: reads as the language current when it was made (so code that treats it as
    text is unchanged); :func:`said` gives it in the language current when it is shown. ``+`` joins both sides."""

    def __new__(cls, en: str, zh: str):
        made = super().__new__(cls, i18n.t(en, zh))
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
    return i18n.t(text.en, text.zh) if isinstance(text, Both) else text


def english(text) -> str:
    """The English of a :class:`Both` sentence (for the English side of ``i18n.t``); any other text as it is."""
    return text.en if isinstance(text, Both) else text


def chinese(text) -> str:
    """The Chinese of a :class:`Both` sentence (for the Chinese side of ``i18n.t``); any other text as it is."""
    return text.zh if isinstance(text, Both) else text
