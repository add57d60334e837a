"""Export: the CSV and the Excel workbook read back (csv module, openpyxl) match the plan."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pandas as pd
import pytest

from planner.export import EXPORT_COLUMNS, ExportError, export_csv, export_excel
from staffing.kpis import achieved_kpis, daily_kpis
from staffing.policy import ChannelPolicy
from staffing.shifts import ShiftRules, ShiftType, solve_shifts

DAY = pd.Timestamp("2024-11-29")
H = 3600


@pytest.fixture(scope="module")
def plan():
    # voice 08:00-16:00 needs 1, 2 at 12:00-13:00 (two shifts, breaks away from the peak);
    # chat needs 1 from 16:00 to midnight except 19:00-19:30 (one shift ending at 24:00,
    # its break at 19:00).
    st = ShiftType("8h", 8 * H, 1800, False, (2 * H, 5 * H))
    rules = ShiftRules(
        (st,), open_hours={"voice": ("08:00", "16:00"), "chat": ("16:00", "24:00")},
        relative_gap=0.0,
    )
    ds = DAY + pd.to_timedelta(np.arange(16) * 1800 + 8 * H, "s")
    voice = [1] * 16
    voice[8] = voice[9] = 2
    chat = [1] * 16
    chat[6] = 0
    req = pd.concat([
        pd.DataFrame({"channel": "voice", "ds": ds, "rostered": voice}),
        pd.DataFrame({"channel": "chat", "ds": ds + pd.Timedelta(hours=8), "rostered": chat}),
    ])
    return solve_shifts(req, rules, interval_s=1800)


def test_csv_has_header_iso_dates_and_clock_times(plan, tmp_path):
    path = export_csv(plan.shift_plan, tmp_path / "plan.csv")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == EXPORT_COLUMNS
    body = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert sum(int(r["agents"]) for r in body) == plan.shift_plan["agents"].sum() == 3
    chat = [r for r in body if r["channel"] == "chat"]
    assert [(r["date"], r["shift_start"], r["shift_end"], r["break_start"]) for r in chat] == [
        ("2024-11-29", "16:00", "24:00", "19:00")
    ]
    voice = [r for r in body if r["channel"] == "voice"]
    assert {r["shift_start"] for r in voice} == {"08:00"}
    assert all(r["break_start"] not in ("12:00", "12:30") for r in voice)
    assert all(float(r["paid_hours"]) == 7.5 for r in body)


def test_workbook_sheets_and_values(plan, tmp_path):
    ds = plan.coverage["ds"]
    vol = pd.DataFrame({"channel": plan.coverage["channel"], "ds": ds, "volume": 20.0,
                        "aht_s": 180.0})
    pol = [ChannelPolicy("voice", shrinkage=0.3), ChannelPolicy("chat", shrinkage=0.3)]
    k = achieved_kpis(vol, plan.coverage[["channel", "ds", "scheduled"]], pol, 1800)
    daily = daily_kpis(k, plan.shift_plan)
    path = export_excel(
        tmp_path / "plan.xlsx", plan.shift_plan, plan.coverage, daily,
        {"interval_s": 1800, "voice": pol[0], "rules": {"start_grid_s": 1800}},
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Shift plan", "Coverage", "KPIs", "Assumptions"]

    sp = list(wb["Shift plan"].values)
    assert list(sp[0]) == EXPORT_COLUMNS
    assert len(sp) - 1 == len(plan.shift_plan)
    first = dict(zip(sp[0], sp[1], strict=True))
    row = plan.shift_plan.sort_values(["date", "channel", "shift_start"]).iloc[0]
    assert first["date"] == "2024-11-29" and first["channel"] == row["channel"]
    assert first["shift_start"] == row["shift_start"].strftime("%H:%M")
    assert first["agents"] == row["agents"]

    cov = list(wb["Coverage"].values)
    assert list(cov[0]) == ["date", "time", "channel", "required", "scheduled", "gap", "short"]
    assert len(cov) - 1 == len(plan.coverage)
    assert sum(r[3] for r in cov[1:]) == plan.coverage["required"].sum() == 18 + 15
    peak = [r for r in cov[1:] if r[2] == "voice" and r[1] == "12:00"][0]
    assert peak[3] == 2 and peak[4] == 2 and peak[6] == 0

    kp = list(wb["KPIs"].values)
    head = list(kp[0])
    assert head[:2] == ["date", "channel"] and "service_level" in head
    by_channel = {r[1]: dict(zip(head, r, strict=True)) for r in kp[1:]}
    assert by_channel["voice"]["paid_hours"] == pytest.approx(15.0)
    assert by_channel["chat"]["paid_hours"] == pytest.approx(7.5)
    sl = daily.set_index("channel").loc["voice", "service_level"]
    assert by_channel["voice"]["service_level"] == pytest.approx(sl, abs=1e-4)

    assumptions = {r[0]: r[1] for r in list(wb["Assumptions"].values)[1:]}
    assert assumptions["interval_s"] == 1800
    assert assumptions["voice.shrinkage"] == 0.3
    assert assumptions["rules.start_grid_s"] == 1800


def test_missing_columns_are_named(tmp_path):
    with pytest.raises(ExportError, match="agents"):
        export_csv(pd.DataFrame({"date": [DAY], "channel": ["voice"]}), tmp_path / "x.csv")


# ---------------------------------------------------------------- hostile text
HOSTILE = ["=1+1", "+3+4", "-2+3", "@sum(A1:A2)", '=HYPERLINK("http://x.invalid","go")',
           "\t=1+1", "\r=1+1"]


def _hostile_plan() -> pd.DataFrame:
    n = len(HOSTILE)
    start = pd.Timestamp("2024-11-29 08:00")
    return pd.DataFrame({
        "date": [DAY] * n, "channel": HOSTILE,
        "shift_start": [start] * n, "shift_end": [start + pd.Timedelta(hours=8)] * n,
        "break_start": [start + pd.Timedelta(hours=4)] * n, "agents": list(range(1, n + 1)),
    })


def test_formula_text_is_written_as_text_in_csv_and_workbook(tmp_path):
    plan = _hostile_plan()
    path = export_csv(plan, tmp_path / "plan.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # OWASP: a leading quote in front of = + - @ tab CR; the rest of the text unchanged
    # but for line breaks, written as LF (a lone CR split the row in two).
    want = sorted("'" + h.replace("\r", "\n") for h in HOSTILE)
    assert sorted(r["channel"] for r in rows) == want
    assert sorted(int(r["agents"]) for r in rows) == list(range(1, len(HOSTILE) + 1))

    scenario = {"name": "=1+1", "description": "@sum(1)", "channels": {"-2+3": {"x": 1}}}
    book = export_excel(tmp_path / "plan.xlsx", plan, assumptions=scenario)
    wb = openpyxl.load_workbook(book)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    shown = {c.value for c in cells if isinstance(c.value, str)}
    # the workbook keeps the text as typed (but for line breaks): typed text cells with a
    # quote prefix, which a spreadsheet shows and never evaluates
    as_typed = {h.replace("\r\n", "\n").replace("\r", "\n") for h in HOSTILE}
    assert as_typed <= shown
    assert all(c.quotePrefix for c in cells
               if c.value in as_typed and c.value.startswith(("=", "+", "-", "@", "\t")))
    assert {"=1+1", "@sum(1)", "channels.-2+3.x"} <= shown
    agents = [c.value for c in wb["Shift plan"]["H"][1:]]
    assert sorted(agents) == list(range(1, len(HOSTILE) + 1))  # numbers stay numbers
    assert {c.data_type for c in wb["Shift plan"]["H"][1:]} == {"n"}


def test_unwritable_characters_from_data_do_not_break_the_workbook(tmp_path):
    plan = _hostile_plan().iloc[:1].assign(channel=["chat\x01\x1f"])
    wb = openpyxl.load_workbook(export_excel(tmp_path / "plan.xlsx", plan))
    assert wb["Shift plan"]["B2"].value == "chat\ufffd\ufffd"


def test_failed_export_leaves_no_partial_file(tmp_path, monkeypatch):
    from planner import export

    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"previous export")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export.pd.DataFrame, "to_excel", boom)
    with pytest.raises(OSError, match="disk full"):
        export_excel(target, _hostile_plan())
    assert target.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_staging_dir_moves_files_only_on_success(tmp_path):
    from planner.export import staging_dir, write_csv

    out = tmp_path / "new"
    with pytest.raises(RuntimeError), staging_dir(out) as tmp:
        write_csv(pd.DataFrame({"a": [1]}), tmp / "a.csv")
        raise RuntimeError("half-way")
    assert list(tmp_path.iterdir()) == []
    with staging_dir(out) as tmp:
        write_csv(pd.DataFrame({"a": [1]}), tmp / "a.csv")
    assert [p.name for p in out.iterdir()] == ["a.csv"]
    with pytest.raises(RuntimeError), staging_dir(out) as tmp:
        write_csv(pd.DataFrame({"a": [2]}), tmp / "a.csv")
        raise RuntimeError("half-way")
    assert [p.name for p in out.iterdir()] == ["a.csv"]
    assert (out / "a.csv").read_text() == "a\n1\n"


def test_night_shift_times_carry_the_day_as_a_suffix_not_a_formula(tmp_path):
    # A shift from 22:00 to 06:00 next day, break at 01:00: the next-day times are written
    # "06:00+1" / "01:00+1", so no cell starts with "+" and none needs an apostrophe.
    day = pd.Timestamp("2024-11-29")
    sp = pd.DataFrame({
        "date": [day], "channel": ["voice"], "shift": ["8h"],
        "shift_start": [day + pd.Timedelta(hours=22)],
        "shift_end": [day + pd.Timedelta(hours=30)],
        "break_start": [day + pd.Timedelta(hours=25)],
        "break_end": [day + pd.Timedelta(hours=25, minutes=30)],
        "agents": [4], "paid_hours": [7.5],
    })
    with open(export_csv(sp, tmp_path / "night.csv"), newline="") as fh:
        row = list(csv.DictReader(fh))[0]
    assert (row["shift_start"], row["shift_end"], row["break_start"], row["break_end"]) == (
        "22:00", "06:00+1", "01:00+1", "01:30+1")
