"""What the command-line subcommands share: exit codes, the progress printer, the files a
run writes, the printed summaries, and reading a scenario file or a saved NAME[@VERSION].

:mod:`planner.cli` parses the command line and dispatches; the subcommands in their own
modules (:mod:`planner.cli_many`, :mod:`planner.cli_report`) take these from here, so no
module of the CLI imports another one back.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from planner.results import ScenarioResult
from planner.scenario import Scenario, load_scenario
from planner.store import Store
from staffing.frames import SHIFT_PLAN_CONTRACT
from staffing.kpis import DAILY_COLUMNS

__all__ = [
    "add_queues_flag",
    "EXIT_DB",
    "EXIT_ERROR",
    "EXIT_INPUT",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "KPIS_DAILY_COLUMNS",
    "SHIFT_PLAN_COLUMNS",
    "Progress",
    "date_only",
    "load_or_run",
    "plan_text",
    "result_text",
    "print_warnings",
    "scenario_file",
    "split_version",
    "summary_text",
    "write_outputs",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INPUT, EXIT_NOT_FOUND, EXIT_DB = 0, 1, 2, 3, 4, 5

KPIS_DAILY_COLUMNS = tuple(DAILY_COLUMNS)
SHIFT_PLAN_COLUMNS = SHIFT_PLAN_CONTRACT

class Progress:
    """Prints one stderr line per new step message, with the overall percentage."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream, self.quiet, self.last = stream, quiet, None

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet or message == self.last:
            return
        self.last = message
        print(f"[{100 * fraction:3.0f}%] {message}", file=self.stream, flush=True)


def write_outputs(result: ScenarioResult, out_dir: str | Path,
                  formats: Sequence[str] = ("csv", "xlsx"), *,
                  full_workbook: bool | None = None,
                  progress: Progress | None = None) -> list[Path]:
    """Write a result's files into ``out_dir`` (created if needed).

    ``csv``: ``kpis_daily.csv`` (columns ``KPIS_DAILY_COLUMNS``), ``shift_plan.csv``
    (``SHIFT_PLAN_COLUMNS``), ``requirements.csv``, ``weekly.csv``; ``xlsx``:
    ``plan.xlsx`` with the sheets of :func:`planner.export.plan_workbook_tables` (the
    app's download is the same workbook). A scenario with ``capacity`` settings adds
    ``capacity_weekly.csv`` and ``capacity_classes.csv`` and the workbook's ``Capacity``
    and ``Hiring classes`` sheets; a result with a shift plan adds the weekly 5/2 roster
    (:func:`staffing.roster.weekly_roster`) as ``roster.csv`` and the sheets ``Weekly
    roster`` and ``Roster headcount``; the workbook also has the ``Cost-risk
    frontier`` sheet (:func:`planner.risk.scenario_frontier`). Returns the written paths.
    All files are written to a staging folder first and moved into ``out_dir`` only
    when every one is complete; text that looks like a formula is written as text
    (:mod:`planner.export`).

    A result planned per queue (:attr:`ScenarioResult.queues`) also gets, queue by queue
    (:func:`planner.export.export_queues`): ``queues/`` with each queue's shift plan and
    intervals (``csv``; ``parquet`` writes them as Parquet) and its index ``queues.csv``,
    and ``rollup.xlsx`` (summary and weekly FTE by queue, channel and total) with
    ``xlsx``. Its ``plan.xlsx`` (every interval of every queue) is written below
    :data:`planner.export.FULL_WORKBOOK_QUEUES` queues or when ``full_workbook`` is True.
    """
    from planner.export import (
        FULL_WORKBOOK_QUEUES,
        export_queues,
        plan_workbook_tables,
        rollup_tables,
        staging_dir,
        workbook_bytes,
        write_csv,
        write_workbook,
    )

    out = Path(out_dir)
    names = []
    queues = result.queues
    if full_workbook is None:
        full_workbook = len(queues) < FULL_WORKBOOK_QUEUES
    tables = plan_workbook_tables(result) if (
        "csv" in formats or ("xlsx" in formats and full_workbook)) else {}
    with staging_dir(out) as tmp:
        if queues and ({"csv", "parquet"} & set(formats)):
            fmt = "parquet" if "parquet" in formats else "csv"
            written = export_queues(result, tmp / "queues", fmt, workbook=False,
                                    progress=progress)
            names += [f"queues/{p.name}" for p in written]
        if queues and "xlsx" in formats:
            (tmp / "rollup.xlsx").write_bytes(workbook_bytes(rollup_tables(result),
                                                             styled=True))
            names.append("rollup.xlsx")
        if "csv" in formats:
            daily = result.kpis_daily
            daily = daily.reindex(columns=list(KPIS_DAILY_COLUMNS))
            plan = result.shift_plan.reindex(columns=list(SHIFT_PLAN_COLUMNS))
            for name, frame in (("kpis_daily", daily), ("shift_plan", plan),
                                ("requirements", result.requirements),
                                ("weekly", result.weekly)):
                write_csv(date_only(frame), tmp / f"{name}.csv")
                names.append(f"{name}.csv")
            if "Capacity" in tables:
                write_csv(tables["Capacity"], tmp / "capacity_weekly.csv")
                write_csv(tables["Hiring classes"], tmp / "capacity_classes.csv")
                names += ["capacity_weekly.csv", "capacity_classes.csv"]
            if "Weekly roster" in tables:
                write_csv(tables["Weekly roster"], tmp / "roster.csv")
                names.append("roster.csv")
        if "xlsx" in formats and full_workbook:
            write_workbook(tmp / "plan.xlsx", tables)
            names.append("plan.xlsx")
    return [out / n for n in names]


