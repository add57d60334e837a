"""``model="auto"``: selection on rolling windows, the combination, holidays and catch-up.

Series are hand-built so that the right answer is known from their construction: a
series made of independent weekday random walks (last week is the best predictor: the
seasonal naive must win), stationary noise around a fixed weekly pattern (the robust
same-weekday mean must win: its error variance is ``sigma^2 (1 + 1/4)`` against
``2 sigma^2`` for last week's value), and a weekday centre closed on market holidays whose
next open day carries 40 % more (the catch-up).
"""

import numpy as np
import pandas as pd
import pytest

from forecast.selection_tasks import fit_batches, fit_jobs, orders_plan
from forecast.volume import (
    COMBINATION,
    VolumeError,
    _combine,
    _pick,
    finish_volume,
    fit_window,
    forecast_volume,
    pick_selection,
    plan_selection,
    plan_volume,
    selection_origins,
)

FAST = ("seasonal_naive", "same_weekday_average", "ets", COMBINATION)


def _frame(ds, y, uid="a"):
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def test_seasonal_naive_wins_on_independent_weekday_random_walks():
    rng = np.random.default_rng(3)
    weeks = 40
    steps = rng.normal(0, 0.25, (weeks, 7))
    y = (1000 * np.exp(np.cumsum(steps, axis=0))).ravel()
    ds = pd.date_range("2024-01-01", periods=y.size, freq="D")
    fc = forecast_volume(_frame(ds, y), 7, "D", model="auto", candidates=FAST)
    sel = fc.attrs["selection"]["a"]
    assert fc.attrs["models"]["a"] == "seasonal_naive"
    assert sel["model"] == "seasonal_naive" and sel["n_windows"] == 8
    # seasonal naive forecasts last week's value, exactly
    assert fc["yhat"].to_numpy() == pytest.approx(y[-7:])


def test_robust_same_weekday_mean_wins_on_stationary_noise_with_an_incident():
    rng = np.random.default_rng(5)
    pattern = np.array([1.3, 1.2, 1.1, 1.0, 1.0, 0.7, 0.6]) * 1000
    weeks = 30
    y = (np.tile(pattern, weeks) * (1 + rng.normal(0, 0.08, 7 * weeks)))
    y[-10] *= 0.2  # an outage: left out of the baseline, listed as an outlier
    ds = pd.date_range("2024-01-01", periods=y.size, freq="D")
    fc = forecast_volume(_frame(ds, y), 7, "D", model="auto",
                         candidates=("seasonal_naive", "same_weekday_average"))
    sel = fc.attrs["selection"]["a"]
    assert sel["model"] == "same_weekday_average"
    # hand check of the scale: seasonal naive's expected WAPE is sqrt(2 / (1 + 1/4)) = 1.26
    # times the mean's on this noise; 8 windows see at least a 10 % gap
    assert sel["scores"]["seasonal_naive"] > 1.1 * sel["scores"]["same_weekday_average"]
    assert sel["margin"] > 0.1 and 0 < sel["stability"] <= 1
    assert fc.attrs["outliers"]["a"] == [str(ds[-10].date())]
    # the forecast is close to the true pattern (error of a mean of 4 of 6 weeks: ~4 %)
    assert fc["yhat"].to_numpy() == pytest.approx(pattern, rel=0.12)


def test_pick_one_standard_error_rule_and_ties_to_the_simpler():
    # ets is 3 % better on average but its paired differences swing by +-0.01 around that:
    # within one standard error -> the simpler same_weekday_average wins
    swa = np.array([0.10, 0.10, 0.10, 0.10])
    ets = swa + np.array([-0.013, 0.007, -0.013, 0.007])
    winner, scores, margin, stab = _pick({"same_weekday_average": swa, "ets": ets})
    assert winner == "same_weekday_average"
    assert scores["ets"] == pytest.approx(0.097)
    assert margin == pytest.approx(0.097 / 0.10 - 1)  # negative: the simpler won a tie
    assert stab == pytest.approx(0.5)  # ets is better in two windows of four
    # a consistent 3 % gain (zero spread) is beyond one standard error and 2 %: ets wins
    winner, _, margin, stab = _pick({"same_weekday_average": swa, "ets": swa - 0.003})
    assert winner == "ets" and margin == pytest.approx(0.10 / 0.097 - 1) and stab == 1.0
    # within 2 %: a tie, whatever the spread
    winner, *_ = _pick({"seasonal_naive": swa + 0.0015, "ets": swa})
    assert winner == "seasonal_naive"


