"""Capacity page: whom to hire, when, and what else closes the gap before the peak."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app_support import backend, editor, state, views
from app_support.capacity_chart import capacity_chart
from app_support.warroom import show_table
from planner.capacity import CapacitySettings, capacity_plan
from planner.export import capacity_tables, csv_bytes, workbook_bytes

st.title("Capacity")
st.caption(
    "The FTE the plan needs each week against the FTE the centre will have (today's "
    "headcount, attrition, recruiting, training, the ramp-up of new agents), and the "
    "cheapest mix of hiring classes, overtime, outsourcing and cross-training that closes "
    "the gap, with the latest date each class can still be decided."
)

scenario = state.current_scenario()
current = scenario.capacity or CapacitySettings()
default_as_of = scenario.horizon.start - dt.timedelta(weeks=16)


def _pct(v: float) -> float:
    return round(100.0 * v, 4)


_refused: list[str] = []


def _number(col, label: str, lo: float | None, hi: float | None, value, step=None,
            key: str = "") -> object:
    """A number box checked here, not by the browser: an out-of-range entry is refused in
    words next to the box and the plan keeps the saved value (and says so below)."""
    typed, why = editor.checked_number(col, label, lo, hi, value, key, step)
    if why:
        _refused.append(f"{label}: {why}")
    return typed


with st.expander("Capacity assumptions", expanded=scenario.capacity is None):
    c = st.columns(4)
    as_of = c[0].date_input("Headcount counted on (today)", value=current.as_of or default_as_of,
                            max_value=scenario.horizon.end, key="cap_as_of",
                            help="First week of the plan and the first possible decision.")
    attrition = _number(c[1], "Attrition per week (%)", 0.0, 49.0,
                        _pct(current.attrition_weekly), 0.1, key="cap_attrition")
    recruiting = _number(c[2], "Recruiting (weeks)", 0, 52, current.recruiting_weeks, 1,
                         key="cap_recruiting")
    training = _number(c[3], "Training (weeks)", 0, 52, current.training_weeks, 1,
                       key="cap_training")
    st.markdown("**Headcount today** (FTE per channel; empty: the plan's first week)")
    hc_cols = st.columns(len(scenario.channels))
    headcount = {}
    for col, ch in zip(hc_cols, scenario.channels, strict=True):
        v = _number(col, ch, 0.0, None, (current.headcount or {}).get(ch), 1.0,
                    key=f"cap_headcount_{ch}")
        if v is not None:
            headcount[ch] = float(v)
    c = st.columns(4)
    ramp_text = c[0].text_input("Ramp after training (% by week)",
                                ", ".join(f"{100 * r:g}" for r in current.ramp),
                                key="cap_ramp", help="Output of a new agent as a share of a "
                                "tenured one's, week by week on the floor; 100 % after.")
    class_min = _number(c[1], "Class size, min", 1, 500, current.class_min, 1, key="cap_cmin")
    class_max = _number(c[2], "Class size, max", 1, 500, current.class_max, 1, key="cap_cmax")
    per_week = _number(c[3], "Classes per week (all channels)", 0, 50,
                       current.classes_per_week, 1, key="cap_cpw")
    c = st.columns(4)
    cost_hire = _number(c[0], "Cost per hire", 0.0, None, current.cost_per_hire, 100.0,
                        key="cap_cost_hire")
    ot_cap = _number(c[1], "Overtime cap (% of hours)", 0.0, 100.0,
                     _pct(current.overtime_cap), 1.0, key="cap_ot_cap")
    ot_prem = _number(c[2], "Overtime premium (%)", 0.0, 500.0,
                      _pct(current.overtime_premium), 5.0, key="cap_ot_prem")
    penalty = _number(c[3], "Penalty per FTE-hour short", 0.01, None,
                      current.short_penalty_per_hour, 10.0, key="cap_penalty")
    c = st.columns(4)
    bpo_fte = _number(c[0], "BPO capacity (FTE per week)", 0.0, None, current.bpo_fte,
                      1.0, key="cap_bpo_fte")
    bpo_cost = _number(c[1], "BPO cost per hour", 0.0, None, current.bpo_cost_per_hour,
                       1.0, key="cap_bpo_cost")
    bpo_channels = c[2].multiselect("BPO may serve", list(scenario.channels),
                                    default=[ch for ch in (current.bpo_channels or
                                                           scenario.channels)
                                             if ch in scenario.channels],
                                    key="cap_bpo_channels")
    moves = _number(c[3], "Cross-training (weeks; empty: no moves)", 0, 52,
                    current.cross_training_weeks, 1, key="cap_cross_weeks")
    try:
        ramp = tuple(float(x) / 100 for x in ramp_text.replace(";", ",").split(",") if x.strip())
        settings = CapacitySettings(
            **{**current.model_dump(), "as_of": as_of, "headcount": headcount or None,
               "attrition_weekly": attrition / 100, "recruiting_weeks": recruiting,
               "training_weeks": training, "ramp": ramp, "class_min": class_min,
               "class_max": class_max, "classes_per_week": per_week,
               "cost_per_hire": cost_hire, "overtime_cap": ot_cap / 100,
               "overtime_premium": ot_prem / 100, "short_penalty_per_hour": penalty,
               "bpo_fte": bpo_fte, "bpo_cost_per_hour": bpo_cost,
               "bpo_channels": (None if set(bpo_channels) == set(scenario.channels)
                                else tuple(bpo_channels)),
               "cross_training_weeks": moves})
    except (ValueError, ValidationError) as exc:
        st.error(f"Capacity assumptions are not valid: {exc}", icon=":material/error:")
        st.stop()
if _refused:
    st.warning("Refused inputs (the plan below uses their saved values): "
               + "; ".join(_refused), icon=":material/warning:")

untouched = scenario.capacity is None and settings == CapacitySettings(as_of=default_as_of)
if settings != scenario.capacity and not untouched:
    scenario = scenario.model_copy(update={"capacity": settings})
    state.set_scenario(scenario)  # saved with the scenario from the Scenarios page

try:
    # the plan without the capacity section: the same run every other page shows
    result = backend.run_scenario(scenario.model_copy(update={"capacity": None}))
except ValueError as exc:
    st.error(f"The plan could not be computed: {exc}", icon=":material/error:")
    st.stop()
state.show_warnings(result)
if result.meta.get("queues"):
    st.info("This plan is made per queue; the hiring plan is made per channel, from the "
            "channels' weekly FTE, and is not available for a plan per queue yet. The "
            "Staffing page shows each channel's weekly FTE (pick the channel).",
            icon=":material/info:")
    st.stop()


@st.cache_resource(show_spinner="Optimising hiring, overtime and outsourcing...",
                   max_entries=16)
def _plan(key: str, _result: object, _settings: CapacitySettings) -> object:
    """The capacity plan, cached on the scenario and settings (``key``)."""
    return capacity_plan(_result, _settings)


try:
    plan = _plan(scenario.to_yaml() + "\n" + str(id(result)), result, settings)
except ValueError as exc:
    st.error(f"The capacity plan could not be computed: {exc}", icon=":material/error:")
    st.stop()

tot = plan.totals()
m = st.columns(5)
m[0].metric("Hires", f"{tot['hires']:,}", help="New agents over all hiring classes.")
m[1].metric("Hiring cost", views.fmt_number(tot["hiring_cost"]),
            help="Cost per hire times hires (wages come on top, in the total).")
m[2].metric("Cost of the levers", views.fmt_number(tot["cost"]),
            help="Hiring, new hires' wages, overtime, BPO and cross-training.")
m[3].metric("Peak gap (FTE)", views.fmt_number(tot["peak_gap_fte"], 1),
            help="Largest weekly shortfall of today's staff (after attrition) against the "
                 "plan, over all channels: what the levers have to close.")
decide = tot["latest_decision"]
m[4].metric("First decision by", "none needed" if pd.isna(decide) else f"{decide:%d %b %Y}",
            help="Start of the first hiring class: the latest date it can still be decided.")
if tot["short_fte_weeks"] > 0:
    st.warning(
        f"Even with every lever, {tot['short_fte_weeks']:,.1f} FTE-weeks stay short; the "
        "service level column shows what the plan's agents, scaled to what is there, "
        "would deliver (the KPI model, queues carried over).", icon=":material/warning:")
if plan.status != "OPTIMAL":
    st.caption("Plan quality: within "
               f"{views.fmt_number(plan.objective - plan.bound)} of the least possible cost "
               "plus penalty (the search stops once it is within the set gap; the same inputs "
               "always give the same plan).")

channel = st.selectbox("Channel", list(scenario.channels), key="cap_channel")
st.subheader(f"{channel}: required vs available FTE by week")
st.altair_chart(capacity_chart(plan.weekly, plan.classes, channel), width="stretch")
st.caption(
    "Bars: the FTE the centre has, by source. Black line: the FTE the plan needs (its "
    "weekly FTE). Red: the gap before overtime and BPO. Dashed lines: a hiring class "
    "starts (recruiting opens) with its number of hires; it works from the end of "
    "recruiting and training, at reduced speed for the ramp weeks."
)

st.subheader("Hiring classes")
tables = capacity_tables(plan)
if plan.classes.empty:
    st.info("No hiring class: today's staff and the other levers cover the plan."
            if tot["short_fte_weeks"] <= 0 else
            "No hiring class: no class can start and reach the floor in time for the weeks "
            "short (see the warning above), or a class costs more than the shortfall's "
            "penalty.")
else:
    show_table(plan.classes)
st.subheader("By channel")
show_table(plan.summary)
with st.expander("Weekly table"):
    show_table(plan.weekly)
c = st.columns(3)
c[0].download_button("Capacity by week (CSV)", csv_bytes(tables["Capacity"]),
                     file_name=f"{views.file_stem(scenario.name)}_capacity_weekly.csv",
                     mime="text/csv", key="dl_capacity_csv", icon=":material/download:")
c[1].download_button("Hiring classes (CSV)", csv_bytes(tables["Hiring classes"]),
                     file_name=f"{views.file_stem(scenario.name)}_hiring_classes.csv",
                     mime="text/csv", key="dl_classes_csv", icon=":material/download:")
c[2].download_button("Capacity workbook (Excel)", workbook_bytes(tables, styled=True),
                     file_name=f"{views.file_stem(scenario.name)}_capacity.xlsx",
                     mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     key="dl_capacity_xlsx", icon=":material/download:")
