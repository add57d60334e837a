"""Deferred work (email, back office): staffing to a response target, and the backlog.

Why it is long: the backlog, the waits and the staffing search share the fluid curves and
their round-off tolerance, and the search's check of a level needs both.

Email does not queue on a line: items wait in a backlog and are answered in arrival order
(FIFO) by agents working the open hours. The model here is the FIFO *fluid* queue:

- arrivals ``volume[k]`` items in interval ``k`` (length ``interval_s``), spread uniformly
  over the interval; each brings ``aht_s[k]`` seconds of handling work;
- ``agents[k]`` agents in interval ``k`` process ``agents[k] * interval_s`` seconds of
  work, at a constant rate, oldest work first; an item is answered when its processing
  is complete;
- with cumulative work arrived ``W(t)`` and capacity ``C(t)``, the work done is
  ``S(t) = C(t) + min_{s <= t} (W(s) - C(s))`` (Reich's formula; the queue starts empty),
  the oldest unanswered work arrived at ``W^-1(S(t))`` and its age is
  ``t - W^-1(S(t))``; the wait of the work at position ``x`` is ``S^-1(x) - W^-1(x)``.

All three curves are piecewise linear with breaks at interval edges, so the backlog and
the age of the oldest item at every edge, and the largest wait of any item, come out of
one vectorised pass (cumulative sums, a running minimum and ``np.searchsorted``); no
loop over intervals or items. The fluid model pools the agents: a real agent finishes
an item up to one handle time later, which is negligible against targets in hours.

Staffing rule of :func:`deferred_required_agents`: levels are constant within each
``group`` (e.g. the calendar day) and zero in closed intervals. Levels are chosen from
the last group backwards: each group gets the smallest integer level that meets the
target for every item, given the levels already chosen for later groups and assuming
the earlier groups clear everything they can (their level is not yet known). The first
group is then checked against the true empty start, so the returned plan meets the
target for every item, and no single group can lower its level without breaking it.
A level is checked on the group and one target's length after it; the items arriving
later are answered in time exactly when the backlog left at the group's end is at most
what the later levels absorb within the target (the least, over later times ``t``, of
the capacity up to ``t + target`` less the work arriving up to ``t``, accumulated once
from the horizon end). So sizing costs the same per interval over 13 weeks or a year.

Horizon end: items still waiting when the horizon ends are answered after it by the
staffing pattern of the last group with open intervals, repeated (its open intervals,
its level, no new arrivals: later arrivals cannot delay earlier ones under FIFO). Their
waits are checked against the target like all others.

References
----------
Reich, E. "On the integrodifferential equation of Takacs I", Ann. Math. Statist. 29
(1958) -- the fluid/Lindley reflection formula for cumulative departures.
Chen, H. and Yao, D. D. "Fundamentals of Queueing Networks", Springer (2001), ch. 6
(the one-dimensional reflection mapping).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ._checks import StaffingInputError, as_nonnegative, as_positive

__all__ = [
    "DeferredInfeasibleError",
    "deferred_backlog",
    "deferred_max_wait",
    "deferred_required_agents",
    "deferred_waits",
]

_REL_TOL = 1e-10  # relative tolerance for "the backlog is empty" (float round-off)
_MAX_LEVEL = 2**40


class DeferredInfeasibleError(StaffingInputError):
    """No number of agents meets the response target (e.g. items arrive in closed hours
    and the next open hour is later than the target)."""


def _as_series_1d(name: str, value: ArrayLike) -> NDArray[np.float64]:
    arr = as_nonnegative(name, value)
    if arr.ndim != 1:
        raise StaffingInputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def _per_interval(name: str, value: ArrayLike, n: int, positive: bool) -> NDArray[np.float64]:
    arr = as_positive(name, value) if positive else as_nonnegative(name, value)
    try:
        return np.broadcast_to(arr, (n,)).astype(np.float64)
    except ValueError as exc:
        raise StaffingInputError(
            f"{name} must be a scalar or have one value per interval ({n}), got shape {arr.shape}"
        ) from exc


def _scalar(name: str, value: float) -> float:
    arr = as_positive(name, value)
    if arr.ndim != 0:
        raise StaffingInputError(f"{name} must be a scalar, got shape {arr.shape}")
    return float(arr)


def _given_agents(
    volume: ArrayLike, aht_s: ArrayLike, interval_s: float, agents: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]:
    """Validated ``volume, aht_s, agents`` (one value per interval) and ``interval_s``."""
    vol = _as_series_1d("volume", volume)
    n = vol.size
    aht = _per_interval("aht_s", aht_s, n, positive=True)
    ag = _per_interval("agents", agents, n, positive=False)
    return vol, aht, ag, _scalar("interval_s", interval_s)


def _curves(
    work_s: NDArray[np.float64], capacity_s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Cumulative work arrived ``W`` and done ``S`` at the K+1 edges, and the empty-tolerance."""
    w = np.concatenate(([0.0], np.cumsum(work_s)))
    c = np.concatenate(([0.0], np.cumsum(capacity_s)))
    s = np.minimum(c + np.minimum.accumulate(w - c), w)
    tol = _REL_TOL * max(w[-1], c[-1], 1.0)
    return w, s, tol


