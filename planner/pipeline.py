"""The whole plan from one scenario: forecast, requirements, shifts, achieved KPIs.

:func:`run` takes a :class:`~planner.scenario.Scenario` and returns a
:class:`~planner.results.ScenarioResult`. The steps, left to right:

1. **inputs** - orders, contacts and events are loaded (bundled sample by default);
2. **base forecast** - daily orders, then contacts per channel from orders times the
   learned contact rate with its delivery lag, split into intervals, with the AHT per
   interval (:func:`forecast.contacts.forecast_contacts_detail`), from history up to
   ``horizon.last_history_day``;
3. **volumes** - the scenario's demand assumptions turn the base forecast into offered
   volume: order growth, contact-rate overrides (total or per channel, by month),
   automation (deflected share) and AHT overrides;
4. **requirements** per interval and channel (:func:`staffing.requirements.compute_requirements`);
5. **shifts** (:func:`staffing.shifts.solve_shifts`, with the headcount caps);
6. **achieved KPIs** of the scheduled agents with queue carry-over
   (:mod:`staffing.kpis`) at the expected volume (also when ``staff_to`` sized the plan
   for the band's upper bound or a probability), weekly FTE and cost.

Steps 1-2 depend only on the data, horizon and forecast settings; they are cached in a
:class:`PipelineCache` keyed on exactly those, so a what-if that changes demand or
staffing assumptions reuses the forecast and costs only steps 3-6. Shift solutions are
cached per channel too (keyed on that channel's requirement, rules, cap and policy), so a
what-if that changes one channel solves only that channel's shifts again, and within it
only the days whose requirement changed (solved day-blocks are cached as well), and
``shifts.solve: false`` skips the solver (each interval staffed to its rostered need).

Contact rate
------------
The scenario's contact rate, order growth and automation go through one function of the
forecast package, :func:`forecast.contacts.apply_assumptions` (the one that
:func:`forecast.contacts.forecast_contacts_detail` uses for its ``contact_rate`` and
``order_growth``): an assumed rate ``R`` replaces the day's learned rate ``r`` (contacts
are lagged orders times the rate, so volumes scale by ``R / r``) and its band is the
spread around that rate without the rate-level term; a total rate is shared out in the
learned channel mix of the day. Month keys are calendar months 1..12 everywhere.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast.cache import ForecastCache
from forecast.contacts import ContactsError, apply_assumptions, forecast_contacts_detail
from forecast.data import load_contacts, load_events, load_orders, sample_paths
from planner.results import ScenarioResult, weekly_fte
from planner.scenario import DataSources, Scenario
from staffing.kpis import achieved_kpis, daily_kpis
from staffing.policy import ChannelPolicy, Shrinkage
from staffing.requirements import compute_requirements
from staffing.risk import (
    DemandDistribution,
    risk_volume,
    spread_from_band,
    staff_to_probability,
)
from staffing.shifts import ALL_CHANNELS, ShiftPlan, ShiftRules, ShiftType, solve_shifts

__all__ = [
    "BaseForecast",
    "InputData",
    "LruCache",
    "PipelineCache",
    "PipelineError",
    "Progress",
    "base_forecast",
    "channel_policies",
    "default_cache",
    "history_warnings",
    "load_inputs",
    "plan_warnings",
    "run",
    "scenario_forecast",
    "scenario_volumes",
    "shift_rules",
]

Progress = Callable[[float, str], None]

# Share of the progress bar given to each step (forecast dominates a cold run).
_STEPS = {"inputs": (0.0, 0.05), "forecast": (0.05, 0.55), "staffing": (0.55, 0.65),
          "shifts": (0.65, 0.95), "kpis": (0.95, 1.0)}


class PipelineError(ValueError):
    """The scenario cannot be run on these inputs (the message names the field and value)."""


@dataclass(frozen=True)
class InputData:
    """Loaded history: ``orders``, ``contacts``, ``events`` frames and ``interval_s``.

    ``warnings`` holds what the loaders noticed (channel labels that look like typos, rare
    channels, how ambiguous numbers were read) and histories that end far apart, one
    sentence each.
    """

    orders: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame | None
    interval_s: int
    key: tuple = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BaseForecast:
    """Forecast shared by every scenario with the same data and forecast settings.

    ``orders``: daily ``ds, yhat, yhat_lo, yhat_hi``; ``contacts``: interval forecast
    ``unique_id (channel), ds, yhat, yhat_lo, yhat_hi, aht_s``; ``daily``: contacts per
    channel and day ``unique_id, ds, yhat, yhat_lo, yhat_hi, rate``; ``models``: model
    used per series.
    """

    orders: pd.DataFrame
    contacts: pd.DataFrame
    daily: pd.DataFrame
    models: dict[str, str]
    interval_s: int


class PipelineCache:
    """Cache of inputs, base forecasts and shift plans (least recently used dropped first).

    Keys: file identity (path, size, modification time) for inputs; the scenario's
    :meth:`~planner.scenario.Scenario.forecast_key` plus the input key for forecasts;
    channel, requirement hash, rules, cap and policy for shift plans. ``hits`` and
    ``misses`` count forecast lookups. ``shift_blocks`` holds solved shift day-blocks
    (at most ``max_blocks``; see ``block_cache`` of :func:`staffing.shifts.solve_shifts`).
    Thread-safe.
    """

    def __init__(self, max_items: int = 64, max_blocks: int = 4096) -> None:
        self.max_items = int(max_items)
        self._items = LruCache(max_items)  # the app serves sessions from several threads
        self.hits = 0
        self.misses = 0
        # solved shift day-blocks (small, many: their own store so they never push a
        # forecast out); passed to solve_shifts as its block_cache
        self.shift_blocks = LruCache(max_blocks)

    def get(self, key: tuple) -> Any | None:
        """Cached value for ``key`` or ``None``."""
        return self._items.get(key)

    def put(self, key: tuple, value: Any) -> None:
        """Store ``value`` under ``key``."""
        self._items.put(key, value)

    def clear(self) -> None:
        """Forget everything."""
        self._items.clear()
        self.hits = self.misses = 0
        self.shift_blocks.clear()


class LruCache:
    """Thread-safe least-recently-used store with ``get``/``put`` (``None`` on a miss);
    the pipeline's caches, and the app's cache of scenario results."""

    def __init__(self, max_items: int) -> None:
        self.max_items = int(max_items)
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple) -> Any | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def put(self, key: tuple, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_DEFAULT_CACHE = PipelineCache()


def default_cache() -> PipelineCache:
    """The process-wide cache :func:`run` uses when none is passed."""
    return _DEFAULT_CACHE


def _report(progress: Progress | None, step: str, frac: float, msg: str) -> None:
    if progress is not None:
        lo, hi = _STEPS[step]
        progress(lo + (hi - lo) * min(max(frac, 0.0), 1.0), msg)


# ----------------------------------------------------------------------------- inputs
def _paths(data: DataSources) -> tuple[Path, Path, Path | None]:
    sample = sample_paths()
    orders = Path(data.orders) if data.orders else sample.orders
    contacts = Path(data.contacts) if data.contacts else sample.contacts
    if data.events == "":
        events = None
    else:
        events = Path(data.events) if data.events else sample.events
    return orders, contacts, events


def _file_id(p: Path | None) -> tuple:
    if p is None:
        return ("none",)
    try:
        st = p.stat()
    except OSError:
        return (str(p), "missing")
    return (str(p.resolve()), st.st_size, st.st_mtime_ns)


#: Histories ending more than this many days apart (or before the forecast needs them)
#: get a warning.
STALE_HISTORY_DAYS = 28


def load_inputs(data: DataSources, cache: PipelineCache | None = None) -> InputData:
    """Load the scenario's history files (bundled sample for unset paths).

    ``data.timezone`` is passed to the contacts loader (offsets, DST repeats);
    ``data.interval_s`` is checked against the file. The loaders' warnings and
    :func:`history_warnings` end up in ``InputData.warnings``.

    Raises
    ------
    forecast.data.DataError
        A file is missing or malformed (the message names file, column and row).
    PipelineError
        The order and contact histories do not overlap (no contact rate can be learned).
    """
    orders_p, contacts_p, events_p = _paths(data)
    key = ("inputs", _file_id(orders_p), _file_id(contacts_p), _file_id(events_p),
           data.interval_s, data.timezone)
    if cache is not None and (hit := cache.get(key)) is not None:
        return hit
    contacts = load_contacts(contacts_p, interval_s=data.interval_s, tz=data.timezone)
    orders = load_orders(orders_p)
    events = None if events_p is None else load_events(events_p)
    notes = [w for frame in (orders, contacts, events) if frame is not None
             for w in frame.attrs.get("warnings", [])]
    out = InputData(
        orders=orders,
        contacts=contacts,
        events=events,
        interval_s=int(contacts.attrs["interval_s"]),
        key=key,
        warnings=(*notes, *history_warnings(orders, contacts)),
    )
    if cache is not None:
        cache.put(key, out)
    return out


def _day(ts: pd.Timestamp) -> str:
    return f"{ts:%d %b %Y}"


def history_warnings(orders: pd.DataFrame, contacts: pd.DataFrame) -> list[str]:
    """Warnings when the order and contact histories end far apart.

    More than :data:`STALE_HISTORY_DAYS` days between their last days means the contact
    rate per order is learned from one history's old days only.

    Raises
    ------
    PipelineError
        The histories do not overlap at all: no contact rate can be learned.
    """
    o_first, o_last = orders["ds"].min(), orders["ds"].max()
    c_first = contacts["ds"].min().normalize()
    c_last = contacts["ds"].max().normalize()
    if c_last < o_first or o_last < c_first:
        raise PipelineError(
            f"the contact history ({_day(c_first)} .. {_day(c_last)}) and the order history "
            f"({_day(o_first)} .. {_day(o_last)}) do not overlap: the contacts per order "
            "cannot be learned; load histories that cover the same days")
    out = []
    gap = (o_last - c_last).days
    if gap > STALE_HISTORY_DAYS:
        out.append(f"the contact history ends {_day(c_last)}, {gap:,} days before the order "
                   f"history ({_day(o_last)}): contacts per order are learned from old data")
    elif -gap > STALE_HISTORY_DAYS:
        out.append(f"the order history ends {_day(o_last)}, {-gap:,} days before the contact "
                   f"history ({_day(c_last)}): the later contacts have no orders to learn from")
    return out


def plan_warnings(scenario: Scenario, inputs: InputData) -> list[str]:
    """Warnings about the inputs as this scenario uses them: channels of the contacts file
    the scenario does not plan, and a contact history that ends more than
    :data:`STALE_HISTORY_DAYS` days before the last history day the forecast uses."""
    out = []
    c = inputs.contacts
    counts = c.groupby("channel", sort=True)["contacts"].agg(["sum", "size"])
    extra = [ch for ch in counts.index if ch not in set(scenario.channels)]
    if extra:
        listed = ", ".join(f"{ch} ({counts.at[ch, 'sum']:,} contacts in "
                           f"{counts.at[ch, 'size']:,} rows)" for ch in extra)
        out.append(f"the contacts file has channels the scenario does not plan: {listed}")
    last = pd.Timestamp(scenario.horizon.last_history_day)
    c_last = c["ds"].max().normalize()
    if (last - c_last).days > STALE_HISTORY_DAYS:
        out.append(f"the contact history ends {_day(c_last)}, {(last - c_last).days:,} days "
                   f"before the forecast's last history day ({_day(last)}): the plan is "
                   "forecast from old contacts")
    return out


# ----------------------------------------------------------------------------- forecast
def base_forecast(
    scenario: Scenario,
    inputs: InputData,
    progress: Progress | None = None,
    cache: PipelineCache | None = None,
    forecast_cache: ForecastCache | None = None,
) -> BaseForecast:
    """Forecast orders (daily) and contacts (interval, per channel) for the horizon.

    Cached on ``scenario.forecast_key()`` and the input files. ``forecast_cache`` (a
    :class:`forecast.cache.ForecastCache`) is passed to the forecast, so forecasts of
    some channels at a time (:mod:`planner.fanout`) fit the orders model once.

    Raises
    ------
    PipelineError
        When the history ends before ``horizon.last_history_day`` or lacks a channel.
    """
    key = ("forecast", scenario.forecast_key(), inputs.key)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            cache.hits += 1
            _report(progress, "forecast", 1.0, "forecast reused from cache")
            return hit
        cache.misses += 1
    h = scenario.horizon
    last = pd.Timestamp(h.last_history_day)
    cutoff = last + pd.Timedelta(days=1)

    orders = inputs.orders[inputs.orders["ds"] < cutoff]
    contacts = inputs.contacts[inputs.contacts["ds"] < cutoff]
    first_day = inputs.orders["ds"].min()
    if orders.empty:
        raise PipelineError(
            f"the plan starts {h.start:%d %b %Y}, before the order history begins "
            f"({first_day:%d %b %Y}): move the plan into or after the history"
        )
    if orders["ds"].max() < last:
        ends = orders["ds"].max()
        what = ("the last history day the forecast should use" if h.history_end is not None
                else "the day before the plan starts")
        raise PipelineError(
            f"the order history ends {ends:%d %b %Y}, but the forecast needs it up to "
            f"{last:%d %b %Y} ({what}): start the plan by "
            f"{ends + pd.Timedelta(days=1):%d %b %Y}, or load history up to {last:%d %b %Y}"
        )
    missing = sorted(set(scenario.channels) - set(contacts["channel"].unique()))
    if missing:
        raise PipelineError(
            f"channels {missing} have no contact history (history has "
            f"{sorted(contacts['channel'].unique())})"
        )
    contacts = contacts[contacts["channel"].isin(list(scenario.channels))]

    def sub(lo: float, hi: float) -> Progress:
        return lambda f, m: _report(progress, "forecast", lo + (hi - lo) * f, f"forecast: {m}")

    _report(progress, "forecast", 0.0, "forecasting orders and contacts")
    detail = forecast_contacts_detail(
        orders, contacts, inputs.events, h.start, h.end,
        interval_s=inputs.interval_s, model=scenario.forecast.model,
        level=scenario.forecast.level, progress=sub(0.0, 1.0), cache=forecast_cache,
    )
    fc = detail.intervals
    if "aht_s" not in fc.columns:
        fc = fc.assign(aht_s=np.nan)
    models = {"orders": detail.orders_model}
    out = BaseForecast(
        orders=detail.orders.drop(columns="unique_id", errors="ignore").reset_index(drop=True),
        contacts=fc.reset_index(drop=True),
        daily=detail.daily.reset_index(drop=True),
        models=models,
        interval_s=inputs.interval_s,
    )
    chosen = ", ".join(f"{k}: {v}" for k, v in models.items())
    _report(progress, "forecast", 1.0, f"forecast done ({chosen})")
    if cache is not None:
        cache.put(key, out)
    return out


# ----------------------------------------------------------------------------- volumes
def scenario_forecast(scenario: Scenario, base: BaseForecast) -> BaseForecast:
    """The base forecast after the scenario's demand assumptions: what the plan staffs for.

    Contact rate, order growth and automation go through
    :func:`forecast.contacts.apply_assumptions` (the one path); ``orders`` are the daily
    orders after ``order_growth``, ``daily`` the contacts per channel and day with the rate
    in force (``rate``, before automation) and the deflected share (``automation``),
    ``contacts`` the interval contacts (their ``yhat`` is :func:`scenario_volumes`'
    ``volume_mean``); AHT overrides are not applied here (see :func:`scenario_volumes`).

    Raises
    ------
    PipelineError
        An assumption does not fit the forecast (e.g. a rate for a channel not planned).
    """
    try:
        daily, fc, orders = apply_assumptions(
            base.daily, base.contacts, base.orders,
            contact_rate={c: s.contact_rate for c, s in scenario.channels.items()
                          if s.contact_rate is not None},
            total_contact_rate=scenario.contact_rate,
            order_growth=scenario.order_growth,
            automation={c: s.automation for c, s in scenario.channels.items()},
            level=scenario.forecast.level)
    except ContactsError as exc:
        raise PipelineError(str(exc)) from exc
    return BaseForecast(orders=orders, contacts=fc, daily=daily, models=dict(base.models),
                        interval_s=base.interval_s)


def scenario_volumes(scenario: Scenario, base: BaseForecast) -> pd.DataFrame:
    """Offered volume per interval after the scenario's demand assumptions.

    Returns
    -------
    DataFrame
        ``channel, ds, volume, aht_s, contact_rate, automation, volume_mean, volume_hi,
        day_cv, dispersion`` where ``volume`` is what staffing plans for (the channel's
        ``staff_to``: the mean, the band's upper bound, or the volume whose SL target
        holds with probability p, :func:`staffing.risk.risk_volume`), ``volume_mean`` and
        ``volume_hi`` the expected volume and the band's upper bound, ``day_cv`` and
        ``dispersion`` the predictive spread read off the forecast band
        (:func:`staffing.risk.spread_from_band`), ``contact_rate`` the channel's contacts
        per order on that day, assumed or learned, before automation, and ``automation``
        the deflected share; contact rate, order growth and automation are applied by
        :func:`forecast.contacts.apply_assumptions`.
    """
    # contact rate, order growth and automation: the forecast package's one path
    assumed = scenario_forecast(scenario, base)
    daily, fc = assumed.daily, assumed.contacts
    channel = fc["unique_id"].astype(str).to_numpy()
    key = pd.MultiIndex.from_arrays([daily["unique_id"].astype(str),
                                     pd.DatetimeIndex(daily["ds"]).normalize()])
    pos = key.get_indexer(pd.MultiIndex.from_arrays(
        [channel, pd.DatetimeIndex(fc["ds"]).normalize()]))
    rate = daily["rate"].to_numpy(float)[pos]
    auto = daily["automation"].to_numpy(float)[pos]
    aht = fc["aht_s"].to_numpy(float).copy()
    for c in np.unique(channel):
        if scenario.channels[c].aht_s is not None:
            aht[channel == c] = scenario.channels[c].aht_s
    mean = fc["yhat"].to_numpy(float)
    hi = fc["yhat_hi"].to_numpy(float)
    spread = spread_from_band(fc, level=scenario.forecast.level)
    vol = mean.copy()
    policies = None
    for c in np.unique(channel):
        staff_to = scenario.channels[c].staff_to or scenario.forecast.staff_to
        sel = channel == c
        if staff_to == "upper":
            vol[sel] = hi[sel]
        elif (p := staff_to_probability(staff_to)) is not None:
            policies = policies or channel_policies(scenario)
            dist = DemandDistribution.from_frame(pd.DataFrame({
                "channel": c, "ds": fc["ds"].to_numpy()[sel], "volume": mean[sel],
                "day_cv": spread["day_cv"].to_numpy()[sel],
                "dispersion": spread["dispersion"].to_numpy()[sel]}))
            vol[sel] = risk_volume(dist, p, policies)
    no_aht = ~np.isfinite(aht) & (vol > 0)
    if no_aht.any():
        raise PipelineError(
            f"channels {sorted(set(channel[no_aht]))}: the history has no aht_s; set "
            "channels.<name>.aht_s (seconds) in the scenario"
        )
    return pd.DataFrame(
        {
            "channel": channel,
            "ds": fc["ds"].to_numpy(),
            "volume": vol,
            "aht_s": aht,
            "contact_rate": rate,
            "automation": auto,
            "volume_mean": mean,
            "volume_hi": hi,
            "day_cv": spread["day_cv"].to_numpy(),
            "dispersion": spread["dispersion"].to_numpy(),
        }
    )


# ----------------------------------------------------------------------------- staffing
def channel_policies(scenario: Scenario) -> dict[str, ChannelPolicy]:
    """One :class:`staffing.policy.ChannelPolicy` per scenario channel."""
    out = {}
    for name, c in scenario.channels.items():
        out[name] = ChannelPolicy(
            channel=name,
            model=c.model,
            target_sl=c.target_sl,
            threshold_s=c.threshold_s,
            patience_s=c.patience_s,
            concurrency=c.concurrency,
            response_target_s=c.response_target_s,
            shrinkage=(c.shrinkage if not c.shrinkage_by_month
                       else Shrinkage.monthly(c.shrinkage_by_month, default=c.shrinkage)),
            max_occupancy=c.max_occupancy,
            open_hours=None if c.open_hours is None else tuple(c.open_hours.split("-")),
        )
    return out


def shift_rules(scenario: Scenario) -> ShiftRules:
    """:class:`staffing.shifts.ShiftRules` from the scenario's shift settings.

    Shifts of 6 hours or more get one unpaid break of ``break_min`` minutes starting
    inside ``break_window_h`` (clipped to fit the shift); shorter shifts have none.
    """
    s = scenario.shifts
    types = []
    for length_h in s.lengths_h:
        length = int(round(length_h * 3600))
        brk = int(s.break_min * 60) if length_h >= 6 else 0
        window = None
        if brk:
            lo = int(s.break_window_h[0] * 3600)
            hi = min(int(s.break_window_h[1] * 3600), length - brk - s.start_step_min * 60)
            window = (lo, hi) if 0 < lo <= hi else None
        types.append(ShiftType(f"{length_h:g}h", length, brk, False, window))
    return ShiftRules(
        shift_types=tuple(types),
        start_grid_s=s.start_step_min * 60,
        work_limit=s.time_limit_s,  # CP-SAT's deterministic seconds: same plan on any machine
        understaffing_weight={ch: c.priority for ch, c in scenario.channels.items()},
    )


def _headcount_caps(scenario: Scenario) -> dict[str, int] | None:
    caps = {ch: c.headcount_cap for ch, c in scenario.channels.items()
            if c.headcount_cap is not None}
    if scenario.headcount_cap_total is not None:
        caps[ALL_CHANNELS] = scenario.headcount_cap_total
    return caps or None


def _solve_shifts_cached(
    requirements: pd.DataFrame,
    rules: ShiftRules,
    caps: dict[str, int] | None,
    policies: dict[str, ChannelPolicy],
    interval_s: int,
    cache: PipelineCache,
    progress: Progress | None,
) -> ShiftPlan:
    """Solve shifts channel by channel, reusing any channel whose inputs are unchanged.

    Channels are independent in the shift model when each has its own cap (no shared
    cap, no multi-skill pool), so solving them one at a time gives the same plan; a
    what-if that changes one channel re-solves only that channel. A cap over all channels
    couples them: they are then solved (and cached) as one unit.
    """
    parts = []
    channels = sorted(requirements["channel"].astype(str).unique())
    coupled = caps is not None and ALL_CHANNELS in caps  # one plan for all channels
    units = [channels] if coupled else [[ch] for ch in channels]
    for k, unit in enumerate(units):
        req = requirements[requirements["channel"].isin(unit)]
        h = hashlib.sha256()
        for ch in unit:
            rows = req[req["channel"] == ch]
            h.update(ch.encode())
            h.update(rows["ds"].to_numpy("datetime64[ns]").tobytes())
            h.update(rows["rostered"].to_numpy(np.int64).tobytes())
        unit_caps = {c: v for c, v in (caps or {}).items() if c in unit or c == ALL_CHANNELS}
        key = ("shifts", tuple(unit), h.hexdigest(), repr(rules),
               tuple(sorted(unit_caps.items())), tuple(repr(policies[c]) for c in unit),
               interval_s)
        plan = cache.get(key)
        if plan is None:
            what = "all channels (shared cap)" if coupled else unit[0]
            _report(progress, "shifts", k / len(units), f"solving shifts: {what}")
            plan = solve_shifts(req, rules, unit_caps or None, interval_s=interval_s,
                                policies=policies, block_cache=cache.shift_blocks)
            cache.put(key, plan)
        parts.append(plan)
    return ShiftPlan(
        shift_plan=pd.concat([p.shift_plan for p in parts], ignore_index=True),
        coverage=pd.concat([p.coverage for p in parts], ignore_index=True),
        days=pd.concat([p.days for p in parts], ignore_index=True),
        interval_s=interval_s,
    )


def _share_total(cov: pd.DataFrame, total: int) -> np.ndarray:
    """Scale each interval's scheduled agents down to ``total`` over all channels, in
    proportion to each channel's, in whole agents (largest remainders first)."""
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


