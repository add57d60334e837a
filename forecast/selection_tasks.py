"""The orders model's ``auto`` selection as independent tasks, run once per forecast.

:func:`forecast.contacts.forecast_contacts_detail` forecasts daily orders with
``forecast_volume(..., model="auto")`` before any channel: about forty rolling-window fits
of the candidates (ETS, Prophet, the baselines), the same for every channel. A fan-out that
forecasts channels in separate tasks would fit them once per process; instead
:func:`orders_plan` plans exactly that orders forecast (the same history, horizon, events,
level and seed, hence the same :class:`forecast.cache.ForecastCache` key), its window fits
run as tasks anywhere (:func:`fit_batches`, :func:`fit_jobs`), and
:func:`forecast.volume.finish_volume` turns the fits into the forecast frame, which seeds
each process's forecast cache under :attr:`forecast.volume.VolumePlan.key`: the contacts
forecast then reads it instead of fitting. The pieces are the ones ``forecast_volume``
itself runs, so the frame is identical.

Examples
--------
>>> import pandas as pd
>>> ds = pd.date_range("2024-01-01", periods=200, freq="D")
>>> orders = pd.DataFrame({"ds": ds, "orders": 1000 + 100 * (ds.day_of_week == 0)})
>>> plan = orders_plan(orders, "2024-07-01", "2024-07-07",
...                    candidates=("seasonal_naive", "ets", "prophet"))
>>> plan.horizon, len(plan.jobs), len(fit_batches(plan))  # 8 windows x 3, Prophet alone
('7D', 24, 16)
>>> fc = finish_volume(plan, fit_jobs(plan, plan.jobs))  # doctest: +SKIP
>>> fc.attrs["models"]  # a weekly pattern repeated exactly: the simplest ties  # doctest: +SKIP
{'orders': 'seasonal_naive'}
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from forecast.contacts import orders_series
from forecast.volume import (
    AUTO_CANDIDATES,
    VolumePlan,
    WindowFit,
    finish_volume,
    fit_window,
    plan_volume,
)

__all__ = ["ORDERS_ID", "SLOW_MODELS", "finish_volume", "fit_batches", "fit_jobs",
           "orders_plan"]

#: Series id of the orders history in the orders forecast (as the contacts forecast names it).
ORDERS_ID = "orders"
#: Candidates whose window fit costs a task of its own (a Prophet fit is about 0.4 s, an
#: ETS fit 0.1 s, a baseline a few ms): the others of a window share one task.
SLOW_MODELS: tuple[str, ...] = ("prophet",)


def orders_plan(orders: pd.DataFrame, start, end, *, events: pd.DataFrame | None = None,
                model: str = "auto", level: float = 80, country: str | None = None,
                seed: int = 0,
                candidates: Sequence[str] = AUTO_CANDIDATES) -> VolumePlan | None:
    """Plan the orders forecast of ``forecast_contacts_detail(orders, ..., events, start,
    end, model=model, level=level, country=country, seed=seed)``: daily orders before
    ``start`` forecast to ``end`` (inclusive dates). ``None`` when ``model`` is not
    ``"auto"`` (one fit, nothing to select) or no orders precede ``start`` (the contacts
    forecast reports that itself).

    The orders history and horizon come from :func:`forecast.contacts.orders_series`, the
    rule the contacts forecast uses, so the plan's key is the one it looks up.
    """
    if model != "auto":
        return None
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    o = orders[pd.to_datetime(orders["ds"]) < start]
    if o.empty:
        return None
    oh, horizon = orders_series(o, end)
    return plan_volume(oh, horizon, "D", events=events, level=level,
                       country=country, candidates=candidates, seed=seed)


def fit_batches(plan: VolumePlan) -> list[tuple[tuple[str, str, int], ...]]:
    """The plan's jobs in batches of about equal cost, one task each: every fit of a
    :data:`SLOW_MODELS` candidate alone, the other candidates of a window together."""
    slow = [(j,) for j in plan.jobs if j[1] in SLOW_MODELS]
    rest: dict[tuple[str, int], list] = {}
    for j in plan.jobs:
        if j[1] not in SLOW_MODELS:
            rest.setdefault((j[0], j[2]), []).append(j)
    return slow + [tuple(v) for v in rest.values()]


def fit_jobs(plan: VolumePlan, jobs: Sequence[tuple[str, str, int]]
             ) -> dict[str, list[WindowFit]]:
    """:func:`forecast.volume.fit_window` of each job, by series id (the form
    :func:`forecast.volume.finish_volume` takes; fits of several calls can be joined by
    concatenating each series' list)."""
    out: dict[str, list[WindowFit]] = {}
    for uid, model, window in jobs:
        out.setdefault(uid, []).append(fit_window(plan.plans[uid], model, window))
    return out
