"""Contact rate per order with a delivery lag: contacts = orders x rate.

Model for one channel, on daily totals::

    contacts[t] = L(t) * f[weekday(t)] * sum_{k=0..K} s_k * orders[t - k] + noise

* ``s_k >= 0`` are the delivery-lag shares (contacts from orders placed k days earlier),
  estimated by non-negative least squares (:func:`scipy.optimize.nnls`) over the last year
  with a small second-difference penalty; ``lag_weights = s * rate`` (sum = rate);
* ``L(t)`` is the slowly moving rate level (29-day centred ratio of contacts to lagged
  orders) and ``f`` the weekday factors of the contact day (mean 1, e.g. chat rises at
  weekends); shares, level and factors are fitted by alternating (backfitting);
* the recent *rate* is the level of the last ``level_days`` days and the *drift* the slope
  of the log daily rate over the last ``drift_days`` days; forecasts extrapolate it damped
  (``rate * exp(drift * (1 - phi^h) / (1 - phi))``, phi = 0.98/day, at most ~50 days);
* :func:`rate_season_factors` carries the rate's calendar-month pattern of past years
  (e.g. a December rise) into the forecast when two past years show it;
* ``sigma_log`` is the residual log-sd of daily contacts around the fit and
  ``level_sd(h)`` the spread of the log 28-day rate over ``h`` days in the last year, both
  used for the forecast interval. The rate level moves in rare jumps (a peak, a fix), so
  its spread is the normal-equivalent one at the interval's own level (the ``level``
  quantile of the absolute changes over ``z``), not a root mean square that the few jumps
  dominate.

Event and incident days (labels) are left out of the fit: they are not caused by orders.

References
----------
Lawson & Hanson (1974), *Solving Least Squares Problems*, ch. 23 (NNLS). Weekday factors
by alternating least squares: Hastie, Tibshirani & Friedman, *ESL* 2nd ed., 9.1.1
(backfitting).

Examples
--------
>>> import numpy as np, pandas as pd
>>> ds = pd.date_range("2024-01-01", periods=200, freq="D")
>>> o = pd.Series(1000.0 + 100 * np.sin(np.arange(200)), index=ds)
>>> c = 0.05 * o.shift(2)            # every order makes 0.05 contacts two days later
>>> est = estimate_contact_rate(o, c.dropna(), max_lag=4, smooth=0.0)
>>> round(est.rate, 4), int(np.argmax(est.lag_weights))
(0.05, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.stats import norm

__all__ = ["ContactRate", "ContactRateError", "apply_contact_rate", "daily_noise_log",
           "estimate_contact_rate", "rate_season_factors"]

_PHI = 0.98


class ContactRateError(ValueError):
    """Bad input for contact-rate estimation (too short overlap, negative values)."""


@dataclass(frozen=True)
class ContactRate:
    """Fitted contact-rate model of one channel.

    Attributes
    ----------
    lag_weights : ndarray, shape (K+1,)
        Contacts per order placed k days before, k = 0..K (sum = window-average rate).
    weekday_factors : ndarray, shape (7,)
        Contact-day factors, Monday first, mean 1.
    rate : float
        Recent contact rate per order (share, e.g. 0.042).
    drift_per_day : float
        Slope of the log rate per day (0.001 = +0.1 %/day).
    sigma_log : float
        Residual log-sd of daily contacts around the fit.
    level_sd : ndarray
        ``level_sd[h-1]`` = normal-equivalent sd of the change of the log 28-day rate over
        ``h`` days: the ``level`` quantile of its absolute value divided by
        ``z = Phi^-1(1/2 + level/200)`` (``level`` as given to
        :func:`estimate_contact_rate`).
    """

    lag_weights: np.ndarray
    weekday_factors: np.ndarray
    rate: float
    drift_per_day: float
    sigma_log: float
    level_sd: np.ndarray

    @property
    def lag_shares(self) -> np.ndarray:
        """Share of an order day's contacts arriving k days later (sums to 1)."""
        s = self.lag_weights.sum()
        return self.lag_weights / s if s > 0 else self.lag_weights


def _lag_matrix(x: np.ndarray, max_lag: int) -> np.ndarray:
    """``X[t, k] = x[t - k]`` (NaN before the start)."""
    out = np.full((x.size, max_lag + 1), np.nan)
    for k in range(max_lag + 1):
        out[k:, k] = x[: x.size - k]
    return out


