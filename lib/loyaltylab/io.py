"""Read CSV / Excel / Parquet files, map their columns onto the canonical tables, coerce and validate them.

Every problem with the input becomes one :class:`~loyaltylab.errors.DataError` whose one-line message names the
file, the column, the rule and the first offending rows (spreadsheet numbering: the header is row 1), e.g.::

    survey.csv: column 'nps': must be between 0 and 10: 2 rows, e.g. row 3 (11), row 9 (-1)

Reading (:func:`read_raw`)
    * CSV / TSV / TXT: the encoding is detected among UTF-8, UTF-8 with BOM, UTF-16 (with a BOM — Excel's "Unicode
      text" — or without one, recognised by its NUL bytes), GBK / GB18030 and Windows-1252. GB and Windows-1252
      decode the same bytes, so plausibility decides (:func:`_looks_chinese`): Chinese characters are pairs of
      high bytes, accented Latin letters single high bytes between ASCII letters. When the first 64 KiB were plain
      ASCII and a later byte does not decode, the whole file decides. The delimiter is detected among ``,`` ``;``
      and tab. pandas' C parser does the reading, with our header names.
    * Speed: a UTF-8 CSV or a Parquet file is first read by :mod:`loyaltylab.io_arrow` — pyarrow's reader and the
      checks below on Arrow arrays, once per distinct value — which returns exactly this module's frame, or declines
      at the first thing out of the ordinary (a cell starting with a space, a number pandas and Arrow read
      differently, any rule broken) so that the pandas path here reads the file and words the error. A million
      survey rows take a few seconds (benchmarks/bench_io.py: ≤ 1.5× pyarrow's CSV reader, ≤ 2× pd.read_parquet).
    * A trailing delimiter (an empty last field on every or some rows) is dropped, never read as an index that
      shifts every column; a row with a non-empty value beyond the header is an error naming the rows.
    * Id columns (:data:`ID_COLUMNS`, and in :func:`read_table` the columns mapped onto them) are text exactly as
      in the file: ``00039``, ``1E1`` and 18-digit ids are read as text before any type inference (CSV), text cells
      stay text and whole numbers print without ``.0`` (Excel), integers become their digits (Parquet). Ids stored
      as numbers that have already lost digits (over 15 digits in Excel, over 2**53 as a float) are refused.
    * Excel ``.xlsx`` / ``.xlsm`` (openpyxl): the only visible sheet with data, or ``sheet``; a workbook with several
      sheets holding data and no ``sheet`` is refused, listing them. Error cells (``#DIV/0!``, ``#N/A``,
      ``#VALUE!`` …), which pandas reads as missing, are refused in number, date and id columns (in text columns
      they stay missing). TRUE/FALSE cells among numbers are refused in number columns by :func:`validate_frame`.
    * Header names are cleaned (:func:`_clean_name`: Unicode NFKC, so full-width ``ｎｐｓ`` is ``nps``; BOM,
      zero-width and other invisible characters removed; whitespace collapsed and stripped); a blank header is
      named ``column_C`` after its spreadsheet letter (dropped when the column is empty too). Cells that are blank
      or one of :data:`MISSING_TOKENS` (``NA``, ``N/A``, ``null``, ``-`` …) become missing. Nothing else is
      changed.
    * A totals row (an id, or the first column, reading Total / 合计 / 总计 / Sum …; or a row with no id whose
      numbers are each the sum of the other rows) is refused with the row named — never dropped silently, so what
      is analysed is always what the file says.
    * Blank rows (before the header, between or after the data) are dropped, but every row keeps its place: the
      index is always the spreadsheet row minus 2, so messages name the row the user sees in Excel or an editor.
    * A file that cannot be read at all (damaged workbook or Parquet file, unclosed quote, …) is a DataError too;
      no other exception type leaves :func:`read_raw` for a bad file.

Validation (:func:`validate_frame`, :func:`read_table`)
    Header names that are a canonical name up to case and width (``NPS``, ``Customer_ID``) are matched onto it
    (:func:`match_canonical`). Canonical columns that are present are coerced (ids → text, so 1001 and 1001.0
    join; numbers → float64; flags → Int8 0/1 with <NA>; dates → datetime64[ns]; text stripped) and checked
    against :data:`RULES`; other columns pass through untouched. Type problems are found by the ``coerce_*``
    helpers, range / uniqueness / snapshot / cross-column rules by a pandera schema run lazily, whose first failure
    (in the file's column order) is reported. Messages name the column as it is called in the file (``tenure``,
    not ``tenure_days``, when the user mapped it). String work is done once per distinct value, never per row in
    Python. Messages show row numbers only for ids (``row 3 (id not shown)``) and comments: never a customer id or
    what a customer wrote.

Decisions worth knowing
    * Numbers: ``"1,234"`` and ``"1,234.5"`` (comma thousands separators in groups of three) are accepted;
      a decimal comma (``"1,5"``), currency signs and units are "not a number" — fix the export instead of guessing.
      true/false (a Parquet or Excel boolean) in a number column is refused: a yes/no column is not a score.
    * Dates: ISO ``2024-03-05`` (time allowed), ``2024/03/05``, ``2024.03.05``, ``2024年3月5日``, ``20240305``,
      real Excel dates, and Excel serial numbers between 20000 and 80000 (1954–2119). Day-first or month-first
      forms such as ``05/03/2024`` are ambiguous and rejected. A date more than a day after today is refused
      ("date in the future"; a year typed 2099 made a 301-quarter trend), and with ``snapshot_date`` any date after
      the snapshot.
    * NPS: a column whose every score is between 1 and 7 (not one 0, 8, 9 or 10) in 30 or more answers is a 1–7
      agreement scale mapped as NPS, and refused. A real 0–10 recommend question essentially always has some 8–10
      answers (promoters and passives); below 30 answers the rule stays silent.
    * Nested Parquet values (lists, structs, maps) in a canonical column are an error; in other columns they pass.
    * transactions.amount may be negative (refunds); customers.churn_date set while churned is 0 is an error;
      churned 1 with an empty churn_date is allowed (date unknown). A header-only file is an error (no data rows).
    * Rows filtered with :func:`apply_filters` keep their original index, so later errors still give file rows.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io as _io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from loyaltylab import outputs  # imports only paths and errors: no cycle
from loyaltylab.constants import EXPECTATION_ITEMS, IMPORTANCE_COLUMNS, PERCEPTION_ITEMS, TABLE_COLUMNS
from loyaltylab.errors import MAX_EXAMPLES, DataError, spreadsheet_row
from loyaltylab.paths import TABLES, display_path

__all__ = [
    "ID_COLUMNS", "MISSING_TOKENS", "REQUIRED", "RULES", "TOTAL_WORDS", "DataError", "add_arguments", "apply_filters",
    "check_nps_scale", "coerce_date", "coerce_flag", "coerce_numeric", "map_columns", "match_canonical", "parse_map",
    "parse_snapshot", "range_rule", "read_raw", "read_table", "require_columns", "run", "summarize", "validate_frame",
]

# Cells that mean "no value" (after stripping whitespace). Deliberately short: "None", "0" or "?" are data.
MISSING_TOKENS = ("", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "-", "#N/A")

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
EXCEL_EXTENSIONS = (".xlsx", ".xlsm")
PARQUET_EXTENSIONS = (".parquet", ".pq")
SUPPORTED = ", ".join((*TEXT_EXTENSIONS, *EXCEL_EXTENSIONS, *PARQUET_EXTENSIONS))
DELIMITERS = (",", ";", "\t")
SAMPLE_BYTES = 1 << 16
ENCODING_LABELS = {
    "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "gbk": "GBK", "gb18030": "GB18030", "utf-16": "UTF-16",
    "utf-16-le": "UTF-16 LE (no BOM)", "utf-16-be": "UTF-16 BE (no BOM)", "cp1252": "Windows-1252",
}
# Columns read as text exactly as in the file (00039 stays 00039), matched ignoring case and width.
ID_COLUMNS = ("customer_id", "response_id")
DELIMITER_LABELS = {",": "comma ','", ";": "semicolon ';'", "\t": "tab", "|": "pipe '|'"}

# Flag words (compared after strip + casefold).
FLAG_WORDS = {
    "1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "yes": 1, "no": 0, "y": 1, "n": 0, "是": 1, "否": 0,
}
# Excel serial day numbers accepted as dates (1954-10-04 … 2119-01-10): wider ranges are more likely not dates.
EXCEL_SERIAL_RANGE = (20000, 80000)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
DATE_RULE = "not a date (expected YYYY-MM-DD)"
NESTED_RULE = "nested values (lists/structs) are not supported; flatten the column to one value per cell"
EXCEL_HEADER_SEARCH_ROWS = 200  # blank rows above an Excel header are looked for here first


# --------------------------------------------------------------------------------------------------------------------
# Table rules
# --------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """What a canonical column must hold. ``kind``: key (unique, never missing id), id, text, date, number, flag."""

    kind: str
    min: float | None = None
    max: float | None = None
    integer: bool = False


KEY, ID, TEXT, DATE, FLAG = Rule("key"), Rule("id"), Rule("text"), Rule("date"), Rule("flag")
NUMBER = Rule("number")
NON_NEGATIVE = Rule("number", min=0)
LIKERT = Rule("number", 1, 7, integer=True)

RULES: dict[str, dict[str, Rule]] = {
    "customers": {
        "customer_id": KEY, "signup_date": DATE, "segment": TEXT, "channel": TEXT, "region": TEXT,
        "monthly_revenue": NON_NEGATIVE, "acquisition_cost": NON_NEGATIVE, "provider_proactive": NON_NEGATIVE,
        "customer_proactive": NON_NEGATIVE, "churned": FLAG, "churn_date": DATE, "tenure_days": NON_NEGATIVE,
    },
    "survey": {
        "response_id": KEY, "customer_id": ID, "date": DATE, "nps": Rule("number", 0, 10, integer=True),
        "satisfaction": LIKERT, "repurchase_intent": LIKERT,
        **{c: LIKERT for c in (*EXPECTATION_ITEMS, *PERCEPTION_ITEMS)},
        **{c: NON_NEGATIVE for c in IMPORTANCE_COLUMNS},
        "comment": TEXT, "language": TEXT,
    },
    "transactions": {"customer_id": ID, "date": DATE, "amount": NUMBER},  # negative amounts are refunds
    "incidents": {
        "customer_id": ID, "date": DATE, "failure_type": TEXT, "recovered": FLAG, "recovery_hours": NON_NEGATIVE,
        "recovery_satisfaction": LIKERT,
    },
}
# Columns a file must have (after mapping) unless ``required`` says otherwise.
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "survey": ("customer_id",),
    "transactions": ("customer_id", "date", "amount"),
    "incidents": ("customer_id", "date"),
}
IMPORTANCE_TOLERANCE = 1.0
IMPORTANCE_LABEL = "importance_*"


# --------------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------------
def read_raw(
    path, *, encoding: str | None = None, sep: str | None = None, sheet: str | int | None = None,
    id_columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV/TXT, Excel or Parquet file into a frame whose index is the file row minus 2.

    Row ``i`` of the frame is spreadsheet row ``i + 2`` (the header is row 1). Blank rows are dropped without
    renumbering, so the index has gaps where they were (and starts above 0 when blank rows precede the header);
    without blank rows it is a plain RangeIndex from 0. ``encoding`` and ``sep`` override detection for text files;
    ``sheet`` picks an Excel sheet (name or 0-based position; needed when several sheets hold data).
    ``id_columns`` (default :data:`ID_COLUMNS`, matched ignoring case and width) are read as text exactly as in the
    file. What was detected is kept in ``df.attrs["loyaltylab"]`` (source, format, encoding, sep, sheet). Any
    problem reading the file is a DataError.

    UTF-8 CSV and Parquet files are read by :mod:`loyaltylab.io_arrow` (pyarrow, same frame) unless anything in
    them is out of the ordinary; then, and for everything else, by the pandas path below, the reference.
    """
    p, source, suffix = _checked_path(path)
    ids = _id_keys(ID_COLUMNS if id_columns is None else id_columns)
    if suffix not in EXCEL_EXTENSIONS:
        from loyaltylab import io_arrow

        df = io_arrow.read_raw(p, source, suffix, encoding, sep, ids)
        if df is not None:
            return df
    return _read_raw(p, source, suffix, encoding, sep, sheet, ids)


