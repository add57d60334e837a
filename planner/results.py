"""The result of one scenario run: every frame of the plan plus run metadata.

A :class:`ScenarioResult` holds the frames that the flow produces, in the data
contracts of the design notes, and converts to and from named tables (Parquet bytes)
so the store can save it and read it back unchanged.

Frames
------
forecast       ``unique_id, ds, yhat, yhat_lo, yhat_hi`` interval contacts per channel
volumes        ``channel, ds, volume, aht_s`` offered volume after the scenario's contact
               rate, growth and automation (what staffing plans for)
requirements   ``channel, ds, volume, aht_s, agents, rostered, sl, asa_s, occupancy``
shift_plan     ``date, channel, shift_start, shift_end, break_start, agents``
coverage       ``channel, ds, required, scheduled, gap``
kpis_interval  achieved interval KPIs for the planned agents (queue carry-over)
kpis_daily     ``date, channel, service_level, asa_s, abandon_rate, occupancy,
               backlog_items, backlog_age_h, paid_hours``
weekly         ``week, channel, days, paid_hours, fte, cost`` (week = Monday's date;
               ``fte = paid_hours / (fte_hours_per_week * days / 7)``)

Examples
--------
>>> import pandas as pd
>>> daily = pd.DataFrame({"date": pd.to_datetime(["2024-11-04", "2024-11-05"]),
...                       "channel": "chat", "paid_hours": [80.0, 60.0]})
>>> weekly_fte(daily, fte_hours_per_week=40.0, cost_per_hour={"chat": 20.0})
        week channel  days  paid_hours    fte    cost
0 2024-11-04    chat     2       140.0  12.25  2800.0
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from planner.queues import queue_scenario
from planner.queues import rollup as queue_rollup
from planner.scenario import Scenario

__all__ = [
    "RESULT_TABLES",
    "ScenarioResult",
    "frame_from_parquet",
    "frame_to_parquet",
    "weekly_fte",
]

RESULT_TABLES = (
    "forecast",
    "volumes",
    "requirements",
    "shift_plan",
    "coverage",
    "kpis_interval",
    "kpis_daily",
    "weekly",
)


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """Serialise a frame to Parquet bytes (index dropped, dtypes kept)."""
    buf = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buf, index=False)
    return buf.getvalue()


def frame_from_parquet(blob: bytes) -> pd.DataFrame:
    """Inverse of :func:`frame_to_parquet`."""
    return pd.read_parquet(io.BytesIO(blob))


def weekly_fte(
    kpis_daily: pd.DataFrame,
    fte_hours_per_week: float,
    cost_per_hour: Mapping[str, float],
) -> pd.DataFrame:
    """Paid hours, FTE and cost per week (Monday start) and channel.

    Parameters
    ----------
    kpis_daily : DataFrame
        Needs ``date, channel, paid_hours``.
    fte_hours_per_week : float
        Paid hours of one full-time equivalent in a full week.
    cost_per_hour : mapping
        Channel -> cost of one paid hour.

    Returns
    -------
    DataFrame
        ``week, channel, days, paid_hours, fte, cost``; a partial week at the edge of the
        horizon counts its FTE over its own ``days`` (``fte_hours_per_week * days / 7``).
    """
    d = kpis_daily[["date", "channel", "paid_hours"]].copy()
    d["date"] = pd.to_datetime(d["date"])
    d["week"] = d["date"] - pd.to_timedelta(d["date"].dt.day_of_week, unit="D")
    out = (
        d.groupby(["week", "channel"], sort=True)
        .agg(days=("date", "nunique"), paid_hours=("paid_hours", "sum"))
        .reset_index()
    )
    out["paid_hours"] = out["paid_hours"].astype(float)
    out["fte"] = out["paid_hours"] / (fte_hours_per_week * out["days"] / 7.0)
    rate = out["channel"].map(dict(cost_per_hour)).astype(float)
    out["cost"] = out["paid_hours"] * rate
    return out


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True)
class ScenarioResult:
    """Everything one run of a scenario produced (see the module docstring).

    ``meta`` is JSON-compatible run metadata: ``forecast_key``, ``interval_s``, the shift
    solver's ``shift_status``, ``shift_quality``, ``shift_paid_hours``,
    ``shift_paid_hours_bound``, ``shift_objective_h``, ``shift_lower_bound_h`` and
    ``shift_gap`` (see :func:`planner.pipeline.run`), ``timings_s`` per step, and the
    store's ``version`` when read back from a database. A run planned per queue has
    ``meta["queues"]`` (queue -> channel; :attr:`queues`): its frames' ``channel`` column
    then names the queue, ``scenario`` is the scenario as the user gave it and
    :attr:`planned_scenario` the one channel entry per queue that was planned.
    """

    scenario: Scenario
    forecast: pd.DataFrame = field(default_factory=_empty)
    volumes: pd.DataFrame = field(default_factory=_empty)
    requirements: pd.DataFrame = field(default_factory=_empty)
    shift_plan: pd.DataFrame = field(default_factory=_empty)
    coverage: pd.DataFrame = field(default_factory=_empty)
    kpis_interval: pd.DataFrame = field(default_factory=_empty)
    kpis_daily: pd.DataFrame = field(default_factory=_empty)
    weekly: pd.DataFrame = field(default_factory=_empty)
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self.scenario.name

    @property
    def queues(self) -> dict[str, str]:
        """Queue -> channel of a run planned per queue; ``{}`` for a run per channel."""
        return dict(self.meta.get("queues") or {})

    @property
    def planned_scenario(self) -> Scenario:
        """The scenario as planned: one channel entry per queue (the channel's settings
        with the scenario's ``queues`` overrides) for a run per queue, else ``scenario``.
        Frames' ``channel`` values are the keys of its ``channels``."""
        queues = self.queues
        if not queues or set(queues) <= set(self.scenario.channels):
            return self.scenario
        return queue_scenario(self.scenario, queues, self.scenario.queues)

    def rollup(self) -> pd.DataFrame:
        """The plan per queue, per channel and in total (:func:`planner.queues.rollup`).

        Columns ``level`` (``queue``, ``channel``, ``total``), ``name``, ``channel``,
        ``queues``, ``volume``, ``paid_hours``, ``avg_fte``, ``peak_week_fte``, ``cost``,
        ``service_level``, ``asa_s``, ``abandon_rate``, ``max_backlog_items``. A run per
        channel has only the ``channel`` and ``total`` rows.
        """
        queues = self.queues
        if queues:
            return queue_rollup(self, queues)
        out = queue_rollup(self, {ch: ch for ch in self.scenario.channels})
        return out[out["level"] != "queue"].reset_index(drop=True)

    def to_tables(self) -> dict[str, pd.DataFrame]:
        """The frames by table name (``RESULT_TABLES``)."""
        return {t: getattr(self, t) for t in RESULT_TABLES}

    def meta_json(self) -> str:
        """``meta`` as JSON text (non-finite floats become null)."""
        return json.dumps(_jsonable(dict(self.meta)), sort_keys=True)

    @classmethod
    def from_tables(
        cls,
        scenario: Scenario,
        tables: Mapping[str, pd.DataFrame],
        meta: Mapping[str, Any] | None = None,
    ) -> ScenarioResult:
        """Rebuild a result from :meth:`to_tables` output (missing tables are empty)."""
        known = {f.name for f in fields(cls)}
        kwargs = {t: tables[t] for t in RESULT_TABLES if t in tables and t in known}
        return cls(scenario=scenario, meta=dict(meta or {}), **kwargs)

    def totals(self) -> dict[str, float]:
        """Paid hours, FTE and cost over all channels: ``paid_hours, avg_fte,
        peak_week_fte, cost``. FTE are summed per week, then averaged over the weeks
        (weighted by the days of each week in the plan) or taken at the busiest week."""
        w = self.weekly
        if not len(w):
            return {"paid_hours": 0.0, "avg_fte": 0.0, "peak_week_fte": 0.0, "cost": 0.0}
        per_week = w.groupby("week").agg(fte=("fte", "sum"), days=("days", "max"))
        return {"paid_hours": float(w["paid_hours"].sum()),
                "avg_fte": float(np.average(per_week["fte"], weights=per_week["days"])),
                "peak_week_fte": float(per_week["fte"].max()),
                "cost": float(w["cost"].sum())}

    def unserved(self) -> pd.DataFrame:
        """Agent-hours of the requirement the plan leaves unserved, per channel.

        ``channel, short_intervals, unserved_agent_hours``: open intervals where the plan
        schedules fewer agents than required (a headcount cap, or a shift grid that cannot
        follow the curve), and the missing agents times the interval length. Their total
        is ``meta["short_agent_hours"]``.
        """
        cov = self.coverage
        interval_h = float(self.meta.get("interval_s") or 0) / 3600.0
        rows = []
        for channel in self.planned_scenario.channels:
            c = cov[cov["channel"] == channel] if len(cov) and "short" in cov else None
            short = c["short"].to_numpy(float) if c is not None else np.zeros(0)
            rows.append({"channel": channel, "short_intervals": int(np.sum(short > 0)),
                         "unserved_agent_hours": float(short.sum() * interval_h)})
        return pd.DataFrame(rows, columns=["channel", "short_intervals",
                                           "unserved_agent_hours"])

    def plan_summary(self) -> pd.DataFrame:
        """The plan's headline figures, one row per channel and one for all channels.

        ``channel, contacts, paid_hours, avg_fte, peak_week_fte, cost, service_level,
        asa_s, abandon_rate, max_backlog_items, short_intervals, unserved_agent_hours``
        from :meth:`summary` and :meth:`unserved` (FTE of the shift plan: paid hours per
        week over the hours of one FTE), and, in the ``all`` row, the shift solver's
        ``paid_hours_bound`` (no plan can need fewer paid hours) and its quality in words.
        The ``all`` row's FTE and cost are :meth:`totals`; it has no service level (each
        channel has its own target).
        """
        per = self.summary().merge(self.unserved(), on="channel", how="left")
        per = per.rename(columns={"volume": "contacts"})
        cols = ["channel", "contacts", "paid_hours", "avg_fte", "peak_week_fte", "cost",
                "service_level", "asa_s", "abandon_rate", "max_backlog_items",
                "short_intervals", "unserved_agent_hours"]
        per = per[cols]
        total = {"channel": "all", "contacts": float(per["contacts"].sum()),
                 **self.totals(), "max_backlog_items": _max(per["max_backlog_items"]),
                 "short_intervals": int(per["short_intervals"].sum()),
                 "unserved_agent_hours": float(per["unserved_agent_hours"].sum())}
        out = pd.concat([per, pd.DataFrame([total])], ignore_index=True)
        bound = self.meta.get("shift_paid_hours_bound")
        out["paid_hours_bound"] = [np.nan] * len(per) + [
            np.nan if bound is None else float(bound)]
        out["plan_quality"] = [""] * len(per) + [str(self.meta.get("shift_quality") or "")]
        return out

    def _max_daily_agents(self, channel: str) -> float:
        return _max_daily_agents_of(self.shift_plan, self.coverage, channel)

    def summary(self) -> pd.DataFrame:
        """One row per channel (per queue for a run per queue) over the whole horizon.

        Columns: ``channel, volume, paid_hours, avg_fte, peak_week_fte, cost,
        service_level, asa_s, abandon_rate, max_backlog_items, max_backlog_age_h,
        days_below_target, max_daily_agents``. Service level, ASA and abandonment are
        volume-weighted means of the daily KPIs; backlog maxima are over finite values;
        ``days_below_target`` counts days whose achieved service level is below the
        channel's ``target_sl``; ``max_daily_agents`` is the most agents on shift in one
        day (the quantity a headcount cap limits; without a shift plan, the most agents
        scheduled in one interval).
        """
        daily = self.kpis_daily
        planned = self.planned_scenario
        rows = []
        for channel in planned.channels:
            d = daily[daily["channel"] == channel] if len(daily) else daily
            w = self.weekly[self.weekly["channel"] == channel] if len(self.weekly) else None
            vol = self.volumes[self.volumes["channel"] == channel] if len(self.volumes) else None
            daily_vol = _daily_volume(vol, d)
            target = planned.channels[channel].target_sl
            sl = d["service_level"].to_numpy(float) if len(d) else np.array([])
            rows.append(
                {
                    "channel": channel,
                    "volume": float(vol["volume"].sum()) if vol is not None else np.nan,
                    "paid_hours": float(d["paid_hours"].sum()) if len(d) else 0.0,
                    "avg_fte": _wmean(w["fte"], w["days"]) if w is not None and len(w) else 0.0,
                    "peak_week_fte": float(w["fte"].max()) if w is not None and len(w) else 0.0,
                    "cost": float(w["cost"].sum()) if w is not None and len(w) else 0.0,
                    "service_level": _wmean(d.get("service_level"), daily_vol),
                    "asa_s": _wmean(d.get("asa_s"), daily_vol),
                    "abandon_rate": _wmean(d.get("abandon_rate"), daily_vol),
                    "max_backlog_items": _max(d.get("backlog_items")),
                    "max_backlog_age_h": _max(d.get("backlog_age_h")),
                    "days_below_target": int(np.sum(sl < target)),
                    "max_daily_agents": self._max_daily_agents(channel),
                }
            )
        return pd.DataFrame(rows)


def _max_daily_agents_of(plan: pd.DataFrame, coverage: pd.DataFrame, channel: str) -> float:
    if plan is not None and len(plan) and "agents" in plan.columns:
        p = plan[plan["channel"] == channel]
        if len(p):
            return float(p.groupby(pd.to_datetime(p["date"]))["agents"].sum().max())
    if coverage is not None and len(coverage) and "scheduled" in coverage.columns:
        c = coverage[coverage["channel"] == channel]
        if len(c):
            return float(c["scheduled"].max())
    return float("nan")


def _daily_volume(vol: pd.DataFrame | None, daily: pd.DataFrame) -> np.ndarray | None:
    if vol is None or not len(vol) or not len(daily):
        return None
    per_day = vol.groupby(pd.to_datetime(vol["ds"]).dt.normalize())["volume"].sum()
    days = pd.to_datetime(daily["date"]).dt.normalize()
    return days.map(per_day).fillna(0.0).to_numpy(float)


def _wmean(values: Any, weights: Any) -> float:
    if values is None or not len(values):
        return float("nan")
    v = np.asarray(values, dtype=float)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(v) & (w > 0)
    if not ok.any():
        return float("nan")
    return float(np.sum(v[ok] * w[ok]) / np.sum(w[ok]))


def _max(values: Any) -> float:
    if values is None or not len(values):
        return float("nan")
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(v.max()) if len(v) else float("nan")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)
