"""The teaching edition (issue 14): exercises written into the notebooks from the registry; student notebooks with no
solution code and no answers; one course world per student, each answer key matching its own world; checks that
pass the reference solutions, fail wrong answers with a hint and never print the answer; grading by re-execution.

Two students on small worlds (1,500 customers, 200 bootstrap replicates) are built once per module; one returned
notebook per student is executed with papermill by the grader.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import json
import re
import subprocess
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from loyaltylab import cli, synth
from loyaltylab.errors import DataError
from loyaltylab.teaching import EXERCISES, applies, check, for_notebook, grade, student
from loyaltylab.teaching import context as contexts
from loyaltylab.teaching.answers import Choice, ChoiceSet, Number, Verdict, YesNo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CUSTOMERS = 1_500
COURSE_SEED = 7
OVERRIDES = {"*": {"n_bootstrap": 200}}
A, B = "0012", "s-b"  # a leading zero stays: ids are text
REGISTERED = sorted({e.notebook for e in EXERCISES.values()})
SECTION = {"exercises", "exercise", "solution"}


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _source(notebook: str):
    return nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4)


def _with_exercises() -> list[str]:
    """The committed notebooks that have an Exercises section."""
    return [nb for nb in REGISTERED if any("solution" in _tags(c) for c in _source(nb).cells)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("teaching") / "student"
    summaries = student.build(out, [student.Student(A, "张三"), student.Student(B, "Bee")], customers=CUSTOMERS,
                              course_seed=COURSE_SEED, overrides=OVERRIDES)
    keys = {s: json.loads((out / "answer_keys" / f"{s}.json").read_text(encoding="utf-8")) for s in (A, B)}
    return out, summaries, keys


def _context(out: Path, student_id: str, notebook: str) -> contexts.Context:
    folder = out / student_id / "notebooks"
    nb = nbformat.read(folder / f"{notebook}.ipynb", as_version=4)
    return contexts.from_parameters(notebook, student.parameters_of(student._parameters_cell(nb).source), folder)


@pytest.fixture(scope="module")
def contexts_a(built):
    out = built[0]
    return {nb: _context(out, A, nb) for nb in _with_exercises()}


# --- the notebooks' Exercises sections ----------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", REGISTERED)
def test_each_notebook_ends_with_its_exercises_written_from_the_registry(notebook):
    exercises = for_notebook(notebook)
    assert len(exercises) >= 3
    nb = _source(notebook)
    section = [c for c in nb.cells if _tags(c) & SECTION]
    expected = student.exercise_cells(notebook)
    assert [(c.id, c.cell_type, c.source, sorted(_tags(c))) for c in section] == [
        (c.id, c.cell_type, c.source, sorted(_tags(c))) for c in expected], \
        f"rewrite the section: student.add_exercise_cells('notebooks/{notebook}.ipynb')"
    assert nb.cells[-len(section):] == section  # at the end, after every other cell
    assert all("course-only" in _tags(c) for c in section)  # left out of reports on a user's own data
    for ex in exercises:
        for text in (ex.prompt_zh, ex.hint_zh, ex.checked_zh, ex.title_zh):
            assert re.search(r"[\u4e00-\u9fff]", text), (ex.id, text)
        for text in (ex.prompt_en, ex.hint_en, ex.checked_en):
            assert len(re.findall(r"[\u4e00-\u9fff]", text)) < 0.1 * len(text), (ex.id, text)  # English


@pytest.mark.parametrize("notebook", REGISTERED)
def test_reference_solutions_use_only_what_the_notebook_defines(notebook):
    """Run top to bottom, a solution cell finds every name it reads: defined in the cells above it (imports,
    assignments, parameters), in the cell itself, or a builtin."""
    nb = _source(notebook)
    defined = set(dir(builtins))
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        if "solution" in _tags(cell):
            assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            assigned |= {a.asname or a.name.split(".")[0] for n in ast.walk(tree)
                         if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
            read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            assert read <= defined | assigned, (cell.id, read - defined - assigned)
        for n in ast.walk(tree):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                defined.add(n.id)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                defined |= {a.asname or a.name.split(".")[0] for a in n.names}
            elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                defined.add(n.name)


# --- the student edition ------------------------------------------------------------------------------------------


def _number_forms(value: float) -> set[str]:
    forms = {repr(value), f"{value:.4f}", f"{value:.3f}"}
    if abs(value) >= 1:
        forms.add(f"{value:.2f}")
    if float(value).is_integer() and abs(value) >= 10:
        forms.add(str(int(value)))
    return {f for f in forms if len(f.lstrip("-")) >= 4}


def test_student_notebooks_have_no_solution_code_and_no_answers(built):
    out, _, keys = built
    numbers = {float(e["answer"]) for k in keys.values() for n in k["notebooks"].values()
               for e in n["exercises"].values() if isinstance(e["answer"], (int, float))
               and not isinstance(e["answer"], bool)}
    assert len(numbers) >= 10
    solution_lines = {line.strip() for ex in EXERCISES.values() for line in ex.solution.splitlines()
                      if len(line.strip()) > 12}
    for student_id in (A, B):
        files = sorted((out / student_id / "notebooks").glob("*.ipynb"))
        assert [f.name for f in files] == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
        for path in files:
            text = path.read_text(encoding="utf-8")
            nb = nbformat.read(path, as_version=4)
            notebook = path.stem
            assert nb.metadata["loyaltylab"] == {"edition": "student", "notebook": notebook, "student_id": student_id}
            assert not [c for c in nb.cells if "solution" in _tags(c)]
            assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
            for line in solution_lines:
                assert line not in text, (path.name, line)
            for value in numbers:
                for form in _number_forms(value):
                    assert not re.search(rf"(?<![\w.]){re.escape(form)}(?![\w])", text), (path.name, form)
            answers = [c for c in nb.cells if "answer =" in c.source and c.cell_type == "code"]
            assert [c.source for c in answers] == [student.answer_source(ex) for ex in for_notebook(notebook)
                                                   if notebook in _with_exercises()]
            params = student.parameters_of(student._parameters_cell(nb).source)
            for name in contexts.DATA_FILES:
                if name in params:
                    assert params[name] == f"../data/{contexts.DATA_FILES[name]}"
            assert params.get("n_bootstrap", 200) == 200  # --set applies where the notebook has the parameter
            source = _source(notebook)  # everything else stays as it is
            kept = [(c.id, c.source) for c in source.cells if not _tags(c) & (SECTION | {"parameters"})]
            assert [(c.id, c.source) for c in nb.cells if not _tags(c) & (SECTION | {"parameters", "answer"})] == kept


def test_each_student_has_a_world_of_their_own_and_a_key_that_matches_it(built, contexts_a, tmp_path):
    out, summaries, keys = built
    assert [s["student_id"] for s in summaries] == [A, B]
    for s in (A, B):
        key = keys[s]
        assert key["seed"] == student.student_seed(COURSE_SEED, s) and key["name"] == {A: "张三", B: "Bee"}[s]
        truth = json.loads((out / s / "data" / "truth.json").read_text(encoding="utf-8"))
        assert truth["seed"] == key["seed"] and truth["n_customers"] == CUSTOMERS
        for name, digest in key["data_sha256"].items():
            assert hashlib.sha256((out / s / "data" / name).read_bytes()).hexdigest() == digest
        assert sorted(key["notebooks"]) == _with_exercises()
        assert not any(p.name == "answer_keys" for p in (out / s).rglob("*"))  # keys stay out of the student's folder
    assert keys[A]["seed"] != keys[B]["seed"]
    assert keys[A]["data_sha256"]["survey.csv"] != keys[B]["data_sha256"]["survey.csv"]
    # the same seed regenerates the same world, byte for byte
    synth.write(synth.generate(n_customers=CUSTOMERS, seed=keys[B]["seed"]), tmp_path)
    assert hashlib.sha256((tmp_path / "survey.csv").read_bytes()).hexdigest() == keys[B]["data_sha256"]["survey.csv"]
    # each key is what the exercises compute on that student's own data
    for notebook, ctx in contexts_a.items():
        for exercise_id, entry in keys[A]["notebooks"][notebook]["exercises"].items():
            assert EXERCISES[exercise_id].answer.matches(entry["answer"], EXERCISES[exercise_id].expected_value(ctx))
            if isinstance(entry["answer"], float):
                assert entry["answer"] == pytest.approx(EXERCISES[exercise_id].expected_value(ctx), rel=1e-9)
    ctx_b = _context(out, B, "01_nps")
    for exercise_id, entry in keys[B]["notebooks"]["01_nps"]["exercises"].items():
        assert entry["answer"] == pytest.approx(EXERCISES[exercise_id].expected_value(ctx_b))
    numeric = [e for e in ("nps_score", "nps_margin", "nps_sample_size")]
    assert all(keys[A]["notebooks"]["01_nps"]["exercises"][e]["answer"]
               != keys[B]["notebooks"]["01_nps"]["exercises"][e]["answer"] for e in numeric)
    roster = pd.read_csv(out / "answer_keys" / "roster.csv", dtype=str, encoding="utf-8-sig")
    assert roster["student_id"].tolist() == [A, B] and roster["name"].tolist() == ["张三", "Bee"]


# --- checks -----------------------------------------------------------------------------------------------------


def _run_cell(source: str, ns: dict):
    """Execute a cell as Jupyter does: the statements, then the value of a final expression."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), ns)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns) if last else None


