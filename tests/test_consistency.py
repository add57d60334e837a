"""One truth per number: every figure the app, the CLI and the workbook show is the core's.

Each example scenario (``scenarios/base.yaml``, ``high_cr_fixed_headcount``,
``low_cr_bots_fixed_headcount``) and a variant of the base with a headcount cap shared by
all channels is planned over one peak week (Mon 25 Nov - Sun 1 Dec 2024, Black Friday
and Cyber Monday inside; the scenario's own horizon is cut so the file runs in minutes)
three ways:

* the core, :func:`planner.pipeline.run` (with and without the shift solver: the
  Staffing page shows the requirement before shift planning);
* the CLI, ``python -m planner run SCENARIO.yaml --out DIR`` (its printed summary and
  shift-plan line, the CSV files and the ``plan.xlsx`` workbook it writes);
* the app, driven headless with ``streamlit.testing.v1.AppTest`` with the scenario in its
  session: the Forecast, Staffing, Shift plan, Scenarios and Export pages.

Every figure a page or a file shows (paid hours and their lower bound, FTE, service
level, ASA, backlog, unserved hours, daily contacts after the scenario's assumptions)
must equal the :class:`~planner.results.ScenarioResult` field it stands for, at the
precision it is shown with. The expected values are the result's frames, read here with
plain pandas sums (no app or CLI code), so a figure computed a second time somewhere
else, from different inputs, fails here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from planner.cli import main as cli_main
from planner.compare import compare
from planner.pipeline import run
from planner.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
WEEK = {"horizon.start": dt.date(2024, 11, 25), "horizon.end": dt.date(2024, 12, 1)}
CASES = ["base", "high_cr_fixed_headcount", "low_cr_bots_fixed_headcount", "base_shared_cap"]
SHARED_CAP = 150  # agents over all channels: binds the shift plan and the busiest intervals


def _scenario(case: str) -> Scenario:
    name = "base" if case == "base_shared_cap" else case
    s = load_scenario(ROOT / "scenarios" / f"{name}.yaml").with_changes(WEEK)
    if case == "base_shared_cap":
        s = s.with_changes({"name": case, "headcount_cap_total": SHARED_CAP})
    return s


def _num(text: str) -> float:
    """A number as a page shows it: ``1,234.5``, ``93.1%`` (as a share), ``n/a``."""
    text = text.strip()
    if text in ("n/a", "-", "nan"):
        return float("nan")
    if text.endswith("%"):
        return float(text[:-1].replace(",", "")) / 100
    return float(text.replace(",", ""))


def _shown(value: float, shown: str, decimals: int) -> None:
    """``shown`` is ``value`` rounded to ``decimals`` (0.5 ulp of the last digit)."""
    got = _num(shown)
    if np.isnan(value):
        assert np.isnan(got), (value, shown)
        return
    assert got == pytest.approx(value, abs=0.5 * 10.0 ** -decimals + 1e-9), (value, shown)


# ---------------------------------------------------------------------------- the three ways
def _core(case: str):
    s = _scenario(case)
    return s, run(s), run(s.with_changes({"shifts.solve": False}))


def _cli(s: Scenario, folder: Path, capsys) -> str:
    path = folder / f"{s.name}.yaml"
    path.write_text(s.to_yaml())
    capsys.readouterr()
    code = cli_main(["run", str(path), "--out", str(folder / "out"), "-q"])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def _cli_summary(stdout: str) -> pd.DataFrame:
    """The per-channel table ``python -m planner run`` prints, as text cells."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["channel"])
    header = lines[start].split()
    rows = []
    for line in lines[start + 1:]:
        cells = line.split()
        if len(cells) != len(header):
            break
        rows.append(cells)
    return pd.DataFrame(rows, columns=header).set_index("channel")


def _metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} among {[m.label for m in at.metric]}"
    return found[0]


