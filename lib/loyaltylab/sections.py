"""Sections a report leaves out when they do not apply, marked by cell tags in the notebooks:

* ``course-only``: course framing (the course's benchmarks and claims, the comparison with the truth) — kept only
  when results.json says the inputs are the course data (``course_data``);
* ``interactive-only``: the JupyterLab explorer — a static report has no widgets, so the heading and its text go;
* ``exercises`` / ``exercise`` / ``solution``: the teaching edition's exercises (``make student``) — in Lab they
  stay; a report is for its readers, not an answer key;
* ``lang-en`` / ``lang-zh``: narrative in one language (:mod:`loyaltylab.i18n`) — a report keeps the cells of the
  language it ran in (results.json ``language``; ``both`` keeps both); untagged cells serve every language.

Tag the heading cell and every cell of the section (markdown and code) so a report never shows an empty section.
"""
from __future__ import annotations

COURSE_ONLY = "course-only"
INTERACTIVE_ONLY = "interactive-only"
EXERCISE_TAGS = frozenset({"exercises", "exercise", "solution"})
LANGUAGE_TAGS = {"en": "lang-en", "zh": "lang-zh"}


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _failed(cell) -> bool:
    """A cell that raised stays, whatever its tags: the report must show where it failed."""
    return any(o.get("output_type") == "error" for o in cell.get("outputs", ())) or (
        cell.get("metadata", {}).get("papermill", {}).get("exception") is True)


def _results(results_path) -> dict:
    import json
    from pathlib import Path

    try:
        data = json.loads(Path(results_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def course_data_of(results_path) -> bool:
    """results.json's ``course_data`` (False when the file is missing or unreadable: no course framing)."""
    return _results(results_path).get("course_data") is True


def language_of(results_path, fallback: str | None = None) -> str:
    """The language the notebook ran in: results.json's ``language``, else ``fallback`` (the job's parameter),
    else English."""
    from loyaltylab import i18n

    for value in (_results(results_path).get("language"), fallback):
        try:
            return i18n.check(value)
        except Exception:  # noqa: BLE001 - a missing or odd value falls through to the next source
            continue
    return i18n.DEFAULT


def drop_sections(nb, *, course_data: bool, interactive: bool = False, language: str = "en") -> int:
    """Remove the cells that do not apply to this run from ``nb`` (in place); returns how many were removed."""
    gone = set() if interactive else {INTERACTIVE_ONLY, *EXERCISE_TAGS}
    if not course_data:
        gone.add(COURSE_ONLY)
    gone.update(tag for lang, tag in LANGUAGE_TAGS.items() if language not in (lang, "both"))
    keep = [c for c in nb.cells if not gone & set(tags(c)) or _failed(c)]
    removed = len(nb.cells) - len(keep)
    nb.cells = _chinese_first(keep) if language == "both" else keep
    return removed


def _chinese_first(cells: list) -> list:
    """In a two-language report each Chinese cell comes before its English twin, as every sentence the library
    writes does (:func:`loyaltylab.i18n.t`); in the notebook itself the English cell comes first."""
    out = list(cells)
    i = 0
    while i + 1 < len(out):
        if "lang-en" in tags(out[i]) and "lang-zh" in tags(out[i + 1]):
            out[i], out[i + 1] = out[i + 1], out[i]
            i += 2
        else:
            i += 1
    return out
