"""The app's queue picker helpers (:mod:`planner.picks`): which queues a pick
covers, frames added up to the pick (sums and volume-weighted means checked by hand) and
the Data page's summary of queues (counted by hand from a small frame)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.picks import (
    daily_service_level,
    history_summary,
    pick_frame,
    pick_options,
    pick_rollup,
    scope,
)
from planner.results import ScenarioResult
from planner.scenario import Scenario

QUEUES = {"chat-de": "chat", "chat-fr": "chat", "email": "email", "voice-en": "voice"}


def test_options_and_scope():
    assert pick_options(QUEUES) == ["Total", "Channel: chat", "Channel: email",
                                    "Channel: voice", "chat-de", "chat-fr", "email",
                                    "voice-en"]
    assert scope("Total", QUEUES) == ["chat-de", "chat-fr", "email", "voice-en"]
    assert scope("Channel: chat", QUEUES) == ["chat-de", "chat-fr"]
    assert scope("email", QUEUES) == ["email"]  # the queue named like its channel
    assert scope("Channel: email", QUEUES) == ["email"]
    assert scope("gone", QUEUES) == []


def test_pick_frame_sums_and_weights_by_volume():
    t0, t1 = pd.Timestamp("2024-11-29 08:00"), pd.Timestamp("2024-11-29 08:30")
    f = pd.DataFrame({"channel": ["chat-de", "chat-fr", "voice-en", "chat-de", "chat-fr"],
                      "ds": [t0, t0, t0, t1, t1], "volume": [10.0, 30.0, 99.0, 0.0, 0.0],
                      "agents": [2.0, 5.0, 9.0, 1.0, 1.0], "sl": [0.9, 0.7, 0.1, 0.6, np.nan]})
    out = pick_frame(f, "Channel: chat", QUEUES, ["volume", "agents"], ["sl"])
    assert out["channel"].tolist() == ["chat", "chat"]
    assert out["volume"].tolist() == [40.0, 0.0] and out["agents"].tolist() == [7.0, 2.0]
    # by hand: (0.9 * 10 + 0.7 * 30) / 40 = 0.75; no volume at t1: the mean of the
    # finite values (0.6)
    assert out["sl"].tolist() == pytest.approx([0.75, 0.6])
    assert pick_frame(f, "nothing", QUEUES, ["volume"]).empty


def test_pick_frame_keeps_shifts_without_a_break():
    day = pd.Timestamp("2024-11-29")
    sp = pd.DataFrame({"date": day, "channel": ["chat-de", "chat-fr", "chat-fr"],
                       "shift_start": day + pd.Timedelta(hours=8),
                       "break_start": [pd.NaT, pd.NaT, day + pd.Timedelta(hours=12)],
                       "agents": [2, 3, 4]})
    out = pick_frame(sp, "Total", QUEUES, ["agents"], by=["date", "shift_start", "break_start"])
    assert out["agents"].tolist() == [4, 5]  # with a break at 12:00, then without (2 + 3)


def test_history_summary_counts_by_hand():
    ds = pd.to_datetime(["2024-11-01 08:00", "2024-11-02 08:00", "2024-11-01 09:00",
                         "2024-11-03 08:00", "2024-11-01 08:00"])
    c = pd.DataFrame({"ds": ds, "channel": ["chat", "chat", "chat", "chat", "voice"],
                      "queue": ["chat-de", "chat-de", "chat-fr", "chat-fr", ""],
                      "contacts": [30, 50, 10, 10, 7]})
    s = history_summary(c, {"chat-de": "chat", "chat-fr": "chat", "voice": "voice"})
    assert s["queue"].tolist() == ["chat-de", "chat-fr", "voice"]
    row = s.set_index("queue")
    assert row.loc["chat-de", "contacts"] == 80 and row.loc["chat-de", "days"] == 2
    assert row.loc["chat-de", "share_of_channel"] == pytest.approx(80 / 100)
    assert row.loc["chat-fr", "days"] == 3  # 1 to 3 November
    assert row.loc["chat-fr", "per_day"] == pytest.approx(20 / 3)
    assert row["small"].tolist() == [False, True, True]  # under 10 contacts a day


def test_daily_service_level_weights_by_the_days_contacts_and_rollup_row():
    day = pd.Timestamp("2024-11-04")
    names = ["chat-de", "chat-fr"]
    r = ScenarioResult(
        scenario=Scenario(),
        volumes=pd.DataFrame({"channel": ["chat-de", "chat-de", "chat-fr"],
                              "ds": [day + pd.Timedelta(hours=h) for h in (8, 9, 8)],
                              "volume": [60.0, 40.0, 300.0]}),
        kpis_daily=pd.DataFrame({"date": day, "channel": names,
                                 "service_level": [0.9, 0.7]}))
    out = daily_service_level({"base": r}, "Channel: chat", {n: "chat" for n in names})
    # by hand: chat-de 100 contacts at 0.9, chat-fr 300 at 0.7: 0.75
    assert out["service_level"].tolist() == pytest.approx([0.75])
    assert out[["scenario", "channel"]].iloc[0].tolist() == ["base", "chat"]
    roll = pd.DataFrame({"level": ["queue", "channel", "total"],
                         "name": ["chat-de", "chat", "total"], "avg_fte": [1.0, 2.0, 3.0]})
    assert pick_rollup(roll, "Channel: chat", {"chat-de": "chat"})["avg_fte"] == 2.0
    assert pick_rollup(roll, "Total", {})["avg_fte"] == 3.0
    with pytest.raises(ValueError, match="no roll-up row"):
        pick_rollup(roll, "chat-fr", {"chat-fr": "chat"})
