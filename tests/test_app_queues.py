"""Queues in the app (``AppTest``): the Data page summarises the queues of a contacts file
with a ``queue`` column, and the picker of the total, a channel or a queue drives the
Staffing, Shift plan, Scenarios and Export pages.

Expected figures are computed in the test from the contacts written here (pandas sums over
the raw rows) or from the core's roll-up, never from what the page shows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from data.generate import generate
from planner.scenario import Scenario
from tests.test_app import _metric

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 240

#: chat split 1:2 into two queues plus a tiny one; voice one queue; email none (its own).
QUEUES = {"chat-de": "chat", "chat-fr": "chat", "chat-xx": "chat", "voice-en": "voice",
          "email": "email"}


@pytest.fixture(scope="module")
def queue_files(tmp_path_factory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("queues")
    sample = generate(seed=3, start="2024-01-01", end="2024-12-31")
    c = sample.contacts.copy()
    c["queue"] = np.where(c["channel"] == "voice", "voice-en", "")
    chat = c[c["channel"] == "chat"]
    de = chat.assign(queue="chat-de", contacts=chat["contacts"] // 3)
    fr = chat.assign(queue="chat-fr", contacts=chat["contacts"] - chat["contacts"] // 3)
    # the tiny queue: one contact at 10:00 each day
    xx = chat[chat["ds"].dt.hour.eq(10) & chat["ds"].dt.minute.eq(0)].assign(
        queue="chat-xx", contacts=1)
    contacts = pd.concat([c[c["channel"] != "chat"], de, fr, xx], ignore_index=True)
    contacts = contacts.sort_values(["ds", "channel", "queue"], kind="stable")
    contacts.to_csv(out / "contacts.csv", index=False)
    sample.orders.to_csv(out / "orders.csv", index=False)
    return {"dir": out, "contacts": contacts}


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app_test.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))


def _app(files: dict[str, object], days: int = 3) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    s = Scenario()
    folder = files["dir"]
    at.session_state["scenario"] = s.with_changes({
        "data.orders": str(folder / "orders.csv"), "data.contacts": str(folder / "contacts.csv"),
        "data.events": "", "horizon.start": dt.date(2024, 11, 28),
        "horizon.end": dt.date(2024, 11, 28) + dt.timedelta(days=days - 1)})
    at.session_state["data_source"] = "Upload my files"  # files of this test, kept
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with column {column!r}"
    return found[0]


def test_data_page_summarises_the_queues(queue_files):
    at = _app(queue_files)
    assert _metric(at, "Queues") == "5"
    assert _metric(at, "Small queues") == "1"  # chat-xx: one contact a day
    table = _table(at, "share_of_channel").set_index("queue")
    raw = queue_files["contacts"]
    chat = raw[raw["channel"] == "chat"]
    by_queue = chat.groupby("queue")["contacts"].sum()
    assert table.loc["chat-fr", "contacts"] == by_queue["chat-fr"]
    assert table.loc["chat-de", "share_of_channel"] == pytest.approx(
        by_queue["chat-de"] / chat["contacts"].sum())
    assert table.loc["chat-xx", "per_day"] == pytest.approx(1.0)  # one a day, every day
    assert bool(table.loc["chat-xx", "small"]) and not table.loc["chat-fr", "small"]
    assert table.loc["email", "channel"] == "email"  # no queue: the channel's own
    assert any("chat-xx" in w.value.replace("\\", "") for w in at.warning)  # md-escaped


def _run(files: dict[str, object], days: int = 3, solve: bool = False):
    """The plan the app shows, run here through the core (staffing only, as the Staffing
    page plans)."""
    from planner.pipeline import run

    folder = files["dir"]
    s = Scenario().with_changes({
        "data.orders": str(folder / "orders.csv"), "data.contacts": str(folder / "contacts.csv"),
        "data.events": "", "horizon.start": dt.date(2024, 11, 28),
        "horizon.end": dt.date(2024, 11, 28) + dt.timedelta(days=days - 1),
        "shifts.solve": solve})
    return run(s)


def test_staffing_page_picks_total_channel_or_queue(queue_files):
    at = _app(queue_files)
    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception, at.exception
    box = at.selectbox(key="queue_pick_box")
    assert box.options == ["Total", "Channel: chat", "Channel: email", "Channel: voice",
                           "chat-de", "chat-fr", "chat-xx", "email", "voice-en"]
    assert box.value == "Total" and box.label == "Show (5 queues in 3 channels)"
    result = _run(queue_files)
    assert result.queues == QUEUES
    # chat's FTE by hand: each week the sum of its three queues' FTE, averaged over the
    # weeks weighted by their days
    w = result.weekly[result.weekly["channel"].isin(["chat-de", "chat-fr", "chat-xx"])]
    per_week = w.groupby("week").agg(fte=("fte", "sum"), days=("days", "max"))
    chat_fte = float((per_week["fte"] * per_week["days"]).sum() / per_week["days"].sum())
    box.set_value("Channel: chat").run()
    assert not at.exception, at.exception
    assert _metric(at, "chat: FTE before shifts (average)") == f"{chat_fte:,.1f}"
    # one queue: its own weekly FTE
    q = result.weekly[result.weekly["channel"] == "chat-xx"]
    xx_fte = float((q["fte"] * q["days"]).sum() / q["days"].sum())
    at.selectbox(key="queue_pick_box").set_value("chat-xx").run()
    assert _metric(at, "chat-xx: FTE before shifts (average)") == f"{xx_fte:,.1f}"
    # the pick is kept across pages
    at.switch_page("app_support/pages/data.py").run()
    at.switch_page("app_support/pages/staffing.py").run()
    assert at.selectbox(key="queue_pick_box").value == "chat-xx"


def test_shift_plan_scenarios_and_export_pages_follow_the_pick(queue_files):
    at = _app(queue_files, days=2)
    at.switch_page("app_support/pages/shifts.py").run()
    assert not at.exception, at.exception
    at.selectbox(key="queue_pick_box").set_value("Channel: chat").run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs] == ["chat"]  # one chart for the pick, not per queue
    plan = _run(queue_files, days=2, solve=True)
    chat_hours = plan.shift_plan[plan.shift_plan["channel"].isin(
        ["chat-de", "chat-fr", "chat-xx"])]
    hours = float((chat_hours["paid_hours"] * chat_hours["agents"]).sum())  # per shift row
    assert _metric(at, "chat: paid hours") == f"{hours:,.0f}"

    at.switch_page("app_support/pages/scenarios.py").run()
    at.button(key="sc_run").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="queue_pick_box").value == "Channel: chat"  # kept
    result = _run(queue_files, days=2, solve=True)
    # chat's service level by hand: each queue's volume-weighted daily SL, weighted by
    # the queue's contacts over the horizon
    chat = ["chat-de", "chat-fr", "chat-xx"]
    vol = result.volumes.assign(date=result.volumes["ds"].dt.normalize())
    vol = vol[vol["channel"].isin(chat)].groupby(["channel", "date"])["volume"].sum()
    d = result.kpis_daily[result.kpis_daily["channel"].isin(chat)].set_index(
        ["channel", "date"])["service_level"]
    w = vol.reindex(d.index).to_numpy()
    sl = float((d.to_numpy() * w).sum() / w.sum())
    assert _metric(at, "chat: service level") == f"{sl:.1%}"
    # the daily service level of the pick is drawn (it was left out for a plan per queue)
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert any("Service level, chat" in spec for spec in specs)
    # the day-by-hour heatmap offers the plan's queues (its intervals are per queue)
    assert at.selectbox(key="wr_hm_channel").options == sorted(QUEUES, key=[
        *result.planned_scenario.channels].index)
    assert not [i.value for i in at.info if "No interval figures" in i.value]
    # email's backlog: one line (the total's one email queue), no sawtooth over queues
    at.selectbox(key="queue_pick_box").set_value("Channel: voice").run()
    assert any("No deferred (email) queue" in i.value and "voice" in i.value for i in at.info)

    at.switch_page("app_support/pages/export.py").run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels[0] == "Roll-up workbook (Excel)"
    assert "Shift plan (CSV)" in labels, [e.value for e in at.error]  # 5 queues: built too
    at.button(key="make_queues_csv").click().run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Per-queue CSV (zip)" in labels


def test_forecast_page_shows_the_pick(queue_files):
    at = _app(queue_files, days=2)
    at.switch_page("app_support/pages/forecast.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="forecast_series").options == ["orders", "all queues"]
    at.selectbox(key="queue_pick_box").set_value("chat-fr").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="forecast_series").options == ["orders", "chat-fr"]
    at.selectbox(key="forecast_series").set_value("chat-fr").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # the hiring plan is per channel: the Capacity page says so for a plan per queue
    at.switch_page("app_support/pages/capacity.py").run()
    assert not at.exception, at.exception
    assert any("per queue" in i.value for i in at.info)


def test_today_page_follows_the_pick(queue_files):
    at = _app(queue_files, days=2)
    at.switch_page("app_support/pages/today.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    cards = {m.label for m in at.metric if m.label.endswith(": contacts so far")}
    assert cards == {f"{q}: contacts so far" for q in QUEUES}  # the total: every queue
    at.selectbox(key="queue_pick_box").set_value("Channel: chat").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    cards = {m.label for m in at.metric if m.label.endswith(": contacts so far")}
    assert cards == {"chat-de: contacts so far", "chat-fr: contacts so far",
                     "chat-xx: contacts so far"}
    assert [t.label for t in at.tabs] == ["chat-de", "chat-fr", "chat-xx"]
    # the replayed contacts so far of chat-fr: the raw rows of the day before "now"
    now = at.select_slider(key="today_now_20241128").value
    raw = queue_files["contacts"]
    fr = raw[(raw["queue"] == "chat-fr") & (raw["ds"] >= "2024-11-28") & (raw["ds"] < now)]
    assert _metric(at, "chat-fr: contacts so far") == f"{fr['contacts'].sum():,.0f}"
