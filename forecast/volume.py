"""One entry point for any volume series: :func:`forecast_volume`.

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

``model="auto"`` backtests the candidates per series (:func:`forecast.backtest.wape` over
the same calendar window one year earlier when history has it, plus the most recent
window) and keeps the best. Results can be cached with :class:`forecast.cache.ForecastCache`.

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

import numpy as np
import pandas as pd

from forecast import intraday
from forecast.backtest import calibration_factor, scale_interval, wape
from forecast.cache import ForecastCache
from forecast.models import MODELS, ModelError

__all__ = [
    "AUTO_CANDIDATES",
    "VolumeError",
    "day_labels",
    "forecast_series",
    "forecast_volume",
    "holidays_frame",
    "horizon_end",
    "season_length",
    "validate_history",
]

AUTO_CANDIDATES: tuple[str, ...] = ("seasonal_naive", "same_weekday_average", "ets", "prophet")
Progress = Callable[[float, str], None]
_INTRADAY = re.compile(r"^(\d+)\s*(min|T|h|H)$")


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
                                   "lower_window": 0, "upper_window": 1}))
    if not parts:
        return pd.DataFrame(columns=["holiday", "ds", "lower_window", "upper_window"])
    out = pd.concat(parts, ignore_index=True)
    out["lower_window"] = out["lower_window"].fillna(0).astype(int).clip(upper=0)
    out["upper_window"] = out["upper_window"].fillna(0).astype(int).clip(lower=0)
    return out.sort_values("ds", kind="stable").reset_index(drop=True)


def day_labels(hol: pd.DataFrame) -> pd.Series:
    """One label per date from a holidays frame: ``event`` on its day, ``event+k``/``event-k``
    on window days; where labels overlap the one closest to its own day wins."""
    if hol is None or hol.empty:
        return pd.Series(dtype=object)
    rows = []
    for name, d, lo, up in hol[["holiday", "ds", "lower_window", "upper_window"]].itertuples(
            index=False):
        for k in range(int(lo), int(up) + 1):
            rows.append((pd.Timestamp(d) + pd.Timedelta(days=k), abs(k),
                         name if k == 0 else f"{name}{k:+d}"))
    df = pd.DataFrame(rows, columns=["date", "dist", "label"]).sort_values(["date", "dist"])
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
    if ok.sum() >= 4 * m:
        scale = 1.4826 * np.median(np.abs(z[ok] - np.median(z[ok])))
        out = ok & (np.abs(z) > max(6 * scale, 0.4))
        clean = np.where(out, np.nan, clean)
    clean = np.where(np.isnan(clean), fill, clean)
    if np.isnan(clean).any():
        s = pd.Series(clean)
        clean = s.interpolate(limit_direction="both").fillna(0.0).to_numpy()
    return grid, clean, raw, lab, m, opened


def _uplifts(raw: np.ndarray, clean: np.ndarray, lab: np.ndarray) -> dict[str, float]:
    """Median ratio actual / clean baseline per label seen in history."""
    mask = pd.notna(lab) & (clean > 0)
    if not mask.any():
        return {}
    df = pd.DataFrame({"label": lab[mask], "r": raw[mask] / clean[mask]})
    return df.groupby("label")["r"].median().to_dict()


def _forecast_daily(dates, y, freq, end, name, hol, level, seed):
    labels = day_labels(hol)
    grid, clean, raw, lab, m, opened = _daily_grid(dates, y, freq, labels)
    fut = pd.date_range(grid[-1] + pd.Timedelta(days=1), end.normalize(), freq="D")
    fut = fut[opened[fut.day_of_week]]
    if fut.size == 0:
        raise VolumeError(f"horizon ends at {end} before the first open day after {grid[-1]}")
    flab = labels.reindex(fut).to_numpy(object) if len(labels) else np.full(fut.size, None)
    up = _uplifts(raw, clean, lab)
    mult = np.array([up.get(x, 1.0) if x is not None and pd.notna(x) else 1.0 for x in flab])
    if name == "prophet":
        keep = ~np.isnan(raw)
        hist = pd.DataFrame({"ds": grid[keep], "y": raw[keep]})
        fc = MODELS[name](hist, fut, level, season_length=m, holidays=hol, seed=seed)
    else:
        hist = pd.DataFrame({"ds": grid, "y": clean})
        fc = MODELS[name](hist, fut, level, season_length=m)
        for c in ("yhat", "yhat_lo", "yhat_hi"):
            fc[c] = fc[c].to_numpy() * mult
    closed = mult == 0  # closed on every past occurrence of this label: no rows
    return fc.loc[~closed].reset_index(drop=True), flab[~closed]


def forecast_series(
    ds: pd.DatetimeIndex, y: np.ndarray, freq: str, *, end: pd.Timestamp, model: str,
    events: pd.DataFrame | None = None, level: float = 80, country: str | None = None,
    seed: int = 0, hol: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Forecast one series (open steps after ``ds[-1]`` up to ``end``) with one named model.

    Returns ``ds, yhat, yhat_lo, yhat_hi``. ``model="auto"`` selects among
    :data:`AUTO_CANDIDATES` as :func:`forecast_volume` does. For an intraday ``freq`` the
    models other than the two baselines run top-down (daily forecast split by
    :mod:`forecast.intraday`).
    Raises :class:`VolumeError` for an unknown model and :class:`ModelError` when the model
    cannot fit this series.
    """
    if model != "auto" and model not in MODELS:
        raise VolumeError(f"model must be one of {sorted(MODELS)} or 'auto', got {model!r}")
    ds = pd.DatetimeIndex(ds)
    y = np.asarray(y, dtype=float)
    if hol is None:
        years = range(ds[0].year - 1, pd.Timestamp(end).year + 2)
        hol = holidays_frame(events, country, years)
    if model == "auto":
        name, k = _select(ds, y, freq, pd.Timestamp(end), list(AUTO_CANDIDATES), level, seed,
                          hol)
        fc = forecast_series(ds, y, freq, end=end, model=name, level=level, seed=seed, hol=hol)
        fc["yhat_lo"], fc["yhat_hi"] = scale_interval(fc["yhat"], fc["yhat_lo"],
                                                      fc["yhat_hi"], k)
        return fc
    step = _interval_s(freq)
    if step is None:
        dates = ds.normalize()
        fc, _ = _forecast_daily(dates, y, freq, pd.Timestamp(end), model, hol, level, seed)
        return fc
    ser = pd.Series(y, index=ds)
    ser = ser.groupby(ser.index.floor(f"{step}s")).sum()
    if model in ("seasonal_naive", "same_weekday_average"):
        return intraday.direct_baseline(ser, step, pd.Timestamp(end), model, level)
    daily = ser.groupby(ser.index.normalize()).sum()
    last_tod = ser.index.to_series().groupby(ser.index.normalize()).max()
    last_tod = last_tod - last_tod.index
    if len(last_tod) > 7 and last_tod.iloc[-1] < last_tod.iloc[-29:-1].median():
        daily = daily.iloc[:-1]  # history ends mid-day: a partial total would bias the level
    dfc, flab = _forecast_daily(daily.index, daily.to_numpy(), "D", pd.Timestamp(end),
                                model, hol, level, seed)
    labels = day_labels(hol)
    prof = intraday.build_profile(ser, step, labels=labels)
    out = intraday.split_daily(dfc, prof, level, labels=flab)
    return out[out["ds"] <= pd.Timestamp(end)].reset_index(drop=True)