def _checked_path(path) -> tuple[Path, str, str]:
    """The file, its display name and lower-case suffix; a missing, empty or unsupported file is a DataError."""
    p = Path(path).expanduser()
    source = display_path(p)
    if not p.exists():
        raise DataError(source, None, "file not found")
    if p.is_dir():
        raise DataError(source, None, "is a folder, not a file")
    suffix = p.suffix.lower()
    if suffix == ".xls":
        raise DataError(source, None, "old Excel .xls files are not supported; save it as .xlsx or CSV")
    if suffix not in (*TEXT_EXTENSIONS, *EXCEL_EXTENSIONS, *PARQUET_EXTENSIONS):
        raise DataError(source, None, f"unknown file type '{suffix or p.name}'; expected one of {SUPPORTED}")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DataError(source, None, f"cannot open the file ({exc.strerror or exc})") from None
    if size == 0:
        raise DataError(source, None, "file is empty")
    return p, source, suffix


def _read_raw(p: Path, source: str, suffix: str, encoding, sep, sheet, ids: frozenset[str]) -> pd.DataFrame:
    """:func:`read_raw` the pandas way: every format, every message."""
    info: dict = {"source": source, "path": str(p)}
    try:
        if suffix in TEXT_EXTENSIONS:
            df, names, blank, used_encoding, used_sep = _read_text(p, source, encoding, sep, ids)
            info.update(format="csv", encoding=used_encoding, sep=used_sep)
            df = _finish(df, names, blank, source, ids)
        elif suffix in EXCEL_EXTENSIONS:
            df, names, blank, sheet_name, (error_cells, bool_cells) = _read_excel(p, source, sheet, ids)
            info.update(format="excel", sheet=sheet_name)
            df = _finish(df, names, blank, source, ids, error_cells=error_cells, excel=True)
            # TRUE/FALSE cells that pandas turned into 1/0 among numbers: kept (first few, and how many) so that
            # validate_frame can refuse them in number columns. An all-TRUE/FALSE column is a bool column already.
            mixed = {names[pos]: cells for pos, cells in bool_cells.items() if pos < len(names)
                     and names[pos] in df.columns and ptypes.is_numeric_dtype(df[names[pos]])
                     and not ptypes.is_bool_dtype(df[names[pos]])}
            if mixed:
                info["excel_booleans"] = {name: {"cells": cells[:MAX_EXAMPLES], "n": len(cells)}
                                          for name, cells in mixed.items()}
        else:
            df = _read_parquet(p, source)
            names, blank = _header_names(list(df.columns), source)
            info.update(format="parquet")
            df = _finish(df, names, blank, source, ids)
    except DataError:
        raise
    except Exception as exc:  # a safety net: whatever a reader raises for a damaged file, the user gets one line
        raise DataError(source, None, f"cannot read the file ({_exception_line(exc)})") from None
    info["id_columns"] = [c for c in df.columns if _key(c) in ids]
    info["totals_checked"] = True
    df.attrs["loyaltylab"] = info
    return df


def _exception_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Blank lines before the header: they are skipped, but counted, so row numbers stay the file's.
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t]*(?:\r\n|\r|\n))*")
_EXTRA_FIELD = "\x00extra_field_{}"  # names for data fields beyond the header (never a real header name)


@dataclass
class _TextLayout:
    skip: int  # blank lines above the header
    sep: str
    header: list[str]
    max_width: int  # the most fields in a data row of the sample


def _text_layout(raw: bytes, complete: bool, enc: str, strict: bool, sep: str | None, suffix: str,
                 source: str) -> _TextLayout:
    try:
        text = codecs.getincrementaldecoder(enc)(errors="strict" if strict else "replace").decode(raw, complete)
    except UnicodeDecodeError as exc:
        raise DataError(source, None, f"cannot decode the file as {enc} ({exc.reason} at byte {exc.start})") from None
    except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM"
        raise DataError(source, None, f"cannot decode the file as {enc} ({exc})") from None
    if not text.strip():
        raise DataError(source, None, "file is empty")
    leading = _LEADING_BLANK_LINES.match(text).group(0)
    skip = len(re.findall(r"\r\n|\r|\n", leading))
    text = text[len(leading):]
    if sep is not None:
        sep = _normalise_sep(sep, source)
    else:
        sep = _detect_sep(text, complete, default="\t" if suffix == ".tsv" else ",")
    records = _sample_records(text, complete, sep, limit=SAMPLE_BYTES)  # every record of the sample
    try:
        header = next(csv.reader(_io.StringIO(text), delimiter=sep, skipinitialspace=True), None)
    except csv.Error as exc:
        raise DataError(source, None, f"cannot read the header row ({exc})") from None
    if not header:
        raise DataError(source, None, "file is empty")
    max_width = max((len(r) for r in records[1:]), default=len(header))
    return _TextLayout(skip, sep, header, max_width)


def _read_text(p: Path, source: str, encoding: str | None, sep: str | None, ids: frozenset[str]):
    try:
        with open(p, "rb") as fh:
            raw = fh.read(SAMPLE_BYTES)
    except OSError as exc:
        raise DataError(source, None, f"cannot open the file ({exc.strerror or exc})") from None
    complete = len(raw) < SAMPLE_BYTES
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(source, None, f"unknown encoding {encoding!r}") from None
        enc = encoding
    else:
        enc = _detect_encoding(raw, complete)
        if enc is None:
            raise DataError(source, None, "cannot detect the text encoding (not UTF-8, UTF-16, GBK/GB18030 or "
                            "Windows-1252); pass the encoding explicitly (--encoding)")
    tried: list[str] = []
    while True:
        tried.append(enc)
        layout = _text_layout(raw, complete, enc, bool(encoding), sep, p.suffix.lower(), source)
        try:
            df, names, blank = _parse_text(p, source, enc, layout, ids)
            return df, names, blank, enc, layout.sep
        except UnicodeError as exc:
            if not isinstance(exc, UnicodeDecodeError):  # e.g. "UTF-16 stream does not start with BOM"
                raise DataError(source, None, f"cannot decode the file as {enc} ({exc})") from None
            # The sample misled detection (the first 64 KiB were plain ASCII): decide on the whole file.
            better = None if encoding else _detect_encoding(p.read_bytes(), True)
            if better is None or better in tried:
                labels = " or ".join(ENCODING_LABELS.get(c, c) for c in tried)
                raise DataError(source, None, f"cannot decode the file as {labels} ({exc.reason} at byte "
                                f"{exc.start}); pass the encoding explicitly (--encoding)") from None
            enc = better


def _parse_text(p: Path, source: str, enc: str, layout: _TextLayout, ids: frozenset[str],
                n_extra: int | None = None):
    """pandas' C parser with the header names we computed; id columns as text; fields beyond the header (a
    trailing delimiter) read into extra columns, which must be empty and are dropped."""
    names, blank = _header_names(layout.header, source)
    if n_extra is None:
        n_extra = max(0, layout.max_width - len(names))
    extra = [_EXTRA_FIELD.format(i) for i in range(n_extra)]
    dtype = {n: str for n in names if _key(n) in ids}
    try:
        # header=0 + names: pandas parses (and discards) the header row and uses our names; index_col=False: a
        # trailing delimiter never turns the first column into the index; usecols (only with extra fields) lets
        # rows differ in width. Blank lines are kept (as empty rows, dropped later) so the index stays the file's
        # row numbering.
        df = pd.read_csv(
            p, sep=layout.sep, encoding=enc, engine="c", header=0, names=[*names, *extra], index_col=False,
            usecols=[*names, *extra] if extra else None, dtype=dtype or None, na_values=[*MISSING_TOKENS, " "],
            keep_default_na=False, skipinitialspace=True, low_memory=False, skip_blank_lines=False,
            skiprows=layout.skip,
        )
    except pd.errors.EmptyDataError:
        raise DataError(source, None, "file is empty") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", str(exc))
        if m and not extra and int(m.group(1)) > len(names):  # wider rows after the sample: read them as extra
            return _parse_text(p, source, enc, layout, ids, n_extra=int(m.group(1)) - len(names))
        raise DataError(source, None, _parser_message(str(exc), layout.sep, len(names))) from None
    except OSError as exc:
        raise DataError(source, None, f"cannot open the file ({exc.strerror or exc})") from None
    df.index = pd.RangeIndex(layout.skip, layout.skip + len(df))
    if extra:
        filled = df[extra].notna().any(axis=1).to_numpy()
        if filled.any():
            rows = df.index[filled]
            present = df[extra].notna().to_numpy()[filled]
            last = len(extra) - np.argmax(present[:, ::-1], axis=1)  # the last extra field with a value (1-based)
            shown = [_Shown(f"{len(names) + int(n)} fields") for n in last[:MAX_EXAMPLES]]
            label = DELIMITER_LABELS.get(layout.sep, repr(layout.sep))
            raise DataError(source, None, f"more fields than the header has names ({len(names)}); check the "
                            f"delimiter ({label}) and that values containing it are quoted",
                            [spreadsheet_row(i) for i in rows[:MAX_EXAMPLES]], shown, n_bad=int(filled.sum()))
        df = df.drop(columns=extra)  # a trailing delimiter on every row: an empty last field, dropped
    return df, names, blank


