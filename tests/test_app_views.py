"""Pure helpers behind the app's tables and charts (``app_support.views``, ``charts``).

Expected values are hand computations on small frames, written out in the comments.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app_support import charts, views


def _ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)))


def test_summarize_dataset_reads_range_channels_and_interval():
    orders = pd.DataFrame({"ds": _ts("2024-03-01", "2024-03-02", "2024-03-03"), "orders": 1})
    contacts = pd.DataFrame(
        {
            "ds": _ts("2024-02-29 23:45", "2024-03-02 08:00"),
            "channel": ["voice", "chat"],
            "contacts": [1, 2],
        }
    )
    events = pd.DataFrame({"ds": _ts("2024-03-01"), "event": ["promo"]})
    s = views.summarize_dataset(orders, contacts, events, 900)
    # earliest stamp is the contact at 23:45 on 29 Feb; latest the order day 3 March
    assert s.first_ds == pd.Timestamp("2024-02-29 23:45")
    assert s.last_ds == pd.Timestamp("2024-03-03")
    assert s.channels == ("chat", "voice")
    assert (s.order_days, s.contact_rows, s.events) == (3, 2, 1)
    assert s.interval_label == "15 min"
    # each file's own range: orders 1-3 March, contacts 29 Feb 23:45 to 2 March 08:00
    assert s.orders_range == (pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-03"))
    assert s.contacts_range == (pd.Timestamp("2024-02-29 23:45"),
                                pd.Timestamp("2024-03-02 08:00"))
    assert s.events_range == (pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-01"))
    none = views.summarize_dataset(orders, contacts, events.iloc[:0], 900)
    assert none.events_range is None  # no events file: no range


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(300, "5 min"), (1800, "30 min"), (3600, "1 h"), (7200, "2 h"), (86400, "1 day"),
     (172800, "2 days"), (45, "45 s")],
)
def test_interval_label(seconds, label):
    s = views.DatasetSummary(pd.Timestamp(0), pd.Timestamp(0), (), seconds, 0, 0, 0)
    assert s.interval_label == label


def test_daily_series_sums_contacts_per_day_and_keeps_gaps():
    orders = pd.DataFrame({"ds": _ts("2024-01-01", "2024-01-02"), "orders": [100, 120]})
    contacts = pd.DataFrame(
        {
            "ds": _ts("2024-01-01 08:00", "2024-01-01 21:30", "2024-01-01 09:00",
                      "2024-01-03 10:00"),
            "channel": ["chat", "chat", "voice", "chat"],
            "contacts": [3, 4, 5, 6],
        }
    )
    out = views.daily_series(orders, contacts)
    got = {(u, d.strftime("%m-%d")): y for u, d, y in out.itertuples(index=False)}
    # chat 1 Jan: 3 + 4 = 7; chat 2 Jan has no rows and stays absent (closed, not zero)
    assert got == {
        ("orders", "01-01"): 100, ("orders", "01-02"): 120,
        ("chat", "01-01"): 7, ("chat", "01-03"): 6, ("voice", "01-01"): 5,
    }


def test_requirements_heatmap_averages_same_weekday_and_time():
    # Mondays 4 and 11 Nov at 08:00 -> (10 + 14) / 2 = 12; Tuesday 5 Nov 08:30 -> 7;
    # the voice row is another channel and is ignored.
    req = pd.DataFrame(
        {
            "channel": ["chat", "chat", "chat", "voice"],
            "ds": _ts("2024-11-04 08:00", "2024-11-11 08:00", "2024-11-05 08:30",
                      "2024-11-04 08:00"),
            "rostered": [10, 14, 7, 99],
        }
    )
    out = views.requirements_heatmap(req, "chat")
    assert out.to_dict("records") == [
        {"weekday": "Mon", "time": "08:00", "rostered": 12.0},
        {"weekday": "Tue", "time": "08:30", "rostered": 7.0},
    ]
    with pytest.raises(ValueError, match="'email'"):
        views.requirements_heatmap(req, "email")


def test_peak_window_centres_on_the_busiest_day_and_stays_inside():
    ds = pd.date_range("2024-11-25", periods=10, freq="D")
    frame = pd.DataFrame({"ds": ds, "agents": [1, 1, 1, 1, 9, 1, 1, 1, 1, 1]})
    # busiest day 29 Nov; 7 days centred on it -> 26 Nov .. 2 Dec
    assert views.peak_window(frame, "agents", 7) == (dt.date(2024, 11, 26), dt.date(2024, 12, 2))
    # busiest on the first day: the window is pushed right to start there
    frame2 = frame.assign(agents=[9, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    assert views.peak_window(frame2, "agents", 3) == (dt.date(2024, 11, 25), dt.date(2024, 11, 27))
    with pytest.raises(ValueError, match="days"):
        views.peak_window(frame, "agents", 0)
    with pytest.raises(ValueError, match="no rows"):
        views.peak_window(frame.iloc[:0], "agents", 3)


def test_shift_rows_labels_breaks_and_drops_empty_patterns():
    plan = pd.DataFrame(
        {
            "date": _ts("2024-11-29", "2024-11-29", "2024-11-29", "2024-11-30"),
            "channel": ["voice", "chat", "chat", "chat"],
            "shift_start": _ts("2024-11-29 09:00", "2024-11-29 08:00", "2024-11-29 10:00",
                               "2024-11-30 08:00"),
            "shift_end": _ts("2024-11-29 13:00", "2024-11-29 16:00", "2024-11-29 18:00",
                             "2024-11-30 16:00"),
            "break_start": _ts("NaT", "2024-11-29 12:00", "2024-11-29 13:00",
                               "2024-11-30 12:00"),
            "agents": [3, 7, 0, 2],
        }
    )
    out = views.shift_rows(plan, dt.date(2024, 11, 29), break_s=1800)
    # 30 Nov and the zero-agent pattern are dropped; chat sorts before voice
    assert out["label"].tolist() == ["08:00-16:00 chat, break 12:00", "09:00-13:00 voice"]
    assert out["break_end"].iloc[0] == pd.Timestamp("2024-11-29 12:30")
    assert pd.isna(out["break_end"].iloc[1])


def test_coverage_view_and_understaffed():
    cov = pd.DataFrame(
        {
            "channel": ["chat", "chat", "chat", "voice"],
            "ds": _ts("2024-11-29 08:00", "2024-11-29 08:30", "2024-11-30 08:00",
                      "2024-11-29 08:00"),
            "required": [5, 6, 4, 9],
            "scheduled": [5, 4, 6, 6],
            "gap": [0, -2, 2, -3],
        }
    )
    day = views.coverage_view(cov, "chat", "2024-11-29", interval_s=1800)
    assert day["understaffed"].tolist() == [False, True]
    assert day["ds_end"].iloc[1] == pd.Timestamp("2024-11-29 09:00")  # 08:30 + 30 min
    under = views.understaffed(cov)
    # short = required - scheduled: voice 9 - 6 = 3 first, then chat 6 - 4 = 2
    assert under[["channel", "short"]].values.tolist() == [["voice", 3], ["chat", 2]]


def test_between_includes_both_end_days():
    f = pd.DataFrame({"ds": _ts("2024-11-27 23:59", "2024-11-28 00:00", "2024-11-30 23:30",
                                "2024-12-01 00:00")})
    assert len(views.between(f, dt.date(2024, 11, 28), dt.date(2024, 11, 30))) == 2


def test_tables_to_excel_round_trips_through_openpyxl():
    tables = {
        "totals": pd.DataFrame({"scenario": ["a", "b"], "cost": [1.5, 2.0]}),
        "a_sheet_name_longer_than_thirty_one_chars": pd.DataFrame({"x": [1]}),
    }
    wb = openpyxl.load_workbook(io.BytesIO(views.tables_to_excel(tables)))
    assert wb.sheetnames == ["totals", "a_sheet_name_longer_than_thirty"]
    rows = [[c.value for c in r] for r in wb["totals"].iter_rows()]
    assert rows == [["scenario", "cost"], ["a", 1.5], ["b", 2.0]]


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(1234.5, 0, "1,234"), (1235.5, 0, "1,236"), (None, 0, "n/a"), (np.nan, 1, "n/a"),
     ("OPTIMAL", 0, "OPTIMAL"), (0.125, 2, "0.12")],
)
def test_fmt_number(value, digits, text):
    # Python rounds half to even: 1234.5 -> 1234, 1235.5 -> 1236, 0.125 -> 0.12
    assert views.fmt_number(value, digits) == text


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=96),
    st.integers(min_value=0, max_value=6),
)
def test_daily_contacts_keeps_the_total(counts, offset_days):
    # Regrouping intervals into days never creates or loses contacts.
    ds = pd.date_range("2024-01-01", periods=len(counts), freq="30min") + pd.Timedelta(
        days=offset_days
    )
    frame = pd.DataFrame({"ds": ds, "channel": "chat", "contacts": counts})
    out = views.daily_contacts(frame)
    assert out["contacts"].sum() == sum(counts)
    assert out["ds"].is_monotonic_increasing


def test_charts_build_vega_lite_specs_with_units():
    fc = pd.DataFrame({"ds": _ts("2024-11-29", "2024-11-30"), "yhat": [10.0, 12.0],
                       "yhat_lo": [8.0, 9.0], "yhat_hi": [12.0, 15.0]})
    spec = charts.forecast_chart(fc, fc.rename(columns={"yhat": "y"})[["ds", "y"]],
                                 pd.DataFrame({"ds": _ts("2024-11-29"), "event": ["BF"]}),
                                 "Contacts per day", 80).to_dict()
    assert len(spec["layer"]) == 5  # band, forecast line, actuals, event rules and names
    assert spec["layer"][0]["encoding"]["y"]["title"] == "Contacts per day"
    weekly = pd.DataFrame({"week": _ts("2024-11-25"), "channel": ["chat"], "fte": [12.0]})
    bars = charts.fte_week_chart(weekly).to_dict()
    assert "FTE" in bars["encoding"]["y"]["title"]
    assert {t["field"] for t in bars["encoding"]["tooltip"]} == {"week", "channel", "fte"}


def test_fit_to_history_moves_the_plan_only_when_history_is_too_short():
    s = {
        "channels": {"chat": {"model": "chat"}, "voice": {}, "email": {}},
        "horizon": {"start": "2024-10-01", "end": "2024-12-31", "history_end": "2024-09-15"},
    }
    # history through 15 Sep or later, same channels (other order): nothing changes
    assert views.fit_to_history(s, ["email", "chat", "voice"], "2024-09-15") == ({}, [])
    # history ends 10 Sep < history_end 15 Sep: the 92-day plan starts 11 Sep and ends
    # 11 Sep + 91 days = 11 Dec; history_end is cleared (the day before the new start)
    changes, notes = views.fit_to_history(s, ["chat", "voice", "email"], "2024-09-10")
    assert changes == {
        "horizon.start": "2024-09-11", "horizon.end": "2024-12-11", "horizon.history_end": None
    }
    assert len(notes) == 1 and "11 Sep 2024" in notes[0]


def test_month_editor_only_writes_what_the_user_moved():
    from app_support.editor import _month_edits

    # drawn with the table's own values (in %, as the widgets show them): no change, even
    # for values finer than the widget and for listed zeros
    assert _month_edits({11: 0.33333, 12: 0.0}, {11: 33.33, 12: 0.0}) is None
    assert _month_edits({}, {11: 0.0, 12: 0.0}) is None
    # a moved widget changes its month only; 0 removes the month from the table
    assert _month_edits({11: 0.33333, 1: 0.4}, {11: 33.33, 12: 35.0}) == {
        11: 0.33333, 1: 0.4, 12: 0.35}
    assert _month_edits({11: 0.3}, {11: 0.0, 12: 0.0}) == {}


def test_user_typed_names_are_shown_and_saved_as_typed():
    from app_support.views import file_stem, md

    assert md(":red[x] **y**") == "\\:red\\[x\\] \\*\\*y\\*\\*"
    assert md("low_cr 6.9%") == "low\\_cr 6\\.9%"
    assert file_stem(":red[x] **y**") == "red_x_y"
    assert file_stem("Peak BF 2024 (v2)") == "Peak_BF_2024_v2"
    assert file_stem("***") == "plan"


def test_save_upload_keeps_names_inside_its_folder(tmp_path):
    import stat

    from app_support import backend

    root = tmp_path / "uploads"
    # a name is reduced to its last part; "..", "." and "" become "upload"
    for name, stem in [("../../evil.csv", "evil.csv"), ("..", "upload"), ("", "upload"),
                       ("dir/ok.csv", "ok.csv")]:
        path = Path(backend.save_upload(name, name.encode() + b"x", str(root)))
        assert path.name == stem and path.parent.parent == root, path
        assert path.read_bytes() == name.encode() + b"x"
        assert backend.is_kept_upload(str(path), str(root))
        # folders the app creates: its own user only (rwx------)
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    outside = tmp_path / "secret.csv"
    outside.write_text("x")
    assert not backend.is_kept_upload(str(outside), str(root))
    assert not backend.is_kept_upload(str(root / ".." / "secret.csv"), str(root))
    assert not backend.is_kept_upload(str(root), str(root))  # the folder itself


def test_service_level_heatmap_colours_are_tied_to_the_target():
    # A plan whose worst hour is 83 % must not paint 83 % dark red against an 80 % target:
    # with the target the scale spans 0..100 % with its middle at the target.
    grid = pd.DataFrame({"date": pd.to_datetime(["2024-11-29", "2024-11-29"]),
                         "hour": [9, 10], "value": [0.83, 1.0]})
    spec = charts.date_hour_heatmap(grid, "Service level", ".0%", "redyellowgreen",
                                    target=0.8).to_dict()
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"] == [0, 1] and scale["domainMid"] == 0.8
    free = charts.date_hour_heatmap(grid, "Agents short", ",.0f", "reds").to_dict()
    assert "domain" not in free["encoding"]["color"]["scale"]


def test_warnings_repeated_per_queue_are_said_once():
    names = [f"q{i:03d}" for i in range(200)]
    text = "staff_to p80 reads the spread of demand off the forecast band"
    warnings = ["history ends early", *(f"{n}: {text}" for n in names), "q007: other",
                "q001: " + text]  # a repeat of one queue's warning counts once
    out = views.group_warnings(warnings, names)
    assert out == [
        "history ends early",
        f"200 queues (q000, q001, q002, q003, q004 and 195 more): {text}",
        "q007: other",
    ]
    # a name that is no queue of the plan is not grouped; one queue keeps its own line
    assert views.group_warnings(["x: a", "y: a", "q000: b"], ["q000"]) == [
        "x: a", "y: a", "q000: b"]
    assert views.group_warnings(["chat: a", "voice: a"], ["chat", "voice"],
                                noun="channels") == ["2 channels (chat, voice): a"]
