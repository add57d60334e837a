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
:func:`plan_inputs` does the first two for a scenario and its loaded inputs when the
contacts carry queues (the one place that decides what is planned per queue).

Settings that name a channel keep meaning the channel:

* the scenario's total ``contact_rate`` and ``headcount_cap_total`` cover all queues (the
  total rate is shared out in the learned queue mix of each day, as between channels);
* a channel's own ``contact_rate`` or ``headcount_cap`` applies exactly to a channel
  planned as one queue; a channel planned as two or more queues cannot share them out
  (its queues' rates and a cap over some queues are not in the staffing model), so each
  of its queues must set its own under the scenario's ``queues:``, else
  :class:`QueueError` says so (never a cap or rate silently multiplied by the queues);
* ``capacity:`` (hiring per channel) is refused for a run per queue for now: the capacity
  plan of a channel's queues is not made yet.

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

import dataclasses
import fnmatch
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from planner.inputs import InputData
from planner.scenario import ChannelSettings, Scenario

__all__ = ["QUEUE", "QueueError", "plan_inputs", "queue_contacts", "queue_map",
           "queue_scenario", "result_queues", "rollup", "weekly_rollup"]

#: Channel settings a channel planned as several queues cannot share out among them.
CHANNEL_ONLY = {
    "headcount_cap": "or cap all queues together with headcount_cap_total",
    "contact_rate": "or set the scenario's total contact_rate (shared out in the learned "
                    "queue mix)",
}

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

    Returns
    -------
    Scenario
        ``channels`` one entry per queue, ``queues`` empty (the overrides are applied).

    Raises
    ------
    QueueError
        A queue's channel is not in the scenario, an override matches no queue, or a
        channel of two or more queues has a ``headcount_cap`` or ``contact_rate`` that a
        queue would inherit (see the module docstring).
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
    per_channel: dict[str, list[str]] = {}
    for q, ch in queues.items():
        per_channel.setdefault(ch, []).append(q)
    channels = {}
    for q, ch in queues.items():
        fields = scenario.channels[ch].model_dump()
        given: set[str] = set()
        for key, change in overrides.items():
            if key != q and fnmatch.fnmatchcase(q, key):
                fields.update(change)
                given.update(change)
        fields.update(overrides.get(q, {}))
        given.update(overrides.get(q, {}))
        _check_channel_only(scenario, ch, per_channel[ch], q, given)
        try:
            channels[q] = ChannelSettings(**fields)
        except ValidationError as exc:
            why = "; ".join(("{}: ".format(".".join(map(str, e["loc"]))) if e["loc"] else "")
                            + e["msg"].removeprefix("Value error, ") for e in exc.errors())
            raise QueueError(f"queue {q!r} (channel {ch!r} with the queues: overrides that "
                             f"match it): {why}") from None
    return scenario.model_copy(update={"channels": channels, "queues": {}})


def _check_channel_only(scenario: Scenario, channel: str, siblings: list[str], queue: str,
                        given: set[str]) -> None:
    if len(siblings) < 2:
        return
    for field, alternative in CHANNEL_ONLY.items():
        value = getattr(scenario.channels[channel], field)
        if value is None or field in given:
            continue
        shown = ", ".join(sorted(siblings)[:4]) + (", ..." if len(siblings) > 4 else "")
        raise QueueError(
            f"channels.{channel}.{field} = {value!r} cannot be shared among the channel's "
            f"{len(siblings)} queues ({shown}); queue {queue!r} would take it whole: give "
            f"each queue its own under queues: (e.g. queues: {{'{channel}-*': {{{field}: "
            f"...}}}}), {alternative}")


def _per_queue(inputs: InputData, cache: Any = None) -> tuple[dict[str, str], InputData]:
    """Queue -> channel of the contacts (``{}`` without queues) and the inputs as planned:
    each queue as a series (:func:`queue_contacts`, the key marked), or without queues the
    contacts with an unused ``queue`` column dropped. Kept in ``cache`` (a
    :class:`planner.cache.PipelineCache`) under the inputs' key: every run of the same data
    converts it once."""
    key = ("planned inputs", inputs.key)
    hit = cache.get(key) if cache is not None else None
    if hit is not None:
        return hit
    contacts = inputs.contacts
    found = queue_map(contacts) if QUEUE in contacts.columns and len(contacts) else {}
    if any(q != ch for q, ch in found.items()):
        out = found, dataclasses.replace(inputs, contacts=queue_contacts(contacts),
                                         key=(*inputs.key, "queues"))
    elif QUEUE in contacts.columns:
        plain = contacts.drop(columns=[QUEUE])
        plain.attrs = dict(contacts.attrs)
        out = {}, dataclasses.replace(inputs, contacts=plain)
    else:
        out = {}, inputs
    if cache is not None:
        cache.put(key, out)
    return out


def plan_inputs(scenario: Scenario, inputs: InputData, cache: Any = None
                ) -> tuple[Scenario, InputData, dict[str, str]]:
    """What a run plans: the scenario and inputs per queue when the contacts carry queues.

    Parameters
    ----------
    scenario : Scenario
        The user's scenario (channels, and queue overrides in ``queues``).
    inputs : InputData
        Loaded history (:func:`planner.inputs.load_inputs`).
    cache : PipelineCache, optional
        Where the inputs as planned are kept, so that the same data is converted once.

    Returns
    -------
    (scenario, inputs, queues)
        Without queues (no queue named other than its channel): the scenario, the inputs
        with the contacts' ``queue`` column dropped, and ``{}``. With queues: the scenario with
        one channel entry per queue (:func:`queue_scenario` with ``scenario.queues``), the
        inputs whose contacts plan each queue as a series (:func:`queue_contacts`; their
        cache key marks them), and queue -> channel of the planned queues (queues of
        channels the scenario does not plan are left out, as such channels are; a
        scenario channel without queues in the data is its own queue). A scenario whose
        channels already are queues of the data (one entry per queue, as
        :func:`queue_scenario` returns it) is planned as it is, with the queues' channels
        from the data.

    Raises
    ------
    QueueError
        From :func:`queue_map` and :func:`queue_scenario`; the scenario sets ``queues:``
        while the contacts have no queues, or ``capacity:`` while they have.
    """
    found, inputs = _per_queue(inputs, cache)
    if not found:
        if scenario.queues:
            raise QueueError(f"the scenario sets queues: ({', '.join(list(scenario.queues)[:5])}) "
                             "but the contacts have no queue column naming queues; load a "
                             "contacts file with a queue column or remove queues:")
        return scenario, inputs, {}
    if scenario.capacity is not None:
        raise QueueError("capacity: plans hiring per channel, and these contacts are planned "
                         "per queue: a capacity plan over a channel's queues is not made yet; "
                         "remove capacity: from the scenario, or plan per channel (contacts "
                         "without a queue column)")
    if set(scenario.channels) <= set(found) and any(
            found[q] != q for q in scenario.channels):
        # already one entry per queue (a planned scenario, e.g. from the fan-out)
        queues = {q: found[q] for q in sorted(scenario.channels)}
        planned = queue_scenario(scenario, {q: q for q in queues}, scenario.queues)
        return planned, inputs, queues
    queues = {q: ch for q, ch in found.items() if ch in scenario.channels}
    parents = set(found.values())
    queues.update({ch: ch for ch in scenario.channels if ch not in parents})
    queues = dict(sorted(queues.items()))
    return queue_scenario(scenario, queues, scenario.queues), inputs, queues


def rollup(result: Any, queues: Mapping[str, str]) -> pd.DataFrame:
    """A queue result (a :class:`planner.results.ScenarioResult`) summed up per channel
    and in total.

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


def weekly_rollup(result: object) -> pd.DataFrame:
    """Weekly paid hours, FTE and cost per queue, summed per channel and in total.

    ``level`` (``queue``, ``channel``, ``total``), ``name``, ``channel``, ``week``,
    ``days``, ``paid_hours``, ``fte``, ``cost``: a channel's (and the total's) week is the
    sum of its queues' weeks (FTE add up: each is paid hours over one FTE's hours).
    """
    cols = ["level", "name", "channel", "week", "days", "paid_hours", "fte", "cost"]
    weekly = result.weekly  # type: ignore[attr-defined]
    if not len(weekly):
        return pd.DataFrame(columns=cols)
    queues = result_queues(result)
    w = weekly.assign(name=weekly["channel"].astype(str),
                      parent=weekly["channel"].astype(str).map(queues))
    parts = [w.assign(level="queue", channel=w["parent"])]
    sums = {"days": ("days", "max"), "paid_hours": ("paid_hours", "sum"),
            "fte": ("fte", "sum"), "cost": ("cost", "sum")}
    per = w.groupby(["parent", "week"], sort=True).agg(**sums).reset_index()
    parts.append(per.assign(level="channel", name=per["parent"], channel=per["parent"]))
    tot = w.groupby("week", sort=True).agg(**sums).reset_index()
    parts.append(tot.assign(level="total", name="total", channel="all"))
    return pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)


def result_queues(result: object) -> dict[str, str]:
    """Queue -> channel of a queue result (``result.meta["queues"]``), else each planned
    channel as its own queue."""
    queues = dict(result.meta.get("queues") or {})  # type: ignore[attr-defined]
    return queues or {str(c): str(c) for c in result.scenario.channels}  # type: ignore[attr-defined]
