"""The one-page peak report (planner.report) and ``python -m planner report``.

Two small hand-made results: 'base' plans chat for two weeks at 10 and 12 FTE (cost 8,000
and 9,600 = 17,600), 'lean' at 8 and 9 FTE (6,400 + 7,200 = 13,600, so 4,000 less). Their
demand is 3 intervals of 100, 150 and 250 contacts (500 in all) and 3 x 80 = 240. The
daily chat service levels are 0.9, 0.85, 0.7 (base) and 0.6, 0.95, 0.75 (lean): with the
80 % target the lowest days are 70.0 % and 60.0 %, and base has 1 day below target, lean 2.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from planner.report import daily_demand, peak_report, write_report
from planner.results import ScenarioResult
from planner.scenario import Scenario

DAYS = pd.to_datetime(["2024-11-04", "2024-11-05", "2024-11-11"])


def _result(name: str, fte: list[float], sl: list[float], volume: list[float],
            target: float = 0.8) -> ScenarioResult:
    scenario = Scenario(name=name).with_changes({"channels.chat.target_sl": target})
    weeks = pd.to_datetime(["2024-11-04", "2024-11-11"])
    weekly = pd.DataFrame({"week": weeks, "channel": "chat", "days": 7,
                           "paid_hours": [f * 40 for f in fte], "fte": fte,
                           "cost": [f * 40 * 20.0 for f in fte]})
    daily = pd.DataFrame({"date": DAYS, "channel": "chat", "service_level": sl,
                          "paid_hours": [1.0, 1.0, 1.0]})
    volumes = pd.DataFrame({"channel": "chat", "ds": DAYS + pd.Timedelta(hours=9),
                            "volume": volume, "aht_s": 300.0})
    return ScenarioResult(scenario, volumes=volumes, kpis_daily=daily, weekly=weekly)


def _text(html: str) -> str:
    """The page's text layer: tags removed, entities as in a browser's copy."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&")


def test_daily_demand_sums_the_intervals_of_each_day():
    r = _result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250])
    d = daily_demand(r)
    assert d["volume"].tolist() == [100, 150, 250]


def test_comparison_report_shows_names_assumptions_and_charted_figures():
    base = _result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250])
    lean = _result("lean", [8, 9], [0.6, 0.95, 0.75], [80, 80, 80], target=0.9)
    html = peak_report([base, lean])
    text = _text(html)
    assert "Peak report: base vs lean" in text
    assert "17,600" in text and "13,600" in text and "-4,000" in text  # cost, vs baseline
    assert "Chat service level target 80% 90%" in text.replace(":", "")  # what differs
    for week_fte in ("10.0", "12.0", "8.0", "9.0"):
        assert week_fte in text
    assert "500" in text and "240" in text  # contacts over the horizon
    assert "70.0%" in text and "60.0%" in text  # lowest days
    assert html.count("<svg") == 3  # demand, FTE by week, chat service level
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")
    # the baseline is always the same dark grey, the other scenario the first other colour
    assert 'stroke="#4D4D4D"' in html and 'stroke="#D55E00"' in html


def test_single_scenario_report_lists_its_key_assumptions(tmp_path):
    base = _result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250])
    path = write_report(tmp_path / "r.html", [base])
    text = _text(path.read_text(encoding="utf-8"))
    assert "Peak report: base" in text and "What differs" not in text
    assert "80% within 60 s" in text  # chat's default target: 80 % within 60 s
    assert "Days below target" in text


def test_cli_report_from_saved_scenarios(tmp_path, capsys):
    from planner.cli import main
    from planner.store import Store

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with Store(url) as store:
        store.save(_result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250]))
        store.save(_result("lean", [8, 9], [0.6, 0.95, 0.75], [80, 80, 80]))
    out = tmp_path / "peak.html"
    assert main(["report", "base", "lean@1", "--db", url, "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    text = _text(out.read_text(encoding="utf-8"))
    assert "Peak report: base vs lean@1" in text and "17,600" in text
    assert main(["report", "nope", "--db", url, "--out", str(out)]) == 4  # not found


def test_weekly_by_channel_adds_the_all_channels_rows():
    from planner.compare import compare
    from planner.report import ALL_CHANNELS, weekly_by_channel

    base = _result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250])
    extra = base.weekly.assign(channel="voice", fte=[5.0, 6.0], cost=[4000.0, 4800.0])
    two = ScenarioResult(base.scenario, weekly=pd.concat([base.weekly, extra]),
                         kpis_daily=base.kpis_daily)
    w = weekly_by_channel(compare([two]))
    total = w[w["channel"] == ALL_CHANNELS]
    assert total["fte"].tolist() == [15.0, 18.0]  # 10 + 5, 12 + 6
    assert total["cost"].tolist() == [12000.0, 14400.0]  # 8,000 + 4,000; 9,600 + 4,800


