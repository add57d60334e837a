"""The staffing package's frame contracts: column names defined once.

Requirements, shift plans, coverage and achieved KPIs are long tidy frames; the code
that builds or checks them (here, in the planner and in the exports) uses these names.
KPI frames keep theirs next to their computation (:data:`staffing.kpis.KPI_COLUMNS`,
:data:`staffing.kpis.DAILY_COLUMNS`).

Examples
--------
>>> SHIFT_PLAN_CONTRACT
('date', 'channel', 'shift_start', 'shift_end', 'break_start', 'agents')
>>> set(SHIFT_PLAN_CONTRACT) <= set(SHIFT_PLAN) and set(COVERAGE_NEEDS) <= set(COVERAGE)
True
>>> with_gap(pd.DataFrame({"required": [5, 3], "scheduled": [4.0, 4.0]}))[["gap", "short"]]
   gap  short
0 -1.0    1.0
1  1.0    0.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["COVERAGE", "COVERAGE_NEEDS", "SHIFT_PLAN", "SHIFT_PLAN_CONTRACT", "SHIFT_TIMES",
           "with_gap"]

#: Start, end and break times of a shift row (timestamps; a shift may end the next day).
SHIFT_TIMES = ("shift_start", "shift_end", "break_start", "break_end")
#: Every column of a shift plan, in order: one row per day, channel and shift pattern.
SHIFT_PLAN = ("date", "channel", "shift", *SHIFT_TIMES, "agents", "paid_hours")
#: What a rostering import needs of a shift plan (the design notes' contract).
SHIFT_PLAN_CONTRACT = ("date", "channel", "shift_start", "shift_end", "break_start", "agents")
#: Coverage per interval: agents required and scheduled, ``gap = scheduled - required``,
#: ``short = max(required - scheduled, 0)``.
COVERAGE = ("channel", "ds", "required", "scheduled", "gap", "short")
#: What coverage must have to be exported (gap and short follow from these).
COVERAGE_NEEDS = ("channel", "ds", "required", "scheduled")


def with_gap(coverage: pd.DataFrame, digits: int | None = None) -> pd.DataFrame:
    """``coverage`` with ``gap = scheduled - required`` (rounded to ``digits`` if given)
    and ``short = max(-gap, 0)``, the agents missing (the one place both are built)."""
    gap = coverage["scheduled"].to_numpy(float) - coverage["required"].to_numpy(float)
    if digits is not None:
        gap = np.round(gap, digits)
    coverage["gap"] = gap
    coverage["short"] = np.clip(-gap, 0, None)
    return coverage
