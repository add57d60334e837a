"""Scaling benchmark: cost and memory per queue of one plan, N = 3, 10, 30, 100 queues.

Each N runs in a fresh process: :func:`planner.pipeline.run` (serial, no export) of one
scenario over synthetic queues (the fan-out benchmark's :func:`synthetic_queues`: the
seeded sample's channels split into N queues, each with its channel's settings). The
steps that grow with the queues are timed by wrappers around them (the functions stay
the same): the intraday split (:func:`forecast.intraday.split_intraday`), the AHT forecast
(:func:`forecast.contacts.forecast_aht`), the requirements
(:func:`staffing.requirements.compute_requirements`), the shift solve and the achieved
KPIs.

Prints per N: wall time, time per queue, the steps' times, peak RSS and its increment
over the process before the run (per queue); then the fitted exponent ``b`` of
``time ~ N^b`` (least squares on logs, the whole run and each step; 1 = linear), the
memory per queue (slope of peak RSS against N) and its projection to 1,000 queues against
24 GB; and the deferred sizing rate (:func:`staffing.deferred.deferred_required_agents`,
daily levels, 15-minute email load) over 13 weeks and a year. Times depend on the
machine's other load: read ratios, and run it more than once.

    python bench/bench_scaling.py                      # N = 3, 10, 30, 100; 7-day plan
    python bench/bench_scaling.py --queues 3 10 30     # quicker
    python bench/bench_scaling.py --queues 3 30 300    # more queues
    python bench/bench_scaling.py --deferred-only      # the deferred sizing rates
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

#: Memory of the machine the projection is checked against (GB).
MACHINE_GB = 24.0
#: Steps timed by wrappers: label -> (module, attribute) of the name the caller looks up.
STEPS = {
    "forecast": ("planner.pipeline", "base_forecast"),
    "split_intraday": ("forecast.intraday", "split_intraday"),
    "forecast_aht": ("forecast.contacts", "forecast_aht"),
    "requirements": ("planner.pipeline", "compute_requirements"),
    "shift_solve": ("planner.pipeline", "solve_shifts_cached"),
    "kpis": ("planner.pipeline", "achieved_kpis"),
}


def _rss_mb() -> float:
    """Resident memory of this process now (MB)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu() -> float:
    """CPU seconds of this process and its ended children (the sampler of some models):
    less sensitive than wall time to the machine's other load."""
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def _wrap(times: dict[str, float], label: str, module: str, attr: str) -> None:
    import importlib

    mod = importlib.import_module(module)
    fn = getattr(mod, attr)

    def timed(*args, **kwargs):
        t0 = _cpu()
        try:
            return fn(*args, **kwargs)
        finally:
            times[label] = times.get(label, 0.0) + _cpu() - t0

    setattr(mod, attr, timed)


def one_run(n_queues: int, days: int, seed: int, data_dir: Path) -> dict:
    """One plan of ``n_queues`` queues (data already in ``data_dir``), in this process."""
    from bench_fanout import scenarios

    from planner.fanout import peak_rss_mb
    from planner.pipeline import PipelineCache, run

    owner = json.loads((data_dir / "owner.json").read_text())
    scn = scenarios(owner, data_dir, 1, days)[0]
    times: dict[str, float] = {}
    for label, (module, attr) in STEPS.items():
        _wrap(times, label, module, attr)
    before = _rss_mb()
    t0, c0 = time.perf_counter(), _cpu()
    result = run(scn, cache=PipelineCache())
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    peak = peak_rss_mb()  # this process's own (ru_maxrss keeps the parent's peak)
    return {"queues": n_queues, "wall_s": wall, "cpu_s": cpu, "steps": times,
            "rss_before_mb": before, "peak_mb": peak, "rows": int(len(result.requirements))}


def _child(n_queues: int, days: int, seed: int) -> dict:
    """Write the synthetic data, then run the plan in a fresh process."""
    from bench_fanout import synthetic_queues

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        owner = synthetic_queues(n_queues, seed, d)
        (d / "owner.json").write_text(json.dumps(owner))
        env = {**os.environ, "PYTHONWARNINGS": "ignore::RuntimeWarning"}
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n_queues), "--days", str(days),
             "--seed", str(seed), "--data", str(d)],
            capture_output=True, text=True, env=env, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"run with {n_queues} queues failed:\n{out.stderr[-3000:]}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def exponent(n: list[float], t: list[float]) -> float:
    """``b`` of the least-squares fit ``log t = a + b log n``."""
    n_, t_ = np.log(np.asarray(n, float)), np.log(np.maximum(np.asarray(t, float), 1e-9))
    return float(np.polyfit(n_, t_, 1)[0]) if len(n_) > 1 else float("nan")


