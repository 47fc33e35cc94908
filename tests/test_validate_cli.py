"""`python -m loyaltylab validate`: a summary and exit 0 for good files; one `error:` line and exit 2 for bad ones."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pandas as pd
import pytest

from loyaltylab import cli as loyaltylab_cli
from loyaltylab import io
from loyaltylab.errors import DataError
from loyaltylab.paths import project_root

GOOD_SURVEY = "response_id,customer_id,date,nps,comment\nR1,C1,2024-01-05,9,great\nR2,C2,2024-02-10,,\n" \
              "R3,C3,2024-03-15,3,slow\n"


def parse(argv):
    parser = argparse.ArgumentParser()
    io.add_arguments(parser)
    return parser.parse_args(argv)


def cli(*argv):
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "loyaltylab", "validate", *map(str, argv)], capture_output=True,
                          text=True, encoding="utf-8", cwd=project_root(), env=env, timeout=120)


def main(capsys, *argv):
    """cli.main in process (cheap): (exit code, stdout, stderr)."""
    code = loyaltylab_cli.main(["validate", *map(str, argv)])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, captured.out, captured.err)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert proc.stdout == ""


# ---------------------------------------------------------------------------------------------------------------------
# In process: io.add_arguments / io.run
# ---------------------------------------------------------------------------------------------------------------------
def test_run_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "survey.csv"
    path.write_text(GOOD_SURVEY, encoding="utf-8")
    assert io.run(parse(["--table", "survey", str(path), "--snapshot-date", "2026-06-30"])) == 0
    out = capsys.readouterr().out
    assert "survey.csv" in out
    assert "format: CSV, encoding UTF-8, delimiter comma ','" in out
    assert "rows: 3  columns: 5" in out
    assert "missing values: nps 1, comment 1" in out
    assert "dates: date 2024-01-05 … 2024-03-15" in out
    assert out.rstrip().endswith("OK")


def test_run_with_map_sep_and_encoding(tmp_path, capsys):
    path = tmp_path / "kunden.txt"
    path.write_bytes("编号\t推荐\t评论\nC1\t9\t很好\nC2\t4\t太慢\n".encode("gbk"))
    args = parse(["--table", "survey", str(path), "--map", "编号=customer_id", "--map", "推荐=nps", "--map",
                  "评论=comment", "--sep", "tab", "--encoding", "gbk"])
    assert io.run(args) == 0
    out = capsys.readouterr().out
    assert "encoding GBK, delimiter tab" in out
    assert "mapped: 编号 → customer_id, 推荐 → nps, 评论 → comment" in out


@pytest.mark.parametrize(
    ("item", "fragment"),
    [("tenure", "expected USER_COLUMN=CANONICAL_COLUMN, got 'tenure'"),
     ("=churned", "got '=churned'"),
     ("Churn=", "got 'Churn='")],
)
def test_bad_map_syntax(item, fragment):
    with pytest.raises(DataError) as info:
        io.parse_map([item])
    assert str(info.value) == f"--map: {fragment}" or str(info.value).startswith("--map: expected")
    assert fragment in str(info.value)


def test_map_keeps_equals_signs_in_user_columns():
    assert io.parse_map(["a=b=customer_id", " Churn = churned "]) == {"a=b": "customer_id", "Churn": "churned"}
    with pytest.raises(DataError, match="mapped twice"):
        io.parse_map(["a=customer_id", "a=churned"])


def test_run_raises_data_error_for_bad_rows(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text(GOOD_SURVEY.replace(",9,", ",11,"), encoding="utf-8")
    with pytest.raises(DataError, match=r"survey\.csv: column 'nps': must be between 0 and 10: 1 row, e.g. row 2 \(11\)"):
        io.run(parse(["--table", "survey", str(path)]))


# ---------------------------------------------------------------------------------------------------------------------
# Through the real command line
# ---------------------------------------------------------------------------------------------------------------------
def test_cli_good_file_exits_0_with_summary(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text(GOOD_SURVEY, encoding="utf-8-sig")
    proc = cli("--table", "survey", path)
    assert proc.returncode == 0, proc.stderr
    assert "encoding UTF-8 with BOM" in proc.stdout and "rows: 3" in proc.stdout
    assert proc.stdout.rstrip().endswith("OK")


def test_cli_gbk_file_with_chinese_header_mapped(tmp_path):
    path = tmp_path / "问卷.csv"
    path.write_bytes("customer_id,nps,评论\nC1,9,服务很好\nC2,6,价格偏高\n".encode("gbk"))
    proc = cli("--table", "survey", path, "--map", "评论=comment")
    assert proc.returncode == 0, proc.stderr
    assert "encoding GBK" in proc.stdout and "评论 → comment" in proc.stdout


def test_main_excel_file(tmp_path, capsys):
    path = tmp_path / "customers.xlsx"
    pd.DataFrame({"customerID": ["A", "B"], "Churn": ["Yes", "No"]}).to_excel(path, index=False)
    proc = main(capsys, "--table", "customers", path, "--map", "customerID=customer_id", "--map", "Churn=churned")
    assert proc.returncode == 0, proc.stderr
    assert "format: Excel, sheet 'Sheet1'" in proc.stdout


def test_cli_bad_rows_exit_2_with_one_line(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text(GOOD_SURVEY.replace("2024-03-15", "2027-01-01"), encoding="utf-8")
    proc = cli("--table", "survey", path, "--snapshot-date", "2026-06-30")
    assert_one_line_error(proc, "survey.csv: column 'date': date after the snapshot (2026-06-30)",
                          "1 row, e.g. row 4 ('2027-01-01')")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--map", "tenure"], ["error: --map: expected USER_COLUMN=CANONICAL_COLUMN, got 'tenure'"]),
        (["--map", "nps=net_promoter"], ["column 'nps': cannot map onto 'net_promoter'", "survey table"]),
        (["--snapshot-date", "someday"], ["error: snapshot_date: not a date: 'someday'"]),
        (["--sep", "::"], ["the delimiter must be one character"]),
    ],
    ids=["map-syntax", "map-unknown-canonical", "bad-snapshot", "bad-sep"],
)
def test_main_bad_arguments_exit_2_with_one_line(tmp_path, capsys, args, fragments):
    path = tmp_path / "survey.csv"
    path.write_text(GOOD_SURVEY, encoding="utf-8")
    assert_one_line_error(main(capsys, "--table", "survey", path, *args), *fragments)


def test_main_missing_file_and_unknown_type(tmp_path, capsys):
    assert_one_line_error(main(capsys, "--table", "customers", tmp_path / "nope.csv"), "nope.csv: file not found")
    odd = tmp_path / "data.json"
    odd.write_text("{}", encoding="utf-8")
    assert_one_line_error(main(capsys, "--table", "customers", odd), "data.json: unknown file type '.json'")


def test_cli_bad_map_exits_2_with_one_line(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text(GOOD_SURVEY, encoding="utf-8")
    assert_one_line_error(cli("--table", "survey", path, "--map", "tenure"),
                          "error: --map: expected USER_COLUMN=CANONICAL_COLUMN, got 'tenure'")


# ---------------------------------------------------------------------------------------------------------------------
# Files that cannot be read as a table: one line, exit 2, never a traceback
# ---------------------------------------------------------------------------------------------------------------------
def test_main_nested_parquet_values_exit_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "survey.parquet"
    pd.DataFrame({"customer_id": ["C1", "C2"], "nps": [[9], [1, 2]]}).to_parquet(path)
    assert_one_line_error(main(capsys, "--table", "survey", path),
                          "survey.parquet: column 'nps': nested values (lists/structs) are not supported",
                          "2 rows, e.g. row 2 ([9]), row 3 ([1, 2])")


def test_main_blank_lines_do_not_shift_row_numbers(tmp_path, capsys):
    path = tmp_path / "survey.csv"
    path.write_text("customer_id,nps\n\nC1,9\n\n\nC2,12\n", encoding="utf-8")
    assert_one_line_error(main(capsys, "--table", "survey", path), "column 'nps': must be between 0 and 10",
                          "1 row, e.g. row 6 (12)")


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("fake.xlsx", b"PK\x03\x04 this is not really a zip archive", "fake.xlsx: cannot read as an Excel workbook"),
        ("broken.parquet", b"PAR1" + bytes(range(256)) * 4 + b"PAR1", "broken.parquet: cannot read as a Parquet file"),
        ("quote.csv", b'customer_id,comment\nC1,"never closed\nC2,ok\n', "quote.csv: unclosed quote"),
    ],
    ids=["fake-xlsx", "corrupt-parquet", "unclosed-quote"],
)
def test_main_damaged_files_exit_2_with_one_line(tmp_path, capsys, name, content, fragment):
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(main(capsys, "--table", "survey", path), fragment)


# ---------------------------------------------------------------------------------------------------------------------
# Issue 8: --encoding and --sheet, and inputs that used to be read silently wrong
# ---------------------------------------------------------------------------------------------------------------------
def _two_sheet_book(path):
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"customer_id": ["C1", "C2"], "nps": [9, 3]}).to_excel(writer, sheet_name="Wave 1", index=False)
        pd.DataFrame({"customer_id": ["C3", "C4", "C5"], "nps": [7, 8, 10]}).to_excel(writer, sheet_name="Wave 2",
                                                                                     index=False)


def test_main_sheet_is_required_when_several_sheets_hold_data(tmp_path, capsys):
    path = tmp_path / "waves.xlsx"
    _two_sheet_book(path)
    assert_one_line_error(main(capsys, "--table", "survey", path),
                          "waves.xlsx: the workbook has 2 sheets with data ('Wave 1', 'Wave 2'); pass the sheet to "
                          "read (sheet=…, --sheet NAME)")
    for sheet in ("Wave 2", "1"):
        proc = main(capsys, "--table", "survey", path, "--sheet", sheet)
        assert proc.returncode == 0, proc.stderr
        assert "format: Excel, sheet 'Wave 2'" in proc.stdout and "rows: 3" in proc.stdout


def test_main_encoding_detected_and_given(tmp_path, capsys):
    path = tmp_path / "avis.csv"
    path.write_bytes("customer_id,nps,comment\nC1,9,Très bien\nC2,3,Déçu\n".encode("cp1252"))
    for extra in ((), ("--encoding", "cp1252")):
        proc = main(capsys, "--table", "survey", path, *extra)
        assert proc.returncode == 0, proc.stderr
        assert "format: CSV, encoding Windows-1252, delimiter comma ','" in proc.stdout
    assert_one_line_error(main(capsys, "--table", "survey", path, "--encoding", "utf-8"),
                          "avis.csv: cannot decode the file as utf-8")
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes("customer_id\tnps\nC1\t9\n".encode("utf-16-le"))
    proc = main(capsys, "--table", "survey", utf16)
    assert proc.returncode == 0, proc.stderr
    assert "encoding UTF-16 LE (no BOM), delimiter tab" in proc.stdout


def test_main_trailing_delimiter_and_header_variants_read_right(tmp_path, capsys):
    path = tmp_path / "survey.csv"
    path.write_text("Customer_ID,NPS,satisfaction\n00039,9,6,\nC2,3,2,\n", encoding="utf-8")
    proc = main(capsys, "--table", "survey", path)
    assert proc.returncode == 0, proc.stderr
    assert "rows: 2  columns: 3" in proc.stdout
    assert "mapped: Customer_ID → customer_id, NPS → nps" in proc.stdout
    path.write_text("Customer_ID,NPS,satisfaction\n00039,11,6,\nC2,3,2,\n", encoding="utf-8")
    assert_one_line_error(main(capsys, "--table", "survey", path),
                          "survey.csv: column 'NPS': must be between 0 and 10: 1 row, e.g. row 2 (11)")


def test_main_totals_row_exits_2_naming_the_row(tmp_path, capsys):
    path = tmp_path / "transactions.csv"
    path.write_text("customer_id,date,amount\nC1,2024-01-05,10\nC2,2024-01-06,20\nTotal,,30\n", encoding="utf-8")
    assert_one_line_error(main(capsys, "--table", "transactions", path),
                          "column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the file: "
                          "1 row, e.g. row 4 ('Total')")


def test_cli_duplicated_ids_are_not_printed(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,segment\nALICE-0001,Basic\nALICE-0001,Premium\n", encoding="utf-8")
    proc = cli("--table", "customers", path)
    assert_one_line_error(proc, "duplicated value (must be unique): 2 rows, e.g. row 2 (id not shown), row 3")
    assert "ALICE" not in proc.stderr
