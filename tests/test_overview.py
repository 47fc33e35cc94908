"""Overview module and the 00_data_overview notebook, on the small course world."""
import json
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from loyaltylab import overview

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("customers", "survey", "transactions", "incidents")


@pytest.fixture(scope="module")
def ov(small_course_dir):
    return overview.build({t: small_course_dir / f"{t}.csv" for t in TABLES}, min_cell=5)


def test_summary_counts_match_files(ov, small_course_dir):
    for table in TABLES:
        n = len(pd.read_csv(small_course_dir / f"{table}.csv"))
        assert ov.summary.set_index("table").loc[table, "rows"] == n


def test_missing_values_are_counted(ov, small_course_dir):
    customers = pd.read_csv(small_course_dir / "customers.csv")
    row = ov.missing[(ov.missing.table == "customers") & (ov.missing.column == "churn_date")]
    assert int(row["missing"].iloc[0]) == int(customers["churn_date"].isna().sum())


def test_segment_sizes_suppress_small_groups():
    customers = pd.DataFrame({"segment": ["A"] * 10 + ["B"] * 3 + ["C"] * 5 + ["D"] * 6})
    table = overview.segment_sizes(customers, ["segment"], min_cell=5)["segment"].set_index("value")
    assert table.loc["B", "suppressed"] and pd.isna(table.loc["B", "n"]) and pd.isna(table.loc["B", "pct"])
    # B alone could be recovered as total − A − C − D, so the next-smallest group is hidden too
    assert table.loc["C", "suppressed"] and pd.isna(table.loc["C", "n"])
    assert not table.loc["D", "suppressed"] and table.loc["D", "n"] == 6


def test_quality_warnings_find_orphans_and_straightlining():
    customers = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["X", "X"]})
    items = {f"P{i}": [4, 4, 3] for i in range(1, 23)}
    items["P2"] = [4, 5, 3]
    survey = pd.DataFrame({"customer_id": ["a", "b", "zz"], "nps": [9, None, 3], **items})
    warnings = overview.quality_warnings({"customers": customers, "survey": survey}, min_cell=5)
    text = " ".join(warnings)
    assert "1 survey responses belong to customers not in" in text
    assert "2 responses give the same answer" in text  # rows 1 and 3
    assert "1 responses have no NPS score" in text


def test_filters_follow_customers_to_other_tables(small_course_dir):
    ov = overview.build({t: small_course_dir / f"{t}.csv" for t in TABLES}, filters={"region": "North"})
    assert set(ov.tables["customers"]["region"]) == {"North"}
    assert ov.tables["survey"]["customer_id"].isin(ov.tables["customers"]["customer_id"]).all()


def test_plot_column_refuses_identifiers():
    with pytest.raises(ValueError):
        overview.plot_column(pd.DataFrame({"customer_id": ["a"]}), "customer_id")


@pytest.mark.notebook
def test_overview_notebook_runs_and_writes_results(small_course_dir, tmp_path):
    params = {f"{t}_path": str(small_course_dir / f"{t}.csv") for t in TABLES}
    params.update(interactive=False, output_dir=str(tmp_path / "out"))
    pm.execute_notebook(
        ROOT / "notebooks" / "00_data_overview.ipynb", tmp_path / "executed.ipynb",
        parameters=params, kernel_name="python3", cwd=str(ROOT), progress_bar=False,
    )
    res = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert set(res) >= {"rows", "missing", "date_ranges", "headline", "inputs", "warnings"}
    assert res["rows"]["customers"] == len(pd.read_csv(small_course_dir / "customers.csv"))
    assert res["date_ranges"]["survey"]["first"] <= res["date_ranges"]["survey"]["last"]


def test_a_filter_leaving_fewer_than_min_cell_customers_is_refused(small_course_dir):
    from loyaltylab.errors import DataError

    customers = pd.read_csv(small_course_dir / "customers.csv")
    few = customers["customer_id"].iloc[:3].tolist()
    with pytest.raises(DataError, match="fewer than min_cell=5"):
        overview.build({t: small_course_dir / f"{t}.csv" for t in TABLES}, filters={"customer_id": few})


def test_own_survey_is_not_mixed_with_course_tables(small_course_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("LOYALTYLAB_DATA", str(tmp_path / "nowhere"))  # the course data must not be touched
    ov = overview.build({"customers": None, "survey": small_course_dir / "survey.csv",
                         "transactions": None, "incidents": None})
    assert list(ov.tables) == ["survey"]
    assert not any("not in the customers table" in w for w in ov.warnings)


def test_key_findings_are_built_from_the_summary(ov, small_course_dir):
    lines = overview.key_findings(ov)
    n = len(pd.read_csv(small_course_dir / "customers.csv"))
    assert lines[0].startswith(f"{n:,} customers")
    assert lines[1].startswith("Survey responses run from 20")
