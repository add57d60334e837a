"""Shift plan page: which shifts start each day, and how they cover the requirement."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_support import backend, charts, state, views
from app_support.warroom import show_table
from planner import picks

st.title("Shift plan")
st.caption(
    "How many agents start each shift (with its break) per day and channel, chosen by the "
    "shift solver to cover the rostered requirement at minimum paid hours."
)

scenario = state.edit_current("Shift rules", ("shifts",), "shifts")

try:
    result = backend.run_scenario(scenario)
except ValueError as exc:
    st.error(f"The shift plan could not be computed: {exc}", icon=":material/error:")
    st.stop()
state.show_warnings(result)

meta = dict(result.meta)
queues = dict(result.meta.get("queues") or {})
pick = state.queue_pick(queues)
coverage, shift_plan = result.coverage, result.shift_plan
if pick is not None:  # the picked queues only (the plan's figures above stay plan-wide)
    names = picks.scope(pick, queues)
    coverage = coverage[coverage["channel"].isin(names)]
    shift_plan = shift_plan[shift_plan["channel"].isin(names)]
under = views.understaffed(coverage)
picked = pick is not None and pick != picks.TOTAL  # a channel or a queue: its own cards
m = st.columns(5 if picked else 4)
m[0].metric(
    "Plan quality",
    str(meta.get("shift_quality", "n/a")),
    help="Optimal, or how far at most the plan's cost (paid hours plus the understaffing "
    "penalty under a headcount cap) lies above the best any plan could reach.",
)
m[1].metric(
    "Paid hours (plan)",
    views.fmt_number(meta.get("shift_paid_hours")),
    help="Total paid agent hours of the shift plan over the horizon.",
)
m[2].metric(
    "Lower bound, paid hours",
    views.fmt_number(meta.get("shift_paid_hours_bound")),
    help="No plan that leaves no more understaffing than this one can use fewer paid hours.",
)
m[3].metric(
    f"{picks.pick_label(pick)}: understaffed intervals" if picked else "Understaffed intervals",
    f"{len(under):,}",
    help="Intervals where fewer agents are scheduled than the rostered requirement.",
)
if picked:  # the pick's paid hours from the core's roll-up (the plan's stay beside them)
    row = picks.pick_rollup(result.rollup(), pick, queues)
    m[4].metric(f"{picks.pick_label(pick)}: paid hours", views.fmt_number(row.paid_hours),
                help="Paid hours of the picked queues' shift plans (the roll-up's sum).")

default_day = views.peak_window(result.coverage, "required", days=1)[0]
day = st.date_input(
    "Day",
    value=default_day,
    min_value=scenario.horizon.start,
    max_value=scenario.horizon.end,
    key="shift_day",
)

st.subheader(f"Shifts starting on {day:%a %d %b %Y}")
if pick is not None and len(shift_plan):  # one bar per shift pattern of the pick
    keys = [c for c in ("date", "shift", "shift_start", "shift_end", "break_start",
                        "break_end") if c in shift_plan.columns]
    shift_plan = picks.pick_frame(shift_plan, pick, queues, sums=["agents"], by=keys)
rows = views.shift_rows(shift_plan, day, scenario.shifts.break_min * 60)
if rows.empty:
    st.info("No shifts start on this day.")
else:
    st.altair_chart(charts.shift_chart(rows), width="stretch")

st.subheader("Coverage against requirement")
if pick is None:
    shown, tabs = coverage, st.tabs(list(scenario.channels))
else:  # the picked queues added up per interval: one chart
    shown = picks.pick_frame(coverage, pick, queues,
                                  sums=["required", "scheduled", "gap"])
    tabs = st.tabs([picks.pick_label(pick)])
labels = list(scenario.channels) if pick is None else [picks.pick_label(pick)]
for tab, channel in zip(tabs, labels, strict=True):
    cov = views.coverage_view(shown, channel, day, meta["interval_s"])
    if cov.empty:
        tab.info(f"{channel} has no open intervals on this day.")
        continue
    tab.altair_chart(charts.coverage_chart(cov), width="stretch")

st.subheader("Understaffed intervals")
if under.empty:
    st.success("Every open interval is covered.", icon=":material/check_circle:")
else:
    show_table(under)

st.subheader("Weekly roster (5 days on, 2 off)")
if st.toggle("Build shift lines with two days off per agent", key="roster_on"):
    consecutive = st.checkbox("Days off consecutive", value=True, key="roster_consecutive")
    try:
        headcount, lines = backend.weekly_roster(result.shift_plan, consecutive)
    except ValueError as exc:
        st.error(f"The roster could not be built: {exc}", icon=":material/error:")
    else:
        st.caption(
            "Headcount = fewest 5/2 lines covering each day's shift starts; the lower bound "
            "is max(busiest day, ceil(agent-days / 5)) (Baker 1974)."
        )
        week_starts = pd.to_datetime(headcount["week_start"])
        partial = sorted(set(week_starts[headcount["partial"].to_numpy(bool)]))
        shown = headcount.assign(week_start=week_starts.dt.date)
        show_table(shown)
        if partial:
            st.caption(
                "Partial weeks (the plan covers only some of their days: the others count "
                "as days off, so their headcount is not a full week's): "
                + ", ".join(f"{w:%d %b %Y}" for w in partial) + "."
            )
        starts = pd.to_datetime(lines["week_start"])
        weeks = [pd.Timestamp(w) for w in sorted(starts.unique())]
        if weeks:
            week = st.selectbox(
                "Week starting", weeks, format_func=lambda w: f"{w:%a %d %b %Y}", key="roster_week"
            )
            show_table(lines[starts == week])
        files = backend.roster_files(headcount, lines)
        c = st.columns(2)
        c[0].download_button("Weekly roster (CSV)", files["roster.csv"],
                             file_name=f"{views.file_stem(result.name)}_roster.csv",
                             mime="text/csv", key="dl_roster_csv", icon=":material/download:")
        c[1].download_button(
            "Weekly roster (Excel)", files["roster.xlsx"],
            file_name=f"{views.file_stem(result.name)}_roster.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="dl_roster_xlsx", icon=":material/download:")

with st.expander("Shift plan table"):
    show_table(result.shift_plan)
