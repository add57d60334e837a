"""The whole plan from one scenario: forecast, requirements, shifts, achieved KPIs.

:func:`run` takes a :class:`~planner.scenario.Scenario` and returns a
:class:`~planner.results.ScenarioResult`. The steps, left to right:

1. **inputs** - orders, contacts and events are loaded (bundled sample by default);
2. **base forecast** - daily orders, then contacts per channel from orders times the
   learned contact rate with its delivery lag, split into intervals, with the AHT per
   interval (:func:`forecast.contacts.forecast_contacts_detail`), from history up to
   ``horizon.last_history_day``;
3. **volumes** - the scenario's demand assumptions turn the base forecast into offered
   volume: order growth, contact-rate overrides (total or per channel, by month),
   automation (deflected share) and AHT overrides;
4. **requirements** per interval and channel (:func:`staffing.requirements.compute_requirements`);
5. **shifts** (:func:`staffing.shifts.solve_shifts`, with the headcount caps);
6. **achieved KPIs** of the scheduled agents with queue carry-over
   (:mod:`staffing.kpis`) at the expected volume (also when ``staff_to`` sized the plan
   for the band's upper bound or a probability), weekly FTE and cost.

This module orchestrates; the steps live next to what they are about: loading inputs in
:mod:`planner.inputs`, the caches in :mod:`planner.cache`, a scenario's staffing settings as
policies, shift rules and caps in :mod:`planner.policies`, interval staffing without the
shift solver (and the split of a cap shared by all channels) in
:mod:`staffing.interval_staffing`. Their public names stay importable from here.

Steps 1-2 depend only on the data, horizon and forecast settings; they are cached in a
:class:`~planner.cache.PipelineCache` keyed on exactly those, so a what-if that changes demand or
staffing assumptions reuses the forecast and costs only steps 3-6. Shift solutions are
cached per channel too (keyed on that channel's requirement, rules, cap and policy), so a
what-if that changes one channel solves only that channel's shifts again, and within it
only the days whose requirement changed (solved day-blocks are cached as well), and
``shifts.solve: false`` skips the solver (each interval staffed to its rostered need).

Contact rate
------------
The scenario's contact rate, order growth and automation go through one function of the
forecast package, :func:`forecast.contacts.apply_assumptions` (the one that
:func:`forecast.contacts.forecast_contacts_detail` uses for its ``contact_rate`` and
``order_growth``): an assumed rate ``R`` replaces the day's learned rate ``r`` (contacts
are lagged orders times the rate, so volumes scale by ``R / r``) and its band is the
spread around that rate without the rate-level term; a total rate is shared out in the
learned channel mix of the day. Month keys are calendar months 1..12 everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.cache import ForecastCache
from forecast.contacts import ContactsError, apply_assumptions, forecast_contacts_detail
from planner.cache import LruCache, PipelineCache, default_cache, solve_shifts_cached
from planner.inputs import (
    STALE_HISTORY_DAYS,
    InputData,
    PipelineError,
    history_warnings,
    load_inputs,
    plan_warnings,
)
from planner.policies import channel_policies, headcount_caps, shift_rules
from planner.results import ScenarioResult, weekly_fte
from planner.scenario import Scenario
from staffing.interval_staffing import interval_staffing
from staffing.kpis import achieved_kpis, daily_kpis
from staffing.requirements import compute_requirements
from staffing.risk import (
    DemandDistribution,
    risk_volume,
    spread_from_band,
    staff_to_probability,
)

__all__ = [
    "BaseForecast",
    "InputData",
    "LruCache",
    "PipelineCache",
    "PipelineError",
    "Progress",
    "STALE_HISTORY_DAYS",
    "base_forecast",
    "channel_policies",
    "default_cache",
    "history_warnings",
    "load_inputs",
    "plan_warnings",
    "run",
    "scenario_forecast",
    "scenario_volumes",
    "shift_rules",
]

Progress = Callable[[float, str], None]

# Share of the progress bar given to each step (forecast dominates a cold run).
_STEPS = {"inputs": (0.0, 0.05), "forecast": (0.05, 0.55), "staffing": (0.55, 0.65),
          "shifts": (0.65, 0.95), "kpis": (0.95, 1.0)}



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



def _report(progress: Progress | None, step: str, frac: float, msg: str) -> None:
    if progress is not None:
        lo, hi = _STEPS[step]
        progress(lo + (hi - lo) * min(max(frac, 0.0), 1.0), msg)




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
            _report(progress, "forecast", 1.0, "forecast reused from cache")
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
        return lambda f, m: _report(progress, "forecast", lo + (hi - lo) * f, f"forecast: {m}")

    _report(progress, "forecast", 0.0, "forecasting orders and contacts")
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
    _report(progress, "forecast", 1.0, f"forecast done ({chosen})")
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


def run(
    scenario: Scenario,
    progress: Progress | None = None,
    *,
    cache: PipelineCache | None = None,
) -> ScenarioResult:
    """Run the whole flow for one scenario.

    Parameters
    ----------
    scenario : Scenario
        The assumptions.
    progress : callable, optional
        ``progress(fraction_done, message)``, called at each step (fraction in 0..1).
    cache : PipelineCache, optional
        Inputs/forecast cache; default :func:`default_cache` (shared in the process).

    Returns
    -------
    ScenarioResult
        All frames (see :mod:`planner.results`); ``meta`` holds ``forecast_key``,
        ``forecast_cached``, ``interval_s``, ``models``, ``shift_status``,
        ``shift_quality`` (``"optimal"`` or ``"within X % of the best possible"``),
        ``shift_paid_hours`` and ``shift_paid_hours_bound`` (the plan's paid hours and
        their lower bound), ``shift_objective_h``, ``shift_lower_bound_h``, ``shift_gap``
        (the plan's cost with the understaffing penalty, its LP bound and the relative
        gap between them), ``short_agent_hours`` and ``warnings`` (list of str:
        :attr:`InputData.warnings` and :func:`plan_warnings`).

    Raises
    ------
    ValueError
        Subclasses from the step that failed: :class:`PipelineError`,
        :class:`forecast.data.DataError`, :class:`staffing.policy.PolicyError`,
        :class:`staffing.shifts.ShiftError`, ... each naming the field or column.

    Examples
    --------
    >>> from planner.scenario import Scenario
    >>> s = Scenario(horizon={"start": "2024-11-04", "end": "2024-11-05"})
    >>> r = run(s)                                    # doctest: +SKIP
    >>> r.kpis_daily.columns.tolist()                 # doctest: +SKIP
    ['date', 'channel', 'service_level', 'asa_s', 'abandon_rate', 'occupancy', ...]
    """
    cache = default_cache() if cache is None else cache

    _report(progress, "inputs", 0.0, "loading data")
    inputs = load_inputs(scenario.data, cache)

    hits = cache.hits
    base = base_forecast(scenario, inputs, progress, cache)

    _report(progress, "staffing", 0.0, "requirements per interval")
    volumes = scenario_volumes(scenario, base)
    policies = channel_policies(scenario)
    requirements = compute_requirements(
        volumes[["channel", "ds", "volume", "aht_s"]], policies, base.interval_s,
        deferred_tail_days=1,
    )

    caps = headcount_caps(scenario)
    meta_shifts: dict[str, Any]
    if scenario.shifts.solve:
        _report(progress, "shifts", 0.0, "solving shifts")
        plan = solve_shifts_cached(
            requirements, shift_rules(scenario), caps, policies, base.interval_s, cache,
            lambda f, m: _report(progress, "shifts", f, m),
        )
        shift_plan, coverage = plan.shift_plan, plan.coverage
        meta_shifts = {
            "shift_status": plan.status,
            "shift_quality": plan.quality,
            "shift_paid_hours": plan.paid_hours,
            "shift_paid_hours_bound": plan.paid_hours_bound,
            "shift_objective_h": plan.objective,
            "shift_lower_bound_h": plan.lower_bound,
            "shift_gap": plan.gap,
            "short_agent_hours": plan.short_agent_hours,
        }
    else:
        coverage = interval_staffing(requirements, caps)
        shift_plan = pd.DataFrame(columns=["date", "channel", "shift_start", "shift_end",
                                           "break_start", "agents", "paid_hours"])
        short = float(coverage["short"].sum() * base.interval_s / 3600)
        meta_shifts = {"shift_status": "NOT_SOLVED", "short_agent_hours": short,
                       "shift_quality": "no shift plan (each interval staffed on its own)"}

    _report(progress, "kpis", 0.0, "achieved KPIs")
    # what the plan delivers at the expected volume (staff_to may have sized it for more)
    kpis = achieved_kpis(
        volumes[["channel", "ds", "volume_mean", "aht_s"]].rename(
            columns={"volume_mean": "volume"}),
        coverage[["channel", "ds", "scheduled"]],
        policies,
        base.interval_s,
    )
    daily = daily_kpis(kpis, shift_plan if scenario.shifts.solve else None, base.interval_s)
    weekly = weekly_fte(
        daily, scenario.fte_hours_per_week,
        {ch: scenario.channel_cost(ch) for ch in scenario.channels},
    )
    _report(progress, "kpis", 1.0, "done")

    meta = {
        "forecast_key": scenario.forecast_key(),
        "forecast_cached": cache.hits > hits,
        "interval_s": base.interval_s,
        "models": dict(base.models),
        **meta_shifts,
        "warnings": [*inputs.warnings, *plan_warnings(scenario, inputs)],
    }
    return ScenarioResult(
        scenario=scenario,
        forecast=base.contacts.copy(),  # the cached frame stays untouched
        volumes=volumes,
        requirements=requirements,
        shift_plan=shift_plan,
        coverage=coverage,
        kpis_interval=kpis,
        kpis_daily=daily,
        weekly=weekly,
        meta=meta,
    )
