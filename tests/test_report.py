"""The batch runner, on two tiny fixture notebooks (one writes results.json, one raises a DataError)."""
from __future__ import annotations

import hashlib
import html
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


# A malformed reports.yml stops everything (exit 2) ...
BAD_CONFIGS = [
    ({"job": [_job()]}, "top level: unknown key 'job'"),
    ({"jobs": []}, "'jobs' must be a non-empty list"),
    ({"jobs": [_job(fanout={"column": "region"})]}, "job 'a': unknown key 'fanout'"),
    ({"jobs": [{"name": "a"}]}, "job 'a': 'notebook' (a path to a .ipynb) is required"),
    ({"jobs": [_job(), _job()]}, "duplicate job name 'a'"),
    ({"jobs": [_job(name="a b")]}, "'name' must be letters"),
    ({"jobs": [_job(parameters={"output_dir": "x"})]}, "'output_dir' is set by the runner"),
    ({"defaults": {"parameter": {}}, "jobs": [_job()]}, "'defaults': unknown key 'parameter'"),
    ({"jobs": [_job(fan_out={"column": "region", "data": ["data/customers.csv"]})]}, "'fan_out' needs 'data'"),
    ({"jobs": [_job(fan_out={"data": "data/customers.csv"})]}, "job 'a': 'fan_out' needs 'column'"),
    ({"jobs": [_job(fan_out="region")]}, "job 'a': 'fan_out' must be a mapping"),
    ("jobs: [name: a\n", "not valid YAML: line"),
]
# ... a job that is well-formed but cannot run fails on its own; the others still run (DESIGN §5)
JOB_PROBLEMS = [
    (_job(notebook="notebooks/nope.ipynb"), "job 'a': notebook not found: "),
    (_job(parameters={"lable": "x"}), "job 'a': unknown parameter 'lable'"),
    (_job(fan_out={"column": "regoin", "data": "data/customers.csv"}),
     "column 'regoin': not found (fan-out of job 'a'); columns are: customer_id, region"),
    (_job(fan_out={"column": "region", "data": "data/missing.csv"}), "fan-out data file not found"),
    (_job(fan_out={"column": "region", "data": "data/ragged.csv"}),
     "more fields than the header"),
    (_job(notebook="data/customers.csv"), "not a readable notebook"),
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


@pytest.mark.parametrize(("job", "message"), JOB_PROBLEMS, ids=[m[:30] for _, m in JOB_PROBLEMS])
def test_a_job_that_cannot_run_fails_alone(project, job, message):
    (project / "data" / "ragged.csv").write_text("customer_id,region\nc1,North\nc2,South,extra\n", encoding="utf-8")
    path = write_config(project, {"jobs": [_job(name="first"), job, _job(name="last")]})
    jobs = report.load_config(path)
    assert [j.name for j in jobs] == ["first", "a", "last"]
    assert jobs[0].problem is None and jobs[2].problem is None
    problem = jobs[1].problem
    assert message in problem
    assert "\n" not in problem
    # the run turns it into a failed job with a page saying why, without starting a kernel
    result = report._run_job(jobs[1], project / "out", False, None)
    assert result.status == "failed" and result.error == f"ConfigError: {problem}"
    assert html.escape(message) in (project / "out" / "a" / "report.html").read_text(encoding="utf-8")


def test_broken_jobs_do_not_break_selection_overrides_or_list(project, capsys):
    path = write_config(project, {"jobs": [
        _job(),
        _job(name="gone", notebook="notebooks/gone.ipynb"),
        _job(name="b", fan_out={"column": "region", "data": "data/nope.csv"}),
    ]})
    jobs = report.load_config(path, only=["b/north", "a"], overrides={"n": 2})
    assert [(j.name, j.problem is None) for j in jobs] == [("a", True), ("b", False)]
    assert jobs[0].parameters["n"] == 2
    with pytest.raises(ConfigError, match="'nope' is not a parameter of any selected job's notebook"):
        report.load_config(path, overrides={"nope": 1})
    assert report.main(["--config", str(path), "--list"]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^gone .*CANNOT RUN: .*job 'gone': notebook not found: ", listed, re.M)
    assert re.search(r"^b .*CANNOT RUN: .*fan-out data file not found", listed, re.M)


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
    data.write_text("region;n\nNorth;1\n华东;3\n;4\n??;5\nEast/West;6\n", encoding="utf-8")  # semicolons, CJK, blanks
    assert report.fan_out_values(data, "region") == [("??", "value-" + report.slugify("??")[-6:]),
                                                     ("East/West", "east-west"), ("North", "north"), ("华东", "华东")]
    # a value's folder depends on the value alone: two values that would share one are refused, not renumbered
    data.write_text("region\nNorth\nnorth\nSouth\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="values 'North' and 'north' would share the folder 'north'"):
        report.fan_out_values(data, "region")
    assert report.slugify("x" * 300) == "x" * 60 + "-" + report.slugify("x" * 300)[-6:]
    assert report.slugify("x" * 300) != report.slugify("x" * 299)
    numbers = tmp_path / "n.csv"
    numbers.write_text("tier\n2\n1\n2\n", encoding="utf-8")
    assert report.fan_out_values(numbers, "tier") == [(1, "1"), (2, "2")]


def test_fan_out_values_are_read_like_every_input(tmp_path):
    """The notebooks read files with loyaltylab.io; the fan-out must see the same values (else a part finds no rows)."""
    gbk = tmp_path / "c.txt"
    gbk.write_bytes("编号\t区域\nC1\t华东 \nC2\tN/A\nC3\t-\n\nC4\t华北\nC5\tnull\nC6\t 华东\n".encode("gbk"))
    assert report.fan_out_values(gbk, "区域") == [("华东", "华东"), ("华北", "华北")]
    book = tmp_path / "c.xlsx"
    import pandas as pd

    pd.DataFrame({"customer_id": ["a", "b", "c"], "tier": ["gold", "NA", "silver"]}).to_excel(book, index=False)
    assert report.fan_out_values(book, "tier") == [("gold", "gold"), ("silver", "silver")]
    bad = tmp_path / "bad.csv"
    bad.write_text('region,n\n"North,1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.csv: unclosed quote: .* \(fan-out data of job 'x'\)$"):
        report.fan_out_values(bad, "region", job="x")


def test_fan_out_without_data_uses_the_course_customers_file(project, tmp_path, monkeypatch):
    course = tmp_path / "course"
    course.mkdir()
    (course / "customers.csv").write_text("customer_id,region\nc1,Nord\nc2,Süd\nc3,Nord\n", encoding="utf-8")
    monkeypatch.setenv("LOYALTYLAB_DATA", str(course))
    path = write_config(project, {"jobs": [_job(fan_out={"column": "region"})]})
    jobs = report.load_config(path)
    assert [j.name for j in jobs] == ["a/nord", "a/süd"]
    assert [j.parameters["filters"] for j in jobs] == [{"region": "Nord"}, {"region": "Süd"}]
    monkeypatch.setenv("LOYALTYLAB_DATA", str(tmp_path / "nowhere"))
    (job,) = report.load_config(path)
    assert "fan-out data file not found" in job.problem and "nowhere/customers.csv" in job.problem


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


LATER_JOBS = ["02_service_quality", "03_loyalty_drivers", "04_churn_survival", "05_dual_proactivity_and_recovery"]


def test_committed_reports_yml(small_course_dir, monkeypatch):
    monkeypatch.setenv("LOYALTYLAB_DATA", str(small_course_dir))
    path = ROOT / "reports.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [j["name"] for j in config["jobs"]] == ["00_data_overview", "01_nps", "01_nps_by_region", *LATER_JOBS]
    assert config["jobs"][2]["fan_out"] == {"column": "region"}  # the course customers file ($LOYALTYLAB_DATA)
    jobs = report.load_config(path)
    assert len(jobs) > 4 and all(j.notebook.exists() for j in jobs)
    assert [j.name for j in jobs if j.problem] == []


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


@pytest.mark.notebook
def test_jobs_that_cannot_start_fail_alone_and_the_batch_goes_on(project, capsys):
    config = write_config(project, {"jobs": [
        _job(name="missing", notebook="notebooks/nope.ipynb"),
        _job(name="good"),
        _job(name="typo", parameters={"lable": "x"}),
        _job(name="regions", fan_out={"column": "region", "data": "data/nope.csv"}),
    ]})
    out = project / "out"
    (out / "typo").mkdir(parents=True)
    (out / "typo" / "results.json").write_text("{}", encoding="utf-8")  # from an earlier run: must not survive
    assert report.main(["--config", str(config), "--out", str(out), "-j", "2"]) == 1
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    jobs = {j["name"]: j for j in manifest["jobs"]}
    assert list(jobs) == ["missing", "good", "typo", "regions"]
    assert manifest["summary"] == {"jobs": 4, "ok": 1, "failed": 3}
    assert jobs["good"]["status"] == "ok" and (out / "good" / "results.json").exists()
    assert re.match(r"ConfigError: \S*reports\.yml: job 'missing': notebook not found: ", jobs["missing"]["error"])
    assert "unknown parameter 'lable'" in jobs["typo"]["error"]
    assert "fan-out data file not found" in jobs["regions"]["error"]
    assert not (out / "typo" / "results.json").exists()
    for name in ("missing", "typo", "regions"):
        assert jobs[name]["status"] == "failed"
        assert "ConfigError" in (out / name / "report.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr class=\"(\w+-row)\">", index)
    assert rows == ["failed-row", "ok-row", "failed-row", "failed-row"]
    text = capsys.readouterr().out
    assert "1 ok, 3 failed" in text
    assert re.search(r"FAILED missing: ConfigError: \S*reports\.yml: job 'missing': notebook not found", text)
    assert "FAILED regions: ConfigError: " in text


# ---------------------------------------------------------------------------------------------------------------
# Manifest packages, headline order, offline pages


def test_manifest_lists_every_declared_dependency_and_python(tmp_path):
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = [re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec).group(0) for spec in declared]
    assert {"matplotlib", "pandera", "pyarrow", "openpyxl", "jieba", "pyyaml"} <= set(names)
    result = report.JobResult(name="a", notebook=OK_NB, parameters={}, status="ok", error=None, seconds=1.0,
                              out_dir=tmp_path / "a")
    packages = report.build_manifest([result], tmp_path, 1.0)["packages"]
    for name in names:
        assert packages.get(name), f"{name} missing from the manifest's packages"
    assert packages["python"] and packages["loyaltylab"]
    assert not {"pytest", "ruff", "pytest-xdist"} & set(packages)  # dev tools are not what the reports ran on


def test_index_shows_headline_numbers_in_the_notebooks_order(tmp_path):
    results = {"headline": {"Alpha": 1, "Customers": 3000, "Zeta": 2, "Churned": 0.25},
               "headline_order": ["Customers", "Churned", "not a headline", "Customers"]}
    headline = report.headline_from_results(results)
    assert list(headline) == ["Customers", "Churned", "Alpha", "Zeta"]
    assert list(report.headline_from_results({"headline": {"b": 1, "a": 2, "C": 3}})) == ["C", "a", "b"]
    assert report.headline_from_results({"headline": "n/a"}) == {} and report.headline_from_results(None) == {}
    result = report.JobResult(name="a", notebook=OK_NB, parameters={}, status="ok", error=None, seconds=1.0,
                              out_dir=tmp_path / "a", headline=headline)
    manifest = report.build_manifest([result], tmp_path, 1.0)
    assert manifest["jobs"][0]["headline_order"] == ["Customers", "Churned", "Alpha", "Zeta"]
    written = json.loads(json.dumps(manifest, sort_keys=True))  # manifest.json sorts keys; the order survives
    for m in (manifest, written):
        assert re.findall(r"<dt>(.*?)</dt>", report.render_index(m)) == ["Customers", "Churned", "Alpha", "Zeta"]


# <script src="http…">, <link href="//cdn…">: anything a browser would fetch when the page is opened
EXTERNAL_ASSET = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)


def test_report_html_loads_nothing_from_the_network(tmp_path):
    import nbformat

    code = nbformat.v4.new_code_cell("print('hello')", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="FIXTURE-OFFLINE-OUTPUT\n"),
        nbformat.v4.new_output("display_data", data={"text/html": "<b>a table</b>", "text/plain": "a table"}),
    ])
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Offline\n\nSee [the guide](https://example.org/guide) for $n$ details."),
        code,
    ])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {}, "version_major": 2, "version_minor": 0}}
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nb, executed)
    page = report.export_html(executed, tmp_path / "report.html", title="offline").read_text(encoding="utf-8")
    assert "FIXTURE-OFFLINE-OUTPUT" in page and "<b>a table</b>" in page
    assert EXTERNAL_ASSET.findall(page) == []
    assert not re.search(r"cdnjs|jsdelivr|unpkg|require\.min\.js|mathjax", page, re.I)
    assert 'href="https://example.org/guide"' in page  # a link in the text is fine: nothing loads it


