"""Export benchmark: per-queue CSV and Parquet, the roll-up workbook and the full plan
workbook of a result with N synthetic queues.

The queues are :func:`bench_fanout.synthetic_queues` (the seeded sample split into queues),
planned with :func:`planner.pipeline.run` over ``--days`` days. Prints seconds per queue
and queues per second for :func:`planner.export.export_queues` (CSV, Parquet, with and
without ``rollup.xlsx``) and for the full plan workbook
(:func:`planner.export.plan_workbook_tables` written with openpyxl; its four base sheets
alone as well: shift plan, coverage, KPIs, assumptions), best of ``--repeat``,
and the peak memory each export allocates on top of the result (tracemalloc, one run).

    python bench/bench_export.py                 # 20 queues, 7 days
    python bench/bench_export.py --queues 100 --days 14
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_fanout import synthetic_queues  # noqa: E402

from planner.export import (  # noqa: E402
    export_queues,
    plan_tables,
    plan_workbook_tables,
    write_workbook,
)
from planner.pipeline import run  # noqa: E402
from planner.queues import queue_scenario  # noqa: E402
from planner.scenario import Scenario  # noqa: E402


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def peak_mb(fn) -> float:
    """Peak memory allocated while ``fn`` runs (tracemalloc), in MB."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queues", type=int, default=20)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        owner = synthetic_queues(args.queues, 7, root, start="2023-01-01", end="2024-12-31")
        s = Scenario()
        s = s.with_changes({"data.orders": str(root / "orders.csv"),
                            "data.contacts": str(root / "contacts.parquet"),
                            "data.events": str(root / "events.csv"),
                            "horizon.end": s.horizon.start + dt.timedelta(days=args.days - 1)})
        t = time.perf_counter()
        result = run(queue_scenario(s, owner))
        plan_s = time.perf_counter() - t
        result.meta["queues"] = dict(owner)  # as the pipeline records it for queue data
        n = len(owner)
        print(f"{n} queues x {args.days} days: plan {plan_s:.1f} s, "
              f"{len(result.kpis_interval):,} interval rows, "
              f"{len(result.shift_plan):,} shift rows")
        rows = [
            ("per-queue CSV", lambda: export_queues(result, root / "csv", "csv", False)),
            ("per-queue Parquet", lambda: export_queues(result, root / "pq", "parquet", False)),
            ("per-queue CSV + rollup.xlsx", lambda: export_queues(result, root / "both")),
            ("plan workbook, base sheets",
             lambda: write_workbook(root / "base.xlsx", plan_tables(
                 result.shift_plan, result.coverage, result.kpis_daily,
                 result.scenario.to_dict()))),
            ("full plan workbook (openpyxl)",
             lambda: write_workbook(root / "plan.xlsx", plan_workbook_tables(result))),
        ]
        base = None
        for label, fn in rows:
            try:
                sec = best(fn, args.repeat)
            except ValueError as exc:  # a core error: say it, measure the rest
                print(f"{label:32s} failed: {exc}")
                continue
            base = base or sec
            mb = peak_mb(fn)
            print(f"{label:32s} {sec:7.2f} s  {1000 * sec / n:7.1f} ms/queue  "
                  f"{n / sec:8.1f} queues/s  x{sec / base:5.1f} of CSV  "
                  f"peak +{mb:7.1f} MB")


if __name__ == "__main__":
    main()