def test_combination_is_the_median_of_the_candidates():
    ds = pd.date_range("2024-03-01", periods=3)
    frames = [pd.DataFrame({"ds": ds, "yhat": [10.0, 20, 30], "yhat_lo": [8.0, 18, 28],
                            "yhat_hi": [12.0, 22, 32]}),
              pd.DataFrame({"ds": ds, "yhat": [14.0, 10, 30], "yhat_lo": [9.0, 5, 20],
                            "yhat_hi": [20.0, 15, 40]}),
              pd.DataFrame({"ds": ds, "yhat": [11.0, 40, 31], "yhat_lo": [10.0, 30, 30],
                            "yhat_hi": [13.0, 50, 33]})]
    out = _combine(frames)
    assert out["yhat"].tolist() == [11.0, 20.0, 30.0]
    assert out["yhat_lo"].tolist() == [9.0, 18.0, 28.0]
    assert out["yhat_hi"].tolist() == [13.0, 22.0, 33.0]


def test_combination_model_equals_the_median_of_its_candidates_fitted_alone():
    rng = np.random.default_rng(8)
    y = np.tile([100.0, 120, 130, 110, 90, 60, 50], 20) * (1 + rng.normal(0, 0.05, 140))
    ds = pd.date_range("2024-01-01", periods=y.size, freq="D")
    hist = _frame(ds, y)
    cands = ("seasonal_naive", "same_weekday_average", "ets", COMBINATION)
    comb = forecast_volume(hist, 7, "D", model=COMBINATION, candidates=cands)
    alone = [forecast_volume(hist, 7, "D", model=m)["yhat"].to_numpy() for m in cands[:3]]
    assert comb["yhat"].to_numpy() == pytest.approx(np.median(np.stack(alone), axis=0))


def test_selection_origins_weekly_recent_and_a_year_earlier():
    o = selection_origins(pd.Timestamp("2022-01-01"), pd.Timestamp("2024-09-30"),
                          pd.Timedelta(days=92))
    assert o[0] == pd.Timestamp("2023-10-02")  # 364 days before: same weekday
    recent = o[1:]
    assert len(recent) == 8 and recent[-1] == pd.Timestamp("2024-09-30") - pd.Timedelta(
        days=92)
    assert set(np.diff(recent)) == {pd.Timedelta(days=7)}


def _holiday_centre(end: str):
    """Weekdays only; closed on US market holidays; the next open day carries 1.4x."""
    import holidays as hol

    days = pd.bdate_range("2022-01-03", end)
    cal = hol.country_holidays("US", years=range(2022, 2027))
    closed = days.isin(pd.DatetimeIndex(list(cal.keys())))
    level = 1000.0 * np.array([1.2, 1.0, 1.0, 1.0, 0.9])[days.day_of_week]
    after = np.r_[False, closed[:-1]]
    y = level * np.where(after, 1.4, 1.0)
    return days[~closed], y[~closed]


@pytest.mark.parametrize("model", ["same_weekday_average", "auto"])
def test_closed_holiday_and_catch_up_on_the_next_open_day(model):
    # Labor Day 2024-09-02 (Mon): closed in 2022 and 2023 -> no row; Tuesday carries 1.4x
    ds, y = _holiday_centre("2024-08-30")
    fc = forecast_volume(_frame(ds, y), "7D", "D", model=model, country="US",
                         candidates=("seasonal_naive", "same_weekday_average"))
    got = fc.set_index("ds")["yhat"]
    assert pd.Timestamp("2024-09-02") not in got.index
    assert got["2024-09-03"] == pytest.approx(1400.0)
    assert got[["2024-09-04", "2024-09-05"]].to_numpy() == pytest.approx([1000.0, 1000.0])
    assert got["2024-09-06"] == pytest.approx(900.0)


def test_friday_holiday_pushes_the_catch_up_to_monday():
    # Independence Day 2025-07-04 is a Friday: the displaced demand arrives on Monday
    ds, y = _holiday_centre("2025-07-03")
    fc = forecast_volume(_frame(ds, y), "7D", "D", model="same_weekday_average",
                         country="US")
    got = fc.set_index("ds")["yhat"]
    assert pd.Timestamp("2025-07-04") not in got.index
    assert got["2025-07-07"] == pytest.approx(1.4 * 1200.0)
    assert got["2025-07-08"] == pytest.approx(1000.0)


def test_intraday_auto_reports_its_way_and_keeps_daily_totals():
    rng = np.random.default_rng(2)
    days = pd.date_range("2024-01-01", periods=126, freq="D")
    shape = np.sin(np.linspace(0.2, np.pi - 0.2, 20))
    shape /= shape.sum()
    rows = []
    for d in days:
        tot = 2000 * (1.2 if d.day_of_week == 0 else 1.0)
        ts = d + pd.Timedelta(hours=8) + pd.to_timedelta(np.arange(20) * 30, unit="min")
        rows.append(pd.DataFrame({"ds": ts, "y": rng.poisson(tot * shape)}))
    hist = pd.concat(rows, ignore_index=True)
    fc = forecast_volume(hist, "7D", "30min", model="auto",
                         candidates=("seasonal_naive", "same_weekday_average"))
    sel = fc.attrs["selection"]["y"]
    assert sel["intraday"] in ("top-down", "direct") and sel["n_windows"] == 8
    daily = fc.groupby(fc["ds"].dt.normalize())["yhat"].sum()
    # Poisson noise around 2000 a day: the week ahead within 5 % of the true totals
    truth = 2000 * np.where(daily.index.day_of_week == 0, 1.2, 1.0)
    assert daily.to_numpy() == pytest.approx(truth, rel=0.05)


