"""Demand as a distribution: staffing to a chosen risk, and what each staffing risks.

A forecast says how many contacts an interval *should* get; the war room needs to know
how likely a staffing is to fall short. This module turns a forecast into a predictive
distribution of the contacts of each interval and answers both directions:

- **chance-constrained requirements**: the fewest agents whose service-level target holds
  with probability ``p`` (:func:`risk_volume` + the usual Erlang requirement);
- **risk of a given staffing**: expected SL, probability that the interval misses its
  target, expected contacts not served within the threshold, and the probability that a
  whole day's SL misses target (:func:`risk_kpis`);
- **the cost-risk frontier**: paid hours against those risks for ``p = 50 .. 95 %``
  (:func:`cost_risk_frontier`).

The model
---------
Contacts of interval ``i`` of day ``d`` are ``Y_i | M_d ~ overdispersed Poisson(M_d mu_i)``
where ``mu_i`` is the forecast mean and ``M_d`` a day multiplier with mean 1 and
coefficient of variation ``day_cv``, shared by every interval of the day (a day that runs
high runs high all day). A share ``level_share`` of its log-variance is common to all days
of the horizon (the contact-rate level: forecast errors are correlated across days); it
matters for the simulation and for sums over days, not for one interval's marginal.
``dispersion`` (>= 1) is the within-interval variance over the mean (1 = Poisson) and
``interval_cv`` an optional independent multiplicative error per interval (the intraday
shape). The marginal of ``Y_i`` is taken as the negative binomial with the same mean and
variance, ``Var = dispersion mu + cv^2 mu^2`` with ``1 + cv^2 = (1 + day_cv^2)
(1 + interval_cv^2)`` (exact for a gamma day multiplier and dispersion 1).

Where the spread comes from
---------------------------
- :func:`spread_from_band` reads it off a forecast frame's band (``yhat``, ``yhat_hi`` at
  ``level`` %): the intraday band of :mod:`forecast.intraday` is a day term shared by the
  day's intervals plus over-dispersed Poisson noise, ``(hi - yhat)^2 = K^2 yhat^2 +
  z^2 phi yhat``; a least-squares fit per channel and day recovers ``K`` (the day's upper
  band, read as a lognormal quantile) and ``phi``. The forecast's band is itself calibrated
  on rolling-origin backtests of the series (:mod:`forecast.backtest`).
- :func:`spread_from_backtest` measures it directly from rolling-origin backtest errors:
  the daily log error's quantiles at p = 0.5 .. 0.95 (recent windows weighing more, at a
  half-life the backtests choose), its share common to a window, and a robust intraday
  dispersion; the forecast mean is rescaled by the fitted ``mean_factor``.

Chance constraint
-----------------
The service level of N agents falls as volume rises, so "SL(N, Y) >= target with
probability p" holds exactly when N meets the target at the ``p``-quantile of ``Y``: the
requirement at :func:`risk_volume` is the smallest such N, for every model whose SL is
monotone in volume (Erlang C, Erlang A, chat). Deferred work (email) is pooled over the
day, so its risk volume scales the day by the ``p``-quantile of the day's total.

References
----------
Gans, Koole & Mandelbaum (2003), "Telephone call centers: tutorial, review, and research
prospects", MSOM 5(2) (arrival-rate uncertainty, doubly stochastic Poisson arrivals);
Gurvich, Luedtke & Tezcan (2010), "Staffing call centers with uncertain demand forecasts:
a chance-constrained optimization approach", Management Science 56(7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from staffing.chat import chat_service_level
from staffing.erlang import service_level
from staffing.policy import ChannelPolicy, open_mask
from staffing.requirements import _fill_aht, as_policies, compute_requirements

__all__ = [
    "DEFAULT_PS",
    "DemandDistribution",
    "HALF_LIVES",
    "RiskError",
    "Spread",
    "cost_risk_frontier",
    "frontier_step",
    "parse_staff_to",
    "risk_kpis",
    "risk_volume",
    "spread_from_backtest",
    "spread_from_band",
    "staff_to_probability",
]

#: Probabilities of the frontier, 50 .. 95 %.
DEFAULT_PS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
_NODES = 16  # quantile-midpoint nodes for expectations over an interval's distribution
_DAY_NODES = 12  # quantile nodes of the day multiplier for a day's miss probability


class RiskError(ValueError):
    """Bad input to the risk model (the message names the parameter and value)."""


def parse_staff_to(value: object) -> str:
    """Canonical ``staff_to``: ``"mean"``, ``"upper"`` or ``"pNN"`` (a probability).

    Accepts ``"mean"``, ``"upper"``, ``"p80"``, ``"p87.5"``, ``"80%"``, ``0.9`` and
    ``"0.9"``; the probability must lie in [0.5, 0.999].

    Raises
    ------
    RiskError
        Anything else, naming the value.

    Examples
    --------
    >>> parse_staff_to(0.9), parse_staff_to("P80"), parse_staff_to("mean")
    ('p90', 'p80', 'mean')
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("mean", "upper"):
            return text
        try:
            if text.startswith("p"):
                p = float(text[1:]) / 100.0
            elif text.endswith("%"):
                p = float(text[:-1]) / 100.0
            else:
                p = float(text)
        except ValueError:
            p = math.nan
    elif isinstance(value, int | float) and not isinstance(value, bool):
        p = float(value)
    else:
        p = math.nan
    if not (0.5 <= p <= 0.999):
        raise RiskError(
            f"staff_to must be 'mean', 'upper' or a probability 0.5..0.999 "
            f"('p80', 0.9), got {value!r}"
        )
    return f"p{round(p * 100, 1):g}"


