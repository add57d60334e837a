"""Simulation replications as Dask tasks give exactly the serial result.

The reference is the serial path of the same function: replication ``r`` draws from child
``r`` of ``SeedSequence(seed)`` wherever it runs, so every frame must be equal, value for
value, whatever the chunking and the order in which tasks finish.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.fanout import dask_client
from planner.results import ScenarioResult
from planner.scenario import Scenario
from planner.simulate import simulate_result
from staffing.simulate import SimulationError


def _plan() -> ScenarioResult:
    """Two days of voice (Erlang A) and email, hourly, with a day-level spread of demand
    (so that the replications draw day multipliers too)."""
    sc = Scenario.from_dict({"name": "dask", "channels": {
        "voice": {"model": "erlang_a", "patience_s": 120, "shrinkage": 0.0,
                  "open_hours": "08:00-20:00"},
        "email": {"model": "deferred", "response_target_s": 86400, "shrinkage": 0.0,
                  "open_hours": "08:00-20:00", "max_occupancy": None}}})
    ds = pd.date_range("2024-11-11", periods=48, freq="h")
    open_ = (ds.hour >= 8) & (ds.hour < 20)
    vol, cov = [], []
    for ch, v, aht, n in (("voice", 120.0, 180.0, 8.0), ("email", 20.0, 600.0, 3.0)):
        vol.append(pd.DataFrame({"channel": ch, "ds": ds[open_], "volume": v,
                                 "aht_s": aht, "volume_mean": v, "volume_hi": 1.2 * v,
                                 "day_cv": 0.1, "dispersion": 1.2}))
        cov.append(pd.DataFrame({"channel": ch, "ds": ds[open_], "scheduled": n}))
    return ScenarioResult(scenario=sc, volumes=pd.concat(vol, ignore_index=True),
                          coverage=pd.concat(cov, ignore_index=True),
                          meta={"interval_s": 3600})


@pytest.fixture(scope="module")
def client():
    c, cluster = dask_client("local", 2)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def serial():
    return simulate_result(_plan(), reps=6, seed=3)


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.replications, b.replications)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.comparison, b.comparison)
    assert a.meta == b.meta


@pytest.mark.parametrize("chunk_size", [None, 1, 4])
def test_tasks_on_a_local_cluster_give_the_serial_result(client, serial, chunk_size):
    seen = []
    sim = simulate_result(_plan(), reps=6, seed=3, engine=client, chunk_size=chunk_size,
                          progress=lambda f, m: seen.append(f))
    _same(sim, serial)
    # one progress call per finished task (default: about 4 tasks a worker, here 6 of
    # one replication), the last at 1.0
    assert len(seen) == {None: 6, 1: 6, 4: 2}[chunk_size]
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_a_scheduler_address_gives_the_serial_result(client, serial):
    sim = simulate_result(_plan(), reps=6, seed=3, engine=client.scheduler.address)
    _same(sim, serial)
    assert client.status == "running"  # the caller's client stays open


def test_serial_replications_are_independent_of_how_many_run():
    # replication r's stream is child r of SeedSequence(seed): the first 3 of 6 are the 3
    a = simulate_result(_plan(), reps=6, seed=3).replications
    b = simulate_result(_plan(), reps=3, seed=3).replications
    pd.testing.assert_frame_equal(a[a["rep"] < 3].reset_index(drop=True), b)
    assert np.isfinite(a["service_level"]).all()


def test_bad_engine_and_chunk_size_are_named():
    with pytest.raises(SimulationError, match="engine must be .* got 'cluster'"):
        simulate_result(_plan(), reps=2, engine="cluster")
    with pytest.raises(SimulationError, match="chunk_size must be >= 1, got 0"):
        simulate_result(_plan(), reps=2, engine="serial", chunk_size=0)
