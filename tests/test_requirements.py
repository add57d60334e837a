"""Interval requirements against independent references.

Erlang C service levels are recomputed here with mpmath from the textbook formula (50
digits); rostered agents with exact rational arithmetic (``fractions``); the deferred
case and FTE hours by hand.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from staffing.policy import ChannelPolicy, PolicyError, Shrinkage
from staffing.requirements import RequirementsError, compute_requirements, fte_hours

T = 1800


def _sl_mp(volume, aht, n, t):
    mp.mp.dps = 50
    a = mp.mpf(volume) * aht / T
    if n <= a:
        return 0.0
    top = a**n / mp.factorial(n) * n / (n - a)
    c = top / (mp.fsum(a**k / mp.factorial(k) for k in range(n)) + top)
    return float(1 - c * mp.e ** (-(n - a) * t / aht))


def _min_agents_mp(volume, aht, target, t):
    n = max(1, math.floor(volume * aht / T) + 1)
    while _sl_mp(volume, aht, n, t) < target:
        n += 1
    return n


def _vol(channel, ds, volume, aht):
    return pd.DataFrame({"channel": channel, "ds": pd.to_datetime(ds), "volume": volume,
                         "aht_s": aht})


def test_call_centre_helper_example_and_exact_rostering():
    # 100 calls per 30 min, AHT 3 min, 80% in 20 s: 14 agents (Call Centre Helper's
    # worked Erlang C example), 30% shrinkage: 14 / 0.7 = 20 exactly.
    vol = _vol("voice", ["2024-11-11 10:00"], [100.0], [180.0])
    req = compute_requirements(vol, ChannelPolicy("voice", shrinkage=0.3), T)
    assert _min_agents_mp(100, 180.0, 0.8, 20) == 14
    assert req["agents"].tolist() == [14]
    assert req["rostered"].tolist() == [20]
    assert req["sl"].iloc[0] == pytest.approx(_sl_mp(100, 180.0, 14, 20), rel=1e-9)
    assert req["occupancy"].iloc[0] == pytest.approx(10 / 14)
    assert req.attrs["interval_s"] == T


def test_many_intervals_match_mpmath_minimal_agents():
    rng = np.random.default_rng(5)
    volume = rng.integers(1, 900, 12).astype(float)
    aht = rng.uniform(120, 600, 12).round(1)
    ds = pd.date_range("2024-11-11 08:00", periods=12, freq="30min")
    req = compute_requirements(
        _vol("voice", ds, volume, aht), ChannelPolicy("voice", target_sl=0.9, threshold_s=15), T
    )
    ref = [_min_agents_mp(v, h, 0.9, 15) for v, h in zip(volume, aht, strict=True)]
    assert req["agents"].tolist() == ref


def test_occupancy_cap_binds():
    # A = 10 Erlangs; 50/20 would need few agents, a 70% occupancy cap needs
    # ceil(10 / 0.7) = 15 (exact: 100/7 = 14.29).
    vol = _vol("voice", ["2024-11-11 10:00"], [100.0], [180.0])
    pol = ChannelPolicy("voice", target_sl=0.5, threshold_s=20, max_occupancy=0.7)
    assert _min_agents_mp(100, 180.0, 0.5, 20) < 15
    assert compute_requirements(vol, pol, T)["agents"].tolist() == [15]


def test_shrinkage_tables_by_month_and_weekday():
    ds = ["2024-11-29 10:00", "2024-12-02 10:00", "2024-12-07 10:00"]  # Fri, Mon, Sat
    vol = _vol("voice", ds, [100.0] * 3, [180.0] * 3)
    monthly = Shrinkage.monthly({"Nov": 0.25, 12: 0.35}, default=0.3)
    req = compute_requirements(vol, ChannelPolicy("voice", shrinkage=monthly), T)
    exact = [math.ceil(Fraction(14) / (1 - Fraction(s))) for s in ("0.25", "0.35", "0.35")]
    assert req["rostered"].tolist() == exact == [19, 22, 22]
    weekly = Shrinkage.weekly({"sat": 0.4, 0: 0.2}, default=0.3)
    req = compute_requirements(vol, ChannelPolicy("voice", shrinkage=weekly), T)
    exact = [math.ceil(Fraction(14) / (1 - Fraction(s))) for s in ("0.3", "0.2", "0.4")]
    assert req["rostered"].tolist() == exact == [20, 18, 24]


def test_closed_hours_get_no_agents():
    ds = ["2024-11-11 07:30", "2024-11-11 08:00", "2024-11-11 22:00"]
    vol = _vol("voice", ds, [50.0, 50.0, 50.0], [180.0] * 3)
    pol = ChannelPolicy("voice", open_hours=("08:00", "22:00"))
    req = compute_requirements(vol, pol, T)
    assert req["agents"].tolist()[0] == 0 and req["agents"].tolist()[2] == 0
    assert req["agents"].iloc[1] == _min_agents_mp(50, 180.0, 0.8, 20)
    assert np.isnan(req["sl"].iloc[0])


def test_chat_slots_from_erlang_c():
    # 200 chats per 30 min, 600 s each at concurrency 2: A = 66.7 slot-Erlangs; minimal
    # slots s* from Erlang C, agents ceil(s* / 2).
    vol = _vol("chat", ["2024-11-11 12:00"], [200.0], [600.0])
    pol = ChannelPolicy("chat", "chat", target_sl=0.8, threshold_s=30, concurrency=2)
    slots = _min_agents_mp(200, 600.0, 0.8, 30)
    req = compute_requirements(vol, pol, T)
    assert req["agents"].tolist() == [math.ceil(slots / 2)]
    assert req["occupancy"].iloc[0] == pytest.approx(200 * 600 / T / (2 * req["agents"].iloc[0]))


def test_erlang_a_needs_no_more_than_erlang_c():
    ds = pd.date_range("2024-11-11 08:00", periods=6, freq="30min")
    vol = _vol("voice", ds, [50.0, 150, 300, 600, 900, 1200], [240.0] * 6)
    c = compute_requirements(vol, ChannelPolicy("voice"), T)
    a = compute_requirements(vol, ChannelPolicy("voice", "erlang_a", patience_s=120), T)
    assert (a["agents"] <= c["agents"]).all()
    assert (a["sl"] >= 0.8 - 1e-12).all()


def test_deferred_email_hand_example():
    # 120 emails of 10 min arrive 00:00-00:30; agents work 08:00-20:00; 24 h target:
    # 20 h of work in 12 open hours -> ceil(20 / 12) = 2 agents in each open interval.
    ds = pd.date_range("2024-11-11", periods=48, freq="30min")
    volume = np.zeros(48)
    volume[0] = 120
    vol = _vol("email", ds, volume, 600.0)
    pol = ChannelPolicy("email", "deferred", response_target_s=24 * 3600,
                        open_hours=("08:00", "20:00"))
    req = compute_requirements(vol, pol, T)
    hours = req["ds"].dt.hour
    assert (req.loc[(hours >= 8) & (hours < 20), "agents"] == 2).all()
    assert (req.loc[(hours < 8) | (hours >= 20), "agents"] == 0).all()
    # the two agents work the backlog from 08:00 until its 20 h are done at 18:00
    occ = req["occupancy"]
    assert (occ[(hours >= 8) & (hours < 18)] == 1.0).all()
    assert (occ[(hours >= 18) & (hours < 20)] == 0.0).all()
    assert occ[(hours < 8) | (hours >= 20)].isna().all()


def test_fte_hours_by_day_and_week():
    ds = pd.date_range("2024-11-11 08:00", periods=4, freq="30min").append(
        pd.date_range("2024-11-12 08:00", periods=2, freq="30min")
    )
    req = pd.DataFrame({"channel": "voice", "ds": ds, "agents": [7, 7, 7, 7, 14, 14],
                        "rostered": [10, 10, 10, 10, 20, 20]})
    day = fte_hours(req, interval_s=T)
    assert day["rostered_hours"].tolist() == [20.0, 20.0]
    assert day["fte"].tolist() == [2.5, 2.5]
    week = fte_hours(req, by="week", interval_s=T)
    assert week["period"].tolist() == [pd.Timestamp("2024-11-11")]
    assert week["agent_hours"].tolist() == [28.0] and week["fte"].tolist() == [1.0]


def test_validation_names_the_problem():
    vol = _vol("voice", ["2024-11-11 10:00"], [100.0], [180.0])
    with pytest.raises(RequirementsError, match="aht_s"):
        compute_requirements(vol.drop(columns="aht_s"), ChannelPolicy("voice"), T)
    with pytest.raises(RequirementsError, match="channel 'voice'"):
        compute_requirements(vol, ChannelPolicy("chat"), T)
    with pytest.raises(RequirementsError, match="volume"):
        compute_requirements(vol.assign(volume=-1.0), ChannelPolicy("voice"), T)
    with pytest.raises(RequirementsError, match="interval_s"):
        compute_requirements(vol, ChannelPolicy("voice"), 7000)
    with pytest.raises(PolicyError, match="patience_s"):
        ChannelPolicy("voice", "erlang_a")
    with pytest.raises(PolicyError, match="shrinkage"):
        ChannelPolicy("voice", shrinkage=1.0)
    with pytest.raises(PolicyError, match="response_target_s"):
        ChannelPolicy("email", "deferred")
    with pytest.raises(PolicyError, match="open_hours"):
        ChannelPolicy("voice", open_hours=("22:00", "08:00"))


def test_deferred_tail_keeps_the_last_day_like_the_others():
    # The same email load every day (40 an interval, 5 min each, answered within 24 h)
    # needs the same agents every day. Cut at the data's end, the last day's emails are
    # due after it and the last day looks cheap; with the last day repeated once past the
    # end (deferred_tail_days=1) it needs what the other days need.
    ds = pd.date_range("2024-11-12", periods=3 * 48, freq="30min")
    vol = pd.DataFrame({"channel": "email", "ds": ds, "volume": 40.0, "aht_s": 300.0})
    pol = ChannelPolicy("email", "deferred", response_target_s=24 * 3600, shrinkage=0.3)
    plain = compute_requirements(vol, pol, T)
    tail = compute_requirements(vol, pol, T, deferred_tail_days=1)
    per_day = tail.groupby(tail["ds"].dt.date)["rostered"].sum().to_numpy()
    assert len(tail) == len(vol) and per_day[2] == per_day[1]
    cut = plain.groupby(plain["ds"].dt.date)["rostered"].sum().to_numpy()
    assert cut[2] < per_day[2] and cut[2] < cut[1]
    with pytest.raises(RequirementsError, match="deferred_tail_days"):
        compute_requirements(vol, pol, T, deferred_tail_days=-1)
