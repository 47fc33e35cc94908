"""The fast path of :mod:`loyaltylab.io`: UTF-8 CSV and Parquet files read with pyarrow and checked on Arrow arrays.

io's pandas path stays the reference: it reads every file this module declines and gives every message. Here a file
is read (CSV: every field as text, then typed the way pandas' C parser types it; Parquet: as ``pd.read_parquet``
reads it), checked column by column with vectorised Arrow / numpy operations (missing-value tokens, whitespace at
either end of a cell, totals rows, ids, dates and flags once per distinct value, ranges, uniqueness) and the frame is
built once, without the per-column string hashing of the pandas path. The moment anything is not plain — a cell
starting with a space, a number pandas and Arrow might parse differently, a NUL byte, rows of different widths, a
non-UTF-8 file, a nested or dictionary Parquet type, any rule broken — ``None`` is returned and io reads the file
again its own way, so frames and one-line errors are always the reference's. tests/test_io.py compares both paths
on tricky files; benchmarks/bench_io.py measures this one against ``pd.read_parquet`` and ``pyarrow.csv``.
"""
from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from loyaltylab import io as _io
from loyaltylab.errors import DataError
from loyaltylab.parallel import in_threads

ENABLED = os.environ.get("LOYALTYLAB_IO_ARROW", "1") != "0"
"""False (or ``LOYALTYLAB_IO_ARROW=0`` in the environment, also for notebook kernels): every file is read by io's
pandas path — the reference, for tests comparing the two paths and for measuring the speed before this module."""
STRICT = False
"""Tests set this: an unexpected exception in the fast path then propagates instead of falling back."""

BLOCK_BYTES = 4 << 20  # pyarrow's CSV block: fewer, larger chunks than its 1 MiB default

_LEADING_BLANK_BYTES = re.compile(rb"(?:[ \t]*(?:\r\n|\r|\n))*")
_NEWLINES = re.compile(rb"\r\n|\r|\n")


class _Decline(Exception):
    """Not a plain file (or a rule is broken): io's reference path reads it."""


def _lut(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars, dtype=np.uint8)] = True
    return table


_PLAIN_NUMBER_BYTES = _lut(b"0123456789.-")  # numbers pandas and Arrow parse alike (no +, e, x, inf, nan, spaces)
# Python's str.strip() whitespace, by the UTF-8 bytes that start and end it.
_ASCII_SPACE = _lut(bytes([*range(0x09, 0x0E), *range(0x1C, 0x21)]))
_WIDE_SPACES = tuple(ch.encode() for ch in map(chr, range(0x80, 0x3001)) if ch.isspace())
_WIDE_2 = np.array([int.from_bytes(s, "big") for s in _WIDE_SPACES if len(s) == 2], dtype=np.int64)
_WIDE_3 = np.array([int.from_bytes(s, "big") for s in _WIDE_SPACES if len(s) == 3], dtype=np.int64)
# A cell's first / last byte, classified at once: 1 = ASCII whitespace, 2 = may start / end a wide space (checked
# on its 2–3 bytes), 4 = a space (pandas' skipinitialspace would drop it; first byte only), 8 = may start a totals
# label (io._TOTAL_SPELLINGS; with the label's length, it picks the cells worth comparing).
_TOTAL_FIRST = _lut(bytes({w.encode()[0] for w in _io._TOTAL_SPELLINGS}))
_TOTAL_LENGTH = np.zeros(64, dtype=bool)
_TOTAL_LENGTH[[len(w.encode()) for w in _io._TOTAL_SPELLINGS]] = True
_FIRST_CLASS = (_ASCII_SPACE * 1 + _lut(bytes({s[0] for s in _WIDE_SPACES})) * 2 + _lut(b" ") * 4
                + _TOTAL_FIRST * 8).astype(np.uint8)
_LAST_CLASS = (_ASCII_SPACE * 1 + _lut(bytes({s[-1] for s in _WIDE_SPACES})) * 2).astype(np.uint8)

# What pandas' C parser could still read as a number or a boolean (a superset: anything else is surely text).
_MAYBE_NUMBER = re.compile(r"[ \t\n\r\f\v]*[+-]?[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]*)?[ \t\n\r\f\v]*")
_MAYBE_WORD = re.compile(r"\s*[+-]?(?:inf|infinity|nan|true|false)\s*", re.IGNORECASE)


def _is_text_witness(value: str) -> bool:
    """A value pandas cannot read as a number or a boolean: its column is surely text (object) in pandas."""
    return not (_MAYBE_NUMBER.fullmatch(value) or _MAYBE_WORD.fullmatch(value))


# --------------------------------------------------------------------------------------------------------------------
# Entry points (called by io.read_raw / io.read_table)
# --------------------------------------------------------------------------------------------------------------------
def read_raw(p: Path, source: str, suffix: str, encoding, sep, ids: frozenset[str]) -> pd.DataFrame | None:
    """:func:`loyaltylab.io.read_raw`'s frame, or None when io must read the file itself."""
    return _guarded(lambda: _load(p, source, suffix, encoding, sep, ids).raw_frame())


def read_table(p: Path, source: str, suffix: str, table: str, columns, required, snapshot, encoding, sep,
               ids: frozenset[str], usecols=None) -> tuple[pd.DataFrame | None, bool]:
    """(:func:`loyaltylab.io.read_table`'s frame or None, whether the file itself read plainly). None and True: a
    rule is broken, and :func:`read_raw` gives io the frame to judge quickly; None and False: io reads it too."""
    if not ENABLED:
        return None, False
    loaded = _guarded(lambda: _load(p, source, suffix, encoding, sep, ids))
    if loaded is None:
        return None, False
    return _guarded(lambda: _validated(loaded, table, columns, required, snapshot, usecols)), True


