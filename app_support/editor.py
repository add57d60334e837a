"""Widgets that edit the session's current :class:`planner.scenario.Scenario`.

Why it is long: every input of the scenario form (numbers, months, open hours, shrinkage,
caps) is drawn, checked in words and written back here, so that all boxes follow one rule;
splitting by page would put that rule in several places.

The scenario in ``st.session_state`` is the single source of truth. Each widget is seeded
from it when first drawn (its key is ``"w.<page>.<dotted field path>"``: one namespace per
page, because Streamlit forgets a widget's state when another page is shown) and every
change is written back through ``Scenario.with_changes``, which validates it. Widget values are
the scenario's fields in display units (percent for shares, hours for long durations);
the conversion is a unit change, not planning arithmetic.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app_support import views
from planner.scenario import Scenario, ScenarioError

__all__ = [
    "REJECTED",
    "assumption_editor",
    "checked_number",
    "clear_rejections",
    "core_reason",
    "number_box",
    "out_of_range",
    "reject",
    "rejections",
    "reset_widgets",
    "widget_key",
]

PREFIX = "w."
#: Session key of the inputs rejected in this script run, as ``"where: why"`` lines
#: (``"Staffing › chat › AHT, s (0 = learned): must be between 0 and 7,200 (got -5)"``).
#: The app clears it at the start of every run; pages that run or save refuse to while
#: it holds anything and say which inputs to fix.
REJECTED = "editor_rejections"

#: Where each editor section lives, as the Scenarios page names its tabs.
SECTION_TITLES = {
    "horizon": "Horizon and forecast",
    "forecast": "Horizon and forecast",
    "demand": "Demand",
    "service": "Service targets",
    "staffing": "Staffing",
    "shifts": "Shifts and cost",
    "cost": "Shifts and cost",
}


@dataclass(frozen=True)
class _Field:
    path: str
    label: str
    kind: str  # "slider", "number", "date", "select", "toggle", "text"
    to_widget: Callable[[Any], Any] = lambda v: v
    from_widget: Callable[[Any], Any] = lambda v: v
    options: dict[str, Any] | None = None
    help: str | None = None
    whole: bool = False  # a number box that takes whole numbers only


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


def rejections() -> list[str]:
    """The inputs rejected so far in this script run, as ``"where: why"`` lines."""
    return list(st.session_state.get(REJECTED, []))


def clear_rejections() -> None:
    """Forget the rejected inputs (the app does this at the start of every run)."""
    st.session_state[REJECTED] = []


def reject(where: str, why: str) -> str:
    """Record that the input at ``where`` was rejected because ``why``; returns the line."""
    line = f"{where}: {why}"
    st.session_state[REJECTED] = [*rejections(), line]
    return line


def _num(value: float) -> str:
    return f"{value:,.10g}"


def _where(section: str, label: str) -> str:
    """``"Staffing › chat › AHT, s (0 = learned)"`` for a field labelled ``"chat: AHT..."``."""
    title = SECTION_TITLES.get(section, section.capitalize())
    return f"{title} › " + label.replace(": ", " › ", 1)


def out_of_range(value: Any, lo: float | None, hi: float | None,
                 whole: bool = False) -> str | None:
    """Why a typed number is refused (outside the input's stated range, or not a whole
    number where only whole numbers are taken), or None.

    Number boxes are drawn without Streamlit's own bounds: the browser would keep an
    out-of-range entry red in the box and never send it, so the plan kept the old value
    without a word. Checked here, the reason is shown next to the box instead.

    Examples
    --------
    >>> out_of_range(1e12, 0, 120, whole=True)
    'must be between 0 and 120 (got 1e+12)'
    >>> out_of_range(2.5, 1, 366, whole=True)
    'must be a whole number (got 2.5)'
    >>> out_of_range(2.0, 1, 366, whole=True) is None
    True
    """
    if value is None:
        return "enter a number"
    v = float(value)
    if v != v or (lo is not None and v < lo) or (hi is not None and v > hi):
        if lo is not None and hi is not None:
            return f"must be between {_num(lo)} and {_num(hi)} (got {_num(v)})"
        if lo is not None:
            return f"must be at least {_num(lo)} (got {_num(v)})"
        if hi is not None:
            return f"must be at most {_num(hi)} (got {_num(v)})"
        return f"enter a number (got {_num(v)})"
    if whole and not v.is_integer():
        return f"must be a whole number (got {_num(v)})"
    return None


#: How every number box shows its value: sprintf.js (the browser's formatter) prints
#: ``%g`` without a precision as the number itself, so a box never shows a rounded figure
#: the plan does not use (``%.0f`` showed 0.5 as 1).
NUMBER_FORMAT = "%g"
_SEEDED = object()


def number_box(col: Any, label: str, key: str, step: float = 1.0, value: Any = _SEEDED,
               help: str | None = None) -> float | None:
    """Draw a number box that sends what was typed, unbounded and unrounded.

    Always a float box, also for whole numbers: the browser parses an integer box's entry
    with ``parseInt`` before sending it (2.5 arrives as 2, 1e12 as 1), so the check could
    never see what was typed. Bounds and whole numbers are checked by
    :func:`out_of_range`. ``value`` is the first value when the box is not seeded in the
    session state under ``key``.
    """
    first = {} if value is _SEEDED else {"value": None if value is None else float(value)}
    return col.number_input(label, key=key, step=float(step), format=NUMBER_FORMAT,
                            help=help, **first)


def _whole_args(*args: Any) -> bool:
    given = [a for a in args if a is not None]
    return bool(given) and all(isinstance(a, int) and not isinstance(a, bool) for a in given)


def checked_number(col: Any, label: str, lo: float | None, hi: float | None, value: Any,
                   key: str, step: Any = None, whole: bool | None = None,
                   help: str | None = None) -> tuple[Any, str | None]:
    """A number box checked here, not by the browser (see :func:`out_of_range`): returns
    the typed value and ``None``, or ``value`` and the reason shown under the box.

    ``whole`` takes whole numbers only (returned as ``int``); by default a box is whole
    when its bounds, value and step are all given as ``int`` (as Streamlit would draw an
    integer box).
    """
    if whole is None:
        whole = _whole_args(lo, hi, value, step)
    typed = number_box(col, label, key, 1.0 if step is None else step, value, help)
    if typed is None and value is None:
        return None, None
    why = out_of_range(typed, lo, hi, whole)
    if why:
        col.error(why, icon=":material/error:")
        return value, why
    return (int(typed) if whole else typed), None


_GOT = re.compile(r"\s*\(got .*\)\s*$")


def core_reason(exc: ScenarioError, paths: list[str], shown: Any) -> str:
    """The core's reason for refusing ``paths``, in the words of the input box.

    The core names the field (``channels.chat.aht_s: Input should be greater than 0
    (got -5.0)``); its ``got`` value is in the scenario's units (seconds, shares), so it
    is replaced by the value as typed. Other fields' reasons are given as the core words
    them.
    """
    lines = [ln.strip() for ln in str(exc).splitlines()]
    own = [ln.split(":", 1)[1].strip() for ln in lines
           if any(ln.startswith((f"{p}:", f"{p}.")) for p in paths)]
    if not own:
        return "; ".join(ln for ln in lines[1:] if ln) or str(exc)
    reasons = [re.sub(r"^Input should be ", "must be ", _GOT.sub("", r)) for r in own]
    text = "; ".join(dict.fromkeys(reasons))
    if isinstance(shown, int | float) and not isinstance(shown, bool):
        text += f" (got {_num(float(shown))})"
    return text


def _draw(
    container: Any, f: _Field, scenario: Scenario, slider: dict[str, Any], ns: str
) -> Any:
    key = widget_key(ns, f.path)
    raw = _get(scenario, f.path)
    if key not in st.session_state:
        seed = f.to_widget(raw)
        if f.kind == "number" and seed is not None:
            seed = float(seed)  # a float box: see number_box
        if f.kind == "date":
            seed = dt.date.fromisoformat(seed) if isinstance(seed, str) else seed
        st.session_state[key] = seed
    if f.kind == "slider":
        fmt = "%.0f%%" if f.label.endswith("%") else None
        return container.slider(f.label, key=key, help=f.help, format=fmt, **slider)
    if f.kind == "number":  # bounds checked by the editor (see out_of_range)
        return number_box(container, f.label, key, slider.get("step", 1.0), help=f.help)
    if f.kind == "date":
        return container.date_input(f.label, key=key, help=f.help)
    if f.kind == "text":
        return container.text_input(f.label, key=key, help=f.help)
    # a value set in YAML but not offered (staff_to "p85", an 11-hour shift) stays offered
    seeded = st.session_state[key]
    options = list(f.options or {})
    if f.kind == "select":
        options += [seeded] if seeded not in options else []
        return container.selectbox(f.label, options, key=key, help=f.help)
    if f.kind == "multiselect":
        options += [v for v in seeded or () if v not in options]
        return container.multiselect(f.label, options, key=key, help=f.help)
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
                    {"min_value": 0.5, "max_value": 24.0 * 14, "step": 1.0},
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
                    {"min_value": 0.0, "max_value": 3600.0, "step": 5.0},
                )
            )
        if ch["model"] == "chat":
            out.append(
                (
                    _Field(p + "concurrency", f"{name}: chats per agent", "number", float, int,
                           whole=True),
                    {"min_value": 1.0, "max_value": 6.0, "step": 1.0},
                )
            )
        if ch["model"] == "erlang_a":
            out.append(
                (
                    _Field(p + "patience_s", f"{name}: mean patience, s", "number"),
                    {"min_value": 10.0, "max_value": 3600.0, "step": 10.0},
                )
            )
    elif section == "cost":
        out.append(
            (
                _Field(p + "open_hours", f"{name}: open hours (HH:MM-HH:MM, 24 h)", "text",
                       lambda v: v or "", lambda v: v.strip() or None,
                       help="When the channel takes contacts, e.g. 08:00-22:00; empty = "
                       "the hours seen in the history."),
                {},
            )
        )
        out.append(
            (
                _Field(p + "cost_per_paid_hour", f"{name}: cost per paid hour (0 = all "
                       "channels' cost)", "number", _none_zero, _zero_none,
                       help="This channel's cost of one paid agent hour; 0 uses the cost "
                       "per paid hour of all channels."),
                {"min_value": 0.0, "max_value": 1000.0, "step": 1.0},
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
                {"min_value": 0.0, "max_value": 7200.0, "step": 10.0},
            )
        )
        out.append(
            (
                _Field(p + "headcount_cap", f"{name}: headcount cap (0 = hire as needed)",
                       "number", _none_zero, _int_or_none,
                       help="Most agents on shift in one day (no hiring beyond it).",
                       whole=True),
                {"min_value": 0.0, "max_value": 10000.0, "step": 1.0},
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
                {"min_value": 0.05, "max_value": 10.0, "step": 0.05},
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
                                 "sarimax", "prophet", "combination")}
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
                       options={"mean": "mean", "upper": "upper", "p70": "p70", "p80": "p80",
                                "p90": "p90", "p95": "p95"},
                       help="'upper' staffs to the upper bound of the forecast interval; "
                            "'p80' staffs each interval so that it meets its service "
                            "target with probability 0.8 (see the cost-risk frontier on "
                            "the Staffing page)."),
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
                _Field("shifts.break_min", "Break, min", "number", int, int, whole=True),
                {"min_value": 0, "max_value": 120, "step": 5},
            ),
            (
                _Field("shifts.time_limit_s", "Solver effort (work units, about s)", "number"),
                {"min_value": 1.0, "max_value": 600.0, "step": 5.0},
            ),
        ]
    if section == "staffing":
        return [
            (
                _Field("headcount_cap_total", "All channels: headcount cap (0 = none)",
                       "number", _none_zero, _int_or_none,
                       help="Most agents on shift in one day over all channels together; "
                       "the shift solver shares them out by channel priority.",
                       whole=True),
                {"min_value": 0.0, "max_value": 100000.0, "step": 1.0},
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


#: A group of changes made through one input (or one row of inputs), applied together:
#: ``(changes, slot next to the input, where, value as typed)``.
_Group = tuple[dict[str, Any], Any, str, Any]


def _month_inputs(cols: list[Any], months: list[int], keys: list[str], labels: list[str],
                  hi: float, where: str) -> dict[int, float | None]:
    """Draw one number box per month (0..``hi`` %); a value out of range is refused next
    to its box and returned as None (that month keeps its current value)."""
    shown: dict[int, float | None] = {}
    for col, month, key, label in zip(cols, months, keys, labels, strict=True):
        value = number_box(col, label, key, 1.0 if hi > 30 else 0.1)
        why = out_of_range(value, 0.0, hi)
        if why:
            col.error(why, icon=":material/error:")
            reject(f"{where} › {dt.date(2000, month, 1):%b}", why)
            shown[month] = None
        else:
            shown[month] = float(value)
    return shown


def _contact_rate_editor(container: Any, scenario: Scenario, ns: str) -> list[_Group]:
    """Total contact rate per order, per month of the horizon (0 = learned)."""
    months = list(dict.fromkeys(  # in the horizon's order (Dec before Jan over New Year)
        m.month for m in _month_starts(scenario.horizon.start, scenario.horizon.end)))
    cols = container.columns(len(months))
    keys = [widget_key(ns, f"contact_rate.{month}") for month in months]
    for key, month in zip(keys, months, strict=True):
        if key not in st.session_state:
            st.session_state[key] = _pct(scenario.contact_rate_for_month(month))
    labels = [f"Contact rate {dt.date(2000, m, 1):%b}, % per order (0 = learned)"
              for m in months]
    shown = _month_inputs(cols, months, keys, labels, 30.0, "Demand › Contact rate")
    current = scenario.contact_rate
    current_map = (
        {} if current is None else (
            {m: float(current) for m in months} if not isinstance(current, dict) else current
        )
    )
    merged = _month_edits(dict(current_map), shown)
    if merged is None:
        return []
    return [({"contact_rate": merged or None}, container.empty(), "Demand › Contact rate",
             None)]


def _shrinkage_month_editor(container: Any, scenario: Scenario, ns: str) -> list[_Group]:
    """Shrinkage per channel and month of the horizon (0 = the channel's shrinkage)."""
    months = list(dict.fromkeys(  # in the horizon's order (Dec before Jan over New Year)
        m.month for m in _month_starts(scenario.horizon.start, scenario.horizon.end)))
    groups: list[_Group] = []
    box = container.expander("Shrinkage by month (holidays, seasonal sickness)")
    for name, ch in scenario.channels.items():
        cols = box.columns(len(months))
        current = dict(ch.shrinkage_by_month or {})
        keys = [widget_key(ns, f"channels.{name}.shrinkage_by_month.{m}") for m in months]
        for key, month in zip(keys, months, strict=True):
            if key not in st.session_state:
                st.session_state[key] = _pct(current[month]) if month in current else 0.0
        labels = [f"{name} {dt.date(2000, m, 1):%b}, % (0 = {_pct(ch.shrinkage):g} %)"
                  for m in months]
        where = f"Staffing › {name} › shrinkage by month"
        shown = _month_inputs(cols, months, keys, labels, 60.0, where)
        merged = _month_edits(current, shown)
        if merged is not None:
            groups.append(({f"channels.{name}.shrinkage_by_month": merged or None},
                           box.empty(), where, None))
    return groups


def _month_edits(current: dict[int, float],
                 shown: dict[int, float | None]) -> dict[int, float] | None:
    """The month table after the user's edits, or None when nothing was edited.

    A month's widget starts at the table's value in percent (0 where the month is not
    listed); only months whose widget moved from that start change (0 = not listed), so
    drawing the editor never rewrites a table (values finer than the widget, or listed
    zeros, stay as they are). A refused entry (None) leaves its month as it is."""
    edited = {m: v for m, v in shown.items()
              if v is not None and v != (_pct(current[m]) if m in current else 0.0)}
    if not edited:
        return None
    out = dict(current)
    for m, v in edited.items():
        if v:
            out[m] = v / 100.0
        else:
            out.pop(m, None)
    return out


#: Days a plan may cover (a year and a day, for a leap year's peak-to-peak plan).
MAX_DAYS = 366


def _horizon_editor(container: Any, scenario: Scenario, ns: str) -> list[_Group]:
    """First planned day and number of days (the end date follows, inclusive)."""
    h = scenario.horizon
    start_key, days_key = widget_key(ns, "horizon.start"), widget_key(ns, "horizon.days")
    st.session_state.setdefault(start_key, h.start)
    st.session_state.setdefault(days_key, float(h.days))
    left, right = container.columns(2)
    start = left.date_input("Plan from", key=start_key)
    days = number_box(
        right, "Days to plan", days_key, 1.0,
        help=f"The plan covers this many days from the first one, inclusive (1 to {MAX_DAYS}).",
    )
    slot = right.empty()
    where = "Horizon and forecast › Days to plan"
    why = out_of_range(days, 1, MAX_DAYS, whole=True)
    if why:
        slot.error(why, icon=":material/error:")
        reject(where, why)
        days = h.days
    if not isinstance(start, dt.date):  # a cleared date box
        return []
    end = start + dt.timedelta(days=int(days) - 1)
    if (start, end) == (h.start, h.end):
        return []
    return [({"horizon.start": start.isoformat(), "horizon.end": end.isoformat()}, slot,
             "Horizon and forecast › Plan from / Days to plan", None)]


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

    Each input is checked on its own: a number outside its box's range (or a fraction in
    a box of whole numbers: break minutes, headcount caps, chats per agent, days to plan),
    or a value the scenario refuses (:class:`planner.scenario.ScenarioError`), is shown as
    an error next to the input and recorded with :func:`reject` (where and why); that input
    keeps its previous value and every valid edit still applies.
    """
    box = container if container is not None else st
    groups: list[_Group] = []
    channels = scenario.to_dict()["channels"]
    for section in sections:
        fields = list(_scenario_fields(section))
        if section == "demand":
            groups += _contact_rate_editor(box, scenario, ns)
        if section == "horizon":
            groups += _horizon_editor(box, scenario, ns)
        if section == "staffing":
            groups += _shrinkage_month_editor(box, scenario, ns)
        for name, ch in channels.items():
            fields.extend(_channel_fields(name, ch, section))
        if not fields:
            continue
        cols = box.columns(min(3, len(fields)))
        for i, (f, kwargs) in enumerate(fields):
            col = cols[i % len(cols)]
            value = _draw(col, f, scenario, kwargs, ns)
            slot = col.empty()  # the input's own error, right under it
            where = _where(section, f.label)
            if f.kind == "number":
                why = out_of_range(value, kwargs.get("min_value"), kwargs.get("max_value"),
                                   f.whole)
                if why:
                    slot.error(why, icon=":material/error:")
                    reject(where, why)
                    continue
            new = f.from_widget(value.isoformat() if isinstance(value, dt.date) else value)
            if _differs(_get(scenario, f.path), new):
                groups.append(({f.path: new}, slot, where, value))
    for changes, slot, where, shown in groups:
        try:
            scenario = scenario.with_changes(changes)
        except ScenarioError as exc:
            why = core_reason(exc, list(changes), shown)
            slot.error(views.md(why), icon=":material/error:")
            reject(where, why)
    return scenario


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, float | int) and isinstance(new, float | int):
        return abs(float(old) - float(new)) > 1e-9
    return old != new
