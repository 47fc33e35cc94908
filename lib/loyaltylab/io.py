"""Read CSV / Excel / Parquet files, map their columns onto the canonical tables, coerce and validate them.

Every problem with the input becomes one :class:`~loyaltylab.errors.DataError` whose one-line message names the
file, the column, the rule and the first offending rows (spreadsheet numbering: the header is row 1), e.g.::

    survey.csv: column 'nps': must be between 0 and 10: 2 rows, e.g. row 3 (11), row 9 (-1)

Reading (:func:`read_raw`)
    * CSV / TSV / TXT: the encoding is detected among UTF-8, UTF-8 with BOM, GBK / GB18030 (and UTF-16 with a BOM,
      which is what Excel's "Unicode text" writes); the delimiter among ``,`` ``;`` and tab. pandas' C parser with
      its normal type inference does the reading, so a million rows take seconds.
    * Excel ``.xlsx`` / ``.xlsm`` (openpyxl; the first sheet unless ``sheet`` is given) and Parquet.
    * Header names are stripped of whitespace (and of a stray BOM); cells that are blank or one of
      :data:`MISSING_TOKENS` (``NA``, ``N/A``, ``null``, ``-`` …) become missing. Nothing else is changed.
    * Blank rows (before the header, between or after the data) are dropped, but every row keeps its place: the
      index is always the spreadsheet row minus 2, so messages name the row the user sees in Excel or an editor.
    * A file that cannot be read at all (damaged workbook or Parquet file, unclosed quote, …) is a DataError too;
      no other exception type leaves :func:`read_raw` for a bad file.

Validation (:func:`validate_frame`, :func:`read_table`)
    Canonical columns that are present are coerced (ids → text, so 1001 and 1001.0 join; numbers → float64;
    flags → Int8 0/1 with <NA>; dates → datetime64[ns]; text stripped) and checked against :data:`RULES`; other
    columns pass through untouched. Type problems are found by the ``coerce_*`` helpers, range / uniqueness /
    snapshot / cross-column rules by a pandera schema run lazily, whose first failure (in the file's column order)
    is reported. Messages name the column as it is called in the file (``tenure``, not ``tenure_days``, when the
    user mapped it). String work is done once per distinct value, never per row in Python.

Decisions worth knowing
    * Numbers: ``"1,234"`` and ``"1,234.5"`` (comma thousands separators in groups of three) are accepted;
      a decimal comma (``"1,5"``), currency signs and units are "not a number" — fix the export instead of guessing.
    * Dates: ISO ``2024-03-05`` (time allowed), ``2024/03/05``, ``2024.03.05``, ``2024年3月5日``, ``20240305``,
      real Excel dates, and Excel serial numbers between 20000 and 80000 (1954–2119). Day-first or month-first
      forms such as ``05/03/2024`` are ambiguous and rejected.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from loyaltylab.constants import EXPECTATION_ITEMS, IMPORTANCE_COLUMNS, PERCEPTION_ITEMS, TABLE_COLUMNS
from loyaltylab.errors import MAX_EXAMPLES, DataError, spreadsheet_row
from loyaltylab.paths import TABLES, display_path

__all__ = [
    "MISSING_TOKENS", "REQUIRED", "RULES", "DataError", "add_arguments", "apply_filters", "coerce_date", "coerce_flag",
    "coerce_numeric", "map_columns", "parse_map", "parse_snapshot", "range_rule", "read_raw", "read_table",
    "require_columns", "run", "summarize", "validate_frame",
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
}
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
    path, *, encoding: str | None = None, sep: str | None = None, sheet: str | int | None = None
) -> pd.DataFrame:
    """Read a CSV/TSV/TXT, Excel or Parquet file into a frame whose index is the file row minus 2.

    Row ``i`` of the frame is spreadsheet row ``i + 2`` (the header is row 1). Blank rows are dropped without
    renumbering, so the index has gaps where they were (and starts above 0 when blank rows precede the header);
    without blank rows it is a plain RangeIndex from 0. ``encoding`` and ``sep`` override detection for text files;
    ``sheet`` picks an Excel sheet (name or 0-based position). What was detected is kept in
    ``df.attrs["loyaltylab"]`` (source, format, encoding, sep, sheet). Any problem reading the file is a DataError.
    """
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

    info: dict = {"source": source, "path": str(p)}
    try:
        if suffix in TEXT_EXTENSIONS:
            df, header, used_encoding, used_sep = _read_text(p, source, encoding, sep)
            info.update(format="csv", encoding=used_encoding, sep=used_sep)
        elif suffix in EXCEL_EXTENSIONS:
            df, header, sheet_name = _read_excel(p, source, sheet)
            info.update(format="excel", sheet=sheet_name)
        else:
            df, header = _read_parquet(p, source), None
            info.update(format="parquet")
        df = _finish(df, header, source)
    except DataError:
        raise
    except Exception as exc:  # a safety net: whatever a reader raises for a damaged file, the user gets one line
        raise DataError(source, None, f"cannot read the file ({_exception_line(exc)})") from None
    df.attrs["loyaltylab"] = info
    return df


def _exception_line(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# Blank lines before the header: they are skipped, but counted, so row numbers stay the file's.
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t]*(?:\r\n|\r|\n))*")


def _read_text(p: Path, source: str, encoding: str | None, sep: str | None):
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
            raise DataError(source, None, "cannot detect the text encoding (not UTF-8, GBK or GB18030); "
                            "pass the encoding explicitly (--encoding)")
    try:
        text = codecs.getincrementaldecoder(enc)(errors="strict" if encoding else "replace").decode(raw, complete)
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
        sep = _detect_sep(text, complete, default="\t" if p.suffix.lower() == ".tsv" else ",")
    header = _parse_header(text, sep)

    fallbacks = {"utf-8": ["utf-8", "gbk", "gb18030"], "gbk": ["gbk", "gb18030"]}  # a sample can mislead
    candidates = [enc] if encoding else fallbacks.get(enc, [enc])
    for i, candidate in enumerate(candidates):
        try:
            # Blank lines are kept (as empty rows, dropped later) so the index stays the file's row numbering.
            df = pd.read_csv(
                p, sep=sep, encoding=candidate, engine="c", na_values=[*MISSING_TOKENS, " "], keep_default_na=False,
                skipinitialspace=True, low_memory=False, skip_blank_lines=False, skiprows=skip,
            )
            df.index = pd.RangeIndex(skip, skip + len(df))
            return df, header, candidate, sep
        except UnicodeError as exc:
            if not isinstance(exc, UnicodeDecodeError):  # e.g. "UTF-16 stream does not start with BOM"
                raise DataError(source, None, f"cannot decode the file as {candidate} ({exc})") from None
            if i + 1 < len(candidates):
                continue
            tried = " or ".join(ENCODING_LABELS.get(c, c) for c in candidates)
            raise DataError(source, None, f"cannot decode the file as {tried} ({exc.reason} at byte {exc.start}); "
                            "pass the encoding explicitly (--encoding)") from None
        except pd.errors.EmptyDataError:
            raise DataError(source, None, "file is empty") from None
        except pd.errors.ParserError as exc:
            raise DataError(source, None, _parser_message(str(exc), sep)) from None
        except OSError as exc:
            raise DataError(source, None, f"cannot open the file ({exc.strerror or exc})") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _detect_encoding(raw: bytes, complete: bool) -> str | None:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            codecs.getincrementaldecoder(enc)().decode(raw, complete)
            return enc
        except UnicodeDecodeError:
            continue
    return None


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
            records.append(record)
            if len(records) > limit:
                break
    except csv.Error:
        pass
    if not complete and len(records) > 1 and len(records) <= limit:
        records = records[:-1]  # the sample may end inside the last record
    return [r for r in records if r]


def _detect_sep(text: str, complete: bool, default: str) -> str:
    """The delimiter giving the header the most fields, provided most data rows agree with the header."""
    best, best_score = default, (0.0, 1)
    for sep in DELIMITERS:
        records = _sample_records(text, complete, sep)
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        body = records[1:]
        consistency = sum(len(r) == width for r in body) / len(body) if body else 1.0
        score = (round(consistency, 2), width)
        if score > best_score:
            best, best_score = sep, score
    return best


def _parse_header(text: str, sep: str) -> list[str] | None:
    try:
        first = next(csv.reader(_io.StringIO(text), delimiter=sep, skipinitialspace=True), None)
    except csv.Error:
        return None
    return first


def _parser_message(message: str, sep: str) -> str:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    label = DELIMITER_LABELS.get(sep, repr(sep))
    if m:
        expected, line, saw = m.groups()
        return (f"row {line} has {saw} fields but the header has {expected} "
                f"(check the delimiter, {label}, and quotes)")
    m = re.search(r"EOF inside string starting at row (\d+)", message)
    if m:  # the tokenizer counts rows from 0, the header included
        return (f"unclosed quote: the quoted value starting in row {int(m.group(1)) + 1} never ends "
                "(a \" without its closing \")")
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return f"cannot parse the file as delimited text with delimiter {label} ({first})"


def _read_excel(p: Path, source: str, sheet):
    try:
        book = pd.ExcelFile(p, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged or disguised file
        raise DataError(source, None, f"cannot read as an Excel workbook ({type(exc).__name__})") from None
    with book:
        names = book.sheet_names
        if sheet is None:
            sheet_name = names[0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise DataError(source, None, f"no sheet number {sheet} (sheets: {', '.join(names)})")
            sheet_name = names[sheet]
        elif str(sheet) in names:
            sheet_name = str(sheet)
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
            df = book.parse(sheet_name, skiprows=skip, na_values=[*MISSING_TOKENS, " "], keep_default_na=False)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(source, None, f"cannot read sheet {sheet_name!r} ({_exception_line(exc)})") from None
    df.index = pd.RangeIndex(skip, skip + len(df))
    return df, header, sheet_name


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


def _clean_name(name) -> str:
    return str(name).replace("\ufeff", "").strip()


def _finish(df: pd.DataFrame, header: list[str] | None, source: str) -> pd.DataFrame:
    """Strip header names, refuse duplicates, drop empty unnamed columns, blank tokens → missing, drop blank rows
    (keeping the index: row ``i`` stays file row ``i + 2``)."""
    raw = [_clean_name(h) for h in header] if header is not None and len(header) == df.shape[1] else None
    names = raw if raw is not None else [_clean_name(c) for c in df.columns]
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name:
            seen.setdefault(name, []).append(i)
    for name, where in seen.items():
        if len(where) > 1:
            cols = " and ".join(_column_letter(i) for i in where)
            raise DataError(source, name, f"duplicated column name (columns {cols}); rename or remove one")
    pandas_names = [_clean_name(c) for c in df.columns]
    final = [name if name else (pandas_names[i] or f"Unnamed: {i}") for i, name in enumerate(names)]
    if len(set(final)) != len(final):  # a blank header got the same name as a real one
        final = [name if final.count(name) == 1 or names[i] else f"unnamed_{_column_letter(i)}"
                 for i, name in enumerate(final)]
    df.columns = final
    blank_named = [final[i] for i, name in enumerate(names) if not name]
    empty = [c for c in blank_named if df[c].isna().all()]
    if empty:
        df = df.drop(columns=empty)  # trailing delimiters / empty spreadsheet columns
    if df.shape[1] == 0:
        raise DataError(source, None, "file is empty")
    for col in df.select_dtypes(include="object").columns:
        if _nested_mask(df[col]) is not None:
            continue  # lists / structs (Parquet): left as they are; validate_frame refuses them in canonical columns
        blank = _blank(df[col])
        if (blank & df[col].notna()).any():
            df[col] = df[col].mask(blank)
    empty_rows = df.isna().all(axis=1).to_numpy()
    if empty_rows.any():
        df = df.loc[~empty_rows]  # blank lines / rows: dropped, but the others keep their row numbers
    if len(df) == 0:
        raise DataError(source, None, "no data rows (the file has only a header)")
    return df


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


def _check_scalar(s: pd.Series, label: str, source) -> None:
    mask = _nested_mask(s)
    if mask is None:
        return
    where = s.index[mask][:MAX_EXAMPLES]
    values = [v.tolist() if isinstance(v, np.ndarray) else v for v in s.to_numpy()[mask][:MAX_EXAMPLES]]
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


def _parse_date_text(text: pd.Series) -> pd.Series:
    norm = (text.str.replace(r"^(\d{4})\s*[/.年-]\s*(\d{1,2})\s*[/.月-]\s*(\d{1,2})(?:\s*日)?", r"\1-\2-\3", regex=True)
            .str.replace(r"\s+", " ", regex=True).str.strip()
            # a UTC offset is dropped: the local wall-clock date is the business date
            .str.replace(r"(\d:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}:?\d{2})$", r"\1", regex=True))
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
    Excel serial numbers; anything else → DataError. ``not_after`` (the snapshot date) → "date after the snapshot"
    for any date on a later day.
    """
    s = _get(df, column, source)
    out = _to_date(s, column, source)
    snapshot = parse_snapshot(not_after)
    if snapshot is not None:
        late = out >= snapshot + pd.Timedelta(days=1)
        if late.any():
            raise _error(source, column, _snapshot_rule(snapshot), s, late)
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
    for column in columns:
        if column not in df.columns:
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
    for user, canon in columns.items():
        if user not in df.columns:
            raise DataError(source, str(user), "column to map is not in the file"
                            + _did_you_mean(user, df.columns) + f"; available columns: {_name_list(list(df.columns))}")
        if canon not in canonical:
            raise DataError(source, str(user), f"cannot map onto '{canon}': not a column of the {table} table"
                            + _did_you_mean(canon, canonical) + f"; {table} columns: {_name_list(canonical, 12)}")
        if canon in targets:
            raise DataError(source, canon, f"mapped from two columns, '{targets[canon]}' and '{user}'")
        if canon in df.columns and canon not in columns and canon != user:
            raise DataError(source, canon, f"already in the file; cannot also map '{user}' onto it")
        targets[canon] = user
    out = df.rename(columns=dict(columns))
    info = dict(df.attrs.get("loyaltylab", {}))
    info["mapped"] = {c: u for c, u in targets.items() if c != u}
    out.attrs["loyaltylab"] = info
    return out


