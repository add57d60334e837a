"""Fan-out benchmark: N synthetic queues x S scenarios, serial against a LocalCluster.

Synthetic queues: the seeded sample generator's contacts (:func:`data.generate.generate`),
each channel's interval counts split into queues (chat-de-r0, voice-fr-r1, ...) by seeded
binomial thinning with Dirichlet shares, in the contract's ``queue`` column; every queue
keeps its channel's settings (:mod:`planner.queues`). The
S scenarios share the forecast (order growth 0, +5 %, +10 %, ...), so the forecast runs
once per queue and the staffing once per queue and scenario.

Prints: wall and CPU time of the serial path (:func:`planner.fanout.run_many` with
``engine="serial"``) and of a ``LocalCluster`` with ``--workers`` processes, the speed-up,
cost per task kind, peak memory per worker, whether the results are equal (exact frames),
the single-scenario path against :func:`planner.pipeline.run`, and a projection of
10,000 queues x 10 scenarios on 8, 64 and 512 workers from the measured per-queue costs.

    python bench/bench_fanout.py                      # 100 queues x 3 scenarios, 2 workers
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
from planner.fanout import run_many  # noqa: E402
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


def orders_and_queue_cost(scn) -> tuple[float, float]:
    """CPU s of the forecast parts a worker pays once per forecast group (orders model
    and its backtests) and per queue: a one-queue forecast with a fresh cache, then
    another queue with the same cache."""
    from forecast.cache import ForecastCache
    from planner.pipeline import base_forecast, load_inputs

    inputs = load_inputs(scn.data)
    fc = ForecastCache()
    q = sorted(scn.channels)
    costs = []
    for name in (q[0], q[-1]):
        sub = scn.model_copy(update={"channels": {name: scn.channels[name]}})
        _, _, cpu, kids = _timed(lambda s=sub: base_forecast(s, inputs, forecast_cache=fc))
        costs.append(cpu + kids)
    return costs[0] - costs[1], costs[1]


#: Scheduler and transfer overhead assumed per task in the projection (seconds).
TASK_OVERHEAD_S = 0.01


def project(fixed_s: float, forecast_s_per_queue: float, plan_s_per_queue_scn: float,
            overhead_s: float = TASK_OVERHEAD_S, queues: int = 10_000, scns: int = 10,
            workers=(8, 64, 512)) -> str:
    """Wall time on paper for ``queues`` x ``scns`` (assumptions in the README): today's
    tasks (one forecast task per forecast group, one plan task per scenario), with forecast
    chunks of channels (``chunk_size``, opt-in), and with per-queue plan tasks as well
    (not built)."""
    lines = [f"projection, {queues:,} queues x {scns} scenarios (one forecast group; "
             f"{fixed_s:.1f} s orders model per worker, {forecast_s_per_queue:.3f} s forecast "
             f"per queue, {plan_s_per_queue_scn:.3f} s staffing per queue and scenario, "
             f"{overhead_s * 1000:.0f} ms per task, balanced load, no start-up):",
             f"  {'workers':>7} {'today':>10} {'+chunks':>10} {'+queue plans':>13}"]
    work = queues * forecast_s_per_queue + queues * scns * plan_s_per_queue_scn
    for w in workers:
        f_one = fixed_s + queues * forecast_s_per_queue
        f_chunked = fixed_s + queues * forecast_s_per_queue / w + 2 * overhead_s
        p_scn = math.ceil(scns / w) * queues * plan_s_per_queue_scn + overhead_s
        p_queue = queues * scns * (plan_s_per_queue_scn + overhead_s) / w
        lines.append(f"  {w:7d} {f_one + p_scn:9,.0f}s {f_chunked + p_scn:9,.0f}s "
                     f"{f_chunked + p_queue:12,.0f}s")
    lines.append(f"  total work {work:,.0f} CPU s")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queues", type=int, default=100)
    p.add_argument("--scenarios", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--days", type=int, default=7, help="plan horizon in days (default 7)")
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--chunk-size", type=int, default=None,
                   help="channels per forecast task (default: one task per forecast group)")
    a = p.parse_args(argv)
    # empty synthetic queues make log(0) warnings by the thousand; workers inherit this
    os.environ.setdefault("PYTHONWARNINGS", "ignore::RuntimeWarning")
    warnings.simplefilter("ignore", RuntimeWarning)
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

        ser, w_ser, c_ser, k_ser = _timed(lambda: run_many(scns, engine="serial"))
        loc, w_loc, c_loc, c_kids = _timed(
            lambda: run_many(scns, engine="local", workers=a.workers,
                             chunk_size=a.chunk_size))
        fails = {**ser.failures, **loc.failures}
        if fails:
            print("failures:", *map(str, fails.values()), sep="\n  ")
        print(f"serial:       {w_ser:7.1f} s wall, {c_ser + k_ser:7.1f} s CPU")
        print(f"LocalCluster: {w_loc:7.1f} s wall ({a.workers} workers, cluster start "
              f"included), {c_kids:7.1f} s CPU in workers")
        print(f"speed-up {w_ser / w_loc:.2f}x; results equal to serial: {_equal(ser, loc)}")

        costs = loc.costs
        by = costs.groupby("kind").agg(tasks=("task", "size"), wall_s=("wall_s", "sum"),
                                       cpu_s=("cpu_s", "sum"), max_task_s=("wall_s", "max"))
        by["per_queue_cpu_s"] = by["cpu_s"] / np.where(by.index == "forecast", a.queues,
                                                       a.queues * a.scenarios)
        print("per task kind (LocalCluster):")
        print(by.round(3).to_string())
        mem = costs.groupby("worker")["peak_rss_mb"].max()
        print("peak memory per worker (MB):",
              ", ".join(f"{w.split(':')[-1]} {m:,.0f}" for w, m in mem.items()))
        print(f"this process peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f}"
              " MB")
        fixed, per_queue = orders_and_queue_cost(scns[0])
        print(f"forecast cost split (serial, CPU): {fixed:.1f} s per worker and forecast "
              f"group (orders model), {per_queue:.3f} s per queue")
        print(project(fixed, per_queue, by.loc["plan", "per_queue_cpu_s"]))
        del one
    return 0


if __name__ == "__main__":
    sys.exit(main())
