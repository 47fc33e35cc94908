"""loyaltylab.io: reading every supported format to the same frame, and one clear line for every malformed input."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from loyaltylab import io
from loyaltylab.constants import TABLE_COLUMNS
from loyaltylab.errors import DataError
from loyaltylab.paths import display_path, project_root

SURVEY_HEADER = "response_id,customer_id,date,nps,satisfaction,P5"
SURVEY_ROWS = ["R1,C1,2024-01-05,9,6,5", "R2,C2,2024-02-10,7,5,4", "R3,C3,2024-03-15,3,2,6"]
CUSTOMERS_HEADER = "customer_id,signup_date,segment,monthly_revenue,acquisition_cost,churned,churn_date,tenure_days"
CUSTOMERS_ROWS = [
    "C1,2024-01-01,Basic,29.5,120,0,,300",
    "C2,2024-02-01,Premium,109,250,1,2024-06-01,121",
    "C3,2024-03-01,Standard,59,200,0,,200",
]
INCIDENTS_HEADER = "customer_id,date,failure_type,recovered,recovery_hours,recovery_satisfaction"
INCIDENTS_ROWS = ["C1,2024-05-01,outage,1,12,6", "C2,2024-05-02,billing,0,,", "C3,2024-05-03,app,1,30,4"]


def csv_text(header: str, rows: list[str], replace: dict[int, str] | None = None) -> str:
    """A CSV with data row ``i`` (0-based) replaced; data row i is spreadsheet row i + 2."""
    rows = list(rows)
    for i, row in (replace or {}).items():
        rows[i] = row
    return "\n".join([header, *rows]) + "\n"


def write(tmp_path, name: str, content, encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def survey(replace):
    return csv_text(SURVEY_HEADER, SURVEY_ROWS, replace)


def customers(replace):
    return csv_text(CUSTOMERS_HEADER, CUSTOMERS_ROWS, replace)


def incidents(replace):
    return csv_text(INCIDENTS_HEADER, INCIDENTS_ROWS, replace)


# ---------------------------------------------------------------------------------------------------------------------
# Malformed inputs: (id, file name, content, table, read_table kwargs, column, rule fragment, spreadsheet rows)
# ---------------------------------------------------------------------------------------------------------------------
MALFORMED = [
    ("nps-11", "s.csv", survey({1: "R2,C2,2024-02-10,11,5,4"}), "survey", {}, "nps", "must be between 0 and 10", [3]),
    ("nps-minus-1", "s.csv", survey({2: "R3,C3,2024-03-15,-1,2,6"}), "survey", {}, "nps",
     "must be between 0 and 10", [4]),
    ("nps-7.5", "s.csv", survey({0: "R1,C1,2024-01-05,7.5,6,5"}), "survey", {}, "nps", "must be a whole number", [2]),
    ("nps-ten", "s.csv", survey({1: "R2,C2,2024-02-10,ten,5,4"}), "survey", {}, "nps", "not a number", [3]),
    ("likert-0", "s.csv", survey({2: "R3,C3,2024-03-15,3,0,6"}), "survey", {}, "satisfaction",
     "must be between 1 and 7", [4]),
    ("likert-8", "s.csv", survey({0: "R1,C1,2024-01-05,9,6,8", 2: "R3,C3,2024-03-15,3,2,8"}), "survey", {}, "P5",
     "must be between 1 and 7", [2, 4]),
    ("duplicated-response-id", "s.csv", survey({2: "R1,C3,2024-03-15,3,2,6"}), "survey", {}, "response_id",
     "duplicated value", [2, 4]),
    ("blank-response-id", "s.csv", survey({1: ",C2,2024-02-10,7,5,4"}), "survey", {}, "response_id",
     "missing value", [3]),
    ("missing-required-column", "s.csv",
     csv_text("response_id,CustomerID,nps", ["R1,C1,9", "R2,C2,8"]), "survey", {}, "customer_id",
     "required column is missing; did you mean 'CustomerID'?", []),
    ("importance-not-100", "s.csv",
     csv_text("customer_id,nps,importance_tangibles,importance_reliability",
              ["C1,9,50,50", "C2,8,40,50", "C3,7,,", "C4,6,60,40.5"]),
     "survey", {}, "importance_*", "importance points must sum to 100", [3]),
    ("importance-negative", "s.csv",
     csv_text("customer_id,nps,importance_tangibles,importance_reliability", ["C1,9,-10,110", "C2,8,40,60"]),
     "survey", {}, "importance_tangibles", "must not be negative", [2]),
    ("unparseable-date", "s.csv", survey({1: "R2,C2,2024-13-45,7,5,4"}), "survey", {}, "date", "not a date", [3]),
    ("ambiguous-date", "s.csv", survey({0: "R1,C1,05/03/2024,9,6,5"}), "survey", {}, "date", "not a date", [2]),
    ("date-after-snapshot", "s.csv", survey({2: "R3,C3,2024-07-01,3,2,6"}), "survey",
     {"snapshot_date": "2024-06-30"}, "date", "date after the snapshot (2024-06-30)", [4]),
    ("negative-tenure", "c.csv", customers({1: "C2,2024-02-01,Premium,109,250,1,2024-06-01,-5"}), "customers", {},
     "tenure_days", "must not be negative", [3]),
    ("negative-revenue", "c.csv", customers({0: "C1,2024-01-01,Basic,-10.5,120,0,,300"}), "customers", {},
     "monthly_revenue", "must not be negative", [2]),
    ("text-acquisition-cost", "c.csv", customers({2: "C3,2024-03-01,Standard,59,abc,0,,200"}), "customers", {},
     "acquisition_cost", "not a number", [4]),
    ("duplicated-customer-id", "c.csv", customers({1: "C1,2024-02-01,Premium,109,250,1,2024-06-01,121"}),
     "customers", {}, "customer_id", "duplicated value (must be unique)", [2, 3]),
    ("churned-maybe", "c.csv", customers({2: "C3,2024-03-01,Standard,59,200,maybe,,200"}), "customers", {},
     "churned", "not a yes/no value", [4]),
    ("churn-date-not-churned", "c.csv", customers({0: "C1,2024-01-01,Basic,29.5,120,0,2024-05-01,300"}),
     "customers", {}, "churn_date", "churn_date is set but churned is 0", [2]),
    ("churn-before-signup", "c.csv", customers({1: "C2,2024-02-01,Premium,109,250,1,2023-06-01,121"}),
     "customers", {}, "churn_date", "churn_date is before signup_date", [3]),
    ("mapped-column-named-as-in-file", "c.csv",
     csv_text("id,tenure", ["C1,10", "C2,-1", "C3,-4"]), "customers",
     {"columns": {"id": "customer_id", "tenure": "tenure_days"}}, "tenure", "must not be negative", [3, 4]),
    ("text-in-amount", "t.csv", csv_text("customer_id,date,amount", ["C1,2024-01-01,29.90", "C1,2024-01-31,12 EUR"]),
     "transactions", {}, "amount", "not a number", [3]),
    ("transactions-missing-amount", "t.csv", csv_text("customer_id,date,amt", ["C1,2024-01-01,29.90"]),
     "transactions", {}, "amount", "did you mean 'amt'?", []),
    ("recovery-satisfaction-9", "i.csv", incidents({2: "C3,2024-05-03,app,1,30,9"}), "incidents", {},
     "recovery_satisfaction", "must be between 1 and 7", [4]),
    ("negative-recovery-hours", "i.csv", incidents({0: "C1,2024-05-01,outage,1,-2,6"}), "incidents", {},
     "recovery_hours", "must not be negative", [2]),
    ("recovered-perhaps", "i.csv", incidents({1: "C2,2024-05-02,billing,perhaps,,"}), "incidents", {},
     "recovered", "not a yes/no value", [3]),
    ("incident-date-words", "i.csv", incidents({1: "C2,yesterday,billing,0,,"}), "incidents", {}, "date",
     "not a date", [3]),
    ("map-to-unknown-canonical", "c.csv", csv_text("customer_id,tenure", ["C1,10"]), "customers",
     {"columns": {"tenure": "tenure_months"}}, "tenure", "cannot map onto 'tenure_months'", []),
    ("map-from-absent-column", "c.csv", csv_text("customer_id,tenure", ["C1,10"]), "customers",
     {"columns": {"Tenure Months": "tenure_days"}}, "Tenure Months", "column to map is not in the file", []),
    ("map-two-onto-one", "c.csv", csv_text("id,cid", ["C1,C1"]), "customers",
     {"columns": {"id": "customer_id", "cid": "customer_id"}}, "customer_id", "mapped from two columns", []),
    ("duplicated-header", "s.csv", csv_text("customer_id,nps,date,nps", ["C1,9,2024-01-01,8"]), "survey", {},
     "nps", "duplicated column name (columns B and D)", []),
    ("duplicated-header-after-strip", "s.csv", csv_text("customer_id,nps , nps", ["C1,9,8"]), "survey", {},
     "nps", "duplicated column name", []),
    ("ragged-row", "s.csv", csv_text("customer_id,nps,date", ["C1,9,2024-01-01", "C2,8,2024-01-02,extra"]),
     "survey", {}, None, "more fields than the header has names (3); check the delimiter (comma ',')", [3]),
    ("header-only", "s.csv", SURVEY_HEADER + "\n", "survey", {}, None, "no data rows", []),
    ("empty-file", "s.csv", b"", "survey", {}, None, "file is empty", []),
    ("blank-lines-only", "s.csv", "\n\n  \n", "survey", {}, None, "file is empty", []),
    ("unknown-extension", "s.json", '{"nps": 9}', "survey", {}, None, "unknown file type '.json'", []),
    ("old-excel", "s.xls", b"\xd0\xcf\x11\xe0", "survey", {}, None, "old Excel .xls files are not supported", []),
    ("not-an-xlsx", "s.xlsx", "customer_id,nps\nC1,9\n", "survey", {}, None, "cannot read as an Excel workbook", []),
    ("not-a-parquet", "s.parquet", "customer_id,nps\nC1,9\n", "survey", {}, None, "cannot read as a Parquet file",
     []),
    ("undecodable-bytes", "s.csv", b"customer_id,nps\nC1,\x80\x81\n", "survey", {}, None,
     "cannot detect the text encoding", []),
    ("bad-snapshot-date", "s.csv", survey({}), "survey", {"snapshot_date": "yesterday"}, None,
     "not a date: 'yesterday'", []),
]


@pytest.mark.parametrize(
    ("name", "content", "table", "kwargs", "column", "rule", "rows"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_malformed_input_gives_one_line_naming_file_column_rule_rows(
    tmp_path, name, content, table, kwargs, column, rule, rows
):
    path = write(tmp_path, name, content)
    with pytest.raises(DataError) as info:
        io.read_table(path, table, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg
    source = "snapshot_date" if kwargs.get("snapshot_date") == "yesterday" else display_path(path)
    assert msg.startswith(f"{source}: "), msg
    if column is not None:
        assert f"column '{column}'" in msg, msg
        assert info.value.column == column
    assert rule in msg, msg
    assert info.value.rows == rows, msg
    for r in rows:
        assert f"row {r} (" in msg, msg
    if rows:
        noun = "row" if len(rows) == 1 else "rows"
        assert f": {len(rows)} {noun}, e.g. " in msg, msg


def test_malformed_cases_are_many_and_distinct():
    ids = [case[0] for case in MALFORMED]
    assert len(ids) == len(set(ids)) >= 25


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere" / "survey.csv"
    with pytest.raises(DataError, match=r"survey\.csv: file not found$"):
        io.read_raw(path)


def test_missing_column_lists_available_columns(tmp_path):
    path = write(tmp_path, "c.csv", csv_text("customerID,Churn", ["A,Yes"]))
    with pytest.raises(DataError) as info:
        io.read_table(path, "customers")
    msg = str(info.value)
    assert "available columns: customerID, Churn" in msg
    assert "--map customerID=customer_id" in msg


def test_error_counts_all_bad_rows_but_shows_five(tmp_path):
    rows = [f"C{i},2024-01-01,{11 + i}" for i in range(12)]
    path = write(tmp_path, "s.csv", csv_text("customer_id,date,nps", rows))
    with pytest.raises(DataError) as info:
        io.read_table(path, "survey")
    msg = str(info.value)
    assert ": 12 rows, e.g. row 2 (11), row 3 (12), row 4 (13), row 5 (14), row 6 (15)" in msg
    assert "row 7" not in msg


def test_first_failing_column_in_file_order_is_reported(tmp_path):
    path = write(tmp_path, "s.csv", csv_text("customer_id,satisfaction,nps", ["C1,9,11"]))
    with pytest.raises(DataError, match="column 'satisfaction'"):
        io.read_table(path, "survey")


# ---------------------------------------------------------------------------------------------------------------------
# Column helpers
# ---------------------------------------------------------------------------------------------------------------------
def test_coerce_numeric_rules():
    df = pd.DataFrame({"x": ["1", " 2 ", "1,234", "1,234.5", "", "NA", None, "-"]})
    out = io.coerce_numeric(df, "x", source="f.csv")
    assert out.dtype == "float64"
    assert out.tolist()[:4] == [1.0, 2.0, 1234.0, 1234.5]
    assert out.iloc[4:].isna().all()
    with pytest.raises(DataError, match=r"f\.csv: column 'x': not a number: 1 row, e.g. row 2 \('1,5'\)"):
        io.coerce_numeric(pd.DataFrame({"x": ["1,5"]}), "x", source="f.csv")  # decimal comma: refused
    with pytest.raises(DataError, match="missing value.*row 6"):
        io.coerce_numeric(df, "x", source="f.csv", allow_missing=False)
    with pytest.raises(DataError, match=r"must be between 0 and 10: 2 rows, e.g. row 4 \('1,234'\), row 5"):
        io.coerce_numeric(df, "x", source="f.csv", min_value=0, max_value=10)
    with pytest.raises(DataError, match=r"must be at most 100"):
        io.coerce_numeric(df, "x", source="f.csv", max_value=100)
    with pytest.raises(DataError, match=r"must be a whole number.*row 5 \('1,234.5'\)"):
        io.coerce_numeric(df, "x", source="f.csv", integer=True)
    with pytest.raises(DataError, match="not a number"):
        io.coerce_numeric(pd.DataFrame({"x": [1.0, np.inf]}), "x", source="f.csv")
    with pytest.raises(DataError, match=r"column 'y': required column is missing; available columns: x$"):
        io.coerce_numeric(df, "y", source="f.csv")


def test_coerce_flag_words_and_true_value():
    df = pd.DataFrame({"f": ["Yes", "no", "Y", "n", "是", "否", "TRUE", "false", "1", "0", " yes ", "", None]})
    assert io.coerce_flag(df, "f").tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, pd.NA, pd.NA]
    assert str(io.coerce_flag(df, "f").dtype) == "Int8"
    assert io.coerce_flag(pd.DataFrame({"f": [True, False]}), "f").tolist() == [1, 0]
    assert io.coerce_flag(pd.DataFrame({"f": [1.0, 0.0, np.nan]}), "f").tolist() == [1, 0, pd.NA]
    with pytest.raises(DataError, match=r"column 'f': not a yes/no value.*: 1 row, e.g. row 4 \(2\)"):
        io.coerce_flag(pd.DataFrame({"f": [1, 0, 2]}), "f", source="x.csv")
    status = pd.DataFrame({"s": ["Churned", "active", "churned", None, "paused"]})
    assert io.coerce_flag(status, "s", true_value="churned").tolist() == [1, 0, 1, pd.NA, 0]
    assert io.coerce_flag(pd.DataFrame({"n": [2, 1, 2]}), "n", true_value=2).tolist() == [1, 0, 1]


def test_coerce_date_formats():
    expected = pd.Timestamp("2024-03-05")
    df = pd.DataFrame({"d": ["2024-03-05", "2024/03/05", "2024-3-5", "2024.03.05", "2024年3月5日", "20240305",
                             45356, dt.datetime(2024, 3, 5), " 2024-03-05 ", "", None]})
    out = io.coerce_date(df, "d", source="f.csv")
    assert str(out.dtype) == "datetime64[ns]"
    assert (out.iloc[:9] == expected).all()
    assert out.iloc[9:].isna().all()
    serial = pd.DataFrame({"d": [45356.0, np.nan]})  # an Excel serial-number column
    assert io.coerce_date(serial, "d").iloc[0] == expected
    timed = io.coerce_date(pd.DataFrame({"d": ["2024-03-05 10:30:00"]}), "d")
    assert timed.iloc[0] == pd.Timestamp("2024-03-05 10:30")
    stamps = pd.DataFrame({"d": ["2024-03-05 10:30:00.5", "2024年 3月 5日 10:30", "2024-03-05T10:30:00+08:00",
                                 "2024-03-05T10:30Z", "2024-03-05T10:30:00-0500"]})
    got = io.coerce_date(stamps, "d")  # offsets are dropped: the local wall-clock time is kept
    assert got.tolist() == [pd.Timestamp("2024-03-05 10:30:00.5")] + [pd.Timestamp("2024-03-05 10:30")] * 4
    with pytest.raises(DataError, match=r"column 'd': date after the snapshot \(2024-03-04\): 9 rows"):
        io.coerce_date(df, "d", source="f.csv", not_after="2024-03-04")
    assert io.coerce_date(timed.to_frame(), "d", not_after="2024-03-05").notna().all()  # same day is not after
    with pytest.raises(DataError, match=r"not a date.*row 2 \(7\)"):
        io.coerce_date(pd.DataFrame({"d": [7]}), "d")


def test_parse_snapshot():
    assert io.parse_snapshot("2026-06-30") == pd.Timestamp("2026-06-30")
    assert io.parse_snapshot(dt.date(2026, 6, 30)) == pd.Timestamp("2026-06-30")
    assert io.parse_snapshot(pd.Timestamp("2026-06-30 15:00")) == pd.Timestamp("2026-06-30")
    assert io.parse_snapshot(None) is None and io.parse_snapshot("") is None
    with pytest.raises(DataError, match="^snapshot_date: not a date: '30.6.2026'"):
        io.parse_snapshot("30.6.2026")


def test_require_columns():
    df = pd.DataFrame({"Customer ID": [1]})
    io.require_columns(df, ["Customer ID"], source="f.csv")
    with pytest.raises(DataError, match=r"f\.csv: column 'customer_id': required column is missing; "
                                        r"did you mean 'Customer ID'\?"):
        io.require_columns(df, ["customer_id"], source="f.csv")


def test_apply_filters():
    df = pd.DataFrame({"region": ["North", "East", "North", "West"], "wave": [1, 2, 2, 1]})
    out = io.apply_filters(df, {"region": "North"}, source="f.csv")
    assert out.index.tolist() == [0, 2]  # original rows kept, so later errors still point at the file
    assert io.apply_filters(df, {"region": ["North", "West"], "wave": 1}).index.tolist() == [0, 3]
    assert io.apply_filters(df, {"wave": "2"}).index.tolist() == [1, 2]  # parameters often arrive as text
    assert io.apply_filters(df, None) is df
    with pytest.raises(DataError, match=r"f\.csv: column 'regio': filter on a column that does not exist; "
                                        r"did you mean 'region'\?"):
        io.apply_filters(df, {"regio": "North"}, source="f.csv")
    with pytest.raises(DataError) as info:
        io.apply_filters(df, {"region": "North", "wave": 3}, source="f.csv")
    msg = str(info.value)
    assert msg.startswith("f.csv: column 'wave': no rows match filter region == 'North' and wave == 3")
    assert "values in the column: 1, 2" in msg


def test_summarize():
    df = pd.DataFrame({"d": pd.to_datetime(["2024-01-02", None, "2024-05-06"]), "x": [1.0, np.nan, np.nan],
                       "y": ["a", "b", "c"]})
    assert io.summarize(df) == {"rows": 3, "columns": 3, "missing": {"d": 1, "x": 2},
                                "dates": {"d": {"min": "2024-01-02", "max": "2024-05-06"}}}


# ---------------------------------------------------------------------------------------------------------------------
# Good inputs: every format and encoding reads to the same frame
# ---------------------------------------------------------------------------------------------------------------------
REFERENCE = pd.DataFrame({
    "response_id": ["R1", "R2", "R3", "R4"],
    "customer_id": ["C1", "C2", "C2", "C4"],
    "date": ["2024-01-05", "2024-02-10", "2024-03-15", "2024-04-20"],
    "nps": [9, 7, 3, 10],
    "satisfaction": [6, 5, 2, None],
    "importance_reliability": [40.0, None, 30.0, None],
    "importance_empathy": [60.0, None, 70.0, None],
    "comment": ["服务很好, 响应快", None, "Slow; the app crashed", "价格偏高"],
    "language": ["zh", "en", "en", "zh"],
    "wave": [1, 1, 2, 2],
})


def expected_survey() -> pd.DataFrame:
    out = REFERENCE.copy()
    out["date"] = pd.to_datetime(out["date"])
    for c in ("nps", "satisfaction"):
        out[c] = out[c].astype("float64")
    out["comment"] = out["comment"].where(out["comment"].notna(), np.nan)
    return out


def write_variant(tmp_path, kind):
    df = REFERENCE
    if kind == "utf8":
        return tmp_path / "s.csv", df.to_csv(tmp_path / "s.csv", index=False), {}
    if kind == "utf8-bom":
        return tmp_path / "s.csv", df.to_csv(tmp_path / "s.csv", index=False, encoding="utf-8-sig"), {}
    if kind == "gbk-chinese-header":
        renamed = df.rename(columns={"comment": "评论", "nps": "推荐意愿"})
        renamed.to_csv(tmp_path / "s.csv", index=False, encoding="gbk")
        return tmp_path / "s.csv", None, {"columns": {"评论": "comment", "推荐意愿": "nps"}}
    if kind == "gb18030":
        return tmp_path / "s.csv", df.to_csv(tmp_path / "s.csv", index=False, encoding="gb18030"), {}
    if kind == "semicolon":
        return tmp_path / "s.csv", df.to_csv(tmp_path / "s.csv", index=False, sep=";"), {}
    if kind == "tab-tsv":
        return tmp_path / "s.tsv", df.to_csv(tmp_path / "s.tsv", index=False, sep="\t"), {}
    if kind == "tab-txt-gbk":
        return tmp_path / "s.txt", df.to_csv(tmp_path / "s.txt", index=False, sep="\t", encoding="gbk"), {}
    if kind == "excel":
        return tmp_path / "s.xlsx", df.to_excel(tmp_path / "s.xlsx", index=False), {}
    if kind == "excel-real-dates":
        real = df.assign(date=pd.to_datetime(df["date"]))
        return tmp_path / "s.xlsx", real.to_excel(tmp_path / "s.xlsx", index=False, sheet_name="Responses"), {}
    if kind == "parquet":
        return tmp_path / "s.parquet", df.to_parquet(tmp_path / "s.parquet", index=False), {}
    raise AssertionError(kind)


VARIANTS = ["utf8", "utf8-bom", "gbk-chinese-header", "gb18030", "semicolon", "tab-tsv", "tab-txt-gbk", "excel",
            "excel-real-dates", "parquet"]


@pytest.mark.parametrize("kind", VARIANTS)
def test_every_format_reads_to_the_same_frame(tmp_path, kind):
    path, _, kwargs = write_variant(tmp_path, kind)
    df = io.read_table(path, "survey", **kwargs)
    got = df.copy()
    got.attrs = {}
    expected = expected_survey()
    if kwargs.get("columns"):
        expected = expected[[{"comment": "comment", "nps": "nps"}.get(c, c) for c in expected.columns]]
    pd.testing.assert_frame_equal(got[expected.columns], expected, check_dtype=True)
    assert list(df.columns) == list(expected.columns)
    assert isinstance(df.index, pd.RangeIndex) and df.index[0] == 0
    info = df.attrs["loyaltylab"]
    if kind in ("utf8", "semicolon", "tab-tsv"):
        assert info["encoding"] == "utf-8"
    if kind == "utf8-bom":
        assert info["encoding"] == "utf-8-sig"
        assert df.columns[0] == "response_id"
    if kind in ("gbk-chinese-header", "tab-txt-gbk"):
        assert info["encoding"] == "gbk"
    if kind == "semicolon":
        assert info["sep"] == ";"
    if kind.startswith("tab"):
        assert info["sep"] == "\t"


def test_explicit_encoding_and_sep(tmp_path):
    path = write(tmp_path, "s.csv", "\ufeffcustomer_id | nps\nC1|9\nC2|8\n")
    df = io.read_raw(path, encoding="utf-8", sep="|")
    assert list(df.columns) == ["customer_id", "nps"]  # BOM and spaces stripped from the header
    assert df["nps"].tolist() == [9, 8]
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        io.read_raw(path, encoding="klingon")
    with pytest.raises(DataError, match="the delimiter must be one character"):
        io.read_raw(path, sep="||")


def test_gbk_detected_even_when_chinese_starts_late(tmp_path):
    rows = [f"C{i},{i % 11},ok" for i in range(9000)] + ["C9999,3,服务太慢"]
    path = write(tmp_path, "s.csv", csv_text("customer_id,nps,comment", rows), encoding="gbk")
    assert path.stat().st_size > io.SAMPLE_BYTES
    df = io.read_table(path, "survey")
    assert df.attrs["loyaltylab"]["encoding"] == "gbk"
    assert df["comment"].iloc[-1] == "服务太慢"


def test_blank_tokens_become_missing_and_whitespace_is_tolerated(tmp_path):
    path = write(tmp_path, "s.csv", "customer_id ,nps, comment\nC1 ,9,  \nC2,NA,-\nC3,N/A,null\nC4, ,NULL \n"
                                    "C5,-,n/a\nC6,7,fine \n")
    df = io.read_table(path, "survey")
    assert list(df.columns) == ["customer_id", "nps", "comment"]
    assert df["customer_id"].tolist() == [f"C{i}" for i in range(1, 7)]
    assert df["nps"].isna().tolist() == [False, True, True, True, True, False]
    assert df["comment"].isna().tolist() == [True, True, True, True, True, False]
    assert df["comment"].iloc[-1] == "fine"


def test_numeric_ids_become_text_and_extra_columns_pass_through(tmp_path):
    path = write(tmp_path, "c.csv", "customer_id,tenure_days,Score,Note\n1001,10,1.5,a\n1002,,2.5,b\n")
    df = io.read_table(path, "customers")
    assert df["customer_id"].tolist() == ["1001", "1002"]
    assert df["Score"].dtype == "float64" and df["Note"].tolist() == ["a", "b"]
    parquet = tmp_path / "c.parquet"
    pd.DataFrame({"customer_id": [1001.0, 7.0]}).to_parquet(parquet)
    assert io.read_table(parquet, "customers", required=()).customer_id.tolist()[0] == "1001"


def test_trailing_delimiter_column_is_dropped(tmp_path):
    path = write(tmp_path, "s.csv", "customer_id,nps,\nC1,9,\nC2,8,\n")
    assert list(io.read_raw(path).columns) == ["customer_id", "nps"]


def test_required_can_be_relaxed_and_response_id_is_optional(tmp_path):
    path = write(tmp_path, "s.csv", "nps\n9\n10\n")
    with pytest.raises(DataError, match="column 'customer_id'"):
        io.read_table(path, "survey")
    assert len(io.read_table(path, "survey", required=())) == 2


def test_refunds_are_negative_amounts(tmp_path):
    path = write(tmp_path, "t.csv", "customer_id,date,amount\nC1,2024-01-01,29.9\nC1,2024-01-15,-29.9\n")
    assert io.read_table(path, "transactions")["amount"].tolist() == [29.9, -29.9]


def test_churned_without_churn_date_is_allowed(tmp_path):
    path = write(tmp_path, "c.csv", "customer_id,churned,churn_date\nC1,1,\nC2,0,\nC3,Yes,2024-01-01\n")
    df = io.read_table(path, "customers", snapshot_date="2026-06-30")
    assert df["churned"].tolist() == [1, 0, 1]
    assert str(df["churned"].dtype) == "Int8"


def test_excel_sheet_choice(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        REFERENCE.to_excel(writer, sheet_name="survey", index=False)
    assert len(io.read_table(path, "survey", sheet="survey")) == 4
    assert len(io.read_table(path, "survey", sheet=1)) == 4
    with pytest.raises(DataError, match=r"book\.xlsx: no sheet named 'nope' \(sheets: notes, survey\)"):
        io.read_raw(path, sheet="nope")


def test_excel_duplicated_header(tmp_path):
    path = tmp_path / "d.xlsx"
    pd.DataFrame([["C1", 9, 8]], columns=["customer_id", "nps", "nps "]).to_excel(path, index=False)
    with pytest.raises(DataError, match=r"d\.xlsx: column 'nps': duplicated column name \(columns B and C\)"):
        io.read_raw(path)


def test_validate_frame_in_memory_keeps_index_for_row_numbers():
    df = pd.DataFrame({"customer_id": ["a", "b"], "nps": [5, 12]}, index=[10, 20])
    with pytest.raises(DataError, match=r"^<data>: column 'nps': must be between 0 and 10: 1 row, e.g. row 22 \(12\)"):
        io.validate_frame(df, "survey")
    ok = io.validate_frame(df.iloc[:1], "survey", source="mem")
    assert ok.index.tolist() == [10] and df["nps"].dtype == "int64"  # the input is not modified


def test_rules_cover_every_canonical_column():
    for table, columns in TABLE_COLUMNS.items():
        assert list(io.RULES[table]) == list(columns)
        assert set(io.REQUIRED[table]) <= set(columns)


# ---------------------------------------------------------------------------------------------------------------------
# Real data
# ---------------------------------------------------------------------------------------------------------------------
TELCO = project_root() / ".." / "shared" / "data" / "telco_customer_churn.csv"


@pytest.mark.skipif(not TELCO.exists(), reason="the real Telco churn file is not available")
def test_real_telco_file():
    df = io.read_table(TELCO, "customers",
                       columns={"customerID": "customer_id", "tenure": "tenure_days", "Churn": "churned"})
    assert len(df) == 7043
    assert df["customer_id"].is_unique
    assert str(df["churned"].dtype) == "Int8" and int(df["churned"].sum()) == 1869
    assert df["churned"].notna().all()
    total = io.coerce_numeric(df, "TotalCharges", source="telco", min_value=0)
    assert int(total.isna().sum()) == 11
    assert df["gender"].tolist()[:2] == ["Female", "Male"]  # extra columns pass through
    summary = io.summarize(df)
    assert summary["rows"] == 7043 and summary["missing"] == {"TotalCharges": 11}


# ---------------------------------------------------------------------------------------------------------------------
# Blank rows: dropped, but every other row keeps the number the user sees in a spreadsheet or editor
# ---------------------------------------------------------------------------------------------------------------------
BLANKY_CSV = "\n\ncustomer_id,nps\nC1,9\n\n,\nC2,11\n  \nC3,7\n\n\n"  # header on line 3; data on lines 4, 7, 9


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_blank_lines_keep_file_row_numbers_in_csv(tmp_path, newline):
    path = write(tmp_path, "s.csv", BLANKY_CSV.replace("\n", newline))
    df = io.read_raw(path)
    assert df["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert [i + 2 for i in df.index] == [4, 7, 9]
    with pytest.raises(DataError) as info:
        io.read_table(path, "survey")
    assert info.value.rows == [7]
    assert str(info.value) == f"{display_path(path)}: column 'nps': must be between 0 and 10: 1 row, e.g. row 7 (11)"


def test_blank_rows_keep_sheet_row_numbers_in_excel(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    rows = {3: ["customer_id", "nps"], 4: ["C1", 9], 5: ["C2", 8], 7: ["C3", 11], 9: ["C4", 7]}  # 1, 2, 6, 8 blank
    for r, values in rows.items():
        for c, value in enumerate(values, start=1):
            sheet.cell(row=r, column=c, value=value)
    path = tmp_path / "s.xlsx"
    book.save(path)
    df = io.read_raw(path)
    assert list(df.columns) == ["customer_id", "nps"]
    assert df["customer_id"].tolist() == ["C1", "C2", "C3", "C4"]
    assert [i + 2 for i in df.index] == [4, 5, 7, 9]
    with pytest.raises(DataError) as info:
        io.read_table(path, "survey")
    assert info.value.rows == [7]
    assert "column 'nps': must be between 0 and 10: 1 row, e.g. row 7 (11)" in str(info.value)


def test_files_without_blank_rows_keep_a_plain_range_index(tmp_path):
    path = write(tmp_path, "s.csv", survey({}))
    index = io.read_raw(path).index
    assert isinstance(index, pd.RangeIndex) and list(index) == [0, 1, 2]


# ---------------------------------------------------------------------------------------------------------------------
# Nested Parquet values and damaged files: always one DataError line, never another exception type
# ---------------------------------------------------------------------------------------------------------------------
def test_nested_parquet_values_in_canonical_columns_are_one_line_errors(tmp_path):
    path = tmp_path / "s.parquet"
    pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "nps": [[9, 8], None, [3]],
                  "meta": [{"a": 1}, {"a": 2}, None]}).to_parquet(path)
    with pytest.raises(DataError) as info:
        io.read_table(path, "survey")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg == (f"{display_path(path)}: column 'nps': nested values (lists/structs) are not supported; flatten the "
                   "column to one value per cell: 2 rows, e.g. row 2 ([9, 8]), row 4 ([3])")
    structs = tmp_path / "t.parquet"
    pd.DataFrame({"customer_id": ["C1", "C2"], "comment": [{"text": "ok"}, {"text": "slow"}]}).to_parquet(structs)
    with pytest.raises(DataError, match=r"column 'comment': nested values \(lists/structs\) are not supported"):
        io.read_table(structs, "survey")
    # in a column that is not canonical they pass through untouched
    extra = tmp_path / "u.parquet"
    pd.DataFrame({"customer_id": ["C1", "C2"], "nps": [9, 3], "tags": [["a", "b"], []]}).to_parquet(extra)
    df = io.read_table(extra, "survey")
    assert [list(v) for v in df["tags"]] == [["a", "b"], []]
    assert df["nps"].tolist() == [9.0, 3.0]


def _xlsx_bytes() -> bytes:
    import io as stdlib_io

    buffer = stdlib_io.BytesIO()
    pd.DataFrame({"customer_id": ["C1", "C2"], "nps": [9, 3]}).to_excel(buffer, index=False)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    import io as stdlib_io

    buffer = stdlib_io.BytesIO()
    pd.DataFrame({"customer_id": [f"C{i}" for i in range(200)], "nps": [i % 11 for i in range(200)]}).to_parquet(buffer)
    return buffer.getvalue()


def _damaged_sheet_xlsx() -> bytes:
    """A real workbook whose sheet XML is cut in half: the zip opens, the sheet does not parse."""
    import io as stdlib_io
    import zipfile

    source, out = zipfile.ZipFile(stdlib_io.BytesIO(_xlsx_bytes())), stdlib_io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if "worksheets/sheet" in item.filename else data)
    return out.getvalue()


def _zip_without_workbook() -> bytes:
    import io as stdlib_io
    import zipfile

    out = stdlib_io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("readme.txt", "not a workbook")
    return out.getvalue()


def _scrambled_parquet() -> bytes:
    data = bytearray(_parquet_bytes())
    for i in range(8, len(data) - 8, 5):  # magic bytes at both ends intact, everything between scrambled
        data[i] ^= 0xA5
    return bytes(data)


DAMAGED = [
    ("truncated-xlsx", "s.xlsx", lambda: _xlsx_bytes()[:400], {}, "cannot read as an Excel workbook"),
    ("xlsx-damaged-sheet", "s.xlsx", _damaged_sheet_xlsx, {}, "cannot read sheet 'Sheet1'"),
    ("zip-without-workbook", "s.xlsx", _zip_without_workbook, {}, "cannot read as an Excel workbook"),
    ("truncated-parquet", "s.parquet", lambda: _parquet_bytes()[:300], {}, "cannot read as a Parquet file"),
    ("scrambled-parquet", "s.parquet", _scrambled_parquet, {}, "cannot read as a Parquet file"),
    ("unclosed-quote", "s.csv", lambda: b'customer_id,nps,comment\nC1,9,fine\nC2,3,"slow\nC3,7,ok\n', {},
     "unclosed quote: the quoted value starting in row 3 never ends"),
    ("unclosed-quote-after-blank-lines", "s.csv", lambda: b'\ncustomer_id,comment\n\nC1,"slow\nC3,ok\n', {},
     "unclosed quote: the quoted value starting in row 4 never ends"),
    ("utf16-without-bom", "s.csv", lambda: "customer_id,nps\nC1,9\n".encode("utf-16-le"), {"encoding": "utf-16"},
     "cannot decode the file as utf-16"),
]


@pytest.mark.parametrize(("name", "content", "kwargs", "rule"), [pytest.param(*c[1:], id=c[0]) for c in DAMAGED])
def test_damaged_files_give_one_data_error_line(tmp_path, name, content, kwargs, rule):
    path = write(tmp_path, name, content())
    for read in (lambda: io.read_raw(path, **kwargs), lambda: io.read_table(path, "survey", **kwargs)):
        with pytest.raises(DataError) as info:
            read()
        msg = str(info.value)
        assert "\n" not in msg
        assert msg.startswith(f"{display_path(path)}: "), msg
        assert rule in msg, msg


def test_any_other_reading_failure_becomes_a_data_error(tmp_path, monkeypatch):
    path = write(tmp_path, "s.csv", survey({}))

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(io, "_finish", broken)
    with pytest.raises(DataError, match=r"s\.csv: cannot read the file \(KeyError: 'boom'\)$"):
        io.read_raw(path)


# ---------------------------------------------------------------------------------------------------------------------
# Issue 8: helpers behind the bad-input suite (tests/test_bad_inputs.py holds the file cases)
# ---------------------------------------------------------------------------------------------------------------------
def test_coerce_date_refuses_the_future_after_the_snapshot_rule():
    tomorrow = pd.Timestamp.today().normalize() + pd.Timedelta(days=1)
    ok = pd.DataFrame({"d": [f"{tomorrow:%Y-%m-%d}", "2024-01-01"]})
    assert io.coerce_date(ok, "d").notna().all()
    late = pd.DataFrame({"d": ["2024-01-01", f"{tomorrow + pd.Timedelta(days=1):%Y-%m-%d}", "2099-12-31"]})
    with pytest.raises(DataError, match=rf"^f\.csv: column 'd': date in the future \(after {tomorrow:%Y-%m-%d}\); "
                                        r"check the year and the date format: 2 rows, e.g. row 3 \('.*'\), row 4"):
        io.coerce_date(late, "d", source="f.csv")
    with pytest.raises(DataError, match=r"date after the snapshot \(2024-06-30\): 2 rows"):  # the stricter rule first
        io.coerce_date(late, "d", source="f.csv", not_after="2024-06-30")


def test_apply_filters_never_lists_ids_or_comments():
    df = pd.DataFrame({"customer_id": ["ALICE-1", "BOB-2"], "comment": ["call me at home", "ok"],
                       "region": ["North", "South"]})
    for column in ("customer_id", "comment"):
        with pytest.raises(DataError) as info:
            io.apply_filters(df, {column: "nobody"}, source="f.csv")
        assert str(info.value) == f"f.csv: column '{column}': no rows match filter {column} == 'nobody'"
    with pytest.raises(DataError, match="values in the column: 'North', 'South'"):  # other columns still help
        io.apply_filters(df, {"region": "East"}, source="f.csv")


def test_match_canonical_renames_case_and_width_variants_and_keeps_the_file_name():
    df = pd.DataFrame({"Customer_ID": ["C1"], "ＮＰＳ": [9], "Wave": [1]})
    df.columns = [io._clean_name(c) for c in df.columns]
    out = io.match_canonical(df, "survey", source="f.csv")
    assert list(out.columns) == ["customer_id", "nps", "Wave"]
    assert out.attrs["loyaltylab"]["mapped"] == {"customer_id": "Customer_ID", "nps": "NPS"}
    assert io.match_canonical(out, "survey") is out  # nothing left to rename
    with pytest.raises(DataError, match=r"column 'date': matched by more than one column \('Date', 'DATE'\)"):
        io.match_canonical(pd.DataFrame({"Date": [1], "DATE": [2]}), "survey", source="f.csv")


def test_clean_name():
    assert io._clean_name("\ufeff Customer\u200b  ID\u00a0") == "Customer ID"
    assert io._clean_name("ｎｐｓ") == "nps" and io._clean_name("Ｅ１") == "E1"
    assert io._clean_name("评论\u3000") == "评论" and io._clean_name(7) == "7"


def test_read_raw_id_columns_parameter(tmp_path):
    path = write(tmp_path, "s.csv", "ref,nps,customer_id\n00039,9,007\n1E1,3,7\n")
    default = io.read_raw(path)
    assert default["customer_id"].tolist() == ["007", "7"] and default["ref"].tolist() == [39, 10]  # pandas' guess
    chosen = io.read_raw(path, id_columns=["REF"])  # matched ignoring case
    assert chosen["ref"].tolist() == ["00039", "1E1"]
    assert chosen.attrs["loyaltylab"]["id_columns"] == ["ref"]


@pytest.mark.parametrize(
    ("text", "encoding", "detected"),
    [
        ("id,comment\nC1,Très bien, café crème\nC2,Grüße aus München\n", "cp1252", "cp1252"),
        ("id,comment\nC1,服务很好\nC2,价格偏高\n", "gbk", "gbk"),
        ("id,comment\nC1,服务很好\nC2,😀\n", "gb18030", "gb18030"),
        ("id,comment\nC1,ok\n", "utf-16-le", "utf-16-le"),
        ("id,comment\nC1,好\n", "utf-16-be", "utf-16-be"),
        ("id,comment\nC1,好\n", "utf-16", "utf-16"),
        ("id,comment\nC1,好\n", "utf-8-sig", "utf-8-sig"),
        ("id,comment\nC1,café\n", "utf-8", "utf-8"),
    ],
)
def test_detect_encoding(text, encoding, detected):
    assert io._detect_encoding(text.encode(encoding), True) == detected


@pytest.mark.parametrize(
    ("sample", "encoding", "chinese"),
    [
        ("C1,9,Très bien\nC2,3,Déçu\n", "cp1252", False),  # short, with a pair of accented letters
        ("Schöne Grüße aus München; Lieferung verspätet; Zu teuer für Müller & Söhne", "cp1252", False),
        ("Grüße, Größe, süß", "cp1252", False),  # only pairs, but lower-case letters
        ("Informação, atenção, não, ações, opções de pagamento", "cp1252", False),
        ("Atención rápida, el técnico llegó tarde, mañana", "cp1252", False),
        ("服务很好，响应快\n价格偏高，客服态度差\n网络稳定，非常满意", "gbk", True),
        ("C1,是\nC2,否\nC3,是\n", "gbk", True),
        ("C1,张伟\nC2,王芳\nC3,李娜\n", "gbk", True),
        ("服务很好😀\n价格偏高😞\n网络稳定👍\n", "gb18030", True),  # four-byte characters
    ],
)
def test_looks_chinese(sample, encoding, chinese):
    assert io._looks_chinese(sample.encode(encoding)) is chinese


# ---------------------------------------------------------------------------------------------------------------------
# Issue 15: the pyarrow fast path (io_arrow) gives the reference path's frames and errors, and is taken on plain files
# ---------------------------------------------------------------------------------------------------------------------
def _read_both(monkeypatch, read):
    """``read()`` with the fast path (its unexpected exceptions raised) and with the pandas path only."""
    from loyaltylab import io_arrow

    monkeypatch.setattr(io_arrow, "STRICT", True)
    out = []
    for enabled in (True, False):
        monkeypatch.setattr(io_arrow, "ENABLED", enabled)
        try:
            out.append(("frame", read()))
        except DataError as exc:
            out.append(("error", str(exc)))
    return out


def _assert_same(fast, reference):
    assert fast[0] == reference[0], (fast, reference)
    if fast[0] == "error":
        assert fast[1] == reference[1]
        return
    a, b = fast[1], reference[1]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert type(a.index) is type(b.index) and a.index.equals(b.index)
    assert a.attrs == b.attrs
    for col in a.columns:  # missing cells: NaN and None are told apart too
        if a[col].dtype == object:
            missing = b[col].isna().to_numpy()
            assert [type(v) for v in a[col][missing]] == [type(v) for v in b[col][missing]], col


FAST_CSV = [  # (id, bytes): each read by read_raw and by read_table as survey and customers, both paths compared
    ("plain", csv_text(SURVEY_HEADER, SURVEY_ROWS).encode()),
    ("customers", csv_text(CUSTOMERS_HEADER, CUSTOMERS_ROWS).encode()),
    ("missing-tokens", b"customer_id,nps,segment,x\nC1,NA,N/A,-\nC2,,null,#N/A\nC3,7,\"\",NaN\n"),
    ("blank-token-with-spaces", "customer_id,nps,segment\nC1,9,NA \nC2,7,Basic\u3000\nC3,6,\xa0x\n".encode()),
    ("id-with-spaces-and-missing", b"customer_id,nps\nC1 ,9\n,7\nC3\t,6\n"),
    ("ints-with-missing", b"customer_id,nps,tenure_days\nC1,9,10\nC2,,\nC3,6,30\n"),
    ("floats", b"customer_id,monthly_revenue,acquisition_cost\nC1,29.5,120\nC2,-0.25,3.\nC3,.5,7\n"),
    ("long-floats", b"customer_id,monthly_revenue\nC1,0.30000000000000004\nC2,30.333333333333332\nC3,1\n"),
    ("numbers-pandas-reads-its-way", b"customer_id,x,y,z\nC1,+5,1e5,0x1F\nC2,6,2E3,0x20\nC3,inf,3,7\n"),
    ("ids-as-text", b"customer_id,response_id,nps\n00039,1E1,9\n123456789012345678,0.50,7\nC3,R3,6\n"),
    ("quotes", b'customer_id,comment,nps\nC1,"slow, then fine",9\nC2,"two\nlines",7\nC3,"say ""hi""",6\n'),
    ("crlf-and-cr", b"customer_id,nps\r\nC1,9\r\nC2,7\r\nC3,6\r\n"),
    ("cr-only", b"customer_id,nps\rC1,9\rC2,7\rC3,6\r"),
    ("blank-lines", b"\n\ncustomer_id,nps\n\nC1,9\n\nC2,7\nC3,6\n\n\n"),
    ("trailing-delimiter", b"customer_id,nps,\nC1,9,\nC2,7,\nC3,6,\n"),
    ("bom-semicolon", "\ufeffcustomer_id;nps;segment\nC1;9;Basic\nC2;7;Premium\nC3;6;Basic\n".encode()),
    ("tab", b"customer_id\tnps\tsegment\nC1\t9\tBasic\nC2\t7\tPremium\nC3\t6\tBasic\n"),
    ("header-names", "Customer_ID,ＮＰＳ,seg\u200bment\nC1,9,Basic\nC2,7,Basic\nC3,6,Premium\n".encode()),
    ("chinese", "customer_id,nps,comment,segment\nC1,9,服务很好，响应快,基础\nC2,7,价格偏高,高级\nC3,6,,基础\n".encode()),
    ("true-false", b"customer_id,nps,x\nC1,9,True\nC2,7,False\nC3,6,TRUE\n"),
    ("flags-and-dates", b"customer_id,churned,signup_date,churn_date\nC1,yes,2024/03/05,\nC2,no,20240305,\n"
     b"C3,1,2024-03-05 10:00,2024-06-01\n"),
    ("empty-columns", b"customer_id,,nps,x\nC1,,9,\nC2,,7,\nC3,,6,\n"),
    ("leading-spaces", b"customer_id, nps, segment\nC1, 9, Basic\nC2, 7, Premium\nC3, 6, Basic\n"),
    ("unclosed-quote-last-line", b'customer_id,nps,comment\nC1,9,ok\nC2,7,"fine, thanks'),
    ("totals-row", b"customer_id,nps\nC1,9\nC2,7\nTotal,16\n"),
    ("duplicate-keys-and-range", b"response_id,customer_id,nps\nR1,C1,9\nR1,C2,12\nR3,C3,6\n"),
    ("one-column", b"customer_id\nC1\n\nC2\n"),
    ("iso-dates", b"customer_id,signup_date,churn_date,date,x\nC1,2024-03-05,,2024-02-29,2024-01-01\n"
     b"C2,1677-09-22,2024-06-01,1999-12-31,NA\nC3,2000-02-29,NA,2262-04-10,2024-01-02\n"),
    ("iso-shaped-not-dates", b"customer_id,signup_date,date\nC1,2023-02-29,2024-13-01\nC2,2024-01-01,2024-00-10\n"),
    ("iso-out-of-range", b"customer_id,signup_date,date\nC1,1677-09-21,0001-01-01\nC2,2262-04-12,9999-12-31\n"),
    ("iso-then-other-dates", b"customer_id,signup_date,date\nC1,2024-03-05,2024-03-05\nC2,2024/03/06,2024-3-6\n"),
]