def _did_you_mean(name, choices) -> str:
    guess = _closest(str(name), list(choices))
    return f" (did you mean '{guess}'?)" if guess else ""


def read_table(path, table: str, *, columns: Mapping[str, str] | None = None, required: Iterable[str] | None = None,
               snapshot_date=None, encoding: str | None = None, sep: str | None = None,
               sheet: str | int | None = None) -> pd.DataFrame:
    """:func:`read_raw` + :func:`map_columns` + :func:`require_columns` + :func:`validate_frame`.

    ``required`` defaults to :data:`REQUIRED` for the table (pass ``()`` to require nothing).
    """
    _check_table(table)
    snapshot = parse_snapshot(snapshot_date)
    df = read_raw(path, encoding=encoding, sep=sep, sheet=sheet)
    source = df.attrs["loyaltylab"]["source"]
    df = map_columns(df, table, columns, source=source)
    require_columns(df, REQUIRED[table] if required is None else required, source=source)
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
        rule, s, label = rules[col], out[col], labels.get(col, col)
        if isinstance(s, pd.DataFrame):
            raise DataError(source, label, "duplicated column name")
        _check_scalar(s, label, source)
        try:
            if rule.kind in ("key", "id"):
                out[col] = _to_id(s)
            elif rule.kind == "text":
                out[col] = _to_text(s)
            elif rule.kind == "date":
                out[col] = _to_date(s, label, source)
            elif rule.kind == "flag":
                out[col] = _to_flag(s, label, source)
            elif rule.kind == "number":
                values = _to_float(s, label, source)
                _check_numbers(values, s, label, source, integer=rule.integer)
                out[col] = values
        except DataError:
            raise
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:  # a value type no rule foresaw
            raise DataError(source, label, f"unsupported values ({_exception_line(exc)})") from None
    _validate_schema(out, df, table, present, source, snapshot, labels)
    return out


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
    if isinstance(x, pd.Timestamp):
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
        raise DataError(source, labels.get(first_col, first_col), rule,
                        rows=[spreadsheet_row(i) for i in examples],
                        values=[_display(_plain(shown.loc[i])) for i in examples], n_bad=len(index))
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
    parser.add_argument("--encoding", default=None, help="text encoding (default: detect UTF-8 / BOM / GBK)")
    parser.add_argument("--sep", default=None, help="delimiter: ',', ';', 'tab' (default: detect)")
    parser.add_argument("--sheet", default=None, help="Excel sheet name (default: the first sheet)")


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
