"""notebooks/03_loyalty_drivers.ipynb executed with papermill: on the small course world and on a user's own file
(R's swiss data: its own outcome and driver columns, no customer ids, no segments)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import papermill as pm
import pytest

from loyaltylab import results
from loyaltylab.analyses import drivers as dr

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_loyalty_drivers.ipynb"
FIXTURES = Path(__file__).parent / "fixtures"
SWISS_X = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
PUBLISHED_LMG_SHARES = [0.08078165, 0.24220256, 0.36807952, 0.14937728, 0.15955899]  # Grömping (2006), relaimpo

pytestmark = pytest.mark.notebook


def run(out: Path, **params) -> tuple[dict, nbformat.NotebookNode]:
    """Execute the notebook (static view) into ``out``; return its results.json and the executed notebook."""
    parameters = {"interactive": False, "output_dir": str(out / "report"), **params}
    pm.execute_notebook(NOTEBOOK, out / "executed.ipynb", parameters=parameters, kernel_name="python3",
                        cwd=str(ROOT), progress_bar=False)
    doc = json.loads((out / "report" / "results.json").read_text(encoding="utf-8"))
    return doc, nbformat.read(out / "executed.ipynb", as_version=4)


def _markdown(nb) -> str:
    return "\n".join(o.get("data", {}).get("text/markdown", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def course_run(small_course_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("drivers_nb")
    return run(out, survey_path=str(small_course_dir / "survey.csv"), n_bootstrap=200)


@pytest.fixture(scope="module")
def swiss_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("drivers_swiss")
    return run(out, survey_path=str(FIXTURES / "swiss.csv"), outcome="Fertility", drivers=SWISS_X, cluster_col=None,
               n_bootstrap=200)


def test_committed_without_outputs_and_with_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")  # after the title (both languages)
    assert first_code >= 1 and "parameters" in nb.cells[first_code].metadata.get("tags", [])
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for name in (*dr.Params.names(), *dr.NOTEBOOK_ONLY):
        assert f"{name} =" in nb.cells[first_code].source
    body = "\n".join(c.source for c in code[1:])
    assert "f\"" not in body and "f'" not in body and "to_csv" not in body  # thin: no sentences, no files


def test_course_data_results_equal_the_library(course_run, small_course_dir):
    doc, nb = course_run
    assert set(results.DOCUMENT_KEYS) <= set(doc) and doc["analysis"] == "drivers"
    lib = dr.analyze(dr.Params(survey_path=str(small_course_dir / "survey.csv"), n_bootstrap=200))
    assert doc["n"] == lib.n and doc["r2"] == pytest.approx(lib.r2, abs=1e-9)
    for d, row in lib.drivers.set_index("driver").iterrows():
        got = doc["drivers"][d]
        assert got["lmg_share"] == pytest.approx(row["lmg_share"], abs=1e-9)
        assert got["lmg_ci_low"] == pytest.approx(row["lmg_ci_low"], abs=1e-9)  # same seed, same bootstrap
        assert got["rank"] == row["rank"] and got["performance"] == pytest.approx(row["performance"], abs=1e-9)
        assert doc["kano"][d]["category"] in ("basic", "performance", "excitement")
    assert doc["stated"]["drivers"] and doc["promoter"]["drivers"]
    assert set(doc["by_segment"]) == {"segment", "region"}
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    text = _markdown(nb)
    assert "Reliability (可靠性)" in text and "Concentrate here" in text
    if doc["truth"] is not None:
        assert "observed dimension scores" in text


def test_user_file_with_its_own_columns_gives_relaimpo_shares(swiss_run):
    doc, nb = swiss_run
    shares = [doc["drivers"][x]["lmg_share"] for x in SWISS_X]
    np.testing.assert_allclose(shares, PUBLISHED_LMG_SHARES, atol=5.1e-9)
    assert doc["cluster_col"] is None and doc["by_segment"] == {} and doc["truth"] is None
    assert doc["stated"] is None and doc["promoter"] is None
    assert any("segment" in n for n in doc["notes"])  # the default segment columns: skipped with a note
    text = _markdown(nb)
    assert "Sign flip" in text and "Agriculture" in text
    assert "SERVQUAL" not in text and "可靠性" not in text and "course" not in text.lower().replace(
        "no course truth", "")  # neutral on a user's file


def test_no_customer_ids_in_the_report(course_run, small_course_dir):
    _, nb = course_run
    text = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    assert "C0000001" not in text and "R0000001" not in text
