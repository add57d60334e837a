"""Today page: the war room watches the day's contacts against the plan.

Set the day's actual contacts so far (replayed from the loaded history, or uploaded)
against the current scenario's plan; the rest of the day is re-forecast and set against
the agents the shift plan has on the floor.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from app_support import backend, charts, editor, state, views
from planner import picks
from planner.live import LiveError, day_of
from planner.live_status import open_at

SOURCES = ("Replay the loaded history", "Upload today's contacts")
#: Above this many channels or queues shown, a table replaces the cards and charts.
MAX_CARDS = 12

st.title("Today")
st.caption(
    "The day's contacts against the plan: how far above or below plan each channel runs, "
    "where the day will end, and where the scheduled agents fall short of what the rest "
    "of the day needs. The re-forecast scales the plan by the ratio of actual to planned "
    "contacts so far, pulled towards the plan while few contacts have been seen."
)

scenario = state.current_scenario()
url = backend.store_url()
try:
    saved = backend.saved_scenarios(url)
    saved = saved[saved["has_results"]]
except ValueError:
    saved = None
plans = {f"Current scenario: {scenario.name}": None}
if saved is not None:
    plans.update({f"Saved: {r.name} v{r.version}": (r.name, int(r.version))
                  for r in saved.itertuples(index=False)})
plan = st.selectbox("Plan", list(plans), key="today_plan",
                    help="The session's current scenario, or any saved plan (name and "
                    "version) with its results.")
try:
    if plans[plan] is None:
        result = backend.run_scenario(scenario)
    else:
        result = backend.load_saved(url, *plans[plan])
        scenario = result.scenario
except ValueError as exc:
    st.error(f"The plan could not be computed: {exc}", icon=":material/error:")
    st.stop()
state.show_warnings(result)
interval_s = int(result.meta["interval_s"])
h = scenario.horizon

top = st.columns([2, 3])
source = top[0].radio("Actual contacts", SOURCES, key="today_source")
with st.expander("Re-forecast settings"):
    c = st.columns(2)
    prior, refused = editor.checked_number(  # checked here, not by the browser
        c[0], "Weight of the plan, contacts", 0, 5000, 100.0, key="today_prior", step=50.0,
        help="How many contacts of evidence the plan is worth: with 100, the first 100 "
        "actual contacts move the ratio half way from the plan to what they show "
        "(0 to 5,000).",
    )
    if refused:
        st.warning(f"Re-forecast settings › Weight of the plan: {refused}; the day below uses "
                   "100.", icon=":material/warning:")
        prior = 100
    level = c[1].slider("Band, %", min_value=50, max_value=95, value=80, step=5,
                        key="today_level")

now = None
if source == SOURCES[0]:
    day = top[1].date_input(
        "Day", value=views.peak_window(result.coverage, "required", days=1)[0],
        min_value=h.start, max_value=h.end, key="today_day",
    )
    dataset = state.current_dataset()
    contacts = dataset.contacts
    actuals = contacts[pd.to_datetime(contacts["ds"]).dt.normalize() == pd.Timestamp(day)]
    if actuals.empty:
        st.info(f"The loaded history has no contacts on {day:%a %d %b %Y}: upload the day's "
                "contacts, or pick a day the history covers.")
        st.stop()
    step = dt.timedelta(seconds=interval_s)
    midnight = pd.Timestamp(day)
    choices = list(pd.date_range(midnight + step, midnight + pd.Timedelta(days=1),
                                 freq=step).to_pydatetime())
    noon = choices[min(len(choices) - 1, 12 * 3600 // interval_s - 1)]
    picked = st.select_slider(
        "Now (contacts seen up to)", options=choices, value=noon,
        format_func=lambda t: "24:00" if t.date() > day else f"{t:%H:%M}",
        key=f"today_now_{day:%Y%m%d}",
    )
    now = pd.Timestamp(picked)
    actuals = actuals[pd.to_datetime(actuals["ds"]) < now]
else:
    upload = st.file_uploader(
        "Contacts so far today (ds, channel, contacts, optional aht_s)",
        type=["csv", "gz", "xlsx", "parquet"], key="today_upload",
    )
    if upload is None:
        st.info("Upload the day's contacts per interval so far: the same columns as the "
                "contacts history. Finer intervals than the plan's are summed.")
        st.stop()
    try:
        actuals = backend.load_day_upload(upload.name, upload.getvalue(), interval_s)
    except ValueError as exc:
        st.error(f"**{views.md(upload.name)}**: {exc}", icon=":material/error:")
        st.stop()
    except Exception as exc:  # noqa: BLE001 - an unreadable file must not crash the page
        st.error(f"**{views.md(upload.name)}** could not be read: {exc}",
                 icon=":material/error:")
        st.stop()
    try:
        day = day_of(actuals, f"**{views.md(upload.name)}**").date()
    except LiveError as exc:
        st.error(f"{exc}.", icon=":material/error:")
        st.stop()
    top[1].markdown(f"**Day:** {day:%a %d %b %Y} (from the file)")

try:
    view = backend.day_view(result, actuals, day, now, float(prior), float(level))
except ValueError as exc:
    st.error(f"The day could not be set against the plan: {exc}", icon=":material/error:")
    st.stop()

seen_to = "24:00" if view.now.date() > day else f"{view.now:%H:%M}"
st.subheader(f"{day:%a %d %b %Y}, contacts seen up to {seen_to}")
if view.ignored:
    st.warning(
        f"Contacts of {'queues' if result.queues else 'channels'} the plan does not have "
        "(left out): "
        + ", ".join(f"{ch} {n:,.0f}" for ch, n in view.ignored.items()),
        icon=":material/warning:",
    )
outside = view.summary[view.summary["unplanned_contacts"] > 0]
if len(outside):
    st.warning(
        "Contacts in intervals the plan has closed (left out of the comparison): "
        + ", ".join(f"{r.channel} {r.unplanned_contacts:,.0f}" for r in outside.itertuples()),
        icon=":material/warning:",
    )
summary = view.summary.set_index("channel")
queues = dict(result.meta.get("queues") or {})
pick = state.queue_pick(queues)
intervals = view.intervals
if pick is not None:  # the picked queues' cards, charts and short intervals
    names = set(picks.scope(pick, queues))
    summary = summary[summary.index.astype(str).isin(names)]
    intervals = intervals[intervals["channel"].astype(str).isin(names)]
is_open = open_at(view.intervals, view.now, interval_s)
# an interval of the plan has ended by now: a channel without rows then is not reported
# (planned_so_far counts reported channels only, so it cannot tell the two apart)
ended = view.intervals[pd.to_datetime(view.intervals["ds"]) + pd.Timedelta(
    seconds=int(interval_s)) <= view.now]["channel"].astype(str)
ended_by_now = set(ended)
many = len(summary) > MAX_CARDS
if many:
    st.info(f"{len(summary):,} queues: their figures are in the table; pick a channel or a "
            "queue in the sidebar (Show) for its cards and charts.", icon=":material/list:")
    st.dataframe(summary.drop(columns=["unplanned_contacts"], errors="ignore"),
                 width="stretch", key="today_summary")
cards = st.columns(len(summary)) if len(summary) and not many else []
for col, (channel, s) in zip(cards, summary.iterrows(), strict=False):  # none if many
    if not s["reported"] and not is_open.get(str(channel), False):
        col.metric(f"{channel}: contacts so far", "closed",
                   help=f"The plan has no {channel} interval running at {seen_to}: the "
                   "channel is closed now.")
    elif not s["reported"] and str(channel) not in ended_by_now:
        col.metric(f"{channel}: contacts so far", "just opened",
                   help=f"No {channel} interval has ended by {seen_to}: nothing to report yet; "
                   "its plan is kept as it is.")
    elif not s["reported"]:
        col.metric(f"{channel}: contacts so far", "not reported",
                   help="No actual row for this channel: its plan is kept as it is.")
    else:
        vs_plan = (f"{s['actual_so_far'] / s['planned_so_far'] - 1:+.1%} vs plan"
                   if s["planned_so_far"] else None)
        col.metric(f"{channel}: contacts so far", f"{s['actual_so_far']:,.0f}", vs_plan,
                   delta_color="inverse")
    diff = round(s["reforecast_day"] - s["planned_day"])
    col.metric(f"{channel}: day re-forecast", f"{s['reforecast_day']:,.0f}",
               f"{diff:+,.0f} vs plan" if diff else "as planned", delta_color="off",
               delta_arrow="auto" if diff else "off",
               help=f"{level:g}% band {s['reforecast_day_lo']:,.0f} to "
               f"{s['reforecast_day_hi']:,.0f}; multiplier {s['ratio']:.3f}, handle time "
               f"x{s['aht_ratio']:.3f}.")
    col.metric(f"{channel}: expected service level", views.fmt_number(100 * s["sl_expected"], 1)
               + "%", f"{100 * (s['sl_expected'] - s['sl_plan']):+.1f} pp vs plan",
               help="Volume-weighted over the day: the scheduled agents on the actual "
               "contacts so far and the re-forecast after.")
    col.metric(f"{channel}: intervals short", f"{int(s['intervals_short'])}",
               f"up to {int(s['max_short'])} agents" if s["max_short"] else None,
               delta_color="off")

tabs = st.tabs(list(summary.index)) if len(summary) and not many else []
for tab, channel in zip(tabs, summary.index, strict=False):
    rows = intervals[intervals["channel"] == channel]
    minutes = interval_s // 60
    tab.altair_chart(
        charts.live_chart(rows, view.now, f"{channel} contacts per {minutes} min", level),
        width="stretch",
    )
    cov = views.coverage_view(rows, channel, day, interval_s)
    cov["understaffed"] &= ~cov["observed"]
    tab.altair_chart(charts.coverage_chart(cov), width="stretch")
    tab.caption("Grey dashed: plan. Black: actual. Blue: re-forecast with its band. Orange: "
                "now. Below: agents on shift (green) against what the re-forecast needs "
                "(line); red: short in the rest of the day.")

short = intervals[intervals["short"]]  # the core's rule (email: backlog late)
st.subheader("Short in the rest of the day"
             + (f": {len(short)} interval{'s' if len(short) != 1 else ''}" if len(short) else ""))
if short.empty:
    st.success("The scheduled agents cover the re-forecast in every remaining interval.",
               icon=":material/check_circle:")
else:
    table = short[["channel", "ds", "reforecast", "scheduled", "required", "gap"]].rename(
        columns={"ds": "interval", "reforecast": "contacts (re-forecast)",
                 "gap": "agents short"})
    table["agents short"] = -table["agents short"]
    table["contacts (re-forecast)"] = table["contacts (re-forecast)"].round(0)
    table["interval"] = pd.to_datetime(table["interval"]).dt.strftime("%H:%M")  # 24 h
    table = table.rename(columns=lambda c: c[:1].upper() + c[1:])
    st.warning(f"{len(short)} remaining interval{'s' if len(short) != 1 else ''} short of "
               f"agents, up to {int(table['Agents short'].max())} in one.",
               icon=":material/group_remove:")
    st.dataframe(table.style.format({"Contacts (re-forecast)": "{:,.0f}",
                                     "Agents short": "{:,.0f}", "Scheduled": "{:,.0f}",
                                     "Required": "{:,.0f}"})
                 .map(lambda _: "background-color: #f8d7da; color: #842029",
                      subset=["Agents short"]),
                 width="stretch", hide_index=True)
st.download_button(
    "Download the day against plan (CSV)",
    views.table_to_csv(view.intervals),
    file_name=f"day_against_plan_{day:%Y%m%d}.csv", mime="text/csv", key="today_csv",
)
