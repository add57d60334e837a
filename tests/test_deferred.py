"""Deferred work (email): backlog, oldest age and required agents.

References used here, none of them the module's own cumulative-curve formulas:
- hand computations written out in the comments;
- ``fifo_pieces`` (``tests/simulation.py``): a straightforward item-by-item FIFO loop.
  Each interval's volume is cut into ``m`` equal pieces arriving at the midpoints of ``m``
  equal sub-slots; one pooled server works at ``agents[k]`` work-seconds per second through
  the pieces in order. As ``m`` grows it converges to the fluid model, within about one
  sub-slot (interval_s / m) plus one piece's handling time.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing import (
    DeferredInfeasibleError,
    StaffingInputError,
    deferred_backlog,
    deferred_max_wait,
    deferred_required_agents,
    deferred_waits,
)
from tests.simulation import fifo_pieces

HOUR = 3600.0


def _item_max_wait(volume, aht_s, interval_s, agents, m=200):
    arr, _, done = fifo_pieces(volume, aht_s, interval_s, agents, m)
    return float(np.max(done - arr)) if arr.size else 0.0


# --- hand-computed examples -------------------------------------------------------------


def test_backlog_hand_example_one_agent():
    # 12 items of 600 s arrive uniformly in hour 0; one agent does 6 items an hour.
    # At 1 h: 6 answered, 6 waiting; the oldest waiting item is the 7th of 12, which
    # arrived at 0.5 h, so it is 1800 s old. In hour 1 the last 6 are answered (the last
    # at 2 h, having arrived at 1 h: wait 1 h).
    out = deferred_backlog([12, 0, 0], 600, HOUR, [1, 1, 1])
    np.testing.assert_allclose(out["handled"], [6, 6, 0], atol=1e-6)
    np.testing.assert_allclose(out["backlog_items"], [6, 0, 0])
    np.testing.assert_allclose(out["oldest_age_s"], [1800, 0, 0])
    assert list(out.columns) == [
        "arrivals", "handled", "backlog_items", "oldest_age_s", "work_done_s"
    ]
    # 6 items of 600 s answered in each of hours 0 and 1: a full hour of work each
    np.testing.assert_allclose(out["work_done_s"], [HOUR, HOUR, 0], atol=1e-6)
    assert deferred_max_wait([12, 0, 0], 600, HOUR, [1, 1, 1]) == pytest.approx(HOUR)


def test_backlog_hand_example_closed_first_hour():
    # 6 items arrive in each of hours 0 and 1 (600 s each); nobody works in hour 0, one
    # agent (6 items/h) in hours 1 and 2. At 1 h: 6 waiting, oldest arrived at 0 (3600 s).
    # Hour 1 clears hour 0's items, so at 2 h hour 1's 6 wait, the oldest since 1 h.
    # Hour 2 clears them. Every item waits exactly 1 h (it is answered 1 h after arrival).
    vol, agents = [6, 6, 0, 0], [0, 1, 1, 0]
    out = deferred_backlog(vol, 600, HOUR, agents)
    np.testing.assert_allclose(out["handled"], [0, 6, 6, 0], atol=1e-6)
    np.testing.assert_allclose(out["backlog_items"], [6, 6, 0, 0])
    np.testing.assert_allclose(out["oldest_age_s"], [3600, 3600, 0, 0])
    assert deferred_max_wait(vol, 600, HOUR, agents) == pytest.approx(HOUR)
    assert _item_max_wait(vol, 600, HOUR, agents) == pytest.approx(HOUR, abs=40)


def test_required_hand_example_two_days():
    # Hourly intervals over two days, open 08:00-20:00, target 24 h, 600 s per item.
    # Day 1: 60 items (10 h of work) arrive 00:00-08:00; day 2: 36 items (6 h) arrive
    # 00:00-08:00. Day 2 goes first: its items are due by 00:00-08:00 on day 3, after
    # the horizon; the horizon rule repeats day 2's open hours at day 2's level, but
    # those start at 08:00 on day 3, too late, so day 2 must do its 6 h in 12 open
    # hours: 1 agent. Day 1, with day 2 at 1 agent: its 10 h are due by 00:00-08:00 on
    # day 2, before day 2 opens, so day 1 does them in its 12 open hours: 1 agent.
    hours = np.arange(48) % 24
    is_open = (hours >= 8) & (hours < 20)
    vol = np.zeros(48)
    vol[:8] = 60 / 8
    vol[24:32] = 36 / 8
    got = deferred_required_agents(vol, 600, HOUR, 24 * HOUR, is_open, np.arange(48) // 24)
    np.testing.assert_array_equal(got, is_open.astype(int))
    got10 = deferred_required_agents(vol, 600, HOUR, 10 * HOUR, is_open, np.arange(48) // 24)
    # 10 h target: item arriving at time a (h, 0..8) is due at a + 10, i.e. by 10..18;
    # work arrived by a is a * 1.25 h; N agents from 08:00 have done N (a + 2) h by a + 10.
    # Need N (a + 2) >= 1.25 a for all a in [0, 8]: worst at a = 8: N >= 10 / 10 = 1.
    np.testing.assert_array_equal(got10, is_open.astype(int))


def test_required_three_hour_target_is_infeasible_when_items_arrive_at_night():
    # Items arriving at 02:00 with a 3 h target are due at 05:00, before opening at 08:00.
    hours = np.arange(24)
    vol = np.where(hours < 8, 5.0, 0.0)
    with pytest.raises(DeferredInfeasibleError, match="response_target_s"):
        deferred_required_agents(vol, 600, HOUR, 3 * HOUR, (hours >= 8) & (hours < 20))


def test_required_docstring_case():
    # 120 items of 600 s (20 h of work) arrive 00:00-01:00, open 08:00-20:00, target 24 h:
    # the post-horizon copy of the day opens at 08:00 next day, after every deadline
    # (00:00-01:00), so all 20 h fit in 12 open hours: ceil(20 / 12) = 2 agents.
    vol = [120] + [0] * 23
    is_open = [8 <= h < 20 for h in range(24)]
    got = deferred_required_agents(vol, 600, HOUR, 24 * HOUR, open_mask=is_open)
    np.testing.assert_array_equal(got, 2 * np.array(is_open, dtype=int))


def test_zero_volume_needs_zero_agents():
    got = deferred_required_agents(np.zeros(10), 300, 900, 3600)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, 0)


# --- against the item-by-item FIFO loop ---------------------------------------------------


def _extended(vol, agents, days_after, period):
    """Append the documented horizon-end rule: the last `period` intervals' agents repeat."""
    ext_agents = np.concatenate([agents] + [agents[-period:]] * days_after)
    ext_vol = np.concatenate([vol, np.zeros(period * days_after)])
    return ext_vol, ext_agents


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_required_is_tight_against_item_loop(seed):
    # Three days, hourly, arrivals around the clock, open 07:00-21:00, target 24 h.
    rng = np.random.default_rng(seed)
    hours = np.arange(72) % 24
    day = np.arange(72) // 24
    is_open = (hours >= 7) & (hours < 21)
    vol = rng.uniform(0, 30, 72) * (1 + (hours >= 9) * (hours < 18))
    target = 24 * HOUR
    aht = 420.0
    got = deferred_required_agents(vol, aht, HOUR, target, is_open, day)
    ext_vol, ext_agents = _extended(vol, got, 2, 24)
    # At the returned levels no piece waits longer than the target (to the loop's
    # resolution of interval_s / m plus a piece's handling time).
    slack = HOUR / 200 + 30 * 2 * aht / 200
    assert _item_max_wait(ext_vol, aht, HOUR, ext_agents) <= target + slack
    # One agent fewer on any single day breaks the target.
    for d in range(3):
        fewer = got - ((day == d) & is_open)
        ext_vol, ext_fewer = _extended(vol, fewer, 2, 24)
        assert _item_max_wait(ext_vol, aht, HOUR, ext_fewer) > target - slack
        assert deferred_max_wait(ext_vol, aht, HOUR, ext_fewer) > target


