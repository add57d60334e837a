"""Altair charts for the app: readable axes with units, tooltips, no Streamlit.

Each builder takes a tidy frame (from the core or ``app_support.views``) and returns an
Altair chart; the pages hand it to ``st.altair_chart``. Builders never compute planning
numbers; they only encode columns.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

__all__ = [
    "by_day_chart",
    "channel_color",
    "date_hour_heatmap",
    "coverage_chart",
    "forecast_chart",
    "fte_week_chart",
    "heatmap_chart",
    "history_chart",
    "live_chart",
    "requirement_curve",
    "scenario_color",
    "shift_chart",
    "week_lines_chart",
]

HEIGHT = 280
UNDER = "#d62728"  # understaffed / below target
BAND = "#1f77b4"
#: Time axis labels in 24-hour form: the date at midnight, else the time (Vega's default
#: labels an hour "12 PM").
DAY_OR_HOUR = ("hours(datum.value) == 0 && minutes(datum.value) == 0 ? "
               "timeFormat(datum.value, '%d %b') : timeFormat(datum.value, '%H:%M')")


def channel_color(channels: list[str] | pd.Series, title: str = "Channel") -> alt.Color:
    """Colour encoding of ``channel`` with the fixed colour of each channel
    (:mod:`planner.palette`: chat, voice and email look the same in every chart)."""
    from planner.palette import channel_colors

    colors = channel_colors(dict.fromkeys(str(c) for c in channels))
    return alt.Color("channel:N", title=title,
                     scale=alt.Scale(domain=list(colors), range=list(colors.values())))


def scenario_color(labels: list[str] | pd.Series, baseline: str | None = None) -> alt.Color:
    """Colour encoding of ``scenario``: the baseline (default the first) always dark
    grey, the others in a fixed order (:mod:`planner.palette`)."""
    from planner.palette import scenario_colors

    colors = scenario_colors(dict.fromkeys(str(c) for c in labels), baseline)
    return alt.Color("scenario:N", title="Scenario",
                     scale=alt.Scale(domain=list(colors), range=list(colors.values())))


def history_chart(
    frame: pd.DataFrame, value: str, title: str, color: str | None = None
) -> alt.Chart:
    """A daily history line (one line per ``color`` value) with a tooltip.

    Parameters
    ----------
    frame : DataFrame
        ``ds`` plus the ``value`` column (and the ``color`` column if given).
    value : str
        Column plotted on the y axis; ``title`` is its axis title (with the unit).
    color : str, optional
        Column that splits the lines (e.g. ``channel``).
    """
    tooltip = [alt.Tooltip("ds:T", title="Date"), alt.Tooltip(f"{value}:Q", format=",.0f")]
    enc = {"x": alt.X("ds:T", title="Date"), "y": alt.Y(f"{value}:Q", title=title)}
    if color == "channel":
        enc["color"] = channel_color(frame["channel"])
    elif color is not None:
        enc["color"] = alt.Color(f"{color}:N", title=color.capitalize())
        tooltip.insert(1, alt.Tooltip(f"{color}:N"))
    chart = alt.Chart(frame).mark_line(strokeWidth=1.2).encode(**enc, tooltip=tooltip)
    return chart.properties(height=HEIGHT)


def forecast_chart(
    forecast: pd.DataFrame,
    actual: pd.DataFrame | None,
    events: pd.DataFrame | None,
    y_title: str,
    level: int,
    time_unit: str = "Date",
    extra: list[tuple[str, str, str]] | None = None,
    x_format: str | None = None,
) -> alt.LayerChart:
    """Forecast band (area), forecast line, actuals and event rules, for one series.

    Parameters
    ----------
    forecast : DataFrame
        ``ds, yhat, yhat_lo, yhat_hi`` of one series.
    actual : DataFrame or None
        ``ds, y`` history (and/or the actuals over the horizon) to draw in black.
    events : DataFrame or None
        ``ds, event``: vertical rules with the event name as tooltip.
    y_title : str
        y axis title with its unit, e.g. ``"Contacts per day"``.
    level : int
        Interval level in percent, for the legend and tooltip.
    time_unit : str
        x axis title.
    extra : list of (column, title, format), optional
        More forecast columns for the band's tooltip (e.g. the contact rate).
    x_format : str, optional
        d3 time format of the x labels (``"%H:%M"`` for an intraday view).
    """
    axis = alt.Axis(format=x_format) if x_format else alt.Axis()
    x = alt.X("ds:T", title=time_unit, axis=axis)
    fmt = ",.0f"
    # one legend for every layer: each layer names its series in a constant column
    names = {"Forecast": BAND, f"{level}% interval": BAND, "Actual": "#333333"}
    if events is not None and len(events):
        names["Event"] = "#ff7f0e"
    legend = alt.Scale(domain=list(names), range=list(names.values()))

    def key(name: str) -> alt.Color:
        return alt.Color("series:N", scale=legend, title=None, legend=alt.Legend(orient="top"))

    band = (
        alt.Chart(forecast)
        .transform_calculate(series=f"'{level}% interval'")
        .mark_area(opacity=0.25)
        .encode(
            x=x,
            color=key("band"),
            y=alt.Y("yhat_lo:Q", title=y_title),
            y2="yhat_hi:Q",
            tooltip=[
                alt.Tooltip("ds:T", title=time_unit, format="%Y-%m-%d %H:%M"),
                alt.Tooltip("yhat:Q", title="Forecast", format=fmt),
                alt.Tooltip("yhat_lo:Q", title=f"Low ({level}%)", format=fmt),
                alt.Tooltip("yhat_hi:Q", title=f"High ({level}%)", format=fmt),
                *[alt.Tooltip(f"{c}:Q", title=t, format=f) for c, t, f in (extra or [])],
            ],
        )
    )
    line = (alt.Chart(forecast).transform_calculate(series="'Forecast'")
            .mark_line(strokeWidth=1.5).encode(x=x, y="yhat:Q", color=key("Forecast")))
    layers: list[alt.Chart] = [band, line]
    if actual is not None and len(actual):
        layers.append(
            alt.Chart(actual)
            .transform_calculate(series="'Actual'")
            .mark_line(strokeWidth=1)
            .encode(
                x=x,
                y="y:Q",
                color=key("Actual"),
                tooltip=[
                    alt.Tooltip("ds:T", title=time_unit, format="%Y-%m-%d %H:%M"),
                    alt.Tooltip("y:Q", title="Actual", format=fmt),
                ],
            )
        )
    if events is not None and len(events):
        layers.append(
            alt.Chart(events)
            .transform_calculate(series="'Event'")
            .mark_rule(strokeDash=[4, 3])
            .encode(
                x="ds:T",
                color=key("Event"),
                tooltip=[alt.Tooltip("ds:T", title="Event day"), alt.Tooltip("event:N")],
            )
        )
        layers.append(  # the event's name written along its line
            alt.Chart(events)
            .mark_text(angle=270, align="right", baseline="bottom", dx=-4, dy=-2,
                       fontSize=10, color="#b35900")
            .encode(x="ds:T", y=alt.value(0), text="event:N")
        )
    return alt.layer(*layers).properties(height=HEIGHT)


def heatmap_chart(frame: pd.DataFrame, value: str, title: str) -> alt.Chart:
    """Weekday x time-of-day heatmap (``weekday``, ``time``, ``value`` columns)."""
    weekdays = list(pd.unique(frame["weekday"])) if len(frame) else []
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("time:O", title="Time of day (interval start)", axis=alt.Axis(labelAngle=-90)),
            y=alt.Y("weekday:O", title="Weekday", sort=weekdays),
            color=alt.Color(f"{value}:Q", title=title, scale=alt.Scale(scheme="blues")),
            tooltip=[
                alt.Tooltip("weekday:O", title="Weekday"),
                alt.Tooltip("time:O", title="Time"),
                alt.Tooltip(f"{value}:Q", title=title, format=",.1f"),
            ],
        )
        .properties(height=HEIGHT)
    )


def requirement_curve(frame: pd.DataFrame, value: str, title: str) -> alt.Chart:
    """Requirement per interval over time, one line per channel (``ds, channel, value``).

    NaN values break the line (closed hours; see ``views.break_gaps``).
    """
    return (
        alt.Chart(frame)
        .mark_line(strokeWidth=1, interpolate="step-after", invalid="break-paths-show-domains")
        .encode(
            x=alt.X("ds:T", title="Interval start", axis=alt.Axis(labelExpr=DAY_OR_HOUR)),
            y=alt.Y(f"{value}:Q", title=title),
            color=channel_color(frame["channel"]),
            tooltip=[
                alt.Tooltip("ds:T", title="Interval", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("channel:N", title="Channel"),
                alt.Tooltip(f"{value}:Q", title=title, format=",.0f"),
            ],
        )
        .properties(height=HEIGHT)
    )


def fte_week_chart(frame: pd.DataFrame, value: str = "fte") -> alt.Chart:
    """Stacked FTE bars by week and channel (``week``, ``channel``, ``value``)."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "yearmonthdate(week):O",
                title="Week starting (Monday)",
                axis=alt.Axis(format="%d %b %Y", labelAngle=0),
            ),
            y=alt.Y(f"{value}:Q", title="FTE (rostered hours / FTE week)"),
            color=channel_color(frame["channel"]),
            tooltip=[
                alt.Tooltip("week:T", title="Week starting", format="%Y-%m-%d"),
                alt.Tooltip("channel:N", title="Channel"),
                alt.Tooltip(f"{value}:Q", title="FTE", format=",.1f"),
            ],
        )
        .properties(height=HEIGHT)
    )


