"""Command line: ``python -m planner COMMAND`` (run, run-many, compare, report, list, restore,
export, today, capacity, simulate).

Why it is long: one argument parser for eleven subcommands, each with its documented
options, and their short dispatch functions; the shared pieces live in
:mod:`planner.cli_common`.

Exit codes (stable, for scripts)
--------------------------------
0  success
1  unexpected internal error (a bug: please report it with the traceback)
2  usage error (unknown command or option, missing argument)
3  invalid input: the scenario file, a field in it, or a data file is wrong
   (the message names the file, field or column)
4  not found: no saved scenario with that name or version
5  database error: the store cannot be opened, upgraded or written

Progress of long steps goes to stderr (one line per step, ``--quiet`` silences it);
results go to stdout. What the run noticed about the data (a channel label that looks like
a typo, channels the scenario does not plan, a stale history) goes to stderr as
``warning: ...`` lines, also with ``--quiet``. ``--tz`` sets the centre's time zone.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from planner.cli_common import (
    EXIT_DB,
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    KPIS_DAILY_COLUMNS,
    SHIFT_PLAN_COLUMNS,
    Progress,
    add_queues_flag,
    date_only,
    load_or_run,
    plan_text,
    print_warnings,
    result_text,
    scenario_file,
    split_version,
    write_outputs,
)
from planner.compare import compare, rounded
from planner.results import ScenarioResult
from planner.store import DB_URL_ENV, DeletedNameError, NotFoundError, Store, StoreError

__all__ = [
    "EXIT_DB",
    "EXIT_ERROR",
    "EXIT_INPUT",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "KPIS_DAILY_COLUMNS",
    "SHIFT_PLAN_COLUMNS",
    "build_parser",
    "capacity_text",
    "plan_text",
    "risk_text",
    "simulation_text",
    "main",
    "write_outputs",
]

_EPILOG = f"""exit codes:
  0  success
  1  unexpected internal error
  2  usage error (unknown command or option, missing argument)
  3  invalid input (scenario file or field, data file; the message names it)
  4  not found (no saved scenario with that name/version)
  5  database error (cannot open, upgrade or write the store)

