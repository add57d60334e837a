"""Acceptance on the bundled sample: the unseen peak 2024-10-01..2024-12-31.

The baseline is computed here by hand with numpy (the last observed week repeated), not
by the package, and the actuals come straight from the sample files.
"""

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast.contacts import forecast_contacts_detail

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def peak():
    p = forecast.sample_paths()
    orders = forecast.load_orders(p.orders)
    contacts = forecast.load_contacts(p.contacts)
    events = forecast.load_events(p.events)
    res = forecast_contacts_detail(orders, contacts, events, "2024-10-01", "2024-12-31")
    daily = (contacts.groupby([contacts["ds"].dt.normalize(), "channel"])["contacts"].sum()
             .unstack())
    return orders, contacts, daily, res


def _wape(y, f):
    y, f = np.asarray(y, float), np.asarray(f, float)
    return np.abs(y - f).sum() / np.abs(y).sum()


def test_chosen_forecast_beats_last_week_by_a_quarter(peak):
    orders, _, daily, res = peak
    days = pd.date_range("2024-10-01", "2024-12-31")
    o = orders.set_index("ds")["orders"].astype(float)
    series = {"orders": (o, res.orders.set_index("ds")["yhat"])}
    for ch in ["chat", "voice", "email"]:
        series[ch] = (daily[ch], res.daily[res.daily["unique_id"] == ch].set_index("ds")["yhat"])
    for name, (hist, fc) in series.items():
        last_week = hist[(hist.index > "2024-09-23") & (hist.index <= "2024-09-30")]
        naive = np.resize(last_week.to_numpy(), days.size)  # 2024-10-01 is a Tuesday, as 09-24
        actual = hist.reindex(days).to_numpy()
        assert _wape(actual, fc.reindex(days)) <= 0.75 * _wape(actual, naive), name


def test_open_intervals_only_and_daily_totals_kept(peak):
    _, contacts, _, res = peak
    iv = res.intervals
    for ch in ["chat", "voice"]:  # open 08:00-22:00 in the sample
        hours = iv.loc[iv["unique_id"] == ch, "ds"].dt.hour
        assert hours.between(8, 21).all()
    split = iv.groupby(["unique_id", iv["ds"].dt.normalize()])["yhat"].sum()
    daily = res.daily.set_index(["unique_id", "ds"])["yhat"]
    assert split.to_numpy() == pytest.approx(daily.reindex(split.index).to_numpy(), rel=1e-9)
    assert iv["aht_s"].notna().all() and (iv["aht_s"] > 0).all()
