"""The Streamlit app, driven headless with ``streamlit.testing.v1.AppTest``.

Every page renders on the bundled sample without an exception and shows its key widgets;
a staffing assumption changes the FTE shown; malformed uploads show the loader's message
in the page and the app keeps working; the server listens on this machine only; scenarios
from the browser cannot read server files, and refused inputs are named where they were
typed and where Run is. Expected figures come from the raw sample files
read with the standard library (not through the app or the loaders) or from hand
arithmetic on small uploaded files.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 240  # seconds per script run: the first forecast of a process is cold


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    """Each test saves scenarios and uploads under its own temporary folder."""
    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app_test.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def _raw_sample_range() -> tuple[tuple[str, str], tuple[str, str], set[str]]:
    """First/last day of the sample's orders and of its contacts, and its channels, read
    with the csv module only."""
    with open(ROOT / "data" / "orders.csv", newline="") as fh:
        days = [row["ds"][:10] for row in csv.DictReader(fh)]
    with gzip.open(ROOT / "data" / "contacts.csv.gz", "rt", newline="") as fh:
        rows = list(csv.DictReader(fh))
    stamps = [r["ds"][:10] for r in rows]
    return (min(days), max(days)), (min(stamps), max(stamps)), {r["channel"] for r in rows}


def _ranges(at: AppTest) -> dict[str, tuple[str, str]]:
    return {what: (_metric(at, f"{what} from"), _metric(at, f"{what} to"))
            for what in ("Orders", "Contacts")}


# ---------------------------------------------------------------------------- Data page
def test_data_page_previews_the_sample():
    at = _app()
    orders, contacts, channels = _raw_sample_range()
    assert _metric(at, "Interval length") == "30 min"  # sample is generated at 30-min steps
    assert _ranges(at) == {"Orders": orders, "Contacts": contacts}
    assert _metric(at, "Channels") == ", ".join(sorted(channels))
    assert at.radio(key="data_source").value == "Bundled sample"
    assert not at.error
    at.radio(key="data_source").set_value("Upload my files").run()
    uploaders = {u.key: u for u in at.file_uploader}
    assert sorted(uploaders) == ["upload_contacts", "upload_events", "upload_orders"]
    for u in uploaders.values():  # CSV (also gzipped), Excel and Parquet, as the loaders
        assert {".csv", ".gz", ".xlsx", ".parquet"} <= set(u.allowed_type), u.allowed_type


BAD_UPLOADS = [
    # (kind, file name, content, words the message must contain)
    ("orders", "orders.csv", b"date,amount\n2024-01-01,5\n", ["orders.csv", "orders"]),
    (
        "contacts",
        "contacts.csv",
        b"ds,channel,contacts\n2024-01-01 08:00,chat,abc\n2024-01-01 08:15,chat,3\n",
        ["contacts.csv", "contacts", "abc"],
    ),
    ("contacts", "empty.csv", b"", ["empty.csv", "empty"]),
    ("events", "events.csv", b"", ["events.csv", "empty"]),
]


@pytest.mark.parametrize(("kind", "name", "content", "words"), BAD_UPLOADS)
def test_malformed_upload_shows_message_and_app_keeps_working(kind, name, content, words):
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key=f"upload_{kind}").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    messages = [_shown(e.value) for e in at.error]  # names are Markdown-escaped
    assert len(messages) == 1, messages
    for word in words:
        assert word in messages[0], (word, messages[0])
    # the preview still shows the data in use (the sample), and the app goes on
    assert _metric(at, "Interval length") == "30 min"
    at.radio(key="data_source").set_value("Bundled sample").run()
    assert not at.exception and not at.error


def test_valid_upload_replaces_the_sample():
    # 15-minute contacts on two days, two channels: by hand, interval 15 min,
    # range 2024-03-04..2024-03-05, channels chat and voice.
    orders = b"ds,orders\n2024-03-04,100\n2024-03-05,120\n"
    contacts = (
        b"ds,channel,contacts\n"
        b"2024-03-04 08:00,chat,3\n2024-03-04 08:15,chat,4\n2024-03-04 08:00,voice,2\n"
        b"2024-03-05 08:00,chat,5\n2024-03-05 08:15,chat,1\n2024-03-05 08:15,voice,7\n"
    )
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_orders").set_value(("my_orders.csv", orders, "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(("my_contacts.csv", contacts, "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _metric(at, "Interval length") == "15 min"
    assert _ranges(at) == {"Orders": ("2024-03-04", "2024-03-05"),
                           "Contacts": ("2024-03-04", "2024-03-05")}
    assert _metric(at, "Channels") == "chat, voice"
    assert any("my_contacts.csv" in s.value for s in at.success)
    # the scenario now plans these two channels from the day after the history ends,
    # keeping the default horizon's 92 days (1 Oct - 31 Dec): 6 Mar .. 5 Jun 2024
    scenario = at.session_state["scenario"]
    assert list(scenario.channels) == ["chat", "voice"]
    assert (scenario.horizon.start, scenario.horizon.end) == (
        dt.date(2024, 3, 6), dt.date(2024, 6, 5)
    )
    assert scenario.data.events == ""  # no events file: no events, not the sample's
    # two days of history cannot be forecast: the page says why, without a traceback
    at.switch_page("app_support/pages/forecast.py").run()
    assert not at.exception
    assert len(at.error) == 1 and "forecast" in at.error[0].value.lower()


# ---------------------------------------------------------------------------- the other pages
PEAK_START = dt.date(2024, 11, 28)  # Thursday before Black Friday 2024 (29 Nov)
PEAK_DAYS = 3


def _short_app() -> AppTest:
    """The app with the plan horizon cut to 3 peak days through the Forecast page widgets."""
    at = _app()
    at.switch_page("app_support/pages/forecast.py").run()
    at.number_input(key="w.forecast.horizon.days").set_value(PEAK_DAYS)
    at.date_input(key="w.forecast.horizon.start").set_value(PEAK_START)
    at.run()
    assert not at.exception, at.exception
    horizon = at.session_state["scenario"].horizon
    assert (horizon.start, horizon.end) == (PEAK_START, dt.date(2024, 11, 30))
    return at


def test_sidebar_shows_the_horizon_just_edited():
    # _short_app edits the horizon on the Forecast page; the sidebar, drawn after the
    # page, shows the new dates in that same run (not the previous ones)
    at = _short_app()
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert "Plan 28 Nov 2024 to 30 Nov 2024 (3 days)" in caption
    # a page that stops early (waiting for an upload) keeps the summary
    at.switch_page("app_support/pages/today.py").run()
    at.radio(key="today_source").set_value("Upload today's contacts").run()
    assert "Plan 28 Nov 2024" in " ".join(c.value for c in at.sidebar.caption)


def _charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def _fte(at: AppTest, channel: str) -> float:
    return float(_metric(at, f"{channel}: FTE before shifts (average)").replace(",", ""))


def test_forecast_page_renders_series_and_views():
    at = _short_app()
    assert not at.error
    series = at.selectbox(key="forecast_series")
    assert series.options == ["orders", "chat", "voice", "email"]
    assert _charts(at) == 1  # daily view; the intraday view asks for a channel
    series.set_value("chat").run()
    assert not at.exception and not at.error
    assert _charts(at) == 2  # daily and intraday
    assert at.button(key="bt_run").label == "Run backtest"
    assert not [w for w in at.warning if "days of history" in w.value]  # the sample: 3 years


def test_backtest_table_lists_every_series_and_model():
    at = _short_app()
    at.multiselect(key="bt_models").set_value(["seasonal_naive", "same_weekday_average"])
    at.number_input(key="bt_n").set_value(2)
    at.selectbox(key="bt_h").set_value("7D")
    at.button(key="bt_run").click().run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    # 4 series (orders + 3 channels) x 2 models, each scored on 2 windows of 7 days
    assert len(table) == 8
    assert set(table["model"]) == {"seasonal_naive", "same_weekday_average"}
    assert (table["n_points"] == 14).all()


def test_backtest_windows_out_of_range_is_refused_in_words():
    # the box has no browser-side bounds (they would keep 20 red in the box and send
    # nothing): the page says why and the backtest cannot run on the refused number
    at = _short_app()
    at.number_input(key="bt_n").set_value(20).run()
    assert [e.value for e in at.error] == ["must be between 1 and 8 (got 20)"]
    assert at.button(key="bt_run").disabled
    at.number_input(key="bt_n").set_value(2).run()
    assert not at.error and not at.button(key="bt_run").disabled


def test_staffing_page_shows_fte_heatmap_curve_and_weeks():
    at = _short_app()
    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception and not at.error
    for channel in ("chat", "voice", "email"):
        assert _fte(at, channel) > 0
        assert at.slider(key=f"w.staffing.channels.{channel}.shrinkage").value == 30.0
    assert at.selectbox(key="staffing_channel").options == ["chat", "voice", "email"]
    assert _charts(at) == 3  # heatmap, curve over the peak, FTE by week
    # the 3 days lie in one week, so the all-channel FTE is the sum of the channels'
    # (each shown rounded to 0.1)
    total = float(_metric(at, "All channels: FTE before shifts (average)").replace(",", ""))
    assert total == pytest.approx(sum(_fte(at, c) for c in ("chat", "voice", "email")), abs=0.15)


def test_shrinkage_changes_the_shown_fte():
    # Rostered agents are ceil(productive / (1 - shrinkage)) per interval, so moving chat
    # shrinkage from 30 % to 45 % multiplies its FTE by (1 - 0.30) / (1 - 0.45) = 1.2727,
    # up to the rounding up of each interval (a few percent at 20-60 agents per interval).
    at = _short_app()
    at.switch_page("app_support/pages/staffing.py").run()
    before = {c: _fte(at, c) for c in ("chat", "voice", "email")}
    at.slider(key="w.staffing.channels.chat.shrinkage").set_value(45.0).run()
    assert not at.exception and not at.error
    after = {c: _fte(at, c) for c in ("chat", "voice", "email")}
    assert after["chat"] / before["chat"] == pytest.approx(0.70 / 0.55, rel=0.04)
    assert after["voice"] == before["voice"] and after["email"] == before["email"]
    assert at.session_state["scenario"].channels["chat"].shrinkage == pytest.approx(0.45)


def test_shrinkage_by_month_changes_only_that_month():
    # The 3 planned days are in November: a December figure changes nothing shown, a
    # November one of 45 % moves chat as the channel-wide 45 % does (same ratio, 0.70/0.55).
    at = _short_app()
    at.switch_page("app_support/pages/staffing.py").run()
    before = _fte(at, "chat")
    key = "w.staffing.channels.chat.shrinkage_by_month.11"
    assert at.number_input(key=key).value == 0.0
    at.number_input(key=key).set_value(45.0).run()
    assert not at.exception and not at.error
    assert _fte(at, "chat") / before == pytest.approx(0.70 / 0.55, rel=0.04)
    chat = at.session_state["scenario"].channels["chat"]
    assert chat.shrinkage_by_month == {11: pytest.approx(0.45)} and chat.shrinkage == 0.3
    at.number_input(key=key).set_value(0.0).run()
    assert at.session_state["scenario"].channels["chat"].shrinkage_by_month is None
    assert _fte(at, "chat") == before


def test_service_target_changes_the_shown_fte():
    # A stricter target (95 % instead of 80 % within 20 s) needs more voice agents:
    # Erlang service level rises strictly with agents, so the minimum staffing cannot fall.
    at = _short_app()
    at.switch_page("app_support/pages/staffing.py").run()
    before = _fte(at, "voice")
    at.slider(key="w.staffing.channels.voice.target_sl").set_value(95.0).run()
    assert not at.exception and not at.error
    assert _fte(at, "voice") > before


def test_shift_plan_page_solves_and_shows_coverage():
    at = _short_app()
    at.switch_page("app_support/pages/shifts.py").run()
    assert not at.exception and not at.error
    quality = _metric(at, "Plan quality")  # in words, no solver jargon
    assert quality == "optimal" or quality.endswith("% of the best possible")
    plan_hours = float(_metric(at, "Paid hours (plan)").replace(",", ""))
    bound = float(_metric(at, "Lower bound, paid hours").replace(",", ""))
    assert bound <= plan_hours <= 1.03 * bound  # the 3 % optimality target
    assert _metric(at, "Understaffed intervals") == "0"  # no headcount cap: all covered
    assert PEAK_START <= at.date_input(key="shift_day").value <= dt.date(2024, 11, 30)
    assert _charts(at) == 4  # shifts of the day + coverage for three channels


def test_scenarios_run_save_and_compare(tmp_path):
    at = _short_app()
    at.switch_page("app_support/pages/scenarios.py").run()
    assert not at.exception and not at.error
    at.text_input(key="w.scenarios.name").set_value("low_cr").run()
    at.number_input(key="w.scenarios.contact_rate.11").set_value(4.2)
    at.button(key="sc_save").click().run()
    assert not at.exception and not at.error
    assert any("version 1" in s.value for s in at.success)

    at.text_input(key="w.scenarios.name").set_value("high_cr").run()
    at.number_input(key="w.scenarios.contact_rate.11").set_value(6.9)
    at.button(key="sc_run").click().run()
    assert not at.exception and not at.error
    assert at.multiselect(key="sc_compare").value == ["low_cr", "high_cr"]
    assert at.selectbox(key="sc_baseline").value == "low_cr"

    # 6.9 / 4.2 = 1.64 times the November contacts must need more agents, not fewer
    cards = [m for m in at.metric if m.label == "Average FTE"]
    assert len(cards) == 2
    low, high = (float(m.value.replace(",", "")) for m in cards)
    assert high > low > 0
    assert cards[1].delta.startswith("+")
    assert _charts(at) == 5  # FTE and cost by week, day x hour, SL by day, email backlog
    assert not [w for w in at.warning if "different days" in w.value]  # same 3 days

    # the saved version is in the store, read independently of the app
    from planner.store import Store

    saved = Store(os.environ["PEAK_PLANNER_DB_URL"]).list()
    assert saved[["name", "version"]].values.tolist() == [["low_cr", 1]]
    assert saved["has_results"].tolist() == [True]


def test_export_page_offers_plan_and_comparison_downloads():
    at = _short_app()
    at.switch_page("app_support/pages/export.py").run()
    assert not at.exception and not at.error
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Shift plan (CSV)", "Plan workbook (Excel)"]
    assert any("Compare scenarios" in i.value for i in at.info)


def test_app_keeps_working_after_a_bad_upload():
    at = _short_app()
    at.switch_page("app_support/pages/data.py").run()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_contacts").set_value(("c.csv", b"ds;x\n1;2\n", "text/csv"))
    at.run()
    assert not at.exception and len(at.error) == 1
    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception and not at.error
    assert _fte(at, "chat") > 0


def test_loading_an_example_scenario_fills_the_editor():
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    options = at.selectbox(key="sc_start").options
    # every YAML file shipped in scenarios/ is offered
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert [o.removeprefix("example: ") for o in options if o.startswith("example: ")] == shipped
    at.selectbox(key="sc_start").set_value("example: high_cr_fixed_headcount").run()
    at.button(key="sc_load").click().run()
    assert not at.exception and not at.error
    # the values written in the YAML file, read here with PyYAML alone
    raw = yaml.safe_load((ROOT / "scenarios" / "high_cr_fixed_headcount.yaml").read_text())
    assert at.text_input(key="w.scenarios.name").value == raw["name"]
    assert at.number_input(key="w.scenarios.contact_rate.11").value == pytest.approx(
        100 * raw["contact_rate"][11]
    )
    chat_cap = at.number_input(key="w.scenarios.channels.chat.headcount_cap").value
    assert chat_cap == raw["channels"]["chat"]["headcount_cap"]
    voice = at.session_state["scenario"].channels["voice"]
    assert voice.headcount_cap == raw["channels"]["voice"]["headcount_cap"]


def test_uploaded_history_is_planned_end_to_end():
    # A planner's own export: the sample's chat and voice history from June to September
    # 2024 (cut with the csv module), no email and no events file.
    with gzip.open(ROOT / "data" / "contacts.csv.gz", "rt", newline="") as fh:
        rows = [
            r for r in csv.DictReader(fh)
            if "2024-06-01" <= r["ds"][:10] <= "2024-09-30" and r["channel"] != "email"
        ]
    contacts = io.StringIO()
    writer = csv.DictWriter(contacts, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    with open(ROOT / "data" / "orders.csv", newline="") as fh:
        orders = [r for r in csv.DictReader(fh) if r["ds"][:10] <= "2024-09-30"]
    order_csv = "ds,orders\n" + "".join(f"{r['ds']},{r['orders']}\n" for r in orders)

    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_orders").set_value(("orders.csv", order_csv.encode(), "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(
        ("contacts.csv", contacts.getvalue().encode(), "text/csv")
    )
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _ranges(at) == {"Orders": ("2022-01-01", "2024-09-30"),
                           "Contacts": ("2024-06-01", "2024-09-30")}
    assert _metric(at, "Channels") == "chat, voice"
    # history ends the day before the default plan starts (1 Oct 2024): horizon kept
    horizon = at.session_state["scenario"].horizon
    assert (horizon.start, horizon.end) == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))

    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _fte(at, "chat") > 0 and _fte(at, "voice") > 0
    assert not [m for m in at.metric if m.label.startswith("email")]

    # four months of contacts: the Forecast page says the yearly season is unknown
    at.switch_page("app_support/pages/forecast.py").run()
    assert not at.exception
    assert [w.value for w in at.warning if "Only 122 days of history" in w.value]

    # back on Data, the upload boxes are empty but the page says which files are in use
    at.switch_page("app_support/pages/data.py").run()
    assert [m.value for m in at.success if "In use: your files" in m.value]
    # a new contacts file alone (the other boxes empty after the visit) replaces the
    # contacts and keeps the orders in use: email is back, the orders still end in Sep
    with gzip.open(ROOT / "data" / "contacts.csv.gz", "rt", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if "2024-06-01" <= r["ds"][:10] <= "2024-09-30"]
    more = io.StringIO()
    writer = csv.DictWriter(more, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    at.file_uploader(key="upload_contacts").set_value(
        ("contacts_all.csv", more.getvalue().encode(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _metric(at, "Channels") == "chat, email, voice"
    assert _ranges(at)["Orders"] == ("2022-01-01", "2024-09-30")
    assert [m.value for m in at.success if "kept from before: orders.csv" in m.value]

    # back to the sample: its three channels return (the upload had dropped email)
    at.radio(key="data_source").set_value("Bundled sample").run()
    assert not at.exception and not at.error
    assert list(at.session_state["scenario"].channels) == ["chat", "voice", "email"]
    assert at.session_state["scenario"].data.contacts is None


def test_invalid_name_blocks_run_and_save():
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    at.text_input(key="w.scenarios.name").set_value("Peak / BF 2024").run()
    assert not at.exception and at.error
    assert at.button(key="sc_save").disabled and at.button(key="sc_run").disabled
    at.text_input(key="w.scenarios.name").set_value("peak_bf_2024").run()
    assert not at.button(key="sc_save").disabled


def test_scenario_yaml_upload_opens_it_or_names_the_bad_field():
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    bad = b"name: broken\nchannels:\n  voice:\n    target_sl: 1.5\n"
    at.file_uploader(key="sc_yaml").set_value(("broken.yaml", bad, "application/x-yaml")).run()
    assert not at.exception
    assert len(at.error) == 1
    shown = _shown(at.error[0].value)  # the message is Markdown-escaped (typed text)
    assert "channels.voice.target_sl" in shown and "broken.yaml" in shown
    assert at.session_state["scenario"].name == "base"  # the current scenario is kept

    good = b"name: war_room_a\norder_growth: 0.15\nhorizon: {start: 2024-11-25, end: 2024-12-01}\n"
    at.file_uploader(key="sc_yaml").set_value(("a.yaml", good, "application/x-yaml")).run()
    assert not at.exception and not at.error
    assert at.text_input(key="w.scenarios.name").value == "war_room_a"
    assert at.slider(key="w.scenarios.order_growth").value == 15.0  # 0.15 shown in percent
    assert at.number_input(key="w.scenarios.horizon.days").value == 7  # 25 Nov..1 Dec


def test_weekly_roster_on_the_shift_plan_page():
    at = _short_app()
    at.switch_page("app_support/pages/shifts.py").run()
    at.toggle(key="roster_on").set_value(True).run()
    assert not at.exception and not at.error
    headcount = at.dataframe[0].value
    assert sorted(headcount["channel"]) == ["chat", "email", "voice"]
    # Baker's bound by hand from the plan table on the page: every agent starting a shift
    # on the busiest day needs a line of their own, so headcount >= that day's starts
    plan = at.dataframe[-1].value
    busiest = plan.groupby(["channel", "date"])["agents"].sum().groupby("channel").max()
    got = headcount.set_index("channel")["headcount"]
    assert (got >= busiest.reindex(got.index)).all(), (got, busiest)
    # 28-30 Nov 2024 all lie in the week starting Monday 25 Nov
    lines = at.dataframe[1].value
    assert set(pd.to_datetime(lines["week_start"])) == {pd.Timestamp("2024-11-25")}
    # and that week is partial (Thu-Sat only), which the page says
    assert any("Partial weeks" in c.value and "25 Nov 2024" in c.value for c in at.caption)


def test_today_page_replays_the_day_against_the_plan():
    at = _short_app()
    at.switch_page("app_support/pages/today.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    seen = {c: float(_metric(at, f"{c}: contacts so far").replace(",", ""))
            for c in ("chat", "voice", "email")}
    assert all(v > 0 for v in seen.values())
    assert _charts(at) == 6  # per channel: contacts and agents
    # later in the day more contacts have been seen
    at.select_slider(key="today_now_20241128").set_value(dt.datetime(2024, 11, 28, 21, 0)).run()
    assert not at.exception
    later = float(_metric(at, "chat: contacts so far").replace(",", ""))
    assert later > seen["chat"]
    # another day: its own "now" (not the previous day's 21:00 carried over)
    at.date_input(key="today_day").set_value(dt.date(2024, 11, 29)).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.select_slider(key="today_now_20241129").value.date() == dt.date(2024, 11, 29)


def test_today_page_takes_an_upload_and_names_a_bad_one():
    at = _short_app()
    at.switch_page("app_support/pages/today.py").run()
    at.radio(key="today_source").set_value("Upload today's contacts").run()
    assert not at.exception and at.info  # asks for the file
    bad = b"ds,channel,calls\n2024-11-29 08:00,chat,10\n"
    # one interval seen so far: the plan's interval length is used to read it
    at.file_uploader(key="today_upload").set_value(("today.csv", bad, "text/csv")).run()
    assert not at.exception and at.error
    two_days = b"ds,channel,contacts\n2024-11-28 08:00,chat,10\n2024-11-29 08:00,chat,10\n"
    at.file_uploader(key="today_upload").set_value(("two.csv", two_days, "text/csv")).run()
    assert not at.exception and "covers 2 days" in at.error[0].value
    outside = b"ds,channel,contacts\n2024-12-10 08:00,chat,10\n"
    at.file_uploader(key="today_upload").set_value(("dec.csv", outside, "text/csv")).run()
    assert not at.exception and "outside the plan" in at.error[0].value
    one = b"ds,channel,contacts\n2024-11-29 08:00,chat,70\n"
    at.file_uploader(key="today_upload").set_value(("one.csv", one, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _metric(at, "chat: contacts so far") == "70"
    # the day comes from the file (29 Nov, the plan's second day), not the date picker
    good = ("ds,channel,contacts\n" + "".join(
        f"2024-11-29 {h:02d}:{m:02d},chat,{60}\n" for h in range(8, 12) for m in (0, 30)))
    at.file_uploader(key="today_upload").set_value(
        ("today.csv", good.encode(), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert _metric(at, "chat: contacts so far") == "480"
    # voice and email are open from 08:00 and have no row in the file: by 12:00 four hours
    # of their plan have passed, so they are not reported (not "just opened")
    assert _metric(at, "voice: contacts so far") == "not reported"
    assert _metric(at, "email: contacts so far") == "not reported"


def test_opening_the_staffing_editor_keeps_a_fine_monthly_table():
    at = _short_app()
    fine = at.session_state["scenario"].with_changes(
        {"channels.chat.shrinkage_by_month": {11: 0.33333, 12: 0.0}})
    at.session_state["scenario"] = fine
    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception and not at.error
    assert at.session_state["scenario"].channels["chat"].shrinkage_by_month == {
        11: 0.33333, 12: 0.0}


def test_total_headcount_cap_on_the_staffing_page():
    # Without the shift solver the cap holds per interval over all channels: at 60 agents
    # the all-channel FTE falls, and the editor shows each channel's default priority.
    at = _short_app()
    at.switch_page("app_support/pages/staffing.py").run()
    before = float(_metric(at, "All channels: FTE before shifts (average)").replace(",", ""))
    assert at.number_input(key="w.staffing.channels.email.cap_priority").value == 0.2
    assert at.number_input(key="w.staffing.channels.chat.cap_priority").value == 1.0
    at.number_input(key="w.staffing.headcount_cap_total").set_value(60.0).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["scenario"].headcount_cap_total == 60
    after = float(_metric(at, "All channels: FTE before shifts (average)").replace(",", ""))
    assert after < before
    assert [w.value for w in at.warning if "leaves" in w.value and "unserved" in w.value]
    assert at.session_state["scenario"].channels["email"].cap_priority is None


def test_compare_warns_when_plans_cover_different_days():
    at = _short_app()
    at.switch_page("app_support/pages/scenarios.py").run()
    at.text_input(key="w.scenarios.name").set_value("three_days").run()
    at.button(key="sc_run").click().run()
    at.text_input(key="w.scenarios.name").set_value("two_days").run()
    at.number_input(key="w.scenarios.horizon.days").set_value(2).run()
    at.button(key="sc_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.multiselect(key="sc_compare").value == ["three_days", "two_days"]
    assert [w.value for w in at.warning if "different days" in w.value]


def test_every_saved_version_can_be_compared():
    at = _short_app()
    at.switch_page("app_support/pages/scenarios.py").run()
    at.text_input(key="w.scenarios.name").set_value("cr_test").run()
    at.number_input(key="w.scenarios.contact_rate.11").set_value(6.9)
    at.button(key="sc_save").click().run()
    at.number_input(key="w.scenarios.contact_rate.11").set_value(7.5)
    at.button(key="sc_save").click().run()
    assert not at.exception and not at.error
    options = at.multiselect(key="sc_compare").options
    assert {"cr_test (saved v1)", "cr_test (saved v2)"} <= set(options)
    at.multiselect(key="sc_compare").set_value(["cr_test (saved v1)", "cr_test (saved v2)"]).run()
    assert not at.exception and not at.error
    cards = [m for m in at.metric if m.label == "Average FTE"]
    low, high = (float(m.value.replace(",", "")) for m in cards)
    assert high > low  # 7.5 % of orders needs more agents than 6.9 %


# ---------------------------------------------------------------------------- serving
def test_config_is_safe_by_default():
    # read with the standard library's TOML parser, not through Streamlit
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"  # this machine only, no login
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["client"]["toolbarMode"] == "viewer"  # no developer menu, no Deploy
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks in the browser
    assert config["browser"]["gatherUsageStats"] is False


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port``, from the kernel's tables
    (``/proc/net/tcp`` and ``tcp6``: state 0A is LISTEN, addresses in hex)."""
    import ipaddress

    found = set()
    for table, width in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] != "0A" or int(hex_port, 16) != port:
                continue
            raw = bytes.fromhex(address)
            # the kernel prints each 32-bit word in host (little-endian) byte order
            words = [raw[i:i + 4][::-1] for i in range(0, width, 4)]
            found.add(str(ipaddress.ip_address(b"".join(words))))
    return found