def estimate_contact_rate(
    orders: pd.Series,
    contacts: pd.Series,
    *,
    max_lag: int = 10,
    window_days: int = 365,
    smooth: float = 0.05,
    level_days: int = 28,
    drift_days: int = 91,
    exclude: pd.DatetimeIndex | None = None,
    horizon_days: int = 120,
    level: float = 80,
) -> ContactRate:
    """Estimate lag weights, weekday factors, level, drift and noise of one channel.

    Parameters
    ----------
    orders, contacts : Series
        Daily orders and daily contacts of the channel, indexed by date. Orders must cover
        the ``max_lag`` days before the first contact day used.
    max_lag : int
        Longest delivery lag in days (K).
    window_days : int
        Recent contact days used for the NNLS fit (a year, so that order spikes such as
        sale days identify the lag shape).
    smooth : float
        Weight of a second-difference penalty on the lag weights (0 = plain NNLS).
    level_days, drift_days : int
        Windows for the recent rate level and its drift.
    exclude : DatetimeIndex, optional
        Contact days to leave out (events, incidents, holidays).
    horizon_days : int
        Length of the ``level_sd`` table.
    level : float
        Interval coverage in percent the ``level_sd`` table is matched at (0 < level < 100).

    Returns
    -------
    ContactRate

    Raises
    ------
    ContactRateError
        Fewer than ``2 * (max_lag + 1)`` usable days, or negative values.
    """
    if max_lag < 0:
        raise ContactRateError(f"max_lag must be >= 0, got {max_lag!r}")
    if not 0 < level < 100:
        raise ContactRateError(f"level must be in (0, 100), got {level!r}")
    o = orders.copy()
    o.index = pd.DatetimeIndex(o.index).normalize()
    c = contacts.copy()
    c.index = pd.DatetimeIndex(c.index).normalize()
    if (o < 0).any() or (c < 0).any():
        raise ContactRateError("orders and contacts must be >= 0")
    days = pd.date_range(min(o.index.min(), c.index.min()), c.index.max(), freq="D")
    ov = o.reindex(days).to_numpy(float)
    cv = c.reindex(days).to_numpy(float)
    x = _lag_matrix(ov, max_lag)
    ok = np.isfinite(cv) & np.isfinite(x).all(axis=1)
    if exclude is not None and len(exclude):
        ok &= ~days.isin(pd.DatetimeIndex(exclude).normalize())
    wd = days.day_of_week.to_numpy()
    fit = ok & (days > days[-1] - pd.Timedelta(days=window_days))
    if fit.sum() < 2 * (max_lag + 1):
        raise ContactRateError(
            f"contact rate needs >= {2 * (max_lag + 1)} days with orders {max_lag} days "
            f"before; got {int(fit.sum())}")
    f = np.ones(7)
    lvl_t = np.ones(days.size)
    shares = np.full(max_lag + 1, 1.0 / (max_lag + 1))
    scale = float(np.nanmean(cv[fit])) or 1.0
    pen = smooth * np.diff(np.eye(max_lag + 1), 2, axis=0) if max_lag >= 2 else None
    for _ in range(4):
        # backfitting: lag weights given level and weekday factors, then the level (29-day
        # centred ratio) and weekday factors given the weights
        a = x[fit] * (lvl_t * f[wd])[fit, None] / scale
        b = cv[fit] / scale
        if pen is not None:
            a = np.vstack([a, pen * np.sqrt(fit.sum()) * a.mean()])
            b = np.concatenate([b, np.zeros(pen.shape[0])])
        w, _res = nnls(a, b)
        shares = w / w.sum() if w.sum() > 0 else shares
        base = x @ shares * f[wd]
        num = pd.Series(np.where(ok, cv, np.nan)).rolling(29, center=True, min_periods=7)
        den = pd.Series(np.where(ok, base, np.nan)).rolling(29, center=True, min_periods=7)
        lvl_t = (num.sum() / den.sum()).ffill().bfill().to_numpy()
        fitted = base * lvl_t
        r = np.where(ok & (base > 0), cv / np.where(base > 0, fitted, 1.0), np.nan)
        f_new = np.full(7, np.nan)
        for d in range(7):
            sel = fit & (wd == d) & ok & (base > 0)
            if not sel.any():
                continue
            med = float(np.nanmedian(r[sel]))
            # a small queue without contacts on most days has a median of 0: its weekday
            # takes the ratio of sums instead (0 only for a weekday that never has any)
            den = float(np.nansum(fitted[sel]))
            f_new[d] = med if med > 0 else (float(np.nansum(cv[sel])) / den if den > 0
                                            else np.nan)
        f_new = f * np.where(np.isfinite(f_new), f_new, 1.0)
        if np.isfinite(f_new).all() and f_new.mean() > 0:
            f = f_new / f_new.mean()
    w = shares * float(np.nanmedian(lvl_t[fit]))
    base = x @ shares * f[wd] * lvl_t
    ratio = np.where(ok & (base > 0), cv / np.where(base > 0, base, 1.0), np.nan)
    # a day without contacts (a small queue) has no log ratio: the spread is measured on
    # the days with contacts (their count noise is in it; the intervals add Poisson noise)
    with np.errstate(divide="ignore"):
        lr = np.log(ratio)
    seen = fit & np.isfinite(lr)
    sigma = float(np.std(lr[seen])) if seen.sum() >= 2 else 0.0
    shares = w / w.sum() if w.sum() > 0 else np.full(w.size, 1.0 / w.size)
    eff = x @ shares * f[wd]  # orders "arriving" on each contact day
    recent = ok & (days > days[-1] - pd.Timedelta(days=level_days))
    rate = float(cv[recent].sum() / eff[recent].sum()) if eff[recent].sum() > 0 else w.sum()
    dsel = ok & (days > days[-1] - pd.Timedelta(days=drift_days))
    drift = 0.0
    if dsel.sum() >= 28:
        tt = np.arange(days.size)[dsel].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):  # such days are left out below
            yy = np.log(np.where(eff[dsel] > 0, cv[dsel] / eff[dsel], np.nan))
        good = np.isfinite(yy)
        if good.sum() >= 28:
            drift = float(np.polyfit(tt[good], yy[good], 1)[0])
    # spread of the 28-day rate level over h days ahead in the last year of history (all
    # days: the 28-day sums damp single event days, and peaks are where the level moves);
    # matched at the interval's quantile: z * level_sd covers `level` % of past changes
    allv = np.isfinite(cv) & np.isfinite(eff)
    cs = pd.Series(np.where(allv, cv, np.nan)).rolling(28, min_periods=20).sum().to_numpy()
    es = pd.Series(np.where(allv, eff, np.nan)).rolling(28, min_periods=20).sum().to_numpy()
    lvl = np.log(np.where(es > 0, cs / np.where(es > 0, es, 1.0), np.nan))
    lvl[: max(0, lvl.size - 365)] = np.nan
    q = level / 100
    z = float(norm.ppf(0.5 + q / 2))
    level_sd = np.zeros(horizon_days)
    for h in range(1, horizon_days + 1):
        d = lvl[h:] - lvl[:-h] if h < lvl.size else np.array([])
        d = d[np.isfinite(d)]
        level_sd[h - 1] = float(np.quantile(np.abs(d), q) / z) if d.size >= 10 else np.nan
    level_sd = pd.Series(level_sd).ffill().fillna(0.0).to_numpy()
    return ContactRate(w, f, rate, drift, sigma, level_sd)