def _guarded(fn):
    if not ENABLED:
        return None
    try:
        return fn()
    except (_Decline, DataError):
        return None
    except Exception:  # pyarrow parse errors, invalid UTF-8, …: the reference path reads and explains the file
        if STRICT and not _expected_failure():
            raise
        return None
    finally:
        _release_arrow_memory()


def _release_arrow_memory() -> None:
    """Hand the memory Arrow freed while reading back to the system. Its allocator keeps freed pages for reuse, and
    the analysis that follows allocates with numpy, not Arrow: without this the kernel's peak at 1M customers held
    some 300 MB per table that nothing used (the overview peaked at 2.2 GB)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _expected_failure() -> bool:
    """pyarrow and decoding failures are declines; anything else is a bug (raised in STRICT mode)."""
    import sys

    import pyarrow as pa

    exc = sys.exc_info()[1]
    return isinstance(exc, (pa.ArrowException, UnicodeError, OSError, LookupError))


# --------------------------------------------------------------------------------------------------------------------
# One column
# --------------------------------------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Column:
    """One column of the file: Arrow strings (``arrow``; object in pandas) or pandas ``values`` (numbers, dates)."""

    name: str
    arrow: object = None          # pa.ChunkedArray of strings (text columns)
    values: np.ndarray | None = None  # pandas values (non-text columns; text columns once converted)
    null: np.ndarray | None = None    # text: missing per row (Arrow nulls, then blank tokens)
    blank: np.ndarray | None = None   # text: non-null cells that are blank tokens ("NA ", "", …)
    odd: np.ndarray | None = None     # text: cells whose first or last character is whitespace
    total: np.ndarray | None = None   # text: the rows that may hold a totals label (_TextFacts.total)
    days: np.ndarray | None = None    # text: every cell a plain YYYY-MM-DD date: days since 1970 (_iso_days)
    nan_nulls: bool = True            # text: Arrow nulls become NaN (CSV) or stay None (Parquet, like pandas)
    clean_ids: bool = False           # an id column of numbers already turned into clean text (io._raw_ids)
    unnamed: bool = False             # a blank header, named column_C (dropped when the column is empty)
    tokens: bool = False              # text: non-null cells may be missing-value tokens (Parquet; CSV has none)

    @property
    def text(self) -> bool:
        return self.arrow is not None

    def free(self) -> None:
        """Let go of the data read (once the column has been converted)."""
        self.arrow = self.values = self.days = None

    def isna(self) -> np.ndarray:
        return self.null if self.text else np.asarray(pd.isna(self.values))

    def objects(self, strip: bool = False, nan: bool = False) -> np.ndarray:
        """A text column's cells as pandas holds them: strings, missing NaN (CSV, like pandas' C parser) or None
        (Parquet, like pd.read_parquet; all NaN once a blank token is masked), blank tokens NaN. ``strip``: strings
        stripped and ``nan``: every missing cell NaN (what io._to_text / io._to_id return)."""
        strip = strip and bool(self.odd.any())
        if self.values is None:  # CSV: Arrow strings → Python objects
            values = self.arrow.to_pandas(deduplicate_objects=_shared_strings(self.arrow)).to_numpy()
            if not values.flags.writeable:
                values = values.copy()
            values[self.null] = np.nan
        elif not (strip or nan or self.blank is not None):
            return self.values
        else:  # pandas' Series.mask on the blank cells turns every missing cell into NaN (io._finish)
            values = self.values  # this column's own array (read_parquet's frame is gone): changed in place
            if nan or self.blank is not None:
                values[self.null] = np.nan
        if strip:
            where = np.flatnonzero(self.odd & ~self.null)
            values[where] = [v.strip() for v in values[where]]
        return values


def _shared_strings(ca, sample: int = 10_000) -> bool:
    """Whether equal cells should share one Python string (pyarrow's default: less memory for repeated values),
    judged on the first cells: not for columns of nearly all different values (ids), where sharing costs a hash
    per cell and saves nothing — 4× faster for a million ids."""
    import pyarrow.compute as pc

    head = ca.slice(0, min(len(ca), sample))
    filled = len(head) - head.null_count
    return filled == 0 or pc.count_distinct(head).as_py() < 0.9 * filled


def _string_parts(chunk) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(offsets, data bytes, validity or None) of one Arrow string chunk, as numpy views (no copy)."""
    import pyarrow as pa

    validity, offsets, data = chunk.buffers()[:3]
    kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    off = np.frombuffer(offsets, dtype=kind)[chunk.offset: chunk.offset + len(chunk) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(0, np.uint8)
    valid = None if chunk.null_count == 0 else chunk.is_valid().to_numpy(zero_copy_only=False)
    return off, raw, valid


def _chunks(ca) -> list:
    return list(ca.chunks) if hasattr(ca, "chunks") else [ca]


class _TextFacts(NamedTuple):
    null: np.ndarray   # missing (Arrow null)
    odd: np.ndarray    # empty, or first / last character whitespace (what Python's str.strip() removes)
    space: bool        # some cell starts with a space
    nul: bool          # some NUL byte
    total: np.ndarray  # rows that may hold a totals label (first byte and length of one): the rest surely do not


def _text_facts(ca) -> _TextFacts:
    """What the checks need to know of a string column's cells, chunk by chunk, from their first and last bytes
    and lengths (no copy of the strings)."""
    parts, at = [], 0
    for chunk in _chunks(ca):
        facts = _chunk_text_facts(chunk)
        parts.append(facts._replace(total=facts.total + at))
        at += len(chunk)
    if not parts:
        empty = np.zeros(0, bool)
        return _TextFacts(empty, empty, False, False, np.zeros(0, np.int64))
    return _TextFacts(np.concatenate([f.null for f in parts]), np.concatenate([f.odd for f in parts]),
                      any(f.space for f in parts), any(f.nul for f in parts),
                      np.concatenate([f.total for f in parts]))


def _chunk_text_facts(arr) -> _TextFacts:
    off, raw, valid = _string_parts(arr)
    n = len(arr)
    null = np.zeros(n, dtype=bool) if valid is None else ~valid
    starts, ends = off[:-1], off[1:]
    length = ends - starts
    body = raw[off[0]:off[-1]] if n else raw[:0]
    has_nul = bool(body.size) and not body.all()
    live = (length > 0) & ~null
    if body.size == 0:
        return _TextFacts(null, (length == 0) & ~null, False, has_nul, np.zeros(0, np.int64))
    top = raw.size - 1
    flags = _FIRST_CLASS[raw.take(starts, mode="clip")] | _LAST_CLASS[raw.take(ends - 1, mode="clip")]
    flags[~live] = 0  # an empty cell's "first byte" is the next cell's
    space_start = bool((flags & 4).any())
    total = np.flatnonzero((flags & 8).astype(bool) & _TOTAL_LENGTH[np.minimum(length, _TOTAL_LENGTH.size - 1)])
    odd = (flags & 1).astype(bool)
    maybe = np.flatnonzero((flags & 2) != 0)
    if maybe.size:  # the 2- or 3-byte codes at either end, compared with the wide spaces' codes
        s, e, size = starts[maybe], ends[maybe], length[maybe]

        def byte(pos):
            return raw[np.clip(pos, 0, top)].astype(np.int64)

        head2, tail2 = byte(s) << 8 | byte(s + 1), byte(e - 2) << 8 | byte(e - 1)
        head3, tail3 = head2 << 8 | byte(s + 2), byte(e - 3) << 16 | tail2
        hit = (size >= 2) & (np.isin(head2, _WIDE_2) | np.isin(tail2, _WIDE_2))
        hit |= (size >= 3) & (np.isin(head3, _WIDE_3) | np.isin(tail3, _WIDE_3))
        odd[maybe[hit]] = True
    odd |= (length == 0) & ~null
    return _TextFacts(null, odd, space_start, has_nul, total)


def _number_shape(ca) -> tuple[bool, int] | None:
    """(has a decimal point, at most how many digits a cell has) when every byte is a digit, '.' or a leading
    '-' — numbers pandas' C parser and Arrow read alike, once Arrow's cast accepts them — and None otherwise
    ('+', exponents, hex, inf/nan, spaces, dates …, which the two read differently or not as numbers). Bytes
    only, chunk by chunk: no cell becomes a Python object, and a text column is recognised at its first letter."""
    has_dot, digits, cells = False, 0, 0
    for chunk in _chunks(ca):
        shape = _chunk_number_shape(chunk)
        if shape is None:
            return None
        has_dot, digits, cells = has_dot or shape[0], max(digits, shape[1]), cells + shape[2]
    return (has_dot, digits) if cells else None


def _chunk_number_shape(arr) -> tuple[bool, int, int] | None:
    off, raw, valid = _string_parts(arr)
    if len(off) < 2 or off[-1] == off[0]:
        return False, 0, 0  # no cell with a value in this chunk
    body = raw[off[0]:off[-1]]
    head = body[:min(body.size, 4096)]  # text and dates show on their first cells: no full pass over them
    if not _PLAIN_NUMBER_BYTES[head].all() or (head[1:] == 0x2D).any() and not _leading_minus_only(off, raw):
        return None
    length = np.diff(off).astype(np.int64)
    if body.min() >= 0x30 and body.max() <= 0x39:  # digits only: whole numbers (the usual case)
        live = length if valid is None else length[valid]
        return False, int(live.max(initial=0)), int(live.size)
    counts = np.bincount(body, minlength=256)  # one pass over the bytes answers which kinds there are
    if counts[~_PLAIN_NUMBER_BYTES].any():
        return None
    rel = (off - off[0]).astype(np.int64)
    digits = length
    if counts[0x2D]:
        leading = (length > 0) & (body[np.minimum(rel[:-1], body.size - 1)] == 0x2D)
        if int(counts[0x2D]) != int(leading.sum()):
            return None  # a '-' inside a cell: 2024-03-05, 1-2
        digits = length - leading
    has_dot = bool(counts[0x2E])
    if has_dot and digits.max(initial=0) > 15:  # count the digits exactly only when it matters
        seen = np.concatenate(([0], np.cumsum(body == 0x2E, dtype=np.int64)))
        digits = digits - (seen[rel[1:]] - seen[rel[:-1]])
    live = digits if valid is None else digits[valid]
    return has_dot, int(live.max(initial=0)), int(live.size)


_ISO_DAYS = (-106_751, 106_750)  # 1677-09-22 … 2262-04-10: the days pandas' datetime64[ns] holds whole


def _iso_days(ca) -> tuple[np.ndarray, np.ndarray] | None:
    """(days since 1970 as int32, missing) of a column whose every cell is a valid ``YYYY-MM-DD`` date — what io's
    date parser makes of such cells (``pd.to_datetime(format="ISO8601")``: that day at midnight), by Arrow's strict
    date cast (it refuses 2023-02-29, 2023-2-5 or a trailing letter) — or None when a cell is anything else (io's
    parser then decides)."""
    import pyarrow as pa

    for chunk in _chunks(ca):
        off, _, valid = _string_parts(chunk)
        length = np.diff(off)
        live = length if valid is None else length[valid]
        if live.size and (live.min() != 10 or live.max() != 10):
            return None
    try:
        dates = ca.cast(pa.date32())
    except pa.ArrowInvalid:
        return None
    chunks = _chunks(dates)
    if not chunks:
        return None
    days = np.concatenate([np.frombuffer(c.buffers()[1], dtype=np.int32)[c.offset: c.offset + len(c)]
                           for c in chunks])
    null = np.concatenate([c.is_null().to_numpy(zero_copy_only=False) for c in chunks])
    live_days = days[~null] if null.any() else days
    if live_days.size and (live_days.min() < _ISO_DAYS[0] or live_days.max() > _ISO_DAYS[1]):
        return None
    return days, null


def _leading_minus_only(off: np.ndarray, raw: np.ndarray, cells: int = 512) -> bool:
    """In the first ``cells`` cells, every '-' starts its cell (no date, no range)."""
    part = off[:cells + 1]
    body = raw[part[0]:part[-1]]
    rel = part[:-1] - part[0]
    leading = (np.diff(part) > 0) & (body[np.minimum(rel, max(body.size - 1, 0))] == 0x2D) if body.size else rel < 0
    return int(np.count_nonzero(body == 0x2D)) == int(leading.sum())


def _cells(ca, rows: np.ndarray):
    """The cells of ``ca`` at ``rows`` (increasing), as an Arrow array: a few, without Arrow's take on a chunked
    array joining its chunks first (a copy of the whole column)."""
    import pyarrow as pa

    if len(rows) > 64:
        return ca.take(pa.array(rows))
    return pa.array([ca[int(i)].as_py() for i in rows], pa.string())


def _blank_cells(ca, odd: np.ndarray, tokens_possible: bool) -> np.ndarray | None:
    """Non-null cells that io treats as missing: a token (``NA``, ``-`` …) once stripped (io._blank)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    candidates = odd.copy()
    if tokens_possible:
        hit = pc.is_in(ca, value_set=pa.array(_io.MISSING_TOKENS, pa.string()))
        candidates |= pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
    where = np.flatnonzero(candidates)
    if not where.size:
        return None
    cells = _cells(ca, where).to_pylist()
    blank = np.zeros(len(odd), dtype=bool)
    blank[where] = [v is not None and v.strip() in _io.MISSING_TOKENS for v in cells]
    return blank if blank.any() else None


def _has_text_witness(arr) -> bool:
    """Some cell pandas surely keeps as text (scans until the first one; text columns stop at their first cell)."""
    for start in range(0, len(arr), 4096):
        if any(v is not None and _is_text_witness(v) for v in arr.slice(start, 4096).to_pylist()):
            return True
    return False


def _csv_column(name: str, ca, is_id: bool) -> _Column:
    """Type one all-text CSV column as pandas' C parser would (id columns stay text); decline when unsure."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(ca)
    if not is_id:
        if ca.null_count == n:
            return _Column(name, values=np.full(n, np.nan))
        shape = _number_shape(ca)
        number = None
        if shape is not None:
            has_dot, digits = shape
            try:
                number = pc.cast(ca, pa.float64() if has_dot else pa.int64())
            except pa.ArrowInvalid:  # "1.2.3", ".", or an integer beyond int64 (no text witness: declined)
                number = None
        if number is not None:
            if digits > 15 and (has_dot or number.null_count):
                raise _Decline  # pandas' float parser may round 16–17 digits differently from Arrow's
            if not has_dot and number.null_count:
                number = pc.cast(number, pa.float64())  # whole numbers beside missing cells: floats, NaN
            return _Column(name, values=_own_numbers(number))
        if not _has_text_witness(ca):
            raise _Decline  # numbers pandas reads and Arrow does not ("+5", "5 "), or true/false
    iso = None if is_id else _iso_days(ca)
    if iso is not None:  # plain dates: nothing to strip, no token, no totals label
        return _Column(name, arrow=ca, null=iso[1], odd=np.zeros(n, dtype=bool), total=np.zeros(0, np.int64),
                       days=iso[0])
    facts = _text_facts(ca)
    if facts.space or facts.nul:
        raise _Decline  # skipinitialspace / a NUL byte: pandas reads such cells differently
    return _Column(name, arrow=ca, null=facts.null, odd=facts.odd, total=facts.total)


def _own_numbers(ca) -> np.ndarray:
    """A numeric Arrow column as a writable numpy array, Arrow's nulls NaN: its chunks joined into new memory (one
    copy, not Arrow's joined copy and then a writable one)."""
    chunks = _chunks(ca)
    if len(chunks) < 2:
        return _writable(ca.to_numpy())
    return np.concatenate([c.to_numpy(zero_copy_only=False) for c in chunks])


def _writable(values):
    """Arrow may hand out its own (read-only) memory (zero-copy conversion); pandas columns are writable, like
    pandas' readers make them. ``values``: a numpy array or a pandas extension array (tz-aware dates, Int64)."""
    data = values if isinstance(values, np.ndarray) else getattr(values, "_ndarray", getattr(values, "_data", None))
    return values if not isinstance(data, np.ndarray) or data.flags.writeable else values.copy()


# --------------------------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------------------------
@dataclass
class _Loaded:
    """A file read and finished like io._finish: columns, row index, attrs."""

    columns: list[_Column]
    index: pd.Index
    keep: np.ndarray | None      # rows kept (blank rows dropped), over the rows as read; None: all
    attrs: dict
    ids: frozenset[str]
    source: str

    def raw_frame(self) -> pd.DataFrame:
        """io.read_raw's frame (each column's Arrow data freed once converted)."""
        data = {}
        for c in self.columns:
            data[c.name] = _raw_values(c, self)
            c.free()
        frame = _frame(data, self.index)
        frame.attrs = self.attrs
        return frame


def _rows(values: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
    return values if keep is None else values[keep]


def _raw_values(col: _Column, loaded: _Loaded) -> np.ndarray:
    if not col.text:
        return _rows(col.values, loaded.keep)
    to_id = _io._key(col.name) in loaded.ids and not col.clean_ids and col.null.any()
    return _rows(col.objects(strip=to_id, nan=to_id), loaded.keep)


THREADS_FROM = 50_000
"""From this many rows, columns are typed two at a time (numpy and Arrow release the GIL)."""

MAX_BLOCKS = 100
"""pandas warns about a frame of more blocks ("highly fragmented") when a column is added: consolidate above."""


def _frame(data: dict, index: pd.Index) -> pd.DataFrame:
    """The columns as one frame, each column its own block (no copy into 2-D blocks: the peak memory of a big
    read stays one table); consolidated when that would be more blocks than pandas likes."""
    frame = pd.DataFrame({k: v if isinstance(v, pd.Series) else pd.Series(v, index=index, copy=False)
                          for k, v in data.items()}, index=index, copy=False)
    frame.columns = pd.Index(list(data), dtype=object)
    return frame.copy() if frame.shape[1] > MAX_BLOCKS else frame


def _load(p: Path, source: str, suffix: str, encoding, sep, ids: frozenset[str]) -> _Loaded:
    if pd.get_option("future.infer_string"):
        raise _Decline  # pandas' own readers then make string columns, not the object columns built here
    info: dict = {"source": source, "path": str(p)}
    if suffix in _io.TEXT_EXTENSIONS:
        columns, index, enc, used_sep = _read_csv(p, source, suffix, encoding, sep, ids)
        info.update(format="csv", encoding=enc, sep=used_sep)
        attrs = {}
    elif suffix in _io.PARQUET_EXTENSIONS:
        columns, index, attrs = _read_parquet(p, source)
        info.update(format="parquet")
    else:
        raise _Decline
    names = [c.name for c in columns]
    loaded = _io._finish(_Read(columns, index), names, {c.name for c in columns if c.unnamed}, source, ids)
    info["id_columns"] = [c.name for c in loaded.columns if _io._key(c.name) in ids]
    info["totals_checked"] = True
    loaded.attrs = {**attrs, "loyaltylab": info}
    return loaded


def _read_csv(p: Path, source: str, suffix: str, encoding, sep, ids):
    """The file as typed columns, as io._read_text + pandas' C parser would give them."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with open(p, "rb") as fh:
        raw = fh.read(_io.SAMPLE_BYTES)
    complete = len(raw) < _io.SAMPLE_BYTES
    if encoding:
        enc = encoding
        codec = codecs.lookup(encoding).name
    else:
        enc = _io._detect_encoding(raw, complete)
        if enc is None:
            raise _Decline
        codec = codecs.lookup(enc).name
    if codec not in ("utf-8", "utf-8-sig"):
        raise _Decline
    layout = _io._text_layout(raw, complete, enc, bool(encoding), sep, suffix, source)
    bom = raw.startswith(codecs.BOM_UTF8)
    if layout.sep in (" ", "\r", "\n") or (bom and codec == "utf-8"):
        raise _Decline
    lead = _LEADING_BLANK_BYTES.match(raw, 3 if bom else 0)
    if len(_NEWLINES.findall(lead.group(0))) != layout.skip:
        raise _Decline
    ends = [i for i in (raw.find(b"\n", lead.end()), raw.find(b"\r", lead.end())) if i >= 0]
    if not ends or b'"' in raw[lead.end():min(ends)]:
        raise _Decline  # no data row in the sample, or a quoted header (may span lines)
    stop = min(ends)
    start = stop + (2 if raw[stop:stop + 2] == b"\r\n" else 1)
    names, blank = _io._header_names(layout.header, source)
    width = max(len(names), layout.max_width)
    fields = [f"f{i}" for i in range(width)]
    with pa.OSFile(str(p)) as fh:
        if fh.size() <= start:
            raise _Decline
        fh.seek(start)
        table = pacsv.read_csv(
            fh,
            read_options=pacsv.ReadOptions(column_names=fields, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=layout.sep, quote_char='"', double_quote=True,
                                             escape_char=False, newlines_in_values=_has_quote(p, start),
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={f: pa.string() for f in fields},
                                                 null_values=list(_io.MISSING_TOKENS), strings_can_be_null=True,
                                                 quoted_strings_can_be_null=True, check_utf8=True),
        )
    n = table.num_rows
    if n == 0:
        raise _Decline
    arrays = table.columns
    del table
    _require_closed_quotes(p, [a[n - 1].as_py() for a in arrays], layout.sep)
    for extra in arrays[len(names):]:
        if extra.null_count != n:
            raise _Decline  # a value beyond the header: io names the rows
    arrays = arrays[:len(names)]

    def typed(i: int) -> _Column:
        column = _csv_column(names[i], arrays[i], _io._key(names[i]) in ids)
        arrays[i] = None  # a column typed as numbers frees its Arrow text
        return column

    columns = in_threads(typed, range(len(names)), when=n >= THREADS_FROM)
    for c in columns:
        c.unnamed = c.name in blank
    return columns, pd.RangeIndex(layout.skip, layout.skip + n), enc, layout.sep


def _has_quote(p: Path, start: int) -> bool:
    """Whether a quote follows ``start`` in the file: only a quoted value can hold a line break, and Arrow splits a
    file without one into blocks at any line break, ~40% faster (one memchr over the mapped file)."""
    import mmap

    with open(p, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        return mapped.find(b'"', start) >= 0


def _require_closed_quotes(p: Path, last_row: list, sep: str) -> None:
    """pyarrow reads a quote left open at the end of the file as a value running to the end; pandas refuses it.
    An open quote swallows everything after it, so it is in the last row: decline unless that row is the file's
    last line (no cell holds a line break) and the line parses on its own with every quote closed."""
    import csv

    if any(isinstance(v, str) and ("\n" in v or "\r" in v) for v in last_row):
        raise _Decline
    with open(p, "rb") as fh:
        fh.seek(max(fh.seek(0, 2) - _io.SAMPLE_BYTES, 0))
        tail = fh.read().rstrip(b"\r\n")
    cut = max(tail.rfind(b"\n"), tail.rfind(b"\r"))
    if cut < 0 and len(tail) >= _io.SAMPLE_BYTES - 2:
        raise _Decline  # a last line longer than the tail read
    line = tail[cut + 1:]
    if b'"' in line:
        try:
            list(csv.reader([line.decode("utf-8")], delimiter=sep, strict=True))
        except (csv.Error, UnicodeDecodeError):
            raise _Decline from None


def _basic_parquet_type(t) -> bool:
    import pyarrow as pa

    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t)
            or (pa.types.is_floating(t) and not pa.types.is_float16(t)) or pa.types.is_boolean(t)
            or pa.types.is_timestamp(t) or pa.types.is_date32(t))  # dates: datetime.date objects, as in pandas


def _read_parquet(p: Path, source: str):
    """The file as ``pd.read_parquet`` gives it, with its Arrow string columns kept for the checks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(p, use_pandas_metadata=True)
    meta = table.schema.pandas_metadata or {}
    for index in meta.get("index_columns", []):
        if not (isinstance(index, dict) and index.get("kind") == "range" and index.get("start") == 0
                and index.get("step") == 1):
            raise _Decline  # a saved index: io turns it into columns
    if not all(_basic_parquet_type(f.type) for f in table.schema) or table.num_rows == 0:
        raise _Decline
    schema = table.schema
    texts = {i: table.column(i) for i, f in enumerate(schema) if pa.types.is_string(f.type)
             or pa.types.is_large_string(f.type)}  # kept for the checks; the rest of the table goes as converted
    n_rows, n_columns = table.num_rows, table.num_columns
    # what pandas.read_parquet does (pandas.io._util.arrow_table_to_pandas), one block per column and freeing the
    # Arrow data as it goes: the same values without a second copy of the table in memory
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    attrs = {}
    if schema.metadata and b"PANDAS_ATTRS" in schema.metadata:
        attrs = json.loads(schema.metadata[b"PANDAS_ATTRS"])
    index = frame.index
    if (not isinstance(index, pd.RangeIndex) or index.start != 0 or index.step != 1
            or any(n is not None for n in index.names) or isinstance(frame.columns, pd.MultiIndex)
            or frame.shape[1] != n_columns):
        raise _Decline
    names, blank = _io._header_names(list(frame.columns), source)
    columns = []
    for i, name in enumerate(names):
        s = frame.iloc[:, i]
        values = _writable(s.to_numpy() if isinstance(s.dtype, np.dtype) else s.array)  # tz-aware dates: own type
        if i in texts:
            facts = _text_facts(texts[i])
            col = _Column(name, arrow=texts.pop(i), values=values, null=facts.null, odd=facts.odd, total=facts.total,
                          nan_nulls=False, tokens=True)
        else:
            col = _Column(name, values=values)
        col.unnamed = name in blank
        columns.append(col)
    return columns, pd.RangeIndex(0, n_rows), attrs


@dataclass
class _Read:
    """Columns as read, before io._finish."""

    columns: list[_Column]
    index: pd.RangeIndex


def finish(read: _Read, source: str, ids: frozenset[str]) -> _Loaded:
    """io._finish on columns read here: empty unnamed columns dropped, blank tokens missing, ids as text, blank
    rows dropped; a totals row declines (io names it)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns, index = read.columns, read.index
    n = len(index)
    columns = [c for c in columns if not (c.unnamed and c.isna().all())]
    if not columns:
        raise _Decline
    for c in columns:
        if c.text:
            c.blank = _blank_cells(c.arrow, c.odd, c.tokens)
            if c.blank is not None:
                c.null = c.null | c.blank
    for c in columns:
        if _io._key(c.name) in ids and not c.text:  # numbers in an id column: io._raw_ids (may refuse: declined)
            c.values = _io._raw_ids(pd.Series(c.values, index=index), c.name, source).to_numpy()
            c.clean_ids = True
    empty = columns[0].isna()
    for c in columns[1:]:  # rows missing everywhere; most files settle it at their first full column
        if not empty.any():
            break
        empty = empty & c.isna()
    keep = None
    if empty.any():
        keep = ~empty
        index = index[keep]
    if len(index) == 0:
        raise _Decline
    loaded = _Loaded(columns, index, keep, {}, ids, source)
    id_cols = [c for c in columns if _io._key(c.name) in ids]
    words = pa.array(sorted(_io._TOTAL_SPELLINGS), pa.string())
    for c in dict.fromkeys([*id_cols, columns[0]]):  # io._total_word_mask; numbers are never a totals label
        if not c.text:
            continue
        if c.total.size and pc.any(pc.is_in(_cells(c.arrow, c.total), value_set=words)).as_py():
            raise _Decline
        rows = np.flatnonzero(keep) if keep is not None else None
        m = n if rows is None else len(rows)
        edge = np.unique(np.r_[0:min(m, _io.TOTAL_EDGE_ROWS), max(m - _io.TOTAL_EDGE_ROWS, 0):m])
        cells = _cells(c.arrow, edge if rows is None else rows[edge]).to_pylist()
        cells += _cells(c.arrow, np.flatnonzero(c.odd)).to_pylist()  # " Total" once ids are stripped
        if any(_io._is_total_word(v) for v in cells):
            raise _Decline
    if id_cols and len(index) >= 3:
        no_id = np.logical_and.reduce([_rows(c.isna(), keep) for c in id_cols])
        if no_id.any() and not no_id.all():
            numeric = {c.name: _rows(c.values, keep) for c in columns if not c.text and c not in id_cols
                       and c.values.dtype.kind in "iuf"}
            if numeric and _io._totals_by_sum(pd.DataFrame(numeric, index=index), no_id) is not None:
                raise _Decline
    return loaded


# --------------------------------------------------------------------------------------------------------------------
# Validation (io.validate_frame on the columns)
# --------------------------------------------------------------------------------------------------------------------
def _validated(loaded: _Loaded, table: str, columns, required, snapshot, usecols=None) -> pd.DataFrame:
    """io.read_table after reading: map, match, require, keep ``usecols``, coerce and check; decline on any
    problem."""
    proxy = pd.DataFrame(columns=pd.Index([c.name for c in loaded.columns], dtype=object))
    proxy.attrs = loaded.attrs
    source = loaded.source
    proxy = _io.map_columns(proxy, table, columns, source=source)
    proxy = _io.match_canonical(proxy, table, source=source)
    _io.require_columns(proxy, _io.REQUIRED[table] if required is None else required, source=source)
    labels = proxy.attrs.get("loyaltylab", {}).get("mapped", {})
    rules = _io.RULES[table]
    index = loaded.index
    future = _io._future_limit()
    if snapshot is not None and snapshot <= future:
        future = None
    wanted = None if usecols is None else set(usecols)
    kept = []
    for col, name in zip(loaded.columns, proxy.columns):
        if wanted is None or name in wanted:
            kept.append((col, name))
        else:
            col.free()

    def column(pair):
        col, name = pair
        rule = rules.get(name)
        if rule is None:
            values = _raw_values(col, loaded)
        else:
            values = _coerce(col, rule, labels.get(name, name), source, loaded, future, snapshot)
        col.free()  # the input goes as the output grows
        return values

    out = dict(zip([name for _, name in kept], in_threads(column, kept, when=len(index) >= THREADS_FROM)))
    frame = _frame(out, index)
    for name, _column, _rule, bad, _shown in _io._wide_checks(frame, table):
        if name == "importance_sum" and _importance_clearly_fine(frame):
            continue
        if bad(frame).any():
            raise _Decline
    if table == "survey" and "nps" in frame.columns:
        _io.check_nps_scale(frame["nps"], labels.get("nps", "nps"), source)
    frame.attrs = proxy.attrs
    return frame


def _series(values, index, name) -> pd.Series:
    return pd.Series(values, index=index, name=name, copy=False)


def _coerce(col: _Column, rule, label: str, source: str, loaded: _Loaded, future, snapshot):
    """One canonical column as io.validate_frame coerces and checks it (a problem → decline)."""
    index, keep = loaded.index, loaded.keep
    kind = rule.kind
    if kind in ("key", "id"):
        if col.text:
            values = _rows(col.objects(strip=True, nan=True), keep)
        elif col.clean_ids:  # digits from io._raw_ids: io._to_id leaves them as they are
            values = _rows(col.values, keep)
        else:
            values = _io._raw_ids(_series(_rows(col.values, keep), index, col.name), label, source).to_numpy()
        if kind == "key":
            if (_rows(col.null, keep) if col.text else pd.isna(values)).any():
                raise _Decline
            if not _unique(col, values):
                raise _Decline
        return values
    if kind == "text":
        if col.text:
            return _rows(col.objects(strip=True, nan=True), keep)
        values = _rows(col.values, keep)  # numbers stay as they are; other objects (dates) as io._to_text has them
        return _io._to_text(_series(values, index, col.name)) if values.dtype == object else values
    if kind == "date":
        if col.days is not None:
            ns = col.days.astype(np.int64) * 86_400_000_000_000
            ns[col.null] = np.iinfo(np.int64).min  # NaT
            dates = ns.view("datetime64[ns]")
            out = _series(_rows(dates, keep), index, col.name)
        elif col.text:
            dates = _per_distinct(col, lambda u: _dates_or_decline(u), np.datetime64("NaT", "ns"))
            out = _series(_rows(dates, keep), index, col.name)
        elif getattr(col.values, "dtype", None) == np.dtype("datetime64[ns]"):
            out = _series(_rows(col.values, keep), index, col.name)  # io._to_date's copy, without copying
        else:
            out = _io._to_date(_series(_rows(col.values, keep), index, col.name), label, source)
        if future is not None:
            _io._refuse_future(out, out, label, source, future)
        if snapshot is not None and (out >= snapshot + pd.Timedelta(days=1)).any():
            raise _Decline
        return out
    if kind == "flag":
        if col.text:
            flags = _per_distinct(col, lambda u: _io._to_flag(u, label, source).to_numpy("float64", na_value=np.nan),
                                  np.nan)
            return _int8(_rows(flags, keep), index, col.name)
        values = _rows(col.values, keep)
        numbers = _numbers(values)
        if numbers is None:
            return _io._to_flag(_series(values, index, col.name), label, source)
        if (~np.isnan(numbers) & (numbers != 0) & (numbers != 1)).any():
            raise _Decline  # io._to_flag: not a yes/no value
        return _int8(numbers, index, col.name)
    # number: io._refuse_booleans + io._to_float + io._check_numbers, with numpy on numeric columns
    values = _rows(col.objects() if col.text else col.values, keep)
    numbers = _numbers(values)
    if numbers is None:  # text, dates, true/false: io's own helpers (a problem declines)
        s = _series(values, index, col.name)
        _io._refuse_booleans(s, label, source)
        numbers = _io._to_float(s, label, source).to_numpy()
        _io._check_numbers(_series(numbers, index, col.name), s, label, source, integer=rule.integer)
    elif not pd.api.types.is_integer_dtype(values.dtype):
        if np.isinf(numbers).any():
            raise _Decline  # "not a number"
        if rule.integer:
            with np.errstate(invalid="ignore"):
                if ((numbers != np.floor(numbers)) & ~np.isnan(numbers)).any():
                    raise _Decline  # "must be a whole number"
    if numbers.size and ((rule.min is not None and np.fmin.reduce(numbers) < rule.min)
                         or (rule.max is not None and np.fmax.reduce(numbers) > rule.max)):
        raise _Decline  # out of range (fmin / fmax skip missing values)
    return _series(numbers, index, col.name)


def _int8(values: np.ndarray, index, name) -> pd.Series:
    """0/1 floats with NaN as the nullable Int8 column ``astype("Int8")`` gives, built directly."""
    missing = np.isnan(values)
    data = np.where(missing, 0, values).astype(np.int8)
    return pd.Series(pd.arrays.IntegerArray(data, missing), index=index, name=name, copy=False)


def _numbers(values) -> np.ndarray | None:
    """A numeric column (not true/false) as float64 with NaN, as io._to_float makes it; None for other columns."""
    dtype = values.dtype
    if isinstance(values, np.ndarray):
        return values.astype(np.float64, copy=dtype.kind != "f") if dtype.kind in "iuf" else None
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan)  # nullable integers: <NA> → NaN
    return None


def _importance_clearly_fine(frame: pd.DataFrame) -> bool:
    """Every row's importance points sum to 100 within the tolerance, by a row sum in numpy clear of the edge
    (rows near it are left to io's own check, so rounding cannot decide)."""
    from loyaltylab.constants import IMPORTANCE_COLUMNS

    total = np.zeros(len(frame))
    answered = np.zeros(len(frame), dtype=bool)
    for c in (c for c in IMPORTANCE_COLUMNS if c in frame.columns):
        points = frame[c].to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(points)
        total += np.where(missing, 0.0, points)
        answered |= ~missing
    return not (answered & (np.abs(total - 100) > _io.IMPORTANCE_TOLERANCE - 1e-6)).any()


def _unique(col: _Column, values: np.ndarray) -> bool:
    """No value twice. Ids in increasing order (as exports usually are) are unique without hashing."""
    import pyarrow.compute as pc

    arr = col.arrow
    if col.text and arr.null_count == 0 and not col.odd.any() and len(arr) > 1:
        if pc.all(pc.greater(arr.slice(1), arr.slice(0, len(arr) - 1))).as_py():
            return True
    return not pd.Series(values, copy=False).duplicated().any()


def _dates_or_decline(uniques: pd.Series) -> np.ndarray:
    parsed, bad = _io._dates_from_objects(uniques)
    if bad.any():
        raise _Decline
    return parsed.to_numpy(dtype="datetime64[ns]")


def _per_distinct(col: _Column, fn, fill) -> np.ndarray:
    """``fn`` on the distinct strings of a text column (as a Series, like io._factorize's uniques), spread back
    onto the rows; missing and blank cells get ``fill``."""
    import pyarrow.compute as pc

    encoded = _chunks(pc.dictionary_encode(col.arrow))  # one dictionary shared by every chunk
    if not encoded:
        return np.full(len(col.null), fill)
    uniques = pd.Series(encoded[-1].dictionary.to_numpy(zero_copy_only=False), dtype=object)
    codes = np.concatenate([pc.fill_null(ch.indices, -1).to_numpy(zero_copy_only=False) for ch in encoded])
    if col.blank is not None:
        codes = np.where(col.blank, -1, codes)
    return _io._expand(fn(uniques), codes, fill)
