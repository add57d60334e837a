"""Benchmark: deferred work (email) backlog and required agents over long horizons.

Prints rates (intervals per second) for a year of 15-minute intervals (35,040) with a
daily and seasonal shape, email arriving around the clock and agents working
08:00-22:00, and the speed-up of the vectorised backlog over a plain Python loop
over intervals (the Lindley recursion) that computes the same backlog.

Run: ``python bench/bench_deferred.py`` from the repository root (``make bench``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffing.deferred import deferred_backlog, deferred_required_agents  # noqa: E402

INTERVAL_S = 900.0
AHT_S = 300.0
TARGET_S = 24 * 3600.0


def year_of_email() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = np.arange(96 * 365)
    hour = (k % 96) / 4
    day = k // 96
    intraday = 1 + 0.6 * np.sin(2 * np.pi * (hour - 8) / 24)
    season = 1 + 0.5 * np.exp(-(((day - 330) / 12) ** 2))  # a November peak
    volume = 40 * intraday * season
    is_open = (hour >= 8) & (hour < 22)
    return volume, is_open, day


def best_of(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def loop_backlog(volume: np.ndarray, agents: np.ndarray) -> np.ndarray:
    q, out = 0.0, []
    for v, a in zip(volume.tolist(), agents.tolist(), strict=True):
        q = max(q + v * AHT_S - a * INTERVAL_S, 0.0)
        out.append(q / AHT_S)
    return np.array(out)


def main() -> None:
    volume, is_open, day = year_of_email()
    n = volume.size
    agents = deferred_required_agents(volume, AHT_S, INTERVAL_S, TARGET_S, is_open, day)

    t_vec = best_of(lambda: deferred_backlog(volume, AHT_S, INTERVAL_S, agents))
    t_loop = best_of(lambda: loop_backlog(volume, agents))
    same = np.allclose(
        deferred_backlog(volume, AHT_S, INTERVAL_S, agents)["backlog_items"],
        loop_backlog(volume, agents),
        atol=1e-6,
    )
    print(f"deferred_backlog, {n} intervals: {n / t_vec:,.0f} intervals/s")
    print(f"  vs a Python loop (backlog only): {t_loop / t_vec:.1f}x, same backlog: {same}")

    t_one = best_of(lambda: deferred_required_agents(volume, AHT_S, INTERVAL_S, TARGET_S, is_open))
    print(f"deferred_required_agents, one level, {n} intervals: {n / t_one:,.0f} intervals/s")
    quarter = slice(0, 96 * 91)
    t_q = best_of(
        lambda: deferred_required_agents(
            volume[quarter], AHT_S, INTERVAL_S, TARGET_S, is_open[quarter], day[quarter]
        )
    )
    print(f"deferred_required_agents, daily levels, 13 weeks: {96 * 91 / t_q:,.0f} intervals/s")
    t_day = best_of(
        lambda: deferred_required_agents(volume, AHT_S, INTERVAL_S, TARGET_S, is_open, day),
        repeat=1,
    )
    print(f"deferred_required_agents, daily levels, full year: {n / t_day:,.0f} intervals/s")
    print(f"  peak-day level {agents.max()} agents, quiet-day level {agents[agents > 0].min()}")


if __name__ == "__main__":
    main()
