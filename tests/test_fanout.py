"""Fan-out of many scenarios on Dask distributed (:mod:`planner.fanout`, ``run-many``).

Real parts only: a ``LocalCluster`` started (and closed) by the module fixture, and a
separate ``dask scheduler`` + ``dask worker`` process pair on 127.0.0.1 used through
``run-many --address``. The oracle is the serial path: :func:`planner.pipeline.run` of
each scenario on its own, whose frames the fan-out must equal exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast.cache import ForecastCache
from forecast.selection_tasks import finish_volume, fit_batches, fit_jobs, orders_plan
from planner.cli import EXIT_INPUT, EXIT_OK, main, write_outputs
from planner.fanout import FanOutError, run_many
from planner.pipeline import PipelineCache, base_forecast, load_inputs, run
from planner.queues import queue_contacts, queue_map, queue_scenario
from planner.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def _short(name: str, **changes) -> object:
    s = load_scenario(ROOT / "scenarios" / "base.yaml")
    horizon = s.horizon.model_copy(update={"start": dt.date(2024, 10, 7),
                                           "end": dt.date(2024, 10, 13)})
    return s.model_copy(update={"name": name, "horizon": horizon, **changes})


@pytest.fixture(scope="module")
def scenarios():
    return [_short("base_week"), _short("growth_week", order_growth=0.1)]


@pytest.fixture(scope="module")
def serial(scenarios):
    """Each scenario run on its own, fresh cache: the reference."""
    return {s.name: run(s, cache=PipelineCache()) for s in scenarios}


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _assert_same(a, b) -> None:
    for table, frame in a.to_tables().items():
        pd.testing.assert_frame_equal(frame, b.to_tables()[table], check_exact=True,
                                      obj=table)
    ma = {k: v for k, v in a.meta.items() if k != "forecast_cached"}
    mb = {k: v for k, v in b.meta.items() if k != "forecast_cached"}
    assert ma == mb


def test_local_cluster_equals_serial(scenarios, serial, client):
    seen = []
    # one channel per forecast task: the merged forecast must equal the whole one
    runs = run_many(scenarios, engine=client, chunk_size=1,
                    progress=lambda d, t, m: seen.append((d, t)))
    assert runs.failures == {}
    assert list(runs.results) == ["base_week", "growth_week"]
    for name, result in runs.results.items():
        _assert_same(serial[name], result)
    # one group (same forecast key) of 3 channels -> 3 tasks that forecast and plan one
    # channel each for both scenarios, then one task per scenario that assembles its result
    kinds = runs.costs["kind"].value_counts().to_dict()
    assert kinds["assemble"] == 2 and kinds["queues"] == 3
    # the orders model's selection once for the group: its plan, the other worker's input
    # loading, its window fits (Prophet's alone, the other candidates of a window together:
    # two tasks per window) and the winner's forecast
    tasks = runs.costs.loc[runs.costs["kind"] == "select", "task"].tolist()
    fits = [t for t in tasks if t.startswith("orders window fits")]
    windows = {t.split("@")[1].split()[0] for t in fits}
    assert len(fits) == 2 * len(windows) and len(windows) >= 8
    assert kinds["select"] == len(fits) + 3
    n = len(runs.costs)
    assert seen[-1] == (n, n) and [d for d, _ in seen] == list(range(1, n + 1))
    assert (runs.costs["cpu_s"] > 0).all() and (runs.costs["peak_rss_mb"] > 0).all()
    # chunks on the two workers; each scenario assembled in this process from the chunks
    # it fetched as they ended (no queue failed, so no assembling task on a worker)
    on_workers = runs.costs[runs.costs["kind"] != "assemble"]
    assert on_workers["worker"].nunique() <= 2
    assemblies = runs.costs.loc[runs.costs["kind"] == "assemble", "worker"]
    assert assemblies.str.endswith(f":{os.getpid()}").all()


def test_failing_scenario_is_named_and_others_kept(scenarios, serial, client, tmp_path):
    bad = _short("broken", data=scenarios[0].data.model_copy(
        update={"contacts": str(tmp_path / "no_such_contacts.csv")}))
    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("name: [unclosed\n")
    runs = run_many([scenarios[0], bad, broken_yaml], engine=client)
    assert list(runs.results) == ["base_week"]
    _assert_same(serial["base_week"], runs.results["base_week"])
    f = runs.failures["broken"]
    assert f.step == "forecast" and "no_such_contacts.csv" in f.error
    assert f.channels == ("chat", "email", "voice") or set(f.channels) <= {"chat", "email",
                                                                          "voice"}
    assert "broken: forecast of channels" in str(f)
    assert runs.failures[str(broken_yaml)].step == "load"


def _queue_data(folder: Path) -> dict[str, str]:
    """The sample's contacts split into queues, written as ``contacts.parquet``: chat and
    voice each into two queues by seeded binomial thinning (queues empty in some intervals,
    so their last AHT comes before their channel's), email into a queue on every day and one
    on weekdays only (rows on fewer days than the others). Returns queue -> channel."""
    from forecast.data import load_contacts, sample_paths

    c = load_contacts(sample_paths().contacts)
    rng = np.random.default_rng(16)
    parts = []
    for ch, rows in c.groupby("channel", sort=True):
        n = rows["contacts"].to_numpy()
        if ch == "email":
            weekday = (rows["ds"].dt.day_of_week < 5).to_numpy()
            a = np.where(weekday, rng.binomial(n, 0.4), 0)
            split = [(f"{ch}-all", rows, n - a), (f"{ch}-weekdays", rows[weekday], a[weekday])]
        else:
            a = rng.binomial(n, 0.6)
            split = [(f"{ch}-de", rows, a), (f"{ch}-fr", rows, n - a)]
        for name, r, got in split:
            parts.append(r.assign(queue=name, contacts=got,
                                  aht_s=np.where(got > 0, r["aht_s"], np.nan)))
    contacts = pd.concat(parts).sort_values(["ds", "queue"], kind="stable")
    queue_contacts(contacts).to_parquet(folder / "contacts.parquet", index=False)
    contacts.to_parquet(folder / "contacts_queues.parquet", index=False)  # the queue column
    return queue_map(contacts)


def test_a_contacts_file_with_a_queue_column_fans_out_as_run_plans_it(client, tmp_path,
                                                                      capsys):
    # the user's scenario names channels; the file's queue column makes it a plan per
    # queue, with an override by pattern; the fan-out must give exactly what run gives
    owner = _queue_data(tmp_path)
    base = _short("by_queue")
    data = base.data.model_copy(update={"contacts": str(tmp_path / "contacts_queues.parquet")})
    user = base.model_copy(update={"data": data, "queues": {"chat-*": {"target_sl": 0.9}}})
    user = type(user).from_dict(user.to_dict())  # validated like a file
    ref = run(user, cache=PipelineCache())
    assert ref.queues == owner
    runs = run_many([user], engine=client, chunk_size=2)
    got = runs.results["by_queue"]
    assert not runs.failures
    assert got.scenario == user and got.queues == owner
    _assert_same(ref, got)
    assert (runs.costs["kind"] == "queues").sum() == 3  # 6 queues in chunks of 2
    # the CLI prints the core's roll-ups per channel and in total
    path = tmp_path / "by_queue.yaml"
    path.write_text(user.to_yaml())
    assert main(["run-many", str(path), "--address", client.scheduler.address, "-q"]) == 0
    out = capsys.readouterr().out
    total = ref.rollup().set_index("name").loc["total"]
    line = next(ln.split() for ln in out.splitlines() if ln.split()[:2] == ["total", "total"])
    assert line[3] == "6" and line[5] == f"{total['paid_hours']:,.0f}"
    assert "chat-de" not in out


def test_queues_fan_out_per_queue_and_a_failed_queue_keeps_the_others(client, tmp_path,
                                                                      capsys):
    owner = _queue_data(tmp_path)
    base = _short("queues")
    data = base.data.model_copy(update={"contacts": str(tmp_path / "contacts.parquet")})
    queued = queue_scenario(base, owner).model_copy(update={"data": data})
    # a queue the history does not have: its forecast fails, the other queues are planned
    ghost = queued.model_copy(update={
        "name": "with_ghost",
        "channels": {**queued.channels, "chat-xx": queued.channels["chat-de"]}})
    # reference: each scenario on its own on the serial path (the ghost scenario without
    # its ghost: what is left of it must equal that)
    ref = run(queued, cache=PipelineCache())
    runs = run_many([queued, ghost], engine=client, chunk_size=2)
    _assert_same(ref, runs.results["queues"])
    kept = runs.results["with_ghost"]
    assert sorted(kept.scenario.channels) == sorted(owner)
    _assert_same(ref, kept)
    f = runs.failures["with_ghost"]
    assert f.step == "forecast" and f.channels == ("chat-xx",)
    assert "chat-xx" in f.error and str(f).startswith("with_ghost: forecast of channels chat-xx")
    assert "queues" not in runs.failures
    # 6 and 7 queues in chunks of 2 (3 + 4 tasks), then one assembling task per scenario
    assert (runs.costs["kind"] == "queues").sum() == 7
    assert (runs.costs["kind"] == "assemble").sum() == 2
    # the same result on the serial path (its whole-scenario run fails with the ghost)
    serial = run_many([queued, ghost], engine="serial")
    _assert_same(serial.results["queues"], runs.results["queues"])
    assert serial.failures["with_ghost"].step == "plan"
    # the CLI names the failed queue, shows the others' plan and exits 3
    path = tmp_path / "with_ghost.yaml"
    path.write_text(ghost.to_yaml())
    rc = main(["run-many", str(path), "--address", client.scheduler.address, "-q"])
    text = capsys.readouterr()
    assert rc == EXIT_INPUT
    assert "error: with_ghost: forecast of channels chat-xx failed" in text.err
    assert "Scenario with_ghost: 2024-10-07 .. 2024-10-13 (without chat-xx: failed)" in text.out
    assert "0 of 1 scenarios done, 1 without failed queues (0 from cache)" in text.out


class _ReadLog(ForecastCache):
    """A forecast cache that notes the keys it was asked for and found."""

    def __init__(self) -> None:
        super().__init__(max_items=64)
        self.found: list[str] = []

    def get(self, key: str):
        value = super().get(key)
        if value is not None:
            self.found.append(key)
        return value


def test_orders_forecast_made_in_pieces_is_what_the_contacts_forecast_reads(scenarios):
    # the fan-out fits the orders model's selection once, as tasks, and puts the result
    # into each worker's forecast cache: the key must be the one the contacts forecast
    # looks up, and the forecast from that cache must equal one fitted from scratch
    sc = scenarios[0]
    inputs = load_inputs(sc.data)
    h = sc.horizon
    cutoff = pd.Timestamp(h.last_history_day) + pd.Timedelta(days=1)
    plan = orders_plan(inputs.orders[inputs.orders["ds"] < cutoff], h.start, h.end,
                       events=inputs.events, model=sc.forecast.model, level=sc.forecast.level)
    fits: dict = {}
    for batch in fit_batches(plan):
        for uid, got in fit_jobs(plan, batch).items():
            fits.setdefault(uid, []).extend(got)
    seeded = _ReadLog()
    seeded.put(plan.key, finish_volume(plan, fits))
    fresh = _ReadLog()
    a = base_forecast(sc, inputs, forecast_cache=seeded)
    b = base_forecast(sc, inputs, forecast_cache=fresh)
    assert plan.key in seeded.found and plan.key not in fresh.found
    for table in ("orders", "contacts", "daily"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)
    assert a.models == b.models


def test_serial_engine_and_cache_skip(scenarios, serial, tmp_path):
    first = run_many(scenarios, engine="serial", cache_dir=tmp_path)
    assert first.cached == () and first.engine == "serial"
    for name, result in first.results.items():
        _assert_same(serial[name], result)
    again = run_many(scenarios, engine="serial", cache_dir=tmp_path)
    assert set(again.cached) == {"base_week", "growth_week"} and again.costs.empty
    for name, result in again.results.items():
        _assert_same(serial[name], result)
    # a changed assumption is a new key: only that scenario runs
    moved = _short("growth_week", order_growth=0.2)
    third = run_many([scenarios[0], moved], engine="serial", cache_dir=tmp_path)
    assert third.cached == ("base_week",) and list(third.costs["kind"]) == ["scenario"]


def test_bad_arguments_are_named():
    with pytest.raises(FanOutError, match="engine"):
        run_many([], engine="kubernetes")
    with pytest.raises(FanOutError, match="workers"):
        run_many([], workers=0)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_processes(tmp_path):
    """A ``dask scheduler`` and one ``dask worker`` process on 127.0.0.1, stopped at the
    end (only these two processes)."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "dask.log").open("w")
    procs = [subprocess.Popen(
        [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
         str(port), "--no-dashboard"], cwd=ROOT, env=env, stdout=log, stderr=log)]
    try:
        time.sleep(1.0)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1",
             "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            cwd=ROOT, env=env, stdout=log, stderr=log))
        from distributed import Client

        with Client(address, timeout="60s") as c:
            c.wait_for_workers(1, timeout=120)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        log.close()


def test_cli_run_many_through_a_scheduler_address(scenarios, serial, dask_processes, tmp_path,
                                                  capsys):
    files = []
    for s in scenarios:
        path = tmp_path / f"{s.name}.yaml"
        path.write_text(s.to_yaml())
        files.append(str(path))
    out = tmp_path / "out"
    rc = main(["run-many", *files, "--address", dask_processes, "--out", str(out), "-q"])
    text = capsys.readouterr()
    assert rc == EXIT_OK, text.err
    assert "2 of 2 scenarios done (0 from cache), engine tcp://127.0.0.1" in text.out
    assert "Scenario base_week" in text.out and "Scenario growth_week" in text.out
    # the files equal those written from the serial results
    for name, result in serial.items():
        ref = write_outputs(result, tmp_path / "ref" / name, formats=("csv",))
        for path in ref:
            assert (out / name / path.name).read_bytes() == path.read_bytes(), path.name
    # a bad file is named, the good one still runs: exit 3
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps({"name": "bad", "order_growth": -5}))
    rc = main(["run-many", files[0], str(bad), "--address", dask_processes, "-q"])
    text = capsys.readouterr()
    assert rc == EXIT_INPUT
    assert f"error: {bad}: load failed" in text.err and "order_growth" in text.err
    assert "1 of 2 scenarios done" in text.out


