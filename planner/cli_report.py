"""``python -m planner report``: the one-page peak report (:mod:`planner.report`).

Kept apart from :mod:`planner.cli`, which adds the subcommand with
:func:`add_report_parser` and dispatches to :func:`cmd_report`.
"""

from __future__ import annotations

import argparse

__all__ = ["add_report_parser", "cmd_report"]


def add_report_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                      epilog: str) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to the CLI's subparsers."""
    r = sub.add_parser(
        "report", help="one-page peak report (printable HTML) of scenarios",
        description="Write a self-contained, printable HTML page for people who do not "
                    "open the app: scenario names, key assumptions and what differs from "
                    "the baseline, totals, demand by day, FTE by week, service level by "
                    "day, email backlog and hiring (with capacity settings). Every "
                    "charted figure is also written as text in a table.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    r.add_argument("names", nargs="+", metavar="NAME",
                   help="saved scenario NAME (latest version), NAME@VERSION, or a path to a "
                        "scenario .yaml file (run fresh)")
    r.add_argument("--baseline", metavar="NAME", help="label of the baseline (default: the "
                                                       "first NAME)")
    r.add_argument("--tz", metavar="ZONE",
                   help="the centre's time zone for a scenario file's contact history")
    r.add_argument("--out", required=True, metavar="FILE", help="HTML file to write")
    return r


def cmd_report(args: argparse.Namespace, progress: object) -> int:
    """Run ``report``; returns the exit code."""
    from planner.cli_common import EXIT_OK, load_or_run
    from planner.report import write_report

    results = {}
    for spec in args.names:
        result = load_or_run(spec, args, progress)
        label = result.name if spec.endswith((".yaml", ".yml")) else spec
        if label in results:
            label = f"{label}#{len(results) + 1}"
        results[label] = result
    path = write_report(args.out, results, baseline=args.baseline)
    print(f"wrote {path}")
    return EXIT_OK