def _detect_encoding(raw: bytes, complete: bool) -> str | None:
    """BOMs; UTF-16 without a BOM (its NUL bytes); UTF-8; then GBK / GB18030 or Windows-1252, whichever reads as
    plausible text (:func:`_looks_chinese`)."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return utf16
    if _decodes(raw, "utf-8", complete):
        return "utf-8"
    gb = next((enc for enc in ("gbk", "gb18030") if _decodes(raw, enc, complete)), None)
    western = "cp1252" if _decodes(raw, "cp1252", complete) else None
    if gb and western:
        return gb if _looks_chinese(raw) else western
    return gb or western


def _decodes(raw: bytes, enc: str, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder(enc)().decode(raw, complete)
        return True
    except UnicodeDecodeError:
        return False


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text of mostly ASCII characters (delimiters, digits, newlines) has a NUL in every other byte."""
    arr = np.frombuffer(raw[: len(raw) - len(raw) % 2], dtype=np.uint8)
    if arr.size < 4:
        return None
    even, odd = (arr[0::2] == 0).mean(), (arr[1::2] == 0).mean()
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _looks_chinese(raw: bytes) -> bool:
    """GB-encoded Chinese or Windows-1252 European text? Both decode the same bytes without error.

    Chinese characters are two bytes ≥ 0x80 (GB18030 also has four-byte ones: high, digit, high, digit), so high
    bytes come in runs of even length (服务很好: one run of 8), and most pairs start with a byte of the GB2312
    symbols (0xA1–0xA9) or the 3,755 common characters (0xB0–0xD7). Accented Latin letters are one byte each
    between ASCII letters (café, Müller: runs of 1); the few pairs (Grüße, Déçu) are lower-case letters
    (0xDF–0xFF). Chinese when: most high bytes are paired, at most one run in five is odd, and at least half the
    pairs start like common Chinese. Vectorised over the sample; no Python loop per byte.
    """
    arr = np.frombuffer(raw, dtype=np.uint8)
    high = arr >= 0x80
    n_high = int(high.sum())
    if n_high == 0:
        return False
    digit = (arr >= 0x30) & (arr <= 0x39)
    four = np.zeros(arr.size, dtype=bool)  # GB18030 four-byte characters (emoji, rare characters)
    if arr.size >= 4:
        start = np.flatnonzero(high[:-3] & digit[1:-2] & high[2:-1] & digit[3:])
        four[start] = four[start + 2] = True
    high &= ~four
    edges = np.flatnonzero(np.diff(np.concatenate(([0], high.astype(np.int8), [0]))))
    starts, lengths = edges[0::2], edges[1::2] - edges[0::2]
    even = (lengths % 2 == 0)
    paired = int(lengths[even].sum()) + int(four.sum())
    odd_runs = int((~even).sum())
    runs = lengths.size + int(four.sum()) // 2
    if paired < 0.5 * n_high or odd_runs > 0.2 * max(runs, 1):
        return False
    if not even.any():
        return True  # only four-byte characters
    positions = np.flatnonzero(high)
    offset = positions - np.repeat(starts, lengths)
    leads = arr[positions[np.repeat(even, lengths) & (offset % 2 == 0)]]
    common = ((leads >= 0xB0) & (leads <= 0xD7)) | ((leads >= 0xA1) & (leads <= 0xA9))
    return bool(common.mean() >= 0.5)


def _normalise_sep(sep: str, source: str) -> str:
    aliases = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    sep = aliases.get(sep.lower(), sep) if isinstance(sep, str) else sep
    if not isinstance(sep, str) or len(sep) != 1 or sep in "\r\n\"":
        raise DataError(source, None, f"the delimiter must be one character (or 'tab'), got {sep!r}")
    return sep


def _sample_records(text: str, complete: bool, sep: str, limit: int = 50) -> list[list[str]]:
    records = []
    try:
        for record in csv.reader(_io.StringIO(text), delimiter=sep, skipinitialspace=True):
            if record:
                records.append(record)
            if len(records) > limit:
                break
    except csv.Error:
        pass
    if not complete and len(records) > 1 and len(records) <= limit:
        records = records[:-1]  # the sample may end inside the last record
    return records