def _interval_staffing(req: pd.DataFrame, caps: dict[str, int] | None,
                       interval_s: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Without a shift solve: schedule each interval's rostered need (capped)."""
    cov = req[["channel", "ds"]].copy()
    cov["required"] = req["rostered"].to_numpy(np.int64)
    caps = dict(caps or {})
    total = caps.pop(ALL_CHANNELS, None)
    cap = cov["channel"].map(caps).astype(float).fillna(np.inf).to_numpy()
    cov["scheduled"] = np.minimum(cov["required"].to_numpy(float), cap)
    if total is not None:
        cov["scheduled"] = _share_total(cov, total)
    cov["gap"] = cov["scheduled"] - cov["required"]
    cov["short"] = np.clip(-cov["gap"], 0, None)
    plan = pd.DataFrame(columns=["date", "channel", "shift_start", "shift_end", "break_start",
                                 "agents", "paid_hours"])
    return plan, cov


def run(
    scenario: Scenario,
    progress: Progress | None = None,
    *,
    cache: PipelineCache | None = None,
) -> ScenarioResult:
    """Run the whole flow for one scenario.

    Parameters
    ----------
    scenario : Scenario
        The assumptions.
    progress : callable, optional
        ``progress(fraction_done, message)``, called at each step (fraction in 0..1).
    cache : PipelineCache, optional
        Inputs/forecast cache; default :func:`default_cache` (shared in the process).

    Returns
    -------
    ScenarioResult
        All frames (see :mod:`planner.results`); ``meta`` holds ``forecast_key``,
        ``forecast_cached``, ``interval_s``, ``models``, ``shift_status``,
        ``shift_quality`` (``"optimal"`` or ``"within X % of the best possible"``),
        ``shift_paid_hours`` and ``shift_paid_hours_bound`` (the plan's paid hours and
        their lower bound), ``shift_objective_h``, ``shift_lower_bound_h``, ``shift_gap``
        (the plan's cost with the understaffing penalty, its LP bound and the relative
        gap between them), ``short_agent_hours`` and ``warnings`` (list of str:
        :attr:`InputData.warnings` and :func:`plan_warnings`).

    Raises
    ------
    ValueError
        Subclasses from the step that failed: :class:`PipelineError`,
        :class:`forecast.data.DataError`, :class:`staffing.policy.PolicyError`,
        :class:`staffing.shifts.ShiftError`, ... each naming the field or column.

    Examples
    --------
    >>> from planner.scenario import Scenario
    >>> s = Scenario(horizon={"start": "2024-11-04", "end": "2024-11-05"})
    >>> r = run(s)                                    # doctest: +SKIP
    >>> r.kpis_daily.columns.tolist()                 # doctest: +SKIP
    ['date', 'channel', 'service_level', 'asa_s', 'abandon_rate', 'occupancy', ...]
    """
    cache = _DEFAULT_CACHE if cache is None else cache

    _report(progress, "inputs", 0.0, "loading data")
    inputs = load_inputs(scenario.data, cache)

    hits = cache.hits
    base = base_forecast(scenario, inputs, progress, cache)

    _report(progress, "staffing", 0.0, "requirements per interval")
    volumes = scenario_volumes(scenario, base)
    policies = channel_policies(scenario)
    requirements = compute_requirements(
        volumes[["channel", "ds", "volume", "aht_s"]], policies, base.interval_s,
        deferred_tail_days=1,
    )

    caps = _headcount_caps(scenario)
    meta_shifts: dict[str, Any]
    if scenario.shifts.solve:
        _report(progress, "shifts", 0.0, "solving shifts")
        plan = _solve_shifts_cached(
            requirements, shift_rules(scenario), caps, policies, base.interval_s, cache, progress
        )
        shift_plan, coverage = plan.shift_plan, plan.coverage
        meta_shifts = {
            "shift_status": plan.status,
            "shift_quality": plan.quality,
            "shift_paid_hours": plan.paid_hours,
            "shift_paid_hours_bound": plan.paid_hours_bound,
            "shift_objective_h": plan.objective,
            "shift_lower_bound_h": plan.lower_bound,
            "shift_gap": plan.gap,
            "short_agent_hours": plan.short_agent_hours,
        }
    else:
        shift_plan, coverage = _interval_staffing(requirements, caps, base.interval_s)
        short = float(coverage["short"].sum() * base.interval_s / 3600)
        meta_shifts = {"shift_status": "NOT_SOLVED", "short_agent_hours": short,
                       "shift_quality": "no shift plan (each interval staffed on its own)"}

    _report(progress, "kpis", 0.0, "achieved KPIs")
    # what the plan delivers at the expected volume (staff_to may have sized it for more)
    kpis = achieved_kpis(
        volumes[["channel", "ds", "volume_mean", "aht_s"]].rename(
            columns={"volume_mean": "volume"}),
        coverage[["channel", "ds", "scheduled"]],
        policies,
        base.interval_s,
    )
    daily = daily_kpis(kpis, shift_plan if scenario.shifts.solve else None, base.interval_s)
    weekly = weekly_fte(
        daily, scenario.fte_hours_per_week,
        {ch: scenario.channel_cost(ch) for ch in scenario.channels},
    )
    _report(progress, "kpis", 1.0, "done")

    meta = {
        "forecast_key": scenario.forecast_key(),
        "forecast_cached": cache.hits > hits,
        "interval_s": base.interval_s,
        "models": dict(base.models),
        **meta_shifts,
        "warnings": [*inputs.warnings, *plan_warnings(scenario, inputs)],
    }
    return ScenarioResult(
        scenario=scenario,
        forecast=base.contacts.copy(),  # the cached frame stays untouched
        volumes=volumes,
        requirements=requirements,
        shift_plan=shift_plan,
        coverage=coverage,
        kpis_interval=kpis,
        kpis_daily=daily,
        weekly=weekly,
        meta=meta,
    )
