"""Many scenarios at once: fan the work out as tasks on Dask distributed.

Why it is long: the Dask fan-out keeps per-queue chunks, worker state, assembly back into
one result per scenario, failure isolation and the content-hash cache together: results must
equal the serial path, and these parts decide that jointly.

:func:`run_many` runs several scenarios and returns each one's
:class:`~planner.results.ScenarioResult`, the same frames that :func:`planner.pipeline.run`
gives for that scenario on its own. The engine is

``"serial"``
    one scenario after another in this process (:func:`planner.pipeline.run` with one
    shared :class:`~planner.pipeline.PipelineCache`, so scenarios that share a forecast fit
    it once): today's path, kept for one scenario and as the reference;
``"local"`` (default)
    an embedded :class:`distributed.LocalCluster` on 127.0.0.1, worker processes with one
    thread each, one per core unless ``workers`` says otherwise, stopped at the end; a
    single scenario to run takes the serial path (starting a cluster costs more than it
    saves);
``"tcp://HOST:PORT"``
    a running Dask scheduler (``dask scheduler`` plus ``dask worker`` processes on any
    machines). Its workers must import this package at the same version and read the
    scenarios' data files at the same paths (a shared file system).

Tasks
-----
Scenarios whose forecasts are the same (:meth:`~planner.scenario.Scenario.forecast_key`)
form a group. At the start, one task per data set loads the inputs and plans its
scenarios per queue (:func:`planner.queues.plan_inputs`; the calling process never loads
the history), while one task per orders model (scenarios with the same data, horizon and
forecast settings) plans its selection (``model: auto``,
:func:`forecast.selection_tasks.orders_plan`) from the orders and events files alone.
Then one task per batch of its rolling-window fits
(:func:`forecast.selection_tasks.fit_batches`: each Prophet fit alone, a window's other
candidates together) and one that picks the winner and fits it
(:func:`forecast.volume.finish_volume`); that orders forecast goes to every chunk task,
which puts it into its worker's forecast cache (:class:`forecast.cache.ForecastCache`)
under the key the contacts forecast reads. The group's queues (its channels, sorted) are
cut into chunks, largest first (:func:`chunk_sizes`: guided self-scheduling, at most
:data:`MAX_CHUNK_QUEUES` queues a chunk; ``chunk_size`` sets equal chunks instead). One
task per chunk forecasts its queues and plans them (volumes, requirements, shifts, KPIs)
for every scenario of the group, with one cache of solved shift day-blocks over those
scenarios as on the serial path; then each scenario's result is assembled from
the chunks, in the calling process as each chunk's results come in (on a worker when
some queues failed or the queues are coupled): each table concatenated in queue order,
the run's shift figures from the shift plans of all queues, the scenario's own warnings.
Tasks are handed to the cluster as its threads free up (never more at once than it has
threads), so that a free worker always takes the next task. The history is loaded and
checked once, by the load task; the chunk tasks on other workers receive it from there
through Dask, and the calling process never holds it. When the selection cannot be
planned or a fit fails, the chunks fit the orders model themselves (and name any error).
Results equal the serial path's frames and metadata exactly (same seeds, same code; the
tests check it); ``meta["forecast_cached"]`` can differ, as it does on the serial path
between the first and later scenarios of a group.

Why a chunk's numbers are the whole forecast's: each queue is forecast on its own
history, except that (a) :func:`forecast.contacts.forecast_contacts_detail` fills a
queue's daily history with 0 on the days the other queues forecast with it have rows,
and (b) :func:`forecast.contacts.forecast_aht` ends its recent window at the last
interval with an AHT over those queues. A chunk is forecast alone only when its queues
have rows on the same days as all the group's queues together (otherwise the group's
whole forecast is computed once per worker and sliced), and a chunk's AHT window is moved
to the group's end when it ends earlier. Queues coupled in the plan (a total contact
rate shared out by the queue mix, a headcount cap over all queues) are planned in one
task per scenario on the merged forecast instead.

Workers import the package when they start: code changed after the calling process
imported it gives different numbers.

Failures
--------
A task that raises is reported as a :class:`TaskFailure` naming the scenario, the step
and, for queues, their names; the other scenarios' results are kept. On a Dask engine a
chunk that fails is run again queue by queue, so a failed queue is named alone and the
scenario's result keeps its other queues (``results`` and ``failures`` then both hold the
scenario; such a result is not cached); the serial path fails the whole scenario. A
worker that dies is reported the same way.

Cache
-----
With ``cache_dir``, each result is stored under a content hash of its inputs: the
scenario's assumptions (:meth:`~planner.scenario.Scenario.to_dict`), the bytes of its data
files and :data:`CACHE_FORMAT`. A re-run loads what is there and runs only the rest; the
hash is computed and the files are written by the calling process, never by workers.

Examples
--------
>>> from planner.scenario import load_scenario
>>> runs = run_many([load_scenario("scenarios/base.yaml"),
...                  load_scenario("scenarios/peak_hiring.yaml")],
...                 engine="local", workers=2)                     # doctest: +SKIP
>>> sorted(runs.results), runs.failures                             # doctest: +SKIP
(['base', 'peak_hiring'], {})
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import resource
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.cache import ForecastCache
from forecast.contacts import forecast_aht
from forecast.data import sample_paths
from forecast.selection_tasks import finish_volume, fit_batches, fit_jobs, orders_plan
from forecast.volume import VolumePlan
from planner.demand import spread_warnings
from planner.inputs import input_warnings, inputs_key, load_orders_events
from planner.pipeline import (
    BaseForecast,
    InputData,
    LruCache,
    PipelineCache,
    base_forecast,
    daily_and_weekly,
    load_inputs,
    run,
    shift_meta,
)
from planner.queues import plan_inputs
from planner.results import RESULT_TABLES, ScenarioResult
from planner.scenario import Scenario, load_scenario
from staffing.shifts import ShiftPlan

__all__ = [
    "CACHE_FORMAT",
    "GUIDED_SHARE",
    "MAX_CHUNK_QUEUES",
    "MIN_CHUNKS_PER_THREAD",
    "FanOutError",
    "FanOutResult",
    "FanProgress",
    "TaskFailure",
    "chunk_sizes",
    "dask_client",
    "peak_rss_mb",
    "progress_bar",
    "result_key",
    "run_many",
]

#: Bumped when the meaning of cached results changes (part of every cache key).
CACHE_FORMAT = "peak-planner-fanout-1"

#: ``progress(done, total, message)``: tasks finished, tasks in all, what just finished.
FanProgress = Callable[[int, int, str], None]


class FanOutError(ValueError):
    """A bad argument of :func:`run_many` (the message names it and its value)."""


@dataclass(frozen=True)
class TaskFailure:
    """One scenario that did not produce a result.

    ``step`` is ``"load"`` (the scenario file), ``"forecast"`` (the queues named in
    ``channels``), ``"plan"`` (volumes to KPIs, of the queues named in ``channels`` when
    only some failed) or ``"worker"`` (the worker running it was lost); ``error`` is the
    (first) exception's type and message.
    """

    scenario: str
    step: str
    error: str
    channels: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f" of channels {', '.join(self.channels)}" if self.channels else ""
        return f"{self.scenario}: {self.step}{where} failed: {self.error}"


@dataclass(frozen=True)
class _Out:
    """What a task returns: its value (or a failure) and what it cost."""

    value: Any
    task: str
    kind: str
    wall_s: float
    cpu_s: float
    worker: str
    peak_rss_mb: float
    start: float = math.nan  # wall clock (time.time()) when the task began


@dataclass
class FanOutResult:
    """Results of :func:`run_many`.

    ``results``: label -> result (label = scenario name, ``name#2`` for a repeated name);
    ``failures``: label -> :class:`TaskFailure`; ``cached``: labels read from the cache;
    ``costs``: one row per task run, ``task, kind (select | queues | assemble | plan |
    scenario), wall_s, cpu_s`` (the task's process and the child processes it ran),
    ``worker, peak_rss_mb``
    (peak resident memory of the worker process so far), ``start_s`` (when the task
    began, seconds after :func:`run_many` was called);
    ``engine``: ``"serial"``, ``"local"`` or the scheduler address; ``workers``: how many.
    """

    results: dict[str, ScenarioResult]
    failures: dict[str, TaskFailure]
    cached: tuple[str, ...] = ()
    costs: pd.DataFrame = field(default_factory=pd.DataFrame)
    engine: str = "serial"
    workers: int = 1

    @property
    def ok(self) -> bool:
        """True when every scenario has a result."""
        return not self.failures


# ----------------------------------------------------------------------------- worker side
# Per process (each Dask worker, or this process on the serial path): loaded inputs, their
# rows per queue, and the forecast caches of the last few forecast groups. Bounded, never
# part of a result.
_INPUTS = PipelineCache(max_items=4, max_blocks=1)
_FORECASTS = LruCache(4)
_ROWS = LruCache(4)  # (inputs key, cut-off) -> per-queue row positions and history facts
_PLANNED = LruCache(4)  # inputs key -> the inputs as planned (loaded here or received)


def _load(scenario: Scenario) -> InputData:
    """The scenario's inputs as its run plans them: contacts with queues have each queue
    as a series (:func:`planner.queues.plan_inputs`; ``scenario`` has one channel per
    queue, as the load task planned it). They keep the loaded inputs' key, so that the
    pipeline run of a chunk finds them (and its forecast) in its cache. Inputs another
    worker loaded and this one received (:class:`_Loaded`) are not loaded again."""
    hit = _PLANNED.get(inputs_key(scenario.data))
    if hit is not None:
        return hit
    inputs = load_inputs(scenario.data, _INPUTS)
    planned = dataclasses.replace(plan_inputs(scenario, inputs, _INPUTS)[1], key=inputs.key)
    _PLANNED.put(inputs.key, planned)
    return planned


@dataclass(frozen=True)
class _Loaded:
    """What a load task leaves on its worker, for the chunk tasks (which receive it from
    there through Dask instead of loading and checking the files again): the inputs as
    planned (``None`` when they did not load), their history facts by ``_ROWS`` key, and
    per label ``(planned scenario, queue -> channel, warnings)`` or ``None``."""

    inputs: InputData | None
    hist: dict
    info: dict[str, Any]

    def install(self) -> None:
        """Into this process's caches, where :func:`_load` and :func:`_history` look."""
        if self.inputs is not None and _PLANNED.get(self.inputs.key) is None:
            _PLANNED.put(self.inputs.key, self.inputs)
        for key, facts in self.hist.items():
            if _ROWS.get(key) is None:
                _ROWS.put(key, facts)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB: Linux's ``VmHWM`` (that of the
    process's own memory: ``ru_maxrss`` keeps the peak of the process that started it,
    so a worker started by a 1 GB process would report 1 GB), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(task: str, kind: str, fn: Callable[[], Any]) -> _Out:
    # CPU: this process plus the child processes the task waited for (Stan's sampler)
    t0 = time.time()
    w0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    value = fn()
    cpu = time.process_time() - c0 + _children_cpu() - k0
    return _Out(value, task, kind, time.perf_counter() - w0, cpu,
                f"{socket.gethostname()}:{os.getpid()}", peak_rss_mb(), t0)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _group_key(scenario: Scenario) -> str:
    """The forecast key without the channels: what the orders model depends on."""
    payload = {"data": scenario.data.model_dump(mode="json"),
               "horizon": scenario.horizon.model_dump(mode="json"),
               "forecast": scenario.forecast.model_dump(mode="json", exclude={"staff_to"})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


class _RecentForecasts(ForecastCache):
    """A forecast cache that drops the least recently *used* entry first (the base class
    drops the oldest stored one): the orders model's forecasts, read by every chunk of
    queues, stay while the chunks' own forecasts come and go."""

    def get(self, key: str) -> Any | None:
        value = super().get(key)
        if value is not None:
            self._mem[key] = self._mem.pop(key)  # most recently used last
        return value


def _forecast_cache(scenario: Scenario) -> ForecastCache:
    """This process's forecast cache of the scenario's forecast group (orders model)."""
    key = (_group_key(scenario),)
    fc = _FORECASTS.get(key)
    if fc is None:
        fc = _RecentForecasts(max_items=32)
        _FORECASTS.put(key, fc)
    return fc


@dataclass(frozen=True)
class _History:
    """Facts of the contact history the forecast sees (rows before the horizon's start and
    after its last history day dropped), for forecasts of some queues at a time.

    ``rows``: queue -> row positions in the loaded contacts (in file order); ``days``:
    queue -> the days it has rows; ``last_aht``: queue -> last interval with contacts and
    an AHT (``None`` without); ``end``: first instant the forecast does not see."""

    rows: dict[str, Any]
    days: dict[str, Any]
    last_aht: dict[str, Any]
    end: Any


def _history(inputs: InputData, scenario: Scenario) -> _History:
    h = scenario.horizon
    end = min(pd.Timestamp(h.last_history_day) + pd.Timedelta(days=1), pd.Timestamp(h.start))
    key = (inputs.key, end)
    hit = _ROWS.get(key)
    if hit is not None:
        return hit
    c = inputs.contacts
    ds = pd.DatetimeIndex(c["ds"])
    seen = ds < end
    rows = {str(k): v for k, v in c.groupby(c["channel"].astype(str), sort=False,
                                             observed=True).indices.items()}
    day = ds.normalize().to_numpy()
    days, last_aht = {}, {}
    has_aht = "aht_s" in c.columns
    if has_aht:
        useful = (c["aht_s"].notna() & (c["contacts"] > 0)).to_numpy()
    ds_np = ds.to_numpy()
    for q, idx in rows.items():
        sel = idx[seen[idx]]
        days[q] = np.unique(day[sel])
        u = sel[useful[sel]] if has_aht else sel[:0]
        last_aht[q] = ds_np[u].max() if len(u) else None
    out = _History(rows=rows, days=days, last_aht=last_aht, end=end)
    _ROWS.put(key, out)
    return out


def _chunk_inputs(inputs: InputData, hist: _History, queues: Sequence[str]) -> InputData:
    """The inputs with only these queues' contact rows (in file order)."""
    idx = np.sort(np.concatenate([hist.rows[q] for q in queues if q in hist.rows]
                                 or [np.array([], dtype=np.int64)]))
    contacts = inputs.contacts.take(idx)
    contacts.attrs = dict(inputs.contacts.attrs)
    return dataclasses.replace(inputs, contacts=contacts)


def _chunk_is_exact(hist: _History, queues: Sequence[str], planned: Sequence[str]) -> bool:
    """True when forecasting ``queues`` alone gives the numbers of forecasting every planned
    queue together: a queue's daily history is filled with 0 on the days other queues have
    rows (:func:`forecast.contacts.forecast_contacts_detail` stacks them), so the queues
    must have rows on the same days as all planned queues together."""
    known = [q for q in planned if q in hist.days]  # one without history fails on its own
    union = np.unique(np.concatenate([hist.days[q] for q in known]))
    chunk = np.unique(np.concatenate([hist.days[q] for q in queues]))
    return len(union) == len(chunk)


def _fix_aht(base: BaseForecast, chunk: InputData, hist: _History, queues: Sequence[str],
             planned: Sequence[str]) -> BaseForecast:
    """AHT as forecast with every planned queue: :func:`forecast.contacts.forecast_aht`
    ends its recent window at the last interval with an AHT over the queues forecast
    together, so a chunk's window is moved to that of all planned queues."""
    lasts = [hist.last_aht.get(q) for q in planned]
    lasts = [t for t in lasts if t is not None]
    mine = [hist.last_aht.get(q) for q in queues]
    mine = [t for t in mine if t is not None]
    if not lasts or not mine or max(mine) == max(lasts) or "aht_s" not in chunk.contacts:
        return base
    c = chunk.contacts[pd.DatetimeIndex(chunk.contacts["ds"]) < hist.end]
    # one row of no planned queue at the last AHT of all: it moves only the window's end
    marker = pd.DataFrame({"ds": [pd.Timestamp(max(lasts))], "channel": ["\x00"],
                           "contacts": [1], "aht_s": [1.0]})
    c = pd.concat([c[["ds", "channel", "contacts", "aht_s"]].astype({"channel": object}),
                   marker], ignore_index=True)
    fc = base.contacts.copy()
    fc["aht_s"] = forecast_aht(c, fc[["unique_id", "ds"]], interval_s=chunk.interval_s)
    return dataclasses.replace(base, contacts=fc)


def _slice(base: BaseForecast, queues: Sequence[str]) -> BaseForecast:
    """Some queues of a forecast."""
    keep = set(queues)
    return dataclasses.replace(
        base,
        contacts=base.contacts[base.contacts["unique_id"].isin(keep)].reset_index(drop=True),
        daily=base.daily[base.daily["unique_id"].isin(keep)].reset_index(drop=True))


def _only(scenario: Scenario, queues: Sequence[str]) -> Scenario:
    return scenario.model_copy(update={"channels": {q: scenario.channels[q] for q in queues}})


def _forecast_queues(scenario: Scenario, inputs: InputData, queues: Sequence[str]
                     ) -> BaseForecast:
    """Forecast of some of the scenario's queues, equal to their part of the forecast of
    all the scenario's queues (see :func:`_chunk_is_exact`; when the queues' histories
    cover different days, all queues are forecast, once per process, and sliced)."""
    planned = sorted(scenario.channels)
    hist = _history(inputs, scenario)
    fc = _forecast_cache(scenario)
    if list(queues) == planned:
        return base_forecast(scenario, inputs, forecast_cache=fc)
    if not _chunk_is_exact(hist, queues, planned):
        known = [q for q in planned if q in hist.days]
        return _slice(base_forecast(_only(scenario, known), inputs, forecast_cache=fc),
                      queues)
    chunk = _chunk_inputs(inputs, hist, queues)
    base = base_forecast(_only(scenario, queues), chunk, forecast_cache=fc)
    return _fix_aht(base, chunk, hist, queues, planned)


class _PlanRecorder(PipelineCache):
    """A pipeline cache that keeps the shift plans a run used, in the order it used them."""

    def __init__(self) -> None:
        super().__init__(max_items=1 << 16, max_blocks=1 << 16)
        self.plans: list[ShiftPlan] = []

    def get(self, key: tuple) -> Any | None:
        value = super().get(key)
        if isinstance(value, ShiftPlan):
            self.plans.append(value)
        return value

    def put(self, key: tuple, value: Any) -> None:
        super().put(key, value)
        if isinstance(value, ShiftPlan):
            self.plans.append(value)


@dataclass(frozen=True)
class _Part:
    """A queue chunk's share of its forecast group: the forecast of its queues, and per
    scenario label its result with the shift plans behind it; failures per queue."""

    queues: tuple[str, ...]
    forecast: BaseForecast | None
    results: dict[str, tuple[ScenarioResult, tuple[ShiftPlan, ...]]]
    failed: dict[str, tuple[str, str, tuple[str, ...]]]  # label or "*" -> (step, error, queues)


def _try_each(queues: Sequence[str], fn: Callable[[Sequence[str]], Any]
              ) -> tuple[list[tuple[Sequence[str], Any]], list[tuple[str, str]]]:
    """``fn`` on all queues; when it raises, on each queue alone (to name the one that
    fails and keep the others)."""
    try:
        return [(tuple(queues), fn(queues))], []
    except Exception as exc:  # noqa: BLE001 - isolated, reported by name
        if len(queues) == 1:
            return [], [(queues[0], _error(exc))]
    ok, bad = [], []
    for q in queues:
        try:
            ok.append(((q,), fn((q,))))
        except Exception as exc:  # noqa: BLE001 - isolated, reported by name
            bad.append((q, _error(exc)))
    return ok, bad


def _merge(parts: Sequence[BaseForecast]) -> BaseForecast:
    """One forecast from chunks of queues (in queue order)."""
    if len(parts) == 1:
        return parts[0]
    models = {}
    for p in parts:
        models.update(p.models)
    return BaseForecast(
        orders=parts[0].orders,
        contacts=pd.concat([p.contacts for p in parts], ignore_index=True),
        daily=pd.concat([p.daily for p in parts], ignore_index=True),
        models=models,
        interval_s=parts[0].interval_s,
        **_spreads(parts),
    )


def _spreads(parts: Sequence[BaseForecast]) -> dict[str, dict]:
    """The backtest spreads and spread notes of forecasts of several queues, as one
    forecast of them all has them (``spreads=``, ``spread_notes=`` of a BaseForecast)."""
    return {"spreads": {k: v for p in parts for k, v in p.spreads.items()},
            "spread_notes": {k: v for p in parts for k, v in p.spread_notes.items()}}


def _chunk_task(group: str, scenarios: Mapping[str, Scenario], queues: tuple[str, ...],
                plan: Sequence[str], orders: tuple[str, pd.DataFrame] | None = None,
                loaded: _Out | None = None) -> _Out:
    """Forecast of some queues of a forecast group, then the plan of those queues for each
    scenario in ``plan`` (one shift-block cache over them, as on the serial path).
    ``orders``: the group's orders forecast (:func:`_finish_task`: cache key and frame),
    put into this process's forecast cache where the contacts forecast reads it;
    ``loaded``: the load task's output (:class:`_Loaded`), the inputs without loading
    them here."""
    first = next(iter(scenarios.values()))

    def work() -> Any:
        if loaded is not None and isinstance(loaded.value, _Loaded):
            loaded.value.install()
        if orders is not None:
            key, frame = orders
            _forecast_cache(first).put(key, frame)
        try:
            inputs = _load(first)
        except Exception as exc:  # noqa: BLE001 - isolated, reported by name
            return _Part(queues, None, {}, {"*": ("forecast", _error(exc), queues)})
        failed: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        got, bad = _try_each(queues, lambda qs: _forecast_queues(first, inputs, qs))
        if bad:
            failed["*"] = ("forecast", bad[0][1], tuple(q for q, _ in bad))
        if not got:
            return _Part(queues, None, {}, failed)
        base = _merge([b for _, b in got])
        ok = [q for qs, _ in got for q in qs]
        hist = _history(inputs, first)
        mine = _chunk_inputs(inputs, hist, ok)
        blocks = LruCache(1 << 16)  # solved day-blocks shared by the scenarios, as serially
        results = {}
        for label in plan:
            sc = scenarios[label]

            def one(qs: Sequence[str], sc: Scenario = sc) -> Any:
                sub = _only(sc, qs)
                cache = _PlanRecorder()
                cache.shift_blocks = blocks
                part = _chunk_inputs(inputs, hist, qs) if len(qs) < len(ok) else mine
                cache.put(part.key, part)
                cache.put(("forecast", sub.forecast_key(), part.key), _slice(base, qs))
                # daily KPIs, weekly FTE and warnings: over all queues, when assembled
                return run(sub, cache=cache, rollups=False), tuple(cache.plans)

            done, bad = _try_each(ok, one)
            if bad:
                failed[label] = ("plan", bad[0][1], tuple(q for q, _ in bad))
            if done:
                results[label] = _join_results(sc, [r for _, r in done])
        return _Part(tuple(ok), base, results, failed)

    return _timed(f"queues {queues[0]}..{queues[-1]} ({len(queues)}) of {group}", "queues",
                  work)


def _orders_plan_task(group: str, scenario: Scenario) -> _Out:
    """The group's orders-model selection, planned (:func:`forecast.selection_tasks.orders_plan`)
    on the orders history the forecast sees (the orders and events files only, not the
    contacts); ``None`` when there is nothing to select or the files do not load (the
    chunks then fit the orders model and report the error)."""

    def work() -> Any:
        try:
            orders, events = load_orders_events(scenario.data)
            h = scenario.horizon
            cutoff = pd.Timestamp(h.last_history_day) + pd.Timedelta(days=1)
            return orders_plan(orders[orders["ds"] < cutoff], h.start, h.end,
                               events=events, model=scenario.forecast.model,
                               level=scenario.forecast.level)
        except Exception:  # noqa: BLE001 - the chunks fit it themselves and name the error
            return None

    return _timed(f"orders selection plan of {group}", "select", work)


def _load_task(scenarios: Mapping[str, Scenario]) -> _Out:
    """Scenarios that read the same data files, loaded once and planned as their runs
    plan them (:class:`_Loaded`; :func:`planner.queues.plan_inputs`): per label its
    scenario with one channel per queue, queue -> channel and the run's warnings, or
    ``None`` for one whose inputs do not load or plan (its tasks load them again and
    name the error)."""

    def work() -> Any:
        info: dict[str, Any] = {}
        hist: dict = {}
        mine = None
        for label, sc in scenarios.items():
            try:
                inputs = load_inputs(sc.data, _INPUTS)
                planned, _, queues = plan_inputs(sc, inputs, _INPUTS)
                mine = _load(planned)
                facts = _history(mine, planned)
                hist[(mine.key, facts.end)] = facts
                info[label] = (planned, queues, input_warnings(planned, mine))
            except Exception:  # noqa: BLE001 - the chunks load them again and name the error
                info[label] = None
        return _Loaded(mine, hist, info)

    first = next(iter(scenarios))
    return _timed(f"load inputs of {first}", "select", work)


def _load_info(loaded: _Out) -> _Out:
    """The load task's cost and its per-label facts, without the inputs (those stay on
    the worker, for the chunks)."""
    return dataclasses.replace(loaded, value=loaded.value.info)


def _fit_task(group: str, plan: VolumePlan, jobs: tuple[tuple[str, str, int], ...]) -> _Out:
    """Window fits of the orders-model selection (``None`` when one raised)."""

    def work() -> Any:
        try:
            return fit_jobs(plan, jobs)
        except Exception:  # noqa: BLE001 - the chunks fit it themselves and name the error
            return None

    return _timed(f"orders window fits {jobs[0][1]}@{jobs[0][2]} of {group}", "select", work)


def _finish_task(group: str, plan: VolumePlan, fits: Sequence[Any]) -> _Out:
    """The orders forecast from its window fits: ``(forecast cache key, frame)``, or
    ``None`` when a fit failed (the chunks then fit the orders model themselves)."""

    def work() -> Any:
        if any(f is None for f in fits):
            return None
        joined: dict[str, list] = {}
        for f in fits:
            for uid, got in f.items():
                joined.setdefault(uid, []).extend(got)
        try:
            return plan.key, finish_volume(plan, joined)
        except Exception:  # noqa: BLE001 - the chunks fit it themselves and name the error
            return None

    return _timed(f"orders forecast of {group}", "select", work)


def _join_results(scenario: Scenario,
                  parts: Sequence[tuple[ScenarioResult, tuple[ShiftPlan, ...]]]
                  ) -> tuple[ScenarioResult, tuple[ShiftPlan, ...]]:
    if len(parts) == 1:
        return dataclasses.replace(parts[0][0], scenario=scenario), parts[0][1]
    tables = {t: pd.concat([r.to_tables()[t] for r, _ in parts], ignore_index=True)
              for t in RESULT_TABLES}
    return (ScenarioResult(scenario=scenario, **tables, meta=dict(parts[0][0].meta)),
            tuple(p for _, plans in parts for p in plans))


def _assemble(label: str, scenario: Scenario, order: int, parts: Sequence[_Part],
              warnings: Callable[[Scenario], list[str]]) -> Any:
    """A scenario's result from its queue chunks (in queue order): each interval table
    concatenated, daily KPIs and weekly FTE computed over all queues
    (:func:`staffing.kpis.daily_kpis`, :func:`planner.results.weekly_fte`), the run's
    metadata from the shift plans of all queues, and ``warnings(planned scenario)``.
    Returns the result, a :class:`TaskFailure`, or both when some queues failed."""
    got = [p for p in parts if label in p.results]
    failed = [q for p in parts for key in ("*", label) if key in p.failed
              for q in p.failed[key][2]]
    first_fail = next((p.failed[key] for p in parts for key in ("*", label)
                       if key in p.failed), None)
    failure = None if first_fail is None else TaskFailure(
        label, first_fail[0], first_fail[1], tuple(sorted(failed)))
    if not got:
        return failure
    try:
        queues = [q for p in got for q in p.queues if q not in failed]
        whole = scenario if not failed else _only(scenario, queues)
        result, plans = _join_results(whole, [p.results[label] for p in got])
        interval_s = int(result.meta["interval_s"])
        meta = dict(result.meta)
        meta["forecast_key"] = whole.forecast_key()
        meta["forecast_cached"] = order > 0
        if whole.shifts.solve:
            plan = ShiftPlan(
                shift_plan=pd.concat([p.shift_plan for p in plans], ignore_index=True),
                coverage=pd.concat([p.coverage for p in plans], ignore_index=True),
                days=pd.concat([p.days for p in plans], ignore_index=True),
                interval_s=interval_s)
            covered = plan.coverage["channel"].astype(str).unique().tolist()
            if sorted(set(covered)) != sorted(whole.channels):
                raise FanOutError(f"the shift plans of {label} cover {len(covered)} of "
                                  f"{len(whole.channels)} queues")
        else:
            plan = None
        meta.update(shift_meta(plan, result.coverage, interval_s))
        # as run() gives them: the inputs', then those of backtest spreads per queue
        spreads = dataclasses.replace(got[0].forecast, **_spreads([p.forecast for p in got]))
        meta["warnings"] = [*warnings(whole), *spread_warnings(whole, spreads)]
        # daily KPIs and weekly FTE over all queues at once, as the pipeline computes
        # them (their sums depend on the rows before them)
        daily, weekly = daily_and_weekly(whole, result.kpis_interval, result.shift_plan,
                                         interval_s)
        result = dataclasses.replace(result, kpis_daily=daily, weekly=weekly, meta=meta)
    except Exception as exc:  # noqa: BLE001 - isolated, reported by name
        return TaskFailure(label, "plan", _error(exc))
    return result if failure is None else (result, failure)


def _assemble_task(label: str, scenario: Scenario, order: int, parts: Sequence[_Out]
                   ) -> _Out:
    """:func:`_assemble` on a worker (the scenario's warnings from its inputs there): for
    a scenario some of whose queues failed (its warnings then differ from those its
    inputs' loading gave)."""

    def work() -> Any:
        return _assemble(label, scenario, order, [p.value for p in parts],
                         lambda whole: input_warnings(whole, _load(scenario)))

    return _timed(f"assemble {label}", "assemble", work)


def _plan_task(label: str, scenario: Scenario, parts: Sequence[_Out]) -> _Out:
    """The whole plan of a scenario whose queues are coupled (a total contact rate shared
    out by the queue mix, or a headcount cap over all queues) on its group's forecast."""

    def work() -> Any:
        failed = [q for p in parts if "*" in p.value.failed for q in p.value.failed["*"][2]]
        if failed:
            f = next(p.value.failed["*"] for p in parts if "*" in p.value.failed)
            return TaskFailure(label, f[0], f[1], tuple(sorted(failed)))
        try:
            cache = PipelineCache(max_items=4)
            inputs = _load(scenario)
            cache.put(inputs.key, inputs)
            base = _merge([p.value.forecast for p in parts])
            cache.put(("forecast", scenario.forecast_key(), inputs.key), base)
            return run(scenario, cache=cache)
        except Exception as exc:  # noqa: BLE001 - isolated, reported by name
            return TaskFailure(label, "plan", _error(exc))

    return _timed(f"plan {label}", "plan", work)


def _coupled(scenario: Scenario) -> bool:
    """Queues whose plans depend on each other: planned together, not per chunk."""
    return scenario.contact_rate is not None or scenario.headcount_cap_total is not None


def _serial_task(label: str, scenario: Scenario, cache: PipelineCache) -> _Out:
    def work() -> Any:
        try:
            return run(scenario, cache=cache)
        except Exception as exc:  # noqa: BLE001 - isolated, reported by name
            return TaskFailure(label, "plan", _error(exc))

    return _timed(f"scenario {label}", "scenario", work)


# ----------------------------------------------------------------------------- cache
def _data_files(scenario: Scenario) -> list[Path | None]:
    d, sample = scenario.data, sample_paths()
    events = None if d.events == "" else Path(d.events) if d.events else sample.events
    return [Path(d.orders) if d.orders else sample.orders,
            Path(d.contacts) if d.contacts else sample.contacts, events]


def _file_digest(path: Path | None, memo: dict) -> str:
    if path is None:
        return "none"
    try:
        st = path.stat()
    except OSError:
        return f"missing:{path.name}"
    ident = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if ident not in memo:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        memo[ident] = h.hexdigest()
    return memo[ident]


def result_key(scenario: Scenario, _memo: dict | None = None) -> str:
    """Content hash of everything a scenario's result depends on: its assumptions, the
    bytes of its data files and :data:`CACHE_FORMAT` (hex, 32 characters)."""
    memo = {} if _memo is None else _memo
    payload = {"format": CACHE_FORMAT, "scenario": scenario.to_dict(),
               "files": [_file_digest(p, memo) for p in _data_files(scenario)]}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()
                          ).hexdigest()[:32]


def _cache_read(folder: Path, scenario: Scenario) -> ScenarioResult | None:
    if not (folder / "meta.json").exists():
        return None
    try:
        tables = {t: pd.read_parquet(folder / f"{t}.parquet") for t in RESULT_TABLES}
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None  # a damaged entry is run again
    return ScenarioResult.from_tables(scenario, tables, meta)


def _cache_write(folder: Path, result: ScenarioResult) -> None:
    tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}")
    tmp.mkdir(parents=True)
    try:
        for t, frame in result.to_tables().items():
            frame.reset_index(drop=True).to_parquet(tmp / f"{t}.parquet", index=False)
        (tmp / "meta.json").write_text(result.meta_json())  # last: marks it complete
        try:
            tmp.rename(folder)
        except OSError:  # written meanwhile by another run: keep that one
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ----------------------------------------------------------------------------- driver
def _labelled(scenarios: Sequence[Scenario | str | Path]
              ) -> tuple[dict[str, Scenario], dict[str, TaskFailure]]:
    out: dict[str, Scenario] = {}
    failed: dict[str, TaskFailure] = {}
    for item in scenarios:
        if isinstance(item, Scenario):
            scenario, name = item, item.name
        else:
            name = str(item)
            try:
                scenario = load_scenario(item)
                name = scenario.name
            except (ValueError, OSError) as exc:
                failed[name] = TaskFailure(name, "load", _error(exc))
                continue
        label, k = name, 1
        while label in out or label in failed:
            k += 1
            label = f"{name}#{k}"
        out[label] = scenario
    return out, failed


