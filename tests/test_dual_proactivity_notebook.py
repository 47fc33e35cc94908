"""notebooks/05_dual_proactivity_and_recovery.ipynb executed with papermill: on the small course world, on R's
state.x77 (the interactions vignette's Johnson–Neyman interval through the notebook's parameters) and on
statsmodels' Grunfeld investment panel (a user file with its own x, moderator, outcome, controls and clusters)."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import papermill as pm
import pytest

from loyaltylab import results
from loyaltylab.analyses import dual_proactivity as dual
from loyaltylab.stats import moderation as m

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_dual_proactivity_and_recovery.ipynb"
STATES = ROOT / "tests" / "fixtures" / "moderation" / "states.csv"
R_STATES_JN = (-0.749635218182, 11.7439204257)  # interactions vignette: johnson_neyman(fiti, Murder), R uniroot

pytestmark = pytest.mark.notebook


def _code_cells():
    return [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]


def run(out: Path, **params) -> tuple[dict, nbformat.NotebookNode]:
    """Execute the notebook (static view) into ``out``; return its results.json and the executed notebook."""
    parameters = {"interactive": False, "output_dir": str(out / "report"), **params}
    pm.execute_notebook(NOTEBOOK, out / "executed.ipynb", parameters=parameters, kernel_name="python3",
                        cwd=str(ROOT), progress_bar=False)
    doc = json.loads((out / "report" / "results.json").read_text(encoding="utf-8"))
    return doc, nbformat.read(out / "executed.ipynb", as_version=4)


def _markdown(nb) -> str:
    return "\n".join(o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
                     if "text/markdown" in o.get("data", {}))


@pytest.fixture(scope="module")
def course_run(small_course_dir, tmp_path_factory):
    return run(tmp_path_factory.mktemp("dual_nb"), survey_path=str(small_course_dir / "survey.csv"))


def test_committed_without_outputs_and_with_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")  # after the title (both languages)
    assert first_code >= 1 and "parameters" in nb.cells[first_code].metadata.get("tags", [])
    for name in (*dual.Params.names(), *dual.NOTEBOOK_ONLY):
        assert f"{name} =" in nb.cells[first_code].source, name


def test_notebook_is_thin():
    """No f-strings, no DataFrame built, no file written but results.json, no function or widget defined."""
    for cell in _code_cells()[1:]:
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, ast.JoinedStr), cell.source
            assert not isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ClassDef)), cell.source
        for banned in ("DataFrame(", "to_csv", "open(", "widgets", ".write_text", ".join(", "pd."):
            assert banned not in cell.source, (banned, cell.source)
    assert sum("results.write_results(result.to_results(), out_dir)" in c.source for c in _code_cells()) == 1
    assert any("display(dual.explorer(result))" in c.source for c in _code_cells())


def test_course_run_writes_the_library_results(course_run, small_course_dir):
    doc, nb = course_run
    lib = dual.analyze(dual.Params(survey_path=str(small_course_dir / "survey.csv")))
    assert set(results.DOCUMENT_KEYS) <= set(doc) and doc["analysis"] == "dual_proactivity"
    d = doc["dual_proactivity"]
    assert d["interaction"] == pytest.approx(lib.interaction.interaction.estimate, rel=1e-9)
    assert d["synergy"] == pytest.approx(lib.interaction.synergy.estimate, rel=1e-9)
    assert d["cells"]["both"]["n"] == int(lib.interaction.cells.set_index("cell").loc["both", "n"])
    assert doc["recovery"]["paradox"]["difference"] == pytest.approx(
        lib.recovery.paradox["nps"]["recovered_well"].result.estimate, rel=1e-9)
    assert d["claims"] and doc["truth"]["compared"] >= 3
    text = _markdown(nb)
    assert "1+1>2" in text and "92% customer satisfaction" in text        # course framing on the course data
    assert "Traceback" not in json.dumps([o for c in nb.cells for o in c.get("outputs", [])
                                          if o.get("output_type") == "error"])
    shown = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs] + [
        v for c in nb.cells if c.cell_type == "code" for o in c.outputs for k, v in o.get("data", {}).items()
        if not k.startswith("image/")]
    assert not re.search(r"C\d{7}", json.dumps(shown))                      # no customer ids in the report


def test_states_through_the_notebook_reproduce_the_interactions_vignette(tmp_path):
    doc, nb = run(tmp_path, survey_path=str(STATES), x="illiteracy", moderator="murder", outcome="income",
                  controls=["hs_grad"], cluster_col=None, customers_path=None, incidents_path=None,
                  cov_type="nonrobust")
    d = doc["dual_proactivity"]
    assert (d["jn_low"], d["jn_high"]) == pytest.approx(R_STATES_JN, rel=1e-8)
    assert d["jn_in_range"] == [False, True] and d["interaction"] == pytest.approx(-97.0387233574, rel=1e-9)
    assert doc["recovery"]["paradox"] is None and set(doc["skipped"]) == {"retention", "recovery"}
    text = _markdown(nb)
    assert "1+1>2" not in text and "outside the data" in text


def test_grunfeld_panel_as_a_user_file(tmp_path):
    """statsmodels' Grunfeld data (11 firms × 20 years): investment on firm value × capital stock, controlling for
    the year, clustered by firm — the notebook's numbers are stats.moderation's on the same rows."""
    import statsmodels.api as sm

    data = sm.datasets.grunfeld.load_pandas().data
    data[["value", "capital"]] /= 1000          # $ billions (the panel has millions: its X'X is ill-conditioned with
    path = tmp_path / "grunfeld.csv"            # a raw year control, which stats.moderation refuses as collinear)
    data.to_csv(path, index=False)
    doc, nb = run(tmp_path, survey_path=str(path), x="value", moderator="capital", outcome="invest",
                  controls=["year"], cluster_col="firm", customers_path=None, incidents_path=None)
    fit = m.fit(data["invest"], data["value"], data["capital"], data[["year"]], data["firm"])
    d = doc["dual_proactivity"]
    assert d["interaction"] == pytest.approx(fit.interaction.estimate, rel=1e-9)
    assert d["ci_low"] == pytest.approx(fit.interaction.ci_low, rel=1e-9) and d["cov_type"] == "cluster"
    jn = m.johnson_neyman(fit).bounds
    assert [b for b in (d["jn_low"], d["jn_high"]) if b is not None] == pytest.approx(list(jn), rel=1e-8)
    slopes = m.simple_slopes(fit, "percentiles")
    np.testing.assert_allclose([s["slope"] for s in d["simple_slopes"][:3]], slopes["estimate"], rtol=1e-9)
    for cell in d["cells"].values():
        assert cell["suppressed"] or cell["customers"] >= 5                 # firms are the people here
    assert "'value'" in _markdown(nb)
