"""Capacity plan: hires, ramp, attrition and levers against hand computation and brute force.

References are independent of the module: attrition compounded week by week in a loop,
class output written out by hand, and small instances solved by enumerating every class
plan (each week's overtime, BPO and shortfall then follow greedily by unit cost).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from planner.capacity import (
    CapacityError,
    CapacitySettings,
    capacity_plan,
    class_output,
    plan_capacity,
    required_fte,
)
from planner.results import ScenarioResult
from planner.scenario import Scenario, ScenarioError

MONDAY = pd.Timestamp("2024-01-01")  # a Monday
HOURS = 40.0


def _req(values, channel="chat", start=MONDAY):
    weeks = pd.date_range(start, periods=len(values), freq="7D")
    return pd.DataFrame({"week": weeks, "channel": channel, "required_fte": values})


def _settings(**kw):
    base = dict(attrition_weekly=0.0, recruiting_weeks=1, training_weeks=1, ramp=(),
                class_min=1, class_max=50, classes_per_week=1, overtime_cap=0.0,
                bpo_fte=0.0, cost_per_hire=100.0, mip_gap=0.0)
    return CapacitySettings(**{**base, **kw})


# ------------------------------------------------------------------ attrition and ramp
def test_attrition_compounds_like_the_closed_form():
    # no hiring possible (zero classes a week), nothing required: today's 120 agents decay
    s = _settings(attrition_weekly=0.02, classes_per_week=0, headcount={"chat": 120.0})
    plan = plan_capacity(_req([0.0] * 12), s, {"chat": 20.0}, HOURS)
    tenured = plan.weekly["tenured_fte"].to_numpy()
    h, loop = 120.0, []
    for _ in range(12):  # week by week: 2 % of those still there leave
        loop.append(h)
        h -= 0.02 * h
    np.testing.assert_allclose(tenured, loop, rtol=1e-12)
    # 0.98^11 = 0.98^8 x 0.98^2 x 0.98 = 0.85076302 x 0.9604 x 0.98 = 0.80073135
    assert tenured[-1] == pytest.approx(120 * 0.80073135, abs=1e-5)


def test_ramp_output_of_one_class_by_hand():
    # L=1 recruiting week, T=2 training weeks, ramp 50/70/85 %, 1 % attrition a week.
    # Per hire of a class started in week 0: employed from week 1; on the floor week 3.
    s = CapacitySettings(attrition_weekly=0.01, recruiting_weeks=1, training_weeks=2,
                         ramp=(0.5, 0.7, 0.85))
    employed, training, ramping, proficient = class_output(s, 8)
    # by hand: 0.99^2 * 0.5 = 0.49005; 0.99^3 * 0.7 = 0.970299 * 0.7 = 0.6792093; 0.99^4 * 0.85 =
    # 0.8165066085; then 0.99^5 = 0.9509900499, 0.99^6 = 0.941480149401
    np.testing.assert_allclose(ramping, [0, 0, 0, 0.49005, 0.6792093, 0.8165066085, 0, 0],
                               rtol=1e-12)
    np.testing.assert_allclose(proficient, [0, 0, 0, 0, 0, 0, 0.9509900499, 0.941480149401],
                               rtol=1e-12)
    np.testing.assert_allclose(training, [0, 1, 0.99, 0, 0, 0, 0, 0], rtol=1e-12)
    np.testing.assert_allclose(employed[1:4], [1, 0.99, 0.9801], rtol=1e-12)


def test_a_plan_with_one_forced_class_shows_its_ramp():
    # 20 agents needed in weeks 6-9, nobody today, decisions from week 3: a class of
    # exactly 20 started in week 3 works from week 6. By hand, it costs 2,000 + wages
    # 20 x 6 weeks x 800 = 98,000 and saves 58.7 FTE-weeks short x 4,000 (100 an hour);
    # a second class (week 4) would cost 82,000 to save 11.1 FTE-weeks: not worth it.
    s = _settings(attrition_weekly=0.01, recruiting_weeks=1, training_weeks=2,
                  ramp=(0.5, 0.7, 0.85), class_min=20, class_max=20, headcount={"chat": 0.0},
                  short_penalty_per_hour=100.0, as_of=MONDAY + pd.Timedelta(weeks=3))
    plan = plan_capacity(_req([np.nan] * 6 + [20.0] * 4), s, {"chat": 20.0}, HOURS)
    assert plan.classes["hires"].tolist() == [20]
    start = plan.classes["start"].iloc[0]
    assert start == MONDAY + pd.Timedelta(weeks=3)  # on the floor in week 6 = 3 + 1 + 2
    w = plan.weekly.set_index("week")
    floor = start + pd.Timedelta(weeks=3)
    # 20 hires x (0.99^2 x 0.5, 0.99^3 x 0.7, 0.99^4 x 0.85), then 20 x 0.99^5
    expected = [9.801, 13.584186, 16.33013217]
    got = [w.loc[floor + pd.Timedelta(weeks=k), "ramping_fte"] for k in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert w.loc[floor + pd.Timedelta(weeks=3), "proficient_fte"] == pytest.approx(
        20 * 0.9509900499, rel=1e-9)


# ------------------------------------------------------------------ latest start
@pytest.mark.parametrize(("lead", "train", "step"), [(2, 3, 8), (4, 3, 10), (0, 1, 3)])
def test_a_step_at_week_w_needs_a_class_starting_at_w_minus_l_minus_t(lead, train, step):
    # 10 agents today, 10 required until week `step`, 18 from then; no ramp, no attrition,
    # no overtime: exactly one class of 8, started exactly L + T weeks before the step
    # (starting earlier pays wages for nothing, later leaves the step week short).
    s = _settings(recruiting_weeks=lead, training_weeks=train, headcount={"chat": 10.0})
    req = _req([10.0] * step + [18.0] * 4)
    plan = plan_capacity(req, s, {"chat": 20.0}, HOURS)
    assert plan.classes["hires"].tolist() == [8]
    assert plan.classes["start"].iloc[0] == MONDAY + pd.Timedelta(weeks=step - lead - train)
    assert plan.classes["on_floor"].iloc[0] == MONDAY + pd.Timedelta(weeks=step)
    assert plan.weekly["short_fte"].sum() == 0.0
    assert (plan.weekly["available_fte"] >= plan.weekly["required_fte"] - 1e-9).all()
    # cost: 8 hires x 100 + wages of 8 agents from training start to the end (4 + T weeks)
    assert plan.total_cost == pytest.approx(8 * 100 + 8 * (train + 4) * HOURS * 20.0)
    assert plan.status == "OPTIMAL"
    assert plan.latest_decision == plan.classes["start"].iloc[0]


def test_a_step_too_soon_for_any_class_is_reported_short():
    # the step comes 2 weeks in, the pipeline needs 3: the step weeks stay short
    s = _settings(recruiting_weeks=2, training_weeks=1, headcount={"chat": 10.0},
                  short_penalty_per_hour=50.0)
    plan = plan_capacity(_req([10.0, 10.0, 14.0, 14.0, 14.0, 14.0]), s, {"chat": 20.0}, HOURS)
    short = plan.weekly["short_fte"].to_numpy()
    np.testing.assert_allclose(short[:3], [0, 0, 4.0])
    # from week 3 a class of 4 (started in week 0) covers it: 100 + 4 x 40 h x 20 a week
    # from week 2 costs less than 4 FTE short at 50 an hour
    assert plan.classes["hires"].tolist() == [4]
    np.testing.assert_allclose(short[3:], 0.0)


# ------------------------------------------------------------------ brute force
def _brute_force(req: np.ndarray, h0: np.ndarray, s: CapacitySettings, rate: np.ndarray,
                 bpo_per_week: float) -> float:
    """Least cost over every class plan; each week's levers greedily by unit cost.

    ``req``: channels x weeks. Class plans: per week, at most ``classes_per_week`` classes
    over all channels, sizes class_min..class_max (one class per channel and week here).
    """
    C, H = req.shape
    L, T, ramp, a = s.recruiting_weeks, s.training_weeks, s.ramp, s.attrition_weekly
    starts = [t for t in range(H) if t + L + T < H]
    sizes = [0, *range(s.class_min, s.class_max + 1)]
    best = np.inf
    options = list(itertools.product(sizes, repeat=C))
    options = [o for o in options if sum(x > 0 for x in o) <= s.classes_per_week]
    for plan in itertools.product(options, repeat=len(starts)):
        cost = 0.0
        avail = np.array([[h0[c] * (1 - a) ** t for t in range(H)] for c in range(C)])
        for s_idx, sizes_c in zip(starts, plan, strict=True):
            for c, n in enumerate(sizes_c):
                if not n:
                    continue
                cost += n * s.cost_per_hire
                for t in range(s_idx + L, H):
                    alive = n * (1 - a) ** (t - s_idx - L)
                    cost += alive * HOURS * rate[c]  # wages from the start of training
                    k = t - s_idx - L - T
                    if k >= 0:
                        avail[c, t] += alive * (ramp[k] if k < len(ramp) else 1.0)
        for t in range(H):
            bpo_left = bpo_per_week
            for c in range(C):
                gap = max(0.0, req[c, t] - avail[c, t])
                levers = sorted([
                    (rate[c] * (1 + s.overtime_premium), s.overtime_cap * avail[c, t], "ot"),
                    (s.bpo_cost_per_hour, bpo_left, "bpo"),
                    (s.short_penalty_per_hour, np.inf, "short"),
                ])
                for price, cap, kind in levers:
                    use = min(gap, cap)
                    cost += use * HOURS * price
                    gap -= use
                    if kind == "bpo":
                        bpo_left -= use
        best = min(best, cost)
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_optimiser_equals_brute_force_one_channel(seed):
    rng = np.random.default_rng(seed)
    H = 8
    req = np.round(rng.uniform(8, 16, H), 1)
    s = CapacitySettings(
        attrition_weekly=float(rng.choice([0.0, 0.03])), recruiting_weeks=1, training_weeks=1,
        ramp=(0.5,), class_min=2, class_max=5, classes_per_week=1,
        overtime_cap=0.1, overtime_premium=0.5, bpo_fte=1.5, bpo_cost_per_hour=45.0,
        cost_per_hire=300.0, short_penalty_per_hour=60.0, headcount={"chat": 9.0},
        mip_gap=0.0,
    )
    plan = plan_capacity(_req(req), s, {"chat": 20.0}, HOURS)
    ref = _brute_force(req[None, :], np.array([9.0]), s, np.array([20.0]), 1.5)
    assert plan.objective == pytest.approx(ref, rel=1e-7)
    # the plan's own cost plus its penalty is that same number
    penalty = plan.weekly["short_fte"].sum() * HOURS * 60.0
    assert plan.total_cost + penalty == pytest.approx(ref, rel=1e-7)


@pytest.mark.parametrize("seed", [4, 5])
def test_optimiser_equals_brute_force_two_channels_sharing_one_class_a_week(seed):
    rng = np.random.default_rng(seed)
    H = 7
    req = np.round(rng.uniform(5, 11, (2, H)), 1)
    s = CapacitySettings(
        attrition_weekly=0.02, recruiting_weeks=1, training_weeks=1, ramp=(0.6,),
        class_min=2, class_max=4, classes_per_week=1, overtime_cap=0.05,
        overtime_premium=0.25, bpo_fte=0.0, cost_per_hire=200.0,
        short_penalty_per_hour=50.0, headcount={"chat": 6.0, "voice": 5.0}, mip_gap=0.0,
    )
    frame = pd.concat([_req(req[0], "chat"), _req(req[1], "voice")], ignore_index=True)
    plan = plan_capacity(frame, s, {"chat": 20.0, "voice": 24.0}, HOURS)
    ref = _brute_force(req, np.array([6.0, 5.0]), s, np.array([20.0, 24.0]), 0.0)
    assert plan.objective == pytest.approx(ref, rel=1e-7)
    per_week = plan.classes.groupby("start")["classes"].sum()
    assert (per_week <= 1).all()


# ------------------------------------------------------------------ costs, moves
def test_costs_add_up():
    s = _settings(attrition_weekly=0.01, recruiting_weeks=1, training_weeks=1, ramp=(0.5,),
                  overtime_cap=0.1, overtime_premium=0.5, bpo_fte=2.0, bpo_cost_per_hour=40.0,
                  headcount={"chat": 10.0}, class_min=2, class_max=6)
    plan = plan_capacity(_req([10, 10, 11, 13, 15, 15, 17, 16.0]), s, {"chat": 20.0}, HOURS)
    w = plan.weekly
    parts = ["hiring_cost", "wage_cost", "overtime_cost", "bpo_cost", "moving_cost"]
    np.testing.assert_allclose(w["cost"], w[parts].sum(axis=1))
    np.testing.assert_allclose(w["overtime_cost"], w["overtime_fte"] * HOURS * 20.0 * 1.5)
    np.testing.assert_allclose(w["bpo_cost"], w["bpo_fte"] * HOURS * 40.0)
    np.testing.assert_allclose(w["hiring_cost"], w["hires_starting"] * 100.0)
    assert plan.classes["hiring_cost"].sum() == pytest.approx(w["hiring_cost"].sum())
    assert plan.classes["wage_cost"].sum() == pytest.approx(w["wage_cost"].sum())
    assert plan.summary["cost"].sum() == pytest.approx(plan.total_cost)
    assert (w["overtime_fte"] <= 0.1 * w["available_fte"] + 1e-9).all()
    assert (w["bpo_fte"] <= 2.0 + 1e-9).all()
    # coverage: every planned week is covered or its shortfall reported
    covered = w["available_fte"] + w["overtime_fte"] + w["bpo_fte"] + w["short_fte"]
    assert (covered >= w["required_fte"] - 1e-6).all()
    np.testing.assert_allclose(w["gap_fte"], w["available_fte"] - w["required_fte"])


def test_cross_training_moves_spare_agents_instead_of_hiring():
    # voice has 6 spare agents from week 0, chat needs 5 more from week 4; a hire costs
    # far more than a move, so 5 move (training 2 weeks) and nobody is hired.
    s = _settings(cross_training_weeks=2, cross_training_cost=10.0, cost_per_hire=5000.0,
                  headcount={"chat": 10.0, "voice": 16.0}, short_penalty_per_hour=500.0)
    frame = pd.concat([_req([10, 10, 10, 10, 15, 15.0], "chat"),
                       _req([10.0] * 6, "voice")], ignore_index=True)
    plan = plan_capacity(frame, s, {"chat": 20.0, "voice": 20.0}, HOURS)
    w = plan.weekly.set_index(["channel", "week"])
    assert plan.classes.empty
    assert w["moved_out"].sum() == pytest.approx(5.0)
    assert w.loc["chat", "moved_in"].sum() == pytest.approx(5.0)
    assert w.loc[("chat", MONDAY + pd.Timedelta(weeks=4)), "available_fte"] == pytest.approx(15)
    assert w.loc[("voice", MONDAY + pd.Timedelta(weeks=5)), "available_fte"] == pytest.approx(11)
    assert plan.total_cost == pytest.approx(50.0)
    assert w["short_fte"].sum() == 0.0


# ------------------------------------------------------------------ settings, scenario
def test_settings_are_validated_through_the_scenario():
    with pytest.raises(ScenarioError, match="capacity.attrition_weekly"):
        Scenario.from_yaml("capacity: {attrition_weekly: 0.7}")
    with pytest.raises(ScenarioError, match="class_max 3 is below class_min 5"):
        Scenario.from_yaml("capacity: {class_min: 5, class_max: 3}")
    with pytest.raises(ScenarioError, match="ramp"):
        Scenario.from_yaml("capacity: {ramp: [0.5, 1.2]}")
    s = Scenario.from_yaml("capacity: {headcount: {chat: 80}, ramp: [0.5, 0.7]}")
    assert s.capacity.headcount == {"chat": 80.0}
    assert Scenario.from_yaml(s.to_yaml()) == s


def _weekly_sl(k: pd.DataFrame) -> np.ndarray:
    """Volume-weighted service level per Monday week, written out with pandas."""
    week = k["ds"].dt.normalize() - pd.to_timedelta(k["ds"].dt.day_of_week, unit="D")
    num = (k["sl"] * k["volume"]).groupby(week).sum()
    return (num / k["volume"].groupby(week).sum()).to_numpy()


def _toy_result() -> ScenarioResult:
    """A two-week chat plan built by hand: 8 intervals a day, 10 agents scheduled."""
    days = pd.date_range("2024-11-04", periods=14, freq="D")
    ds = pd.DatetimeIndex([d + pd.Timedelta(minutes=30 * k) for d in days for k in range(8)])
    scenario = Scenario(name="toy", channels={"chat": {}},
                        horizon={"start": "2024-11-04", "end": "2024-11-17"})
    vol = pd.DataFrame({"channel": "chat", "ds": ds, "volume": 30.0, "aht_s": 480.0})
    cov = pd.DataFrame({"channel": "chat", "ds": ds, "required": 10, "scheduled": 10.0})
    from planner.pipeline import channel_policies
    from staffing.kpis import achieved_kpis, daily_kpis

    k = achieved_kpis(vol, cov[["channel", "ds", "scheduled"]], channel_policies(scenario), 1800)
    daily = daily_kpis(k, None, 1800)
    from planner.results import weekly_fte

    weekly = weekly_fte(daily, 40.0, {"chat": 20.0})
    return ScenarioResult(scenario=scenario, volumes=vol, coverage=cov, kpis_interval=k,
                          kpis_daily=daily, weekly=weekly, meta={"interval_s": 1800})


def test_required_fte_is_the_plans_weekly_fte():
    r = _toy_result()
    req = required_fte(r)
    # 10 agents x 8 half-hours = 40 paid hours a day, 280 a week: 7 FTE of 40 h
    np.testing.assert_allclose(req["required_fte"], [7.0, 7.0])
    np.testing.assert_array_equal(req["required_fte"].to_numpy(), r.weekly["fte"].to_numpy())
    s = CapacitySettings(as_of="2024-10-07", headcount={"chat": 7.0}, attrition_weekly=0.0)
    plan = capacity_plan(r, s)
    w = plan.weekly.dropna(subset=["required_fte"])
    np.testing.assert_array_equal(w["required_fte"].to_numpy(), r.weekly["fte"].to_numpy())
    # nothing short: the service is the plan's own (volume-weighted interval SL)
    np.testing.assert_allclose(w["service_level"], _weekly_sl(r.kpis_interval), rtol=1e-12)
    assert plan.classes.empty and plan.total_cost == 0.0


def test_service_where_the_gap_stays_open_comes_from_the_kpi_model():
    r = _toy_result()
    # 5 agents today, no hiring, no overtime: 2 of 7 FTE short in both weeks
    s = CapacitySettings(as_of="2024-11-04", headcount={"chat": 5.0}, attrition_weekly=0.0,
                         classes_per_week=0, overtime_cap=0.0)
    plan = capacity_plan(r, s)
    w = plan.weekly
    np.testing.assert_allclose(w["short_fte"], [2.0, 2.0])
    # reference: the KPI model on 10 x 5/7 agents per interval
    from planner.pipeline import channel_policies
    from staffing.kpis import achieved_kpis

    agents = r.coverage[["channel", "ds"]].assign(scheduled=10.0 * 5.0 / 7.0)
    k = achieved_kpis(r.volumes, agents, channel_policies(r.scenario), 1800)
    ref = _weekly_sl(k)
    np.testing.assert_allclose(w["service_level"], ref, rtol=1e-12)
    assert (w["service_level"].to_numpy() < _weekly_sl(r.kpis_interval) - 0.05).all()
    assert plan.summary["min_service_level"].iloc[0] == pytest.approx(ref.min())


def test_unknown_headcount_channel_is_named():
    r = _toy_result()
    with pytest.raises(CapacityError, match="'voice'"):
        capacity_plan(r, CapacitySettings(headcount={"voice": 3.0}))


# ------------------------------------------------------------------ files and text
def test_workbook_and_text_carry_the_capacity_plan(tmp_path):
    import openpyxl

    from planner.cli import capacity_text
    from planner.export import export_excel

    r = _toy_result()
    s = CapacitySettings(as_of="2024-09-02", headcount={"chat": 3.0}, attrition_weekly=0.0,
                         recruiting_weeks=2, training_weeks=1, ramp=(), class_min=1,
                         overtime_cap=0.0, short_penalty_per_hour=500.0, mip_gap=0.0)
    plan = capacity_plan(r, s)
    # 4 of 7 FTE missing from 2024-11-04: a class of 4 decided 3 weeks before
    assert plan.classes["hires"].tolist() == [4]
    assert plan.classes["start"].iloc[0] == pd.Timestamp("2024-10-14")
    path = export_excel(tmp_path / "plan.xlsx", r.shift_plan.reindex(
        columns=["date", "channel", "shift_start", "shift_end", "break_start", "agents"]),
        r.coverage, r.kpis_daily, capacity=plan)
    wb = openpyxl.load_workbook(path)
    assert {"Capacity", "Hiring classes"} <= set(wb.sheetnames)
    rows = list(wb["Hiring classes"].values)
    header = list(rows[0])
    assert rows[1][header.index("start")] == "2024-10-14"
    assert rows[1][header.index("hires")] == 4
    cap = list(wb["Capacity"].values)
    assert len(cap) - 1 == len(plan.weekly)  # one row per week and channel
    text = capacity_text("toy", plan)
    assert "2024-10-14" in text and "Hiring classes" in text and "OPTIMAL" in text


def test_compare_puts_hires_cost_gap_and_decision_side_by_side():
    from dataclasses import replace

    from planner.compare import compare

    r = _toy_result()
    s = CapacitySettings(as_of="2024-09-02", headcount={"chat": 3.0}, attrition_weekly=0.0,
                         recruiting_weeks=2, training_weeks=1, ramp=(), class_min=1,
                         overtime_cap=0.0, cost_per_hire=1000.0, short_penalty_per_hour=500.0,
                         mip_gap=0.0)
    hiring = replace(r, scenario=r.scenario.model_copy(update={"name": "hiring",
                                                               "capacity": s}))
    comp = compare({"plain": r, "hiring": hiring}, baseline="plain")
    cap = comp.capacity
    assert cap["scenario"].tolist() == ["hiring"]  # only the one with capacity settings
    row = cap.iloc[0]
    # 7 FTE needed from 2024-11-04, 3 today: 4 hires decided 3 weeks before, 1,000 each;
    # wages 4 x 40 h x 20 for the 3 weeks from training start to the end of the plan
    assert (row["hires"], row["hiring_cost"], row["peak_gap_fte"]) == (4, 4000.0, 4.0)
    assert row["latest_decision"] == pd.Timestamp("2024-10-14")
    assert row["cost"] == pytest.approx(4000.0 + 4 * 3 * 40 * 20.0)
    assert "Capacity plan" in comp.to_text()
    # the app's comparison workbook gets the same row as its own sheet
    import io

    import openpyxl

    from app_support import views

    wb = openpyxl.load_workbook(io.BytesIO(views.tables_to_excel(views.comparison_tables(comp))))
    rows = list(wb["capacity"].values)
    assert rows[1][rows[0].index("Hires")] == 4


def test_same_inputs_give_the_same_plan():
    # three channels, 24 weeks, every lever on: the plan is the same on every solve
    rng = np.random.default_rng(7)
    frame = pd.concat([_req(np.round(rng.uniform(40, 90, 24), 1), ch)
                       for ch in ("chat", "voice", "email")], ignore_index=True)
    s = CapacitySettings(headcount={"chat": 40.0, "voice": 45.0, "email": 30.0},
                         bpo_fte=5.0, cross_training_weeks=2)
    cost = {"chat": 20.0, "voice": 22.0, "email": 18.0}
    first = plan_capacity(frame, s, cost, HOURS)
    again = plan_capacity(frame, s, cost, HOURS)
    pd.testing.assert_frame_equal(first.weekly, again.weekly)
    pd.testing.assert_frame_equal(first.classes, again.classes)
    assert first.status in ("OPTIMAL", "WITHIN_GAP")
    assert first.objective <= first.bound * (1 + s.mip_gap) + 1e-6
    # the objective is the plan's cost plus its shortfall penalty, to the cent
    penalty = (first.weekly["short_fte"] * HOURS * s.short_penalty_per_hour).sum()
    assert first.total_cost + penalty == pytest.approx(first.objective, abs=0.01)
    assert first.weekly["moved_out"].sum() > 0  # the instance does use moves


# ------------------------------------------------------------------ the app page
def test_capacity_page_plans_hires_and_follows_its_inputs(tmp_path, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from planner.pipeline import run

    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    # two peak weeks without the shift solver (fast); hiring decided from early October
    scenario = Scenario.from_dict({
        "name": "cap_page", "horizon": {"start": "2024-11-25", "end": "2024-12-08"},
        "shifts": {"solve": False},
        "capacity": {"as_of": "2024-10-07", "headcount": {"chat": 60, "voice": 50,
                                                            "email": 30}},
    })
    at = AppTest.from_file(app, default_timeout=240)
    at.run()
    at.session_state["scenario"] = scenario
    at.switch_page("app_support/pages/capacity.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    # the page shows the core's plan of the same run (it computes nothing itself)
    expected = capacity_plan(run(scenario.model_copy(update={"capacity": None})),
                             scenario.capacity).totals()
    assert expected["hires"] > 0
    assert metrics["Hires"] == f"{expected['hires']:,}"
    assert metrics["First decision by"] == f"{expected['latest_decision']:%d %b %Y}"
    assert len(at.get("vega_lite_chart")) == 1
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Capacity by week (CSV)", "Hiring classes (CSV)",
                      "Capacity workbook (Excel)"]
    # no class may start: nobody is hired and no decision is due
    at.number_input(key="cap_cpw").set_value(0).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Hires"] == "0"
    assert metrics["First decision by"] == "none needed"
    assert at.session_state["scenario"].capacity.classes_per_week == 0
    # an input the model rejects is named on the page, and nothing breaks
    at.number_input(key="cap_cmin").set_value(30)
    at.number_input(key="cap_cmax").set_value(10).run()
    assert not at.exception
    assert any("class_max 10 is below class_min 30" in e.value for e in at.error)
    # out-of-range numbers are refused in words next to the box and named above the plan,
    # which keeps the saved values (they used to stay red in the box, silently ignored)
    at.number_input(key="cap_cmin").set_value(5)
    at.number_input(key="cap_cmax").set_value(25)
    at.number_input(key="cap_attrition").set_value(100.0)
    at.number_input(key="cap_cpw").set_value(-1).run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert "must be between 0 and 49 (got 100)" in errors, errors
    assert "must be between 0 and 50 (got -1)" in errors, errors
    assert any("Refused inputs" in w.value and "Attrition per week (%)" in w.value
               and "Classes per week" in w.value for w in at.warning)
    kept = at.session_state["scenario"].capacity
    assert kept.attrition_weekly == scenario.capacity.attrition_weekly
    assert kept.classes_per_week == 0  # the last accepted value


def test_cli_capacity_writes_the_plan_with_the_plans_weekly_fte(tmp_path, capsys):
    import csv

    from planner.cli import main
    from planner.pipeline import run

    path = tmp_path / "two_weeks.yaml"
    path.write_text(
        "name: two_weeks\nhorizon: {start: 2024-11-25, end: 2024-12-08}\n"
        "shifts: {solve: false}\n"
        "capacity: {as_of: 2024-10-07, headcount: {chat: 60, voice: 50, email: 30}}\n")
    code = main(["capacity", str(path), "-q", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Hiring classes" in out
    with open(tmp_path / "out" / "capacity_weekly.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["required_fte"]]
    r = run(Scenario.from_yaml(path.read_text()))
    ref = {(f"{w:%Y-%m-%d}", ch): f for w, ch, f in
           zip(r.weekly["week"], r.weekly["channel"], r.weekly["fte"], strict=True)}
    assert len(rows) == len(ref) == 6  # 2 weeks x 3 channels
    for row in rows:  # written rounded to 3 decimals
        assert float(row["required_fte"]) == pytest.approx(ref[row["week"], row["channel"]],
                                                           abs=5.1e-4)
    with open(tmp_path / "out" / "capacity_classes.csv", newline="") as fh:
        classes = list(csv.DictReader(fh))
    assert classes and all(c["start"] >= "2024-10-07" for c in classes)
