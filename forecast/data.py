"""Load order, contact and event histories into the tidy frames of the design notes.

Why it is long: one bounded reader (size, rows, columns, text encoding) serves three file
formats and three kinds of history; the loaders share it and its messages, so a limit or a
check is written once.

Accepted inputs: a path (``str`` / ``os.PathLike``), a file-like object with ``read()`` (an
upload; ``.name`` is used in messages) or a ``pandas.DataFrame``. Formats are recognised
from the content: CSV (``,`` ``;`` or tab separated, optionally gzip-compressed), Excel
``.xlsx`` and Parquet.

Accepted variants, where the meaning is unambiguous:

* column names in any case and spacing (``" Contacts "``, ``Interval-Start``), with the
  aliases listed in ``COLUMN_ALIASES``; a date column plus a time column are joined;
* timestamps in ISO 8601 (``2024-11-11``, ``2024-11-11 08:30``, ``2024-11-11T08:30:00+03:00``)
  or native Excel/Parquet datetimes;
* numbers with a decimal comma (``312,5``) or thousands grouping (``12 345``, ``12,000``,
  ``1.000.000``). The decimal mark is decided once per file from values that show it
  (``312,5``, ``12.25``, ``1.234,5``); a value that reads both ways (``1.000``, ``12,000``)
  follows that evidence, else the separator's convention (``;``: decimal comma; ``,`` and
  tab: decimal point), and ``attrs["warnings"]`` says how it was read. A file that uses
  both marks as decimal marks is refused. Counts are whole, finite and at most
  ``MAX_COUNT`` (10^9); ``inf``, ``1e19`` or 20-digit counts are refused;
* channel labels in any case and spacing (``"Chat "`` is ``chat``);
* an optional ``queue`` column (queue names compared like channel labels; a blank queue
  is its channel's own queue, named like the channel). A queue belongs to one channel and
  is named 1..60 printable characters, not like another channel.

Timestamps need a day (``2024`` or ``2024-01`` are refused) and a year in 1900..2200.
Inputs are read through a bounded stream: at most ``MAX_DECODED_BYTES`` (1 GiB) after
gzip decompression and ``MAX_ROWS`` (20M) rows, both per call through ``max_bytes`` and
``max_rows``; a larger file is refused before it fills memory, and so is a file of more
than ``MAX_COLUMNS`` (1,000) columns. CSV must be UTF-8 text: binary content or another
encoding is refused naming the first offending byte (never quoting the bytes). Loading
takes about three times the decoded size at peak (``bench/bench_loaders.py``).

Everything else is rejected with a ``DataError`` (a ``ValueError``) whose message names the
file, the column, the first offending rows (numbered as in a spreadsheet: the header is
row 1, the first data row is row 2) and what is accepted. Gaps (closed hours, weekends,
missing days) are kept: nothing is filled or interpolated unless ``fill_closed_hours`` is
called.

Channel spelling: labels are compared after lower-casing and collapsing spaces. If two
labels still differ only by punctuation (``"e-mail"`` and ``"email"``, ``"live_chat"`` and
``"live chat"``), it is unclear whether they are one queue, so the loader stops with a
``ChannelError``; pass ``channel_map={"e-mail": "email"}`` to merge them explicitly.

Time zones: timestamps are local wall-clock time of the centre. A timezone-aware column
(offsets in the strings, or an aware dtype) needs ``tz`` and is converted to that zone's
wall clock. With ``tz`` given, intervals that repeat at a DST fall-back (same wall-clock
label twice) are summed (``aht_s`` weighted by contacts) and counted in
``frame.attrs["dst_merged_rows"]``; the skipped hour at spring-forward is a gap. Without
``tz``, the repeated hour is a ``DuplicateRowError`` whose message names DST and the
setting (``tz``, ``data.timezone`` of a scenario, ``--tz`` on the command line).

Warnings: ``frame.attrs["warnings"]`` (list of str) holds what is not wrong enough to
refuse: a channel label one edit away from a more frequent one (``chta`` next to
``chat``), a channel with under 1 % of the rows, how ambiguous numbers were read, columns
the loader does not read (how many, and the first names).

The interval length of contact data is detected (or checked, when ``interval_s`` is given)
and stored in ``frame.attrs["interval_s"]`` (seconds); ``frame.attrs["source"]`` holds the
file name.

This module reads files and assembles the frames; the column checks, the error classes
and :func:`detect_interval_s` live in :mod:`forecast.validation` (re-exported here).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import unicodedata
import zipfile
import zlib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from forecast.validation import (
    DAY_S,
    MAX_AHT_S,
    MAX_ROWS_SHOWN,
    AmbiguousColumnError,
    BadTimestampError,
    BadValueError,
    ChannelError,
    DataError,
    DuplicateRowError,
    EmptyFileError,
    FileFormatError,
    MissingColumnError,
    MissingFileError,
    MixedIntervalError,
    ambiguous_local,
    check_duplicates,
    daily_only,
    decimal_mark,
    detect_interval_s,
    fail,
    get_ds,
    normalise_channels,
    parse_ds,
    parse_number,
    rows_of,
)

__all__ = [
    "COLUMN_ALIASES",
    "MAX_COLUMNS",
    "MAX_DECODED_BYTES",
    "MAX_ROWS",
    "AmbiguousColumnError",
    "BadTimestampError",
    "BadValueError",
    "ChannelError",
    "DataError",
    "DuplicateRowError",
    "EmptyFileError",
    "FileFormatError",
    "MissingColumnError",
    "MissingFileError",
    "MixedIntervalError",
    "SamplePaths",
    "detect_interval_s",
    "fill_closed_hours",
    "load_contacts",
    "load_events",
    "load_orders",
    "sample_paths",
]

#: Accepted spellings per contract column, after lower-casing and joining words with "_".
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "ds": ("ds", "datetime", "date_time", "timestamp", "interval", "interval_start",
           "start", "period", "date", "day", "time"),
    "date": ("date", "day"),
    "time": ("time", "interval_time", "start_time", "time_of_day"),
    "orders": ("orders", "order_count", "orders_count", "n_orders", "y"),
    "contacts": ("contacts", "contact_count", "contacts_count", "n_contacts", "volume",
                 "offered", "y"),
    "channel": ("channel", "channel_name", "media", "media_type", "medium"),
    "queue": ("queue", "queue_name", "queue_id"),
    "aht_s": ("aht_s", "aht_sec", "aht_secs", "aht_seconds", "handle_time_s"),
    "aht_min": ("aht_min", "aht_mins", "aht_minutes"),
    "segment": ("segment",),
    "event": ("event", "event_name", "holiday", "name"),
    "lower_window": ("lower_window",),
    "upper_window": ("upper_window",),
}


# --------------------------------------------------------------------------- reading
def _source_name(src: Any) -> str:
    if isinstance(src, pd.DataFrame):
        return "<DataFrame>"
    if isinstance(src, (str, os.PathLike)):
        return Path(src).name
    return Path(str(getattr(src, "name", "") or "<upload>")).name


#: Largest decoded input accepted (bytes after gzip decompression), 1 GiB. Loaders take
#: ``max_bytes`` to change it per call.
MAX_DECODED_BYTES = 1 << 30
#: Most data rows accepted per file. Loaders take ``max_rows`` to change it per call.
MAX_ROWS = 20_000_000
#: Most columns accepted per file (a history needs a handful; columns beyond the ones
#: read are ignored with a warning).
MAX_COLUMNS = 1_000
#: Longest queue name (like a scenario's channel name).
MAX_QUEUE_NAME = 60


class _TooLarge(Exception):
    """Raised inside a read when the decoded input passes a cap."""


class _NotText(Exception):
    """Raised inside a CSV read at the first byte that is not UTF-8 text."""


class _BoundedReader(io.RawIOBase):
    """A binary stream that stops with ``_TooLarge`` past ``max_bytes`` decoded bytes or
    ``max_rows`` line ends, so a compressed or huge input never fills memory.

    It also notes the first byte that is not UTF-8 text (``not_text``: its offset and
    why); with ``text_only`` set (a CSV) reading stops there with ``_NotText``, so the
    CSV parser never sees it.
    """

    def __init__(self, raw: Any, max_bytes: int, max_rows: int) -> None:
        self.raw, self.max_bytes, self.max_lines = raw, max_bytes, max_rows + 1
        self.nbytes = self.nlines = 0
        self.exceeded = ""
        self.not_text: tuple[int, str] | None = None
        self.text_only = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def readable(self) -> bool:
        return True

    def _check_text(self, chunk: bytes) -> None:
        """Note the first NUL byte or invalid UTF-8 sequence (offset counted from 0)."""
        nul = chunk.find(b"\x00")
        pending = len(self._utf8.getstate()[0])
        if not (pending == 0 and chunk.isascii()):
            try:
                self._utf8.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                at = max(exc.start - pending, 0)
                if nul < 0 or at < nul:
                    window = chunk[at:at + 64]
                    controls = sum(window.count(bytes([c])) for c in _CONTROL_BYTES)
                    kind = "binary" if controls >= 2 else "encoding"
                    self.not_text = (self.nbytes + at, kind)
                    return
        if nul >= 0:
            self.not_text = (self.nbytes + nul, "binary")

    def readinto(self, buf: Any) -> int:
        if self.exceeded:
            raise _TooLarge(self.exceeded)
        if self.text_only and self.not_text:
            raise _NotText()
        view = memoryview(buf).cast("B")
        chunk = self.raw.read(min(len(view), 1 << 20))
        n = len(chunk)
        if self.not_text is None:
            self._check_text(chunk)
            if self.text_only and self.not_text:
                raise _NotText()
        view[:n] = chunk
        self.nbytes += n
        self.nlines += chunk.count(b"\n")
        if self.nbytes > self.max_bytes:
            self.exceeded = "bytes"
        elif self.nlines > self.max_lines:
            self.exceeded = "rows"
        if self.exceeded:
            raise _TooLarge(self.exceeded)
        return n


#: Control bytes that do not occur in text (tab, line feed, form feed, carriage return
#: and escape excluded): two within 64 bytes of a non-UTF-8 byte mean binary content.
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 12, 13, 27)) + b"\x7f"


def _not_text(name: str, where: tuple[int, str]) -> DataError:
    at, kind = where
    if kind == "binary":
        return fail(FileFormatError, name, None,
                    f"the file is not text (binary content at byte {at:,})",
                    accepted="CSV (, ; or tab separated, optionally .gz), .xlsx, Parquet")
    return fail(FileFormatError, name, None,
                f"the text is not UTF-8 (an invalid byte at byte {at:,}); it may be saved in "
                "another encoding", accepted="CSV saved as UTF-8 (in Excel: CSV UTF-8), .xlsx,"
                " Parquet")


def _too_large(name: str, what: str, max_bytes: int, max_rows: int,
               compressed: bool) -> DataError:
    if what == "rows":
        return fail(FileFormatError, name, None, f"more than {max_rows:,} data rows",
                    accepted=f"at most {max_rows:,} rows (max_rows)")
    size = "decompresses to more than" if compressed else "is larger than"
    return fail(FileFormatError, name, None, f"the file {size} {max_bytes / 2**20:,.0f} MiB",
                accepted=f"at most {max_bytes / 2**20:,.0f} MiB of data (max_bytes)")


def _sniff_sep(text_head: str) -> str:
    first = text_head.splitlines()[0] if text_head else ""
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda s: (counts[s], s == ","))


def _open(src: Any, name: str) -> Any:
    """A binary stream at the start of a path or a file-like object."""
    if isinstance(src, (str, os.PathLike)):
        try:
            return open(src, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise fail(MissingFileError, name, None, f"cannot open the file ({exc.strerror})",
                       accepted="an existing, readable file") from exc
    if not hasattr(src, "read"):
        raise TypeError(f"src: expected a path, a file-like object or a DataFrame, got {src!r}")
    if hasattr(src, "seek"):
        src.seek(0)
    head = src.read(0)
    if isinstance(head, str):  # a text stream: read it whole (uploads are bytes)
        return io.BytesIO(src.read().encode("utf-8"))
    return src


def _read_csv(stream: io.BufferedReader, name: str, head: bytes) -> tuple[pd.DataFrame,
                                                                         np.ndarray, str]:
    """Parse CSV text (every column as text) with its spreadsheet row numbers."""
    text_head = head.decode("utf-8-sig", errors="replace")
    sep = _sniff_sep(text_head)
    first_line = text_head.splitlines()[0] if text_head else ""
    header = next(csv.reader([first_line], delimiter=sep), [])
    whole = "\n" in text_head or len(head) < (1 << 16)  # the header line ends in the head
    _check_width(name, max(len(header), first_line.count(sep) + 1), whole)
    blank_lines: list[int] = []  # lines holding only spaces: skipped, still counted
    bad: list[tuple[int, int, str]] = []  # the first rows with a wrong number of fields
    n_bad = [0]

    def on_bad_row(row: Any) -> str:
        if row.text.strip(" \t\r" + sep):
            n_bad[0] += 1
            if len(bad) < MAX_ROWS_SHOWN:
                bad.append((int(row.number or 0), int(row.actual_columns), row.text))
        else:
            blank_lines.append(int(row.number or 0))
        return "skip"

    # The system allocator hands freed column buffers back at once (the default pool keeps
    # them), so peak memory stays near the live data while columns are parsed and dropped.
    pool = pa.system_memory_pool()
    table = pcsv.read_csv(
        stream, memory_pool=pool,
        read_options=pcsv.ReadOptions(use_threads=False, block_size=1 << 20),
        parse_options=pcsv.ParseOptions(delimiter=sep, ignore_empty_lines=False,
                                        invalid_row_handler=on_bad_row),
        convert_options=pcsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=True,
            null_values=[""], quoted_strings_can_be_null=True),
    )
    if bad:
        raise _wrong_field_count(name, header, sep, bad, n_bad[0])
    frame = table.to_pandas(types_mapper=_STRING_TYPES.get, self_destruct=True,
                            memory_pool=pool)
    del table
    rownum = np.arange(len(frame), dtype=np.int64) + 2
    for line in sorted(blank_lines):  # blank lines with spaces: keep the numbering
        rownum[rownum >= line] += 1
    return frame, rownum, sep


_STRING_TYPES = {pa.string(): pd.ArrowDtype(pa.string())}


def _wrong_field_count(name: str, header: list[str], sep: str,
                       bad: list[tuple[int, int, str]], n_bad: int) -> DataError:
    """A named error for rows with more or fewer fields than the header (the first rows of
    ``n_bad``)."""
    rows = [r for r, _, _ in bad]
    line, n, text = bad[0]
    column = None
    hint = ""
    fields = next(csv.reader([text], delimiter=sep), [])
    if sep == "," and n == len(header) + 1:
        pairs = [i for i in range(min(len(fields) - 1, len(header)))
                 if re.fullmatch(r"\d+", fields[i].strip())
                 and re.fullmatch(r"\d+", fields[i + 1].strip())]
        # a decimal part (not three digits) beats a thousands group; else the last pair
        pairs.sort(key=lambda i: (len(fields[i + 1].strip()) != 3, i))
        if pairs:
            i = pairs[-1]
            column = header[i]
            hint = (f": {fields[i]},{fields[i + 1]} looks like one number written with a "
                    "decimal comma or a thousands separator; quote such values or separate "
                    "the columns with ';'")
    return fail(FileFormatError, name, column,
                f"rows with {n} fields where the header has {len(header)}{hint}", rows,
                [t[:80] for _, _, t in bad[:MAX_ROWS_SHOWN]],
                accepted="the same number of fields on every row", total=n_bad)


def _read_table(src: Any, max_bytes: int | None = None, max_rows: int | None = None
                ) -> tuple[pd.DataFrame, str, np.ndarray, str]:
    """Read an input into a raw frame, its name, its spreadsheet row numbers and the
    separator of a CSV ('' for other formats).

    CSV columns come back as text (Arrow strings); blank rows are dropped, the row
    numbers still count them (header = row 1). At most ``max_bytes`` decoded bytes and
    ``max_rows`` rows are read (defaults :data:`MAX_DECODED_BYTES`, :data:`MAX_ROWS`);
    compressed input is read through a bounded stream.
    """
    name = _source_name(src)
    max_bytes = MAX_DECODED_BYTES if max_bytes is None else int(max_bytes)
    max_rows = MAX_ROWS if max_rows is None else int(max_rows)
    sep = ""
    if isinstance(src, pd.DataFrame):
        if len(src) > max_rows:
            raise _too_large(name, "rows", max_bytes, max_rows, False)
        frame = src.reset_index(drop=True)
        rownum = np.arange(len(frame), dtype=np.int64) + 2
    else:
        raw = _open(src, name)
        compressed = False
        try:
            magic = raw.read(4)
            raw.seek(0)
            if magic[:2] == b"\x1f\x8b":
                compressed = True
                raw_stream: Any = gzip.GzipFile(fileobj=raw, mode="rb")
            else:
                raw_stream = raw
            bounded = _BoundedReader(raw_stream, max_bytes, max_rows)
            stream = io.BufferedReader(bounded, buffer_size=1 << 16)
            try:
                head = stream.peek(1 << 16)[: 1 << 16]
                if head.strip() and head[:4] not in _BINARY_MAGIC:  # CSV: text only
                    bounded.text_only = True
                    if bounded.not_text:
                        raise _NotText()
                frame, rownum, sep = _parse(stream, head, name, max_bytes, max_rows)
            except _TooLarge as exc:
                raise _too_large(name, str(exc), max_bytes, max_rows, compressed) from None
            except _NotText:
                raise _not_text(name, bounded.not_text) from None
            except (OSError, EOFError, zlib.error, pa.ArrowException) as exc:
                if bounded.exceeded:
                    raise _too_large(name, bounded.exceeded, max_bytes, max_rows,
                                     compressed) from None
                if bounded.text_only and bounded.not_text:
                    raise _not_text(name, bounded.not_text) from None
                if "straddl" in str(exc):  # a "row" longer than the parser's block
                    raise fail(FileFormatError, name, None,
                               "a line is longer than a block of the CSV reader: not a "
                               "text table (binary content, or no line breaks)",
                               accepted="CSV (, ; or tab separated, optionally .gz), .xlsx, "
                                        "Parquet") from None
                if isinstance(exc, pa.ArrowException):  # decompressed fine, not a table
                    what = "not a readable text table"
                else:
                    what = "broken gzip data" if compressed else "cannot read the file"
                raise fail(FileFormatError, name, None, f"{what} ({_reason(exc)})",
                           accepted="CSV (, ; or tab separated, optionally .gz), .xlsx, "
                                    "Parquet") from exc
        finally:
            if raw is not src:
                raw.close()
    _check_width(name, frame.shape[1])
    blank = np.ones(len(frame), dtype=bool)
    for col in frame.columns:
        blank &= frame[col].isna().to_numpy(dtype=bool)
    if blank.any():
        frame, rownum = frame[~blank], rownum[~blank]
    if len(frame) == 0:
        raise fail(EmptyFileError, name, None, "no data rows below the header",
                   accepted="a header row and at least one data row")
    if len(frame) > max_rows:
        raise _too_large(name, "rows", max_bytes, max_rows, False)
    return frame.reset_index(drop=True), name, rownum, sep


#: First bytes of the binary formats read (Parquet, .xlsx) or named (.xls).
_BINARY_MAGIC = (b"PAR1", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _reason(exc: BaseException) -> str:
    """A reader's error message without the file content it may quote: cut before a
    quoted row (Arrow's "Expected 1 columns, got 2: <row>"), printable, at most 160
    characters."""
    text = re.sub(r"(got \d+): .*", r"\1", str(exc), flags=re.S).split("\n", 1)[0]
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= 160 else text[:157] + "..."


def _parse(stream: io.BufferedReader, head: bytes, name: str, max_bytes: int,
           max_rows: int) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Parse a decoded stream by its content: Parquet, .xlsx, old .xls (refused) or CSV."""
    if not head.strip():
        raise fail(EmptyFileError, name, None, "the file is empty",
                   accepted="a header row and at least one data row")
    if head[:4] == b"\xd0\xcf\x11\xe0":
        raise fail(FileFormatError, name, None, "old binary Excel (.xls) is not read",
                   accepted="save it as .xlsx or CSV")
    if head[:4] in (b"PAR1", b"PK\x03\x04"):
        data = io.BytesIO(stream.read())  # bounded by max_bytes
        try:
            if head[:4] == b"PAR1":
                meta = pq.ParquetFile(data).metadata
                size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
                if size > max_bytes:
                    raise _TooLarge("bytes")
                if meta.num_rows > max_rows:
                    raise _TooLarge("rows")
                _check_width(name, meta.num_columns)
                frame = pd.read_parquet(data)
            else:
                with zipfile.ZipFile(data) as zf:
                    if sum(i.file_size for i in zf.infolist()) > max_bytes:
                        raise _TooLarge("bytes")
                frame = pd.read_excel(data, sheet_name=0, engine="openpyxl",
                                      nrows=max_rows + 1)
        except (ValueError, zipfile.BadZipFile, KeyError) as exc:
            raise fail(FileFormatError, name, None, f"cannot read the file ({exc})",
                       accepted="CSV (, ; or tab separated, optionally .gz), .xlsx, Parquet"
                       ) from exc
        return frame, np.arange(len(frame), dtype=np.int64) + 2, ""
    frame, rownum, sep = _read_csv(stream, name, head)
    if frame.shape[1] == 0 or (len(frame) == 0):
        raise fail(EmptyFileError, name, None, "no data rows below the header",
                   accepted="a header row and at least one data row")
    return frame, rownum, sep


def _check_width(name: str, n_columns: int, whole: bool = True) -> None:
    if n_columns > MAX_COLUMNS:
        raise fail(FileFormatError, name, None,
                   f"{'' if whole else 'at least '}{n_columns:,} columns",
                   accepted=f"at most {MAX_COLUMNS:,} columns (a history needs a handful)")


def _ignored(frame: pd.DataFrame, used: Any, source: str) -> list[str]:
    """A warning naming the columns of ``frame`` a loader does not read (none: [])."""
    used = set(used)
    ignored = [c for c in frame.columns if c not in used]
    if not ignored:
        return []

    def label(c: Any) -> str:
        text = "".join(ch if ch.isprintable() else "?" for ch in str(c))
        return repr(text if len(text) <= 40 else text[:37] + "...")

    shown = ", ".join(label(c) for c in ignored[:MAX_ROWS_SHOWN])
    more = f" and {len(ignored) - MAX_ROWS_SHOWN:,} more" if len(ignored) > MAX_ROWS_SHOWN else ""
    what = "column is" if len(ignored) == 1 else "columns are"
    return [f"{source}: {len(ignored):,} {what} not read and ignored: {shown}{more}"]


def _norm_header(col: Any) -> str:
    return re.sub(r"[\s\-\.]+", "_", str(col).strip().lower()).strip("_")


def _map_columns(
    frame: pd.DataFrame, source: str, wanted: Sequence[str], required: Sequence[str]
) -> dict[str, str]:
    """Map contract names in ``wanted`` to raw column names; raise on missing/ambiguous."""
    norm = {c: _norm_header(c) for c in frame.columns}
    found: dict[str, str] = {}
    for field in wanted:
        hits = [c for c, n in norm.items() if n in COLUMN_ALIASES[field]]
        hits = [c for c in hits if c not in found.values()]
        if len(hits) > 1:
            exact = [c for c in hits if norm[c] == field]
            if len(exact) != 1:
                raise fail(AmbiguousColumnError, source, field,
                           f"several columns could be '{field}': {hits}",
                           accepted="exactly one of " + ", ".join(COLUMN_ALIASES[field]))
            hits = exact
        if hits:
            found[field] = hits[0]
    missing = [f for f in required if f not in found]
    if missing:
        field = missing[0]
        raise fail(MissingColumnError, source, field,
                   f"required column '{field}' not found among {list(frame.columns)}",
                   accepted="a column named " + " / ".join(COLUMN_ALIASES[field]))
    return found


# --------------------------------------------------------------------------- loaders
def _numbers(frame: pd.DataFrame, cols: dict[str, str], fields: Sequence[str], source: str,
             rn: np.ndarray, sep: str) -> tuple[str, list[str], dict[str, Any]]:
    """The file's decimal mark over its number columns, notes on how it was read, and the
    distinct texts of each text column (for ``parse_number``)."""
    columns = {cols[f]: frame[cols[f]] for f in fields if f in cols}
    distinct: dict[str, Any] = {}
    mark, notes = decimal_mark(columns, source, rn, default="," if sep == ";" else ".",
                               distinct=distinct)
    return mark, notes, distinct


def load_orders(src: Any, *, max_bytes: int | None = None,
                max_rows: int | None = None) -> pd.DataFrame:
    """Load a daily order history.

    Parameters
    ----------
    src : path, file-like or DataFrame
        CSV (.csv/.csv.gz), .xlsx or Parquet with a date column and an order count
        (aliases in ``COLUMN_ALIASES``), optionally ``segment``.
    max_bytes, max_rows : int, optional
        Caps on the decoded size and the number of rows (defaults
        :data:`MAX_DECODED_BYTES`, :data:`MAX_ROWS`); larger inputs raise
        ``FileFormatError`` before they fill memory.

    Returns
    -------
    pandas.DataFrame
        ``ds`` (datetime64[ns], midnight), ``orders`` (int64 >= 0)[, ``segment``], sorted.
        Missing days stay missing. ``attrs``: ``source``, ``decimal_mark`` and
        ``warnings`` (list of str: how ambiguous numbers such as ``12,000`` were read).

    Raises
    ------
    DataError
        Subclasses: MissingFileError, EmptyFileError, FileFormatError, MissingColumnError,
        BadValueError, BadTimestampError
        (also for times of day), DuplicateRowError.

    Examples
    --------
    >>> orders = load_orders(sample_paths().orders)
    >>> list(orders.columns), str(orders["ds"].min().date())
    (['ds', 'orders'], '2022-01-01')
    """
    frame, source, rn, sep = _read_table(src, max_bytes, max_rows)
    cols = _map_columns(frame, source, ["ds", "orders", "segment"], ["ds", "orders"])
    mark, notes, distinct = _numbers(frame, cols, ["orders"], source, rn, sep)
    notes = [*notes, *_ignored(frame, cols.values(), source)]
    ds = daily_only(parse_ds(frame[cols["ds"]], source, cols["ds"], None, rn), source,
                     cols["ds"], rn)
    out = pd.DataFrame({"ds": ds.to_numpy()})
    out["orders"] = parse_number(frame[cols["orders"]], source, cols["orders"],
                                  rn, integer=True, allow_missing=False, decimal=mark,
                                  distinct=distinct.get(cols["orders"])).astype(np.int64)
    keys = ["ds"]
    if "segment" in cols:
        out["segment"] = frame[cols["segment"]].astype("str").str.strip().to_numpy()
        keys.append("segment")
    check_duplicates(out[keys], source, cols["ds"], np.zeros(len(out), dtype=bool), rn)
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs.update(source=source, decimal_mark=mark, warnings=notes)
    return out


def load_contacts(
    src: Any, interval_s: int | None = None, tz: str | None = None, *,
    channel_map: Mapping[str, str] | None = None, channels: Sequence[str] | None = None,
    max_bytes: int | None = None, max_rows: int | None = None,
) -> pd.DataFrame:
    """Load an interval contact history (any interval length, gaps kept).

    Parameters
    ----------
    src : path, file-like or DataFrame
        Columns ``ds`` (or date + time), ``channel``, ``contacts``, optional ``aht_s``
        (seconds; ``aht_min`` is converted); aliases in ``COLUMN_ALIASES``.
    interval_s : int, optional
        Expected interval length in seconds, checked against the data: a file whose rows
        step a different length (``900`` declared, every row 30 minutes apart) raises
        ``MixedIntervalError``. Detected if None.
    tz : str, optional
        IANA zone of the centre (e.g. ``"Europe/Berlin"``). Needed for offset-carrying
        timestamps, which are converted to its wall clock, and for naive local files that
        hold the hour repeated when daylight saving time ends: the repeated wall-clock
        intervals (both occurrences, the first in summer time, the second in winter time)
        are summed into one interval, ``aht_s`` weighted by contacts, and counted in
        ``attrs["dst_merged_rows"]``. The hour skipped when DST starts stays a gap (no
        row is invented). Timestamps stay local wall-clock time.
    channel_map : mapping, optional
        Explicit relabelling (``{"e-mail": "email", "phone": "voice"}``), applied after
        case/space normalisation.
    channels : sequence of str, optional
        Accepted channel names; others raise ``ChannelError``.
    max_bytes, max_rows : int, optional
        Caps on the decoded size and the number of rows (defaults
        :data:`MAX_DECODED_BYTES`, :data:`MAX_ROWS`); larger inputs raise
        ``FileFormatError`` before they fill memory.

    Returns
    -------
    pandas.DataFrame
        ``ds`` (datetime64[ns] interval start), ``channel`` (lower-case str)[, ``queue``
        (lower-case str, the channel where blank) when the input has a queue column],
        ``contacts`` (int64 >= 0)[, ``aht_s`` (float64 seconds, NaN where not given)],
        sorted by ds, channel (and queue); repeats, the interval and the gaps are per
        (channel, queue) series; ``attrs``: ``interval_s`` (int), ``source``, ``tz``,
        ``dst_merged_rows``, ``decimal_mark`` and ``warnings`` (list of str: channel
        labels that look like typos or are rare, how ambiguous numbers were read).

    Raises
    ------
    DataError
        Subclasses: MissingFileError, EmptyFileError, FileFormatError, MissingColumnError,
        AmbiguousColumnError, BadValueError, BadTimestampError, DuplicateRowError,
        MixedIntervalError, ChannelError.
    ValueError
        ``tz`` is not a known time zone, or ``interval_s`` does not divide a day.

    Examples
    --------
    >>> contacts = load_contacts(sample_paths().contacts)
    >>> contacts.attrs["interval_s"], sorted(contacts["channel"].unique())
    (1800, ['chat', 'email', 'voice'])
    """
    if tz is not None:
        try:
            zoneinfo.ZoneInfo(str(tz))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"tz: unknown time zone {tz!r}; give an IANA name such as "
                             "'Europe/Berlin'") from exc
    if interval_s is not None:
        interval_s = int(interval_s)
        if interval_s <= 0 or not (DAY_S % interval_s == 0 or interval_s % DAY_S == 0):
            raise ValueError(f"interval_s: must divide a day (or be whole days), got {interval_s}")
    frame, source, rn, sep = _read_table(src, max_bytes, max_rows)
    cols = _map_columns(frame, source,
                        ["date", "time", "ds", "channel", "contacts", "aht_s", "aht_min",
                         "queue"],
                        ["channel", "contacts"])
    if "ds" not in cols and ("date" in cols) != ("time" in cols):
        cols["ds"] = cols.pop("date") if "date" in cols else cols.pop("time")
    if "ds" not in cols and not ("date" in cols and "time" in cols):
        raise fail(MissingColumnError, source, "ds",
                   f"no timestamp column among {list(frame.columns)}",
                   accepted="a column named " + " / ".join(COLUMN_ALIASES["ds"])
                   + ", or a date column plus a time column")
    if "aht_s" in cols and "aht_min" in cols:
        raise fail(AmbiguousColumnError, source, cols["aht_min"],
                   f"both '{cols['aht_s']}' and '{cols['aht_min']}' given",
                   accepted="one handle-time column")
    bare_aht = [c for c in frame.columns if _norm_header(c) in ("aht", "handle_time")]
    if bare_aht and "aht_s" not in cols and "aht_min" not in cols:
        raise fail(AmbiguousColumnError, source, str(bare_aht[0]),
                   "handle time without a unit", accepted="aht_s (seconds) or aht_min")
    mark, notes, distinct = _numbers(frame, cols, ["contacts", "aht_s", "aht_min"], source,
                                     rn, sep)
    read = ["channel", "contacts", "aht_s", "aht_min", "queue",
            *(["ds"] if "ds" in cols else ["date", "time"])]
    notes = [*notes, *_ignored(frame, [cols[k] for k in read if k in cols], source)]
    # Each raw column is dropped once parsed: memory stays near the decoded size.
    ds = get_ds(frame, cols, source, tz, rn).to_numpy().astype("datetime64[ns]", copy=False)
    for key in ("ds", "date", "time"):
        if key in cols:
            del frame[cols[key]]
    ds_col = cols.get("ds", f"{cols.get('date')}+{cols.get('time')}")
    channel, code, channel_notes = normalise_channels(
        frame.pop(cols["channel"]), source, cols["channel"], channel_map, channels, rn)
    data = {"ds": ds, "channel": channel.array}  # Arrow strings: no object per row
    if "queue" in cols:  # series = (channel, queue); code ranks them in that order
        queue, code = _queues(frame.pop(cols["queue"]), channel, code, source, cols["queue"],
                              rn)
        data["queue"] = queue.array
        del queue
    del channel
    data["contacts"] = parse_number(frame.pop(cols["contacts"]), source, cols["contacts"],
                                     rn, integer=True, allow_missing=False, decimal=mark,
                                     distinct=distinct.pop(cols["contacts"], None)
                                     ).astype(np.int64)
    if "aht_s" in cols or "aht_min" in cols:
        key = "aht_s" if "aht_s" in cols else "aht_min"
        scale = 1.0 if key == "aht_s" else 60.0
        data["aht_s"] = scale * parse_number(frame.pop(cols[key]), source, cols[key], rn,
                                              integer=False, allow_missing=True,
                                              decimal=mark, upper=MAX_AHT_S / scale,
                                              distinct=distinct.pop(cols[key], None))
    del frame, distinct
    order = np.lexsort((code, ds.view(np.int64)))
    repeated = np.diff(ds[order].view(np.int64)) == 0
    repeated &= np.diff(code[order]) == 0
    merged = 0
    if repeated.any():  # rare: name the rows (or merge DST repeats)
        dup = np.zeros(len(ds), dtype=bool)
        dup[order[np.r_[repeated, False] | np.r_[False, repeated]]] = True
        del order, repeated
        amb = ambiguous_local(pd.Series(ds), tz)
        keys = ["channel", "queue"] if "queue" in data else ["channel"]
        check_duplicates(pd.DataFrame({"ds": ds, **{k: data[k] for k in keys}}), source,
                          ds_col, amb, rn, dst_hint=tz is None, dup=dup)
        del dup, amb
        out, merged = _merge_repeats(pd.DataFrame({**data, "_row": rn}))
        code = pd.MultiIndex.from_frame(out[keys]).factorize(sort=True)[0] \
            if "queue" in data else pd.factorize(out["channel"], sort=True)[0]
        data = {c: out[c].array for c in out.columns if c != "_row"}
        rn = out["_row"].to_numpy()
        del out
        order = np.lexsort((code, data["ds"].to_numpy().view(np.int64)))
    for c in list(data):
        data[c] = data[c][order]
    out = pd.DataFrame(data, copy=False)
    del data
    code, rows = code[order].astype(np.int32), rn[order]
    del order, rn
    interval_s = _interval(out["ds"], code, interval_s, source, ds_col, rows)
    out.attrs.update(interval_s=int(interval_s), source=source, tz=tz, dst_merged_rows=merged,
                     decimal_mark=mark, warnings=[*channel_notes, *notes])
    return out


