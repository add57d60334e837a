"""Accuracy metrics and rolling-origin backtests.

Metrics (all on arrays of actuals ``y`` and forecasts ``yhat`` of the same shape):

* ``wape = sum|y - yhat| / sum|y|`` (weighted absolute percentage error, a share);
* ``mase = mean|y - yhat| / mean|y_t - y_{t-m}|`` with the in-sample seasonal-naive error
  as the scale (Hyndman & Koehler 2006);
* ``bias = sum(yhat - y) / sum(y)`` (positive: over-forecast);
* ``coverage`` = share of actuals with ``yhat_lo <= y <= yhat_hi``.

:func:`backtest` refits a model at ``n_windows`` origins (each window the ``horizon`` just
after its cutoff, the last window ending at the end of history) and returns one row per
series and model with those metrics, so every model is compared with the baselines on the
same windows.

Examples
--------
>>> wape([10, 20, 30], [12, 18, 30])
0.06666666666666667
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["BacktestError", "backtest", "bias", "calibration_factor", "coverage", "mase",
           "scale_interval", "wape", "window_calibration_factor"]


class BacktestError(ValueError):
    """Invalid backtest input (too short history, unknown model, bad window count)."""


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def wape(y, yhat) -> float:
    """Weighted absolute percentage error ``sum|y - yhat| / sum|y|`` (share, NaN if sum 0)."""
    y, yhat = _arr(y), _arr(yhat)
    den = np.abs(y).sum()
    return float(np.abs(y - yhat).sum() / den) if den > 0 else float("nan")


def bias(y, yhat) -> float:
    """Relative bias ``sum(yhat - y) / sum(y)`` (share; > 0 means over-forecast)."""
    y, yhat = _arr(y), _arr(yhat)
    den = y.sum()
    return float((yhat - y).sum() / den) if den != 0 else float("nan")


def mase(y, yhat, train, season_length: int) -> float:
    """Mean absolute scaled error against the in-sample seasonal-naive MAE of ``train``."""
    y, yhat, train = _arr(y), _arr(yhat), _arr(train)
    m = int(season_length)
    if train.size <= m:
        raise BacktestError(f"mase: train needs more than season_length={m} values")
    scale = np.abs(train[m:] - train[:-m]).mean()
    return float(np.abs(y - yhat).mean() / scale) if scale > 0 else float("nan")


def coverage(y, lo, hi) -> float:
    """Share of ``y`` inside ``[lo, hi]``."""
    y, lo, hi = _arr(y), _arr(lo), _arr(hi)
    return float(((y >= lo) & (y <= hi)).mean()) if y.size else float("nan")


def calibration_factor(y, yhat, lo, hi, level: float = 80, *, bounds=(0.5, 4.0)) -> float:
    """Factor ``k`` that makes the log-scale band ``yhat * (lo/yhat)^k .. yhat * (hi/yhat)^k``
    cover ``level`` percent of the backtest actuals ``y`` (split-conformal on the ratio of
    each log error to its own side's log half-width; Angelopoulos & Bates 2021, sec. 1).

    Points with ``y <= 0`` or a zero half-width are ignored; returns 1 with fewer than 10
    points. The result is clipped to ``bounds``.
    """
    y, yhat, lo, hi = (_arr(v) for v in (y, yhat, lo, hi))
    ok = (y > 0) & (yhat > 0) & (lo > 0) & (hi > yhat) & (lo < yhat)
    if ok.sum() < 10:
        return 1.0
    e = np.log(y[ok] / yhat[ok])
    half = np.where(e >= 0, np.log(hi[ok] / yhat[ok]), np.log(yhat[ok] / lo[ok]))
    r = np.abs(e) / half
    n = r.size
    q = min(1.0, np.ceil((n + 1) * level / 100) / n)
    return float(np.clip(np.quantile(r, q), *bounds))


def window_calibration_factor(y, yhat, lo, hi, window, level: float = 80, *,
                              z: float = 1.96, min_windows: int = 2,
                              bounds=(0.5, 4.0)) -> float:
    """Calibration factor from several backtest windows, applied only where they show a
    miscalibration beyond their own sampling error.

    Days of one window share its level error (a rate or orders level that is off stays off
    for weeks), so the window, not the day, is the independent unit: each window ``w`` gives
    its coverage ``c_w`` (share of its actuals inside ``[lo, hi]``), and the band is judged
    off when the nominal share ``level / 100`` lies outside ``mean(c) +- z sd(c) /
    sqrt(n)`` (``n`` windows, ``sd`` with ``n - 1``). Then the pooled
    :func:`calibration_factor` of all points is returned, else 1.

    Parameters
    ----------
    y, yhat, lo, hi : array-like
        Backtest actuals, forecasts and band, all windows stacked.
    window : array-like
        Window label of each point (e.g. the origin date).
    level : float
        Nominal coverage in percent.
    z : float
        Normal quantile of the check (1.96: two-sided 95 %).
    min_windows : int
        Fewer windows than this: 1 (no evidence either way).
    bounds : (float, float)
        Clip of the factor, as in :func:`calibration_factor`.

    Returns
    -------
    float
        Factor ``k`` for :func:`scale_interval` (1 = keep the band).

    Examples
    --------
    Four windows of ten points each, all inside the band: coverage 1 with zero spread is
    off the nominal 80 %, so the band is narrowed to the pooled conformal quantile.

    >>> y = np.tile(np.linspace(101, 110, 10), 4)
    >>> k = window_calibration_factor(y, np.full(40, 100.0), np.full(40, 80.0),
    ...                               np.full(40, 125.0), np.repeat(range(4), 10))
    >>> round(k, 3)
    0.5
    """
    y, yhat, lo, hi = (_arr(v) for v in (y, yhat, lo, hi))
    win = np.asarray(window)
    if not (y.shape == yhat.shape == lo.shape == hi.shape == win.shape):
        raise BacktestError("window_calibration_factor: y, yhat, lo, hi and window must "
                            f"have one shape, got {[a.shape for a in (y, yhat, lo, hi, win)]}")
    ok = np.isfinite(y) & np.isfinite(yhat) & np.isfinite(lo) & np.isfinite(hi)
    inside = pd.Series(((y >= lo) & (y <= hi))[ok].astype(float))
    cov_w = inside.groupby(win[ok]).mean()
    n = cov_w.size
    if n < max(min_windows, 2):
        return 1.0
    se = float(cov_w.std(ddof=1)) / np.sqrt(n)
    if abs(float(cov_w.mean()) - level / 100) <= z * se:
        return 1.0
    return calibration_factor(y[ok], yhat[ok], lo[ok], hi[ok], level, bounds=bounds)


def scale_interval(yhat, lo, hi, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Scale a band's log half-widths by ``k`` (see :func:`calibration_factor`)."""
    yhat, lo, hi = _arr(yhat), _arr(lo), _arr(hi)
    safe = np.maximum(yhat, 1e-12)
    lo_n = np.where(lo > 0, safe * (np.maximum(lo, 1e-12) / safe) ** k, 0.0)
    hi_n = np.where(yhat > 0, safe * (np.maximum(hi, safe) / safe) ** k, hi * k)
    return np.minimum(lo_n, yhat), np.maximum(hi_n, yhat)


def backtest(
    history: pd.DataFrame,
    horizon: int | str,
    freq: str,
    model: str | Sequence[str] = ("seasonal_naive", "same_weekday_average", "ets"),
    n_windows: int = 3,
    *,
    events: pd.DataFrame | None = None,
    level: float = 80,
    step: int | str | None = None,
    country: str | None = None,
    id_col: str = "unique_id",
    ds_col: str = "ds",
    y_col: str = "y",
    progress: Callable[[float, str], None] | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest of one or more models on every series of ``history``.

    Parameters
    ----------
    history : DataFrame
        Long frame ``unique_id, ds, y`` (names configurable); same contract as
        :func:`forecast.volume.forecast_volume`.
    horizon : int or str
        Steps at ``freq`` or a duration (``"28D"``) evaluated after each cutoff.
    freq : str
        ``"D"``, ``"B"`` or an intraday frequency (``"30min"``).
    model : str or sequence of str
        Model names from :data:`forecast.models.MODELS` (or ``"auto"``).
    n_windows : int
        Number of origins; the last window ends at the last timestamp of history and the
        origins are ``step`` apart (default ``step = horizon``, non-overlapping windows).
        For intraday ``freq`` each origin is moved to the end of its day.
    events, level, country
        As in :func:`forecast.volume.forecast_volume`.

    Returns
    -------
    DataFrame
        One row per ``unique_id, model`` with ``wape, mase, bias, coverage`` (shares;
        MASE scaled by the seasonal-naive MAE of each window's training data, averaged over
        windows), ``n_windows`` and ``n_points``; WAPE, bias and coverage pool all windows.
        ``model_used`` names the model each window actually ran (for ``"auto"``, its pick
        at every window, e.g. ``"ets x2, prophet x1"``); for ``"auto"``, ``margin`` and
        ``stability`` are the mean over windows of its selection's margin and stability
        (:class:`forecast.volume.Selection`), NaN for the other models.

    Raises
    ------
    BacktestError
        ``n_windows < 1`` or history too short for the windows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> ds = pd.date_range("2024-01-01", periods=140, freq="D")
    >>> h = pd.DataFrame({"unique_id": "a", "ds": ds, "y": 100 + 10 * (ds.day_of_week == 0)})
    >>> backtest(h, 7, "D", "seasonal_naive", 2)[["model", "wape"]].round(3).values.tolist()
    [['seasonal_naive', 0.0]]
    """
    from forecast import volume

    if n_windows < 1:
        raise BacktestError(f"n_windows must be >= 1, got {n_windows!r}")
    models = [model] if isinstance(model, str) else list(model)
    if not models:
        raise BacktestError("model must name at least one model")
    hist = volume.validate_history(history, id_col, ds_col, y_col)
    rows = []
    ids = hist["unique_id"].unique()
    total = len(ids) * len(models) * n_windows
    done = 0
    for uid in ids:
        sub = hist[hist["unique_id"] == uid]
        ds = pd.DatetimeIndex(sub["ds"])
        y = sub["y"].to_numpy(float)
        last = ds[-1]
        span = volume.horizon_end(last, horizon, freq) - last
        stride = span if step is None else volume.horizon_end(last, step, freq) - last
        if freq not in ("D", "B"):  # intraday: whole days
            span = pd.Timedelta(days=max(1, span.days))
            stride = pd.Timedelta(days=max(1, stride.days))
        cutoffs = [last - span - stride * k for k in range(n_windows)][::-1]
        if freq not in ("D", "B"):  # intraday: cut at the end of a day, test whole days
            cutoffs = [c.normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
                       for c in cutoffs]
        if cutoffs[0] <= ds[0]:
            raise BacktestError(
                f"history of {uid!r} too short for {n_windows} windows of {horizon!r}")
        for name in models:
            ys, fs, los, his, mases, used, sels = [], [], [], [], [], [], []
            for cut in cutoffs:
                train = ds <= cut
                test = (ds > cut) & (ds <= cut + span)
                fc = volume.forecast_series(
                    ds[train], y[train], freq, end=cut + span, model=name, events=events,
                    level=level, country=country)
                act = pd.Series(y[test], index=ds[test])
                used.append(fc.attrs.get("model", name))
                if fc.attrs.get("selection") is not None:
                    sels.append(fc.attrs["selection"])
                fc = fc.set_index("ds").reindex(act.index)
                ok = fc["yhat"].notna().to_numpy()
                if ok.sum() == 0:
                    continue
                a = act.to_numpy()[ok]
                ys.append(a)
                fs.append(fc["yhat"].to_numpy()[ok])
                los.append(fc["yhat_lo"].to_numpy()[ok])
                his.append(fc["yhat_hi"].to_numpy()[ok])
                m = volume.season_length(ds[train], freq)
                mases.append(mase(a, fs[-1], y[train], m))
                done += 1
                if progress is not None:
                    progress(done / total, f"backtest {uid} {name} {cut.date()}")
            if not ys:
                continue
            y_all, f_all = np.concatenate(ys), np.concatenate(fs)
            rows.append({
                "unique_id": uid, "model": name,
                "wape": wape(y_all, f_all),
                "mase": (float(np.nanmean(mases)) if np.isfinite(mases).any()
                         else float("nan")),
                "bias": bias(y_all, f_all),
                "coverage": coverage(y_all, np.concatenate(los), np.concatenate(his)),
                "n_windows": len(ys), "n_points": int(y_all.size),
                "model_used": ", ".join(f"{m} x{used.count(m)}"
                                        for m in sorted(set(used), key=used.index)),
                "margin": (float(np.mean([s.margin for s in sels])) if sels
                           else float("nan")),
                "stability": (float(np.mean([s.stability for s in sels])) if sels
                              else float("nan")),
            })
    return pd.DataFrame(rows, columns=["unique_id", "model", "wape", "mase", "bias",
                                       "coverage", "n_windows", "n_points", "model_used",
                                       "margin", "stability"])
