"""notebooks/02_service_quality.ipynb executed with papermill: on the small course world, on a perception-only file,
on a file with its own item names and prefixes on a 1–5 scale, and on a file with nothing but IDs and items."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest

from loyaltylab import report, results
from loyaltylab.analyses import servqual

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_service_quality.ipynb"
E_ITEMS = [f"E{i}" for i in range(1, 23)]
P_ITEMS = [f"P{i}" for i in range(1, 23)]

pytestmark = pytest.mark.notebook


def run(survey: Path, out: Path, **params) -> tuple[dict, nbformat.NotebookNode]:
    """Execute the notebook (static view) into ``out``; return its results.json and the executed notebook."""
    parameters = {"survey_path": str(survey), "interactive": False, "output_dir": str(out / "report"),
                  "n_bootstrap": 50, **params}
    pm.execute_notebook(NOTEBOOK, out / "executed.ipynb", parameters=parameters, kernel_name="python3",
                        cwd=str(ROOT), progress_bar=False)
    doc = json.loads((out / "report" / "results.json").read_text(encoding="utf-8"))
    return doc, nbformat.read(out / "executed.ipynb", as_version=4)


def shown_text(nb) -> str:
    """Every text / Markdown / HTML output of the executed notebook (not the images)."""
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                raise AssertionError(f"{o['ename']}: {o['evalue']}")
            parts.append(o.get("text", ""))
            parts += [v for k, v in o.get("data", {}).items() if not k.startswith("image/")]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def survey(small_course_dir) -> pd.DataFrame:
    return pd.read_csv(small_course_dir / "survey.csv", dtype=str, keep_default_na=False)


def test_committed_without_outputs_and_with_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")  # after the title (both languages)
    assert first_code >= 1 and "parameters" in nb.cells[first_code].metadata.get("tags", [])
    declared = report.notebook_parameters(NOTEBOOK)
    assert set(declared) == set(servqual.Params.names()) | set(servqual.NOTEBOOK_ONLY)
    for cell in code[1:]:
        assert not re.search(r"(?<![\w])[fF][\"']", cell.source) and "DataFrame(" not in cell.source  # no f-strings
        assert "open(" not in cell.source and ".to_csv" not in cell.source


def test_course_data(small_course_dir, tmp_path):
    doc, nb = run(small_course_dir / "survey.csv", tmp_path)
    assert doc["analysis"] == "servqual" and set(results.DOCUMENT_KEYS) <= set(doc) and doc["mode"] == "servqual"
    assert doc["largest_gap"] == "reliability" and doc["headline"]["Largest gap"] == "reliability"
    assert doc["cfa"]["df"] == 199 and doc["efa"]["n_factors"] >= 1
    assert len(doc["truth"]) == 28 and doc["strategies"][0]["strategy"] == "standardised processes"
    assert doc["by_segment"]["segment"] and doc["trend"]
    text = shown_text(nb)
    assert "Estimated vs true gaps (course data)" in text and "standardised processes" in text
    assert not re.search(r"C\d{7}", text)  # no customer ids on the page
    findings = next(i for i, c in enumerate(nb.cells) if c.source.strip() == "## Key findings")
    shown_next = next(c for c in nb.cells[findings + 1:] if c.cell_type == "code")  # after the heading's Chinese twin
    assert shown_next.outputs[0]["data"]["text/markdown"].startswith("- Overall, perceptions")


def test_perception_only_file(survey, tmp_path):
    survey.drop(columns=E_ITEMS).to_csv(tmp_path / "survey.csv", index=False)
    doc, nb = run(tmp_path / "survey.csv", tmp_path)
    assert doc["mode"] == "servperf" and doc["overall"]["gap"] is None
    assert all(d["gap"] is None and d["expectation"] is None for d in doc["dimensions"].values())
    text = shown_text(nb)
    assert "perceptions only (SERVPERF)" in text
    assert "Estimated vs true" not in text and "What to improve" not in text  # course sections left out


def test_own_item_names_prefixes_and_a_five_point_scale(survey, tmp_path):
    short = {"tangibles": "tan", "reliability": "rel", "responsiveness": "res", "assurance": "ass", "empathy": "emp"}
    dims, renames = {}, {}
    for d, items in servqual.PZB_DIMENSIONS.items():
        dims[d] = [f"{short[d]}{k + 1}" for k in range(len(items))]
        for k, i in enumerate(items):
            renames[f"E{i}"], renames[f"P{i}"] = f"E_{short[d]}{k + 1}", f"P_{short[d]}{k + 1}"
    frame = survey[["customer_id", "date", "satisfaction", *E_ITEMS, *P_ITEMS]].copy()
    values = frame[E_ITEMS + P_ITEMS].astype(int)
    frame[E_ITEMS + P_ITEMS] = np.round((values - 1) * 4 / 6 + 1).astype(int)
    frame.rename(columns=renames).to_csv(tmp_path / "my_survey.csv", index=False)
    doc, nb = run(tmp_path / "my_survey.csv", tmp_path, dimensions=dims, expectation_prefix="E_",
                  perception_prefix="P_", scale=[1, 5], segment_cols=[])
    assert doc["mode"] == "servqual" and "rel1" in doc["items"] and doc["items"]["rel1"]["perception_col"] == "P_rel1"
    assert doc["servperf_vs_servqual"]["outcome"] == "satisfaction" and doc["trend"]
    assert doc["truth"] is None and "Estimated vs true" not in shown_text(nb)


def test_ids_and_items_only(survey, tmp_path):
    survey[["customer_id", *E_ITEMS, *P_ITEMS]].to_csv(tmp_path / "items.csv", index=False)
    doc, nb = run(tmp_path / "items.csv", tmp_path)
    text = shown_text(nb)
    assert doc["mode"] == "servqual" and doc["ipa"] == {} and doc["servperf_vs_servqual"] is None
    assert doc["by_segment"] == {} and doc["trend"] == [] and doc["cfa"]["df"] == 199
    assert "No outcome column" in text and "No date column" in text
    assert any("segment" in n for n in doc["notes"]) and any("'date'" in n for n in doc["notes"])


def test_bad_parameter_fails_before_reading_data(tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(tmp_path / "no_such_survey.csv", tmp_path, scale=[7, 1])
    assert err.value.ename == "ParameterError" and err.value.evalue.startswith("parameters: scale = ")
