"""The bad-input suite for loyaltylab.io (issue 8, "inputs read silently wrong").

One table, :data:`CASES`: a file builder, the table it is read as, the read parameters and the exact outcome —
either the one-line DataError (compared whole, after ``<file>: ``) or "read right", with assertions about the
values read. Every fixture is written into ``tmp_path``. Each case names the class of input it covers
(:data:`CLASSES`), so the tally (clear error / read right) can be counted with ``python tests/test_bad_inputs.py``.
"""
from __future__ import annotations

import io as stdlib_io
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltylab import io
from loyaltylab.errors import DataError
from loyaltylab.paths import display_path

CLASSES = {
    "trailing-delimiter": "a delimiter after the last field shifted every column",
    "ids": "ids that look numeric changed (00039 → 39, 1E1 → 10, 18 digits rounded)",
    "totals": "a Total / 合计 / 总计 / Sum row counted as data",
    "headers": "NPS, ｎｐｓ, zero-width space, BOM, trailing spaces, blank header: columns not recognised",
    "booleans": "a boolean column read as 0/1 scores",
    "future": "dates years in the future",
    "encoding": "cp1252 read as GBK mojibake; UTF-16 without BOM; Chinese / Western detection",
    "sheets": "only the first of several Excel sheets read",
    "excel-errors": "Excel error cells (#DIV/0!, #N/A, #VALUE!) read as missing",
    "likert-as-nps": "a 1–7 column passed as the 0–10 NPS",
    "privacy": "messages name rows, never ids or comment text",
    "malformed": "the malformed-input classes io already refused (kept refused, message exact)",
}


# --------------------------------------------------------------------------------------------------------------------
# Builders: each returns a function tmp_path → path of the written fixture
# --------------------------------------------------------------------------------------------------------------------
Builder = Callable[[Path], Path]


def text(content: str | bytes, encoding: str = "utf-8", name: str = "data.csv") -> Builder:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return build


def lines(header: str, rows: list[str], end: str = "") -> str:
    """A CSV: header, then rows, each line ending in ``end`` (e.g. a trailing delimiter)."""
    return "".join(f"{line}\n" for line in [header, *(r + end for r in rows)])


def xlsx(sheets: dict[str, list[list]], *, hidden: tuple[str, ...] = (), errors: dict | None = None,
         name: str = "data.xlsx") -> Builder:
    """A workbook written cell by cell; ``errors`` = {sheet: {"B3": "#DIV/0!"}} writes real error cells."""
    def build(tmp: Path) -> Path:
        import openpyxl

        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
            for ref, value in (errors or {}).get(title, {}).items():
                sheet[ref].value = value
                sheet[ref].data_type = "e"
            if title in hidden:
                sheet.sheet_state = "hidden"
        path = tmp / name
        book.save(path)
        return path

    return build


def parquet(make: Callable[[], pd.DataFrame], name: str = "data.parquet") -> Builder:
    def build(tmp: Path) -> Path:
        path = tmp / name
        make().to_parquet(path, index=False)
        return path

    return build


def raw(make: Callable[[], bytes], name: str) -> Builder:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(make())
        return path

    return build


# --------------------------------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Err:
    """The exact message after ``<file>: ``; ``{tomorrow}`` is filled in."""

    message: str


@dataclass(frozen=True)
class Ok:
    """Read right: ``check(df)`` asserts the values."""

    check: Callable[[pd.DataFrame], None]


@dataclass(frozen=True)
class Case:
    id: str
    cls: str
    build: Builder
    table: str | None  # None: io.read_raw (what the analyses' loaders call)
    expect: Err | Ok
    kwargs: dict = field(default_factory=dict)


def values(column: str, expected: list, dtype: str | None = None) -> Callable[[pd.DataFrame], None]:
    def check(df: pd.DataFrame) -> None:
        got = [None if (not isinstance(v, str) and pd.isna(v)) else v for v in df[column].tolist()]
        assert got == expected, (column, got)
        if dtype:
            assert str(df[column].dtype) == dtype, df[column].dtype

    return check


def all_of(*checks: Callable[[pd.DataFrame], None]) -> Callable[[pd.DataFrame], None]:
    def check(df: pd.DataFrame) -> None:
        for c in checks:
            c(df)

    return check


def columns(expected: list[str]) -> Callable[[pd.DataFrame], None]:
    def check(df: pd.DataFrame) -> None:
        assert list(df.columns) == expected, list(df.columns)

    return check


def rows(expected: list[int]) -> Callable[[pd.DataFrame], None]:
    """Spreadsheet row numbers (index + 2) of the rows read."""
    def check(df: pd.DataFrame) -> None:
        assert [i + 2 for i in df.index] == expected, list(df.index)

    return check


def attr(key: str, expected) -> Callable[[pd.DataFrame], None]:
    def check(df: pd.DataFrame) -> None:
        assert df.attrs["loyaltylab"].get(key) == expected, df.attrs["loyaltylab"]

    return check


# --------------------------------------------------------------------------------------------------------------------
# Shared content
# --------------------------------------------------------------------------------------------------------------------
SURVEY_HEADER = "customer_id,nps,satisfaction"
SURVEY_ROWS = ["C1,9,6", "C2,3,2", "C3,10,7"]
TRANSACTIONS = ["C1,2024-01-05,29.90", "C2,2024-01-09,59.00", "C1,2024-02-05,29.90", "C3,2024-02-11,109.00"]
EIGHTEEN = [f"{123456789012345600 + i}" for i in range(40)]  # 40 distinct 18-digit ids: floats collapse them to 4

FRENCH = ["C1,9,Très bien, merci", "C2,7,Délai trop long en caisse", "C3,10,Équipe aimable et très efficace",
          "C4,4,Déçu: facture erronée"]
GERMAN = ["C1,9,Schöne Grüße aus München", "C2,3,Lieferung verspätet; Kundendienst unfreundlich",
          "C3,8,Gute Qualität für den Preis", "C4,6,Zu teuer für Müller & Söhne"]
CHINESE = ["C1,9,服务很好，响应快", "C2,3,价格偏高，客服态度差", "C3,10,网络稳定，非常满意", "C4,6,安装师傅迟到了两个小时"]


def quoted(rows: list[str]) -> list[str]:
    """customer,score,"comment with, commas"."""
    return [",".join([*r.split(",", 2)[:2], '"' + r.split(",", 2)[2] + '"']) for r in rows]


def likert_rows(n: int, extra: str | None = None) -> list[str]:
    out = [f"C{i},{1 + i % 7}" for i in range(n)]
    if extra is not None:
        out[-1] = f"C{n - 1},{extra}"
    return out


