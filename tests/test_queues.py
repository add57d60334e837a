"""Queues under channels (:mod:`planner.queues`): the contract, settings per queue with
overrides, and roll-ups checked against hand computations."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from forecast.data import DataError
from planner.queues import QueueError, queue_contacts, queue_map, queue_scenario, rollup
from planner.results import ScenarioResult
from planner.scenario import Scenario, ScenarioError

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


def test_result_rollup_method_and_planned_scenario_from_meta():
    # a result as the pipeline returns it: the user's scenario and meta["queues"]
    base = _result()
    user = Scenario(queues={"chat-fr": {"target_sl": 0.9}})
    r = ScenarioResult(scenario=user, volumes=base.volumes, kpis_daily=base.kpis_daily,
                       weekly=base.weekly, meta={"queues": QUEUES})
    assert r.queues == QUEUES
    assert list(r.planned_scenario.channels) == list(QUEUES)
    assert r.planned_scenario.channels["chat-fr"].target_sl == 0.9
    pd.testing.assert_frame_equal(r.rollup(), rollup(base, QUEUES))
    assert r.summary()["channel"].tolist() == list(QUEUES)
    assert r.totals()["cost"] == 1280.0  # 160 + 320 + 800 over all queues


# ------------------------------------------------------------------ loader
def _load(text: str, **kw) -> pd.DataFrame:
    from forecast.data import load_contacts

    return load_contacts(io.StringIO(text), **kw)


HEAD = "Interval Start;Channel;Queue Name;Contacts;AHT_s\n"


def test_loader_keeps_the_queue_column_blank_is_the_channel():
    c = _load(HEAD + "2024-11-04 08:00;Chat;Chat-DE ;3;100\n2024-11-04 08:00;chat;chat-fr;4;200\n"
              "2024-11-04 08:00;voice;;5;300\n2024-11-04 08:30;chat;chat-de;1;100\n"
              "2024-11-04 08:30;chat;chat-fr;2;200\n2024-11-04 08:30;voice;;6;300\n")
    assert c.columns.tolist() == ["ds", "channel", "queue", "contacts", "aht_s"]
    assert c["queue"].tolist() == ["chat-de", "chat-fr", "voice"] * 2
    assert c["contacts"].tolist() == [3, 4, 5, 1, 2, 6]
    assert c.attrs["interval_s"] == 1800 and c.attrs["warnings"] == []
    assert queue_map(c) == {"chat-de": "chat", "chat-fr": "chat", "voice": "voice"}


def test_loader_intervals_and_duplicates_are_per_queue():
    # two queues an hour apart each, offset by 30 minutes: hourly data per queue
    c = _load("ds,channel,queue,contacts\n2024-11-04 08:00,chat,a,1\n2024-11-04 08:30,chat,b,2\n"
              "2024-11-04 09:00,chat,a,3\n2024-11-04 09:30,chat,b,4\n2024-11-04 10:00,chat,a,5\n"
              "2024-11-04 10:30,chat,b,6\n")
    assert c.attrs["interval_s"] == 3600
    assert c["queue"].tolist() == ["a", "b", "a", "b", "a", "b"]
    # the same timestamp in two queues is no duplicate; twice in one queue is
    ok = _load("ds,channel,queue,contacts\n2024-11-04 08:00,chat,a,1\n2024-11-04 08:00,chat,b,2\n",
               interval_s=1800)
    assert len(ok) == 2
    with pytest.raises(DataError, match=r"duplicate timestamps at row 2 .*row 3.*one row per "
                                        r"ds and channel and queue"):
        _load("ds,channel,queue,contacts\n2024-11-04 08:00,chat,a,1\n2024-11-04 08:00,chat,a,2\n"
              "2024-11-04 08:00,chat,b,2\n", interval_s=1800)


def test_loader_merges_dst_repeats_per_queue():
    # Europe/Berlin leaves summer time on 2024-10-27: 02:00 and 02:30 happen twice
    rows = ["ds,channel,queue,contacts,aht_s"]
    for t in ("01:00", "01:30", "02:00", "02:30", "02:00", "02:30", "03:00", "03:30"):
        rows.append(f"2024-10-27 {t},email,email-de,2,100")
    rows += ["2024-10-27 02:00,email,email-fr,5,300", "2024-10-27 02:30,email,email-fr,1,60"]
    rows[3] = "2024-10-27 02:00,email,email-de,1,400"  # first 02:00 of email-de: 1 at 400 s
    c = _load("\n".join(rows) + "\n", tz="Europe/Berlin")
    assert c.attrs["dst_merged_rows"] == 2
    de = c[c["queue"] == "email-de"]
    de = de.set_index(de["ds"].dt.strftime("%H:%M"))
    assert de.loc["02:00", "contacts"] == 3  # 1 + 2
    assert de.loc["02:00", "aht_s"] == pytest.approx((1 * 400 + 2 * 100) / 3)  # weighted 200 s
    fr = c[c["queue"] == "email-fr"]
    assert fr["contacts"].tolist() == [5, 1] and fr["aht_s"].tolist() == [300.0, 60.0]


@pytest.mark.parametrize(("queue", "match"), [
    ("chat\x07de", r"column 'Queue Name': a queue name with the control character '\\x07' at "
                   r"row 2"),
    ("chat\tde", r"a queue name with the control character '\\t' at row 2"),
    ("q" * 61, r"a queue name of 61 characters at row 2. Accepted: queue names of 1..60"),
    ("voice", r"queue 'voice' of channel 'chat' is named like the channel 'voice' at row 2"),
])
def test_loader_refuses_bad_queue_names(queue, match):
    with pytest.raises(DataError, match=match):
        _load(HEAD + f"2024-11-04 08:00;chat;{queue};3;100\n2024-11-04 08:00;voice;v1;5;300\n",
              interval_s=1800)


def test_loader_refuses_a_queue_under_two_channels():
    with pytest.raises(DataError, match=r"queue 'x' belongs to channels \['chat', 'voice'\] at "
                                        r"row 2 \('chat'\), row 3 \('voice'\)"):
        _load(HEAD + "2024-11-04 08:00;chat;x;3;100\n2024-11-04 08:00;voice;x;5;300\n")


# ------------------------------------------------------------------ scenario
def test_scenario_queue_overrides_validate_and_round_trip(tmp_path):
    from planner.store import Store

    text = ("name: q\nqueues:\n  'chat-*': {target_sl: 0.85, concurrency: 3}\n"
            "  chat-fr: {shrinkage: 0.4}\n")
    s = Scenario.from_yaml(text)
    assert s.queues == {"chat-*": {"target_sl": 0.85, "concurrency": 3},
                        "chat-fr": {"shrinkage": 0.4}}
    assert Scenario.from_yaml(s.to_yaml()) == s
    assert Scenario().queues == {}
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.save(s)
        assert store.load("q").scenario == s
    planned = queue_scenario(s, QUEUES, s.queues)
    assert planned.channels["chat-fr"].concurrency == 3 and planned.queues == {}
    for bad, match in [
        ("queues: {'chat-*': {targt_sl: 0.9}}", r"queues.chat-\*.targt_sl: unknown field"),
        ("queues: {'chat-*': {target_sl: 1.5}}", r"queues.chat-\*.target_sl: Input should be "
                                                 r"less than 1"),
        ("queues: {'chat-*': {open_hours: '9-5'}}", r"queues.chat-\*.open_hours: open_hours "
                                                    r"'9-5' is not"),
        ("queues: {'chat-*': 3}", r"queues.chat-\*: expected a mapping"),
        ("queues: {' chat': {aht_s: 300}}", r"queues. chat: a queue name or pattern must be "
                                            r"1..60 characters"),
    ]:
        with pytest.raises(ScenarioError, match=match):
            Scenario.from_yaml(bad)
    # a cross-field rule is checked against the queue's channel
    with pytest.raises(QueueError,
                       match=r"queue 'voice' \(channel 'voice'.*concurrency 2 is only valid"):
        queue_scenario(Scenario(), QUEUES, {"voice": {"concurrency": 2}})
