"""Exact, vectorised Erlang B / Erlang C (M/M/N) staffing formulas.

All functions broadcast over numpy arrays of intervals (scalars work too) and take
durations in seconds. Traffic in Erlangs is ``A = volume * aht_s / interval_s``.

Numerics: Erlang B is evaluated in log space from the Poisson distribution,
``B(N, A) = pmf(N; A) / cdf(N; A)`` with ``cdf(N; A) = Q(N + 1, A)`` (scipy's
regularised upper incomplete gamma), and, where that cdf underflows (N far below A),
from the finite series ``1/B = sum_j prod_{i<j} (N - i)/A``. No factorials are formed,
nothing overflows at any load, and values agree with 30-digit arithmetic to about 1e-13.
``required_agents`` starts every interval at the smallest stable N (or the occupancy
bound) and steps all intervals upward together with the stable Erlang B recursion
``B(N+1) = A B(N) / (N + 1 + A B(N))``: one numpy pass per extra agent, no per-interval
Python loop.

When ``patience_s`` is given, the functions dispatch to Erlang A (M/M/N+M), see
:mod:`staffing.erlang_a`.

References
----------
A. K. Erlang (1917); any queueing text, e.g. G. Koole, *Call Center Optimization* (2013),
ch. 5; the service level formula ``SL = 1 - C(N, A) exp(-(N - A) t / AHT)``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import (
    as_agents,
    as_nonnegative,
    as_positive,
    as_share,
)
from .erlang_kernel import MAX_TRAFFIC_ERLANGS, check_traffic, erlang_c_min_agents
from .erlang_kernel import as_output as _out
from .erlang_kernel import erlang_c_kernel as _erlang_c
from .erlang_kernel import erlang_c_sl_kernel as _sl_erlang_c
from .erlang_kernel import log_erlang_b as _log_erlang_b
from .erlang_kernel import validate_sl_definition as _validate_sl_definition

__all__ = [
    "MAX_TRAFFIC_ERLANGS",
    "abandon_rate",
    "average_speed_of_answer",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "required_agents",
    "rostered_agents",
    "service_level",
    "traffic_erlangs",
]

def traffic_erlangs(volume: ArrayLike, aht_s: ArrayLike, interval_s: ArrayLike) -> NDArray:
    """Offered traffic in Erlangs, ``volume * aht_s / interval_s``.

    Parameters
    ----------
    volume : array_like
        Contacts offered in the interval (>= 0, may be fractional forecasts).
    aht_s : array_like
        Average handle time in seconds (> 0).
    interval_s : array_like
        Interval length in seconds (> 0).

    Returns
    -------
    ndarray of float
        Offered load in Erlangs.

    Raises
    ------
    StaffingInputError
        For negative, NaN or infinite inputs, non-positive ``aht_s``/``interval_s``, or
        a load above ``MAX_TRAFFIC_ERLANGS`` (1e7 Erlangs).

    Examples
    --------
    >>> float(traffic_erlangs(100, 180, 1800))
    10.0
    """
    v = as_nonnegative("volume", volume)
    h = as_positive("aht_s", aht_s)
    i = as_positive("interval_s", interval_s)
    with np.errstate(over="ignore"):
        a = np.asarray(v * h / i, dtype=np.float64)
    check_traffic("offered load volume * aht_s / interval_s", a)
    return _out(a)


def _load(
    volume: ArrayLike, aht_s: ArrayLike, interval_s: ArrayLike, agents: ArrayLike
) -> tuple[NDArray, NDArray, NDArray]:
    """Validated traffic A (Erlangs), agents N and handle time (s) of the public functions."""
    a = traffic_erlangs(volume, aht_s, interval_s)
    return a, as_agents("agents", agents), as_positive("aht_s", aht_s)


# ----------------------------------------------------------------------------- public


def erlang_b(traffic: ArrayLike, agents: ArrayLike) -> NDArray:
    """Erlang B: probability that an arrival finds all ``agents`` busy in M/M/N/N.

    Parameters
    ----------
    traffic : array_like
        Offered load A in Erlangs (>= 0).
    agents : array_like
        Number of servers N (whole number >= 0).

    Returns
    -------
    ndarray of float
        ``B(N, A)`` in [0, 1]; ``B(0, A) = 1`` and ``B(N, 0) = 0`` for N > 0.

    Raises
    ------
    StaffingInputError
        For negative, NaN, infinite traffic or traffic above ``MAX_TRAFFIC_ERLANGS``, or
        agents that are not whole numbers >= 0.

    Examples
    --------
    >>> round(float(erlang_b(10.0, 10)), 6)
    0.214582
    """
    a = check_traffic("traffic", as_nonnegative("traffic", traffic))
    n = as_agents("agents", agents)
    return _out(np.exp(_log_erlang_b(a, n)))


def erlang_c(traffic: ArrayLike, agents: ArrayLike) -> NDArray:
    """Erlang C: probability that an arrival has to wait in M/M/N.

    Parameters
    ----------
    traffic : array_like
        Offered load A in Erlangs (>= 0).
    agents : array_like
        Number of agents N (whole number >= 0).

    Returns
    -------
    ndarray of float
        ``C(N, A) = N B / (N - A (1 - B))`` for N > A; 1 when N <= A (the queue is
        unstable, everyone waits); 0 when A = 0.

    Raises
    ------
    StaffingInputError
        As :func:`erlang_b`.

    Examples
    --------
    >>> round(float(erlang_c(10.0, 14)), 4)   # Call Centre Helper worked example
    0.1741
    """
    a = check_traffic("traffic", as_nonnegative("traffic", traffic))
    n = as_agents("agents", agents)
    return _out(_erlang_c(*np.broadcast_arrays(a, n)))


def service_level(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    threshold_s: ArrayLike,
    patience_s: ArrayLike | None = None,
    sl_definition: str = "offered",
) -> NDArray:
    """Share of contacts answered within ``threshold_s`` seconds.

    Without ``patience_s`` this is Erlang C, ``SL = 1 - C(N, A) exp(-(N - A) t / AHT)``
    (0 when N <= A and volume > 0; 1 when volume = 0). With ``patience_s`` (mean patience
    of exponentially impatient callers) it is Erlang A, and ``sl_definition`` selects
    the definition under abandonment (see :func:`staffing.erlang_a.erlang_a_service_level`):
    ``"offered"`` (default) answered within t / offered, ``"answered"`` answered within
    t / answered, ``"virtual"`` P(offered wait <= t).

    Parameters
    ----------
    volume : array_like
        Contacts offered in the interval (>= 0).
    aht_s, interval_s : array_like
        Average handle time and interval length in seconds (> 0).
    agents : array_like
        Productive agents N (whole number >= 0).
    threshold_s : array_like
        Service level threshold t in seconds (>= 0).
    patience_s : array_like, optional
        Mean patience in seconds (> 0); switches to Erlang A.
    sl_definition : {"offered", "answered", "virtual"}
        Only used with ``patience_s``.

    Returns
    -------
    ndarray of float
        Service level as a share in [0, 1].

    Raises
    ------
    StaffingInputError
        For negative, NaN or infinite inputs, non-positive durations, fractional agents,
        or an unknown ``sl_definition``.

    Examples
    --------
    >>> round(float(service_level(100, 180, 1800, 11, 20)), 4)
    0.3896
    """
    _validate_sl_definition(sl_definition)
    a, n, h = _load(volume, aht_s, interval_s, agents)
    t = as_nonnegative("threshold_s", threshold_s)
    if patience_s is not None:
        from .erlang_a import erlang_a_service_level

        return erlang_a_service_level(a, h, n, t, patience_s, sl_definition)
    a, n, h, t = np.broadcast_arrays(a, n, h, t)
    return _out(_sl_erlang_c(_erlang_c(a, n), a, n, h, t))


def average_speed_of_answer(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    patience_s: ArrayLike | None = None,
) -> NDArray:
    """Average speed of answer (mean wait in queue) in seconds.

    Erlang C: ``ASA = C(N, A) AHT / (N - A)``, ``inf`` when N <= A and volume > 0,
    0 when volume = 0. With ``patience_s`` (Erlang A) it is the mean wait of the
    answered contacts, E[W | served], see :func:`staffing.erlang_a.erlang_a_metrics`.

    Parameters
    ----------
    volume, aht_s, interval_s, agents, patience_s
        As :func:`service_level`.

    Returns
    -------
    ndarray of float
        Seconds, >= 0, possibly ``inf`` (Erlang C only).

    Raises
    ------
    StaffingInputError
        As :func:`service_level`.

    Examples
    --------
    >>> round(float(average_speed_of_answer(100, 180, 1800, 11)), 2)
    122.78
    """
    a, n, h = _load(volume, aht_s, interval_s, agents)
    if patience_s is not None:
        from .erlang_a import erlang_a_metrics

        return _out(erlang_a_metrics(a, h, n, patience_s).asa_s)
    a, n, h = np.broadcast_arrays(a, n, h)
    with np.errstate(divide="ignore", invalid="ignore"):
        asa = _erlang_c(a, n) * h / (n - a)
    asa = np.where(n > a, asa, np.inf)
    return _out(np.where(a > 0, asa, 0.0))


def occupancy(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    patience_s: ArrayLike | None = None,
) -> NDArray:
    """Share of agent time spent handling contacts.

    Erlang C: ``min(A / N, 1)`` (1 when N <= A, the agents never idle; 0 when volume = 0).
    Erlang A: carried load over agents, ``A (1 - P(abandon)) / N``.

    Returns
    -------
    ndarray of float
        Occupancy in [0, 1]; 0 when there is no volume, 1 for zero agents with volume.

    Examples
    --------
    >>> float(occupancy(100, 180, 1800, 11))
    0.9090909090909091
    """
    a, n, h = _load(volume, aht_s, interval_s, agents)
    if patience_s is not None:
        from .erlang_a import erlang_a_metrics

        return _out(erlang_a_metrics(a, h, n, patience_s).occupancy)
    a, n = np.broadcast_arrays(a, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.minimum(a / n, 1.0)
    return _out(np.where(a > 0, occ, 0.0))


def abandon_rate(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    patience_s: ArrayLike,
) -> NDArray:
    """Share of offered contacts that abandon, Erlang A (M/M/N+M).

    ``P(Ab) = P(W > 0) [1 - 1/rho + 1/(rho A(x, y))]`` with ``rho = A / N`` (Mandelbaum &
    Zeltyn 2004); see :mod:`staffing.erlang_a`.

    Parameters
    ----------
    volume, aht_s, interval_s, agents
        As :func:`service_level`.
    patience_s : array_like
        Mean patience in seconds (> 0), exponential.

    Returns
    -------
    ndarray of float
        Share in [0, 1]; 1 with zero agents and volume > 0, 0 with zero volume.

    Examples
    --------
    >>> round(float(abandon_rate(100, 180, 1800, 10, 180)), 4)
    0.1251
    """
    from .erlang_a import erlang_a_metrics

    a, n, h = _load(volume, aht_s, interval_s, agents)
    return _out(erlang_a_metrics(a, h, n, patience_s).p_abandon)


# ----------------------------------------------------------------------------- rounding


def _snap_ceil(q: NDArray) -> NDArray:
    """ceil(q), except that q within 4 ulps above an integer counts as that integer.

    ``A / max_occupancy`` is formed in floating point: ``21 / 0.7`` is
    30.000000000000004, one ulp above the exact quotient 30 of the decimal inputs.
    """
    r = np.round(q)
    near = np.abs(q - r) <= 4.0 * np.spacing(np.maximum(np.abs(q), 1.0))
    return np.where(near, r, np.ceil(q))


def _decimal_fraction(x: float) -> Fraction:
    """The shortest decimal that round-trips to ``x``, as an exact fraction (0.3 -> 3/10)."""
    return Fraction(repr(float(x)))


def rostered_agents(agents: ArrayLike, shrinkage: ArrayLike) -> NDArray:
    """Rostered headcount covering ``agents`` productive agents after ``shrinkage``.

    Exact integer ``ceil(agents / (1 - shrinkage))``, reading ``shrinkage`` as the
    decimal it was written as (0.3 is 3/10): the float quotient ``21 / (1 - 0.3)`` is
    30.000000000000004 and a float ``ceil`` gives 31; this returns 30.

    Parameters
    ----------
    agents : array_like
        Productive agents (whole numbers >= 0).
    shrinkage : array_like
        Share of paid time not available for contacts, in [0, 1).

    Returns
    -------
    ndarray of int64
        Rostered agents, the smallest integer R with ``R (1 - shrinkage) >= agents``.

    Raises
    ------
    StaffingInputError
        For fractional or negative agents, or shrinkage outside [0, 1).

    Examples
    --------
    >>> int(rostered_agents(21, 0.3))
    30
    """
    n = as_agents("agents", agents)
    s = as_share("shrinkage", shrinkage, low_open=False)
    n, s = np.broadcast_arrays(n, s)
    out = np.empty(n.shape, dtype=np.int64)
    for value in np.unique(s):
        mask = s == value
        frac = 1 - _decimal_fraction(value)  # (1 - s) = p / q exactly
        p, q = frac.numerator, frac.denominator
        counts = n[mask]
        if q < 2**20 and counts.max(initial=0) < 2**40:
            k = counts.astype(np.int64) * q
            out[mask] = -((-k) // p)
        else:  # huge denominators: exact Python integers
            out[mask] = [-((-int(c) * q) // p) for c in counts]
    return _out(out)


# ----------------------------------------------------------------------------- staffing


def _occupancy_floor(a: NDArray, max_occupancy: NDArray) -> NDArray:
    """Smallest N with A / N <= max_occupancy (0 when A = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, _snap_ceil(a / max_occupancy), 0.0)


