"""``python -m loyaltylab student``: the student edition, built from the same notebooks.

For each student (a roster CSV or a count): a course world of their own — the seed derived from the course seed and
the student id, so the same roster always gives the same worlds — their notebooks with the data parameters pointing
at it, every cell tagged ``solution`` replaced by ``answer = ...`` and ``check("id", answer)``, outputs cleared;
and an answer key computed by the exercises' own functions on their data, kept outside their folder::

    student/<student_id>/notebooks/*.ipynb     what the student gets (zip the folder, or use --zip)
    student/<student_id>/data/*.csv            their course world (truth.json beside it: the course's framing)
    student/answer_keys/<student_id>.json      the instructor's: answers, seed, which files were handed out
    student/answer_keys/roster.csv             student id, name, seed, customers

:func:`exercise_cells` and :func:`add_exercise_cells` write the "Exercises / 练习" section of a source notebook from
the registry (prompts and reference solutions), so notebook and registry cannot drift apart.
"""
from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import re
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from loyaltylab import paths
from loyaltylab.errors import DataError

from .context import DATA_FILES, from_parameters
from .exercises import EXERCISES, Exercise, for_notebook

MARKER = ".loyaltylab-student"
"""A file in every student folder this builder made: only such folders are ever replaced."""
KEYS = "answer_keys"
ZIPS = "zips"
RESERVED = {KEYS, ZIPS}
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
COURSE_ONLY = "course-only"  # the report leaves the section out on a user's own data (loyaltylab.sections)
SECTION_TAGS = ("exercises", "exercise", "solution")
DEFAULT_CUSTOMERS = 5_000
DEFAULT_COUNT = 3


# --- the Exercises section of a source notebook ---------------------------------------------------------------------

INTRO = """## 练习 / Exercises

每道练习都要你根据本笔记本在**你自己的数据集**上的结果计算或判断一件事。把 `...` 换成你的答案（一个数字、`True`/`False`、\
一个名称或一个名称列表），运行单元格：`check` 会用你的数据算出正确答案来比较，说明检查了什么、容差是多少，答错时给出提示，\
但不会告诉你答案。

Each exercise asks you to compute or decide something from this notebook's results on **your own dataset**. Replace \
`...` with your answer (a number, `True`/`False`, a name or a list of names) and run the cell: `check` computes the \
correct answer from your data, says what it compared and with which tolerance, and gives a hint when the answer is \
not right yet — never the answer itself."""


def _cell_id(prefix: str, exercise_id: str) -> str:
    return f"{prefix}-{exercise_id}"[:64]


def prompt_markdown(ex: Exercise, number: int) -> str:
    tol_zh, tol_en = ex.tolerance()
    return (f"### 练习 {number} · {ex.title_zh} / Exercise {number} · {ex.title_en}\n\n{ex.prompt_zh}\n\n{ex.prompt_en}"
            f"\n\n*容差 / tolerance: {tol_zh} / {tol_en}*")


def solution_source(ex: Exercise) -> str:
    body = "\n".join("    " + line if line else line for line in ex.solution.splitlines())
    return (f"answer = ...\nif applies(\"{ex.id}\"):  # 参考答案 / reference solution\n{body}\n"
            f"check(\"{ex.id}\", answer)")


def answer_source(ex: Exercise) -> str:
    return f"answer = ...  # 你的答案 / your answer\ncheck(\"{ex.id}\", answer)"


def _meta(exercise_id: str | None = None) -> dict:
    return {"loyaltylab": {"exercise": exercise_id}} if exercise_id else {}


