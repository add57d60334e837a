"""Benchmark: required agents for a year of 15-minute intervals x 3 channels.

Builds a realistic synthetic year (35,040 intervals per channel: weekly and seasonal
shape with a November/December peak, an intraday curve with morning and evening peaks,
Poisson noise; the busiest channel peaks around 3,000 contacts per interval), times
``staffing.required_agents`` over all 105,120 intervals at once, and times pyworkforce's
``ErlangC.required_positions`` looped over a random sample of the same intervals,
extrapolated to the full year (its loop is far too slow to run in full). Prints the
times, the speed ratio and whether the answers are identical on the compared intervals.

Run: ``python bench/bench_erlang.py`` (``make bench`` runs every bench script).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from staffing import required_agents  # noqa: E402

INTERVAL_S = 900
SAMPLE = 1000  # intervals timed with pyworkforce
CHANNELS = {
    # name: (peak contacts per interval, AHT s, SL target, threshold s)
    "voice": (3000.0, 300.0, 0.80, 20.0),
    "chat_slots": (2600.0, 540.0, 0.80, 60.0),
    "callback": (900.0, 240.0, 0.90, 30.0),
}


def synthetic_year(peak: float, rng: np.random.Generator) -> np.ndarray:
    """Contacts per 15-minute interval for 365 days, peaking near ``peak``."""
    days = np.arange(365)
    weekday = np.array([1.15, 1.08, 1.0, 0.98, 0.95, 0.7, 0.6])[days % 7]
    season = 1.0 + 0.25 * np.sin(2 * np.pi * (days - 80) / 365)
    peak_season = 1.0 + 1.3 * np.exp(-0.5 * ((days - 330) / 12.0) ** 2)  # Nov/Dec
    daily = weekday * season * peak_season
    hours = (np.arange(96) + 0.5) / 4
    intraday = (
        0.02
        + np.exp(-0.5 * ((hours - 10.5) / 1.8) ** 2)
        + 0.8 * np.exp(-0.5 * ((hours - 19.5) / 2.0) ** 2)
    )
    mean = np.outer(daily, intraday).ravel()
    mean *= peak / mean.max()
    return rng.poisson(mean).astype(float)


def main() -> None:
    rng = np.random.default_rng(7)
    vols, ahts, targets, thresholds = [], [], [], []
    for peak, aht, target, threshold in CHANNELS.values():
        v = synthetic_year(peak, rng)
        vols.append(v)
        ahts.append(np.full(v.size, aht))
        targets.append(np.full(v.size, target))
        thresholds.append(np.full(v.size, threshold))
    volume = np.concatenate(vols)
    aht_s = np.concatenate(ahts)
    target = np.concatenate(targets)
    threshold = np.concatenate(thresholds)
    n_int = volume.size
    print(f"intervals: {n_int:,} (35,040 x {len(CHANNELS)} channels), "
          f"peak {volume.max():,.0f} contacts per interval, "
          f"peak traffic {(volume * aht_s / INTERVAL_S).max():,.0f} Erlangs")

    required_agents(volume[:1000], aht_s[:1000], INTERVAL_S, target[:1000], threshold[:1000])
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        ours = required_agents(volume, aht_s, INTERVAL_S, target, threshold)
        runs.append(time.perf_counter() - t0)
    ours_s = min(runs)
    print(f"staffing.required_agents, whole year x 3 channels: {ours_s:.3f} s "
          f"(best of 5; {n_int / ours_s:,.0f} intervals/s), peak {ours.max():,} agents")

    from pyworkforce.queuing import ErlangC

    busy = np.flatnonzero(volume > 0)
    sample = rng.choice(busy, size=min(SAMPLE, busy.size), replace=False)
    answers = []
    t0 = time.perf_counter()
    for i in sample:
        erlang = ErlangC(transactions=volume[i], aht=aht_s[i] / 60,
                         asa=threshold[i] / 60, interval=INTERVAL_S / 60)
        answers.append(erlang.required_positions(target[i])["raw_positions"])
    pw_sample_s = time.perf_counter() - t0
    pw_year_s = pw_sample_s / sample.size * busy.size  # zero-volume intervals cost nothing
    print(f"pyworkforce ErlangC loop: {pw_sample_s:.2f} s for a random sample of "
          f"{sample.size} busy intervals -> extrapolated {pw_year_s:,.0f} s for the "
          f"{busy.size:,} busy intervals of the year")
    print(f"speed ratio (pyworkforce / staffing): {pw_year_s / ours_s:,.0f}x")

    answers = np.array(answers)
    same = answers == ours[sample]
    traffic = volume[sample] * aht_s[sample] / INTERVAL_S
    # pyworkforce starts its search at round(A + 1): above the minimum it cannot go lower
    explained = ~same & (np.round(traffic + 1) > ours[sample])
    print(f"identical answers on {same.sum()} of {sample.size} compared intervals"
          + (f"; {explained.sum()} differ only because pyworkforce starts above the "
             "true minimum" if (~same).any() else ""))
    if (~same & ~explained).any():
        raise SystemExit("unexplained difference from pyworkforce")


if __name__ == "__main__":
    main()
