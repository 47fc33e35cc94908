"""``python -m loyaltylab grade``: execute the notebooks students hand back and write a grade table — no server,
no database, no container.

Each returned notebook (executed or not; any folder layout — the notebook's own metadata says whose it is) is run
top to bottom with papermill on the instructor's copy of that student's course world (``answer_keys/<id>.json``
says where it is and how to regenerate it), so nothing a student typed into an output counts. Every
``check(...)`` leaves a record in the executed notebook; the answer it records is graded against the answer key
with the exercise's own tolerance. One row per student and exercise (``grades.csv``) and one per student
(``grades_totals.csv``); the executed notebooks and their HTML pages stay in ``grades_runs/`` for reading.

Returned notebooks are code: run the grader as a user that can read the answer keys but nothing more valuable.
"""
from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loyaltylab import paths
from loyaltylab.errors import DataError

from .check import MIME
from .exercises import EXERCISES

DEFAULT_TIMEOUT = 600.0  # seconds per cell
COLUMNS = ["student", "name", "notebook", "exercise", "answer", "correct", "points", "total", "note"]


@dataclass(frozen=True)
class Submission:
    student: str
    notebook: str
    path: Path


def load_keys(key_dir: str | Path) -> dict[str, dict]:
    """Every answer key in ``key_dir`` (``<student_id>.json``), by student id."""
    key_dir = Path(key_dir)
    if not key_dir.is_dir():
        raise DataError(paths.display_path(key_dir), None, "answer-key folder not found (made by `loyaltylab student`)")
    keys = {}
    for p in sorted(key_dir.glob("*.json")):
        try:
            key = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            raise DataError(paths.display_path(p), None, "not a readable answer key (JSON)") from None
        if not isinstance(key, dict) or "student_id" not in key or "notebooks" not in key:
            raise DataError(paths.display_path(p), None, "not an answer key made by `loyaltylab student`")
        keys[str(key["student_id"])] = key
    if not keys:
        raise DataError(paths.display_path(key_dir), None, "no answer keys (<student_id>.json) in this folder")
    return keys


