"""The war room's app (issue 17), driven headless with ``streamlit.testing.v1.AppTest``:
what differs, FTE and cost by week, the date x hour heatmap, the peak report download,
saved-scenario management (rename, delete, restore, note, who, started from), the
"modified" marker and the open hours / cost per hour editors.

Saved results are small hand-made ones (tests/test_report.py): their figures are known
by hand, so the page's numbers are checked against arithmetic, not against the app.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from planner.store import Store
from tests.test_report import _result

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "app_support/pages/scenarios.py"


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app_test.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))


def _scenarios_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _plain(markdown: str) -> str:
    """Markdown source as it reads on the page (backslash escapes removed)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def _saved_two() -> None:
    with Store(os.environ["PEAK_PLANNER_DB_URL"]) as store:
        store.save(_result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250]),
                   note="agreed", saved_by="Mia", started_from="base")
        store.save(_result("lean", [8, 9], [0.6, 0.95, 0.75], [80, 80, 80], target=0.9))


def test_saved_list_shows_who_when_note_and_started_from():
    _saved_two()
    at = _scenarios_page()
    table = next(d.value for d in at.dataframe if "Started from" in d.value.columns)
    assert list(table.columns) == ["Name", "Version", "Saved at", "Saved by", "Started from",
                                   "Note"]
    assert table[["Name", "Saved by", "Started from", "Note"]].values.tolist() == [
        ["base", "Mia", "base", "agreed"], ["lean", "", "", ""]]


def test_rename_delete_restore_and_note():
    _saved_two()
    at = _scenarios_page()
    at.selectbox(key="wr_name").set_value("lean")
    at.text_input(key="wr_new_name").set_value("lean 2025").run()
    at.button(key="wr_rename").click().run()
    assert not at.exception and not at.error
    url = os.environ["PEAK_PLANNER_DB_URL"]
    assert Store(url).list()["name"].tolist() == ["base", "lean 2025"]
    assert any("Renamed lean to lean 2025" in s.value for s in at.success)

    at.selectbox(key="wr_name").set_value("base").run()
    at.button(key="wr_delete").click().run()
    assert Store(url).list()["name"].tolist() == ["lean 2025"]
    assert "base (saved v1)" not in at.multiselect(key="sc_compare").options
    at.selectbox(key="wr_deleted").set_value("base")
    at.button(key="wr_restore").click().run()
    assert Store(url).list()["name"].tolist() == ["base", "lean 2025"]

    at.selectbox(key="wr_name").set_value("base").run()
    at.text_input(key="wr_note_text").set_value("finance signed off").run()
    at.button(key="wr_note").click().run()
    assert Store(url).list().set_index("name").loc["base", "note"] == "finance signed off"


def test_rename_to_a_taken_name_is_refused_in_words():
    _saved_two()
    at = _scenarios_page()
    at.selectbox(key="wr_name").set_value("lean")
    at.text_input(key="wr_new_name").set_value("base").run()
    at.button(key="wr_rename").click().run()
    assert any("already saved" in e.value for e in at.error)
    assert Store(os.environ["PEAK_PLANNER_DB_URL"]).versions("lean") == [1]


def test_rename_to_an_invalid_name_says_what_to_do():
    _saved_two()
    at = _scenarios_page()
    at.selectbox(key="wr_name").set_value("lean")
    at.text_input(key="wr_new_name").set_value("lean/2025").run()
    at.button(key="wr_rename").click().run()
    assert [_plain(e.value) for e in at.error] == ["New name: must not contain slashes"]
    assert Store(os.environ["PEAK_PLANNER_DB_URL"]).versions("lean") == [1]


def test_compare_saved_shows_what_differs_weeks_heatmap_and_report():
    _saved_two()
    at = _scenarios_page()
    at.multiselect(key="sc_compare").set_value(["base (saved v1)", "lean (saved v1)"]).run()
    assert not at.exception, at.exception
    # what differs comes before the KPI cards
    differs = at.table[0].value.reset_index().map(_plain)
    assert differs.values.tolist() == [
        ["lean (saved v1)", "Chat: service level target", "80%", "90%"]]
    heads = [h.value for h in at.subheader]
    card = next(i for i, h in enumerate(heads) if h.endswith("(baseline)"))
    assert heads.index("What differs from the baseline") < card
    assert "FTE and cost by week" in heads and "Day by hour" in heads
    assert at.segmented_control(key="wr_week_ch").value == "all channels"
    # the table by channel reads in words, with percentages and thousands separators
    import json

    config = next(json.loads(d.proto.columns) for d in at.dataframe
                  if "avg_fte" in d.value.columns)
    assert config["avg_fte"]["label"] == "Average FTE"
    assert config["service_level"]["type_config"]["format"] == "percent"
    assert config["paid_hours"]["type_config"]["format"] == "localized"
    # the report holds both names and the cost 17,600 = 40 h x 20 x (10 + 12) FTE-weeks
    report = next(b for b in at.get("download_button") if b.proto.label.startswith("Peak"))
    assert report is not None
    from planner.report import peak_report
    from planner.store import Store as S

    with S(os.environ["PEAK_PLANNER_DB_URL"]) as store:
        html = peak_report({"base (saved v1)": store.load("base", 1),
                            "lean (saved v1)": store.load("lean", 1)})
    assert "17,600" in html and "base (saved v1)" in html