def exercise_cells(notebook: str) -> list:
    """The "Exercises / 练习" section of ``notebook`` (e.g. "01_nps"): intro, the import, and per exercise its
    prompt (tagged ``exercise``) and reference solution (tagged ``solution``). Every cell is tagged ``course-only``:
    a report on a user's own data leaves the section out."""
    import nbformat.v4 as v4

    exercises = for_notebook(notebook)
    if not exercises:
        return []
    cells = [v4.new_markdown_cell(INTRO, id="exercises", metadata={"tags": [COURSE_ONLY, "exercises"]}),
             v4.new_code_cell("from loyaltylab.teaching import applies, check", id="exercises-import",
                              metadata={"tags": [COURSE_ONLY, "exercises"]})]
    for number, ex in enumerate(exercises, 1):
        cells.append(v4.new_markdown_cell(prompt_markdown(ex, number), id=_cell_id("exercise", ex.id),
                                          metadata={"tags": [COURSE_ONLY, "exercise"], **_meta(ex.id)}))
        cells.append(v4.new_code_cell(solution_source(ex), id=_cell_id("solution", ex.id),
                                      metadata={"tags": [COURSE_ONLY, "solution"], **_meta(ex.id)}))
    return cells


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _is_section_cell(cell) -> bool:
    return bool(_tags(cell) & set(SECTION_TAGS))


def add_exercise_cells(path: str | Path) -> int:
    """Write (or rewrite) the Exercises section at the end of the notebook at ``path`` from the registry; every
    other cell stays as it is. Returns the number of exercises."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    cells = exercise_cells(path.stem)
    nb.cells = [c for c in nb.cells if not _is_section_cell(c)] + cells
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return len(for_notebook(path.stem))


# --- one student's notebook -----------------------------------------------------------------------------------------

_ASSIGN_RE = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?P<eq>\s*=\s*)(?P<value>.*?)(?P<comment>\s+#.*)?$")


def _literal(value) -> str:
    if isinstance(value, (str, int, float, bool, type(None), list, dict, tuple)):
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
        ast.literal_eval(text)  # a plain value only
        return text
    raise DataError("parameters", None, f"{value!r} is not a plain value (text, number, True/False, None, list, dict)")


def set_parameters(source: str, values: Mapping[str, object]) -> tuple[str, set[str]]:
    """The parameters cell's ``source`` with the defaults of ``values`` replaced (comments kept); also the names it
    set. Names the cell does not declare are left out (a notebook takes only its own parameters)."""
    out, done = [], set()
    for line in source.splitlines():
        m = _ASSIGN_RE.match(line)
        if m and m["name"] in values:
            line = f"{m['name']}{m['eq']}{_literal(values[m['name']])}{m['comment'] or ''}"
            done.add(m["name"])
        out.append(line)
    text = "\n".join(out)
    declared = parameters_of(text)
    for name in done:
        if declared.get(name) != values[name] and not (isinstance(values[name], tuple)
                                                       and list(values[name]) == declared.get(name)):
            raise DataError("parameters", None, f"could not set {name} in the parameters cell")
    return text, done


def parameters_of(source: str) -> dict:
    """Names and literal values assigned in a parameters cell."""
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    try:
                        out[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        pass
    return out


def _parameters_cell(nb):
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in _tags(cell):
            return cell
    raise DataError(nb.metadata.get("loyaltylab", {}).get("notebook", "notebook"), None,
                    "no code cell tagged 'parameters'")


def data_parameters(nb, data_dir: str = "../data") -> dict[str, str]:
    """The notebook's data parameters, each pointing at its course-world file in ``data_dir``."""
    declared = parameters_of(_parameters_cell(nb).source)
    return {name: f"{data_dir}/{file}" for name, file in DATA_FILES.items() if name in declared}


