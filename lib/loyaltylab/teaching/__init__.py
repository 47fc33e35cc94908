"""The teaching edition: checked exercises in the notebooks, student notebooks with one course world per student,
answer keys and grading — from the same notebooks, with no copies to keep in sync.

- :mod:`.exercises`: the registry (prompt, expected answer from the student's data, tolerance, hint, solution);
- :func:`check` / :func:`applies`: what a notebook calls (:mod:`.check`);
- :mod:`.student`: ``python -m loyaltylab student`` — student notebooks, datasets and answer keys;
- :mod:`.grade`: ``python -m loyaltylab grade`` — execute returned notebooks, write a grade table.

See docs/teaching.md.
"""
from __future__ import annotations

from .check import MIME, CheckResult, applies, check
from .context import NOTEBOOKS, Context, NotApplicable
from .exercises import EXERCISES, Exercise, for_notebook

__all__ = ["EXERCISES", "MIME", "NOTEBOOKS", "CheckResult", "Context", "Exercise", "NotApplicable", "applies", "check",
           "for_notebook"]
