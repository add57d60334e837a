"""Forecasting model adapters behind one signature.

Every adapter has the signature ``adapter(history, future, level, *, season_length, **options)``
and returns a forecast frame with columns ``ds, yhat, yhat_lo, yhat_hi`` for one series.

* ``history`` is a frame ``ds, y`` for one series on its *open grid*: consecutive open steps
  (e.g. days the centre works), gaps already imputed, no NaN, ``y >= 0``.
* ``future`` is the ``DatetimeIndex`` of the open steps to forecast (the horizon).
* ``level`` is the nominal coverage of the interval in percent (80 means 10%..90%).
* ``season_length`` is the number of open steps in one week (7 for a daily series open
  every day, 5 for weekdays only).

Adapters live in the plain dict :data:`MODELS`; :func:`forecast.volume.forecast_volume`
dispatches on it. The baselines (``seasonal_naive``, ``same_weekday_average``) are what
planners do today; their intervals are empirical quantiles of their own past errors at the
same number of weeks ahead. ``ets`` and ``sarimax`` work on ``log1p(y)`` so that seasonality
and errors are multiplicative, and back-transform quantiles exactly (``expm1`` is monotone).
``prophet`` fits weekly and yearly seasonality and the holidays frame passed by the caller.

References
----------
Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., ch. 5.2 (simple
methods), 8 (ETS), 9 (ARIMA); Taylor & Letham (2018), "Forecasting at scale" (Prophet).

Examples
--------
>>> import numpy as np, pandas as pd
>>> ds = pd.date_range("2024-01-01", periods=28, freq="D")
>>> hist = pd.DataFrame({"ds": ds, "y": np.tile([10.0, 20, 30, 40, 50, 60, 70], 4)})
>>> fut = pd.date_range("2024-01-29", periods=3, freq="D")
>>> seasonal_naive(hist, fut, 80, season_length=7)["yhat"].tolist()
[10.0, 20.0, 30.0]
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "MODELS",
    "ModelError",
    "ets",
    "prophet",
    "same_weekday_average",
    "sarimax",
    "seasonal_naive",
]

Adapter = Callable[..., pd.DataFrame]


class ModelError(ValueError):
    """A model cannot be fitted to this series (too short, season too long, ...)."""


def _check(history: pd.DataFrame, future: pd.DatetimeIndex, level: float, m: int) -> np.ndarray:
    if not 0 < level < 100:
        raise ModelError(f"level must be in (0, 100), got {level!r}")
    if m < 1:
        raise ModelError(f"season_length must be >= 1, got {m!r}")
    y = np.asarray(history["y"], dtype=float)
    if y.size == 0 or not np.all(np.isfinite(y)):
        raise ModelError("history['y'] must be non-empty and finite")
    if len(future) == 0:
        raise ModelError("future must hold at least one timestamp")
    return np.maximum(y, 0.0)


def _frame(future: pd.DatetimeIndex, yhat, lo, hi) -> pd.DataFrame:
    yhat = np.maximum(np.asarray(yhat, dtype=float), 0.0)
    lo = np.minimum(np.maximum(np.asarray(lo, dtype=float), 0.0), yhat)
    hi = np.maximum(np.asarray(hi, dtype=float), yhat)
    return pd.DataFrame({"ds": pd.DatetimeIndex(future).as_unit("ns"), "yhat": yhat,
                         "yhat_lo": lo, "yhat_hi": hi})


def _weeks_ahead(h: int, m: int) -> np.ndarray:
    """Seasons ahead (1-based) of steps 1..h."""
    return (np.arange(h) // m) + 1


def _empirical_band(
    ly: np.ndarray, lfit_by_lag: Callable[[int], np.ndarray], weeks: np.ndarray, level: float,
    m: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of past log errors ``log1p(y_t) - log1p(forecast made j seasons before)``.

    ``lfit_by_lag(j)`` returns the pseudo-forecast for every t (NaN where undefined). A lag
    with fewer than 5 errors keeps the band of the previous lag; with none at all the
    band of the one-season-ago rule (seasonal naive) is used. Returns per-step lower and
    upper log offsets.
    """
    a = (1 - level / 100) / 2
    qlo = np.zeros(weeks.size)
    qhi = np.zeros(weeks.size)
    naive = ly[m:] - ly[:-m]
    if naive.size == 0:
        raise ModelError(f"history too short for an interval (need > {m} observations)")
    last = (np.quantile(naive, a), np.quantile(naive, 1 - a))
    for j in np.unique(weeks):
        err = ly - lfit_by_lag(int(j))
        err = err[np.isfinite(err)][-730:]
        if err.size >= 5:
            last = (np.quantile(err, a), np.quantile(err, 1 - a))
        qlo[weeks == j], qhi[weeks == j] = last
    return qlo, qhi


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    if k < x.size:
        out[k:] = x[: x.size - k]
    return out


