"""Column names and model terms for the Chinese side of a sentence (``i18n.t(en, zh)``): Chinese whatever the
current language, so a ``both`` report's Chinese line reads exactly as the ``zh`` report's (``i18n.column`` adds
the English name in ``both``, which suits a label, not a sentence)."""
from __future__ import annotations

from loyaltylab import i18n


def column_zh(name) -> str:
    """A canonical course column in Chinese (``segment`` → 细分市场); a user's own column exactly as it is."""
    text = "" if name is None else str(name)
    return i18n.column_names().get(text, text)


def term_zh(name) -> str:
    """A model term in Chinese: ``segment[Standard]`` → 细分市场 = Standard, ``a:b`` → 'A × B'."""
    with i18n.language("zh"):
        return i18n.term(name)