def _serve(command: list[str], port: int, env: dict[str, str]) -> set[str]:
    """Start ``command`` (a Streamlit server on ``port``), wait until it answers its
    health check, and return the addresses it listens on; the server is stopped after."""
    import signal
    import subprocess
    import time
    import urllib.request

    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no server on port {port}: {proc.stdout.read()[-3000:]!r}"
                                     if proc.poll() is not None else "server did not start")
            time.sleep(0.3)
        return _listening_addresses(port)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except Exception:  # noqa: BLE001 - a server that ignores SIGTERM is killed
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net")
@pytest.mark.parametrize("how", ["make run", "streamlit run with config.toml"])
def test_the_app_listens_on_this_machine_only(how, tmp_path):
    import shutil
    import sys

    port = _free_port()
    env = {**os.environ, "PEAK_PLANNER_DB_URL": f"sqlite:///{tmp_path / 'serve.db'}"}
    if how == "make run":
        if shutil.which("make") is None:
            pytest.skip("make is not installed")
        # the Makefile's own run recipe; -o: never rebuild the virtualenv from a test
        command = ["make", "--no-print-directory", "-o", ".venv/.runtime-stamp", "run",
                   f"PORT={port}", f"PY={sys.executable}"]
    else:  # no address on the command line: .streamlit/config.toml decides
        command = [sys.executable, "-m", "streamlit", "run", "app.py",
                   "--server.port", str(port), "--server.headless", "true"]
    assert _serve(command, port, env) == {"127.0.0.1"}


