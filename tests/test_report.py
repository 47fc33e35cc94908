"""The batch runner, on two tiny fixture notebooks (one writes results.json, one raises a DataError)."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from loyaltylab import report
from loyaltylab.errors import DataError
from loyaltylab.paths import display_path
from loyaltylab.report import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
OK_NB = FIXTURES / "ok.ipynb"
FAIL_NB = FIXTURES / "fail.ipynb"
SCRIPT = "<script>alert('x')</script>"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the fixture notebooks and two small data files, as a user's own project would be."""
    (tmp_path / "notebooks").mkdir()
    shutil.copy(OK_NB, tmp_path / "notebooks" / "ok.ipynb")
    shutil.copy(FAIL_NB, tmp_path / "notebooks" / "fail.ipynb")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "customers.csv").write_text(
        "customer_id,region\nc1,North\nc2,South\nc3,North\nc4,East West\nc5,\n", encoding="utf-8"
    )
    (tmp_path / "data" / "survey.csv").write_text("response_id,nps\nr1,11\n", encoding="utf-8")
    return tmp_path


def write_config(folder: Path, config: dict | str) -> Path:
    path = folder / "reports.yml"
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# Running notebooks (each starts a kernel)


@pytest.mark.notebook
def test_single_notebook_parameters_are_yaml_and_show_code_keeps_code(tmp_path, capsys):
    out = tmp_path / "out"
    rc = report.main([
        "--notebook", str(OK_NB), "--out", str(out), "--show-code",
        "-p", "values=[1, 2, 3]", "-p", "n=4.5", "-p", "label=north", "-p", "filters={region: North}",
        "-p", "plot=true",
    ])
    assert rc == 0
    results = json.loads((out / "ok" / "results.json").read_text(encoding="utf-8"))
    assert results["parameters"] == {
        "values": [1, 2, 3], "n": 4.5, "label": "north", "filters": {"region": "North"}, "min_cell": 5,
        "interactive": False,
    }
    page = (out / "ok" / "report.html").read_text(encoding="utf-8")
    assert "fixture_hidden_source_marker" in page  # --show-code keeps the code
    assert "FIXTURE-OUTPUT 4.5 3" in page
    assert "data:image/png;base64," in page  # the matplotlib figure is embedded
    assert (out / "ok" / "executed.ipynb").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [j["name"] for j in manifest["jobs"]] == ["ok"]
    assert manifest["jobs"][0]["status"] == "ok"
    assert manifest["packages"]["papermill"] and manifest["packages"]["python"]
    text = capsys.readouterr().out
    assert re.search(r"^\[1/1\] ok ok \d+\.\ds$", text, re.M)
    assert "1 ok, 0 failed" in text and "index.html" in text


