"""Shift solver: coverage, objective and LP bound on instances with known optima.

References used below: hand computations (stated next to each case) and, for random small
instances, an independently coded set-covering model (columns enumerated minute by
minute here) solved to optimality by HiGHS through ``scipy.optimize.milp``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from staffing.shifts import ShiftError, ShiftRules, ShiftType, solve_shifts

DAY = pd.Timestamp("2024-11-29")
H = 3600


def _req(channel: str, start: str, values, interval_s: int = 1800, day=DAY) -> pd.DataFrame:
    steps = pd.to_timedelta(np.arange(len(values)) * interval_s, "s")
    ds = day + pd.Timedelta(start + ":00") + steps
    return pd.DataFrame({"channel": channel, "ds": ds, "rostered": values})


def _covered(plan) -> None:
    cov = plan.coverage
    assert (cov["scheduled"] + 1e-9 >= cov["required"]).all()
    assert (cov["short"] == 0).all()


def test_flat_day_without_breaks_is_exact():
    # 2 agents needed 08:00-16:00, only 8 h shifts without break: 2 x 8 h = 16 h.
    rules = ShiftRules((ShiftType("8h", 8 * H),), open_hours={"voice": ("08:00", "16:00")})
    plan = solve_shifts(_req("voice", "08:00", [2] * 16), rules, interval_s=1800)
    _covered(plan)
    assert plan.paid_hours == pytest.approx(16.0)
    assert plan.lower_bound == pytest.approx(16.0)
    assert plan.status == "OPTIMAL"
    row = plan.shift_plan.iloc[0]
    assert (row["shift_start"], row["shift_end"], row["agents"]) == (
        DAY + pd.Timedelta("08:00:00"), DAY + pd.Timedelta("16:00:00"), 2,
    )


def test_breaks_move_away_from_the_peak():
    # 1 agent needed 08:00-16:00 and 2 at 12:00-13:00; 8 h shifts with a 30-min unpaid
    # break starting 2-5 h in (10:00-13:00). The peak needs 2 agents on the floor, so at
    # least 2 shifts (LP bound too: every column covers the 12:00 interval at most once):
    # 2 x 7.5 h = 15 h, feasible only with both breaks outside 12:00-13:00, at different
    # times.
    st = ShiftType("8h", 8 * H, 1800, False, (2 * H, 5 * H))
    rules = ShiftRules((st,), open_hours={"voice": ("08:00", "16:00")}, relative_gap=0.0)
    need = [1] * 16
    need[8] = need[9] = 2
    plan = solve_shifts(_req("voice", "08:00", need), rules, interval_s=1800)
    _covered(plan)
    assert plan.paid_hours == pytest.approx(15.0)
    assert plan.lower_bound == pytest.approx(15.0)
    breaks = plan.shift_plan.loc[plan.shift_plan.index.repeat(plan.shift_plan["agents"])]
    hours = (breaks["break_start"] - DAY).dt.total_seconds() / H
    assert len(hours) == 2 and hours.nunique() == 2
    assert not ((hours >= 12) & (hours < 13)).any()


def test_flat_day_with_breaks_needs_a_third_agent():
    # 2 agents needed in all 16 half-hours; each 8 h shift works 15 of them (30-min
    # break), so 2 shifts cover at most 30 < 32 agent-intervals: 3 shifts = 22.5 h.
    # LP bound: with S shifts in all and x_k breaking at the k-th of the 7 allowed break
    # intervals (10:00..13:00), S - x_k >= 2 for each k and sum x_k = S, so
    # S <= 7 (S - 2), S >= 14/6, and the bound is 14/6 x 7.5 h = 17.5 h.
    st = ShiftType("8h", 8 * H, 1800, False, (2 * H, 5 * H))
    rules = ShiftRules((st,), open_hours={"voice": ("08:00", "16:00")}, relative_gap=0.0)
    plan = solve_shifts(_req("voice", "08:00", [2] * 16), rules, interval_s=1800)
    _covered(plan)
    assert plan.paid_hours == pytest.approx(22.5)
    assert plan.lower_bound == pytest.approx(17.5)
    assert plan.gap == pytest.approx(22.5 / 17.5 - 1)
    assert plan.overstaffing == pytest.approx((3 * 15 - 32) / 32)


def test_quarter_hour_break_gives_fractional_coverage():
    # 15-min break in 30-min intervals: the break interval is covered 0.5 by that agent.
    # 1 agent needed 08:00-16:00 -> 2 shifts of 7.75 paid hours = 15.5 h.
    # LP bound: X_k agents break within the k-th of the 7 half-hours 10:00..13:00 (two
    # quarter-hour starts each, one for 13:00); S - X_k / 2 >= 1 and sum X_k = S give
    # S <= 7 x 2 (S - 1), S >= 14/13, bound 14/13 x 7.75 h.
    st = ShiftType("8h", 8 * H, 900, False, (2 * H, 5 * H))
    rules = ShiftRules(
        (st,), break_grid_s=900, open_hours={"chat": ("08:00", "16:00")}, relative_gap=0.0
    )
    plan = solve_shifts(_req("chat", "08:00", [1] * 16), rules, interval_s=1800)
    _covered(plan)
    assert plan.paid_hours == pytest.approx(15.5)
    # each quarter-hour break takes 0.5 of an interval: 2 x 16 - 2 x 0.5 = 31 agent-intervals
    # on the floor, whichever optimal break times the solver picks
    assert plan.coverage["scheduled"].sum() == pytest.approx(31.0)
    assert set(plan.coverage["scheduled"]) <= {1.0, 1.5, 2.0}
    assert plan.lower_bound == pytest.approx(14 / 13 * 7.75)


def test_headcount_cap_reports_the_exact_shortfall():
    # 3 agents needed 08:00-16:00, at most 2 may start: short exactly 1 in each of the
    # 16 half-hours = 8 agent-hours; objective 16 h paid + 16 x 10 x 0.5 h penalty = 96.
    rules = ShiftRules((ShiftType("8h", 8 * H),), open_hours={"voice": ("08:00", "16:00")})
    plan = solve_shifts(_req("voice", "08:00", [3] * 16), rules, headcount_cap=2, interval_s=1800)
    assert plan.coverage["short"].tolist() == [1.0] * 16
    assert plan.coverage["gap"].tolist() == [-1.0] * 16
    assert plan.short_agent_hours == pytest.approx(8.0)
    assert plan.paid_hours == pytest.approx(16.0)
    assert plan.objective == pytest.approx(96.0)
    assert plan.lower_bound == pytest.approx(96.0)


def test_shared_cap_across_channels_and_per_channel_cap():
    # voice and chat each need 2 agents 08:00-16:00. A shared cap of 3 leaves one channel
    # 1 short in all 16 intervals (8 agent-hours); a per-channel cap {"voice": 1} leaves
    # voice 1 short (8 agent-hours) and chat fully covered.
    rules = ShiftRules(
        (ShiftType("8h", 8 * H),),
        open_hours={"voice": ("08:00", "16:00"), "chat": ("08:00", "16:00")},
    )
    req = pd.concat([_req("voice", "08:00", [2] * 16), _req("chat", "08:00", [2] * 16)])
    shared = solve_shifts(req, rules, headcount_cap=3, interval_s=1800)
    assert shared.short_agent_hours == pytest.approx(8.0)
    assert shared.shift_plan["agents"].sum() == 3
    per = solve_shifts(req, rules, headcount_cap={"voice": 1}, interval_s=1800)
    short = per.coverage.groupby("channel")["short"].sum()
    assert short["voice"] == pytest.approx(16.0) and short["chat"] == 0


def test_multiskilled_pool_covers_both_channels():
    # chat needs 1 agent 08:00-12:00, voice 1 agent 12:00-16:00, only 8 h shifts:
    # single-skilled that is 2 shifts (16 h); one multi-skilled agent (cost x1.2 = 9.6)
    # covers both, paid 8 h.
    rules = ShiftRules(
        (ShiftType("8h", 8 * H),),
        open_hours={"voice": ("08:00", "16:00"), "chat": ("08:00", "16:00")},
        multiskill=("chat", "voice"), multiskill_cost_factor=1.2, relative_gap=0.0,
    )
    req = pd.concat(
        [_req("chat", "08:00", [1] * 8 + [0] * 8), _req("voice", "08:00", [0] * 8 + [1] * 8)]
    )
    plan = solve_shifts(req, rules, interval_s=1800)
    _covered(plan)
    assert plan.shift_plan[["channel", "agents"]].values.tolist() == [["chat+voice", 1]]
    assert plan.paid_hours == pytest.approx(8.0)
    assert plan.objective == pytest.approx(9.6)
    cov = plan.coverage.set_index(["channel", "ds"])["scheduled"]
    assert cov.loc["chat"].iloc[:8].tolist() == [1.0] * 8
    assert cov.loc["voice"].iloc[8:16].tolist() == [1.0] * 8


def test_demand_outside_shift_hours_is_reported_not_fatal():
    # Shifts only 08:00-16:00; a requirement of 1 at 07:00 cannot be covered.
    rules = ShiftRules((ShiftType("8h", 8 * H),), open_hours={"voice": ("08:00", "16:00")})
    req = _req("voice", "07:00", [1, 1] + [1] * 16)
    plan = solve_shifts(req, rules, interval_s=1800)
    early = plan.coverage[plan.coverage["ds"] < DAY + pd.Timedelta("08:00:00")]
    assert early["short"].tolist() == [1.0, 1.0]
    assert plan.coverage["short"].sum() == 2.0


def _independent_optimum(need, types, open_s, close_s, grid, interval_s):
    """Set covering built minute by minute, solved by HiGHS (MILP and LP)."""
    cols, costs = [], []
    for length, brk, lo, hi in types:
        for s in range(open_s, close_s - length + 1, grid):
            offs = range(lo, hi + 1, grid) if brk else [None]
            for off in offs:
                minutes = np.zeros(24 * 60)
                minutes[s // 60 : (s + length) // 60] = 1
                if off is not None:
                    minutes[(s + off) // 60 : (s + off + brk) // 60] = 0
                per_int = minutes.reshape(-1, interval_s // 60).mean(axis=1)
                cols.append(per_int[open_s // interval_s : close_s // interval_s])
                costs.append((length - brk) / 3600)
    a = np.array(cols).T
    c = np.array(costs)
    res = milp(c, constraints=LinearConstraint(a, lb=need), integrality=np.ones(len(c)),
               bounds=Bounds(0, np.inf))
    lp = linprog(c, A_ub=-a, b_ub=-np.asarray(need, float), bounds=(0, None), method="highs")
    return res.fun, lp.fun


@pytest.mark.parametrize("seed", range(6))
def test_random_small_days_match_an_independent_milp(seed):
    rng = np.random.default_rng(seed)
    need = rng.integers(0, 5, size=12)  # 08:00-14:00 in half-hours
    types = ((4 * H, 0, 0, 0), (6 * H, 1800, 2 * H, 3 * H))
    rules = ShiftRules(
        (ShiftType("4h", 4 * H), ShiftType("6h", 6 * H, 1800, False, (2 * H, 3 * H))),
        open_hours={"voice": ("08:00", "14:00")}, relative_gap=0.0, work_limit=20,
    )
    plan = solve_shifts(_req("voice", "08:00", need), rules, interval_s=1800)
    opt, lp = _independent_optimum(need, types, 8 * H, 14 * H, 1800, 1800)
    _covered(plan)
    assert plan.status == "OPTIMAL"
    assert plan.paid_hours == pytest.approx(opt, abs=1e-6)
    assert plan.lower_bound == pytest.approx(lp, abs=1e-6)


def test_days_are_planned_separately():
    rules = ShiftRules((ShiftType("8h", 8 * H),), open_hours={"voice": ("08:00", "16:00")})
    req = pd.concat(
        [
            _req("voice", "08:00", [1] * 16),
            _req("voice", "08:00", [3] * 16, day=DAY + pd.Timedelta("1D")),
        ]
    )
    plan = solve_shifts(req, rules, interval_s=1800)
    by_day = plan.shift_plan.groupby("date")["agents"].sum()
    assert by_day.tolist() == [1, 3]
    assert plan.days["paid_hours"].tolist() == [8.0, 24.0]


def test_interval_s_from_attrs_and_errors():
    rules = ShiftRules((ShiftType("8h", 8 * H),))
    req = _req("voice", "08:00", [1] * 16)
    with pytest.raises(ShiftError, match="interval_s"):
        solve_shifts(req, rules)
    req.attrs["interval_s"] = 1800
    assert solve_shifts(req, rules).paid_hours == pytest.approx(8.0)
    with pytest.raises(ShiftError, match="rostered|agents"):
        solve_shifts(req.drop(columns="rostered"), rules, interval_s=1800)
    with pytest.raises(ShiftError, match="interval_s"):
        solve_shifts(req, rules, interval_s=7000)
    with pytest.raises(ShiftError, match="break_s"):
        ShiftType("bad", 3600, 3600)
    with pytest.raises(ShiftError, match="multiskill"):
        ShiftRules(multiskill=("chat",))
    with pytest.raises(ShiftError, match="headcount_cap"):
        solve_shifts(req, rules, headcount_cap={"fax": 3})
    with pytest.raises(ShiftError, match="open_hours"):
        ShiftRules(open_hours={"voice": ("18:00", "08:00")})


def _brute_force_lines(demand, consecutive):
    """Fewest 5/2 lines by enumerating every multiset of day-off patterns."""
    from itertools import combinations, combinations_with_replacement

    pairs = ([(d, (d + 1) % 7) for d in range(7)] if consecutive
             else list(combinations(range(7), 2)))
    works = [[0 if d in p else 1 for d in range(7)] for p in pairs]
    for n in range(0, 20):
        for combo in combinations_with_replacement(range(len(works)), n):
            cover = [sum(works[i][d] for i in combo) for d in range(7)]
            if all(c >= r for c, r in zip(cover, demand, strict=True)):
                return n
    raise AssertionError("no roster within 20 lines")


@pytest.mark.parametrize("seed", range(8))
def test_weekly_lines_match_brute_force(seed):
    from staffing.roster import min_lines

    demand = np.random.default_rng(seed).integers(0, 4, 7).tolist()
    for consecutive in (True, False):
        assert int(min_lines(demand, consecutive).sum()) == _brute_force_lines(
            demand, consecutive
        )


def test_weekly_roster_lines_cover_every_shift():
    # Mon-Fri 4 agents, weekend 2 (24 agent-days): Baker's bound ceil(24 / 5) = 5 lines.
    from staffing.roster import weekly_roster

    rules = ShiftRules((ShiftType("8h", 8 * H),), open_hours={"voice": ("08:00", "16:00")})
    week = [
        _req("voice", "08:00", [n] * 16, day=pd.Timestamp("2024-11-25") + pd.Timedelta(days=d))
        for d, n in enumerate([4, 4, 4, 4, 4, 2, 2])
    ]
    plan = solve_shifts(pd.concat(week), rules, interval_s=1800)
    roster = weekly_roster(plan.shift_plan)
    assert roster.headcount[["headcount", "lower_bound", "demand_days"]].values.tolist() == [
        [5, 5, 24]
    ]
    lines = roster.lines
    assert len(lines) == 5
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    worked = (lines[days] == "08:00-16:00").sum().tolist()
    assert worked == [4, 4, 4, 4, 4, 2, 2]
    assert ((lines[days] == "off").sum(axis=1) == 2).all()


# ----------------------------------------------------------------------------- fast paths
class _CountingCache:
    """Block cache that records its traffic (what solve_shifts asked and stored)."""

    def __init__(self) -> None:
        self.items: dict = {}
        self.hits = 0
        self.puts = 0

    def get(self, key):
        out = self.items.get(key)
        self.hits += out is not None
        return out

    def put(self, key, value) -> None:
        self.puts += 1
        self.items[key] = value


_BREAK_RULES = dict(
    shift_types=(
        ShiftType("4h", 4 * H),
        ShiftType("6h", 6 * H, 1800, False, (2 * H, 3 * H)),
    ),
    open_hours={"voice": ("08:00", "14:00")},
)


@pytest.mark.parametrize("seed", range(8))
def test_default_gap_plan_is_covered_and_within_gap_of_an_independent_lp(seed):
    # The solver may keep the LP rounded to whole agents (or stop CP-SAT) once a plan is
    # within relative_gap of the LP bound: check that promise against the independent
    # minute-by-minute model: optimum <= plan <= (1 + 1%) x LP bound, every interval covered.
    rng = np.random.default_rng(100 + seed)
    need = rng.integers(0, 12, size=12)
    types = ((4 * H, 0, 0, 0), (6 * H, 1800, 2 * H, 3 * H))
    plan = solve_shifts(_req("voice", "08:00", need), ShiftRules(**_BREAK_RULES),
                        interval_s=1800)
    opt, lp = _independent_optimum(need, types, 8 * H, 14 * H, 1800, 1800)
    _covered(plan)
    assert plan.lower_bound == pytest.approx(lp, abs=1e-6)
    assert opt - 1e-6 <= plan.paid_hours <= lp * 1.01 + 1e-6


def test_fast_lp_matches_linprog():
    # The direct HiGHS call gives the optimum linprog (HiGHS through its public API) gives.
    from scipy.sparse import csc_matrix

    from staffing.shift_solver import highs_lp

    rng = np.random.default_rng(7)
    a = (rng.random((20, 40)) < 0.3).astype(float) * rng.integers(1, 3, (20, 40))
    a[:, 0] = 1.0  # one column covers every row: feasible
    b = rng.integers(0, 6, 20).astype(float)
    c = rng.integers(1, 10, 40).astype(float)
    ub = np.full(40, 50.0)
    ref = linprog(c, A_ub=-a, b_ub=-b, bounds=np.c_[np.zeros(40), ub], method="highs")
    got = highs_lp(c, ub, csc_matrix(a), b)
    assert got is not None
    assert got[0] == pytest.approx(ref.fun, rel=1e-9)
    assert (a @ got[1] >= b - 1e-7).all()


def test_block_cache_gives_the_same_plan_and_reuses_identical_days_only():
    rng = np.random.default_rng(3)
    same = rng.integers(0, 9, size=12)
    other = same.copy()
    other[5] += 1  # one interval differs
    days = [DAY + pd.Timedelta(days=k) for k in range(3)]
    req = pd.concat([_req("voice", "08:00", v, day=d)
                     for v, d in zip([same, same, other], days, strict=True)])
    rules = ShiftRules(**_BREAK_RULES)
    plain = solve_shifts(req, rules, interval_s=1800)
    cache = _CountingCache()
    cached = solve_shifts(req, rules, interval_s=1800, block_cache=cache)
    # day 2 repeats day 1 exactly: taken from the cache; day 3 differs in one interval
    assert (cache.puts, cache.hits) == (2, 1)
    for got, ref in ((cached, plain), (solve_shifts(req, rules, interval_s=1800,
                                                    block_cache=cache), plain)):
        pd.testing.assert_frame_equal(got.shift_plan, ref.shift_plan)
        pd.testing.assert_frame_equal(got.coverage, ref.coverage)
        cols = [c for c in ref.days.columns if c != "solver_s"]  # timings differ
        pd.testing.assert_frame_equal(got.days[cols], ref.days[cols])
    assert (cache.puts, cache.hits) == (2, 4)  # the second call solved nothing
    # the reused day is reported on its own date
    by_day = plain.shift_plan.groupby("date")["agents"].sum()
    assert by_day[days[0]] == by_day[days[1]]
    # different rules, a cap or another interval length never hit the stored blocks
    solve_shifts(req, ShiftRules(**_BREAK_RULES, relative_gap=0.0), interval_s=1800,
                 block_cache=cache)
    assert (cache.puts, cache.hits) == (4, 5)
    solve_shifts(req, rules, headcount_cap=40, interval_s=1800, block_cache=cache)
    assert (cache.puts, cache.hits) == (6, 6)


def test_pipeline_cache_serves_as_block_cache():
    from planner.pipeline import PipelineCache

    cache = PipelineCache(max_blocks=1)
    req = pd.concat([_req("voice", "08:00", [2] * 12),
                     _req("voice", "08:00", [3] * 12, day=DAY + pd.Timedelta("1D"))])
    rules = ShiftRules(**_BREAK_RULES)
    first = solve_shifts(req, rules, interval_s=1800, block_cache=cache.shift_blocks)
    assert len(cache.shift_blocks) == 1  # the least recently used block was dropped
    again = solve_shifts(req, rules, interval_s=1800, block_cache=cache.shift_blocks)
    pd.testing.assert_frame_equal(first.shift_plan, again.shift_plan)
    cache.clear()
    assert len(cache.shift_blocks) == 0


def test_window_shorter_than_every_shift_reports_the_whole_day_short():
    # Opening 08:00-12:00 and only 8 h shifts: no shift fits, so the whole requirement
    # (2 agents x 8 half-hours = 8 agent-hours) is reported short, with and without a cap.
    ds = DAY + pd.Timedelta("08:00:00") + pd.to_timedelta(np.arange(8) * 1800, "s")
    req = pd.DataFrame({"channel": "voice", "ds": ds, "rostered": 2})
    rules = ShiftRules((ShiftType("8h", 8 * H),), open_hours={"voice": ("08:00", "12:00")})
    for cap in (None, 3):
        plan = solve_shifts(req, rules, headcount_cap=cap, interval_s=1800)
        assert plan.paid_hours == 0.0
        assert plan.short_agent_hours == pytest.approx(8.0)
        assert len(plan.shift_plan) == 0


@pytest.mark.parametrize("seed", range(4))
def test_capped_random_days_against_an_independent_milp_with_shortfall(seed):
    # Under a cap the plan may be short; its objective (paid hours + 10 x 0.5 h per short
    # agent-interval, ShiftRules' default penalty) must lie between the independent MILP
    # optimum and (1 + 1%) x its LP bound, with the shortfall reported per interval.
    rng = np.random.default_rng(200 + seed)
    need = rng.integers(2, 12, size=12)
    types = ((4 * H, 0, 0, 0), (6 * H, 1800, 2 * H, 3 * H))
    cap = int(need.max()) // 2 + 1  # tight: most days end up short somewhere
    cols, costs = [], []
    for length, brk, lo, hi in types:  # minute by minute, as in _independent_optimum
        for s in range(8 * H, 14 * H - length + 1, 1800):
            for off in (range(lo, hi + 1, 1800) if brk else [None]):
                minutes = np.zeros(24 * 60)
                minutes[s // 60 : (s + length) // 60] = 1
                if off is not None:
                    minutes[(s + off) // 60 : (s + off + brk) // 60] = 0
                cols.append(minutes.reshape(-1, 30).mean(axis=1)[16:28])
                costs.append((length - brk) / 3600)
    a = np.hstack([np.array(cols).T, np.eye(12)])  # columns, then shortfall per interval
    c = np.r_[costs, np.full(12, 10 * 0.5)]
    head = np.r_[np.ones(len(costs)), np.zeros(12)]
    cons = [LinearConstraint(a, lb=need), LinearConstraint(head[None, :], ub=cap)]
    opt = milp(c, constraints=cons, integrality=np.ones(len(c)), bounds=Bounds(0, np.inf)).fun
    lp = milp(c, constraints=cons, bounds=Bounds(0, np.inf)).fun
    plan = solve_shifts(_req("voice", "08:00", need), ShiftRules(**_BREAK_RULES),
                        headcount_cap=cap, interval_s=1800)
    assert plan.lower_bound == pytest.approx(lp, abs=1e-6)
    assert opt - 1e-6 <= plan.objective <= lp * 1.01 + 1e-6
    assert plan.shift_plan["agents"].sum() <= cap
    cov = plan.coverage
    assert np.allclose(cov["short"], np.clip(cov["required"] - cov["scheduled"], 0, None))
    assert plan.objective == pytest.approx(plan.paid_hours + 10 * 0.5 * cov["short"].sum())


def test_total_cap_on_top_of_a_channel_cap():
    # voice and chat each need 2 agents 08:00-16:00 (8 h shifts). Voice may have at most 1
    # and all channels together 2: voice gets 1, chat the other 1, and each channel is 1
    # short in all 16 half-hours (8 agent-hours each, 16 in all).
    rules = ShiftRules(
        (ShiftType("8h", 8 * H),),
        open_hours={"voice": ("08:00", "16:00"), "chat": ("08:00", "16:00")},
    )
    req = pd.concat([_req("voice", "08:00", [2] * 16), _req("chat", "08:00", [2] * 16)])
    plan = solve_shifts(req, rules, headcount_cap={"voice": 1, "all": 2}, interval_s=1800)
    agents = plan.shift_plan.groupby("channel")["agents"].sum()
    assert agents.to_dict() == {"chat": 1, "voice": 1}
    assert plan.short_agent_hours == pytest.approx(16.0)
    # without the total, chat is covered in full
    alone = solve_shifts(req, rules, headcount_cap={"voice": 1}, interval_s=1800)
    assert alone.shift_plan.groupby("channel")["agents"].sum().to_dict() == {"chat": 2,
                                                                            "voice": 1}


def test_shared_cap_goes_first_to_the_channel_with_the_higher_weight():
    # chat and email each need 2 agents 08:00-16:00 and only 2 may work in all. Each
    # agent moved from chat to email trades a chat gap (weight 1) for an email gap (0.2):
    # the optimum puts both on chat.
    rules = ShiftRules(
        (ShiftType("8h", 8 * H),),
        open_hours={"chat": ("08:00", "16:00"), "email": ("08:00", "16:00")},
        understaffing_weight={"email": 0.2},
    )
    req = pd.concat([_req("chat", "08:00", [2] * 16), _req("email", "08:00", [2] * 16)])
    plan = solve_shifts(req, rules, headcount_cap=2, interval_s=1800)
    assert plan.shift_plan.groupby("channel")["agents"].sum().to_dict() == {"chat": 2}
    short = plan.coverage.groupby("channel")["short"].sum()
    assert short["chat"] == 0 and short["email"] == pytest.approx(32.0)
    # objective: 16 paid hours + 32 email gaps x 0.5 h x 10 x 0.2
    assert plan.objective == pytest.approx(16 + 32 * 0.5 * 10 * 0.2)
    with pytest.raises(ShiftError, match="understaffing_weight"):
        ShiftRules(understaffing_weight={"chat": 0})


# ------------------------------------------------ stopping rule, fallback, reported figures
_FLAT_BREAK = ShiftType("8h", 8 * H, 1800, False, (2 * H, 5 * H))


def test_by_hand_optimum_is_reported_as_optimal_in_words():
    # The flat day with breaks above: 3 shifts = 22.5 h is optimal (2 shifts give at most
    # 30 < 32 agent-intervals), 28.6 % above the LP bound 17.5 h; CP-SAT proves it, so the
    # plan reads "optimal" although its cost exceeds the LP bound.
    rules = ShiftRules((_FLAT_BREAK,), open_hours={"voice": ("08:00", "16:00")},
                       relative_gap=0.0)
    plan = solve_shifts(_req("voice", "08:00", [2] * 16), rules, interval_s=1800)
    assert plan.paid_hours == pytest.approx(22.5)
    assert (plan.status, plan.quality) == ("OPTIMAL", "optimal")
    assert plan.days["source"].tolist() == ["CP-SAT"]


def test_work_limit_too_small_for_cp_sat_keeps_the_rounded_plan_with_its_gap():
    # With a work limit CP-SAT cannot use (it stops with UNKNOWN: no plan of its own), the
    # LP plan rounded to whole agents is returned instead of an error. On the flat day with
    # breaks it has 3 agents (fewer cannot cover 32 agent-intervals), 22.5 h against the LP
    # bound 17.5 h: gap 22.5 / 17.5 - 1 = 28.571 %, rounded up to "28.58 %".
    rules = ShiftRules((_FLAT_BREAK,), open_hours={"voice": ("08:00", "16:00")},
                       relative_gap=0.0, work_limit=1e-9)
    plan = solve_shifts(_req("voice", "08:00", [2] * 16), rules, interval_s=1800)
    _covered(plan)
    assert plan.days["source"].tolist() == ["rounded LP"]
    assert plan.shift_plan["agents"].sum() == 3
    assert plan.paid_hours == pytest.approx(22.5)
    assert plan.lower_bound == pytest.approx(17.5)
    assert plan.gap == pytest.approx(22.5 / 17.5 - 1)
    assert plan.status == "FEASIBLE"
    assert plan.quality == "within 28.58 % of the best possible"


@pytest.mark.parametrize("cap", [None, 4])
def test_multiskill_pool_falls_back_to_its_rounded_plan_too(cap):
    # A chat+voice pool has no greedy repair: the LP rounded up (down under a cap), pooled
    # time shared out per interval, is the plan in hand. Without a cap every interval stays
    # covered; under one the cap holds and the shortfall is exact; the cost is at least the
    # optimum found with a generous limit.
    rules = dict(
        shift_types=(_FLAT_BREAK,),
        open_hours={"voice": ("08:00", "16:00"), "chat": ("08:00", "16:00")},
        multiskill=("chat", "voice"), multiskill_cost_factor=1.2, relative_gap=0.0,
    )
    req = pd.concat([_req("voice", "08:00", [2] * 16), _req("chat", "08:00", [1] * 16)])
    fast = solve_shifts(req, ShiftRules(**rules, work_limit=1e-9), headcount_cap=cap,
                        interval_s=1800)
    best = solve_shifts(req, ShiftRules(**rules, work_limit=20), headcount_cap=cap,
                        interval_s=1800)
    if cap is None:
        _covered(fast)
    else:
        assert fast.shift_plan["agents"].sum() <= cap
        cov = fast.coverage
        assert np.allclose(cov["short"], np.clip(cov["required"] - cov["scheduled"], 0, None))
        assert cov["short"].sum() > 0
    assert best.status == "OPTIMAL"
    assert fast.days["source"].tolist() == ["rounded LP"]  # CP-SAT found nothing
    assert fast.objective >= best.objective - 1e-9
    assert fast.lower_bound == pytest.approx(best.lower_bound)
    assert fast.quality == ("optimal" if fast.status == "OPTIMAL"
                            else f"within {math.ceil(round(fast.gap * 1e4, 6)) / 100:g} % "
                            "of the best possible")


def _week(seed: int, days: int = 7, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shape = np.r_[np.linspace(2, 14, 10), np.linspace(14, 4, 14)] * scale  # 08:00-20:00
    return pd.concat([
        _req(ch, "08:00", np.maximum(0, np.rint(shape * k + rng.normal(0, 1.5, 24))),
             day=DAY + pd.Timedelta(days=d))
        for d in range(days) for ch, k in (("voice", 1.0), ("chat", 0.6))
    ])


def test_same_inputs_give_the_identical_plan_whatever_the_machine_load():
    # Three days with a work limit small enough that CP-SAT stops at it on some blocks: its
    # deterministic limit, one worker and a fixed seed make the two runs agree to the last
    # agent (a wall-clock limit did not).
    types = (*_BREAK_RULES["shift_types"], _FLAT_BREAK)
    rules = ShiftRules(types, open_hours={"voice": ("08:00", "20:00"),
                                          "chat": ("08:00", "20:00")},
                       relative_gap=0.0, work_limit=0.01)
    req = _week(7, days=3, scale=3.0)
    first = solve_shifts(req, rules, interval_s=1800)
    again = solve_shifts(req, rules, interval_s=1800)
    stopped = first.days[(first.days["status"] == "FEASIBLE")
                         & (first.days["source"] == "CP-SAT")]
    assert len(stopped) >= 1  # the work limit binds somewhere
    pd.testing.assert_frame_equal(first.shift_plan, again.shift_plan)
    pd.testing.assert_frame_equal(first.coverage, again.coverage)
    cols = [c for c in first.days.columns if c != "solver_s"]
    pd.testing.assert_frame_equal(first.days[cols], again.days[cols])
    assert first.quality == again.quality != "optimal"
    # two workers interleave their search deterministically: the same plan twice too
    two = dataclasses.replace(rules, num_workers=2)
    runs = [solve_shifts(req, two, interval_s=1800) for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0].shift_plan, runs[1].shift_plan)
    _covered(runs[0])


def test_capped_plan_reports_the_paid_hours_of_its_own_shift_rows():
    # Under a cap the objective adds the understaffing penalty to the paid hours: the paid
    # hours reported must be the plan's own (agents x (shift length - unpaid break), summed
    # by hand over the rows), their bound at most that, and the objective those paid hours
    # plus 10 x 0.5 h per short agent-interval (ShiftRules' default penalty).
    rules = ShiftRules(**_BREAK_RULES | {"open_hours": {"voice": ("08:00", "20:00"),
                                                         "chat": ("08:00", "20:00")}})
    req = _week(9, days=3)
    plan = solve_shifts(req, rules, headcount_cap={"voice": 9, "chat": 5}, interval_s=1800)
    lengths = {"4h": 4.0, "6h": 6.0 - 0.5}  # paid hours per agent: 6 h less the 30-min break
    by_hand = sum(n * lengths[s] for s, n in zip(plan.shift_plan["shift"],
                                                 plan.shift_plan["agents"], strict=True))
    short = plan.coverage["short"].sum()
    assert short > 0  # the caps bind
    assert plan.paid_hours == pytest.approx(by_hand)
    assert plan.objective == pytest.approx(by_hand + 10 * 0.5 * short)
    assert plan.lower_bound <= plan.objective + 1e-9
    assert plan.paid_hours_bound <= plan.paid_hours + 1e-9
    assert plan.paid_hours_bound == pytest.approx(
        by_hand - (plan.objective - plan.lower_bound), abs=1e-6)  # each block within its gap
    assert plan.paid_hours_bound >= 0.0
    # the bound is not the penalised cost's bound (that one counts the shortfall too)
    assert plan.lower_bound > plan.paid_hours


def test_quality_words():
    from staffing.shift_rules import quality_words

    assert quality_words(True, 0.3) == "optimal"
    assert quality_words(False, 0.0123) == "within 1.23 % of the best possible"
    assert quality_words(False, 0.01231) == "within 1.24 % of the best possible"  # rounded up
    assert quality_words(False, 0.5) == "within 50 % of the best possible"
    with pytest.raises(ShiftError, match="work_limit"):
        ShiftRules(work_limit=0)
    with pytest.raises(ShiftError, match="seed"):
        ShiftRules(seed=1.5)


def test_weekly_roster_marks_partial_weeks():
    # a plan from Thursday 28 Nov to Tuesday 3 Dec 2024: the week of 25 Nov has 4 of its 7
    # days in the plan (Thu-Sun), the week of 2 Dec 2 (Mon, Tue); both are partial.
    # Chat has no row on Sunday: the week still has 4 plan days (the plan covers Sunday).
    from staffing.roster import weekly_roster

    days = pd.date_range("2024-11-28", "2024-12-03")
    rows = [{"date": d, "channel": ch, "shift_start": d + pd.Timedelta(hours=8),
             "shift_end": d + pd.Timedelta(hours=16), "agents": 3}
            for d in days for ch in ("voice", "chat")
            if not (ch == "chat" and d == pd.Timestamp("2024-12-01"))]
    head = weekly_roster(pd.DataFrame(rows)).headcount
    got = head[["channel", "week_start", "plan_days", "partial"]].values.tolist()
    assert got == [["chat", pd.Timestamp("2024-11-25"), 4, True],
                   ["chat", pd.Timestamp("2024-12-02"), 2, True],
                   ["voice", pd.Timestamp("2024-11-25"), 4, True],
                   ["voice", pd.Timestamp("2024-12-02"), 2, True]]
    full = [{"date": d, "channel": "voice", "shift_start": d + pd.Timedelta(hours=8),
             "shift_end": d + pd.Timedelta(hours=16), "agents": 3}
            for d in pd.date_range("2024-11-25", periods=7)]
    assert weekly_roster(pd.DataFrame(full)).headcount[["plan_days", "partial"]
                                                       ].values.tolist() == [[7, False]]
