"""Widgets that edit the session's current :class:`planner.scenario.Scenario`.

The scenario in ``st.session_state`` is the single source of truth. Each widget is seeded
from it when first drawn (its key is ``"w.<page>.<dotted field path>"``: one namespace per
page, because Streamlit forgets a widget's state when another page is shown) and every
change is written back through ``Scenario.with_changes``, which validates it. Widget values are
the scenario's fields in display units (percent for shares, hours for long durations);
the conversion is a unit change, not planning arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from planner.scenario import Scenario, ScenarioError

__all__ = [
    "assumption_editor",
    "reset_widgets",
    "widget_key",
]

PREFIX = "w."
#: Session key set True when an edit of this run was rejected as invalid (pages that save
#: reset it before drawing their editors and refuse to save while it is set).
REJECTED = "editor_rejected"


@dataclass(frozen=True)
class _Field:
    path: str
    label: str
    kind: str  # "slider", "number", "date", "select", "toggle"
    to_widget: Callable[[Any], Any] = lambda v: v
    from_widget: Callable[[Any], Any] = lambda v: v
    options: dict[str, Any] | None = None
    help: str | None = None


def _pct(v: float | None) -> float:
    return 0.0 if v is None else round(float(v) * 100.0, 2)


def _share(v: float) -> float:
    return float(v) / 100.0


def _none_zero(v: float | None) -> float:
    return 0.0 if v is None else float(v)


def _zero_none(v: float) -> float | None:
    return None if not v else float(v)


def _int_or_none(v: float) -> int | None:
    return None if not v else int(v)


def _hours(v: float | None) -> float:
    return 0.0 if v is None else round(float(v) / 3600.0, 3)


def _seconds(v: float) -> float:
    return float(v) * 3600.0


def _get(scenario: Scenario, path: str) -> Any:
    node: Any = scenario.to_dict()
    for key in path.split("."):
        node = node[key]
    return node


def reset_widgets() -> None:
    """Forget all editor widget values (after the scenario was replaced wholesale)."""
    for key in [k for k in st.session_state if str(k).startswith(PREFIX)]:
        del st.session_state[key]


def widget_key(ns: str, path: str) -> str:
    """Session-state key of the editor widget for field ``path`` on page ``ns``."""
    return f"{PREFIX}{ns}.{path}"


def _draw(
    container: Any, f: _Field, scenario: Scenario, slider: dict[str, Any], ns: str
) -> Any:
    key = widget_key(ns, f.path)
    raw = _get(scenario, f.path)
    if key not in st.session_state:
        seed = f.to_widget(raw)
        if f.kind == "date":
            seed = dt.date.fromisoformat(seed) if isinstance(seed, str) else seed
        st.session_state[key] = seed
    if f.kind == "slider":
        fmt = "%.0f%%" if f.label.endswith("%") else None
        return container.slider(f.label, key=key, help=f.help, format=fmt, **slider)
    if f.kind == "number":
        return container.number_input(f.label, key=key, help=f.help, **slider)
    if f.kind == "date":
        return container.date_input(f.label, key=key, help=f.help)
    if f.kind == "select":
        return container.selectbox(f.label, list(f.options or {}), key=key, help=f.help)
    if f.kind == "multiselect":
        return container.multiselect(f.label, list(f.options or {}), key=key, help=f.help)
    if f.kind == "toggle":
        return container.toggle(f.label, key=key, help=f.help)
    raise ValueError(f"kind {f.kind!r} is not a known widget kind")


def _channel_fields(name: str, ch: dict[str, Any], section: str) -> list[tuple[_Field, dict]]:
    p = f"channels.{name}."
    out: list[tuple[_Field, dict]] = []
    if section == "demand":
        if isinstance(ch["automation"], dict):
            return out  # monthly automation: edited in the YAML, shown as text
        out.append(
            (
                _Field(p + "automation", f"{name}: automation (bots), %", "slider", _pct, _share,
                       help="Share of this channel's contacts deflected before an agent."),
                {"min_value": 0.0, "max_value": 90.0, "step": 1.0},
            )
        )
    elif section == "service":
        if ch["model"] == "deferred":
            out.append(
                (
                    _Field(p + "response_target_s", f"{name}: answer within, hours", "number",
                           _hours, _seconds),
                    {"min_value": 0.5, "max_value": 24.0 * 14, "step": 1.0, "format": "%.1f"},
                )
            )
        else:
            out.append(
                (
                    _Field(p + "target_sl", f"{name}: SL target, %", "slider", _pct, _share),
                    {"min_value": 50.0, "max_value": 99.0, "step": 1.0},
                )
            )
            out.append(
                (
                    _Field(p + "threshold_s", f"{name}: answered within, s", "number"),
                    {"min_value": 0.0, "max_value": 3600.0, "step": 5.0, "format": "%.0f"},
                )
            )
        if ch["model"] == "chat":
            out.append(
                (
                    _Field(p + "concurrency", f"{name}: chats per agent", "number"),
                    {"min_value": 1.0, "max_value": 6.0, "step": 0.5, "format": "%.1f"},
                )
            )
        if ch["model"] == "erlang_a":
            out.append(
                (
                    _Field(p + "patience_s", f"{name}: mean patience, s", "number"),
                    {"min_value": 10.0, "max_value": 3600.0, "step": 10.0, "format": "%.0f"},
                )
            )
    elif section == "staffing":
        out.append(
            (
                _Field(p + "shrinkage", f"{name}: shrinkage, %", "slider", _pct, _share,
                       help="Breaks, training, absence: rostered = productive / (1 - shrinkage)."),
                {"min_value": 0.0, "max_value": 60.0, "step": 1.0},
            )
        )
        if ch["model"] != "deferred":
            out.append(
                (
                    _Field(p + "max_occupancy", f"{name}: max occupancy, %", "slider",
                           lambda v: 100.0 if v is None else _pct(v), _share),
                    {"min_value": 50.0, "max_value": 100.0, "step": 1.0},
                )
            )
        out.append(
            (
                _Field(p + "aht_s", f"{name}: AHT, s (0 = learned)", "number", _none_zero,
                       _zero_none, help="Average handle time; 0 keeps the learned AHT."),
                {"min_value": 0.0, "max_value": 7200.0, "step": 10.0, "format": "%.0f"},
            )
        )
        out.append(
            (
                _Field(p + "headcount_cap", f"{name}: headcount cap (0 = hire as needed)",
                       "number", _none_zero, _int_or_none,
                       help="Most agents on shift in one day (no hiring beyond it)."),
                {"min_value": 0.0, "max_value": 10000.0, "step": 1.0, "format": "%.0f"},
            )
        )
        default = 0.2 if ch["model"] == "deferred" else 1.0
        out.append(
            (
                _Field(p + "cap_priority", f"{name}: priority under a shared cap",
                       "number", lambda v, d=default: d if v is None else float(v),
                       lambda v, d=default: None if v == d else float(v),
                       help="When the cap over all channels binds, agents go first where a "
                       "gap costs most: 1 = live contacts, 0.2 = work that can wait."),
                {"min_value": 0.05, "max_value": 10.0, "step": 0.05, "format": "%.2f"},
            )
        )
    return out


def _scenario_fields(section: str) -> list[tuple[_Field, dict]]:
    if section == "demand":
        return [
            (
                _Field("order_growth", "Order growth, %", "slider", _pct, _share,
                       help="Scales the order forecast: +10 % = 10 % more orders."),
                {"min_value": -50.0, "max_value": 100.0, "step": 1.0},
            )
        ]
    if section == "forecast":
        models = {m: m for m in ("auto", "seasonal_naive", "same_weekday_average", "ets",
                                 "sarimax", "prophet")}
        return [
            (
                _Field("forecast.model", "Forecast model", "select", options=models,
                       help="'auto' picks per series by backtest."),
                {},
            ),
            (
                _Field("forecast.level", "Interval level, %", "slider", int, int),
                {"min_value": 50, "max_value": 95, "step": 5},
            ),
            (
                _Field("forecast.staff_to", "Staff to", "select",
                       options={"mean": "mean", "upper": "upper"},
                       help="'upper' staffs to the upper bound of the forecast interval."),
                {},
            ),
        ]
    if section == "shifts":
        lengths = {x: x for x in (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 12.0)}
        return [
            (
                _Field("shifts.lengths_h", "Shift lengths, hours", "multiselect",
                       lambda v: [float(x) for x in v], lambda v: sorted(v, reverse=True),
                       options=lengths),
                {},
            ),
            (
                _Field("shifts.start_step_min", "Shift starts every, min", "select",
                       options={15: 15, 30: 30, 60: 60, 120: 120}),
                {},
            ),
            (
                _Field("shifts.break_min", "Break, min", "number", int, int),
                {"min_value": 0, "max_value": 120, "step": 5},
            ),
            (
                _Field("shifts.time_limit_s", "Solver time limit, s", "number"),
                {"min_value": 1.0, "max_value": 600.0, "step": 5.0, "format": "%.0f"},
            ),
        ]
    if section == "staffing":
        return [
            (
                _Field("headcount_cap_total", "All channels: headcount cap (0 = none)",
                       "number", _none_zero, _int_or_none,
                       help="Most agents on shift in one day over all channels together; "
                       "the shift solver shares them out by channel priority."),
                {"min_value": 0.0, "max_value": 100000.0, "step": 1.0, "format": "%.0f"},
            )
        ]
    if section == "cost":
        return [
            (
                _Field("cost_per_paid_hour", "Cost per paid hour", "number"),
                {"min_value": 0.0, "max_value": 1000.0, "step": 1.0},
            )
        ]
    return []


def _contact_rate_editor(container: Any, scenario: Scenario, ns: str) -> dict[str, Any]:
    """Total contact rate per order, per month of the horizon (0 = learned)."""
    months = list(dict.fromkeys(  # in the horizon's order (Dec before Jan over New Year)
        m.month for m in _month_starts(scenario.horizon.start, scenario.horizon.end)))
    changes: dict[str, Any] = {}
    cols = container.columns(len(months))
    values: dict[int, float] = {}
    for col, month in zip(cols, months, strict=True):
        key = widget_key(ns, f"contact_rate.{month}")
        if key not in st.session_state:
            st.session_state[key] = _pct(scenario.contact_rate_for_month(month))
        values[month] = col.number_input(
            f"Contact rate {dt.date(2000, month, 1):%b}, % per order (0 = learned)",
            min_value=0.0,
            max_value=30.0,
            step=0.1,
            key=key,
        )
    current = scenario.contact_rate
    current_map = (
        {} if current is None else (
            {m: float(current) for m in months} if not isinstance(current, dict) else current
        )
    )
    merged = _month_edits(dict(current_map), values)
    if merged is not None:
        changes["contact_rate"] = merged or None
    return changes


def _shrinkage_month_editor(container: Any, scenario: Scenario, ns: str) -> dict[str, Any]:
    """Shrinkage per channel and month of the horizon (0 = the channel's shrinkage)."""
    months = list(dict.fromkeys(  # in the horizon's order (Dec before Jan over New Year)
        m.month for m in _month_starts(scenario.horizon.start, scenario.horizon.end)))
    changes: dict[str, Any] = {}
    box = container.expander("Shrinkage by month (holidays, seasonal sickness)")
    for name, ch in scenario.channels.items():
        cols = box.columns(len(months))
        current = dict(ch.shrinkage_by_month or {})
        shown: dict[int, float] = {}
        for col, month in zip(cols, months, strict=True):
            key = widget_key(ns, f"channels.{name}.shrinkage_by_month.{month}")
            if key not in st.session_state:
                st.session_state[key] = _pct(current[month]) if month in current else 0.0
            shown[month] = col.number_input(
                f"{name} {dt.date(2000, month, 1):%b}, % (0 = {_pct(ch.shrinkage):g} %)",
                min_value=0.0, max_value=60.0, step=1.0, key=key,
            )
        merged = _month_edits(current, shown)
        if merged is not None:
            changes[f"channels.{name}.shrinkage_by_month"] = merged or None
    return changes


def _month_edits(current: dict[int, float], shown: dict[int, float]) -> dict[int, float] | None:
    """The month table after the user's edits, or None when nothing was edited.

    A month's widget starts at the table's value in percent (0 where the month is not
    listed); only months whose widget moved from that start change (0 = not listed), so
    drawing the editor never rewrites a table (values finer than the widget, or listed
    zeros, stay as they are)."""
    edited = {m: v for m, v in shown.items()
              if v != (_pct(current[m]) if m in current else 0.0)}
    if not edited:
        return None
    out = dict(current)
    for m, v in edited.items():
        if v:
            out[m] = v / 100.0
        else:
            out.pop(m, None)
    return out


def _horizon_editor(container: Any, scenario: Scenario, ns: str) -> dict[str, Any]:
    """First planned day and number of days (the end date follows, inclusive)."""
    h = scenario.horizon
    start_key, days_key = widget_key(ns, "horizon.start"), widget_key(ns, "horizon.days")
    st.session_state.setdefault(start_key, h.start)
    st.session_state.setdefault(days_key, h.days)
    left, right = container.columns(2)
    start = left.date_input("Plan from", key=start_key)
    days = right.number_input(
        "Days to plan", min_value=1, max_value=366, step=1, key=days_key,
        help="The plan covers this many days from the first one, inclusive.",
    )
    end = start + dt.timedelta(days=int(days) - 1)
    if (start, end) == (h.start, h.end):
        return {}
    return {"horizon.start": start.isoformat(), "horizon.end": end.isoformat()}


def _month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    out, d = [], dt.date(start.year, start.month, 1)
    while d <= end:
        out.append(d)
        d = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def assumption_editor(
    scenario: Scenario, sections: tuple[str, ...], ns: str, container: Any = None
) -> Scenario:
    """Draw the editor for ``sections`` and return the scenario with the user's changes.

    Sections: ``"horizon"``, ``"forecast"``, ``"demand"`` (growth, contact rate,
    automation), ``"service"`` (SL targets, thresholds, concurrency, patience),
    ``"staffing"`` (shrinkage, occupancy cap, AHT, headcount cap), ``"shifts"``,
    ``"cost"``. ``ns`` names the page (widget keys are per page).
    An invalid combination is shown as an error and the previous scenario is kept.
    """
    box = container if container is not None else st
    changes: dict[str, Any] = {}
    channels = scenario.to_dict()["channels"]
    for section in sections:
        fields = list(_scenario_fields(section))
        if section == "demand":
            changes.update(_contact_rate_editor(box, scenario, ns))
        if section == "horizon":
            changes.update(_horizon_editor(box, scenario, ns))
        if section == "staffing":
            changes.update(_shrinkage_month_editor(box, scenario, ns))
        for name, ch in channels.items():
            fields.extend(_channel_fields(name, ch, section))
        if not fields:
            continue
        cols = box.columns(min(3, len(fields)))
        for i, (f, kwargs) in enumerate(fields):
            value = _draw(cols[i % len(cols)], f, scenario, kwargs, ns)
            new = f.from_widget(value.isoformat() if isinstance(value, dt.date) else value)
            old = _get(scenario, f.path)
            if _differs(old, new):
                changes[f.path] = new
    if not changes:
        return scenario
    try:
        return scenario.with_changes(changes)
    except ScenarioError as exc:
        box.error(f"These assumptions are not valid, the previous ones are kept:\n\n{exc}")
        st.session_state[REJECTED] = True
        return scenario


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, float | int) and isinstance(new, float | int):
        return abs(float(old) - float(new)) > 1e-9
    return old != new