def daily_noise_log(series: pd.Series, *, exclude: pd.DatetimeIndex | None = None,
                    window_days: int = 365, period: int = 7) -> float:
    """Day-to-day (independent) log-sd of a daily series such as orders.

    ``e_t = log y_t - (log y_{t-p} + log y_{t+p}) / 2`` removes a level that is locally
    linear and a pattern of period ``p`` (the weekday); for independent noise of sd
    ``sigma``, ``Var e = 1.5 sigma^2``, so ``sigma = 1.4826 MAD(e) / sqrt(1.5)`` (MAD: median
    absolute deviation, robust to the odd outlier). Days where ``t`` or ``t +- p`` is in
    ``exclude`` (events, holidays) or not positive are left out; only the last
    ``window_days`` days are used. Returns 0 with fewer than 28 usable days.

    Examples
    --------
    >>> ds = pd.date_range("2024-01-01", periods=15, freq="D")
    >>> y = pd.Series(np.exp(np.r_[np.zeros(7), 0.1, np.zeros(7)]), index=ds)
    >>> daily_noise_log(y)  # one usable day only
    0.0
    """
    y = series.copy()
    y.index = pd.DatetimeIndex(y.index).normalize()
    if y.empty:
        return 0.0
    days = pd.date_range(y.index.min(), y.index.max(), freq="D")
    v = y.reindex(days).to_numpy(float)
    x = np.log(np.where(v > 0, v, np.nan))
    bad = np.zeros(days.size, bool)
    if exclude is not None and len(exclude):
        bad = days.isin(pd.DatetimeIndex(exclude).normalize())
    e = np.full(days.size, np.nan)
    if days.size > 2 * period:
        e[period:-period] = x[period:-period] - (x[:-2 * period] + x[2 * period:]) / 2
        b = bad[period:-period] | bad[:-2 * period] | bad[2 * period:]
        e[period:-period][b] = np.nan
    e[days <= days[-1] - pd.Timedelta(days=window_days)] = np.nan
    e = e[np.isfinite(e)]
    if e.size < 28:
        return 0.0
    return float(1.4826 * np.median(np.abs(e - np.median(e))) / np.sqrt(1.5))