@pytest.mark.notebook
def test_committed_reports_yml_end_to_end_on_the_small_course_data(small_course_dir, tmp_path, monkeypatch, capsys):
    """`make reports` on the small course world: the committed reports.yml, two workers, every job ok.

    LOYALTYLAB_DATA goes into os.environ, which the spawned workers and their kernels inherit."""
    import pandas as pd

    monkeypatch.setenv("LOYALTYLAB_DATA", str(small_course_dir))
    out = tmp_path / "reports"
    rc = report.main(["-j", "2", "--out", str(out)])  # as the Makefile: no --config, so the project's reports.yml
    text = capsys.readouterr().out
    assert rc == 0, text
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (out / "index.html").exists()
    regions = sorted(pd.read_csv(small_course_dir / "customers.csv")["region"].dropna().unique())
    assert len(regions) >= 3
    parts = [f"01_nps_by_region/{report.slugify(r)}" for r in regions]
    jobs = {j["name"]: j for j in manifest["jobs"]}
    assert list(jobs) == ["00_data_overview", "01_nps", *parts, *LATER_JOBS]
    assert [(n, j["error"]) for n, j in jobs.items() if j["status"] != "ok"] == []
    assert manifest["summary"] == {"jobs": len(jobs), "ok": len(jobs), "failed": 0}
    assert [jobs[p]["parameters"]["filters"] for p in parts] == [{"region": r} for r in regions]
    index = (out / "index.html").read_text(encoding="utf-8")
    for name, job in jobs.items():
        folder = out / name
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        page = (folder / "report.html").read_text(encoding="utf-8")
        assert EXTERNAL_ASSET.findall(page) == [], name
        assert f'href="{name}/report.html"' in index
        # the kernels read the small data, not data/course: the environment reached them
        assert job["inputs"], name
        assert {Path(p).resolve().parent for p in job["inputs"]} == {small_course_dir.resolve()}, name
        assert all(job["inputs"].values()), name
        order = [k for k in results.get("headline_order", []) if k in results.get("headline", {})]
        assert job["headline_order"][: len(order)] == order, name


