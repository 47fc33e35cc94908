"""notebooks/04_churn_survival.ipynb executed with papermill: course data, the telco export, bad input."""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import papermill as pm
import pytest

from loyaltylab import results

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_churn_survival.ipynb"
TELCO = (ROOT / ".." / "shared" / "data" / "telco_customer_churn.csv").resolve()
REQUIRED_KEYS = {"n", "events", "dropped_rows", "km", "km_by_segment", "logrank", "cox", "aft", "validation",
                 "early_warning", "clv", "sbg", "headline", "inputs"}

pytestmark = pytest.mark.notebook


def run(tmp_path: Path, **params) -> tuple[dict, Path]:
    out = tmp_path / "out"
    params = {"interactive": False, "output_dir": str(out), **params}
    pm.execute_notebook(NOTEBOOK, tmp_path / "executed.ipynb", parameters=params, kernel_name="python3",
                        cwd=str(ROOT), progress_bar=False, execution_timeout=600)
    return json.loads((out / "results.json").read_text(encoding="utf-8")), out


def html_of(path: Path) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(exclude_input=True).from_notebook_node(nbformat.read(path, as_version=4))
    return body


def test_notebook_is_committed_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")  # after the title (both languages)
    assert first_code >= 1 and nb.cells[first_code].metadata.get("tags") == ["parameters"]
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None
    names = set(re.findall(r"^(\w+) =", nb.cells[first_code].source, flags=re.M))
    assert names >= {"customers_path", "id_col", "duration_col", "event_col", "event_value", "covariates",
                     "categorical", "segment_col", "time_unit", "horizon", "revenue_col", "margin", "discount_rate",
                     "acquisition_cost_col", "cohort_retention_path", "penalizer", "min_cell", "interactive",
                     "output_dir", "filters", "signup_col", "churn_date_col", "snapshot_date", "confidence",
                     "encoding", "sheet", "write_action_list"}
    assert re.search(r"^write_action_list = False", nb.cells[first_code].source, flags=re.M)      # opt-in (issue 8)


def test_notebook_is_thin():
    """No sentences, DataFrames or files built in a cell: the library writes them (DESIGN.md §4)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells[2:] if c.cell_type == "code")
    for pattern in (r"\bf\"", r"\bf'", r"DataFrame\(", r"\.to_csv\(", r"\bopen\(", r"Markdown\(", r"\bwidgets\.",
                    r"\bdef\s"):
        assert not re.search(pattern, code), pattern
    assert "churn.write_action_list(result, out_dir)" in code and "churn.explorer(result)" in code
    # a previous run's list is removed before anything is read (a failed rerun must not leave it behind)
    assert code.index("churn.remove_action_list(out_dir)") < code.index("churn.analyze(params)")


def test_course_data(small_course_dir, tmp_path):
    cohort = tmp_path / "cohorts.csv"
    pd.DataFrame({"year": range(8), "High End": [1000, 869, 743, 653, 593, 551, 517, 491],
                  "Regular": [1000, 631, 468, 382, 326, 289, 262, 241]}).to_csv(cohort, index=False)
    res, out = run(tmp_path, customers_path=str(small_course_dir / "customers.csv"),
                   cohort_retention_path=str(cohort), write_action_list=True)
    assert set(res) >= REQUIRED_KEYS | set(results.DOCUMENT_KEYS)
    # issue 10's new keys beside the old ones
    ph = res["cox"]["ph_test"]
    assert set(ph["global"]) == {"chisq", "df", "p_value"} and ph["global"]["p_value"] == ph["global_p"]
    assert set(ph["terms"]) == {"provider_proactive", "customer_proactive", "provider_proactive:customer_proactive",
                                "segment", "channel"} and ph["terms"]["segment"]["df"] == 2
    assert set(res["cox"]["model_tests"]) == {"likelihood_ratio", "wald", "score"}
    assert 0 < res["cox"]["concordance_se"] < 0.05 and res["cox"]["term_tests"]["channel"]["df"] == 3
    assert set(res["logrank"]) >= {"statistic", "df", "p_value", "groups"} and len(res["logrank"]["groups"]) == 3
    assert res["km"]["ci_type"] == "log-log" and res["rmst"]["groups"][0]["value"] == "All customers"
    assert res["early_warning"]["action_list_written"] is True
    customers = pd.read_csv(small_course_dir / "customers.csv")
    assert res["n"] == len(customers) and res["events"] == int(customers["churned"].sum())
    assert res["cox"]["ph_test"]["global_p"] is not None
    assert res["early_warning"]["backtest_auc"] > 0.5
    assert res["truth"]["cox_covered"] >= 6
    assert res["sbg"]["cohort"] == "High End" and res["sbg"]["alpha"] == pytest.approx(0.668, abs=0.002)
    assert {c["cohort"] for c in res["sbg"]["cohorts"]} == {"High End", "Regular"}
    assert res["headline"]["Customers"] == len(customers)
    at_risk = pd.read_csv(out / "at_risk.csv")
    assert len(at_risk) == res["early_warning"]["n_active"]
    assert at_risk["customer_id"].str.fullmatch(r"C\d{7}").all()
    # customer ids only in the action list: never in the report
    html = html_of(tmp_path / "executed.ipynb")
    assert "at_risk.csv" in html
    assert "partial likelihood, not comparable" in html                   # the Cox AIC caveat, from describe
    assert "conf.type" in html and "Restricted mean survival time" in html and "summary.coxph" in html
    assert not re.search(r"C\d{7}", html)
    assert not re.search(r"C\d{7}", (out / "results.json").read_text(encoding="utf-8"))


def test_telco_export_through_parameters(tmp_path):
    """Run as the README's command does (no write_action_list): no action list, and a stale one is removed."""
    if not TELCO.exists():
        pytest.skip("../shared/data/telco_customer_churn.csv is not available")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "at_risk.csv").write_text("customerID\nOLD\n", encoding="utf-8")
    res, out = run(
        tmp_path, customers_path="../shared/data/telco_customer_churn.csv", id_col="customerID",
        duration_col="tenure", event_col="Churn", time_unit="months", horizon=3,
        covariates=["Contract", "InternetService", "PaymentMethod", "MonthlyCharges", "SeniorCitizen"],
        segment_col="Contract", revenue_col="MonthlyCharges", acquisition_cost_col=None,
    )
    assert res["n"] == 7032 and res["events"] == 1869
    assert res["dropped_rows"] == 11 and res["dropped"]["zero duration"] == 11   # tenure 0: dropped and counted
    assert res["early_warning"]["backtest_auc"] is None                          # no dates, no backtest
    assert res["validation"]["c_index_test"] > 0.75
    assert "Contract[Two year]" in res["cox"]["coefficients"]
    assert res["cox"]["hazard_ratios"]["Contract[Two year]"] < 0.2
    assert {g["value"] for g in res["km_by_segment"]} == {"Month-to-month", "One year", "Two year"}
    assert res["truth"] is None and res["sbg"] is None
    assert not (out / "at_risk.csv").exists() and res["early_warning"]["action_list_written"] is False
    assert res["cox"]["scoring_model"] == "Cox stratified by Contract, PaymentMethod"
    telco = pd.read_csv(TELCO, dtype=str)
    ids = set(telco["customerID"].head(200))
    html = html_of(tmp_path / "executed.ipynb")
    assert not any(i in html for i in ids)
    assert "write_action_list" in html