def test_modified_marker_after_loading_an_example_and_editing():
    at = _scenarios_page()
    at.selectbox(key="sc_start").set_value("example: base").run()
    at.button(key="sc_load").click().run()
    assert not at.exception
    assert any("Same as example base" in c.value for c in at.caption)
    at.slider(key="w.scenarios.order_growth").set_value(10.0).run()
    assert any("modified" in m.value for m in at.markdown)


def test_modified_marker_in_a_fresh_session_compares_with_the_default_scenario():
    at = _scenarios_page()
    assert any("Same as the default scenario" in c.value for c in at.caption)
    at.slider(key="w.scenarios.order_growth").set_value(10.0).run()
    marks = [m.value for m in at.markdown if "modified" in m.value]
    assert marks and "since the default scenario" in marks[0]


@pytest.mark.parametrize(("typed", "said"), [
    ("", "Scenario name: enter a name"),
    ("   ", "Scenario name: enter a name"),
    (" x", "Scenario name: remove the spaces at its start or end"),
    ("**x**/y\\z", "Scenario name: must not contain slashes, backslashes"),
])
def test_scenario_name_errors_say_what_to_do(typed, said):
    at = _scenarios_page()
    at.text_input(key="w.scenarios.name").set_value(typed).run()
    assert not at.exception
    errors = [_plain(e.value) for e in at.error]
    assert errors[0] == said, errors
    assert not any("base" in e or "String should" in e or "\\\\" in e for e in errors)
    assert at.button(key="sc_run").disabled


def test_names_read_literally_in_what_differs():
    odd = "qa high **bold** =2+2"
    with Store(os.environ["PEAK_PLANNER_DB_URL"]) as store:
        store.save(_result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250]))
        store.save(_result(odd, [8, 9], [0.6, 0.95, 0.75], [80, 80, 80], target=0.9))
    at = _scenarios_page()
    at.multiselect(key="sc_compare").set_value(["base (saved v1)", f"{odd} (saved v1)"]).run()
    assert not at.exception, at.exception
    shown = at.table[0].value.index[0]
    assert "**" not in shown.replace("\\*", "")  # every star escaped: no bold
    assert _plain(shown) == f"{odd} (saved v1)"


def test_open_hours_and_cost_per_hour_are_editable():
    at = _scenarios_page()
    at.text_input(key="w.scenarios.channels.chat.open_hours").set_value("09:00-21:00").run()
    at.number_input(key="w.scenarios.channels.voice.cost_per_paid_hour").set_value(24.5).run()
    s = at.session_state["scenario"]
    assert s.channels["chat"].open_hours == "09:00-21:00"
    assert s.channel_cost("voice") == 24.5 and s.channel_cost("chat") == 20.0
    at.text_input(key="w.scenarios.channels.chat.open_hours").set_value("25:00-3").run()
    assert any("is not 'HH:MM-HH:MM'" in e.value.replace("\\", "") for e in at.error)
    assert at.session_state["scenario"].channels["chat"].open_hours == "09:00-21:00"
    assert at.button(key="sc_run").disabled


# ---------------------------------------------------------------- with a real 3-day plan
def test_today_plays_a_saved_plan_and_says_closed_before_opening():
    import datetime as dt

    from tests.test_app import _short_app

    at = _short_app()
    at.switch_page(PAGE).run()
    at.text_input(key="w.scenarios.name").set_value("peak3").run()
    at.button(key="sc_save").click().run()
    assert not at.exception and not at.error
    at.switch_page("app_support/pages/today.py").run()
    assert "Saved: peak3 v1" in at.selectbox(key="today_plan").options
    at.selectbox(key="today_plan").set_value("Saved: peak3 v1").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.date_input(key="today_day").set_value(dt.date(2024, 11, 29)).run()
    # the bundled scenario opens every channel 08:00-22:00: at 07:00 nothing runs
    at.select_slider(key="today_now_20241129").set_value(dt.datetime(2024, 11, 29, 7, 0)).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert [shown[f"{c}: contacts so far"] for c in ("chat", "voice")] == ["closed"] * 2
    # emails arrive around the clock in the sample: email reports the night's mail
    assert float(shown["email: contacts so far"].replace(",", "")) > 0
    # at 08:00 chat and voice open: no interval of theirs has ended, nothing is missing
    at.select_slider(key="today_now_20241129").set_value(dt.datetime(2024, 11, 29, 8, 0)).run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert [shown[f"{c}: contacts so far"] for c in ("chat", "voice")] == ["just opened"] * 2
    # at 12:00 the channels are open and report the contacts of 08:00-12:00
    at.select_slider(key="today_now_20241129").set_value(dt.datetime(2024, 11, 29, 12, 0)).run()
    shown = {m.label: m.value for m in at.metric}
    assert all(shown[f"{c}: contacts so far"] not in ("closed", "not reported")
               for c in ("chat", "voice", "email"))