def student_notebook(source, notebook: str, student_id: str | None = None, *, data_dir: str = "../data",
                     overrides: Mapping[str, object] | None = None):
    """The student edition of one notebook (an ``nbformat`` node; ``source`` is not changed): data parameters
    pointing at ``data_dir`` (relative to the notebook's folder), ``overrides`` applied where the notebook declares
    them, every ``solution`` cell replaced by an answer cell, prompts refreshed from the registry, outputs cleared.
    """
    nb = copy.deepcopy(source)
    cell = _parameters_cell(nb)
    values = {**data_parameters(nb, data_dir), **dict(overrides or {})}
    cell.source, _ = set_parameters(cell.source, values)
    numbers = {ex.id: i for i, ex in enumerate(for_notebook(notebook), 1)}
    for i, c in enumerate(nb.cells):
        exercise_id = c.get("metadata", {}).get("loyaltylab", {}).get("exercise")
        ex = EXERCISES.get(exercise_id) if exercise_id else None
        tags = _tags(c)
        if "solution" in tags:
            if ex is None:
                raise DataError(f"notebooks/{notebook}.ipynb", None,
                                f"a cell tagged 'solution' names no known exercise ({exercise_id!r})")
            import nbformat.v4 as v4

            nb.cells[i] = v4.new_code_cell(answer_source(ex), id=_cell_id("answer", ex.id),
                                           metadata={"tags": [COURSE_ONLY, "answer"], **_meta(ex.id)})
        elif "exercise" in tags and ex is not None:
            c.source = prompt_markdown(ex, numbers.get(ex.id, 0))
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
        c.get("metadata", {}).pop("execution", None)
    nb.metadata["loyaltylab"] = {"edition": "student", "notebook": notebook, "student_id": student_id}
    return nb


def answer_cells(nb) -> dict[str, int]:
    """Exercise id → index of the student's answer cell."""
    return {c.metadata["loyaltylab"]["exercise"]: i for i, c in enumerate(nb.cells)
            if "answer" in _tags(c) and c.get("metadata", {}).get("loyaltylab", {}).get("exercise")}


def with_solutions(nb, source):
    """A student notebook with the reference solutions of ``source`` (its notebook) in place of the answer cells:
    what a fully correct student returns (tests; an instructor's worked copy)."""
    nb = copy.deepcopy(nb)
    solutions = {c.metadata["loyaltylab"]["exercise"]: c.source for c in source.cells
                 if "solution" in _tags(c) and c.get("metadata", {}).get("loyaltylab", {}).get("exercise")}
    for exercise_id, i in answer_cells(nb).items():
        nb.cells[i].source = solutions[exercise_id]
    return nb


# --- students, seeds, worlds, keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""