def _namespace(ctx: contexts.Context, folder: Path) -> dict:
    from loyaltylab.analyses import churn

    ns = {"result": ctx.result, "params": ctx.params, "churn": churn}
    ns["applies"] = lambda exercise_id: applies(exercise_id, namespace=ns)  # as in a kernel: the notebook's globals
    ns["check"] = lambda exercise_id, answer: check(exercise_id, answer, namespace=ns)
    for name, file in contexts.DATA_FILES.items():
        ns[name] = str(folder / file)
    return ns


def test_reference_solutions_pass_every_check_on_a_students_world(built, contexts_a):
    out = built[0]
    for notebook, ctx in contexts_a.items():
        ns = _namespace(ctx, out / A / "data")
        for cell in [c for c in _source(notebook).cells if "solution" in _tags(c)]:
            result = _run_cell(cell.source, ns)
            assert result.status == "correct", result.message
            assert result.record()["correct"] is True
            lines = result.message.splitlines()
            assert lines[0].startswith("✓") and any(x.startswith("Checked: ") for x in lines)
            assert any(x.startswith("检查内容：") for x in lines)
            assert "as this notebook computed it" in result.message and "tolerance: " in result.message
            assert "Hint" not in result.message


def _wrong(ex, expected, ctx):
    if isinstance(ex.answer, Number):
        return expected + 10 * max(ex.answer.tolerance, abs(expected) * ex.answer.relative) + 1
    if isinstance(ex.answer, YesNo):
        return not expected
    if isinstance(ex.answer, Verdict):
        return next(v for v in ("yes", "no", "can't tell") if v != expected)
    options = list(ex.options(ctx))
    if isinstance(ex.answer, Choice):
        return next(o for o in options if o != expected)
    assert isinstance(ex.answer, ChoiceSet)
    return [o for o in options if o not in expected][:1] or []