def _interval(ds: pd.Series, code: np.ndarray, interval_s: int | None, source: str,
              ds_col: str, rows: np.ndarray) -> int:
    """The detected interval length, or the declared one checked against the data."""
    try:
        detected = detect_interval_s(ds, code, source=source, column=ds_col, rows=rows)
    except MixedIntervalError as exc:
        sparse = "cannot detect" in str(exc) or (
            "times of day in daily data" in str(exc) and interval_s is not None
            and interval_s < DAY_S)
        if interval_s is None or not sparse:
            raise
        # One timestamp per series, or one a day at a time of day (a short upload of
        # today's actuals): the declared length stands if every row starts on its grid.
        sec = ds.to_numpy().astype("datetime64[s]").view(np.int64)
        off = np.flatnonzero(sec % interval_s != 0)
        if off.size:
            raise fail(MixedIntervalError, source, ds_col,
                       f"timestamps off the declared interval_s={interval_s} s grid",
                       rows[off], ds.iloc[off[:5]].astype(str),
                       accepted=f"interval starts on a {interval_s} s grid") from None
        detected = None
    if interval_s is None or detected is None:
        return int(interval_s if detected is None else detected)
    if detected != interval_s:
        raise fail(MixedIntervalError, source, ds_col,
                   f"the declared interval_s={interval_s} s contradicts the data, whose rows "
                   f"step {detected} s", accepted=f"interval_s={detected} (or leave it "
                   "unset to detect it)")
    return int(interval_s)


