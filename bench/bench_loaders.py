"""Benchmark: load a 5-year, 5-minute, 5-channel contact history (about 2.6M rows).

Writes the file into a temporary directory (CSV, gzip CSV, Parquet), loads it with
``forecast.load_contacts`` and prints rows per second for each format. Run from the
repository root: ``python bench/bench_loaders.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from forecast.data import load_contacts  # noqa: E402

CHANNELS = ["chat", "voice", "email", "social", "callback"]


def make_history(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01-01", periods=5 * 365 * 288, freq="5min")
    frame = pd.DataFrame(
        {
            "ds": np.repeat(ds.to_numpy(), len(CHANNELS)),
            "channel": np.tile(CHANNELS, len(ds)),
            "contacts": rng.poisson(6.0, len(ds) * len(CHANNELS)),
        }
    )
    frame["aht_s"] = np.round(rng.gamma(4.0, 80.0, len(frame)), 1)
    return frame


def main() -> None:
    frame = make_history()
    n = len(frame)
    print(f"rows: {n:,} (5 years x 288 five-minute intervals x {len(CHANNELS)} channels)")
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            "csv": Path(tmp) / "contacts.csv",
            "csv.gz": Path(tmp) / "contacts.csv.gz",
            "parquet": Path(tmp) / "contacts.parquet",
        }
        frame.to_csv(paths["csv"], index=False, date_format="%Y-%m-%d %H:%M:%S")
        frame.to_csv(paths["csv.gz"], index=False, date_format="%Y-%m-%d %H:%M:%S")
        frame.to_parquet(paths["parquet"], index=False)
        for name, path in paths.items():
            t0 = time.perf_counter()
            loaded = load_contacts(path)
            elapsed = time.perf_counter() - t0
            assert len(loaded) == n and loaded.attrs["interval_s"] == 300
            size_mb = path.stat().st_size / 1e6
            print(f"{name:8s} {size_mb:7.1f} MB  {n / elapsed / 1e6:5.2f} M rows/s  "
                  f"({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