def big_ascii_then(tail: list[str], n: int = 4000) -> list[str]:
    """Enough plain rows to push ``tail`` beyond the 64 KiB sample the reader looks at first."""
    return [f"C{i:05d},{i % 11},fine service" for i in range(n)] + tail


def _xlsx_bytes() -> bytes:
    buffer = stdlib_io.BytesIO()
    pd.DataFrame({"customer_id": ["C1", "C2"], "nps": [9, 3]}).to_excel(buffer, index=False)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    buffer = stdlib_io.BytesIO()
    pd.DataFrame({"customer_id": [f"C{i}" for i in range(200)], "nps": [i % 11 for i in range(200)]}).to_parquet(buffer)
    return buffer.getvalue()


def _zip_without_workbook() -> bytes:
    out = stdlib_io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        target.writestr("readme.txt", "not a workbook")
    return out.getvalue()


SURVEY_XLSX = [["customer_id", "nps"], *[[f"C{i}", i % 11] for i in range(30)]]
WAVE_2 = [["customer_id", "nps"], *[[f"D{i}", (i * 3) % 11] for i in range(30)]]

# --------------------------------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------------------------------
CASES: list[Case] = [
    # --- trailing delimiter: read right (an empty last field is dropped), never shifted -------------------------------
    Case("trailing-comma-every-row", "trailing-delimiter", text(lines(SURVEY_HEADER, SURVEY_ROWS, ",")), "survey",
         Ok(all_of(columns(["customer_id", "nps", "satisfaction"]), values("nps", [9.0, 3.0, 10.0]),
                   values("satisfaction", [6.0, 2.0, 7.0]), values("customer_id", ["C1", "C2", "C3"])))),
    Case("trailing-comma-header-too", "trailing-delimiter", text(lines(SURVEY_HEADER + ",", SURVEY_ROWS, ",")),
         "survey", Ok(all_of(columns(["customer_id", "nps", "satisfaction"]), values("nps", [9.0, 3.0, 10.0])))),
    Case("trailing-semicolon", "trailing-delimiter",
         text(lines(SURVEY_HEADER.replace(",", ";"), [r.replace(",", ";") for r in SURVEY_ROWS], ";")), "survey",
         Ok(all_of(attr("sep", ";"), values("nps", [9.0, 3.0, 10.0]), values("satisfaction", [6.0, 2.0, 7.0])))),
    Case("trailing-tab", "trailing-delimiter",
         text(lines(SURVEY_HEADER.replace(",", "\t"), [r.replace(",", "\t") for r in SURVEY_ROWS], "\t"),
              name="data.tsv"), "survey", Ok(values("nps", [9.0, 3.0, 10.0]))),
    Case("trailing-comma-some-rows", "trailing-delimiter",
         text(lines(SURVEY_HEADER, [SURVEY_ROWS[0], SURVEY_ROWS[1] + ",", SURVEY_ROWS[2] + ","])), "survey",
         Ok(all_of(values("nps", [9.0, 3.0, 10.0]), values("satisfaction", [6.0, 2.0, 7.0])))),
    Case("trailing-comma-after-blank-line", "trailing-delimiter",
         text(SURVEY_HEADER + "\n\n" + "".join(r + ",\n" for r in SURVEY_ROWS)), "survey",
         Ok(all_of(values("nps", [9.0, 3.0, 10.0]), rows([3, 4, 5])))),
    Case("trailing-comma-crlf", "trailing-delimiter", text(lines(SURVEY_HEADER, SURVEY_ROWS, ",").replace("\n", "\r\n")),
         "survey", Ok(values("satisfaction", [6.0, 2.0, 7.0]))),
    Case("trailing-comma-nps-still-checked", "trailing-delimiter",
         text(lines(SURVEY_HEADER, ["C1,9,6", "C2,11,2", "C3,10,7"], ",")), "survey",
         Err("column 'nps': must be between 0 and 10: 1 row, e.g. row 3 (11)")),
    Case("trailing-comma-only-after-sample", "trailing-delimiter",
         text(lines("customer_id,nps,comment", big_ascii_then(["C99998,3,late,", "C99999,8,ok,"]))), "survey",
         Ok(all_of(values("nps", [*(float(i % 11) for i in range(4000)), 3.0, 8.0]), columns(
             ["customer_id", "nps", "comment"])))),
    Case("extra-value-every-row", "trailing-delimiter",
         text(lines(SURVEY_HEADER, [r + ",x" for r in SURVEY_ROWS])), "survey",
         Err("more fields than the header has names (3); check the delimiter (comma ',') and that values containing "
             "it are quoted: 3 rows, e.g. row 2 (4 fields), row 3 (4 fields), row 4 (4 fields)")),
    Case("extra-value-after-sample", "trailing-delimiter",
         text(lines("customer_id,nps,comment", big_ascii_then(["C99999,3,slow, rude"]))), "survey",
         Err("more fields than the header has names (3); check the delimiter (comma ',') and that values containing "
             "it are quoted: 1 row, e.g. row 4002 (4 fields)")),
    Case("unquoted-comma-in-comment", "trailing-delimiter",
         text(lines("customer_id,nps,comment", ["C1,9,fine", "C2,3,slow, rude", "C3,8,ok"])), "survey",
         Err("more fields than the header has names (3); check the delimiter (comma ',') and that values containing "
             "it are quoted: 1 row, e.g. row 3 (4 fields)")),

    # --- ids: text exactly as in the file -----------------------------------------------------------------------------
    Case("csv-leading-zeros", "ids", text(lines("customer_id,nps", ["00039,9", "00040,3", "39,8"])), "survey",
         Ok(values("customer_id", ["00039", "00040", "39"]))),
    Case("csv-exponent-looking-id", "ids", text(lines("customer_id,nps", ["1E1,9", "2e5,3", "10,8"])), "survey",
         Ok(values("customer_id", ["1E1", "2e5", "10"]))),
    Case("csv-18-digit-ids-with-blank", "ids",
         text(lines("response_id,customer_id,nps", [f"R{i},{c},{i % 11}" for i, c in enumerate(EIGHTEEN)]
                    + ["R40,,5"])), "survey",
         Ok(lambda df: (assert_equal(df["customer_id"].iloc[:40].tolist(), EIGHTEEN),
                        assert_equal(int(df["customer_id"].nunique()), 40),
                        assert_equal(bool(pd.isna(df["customer_id"].iloc[40])), True)))),
    Case("csv-numeric-response-ids", "ids", text(lines("response_id,customer_id,nps", ["001,7,9", "002,7,3"])),
         "survey", Ok(all_of(values("response_id", ["001", "002"]), values("customer_id", ["7", "7"])))),
    Case("csv-mapped-id-column", "ids", text(lines("编号,推荐", ["00039,9", "0004,3"])), "survey",
         Ok(values("customer_id", ["00039", "0004"])), {"columns": {"编号": "customer_id", "推荐": "nps"}}),
    Case("csv-id-header-other-case", "ids", text(lines("Customer_ID,NPS", ["00039,9", "1E1,3"])), "survey",
         Ok(all_of(columns(["customer_id", "nps"]), values("customer_id", ["00039", "1E1"])))),
    Case("csv-ids-in-read-raw", "ids", text(lines("customer_id,region", ["00039,North", "1E1,South"])), None,
         Ok(values("customer_id", ["00039", "1E1"]))),
    Case("csv-transactions-ids", "ids", text(lines("customer_id,date,amount", ["007,2024-01-05,10", "7,2024-01-06,5"])),
         "transactions", Ok(values("customer_id", ["007", "7"]))),
    Case("xlsx-text-and-number-ids", "ids",
         xlsx({"s": [["customer_id", "nps"], ["00039", 9], [39, 8], [1001.0, 7], [None, 6]]}), "survey",
         Ok(values("customer_id", ["00039", "39", "1001", None]))),
    Case("xlsx-18-digit-number-id", "ids", xlsx({"s": [["customer_id", "nps"], ["C1", 9], [123456789012345678, 8]]}),
         "survey", Err("column 'customer_id': ids stored as numbers with too many digits (Excel keeps 15 digits, so "
                       "digits are lost); store the id column as text: 1 row, e.g. row 3 (id not shown)")),
    Case("xlsx-18-digit-text-id", "ids", xlsx({"s": [["customer_id", "nps"], ["123456789012345678", 9]]}), "survey",
         Ok(values("customer_id", ["123456789012345678"]))),
    Case("parquet-int-ids", "ids", parquet(lambda: pd.DataFrame({"customer_id": [39, 123456789012345678],
                                                                 "nps": [9, 3]})), "survey",
         Ok(values("customer_id", ["39", "123456789012345678"]))),
    Case("parquet-nullable-int-ids", "ids",
         parquet(lambda: pd.DataFrame({"customer_id": pd.array([39, None, 41], dtype="Int64"), "nps": [9, 3, 5]})),
         "survey", Ok(values("customer_id", ["39", None, "41"]))),
    Case("parquet-whole-float-ids", "ids",
         parquet(lambda: pd.DataFrame({"customer_id": [1001.0, np.nan, 7.0], "nps": [9, 3, 5]})), "survey",
         Ok(values("customer_id", ["1001", None, "7"]))),
    Case("parquet-float-ids-lost-digits", "ids",
         parquet(lambda: pd.DataFrame({"customer_id": [float(x) for x in EIGHTEEN[:3]], "nps": [9, 3, 5]})),
         "survey", Err("column 'customer_id': ids stored as numbers with too many digits (a floating-point column "
                       "keeps 15–16 digits, so digits are lost); store the id column as text: 3 rows, e.g. row 2 (id "
                       "not shown), row 3 (id not shown), row 4 (id not shown)")),
    Case("parquet-text-ids", "ids", parquet(lambda: pd.DataFrame({"customer_id": ["00039", "1E1"], "nps": [9, 3]})),
         "survey", Ok(values("customer_id", ["00039", "1E1"]))),

    # --- totals rows: refused, naming the row ---------------------------------------------------------------------------
    Case("total-row-transactions", "totals",
         text(lines("customer_id,date,amount", [*TRANSACTIONS, "Total,,227.80"])), "transactions",
         Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the file: 1 row, e.g. "
             "row 6 ('Total')")),
    Case("heji-row-customers", "totals",
         text(lines("customer_id,segment,monthly_revenue", ["C1,Basic,29", "C2,Premium,109", "合计,,138"])),
         "customers", Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the file: "
                          "1 row, e.g. row 4 ('合计')")),
    Case("zongji-row", "totals", text(lines("customer_id,date,amount", [*TRANSACTIONS[:2], "总计,,88.90"])),
         "transactions", Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the "
                             "file: 1 row, e.g. row 4 ('总计')")),
    Case("sum-row", "totals", text(lines("customer_id,date,amount", [*TRANSACTIONS[:2], "Sum,,88.90"])),
         "transactions", Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the "
                             "file: 1 row, e.g. row 4 ('Sum')")),
    Case("total-colon-upper", "totals", text(lines("customer_id,nps", ["C1,9", "C2,3", "TOTAL:,12"])), "survey",
         Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the file: 1 row, e.g. "
             "row 4 ('TOTAL:')")),
    Case("total-full-width-last-row", "totals", text(lines("customer_id,nps", ["C1,9", "C2,3", "Ｔｏｔａｌ ,12"])),
         "survey", Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the file: 1 "
                       "row, e.g. row 4 ('Ｔｏｔａｌ ')")),
    Case("blank-id-row-of-sums", "totals", text(lines("customer_id,date,amount", [*TRANSACTIONS, ",,227.80"])),
         "transactions", Err("column 'customer_id': a totals row (no id; amount equal the sum of the other rows), not "
                             "data; delete it from the file: 1 row, e.g. row 6 (empty)")),
    Case("blank-id-row-of-sums-customers", "totals",
         text(lines("customer_id,monthly_revenue,tenure_days", ["C1,29,100", "C2,109,30", "C3,59,70", ",197,200"])),
         "customers", Err("column 'customer_id': a totals row (no id; monthly_revenue, tenure_days equal the sum of "
                          "the other rows), not data; delete it from the file: 1 row, e.g. row 5 (empty)")),
    Case("total-in-first-column", "totals",
         text(lines("date,customer_id,amount", ["2024-01-05,C1,10", "2024-01-06,C2,20", "合计,,30"])), "transactions",
         Err("column 'date': a totals row (Total, 合计, Sum …), not data; delete it from the file: 1 row, e.g. row 4 "
             "('合计')")),
    Case("total-row-xlsx", "totals", xlsx({"s": [["customer_id", "amount", "date"], ["C1", 10, "2024-01-05"],
                                                 ["C2", 20, "2024-01-06"], ["Total", 30, None]]}), "transactions",
         Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the file: 1 row, e.g. "
             "row 4 ('Total')")),
    Case("total-row-parquet", "totals",
         parquet(lambda: pd.DataFrame({"customer_id": ["C1", "C2", "Grand Total"], "amount": [1.0, 2.0, 3.0]})),
         "transactions", Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the "
                             "file: 1 row, e.g. row 4 ('Grand Total')"), {"required": ["customer_id"]}),
    Case("total-row-in-read-raw", "totals", text(lines("customer_id,monthly_revenue", ["C1,29", "C2,109", "Total,138"])),
         None, Err("column 'customer_id': a totals row (Total, 合计, Sum …), not data; delete it from the file: 1 row, "
                   "e.g. row 4 ('Total')")),
    Case("blank-id-row-not-sums", "totals", text(lines("customer_id,date,amount", [*TRANSACTIONS, ",2024-03-01,12"])),
         "transactions", Ok(lambda df: assert_equal(int(df["customer_id"].isna().sum()), 1))),
    Case("id-containing-total-is-data", "totals", text(lines("customer_id,nps", ["Totalview,9", "SUMMIT-1,3"])),
         "survey", Ok(values("customer_id", ["Totalview", "SUMMIT-1"]))),

    # --- header names: normalised, then matched to canonical names ignoring case and width ----------------------------
    Case("header-NPS-upper", "headers", text(lines("customer_id,NPS", ["C1,9", "C2,11"])), "survey",
         Err("column 'NPS': must be between 0 and 10: 1 row, e.g. row 3 (11)")),
    Case("header-full-width", "headers", text(lines("customer_id,ｎｐｓ", ["C1,9", "C2,55"])), "survey",
         Err("column 'nps': must be between 0 and 10: 1 row, e.g. row 3 (55)")),
    Case("header-full-width-upper", "headers", text(lines("customer_id,ＮＰＳ", ["C1,9", "C2,55"])), "survey",
         Err("column 'NPS': must be between 0 and 10: 1 row, e.g. row 3 (55)")),
    Case("header-zero-width-space", "headers", text(lines("customer_id,\u200bnps", ["C1,11", "C2,3"])), "survey",
         Err("column 'nps': must be between 0 and 10: 1 row, e.g. row 2 (11)")),
    Case("header-bom-inside", "headers", text(lines("customer_id,\ufeffnps", ["C1,11", "C2,3"])), "survey",
         Err("column 'nps': must be between 0 and 10: 1 row, e.g. row 2 (11)")),
    Case("header-bom-at-start-utf8", "headers", text(lines("\ufeffcustomer_id,nps", ["00039,9"])), "survey",
         Ok(all_of(columns(["customer_id", "nps"]), values("customer_id", ["00039"])))),
    Case("header-trailing-spaces", "headers", text(lines("customer_id ,nps   ", ["C1,9", "C2,12"])), "survey",
         Err("column 'nps': must be between 0 and 10: 1 row, e.g. row 3 (12)")),
    Case("header-no-break-space", "headers", text(lines("customer_id,\u00a0nps\u00a0", ["C1,9", "C2,12"])), "survey",
         Err("column 'nps': must be between 0 and 10: 1 row, e.g. row 3 (12)")),
    Case("header-mixed-case-likert", "headers", text(lines("customer_id,Satisfaction,e1", ["C1,6,9"])), "survey",
         Err("column 'e1': must be between 1 and 7: 1 row, e.g. row 2 (9)")),
    Case("header-date-future", "headers", text(lines("customer_id,Date", ["C1,2099-01-01"])), "survey",
         Err("column 'Date': date in the future (after {tomorrow}); check the year and the date format: 1 row, e.g. "
             "row 2 ('2099-01-01')")),
    Case("header-case-renamed-to-canonical", "headers", text(lines("Customer_ID,NPS,Date", ["C1,9,2024-01-01"])),
         "survey", Ok(all_of(columns(["customer_id", "nps", "date"]), values("nps", [9.0]),
                             attr("mapped", {"customer_id": "Customer_ID", "nps": "NPS", "date": "Date"})))),
    Case("header-blank-required", "headers", text(lines("customer_id,,satisfaction", ["C1,9,6"])), "survey",
         Err("column 'nps': required column is missing; column B has no header name (map it: --map column_B=nps); "
             "available columns: customer_id, column_B, satisfaction"), {"required": ["customer_id", "nps"]}),
    Case("header-blank-mapped", "headers", text(lines("customer_id,,satisfaction", ["C1,9,6", "C2,12,5"])), "survey",
         Err("column 'column_B': must be between 0 and 10: 1 row, e.g. row 3 (12)"),
         {"columns": {"column_B": "nps"}}),
    Case("header-blank-kept-in-read-raw", "headers", text(lines("customer_id,,x", ["C1,9,6"])), None,
         Ok(columns(["customer_id", "column_B", "x"]))),
    Case("header-two-match-nps", "headers", text(lines("customer_id,NPS,nps", ["C1,9,8"])), "survey",
         Err("column 'nps': matched by more than one column ('NPS', 'nps'); rename or remove one, or map one "
             "explicitly")),
    Case("header-same-after-cleaning", "headers", text(lines("customer_id,nps,ｎｐｓ", ["C1,9,8"])), "survey",
         Err("column 'nps': duplicated column name (columns B and C); rename or remove one")),
    Case("header-xlsx-upper-trailing-space", "headers", xlsx({"s": [["customer_id", "NPS "], ["C1", 9], ["C2", 11]]}),
         "survey", Err("column 'NPS': must be between 0 and 10: 1 row, e.g. row 3 (11)")),
    Case("header-parquet-upper", "headers", parquet(lambda: pd.DataFrame({"customer_id": ["C1", "C2"], "NPS": [9, 11]})),
         "survey", Err("column 'NPS': must be between 0 and 10: 1 row, e.g. row 3 (11)")),
    Case("header-required-under-file-name", "headers", text(lines("customer_id,NPS", ["C1,9"])), "survey",
         Err("column 'NPS': the file's column 'NPS' is read as the canonical 'nps'; name it 'nps'"),
         {"required": ["NPS"]}),
    Case("header-cleaned-in-read-raw", "headers", text(lines("customer_id, nps\u200b ,Region\u3000", ["C1,9,N"])),
         None, Ok(columns(["customer_id", "nps", "Region"]))),

    # --- booleans are not scores ------------------------------------------------------------------------------------
    Case("parquet-bool-nps", "booleans",
         parquet(lambda: pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "nps": [True, False, True]})), "survey",
         Err("column 'nps': true/false values are not numbers (is a yes/no column mapped onto this one?): 3 rows, "
             "e.g. row 2 (True), row 3 (False), row 4 (True)")),
    Case("parquet-nullable-bool-satisfaction", "booleans",
         parquet(lambda: pd.DataFrame({"customer_id": ["C1", "C2"],
                                       "satisfaction": pd.array([True, None], dtype="boolean")})), "survey",
         Err("column 'satisfaction': true/false values are not numbers (is a yes/no column mapped onto this one?): 1 "
             "row, e.g. row 2 (True)")),
    Case("xlsx-true-false-cells-nps", "booleans", xlsx({"s": [["customer_id", "nps"], ["C1", 9], ["C2", True]]}),
         "survey", Err("column 'nps': true/false values are not numbers (is a yes/no column mapped onto this one?): 1 "
                       "row, e.g. row 3 (TRUE)")),
    Case("xlsx-true-false-column-nps", "booleans", xlsx({"s": [["customer_id", "nps"], ["C1", False], ["C2", True]]}),
         "survey", Err("column 'nps': true/false values are not numbers (is a yes/no column mapped onto this one?): 2 "
                       "rows, e.g. row 2 (False), row 3 (True)")),
    Case("xlsx-true-false-flag-is-fine", "booleans",
         xlsx({"s": [["customer_id", "churned"], ["C1", True], ["C2", 0], ["C3", 1]]}), "customers",
         Ok(values("churned", [1, 0, 1], "Int8"))),
    Case("parquet-bool-flag-is-fine", "booleans",
         parquet(lambda: pd.DataFrame({"customer_id": ["C1", "C2"], "churned": [True, False]})), "customers",
         Ok(values("churned", [1, 0], "Int8"))),

    # --- dates in the future ------------------------------------------------------------------------------------------
    Case("survey-date-2099", "future", text(lines("customer_id,date,nps", ["C1,2024-05-01,9", "C2,2099-05-01,3"])),
         "survey", Err("column 'date': date in the future (after {tomorrow}); check the year and the date format: 1 "
                       "row, e.g. row 3 ('2099-05-01')")),
    Case("transactions-date-2099", "future", text(lines("customer_id,date,amount", ["C1,2099-01-05,10"])),
         "transactions", Err("column 'date': date in the future (after {tomorrow}); check the year and the date "
                             "format: 1 row, e.g. row 2 ('2099-01-05')")),
    Case("signup-date-2099-xlsx", "future",
         xlsx({"s": [["customer_id", "signup_date"], ["C1", "2024-01-01"], ["C2", pd.Timestamp("2099-03-01")]]}),
         "customers", Err("column 'signup_date': date in the future (after {tomorrow}); check the year and the date "
                          "format: 1 row, e.g. row 3 (2099-03-01)")),
    Case("date-tomorrow-is-fine", "future",
         text(lines("customer_id,date", [f"C1,{(pd.Timestamp.today() + pd.Timedelta(days=1)):%Y-%m-%d}"])), "survey",
         Ok(lambda df: assert_equal(len(df), 1))),
    Case("date-after-snapshot-still-snapshot-rule", "future", text(lines("customer_id,date", ["C1,2099-01-01"])),
         "survey", Err("column 'date': date after the snapshot (2026-06-30): 1 row, e.g. row 2 ('2099-01-01')"),
         {"snapshot_date": "2026-06-30"}),

    # --- encodings ----------------------------------------------------------------------------------------------------
    Case("cp1252-french", "encoding", text(lines("customer_id,nps,comment", quoted(FRENCH)), "cp1252"), "survey",
         Ok(all_of(attr("encoding", "cp1252"), values("comment", [r.split(",", 2)[2] for r in FRENCH])))),
    Case("cp1252-german", "encoding", text(lines("customer_id,nps,comment", quoted(GERMAN)), "cp1252"), "survey",
         Ok(all_of(attr("encoding", "cp1252"), values("comment", [r.split(",", 2)[2] for r in GERMAN])))),
    Case("cp1252-short-with-accent-pair", "encoding", text(lines("customer_id,nps,comment", ["C1,9,Très bien",
                                                                                          "C2,3,Déçu"]), "cp1252"),
         "survey", Ok(all_of(attr("encoding", "cp1252"), values("comment", ["Très bien", "Déçu"])))),
    Case("cp1252-spanish-portuguese", "encoding",
         text(lines("customer_id,nps,comment", ["C1,9,Atención rápida; mañana", "C2,4,Não há informação"]), "cp1252"),
         "survey", Ok(values("comment", ["Atención rápida; mañana", "Não há informação"]))),
    Case("gbk-short-yes-no", "encoding", text(lines("customer_id,nps,推荐", ["C1,9,是", "C2,3,否"]), "gbk"), "survey",
         Ok(all_of(attr("encoding", "gbk"), values("推荐", ["是", "否"])))),
    Case("gb18030-emoji-comments", "encoding",
         text(lines("customer_id,nps,comment", ["C1,9,服务很好😀", "C2,3,太慢了😞"]), "gb18030"), "survey",
         Ok(all_of(attr("encoding", "gb18030"), values("comment", ["服务很好😀", "太慢了😞"])))),
    Case("cp1252-euro-and-quotes", "encoding",
         text(lines("customer_id,nps,comment", ["C1,9,“Prix: 29 €” – très correct", "C2,4,Zu teuer…"]), "cp1252"),
         "survey", Ok(values("comment", ["“Prix: 29 €” – très correct", "Zu teuer…"]))),
    Case("cp1252-french-header", "encoding", text(lines("client,note,réponse", ["C1,9,élevé"]), "cp1252"), "survey",
         Ok(all_of(columns(["customer_id", "nps", "réponse"]), values("réponse", ["élevé"]))),
         {"columns": {"client": "customer_id", "note": "nps"}}),
    Case("gbk-chinese", "encoding", text(lines("customer_id,nps,comment", quoted(CHINESE)), "gbk"), "survey",
         Ok(all_of(attr("encoding", "gbk"), values("comment", [r.split(",", 2)[2] for r in CHINESE])))),
    Case("gb18030-chinese", "encoding",
         text(lines("customer_id,nps,comment", [*quoted(CHINESE), "C5,8,㐀字也能读😀"]), "gb18030"), "survey",
         Ok(all_of(attr("encoding", "gb18030"), values("comment", [*(r.split(",", 2)[2] for r in CHINESE),
                                                                  "㐀字也能读😀"])))),
    Case("gbk-chinese-header", "encoding", text(lines("客户编号,推荐值,评论", ["C1,9,很好", "C2,3,太慢"]), "gbk"), "survey",
         Ok(values("评论", ["很好", "太慢"])), {"columns": {"客户编号": "customer_id", "推荐值": "nps"}}),
    Case("utf8-chinese", "encoding", text(lines("customer_id,nps,comment", quoted(CHINESE))), "survey",
         Ok(attr("encoding", "utf-8"))),
    Case("cp1252-after-sample", "encoding",
         text(lines("customer_id,nps,comment", big_ascii_then(["C99999,3,Très déçu; café froid"])), "cp1252"),
         "survey", Ok(all_of(attr("encoding", "cp1252"), lambda df: assert_equal(df["comment"].iloc[-1],
                                                                                "Très déçu; café froid")))),
    Case("gbk-after-sample", "encoding",
         text(lines("customer_id,nps,comment", big_ascii_then(["C99999,3,服务太慢"])), "gbk"), "survey",
         Ok(all_of(attr("encoding", "gbk"), lambda df: assert_equal(df["comment"].iloc[-1], "服务太慢")))),
    Case("utf16-le-no-bom", "encoding", text(lines("customer_id,nps,comment", ["C1,9,好", "C2,3,slow"]), "utf-16-le"),
         "survey", Ok(all_of(attr("encoding", "utf-16-le"), values("nps", [9.0, 3.0]), values("comment", ["好", "slow"])))),
    Case("utf16-be-no-bom", "encoding", text(lines("customer_id,nps", ["C1,9", "C2,3"]), "utf-16-be"), "survey",
         Ok(all_of(attr("encoding", "utf-16-be"), values("nps", [9.0, 3.0])))),
    Case("utf16-le-no-bom-tabs", "encoding",
         text(lines("customer_id\tnps", ["C1\t9", "C2\t3"]), "utf-16-le", name="data.txt"), "survey",
         Ok(all_of(attr("sep", "\t"), values("customer_id", ["C1", "C2"])))),
    Case("utf16-with-bom", "encoding", text(lines("customer_id,nps", ["C1,9", "C2,3"]), "utf-16"), "survey",
         Ok(all_of(attr("encoding", "utf-16"), values("nps", [9.0, 3.0])))),
    Case("explicit-wrong-encoding", "encoding", text(lines("customer_id,nps,comment", quoted(FRENCH)), "cp1252"),
         "survey", Err("cannot decode the file as utf-8 (invalid continuation byte at byte 32)"), {"encoding": "utf-8"}),
    Case("explicit-encoding-wins", "encoding", text(lines("customer_id,nps,comment", ["C1,9,服务"]), "gbk"), "survey",
         Ok(values("comment", ["服务"])), {"encoding": "gb18030"}),

    # --- Excel: several sheets ------------------------------------------------------------------------------------------
    Case("two-sheets-no-choice", "sheets", xlsx({"Wave 1": SURVEY_XLSX, "Wave 2": WAVE_2}), "survey",
         Err("the workbook has 2 sheets with data ('Wave 1', 'Wave 2'); pass the sheet to read (sheet=…, --sheet "
             "NAME)")),
    Case("two-sheets-named", "sheets", xlsx({"Wave 1": SURVEY_XLSX, "Wave 2": WAVE_2}), "survey",
         Ok(all_of(lambda df: assert_equal(len(df), 30), attr("sheet", "Wave 2"))), {"sheet": "Wave 2"}),
    Case("two-sheets-by-position-text", "sheets", xlsx({"Wave 1": SURVEY_XLSX, "Wave 2": WAVE_2}), "survey",
         Ok(attr("sheet", "Wave 2")), {"sheet": "1"}),
    Case("data-and-empty-sheet", "sheets", xlsx({"Notes": [], "Survey": SURVEY_XLSX}), "survey",
         Ok(all_of(lambda df: assert_equal(len(df), 30), attr("sheet", "Survey")))),
    Case("data-and-hidden-sheet", "sheets", xlsx({"Survey": SURVEY_XLSX, "lookup": [["x"], [1]]}, hidden=("lookup",)),
         "survey", Ok(attr("sheet", "Survey"))),
    Case("no-such-sheet", "sheets", xlsx({"Wave 1": SURVEY_XLSX, "Wave 2": WAVE_2}), "survey",
         Err("no sheet named 'Wave 3' (sheets: Wave 1, Wave 2)"), {"sheet": "Wave 3"}),

    # --- Excel error cells ----------------------------------------------------------------------------------------------
    Case("xlsx-div0-in-nps", "excel-errors",
         xlsx({"s": [["customer_id", "nps"], ["C1", 9], ["C2", None], ["C3", 7]]}, errors={"s": {"B3": "#DIV/0!"}}),
         "survey", Err("column 'nps': Excel error value (a formula that failed) in a number column; fix the formula or "
                       "clear the cell: 1 row, e.g. row 3 (#DIV/0!)")),
    Case("xlsx-na-and-value-in-satisfaction", "excel-errors",
         xlsx({"s": [["customer_id", "satisfaction"], ["C1", None], ["C2", 5], ["C3", None]]},
              errors={"s": {"B2": "#N/A", "B4": "#VALUE!"}}), "survey",
         Err("column 'satisfaction': Excel error value (a formula that failed) in a number column; fix the formula or "
             "clear the cell: 2 rows, e.g. row 2 (#N/A), row 4 (#VALUE!)")),
    Case("xlsx-error-in-amount", "excel-errors",
         xlsx({"s": [["customer_id", "date", "amount"], ["C1", "2024-01-05", 10], ["C2", "2024-01-06", None]]},
              errors={"s": {"C3": "#VALUE!"}}), "transactions",
         Err("column 'amount': Excel error value (a formula that failed) in a number column; fix the formula or clear "
             "the cell: 1 row, e.g. row 3 (#VALUE!)")),
    Case("xlsx-error-in-id", "excel-errors",
         xlsx({"s": [["customer_id", "nps"], ["C1", 9], [None, 3]]}, errors={"s": {"A3": "#REF!"}}), "survey",
         Err("column 'customer_id': Excel error value (a formula that failed) in a number column; fix the formula or "
             "clear the cell: 1 row, e.g. row 3 (#REF!)")),
    Case("xlsx-error-in-date", "excel-errors",
         xlsx({"s": [["customer_id", "date"], ["C1", pd.Timestamp("2024-01-05")], ["C2", None]]},
              errors={"s": {"B3": "#N/A"}}), "survey",
         Err("column 'date': Excel error value (a formula that failed) in a number column; fix the formula or clear "
             "the cell: 1 row, e.g. row 3 (#N/A)")),
    Case("xlsx-error-in-text-is-missing", "excel-errors",
         xlsx({"s": [["customer_id", "nps", "comment"], ["C1", 9, "fine"], ["C2", 3, None]]},
              errors={"s": {"C3": "#N/A"}}), "survey", Ok(values("comment", ["fine", None]))),

    # --- a 1–7 column passed as NPS -------------------------------------------------------------------------------------
    Case("likert-as-nps", "likert-as-nps", text(lines("customer_id,nps", likert_rows(40))), "survey",
         Err("column 'nps': every one of the 40 scores is between 1 and 7 (no 0, 8, 9 or 10): this looks like a 1–7 "
             "scale, not the 0–10 recommend question; map the 0–10 column onto nps")),
    Case("likert-mapped-as-nps", "likert-as-nps", text(lines("customer_id,likelihood", likert_rows(30))), "survey",
         Err("column 'likelihood': every one of the 30 scores is between 1 and 7 (no 0, 8, 9 or 10): this looks like "
             "a 1–7 scale, not the 0–10 recommend question; map the 0–10 column onto nps"),
         {"columns": {"likelihood": "nps"}}),
    Case("likert-few-answers-pass", "likert-as-nps", text(lines("customer_id,nps", likert_rows(29))), "survey",
         Ok(lambda df: assert_equal(len(df), 29))),
    Case("nps-with-one-eight-passes", "likert-as-nps", text(lines("customer_id,nps", likert_rows(40, "8"))), "survey",
         Ok(lambda df: assert_equal(float(df["nps"].max()), 8.0))),
    Case("nps-with-one-zero-passes", "likert-as-nps", text(lines("customer_id,nps", likert_rows(40, "0"))), "survey",
         Ok(lambda df: assert_equal(float(df["nps"].min()), 0.0))),

    # --- privacy: rows, never ids or comment text -----------------------------------------------------------------------
    Case("duplicated-customer-id-hidden", "privacy",
         text(lines("customer_id,segment", ["ALICE-0001,Basic", "BOB-0002,Premium", "ALICE-0001,Basic"])), "customers",
         Err("column 'customer_id': duplicated value (must be unique): 2 rows, e.g. row 2 (id not shown), row 4 (id "
             "not shown)")),
    Case("duplicated-response-id-hidden", "privacy",
         text(lines("response_id,customer_id,nps", ["R-77,C1,9", "R-77,C2,3"])), "survey",
         Err("column 'response_id': duplicated value (must be unique): 2 rows, e.g. row 2 (id not shown), row 3 (id "
             "not shown)")),
    Case("duplicated-mapped-id-hidden", "privacy", text(lines("kunde,nps", ["K-1,9", "K-1,3"])), "customers",
         Err("column 'kunde': duplicated value (must be unique): 2 rows, e.g. row 2 (id not shown), row 3 (id not "
             "shown)"), {"columns": {"kunde": "customer_id"}}),
    Case("nested-comment-hidden", "privacy",
         parquet(lambda: pd.DataFrame({"customer_id": ["C1", "C2"], "comment": [["call me", "555-0100"], None]})),
         "survey", Err("column 'comment': nested values (lists/structs) are not supported; flatten the column to one "
                       "value per cell: 1 row, e.g. row 2 (text not shown)")),
    Case("nested-id-hidden", "privacy",
         parquet(lambda: pd.DataFrame({"customer_id": [["C1", "C9"], ["C2"]], "nps": [9, 3]})), "survey",
         Err("column 'customer_id': nested values (lists/structs) are not supported; flatten the column to one value "
             "per cell: 2 rows, e.g. row 2 (id not shown), row 3 (id not shown)")),
    Case("missing-customer-id-shows-empty", "privacy", text(lines("customer_id,segment", ["C1,Basic", ",Premium"])),
         "customers", Err("column 'customer_id': missing value (every row needs an id): 1 row, e.g. row 3 (empty)")),

    # --- the malformed inputs io already refused: messages exact ---------------------------------------------------------
    Case("nps-11", "malformed", text(lines("customer_id,nps", ["C1,9", "C2,11"])), "survey",
         Err("column 'nps': must be between 0 and 10: 1 row, e.g. row 3 (11)")),
    Case("nps-7.5", "malformed", text(lines("customer_id,nps", ["C1,7.5"])), "survey",
         Err("column 'nps': must be a whole number: 1 row, e.g. row 2 (7.5)")),
    Case("nps-ten", "malformed", text(lines("customer_id,nps", ["C1,ten"])), "survey",
         Err("column 'nps': not a number: 1 row, e.g. row 2 ('ten')")),
    Case("likert-0", "malformed", text(lines("customer_id,satisfaction", ["C1,0"])), "survey",
         Err("column 'satisfaction': must be between 1 and 7: 1 row, e.g. row 2 (0)")),
    Case("blank-response-id", "malformed", text(lines("response_id,customer_id,nps", ["R1,C1,9", ",C2,3"])), "survey",
         Err("column 'response_id': missing value (every row needs an id): 1 row, e.g. row 3 (empty)")),
    Case("missing-required-column", "malformed", text(lines("response_id,CustID,nps", ["R1,C1,9"])), "survey",
         Err("column 'customer_id': required column is missing; did you mean 'CustID'? (map it: columns={'CustID': "
             "'customer_id'} or --map CustID=customer_id); available columns: response_id, CustID, nps")),
    Case("importance-not-100", "malformed",
         text(lines("customer_id,importance_tangibles,importance_reliability", ["C1,50,50", "C2,40,50"])), "survey",
         Err("column 'importance_*': importance points must sum to 100 (±1): 1 row, e.g. row 3 (90)")),
    Case("unparseable-date", "malformed", text(lines("customer_id,date", ["C1,2024-13-45"])), "survey",
         Err("column 'date': not a date (expected YYYY-MM-DD): 1 row, e.g. row 2 ('2024-13-45')")),
    Case("ambiguous-date", "malformed", text(lines("customer_id,date", ["C1,05/03/2024"])), "survey",
         Err("column 'date': not a date (expected YYYY-MM-DD): 1 row, e.g. row 2 ('05/03/2024')")),
    Case("negative-tenure", "malformed", text(lines("customer_id,tenure_days", ["C1,-5"])), "customers",
         Err("column 'tenure_days': must not be negative: 1 row, e.g. row 2 (-5)")),
    Case("churned-maybe", "malformed", text(lines("customer_id,churned", ["C1,maybe"])), "customers",
         Err("column 'churned': not a yes/no value (expected 1/0, yes/no, true/false, 是/否): 1 row, e.g. row 2 "
             "('maybe')")),
    Case("churn-date-not-churned", "malformed", text(lines("customer_id,churned,churn_date", ["C1,0,2024-05-01"])),
         "customers", Err("column 'churn_date': churn_date is set but churned is 0: 1 row, e.g. row 2 (2024-05-01)")),
    Case("churn-before-signup", "malformed",
         text(lines("customer_id,signup_date,churned,churn_date", ["C1,2024-02-01,1,2023-06-01"])), "customers",
         Err("column 'churn_date': churn_date is before signup_date: 1 row, e.g. row 2 (2023-06-01)")),
    Case("text-in-amount", "malformed", text(lines("customer_id,date,amount", ["C1,2024-01-31,12 EUR"])),
         "transactions", Err("column 'amount': not a number: 1 row, e.g. row 2 ('12 EUR')")),
    Case("map-to-unknown-canonical", "malformed", text(lines("customer_id,tenure", ["C1,10"])), "customers",
         Err("column 'tenure': cannot map onto 'tenure_months': not a column of the customers table (did you mean "
             "'tenure_days'?); customers columns: customer_id, signup_date, segment, channel, region, monthly_revenue, "
             "acquisition_cost, provider_proactive, customer_proactive, churned, churn_date, tenure_days"),
         {"columns": {"tenure": "tenure_months"}}),
    Case("duplicated-header", "malformed", text(lines("customer_id,nps,date,nps", ["C1,9,2024-01-01,8"])), "survey",
         Err("column 'nps': duplicated column name (columns B and D); rename or remove one")),
    Case("header-only", "malformed", text("customer_id,nps\n"), "survey", Err("no data rows (the file has only a header)")),
    Case("empty-file", "malformed", text(b""), "survey", Err("file is empty")),
    Case("unknown-extension", "malformed", text('{"nps": 9}', name="data.json"), "survey",
         Err("unknown file type '.json'; expected one of .csv, .tsv, .txt, .xlsx, .xlsm, .parquet, .pq")),
    Case("old-excel", "malformed", text(b"\xd0\xcf\x11\xe0", name="data.xls"), "survey",
         Err("old Excel .xls files are not supported; save it as .xlsx or CSV")),
    Case("not-an-xlsx", "malformed", text("customer_id,nps\nC1,9\n", name="data.xlsx"), "survey",
         Err("cannot read as an Excel workbook (BadZipFile)")),
    Case("zip-without-workbook", "malformed", raw(_zip_without_workbook, "data.xlsx"), "survey",
         Err("cannot read as an Excel workbook (KeyError)")),
    Case("truncated-xlsx", "malformed", raw(lambda: _xlsx_bytes()[:400], "data.xlsx"), "survey",
         Err("cannot read as an Excel workbook (BadZipFile)")),
    Case("not-a-parquet", "malformed", text("customer_id,nps\nC1,9\n", name="data.parquet"), "survey",
         Err("cannot read as a Parquet file (ArrowInvalid)")),
    Case("truncated-parquet", "malformed", raw(lambda: _parquet_bytes()[:300], "data.parquet"), "survey",
         Err("cannot read as a Parquet file (ArrowInvalid)")),
    Case("undecodable-bytes", "malformed", text(b"customer_id,nps\nC1,\x80\x81\n"), "survey",
         Err("cannot detect the text encoding (not UTF-8, UTF-16, GBK/GB18030 or Windows-1252); pass the encoding "
             "explicitly (--encoding)")),
    Case("unclosed-quote", "malformed", text(b'customer_id,nps,comment\nC1,9,fine\nC2,3,"slow\nC3,7,ok\n'), "survey",
         Err('unclosed quote: the quoted value starting in row 3 never ends (a " without its closing ")')),
    Case("blank-lines-only", "malformed", text("\n\n  \n"), "survey", Err("file is empty")),
    Case("nested-nps", "malformed",
         parquet(lambda: pd.DataFrame({"customer_id": ["C1", "C2"], "nps": [[9, 8], [3]]})), "survey",
         Err("column 'nps': nested values (lists/structs) are not supported; flatten the column to one value per cell: "
             "2 rows, e.g. row 2 ([9, 8]), row 3 ([3])")),
]