def _queues(raw: pd.Series, channel: pd.Series, code: np.ndarray, source: str, column: str,
            rn: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Queue names (normalised like channel labels; blank: the channel) and, per row, the
    rank of its (channel, queue) series in sorted order.

    Raises ``BadValueError`` for a name with control characters or over
    :data:`MAX_QUEUE_NAME` characters, a queue under two channels or named like another
    channel (each naming the rows)."""
    qcodes, uniques = pd.factorize(raw, use_na_sentinel=True)
    names = []
    for i, u in enumerate(uniques):
        typed = str(u).strip()  # a tab or line break inside a name is refused, not folded
        text = re.sub(r"\s+", " ", typed.lower())
        bad = [c for c in typed if unicodedata.category(c) in ("Cc", "Cs")]
        if bad or len(text) > MAX_QUEUE_NAME:
            problem = (f"a queue name with the control character {bad[0]!r}" if bad else
                       f"a queue name of {len(text):,} characters")
            raise fail(BadValueError, source, column, problem, rows_of(qcodes == i, rn)[:1],
                       accepted=f"queue names of 1..{MAX_QUEUE_NAME} printable characters "
                       "(or blank for the channel's own queue)")
        names.append(text)
    blank = np.array([n == "" for n in names] + [True])[qcodes]  # -1 (missing): index -1
    labels = np.array(names + [""], dtype=object)[qcodes]
    chan = channel.to_numpy(dtype=object)
    labels = np.where(blank, chan, labels)
    pairs = pd.DataFrame({"q": labels, "c": chan, "code": code})
    series = pairs.drop_duplicates(["q", "c"])
    twice = series[series["q"].duplicated(keep=False)]
    if len(twice):
        name = sorted(twice["q"])[0]
        chans = sorted(twice.loc[twice["q"] == name, "c"])
        first = sorted((rows_of((labels == name) & (chan == c), rn)[0], c) for c in chans)
        raise fail(BadValueError, source, column,
                   f"queue {name!r} belongs to channels {chans}", [r for r, _ in first],
                   [c for _, c in first],
                   accepted="each queue under one channel (rename one of them)")
    channels = set(series["c"])
    clash = series[series["q"].isin(channels) & (series["q"] != series["c"])]
    if len(clash):
        name, ch = clash.iloc[0]["q"], clash.iloc[0]["c"]
        raise fail(BadValueError, source, column,
                   f"queue {name!r} of channel {ch!r} is named like the channel {name!r}",
                   rows_of((labels == name) & (chan == ch), rn)[:1],
                   accepted="queue names that are not another channel's name")
    key = pd.MultiIndex.from_arrays([chan, labels]).factorize(sort=True)[0]
    return pd.Series(labels, dtype="str", index=raw.index), key.astype(np.int64)


def _merge_repeats(out: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Sum rows sharing (ds, channel[, queue]) (DST repeats); AHT weighted by contacts."""
    n0 = len(out)
    agg = out.assign(_w=out.get("aht_s", 0.0) * out["contacts"])
    keys = ["ds", "channel", "queue"] if "queue" in out else ["ds", "channel"]
    grouped = agg.groupby(keys, sort=False, as_index=False)
    res = grouped[["contacts", "_w"]].sum()
    res["_row"] = grouped["_row"].min()["_row"]
    if "aht_s" in out:
        res["aht_s"] = np.where(res["contacts"] > 0, res["_w"] / res["contacts"].where(
            res["contacts"] > 0, 1), grouped["aht_s"].mean()["aht_s"])
    return res.drop(columns="_w"), n0 - len(res)


def load_events(src: Any, *, max_bytes: int | None = None,
                max_rows: int | None = None) -> pd.DataFrame:
    """Load an event calendar (peak days, holidays, promotions, incidents).

    Returns ``ds`` (datetime64[ns] date), ``event`` (str)[, ``lower_window`` (int64 <= 0),
    ``upper_window`` (int64 >= 0)] in Prophet's holiday convention; blank windows are 0.

    Raises
    ------
    DataError
        MissingFileError, EmptyFileError, FileFormatError, MissingColumnError,
        BadTimestampError, BadValueError,
        DuplicateRowError.

    Examples
    --------
    >>> events = load_events(sample_paths().events)
    >>> int((events["event"] == "black_friday").sum())
    3
    """
    frame, source, rn, _ = _read_table(src, max_bytes, max_rows)
    cols = _map_columns(frame, source, ["ds", "event", "lower_window", "upper_window"],
                        ["ds", "event"])
    notes = _ignored(frame, cols.values(), source)
    ds = daily_only(parse_ds(frame[cols["ds"]], source, cols["ds"], None, rn), source,
                     cols["ds"], rn)
    out = pd.DataFrame({"ds": ds.to_numpy()})
    event = frame[cols["event"]].astype("str").str.strip()
    blank = (frame[cols["event"]].isna() | event.eq("")).to_numpy()
    if blank.any():
        raise fail(BadValueError, source, cols["event"], "missing event names", rows_of(blank, rn),
                   accepted="a name on every row")
    out["event"] = event.to_numpy()
    for name, sign in (("lower_window", -1), ("upper_window", 1)):
        if name in cols:
            raw = frame[cols[name]]
            num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
            bad = (np.isnan(num) & raw.notna().to_numpy()) | (num * sign < 0) | (
                ~np.isnan(num) & (num != np.round(num)))
            if bad.any():
                side = "<= 0" if sign < 0 else ">= 0"
                raise fail(BadValueError, source, cols[name], "bad window values",
                           rows_of(bad, rn), raw.to_numpy()[bad],
                           accepted=f"integers {side} (days)")
            out[name] = np.nan_to_num(num, nan=0.0).astype(np.int64)
    check_duplicates(out[["ds", "event"]], source, cols["ds"], np.zeros(len(out), dtype=bool), rn)
    out = out.sort_values(["ds", "event"], kind="stable").reset_index(drop=True)
    out.attrs.update(source=source, warnings=notes)
    return out


# --------------------------------------------------------------------------- helpers
def fill_closed_hours(
    contacts: pd.DataFrame, interval_s: int | None = None,
    open_hours: Mapping[str, tuple[float, float]] | tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Add zero-contact rows for closed intervals; only when the caller asks for it.

    For each channel the grid runs from the first day (00:00) to the end of the last day of
    that channel's data. Missing intervals *outside* ``open_hours`` get ``contacts = 0``
    (``aht_s`` NaN). Missing intervals inside opening hours are real gaps and stay missing.

    Parameters
    ----------
    contacts : DataFrame
        Contacts frame (``ds, channel, contacts[, aht_s]``).
    interval_s : int, optional
        Interval length; defaults to ``contacts.attrs["interval_s"]`` or is detected.
    open_hours : (start_hour, end_hour) or {channel: (start_hour, end_hour)}, optional
        Local opening hours, end exclusive (``(8, 22)``: 08:00-21:59). A channel missing
        from the mapping is treated as never closed (nothing filled). None: every missing
        interval is filled.

    Returns
    -------
    DataFrame
        New frame, sorted by ds and channel; ``attrs["filled_rows"]`` counts added rows.

    Examples
    --------
    >>> c = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 21:00"]),
    ...                   "channel": "voice", "contacts": [3, 4]})
    >>> len(fill_closed_hours(c, 3600, (8, 22)))  # 2 rows + 10 closed hours; 12 open gaps kept
    12
    """
    if interval_s is None:
        interval_s = contacts.attrs.get("interval_s") or detect_interval_s(
            contacts["ds"], contacts["channel"])
    step = pd.Timedelta(seconds=int(interval_s))
    parts = []
    for channel, part in contacts.groupby("channel", sort=True):
        first = part["ds"].min().normalize()
        last = part["ds"].max().normalize() + pd.Timedelta(days=1) - step
        grid = pd.date_range(first, last, freq=step)
        missing = grid.difference(pd.DatetimeIndex(part["ds"]))
        hours = missing.hour + missing.minute / 60.0
        if open_hours is None:
            closed = np.ones(len(missing), dtype=bool)
        else:
            span = open_hours.get(channel) if isinstance(open_hours, Mapping) else open_hours
            closed = (np.zeros(len(missing), dtype=bool) if span is None
                      else (hours < span[0]) | (hours >= span[1]))
        add = pd.DataFrame({"ds": missing[closed].astype("datetime64[ns]"), "channel": channel,
                            "contacts": np.zeros(int(closed.sum()), dtype=np.int64)})
        parts.append(add)
    added = sum(len(p) for p in parts)
    out = pd.concat([contacts, *[p for p in parts if len(p)]], ignore_index=True)
    out = out.sort_values(["ds", "channel"], kind="stable").reset_index(drop=True)
    out["channel"] = out["channel"].astype("str")
    out.attrs.update(contacts.attrs, interval_s=int(interval_s), filled_rows=added)
    return out


@dataclass(frozen=True)
class SamplePaths:
    """Paths of the bundled synthetic sample files (``contacts_queues``: the same contacts
    from April 2023 split into queues, with a ``queue`` column)."""

    orders: Path
    contacts: Path
    events: Path
    contacts_queues: Path | None = None


def sample_paths() -> SamplePaths:
    """Paths of the bundled sample (``data/`` at the repository root).

    Examples
    --------
    >>> sample_paths().contacts.name
    'contacts.csv.gz'
    """
    root = Path(__file__).resolve().parent.parent / "data"
    return SamplePaths(orders=root / "orders.csv", contacts=root / "contacts.csv.gz",
                       events=root / "events.csv",
                       contacts_queues=root / "contacts_queues.csv.gz")