@pytest.mark.notebook
def test_batch_with_failing_and_fan_out_jobs_in_parallel(project, capsys):
    config = write_config(project, {
        "defaults": {"parameters": {"min_cell": 7, "label": "from defaults"}},
        "jobs": [
            {"name": "good", "notebook": "notebooks/ok.ipynb",
             "parameters": {"label": SCRIPT, "data_path": "data/customers.csv"}},
            {"name": "broken", "notebook": "notebooks/fail.ipynb", "parameters": {"survey_path": "data/survey.csv"}},
            {"name": "by_region", "notebook": "notebooks/ok.ipynb",
             "fan_out": {"column": "region", "data": "data/customers.csv"}},
        ],
    })
    out = project / "reports"
    rc = report.main(["--config", str(config), "--out", str(out), "-j", "2"])
    assert rc == 1
    names = ["good", "broken", "by_region/east-west", "by_region/north", "by_region/south"]

    # every job has its page, the good ones their results
    for name in names:
        assert (out / name / "report.html").exists(), name
        assert (out / name / "executed.ipynb").exists(), name
    north = json.loads((out / "by_region" / "north" / "results.json").read_text(encoding="utf-8"))
    assert north["parameters"]["filters"] == {"region": "North"}
    assert north["parameters"]["min_cell"] == 7 and north["parameters"]["label"] == "from defaults"
    east = json.loads((out / "by_region" / "east-west" / "results.json").read_text(encoding="utf-8"))
    assert east["parameters"]["filters"] == {"region": "East West"}
    assert not (out / "broken" / "results.json").exists()

    # code hidden by default; the failing cell and its error still show
    good_page = (out / "good" / "report.html").read_text(encoding="utf-8")
    assert "fixture_hidden_source_marker" not in good_page
    assert "FIXTURE-OUTPUT 3 2" in good_page
    assert SCRIPT not in good_page and "&lt;script&gt;" in good_page
    broken_page = (out / "broken" / "report.html").read_text(encoding="utf-8")
    assert "values must be 0-10" in broken_page
    assert re.search(r"raise(<[^>]*>|\s)*DataError", broken_page)  # the failing cell keeps its code
    assert "FIXTURE-BEFORE-FAILURE" in broken_page

    # index: one row per job, the failure marked, text escaped
    index = (out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr class=\"(\w+-row)\">(.*?)</tr>", index, re.S)
    assert len(rows) == len(names)
    assert [cls for cls, _ in rows] == ["ok-row", "failed-row", "ok-row", "ok-row", "ok-row"]
    assert "FAILED" in rows[1][1] and "DataError: survey.csv: column &#x27;nps&#x27;" in rows[1][1]
    assert 'href="by_region/north/report.html"' in index
    assert "<script" not in index and "&lt;script&gt;" in index
    assert "values (count)" in index  # headline numbers

    # manifest: config order, statuses, input hashes
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    jobs = {j["name"]: j for j in manifest["jobs"]}
    assert [j["name"] for j in manifest["jobs"]] == names
    assert jobs["broken"]["status"] == "failed"
    assert jobs["broken"]["error"].startswith("DataError: survey.csv: column 'nps': values must be 0-10")
    assert [v for k, v in jobs["good"]["inputs"].items() if k.endswith("data/customers.csv")] == [
        sha256(project / "data" / "customers.csv")]
    assert [v for k, v in jobs["broken"]["inputs"].items() if k.endswith("data/survey.csv")] == [
        sha256(project / "data" / "survey.csv")]
    assert jobs["good"]["parameters"]["label"] == SCRIPT
    assert manifest["summary"] == {"jobs": 5, "ok": 4, "failed": 1}
    assert manifest["run"]["workers"] == 2

    # console: a line per job, the summary names the failure
    text = capsys.readouterr().out
    assert len(re.findall(r"^\[\d/5\] ", text, re.M)) == 5
    assert re.search(r"^\[\d/5\] broken FAILED \d+\.\ds: DataError: survey.csv", text, re.M)
    assert "4 ok, 1 failed" in text
    assert "FAILED broken: DataError: survey.csv: column 'nps'" in text


# ---------------------------------------------------------------------------------------------------------------
# Config validation: one-line errors, no kernel needed


def _job(**extra):
    return {"name": "a", "notebook": "notebooks/ok.ipynb", **extra}


BAD_CONFIGS = [
    ({"job": [_job()]}, "top level: unknown key 'job'"),
    ({"jobs": []}, "'jobs' must be a non-empty list"),
    ({"jobs": [_job(fanout={"column": "region"})]}, "job 'a': unknown key 'fanout'"),
    ({"jobs": [{"name": "a"}]}, "job 'a': 'notebook' (a path to a .ipynb) is required"),
    ({"jobs": [_job(notebook="notebooks/nope.ipynb")]}, "job 'a': notebook not found: "),
    ({"jobs": [_job(), _job()]}, "duplicate job name 'a'"),
    ({"jobs": [_job(name="a b")]}, "'name' must be letters"),
    ({"jobs": [_job(parameters={"lable": "x"})]}, "job 'a': unknown parameter 'lable'"),
    ({"jobs": [_job(parameters={"output_dir": "x"})]}, "'output_dir' is set by the runner"),
    ({"defaults": {"parameter": {}}, "jobs": [_job()]}, "'defaults': unknown key 'parameter'"),
    ({"jobs": [_job(fan_out={"column": "regoin", "data": "data/customers.csv"})]},
     "column 'regoin': not found (fan-out of job 'a'); columns are: customer_id, region"),
    ({"jobs": [_job(fan_out={"column": "region", "data": "data/missing.csv"})]}, "fan-out data file not found"),
    ({"jobs": [_job(fan_out={"column": "region"})]}, "'fan_out' needs 'data'"),
    ("jobs: [name: a\n", "not valid YAML: line"),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONFIGS, ids=[m[:30] for _, m in BAD_CONFIGS])
