"""Queues under channels (:mod:`planner.queues`): the contract, settings per queue with
overrides, and roll-ups checked against hand computations."""

from __future__ import annotations

import pandas as pd
import pytest

from planner.queues import QueueError, queue_contacts, queue_map, queue_scenario, rollup
from planner.results import ScenarioResult
from planner.scenario import Scenario

QUEUES = {"chat-de": "chat", "chat-fr": "chat", "voice": "voice"}


def test_queue_defaults_to_the_channel_and_belongs_to_one_channel():
    c = pd.DataFrame({"ds": pd.to_datetime(["2024-11-04 08:00"] * 4),
                      "channel": ["chat", "chat", "voice", "email"],
                      "queue": ["chat-de", " chat-fr ", None, ""], "contacts": [1, 2, 3, 4]})
    c.attrs["interval_s"] = 1800
    assert queue_map(c) == {"chat-de": "chat", "chat-fr": "chat", "email": "email",
                            "voice": "voice"}
    q = queue_contacts(c)
    assert q["channel"].tolist() == ["chat-de", "chat-fr", "voice", "email"]
    assert "queue" not in q.columns and q.attrs["interval_s"] == 1800
    assert queue_map(c.drop(columns="queue")) == {"chat": "chat", "email": "email",
                                                  "voice": "voice"}
    bad = c.assign(queue=["x", "x", "voice", ""], channel=["chat", "voice", "voice", "email"])
    with pytest.raises(QueueError, match=r"queue 'x' belongs to channels \['chat', 'voice'\]"):
        queue_map(bad)


def test_settings_per_queue_with_pattern_and_exact_overrides():
    s = queue_scenario(Scenario(), QUEUES, {"chat-*": {"target_sl": 0.85},
                                            "chat-fr": {"target_sl": 0.9, "shrinkage": 0.4}})
    assert list(s.channels) == ["chat-de", "chat-fr", "voice"]
    de, fr, voice = s.channels["chat-de"], s.channels["chat-fr"], s.channels["voice"]
    assert (de.model, de.concurrency, de.target_sl, de.shrinkage) == ("chat", 2, 0.85, 0.3)
    assert (fr.target_sl, fr.shrinkage) == (0.9, 0.4)  # the exact name wins over the pattern
    assert voice == Scenario().channels["voice"]
    with pytest.raises(QueueError, match=r"overrides \['chta-\*'\] match no queue"):
        queue_scenario(Scenario(), QUEUES, {"chta-*": {"target_sl": 0.5}})
    with pytest.raises(QueueError, match=r"channels \['sms'\] have no settings"):
        queue_scenario(Scenario(), {"sms-de": "sms"})
    with pytest.raises(QueueError, match="queue 'chat-de'"):
        queue_scenario(Scenario(), QUEUES, {"chat-de": {"target_sl": 2.0}})


def _result() -> ScenarioResult:
    scenario = queue_scenario(Scenario(), QUEUES)
    day = pd.Timestamp("2024-11-04")
    names = list(QUEUES)
    return ScenarioResult(
        scenario=scenario,
        volumes=pd.DataFrame({"channel": names, "ds": day + pd.Timedelta(hours=9),
                              "volume": [100.0, 300.0, 600.0]}),
        kpis_daily=pd.DataFrame({
            "date": day, "channel": names, "service_level": [0.9, 0.7, 0.8],
            "asa_s": [10.0, 30.0, 20.0], "abandon_rate": [0.0, 0.0, 0.05],
            "occupancy": 0.8, "backlog_items": [float("nan"), 2.0, 5.0],
            "backlog_age_h": float("nan"), "paid_hours": [8.0, 16.0, 40.0]}),
        weekly=pd.DataFrame({"week": day, "channel": names, "days": 1,
                             "paid_hours": [8.0, 16.0, 40.0], "fte": [1.4, 2.8, 7.0],
                             "cost": [160.0, 320.0, 800.0]}),
    )


def test_rollup_weights_rates_by_volume_and_sums_hours_fte_cost():
    r = rollup(_result(), QUEUES).set_index(["level", "name"])
    assert r.index.tolist() == [("queue", "chat-de"), ("queue", "chat-fr"), ("queue", "voice"),
                                ("channel", "chat"), ("channel", "voice"), ("total", "total")]
    chat, total = r.loc[("channel", "chat")], r.loc[("total", "total")]
    # hand computation: chat = chat-de (100 contacts, SL 0.9, ASA 10) + chat-fr (300, 0.7, 30)
    assert chat["queues"] == 2
    assert chat["volume"] == 400.0 and chat["paid_hours"] == 24.0 and chat["cost"] == 480.0
    assert chat["service_level"] == pytest.approx((0.9 * 100 + 0.7 * 300) / 400)  # 0.75
    assert chat["asa_s"] == pytest.approx((10 * 100 + 30 * 300) / 400)  # 25 s
    assert chat["avg_fte"] == pytest.approx(4.2) and chat["peak_week_fte"] == pytest.approx(4.2)
    assert chat["max_backlog_items"] == 2.0
    # total: + voice (600 contacts, SL 0.8, abandonment 5 %)
    assert total["queues"] == 3 and total["volume"] == 1000.0 and total["cost"] == 1280.0
    assert total["service_level"] == pytest.approx((90 + 210 + 480) / 1000)  # 0.78
    assert total["abandon_rate"] == pytest.approx(600 * 0.05 / 1000)  # 0.03
    assert total["avg_fte"] == pytest.approx(11.2) and total["paid_hours"] == 64.0
    assert total["max_backlog_items"] == 5.0
    assert r.loc[("channel", "voice"), "service_level"] == 0.8 and total["channel"] == "all"
