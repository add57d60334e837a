"""Hiring and capacity plan: who to hire, when, and what else closes the gap.

Why it is long: the weekly supply model (attrition, training, ramp) and the hiring
optimisation built on it share the same arrays and indices.

A peak is won or lost months before it starts: a new agent needs weeks of recruiting and
weeks of training, is slower for the first weeks on the floor, and some agents leave every
week. :func:`capacity_plan` sets the weekly FTE a scenario's plan needs (the ``fte``
column of :attr:`~planner.results.ScenarioResult.weekly`, one number from one source)
against the FTE the centre will have, and chooses the cheapest mix of hiring classes,
overtime, outsourcing (BPO) and cross-training that closes the gap, with understaffing
allowed at a penalty and reported.

Timeline of one hiring class (weeks from its start ``s``, the decision date)::

    s ........ s+L ........ s+L+T ...... s+L+T+len(ramp) ...
    recruiting  training      on the floor, ramping   proficient
    (no pay)    (paid, 0 %)   (ramp[0], ramp[1], ...)  (100 %)

Attrition ``a`` per week applies to everyone employed (from the start of training): of
``n`` hires, ``n (1 - a)^k`` are still there ``k`` weeks after training starts; today's
headcount ``H0`` is ``H0 (1 - a)^t`` after ``t`` weeks. A class's output in week ``t``
is ``n (1 - a)^(t - s - L) p(t - s - L - T)`` with ``p(k) = 0`` before the floor,
``ramp[k]`` while ramping and 1 after.

The optimisation (a small MIP, OR-Tools with SCIP; deterministic, no time limit)
--------------------------------------------------------------------------------
Per channel ``c`` and week ``t`` of the plan:

    available[c, t] + overtime[c, t] + bpo[c, t] + short[c, t] >= required[c, t]
    overtime[c, t] <= overtime_cap * available[c, t]
    sum_c bpo[c, t] <= bpo_fte
    classes[c, s] * class_min <= hires[c, s] <= classes[c, s] * class_max
    sum_c classes[c, s] <= classes_per_week          (hires, classes integer)

``available`` is linear in the hires (the class output above) and in the agents moved
between channels (cross-training: they leave one channel at once and work in the other
after ``cross_training_weeks``, at full proficiency). Cost, minimised: cost per hire, the
new hires' wages from the start of training to the end of the plan, overtime hours at
``1 + overtime_premium`` times the channel's hourly cost, BPO hours at their own price,
cross-training per agent moved, plus ``short_penalty_per_hour`` for every FTE-hour left
short (reported apart from the cost). Wages make a later class cheaper than an earlier
one, so each class in the plan starts as late as it can: its start is the **latest date
the decision can still be taken** without leaving a gap (or paying more for other levers).

Where the levers cannot close the gap, :func:`capacity_plan` scales the plan's scheduled
agents in those weeks to what is there and runs the KPI model
(:func:`staffing.kpis.achieved_kpis`, queues carried over) to report the service that
staffing would deliver.

Examples
--------
>>> import pandas as pd
>>> req = pd.DataFrame({"week": pd.date_range("2024-01-01", periods=6, freq="W-MON"),
...                     "channel": "chat", "required_fte": [10, 10, 10, 10, 18, 18.0]})
>>> s = CapacitySettings(headcount={"chat": 10}, attrition_weekly=0.0, recruiting_weeks=1,
...                      training_weeks=2, ramp=(), class_min=1, class_max=20,
...                      overtime_cap=0.0, cost_per_hire=100.0)
>>> plan = plan_capacity(req, s, cost_per_hour={"chat": 20.0}, fte_hours_per_week=40.0)
>>> plan.classes[["channel", "start", "on_floor", "hires"]]
  channel      start   on_floor  hires
0    chat 2024-01-08 2024-01-29      8
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.capacity_settings import CapacitySettings

if TYPE_CHECKING:  # types only
    from planner.results import ScenarioResult

__all__ = [
    "CLASS_COLUMNS",
    "WEEKLY_COLUMNS",
    "CapacityError",
    "CapacityPlan",
    "CapacitySettings",
    "capacity_plan",
    "class_output",
    "plan_capacity",
    "required_fte",
    "survival",
]

WEEKLY_COLUMNS = (
    "week", "channel", "required_fte", "todays_staff_fte", "tenured_fte", "ramping_fte",
    "proficient_fte", "available_fte", "gap_fte", "in_training", "hires_starting",
    "moved_in", "moved_out", "overtime_fte", "bpo_fte", "short_fte", "hiring_cost",
    "wage_cost", "overtime_cost", "bpo_cost", "moving_cost", "cost", "service_level",
)
CLASS_COLUMNS = (
    "channel", "start", "training_start", "on_floor", "proficient", "hires", "classes",
    "hiring_cost", "wage_cost",
)


NODE_LIMIT = 20_000  # branch-and-bound nodes; the sample's plans need a few hundred


class CapacityError(ValueError):
    """The capacity plan cannot be built (the message names the setting or column)."""



def survival(attrition_weekly: float, weeks: int) -> np.ndarray:
    """Share still employed after ``0..weeks-1`` weeks: ``(1 - a) ** k`` (closed form).

    Examples
    --------
    >>> survival(0.1, 3).round(4).tolist()
    [1.0, 0.9, 0.81]
    """
    return (1.0 - attrition_weekly) ** np.arange(weeks, dtype=float)


def class_output(settings: CapacitySettings, weeks: int) -> tuple[np.ndarray, ...]:
    """Per hire of a class started in week 0, by week ``0..weeks-1``.

    Returns
    -------
    tuple of arrays
        ``(employed, in_training, ramping, proficient)``: the survivors employed (from
        the start of training), those in training, and the output (FTE) of those ramping
        and of those past the ramp.

    Examples
    --------
    >>> s = CapacitySettings(attrition_weekly=0.0, recruiting_weeks=1, training_weeks=1,
    ...                      ramp=(0.5,))
    >>> [a.tolist() for a in class_output(s, 5)]
    [[0.0, 1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0, 0.0], \
[0.0, 0.0, 0.0, 1.0, 1.0]]
    """
    k = np.arange(weeks)
    L, T, R = settings.recruiting_weeks, settings.training_weeks, len(settings.ramp)
    employed = np.where(k >= L, (1.0 - settings.attrition_weekly) ** np.maximum(k - L, 0), 0.0)
    floor = k - L - T
    training = np.where((k >= L) & (floor < 0), employed, 0.0)
    ramp = np.array(settings.ramp + (1.0,), dtype=float)
    share = np.where((floor >= 0) & (floor < R), ramp[np.clip(floor, 0, R)], 0.0)
    ramping = employed * share
    proficient = np.where(floor >= R, employed, 0.0)
    return employed, training, ramping, proficient


def required_fte(result: ScenarioResult) -> pd.DataFrame:
    """The plan's FTE per week and channel: ``week, channel, days, required_fte``.

    Exactly :attr:`ScenarioResult.weekly`'s ``fte`` (paid hours of the shift plan over
    ``fte_hours_per_week * days / 7``), renamed: one number, one source.
    """
    w = result.weekly
    if w is None or not len(w):
        raise CapacityError("the scenario result has no weekly FTE (run the plan first)")
    out = w[["week", "channel", "days", "fte"]].rename(columns={"fte": "required_fte"})
    out = out.assign(week=pd.to_datetime(out["week"]))
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class CapacityPlan:
    """A capacity plan (see the module docstring).

    Attributes
    ----------
    weekly : DataFrame
        ``WEEKLY_COLUMNS``, one row per week (Monday) and channel from ``as_of`` to the
        end of the plan. ``required_fte`` is NaN before the scenario's horizon;
        ``todays_staff_fte`` today's agents still there if nothing is done (attrition
        only: the gap to close is ``required - todays_staff``); ``tenured_fte`` the
        same plus those moved in, minus those moved out; ``ramping_fte`` /
        ``proficient_fte`` the output of new hires on the floor, ``available_fte`` the
        sum, ``gap_fte = available - required`` after hiring and moves, before overtime
        and BPO (negative: short), ``in_training`` heads in training, ``hires_starting``
        hires whose class starts that week, ``short_fte`` what is still short after every
        lever, costs per lever and ``cost`` their sum, ``service_level`` the volume-weighted
        service level the staffing would achieve (the plan's own where nothing is short).
    classes : DataFrame
        ``CLASS_COLUMNS``: each class start (the latest decision date), its training start,
        first week on the floor and at full proficiency, hires and costs.
    summary : DataFrame
        Per channel: ``channel, headcount_today, hires, classes, hiring_cost, cost,
        peak_gap_fte, short_fte_weeks, min_service_level, latest_decision``;
        ``peak_gap_fte`` is the largest ``required - todays_staff`` of a week (the gap the
        levers have to close), ``short_fte_weeks`` what stays short after them.
    status : str
        ``OPTIMAL`` (proven), ``WITHIN_GAP`` (proven within ``settings.mip_gap`` of the
        optimum) or ``NODE_LIMIT`` (the search stopped after ``NODE_LIMIT`` nodes; the
        plan is feasible and ``objective - bound`` says how far from optimal it can be).
    objective : float
        Cost plus the short penalty.
    bound : float
        The solver's lower bound on ``objective``: no plan can cost less.
    solve_s : float
        Solver wall time in seconds.
    """

    weekly: pd.DataFrame
    classes: pd.DataFrame
    summary: pd.DataFrame
    status: str
    objective: float
    bound: float = float("nan")
    settings: CapacitySettings = field(repr=False, default_factory=CapacitySettings)
    solve_s: float = 0.0

    @property
    def total_cost(self) -> float:
        """Cost of every lever over the plan (without the short penalty)."""
        return float(self.weekly["cost"].sum())

    @property
    def latest_decision(self) -> pd.Timestamp | None:
        """The first class start: the latest date the first hiring decision can be taken."""
        return None if self.classes.empty else pd.Timestamp(self.classes["start"].min())

    def totals(self) -> dict[str, Any]:
        """Over all channels: ``hires, classes, hiring_cost, cost, peak_gap_fte,
        short_fte_weeks, latest_decision`` (``peak_gap_fte``: the largest weekly sum of
        the channels' ``required - todays_staff``, the gap before any lever;
        ``latest_decision``: NaT when nobody is hired)."""
        w = self.weekly
        gap = w["required_fte"] - w["todays_staff_fte"]
        short_before = gap.clip(lower=0.0).groupby(w["week"]).sum()
        return {
            "hires": int(self.classes["hires"].sum()) if len(self.classes) else 0,
            "classes": int(self.classes["classes"].sum()) if len(self.classes) else 0,
            "hiring_cost": float(w["hiring_cost"].sum()),
            "cost": float(w["cost"].sum()),
            "peak_gap_fte": float(short_before.max()) if len(short_before) else 0.0,
            "short_fte_weeks": float(w["short_fte"].sum()),
            "latest_decision": self.latest_decision or pd.NaT,
        }


def _weeks(req: pd.DataFrame, start: pd.Timestamp | None) -> pd.DatetimeIndex:
    first = req["week"].min() if start is None else start
    first = first - pd.Timedelta(days=first.day_of_week)
    return pd.date_range(first.normalize(), req["week"].max(), freq="7D")


def plan_capacity(
    required: pd.DataFrame,
    settings: CapacitySettings,
    cost_per_hour: Mapping[str, float],
    fte_hours_per_week: float,
) -> CapacityPlan:
    """Least-cost hiring, overtime, BPO and cross-training against a weekly requirement.

    Parameters
    ----------
    required : DataFrame
        ``week`` (Monday), ``channel``, ``required_fte`` and optionally ``days`` (days of
        the week the plan covers; costs of a week count them, 7 when missing).
    settings : CapacitySettings
        The capacity assumptions; ``as_of`` (when set) starts the plan.
    cost_per_hour : mapping
        Channel -> cost of one paid hour (wages of new hires, overtime base rate).
    fte_hours_per_week : float
        Paid hours of one FTE in a full week.

    Returns
    -------
    CapacityPlan
        ``service_level`` is left NaN (:func:`capacity_plan` fills it from the KPI model).

    Raises
    ------
    CapacityError
        When a column is missing, ``as_of`` is after the requirement, or the solver fails.
    """
    need = {"week", "channel", "required_fte"}
    if missing := need - set(required.columns):
        raise CapacityError(f"required: missing column(s) {sorted(missing)}")
    req = required.assign(week=pd.to_datetime(required["week"]))
    channels = list(dict.fromkeys(req["channel"].astype(str)))
    start = None if settings.as_of is None else pd.Timestamp(settings.as_of)
    if start is not None and start > req["week"].max():
        raise CapacityError(f"as_of {settings.as_of} is after the last planned week")
    weeks = _weeks(req, start)
    H, C = len(weeks), len(channels)
    R = np.full((C, H), np.nan)
    days = np.full(H, 7.0)
    pos = {w: i for i, w in enumerate(weeks)}
    for row in req.itertuples(index=False):
        t = pos.get(pd.Timestamp(row.week))
        if t is None:
            continue  # a week before as_of: already history
        R[channels.index(str(row.channel)), t] = float(row.required_fte)
        if "days" in req.columns:
            days[t] = float(row.days)
    first_planned = np.argmax(np.isfinite(R), axis=1)
    hc = dict(settings.headcount or {})
    H0 = np.array([float(hc[c]) if c in hc else float(np.nan_to_num(R[i, first_planned[i]]))
                   for i, c in enumerate(channels)])
    rate = np.array([float(cost_per_hour[c]) for c in channels])
    hours = fte_hours_per_week * days / 7.0  # paid hours of one FTE in each week

    surv = survival(settings.attrition_weekly, H)
    employed, training, ramping, proficient = class_output(settings, H)
    output = ramping + proficient
    # wages of one hire of a class started in week s, from the start of training to the end
    wage = np.array([[float(np.sum(employed[: H - s] * hours[s:])) * rate[c] for s in range(H)]
                     for c in range(C)])
    useful = [s for s in range(H) if s + settings.lead_weeks < H]  # on the floor in time
    X = settings.cross_training_weeks
    bpo_ok = set(settings.bpo_channels) if settings.bpo_channels is not None else set(channels)

    t0 = time.perf_counter()
    sol = _solve(settings, channels, R, H0, rate, hours, surv, output, wage, useful, X, bpo_ok)
    solve_s = time.perf_counter() - t0
    n, z, ot, bpo, short, moves, status, objective, bound = sol

    # --------------------------------------------------------------- read the plan back
    def conv(kernel: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``sum_s x[s] kernel[t - s]`` for each ``t``."""
        return np.array([float(np.dot(x[: t + 1], kernel[t::-1])) for t in range(H)])

    rows = []
    for c, ch in enumerate(channels):
        out_m = np.zeros(H)
        in_m = np.zeros(H)
        moved_out = np.zeros(H)
        moved_in = np.zeros(H)
        for (a, b), m in moves.items():
            if a == c:
                out_m += conv(surv, m)
                moved_out += m
            if b == c:
                lag = np.where(np.arange(H) >= (X or 0), surv, 0.0)
                in_m += conv(lag, m)
                moved_in += m
        tenured = H0[c] * surv - out_m + in_m
        ramp_c, prof_c, train_c = conv(ramping, n[c]), conv(proficient, n[c]), conv(training, n[c])
        available = tenured + ramp_c + prof_c
        hire_cost = n[c] * settings.cost_per_hire
        wage_cost = np.array([float(np.dot(n[c][: t + 1], employed[t::-1])) for t in range(H)])
        wage_cost = wage_cost * hours * rate[c]
        ot_cost = ot[c] * hours * rate[c] * (1.0 + settings.overtime_premium)
        bpo_cost = bpo[c] * hours * settings.bpo_cost_per_hour
        move_cost = moved_out * settings.cross_training_cost
        for t in range(H):
            rows.append({
                "week": weeks[t], "channel": ch, "required_fte": R[c, t],
                "todays_staff_fte": H0[c] * surv[t],
                "tenured_fte": tenured[t], "ramping_fte": ramp_c[t], "proficient_fte": prof_c[t],
                "available_fte": available[t], "gap_fte": available[t] - R[c, t],
                "in_training": train_c[t], "hires_starting": int(round(n[c][t])),
                "moved_in": moved_in[t], "moved_out": moved_out[t],
                "overtime_fte": ot[c][t], "bpo_fte": bpo[c][t], "short_fte": short[c][t],
                "hiring_cost": hire_cost[t], "wage_cost": wage_cost[t],
                "overtime_cost": ot_cost[t], "bpo_cost": bpo_cost[t], "moving_cost": move_cost[t],
            })
    weekly = pd.DataFrame(rows)
    weekly["cost"] = weekly[["hiring_cost", "wage_cost", "overtime_cost", "bpo_cost",
                             "moving_cost"]].sum(axis=1)
    weekly["service_level"] = np.nan
    weekly = weekly[list(WEEKLY_COLUMNS)]

    classes = []
    L, T, RL = settings.recruiting_weeks, settings.training_weeks, len(settings.ramp)
    for c, ch in enumerate(channels):
        for s in range(H):
            if n[c][s] > 0.5:
                wk = weeks[s]
                classes.append({
                    "channel": ch, "start": wk, "training_start": wk + pd.Timedelta(weeks=L),
                    "on_floor": wk + pd.Timedelta(weeks=L + T),
                    "proficient": wk + pd.Timedelta(weeks=L + T + RL),
                    "hires": int(round(n[c][s])), "classes": int(round(z[c][s])),
                    "hiring_cost": n[c][s] * settings.cost_per_hire,
                    "wage_cost": n[c][s] * wage[c, s],
                })
    if status == "OPTIMAL" and objective - bound > 1e-9 * max(1.0, abs(objective)):
        status = "WITHIN_GAP"  # proven within settings.mip_gap of the optimum
    classes_df = pd.DataFrame(classes, columns=list(CLASS_COLUMNS))
    if len(classes_df):
        classes_df = classes_df.sort_values(["start", "channel"], kind="stable")
    plan = CapacityPlan(weekly=weekly, classes=classes_df.reset_index(drop=True),
                        summary=pd.DataFrame(), status=status, objective=objective,
                        bound=bound, settings=settings, solve_s=solve_s)
    return _with_summary(plan, dict(zip(channels, H0, strict=True)))


def _with_summary(plan: CapacityPlan, headcount: Mapping[str, float]) -> CapacityPlan:
    rows = []
    w, k = plan.weekly, plan.classes
    for ch, h0 in headcount.items():
        g = w[w["channel"] == ch]
        kc = k[k["channel"] == ch]
        gap = (g["todays_staff_fte"] - g["required_fte"]).to_numpy(float)
        rows.append({
            "channel": ch,
            "headcount_today": float(h0),
            "hires": int(kc["hires"].sum()),
            "classes": int(kc["classes"].sum()),
            "hiring_cost": float(g["hiring_cost"].sum()),
            "cost": float(g["cost"].sum()),
            "peak_gap_fte": float(max(0.0, -np.nanmin(gap))) if np.isfinite(gap).any() else 0.0,
            "short_fte_weeks": float(g["short_fte"].sum()),
            "min_service_level": float(g["service_level"].min()),
            "latest_decision": pd.Timestamp(kc["start"].min()) if len(kc) else pd.NaT,
        })
    return _replace(plan, summary=pd.DataFrame(rows))


def _replace(plan: CapacityPlan, **changes: Any) -> CapacityPlan:
    from dataclasses import replace

    return replace(plan, **changes)


def _solve(settings: CapacitySettings, channels: list[str], R: np.ndarray, H0: np.ndarray,
           rate: np.ndarray, hours: np.ndarray, surv: np.ndarray, output: np.ndarray,
           wage: np.ndarray, useful: list[int], X: int | None, bpo_ok: set[str]) -> tuple:
    """Build and solve the MIP (SCIP, one thread, node limit, no time limit:
    deterministic)."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:  # pragma: no cover - SCIP ships with OR-Tools wheels
        raise CapacityError("OR-Tools has no SCIP solver in this installation")
    # a node limit, not a time limit: the same inputs stop at the same plan on any machine
    solver.SetSolverSpecificParametersAsString(f"limits/nodes = {NODE_LIMIT}\n")
    C, H = R.shape
    s_ = settings
    inf = solver.infinity()
    n = {(c, s): solver.IntVar(0, s_.class_max * s_.classes_per_week, f"n{c}_{s}")
         for c in range(C) for s in useful}
    z = {(c, s): solver.IntVar(0, s_.classes_per_week, f"z{c}_{s}")
         for c in range(C) for s in useful}
    moves: dict[tuple[int, int], dict[int, Any]] = {}
    if X is not None and C > 1:
        for a in range(C):
            for b in range(C):
                if a != b:
                    moves[(a, b)] = {s: solver.NumVar(0, inf, f"m{a}_{b}_{s}")
                                     for s in range(H) if s + X < H}
    obj = []
    for s in useful:
        for c in range(C):
            solver.Add(n[c, s] >= s_.class_min * z[c, s])
            solver.Add(n[c, s] <= s_.class_max * z[c, s])
            obj.append((s_.cost_per_hire + wage[c, s]) * n[c, s])
        solver.Add(solver.Sum([z[c, s] for c in range(C)]) <= s_.classes_per_week)
    for ms in moves.values():
        obj.extend(s_.cross_training_cost * m for m in ms.values())
    # Sparse form of the class output (the convolution of the module docstring written
    # as a recursion): proficient[t] = (1 - a) proficient[t-1] + hires past the ramp;
    # the few weeks of the ramp are listed term by term.
    keep = 1.0 - s_.attrition_weekly
    L, T, ramp = s_.recruiting_weeks, s_.training_weeks, s_.ramp
    RL = len(ramp)
    useful_set = set(useful)
    ot, bpo, short = {}, {}, {}
    for c in range(C):
        prof_prev = moved_out_prev = moved_in_prev = None
        for t in range(H):
            avail = [float(H0[c] * surv[t])]
            for k in range(RL):  # classes ramping in their k-th week on the floor
                s = t - L - T - k
                if s in useful_set and ramp[k] > 0:
                    avail.append(float(surv[T + k] * ramp[k]) * n[c, s])
            prof = solver.NumVar(0, inf, f"p{c}_{t}")
            terms = [keep * prof_prev] if prof_prev is not None else []
            if (s := t - L - T - RL) in useful_set:
                terms.append(float(surv[T + RL]) * n[c, s])
            solver.Add(prof == solver.Sum(terms) if terms else prof == 0)
            avail.append(prof)
            prof_prev = prof
            if moves:
                mo = solver.NumVar(0, inf, f"mo{c}_{t}")  # moved out, still employed
                mi = solver.NumVar(0, inf, f"mi{c}_{t}")  # moved in and working here
                out_t = [ms[t] for (a, _b), ms in moves.items() if a == c and t in ms]
                in_t = [float(surv[X]) * ms[t - X] for (_a, b), ms in moves.items()
                        if b == c and t - X in ms]
                solver.Add(mo == solver.Sum(([keep * moved_out_prev] if t else []) + out_t))
                solver.Add(mi == solver.Sum(([keep * moved_in_prev] if t else []) + in_t))
                solver.Add(mo <= float(H0[c] * surv[t]))  # only today's agents move
                avail += [-1.0 * mo, mi]
                moved_out_prev, moved_in_prev = mo, mi
            avail_e = solver.Sum(avail)
            planned = bool(np.isfinite(R[c, t]))
            ot[c, t] = solver.NumVar(0, inf if planned else 0.0, f"o{c}_{t}")
            solver.Add(ot[c, t] <= s_.overtime_cap * avail_e)
            can_bpo = channels[c] in bpo_ok and s_.bpo_fte > 0 and planned
            bpo[c, t] = solver.NumVar(0, s_.bpo_fte if can_bpo else 0.0, f"b{c}_{t}")
            short[c, t] = solver.NumVar(0, inf if planned else 0.0, f"u{c}_{t}")
            if planned:
                solver.Add(avail_e + ot[c, t] + bpo[c, t] + short[c, t] >= float(R[c, t]))
                obj.append(hours[t] * s_.short_penalty_per_hour * short[c, t])
            obj.append(hours[t] * rate[c] * (1.0 + s_.overtime_premium) * ot[c, t])
            obj.append(hours[t] * s_.bpo_cost_per_hour * bpo[c, t])
    if s_.bpo_fte > 0:
        for t in range(H):
            solver.Add(solver.Sum([bpo[c, t] for c in range(C)]) <= s_.bpo_fte)
    solver.Minimize(solver.Sum(obj))
    solver.SetNumThreads(1)
    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(params.RELATIVE_MIP_GAP, float(settings.mip_gap))
    status = solver.Solve(params)
    names = {pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "NODE_LIMIT"}
    if status not in names:
        raise CapacityError(f"the capacity model could not be solved (status {status})")

    def val(v: Any) -> float:
        return float(v.solution_value())

    n_arr = np.zeros((C, H))
    z_arr = np.zeros((C, H))
    for (c, s), v in n.items():
        n_arr[c, s] = round(val(v))
        z_arr[c, s] = round(val(z[c, s]))
    ot_arr = np.array([[max(val(ot[c, t]), 0.0) for t in range(H)] for c in range(C)])
    bpo_arr = np.array([[max(val(bpo[c, t]), 0.0) for t in range(H)] for c in range(C)])
    short_arr = np.array([[max(val(short[c, t]), 0.0) for t in range(H)] for c in range(C)])
    move_arr = {}
    for key, ms in moves.items():
        arr = np.zeros(H)
        for s, m in ms.items():
            arr[s] = val(m)
        arr = _clean(np.maximum(arr, 0.0))  # FTE moved: continuous
        if arr.any():
            move_arr[key] = arr
    return (n_arr, z_arr, _clean(ot_arr), _clean(bpo_arr), _clean(short_arr), move_arr,
            names[status], float(solver.Objective().Value()),
            float(solver.Objective().BestBound()))


def _clean(a: np.ndarray) -> np.ndarray:
    """Solver noise (|x| < 1e-7) to exact zero."""
    return np.where(np.abs(a) < 1e-7, 0.0, a)


def capacity_plan(result: ScenarioResult, settings: CapacitySettings | None = None
                  ) -> CapacityPlan:
    """The capacity plan of a scenario result (see the module docstring).

    Parameters
    ----------
    result : ScenarioResult
        A run of the scenario; its weekly FTE is the requirement, week by week.
    settings : CapacitySettings, optional
        Default: the scenario's ``capacity`` settings, or the defaults when it has none.
        ``as_of`` defaults to 16 weeks before the horizon starts.

    Returns
    -------
    CapacityPlan
        With ``service_level`` per week from the KPI model where the staffing falls short.
    """
    if settings is None:
        settings = getattr(result.scenario, "capacity", None) or CapacitySettings()
    if settings.as_of is None:
        start = pd.Timestamp(result.scenario.horizon.start) - pd.Timedelta(weeks=16)
        settings = settings.model_copy(update={"as_of": start.date()})
    s = result.scenario
    req = required_fte(result)
    known = set(req["channel"])
    for ch in (settings.headcount or {}):
        if ch not in known:
            raise CapacityError(f"capacity.headcount names channel {ch!r}, not in the plan "
                                f"({sorted(known)})")
    plan = plan_capacity(req, settings, {ch: s.channel_cost(ch) for ch in known},
                         s.fte_hours_per_week)
    plan = _replace(plan, weekly=_service(result, plan.weekly))
    return _with_summary(plan, dict(zip(plan.summary["channel"],
                                        plan.summary["headcount_today"], strict=True)))


def _week_of(ts: pd.Series) -> pd.Series:
    ts = pd.to_datetime(ts)
    return (ts - pd.to_timedelta(ts.dt.day_of_week, unit="D")).dt.normalize()


def _service(result: ScenarioResult, weekly: pd.DataFrame) -> pd.DataFrame:
    """Weekly volume-weighted service level of the staffing the capacity plan has.

    A channel with no week left short keeps the plan's own achieved KPIs
    (``result.kpis_interval``); in a channel with short weeks the plan's scheduled agents
    are scaled by ``1 - short / required`` in those weeks and the KPI model
    (:func:`staffing.kpis.achieved_kpis`, queues carried over) is run again.
    """
    from planner.policies import channel_policies
    from staffing.kpis import achieved_kpis

    out = weekly.drop(columns="service_level")
    planned = out["required_fte"].notna() & (out["required_fte"] > 0)
    ratio = np.where(planned, 1.0 - out["short_fte"] / out["required_fte"].where(planned, 1.0),
                     1.0)
    ratio = pd.Series(np.clip(ratio, 0.0, 1.0),
                      index=pd.MultiIndex.from_arrays([out["week"], out["channel"]]))
    short_channels = sorted(set(out.loc[ratio.to_numpy() < 1.0, "channel"]))
    parts = []
    k = result.kpis_interval
    if k is not None and len(k):
        parts.append(k[~k["channel"].isin(short_channels)])
    cov, vol = result.coverage, result.volumes
    if short_channels and cov is not None and len(cov) and vol is not None and len(vol):
        cov = cov[cov["channel"].isin(short_channels)]
        keys = pd.MultiIndex.from_arrays([_week_of(cov["ds"]), cov["channel"]])
        scale = ratio.reindex(keys).fillna(1.0).to_numpy(float)
        agents = cov[["channel", "ds"]].assign(scheduled=cov["scheduled"].to_numpy(float) * scale)
        v = vol[vol["channel"].isin(short_channels)]
        parts.append(achieved_kpis(v[["channel", "ds", "volume", "aht_s"]], agents,
                                   channel_policies(result.scenario),
                                   int(result.meta["interval_s"])))
    if not parts:
        return out.assign(service_level=np.nan)[list(WEEKLY_COLUMNS)]
    k = pd.concat(parts, ignore_index=True)
    k = k[np.isfinite(k["sl"].to_numpy(float)) & (k["volume"] > 0)]
    g = (k.assign(week=_week_of(k["ds"]), w=k["sl"] * k["volume"])
         .groupby(["week", "channel"])[["w", "volume"]].sum())
    sl = (g["w"] / g["volume"]).rename("service_level").reset_index()
    out = out.merge(sl, on=["week", "channel"], how="left")
    return out[list(WEEKLY_COLUMNS)]
