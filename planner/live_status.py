"""Whether each channel of a day's plan is open at the moment the war room looks.

A channel with no actual contacts yet is either closed at that moment (its plan has no
interval running then: before opening, after closing, a closed day) or open and not
reporting; the Today page says which (:func:`open_at`).

Examples
--------
>>> import pandas as pd
>>> iv = pd.DataFrame({"channel": ["chat", "chat", "email"],
...                    "ds": pd.to_datetime(["2024-11-29 21:00", "2024-11-29 21:30",
...                                          "2024-11-29 09:00"])})
>>> open_at(iv, pd.Timestamp("2024-11-29 21:30"), 1800)
{'chat': True, 'email': False}
>>> open_at(iv, pd.Timestamp("2024-11-29 22:00"), 1800)["chat"]
False
"""

from __future__ import annotations

import pandas as pd

__all__ = ["open_at"]


def open_at(intervals: pd.DataFrame, now: pd.Timestamp, interval_s: int) -> dict[str, bool]:
    """Per channel: does the plan have an interval running at ``now``?

    Parameters
    ----------
    intervals : DataFrame
        ``channel, ds`` (interval start) of the day's plan, e.g. ``DayView.intervals``
        (:func:`planner.live.day_view`); closed hours have no rows.
    now : Timestamp
        The moment looked at (the end of the last observed interval).
    interval_s : int
        Interval length in seconds (> 0).

    Returns
    -------
    dict
        ``{channel: True when an interval starts at or before now and ends after it}``.

    Raises
    ------
    ValueError
        When ``interval_s`` is not positive or a column is missing.
    """
    if int(interval_s) <= 0:
        raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
    missing = {"channel", "ds"} - set(intervals.columns)
    if missing:
        raise ValueError(f"intervals are missing column(s) {sorted(missing)}")
    ds = pd.to_datetime(intervals["ds"])
    running = (ds <= now) & (ds + pd.Timedelta(seconds=int(interval_s)) > now)
    out = {str(ch): False for ch in dict.fromkeys(intervals["channel"])}
    for ch in intervals.loc[running.to_numpy(), "channel"]:
        out[str(ch)] = True
    return out
