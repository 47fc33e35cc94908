"""notebooks/01_nps.ipynb executed with papermill on the small course world."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest

from loyaltylab import results
from loyaltylab.analyses import nps

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_nps.ipynb"
SCRIPT = "<script>alert(1)</script>"

pytestmark = pytest.mark.notebook


def run(survey: Path, customers: Path, out: Path, **params) -> dict:
    """Execute the notebook (static view) into ``out``; return its results.json."""
    parameters = {"survey_path": str(survey), "customers_path": str(customers), "interactive": False,
                  "output_dir": str(out / "report"), **params}
    pm.execute_notebook(NOTEBOOK, out / "executed.ipynb", parameters=parameters, kernel_name="python3",
                        cwd=str(ROOT), progress_bar=False)
    return json.loads((out / "report" / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def executed(small_course_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("nps_nb")
    return out, run(small_course_dir / "survey.csv", small_course_dir / "customers.csv", out)


def test_committed_without_outputs_and_with_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")  # after the title (both languages)
    assert first_code >= 1 and "parameters" in nb.cells[first_code].metadata.get("tags", [])
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for name in ("survey_path", "customers_path", "score_col", "segment_cols", "date_col", "period", "comment_col",
                 "min_cell", "confidence", "interactive", "output_dir", "filters", "columns", "customers_columns",
                 "encoding", "sheet"):
        assert f"{name} =" in nb.cells[first_code].source


def test_results_json(executed, small_course_dir):
    _, res = executed
    for key in ("n", "dropped_rows", "nps", "ci_low", "ci_high", "ci_method", "promoters_pct", "passives_pct",
                "detractors_pct", "by_segment", "trend", "themes", "headline", "inputs"):
        assert key in res, key
    assert res["dropped_rows"] == 0 and res["ci_method"] == "normal"
    assert res["ci_low"] < res["nps"] < res["ci_high"]
    assert res["promoters_pct"] + res["passives_pct"] + res["detractors_pct"] == pytest.approx(100)
    for column in ("segment", "region", "channel"):
        for row in res["by_segment"][column]:
            assert {"value", "n", "nps", "ci_low", "ci_high", "suppressed", "p_value", "significant"} <= set(row)
    assert {"period", "n", "nps", "ci_low", "ci_high", "suppressed", "change_significant"} <= set(res["trend"][0])
    assert {"theme", "n", "share_promoters", "share_detractors"} <= set(res["themes"][0])
    assert res["headline"]["NPS"] == round(res["nps"], 1) and res["headline"]["Responses"] == res["n"]
    assert res["inputs"]["survey"].endswith("survey.csv")
    assert len(res["truth"]) == 13  # estimated vs true: overall + 3 + 5 + 4 segments
    assert res["join_match_rate"] == 1.0
    for row in [r for rows in res["by_segment"].values() for r in rows] + res["trend"]:
        if row["suppressed"] and row["n"] != 0:
            assert row["n"] is None and row["nps"] is None  # no count of a suppressed cell is published
    params = nps.Params(survey_path=str(small_course_dir / "survey.csv"),
                        customers_path=str(small_course_dir / "customers.csv"), cluster_col=None)
    library = nps.overall(nps.load(params).frame)
    assert res["n"] == library.n and res["nps"] == pytest.approx(library.nps)
    assert set(results.DOCUMENT_KEYS) <= set(res) and res["analysis"] == "nps"
    assert res["params"]["segment_cols"] == ["segment", "region", "channel"] and res["params"]["encoding"] is None
    assert len(res["input_sha256"]["survey"]) == 64


def test_no_customer_ids_in_the_report(executed):
    out, _ = executed
    text = (out / "executed.ipynb").read_text(encoding="utf-8")
    outputs = [o for c in nbformat.reads(text, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    # text only: base64 PNG data can contain any letters
    shown = [o.get("text", "") for o in outputs] + [
        v for o in outputs for k, v in o.get("data", {}).items() if not k.startswith("image/")
    ]
    assert not re.search(r"C\d{7}", json.dumps(shown))


def test_gbk_copy_gives_the_same_results(executed, small_course_dir, tmp_path):
    _, res = executed
    data = tmp_path / "gbk"
    data.mkdir()
    text = (small_course_dir / "survey.csv").read_text(encoding="utf-8")
    (data / "survey.csv").write_bytes(text.encode("gb18030"))
    for name in ("customers.csv", "truth.json"):
        shutil.copy(small_course_dir / name, data / name)
    again = run(data / "survey.csv", data / "customers.csv", tmp_path, encoding="gb18030")
    res, again = dict(res), dict(again)
    assert res.pop("inputs") != again.pop("inputs")
    # the run's own record differs (other file bytes, other paths, the encoding given); every result is the same
    assert res.pop("input_sha256") != again.pop("input_sha256")
    assert again.pop("params")["encoding"] == "gb18030" and res.pop("params")["encoding"] is None
    assert json.dumps(res, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_comments_are_escaped_in_the_html_report(small_course_dir, tmp_path):
    from nbconvert import HTMLExporter

    survey = pd.read_csv(small_course_dir / "survey.csv", dtype=str, keep_default_na=False)
    commented = survey["comment"] != ""
    survey.loc[commented, "comment"] = f"{SCRIPT} The bill was wrong again and nobody fixed it."
    survey.to_csv(tmp_path / "survey.csv", index=False)
    run(tmp_path / "survey.csv", small_course_dir / "customers.csv", tmp_path)
    html, _ = HTMLExporter().from_filename(str(tmp_path / "executed.ipynb"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert SCRIPT not in html


def test_missing_score_column_is_a_data_error(small_course_dir, tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(small_course_dir / "survey.csv", small_course_dir / "customers.csv", tmp_path, score_col="likelihood")
    assert "DataError" in str(err.value) and "likelihood" in str(err.value)


def test_key_findings_heading_once(executed):
    out, _ = executed
    nb = nbformat.read(out / "executed.ipynb", as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "markdown"]
    shown = [str(v) for c in nb.cells if c.cell_type == "code" for o in c.outputs
             for k, v in o.get("data", {}).items() if k == "text/markdown"]
    assert sum("Key findings" in t for t in sources + shown) == 1
    findings = next(i for i, c in enumerate(nb.cells) if c.source.strip() == "## Key findings")
    shown_next = next(c for c in nb.cells[findings + 1:] if c.cell_type == "code")  # after the heading's Chinese twin
    assert shown_next.outputs[0]["data"]["text/markdown"].startswith("- NPS is")


def _one_line_error(err, ename: str = "DataError") -> str:
    assert err.value.ename == ename
    assert "\n" not in err.value.evalue
    return err.value.evalue


def test_tiny_filtered_group_gives_no_report(small_course_dir, tmp_path):
    survey = pd.read_csv(small_course_dir / "survey.csv", dtype=str, keep_default_na=False)
    survey["wave"] = ["pilot"] * 3 + ["main"] * (len(survey) - 3)
    survey.to_csv(tmp_path / "survey.csv", index=False)
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(tmp_path / "survey.csv", small_course_dir / "customers.csv", tmp_path, filters={"wave": "pilot"})
    assert "only 3 responses matching filters" in _one_line_error(err)
    nb = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type != "error"]
    assert shown == [] and not (tmp_path / "report" / "results.json").exists()


def test_bad_parameter_fails_before_reading_data(small_course_dir, tmp_path):
    with pytest.raises(pm.PapermillExecutionError) as err:
        run(tmp_path / "no_such_survey.csv", small_course_dir / "customers.csv", tmp_path, confidence=95)
    assert _one_line_error(err, "ParameterError").startswith("parameters: confidence = 95")  # a DataError subclass
