"""Loading a scenario's history: orders, contacts and events, with what the loaders noticed.

:func:`load_inputs` reads the files a scenario names (the bundled sample for unset paths)
once per file identity through a :class:`~planner.cache.PipelineCache`;
:func:`history_warnings` and :func:`plan_warnings` say when the histories end far apart
or the scenario leaves channels of the contacts file unplanned. :class:`PipelineError`
is the planner's own error for inputs (and scenarios) it cannot plan from.

Examples
--------
>>> o = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01", "2024-03-01"])})
>>> c = pd.DataFrame({"ds": pd.to_datetime(["2024-01-01 08:00", "2024-01-20 08:00"])})
>>> history_warnings(o, c)[0][:60]
'the contact history ends 20 Jan 2024, 41 days before the ord'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.data import load_contacts, load_events, load_orders, sample_paths
from planner.cache import PipelineCache
from planner.scenario import DataSources, Scenario

__all__ = [
    "STALE_HISTORY_DAYS",
    "InputData",
    "PipelineError",
    "history_warnings",
    "input_warnings",
    "inputs_key",
    "load_inputs",
    "load_orders_events",
    "plan_warnings",
    "short_history_warning",
]


class PipelineError(ValueError):
    """The scenario cannot be run on these inputs (the message names the field and value)."""


@dataclass(frozen=True)
class InputData:
    """Loaded history: ``orders``, ``contacts``, ``events`` frames and ``interval_s``.

    ``warnings`` holds what the loaders noticed (channel labels that look like typos, rare
    channels, how ambiguous numbers were read) and histories that end far apart, one
    sentence each.
    """

    orders: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame | None
    interval_s: int
    key: tuple = ()
    warnings: tuple[str, ...] = ()




def _paths(data: DataSources) -> tuple[Path, Path, Path | None]:
    sample = sample_paths()
    orders = Path(data.orders) if data.orders else sample.orders
    contacts = Path(data.contacts) if data.contacts else sample.contacts
    if data.events == "":
        events = None
    else:
        events = Path(data.events) if data.events else sample.events
    return orders, contacts, events


def inputs_key(data: DataSources) -> tuple:
    """The key :func:`load_inputs` gives the inputs it loads: the files' paths, sizes and
    modification times, the interval and the time zone (a changed file, another key)."""
    orders_p, contacts_p, events_p = _paths(data)
    return ("inputs", _file_id(orders_p), _file_id(contacts_p), _file_id(events_p),
            data.interval_s, data.timezone)


def load_orders_events(data: DataSources) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The scenario's orders and events (``None`` without), as :func:`load_inputs` loads
    them, without the contacts: all the orders model needs.

    Raises
    ------
    forecast.data.DataError
        A file is missing or malformed.
    """
    orders_p, _, events_p = _paths(data)
    return load_orders(orders_p), None if events_p is None else load_events(events_p)


def _file_id(p: Path | None) -> tuple:
    if p is None:
        return ("none",)
    try:
        st = p.stat()
    except OSError:
        return (str(p), "missing")
    return (str(p.resolve()), st.st_size, st.st_mtime_ns)


#: Histories ending more than this many days apart (or before the forecast needs them)
#: get a warning.
STALE_HISTORY_DAYS = 28


def load_inputs(data: DataSources, cache: PipelineCache | None = None) -> InputData:
    """Load the scenario's history files (bundled sample for unset paths).

    ``data.timezone`` is passed to the contacts loader (offsets, DST repeats);
    ``data.interval_s`` is checked against the file. The loaders' warnings and
    :func:`history_warnings` end up in ``InputData.warnings``.

    Raises
    ------
    forecast.data.DataError
        A file is missing or malformed (the message names file, column and row).
    PipelineError
        The order and contact histories do not overlap (no contact rate can be learned).
    """
    _, contacts_p, _ = _paths(data)
    key = inputs_key(data)
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit
    contacts = load_contacts(contacts_p, interval_s=data.interval_s, tz=data.timezone)
    orders, events = load_orders_events(data)
    notes = [w for frame in (orders, contacts, events) if frame is not None
             for w in frame.attrs.get("warnings", [])]
    out = InputData(
        orders=orders,
        contacts=contacts,
        events=events,
        interval_s=int(contacts.attrs["interval_s"]),
        key=key,
        warnings=(*notes, *history_warnings(orders, contacts)),
    )
    if cache is not None:
        cache.put(key, out)
    return out


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%d %b %Y}"


