"""On-the-day re-forecast: the rest of a day's contacts learned from the intervals seen.

The re-forecast is the plan's offered volume scaled by a multiplier learned from the
intervals already observed. Contacts are taken as Poisson around ``m x planned`` with a
gamma prior on ``m`` of mean 1 worth ``prior_contacts`` contacts, so after ``A`` actual
against ``F`` planned contacts ``m`` is ``Gamma(prior + A, prior + F)``: mean
``(prior + A) / (prior + F)``, pulled towards the plan early in the day and following the
actuals once they outweigh the prior (:func:`volume_multiplier`). The band of the
re-forecast is predictive: the contacts still to come are Poisson around ``m x planned``
with ``m`` drawn from that gamma, a negative binomial (:func:`predictive_band`; swings
within the day beyond Poisson noise are not in it). Handle time is re-forecast the same
way, as a ratio of actual to planned handle time of the contacts that report one, with the
same prior weight (:func:`aht_multiplier`). :func:`reforecast_channel` puts the three
together over one channel's intervals of the day.

References: the gamma-Poisson conjugate pair and its negative-binomial predictive
distribution (any Bayesian text, e.g. Gelman et al., *Bayesian Data Analysis*, ch. 2.6).

Examples
--------
>>> m = volume_multiplier(actual=260.0, planned=200.0, prior_contacts=40.0, level=80.0)
>>> round(m.mean, 4)  # (40 + 260) / (40 + 200)
1.25
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["ChannelReforecast", "VolumeMultiplier", "aht_multiplier", "band_quantiles",
           "predictive_band", "reforecast_channel", "volume_multiplier"]


def band_quantiles(level: float) -> tuple[float, float]:
    """Lower and upper quantile of a central band covering ``level`` percent.

    >>> band_quantiles(80.0)
    (0.09999999999999998, 0.9)
    """
    if not 0 < level < 100:
        raise ValueError(f"level must be in (0, 100), got {level!r}")
    return (1 - level / 100) / 2, 1 - (1 - level / 100) / 2


@dataclass(frozen=True)
class VolumeMultiplier:
    """The multiplier of the plan's volume, ``m ~ Gamma(shape, rate)``.

    Attributes
    ----------
    shape, rate : float
        ``prior + actual`` and ``prior + planned`` contacts.
    mean, lo, hi : float
        Its mean and the band at the level asked for (a fixed value when nothing is
        learned: 0 when contacts were planned and none seen without a prior, 1 when
        nothing was planned yet).
    """

    shape: float
    rate: float
    mean: float
    lo: float
    hi: float

    @property
    def learned(self) -> bool:
        """True when the gamma is proper (``shape > 0`` and ``rate > 0``)."""
        return self.rate > 0 and self.shape > 0


def volume_multiplier(actual: float, planned: float, prior_contacts: float,
                      level: float) -> VolumeMultiplier:
    """Posterior of the volume multiplier after ``actual`` against ``planned`` contacts.

    Parameters
    ----------
    actual, planned : float
        Contacts seen and planned over the observed intervals.
    prior_contacts : float
        Weight of the plan, in contacts (0: actuals alone).
    level : float
        Coverage of the band in percent.

    Returns
    -------
    VolumeMultiplier

    Raises
    ------
    ValueError
        A negative or infinite ``prior_contacts``, a ``level`` outside (0, 100).

    Examples
    --------
    >>> volume_multiplier(520.0, 400.0, 80.0, 80.0).mean  # (80 + 520) / (80 + 400)
    1.25
    >>> volume_multiplier(0.0, 0.0, 0.0, 80.0).mean  # nothing planned or seen: the plan
    1.0
    """
    if prior_contacts < 0 or not np.isfinite(prior_contacts):
        raise ValueError(f"prior_contacts must be >= 0, got {prior_contacts!r}")
    q_lo, q_hi = band_quantiles(level)
    shape, rate = prior_contacts + actual, prior_contacts + planned
    if rate > 0 and shape > 0:
        return VolumeMultiplier(shape, rate, shape / rate,
                                float(stats.gamma.ppf(q_lo, shape, scale=1 / rate)),
                                float(stats.gamma.ppf(q_hi, shape, scale=1 / rate)))
    if rate > 0:  # nothing seen against a plan, no prior: zero
        return VolumeMultiplier(shape, rate, 0.0, 0.0, 0.0)
    return VolumeMultiplier(shape, rate, 1.0, 1.0, 1.0)  # nothing planned or seen yet


def predictive_band(planned: np.ndarray, multiplier: VolumeMultiplier,
                    level: float) -> tuple[np.ndarray, np.ndarray]:
    """Band of contacts still to come around ``planned``, per entry.

    Contacts ~ Poisson(m x planned) with m ~ Gamma(shape, rate) is a negative binomial with
    ``n = shape`` and ``p = rate / (rate + planned)``. Without a learned multiplier the band
    collapses to ``planned x m``.

    Examples
    --------
    >>> m = VolumeMultiplier(shape=1.0, rate=10.0, mean=0.1, lo=0.0, hi=0.0)
    >>> [a.tolist() for a in predictive_band(np.array([10.0]), m, 80.0)]  # geometric(1/2)
    [[0.0], [3.0]]
    """
    planned = np.asarray(planned, dtype=float)
    if not multiplier.learned:
        return planned * multiplier.mean, planned * multiplier.mean
    q_lo, q_hi = band_quantiles(level)
    p = multiplier.rate / (multiplier.rate + np.maximum(planned, 0.0))
    return (stats.nbinom.ppf(q_lo, multiplier.shape, p).astype(float),
            stats.nbinom.ppf(q_hi, multiplier.shape, p).astype(float))


def aht_multiplier(handle_s: float, planned_handle_s: float, mean_aht_s: float,
                   prior_contacts: float) -> float:
    """Ratio of actual to planned handle time, pulled towards 1 by the prior.

    Parameters
    ----------
    handle_s : float
        Handle seconds of the observed contacts that report a handle time.
    planned_handle_s : float
        The same contacts at the plan's handle time.
    mean_aht_s : float
        The plan's mean handle time of the day (the prior's contacts are worth this much).
    prior_contacts : float
        Weight of the plan, in contacts.

    Examples
    --------
    >>> aht_multiplier(86_400.0, 72_000.0, 180.0, 100.0)  # (86400 + 18000) / (72000 + 18000)
    1.16
    """
    den = planned_handle_s + prior_contacts * mean_aht_s
    return (handle_s + prior_contacts * mean_aht_s) / den if den > 0 else 1.0


@dataclass(frozen=True)
class ChannelReforecast:
    """One channel's day re-forecast (arrays are per interval of the day, in order).

    Attributes
    ----------
    reforecast, lo, hi : ndarray
        The actual contacts where observed, the re-forecast and its band after.
    aht_s : ndarray
        Handle time: the actual where observed and reported, the plan's scaled by
        ``aht_ratio`` after, the plan's otherwise.
    multiplier : VolumeMultiplier
        The learned multiplier.
    aht_ratio : float
        Actual over planned handle time.
    actual_so_far, planned_so_far : float
        Contacts seen and planned over the observed intervals.
    rest_lo, rest_hi : float
        Band of the contacts still to come over the rest of the day.
    """

    reforecast: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    aht_s: np.ndarray
    multiplier: VolumeMultiplier
    aht_ratio: float
    actual_so_far: float
    planned_so_far: float
    rest_lo: float
    rest_hi: float


def reforecast_channel(planned, observed, actual, aht_plan_s, contacts_with_aht, handle_s,
                       *, prior_contacts: float, level: float) -> ChannelReforecast:
    """Re-forecast the rest of one channel's day from the intervals observed.

    Parameters
    ----------
    planned : array-like
        The plan's contacts per interval.
    observed : array-like of bool
        Intervals already seen.
    actual : array-like
        Contacts seen per interval (read where ``observed``).
    aht_plan_s : array-like
        The plan's handle time per interval, seconds.
    contacts_with_aht, handle_s : array-like
        Per interval, the contacts seen that report a handle time and their handle
        seconds (0 where none).
    prior_contacts : float
        Weight of the plan, in contacts.
    level : float
        Coverage of the bands in percent.

    Returns
    -------
    ChannelReforecast

    Examples
    --------
    >>> r = reforecast_channel([100.0] * 4, [True, True, False, False], [130.0, 130.0, 0, 0],
    ...                        [180.0] * 4, [0.0] * 4, [0.0] * 4, prior_contacts=40.0,
    ...                        level=80.0)
    >>> r.reforecast.tolist()  # after: 100 x (40 + 260) / (40 + 200)
    [130.0, 130.0, 125.0, 125.0]
    """
    obs = np.asarray(observed, dtype=bool)
    planned = np.asarray(planned, dtype=float)
    actual = np.asarray(actual, dtype=float)
    aht_plan = np.asarray(aht_plan_s, dtype=float)
    with_aht = np.asarray(contacts_with_aht, dtype=float)
    handle = np.asarray(handle_s, dtype=float)
    big_a = float(actual[obs].sum())
    big_f = float(planned[obs].sum())
    m = volume_multiplier(big_a, big_f, prior_contacts, level)
    mean_aht = float(np.average(aht_plan, weights=np.maximum(planned, 1e-9)))
    aht_ratio = aht_multiplier(float(handle[obs].sum()),
                               float((with_aht[obs] * aht_plan[obs]).sum()), mean_aht,
                               prior_contacts)
    after = ~obs
    lo, hi = predictive_band(planned, m, level)
    act_aht = np.divide(handle, with_aht, out=np.zeros(len(handle)), where=with_aht > 0)
    aht = np.where(obs & (with_aht > 0), act_aht,
                   aht_plan * np.where(after, aht_ratio, 1.0))
    rest_lo, rest_hi = predictive_band(np.array([float(planned[after].sum())]), m, level)
    return ChannelReforecast(
        reforecast=np.where(obs, actual, planned * m.mean),
        lo=np.where(obs, actual, lo), hi=np.where(obs, actual, hi), aht_s=aht,
        multiplier=m, aht_ratio=aht_ratio, actual_so_far=big_a, planned_so_far=big_f,
        rest_lo=float(rest_lo[0]), rest_hi=float(rest_hi[0]))
