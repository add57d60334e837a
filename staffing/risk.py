"""Demand as a distribution: staffing to a chosen risk, and what each staffing risks.

Why it is long: the predictive distribution, the chance-constrained requirement, the risk
KPIs of a staffing and the cost-risk frontier are four views of one distribution and share
its quadrature; the spread's measurement is in :mod:`staffing.spread`.

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

Where the spread comes from (:mod:`staffing.spread`, re-exported here)
--------------------------------------------------------------------
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

from staffing.policy import ChannelPolicy, open_mask
from staffing.queue_models import queue_model
from staffing.requirements import as_policies, compute_requirements, fill_aht
from staffing.spread import (
    HALF_LIVES,
    RiskError,
    Spread,
    spread_from_backtest,
    spread_from_band,
)

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


# ----------------------------------------------------------------------------- volumes
def risk_volume(dist: DemandDistribution, p: float,
                policies: Mapping[str, ChannelPolicy] | None = None) -> NDArray:
    """Volume to staff each interval for so that its target holds with probability ``p``.

    Queues (Erlang C/A, chat): the ``p``-quantile of the interval's contacts (a whole
    number). Deferred channels (their queue model is ``deferred``): every interval
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
                                          if queue_model(pol.model).deferred])
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
    return queue_model(pol.model).service_level(vol, aht, interval_s, agents, pol)


def _max_volume(pol: ChannelPolicy, aht: NDArray, interval_s: int, agents: NDArray,
                target: float) -> NDArray:
    """Largest whole volume at which ``agents`` still meet ``target`` (-1 if none):
    bisection on whole numbers, all intervals at once."""
    qm = queue_model(pol.model)
    slots = agents * qm.servers_per_agent(pol)
    lo = np.zeros(len(agents))  # meets target (checked below)
    # abandonment lets a few agents pass the target at far more than their capacity
    cap = np.maximum(slots, 1.0) * interval_s / aht * (4.0 if qm.abandons_in_sizing else 1.0)
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
    aht = fill_aht(np.broadcast_to(np.asarray(aht_s, float), (n,)).copy())
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
        if queue_model(p.model).deferred:
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
