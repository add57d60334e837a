"""App sections for risk: the cost-risk frontier chart and "Simulate this plan".

Widgets, caching and charts only; the numbers come from :mod:`planner.risk` and
:mod:`planner.simulate`. Both are computed on request (a button) and kept in the
session for the scenario they were computed for, so the pages stay fast.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app_support import backend, editor, views
from app_support.warroom import show_table
from planner.labels import header

__all__ = ["frontier_chart", "frontier_section", "simulate_section"]


def _key(result: Any) -> str:
    text = result.scenario.to_yaml() if hasattr(result.scenario, "to_yaml") else \
        repr(result.scenario)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def frontier_chart(frontier: pd.DataFrame) -> alt.LayerChart:
    """Paid hours (x) against the share of intervals below target and the chance that a
    day misses target (y), one point per staffing choice, labelled."""
    f = frontier.melt(id_vars=["scenario", "staff_to", "paid_hours"],
                      value_vars=["intervals_at_risk", "day_miss"],
                      var_name="risk", value_name="share")
    f["risk"] = f["risk"].map({"intervals_at_risk": "intervals below target",
                               "day_miss": "days missing target"})
    color = alt.Color("risk:N", title=None, legend=alt.Legend(orient="top"))
    base = alt.Chart(f).encode(
        x=alt.X("paid_hours:Q", title="Paid hours (requirement)", scale=alt.Scale(zero=False)),
        y=alt.Y("share:Q", title="Expected share at risk", axis=alt.Axis(format=".0%")),
        color=color,
        tooltip=[alt.Tooltip("scenario:N"), alt.Tooltip("staff_to:N", title="staff to"),
                 alt.Tooltip("paid_hours:Q", format=",.0f"),
                 alt.Tooltip("risk:N"), alt.Tooltip("share:Q", format=".1%")],
    )
    line = base.mark_line(point=True).encode(detail="scenario:N")
    text = base.transform_filter(alt.datum.risk == "intervals below target").mark_text(
        dy=-10, fontSize=11).encode(text="staff_to:N")
    return (line + text).properties(height=280)


def frontier_section(results: dict[str, Any], key: str) -> None:
    """The cost-risk frontier of each result (a button computes it)."""
    from planner.risk import frontier_summary, scenario_frontier

    st.subheader("What each step of buffer buys")
    st.caption(
        "Staffing every interval to the mean forecast leaves about half of them below "
        "target. Staffing to a probability p of meeting the target buys that risk down; "
        "the chart shows the paid hours each step costs (requirement hours, before shift "
        "planning) against the expected share of intervals below target and the chance "
        "that a whole day misses it, under the forecast's predictive distribution."
    )
    cache = st.session_state.setdefault("_frontiers", {})
    keys = {label: _key(r) for label, r in results.items()}
    missing = [label for label, k in keys.items() if k not in cache]
    if missing and st.button("Compute the cost-risk frontier", key=f"{key}_frontier"):
        bar = st.progress(0.0, text="cost-risk frontier")
        for i, label in enumerate(missing):
            cache[keys[label]] = scenario_frontier(results[label]).assign(scenario=label)
            bar.progress((i + 1) / len(missing), text=f"cost-risk frontier: {label}")
        bar.empty()
    ready = [label for label, k in keys.items() if k in cache]
    if not ready:
        return
    frames = [cache[keys[label]] for label in ready]
    channels = ["all", *sorted(set(frames[0]["channel"]) - {"all"})]
    ch = st.selectbox("Channels", channels, key=f"{key}_frontier_channel")
    f = pd.concat(frames, ignore_index=True)
    f = f[f["channel"] == ch]
    st.altair_chart(frontier_chart(f), width="stretch")
    for label, frame in zip(ready, frames, strict=True):
        st.markdown(f"**{views.md(label)}**: {frontier_summary(frame)}; "
                    f"{frontier_summary(frame, 'p80', 'p90')}")
    with st.expander("Frontier table"):
        show_table(f)


def simulate_section(scenario: Any, key: str) -> None:
    """A "Simulate this plan" action with a progress bar, its daily results with
    confidence intervals, and where the analytic KPIs fall outside them."""
    from planner.simulate import scenario_handle_cv, simulate_result

    st.subheader("Simulate this plan")
    st.caption(
        "A discrete-event simulation of the shift plan: arrivals drawn from the forecast's "
        "predictive distribution, handle times, patience and abandonment, chat concurrency, "
        "the email backlog carried over, the scheduled agents after breaks and shrinkage. "
        "It referees the analytic service levels."
    )
    h = scenario.horizon
    c1, c2, c3 = st.columns([2, 1, 1])
    days = c1.date_input("Days", value=(h.start, min(h.end, h.start + dt.timedelta(days=6))),
                         min_value=h.start, max_value=h.end, key=f"{key}_sim_days")
    # checked here, not by the browser (it would keep 500 red in the box and simulate 30)
    reps, reps_why = editor.checked_number(c2, "Replications", 2, 200, 30,
                                           key=f"{key}_sim_reps", help="2 to 200.")
    seed, seed_why = editor.checked_number(c3, "Seed", 0, 10**6, 0, key=f"{key}_sim_seed",
                                           help="0 to 1,000,000.")
    handle = st.radio(
        "Handle times", ("exponential", "lognormal, cv from the history"), horizontal=True,
        key=f"{key}_sim_handle",
        help="Exponential with each interval's AHT as mean (the Erlang models' own "
             "assumption), or lognormal with each channel's coefficient of variation "
             "estimated from how the history's interval mean AHTs scatter with their "
             "contact counts. A channel whose history has no AHT stays exponential.")
    if not (isinstance(days, tuple | list) and len(days) == 2):
        st.info("Pick a first and a last day.")
        return
    refused = [f"{what}: {why}" for what, why in (("Replications", reps_why),
                                                   ("Seed", seed_why)) if why]
    if refused:
        st.error("Simulate is disabled until these inputs are fixed: " + "; ".join(refused),
                 icon=":material/error:")
    if st.button("Simulate this plan", key=f"{key}_sim_go", type="primary",
                 disabled=bool(refused)):
        result = backend.run_scenario(scenario)
        cv = scenario_handle_cv(result) if handle != "exponential" else None
        bar = st.progress(0.0, text="simulating")
        sim = simulate_result(result, days=(str(days[0]), str(days[1])), reps=int(reps),
                              seed=int(seed), handle_cv=cv,
                              progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
        bar.empty()
        st.session_state[f"{key}_sim"] = sim
    sim = st.session_state.get(f"{key}_sim")
    if sim is None:
        return
    cols = ["date", "channel", "service_level", "service_level_lo", "service_level_hi",
            "p_below_target", "asa_s", "abandon_rate", "occupancy", "backlog_items"]
    table = sim.daily[[c for c in cols if c in sim.daily.columns]]
    cvs = sim.meta.get("handle_cv")
    handled = ("exponential handle times" if not isinstance(cvs, dict) else
               "handle times " + ", ".join(
                   f"{ch} lognormal cv {cv:.2f}" if cv is not None else
                   f"{ch} exponential (its history gives no cv)" for ch, cv in cvs.items()))
    st.caption(f"{sim.meta['reps']} replications, {sim.meta['contacts']:,} contacts, "
               f"{handled}; service level low and high: 95 % interval of the mean")
    show_table(table)
    bad = sim.disagreements()
    if len(bad):
        st.warning(
            f"The analytic KPI lies outside the simulation's interval on {len(bad)} "
            "day(s) x channel(s): "
            + ", ".join(f"{r.channel} {pd.Timestamp(r.date):%d %b} {header(r.metric).lower()} "
                        f"{r.analytic:.1%} vs {r.sim_lo:.1%}-{r.sim_hi:.1%}"
                        for r in bad.head(6).itertuples(index=False)),
            icon=":material/warning:",
        )
    wide = sim.too_wide()
    if len(wide):
        st.info(
            f"With {sim.meta['reps']} replications the simulation's interval is more than 10 "
            f"points wide on {len(wide)} day(s) x channel(s) (up to "
            f"{100 * wide['width'].max():.0f} points): too wide to "
            "referee the analytic KPI there. Run more replications (30 or more).",
            icon=":material/info:",
        )
    elif not len(bad):
        st.success("The analytic KPIs lie inside the simulation's intervals.")
