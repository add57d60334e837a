"""Intraday profiles and the top-down split."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast.intraday import IntradayError, build_profile, split_daily, split_intraday

SHAPE = np.array([1.0, 2, 4, 3, 2, 1, 1, 2])  # eight 60-min slots 10:00-17:59
SHARE = SHAPE / SHAPE.sum()


def _hist(weeks=8, total=1000.0, start="2024-01-01"):
    days = pd.date_range(start, periods=7 * weeks, freq="D")
    ds = (days.repeat(8) + pd.to_timedelta(np.tile(np.arange(10, 18), days.size), unit="h"))
    y = np.tile(total * SHARE, days.size)
    return pd.Series(y, index=ds)


def test_profile_equals_the_true_shares_and_ignores_one_incident_day():
    s = _hist()
    s.loc[pd.Timestamp("2024-01-17 11:00")] += 5000.0  # an outage spike on one Wednesday
    prof = build_profile(s, 3600)
    # trimmed mean over 8 Wednesdays drops the incident day -> exact shares (hand-computed)
    wed = prof.shares[2]
    assert wed[10:18] == pytest.approx(SHARE)
    assert wed[:10].sum() == 0 and wed[18:].sum() == 0  # closed hours stay closed
    assert prof.shares.sum(axis=1) == pytest.approx(np.ones(7))


def test_split_keeps_total_and_closed_hours():
    prof = build_profile(_hist(), 3600)
    day = pd.DataFrame({"ds": pd.to_datetime(["2024-03-04", "2024-03-05"]),
                        "yhat": [800.0, 1200.0], "yhat_lo": [700.0, 1000.0],
                        "yhat_hi": [900.0, 1500.0]})
    out = split_daily(day, prof, 80)
    assert len(out) == 16
    assert out["ds"].dt.hour.between(10, 17).all()
    by_day = out.groupby(out["ds"].dt.normalize())["yhat"].sum()
    assert by_day.tolist() == pytest.approx([800.0, 1200.0])
    assert out["yhat"].iloc[:8].to_numpy() == pytest.approx(800 * SHARE)
    assert (out["yhat_lo"] <= out["yhat"]).all() and (out["yhat"] <= out["yhat_hi"]).all()


def test_special_day_keeps_its_short_hours():
    s = _hist()
    eve = pd.Timestamp("2024-01-31")  # a labelled day with short hours: open 10:00-13:59
    s = s[~((s.index.normalize() == eve) & (s.index.hour >= 14))]
    labels = pd.Series({eve: "short_day"})
    prof = build_profile(s, 3600, labels=labels)
    # same shape as a Wednesday on its open hours -> no shape of its own, only its hours
    assert "short_day" in prof.special_open and "short_day" not in prof.special
    day = pd.DataFrame({"ds": [pd.Timestamp("2024-03-06")], "yhat": [100.0],
                        "yhat_lo": [90.0], "yhat_hi": [110.0]})
    out = split_daily(day, prof, 80, labels=["short_day"])
    assert out["ds"].dt.hour.tolist() == [10, 11, 12, 13]
    # shares renormalised over the open hours: 1, 2, 4, 3 of 10
    assert out["yhat"].tolist() == pytest.approx([10.0, 20.0, 40.0, 30.0])


def test_dispersion_of_poisson_counts_is_about_one():
    # simulation reference: Poisson counts around the profile have variance = mean -> phi ~ 1
    rng = np.random.default_rng(7)
    s = _hist(weeks=8)
    s[:] = rng.poisson(s.to_numpy())
    prof = build_profile(s, 3600)
    assert 0.99 <= prof.phi < 1.3


@given(st.lists(st.floats(0, 1e4), min_size=1, max_size=10), st.integers(50, 95))
@settings(max_examples=40, deadline=None)
def test_split_keeps_every_daily_total(totals, level):
    prof = build_profile(_hist(weeks=2), 3600)
    ds = pd.date_range("2024-03-04", periods=len(totals), freq="D")
    t = np.asarray(totals)
    day = pd.DataFrame({"ds": ds, "yhat": t, "yhat_lo": 0.9 * t, "yhat_hi": 1.2 * t})
    out = split_daily(day, prof, level)
    by_day = out.groupby(out["ds"].dt.normalize())["yhat"].sum().reindex(ds)
    assert by_day.to_numpy() == pytest.approx(t, rel=1e-9, abs=1e-9)
    assert (out["yhat_lo"] <= out["yhat"]).all() and (out["yhat"] <= out["yhat_hi"]).all()


def test_split_intraday_long_frames_and_errors():
    s = _hist()
    hist = pd.DataFrame({"unique_id": "chat", "ds": s.index, "y": s.to_numpy()})
    daily = pd.DataFrame({"unique_id": "chat", "ds": [pd.Timestamp("2024-03-04")],
                          "yhat": [10.0], "yhat_lo": [8.0], "yhat_hi": [12.0]})
    out = split_intraday(daily, hist, 3600)
    assert out["unique_id"].unique().tolist() == ["chat"] and len(out) == 8
    with pytest.raises(IntradayError, match="voice"):
        split_intraday(daily.assign(unique_id="voice"), hist, 3600)
    with pytest.raises(IntradayError, match="interval_s"):
        build_profile(s, 7)


def test_open_slot_with_zero_volume_keeps_its_row():
    s = _hist()
    # the 18:00 slot is open (rows every day) but nobody ever writes then
    extra = pd.Series(0.0, index=pd.DatetimeIndex(s.index.normalize().unique())
                      + pd.Timedelta(hours=18))
    prof = build_profile(pd.concat([s, extra]).sort_index(), 3600)
    day = pd.DataFrame({"ds": [pd.Timestamp("2024-03-04")], "yhat": [100.0],
                        "yhat_lo": [90.0], "yhat_hi": [110.0]})
    out = split_daily(day, prof, 80)
    assert out["ds"].dt.hour.tolist() == list(range(10, 19))
    assert out["yhat"].iloc[-1] == 0.0 and out["yhat"].sum() == pytest.approx(100.0)


def test_special_day_with_a_different_shape_gets_its_own_profile():
    s = _hist()
    sale = pd.to_datetime(["2024-01-10", "2024-02-14"])
    evening = np.array([1.0, 1, 1, 1, 1, 1, 4, 10])  # sale days peak at 16:00-17:59
    for d in sale:
        s[s.index.normalize() == d] = 1000 * evening / evening.sum()
    labels = pd.Series("sale", index=sale)
    prof = build_profile(s, 3600, labels=labels)
    assert prof.special["sale"][10:18] == pytest.approx(evening / evening.sum())
    day = pd.DataFrame({"ds": [pd.Timestamp("2024-03-06")], "yhat": [200.0],
                        "yhat_lo": [180.0], "yhat_hi": [220.0]})
    out = split_daily(day, prof, 80, labels=["sale"])
    assert out["yhat"].to_numpy() == pytest.approx(200 * evening / evening.sum())


def _poisson_hist(daily_total, monday_shape=None, weeks=8, seed=0):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=7 * weeks, freq="D")
    rows = []
    for d in days:
        share = SHARE if monday_shape is None or d.day_of_week else monday_shape
        ts = d + pd.to_timedelta(np.arange(10, 18), unit="h")
        rows.append(pd.Series(rng.poisson(daily_total * share).astype(float), index=ts))
    return pd.concat(rows)


def test_small_queue_weekdays_take_about_the_common_shape():
    # 40 arrivals a day, every weekday the same true shape: the spread between weekdays is
    # counting noise, so each weekday shrinks (nearly) all the way to the shape of all 56
    # days; the shape of 56 days x 40 arrivals has share errors of a few points at most
    prof = build_profile(_poisson_hist(40.0), 3600)
    for d in range(7):
        assert prof.shares[d][10:18] == pytest.approx(SHARE, abs=0.03)


def test_large_queue_weekday_with_its_own_shape_keeps_it():
    # 20,000 arrivals a day and a Monday that peaks late: Monday rejects the common shape
    late = SHAPE[::-1] / SHAPE.sum()
    prof = build_profile(_poisson_hist(20_000.0, monday_shape=late), 3600)
    assert prof.shares[0][10:18] == pytest.approx(late, abs=0.005)
    assert prof.shares[2][10:18] == pytest.approx(SHARE, abs=0.01)


def _long_hist(shapes, weeks=8, seed=3):
    """Interval history of several series (``unique_id`` -> hourly shape 10:00-17:59), the
    rows of all series shuffled together."""
    days = pd.date_range("2024-01-01", periods=7 * weeks, freq="D")
    ds = days.repeat(8) + pd.to_timedelta(np.tile(np.arange(10, 18), days.size), unit="h")
    parts = [pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.tile(800.0 * shape, days.size)})
             for uid, shape in shapes.items()]
    hist = pd.concat(parts, ignore_index=True)
    return hist.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_split_intraday_of_a_flat_profile_is_the_daily_total_over_the_open_slots():
    # every day 100 contacts in each of 8 open hours: each forecast hour gets yhat / 8
    flat = np.full(8, 1 / 8)
    hist = _long_hist({"flat": flat, "shaped": SHARE})
    daily = pd.DataFrame({"unique_id": ["flat", "flat", "shaped"],
                          "ds": pd.to_datetime(["2024-03-04", "2024-03-05", "2024-03-04"]),
                          "yhat": [640.0, 960.0, 800.0], "yhat_lo": [600.0, 900.0, 700.0],
                          "yhat_hi": [700.0, 1000.0, 900.0]})
    out = split_intraday(daily, hist, 3600)
    assert list(out.columns) == ["unique_id", "ds", "yhat", "yhat_lo", "yhat_hi"]
    f = out[out["unique_id"] == "flat"]
    assert f["ds"].dt.hour.tolist() == list(range(10, 18)) * 2
    assert f["yhat"].to_numpy() == pytest.approx(np.repeat([640 / 8, 960 / 8], 8), rel=1e-12)
    # the other series, whose rows are interleaved with these, keeps its own shape
    s = out[out["unique_id"] == "shaped"]
    assert s["yhat"].to_numpy() == pytest.approx(800.0 * SHARE, rel=1e-12)


def test_split_intraday_names_a_series_without_history():
    hist = _long_hist({"a": SHARE})
    daily = pd.DataFrame({"unique_id": ["b"], "ds": pd.to_datetime(["2024-03-04"]),
                          "yhat": [1.0], "yhat_lo": [1.0], "yhat_hi": [1.0]})
    with pytest.raises(IntradayError, match="'b'"):
        split_intraday(daily, hist, 3600)


def test_a_sparse_queue_keeps_its_open_hours_and_an_even_shape():
    # 0.2 contacts a half-hour, 08:00-20:00, rows only where contacts came (as a small
    # queue's file has them): no slot has a row on half the days, so missing rows cannot
    # mark closed slots; the open hours are the span of slots with contacts and the shape
    # is even within them (the counts cannot tell it apart from even)
    from forecast.intraday import build_profile

    rng = np.random.default_rng(4)
    days = pd.date_range("2024-01-01", periods=70, freq="D")
    slots = pd.to_timedelta(np.arange(16, 40) * 1800, unit="s")  # 08:00 .. 19:30
    ds = pd.DatetimeIndex((days.to_numpy()[:, None] + slots.to_numpy()[None, :]).ravel())
    y = rng.poisson(0.2, ds.size)
    s = pd.Series(y[y > 0], index=ds[y > 0]).astype(float)
    prof = build_profile(s, 1800)
    opened = prof.open_slots.any(axis=0)
    first, last = np.flatnonzero(opened)[[0, -1]]
    assert 16 <= first <= 17 and 38 <= last <= 39  # 08:00(-08:30) .. 19:00(-19:30)
    assert not opened[:16].any() and not opened[40:].any()
    shares = prof.shares[0][opened]
    # even: 1/24 per slot, within the counting noise of ~34 contacts per weekday slot set
    assert np.allclose(shares, 1 / opened.sum(), atol=0.01)
