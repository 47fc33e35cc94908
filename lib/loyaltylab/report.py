"""The batch runner: notebooks → executed notebooks, HTML reports, ``index.html`` and ``manifest.json``.

    python -m loyaltylab report                      # every job in reports.yml
    python -m loyaltylab report --only 01_nps -j 2   # a subset, two jobs at a time
    python -m loyaltylab report --notebook notebooks/01_nps.ipynb -p min_cell=10 -p "segment_cols=[segment]"

Per job the runner executes the notebook with papermill (``output_dir`` set to the job's folder, ``interactive``
set to False), exports HTML with nbconvert (code hidden unless ``--show-code``) and writes, under the output
folder, ``<job>/executed.ipynb``, ``<job>/report.html`` and the ``<job>/results.json`` the notebook wrote; then
``index.html`` (status, duration, headline numbers, links) and ``manifest.json`` (parameters, SHA-256 of every
input file, package versions, timings). A failing job does not stop the others, and neither does a job that cannot
start (its notebook or fan-out data is missing, a parameter is not the notebook's): it is listed as failed with the
reason. Only a malformed reports.yml stops the run before it starts (exit 2); otherwise the exit code is 1 when any
job failed. Reports are self-contained: no script or style sheet is fetched from the network when one is opened.
The reports.yml format is documented at the top of the project's reports.yml.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import datetime as dt
import functools
import html
import json
import os
import platform
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import yaml

from loyaltylab import i18n, kernels, outputs, paths
from loyaltylab.errors import ConfigError, DataError

DEFAULT_TIMEOUT = 1800.0  # seconds per cell; a course notebook needs a few
KERNEL_START_TIMEOUT = kernels.KERNEL_START_TIMEOUT
KERNEL_ARGUMENTS = kernels.KERNEL_ARGUMENTS
REPORT_HTML = "report.html"
EXECUTED_NOTEBOOK = "executed.ipynb"
RESULTS_JSON = "results.json"
INDEX_HTML = "index.html"
MANIFEST_JSON = "manifest.json"
MANIFEST_FORMAT = 1

RUNNER_PARAMETERS = ("output_dir", "interactive")  # set by the runner, never by the config
CONFIG_KEYS = ("defaults", "jobs")
DEFAULTS_KEYS = ("parameters",)
JOB_KEYS = ("name", "notebook", "parameters", "fan_out")
FAN_OUT_KEYS = ("column", "data")
DEFAULT_FAN_OUT_TABLE = "customers"  # fan_out without 'data' reads the course customers file
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
DISTRIBUTION = "loyaltylab"
MAX_HEADLINE = 8  # numbers per job on the index page; the rest stay in results.json
_UNKNOWN = object()  # a parameter default that is not a literal


# --------------------------------------------------------------------------------------------------------------
# Jobs and results


@dataclass
class Job:
    """One notebook run. ``folder`` is relative to the output folder; ``group`` is the config entry's name.
    ``problem`` (one line) marks a job that cannot run as configured: it is reported as failed, not executed."""

    name: str
    notebook: Path
    parameters: dict = field(default_factory=dict)
    folder: str = ""
    group: str = ""
    problem: str | None = None

    def __post_init__(self):
        self.notebook = Path(self.notebook)
        self.folder = self.folder or self.name
        self.group = self.group or self.name.split("/")[0]


@dataclass
class JobResult:
    name: str
    notebook: Path
    parameters: dict  # as injected, including output_dir and interactive
    status: str  # "ok" | "failed"
    error: str | None
    seconds: float
    out_dir: Path
    headline: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)  # display path -> sha256 (None if the file is missing)
    note: str | None = None  # e.g. "no results.json written"
    made_at: str | None = None  # when its outputs were moved into place
    title: str | None = None  # the report page's title (the notebook's heading and the part it covers)
    context: dict = field(default_factory=dict)  # what the index needs to word the headline (headline_context)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def report(self) -> Path:
        return self.out_dir / REPORT_HTML


# --------------------------------------------------------------------------------------------------------------
# Config


def load_config(path: str | os.PathLike, only: Sequence[str] | None = None, overrides: dict | None = None) -> list[Job]:
    """Read and validate reports.yml; return its jobs (fan-out expanded, config order). Long because it checks the
    file's structure in reading order, so each ConfigError can name where in the file it is.

    A malformed file (YAML, keys, names, value types) raises ConfigError. A job that is well-formed but cannot run
    (notebook missing or unreadable, a parameter the notebook does not have, fan-out data missing or without the
    column) comes back as one Job with ``problem`` set, so the other jobs still run. ``only`` selects jobs by config
    name (all of a fan-out) or by expanded name (``01_nps_by_region/north``); files (notebooks, fan-out data) are
    checked for the selected jobs only. ``overrides`` (from ``-p``) go on top of every job's parameters, for the
    notebooks that declare them.
    """
    path = Path(path)
    source = paths.display_path(path)
    if not path.is_file():
        raise ConfigError(source, "config file not found")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, f"not valid YAML: {where}{problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(source, "not UTF-8 text") from None
    base = path.resolve().parent

    if not isinstance(data, dict):
        raise ConfigError(source, "expected a mapping with 'jobs' (and optionally 'defaults') at the top")
    _check_keys(source, "top level", data, CONFIG_KEYS)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(source, "'defaults' must be a mapping")
    _check_keys(source, "'defaults'", defaults, DEFAULTS_KEYS)
    default_params = _resolve_path_parameters(_check_parameters(source, "'defaults'", defaults.get("parameters")), base)

    specs = data.get("jobs")
    if not isinstance(specs, list) or not specs:
        raise ConfigError(source, "'jobs' must be a non-empty list")
    seen: set[str] = set()
    entries = []
    for i, spec in enumerate(specs, start=1):
        if not isinstance(spec, dict):
            raise ConfigError(source, f"job #{i}: expected a mapping with 'name' and 'notebook'")
        name = spec.get("name")
        if not valid_job_name(name):
            raise ConfigError(
                source, f"job #{i}: 'name' must be letters, digits, '_', '-' or '.' (it names the folder; at most 100, "
                f"not {INDEX_HTML} or {MANIFEST_JSON}), got {_one_line(repr(name), 120)}"
            )
        where = f"job '{name}'"
        _check_keys(source, where, spec, JOB_KEYS)
        if name in seen:
            raise ConfigError(source, f"duplicate job name '{name}'")
        seen.add(name)
        notebook = spec.get("notebook")
        if not isinstance(notebook, str) or not notebook.strip():
            raise ConfigError(source, f"{where}: 'notebook' (a path to a .ipynb) is required")
        params = _resolve_path_parameters(_check_parameters(source, where, spec.get("parameters")), base)
        fan_out = spec.get("fan_out")
        if fan_out is not None:
            if not isinstance(fan_out, dict):
                raise ConfigError(source, f"{where}: 'fan_out' must be a mapping with 'column' (and optionally 'data')")
            _check_keys(source, f"{where} 'fan_out'", fan_out, FAN_OUT_KEYS)
            if not isinstance(fan_out.get("column"), str) or not fan_out["column"].strip():
                raise ConfigError(source, f"{where}: 'fan_out' needs 'column' (a string)")
            data = fan_out.get("data")
            if data is not None and (not isinstance(data, str) or not data.strip()):
                raise ConfigError(source, f"{where}: 'fan_out' needs 'data' to be a path (a string); leave it out "
                                  f"to use the course {DEFAULT_FAN_OUT_TABLE} file")
        entries.append((name, base / notebook, params, fan_out))

    selected = _select(source, entries, only)
    jobs: list[Job] = []
    broken: set[str] = set()
    for name, notebook, params, fan_out in entries:
        if name not in selected:
            continue
        try:
            jobs.extend(_expand_job(source, base, name, notebook, params, fan_out, default_params, overrides or {}))
        except DataError as exc:  # this job cannot run as written; the others still do
            broken.add(name)
            shown = _merge_parameters(default_params, params, overrides or {}, None, source, name)
            jobs.append(Job(name=name, notebook=notebook, parameters=shown, problem=_one_line(exc)))
    expanded, jobs = jobs, [j for j in jobs
                            if selected[j.group] is None or j.name in selected[j.group] or j.group in broken]
    wanted = {n for parts in selected.values() if parts for n in parts}
    missing = sorted(n for n in wanted - {j.name for j in jobs} if n.split("/")[0] not in broken)
    if missing:
        parts = ", ".join(j.name for j in expanded if j.group == missing[0].split("/")[0])
        raise ConfigError(source, f"--only {missing[0]}: no such fan-out part; parts are: {parts}")
    runnable = [j.notebook for j in jobs if j.problem is None]
    if overrides and runnable:
        _check_overrides_used(source, overrides, runnable)
    return jobs


def _expand_job(source: str, base: Path, name: str, notebook: Path, params: dict, fan_out: dict | None,
                default_params: dict, overrides: dict) -> list[Job]:
    """One config entry → its jobs (one, or one per fan-out value). Raises DataError when the job cannot run."""
    declared = _declared_parameters(source, name, notebook)
    merged = _merge_parameters(default_params, params, overrides, declared, source, name)
    if fan_out is None:
        return [Job(name=name, notebook=notebook, parameters=merged)]
    if declared is not None and "filters" not in declared:
        raise ConfigError(source, f"job '{name}': fan_out needs a 'filters' parameter in {notebook.name}")
    data = fan_out.get("data")
    data_path = base / Path(data).expanduser() if data else paths.course_file(DEFAULT_FAN_OUT_TABLE)
    jobs = []
    for value, slug in fan_out_values(data_path, fan_out["column"], job=name):
        child = dict(merged)
        child["filters"] = {**(merged.get("filters") or {}), fan_out["column"]: value}
        jobs.append(Job(name=f"{name}/{slug}", notebook=notebook, parameters=child, group=name))
    return jobs


def single_job(notebook: str | os.PathLike, parameters: dict | None = None, name: str | None = None) -> Job:
    """The job for ``--notebook X -p ...``: named after the notebook unless ``name`` is given."""
    nb_path = _resolve_cli_path(notebook)
    name = name or nb_path.stem
    if not valid_job_name(name):
        raise ConfigError("--name", f"must be letters, digits, '_', '-' or '.' (at most 100, not {INDEX_HTML} or "
                          f"{MANIFEST_JSON}), got {_one_line(repr(name), 120)}")
    parameters = dict(parameters or {})
    reserved = sorted(set(parameters) & set(RUNNER_PARAMETERS))
    if reserved:
        raise ConfigError("-p", f"{', '.join(reserved)} is set by the runner (use --out for the output folder)")
    declared = _declared_parameters("--notebook", name, nb_path)
    if declared is not None:
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise ConfigError(
                paths.display_path(nb_path),
                f"unknown parameter {', '.join(repr(u) for u in unknown)}; the notebook's parameters are: "
                f"{', '.join(declared)}",
            )
    return Job(name=name, notebook=nb_path, parameters=parameters)


def parse_assignments(items: Iterable[str] | None) -> dict:
    """``-p key=value`` pairs; values are YAML (``[a, b]``, ``10``, ``0.5``, ``null``, ``{region: North}``)."""
    out: dict = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ConfigError("-p", f"expected key=value with a Python name as key, got {item!r}")
        try:
            out[key] = _plain(load_yaml(raw), "-p", key) if raw.strip() else None
        except yaml.YAMLError:
            raise ConfigError("-p", f"{key}: value is not valid YAML: {raw!r} (quote strings with spaces or colons)") from None
    return out


def valid_job_name(name) -> bool:
    """A job name is a folder name: ASCII letters, digits, ``_ - .``, not one of the batch's own files."""
    return isinstance(name, str) and bool(NAME_RE.fullmatch(name)) and name.lower() not in (
        INDEX_HTML, MANIFEST_JSON, RESULTS_JSON, REPORT_HTML)