def test_backtest_spreads_and_their_warnings_reach_the_assembled_result(client):
    # staff_to p80 reads each channel's spread of demand off its backtests: a 6-day
    # horizon has 4 calibration origins x 6 = 24 backtest days (< 28), so every channel
    # falls back to the band and the run warns per channel; a 10-day horizon has 40 and
    # measures them, and a shared headcount cap plans all channels in one task on the
    # merged chunk forecasts, which must carry the spreads (or the plan differs)
    def p80(name, end, **changes):
        s = _short(name, **changes)
        return s.model_copy(update={
            "horizon": s.horizon.model_copy(update={"end": end}),
            "forecast": s.forecast.model_copy(update={"staff_to": "p80"})})

    short = p80("p80_short", dt.date(2024, 10, 12))
    capped = p80("p80_capped", dt.date(2024, 10, 16), headcount_cap_total=10_000)
    ref = {s.name: run(s, cache=PipelineCache()) for s in (short, capped)}
    fell_back = [w for w in ref["p80_short"].meta["warnings"]
                 if "reads the spread of demand off the forecast band" in w]
    assert sorted(w.split(":")[0] for w in fell_back) == ["chat", "email", "voice"]
    assert not any("spread of demand" in w for w in ref["p80_capped"].meta["warnings"])
    runs = run_many([short, capped], engine=client, chunk_size=1)
    assert runs.failures == {}
    for name, result in runs.results.items():
        _assert_same(ref[name], result)
    assert (runs.costs["kind"] == "plan").sum() == 1  # the capped one, on a worker


def test_progress_bar_never_moves_back_while_the_total_grows():
    import io

    from planner.fanout import progress_bar

    out = io.StringIO()
    show = progress_bar(out, width=10)
    # 2 tasks known, then the selection's 18 fits and the chunks join the count
    for done, total in [(1, 2), (2, 20), (10, 28), (20, 28), (28, 28)]:
        show(done, total, f"task {done}")
    bars = [line.split("]")[0].count("#") for line in out.getvalue().splitlines()]
    assert bars == sorted(bars) and bars[0] == 5 and bars[-1] == 10
    assert out.getvalue().splitlines()[-1].endswith("28/28 tasks  task 28")
