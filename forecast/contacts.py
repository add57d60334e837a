"""Order-driven contact forecast per channel, daily and per interval, with AHT.

Why it is long: the order-driven flow (orders, contact rate with its lag, intraday split,
AHT) and the one path of a scenario's assumptions (`apply_assumptions`) share the cache keys
and the intermediate frames; each step is its own function below.

:func:`forecast_contacts` runs the whole forecasting flow for a date range:

1. history is cut at ``start`` (only data before the forecast period is used);
2. daily orders are forecast with :func:`forecast.volume.forecast_volume` (events as holiday
   effects/uplifts; with ``model="auto"`` the model is chosen once, and the calibration
   backtests below reuse that choice);
3. per channel, :func:`forecast.contact_rate.estimate_contact_rate` learns the delivery-lag
   shares, weekday factors, rate level and drift; contacts per day = lagged orders x rate;
   event days that the rate model cannot explain (sale days, incidents) get the median
   uplift of the same label in history; a scenario's ``contact_rate`` and
   ``order_growth`` are then applied by :func:`apply_assumptions`, the one path the
   planner and the app use too (month keys are calendar months 1..12);
4. days are split into the data's intervals with weekday- and channel-specific profiles
   (:mod:`forecast.intraday`): closed hours stay closed;
5. AHT per channel and interval: the contact-weighted mean AHT of the last 4 weeks per
   time-of-day slot, times the last year's seasonal ratio (AHT of the same calendar month a
   year earlier over the AHT of the same 4 weeks a year earlier). This carries last peak's
   AHT rise into this peak without a model fit; without a year of history the ratio is 1.

The interval of the daily contacts combines the orders interval (log-sd through the lag),
the residual noise of the rate model and the drift of the rate level over the horizon.

Examples
--------
>>> import forecast
>>> p = forecast.sample_paths()
>>> o, c, e = (forecast.load_orders(p.orders), forecast.load_contacts(p.contacts),
...            forecast.load_events(p.events))
>>> fc = forecast_contacts(o, c, e, "2024-10-01", "2024-10-07", model="same_weekday_average")
>>> sorted(fc["unique_id"].unique()), list(fc.columns)
(['chat', 'email', 'voice'], ['unique_id', 'ds', 'yhat', 'yhat_lo', 'yhat_hi', 'aht_s'])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from forecast import intraday
from forecast.cache import ForecastCache
from forecast.contact_rate import (
    ContactRate,
    apply_contact_rate,
    daily_noise_log,
    estimate_contact_rate,
    rate_season_factors,
)
from forecast.frames import BAND, FORECAST
from forecast.volume import day_labels, forecast_volume, holidays_frame

__all__ = ["MIN_HISTORY_DAYS", "ContactsError", "ContactsForecast", "calibration_origins",
           "forecast_aht", "forecast_contacts", "forecast_contacts_detail", "orders_series"]

#: Fewest days of orders and contacts before the forecast start.
MIN_HISTORY_DAYS = 28

RateOverride = float | Mapping[str, float]
Progress = Callable[[float, str], None]


class ContactsError(ValueError):
    """Bad input to :func:`forecast_contacts` (names the parameter and value)."""


@dataclass(frozen=True)
class ContactsForecast:
    """Everything :func:`forecast_contacts_detail` computed.

    Attributes
    ----------
    intervals : DataFrame
        ``unique_id`` (channel), ``ds`` (interval start), ``yhat, yhat_lo, yhat_hi``
        (contacts per interval), ``aht_s`` (seconds); open intervals only.
    daily : DataFrame
        ``unique_id, ds, yhat, yhat_lo, yhat_hi, rate`` contacts per channel and day.
    orders : DataFrame
        ``unique_id`` ("orders"), ``ds, yhat, yhat_lo, yhat_hi`` after ``order_growth``.
    rates : Mapping[str, ContactRate]
        Fitted contact-rate model per channel.
    orders_model : str
        Model used for orders.
    interval_s : int
        Interval length of the split, seconds.
    """

    intervals: pd.DataFrame
    daily: pd.DataFrame
    orders: pd.DataFrame
    rates: Mapping[str, ContactRate]
    orders_model: str
    interval_s: int


def month_values(value, days: pd.DatetimeIndex, what: str) -> np.ndarray:
    """A scenario assumption per day: NaN where not given.

    ``value`` is None, one number for every day, or a mapping calendar month (1..12) ->
    number, the key format of scenario files (``{11: 0.069, 12: 0.064}``).

    Examples
    --------
    >>> days = pd.date_range("2024-10-31", periods=3)
    >>> month_values({11: 0.05}, days, "contact_rate").tolist()
    [nan, 0.05, 0.05]
    """
    days = pd.DatetimeIndex(days)
    out = np.full(days.size, np.nan)
    if value is None:
        return out
    if isinstance(value, Mapping):
        months = days.month.to_numpy()
        for k, v in value.items():
            try:
                m = int(k)
            except (TypeError, ValueError):
                m = 0
            if not 1 <= m <= 12:
                raise ContactsError(f"{what}: month keys are calendar months 1..12 (as in "
                                    f"scenario files, e.g. {{11: 0.05}}), got {k!r}")
            out[months == m] = float(v)
    else:
        try:
            out[:] = float(value)
        except (TypeError, ValueError) as exc:
            raise ContactsError(f"{what} must be a number or a month mapping, got "
                                f"{value!r}") from exc
    if np.any(~np.isnan(out) & ((out < 0) | ~np.isfinite(out))):
        raise ContactsError(f"{what} must be finite and >= 0, got {value!r}")
    return out


def apply_assumptions(
    daily: pd.DataFrame,
    intervals: pd.DataFrame | None,
    orders: pd.DataFrame,
    *,
    contact_rate: Mapping[str, RateOverride | None] | None = None,
    total_contact_rate: RateOverride | None = None,
    order_growth: RateOverride = 0.0,
    automation: Mapping[str, RateOverride] | None = None,
    level: float = 80,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """A scenario's demand assumptions on a base contacts forecast: the one path.

    The planner, the app and :func:`forecast_contacts_detail` all turn contact rate, order
    growth and automation into contacts here, so one scenario gives one set of contacts.

    Per channel and day (months are calendar months 1..12):

    * an assumed rate ``R`` (the channel's own, else ``total_contact_rate`` shared out in
      the learned channel mix of that day, ``R_c = R_total r_c / sum_k r_k``) replaces the
      learned rate ``r``: ``yhat = yhat_base R / r`` (contacts are the lagged, weekday- and
      event-adjusted orders times the rate); its band is the orders and day-to-day spread
      around that rate, without the rate-level term and without calibration
      (``sd = sqrt(sd_log^2 - sd_level^2)``): the assumption is not tested on history;
    * days with the learned rate keep their (calibrated) band;
    * ``order_growth`` (0.1 = +10 %) multiplies the orders and the contacts of its days
      with their band;
    * ``automation`` (share deflected by bots) multiplies contacts by ``1 - a``.

    Interval rows are scaled by their day's factor (``yhat``) and the day's band ratios
    (``yhat_lo``, ``yhat_hi``); their shares within the day stay.

    Parameters
    ----------
    daily : DataFrame
        ``unique_id, ds, yhat, yhat_lo, yhat_hi, rate`` and optionally ``sd_log``,
        ``sd_level`` (log-sd of the band before calibration and of its rate-level term;
        without them an assumed rate keeps the base band's relative width).
    intervals : DataFrame or None
        ``unique_id, ds, yhat, yhat_lo, yhat_hi[, aht_s]`` of the same days.
    orders : DataFrame
        ``ds, yhat, yhat_lo, yhat_hi`` daily orders forecast.
    contact_rate : mapping, optional
        Channel -> rate per order or {month: rate}.
    total_contact_rate : float or mapping, optional
        Contacts per order over all channels of ``daily``.
    order_growth : float or mapping
        Relative change of orders (and of the contacts they make).
    automation : mapping, optional
        Channel -> deflected share or {month: share}.
    level : float
        Band coverage in percent.

    Returns
    -------
    (daily, intervals, orders)
        New frames; ``daily["rate"]`` is the rate in force, ``daily["assumed"]`` marks
        assumed days, ``daily["automation"]`` the deflected share (contacts are after it).

    Raises
    ------
    ContactsError
        Unknown channel, a month key outside 1..12, negative values.
    """
    d = daily.copy().reset_index(drop=True)
    days = pd.DatetimeIndex(d["ds"])
    channels = sorted(d["unique_id"].astype(str).unique())
    for name, given in (("contact_rate", contact_rate), ("automation", automation)):
        unknown = set(given or {}) - set(channels)
        if unknown:
            raise ContactsError(f"{name} names unknown channel(s) {sorted(unknown)}; "
                                f"channels are {channels}")
    uid = d["unique_id"].astype(str).to_numpy()
    r = d["rate"].to_numpy(float)
    growth = 1.0 + np.nan_to_num(month_values(order_growth, days, "order_growth"))
    if np.any(growth <= 0):
        raise ContactsError(f"order_growth must be > -1, got {order_growth!r}")
    total = month_values(total_contact_rate, days, "total_contact_rate")
    r_sum = pd.Series(r).groupby(days).transform("sum").to_numpy()
    target = np.where(r_sum > 0, total * r / np.where(r_sum > 0, r_sum, 1.0), total)
    auto = np.zeros(len(d))
    for ch in channels:
        sel = uid == ch
        own = month_values((contact_rate or {}).get(ch), days[sel], f"contact_rate[{ch!r}]")
        target[sel] = np.where(np.isnan(own), target[sel], own)
        a = month_values((automation or {}).get(ch), days[sel], f"automation[{ch!r}]")
        if np.any(a > 1):
            raise ContactsError(f"automation[{ch!r}] must be a share in 0..1, got "
                                f"{(automation or {}).get(ch)!r}")
        auto[sel] = np.nan_to_num(a)
    assumed = ~np.isnan(target)
    z = stats.norm.ppf(0.5 + level / 200)
    y0 = d["yhat"].to_numpy(float)
    lo0, hi0 = d["yhat_lo"].to_numpy(float), d["yhat_hi"].to_numpy(float)
    ratio = np.where(assumed, np.divide(np.nan_to_num(target), r, out=np.zeros(len(d)),
                                        where=r > 0), 1.0)
    y1 = y0 * ratio
    if "sd_log" in d.columns and "sd_level" in d.columns:
        sd = np.sqrt(np.maximum(d["sd_log"].to_numpy(float) ** 2
                                - d["sd_level"].to_numpy(float) ** 2, 0.0))
        lo1 = np.where(assumed, y1 * np.exp(-z * sd), lo0 * ratio)
        hi1 = np.where(assumed, y1 * np.exp(z * sd), hi0 * ratio)
    else:
        lo1, hi1 = lo0 * ratio, hi0 * ratio
    f = growth * (1.0 - auto)
    d["yhat"], d["yhat_lo"], d["yhat_hi"] = y1 * f, lo1 * f, hi1 * f
    d["rate"] = np.where(assumed, target, r)
    d["assumed"] = assumed
    d["automation"] = auto
    o = orders.copy()
    og = 1.0 + np.nan_to_num(month_values(order_growth, pd.DatetimeIndex(o["ds"]),
                                          "order_growth"))
    for col in BAND:
        if col in o.columns:
            o[col] = o[col].to_numpy(float) * og
    iv = None
    if intervals is not None:
        iv = intervals.copy()
        key = pd.MultiIndex.from_arrays([d["unique_id"].astype(str), days.normalize()])
        ik = pd.MultiIndex.from_arrays([iv["unique_id"].astype(str),
                                        pd.DatetimeIndex(iv["ds"]).normalize()])
        pos = key.get_indexer(ik)
        if np.any(pos < 0):
            raise ContactsError("intervals hold days or channels that the daily forecast "
                                "does not")

        def fac(new, old):
            return np.divide(new, old, out=np.zeros_like(new), where=old > 0)[pos]

        iv["yhat"] = iv["yhat"].to_numpy(float) * fac(d["yhat"].to_numpy(), y0)
        iv["yhat_lo"] = iv["yhat_lo"].to_numpy(float) * fac(d["yhat_lo"].to_numpy(), lo0)
        iv["yhat_hi"] = iv["yhat_hi"].to_numpy(float) * fac(d["yhat_hi"].to_numpy(), hi0)
        iv["yhat_lo"] = np.minimum(iv["yhat_lo"], iv["yhat"])
        iv["yhat_hi"] = np.maximum(iv["yhat_hi"], iv["yhat"])
    return d, iv, o


def forecast_aht(contacts: pd.DataFrame, intervals: pd.DataFrame, *, n_weeks: int = 4,
                 interval_s: int | None = None) -> np.ndarray:
    """AHT (seconds) for each row of ``intervals`` (``unique_id, ds``) from the history.

    Recent level: contact-weighted mean ``aht_s`` of the last ``n_weeks`` weeks per channel
    and time-of-day slot (channel mean where a slot had no contacts). Seasonal ratio: the
    same channel's weighted AHT in the forecast row's calendar month one year earlier over
    its weighted AHT in the same ``n_weeks`` weeks one year earlier (1 without that history).
    ``interval_s`` floors history timestamps to the forecast's interval length.
    Returns NaN for every row when the history has no ``aht_s``.
    """
    out = np.full(len(intervals), np.nan)
    if "aht_s" not in contacts.columns or intervals.empty:
        return out
    # rows with an AHT and contacts, as positions (no copy of the history); each
    # channel's rows by one grouping (not a mask over the whole history per channel),
    # timestamps floored once
    a_all = contacts["aht_s"].to_numpy(float)
    w_all = contacts["contacts"].to_numpy(float)
    keep = np.flatnonzero(~np.isnan(a_all) & (w_all > 0))
    if keep.size == 0:
        return out
    a_all, w_all = a_all[keep], w_all[keep]
    ds_all = pd.DatetimeIndex(contacts["ds"].to_numpy()[keep])
    last = ds_all.max()
    codes, names = pd.factorize(contacts["channel"])
    hist_rows = pd.Series(codes[keep]).groupby(codes[keep], sort=False).indices
    hist_rows = {names[k]: v for k, v in hist_rows.items() if k >= 0}
    if interval_s:
        ds_all = ds_all.floor(f"{int(interval_s)}s")
    ids = intervals["unique_id"]
    fc_rows = ids.groupby(ids, sort=False, observed=True).indices
    fc_ds = pd.DatetimeIndex(intervals["ds"])
    ya_lo, ya_hi = last - pd.Timedelta(weeks=52 + n_weeks), last - pd.Timedelta(weeks=52)
    for ch, at in fc_rows.items():
        pos = hist_rows.get(ch)
        if pos is None or pos.size == 0:
            continue
        ds_h = ds_all[pos]
        w = w_all[pos]
        a = a_all[pos]
        rds = fc_ds[at]
        out[at] = _slot_level(ds_h, w, a, rds, last, n_weeks) * _season_ratio(
            ds_h, w, a, rds, ya_lo, ya_hi)
    return out


def _wmean(w: np.ndarray, a: np.ndarray) -> float:
    """Contact-weighted mean AHT of the rows given (NaN without contacts)."""
    return float((w * a).sum() / w.sum()) if w.sum() > 0 else np.nan


def _slot_level(ds_h: pd.DatetimeIndex, w: np.ndarray, a: np.ndarray,
                rds: pd.DatetimeIndex, last: pd.Timestamp, n_weeks: int) -> np.ndarray:
    """Per forecast row: the weighted AHT of its time-of-day slot over the last ``n_weeks``
    weeks of history, else of all those weeks. Rows of a slot are taken in history order
    (a stable sort), so the sums are those of a mask over the history."""
    recent = np.flatnonzero(ds_h > last - pd.Timedelta(weeks=n_weeks))
    level = _wmean(w[recent], a[recent])
    tod = (ds_h - ds_h.normalize()).total_seconds().to_numpy()[recent]
    rtod = (rds - rds.normalize()).total_seconds().to_numpy()
    slot_level = np.full(rds.size, level)
    order = recent[np.argsort(tod, kind="stable")]
    tod_sorted = np.sort(tod, kind="stable")
    slots, inverse = np.unique(rtod, return_inverse=True)
    lo = np.searchsorted(tod_sorted, slots, side="left")
    hi = np.searchsorted(tod_sorted, slots, side="right")
    for i in range(slots.size):
        sel = order[lo[i]:hi[i]]
        v = _wmean(w[sel], a[sel])
        if np.isfinite(v):
            slot_level[inverse == i] = v
    return slot_level


def _season_ratio(ds_h: pd.DatetimeIndex, w: np.ndarray, a: np.ndarray,
                  rds: pd.DatetimeIndex, ya_lo: pd.Timestamp, ya_hi: pd.Timestamp
                  ) -> np.ndarray:
    """Per forecast row: the weighted AHT of its calendar month a year earlier over that
    of the ``ya_lo..ya_hi`` window a year earlier (1 without that history)."""
    ratio = np.ones(rds.size)
    sel = (ds_h > ya_lo) & (ds_h <= ya_hi)
    base_ly = _wmean(w[sel], a[sel])
    if not np.isfinite(base_ly):
        return ratio
    months = rds.to_period("M")
    uniq, inverse = np.unique(months.asi8, return_inverse=True)
    for i, ordinal in enumerate(uniq):
        p = pd.Period(ordinal=int(ordinal), freq="M") - 12
        sel = (ds_h >= p.start_time) & (ds_h <= p.end_time)
        v = _wmean(w[sel], a[sel])
        if np.isfinite(v):
            ratio[inverse == i] = v / base_ly
    return ratio


def forecast_contacts_detail(
    orders: pd.DataFrame,
    contacts: pd.DataFrame,
    events: pd.DataFrame | None,
    start,
    end,
    *,
    interval_s: int | None = None,
    model: str = "auto",
    level: float = 80,
    contact_rate: Mapping[str, RateOverride] | None = None,
    order_growth: RateOverride = 0.0,
    max_lag: int = 10,
    country: str | None = None,
    progress: Progress | None = None,
    cache: ForecastCache | None = None,
    seed: int = 0,
    calibrate: bool = True,
    rate_seasonality: bool = True,
    _split: bool = True,
) -> ContactsForecast:
    """Order-driven forecast of contacts per channel for ``start..end`` (inclusive dates).

    The steps of the module docstring: the history before ``start`` (1), the orders
    forecast (2), per channel the contact rate and the daily contacts (3), their band
    calibrated on backtests (``calibrate``), the intraday split (4) and the AHT (5). With
    ``contact_rate`` or ``order_growth`` the base forecast comes first, then
    :func:`apply_assumptions`.

    Parameters
    ----------
    orders : DataFrame
        Orders contract ``ds, orders`` (daily).
    contacts : DataFrame
        Contacts contract ``ds, channel, contacts[, aht_s]`` at one interval length.
    events : DataFrame or None
        Events contract ``ds, event[, lower_window, upper_window]`` (past and future).
    start, end : date-like
        First and last forecast day. Only history before ``start`` is used.
    interval_s : int, optional
        Interval length of the output in seconds; default: the contacts' own interval.
    model : str
        Orders model (a :data:`forecast.models.MODELS` key or ``"auto"``).
    level : float
        Interval coverage in percent.
    contact_rate : mapping, optional
        Per channel, a contact rate per order (share, e.g. ``{"chat": 0.03}``) or a mapping
        calendar month (1..12) -> rate (``{"chat": {11: 0.035}}``, the key format of
        scenario files); months not given keep the estimate. Applied by
        :func:`apply_assumptions`, the one path of scenario assumptions.
    order_growth : float or mapping
        Relative change of the forecast orders (0.1 = +10%), or month -> change.
    max_lag : int
        Longest delivery lag in days.
    country : str, optional
        Market holidays added to the events (e.g. ``"RU"``).
    progress : callable, optional
        ``progress(fraction_done, message)``.
    cache : ForecastCache, optional
        Result cache keyed by all inputs.
    seed : int
        Seed for sampling-based intervals.
    rate_seasonality : bool
        Multiply the recent rate by its seasonal factor from past years
        (:func:`forecast.contact_rate.rate_season_factors`), e.g. a December rise.
    calibrate : bool
        Calibrate each channel's daily interval on rolling-origin backtests of this same
        procedure (quarterly origins over the year before ``start``, each with a year of
        history before it: :func:`calibration_origins`), rescaling the band only
        where those windows show a miscalibration beyond their sampling error
        (:func:`forecast.backtest.window_calibration_factor`); skipped without such
        origins.

    Returns
    -------
    ContactsForecast

    Raises
    ------
    ContactsError
        Missing columns, ``end < start``, unknown channel in ``contact_rate``, negative
        rates, or no history before ``start``.
    """
    start, end = _check_inputs(orders, contacts, start, end)
    key = None
    if cache is not None:
        key = cache.key("forecast_contacts", orders, contacts, events, start, end, interval_s,
                        model, level, contact_rate, order_growth, max_lag, country, seed,
                        calibrate, rate_seasonality, _split)
        hit = cache.get(key)
        if hit is not None:
            if progress is not None:
                progress(1.0, "contacts forecast from cache")
            return hit

    def report(frac: float, msg: str) -> None:
        if progress is not None:
            progress(frac, msg)

    if contact_rate or np.any(np.nan_to_num(month_values(order_growth, pd.date_range(
            start, end), "order_growth")) != 0):
        # the one path of scenario assumptions: the base forecast, then apply_assumptions
        base = forecast_contacts_detail(
            orders, contacts, events, start, end, interval_s=interval_s, model=model,
            level=level, max_lag=max_lag, country=country, progress=progress, cache=cache,
            seed=seed, calibrate=calibrate, rate_seasonality=rate_seasonality,
            _split=_split)
        daily, iv, ofc = apply_assumptions(
            base.daily, base.intervals if _split else None, base.orders,
            contact_rate=contact_rate, order_growth=order_growth, level=level)
        daily = daily.drop(columns=["assumed", "automation"])
        return _stored(cache, key, ContactsForecast(iv if _split else daily, daily, ofc,
                                                    base.rates, base.orders_model,
                                                    base.interval_s))

    o, c, interval_s = _history_before(orders, contacts, start, interval_s)
    if _split and not calibrate and cache is not None:
        # the same forecast by day may be cached already (the band calibration's
        # backtests, made for the same origin): only the intraday split is left to do
        # (the daily forecast does not depend on the interval length)
        daily_only = cache.get(cache.key(
            "forecast_contacts", orders, contacts, events, start, end, None, model, level,
            contact_rate, order_growth, max_lag, country, seed, False, rate_seasonality,
            False))
        if daily_only is not None:
            years = range(pd.to_datetime(o["ds"]).min().year - 1, end.year + 2)
            labels = day_labels(holidays_frame(events, country, years))
            report(0.92, "intraday split")
            intervals = _intervals_with_aht(daily_only.daily, c, interval_s, level, labels)
            return _stored(cache, key, ContactsForecast(
                intervals, daily_only.daily, daily_only.orders, daily_only.rates,
                daily_only.orders_model, int(interval_s)))
    days = pd.date_range(start, end, freq="D")
    fo = _forecast_orders(o, end, model=model, events=events, level=level, country=country,
                          seed=seed, cache=cache, report=report)
    years = range(pd.to_datetime(o["ds"]).min().year - 1, end.year + 2)
    labels = day_labels(holidays_frame(events, country, years))
    daily_hist = (c.groupby([c["ds"].dt.normalize(), "channel"])["contacts"].sum()
                  .unstack(fill_value=0.0).astype(float))
    channels = sorted(c["channel"].astype(str).unique())
    daily, rates = _daily_contacts(fo, daily_hist, channels, labels, days, start,
                                   max_lag=max_lag,
                                   level=level, rate_seasonality=rate_seasonality,
                                   report=report)
    if calibrate:
        report(0.9, "calibrating intervals")
        # the backtests calibrate the estimate, not a scenario's assumptions: a past window
        # given this scenario's rate or growth would only measure how far those are from
        # that window's own history
        # the orders model chosen here is reused at every origin (its selection is not
        # run again: the orders band is calibrated on the selection's own windows)
        kw = dict(model=fo.model, level=level, max_lag=max_lag, country=country, seed=seed,
                  calibrate=False, rate_seasonality=rate_seasonality, cache=cache,
                  _split=False)
        daily = _calibrate(daily, orders, contacts, events, start, end, daily_hist, kw, level,
                           {})  # assumed: no days (assumptions come after)
    if not _split:
        return _stored(cache, key,
                       ContactsForecast(daily, daily, fo.forecast, rates, fo.model, 86400))
    report(0.92, "intraday split")
    intervals = _intervals_with_aht(daily, c, interval_s, level, labels)
    result = _stored(cache, key, ContactsForecast(intervals, daily, fo.forecast, rates,
                                                  fo.model, int(interval_s)))
    report(1.0, "done")
    return result


def _check_inputs(orders: pd.DataFrame, contacts: pd.DataFrame, start,
                  end) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The columns the forecast reads, and ``start <= end`` as normalised timestamps."""
    for name, frame, cols in (("orders", orders, ("ds", "orders")),
                              ("contacts", contacts, ("ds", "channel", "contacts"))):
        for col in cols:
            if col not in frame.columns:
                raise ContactsError(f"{name} has no column {col!r}")
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise ContactsError(f"end {end.date()} is before start {start.date()}")
    return start, end


def _stored(cache: ForecastCache | None, key, result: ContactsForecast) -> ContactsForecast:
    if cache is not None and key is not None:
        cache.put(key, result)
    return result


def _history_before(orders: pd.DataFrame, contacts: pd.DataFrame, start: pd.Timestamp,
                    interval_s: int | None) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Step 1: orders and contacts before ``start`` (at least :data:`MIN_HISTORY_DAYS`
    of both) and the interval length (default: the contacts' own, at most a day)."""
    o = orders[pd.to_datetime(orders["ds"]) < start]
    c = contacts[pd.to_datetime(contacts["ds"]) < start].copy()
    if o.empty or c.empty:
        raise ContactsError(f"no orders/contacts history before start {start.date()}")
    first = max(pd.to_datetime(o["ds"]).min(), pd.to_datetime(c["ds"]).min()).normalize()
    if (start - first).days < MIN_HISTORY_DAYS:
        raise ContactsError(
            f"only {(start - first).days} days of orders and contacts history before "
            f"{start.date()} (from {first.date()}); the forecast needs at least "
            f"{MIN_HISTORY_DAYS} (four weeks: weekday pattern and delivery lag). Start the "
            "plan later or load a longer history.")
    c["ds"] = pd.to_datetime(c["ds"])
    if interval_s is None:
        diffs = np.diff(np.unique(c["ds"].to_numpy().astype("datetime64[s]").astype(np.int64)))
        interval_s = int(np.gcd.reduce(diffs[diffs > 0])) if diffs.size else 86400
        interval_s = min(interval_s, 86400)
    return o, c, interval_s


def orders_series(orders: pd.DataFrame, end) -> tuple[pd.DataFrame, str]:
    """The orders history as :func:`forecast_volume` takes it, and the horizon to ``end``.

    ``orders`` are the loader's ``ds, orders`` rows the forecast sees (before its start);
    returns ``(unique_id "orders", ds, y)`` and the horizon in days from their last day
    to ``end`` (inclusive), e.g. ``"92D"``: the one rule of the orders forecast inside
    :func:`forecast_contacts_detail`, shared by whatever plans that forecast elsewhere.

    Examples
    --------
    >>> o = pd.DataFrame({"ds": ["2024-09-29", "2024-09-30"], "orders": [10, 12]})
    >>> oh, horizon = orders_series(o, pd.Timestamp("2024-10-31"))
    >>> horizon, oh["y"].tolist()
    ('31D', [10.0, 12.0])
    """
    oh = pd.DataFrame({"unique_id": "orders", "ds": pd.to_datetime(orders["ds"]),
                       "y": orders["orders"].astype(float)})
    last = oh["ds"].max().normalize()
    return oh, f"{(pd.Timestamp(end).normalize() - last).days}D"


@dataclass(frozen=True)
class _Orders:
    """The orders forecast and what the contact rate reads from it."""

    forecast: pd.DataFrame  # unique_id "orders", ds, yhat, yhat_lo, yhat_hi
    model: str  # the orders model used
    history: pd.Series  # daily orders before start
    path: pd.Series  # history then forecast, every day, gaps interpolated
    sd_log: pd.Series  # log-sd of the forecast's band per day


def _forecast_orders(o: pd.DataFrame, end: pd.Timestamp, *, model: str, events, level: float,
                     country: str | None, seed: int, cache: ForecastCache | None,
                     report: Progress) -> _Orders:
    """Step 2: daily orders forecast up to ``end`` with :func:`forecast_volume`."""
    report(0.05, "forecasting orders")
    oh, horizon = orders_series(o, end)
    ofc = forecast_volume(oh, horizon, "D", model=model, events=events,
                          level=level, country=country, seed=seed, cache=cache,
                          progress=lambda f, m: report(0.05 + 0.6 * f, m))
    orders_model = ofc.attrs.get("models", {}).get("orders", model)
    z = stats.norm.ppf(0.5 + level / 200)
    o_hist = oh.set_index("ds")["y"]
    o_all = pd.concat([o_hist, ofc.set_index("ds")["yhat"]])
    o_all = o_all[~o_all.index.duplicated(keep="first")].sort_index()
    full = pd.date_range(o_all.index.min(), o_all.index.max(), freq="D")
    o_all = o_all.reindex(full).interpolate(limit_direction="both")
    sd = np.log(np.maximum(ofc["yhat_hi"], 1e-9) / np.maximum(ofc["yhat_lo"], 1e-9)) / (2 * z)
    o_sd = pd.Series(sd.to_numpy(), index=pd.DatetimeIndex(ofc["ds"]))
    return _Orders(ofc, orders_model, o_hist, o_all, o_sd)


def _daily_contacts(fo: _Orders, daily_hist: pd.DataFrame, channels: list[str], labels,
                    days: pd.DatetimeIndex, start: pd.Timestamp, *, max_lag: int,
                    level: float, rate_seasonality: bool,
                    report: Progress) -> tuple[pd.DataFrame, dict[str, ContactRate]]:
    """Step 3: per channel, the contact rate learned on history, lagged orders x rate over
    ``days`` and the uplift of event days; the daily frame and the fitted rates."""
    o_noise = daily_noise_log(fo.history, exclude=labels.index)
    parts, rates = [], {}
    for i, ch in enumerate(channels):
        report(0.7 + 0.2 * i / len(channels), f"contact rate {ch}")
        est = estimate_contact_rate(fo.history, daily_hist[ch], max_lag=max_lag,
                                    exclude=labels.index, horizon_days=max(len(days) + 30, 60),
                                    level=level)
        rates[ch] = est
        season = (rate_season_factors(est, fo.history, daily_hist[ch],
                                      start - pd.Timedelta(days=1), days)
                  if rate_seasonality else None)
        d = apply_contact_rate(est, fo.path, days, origin=start - pd.Timedelta(days=1),
                               orders_sd_log=fo.sd_log, season=season,
                               level=level, orders_noise_log=o_noise)
        d = _event_uplift(d, est, fo.history, daily_hist[ch], labels, max_lag)
        d.insert(0, "unique_id", ch)
        parts.append(d)
    return pd.concat(parts, ignore_index=True), rates


def _intervals_with_aht(daily: pd.DataFrame, contacts: pd.DataFrame, interval_s: int,
                        level: float, labels=None) -> pd.DataFrame:
    """Steps 4 and 5: daily contacts split into intervals, with their AHT.

    Parameters
    ----------
    daily : DataFrame
        ``unique_id, ds, yhat, yhat_lo, yhat_hi`` contacts per channel and day.
    contacts : DataFrame
        History, contacts contract ``ds, channel, contacts[, aht_s]`` (``ds`` as
        timestamps).
    interval_s : int
        Interval length in seconds; a day or more keeps the daily rows.
    level : float
        Band coverage in percent.
    labels : Series, optional
        Event label per day (:func:`forecast.volume.day_labels`), kept out of the profiles.

    Returns
    -------
    DataFrame
        ``unique_id, ds, yhat, yhat_lo, yhat_hi, aht_s``: the day's volume shared out with
        :func:`forecast.intraday.split_intraday` (closed hours stay closed) and the AHT of
        :func:`forecast_aht`.
    """
    # the channel as a category: one small code per row, not a string object per row
    hist_long = pd.DataFrame({"unique_id": pd.Categorical(contacts["channel"].astype(str)),
                              "ds": contacts["ds"].to_numpy(),
                              "y": contacts["contacts"].to_numpy(float)})
    if interval_s >= 86400:
        intervals = daily[list(FORECAST)].copy()
    else:
        intervals = intraday.split_intraday(daily, hist_long, interval_s, level, labels=labels)
    intervals["aht_s"] = forecast_aht(contacts, intervals, interval_s=interval_s)
    return intervals.reset_index(drop=True)


def calibration_origins(start: pd.Timestamp, first: pd.Timestamp, *, every_months: int = 3,
                        lookback_months: int = 12, min_history_days: int = 365
                        ) -> list[pd.Timestamp]:
    """Backtest origins for the interval calibration of a forecast starting at ``start``.

    Every ``every_months`` months back from ``start`` over ``lookback_months`` months,
    oldest first, keeping the origins with at least ``min_history_days`` of history since
    ``first`` (so each backtest measures its spreads on a year of data, as the forecast
    does). Quarterly origins give each season one window (the peak included), so that
    calm off-peak windows alone cannot narrow a peak forecast's band; each origin costs
    one forecast (about a second on the sample), hence four by default.

    Examples
    --------
    >>> [d.strftime("%Y-%m-%d") for d in calibration_origins(pd.Timestamp("2024-10-01"),
    ...                                                      pd.Timestamp("2023-01-01"))]
    ['2024-01-01', '2024-04-01', '2024-07-01']
    """
    start, first = pd.Timestamp(start).normalize(), pd.Timestamp(first).normalize()
    out = [start - pd.DateOffset(months=m)
           for m in range(every_months, lookback_months + 1, every_months)]
    return sorted(s0 for s0 in out if (s0 - first).days >= min_history_days)


def _calibrate(daily, orders, contacts, events, start, end, daily_hist, kw, level, assumed):
    """Scale each channel's daily band by its factor on rolling-origin backtests.

    Each origin of :func:`calibration_origins` is forecast by this same procedure from the
    history before it, over the forecast's length (cut at ``start``);
    :func:`forecast.backtest.window_calibration_factor` then rescales the band only where
    those windows together show it is off by more than their own sampling error. Days whose
    rate the caller assumed (``assumed[channel]``, a mask over ``start..end``) keep their
    band: it is conditional on that rate, which the backtests do not test.
    """
    from forecast.backtest import scale_interval, window_calibration_factor

    span = end - start
    last = start - pd.Timedelta(days=1)
    act = daily_hist.stack().rename("y").reset_index()
    act.columns = ["ds", "unique_id", "y"]
    pieces = []
    for s0 in calibration_origins(start, daily_hist.index.min()):
        bt = forecast_contacts_detail(orders, contacts, events, s0, min(s0 + span, last),
                                      **kw).daily
        pieces.append(bt.merge(act, on=["unique_id", "ds"], how="inner").assign(origin=s0))
    if not pieces:
        return daily
    bt = pd.concat(pieces, ignore_index=True)
    out = daily.copy()
    for ch, g in bt.groupby("unique_id"):
        k = window_calibration_factor(g["y"], g["yhat"], g["yhat_lo"], g["yhat_hi"],
                                      g["origin"], level)
        sel = (out["unique_id"] == ch).to_numpy().copy()
        if ch in assumed:
            sel[np.flatnonzero(sel)[assumed[ch]]] = False
        lo, hi = scale_interval(out.loc[sel, "yhat"], out.loc[sel, "yhat_lo"],
                                out.loc[sel, "yhat_hi"], k)
        out.loc[sel, "yhat_lo"], out.loc[sel, "yhat_hi"] = lo, hi
    return out


def _event_uplift(d: pd.DataFrame, est: ContactRate, orders: pd.Series, contacts: pd.Series,
                  labels: pd.Series, max_lag: int) -> pd.DataFrame:
    """Multiply labelled forecast days by the median actual/fitted ratio of their label.

    The rate model already carries order spikes into contacts through the lag; this catches
    what orders do not explain (incidents, holidays closing the centre, contact-side rushes).
    """
    if labels.empty:
        return d
    hist_days = pd.DatetimeIndex(contacts.index).normalize()
    lab_days = hist_days[hist_days.isin(labels.index)]
    lab_days = lab_days[lab_days >= orders.index.min() + pd.Timedelta(days=max_lag)]
    if lab_days.empty:
        return d
    fitted = apply_contact_rate(est, orders, lab_days, origin=lab_days.max(),
                                rate=est.rate).set_index("ds")["yhat"]
    # the fitted level is the recent rate; rescale by the local rate around each day
    ratio = contacts.reindex(lab_days).to_numpy(float) / fitted.to_numpy()
    local = _local_rate_ratio(est, orders, contacts, lab_days)
    r = pd.Series(ratio / local, index=lab_days)
    med = r.groupby(labels.reindex(lab_days).to_numpy()).median()
    flab = labels.reindex(pd.DatetimeIndex(d["ds"])).to_numpy(object)
    mult = np.array([med.get(x, 1.0) if x is not None and pd.notna(x) else 1.0 for x in flab])
    mult = np.where(np.isfinite(mult), mult, 1.0)
    out = d.copy()
    for col in BAND:
        out[col] = out[col].to_numpy() * mult
    return out


def _local_rate_ratio(est: ContactRate, orders: pd.Series, contacts: pd.Series,
                      lab_days: pd.DatetimeIndex) -> np.ndarray:
    """Ratio of the 4-week actual/fitted level around each day (labelled days excluded).

    Where a 4-week window holds too few unlabelled days (a two-week event such as a
    pre-New-Year rush running into the January holidays), the level is interpolated in time
    between the nearest days that have one, not assumed equal to the recent level.
    """
    days = pd.date_range(lab_days.min() - pd.Timedelta(days=14),
                         min(lab_days.max() + pd.Timedelta(days=14), contacts.index.max()),
                         freq="D")
    days = days[days >= orders.index.min() + pd.Timedelta(days=est.lag_weights.size - 1)]
    fit = apply_contact_rate(est, orders, days, origin=days.max(), rate=est.rate)
    act = contacts.reindex(days).to_numpy(float)
    ok = ~days.isin(lab_days) & np.isfinite(act)
    num = pd.Series(np.where(ok, act, np.nan), index=days).rolling(29, center=True,
                                                                   min_periods=7).sum()
    den = pd.Series(np.where(ok, fit["yhat"].to_numpy(), np.nan), index=days).rolling(
        29, center=True, min_periods=7).sum()
    loc = num / den
    loc = np.log(loc.where(np.isfinite(loc) & (loc > 0)))
    if loc.notna().any():
        loc = np.exp(loc.interpolate(method="time", limit_direction="both"))
    loc = loc.reindex(lab_days).to_numpy(float)
    return np.where(np.isfinite(loc) & (loc > 0), loc, 1.0)


def forecast_contacts(
    orders: pd.DataFrame,
    contacts: pd.DataFrame,
    events: pd.DataFrame | None,
    start,
    end,
    **kwargs,
) -> pd.DataFrame:
    """Interval forecast per channel: ``unique_id, ds, yhat, yhat_lo, yhat_hi, aht_s``.

    Same parameters as :func:`forecast_contacts_detail` (keyword options: ``interval_s``,
    ``model``, ``level``, ``contact_rate``, ``order_growth``, ``max_lag``, ``country``,
    ``progress``, ``cache``, ``seed``); returns its ``intervals`` frame.
    """
    return forecast_contacts_detail(orders, contacts, events, start, end, **kwargs).intervals