database: --db URL, else ${DB_URL_ENV}, else the SQLite file peak_planner.db in the
working directory (created on first use)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option documented in ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m planner",
        description="Peak Planner: run, save, compare and export staffing scenarios.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL",
                        help=f"SQLAlchemy database URL of the scenario store (default: "
                             f"${DB_URL_ENV} or sqlite:///peak_planner.db)")
    common.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines on stderr")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="run a scenario YAML file end to end",
                       description="Forecast, staff, schedule and evaluate one scenario; "
                                   "print its summary per channel.",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       parents=[common])
    r.add_argument("scenario", metavar="SCENARIO.yaml", help="scenario file (YAML)")
    _add_tz(r)
    r.add_argument("--save", action="store_true",
                   help="save the scenario and its results as a new version in the store")
    r.add_argument("--note", default="", help="note stored with the saved version (with --save)")
    r.add_argument("--out", metavar="DIR",
                   help="write kpis_daily.csv, shift_plan.csv, requirements.csv, weekly.csv "
                        "and plan.xlsx into DIR; a plan per queue adds queues/ (each "
                        "queue's shift plan and intervals) and rollup.xlsx")
    r.add_argument("--queue-format", choices=("csv", "parquet"), default="csv",
                   help="with --out and a plan per queue: format of the files in queues/ "
                        "(default csv)")
    r.add_argument("--full-workbook", action="store_true",
                   help="with --out: write plan.xlsx even for 100 queues or more (every "
                        "interval of every queue; slow)")
    add_queues_flag(r)

    c = sub.add_parser("compare", help="compare saved scenarios (or YAML files) side by side",
                       description="Side-by-side FTE, cost, service level and backlog, with "
                                   "differences against a baseline.",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       parents=[common])
    c.add_argument("names", nargs="+", metavar="NAME",
                   help="saved scenario NAME (latest version), NAME@VERSION, or a path to a "
                        "scenario .yaml file (run fresh)")
    _add_tz(c)
    c.add_argument("--baseline", metavar="NAME",
                   help="label of the baseline (default: the first NAME)")
    c.add_argument("--worst", type=int, default=5, metavar="N",
                   help="worst intervals listed per scenario and channel (default 5)")
    c.add_argument("--out", metavar="DIR",
                   help="also write the comparison tables as CSV files into DIR")
    add_queues_flag(c)
    c.add_argument("--risk", action="store_true",
                   help="also print each scenario's cost-risk frontier: paid hours against "
                        "the share of intervals and days below target, staffing to the "
                        "mean, the band's upper bound and p = 50..95 %%")

    ls = sub.add_parser("list", help="list saved scenarios",
                        description="Saved scenarios, latest version of each name.",
                        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                        parents=[common])
    ls.add_argument("--all", action="store_true", help="list every version, not only the latest")

    rs = sub.add_parser("restore", help="show a deleted saved scenario again",
                        description="Undo the deletion of a saved scenario (every version).",
                        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                        parents=[common])
    rs.add_argument("name", help="the deleted scenario's name")

    e = sub.add_parser("export", help="export a saved scenario's plan to files",
                       description="Write a saved result's plan and KPIs to CSV or Excel.",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       parents=[common])
    e.add_argument("name", metavar="NAME", help="saved scenario NAME or NAME@VERSION")
    e.add_argument("--format", required=True, choices=("csv", "xlsx", "parquet"),
                   help="csv: kpis_daily, shift_plan, requirements, weekly (and a plan per "
                        "queue's queues/ folder); xlsx: plan.xlsx (a plan per queue: "
                        "rollup.xlsx, and plan.xlsx below 100 queues or with "
                        "--full-workbook); parquet: a plan per queue's queues/ folder as "
                        "Parquet")
    e.add_argument("--full-workbook", action="store_true",
                   help="with --format xlsx: write plan.xlsx even for 100 queues or more")
    e.add_argument("--out", metavar="DIR", default=".",
                   help="directory for the files (default: the working directory)")

    t = sub.add_parser("today", help="the day's actual contacts against a plan",
                       description="Set the contacts seen so far today against a saved "
                                   "scenario's plan (or a YAML run fresh): contacts against "
                                   "plan, the day re-forecast, expected service level and the "
                                   "intervals short of agents in the rest of the day.",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       parents=[common])
    t.add_argument("plan", metavar="NAME",
                   help="saved scenario NAME, NAME@VERSION, or a scenario .yaml file")
    _add_tz(t)
    t.add_argument("--actuals", required=True, metavar="FILE",
                   help="contacts so far (ds, channel, contacts[, aht_s]; CSV, Excel, Parquet)")
    t.add_argument("--now", metavar="HH:MM",
                   help="contacts seen up to this time (default: end of the last interval "
                        "in FILE)")
    t.add_argument("--prior", type=float, default=100.0, metavar="CONTACTS",
                   help="weight of the plan in contacts when learning the ratio (default 100)")
    t.add_argument("--out", metavar="FILE.csv",
                   help="also write the day against plan per interval to FILE.csv")

    k = sub.add_parser("capacity", help="hiring and capacity plan up to and through the peak",
                       description="Weekly FTE the plan needs against the FTE the centre "
                                   "will have (headcount, attrition, recruiting, training, "
                                   "ramp), and the cheapest hiring classes, overtime, BPO and "
                                   "cross-training that close the gap, with the latest date "
                                   "each class can start. Settings: the scenario's capacity "
                                   "section (defaults when it has none).",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       parents=[common])
    k.add_argument("scenario", metavar="SCENARIO",
                   help="scenario .yaml file (run fresh), or saved NAME or NAME@VERSION")
    _add_tz(k)
    k.add_argument("--out", metavar="DIR",
                   help="also write capacity_weekly.csv and capacity_classes.csv into DIR")

    m = sub.add_parser("simulate", help="simulate a plan (discrete-event, replications)",
                       description="Replays the plan's intervals with a discrete-event "
                                   "simulation: arrivals from the forecast's predictive "
                                   "distribution, handle times, patience, chat concurrency, "
                                   "the email backlog carried over, the shift plan's agents "
                                   "after breaks and shrinkage. Prints the daily SL, ASA, "
                                   "abandonment, occupancy and backlog with confidence "
                                   "intervals, and where the analytic KPIs fall outside them.",
                       epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                       parents=[common])
    m.add_argument("scenario", metavar="SCENARIO",
                   help="scenario .yaml file (run fresh), or saved NAME or NAME@VERSION")
    _add_tz(m)
    m.add_argument("--days", nargs=2, metavar=("FIRST", "LAST"),
                   help="inclusive dates YYYY-MM-DD to simulate (default: the whole plan)")
    m.add_argument("--reps", type=int, default=30, metavar="N",
                   help="replications (default 30)")
    m.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    m.add_argument("--demand", choices=("forecast", "mean"), default="forecast",
                   help="arrivals from the predictive distribution (default) or Poisson at "
                        "the expected volume")
    m.add_argument("--handle-cv", type=_handle_cv_arg, default=None, metavar="CV|data",
                   help="lognormal handle times with this coefficient of variation, or "
                        "'data': each channel's cv estimated from how the history's "
                        "interval mean AHTs scatter with their contact counts (a channel "
                        "without aht_s, or whose data cannot tell, stays exponential and "
                        "is named); default: exponential")
    g = m.add_mutually_exclusive_group()
    g.add_argument("--workers", type=_workers_arg, metavar="N",
                   help="run the replications as tasks on a local Dask cluster of N worker "
                        "processes (default: in this process)")
    g.add_argument("--address", metavar="tcp://HOST:PORT",
                   help="run the replications on the Dask scheduler at this address")
    m.add_argument("--out", metavar="DIR",
                   help="also write simulation_daily.csv, simulation_reps.csv and "
                        "simulation.xlsx into DIR")
    from planner.cli_many import add_run_many_parser

    add_run_many_parser(sub, common, _EPILOG)
    from planner.cli_report import add_report_parser

    add_report_parser(sub, common, _EPILOG)
    return p


