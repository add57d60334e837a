"""Simulate a scenario's plan: the referee of the analytic KPIs.

:func:`simulate_result` replays the plan of a :class:`~planner.results.ScenarioResult`
interval by interval with the discrete-event queue of :mod:`staffing.simulate`:

- **arrivals** drawn from the forecast's predictive distribution (:mod:`staffing.risk`:
  a level shared by the horizon's days, a day multiplier shared by each day's intervals,
  over-dispersed Poisson counts), or with ``demand="mean"`` Poisson at the plan's
  expected volume (the analytic models' own assumption);
- **handle times** exponential with the interval's AHT (default), or lognormal with a
  given coefficient of variation per channel, e.g. the data's own
  (:func:`data_handle_cv`: estimated from how the interval mean AHTs scatter with the
  number of contacts behind them; a channel whose data cannot tell stays exponential);
- **patience** exponential with the channel's mean patience (Erlang A voice; chat when
  the scenario gives one), so callers abandon;
- **agents** the shift plan's scheduled agents per interval (breaks taken), times
  ``1 - shrinkage``, times the chat concurrency in slots; email's backlog is carried
  across intervals and days (one day before the simulated ones is run as warm-up when
  the plan has it).

Replications use independent streams spawned from one seed (``numpy.random.SeedSequence``),
so results do not depend on the order in which replications run, nor where: with
``engine`` (``"local"``, a scheduler address or a ``distributed.Client``) they run as Dask
tasks of a few replications each (:func:`planner.fanout.dask_client`), and give exactly
the serial result. The result holds every
replication's daily KPIs, their mean with a Student-t confidence interval, and a
comparison with the analytic KPIs: where the analytic value lies outside the
simulation's interval, ``agrees`` is False and the app says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from planner.pipeline import channel_policies
from planner.results import ScenarioResult
from planner.risk import demand_frame
from staffing.kpis import achieved_kpis, daily_kpis
from staffing.queue_models import queue_model
from staffing.risk import DemandDistribution
from staffing.simulate import (
    SimulationError,
    draw_arrivals,
    draw_handle_times,
    handle_cv_from_interval_means,
    interval_outcomes,
    simulate_queue,
)

__all__ = ["METRICS", "SimulationResult", "data_handle_cv", "scenario_handle_cv",
           "simulate_result"]

#: Daily KPIs of a replication.
METRICS = ("service_level", "asa_s", "abandon_rate", "occupancy", "backlog_items",
           "backlog_age_h")

_SHARES = ("service_level", "abandon_rate", "occupancy")
_COMPARE_NODES = 8  # day-multiplier nodes of the analytic KPIs under forecast demand

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SimulationResult:
    """Simulated daily KPIs of a plan.

    Attributes
    ----------
    replications : DataFrame
        ``rep, date, channel, offered`` and :data:`METRICS` per replication.
    daily : DataFrame
        ``date, channel`` and per metric its mean over replications with
        ``<metric>_lo`` / ``<metric>_hi`` (confidence interval of the mean), plus
        ``service_level_p10`` / ``_p90`` (the spread of the day's SL over replications)
        and ``p_below_target`` (share of replications whose day misses the SL target).
    comparison : DataFrame
        ``date, channel, metric, analytic, sim, sim_lo, sim_hi, agrees``.
    meta : dict
        ``reps, seed, demand, handle_cv, level, days, contacts`` (contacts simulated).
    """

    replications: pd.DataFrame
    daily: pd.DataFrame
    comparison: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def disagreements(self) -> pd.DataFrame:
        """Rows of :attr:`comparison` where the analytic KPI is outside the interval."""
        return self.comparison[~self.comparison["agrees"]].reset_index(drop=True)

    def too_wide(self, width: float = 0.10) -> pd.DataFrame:
        """``date, channel, width``: the days and channels where a KPI's interval is wider
        than ``width`` (10 points by default; ``width`` the widest of their KPIs): too few
        replications for the simulation to referee the analytic KPI there (an analytic
        value "inside" 3 %..100 % says nothing)."""
        c = self.comparison.assign(width=self.comparison["sim_hi"] - self.comparison["sim_lo"])
        wide = c[c["width"] > width]
        return (wide.groupby(["date", "channel"], sort=False, as_index=False)["width"].max()
                .reset_index(drop=True))


def _days(result: ScenarioResult, days: Sequence[str] | None) -> tuple[pd.Timestamp, ...]:
    all_days = pd.DatetimeIndex(result.volumes["ds"]).normalize().unique().sort_values()
    if days is None:
        return tuple(all_days)
    lo, hi = (pd.Timestamp(days[0]).normalize(), pd.Timestamp(days[-1]).normalize())
    chosen = all_days[(all_days >= lo) & (all_days <= hi)]
    if not len(chosen):
        raise SimulationError(
            f"days {lo:%Y-%m-%d}..{hi:%Y-%m-%d} are outside the plan "
            f"({all_days[0]:%Y-%m-%d}..{all_days[-1]:%Y-%m-%d})")
    return tuple(chosen)


def _agents(result: ScenarioResult, policies: dict) -> pd.DataFrame:
    """Productive agents per channel and interval from the plan's coverage."""
    cov = result.coverage[["channel", "ds", "scheduled"]].copy()
    cov["channel"] = cov["channel"].astype(str)
    cov["ds"] = pd.to_datetime(cov["ds"])
    prod = cov["scheduled"].to_numpy(float).copy()
    for ch, idx in cov.groupby("channel").groups.items():
        if ch in policies:
            rows = cov.index.get_indexer(idx)
            prod[rows] *= 1.0 - policies[ch].shrinkage_at(cov.loc[idx, "ds"])
    return cov.assign(agents=prod).groupby(["channel", "ds"], as_index=False)["agents"].sum()


def _ci(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t interval over axis 0 (NaN-aware)."""
    n = np.sum(np.isfinite(x), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.nanmean(x, axis=0)
        s = np.nanstd(x, axis=0, ddof=1)
        h = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)) * s / np.sqrt(n)
    h = np.where(n > 1, h, np.nan)
    return m, m - h, m + h


def simulate_result(
    result: ScenarioResult,
    days: Sequence[str] | None = None,
    reps: int = 30,
    seed: int = 0,
    *,
    demand: str = "forecast",
    handle_cv: float | Mapping[str, float | None] | None = None,
    level: float = 0.95,
    progress: Progress | None = None,
    engine: Any = "serial",
    workers: int | None = None,
    chunk_size: int | None = None,
) -> SimulationResult:
    """Simulate the plan of ``result`` over ``days`` with ``reps`` replications.

    Parameters
    ----------
    result : ScenarioResult
        A run (with its coverage: the shift plan's scheduled agents).
    days : (first, last), optional
        Inclusive date range to simulate (default: the whole plan).
    reps : int
        Independent replications (>= 2).
    seed : int
        Seed of the replications' streams.
    demand : {"forecast", "mean"}
        Arrivals from the predictive distribution, or Poisson at the expected volume.
    handle_cv : float or mapping, optional
        Lognormal handle times with this coefficient of variation, or one per channel
        (``{"voice": 0.8}``; a channel missing or ``None`` stays exponential, as does
        everything by default). :func:`scenario_handle_cv` gives the data's own.
    level : float
        Confidence level of the intervals (default 0.95).
    progress : callable, optional
        ``progress(fraction, message)`` after each replication (serial) or each finished
        task (Dask).
    engine : ``"serial"``, ``"local"``, ``"tcp://HOST:PORT"`` or a ``distributed.Client``
        Where the replications run: in this process, as tasks on an embedded LocalCluster
        of ``workers`` processes, on the scheduler at that address, or on a client the
        caller owns (left open). Replication ``r`` draws from child ``r`` of
        ``SeedSequence(seed)`` wherever it runs, so every engine gives the serial result.
    workers : int, optional
        Worker processes of ``engine="local"`` (default: one per core).
    chunk_size : int, optional
        Replications per task (default: about four tasks per worker).

    Returns
    -------
    SimulationResult

    Raises
    ------
    SimulationError
        Days outside the plan, ``reps < 2``, an unknown ``demand``, ``chunk_size < 1``.
    """
    if reps < 2:
        raise SimulationError(f"reps must be >= 2 for a confidence interval, got {reps!r}")
    if demand not in ("forecast", "mean"):
        raise SimulationError(f"demand must be 'forecast' or 'mean', got {demand!r}")
    if not 0 < level < 1:
        raise SimulationError(f"level must be in (0, 1), got {level!r}")
    if chunk_size is not None and chunk_size < 1:
        raise SimulationError(f"chunk_size must be >= 1, got {chunk_size!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise SimulationError(f"workers must be a whole number >= 1, got {workers!r}")
    s = result.planned_scenario
    T = int(result.meta["interval_s"])
    policies = channel_policies(s)
    chosen = _days(result, days)
    all_days = _days(result, None)
    first = all_days.index(chosen[0])
    warm = all_days[first - 1] if first > 0 else None
    run_days = ((warm,) if warm is not None else ()) + chosen
    start = run_days[0]
    n_int = len(run_days) * 86400 // T
    grid = start + pd.to_timedelta(np.arange(n_int) * T, unit="s")

    dem = demand_frame(result)
    dem = dem[(dem["ds"] >= grid[0]) & (dem["ds"] <= grid[-1])].reset_index(drop=True)
    dist = DemandDistribution.from_frame(dem)
    if demand == "mean":
        dist = DemandDistribution(dist.channel, dist.ds, dist.mean, np.zeros(len(dist)),
                                  np.zeros(len(dist)), np.ones(len(dist)))
    ag = _agents(result, policies)
    channels = sorted(set(dem["channel"]) & set(policies))
    slot_of = {}   # channel -> (row positions in dem, interval index on the grid)
    servers = {}
    aht = {}
    for ch in channels:
        rows = np.flatnonzero(dem["channel"].to_numpy() == ch)
        pos = grid.get_indexer(pd.DatetimeIndex(dem["ds"].to_numpy()[rows]))
        slot_of[ch] = (rows[pos >= 0], pos[pos >= 0])
        a = ag[ag["channel"] == ch].set_index("ds")["agents"].reindex(grid).fillna(0.0)
        p = policies[ch]
        servers[ch] = a.to_numpy(float) * queue_model(p.model).servers_per_agent(p)
        h = np.full(n_int, np.nan)
        h[slot_of[ch][1]] = dem["aht_s"].to_numpy(float)[slot_of[ch][0]]
        ok = np.isfinite(h) & (h > 0)
        aht[ch] = np.where(ok, h, np.median(h[ok]) if ok.any() else 300.0)

    ctx = _Replay(dist=dist, channels=tuple(channels), slot_of=slot_of, servers=servers,
                  aht=aht, policies=policies, handle_cv=handle_cv, interval_s=T,
                  n_int=n_int, keep_from=1 if warm is not None else 0, run_days=run_days)
    rows_out, contacts = _run_replications(ctx, reps, seed, engine, workers, chunk_size,
                                           progress)
    reps_df = pd.DataFrame(rows_out, columns=["rep", "date", "channel", "offered",
                                              *METRICS])
    daily = _summarise(reps_df, policies, level)
    comparison = _compare(result, daily, dist, dem, ag, policies, T, chosen, demand)
    cvs = (dict(handle_cv) if isinstance(handle_cv, Mapping) else handle_cv)
    meta = {"reps": reps, "seed": seed, "demand": demand, "handle_cv": cvs,
            "level": level, "days": (f"{chosen[0]:%Y-%m-%d}", f"{chosen[-1]:%Y-%m-%d}"),
            "contacts": int(contacts)}
    return SimulationResult(reps_df, daily, comparison, meta)


@dataclass(frozen=True)
class _Replay:
    """What one replication needs (the same for all): sent once to each worker."""

    dist: DemandDistribution
    channels: tuple[str, ...]
    slot_of: dict[str, tuple[np.ndarray, np.ndarray]]  # rows in dist, interval on the grid
    servers: dict[str, np.ndarray]
    aht: dict[str, np.ndarray]
    policies: dict
    handle_cv: float | Mapping[str, float | None] | None
    interval_s: int
    n_int: int
    keep_from: int
    run_days: tuple[pd.Timestamp, ...]


def _replicate(ctx: _Replay, r: int, seed: int) -> tuple[list[tuple], int]:
    """Replication ``r``: its daily KPI rows per channel and the contacts it simulated.
    It draws from child ``r`` of ``SeedSequence(seed)`` only, so it gives the same rows
    in any process and order."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(r,)))
    T = ctx.interval_s
    day_of = np.arange(ctx.n_int) // (86400 // T)
    counts_all = ctx.dist.sample(rng, 1)[0]
    rows_out = []
    contacts = 0
    for ch in ctx.channels:
        p = ctx.policies[ch]
        rows, pos = ctx.slot_of[ch]
        counts = np.zeros(ctx.n_int)
        counts[pos] = counts_all[rows]
        t, idx = draw_arrivals(rng, counts, T)
        cv = ctx.handle_cv.get(ch) if isinstance(ctx.handle_cv, Mapping) else ctx.handle_cv
        hd = draw_handle_times(rng, ctx.aht[ch][idx], cv)
        qm = queue_model(p.model)
        pat = None
        if qm.kpi_patience(p) is not None:
            pat = rng.exponential(qm.kpi_patience(p), t.size)
        o = simulate_queue(t, hd, ctx.servers[ch], T, pat)
        contacts += t.size
        thr = p.response_target_s if qm.deferred else p.threshold_s
        k = interval_outcomes(o, float(thr))
        g = k.groupby(day_of)
        d = g[["offered", "answered", "within", "abandoned", "censored", "wait_sum_s",
               "busy_s", "capacity_s"]].sum()
        d["backlog_items"] = g["queue_end"].last()
        d["backlog_age_h"] = g["oldest_age_s"].max() / 3600.0
        with np.errstate(invalid="ignore", divide="ignore"):
            known = d["offered"] - d["censored"]   # outcome known by the run's end
            sl = np.where(known > 0, d["within"] / known, np.nan)
            asa = np.where(d["answered"] > 0, d["wait_sum_s"] / d["answered"], np.nan)
            ab = np.where(d["offered"] > 0, d["abandoned"] / d["offered"], np.nan)
            occ = np.where(d["capacity_s"] > 0, d["busy_s"] / d["capacity_s"], np.nan)
        for j in range(ctx.keep_from, len(ctx.run_days)):
            rows_out.append((r, ctx.run_days[j], ch, d["offered"].iloc[j], sl[j], asa[j],
                             ab[j], occ[j], d["backlog_items"].iloc[j],
                             d["backlog_age_h"].iloc[j]))
    return rows_out, contacts


def _replicate_many(ctx: _Replay, reps: Sequence[int], seed: int
                    ) -> tuple[list[tuple], int]:
    """One task: the replications ``reps`` in turn."""
    rows: list[tuple] = []
    contacts = 0
    for r in reps:
        got, n = _replicate(ctx, r, seed)
        rows += got
        contacts += n
    return rows, contacts


def _run_replications(ctx: _Replay, reps: int, seed: int, engine: Any,
                      workers: int | None, chunk_size: int | None,
                      progress: Progress | None) -> tuple[list[tuple], int]:
    """All replications' rows (in replication order) and contacts, serially or as Dask
    tasks of ``chunk_size`` replications each."""
    if isinstance(engine, str) and engine == "serial":
        rows: list[tuple] = []
        contacts = 0
        for r in range(reps):
            got, n = _replicate(ctx, r, seed)
            rows += got
            contacts += n
            if progress is not None:
                progress((r + 1) / reps, f"replication {r + 1} of {reps}")
        return rows, contacts
    from distributed import as_completed

    from planner.fanout import dask_client

    if isinstance(engine, str):
        if engine != "local" and not engine.startswith(("tcp://", "tls://")):
            raise SimulationError(f"engine must be 'serial', 'local', a scheduler address "
                                  f"'tcp://HOST:PORT' or a distributed.Client, got "
                                  f"{engine!r}")
        client, cluster = dask_client(engine, workers)
    else:
        client, cluster = engine, None
    try:
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        size = chunk_size or max(1, math.ceil(reps / (4 * n_workers)))
        chunks = [tuple(range(i, min(i + size, reps))) for i in range(0, reps, size)]
        shared = client.scatter(ctx, broadcast=True)
        futures = {client.submit(_replicate_many, shared, c, seed, pure=False): i
                   for i, c in enumerate(chunks)}
        parts: dict[int, tuple[list[tuple], int]] = {}
        done = 0
        for f in as_completed(list(futures)):
            i = futures[f]
            parts[i] = f.result()
            done += len(chunks[i])
            if progress is not None:
                progress(done / reps, f"{done} of {reps} replications "
                                      f"({len(parts)} of {len(chunks)} tasks)")
    finally:
        if isinstance(engine, str):
            client.close()
            if cluster is not None:
                cluster.close()
    rows = [row for i in range(len(chunks)) for row in parts[i][0]]
    return rows, sum(parts[i][1] for i in range(len(chunks)))


def data_handle_cv(contacts: pd.DataFrame) -> dict[str, float | None]:
    """Coefficient of variation of one handle time per channel, from a contact history's
    interval mean AHTs (:func:`staffing.simulate.handle_cv_from_interval_means`, the
    reference mean taken per channel and day).

    Parameters
    ----------
    contacts : DataFrame
        ``ds, channel, contacts`` and ``aht_s`` (the contacts contract).

    Returns
    -------
    dict
        ``{channel: cv}``; ``None`` for a channel whose data cannot tell (no ``aht_s``,
        too few intervals with contacts, or the same count in every interval).
    """
    out: dict[str, float | None] = {}
    for ch, part in contacts.groupby(contacts["channel"].astype(str), sort=True):
        if "aht_s" not in part:
            out[str(ch)] = None
            continue
        day = pd.DatetimeIndex(pd.to_datetime(part["ds"])).normalize()
        out[str(ch)] = handle_cv_from_interval_means(
            part["contacts"].to_numpy(float), part["aht_s"].to_numpy(float), day)
    return out


def scenario_handle_cv(result: ScenarioResult) -> dict[str, float | None]:
    """:func:`data_handle_cv` of the contact history the scenario was planned from."""
    from planner.cache import default_cache
    from planner.inputs import load_inputs

    return data_handle_cv(load_inputs(result.scenario.data, default_cache()).contacts)


def _summarise(reps_df: pd.DataFrame, policies: dict, level: float) -> pd.DataFrame:
    out = []
    for (date, ch), part in reps_df.groupby(["date", "channel"], sort=True):
        row: dict[str, Any] = {"date": date, "channel": ch,
                               "offered": float(part["offered"].mean())}
        for m in METRICS:
            mean, lo, hi = _ci(part[m].to_numpy(float)[:, None], level)
            top = 1.0 if m in _SHARES else np.inf   # the interval stays in the range
            row[m] = mean[0]
            row[f"{m}_lo"], row[f"{m}_hi"] = np.clip(lo[0], 0, top), np.clip(hi[0], 0, top)
        sl = part["service_level"].to_numpy(float)
        row["service_level_p10"] = float(np.nanquantile(sl, 0.1)) if np.isfinite(sl).any() \
            else np.nan
        row["service_level_p90"] = float(np.nanquantile(sl, 0.9)) if np.isfinite(sl).any() \
            else np.nan
        target = policies[ch].target_sl if policies[ch].model != "deferred" else 1.0
        row["p_below_target"] = float(np.mean(sl < target - 1e-12))
        out.append(row)
    return pd.DataFrame(out)


def _compare(result, daily, dist, dem, ag, policies, T, chosen, demand) -> pd.DataFrame:
    """The plan's analytic KPIs on the same days (Erlang C/A with queue carry-over, the
    email backlog: :func:`staffing.kpis.achieved_kpis`). With ``demand="mean"`` at the
    expected volume; with ``"forecast"`` averaged over quantile nodes of each day's
    multiplier (each day's volumes scaled by its node value), the same demand
    uncertainty as the simulation's."""
    agents = ag[(ag["ds"] >= dem["ds"].min()) & (ag["ds"] <= dem["ds"].max())]
    base = dem[["channel", "ds", "volume", "aht_s"]]
    if demand == "mean":
        nodes = np.array([1.0])[:, None]
    else:
        u = (np.arange(_COMPARE_NODES) + 0.5) / _COMPARE_NODES
        cv = dem["day_cv"].to_numpy(float)
        pos = cv > 0
        k = 1.0 / np.where(pos, cv, 1.0) ** 2
        nodes = np.where(pos, stats.gamma.ppf(u[:, None], k, scale=1.0 / k), 1.0)
    parts = []
    for mult in nodes:
        vol = base.assign(volume=base["volume"].to_numpy(float) * mult)
        parts.append(daily_kpis(achieved_kpis(vol, agents, policies, T), None, T))
    kp = (pd.concat(parts).groupby(["date", "channel"])[["service_level", "abandon_rate"]]
          .mean())
    rows = []
    for _, d in daily.iterrows():
        if d["date"] not in chosen:
            continue
        key = (d["date"], d["channel"])
        for m in ("service_level", "abandon_rate"):
            if key not in kp.index or not np.isfinite(d[m]):
                continue
            a = float(kp.at[key, m])
            if not np.isfinite(a):
                continue
            lo, hi = d[f"{m}_lo"], d[f"{m}_hi"]
            ok = bool(lo - 1e-9 <= a <= hi + 1e-9) if np.isfinite(lo) else True
            rows.append((d["date"], d["channel"], m, a, d[m], lo, hi, ok))
    return pd.DataFrame(rows, columns=["date", "channel", "metric", "analytic", "sim",
                                       "sim_lo", "sim_hi", "agrees"])
