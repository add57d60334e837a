"""Generate the bundled synthetic sample: daily orders, 30-minute contacts, events.

The sample is modelled on the public reference numbers in the design notes (a delivery
marketplace: about 200k orders a day, contact rate per order 6.5/6.9/6.4 % in the bad
Q4 of 2022 and 4.22/4.15/4.98 % a year later, chat about half of the contacts). It is
synthetic: no real customer or company data is in it.

Run from the repository root::

    python data/generate.py            # rewrites data/orders.csv, contacts.csv.gz, events.csv
                                       # and contacts_queues.csv.gz
    python data/generate.py --seed 11 --out some/dir

The same seed gives byte-identical files (gzip is written without a timestamp or name).

Model
-----
orders(t)      = trend x weekday x yearly x Q4 peak x event spikes x holiday dips x noise
E[contacts](t) = g(t) * sum_k w_k * r(m(t - k)) * orders(t - k),   k = 0..10
    w_k  : delivery lag shape (``LAG_SHAPE``, peaks 3 days after the order)
    r(m) : contact rate per order of the order's month, solved from a linear system so
           that the *measured* monthly rate (contacts in month / orders in month) equals
           ``MONTHLY_RATE_PCT`` exactly in expectation (the lag moves contacts across
           month boundaries, so r(m) is not the target itself)
    g(t) : incident multiplier (1 on normal days)
Channel shares depend on the weekday; the intraday profile depends on the channel and on
weekday/weekend; interval counts are Poisson. Voice and chat are open 08:00-22:00 (closed
intervals have no rows); email arrives around the clock.

Queues (``contacts_queues.csv.gz``, :func:`generate_queues`): the same contacts from
``QUEUES_START`` on, each channel's interval count split into queues (language x region
for chat and voice, language for email) by seeded binomial thinning with the fixed shares
of ``QUEUE_SHARES`` (the queue counts of an interval sum to the channel's), and each
queue's AHT its channel's interval AHT times ``QUEUE_AHT_FACTOR``.
"""

from __future__ import annotations

import argparse
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import holidays
import numpy as np
import pandas as pd

__all__ = [
    "CHANNEL_BASE_SHARE",
    "INCIDENT_DAYS",
    "LAG_SHAPE",
    "MONTHLY_RATE_PCT",
    "OPEN_HOURS",
    "QUEUE_AHT_FACTOR",
    "QUEUE_SHARES",
    "SampleData",
    "generate",
    "generate_queues",
    "write_sample",
]

START = "2022-01-01"
END = "2024-12-31"
INTERVAL_S = 1800
DEFAULT_SEED = 20241111

#: Share of an order day's contacts that arrive k = 0..10 days later (sums to 1).
LAG_SHAPE = np.array([0.04, 0.08, 0.13, 0.16, 0.15, 0.12, 0.10, 0.08, 0.06, 0.05, 0.03])

#: Target *measured* contact rate per order, % (monthly contacts / monthly orders).
#: Oct-Dec 2022 and Oct-Dec 2023 are the reference numbers; other months are plausible.
MONTHLY_RATE_PCT = {
    2022: [6.0, 5.9, 5.9, 5.8, 5.8, 5.9, 6.0, 6.1, 6.2, 6.5, 6.9, 6.4],
    2023: [5.9, 5.5, 5.2, 5.0, 4.8, 4.6, 4.5, 4.4, 4.3, 4.22, 4.15, 4.98],
    2024: [4.6, 4.45, 4.4, 4.35, 4.3, 4.3, 4.25, 4.25, 4.2, 4.2, 4.3, 4.6],
}

#: Delivery-partner outage days: multiplier on that day's contacts and the next day's.
INCIDENT_DAYS = {"2022-09-07": (1.8, 1.25), "2023-03-14": (1.7, 1.2), "2024-08-06": (1.9, 1.3)}

