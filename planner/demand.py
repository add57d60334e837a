"""Demand of a scenario: the base forecast, then the scenario's assumptions on it.

:func:`base_forecast` forecasts daily orders and interval contacts per channel from the
history (cached per data and forecast settings, shared by every what-if);
:func:`scenario_forecast` applies the scenario's order growth, contact rate and automation
through :func:`forecast.contacts.apply_assumptions` (the one path, also what the app's
Forecast page shows); :func:`scenario_volumes` turns that into the offered volume per
interval that staffing plans for (``staff_to``: mean, upper band or a probability; AHT
overrides).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.cache import ForecastCache
from forecast.contacts import ContactsError, apply_assumptions, forecast_contacts_detail
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

__all__ = ["BaseForecast", "base_forecast", "scenario_forecast", "scenario_volumes"]


@dataclass(frozen=True)
class BaseForecast:
    """Forecast shared by every scenario with the same data and forecast settings.

    ``orders``: daily ``ds, yhat, yhat_lo, yhat_hi``; ``contacts``: interval forecast
    ``unique_id (channel), ds, yhat, yhat_lo, yhat_hi, aht_s``; ``daily``: contacts per
    channel and day ``unique_id, ds, yhat, yhat_lo, yhat_hi, rate``; ``models``: model
    used per series.
    """

    orders: pd.DataFrame
    contacts: pd.DataFrame
    daily: pd.DataFrame
    models: dict[str, str]
    interval_s: int


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
    detail = forecast_contacts_detail(
        orders, contacts, inputs.events, h.start, h.end,
        interval_s=inputs.interval_s, model=scenario.forecast.model,
        level=scenario.forecast.level, progress=sub(0.0, 1.0), cache=forecast_cache,
    )
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
    )
    chosen = ", ".join(f"{k}: {v}" for k, v in models.items())
    report_step(progress, "forecast", 1.0, f"forecast done ({chosen})")
    if cache is not None:
        cache.put(key, out)
    return out


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
                        interval_s=base.interval_s)


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
        ``dispersion`` the predictive spread read off the forecast band
        (:func:`staffing.risk.spread_from_band`), ``contact_rate`` the channel's contacts
        per order on that day, assumed or learned, before automation, and ``automation``
        the deflected share; contact rate, order growth and automation are applied by
        :func:`forecast.contacts.apply_assumptions`.
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
    aht = fc["aht_s"].to_numpy(float).copy()
    for c in np.unique(channel):
        if scenario.channels[c].aht_s is not None:
            aht[channel == c] = scenario.channels[c].aht_s
    mean = fc["yhat"].to_numpy(float)
    hi = fc["yhat_hi"].to_numpy(float)
    spread = spread_from_band(fc, level=scenario.forecast.level)
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
                "day_cv": spread["day_cv"].to_numpy()[sel],
                "dispersion": spread["dispersion"].to_numpy()[sel]}))
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
            "day_cv": spread["day_cv"].to_numpy(),
            "dispersion": spread["dispersion"].to_numpy(),
        }
    )
