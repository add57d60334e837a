"""War room: the day's actuals against the plan (planner.live, forecast.reforecast).

References: arithmetic by hand for the multiplier, a Poisson simulation for its band, a
closed-form Erlang C written here for the agents the re-forecast needs, and the sample's
own actual contacts for the end-to-end check.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecast.reforecast import aht_multiplier, predictive_band, volume_multiplier
from planner.live import LiveError, day_against_plan
from staffing.policy import ChannelPolicy

T = 1800
DS = pd.date_range("2024-11-29 08:00", periods=8, freq="30min")
VOICE = ChannelPolicy("voice", "erlang_c", 0.8, 20, shrinkage=0.3)


def _plan(volume=100.0, aht=180.0, scheduled=20):
    volumes = pd.DataFrame({"channel": "voice", "ds": DS, "volume": volume, "aht_s": aht})
    coverage = pd.DataFrame({"channel": "voice", "ds": DS, "scheduled": scheduled})
    return volumes, coverage


def _erlang_c_agents(calls: float, aht: float, target: float, threshold: float) -> int:
    """Fewest agents with P(wait <= threshold) >= target, M/M/N (textbook formula)."""
    a = calls * aht / T
    n = math.floor(a) + 1
    while True:
        s = sum(a ** k / math.factorial(k) for k in range(n))
        top = a ** n / math.factorial(n) * n / (n - a)
        pw = top / (s + top)
        if 1 - pw * math.exp(-(n - a) * threshold / aht) >= target:
            return n
        n += 1


def test_multiplier_reforecast_and_now_by_hand():
    volumes, coverage = _plan()
    # four intervals seen (08:00-10:00) at 120, 130, 140, 130 = 520 against 400 planned
    act = pd.DataFrame({"ds": DS[:4], "channel": "voice", "contacts": [120, 130, 140, 130]})
    view = day_against_plan(volumes, coverage, act, VOICE, T, prior_contacts=80)
    assert view.now == pd.Timestamp("2024-11-29 10:00")
    s = view.summary.iloc[0]
    assert s["ratio"] == pytest.approx((80 + 520) / (80 + 400))  # 1.25
    iv = view.intervals
    assert iv["observed"].tolist() == [True] * 4 + [False] * 4
    assert iv["reforecast"].tolist() == [120, 130, 140, 130] + [125.0] * 4
    assert s["reforecast_day"] == pytest.approx(520 + 4 * 125)
    assert s["planned_day"] == 800 and s["actual_so_far"] == 520
    assert iv.loc[4:, "actual"].isna().all()
    # an explicit now: only 08:00-09:00 seen; the rest of the rows are ignored
    v2 = day_against_plan(volumes, coverage, act, VOICE, T, now="2024-11-29 09:00",
                          prior_contacts=0)
    assert v2.summary.loc[0, "ratio"] == pytest.approx(250 / 200)
    assert v2.intervals["observed"].sum() == 2


def test_finer_actuals_are_summed_into_plan_intervals():
    volumes, coverage = _plan()
    fine = pd.DataFrame({"ds": pd.date_range("2024-11-29 08:00", periods=4, freq="15min"),
                         "channel": "voice", "contacts": [50, 60, 70, 55]})
    view = day_against_plan(volumes, coverage, fine, VOICE, T, prior_contacts=0)
    assert view.intervals["actual"].iloc[:2].tolist() == [110, 125]
    assert view.summary.loc[0, "ratio"] == pytest.approx(235 / 200)


def test_agents_needed_for_the_reforecast_match_erlang_c_by_hand():
    volumes, coverage = _plan(volume=100.0, aht=180.0, scheduled=20)
    surge = pd.DataFrame({"ds": DS[:4], "channel": "voice", "contacts": 150})
    view = day_against_plan(volumes, coverage, surge, VOICE, T, prior_contacts=0)
    n = _erlang_c_agents(150, 180, 0.8, 20)
    rostered = math.ceil(n / 0.7 - 1e-9)
    later = view.intervals[~view.intervals["observed"]]
    assert (later["required"] == rostered).all() and (later["gap"] == 20 - rostered).all()
    s = view.summary.iloc[0]
    assert s["intervals_short"] == 4 and s["max_short"] == rostered - 20
    # the plan's own volume needs exactly what was scheduled (14 agents / 0.7 = 20)
    assert _erlang_c_agents(100, 180, 0.8, 20) == 14
    assert s["sl_plan"] >= 0.8 > s["sl_expected"]


def test_handle_time_ratio_moves_the_rest_of_the_day():
    volumes, coverage = _plan()
    act = pd.DataFrame({"ds": DS[:4], "channel": "voice", "contacts": 100, "aht_s": 216.0})
    view = day_against_plan(volumes, coverage, act, VOICE, T, prior_contacts=0)
    assert view.summary.loc[0, "aht_ratio"] == pytest.approx(1.2)
    assert view.intervals["aht_s"].tolist() == pytest.approx([216.0] * 8)
    # 15-minute rows where every other row reports no handle time (or 0 s): the ratio is
    # taken over the contacts that report one, so it stays 1.2
    fine = pd.DataFrame({"ds": pd.date_range("2024-11-29 08:00", periods=8, freq="15min"),
                         "channel": "voice", "contacts": 50,
                         "aht_s": [216.0, np.nan, 216.0, 0.0] * 2})
    v2 = day_against_plan(volumes, coverage, fine, VOICE, T, prior_contacts=0)
    assert v2.summary.loc[0, "aht_ratio"] == pytest.approx(1.2)
    assert v2.intervals["aht_s"].tolist() == pytest.approx([216.0] * 8)
    assert v2.intervals["actual"].iloc[:4].tolist() == [100] * 4


def test_unreported_channel_keeps_its_plan_and_closed_hours_do_not_move_now():
    ds = DS
    volumes = pd.concat([_plan()[0], _plan()[0].assign(channel="chat", volume=80.0)])
    coverage = pd.concat([_plan()[1], _plan()[1].assign(channel="chat", scheduled=10)])
    chat = ChannelPolicy("chat", "erlang_c", 0.8, 30, shrinkage=0.3)
    # voice up to 10:00, plus 12 contacts at 22:00, when the plan has voice closed
    act = pd.DataFrame({"ds": list(ds[:4]) + [pd.Timestamp("2024-11-29 22:00")],
                        "channel": "voice", "contacts": [100, 100, 100, 100, 12]})
    view = day_against_plan(volumes, coverage, act, [VOICE, chat], T, prior_contacts=0)
    assert view.now == pd.Timestamp("2024-11-29 10:00")
    s = view.summary.set_index("channel")
    assert not s.loc["chat", "reported"] and s.loc["voice", "reported"]
    assert s.loc["chat", "ratio"] == 1.0 and s.loc["chat", "reforecast_day"] == 8 * 80.0
    assert s.loc["voice", "unplanned_contacts"] == 12 and s.loc["voice", "ratio"] == 1.0
    chat_rows = view.intervals[view.intervals["channel"] == "chat"]
    assert not chat_rows["observed"].any() and chat_rows["actual"].isna().all()


def test_email_service_level_counts_only_known_outcomes():
    # email answered within 4 h, a thin evening shift: emails still waiting at midnight
    # whose 4 h have not run out have no outcome yet (NaN). The day's figure is the
    # volume-weighted share over the intervals with an outcome, not pulled down by the rest.
    email = ChannelPolicy("email", "deferred", response_target_s=4 * 3600, shrinkage=0.3)
    ds = pd.date_range("2024-11-29 00:00", periods=48, freq="30min")
    volumes = pd.DataFrame({"channel": "email", "ds": ds, "volume": 40.0, "aht_s": 300.0})
    # 12 agents x 0.7 x 1800 s / 300 s = 50.4 emails per interval until 18:00, then 12.6
    coverage = pd.DataFrame({"channel": "email", "ds": ds,
                             "scheduled": np.where(ds.hour < 18, 12, 3)})
    act = pd.DataFrame({"ds": ds[:20], "channel": "email", "contacts": 40})
    view = day_against_plan(volumes, coverage, act, email, T, prior_contacts=0)
    iv = view.intervals
    known = iv[iv["sl"].notna() & (iv["reforecast"] > 0)]
    assert iv["sl"].isna().any() and len(known) > 0
    by_hand = (known["sl"] * known["reforecast"]).sum() / known["reforecast"].sum()
    s = view.summary.iloc[0]
    assert s["sl_expected"] == pytest.approx(by_hand)
    # every email before 18:00 is answered at once, within its 4 h
    assert (iv.loc[iv["ds"].dt.hour < 18, "sl"] == 1.0).all()
    assert 0.5 < s["sl_expected"] <= 1.0


def test_band_of_the_multiplier_covers_the_truth_at_its_level():
    # contacts ~ Poisson(1.3 x plan): with a negligible prior the 80% band of the
    # multiplier must hold 1.3 in about 80% of simulated mornings
    rng = np.random.default_rng(3)
    volumes, coverage = _plan(volume=60.0)
    hits, n = 0, 300
    for _ in range(n):
        act = pd.DataFrame({"ds": DS[:4], "channel": "voice",
                            "contacts": rng.poisson(1.3 * 60.0, 4)})
        s = day_against_plan(volumes, coverage, act, VOICE, T, prior_contacts=0.01).summary
        hits += bool(s.loc[0, "ratio_lo"] <= 1.3 <= s.loc[0, "ratio_hi"])
    assert 0.73 <= hits / n <= 0.87  # binomial sd 2.3% around 80%


@pytest.mark.parametrize("seen", [4, 14, 24])
def test_day_band_is_predictive_at_any_hour(seen):
    # the plan is right (m = 1); contacts are Poisson. The 80% band of the day's total
    # must hold the day's actual total in about 80% of simulated days, early or late
    rng = np.random.default_rng(seen)
    ds = pd.date_range("2024-11-29 08:00", periods=28, freq="30min")
    volumes = pd.DataFrame({"channel": "voice", "ds": ds, "volume": 40.0, "aht_s": 180.0})
    coverage = pd.DataFrame({"channel": "voice", "ds": ds, "scheduled": 10})
    hits, n = 0, 200
    for _ in range(n):
        counts = rng.poisson(40.0, ds.size)
        act = pd.DataFrame({"ds": ds[:seen], "channel": "voice", "contacts": counts[:seen]})
        s = day_against_plan(volumes, coverage, act, VOICE, T, prior_contacts=100).summary
        hits += bool(s.loc[0, "reforecast_day_lo"] <= counts.sum() <= s.loc[0,
                                                                            "reforecast_day_hi"])
    assert 0.73 <= hits / n <= 0.90


def test_day_actuals_loader_keeps_fine_rows_and_reads_one_interval(tmp_path):
    from planner.live import load_day_actuals

    fine = tmp_path / "fine.csv"
    fine.write_text("ds,channel,contacts\n2024-11-29 08:00,voice,50\n2024-11-29 08:15,voice,60\n")
    assert load_day_actuals(fine, T)["contacts"].tolist() == [50, 60]
    one = tmp_path / "one.csv"
    one.write_text("ds,channel,contacts\n2024-11-29 08:00,voice,50\n")
    assert load_day_actuals(one, T)["contacts"].tolist() == [50]
    bad = tmp_path / "bad.csv"
    bad.write_text("ds,channel,calls\n2024-11-29 08:00,voice,50\n")
    with pytest.raises(ValueError, match="contacts"):
        load_day_actuals(bad, T)


def test_prior_pulls_an_early_morning_towards_the_plan():
    volumes, coverage = _plan()
    act = pd.DataFrame({"ds": DS[:1], "channel": "voice", "contacts": [200]})
    weak = day_against_plan(volumes, coverage, act, VOICE, T, prior_contacts=0).summary
    strong = day_against_plan(volumes, coverage, act, VOICE, T, prior_contacts=300).summary
    assert weak.loc[0, "ratio"] == pytest.approx(2.0)
    assert strong.loc[0, "ratio"] == pytest.approx(500 / 400)


@pytest.mark.parametrize(
    ("actuals", "kwargs", "words"),
    [
        (pd.DataFrame({"ds": DS[:2], "channel": "voice"}), {}, "missing column(s) ['contacts']"),
        (pd.DataFrame({"ds": DS[:2], "channel": "voice", "contacts": [1, -3]}), {},
         "row(s) [3]"),
        (pd.DataFrame({"ds": DS[:2], "channel": "chat", "contacts": 5}), {},
         "no actual contacts of a planned channel"),
        (pd.DataFrame({"ds": ["2024-11-28 08:00", "2024-11-29 08:00"], "channel": "voice",
                       "contacts": 5}), {}, "cover 2 days"),
        (pd.DataFrame({"ds": DS[:2], "channel": "voice", "contacts": 5}),
         {"day": "2024-12-05"}, "outside the plan"),
        (pd.DataFrame({"ds": DS[:2], "channel": "voice", "contacts": 5}),
         {"prior_contacts": -1}, "prior_contacts"),
    ],
)
def test_bad_actuals_are_named(actuals, kwargs, words):
    volumes, coverage = _plan()
    with pytest.raises(LiveError) as err:
        day_against_plan(volumes, coverage, actuals, VOICE, T, **kwargs)
    assert words in str(err.value)


def test_email_backlog_carried_in_from_the_plans_previous_day():
    # Day 1 is planned with 3 agents: capacity 3 x 0.7 x 1800 / 300 = 12.6 emails per
    # interval against 40 offered, so about 48 x 27.4 = 1,315 emails wait at midnight.
    # Day 2 has 12 agents (50.4 per interval): an email arriving t intervals after
    # midnight is answered after (1315 - 10.4 t) / 50.4 intervals (FIFO), more than the
    # 4 h (8 intervals) target for every t in the day, so no email of day 2 that has an
    # outcome meets it. Without the carried backlog day 2 would answer everything at once.
    email = ChannelPolicy("email", "deferred", response_target_s=4 * 3600, shrinkage=0.3)
    ds = pd.date_range("2024-11-28 00:00", periods=96, freq="30min")
    volumes = pd.DataFrame({"channel": "email", "ds": ds, "volume": 40.0, "aht_s": 300.0})
    coverage = pd.DataFrame({"channel": "email", "ds": ds,
                             "scheduled": np.where(ds.day == 28, 3, 12)})
    day2 = ds[ds.day == 29]
    act = pd.DataFrame({"ds": day2[:10], "channel": "email", "contacts": 40})
    s = day_against_plan(volumes, coverage, act, email, T, prior_contacts=0).summary
    assert s.loc[0, "sl_plan"] == pytest.approx(0.0, abs=1e-9)
    assert s.loc[0, "sl_expected"] == pytest.approx(0.0, abs=1e-9)
    fresh = day_against_plan(volumes[volumes["ds"].isin(day2)], coverage, act, email, T,
                             prior_contacts=0).summary
    assert fresh.loc[0, "sl_plan"] == pytest.approx(1.0)


def test_channels_without_a_plan_are_counted_not_lost():
    volumes, coverage = _plan()
    act = pd.DataFrame({"ds": list(DS[:2]) * 2,
                        "channel": ["voice", "voice", "whatsapp", "whatsapp"],
                        "contacts": [100, 100, 20, 10]})
    view = day_against_plan(volumes, coverage, act, VOICE, T)
    assert view.ignored == {"whatsapp": 30.0}
    assert view.summary.loc[0, "actual_so_far"] == 200


def test_reforecast_steps_by_hand():
    # multiplier: (prior + actual) / (prior + planned); no prior and nothing seen against a
    # plan is zero, nothing planned keeps the plan (1)
    assert volume_multiplier(520.0, 400.0, 80.0, 80.0).mean == pytest.approx(600 / 480)
    assert volume_multiplier(0.0, 300.0, 0.0, 80.0).mean == 0.0
    assert volume_multiplier(0.0, 0.0, 0.0, 80.0).mean == 1.0
    # shape 1: the negative binomial is geometric, P(X <= k) = 1 - (1 - p)^(k + 1) with
    # p = rate / (rate + planned) = 1/2; the 10% quantile is 0, the 90% one is 3
    # (1 - 1/8 = 0.875 < 0.9 <= 1 - 1/16)
    m = volume_multiplier(0.5, 9.5, 0.5, 80.0)  # shape 1, rate 10
    lo, hi = predictive_band(np.array([10.0]), m, 80.0)
    assert (lo.tolist(), hi.tolist()) == ([0.0], [3.0])
    # handle time: 400 contacts at 216 s against 180 s planned, prior 100 contacts at 180 s
    assert aht_multiplier(400 * 216.0, 400 * 180.0, 180.0, 100.0) == pytest.approx(
        (86_400 + 18_000) / (72_000 + 18_000))
    with pytest.raises(ValueError, match="prior_contacts"):
        volume_multiplier(1.0, 1.0, -1.0, 80.0)


def test_email_under_its_interval_share_is_short_only_if_late():
    # Email answered within 4 h: 40 emails every half hour, 12 agents (capacity 12 x 0.7 x
    # 1800 / 300 = 50.4 per interval) except 5 agents (21 per interval) at 10:00-11:00.
    # Those two intervals leave 2 x 19 = 38 emails waiting, cleared by the spare 10.4 per
    # interval within 4 intervals: every email is answered well within 4 h, so email is
    # not short although two intervals have fewer agents than their own share. Voice with
    # a gap is short wherever it is.
    email = ChannelPolicy("email", "deferred", response_target_s=4 * 3600, shrinkage=0.3)
    ds = pd.date_range("2024-11-29 00:00", periods=48, freq="30min")
    volumes = pd.DataFrame({"channel": "email", "ds": ds, "volume": 40.0, "aht_s": 300.0})
    thin = (ds.hour == 10)
    coverage = pd.DataFrame({"channel": "email", "ds": ds, "scheduled": np.where(thin, 5, 12)})
    act = pd.DataFrame({"ds": ds[:14], "channel": "email", "contacts": 40})  # until 07:00
    view = day_against_plan(volumes, coverage, act, email, T, prior_contacts=0)
    iv = view.intervals.set_index("ds")
    assert (iv.loc[ds[thin], "gap"] < 0).all()  # under the interval's own requirement
    assert (iv.loc[ds[thin], "sl"] == 1.0).all()  # yet answered within 4 h
    assert not iv["short"].any() and view.summary.iloc[0]["intervals_short"] == 0

    volumes_v, coverage_v = _plan(volume=100.0, aht=180.0, scheduled=10)
    act_v = pd.DataFrame({"ds": DS[:2], "channel": "voice", "contacts": 100})
    v = day_against_plan(volumes_v, coverage_v, act_v, VOICE, T, prior_contacts=0).intervals
    # 100 calls x 180 s / 1800 s = 10 Erlangs: 10 agents cannot hold a queue (ρ = 1)
    rest = v[~v["observed"]]
    assert (rest["gap"] < 0).all() and rest["short"].all()


def test_a_file_of_today_covers_one_day():
    from planner.live import day_of

    one = pd.DataFrame({"ds": DS, "channel": "voice", "contacts": 1})
    assert day_of(one) == pd.Timestamp("2024-11-29")
    two = pd.concat([one, one.assign(ds=one["ds"] + pd.Timedelta(days=1))])
    with pytest.raises(LiveError, match="today.csv covers 2 days: upload the contacts of one"):
        day_of(two, "today.csv")
