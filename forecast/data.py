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

This module reads files and assembles the frames; the column checks, the error classes
and :func:`detect_interval_s` live in :mod:`forecast.validation` (re-exported here).
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

from forecast.validation import (
    _DAY_S,
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
    _ambiguous_local,
    _check_duplicates,
    _check_grid,
    _daily_only,
    _fail,
    _get_ds,
    _normalise_channels,
    _parse_ds,
    _parse_number,
    _rows,
    detect_interval_s,
)

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
