"""Contact rate with delivery lag: recovery of known lags from synthetic data."""

import numpy as np
import pandas as pd
import pytest

from forecast.contact_rate import (
    ContactRateError,
    apply_contact_rate,
    daily_noise_log,
    estimate_contact_rate,
    rate_season_factors,
)


def _orders(n=400, seed=1):
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2023-01-01", periods=n, freq="D")
    # independent day-to-day variation identifies the lag (smooth orders would not)
    return pd.Series(rng.uniform(5_000, 15_000, n), index=ds)


def test_single_lag_recovered_exactly_without_noise():
    o = _orders()
    c = (0.05 * o.shift(3)).dropna()  # every order -> 0.05 contacts three days later
    est = estimate_contact_rate(o, c, max_lag=6, smooth=0.0)
    # exact data: NNLS solves it exactly -> weight 0.05 at lag 3, zero elsewhere
    assert est.lag_weights == pytest.approx([0, 0, 0, 0.05, 0, 0, 0], abs=1e-6)
    assert est.rate == pytest.approx(0.05, rel=1e-6)
    assert est.weekday_factors == pytest.approx(np.ones(7), abs=1e-6)
    assert est.sigma_log == pytest.approx(0.0, abs=1e-6)


def test_lag_shape_recovered_with_poisson_noise():
    o = _orders(600)
    shape = np.array([0.1, 0.2, 0.4, 0.2, 0.1])  # shares at lags 0..4, rate 4 %
    mean = sum(0.04 * s * o.shift(k) for k, s in enumerate(shape)).dropna()
    c = pd.Series(np.random.default_rng(2).poisson(mean.to_numpy()), index=mean.index)
    est = estimate_contact_rate(o, c.astype(float), max_lag=8, smooth=0.0)
    # Poisson noise on ~400 contacts/day: shares within 0.03, rate within 1 %
    assert est.lag_shares[:5] == pytest.approx(shape, abs=0.03)
    assert est.lag_shares[5:].sum() < 0.03
    assert est.rate == pytest.approx(0.04, rel=0.01)
    assert int(np.argmax(est.lag_weights)) == 2


def test_weekday_factors_recovered():
    o = _orders()
    f = np.array([1.2, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9])  # mean 1
    base = (0.03 * o.shift(1)).dropna()
    c = base * f[base.index.day_of_week]
    est = estimate_contact_rate(o, c, max_lag=3, smooth=0.0)
    assert est.weekday_factors == pytest.approx(f, rel=1e-3)
    assert est.rate == pytest.approx(0.03, rel=1e-3)


def test_apply_contact_rate_hand_computed_and_override():
    ds = pd.date_range("2024-01-01", periods=120, freq="D")
    o = pd.Series(1000.0, index=ds).where(ds.day < 28, 2000.0)
    rng = np.random.default_rng(3)
    o = o * rng.uniform(0.9, 1.1, o.size)
    c = (0.1 * o.shift(1)).dropna()
    est = estimate_contact_rate(o, c, max_lag=2, smooth=0.0)
    days = pd.date_range("2024-04-20", periods=5, freq="D")
    out = apply_contact_rate(est, o, days, origin=pd.Timestamp("2024-04-19"))
    # contacts on day t = 0.1 x orders on t-1 (no drift in exact data)
    assert out["yhat"].to_numpy() == pytest.approx(0.1 * o.shift(1).reindex(days).to_numpy(),
                                                   rel=1e-4)
    over = apply_contact_rate(est, o, days, origin=pd.Timestamp("2024-04-19"), rate=0.065)
    assert over["yhat"].to_numpy() == pytest.approx(0.065 * o.shift(1).reindex(days).to_numpy(),
                                                    rel=1e-4)
    assert (over["yhat_lo"] <= over["yhat"]).all() and (over["yhat"] <= over["yhat_hi"]).all()


def test_missing_orders_named():
    o = _orders(60)
    c = (0.05 * o.shift(1)).dropna()
    est = estimate_contact_rate(o, c, max_lag=2)
    with pytest.raises(ContactRateError, match="orders missing"):
        apply_contact_rate(est, o, pd.date_range("2023-03-05", periods=3), origin=o.index[-1])


