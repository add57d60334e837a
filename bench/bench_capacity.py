"""Benchmark: the capacity plan of the sample's scenarios against its 5 s budget.

Runs ``scenarios/base.yaml``, ``scenarios/high_cr_fixed_headcount.yaml`` (default
capacity settings: 16 weeks before the horizon, headcount of the first plan week) and
``scenarios/peak_hiring.yaml`` (its own settings, BPO and cross-training on) through the
pipeline, then times :func:`planner.capacity.capacity_plan` alone (the MIP plus the KPI
model where a gap stays open). Checks on the way that the weekly required FTE equals the
plan's weekly FTE week by week. Prints seconds, the ratio to the 5 s budget, the solver
status and the plan's hires.

Run: ``python bench/bench_capacity.py`` from the repository root (``make bench``).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from planner.capacity import capacity_plan  # noqa: E402
from planner.pipeline import run  # noqa: E402
from planner.scenario import load_scenario  # noqa: E402

BUDGET_S = 5.0
SCENARIOS = ("base", "high_cr_fixed_headcount", "peak_hiring")


def main() -> None:
    warnings.filterwarnings("ignore")
    for name in SCENARIOS:
        result = run(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))
        t0 = time.perf_counter()
        plan = capacity_plan(result)
        took = time.perf_counter() - t0
        w = plan.weekly.dropna(subset=["required_fte"])
        ref = result.weekly.sort_values(["week", "channel"])
        got = w.sort_values(["week", "channel"])
        same = np.array_equal(got["required_fte"].to_numpy(), ref["fte"].to_numpy())
        t = plan.totals()
        when = t["latest_decision"]
        decide = "-" if when is None or when is pd.NaT else f"{when:%Y-%m-%d}"
        print(f"{name:<24} {took:5.2f} s = {took / BUDGET_S:4.2f} x budget "
              f"(solver {plan.solve_s:.2f} s, {plan.status}); {len(plan.weekly)} week-channels, "
              f"{t['hires']} hires in {t['classes']} classes, first decision {decide}, "
              f"required = plan FTE week by week: {same}")


if __name__ == "__main__":
    main()
