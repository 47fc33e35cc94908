"""Churn items of the trust issue (issue 8): the action list is opt-in, removed before each run, keeps ids exactly
as in the input and cannot run as a spreadsheet formula; a churn flag with a blank churn date is a churner; everyone
churned, min_cell=.inf and a bad id column are one-line errors that name rows, never ids; small levels get no
coefficient."""
from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest

from loyaltylab import results
from loyaltylab.analyses import churn, clv
from loyaltylab.analyses.churn.warning import ACTION_LIST, neutralise
from loyaltylab.errors import DataError, ParameterError

NO_DATES = {"signup_col": None, "churn_date_col": None}


def customers(n: int = 400, seed: int = 3, ids=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "member_no": ids if ids is not None else [f"{i:05d}" for i in range(n)],
        "tenure_days": rng.integers(1, 700, n), "churned": rng.integers(0, 2, n),
        "x": np.round(rng.normal(size=n), 3), "plan": rng.choice(["basic", "gold", "silver"], n),
    })


def analyse(path, **kw) -> churn.Result:
    p = churn.Params(customers_path=str(path), id_col="member_no", covariates=["x", "plan"], segment_col="plan",
                     **{**NO_DATES, **kw})
    return churn.analyze(p)


def read_list(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_action_list_is_opt_in_and_removed_before_each_run(tmp_path):
    path = tmp_path / "c.csv"
    customers().to_csv(path, index=False)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ACTION_LIST
    stale.write_text("member_no\nOLD-LIST\n", encoding="utf-8")
    assert churn.Params().write_action_list is False                       # off by default
    result = analyse(path)
    assert churn.write_action_list(result, out) is None and not stale.exists()
    assert result.to_results()["early_warning"]["action_list_written"] is False
    assert any("write_action_list" in line for line in churn.describe_warning(result))
    stale.write_text("member_no\nOLD-LIST\n", encoding="utf-8")
    churn.remove_action_list(out)                    # the notebook calls this before analysing: a failed run
    assert not stale.exists()                        # leaves no old list behind
    written = churn.write_action_list(analyse(path, write_action_list=True), out)
    assert written == stale and len(read_list(written)) == result.warning.n_active
    assert not list(out.glob(".at_risk*"))           # the temporary file is gone


def test_ids_are_kept_exactly_as_in_the_input(tmp_path):
    """An id column named by id_col (not only customer_id) is read as text: 00039 stays 00039, 1E1 stays 1E1 and
    18-digit ids keep every digit (the first version wrote 39, 10 and rounded floats)."""
    n = 60
    ids = [f"{i:05d}" for i in range(n - 3)] + ["1E1", "123456789012345678", "123456789012345679"]
    df = customers(n, ids=ids)
    df["churned"] = 0
    df.loc[::3, "churned"] = 1
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    out = churn.write_action_list(analyse(path, write_action_list=True, min_cell=2), tmp_path / "out")
    got = {r["member_no"] for r in read_list(out)}
    expected = set(df.loc[df["churned"] == 0, "member_no"])
    assert got == expected
    assert {"00003", "1E1", "123456789012345679"} & got == {"00003", "1E1", "123456789012345679"} & expected


def test_action_list_cells_cannot_run_as_formulas(tmp_path):
    hostile = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
    df = customers(200)
    df.loc[: len(hostile) - 1, "member_no"] = hostile
    df.loc[: len(hostile) - 1, "churned"] = 0
    df = df.rename(columns={"member_no": "=id"})
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    p = churn.Params(customers_path=str(path), id_col="=id", covariates=["x", "plan"], segment_col="plan",
                     write_action_list=True, **NO_DATES)
    out = churn.write_action_list(churn.analyze(p), tmp_path / "out")
    rows = read_list(out)
    header = next(csv.reader(open(out, newline="", encoding="utf-8")))
    assert header[0] == "'=id"
    cells = [v for r in rows for v in r.values()]
    assert not any(isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") for v in cells)
    assert {"'" + h for h in hostile[:4]} <= {r["'=id"] for r in rows}   # (the reader strips tab / CR around ids)
    assert list(neutralise(pd.Series(["ok", "=x", 3.5, None, "\tA", "\rB", "-1"]))) == [
        "ok", "'=x", 3.5, None, "'\tA", "'\rB", "'-1"]


def test_churn_flag_with_a_blank_churn_date_is_a_churner(small_course_dir, tmp_path):
    """With snapshot_date the durations come from the dates: 8 customers with churned = 1 and a blank churn_date
    were counted as active and put on the at-risk list. They are churners (at signup + tenure_days)."""
    df = pd.read_csv(small_course_dir / "customers.csv", dtype={"customer_id": str})
    gone = df.index[df["churned"] == 1][:8]
    df.loc[gone, "churn_date"] = np.nan
    path = tmp_path / "customers.csv"
    df.to_csv(path, index=False)
    base = dict(customers_path=str(path), snapshot_date="2026-06-30")
    result = churn.analyze(churn.Params(**base))
    assert result.data.dropped["churned without a churn date"] == 8
    assert (result.data.frame.loc[gone, "event"] == 1).all()
    assert not set(gone) & set(result.warning.scores.index)
    assert result.data.events == int(df["churned"].sum())
    full = churn.analyze(churn.Params(customers_path=str(small_course_dir / "customers.csv"),
                                      snapshot_date="2026-06-30"))
    np.testing.assert_allclose(result.data.frame.loc[gone, "duration"], full.data.frame.loc[gone, "duration"])
    assert result.data.dropped_rows == full.data.dropped_rows                       # counted, not dropped


def test_everyone_churned_is_a_one_line_data_error(tmp_path):
    df = customers(100)
    df["churned"] = 1
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        analyse(path)
    msg = str(info.value)
    assert "every one of the 100 customers churned" in msg and "\n" not in msg
    assert not isinstance(info.value, AttributeError)


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), ".inf", 2.5, 0])
def test_min_cell_must_be_a_whole_number(value, monkeypatch):
    with pytest.raises(ParameterError) as info:
        churn.Params(min_cell=value)
    assert str(info.value).startswith("parameters: min_cell = ") and "\n" not in str(info.value)
    with pytest.raises(ParameterError):
        clv.Params(min_cell=value)