def test_too_short_history_rejected():
    o = _orders(10)
    with pytest.raises(ContactRateError, match="needs"):
        estimate_contact_rate(o, o * 0.1, max_lag=10)


def test_seasonal_rate_factor_from_two_past_years():
    # rate 5 % all year except December, where it is 6 % (x1.2) in both past years
    ds = pd.date_range("2021-12-01", "2024-09-30", freq="D")
    o = pd.Series(np.random.default_rng(4).uniform(900, 1100, ds.size), index=ds)
    rate = np.where(ds.month == 12, 0.06, 0.05)
    c = pd.Series(rate * o.to_numpy(), index=ds)
    est = estimate_contact_rate(o, c, max_lag=0, smooth=0.0)
    days = pd.date_range("2024-11-29", "2024-12-02", freq="D")
    f = rate_season_factors(est, o, c, pd.Timestamp("2024-09-30"), days)
    # Nov: same rate as the reference September -> 1; Dec: 0.06 / 0.05 = 1.2
    assert f == pytest.approx([1.0, 1.0, 1.2, 1.2], rel=1e-6)
    # with one past year only, the factor is not trusted (min_years=2)
    f1 = rate_season_factors(est, o[o.index >= "2023-08-01"], c[c.index >= "2023-08-01"],
                             pd.Timestamp("2024-09-30"), days)
    assert f1 == pytest.approx([1.0, 1.0, 1.0, 1.0])


def test_daily_noise_log_recovers_simulated_noise_sd():
    # simulation: weekday pattern x slow trend x iid log-normal noise of sd 0.03 (the
    # estimator removes the first two and measures the third)
    rng = np.random.default_rng(11)
    ds = pd.date_range("2023-01-01", periods=730, freq="D")
    wk = np.log([1.07, 1.04, 1.01, 0.99, 0.97, 0.93, 0.99])[ds.day_of_week]
    y = pd.Series(np.exp(10 + 0.001 * np.arange(730) + wk + rng.normal(0, 0.03, 730)),
                  index=ds)
    assert daily_noise_log(y) == pytest.approx(0.03, rel=0.12)
    # a spike on an excluded event day does not move it; without exclusion a single
    # outlier barely does either (MAD)
    y2 = y.copy()
    y2.iloc[400] *= 3
    assert daily_noise_log(y2, exclude=ds[[400]]) == pytest.approx(daily_noise_log(y), rel=0.02)


def test_orders_noise_averages_out_through_the_lag():
    # hand computation: lag shares (0.5, 0.5), orders log-sd 0.05 on every forecast day of
    # which 0.03 is independent day noise: common part sqrt(0.05^2 - 0.03^2) = 0.04,
    # s_orders^2 = 0.04^2 + (0.5^2 + 0.5^2) 0.03^2 = 0.00205; with sigma_log = 0 and no
    # rate-level spread, yhat_hi / yhat = exp(z80 sqrt(0.00205)), z80 = 1.2815516
    from forecast.contact_rate import ContactRate

    est = ContactRate(np.array([0.02, 0.02]), np.ones(7), 0.04, 0.0, 0.0, np.zeros(10))
    ds = pd.date_range("2024-01-01", periods=20, freq="D")
    o = pd.Series(1000.0, index=ds)
    days = ds[10:]
    sd = pd.Series(0.05, index=days)
    out = apply_contact_rate(est, o, days, origin=ds[9], orders_sd_log=sd,
                             orders_noise_log=0.03)
    assert out["yhat"].to_numpy() == pytest.approx(np.full(10, 40.0))
    # the first forecast day also sums one history day (sd 0): common 0.5 * 0.04 = 0.02,
    # noise 0.5^2 * 0.03^2 -> s^2 = 0.0004 + 0.000225
    s = np.r_[np.sqrt(0.000625), np.full(9, np.sqrt(0.00205))]
    assert (out["yhat_hi"] / out["yhat"]).to_numpy() == pytest.approx(np.exp(1.2815516 * s))
    # without the split the band keeps the fully correlated sum (0.5 + 0.5) * 0.05
    full = apply_contact_rate(est, o, days, origin=ds[9], orders_sd_log=sd)
    assert (full["yhat_hi"] / full["yhat"]).to_numpy()[1:] == pytest.approx(
        np.exp(1.2815516 * 0.05))


