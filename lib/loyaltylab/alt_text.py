"""Alt text for every chart a notebook shows: the inline backend's display metadata gains ``alt`` (title, axes and
their labels, in words), which the report template writes into the image's ``alt`` attribute — so a screen reader,
or a reader whose images are blocked, learns what each chart is."""
from __future__ import annotations

import re

from loyaltylab import i18n


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("$", "")).strip()


def describe(fig) -> str:
    """'Chart: <title>. <panel title>: horizontal axis <x label>, vertical axis <y label>; …'."""
    parts = []
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    panels = []
    for ax in fig.axes:
        if not ax.get_visible() or (not ax.has_data() and not ax.get_title()):
            continue
        bits = []
        xlabel, ylabel = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
        if xlabel:
            bits.append(i18n.t(f"horizontal axis {xlabel}", f"横轴：{xlabel}"))
        if ylabel:
            bits.append(i18n.t(f"vertical axis {ylabel}", f"纵轴：{ylabel}"))
        name = _clean(ax.get_title())
        if name or bits:
            sep = "，" if i18n.current() == "zh" else ", "
            colon = "：" if i18n.current() == "zh" else ": "
            panels.append(f"{name}{colon}{sep.join(bits)}" if name and bits else name or sep.join(bits))
    if title:
        parts.append(_clean(title))
    parts.extend(panels)
    body = "; ".join(p for p in parts if p)
    return i18n.t(f"Chart: {body or 'figure'}.", f"图表：{body or '图'}。").replace("\n", " ")


def install() -> None:
    """Make the inline backend attach alt text to every figure it displays (idempotent; no-op outside IPython)."""
    try:
        from matplotlib_inline import backend_inline
    except ImportError:
        return
    original = backend_inline._fetch_figure_metadata
    if getattr(original, "_adds_alt_text", False):
        return

    def fetch_with_alt(fig):
        i18n.translate_figure(fig)
        meta = dict(original(fig) or {})
        meta["alt"] = describe(fig)
        return meta

    fetch_with_alt._adds_alt_text = True
    backend_inline._fetch_figure_metadata = fetch_with_alt
