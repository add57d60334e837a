"""Load order, contact and event histories into the tidy frames of the design notes.

Accepted inputs: a path (``str`` / ``os.PathLike``), a file-like object with ``read()`` (an
upload; ``.name`` is used in messages) or a ``pandas.DataFrame``. Formats are recognised
from the content: CSV (``,`` ``;`` or tab separated, optionally gzip-compressed), Excel
``.xlsx`` and Parquet.

Accepted variants, where the meaning is unambiguous:

* column names in any case and spacing (``" Contacts "``, ``Interval-Start``), with the
  aliases listed in ``COLUMN_ALIASES``; a date column plus a time column are joined;
* timestamps in ISO 8601 (``2024-11-11``, ``2024-11-11 08:30``, ``2024-11-11T08:30:00+03:00``)
  or native Excel/Parquet datetimes;
* numbers with a decimal comma (``312,5``) or space thousands grouping (``12 345``);
* channel labels in any case and spacing (``"Chat "`` is ``chat``).

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
``frame.attrs["dst_merged_rows"]``; the skipped hour at spring-forward is a gap.

The interval length of contact data is detected (or checked, when ``interval_s`` is given)
and stored in ``frame.attrs["interval_s"]`` (seconds); ``frame.attrs["source"]`` holds the
file name.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "COLUMN_ALIASES",
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

_MAX_ROWS_SHOWN = 5
_DAY_S = 86_400

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
    "aht_s": ("aht_s", "aht_sec", "aht_secs", "aht_seconds", "handle_time_s"),
    "aht_min": ("aht_min", "aht_mins", "aht_minutes"),
    "segment": ("segment",),
    "event": ("event", "event_name", "holiday", "name"),
    "lower_window": ("lower_window",),
    "upper_window": ("upper_window",),
}
_TS_ACCEPTED = (
    "ISO 8601 such as 2024-11-11, 2024-11-11 08:30 or 2024-11-11T08:30:00+03:00, "
    "or a date column plus a time column"
)
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


# --------------------------------------------------------------------------- errors
class DataError(ValueError):
    """Bad input data. ``source``, ``column`` and ``rows`` (spreadsheet rows) locate it."""

    def __init__(
        self, message: str, *, source: str = "", column: str | None = None,
        rows: Sequence[int] = (),
    ) -> None:
        super().__init__(message)
        self.source = source
        self.column = column
        self.rows = tuple(int(r) for r in rows)


class EmptyFileError(DataError):
    """The input holds no data rows."""


class MissingFileError(DataError):
    """The path does not exist or cannot be read."""


class FileFormatError(DataError):
    """The input is not a readable CSV, Excel or Parquet file."""


class MissingColumnError(DataError):
    """A required column is absent."""


class AmbiguousColumnError(DataError):
    """Two columns map to the same contract column, or a column has no unit."""


class BadValueError(DataError):
    """Non-numeric, non-integer, negative or missing values in a numeric column."""


class BadTimestampError(DataError):
    """Unparseable or missing timestamps, or a time-zone problem."""


class DuplicateRowError(DataError):
    """Two rows share a key (timestamp, or timestamp and channel)."""


class MixedIntervalError(DataError):
    """Timestamps are not on one regular interval grid."""


class ChannelError(DataError):
    """A channel label spelled two ways, or a channel outside the accepted list."""


def _plain(value: Any) -> Any:
    """A numpy scalar as a plain Python value (integral floats as int) for messages."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _fail(
    cls: type[DataError], source: str, column: str | None, problem: str,
    rows: np.ndarray | Sequence[int] = (), values: Sequence[Any] = (), accepted: str = "",
) -> DataError:
    rows = np.asarray(rows, dtype=np.int64)
    where = f"column '{column}'" if column else "file"
    msg = f"{source}: {where}: {problem}"
    if len(rows):
        shown = ", ".join(
            f"row {r}" + (f" ({_plain(values[i])!r})" if i < len(values) else "")
            for i, r in enumerate(rows[:_MAX_ROWS_SHOWN])
        )
        more = f" and {len(rows) - _MAX_ROWS_SHOWN} more" if len(rows) > _MAX_ROWS_SHOWN else ""
        msg += f" at {shown}{more}"
    if accepted:
        msg += f". Accepted: {accepted}"
    return cls(msg + ".", source=source, column=column, rows=rows[:_MAX_ROWS_SHOWN])