def shift_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Gantt-like view of one day's shifts.

    ``frame`` has ``label`` (one row per shift pattern), ``channel``, ``shift_start``,
    ``shift_end``, ``break_start``, ``break_end``, ``agents``: a bar per pattern from
    start to end, the break as a white gap, the agent count written on the bar.
    """
    y = alt.Y("label:N", title="Shift (start-end, break)", sort=None,
              axis=alt.Axis(labelLimit=320, labelOverlap=False))  # every row labelled
    tip = [
        alt.Tooltip("channel:N", title="Channel"),
        alt.Tooltip("shift_start:T", title="Start", format="%H:%M"),
        alt.Tooltip("shift_end:T", title="End", format="%H:%M"),
        alt.Tooltip("break_start:T", title="Break", format="%H:%M"),
        alt.Tooltip("agents:Q", title="Agents starting"),
    ]
    bars = (
        alt.Chart(frame)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("shift_start:T", title="Time of day", axis=alt.Axis(format="%H:%M")),
            x2="shift_end:T",
            y=y,
            color=channel_color(frame["channel"]),
            tooltip=tip,
        )
    )
    breaks = (
        alt.Chart(frame.dropna(subset=["break_start"]))
        .mark_bar(color="white", opacity=0.85)
        .encode(x="break_start:T", x2="break_end:T", y=y, tooltip=tip)
    )
    text = (
        alt.Chart(frame)
        .mark_text(align="left", dx=4, color="#222222")
        .encode(x="shift_end:T", y=y, text=alt.Text("agents:Q", format=",d"))
    )
    height = max(HEIGHT, 22 * frame["label"].nunique())
    return alt.layer(bars, breaks, text).properties(height=height)


def coverage_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Scheduled agents (area) against the requirement (line) for one channel and day.

    ``frame`` has ``ds, ds_end, required, scheduled, gap, understaffed``; the missing
    agents of understaffed intervals are shaded red (scheduled up to required) and marked
    with a red triangle, with the numbers in the tooltip.
    """
    x = alt.X("ds:T", title="Interval start", axis=alt.Axis(format="%H:%M"))
    tip = [
        alt.Tooltip("ds:T", title="Interval", format="%Y-%m-%d %H:%M"),
        alt.Tooltip("required:Q", title="Required agents", format=",.0f"),
        alt.Tooltip("scheduled:Q", title="Scheduled agents", format=",.0f"),
        alt.Tooltip("gap:Q", title="Scheduled - required", format="+,.0f"),
    ]
    sched = (
        alt.Chart(frame)
        .mark_area(opacity=0.35, interpolate="step-after", color="#2ca02c")
        .encode(x=x, y=alt.Y("scheduled:Q", title="Agents (rostered)"), tooltip=tip)
    )
    req = (
        alt.Chart(frame)
        .mark_line(interpolate="step-after", color="#333333", strokeWidth=1.5)
        .encode(x=x, y="required:Q", tooltip=tip)
    )
    short = frame[frame["understaffed"]]
    missing = (
        alt.Chart(short)
        .mark_rect(color=UNDER, opacity=0.35)
        .encode(x=x, x2="ds_end:T", y="scheduled:Q", y2="required:Q", tooltip=tip)
    )
    under = (
        alt.Chart(short)
        .mark_point(color=UNDER, filled=True, size=50, shape="triangle-down")
        .encode(x=x, y="required:Q", tooltip=tip)
    )
    return alt.layer(sched, missing, req, under).properties(height=HEIGHT)


