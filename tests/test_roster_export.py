"""The weekly 5/2 roster as files: ``roster.csv`` rows and the plan workbook's
``Weekly roster`` and ``Roster headcount`` sheets (planner.export.roster_tables).

Hand computation: a voice week needing 4 agents Mon-Fri and 2 on Sat/Sun is 24
agent-days; five-day lines need at least ceil(24 / 5) = 5 lines (Baker 1974), and 5
lines with two consecutive days off can cover it (e.g. 2 off Sat+Sun, 1 off Mon+Tue,
1 off Wed+Thu, 1 off Thu+Fri), so the headcount is 5 and 5 x 5 - 24 = 1 slot is spare.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd

from planner.export import csv_bytes, export_excel, roster_tables
from staffing.roster import weekly_roster


def _plan() -> pd.DataFrame:
    days = pd.date_range("2024-11-25", periods=7)
    return pd.DataFrame({
        "date": days, "channel": "voice", "shift": "8h",
        "shift_start": days + pd.Timedelta(hours=8),
        "shift_end": days + pd.Timedelta(hours=16),
        "break_start": days + pd.Timedelta(hours=12),
        "agents": [4, 4, 4, 4, 4, 2, 2],
    })


def test_roster_csv_has_one_row_per_line_with_24h_shifts():
    tables = roster_tables(weekly_roster(_plan()))
    rows = pd.read_csv(io.BytesIO(csv_bytes(tables["Weekly roster"])))
    assert len(rows) == 5
    assert set(rows["week_start"]) == {"2024-11-25"}
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    cells = rows[days].to_numpy().ravel().tolist()
    assert cells.count("08:00-16:00") == 24  # every agent-day is someone's shift
    assert cells.count("off") == 10  # two days off per line
    assert cells.count("spare") == 1  # 5 lines x 5 days - 24
    assert all(len(d.split("+")) == 2 for d in rows["days_off"])


def test_plan_workbook_has_the_roster_sheets(tmp_path):
    path = export_excel(tmp_path / "plan.xlsx", _plan(), roster=weekly_roster(_plan()))
    wb = openpyxl.load_workbook(path)
    assert {"Weekly roster", "Roster headcount"} <= set(wb.sheetnames)
    head = wb["Roster headcount"]
    header = [c.value for c in head[1]]
    row = dict(zip(header, [c.value for c in head[2]], strict=True))
    assert (row["channel"], row["week_start"], row["headcount"], row["demand_days"]) == (
        "voice", "2024-11-25", 5, 24)
    assert wb["Weekly roster"].max_row == 1 + 5


def test_plan_workbook_formats_and_says_why_dates_are_text(tmp_path):
    kpis = pd.DataFrame({"date": pd.to_datetime(["2024-11-29"]), "channel": ["voice"],
                         "service_level": [0.8125], "paid_hours": [1234.5]})
    path = export_excel(tmp_path / "plan.xlsx", _plan(), kpis=kpis)
    wb = openpyxl.load_workbook(path)
    plan = wb["Shift plan"]
    assert plan.freeze_panes == "A2"
    assert plan["A2"].value == "2024-11-25" and plan["A2"].data_type == "s"  # ISO text kept
    assert "rostering systems import it as written" in plan["A1"].comment.text
    k = wb["KPIs"]
    header = [c.value for c in k[1]]
    sl = k.cell(row=2, column=header.index("service_level") + 1)
    hours = k.cell(row=2, column=header.index("paid_hours") + 1)
    assert (sl.value, sl.number_format) == (0.8125, "0.0%")
    assert hours.number_format == "#,##0.0#"


def test_comparison_workbook_writes_dates_as_dates():
    import datetime as dt

    from app_support import views

    daily = pd.DataFrame({"scenario": ["a"], "date": pd.to_datetime(["2024-11-29"]),
                          "service_level": [0.9]})
    wb = openpyxl.load_workbook(io.BytesIO(views.tables_to_excel({"daily": daily})))
    cell = wb["daily"]["B2"]
    assert cell.value == dt.datetime(2024, 11, 29) and cell.number_format == "yyyy-mm-dd"
    assert wb["daily"]["C2"].number_format == "0.0%"
    assert wb["daily"].freeze_panes == "A2"