def history_warnings(orders: pd.DataFrame, contacts: pd.DataFrame) -> list[str]:
    """Warnings when the order and contact histories end far apart.

    More than :data:`STALE_HISTORY_DAYS` days between their last days means the contact
    rate per order is learned from one history's old days only.

    Raises
    ------
    PipelineError
        The histories do not overlap at all: no contact rate can be learned.
    """
    o_first, o_last = orders["ds"].min(), orders["ds"].max()
    c_first = contacts["ds"].min().normalize()
    c_last = contacts["ds"].max().normalize()
    if c_last < o_first or o_last < c_first:
        raise PipelineError(
            f"the contact history ({_day(c_first)} .. {_day(c_last)}) and the order history "
            f"({_day(o_first)} .. {_day(o_last)}) do not overlap: the contacts per order "
            "cannot be learned; load histories that cover the same days")
    out = []
    gap = (o_last - c_last).days
    if gap > STALE_HISTORY_DAYS:
        out.append(f"the contact history ends {_day(c_last)}, {gap:,} days before the order "
                   f"history ({_day(o_last)}): contacts per order are learned from old data")
    elif -gap > STALE_HISTORY_DAYS:
        out.append(f"the order history ends {_day(o_last)}, {-gap:,} days before the contact "
                   f"history ({_day(c_last)}): the later contacts have no orders to learn from")
    return out


#: Fewer days of history than this before a plan (a year and a quarter): no model has seen
#: a yearly season with room to check it, and ``auto`` can read a peak's rise as trend.
SHORT_HISTORY_DAYS = 365 + 92


def short_history_warning(scenario: Scenario, inputs: InputData) -> str | None:
    """The warning when the history before the plan (orders and contacts both) is shorter
    than :data:`SHORT_HISTORY_DAYS`; ``None`` otherwise."""
    last = pd.Timestamp(scenario.horizon.last_history_day)
    first = max(pd.Timestamp(inputs.orders["ds"].min()),
                pd.Timestamp(inputs.contacts["ds"].min())).normalize()
    days = (last - first).days + 1
    if days >= SHORT_HISTORY_DAYS:
        return None
    return (f"only {days:,} day{'s' if days != 1 else ''} of history before the plan: with "
            "about a year or less no "
            "model has seen a yearly season, and the automatic choice can read a peak's rise "
            "as trend; compare the forecast with the same weeks last year, or pick "
            "same_weekday_average as the forecast model")


def input_warnings(scenario: Scenario, inputs: InputData) -> list[str]:
    """The warnings of a run that come from its inputs, in the order a run gives them: the
    loaders' and :func:`history_warnings` (``inputs.warnings``), then
    :func:`plan_warnings`."""
    return [*inputs.warnings, *plan_warnings(scenario, inputs)]


def plan_warnings(scenario: Scenario, inputs: InputData) -> list[str]:
    """Warnings about the inputs as this scenario uses them: channels of the contacts file
    the scenario does not plan, a contact history that ends more than
    :data:`STALE_HISTORY_DAYS` days before the last history day the forecast uses, and a
    history too short to have seen a season (:func:`short_history_warning`)."""
    out = []
    if (short := short_history_warning(scenario, inputs)) is not None:
        out.append(short)
    c = inputs.contacts
    counts = c.groupby("channel", sort=True)["contacts"].agg(["sum", "size"])
    extra = [ch for ch in counts.index if ch not in set(scenario.channels)]
    if extra:
        listed = ", ".join(f"{ch} ({counts.at[ch, 'sum']:,} contacts in "
                           f"{counts.at[ch, 'size']:,} rows)" for ch in extra)
        out.append(f"the contacts file has channels the scenario does not plan: {listed}")
    last = pd.Timestamp(scenario.horizon.last_history_day)
    c_last = c["ds"].max().normalize()
    if (last - c_last).days > STALE_HISTORY_DAYS:
        out.append(f"the contact history ends {_day(c_last)}, {(last - c_last).days:,} days "
                   f"before the forecast's last history day ({_day(last)}): the plan is "
                   "forecast from old contacts")
    return out
