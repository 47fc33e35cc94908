"""NPS on a large export: overall, by three segment columns and by quarter, on ``n`` generated responses.

The frame is built directly with numpy (text segment columns, as a CSV would give them, real dates, customer ids
with about two answers per customer), so only the analysis is timed. Each figure is the best of ``repeat`` runs.
``python benchmarks/bench_nps.py [N]`` prints the rows; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from loyaltylab.analyses import nps

SEGMENTS = {
    "segment": (["Basic", "Standard", "Premium"], [0.5, 0.35, 0.15]),
    "region": (["North", "East", "South", "West", "Central"], [0.25, 0.25, 0.2, 0.15, 0.15]),
    "channel": (["Online", "Store", "Phone", "Partner"], [0.45, 0.3, 0.15, 0.1]),
}


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = {"nps": rng.choice(11, size=n, p=np.r_[np.full(7, 0.2 / 7), 0.18, 0.2, 0.22, 0.2]).astype("float64")}
    for col, (values, p) in SEGMENTS.items():
        frame[col] = np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]
    start = np.datetime64("2023-07-01")
    frame["date"] = start + rng.integers(0, 1095, size=n).astype("timedelta64[D]")
    frame["customer_id"] = rng.integers(0, max(n // 2, 1), size=n)
    return pd.DataFrame(frame)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench(n: int = 1_000_000, repeat: int = 3) -> list[dict]:
    t0 = time.perf_counter()
    frame = make_frame(n)
    build = time.perf_counter() - t0
    nps.by_segment(frame.head(100), "segment")  # warm imports (scipy, statsmodels' siblings) outside the timings

    def everything(cluster=None):
        nps.overall(frame, cluster_col=cluster)
        for col in SEGMENTS:
            nps.by_segment(frame, col, cluster_col=cluster)
        nps.trend(frame, period="Q", cluster_col=cluster)

    timings = {
        "NPS overall": lambda: nps.overall(frame),
        **{f"NPS by {col}": (lambda c=col: nps.by_segment(frame, c)) for col in SEGMENTS},
        "NPS by quarter": lambda: nps.trend(frame, period="Q"),
        "overall + 3 segment columns + quarter": everything,
        "the same, cluster-robust by customer_id": lambda: everything("customer_id"),
    }
    rows = [{"benchmark": f"build the frame ({n:,} responses, numpy)", "seconds": round(build, 3), "responses": n}]
    for name, fn in timings.items():
        rows.append({"benchmark": f"{name} ({n:,} responses)", "seconds": round(_best(fn, repeat), 3),
                     "responses": n})
    return rows


if __name__ == "__main__":
    size = int(sys.argv[1].replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    for row in bench(size):
        print("  ".join(f"{k}={v:,}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in row.items()))
