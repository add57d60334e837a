"""Intraday profiles of small queues: empirical-Bayes pooling and the profile's window.

The truth is known by construction: Poisson arrivals with a fixed slot profile.
"""

import numpy as np
import pandas as pd
import pytest

from forecast.intraday import build_profile, shrink_profiles
from forecast.volume import forecast_volume

# a lunch and a dinner peak over twelve 60-min slots 11:00-22:59 (a restaurant's day)
SHAPE = np.array([3.0, 5, 4, 2, 1.5, 1.5, 2, 4, 5, 3, 1.5, 1])
SHARE = SHAPE / SHAPE.sum()
HOURS = np.arange(11, 23)


def _poisson(daily_total, weeks, seed, share_by_day=None, start="2024-01-01"):
    rng = np.random.default_rng(seed)
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    ds = days.repeat(HOURS.size) + pd.to_timedelta(np.tile(HOURS, days.size), unit="h")
    p = (np.tile(SHARE, (days.size, 1)) if share_by_day is None
         else np.stack([share_by_day(d) for d in days]))
    return pd.Series(rng.poisson(daily_total * p).ravel().astype(float), index=ds)


def test_shrinkage_weight_is_the_method_of_moments_one():
    # hand computation: base 1/4 everywhere, n = 100 arrivals per row, phi = 1:
    # v = 0.75 / 100 = 0.0075; D = 4 * 0.05^2 = 0.01 for both rows; tau^2 = 0.0025;
    # weight on own = 0.0025 / 0.01 = 0.25 -> 0.25 + 0.25 * 0.05 = 0.2625
    base = np.full((2, 4), 0.25)
    own = np.array([[0.3, 0.2, 0.3, 0.2], [0.2, 0.3, 0.2, 0.3]])
    out = shrink_profiles(own, base, np.array([100.0, 100.0]))
    assert out[0] == pytest.approx([0.2625, 0.2375, 0.2625, 0.2375])
    assert out[1] == pytest.approx([0.2375, 0.2625, 0.2375, 0.2625])
    # twice the dispersion: v = 0.015 > D, the spread is all noise -> the common shape
    assert shrink_profiles(own, base, np.array([100.0, 100.0]), phi=2.0) == pytest.approx(base)
    # a row without arrivals stays empty
    assert shrink_profiles(own, base, np.array([100.0, 0.0]))[1].sum() == 0


def test_small_queue_profile_is_closer_to_the_truth_than_same_slot_averages():
    # 36 arrivals a day (3 per slot), 8 weeks, 40 simulated histories: the pooled (shrunk)
    # profile must beat each weekday's own same-slot average of daily shares, which is
    # what a planner's spreadsheet does
    err_prof, err_raw = [], []
    for seed in range(40):
        s = _poisson(36.0, 8, seed)
        prof = build_profile(s, 3600)
        m = s.to_numpy().reshape(-1, HOURS.size)
        wd = pd.DatetimeIndex(s.index[:: HOURS.size]).day_of_week.to_numpy()
        share = m / m.sum(axis=1, keepdims=True)
        for d in range(7):
            err_prof.append(np.sum((prof.shares[d][HOURS] - SHARE) ** 2))
            err_raw.append(np.sum((share[wd == d].mean(axis=0) - SHARE) ** 2))
    # the raw average's error is about the multinomial variance of 8 days x 36 arrivals,
    # sum p(1 - p) / 288 ~ 0.003; the pooled one uses 7x the arrivals
    assert np.mean(err_raw) == pytest.approx(np.sum(SHARE * (1 - SHARE)) / 288, rel=0.35)
    assert np.mean(err_prof) < 0.35 * np.mean(err_raw)


def test_ratio_estimator_is_unbiased_for_a_few_arrivals_per_slot():
    # 12 arrivals a day (one per slot): the mean profile over 60 histories sits on the truth
    # within simulation error (4 standard errors per slot)
    shares = np.stack([build_profile(_poisson(12.0, 8, seed), 3600).shares[2][HOURS]
                       for seed in range(60)])
    se = shares.std(axis=0, ddof=1) / np.sqrt(len(shares))
    assert np.all(np.abs(shares.mean(axis=0) - SHARE) < 4 * se + 1e-3)


def test_distinct_weekday_of_a_large_queue_keeps_its_shape():
    # Saturday peaks late at 5,000 arrivals a day: the gap is far above counting noise
    late = SHARE[::-1]
    s = _poisson(5000.0, 8, 0, share_by_day=lambda d: late if d.day_of_week == 5 else SHARE)
    prof = build_profile(s, 3600)
    assert prof.shares[5][HOURS] == pytest.approx(late, abs=0.005)
    assert prof.shares[1][HOURS] == pytest.approx(SHARE, abs=0.005)


def _auto_profile_weeks(s):
    hist = pd.DataFrame({"ds": s.index, "y": s.to_numpy()})
    fc = forecast_volume(hist, "7D", "60min", model="auto",
                         candidates=("seasonal_naive", "same_weekday_average"))
    return fc.attrs["selection"]["y"]["profile_weeks"]


def test_auto_takes_a_long_profile_window_when_the_shape_is_stable():
    # a stable shape, 3 arrivals a slot: more weeks only remove noise
    assert _auto_profile_weeks(_poisson(36.0, 60, 1)) > 8


def test_auto_takes_recent_weeks_when_the_shape_changed():
    # a large queue whose shape flipped 12 weeks before the end: only recent weeks are right
    start = pd.Timestamp("2024-01-01")
    flip = start + pd.Timedelta(weeks=48)
    s = _poisson(5000.0, 60, 2, share_by_day=lambda d: SHARE if d >= flip else SHARE[::-1])
    assert _auto_profile_weeks(s) == 8
