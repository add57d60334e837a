"""Benchmark: load 2M- and 10M-row contact histories; rows per second and peak memory.

Each file is a 5-minute, 5-channel history (``ds, channel, contacts, aht_s``) written as
CSV, gzip CSV and Parquet into a temporary directory. Every load runs in a fresh
subprocess, twice:

- timed, as a user runs it: rows per second of ``forecast.load_contacts``;
- measured: peak resident memory above the process's resident size before the load
  (Linux ``VmHWM``, reset before the load), with glibc told to return freed memory at
  once and Arrow allocating through malloc, so the figure follows the live data rather
  than the allocators' caches (slower, hence not timed); for CSV also the Python-side
  peak (``tracemalloc``: numpy and pandas);

each also as a multiple of the decoded (uncompressed CSV) size. A file of 2M repeated
rows is timed as well: it must be refused quickly with a short message.

Run from the repository root: ``python bench/bench_loaders.py [--rows 2000000 10000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ["chat", "voice", "email", "social", "callback"]

_PROBE = r"""
import json, sys, time, tracemalloc
import pyarrow as pa
if sys.argv[4] == "1":
    pa.set_memory_pool(pa.system_memory_pool())
from forecast.data import DataError, load_contacts


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024


path, small, trace = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
load_contacts(small)  # imports and first-call caches
base = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
try:
    rows, error = len(load_contacts(path)), ""
except DataError as exc:
    rows, error = 0, str(exc)
elapsed = time.perf_counter() - t0
print(json.dumps({"rows": rows, "s": elapsed, "rss": status("VmHWM:") - base,
                  "py": tracemalloc.get_traced_memory()[1] if trace else 0,
                  "error": error}))
"""


def make_history(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2015-01-01", periods=n_rows // len(CHANNELS), freq="5min")
    frame = pd.DataFrame({
        "ds": np.repeat(ds.to_numpy(), len(CHANNELS)),
        "channel": np.tile(CHANNELS, len(ds)),
        "contacts": rng.poisson(6.0, len(ds) * len(CHANNELS)),
    })
    frame["aht_s"] = np.round(rng.gamma(4.0, 80.0, len(frame)), 1)
    return frame


def probe(path: Path, small: Path, trace: bool = False, memory: bool = False) -> dict:
    env = dict(os.environ)
    if memory:
        env.update(MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    out = subprocess.run([sys.executable, "-c", _PROBE, str(path), str(small),
                          "1" if trace else "0", "1" if memory else "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000_000, 10_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small.csv"
        make_history(100).to_csv(small, index=False, date_format="%Y-%m-%d %H:%M:%S")
        for n in args.rows:
            frame = make_history(n)
            paths = {"csv": Path(tmp) / "c.csv", "csv.gz": Path(tmp) / "c.csv.gz",
                     "parquet": Path(tmp) / "c.parquet"}
            for fmt, path in paths.items():
                if fmt == "parquet":
                    frame.to_parquet(path, index=False)
                else:
                    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
            del frame
            decoded = paths["csv"].stat().st_size
            print(f"{n:,} rows, decoded CSV {decoded / 2**20:,.0f} MiB")
            for fmt, path in paths.items():
                r = probe(path, small)
                m = probe(path, small, trace=fmt == "csv", memory=True)
                assert r["rows"] == n == m["rows"], (r, m)
                py = f", Python peak {m['py'] / decoded:.2f}x" if m["py"] else ""
                print(f"  {fmt:8s} {n / r['s'] / 1e6:5.2f} M rows/s ({r['s']:5.1f} s), peak "
                      f"memory {m['rss'] / 2**20:,.0f} MiB = {m['rss'] / decoded:.2f}x decoded"
                      f"{py}")
            for path in paths.values():
                path.unlink()
        dup = Path(tmp) / "dup.csv"
        dup.write_text("ds,channel,contacts,aht_s\n" + "2024-01-01 08:00:00,chat,1,312.5\n"
                       * 2_000_000)
        r, m = probe(dup, small), probe(dup, small, memory=True)
        print(f"2,000,000 repeated rows: refused in {r['s']:.1f} s, peak memory "
              f"{m['rss'] / 2**20:,.0f} MiB, message of {len(r['error'])} characters")


if __name__ == "__main__":
    main()