CHANNELS = ("chat", "voice", "email")
CHANNEL_BASE_SHARE = {"chat": 0.50, "voice": 0.32, "email": 0.18}
#: Channel weekday modulation (Mon..Sun) before shares are renormalised per day.
CHANNEL_WEEKDAY = {
    "chat": [1.00, 0.98, 0.98, 0.99, 1.00, 1.10, 1.10],
    "voice": [1.05, 1.03, 1.02, 1.00, 0.98, 0.85, 0.82],
    "email": [1.18, 1.05, 1.00, 0.98, 0.95, 0.80, 0.85],
}
#: Opening hours (start hour, end hour) in local wall-clock time.
OPEN_HOURS = {"chat": (8, 22), "voice": (8, 22), "email": (0, 24)}
AHT_BASE_S = {"chat": 540.0, "voice": 330.0, "email": 420.0}
#: Relative AHT drift over the three years (linear) and rise at the peak (Nov-Dec).
AHT_DRIFT = {"chat": -0.05, "voice": 0.04, "email": -0.03}
AHT_PEAK_RISE = {"chat": 0.10, "voice": 0.08, "email": 0.06}
AHT_CV = 0.8  # coefficient of variation of a single handle time

#: First day of the multi-queue variant (21 months: the file stays under 1.5 MB).
QUEUES_START = "2023-04-01"
#: Queue shares of each channel's contacts (language x region; email by language).
QUEUE_SHARES = {
    "chat": {"chat-ru-west": 0.52, "chat-ru-east": 0.28, "chat-en-west": 0.13,
             "chat-en-east": 0.07},
    "voice": {"voice-ru-west": 0.50, "voice-ru-east": 0.30, "voice-en-west": 0.12,
              "voice-en-east": 0.08},
    "email": {"email-ru": 0.82, "email-en": 0.18},
}
#: A queue's AHT relative to its channel's (English contacts take longer, the east a
#: little longer: translation and partner hand-offs).
QUEUE_AHT_FACTOR = {"ru-west": 0.97, "ru-east": 1.01, "en-west": 1.10, "en-east": 1.15,
                    "ru": 0.98, "en": 1.09}

ORDER_WEEKDAY = np.array([1.07, 1.04, 1.01, 0.99, 0.97, 0.93, 0.99])
LAG_DAYS = len(LAG_SHAPE) - 1


@dataclass(frozen=True)
class SampleData:
    """The three sample frames (contracts of the design notes)."""

    orders: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame


def _black_friday(year: int) -> pd.Timestamp:
    """Fourth Friday of November."""
    nov1 = pd.Timestamp(year=year, month=11, day=1)
    first_friday = nov1 + pd.Timedelta(days=(4 - nov1.weekday()) % 7)
    return first_friday + pd.Timedelta(days=21)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _peak_intensity(days: pd.DatetimeIndex) -> np.ndarray:
    """0 outside the peak, rising from mid-October to 1 by 1 December, back to 0 by Jan 10."""
    doy = days.day_of_year.to_numpy()
    rise = _smoothstep((doy - 288) / 47.0)  # Oct 15 -> Dec 1
    fall = 1.0 - _smoothstep(doy / 10.0)  # Jan 1 -> Jan 10
    return np.where(doy > 200, rise, fall)


