"""What a plan achieves: service level, ASA, abandonment, occupancy and backlog per interval.

Steady-state formulas answer "what if this interval lasted forever"; in a bad peak the load
exceeds capacity for hours and the unanswered queue carries into the next intervals, which a
per-interval formula forgets. This module evaluates a plan interval by interval, carrying
the queue over, with the steady-state formulas where they hold.

Queues (voice, chat) use the carry-over models of :mod:`staffing.carryover`: the
pointwise stationary fluid flow approximation (:func:`~staffing.carryover.psffa_erlang_c`)
without abandonment, and a fluid carry-over above the Erlang A steady state
(:func:`~staffing.carryover.fluid_queue`) with it.

Deferred work (email) is the fluid FIFO backlog of :mod:`staffing.deferred` (no
abandonment; items keep the handle time of their arrival interval): backlog and age of
the oldest item from :func:`~staffing.deferred.deferred_backlog`, each interval's share
answered within the response target and mean wait from
:func:`~staffing.deferred.deferred_waits`, occupancy as work done over capacity.

References
----------
Garnett, O., Mandelbaum, A., Reiman, M. (2002). Designing a call center with impatient
customers. *MSOM* 4(3), 208-227 (Erlang A).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from staffing.carryover import fluid_queue, fluid_wait, psffa_erlang_c, queue_at
from staffing.deferred import deferred_backlog, deferred_waits
from staffing.erlang_a import erlang_a_metrics, erlang_a_service_level
from staffing.policy import ChannelPolicy
from staffing.queue_models import queue_model
from staffing.requirements import as_policies, fill_aht, volume_frame

__all__ = [
    "KPIError",
    "KPI_COLUMNS",
    "DAILY_COLUMNS",
    "achieved_kpis",
    "daily_kpis",
    "fluid_queue",
    "psffa_erlang_c",
]

KPI_COLUMNS = [
    "channel", "ds", "volume", "aht_s", "agents", "staffed", "answered", "abandoned", "sl",
    "asa_s", "abandon_rate", "occupancy", "backlog_items", "backlog_age_s",
]
DAILY_COLUMNS = [
    "date", "channel", "service_level", "asa_s", "abandon_rate", "occupancy",
    "backlog_items", "backlog_age_h", "paid_hours",
]
_M = 32  # integration points per interval for waits under a fluid queue


class KPIError(ValueError):
    """Bad input to the KPI model (the message names the column or parameter and value)."""


def _steady(vol, aht, interval_s, agents, threshold_s, patience_s):
    """Steady-state Erlang A SL, ASA, abandonment and occupancy (one metrics pass per
    whole number of agents), fractional agents interpolated linearly."""
    a = vol * aht / interval_s
    lo = np.floor(agents + 1e-9)
    f = np.clip(agents - lo, 0.0, 1.0)
    out = []
    for n in (lo, lo + 1):
        m = erlang_a_metrics(a, aht, n, patience_s)
        sl = erlang_a_service_level(a, aht, n, threshold_s, patience_s)
        out.append((sl, m.asa_s, m.p_abandon, m.occupancy))
    (sl0, asa0, ab0, occ0), (sl1, asa1, ab1, occ1) = out
    sl = (1 - f) * sl0 + f * sl1
    ab = (1 - f) * ab0 + f * ab1
    occ = (1 - f) * occ0 + f * occ1
    with np.errstate(invalid="ignore"):
        asa = np.where(np.isfinite(asa0), (1 - f) * asa0 + f * asa1, np.where(f > 0, asa1, asa0))
    return sl, asa, ab, occ


def _unserved_age(age, queue, vol, aht, servers, theta, interval_s):
    """``age`` with the intervals nobody serves filled in: their queue waits for the next
    opening, and its age is its wait in open time (the queue ahead cleared at the
    capacity of the last staffed interval, the first staffed one before any; Erlang A
    callers ahead abandoning), so closed hours do not count. A channel nobody ever serves
    has the clock time since its first arrival."""
    unserved = (servers <= 0) & (queue > 0)
    if not unserved.any():
        return age
    staffed = np.flatnonzero(servers > 0)
    if not staffed.size:
        first = np.argmax(vol > 0)
        since = (np.arange(len(vol)) + 1 - first) * interval_s
        return np.where(unserved, since, age)
    last = np.maximum.accumulate(np.where(servers > 0, np.arange(len(vol)), -1))
    ref = np.where(last >= 0, last, staffed[0])
    return np.where(unserved, fluid_wait(queue, servers[ref] / aht[ref], theta), age)


def _queue_channel(df: pd.DataFrame, p: ChannelPolicy, interval_s: int) -> pd.DataFrame:
    T = float(interval_s)
    vol = df["volume"].to_numpy(dtype=float)
    aht = df["aht_s"].to_numpy(dtype=float)
    agents = df["agents"].to_numpy(dtype=float)
    qm = queue_model(p.model)
    servers = agents * qm.servers_per_agent(p)
    patience = qm.kpi_patience(p)
    theta = 0.0 if patience is None else 1.0 / float(patience)
    lam = vol / T
    c = servers / aht
    if theta == 0:  # no abandonment: pointwise stationary fluid flow (PSFFA)
        r = psffa_erlang_c(lam, aht, servers, p.threshold_s, T)
        answered = np.where(servers > 0, vol, 0.0)
        return pd.DataFrame(
            {
                "answered": answered, "abandoned": 0.0,
                "sl": np.where(vol > 0, r["sl"], np.nan),
                "asa_s": np.where(answered > 0, r["asa_s"], np.nan),
                "abandon_rate": np.where(vol > 0, 0.0, np.nan),
                "occupancy": r["occupancy"], "backlog_items": r["backlog_items"],
                "backlog_age_s": _unserved_age(
                    r["backlog_age_s"].to_numpy(), r["backlog_items"].to_numpy(), vol, aht,
                    servers, theta, T,
                ),
            }
        )
    # steady state of every staffed interval (used for arrivals meeting no fluid queue)
    m = servers > 0
    sl_ss, asa_ss, ab_ss, occ_ss = (np.zeros(len(vol)) for _ in range(4))
    if m.any():
        sl_ss[m], asa_ss[m], ab_ss[m], occ_ss[m] = _steady(
            vol[m], aht[m], T, servers[m], p.threshold_s, patience
        )
    # mean queue of the steady state: Little's law on all offered (Erlang C: lam * ASA;
    # Erlang A: abandonment flow / theta), the floor of what an interval carries out
    with np.errstate(invalid="ignore"):
        lq = lam * ab_ss / theta if theta > 0 else lam * asa_ss
    lq = np.where(m, lq, 0.0)
    q_start, q_end, t_q = fluid_queue(lam, c, theta, T, floor=lq)
    qs = (lam - c) / theta if theta > 0 else np.zeros_like(lam)
    # arrivals under the fluid queue: midpoint rule over [0, t_q]
    tm = t_q[:, None] * (np.arange(_M) + 0.5)[None, :] / _M
    q = queue_at(q_start[:, None], qs[:, None], theta, lam[:, None], c[:, None], tm)
    q = np.maximum(q, 0.0)
    w = fluid_wait(q, c[:, None], theta)
    with np.errstate(invalid="ignore", over="ignore"):
        p_ans = np.where(np.isfinite(w), np.exp(-theta * np.where(np.isfinite(w), w, 0.0)), 0.0)
    in_sl = p_ans * (w <= p.threshold_s)
    share_q = t_q / T  # share of the interval's arrivals that meet a fluid queue
    n_q = vol * share_q
    ans_q = n_q * p_ans.mean(axis=1)
    sl_q = n_q * in_sl.mean(axis=1)
    with np.errstate(invalid="ignore"):
        wait_q = n_q * np.where(p_ans > 0, p_ans * np.where(np.isfinite(w), w, 0), 0).mean(axis=1)
    # arrivals while the fluid queue is empty: steady state of the interval
    n_s = vol - n_q
    sl_s, asa_s, ab_s, occ_s = sl_ss, asa_ss, ab_ss.copy(), occ_ss
    none = (n_s > 1e-12) & (servers <= 0)
    ab_s[none] = 1.0 if theta > 0 else 0.0
    ans_s = n_s * (1 - ab_s)
    if theta == 0:
        # without abandonment nobody is lost; contacts met by no agent wait in the queue
        ans_s = np.where(none, 0.0, ans_s)
    answered = ans_q + ans_s
    abandoned = vol - answered if theta > 0 else np.zeros(len(vol))
    with np.errstate(divide="ignore", invalid="ignore"):
        sl = np.where(vol > 0, (sl_q + n_s * sl_s) / vol, np.nan)
        asa = np.where(answered > 0, (wait_q + ans_s * np.nan_to_num(asa_s, posinf=0)) / answered,
                       np.nan)
        ab_rate = np.where(vol > 0, abandoned / vol, np.nan)
        occ = np.where(servers > 0, (t_q + (T - t_q) * occ_s) / T, np.nan)
    age = fluid_wait(q_end, c, theta)
    return pd.DataFrame(
        {
            "answered": answered, "abandoned": abandoned, "sl": sl, "asa_s": asa,
            "abandon_rate": ab_rate, "occupancy": occ, "backlog_items": q_end,
            "backlog_age_s": _unserved_age(
                np.where(q_end > 0, age, 0.0), q_end, vol, aht, servers, theta, T
            ),
        }
    )


def _deferred_channel(df: pd.DataFrame, p: ChannelPolicy, interval_s: int) -> pd.DataFrame:
    vol = df["volume"].to_numpy(dtype=float)
    args = (vol, df["aht_s"].to_numpy(dtype=float), interval_s, df["agents"].to_numpy(dtype=float))
    backlog = deferred_backlog(*args)
    waits = deferred_waits(*args, p.response_target_s)
    cap = args[3] * interval_s
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(cap > 0, backlog["work_done_s"].to_numpy() / cap, np.nan)
    return pd.DataFrame(
        {
            "answered": vol, "abandoned": 0.0, "sl": waits["within_target"],
            "asa_s": waits["mean_wait_s"], "abandon_rate": np.where(vol > 0, 0.0, np.nan),
            "occupancy": occ, "backlog_items": backlog["backlog_items"],
            "backlog_age_s": backlog["oldest_age_s"],
        }
    )


def _frame(volumes, agents_per_interval, pol) -> pd.DataFrame:
    """Volumes (validated as for requirements) joined with the agents, one row per
    channel and ds (several agent rows of one interval, e.g. shift pools, are summed)."""
    v = volume_frame(volumes, KPIError)
    ag = agents_per_interval
    if "agents" not in ag.columns and "scheduled" not in ag.columns:
        raise KPIError("agents_per_interval needs column 'agents' (productive) or 'scheduled'")
    if not {"channel", "ds"} <= set(ag.columns):
        raise KPIError("agents_per_interval needs columns 'channel' and 'ds'")
    ag = ag.copy()
    ag["ds"] = pd.to_datetime(ag["ds"])
    ag["channel"] = ag["channel"].astype(str)
    if "agents" not in ag.columns:
        ag["staffed"] = ag["scheduled"].astype(float)
        shrink = np.ones(len(ag))
        for ch, idx in ag.groupby("channel").groups.items():
            if ch in pol:
                shrink[ag.index.get_indexer(idx)] = 1 - pol[ch].shrinkage_at(ag.loc[idx, "ds"])
        ag["agents"] = ag["staffed"] * shrink
    else:
        ag["staffed"] = ag["agents"].astype(float)
    if not (ag["agents"] >= 0).all():
        raise KPIError("agents_per_interval: agents must be >= 0")
    ag = ag.groupby(["channel", "ds"], as_index=False)[["agents", "staffed"]].sum()
    df = v.merge(ag, on=["channel", "ds"], how="outer")
    return df.fillna({"volume": 0.0, "agents": 0.0, "staffed": 0.0})


def achieved_kpis(
    volumes: pd.DataFrame,
    agents_per_interval: pd.DataFrame,
    policies: Mapping[str, ChannelPolicy] | Sequence[ChannelPolicy] | ChannelPolicy,
    interval_s: int,
) -> pd.DataFrame:
    """Service a given staffing achieves per channel and interval, with queue carry-over.

    Parameters
    ----------
    volumes : DataFrame
        ``channel, ds, volume, aht_s`` (contacts offered per interval).
    agents_per_interval : DataFrame
        ``channel, ds`` and either ``agents`` (productive agents, may be fractional) or
        ``scheduled`` (agents on shift, e.g. ``ShiftPlan.coverage``; productive agents are
        then ``scheduled * (1 - shrinkage)`` of the channel's policy).
    policies : mapping, sequence or ChannelPolicy
        Channel policies (model, threshold, patience, concurrency, response target).
    interval_s : int
        Interval length in seconds.

    Returns
    -------
    DataFrame
        ``channel, ds, volume, aht_s, agents, staffed, answered, abandoned, sl, asa_s,
        abandon_rate, occupancy, backlog_items, backlog_age_s`` on a regular grid from
        each channel's first to last interval (gaps filled with no volume and no agents).
        ``sl`` is the share of the interval's offered contacts answered within the
        threshold (for deferred work: within the response target); ``asa_s`` the mean
        wait of the answered; ``backlog_items`` the queue (or email backlog) at the end of
        the interval; ``backlog_age_s`` the age of the oldest waiting item (queues: the
        current fluid wait). A queue left at closing is carried, unserved, to the next
        opening (Erlang A callers keep abandoning meanwhile); in intervals without agents
        its age is its wait in open time at the capacity of the last staffed interval,
        so closed hours do not count (a channel never staffed: the clock time since its
        first arrival). ``backlog_age_s`` is never NaN or infinite.

    Raises
    ------
    KPIError
        Missing columns or negative values.

    Examples
    --------
    >>> ds = pd.date_range("2024-11-11 10:00", periods=3, freq="30min")
    >>> vol = pd.DataFrame({"channel": "voice", "ds": ds, "volume": [700.0, 700, 0],
    ...                     "aht_s": 180.0})
    >>> k = achieved_kpis(vol, pd.DataFrame({"channel": "voice", "ds": ds, "agents": 50}),
    ...                   ChannelPolicy("voice"), 1800)
    >>> k["backlog_items"].round().tolist()  # ~200 more waiting each half-hour, then none
    [181.0, 382.0, 0.0]
    """
    interval_s = int(interval_s)
    if interval_s <= 0:
        raise KPIError(f"interval_s must be > 0, got {interval_s!r}")
    pol = as_policies(policies)
    df = _frame(volumes, agents_per_interval, pol)
    frames = []
    step = pd.Timedelta(seconds=interval_s)
    for ch, part in df.groupby("channel", sort=True):
        if ch not in pol:
            raise KPIError(f"no policy for channel {ch!r}; policies: {sorted(pol)}")
        p = pol[ch]
        part = part.set_index("ds")[["volume", "aht_s", "agents", "staffed"]]
        grid = pd.date_range(part.index.min(), part.index.max(), freq=step)
        part = part.reindex(grid).rename_axis("ds").reset_index()
        part = part.fillna({"volume": 0.0, "agents": 0.0, "staffed": 0.0})
        part["aht_s"] = fill_aht(part["aht_s"].to_numpy(dtype=float))
        part.insert(0, "channel", ch)
        if queue_model(p.model).deferred:
            res = _deferred_channel(part, p, interval_s)
        else:
            res = _queue_channel(part, p, interval_s)
        frames.append(pd.concat([part.reset_index(drop=True), res], axis=1))
    if not frames:
        return pd.DataFrame(columns=KPI_COLUMNS)
    out = pd.concat(frames, ignore_index=True)[KPI_COLUMNS]
    out.attrs["interval_s"] = interval_s
    return out


def daily_kpis(
    interval_kpis: pd.DataFrame,
    shift_plan: pd.DataFrame | None = None,
    interval_s: int | None = None,
) -> pd.DataFrame:
    """Daily KPIs per channel from :func:`achieved_kpis`.

    Aggregation: ``service_level`` and ``abandon_rate`` weighted by offered volume
    (intervals without a known service level, e.g. email still in the backlog at the
    horizon end, left out of the service level),
    ``asa_s`` by answered contacts, ``occupancy`` by productive agent time;
    ``backlog_items`` is the backlog at the end of the day's last interval and
    ``backlog_age_h`` the largest age of the oldest waiting item during the day, in hours;
    ``paid_hours`` the shift plan's paid hours of that date and channel when ``shift_plan``
    is given (a multi-skilled pool has its own ``channel`` label, e.g. ``chat+voice``),
    else the staffed agent-hours of the intervals.

    Returns
    -------
    DataFrame
        ``date, channel, service_level, asa_s, abandon_rate, occupancy, backlog_items,
        backlog_age_h, paid_hours``.

    Examples
    --------
    >>> ds = pd.date_range("2024-11-11 10:00", periods=2, freq="30min")
    >>> k = pd.DataFrame({"channel": "voice", "ds": ds, "volume": [100.0, 300.0],
    ...     "answered": [100.0, 280.0], "abandoned": [0.0, 20.0], "sl": [0.9, 0.5],
    ...     "asa_s": [10.0, 38.0], "occupancy": [0.8, 1.0], "agents": [10.0, 10.0],
    ...     "staffed": [14.0, 14.0], "backlog_items": [0.0, 5.0], "backlog_age_s": [0.0, 60.0]})
    >>> d = daily_kpis(k, interval_s=1800)  # ASA = (10 * 100 + 38 * 280) / 380
    >>> d[["service_level", "asa_s", "paid_hours"]].round(2).values.tolist()
    [[0.6, 30.63, 14.0]]
    """
    interval_s = interval_s or interval_kpis.attrs.get("interval_s")
    if shift_plan is None and not interval_s:
        raise KPIError("interval_s is required without a shift_plan")
    k = interval_kpis.copy()
    k["date"] = pd.to_datetime(k["ds"]).dt.normalize()
    vol = k["volume"].to_numpy(dtype=float)
    sl_known = np.isfinite(k["sl"].to_numpy(dtype=float))
    k["_sl"] = np.where(sl_known, k["sl"].to_numpy(dtype=float), 0.0) * vol
    k["_slv"] = np.where(sl_known, vol, 0.0)  # volume whose service level is known
    k["_ans"] = k["answered"].to_numpy(dtype=float)
    k["fluid_wait"] = np.nan_to_num(k["asa_s"].to_numpy(dtype=float), posinf=0.0) * k["_ans"]
    k["_occ"] = np.nan_to_num(k["occupancy"].to_numpy(dtype=float)) * k["agents"]
    k = k.sort_values(["channel", "ds"])
    g = k.groupby(["date", "channel"], sort=True)
    out = g.agg(
        _vol=("volume", "sum"), _sl=("_sl", "sum"), _slv=("_slv", "sum"), _ans=("_ans", "sum"),
        fluid_wait=("fluid_wait", "sum"), _ab=("abandoned", "sum"), _occ=("_occ", "sum"),
        _ag=("agents", "sum"), backlog_items=("backlog_items", "last"),
        _age=("backlog_age_s", "max"), _staffed=("staffed", "sum"),
    ).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["service_level"] = np.where(out["_slv"] > 0, out["_sl"] / out["_slv"], np.nan)
        out["asa_s"] = np.where(out["_ans"] > 0, out["fluid_wait"] / out["_ans"], np.nan)
        out["abandon_rate"] = np.where(out["_vol"] > 0, out["_ab"] / out["_vol"], np.nan)
        out["occupancy"] = np.where(out["_ag"] > 0, out["_occ"] / out["_ag"], np.nan)
    out["backlog_age_h"] = out["_age"] / 3600.0
    if shift_plan is not None:
        sp = shift_plan.assign(
            date=pd.to_datetime(shift_plan["date"]).dt.normalize(),
            _paid=shift_plan["agents"] * shift_plan["paid_hours"],
        )
        paid = sp.groupby(["date", "channel"], as_index=False)["_paid"].sum()
        paid = paid.rename(columns={"_paid": "paid_hours"})
        out = out.merge(paid, on=["date", "channel"], how="outer")
        out["paid_hours"] = out["paid_hours"].fillna(0.0)
    else:
        out["paid_hours"] = out["_staffed"] * float(interval_s) / 3600.0
    return out.sort_values(["date", "channel"]).reset_index(drop=True)[DAILY_COLUMNS]