def find_submissions(returned: str | Path, keys: dict[str, dict]) -> tuple[list[Submission], list[str]]:
    """The student notebooks under ``returned`` (by their metadata), the newest per student and notebook; and notes
    on the files left out."""
    import nbformat

    returned = Path(returned)
    if not returned.is_dir():
        raise DataError(paths.display_path(returned), None, "folder of returned notebooks not found")
    chosen: dict[tuple[str, str], Path] = {}
    notes = []
    for p in sorted(returned.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in p.parts:
            continue
        try:
            meta = nbformat.read(p, as_version=4).metadata.get("loyaltylab", {})
        except Exception:  # a damaged upload is a note, not the end of the grading
            notes.append(f"{paths.display_path(p)}: not a readable notebook, skipped")
            continue
        student, notebook = meta.get("student_id"), meta.get("notebook")
        if meta.get("edition") != "student" and p.parent.name in keys:  # metadata lost (cells pasted into a new
            student, notebook = p.parent.name, p.stem                   # notebook): the folder and file name say
        if student not in keys:
            notes.append(f"{paths.display_path(p)}: not a student notebook of this class, skipped")
            continue
        if notebook not in keys[student]["notebooks"]:
            continue  # a notebook without exercises
        k = (student, notebook)
        if k in chosen:
            older, newer = sorted((chosen[k], p), key=lambda x: (x.stat().st_mtime, str(x)))
            notes.append(f"{student} {notebook}: two copies; graded {paths.display_path(newer)}, the newer")
            p = newer
        chosen[k] = p
    return [Submission(s, n, p) for (s, n), p in sorted(chosen.items())], notes


def _data_dir(key: dict, key_dir: Path, work: Path) -> tuple[Path, str | None]:
    """The student's course world: the handed-out copy if it is there and unchanged, else regenerated from the key's
    seed into the work folder."""
    folder = key_dir.parent / key["data_dir"]
    wanted = key.get("data_sha256", {})

    def same(d: Path) -> bool:
        return d.is_dir() and all((d / f).is_file() and paths.sha256_file(d / f) == h for f, h in wanted.items())

    if same(folder):
        return folder, None
    from loyaltylab import synth

    regenerated = work / "_data" / key["student_id"]
    if not same(regenerated):
        synth.write(synth.generate(n_customers=int(key["customers"]), seed=int(key["seed"])), regenerated)
    if same(regenerated):
        return regenerated, None
    return regenerated, "the regenerated dataset differs from the one handed out (another generator version?)"


def records(nb) -> dict[str, dict]:
    """The last check record per exercise in an executed notebook."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            rec = o.get("data", {}).get(MIME) if o.get("output_type") in ("display_data", "execute_result") else None
            if isinstance(rec, str):
                try:
                    rec = json.loads(rec)
                except ValueError:
                    continue
            if isinstance(rec, dict) and isinstance(rec.get("exercise"), str):
                out[rec["exercise"]] = rec
    return out


def execute(sub: Submission, key: dict, key_dir: Path, work: Path, timeout: float) -> dict:
    """Run one returned notebook on the student's data; its check records, error and notes."""
    import nbformat

    from loyaltylab import report

    data, note = _data_dir(key, key_dir, work)
    spec = key["notebooks"][sub.notebook]
    parameters = {name: str(data / file) for name, file in spec["data_parameters"].items()}
    out_dir = work / sub.student / sub.notebook
    job = report.run_notebook(sub.path, parameters, out_dir, show_code=True, timeout=timeout)
    executed = out_dir / "executed.ipynb"
    found = records(nbformat.read(executed, as_version=4)) if executed.exists() else {}
    return {"student": sub.student, "notebook": sub.notebook, "records": found, "error": job.error,
            "seconds": job.seconds, "note": note, "path": paths.display_path(sub.path)}


def _execute_one(args):
    return execute(*args)


def _shown(answer) -> str:
    if answer is None:
        return ""
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    if isinstance(answer, float):
        return f"{answer:.6g}"
    if isinstance(answer, list):
        return "; ".join(str(a) for a in answer) or "(none)"
    return str(answer)


def grade_rows(keys: dict[str, dict], runs: Iterable[dict]) -> list[dict]:
    """One row per student and exercise of their key: the recorded answer graded against the key."""
    by = {(r["student"], r["notebook"]): r for r in runs}
    rows = []
    for student, key in sorted(keys.items()):
        for notebook, spec in key["notebooks"].items():
            run = by.get((student, notebook))
            for exercise_id, entry in spec["exercises"].items():
                ex = EXERCISES.get(exercise_id)
                points = float(entry.get("points", 1.0))
                row = {"student": student, "name": key.get("name", ""), "notebook": notebook, "exercise": exercise_id,
                       "answer": "", "correct": False, "points": 0.0, "total": points, "note": ""}
                rec = (run or {}).get("records", {}).get(exercise_id)
                if entry.get("answer") is None:
                    row.update(correct="", total=0.0, note=f"not graded: {entry.get('skipped', 'no answer key')}")
                elif run is None:
                    row["note"] = "notebook not returned"
                elif rec is None:
                    row["note"] = "no check output" + (f" (the notebook stopped: {run['error']})" if run["error"]
                                                       else " (the check cell was removed or did not run)")
                else:
                    row["answer"] = _shown(rec.get("answer"))
                    ok = ex is not None and rec.get("answer") is not None and ex.answer.matches(rec["answer"],
                                                                                                entry["answer"])
                    row.update(correct=bool(ok), points=points if ok else 0.0)
                    status = rec.get("status")
                    if status in ("unanswered", "invalid", "unchecked"):
                        row["note"] = {"unanswered": "not answered", "invalid": "answer of the wrong kind",
                                       "unchecked": "the check could not run"}[status]
                    elif (status == "correct") != bool(ok):
                        row["note"] = (f"the notebook's own check said {status}; graded against the answer key "
                                       "(were the data or parameters changed?)")
                if run is not None and run.get("note"):
                    row["note"] = "; ".join(x for x in (row["note"], run["note"]) if x)
                rows.append(row)
    return rows


def totals(rows: list[dict], runs: Iterable[dict]) -> list[dict]:
    failed: dict[str, int] = {}
    returned: dict[str, int] = {}
    for r in runs:
        returned[r["student"]] = returned.get(r["student"], 0) + 1
        failed[r["student"]] = failed.get(r["student"], 0) + bool(r["error"])
    out: dict[str, dict] = {}
    for row in rows:
        t = out.setdefault(row["student"], {"student": row["student"], "name": row["name"], "points": 0.0,
                                            "total": 0.0, "notebooks_returned": returned.get(row["student"], 0),
                                            "notebooks_failed": failed.get(row["student"], 0)})
        t["points"] += row["points"]
        t["total"] += row["total"]
    return list(out.values())


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> Path:
    import pandas as pd

    from loyaltylab.analyses.churn.warning import neutralise

    table = pd.DataFrame(rows, columns=columns)
    for col in ("name", "answer", "note"):  # text a spreadsheet would run as a formula; numbers stay numbers
        if col in table:
            number = pd.to_numeric(table[col], errors="coerce").notna()
            table[col] = table[col].where(number, neutralise(table[col]))
    return paths.write_atomic(path, "\ufeff" + table.to_csv(index=False, lineterminator="\n"))


def grade(returned: str | Path, key_dir: str | Path, out: str | Path, *, timeout: float = DEFAULT_TIMEOUT,
          jobs: int = 1, work: str | Path | None = None) -> dict:
    """Grade every returned notebook (see the module docstring). Writes ``out`` (one row per student and
    exercise) and ``<out>_totals.csv``; returns the rows, totals, notes and the runs."""
    key_dir, out = Path(key_dir), Path(out)
    keys = load_keys(key_dir)
    submissions, notes = find_submissions(returned, keys)
    work = Path(work) if work else out.with_name(out.stem + "_runs")
    work.mkdir(parents=True, exist_ok=True)
    tasks = [(s, keys[s.student], key_dir, work, timeout) for s in submissions]
    if jobs > 1 and len(tasks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = list(pool.map(_execute_one, tasks))
    else:
        runs = [execute(*t) for t in tasks]
    rows = grade_rows(keys, runs)
    summary = totals(rows, runs)
    _write_csv(out, rows, COLUMNS)
    _write_csv(out.with_name(out.stem + "_totals.csv"), summary,
               ["student", "name", "points", "total", "notebooks_returned", "notebooks_failed"])
    notes += [f"{r['student']} {r['notebook']}: stopped with {r['error']}" for r in runs if r["error"]]
    return {"rows": rows, "totals": summary, "notes": notes, "runs": runs, "work": work}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--in", dest="returned", type=Path, required=True, metavar="DIR",
                        help="folder of returned student notebooks (any layout)")
    parser.add_argument("--key", type=Path, default=Path("student") / "answer_keys", metavar="DIR",
                        help="the answer keys made by `loyaltylab student` (default student/answer_keys)")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), metavar="CSV",
                        help="grade table (default grades.csv; totals in grades_totals.csv)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                        help=f"seconds a cell may run (default {DEFAULT_TIMEOUT:g})")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="notebooks executed in parallel")


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    result = grade(args.returned, args.key, args.out, timeout=args.timeout, jobs=max(1, args.jobs))
    for note in result["notes"]:
        print(f"note: {note}")
    for t in result["totals"]:
        print(f"{t['student']}: {t['points']:g} / {t['total']:g} points ({t['notebooks_returned']} notebooks "
              f"returned{', ' + str(t['notebooks_failed']) + ' failed' if t['notebooks_failed'] else ''})")
    out = paths.display_path(args.out)
    print(f"wrote {out} ({len(result['rows'])} rows), its totals and the executed notebooks in "
          f"{paths.display_path(result['work'])}/ in {time.perf_counter() - start:.1f}s")
    return 0
