"""Interval staffing requirements per channel, from a volume forecast and channel policies.

Input is a volume frame ``channel, ds, volume, aht_s`` (one row per channel and interval of
length ``interval_s``); output is the ``requirements`` contract of the design document,
``channel, ds, volume, aht_s, agents, rostered, sl, asa_s, occupancy``:

- ``agents``: productive agents needed, by the channel's model -- Erlang C or Erlang A
  (voice), chat with concurrency, or deferred work within its response target (email);
  the occupancy cap of the policy is applied here;
- ``rostered``: agents on shift, the exact ``ceil(agents / (1 - shrinkage))`` with the
  policy's shrinkage (one share or a table by month/weekday);
- ``sl``, ``asa_s``, ``occupancy``: what ``agents`` achieve in the interval (steady state).

Closed intervals (outside the policy's ``open_hours``) get no agents; for deferred work
the closed-hours volume waits for the next opening (it is in the backlog).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from staffing.deferred import DeferredInfeasibleError
from staffing.erlang import rostered_agents
from staffing.policy import ChannelPolicy, PolicyError, open_mask
from staffing.queue_models import queue_model

__all__ = [
    "REQUIREMENT_COLUMNS",
    "RequirementsError",
    "as_policies",
    "compute_requirements",
    "fill_aht",
    "fte_hours",
    "volume_frame",
]

REQUIREMENT_COLUMNS = [
    "channel", "ds", "volume", "aht_s", "agents", "rostered", "sl", "asa_s", "occupancy",
]


class RequirementsError(ValueError):
    """Bad volume frame or policies (the message names the column or channel and value)."""


def as_policies(
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | ChannelPolicy,
) -> dict[str, ChannelPolicy]:
    """Policies keyed by channel, from a mapping, a sequence or a single policy."""
    if isinstance(policies, ChannelPolicy):
        return {policies.channel: policies}
    items = list(policies.values()) if isinstance(policies, Mapping) else list(policies)
    out: dict[str, ChannelPolicy] = {}
    for p in items:
        if not isinstance(p, ChannelPolicy):
            raise PolicyError(f"policies must be ChannelPolicy objects, got {type(p).__name__}")
        out[p.channel] = p
    return out


def volume_frame(
    volumes: pd.DataFrame, error: type[ValueError] = RequirementsError
) -> pd.DataFrame:
    """``channel, ds, volume, aht_s`` checked (``error`` names the column, row and value)
    and sorted; shared with :mod:`staffing.kpis`.

    Raises
    ------
    ValueError
        ``error`` (default :class:`RequirementsError`) naming the column, row and value.
    """
    df = volumes
    if "channel" not in df.columns and "unique_id" in df.columns:
        df = df.rename(columns={"unique_id": "channel"})
    missing = {"channel", "ds", "volume", "aht_s"} - set(df.columns)
    if missing:
        raise error(
            f"volume frame is missing column(s) {sorted(missing)}; "
            "expected channel, ds, volume, aht_s"
        )
    df = df[["channel", "ds", "volume", "aht_s"]].copy()
    df["channel"] = df["channel"].astype(str)
    df["ds"] = pd.to_datetime(df["ds"])
    for col in ("volume", "aht_s"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    vol = df["volume"].to_numpy()
    bad = ~np.isfinite(vol) | (vol < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise error(f"volume must be finite and >= 0, got {vol[i]!r} at row {i}")
    aht = df["aht_s"].to_numpy()
    bad = (vol > 0) & ~(np.isfinite(aht) & (aht > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise error(f"aht_s must be > 0 where volume > 0, got {aht[i]!r} at row {i}")
    if df.duplicated(["channel", "ds"]).any():
        row = df[df.duplicated(["channel", "ds"])].iloc[0]
        raise error(f"duplicate (channel, ds) = ({row['channel']}, {row['ds']})")
    return df.sort_values(["channel", "ds"]).reset_index(drop=True)


def fill_aht(aht: np.ndarray) -> np.ndarray:
    """AHT where it is undefined (no volume): the channel median, so formulas stay finite."""
    ok = np.isfinite(aht) & (aht > 0)
    fill = float(np.median(aht[ok])) if ok.any() else 300.0
    return np.where(ok, aht, fill)


def _channel(df: pd.DataFrame, p: ChannelPolicy, interval_s: int) -> pd.DataFrame:
    vol = df["volume"].to_numpy()
    aht = fill_aht(df["aht_s"].to_numpy())
    is_open = open_mask(df["ds"], interval_s, p.open_seconds if p.open_hours else None)
    sized = queue_model(p.model).size(vol, aht, interval_s, p, is_open,
                                      df["ds"].dt.normalize().to_numpy())
    agents, sl, asa, occ = sized["agents"], sized["sl"], sized["asa_s"], sized["occupancy"]
    shrink = p.shrinkage_at(df["ds"])
    out = df.assign(
        aht_s=np.where(vol > 0, df["aht_s"].to_numpy(), np.nan),
        agents=agents,
        rostered=rostered_agents(agents, shrink).astype(np.int64),
        sl=sl,
        asa_s=asa,
        occupancy=occ,
    )
    return out


def compute_requirements(
    volumes: pd.DataFrame,
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | ChannelPolicy,
    interval_s: int,
    *,
    deferred_tail_days: int = 0,
) -> pd.DataFrame:
    """Productive and rostered agents per channel and interval.

    Parameters
    ----------
    volumes : DataFrame
        ``channel, ds, volume, aht_s`` (``unique_id`` is accepted for ``channel``): contacts
        offered in ``[ds, ds + interval_s)`` and their average handle time in seconds.
    policies : mapping, sequence or ChannelPolicy
        One :class:`~staffing.policy.ChannelPolicy` per channel in ``volumes``.
    interval_s : int
        Interval length in seconds (e.g. 1800); it must divide a day.
    deferred_tail_days : int
        For deferred channels (email), assume the last day's volume keeps arriving for this
        many days after the data ends, and size the agents with it (the extra days are not
        returned). Without it the work of the last day may be pushed past the end (it is
        due after it), so the last day looks cheaper than any other: a plan's horizon end
        is not the end of the work. Planning horizons use 1.

    Returns
    -------
    DataFrame
        ``channel, ds, volume, aht_s, agents, rostered, sl, asa_s, occupancy`` sorted by
        channel and ds; ``agents``/``rostered`` are int64; ``sl`` is the share of offered
        contacts answered within the policy's threshold (Erlang C/A), NaN when not staffed
        and for deferred channels; ``frame.attrs["interval_s"]`` holds the interval length.

    Raises
    ------
    RequirementsError
        Missing columns, negative volume, missing AHT, duplicates, or a channel without a
        policy.

    Examples
    --------
    >>> vol = pd.DataFrame({"channel": "voice", "ds": pd.to_datetime(["2024-11-11 10:00"]),
    ...                     "volume": [100.0], "aht_s": [180.0]})
    >>> req = compute_requirements(vol, ChannelPolicy("voice", shrinkage=0.3), 1800)
    >>> req[["agents", "rostered"]].values.tolist()
    [[14, 20]]
    """
    interval_s = int(interval_s)
    if interval_s <= 0 or 86400 % interval_s:
        raise RequirementsError(f"interval_s must divide a day, got {interval_s!r}")
    pol = as_policies(policies)
    df = volume_frame(volumes)
    frames = []
    if deferred_tail_days < 0:
        raise RequirementsError(f"deferred_tail_days must be >= 0, got {deferred_tail_days!r}")
    for ch, part in df.groupby("channel", sort=True):
        if ch not in pol:
            raise RequirementsError(f"no policy for channel {ch!r}; policies: {sorted(pol)}")
        last_ds = part["ds"].max()
        last_day = part[part["ds"] > last_ds - pd.Timedelta(days=1)]
        days = deferred_tail_days if queue_model(pol[ch].model).deferred else 0
        tail = [last_day.assign(ds=last_day["ds"] + pd.Timedelta(days=k))
                for k in range(1, days + 1)]
        try:
            full = _channel(pd.concat([part, *tail], ignore_index=True), pol[ch], interval_s)
        except DeferredInfeasibleError as exc:  # which channel (or queue) could not be sized
            raise DeferredInfeasibleError(f"channel {ch!r}: {exc}") from exc
        frames.append(full[full["ds"] <= last_ds].reset_index(drop=True))
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=REQUIREMENT_COLUMNS)
    )
    out = out[REQUIREMENT_COLUMNS]
    out.attrs["interval_s"] = interval_s
    return out


def fte_hours(
    requirements: pd.DataFrame,
    by: str = "day",
    interval_s: int | None = None,
    hours_per_fte: float | None = None,
) -> pd.DataFrame:
    """Agent-hours and FTE per channel and day (or week, starting Monday).

    Parameters
    ----------
    requirements : DataFrame
        From :func:`compute_requirements`.
    by : {"day", "week"}
        Period.
    interval_s : int, optional
        Interval length (default ``requirements.attrs["interval_s"]``).
    hours_per_fte : float, optional
        Paid hours of one FTE in the period (default 8 per day, 40 per week).

    Returns
    -------
    DataFrame
        ``channel, period, agent_hours, rostered_hours, fte``: productive agent-hours,
        rostered (paid, on-shift) hours, and ``rostered_hours / hours_per_fte``.

    Examples
    --------
    >>> req = pd.DataFrame({"channel": "voice", "ds": pd.date_range("2024-11-11", periods=4,
    ...                     freq="30min"), "agents": 7, "rostered": 10})
    >>> fte_hours(req, interval_s=1800)[["agent_hours", "rostered_hours", "fte"]].values.tolist()
    [[14.0, 20.0, 2.5]]
    """
    if by not in ("day", "week"):
        raise RequirementsError(f"by must be 'day' or 'week', got {by!r}")
    interval_s = interval_s or requirements.attrs.get("interval_s")
    if not interval_s:
        raise RequirementsError("interval_s is required (or a frame from compute_requirements)")
    if hours_per_fte is None:
        hours_per_fte = 8.0 if by == "day" else 40.0
    if not hours_per_fte > 0:
        raise RequirementsError(f"hours_per_fte must be > 0, got {hours_per_fte!r}")
    ds = pd.to_datetime(requirements["ds"]).dt.normalize()
    if by == "week":
        ds = ds - pd.to_timedelta(ds.dt.day_of_week, unit="D")
    h = float(interval_s) / 3600.0
    df = pd.DataFrame(
        {
            "channel": requirements["channel"].to_numpy(),
            "period": ds.to_numpy(),
            "agent_hours": requirements["agents"].to_numpy(dtype=float) * h,
            "rostered_hours": requirements["rostered"].to_numpy(dtype=float) * h,
        }
    )
    out = df.groupby(["channel", "period"], as_index=False)[["agent_hours", "rostered_hours"]]
    out = out.sum()
    out["fte"] = out["rostered_hours"] / hours_per_fte
    return out
