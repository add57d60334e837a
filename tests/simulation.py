"""Discrete-event simulation of multi-agent FIFO queues, as an independent check for tests.

This module is a test helper, not part of the product: it exists so that the queueing
formulas in ``staffing`` (Erlang C, Erlang A, the carry-over KPIs of a plan) can be checked
against something that shares none of their mathematics. It simulates, customer by
customer, an M/M/N queue (Erlang C) or an M/M/N+M queue (Erlang A: exponential patience,
customers abandon when their wait reaches their patience), served first come first
served by a number of agents that may change at interval boundaries, and reports
per-replication statistics with Student-t confidence intervals across replications.

Public functions
----------------
``simulate_path(arrival_s, service_s, patience_s, edges_s, agents, agents_after=None)``
    The deterministic engine. Given each customer's arrival time, service time and
    patience (all seconds; ``patience_s`` may be ``inf``), and the staffing step function
    (``agents[k]`` agents during ``[edges_s[k], edges_s[k + 1])``, ``agents_after`` after the
    last edge, default ``agents[-1]``), returns a :class:`Path` with each customer's
    ``start_s`` (``inf`` if never served), ``end_s`` and ``abandoned`` flag.

``simulate_stationary(volume, aht_s, interval_s, agents, threshold_s, patience_s=None, *,
n_arrivals=20_000, n_reps=8, warmup_share=0.1, seed=0)``
    A long stationary run (Poisson arrivals at ``volume / interval_s`` per second,
    exponential service with mean ``aht_s``, constant ``agents``). Returns a
    :class:`StationaryResult`; ``result.ci("sl_offered", level=0.99)`` gives
    ``(mean, lo, hi)``. Metrics (customers arriving after the warm-up):

    - ``p_wait``: share of offered customers who wait at all (Erlang C's ``C(N, A)``; under
      Erlang A the share who find all agents busy).
    - ``sl_offered``: answered with a wait <= ``threshold_s``, over all offered.
    - ``sl_virtual``: share whose offered wait (as if patient) is <= ``threshold_s``.
    - ``sl_answered``: answered within the threshold, over answered.
    - ``sl_short_abandons_excluded``: answered within the threshold, over offered minus
      those who abandoned within the threshold.
    - ``asa_answered_s``: mean wait of answered customers (seconds).
    - ``mean_wait_offered_s``: mean time in queue of all offered, abandoners included.
    - ``abandon_share``: abandoned over offered.
    - ``occupancy``: busy agent time over staffed agent time (after the warm-up).

``simulate_intervals(volume, aht_s, interval_s, agents, threshold_s, patience_s=None, *,
n_reps=20, seed=0, agents_after=None)``
    A time-varying, possibly overloaded horizon: ``volume[k]`` expected arrivals (Poisson)
    in interval ``k``, service times exponential with mean ``aht_s[k]`` of the arrival's
    interval, ``agents[k]`` agents in interval ``k``. The queue carries over interval
    boundaries; agents who go off shift finish the contact in hand (no pre-emption);
    after the horizon ``agents_after`` (default ``agents[-1]``) agents keep working so that
    every customer of the horizon is resolved. Returns an :class:`IntervalResult`:
    ``result.per_rep`` (one row per replication and interval) and
    ``result.summary(level=0.95)`` (one row per interval with ``<metric>``,
    ``<metric>_lo``, ``<metric>_hi``). Metrics per interval, by arrival interval:
    ``offered``, ``sl_offered``, ``sl_answered``, ``abandon_share``, ``asa_answered_s``;
    at the end of the interval: ``queue_end`` (customers waiting); over the interval:
    ``occupancy`` (busy over staffed agent time, NaN when no agents; it can exceed 1
    just after a drop in staffing, while leaving agents finish their contacts).

All randomness comes from a ``numpy.random.Generator`` seeded with ``seed``; replication
``r`` uses the child stream ``SeedSequence(seed).spawn(n_reps)[r]``, so results do not
depend on the order in which replications run. The global random state is never used.

Example
-------
>>> res = simulate_stationary(100, 180, 1800, 12, 20, n_arrivals=5_000, n_reps=4, seed=1)
>>> mean, lo, hi = res.ci("sl_offered")
>>> bool(0.6 < mean < 0.9)
True
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "IntervalResult",
    "Path",
    "StationaryResult",
    "fifo_pieces",
    "mean_ci",
    "simulate_intervals",
    "simulate_path",
    "simulate_stationary",
]

STATIONARY_METRICS = (
    "p_wait",
    "sl_offered",
    "sl_virtual",
    "sl_answered",
    "sl_short_abandons_excluded",
    "asa_answered_s",
    "mean_wait_offered_s",
    "abandon_share",
    "occupancy",
)
INTERVAL_METRICS = (
    "offered",
    "sl_offered",
    "sl_answered",
    "abandon_share",
    "asa_answered_s",
    "queue_end",
    "occupancy",
)


@dataclass(frozen=True)
class Path:
    """Outcome of one simulated sample path, one entry per customer (arrival order).

    ``start_s`` is the service start (``inf`` when the customer abandoned or was never
    served), ``end_s`` the service end (``inf`` likewise), ``abandoned`` whether the
    customer hung up, and ``leave_queue_s`` the time the customer left the queue
    (service start, abandonment, or ``inf``). ``offered_start_s`` is when the customer
    would have started had they been patient, so ``offered_start_s - arrival_s`` is the
    offered (virtual) wait V; it equals ``start_s`` for served customers.
    """

    arrival_s: NDArray[np.float64]
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    abandoned: NDArray[np.bool_]
    leave_queue_s: NDArray[np.float64]
    offered_start_s: NDArray[np.float64]

    @property
    def wait_s(self) -> NDArray[np.float64]:
        """Time in queue (seconds): until service start or abandonment."""
        return self.leave_queue_s - self.arrival_s


def simulate_path(
    arrival_s: ArrayLike,
    service_s: ArrayLike,
    patience_s: ArrayLike,
    edges_s: ArrayLike,
    agents: ArrayLike,
    agents_after: int | None = None,
) -> Path:
    """Run the FIFO multi-agent queue on given customers and a staffing step function.

    Customers are taken in arrival order (``arrival_s`` must be sorted). A customer
    starts service at the earliest time, not before the previous customer's start, at
    which fewer agents are busy than are on duty; if that time exceeds arrival plus
    patience the customer abandons at arrival plus patience and takes no agent. Agents
    leaving at a staffing drop finish their current contact first.

    Parameters
    ----------
    arrival_s, service_s, patience_s : array_like
        Per customer, seconds. ``patience_s`` may contain ``inf`` (no abandonment).
    edges_s : array_like
        Interval edges, length ``len(agents) + 1``; ``arrival_s`` must be >= ``edges_s[0]``.
    agents : array_like of int
        Agents on duty during each interval.
    agents_after : int, optional
        Agents on duty after the last edge; default ``agents[-1]``.

    Returns
    -------
    Path
    """
    arr = np.asarray(arrival_s, dtype=np.float64)
    svc = np.asarray(service_s, dtype=np.float64)
    pat = np.broadcast_to(np.asarray(patience_s, dtype=np.float64), arr.shape)
    edges = [float(x) for x in np.asarray(edges_s, dtype=np.float64)]
    levels = [int(x) for x in np.asarray(agents)]
    if len(edges) != len(levels) + 1:
        raise ValueError(f"edges_s needs len(agents) + 1 = {len(levels) + 1} entries")
    if arr.size and (np.any(np.diff(arr) < 0) or arr[0] < edges[0]):
        raise ValueError("arrival_s must be sorted and start at or after edges_s[0]")
    levels.append(levels[-1] if agents_after is None else int(agents_after))

    n = arr.size
    start = np.full(n, np.inf)
    offered = np.full(n, np.inf)
    arr_l, svc_l, pat_l = arr.tolist(), svc.tolist(), pat.tolist()
    n_edges = len(edges)
    busy: list[float] = []  # heap of service end times of contacts in hand
    last_start = -np.inf
    for i in range(n):
        a = arr_l[i]
        deadline = a + pat_l[i]
        t = a if a > last_start else last_start
        # Earliest start allowed by FIFO and the agents on duty. Dropping service ends
        # <= t is safe even if this caller abandons: later callers cannot start earlier.
        while True:
            while busy and busy[0] <= t:
                heapq.heappop(busy)
            k = bisect_right(edges, t) - 1
            if len(busy) < levels[k]:
                break
            nxt = edges[k + 1] if k + 1 < n_edges else np.inf
            if busy and busy[0] < nxt:
                nxt = busy[0]
            t = nxt
            if t == np.inf:
                break
        offered[i] = t
        # The next caller cannot start before t either (FIFO, and the same agents are
        # busy if this caller abandons), so the search resumes from here.
        last_start = t
        if t <= deadline:
            start[i] = t
            heapq.heappush(busy, t + svc_l[i])
    served = np.isfinite(start)
    deadline = arr + pat
    abandoned = ~served & np.isfinite(deadline)
    leave = np.where(served, start, np.where(abandoned, deadline, np.inf))
    end = start + np.where(served, svc, np.inf)
    return Path(arr, start, end, abandoned, leave, offered)


def mean_ci(samples: ArrayLike, level: float = 0.99) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval over replications (NaNs ignored)."""
    x = np.asarray(samples, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 2:
        m = float(x.mean()) if x.size else float("nan")
        return m, m, m
    m = float(x.mean())
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half


def _busy_time_until(path: Path, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Integral of the number of busy agents over [-inf, t], for each t (vectorised)."""
    served = np.isfinite(path.start_s)
    starts = np.sort(path.start_s[served])
    ends = np.sort(path.end_s[served])
    cs = np.concatenate([[0.0], np.cumsum(starts)])
    ce = np.concatenate([[0.0], np.cumsum(ends)])
    ns = np.searchsorted(starts, t, side="right")
    ne = np.searchsorted(ends, t, side="right")
    return (t * ns - cs[ns]) - (t * ne - ce[ne])


@dataclass(frozen=True)
class StationaryResult:
    """Per-replication statistics of a stationary run (``stats``: one row per replication)."""

    stats: pd.DataFrame

    def ci(self, metric: str, level: float = 0.99) -> tuple[float, float, float]:
        """``(mean, lo, hi)`` of ``metric`` across replications (Student-t interval)."""
        return mean_ci(self.stats[metric].to_numpy(), level)


def simulate_stationary(
    volume: float,
    aht_s: float,
    interval_s: float,
    agents: int,
    threshold_s: float,
    patience_s: float | None = None,
    *,
    n_arrivals: int = 20_000,
    n_reps: int = 8,
    warmup_share: float = 0.1,
    seed: int = 0,
) -> StationaryResult:
    """Simulate a stationary M/M/N (or M/M/N+M) queue; see the module docstring.

    Each replication starts empty, runs ``n_arrivals`` Poisson arrivals, and discards the
    first ``warmup_share`` of them (and the agent time before the first kept arrival).
    """
    rate = volume / interval_s
    rows = []
    for rng in (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_reps)):
        arr = np.cumsum(rng.exponential(1.0 / rate, n_arrivals))
        svc = rng.exponential(aht_s, n_arrivals)
        pat = rng.exponential(patience_s, n_arrivals) if patience_s else np.full(n_arrivals, np.inf)
        path = simulate_path(arr, svc, pat, [0.0, arr[-1]], [agents], agents)
        keep = slice(int(warmup_share * n_arrivals), None)
        wait = path.wait_s[keep]
        virtual = (path.offered_start_s - path.arrival_s)[keep]
        served = np.isfinite(path.start_s[keep])
        aband = path.abandoned[keep]
        n_off = wait.size
        within = served & (wait <= threshold_s)
        t0, t1 = arr[keep][0], arr[-1]
        busy = np.diff(_busy_time_until(path, np.array([t0, t1])))[0]
        rows.append(
            {
                "p_wait": float(np.mean(wait > 0)),
                "sl_offered": within.sum() / n_off,
                "sl_virtual": float(np.mean(virtual <= threshold_s)),
                "sl_answered": within.sum() / max(served.sum(), 1),
                "sl_short_abandons_excluded": within.sum()
                / max(n_off - (aband & (wait <= threshold_s)).sum(), 1),
                "asa_answered_s": float(wait[served].mean()),
                "mean_wait_offered_s": float(wait.mean()),
                "abandon_share": aband.sum() / n_off,
                "occupancy": busy / (agents * (t1 - t0)),
            }
        )
    return StationaryResult(pd.DataFrame(rows, columns=list(STATIONARY_METRICS)))


@dataclass(frozen=True)
class IntervalResult:
    """Per-replication, per-interval statistics of a time-varying run.

    ``per_rep`` has columns ``rep, interval`` and the metrics of the module docstring.
    """

    per_rep: pd.DataFrame

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """One row per interval: each metric's mean and its ``_lo`` / ``_hi`` bounds."""
        out = {}
        for metric in INTERVAL_METRICS:
            wide = self.per_rep.pivot(index="rep", columns="interval", values=metric)
            cis = np.array([mean_ci(wide[c].to_numpy(), level) for c in wide.columns])
            out[metric], out[f"{metric}_lo"], out[f"{metric}_hi"] = cis.T
        return pd.DataFrame(out, index=pd.RangeIndex(len(cis), name="interval"))


def simulate_intervals(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: float,
    agents: ArrayLike,
    threshold_s: float,
    patience_s: float | None = None,
    *,
    n_reps: int = 20,
    seed: int = 0,
    agents_after: int | None = None,
) -> IntervalResult:
    """Simulate a horizon of intervals with queue carry-over; see the module docstring."""
    vol = np.asarray(volume, dtype=np.float64)
    k_n = vol.size
    aht = np.broadcast_to(np.asarray(aht_s, dtype=np.float64), vol.shape)
    ag = np.asarray(agents, dtype=np.int64)
    edges = interval_s * np.arange(k_n + 1, dtype=np.float64)
    frames = []
    for rep, rng in enumerate(
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_reps)
    ):
        counts = rng.poisson(vol)
        idx = np.repeat(np.arange(k_n), counts)
        # Poisson process with piecewise-constant rate: uniform order statistics per interval.
        arr = edges[idx] + rng.uniform(0.0, interval_s, idx.size)
        order = np.argsort(arr, kind="stable")
        arr, idx = arr[order], idx[order]
        svc = rng.exponential(aht[idx])
        pat = rng.exponential(patience_s, idx.size) if patience_s else np.full(idx.size, np.inf)
        path = simulate_path(arr, svc, pat, edges, ag, agents_after)
        wait = path.wait_s
        served = np.isfinite(path.start_s)
        within = served & (wait <= threshold_s)

        def per_interval(mask: NDArray[np.bool_], idx: NDArray[np.int64] = idx) -> NDArray:
            return np.bincount(idx[mask], minlength=k_n).astype(np.float64)

        offered = np.bincount(idx, minlength=k_n).astype(np.float64)
        answered = per_interval(served)
        n_within = per_interval(within)
        wait_sum = np.bincount(idx[served], weights=wait[served], minlength=k_n)
        with np.errstate(invalid="ignore", divide="ignore"):
            arrived_by = np.searchsorted(arr, edges[1:], side="right")
            left_by = np.searchsorted(np.sort(path.leave_queue_s), edges[1:], side="right")
            busy = np.diff(_busy_time_until(path, edges))
            staffed = ag * interval_s
            frames.append(
                pd.DataFrame(
                    {
                        "rep": rep,
                        "interval": np.arange(k_n),
                        "offered": offered,
                        "sl_offered": n_within / offered,
                        "sl_answered": n_within / answered,
                        "abandon_share": per_interval(path.abandoned) / offered,
                        "asa_answered_s": wait_sum / answered,
                        "queue_end": (arrived_by - left_by).astype(np.float64),
                        "occupancy": np.where(staffed > 0, busy / staffed, np.nan),
                    }
                )
            )
    return IntervalResult(pd.concat(frames, ignore_index=True))


def fifo_pieces(
    volume: ArrayLike, aht_s: ArrayLike, interval_s: float, agents: ArrayLike, m: int = 200
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Deferred work (email) answered first come first served, piece by piece.

    Each interval's ``volume[k]`` items are cut into ``m`` equal pieces arriving at the
    midpoints of ``m`` equal sub-slots; one pooled server works at ``agents[k]``
    work-seconds per second through the pieces in arrival order, a piece needing
    ``volume[k] / m * aht_s[k]`` seconds of work. As ``m`` grows this converges to the
    fluid FIFO model of ``staffing.deferred``, within about one sub-slot
    (``interval_s / m``) plus one piece's handling time. A plain loop, sharing none of
    the module's cumulative-curve formulas.

    Returns
    -------
    arrival_s, items, done_s : ndarray
        Per piece: arrival time, amount (items) and completion time (``inf`` when the
        piece is still unanswered at the end of the horizon).
    """
    vol = np.asarray(volume, dtype=float)
    aht = np.broadcast_to(np.asarray(aht_s, dtype=float), vol.shape)
    ag = [float(x) for x in agents]
    arrivals, amounts, works = [], [], []
    for k, v in enumerate(vol):
        if v > 0:
            for j in range(m):
                arrivals.append((k + (j + 0.5) / m) * interval_s)
                amounts.append(v / m)
                works.append(v / m * aht[k])
    done = []
    free = 0.0
    for a, work in zip(arrivals, works, strict=True):
        t = max(a, free)
        left = work if np.isfinite(t) else 0.0
        k = int(t // interval_s) if np.isfinite(t) else len(ag)
        while left > 1e-12:
            if k >= len(ag):
                t = np.inf
                break
            end = (k + 1) * interval_s
            cap = ag[k] * (end - t)
            if cap >= left:
                t += left / ag[k]
                left = 0.0
            else:
                left -= cap
                t = end
                k += 1
        free = t
        done.append(t)
    return np.array(arrivals), np.array(amounts), np.array(done)
