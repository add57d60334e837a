"""Shift planning: how many agents start which shift (with its break) on each day.

The problem per day is a covering integer programme over *columns*: a column is one shift
type starting at one grid time with its break at one allowed offset, so the solver chooses
break positions together with starts and never opens a hole at a peak. With ``x_j`` agents
on column ``j`` and ``a_ij`` the share of interval ``i`` that column ``j`` works::

    minimise   sum_j paid_j x_j + penalty * sum_i short_i
    subject to sum_j a_ij x_j + short_i >= required_i      for every interval i
               sum_j x_j <= headcount_cap                  (optional, per day)
               x_j >= 0 integer, short_i >= 0 (short_i = 0 unless a cap is given)

Multi-skilled agents (e.g. chat + voice) are a pooled column set whose working time is
split between the channels per interval (allocation variables). Days (and channels, unless
a cap couples them) are independent, so they are solved one at a time with OR-Tools
CP-SAT; the LP relaxation (HiGHS via :func:`scipy.optimize.linprog`) of the very same model
gives the lower bound reported next to each day's objective. Coefficients are integers in a
common time unit (the gcd of all lengths), so fractional coverage (e.g. a 15-minute break in
a 30-minute interval) is exact.

Each block (a day, one or more channel groups) is solved by
:func:`staffing.shift_solver.solve_block`: the LP solution rounded to whole agents is the
plan in hand; CP-SAT searches further only when that plan does not meet the stopping rule
(within ``relative_gap`` of the LP bound, or, under a headcount cap, optimal), with a
deterministic work limit and a fixed seed, so the same inputs give the same plan on any
machine. With ``block_cache`` a day whose requirement, rules, windows and caps were solved
before is reused as it is.

The rules and the returned plan are the value objects of :mod:`staffing.shift_rules`
(re-exported here).

References
----------
Dantzig, G. B. (1954). A comment on Edie's "Traffic delays at toll booths". *Operations
Research* 2(3), 339-341 (the set-covering shift scheduling formulation).
Aykin, T. (1996). Optimal shift scheduling with multiple break windows. *Management Science*
42(4), 591-602 (breaks as part of the shift column).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from staffing.frames import COVERAGE, SHIFT_PLAN, with_gap
from staffing.policy import ChannelPolicy
from staffing.shift_rules import ShiftError, ShiftPlan, ShiftRules, ShiftType
from staffing.shift_solver import (
    COST_SCALE,
    Block,
    BlockSolution,
    Columns,
    shift_columns,
    solve_block,
    time_unit,
)

__all__ = [
    "ALL_CHANNELS",
    "BlockCache",
    "ShiftError",
    "ShiftPlan",
    "ShiftRules",
    "ShiftType",
    "solve_shifts",
]

#: Key of a ``headcount_cap`` mapping that caps all channels together.
ALL_CHANNELS = "all"

_DAY_S = 86400


def _interval_s(requirements: pd.DataFrame, interval_s: int | None) -> int:
    if interval_s is None:
        interval_s = requirements.attrs.get("interval_s")
    if interval_s is None:
        raise ShiftError(
            "interval_s is required (pass interval_s=..., or use a frame from compute_requirements)"
        )
    interval_s = int(interval_s)
    if interval_s <= 0 or _DAY_S % interval_s:
        raise ShiftError(f"interval_s must divide a day into whole intervals, got {interval_s!r}")
    return interval_s


class BlockCache(Protocol):
    """Where :func:`solve_shifts` keeps solved day-blocks (``get`` returns ``None`` on a
    miss), e.g. :class:`planner.pipeline.PipelineCache`."""

    def get(self, key: tuple) -> Any | None: ...

    def put(self, key: tuple, value: Any) -> None: ...


def _caps(headcount_cap, labels) -> tuple[dict[str, int | None], int | None]:
    if headcount_cap is None:
        return {}, None
    if isinstance(headcount_cap, Mapping):
        out, total = {}, None
        for k, v in headcount_cap.items():
            if k != ALL_CHANNELS and k not in labels:
                raise ShiftError(f"headcount_cap key {k!r} is not a channel group of the plan")
            if int(v) != v or v < 0:
                raise ShiftError(f"headcount_cap[{k!r}] must be an integer >= 0, got {v!r}")
            if k == ALL_CHANNELS:
                total = int(v)
            else:
                out[str(k)] = int(v)
        return out, total
    if int(headcount_cap) != headcount_cap or headcount_cap < 0:
        raise ShiftError(f"headcount_cap must be an integer >= 0, got {headcount_cap!r}")
    return {}, int(headcount_cap)


def solve_shifts(
    requirements: pd.DataFrame,
    rules: ShiftRules | None = None,
    headcount_cap: int | Mapping[str, int] | None = None,
    *,
    interval_s: int | None = None,
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | None = None,
    column: str | None = None,
    block_cache: BlockCache | None = None,
) -> ShiftPlan:
    """Choose how many agents start each shift (and take its break when) on each day.

    The steps: validate the requirement (1); the channel groups and the units solved
    together (2); for each day and unit, the block's columns and its plan, reused through
    ``block_cache`` (3), its shift rows and agents scheduled per interval (4) and its
    figures (5); the plan's frames (6).

    Parameters
    ----------
    requirements : DataFrame
        ``channel, ds`` and the requirement column (``rostered`` if present, else
        ``agents``): agents needed on the floor per interval starting at ``ds``.
    rules : ShiftRules, optional
        Allowed shifts, grid, opening hours, multi-skill pool (default ``ShiftRules()``).
    headcount_cap : int or mapping, optional
        Max agents starting a shift per day: an int caps all channels together, a mapping
        caps each channel group (``{"voice": 40, "chat+voice": 25}``), and its key
        ``"all"`` (:data:`ALL_CHANNELS`) all channels together on top of that. Under a cap coverage
        is soft: each uncovered agent-interval costs ``rules.understaffing_penalty`` (times
        the channel's ``rules.understaffing_weight``).
        Without a cap every interval with demand inside the shift window is covered.
    interval_s : int, optional
        Interval length in seconds (default: ``requirements.attrs["interval_s"]``).
    policies : mapping or sequence of ChannelPolicy, optional
        Opening hours of channels not listed in ``rules.open_hours``.
    column : str, optional
        Requirement column to cover.
    block_cache : object with ``get(key)`` and ``put(key, value)``, optional
        Solved day-blocks reused across calls (e.g. a
        :class:`planner.pipeline.PipelineCache`): a block is taken from it only when its
        requirement vectors, rules, interval, opening windows, caps and channel groups are
        all identical, so the plan is the same with or without the cache.

    Returns
    -------
    ShiftPlan
        ``.shift_plan``, ``.coverage`` (exact shortfall per interval), ``.days`` and totals
        (``paid_hours`` and its bound ``paid_hours_bound``, ``objective`` with the
        understaffing penalty and its LP ``lower_bound``, ``gap``, ``quality`` in words,
        ``overstaffing``). The same inputs give the same plan on any machine (CP-SAT
        stops on ``rules.work_limit``, a deterministic work limit, with ``rules.seed``).

    Raises
    ------
    ShiftError
        Missing columns, an interval length that does not divide a day, bad caps.

    Examples
    --------
    >>> ds = pd.date_range("2024-11-11 08:00", periods=16, freq="30min")
    >>> req = pd.DataFrame({"channel": "voice", "ds": ds, "rostered": 2})
    >>> rules = ShiftRules((ShiftType("8h", 8 * 3600),), open_hours={"voice": ("08:00", "16:00")})
    >>> plan = solve_shifts(req, rules, interval_s=1800)
    >>> plan.paid_hours, plan.shift_plan["agents"].tolist()
    (16.0, [2])
    """
    rules = rules or ShiftRules()
    interval_s = _interval_s(requirements, interval_s)
    req = _prepare(requirements, column, interval_s)
    unit = time_unit(rules, interval_s)
    solver = _DaySolver(rules, interval_s, unit, _by_channel(policies), block_cache)
    groups, units = _groups_and_units(sorted(req["channel"].astype(str).unique()), rules,
                                      headcount_cap)
    caps, total_cap = _caps(headcount_cap, [lab for lab, _chans in groups])
    soft = headcount_cap is not None
    gdict = dict(groups)
    need = {
        (d, ch): g
        for (d, ch), g in req.groupby(["date", "channel"], sort=True)[["i", "need"]]
    }
    rows = _Rows()
    for d in sorted({d for d, _ch in need}):
        for unit_labels in units:
            _plan_unit(rows, solver, d, unit_labels, [(lab, gdict[lab]) for lab in unit_labels],
                       need, caps, total_cap, soft)
    return rows.plan(req, interval_s)


def _by_channel(
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | None,
) -> dict[str, ChannelPolicy]:
    if policies is None:
        return {}
    items = policies.values() if isinstance(policies, Mapping) else policies
    return {p.channel: p for p in items}


@dataclasses.dataclass
class _Rows:
    """What the blocks add up to: shift rows, coverage rows and one row per solved block."""

    plan_rows: list[dict] = dataclasses.field(default_factory=list)
    cov_rows: list[tuple] = dataclasses.field(default_factory=list)
    day_rows: list[dict] = dataclasses.field(default_factory=list)

    def plan(self, req: pd.DataFrame, interval_s: int) -> ShiftPlan:
        """Step 6: the frames of the plan."""
        return ShiftPlan(_plan_frame(self.plan_rows),
                         _coverage_frame(self.cov_rows, req, interval_s),
                         pd.DataFrame(self.day_rows, columns=_DAY_COLUMNS), interval_s)


def _plan_unit(rows: _Rows, solver: _DaySolver, d: pd.Timestamp, unit_labels: list[str],
               blk_groups: list[tuple[str, tuple[str, ...]]], need: Mapping,
               caps: Mapping[str, int | None], total_cap: int | None, soft: bool) -> None:
    """Steps 3 to 5 for one day and unit of channel groups: solve the block (when it has
    demand) and add its shift, coverage and day rows to ``rows``."""
    chans = sorted({ch for _lab, cs in blk_groups for ch in cs})
    r = {ch: _required(need.get((d, ch)), solver.n_int) for ch in chans}
    cov_of = {}
    if any(a.any() for a in r.values()):
        blk = Block(blk_groups, [solver.columns(cs) for _l, cs in blk_groups], r, caps,
                    total_cap)
        sol = solver.solve(blk, soft)
        cov_of = _add_plan_rows(rows.plan_rows, d, blk, sol, solver.rules, solver.per)
        rows.day_rows.append(_day_row(d, unit_labels, sol, blk, solver.unit))
    for ch in chans:
        if (d, ch) in need:
            rows.cov_rows.append((ch, d, r[ch], cov_of.get(ch, np.zeros(solver.n_int))))


_PLAN_COLUMNS = list(SHIFT_PLAN)
_DAY_COLUMNS = [
    "date", "group", "status", "objective_h", "lower_bound_h", "paid_hours",
    "short_agent_hours", "source", "solver_s",
]


def _prepare(requirements: pd.DataFrame, column: str | None, interval_s: int) -> pd.DataFrame:
    """Step 1: validate the requirement; ``channel, ds, date, i`` (interval of the day) and
    ``need`` (whole agents, rounded up)."""
    if column is None:
        column = "rostered" if "rostered" in requirements.columns else "agents"
    missing = {"channel", "ds", column} - set(requirements.columns)
    if missing:
        raise ShiftError(f"requirements is missing column(s) {sorted(missing)}")
    req = requirements[["channel", "ds", column]].copy()
    req["ds"] = pd.to_datetime(req["ds"])
    vals = req[column].to_numpy(dtype=float)
    if np.any(~np.isfinite(vals)) or np.any(vals < 0):
        raise ShiftError(f"requirements[{column!r}] must be finite and >= 0")
    req["need"] = np.ceil(vals - 1e-9).astype(np.int64)
    req["date"] = req["ds"].dt.normalize()
    sod = (req["ds"] - req["date"]).dt.total_seconds().to_numpy()
    if np.any(sod % interval_s):
        raise ShiftError(f"requirements['ds'] not aligned to interval_s={interval_s}")
    req["i"] = (sod // interval_s).astype(np.int64)
    return req


def _groups_and_units(
    channels: list[str], rules: ShiftRules, headcount_cap
) -> tuple[list[tuple[str, tuple[str, ...]]], list[list[str]]]:
    """Step 2: channel groups (one per channel, plus the multi-skill pool) and the units
    solved together (a shared cap couples all groups; a pool couples its members)."""
    pool = tuple(sorted(ch for ch in rules.multiskill if ch in channels))
    groups = [(ch, (ch,)) for ch in channels]
    pool_label = "+".join(pool) if len(pool) > 1 else None
    if pool_label:
        groups.append((pool_label, pool))
    labels = [g[0] for g in groups]
    shared = headcount_cap is not None and (
        not isinstance(headcount_cap, Mapping) or ALL_CHANNELS in headcount_cap
    )
    if shared:
        return groups, [labels]
    if pool_label:
        coupled = [*pool, pool_label]
        return groups, [coupled] + [[g] for g in labels if g not in coupled]
    return groups, [[g] for g in labels]


def _required(g: pd.DataFrame | None, n_int: int) -> np.ndarray:
    """Whole agents required per interval of the day (0 where the frame has no row)."""
    arr = np.zeros(n_int, dtype=np.int64)
    if g is not None:
        np.maximum.at(arr, g["i"].to_numpy(), g["need"].to_numpy())
    return arr


class _DaySolver:
    """Step 3: columns per opening window and solved blocks, reused through the cache."""

    def __init__(self, rules: ShiftRules, interval_s: int, unit: int,
                 pol: Mapping[str, ChannelPolicy], block_cache: BlockCache | None) -> None:
        self.rules, self.interval_s, self.pol = rules, interval_s, pol
        self.unit, self.per, self.n_int = unit, interval_s // unit, _DAY_S // interval_s
        self.cache = block_cache
        self.rules_key = repr(rules) if block_cache is not None else None
        self._cols: dict[tuple[int, int], Columns] = {}

    def window(self, chans: tuple[str, ...]) -> tuple[int, int]:
        wins = [self.rules.window(ch, self.pol.get(ch)) for ch in chans]
        return (min(w[0] for w in wins), max(w[1] for w in wins))

    def columns(self, chans: tuple[str, ...]) -> Columns:
        win = self.window(chans)
        if win not in self._cols:
            self._cols[win] = shift_columns(self.rules, win, self.interval_s, self.unit)
        return self._cols[win]

    def solve(self, blk: Block, soft: bool) -> BlockSolution:
        if self.cache is None:
            return solve_block(blk, self.rules, self.per, soft)
        labels = [lab for lab, _cs in blk.groups]
        key = (
            "shift-block", self.rules_key, self.interval_s, tuple(blk.groups),
            tuple(self.window(cs) for _l, cs in blk.groups),
            tuple((ch, blk.req[ch].tobytes()) for ch in sorted(blk.req)),
            tuple(blk.cap.get(lab) for lab in labels), blk.total_cap, soft,
        )
        solved = self.cache.get(key)
        if solved is not None:  # reused: no solver time spent in this call
            return dataclasses.replace(solved, solver_s=0.0)
        solved = solve_block(blk, self.rules, self.per, soft)
        self.cache.put(key, solved)
        return solved


def _add_plan_rows(plan_rows: list[dict], d: pd.Timestamp, blk: Block, sol: BlockSolution,
                   rules: ShiftRules, per: int) -> dict[str, np.ndarray]:
    """Step 4: the block's shift rows (appended to ``plan_rows``); returns the agents
    scheduled per channel and interval (breaks removed, pooled time allocated)."""
    n_int = next(iter(blk.req.values())).shape[0]
    scheduled = {ch: np.zeros(n_int) for ch in blk.req}
    z = sol.z
    for gi, ((label, cs), cols) in enumerate(zip(blk.groups, blk.cols, strict=True)):
        x = z[sol.offsets[gi] : sol.offsets[gi] + len(cols.paid_units)]
        if len(cs) == 1:
            scheduled[cs[0]] += (x @ cols.cover) / per
        else:
            for ch in cs:
                for i, vid in sol.alloc[(gi, ch)].items():
                    scheduled[ch][i] += z[vid] / per
        for j in np.flatnonzero(x):
            st = rules.shift_types[cols.type_idx[j]]
            start = d + pd.Timedelta(seconds=int(cols.start_s[j]))
            b = int(cols.break_start_s[j])
            plan_rows.append({
                "date": d,
                "channel": label,
                "shift": st.name,
                "shift_start": start,
                "shift_end": start + pd.Timedelta(seconds=st.length_s),
                "break_start": d + pd.Timedelta(seconds=b) if b >= 0 else pd.NaT,
                "break_end": d + pd.Timedelta(seconds=b + st.break_s) if b >= 0 else pd.NaT,
                "agents": int(x[j]),
                "paid_hours": st.paid_s / 3600,
            })
    return scheduled


def _day_row(d: pd.Timestamp, unit_labels: list[str], sol: BlockSolution, blk: Block,
             unit: int) -> dict:
    """Step 5: the block's figures, from its own plan (paid hours, shortfall) and bound."""
    paid_units = sum(
        int(sol.z[sol.offsets[gi] : sol.offsets[gi] + len(cols.paid_units)] @ cols.paid_units)
        for gi, cols in enumerate(blk.cols)
    )
    short_units = sum(int(sol.z[v]) for ids in sol.short.values() for v in ids.values())
    return {
        "date": d,
        "group": "+".join(unit_labels),
        "status": "OPTIMAL" if sol.proven else "FEASIBLE",
        "objective_h": sol.objective * unit / 3600 / COST_SCALE,
        "lower_bound_h": sol.lower_bound * unit / 3600 / COST_SCALE,
        "paid_hours": paid_units * unit / 3600,
        "short_agent_hours": short_units * unit / 3600,
        "source": sol.source,
        "solver_s": sol.solver_s,
    }


def _plan_frame(plan_rows: list[dict]) -> pd.DataFrame:
    shift_plan = pd.DataFrame(plan_rows, columns=_PLAN_COLUMNS)
    if len(shift_plan):
        shift_plan = shift_plan.sort_values(["date", "channel", "shift_start", "break_start"])
        shift_plan = shift_plan.reset_index(drop=True)
    return shift_plan


def _coverage_frame(cov_rows, req: pd.DataFrame, interval_s: int) -> pd.DataFrame:
    if not cov_rows:
        return pd.DataFrame(columns=list(COVERAGE))
    n = len(cov_rows[0][2])
    step = np.arange(n, dtype=np.int64) * np.int64(interval_s * 1_000_000_000)
    days = np.asarray([d.value for _ch, d, _r, _s in cov_rows], dtype=np.int64)
    cov = pd.DataFrame(
        {
            "channel": np.repeat(np.asarray([ch for ch, *_ in cov_rows], dtype=object), n),
            "ds": pd.to_datetime((days[:, None] + step[None, :]).ravel(), unit="ns"),
            "required": np.concatenate([r for _ch, _d, r, _s in cov_rows]),
            "scheduled": np.concatenate([np.asarray(s, float) for *_x, s in cov_rows]),
        }
    )
    tz = cov_rows[0][1].tz
    if tz is not None:
        cov["ds"] = cov["ds"].dt.tz_localize("UTC").dt.tz_convert(tz)
    cov["ds"] = cov["ds"].astype(req["ds"].dtype)
    # keep the requirement's own intervals plus any interval where someone is scheduled
    keys = req[["channel", "ds"]].assign(_in=True)
    cov = cov.merge(keys, on=["channel", "ds"], how="left")
    cov = cov[cov["_in"].fillna(False).astype(bool) | (cov["scheduled"] > 0)].drop(columns="_in")
    cov["required"] = cov["required"].astype(np.int64)
    return with_gap(cov).sort_values(["channel", "ds"]).reset_index(drop=True)
