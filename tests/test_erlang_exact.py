"""Erlang B/C and required agents against 30-digit arithmetic (mpmath).

The reference is written here independently of the implementation: the Erlang B
recursion ``B(k) = A B(k-1) / (k + A B(k-1))`` from ``B(0) = 1`` in mpmath at 30
significant digits (exact up to the last few digits, no overflow), then
``C = N B / (N - A (1 - B))`` and ``SL = 1 - C exp(-(N - A) t / AHT)``, and the minimal N
by scanning upward from the smallest stable N.

Grid (issue 2): 1 to 20,000 contacts per interval, 15/30/60-minute intervals, AHT 30 s
to 1,200 s, SL targets 60% to 95% within 10 s to 60 s; sparse but covering, extremes
included.
"""

from __future__ import annotations

import itertools

import mpmath as mp
import numpy as np
import pytest

from staffing import erlang_b, erlang_c, required_agents, service_level

mp.mp.dps = 30

VOLUMES = [1, 2, 7, 40, 137, 500, 1234, 3000, 7777, 20000]
INTERVALS = [900, 1800, 3600]
AHTS = [30, 95, 180, 420, 1200]
TARGETS = [(0.60, 10), (0.80, 20), (0.95, 60), (0.90, 30), (0.70, 45), (0.95, 10), (0.85, 15)]


def _mp_reference(volume, aht, interval, targets):
    """Minimal N and exact B, C, SL at N-1 and N for every (target, threshold)."""
    a = mp.mpf(volume) * aht / interval
    lo = int(mp.floor(a)) + 1
    b = mp.mpf(1)
    for k in range(1, lo):
        b = a * b / (k + a * b)
    results = []
    # walk upward once, answering each target at its first success
    pending = list(range(len(targets)))
    found: dict[int, tuple[int, dict]] = {}
    prev: dict[int, dict] = {}
    n = lo - 1
    while pending:
        n += 1
        b = a * b / (n + a * b)
        c = n * b / (n - a * (1 - b))
        for j in list(pending):
            share, t = targets[j]
            sl = 1 - c * mp.e ** (-(n - a) * t / aht)
            here = {"n": n, "b": b, "c": c, "sl": sl}
            if sl >= share:
                found[j] = (n, {"at": here, "below": prev.get(j)})
                pending.remove(j)
            else:
                prev[j] = here
    for j in range(len(targets)):
        results.append(found[j])
    return a, results


def _cases():
    cases = []
    for i, (volume, interval, aht) in enumerate(itertools.product(VOLUMES, INTERVALS, AHTS)):
        # two targets per traffic value, rotating through the list: covers every pair
        targets = [TARGETS[i % len(TARGETS)], TARGETS[(3 * i + 1) % len(TARGETS)]]
        cases.append((volume, interval, aht, targets))
    return cases


CASES = _cases()


def test_grid_covers_the_issue_ranges():
    vols = {c[0] for c in CASES}
    assert min(vols) == 1 and max(vols) == 20000
    assert {c[1] for c in CASES} == {900, 1800, 3600}
    assert {c[2] for c in CASES} >= {30, 1200}
    shares = {t for c in CASES for t in c[3]}
    assert shares == set(TARGETS)
    assert len(CASES) * 2 >= 300


@pytest.mark.parametrize("chunk", range(6))
def test_required_agents_equal_exact_minimum(chunk):
    cases = CASES[chunk::6]
    volumes, intervals, ahts, shares, thresholds, expected = [], [], [], [], [], []
    checks = []
    for volume, interval, aht, targets in cases:
        a, results = _mp_reference(volume, aht, interval, targets)
        for (share, t), (n, detail) in zip(targets, results, strict=True):
            volumes.append(volume)
            intervals.append(interval)
            ahts.append(aht)
            shares.append(share)
            thresholds.append(t)
            expected.append(n)
            checks.append((volume, interval, aht, t, a, detail))
    got = required_agents(
        np.array(volumes), np.array(ahts), np.array(intervals), np.array(shares), thresholds
    )
    assert got.dtype == np.int64
    assert got.tolist() == expected
    # erlang_b / erlang_c / service_level agree with the exact values to 1e-9 at N and N-1
    for volume, interval, aht, t, a, detail in checks:
        for point in (detail["at"], detail["below"]):
            if point is None:
                continue
            n = point["n"]
            assert abs(erlang_b(float(a), n) - float(point["b"])) < 1e-9
            assert abs(erlang_c(float(a), n) - float(point["c"])) < 1e-9
            assert abs(service_level(volume, aht, interval, n, t) - float(point["sl"])) < 1e-9


def _mp_erlang_b(a, n):
    a = mp.mpf(a)
    b = mp.mpf(1)
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


@pytest.mark.parametrize(
    ("traffic", "agents"),
    [
        (0.5, 1),
        (1e-6, 3),  # tiny load: B is about A^3 / 6
        (170.0, 171),  # where naive factorials overflow
        (26666.67, 26500),  # above the grid's largest traffic, N < A
        (26666.67, 27100),
        (20000.0, 5000),  # far below A: the series branch
        (20000.0, 20000),
        (12000.0, 13000),  # B ~ 1e-20: relative accuracy kept
    ],
)
def test_erlang_b_extremes(traffic, agents):
    ref = _mp_erlang_b(traffic, agents)
    got = erlang_b(traffic, agents)
    assert got == pytest.approx(float(ref), rel=1e-9, abs=0)


def test_erlang_c_vectorised_over_heavy_loads():
    traffic = np.array([1e4, 2e4, 2e4, 5e3])
    agents = np.array([10100, 20150, 20000, 4000])
    got = erlang_c(traffic, agents)
    for a, n, g in zip(traffic, agents, got, strict=True):
        if n <= a:
            assert g == 1.0
            continue
        b = _mp_erlang_b(a, int(n))
        ref = n * b / (n - a * (1 - b))
        assert abs(g - float(ref)) < 1e-9
