"""Pure helpers that shape core frames for the app's tables and charts.

Why it is long: it is a flat list of small, independent, doctested helpers (one per table or
chart shape the pages need); they share nothing but their purpose.

No Streamlit, no clock, no randomness: frames in, frames (or frozen dataclasses) out, so
they are tested directly (``tests/test_app_views.py``). Planning arithmetic (forecasts,
agents, KPIs) stays in the core; these helpers only regroup and relabel its results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "WEEKDAYS",
    "DatasetSummary",
    "between",
    "break_gaps",
    "capacity_comparison",
    "comparison_tables",
    "coverage_view",
    "daily_contacts",
    "daily_series",
    "events_between",
    "fit_to_history",
    "group_warnings",
    "refit_plan_dates",
    "fmt_number",
    "interval_actuals",
    "peak_window",
    "requirements_heatmap",
    "shift_rows",
    "stack_by_scenario",
    "summarize_dataset",
    "table_to_csv",
    "tables_to_excel",
    "understaffed",
]


@dataclass(frozen=True)
class DatasetSummary:
    """What the Data page shows about a loaded history.

    Attributes
    ----------
    first_ds, last_ds : pandas.Timestamp
        First and last timestamp over orders and contacts.
    channels : tuple of str
        Contact channels, sorted.
    interval_s : int
        Interval length of the contact history, seconds (86400 for daily data).
    order_days, contact_rows, events : int
        Number of order days, contact rows and event rows.
    orders_range, contacts_range, events_range : tuple of two Timestamps, or None
        Each file's own first and last ``ds`` (None for a file without rows): the
        contacts may end long before the orders, and the page must not hide that.
    """

    first_ds: pd.Timestamp
    last_ds: pd.Timestamp
    channels: tuple[str, ...]
    interval_s: int
    order_days: int
    contact_rows: int
    events: int
    orders_range: tuple[pd.Timestamp, pd.Timestamp] | None = None
    contacts_range: tuple[pd.Timestamp, pd.Timestamp] | None = None
    events_range: tuple[pd.Timestamp, pd.Timestamp] | None = None

    @property
    def interval_label(self) -> str:
        """Human label of the interval: ``"30 min"``, ``"1 h"`` or ``"1 day"``."""
        if self.interval_s % 86400 == 0:
            days = self.interval_s // 86400
            return f"{days} day" + ("s" if days > 1 else "")
        if self.interval_s % 3600 == 0:
            return f"{self.interval_s // 3600} h"
        if self.interval_s % 60 == 0:
            return f"{self.interval_s // 60} min"
        return f"{self.interval_s} s"


def summarize_dataset(
    orders: pd.DataFrame, contacts: pd.DataFrame, events: pd.DataFrame, interval_s: int
) -> DatasetSummary:
    """Summarise loaded frames (contracts of ``DESIGN.md``) for the Data page preview.

    Examples
    --------
    >>> o = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01", "2024-01-02"]), "orders": [5, 6]})
    >>> c = pd.DataFrame({"ds": pd.to_datetime(["2024-01-02 08:00"]), "channel": ["chat"],
    ...                   "contacts": [3]})
    >>> s = summarize_dataset(o, c, pd.DataFrame({"ds": [], "event": []}), 1800)
    >>> (s.channels, s.interval_label, s.order_days)
    (('chat',), '30 min', 2)
    >>> [f"{t:%m-%d}" for t in s.orders_range], s.events_range
    (['01-01', '01-02'], None)
    """
    stamps = pd.concat([pd.Series(orders["ds"]), pd.Series(contacts["ds"])], ignore_index=True)
    return DatasetSummary(
        first_ds=pd.Timestamp(stamps.min()),
        last_ds=pd.Timestamp(stamps.max()),
        channels=tuple(sorted(str(c) for c in pd.unique(contacts["channel"]))),
        interval_s=int(interval_s),
        order_days=int(len(orders)),
        contact_rows=int(len(contacts)),
        events=int(len(events)),
        orders_range=_span(orders),
        contacts_range=_span(contacts),
        events_range=_span(events),
    )


def _span(frame: pd.DataFrame | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last ``ds`` of ``frame`` (min and max of the column), None if empty."""
    if frame is None or not len(frame) or "ds" not in frame:
        return None
    ds = pd.to_datetime(frame["ds"])
    if ds.isna().all():
        return None
    return pd.Timestamp(ds.min()), pd.Timestamp(ds.max())


