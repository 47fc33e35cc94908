"""The interactive view (JupyterLab): pick a segment the suppressed table shows and see its lifetime and value."""
from __future__ import annotations

import pandas as pd

from loyaltylab import i18n, privacy


def explorer_segments(result) -> list[str]:
    """The segments the view may offer: exactly those the suppressed value table shows."""
    if result.value is None:
        return []
    return [str(v) for v in privacy.visible(result.value.by_segment)["value"]]


def segment_view(result, segment: str) -> pd.DataFrame:
    """One visible segment's row of the value table (empty for a hidden or unknown segment)."""
    if result.value is None or segment not in explorer_segments(result):
        return pd.DataFrame()
    t = result.value.by_segment
    return t[t["value"].astype(str) == segment].drop(columns=["suppressed"])


def explorer(result):
    """A segment dropdown over :func:`segment_view` (ipywidgets)."""
    import ipywidgets as widgets

    from loyaltylab import notebook

    def show(segment):
        view = segment_view(result, segment)
        if len(view):
            notebook.show_table(view, precision=2)

    options = explorer_segments(result) or [i18n.word("(no visible segment)")]
    return widgets.interactive(show, segment=widgets.Dropdown(options=options, description=i18n.word("Segment")))
