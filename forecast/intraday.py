"""Intraday profiles: split daily totals into intervals, keeping closed hours closed.

A profile holds, for each weekday, the share of the day's volume in every interval of the
day, learned from the last ``n_weeks`` weeks of interval history:

* per weekday, the ratio estimator: each slot's arrivals over the weekday's arrivals, all
  its days together (unbiased where a slot holds a few arrivals); event/holiday days are
  left out, and so is an incident day whose counts reject a robust pilot shape (trimmed
  mean of the daily shares) at 0.1 % (Pearson chi-square, scaled by the median day's);
* each weekday's shape shrinks toward the shape of all days by empirical Bayes
  (:func:`shrink_profiles`): by the share of the spread between weekdays that counting
  noise does not explain. A small queue's weekdays, whose differences are mostly noise,
  take the common shape, estimated from several times more days; a large queue's weekdays
  keep their own;
* a slot is open on a weekday when it had rows on at least half of that weekday's days;
  closed slots get share 0 and no forecast rows;
* special days (an event or holiday label seen in history) keep their own open hours
  (e.g. New Year's Eve closing early) and get a shape of their own from their past
  occurrences only where those reject the ordinary weekday shape (Pearson chi-square at
  0.1 %, counts scaled by ``phi``); otherwise the weekday shape is used on their hours,
  which keeps one or two noisy occurrences from bending the split;
* the dispersion ``phi = sum (y - p*total)^2 / sum p*total`` (over-dispersed Poisson,
  method of moments) sizes the interval noise on top of the daily uncertainty.

:func:`split_daily` multiplies each day's ``yhat`` by the shares (so the intervals of a
day sum exactly to the daily ``yhat``) and widens the band per interval:
``lo = yhat - sqrt((yhat - p*lo_day)^2 + z^2 phi yhat)`` and likewise for ``hi``.

References
----------
Ibrahim, Ye, L'Ecuyer & Shen (2016), "Modeling and forecasting call center arrivals: A
literature survey and a case study", Int. J. Forecasting 32(3) (top-down: daily total times
intraday proportions).

Examples
--------
>>> import numpy as np, pandas as pd
>>> ds = pd.date_range("2024-01-01 09:00", periods=4 * 28, freq="30min")
>>> ds = ds[(ds.hour >= 9) & (ds.hour < 11)]
>>> s = pd.Series(np.tile([10.0, 20, 30, 40], len(ds) // 4), index=ds)
>>> prof = build_profile(s, 1800)
>>> day = pd.DataFrame({"ds": [pd.Timestamp("2024-03-01")], "yhat": [200.0],
...                     "yhat_lo": [180.0], "yhat_hi": [220.0]})
>>> split_daily(day, prof, 80)["yhat"].round(6).tolist()
[20.0, 40.0, 60.0, 80.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from forecast.frames import BAND, require
from forecast.models import MODELS, ModelError

__all__ = ["IntradayError", "IntradayProfile", "build_profile", "direct_baseline",
           "shrink_profiles", "split_daily", "split_intraday"]


#: Below this share of the window's contacts in the slots that have rows on half the days,
#: a series counts as sparse (see :func:`build_profile`).
SPARSE_HELD = 0.9


class IntradayError(ValueError):
    """Bad intraday input (interval length, empty history, missing columns)."""


@dataclass(frozen=True)
class IntradayProfile:
    """Shares of the daily volume per interval.

    Attributes
    ----------
    interval_s : int
        Interval length in seconds.
    shares : ndarray, shape (7, 86400 // interval_s)
        Row = weekday (Monday 0); each open weekday's row sums to 1, closed slots are 0.
    special : Mapping[str, ndarray]
        Own profiles of labelled special days whose history rejects the weekday shape.
    open_slots : ndarray of bool, shape (7, 86400 // interval_s)
        Slots open per weekday (rows on at least half of that weekday's days); an open slot
        gets a forecast row even when its share is 0.
    special_open : Mapping[str, ndarray]
        Open slots of each special-day profile.
    phi : float
        Over-dispersion of interval counts around ``share * daily total`` (1 = Poisson).
    """

    interval_s: int
    shares: np.ndarray
    special: Mapping[str, np.ndarray] = field(default_factory=dict)
    phi: float = 1.0
    open_slots: np.ndarray | None = None
    special_open: Mapping[str, np.ndarray] = field(default_factory=dict)


def _day_matrix(series: pd.Series, interval_s: int):
    """Days x slots matrix of counts (0 where no row) and a mask of rows present."""
    idx = pd.DatetimeIndex(series.index)
    days = idx.normalize()
    slot = ((idx - days).total_seconds() // interval_s).astype(int)
    row, uniq = pd.factorize(days, sort=True)
    n_slots = 86400 // interval_s
    mat = np.zeros((uniq.size, n_slots))
    present = np.zeros((uniq.size, n_slots), dtype=bool)
    np.add.at(mat, (row, slot), series.to_numpy(float))
    present[row, slot] = True
    return pd.DatetimeIndex(uniq), mat, present


@lru_cache(maxsize=4096)
def _chi2_999(dof: int) -> float:
    """The 0.1 % critical value of chi-square with ``dof`` degrees of freedom (the same few
    are asked for every series and special day)."""
    return float(stats.chi2.ppf(0.999, dof))


def _trimmed_mean(a: np.ndarray) -> np.ndarray:
    if a.shape[0] >= 4:
        s = np.sort(a, axis=0)
        return s[1:-1].mean(axis=0)
    return a.mean(axis=0)


def _normalise(p: np.ndarray) -> np.ndarray:
    tot = p.sum(axis=-1, keepdims=True)
    return np.divide(p, tot, out=np.zeros_like(p), where=tot > 0)


def _day_chi2(mat: np.ndarray, tot: np.ndarray, p: np.ndarray):
    """Pearson chi-square of each day's counts against shares ``p`` (one row per day) and
    its degrees of freedom (slots with an expected count, minus one)."""
    e = p * tot[:, None]
    ok = e > 0
    x2 = np.where(ok, (mat - e) ** 2 / np.where(ok, e, 1.0), 0.0).sum(axis=1)
    return x2, np.maximum(ok.sum(axis=1) - 1, 0)


def shrink_profiles(own: np.ndarray, base: np.ndarray, n: np.ndarray, phi: float = 1.0
                    ) -> np.ndarray:
    """Shrink profiles ``own`` (one row per group, e.g. weekday) estimated from ``n``
    arrivals each toward ``base`` (same shape) by empirical Bayes (method of moments).

    Under (over-dispersed) multinomial counting noise row ``i`` of ``own`` scatters around
    its true shape with total variance ``v_i = phi * sum base_i (1 - base_i) / n_i``; the
    spread ``D_i = sum (own_i - base_i)^2`` estimates ``v_i + tau^2``, where ``tau^2`` is
    the true gap between a group's shape and the common one, estimated once over all
    groups as ``max(mean(D_i - v_i), 0)``. Row ``i`` keeps the weight
    ``tau^2 / (tau^2 + v_i)`` on its own shape (James & Stein 1961; Efron & Morris 1975,
    "Data analysis using Stein's estimator and its generalizations", JASA 70): a small
    queue's weekdays, whose differences are mostly noise, take the common shape; a large
    queue's weekdays keep their own. Rows with ``n_i = 0`` come back as zeros.

    Examples
    --------
    >>> base = np.full((2, 4), 0.25)
    >>> own = np.array([[0.3, 0.2, 0.3, 0.2], [0.2, 0.3, 0.2, 0.3]])
    >>> shrink_profiles(own, base, np.array([40.0, 40.0])).round(3).tolist()[0]
    [0.25, 0.25, 0.25, 0.25]
    >>> shrink_profiles(own, base, np.array([1e5, 1e5])).round(3).tolist()[0]
    [0.3, 0.2, 0.3, 0.2]
    """
    n = np.asarray(n, float)
    has = (n > 0) & (base.sum(axis=1) > 0)
    if not has.any():
        return np.zeros_like(own)
    v = phi * (base * (1 - base)).sum(axis=1) / np.where(has, n, 1.0)
    dev = ((own - base) ** 2).sum(axis=1)
    tau2 = max(float(np.mean((dev - v)[has])), 0.0)
    w = np.where(tau2 + v > 0, tau2 / np.maximum(tau2 + v, 1e-300), 1.0)
    return _normalise(np.where(has[:, None], base + w[:, None] * (own - base), 0.0))

def build_profile(series: pd.Series, interval_s: int, *, labels: pd.Series | None = None,
                  n_weeks: int = 8) -> IntradayProfile:
    """Learn weekday profiles (and special-day profiles) from an interval series.

    Parameters
    ----------
    series : Series
        Counts indexed by interval start (one series; gaps = closed or no contacts).
    interval_s : int
        Interval length in seconds (divides a day). Timestamps are floored to it.
    labels : Series, optional
        Date -> event label (from :func:`forecast.volume.day_labels`); labelled days are left
        out of the weekday profiles and form the special profiles.
    n_weeks : int
        Recent weeks used for the weekday profiles.

    Returns
    -------
    IntradayProfile

    Raises
    ------
    IntradayError
        ``interval_s`` does not divide a day, or no day with volume in the window.
    """
    interval_s = int(interval_s)
    if interval_s <= 0 or 86400 % interval_s:
        raise IntradayError(f"interval_s must divide 86400, got {interval_s!r}")
    s = series.groupby(pd.DatetimeIndex(series.index).floor(f"{interval_s}s")).sum()
    days, mat, present = _day_matrix(s, interval_s)
    lab = (labels.reindex(days).to_numpy(object) if labels is not None and len(labels)
           else np.full(days.size, None))
    is_lab = pd.notna(lab)
    tot = mat.sum(axis=1)
    recent = days > days[-1] - pd.Timedelta(weeks=n_weeks)
    use = recent & ~is_lab & (tot > 0)
    if not use.any():
        raise IntradayError("no unlabelled day with volume in the profile window")
    share = mat / np.where(tot > 0, tot, 1.0)[:, None]
    n_slots = mat.shape[1]
    open_slots = np.zeros((7, n_slots), dtype=bool)
    wd = days.day_of_week.to_numpy()
    for d in range(7):
        sel = use & (wd == d)
        if sel.any():
            open_slots[d] = present[sel].mean(axis=0) >= 0.5
    # a sparse series (a small queue whose file has rows only where contacts came: under
    # one contact a day per slot that ever saw one, or most contacts outside the slots with
    # rows on half the days) cannot tell closed slots by missing rows: its open hours are
    # the span of the slots that saw contacts, and its shape is shrunk toward an even
    # spread over them (step 3), as far as the counts allow
    seen = mat[use].sum(axis=0) > 0
    held = float((mat[use] * open_slots[wd[use]]).sum())
    sparse = (held < SPARSE_HELD * float(tot[use].sum())
              or float(np.median(tot[use])) < seen.sum())  # under one contact a slot a day
    if sparse:
        first, last = np.flatnonzero(seen)[[0, -1]]
        span = np.zeros(n_slots, dtype=bool)
        span[first:last + 1] = True
        for d in range(7):
            if (use & (wd == d)).any():
                open_slots[d] = span
    # 1. a robust pilot (trimmed mean of the daily share vectors) finds incident days: a
    # day whose counts reject the pilot shape at 0.1 % (Pearson chi-square, scaled by the
    # median day's dispersion) leaves the profile
    pilot = np.zeros((7, n_slots))
    for d in range(7):
        sel = use & (wd == d)
        if sel.any():
            pilot[d] = np.where(open_slots[d], _trimmed_mean(share[sel]), 0.0)
    pilot = _normalise(pilot)
    x2, dof = _day_chi2(mat, tot, pilot[wd])
    ok_d = use & (dof > 0)
    disp = float(np.median(x2[ok_d] / dof[ok_d])) if ok_d.any() else 1.0
    crit = stats.chi2.ppf(0.999, np.maximum(dof, 1))
    use = use & ~(x2 / max(disp, 1.0) > crit)
    # 2. per weekday, the ratio estimator (counts over arrivals, all days pooled): unbiased
    # where a slot holds a few arrivals, unlike a trimmed mean of noisy shares
    own = _normalise(np.stack([np.where(open_slots[d], mat[use & (wd == d)].sum(axis=0), 0.0)
                               for d in range(7)]))
    exp = own[wd[use]] * tot[use, None]
    den = exp.sum()
    phi = float(max(((mat[use] - exp) ** 2).sum() / den, 1.0)) if den > 0 else 1.0
    # 3. empirical Bayes: each weekday's shape shrinks toward the shape of all days by the
    # share of its spread that the counting noise does not explain
    pooled = np.ones(n_slots) if sparse else mat[use].sum(axis=0)
    bases = _normalise(np.where(open_slots, pooled[None, :], 0.0))
    n_d = np.array([tot[use & (wd == d)].sum() for d in range(7)])
    shares = shrink_profiles(own, bases, n_d, phi)
    special, special_open = {}, {}
    for name in pd.unique(lab[is_lab & (tot > 0)]):
        sel = (lab == name) & (tot > 0)
        opened = present[sel].mean(axis=0) >= 0.5
        special_open[str(name)] = opened
        # keep a shape of its own only where the occurrences reject the ordinary weekday
        # shape (Pearson chi-square on the over-dispersed counts, 0.1 % level)
        base = _normalise(shares[wd[sel]] * opened)
        e = base * tot[sel, None]
        ok = e > 0
        x2 = (((mat[sel] - e) ** 2)[ok] / e[ok]).sum() / phi
        dof = max(int(ok.sum()) - int(sel.sum()), 1)
        if x2 > _chi2_999(dof):
            special[str(name)] = _normalise(np.where(opened, share[sel].mean(axis=0), 0.0))
    return IntradayProfile(interval_s, shares, special, phi, open_slots, special_open)


def split_daily(daily: pd.DataFrame, profile: IntradayProfile, level: float = 80, *,
                labels=None) -> pd.DataFrame:
    """Split a daily forecast ``ds, yhat, yhat_lo, yhat_hi`` into open intervals.

    ``labels`` (one per row of ``daily``, None for ordinary days) selects a special-day
    profile when the profile has one. Returns ``ds, yhat, yhat_lo, yhat_hi`` per open
    interval; the intervals of each day sum to that day's ``yhat``.
    """
    require(daily, ("ds", *BAND), "daily forecast", IntradayError)
    if not 0 < level < 100:
        raise IntradayError(f"level must be in (0, 100), got {level!r}")
    days = pd.DatetimeIndex(daily["ds"]).normalize()
    p = profile.shares[days.day_of_week]
    base_open = profile.open_slots if profile.open_slots is not None else profile.shares > 0
    opened = base_open[days.day_of_week]
    if labels is not None:
        for i, name in enumerate(labels):
            if name is None or pd.isna(name):
                continue
            key = str(name)
            if key in profile.special:
                p[i] = profile.special[key]
                opened[i] = profile.special_open.get(key, p[i] > 0)
            elif key in profile.special_open:
                opened[i] = profile.special_open[key]
                p[i] = _normalise(p[i] * opened[i])
    empty = p.sum(axis=1) == 0
    if empty.any():  # a weekday never open in the window: use the average open profile
        p[empty] = _normalise(profile.shares.sum(axis=0))
        opened[empty] = p[empty] > 0
    y = daily["yhat"].to_numpy(float)[:, None]
    lo_d = daily["yhat_lo"].to_numpy(float)[:, None]
    hi_d = daily["yhat_hi"].to_numpy(float)[:, None]
    yhat = p * y
    z2 = stats.norm.ppf(0.5 + level / 200) ** 2
    noise = z2 * profile.phi * yhat
    lo = yhat - np.sqrt((yhat - p * lo_d) ** 2 + noise)
    hi = yhat + np.sqrt((p * hi_d - yhat) ** 2 + noise)
    r, c = np.nonzero(opened)
    ds = days[r] + pd.to_timedelta(c * profile.interval_s, unit="s")
    return pd.DataFrame({"ds": pd.DatetimeIndex(ds).as_unit("ns"), "yhat": yhat[r, c],
                         "yhat_lo": np.maximum(lo[r, c], 0.0),
                         "yhat_hi": hi[r, c]})


def split_intraday(daily_forecast: pd.DataFrame, history: pd.DataFrame, interval_s: int,
                   level: float = 80, *, labels: pd.Series | None = None,
                   n_weeks: int = 8) -> pd.DataFrame:
    """Split a long daily forecast (``unique_id, ds, yhat, yhat_lo, yhat_hi``) per series
    with profiles learned from the long interval ``history`` (``unique_id, ds, y``).

    Returns the interval forecast frame ``unique_id, ds, yhat, yhat_lo, yhat_hi``.
    Raises :class:`IntradayError` when a series has no interval history.
    """
    # each series' rows by one grouping (not a mask over the whole history per series)
    rows = history.groupby("unique_id", sort=False, observed=True).indices
    y_all = history["y"].to_numpy(float)
    ds_all = pd.DatetimeIndex(history["ds"])
    parts = []
    for uid, day in daily_forecast.groupby("unique_id", sort=False):
        pos = rows.get(uid)
        if pos is None or pos.size == 0:
            raise IntradayError(f"no interval history for unique_id {uid!r}")
        prof = build_profile(pd.Series(y_all[pos], index=ds_all[pos]),
                             interval_s, labels=labels, n_weeks=n_weeks)
        lab = (labels.reindex(pd.DatetimeIndex(day["ds"]).normalize()).to_numpy(object)
               if labels is not None and len(labels) else None)
        out = split_daily(day, prof, level, labels=lab)
        out.insert(0, "unique_id", uid)
        parts.append(out)
    return pd.concat(parts, ignore_index=True)


def direct_baseline(series: pd.Series, interval_s: int, end: pd.Timestamp, model: str,
                    level: float = 80, n_weeks: int = 8) -> pd.DataFrame:
    """A baseline (``seasonal_naive``/``same_weekday_average``) run directly on the open
    interval grid (weekday x slot open in recent weeks); missing open slots of a day with
    rows count as 0, an open day without any row takes the same slots 1-3 weeks around."""
    if model not in ("seasonal_naive", "same_weekday_average"):
        raise ModelError(f"direct intraday models are the two baselines, got {model!r}")
    days, mat, present = _day_matrix(series, interval_s)
    recent = days > days[-1] - pd.Timedelta(weeks=n_weeks)
    wd = days.day_of_week.to_numpy()
    open_ws = np.zeros((7, mat.shape[1]), dtype=bool)
    for d in range(7):
        sel = recent & (wd == d)
        if sel.any():
            open_ws[d] = present[sel].mean(axis=0) >= 0.5
    step = pd.Timedelta(seconds=interval_s)
    full = pd.date_range(days[0], days[-1] + pd.Timedelta(days=1) - step, freq=step)
    slot = ((full - full.normalize()).total_seconds() // interval_s).astype(int)
    grid = full[open_ws[full.day_of_week, slot]]
    y = series.groupby(pd.DatetimeIndex(series.index).floor(step)).sum().reindex(grid)
    fut = pd.date_range(days[-1] + pd.Timedelta(days=1), end, freq=step)
    fslot = ((fut - fut.normalize()).total_seconds() // interval_s).astype(int)
    fut = fut[open_ws[fut.day_of_week, fslot]]
    m = int(open_ws.sum())
    v = y.fillna(0.0).to_numpy()
    # a whole open day without rows (a holiday, a data gap) is not a day of zero demand:
    # it takes the median of the same slot 1-3 weeks around it
    gone = ~grid.normalize().isin(days)
    if gone.any() and m > 0:
        cols = []
        for k in (1, 2, 3):
            for sh in (m * k, -m * k):
                c = np.full(v.size, np.nan)
                if 0 < sh < v.size:
                    c[sh:] = np.where(gone[:-sh], np.nan, v[:-sh])
                elif 0 < -sh < v.size:
                    c[:sh] = np.where(gone[-sh:], np.nan, v[-sh:])
                cols.append(c)
        stack = np.stack(cols)
        has = np.isfinite(stack).any(axis=0)
        fill = np.nanmedian(np.where(has, stack, 0.0), axis=0)
        v = np.where(gone, fill, v)
    hist = pd.DataFrame({"ds": grid, "y": v})
    return MODELS[model](hist, fut, level, season_length=m)