def email_load(days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """15-minute email arrivals around the clock with a daily and a November peak shape,
    agents working 08:00-22:00 (as ``bench_deferred``), ``days`` long."""
    k = np.arange(96 * days)
    hour = (k % 96) / 4
    day = k // 96
    intraday = 1 + 0.6 * np.sin(2 * np.pi * (hour - 8) / 24)
    season = 1 + 0.5 * np.exp(-(((day % 365 - 330) / 12) ** 2))
    return 40 * intraday * season, (hour >= 8) & (hour < 22), day


def deferred_rates(repeat: int = 5) -> None:
    from staffing.deferred import deferred_required_agents

    rates = {}
    for label, days in (("13 weeks", 91), ("a year", 365), ("two years", 730)):
        vol, is_open, day = email_load(days)
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            deferred_required_agents(vol, 300.0, 900.0, 24 * 3600.0, is_open, day)
            best = min(best, time.perf_counter() - t0)
        rates[label] = vol.size / best
        print(f"deferred sizing, daily levels, {label} ({vol.size:,} intervals): "
              f"{rates[label]:,.0f} intervals/s")
    print(f"  rate a year / 13 weeks: {rates['a year'] / rates['13 weeks']:.2f}, two years / "
          f"a year: {rates['two years'] / rates['a year']:.2f} (1 = flat with the horizon; "
          "the 13 weeks hold no peak, a year and two years one a year)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queues", type=int, nargs="+", default=[3, 10, 30, 100])
    p.add_argument("--days", type=int, default=7, help="plan horizon in days (default 7)")
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--deferred-only", action="store_true")
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    if a.one is not None:
        print(json.dumps(one_run(a.one, a.days, a.seed, a.data)))
        return 0
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
          f"{os.cpu_count()} cores")
    if not a.deferred_only:
        runs = []
        print("steps in CPU s (the wrapped function and what it calls)")
        print(f"{'queues':>6} {'wall s':>7} {'CPU s':>7} {'CPU/queue':>9} "
              + " ".join(f"{k:>14}" for k in STEPS) + f" {'peak MB':>8} {'MB/queue':>8}")
        for n in a.queues:
            try:
                r = _child(n, a.days, a.seed)
            except RuntimeError as exc:  # print the failure, go on with the other N
                last = [x for x in str(exc).splitlines() if x.strip()][-1]
                print(f"{n:6d} failed: {last}", flush=True)
                continue
            runs.append(r)
            inc = r["peak_mb"] - r["rss_before_mb"]
            print(f"{n:6d} {r['wall_s']:7.1f} {r['cpu_s']:7.1f} {r['cpu_s'] / n:9.3f} "
                  + " ".join(f"{r['steps'].get(k, 0.0):14.2f}" for k in STEPS)
                  + f" {r['peak_mb']:8,.0f} {inc / n:8.1f}", flush=True)
        ns = [r["queues"] for r in runs]
        for label, sel in (("all N", slice(None)), ("two largest N", slice(-2, None))):
            sub = runs[sel]
            if len(sub) < 2:
                continue
            m = [r["queues"] for r in sub]
            print(f"fitted exponent b of CPU time ~ N^b, {label} (1 = linear; fixed costs "
                  "pull it below 1 at small N):")
            print(f"  whole run {exponent(m, [r['cpu_s'] for r in sub]):.2f} (wall "
                  f"{exponent(m, [r['wall_s'] for r in sub]):.2f}); "
                  + "; ".join(f"{k} {exponent(m, [r['steps'].get(k, 0.0) for r in sub]):.2f}"
                              for k in STEPS))
        if len(runs) > 1:
            slope, base = np.polyfit(ns, [r["peak_mb"] for r in runs], 1)
            t_slope, t_base = np.polyfit(ns, [r["cpu_s"] for r in runs], 1)
            at = base + 1000 * slope
            print(f"memory: {slope:.1f} MB per queue (slope of peak RSS over N), "
                  f"{base:,.0f} MB at N = 0; 1,000 queues: about {at / 1024:.1f} GB of "
                  f"{MACHINE_GB:.0f} GB ({'fits' if at / 1024 < MACHINE_GB else 'does not fit'})")
            print(f"time: {t_slope:.2f} CPU s per queue (slope), 1,000 queues: about "
                  f"{(t_base + 1000 * t_slope) / 60:.1f} CPU min serial")
    deferred_rates()
    return 0


if __name__ == "__main__":
    sys.exit(main())
