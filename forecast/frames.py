"""The forecast package's frame contracts: column names defined once.

The loaders return, and the forecasters take and return, long tidy frames with these
columns (see the design notes). Code that builds, checks or scales one of these frames
uses these names instead of spelling the columns out again.

Examples
--------
>>> FORECAST
('unique_id', 'ds', 'yhat', 'yhat_lo', 'yhat_hi')
>>> require(pd.DataFrame({"ds": [], "yhat": []}), ("ds", *BAND), "daily forecast")
Traceback (most recent call last):
...
ValueError: daily forecast has no column 'yhat_lo' (columns: ['ds', 'yhat'])
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["BAND", "CONTACTS", "EVENTS", "FORECAST", "ORDERS", "require"]

#: Daily order history: ``ds`` (date), ``orders`` (int >= 0).
ORDERS = ("ds", "orders")
#: Contact history: ``ds`` (interval start), ``channel``, ``contacts``; optional ``aht_s``.
CONTACTS = ("ds", "channel", "contacts")
#: Events: ``ds``, ``event``; optional ``lower_window``, ``upper_window`` (days).
EVENTS = ("ds", "event")
#: A forecast's mean and its band (what scaling a forecast scales).
BAND = ("yhat", "yhat_lo", "yhat_hi")
#: A forecast of one or more series: ``unique_id`` names the series (a channel).
FORECAST = ("unique_id", "ds", *BAND)


def require(frame: pd.DataFrame, columns: Iterable[str], what: str,
            error: type[Exception] = ValueError) -> None:
    """Raise ``error`` naming the first of ``columns`` missing from ``frame``."""
    for col in columns:
        if col not in frame.columns:
            raise error(f"{what} has no column {col!r} (columns: {list(frame.columns)})")