_SUMMARY_FORMATS = {
    "volume": "{:,.0f}", "paid_hours": "{:,.0f}", "avg_fte": "{:,.1f}",
    "peak_week_fte": "{:,.1f}", "max_daily_agents": "{:,.0f}", "cost": "{:,.0f}",
    "service_level": "{:.3f}", "asa_s": "{:,.1f}", "abandon_rate": "{:.3f}",
    "max_backlog_items": "{:,.0f}", "max_backlog_age_h": "{:,.1f}",
}


def summary_text(summary: pd.DataFrame) -> str:
    cols = ["channel", *[c for c in _SUMMARY_FORMATS if c in summary.columns]]
    fmt = {c: _SUMMARY_FORMATS[c].format for c in cols[1:]}
    return summary[cols].to_string(index=False, formatters=fmt, na_rep="-")


def add_queues_flag(parser: argparse.ArgumentParser) -> None:
    """``--queues``: print each queue of a plan per queue, not only the roll-ups."""
    parser.add_argument("--queues", action="store_true",
                        help="with a contacts file that has queues: also print each queue "
                             "(default: the roll-ups per channel and in total)")


def result_text(result: ScenarioResult, queues: bool = False) -> str:
    """A run's summary for the terminal: per channel (:meth:`ScenarioResult.summary`), or
    for a run per queue the channel and total roll-ups of :meth:`ScenarioResult.rollup`
    (``queues=True``: the queue rows first). The figures are the core's, only formatted."""
    if not result.queues:
        return summary_text(result.summary())
    r = result.rollup()
    if not queues:
        r = r[r["level"] != "queue"]
    cols = ["level", "name", "channel", "queues",
            *[c for c in _SUMMARY_FORMATS if c in r.columns]]
    fmt = {c: _SUMMARY_FORMATS[c].format for c in cols[4:]}
    return ("Per queue, rolled up per channel and in total (service level, ASA and "
            "abandonment weighted by volume; FTE and cost summed)\n"
            + r[cols].to_string(index=False, formatters=fmt, na_rep="-"))


def plan_text(meta: Mapping[str, Any]) -> str:
    """One line on the shift plan from a result's ``meta``: its quality, paid hours and
    their lower bound (as the Shift plan page shows them), and the agent-hours a headcount
    cap leaves unserved.

    Examples
    --------
    >>> plan_text({"shift_quality": "optimal", "shift_paid_hours": 10985.0,
    ...            "shift_paid_hours_bound": 10959.3, "short_agent_hours": 0.0})
    'Shift plan: optimal; paid hours 10,985 (lower bound 10,959); unserved 0 agent-hours'
    """
    parts = [f"Shift plan: {meta.get('shift_quality', 'n/a')}"]
    if meta.get("shift_paid_hours") is not None:
        bound = meta.get("shift_paid_hours_bound")
        parts.append(f"paid hours {meta['shift_paid_hours']:,.0f} (lower bound "
                     + ("n/a" if bound is None else f"{bound:,.0f}") + ")")
    parts.append(f"unserved {float(meta.get('short_agent_hours') or 0.0):,.0f} agent-hours")
    return "; ".join(parts)


def date_only(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    for col in ("date", "week"):
        if col in f.columns and len(f):
            f[col] = pd.to_datetime(f[col]).dt.strftime("%Y-%m-%d")
    return f


def scenario_file(path: str, tz: str | None) -> Scenario:
    """The scenario file, with ``--tz`` (when given) as its data time zone."""
    scenario = load_scenario(path)
    if tz is None:
        return scenario
    return scenario.model_copy(update={"data": scenario.data.model_copy(update={"timezone": tz})})


def print_warnings(result: ScenarioResult, label: str = "") -> None:
    """One ``warning: ...`` line on stderr per warning of a fresh run."""
    prefix = f"{label}: " if label else ""
    for text in result.meta.get("warnings", []):
        print(f"warning: {prefix}{text}", file=sys.stderr)


def split_version(name: str) -> tuple[str, int | None]:
    if "@" in name:
        base, _, v = name.rpartition("@")
        if v.isdigit():
            return base, int(v)
    return name, None


def load_or_run(spec: str, args: argparse.Namespace, progress: Progress) -> ScenarioResult:
    """A fresh run of a scenario .yaml file, or a saved NAME[@VERSION]."""
    if spec.endswith((".yaml", ".yml")) and Path(spec).exists():
        from planner.pipeline import run

        result = run(scenario_file(spec, args.tz), progress=progress)
        print_warnings(result)
        return result
    base, version = split_version(spec)
    with Store(args.db) as store:
        return store.load(base, version)
