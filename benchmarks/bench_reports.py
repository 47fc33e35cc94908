"""Time the batch: ``python -m loyaltylab report`` per job and in total, serially and with ``-j 2``.

    python benchmarks/bench_reports.py [--config reports.yml] [--workers 1,2]

Each run writes into a fresh temporary folder, so the project's reports/ is untouched. Per-job seconds come from
the run's manifest.json (papermill + nbconvert + hashing, measured inside the worker); "(total)" is the wall time
of the whole command, start-up included.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from loyaltylab.paths import project_root

COMMAND = (sys.executable, "-m", "loyaltylab", "report")


def bench(
    jobs_config: str | Path = "reports.yml", workers: Sequence[int] = (1, 2), command: Sequence[str] = COMMAND
) -> list[dict]:
    """One row per job and one "(total)" row per worker count: {benchmark, workers, job, status, seconds}."""
    config = Path(jobs_config)
    if not config.is_absolute() and not config.exists():
        config = project_root() / config
    rows: list[dict] = []
    for n in workers:
        with tempfile.TemporaryDirectory(prefix="loyaltylab-bench-") as out:
            start = time.perf_counter()
            proc = subprocess.run(
                [*command, "--config", str(config), "--out", out, "-j", str(n)],
                capture_output=True, text=True, cwd=project_root(),
            )
            wall = time.perf_counter() - start
            manifest_path = Path(out) / "manifest.json"
            if not manifest_path.exists():
                last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise RuntimeError(f"report run with -j {n} wrote no manifest (exit {proc.returncode}): {last}")
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        for job in manifest["jobs"]:
            rows.append({"benchmark": "report", "workers": n, "job": job["name"], "status": job["status"],
                         "seconds": job["seconds"]})
        rows.append({
            "benchmark": "report", "workers": n, "job": "(total)", "status": "ok" if proc.returncode == 0 else f"exit {proc.returncode}",
            "seconds": round(wall, 2),
        })
    return rows


def format_rows(rows: list[dict]) -> str:
    width = max(len(r["job"]) for r in rows)
    lines = [f"{'-j':>3}  {'job':<{width}}  {'status':<7}  {'seconds':>8}"]
    lines += [f"{r['workers']:>3}  {r['job']:<{width}}  {r['status']:<7}  {r['seconds']:>8.2f}" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="reports.yml")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    print(format_rows(bench(args.config, workers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
