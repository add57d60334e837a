"""Forecast page: orders and contacts per channel with their interval band, and backtests."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_support import backend, charts, editor, state, views
from planner import picks
from planner.pipeline import scenario_forecast

st.title("Forecast")
st.caption(
    "Orders and contacts per channel over the plan horizon, learned from history up to the "
    "day before the plan starts. The band is the forecast interval; events are dashed rules."
)

scenario = state.edit_current("Horizon and forecast settings", ("horizon", "forecast"), "forecast")

try:
    dataset = state.current_dataset()
    # what the plan staffs for: the scenario's order growth, contact rate and automation
    # applied by the core (the same frames the Staffing and Shift plan pages plan from)
    plan_scenario, queues = backend.planned(scenario)  # per queue when the data has them
    base = scenario_forecast(plan_scenario, backend.base_forecast(scenario))
except ValueError as exc:
    st.error(f"The forecast could not be computed: {exc}", icon=":material/error:")
    st.stop()

h = scenario.horizon
level = scenario.forecast.level
contacts = dataset.contacts
if queues:  # the queues are the planned series
    from planner.queues import queue_contacts

    contacts = queue_contacts(contacts)
history = views.daily_series(dataset.orders, contacts)
last_seen = pd.Timestamp(h.last_history_day)
shown_from = last_seen - pd.Timedelta(weeks=8)

st.caption(
    "Models: " + ", ".join(f"{k}: {v}" for k, v in base.models.items())
    + "; contacts per channel are forecast orders x the contact rate with its delivery "
    "lag (learned, or the scenario's), after the scenario's order growth and automation, "
    f"split into intervals by weekday profiles. History used up to "
    f"{last_seen:%Y-%m-%d}."
)
short = backend.short_history(scenario)  # the core's rule, shown here
if short is not None:
    st.warning(short[0].upper() + short[1:] + ".", icon=":material/warning:")
pick = state.queue_pick(queues)
daily_fc, interval_fc = base.daily, base.contacts
if pick is None:
    series = ["orders", *scenario.channels]
else:  # the picked queues added up per day and interval (bands: the sum of the bands)
    label = picks.pick_label(pick)
    series = ["orders", label]
    bands = ["yhat", "yhat_lo", "yhat_hi"]
    daily_fc = picks.pick_frame(daily_fc, pick, queues, bands, series="unique_id")
    interval_fc = picks.pick_frame(interval_fc, pick, queues, bands, series="unique_id")
    history = pd.concat([history[history["unique_id"] == "orders"], picks.pick_frame(
        history, pick, queues, ["y"], series="unique_id")], ignore_index=True)
    contacts = picks.pick_frame(contacts, pick, queues, ["contacts"])
uid = st.selectbox("Series", series, key="forecast_series")
if uid not in series:
    uid = series[0]
events = views.events_between(dataset.events, shown_from, h.end)

daily_tab, intraday_tab, backtest_tab = st.tabs(["Daily view", "Intraday view", "Backtest"])

with daily_tab:
    if uid == "orders":
        fc = base.orders  # the planner's daily order forecast
    else:  # contacts = forecast orders x contact rate (with the delivery lag), per day
        fc = daily_fc[daily_fc["unique_id"] == uid]
    actual = views.between(history[history["unique_id"] == uid], shown_from, h.end)
    unit = "Orders per day" if uid == "orders" else f"{uid} contacts per day"
    extra = None if uid == "orders" or "rate" not in fc else [
        ("rate", "Contacts per order", ".2%")]
    st.altair_chart(
        charts.forecast_chart(fc, actual[["ds", "y"]], events, unit, level, extra=extra),
        width="stretch",
    )
    st.caption(
        f"Black: actual history (and actuals over the horizon where the data has them). "
        f"Blue: forecast with its {level}% interval. Most of a contact band's width is how "
        "far the contact rate may move in the weeks ahead, and that error is shared by "
        f"neighbouring days: in a given peak nearly every day may fall inside, or many "
        f"outside; over many past windows about {level}% of days do. Where the scenario "
        "sets the contact rate, the band is the spread around that assumed rate."
    )

with intraday_tab:
    if uid == "orders":
        st.info("Orders are forecast per day; pick a channel for its intraday view.")
    else:
        day = st.date_input(
            "Day", value=h.start, min_value=h.start, max_value=h.end, key="forecast_day"
        )
        fc = views.between(interval_fc[interval_fc["unique_id"] == uid], day, day)
        actual = views.interval_actuals(contacts, uid, day)
        minutes = base.interval_s // 60
        st.altair_chart(
            charts.forecast_chart(
                fc, actual, None, f"{uid} contacts per {minutes} min", level,
                "Interval start", x_format="%H:%M",
            ),
            width="stretch",
        )
        if fc.empty:
            st.info(f"{uid} is closed on {day:%a %d %b %Y}: no intervals to forecast.")

with backtest_tab:
    st.markdown(
        "Rolling-origin backtest on daily history before the plan: each window is forecast "
        "from the data before it and scored against what happened. Baselines are what "
        "planners do today (same weekday last week; recent same-weekday average). `auto` "
        "selects again at every window (slower: it backtests every candidate): *Model "
        "used* shows its picks, *Margin* how far the runner-up was behind (negative: a "
        "simpler model within one standard error of the best was preferred), *Stability* "
        "the share of its selection windows that agreed."
    )
    c = st.columns(3)
    bt_h = c[0].selectbox("Horizon per window", ["7D", "14D", "28D"], index=1, key="bt_h")
    bt_n, bt_why = editor.checked_number(c[1], "Windows", 1, 8, 3, key="bt_n")
    bt_models = c[2].multiselect(
        "Models",
        ["seasonal_naive", "same_weekday_average", "ets", "sarimax", "prophet",
         "combination", "auto"],
        default=["seasonal_naive", "same_weekday_average", "auto"],
        key="bt_models",
    )
    if st.button("Run backtest", key="bt_run", disabled=not bt_models or bt_why is not None):
        with st.spinner("Backtesting..."):
            try:
                table = backend.backtest_table(
                    history[history["ds"] <= last_seen], bt_h, tuple(bt_models), int(bt_n),
                    dataset.events, level,
                )
            except ValueError as exc:
                st.error(f"The backtest could not run: {exc}", icon=":material/error:")
            else:
                st.session_state["bt_table"] = table
    table = st.session_state.get("bt_table")
    if table is not None:
        shown = table.copy()
        for col in ("wape", "bias", "coverage"):  # 0.1 % is what a planner reads
            if col in shown:
                shown[col] = pd.to_numeric(shown[col], errors="coerce").round(3)
        for col in ("margin", "stability"):  # "-" where a model has none (not auto)
            if col in shown:
                v = pd.to_numeric(shown[col], errors="coerce")
                shown[col] = ["-" if pd.isna(x) else f"{x:.1%}" for x in v]
        st.dataframe(
            shown,
            width="stretch",
            hide_index=True,
            column_config={
                "unique_id": st.column_config.TextColumn("Series"),
                "model": st.column_config.TextColumn("Model"),
                "n_windows": st.column_config.NumberColumn("Windows", format="%d"),
                "n_points": st.column_config.NumberColumn("Days scored", format="%d"),
                "wape": st.column_config.NumberColumn("WAPE", format="percent"),
                "mase": st.column_config.NumberColumn("MASE", format="%.2f"),
                "bias": st.column_config.NumberColumn("Bias", format="percent"),
                "coverage": st.column_config.NumberColumn(
                    f"Inside {level}% interval", format="percent"
                ),
                "model_used": st.column_config.TextColumn("Model used"),
                "margin": st.column_config.TextColumn("Margin"),
                "stability": st.column_config.TextColumn("Stability"),
            },
        )
        st.caption(
            "WAPE = sum |actual - forecast| / sum actual. MASE = mean absolute error over "
            "the history's own week-on-week change (in-sample seasonal naive), so lower is "
            "better and models compare within a series; out of sample, and over peaks, even "
            "seasonal naive scores well above 1. Coverage is the share of actual days inside "
            "the interval."
        )
