"""The queue-model registry: every model is dispatched through it, so a model added there
is used by requirements and KPIs without touching them."""

from __future__ import annotations

import math
import typing

import numpy as np
import pandas as pd
import pytest

from planner.scenario import ChannelModel, ChannelSettings
from staffing.policy import ChannelPolicy
from staffing.queue_models import QUEUE_MODELS, QueueModel, queue_model
from staffing.requirements import compute_requirements


def _volumes(vol, aht=300.0):
    ds = pd.date_range("2024-11-29 10:00", periods=len(vol), freq="30min")
    return pd.DataFrame({"channel": "x", "ds": ds, "volume": np.asarray(vol, float),
                         "aht_s": aht})


def test_the_scenario_schema_lists_the_registry():
    assert typing.get_args(ChannelModel) == tuple(QUEUE_MODELS)
    assert ChannelSettings(model="deferred", response_target_s=3600).deferred
    assert not ChannelSettings(model="chat", concurrency=2).deferred
    with pytest.raises(ValueError, match="needs patience_s"):
        ChannelSettings(model="erlang_a")
    with pytest.raises(ValueError, match="unknown queueing model 'mm1'"):
        queue_model("mm1")


def test_erlang_c_through_the_registry_by_hand():
    # 100 calls in 30 min at AHT 180 s: A = 10 Erlangs. Erlang C with N = 13 agents:
    # P(wait) = (A^N/N!) (N/(N-A)) / (sum_{k<N} A^k/k! + (A^N/N!) N/(N-A)), SL(20 s) =
    # 1 - P(wait) exp(-(N - A) 20 / 180); 13 is the fewest agents reaching 80 %.
    def sl(n, a=10.0, t=20.0, h=180.0):
        top = a**n / math.factorial(n) * n / (n - a)
        pw = top / (sum(a**k / math.factorial(k) for k in range(n)) + top)
        return 1 - pw * math.exp(-(n - a) * t / h)

    need = next(n for n in range(11, 40) if sl(n) >= 0.8)
    req = compute_requirements(_volumes([100.0], 180.0),
                               ChannelPolicy("x", "erlang_c", target_sl=0.8, threshold_s=20),
                               interval_s=1800)
    assert int(req["agents"].iloc[0]) == need
    assert float(req["sl"].iloc[0]) == pytest.approx(sl(need), abs=1e-9)


def test_a_model_added_to_the_registry_is_used_by_requirements(monkeypatch):
    # a toy model: one agent per 0.5 Erlang (a fixed occupancy of 50 %), nothing else
    def size(vol, aht, interval_s, p, is_open, day):
        agents = np.ceil(vol * aht / interval_s / 0.5).astype(np.int64)
        nan = np.full(len(vol), np.nan)
        return {"agents": agents, "sl": nan, "asa_s": nan, "occupancy": np.full(len(vol), 0.5)}

    toy = QueueModel("half_busy", deferred=False, needs=(), concurrent=False,
                     abandons_in_sizing=False, abandons_in_kpis=False, size=size)
    monkeypatch.setitem(QUEUE_MODELS, "half_busy", toy)
    req = compute_requirements(_volumes([60.0, 90.0, 0.0]),
                               ChannelPolicy("x", "half_busy", shrinkage=0.2), interval_s=1800)
    # 60 x 300 / 1800 = 10 Erlangs -> 20 agents; 90 -> 15 -> 30; rostered ceil(a / 0.8)
    assert req["agents"].tolist() == [20, 30, 0]
    assert req["rostered"].tolist() == [25, 38, 0]
