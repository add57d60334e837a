"""Rolling-origin backtests (the metrics are in :mod:`forecast.metrics`, re-exported here).

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

from forecast import volume
from forecast.metrics import (
    BacktestError,
    bias,
    calibration_factor,
    coverage,
    mase,
    scale_interval,
    wape,
    window_calibration_factor,
)

__all__ = ["BacktestError", "backtest", "bias", "calibration_factor", "coverage", "mase",
           "scale_interval", "wape", "window_calibration_factor"]


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
