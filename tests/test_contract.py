"""The promises every registered analysis keeps (DESIGN.md §3, §6): a new analysis is covered by registering.

- its package has the shared shape (files, ``__all__``, Params / Result / analyze);
- every bad parameter is the one-line ParameterError, raised before any file is read;
- the notebook's parameter defaults equal the analysis' defaults;
- results.json carries the document keys and is plain JSON;
- suppressed rows carry no counts, in the result's tables and in results.json;
- hostile segment values and column names never become markup in a sentence, nor in the executed report;
- the notebook runs on the course data and on a tiny user-shaped file.
"""
from __future__ import annotations

import dataclasses
import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from loyaltylab import analyses, params, report, results, synth
from loyaltylab.analyses.base import AnalysisResult
from loyaltylab.errors import DataError, ParameterError

ROOT = Path(__file__).resolve().parents[1]
NAMES = analyses.ANALYSES
PACKAGE_FILES = ("__init__.py", "analysis.py", "describe.py", "plots.py", "explorer.py")
HOSTILE_SEGMENT_COLUMN = "plan`<i>|x"
HOSTILE_VALUES = {
    "Basic": "<img src=x onerror=alert(1)>",
    "Standard": "[click](javascript:alert(1))",
    "Premium": "Premium `tier` | <b>gold</b>",
}
TINY_GROUP = "a`b|c <script>alert(2)</script>"
TINY_REGION = "<b>tiny</b> [r](javascript:alert(3))"
COUNT_KEYS = ("n", "events", "customers", "count", "respondents", "n_promoters", "n_detractors", "n_active",
              "churned", "people")


# --- the tiny user-shaped data set ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory) -> dict:
    """Four tables of a small world written as a user's export: no truth.json, a segment column with a hostile
    name and hostile values, a 3-customer segment and a 2-customer region."""
    world = synth.generate(n_customers=900, seed=5)
    out = tmp_path_factory.mktemp("hostile")
    customers = world.customers.copy()
    customers["segment"] = customers["segment"].map(HOSTILE_VALUES).astype(object)
    customers.loc[customers.index[:3], "segment"] = TINY_GROUP
    customers["region"] = customers["region"].astype(object)
    customers.loc[customers.index[3:5], "region"] = TINY_REGION
    customers = customers.rename(columns={"segment": HOSTILE_SEGMENT_COLUMN})
    files = {"segment_col": HOSTILE_SEGMENT_COLUMN}
    for name, frame in (("customers", customers), ("survey", world.survey), ("transactions", world.transactions),
                        ("incidents", world.incidents)):
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False, encoding="utf-8")
        files[name] = path
    return files


class _Results(dict):
    """Each analysis run once on the hostile data set (min_cell 5), on first use."""

    def __init__(self, files):
        super().__init__()
        self.files = files

    def __missing__(self, name):
        module = analyses.get(name)
        self[name] = module.analyze(module.Params(**module.example_parameters(self.files)))
        return self[name]


@pytest.fixture(scope="session")
def hostile_results(hostile_files) -> dict:
    return _Results(hostile_files)


# --- shape -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_package_has_the_shared_shape(name):
    folder = ROOT / "lib" / "loyaltylab" / "analyses" / name
    for file in PACKAGE_FILES:
        assert (folder / file).is_file(), f"{name}: missing {file}"
    module = analyses.get(name)
    package = __import__(f"loyaltylab.analyses.{name}", fromlist=["__all__"])
    assert package.__all__ and all(hasattr(package, n) for n in package.__all__)
    assert issubclass(module.Params, params.Params) and dataclasses.is_dataclass(module.Params)
    assert module.Params.__dataclass_params__.frozen
    assert callable(module.analyze) and callable(module.example_parameters)
    assert (ROOT / "notebooks" / module.NOTEBOOK).is_file()
    unchecked = [f.name for f in dataclasses.fields(module.Params) if "check" not in f.metadata]
    assert not unchecked, f"{name}: parameters without a check: {unchecked}"


@pytest.mark.parametrize("name", NAMES)
def test_every_bad_parameter_is_one_line_before_any_file_is_read(name, monkeypatch):
    from loyaltylab import io

    def no_reading(*args, **kwargs):
        raise AssertionError("a file was read before the parameters were checked")

    monkeypatch.setattr(io, "read_raw", no_reading)
    module = analyses.get(name)
    cases = params.bad_examples(module.Params)
    assert len(cases) >= len(dataclasses.fields(module.Params))
    for field_name, bad in cases:
        with pytest.raises(ParameterError) as info:
            module.Params(**{field_name: bad})
        msg = str(info.value)
        assert msg.startswith(f"parameters: {field_name} = ") and "\n" not in msg, msg


def _normalise(value):
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(v) for v in value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("name", NAMES)
def test_notebook_parameter_defaults_equal_the_analysis_defaults(name):
    module = analyses.get(name)
    declared = report.notebook_parameters(ROOT / "notebooks" / module.NOTEBOOK)
    sharing = [analyses.get(n) for n in NAMES if analyses.get(n).NOTEBOOK == module.NOTEBOOK]
    allowed = set().union(*(set(m.Params.names()) | set(m.NOTEBOOK_ONLY) for m in sharing))
    assert set(declared) <= allowed, f"notebook parameters no analysis declares: {set(declared) - allowed}"
    defaults = module.Params.defaults()
    for field_name in defaults:
        assert field_name in declared, f"{module.NOTEBOOK} lacks parameter {field_name}"
        nb_value = module.Params(**{field_name: declared[field_name]}).as_dict()[field_name]
        assert _normalise(nb_value) == _normalise(module.Params().as_dict()[field_name]), field_name


