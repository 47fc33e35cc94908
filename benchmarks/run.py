"""`make bench`: the benchmarks, each figure beside its floor measured in the same run. A benchmark, never a test.

Every measured thing is printed as seconds and as a ratio to its floor — the plain reader on the same file
(``pd.read_parquet``, ``pyarrow.csv.read_csv``), the bare library call, an empty notebook job for the batch and the
notebooks — and per notebook the scaling ratio t(large)/t(small). A busy machine slows a figure and its floor alike,
so the ratios are the numbers to compare between runs and machines.

The default run takes a few minutes: reading + validating (``io``, 100,000 customers), the NPS tables plain vs
cluster-robust (``nps``), every notebook at 5,000 and 20,000 customers (``notebooks``) and the batch against empty
jobs (``reports``, ``-j 2``) — about six minutes on an idle 2-core machine (``--only io,nps``: one minute).
``--full`` is issue 15's measurement: 1,000,000 customers, notebooks at 100,000 and 1,000,000, the batch serial and
with two workers, and the other groups (churn, drivers, dual, servqual, synth) — about an hour.
Flags can also come from the environment: ``BENCH_ARGS="--only io --rows 1000000" make bench``.

    python benchmarks/run.py [--full] [--only io,nps] [--rows N] [--small N --large N] [--workers 1,2] [--json F]

Each group runs in a fresh process (``bench_<group>.py``'s ``bench(**sizes)``), so peak-memory figures are its own.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_GROUPS = ("io", "nps", "notebooks", "reports")
FULL_GROUPS = ("io", "nps", "notebooks", "reports", "churn", "drivers", "dual", "servqual", "synth")


def group_arguments(group: str, a: argparse.Namespace) -> dict:
    """The keyword arguments of ``bench_<group>.bench`` for the chosen sizes."""
    workers = [int(w) for w in a.workers.split(",") if w.strip()]
    return {
        "io": {"n": a.rows, "repeat": a.repeat},
        "nps": {"n": a.rows},
        "notebooks": {"small": a.small, "large": a.large},
        "reports": {"workers": workers},
        "churn": {"n": a.rows, "analyze_n": min(a.rows, 200_000)},
        "drivers": {"n": a.rows},
        "dual": {"n": a.rows},
        "servqual": {"n": a.rows},
        "synth": {"sizes": (20_000, a.rows)},
    }.get(group, {})


def _module(name: str):
    path = HERE / f"bench_{name}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fmt(value) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


SHOWN = ("benchmark", "seconds", "ratio", "floor", "floor_seconds")


def format_row(row: dict) -> str:
    """``name  12.34 s  2.1× floor (5.87 s)  n=…`` — the ratio first, then what it is relative to."""
    line = f"  {row.get('benchmark', '?')}: {_fmt(row.get('seconds', float('nan')))} s"
    if "ratio" in row:
        line += f" = {_fmt(row['ratio'])}× {row.get('floor', 'floor')}"
        if "floor_seconds" in row:
            line += f" ({_fmt(row['floor_seconds'])} s)"
    extra = "  ".join(f"{k}={_fmt(v)}" for k, v in row.items() if k not in SHOWN and k != "group")
    return line + (f"  [{extra}]" if extra else "")


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="issue 15's sizes (1M customers) and every group")
    parser.add_argument("--only", help="comma-separated groups, e.g. io,nps (default: " + ",".join(DEFAULT_GROUPS) + ")")
    parser.add_argument("--rows", type=int, help="customers / responses for io, nps and the others "
                        "(default 100,000; --full 1,000,000)")
    parser.add_argument("--small", type=int, help="notebooks: the small world (default 5,000; --full 100,000)")
    parser.add_argument("--large", type=int, help="notebooks: the large world (default 20,000; --full 1,000,000)")
    parser.add_argument("--workers", help="reports: worker counts (default 2; --full 1,2)")
    parser.add_argument("--repeat", type=int, default=3, help="io: alternating rounds per reader (default 3)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", help=argparse.SUPPRESS)
    if argv is None:
        argv = sys.argv[1:] + shlex.split(os.environ.get("BENCH_ARGS", ""))
    a = parser.parse_args(argv)
    a.rows = a.rows or (1_000_000 if a.full else 100_000)
    a.small = a.small or (100_000 if a.full else 5_000)
    a.large = a.large or (1_000_000 if a.full else 20_000)
    a.workers = a.workers or ("1,2" if a.full else "2")
    return a


def main(argv=None) -> int:
    a = parse(argv)
    if a.worker:  # one group, in this fresh process
        rows = _module(a.worker).bench(**json.loads(a.kwargs or "{}"))
        print(json.dumps(rows))
        return 0
    groups = [g.strip() for g in a.only.split(",")] if a.only else list(FULL_GROUPS if a.full else DEFAULT_GROUPS)
    print(f"loyaltylab benchmarks — {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}; ratios are to floors measured in this run")
    all_rows, failed = [], 0
    for name in groups:
        if not (HERE / f"bench_{name}.py").exists():
            print(f"\n[{name}] no such benchmark (benchmarks/bench_{name}.py)")
            failed += 1
            continue
        kwargs = group_arguments(name, a)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--worker", name, "--kwargs", json.dumps(kwargs)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:  # a broken benchmark should not hide the others
            err = proc.stderr.strip().splitlines()
            print(f"\n[{name}] FAILED: {err[-1] if err else proc.returncode}")
            failed += 1
            continue
        rows = json.loads(proc.stdout.strip().splitlines()[-1])
        sizes = " ".join(f"{k}={_fmt(v)}" for k, v in kwargs.items())
        print(f"\n[{name}] ({sizes}; {time.perf_counter() - start:.0f} s)")
        for row in rows:
            all_rows.append({"group": name, **row})
            print(format_row(row), flush=True)
    if a.json:
        a.json.write_text(json.dumps(all_rows, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