def test_errors_about_the_id_column_name_rows_not_ids(tmp_path):
    df = customers(50, ids=[f"SECRET-{i:03d}" for i in range(50)])
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as info:        # the id column given as the duration by mistake
        analyse(path, duration_col="member_no")
    msg = str(info.value)
    assert "row 2" in msg and "SECRET" not in msg
    df.loc[7, "member_no"] = df.loc[3, "member_no"]
    df.to_csv(path, index=False)
    with pytest.raises(DataError) as info:
        analyse(path)
    assert "row 5" in str(info.value) and "row 9" in str(info.value) and "SECRET" not in str(info.value)


def test_small_levels_get_no_coefficient_and_no_count(tmp_path):
    """A 2-customer channel showed HR 0.000 (neither churned). Levels below min_cell are pooled into '(other)' when
    the pool reaches min_cell, else counted with the reference level; the note names them without counts."""
    df = customers(300)
    df.loc[:2, "plan"] = "fax"          # 3 customers
    df.loc[3:5, "plan"] = "telex"       # 3 more: the pool has 6 ≥ 5
    path = tmp_path / "c.csv"
    df.to_csv(path, index=False)
    d = json.loads(results.dumps(analyse(path).to_results()))
    coefs = d["cox"]["coefficients"]
    assert "plan[(other)]" in coefs and not any(k in coefs for k in ("plan[fax]", "plan[telex]"))
    note = next(n for n in d["design_notes"] if "'fax'" in n)
    assert "pooled into one level '(other)'" in note and "3" not in note
    df.loc[3:5, "plan"] = "basic"       # only 'fax' (3) is rare: too few even alone → counted with the reference
    df.to_csv(path, index=False)
    result = analyse(path)
    d = json.loads(results.dumps(result.to_results()))
    assert not any("fax" in k or "other" in k for k in d["cox"]["coefficients"])
    note = next(n for n in d["design_notes"] if "'fax'" in n)
    assert "counted with the reference level" in note
    assert result.data.n == 300 and result.data_for_models.n == 300                 # nobody dropped: no count leaks
    fax = next(r for r in d["km_by_segment"] if r["value"] == "fax")
    assert fax["suppressed"] and fax["n"] is None and fax["events"] is None