def seasonal_naive(
    history: pd.DataFrame, future: pd.DatetimeIndex, level: float = 80, *,
    season_length: int, **_: object,
) -> pd.DataFrame:
    """Same step last week: ``yhat[n+h] = y[n+h-m*ceil(h/m)]``.

    The interval is the empirical quantile band of ``log1p`` errors of the same rule
    ``j`` weeks ahead (Hyndman & Athanasopoulos, FPP3 5.2 and 5.5).
    """
    m = season_length
    y = _check(history, future, level, m)
    if y.size < 2 * m:
        raise ModelError(f"seasonal_naive needs >= {2 * m} observations, got {y.size}")
    h = len(future)
    idx = y.size - m + (np.arange(h) % m)
    yhat = y[idx]
    ly = np.log1p(y)
    weeks = _weeks_ahead(h, m)
    qlo, qhi = _empirical_band(ly, lambda j: _shift(ly, m * j), weeks, level, m)
    lyh = np.log1p(yhat)
    return _frame(future, yhat, np.expm1(lyh + qlo), np.expm1(lyh + qhi))


def _trimmed_weekly_mean(x: np.ndarray, m: int, k: int) -> np.ndarray:
    """Mean of the last ``k`` same-phase values ending at t, dropping min and max (k >= 4)."""
    stack = np.stack([_shift(x, m * i) for i in range(k)])
    if k >= 4:
        s = np.sort(stack, axis=0)
        return s[1:-1].mean(axis=0)
    return stack.mean(axis=0)