MAX_SLUG = 60
MAX_FAN_OUT = 200
"""More parts than this is no longer a breakdown of the data but a report per record."""
_ID_NAME = re.compile(r"(^|[^a-z])(id|ids|uuid|guid|key|number|no|编号|号码|账号|身份证)$|(?<=[a-z])id$|^id",
                      re.IGNORECASE)


def slugify(value: object) -> str:
    """A fan-out value as a folder name that depends on the value alone (never on which other values exist):
    lower case, runs of characters other than letters, digits, ``_ - .`` (CJK letters are letters) → ``-``.
    A value longer than 60 characters, or with no letter or digit, keeps a readable start and gets 6 characters
    of its SHA-256. Two values that would share a folder are refused by :func:`fan_out_values`."""
    import hashlib

    text = unicodedata.normalize("NFKC", str(value)).strip()
    readable = re.sub(r"[^\w.-]+", "-", text.lower()).strip("-.")
    if 0 < len(readable) <= MAX_SLUG:
        return readable
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    return f"{readable[:MAX_SLUG].strip('-.') or 'value'}-{digest}"


def fan_out_values(data_path: str | os.PathLike, column: str, job: str = "") -> list[tuple[object, str]]:
    """Distinct non-missing values of ``column`` in a data file, sorted, each with its folder slug.

    Refused in one line (naming no value): a column that looks like an identifier — its name (``customer_id``,
    ``ID``, ``编号``) or its values (more than half of the rows distinct, or more than 200 values) — since a part
    per value would publish a report per person; and two values whose folders would coincide (``North`` and
    ``north``)."""
    data_path = Path(data_path)
    source = paths.display_path(data_path)
    if not data_path.is_file():
        raise ConfigError(source, f"fan-out data file not found (job '{job}')")
    values, rows = _read_column(data_path, column, job)
    try:
        values = sorted(values)
    except TypeError:
        values = sorted(values, key=str)
    if not values:
        raise ConfigError(source, f"column '{column}': no values to fan out over (job '{job}')")
    if _ID_NAME.search(column.strip()) or len(values) > MAX_FAN_OUT or (len(values) > 10 and len(values) > rows / 2):
        raise ConfigError(source, f"column '{column}': {len(values):,} distinct values in {rows:,} rows looks like an "
                          f"identifier; a fan-out over it would publish a report per person (job '{job}'): choose a "
                          "grouping column such as region or segment")
    out, used = [], {}
    for value in values:
        slug = slugify(value)
        if slug in used:
            raise ConfigError(source, f"column '{column}': values {_one_line(repr(used[slug]), 40)} and "
                              f"{_one_line(repr(value), 40)} would share the folder '{slug}' (job '{job}'); make the "
                              "values distinct")
        used[slug] = value
        out.append((value, slug))
    return out


def _read_column(path: Path, column: str, job: str) -> tuple[list, int]:
    """Distinct values of ``column``, read exactly as the notebooks read files (:func:`loyaltylab.io.read_raw`:
    the same encodings, delimiters and missing-value tokens); text is stripped, blank values are skipped."""
    import pandas as pd

    from loyaltylab import io

    source = paths.display_path(path)
    try:
        frame = io.read_raw(path)
    except DataError as exc:
        prefix = f"{exc.source}: "
        text = str(exc)[len(prefix):] if str(exc).startswith(prefix) else str(exc)
        raise ConfigError(exc.source, f"{text} (fan-out data of job '{job}')") from None
    _check_column(source, column, [str(c) for c in frame.columns], job)
    series = frame[column].dropna()
    if series.dtype == object:
        series = series.map(lambda v: v.strip() if isinstance(v, str) else v)
        series = series[series.map(lambda v: not isinstance(v, str) or v != "")]
    return [v.item() if hasattr(v, "item") else v for v in pd.unique(series)], len(series)


def _check_column(source: str, column: str, names: list, job: str) -> None:
    if column not in names:
        shown = ", ".join(str(n) for n in names[:20]) + (", …" if len(names) > 20 else "")
        raise ConfigError(source, f"column '{column}': not found (fan-out of job '{job}'); columns are: {shown}")


def _check_keys(source: str, where: str, mapping: dict, allowed: Sequence[str]) -> None:
    unknown = [k for k in mapping if k not in allowed]
    if unknown:
        raise ConfigError(source, f"{where}: unknown key '{unknown[0]}' (expected {', '.join(allowed)})")


def _check_parameters(source: str, where: str, params) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ConfigError(source, f"{where}: 'parameters' must be a mapping of name: value")
    for key in params:
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(source, f"{where}: parameter name {key!r} is not a Python name")
        if key in RUNNER_PARAMETERS:
            raise ConfigError(source, f"{where}: '{key}' is set by the runner (use --out for the output folder)")
    if "filters" in params and not isinstance(params["filters"], dict | type(None)):
        raise ConfigError(source, f"{where}: 'filters' must be a mapping of column: value")
    return {key: _plain(value, source, key) for key, value in params.items()}