# --------------------------------------------------------------------------- reading
def _source_name(src: Any) -> str:
    if isinstance(src, pd.DataFrame):
        return "<DataFrame>"
    if isinstance(src, (str, os.PathLike)):
        return Path(src).name
    return Path(str(getattr(src, "name", "") or "<upload>")).name


def _sniff_sep(text_head: str) -> str:
    first = text_head.splitlines()[0] if text_head else ""
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda s: (counts[s], s == ","))


def _read_table(src: Any) -> tuple[pd.DataFrame, str, np.ndarray]:
    """Read an input into a raw frame, its name and its spreadsheet row numbers.

    Blank rows are dropped; the row numbers still count them (header = row 1).
    """
    name = _source_name(src)
    if isinstance(src, pd.DataFrame):
        frame = src.reset_index(drop=True)
    else:
        if isinstance(src, (str, os.PathLike)):
            try:
                data = Path(src).read_bytes()
            except OSError as exc:
                raise _fail(MissingFileError, name, None, f"cannot open the file ({exc.strerror})",
                            accepted="an existing, readable file") from exc
        elif hasattr(src, "read"):
            if hasattr(src, "seek"):
                src.seek(0)
            data = src.read()
            if isinstance(data, str):
                data = data.encode("utf-8")
        else:
            raise TypeError(f"src: expected a path, a file-like object or a DataFrame, got {src!r}")
        if data[:2] == b"\x1f\x8b":
            try:
                data = gzip.decompress(data)
            except OSError as exc:
                raise _fail(FileFormatError, name, None, f"broken gzip data ({exc})") from exc
        if not data.strip():
            raise _fail(EmptyFileError, name, None, "the file is empty",
                        accepted="a header row and at least one data row")
        if data[:4] == b"\xd0\xcf\x11\xe0":
            raise _fail(FileFormatError, name, None, "old binary Excel (.xls) is not read",
                        accepted="save it as .xlsx or CSV")
        try:
            if data[:4] == b"PAR1":
                frame = pd.read_parquet(io.BytesIO(data))
            elif data[:4] == b"PK\x03\x04":
                frame = pd.read_excel(io.BytesIO(data), sheet_name=0, engine="openpyxl")
            else:
                text_head = data[:4096].decode("utf-8-sig", errors="replace")
                frame = pd.read_csv(
                    io.BytesIO(data), sep=_sniff_sep(text_head), encoding="utf-8-sig",
                    skipinitialspace=True, low_memory=False, keep_default_na=False,
                    na_values=[""], skip_blank_lines=False,
                )
        except pd.errors.EmptyDataError as exc:
            raise _fail(EmptyFileError, name, None, "the file is empty",
                        accepted="a header row and at least one data row") from exc
        except (ValueError, OSError, pd.errors.ParserError) as exc:
            raise _fail(FileFormatError, name, None, f"cannot read the file ({exc})",
                        accepted="CSV (, ; or tab separated, optionally .gz), .xlsx, Parquet"
                        ) from exc
    frame = frame.dropna(how="all")
    if len(frame) == 0:
        raise _fail(EmptyFileError, name, None, "no data rows below the header",
                    accepted="a header row and at least one data row")
    rownum = np.asarray(frame.index, dtype=np.int64) + 2
    return frame.reset_index(drop=True), name, rownum


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
                raise _fail(AmbiguousColumnError, source, field,
                            f"several columns could be '{field}': {hits}",
                            accepted="exactly one of " + ", ".join(COLUMN_ALIASES[field]))
            hits = exact
        if hits:
            found[field] = hits[0]
    missing = [f for f in required if f not in found]
    if missing:
        field = missing[0]
        raise _fail(MissingColumnError, source, field,
                    f"required column '{field}' not found among {list(frame.columns)}",
                    accepted="a column named " + " / ".join(COLUMN_ALIASES[field]))
    return found