#: Modules the tasks import on first use (the forecast models, the shift solver): each
#: worker imports them when the cluster starts, so that the first tasks do not.
_WARM_MODULES = ("planner.pipeline", "statsmodels.tsa.exponential_smoothing.ets",
                 "statsmodels.tsa.statespace.sarimax", "prophet", "holidays",
                 "ortools.sat.python.cp_model")


def _warm() -> int:
    """Import :data:`_WARM_MODULES` in this process (a worker); returns how many loaded."""
    import importlib

    n = 0
    for name in _WARM_MODULES:
        try:
            importlib.import_module(name)
            n += 1
        except ImportError:
            pass
    return n


def dask_client(engine: str, workers: int | None = None) -> tuple[Any, Any]:
    """A ``distributed.Client`` for ``engine`` (``"local"``: an embedded LocalCluster of
    ``workers`` processes, one per core by default, its modules imported; else a
    scheduler address) and the cluster to close after it (``None`` for an address)."""
    import logging

    from distributed import Client, LocalCluster

    if engine == "local":
        import dask

        n = workers or os.cpu_count() or 1
        # no dashboard, so no statistical profiler either: it samples the task's stack
        # every 10 ms and cost about a tenth of the tasks' CPU in the benchmark; and glibc's
        # own malloc trimming: Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which
        # also turns off glibc's adaptive mmap threshold, and the pipeline's many large
        # short-lived frames then cost 13-18 % more CPU (measured in and out of a worker)
        with dask.config.set({"distributed.worker.profile.enabled": False,
                              "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_":
                                  None}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   silence_logs=logging.ERROR)
        client = Client(cluster)
        client.run(_warm)
        return client, cluster
    try:
        return Client(engine, timeout="30s"), None
    except (OSError, TimeoutError) as exc:
        raise FanOutError(f"no Dask scheduler answers at {engine}: {exc}") from None


