"""Shared fixtures: a small course world (3,000 customers, seed 11), in memory and written to a folder."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyaltylab import synth

SMALL_CUSTOMERS = 3_000
SMALL_SEED = 11


@pytest.fixture(scope="session")
def small_world() -> synth.CourseWorld:
    """The generated tables and truth (DataFrames as in memory; treat them as read-only)."""
    return synth.generate(n_customers=SMALL_CUSTOMERS, seed=SMALL_SEED)


@pytest.fixture(scope="session")
def small_course_dir(tmp_path_factory, small_world):
    """A folder with customers/survey/transactions/incidents.csv and truth.json for the small world."""
    out = tmp_path_factory.mktemp("course")
    synth.write(small_world, out, fmt="csv")
    return out


@pytest.fixture(scope="session")
def small_customers() -> pd.DataFrame:
    """600 customers without dates: tenure, churn flag, one numeric covariate, two segments, revenue and CAC
    (read-only)."""
    rng = np.random.default_rng(4)
    n = 600
    return pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(n)], "tenure_days": rng.integers(1, 700, n),
                         "churned": rng.integers(0, 2, n), "x": rng.normal(size=n),
                         "segment": rng.choice(["Basic", "Standard"], n), "monthly_revenue": 30.0,
                         "acquisition_cost": 120.0})