def by_day_chart(
    frame: pd.DataFrame, value: str, title: str, fmt: str = ",.2f", target: float | None = None,
    baseline: str | None = None,
) -> alt.LayerChart:
    """One line per scenario over days (``date, scenario, value``), optional target rule;
    the ``baseline`` scenario is always drawn in the same dark grey."""
    line = (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=1.5)
        .encode(
            # at most one tick a day (a few days' range ticked every 12 h, labels twice)
            x=alt.X("yearmonthdate(date):T", title="Date",
                    axis=alt.Axis(format="%a %d %b", tickCount={"interval": "day", "step": 1},
                                  labelOverlap=True)),
            y=alt.Y(f"{value}:Q", title=title, axis=alt.Axis(format=fmt)),
            color=scenario_color(pd.unique(frame["scenario"]).tolist(), baseline),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%Y-%m-%d"),
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip(f"{value}:Q", title=title, format=fmt),
            ],
        )
    )
    layers: list[alt.Chart] = [line]
    if target is not None:
        rule = pd.DataFrame({"target": [target]})
        layers.append(
            alt.Chart(rule).mark_rule(color=UNDER, strokeDash=[4, 3]).encode(y="target:Q")
        )
    return alt.layer(*layers).properties(height=HEIGHT)


def live_chart(frame: pd.DataFrame, now: pd.Timestamp, y_title: str, level: float
               ) -> alt.LayerChart:
    """The day of one channel: plan (grey, dashed), actuals (black) and re-forecast (blue,
    with its band) after ``now`` (orange rule).

    ``frame`` is one channel of :attr:`planner.live.DayView.intervals`.
    """
    x = alt.X("ds:T", title="Interval start", axis=alt.Axis(format="%H:%M"))
    fmt = ",.0f"
    tip = [
        alt.Tooltip("ds:T", title="Interval", format="%H:%M"),
        alt.Tooltip("planned:Q", title="Plan", format=fmt),
        alt.Tooltip("actual:Q", title="Actual", format=fmt),
        alt.Tooltip("reforecast:Q", title="Re-forecast", format=fmt),
        alt.Tooltip("reforecast_lo:Q", title=f"Low ({level:g}%)", format=fmt),
        alt.Tooltip("reforecast_hi:Q", title=f"High ({level:g}%)", format=fmt),
    ]
    later = frame[~frame["observed"]]
    seen = frame[frame["observed"]]
    plan = (alt.Chart(frame).mark_line(color="#7f7f7f", strokeDash=[5, 3], strokeWidth=1.2)
            .encode(x=x, y=alt.Y("planned:Q", title=y_title), tooltip=tip))
    band = (alt.Chart(later).mark_area(opacity=0.25, color=BAND)
            .encode(x=x, y="reforecast_lo:Q", y2="reforecast_hi:Q", tooltip=tip))
    ref = (alt.Chart(later).mark_line(color=BAND, strokeWidth=1.8)
           .encode(x=x, y="reforecast:Q", tooltip=tip))
    act = (alt.Chart(seen).mark_line(color="#333333", strokeWidth=1.5, point=True)
           .encode(x=x, y="actual:Q", tooltip=tip))
    rule = (alt.Chart(pd.DataFrame({"ds": [now]})).mark_rule(color="#ff7f0e", strokeWidth=2)
            .encode(x="ds:T", tooltip=[alt.Tooltip("ds:T", title="Now", format="%H:%M")]))
    return alt.layer(plan, band, ref, act, rule).properties(height=HEIGHT)


