"""Churn at scale: Kaplan–Meier + Cox (10 covariates) + early-warning scoring on 1,000,000 customers.

The customers come from a known Weibull proportional-hazards model (numpy, fixed seed): five normal covariates, two
Poisson proactivity counts and their product, a three-level segment — ten design columns — with durations rounded
up to whole days and censoring at a uniform age of 1–1,095 days, like the course data. Each run happens in a fresh
subprocess, which reports its own peak RSS, so the memory figure is the pipeline's and not the runner's.

The last row runs the notebook's whole computation, ``churn.analyze_customers`` then ``clv.analyze`` on its result
(KM by segment, log-rank, Cox with R's statistics, R's cox.zph test on every customer, stratified remedy if needed,
three AFT fits, validation, early warning, CLV in chunks), on ``--analyze-n`` customers (default 200,000) in its own
fresh subprocess.

    python benchmarks/bench_churn.py            # prints the rows
    python benchmarks/bench_churn.py --n 200000 --analyze-n 200000
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BETA = {
    "x1": 0.20, "x2": -0.15, "x3": 0.10, "x4": -0.05, "x5": 0.0,
    "f": -0.10, "c": -0.12, "f:c": -0.03, "segment[Standard]": -0.25, "segment[Premium]": -0.50,
}
SHAPE, SCALE_DAYS, WINDOW_DAYS = 0.9, 900.0, 1095
COVARIATES = ["x1", "x2", "x3", "x4", "x5", "f", "c", "f:c", "segment"]


def simulate(n: int, seed: int = 7):
    """Customers from h(t|x) = (k/λ)(t/λ)^(k−1) exp(x'β), integer days, censored at the customer's age."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    seg = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])
    f = rng.poisson(np.array([2.0, 3.0, 4.0])[seg])
    c = rng.poisson(2.0, size=n)
    lp = x @ np.array([BETA[f"x{i}"] for i in range(1, 6)]) + BETA["f"] * f + BETA["c"] * c + BETA["f:c"] * f * c
    lp += np.array([0.0, BETA["segment[Standard]"], BETA["segment[Premium]"]])[seg]
    t = SCALE_DAYS * (rng.standard_exponential(n) * np.exp(-lp)) ** (1.0 / SHAPE)
    t_days = np.maximum(np.ceil(np.minimum(t, 1e7)), 1).astype(np.int64)
    age = rng.integers(1, WINDOW_DAYS + 1, size=n)
    churned = t_days < age
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 6)])
    df.insert(0, "customer_id", np.char.add("B", np.char.zfill(np.arange(n).astype(str), 8)))
    df["f"], df["c"] = f, c
    df["segment"] = np.array(["Basic", "Standard", "Premium"])[seg]
    df["tenure_days"] = np.where(churned, t_days, age)
    df["churned"] = churned.astype(np.int8)
    return df


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker(n: int) -> list[dict]:
    """The measured pipeline, in this process."""
    import lifelines  # imported up front: its import time is not the pipeline's
    import numpy as np

    from loyaltylab.analyses.churn import baseline, cox, data, km, warning

    rows = []

    def lap(name, start, **extra):
        rows.append({"benchmark": name, "n": n, "seconds": round(time.perf_counter() - start, 2),
                     "peak_mib": round(_peak_mib(), 1), **extra})

    t0 = time.perf_counter()
    df = simulate(n)
    lap("churn: simulate customers (Weibull PH)", t0)

    t = time.perf_counter()
    sd = data.prepare(df, covariates=COVARIATES, id_col="customer_id", signup_col=None, churn_date_col=None,
                       source="bench", reference_levels={"segment": "Basic"})
    lap("churn: prepare (validate, design matrix)", t, covariates=len(sd.design.columns))

    start = time.perf_counter()
    t = time.perf_counter()
    curve = km.kaplan_meier(sd.frame["duration"], sd.frame["event"], times=[90, 365])
    lap("churn: Kaplan-Meier (counts)", t, events=curve.events)

    t = time.perf_counter()
    model = cox.fit_cox(sd, concordance=False)
    coef = model.table.set_index("covariate")["coef"]
    err = max(abs(coef[k] - v) for k, v in BETA.items())
    lap("churn: Cox PH, 10 covariates", t, max_abs_coef_error=round(float(err), 4))
    cox_row = rows[-1]

    t = time.perf_counter()
    ew = warning.early_warning(model, sd, horizon=90)
    lap("churn: early warning (90 days, top factors)", t, n_active=ew.n_active)
    rows.append({"benchmark": "churn: KM + Cox + early warning", "n": n,
                 "seconds": round(time.perf_counter() - start, 2), "peak_mib": round(_peak_mib(), 1)})

    t = time.perf_counter()
    idx = sd.frame.index[np.random.default_rng(0).choice(sd.n, size=min(sd.n, 200_000), replace=False)]
    from lifelines.utils import concordance_index

    sub = sd.frame.loc[idx]
    c_index = concordance_index(sub["duration"], -baseline.partial_hazard(model, sub), sub["event"])
    lap("churn: C-index on a 200k sample (extra)", t, c_index=round(float(c_index), 3))

    t = time.perf_counter()  # the Cox fit's floor: lifelines' own fit on the same rows and design columns
    lifelines.CoxPHFitter().fit(sd.frame[["duration", "event", *sd.covariates]], "duration", "event")
    floor = time.perf_counter() - t
    cox_row.update(floor="bare lifelines CoxPHFitter.fit", floor_seconds=round(floor, 2),
                   ratio=round(cox_row["seconds"] / max(floor, 1e-9), 2))
    return rows


def analyze_worker(n: int) -> list[dict]:
    """The notebook's whole computation (churn, then CLV on its models) on simulated customers with a monthly
    revenue."""
    import lifelines  # noqa: F401
    import numpy as np

    from loyaltylab import loaders
    from loyaltylab.analyses import churn, clv

    df = simulate(n)
    df["monthly_revenue"] = np.round(20 + 10 * np.random.default_rng(1).random(n), 2)
    t = time.perf_counter()
    p = clv.Params(covariates=COVARIATES, segment_col="segment", revenue_col="monthly_revenue",
                   acquisition_cost_col=None, signup_col=None, churn_date_col=None)
    ca = churn.analyze_customers(loaders.Customers(frame=df, source="bench", path="bench"), p.churn_params())
    ca = ca.with_clv(clv.analyze(p, churn_result=ca))
    return [{"benchmark": "churn: full analyze (notebook computation)", "n": n,
             "seconds": round(time.perf_counter() - t, 2), "peak_mib": round(_peak_mib(), 1),
             "ph_test_rows": ca.ph.n_used, "scoring_model": ca.scoring.label}]


def _run(args: list[str]) -> list[dict]:
    here = Path(__file__).resolve()
    proc = subprocess.run([sys.executable, str(here), *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench_churn worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench(n: int = 1_000_000, analyze_n: int | None = 200_000) -> list[dict]:
    """Run the pipeline in a fresh subprocess (and ``analyze`` in another) and return the rows (seconds, peak RSS
    in MiB). ``analyze_n=None`` skips the full-analyze row."""
    rows = _run(["--worker", "--n", str(n)])
    if analyze_n:
        rows += _run(["--analyze-worker", "--n", str(analyze_n)])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--analyze-n", type=int, default=200_000,
                        help="customers for the full-analyze row (0 skips it)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--analyze-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.n)))
        return 0
    if args.analyze_worker:
        print(json.dumps(analyze_worker(args.n)))
        return 0
    for row in bench(args.n, args.analyze_n or None):
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