def _metrics(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def _chart_frames(at: AppTest) -> list[pd.DataFrame]:
    """The data sets behind the page's Altair charts (as Streamlit sends them)."""
    frames = []
    for chart in at.get("vega_lite_chart"):
        for ds in chart.proto.datasets:
            frames.append(pa.ipc.open_stream(ds.data.data).read_all().to_pandas())
    return frames


def _app(s: Scenario) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.session_state["scenario"] = s  # as "Load" on the Scenarios page leaves it
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(autouse=True)
def _private_store(tmp_path, monkeypatch):
    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'consistency.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))


# ---------------------------------------------------------------------------- expected values
def _daily_contacts(result) -> pd.DataFrame:
    """Contacts per channel and day after the scenario's assumptions: the result's
    interval volumes at the expected demand, summed per day."""
    v = result.volumes
    return (v.assign(date=pd.to_datetime(v["ds"]).dt.normalize())
            .groupby(["channel", "date"])["volume_mean"].sum())


def _plan_hours(plan: pd.DataFrame) -> float:
    """Paid hours of a shift plan table: agents x paid hours of their shift, summed."""
    return float((plan["agents"] * plan["paid_hours"]).sum())


def _short_hours(result) -> pd.Series:
    cov = result.coverage
    short = np.clip(cov["required"] - cov["scheduled"], 0, None)
    return short.groupby(cov["channel"]).sum() * result.meta["interval_s"] / 3600


# ---------------------------------------------------------------------------- the test
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_every_shown_figure_is_the_results(case, tmp_path, capsys):
    s, r, r0 = _core(case)
    channels = list(s.channels)
    summary = r.summary().set_index("channel")
    summary0 = r0.summary().set_index("channel")
    totals = compare({s.name: r}).totals.iloc[0]
    totals0 = compare({s.name: r0}).totals.iloc[0]
    interval_h = r.meta["interval_s"] / 3600

    # the result agrees with itself: paid hours of the plan = of the daily KPIs = weekly;
    # unserved agent-hours = the coverage's shortfall
    assert r.meta["shift_paid_hours"] == pytest.approx(r.kpis_daily["paid_hours"].sum())
    assert r.meta["shift_paid_hours"] == pytest.approx(r.weekly["paid_hours"].sum())
    assert r.meta["shift_paid_hours"] == pytest.approx(_plan_hours(r.shift_plan))
    assert r.meta["shift_paid_hours_bound"] <= r.meta["shift_paid_hours"] + 1e-6
    assert r.meta["short_agent_hours"] == pytest.approx(_short_hours(r).sum())
    assert r0.meta["short_agent_hours"] == pytest.approx(_short_hours(r0).sum())
    capped = s.headcount_cap_total is not None or any(
        c.headcount_cap is not None for c in s.channels.values())
    assert (r.meta["short_agent_hours"] > 0) == capped  # every cap here binds

    # ------------------------------------------------------------------ CLI
    stdout = _cli(s, tmp_path, capsys)
    out = tmp_path / "out"
    printed = _cli_summary(stdout)
    for ch in channels:
        row, want = printed.loc[ch], summary.loc[ch]
        _shown(want.paid_hours, row["paid_hours"], 0)
        _shown(want.avg_fte, row["avg_fte"], 1)
        _shown(want.peak_week_fte, row["peak_week_fte"], 1)
        _shown(want.service_level, row["service_level"], 3)
        _shown(want.asa_s, row["asa_s"], 1)
        _shown(want.max_backlog_items, row["max_backlog_items"], 0)
    m = re.search(r"Shift plan: (.+); paid hours ([\d,]+) \(lower bound ([\d,]+)\); "
                  r"unserved ([\d,]+) agent-hours", stdout)
    assert m, stdout
    assert m.group(1) == r.meta["shift_quality"]
    _shown(r.meta["shift_paid_hours"], m.group(2), 0)
    _shown(r.meta["shift_paid_hours_bound"], m.group(3), 0)
    _shown(r.meta["short_agent_hours"], m.group(4), 0)
    kpis_csv = pd.read_csv(out / "kpis_daily.csv")
    want_kpis = r.kpis_daily.reset_index(drop=True)
    assert kpis_csv["date"].tolist() == pd.to_datetime(want_kpis["date"]).dt.strftime(
        "%Y-%m-%d").tolist()
    for col in ("paid_hours", "service_level", "asa_s", "backlog_items"):
        np.testing.assert_allclose(kpis_csv[col], want_kpis[col], rtol=1e-12, err_msg=col)
    weekly_csv = pd.read_csv(out / "weekly.csv")
    for col in ("paid_hours", "fte", "cost"):
        np.testing.assert_allclose(weekly_csv[col], r.weekly[col], rtol=1e-12, err_msg=col)
    plan_csv = pd.read_csv(out / "shift_plan.csv")
    assert int(plan_csv["agents"].sum()) == int(r.shift_plan["agents"].sum())

    book = pd.read_excel(out / "plan.xlsx", sheet_name=None)
    np.testing.assert_allclose(_plan_hours(book["Shift plan"]), r.meta["shift_paid_hours"],
                               rtol=1e-12)
    kpis_xl = book["KPIs"]
    for col in ("paid_hours", "service_level", "asa_s", "backlog_items"):
        np.testing.assert_allclose(kpis_xl[col], want_kpis[col].round(4), rtol=1e-12,
                                   err_msg=col)
    cov_xl = book["Coverage"]
    assert cov_xl["short"].sum() * interval_h == pytest.approx(r.meta["short_agent_hours"])
    assert cov_xl["required"].sum() == r.coverage["required"].sum()
    # the Summary sheet: the plan's paid hours, bound, FTE, cost and unserved hours
    summ = book["Summary"].set_index("Channel")
    all_ = summ.loc["all"]
    assert all_["Paid hours"] == pytest.approx(r.meta["shift_paid_hours"], abs=1e-4)
    assert all_["Paid hours, lower bound"] == pytest.approx(r.meta["shift_paid_hours_bound"],
                                                            abs=1e-4)
    assert all_["Shift plan quality"] == r.meta["shift_quality"]
    assert all_["Unserved agent-hours"] == pytest.approx(r.meta["short_agent_hours"], abs=1e-4)
    assert all_["Average FTE"] == pytest.approx(totals.avg_fte, abs=1e-4)
    assert all_["Cost"] == pytest.approx(totals.cost, abs=1e-4)
    for ch, hours in _short_hours(r).items():
        assert summ.loc[ch, "Unserved agent-hours"] == pytest.approx(hours, abs=1e-4)
        assert summ.loc[ch, "Average FTE"] == pytest.approx(summary.loc[ch, "avg_fte"],
                                                            abs=1e-4)

    # ------------------------------------------------------------------ app
    at = _app(s)

    # Forecast: daily contacts per channel after the scenario's assumptions
    at.switch_page("app_support/pages/forecast.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    want_daily = _daily_contacts(r)
    for ch in channels:
        at.selectbox(key="forecast_series").set_value(ch).run()
        shown = next(f for f in _chart_frames(at) if "yhat" in f and "unique_id" in f)
        shown = shown.set_index(pd.to_datetime(shown["ds"]).dt.normalize())["yhat"]
        np.testing.assert_allclose(shown.to_numpy(), want_daily.loc[ch].to_numpy(),
                                   rtol=1e-9, err_msg=ch)
        assert list(shown.index) == list(want_daily.loc[ch].index)

    # Staffing: FTE before shift planning (each interval staffed on its own) and the
    # unserved hours a cap leaves there
    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    _shown(totals0.avg_fte, _metric(at, "All channels: FTE before shifts (average)"), 1)
    captions = [c.value for c in at.caption]
    assert (f"Peak week {totals0.peak_week_fte:,.1f} FTE - {totals0.paid_hours:,.0f} paid "
            "hours") in captions
    for ch in channels:
        _shown(summary0.loc[ch, "avg_fte"], _metric(at, f"{ch}: FTE before shifts (average)"),
               1)
        want = summary0.loc[ch]
        assert f"Peak week {want.peak_week_fte:,.1f} FTE - {want.paid_hours:,.0f} paid hours" \
            in captions
    warned = [w.value for w in at.warning if "unserved" in w.value]
    if r0.meta["short_agent_hours"] > 0:
        assert len(warned) == 1
        m = re.search(r"leaves ([\d,]+) agent-hours", warned[0])
        _shown(r0.meta["short_agent_hours"], m.group(1), 0)
        for ch, hours in _short_hours(r0).items():
            if hours > 0:
                assert f"{ch} {hours:,.0f}" in warned[0]
    else:
        assert not warned

    # Shift plan: paid hours of the plan chosen, their lower bound, understaffed intervals
    at.switch_page("app_support/pages/shifts.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    _shown(r.meta["shift_paid_hours"], _metric(at, "Paid hours (plan)"), 0)
    _shown(r.meta["shift_paid_hours_bound"], _metric(at, "Lower bound, paid hours"), 0)
    assert _metric(at, "Plan quality") == r.meta["shift_quality"]
    n_under = int((r.coverage["scheduled"] < r.coverage["required"]).sum())
    assert _metric(at, "Understaffed intervals") == f"{n_under:,}"

    # Scenarios: run it, then the comparison card (FTE of the shift plan, cost, SL, backlog)
    at.switch_page("app_support/pages/scenarios.py").run()
    at.button(key="sc_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["scenario"] == s  # the editor kept every assumption
    [fte] = _metrics(at, "Average FTE")
    _shown(totals.avg_fte, fte, 1)
    [cost] = _metrics(at, "Cost")
    _shown(totals.cost, cost, 0)
    for ch in channels:
        if s.channels[ch].model == "deferred":
            [backlog] = _metrics(at, f"{ch}: max backlog, items")
            _shown(summary.loc[ch, "max_backlog_items"], backlog, 0)
        else:
            [sl] = _metrics(at, f"{ch}: service level")
            _shown(summary.loc[ch, "service_level"], sl, 3)

    # Export: the plan table and the workbook the download button offers
    at.switch_page("app_support/pages/export.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = next(d.value for d in at.dataframe if "paid_hours" in d.value.columns)
    assert _plan_hours(table) == pytest.approx(r.meta["shift_paid_hours"])
    assert _metric(at, "Shift rows in the plan") == f"{len(r.shift_plan):,}"
    from app_support.backend import plan_files

    app_book = pd.read_excel(io.BytesIO(plan_files(r)["plan.xlsx"]), sheet_name=None)
    for sheet in ("Shift plan", "Coverage", "KPIs", "Summary"):
        pd.testing.assert_frame_equal(app_book[sheet], book[sheet], obj=sheet)


def test_unserved_hours_and_totals_by_hand():
    from planner.results import ScenarioResult
    from planner.scenario import Scenario

    s = Scenario(name="hand")  # chat, voice and email by default
    cov = pd.DataFrame({
        "channel": ["chat", "chat", "chat", "voice"],
        "ds": pd.to_datetime(["2024-11-29 10:00", "2024-11-29 10:30", "2024-11-29 11:00",
                              "2024-11-29 10:00"]),
        "required": [10, 12, 8, 5], "scheduled": [10.0, 9.0, 6.0, 5.0],
        "gap": [0.0, -3.0, -2.0, 0.0], "short": [0.0, 3.0, 2.0, 0.0]})
    # two weeks: 7 days at 100 FTE, then 3 days at 130 FTE (chat 80 + voice 50)
    weekly = pd.DataFrame({
        "week": pd.to_datetime(["2024-11-18", "2024-11-18", "2024-11-25", "2024-11-25"]),
        "channel": ["chat", "voice", "chat", "voice"], "days": [7, 7, 3, 3],
        "paid_hours": [2400.0, 1600.0, 1200.0, 900.0], "fte": [60.0, 40.0, 80.0, 50.0],
        "cost": [48000.0, 32000.0, 24000.0, 18000.0]})
    r = ScenarioResult(scenario=s, coverage=cov, weekly=weekly, meta={"interval_s": 1800})
    u = r.unserved().set_index("channel")
    # (3 + 2) agents short for half an hour each = 2.5 agent-hours over 2 intervals
    assert u.loc["chat"].tolist() == [2, 2.5]
    assert u.loc["voice"].tolist() == [0, 0.0]
    assert u.loc["email"].tolist() == [0, 0.0]
    t = r.totals()
    assert t["paid_hours"] == 6100.0 and t["cost"] == 122000.0
    assert t["avg_fte"] == pytest.approx((100 * 7 + 130 * 3) / 10)  # 109
    assert t["peak_week_fte"] == 130.0
