"""Order-driven contact forecast end to end on small synthetic data."""

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastCache, forecast_contacts, forecast_contacts_detail
from forecast.contacts import ContactsError, forecast_aht

LAG = np.array([0.2, 0.5, 0.3])  # contacts arrive 0-2 days after the order
RATES = {"voice": 0.03, "email": 0.01}
HOURS = {"voice": np.arange(8, 20), "email": np.arange(24)}
AHT = {"voice": 300.0, "email": 600.0}
FAST = dict(model="same_weekday_average", calibrate=False, max_lag=4)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    days = pd.date_range("2024-01-01", "2024-10-31", freq="D")
    orders = pd.Series(rng.uniform(40_000, 60_000, days.size), index=days).round()
    rows = []
    for ch, rate in RATES.items():
        mean = sum(w * orders.shift(k) for k, w in enumerate(LAG)).dropna() * rate
        hrs = HOURS[ch]
        prof = np.sin(np.linspace(0.3, np.pi - 0.3, hrs.size))
        prof /= prof.sum()
        for d, m in mean.items():
            counts = rng.poisson(m * prof)
            rows.append(pd.DataFrame({"ds": d + pd.to_timedelta(hrs, unit="h"), "channel": ch,
                                      "contacts": counts, "aht_s": AHT[ch]}))
    contacts = pd.concat(rows, ignore_index=True)
    return pd.DataFrame({"ds": days, "orders": orders.to_numpy()}), contacts


