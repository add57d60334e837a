"""The Erlang C and Erlang A formulas against discrete-event simulation.

The simulation (``tests/simulation.py``) shares no mathematics with ``staffing.erlang``:
it draws Poisson arrivals, exponential service and patience times and serves customers
first come first served. Its engine is itself checked here by hand-computed sample paths
and against an independent SimPy model on an overloaded, time-varying day with
abandonment.

Confidence intervals are Student-t over independent replications (99% for the formula
checks). Each stationary run has 40,000 arrivals, the first 10% discarded as warm-up.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from staffing import (
    abandon_rate,
    average_speed_of_answer,
    erlang_c,
    occupancy,
    service_level,
)
from staffing.erlang_a import erlang_a_metrics
from tests.simulation import mean_ci, simulate_intervals, simulate_path, simulate_stationary

# Traffic A = 100 contacts * 180 s / 1800 s = 10 Erlangs; SL threshold 20 s.
VOLUME, AHT, INTERVAL, THRESHOLD = 100.0, 180.0, 1800.0, 20.0
LEVEL = 0.99


def _inside(value, ci):
    _, lo, hi = ci
    return lo <= float(value) <= hi


# --- the engine on hand-computed sample paths --------------------------------------------


def test_engine_two_agents_fifo():
    # Two agents, arrivals at 0, 1, 2, 3 s each needing 10 s: the first two start at once,
    # the third waits for the agent freed at 10 s, the fourth for the one freed at 11 s.
    p = simulate_path([0, 1, 2, 3], [10] * 4, np.inf, [0, 100], [2])
    np.testing.assert_array_equal(p.start_s, [0, 1, 10, 11])
    np.testing.assert_array_equal(p.wait_s, [0, 0, 8, 8])


def test_engine_abandonment_frees_no_agent():
    # Same, but the third caller's patience is 5 s: the first free agent is at 10 s, after
    # its deadline (7 s), so it hangs up at 7 s and the fourth caller takes the 10 s agent.
    p = simulate_path([0, 1, 2, 3], [10] * 4, [np.inf, np.inf, 5, np.inf], [0, 100], [2])
    np.testing.assert_array_equal(p.abandoned, [False, False, True, False])
    np.testing.assert_array_equal(p.start_s, [0, 1, np.inf, 10])
    np.testing.assert_array_equal(p.leave_queue_s, [0, 1, 7, 10])


def test_engine_staffing_steps_up_and_down():
    # One agent in [0, 5), two from 5: the second caller (at 1 s) starts at 5 s.
    p = simulate_path([0, 1], [10, 10], np.inf, [0, 5, 20], [1, 2])
    np.testing.assert_array_equal(p.start_s, [0, 5])
    # Two agents in [0, 5), none in [5, 20), one after 20: callers at 0 and 1 keep their
    # agents until 10 and 11 (no pre-emption); the caller at 2 waits for the agent at 20.
    p = simulate_path([0, 1, 2], [10, 10, 1], np.inf, [0, 5, 20], [2, 0], agents_after=1)
    np.testing.assert_array_equal(p.start_s, [0, 1, 20])
    np.testing.assert_array_equal(p.end_s, [10, 11, 21])


def test_engine_abandoner_behind_a_staffing_drop():
    # Two agents in [0, 5), none in [5, 100), one after. Callers at 0 and 0.5 s are served
    # at once (until 6 and 50.5 s). The caller at 1 s (patience 10 s) would start only at
    # 100 s and hangs up at 11 s; the patient caller at 2 s must not slip into the agent
    # freed at 6 s (off duty by then): both agents are busy at 2 s, so it starts at 100 s.
    p = simulate_path(
        [0, 0.5, 1, 2], [6, 50, 1, 1], [np.inf, np.inf, 10, np.inf], [0, 5, 100], [2, 0], 1
    )
    np.testing.assert_array_equal(p.start_s, [0, 0.5, np.inf, 100])
    np.testing.assert_array_equal(p.abandoned, [False, False, True, False])
    np.testing.assert_array_equal(p.offered_start_s, [0, 0.5, 100, 100])


# --- Erlang C -----------------------------------------------------------------------------


@pytest.mark.parametrize("agents", [11, 12, 14])
def test_erlang_c_inside_simulation_ci(agents):
    sim = simulate_stationary(
        VOLUME, AHT, INTERVAL, agents, THRESHOLD, n_arrivals=40_000, n_reps=8, seed=agents
    )
    traffic = VOLUME * AHT / INTERVAL
    assert _inside(erlang_c(traffic, agents), sim.ci("p_wait", LEVEL))
    assert _inside(
        service_level(VOLUME, AHT, INTERVAL, agents, THRESHOLD), sim.ci("sl_offered", LEVEL)
    )
    assert _inside(
        average_speed_of_answer(VOLUME, AHT, INTERVAL, agents), sim.ci("asa_answered_s", LEVEL)
    )
    assert _inside(occupancy(VOLUME, AHT, INTERVAL, agents), sim.ci("occupancy", LEVEL))


# --- Erlang A -----------------------------------------------------------------------------


@pytest.mark.parametrize("agents", [9, 11])
def test_erlang_a_inside_simulation_ci(agents):
    # Mean patience 120 s; N = 9 is overloaded (A = 10), where only abandonment keeps the
    # queue stable, N = 11 is a normal staffing point.
    patience = 120.0
    sim = simulate_stationary(
        VOLUME, AHT, INTERVAL, agents, THRESHOLD, patience,
        n_arrivals=40_000, n_reps=8, seed=100 + agents,
    )  # fmt: skip
    m = erlang_a_metrics(VOLUME * AHT / INTERVAL, AHT, agents, patience)
    assert _inside(m.p_wait, sim.ci("p_wait", LEVEL))
    assert _inside(m.mean_wait_s, sim.ci("mean_wait_offered_s", LEVEL))
    assert _inside(
        abandon_rate(VOLUME, AHT, INTERVAL, agents, patience), sim.ci("abandon_share", LEVEL)
    )
    assert _inside(
        service_level(VOLUME, AHT, INTERVAL, agents, THRESHOLD, patience),
        sim.ci("sl_offered", LEVEL),
    )
    assert _inside(
        service_level(VOLUME, AHT, INTERVAL, agents, THRESHOLD, patience, "answered"),
        sim.ci("sl_answered", LEVEL),
    )
    assert _inside(
        service_level(VOLUME, AHT, INTERVAL, agents, THRESHOLD, patience, "virtual"),
        sim.ci("sl_virtual", LEVEL),
    )
    assert _inside(
        average_speed_of_answer(VOLUME, AHT, INTERVAL, agents, patience),
        sim.ci("asa_answered_s", LEVEL),
    )
    assert _inside(occupancy(VOLUME, AHT, INTERVAL, agents, patience), sim.ci("occupancy", LEVEL))


def test_simulation_ci_is_narrow_enough_to_matter():
    # The checks above would be empty if the intervals were wide: one agent fewer or more
    # must move Erlang C's service level out of the simulated interval at N = 12.
    sim = simulate_stationary(VOLUME, AHT, INTERVAL, 12, THRESHOLD, n_arrivals=40_000, seed=5)
    ci = sim.ci("sl_offered", LEVEL)
    assert not _inside(service_level(VOLUME, AHT, INTERVAL, 11, THRESHOLD), ci)
    assert not _inside(service_level(VOLUME, AHT, INTERVAL, 13, THRESHOLD), ci)


# --- the time-varying simulator against SimPy -----------------------------------------------


def _simpy_replication(rng, volume, aht_s, interval_s, agents, patience_s):
    """One SimPy run; returns (arrival, left queue at, served) per caller."""
    k_n = len(volume)
    slots = max(agents)
    env = simpy.Environment()
    desk = simpy.PriorityResource(env, capacity=slots)
    log = []

    def caller(arrival, service, patience):
        req = desk.request(priority=1)
        got = yield req | env.timeout(patience)
        if req in got:
            log.append((arrival, env.now, True))
            yield env.timeout(service)
            desk.release(req)
        else:
            req.cancel()
            log.append((arrival, env.now, False))

    def source():
        for k, v in enumerate(volume):
            times = np.sort(rng.uniform(k * interval_s, (k + 1) * interval_s, rng.poisson(v)))
            for t in times:
                yield env.timeout(t - env.now)
                env.process(caller(t, rng.exponential(aht_s), rng.exponential(patience_s)))

    def roster():
        off = []  # requests holding (or waiting for) the slots of off-duty agents
        for k in range(k_n):
            target = slots - agents[k]
            while len(off) < target:
                off.append(desk.request(priority=0))
            while len(off) > target:
                req = next((r for r in off if not r.triggered), off[-1])
                off.remove(req)
                if req.triggered:
                    desk.release(req)
                else:
                    req.cancel()
            yield env.timeout(interval_s)

    env.process(source())
    env.process(roster())
    env.run()
    return log


def _simpy_day(volume, aht_s, interval_s, agents, threshold_s, patience_s, n_reps, seed):
    """Per replication and interval: offered, answered within threshold, abandoned, queue.

    An independent SimPy model of the same system. Agents are the slots of a
    ``PriorityResource`` with as many slots as the largest staffing level; the slots not
    on duty are held by "off-duty" requests at a higher priority, so that an agent going
    off duty first finishes the call in hand and is never replaced by a new caller. Callers
    queue first come first served and withdraw their request when their patience runs
    out. (Ciw's schedules were not used: at every shift change Ciw brings a fresh set of
    servers while the outgoing ones finish their calls, which briefly adds capacity even
    when the staffing level stays the same.)
    """
    k_n = len(volume)
    edges = interval_s * np.arange(1, k_n + 1)
    out = np.zeros((n_reps, 4, k_n))
    for rep in range(n_reps):
        rng = np.random.default_rng([seed, rep])
        log = _simpy_replication(rng, volume, aht_s, interval_s, agents, patience_s)
        arr, left, served = (np.array(c, dtype=float) for c in zip(*log, strict=True))
        served = served.astype(bool)
        wait = left - arr
        k = np.minimum((arr // interval_s).astype(int), k_n - 1)
        out[rep, 0] = np.bincount(k, minlength=k_n)
        out[rep, 1] = np.bincount(k[served & (wait <= threshold_s)], minlength=k_n)
        out[rep, 2] = np.bincount(k[~served], minlength=k_n)
        out[rep, 3] = [np.sum((arr <= t) & (left > t)) for t in edges]
    return out


def test_interval_simulator_matches_simpy_on_an_overloaded_day():
    # Four half-hours with a peak at 3x the staffed capacity and a staffing change; the
    # queue carries over the boundaries. Both simulations estimate the same expectations;
    # their means must agree within 99.9% of their combined standard error.
    volume, agents, patience, n_reps = [100, 300, 300, 100], [12, 10, 14, 12], 120.0, 40
    ours = simulate_intervals(
        volume, AHT, INTERVAL, agents, THRESHOLD, patience, n_reps=n_reps, seed=11
    ).per_rep
    theirs = _simpy_day(volume, AHT, INTERVAL, agents, THRESHOLD, patience, n_reps, seed=7)
    z = 3.29
    for k in range(len(volume)):
        mine = ours[ours["interval"] == k]
        pairs = {
            "sl_offered": (mine["sl_offered"], theirs[:, 1, k] / theirs[:, 0, k]),
            "abandon_share": (mine["abandon_share"], theirs[:, 2, k] / theirs[:, 0, k]),
            "queue_end": (mine["queue_end"], theirs[:, 3, k]),
        }
        for name, (a, b) in pairs.items():
            a, b = np.asarray(a, float), np.asarray(b, float)
            se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
            assert abs(a.mean() - b.mean()) <= z * se + 1e-12, (k, name, a.mean(), b.mean())
    # The day really is overloaded: a queue of dozens carries into the third half-hour.
    assert mean_ci(ours.loc[ours["interval"] == 1, "queue_end"])[1] > 5


def test_interval_summary_of_long_steady_intervals_matches_erlang_c():
    # Three 4-hour intervals at 10, 20 and 10 Erlangs with 12, 23 and 12 agents: long
    # enough that each is close to steady state, so Erlang C per interval must fall in the
    # 99% interval of the simulated per-interval service level, and Poisson arrivals must
    # average the expected volume.
    length = 4 * 3600.0
    volume = np.array([10, 20, 10]) * length / AHT
    agents = [12, 23, 12]
    res = simulate_intervals(volume, AHT, length, agents, THRESHOLD, n_reps=30, seed=2)
    summary = res.summary(LEVEL)
    assert list(summary.index) == [0, 1, 2]
    expected = service_level(volume, AHT, length, agents, THRESHOLD)
    for k in range(3):
        row = summary.loc[k]
        assert row["sl_offered_lo"] <= expected[k] <= row["sl_offered_hi"]
        assert row["offered_lo"] <= volume[k] <= row["offered_hi"]
        assert row["sl_offered"] == pytest.approx(
            res.per_rep.loc[res.per_rep["interval"] == k, "sl_offered"].mean()
        )
