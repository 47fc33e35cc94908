"""What promoters and detractors write: theme shares of the comments and representative quotes.

Themes come from :mod:`loyaltylab.themes` (the bilingual lexicon); a comment can mention several.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltylab import i18n, params, privacy
from loyaltylab import themes as th
from loyaltylab.constants import NPS_CATEGORIES
from loyaltylab.measures import category_codes
from loyaltylab.narrative import esc_html

CATEGORY_LABELS = {"promoter": "Promoters", "passive": "Passives", "detractor": "Detractors"}


def theme_shares(
    frame: pd.DataFrame, assigned: pd.DataFrame, *, score_col: str = "nps", min_cell: int = privacy.DEFAULT_MIN_CELL,
    hide: dict | None = None,
) -> pd.DataFrame:
    """Share of commenting promoters / detractors / everyone whose comment mentions each theme (a comment can
    mention several). Rows: the lexicon's themes plus 'unclassified'; a theme mentioned by fewer than ``min_cell``
    comments is suppressed (its count too), as is a share whose base (commenting promoters or detractors) is below
    ``min_cell``, and any promoter or detractor count below ``min_cell`` (blank with its share and the difference).
    No complementary suppression: themes overlap (a comment can mention several), so they do not partition a
    published total that a hidden cell could be recovered from. ``hide`` ({"n" / "n_promoters" / "n_detractors":
    {theme: True}}) hides further counts: what a fan-out part hides to protect the rest of its batch
    (:mod:`.linked`; the report on everyone publishes each theme's counts)."""
    min_cell = params.min_cell(min_cell)
    has = assigned["has_comment"].to_numpy(bool)
    codes = category_codes(frame[score_col])
    base = {k: int((has & (codes == k)).sum()) for k in (0, 2)}
    theme_names = [c for c in assigned.columns if c not in ("theme", "themes", "n_themes", "has_comment")]
    rows = []
    for theme in [*theme_names, th.UNCLASSIFIED]:
        named = assigned[theme].to_numpy(bool) if theme != th.UNCLASSIFIED else assigned["n_themes"].eq(0).to_numpy()
        mention = has & named
        n, n_p, n_d = int(mention.sum()), int((mention & (codes == 2)).sum()), int((mention & (codes == 0)).sum())
        rows.append({
            "theme": theme, "label": th.theme_label(theme), "n": n,
            "n_promoters": n_p, "share_promoters": 100 * n_p / base[2] if base[2] >= min_cell else np.nan,
            "n_detractors": n_d, "share_detractors": 100 * n_d / base[0] if base[0] >= min_cell else np.nan,
            "share_all": 100 * n / has.sum() if has.sum() else np.nan,
        })
    table = pd.DataFrame(rows)
    hide = hide or {}
    for who in ("promoters", "detractors"):
        small = (table[f"n_{who}"] < min_cell) | _linked(table, hide.get(f"n_{who}"))
        table[f"n_{who}"] = table[f"n_{who}"].astype("float64").mask(small)
        table[f"share_{who}"] = table[f"share_{who}"].mask(small)
    table["difference"] = table["share_promoters"] - table["share_detractors"]
    table = privacy.suppress(table, n_col="n", min_cell=min_cell, complementary=False, hide_counts=True,
                             value_cols=["n_promoters", "share_promoters", "n_detractors", "share_detractors",
                                         "share_all", "difference"], also_hide=_linked(table, hide.get("n")))
    for col in ("n", "n_promoters", "n_detractors"):
        table[col] = table[col].astype("Int64")
    table.attrs["commenting_promoters"], table.attrs["commenting_detractors"] = base[2], base[0]
    return table


def _linked(table: pd.DataFrame, hide: dict | None) -> np.ndarray:
    """The theme rows ``hide`` ({theme: bool}) marks."""
    return table["theme"].map(lambda t: bool((hide or {}).get(t, False))).to_numpy(bool)


def representative_quotes(
    frame: pd.DataFrame, assigned: pd.DataFrame, theme: str, *, comment_col: str = "comment",
    category: str | None = None, k: int = 2, score_col: str = "nps",
) -> list[str]:
    """Up to ``k`` comments whose primary theme is ``theme`` (optionally from one NPS category), chosen
    deterministically: single-theme comments first, then length closest to the typical (median) length, then text."""
    mask = (assigned["theme"] == theme).to_numpy()
    if category is not None:
        mask &= category_codes(frame[score_col]) == NPS_CATEGORIES.index(category)
    if not mask.any():
        return []
    cand = pd.DataFrame({"text": frame.loc[mask, comment_col].astype(str).str.strip(),
                         "n_themes": assigned.loc[mask, "n_themes"].to_numpy()})
    counts = cand.groupby("text", sort=True)["n_themes"].agg(["size", "min"]).reset_index()
    median_len = float(np.median(counts["text"].str.len()))
    counts["mixed"] = counts["min"] > 1
    counts["distance"] = (counts["text"].str.len() - median_len).abs()
    chosen = counts.sort_values(["mixed", "distance", "size", "text"], ascending=[True, True, False, True])
    return chosen["text"].head(k).tolist()


def quotes_table(
    frame: pd.DataFrame, assigned: pd.DataFrame, shares: pd.DataFrame, *, comment_col: str = "comment",
    k: int = 2, top: int = 3, score_col: str = "nps",
) -> pd.DataFrame:
    """Quotes for the ``top`` themes of detractors and of promoters (visible themes only): theme, category, quote."""
    rows = []
    visible = privacy.visible(shares)
    visible = visible[visible["theme"] != th.UNCLASSIFIED]
    for category, col in (("detractor", "share_detractors"), ("promoter", "share_promoters")):
        ranked = visible.dropna(subset=[col]).sort_values([col, "theme"], ascending=[False, True]).head(top)
        for theme in ranked["theme"]:
            for quote in representative_quotes(frame, assigned, theme, comment_col=comment_col, category=category,
                                               k=k, score_col=score_col):
                rows.append({"category": category, "theme": theme, "quote": quote})
    return pd.DataFrame(rows, columns=["category", "theme", "quote"])


def quotes_html(quotes: pd.DataFrame) -> str:
    """Quotes grouped by category and theme as escaped HTML (headings and text both escaped)."""
    from loyaltylab import notebook

    parts = []
    for (category, theme), group in quotes.groupby(["category", "theme"], sort=False):
        heading = i18n.t(f"{CATEGORY_LABELS[category]} — {th.theme_label(theme, bilingual=True)}",
                         f"{i18n.zh_of(CATEGORY_LABELS[category])} — {theme_zh(theme)}")
        parts.append(f"<p><strong>{esc_html(heading)}</strong></p>" + notebook.quotes_html(group["quote"]))
    return "".join(parts) or f"<p>{i18n.t('No comments to quote.', '没有可引用的评论。')}</p>"


def theme_zh(theme: str) -> str:
    """A theme's Chinese name from the lexicon."""
    if theme == th.UNCLASSIFIED:
        return "未识别主题"
    return th.load_lexicon().labels.get(theme, (theme, theme))[1]
