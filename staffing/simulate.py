"""Discrete-event simulation of one channel's queue over a run of intervals (SimPy).

The analytic KPI models (Erlang C / A per interval, fluid carry-over, the FIFO email
backlog) are approximations; a simulation of the same plan is their referee. This module
simulates one channel: contacts arrive at given times, wait first-come first-served for a
free *slot* (an agent, or one of an agent's ``concurrency`` chat slots), abandon when
their patience runs out first, and are handled for their handle time. The number of slots
follows the plan interval by interval (agents on shift, breaks taken, shrinkage applied:
a fractional slot is present for that fraction of the interval, at its start); an agent
whose shift ends finishes the contact in hand. The queue carries over from interval to
interval and from day to day (closed hours have no slots), which is what email needs.

Events are SimPy processes: one per slot and a controller that changes the number of
active slots at each interval boundary. Arrivals need no process of their own: the queue
is the arrival list read in order, and only when some slot is idle does one of them sleep
until the next arrival (so a busy queue costs one event per contact, its service).
Abandonment is resolved lazily and exactly: a contact whose patience ran out before a
slot reached it is skipped as abandoned at its deadline.

:func:`simulate_queue` returns the outcome of every contact; :func:`interval_outcomes`
sums them per interval (offered, answered within the threshold, abandoned, waits, busy
time, queue at the interval end and the age of its oldest contact). Drawing arrivals and
handle times is the caller's job (:func:`draw_arrivals`, :func:`draw_handle_times`), with a
``numpy.random.Generator``. :func:`handle_cv_from_interval_means` estimates the handle
time's coefficient of variation from the interval mean AHTs a contact history carries.

References
----------
SimPy (https://simpy.readthedocs.io), the process-based discrete-event library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "QueueOutcome",
    "SimulationError",
    "draw_arrivals",
    "draw_handle_times",
    "handle_cv_from_interval_means",
    "interval_outcomes",
    "simulate_queue",
]


class SimulationError(ValueError):
    """Bad input to the simulation (the message names the parameter and value)."""


@dataclass(frozen=True)
class QueueOutcome:
    """Every contact of one simulated run (times in seconds from the run's start).

    ``arrival_s``, ``handle_s``; ``start_s`` when a slot picked it up (``inf`` if never);
    ``abandon_s`` when it abandoned (``inf`` if it did not); ``servers`` (slots per
    interval), ``interval_s`` and ``end_s`` (the run's end).
    """

    arrival_s: NDArray
    handle_s: NDArray
    start_s: NDArray
    abandon_s: NDArray
    servers: NDArray
    interval_s: float
    end_s: float


def draw_arrivals(rng: np.random.Generator, counts: ArrayLike, interval_s: float
                  ) -> tuple[NDArray, NDArray]:
    """Arrival times for whole ``counts`` per interval, uniform within the interval (a
    Poisson process given its count), sorted; returns ``(times_s, interval_index)``."""
    c = np.asarray(counts)
    if np.any(c < 0) or np.any(c != np.floor(c)):
        raise SimulationError("counts must be whole numbers >= 0")
    idx = np.repeat(np.arange(len(c)), c.astype(np.int64))
    t = (idx + rng.random(idx.size)) * float(interval_s)
    order = np.argsort(t, kind="stable")
    return t[order], idx[order]


def draw_handle_times(rng: np.random.Generator, mean_s: ArrayLike, cv: float | None = None
                      ) -> NDArray:
    """Handle times with the given means: exponential (``cv=None``) or lognormal with
    coefficient of variation ``cv``."""
    m = np.asarray(mean_s, float)
    if cv is None:
        return rng.exponential(1.0, m.size) * m
    if not cv > 0:
        raise SimulationError(f"handle time cv must be > 0, got {cv!r}")
    s2 = np.log1p(cv * cv)
    return m * np.exp(rng.normal(-s2 / 2.0, np.sqrt(s2), m.size))


def handle_cv_from_interval_means(contacts: ArrayLike, aht_s: ArrayLike, group: ArrayLike,
                                  min_intervals: int = 200) -> float | None:
    """Coefficient of variation of a single handle time, from interval mean handle times.

    A contact history rarely carries one handle time per contact; it carries each
    interval's mean ``a_i`` over its ``n_i`` contacts. The mean of ``n`` independent handle
    times with mean ``m`` and coefficient of variation ``c`` has variance ``c^2 m^2 / n``,
    so around a reference mean ``m_g`` per group (the contact-weighted mean AHT of, e.g.,
    a channel's day) ``E[(a_i / m_g - 1)^2] = c^2 / n_i + tau^2``, where ``tau^2`` is the
    true mean's own drift within the group. Weighted least squares in ``1 / n_i`` (weights
    ``1 / (c^2 / n_i + tau^2)^2``, iterated) separates the two.

    Parameters
    ----------
    contacts, aht_s : array_like
        Contacts and mean handle time (seconds) per interval; intervals without contacts
        or without a finite positive AHT are skipped.
    group : array_like
        Group of each interval (a day, a channel x day): the reference mean is taken per
        group, so groups should hold many intervals.
    min_intervals : int
        Fewest usable intervals for an estimate.

    Returns
    -------
    float or None
        ``c``; ``None`` when the data cannot tell (fewer than ``min_intervals`` usable
        intervals, or every interval has the same number of contacts, so ``c^2 / n`` and
        ``tau^2`` cannot be told apart). The caller then keeps exponential handle times
        (``c = 1``) and should say so.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = rng.integers(1, 60, 5000)                  # contacts per interval
    >>> a = np.array([rng.gamma(1 / 0.6**2, 300 * 0.6**2, k).mean() for k in n])  # cv 0.6
    >>> round(handle_cv_from_interval_means(n, a, np.arange(5000) // 50), 2)
    0.6
    """
    n = np.asarray(contacts, float)
    a = np.asarray(aht_s, float)
    ok = (n > 0) & np.isfinite(a) & (a > 0)
    if int(ok.sum()) < min_intervals:
        return None
    n, a = n[ok], a[ok]
    codes = pd.factorize(np.asarray(group)[ok])[0]
    m = (np.bincount(codes, weights=n * a) / np.bincount(codes, weights=n))[codes]
    y = (a / m - 1.0) ** 2
    x = 1.0 / n
    if np.ptp(x) <= 0:
        return None
    w = np.ones_like(x)
    c2, tau2 = 1.0, 0.0
    for _ in range(8):
        sw = np.sqrt(w)
        c2, tau2 = np.linalg.lstsq(np.c_[x, np.ones_like(x)] * sw[:, None], y * sw,
                                   rcond=None)[0]
        c2, tau2 = max(float(c2), 0.0), max(float(tau2), 0.0)
        w = 1.0 / np.maximum(c2 * x + tau2, 1e-12) ** 2
    return float(np.sqrt(c2)) if c2 > 0 else None


def simulate_queue(
    arrival_s: ArrayLike,
    handle_s: ArrayLike,
    servers: ArrayLike,
    interval_s: float,
    patience_s: ArrayLike | None = None,
) -> QueueOutcome:
    """Simulate a FCFS multi-slot queue with a slot count per interval.

    Parameters
    ----------
    arrival_s : array_like
        Sorted arrival times in seconds, within ``[0, len(servers) * interval_s)``.
    handle_s : array_like
        Handle time of each contact (seconds, > 0).
    servers : array_like
        Slots available in each interval (>= 0, may be fractional: slot ``floor(x)`` is
        present for the first ``x - floor(x)`` of the interval).
    interval_s : float
        Interval length in seconds.
    patience_s : array_like, optional
        Each contact's patience (seconds); ``None`` = nobody abandons.

    Returns
    -------
    QueueOutcome

    Raises
    ------
    SimulationError
        Unsorted or out-of-range arrivals, negative servers, mismatched lengths.

    Examples
    --------
    >>> o = simulate_queue([0.0, 0.0, 0.0], [600.0, 600.0, 600.0], [2, 2], 900)
    >>> o.start_s.tolist()          # two slots: the third contact waits for the first
    [0.0, 0.0, 600.0]
    """
    arr = np.asarray(arrival_s, float)
    hd = np.asarray(handle_s, float)
    srv = np.asarray(servers, float)
    T = float(interval_s)
    n, n_int = arr.size, srv.size
    end = n_int * T
    if hd.shape != arr.shape:
        raise SimulationError(f"handle_s has {hd.size} values for {n} arrivals")
    if n and (np.any(np.diff(arr) < 0) or arr[0] < 0 or arr[-1] >= end):
        raise SimulationError("arrival_s must be sorted and inside the run's intervals")
    if np.any(~np.isfinite(srv)) or np.any(srv < 0):
        raise SimulationError("servers must be finite and >= 0")
    if n and not np.all(hd > 0):
        raise SimulationError("handle_s must be > 0")
    if patience_s is None:
        deadline = np.full(n, np.inf)
    else:
        deadline = arr + np.broadcast_to(np.asarray(patience_s, float), (n,))
    start = np.full(n, np.inf)
    abandon = np.full(n, np.inf)
    arr_l, hd_l, dl_l = arr.tolist(), hd.tolist(), deadline.tolist()

    env = simpy.Environment()
    state = {"head": 0, "cap": 0, "watching": False}
    cap_event = [env.event()]
    idle: list[tuple[int, simpy.Event]] = []

    def wake_one() -> None:
        while idle:
            k, ev = idle.pop()
            ev.succeed()
            if k < state["cap"]:
                return

    def slot(k: int):
        while True:
            if k >= state["cap"]:
                yield cap_event[0]
                continue
            now = env.now
            h = state["head"]
            while h < n and arr_l[h] <= now and dl_l[h] <= now:
                abandon[h] = dl_l[h]
                h += 1
            if h < n and arr_l[h] <= now:
                state["head"] = h + 1
                start[h] = now
                if idle and h + 1 < n and arr_l[h + 1] <= now:
                    wake_one()  # more are waiting: an idle slot takes the next
                yield env.timeout(hd_l[h])
                continue
            state["head"] = h
            if h >= n:
                return
            if not state["watching"]:
                state["watching"] = True
                yield env.timeout(arr_l[h] - now)
                state["watching"] = False
                wake_one()  # someone else watches for the arrival after this one
            else:
                ev = env.event()
                idle.append((k, ev))
                yield ev

    def controller():
        for j in range(n_int):
            whole = int(np.floor(srv[j] + 1e-9))
            frac = float(srv[j] - whole)
            for cap, until in ((whole + 1, frac * T), (whole, T)) if frac > 1e-9 else \
                    ((whole, T),):
                old = state["cap"]
                state["cap"] = cap
                if cap > old:
                    ev, cap_event[0] = cap_event[0], env.event()
                    ev.succeed()
                    while idle:  # slots parked while inactive may be active again
                        idle.pop()[1].succeed()
                t_next = j * T + until
                if t_next > env.now:
                    yield env.timeout(t_next - env.now)

    n_slots = int(np.ceil(srv.max(initial=0.0) - 1e-9))
    for k in range(n_slots):
        env.process(slot(k))
    env.process(controller())
    env.run(until=end)
    # contacts still waiting at the end whose patience ran out before it
    gone = ~np.isfinite(start) & ~np.isfinite(abandon) & (deadline < end)
    abandon[gone] = deadline[gone]
    return QueueOutcome(arr, hd, start, abandon, srv, T, end)


def interval_outcomes(o: QueueOutcome, threshold_s: float) -> pd.DataFrame:
    """Per interval (by arrival): ``offered, answered, within, abandoned, censored`` (still
    waiting at the run's end, not yet for ``threshold_s``: their outcome is unknown),
    ``wait_sum_s`` (of the answered), ``busy_s`` (slot time spent handling, by the
    interval it falls in), ``capacity_s`` (slot time available), ``queue_end``
    (contacts waiting at the interval's end) and ``oldest_age_s`` (age of the oldest of
    them, 0 when none).

    Examples
    --------
    >>> o = simulate_queue([0.0, 0.0, 0.0], [600.0, 600.0, 600.0], [2, 2], 900)
    >>> interval_outcomes(o, 20)[["offered", "within", "busy_s", "queue_end"]].values.tolist()
    [[3.0, 2.0, 1500.0, 0.0], [0.0, 0.0, 300.0, 0.0]]
    """
    T, n_int = o.interval_s, o.servers.size
    idx = np.minimum((o.arrival_s // T).astype(np.int64), n_int - 1)
    served = np.isfinite(o.start_s)
    wait = np.where(served, o.start_s - o.arrival_s, 0.0)
    ab = np.isfinite(o.abandon_s)

    def per(w: NDArray) -> NDArray:
        return np.bincount(idx, weights=w, minlength=n_int).astype(float)

    # busy time by interval: the integral of the number in service over each interval,
    # sum over services of min(t, end) - min(t, start), from sorted starts and ends
    s_sorted = np.sort(o.start_s[served])
    e_sorted = np.sort(np.minimum(o.start_s[served] + o.handle_s[served], o.end_s))
    cs = np.concatenate([[0.0], np.cumsum(s_sorted)])
    ce = np.concatenate([[0.0], np.cumsum(e_sorted)])
    edges = np.arange(n_int + 1) * T

    def area(t: NDArray) -> NDArray:
        k_s = np.searchsorted(s_sorted, t, side="right")
        k_e = np.searchsorted(e_sorted, t, side="right")
        return (ce[k_e] + t * (e_sorted.size - k_e)) - (cs[k_s] + t * (s_sorted.size - k_s))

    busy = np.diff(area(edges))
    # queue at each interval end: arrived by then, not started, not abandoned by then
    leave = np.minimum(o.start_s, o.abandon_s)
    ends = edges[1:]
    arrived = np.searchsorted(o.arrival_s, ends, side="left")
    left = np.searchsorted(np.sort(leave), ends, side="left")
    queue_end = (arrived - left).astype(float)
    # oldest waiting at each end: the first arrival not yet gone (a contact gone at one
    # end is gone at every later one, so one pointer walks the arrivals once)
    oldest = np.zeros(n_int)
    p = 0
    for j in np.flatnonzero(queue_end > 0):
        while p < arrived[j] and leave[p] <= ends[j]:
            p += 1
        if p < arrived[j]:
            oldest[j] = ends[j] - o.arrival_s[p]
    return pd.DataFrame({
        "offered": per(np.ones(idx.size)),
        "answered": per(served.astype(float)),
        "within": per((served & (wait <= threshold_s + 1e-9)).astype(float)),
        "abandoned": per(ab.astype(float)),
        "censored": per((~served & ~ab & (o.end_s - o.arrival_s < threshold_s)).astype(float)),
        "wait_sum_s": per(wait),
        "busy_s": busy,
        "capacity_s": o.servers * T,
        "queue_end": queue_end,
        "oldest_age_s": oldest,
    })