def _select(source: str, entries: list, only: Sequence[str] | None) -> dict[str, set[str] | None]:
    """Config name → None (run all of it) or the set of expanded names asked for."""
    names = [e[0] for e in entries]
    if not only:
        return dict.fromkeys(names)
    selected: dict[str, set[str] | None] = {}
    for item in only:
        group = item.split("/")[0]
        if group not in names:
            raise ConfigError(source, f"--only {item}: no such job; jobs are: {', '.join(names)}")
        if item == group:
            selected[group] = None
        elif selected.get(group, set()) is not None:
            selected.setdefault(group, set()).add(item)
    return selected


def _declared_parameters(source: str, job: str, notebook: Path) -> dict | None:
    """The notebook's parameters cell as {name: default}; None when it cannot be parsed (magics)."""
    if not notebook.is_file():
        raise ConfigError(source, f"job '{job}': notebook not found: {paths.display_path(notebook)}")
    return notebook_parameters(notebook)


def notebook_parameters(notebook: str | os.PathLike) -> dict | None:
    """Names and literal defaults assigned in the cell tagged ``parameters`` (None if it is not plain Python)."""
    kernels.skip_iri_grammar()
    import nbformat

    notebook = Path(notebook)
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:  # nbformat raises several types for unreadable files
        raise ConfigError(paths.display_path(notebook), f"not a readable notebook: {_one_line(exc)}") from None
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                return None
            declared: dict = {}
            for node in tree.body:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                    node, ast.AnnAssign) else []
                value = getattr(node, "value", None)
                for target in targets:
                    if isinstance(target, ast.Name):
                        try:
                            declared[target.id] = ast.literal_eval(value) if value is not None else None
                        except ValueError:
                            declared[target.id] = _UNKNOWN
            return declared
    raise ConfigError(paths.display_path(notebook), "no code cell tagged 'parameters' (the runner injects values after it)")


def _merge_parameters(defaults: dict, params: dict, overrides: dict, declared: dict | None, source: str, job: str) -> dict:
    """defaults (where the notebook declares them) < job parameters < -p overrides; 'filters' dicts merge."""
    if declared is not None:
        unknown = sorted(set(params) - set(declared))
        if unknown:
            raise ConfigError(
                source, f"job '{job}': unknown parameter '{unknown[0]}'; the notebook's parameters are: {', '.join(declared)}"
            )

    def applies(key):
        return declared is None or key in declared

    merged: dict = {}
    for layer in ({k: v for k, v in defaults.items() if applies(k)}, params,
                  {k: v for k, v in overrides.items() if applies(k)}):
        for key, value in layer.items():
            if key == "filters" and isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def _check_overrides_used(source: str, overrides: dict, notebooks: list[Path]) -> None:
    declared = [notebook_parameters(nb) for nb in dict.fromkeys(notebooks)]
    if any(d is None for d in declared):
        return
    for key in overrides:
        if not any(key in d for d in declared):
            raise ConfigError("-p", f"'{key}' is not a parameter of any selected job's notebook")


def _resolve_path_parameters(params: dict, base: Path | None = None) -> dict:
    """``*_path`` parameters given as relative paths: against ``base`` (the config's folder), or for the command
    line against the working directory (else the project root). The kernel runs in the notebook's folder."""
    out = dict(params)
    for key, value in params.items():
        if key.endswith("_path") and isinstance(value, str) and value.strip() and not Path(value).expanduser().is_absolute():
            out[key] = str((base / value).resolve()) if base is not None else str(_resolve_cli_path(value))
    return out


def display_parameters(params: dict) -> dict:
    """Parameters as reports show them: output_dir and ``*_path`` values relative to the project root."""
    out = dict(params)
    for key, value in params.items():
        if (key == "output_dir" or key.endswith("_path")) and isinstance(value, str) and value:
            out[key] = paths.display_path(value)
    return out


MAX_PARAMETER_ITEMS = 10_000
"""Values (scalars, list items, mapping entries) in one parameter: far more than any analysis takes."""
MAX_YAML_NODES = 100_000
"""Nodes a YAML document may expand to through anchors and aliases (a 450-byte 'billion laughs' expands to 10⁹)."""


def _plain(value, source: str = "-p", name: str = "parameters"):
    """A parameter as a plain value — text, a whole or finite number, true/false, null, or lists and mappings of
    them — the only values that ever reach a kernel. Dates become ISO text; anything else (bytes from ``!!binary``,
    a set, NaN, a YAML tag) is a one-line ConfigError naming the parameter."""
    budget = [MAX_PARAMETER_ITEMS]

    def plain(v, where):
        budget[0] -= 1
        if budget[0] < 0:
            raise ConfigError(source, f"parameter '{name}': more than {MAX_PARAMETER_ITEMS:,} values")
        if v is None or isinstance(v, (bool, int, str)):
            return v
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise ConfigError(source, f"parameter '{where}': {v} is not a number a notebook can use")
            return v
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, dict):
            out = {}
            for k, item in v.items():
                if not isinstance(k, (str, int, float, bool)) and k is not None:
                    raise ConfigError(source, f"parameter '{where}': mapping keys must be text")
                out[str(k)] = plain(item, f"{where}.{k}")
            return out
        if isinstance(v, (list, tuple)):
            return [plain(item, f"{where}[{i}]") for i, item in enumerate(v)]
        raise ConfigError(source, f"parameter '{where}': a {type(v).__name__} value is not allowed; parameters are "
                          "text, numbers, true/false, null, or lists and mappings of them")

    return plain(value, name)


class _BoundedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses documents whose anchors and aliases expand to more than MAX_YAML_NODES nodes."""

    def compose_document(self):
        node = super().compose_document()
        sizes: dict[int, int] = {}

        def size(n) -> int:
            key = id(n)
            if key not in sizes:
                sizes[key] = 0  # a recursive alias counts once
                children = n.value if isinstance(n, yaml.SequenceNode) else [
                    x for pair in n.value for x in pair] if isinstance(n, yaml.MappingNode) else []
                sizes[key] = min(1 + sum(size(c) for c in children), MAX_YAML_NODES + 1)
            return sizes[key]

        if node is not None and size(node) > MAX_YAML_NODES:
            raise yaml.YAMLError(f"anchors and aliases expand to more than {MAX_YAML_NODES:,} values")
        return node


def load_yaml(text: str):
    """YAML as plain data, with alias expansion bounded (see :class:`_BoundedLoader`)."""
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 — a SafeLoader subclass


def _resolve_cli_path(path: str | os.PathLike) -> Path:
    """A path typed on the command line: relative to the working directory, else to the project root."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p.resolve()
    rooted = paths.project_root() / p
    return (rooted if rooted.exists() else p).resolve()


# --------------------------------------------------------------------------------------------------------------
# Running one notebook


def run_notebook(
    notebook: str | os.PathLike,
    parameters: dict | None,
    out_dir: str | os.PathLike,
    show_code: bool = False,
    *,
    name: str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    kernel_name: str = "python3",
    kernel_pool: kernels.KernelPool | None = None,
    next_notebook: str | os.PathLike | None = None,
) -> JobResult:
    """Execute ``notebook`` into ``out_dir`` (executed.ipynb, report.html, results.json). Never raises for a
    failing notebook: the result says ``failed`` with a one-line error, and report.html shows the failing cell.

    With a ``kernel_pool`` (the batch's) the notebook runs in the kernel the pool warmed up for it, the pool starts
    warming the kernel for ``next_notebook`` meanwhile, and this job's kernel shuts down in the background."""
    return _finish(_execute(notebook, parameters, out_dir, show_code, name=name, timeout=timeout,
                            kernel_name=kernel_name, kernel_pool=kernel_pool, next_notebook=next_notebook))


@dataclass
class _Executed:
    """A notebook run whose report is still to be written (:func:`_finish`)."""

    notebook: Path
    parameters: dict
    injected: dict
    out_dir: Path
    name: str
    show_code: bool
    error: str | None
    start: float