def required_agents(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    target_sl: ArrayLike,
    threshold_s: ArrayLike,
    max_occupancy: ArrayLike | None = None,
    patience_s: ArrayLike | None = None,
    sl_definition: str = "offered",
) -> NDArray:
    """Smallest whole number of productive agents meeting a service level target.

    Erlang C (default): the minimal N > A with
    ``1 - C(N, A) exp(-(N - A) threshold_s / aht_s) >= target_sl`` and, when given,
    ``A / N <= max_occupancy``. With ``patience_s``: the same with the Erlang A service
    level of :func:`service_level` (no stability requirement: callers abandon).

    Parameters
    ----------
    volume : array_like
        Contacts offered per interval (>= 0).
    aht_s, interval_s : array_like
        Average handle time and interval length in seconds (> 0).
    target_sl : array_like
        Target share answered within the threshold, in (0, 1).
    threshold_s : array_like
        Threshold in seconds (>= 0).
    max_occupancy : array_like, optional
        Occupancy cap in (0, 1]; N >= ceil(A / max_occupancy) computed exactly.
    patience_s : array_like, optional
        Mean patience in seconds (> 0): Erlang A.
    sl_definition : str
        Erlang A service level definition, see :func:`service_level`.

    Returns
    -------
    ndarray of int64
        Agents per interval; 0 where volume is 0.

    Raises
    ------
    StaffingInputError
        For negative, NaN or infinite inputs, a target outside (0, 1), a negative
        threshold, a max occupancy outside (0, 1], or an offered load above
        ``MAX_TRAFFIC_ERLANGS`` (1e7 Erlangs; the search could not end near 1e16).

    Examples
    --------
    >>> int(required_agents(100, 180, 1800, 0.8, 20))   # Call Centre Helper: 14 agents
    14
    >>> required_agents([0, 100, 1000], 180, 1800, 0.8, 20).tolist()
    [0, 14, 107]
    """
    _validate_sl_definition(sl_definition)
    a = traffic_erlangs(volume, aht_s, interval_s)
    h = as_positive("aht_s", aht_s)
    target = as_share("target_sl", target_sl)
    t = as_nonnegative("threshold_s", threshold_s)
    if max_occupancy is not None:
        m = as_share("max_occupancy", max_occupancy, high_open=False)
    else:
        m = np.ones(())
    if patience_s is not None:
        from .erlang_a import erlang_a_required_agents

        return _out(erlang_a_required_agents(a, h, target, t, patience_s, m, sl_definition))
    a, h, target, t, m = np.broadcast_arrays(a, h, target, t, m)
    shape = a.shape
    a, h, target, t, m = (np.ravel(x) for x in (a, h, target, t, m))

    n = np.where(a > 0, np.floor(a) + 1.0, 0.0)  # smallest stable N
    if max_occupancy is not None:
        n = np.maximum(n, _occupancy_floor(a, m))
    idx = np.flatnonzero(a > 0)
    if idx.size:
        n[idx] = erlang_c_min_agents(a[idx], h[idx], target[idx], t[idx], n[idx])
    return _out(n.reshape(shape).astype(np.int64))