def _select(ds, y, freq, end, candidates, level, seed, hol):
    """Pick the candidate with the lowest WAPE over up to two backtest windows (the same
    calendar window a year earlier, and the most recent one). Returns the name and the
    interval calibration factor of that model on the first of those windows (the same
    season a year earlier when history has it; 1 without windows)."""
    span = pd.Timestamp(end) - ds[-1]
    cuts = []
    year_ago = ds[-1] - pd.Timedelta(days=364)
    if year_ago - ds[0] >= pd.Timedelta(days=180):
        cuts.append(year_ago)
    recent = ds[-1] - span
    if recent - ds[0] >= pd.Timedelta(days=56) and recent < ds[-1]:
        cuts.append(recent)
    if not cuts:
        return ("same_weekday_average" if "same_weekday_average" in candidates
                else candidates[0]), 1.0
    scores: dict[str, float] = {}
    kept: dict[str, tuple] = {}
    for name in candidates:
        acts, fcs = [], []
        try:
            for cut in cuts:
                tr = ds <= cut
                te = (ds > cut) & (ds <= cut + span)
                fc = forecast_series(ds[tr], y[tr], freq, end=cut + span, model=name,
                                     level=level, seed=seed, hol=hol)
                act = pd.Series(y[te], index=ds[te])
                acts.append(act.to_numpy())
                fcs.append(fc.set_index("ds").reindex(act.index).fillna(0.0))
        except ModelError:
            continue
        scores[name] = float(np.mean([wape(a, f["yhat"]) for a, f in zip(acts, fcs,
                                                                          strict=True)]))
        kept[name] = (acts[0], fcs[0])  # calibrate on the first (same-season) window
    if not scores:
        raise VolumeError("model='auto': no candidate model could fit this series")
    best = min(scores, key=scores.get)
    a, f = kept[best]
    k = calibration_factor(a, f["yhat"], f["yhat_lo"], f["yhat_hi"], level)
    return best, k


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
        <= yhat_hi``), open steps only; ``.attrs["models"]`` maps each id to the model used.
        With ``model="auto"`` the interval is calibrated on the selection backtest
        (:func:`forecast.backtest.calibration_factor`), ``.attrs["interval_scale"]`` holds
        the factor per id.

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
    if model != "auto" and model not in MODELS:
        raise VolumeError(f"model must be one of {sorted(MODELS)} or 'auto', got {model!r}")
    key = None
    if cache is not None:
        key = cache.key("forecast_volume", hist, horizon, freq, model, events, level, country,
                        tuple(candidates), seed)
        hit = cache.get(key)
        if hit is not None:
            if progress is not None:
                progress(1.0, "forecast from cache")
            return hit
    ids = hist["unique_id"].unique()
    parts, chosen, scales = [], {}, {}
    years = range(hist["ds"].min().year - 1, hist["ds"].max().year + 3)
    hol = holidays_frame(events, country, years)
    for i, uid in enumerate(ids):
        sub = hist[hist["unique_id"] == uid]
        ds = pd.DatetimeIndex(sub["ds"])
        y = sub["y"].to_numpy(float)
        end = horizon_end(ds[-1], horizon, freq)
        name, k = model, 1.0
        if model == "auto":
            name, k = _select(ds, y, freq, end, list(candidates), level, seed, hol)
        fc = forecast_series(ds, y, freq, end=end, model=name, level=level, seed=seed,
                             hol=hol)
        if k != 1.0:
            fc["yhat_lo"], fc["yhat_hi"] = scale_interval(fc["yhat"], fc["yhat_lo"],
                                                          fc["yhat_hi"], k)
        fc.insert(0, "unique_id", uid)
        parts.append(fc)
        chosen[uid] = name
        scales[uid] = k
        if progress is not None:
            progress((i + 1) / len(ids), f"forecast {uid}: {name}")
    out = pd.concat(parts, ignore_index=True)
    out.attrs["models"] = chosen
    out.attrs["interval_scale"] = scales
    if cache is not None and key is not None:
        cache.put(key, out)
    return out
