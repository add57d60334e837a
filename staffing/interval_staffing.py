"""Staffing each interval on its own, without a shift plan, under headcount caps.

When the shift solver is skipped (``shifts.solve: false``, and the app's Staffing page)
each interval is scheduled its rostered requirement, limited by the channel's cap; a cap
over all channels (:data:`staffing.shifts.ALL_CHANNELS`) is shared out in proportion to
each channel's need, in whole agents (:func:`share_total`).

Examples
--------
>>> import pandas as pd
>>> req = pd.DataFrame({"channel": ["chat", "voice"],
...                     "ds": pd.to_datetime(["2024-11-29 08:00"] * 2), "rostered": [6, 3]})
>>> interval_staffing(req, {"all": 6})[["scheduled", "short"]].values.tolist()
[[4.0, 2.0], [2.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from staffing.frames import with_gap
from staffing.shifts import ALL_CHANNELS

__all__ = ["interval_staffing", "share_total"]


def share_total(cov: pd.DataFrame, total: int) -> np.ndarray:
    """Scale each interval's scheduled agents down to ``total`` over all channels.

    Each channel keeps its share of the interval's agents, in whole agents (largest
    remainders first, ties in row order); intervals within ``total`` stay as they are.

    Parameters
    ----------
    cov : DataFrame
        ``ds, scheduled`` (one row per channel and interval).
    total : int
        Agents available over all channels in one interval.

    Returns
    -------
    numpy.ndarray
        Scheduled agents per row of ``cov``.

    Examples
    --------
    >>> cov = pd.DataFrame({"ds": [0, 0, 0], "scheduled": [5.0, 3.0, 2.0]})
    >>> share_total(cov, 7).tolist()  # exact shares 3.5, 2.1, 1.4: the 0.5 gets the 7th
    [4.0, 2.0, 1.0]
    """
    out = cov["scheduled"].to_numpy(float).copy()
    for idx in cov.groupby("ds").indices.values():
        want = out[idx]
        if want.sum() <= total:
            continue
        exact = want * total / want.sum()
        whole = np.floor(exact)
        left = int(total - whole.sum())
        order = np.argsort(-(exact - whole), kind="stable")[:left]
        whole[order] += 1
        out[idx] = whole
    return out


def interval_staffing(requirements: pd.DataFrame,
                      caps: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Schedule each interval's rostered need, capped, without a shift solve.

    Parameters
    ----------
    requirements : DataFrame
        ``channel, ds, rostered`` (:func:`staffing.requirements.compute_requirements`).
    caps : mapping, optional
        Channel -> most agents in one interval; ``"all"`` (:data:`ALL_CHANNELS`) over all
        channels together, shared out by :func:`share_total`.

    Returns
    -------
    DataFrame
        Coverage ``channel, ds, required, scheduled, gap, short`` (``gap = scheduled -
        required``, ``short = max(-gap, 0)``), as :class:`staffing.shifts.ShiftPlan`'s.
    """
    cov = requirements[["channel", "ds"]].copy()
    cov["required"] = requirements["rostered"].to_numpy(np.int64)
    caps = dict(caps or {})
    total = caps.pop(ALL_CHANNELS, None)
    cap = cov["channel"].map(caps).astype(float).fillna(np.inf).to_numpy()
    cov["scheduled"] = np.minimum(cov["required"].to_numpy(float), cap)
    if total is not None:
        cov["scheduled"] = share_total(cov, total)
    return with_gap(cov)