def _cmd_capacity(args: argparse.Namespace, progress: Progress) -> int:
    from planner.capacity import capacity_plan
    from planner.export import capacity_tables, staging_dir, write_csv

    result = load_or_run(args.scenario, args, progress)
    plan = capacity_plan(result)
    print(capacity_text(result.name, plan))
    if args.out:
        tables = capacity_tables(plan)
        out = Path(args.out)
        with staging_dir(out) as tmp:
            write_csv(tables["Capacity"], tmp / "capacity_weekly.csv")
            write_csv(tables["Hiring classes"], tmp / "capacity_classes.csv")
        for name in ("capacity_weekly.csv", "capacity_classes.csv"):
            print(f"wrote {out / name}")
    return EXIT_OK


def capacity_text(name: str, plan: object) -> str:
    """Plain-text report of a :class:`planner.capacity.CapacityPlan`: by channel, the
    hiring classes and the weeks over all channels."""
    w, k, summ = plan.weekly, plan.classes, plan.summary
    gap = (plan.objective - plan.bound) / plan.objective if plan.objective else 0.0
    lines = [f"{name}: capacity plan, weeks of {w['week'].min():%Y-%m-%d} to "
             f"{w['week'].max():%Y-%m-%d}; solver {plan.status} "
             f"(cost + penalty {plan.objective:,.0f}, at most {100 * gap:.2f} % above the "
             "least possible)", "", "By channel"]
    fmt = {"headcount_today": "{:,.1f}".format, "hiring_cost": "{:,.0f}".format,
           "cost": "{:,.0f}".format, "peak_gap_fte": "{:,.1f}".format,
           "short_fte_weeks": "{:,.1f}".format, "min_service_level": "{:.3f}".format,
           "latest_decision": lambda d: "-" if pd.isna(d) else f"{d:%Y-%m-%d}"}
    lines.append(summ.to_string(index=False, formatters=fmt, na_rep="-"))
    lines += ["", "Hiring classes (start: the latest date the class can still be decided)"]
    if k.empty:
        lines.append("none")
    else:
        cols = ["channel", "start", "training_start", "on_floor", "proficient", "hires"]
        lines.append(_date_only_cols(k[cols]).to_string(index=False))
    lines += ["", "Weeks, all channels (FTE; gap = available - required, before overtime "
                  "and BPO)"]
    planned = w[w["required_fte"].notna()]
    tot = planned.groupby("week").agg(
        required=("required_fte", "sum"), available=("available_fte", "sum"),
        gap=("gap_fte", "sum"), in_training=("in_training", "sum"),
        overtime=("overtime_fte", "sum"), bpo=("bpo_fte", "sum"), short=("short_fte", "sum"),
        cost=("cost", "sum")).reset_index()
    tot["week"] = tot["week"].dt.strftime("%Y-%m-%d")
    lines.append(tot.to_string(index=False, float_format="{:,.1f}".format))
    return "\n".join(lines)


