"""Sections a report leaves out when they do not apply, marked by cell tags in the notebooks:

* ``course-only``: course framing (the course's benchmarks and claims, the comparison with the truth) — kept only
  when results.json says the inputs are the course data (``course_data``);
* ``interactive-only``: the JupyterLab explorer — a static report has no widgets, so the heading and its text go;
* ``exercises`` / ``exercise`` / ``solution``: the teaching edition's exercises (``make student``) — in Lab they
  stay; a report is for its readers, not an answer key.

Tag the heading cell and every cell of the section (markdown and code) so a report never shows an empty section.
"""
from __future__ import annotations

COURSE_ONLY = "course-only"
INTERACTIVE_ONLY = "interactive-only"
EXERCISE_TAGS = frozenset({"exercises", "exercise", "solution"})


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _failed(cell) -> bool:
    """A cell that raised stays, whatever its tags: the report must show where it failed."""
    return any(o.get("output_type") == "error" for o in cell.get("outputs", ())) or (
        cell.get("metadata", {}).get("papermill", {}).get("exception") is True)


def course_data_of(results_path) -> bool:
    """results.json's ``course_data`` (False when the file is missing or unreadable: no course framing)."""
    import json
    from pathlib import Path

    try:
        return json.loads(Path(results_path).read_text(encoding="utf-8")).get("course_data") is True
    except (OSError, ValueError, AttributeError):
        return False


def drop_sections(nb, *, course_data: bool, interactive: bool = False) -> int:
    """Remove the cells that do not apply to this run from ``nb`` (in place); returns how many were removed."""
    gone = set() if interactive else {INTERACTIVE_ONLY, *EXERCISE_TAGS}
    if not course_data:
        gone.add(COURSE_ONLY)
    keep = [c for c in nb.cells if not gone & set(tags(c)) or _failed(c)]
    removed = len(nb.cells) - len(keep)
    nb.cells = keep
    return removed