def _execute(notebook, parameters, out_dir, show_code=False, *, name=None, timeout=DEFAULT_TIMEOUT,
             kernel_name="python3", kernel_pool=None, next_notebook=None) -> _Executed:
    """The kernel part of :func:`run_notebook`: papermill writes executed.ipynb (and the notebook its results)."""
    notebook = Path(notebook).resolve()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (REPORT_HTML, EXECUTED_NOTEBOOK, RESULTS_JSON):
        (out_dir / stale).unlink(missing_ok=True)
    name = name or notebook.stem
    injected = {**(parameters or {}), "output_dir": str(out_dir), "interactive": False}
    executed = out_dir / EXECUTED_NOTEBOOK
    error = None
    _warm_up()  # imports outside the timing: seconds are the notebook's, not the first import's
    start = time.perf_counter()
    km = None
    try:
        import papermill as pm

        injected = {key: _plain(value, name, key) for key, value in injected.items()}
        if kernel_pool is not None and kernel_name == kernel_pool.kernel_name:
            km = kernel_pool.take(notebook)
            kernel_pool.prepare(next_notebook)
        with _kernel_environment() as kernel_config:
            pm.execute_notebook(
                str(notebook), str(executed), parameters=injected, kernel_name=kernel_name, language="python",
                cwd=str(notebook.parent), engine_name=_engine(), request_save_on_cell_execute=False,
                progress_bar=False, log_output=False, start_timeout=KERNEL_START_TIMEOUT,
                execution_timeout=timeout or None, config=kernel_config, partial_path=str(executed),
                **({"km": km} if km is not None else {}),
            )
    except Exception as exc:  # the notebook's error, a timeout, a dead kernel: all end up on the job's page
        error = _error_line(exc)
    finally:
        if km is not None:
            kernel_pool.release(km)
    return _Executed(notebook=notebook, parameters=dict(parameters or {}), injected=injected, out_dir=out_dir,
                     name=name, show_code=show_code, error=error, start=start)


def _finish(run: _Executed) -> JobResult:
    """The report part of :func:`run_notebook`: report.html, the results' headline, the input hashes."""
    out_dir, name, error, executed = run.out_dir, run.name, run.error, run.out_dir / EXECUTED_NOTEBOOK
    title = name
    try:
        if executed.exists():
            export_html(executed, out_dir / REPORT_HTML, show_code=run.show_code, title=name, error=error,
                        parameters=run.parameters)
            title = page_title(out_dir / REPORT_HTML) or name
        else:
            _write_text(out_dir / REPORT_HTML, _fallback_page(name, error or "the notebook was not executed"))
    except Exception as exc:
        error = error or f"report export failed: {_error_line(exc)}"
        _write_text(out_dir / REPORT_HTML, _fallback_page(name, error))
    results, note = _read_results(out_dir / RESULTS_JSON)
    inputs = input_hashes(results, dict(run.parameters), run.notebook)
    seconds = time.perf_counter() - run.start
    return JobResult(
        name=name, notebook=run.notebook, parameters=run.injected, status="failed" if error else "ok", error=error,
        seconds=seconds, out_dir=out_dir, headline=headline_from_results(results), inputs=inputs, note=note,
        title=title, context=headline_context(results),
    )


ENGINE = "loyaltylab"


@functools.lru_cache(maxsize=1)
def _engine() -> str:
    """papermill's nbclient engine, writing executed.ipynb once at the end rather than twice per cell (some 60
    writes of a growing notebook, ~0.5 s a job). A run that stops half-way (a cell timeout, a dead kernel: papermill
    raises before its final write) still leaves what ran, for the job's page."""
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.iorw import write_ipynb

    class LoyaltylabEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
            partial = kwargs.pop("partial_path", None)
            try:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            except BaseException:
                if partial:
                    write_ipynb(nb_man.nb, partial)
                raise

    papermill_engines.register(ENGINE, LoyaltylabEngine)  # idempotent
    return ENGINE


_TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def page_title(report_html: str | os.PathLike) -> str:
    """The ``<title>`` of a report page, as text ("" if it has none)."""
    try:
        with open(report_html, encoding="utf-8") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return ""
    m = _TITLE.search(head)
    return _one_line(html.unescape(m.group(1)), 200) if m else ""


def headline_from_results(results: dict | None) -> dict:
    """results.json's ``headline`` in display order: the labels of ``headline_order`` first (results.json keys are
    sorted, so the notebook says the order it wants), then any others alphabetically."""
    if not isinstance(results, dict) or not isinstance(results.get("headline"), dict):
        return {}
    return ordered_headline(results["headline"], results.get("headline_order"))


def ordered_headline(headline: dict, order=None) -> dict:
    order = order if isinstance(order, list) else []
    keys = [k for k in dict.fromkeys(order) if isinstance(k, str) and k in headline]
    keys += sorted((k for k in headline if k not in keys), key=str)
    return {k: headline[k] for k in keys}


def _warm_up() -> None:
    kernels.skip_iri_grammar()
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401


@contextlib.contextmanager
def _kernel_environment():
    """Kernel settings for one run, yielded as a traitlets Config.

    On POSIX the kernel talks over Unix sockets in a private temporary folder rather than localhost TCP ports
    (nothing listens on the network; parallel jobs cannot collide). Windows keeps TCP. The kernel inherits our
    environment, and a non-inline MPLBACKEND (Agg in CI) would keep figures out of the HTML, so it is unset."""
    import tempfile

    from traitlets.config import Config

    saved = os.environ.get("MPLBACKEND")
    if saved is not None and "inline" not in saved:
        del os.environ["MPLBACKEND"]
    try:
        if os.name == "posix":
            with tempfile.TemporaryDirectory(prefix="loyaltylab-") as sockets:
                yield Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "kernel")},
                              "NotebookClient": {"extra_arguments": KERNEL_ARGUMENTS}})
        else:
            yield Config({"NotebookClient": {"extra_arguments": KERNEL_ARGUMENTS}})
    finally:
        if saved is not None:
            os.environ["MPLBACKEND"] = saved


def _error_line(exc: BaseException) -> str:
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:  # PapermillExecutionError: the exception raised inside the notebook
        text = f"{ename}: {evalue}" if evalue else str(ename)
    else:
        text = f"{type(exc).__name__}: {_one_line(exc)}" if str(exc) else type(exc).__name__
        text = text.split(". The message was:")[0]  # nbclient's timeout message goes on to quote the cell
    return _one_line(text)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(value: object, limit: int = 500) -> str:
    text = " ".join(_ANSI.sub("", str(value)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_results(path: Path) -> tuple[dict | None, str | None]:
    if not path.exists():
        return None, f"no {RESULTS_JSON} written"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"{RESULTS_JSON} is not valid JSON: {_one_line(exc, 200)}"
    if not isinstance(data, dict):
        return None, f"{RESULTS_JSON} is not a JSON object"
    return data, None


def export_html(
    executed: str | os.PathLike,
    html_path: str | os.PathLike,
    show_code: bool = False,
    title: str | None = None,
    error: str | None = None,
    parameters: dict | None = None,
) -> Path:
    """nbconvert's lab template, images embedded. Hidden code keeps the failing cell's source and its traceback.
    The cells added here have fixed ids, so the same executed notebook gives the same page."""
    import nbformat

    from loyaltylab import sections

    executed, html_path = Path(executed), Path(html_path)
    nb = nbformat.read(executed, as_version=4)
    results_path = executed.parent / RESULTS_JSON
    language = sections.language_of(results_path, (parameters or {}).get("language"))
    sections.drop_sections(nb, course_data=sections.course_data_of(results_path), language=language)
    with i18n.language(language):
        return _export_kept(nb, executed, html_path, show_code, title, error, parameters)


def _export_kept(nb, executed: Path, html_path: Path, show_code: bool, title, error, parameters) -> Path:
    import nbformat

    papermill_marked = any("papermill-error-cell-tag" in c.get("metadata", {}).get("tags", []) for c in nb.cells)
    if error and not papermill_marked:  # a timeout or dead kernel leaves no error output: say it at the top
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(
            f'<div style="color:#b00020;font-weight:bold">{i18n.label("This report failed", "本报告运行失败")}: '
            f'{html.escape(error)}</div>',
            id="loyaltylab-failed"))
    for cell in nb.cells:  # warnings are for the analyst (executed.ipynb keeps them), not the manager's report
        if cell.cell_type == "code" and not show_code:
            cell.outputs = [o for o in cell.get("outputs", ()) if o.get("name") != "stderr"]
    if not show_code:
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            failed = any(o.get("output_type") == "error" for o in cell.get("outputs", ())) or (
                cell.get("metadata", {}).get("papermill", {}).get("exception") is True)
            if not failed:
                cell.metadata["transient"] = {"remove_source": True}
        if parameters:  # the injected-parameters cell is hidden, so say under the title what this run used
            at = next((i for i, c in enumerate(nb.cells)
                       if "papermill-error-cell-tag" not in c.get("metadata", {}).get("tags", [])), len(nb.cells))
            while at < len(nb.cells) and nb.cells[at].cell_type == "markdown":  # the title, in each language
                at += 1
            nb.cells.insert(at, nbformat.v4.new_markdown_cell(_parameters_note(parameters), id="loyaltylab-parameters"))
    scope = part_label(parameters or {})
    if scope:  # a fan-out part says which part it covers, under the notebook's title
        at = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.lstrip().startswith(
            "# ")), None)
        if at is not None:
            nb.cells.insert(at + 1, nbformat.v4.new_markdown_cell(
                f'<h2 style="margin-top:0">{html.escape(scope)}</h2>', id="loyaltylab-part"))
    heading = notebook_title(nb)
    page_title = " — ".join(x for x in (heading, scope) if x) or title or executed.stem
    with _EXPORT_LOCK:
        body, _ = _html_exporter(show_code).from_notebook_node(nb, resources={"metadata": {"name": page_title}})
    _write_text(html_path, body)
    return html_path