def _date_only_cols(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    for col in f.columns:
        if pd.api.types.is_datetime64_any_dtype(f[col]):
            f[col] = f[col].dt.strftime("%Y-%m-%d")
    return f


def _add_tz(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tz", metavar="ZONE",
        help="the centre's time zone for the contact history (IANA name such as "
             "Europe/Berlin; overrides data.timezone of a scenario file): converts UTC "
             "offsets to local time and sums the hour repeated when daylight saving time ends")


def _cmd_run(args: argparse.Namespace, progress: Progress) -> int:
    from planner.pipeline import run

    scenario = scenario_file(args.scenario, args.tz)
    result = run(scenario, progress=progress)
    print_warnings(result)
    print(f"Scenario {scenario.name}: {scenario.horizon.start} .. {scenario.horizon.end}")
    print(result_text(result, queues=args.queues))
    print(plan_text(result.meta))
    if args.out:
        formats = ("csv", "xlsx") + (("parquet",) if args.queue_format == "parquet" else ())
        for path in write_outputs(result, args.out, formats,
                                  full_workbook=args.full_workbook or None,
                                  progress=progress):
            print(f"wrote {path}")
    if args.save:
        with Store(args.db) as store:
            saved = store.save(result, note=args.note)
        print(f"saved {saved.name} version {saved.version}")
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace, progress: Progress) -> int:
    results: dict[str, ScenarioResult] = {}
    store = None
    try:
        for name in args.names:
            if name.endswith((".yaml", ".yml")) and Path(name).exists():
                from planner.pipeline import run

                result = run(scenario_file(name, args.tz), progress=progress)
                label = result.name
                print_warnings(result, label)
            else:
                store = store or Store(args.db)
                base, version = split_version(name)
                result = store.load(base, version)
                label = name
            if label in results:
                label = f"{label}#{len(results) + 1}"
            results[label] = result
    finally:
        if store is not None:
            store.close()
    comp = compare(results, baseline=args.baseline, worst_n=args.worst)
    print(comp.to_text(queues=args.queues))
    if args.risk:
        print(risk_text(results))
    if args.out:
        from planner.export import staging_dir, write_csv

        out = Path(args.out)
        tables = ("totals", "summary", "weekly", "daily", "backlog", "worst_intervals")
        if len(comp.capacity):
            tables += ("capacity",)
        if comp.has_queues:
            tables += ("rollup",)
        from planner.compare import diff_table

        with staging_dir(out) as tmp:
            write_csv(diff_table(comp.assumptions), tmp / "compare_assumptions.csv")
            for table in tables:
                write_csv(rounded(date_only(getattr(comp, table))), tmp / f"compare_{table}.csv")
        for table in ("assumptions", *tables):
            print(f"wrote {out / f'compare_{table}.csv'}")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        table = store.list(all_versions=args.all)
    if table.empty:
        print("no saved scenarios")
    else:
        print(table.to_string(index=False))
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace) -> int:
    with Store(args.db) as store:
        store.restore(args.name)
    print(f"restored {args.name}")
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    base, version = split_version(args.name)
    with Store(args.db) as store:
        result = store.load(base, version)
    if args.format == "parquet" and not result.queues:
        raise ValueError("--format parquet writes a plan per queue's files; this plan has no "
                         "queues: use --format csv or xlsx")
    for path in write_outputs(result, args.out, formats=(args.format,),
                              full_workbook=args.full_workbook or None):
        print(f"wrote {path}")
    return EXIT_OK


