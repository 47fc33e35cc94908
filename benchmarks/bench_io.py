"""Reading a large export: a 1,000,000-row survey-shaped file through io.read_table, as CSV and as Parquet.

The file is built with numpy (nps, satisfaction, 44 SERVQUAL items, dates, ids, a segment), written to a temporary
folder in both formats, then read + validated. Shows why Parquet is the format for large data.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltylab import io
from loyaltylab.constants import EXPECTATION_ITEMS, PERCEPTION_ITEMS


def make_survey(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = {
        "response_id": np.char.add("R", np.arange(n).astype(str)),
        "customer_id": np.char.add("C", rng.integers(0, max(n // 2, 1), n).astype(str)),
        "date": np.datetime64("2023-07-01") + rng.integers(0, 1095, n).astype("timedelta64[D]"),
        "nps": rng.integers(0, 11, n),
        "satisfaction": rng.integers(1, 8, n),
        "repurchase_intent": rng.integers(1, 8, n),
    }
    for col in (*EXPECTATION_ITEMS, *PERCEPTION_ITEMS):
        frame[col] = rng.integers(1, 8, n).astype("int8")
    frame["language"] = np.where(rng.random(n) < 0.65, "zh", "en")
    return pd.DataFrame(frame)


def bench(n: int = 1_000_000) -> list[dict]:
    rows = []
    frame = make_survey(n)
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("csv", "parquet"):
            path = Path(tmp) / f"survey.{fmt}"
            frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path, index=False)
            t0 = time.perf_counter()
            df = io.read_table(path, "survey")
            rows.append({"benchmark": f"read + validate survey ({fmt})", "rows": len(df), "columns": df.shape[1],
                         "seconds": round(time.perf_counter() - t0, 2),
                         "file_mib": round(path.stat().st_size / 2**20, 1)})
    return rows


if __name__ == "__main__":
    for row in bench():
        print(row)