def test_level_spread_is_matched_at_the_interval_quantile():
    # constant orders, rate 5 % stepping to 6 % on day 300 of 420: the log 28-day level is
    # 0 before day 300, ramps over days 300..326 and is log 1.2 from day 327 on. Over the
    # last 365 days (t = 55..419) and h = 100 there are 265 pairs: 145 with no change
    # (t < 200), 47 partial (t = 200..226 and 300..319) and 73 with the whole jump
    # (t = 227..299); the 80 % quantile (position 0.8 * 264 = 211.2 > 192) is the whole
    # jump, so level_sd[99] = log(1.2) / z80. For h = 1 only 27 of 364 changes are not
    # zero (7 %), so the 80 % quantile is 0. (A root mean square would give neither.)
    ds = pd.date_range("2023-01-01", periods=420, freq="D")
    o = pd.Series(1000.0, index=ds)
    c = pd.Series(np.where(np.arange(420) < 300, 50.0, 60.0), index=ds)
    est = estimate_contact_rate(o, c, max_lag=2, smooth=0.0, level=80)
    assert est.level_sd[99] == pytest.approx(np.log(1.2) / 1.2815516, rel=1e-6)
    assert est.level_sd[0] == pytest.approx(0.0, abs=1e-12)
    # at 50 % the quantile at h = 100 is the (0.5 * 264 = 132)nd value: still a zero
    assert estimate_contact_rate(o, c, max_lag=2, smooth=0.0, level=50).level_sd[99] == (
        pytest.approx(0.0, abs=1e-12))
    with pytest.raises(ContactRateError, match="level"):
        estimate_contact_rate(o, c, max_lag=2, level=100)


def _small_queue(rate: float, seed: int) -> tuple[pd.Series, pd.Series]:
    """Orders and the Poisson contacts of a small queue: ``rate`` contacts an order, one
    day after it."""
    o = _orders(500, seed=seed)
    mean = (rate * o.shift(1)).dropna()
    return o, pd.Series(np.random.default_rng(seed + 1).poisson(mean.to_numpy()),
                        index=mean.index, dtype=float)


def test_a_small_queue_with_days_without_contacts_has_a_finite_band():
    # 0.0003 contacts an order (~3 a day): some days see none, whose log ratio is -inf;
    # the spread is measured on the days with contacts, so the band stays finite
    o, c = _small_queue(0.0003, 4)
    assert (c == 0).sum() > 5
    est = estimate_contact_rate(o, c, max_lag=2, smooth=0.0)
    assert np.isfinite(est.sigma_log) and est.sigma_log > 0
    days = pd.date_range(c.index[-1] + pd.Timedelta(days=1), periods=7, freq="D")
    fc = apply_contact_rate(est, o.reindex(o.index.union(days)).ffill(), days,
                            origin=c.index[-1])
    assert np.isfinite(fc[["yhat", "yhat_lo", "yhat_hi"]].to_numpy()).all()
    assert (fc["yhat_hi"] > fc["yhat"]).all()


def test_a_queue_without_contacts_on_most_days_is_estimated():
    # ~0.4 contacts a day: most days have none, so every weekday's median ratio is 0; the
    # weekday factors fall back to each weekday's ratio of sums and the fit stays finite
    o, c = _small_queue(0.00004, 6)
    assert (c == 0).mean() > 0.5
    est = estimate_contact_rate(o, c, max_lag=2, smooth=0.0)
    assert np.isfinite(est.weekday_factors).all() and (est.weekday_factors > 0).all()
    # the level: contacts per order over the recent window, near the true 0.00004
    assert est.rate == pytest.approx(0.00004, rel=0.5)
