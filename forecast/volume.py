"""One entry point for any volume series: :func:`forecast_volume`.

Why it is long: the `auto` selection (rolling origins, last year's season, the one-SE rule,
the combination, outliers, holiday catch-up and the band's calibration from the same
backtests) is one decision; its steps are separate functions here.

History is long (``unique_id, ds, y``); every series is forecast on its *open grid*:

* daily (``"D"``) and business-daily (``"B"``) series: the weekdays that had rows in at
  least half of the last 8 weeks are open, the others closed (no forecast rows); a missing
  open day is imputed for fitting (from the same weekday 1-3 weeks around it), except on a
  labelled holiday/event day where a missing row means the centre was closed (volume 0);
  gross unlabelled outliers (more than 6 robust sd and 50%/33% off that same-weekday
  median) are imputed the same way for every model but Prophet;
* intraday series (``"15min"``, ``"30min"``, ``"60min"``, ...) are forecast **top-down**:
  daily totals are forecast as above and split into intervals with weekday-specific
  profiles from recent weeks (:mod:`forecast.intraday`), so closed hours stay closed. The
  two baselines are also available directly on the interval grid.

Events (``ds, event, lower_window, upper_window``) and, optionally, a country's market
holidays become day labels (``"11.11"``, ``"11.11+1"`` for the day after). Prophet takes
them as holiday effects. For the other models, labelled days are replaced in history by
the same-weekday level around them, the model forecasts that clean baseline, and each
future labelled day is multiplied by the median ratio actual/baseline of the same label in
history (the spill-over after a holiday is learned the same way through its ``+1`` label).
A label never seen in history moves nothing.

``model="auto"`` backtests the candidates per series at the horizon asked for, on
:data:`N_SELECTION_WINDOWS` rolling origins one week apart (the latest window ends on the
last history day) plus the same season a year earlier where history has it, and keeps the
lowest mean WAPE (:func:`forecast.backtest.wape`) by the one-standard-error rule: the
simplest candidate within one standard error of the paired window differences (or within
:data:`TIE_MARGIN`) wins. The candidates include ``"combination"``, the median of the
others. ``.attrs["selection"]`` reports per series the scores, the winner's margin and the
stability of the choice across windows; the winner's band is calibrated on the same
windows (no extra fits). For intraday series ``auto`` then compares, on the same windows,
the daily winner split by weekday profiles (top-down, the profile's history window
chosen among :data:`PROFILE_WEEKS` on the same windows) with the direct robust same-slot
average, interval by interval. On a labelled market holiday seen closed in history, the
following open day (the next open day when the day after is closed too) carries the catch-up
learned from that holiday, or, when only that day's label is new, from all market holidays
("holiday+1"). Results can be cached with :class:`forecast.cache.ForecastCache`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> ds = pd.date_range("2024-01-01", periods=56, freq="D")
>>> hist = pd.DataFrame({"unique_id": "chat", "ds": ds, "y": 100.0 + 50 * (ds.day_of_week < 5)})
>>> fc = forecast_volume(hist, 3, "D", model="seasonal_naive")
>>> fc[["ds", "yhat"]].assign(ds=fc["ds"].dt.date.astype(str)).values.tolist()
[['2024-02-26', 150.0], ['2024-02-27', 150.0], ['2024-02-28', 150.0]]
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast import intraday
from forecast.cache import ForecastCache
from forecast.frames import BAND
from forecast.metrics import calibration_factor, scale_interval, wape
from forecast.models import MODELS, ModelError

__all__ = [
    "AUTO_CANDIDATES",
    "SelectionPlan",
    "VolumeError",
    "VolumePlan",
    "WindowFit",
    "day_labels",
    "finish_volume",
    "fit_window",
    "forecast_series",
    "forecast_volume",
    "holidays_frame",
    "horizon_end",
    "pick_selection",
    "plan_selection",
    "plan_volume",
    "season_length",
    "validate_history",
]

#: Median of the other candidates' forecasts (a forecast combination).
COMBINATION = "combination"
AUTO_CANDIDATES: tuple[str, ...] = ("seasonal_naive", "same_weekday_average", "ets", "prophet",
                                    COMBINATION)
Progress = Callable[[float, str], None]
_INTRADAY = re.compile(r"^(\d+)\s*(min|T|h|H)$")
_OFFSET = re.compile(r"^(.*?)([+-]\d+)?$")
_OFFSET = re.compile(r"^(.*?)([+-]\d+)?$")


class VolumeError(ValueError):
    """Bad input to :func:`forecast_volume` (names the parameter or column and value)."""


def _interval_s(freq: str) -> int | None:
    """Interval length in seconds for an intraday ``freq``; None for "D"/"B"."""
    if freq in ("D", "B"):
        return None
    m = _INTRADAY.match(str(freq))
    if not m:
        raise VolumeError(f"freq must be 'D', 'B' or an intraday like '30min', got {freq!r}")
    n = int(m.group(1)) * (60 if m.group(2) in ("min", "T") else 3600)
    if n <= 0 or 86400 % n:
        raise VolumeError(f"freq {freq!r} must divide a day")
    return n


def validate_history(history: pd.DataFrame, id_col: str = "unique_id", ds_col: str = "ds",
                     y_col: str = "y") -> pd.DataFrame:
    """Check and normalise a long history frame to ``unique_id, ds, y`` sorted, deduplicated.

    Raises :class:`VolumeError` naming a missing column, an unparsable ``ds`` or a negative
    or non-finite ``y`` (with its row label). A missing ``unique_id`` column means one series.
    """
    if not isinstance(history, pd.DataFrame):
        raise VolumeError(f"history must be a DataFrame, got {type(history).__name__}")
    for col in (ds_col, y_col):
        if col not in history.columns:
            raise VolumeError(f"history has no column {col!r} (columns: {list(history.columns)})")
    uid = history[id_col] if id_col in history.columns else pd.Series("y", index=history.index)
    try:
        ds = pd.to_datetime(history[ds_col])
    except (ValueError, TypeError) as exc:
        raise VolumeError(f"history[{ds_col!r}] is not parseable as datetimes: {exc}") from exc
    y = pd.to_numeric(history[y_col], errors="coerce").astype(float)
    bad = ~np.isfinite(y.to_numpy()) | (y.to_numpy() < 0)
    if bad.any():
        row = history.index[np.argmax(bad)]
        raise VolumeError(f"history[{y_col!r}] must be finite and >= 0; row {row!r} is "
                          f"{history.loc[row, y_col]!r}")
    out = pd.DataFrame({"unique_id": uid.astype(str).to_numpy(),
                        "ds": ds.dt.tz_localize(None) if ds.dt.tz is not None else ds,
                        "y": y.to_numpy()})
    out = out.groupby(["unique_id", "ds"], as_index=False, sort=True)["y"].sum()
    if out.empty:
        raise VolumeError("history is empty")
    return out


def horizon_end(last: pd.Timestamp, horizon: int | str, freq: str) -> pd.Timestamp:
    """Last timestamp covered by ``horizon`` (steps at ``freq``, or a duration like "92D").

    On an intraday grid a duration of whole days covers whole calendar days after the last
    history day (intraday forecasts start on the day after the last history day)."""
    if isinstance(horizon, str):
        try:
            span = pd.Timedelta(horizon)
        except ValueError as exc:
            raise VolumeError(f"horizon {horizon!r} is not a duration like '92D'") from exc
        if span <= pd.Timedelta(0):
            raise VolumeError(f"horizon must be positive, got {horizon!r}")
        step = _interval_s(freq)
        if step and span % pd.Timedelta(days=1) == pd.Timedelta(0):
            # whole days on an intraday grid: through the end of the last calendar day
            return last.normalize() + span + pd.Timedelta(days=1) - pd.Timedelta(seconds=step)
        return last + span - (pd.Timedelta(seconds=step) if step else pd.Timedelta(0))
    h = int(horizon)
    if h < 1:
        raise VolumeError(f"horizon must be >= 1 step, got {horizon!r}")
    if freq == "B":
        return last + pd.offsets.BDay(h)
    step = _interval_s(freq)
    return last + (pd.Timedelta(seconds=step) * h if step else pd.Timedelta(days=h))


def _open_weekdays(dates: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Boolean[7]: weekdays with rows in at least half of the last 8 weeks of ``dates``."""
    last = dates.max()
    recent = dates[dates > last - pd.Timedelta(days=56)]
    weeks = max(1, min(8, int(np.ceil((last - dates.min()).days / 7)) or 1))
    counts = np.bincount(recent.day_of_week, minlength=7)
    opened = counts >= max(1, weeks // 2)
    if freq == "B":
        opened[5:] = False
    return opened


def season_length(ds: pd.DatetimeIndex, freq: str) -> int:
    """Open steps per week of a series (open weekdays, times open slots for intraday)."""
    dates = pd.DatetimeIndex(ds).normalize().unique()
    days = int(_open_weekdays(dates, freq if freq in ("D", "B") else "D").sum())
    step = _interval_s(freq)
    if step is None:
        return max(days, 1)
    slots = pd.DatetimeIndex(ds)
    per_day = slots.normalize().value_counts().median()
    return max(int(days * per_day), 1)


def holidays_frame(events: pd.DataFrame | None, country: str | None,
                   years: Sequence[int]) -> pd.DataFrame:
    """Prophet-style holidays frame ``holiday, ds, lower_window, upper_window``.

    ``events`` follows the events contract; ``country`` (e.g. ``"RU"``) adds that market's
    public holidays from the ``holidays`` package with ``upper_window=1`` so the day after
    a holiday gets its own effect.
    """
    parts = []
    if events is not None and len(events):
        for col in ("ds", "event"):
            if col not in events.columns:
                raise VolumeError(f"events has no column {col!r}")
        ev = pd.DataFrame({
            "holiday": events["event"].astype(str).to_numpy(),
            "ds": pd.to_datetime(events["ds"]).dt.normalize().to_numpy(),
            "lower_window": (events["lower_window"] if "lower_window" in events else 0),
            "upper_window": (events["upper_window"] if "upper_window" in events else 0),
            "kind": "event",
        })
        parts.append(ev)
    if country:
        import holidays as hol

        try:
            cal = hol.country_holidays(country, years=list(years))
        except NotImplementedError as exc:
            raise VolumeError(f"country {country!r} unknown to the holidays package") from exc
        parts.append(pd.DataFrame({"holiday": list(cal.values()),
                                   "ds": pd.to_datetime(list(cal.keys())),
                                   "lower_window": 0, "upper_window": 1,
                                   "kind": "market"}))
    if not parts:
        return pd.DataFrame(columns=["holiday", "ds", "lower_window", "upper_window", "kind"])
    out = pd.concat(parts, ignore_index=True)
    out["lower_window"] = out["lower_window"].fillna(0).astype(int).clip(upper=0)
    out["upper_window"] = out["upper_window"].fillna(0).astype(int).clip(lower=0)
    return out.sort_values("ds", kind="stable").reset_index(drop=True)


def day_labels(hol: pd.DataFrame) -> pd.Series:
    """One label per date from a holidays frame: ``event`` on its day, ``event+k``/``event-k``
    on window days; where labels overlap the one closest to its own day wins."""
    if hol is None or hol.empty:
        return pd.Series(dtype=object)
    # one row per holiday and window day (k days from the holiday), in the holidays' order
    lo = hol["lower_window"].to_numpy().astype(int)
    n = np.maximum(hol["upper_window"].to_numpy().astype(int) - lo + 1, 0)
    idx = np.repeat(np.arange(len(hol)), n)
    k = lo[idx] + np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    names = hol["holiday"].to_numpy(object)[idx]
    days = pd.DatetimeIndex(pd.to_datetime(hol["ds"]))
    # the finer of the days' unit and a Timedelta's, as Timestamp + Timedelta gives
    unit = max((days.unit, pd.Timedelta(days=1).unit), key=["s", "ms", "us", "ns"].index)
    date = days.as_unit(unit)[idx] + pd.to_timedelta(k, unit="D").as_unit(unit)
    df = pd.DataFrame({"date": date, "dist": np.abs(k),
                       "label": [x if j == 0 else f"{x}{j:+d}"
                                 for x, j in zip(names, k.tolist(), strict=True)]})
    df = df.sort_values(["date", "dist"])
    return df.drop_duplicates("date").set_index("date")["label"]


def _phase_fill(v: np.ndarray, m: int, reach: int = 3) -> np.ndarray:
    """Median of the same phase ``1..reach`` seasons before and after (NaNs ignored)."""
    n = v.size
    cols = []
    for k in range(1, reach + 1):
        for s in (m * k, -m * k):
            sh = np.full(n, np.nan)
            if s > 0 and s < n:
                sh[s:] = v[:-s]
            elif s < 0 and -s < n:
                sh[:s] = v[-s:]
            cols.append(sh)
    with warnings.catch_warnings():  # all-NaN columns are expected (gaps)
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(np.stack(cols), axis=0)


def _daily_grid(dates: pd.DatetimeIndex, y: np.ndarray, freq: str, labels: pd.Series):
    """History on the open-day grid: grid dates, cleaned y, raw y (NaN = no row), mask."""
    opened = _open_weekdays(dates, freq)
    full = pd.date_range(dates.min(), dates.max(), freq="D")
    grid = full[opened[full.day_of_week]]
    raw = pd.Series(y, index=dates).reindex(grid).to_numpy(float)
    lab = labels.reindex(grid).to_numpy(object) if len(labels) else np.full(grid.size, None)
    is_lab = pd.notna(lab)
    raw = np.where(np.isnan(raw) & is_lab, 0.0, raw)  # labelled day without rows: closed
    m = max(int(opened.sum()), 1)
    clean = np.where(is_lab, np.nan, raw)
    fill = _phase_fill(clean, m)
    # gross unlabelled outliers (outages, data errors) leave the baseline too: log distance
    # to the same-weekday median of the 3 weeks around above 6 robust sd and above 0.4
    z = np.log1p(clean) - np.log1p(fill)
    ok = np.isfinite(z)
    outliers: list[str] = []
    if ok.sum() >= 4 * m:
        scale = 1.4826 * np.median(np.abs(z[ok] - np.median(z[ok])))
        out = ok & (np.abs(z) > max(6 * scale, 0.4))
        clean = np.where(out, np.nan, clean)
        outliers = [d.date().isoformat() for d in grid[out]]
    clean = np.where(np.isnan(clean), fill, clean)
    if np.isnan(clean).any():
        s = pd.Series(clean)
        clean = s.interpolate(limit_direction="both").fillna(0.0).to_numpy()
    return grid, clean, raw, lab, m, opened, outliers


def _generic(label, market: frozenset) -> str | None:
    """Pooled key of a market-holiday label: ``"holiday"``, ``"holiday+1"``; else None."""
    m = _OFFSET.match(str(label))
    if m is None or m.group(1) not in market:
        return None
    return "holiday" + (m.group(2) or "")


def _uplifts(raw: np.ndarray, clean: np.ndarray, lab: np.ndarray,
             market: frozenset = frozenset()) -> dict[str, float]:
    """Median ratio actual / clean baseline per label seen in history, and per pooled
    market-holiday key (``"holiday"``, ``"holiday+1"``, ...) over all market holidays."""
    mask = pd.notna(lab) & (clean > 0)
    if not mask.any():
        return {}
    df = pd.DataFrame({"label": lab[mask], "r": raw[mask] / clean[mask]})
    out = df.groupby("label")["r"].median().to_dict()
    if market:
        df["key"] = [_generic(x, market) for x in df["label"]]
        out.update(df.dropna(subset=["key"]).groupby("key")["r"].median().to_dict())
    return out


def _multipliers(flab: np.ndarray, up: dict[str, float], market: frozenset) -> np.ndarray:
    """Uplift per future day: its own label's; else, on the days after a market holiday
    that history shows closed, the pooled ``"holiday+k"`` effect (the catch-up of demand
    a closed day pushes forward); else 1. An unseen holiday day itself moves nothing:
    whether a centre closes on it cannot be learned from other holidays."""
    out = np.ones(flab.size)
    for i, x in enumerate(flab):
        if x is None or pd.isna(x):
            continue
        if x in up:
            out[i] = up[x]
            continue
        g = _generic(x, market)
        if g is None or g == "holiday" or g not in up:
            continue
        base = _OFFSET.match(str(x)).group(1)
        if up.get(base, 1.0) < 0.5:
            out[i] = up[g]
    return out


def _next_open_labels(labels: pd.Series, grid: pd.DatetimeIndex,
                      market: frozenset) -> pd.Series:
    """Labels on ``grid`` (open days); the day after a market holiday that falls on a
    closed day (a Friday holiday of a weekday centre) moves to the next open day, where
    the displaced demand arrives."""
    lab = labels.reindex(grid) if len(labels) else pd.Series(None, index=grid, dtype=object)
    if not market or len(labels) == 0:
        return lab
    vals = lab.to_numpy(object).copy()
    for i in range(grid.size - 1):
        x = vals[i]
        if x is None or pd.isna(x) or str(x) not in market or pd.notna(vals[i + 1]):
            continue
        if grid[i + 1] - grid[i] > pd.Timedelta(days=1):
            vals[i + 1] = f"{x}+1"
    return pd.Series(vals, index=grid)


def _label_multipliers(dates, y, end, hol) -> pd.Series:
    """Uplift per future day of a daily series (1 without a learned effect, 0 = closed)."""
    market = (frozenset(hol.loc[hol["kind"] == "market", "holiday"].astype(str))
              if hol is not None and "kind" in hol.columns else frozenset())
    opened = _open_weekdays(dates, "D")
    full = pd.date_range(dates.min(), end.normalize(), freq="D")
    labels = _next_open_labels(day_labels(hol), full[opened[full.day_of_week]], market)
    grid, clean, raw, lab, _m, opened, _ = _daily_grid(dates, y, "D", labels)
    fut = pd.date_range(grid[-1] + pd.Timedelta(days=1), end.normalize(), freq="D")
    fut = fut[opened[fut.day_of_week]]
    flab = labels.reindex(fut).to_numpy(object)
    return pd.Series(_multipliers(flab, _uplifts(raw, clean, lab, market), market), index=fut)


def _forecast_daily(dates, y, freq, end, name, hol, level, seed,
                    candidates: Sequence[str] = AUTO_CANDIDATES):
    if name == COMBINATION:
        frames, flab = [], None
        for m in candidates:
            if m == COMBINATION:
                continue
            try:
                fc, flab = _forecast_daily(dates, y, freq, end, m, hol, level, seed)
            except ModelError:
                continue
            frames.append(fc)
        if len(frames) < 2:
            raise ModelError("combination needs at least two candidates that fit")
        out = _combine(frames)
        out.attrs["outliers"] = frames[0].attrs.get("outliers", [])
        return out, flab
    market = (frozenset(hol.loc[hol["kind"] == "market", "holiday"].astype(str))
              if hol is not None and "kind" in hol.columns else frozenset())
    opened = _open_weekdays(dates, freq)
    full = pd.date_range(dates.min(), end.normalize(), freq="D")
    labels = _next_open_labels(day_labels(hol), full[opened[full.day_of_week]], market)
    grid, clean, raw, lab, m, opened, outliers = _daily_grid(dates, y, freq, labels)
    fut = pd.date_range(grid[-1] + pd.Timedelta(days=1), end.normalize(), freq="D")
    fut = fut[opened[fut.day_of_week]]
    if fut.size == 0:
        raise VolumeError(f"horizon ends at {end} before the first open day after {grid[-1]}")
    flab = labels.reindex(fut).to_numpy(object) if len(labels) else np.full(fut.size, None)
    flab = np.array([None if x is None or pd.isna(x) else x for x in flab], dtype=object)
    up = _uplifts(raw, clean, lab, market)
    mult = _multipliers(flab, up, market)
    if name == "prophet":
        keep = ~np.isnan(raw)
        hist = pd.DataFrame({"ds": grid[keep], "y": raw[keep]})
        fc = MODELS[name](hist, fut, level, season_length=m, holidays=hol, seed=seed)
    else:
        hist = pd.DataFrame({"ds": grid, "y": clean})
        fc = MODELS[name](hist, fut, level, season_length=m)
        for c in BAND:
            fc[c] = fc[c].to_numpy() * mult
    closed = mult == 0  # closed on every past occurrence of this label: no rows
    out = fc.loc[~closed].reset_index(drop=True)
    out.attrs["outliers"] = outliers
    return out, flab[~closed]


def forecast_series(
    ds: pd.DatetimeIndex, y: np.ndarray, freq: str, *, end: pd.Timestamp, model: str,
    events: pd.DataFrame | None = None, level: float = 80, country: str | None = None,
    seed: int = 0, hol: pd.DataFrame | None = None,
    candidates: Sequence[str] = AUTO_CANDIDATES,
) -> pd.DataFrame:
    """Forecast one series (open steps after ``ds[-1]`` up to ``end``) with one named model.

    Returns ``ds, yhat, yhat_lo, yhat_hi``; ``.attrs["selection"]`` holds the
    :class:`Selection` for ``model="auto"`` (which selects among ``candidates`` as
    :func:`forecast_volume` does) and ``.attrs["model"]`` the model used. For an intraday
    ``freq`` the two baselines run directly on the interval grid and the other models
    top-down (daily forecast split by :mod:`forecast.intraday`); ``auto`` chooses between
    the two ways by backtest.
    Raises :class:`VolumeError` for an unknown model and :class:`ModelError` when the model
    cannot fit this series.
    """
    _check_model(model)
    ds = pd.DatetimeIndex(ds)
    y = np.asarray(y, dtype=float)
    if hol is None:
        years = range(ds[0].year - 1, pd.Timestamp(end).year + 2)
        hol = holidays_frame(events, country, years)
    return _series(ds, y, freq, pd.Timestamp(end), model, level, seed, hol, candidates)


def _series(ds, y, freq, end, model, level, seed, hol, candidates, plan=None, fits=None):
    """:func:`forecast_series` after its checks; a daily ``auto`` takes the selection's
    ``plan`` and window ``fits`` when given (:func:`finish_volume`), else fits them."""
    step = _interval_s(freq)
    if model == "auto":
        if step is None:
            if plan is None:
                plan = plan_selection(ds, y, freq, end=end, candidates=list(candidates),
                                      level=level, seed=seed, hol=hol)
                fits = _fit_all(plan) if plan.cuts else []
            sel = pick_selection(plan, fits)
            fc = _series(ds, y, freq, end, sel.model, level, seed, hol, candidates)
        else:
            ser = _interval_series(ds, y, step)
            sel = _select_intraday(ser, step, end, list(candidates), level, seed, hol)
            fc = _intraday_forecast(ser, step, end, sel.model, level, seed, hol,
                                    direct=sel.intraday == "direct", candidates=candidates,
                                    profile_weeks=sel.profile_weeks)
        fc["yhat_lo"], fc["yhat_hi"] = scale_interval(fc["yhat"], fc["yhat_lo"],
                                                      fc["yhat_hi"], sel.interval_scale)
        fc.attrs["selection"] = sel
        fc.attrs["model"] = sel.model
        return fc
    if step is None:
        fc, _ = _forecast_daily(ds.normalize(), y, freq, end, model, hol, level, seed,
                                candidates)
    else:
        ser = _interval_series(ds, y, step)
        fc = _intraday_forecast(ser, step, end, model, level, seed, hol,
                                direct=model in ("seasonal_naive", "same_weekday_average"),
                                candidates=candidates)
    fc.attrs["model"] = model
    return fc


def _check_model(model: str) -> None:
    if model not in ("auto", COMBINATION) and model not in MODELS:
        raise VolumeError(f"model must be one of {sorted(MODELS) + [COMBINATION]} or "
                          f"'auto', got {model!r}")


def _interval_series(ds: pd.DatetimeIndex, y: np.ndarray, step: int) -> pd.Series:
    ser = pd.Series(y, index=ds)
    return ser.groupby(ser.index.floor(f"{step}s")).sum()


def _intraday_forecast(ser, step, end, model, level, seed, hol, *, direct, candidates,
                       profile_weeks: int = 8):
    """One model on an interval series: directly on the grid (baselines) or top-down.

    The direct way takes the same event and holiday effects as the daily models: each
    day's intervals are multiplied by its label's uplift (closed days get no rows)."""
    daily = _daily_totals(ser)
    if direct:
        fc = intraday.direct_baseline(ser, step, end, model, level)
        mult = _label_multipliers(daily.index, daily.to_numpy(), end, hol)
        mm = mult.reindex(pd.DatetimeIndex(fc["ds"]).normalize()).fillna(1.0).to_numpy()
        for c in BAND:
            fc[c] = fc[c].to_numpy() * mm
        return fc.loc[mm > 0].reset_index(drop=True)
    dfc, flab = _forecast_daily(daily.index, daily.to_numpy(), "D", end, model, hol, level,
                                seed, candidates)
    prof = intraday.build_profile(ser, step, labels=day_labels(hol), n_weeks=profile_weeks)
    out = intraday.split_daily(dfc, prof, level, labels=flab)
    return out[out["ds"] <= end].reset_index(drop=True)


#: Rolling origins of the ``auto`` selection (one week apart, the latest ending at the
#: last history day), plus the same season a year earlier where history has it.
N_SELECTION_WINDOWS = 8
#: Relative WAPE gap that always counts as a tie (the simpler candidate wins), also with
#: too few windows for a standard error.
TIE_MARGIN = 0.02
#: History windows (weeks) among which ``auto`` chooses the intraday profile's by backtest.
PROFILE_WEEKS: tuple[int, ...] = (8, 26, 52)
#: Simplest first; a tie goes to the earlier name.
SIMPLICITY: tuple[str, ...] = ("seasonal_naive", "same_weekday_average", "ets", "sarimax",
                               "prophet", COMBINATION)


def selection_origins(first: pd.Timestamp, last: pd.Timestamp, span: pd.Timedelta, *,
                      n_windows: int = N_SELECTION_WINDOWS, min_train_days: int = 56,
                      year_ago_min_days: int = 180) -> list[pd.Timestamp]:
    """Backtest origins of the ``auto`` selection, oldest first.

    ``n_windows`` origins one week apart, the latest at ``last - span`` (its window ends on
    the last history day), each with at least ``min_train_days`` of history since
    ``first``; plus ``last - 364 days`` (the same season a year earlier, same weekday) when
    at least ``year_ago_min_days`` of history precede it.

    Examples
    --------
    >>> o = selection_origins(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-06-30"),
    ...                       pd.Timedelta(days=7), n_windows=3)
    >>> [d.strftime("%m-%d") for d in o]
    ['06-09', '06-16', '06-23']
    """
    cuts = []
    year_ago = last - pd.Timedelta(days=364)
    if year_ago - first >= pd.Timedelta(days=year_ago_min_days):
        cuts.append(year_ago)
    for k in range(n_windows - 1, -1, -1):
        cut = last - span - pd.Timedelta(days=7 * k)
        if cut - first >= pd.Timedelta(days=min_train_days) and cut < last:
            cuts.append(cut)
    return sorted(set(cuts))


@dataclass(frozen=True)
class Selection:
    """What ``model="auto"`` measured for one series.

    Attributes
    ----------
    model : str
        The winner (lowest mean WAPE over the windows; within :data:`TIE_MARGIN` of the
        lowest, the simplest in :data:`SIMPLICITY`).
    scores : dict
        Mean WAPE over the windows per candidate that fitted every window.
    margin : float
        Relative WAPE gap of the best other candidate over the winner (``> 0``: the
        winner is ahead; negative when a tie went to the simpler winner).
    stability : float
        Share of windows whose own best candidate is the winner (1 = every window agrees).
    n_windows : int
        Backtest windows used.
    interval_scale : float
        Calibration factor of the winner's band on the same windows
        (:func:`forecast.backtest.calibration_factor`), 1 without windows.
    intraday : str
        ``"top-down"``, ``"direct"`` or ``""`` (daily series).
    profile_weeks : int
        Weeks of history behind the intraday profile of the top-down split, chosen on the
        same windows among :data:`PROFILE_WEEKS`.
    """

    model: str
    scores: dict
    margin: float
    stability: float
    n_windows: int
    interval_scale: float = 1.0
    intraday: str = ""
    profile_weeks: int = 8

    def as_dict(self) -> dict:
        return {"model": self.model, "scores": dict(self.scores), "margin": self.margin,
                "stability": self.stability, "n_windows": self.n_windows,
                "interval_scale": self.interval_scale, "intraday": self.intraday,
                "profile_weeks": self.profile_weeks}


def _pick(per_window: dict[str, np.ndarray]) -> tuple[str, dict, float, float]:
    """Winner from per-window WAPEs: the simplest candidate (:data:`SIMPLICITY`) whose mean
    WAPE is within one standard error of the paired window differences of the lowest mean
    (the one-standard-error rule; Hastie, Tibshirani & Friedman, *ESL* 2nd ed., 7.10),
    and never more than :data:`TIE_MARGIN` apart counts as a tie either way."""
    scores = {k: float(np.mean(v)) for k, v in per_window.items()}
    best_name = min(scores, key=scores.get)
    best = scores[best_name]
    rank = {m: i for i, m in enumerate(SIMPLICITY)}

    def tied(m: str) -> bool:
        d = per_window[m] - per_window[best_name]
        se = float(np.std(d, ddof=1) / np.sqrt(d.size)) if d.size >= 2 else 0.0
        return float(np.mean(d)) <= max(se, TIE_MARGIN * best) + 1e-12

    winner = min((m for m in scores if tied(m)), key=lambda m: (rank.get(m, len(rank)),
                                                                  scores[m]))
    others = [v for m, v in scores.items() if m != winner]
    margin = (min(others) / scores[winner] - 1) if others and scores[winner] > 0 else 0.0
    names = list(per_window)
    mat = np.stack([per_window[m] for m in names])
    stability = float(np.mean(np.array(names)[np.argmin(mat, axis=0)] == winner))
    return winner, scores, float(margin), stability


def _combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Median of several forecasts of the same rows (yhat, lo and hi each)."""
    out = frames[0][["ds"]].copy()
    for c in BAND:
        out[c] = np.median(np.stack([f[c].to_numpy(float) for f in frames]), axis=0)
    out["yhat_lo"] = np.minimum(out["yhat_lo"], out["yhat"])
    out["yhat_hi"] = np.maximum(out["yhat_hi"], out["yhat"])
    return out


@dataclass(frozen=True)
class SelectionPlan:
    """The ``auto`` selection of one daily series, cut into independent window fits.

    Made by :func:`plan_selection`. Each of :attr:`jobs` (a candidate and a window) is
    fitted by :func:`fit_window`, in any order and any process (each fit depends only on
    the plan and is seeded by it), and :func:`pick_selection` chooses the winner from the
    fits. :func:`forecast_volume` runs the same three steps in one process.

    Attributes
    ----------
    dates, y : DatetimeIndex, ndarray
        The series (days, normalised; counts per day).
    freq : str
        ``"D"`` or ``"B"``.
    end : Timestamp
        Last day of the forecast the selection is for.
    candidates : tuple of str
        Candidates, :data:`COMBINATION` included when it competes.
    level : float
        Band coverage in percent.
    seed : int
        Seed of sampling-based models (Prophet).
    hol : DataFrame
        Holidays frame (:func:`holidays_frame`).
    cuts : tuple of Timestamp
        Window origins (:func:`selection_origins`), oldest first; none = too short.
    span_days : int
        Days each window forecasts after its origin.
    """

    dates: pd.DatetimeIndex
    y: np.ndarray
    freq: str
    end: pd.Timestamp
    candidates: tuple[str, ...]
    level: float
    seed: int
    hol: pd.DataFrame
    cuts: tuple[pd.Timestamp, ...]
    span_days: int

    @property
    def fitted(self) -> tuple[str, ...]:
        """The candidates fitted on each window (the combination is their median)."""
        return tuple(m for m in self.candidates if m != COMBINATION)

    @property
    def jobs(self) -> tuple[tuple[str, int], ...]:
        """``(candidate, window)`` for every fit of the selection, window by window."""
        return tuple((m, i) for i in range(len(self.cuts)) for m in self.fitted)

    def actuals(self, window: int) -> pd.Series:
        """Counts of the days window ``window`` forecasts (index: days)."""
        cut = self.cuts[window]
        te = (self.dates > cut) & (self.dates <= cut + pd.Timedelta(days=self.span_days))
        return pd.Series(self.y[te], index=self.dates[te])


@dataclass(frozen=True)
class WindowFit:
    """One candidate's forecast of one selection window (:func:`fit_window`):
    ``yhat, yhat_lo, yhat_hi`` indexed like :meth:`SelectionPlan.actuals` (0 on days
    without a forecast row), or ``None`` when the candidate cannot fit that window."""

    model: str
    window: int
    forecast: pd.DataFrame | None


def plan_selection(dates: pd.DatetimeIndex, y: np.ndarray, freq: str, *, end: pd.Timestamp,
                   candidates: Sequence[str] = AUTO_CANDIDATES, level: float = 80,
                   seed: int = 0, hol: pd.DataFrame | None = None) -> SelectionPlan:
    """Plan the ``auto`` selection of one daily series (no fits).

    ``dates`` are days with a row (sorted, unique), ``y`` their counts; ``end`` is the
    last forecast day; ``hol`` a holidays frame (default: none). Raises
    :class:`VolumeError` for an intraday ``freq`` (intraday selection splits the daily
    totals' selection by profiles: :func:`forecast_volume`) or an unknown candidate.

    Examples
    --------
    >>> ds = pd.date_range("2024-01-01", periods=140, freq="D")
    >>> plan = plan_selection(ds, np.full(140, 10.0), "D", end=ds[-1] + pd.Timedelta(days=7),
    ...                       candidates=("seasonal_naive", "ets"))
    >>> len(plan.cuts), plan.jobs[:3]
    (8, (('seasonal_naive', 0), ('ets', 0), ('seasonal_naive', 1)))
    """
    if freq not in ("D", "B"):
        raise VolumeError(f"plan_selection takes a daily series (freq 'D' or 'B'), not "
                          f"{freq!r}")
    for m in candidates:
        _check_model(m)
    dates = pd.DatetimeIndex(dates).normalize()
    end = pd.Timestamp(end)
    span_days = max(1, (end.normalize() - dates[-1].normalize()).days)
    cuts = selection_origins(dates[0], dates[-1], pd.Timedelta(days=span_days))
    if hol is None:
        hol = holidays_frame(None, None, ())
    return SelectionPlan(dates, np.asarray(y, dtype=float), freq, end, tuple(candidates),
                         float(level), int(seed), hol, tuple(cuts), span_days)


def fit_window(plan: SelectionPlan, model: str, window: int) -> WindowFit:
    """Fit ``model`` on the history up to window ``window``'s origin and forecast the
    window (one of :attr:`SelectionPlan.jobs`)."""
    if model not in plan.fitted or not 0 <= window < len(plan.cuts):
        raise VolumeError(f"({model!r}, {window}) is not a fit of this selection plan "
                          f"(candidates {list(plan.fitted)}, {len(plan.cuts)} windows)")
    cut = plan.cuts[window]
    tr = plan.dates <= cut
    act = plan.actuals(window)
    try:
        fc, _ = _forecast_daily(plan.dates[tr], plan.y[tr], plan.freq,
                                cut + pd.Timedelta(days=plan.span_days), model, plan.hol,
                                plan.level, plan.seed)
    except ModelError:
        return WindowFit(model, window, None)
    return WindowFit(model, window, fc.set_index("ds").reindex(act.index).fillna(0.0))


def _fit_all(plan: SelectionPlan) -> list[WindowFit]:
    """Every fit of the plan in this process; a candidate that cannot fit a window is not
    fitted on later ones (it is out of the selection)."""
    fits, failed = [], set()
    for model, window in plan.jobs:
        if model in failed:
            continue
        fit = fit_window(plan, model, window)
        if fit.forecast is None:
            failed.add(model)
        fits.append(fit)
    return fits


def _window_forecasts(plan: SelectionPlan, fits: Sequence[WindowFit]):
    """``(acts, fcs)`` from the fits: per window the actuals, and per candidate that fitted
    every window its forecasts (the combination: the median of those candidates)."""
    n = len(plan.cuts)
    acts = [plan.actuals(i) for i in range(n)]
    failed = {f.model for f in fits if f.forecast is None}
    got = {(f.model, f.window): f.forecast for f in fits if f.forecast is not None}
    fcs = {}
    for m in plan.fitted:
        if m in failed:
            continue
        missing = [i for i in range(n) if (m, i) not in got]
        if missing:
            raise VolumeError(f"the selection has no fit of {m!r} on windows {missing}")
        fcs[m] = [got[(m, i)] for i in range(n)]
    if COMBINATION in plan.candidates and len(fcs) >= 3:
        fcs[COMBINATION] = [_combine([fcs[m][i].reset_index() for m in fcs]).set_index("ds")
                            for i in range(n)]
    return acts, fcs


def _calibrate_windows(acts, fcs, level, cuts=None, last=None) -> float:
    """Band calibration factor from the selection's own windows (no extra fits).

    Pooled over the recent windows; where the same season a year earlier is one of the
    windows and has at least 10 points, the wider of that window's factor and the recent
    one: the band must hold in the season ahead as well as in the last weeks."""
    season = [i for i, c in enumerate(cuts or [])
              if last is not None and c == last - pd.Timedelta(days=364)]
    recent = [i for i in range(len(acts)) if i not in season]

    def factor(idx):
        if not idx:
            return None
        a = np.concatenate([acts[i].to_numpy(float) for i in idx])
        if a.size < 10:
            return None
        f = pd.concat([fcs[i] for i in idx])
        return calibration_factor(a, f["yhat"], f["yhat_lo"], f["yhat_hi"], level)

    ks = [k for k in (factor(recent), factor(season)) if k is not None]
    return max(ks) if ks else 1.0


def _select_daily(dates, y, freq, end, candidates, level, seed, hol, keep=False):
    """``auto`` on a daily series: rolling-origin windows, mean WAPE, ties to the simpler."""
    plan = plan_selection(dates, y, freq, end=end, candidates=candidates, level=level,
                          seed=seed, hol=hol)
    return _choose(plan, _fit_all(plan) if plan.cuts else [], keep)


def pick_selection(plan: SelectionPlan, fits: Sequence[WindowFit]) -> Selection:
    """The winner of a planned selection from its window fits (:func:`fit_window` of every
    job, or of every job up to a candidate's first window that could not fit): the same
    :class:`Selection` as ``model="auto"`` measures in one process.

    Raises :class:`VolumeError` when a candidate that fitted some windows misses others,
    or when no candidate fitted."""
    return _choose(plan, fits, False)[0]


def _choose(plan: SelectionPlan, fits: Sequence[WindowFit], keep: bool):
    default = ("same_weekday_average" if "same_weekday_average" in plan.candidates
               else plan.candidates[0])
    if not plan.cuts:
        return Selection(default, {}, 0.0, 0.0, 0), None
    acts, fcs = _window_forecasts(plan, fits)
    per = {m: np.array([wape(a, f["yhat"]) for a, f in zip(acts, v, strict=True)])
           for m, v in fcs.items()}
    per = {m: np.nan_to_num(v, nan=0.0) for m, v in per.items()}
    if not per:
        raise VolumeError("model='auto': no candidate model could fit this series")
    winner, scores, margin, stab = _pick(per)
    k = _calibrate_windows(acts, fcs[winner], level=plan.level, cuts=list(plan.cuts),
                           last=plan.dates[-1])
    sel = Selection(winner, scores, margin, stab, len(plan.cuts), k)
    return sel, ((list(plan.cuts), acts, fcs) if keep else None)


def _select_intraday(ser, step, end, candidates, level, seed, hol):
    """``auto`` on an interval series: the daily selection on daily totals, then top-down
    (that daily winner split by weekday profiles) against the direct robust same-slot
    average on the same windows, interval by interval.

    The profile's history window is chosen on the same windows among
    :data:`PROFILE_WEEKS` (lowest mean WAPE, ties to the shorter): a shape that drifts
    wants recent weeks, a small queue's noisy shape wants many (profiles cost no fits)."""
    daily = _daily_totals(ser)
    dend = pd.Timestamp(end).normalize()
    sel, kept = _select_daily(daily.index, daily.to_numpy(), "D", dend, candidates, level,
                              seed, hol, keep=True)
    if kept is None:
        return Selection(sel.model, sel.scores, sel.margin, sel.stability, 0, 1.0,
                         "top-down")
    cuts, acts, fcs = kept
    labels = day_labels(hol)
    span_days = max(1, (dend - daily.index[-1]).days)
    ys, di = [], []
    td: dict[int, list] = {w: [] for w in PROFILE_WEEKS}
    for cut, fd in zip(cuts, fcs[sel.model], strict=True):
        hist = ser[ser.index < cut + pd.Timedelta(days=1)]
        lo_t = cut + pd.Timedelta(days=1)
        hi_t = cut + pd.Timedelta(days=span_days + 1)
        act = ser[(ser.index >= lo_t) & (ser.index < hi_t)]
        try:
            profs = {w: intraday.build_profile(hist, step, labels=labels, n_weeks=w)
                     for w in PROFILE_WEEKS}
            direct = _intraday_forecast(hist, step, hi_t - pd.Timedelta(seconds=step),
                                        "same_weekday_average", level, seed, hol,
                                        direct=True, candidates=candidates)
        except (intraday.IntradayError, ModelError):
            continue
        fd = fd.reset_index()
        fd = fd[fd["yhat"] > 0]
        flab = (labels.reindex(pd.DatetimeIndex(fd["ds"])).to_numpy(object)
                if len(labels) else None)
        ys.append(act)
        for w, prof in profs.items():
            top = intraday.split_daily(fd, prof, level, labels=flab)
            td[w].append(top.set_index("ds").reindex(act.index).fillna(0.0))
        di.append(direct.set_index("ds").reindex(act.index).fillna(0.0))
    if not ys:
        return Selection(sel.model, sel.scores, sel.margin, sel.stability, sel.n_windows,
                         sel.interval_scale, "top-down")
    per_w = {w: np.array([wape(a, f["yhat"]) for a, f in zip(ys, v, strict=True)])
             for w, v in td.items()}
    weeks = min(PROFILE_WEEKS, key=lambda w: (float(np.nanmean(per_w[w])), w))
    w_td, td = per_w[weeks], td[weeks]
    w_di = np.array([wape(a, f["yhat"]) for a, f in zip(ys, di, strict=True)])
    use_direct = np.nanmean(w_di) <= np.nanmean(w_td) * (1 + TIE_MARGIN)
    how = "direct" if use_direct else "top-down"
    k = _calibrate_windows(ys, di if use_direct else td, level)
    scores = dict(sel.scores)
    scores["direct same_weekday_average"] = float(np.nanmean(w_di))
    for w, v in per_w.items():
        scores[f"top-down {sel.model}, {w}-week profile"] = float(np.nanmean(v))
    a, b = (w_di, w_td) if use_direct else (w_td, w_di)
    margin = float(np.nanmean(b) / np.nanmean(a) - 1) if np.nanmean(a) > 0 else 0.0
    stab = float(np.mean(a <= b))
    model = "same_weekday_average" if use_direct else sel.model
    return Selection(model, scores, margin, stab, len(ys), k, how, weeks)


def _daily_totals(ser: pd.Series) -> pd.Series:
    """Daily sums of an interval series, without a last day cut short."""
    daily = ser.groupby(ser.index.normalize()).sum()
    last_tod = ser.index.to_series().groupby(ser.index.normalize()).max()
    last_tod = last_tod - last_tod.index
    if len(last_tod) > 7 and last_tod.iloc[-1] < last_tod.iloc[-29:-1].median():
        daily = daily.iloc[:-1]  # history ends mid-day: a partial total would bias the level
    return daily


def forecast_volume(
    history: pd.DataFrame,
    horizon: int | str,
    freq: str,
    model: str = "auto",
    events: pd.DataFrame | None = None,
    level: float = 80,
    progress: Progress | None = None,
    *,
    country: str | None = None,
    candidates: Sequence[str] = AUTO_CANDIDATES,
    cache: ForecastCache | None = None,
    seed: int = 0,
    id_col: str = "unique_id",
    ds_col: str = "ds",
    y_col: str = "y",
) -> pd.DataFrame:
    """Forecast every series of a long history frame.

    Parameters
    ----------
    history : DataFrame
        ``unique_id, ds, y`` (column names configurable; no ``unique_id`` = one series).
        ``y`` is a count per step (contacts, orders), ``>= 0``. Gaps are allowed.
    horizon : int or str
        Number of steps at ``freq`` after each series' last timestamp, or a duration
        (``"7D"``, ``"92D"``). Closed steps inside the horizon get no rows.
    freq : str
        ``"D"``, ``"B"`` or intraday (``"15min"``, ``"30min"``, ``"60min"``).
    model : str
        A key of :data:`forecast.models.MODELS` or ``"auto"`` (per-series backtest over
        ``candidates``).
    events : DataFrame, optional
        Events contract ``ds, event[, lower_window, upper_window]``.
    level : float
        Interval coverage in percent (80 -> 10th..90th percentile).
    progress : callable, optional
        ``progress(fraction_done, message)`` called after each series.
    country : str, optional
        Market holidays (``"RU"``) added to the events with a day-after window.
    cache : ForecastCache, optional
        Cache of results keyed by a hash of all inputs.
    seed : int
        Seed for sampling-based intervals (Prophet).

    Returns
    -------
    DataFrame
        ``unique_id, ds, yhat, yhat_lo, yhat_hi`` (counts per step, ``0 <= yhat_lo <= yhat
        <= yhat_hi``), open steps only; ``.attrs["models"]`` maps each id to the model used,
        ``.attrs["outliers"]`` to the dates detected as gross outliers (incident days,
        kept out of every model's history but Prophet's).
        With ``model="auto"`` the interval is calibrated on the selection backtest
        (:func:`forecast.backtest.calibration_factor`), ``.attrs["interval_scale"]`` holds
        the factor per id and ``.attrs["selection"]`` the :class:`Selection` as a dict
        (``model, scores, margin, stability, n_windows, interval_scale, intraday``).

    Raises
    ------
    VolumeError
        Missing columns, negative ``y``, bad ``freq``/``horizon``/``model``.

    Examples
    --------
    See the module docstring.
    """
    hist = validate_history(history, id_col, ds_col, y_col)
    _interval_s(freq)
    _check_model(model)
    key = None
    if cache is not None:
        key = _volume_key(hist, horizon, freq, model, events, level, country, candidates,
                          seed)
        hit = cache.get(key)
        if hit is not None:
            if progress is not None:
                progress(1.0, "forecast from cache")
            return hit
    out = _volume_frame(hist, horizon, freq, model, level, seed,
                        _volume_holidays(hist, events, country), candidates, progress)
    if cache is not None and key is not None:
        cache.put(key, out)
    return out


def _volume_key(hist, horizon, freq, model, events, level, country, candidates, seed) -> str:
    return ForecastCache.key("forecast_volume", hist, horizon, freq, model, events, level,
                             country, tuple(candidates), seed)


def _volume_holidays(hist: pd.DataFrame, events, country) -> pd.DataFrame:
    years = range(hist["ds"].min().year - 1, hist["ds"].max().year + 3)
    return holidays_frame(events, country, years)


def _series_of(hist: pd.DataFrame, uid: str, horizon, freq: str):
    sub = hist[hist["unique_id"] == uid]
    ds = pd.DatetimeIndex(sub["ds"])
    return ds, sub["y"].to_numpy(float), horizon_end(ds[-1], horizon, freq)


def _volume_frame(hist, horizon, freq, model, level, seed, hol, candidates, progress=None,
                  plans=None, fits=None) -> pd.DataFrame:
    """:func:`forecast_volume`'s frame from a validated history (with the selections'
    ``plans`` and window ``fits`` per series when given)."""
    ids = hist["unique_id"].unique()
    parts, chosen, scales, selections, outliers = [], {}, {}, {}, {}
    for i, uid in enumerate(ids):
        ds, y, end = _series_of(hist, uid, horizon, freq)
        _check_model(model)
        fc = _series(ds, y, freq, end, model, level, seed, hol, candidates,
                     None if plans is None else plans[uid],
                     None if fits is None else fits.get(uid, []))
        sel = fc.attrs.get("selection")
        name = fc.attrs.get("model", model)
        outliers[uid] = list(fc.attrs.get("outliers", []))
        fc = fc.copy()
        fc.attrs = {}
        fc.insert(0, "unique_id", uid)
        parts.append(fc)
        chosen[uid] = name
        scales[uid] = sel.interval_scale if sel is not None else 1.0
        if sel is not None:
            selections[uid] = sel.as_dict()
        if progress is not None:
            progress((i + 1) / len(ids), f"forecast {uid}: {name}")
    out = pd.concat(parts, ignore_index=True)
    out.attrs["models"] = chosen
    out.attrs["interval_scale"] = scales
    out.attrs["outliers"] = outliers
    if selections:
        out.attrs["selection"] = selections
    return out


@dataclass(frozen=True)
class VolumePlan:
    """``forecast_volume(..., model="auto")`` of daily series, cut into independent fits.

    Made by :func:`plan_volume`; :attr:`jobs` lists every window fit as ``(series id,
    candidate, window)``, each run by :func:`fit_window` on ``plans[series id]`` in any
    order and process; :func:`finish_volume` then picks each series' model, fits it on
    the whole history and returns the forecast frame, equal to :func:`forecast_volume`'s.
    ``key`` is the :class:`forecast.cache.ForecastCache` key under which
    :func:`forecast_volume` stores that frame.
    """

    history: pd.DataFrame
    horizon: int | str
    freq: str
    level: float
    seed: int
    candidates: tuple[str, ...]
    hol: pd.DataFrame
    key: str
    plans: dict[str, SelectionPlan]

    @property
    def jobs(self) -> tuple[tuple[str, str, int], ...]:
        """``(series id, candidate, window)`` of every window fit."""
        return tuple((uid, m, w) for uid, p in self.plans.items() for m, w in p.jobs)


def plan_volume(history: pd.DataFrame, horizon: int | str, freq: str = "D", *,
                events: pd.DataFrame | None = None, level: float = 80,
                country: str | None = None, candidates: Sequence[str] = AUTO_CANDIDATES,
                seed: int = 0, id_col: str = "unique_id", ds_col: str = "ds",
                y_col: str = "y") -> VolumePlan:
    """Plan ``forecast_volume(history, horizon, freq, model="auto", ...)`` (same
    parameters) of daily series as independent window fits; no model is fitted here.

    Raises :class:`VolumeError` as :func:`forecast_volume` does, and for an intraday
    ``freq``.

    Examples
    --------
    >>> ds = pd.date_range("2024-01-01", periods=140, freq="D")
    >>> h = pd.DataFrame({"ds": ds, "y": 10.0 + (ds.day_of_week == 0)})
    >>> vp = plan_volume(h, 7, candidates=("seasonal_naive", "same_weekday_average"))
    >>> fits = {uid: [fit_window(vp.plans[uid], m, w) for u, m, w in vp.jobs if u == uid]
    ...         for uid in vp.plans}
    >>> fc = finish_volume(vp, fits)
    >>> fc.equals(forecast_volume(h, 7, "D", candidates=("seasonal_naive",
    ...                                                  "same_weekday_average")))
    True
    """
    hist = validate_history(history, id_col, ds_col, y_col)
    if freq not in ("D", "B"):
        raise VolumeError(f"plan_volume takes daily series (freq 'D' or 'B'), not {freq!r}")
    for m in candidates:
        _check_model(m)
    hol = _volume_holidays(hist, events, country)
    plans = {}
    for uid in hist["unique_id"].unique():
        ds, y, end = _series_of(hist, uid, horizon, freq)
        plans[str(uid)] = plan_selection(ds, y, freq, end=end, candidates=list(candidates),
                                         level=level, seed=seed, hol=hol)
    key = _volume_key(hist, horizon, freq, "auto", events, level, country, candidates, seed)
    return VolumePlan(hist, horizon, freq, float(level), int(seed), tuple(candidates), hol,
                      key, plans)


def finish_volume(plan: VolumePlan, fits: dict[str, Sequence[WindowFit]],
                  cache: ForecastCache | None = None) -> pd.DataFrame:
    """The forecast of a :func:`plan_volume` from its window fits (series id -> the
    :class:`WindowFit` of that series' jobs): each series' winner
    (:func:`pick_selection`) fitted on its whole history, the band calibrated on the
    windows. Equal to :func:`forecast_volume` with ``model="auto"`` and the plan's
    parameters; stored in ``cache`` under ``plan.key`` when given."""
    out = _volume_frame(plan.history, plan.horizon, plan.freq, "auto", plan.level,
                        plan.seed, plan.hol, plan.candidates, plans=plan.plans,
                        fits={str(k): list(v) for k, v in fits.items()})
    if cache is not None:
        cache.put(plan.key, out)
    return out