def _cmd_today(args: argparse.Namespace, progress: Progress) -> int:
    from planner.live import day_of, load_day_actuals, result_day_against_plan

    result = load_or_run(args.plan, args, progress)
    actuals = load_day_actuals(args.actuals, int(result.meta["interval_s"]))
    day = day_of(actuals, str(args.actuals))  # LiveError (input) when several days
    now = None
    if args.now:
        try:
            now = day + pd.Timedelta(args.now + ":00")
        except ValueError as exc:
            raise ValueError(f"--now {args.now!r} is not HH:MM") from exc
    view = result_day_against_plan(result, actuals, day=day, now=now,
                                   prior_contacts=args.prior)
    s = view.summary
    table = pd.DataFrame({
        "channel": s["channel"],
        "so_far": s["actual_so_far"].round(0).astype(int),
        "plan_so_far": s["planned_so_far"].round(0).astype(int),
        "vs_plan": [f"{a / p - 1:+.1%}" if p > 0 and rep else "n/a" for a, p, rep in
                    zip(s["actual_so_far"], s["planned_so_far"], s["reported"], strict=True)],
        "day_reforecast": s["reforecast_day"].round(0).astype(int),
        "day_plan": s["planned_day"].round(0).astype(int),
        "sl_expected": s["sl_expected"].map("{:.1%}".format),
        "sl_plan": s["sl_plan"].map("{:.1%}".format),
        "intervals_short": s["intervals_short"],
        "max_short": s["max_short"],
    })
    print(f"{result.name}: {day:%a %Y-%m-%d}, contacts seen up to {view.now:%H:%M}")
    print(table.to_string(index=False))
    if view.ignored:
        print("left out, channels not in the plan: "
              + ", ".join(f"{ch} {n:,.0f}" for ch, n in view.ignored.items()))
    short = view.intervals[~view.intervals["observed"] & (view.intervals["gap"] < 0)]
    if not short.empty:
        print("\nshort in the rest of the day:")
        print(short.assign(time=short["ds"].dt.strftime("%H:%M"), short=-short["gap"])[
            ["channel", "time", "scheduled", "required", "short"]].to_string(index=False))
    if args.out:
        from planner.export import write_csv

        write_csv(view.intervals, args.out)
        print(f"wrote {args.out}")
    return EXIT_OK


def risk_text(results: dict[str, ScenarioResult]) -> str:
    """Each scenario's cost-risk frontier over all channels, and what p80 buys over the
    mean (``"+4.8 % hours buys -24 pt of intervals at risk"``)."""
    from planner.risk import frontier_summary, scenario_frontier

    lines = ["", "Cost-risk frontier (requirement hours, all channels)"]
    for label, result in results.items():
        f = scenario_frontier(result)
        a = f[f["channel"] == "all"]
        table = pd.DataFrame({
            "staff_to": a["staff_to"],
            "paid_hours": a["paid_hours"].map("{:,.0f}".format),
            "intervals_at_risk": a["intervals_at_risk"].map("{:.1%}".format),
            "day_miss": a["day_miss"].map("{:.1%}".format),
            "expected_sl": a["expected_sl"].map("{:.1%}".format),
        })
        lines += [f"{label}: {frontier_summary(f)}", table.to_string(index=False), ""]
    return "\n".join(lines)


