"""Where the predictive spread of demand comes from: a forecast band or backtest errors.

:mod:`staffing.risk` models the contacts of an interval as a day multiplier shared by the
day's intervals times over-dispersed Poisson noise; this module measures the multiplier's
coefficient of variation (``day_cv``) and the within-interval ``dispersion``:

- :func:`spread_from_band` reads them off a forecast frame's band (``yhat``, ``yhat_hi``):
  the intraday band of :mod:`forecast.intraday` is a day term shared by the day's
  intervals plus over-dispersed Poisson noise, ``(hi - yhat)^2 = K^2 yhat^2 + z^2 phi
  yhat``; a least-squares fit per channel and day recovers ``K`` and ``phi``.
- :func:`spread_from_backtest` measures them from rolling-origin backtest errors: the daily
  log error's quantiles at p = 0.5 .. 0.95 (recent windows weighing more, at a half-life the
  backtests choose), its share common to a window, a robust intraday dispersion, and a
  ``mean_factor`` that recentres the forecast mean where the errors put it.

:class:`RiskError` (bad input to the risk model) lives here so that :mod:`staffing.risk`
can import this module; it is re-exported there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

__all__ = [
    "HALF_LIVES",
    "RiskError",
    "Spread",
    "spread_from_backtest",
    "spread_from_band",
]


class RiskError(ValueError):
    """Bad input to the risk model (the message names the parameter and value)."""


def spread_from_band(forecast: pd.DataFrame, level: float = 80) -> pd.DataFrame:
    """Day-level cv and within-interval dispersion read off an interval forecast band.

    Fits ``(yhat_hi - yhat)^2 = K^2 yhat^2 + z^2 phi yhat`` by least squares over the open
    intervals of each channel and day (``z`` the normal quantile of the upper band): ``K``
    is the day's relative upper band, read as a lognormal quantile (``day_cv =
    sqrt(exp(s^2) - 1)`` with ``s = log(1 + K) / z``), ``phi >= 1`` the dispersion. A day
    with one open interval keeps ``phi = 1``.

    Parameters
    ----------
    forecast : DataFrame
        ``unique_id`` (or ``channel``), ``ds``, ``yhat``, ``yhat_hi``.
    level : float
        Coverage of the band in percent (80 -> ``yhat_hi`` is the 90th percentile).

    Returns
    -------
    DataFrame
        ``channel, ds, day_cv, dispersion``, one row per row of ``forecast`` (same order).

    Examples
    --------
    >>> ds = pd.date_range("2024-11-11 08:00", periods=3, freq="30min")
    >>> z = stats.norm.ppf(0.9)
    >>> mu = np.array([100.0, 400.0, 900.0])
    >>> hi = mu + np.sqrt((0.1 * mu) ** 2 + z**2 * 2.0 * mu)   # K = 0.1, phi = 2
    >>> s = spread_from_band(pd.DataFrame({"unique_id": "chat", "ds": ds, "yhat": mu,
    ...                                    "yhat_hi": hi}))
    >>> round(float(s["dispersion"][0]), 6), round(float(s["day_cv"][0]), 4)
    (2.0, 0.0745)
    """
    df = forecast.rename(columns={"unique_id": "channel"}) if "channel" not in forecast \
        else forecast
    missing = {"channel", "ds", "yhat", "yhat_hi"} - set(df.columns)
    if missing:
        raise RiskError(f"forecast frame is missing column(s) {sorted(missing)}")
    if not 0 < level < 100:
        raise RiskError(f"level must be in (0, 100), got {level!r}")
    z = float(stats.norm.ppf(0.5 + level / 200.0))
    mu = np.maximum(df["yhat"].to_numpy(float), 0.0)
    hi = df["yhat_hi"].to_numpy(float)
    w = np.where(mu > 0, np.maximum(hi - mu, 0.0) ** 2, 0.0)
    x1, x2 = mu**2, mu
    day = pd.DatetimeIndex(pd.to_datetime(df["ds"])).normalize()
    codes, uniq = pd.factorize(pd.MultiIndex.from_arrays([df["channel"].astype(str), day]))
    m = len(uniq)

    def s(v: NDArray) -> NDArray:
        return np.bincount(codes, weights=v, minlength=m)

    s11, s12, s22, s1w, s2w = s(x1 * x1), s(x1 * x2), s(x2 * x2), s(x1 * w), s(x2 * w)
    det = s11 * s22 - s12**2
    with np.errstate(divide="ignore", invalid="ignore"):
        c1 = (s22 * s1w - s12 * s2w) / det
        c2 = (s11 * s2w - s12 * s1w) / det
        ok = np.isfinite(c1) & np.isfinite(c2) & (det > 1e-9 * s11 * s22)
        z2 = z * z
        # phi below 1 (or no fit): Poisson noise and the day term alone
        c1_p = np.maximum((s1w - z2 * s12) / s11, 0.0)
        c1 = np.where(ok & (c2 >= z2) & (c1 >= 0), c1, c1_p)
        phi = np.where(ok & (c2 >= z2) & (c1 >= 0), c2 / z2, 1.0)
        # no day term: all of the band is noise
        no_day = ok & (c1 < 0)
        phi = np.where(no_day, np.maximum(s2w / s22 / z2, 1.0), phi)
    c1 = np.nan_to_num(np.where(s11 > 0, c1, 0.0))
    phi = np.nan_to_num(np.where(s22 > 0, phi, 1.0), nan=1.0)
    k = np.sqrt(c1)
    sig = np.log1p(k) / z
    return pd.DataFrame({"channel": df["channel"].astype(str).to_numpy(),
                         "ds": pd.to_datetime(df["ds"]).to_numpy(),
                         "day_cv": np.sqrt(np.expm1(sig**2))[codes],
                         "dispersion": np.maximum(phi, 1.0)[codes]})


@dataclass(frozen=True)
class Spread:
    """Spread measured on backtests.

    Attributes
    ----------
    day_cv : float
        Coefficient of variation of the day multiplier, count noise of the day total taken out.
    level_share : float
        Share of the daily log-error variance explained by window means (0..1).
    dispersion : float
        Within-interval variance over mean (>= 1).
    bias : float
        Weighted mean daily log error ``log(actual / forecast)``.
    n_days : int
        Days used.
    mean_factor : float
        Multiplier of the forecast mean that centres the predictive distribution where the
        backtest errors put it (``exp(b + s^2 / 2)`` of the fitted log-normal day error).
    half_life : float
        Half-life of the recency weights, in backtest windows (``inf`` = equal weights).
    """

    day_cv: float
    level_share: float
    dispersion: float
    bias: float
    n_days: int
    mean_factor: float = 1.0
    half_life: float = math.inf


#: Probabilities at which the day error's quantiles are matched (staffing uses p >= 0.5).
_FIT_PS = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
#: Half-lives (in backtest windows) the recency weights choose from.
HALF_LIVES = (1.0, 2.0, 4.0, 8.0, 16.0, math.inf)
_MIN_WINDOWS = 4  # earlier windows needed before a window scores the half-lives


def _wquantile(x: NDArray, w: NDArray, ps: ArrayLike) -> NDArray:
    """Weighted quantiles (midpoint rule of the weighted empirical cdf)."""
    o = np.argsort(x)
    cw = (np.cumsum(w[o]) - 0.5 * w[o]) / w.sum()
    return np.interp(ps, cw, x[o])


def _loc_scale(e: NDArray, w: NDArray) -> tuple[float, float]:
    """Normal location and scale matching the weighted quantiles of ``e`` at ``_FIT_PS``
    (least squares of ``q_p = b + s z_p``)."""
    z = stats.norm.ppf(_FIT_PS)
    q = _wquantile(e, w, _FIT_PS)
    zc = z - z.mean()
    s = float(max(zc @ (q - q.mean()) / (zc @ zc), 0.0))
    return float(q.mean() - s * z.mean()), s


def _pinball(e: NDArray, b: float, s: float) -> float:
    """Summed quantile (pinball) loss of ``e`` at ``_FIT_PS`` for the normal ``(b, s)``."""
    q = b + s * stats.norm.ppf(_FIT_PS)
    d = e[:, None] - q[None, :]
    return float(np.maximum(_FIT_PS * d, (_FIT_PS - 1.0) * d).sum())


def _pick_half_life(e: NDArray, age: NDArray, candidates: Sequence[float]) -> float:
    """The half-life whose weighted fit on older windows predicts each window's daily
    errors best (pinball loss over ``_FIT_PS``, summed over windows with at least
    ``_MIN_WINDOWS`` older ones); ``inf`` when there are too few windows."""
    score = dict.fromkeys(candidates, 0.0)
    scored = False
    for a in np.unique(age):
        older = age > a
        if np.unique(age[older]).size < _MIN_WINDOWS:
            continue
        scored = True
        for h in candidates:
            b, s = _loc_scale(e[older], 0.5 ** ((age[older] - a - 1) / h))
            score[h] += _pinball(e[age == a], b, s)
    return min(candidates, key=lambda h: score[h]) if scored else math.inf


def spread_from_backtest(actual: ArrayLike, expected: ArrayLike, day: ArrayLike,
                         window: ArrayLike, *, half_life: float | str = "auto") -> Spread:
    """Measure the predictive spread from rolling-origin backtest errors.

    Parameters
    ----------
    actual, expected : array_like
        Contacts and forecast mean per interval (every open interval of each forecast day).
    day : array_like
        Day key of each interval (e.g. its date).
    window : array_like
        Backtest origin (window) of each interval, sortable (later = more recent): errors
        within one window share the forecast's level error.
    half_life : float or "auto"
        Recency weights ``0.5 ** (age / half_life)`` with ``age`` the window's rank from
        the newest (0). ``"auto"`` picks from :data:`HALF_LIVES` the one whose fit on
        earlier windows predicted each later window's daily errors best (pinball loss):
        forecast errors change scale as history grows and seasons turn, and the series'
        own backtests say how fast.

    Returns
    -------
    Spread
        Day level: a normal ``N(b, s^2)`` for the daily log error ``log(actual /
        forecast)`` matched to its weighted quantiles at p = 0.5 .. 0.95 (the quantiles
        staffing uses; a standard deviation would let a few outlier days - the open day
        after a holiday - set the spread of every day, and a mean-1 multiplier would miss
        a forecast that runs high on most days and far low on a few). The count noise of
        the day total (``dispersion / day total``) is taken out of ``s^2``: ``day_cv =
        sqrt(exp(s^2) - 1)`` and ``mean_factor = exp(b + s^2 / 2)``. Interval level:
        ``dispersion`` from the median absolute standardised residual (``1.4826 MAD``
        squared) of the interval counts around the forecast shape scaled to the day's
        actual total. ``level_share`` is the share of the daily variance explained by
        window means.

    Raises
    ------
    RiskError
        Mismatched lengths, no day with both totals positive, or a bad ``half_life``.

    Examples
    --------
    Days log-normal around a forecast 2.5 % low (log error N(0.02, 0.1^2): cv 0.1, mean
    factor exp(0.025)), Poisson within the day:

    >>> rng = np.random.default_rng(3)
    >>> mu = np.tile([200.0, 400.0, 300.0], 1000)
    >>> day = np.repeat(np.arange(1000), 3)
    >>> y = rng.poisson(mu * np.repeat(rng.lognormal(0.02, 0.1, 1000), 3))
    >>> s = spread_from_backtest(y, mu, day, day // 5, half_life=math.inf)
    >>> round(s.day_cv, 2), round(s.dispersion, 1), round(s.mean_factor, 2)
    (0.1, 1.0, 1.03)
    """
    y = np.asarray(actual, float)
    mu = np.asarray(expected, float)
    day_arr, win_arr = np.asarray(day), np.asarray(window)
    if not (len(y) == len(mu) == len(day_arr) == len(win_arr)):
        raise RiskError(f"actual, expected, day and window differ in length: {len(y)}, "
                        f"{len(mu)}, {len(day_arr)}, {len(win_arr)}")
    if not (half_life == "auto" or (isinstance(half_life, int | float)
                                    and not isinstance(half_life, bool) and half_life > 0)):
        raise RiskError(f"half_life must be 'auto' or a number > 0, got {half_life!r}")
    codes, _ = pd.factorize(day_arr)
    wcodes, wuniq = pd.factorize(win_arr)
    yd = np.bincount(codes, weights=y)
    md = np.bincount(codes, weights=mu)
    keep = (yd > 0) & (md > 0)
    if not keep.any():
        raise RiskError("no backtest day has both actual and forecast totals > 0")
    # window age: 0 for the newest window
    rank = np.empty(len(wuniq), dtype=np.int64)
    rank[np.argsort(np.asarray(wuniq))[::-1]] = np.arange(len(wuniq))
    day_window = np.zeros(len(yd), dtype=np.int64)
    day_window[codes] = wcodes
    age = rank[day_window][keep]
    wk = day_window[keep]
    e = np.log(yd[keep] / md[keep])
    h = (_pick_half_life(e, age, HALF_LIVES) if half_life == "auto" else float(half_life))
    w = 0.5 ** (age / h)
    ms = float(np.average(e**2, weights=w))
    wmean = np.bincount(wk, weights=w * e) / np.maximum(np.bincount(wk, weights=w), 1e-300)
    within = float(np.average((e - wmean[wk]) ** 2, weights=w))
    share = float(np.clip(1.0 - within / ms, 0.0, 1.0)) if ms > 0 else 0.0
    # within-day: interval counts around the forecast shape scaled to the actual total;
    # scaling to the day's own total takes one degree of freedom per day: the residual of
    # an interval with share f of its day has variance (1 - f) times its own
    wday = np.zeros(len(yd))
    wday[keep] = w
    with np.errstate(divide="ignore", invalid="ignore"):
        ex = mu * (yd / md)[codes]
        den = ex * (1.0 - mu / md[codes])
    ok = (ex > 0) & (den > 0) & keep[codes]
    z = np.abs(y[ok] - ex[ok]) / np.sqrt(den[ok])
    disp = max((1.4826 * float(_wquantile(z, wday[codes][ok], [0.5])[0])) ** 2, 1.0) \
        if ok.any() else 1.0
    # the daily log error holds the day's own count noise too: take it out (the
    # predictive adds it back through dispersion)
    b, s = _loc_scale(e, w)
    noise = float(np.average(disp / md[keep], weights=w))
    s2 = max(s * s - noise, 0.0)
    return Spread(math.sqrt(math.expm1(s2)), share, disp, float(np.average(e, weights=w)),
                  int(keep.sum()), math.exp(b + 0.5 * s2), h)
