"""Staffing to a probability, end to end, on histories with a known demand distribution.

Each synthetic history has one voice channel: orders with a fixed weekly pattern, contacts
= orders x 5 % x a day multiplier (log-normal, mean 1, cv 0.12) shared out over 28
half-hours by a fixed profile, Poisson per half-hour. The planner measures the spread on
the forecast's own rolling-origin backtests (:func:`planner.demand.backtest_spreads`);
the references are the true cv and fresh days drawn from the true model, scored with
Erlang C written out below (the closed form, not the staffing package's).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planner.cache import PipelineCache
from planner.demand import (
    MIN_BACKTEST_DAYS,
    base_forecast,
    scenario_volumes,
    spread_warnings,
)
from planner.inputs import load_inputs
from planner.pipeline import run
from planner.scenario import Scenario
from staffing.spread import spread_from_band

CV = 0.12  # true day-multiplier cv
RATE, ORDERS = 0.05, 1_000_000.0  # about 1,800 calls a half-hour: one agent is ~10 calls
WEEK = np.array([1.1, 1.05, 1.0, 1.0, 0.95, 0.9, 0.8])
PROFILE = np.sin(np.linspace(0.2, np.pi - 0.2, 28))
PROFILE = PROFILE / PROFILE.sum()
AHT_S, T_S, THRESHOLD_S, TARGET = 180.0, 1800, 20.0, 0.8
START, END = "2023-10-02", "2023-11-12"  # six weeks: 4 origins x 42 = 168 backtest days
FIRST = "2021-09-27"  # history: the origin a year before START has a year before it
SEEDS = range(8)


def true_mean(ds: pd.DatetimeIndex) -> np.ndarray:
    """Expected calls of each half-hour (08:00-22:00) under the true model."""
    day = ds.normalize()
    slot = ((ds - day).total_seconds().to_numpy() // T_S - 16).astype(int)
    return ORDERS * WEEK[day.day_of_week] * RATE * PROFILE[slot]


def day_multipliers(rng: np.random.Generator, size) -> np.ndarray:
    s = math.sqrt(math.log1p(CV**2))
    return rng.lognormal(-s * s / 2, s, size)


def write_history(tmp, first: str, last: str, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    days = pd.date_range(first, last)
    slots = np.timedelta64(8, "h") + np.arange(28) * np.timedelta64(30, "m")
    ds = pd.DatetimeIndex((days.to_numpy()[:, None] + slots[None, :]).ravel())
    mult = np.repeat(day_multipliers(rng, len(days)), 28)
    calls = rng.poisson(true_mean(ds) * mult)
    orders = pd.DataFrame({"ds": days, "orders": np.round(ORDERS * WEEK[days.day_of_week])
                           .astype(int)})
    contacts = pd.DataFrame({"ds": ds, "channel": "voice", "contacts": calls,
                             "aht_s": AHT_S})
    o, c = tmp / f"orders_{seed}.csv", tmp / f"contacts_{seed}.csv"
    orders.to_csv(o, index=False)
    contacts.to_csv(c, index=False)
    return {"orders": str(o), "contacts": str(c), "events": ""}


def scenario(data: dict, start: str = START, end: str = END) -> Scenario:
    return Scenario.model_validate({
        "data": data, "horizon": {"start": start, "end": end},
        "forecast": {"model": "same_weekday_average", "staff_to": "p80"},
        "channels": {"voice": {"model": "erlang_c", "target_sl": TARGET,
                               "threshold_s": THRESHOLD_S, "aht_s": AHT_S,
                               "shrinkage": 0.0, "max_occupancy": None,
                               "open_hours": "08:00-22:00"}},
        "shifts": {"solve": False}})


def erlang_c_sl(calls: np.ndarray, agents: np.ndarray) -> np.ndarray:
    """80/20 service level of Erlang C: ``1 - C(N, A) exp(-(N - A) t / AHT)`` with
    ``C = N B / (N - A (1 - B))`` and the Erlang B recursion ``B_k = A B / (k + A B)``."""
    a = calls * AHT_S / T_S
    b = np.ones_like(a)
    for k in range(1, int(agents.max()) + 1):
        b = np.where(k <= agents, a * b / (k + a * b), b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c = agents * b / (agents - a * (1.0 - b))
        sl = 1.0 - c * np.exp(-(agents - a) * THRESHOLD_S / AHT_S)
    return np.where(a <= 0, 1.0, np.where(agents > a, sl, 0.0))


def test_erlang_c_reference_against_hand_computed_cases():
    # M/M/1 at A = 0.5: C = A; M/M/2 at A = 1: B = (1/2) / (1 + 1 + 1/2) = 0.2,
    # C = 2 B / (2 - A (1 - B)) = 0.4 / 1.2 = 1/3 (calls = A * T / AHT)
    sl = erlang_c_sl(np.array([5.0, 10.0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(sl, [1 - 0.5 * math.exp(-0.5 * 20 / 180),
                                    1 - math.exp(-20 / 180) / 3], rtol=1e-12)


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    """Per independent history: the planner's day cv and the share of fresh half-hours
    (100 replications of the plan's six weeks from the true model) meeting 80/20 with the
    p80 plan's agents."""
    tmp = tmp_path_factory.mktemp("risk")
    out = []
    for seed in SEEDS:
        r = run(scenario(write_history(tmp, FIRST, "2023-10-01", seed)),
                cache=PipelineCache())
        v = r.volumes
        ds = pd.DatetimeIndex(v["ds"])
        req = r.requirements.set_index("ds")["agents"].reindex(ds).to_numpy(float)
        rng = np.random.default_rng(1000 + seed)
        codes, days = pd.factorize(ds.normalize())
        mult = day_multipliers(rng, (100, len(days)))[:, codes]
        calls = rng.poisson(true_mean(ds)[None, :] * mult).astype(float)
        met = erlang_c_sl(calls, np.broadcast_to(req, calls.shape)) >= TARGET
        out.append({"day_cv": float(v["day_cv"].mean()), "met": float(met.mean()),
                    "warnings": r.meta["warnings"]})
    return pd.DataFrame(out)


def test_planner_day_cv_is_the_true_day_cv(plans):
    # the predictive cv adds the forecast's own level error to the day noise
    # (sqrt(0.12^2 + ~0.02^2) ~ 0.122); each history measures it on 168 backtest days
    assert plans["day_cv"].mean() == pytest.approx(CV, abs=0.015)
    assert plans["day_cv"].between(0.08, 0.16).all()


def test_p80_meets_target_in_80_percent_of_fresh_half_hours(plans):
    # the probability is over the forecast's error and the day's demand: averaged over
    # independent histories; whole agents add a little (one agent ~ 10 of ~1,800 calls)
    assert plans["met"].mean() == pytest.approx(0.80, abs=0.04)


def test_too_few_backtest_days_fall_back_to_the_band_and_warn(tmp_path):
    # four days of plan: 4 origins x 4 days = 16 backtest days < MIN_BACKTEST_DAYS
    s = scenario(write_history(tmp_path, FIRST, "2023-10-01", 0),
                 "2023-10-02", "2023-10-05")
    base = base_forecast(s, load_inputs(s.data, PipelineCache()))
    assert base.spreads == {}
    assert "only 16 backtest days" in base.spread_notes["voice"]
    assert 16 < MIN_BACKTEST_DAYS
    (warning,) = spread_warnings(s, base)
    assert warning.startswith("voice: staff_to p80 reads the spread of demand off the "
                              "forecast band")
    band = spread_from_band(base.contacts, level=s.forecast.level)
    v = scenario_volumes(s, base)
    np.testing.assert_allclose(v["day_cv"], band["day_cv"])
    np.testing.assert_allclose(v["dispersion"], band["dispersion"])
    # a plan staffed to the mean does not warn
    mean = s.with_changes({"forecast.staff_to": "mean"})
    assert spread_warnings(mean, base) == []


def test_short_history_has_no_backtest_origin(tmp_path):
    # 200 days of history: no origin has a year of history before it
    s = scenario(write_history(tmp_path, "2023-03-16", "2023-10-01", 0))
    base = base_forecast(s, load_inputs(s.data, PipelineCache()))
    assert base.spreads == {}
    assert "too short for a backtest" in base.spread_notes["voice"]
    assert spread_warnings(s, base)[0].startswith("voice: ")
    # and the run says so with its other warnings
    r = run(s, cache=PipelineCache())
    assert any(w.startswith("voice: staff_to p80 reads the spread of demand off the forecast "
                            "band") for w in r.meta["warnings"])