def _detect_sep(text: str, complete: bool, default: str) -> str:
    """The delimiter giving the header the most fields, provided most data rows agree with the header (a row with
    one more, empty, field — a trailing delimiter — agrees)."""
    best, best_score = default, (0.0, 1)
    for sep in DELIMITERS:
        records = _sample_records(text, complete, sep)
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        body = records[1:]
        agree = sum(len(r) == width or (len(r) == width + 1 and not r[-1].strip()) for r in body)
        consistency = agree / len(body) if body else 1.0
        score = (round(consistency, 2), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _parser_message(message: str, sep: str, header_width: int | None = None) -> str:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    label = DELIMITER_LABELS.get(sep, repr(sep))
    if m:
        expected, line, saw = m.groups()
        return (f"row {line} has {saw} fields but the header has {header_width or expected} "
                f"(check the delimiter, {label}, and quotes)")
    m = re.search(r"EOF inside string starting at row (\d+)", message)
    if m:  # the tokenizer counts rows from 0, the header included
        return (f"unclosed quote: the quoted value starting in row {int(m.group(1)) + 1} never ends "
                "(a \" without its closing \")")
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return f"cannot parse the file as delimited text with delimiter {label} ({first})"


def _read_excel(p: Path, source: str, sheet, ids: frozenset[str]):
    try:
        book = pd.ExcelFile(p, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged or disguised file
        raise DataError(source, None, f"cannot read as an Excel workbook ({type(exc).__name__})") from None
    with book:
        names = book.sheet_names
        if sheet is None:
            sheet_name = _only_sheet_with_data(book, names, source)
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise DataError(source, None, f"no sheet number {sheet} (sheets: {', '.join(names)})")
            sheet_name = names[sheet]
        elif str(sheet) in names:
            sheet_name = str(sheet)
        elif str(sheet).strip().isdigit() and int(str(sheet)) < len(names):  # --sheet 1 from the command line
            sheet_name = names[int(str(sheet))]
        else:
            raise DataError(source, None, f"no sheet named {sheet!r} (sheets: {', '.join(names)})")
        try:
            # The header is the first row with a value; blank rows above it are counted so rows keep their numbers.
            skip = header = None
            for nrows in (EXCEL_HEADER_SEARCH_ROWS, None):
                top = book.parse(sheet_name, header=None, nrows=nrows)
                filled = top.notna().any(axis=1).to_numpy()
                if filled.any():
                    skip = int(filled.argmax())
                    header = ["" if pd.isna(v) else str(v) for v in top.iloc[skip].tolist()]
                    break
                if nrows is None or len(top) < nrows:
                    break
            if skip is None:
                raise DataError(source, None, f"sheet {sheet_name!r} is empty")
            # id columns as stored: text cells stay text (00039), numbers stay numbers (no text → number guessing)
            as_stored = {i: object for i, h in enumerate(header) if _key(h) in ids}
            df = book.parse(sheet_name, skiprows=skip, na_values=[*MISSING_TOKENS, " "], keep_default_na=False,
                            dtype=as_stored or None)
            typed_cells = _excel_typed_cells(book, sheet_name)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(source, None, f"cannot read sheet {sheet_name!r} ({_exception_line(exc)})") from None
    df.index = pd.RangeIndex(skip, skip + len(df))
    width = df.shape[1]
    header = (header + [""] * width)[:width] if len(header) <= width else [str(c) for c in df.columns]
    names, blank = _header_names(header, source)
    return df, names, blank, sheet_name, typed_cells


def _sheet_has_values(book: pd.ExcelFile, name: str) -> bool:
    """Whether a sheet holds at least one value: a look at the sheet's XML (no cells are parsed)."""
    try:
        ws = book.book[name]
        if not hasattr(ws, "_worksheet_path"):
            return False  # a chart sheet
        if getattr(ws, "sheet_state", "visible") != "visible":
            return False  # hidden sheets (lookup tables) are not what a user means to read
        with ws.parent._archive.open(ws._worksheet_path) as fh:
            while chunk := fh.read(1 << 20):
                if _EXCEL_VALUE.search(chunk):
                    return True
        return False
    except Exception:  # noqa: BLE001 - an unexpected workbook layout: count the sheet as holding data
        return True


_EXCEL_VALUE = re.compile(rb"<(?:\w+:)?(?:v|t)>[^<]")
_EXCEL_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\s[^>]*?\bt=[\"']e[\"'][^>]*>")
_EXCEL_BOOL_CELL = re.compile(rb"<(?:\w+:)?c\s[^>]*?\bt=[\"']b[\"'][^>]*>")
_EXCEL_CELL_REF = re.compile(rb"\br=[\"']([A-Z]+)(\d+)[\"']")
_EXCEL_CELL_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)<")
_EXCEL_CELL_END = re.compile(rb"</(?:\w+:)?c>")


def _only_sheet_with_data(book: pd.ExcelFile, names: list[str], source: str) -> str:
    if len(names) == 1:
        return names[0]
    with_data = [n for n in names if _sheet_has_values(book, n)]
    if len(with_data) > 1:
        listed = ", ".join(repr(n) for n in with_data)
        raise DataError(source, None, f"the workbook has {len(with_data)} sheets with data ({listed}); pass the "
                        f"sheet to read (sheet=…, --sheet NAME)")
    return with_data[0] if with_data else names[0]


def _excel_typed_cells(book: pd.ExcelFile, name: str) -> tuple[dict, dict]:
    """Cells pandas reads as something else: errors (#DIV/0!, #N/A, #VALUE!, …) become missing, TRUE/FALSE among
    numbers become 1/0. Found in the sheet's XML (cells typed ``t="e"`` / ``t="b"``), as
    {0-based column: [(sheet row, text), …]} for errors and for booleans."""
    try:
        ws = book.book[name]
        with ws.parent._archive.open(ws._worksheet_path) as fh:
            xml = fh.read()
    except Exception:  # noqa: BLE001 - not an openpyxl read-only sheet: nothing to add
        return {}, {}
    errors = _excel_cells_of_type(xml, b"e") if b'"e"' in xml or b"'e'" in xml else {}
    booleans = _excel_cells_of_type(xml, b"b") if b'"b"' in xml or b"'b'" in xml else {}
    for cells in booleans.values():
        cells[:] = [(row, "TRUE" if text.strip() == "1" else "FALSE") for row, text in cells]
    return errors, booleans


def _excel_cells_of_type(xml: bytes, kind: bytes) -> dict[int, list[tuple[int, str]]]:
    pattern = _EXCEL_ERROR_CELL if kind == b"e" else _EXCEL_BOOL_CELL
    found: dict[int, list[tuple[int, str]]] = {}
    for m in pattern.finditer(xml):  # one step per such cell, not per row
        ref = _EXCEL_CELL_REF.search(m.group(0))
        if not ref:
            continue
        close = _EXCEL_CELL_END.search(xml, m.end())
        value = None if m.group(0).endswith(b"/>") else _EXCEL_CELL_VALUE.search(
            xml, m.end(), close.start() if close else len(xml))
        text = value.group(1).decode("utf-8", "replace") if value else ("#ERROR" if kind == b"e" else "")
        col = _column_index(ref.group(1).decode())
        found.setdefault(col, []).append((int(ref.group(2)), text))
    return found


def _read_parquet(p: Path, source: str) -> pd.DataFrame:
    try:
        df = pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, …
        raise DataError(source, None, f"cannot read as a Parquet file ({type(exc).__name__})") from None
    if not isinstance(df.index, pd.RangeIndex) or any(n is not None for n in df.index.names):
        df = df.reset_index()  # a saved index (e.g. customer_id) is data, keep it as columns
    elif df.index.start != 0 or df.index.step != 1:
        df = df.reset_index(drop=True)  # a saved slice: rows are numbered from the file's first row
    return df


def _column_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _clean_name(name) -> str:
    """A header name as a person reads it: Unicode NFKC (full-width ｎｐｓ → nps), invisible characters removed
    (BOM, zero-width space, direction marks, soft hyphen, control characters), runs of whitespace (also no-break
    and ideographic spaces) made one space, and the ends stripped."""
    text = unicodedata.normalize("NFKC", str(name))
    if not text.isascii() or not text.isprintable():
        text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    return " ".join(text.split())


_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Cn"})


def _key(name) -> str:
    """The name compared when matching header names to canonical / id names: cleaned and case-folded."""
    return _clean_name(name).casefold()


def _id_keys(names: Iterable[str]) -> frozenset[str]:
    return frozenset(_key(n) for n in names)


def _header_names(header: Sequence, source: str) -> tuple[list[str], set[str]]:
    """Cleaned header names (:func:`_clean_name`); a blank name becomes ``column_C`` (its spreadsheet letter).
    Two columns with the same cleaned name are a DataError. Returns the names and the set of generated ones."""
    cleaned = [_clean_name(h) for h in header]
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(cleaned):
        if name:
            seen.setdefault(name, []).append(i)
    for name, where in seen.items():
        if len(where) > 1:
            cols = " and ".join(_column_letter(i) for i in where)
            raise DataError(source, name, f"duplicated column name (columns {cols}); rename or remove one")
    names, blank = [], set()
    for i, name in enumerate(cleaned):
        if not name:
            name = f"column_{_column_letter(i)}"
            while name in seen:
                name += "_"
            seen[name] = [i]
            blank.add(name)
        names.append(name)
    return names, blank


def _finish(df: pd.DataFrame, names: list[str], blank: set[str], source: str, ids: frozenset[str], *,
            error_cells: Mapping[int, list] | None = None, excel: bool = False) -> pd.DataFrame:
    """Name the columns, drop empty columns without a header, blank tokens → missing, refuse Excel error cells in
    number and id columns, ids → text, drop blank rows (keeping the index: row ``i`` stays file row ``i + 2``),
    refuse totals rows. Columns read by :mod:`loyaltylab.io_arrow` (not a frame) are finished there, the same
    steps on Arrow arrays."""
    if not isinstance(df, pd.DataFrame):
        from loyaltylab import io_arrow

        return io_arrow.finish(df, source, ids)
    df.columns = names
    if error_cells:
        _refuse_excel_errors(df, error_cells, source, ids)
    empty = [c for c in names if c in blank and df[c].isna().all()]
    if empty:
        df = df.drop(columns=empty)  # trailing delimiters / empty spreadsheet columns
    if df.shape[1] == 0:
        raise DataError(source, None, "file is empty")
    nested = set()
    for col in df.select_dtypes(include="object").columns:
        if _nested_mask(df[col]) is not None:
            nested.add(col)
            continue  # lists / structs (Parquet): left as they are; validate_frame refuses them in canonical columns
        blank_cells = _blank(df[col])
        if (blank_cells & df[col].notna()).any():
            df[col] = df[col].mask(blank_cells)
    for col in df.columns:
        if _key(col) in ids and col not in nested and not ptypes.is_string_dtype(df[col]):
            df[col] = _raw_ids(df[col], col, source, excel=excel)
    empty_rows = df.isna().all(axis=1).to_numpy()
    if empty_rows.any():
        df = df.loc[~empty_rows]  # blank lines / rows: dropped, but the others keep their row numbers
    if len(df) == 0:
        raise DataError(source, None, "no data rows (the file has only a header)")
    _refuse_totals_rows(df, [c for c in df.columns if _key(c) in ids and c not in nested], source, nested=nested)
    return df


def _refuse_excel_errors(df: pd.DataFrame, error_cells: Mapping[int, list], source: str, ids: frozenset[str]):
    """pandas reads #DIV/0!, #N/A, #VALUE! … as missing. In a number, date or id column that hides a broken
    formula, so it is refused; in a text column the cell stays missing."""
    for pos in sorted(error_cells):
        if pos >= df.shape[1]:
            continue
        col = df.columns[pos]
        s = df[col]
        cells = [(r, v) for r, v in error_cells[pos] if (r - 2) in df.index]
        if not cells:
            continue
        typed = ptypes.is_numeric_dtype(s) or ptypes.is_datetime64_any_dtype(s) or ptypes.is_bool_dtype(s)
        if typed or s.isna().all() or _key(col) in ids:
            rows = sorted(r for r, _ in cells)
            values = dict(cells)
            raise DataError(source, col, "Excel error value (a formula that failed) in a number column; fix the "
                            "formula or clear the cell", rows[:MAX_EXAMPLES],
                            [_Shown(values[r]) for r in rows[:MAX_EXAMPLES]], n_bad=len(rows))


def _raw_ids(s: pd.Series, label: str, source, *, excel: bool = False) -> pd.Series:
    """An id column read from Excel or Parquet as text: whole numbers without ".0". A number with more than 15
    significant digits in Excel (or beyond 2**53 as a float) has already lost digits: refused."""
    limit = 1e15 if excel else 2.0 ** 53
    lossy = None
    if ptypes.is_numeric_dtype(s) and not ptypes.is_bool_dtype(s):
        if excel or not ptypes.is_integer_dtype(s):
            lossy = np.abs(s.to_numpy(dtype="float64", na_value=np.nan)) >= limit
    elif s.dtype == object and ptypes.infer_dtype(s, skipna=True) not in ("string", "empty"):
        codes, uniques = _factorize(s)  # numbers among text ids (Excel): checked once per distinct value
        kinds = (float, np.floating, int, np.integer) if excel else (float, np.floating)
        big = np.fromiter((isinstance(v, kinds) and not isinstance(v, bool) for v in uniques), dtype=bool,
                          count=len(uniques))
        if big.any():
            big &= np.abs(pd.to_numeric(uniques.where(big), errors="coerce").to_numpy(dtype="float64")) >= limit
            lossy = _expand(big, codes, False).astype(bool)
    if lossy is not None and lossy.any():
        where = "Excel keeps 15 digits" if excel else "a floating-point column keeps 15–16 digits"
        n_bad = int(lossy.sum())
        raise DataError(source, label, f"ids stored as numbers with too many digits ({where}, so digits are lost); "
                        "store the id column as text", [spreadsheet_row(i) for i in s.index[lossy][:MAX_EXAMPLES]],
                        [HIDDEN_ID] * min(n_bad, MAX_EXAMPLES), n_bad=n_bad)
    return _to_id(s)


TOTAL_WORDS = frozenset({
    "total", "totals", "grand total", "subtotal", "sub-total", "sum", "sums", "summe", "gesamt", "totaal",
    "合计", "总计", "小计", "总和", "合計", "總計", "小計",
})
"""Labels of a summary row (compared cleaned, case-folded, without a trailing colon)."""


_TOTAL_SPELLINGS = frozenset(
    v for w in TOTAL_WORDS for base in {w, w.upper(), w.title(), w.capitalize()} for v in (base, base + ":", base + "：")
)
TOTAL_EDGE_ROWS = 5  # the first and last rows are also compared ignoring width, case and spacing


def _is_total_word(value) -> bool:
    return isinstance(value, str) and _key(value).rstrip(":：").strip() in TOTAL_WORDS


def _total_word_mask(s: pd.Series) -> np.ndarray | None:
    """Rows whose cell is a totals label: common spellings anywhere (one hash lookup per row), any spelling in the
    first and last rows, where a summary row sits."""
    if not _is_textlike(s) or len(s) == 0:
        return None
    hit = s.isin(_TOTAL_SPELLINGS).to_numpy().copy()
    n = len(s)
    edge = np.unique(np.r_[0:min(n, TOTAL_EDGE_ROWS), max(n - TOTAL_EDGE_ROWS, 0):n])
    values = s.to_numpy()
    hit[edge] |= np.array([_is_total_word(values[i]) for i in edge], dtype=bool)
    return hit if hit.any() else None


def _refuse_totals_rows(df: pd.DataFrame, id_cols: list[str], source: str, labels: Mapping[str, str] | None = None,
                       nested: set | frozenset = frozenset()):
    """A summary row pasted under the data (Total / 合计 / Sum …) would count as one more customer or transaction
    and double every total. Refused, naming the row: an id (or the first column) reading Total, or a row whose ids
    are empty and whose numbers are each the sum of the other rows."""
    labels = labels or {}
    first = df.columns[0]
    for col in dict.fromkeys([*id_cols, first]):
        if col in nested:
            continue
        mask = _total_word_mask(df[col])
        if mask is not None:
            raise _error(source, labels.get(col, col), "a totals row (Total, 合计, Sum …), not data; delete it from "
                         "the file", df[col], mask)
    if not id_cols or len(df) < 3:
        return
    no_id = np.logical_and.reduce([df[c].isna().to_numpy() for c in id_cols])
    if not no_id.any() or no_id.all():
        return
    numeric = [c for c in df.columns if ptypes.is_numeric_dtype(df[c]) and not ptypes.is_bool_dtype(df[c])
               and c not in id_cols]
    found = _totals_by_sum(df[numeric], no_id) if numeric else None
    if found is not None:
        mask, summed = found
        col = id_cols[0]
        raise _error(source, labels.get(col, col), f"a totals row (no id; {', '.join(map(str, summed[:3]))} "
                     "equal the sum of the other rows), not data; delete it from the file", df[col], mask)


def _totals_by_sum(numeric: pd.DataFrame, no_id: np.ndarray) -> tuple[np.ndarray, list] | None:
    """Rows without an id whose numbers each equal the sum of the other rows: (row mask, the columns that add
    up), or None."""
    totals = numeric.sum(axis=0, skipna=True).to_numpy(dtype="float64")
    candidates = numeric.loc[no_id].to_numpy(dtype="float64", na_value=np.nan)  # only the rows without an id
    present = ~np.isnan(candidates)
    # the row equals the sum of the others ⇔ 2·value = column total
    equal = np.isclose(2 * candidates, totals, rtol=1e-6, atol=0.011) & present
    nonzero = present & (candidates != 0)
    is_total = (equal | ~present).all(axis=1) & nonzero.any(axis=1)
    if not is_total.any():
        return None
    mask = np.zeros(len(numeric), dtype=bool)
    mask[np.flatnonzero(no_id)[is_total]] = True
    return mask, [c for c, hit in zip(numeric.columns, equal[is_total].any(axis=0)) if hit]


# --------------------------------------------------------------------------------------------------------------------
# Column-level helpers
# --------------------------------------------------------------------------------------------------------------------
def _is_textlike(s: pd.Series) -> bool:
    return s.dtype == object or ptypes.is_string_dtype(s)


_NESTED_TYPES = (list, tuple, dict, set, frozenset, np.ndarray)
# What pandas.api.types.infer_dtype says for object columns that cannot hold a list or a dict.
_SCALAR_INFERRED = frozenset({
    "string", "bytes", "empty", "integer", "floating", "mixed-integer-float", "decimal", "complex", "boolean",
    "datetime64", "datetime", "date", "timedelta64", "timedelta", "time", "period", "interval",
})


def _nested_mask(s: pd.Series) -> np.ndarray | None:
    """Rows holding a list, array, dict (a Parquet list / struct / map value); None when there is none.

    A C-speed type scan first; only columns it calls "mixed" are looked at value by value."""
    if s.dtype != object or ptypes.infer_dtype(s, skipna=True) in _SCALAR_INFERRED:
        return None
    mask = np.fromiter((isinstance(v, _NESTED_TYPES) for v in s.to_numpy()), dtype=bool, count=len(s))
    return mask if mask.any() else None


def _check_scalar(s: pd.Series, label: str, source, hidden=None) -> None:
    mask = _nested_mask(s)
    if mask is None:
        return
    where = s.index[mask][:MAX_EXAMPLES]
    values = [hidden if hidden is not None else v.tolist() if isinstance(v, np.ndarray) else v
              for v in s.to_numpy()[mask][:MAX_EXAMPLES]]
    raise DataError(source, label, NESTED_RULE, [spreadsheet_row(i) for i in where], values, n_bad=int(mask.sum()))


def _factorize(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes (-1 = missing) and the distinct values: string work is then done once per distinct value."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=object)


def _expand(per_unique, codes: np.ndarray, fill) -> np.ndarray:
    """Per-distinct-value results back onto the rows (code -1 gets ``fill``)."""
    per_unique = np.asarray(per_unique)
    return np.append(per_unique, np.array([fill], dtype=per_unique.dtype))[codes]


def _stripped(s: pd.Series) -> pd.Series:
    """Stripped strings; NaN where the value is not a string (use on distinct values, not on whole columns)."""
    if not _is_textlike(s):
        return pd.Series(np.nan, index=s.index, dtype=object)
    try:
        return s.str.strip()
    except (AttributeError, TypeError):  # an object column without a single string (numbers, bytes, …)
        return pd.Series(np.nan, index=s.index, dtype=object)


def _blank(s: pd.Series) -> pd.Series:
    """Missing, or a blank / NA-like string."""
    if not _is_textlike(s):
        return s.isna()
    codes, uniques = _factorize(s)
    blank = _stripped(uniques).isin(MISSING_TOKENS).to_numpy()
    return pd.Series(_expand(blank, codes, True), index=s.index)


def _error(source, column, rule, series: pd.Series, bad_mask) -> DataError:
    """Like DataError.from_mask, with values as the user wrote them (9 not 9.0, empty for missing)."""
    bad_mask = np.asarray(bad_mask, dtype=bool)
    where = series.index[bad_mask][:MAX_EXAMPLES]
    examples = series.to_numpy()[bad_mask][:MAX_EXAMPLES]
    return DataError(source, column, rule, [spreadsheet_row(i) for i in where],
                     [_display(_plain(v)) for v in examples], n_bad=int(bad_mask.sum()))


def _get(df: pd.DataFrame, column: str, source) -> pd.Series:
    if column not in df.columns:
        raise DataError(source, column, _missing_column_rule(column, df.columns))
    s = df[column]
    if isinstance(s, pd.DataFrame):
        raise DataError(source, column, "duplicated column name")
    return s


def _fmt(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:g}"


def range_rule(min_value=None, max_value=None) -> str:
    """The rule text for a range check (shared by the coerce helpers and the table schema)."""
    if min_value is not None and max_value is not None:
        return f"must be between {_fmt(min_value)} and {_fmt(max_value)}"
    if min_value is not None:
        return "must not be negative" if float(min_value) == 0 else f"must be at least {_fmt(min_value)}"
    return f"must be at most {_fmt(max_value)}"


def _to_float(s: pd.Series, label: str, source) -> pd.Series:
    """Numbers as float64 (NaN = missing); text that is not a number → DataError."""
    if ptypes.is_bool_dtype(s):
        return pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index, name=s.name)
    if ptypes.is_datetime64_any_dtype(s) or isinstance(s.dtype, pd.PeriodDtype):
        bad = s.notna()
        if bad.any():
            raise _error(source, label, "not a number (the column holds dates)", s, bad)
        return pd.Series(np.nan, index=s.index, name=s.name, dtype="float64")
    if ptypes.is_numeric_dtype(s):
        values = pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index, name=s.name)
    else:
        blank = _blank(s)
        values = pd.to_numeric(s.mask(blank), errors="coerce").astype("float64")
        bad = values.isna() & ~blank
        if bad.any():
            text = s[bad].astype(str).str.strip()
            grouped = text.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
            if grouped.any():
                fixed = pd.to_numeric(text[grouped].str.replace(",", "", regex=False), errors="coerce")
                values.loc[fixed.index] = fixed.astype("float64")
                bad = values.isna() & ~blank
        values.name = s.name
        if bad.any():
            raise _error(source, label, "not a number", s, bad)
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        raise _error(source, label, "not a number", s, pd.Series(infinite, index=s.index))
    return values


