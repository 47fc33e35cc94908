"""The churn notebook's fast paths at real sizes (issue 15) give what the plain computations give: stratum codes
against texts per row, a Cox fit on one column of stratum codes against lifelines on the strata themselves, and
CLV's shared grid against the per-customer baseline lookup."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from loyaltylab.analyses.churn.baseline import cumhaz_for, cumhaz_on_grid, stratum_codes


def _per_row(base: pd.DataFrame, strata, index):
    """The first version: every row's stratum as text (a tuple of texts for several strata), then factorised."""
    vals = base.loc[index, list(strata)].astype(str)
    labels = (vals.iloc[:, 0] if len(strata) == 1
              else pd.Series(list(vals.itertuples(index=False, name=None)), index=index, dtype=object))
    codes, uniques = pd.factorize(labels)
    return codes, list(uniques)


@pytest.mark.parametrize("strata", [["a"], ["a", "b"], ["b", "c", "a"], ["d"], ["c"], ["c", "d"]])
def test_stratum_codes_equal_texts_per_row(strata):
    rng = np.random.default_rng(3)
    n = 5_000
    base = pd.DataFrame({
        "a": rng.choice(["x", "y", "z"], n),
        "b": rng.choice([1, 2], n),
        "c": rng.choice(np.array(["p", None, np.nan], dtype=object), n),  # None and NaN read differently as text
        "d": rng.choice([1.0, np.nan, 2.5], n),
    }, index=np.arange(n) * 7)
    sd = SimpleNamespace(base=base)
    for index in (base.index, base.index[rng.permutation(n)[:1_200]]):
        codes, labels = stratum_codes(strata, sd, index)
        want_codes, want_labels = _per_row(base, strata, index)
        assert labels == want_labels
        assert np.array_equal(codes, want_codes)


def _stratified_world(n: int = 3_000, seed: int = 5):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.integers(0, 2, n).astype(float)})
    df["s1"] = rng.choice(["North", "South", "East"], n)
    df["s2"] = rng.choice(["Web", "Store"], n)
    hazard = np.exp(0.4 * df["x1"] - 0.3 * df["x2"]) * np.where(df["s1"] == "North", 2.0, 1.0)
    t = rng.exponential(1 / hazard.to_numpy()) * 100
    c = rng.uniform(5, 300, n)
    df["duration"] = np.ceil(np.minimum(t, c))
    df["event"] = (t < c).astype(int)
    return df


def test_cox_on_stratum_codes_is_lifelines_on_the_strata():
    """fit_cox hands lifelines one integer column of stratum codes (twice as fast as several text columns) and names
    the baselines back: the same coefficients, variance and baseline per stratum as lifelines on the texts."""
    from lifelines import CoxPHFitter

    from loyaltylab.analyses.churn.cox import STRATUM, _name_strata

    df = _stratified_world()
    sd = SimpleNamespace(base=df)
    texts = CoxPHFitter().fit(df[["duration", "event", "x1", "x2", "s1", "s2"]], "duration", "event",
                              strata=["s1", "s2"])
    codes, labels = stratum_codes(["s1", "s2"], sd, df.index)
    coded = CoxPHFitter().fit(df[["duration", "event", "x1", "x2"]].assign(**{STRATUM: codes}), "duration", "event",
                              strata=[STRATUM])
    _name_strata(coded, labels)
    assert np.allclose(coded.params_, texts.params_, rtol=0, atol=1e-12)
    assert np.allclose(coded.variance_matrix_, texts.variance_matrix_, rtol=0, atol=1e-12)
    want = texts.baseline_cumulative_hazard_
    got = coded.baseline_cumulative_hazard_
    assert set(got.columns) == set(want.columns) and all(isinstance(c, tuple) for c in got.columns)
    for label in want.columns:
        pd.testing.assert_series_equal(got[label].dropna(), want[label].dropna(), check_names=False, atol=1e-12)


def test_cumhaz_on_grid_is_cumhaz_for_each_row():
    """CLV from signup: every customer of a stratum shares the month grid, so H0 is computed once per stratum."""
    from loyaltylab.analyses.churn.baseline import supported_baseline

    df = _stratified_world()
    sd = SimpleNamespace(base=df)
    codes, labels = stratum_codes(["s1"], sd, df.index)
    baselines = {}
    for k, label in enumerate(labels):
        rows = df[codes == k].sort_values("duration")
        times = np.unique(rows.loc[rows["event"] == 1, "duration"].to_numpy(dtype=float))
        values = np.cumsum(np.full(len(times), 0.01))
        baselines[label] = supported_baseline(times, values, rows["duration"].to_numpy(dtype=float),
                                              rows["event"].to_numpy(dtype=int))
    cox = SimpleNamespace(strata=("s1",), baselines={**baselines})
    del cox.baselines[labels[-1]]                        # a stratum the model has not seen: NaN
    grid = np.arange(0.0, 400.0, 30.0)
    table = cumhaz_on_grid(cox, labels, grid)
    per_row, _ = cumhaz_for(cox, sd, df.index, np.tile(grid, (len(df), 1)))
    assert np.array_equal(table[codes], per_row, equal_nan=True)
    assert np.isnan(table[len(labels) - 1]).all() and np.isfinite(table[:-1]).all()
