"""Erlang A (M/M/N+M) against an independent numerical reference and limiting cases.

Reference: the birth-death chain of M/M/N+M truncated at N + K states, its stationary
distribution solved as a linear system, and the tagged arrival's wait computed from a
transient Markov chain (levels = callers ahead of it; moves down at rate N mu + i theta,
own abandonment at rate theta, served from level 0 at rate N mu) with scipy's matrix
exponential and fundamental matrix. None of the incomplete-gamma formulas are used.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from staffing import StaffingInputError, abandon_rate, erlang_b, required_agents, service_level
from staffing.erlang import average_speed_of_answer, erlang_c, occupancy
from staffing.erlang_a import erlang_a_metrics, erlang_a_service_level


def _queue_cutoff(lam, mu, theta, n):
    """Queue positions to keep: until the unnormalised state weight is below 1e-18."""
    ratio, k = 1.0, 0
    while ratio > 1e-18 or k < 10:
        k += 1
        ratio *= lam / (n * mu + k * theta)
    return k


def _chain_reference(a, aht, n, patience, t):
    lam, mu, theta = a / aht, 1.0 / aht, 1.0 / patience
    K = _queue_cutoff(lam, mu, theta, n)  # queue positions kept
    size = n + K + 1
    q = np.zeros((size, size))
    for j in range(size):
        if j + 1 < size:
            q[j, j + 1] = lam
        if j > 0:
            q[j, j - 1] = min(j, n) * mu + max(j - n, 0) * theta
        q[j, j] = -q[j].sum()
    # stationary: pi Q = 0, sum pi = 1
    m = np.vstack([q.T, np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(m, rhs, rcond=None)[0]
    p_wait = pi[n:].sum()
    queue = np.arange(K + 1)
    p_ab = theta * (queue * pi[n:]).sum() / lam
    weights = pi[n:]  # arrival finds k = 0..K callers waiting -> starts at level k

    def tagged(own_theta):
        # transient levels 0..K, then absorbing: served (K+1), abandoned (K+2)
        g = np.zeros((K + 3, K + 3))
        for i in range(K + 1):
            if i > 0:
                g[i, i - 1] = n * mu + i * theta
            else:
                g[i, K + 1] = n * mu
            g[i, K + 2] = own_theta
            g[i, i] = -g[i].sum()
        return g

    g = tagged(theta)
    served_by_t = linalg.expm(g * t)[: K + 1, K + 1]
    sl_offered = (1 - p_wait) + weights @ served_by_t
    tmat = g[: K + 1, : K + 1]
    exit_served = g[: K + 1, K + 1]
    inv = np.linalg.inv(-tmat)
    p_served_k = inv @ exit_served
    w_served_k = inv @ (inv @ exit_served)
    p_served = (1 - p_wait) + weights @ p_served_k
    asa = (weights @ w_served_k) / p_served
    gv = tagged(0.0)
    virtual = (1 - p_wait) + weights @ linalg.expm(gv * t)[: K + 1, K + 1]
    return {
        "p_wait": p_wait,
        "p_ab": p_ab,
        "sl_offered": sl_offered,
        "sl_answered": sl_offered / p_served,
        "sl_virtual": virtual,
        "asa": asa,
        "served": p_served,
    }


CASES = [
    # traffic (Erlangs), aht_s, agents, patience_s, threshold_s
    (10.0, 180.0, 10, 180.0, 20.0),
    (10.0, 180.0, 12, 60.0, 20.0),
    (4.0, 300.0, 3, 600.0, 30.0),  # overloaded: only abandonment keeps it stable
    (8.0, 240.0, 14, 120.0, 10.0),  # lightly loaded
    (2.5, 60.0, 1, 30.0, 5.0),
    (15.0, 420.0, 16, 2000.0, 60.0),  # long patience, near Erlang C
    (6.0, 200.0, 9, 20.0, 0.0),  # impatient callers, threshold 0
]


@pytest.mark.parametrize(("a", "aht", "n", "patience", "t"), CASES)
def test_matches_truncated_chain(a, aht, n, patience, t):
    ref = _chain_reference(a, aht, n, patience, t)
    m = erlang_a_metrics(a, aht, n, patience)
    assert m.p_wait == pytest.approx(ref["p_wait"], abs=1e-10)
    assert m.p_abandon == pytest.approx(ref["p_ab"], abs=1e-10)
    assert m.asa_s == pytest.approx(ref["asa"], rel=1e-8)
    assert m.mean_wait_s == pytest.approx(ref["p_ab"] * patience, rel=1e-8)
    for definition in ("offered", "answered", "virtual"):
        got = erlang_a_service_level(a, aht, n, t, patience, definition)
        assert got == pytest.approx(ref[f"sl_{definition}"], abs=1e-10), definition
    assert m.occupancy == pytest.approx(a * ref["served"] / n, abs=1e-10)


def test_public_functions_dispatch_to_erlang_a():
    # volume 100 in 1800 s at AHT 180 s is 10 Erlangs; the volume-based public functions
    # with patience_s give the truncated chain's M/M/10+M figures
    ref = _chain_reference(10.0, 180.0, 10, 180.0, 20.0)
    assert abandon_rate(100, 180, 1800, 10, 180) == pytest.approx(ref["p_ab"], abs=1e-10)
    assert average_speed_of_answer(100, 180, 1800, 10, patience_s=180) == pytest.approx(
        ref["asa"], rel=1e-8
    )
    sl = service_level(100, 180, 1800, 10, 20, patience_s=180)
    assert sl == pytest.approx(ref["sl_offered"], abs=1e-10)
    assert occupancy(100, 180, 1800, 10, patience_s=180) == pytest.approx(
        10.0 * ref["served"] / 10, abs=1e-10
    )


@pytest.mark.parametrize("n", [11, 12, 14, 20])
def test_infinite_patience_limit_is_erlang_c(n):
    # Erlang A tends to Erlang C as patience -> infinity, with an O(1/patience) gap
    for patience, tol in ((1e6, 5e-4), (1e8, 5e-6)):
        sl_a = service_level(100, 180, 1800, n, 20, patience_s=patience)
        sl_c = service_level(100, 180, 1800, n, 20)
        assert abs(sl_a - sl_c) < tol
        asa_a = average_speed_of_answer(100, 180, 1800, n, patience_s=patience)
        asa_c = average_speed_of_answer(100, 180, 1800, n)
        assert abs(asa_a - asa_c) < tol * 200 * asa_c
        assert erlang_a_metrics(10.0, 180.0, n, patience).p_wait == pytest.approx(
            erlang_c(10.0, n), abs=tol
        )


@pytest.mark.parametrize(("a", "n"), [(10.0, 8), (10.0, 12), (50.0, 45)])
def test_zero_patience_limit_is_erlang_b(a, n):
    # with patience -> 0 a caller who finds all agents busy leaves at once: M/M/N/N,
    # so P(abandon) -> B(N, A) (Erlang's loss formula)
    p_ab = erlang_a_metrics(a, 300.0, n, 1e-6).p_abandon
    assert p_ab == pytest.approx(erlang_b(a, n), rel=1e-6)


def test_edge_cases():
    m = erlang_a_metrics([0.0, 5.0], 300.0, [0, 0], 60.0)
    assert m.p_abandon.tolist() == [0.0, 1.0]
    assert erlang_a_service_level([0.0, 5.0], 300.0, [0, 0], 20.0, 60.0).tolist() == [1.0, 0.0]
    assert required_agents(0, 300, 900, 0.8, 20, patience_s=60) == 0
    with pytest.raises(StaffingInputError, match="patience_s"):
        service_level(100, 180, 1800, 10, 20, patience_s=-1)
    with pytest.raises(StaffingInputError, match="sl_definition"):
        service_level(100, 180, 1800, 10, 20, patience_s=60, sl_definition="x")


def test_required_agents_is_minimal():
    volume = np.array([5.0, 40.0, 100.0, 900.0, 3000.0])
    for definition in ("offered", "answered", "virtual"):
        n = required_agents(volume, 300, 900, 0.8, 20, patience_s=90, sl_definition=definition)
        sl = service_level(volume, 300, 900, n, 20, patience_s=90, sl_definition=definition)
        below = service_level(
            volume, 300, 900, n - 1, 20, patience_s=90, sl_definition=definition
        )
        assert np.all(sl >= 0.8)
        assert np.all(below < 0.8)
    capped = required_agents(volume, 300, 900, 0.5, 20, patience_s=90, max_occupancy=0.85)
    m = erlang_a_metrics(volume * 300 / 900, 300.0, capped, 90.0)
    sl = service_level(volume, 300, 900, capped, 20, patience_s=90)
    assert np.all((m.occupancy <= 0.85) & (sl >= 0.5))
    m1 = erlang_a_metrics(volume * 300 / 900, 300.0, capped - 1, 90.0)
    sl1 = service_level(volume, 300, 900, capped - 1, 20, patience_s=90)
    assert np.all((m1.occupancy > 0.85) | (sl1 < 0.5))
    assert np.any(m1.occupancy > 0.85)  # the cap binds somewhere in this set


def _mp_asa_by_queue_position(a, aht, n, patience):
    """E[W | served] summed over the queue position k an arrival finds (mpmath, 30 digits).

    The tagged caller's offered wait V is a sum of exponential stages with rates
    N mu + i theta (i = k..0); by its Laplace transform, E[V e^(-theta V)] =
    x / (x + k + 1) * (psi(x + k + 2) - psi(x + 1)) / theta with x = N mu / theta, and
    P(served | k) = x / (x + k + 1). The arrival finds k waiting with probability
    pi_(N+k) from the birth-death chain (Erlang B recursion for pi_N).
    """
    a = mp.mpf(a)
    theta = 1 / mp.mpf(patience)
    x = n * mp.mpf(patience) / aht
    y = a * mp.mpf(patience) / aht
    b = mp.mpf(1)
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    weights = [mp.mpf(1)]
    k = 0
    while k < y - x or weights[-1] > mp.mpf(10) ** -25 * sum(weights):
        k += 1
        weights.append(weights[-1] * y / (x + k))
    total = sum(weights)
    p_wait = total * b / (1 + (total - 1) * b)
    served, wait_served = 1 - p_wait, mp.mpf(0)
    for k, w in enumerate(weights):
        pk = p_wait * w / total
        served += pk * x / (x + k + 1)
        wait_served += pk * x / (x + k + 1) * (mp.digamma(x + k + 2) - mp.digamma(x + 1)) / theta
    return wait_served / served


@pytest.mark.parametrize(
    ("a", "aht", "n", "patience"),
    [
        (500.0, 300.0, 520, 3600.0),  # large x = N patience / AHT = 6240
        (500.0, 300.0, 480, 600.0),  # overloaded
        (50.0, 60.0, 40, 3000.0),  # heavily overloaded, long patience
        (1000.0, 900.0, 1100, 60.0),  # light load, impatient
    ],
)
def test_asa_matches_queue_position_sum(a, aht, n, patience):
    with mp.workdps(30):
        ref = _mp_asa_by_queue_position(a, aht, n, patience)
    assert erlang_a_metrics(a, aht, n, patience).asa_s == pytest.approx(float(ref), rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(
    a=st.floats(0, 5000),
    aht=st.floats(30, 1200),
    patience=st.floats(1, 1e5),
    offset=st.floats(-4, 6),
    t=st.floats(0, 600),
)
def test_any_load_gives_finite_shares_without_warnings(a, aht, patience, offset, t):
    import warnings

    n = max(0.0, float(np.round(a + offset * np.sqrt(a + 1))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = erlang_a_metrics(a, aht, n, patience)
        sls = [erlang_a_service_level(a, aht, n, t, patience, d) for d in ("offered", "virtual")]
    for share in (m.p_wait, m.p_abandon, m.occupancy, *sls):
        assert 0.0 <= share <= 1.0
    assert np.isfinite(m.asa_s) and m.asa_s >= 0
    assert np.isfinite(m.mean_wait_s) and m.mean_wait_s <= patience * (1 + 1e-12)


@pytest.mark.parametrize("a", [5e-324, 1.1125369292536007e-308, 2.3e-308, 1e-300])
@pytest.mark.parametrize("n", [1.0, 2.0, 6.0])
def test_vanishing_traffic_is_quiet_and_nearly_free(a, n):
    # Hypothesis once found an overflow warning at a = 1.1e-308. With abandonment the
    # queue is never longer than without, so P(Ab) <= P(W>0) <= Erlang C(a, n) <= a^n / n!
    # <= a for a < 1 (the M/M/n bound): at vanishing traffic both are at most a.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = erlang_a_metrics(a, 30.0, n, 16.0)
        sls = [erlang_a_service_level(a, 30.0, n, 0.0, 16.0, d)
               for d in ("offered", "answered", "virtual")]
    assert 0.0 <= m.p_abandon <= m.p_wait <= a * (1 + 1e-12)
    assert all(1.0 - a <= s <= 1.0 for s in sls)
