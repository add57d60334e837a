"""forecast_volume: gaps, closed days and hours, events, intervals, validation, cache."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import ForecastCache, forecast_volume
from forecast.models import ModelError, seasonal_naive
from forecast.volume import VolumeError

WEEK = np.array([100.0, 120, 110, 105, 130, 80, 60])


def _daily(n=140, start="2024-01-01", noise=0.0, seed=0, uid="a"):
    ds = pd.date_range(start, periods=n, freq="D")
    rng = np.random.default_rng(seed)
    y = WEEK[ds.day_of_week] * (1 + noise * rng.standard_normal(n))
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.maximum(y, 0)})


def test_seasonal_naive_repeats_last_week_hand_computed():
    h = _daily(28)
    fc = forecast_volume(h, 10, "D", model="seasonal_naive")
    # history ends on a Sunday (2024-01-28); the next 10 days are Mon..Wed of last week
    assert fc["ds"].iloc[0] == pd.Timestamp("2024-01-29")
    assert fc["yhat"].tolist() == [100, 120, 110, 105, 130, 80, 60, 100, 120, 110]
    assert fc.attrs["models"] == {"a": "seasonal_naive"}


def test_horizon_as_duration_equals_steps():
    h = _daily(56, noise=0.05)
    a = forecast_volume(h, 14, "D", model="same_weekday_average")
    b = forecast_volume(h, "14D", "D", model="same_weekday_average")
    pd.testing.assert_frame_equal(a, b)


def test_closed_weekends_get_no_rows_and_missing_weekday_is_imputed():
    h = _daily(84, noise=0.02)
    h = h[h["ds"].dt.day_of_week < 5]  # closed at weekends: no rows
    h = h[h["ds"] != pd.Timestamp("2024-03-06")]  # one missing Wednesday (a data gap)
    for model in ("seasonal_naive", "same_weekday_average", "ets"):
        fc = forecast_volume(h, "14D", "D", model=model)
        assert (fc["ds"].dt.day_of_week < 5).all(), model
        assert len(fc) == 10, model  # 14 calendar days, 10 open
        assert fc["yhat"].between(80, 160).all(), model
    # "B" counts business days
    fc = forecast_volume(h, 10, "B", model="seasonal_naive")
    assert len(fc) == 10 and (fc["ds"].dt.day_of_week < 5).all()


def _with_promo(noise=0.03):
    h = _daily(196, noise=noise, seed=5)
    promo_days = pd.to_datetime(["2024-02-07", "2024-04-03", "2024-05-29", "2024-07-17"])
    h.loc[h["ds"].isin(promo_days), "y"] *= 2.0  # promotions double the volume
    events = pd.DataFrame({"ds": list(promo_days[:3]) + [promo_days[3]], "event": "promo"})
    return h, events


@pytest.mark.parametrize("model", ["same_weekday_average", "ets"])
def test_events_move_the_forecast_on_their_days(model):
    h, events = _with_promo()
    hist = h[h["ds"] <= "2024-07-14"]  # history ends on a Sunday; promo on the 17th is ahead
    with_ev = forecast_volume(hist, "14D", "D", model=model, events=events).set_index("ds")
    no_ev = forecast_volume(hist, "14D", "D", model=model).set_index("ds")
    day = pd.Timestamp("2024-07-17")  # a Wednesday: normal level 110
    # the learned uplift is the median actual / clean-baseline ratio of past promos (~2)
    assert with_ev.loc[day, "yhat"] == pytest.approx(2 * 110, rel=0.12)
    assert no_ev.loc[day, "yhat"] == pytest.approx(110, rel=0.12)
    other = with_ev.index != day
    assert with_ev.loc[other, "yhat"].to_numpy() == pytest.approx(
        WEEK[with_ev.index[other].day_of_week], rel=0.1)


@pytest.mark.slow
def test_prophet_events_move_the_forecast():
    h, events = _with_promo(noise=0.02)
    hist = h[h["ds"] <= "2024-07-14"]
    fc = forecast_volume(hist, "14D", "D", model="prophet", events=events).set_index("ds")
    wed = fc.loc["2024-07-24", "yhat"]  # the ordinary Wednesday a week later
    assert fc.loc["2024-07-17", "yhat"] / wed == pytest.approx(2.0, rel=0.15)


def test_holiday_closed_in_history_stays_closed():
    h = _daily(900, start="2023-01-02")
    closed = pd.to_datetime(["2023-05-01", "2024-05-01"])
    h = h[~h["ds"].isin(closed)]  # no rows: the centre was closed on the holiday
    events = pd.DataFrame({"ds": list(closed) + [pd.Timestamp("2025-05-01")],
                           "event": "Labour Day"})
    hist = h[h["ds"] <= "2025-04-27"]
    fc = forecast_volume(hist, "14D", "D", model="same_weekday_average", events=events)
    assert pd.Timestamp("2025-05-01") not in set(fc["ds"])
    assert len(fc) == 13


def _intraday(days=56, step="30min", open_h=(8, 22), seed=0):
    ds = pd.date_range("2024-01-01", periods=days * 48, freq=step)
    ds = ds[(ds.hour >= open_h[0]) & (ds.hour < open_h[1])]
    tod = ds.hour + ds.minute / 60
    lam = 20 * WEEK[ds.day_of_week] / 100 * (1 + np.sin((tod - 8) / 14 * np.pi))
    y = np.random.default_rng(seed).poisson(lam).astype(float)
    return pd.DataFrame({"unique_id": "voice", "ds": ds, "y": y})


@pytest.mark.parametrize("model", ["seasonal_naive", "same_weekday_average", "ets"])
def test_intraday_closed_hours_stay_closed(model):
    h = _intraday()
    fc = forecast_volume(h, "7D", "30min", model=model)
    hours = fc["ds"].dt.hour
    assert ((hours >= 8) & (hours < 22)).all()
    assert len(fc) == 7 * 28  # 28 open half-hours a day
    assert (fc["yhat_lo"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_hi"]).all()


def test_intraday_top_down_keeps_the_daily_total():
    h = _intraday()
    fc = forecast_volume(h, "7D", "30min", model="ets")
    daily_hist = h.assign(ds=h["ds"].dt.normalize()).groupby(["unique_id", "ds"],
                                                             as_index=False)["y"].sum()
    daily = forecast_volume(daily_hist, "7D", "D", model="ets").set_index("ds")["yhat"]
    split = fc.groupby(fc["ds"].dt.normalize())["yhat"].sum()
    assert split.to_numpy() == pytest.approx(daily.to_numpy(), rel=1e-9)


@given(st.lists(st.floats(0, 500), min_size=21, max_size=60),
       st.sampled_from(["seasonal_naive", "same_weekday_average"]),
       st.integers(50, 95))
@settings(max_examples=40, deadline=None)
def test_intervals_are_ordered(values, model, level):
    ds = pd.date_range("2024-01-01", periods=len(values), freq="D")
    h = pd.DataFrame({"ds": ds, "y": values})
    fc = forecast_volume(h, 9, "D", model=model, level=level)
    assert (fc["yhat_lo"] >= 0).all()
    assert (fc["yhat_lo"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_hi"]).all()


@given(st.integers(0, 10_000))
@settings(max_examples=8, deadline=None)
def test_ets_intervals_are_ordered(seed):
    h = _daily(70, noise=0.2, seed=seed)
    fc = forecast_volume(h, 14, "D", model="ets")
    assert (fc["yhat_lo"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_hi"]).all()


def test_auto_picks_per_series_and_many_series_in_one_call():
    a = _daily(140, noise=0.05, seed=1, uid="chat")
    b = _daily(140, noise=0.05, seed=2, uid="voice")
    fc = forecast_volume(pd.concat([a, b]), 7, "D",
                         candidates=("seasonal_naive", "same_weekday_average"))
    assert sorted(fc["unique_id"].unique()) == ["chat", "voice"]
    assert set(fc.attrs["models"].values()) <= {"seasonal_naive", "same_weekday_average"}
    assert fc.groupby("unique_id").size().tolist() == [7, 7]


def test_cache_returns_the_same_result_and_copies():
    h = _daily(56, noise=0.05)
    cache = ForecastCache()
    a = forecast_volume(h, 7, "D", model="same_weekday_average", cache=cache)
    a.loc[0, "yhat"] = -1.0  # mutating a result must not corrupt the cache
    b = forecast_volume(h, 7, "D", model="same_weekday_average", cache=cache)
    assert len(cache) == 1 and b.loc[0, "yhat"] > 0
    h2 = h.copy()
    h2.loc[h2.index[-1], "y"] += 1  # any change of input is a new key
    forecast_volume(h2, 7, "D", model="same_weekday_average", cache=cache)
    assert len(cache) == 2


def test_disk_cache_survives_a_new_cache_object(tmp_path):
    h = _daily(56, noise=0.05)
    a = forecast_volume(h, 7, "D", model="same_weekday_average",
                        cache=ForecastCache(tmp_path))
    b = ForecastCache(tmp_path)
    key_files = list(tmp_path.glob("*.pkl"))
    assert len(key_files) == 1
    pd.testing.assert_frame_equal(
        forecast_volume(h, 7, "D", model="same_weekday_average", cache=b), a)


def test_validation_errors_name_the_problem():
    h = _daily(28)
    with pytest.raises(VolumeError, match="'y'"):
        forecast_volume(h.drop(columns="y"), 7, "D")
    bad = h.copy()
    bad.loc[3, "y"] = -5
    with pytest.raises(VolumeError, match="row 3"):
        forecast_volume(bad, 7, "D")
    with pytest.raises(VolumeError, match="freq"):
        forecast_volume(h, 7, "weekly")
    with pytest.raises(VolumeError, match="model"):
        forecast_volume(h, 7, "D", model="lstm")
    with pytest.raises(VolumeError, match="horizon"):
        forecast_volume(h, 0, "D")
    with pytest.raises(ModelError, match="season_length"):
        seasonal_naive(h[["ds", "y"]], pd.date_range("2024-02-01", periods=2), 80,
                       season_length=0)


def test_unlabelled_gross_outlier_is_kept_out_of_the_baselines():
    h = _daily(56, noise=0.02, seed=3)
    spike = pd.Timestamp("2024-02-21")  # a Wednesday in the last week: an outage, 3x volume
    h.loc[h["ds"] == spike, "y"] *= 3
    fc = forecast_volume(h, 7, "D", model="seasonal_naive").set_index("ds")
    # without cleaning, seasonal naive would repeat 330 next Wednesday; cleaned, it repeats
    # the median of the Wednesdays around it (~110)
    assert fc.loc["2024-02-28", "yhat"] == pytest.approx(110, rel=0.05)


@pytest.mark.slow
def test_prophet_is_seeded_and_leaves_global_random_state_alone():
    h = _daily(120, noise=0.05, seed=9)
    np.random.seed(123)
    expected = np.random.random()  # the next draw of an untouched global stream
    np.random.seed(123)
    a = forecast_volume(h, 14, "D", model="prophet")
    assert np.random.random() == expected
    pd.testing.assert_frame_equal(a, forecast_volume(h, 14, "D", model="prophet"))


def test_day_after_a_closed_holiday_carries_the_learned_spill_over():
    # closed on the holiday (no rows), +35 % on the open day after (displaced demand)
    h = _daily(600, start="2023-01-02", noise=0.02, seed=4)
    hol = pd.to_datetime(["2023-06-14", "2024-01-10", "2024-06-12"])  # Wednesdays
    h = h[~h["ds"].isin(hol)]
    h.loc[h["ds"].isin(hol + pd.Timedelta(days=1)), "y"] *= 1.35
    events = pd.DataFrame({"ds": list(hol) + [pd.Timestamp("2024-08-28")], "event": "holiday",
                           "lower_window": 0, "upper_window": 1})
    hist = h[h["ds"] <= "2024-08-25"]
    fc = forecast_volume(hist, "7D", "D", model="same_weekday_average",
                         events=events).set_index("ds")
    assert pd.Timestamp("2024-08-28") not in fc.index  # closed, as every time before
    assert fc.loc["2024-08-29", "yhat"] == pytest.approx(1.35 * 105, rel=0.06)  # Thursday
