"""Queues: the unit of forecasting and staffing under a channel (channel x language x ...).

A contacts frame may carry an optional ``queue`` column; a row without one (or a frame
without the column) is its channel's queue, named like the channel. Each queue belongs
to exactly one channel, whose settings in the scenario (model, SL target, AHT, shrinkage,
concurrency, caps) it takes unless an override names it exactly or by a pattern.

The pipeline plans whatever the contacts' ``channel`` column names, so planning per queue
is: :func:`queue_contacts` (queue as the planned series), :func:`queue_scenario` (one
channel entry per queue, with overrides), then :func:`planner.pipeline.run` or
:func:`planner.fanout.run_many`; :func:`rollup` sums the result back up per channel and in
total (service level, ASA and abandonment weighted by volume; hours, FTE and cost summed).

Examples
--------
>>> import pandas as pd
>>> c = pd.DataFrame({"ds": pd.to_datetime(["2024-11-04 08:00"] * 3),
...                   "channel": ["chat", "chat", "voice"],
...                   "queue": ["chat-de", "chat-fr", None], "contacts": [3, 4, 5]})
>>> queue_map(c)
{'chat-de': 'chat', 'chat-fr': 'chat', 'voice': 'voice'}
>>> queue_contacts(c)["channel"].tolist()
['chat-de', 'chat-fr', 'voice']
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from planner.results import ScenarioResult
from planner.scenario import ChannelSettings, Scenario

__all__ = ["QUEUE", "QueueError", "queue_contacts", "queue_map", "queue_scenario", "rollup"]

#: Name of the optional queue column of the contacts contract.
QUEUE = "queue"


class QueueError(ValueError):
    """Queues that do not fit the contract or the scenario (the message names them)."""


def _queues(contacts: pd.DataFrame) -> pd.Series:
    if "channel" not in contacts.columns:
        raise QueueError("contacts has no column 'channel'")
    channel = contacts["channel"].astype(str)
    if QUEUE not in contacts.columns:
        return channel
    q = contacts[QUEUE]
    blank = q.isna() | (q.astype(str).str.strip() == "")
    return q.astype(str).str.strip().where(~blank, channel)


def queue_map(contacts: pd.DataFrame) -> dict[str, str]:
    """Queue -> channel, sorted by queue.

    Raises
    ------
    QueueError
        A queue appears under two channels (named with its channels and first row).
    """
    q = _queues(contacts)
    pairs = pd.DataFrame({"queue": q.to_numpy(), "channel": contacts["channel"].astype(str)
                          .to_numpy()}).drop_duplicates()
    twice = pairs[pairs["queue"].duplicated(keep=False)]
    if len(twice):
        name = sorted(twice["queue"])[0]
        chans = sorted(twice.loc[twice["queue"] == name, "channel"])
        row = int(np.flatnonzero(q.to_numpy() == name)[0])
        raise QueueError(f"queue {name!r} belongs to channels {chans} (first at row {row}); "
                         "a queue belongs to one channel: rename one of them")
    return dict(sorted(zip(pairs["queue"], pairs["channel"], strict=True)))


def queue_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    """The contacts with each queue as the planned series: ``channel`` holds the queue
    (the channel when there is none) and the ``queue`` column is dropped. ``attrs`` are
    kept (``interval_s``, warnings)."""
    queue_map(contacts)  # one channel per queue
    out = contacts.drop(columns=[QUEUE], errors="ignore").copy()
    out["channel"] = _queues(contacts).to_numpy()
    out.attrs = dict(contacts.attrs)
    return out


def queue_scenario(scenario: Scenario, queues: Mapping[str, str],
                   overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Scenario:
    """The scenario with one channel entry per queue.

    Parameters
    ----------
    scenario : Scenario
        Its ``channels`` hold the settings of each channel.
    queues : mapping
        Queue -> channel (:func:`queue_map`).
    overrides : mapping, optional
        Queue name or shell-style pattern (``"chat-de-*"``) -> settings fields that differ
        from the channel's. Patterns apply in the given order, an exact name last (it
        wins).

    Raises
    ------
    QueueError
        A queue's channel is not in the scenario, or an override matches no queue.
    """
    overrides = dict(overrides or {})
    missing = sorted({c for c in queues.values() if c not in scenario.channels})
    if missing:
        raise QueueError(f"queues of channels {missing} have no settings: the scenario has "
                         f"channels {sorted(scenario.channels)}")
    unused = [k for k in overrides if k not in queues and not fnmatch.filter(queues, k)]
    if unused:
        raise QueueError(f"overrides {unused} match no queue (queues: "
                         f"{', '.join(sorted(queues)[:5])}{', ...' if len(queues) > 5 else ''})")
    channels = {}
    for q, ch in queues.items():
        fields = scenario.channels[ch].model_dump()
        for key, change in overrides.items():
            if key != q and fnmatch.fnmatchcase(q, key):
                fields.update(change)
        fields.update(overrides.get(q, {}))
        try:
            channels[q] = ChannelSettings(**fields)
        except ValueError as exc:
            raise QueueError(f"queue {q!r}: {exc}") from exc
    return scenario.model_copy(update={"channels": channels})


def rollup(result: ScenarioResult, queues: Mapping[str, str]) -> pd.DataFrame:
    """A queue result summed up per channel and in total.

    Returns
    -------
    DataFrame
        ``level`` (``queue``, ``channel``, ``total``), ``name``, ``channel``, ``queues``,
        ``volume``, ``paid_hours``, ``avg_fte``, ``peak_week_fte``, ``cost``,
        ``service_level``, ``asa_s``, ``abandon_rate``, ``max_backlog_items``. Queue rows
        are :meth:`ScenarioResult.summary`; a roll-up sums volume, hours and cost, takes
        FTE from the summed weekly FTE (average over days and peak week), weights service
        level, ASA and abandonment by each queue's volume and takes the largest backlog.
    """
    s = result.summary()
    s = s.assign(level="queue", name=s["channel"], channel=s["channel"].map(dict(queues)),
                 queues=1)
    if s["channel"].isna().any():
        raise QueueError(f"queues {sorted(s.loc[s['channel'].isna(), 'name'])} have no "
                         "channel in the queue map")
    weekly = result.weekly.assign(parent=result.weekly["channel"].map(dict(queues))) \
        if len(result.weekly) else None
    rows = []
    for level, groups in (("channel", s.groupby("channel", sort=True)),
                          ("total", [("total", s)])):
        for name, g in groups:
            v = g["volume"].to_numpy(float)
            row = {"level": level, "name": name,
                   "channel": name if level == "channel" else "all",
                   "queues": len(g), "volume": float(v.sum()),
                   "paid_hours": float(g["paid_hours"].sum()), "cost": float(g["cost"].sum()),
                   "max_backlog_items": _nanmax(g["max_backlog_items"])}
            for col in ("service_level", "asa_s", "abandon_rate"):
                row[col] = _wmean(g[col].to_numpy(float), v)
            row["avg_fte"], row["peak_week_fte"] = _fte(weekly, set(g["name"]))
            rows.append(row)
    cols = ["level", "name", "channel", "queues", "volume", "paid_hours", "avg_fte",
            "peak_week_fte", "cost", "service_level", "asa_s", "abandon_rate",
            "max_backlog_items"]
    return pd.concat([s.reindex(columns=cols), pd.DataFrame(rows, columns=cols)],
                     ignore_index=True)


def _fte(weekly: pd.DataFrame | None, names: set[str]) -> tuple[float, float]:
    if weekly is None:
        return 0.0, 0.0
    w = weekly[weekly["channel"].isin(names)]
    if not len(w):
        return 0.0, 0.0
    per_week = w.groupby("week").agg(fte=("fte", "sum"), days=("days", "max"))
    return _wmean(per_week["fte"].to_numpy(float), per_week["days"].to_numpy(float)), \
        float(per_week["fte"].max())


def _wmean(v: np.ndarray, w: np.ndarray) -> float:
    ok = np.isfinite(v) & np.isfinite(w) & (w > 0)
    return float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else float("nan")


def _nanmax(values: pd.Series) -> float:
    v = values.to_numpy(float)
    v = v[np.isfinite(v)]
    return float(v.max()) if len(v) else float("nan")