def _check_numbers(values: pd.Series, original: pd.Series, label: str, source, *, min_value=None, max_value=None,
                   integer=False, allow_missing=True) -> None:
    if not allow_missing:
        missing = values.isna()
        if missing.any():
            rows = [spreadsheet_row(i) for i in missing.index[missing.to_numpy()][:MAX_EXAMPLES]]
            raise DataError(source, label, "missing value (every row needs one)", rows, [EMPTY] * len(rows),
                            n_bad=int(missing.sum()))
    if integer:
        fractional = values.notna() & (values != np.floor(values))
        if fractional.any():
            raise _error(source, label, "must be a whole number", original, fractional)
    if min_value is not None or max_value is not None:
        out = pd.Series(False, index=values.index)
        if min_value is not None:
            out |= values < min_value
        if max_value is not None:
            out |= values > max_value
        if out.any():
            raise _error(source, label, range_rule(min_value, max_value), original, out)


def coerce_numeric(df: pd.DataFrame, column: str, *, source=None, min_value=None, max_value=None, integer=False,
                   allow_missing=True) -> pd.Series:
    """``df[column]`` as float64 (NaN = missing). Text such as ``"abc"`` → DataError "not a number";
    ``"1,234"`` (comma thousands separators) → 1234; a decimal comma ``"1,5"`` is not a number.
    ``integer`` → "must be a whole number"; ``min_value``/``max_value`` → "must be between a and b"."""
    s = _get(df, column, source)
    values = _to_float(s, column, source)
    _check_numbers(values, s, column, source, min_value=min_value, max_value=max_value, integer=integer,
                   allow_missing=allow_missing)
    return values


def _to_flag(s: pd.Series, label: str, source, true_value=None) -> pd.Series:
    numeric = ptypes.is_numeric_dtype(s) and not ptypes.is_bool_dtype(s)
    if true_value is not None:
        if numeric and isinstance(true_value, str):
            number = pd.to_numeric(pd.Series([true_value.strip()]), errors="coerce").iloc[0]
            true_value = true_value if pd.isna(number) else float(number)
        if numeric and isinstance(true_value, (int, float, np.number)) and not isinstance(true_value, bool):
            out = (s == true_value).astype("Int8")
            out[s.isna().to_numpy()] = pd.NA
            return out.rename(s.name)
        codes, uniques = _factorize(s)
        key = str(true_value).strip().casefold()
        text = uniques.astype(str).str.strip()
        equal = (text.str.casefold() == key).astype("float64")
        equal[text.isin(MISSING_TOKENS).to_numpy()] = np.nan
        return pd.Series(_expand(equal.to_numpy(), codes, np.nan), index=s.index).astype("Int8").rename(s.name)
    if ptypes.is_bool_dtype(s):
        return s.astype("Int8")
    if numeric:
        values = pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index)
        bad = values.notna() & ~values.isin([0.0, 1.0])
    else:
        codes, uniques = _factorize(s)
        text = uniques.astype(str).str.strip()
        mapped = text.str.casefold().map(FLAG_WORDS).astype("float64")
        bad_u = mapped.isna() & ~text.isin(MISSING_TOKENS)
        values = pd.Series(_expand(mapped.to_numpy(), codes, np.nan), index=s.index)
        bad = pd.Series(_expand(bad_u.to_numpy(), codes, False), index=s.index)
    if bad.any():
        raise _error(source, label, "not a yes/no value (expected 1/0, yes/no, true/false, 是/否)", s, bad)
    return values.astype("Int8").rename(s.name)


def coerce_flag(df: pd.DataFrame, column: str, *, source=None, true_value=None) -> pd.Series:
    """``df[column]`` as Int8 0/1 with <NA> for missing.

    Accepts 1/0, True/False and (case-insensitively) true/false, yes/no, y/n, 是/否; anything else is a DataError.
    With ``true_value`` every value equal to it (case-insensitively for text) is 1 and every other value 0.
    """
    return _to_flag(_get(df, column, source), column, source, true_value)


