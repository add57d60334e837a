"""Queues carried from interval to interval: the time-varying models behind the KPIs.

Steady-state formulas answer "what if this interval lasted forever"; in a bad peak the load
exceeds capacity for hours and the unanswered queue carries into the next intervals, which a
per-interval formula forgets. The two models here follow the queue through the intervals.

Queues without abandonment (Erlang C voice, chat on ``N * concurrency`` slots) use the
*pointwise stationary fluid flow approximation* (PSFFA, :func:`psffa_erlang_c`): the mean
number in system ``x`` follows ``dx/dt = lam - mu a(x)``, ``a(x)`` being the load whose
stationary M/M/s number in system is ``x``. It is exactly Erlang C in a stationary
under-loaded interval, grows the queue at ``lam - s mu`` in overload, and builds up and
drains at the pace of a real queue near saturation, where a 30-minute interval never
reaches the steady state (a steady-state carry-over would report a queue of hundreds at
99% load).

Queues with abandonment (Erlang A; ``patience_s`` set) relax to their steady state within
minutes, so they use a *fluid carry-over above the steady state*: per interval with
arrival rate ``lam = volume / T``, capacity ``c = N * concurrency / AHT``, abandonment rate
``theta = 1 / patience`` and queue ``Q0`` carried in,

- a queue above the interval's steady-state mean queue ``L`` follows the fluid
  ``dQ/dt = lam - c - theta Q``, i.e. ``Q(t) = q* + (Q0 - q*) exp(-theta t)`` with
  ``q* = (lam - c) / theta``, until it is down to ``L``;
- a contact arriving meanwhile waits (FIFO, contacts ahead abandoning at rate ``theta``)
  ``w = ln(1 + theta Q / c) / theta`` and is answered with probability
  ``exp(-theta w) = c / (c + theta Q)``; it counts in the service level when answered and
  ``w <= threshold``;
- the other arrivals get the steady-state Erlang A figures of the interval (fractional
  agents interpolated linearly between the neighbouring whole numbers), and the interval
  carries out ``max(Q(T), L)``.

References
----------
Wang, W.-P., Tipper, D., Banerjee, S. (1996). A simple approximation for modeling
nonstationary queues. *IEEE INFOCOM '96*, 255-262 (PSFFA).
Jagerman, D. L. (1974). Some properties of the Erlang loss function. *Bell System
Technical Journal* 53(3), 525-551 (Erlang C for real numbers of servers).
Newell, G. F. (1982). *Applications of Queueing Theory*, ch. 2-3 (fluid / cumulative-curve
approximation of queues under overload).
Mandelbaum, A., Massey, W. A., Reiman, M. I. (1998). Strong approximations for Markovian
service networks. *Queueing Systems* 30, 149-201 (fluid limit of M(t)/M/N(t)+M).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from staffing.erlang_kernel import erlang_c_kernel as _erlang_c
from staffing.erlang_kernel import erlang_c_sl_kernel as _sl_erlang_c

__all__ = ["fluid_queue", "fluid_wait", "psffa_erlang_c", "queue_at"]


def fluid_queue(
    lam: np.ndarray,
    c: np.ndarray,
    theta: float,
    interval_s: float,
    q0: float = 0.0,
    floor: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fluid queue through consecutive intervals.

    Parameters
    ----------
    lam, c : ndarray
        Arrival rate and service capacity (contacts per second) per interval.
    theta : float
        Abandonment rate per waiting contact (1 / mean patience in seconds), 0 for none.
    interval_s : float
        Interval length in seconds.
    q0 : float
        Queue at the start of the first interval.
    floor : ndarray, optional
        Steady-state mean queue per interval (``inf`` where there is no steady state).
        The fluid governs only a queue above this level; once the queue is down to it,
        the interval is in its steady state, and it carries this mean queue out.

    Returns
    -------
    q_start, q_end, t_queue : ndarray
        Queue at the start and end of each interval, and the time (seconds from the
        interval start) during which the queue is above the steady level (positive when
        no ``floor`` is given).

    Examples
    --------
    >>> fluid_queue(np.array([0.2, 0.0]), np.array([0.1, 0.05]), 0.0, 1000.0)[1].tolist()
    [100.0, 50.0]
    """
    n = len(lam)
    q_start, q_end, t_q = np.zeros(n), np.zeros(n), np.zeros(n)
    q = float(q0)
    T = float(interval_s)
    for k in range(n):
        lk, ck = float(lam[k]), float(c[k])
        q_start[k] = q
        level = 0.0
        if floor is not None and np.isfinite(floor[k]):
            level = float(floor[k])
        if theta > 0:
            qs = (lk - ck) / theta
            if qs >= level and (q > level or qs > level):
                t = T
                q = qs + (q - qs) * np.exp(-theta * T)
            elif q > level:  # decays towards qs < level: reaches the steady level at t0
                t0 = np.log((q - qs) / (level - qs)) / theta
                t = min(t0, T)
                q = qs + (q - qs) * np.exp(-theta * T) if t0 > T else level
            else:
                t, q = 0.0, level
        else:
            if lk >= ck and (lk > ck or q > level):
                t = T
                q = q + (lk - ck) * T
            elif q > level:
                t = min((q - level) / (ck - lk), T)
                q = max(q - (ck - lk) * T, level)
            else:
                t, q = 0.0, level
        t_q[k] = t
        q_end[k] = q
    return q_start, q_end, t_q


