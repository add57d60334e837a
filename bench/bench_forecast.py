"""Forecast accuracy and speed on the bundled sample and on a real call-centre series.

Run from the repository root: ``python bench/bench_forecast.py`` (``make bench`` runs it).

1. Sample: trained through 2024-09-30, forecast 2024-10-01..2024-12-31 (the unseen peak).
   Daily WAPE and 80% interval coverage for orders and each channel: the chosen forecast
   (orders model x contact rate with lag) next to seasonal naive (same weekday last week)
   and the same-weekday average, each fitted on the channel's own daily history; then
   30-minute WAPE of the top-down split next to the direct interval seasonal naive.
   The same daily figures on a second holdout a year earlier (trained through 2023-09-30,
   forecast 2023-10-01..2023-12-31), where the rate's monthly seasonality is not yet
   usable (it needs two past years), to check the interval out of sample.
2. Speed: the whole forecast (orders + three channels, 92 days, intraday split, AHT)
   from a cold start and from the cache.
3. The 80% band over 22 unseen 92-day windows (an origin each month, 2023-01..2024-10):
   per-window WAPE and coverage, and the share of all their days inside the band.
Real data (fpp3 ``bank_calls`` and a second real series, week-ahead protocol against
the baselines) is in ``bench/bench_real.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

T_START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import forecast  # noqa: E402
from forecast.backtest import coverage, wape  # noqa: E402
from forecast.cache import ForecastCache  # noqa: E402
from forecast.contacts import forecast_contacts_detail  # noqa: E402
from forecast.intraday import direct_baseline  # noqa: E402
from forecast.volume import forecast_volume  # noqa: E402

CUT, START, END = "2024-09-30", "2024-10-01", "2024-12-31"
T_IMPORTS = time.perf_counter() - T_START


def _table(rows: list[dict], cols: list[str]) -> str:
    fmt = {c: (lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)) for c in cols}
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt[c](r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def sample_section() -> None:
    p = forecast.sample_paths()
    orders = forecast.load_orders(p.orders)
    contacts = forecast.load_contacts(p.contacts)
    events = forecast.load_events(p.events)

    t0 = time.perf_counter()
    cache = ForecastCache()
    res = forecast_contacts_detail(orders, contacts, events, START, END, cache=cache)
    cold = time.perf_counter() - t0
    t1 = time.perf_counter()
    forecast_contacts_detail(orders, contacts, events, START, END, cache=cache)
    warm = time.perf_counter() - t1

    # daily actuals and baselines fitted on each series' own history
    c = contacts.copy()
    daily = (c.groupby([c["ds"].dt.normalize(), "channel"])["contacts"].sum()
             .rename("y").reset_index().rename(columns={"channel": "unique_id"}))
    o = orders.rename(columns={"orders": "y"}).assign(unique_id="orders")
    hist = pd.concat([o[["unique_id", "ds", "y"]], daily], ignore_index=True)
    train, test = hist[hist["ds"] <= CUT], hist[(hist["ds"] >= START) & (hist["ds"] <= END)]
    base = {m: forecast_volume(train, "92D", "D", model=m, events=events)
            for m in ("seasonal_naive", "same_weekday_average")}
    direct = forecast_volume(train[train["unique_id"] != "orders"], "92D", "D", events=events)
    chosen = pd.concat([res.orders.assign(unique_id="orders"),
                        res.daily.drop(columns="rate")], ignore_index=True)
    rows = []
    for uid in ["orders", "chat", "voice", "email"]:
        act = test[test["unique_id"] == uid].set_index("ds")["y"]

        def get(fc, uid=uid, act=act):
            return fc[fc["unique_id"] == uid].set_index("ds").reindex(act.index)

        ch = get(chosen)
        sn = wape(act, get(base["seasonal_naive"])["yhat"])
        w = wape(act, ch["yhat"])
        row = {"series": uid,
               "chosen": (f"orders:{res.orders_model}" if uid == "orders"
                          else f"orders x rate ({res.orders_model})"),
               "WAPE": w, "seasonal naive": sn,
               "same-weekday avg": wape(act, get(base["same_weekday_average"])["yhat"]),
               "direct auto": (wape(act, get(direct)["yhat"]) if uid != "orders"
                               else float("nan")),
               "gain vs naive": 1 - w / sn,
               "cov80": coverage(act, ch["yhat_lo"], ch["yhat_hi"])}
        rows.append(row)
    print(f"## Sample: trained through {CUT}, forecast {START}..{END} (daily)")
    print(_table(rows, ["series", "chosen", "WAPE", "seasonal naive", "same-weekday avg",
                        "direct auto", "gain vs naive", "cov80"]))
    print("models of 'direct auto':", direct.attrs.get("models"))

    # intraday 30-min
    act = (c[(c["ds"] >= START) & (c["ds"] < pd.Timestamp(END) + pd.Timedelta(days=1))]
           .rename(columns={"channel": "unique_id", "contacts": "y"}))
    iv = res.intervals
    rows = []
    for ch in ["chat", "voice", "email"]:
        a = act[act["unique_id"] == ch].set_index("ds")["y"]
        f = iv[iv["unique_id"] == ch].set_index("ds")
        idx = a.index.union(f.index)
        a2 = a.reindex(idx, fill_value=0.0)
        f2 = f[["yhat", "yhat_lo", "yhat_hi"]].reindex(idx).fillna(0.0)
        h = c[(c["channel"] == ch) & (c["ds"] <= pd.Timestamp(CUT) + pd.Timedelta(days=1))]
        sn = direct_baseline(pd.Series(h["contacts"].to_numpy(float),
                                       index=pd.DatetimeIndex(h["ds"])),
                             res.interval_s, pd.Timestamp(END) + pd.Timedelta(hours=23.5),
                             "seasonal_naive").set_index("ds")["yhat"]
        sn = sn.reindex(idx).fillna(0.0)
        aht_act = act[(act["unique_id"] == ch) & (act["y"] > 0)].set_index("ds")["aht_s"]
        rows.append({"channel": ch, "top-down WAPE": wape(a2, f2["yhat"]),
                     "direct seasonal naive": wape(a2, sn),
                     "cov80": coverage(a2, f2["yhat_lo"], f2["yhat_hi"]),
                     "AHT WAPE": wape(aht_act, f["aht_s"].reindex(aht_act.index)),
                     "forecast rows in closed hours": int(((a2 == 0) & (f2["yhat"] > 0)
                                                           & (ch != "email")).sum())})
    print(f"\n## Sample: 30-min intervals, {START}..{END}")
    print(_table(rows, ["channel", "top-down WAPE", "direct seasonal naive", "cov80",
                        "AHT WAPE", "forecast rows in closed hours"]))
    print(f"\n## Speed (orders + 3 channels, 92 days, 30-min split, AHT; {sys.platform})")
    print(f"cold: {T_IMPORTS + cold:.1f} s = imports {T_IMPORTS:.1f} s + first call "
          f"{cold:.1f} s ({(T_IMPORTS + cold) / 30:.2f} of the 30 s budget)")
    print(f"cached: {warm:.3f} s ({warm / 1:.3f} of the 1 s budget, "
          f"{cold / max(warm, 1e-9):.0f}x faster than cold)")


def holdout_section(cut: str = "2023-09-30", start: str = "2023-10-01",
                    end: str = "2023-12-31") -> None:
    p = forecast.sample_paths()
    orders = forecast.load_orders(p.orders)
    contacts = forecast.load_contacts(p.contacts)
    events = forecast.load_events(p.events)
    res = forecast_contacts_detail(orders, contacts, events, start, end)
    days = pd.date_range(start, end, freq="D")
    daily = (contacts.groupby([contacts["ds"].dt.normalize(), "channel"])["contacts"].sum()
             .unstack())
    o = orders.set_index(pd.to_datetime(orders["ds"]).dt.normalize())["orders"]
    rows = []
    for uid in ["orders", "chat", "voice", "email"]:
        fc = (res.orders if uid == "orders"
              else res.daily[res.daily["unique_id"] == uid]).set_index("ds").reindex(days)
        act = (o if uid == "orders" else daily[uid]).reindex(days).astype(float)
        rows.append({"series": uid, "WAPE": wape(act, fc["yhat"]),
                     "cov80": coverage(act, fc["yhat_lo"], fc["yhat_hi"])})
    print(f"\n## Sample, second holdout: trained through {cut}, forecast {start}..{end} "
          "(daily)")
    print(_table(rows, ["series", "WAPE", "cov80"]))


def rolling_section() -> None:
    """The 80% band over 22 unseen 92-day windows (monthly origins 2023-01..2024-10)."""
    p = forecast.sample_paths()
    orders = forecast.load_orders(p.orders)
    contacts = forecast.load_contacts(p.contacts)
    events = forecast.load_events(p.events)
    daily = (contacts.groupby([contacts["ds"].dt.normalize(), "channel"])["contacts"].sum()
             .unstack())
    daily["orders"] = orders.set_index(orders["ds"].dt.normalize())["orders"]
    uids = ["orders", "chat", "voice", "email"]
    rows, inside = [], {u: [] for u in uids}
    t0 = time.perf_counter()
    for start in pd.date_range("2023-01-01", "2024-10-01", freq="MS"):
        end = min(start + pd.Timedelta(days=91), pd.Timestamp("2024-12-31"))
        res = forecast_contacts_detail(orders, contacts, events, start, end)
        days = pd.date_range(start, end)
        row = {"origin": str(start.date())}
        for uid in uids:
            fc = (res.orders if uid == "orders"
                  else res.daily[res.daily["unique_id"] == uid]).set_index("ds").reindex(days)
            act = daily[uid].reindex(days).astype(float)
            inside[uid].append(((act >= fc["yhat_lo"]) & (act <= fc["yhat_hi"])).to_numpy())
            row[f"{uid} WAPE"] = wape(act, fc["yhat"])
            row[f"{uid} cov80"] = float(inside[uid][-1].mean())
        rows.append(row)
    cols = ["origin"] + [f"{u} {m}" for u in uids for m in ("WAPE", "cov80")]
    print("\n## Sample: 80% band over 22 unseen windows (origin each month, 92 days, "
          "daily)")
    print(_table(rows, cols))
    pooled = {u: float(np.concatenate(inside[u]).mean()) for u in uids}
    print("pooled share of days inside the 80% band: "
          + ", ".join(f"{u} {v:.3f}" for u, v in pooled.items())
          + f" ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    sample_section()
    holdout_section()
    rolling_section()
    print("\n(real call-centre and arrivals data: bench/bench_real.py)")