def _effective_orders(est: ContactRate, orders: pd.Series, days: pd.DatetimeIndex
                      ) -> np.ndarray:
    """``sum_k share_k orders[t-k] * f[weekday(t)]`` for ``days`` (NaN where orders miss)."""
    k = est.lag_weights.size - 1
    need = pd.date_range(days.min() - pd.Timedelta(days=k), days.max(), freq="D")
    ov = orders.copy()
    ov.index = pd.DatetimeIndex(ov.index).normalize()
    x = _lag_matrix(ov.reindex(need).to_numpy(float), k)[k:][need[k:].get_indexer(days)]
    return x @ est.lag_shares * est.weekday_factors[days.day_of_week]


def rate_season_factors(est: ContactRate, orders: pd.Series, contacts: pd.Series,
                        origin: pd.Timestamp, days: pd.DatetimeIndex, *, ref_days: int = 28,
                        max_years: int = 3, min_years: int = 2) -> np.ndarray:
    """Seasonal factor of the contact rate for each of ``days`` from past years.

    For each past year ``j`` with data, the measured rate (contacts / lagged orders) of the
    forecast day's calendar month ``12 j`` months earlier is divided by the rate of the
    ``ref_days`` before ``origin`` shifted back ``364 j`` days; the factor is the geometric
    mean over years (1 where fewer than ``min_years`` years have both). It carries "the
    rate rises in December" from history into the forecast; the recent level stays the
    anchor. One year alone is not trusted by default: a single peak's rate is confounded
    with that year's own incidents and fixes.
    """
    days = pd.DatetimeIndex(days).normalize()
    c = contacts.copy()
    c.index = pd.DatetimeIndex(c.index).normalize()
    hist = pd.date_range(c.index.min(), c.index.max(), freq="D")
    hist = hist[hist >= pd.DatetimeIndex(orders.index).min() + pd.Timedelta(
        days=est.lag_weights.size - 1)]
    if hist.empty:
        return np.ones(days.size)
    eff = pd.Series(_effective_orders(est, orders, hist), index=hist)
    cv = c.reindex(hist)

    def rate(lo: pd.Timestamp, hi: pd.Timestamp) -> float:
        sel = (hist >= lo) & (hist <= hi) & cv.notna().to_numpy() & eff.notna().to_numpy()
        if sel.sum() < 20:
            return np.nan
        return float(cv[sel].sum() / eff[sel].sum())

    origin = pd.Timestamp(origin).normalize()
    months = days.to_period("M")
    logs = np.zeros(days.size)
    count = np.zeros(days.size)
    for j in range(1, max_years + 1):
        ref = rate(origin - pd.Timedelta(days=364 * j + ref_days - 1),
                   origin - pd.Timedelta(days=364 * j))
        if not np.isfinite(ref) or ref <= 0:
            continue
        for mth in months.unique():
            p = mth - 12 * j
            v = rate(p.start_time, p.end_time)
            if np.isfinite(v) and v > 0:
                sel = months == mth
                logs[sel] += np.log(v / ref)
                count[sel] += 1
    ok = count >= max(min_years, 1)
    return np.exp(np.divide(logs, count, out=np.zeros(days.size), where=ok))