# ---------------------------------------------------------------------------- refused inputs
def _shown(text: str) -> str:
    """Markdown source as the browser shows it (backslash escapes removed)."""
    import re

    return re.sub(r"\\(.)", r"\1", text)


OUT_OF_RANGE = [
    # (page, widget key, typed value, what must be said, the scenario field kept)
    ("staffing", "channels.chat.aht_s", -5.0, "Staffing › chat › AHT", ("chat", "aht_s")),
    ("staffing", "channels.chat.headcount_cap", -3.0, "Staffing › chat › headcount cap",
     ("chat", "headcount_cap")),
    ("staffing", "channels.chat.headcount_cap", 999999.0, "Staffing › chat › headcount cap",
     ("chat", "headcount_cap")),
    ("staffing", "channels.voice.patience_s", 0.0, "Service targets › voice › mean patience",
     ("voice", "patience_s")),
]


@pytest.mark.parametrize(("page", "key", "value", "where", "field"), OUT_OF_RANGE)
def test_out_of_range_input_is_refused_where_it_was_typed(page, key, value, where, field):
    at = _app()
    at.switch_page(f"app_support/pages/{page}.py").run()
    before = getattr(at.session_state["scenario"].channels[field[0]], field[1])
    at.number_input(key=f"w.{page}.{key}").set_value(value).run()
    assert not at.exception, at.exception
    # next to the box: its range and the typed value (the boxes' ranges: AHT 0..7200 s,
    # cap 0..10000, patience 10..3600 s)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "must be between" in errors[0], errors
    assert f"(got {value:,.10g})" in errors[0]
    # the page says the figures keep the previous value, and names the input
    warned = [_shown(w.value) for w in at.warning if "previous value" in w.value]
    assert warned and where in warned[0], [w.value for w in at.warning]
    assert getattr(at.session_state["scenario"].channels[field[0]], field[1]) == before
    # the box keeps what was typed (so the user sees what to fix)
    assert at.number_input(key=f"w.{page}.{key}").value == value


