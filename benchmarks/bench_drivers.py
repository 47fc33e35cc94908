"""Loyalty drivers at scale: the exact LMG of 15 drivers on a million responses (target ≤ 3 s), and the whole
analysis and notebook 03 on a million survey responses, bootstrap included (target ≤ 90 s).

The survey is built with numpy in the course world's shape (22 perception items on five dimensions, nps,
satisfaction, repurchase intent, stated importance points on half the responses, about two answers per customer,
segment and region on the survey rows), written once as CSV into a temporary folder, so the timings include
reading and validating the file as a user's run would. Each figure is one run (the notebook) or the best of
``repeat`` runs. ``python benchmarks/bench_drivers.py [N]`` prints the rows; ``make bench`` runs it with the others.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab.analyses import drivers as dr
from loyaltylab.constants import DIMENSIONS
from loyaltylab.stats import importance as imp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_io import plain_read_seconds, with_floor  # noqa: E402
from bench_notebooks import empty_job_seconds  # noqa: E402

WEIGHTS = np.array([0.10, 0.35, 0.25, 0.15, 0.15])
SEGMENTS = (["Basic", "Standard", "Premium"], [0.5, 0.35, 0.15])
REGIONS = (["North", "East", "South", "West", "Central"], [0.25, 0.25, 0.2, 0.15, 0.15])


def make_survey(n: int, seed: int = 0) -> pd.DataFrame:
    """A course-shaped survey of ``n`` responses (about two per customer)."""
    rng = np.random.default_rng(seed)
    customers = max(n // 2, 1)
    cid = np.sort(rng.integers(0, customers, n))
    q = rng.normal(size=customers)[cid]
    z = q[:, None] + 0.7 * rng.normal(size=(n, 5))
    loyalty = z @ WEIGHTS + 0.5 * rng.normal(size=n)
    frame = {"response_id": [f"R{i:07d}" for i in range(n)], "customer_id": [f"C{c:07d}" for c in cid]}

    def likert(loc, sd, lo=1, hi=7):
        return np.clip(np.round(loc + sd * rng.normal(size=n)), lo, hi).astype("int8")

    frame["nps"] = likert(7.55 + 1.3 * loyalty, 1.0, 0, 10)
    frame["satisfaction"] = likert(4.6 + 0.9 * loyalty, 0.8)
    frame["repurchase_intent"] = likert(4.4 + 0.9 * loyalty, 0.9)
    for d, spec in enumerate(DIMENSIONS.values()):
        for item in spec["items"]:
            frame[f"P{item}"] = likert(5.1 + 0.8 * z[:, d], 0.8)
    raw = 100 * rng.dirichlet(40 * np.array([0.12, 0.30, 0.22, 0.19, 0.17]), size=n)
    points = np.floor(raw)
    short = (100 - points.sum(axis=1)).astype(int)  # largest remainder: the points sum to exactly 100
    order = np.argsort(-(raw - points), axis=1)
    points[np.arange(n)[:, None], order] += np.arange(5)[None, :] < short[:, None]
    has = rng.random(n) < 0.5
    for d, name in enumerate(DIMENSIONS):
        frame[f"importance_{name}"] = pd.array(np.where(has, points[:, d], np.nan), dtype="Int64")
    seg = rng.choice(len(SEGMENTS[0]), customers, p=SEGMENTS[1])[cid]
    reg = rng.choice(len(REGIONS[0]), customers, p=REGIONS[1])[cid]
    frame["segment"] = np.asarray(SEGMENTS[0], dtype=object)[seg]
    frame["region"] = np.asarray(REGIONS[0], dtype=object)[reg]
    return pd.DataFrame(frame)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_exact_lmg(n: int, p: int = 15, repeat: int = 3) -> list[dict]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, p)) @ (np.eye(p) + 0.3 * rng.normal(size=(p, p)))
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(p)])
    frame["y"] = x @ rng.uniform(0, 1, p) + rng.normal(size=n)
    names = list(frame.columns[:p])
    imp.relative_importance(frame.head(1000), "y", names)  # warm imports and caches outside the timing
    rows = [{"benchmark": f"exact LMG, {p} drivers (stats.relative_importance)", "n": n,
             "seconds": round(_best(lambda: imp.relative_importance(frame, "y", names), repeat), 3)}]
    model = frame[["y", *names]]
    rows.append({"benchmark": f"exact LMG, {p} drivers (drivers.decompose, no bootstrap)", "n": n,
                 "seconds": round(_best(lambda: dr.decompose(model, "y", names, [], {}, None, n_boot=0, seed=0,
                                                             confidence=0.95), repeat), 3)})
    return rows


def bench_whole(n: int, notebook: bool = True) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="loyaltylab-drivers-") as tmp:
        t0 = time.perf_counter()
        path = Path(tmp) / "survey.csv"
        make_survey(n).to_csv(path, index=False)
        rows.append({"benchmark": "write the survey CSV (setup, not timed below)", "n": n,
                     "seconds": round(time.perf_counter() - t0, 2)})
        params = dr.Params(survey_path=str(path))
        t0 = time.perf_counter()
        data = dr.load(params)
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = dr.run(data, params)
        t_run = time.perf_counter() - t0
        rows.append(with_floor({"benchmark": "analysis: read + validate the survey", "n": n,
                                "seconds": round(t_load, 2)}, "pyarrow.csv.read_csv + to_pandas", plain_read_seconds([path])))
        rows.append({"benchmark": f"analysis: everything else (B = {result.boot.n_boot}, 2 segment columns)",
                     "n": n, "seconds": round(t_run, 2)})
        if notebook:
            from loyaltylab import report

            t0 = time.perf_counter()
            job = report.run_notebook(Path(__file__).resolve().parents[1] / "notebooks" / dr.NOTEBOOK,
                                      {"survey_path": str(path), "interactive": False,
                                       "output_dir": str(Path(tmp) / "out")}, Path(tmp) / "out")
            rows.append(with_floor({"benchmark": f"notebook 03 end to end (papermill + report, status {job.status})",
                                    "n": n, "seconds": round(time.perf_counter() - t0, 2)},
                                   "empty notebook job", empty_job_seconds(Path(tmp))))
    return rows


def bench(n: int = 1_000_000, repeat: int = 3) -> list[dict]:
    return bench_exact_lmg(n, repeat=repeat) + bench_whole(n)


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    for row in bench(size):
        print(row)
