"""``python -m planner run-many``: many scenario files at once (:func:`planner.fanout.run_many`).

Kept apart from :mod:`planner.cli`, which adds the subcommand with
:func:`add_run_many_parser` and dispatches to :func:`cmd_run_many`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.cli_common import add_queues_flag

__all__ = ["add_run_many_parser", "cmd_run_many"]


def add_run_many_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                        epilog: str) -> argparse.ArgumentParser:
    """Add the ``run-many`` subcommand to the CLI's subparsers."""
    m = sub.add_parser(
        "run-many", help="run many scenario files at once (Dask: embedded or a cluster)",
        description="Run several scenario files as tasks on Dask distributed: an embedded "
                    "LocalCluster on this machine (one worker process per core, or "
                    "--workers N), or a running Dask scheduler (--address). The results "
                    "equal those of running each file with `run`. A scenario that fails is "
                    "named on stderr and the others still finish (exit code 3 then); on "
                    "Dask, a queue (channel) that fails is named and the scenario's other "
                    "queues are still planned. "
                    "With --cache, results already computed for the same assumptions and "
                    "data files are read back instead of run again.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    m.add_argument("files", nargs="+", metavar="SCENARIO.yaml", help="scenario files (YAML)")
    engine = m.add_mutually_exclusive_group()
    engine.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of the embedded LocalCluster (default: one "
                             "per core)")
    engine.add_argument("--address", metavar="tcp://HOST:PORT",
                        help="address of a running Dask scheduler; its workers must reach "
                             "the data files at the same paths")
    engine.add_argument("--serial", action="store_true",
                        help="one scenario after another in this process, no Dask")
    m.add_argument("--tz", metavar="ZONE",
                   help="the centre's time zone for every scenario's contact history (IANA "
                        "name; overrides data.timezone of the files)")
    m.add_argument("--out", metavar="DIR",
                   help="write each scenario's kpis_daily.csv, shift_plan.csv, "
                        "requirements.csv and weekly.csv into DIR/<scenario name> (a plan "
                        "per queue adds queues/ with each queue's files)")
    m.add_argument("--xlsx", action="store_true",
                   help="with --out, also write each scenario's plan.xlsx (slow for many "
                        "channels; a plan per queue writes rollup.xlsx, and plan.xlsx below "
                        "100 queues)")
    m.add_argument("--cache", metavar="DIR",
                   help="folder of results by content hash: skip scenarios already there")
    add_queues_flag(m)
    return m


def cmd_run_many(args: argparse.Namespace) -> int:
    """Run ``run-many``; returns the exit code (0, or 3 when any scenario failed)."""
    from planner.cli_common import (
        EXIT_INPUT,
        EXIT_OK,
        result_text,
        scenario_file,
        write_outputs,
    )
    from planner.fanout import TaskFailure, progress_bar, run_many

    scenarios: list = []
    failed: list[TaskFailure] = []
    for path in args.files:
        try:
            scenarios.append(scenario_file(path, args.tz))
        except (ValueError, OSError) as exc:
            failed.append(TaskFailure(path, "load", f"{type(exc).__name__}: {exc}"))
    engine = "serial" if args.serial else (args.address or "local")
    runs = run_many(scenarios, engine=engine, workers=args.workers,
                    progress=None if args.quiet else progress_bar(sys.stderr),
                    cache_dir=args.cache)
    for label, result in runs.results.items():
        tag = " (from cache)" if label in runs.cached else ""
        if label in runs.failures:  # some queues failed: the others' result
            tag = f" (without {', '.join(runs.failures[label].channels)}: failed)"
        print(f"Scenario {label}: {result.scenario.horizon.start} .. "
              f"{result.scenario.horizon.end}{tag}")
        print(result_text(result, queues=args.queues))
        print()
        for text in result.meta.get("warnings", []):
            print(f"warning: {label}: {text}", file=sys.stderr)
        if args.out:
            formats = ("csv", "xlsx") if args.xlsx else ("csv",)
            for path in write_outputs(result, Path(args.out) / label, formats=formats):
                print(f"wrote {path}")
    failed += list(runs.failures.values())
    for f in failed:
        print(f"error: {f}", file=sys.stderr)
    part = [label for label in runs.results if label in runs.failures]
    done = len(runs.results) - len(part)
    total = len(runs.results) + len(failed) - len(part)
    some = f", {len(part)} without failed queues" if part else ""
    print(f"{done} of {total} scenarios done{some} ({len(runs.cached)} from cache), "
          f"engine {runs.engine}, {runs.workers} worker(s)")
    return EXIT_INPUT if failed else EXIT_OK
