"""Accuracy metrics of a forecast against actuals, and the band's calibration.

* ``wape = sum|y - yhat| / sum|y|`` (weighted absolute percentage error, a share);
* ``mase = mean|y - yhat| / mean|y_t - y_{t-m}|`` with the in-sample seasonal-naive error
  as the scale (Hyndman & Koehler 2006);
* ``bias = sum(yhat - y) / sum(y)`` (positive: over-forecast);
* ``coverage`` = share of actuals with ``yhat_lo <= y <= yhat_hi``.

The models' selection (:mod:`forecast.volume`) and the rolling-origin backtest
(:mod:`forecast.backtest`) both score with these.

Examples
--------
>>> wape([10, 20, 30], [12, 18, 30])
0.06666666666666667
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BacktestError", "bias", "calibration_factor", "coverage", "mase",
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
