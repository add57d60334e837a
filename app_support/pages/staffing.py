"""Staffing page: interval requirements per channel, as a heatmap, a curve and FTE by week."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_support import backend, charts, risk_view, state, views
from app_support.warroom import show_table
from planner import picks
from planner.compare import compare
from planner.queues import weekly_rollup

st.title("Staffing")
st.caption(
    "Agents each interval needs to meet the service targets (productive agents from the "
    "queueing model, rostered after shrinkage and the occupancy cap), before shift planning."
)

scenario = state.edit_current("Staffing assumptions", ("service", "staffing"), "staffing",
                              expanded=True)

try:
    result = backend.run_scenario(backend.staffing_only(scenario))
except ValueError as exc:
    st.error(f"The plan could not be computed: {exc}", icon=":material/error:")
    st.stop()
state.show_warnings(result)

unserved = result.unserved()
short = unserved[unserved["unserved_agent_hours"] > 0]
if len(short):
    st.warning(
        f"The headcount cap leaves {short['unserved_agent_hours'].sum():,.0f} agent-hours "
        f"of the requirement over {short['short_intervals'].sum():,} intervals unserved ("
        + ", ".join(f"{r.channel} {r.unserved_agent_hours:,.0f}"
                    for r in short.itertuples(index=False))
        + "). The FTE shown are the capped agents; the charts show what the targets need, "
        "and the Scenarios page shows the service the capped plan delivers.",
        icon=":material/warning:",
    )

queues = dict(result.meta.get("queues") or {})
pick = state.queue_pick(queues)
total = compare({scenario.name: result}).totals.iloc[0]  # FTE over all channels, by week
req = result.requirements
if pick is None:
    cards = result.summary()
    cols = st.columns(len(cards) + 1)
else:  # one card for the pick, from the core's roll-up (never added up here)
    row = picks.pick_rollup(result.rollup(), pick, queues)
    cards = pd.DataFrame([{"channel": picks.pick_label(pick), "avg_fte": row["avg_fte"],
                           "peak_week_fte": row["peak_week_fte"],
                           "paid_hours": row["paid_hours"]}]) if pick != picks.TOTAL \
        else pd.DataFrame(columns=["channel", "avg_fte", "peak_week_fte", "paid_hours"])
    cols = st.columns(4)
cols[0].metric(
    "All channels: FTE before shifts (average)",
    f"{total.avg_fte:,.1f}",
    help="Sum over channels of weekly FTE, averaged over the weeks of the horizon: each "
    "interval staffed to its rostered requirement, before shift planning (the Shift plan "
    "and Scenarios pages show the FTE of the shift plan).",
)
cols[0].caption(f"Peak week {total.peak_week_fte:,.1f} FTE - {total.paid_hours:,.0f} paid hours")
for col, card in zip(cols[1:], cards.itertuples(index=False), strict=False):
    col.metric(
        f"{card.channel}: FTE before shifts (average)",
        f"{card.avg_fte:,.1f}",
        help="Rostered paid hours / FTE hours per week, averaged over the horizon, before "
        "shift planning.",
    )
    col.caption(f"Peak week {card.peak_week_fte:,.1f} FTE - {card.paid_hours:,.0f} paid hours")

left, right = st.columns([1, 2])
if pick is None:
    channel = left.selectbox("Channel", list(scenario.channels), key="staffing_channel")
else:  # the picked queues added up per interval before charting
    channel = picks.pick_label(pick)
    req = picks.pick_frame(req, pick, queues, sums=["volume", "agents", "rostered"])
value = left.radio(
    "Show",
    ["rostered", "agents"],
    format_func={"rostered": "Rostered agents", "agents": "Productive agents"}.get,
    key="staffing_value",
)
title = "Rostered agents" if value == "rostered" else "Productive agents"

st.subheader(f"{channel}: average requirement by weekday and time of day")
st.altair_chart(
    charts.heatmap_chart(views.requirements_heatmap(req, channel, value), value, title),
    width="stretch",
)

st.subheader("Requirement per interval over the peak")
first, last = views.peak_window(req, value, days=7)
window = st.date_input(
    "Days shown",
    value=(first, last),
    min_value=scenario.horizon.start,
    max_value=scenario.horizon.end,
    key="staffing_window",
)
start, end = (window[0], window[-1]) if isinstance(window, tuple | list) and window else (
    first, last
)
st.altair_chart(
    charts.requirement_curve(
        views.break_gaps(views.between(req, start, end), value, result.meta["interval_s"]),
        value,
        f"{title} per interval",
    ),
    width="stretch",
)

st.subheader("FTE by week")
if pick is None:
    weekly = result.weekly
else:  # the core's weekly roll-up: channels stacked for the total, else the pick
    roll = weekly_rollup(result)
    if pick == picks.TOTAL:
        weekly = roll[roll["level"] == "channel"].assign(channel=lambda f: f["name"])
    else:
        weekly = roll[roll["name"] == picks.pick_label(pick)]
        weekly = weekly[weekly["level"] == ("queue" if pick in queues else "channel")]
        weekly = weekly.assign(channel=picks.pick_label(pick))
st.altair_chart(charts.fte_week_chart(weekly), width="stretch")
with st.expander("Weekly table"):
    show_table(weekly)

risk_view.frontier_section({scenario.name: result}, "staffing")
risk_view.simulate_section(scenario, "staffing")
