"""One contact-rate path: the planner, the app's backend and ``forecast/`` give the same
contacts for the same assumptions (contact rate, order growth, automation)."""

import numpy as np
import pandas as pd
import pytest

from forecast.contacts import ContactsError, apply_assumptions, forecast_contacts_detail
from planner import pipeline
from planner.scenario import Scenario

LAG = np.array([0.2, 0.5, 0.3])
RATES = {"voice": 0.03, "email": 0.01}
START, END = "2024-10-01", "2024-10-14"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(4)
    days = pd.date_range("2024-01-01", "2024-10-31", freq="D")
    orders = pd.Series(rng.uniform(40_000, 60_000, days.size), index=days).round()
    rows = []
    hrs = np.arange(8, 20)
    prof = np.sin(np.linspace(0.3, np.pi - 0.3, hrs.size))
    prof /= prof.sum()
    for ch, rate in RATES.items():
        mean = sum(w * orders.shift(k) for k, w in enumerate(LAG)).dropna() * rate
        for d, m in mean.items():
            rows.append(pd.DataFrame({"ds": d + pd.to_timedelta(hrs, unit="h"),
                                      "channel": ch, "contacts": rng.poisson(m * prof),
                                      "aht_s": 300.0}))
    folder = tmp_path_factory.mktemp("path")
    op, cp = folder / "orders.csv", folder / "contacts.csv"
    pd.DataFrame({"ds": days.date, "orders": orders.astype(int).to_numpy()}).to_csv(
        op, index=False)
    c = pd.concat(rows, ignore_index=True)
    c["ds"] = c["ds"].dt.strftime("%Y-%m-%d %H:%M")
    c.to_csv(cp, index=False)
    return str(op), str(cp)


def _scenario(files, staff_to="mean", **extra):
    op, cp = files
    return Scenario.model_validate({
        "name": "path",
        "data": {"orders": op, "contacts": cp, "events": ""},
        "horizon": {"start": START, "end": END},
        "forecast": {"model": "same_weekday_average", "staff_to": staff_to},
        "channels": {"voice": {"model": "erlang_c", "contact_rate": {10: 0.05},
                               "automation": {10: 0.2}},
                     "email": {"model": "deferred", "response_target_s": 86400}},
        "shifts": {"solve": False},
        "order_growth": 0.1,
        **extra,
    })


@pytest.mark.parametrize("staff_to", ["mean", "upper"])
def test_planner_backend_and_forecast_give_the_same_contacts(files, staff_to):
    s = _scenario(files, staff_to)
    inputs = pipeline.load_inputs(s.data)
    planner_vol = pipeline.scenario_volumes(s, pipeline.base_forecast(s, inputs))
    col = "yhat_hi" if staff_to == "upper" else "yhat"

    # forecast/: the same assumptions given to the forecast itself (automation after)
    det = forecast_contacts_detail(inputs.orders, inputs.contacts, None, START, END,
                                   interval_s=inputs.interval_s, model="same_weekday_average",
                                   contact_rate={"voice": {10: 0.05}}, order_growth=0.1)
    fc = det.intervals
    auto = np.where(fc["unique_id"] == "voice", 0.2, 0.0)
    np.testing.assert_allclose(planner_vol["volume"].to_numpy(),
                               fc[col].to_numpy() * (1 - auto), rtol=1e-12)

    # the app's backend runs the same pipeline (its result cache and progress aside)
    from app_support import backend

    app = backend.run_scenario(s)
    np.testing.assert_allclose(app.volumes["volume"].to_numpy(),
                               planner_vol["volume"].to_numpy(), rtol=1e-12)


def test_assumed_rate_is_lagged_orders_times_the_rate(files):
    """Hand check: on an assumed day contacts = effective orders x R, and effective orders
    are the learned contacts over the learned rate; growth and automation multiply."""
    s = _scenario(files)
    inputs = pipeline.load_inputs(s.data)
    base = pipeline.base_forecast(s, inputs)
    v = base.daily[base.daily["unique_id"] == "voice"]
    eff = v["yhat"].to_numpy() / v["rate"].to_numpy()
    daily, _, orders = apply_assumptions(base.daily, None, base.orders,
                                         contact_rate={"voice": 0.05}, order_growth=0.1,
                                         automation={"voice": {10: 0.2}})
    got = daily[daily["unique_id"] == "voice"]
    assert got["yhat"].to_numpy() == pytest.approx(eff * 0.05 * 1.1 * 0.8)
    assert got["rate"].to_numpy() == pytest.approx(0.05) and got["assumed"].all()
    # the band around an assumed rate has no rate-level term: narrower than the learned
    learned = np.log(v["yhat_hi"] / v["yhat"]).to_numpy()
    assumed = np.log(got["yhat_hi"] / got["yhat"]).to_numpy()
    assert (assumed <= learned + 1e-12).all()
    assert orders["yhat"].to_numpy() == pytest.approx(base.orders["yhat"].to_numpy() * 1.1)
    # the learned rate recovers the generator's 3 % (lag shares sum to 1)
    assert v["rate"].median() == pytest.approx(0.03, rel=0.05)


def test_total_rate_keeps_the_learned_mix_and_month_keys_are_calendar_months(files):
    s = _scenario(files)
    base = pipeline.base_forecast(s, pipeline.load_inputs(s.data))
    d = base.daily
    daily, _, _ = apply_assumptions(d, None, base.orders, total_contact_rate={10: 0.08})
    r = d.pivot(index="ds", columns="unique_id", values="rate")
    got = daily.pivot(index="ds", columns="unique_id", values="rate")
    share = r["voice"] / (r["voice"] + r["email"])
    assert got["voice"].to_numpy() == pytest.approx((0.08 * share).to_numpy())
    assert (got["voice"] + got["email"]).to_numpy() == pytest.approx(0.08)
    with pytest.raises(ContactsError, match="calendar months"):
        apply_assumptions(d, None, base.orders, contact_rate={"voice": {"2024-10": 0.05}})
    with pytest.raises(ContactsError, match="unknown channel"):
        apply_assumptions(d, None, base.orders, contact_rate={"chat": 0.05})
