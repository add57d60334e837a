"""Side-by-side comparison of scenario results, with differences against a baseline.

Why it is long: one comparison holds every table the CLI, the app and the workbook show
side by side (totals, channels, queue roll-ups, weeks, days, backlog, worst intervals,
capacity, assumptions in words); split, each would re-derive the labelled results.

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
>>> c.same_days
True
>>> later = toy("later", 80.0, 0.9)
>>> later = ScenarioResult(later.scenario.with_changes({"horizon.start": "2024-11-05"}),
...                        kpis_daily=later.kpis_daily, weekly=later.weekly)
>>> compare([toy("base", 80.0, 0.9), later]).same_days  # the plans start on other days
False
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from planner.results import ScenarioResult
from staffing.kpis import DAILY_COLUMNS

__all__ = [
    "CompareError",
    "Comparison",
    "assumption_diff",
    "compare",
    "diff_table",
    "field_label",
    "rounded",
    "workbook_tables",
]

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
    assumptions : DataFrame
        What differs from the baseline (:func:`assumption_diff`).
    horizons : DataFrame
        ``scenario, start, end``: the days each plan covers (see :attr:`same_days`).
    rollup : DataFrame
        Per scenario :meth:`ScenarioResult.rollup` (queue rows for runs per queue, channel
        and total rows for all) with ``d_<column>`` differences against the baseline's
        row of the same ``level`` and ``name``.
    """

    baseline: str
    totals: pd.DataFrame
    summary: pd.DataFrame
    weekly: pd.DataFrame
    daily: pd.DataFrame
    backlog: pd.DataFrame
    worst_intervals: pd.DataFrame
    capacity: pd.DataFrame = field(default_factory=pd.DataFrame)
    assumptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    horizons: pd.DataFrame = field(default_factory=pd.DataFrame)
    rollup: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def has_queues(self) -> bool:
        """Some compared run was planned per queue (its summary rows are queues)."""
        r = self.rollup
        return bool(len(r)) and bool((r["level"] == "queue").any())

    @property
    def same_days(self) -> bool:
        """Every plan covers the same days (else paid hours, cost and backlog totals are
        not like for like; average FTE and service levels still compare)."""
        h = self.horizons
        return not len(h) or len(h[["start", "end"]].drop_duplicates()) == 1

    def to_text(self, queues: bool = False) -> str:
        """Plain-text report: what differs, totals and the per-channel summary. When a
        run was planned per queue, its channels are the roll-ups of :attr:`rollup` (with
        the volume-weighted service level of all queues in ``total`` rows) and
        ``queues=True`` adds the summary per queue."""
        cols = ["scenario", "channel", "avg_fte", "max_daily_agents", "cost", "service_level",
                "asa_s", "abandon_rate", "max_backlog_items", "max_backlog_age_h",
                "d_avg_fte", "d_cost", "d_service_level"]
        summ = self.summary[[c for c in cols if c in self.summary.columns]]
        by = summ.to_string(index=False, formatters=_formats(summ), na_rep="-")
        if self.has_queues:
            r = self.rollup[self.rollup["level"] != "queue"].drop(columns="channel").rename(
                columns={"name": "channel"})
            r = r[[c for c in ["scenario", "channel", "queues", *cols[2:]] if c in r.columns]]
            by = ("(queues rolled up: service level, ASA and abandonment weighted by volume; "
                  "FTE and cost summed)\n"
                  + r.to_string(index=False, formatters=_formats(r), na_rep="-"))
            if queues:
                by += "\n\nBy queue\n" + summ.rename(columns={"channel": "queue"}).to_string(
                    index=False, formatters=_formats(summ), na_rep="-")
        text = f"Baseline: {self.baseline}\n\n" + _diff_text(self.assumptions) + (
            "Totals over all channels\n"
            + self.totals.to_string(index=False, formatters=_formats(self.totals))
            + "\n\nBy channel\n" + by + "\n"
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
    planned = r.planned_scenario.channels
    for channel, g in k.groupby("channel", sort=False):
        settings = planned.get(channel)
        if settings is not None and settings.deferred:
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
        for ch, s in r.planned_scenario.channels.items()
        if s.deferred
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

    rollup = _stack({k: r.rollup() for k, r in labelled.items()})
    if len(rollup):
        numeric = [c for c in _SUMMARY_NUMERIC if c in rollup]
        ref = rollup[rollup["scenario"] == base].set_index(["level", "name"])[numeric]
        joined = rollup.merge(ref.add_suffix("_base"), left_on=["level", "name"],
                              right_index=True, how="left")
        for c in numeric:
            rollup[f"d_{c}"] = joined[c].to_numpy(float) - joined[f"{c}_base"].to_numpy(float)

    tot_cols = ["paid_hours", "avg_fte", "peak_week_fte", "cost"]
    totals = _totals(labelled)
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
        assumptions=assumption_diff({k: r.scenario for k, r in labelled.items()}, base),
        horizons=pd.DataFrame(
            [{"scenario": k, "start": pd.Timestamp(r.scenario.horizon.start),
              "end": pd.Timestamp(r.scenario.horizon.end)} for k, r in labelled.items()],
            columns=["scenario", "start", "end"]),
        rollup=rollup,
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


def _totals(labelled: dict[str, ScenarioResult]) -> pd.DataFrame:
    return pd.DataFrame([{"scenario": label, **r.totals()} for label, r in labelled.items()])


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


def workbook_tables(comparison: Comparison) -> dict[str, pd.DataFrame]:
    """The comparison workbook's sheets for people: ``what differs``, then totals, summary,
    weekly, daily, backlog, worst intervals and capacity, headers in words
    (:mod:`planner.labels`), floats to 4 decimals (``compare --out`` CSVs: column names)."""
    from planner.labels import in_words

    out = {"what differs": diff_table(comparison.assumptions)}
    names = ("totals", "summary", "weekly", "daily", "backlog", "worst_intervals")
    frames = {n: getattr(comparison, n) for n in names}
    if comparison.capacity is not None and len(comparison.capacity):
        frames["capacity"] = comparison.capacity  # hires, cost, gap, decision date
    if comparison.has_queues:
        frames["rollup"] = comparison.rollup  # queues, channels and total
    for name, frame in frames.items():
        out[name.replace("_", " ")] = in_words(rounded(frame))  # dates stay dates
    return out


# ------------------------------------------------------------------ what differs
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NOT_COMPARED = ("name", "description")
_SHARES = {"target_sl", "shrinkage", "automation", "max_occupancy", "order_growth",
           "attrition_weekly", "overtime_cap", "overtime_premium",
           "contact_rate", "shrinkage_by_month"}
_SECONDS = {"threshold_s", "patience_s", "response_target_s", "aht_s", "time_limit_s"}
_WORDS = {
    "data": "data", "orders": "orders file", "contacts": "contacts file",
    "events": "events file", "interval_s": "interval length", "timezone": "time zone",
    "horizon": "plan", "start": "first day", "end": "last day (sets the days to plan)",
    "history_end": "history ends",
    "forecast": "forecast", "model": "model", "level": "band level (%)",
    "staff_to": "staff to", "order_growth": "order growth", "contact_rate": "contact rate",
    "target_sl": "service level target", "threshold_s": "answered within",
    "patience_s": "patience", "concurrency": "chats per agent",
    "response_target_s": "response target", "aht_s": "handle time (AHT)",
    "automation": "automation", "shrinkage": "shrinkage",
    "shrinkage_by_month": "shrinkage by month", "max_occupancy": "maximum occupancy",
    "open_hours": "open hours", "headcount_cap": "headcount cap",
    "cap_priority": "priority under the cap", "cost_per_paid_hour": "cost per paid hour",
    "shifts": "shifts", "lengths_h": "shift lengths (h)", "start_step_min": "start every (min)",
    "break_min": "break (min)", "break_window_h": "break window (h after start)",
    "time_limit_s": "solver time limit", "solve": "solve shifts",
    "headcount_cap_total": "headcount cap (all channels)", "queues": "queue settings",
    "fte_hours_per_week": "hours per FTE week", "capacity": "capacity",
    "planned": "channel planned",
}


def _flatten(value: object, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    """Leaves of a scenario dict keyed by path; a month mapping (int keys) is one leaf."""
    if isinstance(value, Mapping) and value and not all(str(k).isdigit() for k in value):
        out: dict[tuple[str, ...], object] = {}
        for k, v in value.items():
            out.update(_flatten(v, (*prefix, str(k))))
        return out
    return {prefix: value}


def field_label(path: tuple[str, ...] | str) -> str:
    """A scenario field's path in words: ``channels.chat.target_sl`` -> ``Chat: service
    level target``; ``shifts.break_min`` -> ``Shifts: break (min)``.

    Examples
    --------
    >>> field_label("channels.voice.aht_s"), field_label("order_growth")
    ('Voice: handle time (AHT)', 'Order growth')
    """
    parts = tuple(path.split(".")) if isinstance(path, str) else tuple(path)
    if parts and parts[0] == "channels" and len(parts) >= 2:
        head, rest = parts[1], parts[2:]
    elif len(parts) >= 2:
        head, rest = _WORDS.get(parts[0], parts[0].replace("_", " ")), parts[1:]
    else:
        head, rest = "", parts
    words = " ".join(_WORDS.get(p, p.replace("_", " ")) for p in rest)
    text = f"{head[:1].upper()}{head[1:]}: {words}" if head else words
    return text[:1].upper() + text[1:]


def _in_words(key: str, value: object) -> str:
    """One assumption's value in words: shares as percentages, seconds with units,
    month mappings by month name, unset values as ``not set`` (learned or default)."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{_MONTHS[int(k) - 1] if str(k).isdigit() and 1 <= int(k) <= 12 else k}"
                         f" {_in_words(key, v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_in_words(key, v) for v in value)
    if isinstance(value, (int, float)):
        if key in _SHARES:
            return f"{float(value) * 100:,.4g}%"
        if key in _SECONDS:
            v = float(value)
            if v >= 3600 and v % 3600 == 0:
                return f"{v / 3600:,.0f} h"
            return f"{v:,.4g} s"
        if key == "cost_per_paid_hour":
            return f"{float(value):,.2f}"
        return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"
    return str(value)


def assumption_diff(scenarios: Mapping[str, object], baseline: str | None = None) -> pd.DataFrame:
    """Every assumption that differs from the baseline's, per scenario, in words.

    Parameters
    ----------
    scenarios : mapping of label -> Scenario
        Labels as in :func:`compare`; the name and description are not compared.
    baseline : str, optional
        Label of the baseline; default the first.

    Returns
    -------
    DataFrame
        ``scenario, path, field, baseline, value``: one row per scenario (other than the
        baseline) and differing field, in the order of the scenario's fields. ``field``
        is in words (:func:`field_label`), ``baseline`` and ``value`` are text
        (``80%``, ``20 s``, ``not set``, ``absent`` for a channel one side lacks).

    Raises
    ------
    CompareError
        When ``baseline`` is not among the labels.

    Examples
    --------
    >>> from planner.scenario import Scenario
    >>> a = Scenario(name="a")
    >>> b = a.with_changes({"channels.chat.target_sl": 0.9, "order_growth": 0.1,
    ...                     "channels.voice.threshold_s": 30})
    >>> assumption_diff({"a": a, "b": b})[["field", "baseline", "value"]]
                            field baseline value
    0                Order growth       0%   10%
    1  Chat: service level target      80%   90%
    2      Voice: answered within     20 s  30 s
    """
    labels = list(scenarios)
    cols = ["scenario", "path", "field", "baseline", "value"]
    if not labels:
        return pd.DataFrame(columns=cols)
    base = labels[0] if baseline is None else baseline
    if base not in scenarios:
        raise CompareError(f"baseline {base!r} is not among the compared {sorted(labels)}")

    def leaves(s: object) -> dict[tuple[str, ...], object]:
        d = s.to_dict() if hasattr(s, "to_dict") else dict(s)  # type: ignore[arg-type]
        return {k: v for k, v in _flatten(d).items() if k and k[0] not in _NOT_COMPARED}

    ref = leaves(scenarios[base])
    rows = []
    for label in labels:
        if label == base:
            continue
        mine = leaves(scenarios[label])
        done_channels = set()
        for path in [*mine, *[p for p in ref if p not in mine]]:
            a, b = ref.get(path, _ABSENT), mine.get(path, _ABSENT)
            if _same(a, b) or (a is _ABSENT and b is None and _parent_of(path, ref)) or (
                    b is _ABSENT and a is None and _parent_of(path, mine)):
                continue  # a section unset on one side is listed by its fields
            if path[0] == "channels" and len(path) > 2 and (a is _ABSENT or b is _ABSENT):
                if path[1] not in done_channels:  # a channel only one side plans: one row
                    done_channels.add(path[1])
                    rows.append((label, ".".join(path[:2]), field_label((*path[:2], "planned")),
                                 "no" if a is _ABSENT else "yes",
                                 "no" if b is _ABSENT else "yes"))
                continue
            key = path[-1]
            rows.append((label, ".".join(path), field_label(path),
                         _missing(path, ref) if a is _ABSENT else _in_words(key, a),
                         _missing(path, mine) if b is _ABSENT else _in_words(key, b)))
    return pd.DataFrame(rows, columns=cols)


_ABSENT = object()


def _parent_of(path: tuple[str, ...], leaves: Mapping[tuple[str, ...], object]) -> bool:
    """Whether ``leaves`` has fields below ``path`` (a section set on that side)."""
    return any(len(p) > len(path) and p[: len(path)] == path for p in leaves)


def _missing(path: tuple[str, ...], leaves: Mapping[tuple[str, ...], object]) -> str:
    """``not set`` when a section above ``path`` is unset on that side, else ``absent``."""
    unset = any(leaves.get(path[:i], _ABSENT) is None for i in range(1, len(path)))
    return "not set" if unset else "absent"


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not (
            isinstance(a, bool) or isinstance(b, bool)):
        return float(a) == float(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def diff_table(diff: pd.DataFrame) -> pd.DataFrame:
    """:func:`assumption_diff` as people read it (the app, the comparison workbook, the
    CLI): ``Scenario, Assumption, Baseline, Scenario value``."""
    names = {"scenario": "Scenario", "field": "Assumption", "baseline": "Baseline",
             "value": "Scenario value"}
    if diff is None or not len(diff.columns):
        return pd.DataFrame(columns=list(names.values()))
    return diff[list(names)].rename(columns=names).reset_index(drop=True)


def _diff_text(diff: pd.DataFrame) -> str:
    """The assumptions table of :meth:`Comparison.to_text` (empty when nothing differs)."""
    if diff is None or not len(diff):
        return "What differs from the baseline: no assumption\n\n"
    table = diff_table(diff)
    return "What differs from the baseline\n" + table.to_string(index=False) + "\n\n"