# --------------------------------------------------------------------------- parsing
def _rows(mask: np.ndarray, rn: np.ndarray) -> np.ndarray:
    """Spreadsheet row numbers (header = 1) of the True positions."""
    return rn[np.asarray(mask, dtype=bool)]


def _parse_number(
    values: pd.Series, source: str, column: str, rn: np.ndarray, *, integer: bool,
    allow_missing: bool,
) -> np.ndarray:
    """Parse a numeric column (decimal comma, space grouping) to float64 and validate."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.zeros(len(out), dtype=bool)
    else:
        text = values.astype("string").str.strip()
        text = text.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
        text = text.where(~text.str.contains(",", regex=False) | text.str.contains(".",
                          regex=False), text.str.replace(",", ".", regex=False))
        out = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(out) & text.fillna("").ne("").to_numpy()
    kind = "non-negative integers" if integer else "non-negative numbers"
    if bad.any():
        raise _fail(BadValueError, source, column, "non-numeric values", _rows(bad, rn),
                    values.to_numpy()[bad], accepted=kind + " (decimal comma allowed)")
    missing = np.isnan(out)
    if missing.any() and not allow_missing:
        raise _fail(BadValueError, source, column, "missing values", _rows(missing, rn),
                    accepted=kind)
    neg = out < 0
    if neg.any():
        raise _fail(BadValueError, source, column, "negative values", _rows(neg, rn),
                    out[neg], accepted=kind)
    if integer:
        frac = ~missing & (out != np.round(out))
        if frac.any():
            raise _fail(BadValueError, source, column, "non-integer counts", _rows(frac, rn),
                        out[frac], accepted=kind)
    return out


def _combine_date_time(frame: pd.DataFrame, cols: dict[str, str]) -> pd.Series:
    date = frame[cols["date"]]
    time = frame[cols["time"]]
    if pd.api.types.is_datetime64_any_dtype(date.dtype):
        date_txt = date.dt.strftime("%Y-%m-%d")
    else:
        date_txt = date.astype("string").str.strip().str.slice(0, 10)
    time_txt = time.map(lambda t: t.strftime("%H:%M:%S") if hasattr(t, "strftime") else t)
    return date_txt + " " + time_txt.astype("string").str.strip()


def _parse_ds(values: pd.Series, source: str, column: str, tz: str | None, rn: np.ndarray
              ) -> pd.Series:
    """Parse timestamps to naive local wall-clock ``datetime64[ns]``."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        if tz is None:
            raise _fail(BadTimestampError, source, column,
                        f"timestamps carry a time zone ({values.dtype.tz}) but no tz was given",
                        accepted="tz='Europe/Moscow' (the centre's zone) to convert them")
        return values.dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        parsed = values.astype("datetime64[ns]")
        if parsed.isna().any():
            bad = parsed.isna().to_numpy()
            raise _fail(BadTimestampError, source, column, "missing timestamps", _rows(bad, rn),
                        accepted=_TS_ACCEPTED)
        return parsed
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if pd.api.types.is_string_dtype(values.dtype) and all(
        isinstance(v, str) for v in uniques[:1000]
    ):
        utext = pd.Series(uniques, dtype="string").str.strip()
    else:  # Excel cells: datetime objects mixed with text
        utext = pd.Series(uniques, dtype=object).map(
            lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v).strip()
        ).astype("string")
    aware = utext.str.contains(_TZ_SUFFIX, regex=True).to_numpy(dtype=bool)
    if aware.any() and not aware.all():
        first_naive = np.flatnonzero(~aware)[0]
        first_aware = np.flatnonzero(aware)[0]
        rows = np.sort(rn[np.concatenate([np.flatnonzero(codes == first_naive)[:1],
                                          np.flatnonzero(codes == first_aware)[:1]])])
        raise _fail(BadTimestampError, source, column,
                    "some timestamps carry a UTC offset and some do not", rows,
                    accepted="all with an offset or all without")
    if aware.any() and tz is None:
        raise _fail(BadTimestampError, source, column,
                    "timestamps carry UTC offsets but no tz was given", _rows(codes == 0, rn)[:1],
                    accepted="tz='Europe/Moscow' (the centre's zone) to convert them")
    parsed = pd.to_datetime(utext, format="ISO8601", errors="coerce", utc=bool(aware.any()))
    if aware.any():
        parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
    parsed = parsed.astype("datetime64[ns]").to_numpy()
    bad_u = np.isnat(parsed)
    bad = (codes < 0) | np.isin(codes, np.flatnonzero(bad_u))
    if bad.any():
        raise _fail(BadTimestampError, source, column, "unparseable or missing timestamps",
                    _rows(bad, rn), values.to_numpy()[bad], accepted=_TS_ACCEPTED)
    return pd.Series(parsed[codes], index=values.index, name="ds")