def test_refused_input_in_another_tab_says_why_run_is_disabled():
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    concurrency = at.session_state["scenario"].channels["chat"].concurrency
    at.number_input(key="w.scenarios.channels.chat.aht_s").set_value(-5.0).run()
    assert not at.exception
    assert at.button(key="sc_run").disabled and at.button(key="sc_save").disabled
    said = [_shown(e.value) for e in at.error if e.value.startswith("Run is disabled")]
    assert len(said) == 1 and "Staffing › chat › AHT, s (0 = learned)" in said[0], said
    assert "got -5" in said[0]
    # a valid value (0 = learned) clears it; Run is back
    at.number_input(key="w.scenarios.channels.chat.aht_s").set_value(0.0).run()
    assert not at.error and not at.button(key="sc_run").disabled
    # a value the scenario itself refuses (a chat agent serves whole chats) is named too,
    # and the other edits of the same run still apply
    at.number_input(key="w.scenarios.channels.chat.concurrency").set_value(2.5)
    at.number_input(key="w.scenarios.cost_per_paid_hour").set_value(31.0).run()
    said = [_shown(e.value) for e in at.error if e.value.startswith("Run is disabled")]
    assert said and "Service targets › chat › chats per agent" in said[0], said
    assert at.session_state["scenario"].channels["chat"].concurrency == concurrency
    assert at.session_state["scenario"].cost_per_paid_hour == 31.0