@pytest.mark.parametrize(("name", "content"), FAST_CSV, ids=[c[0] for c in FAST_CSV])
def test_fast_path_reads_csv_like_the_reference(tmp_path, monkeypatch, name, content):
    path = write(tmp_path, f"{name}.csv", content)
    for read in (lambda: io.read_raw(path), lambda: io.read_table(path, "survey", required=()),
                 lambda: io.read_table(path, "customers", required=())):
        _assert_same(*_read_both(monkeypatch, read))


def _parquet_frames():
    n = 6
    return [
        ("plain", pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "nps": [9, 7, 6, 10, 0, 3],
                                "date": pd.date_range("2024-01-01", periods=n)})),
        ("text-missing-blank-spaces", pd.DataFrame({
            "customer_id": ["C1", None, " C3", "C4", "C5", "C6"], "segment": ["a", "", "NA ", None, "b", "\u3000c"],
            "nps": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0]})),
        ("numeric-ids", pd.DataFrame({"customer_id": np.arange(n, dtype="int64"), "response_id": np.arange(n) + 0.0,
                                      "nps": pd.array([1, None, 3, 4, 5, 6], dtype="Int64")})),
        ("dates-flags-bools", pd.DataFrame({
            "customer_id": [f"C{i}" for i in range(n)], "churned": np.array([0, 1, 0, 1, 0, 0], dtype="int8"),
            "signup_date": pd.date_range("2023-01-01", periods=n, tz="Europe/Berlin"),
            "churn_date": pd.to_datetime([None, "2024-01-01", None, "2024-02-01", None, None]),
            "x": [True, False, True, True, False, False]})),
        ("saved-index", pd.DataFrame({"nps": [1, 2, 3, 4, 5, 6]}, index=pd.Index(list("abcdef"), name="customer_id"))),
        ("totals-row", pd.DataFrame({"customer_id": ["C1", "C2", "Total", "C4", "C5", "C6"], "nps": [1, 2, 3, 4, 5, 6]})),
        ("bool-as-number", pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "nps": [True] * n})),
        ("dates-as-date32", pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                                          "date": [dt.date(2024, 1, d) for d in range(1, n)] + [None],
                                          "comment": [dt.date(2024, 2, 1)] * n})),
    ]