def run_many(
    scenarios: Sequence[Scenario | str | Path],
    engine: Any = "local",
    workers: int | None = None,
    progress: FanProgress | None = None,
    *,
    cache_dir: str | Path | None = None,
    chunk_size: int | None = None,
) -> FanOutResult:
    """Run many scenarios, as tasks on Dask distributed or one after another.

    Parameters
    ----------
    scenarios : sequence of Scenario or scenario file paths
        A file that does not load is a :class:`TaskFailure` of step ``"load"``.
    engine : ``"serial"``, ``"local"``, ``"tcp://HOST:PORT"`` or a ``distributed.Client``
        See the module docstring; ``"local"`` with one scenario to run is serial.
    workers : int, optional
        Worker processes of the embedded cluster (default: one per core).
    progress : callable, optional
        ``progress(done, total, message)`` after each task (in this process).
    cache_dir : path, optional
        Folder of cached results by content hash (:func:`result_key`): found ones are
        not run again, new ones are added.
    chunk_size : int, optional
        Queues (channels) per task (default: :func:`chunk_sizes`, largest first; see
        the module docstring).

    Returns
    -------
    FanOutResult

    Raises
    ------
    FanOutError
        ``engine``, ``workers`` or ``chunk_size`` is invalid, no scheduler answers at
        the address, or it has no workers (none within :data:`WORKER_WAIT_S`).
    """
    t_call = time.time()
    if workers is not None and int(workers) < 1:
        raise FanOutError(f"workers must be 1 or more, not {workers!r}")
    if chunk_size is not None and int(chunk_size) < 1:
        raise FanOutError(f"chunk_size must be 1 or more, not {chunk_size!r}")
    is_client = hasattr(engine, "submit") and hasattr(engine, "gather")
    if not is_client and not (engine in ("serial", "local")
                              or (isinstance(engine, str) and "://" in engine)):
        raise FanOutError(f"engine must be 'serial', 'local' or a scheduler address such "
                          f"as tcp://127.0.0.1:8786, not {engine!r}")
    todo, failures = _labelled(scenarios)
    results: dict[str, ScenarioResult] = {}
    cached: list[str] = []
    keys: dict[str, str] = {}
    folder = None if cache_dir is None else Path(cache_dir)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        memo: dict = {}
        for label, sc in list(todo.items()):
            keys[label] = result_key(sc, memo)
            hit = _cache_read(folder / keys[label], sc)
            if hit is not None:
                results[label] = hit
                cached.append(label)
                del todo[label]
    name = engine if isinstance(engine, str) else "client"
    if engine == "local" and len(todo) <= 1:
        name = "serial"
    outs: list[_Out] = []
    n_workers = 1
    if name == "serial":
        # room for every channel's shift plan of every scenario besides the inputs and
        # forecasts: the default size evicts a shared forecast at about 20 channels x 3
        # scenarios, which is then fitted again for the next scenario
        n_plans = sum(len(s.channels) + 2 for s in todo.values())
        cache = PipelineCache(max_items=max(64, n_plans))
        for i, (label, sc) in enumerate(todo.items()):
            out = _serial_task(label, sc, cache)
            outs.append(out)
            _collect(label, out, results, failures)
            if progress is not None:
                progress(i + 1, len(todo), out.task)
    elif todo:
        client, cluster = (engine, None) if is_client else dask_client(engine, workers)
        try:
            info = client.scheduler_info(n_workers=-1)["workers"]
            if not info:  # a cluster whose workers are still starting
                try:
                    client.wait_for_workers(1, timeout=WORKER_WAIT_S)
                except TimeoutError:
                    raise FanOutError(f"the Dask scheduler at {name} has no workers (none "
                                      f"joined in {WORKER_WAIT_S} s): start `dask worker "
                                      f"{name}` processes") from None
                info = client.scheduler_info(n_workers=-1)["workers"]
            n_workers = max(1, len(info))
            slots = {addr: max(1, int(w.get("nthreads", 1))) for addr, w in info.items()}
            outs, queues = _distributed(client, todo, slots, chunk_size, progress,
                                        results, failures)
            for label, r in list(results.items()):  # as run() gives it
                if label not in todo or not isinstance(r, ScenarioResult):
                    continue
                q = {k: v for k, v in queues.get(label, {}).items() if k in r.scenario.channels}
                meta = {**r.meta, "queues": q} if q else r.meta
                # the user's scenario; a result of some queues keeps the queues it has
                sc = r.scenario if label in failures else todo[label]
                results[label] = dataclasses.replace(r, scenario=sc, meta=meta)
        finally:
            if not is_client:
                client.close()
            if cluster is not None:
                cluster.close()
    if folder is not None:
        for label in todo:
            if label in results and label not in failures:  # not a result of some queues
                _cache_write(folder / keys[label], results[label])
    costs = pd.DataFrame([{"task": o.task, "kind": o.kind, "wall_s": o.wall_s,
                           "cpu_s": o.cpu_s, "worker": o.worker,
                           "peak_rss_mb": o.peak_rss_mb, "start_s": o.start - t_call}
                          for o in outs],
                         columns=["task", "kind", "wall_s", "cpu_s", "worker", "peak_rss_mb",
                                  "start_s"])
    order = [k for k in [*todo, *cached] if k in results]
    return FanOutResult(results={k: results[k] for k in order},
                        failures=failures, cached=tuple(cached), costs=costs,
                        engine=name, workers=n_workers)