def _oldest(
    w: NDArray[np.float64], s: NDArray[np.float64], tol: float
) -> tuple[NDArray[np.bool_], NDArray[np.int64], NDArray[np.float64]]:
    """At each edge: is anything waiting, and where (interval, fraction) the oldest arrived.

    The interval is located with S moved up by the tolerance, so that round-off cannot
    point the oldest item back across a stretch without arrivals; the fraction within
    it uses S itself.
    """
    waiting = (w - s) > tol
    probe = np.minimum(s + tol, w)
    j = np.clip(np.searchsorted(w, probe, side="right"), 1, w.size - 1)
    rise = w[j] - w[j - 1]
    frac = np.divide(s - w[j - 1], rise, out=np.zeros_like(s), where=rise > 0)
    return waiting, j - 1, np.clip(frac, 0.0, 1.0)


def _max_wait(work_s: NDArray[np.float64], agents: NDArray[np.float64], interval_s: float) -> float:
    """Largest FIFO fluid wait (s) of any work; ``inf`` if some is unanswered at the end."""
    w, s, tol = _curves(work_s, agents * interval_s)
    return _max_wait_of(work_s, agents, interval_s, w, s, tol)


def _max_wait_of(work_s: NDArray[np.float64], agents: NDArray[np.float64], interval_s: float,
                 w: NDArray[np.float64], s: NDArray[np.float64], tol: float,
                 horizon_end: bool = True) -> float:
    """:func:`_max_wait` from the curves ``w``, ``s`` (of :func:`_curves`) and ``tol``.

    With ``horizon_end`` False the curves are the start of a longer horizon: nothing is
    unanswered at their end, and the wait of work not answered by then is counted up to
    that end only (a lower bound of its wait).
    """
    k_n = work_s.size
    edges = interval_s * np.arange(k_n + 1, dtype=np.float64)
    waiting, k_old, frac = _oldest(w, s, tol)
    if horizon_end and waiting[-1]:
        return float("inf")
    ages = np.where(waiting, edges - (k_old + frac) * interval_s, 0.0)
    # Waits of the work that arrived last in each interval with arrivals (edge j).
    j = np.flatnonzero(work_s > 0) + 1
    x = w[j]
    i = np.searchsorted(s, x - tol, side="left")  # first edge with S >= x
    i = np.clip(i, 1, k_n)
    rate = agents[i - 1]
    done = edges[i - 1] + np.divide(x - s[i - 1], rate, out=np.zeros_like(x), where=rate > 0)
    done = np.minimum(np.maximum(done, edges[j]), edges[i])
    waits = done - edges[j]
    return float(max(ages.max(initial=0.0), waits.max(initial=0.0)))


