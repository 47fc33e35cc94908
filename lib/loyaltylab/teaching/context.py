"""Where an exercise's expected answer comes from: the student's own dataset, through the notebook's own analysis.

In Jupyter the notebook has already computed ``result`` from its parameters; a check reuses it (and says so). When
the result is missing — the student jumped to the exercises — or outside a notebook (the answer-key builder, the
tests), the same analysis is run on the data the notebook's parameters name. Either way the expected answer is
computed by the library from the student's data at check time; no number is stored anywhere a student can see.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from loyaltylab import paths


class NotApplicable(Exception):
    """The exercise cannot be checked on this data or run (``zh`` and ``en`` say why, in one line each)."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(en)


def _setup_single(name: str) -> Callable[[Mapping], dict]:
    def setup(ns: Mapping) -> dict:
        module = import_module(f"loyaltylab.analyses.{name}")
        params = module.Params.from_namespace(ns)
        return {"params": params, "result": module.analyze(params)}
    return setup


def _setup_churn(ns: Mapping) -> dict:
    """As notebook 04's setup cell: the churn models, the CLV computed from them, attached to the result."""
    from loyaltylab.analyses import churn, clv

    params = churn.Params.from_namespace(ns)
    result = churn.analyze(params)
    value = clv.analyze(clv.Params.from_namespace(ns), churn_result=result)
    return {"params": params, "result": result.with_clv(value)}


@dataclass(frozen=True)
class NotebookSpec:
    """What a check needs to know about a notebook: its analysis, the parameter naming its main data file (and that
    file's table), and how the notebook computes ``result`` from its parameters."""

    key: str
    analysis: str
    data_param: str
    table: str
    setup: Callable[[Mapping], dict]

    @property
    def file(self) -> str:
        return f"{self.key}.ipynb"


NOTEBOOKS: dict[str, NotebookSpec] = {spec.key: spec for spec in (
    NotebookSpec("01_nps", "nps", "survey_path", "survey", _setup_single("nps")),
    NotebookSpec("02_service_quality", "servqual", "survey_path", "survey", _setup_single("servqual")),
    NotebookSpec("03_loyalty_drivers", "drivers", "survey_path", "survey", _setup_single("drivers")),
    NotebookSpec("04_churn_survival", "churn", "customers_path", "customers", _setup_churn),
    NotebookSpec("05_dual_proactivity_and_recovery", "dual_proactivity", "survey_path", "survey",
                 _setup_single("dual_proactivity")),
)}

DATA_FILES = {"survey_path": "survey.csv", "customers_path": "customers.csv", "incidents_path": "incidents.csv",
              "transactions_path": "transactions.csv"}
"""A notebook's data parameters and the course-world file each one names."""


@dataclass
class Context:
    """The student's run: the notebook's objects (``result``…), the dataset as the notebook names it, whether it is
    a course world (a truth.json beside it) and whether the objects came from the notebook or were recomputed."""

    notebook: str
    objects: dict
    source: str
    course: bool
    origin: str = "notebook"  # "notebook": the kernel's own result; "recomputed": run here from the parameters

    @property
    def result(self):
        return self.objects["result"]

    @property
    def params(self):
        return self.objects.get("params") or getattr(self.result, "params", None)

    def where(self) -> tuple[str, str]:
        """How the check found the data, for its message."""
        if self.origin == "notebook":
            return (f"数据：{self.source}，用本笔记本算出的结果", f"data: {self.source}, as this notebook computed it")
        return (f"数据：{self.source}，按本笔记本的参数重新计算", f"data: {self.source}, recomputed from this notebook's "
                "parameters")


def _data_file(spec: NotebookSpec, ns: Mapping) -> tuple[Path, str]:
    given = ns.get(spec.data_param)
    path = paths.resolve_input(given, spec.table)
    shown = str(given) if given not in (None, "") else paths.display_path(path)
    return path, shown


def _is_course(path: Path) -> bool:
    return paths.has_truth(path)


def spec_for(notebook: str) -> NotebookSpec:
    if notebook not in NOTEBOOKS:
        raise NotApplicable(f"未知的笔记本 {notebook}", f"unknown notebook {notebook}")
    return NOTEBOOKS[notebook]


def from_namespace(notebook: str, ns: Mapping, *, reuse: bool = True) -> Context:
    """The context in a notebook's namespace (Jupyter's ``globals()``): its ``result`` when it is this notebook's
    analysis, else the analysis run on the data the namespace's parameters name."""
    spec = spec_for(notebook)
    path, shown = _data_file(spec, ns)
    result = ns.get("result")
    if reuse and getattr(result, "analysis", None) == spec.analysis:
        return Context(notebook, {"result": result, "params": ns.get("params")}, shown, _is_course(path))
    if not path.exists():
        raise NotApplicable(f"找不到数据文件 {shown}：先运行笔记本开头的参数单元格。",
                            f"the data file {shown} was not found: run the notebook's parameters cell first.")
    try:
        objects = spec.setup(ns)
    except Exception as exc:  # the analysis' own one-line error (DataError, ParameterError) is the reason
        line = " ".join(str(exc).split())[:200]
        raise NotApplicable(f"无法在这份数据上运行分析：{line}", f"the analysis cannot run on this data: {line}") from None
    return Context(notebook, objects, shown, _is_course(path), origin="recomputed")


def from_parameters(notebook: str, parameters: Mapping, base_dir: str | os.PathLike) -> Context:
    """The context of a notebook run with ``parameters`` from ``base_dir`` (the notebook's folder: relative data
    paths are relative to it, as in Jupyter). What the answer-key builder uses."""
    base = Path(base_dir)
    ns = dict(parameters)
    for name in DATA_FILES:
        value = ns.get(name)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            ns[name] = str((base / value).resolve())
    context = from_namespace(notebook, ns, reuse=False)
    given = parameters.get(NOTEBOOKS[notebook].data_param)
    if isinstance(given, str) and given:
        context.source = given
    return context