@pytest.mark.parametrize("case", range(len(_parquet_frames())), ids=[c[0] for c in _parquet_frames()])
def test_fast_path_reads_parquet_like_the_reference(tmp_path, monkeypatch, case):
    import pyarrow as pa
    import pyarrow.parquet as pq

    name, frame = _parquet_frames()[case]
    path = tmp_path / f"{name}.parquet"
    if name == "dates-as-date32":  # as polars, R or Spark write dates
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    else:
        frame.to_parquet(path)
    for read in (lambda: io.read_raw(path), lambda: io.read_table(path, "survey", required=()),
                 lambda: io.read_table(path, "customers", required=())):
        _assert_same(*_read_both(monkeypatch, read))


def test_fast_path_in_many_blocks_and_threads_reads_like_the_reference(tmp_path, monkeypatch):
    """A file Arrow reads in many blocks, typed on two threads: a date column with gaps, signed numbers, a totals
    label deep inside the file (found through each block's row offset) and one a space away from it."""
    from loyaltylab import io_arrow

    monkeypatch.setattr(io_arrow, "BLOCK_BYTES", 1 << 10)
    monkeypatch.setattr(io_arrow, "THREADS_FROM", 0)
    rows = [f"C{i:05d},{'' if i % 7 == 0 else f'2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}'},{i % 19}.5,"
            f"{'Basic' if i % 3 else 'Premium'},{(i % 19) - 9}" for i in range(3000)]
    header = "customer_id,signup_date,monthly_revenue,segment,change"
    cases = {"plain": rows, "total-label": rows[:2400] + ["Total,,1.5,Basic,1"] + rows[2400:],
             "spaced-total-label": rows[:2400] + ["  Subtotal ,,1.5,Basic,1"] + rows[2400:],
             "total-word-as-segment": rows[:2400] + ["C99999,2024-01-01,1.5,Total,1"] + rows[2400:],
             "bad-date-late": rows[:2400] + ["C99999,2024-02-30,1.5,Basic,1"] + rows[2400:]}
    for name, lines in cases.items():
        path = write(tmp_path, f"{name}.csv", csv_text(header, lines))
        for read in (lambda p=path: io.read_raw(p), lambda p=path: io.read_table(p, "customers", required=())):
            fast, reference = _read_both(monkeypatch, read)
            _assert_same(fast, reference)
        if name == "plain":  # and it was the fast path that read it, in more than one block
            monkeypatch.setattr(io_arrow, "ENABLED", True)
            p, source, suffix = io._checked_path(path)
            assert io_arrow.read_table(p, source, suffix, "customers", None, (), None, None, None,
                                       frozenset({"customer_id"}))[0] is not None


