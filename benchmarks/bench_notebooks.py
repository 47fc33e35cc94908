"""Every notebook on two sizes of the course world, as the batch runs it: seconds, the kernel's peak memory, the
scaling ratio t(large)/t(small), and each time as a ratio to an empty notebook job measured in the same run.

The course world is generated at each size (``synth``, not timed) into a temporary folder in ``--format`` (Parquet
by default, the format for large data) and each notebook runs once per size through ``report.run_notebook`` —
papermill, the kernel, report.html — in a fresh Python process, whose finished children (the kernel) give the peak
memory. The floor is a notebook with nothing but its parameters cell, run the same way (median of three): what
every job pays before it computes anything. Goals at a million customers (issue 15): every notebook ≤ 60 s (the
drivers notebook with its bootstrap ≤ 90 s) and ≤ 2 GB.

    python benchmarks/bench_notebooks.py --small 100000 --large 1000000     # the issue's figures (~20 min)
    python benchmarks/bench_notebooks.py --small 10000 --large 100000 --only 00,01
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("customers", "survey", "transactions", "incidents")
GOAL_SECONDS = {"03_loyalty_drivers": 90.0}
GOAL_DEFAULT_SECONDS = 60.0
GOAL_PEAK_MIB = 2048

CHILD = r"""
import json, resource, sys, time
from loyaltylab import report
notebook, out, parameters = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
t0 = time.perf_counter()
job = report.run_notebook(notebook, parameters, out)
print(json.dumps({"seconds": time.perf_counter() - t0, "status": job.status, "error": job.error,
                  "kernel_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def notebooks(only: str | None = None) -> list[Path]:
    """The analysis notebooks, optionally those whose name starts with one of ``only`` (``"00,04"``)."""
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if only:
        prefixes = tuple(p.strip() for p in only.split(",") if p.strip())
        found = [nb for nb in found if nb.stem.startswith(prefixes)]
    return found


def empty_notebook(folder: Path) -> Path:
    """A notebook with only a parameters cell: the floor of a job (kernel, papermill, report.html)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("output_dir = None\ninteractive = True")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Empty job"), cell]
    path = folder / "empty.ipynb"
    nbformat.write(nb, path)
    return path


def empty_job_seconds(folder: Path) -> float:
    """One empty notebook job run in this process, as the notebook rows of the other benchmarks run theirs."""
    from loyaltylab import report

    return report.run_notebook(empty_notebook(folder), {}, folder / "empty-job").seconds


def run_job(notebook: Path, out: Path, parameters: dict) -> dict:
    """One notebook run in a fresh process: wall seconds, status, the kernel's peak memory."""
    proc = subprocess.run([sys.executable, "-c", CHILD, str(notebook), str(out), json.dumps(parameters)],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"seconds": float("nan"), "status": "crashed", "error": last, "kernel_peak_mib": float("nan")}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def input_parameters(notebook: Path, folder: Path, fmt: str) -> dict:
    """The notebook's ``<table>_path`` parameters that default to the course data, pointed at ``folder``."""
    from loyaltylab import report

    declared = report.notebook_parameters(notebook) or {}
    return {f"{t}_path": str(folder / f"{t}.{fmt}") for t in TABLES
            if f"{t}_path" in declared and declared[f"{t}_path"] is None}


def world(n: int, folder: Path, fmt: str) -> dict:
    """The course world written by a separate process: this one stays small, so the notebook processes (and their
    kernels) it starts do not inherit its memory in their peak-memory figures."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_io import make_world

    return make_world(n, folder, fmt)


def bench(small: int = 5_000, large: int = 20_000, fmt: str = "parquet", only: str | None = None) -> list[dict]:
    """Both worlds first; then per notebook the empty job, the small run and the large run back to back, so a
    machine busy with other work slows a notebook and its floors alike. The floor is the median empty job."""
    rows: list[dict] = []
    chosen = notebooks(only)
    sizes = list(dict.fromkeys((small, large)))
    with tempfile.TemporaryDirectory(prefix="loyaltylab-bench-notebooks-") as tmp:
        tmp = Path(tmp)
        for n in sizes:
            t0 = time.perf_counter()
            counts = world(n, tmp / f"world-{n}", fmt)
            rows.append({"benchmark": f"course world, {fmt} (setup, not a notebook)", "n": n, **counts,
                         "seconds": round(time.perf_counter() - t0, 2)})
        empty = empty_notebook(tmp)
        floors, runs = [], {}
        for nb in chosen:
            floors.append(run_job(empty, tmp / f"empty-{nb.stem}", {}))
            for n in sizes:
                runs[nb.stem, n] = run_job(nb, tmp / f"out-{n}" / nb.stem, input_parameters(nb, tmp / f"world-{n}", fmt))
        floor = statistics.median(f["seconds"] for f in floors) if floors else float("nan")
        rows.append({"benchmark": "empty notebook job (floor: kernel, papermill, report.html; median)",
                     "seconds": round(floor, 2), "runs": len(floors),
                     "kernel_peak_mib": round(max((f["kernel_peak_mib"] for f in floors), default=float("nan")))})
        for n in sizes:
            for nb in chosen:
                r = runs[nb.stem, n]
                goal = GOAL_SECONDS.get(nb.stem, GOAL_DEFAULT_SECONDS)
                rows.append({"benchmark": f"notebook {nb.stem}", "n": n, "seconds": round(r["seconds"], 2),
                             "floor": "empty notebook job", "floor_seconds": round(floor, 2),
                             "ratio": round(r["seconds"] / floor, 1), "kernel_peak_mib": round(r["kernel_peak_mib"]),
                             "status": r["status"], **({"goal_seconds": goal, "goal_peak_mib": GOAL_PEAK_MIB}
                                                       if n >= 1_000_000 else {}),
                             **({"error": r["error"]} if r["error"] else {})})
        if len(sizes) == 2:
            for nb in chosen:
                t_small, t_large = runs[nb.stem, small]["seconds"], runs[nb.stem, large]["seconds"]
                rows.append({"benchmark": f"scaling {nb.stem}: t({large:,})/t({small:,})",
                             "seconds": round(t_large, 2), "floor": f"the same notebook at {small:,}",
                             "floor_seconds": round(t_small, 2), "ratio": round(t_large / t_small, 2),
                             "size_ratio": round(large / small, 1)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=5_000, help="customers of the small world (default 5,000)")
    parser.add_argument("--large", type=int, default=20_000, help="customers of the large world (default 20,000)")
    parser.add_argument("--format", default="parquet", choices=("csv", "parquet"))
    parser.add_argument("--only", help="notebooks whose name starts so, comma-separated (e.g. 00,04)")
    args = parser.parse_args(argv)
    for row in bench(args.small, args.large, args.format, args.only):
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
