"""Scenario runs from the app: one at a time with its steps' progress, several at once
through the fan-out (:func:`planner.fanout.run_many`) with progress over its tasks, and
the cache of their results (keyed by the scenario and its data files). Nothing here
computes planning numbers: it calls the core and keeps what it returns."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from planner.results import ScenarioResult
from planner.scenario import Scenario

__all__ = [
    "DASK_ADDRESS_ENV",
    "fanout_engine",
    "progress_bar",
    "run_scenario",
    "run_scenarios",
]


def progress_bar(container: Any) -> tuple[Callable[[float, str], None], Any]:
    holder = container.empty()

    def report(fraction: float, message: str) -> None:
        holder.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    return report, holder


@st.cache_resource(show_spinner=False)
def _results() -> Any:
    """Scenario results keyed by the scenario's YAML and data files (32 most recent).

    Not ``st.cache_data``: the run reports progress into page elements while it works,
    which Streamlit's data cache cannot replay. Results are frozen and never mutated.
    """
    from planner.pipeline import LruCache

    return LruCache(32)


def _data_stamp(scenario: Scenario) -> str:
    """Size and modification time of the scenario's data files (a changed file re-runs)."""
    from forecast import data

    sample = data.sample_paths()
    d = scenario.data
    stamps = []
    for given, default in ((d.orders, sample.orders), (d.contacts, sample.contacts),
                           (d.events, sample.events)):
        path = Path(given) if given else Path(default)
        try:
            st_ = path.stat()
            stamps.append(f"{path}:{st_.st_size}:{st_.st_mtime_ns}")
        except OSError:
            stamps.append(f"{path}:missing")
    return "\n# " + " ".join(stamps)


def run_scenario(scenario: Scenario, container: Any = None) -> ScenarioResult:
    """Run ``scenario`` through the planner pipeline, cached on its YAML and data files.

    Shows a progress bar in ``container`` (default: the page) while the core works; a
    cache hit returns at once. The planner itself reuses forecasts across scenarios that
    share data and forecast settings, so a staffing-only change re-runs only staffing.

    Raises
    ------
    ValueError
        The core's own errors (bad data, invalid assumptions); not cached.
    """
    from planner.pipeline import run

    key = _result_key(scenario)
    cache = _results()
    hit = cache.get(key)
    if hit is not None:
        return hit
    report, holder = progress_bar(container if container is not None else st)
    try:
        result = run(scenario, progress=report)
    finally:
        holder.empty()
    cache.put(key, result)
    return result


def _result_key(scenario: Scenario) -> str:
    return scenario.to_yaml() + _data_stamp(scenario)


#: Environment variable naming a running Dask scheduler (``tcp://HOST:PORT``) on which the
#: app runs several scenarios at once; unset, they run one after another in the server.
DASK_ADDRESS_ENV = "PEAK_PLANNER_DASK_ADDRESS"


def fanout_engine() -> str:
    """Where the app runs several scenarios at once: the scheduler in
    ``$PEAK_PLANNER_DASK_ADDRESS`` (its workers must have this package and see the data
    files at the same paths), else ``"serial"`` (in this server process: a web server
    does not start worker processes of its own)."""
    address = os.environ.get(DASK_ADDRESS_ENV, "").strip()
    return address or "serial"


def run_scenarios(scenarios: list[Scenario], container: Any = None) -> dict[str, str]:
    """Run the scenarios not run yet; each result goes where :func:`run_scenario` finds
    it. On a Dask scheduler (:func:`fanout_engine`): :func:`planner.fanout.run_many`, a
    progress bar over its tasks in ``container``; else one after another in this process,
    each with its steps' progress bar. Returns name -> error of those that failed (the
    others' results are kept); a scenario some of whose queues failed counts as failed,
    naming them.

    Raises
    ------
    ValueError
        No Dask scheduler answers at the address, or it has no workers (said in words,
        at once: the page shows it and keeps working).
    """
    cache = _results()
    todo = [s for s in scenarios if cache.get(_result_key(s)) is None]
    if not todo:
        return {}
    where = container if container is not None else st
    engine = fanout_engine()
    if engine == "serial":
        failed: dict[str, str] = {}
        note = where.empty()
        for i, scenario in enumerate(todo):
            note.caption(f"Running {scenario.name}: scenario {i + 1} of {len(todo)}")
            try:
                run_scenario(scenario, where)
            except ValueError as exc:
                failed[scenario.name] = str(exc)
        note.empty()
        return failed
    return _run_on_dask(engine, todo, where)


def _run_on_dask(address: str, todo: list[Scenario], where: Any) -> dict[str, str]:
    from distributed import Client

    from planner.fanout import run_many

    holder = where.empty()
    holder.progress(0.0, text=f"connecting to the Dask scheduler at {address}")
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        holder.empty()
        raise ValueError(f"no Dask scheduler answers at {address} (set in "
                         f"${DASK_ADDRESS_ENV}): {exc}. Start it, or unset the variable "
                         "to run scenarios here.") from None
    shown = [0.0]

    def report(done: int, total: int, message: str) -> None:
        # the total grows as the run learns its tasks: the bar never moves back
        shown[0] = max(shown[0], min(done / total if total else 1.0, 1.0))
        holder.progress(shown[0], text=f"{done} of {total} tasks so far: {message[:80]}")

    try:
        if not client.scheduler_info(n_workers=-1)["workers"]:
            raise ValueError(f"the Dask scheduler at {address} has no workers: start "
                             f"`dask worker {address}` processes, or unset "
                             f"${DASK_ADDRESS_ENV} to run scenarios here.")
        n = len(todo)
        holder.progress(0.0, text=f"running {n} scenario{'s' if n != 1 else ''} on Dask")
        runs = run_many(todo, engine=client, progress=report)
    finally:
        holder.empty()
        client.close()
    cache = _results()
    by_label = dict(zip([s.name for s in todo], todo, strict=True))
    for label, result in runs.results.items():
        if label not in runs.failures and label in by_label:
            cache.put(_result_key(by_label[label]), result)
    return {label: str(f) for label, f in runs.failures.items()}