def _dates_from_numbers(num: pd.Series) -> pd.Series:
    """Excel serial days, or compact YYYYMMDD integers; NaT for numbers that are neither."""
    out = pd.Series(pd.NaT, index=num.index, dtype="datetime64[ns]")
    lo, hi = EXCEL_SERIAL_RANGE
    serial = num.between(lo, hi)
    if serial.any():
        out[serial] = EXCEL_EPOCH + pd.to_timedelta(num[serial], unit="D")
    compact = num.between(19000101, 29991231) & (num == np.floor(num))
    if compact.any():
        out[compact] = pd.to_datetime(num[compact].astype("int64").astype(str), format="%Y%m%d", errors="coerce")
    return out


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _parse_date_text(text: pd.Series) -> pd.Series:
    """Dates written as text (stripped strings, one per distinct value) → datetime64[ns], NaT where not a date.
    Plain ``YYYY-MM-DD`` values, which the normalising below leaves as they are, skip it."""
    plain = np.fromiter((_ISO_DAY.fullmatch(v) is not None for v in text), dtype=bool, count=len(text))
    norm = text
    if not plain.all():
        rest = text[~plain]
        rest = (rest.str.replace(r"^(\d{4})\s*[/.年-]\s*(\d{1,2})\s*[/.月-]\s*(\d{1,2})(?:\s*日)?", r"\1-\2-\3", regex=True)
                .str.replace(r"\s+", " ", regex=True).str.strip()
                # a UTC offset is dropped: the local wall-clock date is the business date
                .str.replace(r"(\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})$", r"\1", regex=True))
        norm = text.copy()
        norm[~plain] = rest
    out = pd.to_datetime(norm, format="ISO8601", errors="coerce")
    if out.dt.tz is not None:
        out = out.dt.tz_localize(None)
    return out.astype("datetime64[ns]")


def _to_date(s: pd.Series, label: str, source) -> pd.Series:
    if ptypes.is_datetime64_any_dtype(s):
        out = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return out.astype("datetime64[ns]").rename(s.name)
    if ptypes.is_bool_dtype(s):
        bad = s.notna()
        if bad.any():
            raise _error(source, label, DATE_RULE, s, bad)
    if ptypes.is_numeric_dtype(s):
        num = pd.Series(s.to_numpy(dtype="float64", na_value=np.nan), index=s.index)
        out = _dates_from_numbers(num)
        bad = num.notna() & out.isna()
    else:
        codes, uniques = _factorize(s)
        parsed, bad_u = _dates_from_objects(uniques)
        out = pd.Series(_expand(parsed.to_numpy(dtype="datetime64[ns]"), codes, np.datetime64("NaT", "ns")),
                        index=s.index)
        bad = pd.Series(_expand(bad_u.to_numpy(), codes, False), index=s.index)
    if bad.any():
        raise _error(source, label, DATE_RULE, s, bad)
    return out.rename(s.name)