def _order_multipliers(days: pd.DatetimeIndex) -> np.ndarray:
    """Deterministic multiplicative order shape (weekday, yearly, peak, events, holidays)."""
    years = (days - pd.Timestamp(START)).days.to_numpy() / 365.25
    trend = 80_000.0 * np.exp(np.log(175_000.0 / 80_000.0) * years / 3.0)
    doy = days.day_of_year.to_numpy()
    yearly = 1.0 + 0.05 * np.cos(2.0 * np.pi * (doy - 350) / 365.25)
    mult = trend * ORDER_WEEKDAY[days.day_of_week] * yearly * (1.0 + 0.10 * _peak_intensity(days))
    month, day = days.month.to_numpy(), days.day.to_numpy()
    # 11.11 sale: the day before and after carry part of it.
    mult *= np.where((month == 11) & (day == 11), 2.1, 1.0)
    mult *= np.where((month == 11) & ((day == 10) | (day == 12)), 1.3, 1.0)
    # Black Friday weekend and Cyber Monday.
    for year in sorted(set(days.year)):
        bf = _black_friday(year)
        for offset, factor in ((0, 1.9), (1, 1.6), (2, 1.4), (3, 1.3)):
            mult *= np.where(days == bf + pd.Timedelta(days=offset), factor, 1.0)
    # Pre-New-Year rush (Dec 15..28 ramps up), Dec 31 drop, early-January dip.
    rush = np.where((month == 12) & (day >= 15) & (day <= 28), 1.0 + 0.35 * (day - 14) / 14, 1.0)
    rush = np.where((month == 12) & ((day == 29) | (day == 30)), 1.15, rush)
    rush = np.where((month == 12) & (day == 31), 0.75, rush)
    dip = np.where((month == 1) & (day == 1), 0.45, 1.0)
    dip = np.where((month == 1) & (day >= 2) & (day <= 8), 0.60 + 0.03 * (day - 2), dip)
    dip = np.where((month == 1) & (day >= 9) & (day <= 14), 0.92, dip)
    ru = holidays.country_holidays("RU", years=sorted(set(days.year)))
    other_holiday = np.array([d.date() in ru and not (d.month == 1 and d.day <= 8) for d in days])
    return mult * rush * dip * np.where(other_holiday, 0.85, 1.0)


def _intraday_profile(channel: str, weekend: bool) -> np.ndarray:
    """Share of a channel's daily contacts per 30-minute slot (48 values summing to 1)."""
    hours = np.arange(48) * 0.5 + 0.25  # slot mid-points
    shift = 1.0 if weekend else 0.0

    def bump(centre: float, width: float) -> np.ndarray:
        return np.exp(-0.5 * ((hours - centre - shift) / width) ** 2)

    if channel == "voice":
        shape = 1.0 * bump(10.75, 1.5) + 0.8 * bump(15.0, 2.0) + 0.15
    elif channel == "chat":
        shape = 0.8 * bump(12.0, 2.0) + 1.0 * bump(20.0, 1.5) + 0.3
    else:
        shape = 1.0 * bump(10.0, 2.5) + 0.7 * bump(16.0, 3.0) + 0.05
    lo, hi = OPEN_HOURS[channel]
    shape = np.where((hours >= lo) & (hours < hi), shape, 0.0)
    return shape / shape.sum()


def _incident_profile() -> np.ndarray:
    """Intraday shape of the extra contacts of an incident (outage noticed at 11:00)."""
    hours = np.arange(48) * 0.5 + 0.25
    shape = np.where(hours >= 11.0, np.exp(-(hours - 11.0) / 4.0), 0.0)
    shape = np.where((hours >= 8) & (hours < 22), shape, 0.0)
    return shape / shape.sum()


def _solve_order_rates(
    orders_ext: np.ndarray, month_ext: np.ndarray, g: np.ndarray, n_burn: int, target: np.ndarray
) -> np.ndarray:
    """Contact rate per order month such that the expected measured monthly rate hits target.

    Expected contacts on output day t: ``g_t * sum_k w_k r[m(t-k)] O(t-k)``; summing over the
    days of month i gives ``sum_j A[i, j] r[j]``; solve ``A r = target_i * O_i``.
    """
    n_months = len(target)
    n_out = len(orders_ext) - n_burn
    a = np.zeros((n_months, n_months))
    out_month = month_ext[n_burn:]
    for k, w in enumerate(LAG_SHAPE):
        src = np.arange(n_burn, n_burn + n_out) - k
        np.add.at(a, (out_month, month_ext[src]), g * w * orders_ext[src])
    monthly_orders = np.bincount(out_month, weights=orders_ext[n_burn:], minlength=n_months)
    rates = np.linalg.solve(a, target * monthly_orders)
    if np.any(rates <= 0):
        raise ValueError(f"MONTHLY_RATE_PCT: no positive order-month rates solve it: {rates}")
    return rates


