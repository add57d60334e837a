"""The queueing models a channel can be staffed with, in one registry.

Each entry of :data:`QUEUE_MODELS` says how its channels are sized per interval, what the
model needs from a :class:`staffing.policy.ChannelPolicy`, how many contacts an agent
serves at once and whether customers abandon. Requirements (:mod:`staffing.requirements`),
achieved KPIs (:mod:`staffing.kpis`), risk (:mod:`staffing.risk`), the simulation and the
scenario schema ask the registry instead of testing model names, so a new model is added
here, in one place.

Models
------
``erlang_c``  M/M/N, no abandonment (:mod:`staffing.erlang`).
``erlang_a``  M/M/N+M, exponential patience ``patience_s`` (:mod:`staffing.erlang_a`).
``chat``      an agent holds ``concurrency`` chats: M/M/(N x c) slots (:mod:`staffing.chat`);
              ``patience_s``, when given, is used by the achieved KPIs and the simulation.
``deferred``  email and other work answered within ``response_target_s``: sized per day on
              the FIFO backlog (:mod:`staffing.deferred`), no per-interval service level.

Examples
--------
>>> sorted(QUEUE_MODELS)
['chat', 'deferred', 'erlang_a', 'erlang_c']
>>> queue_model("deferred").deferred, queue_model("erlang_a").needs
(True, ('patience_s',))
>>> from staffing.policy import ChannelPolicy
>>> p = ChannelPolicy("chat", "chat", concurrency=3, patience_s=90)
>>> queue_model("chat").servers_per_agent(p), queue_model("chat").kpi_patience(p)
(3, 90.0)
>>> queue_model("chat").sizing_patience(p) is None  # sized without abandonment
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from staffing.chat import (
    chat_average_speed_of_answer,
    chat_occupancy,
    chat_required_agents,
    chat_service_level,
)
from staffing.deferred import deferred_backlog, deferred_required_agents
from staffing.erlang import average_speed_of_answer, occupancy, required_agents, service_level

__all__ = ["QUEUE_MODELS", "QueueModel", "queue_model"]

#: ``size(vol, aht, interval_s, policy, is_open, day)`` -> ``agents, sl, asa_s, occupancy``
Sizer = Callable[[NDArray, NDArray, int, Any, NDArray, NDArray], dict[str, NDArray]]


@dataclass(frozen=True)
class QueueModel:
    """One queueing model: what it needs and how it sizes a channel.

    Attributes
    ----------
    name : str
        The ``model`` value of a policy or a scenario's channel.
    deferred : bool
        Work answered within a response target, sized per day on the backlog (no
        per-interval service level); ``False`` for queues answered in seconds.
    needs : tuple of str
        Policy fields that must be set for this model.
    concurrent : bool
        An agent serves ``concurrency`` contacts at once.
    abandons_in_sizing, abandons_in_kpis : bool
        ``patience_s`` enters the requirement (Erlang A) / the achieved KPIs and the
        simulation (Erlang A, chat with a patience).
    size : callable
        ``size(vol, aht, interval_s, policy, is_open, day)``: per-interval ``agents``,
        ``sl``, ``asa_s`` and ``occupancy`` arrays (``day``: each interval's date, for the
        per-day sizing of deferred work).
    """

    name: str
    deferred: bool
    needs: tuple[str, ...]
    concurrent: bool
    abandons_in_sizing: bool
    abandons_in_kpis: bool
    size: Sizer

    def servers_per_agent(self, policy: Any) -> int:
        """Contacts one agent serves at once (``concurrency`` for chat, else 1)."""
        return int(policy.concurrency) if self.concurrent else 1

    def sizing_patience(self, policy: Any) -> float | None:
        """Mean patience used to size the channel (``None``: no abandonment)."""
        return _patience(policy) if self.abandons_in_sizing else None

    def kpi_patience(self, policy: Any) -> float | None:
        """Mean patience used by the achieved KPIs and the simulation."""
        return _patience(policy) if self.abandons_in_kpis else None

    def service_level(self, vol: NDArray, aht: NDArray, interval_s: int, agents: NDArray,
                      policy: Any) -> NDArray:
        """Steady-state share answered within ``threshold_s`` with ``agents`` (queues
        answered in seconds only)."""
        if self.deferred:
            raise ValueError(f"model {self.name!r} has no per-interval service level")
        if self.concurrent:
            return chat_service_level(vol, aht, interval_s, agents, policy.threshold_s,
                                      self.servers_per_agent(policy))
        return service_level(vol, aht, interval_s, agents, policy.threshold_s,
                             patience_s=self.sizing_patience(policy))


def _patience(policy: Any) -> float | None:
    return None if policy.patience_s is None else float(policy.patience_s)


def _blank(n: int) -> dict[str, NDArray]:
    return {"agents": np.zeros(n, dtype=np.int64), "sl": np.full(n, np.nan),
            "asa_s": np.full(n, np.nan), "occupancy": np.full(n, np.nan)}


def _size_erlang(abandons: bool) -> Sizer:
    def size(vol: NDArray, aht: NDArray, interval_s: int, p: Any, is_open: NDArray,
             day: NDArray) -> dict[str, NDArray]:
        out = _blank(len(vol))
        staffed = is_open & (vol > 0)
        if staffed.any():
            v, h = vol[staffed], aht[staffed]
            pat = _patience(p) if abandons else None
            a = required_agents(v, h, interval_s, p.target_sl, p.threshold_s, p.max_occupancy,
                                patience_s=pat)
            out["agents"][staffed] = a
            out["sl"][staffed] = service_level(v, h, interval_s, a, p.threshold_s,
                                               patience_s=pat)
            out["asa_s"][staffed] = average_speed_of_answer(v, h, interval_s, a, patience_s=pat)
            out["occupancy"][staffed] = occupancy(v, h, interval_s, a, patience_s=pat)
        return out

    return size


def _size_chat(vol: NDArray, aht: NDArray, interval_s: int, p: Any, is_open: NDArray,
               day: NDArray) -> dict[str, NDArray]:
    out = _blank(len(vol))
    staffed = is_open & (vol > 0)
    if staffed.any():
        v, h, c = vol[staffed], aht[staffed], int(p.concurrency)
        a = chat_required_agents(v, h, interval_s, p.target_sl, p.threshold_s, c,
                                 max_occupancy=p.max_occupancy)
        out["agents"][staffed] = a
        out["sl"][staffed] = chat_service_level(v, h, interval_s, a, p.threshold_s, c)
        out["asa_s"][staffed] = chat_average_speed_of_answer(v, h, interval_s, a, c)
        out["occupancy"][staffed] = chat_occupancy(v, h, interval_s, a, c)
    return out


def _size_deferred(vol: NDArray, aht: NDArray, interval_s: int, p: Any, is_open: NDArray,
                   day: NDArray) -> dict[str, NDArray]:
    out = _blank(len(vol))
    out["agents"][:] = deferred_required_agents(vol, aht, interval_s, p.response_target_s,
                                                open_mask=is_open, group=day)
    # occupancy: backlog work done (FIFO, carried across intervals) over capacity
    done = deferred_backlog(vol, aht, interval_s, out["agents"])["work_done_s"].to_numpy()
    cap = out["agents"] * float(interval_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["occupancy"] = np.where(cap > 0, done / cap, np.nan)
    return out


#: Every model by name, in the order the scenario schema lists them.
QUEUE_MODELS: dict[str, QueueModel] = {
    "erlang_c": QueueModel("erlang_c", deferred=False, needs=(), concurrent=False,
                           abandons_in_sizing=False, abandons_in_kpis=False,
                           size=_size_erlang(False)),
    "erlang_a": QueueModel("erlang_a", deferred=False, needs=("patience_s",),
                           concurrent=False, abandons_in_sizing=True, abandons_in_kpis=True,
                           size=_size_erlang(True)),
    "chat": QueueModel("chat", deferred=False, needs=(), concurrent=True,
                       abandons_in_sizing=False, abandons_in_kpis=True, size=_size_chat),
    "deferred": QueueModel("deferred", deferred=True, needs=("response_target_s",),
                           concurrent=False, abandons_in_sizing=False, abandons_in_kpis=False,
                           size=_size_deferred),
}


def queue_model(name: str) -> QueueModel:
    """The registered model ``name``; ``ValueError`` naming the known ones otherwise."""
    try:
        return QUEUE_MODELS[name]
    except KeyError:
        raise ValueError(f"unknown queueing model {name!r}; known: {list(QUEUE_MODELS)}"
                         ) from None