def test_a_wrong_answer_fails_with_a_hint_and_never_shows_the_answer(contexts_a):
    for notebook, ctx in contexts_a.items():
        for ex in for_notebook(notebook):
            expected = ex.expected_value(ctx)
            result = check(ex.id, _wrong(ex, expected, ctx), context=ctx)
            assert result.status == "wrong" and not result.correct, (ex.id, result.message)
            assert result.message.startswith("✗") and f"提示：{ex.hint_zh}" in result.message
            assert f"Hint: {ex.hint_en}" in result.message
            shown = result.message
            static = " ".join([ex.hint_zh, ex.hint_en, ex.checked_zh, ex.checked_en, *ex.tolerance()])
            if isinstance(ex.answer, Number):
                for form in _number_forms(float(expected)) | {ex.answer.show(expected)}:
                    assert form not in shown or form in static, (ex.id, form)
            elif isinstance(ex.answer, Choice):
                assert f" {expected}" not in shown and f"{expected} " not in shown, ex.id
            elif isinstance(ex.answer, ChoiceSet):
                for name in expected:
                    assert name not in shown, (ex.id, name)
            # the wrong kind of answer: a sentence, no traceback
            bad = "zzz" if isinstance(ex.answer, Number | YesNo | Verdict) else 3.5
            odd = check(ex.id, bad, context=ctx)
            assert odd.status == "invalid" and "Traceback" not in odd.message and odd.answer is None
            assert check(ex.id, ..., context=ctx).status == "unanswered"
    ctx = contexts_a["01_nps"]
    assert check("no_such_exercise", 1, context=ctx).status == "unknown"
    margin = EXERCISES["nps_margin"].expected_value(ctx)
    assert check("nps_margin", f"{margin:.2f}", context=ctx).correct  # text that is a number is a number
    assert check("nps_margin", pd.Series([margin]), context=ctx).correct  # a one-value Series is its value
    assert check("nps_margin", True, context=ctx).status == "invalid"