def test_columns_open_hours_and_aht(data):
    orders, contacts = data
    fc = forecast_contacts(orders, contacts, None, "2024-10-01", "2024-10-14", **FAST)
    assert list(fc.columns) == ["unique_id", "ds", "yhat", "yhat_lo", "yhat_hi", "aht_s"]
    voice = fc[fc["unique_id"] == "voice"]
    assert voice["ds"].dt.hour.between(8, 19).all() and len(voice) == 14 * 12
    assert len(fc[fc["unique_id"] == "email"]) == 14 * 24
    # constant AHT in history -> the same AHT forecast (no seasonal history to scale it)
    assert fc.groupby("unique_id")["aht_s"].agg(["min", "max"]).to_numpy() == pytest.approx(
        np.array([[600.0, 600.0], [300.0, 300.0]]))
    assert (fc["yhat_lo"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_hi"]).all()
    assert fc["ds"].min() == pd.Timestamp("2024-10-01") and fc["ds"].max() < pd.Timestamp(
        "2024-10-15")


def test_daily_level_matches_orders_times_rate(data):
    orders, contacts = data
    res = forecast_contacts_detail(orders, contacts, None, "2024-10-01", "2024-10-14", **FAST)
    # actual expected contacts: rate x lagged orders (the generator's own formula)
    o = orders.set_index("ds")["orders"]
    days = pd.date_range("2024-10-01", "2024-10-14")
    for ch, rate in RATES.items():
        # the orders forecast replaces actual orders: compare with the forecast orders
        allo = pd.concat([o[o.index < "2024-10-01"], res.orders.set_index("ds")["yhat"]])
        exp = (sum(w * allo.shift(k) for k, w in enumerate(LAG)) * rate).reindex(days)
        got = res.daily[res.daily["unique_id"] == ch].set_index("ds")["yhat"]
        assert got.sum() == pytest.approx(exp.sum(), rel=0.03)
        assert res.rates[ch].rate == pytest.approx(rate, rel=0.03)


def test_contact_rate_override_and_order_growth_scale_contacts(data):
    orders, contacts = data
    kw = dict(FAST, contact_rate={"voice": 0.04})
    base = forecast_contacts_detail(orders, contacts, None, "2024-10-01", "2024-10-20", **kw)
    double = forecast_contacts_detail(orders, contacts, None, "2024-10-01", "2024-10-20",
                                      **dict(kw, contact_rate={"voice": 0.08}))
    v0 = base.daily[base.daily["unique_id"] == "voice"]["yhat"].to_numpy()
    v1 = double.daily[double.daily["unique_id"] == "voice"]["yhat"].to_numpy()
    assert v1 == pytest.approx(2 * v0)  # contacts are linear in the rate
    grown = forecast_contacts_detail(orders, contacts, None, "2024-10-01", "2024-10-20",
                                     **dict(kw, order_growth=0.1))
    g = grown.daily[grown.daily["unique_id"] == "voice"].set_index("ds")["yhat"]
    b = base.daily[base.daily["unique_id"] == "voice"].set_index("ds")["yhat"]
    # growth scales the plan's orders and so its contacts, every day by the same 1.1
    assert (g / b).to_numpy() == pytest.approx(1.1)


def test_month_override_only_touches_its_month(data):
    orders, contacts = data
    kw = dict(FAST)
    base = forecast_contacts_detail(orders, contacts, None, "2024-10-25", "2024-11-05", **kw)
    nov = forecast_contacts_detail(orders, contacts, None, "2024-10-25", "2024-11-05",
                                   **dict(kw, contact_rate={"email": {11: 0.05}}))
    e0 = base.daily[base.daily["unique_id"] == "email"].set_index("ds")
    e1 = nov.daily[nov.daily["unique_id"] == "email"].set_index("ds")
    octo = e0.index.month == 10
    assert e1["yhat"][octo].to_numpy() == pytest.approx(e0["yhat"][octo].to_numpy())
    assert e1["rate"][~octo].to_numpy() == pytest.approx(0.05)


def test_progress_cache_and_errors(data):
    orders, contacts = data
    seen = []
    cache = ForecastCache()
    a = forecast_contacts(orders, contacts, None, "2024-10-01", "2024-10-03", cache=cache,
                          progress=lambda f, m: seen.append(f), **FAST)
    assert seen[-1] == 1.0 and all(np.diff(seen) >= 0)
    b = forecast_contacts(orders, contacts, None, "2024-10-01", "2024-10-03", cache=cache,
                          **FAST)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ContactsError, match="chat"):
        forecast_contacts(orders, contacts, None, "2024-10-01", "2024-10-03",
                          contact_rate={"chat": 0.1}, **FAST)
    with pytest.raises(ContactsError, match="before start"):
        forecast_contacts(orders, contacts, None, "2024-10-03", "2024-10-01", **FAST)
    with pytest.raises(ContactsError, match="'orders'"):
        forecast_contacts(orders.rename(columns={"orders": "n"}), contacts, None,
                          "2024-10-01", "2024-10-03", **FAST)
    # the contacts start 2024-01-01 (day 1 has no lagged orders: rows from 2024-01-03)
    with pytest.raises(ContactsError, match="only 20 days of orders and contacts"):
        forecast_contacts(orders, contacts, None, "2024-01-23", "2024-01-25", **FAST)


def test_calibration_origins_by_hand():
    from forecast.contacts import calibration_origins

    # quarterly back from 2024-10-01 over 12 months: 2023-10-01 .. 2024-07-01, all with a
    # year of history since 2022-01-01
    got = calibration_origins(pd.Timestamp("2024-10-01"), pd.Timestamp("2022-01-01"))
    assert [d.strftime("%Y-%m-%d") for d in got] == [
        "2023-10-01", "2024-01-01", "2024-04-01", "2024-07-01"]
    # back from 2023-10-01: 2022-10-01 has 273 days of history -> dropped, 2023-01-01 has
    # exactly 365 -> kept
    got = calibration_origins(pd.Timestamp("2023-10-01"), pd.Timestamp("2022-01-01"))
    assert [d.strftime("%Y-%m-%d") for d in got] == ["2023-01-01", "2023-04-01", "2023-07-01"]
    # over 24 months quarterly from 2024-10-01: seven origins from 2023-01-01
    got = calibration_origins(pd.Timestamp("2024-10-01"), pd.Timestamp("2022-01-01"),
                              lookback_months=24)
    assert len(got) == 7 and got[0] == pd.Timestamp("2023-01-01")
    assert calibration_origins(pd.Timestamp("2022-06-01"), pd.Timestamp("2022-01-01")) == []


def test_long_event_next_to_holidays_keeps_the_local_rate_level():
    """A three-week event running into a holiday block leaves no un-labelled day in the
    4-week window around its last days. The contact rate rose 50% since then; contacts on
    the event days follow orders x rate like any other day (no event effect), so the
    forecast event days must sit at the level of the days before them. Assuming the recent
    rate level for those past days (instead of their own) reads the old, lower rate as an
    event effect and forecasts them about 15% low."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2023-01-01", "2024-11-19", freq="D")
    orders = pd.Series(rng.uniform(45_000, 55_000, days.size), index=days).round()
    rate = pd.Series(np.linspace(0.02, 0.03, days.size), index=days)
    mean = (sum(w * orders.shift(k) for k, w in enumerate(LAG)) * rate).dropna()
    contacts = pd.DataFrame({"ds": mean.index, "channel": "voice",
                             "contacts": rng.poisson(mean.to_numpy()).astype(float),
                             "aht_s": 300.0})
    events = pd.DataFrame({"ds": pd.to_datetime(["2023-12-01", "2023-12-22", "2024-12-01",
                                                 "2024-12-22"]),
                           "event": ["sale", "holidays", "sale", "holidays"],
                           "lower_window": 0, "upper_window": [20, 10, 20, 10]})
    res = forecast_contacts_detail(pd.DataFrame({"ds": days, "orders": orders.to_numpy()}),
                                   contacts, events, "2024-11-20", "2024-12-21", **FAST)
    fc = res.daily.set_index("ds")["yhat"]
    before = fc["2024-11-20":"2024-11-30"].mean()
    late_event = fc["2024-12-08":"2024-12-21"].mean()  # no un-labelled day within 14 days
    # the rate drifts up by about 1.5% over these three weeks (0.01 over 688 days at 0.03)
    assert late_event / before == pytest.approx(1.015, abs=0.03)


@pytest.fixture(scope="module")
def two_years():
    rng = np.random.default_rng(8)
    days = pd.date_range("2022-06-01", "2024-09-30", freq="D")
    orders = pd.Series(rng.uniform(45_000, 55_000, days.size), index=days).round()
    mean = (sum(w * orders.shift(k) for k, w in enumerate(LAG)) * 0.04).dropna()
    contacts = pd.DataFrame({"ds": mean.index, "channel": "voice",
                             "contacts": rng.poisson(mean.to_numpy()).astype(float),
                             "aht_s": 300.0})
    return pd.DataFrame({"ds": days, "orders": orders.to_numpy()}), contacts


def _log_half_width(res):
    d = res.daily.set_index("ds")
    return np.log(d["yhat_hi"] / d["yhat"])


def test_an_assumed_rate_gets_a_band_around_it_not_a_test_against_history(two_years):
    """Calibration backtests measure the estimated rate on past windows. A scenario's rate
    (6.5 % here, where history ran at 4 %) would miss every past window and blow the band
    up to the clip of the calibration; its band is the orders and day-to-day spread around
    the assumed rate, whatever that rate is, with or without calibration."""
    orders, contacts = two_years
    kw = dict(model="same_weekday_average", max_lag=4)
    runs = {(rate, cal): forecast_contacts_detail(orders, contacts, None, "2024-10-01",
                                                  "2024-12-31", contact_rate={"voice": rate},
                                                  calibrate=cal, **kw)
            for rate in (0.04, 0.065) for cal in (False, True)}
    ref = _log_half_width(runs[(0.04, False)])
    for res in runs.values():
        assert _log_half_width(res).to_numpy() == pytest.approx(ref.to_numpy(), rel=1e-9)
    # and the level term is gone: narrower than the estimate's band a month ahead on
    est = _log_half_width(forecast_contacts_detail(orders, contacts, None, "2024-10-01",
                                                   "2024-12-31", calibrate=False, **kw))
    assert (ref["2024-11":] < est["2024-11":]).all()


def test_a_month_override_leaves_the_other_months_alone(two_years):
    orders, contacts = two_years
    kw = dict(model="same_weekday_average", max_lag=4)
    plain = forecast_contacts_detail(orders, contacts, None, "2024-10-01", "2024-12-31",
                                     **kw).daily.set_index("ds")
    nov = forecast_contacts_detail(orders, contacts, None, "2024-10-01", "2024-12-31",
                                   contact_rate={"voice": {11: 0.05}},
                                   **kw).daily.set_index("ds")
    cols = ["yhat", "yhat_lo", "yhat_hi", "rate"]
    for month in ("2024-10", "2024-12"):
        assert nov.loc[month, cols].to_numpy() == pytest.approx(
            plain.loc[month, cols].to_numpy(), rel=1e-12)
    assert nov.loc["2024-11", "rate"].to_numpy() == pytest.approx(0.05)
    band = np.log(nov.loc["2024-11", "yhat_hi"] / nov.loc["2024-11", "yhat"])
    plain_band = np.log(plain.loc["2024-11", "yhat_hi"] / plain.loc["2024-11", "yhat"])
    assert (band < plain_band).all()


def _aht_history(days, slots, contacts, aht, channel):
    ds = days.repeat(len(slots)) + pd.to_timedelta(np.tile(slots, days.size), unit="h")
    return pd.DataFrame({"ds": ds, "channel": channel,
                         "contacts": np.repeat(contacts, len(slots)).astype(float),
                         "aht_s": np.repeat(aht, len(slots)).astype(float)})


def test_forecast_aht_is_the_contact_weighted_mean_of_its_slot_over_the_last_four_weeks():
    # 5 weeks, 10:00 and 11:00; on weekday d (Monday 0) d + 1 contacts; at 10:00 the AHT
    # is 100 + 10 d, at 11:00 200. The last 4 weeks hold each weekday 4 times, so by hand
    # 10:00: sum (d+1)(100+10d) / sum (d+1) = 100 + 10 * 112 / 28 = 140; 11:00: 200; a
    # slot without history takes the channel's mean (112 x 140 + 112 x 200) / 224 = 170.
    days = pd.date_range("2024-01-01", periods=35, freq="D")
    wd = days.day_of_week.to_numpy()
    h10 = _aht_history(days, [10], wd + 1, 100 + 10 * wd, "chat")
    h11 = _aht_history(days, [11], wd + 1, np.full(days.size, 200), "chat")
    other = _aht_history(days, [10, 11], np.full(days.size, 2), np.full(days.size, 50), "mail")
    hist = pd.concat([h10, other, h11], ignore_index=True).sample(frac=1.0, random_state=1)
    rows = pd.DataFrame({"unique_id": ["chat", "mail", "chat", "chat", "voice"],
                         "ds": pd.to_datetime(["2024-02-06 10:00", "2024-02-06 11:00",
                                               "2024-02-06 11:00", "2024-02-06 12:00",
                                               "2024-02-06 10:00"])})
    got = forecast_aht(hist, rows)
    assert got[:4] == pytest.approx([140.0, 50.0, 200.0, 170.0], rel=1e-12)
    assert np.isnan(got[4])  # no history for the channel


def test_forecast_aht_carries_last_years_month_over_its_window():
    # every day at 10:00, 3 contacts; AHT 100 except in March 2023 (150). History ends
    # 2024-02-14: the 4 weeks a year earlier (18 Jan - 15 Feb 2023) are at 100, so March
    # 2024 gets 100 x 150 / 100 = 150 and February 2024 keeps 100.
    days = pd.date_range("2023-01-01", "2024-02-14", freq="D")
    aht = np.where((days.year == 2023) & (days.month == 3), 150.0, 100.0)
    hist = _aht_history(days, [10], np.full(days.size, 3), aht, "email")
    rows = pd.DataFrame({"unique_id": "email",
                         "ds": pd.to_datetime(["2024-02-20 10:00", "2024-03-05 10:00"])})
    assert forecast_aht(hist, rows) == pytest.approx([100.0, 150.0], rel=1e-12)


def test_a_backtest_split_into_intervals_reuses_the_calibration_forecast(two_years,
                                                                         monkeypatch):
    # the band calibration forecasts each origin by day; a later interval forecast of the
    # same origin (the planner's backtest spreads) splits that forecast instead of
    # fitting the contact rate again, and gives exactly what a fresh forecast gives
    import forecast.contacts as fcmod

    orders, contacts = two_years
    kw = dict(model="same_weekday_average", max_lag=4)
    cache = ForecastCache()
    forecast_contacts_detail(orders, contacts, None, "2024-10-01", "2024-10-31", cache=cache,
                             **kw)
    fits = []
    real = fcmod._daily_contacts
    monkeypatch.setattr(fcmod, "_daily_contacts", lambda *a, **k: fits.append(1) or real(*a, **k))
    again = forecast_contacts_detail(orders, contacts, None, "2024-07-01", "2024-07-31",
                                     calibrate=False, cache=cache, **kw)
    assert fits == []  # split from the calibration's forecast by day
    fresh = forecast_contacts_detail(orders, contacts, None, "2024-07-01", "2024-07-31",
                                     calibrate=False, **kw)
    assert fits == [1]
    pd.testing.assert_frame_equal(again.intervals, fresh.intervals)
    pd.testing.assert_frame_equal(again.daily, fresh.daily)
    assert again.orders_model == fresh.orders_model