def generate(seed: int = DEFAULT_SEED, start: str = START, end: str = END) -> SampleData:
    """Generate the sample frames.

    Parameters
    ----------
    seed : int
        Seed of the ``numpy.random.Generator``; the same seed gives identical frames.
    start, end : str
        First and last day (inclusive). Months must be covered by ``MONTHLY_RATE_PCT``.

    Returns
    -------
    SampleData
        ``orders`` (``ds, orders``), ``contacts`` (``ds, channel, contacts, aht_s``; 30-minute
        intervals, closed voice/chat intervals have no rows, ``aht_s`` is NaN when an
        interval has no contacts) and ``events`` (``ds, event, lower_window, upper_window``).

    Examples
    --------
    >>> s = generate(seed=1, start="2023-01-01", end="2023-03-31")
    >>> sorted(s.contacts["channel"].unique())
    ['chat', 'email', 'voice']
    """
    rng = np.random.default_rng(seed)
    days_out = pd.date_range(start, end, freq="D")
    days_ext = pd.date_range(days_out[0] - pd.Timedelta(days=LAG_DAYS), end, freq="D")
    n_burn = LAG_DAYS
    # Orders (burn-in days feed the contacts of the first days but are not written).
    noise = np.exp(rng.normal(0.0, 0.025, len(days_ext)))
    orders_ext = np.rint(_order_multipliers(days_ext) * noise)

    # Month index of each day; burn-in days share the first output month.
    period = days_ext.to_period("M")
    months = pd.period_range(days_out[0], days_out[-1], freq="M")
    month_ext = np.clip((period - months[0]).map(lambda p: p.n).to_numpy(), 0, None)
    target = np.array([MONTHLY_RATE_PCT[p.year][p.month - 1] for p in months]) / 100.0

    g = np.ones(len(days_out))
    incident_extra = np.zeros(len(days_out))
    for day, (first, second) in INCIDENT_DAYS.items():
        idx = days_out.get_indexer([pd.Timestamp(day)])[0]
        if idx >= 0:
            g[idx] *= first
            incident_extra[idx] = first - 1.0
            if idx + 1 < len(days_out):
                g[idx + 1] *= second
                incident_extra[idx + 1] = second - 1.0
    rates = _solve_order_rates(orders_ext, month_ext, g, n_burn, target)

    # Expected daily contacts without incidents (base) and with them.
    weighted = rates[month_ext] * orders_ext
    base = np.zeros(len(days_out))
    for k, w in enumerate(LAG_SHAPE):
        base += w * weighted[n_burn - k : len(weighted) - k]

    # Expected contacts per (day, channel, slot).
    weekday = days_out.day_of_week.to_numpy()
    mod = np.array([CHANNEL_WEEKDAY[c] for c in CHANNELS])[:, weekday]  # (C, D)
    shares = np.array([CHANNEL_BASE_SHARE[c] for c in CHANNELS])[:, None] * mod
    shares /= shares.sum(axis=0, keepdims=True)
    weekend = weekday >= 5
    prof = np.stack(
        [
            np.where(weekend[:, None], _intraday_profile(c, True), _intraday_profile(c, False))
            for c in CHANNELS
        ]
    )  # (C, D, 48)
    incident_share = np.array([0.45, 0.45, 0.10])  # chat, voice, email
    lam = (base * shares)[:, :, None] * prof
    lam += (base * incident_extra)[None, :, None] * incident_share[:, None, None] * (
        _incident_profile()[None, None, :]
    )
    counts = rng.poisson(lam)

    # AHT per (channel, day): drift, peak rise, incident days; interval mean with noise.
    years = (days_out - days_out[0]).days.to_numpy() / 365.25
    peak = _peak_intensity(days_out)
    aht_day = np.stack(
        [
            AHT_BASE_S[c] * (1.0 + AHT_DRIFT[c] * years / 3.0) * (1.0 + AHT_PEAK_RISE[c] * peak)
            * np.where(incident_extra > 0, 1.10, 1.0)
            for c in CHANNELS
        ]
    )
    slot_hours = np.arange(48) * 0.5
    night = np.where((slot_hours < 7) | (slot_hours >= 22), 1.08, 1.0)  # email at night
    aht_mean = aht_day[:, :, None] * np.where(
        np.array(CHANNELS)[:, None, None] == "email", night[None, None, :], 1.0
    )
    sd = AHT_CV / np.sqrt(np.maximum(counts, 1))
    z = rng.standard_normal(counts.shape)
    aht = np.where(counts > 0, np.round(aht_mean * np.exp(sd * z - 0.5 * sd * sd), 1), np.nan)

    # Long frame, open intervals only.
    open_mask = np.stack(
        [
            np.broadcast_to(
                (slot_hours >= OPEN_HOURS[c][0]) & (slot_hours < OPEN_HOURS[c][1]),
                (len(days_out), 48),
            )
            for c in CHANNELS
        ]
    )
    ci, di, si = np.nonzero(open_mask)
    ds = days_out[di] + pd.to_timedelta(si * INTERVAL_S, unit="s")
    contacts = pd.DataFrame(
        {
            "ds": ds,
            "channel": np.array(CHANNELS)[ci],
            "contacts": counts[ci, di, si].astype(np.int64),
            "aht_s": aht[ci, di, si],
        }
    )
    contacts = contacts.sort_values(["ds", "channel"], kind="stable").reset_index(drop=True)
    contacts["ds"] = contacts["ds"].astype("datetime64[ns]")

    orders = pd.DataFrame(
        {"ds": days_out.astype("datetime64[ns]"), "orders": orders_ext[n_burn:].astype(np.int64)}
    )
    return SampleData(orders=orders, contacts=contacts, events=_events(days_out))


