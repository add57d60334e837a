"""A pick of the plan: the total, a channel or one queue, and frames aggregated to it.

What the app's queue picker offers and shows: the figures on cards come from the
roll-up (:func:`planner.queues.rollup`, :func:`planner.queues.weekly_rollup`); frames are
summed (volumes, agents, hours) or volume-weighted (service level) per interval here, in
the core, so that a chart of 200 queues draws one line, not 200, and every page shows the
same aggregate.

Examples
--------
>>> queues = {"chat-de": "chat", "chat-fr": "chat", "voice": "voice"}
>>> pick_options(queues)
['Total', 'Channel: chat', 'Channel: voice', 'chat-de', 'chat-fr', 'voice']
>>> scope("Channel: chat", queues)
['chat-de', 'chat-fr']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["CHANNEL_PREFIX", "TOTAL", "daily_service_level", "history_summary",
           "pick_frame", "pick_label", "pick_options", "pick_rollup", "scope"]

TOTAL = "Total"
CHANNEL_PREFIX = "Channel: "
#: A queue with fewer contacts a day than this, on average, is flagged as small: its
#: forecast leans on its channel's shapes and its service level swings with a few contacts.
SMALL_PER_DAY = 10.0


def pick_options(queues: Mapping[str, str]) -> list[str]:
    """``Total``, each channel (``Channel: chat``) and each queue, in that order."""
    channels = sorted(set(queues.values()))
    return [TOTAL, *(f"{CHANNEL_PREFIX}{c}" for c in channels), *sorted(queues)]


def scope(pick: str, queues: Mapping[str, str]) -> list[str]:
    """The queues a pick covers (all, a channel's, or the one queue)."""
    if pick == TOTAL:
        return sorted(queues)
    if pick.startswith(CHANNEL_PREFIX) and pick not in queues:
        channel = pick.removeprefix(CHANNEL_PREFIX)
        return sorted(q for q, c in queues.items() if c == channel)
    return [pick] if pick in queues else []


def pick_label(pick: str) -> str:
    """How a pick is named in titles and legends (``chat``, ``all queues``, the queue)."""
    if pick == TOTAL:
        return "all queues"
    return pick.removeprefix(CHANNEL_PREFIX)


def pick_rollup(rollup: pd.DataFrame, pick: str, queues: Mapping[str, str]) -> pd.Series:
    """The row of :func:`planner.queues.rollup` (or a frame with its ``level, name``
    columns) for the pick."""
    if pick == TOTAL:
        level, name = "total", "total"
    elif pick.startswith(CHANNEL_PREFIX) and pick not in queues:
        level, name = "channel", pick.removeprefix(CHANNEL_PREFIX)
    else:
        level, name = "queue", pick
    rows = rollup[(rollup["level"] == level) & (rollup["name"] == name)]
    if not len(rows):
        raise ValueError(f"no roll-up row for {pick!r}")
    return rows.iloc[0]


def pick_frame(frame: pd.DataFrame, pick: str, queues: Mapping[str, str],
               sums: Sequence[str] = (), weighted: Sequence[str] = (),
               by: Sequence[str] = ("ds",), weight: str = "volume",
               series: str = "channel") -> pd.DataFrame:
    """``frame``'s rows of the pick's queues aggregated per ``by`` into one series.

    ``sums`` are added up; ``weighted`` are means weighted by ``weight`` (intervals
    without volume count by their rows when the whole group has none). The ``series``
    column holds :func:`pick_label`, so charts made for one channel draw the pick.

    Examples
    --------
    >>> f = pd.DataFrame({"channel": ["a", "b"], "ds": [1, 1], "volume": [10.0, 30.0],
    ...                   "sl": [0.9, 0.7]})
    >>> pick_frame(f, "Total", {"a": "x", "b": "x"}, ["volume"], ["sl"]).to_dict("records")
    [{'ds': 1, 'volume': 40.0, 'sl': 0.75, 'channel': 'all queues'}]
    """
    names = scope(pick, queues)
    rows = frame[frame[series].astype(str).isin(names)] if len(frame) else frame
    by = list(by)
    cols = [*by, *sums, *weighted, series]
    if not len(rows):
        return pd.DataFrame(columns=cols)
    grouped = rows.groupby(by, sort=True, dropna=False)
    out = grouped[list(sums)].sum() if sums else grouped.size().to_frame("_n")[[]]
    if weighted:
        w = rows[weight].to_numpy(float) if weight in rows else np.ones(len(rows))
        w = np.where(np.isfinite(w), w, 0.0)
        for col in weighted:
            v = rows[col].to_numpy(float)
            ok = np.isfinite(v)
            part = pd.DataFrame({"num": np.where(ok, v * w, 0.0), "den": np.where(ok, w, 0.0),
                                 "raw": np.where(ok, v, 0.0), "n": ok.astype(float)},
                                index=rows.index)
            g = part.groupby([rows[b] for b in by], sort=True, dropna=False).sum()
            mean = np.where(g["den"] > 0, g["num"] / g["den"].where(g["den"] > 0, 1.0),
                            np.where(g["n"] > 0, g["raw"] / g["n"].where(g["n"] > 0, 1.0),
                                     np.nan))
            out[col] = mean
    out = out.reset_index()
    out[series] = pick_label(pick)
    return out[cols]


def history_summary(contacts: pd.DataFrame, queues: Mapping[str, str]) -> pd.DataFrame:
    """Per queue: ``queue, channel, contacts, share_of_channel, first, last, days,
    per_day, small`` from a contacts frame with a ``queue`` column (a blank queue is its
    channel's own, :func:`planner.queues.queue_map`).

    ``share_of_channel`` is the queue's share of its channel's contacts; ``per_day`` its
    contacts per day with history (``first`` to ``last``); ``small`` flags fewer than
    :data:`SMALL_PER_DAY` a day. Sorted by channel, then contacts (largest first).
    """
    from planner.queues import queue_contacts

    q = queue_contacts(contacts)
    ds = pd.to_datetime(q["ds"])
    g = pd.DataFrame({"queue": q["channel"].to_numpy(), "contacts": q["contacts"].to_numpy(float),
                      "ds": ds.to_numpy()}).groupby("queue", sort=True).agg(
        contacts=("contacts", "sum"), first=("ds", "min"), last=("ds", "max"))
    g = g.reset_index()
    g["channel"] = g["queue"].map(dict(queues))
    per_channel = g.groupby("channel")["contacts"].transform("sum")
    g["share_of_channel"] = np.where(per_channel > 0, g["contacts"] / per_channel.where(
        per_channel > 0, 1.0), np.nan)
    g["days"] = (g["last"].dt.normalize() - g["first"].dt.normalize()).dt.days + 1
    g["per_day"] = g["contacts"] / g["days"]
    g["small"] = g["per_day"] < SMALL_PER_DAY
    g = g.sort_values(["channel", "contacts"], ascending=[True, False], kind="stable")
    return g[["queue", "channel", "contacts", "share_of_channel", "first", "last", "days",
              "per_day", "small"]].reset_index(drop=True)


def daily_service_level(results: Mapping[str, object], pick: str,
                        queues: Mapping[str, str]) -> pd.DataFrame:
    """``scenario, date, service_level, channel``: each plan's daily service level of
    the pick's queues, weighted by each queue's contacts of the day (``volumes``)."""
    parts = []
    for label, r in results.items():
        daily = r.kpis_daily  # type: ignore[attr-defined]
        vol = r.volumes  # type: ignore[attr-defined]
        if not len(daily) or not len(vol):
            continue
        per_day = vol.assign(date=pd.to_datetime(vol["ds"]).dt.normalize()).groupby(
            ["channel", "date"], as_index=False)["volume"].sum()
        d = daily.assign(date=pd.to_datetime(daily["date"]).dt.normalize()).merge(
            per_day, on=["channel", "date"], how="left")
        part = pick_frame(d, pick, queues, weighted=["service_level"], by=["date"])
        parts.append(part.assign(scenario=label))
    cols = ["scenario", "date", "service_level", "channel"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
