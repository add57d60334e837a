"""Checks on loaded history columns: errors, values, timestamps, channels, interval grid.

The readers in :mod:`forecast.data` turn a file into a raw frame; the functions here parse
and validate its columns and raise :class:`DataError` subclasses whose messages name the
file, the column, the first offending rows (spreadsheet numbering: header = row 1) and
what is accepted.

- numbers: decimal comma and space grouping accepted, then non-negative (integer counts);
- timestamps: ISO 8601 or native datetimes, to naive local wall-clock time; offsets only
  with the centre's ``tz``; repeated wall-clock labels at a DST fall-back detected;
- channel labels: case and spacing normalised, two spellings of one label refused
  (unless mapped), an optional list of accepted channels;
- interval grid: :func:`detect_interval_s` finds the interval length and refuses mixed
  lengths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

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
    "MixedIntervalError",
    "detect_interval_s",
]

_MAX_ROWS_SHOWN = 5
_DAY_S = 86_400
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