def test_answers_in_chinese_and_other_spellings_pass():
    assert Verdict().normalise("不能确定") == Verdict().normalise("Can’t tell.") == "can't tell"
    assert Verdict().normalise("是") == "yes" and YesNo().normalise("否") is False
    assert Choice().normalise("可靠性", ["reliability", "empathy"], {"可靠性": "reliability"}) == "reliability"
    assert ChoiceSet().normalise("Standard，Premium", ["Basic", "Standard", "Premium"]) == ["Premium", "Standard"]
    assert ChoiceSet().normalise("没有", ["Basic"]) == [] and ChoiceSet().normalise([], ["Basic"]) == []
    assert Number(0.5).normalise("−38%") == -38.0


def test_a_check_on_data_that_is_not_a_course_world_says_it_cannot_check(built, tmp_path):
    out = built[0]
    for name in ("survey.csv", "customers.csv"):
        (tmp_path / name).write_bytes((out / A / "data" / name).read_bytes())  # no truth.json beside them
    ctx = contexts.from_parameters("01_nps", {"survey_path": str(tmp_path / "survey.csv")}, tmp_path)
    assert not ctx.course and ctx.origin == "recomputed"
    result = check("nps_score", 25.0, context=ctx)
    assert result.status == "unchecked" and "course world" in result.message and not applies("nps_score", context=ctx)
    ns = {"survey_path": str(tmp_path / "survey.csv"), "result": ctx.result}
    assert check("nps_score", 25.0, namespace=ns).status == "unchecked"


# --- grading ------------------------------------------------------------------------------------------------------


def test_grading_executes_the_returned_notebooks_and_writes_the_csv(built, tmp_path):
    out, _, keys = built
    returned = tmp_path / "returned"
    (returned / "a").mkdir(parents=True)
    handed = nbformat.read(out / A / "notebooks" / "01_nps.ipynb", as_version=4)
    nbformat.write(student.with_solutions(handed, _source("01_nps")), returned / "a" / "01_nps.ipynb")
    theirs = nbformat.read(out / B / "notebooks" / "01_nps.ipynb", as_version=4)
    cells = student.answer_cells(theirs)
    own = keys[B]["notebooks"]["01_nps"]["exercises"]["nps_score"]["answer"]
    theirs.cells[cells["nps_score"]].source = f"answer = {own:.2f}\ncheck(\"nps_score\", answer)"  # typed in
    theirs.cells[cells["nps_margin"]].source = "answer = 999\ncheck(\"nps_margin\", answer)"
    del theirs.metadata["loyaltylab"]  # lost (cells pasted into a new notebook): the folder and file name say whose
    (returned / B).mkdir()
    nbformat.write(theirs, returned / B / "01_nps.ipynb")
    nbformat.write(_source("01_nps"), returned / "01_nps.ipynb")  # not a student notebook: a note, no grade
    keys_copy = tmp_path / "keys"  # no student folders beside these keys: the grader regenerates the worlds
    keys_copy.mkdir()
    for s in (A, B):
        (keys_copy / f"{s}.json").write_bytes((out / "answer_keys" / f"{s}.json").read_bytes())
    graded = grade.grade(returned, keys_copy, tmp_path / "grades.csv", timeout=600)
    assert any("not a student notebook" in n for n in graded["notes"])
    assert all(r["error"] is None for r in graded["runs"]) and len(graded["runs"]) == 2
    table = pd.read_csv(tmp_path / "grades.csv", dtype={"student": str}, encoding="utf-8-sig")
    assert list(table.columns) == grade.COLUMNS
    mine = table[(table["student"] == A) & (table["notebook"] == "01_nps")]
    assert len(mine) == len(for_notebook("01_nps")) and mine["correct"].astype(str).eq("True").all()
    assert (table[(table["student"] == A) & (table["notebook"] != "01_nps")]["note"] == "notebook not returned").all()
    b = table[(table["student"] == B) & (table["notebook"] == "01_nps")].set_index("exercise")
    assert str(b.loc["nps_score", "correct"]) == "True" and b.loc["nps_score", "points"] == 1
    assert str(b.loc["nps_margin", "correct"]) == "False" and float(b.loc["nps_margin", "answer"]) == 999
    assert b.loc["nps_mark", "note"] == "not answered"
    totals = pd.read_csv(tmp_path / "grades_totals.csv", dtype={"student": str}, encoding="utf-8-sig")
    n_all = sum(len(n["exercises"]) for n in keys[A]["notebooks"].values())
    assert totals.set_index("student").loc[A, "points"] == len(for_notebook("01_nps"))
    assert totals.set_index("student").loc[A, "total"] == n_all
    executed = nbformat.read(graded["work"] / A / "01_nps" / "executed.ipynb", as_version=4)
    records = grade.records(executed)
    assert sorted(records) == sorted(e.id for e in for_notebook("01_nps"))
    assert all(r["status"] == "correct" for r in records.values())  # run top to bottom, every check passes
    assert (graded["work"] / "_data" / A / "survey.csv").exists()  # regenerated from the key's seed


