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

The LP solution is first rounded to whole agents (rounded down, then a greedy cover and a
pass that drops agents who do not pay for themselves); when that plan already meets the
stopping rule CP-SAT is not called: within ``relative_gap`` of the LP bound, or, under a
headcount cap, at the bound itself (optimal). Otherwise CP-SAT solves the block as before
and the better of the two plans is kept. With ``block_cache`` a day whose requirement,
rules, windows and caps were solved before is reused as it is.

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

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, Protocol

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model
from scipy.optimize import linprog
from scipy.sparse import csc_matrix

from staffing.policy import ChannelPolicy
from staffing.shift_rules import ShiftError, ShiftPlan, ShiftRules, ShiftType

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
_COST_SCALE = 100  # integer costs in 1/100 of a time unit (keeps cost factors exact)


@dataclass(frozen=True)
class _Columns:
    """Column set of one opening window: costs and coverage in time units."""

    type_idx: np.ndarray  # (m,)
    start_s: np.ndarray  # (m,)
    break_start_s: np.ndarray  # (m,), -1 when no break
    paid_units: np.ndarray  # (m,) int
    cover: np.ndarray  # (m, n_intervals) int units worked per interval


def _columns(
    rules: ShiftRules, window: tuple[int, int], interval_s: int, unit: int
) -> _Columns:
    o, c = window
    grid = int(rules.start_grid_s)
    bgrid = int(rules.break_grid_s or grid)
    n_units = _DAY_S // unit
    per = interval_s // unit
    t_idx, starts, breaks = [], [], []
    for k, st in enumerate(rules.shift_types):
        first = -(-o // grid) * grid
        for s in range(first, c - st.length_s + 1, grid):
            if st.break_s:
                lo, hi = st.break_window_s  # type: ignore[misc]
                offs = range(-(-lo // bgrid) * bgrid, hi + 1, bgrid)
                for off in offs:
                    t_idx.append(k)
                    starts.append(s)
                    breaks.append(s + off)
            else:
                t_idx.append(k)
                starts.append(s)
                breaks.append(-1)
    t = np.asarray(t_idx, dtype=np.int64)
    s = np.asarray(starts, dtype=np.int64)
    b = np.asarray(breaks, dtype=np.int64)
    length = np.asarray([st.length_s for st in rules.shift_types], dtype=np.int64)[t]
    brk = np.asarray([st.break_s for st in rules.shift_types], dtype=np.int64)[t]
    paid = np.asarray([st.paid_s for st in rules.shift_types], dtype=np.int64)[t]
    pos = np.arange(n_units, dtype=np.int64)[None, :] * unit
    work = (pos >= s[:, None]) & (pos < (s + length)[:, None])
    work &= ~((pos >= b[:, None]) & (pos < (b + brk)[:, None]))
    cover = work.reshape(len(t), n_units // per, per).sum(axis=2).astype(np.int64)
    return _Columns(t, s, b, paid // unit, cover)


def _unit(rules: ShiftRules, interval_s: int) -> int:
    vals = [interval_s, rules.start_grid_s, rules.break_grid_s or rules.start_grid_s, _DAY_S]
    for st in rules.shift_types:
        vals += [st.length_s, st.break_s]
        if st.break_s:
            vals += list(st.break_window_s)  # type: ignore[arg-type]
    return reduce(math.gcd, (int(v) for v in vals if v))


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


@dataclass
class _Block:
    """One solved unit: a day and one or more channel groups."""

    groups: list[tuple[str, tuple[str, ...]]]  # (group label, channels served)
    cols: list[_Columns]
    req: dict[str, np.ndarray]  # channel -> (n_intervals,) int required
    cap: dict[str, int | None]  # group label -> cap
    total_cap: int | None


def _build(block: _Block, per: int, penalty: Mapping[str, int], pool_factor: float,
           soft: bool):
    """Assemble ``min c.z  s.t.  A z >= b, 0 <= z <= ub`` for one block."""
    costs: list[np.ndarray] = []
    ubs: list[np.ndarray] = []
    rows: list[tuple[list[int], list[int], int]] = []
    # column variables, per group
    offsets = []
    nvar = 0
    for (_label, chans), cols in zip(block.groups, block.cols, strict=True):
        m = len(cols.paid_units)
        offsets.append(nvar)
        cost = cols.paid_units.astype(float) * _COST_SCALE
        if len(chans) > 1:
            cost = np.round(cost * pool_factor)
        costs.append(cost)
        big = max(1, int(max(block.req[ch].max(initial=0) for ch in chans)) + 1)
        ubs.append(np.full(m, big))
        nvar += m
    n_int = next(iter(block.req.values())).shape[0]
    # allocation variables of pooled groups: y[g][ch][i] for rows with demand
    alloc: dict[tuple[int, str], dict[int, int]] = {}
    for gi, (_label, chans) in enumerate(block.groups):
        if len(chans) > 1:
            for ch in chans:
                ids = {}
                for i in np.flatnonzero(block.req[ch] > 0):
                    ids[int(i)] = nvar
                    nvar += 1
                alloc[(gi, ch)] = ids
                costs.append(np.zeros(len(ids)))
                ubs.append(np.asarray([per * block.req[ch][i] for i in ids], dtype=float))
    # shortfall variables per (channel, interval) with demand
    short: dict[str, dict[int, int]] = {}
    for ch, r in block.req.items():
        ids = {}
        covered = np.zeros(n_int, dtype=bool)
        for (_label, chans), cols in zip(block.groups, block.cols, strict=True):
            if ch in chans:
                covered |= cols.cover.sum(axis=0) > 0
        for i in np.flatnonzero(r > 0):
            ids[int(i)] = nvar
            nvar += 1
        short[ch] = ids
        costs.append(np.full(len(ids), float(penalty[ch])))
        ub = [per * r[i] if (soft or not covered[i]) else 0 for i in ids]
        ubs.append(np.asarray(ub, dtype=float))
    # coverage rows: dedicated + allocated + short >= per * required
    pairs = list(zip(block.groups, block.cols, strict=True))
    for ch, r in block.req.items():
        for i, sid in short[ch].items():
            idx, val = [sid], [1]
            for gi, ((_label, chans), cols) in enumerate(pairs):
                if chans == (ch,):
                    nz = np.flatnonzero(cols.cover[:, i])
                    idx += (offsets[gi] + nz).tolist()
                    val += cols.cover[nz, i].tolist()
                elif ch in chans:
                    idx.append(alloc[(gi, ch)][i])
                    val.append(1)
            rows.append((idx, val, int(per * r[i])))
    # pool capacity rows: sum_ch y_ch,i <= pooled coverage_i
    for gi, ((_label, chans), cols) in enumerate(zip(block.groups, block.cols, strict=True)):
        if len(chans) > 1:
            for i in range(n_int):
                ys = [alloc[(gi, ch)][i] for ch in chans if i in alloc[(gi, ch)]]
                if not ys:
                    continue
                nz = np.flatnonzero(cols.cover[:, i])
                idx = (offsets[gi] + nz).tolist() + ys
                rows.append((idx, cols.cover[nz, i].tolist() + [-1] * len(ys), 0))
    # headcount caps
    for gi, (label, _chans) in enumerate(block.groups):
        cap = block.cap.get(label)
        if cap is not None:
            m = len(block.cols[gi].paid_units)
            rows.append((list(range(offsets[gi], offsets[gi] + m)), [-1] * m, -int(cap)))
    if block.total_cap is not None:
        ids = [
            j
            for gi in range(len(block.groups))
            for j in range(offsets[gi], offsets[gi] + len(block.cols[gi].paid_units))
        ]
        rows.append((ids, [-1] * len(ids), -int(block.total_cap)))
    c = np.concatenate(costs) if costs else np.zeros(0)
    ub = np.concatenate(ubs) if ubs else np.zeros(0)
    return c, ub, rows, offsets, alloc, short


def _highs_lp(
    c: np.ndarray, ub: np.ndarray, a: csc_matrix, rhs: np.ndarray
) -> tuple[float, np.ndarray] | None:
    """``min c.x  s.t.  a x >= rhs, 0 <= x <= ub`` with SciPy's bundled HiGHS, called
    directly (no :func:`~scipy.optimize.linprog` input checks: about 0.3 ms instead of
    1.2 ms on a day's model). ``None`` when that binding is unavailable (private SciPy
    module; :func:`_lp_bound` then uses ``linprog``)."""
    try:
        from scipy.optimize._highspy import _core as h
    except ImportError:  # pragma: no cover - depends on the SciPy build
        return None
    try:
        lp = h.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = c
        lp.col_lower_ = np.zeros(len(c))
        lp.col_upper_ = np.asarray(ub, float)
        lp.row_lower_ = rhs
        lp.row_upper_ = np.full(len(rhs), np.inf)
        m = lp.a_matrix_
        m.format_ = h.MatrixFormat.kColwise
        m.num_col_, m.num_row_ = a.shape[1], a.shape[0]
        m.start_, m.index_, m.value_ = a.indptr, a.indices, a.data
        solver = h._Highs()
        solver.setOptionValue("output_flag", False)
        solver.setOptionValue("presolve", "off")  # small LPs: presolve costs more than it saves
        solver.setOptionValue("threads", 1)
        solver.passModel(lp)
        solver.run()
        if solver.getModelStatus() != h.HighsModelStatus.kOptimal:
            return None  # let linprog report the failure with its message
        x = np.asarray(solver.getSolution().col_value, dtype=float)
    except (AttributeError, TypeError):  # pragma: no cover - binding changed
        return None
    return float(c @ x), x


def _lp_bound(c: np.ndarray, ub: np.ndarray, rows) -> tuple[float, np.ndarray]:
    if not rows:
        return 0.0, np.zeros(len(c))
    data, ri, ci, rhs = [], [], [], []
    for r, (idx, val, b) in enumerate(rows):
        ci += idx
        data += val
        ri += [r] * len(idx)
        rhs.append(b)
    a = csc_matrix((np.asarray(data, float), (ri, ci)), shape=(len(rows), len(c)))
    b = np.asarray(rhs, float)
    fast = _highs_lp(c, ub, a, b)
    if fast is not None:
        return fast
    res = linprog(
        c, A_ub=-a, b_ub=-b, bounds=np.c_[np.zeros(len(c)), ub], method="highs",
        options={"presolve": False},
    )
    if res.status != 0:
        raise ShiftError(f"LP relaxation failed: {res.message}")
    return float(res.fun), res.x


def _round_lp(
    c: np.ndarray,
    ub: np.ndarray,
    rows,
    n_cols: int,
    x_lp: np.ndarray,
    target: float,
) -> tuple[np.ndarray, float] | None:
    """Integer plan rounded from the LP solution: ``(z, objective)`` or ``None``.

    From the LP's column values rounded down (within every cap) :func:`_repair` adds and
    removes agents until every hard row is covered and no single agent more or less pays.
    While the plan costs more than ``target``, it tries the LP rounded up (when no cap
    applies) and then, once, each used column with one agent less, repaired again.
    Only for blocks without a multi-skill pool (rows are coverage rows
    ``short_i + a_i.x >= b_i`` with ``b_i > 0`` and cap rows ``-sum x >= -cap``);
    ``None`` when a hard row stays short.
    """
    cov = [r for r in rows if r[2] > 0]
    cap_rows = [r for r in rows if r[2] <= 0]
    a = np.zeros((len(cov), n_cols))
    sid = np.fromiter((r[0][0] for r in cov), dtype=np.int64, count=len(cov))
    b = np.fromiter((r[2] for r in cov), dtype=float, count=len(cov))
    for k, (idx, val, _b) in enumerate(cov):
        a[k, idx[1:]] = val[1:]
    cost = c[:n_cols]
    hard = ub[sid] < b  # shortfall bounded below the requirement: must be covered
    big = 1e6 * (float(cost.max(initial=1.0)) + float(c[sid].max(initial=1.0)))
    w = np.where(hard, big, c[sid])
    capm = np.zeros((len(cap_rows), n_cols))
    capv = np.zeros(len(cap_rows))
    for k, (idx, _val, bb) in enumerate(cap_rows):
        capm[k, idx] = 1.0
        capv[k] = -bb

    def objective(x: np.ndarray) -> float:
        return float(cost @ x + w @ np.clip(b - a @ x, 0.0, None))

    best = _repair(a, b, w, cost, capm, capv, np.floor(x_lp[:n_cols] + 1e-9))
    if objective(best) > target + 1e-9 and not len(capv):
        up = _repair(a, b, w, cost, capm, capv, np.ceil(x_lp[:n_cols] - 1e-9))
        best = up if objective(up) < objective(best) else best
    if objective(best) > target + 1e-9:
        for j in np.flatnonzero(best)[np.argsort(-cost[best > 0], kind="stable")]:
            if best[j] == 0:
                continue
            x = best.copy()
            x[j] -= 1
            x = _repair(a, b, w, cost, capm, capv, x)
            if objective(x) < objective(best):
                best = x
    d = b - a @ best
    if (d[hard] > 1e-9).any() or (best > ub[:n_cols]).any():
        return None
    z = np.zeros(len(c), dtype=np.int64)
    z[:n_cols] = best.astype(np.int64)
    z[sid] = np.rint(np.clip(d, 0.0, None)).astype(np.int64)
    return z, float(c @ z)


def _repair(a, b, w, cost, capm, capv, x: np.ndarray) -> np.ndarray:
    """Greedy cover, then drop: add the column covering the most weighted shortfall per
    unit of cost while that pays (and its caps allow), then remove agents whose cost
    exceeds the weighted shortfall their removal opens, most expensive columns first."""
    x = x.copy()
    d = b - a @ x
    slack = capv - capm @ x
    while True:
        pos = np.clip(d, 0.0, None)
        if not pos.any() or not len(cost):  # covered, or no shift fits the window
            break
        value = (w[:, None] * np.minimum(a, pos[:, None])).sum(axis=0) / cost
        if len(capv):
            value[(capm[slack < 0.5] > 0).any(axis=0)] = 0.0
        j = int(np.argmax(value))
        if value[j] <= 1.0:
            break
        x[j] += 1
        d -= a[:, j]
        slack -= capm[:, j]
    for j in np.argsort(-cost, kind="stable"):
        while x[j] > 0:
            extra = np.clip(d + a[:, j], 0.0, None) - np.clip(d, 0.0, None)
            if w @ extra >= cost[j]:
                break
            x[j] -= 1
            d += a[:, j]
    return x


def _solve_block(block: _Block, rules: ShiftRules, per: int, soft: bool):
    penalty = {ch: max(1, round(rules.understaffing_penalty * rules.weight(ch) * per
                                * _COST_SCALE)) for ch in block.req}
    c, ub, rows, offsets, alloc, short = _build(
        block, per, penalty, rules.multiskill_cost_factor, soft
    )
    lb, x_lp = _lp_bound(c, ub, rows)
    # integer costs: no plan can cost less than ceil(LP bound); stop there (optimal) or,
    # with relative_gap > 0, as soon as a plan is that close to the LP bound
    step = reduce(math.gcd, (int(v) for v in c if v), 0) or 1  # objective is a multiple
    floor_obj = step * math.ceil(lb / step - 1e-6)
    target = max(floor_obj, lb * (1.0 + float(rules.relative_gap)))
    n_cols = sum(len(cl.paid_units) for cl in block.cols)
    rounded = None
    # under a headcount cap the rounded plan tends to sit just inside the gap where CP-SAT
    # finds a plan with less shortfall: there it is kept only when it is optimal
    accept = floor_obj if soft else target
    if not alloc:  # no multi-skill pool: try the LP rounded to whole agents first
        t0 = time.perf_counter()
        rounded = _round_lp(c, ub, rows, n_cols, x_lp, accept)
        if rounded is not None and rounded[1] <= accept + 1e-9:
            z, obj = rounded
            name = "OPTIMAL" if obj <= floor_obj else "FEASIBLE"
            return name, obj, lb, z, offsets, alloc, short, time.perf_counter() - t0
    model = cp_model.CpModel()
    z = [model.new_int_var(0, int(u), "") for u in ub]
    for idx, val, b in rows:
        model.add(cp_model.LinearExpr.weighted_sum([z[j] for j in idx], val) >= b)
    model.minimize(cp_model.LinearExpr.weighted_sum(z, c.astype(np.int64).tolist()))
    if soft:  # LP rounded down is within every cap; the shortfall makes it feasible
        hint = np.zeros(len(z), dtype=np.int64)
        hint[:n_cols] = np.floor(x_lp[:n_cols] + 1e-9)
        short_ids = {v for ids in short.values() for v in ids.values()}
        for idx, val, b in rows:
            if idx and idx[0] in short_ids:
                have = sum(v * int(hint[j]) for j, v in zip(idx[1:], val[1:], strict=True))
                hint[idx[0]] = min(int(ub[idx[0]]), max(0, b - have))
        for j, h in enumerate(hint):
            model.add_hint(z[j], int(h))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(rules.time_limit_s)
    solver.parameters.num_workers = int(rules.num_workers)
    solver.parameters.relative_gap_limit = float(rules.relative_gap)
    stop = _StopNear(target)
    status = solver.solve(model, stop)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise ShiftError(
            f"CP-SAT found no plan ({solver.status_name(status)}): the headcount cap or "
            "shift rules leave no feasible plan"
        )
    zv = np.asarray(solver.values(z), dtype=np.int64) if z else np.zeros(0, np.int64)
    obj = float(solver.objective_value)
    proven = status == cp_model.OPTIMAL and not stop.stopped
    if rounded is not None and rounded[1] < obj - 1e-9:  # CP-SAT stopped at its time limit
        zv, obj, proven = rounded[0], rounded[1], False
    name = "OPTIMAL" if proven or obj <= floor_obj else "FEASIBLE"
    return name, obj, lb, zv, offsets, alloc, short, float(solver.wall_time)


class _StopNear(cp_model.CpSolverSolutionCallback):
    """Stop the search once a solution's objective is at most ``target``."""

    def __init__(self, target: float) -> None:
        super().__init__()
        self._target = target
        self.stopped = False

    def on_solution_callback(self) -> None:
        if self.objective_value <= self._target + 1e-9:
            self.stopped = True
            self.stop_search()


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
        (``paid_hours``, ``objective``, ``lower_bound``, ``gap``, ``overstaffing``).

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
    if column is None:
        column = "rostered" if "rostered" in requirements.columns else "agents"
    missing = {"channel", "ds", column} - set(requirements.columns)
    if missing:
        raise ShiftError(f"requirements is missing column(s) {sorted(missing)}")
    pol: dict[str, ChannelPolicy] = {}
    if policies is not None:
        items = policies.values() if isinstance(policies, Mapping) else policies
        pol = {p.channel: p for p in items}
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
    n_int = _DAY_S // interval_s
    unit = _unit(rules, interval_s)
    per = interval_s // unit

    channels = sorted(req["channel"].astype(str).unique())
    pool = tuple(ch for ch in rules.multiskill if ch in channels)
    groups: list[tuple[str, tuple[str, ...]]] = []
    pool_label = "+".join(sorted(pool)) if len(pool) > 1 else None
    for ch in channels:
        groups.append((ch, (ch,)))
    if pool_label:
        groups.append((pool_label, tuple(sorted(pool))))
    labels = [g[0] for g in groups]
    caps, total_cap = _caps(headcount_cap, labels)
    soft = headcount_cap is not None

    col_cache: dict[tuple[int, int], _Columns] = {}

    def window_of(chans: tuple[str, ...]) -> tuple[int, int]:
        wins = [rules.window(ch, pol.get(ch)) for ch in chans]
        return (min(w[0] for w in wins), max(w[1] for w in wins))

    rules_key = repr(rules) if block_cache is not None else None

    def cols_for(chans: tuple[str, ...]) -> _Columns:
        win = window_of(chans)
        if win not in col_cache:
            col_cache[win] = _columns(rules, win, interval_s, unit)
        return col_cache[win]

    # units: which groups are solved together
    if total_cap is not None or pool_label:
        # a shared cap or a pool couples channels of the day (pool members at least)
        coupled = [labels] if total_cap is not None else [[*pool, pool_label]]
        singles = [] if total_cap is not None else [[g] for g in labels if g not in coupled[0]]
        units = coupled + singles
    else:
        units = [[g] for g in labels]
    gdict = dict(groups)

    need = {
        (d, ch): g
        for (d, ch), g in req.groupby(["date", "channel"], sort=True)[["i", "need"]]
    }
    dates = sorted({d for d, _ in need})
    plan_rows, cov_rows, day_rows = [], [], []
    for d in dates:
        for unit_labels in units:
            blk_groups = [(lab, gdict[lab]) for lab in unit_labels]
            chans = sorted({ch for _lab, cs in blk_groups for ch in cs})
            r = {}
            for ch in chans:
                arr = np.zeros(n_int, dtype=np.int64)
                g = need.get((d, ch))
                if g is not None:
                    np.maximum.at(arr, g["i"].to_numpy(), g["need"].to_numpy())
                r[ch] = arr
            if not any(a.any() for a in r.values()):
                for ch in chans:
                    if (d, ch) in need:
                        cov_rows.append((ch, d, r[ch], np.zeros(n_int)))
                continue
            blk = _Block(blk_groups, [cols_for(cs) for _l, cs in blk_groups], r, caps, total_cap)
            key = None
            if block_cache is not None:
                key = (
                    "shift-block", rules_key, interval_s, tuple(blk_groups),
                    tuple(window_of(cs) for _l, cs in blk_groups),
                    tuple((ch, r[ch].tobytes()) for ch in chans),
                    tuple(caps.get(lab) for lab in unit_labels), total_cap, soft,
                )
                solved = block_cache.get(key)
                if solved is not None:  # reused: no solver time spent in this call
                    solved = (*solved[:-1], 0.0)
            if key is None or solved is None:
                solved = _solve_block(blk, rules, per, soft)
                if key is not None:
                    block_cache.put(key, solved)
            status, obj, lb, z, offsets, alloc, short, wall = solved
            paid_units = 0
            scheduled = {ch: np.zeros(n_int) for ch in chans}
            for gi, ((label, cs), cols) in enumerate(zip(blk_groups, blk.cols, strict=True)):
                x = z[offsets[gi] : offsets[gi] + len(cols.paid_units)]
                used = np.flatnonzero(x)
                paid_units += int((x * cols.paid_units).sum())
                if len(cs) == 1:
                    scheduled[cs[0]] += (x @ cols.cover) / per
                else:
                    for ch in cs:
                        for i, vid in alloc[(gi, ch)].items():
                            scheduled[ch][i] += z[vid] / per
                for j in used:
                    st = rules.shift_types[cols.type_idx[j]]
                    start = d + pd.Timedelta(seconds=int(cols.start_s[j]))
                    b = int(cols.break_start_s[j])
                    plan_rows.append(
                        {
                            "date": d,
                            "channel": label,
                            "shift": st.name,
                            "shift_start": start,
                            "shift_end": start + pd.Timedelta(seconds=st.length_s),
                            "break_start": d + pd.Timedelta(seconds=b) if b >= 0 else pd.NaT,
                            "break_end": (
                                d + pd.Timedelta(seconds=b + st.break_s) if b >= 0 else pd.NaT
                            ),
                            "agents": int(x[j]),
                            "paid_hours": st.paid_s / 3600,
                        }
                    )
            short_units = sum(int(z[v]) for ids in short.values() for v in ids.values())
            for ch in chans:
                if (d, ch) in need:
                    cov_rows.append((ch, d, r[ch], scheduled[ch]))
            day_rows.append(
                {
                    "date": d,
                    "group": "+".join(unit_labels) if len(unit_labels) > 1 else unit_labels[0],
                    "status": status,
                    "objective_h": obj * unit / 3600 / _COST_SCALE,
                    "lower_bound_h": lb * unit / 3600 / _COST_SCALE,
                    "paid_hours": paid_units * unit / 3600,
                    "short_agent_hours": short_units * unit / 3600,
                    "solver_s": wall,
                }
            )
    coverage = _coverage_frame(cov_rows, req, interval_s)
    shift_plan = pd.DataFrame(
        plan_rows,
        columns=[
            "date", "channel", "shift", "shift_start", "shift_end", "break_start", "break_end",
            "agents", "paid_hours",
        ],
    )
    if len(shift_plan):
        shift_plan = shift_plan.sort_values(["date", "channel", "shift_start", "break_start"])
        shift_plan = shift_plan.reset_index(drop=True)
    days = pd.DataFrame(
        day_rows,
        columns=[
            "date", "group", "status", "objective_h", "lower_bound_h", "paid_hours",
            "short_agent_hours", "solver_s",
        ],
    )
    return ShiftPlan(shift_plan, coverage, days, interval_s)


def _coverage_frame(cov_rows, req: pd.DataFrame, interval_s: int) -> pd.DataFrame:
    if not cov_rows:
        return pd.DataFrame(columns=["channel", "ds", "required", "scheduled", "gap", "short"])
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
    cov["gap"] = cov["scheduled"] - cov["required"]
    cov["short"] = np.clip(-cov["gap"], 0, None)
    return cov.sort_values(["channel", "ds"]).reset_index(drop=True)