def test_save_clears_the_note_keeps_who_marks_the_saved_version_and_refuses_a_deleted_name():
    from tests.test_app import _short_app

    url = os.environ["PEAK_PLANNER_DB_URL"]
    at = _short_app()
    at.switch_page(PAGE).run()
    at.text_input(key="w.scenarios.name").set_value("qa_low").run()
    at.text_input(key="sc_note").set_value("low note")
    at.text_input(key="sc_by").set_value("Alice").run()
    assert any("gets note \u201clow note\u201d, saved by Alice" in _plain(c.value)
               for c in at.caption)
    at.button(key="sc_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("Saved" in s.value and "as version 1" in s.value for s in at.success)
    # straight after the save: same as the version just saved, no "modified" marker
    assert not any("modified" in m.value for m in at.markdown)
    assert any("Same as qa\\_low v1" in c.value for c in at.caption)
    # the note belonged to that version; the name stays
    assert at.text_input(key="sc_note").value == ""
    assert at.text_input(key="sc_by").value == "Alice"
    assert any("gets no note, saved by Alice" in _plain(c.value) for c in at.caption)

    at.text_input(key="w.scenarios.name").set_value("qa_high").run()
    assert any("modified" in m.value for m in at.markdown)
    at.button(key="sc_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    with Store(url) as store:
        listed = store.list(all_versions=True).set_index("name")
    assert listed.loc["qa_low", ["version", "note", "saved_by"]].tolist() == [
        1, "low note", "Alice"]
    assert listed.loc["qa_high", ["version", "note", "saved_by"]].tolist() == [
        1, "", "Alice"]

    # a deleted name is not saved under: its versions stay deleted and restorable
    at.selectbox(key="wr_name").set_value("qa_low").run()
    at.button(key="wr_delete").click().run()
    at.text_input(key="w.scenarios.name").set_value("qa_low").run()
    at.button(key="sc_save").click().run()
    assert not at.exception
    assert any("qa_low was deleted; restore it" in _plain(e.value) for e in at.error)
    with Store(url) as store:
        assert store.list(deleted=True)["name"].tolist() == ["qa_low"]
        assert store.versions("qa_low") == [1]
    assert at.selectbox(key="wr_deleted").options == ["qa_low"]


def test_forecast_chart_has_a_legend_and_labelled_events():
    import json

    from tests.test_app import _short_app

    at = _short_app()
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    daily = next(s for s in specs if "Forecast" in json.dumps(s) and "Event" in json.dumps(s))
    text = json.dumps(daily)
    assert '"orient": "top"' in text  # the legend
    assert '"domain": ["Forecast", "80% interval", "Actual", "Event"]' in text
    assert '"text": {"field": "event"' in text  # names written along the event rules


def test_roster_downloads_on_the_shift_plan_page():
    from tests.test_app import _short_app

    at = _short_app()
    at.switch_page("app_support/pages/shifts.py").run()
    at.toggle(key="roster_on").set_value(True).run()
    assert not at.exception and not at.error
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Weekly roster (CSV)" in labels and "Weekly roster (Excel)" in labels


# ---------------------------------------------------------------- Data page
def _raw_channel_ranges() -> dict[str, tuple[str, str]]:
    """First and last day per channel of the bundled contacts, with the csv module."""
    import csv
    import gzip

    out: dict[str, list[str]] = {}
    with gzip.open(ROOT / "data" / "contacts.csv.gz", "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["channel"], []).append(row["ds"][:10])
    return {ch: (min(d), max(d)) for ch, d in out.items()}


def test_data_page_lists_each_files_range_per_channel():
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "First day" in d.value.columns)
    got = {r["File"].removeprefix("contacts: "): (r["First day"], r["Last day"])
           for _, r in table.iterrows() if r["File"].startswith("contacts: ")}
    assert got == _raw_channel_ranges()
    assert {"orders", "events"} <= set(table["File"])


def test_data_page_warns_when_a_channel_ends_early():
    # chat runs to 20 Mar, voice stops on 5 Mar: 15 days apart (> 7), said in words
    orders = "ds,orders\n" + "".join(f"2024-03-{d:02d},100\n" for d in range(4, 21))
    contacts = "ds,channel,contacts\n" + "".join(
        f"2024-03-{d:02d} 08:{m},chat,3\n" for d in range(4, 21) for m in ("00", "30")) + (
        "2024-03-04 08:00,voice,2\n2024-03-05 08:30,voice,2\n")
    at = AppTest.from_file(APP, default_timeout=240)
    at.run()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_orders").set_value(("o.csv", orders.encode(), "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(("c.csv", contacts.encode(), "text/csv"))
    at.run()
    assert not at.exception
    said = [w.value.replace("\\", "") for w in at.warning]
    assert any("Voice contacts end on 2024-03-05, 15 days before the other files "
               "(2024-03-20)" in w for w in said), said
    assert any("No events file" in w for w in said), said


# ---------------------------------------------------------------- colours and formats
def test_fixed_colours_for_channels_and_the_baseline():
    import json

    import pandas as pd

    from app_support import charts

    # Okabe-Ito (planner/palette.py): chat orange, voice blue, email green, baseline grey
    req = pd.DataFrame({"ds": pd.to_datetime(["2024-11-29 08:00"] * 2),
                        "channel": ["voice", "chat"], "agents": [3, 4]})
    scale = json.loads(charts.requirement_curve(req, "agents", "Agents").to_json())[
        "encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        "voice": "#0072B2", "chat": "#E69F00"}
    daily = pd.DataFrame({"date": pd.to_datetime(["2024-11-29"] * 2),
                          "scenario": ["lean", "base"], "service_level": [0.7, 0.8]})
    spec = json.loads(charts.by_day_chart(daily, "service_level", "SL", baseline="base")
                      .to_json())
    color = spec["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(color["domain"], color["range"], strict=True))["base"] == "#4D4D4D"
    # interval axes label hours in 24-hour form
    axis = json.loads(charts.requirement_curve(req, "agents", "Agents").to_json())[
        "encoding"]["x"]["axis"]["labelExpr"]
    assert "'%H:%M'" in axis


def test_export_page_offers_the_comparisons_peak_report():
    _saved_two()
    at = _scenarios_page()
    at.multiselect(key="sc_compare").set_value(["base (saved v1)", "lean (saved v1)"]).run()
    at.switch_page("app_support/pages/export.py").run()
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Peak report of this comparison (printable page)" in labels


def test_compare_shows_the_hiring_plan_of_scenarios_with_capacity_settings():
    # 10 chat FTE on the floor, the plan needs 10 then 30 (weeks of 4 and 11 Nov): 20
    # hires, who must be on the floor on 11 Nov after 2 weeks of recruiting and 1 of
    # training, so the class starts on 21 Oct at the latest; 20 x 1,000 hiring cost.
    from dataclasses import replace

    hire = _result("hire", [10, 30], [0.9, 0.85, 0.7], [100, 150, 250])
    hire = replace(hire, scenario=hire.scenario.with_changes({"capacity": {
        "as_of": "2024-09-02", "headcount": {"chat": 10}, "attrition_weekly": 0.0,
        "recruiting_weeks": 2, "training_weeks": 1, "ramp": [], "class_min": 1,
        "class_max": 50, "classes_per_week": 1, "overtime_cap": 0.0,
        "cost_per_hire": 1000, "mip_gap": 0}}))
    with Store(os.environ["PEAK_PLANNER_DB_URL"]) as store:
        store.save(_result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250]))
        store.save(hire)
    at = _scenarios_page()
    at.multiselect(key="sc_compare").set_value(["base (saved v1)", "hire (saved v1)"]).run()
    assert not at.exception, at.exception
    assert "Hiring and capacity" in [h.value for h in at.subheader]
    table = next(d.value for d in at.dataframe if "Hires" in d.value.columns)
    row = table.set_index("Scenario").loc["hire (saved v1)"]
    assert (row["Hires"], row["Hiring cost"], row["First decision due"]) == (
        20, 20_000, "2024-10-21")
    assert "base (saved v1)" not in table["Scenario"].tolist()  # no capacity settings
    # a rerun that changes nothing compared (a chart's channel) reuses the comparison
    # instead of solving the hiring plan again; a new baseline builds a new one
    first = at.session_state["comparison"]
    at.segmented_control(key="wr_week_ch").set_value("chat").run()
    assert not at.exception and at.session_state["comparison"] is first
    at.selectbox(key="sc_baseline").set_value("hire (saved v1)").run()
    assert not at.exception and at.session_state["comparison"] is not first
    assert at.session_state["comparison"].baseline == "hire (saved v1)"
