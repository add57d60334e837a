"""The bundled sample reproduces its own targets and is reproducible.

The targets come from the design notes' reference numbers (contact rate per month in Q4
2022 and Q4 2023, chat about half) and from data/README.md (lag shape, opening hours).
Everything here is measured from the committed files with plain pandas/scipy, not with the
generator's code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import nnls

from forecast import load_contacts, load_events, load_orders, sample_paths

DATA = Path(__file__).resolve().parent.parent / "data"

# Reference numbers from the design notes (public talk): measured contact rate per order, %.
REFERENCE_RATE_PCT = {
    "2022-10": 6.5, "2022-11": 6.9, "2022-12": 6.4,
    "2023-10": 4.22, "2023-11": 4.15, "2023-12": 4.98,
}
# Lag shape documented in data/README.md (share of an order day's contacts k days later).
DOCUMENTED_LAG = np.array([0.04, 0.08, 0.13, 0.16, 0.15, 0.12, 0.10, 0.08, 0.06, 0.05, 0.03])


def _generator():
    spec = importlib.util.spec_from_file_location("sample_generate", DATA / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample():
    paths = sample_paths()
    return load_orders(paths.orders), load_contacts(paths.contacts), load_events(paths.events)


def test_regeneration_is_byte_identical(tmp_path):
    written = _generator().write_sample(tmp_path)
    for name, path in written.items():
        committed = DATA / path.name
        assert path.read_bytes() == committed.read_bytes(), f"{name} differs from {committed}"


def test_other_seed_gives_other_data_same_shape():
    gen = _generator()
    a = gen.generate(seed=1, start="2023-01-01", end="2023-02-28")
    b = gen.generate(seed=2, start="2023-01-01", end="2023-02-28")
    again = gen.generate(seed=1, start="2023-01-01", end="2023-02-28")
    pd.testing.assert_frame_equal(a.contacts, again.contacts)
    pd.testing.assert_frame_equal(a.orders, again.orders)
    assert len(a.contacts) == len(b.contacts) == 59 * (28 + 28 + 48)
    assert not a.contacts["contacts"].equals(b.contacts["contacts"])


def test_monthly_contact_rate_matches_reference_months(sample):
    orders, contacts, _ = sample
    mo = orders.groupby(orders["ds"].dt.to_period("M"))["orders"].sum()
    mc = contacts.groupby(contacts["ds"].dt.to_period("M"))["contacts"].sum()
    rate = 100.0 * mc / mo
    for month, ref in REFERENCE_RATE_PCT.items():
        assert abs(rate[pd.Period(month, "M")] - ref) <= 0.3, (month, rate[pd.Period(month)])
    # 2024 stays near 2023 levels (drift, not a jump): every month within 3.8..5.2 %.
    r2024 = rate[rate.index.year == 2024]
    assert r2024.between(3.8, 5.2).all()


def test_channel_shares_and_opening_hours(sample):
    _, contacts, _ = sample
    share = contacts.groupby("channel")["contacts"].sum() / contacts["contacts"].sum()
    assert set(share.index) == {"chat", "voice", "email"}
    assert 0.45 <= share["chat"] <= 0.55  # "chat carries about half"
    assert share["voice"] > share["email"] > 0.10
    hour = contacts["ds"].dt.hour
    live = contacts["channel"].isin(["chat", "voice"])
    assert hour[live].between(8, 21).all()  # open 08:00-22:00: no rows outside
    per_day = contacts.groupby([contacts["ds"].dt.normalize(), "channel"]).size().unstack()
    assert (per_day["email"] == 48).all() and (per_day["voice"] == 28).all()
    assert contacts.attrs["interval_s"] == 1800


def test_lag_shape_recovered_by_nnls(sample):
    # Non-negative least squares of daily contacts on orders lagged 0..14 days, in windows
    # around 11.11 (a sharp spike identifies the lag); independent of the generator.
    orders, contacts, _ = sample
    o = orders.set_index("ds")["orders"].astype(float)
    daily = contacts.groupby(contacts["ds"].dt.normalize())["contacts"].sum().astype(float)
    for start, end in (("2023-10-20", "2023-11-22"), ("2024-10-20", "2024-11-24")):
        days = pd.date_range(start, end)
        x = np.column_stack(
            [o.reindex(days - pd.Timedelta(days=k)).to_numpy() for k in range(15)]
        )
        coef, _ = nnls(x, daily.reindex(days).to_numpy())
        shape = coef / coef.sum()
        assert int(np.argmax(shape)) in (2, 3, 4)
        assert shape[0] < 0.08  # not all on the order day
        assert shape[11:].sum() < 0.05  # nothing much beyond 10 days
        assert np.abs(shape[:11] - DOCUMENTED_LAG).sum() < 0.2


def test_order_peaks_growth_and_dips(sample):
    orders, _, events = sample
    o = orders.set_index("ds")["orders"]
    assert o.index.min() == pd.Timestamp("2022-01-01")
    assert o.index.max() == pd.Timestamp("2024-12-31") and len(o) == 1096
    assert 180_000 <= o["2024-10-01":"2024-12-31"].mean() <= 220_000  # "about 200k a day"
    assert o["2024"].mean() > 1.5 * o["2022"].mean()
    for year in (2022, 2023, 2024):
        nov = o[f"{year}-11-01":f"{year}-11-30"]
        assert o[f"{year}-11-11"] > 1.8 * nov.median()
        bf = events.loc[events["event"] == "black_friday", "ds"]
        bf = bf[bf.dt.year == year].iloc[0]
        assert bf.day_of_week == 4 and o[bf] > 1.5 * nov.median()
        jan = o[f"{year}-01-01":f"{year}-01-08"].mean()
        assert jan < 0.8 * o[f"{year}-01-16":f"{year}-01-31"].mean()  # holiday dip
    # Weekly pattern: Monday above Saturday on average.
    by_dow = o.groupby(o.index.day_of_week).mean()
    assert by_dow[0] > 1.05 * by_dow[5]


def test_incident_days_spike_and_are_listed(sample):
    _, contacts, events = sample
    daily = contacts.groupby(contacts["ds"].dt.normalize())["contacts"].sum()
    incidents = events.loc[events["event"].str.startswith("incident"), "ds"]
    assert 2 <= len(incidents) <= 3
    for day in incidents:
        same_weekday = [day - pd.Timedelta(weeks=w) for w in (1, 2, -2, -3)]
        assert daily[day] > 1.4 * daily[same_weekday].mean()


def test_aht_rises_in_peak_and_is_seconds(sample):
    _, contacts, _ = sample
    c = contacts.dropna(subset=["aht_s"])
    assert contacts.loc[contacts["aht_s"].isna(), "contacts"].eq(0).all()
    w = c["aht_s"] * c["contacts"]
    for year in (2022, 2023, 2024):
        for channel in ("chat", "voice", "email"):
            sel = c["channel"].eq(channel)
            sep = sel & c["ds"].dt.year.eq(year) & c["ds"].dt.month.eq(9)
            dec = sel & c["ds"].dt.year.eq(year) & c["ds"].dt.month.eq(12)
            aht_sep = w[sep].sum() / c.loc[sep, "contacts"].sum()
            aht_dec = w[dec].sum() / c.loc[dec, "contacts"].sum()
            assert 200 < aht_sep < 700 and aht_dec > 1.03 * aht_sep


def test_events_contract(sample):
    _, _, events = sample
    assert list(events.columns) == ["ds", "event", "lower_window", "upper_window"]
    assert (events["lower_window"] <= 0).all() and (events["upper_window"] >= 0).all()
    names = set(events["event"])
    assert {"singles_day_11_11", "black_friday", "cyber_monday", "new_year_eve"} <= names
    assert "holiday: Victory Day" in names


# ------------------------------------------------------------------ multi-queue variant
# Shares written in data/README.md (language x region; email by language).
DOCUMENTED_QUEUE_SHARES = {
    "chat-ru-west": 0.52, "chat-ru-east": 0.28, "chat-en-west": 0.13, "chat-en-east": 0.07,
    "voice-ru-west": 0.50, "voice-ru-east": 0.30, "voice-en-west": 0.12, "voice-en-east": 0.08,
    "email-ru": 0.82, "email-en": 0.18,
}


@pytest.fixture(scope="module")
def queue_sample(sample):
    return load_contacts(sample_paths().contacts_queues), sample[1]


def test_queue_counts_sum_to_the_channel_counts(queue_sample):
    queues, channels = queue_sample
    assert sample_paths().contacts_queues.stat().st_size < 1.5e6
    assert queues["ds"].min() == pd.Timestamp("2023-04-01")
    per_channel = queues.groupby(["ds", "channel"])["contacts"].sum()
    own = channels[channels["ds"] >= queues["ds"].min()].set_index(["ds", "channel"])["contacts"]
    assert per_channel.index.equals(own.index)  # every interval of every channel
    assert (per_channel.to_numpy() == own.to_numpy()).all()
    # one row per interval and queue, each queue under its channel
    assert (queues.groupby(["ds", "channel"]).size()
            == queues["channel"].map({"chat": 4, "voice": 4, "email": 2})
            .groupby([queues["ds"], queues["channel"]]).first()).all()


def test_queue_shares_and_aht_follow_the_documented_values(queue_sample):
    queues, _ = queue_sample
    totals = queues.groupby("queue")["contacts"].sum()
    by_channel = queues.groupby("channel")["contacts"].sum()
    for q, share in DOCUMENTED_QUEUE_SHARES.items():
        n = by_channel[q.split("-")[0]]
        measured = totals[q] / n
        # binomial thinning: the share's standard error is sqrt(p (1 - p) / n), < 0.001 here
        assert abs(measured - share) < 4 * np.sqrt(share * (1 - share) / n), q
    # English queues take longer than Russian ones in the same channel and region
    w = queues.dropna(subset=["aht_s"]).assign(h=lambda f: f["aht_s"] * f["contacts"])
    aht = w.groupby("queue")["h"].sum() / w.groupby("queue")["contacts"].sum()
    assert aht["chat-en-west"] > aht["chat-ru-west"] * 1.1
    assert aht["voice-en-east"] > aht["voice-ru-east"] * 1.1


def test_queue_variant_is_reproducible():
    gen = _generator()
    base = gen.generate(seed=5, start="2023-03-25", end="2023-04-10").contacts
    a = gen.generate_queues(base, seed=5)
    again = gen.generate_queues(base, seed=5)
    other = gen.generate_queues(base, seed=6)
    pd.testing.assert_frame_equal(a, again)
    assert not a["contacts"].equals(other["contacts"])
    assert a["ds"].min() == pd.Timestamp("2023-04-01")
    assert a.groupby(["ds", "channel"])["contacts"].sum().equals(
        other.groupby(["ds", "channel"])["contacts"].sum())
