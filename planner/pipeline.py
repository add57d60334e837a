"""The whole plan from one scenario: forecast, requirements, shifts, achieved KPIs.

:func:`run` takes a :class:`~planner.scenario.Scenario` and returns a
:class:`~planner.results.ScenarioResult`. The steps, left to right:

1. **inputs** - orders, contacts and events are loaded (bundled sample by default); when
   the contacts carry queues, each queue becomes a planned series with its channel's
   settings and the scenario's ``queues`` overrides (:func:`planner.queues.plan_inputs`);
2. **base forecast** - daily orders, then contacts per channel from orders times the
   learned contact rate with its delivery lag, split into intervals, with the AHT per
   interval (:func:`forecast.contacts.forecast_contacts_detail`), from history up to
   ``horizon.last_history_day``;
3. **volumes** - the scenario's demand assumptions turn the base forecast into offered
   volume: order growth, contact-rate overrides (total or per channel, by month),
   automation (deflected share) and AHT overrides;
4. **requirements** per interval and channel (:func:`staffing.requirements.compute_requirements`);
5. **shifts** (:func:`staffing.shifts.solve_shifts`, with the headcount caps);
6. **achieved KPIs** of the scheduled agents with queue carry-over
   (:mod:`staffing.kpis`) at the expected volume (also when ``staff_to`` sized the plan
   for the band's upper bound or a probability), weekly FTE and cost.

This module orchestrates; the steps live next to what they are about: loading inputs in
:mod:`planner.inputs`, the base forecast and the scenario's demand in
:mod:`planner.demand`, the caches in :mod:`planner.cache`, a scenario's staffing settings as
policies, shift rules and caps in :mod:`planner.policies`, interval staffing without the
shift solver (and the split of a cap shared by all channels) in
:mod:`staffing.interval_staffing`, the progress bar's steps in :mod:`planner.progress`.
Their public names stay importable from here.

Steps 1-2 depend only on the data, horizon and forecast settings; they are cached in a
:class:`~planner.cache.PipelineCache` keyed on exactly those, so a what-if that changes demand or
staffing assumptions reuses the forecast and costs only steps 3-6. Shift solutions are
cached per channel too (keyed on that channel's requirement, rules, cap and policy), so a
what-if that changes one channel solves only that channel's shifts again, and within it
only the days whose requirement changed (solved day-blocks are cached as well), and
``shifts.solve: false`` skips the solver (each interval staffed to its rostered need).

Contact rate
------------
The scenario's contact rate, order growth and automation go through one function of the
forecast package, :func:`forecast.contacts.apply_assumptions` (the one that
:func:`forecast.contacts.forecast_contacts_detail` uses for its ``contact_rate`` and
``order_growth``): an assumed rate ``R`` replaces the day's learned rate ``r`` (contacts
are lagged orders times the rate, so volumes scale by ``R / r``) and its band is the
spread around that rate without the rate-level term; a total rate is shared out in the
learned channel mix of the day. Month keys are calendar months 1..12 everywhere.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planner.cache import LruCache, PipelineCache, default_cache, solve_shifts_cached
from planner.demand import (
    BaseForecast,
    base_forecast,
    scenario_forecast,
    scenario_volumes,
    spread_warnings,
)
from planner.inputs import (
    STALE_HISTORY_DAYS,
    InputData,
    PipelineError,
    history_warnings,
    input_warnings,
    load_inputs,
    plan_warnings,
)
from planner.policies import channel_policies, headcount_caps, shift_rules
from planner.progress import Progress, report_step
from planner.queues import plan_inputs
from planner.results import ScenarioResult, weekly_fte
from planner.scenario import Scenario
from staffing.frames import SHIFT_PLAN
from staffing.interval_staffing import interval_staffing
from staffing.kpis import achieved_kpis, daily_kpis
from staffing.requirements import compute_requirements
from staffing.shifts import ShiftPlan

__all__ = [
    "BaseForecast",
    "InputData",
    "LruCache",
    "PipelineCache",
    "PipelineError",
    "Progress",
    "STALE_HISTORY_DAYS",
    "SHIFT_META",
    "base_forecast",
    "channel_policies",
    "daily_and_weekly",
    "default_cache",
    "history_warnings",
    "load_inputs",
    "plan_warnings",
    "run",
    "scenario_forecast",
    "scenario_volumes",
    "shift_meta",
    "shift_rules",
]


#: ``meta`` entries of a run taken from its shift plan (:class:`staffing.shifts.ShiftPlan`).
SHIFT_META = {"shift_status": "status", "shift_quality": "quality",
              "shift_paid_hours": "paid_hours", "shift_paid_hours_bound": "paid_hours_bound",
              "shift_objective_h": "objective", "shift_lower_bound_h": "lower_bound",
              "shift_gap": "gap", "short_agent_hours": "short_agent_hours"}


def shift_meta(plan: ShiftPlan | None, coverage: pd.DataFrame, interval_s: int
               ) -> dict[str, Any]:
    """A run's shift figures: the plan's (:data:`SHIFT_META`), or without a solved plan
    (``plan`` None) the agent-hours the caps leave unserved in ``coverage``."""
    if plan is not None:
        return {k: getattr(plan, attr) for k, attr in SHIFT_META.items()}
    return {"shift_status": "NOT_SOLVED",
            "short_agent_hours": float(coverage["short"].sum() * interval_s / 3600),
            "shift_quality": "no shift plan (each interval staffed on its own)"}


def daily_and_weekly(scenario: Scenario, kpis: pd.DataFrame, shift_plan: pd.DataFrame,
                     interval_s: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily KPIs (paid hours from ``shift_plan`` when the scenario solves shifts) and
    weekly FTE and cost of a run's interval KPIs."""
    daily = daily_kpis(kpis, shift_plan if scenario.shifts.solve else None, interval_s)
    weekly = weekly_fte(daily, scenario.fte_hours_per_week,
                        {ch: scenario.channel_cost(ch) for ch in scenario.channels})
    return daily, weekly