def _collect(label: str, out: _Out, results: dict, failures: dict) -> None:
    value = out.value
    if isinstance(value, tuple):  # some queues failed: the others' result and the failure
        results[label], failures[label] = value
    elif isinstance(value, TaskFailure):
        failures[label] = value
    else:
        results[label] = value


#: How long :func:`run_many` waits for a first worker on a scheduler that has none (s).
WORKER_WAIT_S = 120
#: Most queues in one chunk by default, so that a task's memory stays bounded (about 7 MB
#: a queue for a week's plan) however many queues a worker gets.
MAX_CHUNK_QUEUES = 50
#: Default chunking (:func:`chunk_sizes`): each round of chunks, one per worker thread,
#: takes this share of the queues not yet handed out ...
GUIDED_SHARE = 0.7
#: ... until a chunk would hold fewer than the queues over this many chunks per thread;
#: the rest then goes out in one last round. Each chunk runs the pipeline once per
#: scenario at a fixed cost (about 0.36 s a chunk of the 100 x 3 benchmark, 3 scenarios),
#: so chunks are few, but the last ones small, so that the workers end together.
MIN_CHUNKS_PER_THREAD = 8


def chunk_sizes(n_queues: int, threads: int, max_size: int = MAX_CHUNK_QUEUES) -> list[int]:
    """Queues per chunk, largest first (guided self-scheduling): round by round, one chunk
    per worker thread of :data:`GUIDED_SHARE` of the queues left over the threads, at most
    ``max_size``; once a chunk would hold fewer than ``n_queues / (threads x``
    :data:`MIN_CHUNKS_PER_THREAD` ``)`` queues (or a quarter of ``max_size``), what is left
    is cut into a last round of two chunks per thread that differ by one queue at most.
    Chunks go to whichever thread is free first, so the large ones keep every thread busy
    and the small last ones even out the end.

    >>> chunk_sizes(100, 2)
    [35, 35, 11, 11, 2, 2, 2, 2]
    >>> chunk_sizes(3, 2), chunk_sizes(1, 4), chunk_sizes(0, 2)
    ([2, 1], [1], [])
    >>> sizes = chunk_sizes(1000, 2)
    >>> sum(sizes), max(sizes), sizes[-6:]
    (1000, 50, [35, 35, 8, 8, 7, 7])
    """
    threads = max(1, int(threads))
    floor = min(max(1, max_size // 4),
                max(1, math.ceil(n_queues / (threads * MIN_CHUNKS_PER_THREAD))))
    sizes: list[int] = []
    left = n_queues
    while left > 0:
        size = min(max_size, math.ceil(GUIDED_SHARE * left / threads))
        if size < floor:
            k = min(2 * threads, left)
            sizes += [left // k + (i < left % k) for i in range(k)]
            break
        for _ in range(threads):
            take = min(size, left)
            if take:
                sizes.append(take)
                left -= take
    return sizes


def _chunks(channels: Sequence[str], size: int | None, threads: int) -> list[tuple[str, ...]]:
    """The sorted queues cut into chunks of ``size`` (the last one shorter), or without a
    size by :func:`chunk_sizes` (largest first)."""
    chans = sorted(channels)
    sizes = ([size] * -(-len(chans) // size) if size is not None
             else chunk_sizes(len(chans), threads))
    out, at = [], 0
    for n in sizes:
        if at < len(chans):
            out.append(tuple(chans[at:at + n]))
        at += n
    return out


_STAGE = {"select": 0, "assemble": 1, "plan": 1, "queues": 2}


class _Dispatch:
    """Tasks handed to the cluster as its threads free up, each to a worker with a free
    thread (never more at once than its threads): a free thread always gets the next
    task (selection first, then a scenario's assembly, then queue chunks, each in the
    order given), rather than tasks waiting on a busy worker, where their data is, while
    another idles. A task's data from other tasks (the loaded inputs, a chunk's parts)
    is passed as futures and fetched by Dask where the task runs. Should the worker be
    lost, the task may run on another (``allow_other_workers``)."""

    def __init__(self, client: Any, slots: Mapping[str, int], run_id: str) -> None:
        from distributed import as_completed

        self.client, self.run_id = client, run_id
        self.free = dict(slots)  # worker address -> threads free
        self.limit = max(1, sum(slots.values()))
        self.waiting: list[tuple[int, int, tuple]] = []
        self.known = 0
        self.seq = 0
        self.done = as_completed()
        self.info: dict[Any, tuple[str, str, Any, str | None]] = {}  # -> kind, label, tag, at
        self.held: list[Any] = []  # futures whose data later tasks read (the inputs)

    def add(self, kind: str, label: str, tag: Any, fn: Callable, *args: Any) -> None:
        import heapq

        self.seq += 1
        self.known += 1
        heapq.heappush(self.waiting, (_STAGE[kind], self.seq, (kind, label, tag, fn, args)))
        self.pump()

    def submit(self, fn: Callable, *args: Any, at: str | None, name: str) -> Any:
        self.seq += 1
        where = {} if at is None else {"workers": [at], "allow_other_workers": True}
        return self.client.submit(fn, *args, key=f"{name}-{self.run_id}-{self.seq}",
                                  pure=False, **where)

    def pump(self) -> None:
        import heapq

        while self.waiting:
            at = next((w for w, n in self.free.items() if n > 0), None)
            if at is None:
                return
            _, _, (kind, label, tag, fn, args) = heapq.heappop(self.waiting)
            self.free[at] -= 1
            f = self.submit(fn, *args, at=at, name=kind)
            self.info[f] = (kind, label, tag, at)
            self.done.add(f)

    def load(self, label: str, scenarios: Mapping[str, Scenario]) -> Any:
        """The load task on a free worker, and right after it there a small task that
        returns the load's cost and per-label facts (the inputs stay on the worker:
        chunks receive them through the returned future)."""
        at = next((w for w, n in self.free.items() if n > 0), None)
        if at is not None:
            self.free[at] -= 1
        loaded = self.submit(_load_task, scenarios, at=at, name="load")
        self.held.append(loaded)
        f = self.submit(_load_info, loaded, at=at, name="select")
        self.info[f] = ("select", label, ("load", None), at)
        self.known += 1
        self.done.add(f)
        return loaded

    def __iter__(self):
        for f in self.done:
            kind, label, tag, at = self.info.pop(f)
            if at in self.free:
                self.free[at] += 1
            self.pump()  # the next task goes out before this one's result comes in
            try:
                out = f.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker, reported by name
                out = _Out(TaskFailure(label, "worker", _error(exc)), f"{kind} {label}", kind,
                           math.nan, math.nan, "", math.nan)
            yield f, kind, label, tag, out
            self.pump()
        for f in self.held:
            f.release()


def _data_key(scenario: Scenario) -> str:
    return json.dumps(scenario.data.model_dump(mode="json"), sort_keys=True)


def _distributed(client: Any, todo: Mapping[str, Scenario], slots: Mapping[str, int],
                 chunk_size: int | None, progress: FanProgress | None,
                 results: dict, failures: dict) -> tuple[list[_Out], dict[str, dict]]:
    """Run the scenarios as tasks (see the module docstring) on workers with ``slots``
    (address -> threads); returns what each task cost and, per label, the queue ->
    channel map of its plan."""
    d = _Dispatch(client, slots, uuid.uuid4().hex[:8])
    by_data: dict[str, dict[str, Scenario]] = {}
    by_orders: dict[str, list[str]] = {}
    for label, sc in todo.items():
        by_data.setdefault(_data_key(sc), {})[label] = sc
        by_orders.setdefault(_group_key(sc), []).append(label)
    for gkey, labels in by_orders.items():
        d.add("select", labels[0], ("plan", gkey), _orders_plan_task, labels[0],
              todo[labels[0]])
    loads = {dkey: d.load(next(iter(scns)), scns) for dkey, scns in by_data.items()}
    planned: dict[str, Scenario] = {}
    queues: dict[str, dict] = {}
    warns: dict[str, list[str]] = {}  # label -> its run's warnings, from its inputs' loading
    loads_left = len(by_data)
    orders: dict[str, Any] = {}  # orders group -> (key, frame) or None, once known
    fits: dict[str, tuple[VolumePlan, list, int]] = {}  # orders group -> plan, fits, left
    groups: dict[str, list[str]] = {}  # forecast group -> labels, once all are planned
    chunk_futures: dict[str, list] = {}  # forecast group -> its chunks' futures, in order
    chunk_outs: dict[str, list] = {}
    ends: dict[str, set[str]] = {}  # forecast group -> labels whose worker task is out

    def start_chunks() -> None:
        for fkey, labels in groups.items():
            gkey = _group_key(planned[labels[0]])
            if fkey in chunk_futures or gkey not in orders:
                continue
            scns = {label: planned[label] for label in labels}
            per_chunk = [label for label in labels if not _coupled(planned[label])]
            chunks = _chunks(planned[labels[0]].channels, chunk_size, d.limit)
            chunk_futures[fkey] = [None] * len(chunks)
            chunk_outs[fkey] = [None] * len(chunks)
            loaded = loads[_data_key(todo[labels[0]])]
            for i, chunk in enumerate(chunks):
                d.add("queues", labels[0], (fkey, i), _chunk_task, labels[0], scns, chunk,
                      per_chunk, orders[gkey], loaded)

    def chunks_done(fkey: str) -> list[_Out]:
        """The group's scenarios from its chunks: assembled here when their warnings are
        known and no queue failed (or all did), else by a task on a worker (coupled
        queues, some queues failed); returns what the assemblies here cost."""
        labels, futs, got = groups[fkey], chunk_futures[fkey], chunk_outs[fkey]
        lost = next((o.value for o in got if isinstance(o.value, TaskFailure)), None)
        here, ends[fkey] = [], set()
        for k, lab in enumerate(labels):
            sc = planned[lab]
            if lost is not None:  # a worker died with a chunk
                failures[lab] = TaskFailure(lab, "worker", lost.error)
            elif _coupled(sc):
                ends[fkey].add(lab)
                d.add("plan", lab, fkey, _plan_task, lab, sc, futs)
            elif not any(lab in o.value.results for o in got) or (
                    lab in warns and not any(key in o.value.failed for o in got
                                             for key in ("*", lab))):
                parts_ = [o.value for o in got]
                out = _timed(f"assemble {lab}", "assemble", lambda lab=lab, sc=sc, k=k, p=parts_:
                             _assemble(lab, sc, k, p, lambda _: list(warns[lab])))
                _collect(lab, out, results, failures)
                here.append(out)
            else:
                ends[fkey].add(lab)
                d.add("assemble", lab, fkey, _assemble_task, lab, sc, k, futs)
        return here

    outs: list[_Out] = []
    n_done = 0
    for f, kind, label, tag, out in d:
        value = out.value
        news = [out]
        if kind == "select" and tag[0] == "plan":
            gkey = tag[1]
            if isinstance(value, VolumePlan) and value.jobs:
                batches = fit_batches(value)
                fits[gkey] = (value, [None] * len(batches), len(batches))
                for j, batch in enumerate(batches):
                    d.add("select", label, ("fit", gkey, j), _fit_task, label, value, batch)
            else:
                orders[gkey] = None
                start_chunks()
        elif kind == "select" and tag[0] == "fit":
            gkey, j = tag[1], tag[2]
            plan, got, left = fits[gkey]
            got[j] = value if isinstance(value, dict) else None  # None: a fit failed
            fits[gkey] = (plan, got, left - 1)
            if left == 1:
                d.add("select", label, ("orders", gkey), _finish_task, label, plan, got)
        elif kind == "select" and tag[0] == "orders":
            orders[tag[1]] = value if isinstance(value, tuple) else None
            start_chunks()
        elif kind == "select" and tag[0] == "load":
            loads_left -= 1
            for lab in by_data[_data_key(todo[label])]:
                got = value.get(lab) if isinstance(value, dict) else None
                if got is None:
                    planned[lab], queues[lab] = todo[lab], {}
                else:
                    planned[lab], queues[lab], warns[lab] = got
            if loads_left == 0:
                for lab in todo:
                    groups.setdefault(planned[lab].forecast_key(), []).append(lab)
                start_chunks()
        elif kind == "queues":
            fkey, i = tag
            chunk_futures[fkey][i] = f
            chunk_outs[fkey][i] = out  # in queue order, whatever order they end in
            if all(o is not None for o in chunk_outs[fkey]):
                news += chunks_done(fkey)
                d.known += len(news) - 1
        elif kind in ("assemble", "plan"):
            _collect(label, out, results, failures)
            ends[tag].discard(label)
        for fkey in [k for k in chunk_futures if k in ends and not ends[k]]:
            for p in chunk_futures.pop(fkey):  # no task needs the chunks any more
                p.release()
            del ends[fkey], chunk_outs[fkey]
        for o in news:
            if o.kind in ("queues", "select"):  # keep what they cost, not their values
                o = dataclasses.replace(o, value=None)
            outs.append(o)
            n_done += 1
            if progress is not None:
                progress(n_done, max(d.known, n_done), o.task)
        if kind != "queues":
            f.release()
    for label in todo:
        if label not in results and label not in failures:  # lost with its input
            failures[label] = TaskFailure(label, "worker", "the task did not return")
    return outs, queues


def progress_bar(stream: Any = None, width: int = 30) -> FanProgress:
    """A text progress bar over tasks for a terminal (one line rewritten) or a log (one
    line per 10 % step). The total grows as the run learns its tasks (the window fits once
    the selection is planned, the chunks once the queues are known): the bar never moves
    back."""
    stream = sys.stderr if stream is None else stream
    tty = hasattr(stream, "isatty") and stream.isatty()
    last = [-1]
    shown = [0.0]

    def show(done: int, total: int, message: str) -> None:
        frac = max(shown[0], done / total if total else 1.0)
        shown[0] = frac
        step = int(frac * 10)
        if not tty and step == last[0] and done != total:
            return
        last[0] = step
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        end = "\n" if (not tty or done == total) else ""
        start = "\r" if tty else ""
        stream.write(f"{start}[{bar}] {done}/{total} tasks  {message[:60]}{end}")
        stream.flush()

    return show