@pytest.mark.parametrize("problem, message", [
    ("negative", r"DataError.*column 'tenure_days': must not be negative"),
    ("unknown", r"DataError.*column 'channel_x': required column is missing"),
])
def test_bad_input_is_a_one_line_data_error(small_course_dir, tmp_path, problem, message):
    customers = pd.read_csv(small_course_dir / "customers.csv", dtype=str, keep_default_na=False).head(300)
    params = {}
    if problem == "negative":
        customers.loc[4, "tenure_days"] = "-3"
    else:
        params["covariates"] = ["provider_proactive", "channel_x"]
    path = tmp_path / "customers.csv"
    customers.to_csv(path, index=False)
    with pytest.raises(pm.PapermillExecutionError) as info:
        run(tmp_path, customers_path=str(path), **params)
    assert re.search(message, str(info.value))
    assert info.value.ename == "DataError"
    line = info.value.evalue
    assert "\n" not in line
    assert ("row 6 (-3)" if problem == "negative" else "did you mean 'channel'") in line


def test_notebook_text_follows_horizon_and_period_parameters():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "提前90天" not in text and "next 90 days" not in text          # built from horizon and time_unit
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert re.search(r"^cohort_period = \"year\"", params.source, flags=re.M)
    assert "cox_partial_aic" not in text and "churn.describe_aft(result)" in text   # the AIC caveat: library text
    assert "churn.explorer(result)" in text       # its segments: exactly the shown ones (tests/test_churn.py)


def test_course_data_monthly_horizon_and_triangle(small_course_dir, tmp_path):
    cohort = tmp_path / "triangle.csv"
    pd.DataFrame({"quarter": range(6), "Q1": [1000, 869, 743, 653, 593, 551],
                  "Q2": [1000, 850, 730, None, None, None], "Q3": [1000, 800, None, None, None, None]}
                 ).to_csv(cohort, index=False)
    res, out = run(tmp_path, customers_path=str(small_course_dir / "customers.csv"), horizon=60,
                   cohort_retention_path=str(cohort), cohort_period="quarter", write_action_list=True)
    html = html_of(tmp_path / "executed.ipynb")
    assert "next 60 days" in html and "提前60天预警" in html and "提前90天" not in html
    assert {c["cohort"] for c in res["sbg"]["cohorts"]} == {"Q1", "Q2"}
    assert "Too young to fit" in html and "Q3" in html
    at_risk = pd.read_csv(out / "at_risk.csv")
    assert {"expected_remaining_months", "clv"} <= set(at_risk.columns)
    assert res["early_warning"]["model"] == res["cox"]["scoring_model"]
    assert "cox_aic" in res["aft"]
