"""What differs between scenarios: the assumptions table of the comparison
(planner.compare.assumption_diff), its workbook sheet and the CLI's CSV.

Expected rows are written by hand from the scenario files in ``scenarios/``: the
bundled ``base.yaml`` leaves the contact rate learned and no headcount cap, the
``high_cr_fixed_headcount.yaml`` file sets the Oct/Nov/Dec contact rates of the bad
peak (6.5 %, 6.9 %, 6.4 %, DESIGN.md) and caps chat, voice and email at 112, 90, 52.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from planner.compare import CompareError, assumption_diff, diff_table, field_label
from planner.scenario import Scenario, load_scenario


def test_bundled_files_differ_in_contact_rate_and_caps():
    base = load_scenario("scenarios/base.yaml")
    high = load_scenario("scenarios/high_cr_fixed_headcount.yaml")
    d = assumption_diff({"base": base, "high": high})
    got = list(zip(d["field"], d["baseline"], d["value"], strict=True))
    assert got == [
        ("Contact rate", "not set", "Oct 6.5%, Nov 6.9%, Dec 6.4%"),
        ("Chat: headcount cap", "not set", "112"),
        ("Voice: headcount cap", "not set", "90"),
        ("Email: headcount cap", "not set", "52"),
    ]
    assert set(d["scenario"]) == {"high"}


def test_units_in_words_and_baseline_not_listed():
    a = Scenario(name="a")
    b = a.with_changes({"channels.voice.threshold_s": 30, "channels.email.response_target_s":
                        172800, "channels.chat.shrinkage": 0.35, "cost_per_paid_hour": 22.5,
                        "shifts.solve": False})
    d = assumption_diff({"b": b, "a": a}, baseline="a").set_index("path")
    assert d.loc["channels.voice.threshold_s", ["baseline", "value"]].tolist() == ["20 s", "30 s"]
    # 86,400 s = 24 h (the default), 172,800 s = 48 h
    assert d.loc["channels.email.response_target_s", "value"] == "48 h"
    assert d.loc["channels.chat.shrinkage", ["baseline", "value"]].tolist() == ["30%", "35%"]
    assert d.loc["cost_per_paid_hour", ["baseline", "value"]].tolist() == ["20.00", "22.50"]
    assert d.loc["shifts.solve", ["field", "baseline", "value"]].tolist() == [
        "Shifts: solve shifts", "yes", "no"]
    assert len(d) == 5


def test_same_assumptions_and_renamed_scenario_give_no_rows():
    a = Scenario(name="a", description="first")
    b = a.with_changes({"name": "b", "description": "second"})
    assert assumption_diff({"a": a, "b": b}).empty


def test_channel_only_one_side_plans_is_one_row():
    a = Scenario(name="a")
    data = a.to_dict()
    del data["channels"]["email"]
    b = Scenario.from_dict(data | {"name": "b"})
    d = assumption_diff({"a": a, "b": b})
    assert d[["field", "baseline", "value"]].values.tolist() == [
        ["Email: channel planned", "yes", "no"]]


def test_unknown_baseline_is_refused():
    with pytest.raises(CompareError, match="baseline 'x'"):
        assumption_diff({"a": Scenario(name="a")}, baseline="x")


def test_field_labels_read_as_words():
    assert field_label("channels.chat.target_sl") == "Chat: service level target"
    assert field_label("shifts.break_min") == "Shifts: break (min)"
    assert field_label("fte_hours_per_week") == "Hours per FTE week"
    # "Days to plan" moves the plan's last day: say so, not "Horizon: end"
    assert field_label("horizon.end") == "Plan: last day (sets the days to plan)"


def test_workbook_first_sheet_lists_what_differs():
    from app_support import views
    from planner.compare import Comparison

    a = Scenario(name="a")
    b = a.with_changes({"name": "b", "order_growth": 0.1})
    empty = pd.DataFrame({"scenario": []})
    comp = Comparison("a", empty, empty, empty, empty, empty, empty,
                      assumptions=assumption_diff({"a": a, "b": b}))
    wb = openpyxl.load_workbook(io.BytesIO(views.tables_to_excel(views.comparison_tables(comp))))
    ws = wb[wb.sheetnames[0]]
    assert wb.sheetnames[0] == "what differs"
    assert [c.value for c in ws[1]] == ["Scenario", "Assumption", "Baseline", "Scenario value"]
    assert [c.value for c in ws[2]] == ["b", "Order growth", "0%", "10%"]
    assert diff_table(comp.assumptions).shape == (1, 4)


def test_cli_compare_prints_and_writes_what_differs(tmp_path, capsys):
    from planner.cli import main
    from planner.store import Store

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with Store(url) as store:
        store.save(Scenario(name="base"))
        store.save(Scenario(name="bots").with_changes({"channels.chat.automation": 0.35}))
    code = main(["compare", "base", "bots", "--db", url, "--out", str(tmp_path / "out")])
    assert code == 0
    text = capsys.readouterr().out
    assert text.index("What differs from the baseline") < text.index("Totals over all channels")
    assert "Chat: automation" in text and "35%" in text
    csv = pd.read_csv(tmp_path / "out" / "compare_assumptions.csv")
    assert csv.values.tolist() == [["bots", "Chat: automation", "0%", "35%"]]


def test_comparison_workbook_reads_in_words_with_shares_as_percentages():
    import datetime as dt

    from app_support import views
    from planner.compare import Comparison

    daily = pd.DataFrame({"scenario": ["a", "b"], "date": pd.to_datetime(["2024-11-29"] * 2),
                          "channel": ["chat", "chat"], "service_level": [0.8125, 0.5],
                          "asa_s": [12.0, 80.5], "backlog_items": [0.0, 3.0]})
    totals = pd.DataFrame({"scenario": ["a", "b"], "avg_fte": [10.0, 12.5],
                           "d_avg_fte": [0.0, 2.5]})
    empty = pd.DataFrame({"scenario": []})
    comp = Comparison("a", totals, empty, empty, daily, empty, empty)
    wb = openpyxl.load_workbook(io.BytesIO(views.tables_to_excel(views.comparison_tables(comp))))
    assert "worst intervals" in wb.sheetnames
    headers = {c.value for ws in wb.worksheets for c in ws[1] if c.value}
    assert not [h for h in headers if "_" in h], headers  # no snake_case anywhere
    d = wb["daily"]
    row = {h.value: c for h, c in zip(d[1], d[2], strict=True)}
    assert row["Date"].value == dt.datetime(2024, 11, 29)
    assert row["Date"].number_format == "yyyy-mm-dd"
    assert (row["Service level"].value, row["Service level"].number_format) == (0.8125, "0.0%")
    assert row["ASA, s"].value == 12.0
    t = wb["totals"]
    assert [c.value for c in t[1]] == ["Scenario", "Average FTE", "Average FTE vs baseline"]
    assert [c.value for c in t[3]] == ["b", 12.5, 2.5]
