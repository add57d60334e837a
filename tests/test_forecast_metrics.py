"""Accuracy metrics and backtests against hand-computed values."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.backtest import (
    BacktestError,
    backtest,
    bias,
    calibration_factor,
    coverage,
    mase,
    scale_interval,
    wape,
    window_calibration_factor,
)


def test_wape_hand_computed():
    # |10-12| + |20-18| + |30-30| = 4; sum|y| = 60 -> 4/60
    assert wape([10, 20, 30], [12, 18, 30]) == pytest.approx(4 / 60)
    # over- and under-forecasts do not cancel: (5 + 5) / 20
    assert wape([10, 10], [15, 5]) == pytest.approx(0.5)
    assert np.isnan(wape([0, 0], [1, 1]))


def test_bias_hand_computed():
    # (12 + 18 + 33) - 60 = 3 -> +5 % over-forecast
    assert bias([10, 20, 30], [12, 18, 33]) == pytest.approx(0.05)
    assert bias([10, 10], [15, 5]) == pytest.approx(0.0)


def test_mase_hand_computed():
    # train 1..8 with season 2: naive errors |3-1|, |4-2|, ... all 2 -> scale 2
    train = np.arange(1, 9, dtype=float)
    # forecast errors |9-10| = 1 and |10-13| = 3 -> MAE 2 -> MASE 1
    assert mase([9, 10], [10, 13], train, 2) == pytest.approx(1.0)
    # season 1: naive errors all 1 -> MASE = MAE = 2
    assert mase([9, 10], [10, 13], train, 1) == pytest.approx(2.0)
    with pytest.raises(BacktestError, match="season_length"):
        mase([1], [1], [1.0, 2.0], 2)


def test_coverage_hand_computed():
    # inside, on the lower edge, above, below -> 2 of 4
    y = [5, 4, 10, 1]
    assert coverage(y, [4, 4, 4, 4], [6, 6, 6, 6]) == pytest.approx(0.5)


def test_calibration_factor_hand_computed():
    # yhat = 100, band 100/e .. 100*e (log half-width 1); log errors 0.0, 0.1, ..., 1.9 ->
    # ratio |e| / 1; with n = 20 the conformal rank is ceil(21 * 0.8) = 17 -> the 17/20
    # empirical quantile of 0, .1, ..., 1.9 is 1.6 (linear interpolation at p = 0.85)
    e = np.arange(20) / 10
    y = 100 * np.exp(e)
    k = calibration_factor(y, np.full(20, 100.0), np.full(20, 100 / np.e),
                           np.full(20, 100 * np.e), 80, bounds=(0.1, 10))
    assert k == pytest.approx(np.quantile(e, 17 / 20))
    assert k == pytest.approx(1.615)
    lo, hi = scale_interval([100.0], [100 / np.e], [100 * np.e], 2.0)
    assert lo[0] == pytest.approx(100 * np.exp(-2)) and hi[0] == pytest.approx(100 * np.exp(2))


def _windows(errors_per_window):
    """Stack windows of log errors around yhat = 100 with the band 100/e .. 100 e."""
    e = np.concatenate(errors_per_window)
    n = e.size
    win = np.concatenate([np.full(len(w), i) for i, w in enumerate(errors_per_window)])
    return 100 * np.exp(e), np.full(n, 100.0), np.full(n, 100 / np.e), np.full(n, 100 * np.e), win


def test_window_calibration_factor_hand_computed():
    base = np.arange(20) * 0.05  # log errors 0, .05, ..., .95: all inside half-width 1
    # windows covering 1, 1, 1, 1, 0 of their days: mean 0.8 is the nominal share itself
    # (sample sd 0.447, se 0.2) -> keep the band
    y, f, lo, hi, w = _windows([base] * 4 + [np.full(20, 1.5)])
    assert window_calibration_factor(y, f, lo, hi, w, 80) == 1.0
    # coverages 1, 1, .95, .95 (one error of 1.5 in each of the last two windows): mean
    # .975, sample sd sqrt(4 * .025^2 / 3) = .0289, se .0144; |.975 - .8| > 1.96 se ->
    # pooled conformal factor: n = 80, rank ceil(81 * .8) = 65, p = 65/80 = .8125; the
    # sorted ratios hold 0, .05, ..., .90 four times each, so positions 64 and 65
    # (p * 79 = 64.19) are both .80 -> k = 0.8
    off = base.copy()
    off[-1] = 1.5
    y, f, lo, hi, w = _windows([base, base, off, off])
    assert window_calibration_factor(y, f, lo, hi, w, 80) == pytest.approx(0.80)
    # one window is no evidence about the spread between windows -> 1
    y, f, lo, hi, w = _windows([base])
    assert window_calibration_factor(y, f, lo, hi, w, 80) == 1.0
    with pytest.raises(BacktestError, match="one shape"):
        window_calibration_factor(y, f, lo, hi[:-1], w, 80)


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=30))
@settings(max_examples=50, deadline=None)
def test_wape_of_perfect_forecast_is_zero(y):
    y = np.asarray(y)
    if y.sum() > 0:
        assert wape(y, y) == 0.0


def test_backtest_seasonal_naive_on_periodic_series_is_exact():
    # a purely weekly series: seasonal naive is exact, so WAPE = bias = 0 and MASE = 0
    ds = pd.date_range("2024-01-01", periods=140, freq="D")
    y = np.tile([100.0, 120, 110, 105, 130, 80, 60], 20)
    bt = backtest(pd.DataFrame({"unique_id": "a", "ds": ds, "y": y}), 14, "D",
                  ["seasonal_naive", "same_weekday_average"], 3)
    assert list(bt["model"]) == ["seasonal_naive", "same_weekday_average"]
    assert bt["wape"].tolist() == pytest.approx([0.0, 0.0])
    assert bt["n_points"].tolist() == [42, 42]
    assert bt["coverage"].tolist() == pytest.approx([1.0, 1.0])


def test_backtest_rejects_too_short_history():
    ds = pd.date_range("2024-01-01", periods=20, freq="D")
    h = pd.DataFrame({"unique_id": "a", "ds": ds, "y": 1.0})
    with pytest.raises(BacktestError, match="too short"):
        backtest(h, 14, "D", "seasonal_naive", 3)
    with pytest.raises(BacktestError, match="n_windows"):
        backtest(h, 1, "D", "seasonal_naive", 0)


def test_intraday_backtest_tests_whole_open_days():
    # a periodic 30-min series open 09:00-12:59 (8 slots) every day: seasonal naive is
    # exact, and every window holds whole days of open slots only (7 days x 8 slots)
    ds = pd.date_range("2024-01-01", periods=70 * 48, freq="30min")
    ds = ds[(ds.hour >= 9) & (ds.hour < 13)]
    y = (10 + ds.day_of_week * 3 + ds.hour).astype(float)
    bt = backtest(pd.DataFrame({"unique_id": "x", "ds": ds, "y": y}), "7D", "30min",
                  "seasonal_naive", 2)
    assert bt["wape"].iloc[0] == pytest.approx(0.0)
    assert bt["n_points"].iloc[0] == 2 * 7 * 8
