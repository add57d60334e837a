"""The SimPy queue simulation against queueing theory and hand-computed paths.

References: Erlang C (M/M/N) service level ``1 - C exp(-(N - A) t / AHT)`` and ASA
``C AHT / (N - A)``; Erlang A (M/M/N+M) from Mandelbaum & Zeltyn (2004), as implemented
in :mod:`staffing.erlang_a` (itself checked against a birth-death chain elsewhere). The
simulation shares no formula with them. Confidence intervals are Student-t at 99 % over
independent replications, each a long stationary run with the first hours dropped.
Hand-computed cases: slots with concurrency, and an email backlog carried overnight.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from staffing import average_speed_of_answer, service_level
from staffing.erlang_a import erlang_a_metrics
from staffing.simulate import (
    SimulationError,
    draw_arrivals,
    draw_handle_times,
    interval_outcomes,
    simulate_queue,
)

T = 3600.0  # one-hour intervals


def _ci(x: np.ndarray, level: float = 0.99) -> tuple[float, float, float]:
    m, s = float(np.mean(x)), float(np.std(x, ddof=1))
    h = stats.t.ppf(0.5 + level / 2, len(x) - 1) * s / np.sqrt(len(x))
    return m, m - h, m + h


def _stationary(rate_per_h, aht, servers, hours, reps, seed, patience=None, threshold=20.0,
                warm=2):
    """Per replication: SL (offered), ASA (answered), abandonment, occupancy after warm-up."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(reps):
        counts = rng.poisson(rate_per_h, hours)
        t, _idx = draw_arrivals(rng, counts, T)
        h = draw_handle_times(rng, np.full(t.size, aht))
        pat = None if patience is None else rng.exponential(patience, t.size)
        o = simulate_queue(t, h, np.full(hours, servers), T, pat)
        k = interval_outcomes(o, threshold).iloc[warm:-1]  # the last hour: unfinished
        out.append((k["within"].sum() / k["offered"].sum(),
                    k["wait_sum_s"].sum() / k["answered"].sum(),
                    k["abandoned"].sum() / k["offered"].sum(),
                    k["busy_s"].sum() / k["capacity_s"].sum()))
    return np.array(out)


def test_mmc_matches_erlang_c_sl_and_asa():
    # A = 160 calls/h * 180 s = 8 Erlangs on 10 agents
    rate, aht, n = 160.0, 180.0, 10
    r = _stationary(rate, aht, n, hours=40, reps=24, seed=11)
    sl = float(service_level(rate, aht, T, n, 20.0))
    asa = float(average_speed_of_answer(rate, aht, T, n))
    m, lo, hi = _ci(r[:, 0])
    assert lo <= sl <= hi, (sl, m, lo, hi)
    m, lo, hi = _ci(r[:, 1])
    assert lo <= asa <= hi, (asa, m, lo, hi)
    m, lo, hi = _ci(r[:, 3])
    assert lo <= 0.8 <= hi  # occupancy A / N
    assert hi - lo < 0.05   # and the interval is tight enough to mean something


def test_mmc_plus_m_matches_erlang_a_sl_and_abandonment():
    # A = 200 calls/h * 180 s = 10 Erlangs on 10 agents, mean patience 120 s
    rate, aht, n, pat = 200.0, 180.0, 10, 120.0
    r = _stationary(rate, aht, n, hours=30, reps=24, seed=12, patience=pat)
    a = rate * aht / T
    sl = float(service_level(rate, aht, T, n, 20.0, patience_s=pat))
    ab = float(erlang_a_metrics(a, aht, n, pat).p_abandon)
    m, lo, hi = _ci(r[:, 0])
    assert lo <= sl <= hi, (sl, m, lo, hi)
    m, lo, hi = _ci(r[:, 2])
    assert lo <= ab <= hi, (ab, m, lo, hi)
    assert 0.05 < ab < 0.2  # a real amount of abandonment is being checked


