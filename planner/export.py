"""Export a shift plan for a rostering system: CSV and an Excel workbook.

Why it is long: every file that leaves the planner (CSV and workbook, plan, capacity,
frontier, simulation and roster sheets) goes through the one formula-safe, atomic writer
defined here, so no export can bypass it.

The CSV has one header row and one row per (date, channel, shift, start, break) with ISO
dates (``2024-11-29``) and 24-hour ``HH:MM`` times, the form rostering tools import. The
workbook (openpyxl) holds four sheets: ``Shift plan`` (same columns as the CSV),
``Coverage`` (required vs scheduled agents per interval), ``KPIs`` (by day and channel) and
``Assumptions`` (the parameters the plan was made with).

A result planned per queue (``result.meta["queues"]``) is written queue by queue
(:func:`export_queues`): one shift-plan and one interval file per queue (CSV or Parquet,
under a safe, unique stem of the queue's name, :func:`queue_file_stems`), ``queues.csv``
saying which file holds which queue, and a small roll-up workbook (``rollup.xlsx``: the
summary by queue, channel and total, weekly FTE roll-ups) instead of one workbook of
every interval of every queue.

Every file the project writes for people (these, the CLI's CSVs, the app's downloads and
the comparison workbook) goes through :func:`write_csv` / :func:`csv_bytes` or
:func:`write_workbook` / :func:`workbook_bytes`, which

* write text as text: a string starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading ``'`` (OWASP's rule against CSV/formula injection), so a
  scenario or channel named ``=HYPERLINK(...)`` is never a live formula in Excel or
  LibreOffice, and every workbook string cell is stored as a string (type ``s``);
  numbers stay numbers;
* replace characters a workbook cannot hold (C0 control characters other than tab,
  line feed and carriage return) with U+FFFD instead of failing half-way, and write
  line breaks as LF (a CSV writer quotes a field with LF, not one with a lone CR);
* write atomically: into a temporary file next to the target, renamed over it only
  when complete, so a failed export leaves no partial file.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from planner.progress import Progress
from planner.queues import result_queues, rollup, weekly_rollup
from staffing.frames import COVERAGE_NEEDS, SHIFT_PLAN, SHIFT_PLAN_CONTRACT, with_gap

__all__ = [
    "EXPORT_COLUMNS",
    "FORMULA_PREFIXES",
    "FULL_WORKBOOK_QUEUES",
    "ExportError",
    "QUEUE_FORMATS",
    "atomic_path",
    "capacity_tables",
    "csv_bytes",
    "export_csv",
    "export_excel",
    "export_queues",
    "plan_tables",
    "plan_workbook_tables",
    "queue_file_stems",
    "queue_files",
    "queue_tables",
    "queue_zip_bytes",
    "rollup_tables",
    "roster_tables",
    "safe_frame",
    "safe_text",
    "shift_plan_table",
    "staging_dir",
    "workbook_bytes",
    "write_csv",
    "write_workbook",
]

#: A cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

EXPORT_COLUMNS = list(SHIFT_PLAN)
SHEETS = ("Shift plan", "Coverage", "KPIs", "Assumptions")


class ExportError(ValueError):
    """The frame to export lacks a required column (named in the message)."""


# ---------------------------------------------------------------- safe, atomic writers
def safe_text(value: object, quote: bool = True) -> object:
    """``value`` as a spreadsheet cell shows it: strings never start a formula.

    Non-strings are returned unchanged (numbers stay numbers). ``quote=False`` keeps the
    text as it is but for control characters: for workbooks, whose text cells are typed
    as text and marked "quote prefix" (shown as typed, never evaluated, see
    :func:`write_workbook`); CSV has no types, so there a leading quote (OWASP).

    Examples
    --------
    >>> [safe_text(v) for v in ("=1+1", "-2+3", "@sum(A1)", "\\tx", "chat", -2.5)]
    ["'=1+1", "'-2+3", "'@sum(A1)", "'\\tx", 'chat', -2.5]
    """
    if not isinstance(value, str):
        return value
    formula = value.startswith(FORMULA_PREFIXES)
    # A lone CR is a line break a CSV writer does not quote: write every break as LF.
    value = _UNWRITABLE.sub("\ufffd", value.replace("\r\n", "\n").replace("\r", "\n"))
    return "'" + value if formula and quote else value


def safe_frame(frame: pd.DataFrame, quote: bool = True) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_text` applied to every text cell and header."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.CategoricalDtype) or not (
            pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
            or pd.api.types.is_timedelta64_dtype(series)
        ):
            out[col] = series.astype(object).map(lambda v: safe_text(v, quote))
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.MultiIndex.from_tuples(
            [tuple(safe_text(x, quote) for x in c) for c in out.columns]
        )
    else:
        out.columns = [safe_text(c, quote) for c in out.columns]
    return out


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path next to ``path``, renamed over it when the block succeeds.

    On an exception the temporary file is removed and ``path`` keeps its old content
    (or stays absent).
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def staging_dir(out_dir: str | os.PathLike) -> Iterator[Path]:
    """A temporary folder whose files land in ``out_dir`` only when the block succeeds.

    A new ``out_dir`` is staged next to it and renamed into place; files for an
    existing ``out_dir`` are staged inside it and each renamed over its target. On an
    exception nothing is left behind (not even a new, empty ``out_dir``).
    """
    out = Path(out_dir)
    fresh = not out.exists()
    parent = out.parent if fresh else out
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name or 'out'}.", suffix=".tmp", dir=parent))
    try:
        yield tmp
        if fresh:
            os.replace(tmp, out)
        else:
            for f in sorted(tmp.iterdir()):
                os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def csv_bytes(frame: pd.DataFrame, **to_csv: object) -> bytes:
    """``frame`` as UTF-8 CSV bytes (no index), text cells made safe (:func:`safe_text`).

    Examples
    --------
    >>> csv_bytes(pd.DataFrame({"channel": ["=1+1", "chat"], "agents": [-2, 3]})).decode()
    "channel,agents\\n'=1+1,-2\\nchat,3\\n"
    """
    to_csv.setdefault("index", False)
    to_csv.setdefault("lineterminator", "\n")
    return safe_frame(frame).to_csv(**to_csv).encode("utf-8")


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, **to_csv: object) -> Path:
    """Write :func:`csv_bytes` of ``frame`` to ``path`` atomically; returns the path."""
    data = csv_bytes(frame, **to_csv)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _write_workbook(target: object, tables: Mapping[str, pd.DataFrame], styled: bool) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    # Not a ``with`` block: on an error ExcelWriter's exit would still try to save the
    # half-built workbook and raise a second, misleading error.
    writer = pd.ExcelWriter(target, engine="openpyxl")
    for name, frame in tables.items():
        sheet = str(name)[:31]
        safe_frame(frame, quote=False).to_excel(writer, sheet_name=sheet, index=False)
        ws = writer.sheets[sheet]
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
                    if cell.value.startswith(FORMULA_PREFIXES):
                        cell.quotePrefix = True  # and kept as text when edited
        if not styled:
            continue
        ws.freeze_panes = "A2"
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for col in ws.columns:
            head = col[0]
            if head.value in _TEXT_ON_PURPOSE and len(col) > 1 and isinstance(col[1].value, str):
                head.comment = Comment(_TEXT_ON_PURPOSE[head.value], "Peak Planner")
            width = max(len(str(c.value)) if c.value is not None else 0 for c in col[:200])
            ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 40)
            _number_formats(col)
    writer.close()


#: Header notes of the text columns rostering systems import as written.
_TEXT_ON_PURPOSE = {
    "date": "ISO date as text (YYYY-MM-DD) on purpose: rostering systems import it as written.",
    "week_start": "ISO date as text (YYYY-MM-DD) on purpose: rostering systems import it as "
                  "written.",
    **{c: "24-hour time as text (HH:MM) on purpose: rostering systems import it as written; "
          "a time on the next day ends in +1." for c in
       ("shift_start", "shift_end", "break_start", "break_end", "time")},
}
#: Columns holding shares (0..1), shown as percentages in styled workbooks.
def _share_columns() -> frozenset[str]:
    from planner.labels import PERCENT_COLUMNS, header

    core = PERCENT_COLUMNS | {"target_sl", "shrinkage", "automation", "contact_rate",
                              "max_occupancy"}
    return frozenset(core | {header(c) for c in core})  # names and headers in words


#: Columns (core names or headers in words) of shares: written as percentages.
SHARE_COLUMNS = _share_columns()


def _number_formats(col: tuple) -> None:
    """Readable number formats for one column of a styled sheet: percentages for shares,
    thousands separators for numbers, dates (and times when not midnight) for dates."""
    import datetime as dt

    header = col[0].value
    for cell in col[1:]:
        v = cell.value
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, dt.datetime):
            midnight = (v.hour, v.minute, v.second) == (0, 0, 0)
            cell.number_format = "yyyy-mm-dd" if midnight else "yyyy-mm-dd hh:mm"
        elif isinstance(v, dt.date):
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(v, (int, float)):
            if header in SHARE_COLUMNS:
                cell.number_format = "0.0%"
            elif isinstance(v, int):
                cell.number_format = "#,##0"
            else:
                cell.number_format = "#,##0.0#"


def workbook_bytes(tables: Mapping[str, pd.DataFrame], styled: bool = False) -> bytes:
    """An ``.xlsx`` workbook (bytes), one sheet per table (names cut to 31 characters).

    Text cells are made safe (:func:`safe_text`) and stored as strings; ``styled`` bolds
    and freezes the header row and sizes the columns.
    """
    buf = io.BytesIO()
    _write_workbook(buf, tables, styled)
    return buf.getvalue()


def write_workbook(
    path: str | os.PathLike, tables: Mapping[str, pd.DataFrame], styled: bool = True
) -> Path:
    """Write :func:`workbook_bytes` to ``path`` atomically; returns the path."""
    data = workbook_bytes(tables, styled)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _hhmm(values: pd.Series, day: pd.Series) -> list[str]:
    """``HH:MM`` of each timestamp; a time on the next day is written ``24:00``/``06:00+1``.

    The day offset is a suffix, so no cell starts with ``+`` (a spreadsheet would read it as
    a formula, and the safe writers would have to prefix it with an apostrophe).
    """
    out = []
    for ts, d in zip(pd.to_datetime(values), day, strict=True):
        if pd.isna(ts):
            out.append("")
            continue
        days = (ts.normalize() - d).days
        text = ts.strftime("%H:%M")
        if days == 1 and text == "00:00":
            text = "24:00"
        elif days:
            text = f"{text}+{days}"
        out.append(text)
    return out


def shift_plan_table(shift_plan: pd.DataFrame) -> pd.DataFrame:
    """The shift plan with ISO dates and ``HH:MM`` times (strings), ready to write.

    Parameters
    ----------
    shift_plan : DataFrame
        ``date, channel, shift_start, shift_end, break_start, agents`` (timestamps), as
        ``ShiftPlan.shift_plan``; ``shift``, ``break_end`` and ``paid_hours`` are optional.

    Returns
    -------
    DataFrame
        Columns ``date, channel, shift, shift_start, shift_end, break_start, break_end,
        agents, paid_hours``; times of a shift ending at midnight read ``24:00``.

    Raises
    ------
    ExportError
        A required column is missing.

    Examples
    --------
    >>> sp = pd.DataFrame({"date": [pd.Timestamp("2024-11-29")], "channel": ["voice"],
    ...     "shift_start": [pd.Timestamp("2024-11-29 16:00")],
    ...     "shift_end": [pd.Timestamp("2024-11-30 00:00")],
    ...     "break_start": [pd.Timestamp("2024-11-29 19:30")], "agents": [3]})
    >>> shift_plan_table(sp)[["date", "shift_start", "shift_end", "break_start"]].iloc[0].tolist()
    ['2024-11-29', '16:00', '24:00', '19:30']
    """
    need = set(SHIFT_PLAN_CONTRACT)
    missing = need - set(shift_plan.columns)
    if missing and shift_plan.empty and len(shift_plan.columns) == 0:
        return pd.DataFrame(columns=EXPORT_COLUMNS)  # a version saved without results
    if missing:
        raise ExportError(f"shift_plan is missing column(s) {sorted(missing)}")
    sp = shift_plan.sort_values(["date", "channel", "shift_start"], kind="stable")
    day = pd.to_datetime(sp["date"]).dt.normalize()
    out = pd.DataFrame(
        {
            "date": day.dt.strftime("%Y-%m-%d").to_numpy(),
            "channel": sp["channel"].astype(str).to_numpy(),
            "shift": sp["shift"].astype(str).to_numpy() if "shift" in sp else "",
            "shift_start": _hhmm(sp["shift_start"], day),
            "shift_end": _hhmm(sp["shift_end"], day),
            "break_start": _hhmm(sp["break_start"], day),
            "break_end": _hhmm(sp["break_end"], day) if "break_end" in sp else "",
            "agents": sp["agents"].astype(np.int64).to_numpy(),
            "paid_hours": (
                sp["paid_hours"].astype(float).to_numpy() if "paid_hours" in sp else np.nan
            ),
        }
    )
    return out[EXPORT_COLUMNS]


def export_csv(shift_plan: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write the shift plan as CSV (UTF-8, comma, one header row) and return its path.

    Examples
    --------
    >>> import tempfile
    >>> sp = pd.DataFrame({"date": [pd.Timestamp("2024-11-29")], "channel": ["chat"],
    ...     "shift_start": [pd.Timestamp("2024-11-29 08:00")],
    ...     "shift_end": [pd.Timestamp("2024-11-29 16:00")],
    ...     "break_start": [pd.Timestamp("2024-11-29 12:00")], "agents": [4]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print(export_csv(sp, Path(d) / "plan.csv").read_text().splitlines()[1])
    2024-11-29,chat,,08:00,16:00,12:00,,4,
    """
    return write_csv(shift_plan_table(shift_plan), path)


