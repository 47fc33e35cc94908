"""`make bench`: every benchmark in this folder, printed as one table. A benchmark, never a timed test.

Each ``bench_*.py`` module exposes ``bench() -> list[dict]``; rows carry at least ``benchmark`` and ``seconds``
(and ``peak_mib`` where measured). ``--only synth,nps`` runs a subset; ``--json FILE`` also saves the rows.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _modules(only: set[str] | None):
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield name, module


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset, e.g. synth,nps")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        (module,) = [m for _, m in _modules({args.worker})]
        print(json.dumps(module.bench()))
        return 0
    only = set(args.only.split(",")) if args.only else None
    print(f"loyaltylab benchmarks — {platform.processor() or platform.machine()}, python {platform.python_version()}")
    all_rows = []
    failed = 0
    for name, _ in _modules(only):
        start = time.perf_counter()
        # each group in a fresh process: peak-memory figures (ru_maxrss survives fork + exec) stay its own
        proc = subprocess.run([sys.executable, __file__, "--worker", name], capture_output=True, text=True, check=False)
        if proc.returncode != 0:  # a broken benchmark should not hide the others
            print(f"\n[{name}] FAILED: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            failed += 1
            continue
        rows = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"\n[{name}] ({time.perf_counter() - start:.1f}s)")
        for row in rows:
            row = {"group": name, **row}
            all_rows.append(row)
            print("  " + "  ".join(f"{k}={_fmt(v)}" for k, v in row.items() if k != "group"))
    if args.json:
        args.json.write_text(json.dumps(all_rows, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
