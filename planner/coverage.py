# ruff: noqa: E501 - the doctest prints whole sentences
"""Which days each input file covers, and whether they cover the same period and the plan.

The Data page shows each file's own range (orders, contacts per channel, events) and the
words of :func:`coverage_warnings` when they disagree: a channel whose history stops
weeks before the others, orders and contacts that end far apart (the contact rate is
learned only where both exist), or an events file that ends before the plan does.

Examples
--------
>>> import pandas as pd
>>> orders = pd.DataFrame({"ds": pd.date_range("2024-01-01", "2024-09-30")})
>>> contacts = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01", "2024-09-30",
...                                                 "2024-01-01", "2024-08-31"]),
...                          "channel": ["chat", "chat", "voice", "voice"]})
>>> file_ranges(orders, contacts, None)[["file", "first", "last"]].values.tolist()[1:]
[['contacts: chat', '2024-01-01', '2024-09-30'], ['contacts: voice', '2024-01-01', '2024-08-31']]
>>> for line in coverage_warnings(orders, contacts, None, ("2024-10-01", "2024-12-31")):
...     print(line)
Voice contacts end on 2024-08-31, 30 days before the other files (2024-09-30): the last weeks of voice are learned from less history.
No events file: the plan from 2024-10-01 to 2024-12-31 knows no peak days.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from planner.inputs import STALE_HISTORY_DAYS

__all__ = ["coverage_warnings", "file_ranges"]


def _span(frame: pd.DataFrame | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if frame is None or not len(frame) or "ds" not in frame:
        return None
    ds = pd.to_datetime(frame["ds"]).dt.normalize()
    return ds.min(), ds.max()


def file_ranges(orders: pd.DataFrame | None, contacts: pd.DataFrame | None,
                events: pd.DataFrame | None) -> pd.DataFrame:
    """First and last day of each file, contacts per channel: ``file, first, last, days``
    (ISO dates as text; ``days`` inclusive)."""
    rows = []

    def add(name: str, span: tuple[pd.Timestamp, pd.Timestamp] | None) -> None:
        if span is not None:
            rows.append((name, f"{span[0]:%Y-%m-%d}", f"{span[1]:%Y-%m-%d}",
                         int((span[1] - span[0]).days) + 1))

    add("orders", _span(orders))
    if contacts is not None and len(contacts):
        for ch, g in contacts.groupby("channel", sort=True):
            add(f"contacts: {ch}", _span(g))
    add("events", _span(events))
    return pd.DataFrame(rows, columns=["file", "first", "last", "days"])


def coverage_warnings(
    orders: pd.DataFrame | None,
    contacts: pd.DataFrame | None,
    events: pd.DataFrame | None,
    horizon: tuple[dt.date | str, dt.date | str],
    max_gap_days: int = 7,
) -> list[str]:
    """Sentences about files that do not cover the same period or the plan.

    Parameters
    ----------
    orders, contacts, events : DataFrame or None
        The data contracts' frames (``ds``; contacts also ``channel``).
    horizon : (start, end)
        The plan's first and last day.
    max_gap_days : int, default 7
        Ends further apart than this are reported.

    Returns
    -------
    list of str
        One sentence per finding (empty when everything lines up).
    """
    out = []
    start, end = (pd.Timestamp(h) for h in horizon)
    ends: dict[str, pd.Timestamp] = {}
    o = _span(orders)
    if o is not None:
        ends["orders"] = o[1]
    if contacts is not None and len(contacts):
        for ch, g in contacts.groupby("channel", sort=True):
            span = _span(g)
            if span is not None:
                ends[str(ch)] = span[1]
    if ends:
        latest = max(ends.values())
        for what, last in ends.items():
            gap = int((latest - last).days)
            if what == "orders" and gap > STALE_HISTORY_DAYS:
                continue  # every run's warnings say it (planner.inputs.history_warnings)
            if gap > max_gap_days:
                noun = "orders" if what == "orders" else f"{what} contacts"
                tail = ("the contact rate is learned only up to then" if what == "orders"
                        else f"the last weeks of {what} are learned from less history")
                out.append(f"{noun[:1].upper()}{noun[1:]} end on {last:%Y-%m-%d}, {gap} days "
                           f"before the other files ({latest:%Y-%m-%d}): {tail}.")
    e = _span(events)
    if e is None:
        out.append(f"No events file: the plan from {start:%Y-%m-%d} to {end:%Y-%m-%d} knows "
                   "no peak days.")
    elif e[1] < end:
        out.append(f"Events end on {e[1]:%Y-%m-%d}, before the plan ends ({end:%Y-%m-%d}): "
                   "peak days after that are not known to the forecast.")
    return out
