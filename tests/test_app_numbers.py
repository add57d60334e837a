"""Number boxes, driven headless with ``streamlit.testing.v1.AppTest``.

Every number box sends what was typed and the page checks it: the browser neither bounds
it (it would keep an out-of-range entry red and send nothing), truncates it (an integer
box's entry is parsed with ``parseInt``: 2.5 arrives as 2, 1e12 as 1) nor rounds it for
display (``%.0f`` showed 0.5 as 1). A refused entry is said in words under its box, the
plan keeps its previous value, and Run (or Simulate) is disabled. Expected messages are
the ranges written in the boxes' labels and help.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.proto.NumberInput_pb2 import NumberInput as NumberInputProto
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 240  # seconds per script run: the first forecast of a process is cold
PEAK_START, PEAK_DAYS = dt.date(2024, 11, 28), 3


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Each test saves scenarios and uploads under its own temporary folder."""
    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app_test.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))


def _page(page: str, short: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if short:  # 3 peak days: the Staffing page plans them quickly
        at.switch_page("app_support/pages/forecast.py").run()
        at.number_input(key="w.forecast.horizon.days").set_value(PEAK_DAYS)
        at.date_input(key="w.forecast.horizon.start").set_value(PEAK_START)
        at.run()
    at.switch_page(f"app_support/pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _run_disabled(at: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in at.error
            if e.value.startswith("Run is disabled")]


def _type(at: AppTest, key: str, value: float) -> AppTest:
    at.number_input(key=key).set_value(value).run()
    assert not at.exception, at.exception
    return at


def test_every_number_box_sends_what_was_typed_and_shows_it():
    # float boxes (the browser sends 2.5 and 1e12 as typed), no bounds of Streamlit's own,
    # and "%g" (sprintf.js prints the number itself: 0.5 stays 0.5)
    for page, short in (("scenarios", False), ("staffing", True), ("forecast", False),
                        ("capacity", False)):
        at = _page(page, short)
        boxes = list(at.number_input)
        assert boxes, page
        for box in boxes:
            p = box.proto
            assert p.data_type == NumberInputProto.FLOAT, (page, box.key)
            assert not p.has_min and not p.has_max, (page, box.key)
            assert p.format == "%g", (page, box.key, p.format)


@pytest.mark.parametrize(("typed", "said"), [
    (2.5, "must be a whole number (got 2.5)"),
    (1e12, "must be between 0 and 120 (got 1e+12)"),
])
def test_break_minutes_refuses_a_wrong_number_in_words(typed, said):
    at = _page("scenarios")
    key = "w.scenarios.shifts.break_min"
    before = at.session_state["scenario"].shifts.break_min
    _type(at, key, typed)
    assert said in _errors(at)
    assert at.number_input(key=key).value == typed  # the box shows what was typed
    assert at.session_state["scenario"].shifts.break_min == before
    assert at.button(key="sc_run").disabled
    assert "Shifts and cost › Break, min" in _run_disabled(at)[0]
    _type(at, key, 45.0)
    assert not at.error and at.session_state["scenario"].shifts.break_min == 45


def test_aht_box_shows_the_aht_the_plan_uses():
    at = _page("scenarios")
    key = "w.scenarios.channels.chat.aht_s"
    _type(at, key, 0.5)
    assert not at.error
    assert at.session_state["scenario"].channels["chat"].aht_s == 0.5
    assert at.number_input(key=key).value == 0.5
    assert at.number_input(key=key).proto.format == "%g"  # shown as 0.5, not 1


def test_solver_effort_below_range_is_refused_and_shown_as_typed():
    at = _page("scenarios")
    key = "w.scenarios.shifts.time_limit_s"
    before = at.session_state["scenario"].shifts.time_limit_s
    _type(at, key, 0.5)
    assert "must be between 1 and 600 (got 0.5)" in _errors(at)
    assert at.number_input(key=key).value == 0.5
    assert at.number_input(key=key).proto.format == "%g"
    assert at.session_state["scenario"].shifts.time_limit_s == before


def test_headcount_cap_takes_zero_or_whole_numbers():
    # label: "0 = none"; the box's range 0 to 100,000; a cap is a number of agents
    at = _page("scenarios")
    key = "w.scenarios.headcount_cap_total"
    _type(at, key, 0.5)
    assert _errors(at)[0] == "must be a whole number (got 0.5)"
    assert at.session_state["scenario"].headcount_cap_total is None
    assert at.button(key="sc_run").disabled
    _type(at, key, 40.0)
    assert not at.error and at.session_state["scenario"].headcount_cap_total == 40
    _type(at, key, 0.0)
    assert not at.error and at.session_state["scenario"].headcount_cap_total is None
    key = "w.scenarios.channels.chat.headcount_cap"
    _type(at, key, 7.5)
    assert _errors(at)[0] == "must be a whole number (got 7.5)"
    assert at.session_state["scenario"].channels["chat"].headcount_cap is None


def test_days_to_plan_refuses_a_fraction():
    at = _page("forecast")
    key = "w.forecast.horizon.days"
    before = at.session_state["scenario"].horizon
    _type(at, key, 2.5)
    assert "must be a whole number (got 2.5)" in _errors(at)
    assert at.session_state["scenario"].horizon == before
    _type(at, key, 2.0)
    assert not at.error and at.session_state["scenario"].horizon.days == 2


def test_backtest_windows_refuses_a_fraction():
    at = _page("forecast")
    _type(at, "bt_n", 2.5)
    assert _errors(at) == ["must be a whole number (got 2.5)"]
    assert at.button(key="bt_run").disabled


def test_capacity_weeks_refuse_a_fraction():
    at = _page("capacity")
    _type(at, "cap_recruiting", 2.5)
    assert "must be a whole number (got 2.5)" in _errors(at)


@pytest.mark.parametrize(("key", "typed", "said"), [
    ("staffing_sim_reps", 1, "must be between 2 and 200 (got 1)"),
    ("staffing_sim_reps", 500, "must be between 2 and 200 (got 500)"),
    ("staffing_sim_reps", 2.5, "must be a whole number (got 2.5)"),
    ("staffing_sim_seed", -1, "must be between 0 and 1,000,000 (got -1)"),
])
def test_simulation_boxes_refuse_in_words_and_disable_simulate(key, typed, said):
    at = _page("staffing", short=True)
    assert not at.button(key="staffing_sim_go").disabled
    _type(at, key, typed)
    assert said in _errors(at)
    assert at.button(key="staffing_sim_go").disabled
    assert at.number_input(key=key).value == typed


def test_today_weight_of_the_plan_is_sent_as_typed():
    # an integer box would reach the page as 1 for 1e12 (parseInt): now a float box,
    # checked against its stated range 0 to 5,000
    at = _page("today", short=True)
    box = at.number_input(key="today_prior")
    assert box.proto.data_type == NumberInputProto.FLOAT and box.proto.format == "%g"
    assert not box.proto.has_min and not box.proto.has_max
    _type(at, "today_prior", 1e12)
    assert _errors(at) == ["must be between 0 and 5,000 (got 1e+12)"]
    _type(at, "today_prior", 62.5)
    assert not at.error