def assert_equal(got, expected) -> None:
    assert got == expected, (got, expected)


def _tomorrow() -> str:
    return f"{pd.Timestamp.today().normalize() + pd.Timedelta(days=1):%Y-%m-%d}"


def _read(case: Case, path: Path) -> pd.DataFrame:
    if case.table is None:
        return io.read_raw(path, **case.kwargs)
    return io.read_table(path, case.table, **case.kwargs)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input(tmp_path, case: Case):
    path = case.build(tmp_path)
    if isinstance(case.expect, Err):
        with pytest.raises(DataError) as info:
            _read(case, path)
        msg = str(info.value)
        expected = f"{display_path(path)}: " + case.expect.message.replace("{tomorrow}", _tomorrow())
        assert msg == expected
    else:
        case.expect.check(_read(case, path))


def test_cases_are_many_distinct_and_classified():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) >= 70
    assert {c.cls for c in CASES} == set(CLASSES)
    assert all(c.table in (None, *io.RULES) for c in CASES)


def test_cp1252_samples_also_decode_as_gbk():
    """The Western samples are the hard kind: their bytes are valid GBK too, so only plausibility decides."""
    for rows in (FRENCH, GERMAN):
        data = lines("customer_id,nps,comment", quoted(rows)).encode("cp1252")
        data.decode("gb18030")  # no error: without the plausibility check these would be read as Chinese
        assert not io._looks_chinese(data)
    assert io._looks_chinese(lines("customer_id,nps,comment", quoted(CHINESE)).encode("gbk"))


def test_error_messages_never_show_ids_or_comments(tmp_path):
    for case in CASES:
        if case.cls != "privacy" or not isinstance(case.expect, Err):
            continue
        msg = case.expect.message
        for secret in ("ALICE", "BOB", "R-77", "K-1", "call me", "555-0100", "C1", "C9"):
            assert secret not in msg, (case.id, secret)


def tally() -> dict[str, Counter]:
    """{class: Counter(error=…, read_right=…)} over the cases."""
    out: dict[str, Counter] = {name: Counter() for name in CLASSES}
    for case in CASES:
        out[case.cls]["clear error" if isinstance(case.expect, Err) else "read right"] += 1
    return out


if __name__ == "__main__":  # python tests/test_bad_inputs.py: the tally for the notes
    totals: Counter = Counter()
    for name, counts in tally().items():
        totals.update(counts)
        print(f"{name:20s} clear error {counts['clear error']:3d}   read right {counts['read right']:3d}")
    print(f"{'all':20s} clear error {totals['clear error']:3d}   read right {totals['read right']:3d}   "
          f"cases {sum(totals.values())}")
