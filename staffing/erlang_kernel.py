"""Numerical kernels shared by the queueing models: Erlang B in log space, Erlang C and its
service level on validated arrays, the Erlang C agent search, input guards.

:mod:`staffing.erlang` (Erlang B/C), :mod:`staffing.erlang_a` (Erlang A),
:mod:`staffing.chat` and :mod:`staffing.carryover` build on these; none of them imports
another model module for them, so the models do not import each other in a circle.
Inputs here are validated, broadcast float arrays (the public functions of those modules
validate); outputs are arrays.

Examples
--------
>>> import numpy as np
>>> # B(14, 10): the recursion B(n) = a B(n-1) / (n + a B(n-1)) in exact fractions, 0.0568191
>>> round(float(np.exp(log_erlang_b(np.array(10.0), np.array(14.0)))), 7)
0.0568191
>>> int(erlang_c_min_agents(np.array([10.0]), np.array([180.0]), np.array([0.8]),
...                         np.array([20.0]), np.array([11.0]))[0])  # Call Centre Helper
14
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import special

from ._checks import StaffingInputError

__all__ = [
    "MAX_TRAFFIC_ERLANGS",
    "TINY",
    "as_output",
    "check_traffic",
    "erlang_c_from_b",
    "erlang_c_kernel",
    "erlang_c_min_agents",
    "erlang_c_sl_kernel",
    "log_erlang_b",
    "validate_sl_definition",
]

# Below this Poisson cdf value the log-gamma route loses relative accuracy to underflow;
# the finite series takes over (it converges geometrically there because N < A).
TINY = 1e-280
_SERIES_EPS = 1e-17

#: Largest offered load accepted, in Erlangs: ten million agents busy at once, far above
#: any contact centre (a load this size is a unit mistake, e.g. AHT in milliseconds).
#: Near 1e16 float64 cannot tell N from N + 1 and no agent search would ever end.
MAX_TRAFFIC_ERLANGS = 1e7


def check_traffic(name: str, traffic: NDArray) -> NDArray:
    """Raise when any offered load exceeds :data:`MAX_TRAFFIC_ERLANGS`; returns it."""
    big = np.asarray(traffic) > MAX_TRAFFIC_ERLANGS
    if big.any():
        value = float(np.asarray(traffic)[big].flat[0])
        raise StaffingInputError(
            f"{name} = {value:.4g} Erlangs is above the supported {MAX_TRAFFIC_ERLANGS:.0e}; "
            "check the units of volume, aht_s (seconds) and interval_s (seconds)"
        )
    return traffic


def as_output(arr: NDArray) -> NDArray:
    """Return 0-d results as numpy scalars, arrays unchanged."""
    return arr[()] if arr.ndim == 0 else arr


def log_erlang_b(a: NDArray, n: NDArray) -> NDArray:
    """log B(n, a) for validated, broadcast float arrays (n integer-valued, a >= 0)."""
    a, n = np.broadcast_arrays(np.asarray(a, float), np.asarray(n, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = special.gammaincc(n + 1.0, a)  # P(Poisson(a) <= n)
        log_pmf = special.xlogy(n, a) - a - special.gammaln(n + 1.0)
        out = log_pmf - np.log(cdf)
    tail = cdf < TINY
    if tail.any():
        out = np.array(out, copy=True)
        out[tail] = -np.log(_inverse_b_series(a[tail], n[tail]))
    return out


def _inverse_b_series(a: NDArray, n: NDArray) -> NDArray:
    """1 / B(n, a) = sum_{j=0}^{n} prod_{i<j} (n - i) / a, for n well below a.

    Every ratio is below n / a < 1, so the terms fall geometrically; summation stops
    per element once the term is below 1e-17 of the sum (or the series ends at j = n).
    """
    total = np.ones_like(a)
    term = np.ones_like(a)
    active = np.arange(a.size)
    j = 0
    while active.size:
        term_a = term[active] * (n[active] - j) / a[active]
        term[active] = term_a
        total[active] += term_a
        j += 1
        keep = (term_a > _SERIES_EPS * total[active]) & (n[active] - j > 0)
        active = active[keep]
    return total


def erlang_c_from_b(b: NDArray, a: NDArray, n: NDArray) -> NDArray:
    """C(n, a) from B(n, a): ``n B / (n - a (1 - B))`` when n > a, 1 when n <= a, 0 if a = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = n * b / (n - a + a * b)
    c = np.where(n > a, c, 1.0)
    return np.where(a > 0, c, 0.0)


def erlang_c_kernel(a: NDArray, n: NDArray) -> NDArray:
    """C(n, a) for validated, broadcast float arrays.

    For real ``n >= a`` this is Jagerman's continuous extension (the incomplete-gamma
    form of B is defined for real n), used by :mod:`staffing.kpis` for fractional servers.
    """
    return erlang_c_from_b(np.exp(log_erlang_b(a, n)), a, n)


def erlang_c_sl_kernel(c: NDArray, a: NDArray, n: NDArray, aht: NDArray, t: NDArray) -> NDArray:
    with np.errstate(over="ignore", invalid="ignore"):
        sl = 1.0 - c * np.exp(-(n - a) * t / aht)
    sl = np.where(n > a, sl, 0.0)
    return np.where(a > 0, sl, 1.0)


def validate_sl_definition(sl_definition: str) -> str:
    if sl_definition not in ("offered", "answered", "virtual"):
        raise StaffingInputError(
            "sl_definition must be 'offered', 'answered' or 'virtual', "
            f"got {sl_definition!r}"
        )
    return sl_definition


def erlang_c_min_agents(a: NDArray, h: NDArray, target: NDArray, t: NDArray,
                        n: NDArray) -> NDArray:
    """Smallest N >= ``n`` (float, whole) with ``1 - C(N, A) exp(-(N - A) t / AHT) >= target``.

    ``a`` offered load (Erlangs, > 0), ``h`` AHT (s), ``target`` the SL share, ``t`` the
    threshold (s), ``n`` the first N tried (at least ``floor(a) + 1``, the smallest stable
    N), all 1-d of one length. Steps N up one at a time with the Erlang B recursion
    ``B(N + 1) = A B / (N + 1 + A B)``; returns float N.
    """
    n = np.array(n, dtype=float, copy=True)
    idx = np.arange(a.size)
    aa, hh, tt, nn = a, h, t, n.copy()
    # waiting probability allowed at N: C exp(-(N - A) t / AHT) <= 1 - target
    allowed = 1.0 - target
    b = np.exp(log_erlang_b(aa, nn))
    while idx.size:
        c = nn * b / (nn - aa + aa * b)
        ok = c * np.exp(-(nn - aa) * tt / hh) <= allowed
        n[idx[ok]] = nn[ok]
        go = ~ok
        idx, aa, hh, tt, nn, b, allowed = (
            x[go] for x in (idx, aa, hh, tt, nn, b, allowed)
        )
        ab = aa * b
        nn = nn + 1.0
        b = ab / (nn + ab)
    return n