def test_backlog_and_age_against_item_loop():
    # An overloaded day: 15-minute intervals, 10 agents from 08:00 to 20:00, a morning
    # peak; the backlog and the oldest age at each interval end come from the pieces.
    rng = np.random.default_rng(7)
    k = np.arange(96)
    hours = k / 4
    vol = rng.uniform(5, 15, 96) * (1 + 2 * ((hours >= 9) & (hours < 12)))
    agents = np.where((hours >= 8) & (hours < 20), 10, 0)
    aht, length = 300.0, 900.0
    out = deferred_backlog(vol, aht, length, agents)
    arr, amount, done = fifo_pieces(vol, aht, length, agents, m=100)
    edges = length * (k + 1)
    waiting = (arr[None, :] <= edges[:, None]) & (done[None, :] > edges[:, None])
    backlog = (waiting * amount).sum(axis=1)
    oldest = np.where(waiting.any(axis=1), edges - np.where(waiting, arr, np.inf).min(axis=1), 0.0)
    piece = vol.max() / 100
    np.testing.assert_allclose(out["backlog_items"], backlog, atol=2 * piece + 1e-9)
    np.testing.assert_allclose(out["oldest_age_s"], oldest, atol=length / 100 + 1.0)
    np.testing.assert_allclose(out["handled"].sum() + out["backlog_items"].iloc[-1], vol.sum())
    assert out["oldest_age_s"].max() > 6 * HOUR  # the night backlog really is there