# --- results.json, privacy, escaping -----------------------------------------------------------------------------


def _walk(obj, path=""):
    if isinstance(obj, dict):
        yield path, obj
        for k, v in obj.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{path}[{i}]")


@pytest.mark.parametrize("name", NAMES)
def test_results_document_keys_and_plain_json(name, hostile_results):
    result = hostile_results[name]
    assert isinstance(result, AnalysisResult)
    doc = json.loads(results.dumps(result.to_results()))
    assert set(results.DOCUMENT_KEYS) <= set(doc)
    assert doc["analysis"] == name
    assert set(doc["headline_order"]) <= set(doc["headline"])
    assert all(isinstance(v, str) for v in doc["inputs"].values() if v is not None)


@pytest.mark.parametrize("name", NAMES)
def test_suppressed_rows_carry_no_counts(name, hostile_results):
    result = hostile_results[name]
    for table_name, table in result.tables().items():
        if not isinstance(table, pd.DataFrame) or "suppressed" not in table:
            continue
        hidden = table[table["suppressed"].fillna(False).astype(bool)]
        for col in hidden.columns:
            if col in COUNT_KEYS or col.startswith("n_"):
                assert hidden[col].isna().all(), f"{name}.{table_name}: hidden rows show {col}"
    doc = json.loads(results.dumps(result.to_results()))
    for where, node in _walk(doc):
        if node.get("suppressed") is True:
            shown = {k: node[k] for k in node if (k in COUNT_KEYS or k.startswith("n_")) and node[k] is not None}
            assert not shown, f"{name}{where}: suppressed but shows {shown}"


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "i", "b", "object", "embed"):
            self.bad.append(tag)
        if tag == "img" and not dict(attrs).get("src", "").startswith("data:image/"):
            self.bad.append("img")
        if tag == "a" and not str(dict(attrs).get("href", "")).startswith(("#", "https://", "http://")):
            self.bad.append(f"a href={dict(attrs).get('href')}")
        for key, value in attrs:
            if key.startswith("on") or "javascript" in str(value).lower():
                self.bad.append(f"{tag} {key}={value}")


def markup_from_data(text: str) -> list[str]:
    parser = _Tags()
    parser.feed(text)
    return parser.bad


def _sentences(name: str, result) -> list[str]:
    import importlib

    describe = importlib.import_module(f"loyaltylab.analyses.{name}.describe")
    lines = list(result.key_findings())
    for attr in dir(describe):
        fn = getattr(describe, attr)
        if attr.startswith("describe_") and callable(fn):
            try:
                out = fn(result)
            except TypeError:
                continue
            lines += [out] if isinstance(out, str) else list(out or []) if not isinstance(out, dict) else list(
                out.values())
    return [str(s) for s in lines]


@pytest.mark.parametrize("name", NAMES)
def test_hostile_values_never_become_markup(name, hostile_results):
    lines = _sentences(name, hostile_results[name])
    assert lines
    rendered = markdown2html_mistune("\n".join(f"- {line}" for line in lines))
    assert markup_from_data(rendered) == []
    assert "<code>tier</code>" not in rendered and "<code>b</code>" not in rendered  # backticks from the data


def test_markup_detector_catches_what_it_should():
    assert markup_from_data(markdown2html_mistune("[click](javascript:alert(1)) <img src=x onerror=alert(1)>"))
    assert not markup_from_data('<img src="data:image/png;base64,AAA"> <a href="#x">x</a>')


# --- notebooks ---------------------------------------------------------------------------------------------------


def _notebooks() -> dict[str, list[str]]:
    by_notebook: dict[str, list[str]] = {}
    for name in NAMES:
        by_notebook.setdefault(analyses.get(name).NOTEBOOK, []).append(name)
    return by_notebook


def _plain(value):
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", sorted(_notebooks()))
def test_notebook_runs_on_a_tiny_user_file_and_shows_no_markup_from_data(notebook, hostile_files, tmp_path):
    parameters = {}
    for name in _notebooks()[notebook]:
        parameters.update({k: _plain(v) for k, v in analyses.get(name).example_parameters(hostile_files).items()})
    job = report.run_notebook(ROOT / "notebooks" / notebook, parameters, tmp_path / "out")
    page = (tmp_path / "out" / report.REPORT_HTML).read_text(encoding="utf-8")
    assert job.status == "ok", job.error
    assert markup_from_data(page.split("<body", 1)[-1]) == []
    assert "Traceback" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    doc = json.loads((tmp_path / "out" / report.RESULTS_JSON).read_text(encoding="utf-8"))
    assert set(results.DOCUMENT_KEYS) <= set(doc)


def test_registry_refuses_unknown_names():
    with pytest.raises(KeyError):
        analyses.get("nope")
    assert issubclass(ParameterError, DataError)