def deferred_max_wait(
    volume: ArrayLike, aht_s: ArrayLike, interval_s: float, agents: ArrayLike
) -> float:
    """Largest wait (seconds) of any item under FIFO, given the agents per interval.

    Parameters
    ----------
    volume : array_like, shape (K,)
        Items arriving in each interval (spread uniformly over it), >= 0.
    aht_s : float or array_like, shape (K,)
        Handle time per item (s) of the items arriving in each interval, > 0.
    interval_s : float
        Interval length (s).
    agents : array_like, shape (K,)
        Productive agents working the backlog in each interval, >= 0 (fractions allowed).

    Returns
    -------
    float
        The largest wait of an item answered within the horizon, or ``inf`` when an item
        is still unanswered at the end of the horizon.

    Raises
    ------
    StaffingInputError
        A negative, NaN or infinite input, or mismatched lengths.

    Examples
    --------
    Twelve 10-minute items in one hour, one agent: the last one waits an hour.

    >>> deferred_max_wait([12, 0], 600, 3600, [1, 1])
    3600.0
    """
    vol, aht, ag, length = _given_agents(volume, aht_s, interval_s, agents)
    return _max_wait(vol * aht, ag, length)


def deferred_backlog(
    volume: ArrayLike, aht_s: ArrayLike, interval_s: float, agents: ArrayLike
) -> pd.DataFrame:
    """Backlog and age of the oldest item per interval, given the agents (FIFO fluid model).

    Parameters
    ----------
    volume : array_like, shape (K,)
        Items arriving in each interval (spread uniformly over it), >= 0. A pandas Series
        keeps its index in the result.
    aht_s : float or array_like, shape (K,)
        Handle time per item (s) of the items arriving in each interval, > 0.
    interval_s : float
        Interval length (s).
    agents : array_like, shape (K,)
        Productive agents working the backlog in each interval, >= 0 (fractions allowed).
        The backlog starts empty.

    Returns
    -------
    pandas.DataFrame
        One row per interval (index of ``volume`` if it is a Series, else 0..K-1), columns
        ``arrivals`` (items), ``handled`` (items answered in the interval),
        ``backlog_items`` (items waiting at the end of the interval), ``oldest_age_s``
        (age at the end of the interval of the oldest waiting item, 0 if none) and
        ``work_done_s`` (handling work done in the interval, s; over ``agents * interval_s``
        it is the agents' occupancy).

    Raises
    ------
    StaffingInputError
        A negative, NaN or infinite input, or mismatched lengths.

    Examples
    --------
    >>> deferred_backlog([12, 0, 0], 600, 3600, [1, 1, 1])
       arrivals  handled  backlog_items  oldest_age_s  work_done_s
    0      12.0      6.0            6.0        1800.0       3600.0
    1       0.0      6.0            0.0           0.0       3600.0
    2       0.0      0.0            0.0           0.0          0.0
    """
    vol, aht, ag, length = _given_agents(volume, aht_s, interval_s, agents)
    n = vol.size
    w, s, tol = _curves(vol * aht, ag * length)
    waiting, k_old, frac = _oldest(w, s, tol)
    arrived = np.concatenate(([0.0], np.cumsum(vol)))
    answered = np.where(waiting, arrived[k_old] + frac * vol[np.minimum(k_old, n - 1)], arrived)
    answered = np.minimum(np.maximum.accumulate(answered), arrived)
    edges = length * np.arange(n + 1, dtype=np.float64)
    ages = np.where(waiting, edges - (k_old + frac) * length, 0.0)
    index = volume.index if isinstance(volume, pd.Series) else pd.RangeIndex(n)
    return pd.DataFrame(
        {
            "arrivals": vol,
            "handled": np.diff(answered),
            "backlog_items": np.maximum(arrived[1:] - answered[1:], 0.0),
            "oldest_age_s": ages[1:],
            "work_done_s": np.diff(s),
        },
        index=index,
    )


