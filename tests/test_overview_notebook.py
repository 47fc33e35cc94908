"""notebooks/00_data_overview.ipynb: thin (like 01_nps), executed with papermill on the small course world."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_data_overview.ipynb"
TABLES = ("customers", "survey", "transactions", "incidents")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _code_cells():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def test_committed_without_outputs_and_with_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.outputs and c.execution_count is None for c in _code_cells())
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")  # after the title (both languages)
    assert first_code >= 1 and "parameters" in nb.cells[first_code].metadata.get("tags", [])
    for name in ("encoding", "sheet", "min_cell", "interactive", "output_dir"):
        assert f"{name} =" in nb.cells[first_code].source


def test_notebook_is_thin():
    """Defect: notebook 00 built sentences, DataFrames and the explorer in cells. Now: no f-strings, no DataFrame
    built, no file written but results.json, no function or widget defined in a cell."""
    for cell in _code_cells()[1:]:
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.JoinedStr), cell.source
            assert not isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ClassDef)), cell.source
        for banned in ("DataFrame(", "to_csv", "open(", "widgets", ".write_text", ".join("):
            assert banned not in cell.source, (banned, cell.source)
    assert sum("results.write_results(result.to_results(), out_dir)" in c.source for c in _code_cells()) == 1
    assert any("display(overview.explorer(result))" in c.source for c in _code_cells())


def run(out: Path, **params) -> Path:
    pm.execute_notebook(NOTEBOOK, out / "executed.ipynb", parameters={"interactive": False,
                        "output_dir": str(out / "report"), **params}, kernel_name="python3", cwd=str(ROOT),
                        progress_bar=False)
    return out


@pytest.mark.notebook
def test_overview_notebook_runs_and_writes_results(small_course_dir, tmp_path):
    params = {f"{t}_path": str(small_course_dir / f"{t}.csv") for t in TABLES}
    run(tmp_path, **params)
    res = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    assert set(res) >= {"rows", "missing", "date_ranges", "headline", "inputs", "warnings"}
    assert res["rows"]["customers"] == len(pd.read_csv(small_course_dir / "customers.csv"))
    assert res["date_ranges"]["survey"]["first"] <= res["date_ranges"]["survey"]["last"]
    assert {"segments", "headline_order", "analysis", "params", "input_sha256", "notes", "tables"} <= set(res)
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    text = "\n".join(o.get("data", {}).get("text/markdown", "") for c in executed.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert "What this shows" in text and "customers," in text


@pytest.mark.notebook
def test_min_cell_zero_is_one_line_in_the_notebook(tmp_path):
    """Defect: min_cell=0 printed a traceback instead of a one-line error (and before any file is read)."""
    with pytest.raises(pm.PapermillExecutionError):
        run(tmp_path, min_cell=0, customers_path=str(tmp_path / "no-such-file.csv"))
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert len(errors) == 1
    lines = [ANSI.sub("", line) for line in errors[0].traceback]
    assert len(lines) == 1 and "parameters: min_cell = 0: must be a whole number" in lines[0]
