"""``check("nps_margin", answer)``: what a student calls in a notebook.

It finds the student's data (the notebook's ``result`` in the kernel, or the data its parameters name), computes the
correct answer there with the library, compares, and says in Chinese and English what it checked, against what and
with which tolerance — then ✓, or ✗ with a hint that never contains the answer. A wrong type, a missing answer, an
unknown exercise or data the exercise does not fit each get a sentence, never a traceback.

The returned :class:`CheckResult` shows itself in Jupyter (text, HTML) and carries a small JSON record under
:data:`MIME`, which the grader reads from the executed notebook; nothing is written to disk.
"""
from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass

from . import context as contexts
from .answers import AnswerError
from .context import Context, NotApplicable
from .exercises import EXERCISES, Exercise

MIME = "application/vnd.loyaltylab.check"
"""The output type of a check's record in an executed notebook (what :mod:`loyaltylab.teaching.grade` reads): the
record as JSON text — text, like every other output a report or test reads, not a nested JSON object."""

STATUSES = ("correct", "wrong", "unanswered", "invalid", "unchecked", "unknown")


@dataclass(frozen=True)
class CheckResult:
    """One check: ``status`` (one of :data:`STATUSES`), the student's answer as a plain value, and the message."""

    exercise: str
    notebook: str | None
    status: str
    answer: object
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def record(self) -> dict:
        return {"exercise": self.exercise, "notebook": self.notebook, "status": self.status,
                "correct": self.correct, "answer": self.answer}

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        colour = {"correct": "#1b7f3b", "wrong": "#b00020"}.get(self.status, "#8a6d00")
        lines = [html.escape(line) for line in self.message.splitlines()]
        head = f'<strong style="color:{colour}">{lines[0]}</strong>' if lines else ""
        return f'<div class="loyaltylab-check">{"<br>".join([head, *lines[1:]])}</div>'

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/plain": self.message, "text/html": self._repr_html_(),
                MIME: json.dumps(self.record(), ensure_ascii=False, sort_keys=True)}


def _kernel_namespace() -> dict | None:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "user_ns", None)


def _context(ex: Exercise, context: Context | None, namespace: Mapping | None) -> Context:
    if context is not None:
        return context
    ns = namespace if namespace is not None else _kernel_namespace()
    if ns is None:
        raise NotApplicable("不在笔记本里：请在 Jupyter 中运行，或传入 context=",
                            "not inside a notebook: run it in Jupyter, or pass context=")
    return contexts.from_namespace(ex.notebook, ns)


def _title(ex: Exercise | None, exercise_id: str) -> str:
    return f"{exercise_id}" if ex is None else f"{ex.id} · {ex.title_zh} / {ex.title_en}"


def _checked(ex: Exercise, ctx: Context, shown: str) -> list[str]:
    tol_zh, tol_en = ex.tolerance()
    where_zh, where_en = ctx.where()
    return [f"检查内容：{ex.checked_zh}（{where_zh}），你的答案 {shown}，容差：{tol_zh}。",
            f"Checked: {ex.checked_en} ({where_en}); your answer {shown}; tolerance: {tol_en}."]


def _result(ex: Exercise | None, exercise_id: str, status: str, answer, lines: list[str]) -> CheckResult:
    head = {"correct": "✓ 正确 / Correct", "wrong": "✗ 还不对 / Not yet", "unanswered": "… 还没有作答 / Not answered yet",
            "invalid": "✗ 答案格式不对 / Wrong kind of answer", "unchecked": "? 无法检查 / Cannot check",
            "unknown": "? 没有这道练习 / No such exercise"}[status]
    message = "\n".join([f"{head} — {_title(ex, exercise_id)}", *lines])
    return CheckResult(exercise_id, ex.notebook if ex else None, status, answer, message)


def check(exercise_id, answer, *, context: Context | None = None, namespace: Mapping | None = None) -> CheckResult:
    """Check a student's ``answer`` to exercise ``exercise_id`` against their own data (see the module docstring).

    ``context``: an explicit :class:`~loyaltylab.teaching.context.Context` (outside Jupyter); ``namespace``: the
    notebook's globals (default: the running kernel's)."""
    ex = EXERCISES.get(exercise_id) if isinstance(exercise_id, str) else None
    if ex is None:
        known = ", ".join(EXERCISES)
        return _result(None, str(exercise_id), "unknown", None,
                       [f"没有编号为 {exercise_id!r} 的练习。已有：{known}",
                        f"There is no exercise {exercise_id!r}. Known: {known}"])
    try:
        ctx = _context(ex, context, namespace)
        expected = ex.expected_value(ctx)
    except NotApplicable as exc:
        return _result(ex, ex.id, "unchecked", None, [f"原因：{exc.zh}。", f"Reason: {exc.en}."])
    except Exception as exc:  # a check never ends in a traceback; the one line says what went wrong
        line = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        return _result(ex, ex.id, "unchecked", None, [f"计算正确答案时出错：{line}", f"Computing the answer failed: {line}"])
    if answer is Ellipsis or answer is None:
        return _result(ex, ex.id, "unanswered", None,
                       ["把 `...` 换成你的答案，再运行这个单元格。", "Replace `...` with your answer and run the cell again."])
    try:
        given = ex.normalise(answer, ctx)
    except AnswerError as exc:
        return _result(ex, ex.id, "invalid", None, [exc.zh, exc.en])
    shown = ex.answer.show(given)
    lines = _checked(ex, ctx, shown)
    if ex.answer.matches(given, expected):
        return _result(ex, ex.id, "correct", given, lines)
    return _result(ex, ex.id, "wrong", given, [*lines, f"提示：{ex.hint_zh}", f"Hint: {ex.hint_en}"])


def applies(exercise_id: str, *, context: Context | None = None, namespace: Mapping | None = None) -> bool:
    """True when exercise ``exercise_id`` can be checked on this notebook's data: the guard of a reference solution,
    so that the course's solutions do not run (and cannot fail) on a user's own data. Silent: the ``check`` that
    follows says why not."""
    ex = EXERCISES.get(exercise_id)
    if ex is None:
        return False
    try:
        ex.expected_value(_context(ex, context, namespace))
    except Exception:  # NotApplicable or anything else: the check after it states the reason in one line
        return False
    return True