def _get_ds(frame: pd.DataFrame, cols: dict[str, str], source: str, tz: str | None,
            rn: np.ndarray) -> pd.Series:
    if "ds" not in cols:
        label = f"{cols['date']}+{cols['time']}"
        return _parse_ds(_combine_date_time(frame, cols), source, label, tz, rn)
    return _parse_ds(frame[cols["ds"]], source, cols["ds"], tz, rn)


def _ambiguous_local(ds: pd.Series, tz: str | None) -> np.ndarray:
    """True where a naive local time occurs twice in ``tz`` (DST fall-back hour)."""
    if tz is None:
        return np.zeros(len(ds), dtype=bool)
    loc = ds.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return loc.isna().to_numpy()


def _check_duplicates(keys: pd.DataFrame, source: str, column: str, allowed: np.ndarray,
                      rn: np.ndarray, int_key: np.ndarray | None = None) -> None:
    """Raise on repeated keys outside ``allowed``; ``int_key`` is a fast equivalent key."""
    if int_key is not None:
        dup = pd.Series(int_key).duplicated(keep=False).to_numpy() & ~allowed
    else:
        dup = keys.duplicated(keep=False).to_numpy() & ~allowed
    if dup.any():
        shown = keys[dup].astype(str).agg(" ".join, axis=1).to_numpy()
        raise _fail(DuplicateRowError, source, column, "duplicate timestamps", _rows(dup, rn),
                    shown, accepted="one row per " + " and ".join(keys.columns))


def _daily_only(ds: pd.Series, source: str, column: str, rn: np.ndarray) -> pd.Series:
    timed = (ds != ds.dt.normalize()).to_numpy()
    if timed.any():
        raise _fail(BadTimestampError, source, column, "times of day in a daily history",
                    _rows(timed, rn), ds[timed].astype(str).to_numpy(),
                    accepted="dates only (one row per day)")
    return ds