def _coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    need = set(COVERAGE_NEEDS)
    missing = need - set(coverage.columns)
    if missing:
        raise ExportError(f"coverage is missing column(s) {sorted(missing)}")
    ds = pd.to_datetime(coverage["ds"])
    out = pd.DataFrame(
        {
            "date": ds.dt.strftime("%Y-%m-%d").to_numpy(),
            "time": ds.dt.strftime("%H:%M").to_numpy(),
            "channel": coverage["channel"].astype(str).to_numpy(),
            "required": coverage["required"].astype(float).to_numpy(),
            "scheduled": coverage["scheduled"].astype(float).round(3).to_numpy(),
        }
    )
    return with_gap(out, digits=3)


def _kpi_table(kpis: pd.DataFrame) -> pd.DataFrame:
    out = kpis.copy()
    if "date" in out.columns:
        out["date"] = pd.to_datetime(out["date"]).dt.strftime("%Y-%m-%d")
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(4)
    return out


def _assumption_rows(assumptions: Mapping[str, object] | pd.DataFrame | None) -> pd.DataFrame:
    if assumptions is None:
        return pd.DataFrame(columns=["parameter", "value"])
    if isinstance(assumptions, pd.DataFrame):
        return assumptions
    rows = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif hasattr(value, "__dataclass_fields__"):
            for k in value.__dataclass_fields__:  # type: ignore[attr-defined]
                if not k.startswith("_"):
                    walk(f"{prefix}.{k}" if prefix else k, getattr(value, k))
        else:
            rows.append((prefix, value if isinstance(value, (int, float, str)) else str(value)))

    walk("", assumptions)
    return pd.DataFrame(rows, columns=["parameter", "value"])


