"""NPS on a large export: overall, by three segment columns and by quarter, plain and cluster-robust, on ``n``
generated responses; and counting people per group, the step the cluster-robust tables add.

The frame is built directly with numpy (text segment columns, as a CSV would give them, real dates, customer ids
with about two answers per customer), so only the analysis is timed. Each figure is the best of ``repeat`` runs.
Floors: the cluster-robust tables against the same tables without clusters (issue 15 measured 30×), and
``people_per_group`` (one int64 key per (group, customer) pair, sorted) against ``np.sort`` of that key — the bare
library call it makes — with the ``np.unique(axis=1)`` of the (group, customer) pairs it replaced for comparison.
``python benchmarks/bench_nps.py [N]`` prints the rows; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

from loyaltylab.analyses import nps
from loyaltylab.stats import clustered

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


def people_rows(frame: pd.DataFrame, repeat: int) -> list[dict]:
    """People per segment: the int64-key count against sorting the key (floor) and np.unique of the pairs (before)."""
    n = len(frame)
    groups, _ = pd.factorize(frame["region"])
    clusters = clustered.cluster_codes(frame, "customer_id")
    width = int(clusters.max()) + 1
    key = groups.astype("int64") * width + clusters

    def unique_pairs():  # what the tables did before: distinct (group, customer) rows
        pairs = np.unique(np.stack([groups, clusters]), axis=1)
        return np.bincount(pairs[0], minlength=groups.max() + 1)

    floor = _best(lambda: np.sort(key), repeat)
    rows = []
    for name, fn in (("people per region: clustered.people_per_group (one int64 key)",
                      lambda: clustered.people_per_group(groups, clusters, groups.max() + 1)),
                     ("people per region: np.unique(axis=1) of the pairs (before)", unique_pairs)):
        t = _best(fn, repeat)
        rows.append({"benchmark": name, "responses": n, "seconds": round(t, 3), "floor": "np.sort(int64 key)",
                     "floor_seconds": round(floor, 3), "ratio": round(t / floor, 1)})
    expected = unique_pairs()
    assert np.array_equal(clustered.people_per_group(groups, clusters, groups.max() + 1), expected)
    return rows


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

    rows = [{"benchmark": f"build the frame ({n:,} responses, numpy; setup)", "seconds": round(build, 3),
             "responses": n}]
    plain = {}
    for name, kind in (("overall", None), *((f"by {col}", col) for col in SEGMENTS), ("by quarter", "Q")):
        def fn(cluster=None, kind=kind):
            if kind is None:
                return nps.overall(frame, cluster_col=cluster)
            if kind == "Q":
                return nps.trend(frame, period="Q", cluster_col=cluster)
            return nps.by_segment(frame, kind, cluster_col=cluster)

        plain[name] = _best(fn, repeat)
        robust = _best(lambda fn=fn: fn("customer_id"), repeat)
        rows.append({"benchmark": f"NPS {name}, cluster-robust by customer", "responses": n,
                     "seconds": round(robust, 3), "floor": "the same table without clusters",
                     "floor_seconds": round(plain[name], 3), "ratio": round(robust / plain[name], 1)})
    everything_plain = _best(everything, repeat)
    everything_robust = _best(lambda: everything("customer_id"), repeat)
    rows.append({"benchmark": "NPS overall + 3 segment columns + quarter, cluster-robust", "responses": n,
                 "seconds": round(everything_robust, 3), "floor": "the same tables without clusters",
                 "floor_seconds": round(everything_plain, 3), "ratio": round(everything_robust / everything_plain, 1)})
    return rows + people_rows(frame, repeat)


if __name__ == "__main__":
    size = int(sys.argv[1].replace("_", "")) if len(sys.argv) > 1 else 1_000_000
    for row in bench(size):
        print("  ".join(f"{k}={v:,}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in row.items()))