def test_concurrency_slots_hand_computed():
    # 2 chat agents x concurrency 3 = 6 slots; 7 chats arrive at 0 with 600 s each: six
    # start at once, the seventh when the first slot frees at 600 s
    o = simulate_queue(np.zeros(7), np.full(7, 600.0), [2 * 3, 2 * 3], 900.0)
    assert o.start_s.tolist() == [0.0] * 6 + [600.0]
    k = interval_outcomes(o, 60.0)
    assert k["within"].tolist() == [6.0, 0.0]          # SL 6/7 in the first interval
    assert k["busy_s"].tolist() == [6 * 600 + 300.0, 300.0]
    assert k["queue_end"].tolist() == [0.0, 0.0]


def test_fractional_slot_is_present_for_its_share_of_the_interval():
    # 1.5 slots: the second slot works the first half of the interval only
    o = simulate_queue([0.0, 0.0, 0.0], [100.0, 100.0, 100.0], [1.5, 1.5], 1000.0)
    assert o.start_s.tolist() == [0.0, 0.0, 100.0]
    k = interval_outcomes(o, 0.0)
    assert k["capacity_s"].tolist() == [1500.0, 1500.0]


def test_email_backlog_hand_computed_and_carried_overnight():
    # 120 emails at 00:00, two agents 08:00-20:00, 600 s each: 12 answered an hour, so
    # 108 left at 09:00, 60 at 13:00, none at 18:00 (the staffing module's example)
    servers = np.array([2 if 8 <= h < 20 else 0 for h in range(24)], float)
    o = simulate_queue(np.zeros(120), np.full(120, 600.0), servers, T)
    k = interval_outcomes(o, 24 * T)
    assert k["queue_end"].iloc[[7, 8, 12, 17]].tolist() == [120.0, 108.0, 60.0, 0.0]
    assert k["oldest_age_s"].iloc[8] == 9 * T
    # 30 emails at 19:00 on day 1 with one agent until 20:00: 6 answered that evening,
    # 24 wait for 08:00 and are done at 12:00 on day 2
    servers = np.array([1 if 8 <= h % 24 < 20 else 0 for h in range(48)], float)
    o = simulate_queue(np.full(30, 19 * T), np.full(30, 600.0), servers, T)
    k = interval_outcomes(o, 24 * T)
    assert k["queue_end"].iloc[19] == 24.0
    assert k["queue_end"].iloc[[31, 32, 35]].tolist() == [24.0, 18.0, 0.0]
    assert k["oldest_age_s"].iloc[31] == 13 * T      # 19:00 -> 08:00 next day
    assert k["within"].iloc[19] == 30.0               # all within 24 h


def test_abandonment_is_exact_on_a_hand_path():
    # one slot; A arrives at 0 (600 s), B at 10 with patience 100 (abandons at 110),
    # C at 20 with patience 1000 (served at 600, waited 580)
    o = simulate_queue([0.0, 10.0, 20.0], [600.0, 50.0, 50.0], [1.0], 3600.0,
                       patience_s=[1e9, 100.0, 1000.0])
    assert o.start_s.tolist() == [0.0, np.inf, 600.0]
    assert o.abandon_s.tolist() == [np.inf, 110.0, np.inf]


def test_no_agents_means_queue_waits_and_abandons():
    o = simulate_queue([10.0, 20.0], [60.0, 60.0], [0.0, 0.0], 100.0, patience_s=[50, 1e6])
    assert o.abandon_s.tolist() == [60.0, np.inf]
    k = interval_outcomes(o, 20)
    assert k["queue_end"].tolist() == [1.0, 1.0]


def test_lognormal_handle_times_have_the_asked_mean_and_cv():
    rng = np.random.default_rng(3)
    h = draw_handle_times(rng, np.full(200_000, 300.0), cv=0.8)
    assert abs(h.mean() / 300 - 1) < 0.01
    assert abs(h.std() / h.mean() - 0.8) < 0.02


def test_bad_input_is_named():
    with pytest.raises(SimulationError, match="sorted"):
        simulate_queue([5.0, 1.0], [1.0, 1.0], [1.0], 10.0)
    with pytest.raises(SimulationError, match="servers"):
        simulate_queue([1.0], [1.0], [-1.0], 10.0)


