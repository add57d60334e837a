"""Column headers in words: one table from the core's column names to what a planner reads.

Files for machines (CSV, the plan workbook's sheets that rostering systems import) keep
the core's ``snake_case`` names; tables for people (app tables, the comparison workbook,
the peak report) show these words. Both come from the same frames, so the figures match.

Examples
--------
>>> header("avg_fte"), header("d_service_level"), header("break_start")
('Average FTE', 'Service level vs baseline', 'Break start')
>>> in_words(pd.DataFrame({"scenario": ["a"], "paid_hours": [8.0]})).columns.tolist()
['Scenario', 'Paid hours']
"""

from __future__ import annotations

import pandas as pd

__all__ = ["PERCENT_COLUMNS", "WORDS", "header", "in_words"]

#: Core column name -> header in words (names not listed: underscores to spaces, capital).
WORDS: dict[str, str] = {
    "scenario": "Scenario", "channel": "Channel", "date": "Date", "week": "Week",
    "week_start": "Week starting", "ds": "Interval", "days": "Days",
    "avg_fte": "Average FTE", "peak_week_fte": "Peak-week FTE", "fte": "FTE",
    "paid_hours": "Paid hours", "cost": "Cost", "volume": "Contacts",
    "service_level": "Service level", "service_level_lo": "Service level, low",
    "service_level_hi": "Service level, high", "sl": "Service level",
    "asa_s": "ASA, s", "abandon_rate": "Abandoned", "occupancy": "Occupancy",
    "max_backlog_items": "Largest backlog, items", "max_backlog_age_h":
    "Oldest backlog item, h", "days_below_target": "Days below target",
    "max_daily_agents": "Most agents in a day", "agents": "Agents needed",
    "staffed": "Agents on shift", "backlog_items": "Backlog, items",
    "backlog_age_s": "Oldest backlog item, s", "backlog_age_h": "Oldest backlog item, h",
    "aht_s": "Handle time, s", "answered": "Answered", "abandoned": "Abandoned contacts",
    "path": "Setting", "field": "Assumption", "baseline": "Baseline",
    "value": "Scenario value", "staff_to": "Staffed to", "p": "Probability",
    "intervals_at_risk": "Intervals below target", "day_miss": "Days missing target",
    "expected_sl": "Expected service level", "expected_unserved": "Expected unserved",
    "p_below_target": "Chance below target", "shift": "Shift",
    "shift_start": "Shift start", "shift_end": "Shift end",
    "break_start": "Break start", "break_end": "Break end",
    "required": "Required", "scheduled": "Scheduled", "gap": "Gap", "short": "Short",
    "hires": "Hires", "classes": "Classes", "hiring_cost": "Hiring cost",
    "peak_gap_fte": "Peak gap, FTE", "short_fte_weeks": "Short, FTE-weeks",
    "latest_decision": "First decision due", "headcount": "Headcount",
    "lower_bound": "Lower bound", "contacts": "Contacts",
    "short_intervals": "Short intervals", "unserved_agent_hours": "Unserved agent-hours",
    "paid_hours_bound": "Paid hours, lower bound", "plan_quality": "Shift plan quality",
}

#: Columns that hold shares (0-1): shown as percentages.
PERCENT_COLUMNS = frozenset({
    "service_level", "service_level_lo", "service_level_hi", "abandon_rate", "sl",
    "occupancy", "d_service_level", "d_abandon_rate", "intervals_at_risk", "day_miss",
    "expected_sl", "p_below_target", "p", "d_occupancy", "min_service_level",
})


def header(column: str) -> str:
    """The header in words of one core column (``d_x``: "x vs baseline")."""
    if column.startswith("d_"):
        return f"{header(column[2:])} vs baseline"
    return WORDS.get(column, column.replace("_", " ").capitalize())


def in_words(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its headers in words (values untouched)."""
    return frame.rename(columns={c: header(c) for c in frame.columns if isinstance(c, str)})
