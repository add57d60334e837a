"""Chat with concurrency: N agents x c slots as an M/M/(N c) queue on slots.

Reference: the Erlang B recursion on s = N c slots in mpmath (30 digits), written here,
and Python integer arithmetic for ceil(slots / c).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing import StaffingInputError, required_agents, service_level
from staffing.chat import (
    chat_average_speed_of_answer,
    chat_occupancy,
    chat_required_agents,
    chat_service_level,
)

mp.mp.dps = 30


def _mp_sl(a, s, t, aht):
    b = mp.mpf(1)
    for k in range(1, s + 1):
        b = a * b / (k + a * b)
    if s <= a:
        return mp.mpf(0)
    c = s * b / (s - a * (1 - b))
    return 1 - c * mp.e ** (-(s - a) * t / aht)


@pytest.mark.parametrize(
    ("volume", "aht", "interval", "target", "t", "conc"),
    [
        (300, 360, 1800, 0.8, 30, 3),
        (45, 600, 900, 0.9, 60, 2),
        (1, 300, 3600, 0.8, 20, 4),
        (2500, 420, 900, 0.85, 45, 3),
        (700, 900, 1800, 0.6, 10, 5),
    ],
)
def test_required_chat_agents_match_exact_slot_model(volume, aht, interval, target, t, conc):
    a = mp.mpf(volume) * aht / interval
    s = int(mp.floor(a)) + 1
    while _mp_sl(a, s, t, aht) < target:
        s += 1
    expected_agents = -(-s // conc)
    got = chat_required_agents(volume, aht, interval, target, t, conc)
    assert got == expected_agents
    sl = chat_service_level(volume, aht, interval, got, t, conc)
    assert sl == pytest.approx(float(_mp_sl(a, got * conc, t, aht)), abs=1e-9)
    assert sl >= target
    assert chat_service_level(volume, aht, interval, got - 1, t, conc) < target


def test_concurrency_one_is_erlang_c():
    v = np.array([10.0, 200.0, 3000.0])
    assert np.array_equal(
        chat_required_agents(v, 300, 900, 0.8, 30, 1), required_agents(v, 300, 900, 0.8, 30)
    )
    assert np.allclose(
        chat_service_level(v, 300, 900, 1100, 30, 1), service_level(v, 300, 900, 1100, 30)
    )


def test_slot_utilisation_and_asa():
    # 300 chats of 360 s in 30 min = 60 slot-Erlangs; 25 agents x 3 = 75 slots -> 0.8
    assert chat_occupancy(300, 360, 1800, 25, 3) == pytest.approx(0.8, rel=1e-15)
    assert chat_average_speed_of_answer(300, 360, 1800, 25, 3) == pytest.approx(
        float(_mp_asa(60, 75, 360)), rel=1e-9
    )
    assert np.isinf(chat_average_speed_of_answer(300, 360, 1800, 20, 3))  # 60 slots = A


def _mp_asa(a, s, aht):
    a = mp.mpf(a)
    b = mp.mpf(1)
    for k in range(1, s + 1):
        b = a * b / (k + a * b)
    c = s * b / (s - a * (1 - b))
    return c * aht / (s - a)


def test_occupancy_cap_on_slots():
    # 60 slot-Erlangs at most 70% busy: ceil(60 / 0.7) = 86 slots -> ceil(86 / 3) = 29 agents
    assert chat_required_agents(300, 360, 1800, 0.5, 30, 3, max_occupancy=0.7) == 29


@pytest.mark.parametrize("bad", [0, 1.5, -2])
def test_invalid_concurrency(bad):
    with pytest.raises(StaffingInputError, match="concurrency"):
        chat_required_agents(100, 300, 900, 0.8, 30, bad)
    with pytest.raises(StaffingInputError, match="concurrency"):
        chat_service_level(100, 300, 900, 10, 30, bad)


@settings(max_examples=40, deadline=None)
@given(
    vols=st.lists(st.floats(0, 5000, allow_nan=False), min_size=2, max_size=20),
    aht=st.floats(60, 1800),
    conc=st.integers(1, 6),
)
def test_monotone_in_volume_and_concurrency(vols, aht, conc):
    v = np.sort(np.array(vols))
    n = chat_required_agents(v, aht, 1800, 0.8, 30, conc)
    assert np.all(np.diff(n) >= 0)
    more = chat_required_agents(v, aht, 1800, 0.8, 30, conc + 1)
    assert np.all(more <= n)
    pos = n > 0
    assert np.all(chat_service_level(v[pos], aht, 1800, n[pos], 30, conc) >= 0.8)
    assert np.all(chat_service_level(v[pos], aht, 1800, n[pos] - 1, 30, conc) < 0.8)