def test_date_hour_grid_weights_service_level_by_volume_and_takes_the_worst_short():
    from planner.report import date_hour_grid

    ds = pd.to_datetime(["2024-11-29 09:00", "2024-11-29 09:30", "2024-11-29 10:00"])
    kpis = pd.DataFrame({"channel": "chat", "ds": ds, "volume": [30.0, 10.0, 0.0],
                         "sl": [0.9, 0.5, 0.0]})
    cov = pd.DataFrame({"channel": "chat", "ds": ds, "required": [5, 8, 3],
                        "scheduled": [5, 6, 1], "short": [0.0, 2.0, 2.0]})
    r = ScenarioResult(Scenario(name="x"), kpis_interval=kpis, coverage=cov)
    sl = date_hour_grid(r, "chat", "service_level")
    # (30 x 0.9 + 10 x 0.5) / 40 = 0.8; the 10:00 hour has no contacts and is left out
    assert sl["hour"].tolist() == [9] and sl["value"].tolist() == [pytest.approx(0.8)]
    short = date_hour_grid(r, "chat", "short_agents")
    assert short["value"].tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="short_agents"):
        date_hour_grid(r, "chat", "occupancy")


def test_hiring_section_when_the_scenario_has_capacity_settings():
    from planner.scenario import load_scenario

    s = load_scenario("scenarios/peak_hiring.yaml")  # has a capacity section
    weeks = pd.date_range("2024-09-30", "2024-12-30", freq="W-MON")
    weekly = pd.DataFrame([{"week": w, "channel": ch, "days": 7, "paid_hours": f * 40,
                            "fte": f, "cost": f * 40 * 20.0}
                           for ch, f in (("chat", 90.0), ("voice", 70.0), ("email", 40.0))
                           for w in weeks])
    text = _text(peak_report([ScenarioResult(s, weekly=weekly)]))
    assert "Hiring (capacity plan)" in text
    assert "Hires" in text and "Latest hiring decision" in text
    # without capacity settings there is no hiring section
    base = _result("base", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250])
    assert "Hiring" not in _text(peak_report([base]))


def _with_email(r: ScenarioResult, items: list[float]) -> ScenarioResult:
    """``r`` with a deferred email channel whose daily backlog is ``items``."""
    from dataclasses import replace

    email = pd.DataFrame({"date": DAYS, "channel": "email", "service_level": float("nan"),
                          "paid_hours": 1.0, "backlog_items": items,
                          "backlog_age_h": [1.0, 2.0, 3.0]})
    return replace(r, kpis_daily=pd.concat([r.kpis_daily, email], ignore_index=True))


def test_backlog_table_lists_the_baseline_first_and_names_read_with_their_colon():
    # labels in the order given, baseline first: qa_low (largest backlog 9 items), then
    # qa_high (90), although qa_high sorts first; each name is followed by its colon
    low = _with_email(_result("qa_low", [10, 12], [0.9, 0.85, 0.7], [100, 150, 250]),
                      [5.0, 7.0, 9.0])
    high = _with_email(_result("qa_high", [8, 9], [0.6, 0.95, 0.75], [80, 80, 80]),
                       [50.0, 70.0, 90.0])
    text = _text(peak_report({"qa_low": low, "qa_high": high}, baseline="qa_low"))
    backlog = text[text.index("Email backlog by day"):]
    assert "Oldest item (h) qa_low 9 3.0 qa_high 90 3.0" in backlog
    assert "qa_high: 01 Oct 2024 to 31 Dec 2024" in text
    assert "qa_low (baseline): 01 Oct 2024" in text and " : " not in text