def staff_to_probability(staff_to: str) -> float | None:
    """The probability of a canonical ``staff_to`` (``"p80"`` -> 0.8), else ``None``.

    Examples
    --------
    >>> staff_to_probability("p87.5"), staff_to_probability("upper")
    (0.875, None)
    """
    return float(staff_to[1:]) / 100.0 if staff_to.startswith("p") else None


# ----------------------------------------------------------------------------- distribution
@dataclass(frozen=True)
class DemandDistribution:
    """Predictive distribution of contacts per channel and interval.

    Build it with :meth:`from_frame`. Arrays are aligned with ``channel`` and ``ds``.

    Attributes
    ----------
    channel, ds : ndarray
        Key of each interval.
    mean : ndarray
        Expected contacts ``mu`` (>= 0).
    day_cv : ndarray
        Coefficient of variation of the day multiplier (shared by the day's intervals).
    interval_cv : ndarray
        Independent multiplicative error per interval.
    dispersion : ndarray
        Within-interval variance over mean (>= 1; 1 = Poisson).
    level_share : float
        Share of the day multiplier's log-variance common to all days of a channel.
    """

    channel: NDArray
    ds: NDArray
    mean: NDArray
    day_cv: NDArray
    interval_cv: NDArray
    dispersion: NDArray
    level_share: float = 0.5

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, mean_col: str = "volume",
                   level_share: float = 0.5) -> DemandDistribution:
        """From a frame ``channel, ds, <mean_col>, day_cv[, interval_cv, dispersion]``.

        Raises
        ------
        RiskError
            Missing columns, negative or non-finite values, ``level_share`` outside 0..1.
        """
        df = frame.rename(columns={"unique_id": "channel"}) if "channel" not in frame else frame
        missing = {"channel", "ds", mean_col, "day_cv"} - set(df.columns)
        if missing:
            raise RiskError(f"demand frame is missing column(s) {sorted(missing)}")
        n = len(df)
        mean = df[mean_col].to_numpy(float)
        day_cv = df["day_cv"].to_numpy(float)
        icv = df["interval_cv"].to_numpy(float) if "interval_cv" in df else np.zeros(n)
        disp = df["dispersion"].to_numpy(float) if "dispersion" in df else np.ones(n)
        for name, arr, low in ((mean_col, mean, 0.0), ("day_cv", day_cv, 0.0),
                               ("interval_cv", icv, 0.0), ("dispersion", disp, 1.0)):
            bad = ~np.isfinite(arr) | (arr < low)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise RiskError(f"{name} must be finite and >= {low:g}, got {arr[i]!r} "
                                f"at row {i}")
        if not 0.0 <= level_share <= 1.0:
            raise RiskError(f"level_share must be in 0..1, got {level_share!r}")
        return cls(df["channel"].astype(str).to_numpy(),
                   pd.to_datetime(df["ds"]).to_numpy("datetime64[ns]"),
                   mean, day_cv, icv, disp, float(level_share))

    def __len__(self) -> int:
        return len(self.mean)

    @property
    def cv2(self) -> NDArray:
        """Squared coefficient of variation of the intensity (day x interval)."""
        return (1.0 + self.day_cv**2) * (1.0 + self.interval_cv**2) - 1.0

    @property
    def variance(self) -> NDArray:
        """``Var Y = dispersion mu + cv^2 mu^2``."""
        return self.dispersion * self.mean + self.cv2 * self.mean**2

    def _nb(self) -> tuple[NDArray, NDArray, NDArray]:
        """Negative binomial (size r, success prob q) per interval; ``poisson`` mask."""
        mu = self.mean
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_r = self.cv2 + (self.dispersion - 1.0) / mu
        pois = ~(inv_r > 1e-12) | (mu <= 0)
        r = np.where(pois, 1.0, 1.0 / np.where(pois, 1.0, inv_r))
        return r, r / (r + mu), pois

    def quantile(self, p: float | ArrayLike, exact: bool = True) -> NDArray:
        """Smallest whole count ``y`` with ``P(Y <= y) >= p``, per interval (broadcasts
        ``p`` of shape ``(k, 1)`` to ``(k, n)``).

        A Cornish-Fisher start corrected by steps of the exact cdf (a few vectorised
        passes; scipy's generic ``ppf`` searches element by element). ``exact=False``
        returns the (real) Cornish-Fisher value alone, for quadrature nodes.
        """
        p = np.asarray(p, float)
        shape = np.broadcast_shapes(p.shape, self.mean.shape)
        r, q, pois = (np.broadcast_to(x, shape).ravel() for x in self._nb())
        mu = np.broadcast_to(self.mean, shape).ravel()
        pp = np.broadcast_to(p, shape).ravel()
        var = np.maximum(np.broadcast_to(self.variance, shape).ravel(), mu)
        sd = np.sqrt(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            skew = np.nan_to_num(np.where(mu > 0, (2.0 * var - mu) / (sd * mu), 0.0))
        z = stats.norm.ppf(np.clip(pp, 1e-12, 1 - 1e-12))
        y = np.maximum(mu + sd * (z + (z * z - 1.0) * skew / 6.0), 0.0)
        if not exact:
            return np.where(mu > 0, y, 0.0).reshape(shape)
        y = np.floor(y)
        # step up while P(Y <= y) < p, then down while P(Y <= y - 1) >= p (active only)
        idx = np.flatnonzero(mu > 0)
        while idx.size:
            low = _cdf(y[idx], r[idx], q[idx], mu[idx], pois[idx]) < pp[idx]
            idx = idx[low]
            y[idx] += 1.0
        idx = np.flatnonzero((mu > 0) & (y > 0))
        while idx.size:
            high = _cdf(y[idx] - 1.0, r[idx], q[idx], mu[idx], pois[idx]) >= pp[idx]
            idx = idx[high]
            y[idx] -= 1.0
            idx = idx[y[idx] > 0]
        return np.where(mu > 0, y, 0.0).reshape(shape)

    def cdf(self, y: ArrayLike) -> NDArray:
        """``P(Y <= y)`` per interval (broadcasts like :meth:`quantile`)."""
        y = np.floor(np.asarray(y, float))
        shape = np.broadcast_shapes(y.shape, self.mean.shape)
        r, q, pois = (np.broadcast_to(x, shape) for x in self._nb())
        return _cdf(np.broadcast_to(y, shape), r, q, np.broadcast_to(self.mean, shape), pois)

    def day_keys(self) -> tuple[NDArray, NDArray]:
        """(group index per interval, unique (channel, day) frame index) of the days."""
        day = pd.DatetimeIndex(self.ds).normalize()
        keys = pd.MultiIndex.from_arrays([self.channel, day])
        codes, uniq = pd.factorize(keys)
        return codes, uniq

    def sample(self, rng: np.random.Generator, n_reps: int) -> NDArray:
        """Contacts per interval for ``n_reps`` replications, shape ``(n_reps, n)``.

        The day multiplier is the product of a level factor shared by every day of a
        channel (log-variance share ``level_share``) and a day factor, both gamma with
        mean 1; then a gamma per interval (``interval_cv``) and an over-dispersed Poisson
        count (gamma-Poisson with variance ``dispersion`` times the mean).
        """
        n = len(self.mean)
        codes, uniq = self.day_keys()
        ch_codes, _ = pd.factorize(self.channel)
        n_days = len(uniq)
        # per-day cv (constant within a day)
        day_cv = np.zeros(n_days)
        day_cv[codes] = self.day_cv
        ch_of_day = np.zeros(n_days, dtype=np.int64)
        ch_of_day[codes] = ch_codes
        s2 = np.log1p(day_cv**2)
        lvl_cv2 = np.expm1(self.level_share * s2)
        day_cv2 = np.expm1((1.0 - self.level_share) * s2)
        n_ch = int(ch_codes.max()) + 1 if n else 0
        # the level of a channel: one draw per channel, with that channel's mean cv
        ch_lvl = np.zeros(n_ch)
        np.maximum.at(ch_lvl, ch_of_day, lvl_cv2)
        lvl = _gamma1(rng, ch_lvl, (n_reps, n_ch))[:, ch_of_day]
        mult = lvl * _gamma1(rng, day_cv2, (n_reps, n_days))
        lam = self.mean * mult[:, codes] * _gamma1(rng, self.interval_cv**2, (n_reps, n))
        extra = self.dispersion - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            shape = np.where(extra > 0, lam / extra, np.inf)
        od = np.isfinite(shape) & (lam > 0)
        lam = np.where(od, rng.gamma(np.where(od, shape, 1.0), np.where(od, extra, 1.0)), lam)
        return rng.poisson(lam).astype(float)


def _cdf(y: NDArray, r: NDArray, q: NDArray, mu: NDArray, pois: NDArray) -> NDArray:
    """P(Y <= y) of the negative binomial ``(r, q)``, or Poisson(mu) where ``pois``."""
    k = np.maximum(y, 0.0)
    with np.errstate(invalid="ignore"):
        out = np.where(pois, special.gammaincc(k + 1.0, mu), special.betainc(r, k + 1.0, q))
    return np.where(y < 0, 0.0, out)


def _gamma1(rng: np.random.Generator, cv2: NDArray, size: tuple[int, int]) -> NDArray:
    """Gamma draws with mean 1 and squared cv ``cv2`` (broadcast over the last axis);
    exactly 1 where ``cv2`` is 0."""
    cv2 = np.broadcast_to(np.asarray(cv2, float), size)
    pos = cv2 > 0
    safe = np.where(pos, cv2, 1.0)
    return np.where(pos, rng.gamma(1.0 / safe, safe, size=size), 1.0)


# ----------------------------------------------------------------------------- spread
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


# ----------------------------------------------------------------------------- volumes
def risk_volume(dist: DemandDistribution, p: float,
                policies: Mapping[str, ChannelPolicy] | None = None) -> NDArray:
    """Volume to staff each interval for so that its target holds with probability ``p``.

    Queues (Erlang C/A, chat): the ``p``-quantile of the interval's contacts (a whole
    number). Deferred channels (``policies[channel].model == "deferred"``): every interval
    of a day scaled by the ``p``-quantile of the day's total over its mean (the backlog
    pools a day's work).

    Examples
    --------
    >>> d = DemandDistribution.from_frame(pd.DataFrame({"channel": "voice",
    ...     "ds": pd.to_datetime(["2024-11-11 10:00"]), "volume": [100.0], "day_cv": [0.0]}))
    >>> risk_volume(d, 0.9).tolist()     # Poisson(100): P(Y <= 112) = 0.893, 113: 0.909
    [113.0]
    """
    if not 0.0 < p < 1.0:
        raise RiskError(f"p must be in (0, 1), got {p!r}")
    out = dist.quantile(p)
    if policies:
        deferred = np.isin(dist.channel, [c for c, pol in policies.items()
                                          if pol.model == "deferred"])
        if deferred.any():
            codes, uniq = dist.day_keys()
            m = len(uniq)
            mu_d = np.bincount(codes, weights=dist.mean, minlength=m)
            noise = np.bincount(codes, weights=dist.dispersion * dist.mean
                                + (dist.cv2 - dist.day_cv**2) * dist.mean**2, minlength=m)
            cv_d = np.zeros(m)
            cv_d[codes] = dist.day_cv
            var_d = noise + cv_d**2 * mu_d**2
            with np.errstate(divide="ignore", invalid="ignore"):
                inv_r = (var_d - mu_d) / mu_d**2
            pois = ~(inv_r > 1e-12)
            r = 1.0 / np.where(pois, 1.0, inv_r)
            qd = np.where(pois, stats.poisson.ppf(p, mu_d),
                          stats.nbinom.ppf(p, r, r / (r + mu_d)))
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(mu_d > 0, qd / mu_d, 1.0)
            out = np.where(deferred, dist.mean * ratio[codes], out)
    return out


# ----------------------------------------------------------------------------- risk kpis
def _sl(pol: ChannelPolicy, vol: NDArray, aht: NDArray, interval_s: int, agents: NDArray
        ) -> NDArray:
    """Steady-state SL of whole ``agents`` at ``vol`` for the policy's staffing model."""
    if pol.model == "chat":
        return chat_service_level(vol, aht, interval_s, agents, pol.threshold_s,
                                  int(pol.concurrency))
    pat = pol.patience_s if pol.model == "erlang_a" else None
    return service_level(vol, aht, interval_s, agents, pol.threshold_s, patience_s=pat)


def _max_volume(pol: ChannelPolicy, aht: NDArray, interval_s: int, agents: NDArray,
                target: float) -> NDArray:
    """Largest whole volume at which ``agents`` still meet ``target`` (-1 if none):
    bisection on whole numbers, all intervals at once."""
    slots = agents * (int(pol.concurrency) if pol.model == "chat" else 1)
    lo = np.zeros(len(agents))  # meets target (checked below)
    cap = np.maximum(slots, 1.0) * interval_s / aht * (4.0 if pol.model == "erlang_a" else 1.0)
    hi = np.ceil(cap) + 1.0     # misses target
    ok0 = (agents > 0) & (_sl(pol, np.ones_like(lo), aht, interval_s, agents) >= target)
    lo = np.where(ok0, 1.0, lo)
    while True:
        go = hi - lo > 1.0
        if not go.any():
            break
        mid = np.floor(0.5 * (lo + hi))
        ok = _sl(pol, mid[go], aht[go], interval_s, agents[go]) >= target
        lo[go] = np.where(ok, mid[go], lo[go])
        hi[go] = np.where(ok, hi[go], mid[go])
    return np.where(ok0, lo, np.where(agents > 0, 0.0, -1.0))


def risk_kpis(
    dist: DemandDistribution,
    aht_s: ArrayLike,
    agents: ArrayLike,
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | ChannelPolicy,
    interval_s: int,
) -> pd.DataFrame:
    """What a staffing risks under the predictive distribution, per interval.

    Parameters
    ----------
    dist : DemandDistribution
        Contacts per interval.
    aht_s : array_like
        Handle time per interval (seconds), aligned with ``dist``.
    agents : array_like
        Productive agents per interval (whole numbers; fractions are floored).
    policies : mapping, sequence or ChannelPolicy
        The channels' policies (model, target, threshold, concurrency, patience).
    interval_s : int
        Interval length in seconds.

    Returns
    -------
    DataFrame
        ``channel, ds, mean, agents, expected_sl, p_below`` (probability that the
        interval's SL is below target), ``expected_unserved`` (contacts not answered
        within the threshold, abandoned included) and ``p_day_below`` (probability that
        the day's volume-weighted SL misses target, the same for every interval of a day).
        Queues use the steady-state Erlang C / A / chat SL of the interval (no carry-over);
        deferred work counts a day as missed when its work exceeds the day's agent time
        (its intervals then have ``p_below = p_day_below``, SL NaN). The day's SL counts
        the day multiplier and, given it, the intervals' own count noise (delta method).

    Examples
    --------
    >>> d = DemandDistribution.from_frame(pd.DataFrame({"channel": "voice",
    ...     "ds": pd.to_datetime(["2024-11-11 10:00"]), "volume": [100.0], "day_cv": [0.0]}))
    >>> k = risk_kpis(d, [180.0], [14], ChannelPolicy("voice"), 1800)
    >>> round(float(k["p_below"][0]), 3)      # 14 agents hold 80/20 up to 108 calls
    0.196
    """
    pol = as_policies(policies)
    n = len(dist)
    aht = _fill_aht(np.broadcast_to(np.asarray(aht_s, float), (n,)).copy())
    ag = np.floor(np.broadcast_to(np.asarray(agents, float), (n,)) + 1e-9)
    esl = np.full(n, np.nan)
    pbelow = np.zeros(n)
    unserved = np.zeros(n)
    pday = np.zeros(n)
    codes, uniq = dist.day_keys()
    m = len(uniq)
    u = (np.arange(_NODES) + 0.5) / _NODES
    for ch in np.unique(dist.channel):
        if ch not in pol:
            raise RiskError(f"no policy for channel {ch!r}; policies: {sorted(pol)}")
        p = pol[ch]
        sel = np.flatnonzero((dist.channel == ch) & (dist.mean > 0))
        if not sel.size:
            continue
        mu, a, h = dist.mean[sel], ag[sel], aht[sel]
        if p.model == "deferred":
            dcode = codes[sel]
            work = np.bincount(dcode, weights=mu * h, minlength=m)
            cap = np.bincount(dcode, weights=a * interval_s, minlength=m)
            cv = np.zeros(m)
            cv[dcode] = dist.day_cv[sel]
            with np.errstate(divide="ignore", invalid="ignore"):
                mstar = np.where(work > 0, cap / work, np.inf)
            pd_ = _gamma_sf(mstar, cv)
            pday[sel] = pd_[dcode]
            pbelow[sel] = pd_[dcode]
            unserved[sel] = np.nan
            continue
        sub = DemandDistribution(dist.channel[sel], dist.ds[sel], mu, dist.day_cv[sel],
                                 dist.interval_cv[sel], dist.dispersion[sel])
        # expectations over the interval's marginal: quantile-midpoint nodes
        ys = sub.quantile(u[:, None], exact=False)         # (nodes, k)
        sl = _sl(p, ys.ravel(), np.tile(h, _NODES), interval_s, np.tile(a, _NODES))
        sl = sl.reshape(ys.shape)
        wsum = ys.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            esl[sel] = np.where(wsum > 0, (ys * sl).sum(axis=0) / wsum, 1.0)
        unserved[sel] = (ys * (1.0 - sl)).mean(axis=0)
        ymax = _max_volume(p, h, interval_s, a, p.target_sl)
        pbelow[sel] = 1.0 - np.where(ymax >= 0, sub.cdf(ymax), 0.0)
        # the day: SL at volumes M mu is decreasing in M; find M* with SL = target
        dcode = codes[sel]
        cv = np.zeros(m)
        cv[dcode] = dist.day_cv[sel]
        pday[sel] = _day_miss(p, mu, h, a, dist.dispersion[sel], dist.interval_cv[sel] ** 2,
                              dcode, cv, m, interval_s)[dcode]
    return pd.DataFrame({"channel": dist.channel, "ds": dist.ds, "mean": dist.mean,
                         "agents": ag, "expected_sl": esl, "p_below": pbelow,
                         "expected_unserved": unserved, "p_day_below": pday})


def _day_miss(pol: ChannelPolicy, mu: NDArray, aht: NDArray, agents: NDArray,
              var1: NDArray, var2: NDArray, dcode: NDArray, day_cv: NDArray, m: int,
              interval_s: int) -> NDArray:
    """P(the day's volume-weighted SL < target) per day.

    Over quantile nodes of the day multiplier M (gamma, mean 1, cv ``day_cv``): given M
    the day's SL ``R = sum f(y_i) / sum y_i`` with ``f(y) = y SL(y)`` is taken as normal
    (delta method for the ratio), with the mean and variance of each ``f(y_i)`` and its
    covariance with ``y_i`` from a three-point Gauss-Hermite rule over the interval's
    count noise ``Var(y_i | M) = var1 M mu_i + var2 (M mu_i)^2``; the day's probability is
    the average over the nodes.
    """
    u = (np.arange(_DAY_NODES) + 0.5) / _DAY_NODES
    pos = day_cv > 0
    k = 1.0 / np.where(pos, day_cv, 1.0) ** 2
    mult = np.where(pos, stats.gamma.ppf(u[:, None], k, scale=1.0 / k), 1.0)  # (nodes, m)
    lam = (mult[:, dcode] * mu).ravel()
    h, a = np.tile(aht, _DAY_NODES), np.tile(agents, _DAY_NODES)
    var = np.tile(var1, _DAY_NODES) * lam + np.tile(var2, _DAY_NODES) * lam**2
    # three-point Gauss-Hermite over the interval's count noise: mean, variance of
    # f(y) = y SL(y) and its covariance with y
    d = np.sqrt(3.0 * var)
    up, dn = lam + d, np.maximum(lam - d, 0.0)
    f0 = lam * _sl(pol, lam, h, interval_s, a)
    fu = up * _sl(pol, up, h, interval_s, a)
    fd = dn * _sl(pol, dn, h, interval_s, a)
    ef = (4.0 * f0 + fu + fd) / 6.0
    vf = (4.0 * (f0 - ef) ** 2 + (fu - ef) ** 2 + (fd - ef) ** 2) / 6.0
    cf = ((fu - ef) * (up - lam) + (fd - ef) * (dn - lam)) / 6.0
    codes = (np.arange(_DAY_NODES)[:, None] * m + dcode[None, :]).ravel()
    size = _DAY_NODES * m

    def tot(w: NDArray) -> NDArray:
        return np.bincount(codes, weights=w, minlength=size)

    den = tot(lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den > 0, tot(ef) / den, 1.0)
        v = (tot(vf) - 2.0 * r * tot(cf) + r**2 * tot(var)) / den**2
        zscore = (pol.target_sl - r) / np.sqrt(np.maximum(v, 0.0))
    miss = np.where(v > 0, stats.norm.cdf(zscore), (r < pol.target_sl).astype(float))
    miss = np.where(den > 0, miss, 0.0)
    return miss.reshape(_DAY_NODES, m).mean(axis=0)


def _gamma_sf(x: NDArray, cv: NDArray) -> NDArray:
    """P(M > x) for a gamma multiplier with mean 1 and coefficient of variation ``cv``
    (a step at 1 when cv = 0)."""
    pos = cv > 0
    shape = 1.0 / np.where(pos, cv, 1.0) ** 2
    with np.errstate(invalid="ignore", over="ignore"):
        sf = special.gammaincc(shape, np.maximum(np.nan_to_num(x, posinf=1e300), 0.0) * shape)
    return np.where(pos, sf, (x < 1.0).astype(float))


# ----------------------------------------------------------------------------- frontier
def cost_risk_frontier(
    demand: pd.DataFrame,
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | ChannelPolicy,
    interval_s: int,
    ps: Sequence[float] = DEFAULT_PS,
    *,
    upper_col: str | None = "volume_hi",
    cost_per_hour: Mapping[str, float] | None = None,
    level_share: float = 0.5,
) -> pd.DataFrame:
    """Paid hours against risk, per channel, for staffing to the mean, the upper band and
    each probability in ``ps``.

    Parameters
    ----------
    demand : DataFrame
        ``channel, ds, volume`` (the mean), ``aht_s``, ``day_cv`` and optionally
        ``dispersion``, ``interval_cv`` and ``upper_col`` (the band's upper volume).
    policies, interval_s
        As :func:`staffing.requirements.compute_requirements`.
    ps : sequence of float
        Probabilities of meeting each interval's target.
    cost_per_hour : mapping, optional
        Cost of a paid hour per channel (default 0).

    Returns
    -------
    DataFrame
        ``channel, staff_to, p, paid_hours, cost, intervals_at_risk`` (expected share of
        open intervals below target), ``day_miss`` (mean probability that a day's SL
        misses target), ``expected_sl`` (volume-weighted) and ``expected_unserved``, plus
        rows ``channel == "all"`` summing hours and cost and averaging the risks weighted
        by volume. Paid hours are the requirement's rostered hours (before the shift
        solver, which adds its own rounding to whole shifts).
    """
    pol = as_policies(policies)
    dist = DemandDistribution.from_frame(demand, level_share=level_share)
    aht = demand["aht_s"].to_numpy(float)
    base = demand[["channel", "ds"]].assign(aht_s=aht)
    is_open = np.ones(len(demand), dtype=bool)
    for ch, p in pol.items():
        sel = dist.channel == ch
        if sel.any() and p.open_hours:
            is_open[sel] = open_mask(demand["ds"][sel], interval_s, p.open_seconds)
    options: list[tuple[str, float, NDArray]] = [("mean", math.nan, dist.mean)]
    if upper_col and upper_col in demand:
        options.append(("upper", math.nan, demand[upper_col].to_numpy(float)))
    options += [(f"p{round(q * 100, 1):g}", float(q), risk_volume(dist, q, pol)) for q in ps]
    rows = []
    cost = dict(cost_per_hour or {})
    live = dist.mean > 0
    for name, q, vol in options:
        req = compute_requirements(base.assign(volume=vol), pol, interval_s,
                                   deferred_tail_days=1)
        req = req.set_index(["channel", "ds"]).reindex(
            pd.MultiIndex.from_arrays([dist.channel, dist.ds]))
        rk = risk_kpis(dist, aht, req["agents"].fillna(0).to_numpy(), pol, interval_s)
        hours = req["rostered"].fillna(0).to_numpy(float) * interval_s / 3600.0
        frame = pd.DataFrame({"channel": dist.channel, "hours": hours, "mean": dist.mean,
                              "below": rk["p_below"].to_numpy(),
                              "day": rk["p_day_below"].to_numpy(),
                              "sl": rk["expected_sl"].to_numpy() * dist.mean,
                              "uns": rk["expected_unserved"].to_numpy(),
                              "use": live & is_open,
                              "date": pd.DatetimeIndex(dist.ds).normalize()})
        for ch, part in list(frame.groupby("channel", sort=True)) + [("all", frame)]:
            u = part[part["use"]]
            days = u.groupby(["channel", "date"])
            dw = days["mean"].sum()
            day_miss = float((days["day"].first() * dw).sum() / dw.sum()) if len(dw) else 0.0
            h = float(part["hours"].sum())
            c = (float(sum(cost.get(k, 0.0) * v for k, v in
                           part.groupby("channel")["hours"].sum().items())))
            with np.errstate(invalid="ignore", divide="ignore"):
                sl_w = u["sl"].notna()
                rows.append({
                    "channel": ch, "staff_to": name, "p": q, "paid_hours": h, "cost": c,
                    "intervals_at_risk": float(u["below"].mean()) if len(u) else 0.0,
                    "day_miss": day_miss,
                    "expected_sl": (float(u["sl"][sl_w].sum() / u["mean"][sl_w].sum())
                                    if sl_w.any() else math.nan),
                    "expected_unserved": float(u["uns"].sum(min_count=1)),
                })
    return pd.DataFrame(rows)


def frontier_step(frontier: pd.DataFrame, start: str = "mean", end: str = "p80",
                  channel: str = "all") -> str:
    """One sentence: what going from ``start`` to ``end`` buys.

    Examples
    --------
    >>> f = pd.DataFrame({"channel": "all", "staff_to": ["mean", "p80"],
    ...                   "paid_hours": [1000.0, 1048.0], "intervals_at_risk": [0.43, 0.19]})
    >>> frontier_step(f)
    '+4.8 % hours buys -24 pt of intervals at risk (mean -> p80)'
    """
    f = frontier[frontier["channel"] == channel].set_index("staff_to")
    for k in (start, end):
        if k not in f.index:
            raise RiskError(f"frontier has no staff_to {k!r}; it has {list(f.index)}")
    dh = 100.0 * (f.at[end, "paid_hours"] / f.at[start, "paid_hours"] - 1.0)
    dr = 100.0 * (f.at[end, "intervals_at_risk"] - f.at[start, "intervals_at_risk"])
    return f"{dh:+.1f} % hours buys {dr:+.0f} pt of intervals at risk ({start} -> {end})"