# --------------------------------------------------------------------------- channels
def _normalise_channels(
    raw: pd.Series, source: str, column: str, channel_map: Mapping[str, str] | None,
    channels: Sequence[str] | None, rn: np.ndarray,
) -> tuple[pd.Series, np.ndarray]:
    """Normalised labels and, per row, the rank of its label in sorted label order."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if (codes < 0).any():
        raise _fail(ChannelError, source, column, "missing channel labels", _rows(codes < 0, rn),
                    accepted="a channel label on every row")
    labels = [re.sub(r"\s+", " ", str(u).strip().lower()) for u in uniques]
    if channel_map:
        cmap = {re.sub(r"\s+", " ", str(k).strip().lower()): v for k, v in channel_map.items()}
        labels = [cmap.get(lab, lab) for lab in labels]
    loose: dict[str, str] = {}
    for i, lab in enumerate(labels):
        key = re.sub(r"[^0-9a-z]", "", lab)
        other = loose.setdefault(key, lab)
        if other != lab:
            j = labels.index(other)
            first_j, first_i = np.flatnonzero(codes == j)[0], np.flatnonzero(codes == i)[0]
            pair = sorted([(rn[first_j], uniques[j]), (rn[first_i], uniques[i])])
            raise _fail(ChannelError, source, column,
                        f"one channel spelled two ways: {uniques[j]!r} and {uniques[i]!r}",
                        [r for r, _ in pair], [u for _, u in pair],
                        accepted=f"one spelling per channel, or channel_map={{{uniques[i]!r}: "
                                 f"{other!r}}} to merge them")
    if channels is not None:
        allowed = {c.lower() for c in channels}
        for i, lab in enumerate(labels):
            if lab not in allowed:
                raise _fail(ChannelError, source, column, f"unknown channel {uniques[i]!r}",
                            _rows(codes == i, rn)[:1], accepted=", ".join(sorted(allowed)))
    names = sorted(set(labels))
    rank = {name: i for i, name in enumerate(names)}
    code = np.array([rank[lab] for lab in labels], dtype=np.int64)[codes]
    out = pd.Series(names, dtype="str").take(code)  # take on a few names: no per-row objects
    return out.set_axis(raw.index), code


# --------------------------------------------------------------------------- intervals
def detect_interval_s(
    ds: Any, by: Any = None, *, source: str = "", column: str = "ds", rows: Any = None,
) -> int:
    """Detect the interval length (seconds) of a timestamp column.

    The interval is the smallest positive step between consecutive timestamps of a series
    (``by`` labels the series, e.g. the channel). Gaps are allowed (closed hours, missing
    days), but every step must be a whole number of intervals, and no day may sit on a
    coarser grid (a dense 30-minute day inside 15-minute data: six or more rows filling at
    least 80 % of the coarser slots between its first and last row).

    Parameters
    ----------
    ds : array-like of datetime64
        Interval starts, local wall-clock.
    by : array-like, optional
        Series labels; steps are measured within each label.
    source, column : str
        Used in error messages.
    rows : array-like of int, optional
        Row numbers to report in errors (default: spreadsheet rows of ``ds``, header = 1).

    Returns
    -------
    int
        Interval length in seconds (86400 for daily data; a divisor of a day otherwise).

    Raises
    ------
    MixedIntervalError
        A step that is not a multiple of the interval, a coarser-grid day, or a smallest
        step that does not divide a day.

    Examples
    --------
    >>> detect_interval_s(pd.to_datetime(["2024-01-01 08:00", "2024-01-01 08:30",
    ...                                   "2024-01-01 10:00"]))
    1800
    """
    t = np.asarray(ds)
    if not np.issubdtype(t.dtype, np.datetime64):
        t = pd.to_datetime(pd.Series(t)).to_numpy()
    sec = t.astype("datetime64[s]").astype(np.int64)
    if by is None:
        grp = np.zeros(len(sec), dtype=np.int64)
    else:
        by = np.asarray(by)
        grp = by if np.issubdtype(by.dtype, np.integer) else pd.factorize(by)[0]
    rows = np.arange(len(sec)) + 2 if rows is None else np.asarray(rows, dtype=np.int64)
    order = _series_order(sec, grp)
    s, g = sec[order], grp[order]
    step = np.diff(s)
    same = (np.diff(g) == 0) & (step > 0)
    if not same.any():
        if np.all(s % _DAY_S == 0):
            return _DAY_S
        raise _fail(MixedIntervalError, source, column,
                    "cannot detect the interval from one timestamp per series",
                    accepted="interval_s given explicitly")
    d = int(step[same].min())
    if not (_DAY_S % d == 0 or d % _DAY_S == 0):
        first = order[1:][same & (step == d)][0]
        raise _fail(MixedIntervalError, source, column,
                    f"smallest step of {d} s does not divide a day", rows[[first]],
                    accepted="5, 10, 15, 30 or 60 minutes, or daily")
    d = min(d, _DAY_S)
    if d == _DAY_S and np.any(sec % _DAY_S):
        off = sec % _DAY_S != 0
        raise _fail(MixedIntervalError, source, column, "times of day in daily data",
                    rows[off], pd.to_datetime(sec[off], unit="s").astype(str),
                    accepted="midnight timestamps")
    _check_grid(sec, grp, d, source, column, rows, coarse_days=d < _DAY_S, order=order)
    return d


def _series_order(sec: np.ndarray, grp: np.ndarray) -> np.ndarray:
    """Permutation sorting by series, then time (cheap when already sorted by time)."""
    if len(sec) < 2 or np.all(sec[1:] >= sec[:-1]):
        return np.argsort(grp, kind="stable")
    return np.lexsort((sec, grp))


def _check_grid(sec: np.ndarray, grp: np.ndarray, d: int, source: str, column: str,
                rows: np.ndarray, coarse_days: bool, order: np.ndarray | None = None) -> None:
    """Every step within a series is a multiple of d; optionally no coarser-grid days."""
    order = _series_order(sec, grp) if order is None else order
    s, g = sec[order], grp[order]
    step = np.diff(s)
    same = np.diff(g) == 0
    off = same & (step % d != 0)
    if off.any():
        idx = order[1:][off]
        smallest = order[1:][same & (step == step[same & (step > 0)].min())][:1]
        raise _fail(MixedIntervalError, source, column,
                    f"mixed interval lengths: steps that are not a whole number of {d} s "
                    f"(the smallest step, ending at row {int(rows[smallest][0])})", rows[idx],
                    pd.to_datetime(sec[idx], unit="s").astype(str),
                    accepted="every step a whole number of one interval length")
    if not coarse_days:
        return
    # Same order as (series, day, slot), since day and slot grow with time.
    key_d = s // _DAY_S
    sl = (s - key_d * _DAY_S) // d
    start = np.r_[True, (np.diff(g) != 0) | (np.diff(key_d) != 0)]
    diffs = np.r_[0, np.diff(sl)]
    diffs[start] = 0
    seg = np.cumsum(start) - 1
    gcd = np.gcd.reduceat(diffs, np.flatnonzero(start))
    n = np.bincount(seg)
    first = sl[start]
    last = np.r_[sl[np.flatnonzero(start)[1:] - 1], sl[-1]]
    span = (last - first) // np.maximum(gcd, 1) + 1
    coarse = (gcd > 1) & (n >= 6) & (n >= 0.8 * span)
    if coarse.any():
        idx = order[np.isin(seg, np.flatnonzero(coarse)) & start]
        idx = idx[np.argsort(rows[idx])]
        raise _fail(MixedIntervalError, source, column,
                    f"mixed interval lengths: some days step {int(gcd[coarse][0]) * d} s, "
                    f"the data steps {d} s; days starting", rows[idx],
                    pd.to_datetime(sec[idx], unit="s").astype(str),
                    accepted="one interval length for the whole file")


# --------------------------------------------------------------------------- loaders
def load_orders(src: Any) -> pd.DataFrame:
    """Load a daily order history.

    Parameters
    ----------
    src : path, file-like or DataFrame
        CSV (.csv/.csv.gz), .xlsx or Parquet with a date column and an order count
        (aliases in ``COLUMN_ALIASES``), optionally ``segment``.

    Returns
    -------
    pandas.DataFrame
        ``ds`` (datetime64[ns], midnight), ``orders`` (int64 >= 0)[, ``segment``], sorted.
        Missing days stay missing.

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
    frame, source, rn = _read_table(src)
    cols = _map_columns(frame, source, ["ds", "orders", "segment"], ["ds", "orders"])
    ds = _daily_only(_parse_ds(frame[cols["ds"]], source, cols["ds"], None, rn), source,
                     cols["ds"], rn)
    out = pd.DataFrame({"ds": ds.to_numpy()})
    out["orders"] = _parse_number(frame[cols["orders"]], source, cols["orders"],
                                  rn, integer=True, allow_missing=False).astype(np.int64)
    keys = ["ds"]
    if "segment" in cols:
        out["segment"] = frame[cols["segment"]].astype("str").str.strip().to_numpy()
        keys.append("segment")
    _check_duplicates(out[keys], source, cols["ds"], np.zeros(len(out), dtype=bool), rn)
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs.update(source=source)
    return out