def week_lines_chart(frame: pd.DataFrame, value: str, title: str, fmt: str,
                     baseline: str | None = None) -> alt.Chart:
    """One line per scenario over weeks (``scenario, week, value``), baseline in grey."""
    return (
        alt.Chart(frame)
        .mark_line(point=True, strokeWidth=1.5)
        .encode(
            x=alt.X("week:T", title="Week starting (Monday)", axis=alt.Axis(format="%d %b")),
            y=alt.Y(f"{value}:Q", title=title, axis=alt.Axis(format=fmt)),
            color=scenario_color(pd.unique(frame["scenario"]).tolist(), baseline),
            tooltip=[
                alt.Tooltip("week:T", title="Week starting", format="%d %b %Y"),
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip(f"{value}:Q", title=title, format=fmt),
            ],
        )
        .properties(height=220)
    )


def date_hour_heatmap(frame: pd.DataFrame, title: str, fmt: str, scheme: str,
                      target: float | None = None) -> alt.Chart:
    """Date x hour heatmap (``date, hour, value``): every day of the plan, so the peak
    days stand out instead of being averaged into a weekday. With ``target`` (a service
    level target) the colours are fixed to 0..100 % with the middle of the scheme at the
    target: below target reads red, above it green, whatever the plan's own range."""
    scale = (alt.Scale(scheme=scheme) if target is None
             else alt.Scale(scheme=scheme, domain=[0, 1], domainMid=float(target)))
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("yearmonthdate(date):O", title="Date",
                    axis=alt.Axis(format="%d %b", labelAngle=-90, labelOverlap=True)),
            y=alt.Y("hour:O", title="Hour (24 h)", sort="ascending",
                    axis=alt.Axis(labelExpr="datum.value < 10 ? '0' + datum.value + ':00'"
                                            " : datum.value + ':00'")),
            color=alt.Color("value:Q", title=title, scale=scale,
                            legend=alt.Legend(format=fmt)),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%a %d %b %Y"),
                alt.Tooltip("hour:O", title="Hour"),
                alt.Tooltip("value:Q", title=title, format=fmt),
            ],
        )
        .properties(height=HEIGHT)
    )
