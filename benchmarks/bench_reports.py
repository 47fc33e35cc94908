"""Time the batch: ``python -m loyaltylab report`` per job and in total, against the same number of empty jobs.

    python benchmarks/bench_reports.py [--config reports.yml] [--workers 1,2] [--no-floor]

Each run writes into a fresh temporary folder, so the project's reports/ is untouched. Per-job seconds come from
the run's manifest.json (papermill + nbconvert + hashing, measured inside the worker); "(total)" is the wall time
of the whole command, start-up included. The floor is a batch of as many jobs of a notebook holding only its
parameters cell, run with the same workers: every job's ratio is to the median empty job, the total's to the empty
batch's wall time — what the batch costs beyond analysing (issue 15: about half of it).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from loyaltylab.paths import project_root

COMMAND = (sys.executable, "-m", "loyaltylab", "report")


def run_batch(config: Path, workers: int, command: Sequence[str] = COMMAND) -> tuple[dict, float, int, str]:
    """(manifest, wall seconds, exit code, last stderr line) of one batch run into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="loyaltylab-bench-") as out:
        start = time.perf_counter()
        proc = subprocess.run([*command, "--config", str(config), "--out", out, "-j", str(workers)],
                              capture_output=True, text=True, cwd=project_root())
        wall = time.perf_counter() - start
        manifest_path = Path(out) / "manifest.json"
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        if not manifest_path.exists():
            raise RuntimeError(f"report run with -j {workers} wrote no manifest (exit {proc.returncode}): {last}")
        return json.loads(manifest_path.read_text(encoding="utf-8")), wall, proc.returncode, last


def empty_config(folder: Path, n_jobs: int) -> Path:
    """A reports.yml of ``n_jobs`` jobs on an empty notebook (the floor of a batch of that size)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_notebooks import empty_notebook

    empty_notebook(folder)
    lines = ["jobs:"] + [f"  - name: empty_{i:02d}\n    notebook: empty.ipynb" for i in range(n_jobs)]
    config = folder / "reports.yml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def bench(jobs_config: str | Path = "reports.yml", workers: Sequence[int] = (1, 2), command: Sequence[str] = COMMAND,
          floor: bool = True) -> list[dict]:
    """One row per job and one "(total)" row per worker count: {benchmark, workers, job, status, seconds} and,
    with ``floor``, the empty batch's figures and the ratios."""
    config = Path(jobs_config)
    if not config.is_absolute() and not config.exists():
        config = project_root() / config
    rows: list[dict] = []
    for n in workers:
        manifest, wall, code, _ = run_batch(config, n, command)
        jobs = manifest["jobs"]
        ratio = {}
        if floor:
            with tempfile.TemporaryDirectory(prefix="loyaltylab-bench-empty-") as tmp:
                empty, empty_wall, _, _ = run_batch(empty_config(Path(tmp), len(jobs)), n, command)
            per_job = statistics.median(j["seconds"] for j in empty["jobs"])
            ratio = {"floor": "empty notebook job", "floor_seconds": round(per_job, 2)}
        for job in jobs:
            row = {"benchmark": f"batch -j {n}: {job['name']}", "workers": n, "job": job["name"],
                   "status": job["status"], "seconds": job["seconds"], **ratio}
            if ratio:
                row["ratio"] = round(job["seconds"] / ratio["floor_seconds"], 1)
            rows.append(row)
        total = {"benchmark": f"batch -j {n}: (total, {len(jobs)} jobs)", "workers": n, "job": "(total)",
                 "status": "ok" if code == 0 else f"exit {code}", "seconds": round(wall, 2)}
        if floor:
            total.update(floor=f"{len(jobs)} empty jobs", floor_seconds=round(empty_wall, 2),
                         ratio=round(wall / empty_wall, 1))
        rows.append(total)
    return rows


def format_rows(rows: list[dict]) -> str:
    width = max(len(r["job"]) for r in rows)
    lines = [f"{'-j':>3}  {'job':<{width}}  {'status':<7}  {'seconds':>8}  {'× empty':>7}"]
    lines += [f"{r['workers']:>3}  {r['job']:<{width}}  {r['status']:<7}  {r['seconds']:>8.2f}  "
              f"{r.get('ratio', float('nan')):>7.1f}" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="reports.yml")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    parser.add_argument("--no-floor", action="store_true", help="skip the batch of empty jobs")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    print(format_rows(bench(args.config, workers, floor=not args.no_floor)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