def queue_at(q0, qs, theta, lam, c, t):
    """Queue ``t`` seconds into an interval of the fluid model (:func:`fluid_queue`): from
    ``q0`` towards the steady level ``qs`` at rate ``theta`` (abandonment), or linearly
    at ``lam - c`` without abandonment."""
    if theta > 0:
        return qs + (q0 - qs) * np.exp(-theta * t)
    return q0 + (lam - c) * t


def fluid_wait(q: np.ndarray, c: np.ndarray, theta: float) -> np.ndarray:
    """Wait (s) of a contact joining a fluid queue ``q`` served at rate ``c`` (contacts/s),
    with abandonment rate ``theta`` (1/s); 0 for an empty queue, inf without service."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if theta > 0:
            w = np.log1p(theta * q / c) / theta
        else:
            w = q / c
    return np.where(q <= 0, 0.0, np.where(c > 0, w, np.inf))


def _wait_at(a, x, s, aht, c=None):
    """Mean wait (s) at load ``a`` with ``x`` in system: Erlang C ``C AHT / (s - a)``, or
    the queue beyond full servers over the answer rate once saturated."""
    if c is None:
        c = _erlang_c(a, np.broadcast_to(s, np.shape(a)))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = c * aht / (s - a)
        sat = np.maximum(x - s, 0.0) * aht / s
    return np.where(a < s * _RHO[-1], stat, np.maximum(stat, sat))


_RHO = 1.0 - np.exp(-np.linspace(0.0, np.log(1e7), 160))  # 0 .. 1 - 1e-7, dense near 1


def psffa_erlang_c(
    lam: np.ndarray, aht_s: np.ndarray, servers: np.ndarray, threshold_s: float,
    interval_s: float, x0: float = 0.0,
) -> pd.DataFrame:
    """Pointwise stationary fluid flow approximation of M(t)/M/s(t) (no abandonment).

    The mean number in system ``x`` follows ``dx/dt = lam - mu a(x)``, where ``a(x)`` is
    the offered load whose *stationary* M/M/s mean number in system ``G(a) = a + Lq(a)``
    equals ``x``; arrivals at time t see the stationary figures at load ``a(x(t))``.
    Under load it stays at the Erlang C steady state; in overload ``a -> s`` and the queue
    grows at ``lam - s mu``; it builds up and drains at the pace of a real queue near
    saturation (where the steady state is never reached within an interval). In an
    interval without servers (closed hours) the agents of the previous interval finish
    the contacts in hand and the queue waits, with the arrivals added to it.

    Parameters
    ----------
    lam, aht_s, servers : ndarray
        Arrival rate (1/s), handle time (s) and servers (real) per interval.
    threshold_s : float
        Service-level threshold in seconds.
    interval_s : float
        Interval length in seconds.
    x0 : float
        Contacts in the system at the start.

    Returns
    -------
    DataFrame
        ``sl, asa_s, occupancy, backlog_items, backlog_age_s`` per interval (arrival
        averages; queue and its mean wait at the interval end).

    References
    ----------
    Wang, W.-P., Tipper, D., Banerjee, S. (1996). A simple approximation for modeling
    nonstationary queues. *IEEE INFOCOM '96*, 255-262.
    Jagerman, D. L. (1974). Some properties of the Erlang loss function. *Bell System
    Technical Journal* 53(3), 525-551.
    """
    n = len(lam)
    T = float(interval_s)
    mu = 1.0 / aht_s
    s = np.asarray(servers, dtype=float)
    a = np.where(s[:, None] > 0, s[:, None] * _RHO[None, :], 0.0)  # (n, J) load grid
    c = _erlang_c(a, np.broadcast_to(s[:, None], a.shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = s[:, None] - a
        lq = np.where(a > 0, c * a / gap, 0.0)
    g = np.maximum.accumulate(a + lq, axis=1)
    out = np.zeros((n, 5))
    idx, loads, in_sys = [], [], []  # midpoint states, evaluated exactly afterwards
    ends = []  # (interval, load, number in system) at interval ends
    x = float(x0)
    busy = 0.0  # contacts in service at the end of the previous interval
    for k in range(n):
        if s[k] <= 0:  # nobody answers: the leaving agents finish theirs, the rest waits
            x = max(x - busy, 0.0) + lam[k] * T
            busy = 0.0
            out[k] = (0.0, np.nan, np.nan, x, np.nan)
            continue
        gk, ak = g[k], a[k]
        steps = max(4, int(np.ceil(2.0 * T * mu[k])))
        h = T / steps
        for _ in range(steps):  # midpoint (RK2) steps
            a1 = np.interp(x, gk, ak, right=s[k])
            xm = max(x + 0.5 * h * (lam[k] - mu[k] * a1), 0.0)
            am = np.interp(xm, gk, ak, right=s[k])
            x = max(x + h * (lam[k] - mu[k] * am), 0.0)
            idx.append(k)
            loads.append(am)
            in_sys.append(xm)
        busy = float(np.interp(x, gk, ak, right=s[k]))
        ends.append((k, busy, x))
    if idx:
        k = np.asarray(idx)
        am = np.asarray(loads)
        xm = np.asarray(in_sys)
        cm = _erlang_c(am, s[k])
        slm = _sl_erlang_c(cm, am, s[k], aht_s[k], threshold_s)
        wm = _wait_at(am, xm, s[k], aht_s[k], cm)
        cnt = np.bincount(k, minlength=n)
        has = cnt > 0
        out[has, 0] = np.bincount(k, slm, minlength=n)[has] / cnt[has]
        out[has, 1] = np.bincount(k, wm, minlength=n)[has] / cnt[has]
        out[has, 2] = np.bincount(k, am / s[k], minlength=n)[has] / cnt[has]
    if ends:
        k, ae, xe = (np.asarray(v) for v in zip(*ends, strict=True))
        ce = _erlang_c(ae, s[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            lq = ce * ae / (s[k] - ae)  # stationary mean queue at the end state
        out[k, 3] = np.where(ae < s[k] * _RHO[-1], lq, np.maximum(xe - s[k], 0.0))
        out[k, 4] = _wait_at(ae, xe, s[k], aht_s[k], ce)
    return pd.DataFrame(out, columns=["sl", "asa_s", "occupancy", "backlog_items",
                                      "backlog_age_s"])