def daily_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    """Contacts per calendar day and channel: ``ds`` (midnight), ``channel``, ``contacts``.

    Days without any row for a channel (closed days) are absent, not zero.

    Examples
    --------
    >>> c = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 08:30"]),
    ...                   "channel": ["chat", "chat"], "contacts": [3, 4]})
    >>> daily_contacts(c)["contacts"].tolist()
    [7]
    """
    day = pd.to_datetime(contacts["ds"]).dt.normalize()
    out = (
        contacts.assign(ds=day)
        .groupby(["ds", "channel"], as_index=False, observed=True)["contacts"]
        .sum()
    )
    return out.sort_values(["channel", "ds"], ignore_index=True)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def requirements_heatmap(
    requirements: pd.DataFrame, channel: str, value: str = "rostered"
) -> pd.DataFrame:
    """Mean of ``value`` per weekday and time of day for one channel.

    Returns ``weekday`` (``"Mon"``..``"Sun"``, in week order), ``time`` (``"HH:MM"``
    interval start) and ``value``: the average over the weeks of the horizon of the
    requirement at that weekday and time. Weekday/time slots without rows (closed hours)
    are absent.

    Raises
    ------
    ValueError
        If ``channel`` has no rows in ``requirements``.

    Examples
    --------
    >>> r = pd.DataFrame({"channel": "voice", "ds": pd.to_datetime(
    ...     ["2024-11-04 08:00", "2024-11-11 08:00"]), "rostered": [10, 14]})
    >>> requirements_heatmap(r, "voice").to_dict("records")
    [{'weekday': 'Mon', 'time': '08:00', 'rostered': 12.0}]
    """
    rows = requirements[requirements["channel"] == channel]
    if rows.empty:
        raise ValueError(f"channel {channel!r} has no rows in the requirements")
    ds = pd.to_datetime(rows["ds"])
    frame = pd.DataFrame(
        {
            "day": ds.dt.day_of_week.to_numpy(),
            "time": ds.dt.strftime("%H:%M").to_numpy(),
            value: rows[value].to_numpy(dtype=float),
        }
    )
    out = frame.groupby(["day", "time"], as_index=False)[value].mean()
    out.insert(0, "weekday", [WEEKDAYS[d] for d in out.pop("day")])
    return out


def shift_rows(shift_plan: pd.DataFrame, date: object, break_s: float) -> pd.DataFrame:
    """One day's shift plan shaped for the Gantt-like chart.

    Adds ``label`` (``"HH:MM-HH:MM channel, break HH:MM"``: one bar per shift pattern)
    and, when the
    plan has no ``break_end`` column, ``break_end`` = ``break_start`` + ``break_s``
    seconds; rows keep the shift-plan contract columns. Rows with zero agents are dropped.

    Examples
    --------
    >>> p = pd.DataFrame({"date": pd.to_datetime(["2024-11-29"]), "channel": ["chat"],
    ...     "shift_start": pd.to_datetime(["2024-11-29 08:00"]),
    ...     "shift_end": pd.to_datetime(["2024-11-29 16:00"]),
    ...     "break_start": pd.to_datetime(["2024-11-29 12:00"]), "agents": [7]})
    >>> row = shift_rows(p, "2024-11-29", 1800).iloc[0]
    >>> row["label"], f"{row['break_end']:%H:%M}"
    ('08:00-16:00 chat, break 12:00', '12:30')
    """
    day = pd.Timestamp(date).normalize()
    rows = shift_plan[(pd.to_datetime(shift_plan["date"]).dt.normalize() == day)]
    rows = rows[rows["agents"] > 0].copy()
    for col in ("shift_start", "shift_end", "break_start"):
        rows[col] = pd.to_datetime(rows[col])
    if "break_end" in rows.columns:
        rows["break_end"] = pd.to_datetime(rows["break_end"])
    else:
        rows["break_end"] = rows["break_start"] + pd.to_timedelta(break_s, unit="s")
    brk = rows["break_start"].dt.strftime(", break %H:%M").fillna("")
    rows["label"] = (
        rows["shift_start"].dt.strftime("%H:%M")
        + "-"
        + rows["shift_end"].dt.strftime("%H:%M")
        + " "
        + rows["channel"].astype(str)
        + brk
    )
    return rows.sort_values(
        ["channel", "shift_start", "shift_end", "break_start"], ignore_index=True
    )


