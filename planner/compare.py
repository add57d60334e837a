"""Side-by-side comparison of scenario results, with differences against a baseline.

:func:`compare` takes any set of :class:`~planner.results.ScenarioResult` (fresh runs
or loaded from the store) and lines them up: FTE, paid hours and cost by week,
achieved service level, ASA and abandonment per channel by day, the email (deferred)
backlog, the worst intervals of each scenario, and every summary figure minus the
baseline's.

Examples
--------
>>> import pandas as pd
>>> from planner.results import ScenarioResult
>>> from planner.scenario import Scenario
>>> def toy(name, hours, sl):
...     daily = pd.DataFrame({"date": pd.to_datetime(["2024-11-04"]), "channel": ["chat"],
...                           "service_level": [sl], "paid_hours": [hours]})
...     s = Scenario(name=name, channels={"chat": {}})
...     return ScenarioResult(s, kpis_daily=daily,
...                           weekly=pd.DataFrame({"week": pd.to_datetime(["2024-11-04"]),
...                                                "channel": ["chat"], "days": [1],
...                                                "paid_hours": [hours],
...                                                "fte": [hours * 7 / 40],
...                                                "cost": [hours * 20.0]}))
>>> c = compare([toy("base", 80.0, 0.9), toy("lean", 60.0, 0.7)], baseline="base")
>>> c.totals[["scenario", "paid_hours", "d_paid_hours", "d_cost"]]
  scenario  paid_hours  d_paid_hours  d_cost
0     base        80.0           0.0     0.0
1     lean        60.0         -20.0  -400.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.results import ScenarioResult
from staffing.kpis import DAILY_COLUMNS

__all__ = ["CompareError", "Comparison", "compare", "rounded"]

_SUMMARY_NUMERIC = (
    "volume",
    "paid_hours",
    "avg_fte",
    "peak_week_fte",
    "cost",
    "service_level",
    "asa_s",
    "abandon_rate",
    "max_backlog_items",
    "max_backlog_age_h",
    "days_below_target",
    "max_daily_agents",
)
_DAILY_COLS = tuple(c for c in DAILY_COLUMNS if c not in ("date", "channel"))


class CompareError(ValueError):
    """The comparison cannot be built (no results, unknown baseline, duplicate labels)."""


@dataclass(frozen=True)
class Comparison:
    """Scenarios side by side; every frame has a ``scenario`` label column.

    Attributes
    ----------
    baseline : str
        Label of the baseline scenario.
    totals : DataFrame
        ``scenario, paid_hours, avg_fte, peak_week_fte, cost`` over all channels, plus
        ``d_<column>`` differences against the baseline.
    summary : DataFrame
        Per scenario and channel: the columns of :meth:`ScenarioResult.summary` and their
        ``d_<column>`` differences against the baseline's same channel.
    weekly : DataFrame
        ``scenario, week, channel, days, paid_hours, fte, cost``.
    daily : DataFrame
        ``scenario, date, channel, service_level, asa_s, abandon_rate, occupancy,
        backlog_items, backlog_age_h, paid_hours``.
    backlog : DataFrame
        Daily KPIs rows of deferred channels (email): ``scenario, date, channel,
        backlog_items, backlog_age_h``.
    worst_intervals : DataFrame
        The ``worst_n`` intervals per scenario and channel with the lowest achieved service
        level (queued channels) or oldest backlog (deferred channels).
    capacity : DataFrame
        One row per scenario with capacity settings: ``scenario, hires, classes,
        hiring_cost, cost, peak_gap_fte, short_fte_weeks, latest_decision`` (empty when
        none has them).
    """

    baseline: str
    totals: pd.DataFrame
    summary: pd.DataFrame
    weekly: pd.DataFrame
    daily: pd.DataFrame
    backlog: pd.DataFrame
    worst_intervals: pd.DataFrame
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_text(self) -> str:
        """Plain-text report: totals and the per-channel summary with differences."""
        cols = ["scenario", "channel", "avg_fte", "max_daily_agents", "cost", "service_level",
                "asa_s", "abandon_rate", "max_backlog_items", "max_backlog_age_h",
                "d_avg_fte", "d_cost", "d_service_level"]
        summ = self.summary[[c for c in cols if c in self.summary.columns]]
        text = (
            f"Baseline: {self.baseline}\n\nTotals over all channels\n"
            + self.totals.to_string(index=False, formatters=_formats(self.totals))
            + "\n\nBy channel\n"
            + summ.to_string(index=False, formatters=_formats(summ), na_rep="-")
            + "\n"
        )
        if len(self.capacity):
            cap = self.capacity.assign(latest_decision=[
                "-" if pd.isna(d) else f"{d:%Y-%m-%d}" for d in self.capacity["latest_decision"]])
            text += ("\nCapacity plan (scenarios with capacity settings)\n"
                     + cap.to_string(index=False, formatters=_formats(cap), na_rep="-") + "\n")
        return text


def _formats(frame: pd.DataFrame) -> dict:
    out = {}
    for c in frame.columns:
        if frame[c].dtype.kind != "f":
            continue
        base = c.removeprefix("d_")
        if base in ("service_level", "abandon_rate"):
            spec = "{:+.3f}" if c.startswith("d_") else "{:.3f}"
        elif base in ("avg_fte", "peak_week_fte", "asa_s", "max_backlog_age_h"):
            spec = "{:+,.1f}" if c.startswith("d_") else "{:,.1f}"
        else:
            spec = "{:+,.0f}" if c.startswith("d_") else "{:,.0f}"
        out[c] = spec.format
    return out


def _labelled(
    results: Sequence[ScenarioResult] | Mapping[str, ScenarioResult],
) -> dict[str, ScenarioResult]:
    if isinstance(results, Mapping):
        out = {str(k): v for k, v in results.items()}
    else:
        counts: dict[str, int] = {}
        for r in results:
            counts[r.name] = counts.get(r.name, 0) + 1
        out = {}
        for i, r in enumerate(results):
            label = r.name
            if counts[r.name] > 1:
                label = f"{r.name}@v{r.meta.get('version', i + 1)}"
            if label in out:
                raise CompareError(f"results: two scenarios are both labelled {label!r}")
            out[label] = r
    if not out:
        raise CompareError("results: nothing to compare")
    return out


def _stack(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    parts = [f.assign(scenario=k) for k, f in frames.items() if f is not None and len(f)]
    if not parts:
        return pd.DataFrame(columns=["scenario"])
    out = pd.concat(parts, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]


def _worst(label: str, r: ScenarioResult, n: int) -> pd.DataFrame:
    """The ``n`` intervals of each channel with the lowest service level among those with
    volume (the oldest backlog for deferred channels), from ``achieved_kpis`` columns."""
    k = r.kpis_interval
    if k is None or not len(k):
        return pd.DataFrame()
    parts = []
    for channel, g in k.groupby("channel", sort=False):
        settings = r.scenario.channels.get(channel)
        if settings is not None and settings.model == "deferred":
            parts.append(g.nlargest(n, "backlog_age_s"))
        else:
            parts.append(g[g["volume"] > 0].nsmallest(n, "sl"))
    return pd.concat(parts, ignore_index=True).assign(scenario=label)


def compare(
    results: Sequence[ScenarioResult] | Mapping[str, ScenarioResult],
    baseline: str | None = None,
    worst_n: int = 5,
) -> Comparison:
    """Line up scenario results and difference them against a baseline.

    Parameters
    ----------
    results : sequence or mapping of ScenarioResult
        A sequence is labelled by scenario name (``name@vN`` when the same name appears
        twice with store versions); a mapping uses its keys as labels.
    baseline : str, optional
        Label of the baseline; default the first result.
    worst_n : int, default 5
        Worst intervals kept per scenario and channel.

    Returns
    -------
    Comparison

    Raises
    ------
    CompareError
        When ``results`` is empty, labels collide or ``baseline`` is not among them.
    """
    labelled = _labelled(results)
    base = next(iter(labelled)) if baseline is None else baseline
    if base not in labelled:
        raise CompareError(f"baseline {base!r} is not among the compared {sorted(labelled)}")

    summary = _stack({k: r.summary() for k, r in labelled.items()})
    weekly = _stack({k: r.weekly for k, r in labelled.items()})
    daily_frames = {}
    for k, r in labelled.items():
        d = r.kpis_daily
        if d is not None and len(d):
            daily_frames[k] = d[["date", "channel", *[c for c in _DAILY_COLS if c in d]]]
    daily = _stack(daily_frames)

    deferred = {
        (k, ch)
        for k, r in labelled.items()
        for ch, s in r.scenario.channels.items()
        if s.model == "deferred"
    }
    if len(daily):
        is_def = [(s, c) in deferred for s, c in zip(daily["scenario"], daily["channel"],
                                                       strict=True)]
        keep = ["scenario", "date", "channel",
                *[c for c in ("backlog_items", "backlog_age_h") if c in daily]]
        backlog = daily.loc[is_def, keep].reset_index(drop=True)
    else:
        backlog = pd.DataFrame(columns=["scenario", "date", "channel"])

    worst = _stack({k: _worst(k, r, worst_n).drop(columns="scenario", errors="ignore")
                    for k, r in labelled.items()})

    if len(summary):
        numeric = [c for c in _SUMMARY_NUMERIC if c in summary]
        ref = summary[summary["scenario"] == base].set_index("channel")[numeric]
        joined = summary.merge(ref.add_suffix("_base"), left_on="channel", right_index=True,
                               how="left")
        for c in numeric:
            summary[f"d_{c}"] = joined[c].to_numpy(float) - joined[f"{c}_base"].to_numpy(float)

    tot_cols = ["paid_hours", "avg_fte", "peak_week_fte", "cost"]
    totals = _totals(labelled, weekly)
    ref_tot = totals.loc[totals["scenario"] == base, tot_cols].to_numpy(float)[0]
    for i, c in enumerate(tot_cols):
        totals[f"d_{c}"] = totals[c].to_numpy(float) - ref_tot[i]

    return Comparison(
        baseline=base,
        totals=totals,
        summary=summary,
        weekly=weekly,
        daily=daily,
        backlog=backlog,
        worst_intervals=worst,
        capacity=_capacity(labelled),
    )


def _capacity(labelled: dict[str, ScenarioResult]) -> pd.DataFrame:
    """Hires, hiring cost, peak gap and latest decision of each scenario that has
    capacity settings (:meth:`planner.capacity.CapacityPlan.totals`)."""
    rows = []
    for label, r in labelled.items():
        if getattr(r.scenario, "capacity", None) is None or r.weekly is None or not len(r.weekly):
            continue
        from planner.capacity import capacity_plan

        rows.append({"scenario": label, **capacity_plan(r).totals()})
    return pd.DataFrame(rows)


def _totals(labelled: dict[str, ScenarioResult], weekly: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for label in labelled:
        w = weekly[weekly["scenario"] == label] if len(weekly) else weekly
        if len(w):
            per_week = w.groupby("week").agg(fte=("fte", "sum"), days=("days", "max"))
            avg = float(np.average(per_week["fte"], weights=per_week["days"]))
            peak = float(per_week["fte"].max())
            hours, cost = float(w["paid_hours"].sum()), float(w["cost"].sum())
        else:
            avg = peak = hours = cost = 0.0
        rows.append(
            {"scenario": label, "paid_hours": hours, "avg_fte": avg, "peak_week_fte": peak,
             "cost": cost}
        )
    return pd.DataFrame(rows)


def rounded(frame: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """A copy with float columns rounded to ``digits`` decimals, for files people read.

    Examples
    --------
    >>> rounded(pd.DataFrame({"a": [0.123456789], "b": ["x"]}))["a"].tolist()
    [0.1235]
    """
    out = frame.copy()
    cols = out.select_dtypes(include="floating").columns
    out[cols] = out[cols].round(digits)
    return out