def export_excel(path: str | os.PathLike, shift_plan: pd.DataFrame, *sheets: object,
                 **named: object) -> Path:
    """Write the plan workbook (the sheets of :func:`plan_tables`, which takes the same
    arguments after ``path``) and return its path."""
    return write_workbook(path, plan_tables(shift_plan, *sheets, **named))  # type: ignore[arg-type]


def plan_workbook_tables(result: object) -> dict[str, pd.DataFrame]:
    """The plan workbook's sheets for a scenario result: the one source of the CLI's
    ``plan.xlsx`` and the app's download.

    :func:`plan_tables` of the result's shift plan, coverage, daily KPIs and scenario,
    with the capacity plan (:func:`planner.capacity.capacity_plan`) when the scenario has
    ``capacity`` settings (and was not planned per queue: the hiring plan is per channel),
    the weekly 5/2 roster when the plan has shifts, and the cost-risk frontier
    (:func:`planner.risk.scenario_frontier`) when it has volumes. A
    ``Summary`` sheet after the four base sheets holds
    :meth:`planner.results.ScenarioResult.plan_summary` with headers in words.
    """
    from planner.risk import scenario_frontier
    from staffing.roster import weekly_roster

    capacity = None
    # the hiring plan is per channel: not made from a run per queue (yet)
    if result.scenario.capacity is not None and len(result.weekly) \
            and not getattr(result, "queues", None):
        from planner.capacity import capacity_plan

        capacity = capacity_plan(result)
    from planner.labels import in_words

    sheets = plan_tables(
        result.shift_plan, result.coverage, result.kpis_daily, result.scenario.to_dict(),
        capacity=capacity,
        frontier=scenario_frontier(result) if len(result.volumes) else None,
        roster=weekly_roster(result.shift_plan) if len(result.shift_plan) else None,
    )
    # the headline figures, for people (headers in words), after the four base sheets
    summary = in_words(result.plan_summary().round(4))
    order = [*SHEETS, "Summary"]
    sheets["Summary"] = summary
    return {k: sheets[k] for k in order} | {k: v for k, v in sheets.items() if k not in order}


