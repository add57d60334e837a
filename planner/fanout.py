"""Many scenarios at once: fan the work out as tasks on Dask distributed.

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
form a group: one task forecasts the group's contacts, then one task per scenario
computes volumes, requirements, shifts and KPIs on that forecast. Results equal the
serial path's frames exactly (same seeds, same code; the tests check it).
``meta["forecast_cached"]`` can differ, as it does in the serial path between the first
and later scenarios of a group.

``chunk_size`` (opt-in) splits a group's forecast into tasks of that many channels (the
orders model is fitted once per worker, :class:`forecast.cache.ForecastCache`). The
merged forecast equals the whole one on the bundled sample and on 20 synthetic queues
in chunks of 5, but not on 100 synthetic queues in chunks of 25: 2.8 % of ``aht_s``
differed, because :func:`forecast.contacts.forecast_aht` ends its recent window at the
last interval with AHT over all channels forecast together, so a queue's AHT depends on
its chunk. Chunking stays off by default until that window ends at the history's end.
Workers import the package when they start: code changed after the calling process
imported it gives different numbers.

Failures
--------
A task that raises is reported as a :class:`TaskFailure` naming the scenario, the step and,
for a forecast chunk, its channels; the other scenarios' results are kept. A worker that
dies is reported the same way.

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

import pandas as pd

from forecast.cache import ForecastCache
from forecast.data import sample_paths
from planner.pipeline import (
    BaseForecast,
    LruCache,
    PipelineCache,
    base_forecast,
    load_inputs,
    run,
)
from planner.results import RESULT_TABLES, ScenarioResult
from planner.scenario import Scenario, load_scenario

__all__ = [
    "CACHE_FORMAT",
    "FanOutError",
    "FanOutResult",
    "FanProgress",
    "TaskFailure",
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

    ``step`` is ``"load"`` (the scenario file), ``"forecast"`` (a chunk of channels,
    named in ``channels``), ``"plan"`` (volumes to KPIs) or ``"worker"`` (the worker
    running it was lost); ``error`` is the exception's type and message.
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


@dataclass
class FanOutResult:
    """Results of :func:`run_many`.

    ``results``: label -> result (label = scenario name, ``name#2`` for a repeated name);
    ``failures``: label -> :class:`TaskFailure`; ``cached``: labels read from the cache;
    ``costs``: one row per task run, ``task, kind (forecast | plan | scenario), wall_s,
    cpu_s`` (the task's process and the child processes it ran), ``worker, peak_rss_mb``
    (peak resident memory of the worker process so far);
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
# Per process (each Dask worker, or this process on the serial path): loaded inputs and the
# forecast caches of the last few forecast groups. Bounded, never part of a result.
_INPUTS = PipelineCache(max_items=4, max_blocks=1)
_FORECASTS = LruCache(4)


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(task: str, kind: str, fn: Callable[[], Any]) -> _Out:
    # CPU: this process plus the child processes the task waited for (Stan's sampler)
    w0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
    value = fn()
    cpu = time.process_time() - c0 + _children_cpu() - k0
    return _Out(value, task, kind, time.perf_counter() - w0, cpu,
                f"{socket.gethostname()}:{os.getpid()}", _peak_rss_mb())


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _group_key(scenario: Scenario) -> str:
    """The forecast key without the channels: what the orders model depends on."""
    payload = {"data": scenario.data.model_dump(mode="json"),
               "horizon": scenario.horizon.model_dump(mode="json"),
               "forecast": scenario.forecast.model_dump(mode="json", exclude={"staff_to"})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _forecast_task(label: str, scenario: Scenario, channels: tuple[str, ...]) -> _Out:
    """Contacts forecast of some of the scenario's channels (a :class:`BaseForecast`)."""

    def work() -> Any:
        try:
            inputs = load_inputs(scenario.data, _INPUTS)
            key = _group_key(scenario)
            fc = _FORECASTS.get((key,))
            if fc is None:
                fc = ForecastCache(max_items=16)
                _FORECASTS.put((key,), fc)
            sub = scenario.model_copy(
                update={"channels": {c: scenario.channels[c] for c in channels}})
            return base_forecast(sub, inputs, forecast_cache=fc)
        except Exception as exc:  # noqa: BLE001 - isolated, reported by name
            return TaskFailure(label, "forecast", _error(exc), channels)

    return _timed(f"forecast {label} [{channels[0]}..{channels[-1]}]", "forecast", work)


def _merge(parts: Sequence[BaseForecast]) -> BaseForecast:
    """One forecast from chunks of channels (in channel order)."""
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
    )


def _plan_task(label: str, scenario: Scenario, parts: Sequence[_Out]) -> _Out:
    """Volumes, requirements, shifts and KPIs of one scenario on its group's forecast."""

    def work() -> Any:
        failed = [p.value for p in parts if isinstance(p.value, TaskFailure)]
        if failed:
            f = failed[0]
            return TaskFailure(label, f.step, f.error, f.channels)
        try:
            cache = PipelineCache(max_items=4)
            inputs = load_inputs(scenario.data, _INPUTS)
            cache.put(inputs.key, inputs)
            base = _merge([p.value for p in parts])
            cache.put(("forecast", scenario.forecast_key(), inputs.key), base)
            return run(scenario, cache=cache)
        except Exception as exc:  # noqa: BLE001 - isolated, reported by name
            return TaskFailure(label, "plan", _error(exc))

    return _timed(f"plan {label}", "plan", work)


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


def _chunks(channels: Sequence[str], size: int) -> list[tuple[str, ...]]:
    chans = sorted(channels)
    return [tuple(chans[i:i + size]) for i in range(0, len(chans), size)]


def _client(engine: str, workers: int | None) -> tuple[Any, Any]:
    import logging

    from distributed import Client, LocalCluster

    if engine == "local":
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        return Client(cluster), cluster
    return Client(engine, timeout="30s"), None


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
        Channels per forecast task (default: all of a group's channels in one task; see
        the module docstring for why chunks are opt-in).

    Returns
    -------
    FanOutResult

    Raises
    ------
    FanOutError
        ``engine``, ``workers`` or ``chunk_size`` is invalid.
    """
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
        client, cluster = (engine, None) if is_client else _client(engine, workers)
        try:
            n_workers = max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
            outs = _distributed(client, todo, n_workers, chunk_size, progress, results,
                                failures)
        finally:
            if not is_client:
                client.close()
            if cluster is not None:
                cluster.close()
    if folder is not None:
        for label in todo:
            if label in results:
                _cache_write(folder / keys[label], results[label])
    costs = pd.DataFrame([{"task": o.task, "kind": o.kind, "wall_s": o.wall_s,
                           "cpu_s": o.cpu_s, "worker": o.worker,
                           "peak_rss_mb": o.peak_rss_mb} for o in outs],
                         columns=["task", "kind", "wall_s", "cpu_s", "worker", "peak_rss_mb"])
    order = [k for k in [*todo, *cached] if k in results]
    return FanOutResult(results={k: results[k] for k in order},
                        failures=failures, cached=tuple(cached), costs=costs,
                        engine=name, workers=n_workers)


def _collect(label: str, out: _Out, results: dict, failures: dict) -> None:
    if isinstance(out.value, TaskFailure):
        failures[label] = out.value
    else:
        results[label] = out.value


def _distributed(client: Any, todo: Mapping[str, Scenario], n_workers: int,
                 chunk_size: int | None, progress: FanProgress | None,
                 results: dict, failures: dict) -> list[_Out]:
    from distributed import as_completed

    groups: dict[str, list[str]] = {}
    for label, sc in todo.items():
        groups.setdefault(sc.forecast_key(), []).append(label)
    run_id = uuid.uuid4().hex[:8]
    futures: dict[Any, tuple[str, str]] = {}  # future -> (kind, label)
    for g, (fkey, labels) in enumerate(groups.items()):
        first = todo[labels[0]]
        channels = list(first.channels)
        size = chunk_size or len(channels)
        parts = []
        for i, chunk in enumerate(_chunks(channels, size)):
            f = client.submit(_forecast_task, labels[0], first, chunk,
                              key=f"forecast-{run_id}-{g}-{i}-{fkey}", pure=False)
            futures[f] = ("forecast", labels[0])
            parts.append(f)
        for label in labels:
            f = client.submit(_plan_task, label, todo[label], parts,
                              key=f"plan-{run_id}-{uuid.uuid4().hex[:8]}", pure=False)
            futures[f] = ("plan", label)
    outs: list[_Out] = []
    done = 0
    for f in as_completed(list(futures)):
        kind, label = futures[f]
        try:
            out = f.result()
        except Exception as exc:  # noqa: BLE001 - a lost worker, reported by name
            out = _Out(TaskFailure(label, "worker", _error(exc)), f"{kind} {label}", kind,
                       math.nan, math.nan, "", math.nan)
        outs.append(out)
        done += 1
        if kind == "plan":
            _collect(label, out, results, failures)
        if progress is not None:
            progress(done, len(futures), out.task)
        f.release()
    for label in todo:
        if label not in results and label not in failures:  # plan future lost with its input
            failures[label] = TaskFailure(label, "worker", "the task did not return")
    return outs


def progress_bar(stream: Any = None, width: int = 30) -> FanProgress:
    """A text progress bar over tasks for a terminal (one line rewritten) or a log (one
    line per 10 % step)."""
    stream = sys.stderr if stream is None else stream
    tty = hasattr(stream, "isatty") and stream.isatty()
    last = [-1]

    def show(done: int, total: int, message: str) -> None:
        frac = done / total if total else 1.0
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