def generate_queues(contacts: pd.DataFrame, seed: int = DEFAULT_SEED,
                    start: str = QUEUES_START) -> pd.DataFrame:
    """The contacts split into queues (the multi-queue sample variant).

    Parameters
    ----------
    contacts : DataFrame
        ``ds, channel, contacts, aht_s`` (:func:`generate`'s ``contacts``).
    seed : int
        Seed of the thinning (its own generator stream: the channel sample is unchanged).
    start : str
        First day kept.

    Returns
    -------
    DataFrame
        ``ds, channel, queue, contacts, aht_s``, one row per interval and queue of
        ``QUEUE_SHARES`` (sorted by ds, channel, queue): the channel's count split by
        sequential binomial thinning (queue k gets ``Binomial(left, p_k / (p_k + ... ))``,
        the last queue the rest), ``aht_s`` the channel's times ``QUEUE_AHT_FACTOR``
        (NaN where a queue has no contacts).

    Examples
    --------
    >>> c = pd.DataFrame({"ds": pd.to_datetime(["2023-04-03 08:00"]), "channel": ["email"],
    ...                   "contacts": [10], "aht_s": [400.0]})
    >>> q = generate_queues(c, seed=1)
    >>> q["queue"].tolist(), int(q["contacts"].sum())
    (['email-en', 'email-ru'], 10)
    """
    rng = np.random.default_rng([seed, 1])
    c = contacts[contacts["ds"] >= pd.Timestamp(start)].reset_index(drop=True)
    parts = []
    for channel in CHANNELS:
        sel = c[c["channel"] == channel]
        if not len(sel):
            continue
        left = sel["contacts"].to_numpy(np.int64)
        shares = QUEUE_SHARES[channel]
        rest = 1.0
        names = list(shares)
        for k, name in enumerate(names):
            p = shares[name]
            n = left if k == len(names) - 1 else rng.binomial(left, min(p / rest, 1.0))
            left, rest = left - n, rest - p
            factor = QUEUE_AHT_FACTOR[name.split("-", 1)[1]]
            aht = np.where(n > 0, np.round(sel["aht_s"].to_numpy(float) * factor, 1), np.nan)
            parts.append(pd.DataFrame({"ds": sel["ds"].to_numpy(), "channel": channel,
                                       "queue": name, "contacts": n.astype(np.int64),
                                       "aht_s": aht}))
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["ds", "channel", "queue"], kind="stable").reset_index(drop=True)
    out["ds"] = out["ds"].astype("datetime64[ns]")
    return out


