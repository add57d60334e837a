"""Weekly 5/2 roster: turn daily shift counts into shift lines with two days off each.

For each channel and week (Monday to Sunday) the day's demand ``D_d`` is the number of
agents starting a shift that day (from :func:`staffing.shifts.solve_shifts`). A *line* is
one agent's week: five working days and two days off (consecutive by default). The
headcount is the fewest lines covering every day, an integer programme over the 7 (or 21)
day-off patterns solved with CP-SAT::

    minimise sum_p n_p   subject to   sum_{p works d} n_p >= D_d  for every day d

Then each working line gets one of that day's shifts, earliest shifts to the lowest line
numbers, so a line tends to keep similar start times; lines left over on a day are
``"spare"`` (the price of two days off: headcount x 5 >= sum of daily demand).

References
----------
Baker, K. R. (1974). Scheduling full-time and part-time staff to meet cyclic requirements.
*Operational Research Quarterly* 25(1), 65-76 (the days-off bound
``max(max_d D_d, ceil(sum_d D_d / 5))``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

__all__ = ["Roster", "RosterError", "day_off_patterns", "min_lines", "weekly_roster"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class RosterError(ValueError):
    """Bad input to the roster (the message names the column or parameter)."""


def day_off_patterns(consecutive: bool = True) -> np.ndarray:
    """Working-day patterns (rows, Monday first, 1 = works) with two days off.

    ``consecutive=True`` gives the 7 patterns whose days off are adjacent (Sunday-Monday
    included); ``False`` all 21 pairs.
    """
    if consecutive:
        pairs = [(d, (d + 1) % 7) for d in range(7)]
    else:
        pairs = list(itertools.combinations(range(7), 2))
    out = np.ones((len(pairs), 7), dtype=np.int64)
    for i, (a, b) in enumerate(pairs):
        out[i, [a, b]] = 0
    return out


def min_lines(demand, consecutive: bool = True, time_limit_s: float = 5.0) -> np.ndarray:
    """Fewest 5/2 lines per pattern covering a week's daily demand.

    Parameters
    ----------
    demand : sequence of 7 ints
        Agents needed Monday..Sunday.
    consecutive : bool
        Days off adjacent.

    Returns
    -------
    ndarray of int64
        Lines per pattern of :func:`day_off_patterns` (same order).

    Examples
    --------
    >>> int(min_lines([3] * 7).sum())  # ceil(21 / 5)
    5
    """
    d = np.asarray(demand, dtype=np.int64)
    if d.shape != (7,) or (d < 0).any():
        raise RosterError(f"demand must be 7 non-negative integers, got {demand!r}")
    pats = day_off_patterns(consecutive)
    model = cp_model.CpModel()
    ub = int(d.sum())
    n = [model.new_int_var(0, ub, f"p{i}") for i in range(len(pats))]
    for day in range(7):
        model.add(sum(n[i] for i in range(len(pats)) if pats[i, day]) >= int(d[day]))
    model.minimize(sum(n))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RosterError(f"no roster found ({solver.status_name(status)})")
    return np.asarray([solver.value(v) for v in n], dtype=np.int64)


@dataclass(frozen=True)
class Roster:
    """Result of :func:`weekly_roster`.

    Attributes
    ----------
    headcount : DataFrame
        ``channel, week_start, headcount, lower_bound, demand_days`` (agent-days needed),
        ``plan_days`` (days of that week the plan covers) and ``partial`` (fewer than 7:
        the other days count as days off, so the week's headcount is not a full week's).
    lines : DataFrame
        ``channel, week_start, line, days_off, mon .. sun``: each day ``"HH:MM-HH:MM"``
        (the shift), ``"off"`` or ``"spare"``.
    """

    headcount: pd.DataFrame
    lines: pd.DataFrame


def weekly_roster(shift_plan: pd.DataFrame, consecutive: bool = True) -> Roster:
    """Weekly 5/2 shift lines and headcount from a daily shift plan.

    Parameters
    ----------
    shift_plan : DataFrame
        ``date, channel, shift_start, shift_end, agents`` (``ShiftPlan.shift_plan``).
    consecutive : bool
        Two *consecutive* days off per line (default) or any two.

    Returns
    -------
    Roster
        Headcount per channel and week and the shift lines.

    Raises
    ------
    RosterError
        Missing columns.

    Examples
    --------
    >>> days = pd.date_range("2024-11-25", periods=7)
    >>> sp = pd.DataFrame({"date": days, "channel": "voice",
    ...     "shift_start": days + pd.Timedelta(hours=8),
    ...     "shift_end": days + pd.Timedelta(hours=16), "agents": [4, 4, 4, 4, 4, 2, 2]})
    >>> weekly_roster(sp).headcount["headcount"].tolist()  # ceil(24 / 5)
    [5]
    """
    need = {"date", "channel", "shift_start", "shift_end", "agents"}  # no break needed
    missing = need - set(shift_plan.columns)
    if missing:
        raise RosterError(f"shift_plan is missing column(s) {sorted(missing)}")
    sp = shift_plan.copy()
    sp["date"] = pd.to_datetime(sp["date"]).dt.normalize()
    sp["week_start"] = sp["date"] - pd.to_timedelta(sp["date"].dt.day_of_week, unit="D")
    sp["dow"] = sp["date"].dt.day_of_week
    pats = day_off_patterns(consecutive)
    plan_days = set(sp["date"])  # a week missing some of these days is a partial week
    heads, lines = [], []
    for (ch, wk), g in sp.groupby(["channel", "week_start"], sort=True):
        demand = np.zeros(7, dtype=np.int64)
        np.add.at(demand, g["dow"].to_numpy(), g["agents"].to_numpy(dtype=np.int64))
        counts = min_lines(demand, consecutive)
        lb = int(max(demand.max(), -(-demand.sum() // 5)))
        in_plan = sum(wk + pd.Timedelta(days=k) in plan_days for k in range(7))
        heads.append((ch, wk, int(counts.sum()), lb, int(demand.sum()), in_plan, in_plan < 7))
        line_pats = np.repeat(np.arange(len(pats)), counts)
        rows = [
            {"channel": ch, "week_start": wk, "line": i + 1,
             "days_off": "+".join(_DAYS[d] for d in range(7) if not pats[p, d])}
            for i, p in enumerate(line_pats)
        ]
        for day in range(7):
            todays = g[g["dow"] == day].sort_values("shift_start")
            labels = [
                f"{r.shift_start:%H:%M}-{r.shift_end:%H:%M}"
                for r in todays.itertuples()
                for _ in range(int(r.agents))
            ]
            working = [i for i, p in enumerate(line_pats) if pats[p, day]]
            for slot, i in enumerate(working):
                rows[i][_DAYS[day]] = labels[slot] if slot < len(labels) else "spare"
            for i, p in enumerate(line_pats):
                if not pats[p, day]:
                    rows[i][_DAYS[day]] = "off"
        lines += rows
    headcount = pd.DataFrame(
        heads, columns=["channel", "week_start", "headcount", "lower_bound", "demand_days",
                        "plan_days", "partial"]
    )
    cols = ["channel", "week_start", "line", "days_off", *_DAYS]
    return Roster(headcount, pd.DataFrame(lines, columns=cols))