def test_config_errors_are_one_line(project, config, message):
    path = write_config(project, config)
    with pytest.raises(ConfigError) as info:
        report.load_config(path)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(info.value, DataError)


def test_config_error_through_the_cli_exits_2_with_one_line(project, capsys):
    path = write_config(project, {"jobs": [_job(), _job()]})
    assert report.main(["--config", str(path), "--out", str(project / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "duplicate job name 'a'" in err
    assert err.count("\n") == 1
    assert not (project / "out").exists()


def test_selection_list_and_unknown_only(project, capsys):
    path = write_config(project, {"jobs": [
        _job(),
        _job(name="b", fan_out={"column": "region", "data": "data/customers.csv"}),
    ]})
    assert [j.name for j in report.load_config(path, only=["b"])] == ["b/east-west", "b/north", "b/south"]
    assert [j.name for j in report.load_config(path, only=["b/north", "a"])] == ["a", "b/north"]
    with pytest.raises(ConfigError, match="--only c: no such job; jobs are: a, b"):
        report.load_config(path, only=["c"])
    with pytest.raises(ConfigError, match="no such fan-out part; parts are: b/east-west, b/north, b/south"):
        report.load_config(path, only=["b/west"])
    assert report.main(["--config", str(path), "--list", "--only", "b/south"]) == 0
    assert "b/south" in capsys.readouterr().out


def test_parameter_layers_and_paths(project):
    path = write_config(project, {
        "defaults": {"parameters": {"min_cell": 3, "filters": {"segment": "gold"}, "survey_path": "data/survey.csv"}},
        "jobs": [_job(parameters={"min_cell": 4, "data_path": "data/customers.csv"}),
                 _job(name="b", fan_out={"column": "region", "data": "data/customers.csv"})],
    })
    jobs = report.load_config(path, overrides={"n": 9})
    a, b_north = jobs[0], jobs[2]
    # survey_path is not a parameter of ok.ipynb, so the default skips it; job beats defaults; -p beats both
    assert a.parameters == {"min_cell": 4, "filters": {"segment": "gold"}, "n": 9,
                            "data_path": str(project / "data" / "customers.csv")}
    assert b_north.parameters["filters"] == {"segment": "gold", "region": "North"}
    assert b_north.folder == "b/north" and b_north.group == "b"
    with pytest.raises(ConfigError, match="'nope' is not a parameter of any selected job's notebook"):
        report.load_config(path, overrides={"nope": 1})


def test_parse_assignments():
    assert report.parse_assignments(["a=[x, y]", "b=10", "c=0.5", "d=North", "e=null", "f={k: 1}", "g=2024-01-31",
                                     "h=", "i=a=b"]) == {
        "a": ["x", "y"], "b": 10, "c": 0.5, "d": "North", "e": None, "f": {"k": 1}, "g": "2024-01-31", "h": None,
        "i": "a=b",
    }
    for bad in ("novalue", "=1", "a-b=1", "x=[1, 2"):
        with pytest.raises(ConfigError):
            report.parse_assignments([bad])


def test_single_job_validates_parameters():
    assert report.single_job(OK_NB, {"n": 1}).name == "ok"
    with pytest.raises(ConfigError, match="unknown parameter 'nn'"):
        report.single_job(OK_NB, {"nn": 1})
    with pytest.raises(ConfigError, match="output_dir is set by the runner"):
        report.single_job(OK_NB, {"output_dir": "x"})


def test_notebook_without_parameters_cell_is_an_error(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, tmp_path / "bare.ipynb")
    with pytest.raises(ConfigError, match="no code cell tagged 'parameters'"):
        report.single_job(tmp_path / "bare.ipynb")


def test_fan_out_values_and_slugs(tmp_path):
    data = tmp_path / "c.csv"
    data.write_text("region;n\nNorth;1\nnorth;2\n华东;3\n;4\n??;5\n", encoding="utf-8")  # semicolons, CJK, blanks
    assert report.fan_out_values(data, "region") == [("??", "value"), ("North", "north"), ("north", "north-2"),
                                                     ("华东", "华东")]
    numbers = tmp_path / "n.csv"
    numbers.write_text("tier\n2\n1\n2\n", encoding="utf-8")
    assert report.fan_out_values(numbers, "tier") == [(1, "1"), (2, "2")]


def test_failed_job_inputs_fall_back_to_path_parameters_and_course_data(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTYLAB_DATA", str(tmp_path))
    survey = tmp_path / "survey.csv"
    survey.write_text("response_id,nps\nr1,5\n", encoding="utf-8")
    # no results.json: survey_path=None (the notebook's default) means the course survey file
    assert list(report.input_hashes(None, {}, FAIL_NB).values()) == [sha256(survey)]
    other = tmp_path / "other.csv"
    other.write_text("x\n", encoding="utf-8")
    assert list(report.input_hashes(None, {"survey_path": str(other)}, FAIL_NB).values()) == [sha256(other)]
    # results.json's own list wins; a missing file is recorded as None
    hashes = report.input_hashes({"inputs": {"survey": str(survey), "gone": str(tmp_path / "gone.csv")}}, {}, FAIL_NB)
    assert hashes == {display_path(survey): sha256(survey), display_path(tmp_path / "gone.csv"): None}


def test_index_escapes_everything_from_jobs(tmp_path):
    result = report.JobResult(
        name=f"a{SCRIPT}", notebook=OK_NB, parameters={"label": SCRIPT}, status="failed",
        error=f"ValueError: {SCRIPT}", seconds=1.0, out_dir=tmp_path / "a",
        headline={SCRIPT: 1.5, "n": SCRIPT}, inputs={f"{SCRIPT}.csv": None},
    )
    manifest = report.build_manifest([result], tmp_path, 1.0)
    page = report.render_index(manifest)
    assert "<script" not in page
    assert page.count("&lt;script&gt;") >= 5
    stable = report.stable_manifest(manifest)
    assert "run" not in stable and "seconds" not in stable["jobs"][0]


def test_committed_reports_yml():
    path = ROOT / "reports.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [j["name"] for j in config["jobs"]] == ["00_data_overview", "01_nps", "01_nps_by_region",
                                                   "04_churn_survival"]
    needed = [ROOT / j["notebook"] for j in config["jobs"]] + [ROOT / "data" / "course" / "customers.csv"]
    if not all(p.exists() for p in needed):
        pytest.skip("notebooks or course data not there yet")
    jobs = report.load_config(path)
    assert len(jobs) > 4 and all(j.notebook.exists() for j in jobs)


@pytest.mark.notebook
def test_cell_timeout_fails_the_job_with_a_page(tmp_path, capsys):
    import nbformat

    params = nbformat.v4.new_code_cell("output_dir = '.'\ninteractive = True")
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
    nbformat.write(nb, tmp_path / "slow.ipynb")
    assert report.main(["--notebook", str(tmp_path / "slow.ipynb"), "--timeout", "1", "--out", str(tmp_path)]) == 1
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("[1/1]"))
    assert "slow FAILED" in line and "CellTimeoutError: A cell timed out" in line and "time.sleep" not in line
    page = (tmp_path / "slow" / "report.html").read_text(encoding="utf-8")
    assert "This report failed: CellTimeoutError" in page