def test_waits_hand_example_closed_first_half_hour():
    # 10 items of 360 s arrive uniformly 00:00-00:30 (item j, 0..10, at 180 j s) with
    # nobody working; one agent from 00:30 answers item j at 1800 + 360 j s: wait
    # 1800 + 180 j, i.e. 30 to 60 minutes, mean 45 min. Target 45 min: half of them.
    out = deferred_waits([10, 0, 0], 360, 1800, [0, 1, 1], 2700)
    assert out["within_target"].iloc[0] == pytest.approx(0.5)
    assert out["mean_wait_s"].iloc[0] == pytest.approx(2700.0)
    assert out["within_target"].iloc[1:].isna().all()  # nothing arrived


def test_waits_against_item_loop():
    # A random day of half-hours with varying AHT and agents (some intervals unstaffed, a
    # backlog left at the end): each interval's share within 4 h and mean wait from the
    # pieces, with the same horizon-end rule (still waiting: late once older than the
    # target, else unknown).
    rng = np.random.default_rng(7)
    vol = rng.integers(0, 40, 96).astype(float)
    aht = rng.uniform(200, 900, 96)
    agents = rng.integers(0, 6, 96).astype(float)
    length, target, m = 1800.0, 4 * HOUR, 1000
    out = deferred_waits(vol, aht, length, agents, target)
    arr, amount, done = fifo_pieces(vol, aht, length, agents, m=m)
    k = (arr // length).astype(int)
    wait = done - arr
    known = np.isfinite(done) | (96 * length - arr > target)
    n_known = np.bincount(k, amount * known, 96)
    fin = np.isfinite(done)
    with np.errstate(invalid="ignore"):  # 0 / 0 where nothing is known or answered
        share = np.bincount(k, amount * (known & (wait <= target)), 96) / n_known
        mean = np.bincount(k[fin], (amount * wait)[fin], 96) / np.bincount(k[fin], amount[fin], 96)
    has = n_known > 0
    np.testing.assert_array_equal(out["within_target"].notna().to_numpy(), has)
    np.testing.assert_allclose(out["within_target"].to_numpy()[has], share[has], atol=0.002)
    # loop resolution: a sub-slot plus one piece's handling time
    np.testing.assert_allclose(out["mean_wait_s"], mean, atol=length / m + 40 * 900 / m)
    assert not np.isfinite(done).all() and ((share > 0) & (share < 1)).any()  # both occur
    # the occupancy of the agents: work done over capacity, never above 1
    cap = agents * length
    busy = deferred_backlog(vol, aht, length, agents)["work_done_s"].to_numpy()
    assert np.all(busy <= cap * (1 + 1e-12))


# --- invariants -------------------------------------------------------------------------

_HOURS = np.arange(48) % 24
_OPEN = (_HOURS >= 8) & (_HOURS < 22)
volumes = st.lists(st.floats(0, 50, allow_nan=False), min_size=48, max_size=48).map(np.array)


@settings(max_examples=40, deadline=None)
@given(vol=volumes, extra=volumes, target_h=st.floats(14, 72))
def test_more_volume_never_needs_fewer_agents(vol, extra, target_h):
    base = deferred_required_agents(vol, 300, HOUR, target_h * HOUR, _OPEN)
    more = deferred_required_agents(vol + extra, 300, HOUR, target_h * HOUR, _OPEN)
    assert np.all(more >= base)


@settings(max_examples=40, deadline=None)
@given(vol=volumes, target_h=st.floats(14, 72), longer_h=st.floats(0, 48))
def test_longer_target_never_needs_more_agents(vol, target_h, longer_h):
    short = deferred_required_agents(vol, 300, HOUR, target_h * HOUR, _OPEN)
    long = deferred_required_agents(vol, 300, HOUR, (target_h + longer_h) * HOUR, _OPEN)
    assert np.all(long <= short)


@settings(max_examples=40, deadline=None)
@given(
    vol=volumes,
    agents=st.lists(st.integers(0, 8), min_size=48, max_size=48).map(np.array),
    more=st.lists(st.integers(0, 3), min_size=48, max_size=48).map(np.array),
)
def test_more_agents_never_grow_the_backlog(vol, agents, more):
    a = deferred_backlog(vol, 300, HOUR, agents)
    b = deferred_backlog(vol, 300, HOUR, agents + more)
    assert np.all(b["backlog_items"].to_numpy() <= a["backlog_items"].to_numpy() + 1e-7)
    assert np.all(b["oldest_age_s"].to_numpy() <= a["oldest_age_s"].to_numpy() + 1e-6)
    # Conservation: arrivals = handled + final backlog.
    np.testing.assert_allclose(a["handled"].sum() + a["backlog_items"].iloc[-1], vol.sum())


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"volume": [-1, 2]}, "volume"),
        ({"volume": [np.nan, 2]}, "volume"),
        ({"aht_s": np.inf}, "aht_s"),
        ({"aht_s": 0}, "aht_s"),
        ({"interval_s": -900}, "interval_s"),
        ({"response_target_s": np.nan}, "response_target_s"),
        ({"open_mask": [True]}, "open_mask"),
        ({"group": ["a", "b", "a"], "volume": [1, 1, 1]}, "group"),
    ],
)
def test_bad_input_names_the_argument(kwargs, name):
    args = {"volume": [1, 2], "aht_s": 300, "interval_s": 900, "response_target_s": 3600}
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        deferred_required_agents(**args)
    assert issubclass(StaffingInputError, ValueError)


