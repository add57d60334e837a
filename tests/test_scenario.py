"""Scenario model: defaults, YAML round trip, errors naming the field, demand arithmetic.

Expected volumes in the demand tests are computed by hand from the toy forecast in
``_toy_base`` (written out next to each assertion).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.pipeline import BaseForecast, channel_policies, scenario_volumes, shift_rules
from planner.scenario import ChannelSettings, Scenario, ScenarioError, load_scenario

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


def test_defaults_are_the_q4_2024_peak_with_the_agreed_targets():
    s = Scenario()
    assert (s.horizon.start, s.horizon.end) == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    assert s.horizon.days == 92  # 31 + 30 + 31
    assert s.horizon.last_history_day == dt.date(2024, 9, 30)
    chat, voice, email = s.channels["chat"], s.channels["voice"], s.channels["email"]
    assert (chat.model, chat.target_sl, chat.threshold_s, chat.concurrency) == ("chat", 0.8, 60, 2)
    assert (voice.model, voice.target_sl, voice.threshold_s) == ("erlang_a", 0.8, 20)
    assert voice.patience_s > 0
    assert (email.model, email.response_target_s) == ("deferred", 86_400)


def test_yaml_round_trip_of_defaults_and_of_every_shipped_scenario():
    s = Scenario()
    assert Scenario.from_yaml(s.to_yaml()) == s
    files = sorted(SCENARIO_DIR.glob("*.yaml"))
    names = {f.stem for f in files}
    assert {"base", "high_cr_fixed_headcount", "low_cr_bots_fixed_headcount"} <= names
    for f in files:
        loaded = load_scenario(f)
        assert loaded.name == f.stem
        assert Scenario.from_yaml(loaded.to_yaml()) == loaded


@settings(max_examples=40, deadline=None)
@given(
    growth=st.floats(-0.5, 2.0, allow_nan=False),
    cr=st.dictionaries(st.integers(1, 12), st.floats(0.0, 0.2, allow_nan=False), max_size=4),
    shrink=st.floats(0.0, 0.6, allow_nan=False),
    conc=st.integers(1, 5),
    cap=st.one_of(st.none(), st.integers(0, 500)),
)
def test_yaml_round_trip_keeps_every_value(growth, cr, shrink, conc, cap):
    s = Scenario.from_dict(
        {
            "order_growth": growth,
            "contact_rate": cr or None,
            "channels": {"chat": {"shrinkage": shrink, "concurrency": conc,
                                  "headcount_cap": cap}},
        }
    )
    back = Scenario.from_yaml(s.to_yaml())
    assert back == s
    assert back.channels["chat"].shrinkage == shrink
    for month in range(1, 13):
        assert back.contact_rate_for_month(month) == cr.get(month)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("channels: {chat: {target_sl: 1.5}}", "channels.chat.target_sl"),
        ("channels: {voice: {model: erlang_a, patience_s: null}}", "needs patience_s"),
        ("channels: {email: {response_target_s: -5}}", "channels.email.response_target_s"),
        ("channels: {voice: {open_hours: '22:00-08:00'}}", "must close after it opens"),
        ("channels: {voice: {open_hours: 'all day'}}", "'HH:MM-HH:MM'"),
        ("channels: {voice: {concurrency: 2}}", "only valid with model 'chat'"),
        ("channels: {chat: {automation: {13: 0.2}}}", "month 13"),
        ("contact_rate: {11: 1.5}", "contact_rate[11] = 1.5"),
        ("channels: {voice: {shrinkage_by_month: {12: 1.0}}}", "must be below 1"),
        ("channels: {voice: {shrinkage_by_month: {0: 0.3}}}", "month 0"),
        ("horizon: {start: 2024-12-01, end: 2024-11-01}", "before horizon.start"),
        ("horizon: {history_end: 2024-10-05}", "must be before start"),
        ("shifts: {lengths_h: [20]}", "shifts.lengths_h"),
        ("cost_per_paid_hour: -3", "cost_per_paid_hour"),
        ("colour: blue", "colour"),
        ("channels: {}", "at least one channel"),
        ("name: 'a/b'", "slashes"),
    ],
)
def test_invalid_fields_are_named_in_the_error(text, needle):
    with pytest.raises(ScenarioError) as err:
        Scenario.from_yaml(text, source="bad.yaml")
    assert needle in str(err.value)
    assert str(err.value).startswith("bad.yaml")
    assert isinstance(err.value, ValueError)


def test_yaml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="(?s)not valid YAML.*line 2"):
        Scenario.from_yaml("name: x\n  bad: [1,\n", source="s.yaml")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        Scenario.from_yaml("- 1\n- 2\n")


def test_partial_channel_keeps_that_channels_defaults_and_drops_unlisted():
    s = Scenario.from_yaml("channels: {chat: {automation: {11: 0.3}}, email: {}}")
    assert list(s.channels) == ["chat", "email"]
    assert s.channels["chat"].concurrency == 2 and s.channels["chat"].threshold_s == 60
    assert s.channels["chat"].automation_for_month(11) == 0.3
    assert s.channels["chat"].automation_for_month(10) == 0.0
    assert s.channels["email"].model == "deferred"


def test_with_changes_validates_and_forecast_key_ignores_staffing():
    s = Scenario()
    t = s.with_changes({"channels.chat.concurrency": 3, "channels.voice.shrinkage": 0.4})
    assert t.channels["chat"].concurrency == 3 and t.channels["voice"].shrinkage == 0.4
    assert s.channels["chat"].concurrency == 2  # the original is unchanged
    assert t.forecast_key() == s.forecast_key()
    assert s.with_changes({"contact_rate": 0.05}).forecast_key() == s.forecast_key()
    assert s.with_changes({"horizon.end": "2024-11-30"}).forecast_key() != s.forecast_key()
    assert s.with_changes({"forecast.model": "ets"}).forecast_key() != s.forecast_key()
    with pytest.raises(ScenarioError, match="channels.chat.target_sl"):
        s.with_changes({"channels.chat.target_sl": 2})
    with pytest.raises(ScenarioError, match="does not name a field"):
        s.with_changes({"nothing.here": 1})


def test_policies_and_shift_rules_follow_the_scenario():
    s = Scenario.from_yaml(
        "channels: {voice: {shrinkage: 0.35, open_hours: '07:30-21:00'}, chat: {}}\n"
        "shifts: {lengths_h: [8, 4], break_min: 30, start_step_min: 30}"
    )
    pol = channel_policies(s)
    assert pol["voice"].open_seconds == (7 * 3600 + 1800, 21 * 3600)
    assert pol["voice"].shrinkage == 0.35 and pol["voice"].model == "erlang_a"
    assert pol["chat"].concurrency == 2
    rules = shift_rules(s)
    lengths = [(t.length_s, t.break_s, t.paid_s) for t in rules.shift_types]
    # 8 h with an unpaid 30-min break -> 7.5 h paid; 4 h has no break
    assert lengths == [(28800, 1800, 27000), (14400, 0, 14400)]
    assert rules.start_grid_s == 1800


# ------------------------------------------------------------ demand assumptions


def _toy_base() -> BaseForecast:
    """Two months, two channels, one interval each day-month: hand-checkable numbers.

    Orders: 1000 in October, 2000 in November. Contacts (yhat): chat 40 (Oct) and 100
    (Nov), email 10 (Oct) and 20 (Nov) -> learned rates chat 4 % / 5 %, email 1 % / 1 %.
    """
    ds = pd.to_datetime(["2024-10-15 10:00", "2024-11-15 10:00"])
    contacts = pd.DataFrame(
        {
            "unique_id": ["chat", "chat", "email", "email"],
            "ds": list(ds) * 2,
            "yhat": [40.0, 100.0, 10.0, 20.0],
            "yhat_lo": [30.0, 80.0, 8.0, 15.0],
            "yhat_hi": [50.0, 120.0, 12.0, 25.0],
            "aht_s": [500.0, 550.0, 400.0, 420.0],
        }
    )
    orders = pd.DataFrame(
        {"ds": pd.to_datetime(["2024-10-15", "2024-11-15"]), "yhat": [1000.0, 2000.0],
         "yhat_lo": [900.0, 1800.0], "yhat_hi": [1100.0, 2200.0]}
    )
    # the day's learned rate: contacts / orders (one interval per day)
    daily = contacts.drop(columns="aht_s").assign(
        ds=contacts["ds"].dt.normalize(), rate=[0.04, 0.05, 0.01, 0.01])
    return BaseForecast(orders, contacts, daily, {}, 1800)


def _vol(s: Scenario) -> dict[tuple[str, int], float]:
    v = scenario_volumes(s, _toy_base())
    return {(c, d.month): x for c, d, x in zip(v["channel"], v["ds"], v["volume"], strict=True)}


def test_learned_forecast_passes_through_unchanged():
    s = Scenario.from_yaml("channels: {chat: {}, email: {}}")
    v = scenario_volumes(s, _toy_base())
    assert _vol(s) == {("chat", 10): 40.0, ("chat", 11): 100.0, ("email", 10): 10.0,
                       ("email", 11): 20.0}
    np.testing.assert_allclose(v["contact_rate"], [0.04, 0.05, 0.01, 0.01])
    assert v["aht_s"].tolist() == [500.0, 550.0, 400.0, 420.0]


def test_total_contact_rate_override_keeps_channel_mix():
    # October: learned total 5 % -> 6.5 % scales both channels by 1.3: chat 52, email 13.
    # November: learned total 6 % (5 + 1) -> 6.9 % scales by 1.15: chat 115, email 23.
    s = Scenario.from_yaml("contact_rate: {10: 0.065, 11: 0.069}\nchannels: {chat: {}, email: {}}")
    got = _vol(s)
    assert got[("chat", 10)] == pytest.approx(52.0)
    assert got[("email", 10)] == pytest.approx(13.0)
    assert got[("chat", 11)] == pytest.approx(115.0)
    assert got[("email", 11)] == pytest.approx(23.0)


def test_channel_rate_automation_growth_aht_and_upper_quantile():
    # chat rate 3 % in November -> 2000 * 3 % = 60 contacts, 25 % deflected by bots -> 45,
    # orders +10 % -> 49.5; email keeps its learned 20 * 1.1 = 22; chat AHT set to 600 s.
    s = Scenario.from_yaml(
        "order_growth: 0.1\n"
        "channels: {chat: {contact_rate: {11: 0.03}, automation: {11: 0.25}, aht_s: 600},"
        " email: {}}"
    )
    got = _vol(s)
    assert got[("chat", 11)] == pytest.approx(49.5)
    assert got[("chat", 10)] == pytest.approx(44.0)  # October untouched except growth
    assert got[("email", 11)] == pytest.approx(22.0)
    v = scenario_volumes(s, _toy_base())
    assert v.loc[v["channel"] == "chat", "aht_s"].tolist() == [600.0, 600.0]
    # staff to the upper bound: yhat_hi, same scaling (chat Oct: 50 * 1.1 = 55)
    up = s.with_changes({"forecast.staff_to": "upper"})
    assert _vol(up)[("chat", 10)] == pytest.approx(55.0)


def test_missing_aht_is_named_unless_the_scenario_sets_it():
    base = _toy_base()
    no_aht = BaseForecast(base.orders, base.contacts.assign(aht_s=np.nan), base.daily, {},
                          1800)
    s = Scenario.from_yaml("channels: {chat: {}, email: {}}")
    with pytest.raises(ValueError, match=r"\['chat', 'email'\].*aht_s"):
        scenario_volumes(s, no_aht)
    fixed = s.with_changes({"channels.chat.aht_s": 500, "channels.email.aht_s": 400})
    assert scenario_volumes(fixed, no_aht)["aht_s"].tolist() == [500.0, 500.0, 400.0, 400.0]


def test_channel_settings_accept_month_tables():
    c = ChannelSettings(model="chat", concurrency=2, automation={11: 0.3, 12: 0.35},
                        contact_rate=0.03)
    assert [c.automation_for_month(m) for m in (10, 11, 12)] == [0.0, 0.3, 0.35]
    assert c.contact_rate_for_month(5) == 0.03


def test_shrinkage_by_month_replaces_the_listed_months_and_survives_json():
    import json

    s = Scenario.from_yaml("channels: {voice: {shrinkage: 0.3, "
                           "shrinkage_by_month: {12: 0.35, 1: 0.38}}}")
    v = s.channels["voice"]
    assert [v.shrinkage_for_month(m) for m in (11, 12, 1)] == [0.3, 0.35, 0.38]
    # the store keeps scenarios as JSON, whose keys are strings
    back = Scenario.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back.channels["voice"].shrinkage_by_month == {12: 0.35, 1: 0.38}
    assert Scenario.from_yaml(s.to_yaml()) == s
    pol = channel_policies(s)["voice"].shrinkage
    days = pd.to_datetime(["2024-11-30", "2024-12-01", "2025-01-15"])
    assert pol.at(days).tolist() == [0.3, 0.35, 0.38]


def test_cap_priority_defaults_by_model_and_total_cap_reaches_the_rules():
    s = Scenario.from_yaml("headcount_cap_total: 250\nchannels: {chat: {}, voice: {}, "
                           "email: {}}\n")
    assert {ch: c.priority for ch, c in s.channels.items()} == {
        "chat": 1.0, "voice": 1.0, "email": 0.2}
    rules = shift_rules(s.with_changes({"channels.email.cap_priority": 0.5}))
    assert dict(rules.understaffing_weight) == {"chat": 1.0, "email": 0.5, "voice": 1.0}
    with pytest.raises(ScenarioError, match="headcount_cap_total"):
        Scenario.from_yaml("headcount_cap_total: 0\n")
    with pytest.raises(ScenarioError, match="cap_priority"):
        Scenario.from_yaml("channels: {chat: {cap_priority: -1}}\n")