def test_slots_parked_when_capacity_fell_serve_when_it_rises_again():
    # two slots, then none for an interval (both idle), then two again: a queue formed
    # while closed is served by both slots at the reopening
    t = [10.0, 1100.0, 1200.0, 1300.0, 1400.0]
    o = simulate_queue(t, [50.0] * 5, [2.0, 0.0, 2.0], 1000.0)
    assert o.start_s.tolist() == [10.0, 2000.0, 2000.0, 2050.0, 2050.0]


def test_simultaneous_arrivals_find_every_idle_slot():
    o = simulate_queue([0.0, 100.0, 100.0, 100.0], [10.0] * 4, [3.0], 1000.0)
    assert o.start_s.tolist() == [0.0, 100.0, 100.0, 100.0]


@pytest.mark.parametrize("seed", range(4))
def test_work_conserving_while_capacity_changes(seed):
    # no contact waits while an active slot is idle: at the arrival of each contact that
    # waits, and at every interval start while it waits, all active slots are busy
    rng = np.random.default_rng(seed)
    caps = rng.integers(0, 5, 30).astype(float)
    T = 600.0
    t, _ = draw_arrivals(rng, rng.poisson(6, caps.size), T)
    h = rng.exponential(300.0, t.size)
    o = simulate_queue(t, h, caps, T)
    s, e = o.start_s, o.start_s + h

    def busy(x: float) -> int:
        return int(np.sum((s <= x) & (e > x)))

    for i in np.flatnonzero(s > t):
        checks = [t[i]] + [k * T for k in range(int(t[i] // T) + 1, caps.size)
                           if k * T < s[i]]
        for x in checks:
            assert busy(x) >= caps[int(x // T)], (i, x)


# --- the scenario-level driver --------------------------------------------------------


def _plan(days=2, voice_agents=12.0, email_agents=3.0):
    """A hand-built result: voice (Erlang A, 200 calls/h, AHT 180 s, patience 120 s)
    and email (30 items/h, 600 s) open 08:00-20:00, no shrinkage."""
    from planner.results import ScenarioResult
    from planner.scenario import Scenario

    sc = Scenario.from_dict({"name": "hand", "channels": {
        "voice": {"model": "erlang_a", "patience_s": 120, "shrinkage": 0.0,
                  "open_hours": "08:00-20:00"},
        "email": {"model": "deferred", "response_target_s": 86400, "shrinkage": 0.0,
                  "open_hours": "08:00-20:00", "max_occupancy": None}}})
    ds = pd.date_range("2024-11-11", periods=days * 24, freq="h")
    open_ = (ds.hour >= 8) & (ds.hour < 20)
    vol, cov = [], []
    for ch, v, aht, n in (("voice", 200.0, 180.0, voice_agents),
                          ("email", 30.0, 600.0, email_agents)):
        vol.append(pd.DataFrame({"channel": ch, "ds": ds[open_], "volume": v,
                                 "aht_s": aht, "volume_mean": v, "volume_hi": v,
                                 "day_cv": 0.0, "dispersion": 1.0}))
        cov.append(pd.DataFrame({"channel": ch, "ds": ds[open_], "scheduled": n}))
    return ScenarioResult(scenario=sc, volumes=pd.concat(vol, ignore_index=True),
                          coverage=pd.concat(cov, ignore_index=True),
                          meta={"interval_s": 3600})


def test_plan_simulation_matches_erlang_a_and_the_email_capacity():
    from planner.simulate import simulate_result

    sim = simulate_result(_plan(), reps=12, seed=4, demand="mean", level=0.99)
    d = sim.daily.set_index(["date", "channel"])
    # voice: 12 agents, 10 Erlangs, patience 120 s; SL within 20 s of offered (Erlang A)
    sl = float(service_level(200.0, 180.0, T, 12, 20.0, patience_s=120.0))
    for day in pd.to_datetime(["2024-11-11", "2024-11-12"]):
        row = d.loc[(day, "voice")]
        # the day starts empty at 08:00: the stationary value within the interval
        assert row["service_level_lo"] - 0.01 <= sl <= row["service_level_hi"] + 0.01
        occ = float(erlang_a_metrics(10.0, 180.0, 12, 120.0).occupancy)  # 0.782
        assert row["occupancy_lo"] - 0.01 <= occ <= row["occupancy_hi"] + 0.01
        ab = float(erlang_a_metrics(10.0, 180.0, 12, 120.0).p_abandon)       # 0.062
        assert row["abandon_rate_lo"] - 0.005 <= ab <= row["abandon_rate_hi"] + 0.005
    # email: 30 items/h x 600 s = 5 agent-hours an hour on 3 agents: 12 h x 2 h short,
    # so 24 hours of work (144 items) wait overnight, and twice that after day two
    e1 = d.loc[(pd.Timestamp("2024-11-11"), "email")]
    e2 = d.loc[(pd.Timestamp("2024-11-12"), "email")]
    assert abs(e1["backlog_items"] - 144) < 15
    assert abs(e2["backlog_items"] - 288) < 25
    assert abs(e1["occupancy"] - 1.0) < 0.01
    # the comparison holds a row per day and channel and names the metric
    assert set(sim.comparison["metric"]) == {"service_level", "abandon_rate"}


def test_plan_simulation_is_reproducible_and_seeded():
    from planner.simulate import simulate_result

    a = simulate_result(_plan(days=1), reps=3, seed=9)
    b = simulate_result(_plan(days=1), reps=3, seed=9)
    c = simulate_result(_plan(days=1), reps=3, seed=10)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    assert not a.replications["service_level"].equals(c.replications["service_level"])


def test_handle_cv_from_interval_means_recovers_a_known_cv():
    # reference: per-contact lognormal handle times with cv 1.2, their interval means over
    # 1..40 contacts, and a true mean that drifts 5 % between the intervals of a day
    from staffing.simulate import handle_cv_from_interval_means

    rng = np.random.default_rng(21)
    n = rng.integers(1, 41, 6000)
    day = np.arange(6000) // 30
    m = 300.0 * np.exp(rng.normal(0.0, 0.05, 6000))
    s2 = np.log1p(1.2**2)
    a = np.array([np.exp(rng.normal(np.log(mi) - s2 / 2, np.sqrt(s2), k)).mean()
                  for mi, k in zip(m, n, strict=True)])
    assert handle_cv_from_interval_means(n, a, day) == pytest.approx(1.2, abs=0.08)
    # exponential handle times: cv 1
    a = np.array([rng.exponential(300.0, k).mean() for k in n])
    assert handle_cv_from_interval_means(n, a, day) == pytest.approx(1.0, abs=0.06)
    # the data cannot tell: one count everywhere, or too few intervals
    assert handle_cv_from_interval_means(np.full(6000, 10), a, day) is None
    assert handle_cv_from_interval_means(n[:50], a[:50], day[:50]) is None


def test_data_handle_cv_of_the_bundled_sample():
    # data/generate.py draws each interval's mean AHT as the mean of contacts with a
    # single-contact cv of 0.8 (AHT_CV), log-normal with log-sd 0.8 / sqrt(n): its
    # variance is 0.64 / n for the tens of contacts of a voice or chat interval
    from forecast import load_contacts, sample_paths
    from planner.simulate import data_handle_cv

    cv = data_handle_cv(load_contacts(sample_paths().contacts))
    assert cv["voice"] == pytest.approx(0.8, abs=0.05)
    assert cv["chat"] == pytest.approx(0.8, abs=0.05)
    no_aht = load_contacts(sample_paths().contacts).drop(columns="aht_s")
    assert data_handle_cv(no_aht) == {"chat": None, "email": None, "voice": None}


def test_plan_simulation_takes_a_handle_cv_per_channel():
    from planner.simulate import simulate_result

    plan = _plan(days=1)
    a = simulate_result(plan, reps=2, seed=9, handle_cv={"voice": 0.5})
    b = simulate_result(plan, reps=2, seed=9)
    assert a.meta["handle_cv"] == {"voice": 0.5}
    # voice's handle times are lognormal now (the draws differ from exponential ones),
    # and the same mapping and seed reproduce the replications
    assert not a.replications["service_level"].equals(b.replications["service_level"])
    c = simulate_result(plan, reps=2, seed=9, handle_cv={"voice": 0.5})
    pd.testing.assert_frame_equal(a.replications, c.replications)


def test_plan_simulation_names_bad_days():
    from planner.simulate import simulate_result

    with pytest.raises(SimulationError, match="outside the plan"):
        simulate_result(_plan(), days=("2025-01-01", "2025-01-02"), reps=2)
    with pytest.raises(SimulationError, match="reps"):
        simulate_result(_plan(), reps=1)


def test_app_staffing_page_frontier_and_simulation(tmp_path, monkeypatch):
    # the Staffing page's buttons: the frontier chart, then a 2-replication simulation
    # of one day, with its table and the referee's verdict
    import datetime as dt
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PEAK_PLANNER_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("PEAK_PLANNER_UPLOAD_DIR", str(tmp_path / "uploads"))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"),
                           default_timeout=300)
    at.run()
    at.switch_page("app_support/pages/forecast.py").run()
    at.number_input(key="w.forecast.horizon.days").set_value(2)
    at.date_input(key="w.forecast.horizon.start").set_value(dt.date(2024, 11, 28))
    at.run()
    at.switch_page("app_support/pages/staffing.py").run()
    assert not at.exception, at.exception
    n_charts = len(at.get("vega_lite_chart"))
    at.button(key="staffing_frontier").click().run()
    assert not at.exception, at.exception
    assert len(at.get("vega_lite_chart")) == n_charts + 1
    assert any("hours buys" in m.value for m in at.markdown)
    at.date_input(key="staffing_sim_days").set_value((dt.date(2024, 11, 28),
                                                      dt.date(2024, 11, 28)))
    at.number_input(key="staffing_sim_reps").set_value(2)
    at.radio(key="staffing_sim_handle").set_value("lognormal, cv from the history")
    at.button(key="staffing_sim_go").click().run()
    assert not at.exception, at.exception
    sim = at.session_state["staffing_sim"]
    # the verdict: a disagreement, or intervals too wide to referee (2 replications), and
    # "inside" is said only when neither
    wide, bad = sim.too_wide(), sim.disagreements()
    assert bool(len(bad)) == any("simulation's interval" in w.value for w in at.warning)
    infos = [i.value for i in at.info if "too wide to referee" in i.value]
    assert bool(infos) == bool(len(wide))
    assert bool(len(at.success)) == (not len(wide) and not len(bad))
    assert set(sim.daily["channel"]) == {"chat", "voice", "email"}
    # the sample's interval AHTs were generated with a single-contact cv of 0.8
    assert sim.meta["handle_cv"]["voice"] == pytest.approx(0.8, abs=0.05)
    assert any("voice lognormal cv 0.8" in c.value for c in at.caption)


def test_cli_simulate_a_saved_plan_and_the_workbook_sheets(tmp_path, capsys):
    import openpyxl

    from planner.cli import EXIT_OK, main
    from planner.export import export_excel
    from planner.simulate import simulate_result
    from planner.store import Store

    url = f"sqlite:///{tmp_path / 'plans.db'}"
    with Store(url) as store:
        store.save(_plan(days=1))
    code = main(["simulate", "hand", "--reps", "3", "--seed", "2", "--demand", "mean",
                 "--db", url, "--out", str(tmp_path / "sim"), "--quiet"])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    assert "hand: simulated 2024-11-11..2024-11-11, 3 replications" in out
    daily = pd.read_csv(tmp_path / "sim" / "simulation_daily.csv")
    assert set(daily["channel"]) == {"voice", "email"}
    assert {"service_level_lo", "service_level_analytic", "service_level_inside"} <= set(
        daily.columns)
    runs = pd.read_csv(tmp_path / "sim" / "simulation_reps.csv")
    assert len(runs) == 3 * 2
    assert set(openpyxl.load_workbook(tmp_path / "sim" / "simulation.xlsx").sheetnames) == {
        "Simulation", "Simulation runs"}
    # the workbook: frontier and simulation sheets next to the plan's
    sim = simulate_result(_plan(days=1), reps=2, seed=1)
    from planner.risk import scenario_frontier

    front = scenario_frontier(_plan(days=1))
    path = export_excel(tmp_path / "plan.xlsx", pd.DataFrame(
        columns=["date", "channel", "shift_start", "shift_end", "break_start", "agents"]),
        frontier=front, simulation=sim)
    wb = openpyxl.load_workbook(path)
    assert {"Cost-risk frontier", "Simulation", "Simulation runs"} <= set(wb.sheetnames)
    ws = wb["Cost-risk frontier"]
    header = [c.value for c in ws[1]]
    assert "intervals_at_risk" in header and ws.max_row == len(front) + 1


def test_cli_simulate_with_the_data_handle_cv(tmp_path, capsys):
    from planner.cli import EXIT_OK, EXIT_USAGE, main
    from planner.store import Store

    url = f"sqlite:///{tmp_path / 'plans.db'}"
    with Store(url) as store:
        store.save(_plan(days=1))
    code = main(["simulate", "hand", "--reps", "2", "--demand", "mean", "--handle-cv",
                 "data", "--db", url, "--quiet"])
    out = capsys.readouterr().out
    assert code == EXIT_OK, out
    # the bundled sample (the plan's history) carries interval AHTs with cv 0.8
    line = next(x for x in out.splitlines() if x.startswith("handle times:"))
    assert "voice lognormal cv 0.8" in line and "(from the history)" in line
    assert main(["simulate", "hand", "--handle-cv", "wide", "--db", url, "--quiet"]) == EXIT_USAGE
    assert "expected 'data' or a number > 0" in capsys.readouterr().err


def test_too_wide_intervals_are_named_not_counted_as_agreement():
    from planner.simulate import SimulationResult

    comp = pd.DataFrame({
        "date": pd.to_datetime(["2024-11-29"] * 3), "channel": ["chat", "voice", "email"],
        "metric": "service_level", "analytic": [0.9, 0.85, 1.0],
        "sim": [0.6, 0.86, 0.99], "sim_lo": [0.0358, 0.83, 0.97],
        "sim_hi": [1.0, 0.89, 1.0], "agrees": [True, True, True]})
    sim = SimulationResult(pd.DataFrame(), pd.DataFrame(), comp)
    assert sim.disagreements().empty
    # 3.58 %..100 % (2 replications) is 96 points wide; 6 and 3 points are fine
    assert sim.too_wide()["channel"].tolist() == ["chat"]
    assert sim.too_wide()["width"].tolist() == pytest.approx([1.0 - 0.0358])
    assert sim.too_wide(0.05)["channel"].tolist() == ["chat", "voice"]
    # a second KPI of the same day and channel (chat abandonment, 0..30 %) is one place
    both = pd.concat([comp, comp.iloc[[0]].assign(metric="abandon_rate", sim_lo=0.0,
                                                  sim_hi=0.3)], ignore_index=True)
    wide = SimulationResult(pd.DataFrame(), pd.DataFrame(), both).too_wide()
    assert wide["channel"].tolist() == ["chat"]
    assert wide["width"].tolist() == pytest.approx([1.0 - 0.0358])


def test_cli_simulate_on_workers_prints_the_serial_figures(tmp_path, capsys):
    from planner.cli import EXIT_OK, EXIT_USAGE, main
    from planner.store import Store

    url = f"sqlite:///{tmp_path / 'plans.db'}"
    with Store(url) as store:
        store.save(_plan(days=1))
    args = ["simulate", "hand", "--reps", "4", "--seed", "5", "--demand", "mean", "--db", url,
            "--quiet"]
    assert main(args) == EXIT_OK
    serial = capsys.readouterr().out
    assert main([*args, "--workers", "2"]) == EXIT_OK
    assert capsys.readouterr().out == serial
    for bad in ("0", "-1", "two"):
        assert main([*args, "--workers", bad]) == EXIT_USAGE
        assert "whole number >= 1" in capsys.readouterr().err
    assert main([*args, "--workers", "2", "--address", "tcp://127.0.0.1:1"]) == EXIT_USAGE