def test_backlog_rejects_bad_agents():
    with pytest.raises(ValueError, match="agents"):
        deferred_backlog([1, 2], 300, 900, [1, -1])


_DAY = np.arange(48) // 24


@settings(max_examples=25, deadline=None)
@given(vol=volumes, target_h=st.floats(14, 48))
def test_daily_levels_meet_the_target_item_by_item(vol, target_h):
    # Whatever the volumes, the daily plan meets the target in the item loop, with the
    # documented horizon rule (the last day's agents repeat) appended by hand.
    got = deferred_required_agents(vol, 300, HOUR, target_h * HOUR, _OPEN, _DAY)
    assert np.all(got[~_OPEN] == 0)
    for d in (0, 1):
        assert np.unique(got[_OPEN & (_DAY == d)]).size == 1  # one level per day
    ext_vol, ext_agents = _extended(vol, got, 3, 24)
    slack = HOUR / 50 + 50 * 300 / 50
    assert _item_max_wait(ext_vol, 300, HOUR, ext_agents, m=50) <= target_h * HOUR + slack


# --- against the sizing rule checked on the whole remaining horizon ----------------------


def _levels_whole_horizon(vol, aht, interval_s, target, is_open, day):
    """The documented rule written out plainly: from the last day back, the smallest level
    (counting up from 0) whose whole remaining horizon meets the target, the earlier days
    taken as cleared (empty after their last open interval) and the last open day's
    pattern repeated after the horizon (``deferred_max_wait`` on the full arrays)."""
    n = vol.size
    n_days = int(day.max()) + 1
    levels = np.zeros(n_days, dtype=np.int64)
    last_day = int(day[np.flatnonzero(is_open)[-1]])
    period = n - int(np.flatnonzero(day == last_day)[0])
    n_ext = int(np.ceil(target / interval_s)) + 2
    ext_open = is_open[n - period + np.arange(n_ext) % period]
    for d in range(n_days - 1, -1, -1):
        first = int(np.flatnonzero(day == d)[0])
        if not is_open[day == d].any():
            continue
        before = np.flatnonzero(is_open[:first])
        r = before[-1] + 1 if before.size else 0
        level = 0
        while True:
            levels[d] = level
            agents = np.concatenate((levels[day[r:]] * is_open[r:], levels[last_day] * ext_open))
            work = np.concatenate((vol[r:] * aht[r:], np.zeros(n_ext)))  # seconds
            if deferred_max_wait(work, 1.0, interval_s, agents) <= target * (1 + 1e-12) + 1e-9:
                break
            level += 1
    return levels[day] * is_open


@pytest.mark.parametrize("seed", range(6))
def test_daily_levels_equal_the_rule_checked_on_the_whole_horizon(seed):
    # three weeks, hourly, email around the clock (the backlog never empties at the
    # chosen levels, so every day's level depends on the days after it), open 08:00-20:00,
    # in odd seeds closed at weekends with a target that spans the weekend
    rng = np.random.default_rng(seed)
    n = 21 * 24
    hours, day = np.arange(n) % 24, np.arange(n) // 24
    is_open = (hours >= 8) & (hours < 20)
    target = float(rng.choice([24, 30, 48])) * HOUR
    if seed % 2:
        is_open &= (day % 7) < 5
        target = 72 * HOUR
    vol = rng.uniform(2, 20, n) * (1 + 0.6 * np.sin(2 * np.pi * (hours - 8) / 24))
    vol[rng.integers(0, n, 3)] += rng.uniform(50, 200, 3)  # a few bursts
    aht = rng.uniform(200, 500, n)
    got = deferred_required_agents(vol, aht, HOUR, target, is_open, day)
    assert np.array_equal(got, _levels_whole_horizon(vol, aht, HOUR, target, is_open, day))
