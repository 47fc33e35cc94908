"""Display helpers shared by the notebooks: key findings, escaped quotes, tables with suppression marked."""
from __future__ import annotations

import html
from collections.abc import Iterable

import pandas as pd

from loyaltylab import i18n


def escape(text: object) -> str:
    """HTML-escape user text (comments, labels) before it reaches a report."""
    return html.escape("" if text is None else str(text), quote=True)


def findings_markdown(lines: Iterable[str], title: str = "Key findings") -> str:
    """A bulleted 'Key findings' block; the lines are computed in the notebook from the results. The title is in
    the notebook's language; a two-language line (``both``) keeps its line break inside its bullet."""
    body = "\n".join("- " + str(line).replace("\n", "  \n  ") for line in lines)
    title = i18n.word(title)
    return f"### {title}\n\n{body}\n" if title else f"{body}\n"


def show_findings(lines: Iterable[str], title: str = "Key findings"):
    from IPython.display import Markdown, display

    display(Markdown(findings_markdown(lines, title)))


def quotes_html(quotes: Iterable[str], max_chars: int = 240) -> str:
    """Verbatim comments as an escaped HTML list (never raw HTML from the data)."""
    items = []
    for q in quotes:
        q = "" if q is None else str(q)
        q = q if len(q) <= max_chars else q[: max_chars - 1] + "…"
        items.append(f"<li>{escape(q)}</li>")
    return '<ul class="quotes">' + "".join(items) + "</ul>"


def show_table(table: pd.DataFrame, caption: str | None = None, precision: int = 1):
    """Show a result table as a manager reads it (:func:`loyaltylab.display.for_people`); text is escaped."""
    from IPython.display import HTML, display

    from loyaltylab.display import for_people

    html_table = for_people(table, precision).to_html(index=False, escape=True)
    if caption:
        html_table = f"<p><strong>{escape(i18n.word(caption))}</strong></p>" + html_table
    display(HTML(html_table))