def student_seed(course_seed: int, student_id: str) -> int:
    """The student's world seed: a hash of (course seed, student id) — the same roster always gives the same
    worlds, and one student's seed says nothing about another's."""
    digest = hashlib.sha256(f"loyaltylab-student:{int(course_seed)}:{student_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def numbered(count: int) -> list[Student]:
    """Students s01, s02, … for a class without a roster."""
    if not isinstance(count, int) or count < 1:
        raise DataError("--count", None, f"{count!r}: must be a whole number ≥ 1")
    width = max(2, len(str(count)))
    return [Student(f"s{i:0{width}d}") for i in range(1, count + 1)]


ID_COLUMNS = ("student_id", "id", "student", "学号", "编号")
NAME_COLUMNS = ("name", "student_name", "姓名", "名字")


def read_roster(path: str | Path) -> list[Student]:
    """A roster file (CSV or Excel): a student-id column (student_id, id, 学号) and optionally a name column (name,
    姓名). Ids are kept as text (leading zeros stay) and must be unique folder-safe names."""
    from loyaltylab import io

    source = paths.display_path(path)
    df = io.read_raw(path, id_columns=ID_COLUMNS)
    lower = {str(c).strip().lower(): c for c in df.columns}
    id_col = next((lower[k] for k in ID_COLUMNS if k in lower), None)
    if id_col is None:
        raise DataError(source, None, f"no student id column (one of {', '.join(ID_COLUMNS)})")
    name_col = next((lower[k] for k in NAME_COLUMNS if k in lower), None)
    ids = df[id_col].astype("string").str.strip()
    blank = ids.isna() | (ids == "")
    if blank.any():
        raise DataError.from_mask(source, str(id_col), "blank student id", ids, blank)
    bad = ~ids.map(lambda s: bool(ID_RE.match(s)) and s not in RESERVED).astype(bool)
    if bad.any():
        raise DataError.from_mask(source, str(id_col), "student ids become folder names: letters, digits, '_', "
                                  "'-' and '.', starting with a letter or digit (not answer_keys or zips)", ids, bad)
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise DataError.from_mask(source, str(id_col), "duplicate student id", ids, dup)
    names = df[name_col].astype("string").fillna("").str.strip() if name_col is not None else [""] * len(df)
    return [Student(str(i), str(n)) for i, n in zip(ids, names)]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _prepare(folder: Path) -> None:
    """Empty a student folder made by this builder (a marker file says so); refuse any other existing folder."""
    if folder.exists():
        if not (folder / MARKER).is_file():
            raise DataError(paths.display_path(folder), None, "exists and was not made by `loyaltylab student`: "
                            "choose another --out folder or remove it")
        shutil.rmtree(folder)
    (folder / "notebooks").mkdir(parents=True)
    (folder / MARKER).write_text("made by `python -m loyaltylab student`; rebuilt on the next run\n", encoding="utf-8")


README = """# 服务营销分析课程 · 学生数据与笔记本 / Service-marketing analytics · your notebooks and data

学号 / student: {student_id}

- `notebooks/`：课程笔记本，参数已经指向你自己的数据集 `data/`。在 JupyterLab 中打开，依次运行（Run All）。
  The course notebooks, their parameters already pointing at your own dataset in `data/`. Open them in JupyterLab
  and run them from the top (Run All).
- 每个笔记本最后是“练习 / Exercises”：把 `answer = ...` 中的 `...` 换成你的答案，运行单元格，`check` 会告诉你对不对。
  Each notebook ends with "练习 / Exercises": replace the `...` in `answer = ...` with your answer and run the cell;
  `check` says whether it is right.
- 你的数据集是你自己的：同学的答案和你的不同。交回 `notebooks/` 里的笔记本即可。
  Your dataset is yours alone: your classmates' answers differ from yours. Hand back the notebooks in `notebooks/`.
"""


@dataclass(frozen=True)
class BuildSettings:
    out: Path
    customers: int
    course_seed: int
    notebooks: tuple[Path, ...]
    overrides: dict


def build_student(student: Student, settings: BuildSettings) -> dict:
    """One student's folder (notebooks, data, README) and answer key (returned, and written to answer_keys/)."""
    import nbformat

    from loyaltylab import synth

    start = time.perf_counter()
    folder = settings.out / student.id
    _prepare(folder)
    seed = student_seed(settings.course_seed, student.id)
    world = synth.generate(n_customers=settings.customers, seed=seed)
    synth.write(world, folder / "data", fmt="csv")
    (folder / "README.md").write_text(README.format(student_id=student.id), encoding="utf-8")
    key = {"student_id": student.id, "name": student.name, "seed": seed, "customers": settings.customers,
           "course_seed": settings.course_seed, "generator_version": synth.GENERATOR_VERSION,
           "data_dir": f"{student.id}/data",
           "data_sha256": {p.name: _sha256(p) for p in sorted((folder / "data").iterdir()) if p.is_file()},
           "notebooks": {}}
    for source_path in settings.notebooks:
        notebook = source_path.stem
        source = nbformat.read(source_path, as_version=4)
        overrides = {**settings.overrides.get("*", {}), **settings.overrides.get(notebook, {})}
        nb = student_notebook(source, notebook, student.id, overrides=overrides)
        nbformat.validate(nb)
        target = folder / "notebooks" / source_path.name
        nbformat.write(nb, target)
        exercise_ids = list(answer_cells(nb))
        if not exercise_ids:
            continue
        parameters = parameters_of(_parameters_cell(nb).source)
        data = {name: Path(value).name for name, value in data_parameters(nb).items()}
        ctx = from_parameters(notebook, parameters, target.parent)
        answers = {}
        for exercise_id in exercise_ids:
            ex = EXERCISES[exercise_id]
            tol_zh, tol_en = ex.tolerance()
            entry = {"kind": ex.answer.kind, "tolerance": tol_en, "points": ex.points}
            try:
                entry["answer"] = ex.expected_value(ctx)
            except Exception as exc:  # NotApplicable: graded as not gradable, with the reason
                entry["answer"], entry["skipped"] = None, getattr(exc, "en", str(exc))
            answers[exercise_id] = entry
        key["notebooks"][notebook] = {"file": source_path.name, "data_parameters": data,
                                      "parameters": {k: parameters[k] for k in overrides if k in parameters},
                                      "exercises": answers}
    keys = settings.out / KEYS
    keys.mkdir(parents=True, exist_ok=True)
    paths.write_atomic(keys / f"{student.id}.json", json.dumps(key, ensure_ascii=False, indent=1, sort_keys=True)
                       + "\n")
    return {"student_id": student.id, "name": student.name, "seed": seed, "customers": settings.customers,
            "exercises": sum(len(n["exercises"]) for n in key["notebooks"].values()),
            "seconds": round(time.perf_counter() - start, 1)}


def _build_one(args):
    return build_student(*args)


def source_notebooks(notebooks_dir: str | Path | None = None, only: Iterable[str] | None = None) -> tuple[Path, ...]:
    """The notebooks to hand out: every notebook in ``notebooks_dir`` (default: the project's), or those whose file
    name starts with one of ``only`` ("01", "02_service_quality", …)."""
    folder = Path(notebooks_dir) if notebooks_dir else paths.project_root() / "notebooks"
    found = sorted(folder.glob("*.ipynb"))
    if only:
        prefixes = [str(o).strip() for o in only if str(o).strip()]
        found = [p for p in found if any(p.stem.startswith(x) for x in prefixes)]
    if not found:
        raise DataError(paths.display_path(folder), None, "no notebooks to hand out" + (
            f" matching {', '.join(only)}" if only else ""))
    return tuple(found)


def build(out: str | Path, students: Sequence[Student], *, customers: int = DEFAULT_CUSTOMERS, course_seed: int = 42,
          notebooks: Sequence[str | Path] | None = None, overrides: Mapping[str, Mapping] | None = None,
          jobs: int = 1, zip_folders: bool = False) -> list[dict]:
    """Build every student's folder and answer key under ``out`` (see the module docstring); returns one summary
    per student. ``overrides``: parameter values per notebook stem ("03_loyalty_drivers") or for all ("*"), written
    into the student notebooks and used for their keys (e.g. fewer bootstrap replicates)."""
    import nbformat

    out = Path(out)
    if not students:
        raise DataError("roster", None, "no students")
    ids = [s.id for s in students]
    if len(set(ids)) != len(ids) or any(not ID_RE.match(i) or i in RESERVED for i in ids):
        raise DataError("roster", None, "student ids must be unique folder-safe names")
    settings = BuildSettings(out, int(customers), int(course_seed),
                             tuple(Path(p) for p in (notebooks or source_notebooks())),
                             {k: dict(v) for k, v in (overrides or {}).items()})
    declared = set().union(*(parameters_of(_parameters_cell(nbformat.read(p, as_version=4)).source)
                             for p in settings.notebooks))
    unknown = sorted({name for values in settings.overrides.values() for name in values} - declared)
    if unknown:
        raise DataError("--set", None, f"no notebook has the parameter {', '.join(unknown)}")
    out.mkdir(parents=True, exist_ok=True)
    for s in students:  # refuse a foreign folder before building anything
        if (out / s.id).exists() and not (out / s.id / MARKER).is_file():
            raise DataError(paths.display_path(out / s.id), None, "exists and was not made by `loyaltylab student`: "
                            "choose another --out folder or remove it")
    if jobs > 1 and len(students) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(students)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            summaries = list(pool.map(_build_one, [(s, settings) for s in students]))
    else:
        summaries = [build_student(s, settings) for s in students]
    _write_roster(out / KEYS / "roster.csv", summaries)
    if zip_folders:
        (out / ZIPS).mkdir(exist_ok=True)
        for s in students:
            shutil.make_archive(str(out / ZIPS / s.id), "zip", root_dir=out, base_dir=s.id)
    return summaries


def _write_roster(path: Path, summaries: list[dict]) -> None:
    """answer_keys/roster.csv: this build's students, after those of earlier builds into the same folder (a late
    student added with their own roster keeps everyone else's row)."""
    import pandas as pd

    from loyaltylab.analyses.churn.warning import neutralise

    columns = ["student_id", "name", "seed", "customers", "exercises"]
    table = pd.DataFrame(summaries, columns=columns).astype({"student_id": str, "name": str})
    table["name"] = neutralise(table["name"])
    if path.is_file():
        earlier = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        if list(earlier.columns) == columns:
            table = pd.concat([earlier[~earlier["student_id"].isin(table["student_id"])], table.astype(str)])
    path.parent.mkdir(parents=True, exist_ok=True)
    paths.write_atomic(path, "\ufeff" + table.to_csv(index=False, lineterminator="\n"))


# --- command line ---------------------------------------------------------------------------------------------------


def _override(text: str) -> tuple[str, str, object]:
    """``name=value`` or ``notebook:name=value``; the value a Python/JSON literal, else text."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"{text!r}: expected name=value, e.g. n_bootstrap=200")
    target, value = text.split("=", 1)
    notebook, _, name = target.rpartition(":")
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = {"true": True, "false": False, "null": None, "none": None}.get(value.strip().lower(), value)
    return notebook or "*", name.strip(), parsed


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--students", type=Path, metavar="ROSTER", help="roster CSV/Excel: student_id (or 学号), name")
    who.add_argument("--count", type=_positive, metavar="N", help=f"N students s01, s02, … (default {DEFAULT_COUNT})")
    parser.add_argument("--out", type=Path, default=Path("student"), metavar="DIR", help="output folder (student/)")
    parser.add_argument("--customers", type=_positive, default=DEFAULT_CUSTOMERS, metavar="N",
                        help=f"customers in each student's course world (default {DEFAULT_CUSTOMERS})")
    parser.add_argument("--seed", type=int, default=42, metavar="S", help="course seed; each student's seed is derived "
                        "from it and their id (default 42)")
    parser.add_argument("--notebooks", nargs="+", metavar="NB", help="only these notebooks, e.g. 01 02 (default all)")
    parser.add_argument("--set", dest="overrides", action="append", type=_override, default=[], metavar="NAME=VALUE",
                        help="a parameter default for the student notebooks, e.g. n_bootstrap=200 or "
                             "03_loyalty_drivers:n_bootstrap=200 (repeatable)")
    parser.add_argument("-j", "--jobs", type=_positive, default=1, metavar="N", help="students built in parallel")
    parser.add_argument("--zip", action="store_true", help="also write zips/<student_id>.zip for handing out")


def run(args: argparse.Namespace) -> int:
    students = read_roster(args.students) if args.students else numbered(args.count or DEFAULT_COUNT)
    overrides: dict[str, dict] = {}
    for notebook, name, value in args.overrides:
        overrides.setdefault(notebook, {})[name] = value
    start = time.perf_counter()
    summaries = build(args.out, students, customers=args.customers, course_seed=args.seed,
                      notebooks=source_notebooks(only=args.notebooks), overrides=overrides, jobs=args.jobs,
                      zip_folders=args.zip)
    for s in summaries:
        print(f"{s['student_id']}: course world seed {s['seed']} ({s['customers']:,} customers), "
              f"{s['exercises']} exercises in the key ({s['seconds']:.1f}s)")
    out = paths.display_path(args.out)
    print(f"wrote {len(summaries)} student folders to {out}/<student_id>/ and the answer keys to {out}/{KEYS}/ "
          f"(keep {KEYS}/ to yourself) in {time.perf_counter() - start:.1f}s")
    return 0
