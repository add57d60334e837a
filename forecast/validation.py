"""Checks on loaded history columns: errors, values, timestamps, channels, interval grid.

Why it is long: each check of a history column (counts, timestamps, time zones, channels,
the interval grid) raises its own named error with the file, column and rows; the loaders
call them in order.

The readers in :mod:`forecast.data` turn a file into a raw frame; the functions here parse
and validate its columns and raise :class:`DataError` subclasses whose messages name the
file, the column, the first offending rows (spreadsheet numbering: header = row 1) and
what is accepted.

- numbers: one decimal mark per file (:func:`decimal_mark`), thousands grouping by three
  digits, then finite, non-negative, bounded (``MAX_COUNT``, ``MAX_AHT_S``), whole counts;
- timestamps: ISO 8601 or native datetimes with a day and a year in ``YEARS``, to naive
  local wall-clock time; offsets only with the centre's ``tz``; repeated wall-clock labels
  at a DST fall-back detected (and named as such when no ``tz`` is given);
- channel labels: case and spacing normalised, two spellings of one label refused
  (unless mapped), an optional list of accepted channels, warnings for likely typos and
  rare labels (:func:`channel_warnings`);
- interval grid: :func:`detect_interval_s` finds the interval length and refuses mixed
  lengths, also sparse stretches or channels recorded at a coarser interval.

Every message is built from the first few offending rows and a count of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
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
    "MAX_AHT_S",
    "MAX_COUNT",
    "RARE_CHANNEL_SHARE",
    "YEARS",
    "MixedIntervalError",
    "channel_warnings",
    "likely_typos",
    "decimal_mark",
    "detect_interval_s",
]

MAX_ROWS_SHOWN = 5
DAY_S = 86_400
_TS_ACCEPTED = (
    "ISO 8601 such as 2024-11-11, 2024-11-11 08:30 or 2024-11-11T08:30:00+03:00, "
    "or a date column plus a time column"
)
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_HAS_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}|^\d{8}(?:$|T)")
#: Accepted years of a timestamp (a typo such as 2300 or 1024 is an error, not a date).
YEARS = (1900, 2200)


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


def fail(
    cls: type[DataError], source: str, column: str | None, problem: str,
    rows: np.ndarray | Sequence[int] = (), values: Sequence[Any] = (), accepted: str = "",
    total: int | None = None,
) -> DataError:
    """The error to raise: names the source, the column, the first rows (with their values)
    and how many more there are (``total`` offending rows; default ``len(rows)``)."""
    rows = np.asarray(rows, dtype=np.int64)
    total = len(rows) if total is None else int(total)
    where = f"column '{column}'" if column else "file"
    msg = f"{source}: {where}: {problem}"
    if len(rows):
        shown = ", ".join(
            f"row {r}" + (f" ({_plain(values[i])!r})" if i < len(values) else "")
            for i, r in enumerate(rows[:MAX_ROWS_SHOWN])
        )
        more = f" and {total - len(rows[:MAX_ROWS_SHOWN]):,} more" if total > min(
            len(rows), MAX_ROWS_SHOWN) else ""
        msg += f" at {shown}{more}"
    if accepted:
        msg += f". Accepted: {accepted}"
    return cls(msg + ".", source=source, column=column, rows=rows[:MAX_ROWS_SHOWN])


# --------------------------------------------------------------------------- parsing
def rows_of(mask: np.ndarray, rn: np.ndarray) -> np.ndarray:
    """Spreadsheet row numbers (header = 1) of the True positions."""
    return rn[np.asarray(mask, dtype=bool)]


#: Largest accepted count (orders or contacts per row): far above any real centre, far
#: below the int64 range and exact in float64.
MAX_COUNT = 10**9
#: Largest accepted handle time in seconds (one day).
MAX_AHT_S = 86_400.0

_SPACES = r"[\s\x{a0}\x{202f}']"  # spaces (also no-break) and apostrophes group thousands
_EXP = r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$"


def _distinct_text(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """The distinct texts of a column (spaces and apostrophes removed) and, per row, the
    position of its text (-1 where missing). Checks run once per distinct text."""
    if not (pd.api.types.is_string_dtype(values.dtype)
            and not pd.api.types.is_object_dtype(values.dtype)):
        values = values.astype("str")
    arr = pa.array(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = pc.dictionary_encode(arr)
    idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    text = enc.dictionary
    if _any(pc.match_substring_regex(text, _SPACES)):
        text = pc.replace_substring_regex(text, _SPACES, "")
    return text, idx


def _any(mask: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def _mask(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _evidence(text: pa.Array) -> dict[str, np.ndarray]:
    """Per distinct text: does it show '.' or ',' as the decimal mark, or hold a grouped
    number that reads either way (one separator followed by exactly three digits)?"""
    def rx(pattern: str) -> np.ndarray:
        return _mask(pc.match_substring_regex(text, pattern))

    return {
        ".": rx(r"^[+-]?\d*\.(\d{0,2}|\d{4,})$|^[+-]?\d{1,3}(,\d{3})+\.\d*$|"
                r"^[+-]?\d{1,3}(,\d{3}){2,}$"),
        ",": rx(r"^[+-]?\d*,(\d{0,2}|\d{4,})$|^[+-]?\d{1,3}(\.\d{3})+,\d*$|"
                r"^[+-]?\d{1,3}(\.\d{3}){2,}$"),
        "either": rx(r"^[+-]?\d{1,3}[.,]\d{3}$"),
    }


def decimal_mark(columns: Mapping[str, pd.Series], source: str, rn: np.ndarray,
                 default: str = ".", distinct: dict[str, Any] | None = None,
                 ) -> tuple[str, list[str]]:
    """The decimal mark of a file's number columns, and what it decided, in words.

    The mark is ``'.'`` or ``','``. A value shows it when the separator is not followed by
    exactly three digits (``312,5``, ``12.25``) or when both marks appear (``1.234,5``,
    ``1,234.5``), or when one mark repeats (``1.000.000`` groups with '.'). A value such as
    ``1.000`` or ``12,000`` reads both ways: it follows the file's evidence, else
    ``default`` (the loaders use ``','`` for semicolon-separated files, where a decimal
    comma is the convention, and ``'.'`` otherwise), and a note says how it was read.

    ``distinct`` (a dict) receives each text column's distinct values for
    :func:`parse_number`, so they are computed once.

    Raises
    ------
    BadValueError
        Values in one file show both marks as the decimal mark.
    """
    first: dict[str, tuple[str, int]] = {}
    either: list[tuple[str, np.ndarray]] = []
    for column, values in columns.items():
        if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_object_dtype(
                values.dtype):
            continue
        text, idx = _distinct_text(values)
        if distinct is not None:
            distinct[column] = (text, idx)
        if not _any(pc.match_substring_regex(text, r"[.,]")):
            continue
        ev = _evidence(text)
        for mark in (".", ","):
            if mark not in first and ev[mark].any():
                first[mark] = (column, int(np.flatnonzero(ev[mark][idx] & (idx >= 0))[0]))
        if ev["either"].any():
            either.append((column, ev["either"][idx] & (idx >= 0)))
    if len(first) == 2:
        (c1, i1), (c2, i2) = first["."], first[","]
        pairs = sorted([(int(rn[i1]), columns[c1].iloc[i1]), (int(rn[i2]), columns[c2].iloc[i2])])
        raise fail(BadValueError, source, c1 if c1 == c2 else f"{c1}' and '{c2}",
                   "both '.' and ',' used as the decimal mark", [r for r, _ in pairs],
                   [v for _, v in pairs], accepted="one decimal mark per file")
    mark = next(iter(first), default)
    notes = []
    for column, rows_mask in either:
        i = int(np.flatnonzero(rows_mask)[0])
        n = int(rows_mask.sum())
        group = "," if mark == "." else "."
        how = "from the other numbers of the file" if first else "by default for this separator"
        notes.append(
            f"{source}: column '{column}': {n:,} value(s) such as "
            f"{str(columns[column].iloc[i]).strip()!r} (row {int(rn[i])}) read with '{mark}' as "
            f"the decimal mark and '{group}' as the thousands separator (decided {how})")
    return mark, notes


def parse_number(
    values: pd.Series, source: str, column: str, rn: np.ndarray, *, integer: bool,
    allow_missing: bool, decimal: str = ".", upper: float | None = None,
    distinct: tuple[pa.Array, np.ndarray] | None = None,
) -> np.ndarray:
    """Parse a numeric column to float64 and validate it.

    Text is read with ``decimal`` as the decimal mark; the other mark, spaces and
    apostrophes group thousands (``12 000``, ``12,000``, ``1.000.000``) and must group by
    three digits. Values must be finite, non-negative, at most ``upper`` (default
    :data:`MAX_COUNT` for integer counts) and, for counts, whole.
    """
    kind = "non-negative integers" if integer else "non-negative numbers"
    upper = MAX_COUNT if (upper is None and integer) else upper
    if pd.api.types.is_numeric_dtype(values.dtype) and not (
            pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_object_dtype(
                values.dtype)):
        out = values.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(out)
    else:
        text, idx = _distinct_text(values) if distinct is None else distinct
        group = "," if decimal == "." else r"\."
        dec = re.escape(decimal)
        pattern = rf"^[+-]?(\d+({dec}\d*)?|{dec}\d+)$|^[+-]?\d{{1,3}}({group}\d{{3}})+({dec}\d*)?$"
        if decimal == ".":
            pattern += "|" + _EXP
        ok = _mask(pc.match_substring_regex(text, pattern))
        norm = pc.replace_substring(text, "," if decimal == "." else ".", "")
        if decimal == ",":
            norm = pc.replace_substring(norm, ",", ".")
        norm = pc.if_else(pa.array(ok), norm, pa.scalar(None, pa.string()))
        out_u = pc.cast(norm, pa.float64()).to_numpy(zero_copy_only=False)
        out = np.append(out_u, np.nan)[idx]  # idx -1 (missing) takes the NaN
        bad = (idx >= 0) & ~np.append(ok, True)[idx]
    if bad.any():
        idx = np.flatnonzero(bad)
        raise fail(BadValueError, source, column, "non-numeric values", rn[idx],
                   values.iloc[idx[:MAX_ROWS_SHOWN]].to_numpy(),
                   accepted=kind + f" (decimal mark '{decimal}' in this file)")
    missing = np.isnan(out)
    if missing.any() and not allow_missing:
        raise fail(BadValueError, source, column, "missing values", rows_of(missing, rn),
                   accepted=kind)
    neg = out < 0
    if neg.any():
        raise fail(BadValueError, source, column, "negative values", rows_of(neg, rn),
                   out[neg][:MAX_ROWS_SHOWN], accepted=kind)
    if upper is not None:
        big = out > upper
        if big.any():
            idx = np.flatnonzero(big)
            raise fail(BadValueError, source, column, f"values above {upper:,.0f}",
                       rn[idx], values.iloc[idx[:MAX_ROWS_SHOWN]].to_numpy(),
                       accepted=f"{kind} up to {upper:,.0f}")
    if integer:
        frac = ~missing & (out != np.round(out))
        if frac.any():
            raise fail(BadValueError, source, column, "non-integer counts", rows_of(frac, rn),
                       out[frac][:MAX_ROWS_SHOWN], accepted=kind)
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


def parse_ds(values: pd.Series, source: str, column: str, tz: str | None, rn: np.ndarray
              ) -> pd.Series:
    """Parse timestamps to naive local wall-clock ``datetime64[ns]``."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        if tz is None:
            raise fail(BadTimestampError, source, column,
                       f"timestamps carry a time zone ({values.dtype.tz}) but no tz was given",
                       accepted="tz='Europe/Moscow' (the centre's zone) to convert them")
        local = values.dt.tz_convert(tz).dt.tz_localize(None)
        _check_years(local, source, column, rn)
        return local.astype("datetime64[ns]")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        if values.isna().any():
            bad = values.isna().to_numpy()
            raise fail(BadTimestampError, source, column, "missing timestamps", rows_of(bad, rn),
                       accepted=_TS_ACCEPTED)
        _check_years(values, source, column, rn)
        return values.astype("datetime64[ns]")
    fast = _fast_iso(values)
    if fast is not None:
        return pd.Series(fast, index=values.index, name="ds")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if pd.api.types.is_string_dtype(values.dtype) and all(
        isinstance(v, str) for v in uniques[:1000]
    ):
        utext = pd.Series(uniques, dtype="string").str.strip()
    else:  # Excel cells: datetime objects mixed with text
        utext = pd.Series(uniques, dtype=object).map(
            lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v).strip()
        ).astype("string")
    no_day = ~utext.str.match(_HAS_DAY).fillna(True).to_numpy(dtype=bool)
    if no_day.any():
        bad = np.isin(codes, np.flatnonzero(no_day))
        idx = np.flatnonzero(bad)
        raise fail(BadTimestampError, source, column,
                   "dates without a day (a year or a month is not a date)", rn[idx],
                   values.iloc[idx[:MAX_ROWS_SHOWN]].to_numpy(), accepted=_TS_ACCEPTED)
    aware = utext.str.contains(_TZ_SUFFIX, regex=True).to_numpy(dtype=bool)
    if aware.any() and not aware.all():
        first_naive = np.flatnonzero(~aware)[0]
        first_aware = np.flatnonzero(aware)[0]
        rows = np.sort(rn[np.concatenate([np.flatnonzero(codes == first_naive)[:1],
                                          np.flatnonzero(codes == first_aware)[:1]])])
        raise fail(BadTimestampError, source, column,
                   "some timestamps carry a UTC offset and some do not", rows,
                   accepted="all with an offset or all without")
    if aware.any() and tz is None:
        raise fail(BadTimestampError, source, column,
                   "timestamps carry UTC offsets but no tz was given", rows_of(codes == 0, rn)[:1],
                   accepted="tz='Europe/Moscow' (the centre's zone) to convert them")
    parsed = pd.to_datetime(utext, format="ISO8601", errors="coerce", utc=bool(aware.any()))
    if aware.any():
        parsed = parsed.dt.tz_convert(tz).dt.tz_localize(None)
    bad_u = parsed.isna().to_numpy()
    bad = (codes < 0) | np.isin(codes, np.flatnonzero(bad_u))
    if bad.any():
        idx = np.flatnonzero(bad)
        raise fail(BadTimestampError, source, column, "unparseable or missing timestamps",
                   rn[idx], values.iloc[idx[:MAX_ROWS_SHOWN]].to_numpy(),
                   accepted=_TS_ACCEPTED)
    _check_years(parsed, source, column, rn, codes)
    parsed = parsed.astype("datetime64[ns]").to_numpy()
    return pd.Series(parsed[codes], index=values.index, name="ds")


