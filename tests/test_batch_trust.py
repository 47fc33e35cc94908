"""The batch's trust promises (issue 8): no code from parameters, bounded YAML, safe temp files, names that are
refused in one line, no fan-out over identifiers, and an index that never lies."""
from __future__ import annotations

import ast
import base64
import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml
from papermill.translators import PythonTranslator

from loyaltylab import outputs, paths, report, results
from loyaltylab.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"
PAYLOAD = base64.b64encode(b'__import__("os").system("touch /tmp/pwned")').decode()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "notebooks").mkdir()
    shutil.copy(FIXTURES / "ok.ipynb", tmp_path / "notebooks" / "ok.ipynb")
    (tmp_path / "data").mkdir()
    rows = "\n".join(f"c{i},{'North' if i % 2 else 'South'}" for i in range(40))
    (tmp_path / "data" / "customers.csv").write_text("customer_id,region\n" + rows + "\n", encoding="utf-8")
    return tmp_path


def _config(folder: Path, text: str) -> Path:
    path = folder / "reports.yml"
    path.write_text(text, encoding="utf-8")
    return path


# --- parameters never become code ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [f"!!binary {PAYLOAD}", "!!set {a: null}", "!!python/object:os.system [ls]",
                                 ".nan", "[1, !!binary QUJD]", "{a: !!binary QUJD}"])
def test_a_parameter_that_is_not_a_plain_value_is_refused_in_one_line(raw):
    with pytest.raises(ConfigError) as info:
        report.parse_assignments([f"score_col={raw}"])
    assert "\n" not in str(info.value) and "score_col" in str(info.value)


def test_the_same_in_reports_yml(project):
    path = _config(project, f"jobs:\n  - name: a\n    notebook: notebooks/ok.ipynb\n    parameters:\n"
                            f"      label: !!binary {PAYLOAD}\n")
    with pytest.raises(ConfigError, match="parameter 'label': a bytes value is not allowed"):
        report.load_config(path)


def test_run_notebook_refuses_non_plain_values_without_starting_a_kernel(tmp_path):
    start = time.perf_counter()
    result = report.run_notebook(FIXTURES / "ok.ipynb", {"label": b"__import__('os')"}, tmp_path / "out")
    assert result.status == "failed" and "bytes value is not allowed" in result.error
    assert time.perf_counter() - start < 5 and not (tmp_path / "out" / "executed.ipynb").exists()


HOSTILE_TEXT = ['"; import os; os.system("x"); "', "\\", "a\\nb", "line\nbreak", '"""', "'''", "\x00", "\u2028x",
                "{{ x }}", "${HOME}", "\\u0022", "é中文", "\r\n"]


@pytest.mark.parametrize("value", [*HOSTILE_TEXT, HOSTILE_TEXT, {"k\"ey": HOSTILE_TEXT[0]}, 1e308, -0.0, 2**70,
                                   True, None])
def test_every_plain_value_reaches_the_kernel_as_that_value(value):
    """What papermill writes into the parameters cell parses back to the same value and assigns nothing else."""
    plain = report._plain(value, "-p", "x")
    cell = PythonTranslator.codify({"x": plain})
    tree = ast.parse(cell)
    assigns = [n for n in tree.body if isinstance(n, ast.Assign)]
    assert len(assigns) == 1 and [t.id for t in assigns[0].targets] == ["x"]
    assert all(isinstance(n, ast.Assign) for n in tree.body)
    assert ast.literal_eval(assigns[0].value) == plain