def test_iso_days_are_what_pandas_makes_of_plain_dates():
    import pyarrow as pa

    from loyaltylab import io_arrow

    days = pd.date_range("1677-09-22", "2262-04-10", freq="D")
    text = pa.chunked_array([pa.array(days.strftime("%Y-%m-%d")[:100_000]),
                             pa.array(list(days.strftime("%Y-%m-%d")[100_000:]) + [None])])
    got, missing = io_arrow._iso_days(text)
    assert missing.tolist() == [False] * len(days) + [True]
    assert (got[:-1] == (days.asi8 // 86_400_000_000_000)).all()
    for bad in ("2023-02-29", "2024-04-31", "2024-13-01", "1677-09-21", "2262-04-11", "2024-1-05", "2024/01/05",
                "2024-01-05 ", "+024-01-05", "２０２４-01-05"):
        assert io_arrow._iso_days(pa.chunked_array([pa.array(["2024-01-01", bad])])) is None, bad


def test_fast_path_is_taken_on_plain_files(tmp_path, monkeypatch):
    """The course files (and their Parquet copies) are read and validated by io_arrow, not the slow path."""
    from loyaltylab import io_arrow

    monkeypatch.setattr(io_arrow, "STRICT", True)
    course = project_root() / "data" / "course"
    if not (course / "survey.csv").exists():
        pytest.skip("course data not generated (make data)")
    for table in ("customers", "survey", "incidents"):
        frame = pd.read_csv(course / f"{table}.csv", dtype={"customer_id": str, "response_id": str}, nrows=2000)
        frame.to_parquet(tmp_path / f"{table}.parquet", index=False)
        for path in (course / f"{table}.csv", tmp_path / f"{table}.parquet"):
            p, source, suffix = io._checked_path(path)
            ids = io._id_keys(c for c, rule in io.RULES[table].items() if rule.kind in ("key", "id"))
            assert io_arrow.read_raw(p, source, suffix, None, None, ids) is not None, path
            assert io_arrow.read_table(p, source, suffix, table, None, None, None, None, None, ids)[0] is not None, path


def test_fast_path_parquet_columns_are_writable_like_pandas(tmp_path):
    """pyarrow may convert numbers and dates without a copy (read-only memory); the frame must be as writable as
    pd.read_parquet's, or a notebook's ``df.loc[i, col] = v`` fails."""
    n = 50
    pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "signup_date": pd.date_range("2023-01-01", periods=n),
                  "monthly_revenue": np.linspace(1, 50, n), "tenure_days": np.arange(n)}).to_parquet(
        tmp_path / "c.parquet", index=False)
    for frame in (io.read_raw(tmp_path / "c.parquet"), io.read_table(tmp_path / "c.parquet", "customers",
                                                                       required=())):
        for col in frame.columns:
            frame.loc[0, col] = frame.loc[1, col]
        assert frame.iloc[0].equals(frame.iloc[1])


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_read_table_usecols_keeps_the_same_rows_and_values(tmp_path, monkeypatch, suffix):
    from loyaltylab import io_arrow

    content = csv_text(SURVEY_HEADER, SURVEY_ROWS + [",,,,,7", "R5,C5,2024-04-01,,x,1"])  # a blank-but-P5 row
    path = write(tmp_path, "s.csv", content)
    if suffix == "parquet":
        pd.read_csv(path, dtype=str).to_parquet(tmp_path / "s.parquet", index=False)
        path = tmp_path / "s.parquet"
    with pytest.raises(DataError, match="satisfaction"):
        io.read_table(path, "survey")
    for enabled in (True, False):
        monkeypatch.setattr(io_arrow, "ENABLED", enabled)
        part = io.read_table(path, "survey", usecols=["customer_id", "nps", "date", "nope"])
        assert list(part.columns) == ["customer_id", "date", "nps"]  # file order; "satisfaction: x" not checked
        assert list(part.index) == [0, 1, 2, 3, 4]
        assert part["nps"].tolist()[:3] == [9.0, 7.0, 3.0] and part["date"].dtype == "datetime64[ns]"
        assert part.attrs["loyaltylab"]["source"] == display_path(path)


def test_load_survey_only_used_columns_gives_the_same_data(tmp_path):
    from loyaltylab import loaders

    rows = [r.replace("R", "RA") + ",ok,en" for r in SURVEY_ROWS] + [r + ",,zh" for r in SURVEY_ROWS]
    content = csv_text(SURVEY_HEADER + ",comment,language", rows)
    path = write(tmp_path, "survey.csv", content)
    kwargs = {"date_col": "date", "cluster_col": "customer_id", "measures": (), "min_cell": 1}
    full = loaders.load_survey(path, **kwargs)
    part = loaders.load_survey(path, only_used_columns=True, **kwargs)
    pd.testing.assert_frame_equal(full.frame, part.frame)
    assert (full.dropped_rows, full.inputs, full.source) == (part.dropped_rows, part.inputs, part.source)
    assert loaders._used_columns({"score_col": "nps", "date_col": None, "comment_col": None, "cluster_col": None,
                                  "segment_cols": (), "filters": {}}, (), ("perceptions",)) is None
