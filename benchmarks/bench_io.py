"""Reading and validating input, as ratios to the plain readers on the same files, measured in the same run.

A course world of ``n`` customers (``synth.generate``: ~0.7 survey responses, ~15 transactions and ~0.7 service
incidents per customer) is written as CSV and Parquet into a temporary folder. For each table and format, the floor and the
project's readers run in turn, ``repeat`` rounds (alternating, so a busy machine slows all of them alike), and the
medians are compared:

* Parquet: ``io.read_table`` (read + validate) and ``io.read_raw`` against ``pd.read_parquet`` (goal ≤ 2×);
* CSV: the same against ``pyarrow.csv.read_csv(...).to_pandas()`` (goal ≤ 1.5×), and pandas' C reader for scale.

Then the overview's read (``overview.load_tables``: all four tables read and validated, transactions included) runs
in a fresh process whose peak RSS is reported (goal ≤ 2 GB at a million customers), against the four plain reads in
another fresh process.

    python benchmarks/bench_io.py [--n 1000000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TABLES = ("customers", "survey", "transactions", "incidents")

OVERVIEW_CHILD = r"""
import json, os, resource, sys, time

def peak_mib():  # this process's own peak (VmHWM starts afresh at exec; ru_maxrss may carry the parent's RSS)
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

kind = sys.argv[1]
import pandas as pd, pyarrow.csv as pacsv, pyarrow.parquet  # imports are not the read's time
from loyaltylab import io_arrow
from loyaltylab.analyses.overview import analysis
io_arrow.ENABLED = sys.argv[3] == "fast"
start_mib = peak_mib()
t0 = time.perf_counter()
if kind == "overview":
    data, _ = analysis.load_tables(analysis.Params())
else:
    folder, fmt = os.environ["LOYALTYLAB_DATA"], sys.argv[2]
    data = {t: (pd.read_parquet(f"{folder}/{t}.parquet") if fmt == "parquet"
                else pacsv.read_csv(f"{folder}/{t}.csv").to_pandas())
            for t in ("customers", "survey", "transactions", "incidents")}
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": sum(len(d) for d in data.values()),
                  "peak_mib": peak_mib(), "start_mib": start_mib}))
