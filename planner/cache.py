"""Caches of the planner: inputs, base forecasts, shift plans and solved shift day-blocks.

:class:`PipelineCache` is what :func:`planner.pipeline.run` reuses between scenarios (a
what-if that changes only staffing assumptions reuses the forecast); :class:`LruCache` is
the thread-safe least-recently-used store behind it (and behind the app's cache of
scenario results). :func:`solve_shifts_cached` solves shifts channel by channel through a
:class:`PipelineCache`, so a what-if that changes one channel re-solves only that channel.

Examples
--------
>>> c = LruCache(2)
>>> c.put(("a",), 1); c.put(("b",), 2); c.put(("c",), 3)
>>> c.get(("a",)) is None, c.get(("c",)), len(c)
(True, 3, 2)
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from staffing.policy import ChannelPolicy
from staffing.shifts import ALL_CHANNELS, ShiftPlan, ShiftRules, solve_shifts

__all__ = ["LruCache", "PipelineCache", "default_cache", "solve_shifts_cached"]


class LruCache:
    """Thread-safe least-recently-used store with ``get``/``put`` (``None`` on a miss);
    the pipeline's caches, and the app's cache of scenario results."""

    def __init__(self, max_items: int) -> None:
        self.max_items = int(max_items)
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class PipelineCache:
    """Cache of inputs, base forecasts and shift plans (least recently used dropped first).

    Keys: file identity (path, size, modification time) for inputs; the scenario's
    :meth:`~planner.scenario.Scenario.forecast_key` plus the input key for forecasts;
    channel, requirement hash, rules, cap and policy for shift plans. ``hits`` and
    ``misses`` count forecast lookups. ``shift_blocks`` holds solved shift day-blocks
    (at most ``max_blocks``; see ``block_cache`` of :func:`staffing.shifts.solve_shifts`).
    Thread-safe.
    """

    def __init__(self, max_items: int = 64, max_blocks: int = 4096) -> None:
        self.max_items = int(max_items)
        self._items = LruCache(max_items)  # the app serves sessions from several threads
        self.hits = 0
        self.misses = 0
        # solved shift day-blocks (small, many: their own store so they never push a
        # forecast out); passed to solve_shifts as its block_cache
        self.shift_blocks = LruCache(max_blocks)

    def get(self, key: tuple) -> Any | None:
        """Cached value for ``key`` or ``None``."""
        return self._items.get(key)

    def put(self, key: tuple, value: Any) -> None:
        """Store ``value`` under ``key``."""
        self._items.put(key, value)

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()
        self.hits = self.misses = 0
        self.shift_blocks.clear()


_DEFAULT_CACHE = PipelineCache()


def default_cache() -> PipelineCache:
    """The process-wide cache :func:`planner.pipeline.run` uses when none is passed."""
    return _DEFAULT_CACHE


def solve_shifts_cached(
    requirements: pd.DataFrame,
    rules: ShiftRules,
    caps: dict[str, int] | None,
    policies: dict[str, ChannelPolicy],
    interval_s: int,
    cache: PipelineCache,
    report: Callable[[float, str], None] | None = None,
) -> ShiftPlan:
    """Solve shifts channel by channel, reusing any channel whose inputs are unchanged.

    Channels are independent in the shift model when each has its own cap (no shared
    cap, no multi-skill pool), so solving them one at a time gives the same plan; a
    what-if that changes one channel re-solves only that channel. A cap over all channels
    couples them: they are then solved (and cached) as one unit. ``report(fraction,
    message)`` is called before each unit that is solved (not for cache hits).
    """
    parts = []
    channels = sorted(requirements["channel"].astype(str).unique())
    coupled = caps is not None and ALL_CHANNELS in caps  # one plan for all channels
    units = [channels] if coupled else [[ch] for ch in channels]
    for k, unit in enumerate(units):
        req = requirements[requirements["channel"].isin(unit)]
        h = hashlib.sha256()
        for ch in unit:
            rows = req[req["channel"] == ch]
            h.update(ch.encode())
            h.update(rows["ds"].to_numpy("datetime64[ns]").tobytes())
            h.update(rows["rostered"].to_numpy(np.int64).tobytes())
        unit_caps = {c: v for c, v in (caps or {}).items() if c in unit or c == ALL_CHANNELS}
        key = ("shifts", tuple(unit), h.hexdigest(), repr(rules),
               tuple(sorted(unit_caps.items())), tuple(repr(policies[c]) for c in unit),
               interval_s)
        plan = cache.get(key)
        if plan is None:
            what = "all channels (shared cap)" if coupled else unit[0]
            if report is not None:
                report(k / len(units), f"solving shifts: {what}")
            plan = solve_shifts(req, rules, unit_caps or None, interval_s=interval_s,
                                policies=policies, block_cache=cache.shift_blocks)
            cache.put(key, plan)
        parts.append(plan)
    return ShiftPlan(
        shift_plan=pd.concat([p.shift_plan for p in parts], ignore_index=True),
        coverage=pd.concat([p.coverage for p in parts], ignore_index=True),
        days=pd.concat([p.days for p in parts], ignore_index=True),
        interval_s=interval_s,
    )
