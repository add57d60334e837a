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
