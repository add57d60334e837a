"""Demand of a scenario: the base forecast, then the scenario's assumptions on it.

:func:`base_forecast` forecasts daily orders and interval contacts per channel from the
history (cached per data and forecast settings, shared by every what-if);
:func:`scenario_forecast` applies the scenario's order growth, contact rate and automation
through :func:`forecast.contacts.apply_assumptions` (the one path, also what the app's
Forecast page shows); :func:`scenario_volumes` turns that into the offered volume per
interval that staffing plans for (``staff_to``: mean, upper band or a probability; AHT
overrides).

Staffing to a probability (``staff_to: p80``) reads the predictive spread of demand from
the series' own rolling-origin backtests (:func:`backtest_spreads`): the forecast's band
calibration already forecasts each origin of
:func:`forecast.contacts.calibration_origins` from the history before it; those
backtests, split into intervals, are set against the interval actuals and
:func:`staffing.spread.spread_from_backtest` measures the day multiplier's cv and the
within-interval dispersion per channel. A channel with fewer than
:data:`MIN_BACKTEST_DAYS` backtest days (a short horizon, or a history too short for a
backtest origin) reads its spread off the forecast band instead
(:func:`staffing.spread.spread_from_band`) and the run warns (:func:`spread_warnings`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.cache import ForecastCache
from forecast.contacts import (
    ContactsError,
    ContactsForecast,
    apply_assumptions,
    calibration_origins,
    forecast_contacts_detail,
)
from planner.cache import PipelineCache
from planner.inputs import InputData, PipelineError
from planner.policies import channel_policies
from planner.progress import Progress, report_step
from planner.scenario import Scenario
from staffing.risk import (
    DemandDistribution,
    risk_volume,
    spread_from_band,
    staff_to_probability,
)
from staffing.spread import RiskError, Spread, spread_from_backtest

__all__ = ["MIN_BACKTEST_DAYS", "BaseForecast", "backtest_spreads", "base_forecast",
           "scenario_forecast", "scenario_volumes", "spread_warnings"]

#: Fewest backtest days of a channel before its spread is measured on them (else the band).
MIN_BACKTEST_DAYS = 28


@dataclass(frozen=True)
class BaseForecast:
    """Forecast shared by every scenario with the same data and forecast settings.

    ``orders``: daily ``ds, yhat, yhat_lo, yhat_hi``; ``contacts``: interval forecast
    ``unique_id (channel), ds, yhat, yhat_lo, yhat_hi, aht_s``; ``daily``: contacts per
    channel and day ``unique_id, ds, yhat, yhat_lo, yhat_hi, rate``; ``models``: model
    used per series; ``spreads``: per channel, the predictive spread measured on the
    forecast's rolling-origin backtests (:func:`backtest_spreads`); ``spread_notes``: per
    channel without one, why (its spread is read off the band).
    """

    orders: pd.DataFrame
    contacts: pd.DataFrame
    daily: pd.DataFrame
    models: dict[str, str]
    interval_s: int
    spreads: Mapping[str, Spread] = field(default_factory=dict)
    spread_notes: Mapping[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- forecast
def base_forecast(
    scenario: Scenario,
    inputs: InputData,
    progress: Progress | None = None,
    cache: PipelineCache | None = None,
    forecast_cache: ForecastCache | None = None,
) -> BaseForecast:
    """Forecast orders (daily) and contacts (interval, per channel) for the horizon.

    Cached on ``scenario.forecast_key()`` and the input files. ``forecast_cache`` (a
    :class:`forecast.cache.ForecastCache`) is passed to the forecast, so forecasts of
    some channels at a time (:mod:`planner.fanout`) fit the orders model once.

    Raises
    ------
    PipelineError
        When the history ends before ``horizon.last_history_day`` or lacks a channel.
    """
    key = ("forecast", scenario.forecast_key(), inputs.key)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            cache.hits += 1
            report_step(progress, "forecast", 1.0, "forecast reused from cache")
            return hit
        cache.misses += 1
    h = scenario.horizon
    last = pd.Timestamp(h.last_history_day)
    cutoff = last + pd.Timedelta(days=1)

    orders = inputs.orders[inputs.orders["ds"] < cutoff]
    contacts = inputs.contacts[inputs.contacts["ds"] < cutoff]
    first_day = inputs.orders["ds"].min()
    if orders.empty:
        raise PipelineError(
            f"the plan starts {h.start:%d %b %Y}, before the order history begins "
            f"({first_day:%d %b %Y}): move the plan into or after the history"
        )
    if orders["ds"].max() < last:
        ends = orders["ds"].max()
        what = ("the last history day the forecast should use" if h.history_end is not None
                else "the day before the plan starts")
        raise PipelineError(
            f"the order history ends {ends:%d %b %Y}, but the forecast needs it up to "
            f"{last:%d %b %Y} ({what}): start the plan by "
            f"{ends + pd.Timedelta(days=1):%d %b %Y}, or load history up to {last:%d %b %Y}"
        )
    missing = sorted(set(scenario.channels) - set(contacts["channel"].unique()))
    if missing:
        raise PipelineError(
            f"channels {missing} have no contact history (history has "
            f"{sorted(contacts['channel'].unique())})"
        )
    contacts = contacts[contacts["channel"].isin(list(scenario.channels))]

    def sub(lo: float, hi: float) -> Progress:
        return lambda f, m: report_step(progress, "forecast", lo + (hi - lo) * f, f"forecast: {m}")

    report_step(progress, "forecast", 0.0, "forecasting orders and contacts")
    # the backtests of the band calibration are kept in this cache, so that
    # backtest_spreads reuses their orders forecasts
    fcache = ForecastCache() if forecast_cache is None else forecast_cache
    detail = forecast_contacts_detail(
        orders, contacts, inputs.events, h.start, h.end,
        interval_s=inputs.interval_s, model=scenario.forecast.model,
        level=scenario.forecast.level, progress=sub(0.0, 0.9), cache=fcache,
    )
    report_step(progress, "forecast", 0.9, "forecast: spread of demand from backtests")
    spreads, notes = backtest_spreads(detail, orders, contacts, inputs.events, h.start, h.end,
                                      level=scenario.forecast.level, cache=fcache)
    fc = detail.intervals
    if "aht_s" not in fc.columns:
        fc = fc.assign(aht_s=np.nan)
    models = {"orders": detail.orders_model}
    out = BaseForecast(
        orders=detail.orders.drop(columns="unique_id", errors="ignore").reset_index(drop=True),
        contacts=fc.reset_index(drop=True),
        daily=detail.daily.reset_index(drop=True),
        models=models,
        interval_s=inputs.interval_s,
        spreads=spreads,
        spread_notes=notes,
    )
    chosen = ", ".join(f"{k}: {v}" for k, v in models.items())
    report_step(progress, "forecast", 1.0, f"forecast done ({chosen})")
    if cache is not None:
        cache.put(key, out)
    return out


def backtest_spreads(
    detail: ContactsForecast,
    orders: pd.DataFrame,
    contacts: pd.DataFrame,
    events: pd.DataFrame | None,
    start,
    end,
    *,
    level: float = 80,
    cache: ForecastCache | None = None,
    min_days: int = MIN_BACKTEST_DAYS,
) -> tuple[dict[str, Spread], dict[str, str]]:
    """Predictive spread per channel, measured on the forecast's rolling-origin backtests.

    Each origin ``s0`` of :func:`forecast.contacts.calibration_origins` is forecast from
    the history before it over the plan's length (cut the day before ``start``), as the
    band calibration of :func:`forecast.contacts.forecast_contacts_detail` does (same
    orders model, ``calibrate=False``; with the same ``cache`` its orders forecasts are
    reused, the contact rate and intraday split run once more per origin). The interval
    forecasts are set against the interval actuals of ``contacts`` (an open interval
    without a row counts 0 contacts) and :func:`staffing.spread.spread_from_backtest`
    measures the spread (day key: origin and date; window: origin; recency half-life
    chosen by the backtests).

    Parameters
    ----------
    detail : ContactsForecast
        The forecast of ``start..end`` (its ``orders_model`` and ``interval_s`` are reused).
    orders, contacts, events : DataFrame
        The history the forecast was made from (loaders' contracts).
    start, end : date-like
        The forecast's first and last day.
    level : float
        Band coverage in percent, as in the forecast.
    cache : ForecastCache, optional
        The forecast's cache.
    min_days : int
        Fewest backtest days with contacts for a channel's spread.

    Returns
    -------
    (spreads, notes)
        ``{channel: Spread}`` for channels measured; ``{channel: reason}`` for the others.
    """
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    channels = sorted(detail.intervals["unique_id"].astype(str).unique())
    c = contacts[contacts["channel"].astype(str).isin(channels)]
    c_ds = pd.DatetimeIndex(pd.to_datetime(c["ds"]))
    past = c_ds < start
    if not past.any():
        return {}, dict.fromkeys(channels, "no contact history before the plan")
    origins = calibration_origins(start, c_ds[past].min().normalize())
    if not origins:
        why = ("the history is too short for a backtest (each needs a year of history "
               "before it)")
        return {}, dict.fromkeys(channels, why)
    span, last = end - start, start - pd.Timedelta(days=1)
    pieces = []
    try:
        for s0 in origins:
            bt = forecast_contacts_detail(
                orders, contacts, events, s0, min(s0 + span, last),
                interval_s=detail.interval_s, model=detail.orders_model, level=level,
                calibrate=False, cache=cache).intervals
            pieces.append(bt[["unique_id", "ds", "yhat"]].assign(origin=s0))
    except ContactsError as exc:
        return {}, dict.fromkeys(channels, f"the backtests failed ({exc})")
    bt = pd.concat(pieces, ignore_index=True)
    bt["unique_id"] = bt["unique_id"].astype(str)
    bt["ds"] = pd.to_datetime(bt["ds"])
    act = (pd.DataFrame({"unique_id": c["channel"].astype(str).to_numpy(),
                         "ds": c_ds.floor(f"{int(detail.interval_s)}s"),
                         "y": c["contacts"].to_numpy(float)})
           .groupby(["unique_id", "ds"], as_index=False)["y"].sum())
    bt = bt.merge(act, on=["unique_id", "ds"], how="left").fillna({"y": 0.0})
    spreads: dict[str, Spread] = {}
    notes: dict[str, str] = {}
    by_channel = dict(iter(bt.groupby("unique_id", sort=False)))  # one pass, not one a channel
    for ch in channels:
        g = by_channel.get(ch, bt.iloc[:0])
        day = pd.DatetimeIndex(g["ds"]).normalize()
        tot = g.groupby([g["origin"], day]).agg(y=("y", "sum"), f=("yhat", "sum"))
        n = int(((tot["y"] > 0) & (tot["f"] > 0)).sum())
        if n < min_days:
            notes[ch] = (f"only {n} backtest days with contacts (at least {min_days} "
                         "needed; a longer plan or history gives more)")
            continue
        key, _ = pd.factorize(pd.MultiIndex.from_arrays([g["origin"], day]))
        try:
            spreads[ch] = spread_from_backtest(g["y"], g["yhat"], key,
                                               g["origin"].to_numpy())
        except RiskError as exc:
            notes[ch] = f"its backtests cannot measure a spread ({exc})"
    return spreads, notes


def spread_warnings(scenario: Scenario, base: BaseForecast) -> list[str]:
    """One warning per channel staffed to a probability whose spread of demand could not
    be measured on backtests (it is read off the forecast band instead)."""
    out = []
    for ch, settings in scenario.channels.items():
        staff_to = settings.staff_to or scenario.forecast.staff_to
        if staff_to_probability(staff_to) is None or ch in base.spreads:
            continue
        why = base.spread_notes.get(ch, "no backtests")
        out.append(f"{ch}: staff_to {staff_to} reads the spread of demand off the forecast "
                   f"band, not the channel's own backtests: {why}")
    return out


def _day_spread(scenario: Scenario, base: BaseForecast, fc: pd.DataFrame,
                assumed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``day_cv`` and ``dispersion`` per interval row of ``fc``: the channel's backtest
    spread, on days whose contact rate the scenario assumes only its within-window part
    (``1 - level_share`` of the daily log variance: the assumption sets the rate level,
    whose error the backtests also measured); the band's where no backtest spread."""
    channel = fc["unique_id"].astype(str).to_numpy()
    band = None
    cv = np.zeros(len(fc))
    disp = np.ones(len(fc))
    for c in np.unique(channel):
        sel = channel == c
        sp = base.spreads.get(c)
        if sp is None:
            if band is None:
                band = spread_from_band(fc, level=scenario.forecast.level)
            cv[sel] = band["day_cv"].to_numpy()[sel]
            disp[sel] = band["dispersion"].to_numpy()[sel]
            continue
        s2 = math.log1p(sp.day_cv**2)
        within = math.sqrt(math.expm1(s2 * (1.0 - sp.level_share)))
        cv[sel] = np.where(assumed[sel], within, sp.day_cv)
        disp[sel] = sp.dispersion
    return cv, disp


# ----------------------------------------------------------------------------- volumes
def scenario_forecast(scenario: Scenario, base: BaseForecast) -> BaseForecast:
    """The base forecast after the scenario's demand assumptions: what the plan staffs for.

    Contact rate, order growth and automation go through
    :func:`forecast.contacts.apply_assumptions` (the one path); ``orders`` are the daily
    orders after ``order_growth``, ``daily`` the contacts per channel and day with the rate
    in force (``rate``, before automation) and the deflected share (``automation``),
    ``contacts`` the interval contacts (their ``yhat`` is :func:`scenario_volumes`'
    ``volume_mean``); AHT overrides are not applied here (see :func:`scenario_volumes`).

    Raises
    ------
    PipelineError
        An assumption does not fit the forecast (e.g. a rate for a channel not planned).
    """
    try:
        daily, fc, orders = apply_assumptions(
            base.daily, base.contacts, base.orders,
            contact_rate={c: s.contact_rate for c, s in scenario.channels.items()
                          if s.contact_rate is not None},
            total_contact_rate=scenario.contact_rate,
            order_growth=scenario.order_growth,
            automation={c: s.automation for c, s in scenario.channels.items()},
            level=scenario.forecast.level)
    except ContactsError as exc:
        raise PipelineError(str(exc)) from exc
    return BaseForecast(orders=orders, contacts=fc, daily=daily, models=dict(base.models),
                        interval_s=base.interval_s, spreads=base.spreads,
                        spread_notes=base.spread_notes)


def scenario_volumes(scenario: Scenario, base: BaseForecast) -> pd.DataFrame:
    """Offered volume per interval after the scenario's demand assumptions.

    Returns
    -------
    DataFrame
        ``channel, ds, volume, aht_s, contact_rate, automation, volume_mean, volume_hi,
        day_cv, dispersion`` where ``volume`` is what staffing plans for (the channel's
        ``staff_to``: the mean, the band's upper bound, or the volume whose SL target
        holds with probability p, :func:`staffing.risk.risk_volume`), ``volume_mean`` and
        ``volume_hi`` the expected volume and the band's upper bound, ``day_cv`` and
        ``dispersion`` the predictive spread (the channel's backtest spread,
        :attr:`BaseForecast.spreads`, with only its within-window part on days whose
        contact rate the scenario assumes; else read off the forecast band,
        :func:`staffing.risk.spread_from_band`), ``contact_rate`` the channel's contacts
        per order on that day, assumed or learned, before automation, and ``automation``
        the deflected share; contact rate, order growth and automation are applied by
        :func:`forecast.contacts.apply_assumptions`.

    Notes
    -----
    The distribution behind a probability is centred on the forecast mean
    (``volume_mean``); the backtests' ``mean_factor`` (where their errors put the mean) is
    not applied. The plan's KPIs, the cost-risk frontier and the simulation all read the
    same mean, and a p50 above the mean the KPIs report would be a second truth of demand;
    the quarterly backtest windows hold one window per season, so a level bias of one
    season says little about the next; and the day error's spread is matched at its
    quantiles p = 0.5 .. 0.95 around its own median, so a skewed error still widens the
    upper quantiles staffing uses.
    """
    # contact rate, order growth and automation: the forecast package's one path
    assumed = scenario_forecast(scenario, base)
    daily, fc = assumed.daily, assumed.contacts
    channel = fc["unique_id"].astype(str).to_numpy()
    key = pd.MultiIndex.from_arrays([daily["unique_id"].astype(str),
                                     pd.DatetimeIndex(daily["ds"]).normalize()])
    pos = key.get_indexer(pd.MultiIndex.from_arrays(
        [channel, pd.DatetimeIndex(fc["ds"]).normalize()]))
    rate = daily["rate"].to_numpy(float)[pos]
    auto = daily["automation"].to_numpy(float)[pos]
    assumed = daily["assumed"].to_numpy(bool)[pos]
    aht = fc["aht_s"].to_numpy(float).copy()
    for c in np.unique(channel):
        if scenario.channels[c].aht_s is not None:
            aht[channel == c] = scenario.channels[c].aht_s
    mean = fc["yhat"].to_numpy(float)
    hi = fc["yhat_hi"].to_numpy(float)
    day_cv, dispersion = _day_spread(scenario, base, fc, assumed)
    vol = mean.copy()
    policies = None
    for c in np.unique(channel):
        staff_to = scenario.channels[c].staff_to or scenario.forecast.staff_to
        sel = channel == c
        if staff_to == "upper":
            vol[sel] = hi[sel]
        elif (p := staff_to_probability(staff_to)) is not None:
            policies = policies or channel_policies(scenario)
            dist = DemandDistribution.from_frame(pd.DataFrame({
                "channel": c, "ds": fc["ds"].to_numpy()[sel], "volume": mean[sel],
                "day_cv": day_cv[sel], "dispersion": dispersion[sel]}))
            vol[sel] = risk_volume(dist, p, policies)
    no_aht = ~np.isfinite(aht) & (vol > 0)
    if no_aht.any():
        raise PipelineError(
            f"channels {sorted(set(channel[no_aht]))}: the history has no aht_s; set "
            "channels.<name>.aht_s (seconds) in the scenario"
        )
    return pd.DataFrame(
        {
            "channel": channel,
            "ds": fc["ds"].to_numpy(),
            "volume": vol,
            "aht_s": aht,
            "contact_rate": rate,
            "automation": auto,
            "volume_mean": mean,
            "volume_hi": hi,
            "day_cv": day_cv,
            "dispersion": dispersion,
        }
    )