_EXPORT_LOCK = threading.Lock()


@functools.lru_cache(maxsize=2)
def _html_exporter(show_code: bool):
    """One exporter per process and option: its Jinja templates compile once (a third of an export's time)
    rather than once per job."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab", embed_images=True,
        exclude_input_prompt=not show_code, exclude_output_prompt=not show_code,
        extra_loaders=[_offline_template_loader()], template_file=OFFLINE_TEMPLATE,
    )


OFFLINE_TEMPLATE = "loyaltylab_offline.html.j2"
# nbconvert's lab page, minus what it would fetch from a CDN when opened: require.js, MathJax (the notebooks write
# no TeX), mermaid.js and the ipywidgets renderer (reports are static; widgets fall back to their text form). Charts
# keep the alt text loyaltylab.alt_text attaches to them.
_OFFLINE_TEMPLATE_SOURCE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
{%- set alttext = output | get_metadata('alt', 'image/png') -%}
{%- if alttext is not none %} alt="{{ alttext | escape_html }}"{%- endif %}>
</div>
{%- endblock data_png -%}
"""


def _offline_template_loader():
    from jinja2 import DictLoader

    return DictLoader({OFFLINE_TEMPLATE: _OFFLINE_TEMPLATE_SOURCE})


def part_label(parameters: dict) -> str:
    """Which part of the data a report covers, in words: ``region: North`` (from its ``filters``)."""
    filters = parameters.get("filters") if isinstance(parameters, dict) else None
    if not isinstance(filters, dict) or not filters:
        return ""
    colon = "：" if i18n.current() == "zh" else ": "
    return "; ".join(f"{i18n.column(k)}{colon}{', '.join(map(str, v)) if isinstance(v, list) else v}"
                     for k, v in filters.items())


def notebook_title(nb) -> str:
    """The text of the notebook's first ``# `` heading (the report's page title)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return ""


def _parameters_note(parameters: dict) -> str:
    items = " ".join(
        f"<code>{html.escape(k)}={html.escape(json.dumps(v, ensure_ascii=False, default=str))}</code>"
        for k, v in sorted(display_parameters(parameters).items())
    )
    return f'<p style="color:#555;font-size:90%">{i18n.label("Parameters of this run", "本次运行的参数")}: {items}</p>'


def _fallback_page(name: str, error: str) -> str:
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(name)}</title></head><body>"
        f"<h1>{html.escape(name)}</h1><p style=\"color:#b00020\"><b>Failed:</b> {html.escape(error)}</p>"
        "</body></html>\n"
    )


# --------------------------------------------------------------------------------------------------------------
# Input files and their hashes



def input_files(results: dict | None, parameters: dict, notebook: Path) -> list[Path]:
    """The files a run read: results.json's ``inputs``; failing that, the ``*_path`` parameters (None → course data)."""
    named: list = []
    if isinstance(results, dict) and isinstance(results.get("inputs"), dict):
        for value in results["inputs"].values():
            named.extend(value if isinstance(value, list) else [value])
    else:
        try:
            declared = notebook_parameters(notebook) or {}
        except ConfigError:
            declared = {}
        for key in sorted(set(declared) | set(parameters)):
            if not key.endswith("_path"):
                continue
            value = parameters.get(key, declared.get(key))
            if value is _UNKNOWN:
                continue
            if value is None or value == "":
                table = key[: -len("_path")]
                if table in paths.TABLES:
                    named.append(paths.course_file(table))
            else:
                named.append(value)
    out = []
    for value in named:
        if isinstance(value, str | os.PathLike) and str(value):
            out.append(_resolve_input_path(Path(value), notebook))
    return out


def _resolve_input_path(p: Path, notebook: Path) -> Path:
    p = p.expanduser()
    if p.is_absolute():
        return p
    for base in (paths.project_root(), notebook.parent, Path.cwd()):
        if (base / p).exists():
            return base / p
    return paths.project_root() / p


def input_hashes(results: dict | None, parameters: dict, notebook: Path) -> dict[str, str | None]:
    hashes: dict[str, str | None] = {}
    for p in input_files(results, parameters, notebook):
        hashes[paths.display_path(p)] = paths.sha256_file(p) if p.is_file() else None
    return dict(sorted(hashes.items()))


# --------------------------------------------------------------------------------------------------------------
# Running many jobs


def _run_job(job: Job, out_root: Path, show_code: bool, timeout: float | None,
             kernel_pool: kernels.KernelPool | None = None, next_notebook: Path | None = None) -> JobResult:
    """Run one job in a scratch folder, then move its outputs into place (see :mod:`loyaltylab.outputs`)."""
    return _finish_job(*_start_job(job, out_root, show_code, timeout, kernel_pool, next_notebook))


def _start_job(job: Job, out_root: Path, show_code: bool, timeout: float | None,
               kernel_pool: kernels.KernelPool | None = None, next_notebook: Path | None = None):
    """The kernel part of a job, in its scratch folder: (job, out_root, the run or the failed result)."""
    built = outputs.scratch_folder(out_root) / "job"
    if job.problem is not None:
        return job, out_root, _not_runnable(job, built)
    return job, out_root, _execute(job.notebook, job.parameters, built, show_code, name=job.name, timeout=timeout,
                                   kernel_pool=kernel_pool, next_notebook=next_notebook)


def _finish_job(job: Job, out_root: Path, run: _Executed | JobResult) -> JobResult:
    """The report part of a job, then its outputs moved into place."""
    result = _finish(run) if isinstance(run, _Executed) else run
    final = out_root / job.folder
    result.made_at = outputs.install(result.out_dir, final)
    result.out_dir = final
    result.parameters = {**result.parameters, "output_dir": str(final)}
    return result


def _not_runnable(job: Job, out_dir: Path) -> JobResult:
    """A job the config cannot run: a failed result and a page saying why (stale outputs removed)."""
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (REPORT_HTML, EXECUTED_NOTEBOOK, RESULTS_JSON):
        (out_dir / stale).unlink(missing_ok=True)
    error = f"ConfigError: {job.problem}"
    _write_text(out_dir / REPORT_HTML, _fallback_page(job.name, error))
    injected = {**job.parameters, "output_dir": str(out_dir), "interactive": False}
    return JobResult(name=job.name, notebook=Path(job.notebook).resolve(), parameters=injected, status="failed",
                     error=error, seconds=0.0, out_dir=out_dir, note="not run: the job cannot start as configured")