def apply_contact_rate(
    est: ContactRate,
    orders: pd.Series,
    days: pd.DatetimeIndex,
    *,
    origin: pd.Timestamp,
    rate: float | pd.Series | None = None,
    orders_sd_log: pd.Series | None = None,
    season: np.ndarray | None = None,
    level: float = 80,
    orders_noise_log: float = 0.0,
) -> pd.DataFrame:
    """Daily contacts ``ds, yhat, yhat_lo, yhat_hi`` for ``days`` from orders x rate.

    Parameters
    ----------
    est : ContactRate
        Fitted model of the channel.
    orders : Series
        Daily orders (history followed by forecast) covering ``days`` and the ``K`` days
        before them.
    days : DatetimeIndex
        Contact days to forecast.
    origin : Timestamp
        Last day of history; the rate level and drift are extrapolated from it.
    rate : float or Series, optional
        Override of the contact rate per order (a share, e.g. 0.065), either one value or a
        Series indexed by ``days`` (per month overrides expanded by the caller; NaN or a
        missing day keeps the estimate on that day). It replaces the level, drift and
        season; lag shares and weekday factors stay. An assumed rate has no level
        uncertainty: on its days the band is the orders and day-to-day spread only.
    orders_sd_log : Series, optional
        Log-sd of the orders forecast per day (0 for history days).
    season : ndarray, optional
        Seasonal rate factors per day (:func:`rate_season_factors`); not applied to an
        override.
    level : float
        Interval coverage in percent.
    orders_noise_log : float
        Part of ``orders_sd_log`` that is independent from day to day (log-sd, e.g. from
        :func:`daily_noise_log`). A contact day sums orders of ``K + 1`` days, so that part
        averages out through the lag (variance ``sum_k s_k^2 noise^2``) while the rest (the
        level error of the orders forecast, shared by neighbouring days) does not
        (sd ``sum_k s_k sd_k``).

    Returns
    -------
    DataFrame
        ``ds, yhat, yhat_lo, yhat_hi`` (contacts per day), plus ``rate``, ``sd_log``
        (``s``) and ``sd_level`` (``s_level``). The band is ``yhat * exp(+-z s)`` with
        ``s^2 = s_orders^2 + sigma_log^2 + s_level(h)^2``.

    Raises
    ------
    ContactRateError
        Orders missing for a needed day.
    """
    from scipy import stats

    days = pd.DatetimeIndex(days).normalize()
    k = est.lag_weights.size - 1
    need = pd.date_range(days.min() - pd.Timedelta(days=k), days.max(), freq="D")
    ov = orders.copy()
    ov.index = pd.DatetimeIndex(ov.index).normalize()
    ov = ov.reindex(need)
    if ov.isna().any():
        miss = ov.index[ov.isna().to_numpy()][0]
        raise ContactRateError(f"orders missing for {miss.date()} (needed for lag {k})")
    x = _lag_matrix(ov.to_numpy(float), k)[k:]
    pos = need[k:].get_indexer(days)
    x = x[pos]
    f = est.weekday_factors[days.day_of_week]
    eff = x @ est.lag_shares * f
    ahead = np.maximum((days - pd.Timestamp(origin).normalize()).days.to_numpy(), 0)
    damp = (1 - _PHI ** ahead) / (1 - _PHI)
    r = est.rate * np.exp(est.drift_per_day * damp)
    if season is not None:
        r = r * np.asarray(season, dtype=float)
    if isinstance(rate, pd.Series):
        given = rate.copy()
        given.index = pd.DatetimeIndex(given.index).normalize()
        given = given.reindex(days).to_numpy(float)
        if np.any(np.isinf(given)):
            raise ContactRateError(f"contact rate must be finite and >= 0, got {rate!r}")
        assumed = ~np.isnan(given)
    elif rate is not None:
        given = np.full(days.size, float(rate))
        assumed = np.ones(days.size, bool)
    else:
        given, assumed = r, np.zeros(days.size, bool)
    r = np.where(assumed, given, r)
    if np.any(~np.isfinite(r)) or np.any(r < 0):
        raise ContactRateError(f"contact rate must be finite and >= 0, got {rate!r}")
    yhat = eff * r
    if orders_sd_log is not None:
        sd = orders_sd_log.copy()
        sd.index = pd.DatetimeIndex(sd.index).normalize()
        sdv = sd.reindex(need).fillna(0.0).to_numpy(float)
        lagged = _lag_matrix(sdv, k)[k:][pos]
        noise = np.minimum(lagged, max(float(orders_noise_log), 0.0))
        common = np.sqrt(np.maximum(lagged ** 2 - noise ** 2, 0.0))
        s_o = np.sqrt((common @ est.lag_shares) ** 2 + noise ** 2 @ est.lag_shares ** 2)
    else:
        s_o = np.zeros(days.size)
    h_idx = np.clip(ahead, 1, est.level_sd.size) - 1
    s_lvl = est.level_sd[h_idx] * ((ahead > 0) & ~assumed)
    s = np.sqrt(s_o ** 2 + est.sigma_log ** 2 + s_lvl ** 2)
    z = stats.norm.ppf(0.5 + level / 200)
    return pd.DataFrame({"ds": days, "yhat": yhat, "yhat_lo": yhat * np.exp(-z * s),
                         "yhat_hi": yhat * np.exp(z * s), "rate": r, "sd_log": s,
                         "sd_level": s_lvl})