def _workers_arg(text: str) -> int:
    """``--workers``: a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return n


def _handle_cv_arg(text: str) -> float | str:
    """``--handle-cv``: ``data`` or a number > 0."""
    if text.strip().lower() == "data":
        return "data"
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected 'data' or a number > 0, got {text!r}")
    return value


def _cmd_simulate(args: argparse.Namespace, progress: Progress) -> int:
    from planner.simulate import scenario_handle_cv, simulate_result

    result = load_or_run(args.scenario, args, progress)
    handle_cv = args.handle_cv
    if handle_cv == "data":
        handle_cv = scenario_handle_cv(result)
        print("handle times: " + ", ".join(
            f"{ch} lognormal cv {cv:.2f} (from the history)" if cv is not None else
            f"{ch} exponential (the history cannot give a cv)"
            for ch, cv in handle_cv.items()))
    sim = simulate_result(result, days=args.days, reps=args.reps, seed=args.seed,
                          demand=args.demand, handle_cv=handle_cv,
                          engine=args.address or ("serial" if args.workers is None else "local"),
                          workers=args.workers,
                          progress=lambda f, msg: progress(f, f"simulating: {msg}"))
    print(simulation_text(result.name, sim))
    if args.out:
        from planner.export import simulation_tables, staging_dir, write_csv, write_workbook

        tables = simulation_tables(sim)
        out = Path(args.out)
        with staging_dir(out) as tmp:
            write_csv(tables["Simulation"], tmp / "simulation_daily.csv")
            write_csv(tables["Simulation runs"], tmp / "simulation_reps.csv")
            write_workbook(tmp / "simulation.xlsx", tables)
        for name in ("simulation_daily.csv", "simulation_reps.csv", "simulation.xlsx"):
            print(f"wrote {out / name}")
    return EXIT_OK


def simulation_text(name: str, sim: object) -> str:
    """Plain-text report of a :class:`planner.simulate.SimulationResult`."""
    d = sim.daily  # type: ignore[attr-defined]
    meta = sim.meta  # type: ignore[attr-defined]
    pct = int(round(100 * meta["level"]))

    def ci(m: str, fmt: str) -> pd.Series:
        return [f"{fmt.format(v)} ({fmt.format(lo)}-{fmt.format(hi)})" if pd.notna(lo)
                else fmt.format(v) for v, lo, hi in zip(d[m], d[f"{m}_lo"], d[f"{m}_hi"],
                                                        strict=True)]

    table = pd.DataFrame({
        "date": pd.to_datetime(d["date"]).dt.strftime("%Y-%m-%d"),
        "channel": d["channel"],
        "offered": d["offered"].round(0).astype(int),
        "service_level": ci("service_level", "{:.1%}"),
        "p_below": d["p_below_target"].map("{:.0%}".format),
        "asa_s": ci("asa_s", "{:,.0f}"),
        "abandon": d["abandon_rate"].map("{:.1%}".format),
        "occupancy": d["occupancy"].map("{:.1%}".format),
        "backlog": d["backlog_items"].round(0).astype(int),
    })
    lines = [f"{name}: simulated {meta['days'][0]}..{meta['days'][1]}, {meta['reps']} "
             f"replications (seed {meta['seed']}, demand {meta['demand']}, "
             f"{meta['contacts']:,} contacts); mean ({pct} % interval)",
             table.to_string(index=False)]
    bad = sim.disagreements()  # type: ignore[attr-defined]
    if len(bad):
        lines.append(f"\nanalytic KPI outside the simulation's {pct} % interval:")
        lines.append(bad.assign(date=pd.to_datetime(bad["date"]).dt.strftime("%Y-%m-%d"))
                     .round(4).to_string(index=False))
    else:
        lines.append(f"\nthe analytic KPIs lie inside the simulation's {pct} % intervals")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or usage error (2)
        return int(exc.code or 0)
    progress = Progress(sys.stderr, args.quiet)
    try:
        if args.command == "run":
            return _cmd_run(args, progress)
        if args.command == "compare":
            return _cmd_compare(args, progress)
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "restore":
            return _cmd_restore(args)
        if args.command == "today":
            return _cmd_today(args, progress)
        if args.command == "capacity":
            return _cmd_capacity(args, progress)
        if args.command == "simulate":
            return _cmd_simulate(args, progress)
        if args.command == "run-many":
            from planner.cli_many import cmd_run_many

            return cmd_run_many(args)
        if args.command == "report":
            from planner.cli_report import cmd_report

            return cmd_report(args, progress)
        return _cmd_export(args)
    except NotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except DeletedNameError as exc:  # the user's choice of name, not the database
        print(f"error: {exc} (python -m planner restore {shlex.quote(exc.name)})",
              file=sys.stderr)
        return EXIT_INPUT
    except (StoreError, SQLAlchemyError) as exc:
        # One line, never the SQL statement or its parameters.
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines() or [repr(exc)]
        print(f"database error: {text[0]}", file=sys.stderr)
        return EXIT_DB
    except ValueError as exc:  # scenario, data, policy and plan errors are ValueErrors
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # noqa: BLE001 - last resort: report, do not hide
        import traceback

        traceback.print_exc()
        print(f"internal error: {exc!r}", file=sys.stderr)
        return EXIT_ERROR
