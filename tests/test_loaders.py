"""Loaders: accepted variants, named errors for bad input, time zones, round trips.

Expected values are hand computations from the small fixture files in tests/data/ (each
fixture is a few readable lines) or from the time-zone rules (Moscow is UTC+3 all year
since 2014; Berlin switches CET/CEST on the last Sundays of March and October).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import (
    DataError,
    detect_interval_s,
    fill_closed_hours,
    load_contacts,
    load_events,
    load_orders,
    sample_paths,
)
from forecast.data import (
    AmbiguousColumnError,
    BadTimestampError,
    BadValueError,
    ChannelError,
    DuplicateRowError,
    EmptyFileError,
    MissingColumnError,
    MixedIntervalError,
)

FIX = Path(__file__).resolve().parent / "data"


# --------------------------------------------------------------------- accepted variants
def test_contacts_variants_semicolon_decimal_comma_date_time_case_spacing():
    c = load_contacts(FIX / "contacts_variants.csv")
    assert list(c.columns) == ["ds", "channel", "contacts", "aht_s"]
    assert c.attrs["interval_s"] == 1800  # 08:00, 08:30, (gap), 09:30
    assert c.attrs["source"] == "contacts_variants.csv"
    # "Chat ", "VOICE", " Voice" are the same two channels after case/space normalisation.
    assert sorted(c["channel"].unique()) == ["chat", "voice"]
    assert c["contacts"].tolist() == [12, 7, 15, 0, 9, 4]
    np.testing.assert_array_equal(c["aht_s"].to_numpy(),
                                  [312.5, 280.0, 305.0, np.nan, 298.25, 301.0])
    assert c["ds"].iloc[-1] == pd.Timestamp("2024-03-04 09:30")
    assert c["ds"].dtype == "datetime64[ns]" and c["contacts"].dtype == np.int64
    # The 09:00 gap stays a gap: nothing was filled.
    assert pd.Timestamp("2024-03-04 09:00") not in set(c["ds"])


def test_orders_variants_space_grouping_and_missing_day_kept():
    o = load_orders(FIX / "orders_variants.csv")
    assert o["orders"].tolist() == [120345, 118002, 121777]
    assert o["ds"].dt.day.tolist() == [4, 5, 7]  # 2024-03-06 missing stays missing


def test_file_like_upload_and_dataframe_input():
    raw = (FIX / "contacts_variants.csv").read_bytes()
    upload = io.BytesIO(raw)
    upload.name = "my upload.csv"
    upload.read()  # already consumed once, as a widget might have done
    c = load_contacts(upload)
    assert c.attrs["source"] == "my upload.csv" and len(c) == 6
    frame = pd.DataFrame({"DS": ["2024-01-01 10:00", "2024-01-01 10:15"],
                          "Channel": ["voice", "voice"], "Contacts": [3, 4]})
    assert load_contacts(frame).attrs["interval_s"] == 900


def test_channel_map_merges_explicitly():
    c = load_contacts(FIX / "contacts_channel_two_ways.csv", channel_map={"e-mail": "email"})
    assert c["channel"].unique().tolist() == ["email"] and c["contacts"].sum() == 6


@pytest.fixture(scope="module")
def two_weeks():
    c = load_contacts(sample_paths().contacts)
    return c[(c["ds"] >= "2024-11-04") & (c["ds"] < "2024-11-18")].reset_index(drop=True)


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "xlsx", "parquet"])
def test_round_trip_gives_identical_frame(tmp_path, two_weeks, fmt):
    path = tmp_path / f"contacts.{fmt}"
    if fmt == "xlsx":
        two_weeks.to_excel(path, index=False)
    elif fmt == "parquet":
        two_weeks.to_parquet(path, index=False)
    else:
        two_weeks.to_csv(path, index=False)
    back = load_contacts(path)
    pd.testing.assert_frame_equal(back, two_weeks, check_like=False)
    assert back.attrs["interval_s"] == 1800


def test_round_trip_orders_and_events(tmp_path):
    orders = load_orders(sample_paths().orders)
    events = load_events(sample_paths().events)
    for fmt in ("xlsx", "parquet"):
        po, pe = tmp_path / f"o.{fmt}", tmp_path / f"e.{fmt}"
        writer = "to_excel" if fmt == "xlsx" else "to_parquet"
        getattr(orders, writer)(po, index=False)
        getattr(events, writer)(pe, index=False)
        pd.testing.assert_frame_equal(load_orders(po), orders)
        pd.testing.assert_frame_equal(load_events(pe), events)


# --------------------------------------------------------------------- errors
BAD_CASES = [
    ("contacts_missing_column.csv", MissingColumnError, "contacts", ()),
    ("contacts_non_numeric.csv", BadValueError, "contacts", ("row 3", "row 5", "'n/a'")),
    ("contacts_negative.csv", BadValueError, "contacts", ("row 3", "negative")),
    ("contacts_fractional.csv", BadValueError, "contacts", ("row 3", "non-integer")),
    ("contacts_bad_timestamp.csv", BadTimestampError, "ds", ("row 4", "ISO 8601")),
    ("contacts_duplicate.csv", DuplicateRowError, "ds", ("row 3", "row 4")),
    ("contacts_off_grid.csv", MixedIntervalError, "ds", ("row 4",)),
    ("contacts_channel_two_ways.csv", ChannelError, "channel", ("'e-mail'", "row 3")),
    ("contacts_utc.csv", BadTimestampError, "ds", ("tz=",)),
    ("contacts_mixed_tz.csv", BadTimestampError, "ds", ("row 2", "row 3")),
    ("contacts_aht_no_unit.csv", AmbiguousColumnError, "aht", ("aht_s",)),
]


@pytest.mark.parametrize(("name", "error", "column", "snippets"), BAD_CASES)
def test_bad_contacts_raise_named_errors(name, error, column, snippets):
    with pytest.raises(error) as info:
        load_contacts(FIX / name)
    msg = str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, DataError)
    assert name in msg and f"column '{column}'" in msg
    assert info.value.column == column
    for snippet in snippets:
        assert snippet in msg


@pytest.mark.parametrize("name", ["empty.csv", "header_only.csv"])
@pytest.mark.parametrize("loader", [load_orders, load_contacts, load_events])
def test_empty_input(name, loader):
    with pytest.raises(EmptyFileError, match=name):
        loader(FIX / name)


def test_orders_with_times_and_events_bad_window():
    with pytest.raises(BadTimestampError, match=r"column 'date'.*row 3"):
        load_orders(FIX / "orders_with_times.csv")
    with pytest.raises(BadValueError, match=r"column 'lower_window'.*row 3"):
        load_events(FIX / "events_bad_window.csv")


def test_mixed_interval_lengths_day_by_day():
    # Day 1 at 30 minutes (08:00..13:30), day 2 at 15 minutes: one file, two lengths.
    d1 = pd.date_range("2024-03-04 08:00", "2024-03-04 13:30", freq="30min")
    d2 = pd.date_range("2024-03-05 08:00", "2024-03-05 13:45", freq="15min")
    frame = pd.DataFrame({"ds": d1.append(d2), "channel": "voice", "contacts": 1})
    with pytest.raises(MixedIntervalError, match=r"column 'ds'.*1800 s.*900 s.*row 2"):
        load_contacts(frame)
    # A declared length does not paper over it: the 30-minute day is still refused.
    with pytest.raises(MixedIntervalError, match="1800 s"):
        load_contacts(frame, interval_s=900)
    with pytest.raises(MixedIntervalError):
        load_contacts(frame, interval_s=1800)


def test_unknown_channel_when_list_given():
    with pytest.raises(ChannelError, match=r"column 'Channel '.*'sms'"):
        load_contacts(io.BytesIO(b"ds,Channel ,contacts\n2024-01-01 08:00,sms,1\n"),
                      channels=["chat", "voice", "email"])


# --------------------------------------------------------------------- time zones
def test_utc_converted_to_moscow_wall_clock():
    c = load_contacts(FIX / "contacts_utc.csv", tz="Europe/Moscow")  # UTC+3
    assert c["ds"].dt.strftime("%H:%M").tolist() == ["08:00", "08:30", "09:00"]
    assert c.attrs["interval_s"] == 1800 and c.attrs["tz"] == "Europe/Moscow"


def test_dst_fall_back_repeats_merged_and_spring_gap_kept():
    # Berlin 2024-10-27: 03:00 CEST -> 02:00 CET; UTC 00:00..01:30 are local 02:00, 02:30,
    # 02:00, 02:30. 2024-03-31: UTC 01:00 is 03:00 CEST, the local 02:xx hour does not exist.
    utc = pd.to_datetime(["2024-10-26T23:30Z", "2024-10-27T00:00Z", "2024-10-27T00:30Z",
                          "2024-10-27T01:00Z", "2024-10-27T01:30Z", "2024-10-27T02:00Z",
                          "2024-03-31T00:30Z", "2024-03-31T01:00Z", "2024-03-31T01:30Z"])
    frame = pd.DataFrame({"ds": utc.strftime("%Y-%m-%dT%H:%M:%SZ"), "channel": "email",
                          "contacts": [1, 2, 3, 4, 5, 6, 7, 8, 9],
                          "aht_s": [100, 100, 100, 300, 200, 100, 100, 100, 100]})
    c = load_contacts(frame, tz="Europe/Berlin")
    got = dict(zip(c["ds"].dt.strftime("%m-%d %H:%M"), c["contacts"], strict=True))
    assert got == {"03-31 01:30": 7, "03-31 03:00": 8, "03-31 03:30": 9,
                   "10-27 01:30": 1, "10-27 02:00": 2 + 4, "10-27 02:30": 3 + 5,
                   "10-27 03:00": 6}
    assert c.attrs["dst_merged_rows"] == 2 and c.attrs["interval_s"] == 1800
    # contacts-weighted AHT of the merged 02:00 interval: (2*100 + 4*300) / 6
    aht = c.loc[c["ds"] == pd.Timestamp("2024-10-27 02:00"), "aht_s"].item()
    assert aht == pytest.approx(1400 / 6)


def test_naive_repeated_hour_needs_tz():
    frame = pd.DataFrame({"ds": ["2024-10-27 01:30", "2024-10-27 02:00", "2024-10-27 02:30",
                                 "2024-10-27 02:00", "2024-10-27 02:30", "2024-10-27 03:00"],
                          "channel": "voice", "contacts": [1, 2, 3, 4, 5, 6]})
    with pytest.raises(DuplicateRowError, match=r"column 'ds'.*row 3"):
        load_contacts(frame)
    c = load_contacts(frame, tz="Europe/Berlin")
    assert c["contacts"].tolist() == [1, 6, 8, 6] and c.attrs["dst_merged_rows"] == 2


# --------------------------------------------------------------------- interval helpers
@settings(max_examples=60, deadline=None)
@given(
    step_min=st.sampled_from([5, 10, 15, 30, 60]),
    windows=st.lists(st.tuples(st.integers(0, 20), st.integers(2, 30)), min_size=1, max_size=6),
)
def test_detect_interval_with_opening_windows(step_min, windows):
    # Each day is open for one contiguous window; closed hours are gaps, not other lengths.
    step = pd.Timedelta(minutes=step_min)
    per_day = 1440 // step_min
    stamps = []
    for day, (start, length) in enumerate(windows):
        first = min(start * 60 // step_min, per_day - 2)
        last = min(first + length, per_day)
        base = pd.Timestamp("2024-01-01") + pd.Timedelta(days=2 * day)
        stamps.extend(base + step * i for i in range(first, last))
    assert detect_interval_s(pd.DatetimeIndex(stamps)) == step_min * 60


def test_detect_daily_and_errors():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05"])
    assert detect_interval_s(days) == 86400
    with pytest.raises(MixedIntervalError, match="does not divide a day"):
        detect_interval_s(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 00:07"]))


def test_fill_closed_hours_only_outside_open_hours():
    # Voice open 08-22 at 60 minutes; 10:00 missing inside opening hours (a real gap).
    ds = pd.date_range("2024-01-01 08:00", "2024-01-01 21:00", freq="h").delete(2)
    c = pd.DataFrame({"ds": ds, "channel": "voice", "contacts": 5})
    filled = fill_closed_hours(c, 3600, {"voice": (8, 22)})
    # 24 hours - 14 open hours = 10 closed hours added; the 10:00 gap is not filled.
    assert filled.attrs["filled_rows"] == 10 and len(filled) == 13 + 10
    assert pd.Timestamp("2024-01-01 10:00") not in set(filled["ds"])
    assert filled.loc[filled["ds"].dt.hour < 8, "contacts"].eq(0).all()
    everything = fill_closed_hours(c, 3600)
    assert len(everything) == 24 and everything["contacts"].sum() == 13 * 5


def test_daily_contacts_with_date_column_and_excel_date_time_pair(tmp_path):
    daily = pd.DataFrame({"Date": ["2024-03-04", "2024-03-05", "2024-03-08"],
                          "Channel": "email", "Contacts": [10, 11, 12]})
    c = load_contacts(daily)
    assert c.attrs["interval_s"] == 86400 and c["contacts"].sum() == 33
    # Excel stores a date cell and a separate time-of-day cell (datetime.time).
    pair = pd.DataFrame({
        "Date": pd.to_datetime(["2024-03-04", "2024-03-04", "2024-03-04"]),
        "Time": [pd.Timestamp("2024-03-04 08:00").time(), pd.Timestamp("2024-03-04 08:15").time(),
                 pd.Timestamp("2024-03-04 09:00").time()],
        "Channel": "voice", "Contacts": [1, 2, 3],
    })
    path = tmp_path / "pair.xlsx"
    pair.to_excel(path, index=False)
    c = load_contacts(path)
    assert c["ds"].dt.strftime("%H:%M").tolist() == ["08:00", "08:15", "09:00"]
    assert c.attrs["interval_s"] == 900


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 10**6), min_size=1, max_size=20),
    tenths=st.lists(st.integers(1, 99_999), min_size=20, max_size=20),
    sep=st.sampled_from([";", "\t"]),
    label=st.sampled_from(["Chat", " chat", "CHAT ", "chat"]),
)
def test_decimal_comma_and_label_variants_parse_exactly(counts, tenths, sep, label):
    # Written by hand as text: integer counts, AHT with a decimal comma (one decimal).
    lines = [sep.join(["Interval Start", "Channel", "Contacts", "AHT_s"])]
    for i, n in enumerate(counts):
        ts = (pd.Timestamp("2024-05-01") + pd.Timedelta(minutes=15 * i)).isoformat(sep=" ")
        lines.append(sep.join([ts, label, str(n), f"{tenths[i] // 10},{tenths[i] % 10}"]))
    c = load_contacts(io.BytesIO("\n".join(lines).encode()))
    assert c["contacts"].tolist() == counts
    assert c["aht_s"].tolist() == [t / 10 for t in tenths[: len(counts)]]
    assert set(c["channel"]) == {"chat"}
    if len(counts) > 1:
        assert c.attrs["interval_s"] == 900


def test_old_xls_rejected_with_advice():
    with pytest.raises(DataError, match=r"old\.xls: file: .*\.xlsx"):
        up = io.BytesIO(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
        up.name = "old.xls"
        load_orders(up)


def test_missing_file_is_a_data_error(tmp_path):
    from forecast.data import MissingFileError

    with pytest.raises(MissingFileError, match=r"nope\.csv: file: cannot open"):
        load_contacts(tmp_path / "nope.csv")


def test_tz_aware_parquet_converted(tmp_path):
    ds = pd.date_range("2024-06-01 05:00", periods=4, freq="15min", tz="UTC")
    path = tmp_path / "aware.parquet"
    pd.DataFrame({"ds": ds, "channel": "chat", "contacts": [1, 2, 3, 4]}).to_parquet(path)
    with pytest.raises(BadTimestampError, match="column 'ds'"):
        load_contacts(path)
    c = load_contacts(path, tz="Europe/Moscow")  # UTC+3, no DST
    assert c["ds"].dt.strftime("%H:%M").tolist() == ["08:00", "08:15", "08:30", "08:45"]


def test_row_numbers_count_blank_lines():
    # Line 1 header, line 2 data, line 3 blank, line 4 data, line 5 bad: the error says row 5.
    text = b"ds,channel,contacts\n2024-01-01 08:00,chat,1\n\n2024-01-01 08:30,chat,2\n" \
           b"2024-01-01 09:00,chat,x\n"
    with pytest.raises(BadValueError, match=r"row 5 \('x'\)"):
        load_contacts(io.BytesIO(text))
    ok = load_contacts(io.BytesIO(text.replace(b",x", b",3")))
    assert ok["contacts"].tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "error", "snippet"),
    [
        (b"ds,orders\n2024-01-01,5\n2024-01-02,-1\n", BadValueError, "row 3 (-1)"),
        (b"ds,orders\n2024-01-01,5\n2024-01-01,6\n", DuplicateRowError, "row 2"),
        (b"ds,orders\n2024-01-01,5\n2024-13-45,6\n", BadTimestampError, "row 3 ('2024-13-45')"),
        (b"day,orders\n2024-01-01,5\n2024-01-02,lots\n", BadValueError, "row 3 ('lots')"),
    ],
)
def test_bad_orders(text, error, snippet):
    up = io.BytesIO(text)
    up.name = "orders.csv"
    with pytest.raises(error) as info:
        load_orders(up)
    assert str(info.value).startswith("orders.csv: column '")
    assert snippet in str(info.value)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 50), min_size=2, max_size=40),
    open_from=st.integers(0, 12),
    open_len=st.integers(1, 12),
)
def test_fill_closed_hours_keeps_totals_and_adds_only_closed_zeros(counts, open_from, open_len):
    # Hourly rows inside opening hours on consecutive days; filling adds exactly the closed
    # hours of each day (24 - open_len per day), all zero, and keeps every original row.
    open_to = open_from + open_len
    per_day = [h for h in range(24) if open_from <= h < open_to]
    stamps = [pd.Timestamp("2024-01-01") + pd.Timedelta(days=i // len(per_day),
                                                        hours=per_day[i % len(per_day)])
              for i in range(len(counts))]
    c = pd.DataFrame({"ds": stamps, "channel": "voice", "contacts": counts})
    filled = fill_closed_hours(c, 3600, (open_from, open_to))
    n_days = (len(counts) - 1) // len(per_day) + 1
    assert filled.attrs["filled_rows"] == n_days * (24 - open_len)
    assert filled["contacts"].sum() == sum(counts)
    added = filled[~filled["ds"].isin(c["ds"])]
    assert added["contacts"].eq(0).all()
    assert not added["ds"].dt.hour.between(open_from, open_to - 1).any()