def _fast_iso(values: pd.Series) -> np.ndarray | None:
    """Naive ISO 8601 text parsed in one Arrow pass; None when any value needs the careful
    path (offsets, other spellings, missing or out-of-range values: it names them)."""
    if not isinstance(values.array, pd.arrays.ArrowExtensionArray) or not len(values):
        return None
    try:
        ts = pc.cast(pa.array(values.array), pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if ts.null_count:
        return None
    out = ts.to_numpy(zero_copy_only=False).astype("datetime64[ns]", copy=False)
    lo, hi = pd.Timestamp(out.min()).year, pd.Timestamp(out.max()).year
    return out if YEARS[0] <= lo and hi <= YEARS[1] else None


def _check_years(parsed: pd.Series, source: str, column: str, rn: np.ndarray,
                 codes: np.ndarray | None = None) -> None:
    """Raise on dates outside :data:`YEARS` (``parsed`` holds uniques when ``codes``)."""
    year = parsed.dt.year.to_numpy()
    off = (year < YEARS[0]) | (year > YEARS[1])
    if off.any():
        bad = np.isin(codes, np.flatnonzero(off)) if codes is not None else off
        idx = np.flatnonzero(bad)
        shown = parsed.to_numpy()[codes[idx[:MAX_ROWS_SHOWN]] if codes is not None
                                  else idx[:MAX_ROWS_SHOWN]]
        raise fail(BadTimestampError, source, column,
                   f"dates outside the years {YEARS[0]}..{YEARS[1]}", rn[idx],
                   [str(v)[:19] for v in shown], accepted="dates of a contact history")


def get_ds(frame: pd.DataFrame, cols: dict[str, str], source: str, tz: str | None,
            rn: np.ndarray) -> pd.Series:
    if "ds" not in cols:
        label = f"{cols['date']}+{cols['time']}"
        return parse_ds(_combine_date_time(frame, cols), source, label, tz, rn)
    return parse_ds(frame[cols["ds"]], source, cols["ds"], tz, rn)


def ambiguous_local(ds: pd.Series, tz: str | None) -> np.ndarray:
    """True where a naive local time occurs twice in ``tz`` (DST fall-back hour)."""
    if tz is None:
        return np.zeros(len(ds), dtype=bool)
    loc = ds.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return loc.isna().to_numpy()


def check_duplicates(keys: pd.DataFrame, source: str, column: str, allowed: np.ndarray,
                      rn: np.ndarray, int_key: np.ndarray | None = None,
                      dst_hint: bool = False, dup: np.ndarray | None = None) -> None:
    """Raise on repeated keys outside ``allowed``; ``int_key`` is a fast equivalent key,
    ``dup`` the repeated rows when already known. The message is built from the first
    rows only."""
    if dup is not None:
        dup = dup & ~allowed
    elif int_key is not None:
        dup = pd.Series(int_key).duplicated(keep=False).to_numpy() & ~allowed
    else:
        dup = keys.duplicated(keep=False).to_numpy() & ~allowed
    if dup.any():
        idx = np.flatnonzero(dup)
        first = keys.iloc[idx[:MAX_ROWS_SHOWN]]
        shown = first.astype(str).agg(" ".join, axis=1).to_numpy()
        accepted = "one row per " + " and ".join(keys.columns)
        if dst_hint and _looks_like_dst(keys["ds"].iloc[idx]):
            accepted += (". These look like the hour repeated when daylight saving time (DST) "
                         "ends: set the centre's time zone (tz='Europe/Berlin' when loading, "
                         "data.timezone in the scenario, --tz on the command line) and the "
                         "repeated intervals are summed")
        raise fail(DuplicateRowError, source, column, "duplicate timestamps", rn[idx],
                   shown, accepted=accepted)


def _looks_like_dst(ds: pd.Series) -> bool:
    """Repeated timestamps all between 00:00 and 03:59, on few dates (a DST fall-back)."""
    hours = ds.dt.hour.to_numpy()
    days = ds.dt.normalize().nunique()
    years = ds.dt.year.nunique()
    return bool(len(hours)) and bool((hours < 4).all()) and days <= 2 * years


def daily_only(ds: pd.Series, source: str, column: str, rn: np.ndarray) -> pd.Series:
    timed = (ds != ds.dt.normalize()).to_numpy()
    if timed.any():
        idx = np.flatnonzero(timed)
        raise fail(BadTimestampError, source, column, "times of day in a daily history",
                   rn[idx], ds.iloc[idx[:MAX_ROWS_SHOWN]].astype(str).to_numpy(),
                   accepted="dates only (one row per day)")
    return ds


# --------------------------------------------------------------------------- channels
def normalise_channels(
    raw: pd.Series, source: str, column: str, channel_map: Mapping[str, str] | None,
    channels: Sequence[str] | None, rn: np.ndarray,
) -> tuple[pd.Series, np.ndarray, list[str]]:
    """Normalised labels, per row the rank of its label in sorted label order, and
    warnings about labels that look like typos or are rare (see :func:`channel_warnings`)."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if (codes < 0).any():
        raise fail(ChannelError, source, column, "missing channel labels", rows_of(codes < 0, rn),
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
            raise fail(ChannelError, source, column,
                       f"one channel spelled two ways: {uniques[j]!r} and {uniques[i]!r}",
                       [r for r, _ in pair], [u for _, u in pair],
                       accepted=f"one spelling per channel, or channel_map={{{uniques[i]!r}: "
                                f"{other!r}}} to merge them")
    if channels is not None:
        allowed = {c.lower() for c in channels}
        for i, lab in enumerate(labels):
            if lab not in allowed:
                raise fail(ChannelError, source, column, f"unknown channel {uniques[i]!r}",
                           rows_of(codes == i, rn)[:1], accepted=", ".join(sorted(allowed)))
    names = sorted(set(labels))
    rank = {name: i for i, name in enumerate(names)}
    code = np.array([rank[lab] for lab in labels], dtype=np.int64)[codes]
    out = pd.Series(names, dtype="str").take(code)  # take on a few names: no per-row objects
    counts = np.bincount(code, minlength=len(names))
    return out.set_axis(raw.index), code, channel_warnings(names, counts, source, column)


#: A channel with less than this share of the rows is reported as rare.
RARE_CHANNEL_SHARE = 0.01


def _one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one insertion, deletion, substitution or swap of
    two neighbouring characters (optimal string alignment distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1:]


def likely_typos(names: Sequence[str], counts: Sequence[int]) -> dict[str, str]:
    """Channel labels one edit away from a label with more rows: ``{typo: likely meant}``.

    Examples
    --------
    >>> likely_typos(["chat", "chta", "voice", "vocie"], [700, 300, 1000, 2])
    {'chta': 'chat', 'vocie': 'voice'}
    """
    out = {}
    for i, name in enumerate(names):
        n = int(counts[i])
        twin = [j for j, other in enumerate(names)
                if int(counts[j]) > n and len(name) >= 3 and _one_edit(name, other)]
        if twin:
            out[name] = names[max(twin, key=lambda k: int(counts[k]))]
    return out


def channel_warnings(names: Sequence[str], counts: Sequence[int], source: str = "",
                     column: str = "channel") -> list[str]:
    """Warnings about channel labels: one edit away from a label with more rows (a likely
    typo, e.g. ``chta`` next to ``chat``), or holding less than
    :data:`RARE_CHANNEL_SHARE` of the rows.

    Examples
    --------
    >>> channel_warnings(["chat", "chta", "voice"], [700, 300, 1000], "c.csv")
    ["c.csv: column 'channel': channel 'chta' (300 rows) looks like a typo of 'chat' (700 rows)"]
    """
    total = int(np.sum(counts))
    out = []
    where = f"{source}: column '{column}': " if source else ""
    typos = likely_typos(names, counts)
    count = dict(zip(names, (int(c) for c in counts), strict=True))
    for i, name in enumerate(names):
        n = int(counts[i])
        if name in typos:
            meant = typos[name]
            out.append(f"{where}channel {name!r} ({n:,} rows) looks like a typo of "
                       f"{meant!r} ({count[meant]:,} rows)")
        elif len(names) > 1 and n < RARE_CHANNEL_SHARE * total:
            out.append(f"{where}channel {name!r} has only {n:,} rows "
                       f"({n / total:.2%} of the file)")
    return out


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
    sec = t.astype("datetime64[ns]", copy=False).view(np.int64) // 1_000_000_000
    if by is None:
        grp = np.zeros(len(sec), dtype=np.int32)
    else:
        by = np.asarray(by)
        grp = by if np.issubdtype(by.dtype, np.integer) else pd.factorize(by)[0]
    rows = np.arange(len(sec)) + 2 if rows is None else np.asarray(rows, dtype=np.int64)
    # Everything below works on rows sorted by series, then time (one copy of each array).
    order = _series_order(sec, grp)
    s = sec[order]
    del sec
    g = grp[order].astype(np.int32, copy=False)
    step = np.diff(s)
    same = np.diff(g) == 0
    pos = same & (step > 0)
    if not pos.any():
        if np.all(s % DAY_S == 0):
            return DAY_S
        raise fail(MixedIntervalError, source, column,
                   "cannot detect the interval from one timestamp per series",
                   accepted="interval_s given explicitly")
    d = int(step[pos].min())
    if not (DAY_S % d == 0 or d % DAY_S == 0):
        first = order[1:][pos & (step == d)][0]
        raise fail(MixedIntervalError, source, column,
                   f"smallest step of {d} s does not divide a day", rows[[first]],
                   accepted="5, 10, 15, 30 or 60 minutes, or daily")
    del pos
    d = min(d, DAY_S)
    if d == DAY_S:
        off = s % DAY_S != 0
        if off.any():
            idx = np.flatnonzero(off)
            raise fail(MixedIntervalError, source, column, "times of day in daily data",
                       rows[order[idx]], pd.to_datetime(s[idx[:MAX_ROWS_SHOWN]], unit="s")
                       .astype(str), accepted="midnight timestamps")
    _check_sorted_grid(s, g, order, step, same, d, source, column, rows,
                       coarse_days=d < DAY_S)
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
    s = sec[order]
    g = grp[order]
    step = np.diff(s)
    _check_sorted_grid(s, g, order, step, np.diff(g) == 0, d, source, column, rows,
                       coarse_days)


def _check_sorted_grid(s: np.ndarray, g: np.ndarray, order: np.ndarray, step: np.ndarray,
                       same: np.ndarray, d: int, source: str, column: str, rows: np.ndarray,
                       coarse_days: bool) -> None:
    """:func:`_check_grid` on rows already sorted by series and time (``s`` seconds, ``g``
    series, ``step = diff(s)``, ``same``: the step stays within a series)."""
    off = np.remainder(step, d)
    off = same & (off != 0)
    if off.any():
        idx = order[1:][off]
        smallest = order[1:][same & (step == step[same & (step > 0)].min())][:1]
        first = np.flatnonzero(off)[:MAX_ROWS_SHOWN] + 1
        raise fail(MixedIntervalError, source, column,
                   f"mixed interval lengths: steps that are not a whole number of {d} s "
                   f"(the smallest step, ending at row {int(rows[smallest][0])})", rows[idx],
                   pd.to_datetime(s[first], unit="s").astype(str),
                   accepted="every step a whole number of one interval length")
    del off
    if not coarse_days:
        return
    # Days and slots (intervals since midnight) grow with time within a series.
    day = (s // DAY_S).astype(np.int32)
    sl = np.remainder(s, DAY_S)
    sl //= d
    sl = sl.astype(np.int32)
    same_day = same & (np.diff(day) == 0)
    del day
    starts = np.flatnonzero(np.r_[True, ~same_day])
    diffs = np.r_[np.int32(0), np.diff(sl)]
    diffs[starts] = 0
    gcd = np.gcd.reduceat(diffs, starts)
    del diffs
    n = np.diff(np.r_[starts, len(s)])
    first = sl[starts]
    last = sl[np.r_[starts[1:] - 1, len(s) - 1]]
    del sl
    span = (last - first) // np.maximum(gcd, 1) + 1
    coarse = (gcd > 1) & (n >= 6) & (n >= 0.8 * span)
    if coarse.any():
        _odd_days(s, order, starts, gcd, coarse, (gcd == 1) & (n >= 2), same_day, d, source,
                  column, rows)
    del starts, gcd, n, first, last, span, coarse
    _check_coarse_runs(s, step, same, same_day, order, d, source, column, rows)


def _odd_days(s: np.ndarray, order: np.ndarray, starts: np.ndarray, gcd: np.ndarray,
              coarse: np.ndarray, fine: np.ndarray, same_day: np.ndarray, d: int,
              source: str, column: str, rows: np.ndarray) -> None:
    """Raise for a file whose days step at different lengths, naming the days that differ
    from the most common step (dense ``coarse`` days step ``gcd * d`` s, ``fine`` days
    ``d`` s; ``starts``: first sorted position of each day)."""
    steps, counts = np.unique(np.where(coarse, gcd, 1)[coarse | fine], return_counts=True)
    p = int(steps[np.argmax(counts)])  # most common step, in intervals (ties: the finer)
    most = f"{counts.max():,} of {counts.sum():,} channel-days"
    hit = np.zeros(0, dtype=np.int64)
    if p > 1:  # most days step p * d: the odd days have same-day steps off that grid
        hit = np.flatnonzero(np.r_[False, same_day & ((np.diff(s) // d) % p != 0)])
    if hit.size:
        day = np.searchsorted(starts, hit, side="right") - 1
        pos = hit[np.r_[True, np.diff(day) != 0]]  # the first such row of each day
        what = (f"mixed interval lengths: some days step {d} s while {most} step {p * d} s; "
                f"their first rows off the {p * d} s grid")
    else:  # the odd days are the coarse ones, named by their first rows
        pos = starts[coarse]
        what = (f"mixed interval lengths: some days step {int(gcd[coarse][0]) * d} s while "
                + (f"{most} step {d} s" if p == 1 else f"the data steps {d} s")
                + "; days starting")
    pos = pos[np.argsort(rows[order[pos]], kind="stable")]
    raise fail(MixedIntervalError, source, column, what, rows[order[pos]],
               pd.to_datetime(s[pos[:MAX_ROWS_SHOWN]], unit="s").astype(str),
               accepted="one interval length for the whole file")


#: Evidence (bits) a stretch of rows needs to count as recorded at a coarser interval.
_COARSE_BITS = 24
#: Within-day steps a whole series needs to count as recorded at a coarser interval.
_COARSE_SERIES_STEPS = 10


def _check_coarse_runs(s: np.ndarray, step: np.ndarray, same: np.ndarray,
                       day: np.ndarray, order: np.ndarray, d: int, source: str, column: str,
                       rows: np.ndarray) -> None:
    """Refuse stretches of sparse rows on a grid ``p`` times coarser than ``d``.

    Sparse ``d``-second data (quiet hours, omitted zero rows) steps a multiple of ``p``
    intervals by chance about once in ``p`` steps. A run of consecutive steps that are all
    multiples of ``p`` carries ``log2(p)`` bits per same-day step (``day``); at
    :data:`_COARSE_BITS` bits (chance below 1e-7 per run) the run was recorded at
    ``p * d`` seconds. A series (channel) whose same-day steps are all multiples of ``p``
    (at least :data:`_COARSE_SERIES_STEPS` of them) was too. Inputs are sorted by series
    and time as in :func:`_check_sorted_grid`.
    """
    if d >= DAY_S or len(s) < 3:
        return
    slots = (step // d).astype(np.int32)
    for p in (2, 3, 5):
        if DAY_S % (p * d):
            continue
        ok = same & (slots % p == 0)
        edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
        starts, ends = edges[::2], edges[1::2]
        csum = np.r_[np.int32(0), np.cumsum(ok & day, dtype=np.int32)]
        evidence = (csum[ends] - csum[starts]) * np.log2(p)
        hit = np.flatnonzero(evidence >= _COARSE_BITS)
        what = "a stretch of rows"
        if not hit.size:
            # whole series: no same-day step off the coarse grid, enough same-day steps
            series_start = np.r_[0, np.flatnonzero(~same) + 1]
            bad_day = np.r_[np.int32(0), np.cumsum(day & ~ok, dtype=np.int32)]
            n_day = np.r_[np.int32(0), np.cumsum(day, dtype=np.int32)]
            series_end = np.r_[series_start[1:] - 1, len(s) - 1]
            n_steps = n_day[series_end] - n_day[series_start]
            n_bad = bad_day[series_end] - bad_day[series_start]
            whole = np.flatnonzero((n_bad == 0) & (n_steps >= _COARSE_SERIES_STEPS))
            if not whole.size or len(series_start) == 1:
                continue
            starts, ends, hit = series_start, series_end, whole[:1]
            what = "a whole series (channel)"
        a, b = int(starts[hit[0]]), int(ends[hit[0]])
        idx = order[[a, b]]
        raise fail(MixedIntervalError, source, column,
                   f"mixed interval lengths: {what} steps only whole multiples of "
                   f"{p * d} s while the data steps {d} s; its first and last rows",
                   rows[idx], pd.to_datetime(s[[a, b]], unit="s").astype(str),
                   accepted="one interval length for the whole file, or an interval_s that "
                            "matches every channel")