def plan_tables(
    shift_plan: pd.DataFrame,
    coverage: pd.DataFrame | None = None,
    kpis: pd.DataFrame | None = None,
    assumptions: Mapping[str, object] | pd.DataFrame | None = None,
    capacity: object | None = None,
    frontier: pd.DataFrame | None = None,
    simulation: object | None = None,
    roster: object | None = None,
) -> dict[str, pd.DataFrame]:
    """The plan workbook's sheets, in order (``{sheet name: table}``).

    Parameters
    ----------
    shift_plan : DataFrame
        As :func:`shift_plan_table`.
    coverage : DataFrame, optional
        ``channel, ds, required, scheduled`` (``ShiftPlan.coverage``).
    kpis : DataFrame, optional
        Daily KPIs (``staffing.kpis.daily_kpis``) or any KPI table.
    assumptions : mapping or DataFrame, optional
        Parameters of the plan; nested mappings and dataclasses (policies, shift rules)
        are flattened into ``parameter, value`` rows (``voice.target_sl``).
    capacity : planner.capacity.CapacityPlan, optional
        Adds the sheets ``Capacity`` (weekly required and available FTE, gap, hires,
        levers, cost) and ``Hiring classes`` (:func:`capacity_tables`).
    frontier : DataFrame, optional
        Adds the sheet ``Cost-risk frontier`` (:func:`planner.risk.scenario_frontier`).
    simulation : planner.simulate.SimulationResult, optional
        Adds the sheets ``Simulation`` and ``Simulation runs`` (:func:`simulation_tables`).
    roster : staffing.roster.Roster, optional
        Adds the sheets ``Weekly roster`` (5/2 lines) and ``Roster headcount``
        (:func:`roster_tables`).

    Returns
    -------
    dict
        Sheets: ``Shift plan``, ``Coverage``, ``KPIs``, ``Assumptions`` (empty ones keep
        their header row), then the capacity, frontier, simulation and roster sheets when
        given (:func:`write_workbook` bolds and freezes the header rows).

    Raises
    ------
    ExportError
        A required column is missing.
    """
    tables = {
        "Shift plan": shift_plan_table(shift_plan),
        "Coverage": (
            _coverage_table(coverage)
            if coverage is not None and not (coverage.empty and len(coverage.columns) == 0)
            else pd.DataFrame(
                columns=["date", "time", "channel", "required", "scheduled", "gap", "short"]
            )
        ),
        "KPIs": _kpi_table(kpis) if kpis is not None else pd.DataFrame(columns=["date"]),
        "Assumptions": _assumption_rows(assumptions),
    }
    sheets = {name: tables[name] for name in SHEETS}
    if capacity is not None:
        sheets.update(capacity_tables(capacity))
    if frontier is not None:
        sheets["Cost-risk frontier"] = frontier_table(frontier)
    if simulation is not None:
        sheets.update(simulation_tables(simulation))
    if roster is not None:
        sheets.update(roster_tables(roster))
    return sheets