def _events(days: pd.DatetimeIndex) -> pd.DataFrame:
    """Peak days, public holidays (Russia) and incident days."""
    rows: list[tuple[pd.Timestamp, str, int, int]] = []
    years = sorted(set(days.year))
    for year in years:
        rows.append((pd.Timestamp(year=year, month=11, day=11), "singles_day_11_11", -1, 1))
        bf = _black_friday(year)
        rows.append((bf, "black_friday", 0, 2))
        rows.append((bf + pd.Timedelta(days=3), "cyber_monday", 0, 0))
        rows.append((pd.Timestamp(year=year, month=12, day=15), "pre_new_year_rush", 0, 13))
        rows.append((pd.Timestamp(year=year, month=12, day=31), "new_year_eve", 0, 0))
    ru = holidays.country_holidays("RU", years=years, language="en_US")
    for day, name in sorted(ru.items()):
        label = "holiday: " + name.split(" (")[0]
        if label == "holiday: Day off":
            label = "holiday: transferred day off"
        rows.append((pd.Timestamp(day), label, 0, 0))
    for day in INCIDENT_DAYS:
        rows.append((pd.Timestamp(day), "incident_delivery_partner_outage", 0, 1))
    events = pd.DataFrame(rows, columns=["ds", "event", "lower_window", "upper_window"])
    events = events[(events["ds"] >= days[0]) & (events["ds"] <= days[-1])]
    events = events.sort_values(["ds", "event"], kind="stable").reset_index(drop=True)
    events["ds"] = events["ds"].astype("datetime64[ns]")
    return events.astype({"lower_window": np.int64, "upper_window": np.int64})


def _csv_bytes(frame: pd.DataFrame, date_format: str) -> bytes:
    buf = io.StringIO()
    frame.to_csv(
        buf, index=False, date_format=date_format, float_format="%.1f", lineterminator="\n"
    )
    return buf.getvalue().encode("utf-8")


def write_sample(out_dir: str | Path, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Generate and write ``orders.csv``, ``contacts.csv.gz``, ``events.csv`` and the
    multi-queue variant ``contacts_queues.csv.gz`` (:func:`generate_queues`) to out_dir.

    Returns the written paths by name. Output is byte-identical for the same seed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sample = generate(seed=seed)
    paths = {
        "orders": out / "orders.csv",
        "contacts": out / "contacts.csv.gz",
        "events": out / "events.csv",
        "contacts_queues": out / "contacts_queues.csv.gz",
    }
    paths["orders"].write_bytes(_csv_bytes(sample.orders, "%Y-%m-%d"))
    paths["events"].write_bytes(_csv_bytes(sample.events, "%Y-%m-%d"))
    _write_gz(paths["contacts"], _csv_bytes(sample.contacts, "%Y-%m-%d %H:%M:%S"))
    queues = generate_queues(sample.contacts, seed=seed)
    _write_gz(paths["contacts_queues"], _csv_bytes(queues, "%Y-%m-%d %H:%M:%S"))
    return paths


def _write_gz(path: Path, raw: bytes) -> None:
    with open(path, "wb") as fh:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9) as gz:
            gz.write(raw)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args(argv)
    for name, path in write_sample(args.out, seed=args.seed).items():
        print(f"{name}: {path.name} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