def coverage_view(
    coverage: pd.DataFrame, channel: str, date: object | None = None, interval_s: int = 1800
) -> pd.DataFrame:
    """Coverage rows of one channel (and day) with an ``understaffed`` flag.

    ``coverage`` is the solver's ``channel, ds, required, scheduled, gap`` frame; an
    interval is understaffed when fewer agents are scheduled than required. ``ds_end``
    (``ds`` + ``interval_s`` seconds) is added for charts that draw each interval.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["chat", "chat"], "ds": pd.to_datetime(
    ...     ["2024-11-29 08:00", "2024-11-29 08:30"]), "required": [5, 6],
    ...     "scheduled": [5, 4], "gap": [0, -2]})
    >>> coverage_view(c, "chat")["understaffed"].tolist()
    [False, True]
    """
    rows = coverage[coverage["channel"] == channel].copy()
    rows["ds"] = pd.to_datetime(rows["ds"])
    if date is not None:
        rows = rows[rows["ds"].dt.normalize() == pd.Timestamp(date).normalize()]
    rows["ds_end"] = rows["ds"] + pd.Timedelta(seconds=int(interval_s))
    rows["understaffed"] = rows["scheduled"] < rows["required"]
    return rows.reset_index(drop=True)


def stack_by_scenario(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Concatenate per-scenario frames with a leading ``scenario`` column (input order)."""
    parts = [f.assign(scenario=name) for name, f in frames.items()]
    if not parts:
        return pd.DataFrame({"scenario": []})
    out = pd.concat(parts, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


def between(frame: pd.DataFrame, start: object, end: object, col: str = "ds") -> pd.DataFrame:
    """Rows whose ``col`` falls on a calendar day from ``start`` to ``end`` (inclusive).

    Examples
    --------
    >>> f = pd.DataFrame({"ds": pd.to_datetime(["2024-11-28 23:30", "2024-11-29 08:00",
    ...                                        "2024-11-30 00:00"])})
    >>> len(between(f, "2024-11-29", "2024-11-29"))
    1
    """
    day = pd.to_datetime(frame[col]).dt.normalize()
    keep = (day >= pd.Timestamp(start).normalize()) & (day <= pd.Timestamp(end).normalize())
    return frame[keep].reset_index(drop=True)


def peak_window(frame: pd.DataFrame, value: str, days: int = 7) -> tuple[object, object]:
    """First and last date of a ``days``-long window centred on the busiest day.

    The busiest day has the largest sum of ``value`` over all rows (all channels and
    intervals) of that day; the window is shifted to stay inside the frame's dates.
    Returns ``datetime.date`` objects.

    Raises
    ------
    ValueError
        If ``frame`` is empty or ``days`` < 1.

    Examples
    --------
    >>> f = pd.DataFrame({"ds": pd.date_range("2024-11-25", periods=10, freq="D"),
    ...                   "agents": [1, 1, 1, 1, 9, 1, 1, 1, 1, 1]})
    >>> [f"{d:%d}" for d in peak_window(f, "agents", days=3)]
    ['28', '30']
    >>> [f"{d:%d}" for d in peak_window(f, "agents", days=20)]
    ['25', '04']
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if frame.empty:
        raise ValueError("frame has no rows to find a peak in")
    day = pd.to_datetime(frame["ds"]).dt.normalize()
    per_day = frame[value].groupby(day).sum()
    first, last = per_day.index.min(), per_day.index.max()
    start = per_day.idxmax() - pd.Timedelta(days=(days - 1) // 2)
    start = max(first, min(start, last - pd.Timedelta(days=days - 1)))
    end = min(last, start + pd.Timedelta(days=days - 1))
    return start.date(), end.date()


def understaffed(coverage: pd.DataFrame) -> pd.DataFrame:
    """Coverage rows where fewer agents are scheduled than required, worst first.

    Returns the coverage columns plus ``short`` (required - scheduled, agents), sorted by
    ``short`` descending then ``channel, ds``.

    Examples
    --------
    >>> c = pd.DataFrame({"channel": ["chat", "chat", "voice"], "ds": pd.to_datetime(
    ...     ["2024-11-29 08:00", "2024-11-29 08:30", "2024-11-29 08:00"]),
    ...     "required": [5, 6, 9], "scheduled": [5, 4, 6], "gap": [0, -2, -3]})
    >>> understaffed(c)[["channel", "short"]].to_dict("records")
    [{'channel': 'voice', 'short': 3}, {'channel': 'chat', 'short': 2}]
    """
    rows = coverage[coverage["scheduled"] < coverage["required"]].copy()
    rows["short"] = rows["required"] - rows["scheduled"]
    return rows.sort_values(
        ["short", "channel", "ds"], ascending=[False, True, True], ignore_index=True
    )


def fmt_number(value: object, digits: int = 0) -> str:
    """``1,234`` style text for a number, ``"n/a"`` for ``None`` or NaN.

    Examples
    --------
    >>> fmt_number(12345.6), fmt_number(None), fmt_number(float("nan")), fmt_number(0.5, 2)
    ('12,346', 'n/a', 'n/a', '0.50')
    """
    if value is None:
        return "n/a"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != number:
        return "n/a"
    return f"{number:,.{digits}f}"


def daily_series(orders: pd.DataFrame, contacts: pd.DataFrame) -> pd.DataFrame:
    """Daily history of orders and of each channel's contacts, long: ``unique_id, ds, y``.

    ``unique_id`` is ``"orders"`` or the channel name; contacts are summed per calendar
    day (days without rows stay absent: gaps are facts).

    Examples
    --------
    >>> o = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01"]), "orders": [50]})
    >>> c = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 09:00"]),
    ...                   "channel": ["chat", "chat"], "contacts": [2, 3]})
    >>> daily_series(o, c)[["unique_id", "y"]].values.tolist()
    [['orders', 50], ['chat', 5]]
    """
    o = pd.DataFrame(
        {"unique_id": "orders", "ds": pd.to_datetime(orders["ds"]), "y": orders["orders"]}
    )
    c = daily_contacts(contacts).rename(columns={"channel": "unique_id", "contacts": "y"})
    return pd.concat([o, c[["unique_id", "ds", "y"]]], ignore_index=True)


def interval_actuals(contacts: pd.DataFrame, channel: str, day: object) -> pd.DataFrame:
    """One channel's contacts on one day as ``ds, y`` (for the intraday chart)."""
    rows = contacts[contacts["channel"] == channel]
    rows = between(rows, day, day)
    return pd.DataFrame({"ds": pd.to_datetime(rows["ds"]), "y": rows["contacts"]})


def events_between(events: pd.DataFrame | None, start: object, end: object) -> pd.DataFrame:
    """Events whose day falls from ``start`` to ``end`` (inclusive): ``ds, event``."""
    if events is None or events.empty:
        return pd.DataFrame({"ds": pd.Series(dtype="datetime64[ns]"), "event": []})
    return between(events, start, end)[["ds", "event"]]


def tables_to_excel(tables: dict[str, pd.DataFrame]) -> bytes:
    """An ``.xlsx`` workbook (bytes) with one sheet per table, header row first.

    Sheet names are the dict keys cut to Excel's 31 characters; datetime columns are
    written as Excel dates (shown ``yyyy-mm-dd``), shares as percentages, header rows
    frozen; text is never a formula (:func:`planner.export.workbook_bytes`).

    Examples
    --------
    >>> import io, openpyxl
    >>> blob = tables_to_excel({"totals": pd.DataFrame({"scenario": ["a"], "cost": [1.5]})})
    >>> wb = openpyxl.load_workbook(io.BytesIO(blob))
    >>> wb.sheetnames, [c.value for c in wb["totals"][2]]
    (['totals'], ['a', 1.5])
    """
    from planner.export import workbook_bytes

    return workbook_bytes(tables, styled=True)  # frozen bold header, dates and % formats


def table_to_csv(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes for a download button (:func:`planner.export.csv_bytes`:
    formula-like text written as text)."""
    from planner.export import csv_bytes

    return csv_bytes(frame)


def comparison_tables(comparison: object) -> dict[str, pd.DataFrame]:
    """The comparison workbook's sheets (:func:`planner.compare.workbook_tables`)."""
    from planner.compare import workbook_tables

    return workbook_tables(comparison)  # type: ignore[arg-type]


_CAPACITY_HEADERS = {
    "scenario": "Scenario", "hires": "Hires", "classes": "Classes",
    "hiring_cost": "Hiring cost", "cost": "Cost, all levers", "peak_gap_fte": "Peak gap, FTE",
    "short_fte_weeks": "Short, FTE-weeks", "latest_decision": "First decision due",
}


def capacity_comparison(capacity: pd.DataFrame) -> pd.DataFrame:
    """The comparison's capacity rows (:attr:`planner.compare.Comparison.capacity`) with
    headers in words and the decision date as a date; the values are the core's.

    Examples
    --------
    >>> row = pd.DataFrame({"scenario": ["peak"], "hires": [228],
    ...                     "latest_decision": [pd.Timestamp("2024-07-29")]})
    >>> capacity_comparison(row).to_dict("records")
    [{'Scenario': 'peak', 'Hires': 228, 'First decision due': '2024-07-29'}]
    """
    out = capacity.copy()
    if "latest_decision" in out:
        out["latest_decision"] = [
            "-" if pd.isna(d) else f"{pd.Timestamp(d):%Y-%m-%d}" for d in out["latest_decision"]]
    return out.rename(columns=_CAPACITY_HEADERS)


def break_gaps(
    frame: pd.DataFrame, value: str, interval_s: int, by: str = "channel"
) -> pd.DataFrame:
    """Mark closed hours in an interval series so a line chart breaks there.

    For each ``by`` group, after every interval whose successor starts more than
    ``interval_s`` seconds later (closed hours, missing days), a row at the end of that
    interval with ``value`` = NaN is added; charts that break paths at invalid values then
    stop the line where the centre closes instead of drawing across the night.

    Examples
    --------
    >>> f = pd.DataFrame({"channel": "chat", "agents": [5, 6, 7], "ds": pd.to_datetime(
    ...     ["2024-11-29 21:00", "2024-11-29 21:30", "2024-11-30 08:00"])})
    >>> out = break_gaps(f, "agents", 1800)
    >>> [(f"{d:%d %H:%M}", a) for d, a in zip(out["ds"], out["agents"])]
    [('29 21:00', 5.0), ('29 21:30', 6.0), ('29 22:00', nan), ('30 08:00', 7.0)]
    """
    f = frame[[by, "ds", value]].copy()
    f["ds"] = pd.to_datetime(f["ds"])
    f[value] = f[value].astype(float)
    f = f.sort_values([by, "ds"], ignore_index=True)
    step = pd.Timedelta(seconds=int(interval_s))
    nxt = f.groupby(by)["ds"].shift(-1)
    ends = f[(nxt - f["ds"]) > step]
    breaks = pd.DataFrame({by: ends[by], "ds": ends["ds"] + step, value: float("nan")})
    out = pd.concat([f, breaks], ignore_index=True)
    return out.sort_values([by, "ds"], ignore_index=True)


def _dates_text(horizon: dict) -> str:
    return f"{pd.Timestamp(horizon['start']):%d %b %Y} - {pd.Timestamp(horizon['end']):%d %b %Y}"


def refit_plan_dates(changed: dict, moved: dict | None, channels: list[str], last_day: object,
                     typos: dict[str, str]) -> tuple[dict, list[str], list[str], dict | None]:
    """Scenario changes for newly loaded files: ``(changes, adjustments, other notes,
    moved)``.

    ``moved`` is ``{"from": horizon, "to": horizon}`` when an earlier upload moved the plan
    dates (``None`` otherwise); the last item is what to remember for the next upload.
    Plan dates that an earlier upload moved (and the planner has not changed since) are
    derived again from the dates they were moved from, as on a first upload
    (:func:`fit_to_history`); dates the planner chose are kept while the new history reaches
    their start, else moved after it. Both are said in a note.
    """
    current = dict(changed["horizon"])
    rederive = moved is not None and current == moved["to"]
    base = {**changed, "horizon": moved["from"]} if rederive else changed
    fits, notes = fit_to_history(base, channels, last_day, typos=typos)
    others: list[str] = []
    if "horizon.start" in fits:
        return fits, notes, others, {"from": dict(base["horizon"]), "to": {
            **current, **{k.split(".", 1)[1]: v for k, v in fits.items()
                          if k.startswith("horizon.")}}}
    if rederive:
        if moved["from"] != current:
            fits.update({f"horizon.{k}": v for k, v in moved["from"].items()})
            notes.append(f"plan dates back to {_dates_text(moved['from'])}, the dates before an "
                         f"earlier upload moved them to {_dates_text(current)}: the new history "
                         "reaches them")
    elif moved is not None:  # dates the planner chose after an upload had moved them
        others.append(f"Plan dates kept at {_dates_text(current)} as you set them: the new "
                      f"history, to {pd.Timestamp(last_day):%d %b %Y}, covers the days before "
                      "them.")
    return fits, notes, others, None


def fit_to_history(
    scenario: dict, channels: list[str] | tuple[str, ...], last_day: object,
    typos: dict[str, str] | None = None,
) -> tuple[dict, list[str]]:
    """Changes that make a scenario plan from a newly loaded history, with notes.

    ``scenario`` is ``Scenario.to_dict()``. Channels follow the history (known ones keep
    their settings, new ones start from the defaults), except labels in ``typos``
    (:func:`forecast.validation.likely_typos`: ``{typo: likely meant}``), which are left
    out of the plan with a note rather than planned as a channel of their own; when the
    history ends before the forecast's last history day, the horizon moves to start the
    day after the history ends, keeping its length. Returns ``(changes for
    Scenario.with_changes, notes)``.

    Examples
    --------
    >>> s = {"channels": {"chat": {"model": "chat"}, "email": {"model": "deferred"}},
    ...      "horizon": {"start": "2024-10-01", "end": "2024-10-07", "history_end": None}}
    >>> changes, notes = fit_to_history(s, ["chat", "voice"], "2024-03-05")
    >>> changes["channels"], changes["horizon.start"], changes["horizon.end"]
    ({'chat': {'model': 'chat'}, 'voice': {}}, '2024-03-06', '2024-03-12')
    """
    changes: dict = {}
    notes: list[str] = []
    current = scenario["channels"]
    for typo, meant in (typos or {}).items():
        if typo in channels and typo not in current:
            notes.append(f"channel '{typo}' is left out of the plan: it looks like a typo of "
                         f"'{meant}'; correct the file, or add '{typo}' as a channel in the "
                         "scenario to plan it")
    channels = [c for c in channels if c in current or c not in (typos or {})]
    if list(channels) != list(current) and set(channels) != set(current):
        changes["channels"] = {c: current.get(c, {}) for c in channels}
        notes.append(f"channels set to those in the history: {', '.join(channels)}")
    h = scenario["horizon"]
    start, end = pd.Timestamp(h["start"]), pd.Timestamp(h["end"])
    seen = pd.Timestamp(h["history_end"]) if h.get("history_end") else start - pd.Timedelta(
        days=1
    )
    last = pd.Timestamp(last_day).normalize()
    if seen > last:
        new_start = last + pd.Timedelta(days=1)
        new_end = new_start + (end - start)
        changes.update(
            {
                "horizon.start": f"{new_start:%Y-%m-%d}",
                "horizon.end": f"{new_end:%Y-%m-%d}",
                "horizon.history_end": None,
            }
        )
        notes.append(
            f"plan moved to {new_start:%d %b %Y} - {new_end:%d %b %Y}, after the history ends"
        )
    return changes, notes


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|:~<>$])")


def md(text: object) -> str:
    r"""``text`` with Markdown's special characters escaped, for user-typed names shown in
    Markdown (a scenario named ``:red[x] **y**`` is shown as typed, not red and bold).

    Examples
    --------
    >>> print(md(":red[x] **y**"))
    \:red\[x\] \*\*y\*\*
    """
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def file_stem(text: object) -> str:
    """A file-name-safe form of a user-typed name (letters, digits, ``-_.``; others ``_``).

    Examples
    --------
    >>> file_stem(":red[x] **y**")
    'red_x_y'
    """
    return re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9._-]", "_", str(text))).strip("_.") or "plan"