"""


def _floor(path: Path):
    import pandas as pd
    import pyarrow.csv as pacsv

    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pacsv.read_csv(path).to_pandas()


def plain_read_seconds(paths) -> float:
    """Seconds to read the files with the plain readers (pd.read_parquet / pyarrow's CSV reader): a load's floor."""
    t0 = time.perf_counter()
    for path in paths:
        _floor(Path(path))
    return time.perf_counter() - t0


def with_floor(row: dict, floor: str, seconds: float) -> dict:
    """``row`` with its floor and the ratio to it."""
    return {**row, "floor": floor, "floor_seconds": round(seconds, 2), "ratio": round(row["seconds"] / seconds, 2)}


def _pandas_csv(path: Path):
    import pandas as pd

    return pd.read_csv(path, low_memory=False)


def alternate(fns: dict, repeat: int) -> dict[str, float]:
    """Median seconds of each function, run in turn ``repeat`` rounds."""
    import gc

    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def make_world(n: int, folder: Path, fmt: str = "both") -> dict:
    """The course world of ``n`` customers written into ``folder`` by a separate process (this one stays small, so
    the processes it starts do not inherit its memory); the number of rows per table."""
    proc = subprocess.run([sys.executable, "-m", "loyaltylab", "data", "--customers", str(n), "--out", str(folder),
                           "--format", fmt], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"generating the course world failed: {proc.stderr.strip().splitlines()[-1:]}")
    import re  # "course world (seed 42): customers 1,000,000, survey 695,608, … rows"

    return {t: int(m.replace(",", "")) for t, m in re.findall(r"(customers|survey|transactions|incidents) ([\d,]+)",
                                                              proc.stdout)}


def read_rows(folder: Path, n: int, repeat: int) -> list[dict]:
    """The table readers against their floors, per table and format."""
    from loyaltylab import io

    io.read_table(folder / "customers.csv", "customers")  # imports (pyarrow, pandera) outside the timings
    rows = []
    for table in TABLES:
        for fmt in ("parquet", "csv"):
            path = folder / f"{table}.{fmt}"
            floor = "pd.read_parquet" if fmt == "parquet" else "pyarrow.csv.read_csv + to_pandas"
            fns = {"floor": lambda p=path: _floor(p), "read_table": lambda p=path, t=table: io.read_table(p, t),
                   "read_raw": lambda p=path: io.read_raw(p)}
            if fmt == "csv":
                fns["pandas"] = lambda p=path: _pandas_csv(p)
            med = alternate(fns, repeat)
            goal = 2.0 if fmt == "parquet" else 1.5
            for what in ("read_table", "read_raw", "pandas"):
                if what not in med:
                    continue
                label = {"read_table": "io.read_table (read + validate)", "read_raw": "io.read_raw (read only)",
                         "pandas": "pd.read_csv (pandas' C reader, for scale)"}[what]
                rows.append({"benchmark": f"{table}.{fmt}: {label}", "n": n, "seconds": round(med[what], 3),
                             "floor": floor, "floor_seconds": round(med["floor"], 3),
                             "ratio": round(med[what] / med["floor"], 2),
                             **({"goal": goal} if what == "read_table" else {})})
    return rows


def overview_rows(folder: Path, n: int, fmt: str = "csv", fast: bool = True) -> list[dict]:
    """The overview's read of all four tables (fresh process: its own peak memory) against the plain reads."""
    env = {**os.environ, "LOYALTYLAB_DATA": str(folder)}
    out = {}
    for kind in ("floor", "overview"):
        proc = subprocess.run([sys.executable, "-c", OVERVIEW_CHILD, kind, fmt, "fast" if fast else "reference"],
                              capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"overview read failed: {proc.stderr.strip().splitlines()[-1:]}")
        out[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
    return [{"benchmark": "overview: read + validate the 4 tables (CSV; fresh process)", "n": n,
             "rows": out["overview"]["rows"], "seconds": round(out["overview"]["seconds"], 2),
             "floor": "pyarrow.csv.read_csv + to_pandas of the 4 files", "floor_seconds": round(out["floor"]["seconds"], 2),
             "ratio": round(out["overview"]["seconds"] / out["floor"]["seconds"], 2),
             "peak_mib": round(out["overview"]["peak_mib"]), "floor_peak_mib": round(out["floor"]["peak_mib"]),
             "imports_mib": round(out["overview"]["start_mib"]), "goal_peak_mib": 2048}]


def bench(n: int = 1_000_000, repeat: int = 3, overview: bool = True, fast: bool = True) -> list[dict]:
    """The rows; ``fast=False`` measures io's pandas path alone (io_arrow off), the reference and the old speed."""
    from loyaltylab import io_arrow

    io_arrow.ENABLED = fast
    with tempfile.TemporaryDirectory(prefix="loyaltylab-bench-io-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        sizes = make_world(n, folder)
        rows = [{"benchmark": "write the course world, CSV + Parquet (setup)", "n": n, **sizes,
                 "seconds": round(time.perf_counter() - t0, 2)}]
        rows += read_rows(folder, n, repeat)
        if overview:
            rows += overview_rows(folder, n, fast=fast)
    if not fast:
        for row in rows:
            row["benchmark"] += " [pandas path only]"
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="customers (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="alternating rounds per reader (default 3)")
    parser.add_argument("--no-overview", action="store_true", help="skip the overview read and its peak memory")
    parser.add_argument("--reference", action="store_true",
                        help="io's pandas path only (loyaltylab.io_arrow off): the speed before the pyarrow path")
    args = parser.parse_args(argv)
    for row in bench(args.n, args.repeat, not args.no_overview, fast=not args.reference):
        print("  ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