def same_weekday_average(
    history: pd.DataFrame, future: pd.DatetimeIndex, level: float = 80, *,
    season_length: int, n_weeks: int = 6, **_: object,
) -> pd.DataFrame:
    """Robust same-weekday average: mean of the last ``n_weeks`` same-phase values without
    the highest and lowest one (a trimmed mean, robust to one incident day).

    The interval is the empirical band of its own past ``log1p`` errors ``j`` weeks ahead.
    """
    m = season_length
    y = _check(history, future, level, m)
    k = min(n_weeks, y.size // m)
    if k < 2:
        raise ModelError(f"same_weekday_average needs >= {2 * m} observations, got {y.size}")
    h = len(future)
    stat = _trimmed_weekly_mean(y, m, k)
    phase = y.size - m + (np.arange(h) % m)
    yhat = stat[phase]
    ly = np.log1p(y)
    lstat = np.log1p(stat)
    weeks = _weeks_ahead(h, m)
    # a forecast for t made j weeks before uses the statistic ending at t - m*j
    qlo, qhi = _empirical_band(ly, lambda j: _shift(lstat, m * j), weeks, level, m)
    lyh = np.log1p(yhat)
    return _frame(future, yhat, np.expm1(lyh + qlo), np.expm1(lyh + qhi))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence fitting chatter (statsmodels convergence warnings, cmdstanpy/prophet INFO)."""
    names = {"cmdstanpy": logging.WARNING, "prophet": logging.ERROR,
             "prophet.plot": logging.ERROR}
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg, lvl in zip(loggers, names.values(), strict=True):
        lg.setLevel(lvl)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lvl in zip(loggers, before, strict=True):
            lg.setLevel(lvl)


def ets(
    history: pd.DataFrame, future: pd.DatetimeIndex, level: float = 80, *,
    season_length: int, **_: object,
) -> pd.DataFrame:
    """Holt-Winters / ETS(A,Ad,A) on ``log1p(y)`` (multiplicative on the original scale).

    Uses :class:`statsmodels.tsa.exponential_smoothing.ets.ETSModel` with additive errors,
    damped additive trend and additive weekly seasonality; the interval is the model's
    analytical prediction interval, back-transformed. Raises :class:`ModelError` when the
    season is longer than 60 steps (intraday weekly seasons: use the top-down path).
    """
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    m = season_length
    y = _check(history, future, level, m)
    if m > 60:
        raise ModelError(f"ets: season_length {m} too long; forecast daily and split intraday")
    if y.size < 3 * m + 10:
        raise ModelError(f"ets needs >= {3 * m + 10} observations, got {y.size}")
    ly = pd.Series(np.log1p(y[-3 * 365:]))
    h = len(future)
    with _quiet():
        mod = ETSModel(ly, error="add", trend="add", damped_trend=True,
                       seasonal="add" if m > 1 else None, seasonal_periods=m if m > 1 else None)
        res = mod.fit(disp=False, maxiter=200)
        fr = res.get_prediction(start=ly.size, end=ly.size + h - 1).summary_frame(
            alpha=1 - level / 100)
    mean = np.asarray(fr["mean"], dtype=float)
    return _frame(future, np.expm1(mean), np.expm1(np.asarray(fr["pi_lower"], dtype=float)),
                  np.expm1(np.asarray(fr["pi_upper"], dtype=float)))


def sarimax(
    history: pd.DataFrame, future: pd.DatetimeIndex, level: float = 80, *,
    season_length: int, **_: object,
) -> pd.DataFrame:
    """SARIMA(1,1,1)(0,1,1)_m on ``log1p(y)`` (the "airline"-style model with an AR term).

    Fitted with :class:`statsmodels.tsa.statespace.sarimax.SARIMAX` on at most the last
    year; the interval is the state-space prediction interval, back-transformed. About 1-4 s
    per fit on daily data, so it is not among the default ``auto`` candidates.
    """
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    m = season_length
    y = _check(history, future, level, m)
    if m > 60:
        raise ModelError(f"sarimax: season_length {m} too long; forecast daily and split")
    if y.size < 4 * m + 20:
        raise ModelError(f"sarimax needs >= {4 * m + 20} observations, got {y.size}")
    ly = np.log1p(y[-365:])
    h = len(future)
    seas = (0, 1, 1, m) if m > 1 else (0, 0, 0, 0)
    with _quiet():
        res = SARIMAX(ly, order=(1, 1, 1), seasonal_order=seas).fit(disp=False, maxiter=100)
        fr = res.get_forecast(h).summary_frame(alpha=1 - level / 100)
    return _frame(future, np.expm1(np.asarray(fr["mean"], dtype=float)),
                  np.expm1(np.asarray(fr["mean_ci_lower"], dtype=float)),
                  np.expm1(np.asarray(fr["mean_ci_upper"], dtype=float)))


def prophet(
    history: pd.DataFrame, future: pd.DatetimeIndex, level: float = 80, *,
    season_length: int, holidays: pd.DataFrame | None = None, seed: int = 0,
    uncertainty_samples: int = 300, **_: object,
) -> pd.DataFrame:
    """Prophet with multiplicative weekly and yearly seasonality and holiday effects.

    ``holidays`` is a Prophet holidays frame (``holiday, ds, lower_window, upper_window``):
    market holidays and the user's events, built by :func:`forecast.volume.holidays_frame`.
    Yearly seasonality is on when history spans at least 365 days. Sampling for the interval
    uses ``seed`` (numpy's global state is saved and restored around the call).
    """
    from prophet import Prophet

    with _quiet():  # cmdstanpy configures its logger on first use; do that quietly
        from cmdstanpy.utils import get_logger
        get_logger()
    y = _check(history, future, level, season_length)
    ds = pd.DatetimeIndex(history["ds"])
    if y.size < 28:
        raise ModelError(f"prophet needs >= 28 observations, got {y.size}")
    span_days = (ds[-1] - ds[0]).days
    if (ds[1:] - ds[:-1]).min() < pd.Timedelta("1D"):
        raise ModelError("prophet: intraday series are forecast daily and split (top-down)")
    df = pd.DataFrame({"ds": ds.tz_localize(None), "y": y})
    hol = None
    if holidays is not None and len(holidays):
        hol = holidays.copy()
        hol["ds"] = pd.to_datetime(hol["ds"])
    state = np.random.get_state()
    try:
        np.random.seed(seed)  # prophet samples from numpy's global RNG; restored below
        with _quiet():
            mdl = Prophet(
                yearly_seasonality=span_days >= 365, weekly_seasonality=season_length > 1,
                daily_seasonality=False, holidays=hol, seasonality_mode="multiplicative",
                interval_width=level / 100, uncertainty_samples=uncertainty_samples,
            )
            mdl.fit(df)
            fc = mdl.predict(pd.DataFrame({"ds": pd.DatetimeIndex(future).tz_localize(None)}))
    finally:
        np.random.set_state(state)
    return _frame(future, fc["yhat"].to_numpy(), fc["yhat_lower"].to_numpy(),
                  fc["yhat_upper"].to_numpy())


def normal_band(yhat: np.ndarray, sd: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric normal band ``yhat -/+ z * sd`` clipped at zero (helper for splits)."""
    z = stats.norm.ppf(0.5 + level / 200)
    return np.maximum(yhat - z * sd, 0.0), yhat + z * sd


MODELS: dict[str, Adapter] = {
    "seasonal_naive": seasonal_naive,
    "same_weekday_average": same_weekday_average,
    "ets": ets,
    "sarimax": sarimax,
    "prophet": prophet,
}