def test_yaml_aliases_are_bounded(project):
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8))
    assert len(bomb) < 700
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="anchors and aliases expand to more than"):
        report.load_config(_config(project, bomb))
    with pytest.raises(ConfigError):
        report.parse_assignments(["x=" + bomb.replace("\n", ", ").join("{}")])
    assert time.perf_counter() - start < 2
    assert report.load_yaml("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}  # small aliases still work


# --- files and names ----------------------------------------------------------------------------------------------


def test_writes_never_follow_a_planted_temp_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    for planted in ("results.json.tmp", ".results.json.tmp", "index.html.tmp"):
        (out / planted).symlink_to(victim)
    results.write_results({"a": 1}, out)
    paths.write_atomic(out / "index.html", "<p>x</p>")
    assert victim.read_text(encoding="utf-8") == "keep"
    assert json.loads((out / "results.json").read_text(encoding="utf-8")) == {"a": 1}
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("name", ["index.html", "manifest.json", "INDEX.HTML", "x" * 101, "../up", "a/b"])
def test_job_names_that_would_clash_with_the_batch_files_are_refused(project, name):
    path = _config(project, yaml.safe_dump({"jobs": [{"name": name, "notebook": "notebooks/ok.ipynb"}]}))
    with pytest.raises(ConfigError, match="'name' must be letters"):
        report.load_config(path)


def test_long_and_odd_fan_out_values_get_stable_bounded_folders(project):
    long_value = "区域" * 150
    (project / "data" / "customers.csv").write_text(
        "customer_id,region\n" + "".join(f"c{i},{long_value if i % 2 else 'North/East'}\n" for i in range(40)),
        encoding="utf-8")
    values = report.fan_out_values(project / "data" / "customers.csv", "region")
    slugs = dict(values)
    assert len(slugs[long_value]) <= 67 and slugs["North/East"] == "north-east"
    # a value's folder does not depend on the other values present
    (project / "data" / "customers.csv").write_text("customer_id,region\n" + "".join(
        f"c{i},{long_value}\n" for i in range(20)), encoding="utf-8")
    assert dict(report.fan_out_values(project / "data" / "customers.csv", "region"))[long_value] == slugs[long_value]


@pytest.mark.parametrize(("column", "values"), [
    ("customer_id", None),
    ("customerID", None),
    ("who", [f"person{i}" for i in range(40)]),
    ("code", [f"{i:05d}" for i in range(300)] * 2),
])
def test_fan_out_over_an_identifier_is_refused_without_naming_values(project, column, values):
    rows = values or [f"c{i}" for i in range(40)]
    (project / "data" / "ids.csv").write_text(f"{column},region\n" + "".join(f"{v},North\n" for v in rows),
                                              encoding="utf-8")
    with pytest.raises(ConfigError, match="looks like an identifier") as info:
        report.fan_out_values(project / "data" / "ids.csv", column, job="j")
    assert rows[0] not in str(info.value)


def test_out_that_is_a_file_or_read_only_is_one_line(project, tmp_path, capsys, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    assert report.main(["--notebook", str(FIXTURES / "ok.ipynb"), "--out", str(afile)]) == 2
    err = capsys.readouterr().err
    assert "names an existing file, not a folder" in err and err.count("\n") == 1

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(outputs.tempfile, "NamedTemporaryFile", refuse)
    assert report.main(["--notebook", str(FIXTURES / "ok.ipynb"), "--out", str(tmp_path / "ro")]) == 2
    assert "the output folder is read-only" in capsys.readouterr().err


# --- the index never lies ------------------------------------------------------------------------------------------


def test_a_second_run_into_a_busy_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with outputs.exclusive(out):
        with pytest.raises(ConfigError, match="another report run is writing into this folder"):
            with outputs.exclusive(out):
                pass
    with outputs.exclusive(out):  # released afterwards
        pass


def test_install_replaces_outputs_whole_and_interrupted_scratch_is_cleaned(tmp_path):
    out = tmp_path / "out"
    (out / "job").mkdir(parents=True)
    (out / "job" / "report.html").write_text("old", encoding="utf-8")
    (out / "job" / "at_risk.csv").write_text("old ids", encoding="utf-8")
    scratch = outputs.scratch_folder(out)
    (scratch / "job").mkdir()
    (scratch / "job" / "report.html").write_text("new", encoding="utf-8")
    made = outputs.install(scratch / "job", out / "job")
    assert (out / "job" / "report.html").read_text(encoding="utf-8") == "new"
    assert not (out / "job" / "at_risk.csv").exists() and not scratch.exists() and made[:4].isdigit()
    left = outputs.scratch_folder(out)  # an interrupted run's leftovers
    (left / "job").mkdir()
    with outputs.exclusive(out):
        assert not left.exists()


@pytest.mark.notebook
def test_only_updates_its_rows_and_keeps_the_others(project):
    path = _config(project, yaml.safe_dump({"jobs": [
        {"name": "a", "notebook": "notebooks/ok.ipynb"}, {"name": "b", "notebook": "notebooks/ok.ipynb"}]}))
    out = project / "reports"
    assert report.main(["--config", str(path), "--out", str(out)]) == 0
    first = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [j["name"] for j in first["jobs"]] == ["a", "b"] and all(j["made_at"] for j in first["jobs"])
    assert report.main(["--config", str(path), "--out", str(out), "--only", "b"]) == 0
    second = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [j["name"] for j in second["jobs"]] == ["a", "b"]
    assert second["jobs"][0] == first["jobs"][0] and second["jobs"][1]["made_at"] >= first["jobs"][1]["made_at"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="a/report.html"' in index and 'href="b/report.html"' in index and "2 ok" in index
    assert not [p for p in os.listdir(out) if p.startswith(".work-")]
    # a job whose outputs are gone is no longer listed
    shutil.rmtree(out / "a")
    assert report.main(["--config", str(path), "--out", str(out), "--only", "b"]) == 0
    third = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [j["name"] for j in third["jobs"]] == ["b"]


# --- kernels started ahead never outlive the batch (issue 15) ------------------------------------------------------


@pytest.mark.notebook
@pytest.mark.parametrize("workers", [1, 2])
def test_no_kernel_and_no_cached_input_outlives_a_batch(project, workers):
    """Kernels are started one job ahead and shut down in the background; the batch's cache of validated inputs
    lives in a private folder. After the run neither is left: no kernel process below this one, no scratch."""
    import psutil

    path = _config(project, yaml.safe_dump({"jobs": [
        {"name": "a", "notebook": "notebooks/ok.ipynb"}, {"name": "b", "notebook": "notebooks/ok.ipynb"},
        {"name": "c", "notebook": "notebooks/ok.ipynb", "parameters": {"lable": "typo"}}]}))
    out = project / "reports"
    assert report.main(["--config", str(path), "--out", str(out), "-j", str(workers)]) == 1  # c cannot start
    assert [p for p in out.iterdir() if p.name.startswith(outputs.SCRATCH_PREFIX)] == []
    time.sleep(0.5)  # a -j worker's own exit is not awaited by the pool's shutdown in every Python version
    kernels_left = [p for p in psutil.Process().children(recursive=True)
                    if any("ipykernel" in part for part in _cmdline(p))]
    assert kernels_left == []


def _cmdline(process) -> list[str]:
    import psutil

    try:
        return process.cmdline()
    except psutil.Error:  # it ended meanwhile
        return []
