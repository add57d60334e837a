"""Fan-out benchmark: N synthetic queues x S scenarios, serial against a LocalCluster.

Synthetic queues: the seeded sample generator's contacts (:func:`data.generate.generate`),
each channel's interval counts split into queues (chat-de-r0, voice-fr-r1, ...) by seeded
binomial thinning with Dirichlet shares, in the contract's ``queue`` column; every queue
keeps its channel's settings (:mod:`planner.queues`). The
S scenarios share the forecast (order growth 0, +5 %, +10 %, ...), so the forecast runs
once per queue and the staffing once per queue and scenario.

Prints: the load average; wall and CPU time of the serial path
(:func:`planner.fanout.run_many` with ``engine="serial"``) and of a ``LocalCluster`` with
``--workers`` processes (its start, as ``engine="local"`` does it, timed apart), the
speed-up with and without that start, cost per task kind, peak memory per worker, whether
the results are equal (exact frames), the single-scenario path against
:func:`planner.pipeline.run`, and a projection of 10,000 queues x 10 scenarios on 8, 64 and
512 workers from the measured costs. The machine's other load changes the timings: run it
more than once (``--repeat``) and read the spread.

    python bench/bench_fanout.py --repeat 2           # 100 queues x 3 scenarios, 2 workers
    python bench/bench_fanout.py --queues 10 --days 7 # quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from data.generate import generate  # noqa: E402
from forecast.data import sample_paths  # noqa: E402
from planner.fanout import chunk_sizes, peak_rss_mb, run_many  # noqa: E402
from planner.pipeline import PipelineCache, run  # noqa: E402
from planner.queues import queue_contacts, queue_map, queue_scenario  # noqa: E402
from planner.scenario import load_scenario  # noqa: E402

LANGS = ("en", "de", "fr", "es", "it", "pl", "nl", "sv")


def synthetic_queues(n_queues: int, seed: int, out: Path,
                     start: str = "2023-01-01", end: str = "2024-12-31") -> dict[str, str]:
    """Write orders, events and a contacts file with ``n_queues`` queues into ``out``;
    returns queue -> channel."""
    sample = generate(seed=seed, start=start, end=end)
    rng = np.random.default_rng(seed)
    channels = sorted(sample.contacts["channel"].unique())
    per = {c: n_queues // len(channels) + (i < n_queues % len(channels))
           for i, c in enumerate(channels)}
    parts, owner = [], {}
    for c in channels:
        rows = sample.contacts[sample.contacts["channel"] == c]
        k = per[c]
        if k == 0:
            continue
        left = rows["contacts"].to_numpy(np.int64)
        shares = rng.dirichlet(np.full(k, 2.0))
        rest = 1.0
        for j in range(k):
            name = f"{c}-{LANGS[j % len(LANGS)]}-r{j // len(LANGS)}"
            owner[name] = c
            if j == k - 1:
                got = left
            else:
                got = rng.binomial(left, min(1.0, shares[j] / rest))
                rest -= shares[j]
            left = left - got
            parts.append(pd.DataFrame({
                "ds": rows["ds"].to_numpy(), "channel": c, "queue": name, "contacts": got,
                "aht_s": np.where(got > 0, rows["aht_s"].to_numpy(), np.nan)}))
    contacts = pd.concat(parts, ignore_index=True).sort_values(["ds", "queue"],
                                                              kind="stable")
    assert queue_map(contacts) == dict(sorted(owner.items()))
    # the planned series are the queues (the loader reads ds, channel, contacts, aht_s)
    queue_contacts(contacts).to_parquet(out / "contacts.parquet", index=False)
    sample.orders.assign(ds=sample.orders["ds"].dt.strftime("%Y-%m-%d")).to_csv(
        out / "orders.csv", index=False)
    (out / "events.csv").write_bytes(sample_paths().events.read_bytes())
    return owner


def scenarios(owner: dict[str, str], data_dir: Path, n: int, days: int) -> list:
    base = load_scenario(ROOT / "scenarios" / "base.yaml")
    start = dt.date(2024, 11, 4)
    horizon = base.horizon.model_copy(
        update={"start": start, "end": start + dt.timedelta(days=days - 1)})
    data = base.data.model_copy(update={
        "orders": str(data_dir / "orders.csv"), "contacts": str(data_dir / "contacts.parquet"),
        "events": str(data_dir / "events.csv")})
    per_queue = queue_scenario(base, owner)
    return [per_queue.model_copy(update={"name": f"growth_{5 * i:02d}", "horizon": horizon,
                                         "data": data, "order_growth": 0.05 * i})
            for i in range(n)]


def _equal(a, b) -> str:
    """``"yes"``, or the first scenario, table and difference found."""
    if set(a.results) != set(b.results):
        return f"no: scenarios {sorted(a.results)} against {sorted(b.results)}"
    for name, r in a.results.items():
        for t, frame in r.to_tables().items():
            try:
                pd.testing.assert_frame_equal(frame, b.results[name].to_tables()[t],
                                              check_exact=True)
            except AssertionError as exc:
                return f"no: {name} {t}: " + " ".join(str(exc).split())[:300]
    return "yes"


def _children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(fn):
    """(value, wall s, CPU s of this process, CPU s of child processes ended meanwhile:
    Stan's sampler, and the cluster's workers once it is closed)."""
    w0, u0, k0 = time.perf_counter(), time.process_time(), _children()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - u0, _children() - k0


def forecast_costs(scn) -> tuple[float, int, float, float, float]:
    """CPU s of the forecast: the orders model's selection, once per forecast group (its
    window fits and the winner's fit, as the fan-out's ``select`` tasks run them) and its
    number of fit tasks; what is left once per worker and group (the orders model at the
    band's calibration origins: a one-queue forecast with the orders forecast in the cache
    less a second queue's with the same cache); per queue (the whole forecast less those,
    over the queues); the whole forecast of all queues with a fresh cache."""
    from forecast.cache import ForecastCache
    from forecast.selection_tasks import finish_volume, fit_batches, fit_jobs, orders_plan
    from planner.pipeline import base_forecast, load_inputs

    inputs = load_inputs(scn.data)
    h = scn.horizon
    cutoff = pd.Timestamp(h.last_history_day) + pd.Timedelta(days=1)
    fc = ForecastCache()

    def select():
        plan = orders_plan(inputs.orders[inputs.orders["ds"] < cutoff], h.start, h.end,
                           events=inputs.events, model=scn.forecast.model,
                           level=scn.forecast.level)
        if plan is None:
            return 0
        fc.put(plan.key, finish_volume(plan, fit_jobs(plan, plan.jobs)))
        return len(fit_batches(plan))

    n_batches, _, cpu, kids = _timed(select)
    selection = cpu + kids
    q = sorted(scn.channels)
    costs = []
    for name in (q[0], q[-1]):
        sub = scn.model_copy(update={"channels": {name: scn.channels[name]}})
        _, _, cpu, kids = _timed(lambda s=sub: base_forecast(s, inputs, forecast_cache=fc))
        costs.append(cpu + kids)
    fixed = max(0.0, costs[0] - costs[1])
    _, _, cpu, kids = _timed(lambda: base_forecast(scn, inputs, forecast_cache=ForecastCache()))
    whole = cpu + kids
    per_queue = max(0.0, whole - selection - fixed) / len(q)
    return selection, n_batches, fixed, per_queue, whole


#: Scheduler and transfer overhead assumed per task in the projection (seconds).
TASK_OVERHEAD_S = 0.01


def project(select_s: float, select_tasks: int, fixed_s: float, forecast_s_per_queue: float,
            plan_s_per_queue_scn: float, assemble_s_per_queue: float,
            overhead_s: float = TASK_OVERHEAD_S, queues: int = 10_000, scns: int = 10,
            workers=(8, 64, 512)) -> str:
    """Wall time on paper for ``queues`` x ``scns`` (assumptions in the README): the
    orders model's selection once (``select_tasks`` window-fit tasks of equal cost spread
    over the workers), then queue chunks (:func:`planner.fanout.chunk_sizes`, as
    :func:`planner.fanout.run_many` cuts them, each taken by the first free worker; each
    the forecast of its queues and their plans in every scenario; what is left of the
    orders model, its calibration origins, once per worker), then one assembling task per
    scenario (concatenation, linear in the queues)."""
    lines = [f"projection, {queues:,} queues x {scns} scenarios (one forecast group; "
             f"{select_s:.1f} s orders selection once in {select_tasks} tasks, {fixed_s:.1f} s "
             f"orders model per worker, {forecast_s_per_queue:.3f} s forecast "
             f"per queue, {plan_s_per_queue_scn:.3f} s staffing per queue and scenario, "
             f"{assemble_s_per_queue * 1000:.2f} ms assembly per queue and scenario, "
             f"{overhead_s * 1000:.0f} ms per task, balanced load, no start-up):",
             f"  {'workers':>7} {'selection':>10} {'queue chunks':>13} {'assembly':>9} "
             f"{'wall':>9} {'serial':>9}"]
    per_queue = forecast_s_per_queue + scns * plan_s_per_queue_scn
    work = queues * per_queue + fixed_s + select_s
    for w in workers:
        per_task = select_s / max(select_tasks, 1)
        select_wall = (math.ceil(select_tasks / w) * (per_task + overhead_s)
                       if select_tasks else 0.0)
        # list scheduling, largest first: each chunk to the worker free first
        ends = [fixed_s] * w
        for n in chunk_sizes(queues, w):
            k = min(range(w), key=ends.__getitem__)
            ends[k] += n * per_queue + overhead_s
        chunks_wall = max(ends)
        assemble_wall = math.ceil(scns / w) * (queues * assemble_s_per_queue + overhead_s)
        lines.append(f"  {w:7d} {select_wall:9,.1f}s {chunks_wall:12,.0f}s "
                     f"{assemble_wall:8,.0f}s {select_wall + chunks_wall + assemble_wall:8,.0f}s"
                     f" {work:8,.0f}s")
    lines.append(f"  total work {work + scns * queues * assemble_s_per_queue:,.0f} CPU s "
                 "(serial: one process)")
    return "\n".join(lines)


def _cluster(workers: int):
    """A LocalCluster and its client, started as ``run_many(engine="local")`` starts them
    (workers import the package's modules before the first task)."""
    from planner.fanout import dask_client

    client, cluster = dask_client("local", workers)
    client.wait_for_workers(workers)
    return client, cluster


def code_stamp() -> float:
    """Latest change time of the package's modules: workers import the code when the
    cluster starts, so a change during the benchmark compares two versions."""
    return max(f.stat().st_mtime for d in ("forecast", "planner", "staffing")
               for f in (ROOT / d).glob("*.py"))


def makespan_cpu(costs: pd.DataFrame) -> float:
    """CPU s of the busiest worker: the run's length on cores of its own (no other load,
    no waiting between tasks)."""
    return float(costs.groupby("worker")["cpu_s"].sum().max())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queues", type=int, default=100)
    p.add_argument("--scenarios", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--days", type=int, default=7, help="plan horizon in days (default 7)")
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--repeat", type=int, default=1,
                   help="serial and LocalCluster runs, each this many times (default 1)")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="queues per task (default: 2 tasks per worker, at most 50 queues a task)")
    a = p.parse_args(argv)
    # empty synthetic queues make log(0) warnings by the thousand; workers inherit this
    os.environ.setdefault("PYTHONWARNINGS", "ignore::RuntimeWarning")
    warnings.simplefilter("ignore", RuntimeWarning)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
          f"{os.cpu_count()} cores")
    stamp = code_stamp()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        owner, gen_s, _, _ = _timed(lambda: synthetic_queues(a.queues, a.seed, d))
        scns = scenarios(owner, d, a.scenarios, a.days)
        print(f"{a.queues} queues x {a.scenarios} scenarios, {a.days}-day plan; synthetic "
              f"data in {gen_s:.1f} s")

        one, w_run, c_run, k_run = _timed(lambda: run(scns[0], cache=PipelineCache()))
        many1, w_one, c_one, k_one = _timed(lambda: run_many(scns[:1], engine="local"))
        print(f"single scenario: pipeline.run {w_run:.1f} s wall / {c_run + k_run:.1f} s CPU; "
              f"run_many (serial path) {w_one:.1f} s wall / {c_one + k_one:.1f} s CPU "
              f"(engine {many1.engine}, ratio {w_one / w_run:.2f})")

        walls_ser, walls_loc, walls_up, cpus = [], [], [], []
        for r in range(a.repeat):
            ser, w_ser, c_ser, k_ser = _timed(lambda: run_many(scns, engine="serial"))
            (client, cluster), w_up, _, _ = _timed(lambda: _cluster(a.workers))
            try:
                loc, w_loc, c_loc, _ = _timed(
                    lambda c=client: run_many(scns, engine=c, chunk_size=a.chunk_size))
            finally:
                client.close()
                cluster.close()
            walls_ser.append(w_ser)
            walls_loc.append(w_loc)
            walls_up.append(w_up)
            fails = {**ser.failures, **loc.failures}
            if fails:
                print("failures:", *map(str, fails.values()), sep="\n  ")
            cpu_workers = loc.costs["cpu_s"].sum()
            busiest = makespan_cpu(loc.costs)
            cpus.append((c_ser + k_ser) / busiest)
            print(f"run {r + 1}: serial {w_ser:6.1f} s wall ({c_ser + k_ser:.1f} s CPU); "
                  f"LocalCluster {w_up:4.1f} s start + {w_loc:6.1f} s run ({a.workers} "
                  f"workers, {cpu_workers:.1f} s CPU in tasks, busiest worker {busiest:.1f} s "
                  f"CPU, {c_loc:.1f} s CPU here); speed-up {w_ser / (w_up + w_loc):.2f}x "
                  f"with the start, {w_ser / w_loc:.2f}x without, {cpus[-1]:.2f}x in CPU "
                  f"(serial CPU / busiest worker's); results equal to serial: "
                  f"{_equal(ser, loc)}")
            if code_stamp() != stamp:
                print("  warning: the package's code changed during this run; its workers "
                      "may run another version than the serial run (repeat on a fixed "
                      "checkout)")
        if a.repeat > 1:
            with_up = [s / (u + w) for s, u, w in zip(walls_ser, walls_up, walls_loc,
                                                       strict=True)]
            without = [s / w for s, w in zip(walls_ser, walls_loc, strict=True)]
            print(f"speed-up over {a.repeat} runs: {min(with_up):.2f}-{max(with_up):.2f}x "
                  f"with the cluster's start, {min(without):.2f}-{max(without):.2f}x without, "
                  f"{min(cpus):.2f}-{max(cpus):.2f}x in CPU")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

        costs = loc.costs
        by = costs.groupby("kind").agg(tasks=("task", "size"), wall_s=("wall_s", "sum"),
                                       cpu_s=("cpu_s", "sum"), max_task_s=("wall_s", "max"))
        print("per task kind (last LocalCluster run; select = the orders model's selection "
              "(plan, window fits, winner) and input loading, queues = forecast and plans of "
              "a chunk of queues, assemble = one scenario's result from its chunks):")
        print(by.round(3).to_string())
        on_workers = costs[costs["kind"] != "assemble"]  # assemblies run in this process
        mem = on_workers.groupby("worker")["peak_rss_mb"].max()
        print("peak memory per worker (MB):",
              ", ".join(f"{w.split(':')[-1]} {m:,.0f}" for w, m in mem.items()))
        end = float((costs["start_s"] + costs["wall_s"]).max())
        busy = on_workers.groupby("worker")["wall_s"].sum()
        print(f"worker time in tasks (last run, {end:.1f} s from the call to the last "
              "assembly): " + ", ".join(f"{w.split(':')[-1]} {b:.1f} s ({b / end:.0%})"
                                        for w, b in busy.items()))
        print(f"this process peak: {peak_rss_mb():,.0f} MB")
        selection, n_sel, fixed, per_queue, whole = forecast_costs(scns[0])
        serial_cpu = float(ser.costs["cpu_s"].sum())
        plan = max(0.0, serial_cpu - whole) / (a.queues * a.scenarios)
        assemble = (float(by.loc["assemble", "cpu_s"]) / (a.queues * a.scenarios)
                    if "assemble" in by.index else 0.0)
        print(f"costs (CPU): forecast {whole:.1f} s = {selection:.1f} s orders selection once "
              f"per forecast group + {fixed:.1f} s per worker and group (orders model at the "
              f"calibration origins) + {per_queue:.3f} s per queue; staffing {plan:.3f} s per "
              f"queue and scenario (serial run less the forecast)")
        print(project(selection, n_sel, fixed, per_queue, plan, assemble))
        del one
    return 0


if __name__ == "__main__":
    sys.exit(main())