# --- roster, folders, command line --------------------------------------------------------------------------------


def test_roster_keeps_ids_as_text_and_refuses_bad_ones(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("学号,姓名\n007,王五\n2024-01,Li Lei\n", encoding="utf-8")
    assert student.read_roster(roster) == [student.Student("007", "王五"), student.Student("2024-01", "Li Lei")]
    for body, rule in (("student_id,name\na,x\na,y\n", "duplicate student id"),
                       ("student_id,name\n../x,x\n", "folder names"),
                       ("student_id,name\nanswer_keys,x\n", "folder names"),
                       ("name\nx\n", "no student id column")):
        roster.write_text(body, encoding="utf-8")
        with pytest.raises(DataError, match=rule) as info:
            student.read_roster(roster)
        assert "\n" not in str(info.value)
    assert [s.id for s in student.numbered(3)] == ["s01", "s02", "s03"]
    assert student.student_seed(42, "007") == student.student_seed(42, "007") != student.student_seed(42, "7")


def test_build_never_overwrites_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "s01").mkdir()
    (tmp_path / "s01" / "thesis.docx").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="not made by"):
        student.build(tmp_path, student.numbered(1), customers=CUSTOMERS)
    assert (tmp_path / "s01" / "thesis.docx").exists() and not (tmp_path / "answer_keys").exists()


def test_a_mistyped_parameter_override_is_refused_before_anything_is_built(tmp_path):
    with pytest.raises(DataError, match="no notebook has the parameter n_bootsrap"):
        student.build(tmp_path, student.numbered(1), customers=CUSTOMERS, overrides={"*": {"n_bootsrap": 200}})
    assert not any(tmp_path.iterdir())


def test_parameters_are_set_in_place_with_their_comments():
    source = 'survey_path = None  # survey file\nn_bootstrap = 1000  # replicates\nseed = 0'
    text, done = student.set_parameters(source, {"survey_path": "../data/survey.csv", "n_bootstrap": 200, "x": 1})
    assert text == 'survey_path = "../data/survey.csv"  # survey file\nn_bootstrap = 200  # replicates\nseed = 0'
    assert done == {"survey_path", "n_bootstrap"}


def test_command_line_and_make_targets(tmp_path, capsys):
    parser = cli.build_parser()
    assert {"student", "grade"} <= set(parser._subparsers._group_actions[0].choices)
    assert cli.main(["grade", "--in", str(tmp_path), "--key", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "answer-key folder not found" in err and err.count("\n") == 1
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\n1\n", encoding="utf-8")
    dry = {n: subprocess.run(["make", "-n", "-C", str(ROOT), "student", f"STUDENTS={n}"], capture_output=True,
                             text=True, check=True).stdout for n in ("5", str(roster))}
    assert "--count 5" in dry["5"] and f'--students "{roster}"' in dry[str(roster)]
    assert "loyaltylab grade --in returned" in subprocess.run(["make", "-n", "-C", str(ROOT), "grade"],
                                                              capture_output=True, text=True, check=True).stdout
