"""One block of the shift problem (a day, one or more channel groups): model and solver.

Why it is long: the column model, its LP bound and the CP-SAT search with its
deterministic stopping rule and fallback are one model of one block; apart, each half
would need the other's internals.

A *column* is one shift type starting at one grid time with its break at one allowed
offset (:func:`shift_columns`); a :class:`Block` holds a day's columns per channel group,
the required agents per interval and the headcount caps. :func:`solve_block` solves it in
four steps and returns a :class:`BlockSolution`:

1. build the covering model ``min c.z  s.t.  A z >= b, 0 <= z <= ub`` in integer units
   (:func:`build_model`);
2. solve its LP relaxation with HiGHS (:func:`lp_relaxation`): the block's lower bound;
3. round the LP solution to whole agents (:func:`round_lp` with a greedy repair, or,
   with a multi-skill pool, :func:`round_simple`): the plan in hand. It is kept without
   further search when it meets the stopping rule: within ``relative_gap`` of the LP
   bound, or, under a headcount cap, at ``ceil(LP bound)`` (optimal);
4. otherwise CP-SAT searches (from that plan under a cap) with one worker (or
   interleaved workers), a fixed seed and a *deterministic* work limit, so the result is
   the same on a fast and a slow machine. The better of the plan in hand and CP-SAT's
   plan is kept; when CP-SAT finds nothing within its limit the plan in hand is returned
   with its gap.

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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce

import numpy as np
from ortools.sat.python import cp_model
from scipy.optimize import linprog
from scipy.sparse import csc_matrix

from staffing.shift_rules import ShiftError, ShiftRules

__all__ = [
    "COST_SCALE",
    "Block",
    "BlockModel",
    "BlockSolution",
    "Columns",
    "build_model",
    "highs_lp",
    "lp_relaxation",
    "round_lp",
    "round_simple",
    "shift_columns",
    "solve_block",
    "time_unit",
]

DAY_S = 86400
#: Integer costs are in 1/COST_SCALE of a time unit (keeps cost factors exact).
COST_SCALE = 100


@dataclass(frozen=True)
class Columns:
    """Column set of one opening window: costs and coverage in time units."""

    type_idx: np.ndarray  # (m,)
    start_s: np.ndarray  # (m,)
    break_start_s: np.ndarray  # (m,), -1 when no break
    paid_units: np.ndarray  # (m,) int
    cover: np.ndarray  # (m, n_intervals) int units worked per interval


def shift_columns(
    rules: ShiftRules, window: tuple[int, int], interval_s: int, unit: int
) -> Columns:
    """Every (shift type, start, break offset) that fits inside ``window`` (seconds of
    the day), with its paid time and the units it works in each interval."""
    o, c = window
    grid = int(rules.start_grid_s)
    bgrid = int(rules.break_grid_s or grid)
    n_units = DAY_S // unit
    per = interval_s // unit
    t_idx, starts, breaks = [], [], []
    for k, st in enumerate(rules.shift_types):
        first = -(-o // grid) * grid
        for s in range(first, c - st.length_s + 1, grid):
            if st.break_s:
                lo, hi = st.break_window_s  # type: ignore[misc]
                for off in range(-(-lo // bgrid) * bgrid, hi + 1, bgrid):
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
    return Columns(t, s, b, paid // unit, cover)


def time_unit(rules: ShiftRules, interval_s: int) -> int:
    """Common time unit in seconds: the gcd of the interval, grids and shift lengths."""
    vals = [interval_s, rules.start_grid_s, rules.break_grid_s or rules.start_grid_s, DAY_S]
    for st in rules.shift_types:
        vals += [st.length_s, st.break_s]
        if st.break_s:
            vals += list(st.break_window_s)  # type: ignore[arg-type]
    return reduce(math.gcd, (int(v) for v in vals if v))


@dataclass
class Block:
    """One solved unit: a day and one or more channel groups."""

    groups: list[tuple[str, tuple[str, ...]]]  # (group label, channels served)
    cols: list[Columns]
    req: dict[str, np.ndarray]  # channel -> (n_intervals,) int required
    cap: Mapping[str, int | None]  # group label -> cap
    total_cap: int | None


@dataclass(frozen=True)
class BlockModel:
    """``min c.z  s.t.  rows: sum(val * z[idx]) >= rhs, 0 <= z <= ub`` of one block.

    ``z`` holds the column variables of each group (from ``offsets[g]``, ``n_cols`` in
    all), then the allocation variables of a pooled group (``alloc[(g, channel)]``: interval
    -> variable) and the shortfall variables (``short[channel]``: interval -> variable).
    """

    c: np.ndarray
    ub: np.ndarray
    rows: list[tuple[list[int], list[int], int]]
    offsets: list[int]
    alloc: dict[tuple[int, str], dict[int, int]]
    short: dict[str, dict[int, int]]
    n_cols: int


@dataclass(frozen=True)
class BlockSolution:
    """A block's plan: ``z`` over :class:`BlockModel`'s variables and its figures.

    ``objective`` and ``lower_bound`` (the LP relaxation's) are in integer cost units
    (``COST_SCALE`` per time unit); ``proven`` is true when no plan costs less;
    ``source`` says which step produced the plan (``"rounded LP"`` or ``"CP-SAT"``).
    """

    proven: bool
    objective: float
    lower_bound: float
    z: np.ndarray
    offsets: tuple[int, ...]
    alloc: Mapping[tuple[int, str], Mapping[int, int]]
    short: Mapping[str, Mapping[int, int]]
    source: str
    solver_s: float


def build_model(
    block: Block, per: int, penalty: Mapping[str, int], pool_factor: float, soft: bool
) -> BlockModel:
    """Assemble the block's covering model (see :class:`BlockModel`)."""
    costs: list[np.ndarray] = []
    ubs: list[np.ndarray] = []
    rows: list[tuple[list[int], list[int], int]] = []
    # column variables, per group
    offsets = []
    nvar = 0
    for (_label, chans), cols in zip(block.groups, block.cols, strict=True):
        m = len(cols.paid_units)
        offsets.append(nvar)
        cost = cols.paid_units.astype(float) * COST_SCALE
        if len(chans) > 1:
            cost = np.round(cost * pool_factor)
        costs.append(cost)
        big = max(1, int(max(block.req[ch].max(initial=0) for ch in chans)) + 1)
        ubs.append(np.full(m, big))
        nvar += m
    n_cols = nvar
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
    for gi, ((_label, chans), cols) in enumerate(pairs):
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
        rows.append((list(range(n_cols)), [-1] * n_cols, -int(block.total_cap)))
    c = np.concatenate(costs) if costs else np.zeros(0)
    ub = np.concatenate(ubs) if ubs else np.zeros(0)
    return BlockModel(c, ub, rows, offsets, alloc, short, n_cols)


def highs_lp(
    c: np.ndarray, ub: np.ndarray, a: csc_matrix, rhs: np.ndarray
) -> tuple[float, np.ndarray] | None:
    """``min c.x  s.t.  a x >= rhs, 0 <= x <= ub`` with SciPy's bundled HiGHS, called
    directly (no :func:`~scipy.optimize.linprog` input checks: about 0.3 ms instead of
    1.2 ms on a day's model). ``None`` when that binding is unavailable or the LP is not
    solved to optimality (:func:`lp_relaxation` then uses ``linprog``)."""
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


def lp_relaxation(model: BlockModel) -> tuple[float, np.ndarray]:
    """LP relaxation of ``model``: ``(bound, x)``. Raises :class:`ShiftError` if it fails."""
    c, ub, rows = model.c, model.ub, model.rows
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
    fast = highs_lp(c, ub, a, b)
    if fast is not None:
        return fast
    res = linprog(
        c, A_ub=-a, b_ub=-b, bounds=np.c_[np.zeros(len(c)), ub], method="highs",
        options={"presolve": False},
    )
    if res.status != 0:
        raise ShiftError(f"LP relaxation failed: {res.message}")
    return float(res.fun), res.x


def round_lp(
    model: BlockModel, x_lp: np.ndarray, target: float
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
    c, ub, rows, n_cols = model.c, model.ub, model.rows, model.n_cols
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


def round_simple(
    block: Block, model: BlockModel, x_lp: np.ndarray, per: int, soft: bool
) -> tuple[np.ndarray, float] | None:
    """Any block (multi-skill pools too): whole agents from the LP, pooled time shared out
    per interval, the rest short (:func:`_allocate`).

    Without a cap the LP is rounded up: every interval a shift can reach stays covered
    (rounding up never lowers coverage, and the LP's allocation of pooled time shows the
    pool has room for every channel's remaining need). Under a cap it is rounded down (so
    that every cap holds), then each column the LP used fractionally gets one agent more,
    largest fraction first, where the caps allow and the cost falls. Last, one agent at a
    time is dropped, smallest LP value first, while the plan stays feasible and the cost
    falls. ``None`` when a hard row stays short (never expected).
    """
    n = model.n_cols
    x_lp = np.minimum(x_lp[:n], model.ub[:n])
    x = np.floor(x_lp + 1e-9) if soft else np.ceil(x_lp - 1e-9)
    best = _allocate(block, model, x, per)
    if best is None:
        return None
    if soft:
        cap_rows = [(idx, -rhs) for idx, val, rhs in model.rows
                    if rhs <= 0 and idx and max(idx) < n and all(v == -1 for v in val)]
        capm = np.zeros((len(cap_rows), n))
        for k, (idx, _cap) in enumerate(cap_rows):
            capm[k, idx] = 1.0
        capv = np.asarray([cap for _idx, cap in cap_rows], dtype=float)
        frac = x_lp - x
        for j in np.argsort(-frac, kind="stable"):
            if frac[j] <= 1e-9:
                break
            if len(capv) and (capm[:, j] * (capv - capm @ x < 1)).any():
                continue  # a cap on this column is full
            x[j] += 1
            trial = _allocate(block, model, x, per)
            if trial is not None and trial[1] < best[1]:
                best = trial
            else:
                x[j] -= 1
    for j in np.argsort(x_lp, kind="stable"):
        while x[j] > 0:
            x[j] -= 1
            trial = _allocate(block, model, x, per)
            if trial is None or trial[1] >= best[1]:
                x[j] += 1
                break
            best = trial
    return best


def _allocate(
    block: Block, model: BlockModel, x_cols: np.ndarray, per: int
) -> tuple[np.ndarray, float] | None:
    """``(z, objective)`` for whole agents ``x_cols`` on the columns: pooled time shared
    out per interval (channels whose shortfall is not allowed first, then the dearest
    shortfall first), the rest short; ``None`` when a hard row stays short."""
    z = np.zeros(len(model.c), dtype=np.int64)
    z[: model.n_cols] = x_cols.astype(np.int64)
    pairs = list(zip(block.groups, block.cols, strict=True))
    residual: dict[str, np.ndarray] = {}
    for ch, r in block.req.items():
        have = np.zeros(len(r), dtype=np.int64)
        for gi, ((_label, chans), cols) in enumerate(pairs):
            if chans == (ch,):
                off = model.offsets[gi]
                have = have + z[off : off + len(cols.paid_units)] @ cols.cover
        residual[ch] = np.clip(per * r - have, 0, None)

    def rank(ch: str) -> tuple[bool, float]:
        ids = list(model.short[ch].values())
        return (bool((model.ub[ids] > 0).all()), -float(model.c[ids].max(initial=0.0)))

    for gi, ((_label, chans), cols) in enumerate(pairs):
        if len(chans) == 1:
            continue
        off = model.offsets[gi]
        room = z[off : off + len(cols.paid_units)] @ cols.cover
        for ch in sorted(chans, key=rank):
            for i, vid in model.alloc[(gi, ch)].items():
                give = int(min(residual[ch][i], room[i], model.ub[vid]))
                z[vid] = give
                room[i] -= give
                residual[ch][i] -= give
    for ch, ids in model.short.items():
        for i, sid in ids.items():
            if residual[ch][i] > model.ub[sid]:
                return None
            z[sid] = residual[ch][i]
    return z, float(model.c @ z)


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


def _cp_sat(
    model: BlockModel, rules: ShiftRules, hint: np.ndarray | None, target: float
) -> tuple[np.ndarray, float, bool] | None:
    """CP-SAT on ``model``, stopped deterministically: ``(z, objective, proven)``, or
    ``None`` when it found no plan within ``rules.work_limit``.

    One worker (or ``interleave_search`` with several), ``rules.seed`` and a limit on
    CP-SAT's deterministic time (not wall-clock time) make the result independent of the
    machine's speed and load.
    """
    cp = cp_model.CpModel()
    z = [cp.new_int_var(0, int(u), "") for u in model.ub]
    for idx, val, b in model.rows:
        cp.add(cp_model.LinearExpr.weighted_sum([z[j] for j in idx], val) >= b)
    cp.minimize(cp_model.LinearExpr.weighted_sum(z, model.c.astype(np.int64).tolist()))
    if hint is not None:
        for j, h in enumerate(hint):
            cp.add_hint(z[j], int(h))
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_deterministic_time = float(rules.work_limit)
    params.num_workers = int(rules.num_workers)
    params.interleave_search = int(rules.num_workers) > 1
    params.random_seed = int(rules.seed)
    params.relative_gap_limit = float(rules.relative_gap)
    stop = _StopNear(target)
    status = solver.solve(cp, stop)
    if status == cp_model.INFEASIBLE or status == cp_model.MODEL_INVALID:
        raise ShiftError(
            f"CP-SAT found no plan ({solver.status_name(status)}): the headcount cap or "
            "shift rules leave no feasible plan"
        )
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None  # UNKNOWN: the work limit ran out before a first plan
    zv = np.asarray(solver.values(z), dtype=np.int64) if z else np.zeros(0, np.int64)
    return zv, float(solver.objective_value), status == cp_model.OPTIMAL and not stop.stopped


def solve_block(block: Block, rules: ShiftRules, per: int, soft: bool) -> BlockSolution:
    """Solve one block in the four steps of the module docstring.

    ``per`` is the number of time units per interval; ``soft`` makes coverage soft (under a
    headcount cap). Raises :class:`ShiftError` when no plan exists.
    """
    t0 = time.perf_counter()
    penalty = {ch: max(1, round(rules.understaffing_penalty * rules.weight(ch) * per
                                * COST_SCALE)) for ch in block.req}
    model = build_model(block, per, penalty, rules.multiskill_cost_factor, soft)
    lb, x_lp = lp_relaxation(model)
    # integer costs: no plan can cost less than ceil(LP bound); stop there (optimal) or,
    # with relative_gap > 0, as soon as a plan is that close to the LP bound
    step = reduce(math.gcd, (int(v) for v in model.c if v), 0) or 1  # objective's multiple
    floor_obj = step * math.ceil(lb / step - 1e-6)
    target = max(floor_obj, lb * (1.0 + float(rules.relative_gap)))
    # under a headcount cap the rounded plan tends to sit just inside the gap where CP-SAT
    # finds a plan with less shortfall: there it is kept only when it is optimal
    accept = floor_obj if soft else target
    in_hand = round_lp(model, x_lp, accept) if not model.alloc else None
    if in_hand is None:
        in_hand = round_simple(block, model, x_lp, per, soft)

    def done(z: np.ndarray, obj: float, proven: bool, source: str) -> BlockSolution:
        return BlockSolution(
            proven or obj <= floor_obj, obj, lb, z, tuple(model.offsets), model.alloc,
            model.short, source, time.perf_counter() - t0,
        )

    if in_hand is not None and in_hand[1] <= accept + 1e-9:
        return done(*in_hand, False, "rounded LP")
    # under a cap the plan in hand is a good start (measured: less work, smaller gap);
    # without one CP-SAT does better from its own first solution
    hint = in_hand[0] if soft and in_hand is not None else None
    found = _cp_sat(model, rules, hint, target)
    if found is None or (in_hand is not None and in_hand[1] < found[1] - 1e-9):
        if in_hand is None:
            raise ShiftError(
                f"CP-SAT found no plan within work_limit={rules.work_limit!r} and no rounded "
                "plan exists: raise ShiftRules.work_limit"
            )
        return done(*in_hand, False, "rounded LP")
    return done(*found, "CP-SAT")
