"""Course-world generation: wall time and peak memory per size, each size in a fresh Python process.

``python benchmarks/bench_synth.py [N ...]`` prints the rows; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from loyaltylab import synth

n, out, fmt = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
t0 = time.perf_counter()
synth.population_truth()
t1 = time.perf_counter()
world = synth.generate(n_customers=n, seed=42)
t2 = time.perf_counter()
paths = synth.write(world, out, fmt=fmt)
t3 = time.perf_counter()
print(json.dumps({
    "truth_s": t1 - t0, "generate_s": t2 - t1, "write_s": t3 - t2, "seconds": t3 - t0,
    "rows": sum(len(df) for df in world.tables().values()),
    "mib_written": sum(p.stat().st_size for p in paths) / 2**20,
    "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KiB
}))
"""


def bench(sizes=(20_000, 1_000_000), fmt: str = "csv") -> list[dict]:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="loyaltylab-bench-synth-") as tmp:
            proc = subprocess.run([sys.executable, "-c", CHILD, str(n), tmp, fmt], capture_output=True, text=True,
                                  check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"synth benchmark for {n:,} customers failed: {proc.stderr.strip()[-500:]}")
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append({
            "benchmark": f"generate + write {fmt} ({n:,} customers)",
            "seconds": round(m["seconds"], 2),
            "generate_s": round(m["generate_s"], 2),
            "write_s": round(m["write_s"], 2),
            "truth_s": round(m["truth_s"], 2),
            "peak_mib": round(m["peak_mib"], 1),
            "rows": int(m["rows"]),
            "mib_written": round(m["mib_written"], 1),
        })
    return rows


if __name__ == "__main__":
    sizes = tuple(int(a.replace("_", "")) for a in sys.argv[1:]) or (20_000, 1_000_000)
    for row in bench(sizes):
        print("  ".join(f"{k}={v:,}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in row.items()))
