"""What each step of buffer buys: the cost-risk frontier of a scenario result.

:func:`scenario_frontier` staffs a run's demand to the mean, to the band's upper bound and
to each probability ``p`` (50 .. 95 %) of meeting every interval's service-level target,
and sets the paid hours (and cost) of each against the expected share of intervals below
target and the probability that a day's service level misses target, under the
forecast's predictive distribution (:mod:`staffing.risk`). :func:`frontier_summary` says
in one line what going from the plan's own staffing to the next step buys.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from planner.pipeline import channel_policies
from planner.results import ScenarioResult
from staffing.risk import DEFAULT_PS, cost_risk_frontier, frontier_step, spread_from_band

__all__ = ["FRONTIER_COLUMNS", "demand_frame", "frontier_summary", "scenario_frontier"]

FRONTIER_COLUMNS = ["channel", "staff_to", "p", "paid_hours", "cost", "intervals_at_risk",
                    "day_miss", "expected_sl", "expected_unserved"]


def demand_frame(result: ScenarioResult) -> pd.DataFrame:
    """``channel, ds, volume (mean), volume_hi, aht_s, day_cv, dispersion`` of a run.

    The spread is the one the plan staffed with (the ``day_cv`` and ``dispersion`` columns
    of its volumes: :func:`planner.demand.scenario_volumes`, measured on the channel's
    backtests), so the frontier and the simulation never measure it a second time.
    Results saved before the predictive spread was stored read it off their forecast
    band (and take their staffed volume as the mean).
    """
    vol = result.volumes
    if {"volume_mean", "day_cv"} <= set(vol.columns):
        out = vol[["channel", "ds", "aht_s", "volume_hi", "day_cv", "dispersion"]].copy()
        out["volume"] = vol["volume_mean"].to_numpy(float)
        return out
    spread = spread_from_band(result.forecast, level=result.scenario.forecast.level)
    out = vol[["channel", "ds", "volume", "aht_s"]].merge(spread, on=["channel", "ds"],
                                                          how="left")
    return out.fillna({"day_cv": 0.0, "dispersion": 1.0})


def scenario_frontier(result: ScenarioResult, ps: Sequence[float] = DEFAULT_PS
                      ) -> pd.DataFrame:
    """The cost-risk frontier of a run, per channel and over all channels (``"all"``).

    Returns
    -------
    DataFrame
        :data:`FRONTIER_COLUMNS`, see :func:`staffing.risk.cost_risk_frontier`, plus
        ``scenario``; ``attrs["staff_to"]`` maps each channel to the plan's own choice.
        Paid hours are rostered requirement hours (before the shift solver).
    """
    s = result.planned_scenario
    f = cost_risk_frontier(
        demand_frame(result), channel_policies(s), int(result.meta["interval_s"]), ps,
        cost_per_hour={ch: s.channel_cost(ch) for ch in s.channels},
    )
    f.insert(0, "scenario", s.name)
    f.attrs["staff_to"] = {ch: c.staff_to or s.forecast.staff_to
                           for ch, c in s.channels.items()}
    return f


def frontier_summary(frontier: pd.DataFrame, start: str = "mean", end: str = "p80") -> str:
    """``"+4.8 % hours buys -24 pt of intervals at risk (mean -> p80)"`` over all channels."""
    return frontier_step(frontier, start, end, channel="all")