def test_days_to_plan_out_of_range_keeps_the_horizon():
    at = _app()
    at.switch_page("app_support/pages/forecast.py").run()
    before = at.session_state["scenario"].horizon
    at.number_input(key="w.forecast.horizon.days").set_value(5000).run()
    assert not at.exception
    assert any("between 1 and 366" in e.value for e in at.error)
    assert at.session_state["scenario"].horizon == before
    assert [w for w in at.warning if "Horizon and forecast › Days to plan" in _shown(w.value)]


# ---------------------------------------------------------------------------- hostile scenarios
SERVER_FILES = ["/etc/os-release", "/dev/zero", "../data/orders.csv"]


@pytest.mark.parametrize("path", SERVER_FILES)
def test_uploaded_scenario_cannot_read_server_files(path):
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    text = f"name: x\ndata: {{orders: {path}}}\n".encode()
    at.file_uploader(key="sc_yaml").set_value(("peek.yaml", text, "application/x-yaml")).run()
    assert not at.exception
    errors = [_shown(e.value) for e in at.error]
    assert len(errors) == 1 and "data.orders" in errors[0], errors
    assert "not a file uploaded in this session" in errors[0]
    scenario = at.session_state["scenario"]
    assert scenario.name == "base" and scenario.data.orders is None  # nothing changed
    # the Forecast page plans from the sample; nothing of the named file shows anywhere
    at.switch_page("app_support/pages/forecast.py").run()
    assert not at.exception and not at.error
    shown = " ".join(str(getattr(e, "value", "")) for e in at.main) + str(at.session_state)
    assert "PRETTY_NAME" not in shown


