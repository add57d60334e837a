"""The hiring timeline chart of a capacity plan (Altair, no Streamlit).

:func:`capacity_chart` draws one channel of :attr:`planner.capacity.CapacityPlan.weekly`:
the FTE the centre has each week stacked by where it comes from (today's staff still
there, new hires ramping up, new hires at full speed, overtime, BPO), the plan's required
FTE as a line, the gap before overtime and BPO shaded, and a marker at each hiring class's
start (the latest date it can be decided) with its number of hires. Only columns of the
core's frames are encoded; nothing is computed here that a planner could quote.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

__all__ = ["SOURCES", "capacity_chart", "stacked_sources"]

#: weekly column -> legend label, bottom of the stack first
SOURCES = {
    "tenured_fte": "Today's staff (after attrition, moves)",
    "proficient_fte": "New hires, full speed",
    "ramping_fte": "New hires, ramping up",
    "overtime_fte": "Overtime",
    "bpo_fte": "BPO (outsourced)",
}
COLORS = ["#4c78a8", "#54a24b", "#a6d96a", "#f58518", "#b279a2"]
GAP = "#d62728"


def stacked_sources(weekly: pd.DataFrame, channel: str) -> pd.DataFrame:
    """One channel's weekly FTE sources in long form: ``week, source, order, fte``."""
    w = weekly[weekly["channel"] == channel]
    long = w.melt(id_vars=["week"], value_vars=list(SOURCES), var_name="column",
                  value_name="fte")
    long["source"] = long["column"].map(SOURCES)
    long["order"] = long["column"].map({c: i for i, c in enumerate(SOURCES)})
    return long[["week", "source", "order", "fte"]]


def capacity_chart(weekly: pd.DataFrame, classes: pd.DataFrame, channel: str,
                   height: int = 320) -> alt.LayerChart:
    """Required vs available FTE by week for ``channel``, stacked by tenure and lever.

    Parameters
    ----------
    weekly, classes : DataFrame
        ``CapacityPlan.weekly`` and ``CapacityPlan.classes``.
    channel : str
        The channel shown.
    """
    w = weekly[weekly["channel"] == channel].copy()
    x = alt.X("week:T", title="Week starting (Monday)",
              axis=alt.Axis(format="%d %b", labelAngle=0))
    bars = (
        alt.Chart(stacked_sources(weekly, channel))
        .mark_bar(size=9)
        .encode(
            x=x,
            y=alt.Y("fte:Q", stack="zero", title="FTE"),
            color=alt.Color("source:N", title="Staffed by",
                            scale=alt.Scale(domain=list(SOURCES.values()), range=COLORS),
                            legend=alt.Legend(orient="bottom", columns=3)),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("week:T", title="Week", format="%Y-%m-%d"),
                     alt.Tooltip("source:N", title="Source"),
                     alt.Tooltip("fte:Q", title="FTE", format=",.1f")],
        )
    )
    planned = w[w["required_fte"].notna()]
    # the gap before overtime and BPO: from what the staff delivers up to the requirement
    gap = planned.assign(top=planned[["required_fte", "available_fte"]].max(axis=1))
    shade = (
        alt.Chart(gap)
        .mark_bar(color=GAP, opacity=0.3, size=13)
        .encode(x=x, y="available_fte:Q", y2="top:Q",
                tooltip=[alt.Tooltip("week:T", title="Week", format="%Y-%m-%d"),
                         alt.Tooltip("gap_fte:Q", title="Gap before OT/BPO (FTE)",
                                     format="+,.1f"),
                         alt.Tooltip("short_fte:Q", title="Still short (FTE)",
                                     format=",.1f")])
    )
    need = (
        alt.Chart(planned)
        .mark_line(color="black", point=alt.OverlayMarkDef(color="black"))
        .encode(x=x, y="required_fte:Q",
                tooltip=[alt.Tooltip("week:T", title="Week", format="%Y-%m-%d"),
                         alt.Tooltip("required_fte:Q", title="Required FTE (the plan)",
                                     format=",.1f"),
                         alt.Tooltip("service_level:Q", title="Service level",
                                     format=".1%")])
    )
    layers = [shade, bars, need]
    c = classes[classes["channel"] == channel]
    if len(c):
        c = c.assign(label=[f"+{n}" for n in c["hires"]])
        tip = [alt.Tooltip("start:T", title="Decide by (class start)", format="%Y-%m-%d"),
               alt.Tooltip("training_start:T", title="Training starts", format="%Y-%m-%d"),
               alt.Tooltip("on_floor:T", title="On the floor", format="%Y-%m-%d"),
               alt.Tooltip("hires:Q", title="Hires")]
        rules = alt.Chart(c).mark_rule(color="#333333", strokeDash=[4, 3]).encode(
            x="start:T", tooltip=tip)
        text = alt.Chart(c).mark_text(align="left", dx=3, dy=-4, baseline="bottom",
                                      fontSize=11).encode(
            x="start:T", y=alt.value(12), text="label:N", tooltip=tip)
        layers += [rules, text]
    return alt.layer(*layers).properties(height=height)
