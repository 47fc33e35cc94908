"""Notebook 05 (dual proactivity and service recovery) on a large course world: reading, the analysis, and the whole
notebook as the batch runs it.

A fresh subprocess generates ``--n`` customers with the course generator (1,000,000 customers give about 700,000
survey responses and 740,000 incidents), writes the four CSV files into a temporary folder (not timed), then times:

* ``load``: the shared loaders reading and validating customers, survey and incidents (``dual_proactivity.load``);
* ``run``: every section on the loaded data — the moderation model, the 2×2, retention by cell with the Cox
  interaction, the recovery statuses, the paradox tests, churn by a time-varying failure status (``dual.run``);
* ``notebook``: the notebook executed and rendered by ``report.run_notebook`` (what ``make reports`` does), charts
  and results.json included.

Wall seconds, CPU seconds of the process (the notebook's kernel is a child process: its wall time only) and peak
RSS. ``make bench`` runs it with the others; ``python benchmarks/bench_dual.py --n 200000`` for a quicker look.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_io import plain_read_seconds, with_floor  # noqa: E402
from bench_notebooks import empty_job_seconds  # noqa: E402


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker(n: int, notebook: bool) -> list[dict]:
    """The measured pipeline, in this process (the notebook in a kernel of its own)."""
    import lifelines  # noqa: F401  (imported up front: import time is not the pipeline's)

    from loyaltylab import report, synth
    from loyaltylab.analyses import dual_proactivity as dual

    rows = []
    with tempfile.TemporaryDirectory(prefix="loyaltylab-bench-dual-") as tmp:
        data = Path(tmp) / "course"
        t = time.perf_counter()
        world = synth.generate(n_customers=n, seed=7)
        synth.write(world, data, fmt="csv")
        sizes = {"customers": len(world.customers), "responses": len(world.survey), "incidents": len(world.incidents)}
        del world
        rows.append({"benchmark": "dual: generate + write the course files (not part of the notebook)", **sizes,
                     "seconds": round(time.perf_counter() - t, 2)})
        params = dual.Params(survey_path=str(data / "survey.csv"))

        def lap(name, fn):
            t, c = time.perf_counter(), time.process_time()
            value = fn()
            rows.append({"benchmark": name, **sizes, "seconds": round(time.perf_counter() - t, 2),
                         "cpu_seconds": round(time.process_time() - c, 2), "peak_mib": round(_peak_mib(), 1)})
            return value

        loaded = lap("dual: load (shared loaders: read + validate 3 files)", lambda: dual.load(params))
        rows[-1] = with_floor(rows[-1], "pyarrow.csv.read_csv + to_pandas of the 3 files",
                              plain_read_seconds(data / f"{t}.csv" for t in ("customers", "survey", "incidents")))
        result = lap("dual: run (every section)", lambda: dual.run(loaded, params))
        lap("dual: results.json document", result.to_results)
        if notebook:
            job = lap("dual: notebook 05 (papermill + report.html)",
                      lambda: report.run_notebook(ROOT / "notebooks" / dual.NOTEBOOK,
                                                  {"survey_path": str(data / "survey.csv")}, Path(tmp) / "report"))
            rows[-1]["status"] = job.status
            rows[-1] = with_floor(rows[-1], "empty notebook job", empty_job_seconds(Path(tmp)))
    return rows


def _run(args: list[str]) -> list[dict]:
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench_dual worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench(n: int = 1_000_000, notebook: bool = True) -> list[dict]:
    """Run the pipeline in a fresh subprocess and return its rows."""
    return _run(["--worker", "--n", str(n)] + ([] if notebook else ["--no-notebook"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="customers (default 1,000,000)")
    parser.add_argument("--no-notebook", action="store_true", help="skip the notebook row")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.n, not args.no_notebook)))
        return 0
    for row in bench(args.n, not args.no_notebook):
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