def frontier_table(frontier: pd.DataFrame) -> pd.DataFrame:
    """The cost-risk frontier as written to files (floats rounded to 4 decimals)."""
    f = frontier.copy()
    floats = f.select_dtypes(include="floating").columns
    f[floats] = f[floats].round(4)
    return f


def simulation_tables(sim: object) -> dict[str, pd.DataFrame]:
    """A simulation's tables as written to files: ``Simulation`` (daily mean, interval
    and spread per channel, with the analytic KPI and whether it lies inside) and
    ``Simulation runs`` (each replication's daily KPIs); ISO dates, floats rounded.

    ``sim`` is a :class:`planner.simulate.SimulationResult`.
    """
    daily = sim.daily.copy()  # type: ignore[attr-defined]
    cmp_ = sim.comparison  # type: ignore[attr-defined]
    for metric in ("service_level", "abandon_rate"):
        part = cmp_[cmp_["metric"] == metric][["date", "channel", "analytic", "agrees"]]
        part = part.rename(columns={"analytic": f"{metric}_analytic",
                                    "agrees": f"{metric}_inside"})
        daily = daily.merge(part, on=["date", "channel"], how="left")
    out = {}
    for name, frame in (("Simulation", daily),
                        ("Simulation runs", sim.replications)):  # type: ignore[attr-defined]
        f = frame.copy()
        f["date"] = pd.to_datetime(f["date"]).dt.strftime("%Y-%m-%d")
        floats = f.select_dtypes(include="floating").columns
        f[floats] = f[floats].round(4)
        out[name] = f
    return out