def _dates_from_objects(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Distinct values of an object column → (dates, not-a-date mask); blank tokens are missing, not bad."""
    text = _stripped(values)
    blank = values.isna() | text.isin(MISSING_TOKENS)
    obj = values.mask(blank)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    num = pd.to_numeric(obj, errors="coerce")
    numeric = num.notna()
    if numeric.any():
        out[numeric] = _dates_from_numbers(num[numeric])
    is_text = text.notna() & ~numeric & ~blank
    if is_text.any():
        out[is_text] = _parse_date_text(text[is_text])
    other = obj.notna() & ~is_text & ~numeric  # datetime / date objects (Excel, Python)
    if other.any():
        parsed = pd.to_datetime(obj[other], errors="coerce")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        out[other] = parsed.astype("datetime64[ns]")
    return out, out.isna() & ~blank


def _snapshot_rule(snapshot: pd.Timestamp) -> str:
    return f"date after the snapshot ({snapshot:%Y-%m-%d})"


def parse_snapshot(snapshot_date) -> pd.Timestamp | None:
    """A snapshot-date parameter → that day at midnight, or None; anything that is not a date → DataError."""
    if snapshot_date is None or (isinstance(snapshot_date, str) and not snapshot_date.strip()):
        return None
    if isinstance(snapshot_date, (pd.Timestamp, dt.date, np.datetime64)):
        ts = pd.Timestamp(snapshot_date)
    else:
        try:
            ts = _to_date(pd.Series([snapshot_date], dtype=object), "snapshot_date", "snapshot_date").iloc[0]
        except DataError:
            ts = pd.NaT
    if pd.isna(ts):
        raise DataError("snapshot_date", None, f"not a date: {snapshot_date!r} (expected YYYY-MM-DD)")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


_parse_snapshot = parse_snapshot  # the earlier private name, still used by callers


def coerce_date(df: pd.DataFrame, column: str, *, source=None, not_after=None) -> pd.Series:
    """``df[column]`` as datetime64[ns] (NaT = missing).

    Accepts ISO dates (with or without time), 2024/03/05, 2024.03.05, 2024年3月5日, 20240305, Excel dates and
    Excel serial numbers; anything else → DataError. A date more than a day after today is "date in the future"
    (a year typed 2099, a day-month mix-up); ``not_after`` (the snapshot date) → "date after the snapshot" for any
    date on a later day.
    """
    s = _get(df, column, source)
    out = _to_date(s, column, source)
    snapshot = parse_snapshot(not_after)
    if snapshot is not None:
        late = out >= snapshot + pd.Timedelta(days=1)
        if late.any():
            raise _error(source, column, _snapshot_rule(snapshot), s, late)
    _refuse_future(out, s, column, source, _future_limit())
    return out


def _to_id(s: pd.Series) -> pd.Series:
    """Ids as text: 1001 and 1001.0 both become '1001' so tables join whatever their file types were."""
    if ptypes.is_numeric_dtype(s) and not ptypes.is_bool_dtype(s):
        notna = s.notna().to_numpy()
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        out = np.full(len(s), np.nan, dtype=object)
        if ptypes.is_integer_dtype(s):
            out[notna] = s[notna].astype(str).to_numpy()
        else:
            whole = notna & (values == np.floor(values))
            out[whole] = pd.Series(values[whole]).astype("int64").astype(str).to_numpy()
            other = notna & ~whole
            out[other] = pd.Series(values[other]).astype(str).to_numpy()
        return pd.Series(out, index=s.index, name=s.name)
    codes, uniques = _factorize(s)
    text = uniques.astype(str).str.strip()
    text = text.mask(text.isin(MISSING_TOKENS))
    return pd.Series(_expand(text.to_numpy(dtype=object), codes, np.nan), index=s.index, name=s.name)


def _to_text(s: pd.Series) -> pd.Series:
    """Strings stripped, blank tokens missing; non-strings (numbers in a text column) stay as they are."""
    if not _is_textlike(s):
        return s
    codes, uniques = _factorize(s)
    stripped = _stripped(uniques)
    values = stripped.where(stripped.notna(), uniques).mask(stripped.isin(MISSING_TOKENS))
    return pd.Series(_expand(values.to_numpy(dtype=object), codes, np.nan), index=s.index, name=s.name)


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, source=None) -> None:
    """Every name in ``columns`` must be a column of ``df``; otherwise a DataError suggesting a close match."""
    mapped = df.attrs.get("loyaltylab", {}).get("mapped", {})
    for column in columns:
        if column not in df.columns:
            renamed = [c for c, user in mapped.items() if _key(user) == _key(column) and c in df.columns]
            if renamed:
                raise DataError(source, column, f"the file's column '{mapped[renamed[0]]}' is read as the canonical "
                                f"'{renamed[0]}'; name it '{renamed[0]}'")
            raise DataError(source, column, _missing_column_rule(column, df.columns))


def _normal(name: str) -> str:
    return re.sub(r"[\W_]+", "", str(name)).casefold()


def _closest(name: str, choices: Sequence[str]) -> str | None:
    choices = [str(c) for c in choices]
    by_normal = {}
    for c in choices:
        by_normal.setdefault(_normal(c), c)
    if _normal(name) in by_normal:
        return by_normal[_normal(name)]
    match = difflib.get_close_matches(_normal(name), list(by_normal), n=1, cutoff=0.6)
    return by_normal[match[0]] if match else None


def _name_list(names: Sequence[str], limit: int = 15) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _missing_column_rule(column: str, available: Sequence[str]) -> str:
    guess = _closest(column, available)
    hint = (f"; did you mean '{guess}'? (map it: columns={{'{guess}': '{column}'}} or --map {guess}={column})"
            if guess else "")
    unnamed = [str(c) for c in available if re.fullmatch(r"column_[A-Z]+_*", str(c))]
    if unnamed and not guess:
        hint += (f"; column {unnamed[0][7:].rstrip('_')} has no header name (map it: --map {unnamed[0]}={column})")
    return f"required column is missing{hint}; available columns: {_name_list(list(available))}"


# --------------------------------------------------------------------------------------------------------------------
# Filters and summaries
# --------------------------------------------------------------------------------------------------------------------
def _filter_values(s: pd.Series, value) -> list:
    values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
    extra = []
    for v in values:  # "1" matches 1 and 1 matches "1": notebook parameters often arrive as text
        if isinstance(v, str) and ptypes.is_numeric_dtype(s) and not ptypes.is_bool_dtype(s):
            num = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
            if pd.notna(num):
                extra.append(num)
        elif isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and s.dtype == object:
            extra.append(_fmt(v) if float(v).is_integer() else str(v))
    return values + extra


def _describe_filter(column, value) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return f"{column} in [{', '.join(repr(v) for v in value)}]"
    return f"{column} == {value!r}"


def apply_filters(df: pd.DataFrame, filters: Mapping | None, *, source=None) -> pd.DataFrame:
    """Rows where every ``column`` equals its value (or is one of the values, for a list). Keeps the index."""
    if not filters:
        return df
    if not isinstance(filters, Mapping):
        raise DataError(source, None, f"filters must be a mapping of column to value(s), got {filters!r}")
    mask = pd.Series(True, index=df.index)
    applied = []
    for column, value in filters.items():
        if column not in df.columns:
            guess = _closest(column, df.columns)
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise DataError(source, column, f"filter on a column that does not exist{hint}; "
                            f"available columns: {_name_list(list(df.columns))}")
        s = df[column]
        mask &= s.isin(_filter_values(s, value))
        applied.append(_describe_filter(column, value))
        if not mask.any():
            if _key(column) in _id_keys((*ID_COLUMNS, *_HIDDEN_TEXT_COLUMNS)):
                raise DataError(source, column, f"no rows match filter {' and '.join(applied)}")
            present = pd.unique(s.dropna())[:10000]
            sample = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in sorted(present, key=str)[:8])
            more = ", …" if len(present) > 8 else ""
            raise DataError(source, column, f"no rows match filter {' and '.join(applied)} "
                            f"(values in the column: {sample or 'none'}{more})")
    return df[mask]


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()


def summarize(df: pd.DataFrame) -> dict:
    """``{"rows", "columns", "missing": {column: n} (only n > 0), "dates": {column: {"min", "max"}}}``."""
    missing = df.isna().sum()
    dates = {}
    for col in df.columns:
        s = df[col]
        if ptypes.is_datetime64_any_dtype(s) and s.notna().any():
            dates[str(col)] = {"min": _iso(s.min()), "max": _iso(s.max())}
    return {
        "rows": int(len(df)),
        "columns": int(df.shape[1]),
        "missing": {str(c): int(n) for c, n in missing.items() if n > 0},
        "dates": dates,
    }


# --------------------------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------------------------
def _check_table(table: str, source=None) -> None:
    if table not in RULES:
        raise DataError(source, None, f"unknown table {table!r}; expected one of {', '.join(TABLES)}")


def map_columns(df: pd.DataFrame, table: str, columns: Mapping[str, str] | None, *, source=None) -> pd.DataFrame:
    """Rename the user's columns onto canonical ones (``columns`` = {user_col: canonical_col})."""
    _check_table(table, source)
    if not columns:
        return df
    if not isinstance(columns, Mapping):
        raise DataError(source, None, f"columns must map user column → canonical column, got {columns!r}")
    canonical = TABLE_COLUMNS[table]
    targets: dict[str, str] = {}
    renames: dict[str, str] = {}
    for user, canon in columns.items():
        user = _in_file(user, df.columns)
        if user not in df.columns:
            raise DataError(source, str(user), "column to map is not in the file"
                            + _did_you_mean(user, df.columns) + f"; available columns: {_name_list(list(df.columns))}")
        if canon not in canonical:
            raise DataError(source, str(user), f"cannot map onto '{canon}': not a column of the {table} table"
                            + _did_you_mean(canon, canonical) + f"; {table} columns: {_name_list(canonical, 12)}")
        if canon in targets:
            raise DataError(source, canon, f"mapped from two columns, '{targets[canon]}' and '{user}'")
        if canon in df.columns and canon not in renames and canon not in columns and canon != user:
            raise DataError(source, canon, f"already in the file; cannot also map '{user}' onto it")
        targets[canon] = user
        renames[user] = canon
    out = df.rename(columns=renames)
    info = dict(df.attrs.get("loyaltylab", {}))
    info["mapped"] = {c: u for c, u in targets.items() if c != u}
    out.attrs["loyaltylab"] = info
    return out


def _in_file(name, columns) -> object:
    """A column name given by the user, as the file's (cleaned) header spells it: exact, else cleaned."""
    if name in columns:
        return name
    cleaned = _clean_name(name)
    return cleaned if cleaned in columns else name


def match_canonical(df: pd.DataFrame, table: str, *, source=None) -> pd.DataFrame:
    """Header names that are a canonical name of ``table`` up to case and width (``NPS``, ``ｎｐｓ``,
    ``Customer_ID``) are renamed to it; the file's name is kept in ``attrs["loyaltylab"]["mapped"]`` so messages
    name the column as the file does. Two columns matching one canonical name are a DataError."""
    _check_table(table, source)
    canonical = {_key(c): c for c in TABLE_COLUMNS[table]}
    info = dict(df.attrs.get("loyaltylab", {}))
    mapped = dict(info.get("mapped", {}))
    claimed: dict[str, list] = {}
    for col in df.columns:
        canon = canonical.get(_key(col))
        if canon is not None and col not in mapped:  # a column mapped explicitly keeps its mapping
            claimed.setdefault(canon, []).append(col)
    renames = {}
    for canon, cols in claimed.items():
        if len(cols) > 1 or (canon in mapped and cols != [canon]):
            names = [mapped.get(canon)] if canon in mapped else []
            names += [c for c in cols if c != canon or canon not in mapped]
            raise DataError(source, canon, "matched by more than one column ("
                            + ", ".join(f"'{c}'" for c in dict.fromkeys(names))
                            + "); rename or remove one, or map one explicitly")
        if cols[0] != canon:
            renames[cols[0]] = canon
            mapped[canon] = cols[0]
    if not renames:
        return df
    out = df.rename(columns=renames)
    info["mapped"] = mapped
    out.attrs["loyaltylab"] = info
    return out


def _did_you_mean(name, choices) -> str:
    guess = _closest(str(name), list(choices))
    return f" (did you mean '{guess}'?)" if guess else ""


@outputs.reused_in_batch
def read_table(path, table: str, *, columns: Mapping[str, str] | None = None, required: Iterable[str] | None = None,
               snapshot_date=None, encoding: str | None = None, sep: str | None = None,
               sheet: str | int | None = None, usecols: Iterable[str] | None = None) -> pd.DataFrame:
    """:func:`read_raw` + :func:`map_columns` + :func:`require_columns` + :func:`validate_frame`.

    ``required`` defaults to :data:`REQUIRED` for the table (pass ``()`` to require nothing). Columns named as a
    canonical column up to case and width (``NPS``) are renamed to it (:func:`match_canonical`); id columns (and
    the columns mapped onto them) are read as text exactly as in the file. ``usecols`` (names after mapping)
    keeps only those columns: the others are neither validated nor returned, so a problem in them is not reported
    (blank rows and totals rows are still judged on the whole file, so the rows are the same).

    In a batch run the frame is built once per file content and options and reused by the batch's other jobs
    (:func:`loyaltylab.outputs.reused_in_batch`, which also records the dates the frame covers for results.json).
    """
    _check_table(table)
    snapshot = parse_snapshot(snapshot_date)
    usecols = None if usecols is None else [str(c) for c in usecols]
    id_columns = [c for c, rule in RULES[table].items() if rule.kind in ("key", "id")]
    if isinstance(columns, Mapping):
        id_columns += [str(user) for user, canon in columns.items() if canon in id_columns]
    p, source, suffix = _checked_path(path)
    ids = _id_keys(id_columns)
    df = None
    if suffix not in EXCEL_EXTENSIONS:  # io_arrow reads and validates in one go when the file passes every rule
        from loyaltylab import io_arrow

        validated, plain = io_arrow.read_table(p, source, suffix, table, columns, required, snapshot, encoding, sep,
                                               ids, usecols)
        if validated is not None:
            return validated
        if plain:  # a rule is broken: the checks below word it, on the frame pyarrow reads (the same frame)
            df = io_arrow.read_raw(p, source, suffix, encoding, sep, ids)
    if df is None:
        df = _read_raw(p, source, suffix, encoding, sep, sheet, ids)
    df = map_columns(df, table, columns, source=source)
    df = match_canonical(df, table, source=source)
    require_columns(df, REQUIRED[table] if required is None else required, source=source)
    if usecols is not None:
        wanted = set(usecols)
        df = df[[c for c in df.columns if c in wanted]]
    labels = df.attrs.get("loyaltylab", {}).get("mapped", {})
    return validate_frame(df, table, source=source, snapshot_date=snapshot, labels=labels)


def validate_frame(df: pd.DataFrame, table: str, *, source=None, snapshot_date=None,
                   labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A coerced copy of ``df`` whose canonical columns obey the table's rules; other columns are untouched.

    ``labels`` ({canonical: name in the file}) makes messages name the user's column rather than the canonical one.
    """
    _check_table(table, source)
    labels = dict(labels or {})
    snapshot = parse_snapshot(snapshot_date)
    rules = RULES[table]
    out = df.copy()
    present = [c for c in out.columns if c in rules]
    for col in present:
        if isinstance(out[col], pd.DataFrame):
            raise DataError(source, labels.get(col, col), "duplicated column name")
        _check_scalar(out[col], labels.get(col, col), source, hidden=_hidden_value(table, col))
    if not df.attrs.get("loyaltylab", {}).get("totals_checked") and len(df):
        _refuse_totals_rows(df, [c for c in present if rules[c].kind in ("key", "id")], source, labels)
    excel_booleans = df.attrs.get("loyaltylab", {}).get("excel_booleans", {})
    future = _future_limit()
    if snapshot is not None and snapshot <= future:
        future = None  # the snapshot rule (checked with the other rules) is the stricter one
    for col in present:
        rule, s, label = rules[col], out[col], labels.get(col, col)
        try:
            if rule.kind in ("key", "id"):
                out[col] = _raw_ids(s, label, source)
            elif rule.kind == "text":
                out[col] = _to_text(s)
            elif rule.kind == "date":
                out[col] = _to_date(s, label, source)
                if future is not None:
                    _refuse_future(out[col], s, label, source, future)
            elif rule.kind == "flag":
                out[col] = _to_flag(s, label, source)
            elif rule.kind == "number":
                _refuse_booleans(s, label, source, excel_booleans.get(label))
                values = _to_float(s, label, source)
                _check_numbers(values, s, label, source, integer=rule.integer)
                out[col] = values
        except DataError:
            raise
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # a value type no rule foresaw
            raise DataError(source, label, f"unsupported values ({_exception_line(exc)})") from None
    _validate_schema(out, df, table, present, source, snapshot, labels)
    if table == "survey" and "nps" in out.columns:
        check_nps_scale(out["nps"], labels.get("nps", "nps"), source)
    return out


LIKERT_AS_NPS_MIN_N = 30


def check_nps_scale(nps: pd.Series, label: str, source=None) -> None:
    """A 1–7 (or 1–5) agreement column mapped as the 0–10 NPS question passes every range check. With 30 or more
    answers and not one 0, 8, 9 or 10 — the scores a real recommend question always has — it is refused (one line,
    no rows: the whole column is the problem). :func:`read_table` runs it on the survey's ``nps``; a loader that
    takes the score from another column can call it on that column."""
    values = nps.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    if values.size >= LIKERT_AS_NPS_MIN_N and ((values >= 1) & (values <= 7)).all():
        raise DataError(source, label, f"every one of the {values.size} scores is between 1 and 7 (no 0, 8, 9 or "
                        "10): this looks like a 1–7 scale, not the 0–10 recommend question; map the 0–10 column "
                        "onto nps")


FUTURE_TOLERANCE_DAYS = 1


def _today() -> pd.Timestamp:
    return pd.Timestamp.today().normalize()


def _future_limit() -> pd.Timestamp:
    """The last day a date may fall on: tomorrow (time zones), whatever the snapshot."""
    return _today() + pd.Timedelta(days=FUTURE_TOLERANCE_DAYS)


def _refuse_future(dates: pd.Series, original: pd.Series, label: str, source, limit: pd.Timestamp) -> None:
    late = (dates >= limit + pd.Timedelta(days=1)).to_numpy()
    if late.any():
        raise _error(source, label, f"date in the future (after {limit:%Y-%m-%d}); check the year and the date "
                     "format", original, late)


def _refuse_booleans(s: pd.Series, label: str, source, excel_cells=None) -> None:
    """true/false in a number column (a Parquet or Excel boolean) is a yes/no column mapped onto a score."""
    rule = "true/false values are not numbers (is a yes/no column mapped onto this one?)"
    if excel_cells and not ptypes.is_bool_dtype(s):  # TRUE/FALSE cells among numbers, already 1/0 in the frame
        cells = excel_cells["cells"]
        raise DataError(source, label, rule, [r for r, _ in cells], [_Shown(v) for _, v in cells],
                        n_bad=excel_cells["n"])
    if ptypes.is_bool_dtype(s):
        bad = s.notna().to_numpy()
    elif s.dtype == object:
        codes, uniques = _factorize(s)
        is_bool = np.fromiter((isinstance(v, (bool, np.bool_)) for v in uniques), dtype=bool, count=len(uniques))
        if not is_bool.any():
            return
        bad = _expand(is_bool, codes, False).astype(bool)
    else:
        return
    if bad.any():
        raise _error(source, label, rule, s, bad)


# Columns whose values never appear in a message: ids and free text name or describe a person.
_HIDDEN_TEXT_COLUMNS = frozenset({"comment"})


def _hidden_value(table: str, col: str):
    rule = RULES[table].get(col)
    if rule is not None and rule.kind in ("key", "id"):
        return HIDDEN_ID
    if col in _HIDDEN_TEXT_COLUMNS:
        return HIDDEN_TEXT
    return None


def _wide_checks(df: pd.DataFrame, table: str):
    """Cross-column rules: (name, column shown, rule text, bad-mask function, values shown)."""
    checks = []
    if table == "survey":
        imp = [c for c in IMPORTANCE_COLUMNS if c in df.columns]
        if imp:
            def importance_bad(d, imp=imp):
                total = d[imp].sum(axis=1, min_count=1)
                return total.notna() & ((total - 100).abs() > IMPORTANCE_TOLERANCE)

            checks.append(("importance_sum", IMPORTANCE_LABEL,
                           f"importance points must sum to 100 (±{_fmt(IMPORTANCE_TOLERANCE)})", importance_bad,
                           lambda d, imp=imp: [_plain(x) for x in d[imp].sum(axis=1, min_count=1)]))
    if table == "customers" and "churn_date" in df.columns:
        if "churned" in df.columns:
            checks.append(("churn_date_without_churn", "churn_date", "churn_date is set but churned is 0",
                           lambda d: d["churn_date"].notna() & (d["churned"] == 0).fillna(False).astype(bool),
                           lambda d: [_plain(x) for x in d["churn_date"]]))
        if "signup_date" in df.columns:
            checks.append(("churn_before_signup", "churn_date", "churn_date is before signup_date",
                           lambda d: (d["churn_date"] < d["signup_date"]).fillna(False),
                           lambda d: [_plain(x) for x in d["churn_date"]]))
    return checks


def _plain(x):
    """A value as a user would write it: 90 not 90.0, 2024-01-05 not 2024-01-05 00:00:00."""
    if isinstance(x, dt.datetime):  # also pd.Timestamp
        x = pd.Timestamp(x)
        return x.date() if x == x.normalize() else x
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return int(x)
    return x


def _validate_schema(out: pd.DataFrame, original: pd.DataFrame, table: str, present: list[str], source,
                     snapshot: pd.Timestamp | None, labels: Mapping[str, str]) -> None:
    """Ranges, uniqueness, snapshot and cross-column rules as one lazy pandera schema; first failure → DataError."""
    import pandera.pandas as pa  # imported here: ~0.7 s, and only validation needs it

    rules = RULES[table]
    columns = {}
    for col in present:
        rule = rules[col]
        checks = []
        if rule.kind == "number" and (rule.min is not None or rule.max is not None):
            text = range_rule(rule.min, rule.max)
            if rule.min is not None and rule.max is not None:
                checks.append(pa.Check.in_range(rule.min, rule.max, error=text))
            elif rule.min is not None:
                checks.append(pa.Check.ge(rule.min, error=text))
            else:
                checks.append(pa.Check.le(rule.max, error=text))
        if rule.kind == "date" and snapshot is not None:
            checks.append(pa.Check.lt(snapshot + pd.Timedelta(days=1), error=_snapshot_rule(snapshot)))
        key = rule.kind == "key"
        columns[col] = pa.Column(None, checks=checks, nullable=not key, unique=key, report_duplicates="all",
                                 required=False)
    wide = _wide_checks(out, table)
    frame_checks = [pa.Check(lambda d, bad=bad: ~bad(d), name=name, error=rule)
                    for name, _, rule, bad, _ in wide]
    schema = pa.DataFrameSchema(columns, checks=frame_checks)
    try:
        schema.validate(out, lazy=True, inplace=True)  # nothing is coerced; no copy
        return
    except pa.errors.SchemaErrors as exc:
        failures = exc.failure_cases
    except pa.errors.SchemaError as exc:  # pragma: no cover - lazy mode collects, but be safe
        failures = exc.failure_cases if isinstance(exc.failure_cases, pd.DataFrame) else None
        if failures is None:
            raise DataError(source, None, str(exc).splitlines()[0]) from None

    column_failures = failures[failures["schema_context"] == "Column"]
    if len(column_failures):
        order = {c: i for i, c in enumerate(present)}
        first_col = min(column_failures["column"].unique(), key=lambda c: order.get(c, len(order)))
        rows_for_col = column_failures[column_failures["column"] == first_col]
        ranked = ["not_nullable", "field_uniqueness"]
        checks_seen = list(dict.fromkeys(rows_for_col["check"]))
        check = min(checks_seen, key=lambda c: (ranked.index(c) if c in ranked else len(ranked), checks_seen.index(c)))
        rows = rows_for_col[rows_for_col["check"] == check]
        index = pd.Index(rows["index"].dropna().unique()).sort_values()
        rule = {"not_nullable": "missing value (every row needs an id)",
                "field_uniqueness": "duplicated value (must be unique)"}.get(check, check)
        shown = original[first_col] if original.index.is_unique and first_col in original.columns else out[first_col]
        if check == "not_nullable":
            shown = out[first_col]
        examples = index[:MAX_EXAMPLES]
        hidden = _hidden_value(table, first_col)
        values = [_display(_plain(shown.loc[i])) for i in examples]
        values = [v if v is EMPTY or hidden is None else hidden for v in values]
        raise DataError(source, labels.get(first_col, first_col), rule,
                        rows=[spreadsheet_row(i) for i in examples], values=values, n_bad=len(index))
    for _name, column, rule, bad, shown in wide:
        mask = bad(out)
        if mask.any():
            examples = mask.index[mask.to_numpy()][:MAX_EXAMPLES]
            raise DataError(source, labels.get(column, column), rule, rows=[spreadsheet_row(i) for i in examples],
                            values=shown(out.loc[examples]), n_bad=int(mask.sum()))
    raise DataError(source, None, "failed validation")  # pragma: no cover - a check we do not translate


class _Empty:
    """Shown as ``row 3 (empty)`` in a message."""

    def __repr__(self) -> str:
        return "empty"


EMPTY = _Empty()


class _Shown(str):
    """Text shown in a message as it is, without quotes: ``row 3 (id not shown)``, ``row 4 (5 fields)``."""

    def __repr__(self) -> str:
        return str(self)


HIDDEN_ID = _Shown("id not shown")
HIDDEN_TEXT = _Shown("text not shown")


def _display(value):
    if isinstance(value, pd.Series):  # pragma: no cover - non-unique index
        value = value.iloc[0]
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return EMPTY
    return value


# --------------------------------------------------------------------------------------------------------------------
# CLI: python -m loyaltylab validate
# --------------------------------------------------------------------------------------------------------------------
def parse_map(items: Iterable[str] | None) -> dict[str, str]:
    """``["user col=canonical", ...]`` → ``{"user col": "canonical"}``; a malformed item → DataError."""
    mapping: dict[str, str] = {}
    for item in items or ():
        user, eq, canon = str(item).rpartition("=")
        user, canon = user.strip(), canon.strip()
        if not eq or not user or not canon:
            raise DataError("--map", None, f"expected USER_COLUMN=CANONICAL_COLUMN, got {item!r}")
        if user in mapping:
            raise DataError("--map", None, f"column '{user}' is mapped twice")
        mapping[user] = canon
    return mapping


def add_arguments(parser) -> None:
    parser.add_argument("path", help="the file to check (.csv, .tsv, .txt, .xlsx, .parquet)")
    parser.add_argument("--table", required=True, choices=TABLES, help="which table the file holds")
    parser.add_argument("--map", action="append", default=[], metavar="USER_COL=CANONICAL_COL",
                        help="rename a column of the file onto a canonical one (repeatable)")
    parser.add_argument("--snapshot-date", default=None, metavar="YYYY-MM-DD",
                        help="the export date: later dates are errors")
    parser.add_argument("--encoding", default=None,
                        help="text encoding, e.g. cp1252, gbk, utf-16 (default: detect UTF-8 / BOM / UTF-16 / GBK / "
                             "Windows-1252)")
    parser.add_argument("--sep", default=None, help="delimiter: ',', ';', 'tab' (default: detect)")
    parser.add_argument("--sheet", default=None,
                        help="Excel sheet name or 0-based number (needed when several sheets hold data)")


def run(args) -> int:
    """Read and validate one file; print a short summary. Bad input raises DataError (cli prints it, exit 2)."""
    mapping = parse_map(args.map)
    snapshot = parse_snapshot(args.snapshot_date)
    df = read_table(args.path, args.table, columns=mapping, snapshot_date=snapshot, encoding=args.encoding,
                    sep=args.sep, sheet=getattr(args, "sheet", None))
    info = df.attrs.get("loyaltylab", {})
    summary = summarize(df)
    canonical = [c for c in df.columns if c in RULES[args.table]]
    lines = [f"file: {info.get('source', args.path)}"]
    if info.get("format") == "csv":
        enc = ENCODING_LABELS.get(info.get("encoding"), info.get("encoding"))
        lines.append(f"format: CSV, encoding {enc}, delimiter {DELIMITER_LABELS.get(info.get('sep'), info.get('sep'))}")
    elif info.get("format") == "excel":
        lines.append(f"format: Excel, sheet {info.get('sheet')!r}")
    else:
        lines.append(f"format: {info.get('format', '?')}")
    lines.append(f"table: {args.table} ({len(canonical)} of {len(RULES[args.table])} canonical columns; "
                 f"{summary['columns'] - len(canonical)} other)")
    if info.get("mapped"):
        lines.append("mapped: " + ", ".join(f"{u} → {c}" for c, u in info["mapped"].items()))
    lines.append(f"rows: {summary['rows']:,}  columns: {summary['columns']}")
    missing = summary["missing"]
    lines.append("missing values: " + (", ".join(f"{c} {n:,}" for c, n in missing.items()) if missing else "none"))
    for col, rng in summary["dates"].items():
        lines.append(f"dates: {col} {rng['min']} … {rng['max']}")
    if snapshot is not None:
        lines.append(f"snapshot: {snapshot:%Y-%m-%d} (no date after it)")
    lines.append("OK")
    print("\n".join(lines))
    return 0
