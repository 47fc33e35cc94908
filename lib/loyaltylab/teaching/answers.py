"""Kinds of answer an exercise takes: a number within a tolerance, yes/no, a three-way verdict, one name, a set of
names. Each kind turns what a student typed into one plain value (or says, in Chinese and English, what it needs),
compares it with the expected value and states its tolerance in words.

Students type answers many ways — ``"是"``, ``"Yes"``, ``np.True_``, ``"−38%"``, a one-row pandas Series — so each
kind accepts the spellings a course would, and refuses the rest with a message instead of a traceback.
"""
from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np


class AnswerError(ValueError):
    """An answer of the wrong form: ``zh`` and ``en`` say what was expected and what arrived."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(en)


def _unwrap(value):
    """A one-value pandas Series / numpy array becomes its value; a numpy scalar a Python one."""
    if hasattr(value, "iloc") and getattr(value, "size", None) == 1:
        value = value.to_numpy().reshape(-1)[0]
    elif isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, np.generic):
        value = value.item()
    return value


def _kind_words(value) -> tuple[str, str]:
    if isinstance(value, str):
        return "文本", "text"
    if isinstance(value, bool):
        return "True/False", "True/False"
    if isinstance(value, numbers.Number):
        return "数字", "a number"
    if hasattr(value, "iloc") or hasattr(value, "shape"):
        return f"{type(value).__name__}（{getattr(value, 'size', '?')} 个值）", \
            f"a {type(value).__name__} of {getattr(value, 'size', '?')} values"
    return type(value).__name__, type(value).__name__


def _short(value, width: int = 40) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


_WORD_RE = re.compile(r"[\s_\-·.。!！?？\"'“”‘’`]+")


def _key(text: str) -> str:
    """Case, spaces, underscores, hyphens, quotes and end punctuation do not matter when matching words."""
    return _WORD_RE.sub(" ", text.replace("’", "'").strip().lower()).strip()


@dataclass(frozen=True)
class Number:
    """A number, right within ``tolerance`` (absolute) or ``relative`` × the expected value, whichever is larger."""

    tolerance: float
    unit_zh: str = ""
    unit_en: str = ""
    relative: float = 0.0
    integer: bool = False
    kind: str = field(default="number", init=False)

    def words(self) -> tuple[str, str]:
        tol = f"{self.tolerance:g}"
        if self.tolerance == 0:
            zh, en = "必须完全相等", "exactly"
        else:
            zh, en = f"±{tol}{(' ' + self.unit_zh) if self.unit_zh else ''}", \
                f"±{tol}{(' ' + self.unit_en) if self.unit_en else ''}"
        if self.relative:
            share = f"{self.relative * 100:g}%"
            zh += f"（或期望值的 ±{share}，取较大者）"
            en += f" (or ±{share} of the expected value, whichever is larger)"
        return zh, en

    def normalise(self, value, options=None) -> float:
        value = _unwrap(value)
        if isinstance(value, bool):
            raise AnswerError("这里需要一个数字，而不是 True/False。", "This needs a number, not True/False.")
        if isinstance(value, str):
            text = value.strip().replace("−", "-").replace("，", "").replace(",", "").rstrip("%％").strip()
            try:
                value = float(text)
            except ValueError:
                raise AnswerError(f"这里需要一个数字（例如 3.2），收到的是文本 {_short(value)}。",
                                  f"This needs a number (e.g. 3.2); got the text {_short(value)}.") from None
        if not isinstance(value, numbers.Real):
            zh, en = _kind_words(value)
            raise AnswerError(f"这里需要一个数字（例如 3.2），收到的是 {zh}。",
                              f"This needs a number (e.g. 3.2); got {en}.")
        value = float(value)
        if not math.isfinite(value):
            raise AnswerError("答案不是有限的数字（NaN 或无穷大）：检查计算中是否有缺失值或除以 0。",
                              "The answer is not a finite number (NaN or infinity): check the calculation for "
                              "missing values or a division by 0.")
        return value

    def matches(self, given, expected) -> bool:
        if given is None or expected is None:
            return False
        allowed = max(self.tolerance, abs(float(expected)) * self.relative)
        return abs(float(given) - float(expected)) <= allowed + 1e-9

    def show(self, value) -> str:
        return "–" if value is None else f"{float(value):.6g}"

    def plain(self, value):
        return None if value is None else float(value)


_YES = {"yes", "y", "true", "t", "是", "是的", "对", "对的", "正确", "成立", "有", "holds", "hold"}
_NO = {"no", "n", "false", "f", "否", "不", "不是", "不对", "错", "错误", "不成立", "没有", "无"}
_CANT = {"can't tell", "cant tell", "cannot tell", "can not tell", "can't say", "cannot say", "unclear",
         "inconclusive", "don't know", "dont know", "not sure", "unknown", "不能确定", "无法确定", "无法判断",
         "不能判断", "说不清", "不确定", "不清楚", "无法判定", "不能下结论", "无法下结论"}
_YES, _NO, _CANT = ({_key(w) for w in words} for words in (_YES, _NO, _CANT))


@dataclass(frozen=True)
class YesNo:
    """True or False (``"yes"``/``"no"``, ``"是"``/``"否"`` too)."""

    kind: str = field(default="yes/no", init=False)

    def words(self) -> tuple[str, str]:
        return "是 / 否 必须一致", "yes / no must agree"

    def normalise(self, value, options=None) -> bool:
        value = _unwrap(value)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            key = _key(value)
            if key in _YES:
                return True
            if key in _NO:
                return False
        zh, en = _kind_words(value)
        raise AnswerError(f"这里需要 True 或 False（也可以写 \"是\" / \"否\"、\"yes\" / \"no\"），收到的是 {zh} "
                          f"{_short(value)}。",
                          f"This needs True or False (or \"yes\" / \"no\"); got {en} {_short(value)}.")

    def matches(self, given, expected) -> bool:
        return given is not None and expected is not None and bool(given) == bool(expected)

    def show(self, value) -> str:
        return "–" if value is None else ("是 / yes" if value else "否 / no")

    def plain(self, value):
        return None if value is None else bool(value)


VERDICTS = ("yes", "no", "can't tell")


@dataclass(frozen=True)
class Verdict:
    """A decision that may be undecided: ``"yes"``, ``"no"`` or ``"can't tell"`` (是 / 否 / 不能确定)."""

    kind: str = field(default="verdict", init=False)

    def words(self) -> tuple[str, str]:
        return "三选一（是 / 否 / 不能确定）必须一致", "one of yes / no / can't tell, which must agree"

    def normalise(self, value, options=None) -> str:
        value = _unwrap(value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, str):
            key = _key(value)
            if key in _YES:
                return "yes"
            if key in _NO:
                return "no"
            if key in _CANT:
                return "can't tell"
        zh, en = _kind_words(value)
        raise AnswerError(f"这里需要 \"yes\"、\"no\" 或 \"can't tell\"（也可以写 \"是\"、\"否\"、\"不能确定\"），收到的是 "
                          f"{zh} {_short(value)}。",
                          f"This needs \"yes\", \"no\" or \"can't tell\" (是 / 否 / 不能确定); got {en} "
                          f"{_short(value)}.")

    def matches(self, given, expected) -> bool:
        return given is not None and given == expected

    def show(self, value) -> str:
        return {"yes": "是 / yes", "no": "否 / no", "can't tell": "不能确定 / can't tell"}.get(value, "–")

    def plain(self, value):
        return value


def _option_index(options: Sequence[str], aliases: Mapping[str, str] | None) -> dict[str, str]:
    index = {_key(o): o for o in options}
    for alias, option in (aliases or {}).items():
        if option in options:
            index.setdefault(_key(alias), option)
    return index


def _names(options: Sequence[str]) -> str:
    return ", ".join(options)


@dataclass(frozen=True)
class Choice:
    """One name out of the options the data offer (e.g. the five dimensions), English or Chinese."""

    kind: str = field(default="choice", init=False)

    def words(self) -> tuple[str, str]:
        return "名称必须一致（不分大小写，中英文均可）", "the name must agree (any case, English or Chinese)"

    def normalise(self, value, options: Sequence[str] = (), aliases: Mapping[str, str] | None = None) -> str:
        value = _unwrap(value)
        if isinstance(value, (list, tuple, set)) and len(value) == 1:
            value = next(iter(value))
        if not isinstance(value, str):
            zh, en = _kind_words(value)
            raise AnswerError(f"这里需要一个名称（文本），可选：{_names(options)}；收到的是 {zh}。",
                              f"This needs one name (text), one of: {_names(options)}; got {en}.")
        found = _option_index(options, aliases).get(_key(value))
        if found is None:
            raise AnswerError(f"{_short(value)} 不在可选名称中：{_names(options)}。",
                              f"{_short(value)} is not one of the names: {_names(options)}.")
        return found

    def matches(self, given, expected) -> bool:
        return given is not None and expected is not None and given == expected

    def show(self, value) -> str:
        return "–" if value is None else str(value)

    def plain(self, value):
        return value


_NONE_WORDS = {_key(w) for w in ("none", "nothing", "no one", "没有", "无", "都没有", "一个也没有")}
_SPLIT_RE = re.compile(r"[,，、;；/]+|\s+and\s+|和")


@dataclass(frozen=True)
class ChoiceSet:
    """Several names out of the options (order does not matter); ``[]`` or ``"none"`` / ``"没有"`` for none."""

    kind: str = field(default="set", init=False)

    def words(self) -> tuple[str, str]:
        return "名单必须完全一致（顺序不限，中英文均可）", "the list must agree exactly (any order, English or Chinese)"

    def normalise(self, value, options: Sequence[str] = (), aliases: Mapping[str, str] | None = None) -> list[str]:
        if hasattr(value, "tolist") and not isinstance(value, str):
            value = value.tolist()
        if isinstance(value, str):
            value = [] if _key(value) in _NONE_WORDS or not value.strip() else [
                part for part in _SPLIT_RE.split(value) if part.strip()]
        if value is None or isinstance(value, (bool, numbers.Number)) or not isinstance(value, Iterable):
            zh, en = _kind_words(value)
            raise AnswerError(f"这里需要一个名称列表，例如 [\"A\", \"B\"]，没有就写 []；收到的是 {zh}。",
                              f"This needs a list of names, e.g. [\"A\", \"B\"], or [] for none; got {en}.")
        index = _option_index(options, aliases)
        out = []
        for item in value:
            item = _unwrap(item)
            found = index.get(_key(item)) if isinstance(item, str) else None
            if found is None:
                raise AnswerError(f"{_short(item)} 不在可选名称中：{_names(options)}。",
                                  f"{_short(item)} is not one of the names: {_names(options)}.")
            out.append(found)
        return sorted(set(out))

    def matches(self, given, expected) -> bool:
        return given is not None and expected is not None and sorted(given) == sorted(expected)

    def show(self, value) -> str:
        if value is None:
            return "–"
        return "[" + ", ".join(value) + "]" if value else "[]（没有 / none）"

    def plain(self, value):
        return None if value is None else sorted(value)


Kind = Number | YesNo | Verdict | Choice | ChoiceSet