def _cohort_waits(
    work_s: NDArray[np.float64], agents: NDArray[np.float64], interval_s: float, target_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per arrival interval: the share of its work answered within ``target_s`` (over work
    whose outcome is known) and the mean wait of its answered work; NaN where undefined.

    On the work axis ``x``, the work of interval ``k`` arrives at
    ``a(x) = t_k + (x - W_k) T / work_k`` and is answered at
    ``d(x) = max(a(x), t_i + (x - S_i) / agents_i)``, ``i`` the interval in which ``S``
    reaches ``x`` (within an interval ``S`` rises at the agents' rate until it meets ``W``).
    Cut at every edge of ``W`` and of ``S``, the wait ``d - a`` is linear on each piece, so
    shares and means are exact. Work still waiting at the end is late once older than the
    target and otherwise of unknown outcome (left out).
    """
    k_n = work_s.size
    edges = interval_s * np.arange(k_n + 1, dtype=np.float64)
    w, s, tol = _curves(work_s, agents * interval_s)
    done_end = w[-1] if w[-1] - s[-1] <= tol else s[-1]
    cuts = np.unique(np.concatenate((w, s[s < done_end], [done_end])))
    lo, hi = cuts[:-1], cuts[1:]
    length = hi - lo
    mid = 0.5 * (lo + hi)
    k = np.clip(np.searchsorted(w, mid, side="right") - 1, 0, k_n - 1)
    keep = (length > 0) & (work_s[k] > 0)
    lo, hi, length, mid, k = lo[keep], hi[keep], length[keep], mid[keep], k[keep]
    answered = mid < done_end

    def arrival(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return edges[k] + (x - w[k]) * interval_s / work_s[k]

    i = np.clip(np.searchsorted(s, mid - tol, side="left"), 1, k_n)
    rate = agents[i - 1]
    safe = np.where(rate > 0, rate, 1.0)
    with np.errstate(invalid="ignore"):
        g_lo = edges[i - 1] + (lo - s[i - 1]) / safe - arrival(lo)
        g_hi = edges[i - 1] + (hi - s[i - 1]) / safe - arrival(hi)
    g_lo = np.where(answered, g_lo, 0.0)
    g_hi = np.where(answered, g_hi, 0.0)
    # share of the piece with wait (= max(g, 0)) <= target, and the integral of the wait
    span = g_hi - g_lo
    with np.errstate(divide="ignore", invalid="ignore"):
        below = np.where(
            np.maximum(g_lo, g_hi) <= target_s, 1.0,
            np.where(
                np.minimum(g_lo, g_hi) > target_s, 0.0,
                np.abs(target_s - np.minimum(g_lo, g_hi)) / np.abs(span),
            ),
        )
        top = np.maximum(g_lo, g_hi)
        mean_pos = np.where(
            np.minimum(g_lo, g_hi) >= 0, 0.5 * (g_lo + g_hi),
            np.where(top <= 0, 0.0, top * top / (2.0 * np.abs(span))),
        )
    within = np.where(answered, below * length, 0.0)
    wait_int = np.where(answered, mean_pos * length, 0.0)
    # unanswered work: late once its age at the horizon end exceeds the target
    late_from = w[k] + (edges[-1] - target_s - edges[k]) * work_s[k] / interval_s
    late = np.where(answered, 0.0, np.clip(late_from, lo, hi) - lo)
    ans_len = np.where(answered, length, 0.0)
    total = np.bincount(k, within, k_n)
    known = np.bincount(k, ans_len + late, k_n)
    done = np.bincount(k, ans_len, k_n)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(known > tol, total / known, np.nan)
        mean_wait = np.where(done > tol, np.bincount(k, wait_int, k_n) / done, np.nan)
    return share, mean_wait


def deferred_waits(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: float,
    agents: ArrayLike,
    response_target_s: float,
) -> pd.DataFrame:
    """Waits of each interval's arrivals under FIFO, given the agents (FIFO fluid model).

    Parameters
    ----------
    volume, aht_s, interval_s, agents
        As :func:`deferred_backlog`; the backlog starts empty.
    response_target_s : float
        Response target (s), > 0.

    Returns
    -------
    pandas.DataFrame
        One row per arrival interval (index as in :func:`deferred_backlog`), columns
        ``within_target`` (share of the interval's items answered within the target; items
        still waiting at the horizon end count as late once older than the target and are
        otherwise left out; NaN when no item's outcome is known or nothing arrived) and
        ``mean_wait_s`` (mean wait of the interval's items answered within the horizon,
        NaN if none). Exact for the fluid model (the wait is piecewise linear in the
        arrival position, see the module docstring).

    Raises
    ------
    StaffingInputError
        A negative, NaN or infinite input, or mismatched lengths.

    Examples
    --------
    Ten 6-minute items arrive 00:00-00:30 with nobody working; one agent from 00:30
    answers item ``j`` (0..10) at ``1800 + 360 j`` s, after a wait of ``1800 + 180 j`` s:
    half of them within 45 minutes, mean wait 45 minutes.

    >>> deferred_waits([10, 0, 0], 360, 1800, [0, 1, 1], 2700).iloc[0].tolist()
    [0.5, 2700.0]
    """
    vol, aht, ag, length = _given_agents(volume, aht_s, interval_s, agents)
    target = _scalar("response_target_s", response_target_s)
    share, mean_wait = _cohort_waits(vol * aht, ag, length, target)
    index = volume.index if isinstance(volume, pd.Series) else pd.RangeIndex(vol.size)
    return pd.DataFrame({"within_target": share, "mean_wait_s": mean_wait}, index=index)


def _group_runs(group: ArrayLike | None, n: int) -> NDArray[np.int64]:
    """Start index of each contiguous group (plus n at the end)."""
    if group is None:
        return np.array([0, n], dtype=np.int64)
    labels = pd.Series(np.asarray(group)) if not isinstance(group, pd.Series) else group
    if len(labels) != n:
        raise StaffingInputError(f"group must have one label per interval ({n}), got {len(labels)}")
    codes = pd.factorize(labels.reset_index(drop=True))[0]
    change = np.flatnonzero(np.diff(codes) != 0) + 1
    starts = np.concatenate(([0], change, [n])).astype(np.int64)
    if np.unique(codes[starts[:-1]]).size != starts.size - 1:
        raise StaffingInputError(
            "group must label contiguous runs of intervals (e.g. the calendar day); a label "
            "appears in two separate runs"
        )
    return starts


def _smallest_feasible(feasible: Callable[[int], bool], guess: int, target: float) -> int:
    """Smallest integer level >= 0 with ``feasible(level)`` (monotone), searched outward
    from ``guess`` by doubling steps and then bisection."""
    if feasible(guess):
        hi, step = guess, 1
        while hi > 0 and feasible(max(hi - step, 0)):
            hi, step = max(hi - step, 0), 2 * step
        if hi == 0:
            return 0
        lo = max(hi - step, 0)  # infeasible
    else:
        lo, step = guess, 1
        while not feasible(lo + step):
            if lo + step >= _MAX_LEVEL:
                raise DeferredInfeasibleError(
                    f"response_target_s={target!r}: no number of agents answers every item in time"
                )
            lo, step = lo + step, 2 * step
        hi = lo + step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if feasible(mid):
            hi = mid
        else:
            lo = mid
    return hi


def deferred_required_agents(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: float,
    response_target_s: float,
    open_mask: ArrayLike | None = None,
    group: ArrayLike | None = None,
) -> NDArray[np.int64]:
    """Minimal agents per interval so that, FIFO, no item waits longer than the target.

    Parameters
    ----------
    volume : array_like, shape (K,)
        Items arriving in each interval (around the clock, spread uniformly), >= 0.
    aht_s : float or array_like, shape (K,)
        Handle time per item (s) of the items arriving in each interval, > 0.
    interval_s : float
        Interval length (s).
    response_target_s : float
        Longest allowed wait from arrival to answer (s), e.g. ``24 * 3600``.
    open_mask : array_like of bool, shape (K,), optional
        Intervals in which agents work (default: all).
    group : array_like, shape (K,), optional
        Labels of contiguous runs that share one level, e.g. the calendar date of each
        interval. Default: one level over the whole horizon.

    Returns
    -------
    numpy.ndarray of int64, shape (K,)
        Productive agents per interval: the group's level in open intervals, 0 in closed
        ones. The rule for choosing levels group by group and for the horizon end is in
        the module docstring. Zero volume needs zero agents.

    Raises
    ------
    StaffingInputError
        A negative, NaN or infinite input, mismatched lengths, or a group label that
        appears in two separate runs.
    DeferredInfeasibleError
        No level meets the target (work arrives with no open time within the target).

    Examples
    --------
    120 ten-minute emails a day, all arriving in the first hour, 24 h target, agents
    working 08:00-20:00 (hourly intervals): 20 hours of work must be done in the 12
    open hours of the same day, so 2 agents.

    >>> vol = [120] + [0] * 23
    >>> is_open = [8 <= h < 20 for h in range(24)]
    >>> deferred_required_agents(vol, 600, 3600, 24 * 3600, open_mask=is_open).max()
    np.int64(2)
    """
    vol = _as_series_1d("volume", volume)
    n = vol.size
    aht = _per_interval("aht_s", aht_s, n, positive=True)
    length = _scalar("interval_s", interval_s)
    target = _scalar("response_target_s", response_target_s)
    if open_mask is None:
        is_open = np.ones(n, dtype=bool)
    else:
        raw = np.asarray(open_mask)
        if raw.shape != (n,) or not np.isin(raw, (0, 1)).all():
            raise StaffingInputError(
                f"open_mask must be {n} booleans, one per interval, got shape {raw.shape}"
            )
        is_open = raw.astype(bool)
    starts = _group_runs(group, n)
    work = vol * aht
    out = np.zeros(n, dtype=np.int64)
    if not work.any():
        return out
    if not is_open.any():
        raise DeferredInfeasibleError("open_mask has no open interval but volume is positive")

    n_groups = starts.size - 1
    group_of = np.repeat(np.arange(n_groups), np.diff(starts))
    levels = np.zeros(n_groups, dtype=np.int64)
    last_open_group = group_of[np.flatnonzero(is_open)[-1]]
    # Horizon end: the open pattern from the last open group's start repeats, at its level.
    period = n - starts[last_open_group]
    n_ext = int(np.ceil(target / length)) + 2
    ext_open = is_open[n - period + np.arange(n_ext) % period]
    open_before = np.concatenate(([0], np.cumsum(is_open)))
    # Even unlimited agents cannot answer work arriving in a closed interval before the
    # next open interval starts.
    open_idx = np.flatnonzero(np.concatenate((is_open, ext_open)))
    closed_work = np.flatnonzero((work > 0) & ~is_open)
    nxt = np.searchsorted(open_idx, closed_work, side="right")
    gap_s = (
        np.where(
            nxt < open_idx.size,
            (open_idx[np.minimum(nxt, open_idx.size - 1)] - closed_work),
            np.inf,
        )
        * length
    )
    if gap_s.size and gap_s.max() > target * (1 + 1e-12):
        k_bad = int(closed_work[np.argmax(gap_s)])
        raise DeferredInfeasibleError(
            f"response_target_s={target!r}: work arriving in closed interval {k_bad} waits "
            f"{gap_s.max():.0f} s for the next open interval, whatever the staffing"
        )

    # The whole horizon with its extension, in which each group's level is checked from
    # the group's check start on.
    work_full = np.concatenate((work, np.zeros(n_ext)))
    n_full = work_full.size
    thr = target * (1 + 1e-12) + 1e-9
    # first interval of each group's check: after the last open interval before the group
    # (earlier groups clear everything, so the system is empty there)
    last_open_before = np.concatenate(([-1], np.maximum.accumulate(
        np.where(is_open, np.arange(n), -1))))
    r_of = last_open_before[starts[:-1]] + 1
    open_count = np.diff(open_before[starts])
    # work and capacity (s) from each edge to the end of the extension
    work_rest = np.concatenate((np.cumsum(work_full[::-1])[::-1], [0.0]))
    cap_full = np.zeros(n_full)
    cap_rest = np.zeros(n_full + 1)
    q = thr / length
    q_int = int(np.floor(q))
    # slack[k]: the least over t >= edge k of capacity in (k, t + target] less work in (k, t]
    # (relative to edge k: slack[k] = cap_rest[k] - work_rest[k] + least[k])
    least = {"from": n_full + 1, "value": np.inf}
    checked_after = 0  # sum of levels x open intervals of the groups already chosen

    def agents_in(a: int, b: int) -> NDArray[np.float64]:
        """Agents of intervals ``a..b-1`` of the horizon with its extension."""
        parts = []
        if a < n:
            parts.append(levels[group_of[a:min(b, n)]] * is_open[a:min(b, n)])
        if b > n:
            parts.append(levels[last_open_group] * ext_open[max(a, n) - n:b - n])
        return np.concatenate(parts).astype(np.float64)

    def at(rest: NDArray[np.float64], per: NDArray[np.float64], x: NDArray[np.float64]
           ) -> NDArray[np.float64]:
        """``rest`` (work or capacity from an edge to the end) at fractional edge ``x``."""
        k = np.floor(x).astype(np.int64)
        inside = k < n_full
        kk = np.minimum(k, n_full - 1)
        return np.where(inside, rest[kk] - (x - k) * per[kk], 0.0)

    def slack_from(e: int) -> float:
        """Largest backlog (s of work) at edge ``e`` that the chosen levels after ``e``
        answer within the target: min over t >= e of capacity in (e, t + target] less the
        work arriving in (e, t] (both piecewise linear in t: the least is at a break).
        Accumulated from the end, so each edge is visited once."""
        if e < least["from"]:
            hi = least["from"]
            k = np.arange(e, min(hi, n_full + 1))
            cap_full[e:min(hi, n_full)] = agents_in(e, min(hi, n_full)) * length
            top = cap_rest[min(hi, n_full)]
            seg = cap_full[e:min(hi, n_full)]
            cap_rest[e:min(hi, n_full)] = top + np.cumsum(seg[::-1])[::-1]
            vals = []
            # breaks of the work curve: t at edges k <= n
            ka = k[k <= n].astype(np.float64)
            if ka.size:
                vals.append(work_rest[k[k <= n]] - at(cap_rest, cap_full, ka + q))
            # breaks of the capacity curve: t + target at edges k2, t in [e, n)
            k2 = np.arange(int(np.ceil(e + q)), int(np.ceil(min(hi, n + 1) + q)))
            k2 = k2[(k2 - q >= e) & (k2 - q <= n) & (k2 <= n_full)]
            if k2.size:
                vals.append(at(work_rest, work_full, k2 - q) - cap_rest[k2])
            if vals:
                least["value"] = min(least["value"], float(np.min(np.concatenate(vals))))
            least["from"] = e
        return float(cap_rest[e] - work_rest[e] + least["value"])

    def feasible(g: int, level: int) -> bool:
        """Does ``level`` in group ``g`` (later groups at their chosen levels) answer every
        item from the group's check start in time?

        Checked on a window from the check start to a target's length after the group's
        end ``e``: it holds the waits of the items arriving before ``e`` (the same numbers
        as on the whole horizon: its curves are the same cumulative sums). The items after
        ``e`` are answered in time when the backlog at ``e`` is at most what the later
        levels absorb within the target (:func:`slack_from`): the same system started
        empty at ``e`` answers them in time, as the next checked group (empty at its
        check start, before ``e``, with the same levels after it) showed. The last group
        with open intervals is checked on the whole horizon.
        """
        levels[g] = level
        r = int(r_of[g])
        if g == last_open_group:
            return _max_wait(work_full[r:], agents_in(r, n_full), length) <= thr
        e = int(starts[g + 1])
        cap = length * (level * open_count[g] + checked_after
                        + levels[last_open_group] * ext_open.sum())
        tol = _REL_TOL * max(float(work_rest[r]), cap, 1.0)
        end_w = min(e + q_int + 2, n_full)
        sub_work = work_full[r:end_w]
        agents = agents_in(r, end_w)
        w, s, _ = _curves(sub_work, agents * length)
        if _max_wait_of(sub_work, agents, length, w, s, tol, horizon_end=False) > thr:
            return False
        return float(w[e - r] - s[e - r]) <= slack_from(e) + tol

    guess = 1
    for g in range(n_groups - 1, -1, -1):
        if open_before[starts[g + 1]] == open_before[starts[g]]:
            continue  # closed all through: level 0
        levels[g] = _smallest_feasible(lambda level, g=g: feasible(g, level), guess, target)
        guess = max(int(levels[g]), 1)  # neighbouring groups usually need similar levels
        checked_after += int(levels[g]) * int(open_count[g])
    out[:] = levels[group_of] * is_open
    return out