def run_jobs(
    jobs: Sequence[Job],
    out_dir: str | os.PathLike,
    workers: int = 1,
    show_code: bool = False,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
    progress: Callable[[int, int, JobResult], None] | None = None,
    config: str | os.PathLike | None = None,
    write_index: bool = True,
    merge: bool = False,
) -> list[JobResult]:
    """Run ``jobs`` (``workers`` at a time, each in its own process and kernel); results come back in job order.

    Writes ``index.html`` and ``manifest.json`` into ``out_dir`` after every job unless ``write_index`` is False.
    The index keeps the rows of jobs not run this time whose reports still exist when ``merge`` is True (``--only``,
    one notebook); otherwise it lists exactly these jobs. A second run into the same folder is refused.

    Serially the jobs run in config order; with several workers the longest first (:func:`run_order`), while the
    index and manifest keep config order. Each job's kernel is started and warmed up while the job before it runs
    (:mod:`loyaltylab.kernels`), and input files validated by one job are reused by the others
    (:func:`loyaltylab.outputs.reused_in_batch`)."""
    out_root = Path(out_dir).resolve()
    progress = progress or (lambda i, n, r: None)
    results: list[JobResult | None] = [None] * len(jobs)
    start = time.perf_counter()
    workers = max(1, min(int(workers), len(jobs) or 1))
    pending = {job.name for job in jobs}
    with outputs.exclusive(out_root):
        previous = outputs.previous_jobs(out_root, MANIFEST_JSON)
        order = run_order(jobs, previous, workers)
        ahead = _next_notebooks(jobs, order, workers)

        def finished(i: int, done: int, result: JobResult) -> None:
            results[i] = result
            pending.discard(result.name)
            progress(done, len(jobs), result)
            if write_index:  # after every job: the index always describes the outputs on disk
                manifest = build_manifest(
                    [r for r in results if r is not None], out_root, time.perf_counter() - start, workers=workers,
                    show_code=show_code, config=config, previous=previous,
                    keep_previous=lambda name: merge or name in pending)
                write_manifest(manifest, out_root)
                write_index_html(manifest, out_root)

        with outputs.batch_cache(out_root) as cache:
            env = {outputs.BATCH_CACHE_ENV: str(cache)}
            if workers == 1:
                _run_serial(jobs, order, ahead, out_root, show_code, timeout, finished, env)
            else:
                _run_parallel(jobs, order, ahead, out_root, workers, show_code, timeout, finished, env)
    return [r for r in results if r is not None]


STATIC_SECONDS = {"04_churn_survival": 30.0, "05_dual_proactivity_and_recovery": 25.0, "03_loyalty_drivers": 20.0,
                  "02_service_quality": 15.0, "01_nps": 8.0, "00_data_overview": 6.0}
"""Rough seconds per course notebook on a 2-core machine: the order of the first run (no previous manifest)."""
DEFAULT_SECONDS = 10.0


def run_order(jobs: Sequence[Job], previous: Sequence[dict] = (), workers: int = 2) -> list[int]:
    """Positions of ``jobs`` in the order to start them. One worker: config order. Several: jobs that cannot
    start first (they take no time), then the longest first, so that the last job to finish is a short one. A
    job's cost is its time in the previous manifest, else the mean time of that notebook's jobs there, else
    :data:`STATIC_SECONDS` for its notebook (churn and dual proactivity first); ties keep config order."""
    if workers <= 1:
        return list(range(len(jobs)))
    seconds = {row.get("name"): row.get("seconds") for row in previous if isinstance(row, dict)}
    by_notebook: dict[str, list[float]] = {}
    for row in previous:
        if isinstance(row, dict) and isinstance(row.get("seconds"), int | float) and row.get("status") == "ok":
            by_notebook.setdefault(Path(str(row.get("notebook"))).stem, []).append(float(row["seconds"]))

    def cost(job: Job) -> float:
        if job.problem is not None:
            return float("inf")
        known = seconds.get(job.name)
        if isinstance(known, int | float) and known > 0:
            return float(known)
        same = by_notebook.get(job.notebook.stem)
        if same:
            return sum(same) / len(same)
        return STATIC_SECONDS.get(job.notebook.stem, DEFAULT_SECONDS)

    return sorted(range(len(jobs)), key=lambda i: -cost(jobs[i]))


def _next_notebooks(jobs: Sequence[Job], order: list[int], workers: int) -> dict[int, Path | None]:
    """For each job, the notebook whose kernel to warm up while it runs: that of the job its worker most likely
    runs next (``workers`` places later in the order; with one worker, the next runnable job); None at the end."""
    runnable = [i for i in order if jobs[i].problem is None]
    ahead: dict[int, Path | None] = dict.fromkeys(range(len(jobs)))
    for k, i in enumerate(runnable):
        later = k + workers
        ahead[i] = jobs[runnable[later]].notebook if later < len(runnable) else None
    return ahead


def _run_serial(jobs, order, ahead, out_root, show_code, timeout, finished, env) -> None:
    """One job at a time in the kernel, while the previous job's report is written in a thread (nbconvert, ~0.5 s
    a job) and the next job's kernel warms up (:class:`loyaltylab.kernels.KernelPool`)."""
    from concurrent.futures import ThreadPoolExecutor

    done = 0

    def report(i, started):
        nonlocal done
        result = _finish_job(*started)
        done += 1
        finished(i, done, result)

    with kernels.KernelPool(env) as pool, ThreadPoolExecutor(max_workers=1) as writer:
        pending = []
        try:
            for i in order:
                pending.append(writer.submit(report, i, _start_job(jobs[i], out_root, show_code, timeout, pool,
                                                                   ahead[i])))
        finally:
            for future in pending:
                future.result()


_WORKER_POOL: kernels.KernelPool | None = None


def _start_worker(env: dict[str, str], zygote_address: str | None = None) -> None:
    """A ``-j`` worker: runner imports done once, and its own kernel pool, closed when the worker exits."""
    import multiprocessing.util

    global _WORKER_POOL
    _warm_up()
    _WORKER_POOL = kernels.KernelPool(env, zygote_address=zygote_address)
    multiprocessing.util.Finalize(None, _WORKER_POOL.close, exitpriority=10)


def _run_job_in_worker(job: Job, out_root: Path, show_code: bool, timeout: float | None,
                       next_notebook: Path | None) -> JobResult:
    return _run_job(job, out_root, show_code, timeout, _WORKER_POOL, next_notebook)


def _run_parallel(jobs, order, ahead, out_root, workers, show_code, timeout, finished, env) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: a clean interpreter per worker (no forked zmq/asyncio state); each job starts its own kernel, forked
    # from one zygote shared by the workers (its imports paid once)
    shared = kernels.shared_zygote()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(env, shared.address if shared else None))
    try:
        futures = {pool.submit(_run_job_in_worker, jobs[i], out_root, show_code, timeout, ahead[i]): i for i in order}
        for done, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker process itself died
                job = jobs[i]
                result = JobResult(
                    name=job.name, notebook=job.notebook, parameters=job.parameters, status="failed",
                    error=f"runner: {_error_line(exc)}", seconds=0.0, out_dir=out_root / job.folder,
                )
            finished(i, done, result)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown()
    finally:
        if shared is not None:
            shared.close()


def print_progress(i: int, n: int, result: JobResult) -> None:
    status = "ok" if result.ok else "FAILED"
    line = f"[{i}/{n}] {result.name} {status} {result.seconds:.1f}s"
    if not result.ok:
        line += f": {result.error}"
    print(line, flush=True)


# --------------------------------------------------------------------------------------------------------------
# Manifest and index


def package_versions() -> dict[str, str | None]:
    """loyaltylab and every runtime dependency it declares (pyproject.toml, not the dev extras), each with the
    installed version (None if missing), plus python."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in (DISTRIBUTION, *dependency_names()):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    out["python"] = platform.python_version()
    return out


_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def dependency_names() -> list[str]:
    """The runtime requirements' names, in declaration order: from the installed distribution's metadata, else from
    the project's pyproject.toml (a checkout that was never installed)."""
    from importlib.metadata import PackageNotFoundError, requires

    try:
        specs = requires(DISTRIBUTION)
    except PackageNotFoundError:
        specs = None
    if specs is None:
        import tomllib

        pyproject = paths.project_root() / "pyproject.toml"
        try:
            specs = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
        except (OSError, KeyError, ValueError):
            specs = []
    names = []
    for spec in specs:
        requirement, _, marker = spec.partition(";")
        if "extra" in marker:  # optional extras (dev tools) are not what the reports ran on
            continue
        m = _REQUIREMENT_NAME.match(requirement)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    return names


def build_manifest(
    results: Sequence[JobResult], out_root: Path, total_seconds: float, *, workers: int = 1,
    show_code: bool = False, config: str | os.PathLike | None = None, previous: Sequence[dict] = (),
    keep_previous: Callable[[str], bool] = lambda name: False,
) -> dict:
    """Everything deterministic lives under ``jobs`` (minus each ``seconds``) and ``packages``; wall-clock facts
    live under ``run`` and in each job's ``seconds``. :func:`stable_manifest` strips them."""
    jobs = []
    for r in results:
        params = display_parameters(r.parameters)
        jobs.append({
            "name": r.name,
            "notebook": paths.display_path(r.notebook),
            "parameters": params,
            "status": r.status,
            "error": r.error,
            "note": r.note,
            "seconds": round(r.seconds, 2),
            "report": _relative_link(r.report, out_root),
            "headline": r.headline,
            "headline_order": list(r.headline),  # manifest.json sorts keys; this keeps the display order
            "inputs": r.inputs,
            "made_at": r.made_at,
            "title": r.title or r.name,
            "context": r.context,
        })
    jobs = outputs.merge_jobs(list(previous), jobs, keep_previous)
    n_failed = sum(job["status"] != "ok" for job in jobs)
    return {
        "format": MANIFEST_FORMAT,
        "summary": {"jobs": len(jobs), "ok": len(jobs) - n_failed, "failed": n_failed},
        "jobs": jobs,
        "packages": package_versions(),
        "run": {
            "generated_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "total_seconds": round(total_seconds, 2),
            "workers": workers,
            "show_code": show_code,
            "config": paths.display_path(config) if config else None,
        },
    }


