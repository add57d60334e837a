"""Benchmark: a full scenario run cold, and what-ifs warm (forecast reused).

Runs ``scenarios/base.yaml`` (Q4 2024 of the bundled sample: 92 days, three channels)
with an empty pipeline cache, then what-ifs on the same cache:

* staffing-only, no shift solve (requirements and achieved KPIs per interval; what the
  app's staffing page shows while assumptions are edited);
* staffing-only with the shift solve (one channel's assumption changed: only that
  channel's shifts are solved again, the others come from the cache);
* demand what-if (contact rate overridden: every channel's shifts are solved again);
* one month's what-if (chat automation changed in December only: chat's October and
  November days are taken from the solved day-block cache, December is solved again).

Prints seconds per run and speed-ups over the cold run (best of ``REPEAT`` for the warm
runs). Run: ``python bench/bench_scenarios.py`` from the repository root (``make bench``).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.pipeline import PipelineCache, base_forecast, load_inputs, run  # noqa: E402
from planner.scenario import load_scenario  # noqa: E402

REPEAT = 3


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def best(fn, repeat: int = REPEAT) -> float:
    return min(timed(fn)[0] for _ in range(repeat))


def main() -> None:
    warnings.filterwarnings("ignore")
    base = load_scenario(ROOT / "scenarios" / "base.yaml")
    cache = PipelineCache()

    t_inputs, inputs = timed(lambda: load_inputs(base.data, cache))
    t_fc, _ = timed(lambda: base_forecast(base, inputs, None, cache))
    t_rest, result = timed(lambda: run(base, cache=cache))
    cold = t_inputs + t_fc + t_rest
    n_int = len(result.requirements)
    print(f"full run cold (base.yaml, {base.horizon.days} days, {n_int} channel-intervals): "
          f"{cold:.2f} s = load {t_inputs:.2f} s + forecast {t_fc:.2f} s + "
          f"requirements/shifts/KPIs {t_rest:.2f} s")

    def what_if(changes):
        return lambda: run(base.with_changes(changes), cache=cache)

    no_solve = best(lambda: what_if({"channels.voice.shrinkage": 0.35,
                                     "shifts.solve": False})())
    # each call changes voice shrinkage to a new value: voice shifts re-solved, others cached
    values = iter([0.31, 0.32, 0.33, 0.34, 0.36, 0.37])
    one_channel = best(lambda: what_if({"channels.voice.shrinkage": next(values)})())
    rates = iter([0.050, 0.051, 0.052, 0.053])
    demand = best(lambda: what_if({"contact_rate": next(rates)})())
    shares = iter([0.10, 0.12, 0.14, 0.16])
    month = best(lambda: what_if({"channels.chat.automation": {12: next(shares)}})())

    print(f"staffing-only what-if warm, no shift solve: {no_solve:.2f} s "
          f"({cold / no_solve:.0f}x faster than cold, {n_int / no_solve:,.0f} intervals/s)")
    print(f"staffing-only what-if warm, one channel's shifts re-solved: {one_channel:.2f} s "
          f"({cold / one_channel:.0f}x faster than cold)")
    print(f"demand what-if warm (contact rate), all shifts re-solved: {demand:.2f} s "
          f"({cold / demand:.1f}x faster than cold)")
    print(f"one month's what-if warm (December chat automation), December's chat days "
          f"re-solved: {month:.2f} s ({cold / month:.0f}x faster than cold)")


if __name__ == "__main__":
    main()