def test_index_joins_an_interval_to_its_number_and_shows_counts_as_integers():
    items = [("NPS", 22.5), ("CI low", 20.8), ("CI high", 24.2), ("Responses", 4980), ("Expected", 670.0)]
    assert report._with_intervals(items) == [("NPS", "22.5 (20.8–24.2)"), ("Responses", "4,980"),
                                             ("Expected", "670")]
    assert report._with_intervals([("CI low", None)]) == [("CI low", "–")]


def test_a_fan_out_part_says_which_part_in_its_title_and_heading(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 · Net Promoter Score\n\ntext")])
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nb, executed)
    report.export_html(executed, tmp_path / "report.html", title="01_nps_by_region/north",
                       parameters={"filters": {"region": "North <b>"}})
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<title>01 · Net Promoter Score — region: North &lt;b&gt;</title>" in page
    assert "region: North &lt;b&gt;</h2>" in page


# ---------------------------------------------------------------------------------------------------------------
# Half the batch overhead (issue 15): warm kernels, longest job first, inputs read once, a quick start


def _notebook(path: Path, *cells: str, parameters: str = "output_dir = '.'\ninteractive = True") -> Path:
    import nbformat

    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A chart in words"), params,
                                         *(nbformat.v4.new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


CHART_CELLS = (
    "import sys\nimport matplotlib.pyplot as plt\nfrom loyaltylab import plots",
    "print('warm-up names:', sorted(n for n in globals() if 'warm' in n))\n"
    "print('pyplot imported before this cell:', 'matplotlib.pyplot' in sys.modules)",
    "fig, ax = plt.subplots(figsize=(2, 1))\nax.plot([1, 2])\nplt.show()",
)


@pytest.mark.notebook
def test_a_warm_kernel_runs_the_notebook_as_a_fresh_one_would(tmp_path):
    """The kernel warmed up ahead imports the notebook's modules, and nothing else changes: no name is left in the
    notebook's namespace, execution counts start at 1, figures still reach the page (the inline backend), and the
    kernel shuts down afterwards."""
    import nbformat

    from loyaltylab import kernels

    nb_path = _notebook(tmp_path / "chart.ipynb", *CHART_CELLS)
    assert kernels.notebook_imports(nb_path)[:4] == ["sys", "matplotlib.pyplot", "loyaltylab", "loyaltylab.plots"]
    with kernels.KernelPool() as pool:
        pool.prepare(nb_path)
        km = pool.take(nb_path)
        assert km is not None and km.is_alive()  # started and warmed up ahead
        pool.release(km)
        cold = report.run_notebook(nb_path, {}, tmp_path / "cold", name="cold")
        warm = report.run_notebook(nb_path, {}, tmp_path / "warm", name="warm", kernel_pool=pool)
    assert km.has_kernel is False or not km.is_alive()  # released kernels are shut down with the pool
    outputs = {}
    for result in (cold, warm):
        assert result.ok, result.error
        nb = nbformat.read(result.out_dir / "executed.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
        outputs[result.name] = [o.get("text", "") for c in code for o in c.outputs if o.get("name") == "stdout"]
        assert sum("image/png" in o.get("data", {}) for c in code for o in c.outputs) == 1
        assert result.title == "A chart in words"
    assert outputs["warm"] == outputs["cold"] == ["warm-up names: []\npyplot imported before this cell: True\n"]


@pytest.mark.notebook
def test_a_kernel_that_cannot_warm_up_falls_back_to_an_ordinary_start(tmp_path, monkeypatch):
    from loyaltylab import kernels

    nb_path = _notebook(tmp_path / "chart.ipynb", "print('ran')")
    monkeypatch.setattr(kernels, "warm_up_code", lambda modules: "1 / 0")
    with kernels.KernelPool() as pool:
        assert pool.take(nb_path) is None  # the warm-up failed: that kernel is gone ...
        result = report.run_notebook(nb_path, {}, tmp_path / "out", kernel_pool=pool)
    assert result.ok, result.error  # ... and papermill started one the ordinary way
    assert "ran" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    # a kernel warmed for another folder is not used for this one
    other = tmp_path / "other"
    other.mkdir()
    with kernels.KernelPool() as pool:
        pool.prepare(_notebook(other / "x.ipynb", "pass"))
        assert pool.take(nb_path) is None


def test_warm_up_code_leaves_no_name_and_survives_a_missing_module():
    from loyaltylab import kernels

    namespace: dict = {}
    exec(kernels.warm_up_code(["json", "no_such_module_xyz", "IPython.display.HTML"]), namespace)  # noqa: S102
    assert set(namespace) == {"__builtins__"}


def _jobs(*specs):
    return [report.Job(name=name, notebook=Path(f"notebooks/{nb}.ipynb"), problem=problem)
            for name, nb, problem in specs]


def test_longest_job_first_with_several_workers_config_order_with_one():
    jobs = _jobs(("00", "00_data_overview", None), ("01", "01_nps", None), ("01r/a", "01_nps", None),
                 ("04", "04_churn_survival", None), ("05", "05_dual_proactivity_and_recovery", None),
                 ("bad", "01_nps", "cannot start"), ("new", "99_new", None))
    assert report.run_order(jobs, [], workers=1) == list(range(7))
    # no previous manifest: the static order (churn, dual proactivity first); jobs that cannot start come first
    order = [jobs[i].name for i in report.run_order(jobs, [], workers=2)]
    assert order == ["bad", "04", "05", "new", "01", "01r/a", "00"]
    # a previous manifest's times win; a new part of a known notebook costs that notebook's mean time
    previous = [{"name": "00", "notebook": "notebooks/00_data_overview.ipynb", "seconds": 50.0, "status": "ok"},
                {"name": "01", "notebook": "notebooks/01_nps.ipynb", "seconds": 4.0, "status": "ok"},
                {"name": "04", "notebook": "notebooks/04_churn_survival.ipynb", "seconds": 20.0, "status": "ok"},
                {"name": "05", "notebook": "notebooks/05_dual_proactivity_and_recovery.ipynb", "seconds": 9.0,
                 "status": "ok"}]
    order = [jobs[i].name for i in report.run_order(jobs, previous, workers=2)]
    assert order == ["bad", "00", "04", "new", "05", "01", "01r/a"]
    ahead = report._next_notebooks(jobs, report.run_order(jobs, previous, workers=2), 2)
    # the kernel warmed while a job runs is for the job two places later (the one its worker most likely runs next)
    assert ahead[0] == jobs[6].notebook and ahead[6] == jobs[1].notebook and ahead[2] is None and ahead[5] is None


@pytest.mark.notebook
def test_serial_batch_writes_every_page_in_config_order_and_leaves_nothing_behind(project):
    import subprocess

    config = write_config(project, {"jobs": [
        {"name": "one", "notebook": "notebooks/ok.ipynb", "parameters": {"n": 1}},
        {"name": "broken", "notebook": "notebooks/fail.ipynb"},
        {"name": "two", "notebook": "notebooks/ok.ipynb", "parameters": {"n": 2}},
    ]})
    out = project / "out"
    results = report.run_jobs(report.load_config(config), out, workers=1)
    assert [(r.name, r.status) for r in results] == [("one", "ok"), ("broken", "failed"), ("two", "ok")]
    assert "values must be 0-10" in (out / "broken" / "report.html").read_text(encoding="utf-8")
    assert "FIXTURE-OUTPUT 2 2" in (out / "two" / "report.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [(j["name"], j["title"]) for j in manifest["jobs"]] == [
        ("one", "Fixture: a notebook that succeeds"), ("broken", "Fixture: a notebook that fails"),
        ("two", "Fixture: a notebook that succeeds")]
    assert not [p for p in out.iterdir() if p.name.startswith(".work-")]  # scratch and the batch cache removed
    kernels_left = subprocess.run(["pgrep", "-f", f"ipykernel_launcher.*{project.name}"], capture_output=True)
    assert kernels_left.stdout == b""


# --- inputs validated once per batch ------------------------------------------------------------------------


def _counting_reader(calls: list):
    import pandas as pd

    from loyaltylab import outputs

    @outputs.reused_in_batch
    def read(path, table, *, columns=None):
        calls.append((Path(path).name, table))
        text = Path(path).read_text(encoding="utf-8")
        if "bad" in text:
            raise DataError(Path(path).name, "x", "values must be numbers", rows=[0], values=["bad"])
        frame = pd.DataFrame({"x": [len(text)], "date": pd.to_datetime(["2024-03-01"])})
        frame.attrs["loyaltylab"] = {"source": Path(path).name}
        return frame

    return read


def test_a_batch_validates_an_input_once_per_content_and_options(tmp_path, monkeypatch):
    import pandas as pd

    from loyaltylab import outputs

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n", encoding="utf-8")
    b.write_text("x\n1\n", encoding="utf-8")  # same content, another file: its own frame (attrs name the file)
    calls: list = []
    read = _counting_reader(calls)
    monkeypatch.delenv(outputs.BATCH_CACHE_ENV, raising=False)
    read(a, "survey"), read(a, "survey")
    assert len(calls) == 2  # outside a batch: the reader itself
    calls.clear()
    with outputs.batch_cache(tmp_path) as cache:
        assert oct(cache.stat().st_mode & 0o777) == "0o700"
        monkeypatch.setenv(outputs.BATCH_CACHE_ENV, str(cache))
        first = read(a, "survey", columns={"X": "x"})
        again = read(a, "survey", columns={"X": "x"})
        pd.testing.assert_frame_equal(first, again)
        assert again.attrs == first.attrs and again is not first
        read(a, "survey", columns={"Y": "x"})  # other options
        read(b, "survey", columns={"X": "x"})  # other file
        assert calls == [("a.csv", "survey"), ("a.csv", "survey"), ("b.csv", "survey")]
        a.write_text("x\n22\n", encoding="utf-8")  # changed content: read again
        assert read(a, "survey", columns={"X": "x"})["x"].iloc[0] == len("x\n22\n")
        a.write_text("x\nbad\n", encoding="utf-8")  # an error is never cached: every job reports it
        for _ in range(2):
            with pytest.raises(DataError, match="values must be numbers"):
                read(a, "survey")
        assert len(calls) == 6
    assert not cache.exists()


def test_the_data_period_reaches_results_json(tmp_path, monkeypatch):
    from loyaltylab import outputs, results

    monkeypatch.delenv(outputs.BATCH_CACHE_ENV, raising=False)
    data = tmp_path / "survey.csv"
    data.write_text("x\n1\n", encoding="utf-8")
    _counting_reader([])(data, "survey")
    shown = display_path(data)
    doc = results.document("demo", params={"snapshot_date": None}, inputs={"survey": shown}, headline={})
    assert doc["data_period"] == {"first": "2024-03-01", "last": "2024-03-01", "snapshot": None}
    doc = results.document("demo", params={"snapshot_date": "2024-06-30"}, inputs={"survey": shown}, headline={})
    assert doc["data_period"]["snapshot"] == "2024-06-30"
    (tmp_path / "truth.json").write_text('{"snapshot_date": "2024-04-30"}', encoding="utf-8")  # the course world
    assert outputs.data_period({"survey": shown})["snapshot"] == "2024-04-30"
    assert outputs.data_period({"other": "nowhere.csv"}) == {"first": None, "last": None, "snapshot": None}


# --- the index a manager reads (issue 9) ------------------------------------------------------------------------


def test_index_says_counts_with_their_horizon_and_a_median_not_reached(tmp_path):
    churn = {"analysis": "churn", "time_unit": "days", "horizon": 90.0, "first": "2023-07-01",
             "last": "2026-06-29", "snapshot": "2026-06-30"}
    headline = {"Customers": 20000, "Churned": 5081, "Median lifetime": None, "Expected churners": 669.6,
                "C-index (test)": 0.6689}
    result = report.JobResult(name="04_churn_survival", notebook=OK_NB, parameters={}, status="ok", error=None,
                              seconds=1.0, out_dir=tmp_path / "a", headline=headline, title="04 · Churn: who leaves",
                              context=churn)
    page = report.render_index(report.build_manifest([result], tmp_path, 1.0))
    pairs = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert pairs["Expected churners in the next 90 days"] == "670"
    assert pairs["Median lifetime"].startswith("not reached (more than half")
    assert pairs["Customers"] == "20,000" and pairs["C-index (test)"] == "0.669"
    assert "–" not in page.split("<tbody>")[1].split("</tbody>")[0]
    assert "<b>04 · Churn: who leaves</b>" in page and "<code>04_churn_survival</code>" in page
    assert "Data 2023-07-01 to 2026-06-29 · snapshot 2026-06-30" in page
    # a median that is reached reads in its unit
    assert report.say_headline("Median lifetime", 1072.0, churn) == ("Median lifetime", "1,072 days")


def test_index_words_for_p_values_outcomes_and_missing_numbers():
    assert report.say_headline("Interaction p", 0.0) == ("Interaction p", "< 0.001")
    assert report.say_headline("Interaction p", 0.0342) == ("Interaction p", "0.034")
    assert report.say_headline("Outcome", "nps", {"analysis": "drivers"}) == ("Outcome", "NPS (0–10)")
    assert report.say_headline("Outcome", "repurchase_intent") == ("Outcome", "Repurchase intent")
    assert report.say_period({}) == "" and report.say_period({"snapshot": "2026-06-30"}) == "snapshot 2026-06-30"
    result = report.JobResult(name="x", notebook=OK_NB, parameters={}, status="ok", error=None, seconds=1.0,
                              out_dir=Path("x"), headline={"Effect": None})
    page = report.render_index(report.build_manifest([result], Path("."), 1.0))
    assert "– : not available for these data" in page  # a dash is explained


def test_headline_context_from_results_json():
    doc = {"analysis": "churn", "time_unit": "days", "params": {"horizon": 90.0, "snapshot_date": None},
           "data_period": {"first": "2023-07-01", "last": "2026-06-29", "snapshot": "2026-06-30"}}
    assert report.headline_context(doc) == {"analysis": "churn", "time_unit": "days", "horizon": 90.0,
                                            "first": "2023-07-01", "last": "2026-06-29", "snapshot": "2026-06-30"}
    assert report.headline_context(None) == {} and report.headline_context({"params": "x"}) == {}


# --- a quick start ----------------------------------------------------------------------------------------------


def test_the_runner_starts_without_compiling_a_grammar_or_importing_other_commands():
    """`python -m loyaltylab report` imports neither the course-data generator (scipy) nor jsonschema's RFC 3987
    grammar (jsonschema issue #1428; the notebook schema never uses it), and notebooks are still validated."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from loyaltylab import cli, report\n"
        "cli.build_parser('report')\n"
        f"report.notebook_parameters({str(OK_NB)!r})\n"
        "import nbformat\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x')])\n"
        "nb.cells[0]['bogus'] = 1\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('invalid notebook refused')\n"
        "print(sorted(m for m in ('scipy', 'loyaltylab.synth', 'rfc3987_syntax') if sys.modules.get(m)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert proc.stdout.splitlines() == ["invalid notebook refused", "[]"]


def test_the_same_executed_notebook_gives_the_same_page(tmp_path):
    """Cells the page adds (parameters, the part covered, a failure) have fixed ids; the exporter is reused."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 · NPS"),
                                         nbformat.v4.new_code_cell("1", outputs=[])])
    executed = tmp_path / "executed.ipynb"
    nbformat.write(nb, executed)
    pages = []
    for i in range(2):
        report._html_exporter.cache_clear() if i else None
        report.export_html(executed, tmp_path / f"{i}.html", title="x", error="Boom: it broke",
                           parameters={"filters": {"region": "North"}, "min_cell": 5})
        pages.append((tmp_path / f"{i}.html").read_bytes())
    assert pages[0] == pages[1]
    assert b"This report failed: Boom: it broke" in pages[0] and b"region: North</h2>" in pages[0]
    assert report.page_title(tmp_path / "0.html") == "01 · NPS — region: North"


def test_an_interval_of_negative_numbers_reads_with_to_and_a_period_needs_every_input(tmp_path, monkeypatch):
    from loyaltylab import outputs

    assert report._with_intervals([("Gap", -0.59), ("CI low", -0.62), ("CI high", -0.56)]) == [
        ("Gap", "-0.59 (-0.62 to -0.56)")]
    monkeypatch.delenv(outputs.BATCH_CACHE_ENV, raising=False)
    survey, customers = tmp_path / "survey.csv", tmp_path / "customers.csv"
    for f in (survey, customers):
        f.write_text("x\n1\n", encoding="utf-8")
    _counting_reader([])(survey, "survey")  # the customers file is read without validation: its dates unknown
    inputs = {"survey": display_path(survey), "customers": display_path(customers)}
    assert outputs.data_period(inputs) == {"first": None, "last": None, "snapshot": None}
    _counting_reader([])(customers, "customers")
    assert outputs.data_period(inputs)["first"] == "2024-03-01"