def group_warnings(warnings: Iterable[object], names: Iterable[str], shown: int = 5,
                   noun: str = "queues") -> list[str]:
    """The run's warnings with those that differ only in the queue (or channel) they start
    with (``"<name>: <text>"``) said once, naming the first ``shown`` of them: a plan of 200
    queues warns once, not 200 times. Order kept (a group stands where its first was).

    Examples
    --------
    >>> group_warnings(["a: thin", "b: thin", "c: other", "note"], ["a", "b", "c"], shown=1)
    ['2 queues (a and 1 more): thin', 'c: other', 'note']
    """
    known = set(names)
    groups: dict[str, list[str]] = {}
    order: list[tuple[str, str]] = []  # ("group", text) or ("plain", warning)
    for w in dict.fromkeys(str(w) for w in warnings):
        name, sep, rest = w.partition(": ")
        if sep and name in known:
            if rest not in groups:
                groups[rest] = []
                order.append(("group", rest))
            groups[rest].append(name)
        else:
            order.append(("plain", w))
    out = []
    for kind, text in order:
        if kind == "plain":
            out.append(text)
            continue
        who = groups[text]
        if len(who) == 1:
            out.append(f"{who[0]}: {text}")
            continue
        head = ", ".join(who[:shown])
        more = f" and {len(who) - shown:,} more" if len(who) > shown else ""
        out.append(f"{len(who):,} {noun} ({head}{more}): {text}")
    return out