def capacity_tables(plan: object) -> dict[str, pd.DataFrame]:
    """A capacity plan's tables as written to files: ``Capacity`` (weekly) and
    ``Hiring classes``, dates as ISO text and floats rounded to 3 decimals.

    ``plan`` is a :class:`planner.capacity.CapacityPlan`.
    """
    out = {}
    for name, frame in (("Capacity", plan.weekly), ("Hiring classes", plan.classes)):
        f = frame.copy()
        for col in ("week", "start", "training_start", "on_floor", "proficient"):
            if col in f.columns:
                f[col] = pd.to_datetime(f[col]).dt.strftime("%Y-%m-%d")
        floats = f.select_dtypes(include="floating").columns
        f[floats] = f[floats].round(3)
        out[name] = f
    return out


def roster_tables(roster: object) -> dict[str, pd.DataFrame]:
    """A weekly 5/2 roster's tables as written to files: ``Weekly roster`` (one row per
    line: ``channel, week_start, line, days_off, mon .. sun`` with ``HH:MM-HH:MM``
    shifts, ``off`` or ``spare``) and ``Roster headcount`` (``channel, week_start,
    headcount, lower_bound, demand_days``); ``week_start`` as ISO text.

    ``roster`` is a :class:`staffing.roster.Roster` (:func:`staffing.roster.weekly_roster`).

    Examples
    --------
    >>> from staffing.roster import weekly_roster
    >>> days = pd.date_range("2024-11-25", periods=7)
    >>> sp = pd.DataFrame({"date": days, "channel": "voice",
    ...     "shift_start": days + pd.Timedelta(hours=8),
    ...     "shift_end": days + pd.Timedelta(hours=16), "agents": [1, 1, 1, 1, 1, 0, 0]})
    >>> t = roster_tables(weekly_roster(sp))["Weekly roster"]
    >>> t.iloc[0][["week_start", "days_off", "mon", "sat"]].tolist()
    ['2024-11-25', 'sat+sun', '08:00-16:00', 'off']
    """
    out = {}
    for name, frame in (("Weekly roster", roster.lines),  # type: ignore[attr-defined]
                        ("Roster headcount", roster.headcount)):  # type: ignore[attr-defined]
        f = frame.copy()
        if "week_start" in f.columns:
            f["week_start"] = pd.to_datetime(f["week_start"]).dt.strftime("%Y-%m-%d")
        out[name] = f
    return out