def run(
    scenario: Scenario,
    progress: Progress | None = None,
    *,
    cache: PipelineCache | None = None,
    rollups: bool = True,
) -> ScenarioResult:
    """Run the whole flow for one scenario.

    Parameters
    ----------
    scenario : Scenario
        The assumptions.
    progress : callable, optional
        ``progress(fraction_done, message)``, called at each step (fraction in 0..1).
    cache : PipelineCache, optional
        Inputs/forecast cache; default :func:`default_cache` (shared in the process).
    rollups : bool
        ``False``: the interval tables only, for some queues of a plan that is added up
        elsewhere (:mod:`planner.fanout`): no daily KPIs and weekly FTE (empty frames)
        and no warnings, which are computed over all queues.

    Returns
    -------
    ScenarioResult
        All frames (see :mod:`planner.results`); ``meta`` holds ``forecast_key``,
        ``forecast_cached``, ``interval_s``, ``models``, ``shift_status``,
        ``shift_quality`` (``"optimal"`` or ``"within X % of the best possible"``),
        ``shift_paid_hours`` and ``shift_paid_hours_bound`` (the plan's paid hours and
        their lower bound), ``shift_objective_h``, ``shift_lower_bound_h``, ``shift_gap``
        (the plan's cost with the understaffing penalty, its LP bound and the relative
        gap between them), ``short_agent_hours`` and ``warnings`` (list of str:
        :attr:`InputData.warnings` and :func:`plan_warnings`). When the contacts carry
        queues (:func:`planner.queues.plan_inputs`) each queue is planned as a series
        with its channel's settings and the scenario's ``queues`` overrides, the frames'
        ``channel`` column names the queue and ``meta["queues"]`` maps queue -> channel
        (absent without queues); ``scenario`` stays the one given.

    Raises
    ------
    ValueError
        Subclasses from the step that failed: :class:`PipelineError`,
        :class:`forecast.data.DataError`, :class:`staffing.policy.PolicyError`,
        :class:`staffing.shifts.ShiftError`, ... each naming the field or column.

    Examples
    --------
    >>> from planner.scenario import Scenario
    >>> s = Scenario(horizon={"start": "2024-11-04", "end": "2024-11-05"})
    >>> r = run(s)                                    # doctest: +SKIP
    >>> r.kpis_daily.columns.tolist()                 # doctest: +SKIP
    ['date', 'channel', 'service_level', 'asa_s', 'abandon_rate', 'occupancy', ...]
    """
    cache = default_cache() if cache is None else cache

    report_step(progress, "inputs", 0.0, "loading data")
    given, loaded = scenario, load_inputs(scenario.data, cache)
    # per queue when the contacts carry queues (planner.queues.plan_inputs)
    scenario, inputs, queues = plan_inputs(given, loaded, cache)

    hits = cache.hits
    base = base_forecast(scenario, inputs, progress, cache)

    report_step(progress, "staffing", 0.0, "requirements per interval")
    volumes = scenario_volumes(scenario, base)
    policies = channel_policies(scenario)
    requirements = compute_requirements(
        volumes[["channel", "ds", "volume", "aht_s"]], policies, base.interval_s,
        deferred_tail_days=1,
    )

    caps = headcount_caps(scenario)
    meta_shifts: dict[str, Any]
    if scenario.shifts.solve:
        report_step(progress, "shifts", 0.0, "solving shifts")
        plan = solve_shifts_cached(
            requirements, shift_rules(scenario), caps, policies, base.interval_s, cache,
            lambda f, m: report_step(progress, "shifts", f, m),
        )
        shift_plan, coverage = plan.shift_plan, plan.coverage
    else:
        plan = None
        coverage = interval_staffing(requirements, caps)
        shift_plan = pd.DataFrame(columns=list(SHIFT_PLAN))
    meta_shifts = shift_meta(plan, coverage, base.interval_s)

    report_step(progress, "kpis", 0.0, "achieved KPIs")
    # what the plan delivers at the expected volume (staff_to may have sized it for more)
    kpis = achieved_kpis(
        volumes[["channel", "ds", "volume_mean", "aht_s"]].rename(
            columns={"volume_mean": "volume"}),
        coverage[["channel", "ds", "scheduled"]],
        policies,
        base.interval_s,
    )
    if rollups:
        daily, weekly = daily_and_weekly(scenario, kpis, shift_plan, base.interval_s)
        warnings = [*input_warnings(given, loaded), *spread_warnings(scenario, base)]
    else:
        daily, weekly, warnings = pd.DataFrame(), pd.DataFrame(), []
    report_step(progress, "kpis", 1.0, "done")

    meta = {
        "forecast_key": scenario.forecast_key(),
        "forecast_cached": cache.hits > hits,
        "interval_s": base.interval_s,
        "models": dict(base.models),
        **meta_shifts,
        "warnings": warnings,
    }
    if queues:
        meta["queues"] = dict(queues)
    return ScenarioResult(
        scenario=given,
        forecast=base.contacts.copy(),  # the cached frame stays untouched
        volumes=volumes,
        requirements=requirements,
        shift_plan=shift_plan,
        coverage=coverage,
        kpis_interval=kpis,
        kpis_daily=daily,
        weekly=weekly,
        meta=meta,
    )
