"""War room: the day's actual contacts against the plan, and the rest of the day re-forecast.

During a peak day the war room watches contacts arrive and asks: are we above plan, by how
much will we end the day, and where are we short of agents? :func:`day_against_plan`
answers from the plan of a scenario run and the contacts seen so far.

The rest of the day is re-forecast by :mod:`forecast.reforecast`: the plan's offered
volume scaled by a multiplier learned from the intervals already observed (gamma-Poisson,
``(prior + actual) / (prior + planned)``), with a negative-binomial band, and the plan's
handle time scaled the same way.

A channel without a single actual row is not judged: it keeps its plan and is flagged
(``reported`` False). Within a reported channel, a planned interval before ``now`` without
a row had no contacts. Contacts in intervals the plan has no row for (closed hours) are
counted in ``unplanned_contacts`` and otherwise left out.

The agents needed for the rest of the day are the channel's rostered requirement
(:func:`staffing.requirements.compute_requirements`) for the re-forecast volume, against
the agents the shift plan schedules; expected service is
:func:`staffing.kpis.achieved_kpis` of the scheduled agents on the actual volume so far
and the re-forecast after. The queue (or email backlog) the day starts with is the plan's:
the plan's previous day runs first, with its planned volume and scheduled agents (actuals
of the previous day are not used).

Examples
--------
>>> ds = pd.date_range("2024-11-29 08:00", periods=4, freq="30min")
>>> volumes = pd.DataFrame({"channel": "voice", "ds": ds, "volume": 100.0, "aht_s": 180.0})
>>> coverage = pd.DataFrame({"channel": "voice", "ds": ds, "scheduled": 20})
>>> actuals = pd.DataFrame({"ds": ds[:2], "channel": "voice", "contacts": [130, 130]})
>>> policy = ChannelPolicy("voice", "erlang_c", 0.8, 20, shrinkage=0.3)
>>> view = day_against_plan(volumes, coverage, actuals, [policy], 1800, prior_contacts=40)
>>> round(float(view.summary.loc[0, "ratio"]), 4)  # (40 + 260) / (40 + 200)
1.25
>>> view.intervals["reforecast"].tolist()
[130.0, 130.0, 125.0, 125.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from forecast.reforecast import reforecast_channel
from staffing.kpis import achieved_kpis
from staffing.policy import ChannelPolicy
from staffing.queue_models import queue_model
from staffing.requirements import as_policies, compute_requirements

__all__ = ["DayView", "LiveError", "agents_against_schedule", "day_against_plan", "day_of",
           "expected_service", "load_day_actuals", "result_day_against_plan",
           "short_intervals"]


class LiveError(ValueError):
    """Actuals that cannot be set against the plan (columns, day, channels, grid)."""


@dataclass(frozen=True)
class DayView:
    """The day against its plan.

    Attributes
    ----------
    intervals : DataFrame
        ``channel, ds, observed, planned, actual, reforecast, reforecast_lo,
        reforecast_hi, aht_plan_s, aht_s, scheduled, required, gap, sl, short`` per interval of
        the plan's day: ``observed`` is True before ``now``; ``actual`` the contacts seen
        (NaN after ``now``); ``reforecast`` the actual before ``now`` and the re-forecast
        after (``_lo``/``_hi``: its band); ``aht_s`` the handle time used (actual before,
        re-forecast after); ``required`` the rostered agents that volume needs;
        ``scheduled`` the agents on shift in the plan; ``gap = scheduled - required``
        (negative: fewer than needed); ``sl`` the expected service level of the interval;
        ``short`` whether a remaining interval is short of agents (:func:`short_intervals`).
    summary : DataFrame
        One row per channel: ``reported, planned_so_far, actual_so_far, ratio, ratio_lo,
        ratio_hi, aht_ratio, planned_day, reforecast_day, reforecast_day_lo,
        reforecast_day_hi, unplanned_contacts, sl_plan, sl_expected, intervals_short,
        max_short`` (``ratio_lo/hi``: band of the multiplier; ``sl_plan``: the day's
        service level if the plan's volumes arrive; ``sl_expected``: with the actuals and
        the re-forecast, both over the intervals whose outcome is known within the day;
        ``max_short``: the most agents missing in one remaining interval, rounded up).
    now : Timestamp
        End of the last observed interval.
    level : float
        Coverage of the bands in percent.
    ignored : dict
        Contacts of the day per channel the plan does not have (left out).
    """

    intervals: pd.DataFrame
    summary: pd.DataFrame
    now: pd.Timestamp
    level: float
    ignored: dict[str, float]


def _check_actuals(actuals: pd.DataFrame) -> pd.DataFrame:
    missing = {"ds", "channel", "contacts"} - set(actuals.columns)
    if missing:
        raise LiveError(f"actuals are missing column(s) {sorted(missing)}; expected ds, "
                        "channel, contacts[, aht_s]")
    a = actuals.copy()
    a["ds"] = pd.to_datetime(a["ds"], errors="coerce")
    a["contacts"] = pd.to_numeric(a["contacts"], errors="coerce")
    bad = a["ds"].isna() | a["contacts"].isna() | (a["contacts"] < 0)
    if bad.any():
        rows = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())[:5]]
        raise LiveError(f"actuals: unreadable time or a missing/negative contact count in "
                        f"data row(s) {rows} (counting the header as row 1)")
    if "aht_s" not in a.columns:
        a["aht_s"] = np.nan
    a["aht_s"] = pd.to_numeric(a["aht_s"], errors="coerce")
    a.loc[~(a["aht_s"] > 0), "aht_s"] = np.nan  # no handle time reported
    if a["ds"].dt.tz is not None:
        raise LiveError(f"actuals carry the time zone {a['ds'].dt.tz}; give local times "
                        "without a zone, as the plan has them")
    a["channel"] = a["channel"].astype(str)
    return a


def day_against_plan(
    volumes: pd.DataFrame,
    coverage: pd.DataFrame,
    actuals: pd.DataFrame,
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | ChannelPolicy,
    interval_s: int,
    *,
    day=None,
    now=None,
    prior_contacts: float = 100.0,
    level: float = 80.0,
) -> DayView:
    """Set one day's actual contacts against the plan and re-forecast the rest of it.

    The steps: read the actuals and pick the plan's day; sum the actuals into the plan's
    intervals and find ``now``; lay plan, actuals and scheduled agents on one grid;
    re-forecast the rest of each channel's day
    (:func:`forecast.reforecast.reforecast_channel`); the agents that re-forecast needs
    against those scheduled (:func:`agents_against_schedule`); the service the scheduled
    agents give with the re-forecast and with the plan's volume
    (:func:`expected_service`); the summary per channel.

    Parameters
    ----------
    volumes : DataFrame
        The plan's offered volume ``channel, ds, volume, aht_s`` (a scenario run's
        ``volumes``: after contact rate, growth and automation).
    coverage : DataFrame
        ``channel, ds, scheduled``: agents on shift per interval (a run's ``coverage``).
    actuals : DataFrame
        Contacts seen so far, contacts contract ``ds, channel, contacts[, aht_s]``; rows are
        summed into the plan's intervals (finer data is fine). Rows of other days and of
        channels without a plan are left out.
    policies : mapping, sequence or ChannelPolicy
        The channels' staffing policies (as planned).
    interval_s : int
        Interval length of the plan in seconds.
    day : date-like, optional
        The day; default the day of the actuals (they must then cover one day).
    now : Timestamp or str, optional
        Time of the last observation: intervals ending by then are observed. Default: the
        end of the last interval with an actual row.
    prior_contacts : float
        Weight of the plan, in contacts, when learning the multiplier (0: actuals alone).
    level : float
        Coverage of the re-forecast band in percent.

    Returns
    -------
    DayView

    Raises
    ------
    LiveError
        Missing columns, unreadable rows, actuals over several days without ``day``, a
        day outside the plan, no actual channel in the plan, a negative prior.
    """
    if prior_contacts < 0 or not np.isfinite(prior_contacts):
        raise LiveError(f"prior_contacts must be >= 0, got {prior_contacts!r}")
    if not 0 < level < 100:
        raise LiveError(f"level must be in (0, 100), got {level!r}")
    a = _check_actuals(actuals)
    pol = as_policies(policies)
    vol = _frame_keys(volumes)
    day, plan, a = _plan_of_the_day(vol, a, day)
    channels = [c for c in pol if c in set(plan["channel"])]
    ignored = {str(k): float(v) for k, v in
               a[~a["channel"].isin(channels)].groupby("channel")["contacts"].sum().items()}
    if a.empty or not set(a["channel"]) & set(channels):
        raise LiveError(f"no actual contacts of a planned channel ({', '.join(channels)}) "
                        f"on {day:%Y-%m-%d}")
    seen = _observed_intervals(a, plan, channels, day, interval_s, now)
    cov = _frame_keys(coverage[["channel", "ds", "scheduled"]])
    grid = _day_grid(plan, seen, cov, channels, interval_s)
    out, summary = _reforecast(grid, channels, seen, prior_contacts, level)
    out = agents_against_schedule(out, [pol[c] for c in channels], interval_s)
    expected, planned = expected_service(out, vol, cov, [pol[c] for c in channels], day,
                                         interval_s)
    out = out.merge(expected[["channel", "ds", "sl"]], on=["channel", "ds"], how="left")
    summary["sl_plan"] = summary["channel"].map(_day_sl(planned))
    summary["sl_expected"] = summary["channel"].map(_day_sl(expected))
    out["short"] = short_intervals(out, [pol[c] for c in channels])
    short = out[out["short"]]
    summary["intervals_short"] = summary["channel"].map(
        short.groupby("channel").size()).fillna(0).astype(np.int64)
    summary["max_short"] = summary["channel"].map(
        np.ceil(-short.groupby("channel")["gap"].min() - 1e-9)).fillna(0).astype(np.int64)
    cols = ["channel", "ds", "observed", "planned", "actual", "reforecast", "reforecast_lo",
            "reforecast_hi", "aht_plan_s", "aht_s", "scheduled", "required", "gap", "sl",
            "short"]
    return DayView(out[cols], summary, seen.now, float(level), ignored)


def _frame_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with ``ds`` as timestamps and ``channel`` as text."""
    out = frame.copy()
    out["ds"] = pd.to_datetime(out["ds"])
    out["channel"] = out["channel"].astype(str)
    return out


def _plan_of_the_day(volumes: pd.DataFrame, actuals: pd.DataFrame,
                    day=None) -> tuple[pd.Timestamp, pd.DataFrame, pd.DataFrame]:
    """The day to watch, the plan's rows of that day and the actuals of that day.

    ``day`` defaults to the one day the actuals cover.

    Raises
    ------
    LiveError
        Actuals over several days without ``day``; a day outside the plan.
    """
    if day is None:
        days = actuals["ds"].dt.normalize().unique()
        if len(days) != 1:
            raise LiveError(f"actuals cover {len(days)} days; say which day to watch")
        day = days[0]
    day = pd.Timestamp(day).normalize()
    plan = volumes[volumes["ds"].dt.normalize() == day]
    if plan.empty:
        first, last = volumes["ds"].min(), volumes["ds"].max()
        raise LiveError(f"{day:%Y-%m-%d} is outside the plan ({first:%Y-%m-%d} to "
                        f"{last:%Y-%m-%d})")
    return day, plan, actuals[actuals["ds"].dt.normalize() == day]


@dataclass(frozen=True)
class _Observed:
    """The actuals summed into the plan's intervals.

    Attributes
    ----------
    seen : DataFrame
        ``channel, ds, contacts, with_aht, handle`` per planned channel and interval with an
        actual row (``with_aht``: the contacts reporting a handle time, ``handle``: their
        handle seconds).
    unplanned : Series
        Contacts per channel in intervals the plan has no row for (closed hours).
    reported : set
        Channels with at least one actual row.
    now : Timestamp
        End of the last observed interval.
    """

    seen: pd.DataFrame
    unplanned: pd.Series
    reported: set[str]
    now: pd.Timestamp


def _observed_intervals(actuals: pd.DataFrame, plan: pd.DataFrame, channels: list[str],
                       day: pd.Timestamp, interval_s: int, now=None) -> _Observed:
    """Sum the day's actuals into the plan's intervals and find ``now``.

    ``now`` defaults to the end of the last planned interval with an actual row.

    Raises
    ------
    LiveError
        All actuals in closed hours without ``now``; ``now`` with a time zone or on
        another day.
    """
    step = pd.Timedelta(seconds=int(interval_s))
    a = actuals.copy()
    a["ds"] = a["ds"].dt.floor(step)
    a["with_aht"] = a["contacts"].where(a["aht_s"].notna(), 0.0)
    a["handle"] = (a["contacts"] * a["aht_s"]).fillna(0.0)
    seen = (a[a["channel"].isin(channels)]
            .groupby(["channel", "ds"], as_index=False)[["contacts", "with_aht", "handle"]]
            .sum())
    in_plan = seen.merge(plan[["channel", "ds"]], on=["channel", "ds"], how="left",
                         indicator=True)["_merge"].eq("both").to_numpy()
    unplanned = seen[~in_plan].groupby("channel")["contacts"].sum()
    if now is None:
        if not in_plan.any():
            raise LiveError(f"the actual contacts on {day:%Y-%m-%d} all fall in intervals "
                            "the plan has closed; give now explicitly")
        now = seen.loc[in_plan, "ds"].max() + step
    else:
        now = pd.Timestamp(now)
        if now.tz is not None:
            raise LiveError(f"now {now} carries a time zone; give the local time")
    if now < day or now > day + pd.Timedelta(days=1):
        raise LiveError(f"now {now} is not on {day:%Y-%m-%d}")
    return _Observed(seen, unplanned, set(seen["channel"]), now)


def _day_grid(plan: pd.DataFrame, seen: _Observed, cov: pd.DataFrame, channels: list[str],
              interval_s: int) -> pd.DataFrame:
    """Plan, actuals and scheduled agents per planned channel and interval of the day."""
    step = pd.Timedelta(seconds=int(interval_s))
    grid = (plan[plan["channel"].isin(channels)][["channel", "ds", "volume", "aht_s"]]
            .rename(columns={"volume": "planned", "aht_s": "aht_plan_s"})
            .merge(seen.seen, on=["channel", "ds"], how="left")
            .merge(cov, on=["channel", "ds"], how="left")
            .sort_values(["channel", "ds"], ignore_index=True))
    grid["scheduled"] = grid["scheduled"].fillna(0.0)
    grid[["contacts", "with_aht", "handle"]] = grid[["contacts", "with_aht", "handle"]].fillna(
        0.0)
    grid["observed"] = ((grid["ds"] + step) <= seen.now) & grid["channel"].isin(seen.reported)
    grid["actual"] = np.where(grid["observed"], grid["contacts"], np.nan)
    return grid


def _reforecast(grid: pd.DataFrame, channels: list[str], seen: _Observed,
                prior_contacts: float, level: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The grid with each channel's re-forecast, and the summary's re-forecast columns."""
    rows, parts = [], []
    for ch in channels:
        g = grid[grid["channel"] == ch].copy()
        r = reforecast_channel(g["planned"], g["observed"], g["actual"], g["aht_plan_s"],
                               g["with_aht"], g["handle"], prior_contacts=prior_contacts,
                               level=level)
        g["reforecast"], g["reforecast_lo"], g["reforecast_hi"] = r.reforecast, r.lo, r.hi
        g["aht_s"] = r.aht_s
        parts.append(g)
        m = r.multiplier
        rows.append({"channel": ch, "reported": ch in seen.reported,
                     "planned_so_far": r.planned_so_far, "actual_so_far": r.actual_so_far,
                     "ratio": m.mean, "ratio_lo": m.lo, "ratio_hi": m.hi,
                     "aht_ratio": r.aht_ratio,
                     "planned_day": float(g["planned"].to_numpy(float).sum()),
                     "reforecast_day": float(g["reforecast"].sum()),
                     "reforecast_day_lo": r.actual_so_far + r.rest_lo,
                     "reforecast_day_hi": r.actual_so_far + r.rest_hi,
                     "unplanned_contacts": float(seen.unplanned.get(ch, 0.0))})
    return pd.concat(parts, ignore_index=True), pd.DataFrame(rows)


def agents_against_schedule(day: pd.DataFrame, policies: list[ChannelPolicy],
                            interval_s: int) -> pd.DataFrame:
    """Add ``required`` (rostered agents the ``reforecast`` volume needs) and ``gap``
    (``scheduled - required``) to ``channel, ds, reforecast, aht_s, scheduled`` rows."""
    need = compute_requirements(
        day[["channel", "ds", "reforecast", "aht_s"]].rename(columns={"reforecast": "volume"}),
        policies, interval_s, deferred_tail_days=1)
    out = day.merge(need[["channel", "ds", "rostered"]], on=["channel", "ds"], how="left")
    out["required"] = out["rostered"].fillna(0).astype(np.int64)
    if np.allclose(out["scheduled"], np.round(out["scheduled"])):  # whole agents (shifts)
        out["scheduled"] = np.round(out["scheduled"]).astype(np.int64)
    out["gap"] = out["scheduled"] - out["required"]
    return out


def day_of(actuals: pd.DataFrame, source: str = "the actuals") -> pd.Timestamp:
    """The one day ``actuals`` cover; :class:`LiveError` when they cover several (a file of
    today's contacts is one day, so several days means the wrong file)."""
    days = pd.to_datetime(actuals["ds"]).dt.normalize().unique()
    if len(days) != 1:
        raise LiveError(f"{source} covers {len(days)} days: upload the contacts of one day")
    return pd.Timestamp(days[0])


def short_intervals(day: pd.DataFrame, policies: list[ChannelPolicy]) -> NDArray:
    """Which remaining intervals are short of agents.

    A queue answered in seconds (voice, chat) is short where fewer agents are scheduled
    than the re-forecast needs (``gap < 0``). Deferred work (email) is sized per day, so
    an interval under its own share is normal while the backlog is still answered in time:
    it is short only where its expected share answered within target (``sl``) is below
    the channel's ``target_sl``, or unknown yet (``NaN``: the outcome lies past the day).
    """
    deferred = {p.channel: queue_model(p.model).deferred for p in policies}
    target = {p.channel: float(p.target_sl) for p in policies}
    ch = day["channel"].astype(str)
    under = ~day["observed"].to_numpy(bool) & (day["gap"].to_numpy(float) < 0)
    is_def = ch.map(deferred).fillna(False).to_numpy(bool)
    sl = day["sl"].to_numpy(float)
    misses = ~(sl >= ch.map(target).to_numpy(float))  # NaN: not known to be in time
    return under & (~is_def | misses)


def expected_service(day: pd.DataFrame, volumes: pd.DataFrame, coverage: pd.DataFrame,
                     policies: list[ChannelPolicy], on: pd.Timestamp,
                     interval_s: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """KPIs of the scheduled agents on the day, with the re-forecast and with the plan.

    ``day`` has ``channel, ds, reforecast, aht_s, planned, aht_plan_s, scheduled``. The
    queue (email backlog) carried in from the previous day is the plan's: its volume and
    scheduled agents (``volumes``, ``coverage``) run first, then the day.

    Returns
    -------
    (expected, planned) : DataFrames
        :func:`staffing.kpis.achieved_kpis` rows of the day ``on``.
    """
    channels = [p.channel for p in policies]
    prev = volumes[(volumes["ds"] >= on - pd.Timedelta(days=1)) & (volumes["ds"] < on)
                   & volumes["channel"].isin(channels)][["channel", "ds", "volume", "aht_s"]]
    prev = prev.merge(coverage, on=["channel", "ds"], how="left").fillna({"scheduled": 0.0})

    def kpis(volume: str, aht: str) -> pd.DataFrame:
        today = day[["channel", "ds", volume, aht, "scheduled"]].rename(
            columns={volume: "volume", aht: "aht_s"})
        both = pd.concat([prev, today], ignore_index=True)
        k = achieved_kpis(both[["channel", "ds", "volume", "aht_s"]],
                          both[["channel", "ds", "scheduled"]], policies, interval_s)
        return k[k["ds"] >= on]

    return kpis("reforecast", "aht_s"), kpis("planned", "aht_plan_s")


def _day_sl(kpis: pd.DataFrame) -> pd.Series:
    """Volume-weighted service level of the day per channel, over the intervals whose
    outcome is known (an email still inside its response target has none yet)."""
    k = kpis[(kpis["volume"] > 0) & kpis["sl"].notna()]
    num = (k["sl"] * k["volume"]).groupby(k["channel"]).sum()
    return num / k.groupby("channel")["volume"].sum()


def load_day_actuals(src, interval_s: int) -> pd.DataFrame:
    """Load the day's contacts so far with the contacts loader.

    The interval length is detected from the file, so finer rows than the plan's are kept
    (and summed into the plan's intervals later); where a file is too short to tell (one
    timestamp per channel early in the day, or a single interval on each of two days) the
    plan's ``interval_s`` is taken instead.

    Raises
    ------
    forecast.data.DataError
        The loader's message for an unusable file.
    """
    from forecast.data import load_contacts
    from forecast.validation import MixedIntervalError

    try:
        return load_contacts(src)
    except MixedIntervalError as first:
        if hasattr(src, "seek"):
            src.seek(0)
        try:
            return load_contacts(src, interval_s=int(interval_s))
        except ValueError:
            raise first from None


def result_day_against_plan(result, actuals: pd.DataFrame, *, day=None, now=None,
                            prior_contacts: float = 100.0, level: float = 80.0) -> DayView:
    """:func:`day_against_plan` for a scenario run (:class:`planner.results.ScenarioResult`)."""
    from planner.pipeline import channel_policies
    from planner.queues import QUEUE, queue_contacts

    interval_s = int(result.meta["interval_s"])
    if result.queues:  # a plan per queue is set against actuals per queue
        if QUEUE not in actuals.columns:
            raise LiveError("the plan is per queue but the actuals have no 'queue' column: "
                            "give the day's contacts per queue (the plan's queues: "
                            f"{', '.join(sorted(result.queues)[:5])}"
                            f"{', ...' if len(result.queues) > 5 else ''})")
        actuals = queue_contacts(actuals)
    volumes = result.volumes
    if "volume_mean" in volumes.columns:  # the expected volume, whatever staff_to sized
        volumes = volumes.assign(volume=volumes["volume_mean"])
    return day_against_plan(volumes, result.coverage, actuals,
                            channel_policies(result.planned_scenario), interval_s, day=day,
                            now=now,
                            prior_contacts=prior_contacts, level=level)