def load_contacts(
    src: Any, interval_s: int | None = None, tz: str | None = None, *,
    channel_map: Mapping[str, str] | None = None, channels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Load an interval contact history (any interval length, gaps kept).

    Parameters
    ----------
    src : path, file-like or DataFrame
        Columns ``ds`` (or date + time), ``channel``, ``contacts``, optional ``aht_s``
        (seconds; ``aht_min`` is converted); aliases in ``COLUMN_ALIASES``.
    interval_s : int, optional
        Expected interval length in seconds; checked against the data. Detected if None.
    tz : str, optional
        IANA zone of the centre (e.g. ``"Europe/Moscow"``). Needed for offset-carrying
        timestamps, which are converted to its wall clock; enables DST-repeat merging.
    channel_map : mapping, optional
        Explicit relabelling (``{"e-mail": "email", "phone": "voice"}``), applied after
        case/space normalisation.
    channels : sequence of str, optional
        Accepted channel names; others raise ``ChannelError``.

    Returns
    -------
    pandas.DataFrame
        ``ds`` (datetime64[ns] interval start), ``channel`` (lower-case str), ``contacts``
        (int64 >= 0)[, ``aht_s`` (float64 seconds, NaN where not given)], sorted by ds and
        channel; ``attrs``: ``interval_s`` (int), ``source``, ``tz``, ``dst_merged_rows``.

    Raises
    ------
    DataError
        Subclasses: MissingFileError, EmptyFileError, FileFormatError, MissingColumnError,
        AmbiguousColumnError, BadValueError, BadTimestampError, DuplicateRowError,
        MixedIntervalError, ChannelError.

    Examples
    --------
    >>> contacts = load_contacts(sample_paths().contacts)
    >>> contacts.attrs["interval_s"], sorted(contacts["channel"].unique())
    (1800, ['chat', 'email', 'voice'])
    """
    frame, source, rn = _read_table(src)
    cols = _map_columns(frame, source,
                        ["date", "time", "ds", "channel", "contacts", "aht_s", "aht_min"],
                        ["channel", "contacts"])
    if "ds" not in cols and ("date" in cols) != ("time" in cols):
        cols["ds"] = cols.pop("date") if "date" in cols else cols.pop("time")
    if "ds" not in cols and not ("date" in cols and "time" in cols):
        raise _fail(MissingColumnError, source, "ds",
                    f"no timestamp column among {list(frame.columns)}",
                    accepted="a column named " + " / ".join(COLUMN_ALIASES["ds"])
                    + ", or a date column plus a time column")
    if "aht_s" in cols and "aht_min" in cols:
        raise _fail(AmbiguousColumnError, source, cols["aht_min"],
                    f"both '{cols['aht_s']}' and '{cols['aht_min']}' given",
                    accepted="one handle-time column")
    bare_aht = [c for c in frame.columns if _norm_header(c) in ("aht", "handle_time")]
    if bare_aht and "aht_s" not in cols and "aht_min" not in cols:
        raise _fail(AmbiguousColumnError, source, str(bare_aht[0]),
                    "handle time without a unit", accepted="aht_s (seconds) or aht_min")
    ds = _get_ds(frame, cols, source, tz, rn)
    ds_col = cols.get("ds", f"{cols.get('date')}+{cols.get('time')}")
    out = pd.DataFrame({"ds": ds.to_numpy()})
    channel, code = _normalise_channels(frame[cols["channel"]], source, cols["channel"],
                                        channel_map, channels, rn)
    out["channel"] = channel.to_numpy()
    out["contacts"] = _parse_number(frame[cols["contacts"]], source, cols["contacts"],
                                    rn, integer=True, allow_missing=False).astype(np.int64)
    if "aht_s" in cols or "aht_min" in cols:
        key = "aht_s" if "aht_s" in cols else "aht_min"
        scale = 1.0 if key == "aht_s" else 60.0
        out["aht_s"] = scale * _parse_number(frame[cols[key]], source, cols[key],
                                             rn, integer=False, allow_missing=True)
    amb = _ambiguous_local(out["ds"], tz)
    ds_int = out["ds"].to_numpy().view(np.int64)
    n_codes = int(code.max()) + 1
    int_key = pd.factorize(ds_int)[0].astype(np.int64) * n_codes + code  # no overflow
    _check_duplicates(out[["ds", "channel"]], source, ds_col, amb, rn, int_key)
    out["_row"] = rn
    merged = 0
    if amb.any() and pd.Series(int_key).duplicated().any():
        out, merged = _merge_repeats(out)
        code = pd.factorize(out["channel"], sort=True)[0]
        ds_int = out["ds"].to_numpy().view(np.int64)
    order = np.lexsort((code, ds_int))
    out = out.take(order).reset_index(drop=True)
    code = code[order]
    rows = out.pop("_row").to_numpy()
    if interval_s is None:
        interval_s = detect_interval_s(out["ds"], code, source=source, column=ds_col,
                                       rows=rows)
    else:
        interval_s = int(interval_s)
        if interval_s <= 0 or not (_DAY_S % interval_s == 0 or interval_s % _DAY_S == 0):
            raise ValueError(f"interval_s: must divide a day (or be whole days), got {interval_s}")
        sec = out["ds"].to_numpy().astype("datetime64[s]").astype(np.int64)
        if interval_s < _DAY_S:
            _check_grid(sec, code, interval_s, source, ds_col, rows, coarse_days=False)
        elif (sec % _DAY_S != 0).any():
            off = sec % _DAY_S != 0
            raise _fail(MixedIntervalError, source, ds_col, "times of day in daily data",
                        rows[off], accepted="midnight timestamps")
    out.attrs.update(interval_s=int(interval_s), source=source, tz=tz, dst_merged_rows=merged)
    return out


def _merge_repeats(out: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Sum rows sharing (ds, channel) (DST repeats); AHT weighted by contacts."""
    n0 = len(out)
    agg = out.assign(_w=out.get("aht_s", 0.0) * out["contacts"])
    grouped = agg.groupby(["ds", "channel"], sort=False, as_index=False)
    res = grouped[["contacts", "_w"]].sum()
    res["_row"] = grouped["_row"].min()["_row"]
    if "aht_s" in out:
        res["aht_s"] = np.where(res["contacts"] > 0, res["_w"] / res["contacts"].where(
            res["contacts"] > 0, 1), grouped["aht_s"].mean()["aht_s"])
    return res.drop(columns="_w"), n0 - len(res)


def load_events(src: Any) -> pd.DataFrame:
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
    frame, source, rn = _read_table(src)
    cols = _map_columns(frame, source, ["ds", "event", "lower_window", "upper_window"],
                        ["ds", "event"])
    ds = _daily_only(_parse_ds(frame[cols["ds"]], source, cols["ds"], None, rn), source,
                     cols["ds"], rn)
    out = pd.DataFrame({"ds": ds.to_numpy()})
    event = frame[cols["event"]].astype("str").str.strip()
    blank = (frame[cols["event"]].isna() | event.eq("")).to_numpy()
    if blank.any():
        raise _fail(BadValueError, source, cols["event"], "missing event names", _rows(blank, rn),
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
                raise _fail(BadValueError, source, cols[name], "bad window values",
                            _rows(bad, rn), raw.to_numpy()[bad], accepted=f"integers {side} (days)")
            out[name] = np.nan_to_num(num, nan=0.0).astype(np.int64)
    _check_duplicates(out[["ds", "event"]], source, cols["ds"], np.zeros(len(out), dtype=bool), rn)
    out = out.sort_values(["ds", "event"], kind="stable").reset_index(drop=True)
    out.attrs.update(source=source)
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
    """Paths of the bundled synthetic sample files."""

    orders: Path
    contacts: Path
    events: Path


def sample_paths() -> SamplePaths:
    """Paths of the bundled sample (``data/`` at the repository root).

    Examples
    --------
    >>> sample_paths().contacts.name
    'contacts.csv.gz'
    """
    root = Path(__file__).resolve().parent.parent / "data"
    return SamplePaths(orders=root / "orders.csv", contacts=root / "contacts.csv.gz",
                       events=root / "events.csv")