@pytest.mark.parametrize("model", ["same_weekday_average", "ets"])
def test_intraday_direct_and_top_down_take_the_holiday_and_its_catch_up(model):
    # the same holiday centre per hour, 10 equal hours a day: direct (same-slot average)
    # and top-down (ets split by profiles) both close Labor Day and lift Tuesday by 1.4
    ds, y = _holiday_centre("2024-08-30")
    hours = pd.to_timedelta(np.arange(8, 18), unit="h")
    ts = (ds.values[:, None] + hours.values[None, :]).ravel()
    hist = _frame(pd.DatetimeIndex(ts), np.repeat(y / 10, 10))
    fc = forecast_volume(hist, "7D", "60min", model=model, country="US")
    daily = fc.groupby(fc["ds"].dt.normalize())["yhat"].sum()
    assert pd.Timestamp("2024-09-02") not in daily.index
    assert daily["2024-09-03"] == pytest.approx(1400.0, rel=0.02)
    assert daily["2024-09-04"] == pytest.approx(1000.0, rel=0.02)


def _weekly_noise(weeks=20, seed=8):
    rng = np.random.default_rng(seed)
    y = np.tile([100.0, 120, 130, 110, 90, 60, 50], weeks) * (1 + rng.normal(0, 0.05, 7 * weeks))
    return pd.date_range("2024-01-01", periods=y.size, freq="D"), y


def test_selection_in_pieces_reproduces_auto_exactly():
    ds, y = _weekly_noise()
    hist = _frame(ds, y)
    whole = forecast_volume(hist, 7, "D", model="auto", candidates=FAST)
    plan = plan_volume(hist, 7, "D", candidates=FAST)
    # 8 weekly origins (140 days: no year-earlier window), 3 fitted candidates each; the
    # combination is the median of the others (no fit of its own)
    assert len(plan.plans["a"].cuts) == 8 and len(plan.jobs) == 24
    assert {m for _, m, _ in plan.jobs} == {"seasonal_naive", "same_weekday_average", "ets"}
    # fits made in another order, batch by batch, as tasks on other processes would
    fits: dict = {}
    for batch in reversed(fit_batches(plan)):
        for uid, got in fit_jobs(plan, batch).items():
            fits.setdefault(uid, []).extend(got)
    out = finish_volume(plan, fits)
    pd.testing.assert_frame_equal(out, whole, check_exact=True)
    assert out.attrs == whole.attrs
    # the scores are mean WAPEs over the windows, recomputed here by hand from the fits
    sel = whole.attrs["selection"]["a"]
    sp = plan.plans["a"]
    for m in ("seasonal_naive", "same_weekday_average", "ets"):
        w = []
        for i in range(8):
            act = sp.actuals(i).to_numpy()
            f = fit_window(sp, m, i).forecast["yhat"].to_numpy()
            w.append(np.abs(act - f).sum() / act.sum())
        assert sel["scores"][m] == pytest.approx(np.mean(w), rel=1e-12)
    assert pick_selection(sp, fits["a"]).model == whole.attrs["models"]["a"]


def test_seasonal_naive_window_fit_is_last_weeks_values():
    ds, y = _weekly_noise(weeks=12)
    plan = plan_selection(ds, y, "D", end=ds[-1] + pd.Timedelta(days=7),
                          candidates=("seasonal_naive", "ets"))
    fit = fit_window(plan, "seasonal_naive", 0)
    cut = plan.cuts[0]
    k = int(np.flatnonzero(ds == cut)[0])
    # the window's 7 days are forecast by the 7 days up to its origin, day by day
    assert fit.forecast["yhat"].tolist() == pytest.approx(y[k - 6:k + 1].tolist())
    assert fit.forecast.index.tolist() == list(ds[k + 1:k + 8])
    with pytest.raises(VolumeError, match="not a fit of this selection plan"):
        fit_window(plan, COMBINATION, 0)
    with pytest.raises(VolumeError, match="daily series"):
        plan_selection(ds, y, "30min", end=ds[-1])


def test_orders_plan_is_the_contacts_forecasts_orders_history():
    ds, y = _weekly_noise(weeks=30)
    orders = pd.DataFrame({"ds": ds, "orders": y.round()})
    plan = orders_plan(orders, ds[150], ds[156], candidates=FAST)
    hist = plan.history
    # orders before the start only, as one series named "orders", to the plan's last day
    assert hist["ds"].max() == ds[149] and len(hist) == 150
    assert hist["unique_id"].unique().tolist() == ["orders"] and plan.horizon == "7D"
    assert orders_plan(orders, ds[150], ds[156], model="ets") is None
    assert orders_plan(orders, ds[0], ds[6]) is None  # no orders before the start