def test_uploaded_scenario_may_name_this_sessions_uploads():
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    orders = b"ds,orders\n2024-03-04,100\n2024-03-05,120\n"
    at.file_uploader(key="upload_orders").set_value(("my_orders.csv", orders, "text/csv")).run()
    assert not at.exception
    kept = at.session_state["uploads"]["my_orders.csv"]
    assert Path(kept).read_bytes() == orders  # the copy the app kept
    at.switch_page("app_support/pages/scenarios.py").run()
    text = b"name: mine\ndata: {orders: my_orders.csv}\n"
    at.file_uploader(key="sc_yaml").set_value(("mine.yaml", text, "application/x-yaml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["scenario"].data.orders == kept
    assert at.session_state["scenario"].data.contacts is None  # the sample's contacts


def test_yaml_bomb_and_oversized_scenario_are_refused_quickly():
    import time

    # ten levels of anchors, each a list of ten of the previous: 10**10 strings once
    # expanded, in under 500 bytes
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = ("\n".join(lines) + "\nname: bomb\n").encode()
    assert len(bomb) < 800
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    started = time.monotonic()
    at.file_uploader(key="sc_yaml").set_value(("bomb.yaml", bomb, "application/x-yaml")).run()
    assert time.monotonic() - started < 30  # a frozen app would hit the test's timeout
    assert not at.exception
    errors = [_shown(e.value) for e in at.error]
    assert len(errors) == 1 and "bomb.yaml" in errors[0] and "aliases" in errors[0], errors
    # over 1 MB: refused before it is decoded (valid YAML otherwise: a long description)
    big = b"name: big\ndescription: " + b"x" * 1_000_001 + b"\n"
    at.file_uploader(key="sc_yaml").set_value(("big.yaml", big, "application/x-yaml")).run()
    assert not at.exception
    errors = [_shown(e.value) for e in at.error]
    assert len(errors) == 1 and "too large" in errors[0] and "1,000,000" in errors[0], errors
    assert at.session_state["scenario"].name == "base"
    # the app still answers
    at.text_input(key="w.scenarios.name").set_value("still_here").run()
    assert at.session_state["scenario"].name == "still_here"


def test_saved_scenario_naming_a_server_file_is_not_opened():
    # A scenario saved from the CLI may name any file of its user; opened in the app it
    # may only use the sample or files uploaded to the app.
    from planner.scenario import Scenario
    from planner.store import Store

    url = os.environ["PEAK_PLANNER_DB_URL"]
    Store(url).save(Scenario().with_changes({"name": "cli_peek",
                                             "data.orders": "/etc/os-release"}))
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    at.selectbox(key="sc_start").set_value("saved: cli_peek (v1)").run()
    at.button(key="sc_load").click().run()
    assert not at.exception
    errors = [_shown(e.value) for e in at.error]
    assert len(errors) == 1 and "data.orders" in errors[0], errors
    assert at.session_state["scenario"].name == "base"


def test_saved_scenario_with_a_kept_upload_opens(tmp_path):
    # a file the app kept in its upload folder in an earlier session is allowed
    from app_support import backend
    from planner.scenario import Scenario
    from planner.store import Store

    kept = backend.save_upload("old_orders.csv", b"ds,orders\n2024-03-04,100\n")
    url = os.environ["PEAK_PLANNER_DB_URL"]
    Store(url).save(Scenario().with_changes({"name": "from_upload", "data.orders": kept}))
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    at.selectbox(key="sc_start").set_value("saved: from_upload (v1)").run()
    at.button(key="sc_load").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["scenario"].data.orders == kept


def test_data_page_shows_each_files_own_range():
    # orders run to 31 Dec 2024 while the contacts stopped on 5 Mar 2024: the page used
    # to show one "To" (the orders' end), hiding that the contacts end 10 months earlier
    orders = "ds,orders\n" + "".join(
        f"{d:%Y-%m-%d},100\n" for d in pd.date_range("2024-03-04", "2024-12-31"))
    contacts = (b"ds,channel,contacts\n2024-03-04 08:00,chat,3\n2024-03-04 08:30,chat,4\n"
                b"2024-03-05 08:00,chat,5\n2024-03-05 08:30,chat,1\n")
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_orders").set_value(("o.csv", orders.encode(), "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(("c.csv", contacts, "text/csv"))
    at.run()
    assert not at.exception
    assert _ranges(at) == {"Orders": ("2024-03-04", "2024-12-31"),
                           "Contacts": ("2024-03-04", "2024-03-05")}


def test_data_page_shows_what_the_loaders_noticed():
    # "chta" (1 row) next to "chat" (3 rows) looks like a typo; "1,200" was read as
    # 1200 with "," as thousands separator: both are said on the page, naming the file
    contacts = (b"ds,channel,contacts\n2024-03-04 08:00,chat,3\n2024-03-04 08:30,chat,4\n"
                b"2024-03-04 08:00,chta,1\n2024-03-04 09:00,chat,\"1,200\"\n")
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_contacts").set_value(("typo.csv", contacts, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    warnings = [_shown(w.value) for w in at.warning]
    assert any("typo.csv" in w and "chta" in w and "typo" in w for w in warnings), warnings
    assert any("typo.csv" in w and "1,200" in w for w in warnings), warnings
    # with orders too the files are in use: still said, once each
    at.file_uploader(key="upload_orders").set_value(
        ("o.csv", b"ds,orders\n2024-03-04,100\n2024-03-05,120\n", "text/csv")).run()
    assert not at.exception
    warnings = [_shown(w.value) for w in at.warning]
    assert len([w for w in warnings if "chta" in w and "typo" in w]) == 1, warnings
    assert len([w for w in warnings if "does not plan: chta" in w]) == 1, warnings
    assert at.session_state["scenario"].data.contacts.endswith("typo.csv")
    # the likely typo is not planned as a channel of its own (it has no history to forecast
    # from and would stop every page); the page says so and how to plan it anyway
    assert "chta" not in at.session_state["scenario"].channels
    shown = [_shown(x.value) for x in (*at.info, *at.warning, *at.caption, *at.markdown)]
    assert any("chta" in t and "left out of the plan" in t for t in shown), shown


def test_today_weight_out_of_range_is_refused_in_words():
    at = _short_app()
    at.switch_page("app_support/pages/today.py").run()
    at.number_input(key="today_prior").set_value(99999).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["must be between 0 and 5,000 (got 99,999)"]
    assert any("Weight of the plan" in _shown(w.value) and "uses 100" in w.value
               for w in at.warning)


def test_time_zone_setting_reads_timestamps_with_offsets():
    # 08:00 UTC on 4 March is 09:00 in Berlin (CET, UTC+1)
    contacts = ("ds,channel,contacts\n" + "".join(
        f"2024-03-0{d}T{h}+00:00,chat,{n}\n"
        for d in (4, 5) for h, n in (("08:00", 3), ("08:30", 4)))).encode()
    orders = b"ds,orders\n2024-03-04,100\n2024-03-05,120\n"
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_orders").set_value(("o.csv", orders, "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(("utc.csv", contacts, "text/csv"))
    at.run()
    assert not at.exception
    errors = [_shown(e.value) for e in at.error]
    assert len(errors) == 1 and "utc.csv" in errors[0] and "UTC offsets" in errors[0], errors
    assert at.session_state["scenario"].data.contacts is None  # still the sample
    at.selectbox(key="data_timezone").set_value("Europe/Berlin").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    scenario = at.session_state["scenario"]
    assert scenario.data.timezone == "Europe/Berlin"
    assert scenario.data.contacts.endswith("utc.csv")
    shown = next(d.value for d in at.dataframe if "channel" in d.value.columns)  # Contacts tab
    assert sorted(pd.to_datetime(shown["ds"]).dt.strftime("%d %H:%M")) == [
        "04 09:00", "04 09:30", "05 09:00", "05 09:30"]
    # back to no zone: the sample stays readable (its timestamps are local)
    at.radio(key="data_source").set_value("Bundled sample").run()
    at.selectbox(key="data_timezone").set_value(at.selectbox(key="data_timezone").options[0])
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["scenario"].data.timezone is None


def test_pages_say_which_channels_the_scenario_does_not_plan():
    # the sample's contacts file has chat, voice and email; a scenario planning only chat
    # and voice leaves email's contacts out, and the planner's warning says so on the
    # Data page and after a run (Staffing page)
    at = _short_app()
    no_email = at.session_state["scenario"].to_dict()
    del no_email["channels"]["email"]
    from planner.scenario import Scenario

    at.session_state["scenario"] = Scenario.from_dict(no_email)
    at.switch_page("app_support/pages/data.py").run()
    assert not at.exception
    warnings = [_shown(w.value) for w in at.warning]
    assert [w for w in warnings if "does not plan" in w and "email" in w], warnings
    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    warnings = [_shown(w.value) for w in at.warning]
    assert [w for w in warnings if "does not plan" in w and "email" in w], warnings


def test_yaml_values_the_editor_does_not_offer_are_kept():
    # an 11-hour shift and a 45-minute start step are valid scenario values that the
    # editor's lists do not offer: they are shown and kept, not refused or reset
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    text = b"name: odd\nshifts: {lengths_h: [11.0, 8.0], start_step_min: 45}\n"
    at.file_uploader(key="sc_yaml").set_value(("odd.yaml", text, "application/x-yaml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.multiselect(key="w.scenarios.shifts.lengths_h").value == [11.0, 8.0]
    assert at.selectbox(key="w.scenarios.shifts.start_step_min").value == 45
    shifts = at.session_state["scenario"].shifts
    assert (list(shifts.lengths_h), shifts.start_step_min) == ([11.0, 8.0], 45)


@pytest.mark.parametrize("zone", ["/etc/os-release", "../../../../etc/os-release", "Mars/Base"])
def test_uploaded_scenario_with_an_unknown_time_zone_is_refused(zone):
    at = _app()
    at.switch_page("app_support/pages/scenarios.py").run()
    text = f"name: tz\ndata: {{timezone: '{zone}'}}\n".encode()
    at.file_uploader(key="sc_yaml").set_value(("tz.yaml", text, "application/x-yaml")).run()
    assert not at.exception
    errors = [_shown(e.value) for e in at.error]
    assert len(errors) == 1 and "not a known time zone" in errors[0], errors
    assert at.session_state["scenario"].data.timezone is None
    # a known zone opens
    good = b"name: tz\ndata: {timezone: Europe/Berlin}\n"
    at.file_uploader(key="sc_yaml").set_value(("ok.yaml", good, "application/x-yaml")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["scenario"].data.timezone == "Europe/Berlin"


def _orders_csv(first: str, last: str) -> bytes:
    return ("ds,orders\n" + "".join(
        f"{d:%Y-%m-%d},100\n" for d in pd.date_range(first, last))).encode()


# chat contacts on the first 50 days of 2022 (1 Jan .. 19 Feb), two half-hours a day
FIFTY_DAY_CONTACTS = ("ds,channel,contacts\n" + "".join(
    f"{d:%Y-%m-%d} 08:00,chat,3\n{d:%Y-%m-%d} 08:30,chat,4\n"
    for d in pd.date_range("2022-01-01", "2022-02-19"))).encode()


def _fifty_day_upload() -> AppTest:
    """Orders and contacts of 1 Jan .. 19 Feb 2022: the default plan (1 Oct .. 31 Dec
    2024, 92 days) moves to the day after the history, 20 Feb .. 22 May 2022."""
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_orders").set_value(
        ("o50.csv", _orders_csv("2022-01-01", "2022-02-19"), "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(
        ("c50.csv", FIFTY_DAY_CONTACTS, "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    h = at.session_state["scenario"].horizon
    assert (h.start, h.end) == (dt.date(2022, 2, 20), dt.date(2022, 5, 22))
    return at


def test_new_files_re_derive_the_plan_dates_an_upload_moved():
    at = _fifty_day_upload()
    # orders now run to 31 Dec 2024: the default dates (1 Oct .. 31 Dec 2024) fit the
    # new history again, so the plan returns to them instead of staying in 2022
    at.file_uploader(key="upload_orders").set_value(
        ("o_full.csv", _orders_csv("2022-01-01", "2024-12-31"), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    h = at.session_state["scenario"].horizon
    assert (h.start, h.end) == (dt.date(2024, 10, 1), dt.date(2024, 12, 31))
    shown = [_shown(i.value) for i in at.info]
    assert any("01 Oct 2024 - 31 Dec 2024" in t for t in shown), shown
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert "Plan 01 Oct 2024 to 31 Dec 2024 (92 days)" in caption
    # a shorter orders file moves the plan again, after its own last day (10 Feb 2022)
    at.file_uploader(key="upload_orders").set_value(
        ("o41.csv", _orders_csv("2022-01-01", "2022-02-10"), "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    h = at.session_state["scenario"].horizon
    assert (h.start, h.end) == (dt.date(2022, 2, 11), dt.date(2022, 5, 13))
    shown = [_shown(i.value) for i in at.info]
    assert any("plan moved to 11 Feb 2022 - 13 May 2022" in t for t in shown), shown


def test_new_files_keep_plan_dates_the_planner_chose_when_they_fit():
    at = _fifty_day_upload()
    # the planner picks 1 .. 30 Mar 2022 on the Forecast page, then uploads full orders
    at.switch_page("app_support/pages/forecast.py").run()
    at.number_input(key="w.forecast.horizon.days").set_value(30)
    at.date_input(key="w.forecast.horizon.start").set_value(dt.date(2022, 3, 1))
    at.run()
    h = at.session_state["scenario"].horizon
    assert (h.start, h.end) == (dt.date(2022, 3, 1), dt.date(2022, 3, 30))
    at.switch_page("app_support/pages/data.py").run()  # upload boxes empty again
    at.file_uploader(key="upload_orders").set_value(
        ("o_full.csv", _orders_csv("2022-01-01", "2024-12-31"), "text/csv"))
    at.file_uploader(key="upload_contacts").set_value(
        ("c50.csv", FIFTY_DAY_CONTACTS, "text/csv"))
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    h = at.session_state["scenario"].horizon
    assert (h.start, h.end) == (dt.date(2022, 3, 1), dt.date(2022, 3, 30))
    shown = [_shown(i.value) for i in at.info]
    assert any("kept" in t and "01 Mar 2022 - 30 Mar 2022" in t for t in shown), shown


def test_binary_upload_and_ignored_columns_are_said_plainly():
    # a PNG renamed .csv: "ds,channel,contacts\n" is 20 bytes, then 0x89 (no UTF-8 start
    # byte) with control bytes after it; an orders file with two columns the planner
    # does not read
    png = b"ds,channel,contacts\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    orders = b"ds,orders,revenue,region\n2024-03-04,100,9.5,EU\n2024-03-05,120,1.5,EU\n"
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()
    at.file_uploader(key="upload_contacts").set_value(("photo.csv", png, "text/csv"))
    at.file_uploader(key="upload_orders").set_value(("o.csv", orders, "text/csv"))
    at.run()
    assert not at.exception
    errors = [_shown(e.value) for e in at.error]
    assert len(errors) == 1 and "the file is not text (binary content at byte 20)" in errors[0]
    assert "PNG" not in errors[0] and errors[0].isprintable(), errors
    assert errors[0].count("photo.csv") == 1, errors  # the file is named once
    warnings = [_shown(w.value) for w in at.warning]
    assert any("o.csv: 2 columns are not read and ignored: 'revenue', 'region'" in w
               for w in warnings), warnings


def test_re_derived_plan_dates_start_from_the_planners_own_dates():
    at = _app()
    at.radio(key="data_source").set_value("Upload my files").run()

    def upload(orders_last: str) -> None:
        at.file_uploader(key="upload_orders").set_value(
            (f"o_{orders_last}.csv", _orders_csv("2022-01-01", orders_last), "text/csv"))
        at.file_uploader(key="upload_contacts").set_value(
            ("c50.csv", FIFTY_DAY_CONTACTS, "text/csv"))
        at.run()
        assert not at.exception and not at.error, [e.value for e in at.error]

    upload("2024-12-31")  # orders reach the default plan: dates kept (1 Oct .. 31 Dec 2024)
    at.switch_page("app_support/pages/forecast.py").run()
    at.number_input(key="w.forecast.horizon.days").set_value(30)
    at.date_input(key="w.forecast.horizon.start").set_value(dt.date(2024, 11, 1))
    at.run()
    at.switch_page("app_support/pages/data.py").run()
    upload("2022-02-19")  # 50 days: the 30-day plan moves to 20 Feb .. 21 Mar 2022
    h = at.session_state["scenario"].horizon
    assert (h.start, h.end) == (dt.date(2022, 2, 20), dt.date(2022, 3, 21))
    upload("2024-12-31")  # full orders again: back to the planner's 1 .. 30 Nov 2024
    h = at.session_state["scenario"].horizon
    assert (h.start, h.end) == (dt.date(2024, 11, 1), dt.date(2024, 11, 30))
    shown = [_shown(i.value) for i in at.info]
    assert any("plan dates back to 01 Nov 2024 - 30 Nov 2024" in t for t in shown), shown