# ---------------------------------------------------------------- queues, streamed
#: Formats of the per-queue files (:func:`export_queues`).
QUEUE_FORMATS = ("csv", "parquet")
#: From this many queues on, the full plan workbook (every interval of every queue, built
#: with openpyxl at about 0.1-0.2 s a queue) is written only on request; the roll-up
#: workbook and the per-queue files are written instead (the CLI and the app).
FULL_WORKBOOK_QUEUES = 100
#: Names Windows reserves for devices, in any case and with any extension.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                       *(f"lpt{i}" for i in range(1, 10))})
_UNSAFE_NAME = re.compile(r"[^\w\-]+")
_STEM_CHARS = 60


def _stem(name: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKC", str(name))
    text = _UNSAFE_NAME.sub("_", text).strip("_.-") or "queue"
    text = text[:_STEM_CHARS].rstrip("_.-") or "queue"
    return f"q_{text}" if text.split(".")[0].casefold() in _RESERVED else text


def queue_file_stems(names: Iterable[str]) -> dict[str, str]:
    """A safe file-name stem for each queue name, unique even where file systems ignore
    case.

    A stem keeps letters (any script), digits, ``-`` and ``_``; every other run of
    characters (``/``, ``\\``, ``..``, spaces, control characters) becomes one ``_``, and it
    is cut to 60 characters. Names Windows reserves (``CON``, ``NUL``, ``COM1``, ...) get a
    ``q_`` prefix. Names whose stems would collide (``a/b`` and ``a_b``, ``Chat`` and
    ``chat``) each get the first 8 hex digits of the SHA-256 of their name appended, so
    every stem names one queue.

    Examples
    --------
    >>> queue_file_stems(["../x", "CON", "chat-de", "ch\\u00e4t fr"])
    {'../x': 'x', 'CON': 'q_CON', 'chat-de': 'chat-de', 'chät fr': 'chät_fr'}
    """
    import hashlib

    names = list(dict.fromkeys(str(n) for n in names))
    stems = {n: _stem(n) for n in names}
    seen: dict[str, int] = {}
    for s in stems.values():
        seen[s.casefold()] = seen.get(s.casefold(), 0) + 1
    out = {}
    for n, s in stems.items():
        if seen[s.casefold()] > 1:
            s = f"{s}-{hashlib.sha256(n.encode('utf-8')).hexdigest()[:8]}"
        out[n] = s
    if len({s.casefold() for s in out.values()}) != len(out):  # a natural 'x-1a2b3c4d'
        out = {n: f"{s}-{i}" for i, (n, s) in enumerate(out.items())}
    return out


def _positions(frame: pd.DataFrame, column: str = "channel") -> dict[str, np.ndarray]:
    if not len(frame) or column not in frame.columns:
        return {}
    return {str(k): v for k, v in frame.groupby(column, sort=False).indices.items()}


def queue_tables(result: object) -> Iterator[tuple[str, dict[str, pd.DataFrame]]]:
    """Each queue's tables, one queue at a time: ``(queue, {"shift_plan": ...,
    "intervals": ...})``.

    ``shift_plan`` is :func:`shift_plan_table` of the queue's shifts; ``intervals`` is the
    queue's rows of ``result.kpis_interval`` (volume, required and staffed agents,
    achieved service level, ASA, abandonment, occupancy, backlog per interval) as they
    are. Rows are picked by position from one grouping of each frame, so only one
    queue's copy is alive at a time besides the result.
    """
    shifts = result.shift_plan  # type: ignore[attr-defined]
    intervals = result.kpis_interval  # type: ignore[attr-defined]
    at_shift, at_interval = _positions(shifts), _positions(intervals)
    for queue in result_queues(result):
        sp = shifts.iloc[at_shift.get(queue, [])]
        yield queue, {
            "shift_plan": shift_plan_table(sp) if len(shifts.columns) else
            pd.DataFrame(columns=EXPORT_COLUMNS),
            "intervals": intervals.iloc[at_interval.get(queue, [])].reset_index(drop=True),
        }


def queue_files(result: object, fmt: str = "csv", progress: Progress | None = None
                ) -> Iterator[tuple[str, bytes]]:
    """The per-queue files as ``(file name, bytes)``, one queue at a time, after
    ``queues.csv`` (``queue, channel, file_stem``: which file holds which queue).

    Files are ``<stem>_shift_plan.<fmt>`` and ``<stem>_intervals.<fmt>`` with stems from
    :func:`queue_file_stems`. CSV goes through :func:`csv_bytes` (formula-safe text);
    Parquet keeps the types (timestamps, floats) of the frames.

    ``progress(fraction_done, message)`` (:data:`planner.progress.Progress`), if given, is
    called after each queue.

    Raises
    ------
    ExportError
        ``fmt`` is not one of :data:`QUEUE_FORMATS`.
    """
    if fmt not in QUEUE_FORMATS:
        raise ExportError(f"fmt must be one of {list(QUEUE_FORMATS)}, got {fmt!r}")
    queues = result_queues(result)
    stems = queue_file_stems(queues)
    yield "queues.csv", csv_bytes(pd.DataFrame({
        "queue": list(queues), "channel": list(queues.values()),
        "file_stem": [stems[q] for q in queues]}))
    for i, (queue, tables) in enumerate(queue_tables(result), start=1):
        for kind, frame in tables.items():
            if fmt == "csv":
                data = csv_bytes(frame)
            else:
                buf = io.BytesIO()
                frame.to_parquet(buf, index=False)
                data = buf.getvalue()
            yield f"{stems[queue]}_{kind}.{fmt}", data
        if progress is not None:
            progress(i / len(queues), f"Wrote queue {i:,} of {len(queues):,}: {queue}")


def rollup_tables(result: object) -> dict[str, pd.DataFrame]:
    """The roll-up workbook's sheets: ``Summary`` (:func:`planner.queues.rollup`: one row
    per queue, channel and the total, headers in words, rounded to 4 decimals),
    ``Weekly FTE`` (:func:`weekly_rollup`, ISO weeks as text) and ``Queues`` (queue,
    channel, file stem of its per-queue files)."""
    from planner.labels import in_words

    queues = result_queues(result)
    weekly = weekly_rollup(result)
    if len(weekly):
        weekly["week"] = pd.to_datetime(weekly["week"]).dt.strftime("%Y-%m-%d")
    stems = queue_file_stems(queues)
    return {
        "Summary": in_words(rollup(result, queues).round(4)),  # type: ignore[arg-type]
        "Weekly FTE": in_words(weekly.round(4)),
        "Queues": pd.DataFrame({"queue": list(queues), "channel": list(queues.values()),
                                "file_stem": [stems[q] for q in queues]}),
    }


def export_queues(result: object, out_dir: str | os.PathLike, fmt: str = "csv",
                  workbook: bool = True, progress: Progress | None = None) -> list[Path]:
    """Write a queue result's files into ``out_dir``, queue by queue, atomically.

    ``queues.csv`` and the per-queue files of :func:`queue_files`, and (``workbook``)
    ``rollup.xlsx`` of :func:`rollup_tables`. Each file is written as soon as its queue's
    tables are made, so memory holds one queue's tables at a time besides the result;
    the whole set lands in ``out_dir`` only when every file is written
    (:func:`staging_dir`). A result without queues gets one file pair per channel.

    Returns
    -------
    list of Path
        The files written, in order.

    Raises
    ------
    ExportError
        ``fmt`` is not one of :data:`QUEUE_FORMATS`, or a frame lacks a column.
    """
    names = []
    with staging_dir(out_dir) as tmp:
        for name, data in queue_files(result, fmt, progress):
            (tmp / name).write_bytes(data)
            names.append(name)
        if workbook:
            (tmp / "rollup.xlsx").write_bytes(workbook_bytes(rollup_tables(result), styled=True))
            names.append("rollup.xlsx")
    return [Path(out_dir) / n for n in names]


def queue_zip_bytes(result: object, fmt: str = "csv", progress: Progress | None = None
                    ) -> bytes:
    """:func:`queue_files` in one zip archive (deflated), for a download."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in queue_files(result, fmt, progress):
            zf.writestr(name, data)
    return buf.getvalue()