def stable_manifest(manifest: dict) -> dict:
    """The manifest without wall-clock facts: identical for identical inputs, code and packages."""
    out = {k: v for k, v in manifest.items() if k != "run"}
    out["jobs"] = [{k: v for k, v in job.items() if k not in ("seconds", "made_at")} for job in manifest["jobs"]]
    return out


def write_manifest(manifest: dict, out_root: Path) -> Path:
    from loyaltylab.results import write_results

    return write_results(manifest, out_root, MANIFEST_JSON)


def _relative_link(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).resolve().as_uri()


def _fmt_number(value) -> str:
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "–"
        if value.is_integer() and abs(value) >= 100:
            return f"{int(value):,}"
        if abs(value) >= 10:
            return f"{value:,.1f}"
        if abs(value) >= 1 or value == 0:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return _one_line(value, 60)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","PingFang SC","Microsoft YaHei",sans-serif;
margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0;font-size:90%}
table{border-collapse:collapse;width:100%;margin:1rem 0} th,td{border-bottom:1px solid #ddd;padding:.45rem .6rem;
text-align:left;vertical-align:top} th{background:#f4f4f4} td.num{text-align:right;white-space:nowrap}
.ok{color:#1b7f3b;font-weight:600} .failed{color:#b00020;font-weight:600} tr.failed-row{background:#fdecee}
.error{color:#b00020;font-size:90%;margin-top:.2rem;word-break:break-word}
dl.headline{display:grid;grid-template-columns:auto auto;gap:0 .8rem;margin:0} dl.headline dt{color:#555}
dl.headline dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:85%}
pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
details{margin:.4rem 0} summary{cursor:pointer}
""".strip()


def _with_intervals(items: list[tuple], context: dict | None = None) -> list[tuple[str, str]]:
    """Headline numbers as text (:func:`say_headline`); a "CI low" / "CI high" pair joins the number before it:
    NPS 22.5 (20.8–24.2)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(items):
        key, value = items[i]
        low = items[i + 1] if i + 1 < len(items) and str(items[i + 1][0]).lower() == "ci low" else None
        high = items[i + 2] if low and i + 2 < len(items) and str(items[i + 2][0]).lower() == "ci high" else None
        label, text = say_headline(str(key), value, context)
        if low and high and low[1] is not None and high[1] is not None:
            a, b = _fmt_number(low[1]), _fmt_number(high[1])
            text += (i18n.label(f" ({a} to {b})", f"（{a} 至 {b}）") if a.startswith("-") or b.startswith("-")
                     else f" ({a}–{b})")
            i += 2
        out.append((label, text))
        i += 1
    return out


def headline_context(results: dict | None) -> dict:
    """What the index needs beside a job's headline numbers to say them in words: the analysis, its time unit and
    warning horizon (churn), and the period its data cover (results.json ``data_period``)."""
    if not isinstance(results, dict):
        return {}
    params = results.get("params") if isinstance(results.get("params"), dict) else {}
    period = results.get("data_period") if isinstance(results.get("data_period"), dict) else {}
    context = {
        "analysis": results.get("analysis"),
        "time_unit": results.get("time_unit") or params.get("time_unit"),
        "horizon": params.get("horizon"),
        "first": period.get("first"),
        "last": period.get("last"),
        "snapshot": period.get("snapshot") or params.get("snapshot_date"),
    }
    return {k: v for k, v in context.items() if isinstance(v, str | int | float) and not isinstance(v, bool)}


OUTCOME_WORDS = {"nps": "NPS (0–10)", "promoter": "Promoter (9–10) or not", "satisfaction": "Satisfaction",
                 "repurchase_intent": "Repurchase intent"}
NOT_REACHED = "not reached"
NOT_REACHED_NOTE = "more than half of the customers were still active at the end of the data"
UNIT_ZH = {"days": "天", "day": "天", "weeks": "周", "week": "周", "months": "个月", "month": "个月", "years": "年",
           "year": "年"}


def say_headline(key: str, value, context: dict | None = None) -> tuple[str, str]:
    """One headline number as the index shows it: (label, text). Counts are whole numbers; p-values read
    "< 0.001"; with the churn context, the expected churners name their horizon ("Expected churners in the next 90
    days", a whole number) and a median lifetime reads in its unit, or "not reached" with the reason."""
    from loyaltylab import narrative

    context = context or {}
    unit = str(context.get("time_unit") or "").strip()
    label = i18n.word(key)
    if context.get("analysis") == "churn" and key == "Expected churners":
        horizon = context.get("horizon")
        if isinstance(horizon, int | float) and unit:
            label = i18n.t(f"Expected churners in the next {float(horizon):g} {unit}",
                           f"未来 {float(horizon):g} {UNIT_ZH.get(unit.lower(), unit)}内预计流失人数")
        return label, "–" if value is None else f"{round(float(value)):,}"
    if context.get("analysis") == "churn" and key == "Median lifetime":
        if value is None:
            return label, i18n.t(f"{NOT_REACHED} ({NOT_REACHED_NOTE})", "未达到（数据结束时仍有一半以上的客户在网）")
        if not unit:
            return label, _fmt_number(value)
        return label, i18n.t(narrative.duration(value, unit),
                             f"{_fmt_number(float(value))} {UNIT_ZH.get(unit.lower(), unit)}")
    if re.search(r"(^|\s)p$|p-value$", key, re.I) and isinstance(value, int | float) and not isinstance(value, bool):
        return label, narrative.p_value(value).removeprefix("p ").removeprefix("= ")
    if key == "Outcome" and isinstance(value, str):
        return label, i18n.word(OUTCOME_WORDS.get(value, value.replace("_", " ")))
    if isinstance(value, str):
        return label, i18n.word(_fmt_number(value))
    return label, _fmt_number(value)


def say_period(context: dict | None) -> str:
    """The data's period and snapshot, in a line: "Data 2023-07-01 to 2026-06-29 · snapshot 2026-06-30"."""
    context = context or {}
    first, last, snapshot = context.get("first"), context.get("last"), context.get("snapshot")
    parts = []
    if first and last:
        parts.append(i18n.t(f"Data {first} to {last}", f"数据 {first} 至 {last}") if first != last
                     else i18n.t(f"Data of {first}", f"{first} 的数据"))
    if snapshot:
        parts.append(i18n.t(f"snapshot {str(snapshot)[:10]}", f"快照日 {str(snapshot)[:10]}"))
    return " · ".join(p.replace("\n", " · ") for p in parts)


def index_language(manifest: dict) -> str:
    """The index page's language: the jobs' ``language`` parameter when they agree, else both languages."""
    found = set()
    for job in manifest.get("jobs", ()):
        value = (job.get("parameters") or {}).get("language")
        try:
            found.add(i18n.check(value) if value is not None else i18n.DEFAULT)
        except DataError:
            found.add(i18n.DEFAULT)
    return found.pop() if len(found) == 1 else ("both" if found else i18n.DEFAULT)


def render_index(manifest: dict) -> str:
    """index.html: a table of jobs, then a provenance section that is byte-identical across identical runs
    (between the ``deterministic:begin``/``end`` comments). All text from jobs and notebooks is escaped. In the
    jobs' language (:func:`index_language`)."""
    with i18n.language(index_language(manifest)):
        return _render_index(manifest)


def _render_index(manifest: dict) -> str:
    e = html.escape
    t = i18n.t
    run, summary = manifest["run"], manifest["summary"]
    rows = []
    dashes = False
    for i, job in enumerate(manifest["jobs"], start=1):
        failed = job["status"] != "ok"
        status = (f'<span class="failed">{t("FAILED", "失败")}</span>' if failed
                  else f'<span class="ok">{t("ok", "成功")}</span>')
        if job.get("error"):
            status += f'<div class="error">{e(job["error"])}</div>'
        elif job.get("note"):
            status += f'<div class="meta">{e(job["note"])}</div>'
        context = job.get("context") if isinstance(job.get("context"), dict) else {}
        items = _with_intervals(list(ordered_headline(job.get("headline") or {}, job.get("headline_order")).items()),
                                context)
        dashes = dashes or any(v == "–" or v.startswith("– ") for _, v in items[:MAX_HEADLINE])
        headline = "".join(f"<dt>{_br(e(str(k)))}</dt><dd>{_br(e(v))}</dd>" for k, v in items[:MAX_HEADLINE])
        if len(items) > MAX_HEADLINE:
            more = len(items) - MAX_HEADLINE
            headline += f"<dt>…</dt><dd>{_br(t(f'{more} more in results.json', f'另有 {more} 项见 results.json'))}</dd>"
        headline = f'<dl class="headline">{headline}</dl>' if headline else ""
        link = f'<a href="{e(quote(job["report"]))}">{i18n.label("report", "报告")}</a>'
        made = (f'<div class="meta">{i18n.label("made", "生成于")} {e(str(job["made_at"]).replace("T", " ")[:16])}'
                '</div>') if job.get("made_at") else ""
        title = job.get("title") or job["name"]
        about = " · ".join(x for x in (f"<code>{e(job['name'])}</code>", e(say_period(context))) if x)
        rows.append(
            f'<tr class="{"failed-row" if failed else "ok-row"}"><td class="num">{i}</td>'
            f'<td><b>{e(title)}</b><div class="meta">{about}</div></td><td>{status}</td>'
            f'<td class="num">{job["seconds"]:.1f} s{made}</td><td>{headline}</td><td>{link}</td></tr>'
        )
    provenance = []
    for job in manifest["jobs"]:
        shown = {k: v for k, v in job["parameters"].items() if k not in RUNNER_PARAMETERS}  # same for any --out
        params = json.dumps(shown, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        inputs = "".join(
            f"<li><code>{e(path)}</code> sha256 <code>{e(digest) if digest else 'missing'}</code></li>"
            for path, digest in job["inputs"].items()
        ) or f"<li>{i18n.label('none recorded', '无记录')}</li>"
        provenance.append(
            f"<details><summary><b>{e(job['name'])}</b> — "
            f"{i18n.label('ok', '成功') if job['status'] == 'ok' else i18n.label('failed', '失败')}</summary>"
            f"<p>{i18n.label('Notebook', '笔记本')} <code>{e(job['notebook'])}</code></p>"
            f"<p>{i18n.label('Parameters', '参数')}</p><pre>{e(params)}</pre>"
            f"<p>{i18n.label('Input files', '输入文件')}</p><ul>{inputs}</ul></details>"
        )
    packages = ", ".join(f"{e(k)} {e(str(v))}" for k, v in manifest["packages"].items())
    n_failed = summary["failed"]
    mark = "failed" if n_failed else "ok"
    verdict_en = f'{summary["ok"]} ok, <span class="{mark}">{n_failed} failed</span>'
    verdict_zh = f'{summary["ok"]} 个成功，<span class="{mark}">{n_failed} 个失败</span>'
    generated = t(f'Generated {e(run["generated_at"])} · {summary["jobs"]} jobs: {verdict_en} · '
                  f'{run["total_seconds"]:.1f} s with {run["workers"]} worker(s) · details in '
                  f'<a href="{MANIFEST_JSON}">{MANIFEST_JSON}</a>',
                  f'生成于 {e(run["generated_at"])} · 共 {summary["jobs"]} 个任务：{verdict_zh} · '
                  f'{run["total_seconds"]:.1f} 秒，{run["workers"]} 个进程 · 详见 <a href="{MANIFEST_JSON}">{MANIFEST_JSON}</a>')
    heads = [i18n.label("Job", "任务"), i18n.label("Status", "状态"), i18n.label("Time", "用时"),
             i18n.label("Headline", "主要数字"), i18n.label("Report", "报告")]
    head_row = "<th>#</th>" + "".join(f"<th>{h}</th>" for h in heads)
    title = i18n.label("loyaltylab reports", "loyaltylab 报告")
    dash_note = t("– : not available for these data (the report says why).", "–：这些数据无法计算（报告中说明了原因）。")
    html_lang = {"en": "en", "zh": "zh-CN"}.get(i18n.current(), "zh-CN")
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
{_CSS}
</style>
</head>
<body>
<h1>{e(title)}</h1>
<p class="meta">{_br(generated)}</p>
<table>
<thead><tr>{head_row}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{f'<p class="meta">{_br(dash_note)}</p>' if dashes else ""}
<!-- deterministic:begin -->
<section id="provenance">
<h2>{i18n.label("Provenance", "来源与可追溯信息")}</h2>
{chr(10).join(provenance)}
<p class="meta">{i18n.label("Packages", "软件包")}: {packages}</p>
</section>
<!-- deterministic:end -->
</body>
</html>
"""


def _br(text: str) -> str:
    """A two-language text (``both``) on two lines."""
    return text.replace("\n", "<br>")


def write_index_html(manifest: dict, out_root: Path) -> Path:
    return _write_text(Path(out_root) / INDEX_HTML, render_index(manifest))


def _write_text(path: Path, text: str) -> Path:
    return paths.write_atomic(path, text)


# --------------------------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="PATH", help="jobs file (default: reports.yml in the project root)")
    parser.add_argument("--notebook", metavar="PATH", help="run this one notebook instead of the config's jobs")
    parser.add_argument(
        "-p", "--parameter", dest="parameters", action="append", default=[], metavar="KEY=VALUE",
        help="a notebook parameter; VALUE is YAML: 10, 0.5, [a, b], {region: North}, null; quote strings that "
        "YAML would read otherwise, e.g. \"region='NO'\". With a config, applies to every job whose notebook has it",
    )
    parser.add_argument("--name", help="job name for --notebook (default: the notebook's file name)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: reports/ in the project root)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="run only this job (repeatable); a fan-out job's name runs all its parts")
    parser.add_argument("-j", "--jobs", dest="workers", type=_positive_int, default=1, metavar="N",
                        help="run N jobs in parallel (default 1)")
    parser.add_argument("--show-code", action="store_true", help="keep code cells in the HTML (for teaching)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"limit per cell (default {DEFAULT_TIMEOUT:.0f}; 0 = none)")
    parser.add_argument("--list", action="store_true", help="list the jobs (after fan-out) and exit")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def jobs_from_args(args: argparse.Namespace) -> tuple[list[Job], Path | None]:
    overrides = _resolve_path_parameters(parse_assignments(args.parameters))
    if args.notebook:
        if args.config or args.only:
            raise ConfigError("--notebook", "cannot be combined with --config or --only")
        return [single_job(args.notebook, overrides, name=args.name)], None
    if args.name:
        raise ConfigError("--name", "only applies to --notebook")
    config = _resolve_cli_path(args.config) if args.config else paths.project_root() / "reports.yml"
    return load_config(config, only=args.only, overrides=overrides), config


def run(args: argparse.Namespace) -> int:
    if not args.list:
        kernels.start_zygote_early()  # the kernels' imports run while the configuration is read
    jobs, config = jobs_from_args(args)
    if args.list:
        for job in jobs:
            params = json.dumps(job.parameters, ensure_ascii=False, sort_keys=True, default=str)
            problem = f"  CANNOT RUN: {job.problem}" if job.problem else ""
            print(f"{job.name}  {paths.display_path(job.notebook)}  {params}{problem}")
        return 0
    out_root = Path(args.out).expanduser().resolve() if args.out else paths.project_root() / "reports"
    workers = min(args.workers, len(jobs))
    print(f"running {len(jobs)} job(s) with {workers} worker(s) into {paths.display_path(out_root)}", flush=True)
    start = time.perf_counter()
    results = run_jobs(jobs, out_root, workers=workers, show_code=args.show_code, timeout=args.timeout,
                       progress=print_progress, config=config, merge=bool(args.only or args.notebook))
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} ok, {len(failed)} failed in {time.perf_counter() - start:.1f}s")
    for r in failed:
        print(f"  FAILED {r.name}: {r.error}")
    print(f"index: {paths.display_path(out_root / INDEX_HTML)}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m loyaltylab.report``: the same as ``python -m loyaltylab report``."""
    from loyaltylab.cli import main as cli_main

    return cli_main(["report", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
