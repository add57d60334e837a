"""Cache of forecast results keyed by a hash of every input.

A :class:`ForecastCache` keeps results in memory and, when given a ``cache_dir`` by the
caller, also as pickle files there (so a restarted app does not refit). Keys are SHA-256
digests of the inputs: frames hash by their values, index and column names
(:func:`pandas.util.hash_pandas_object`), other values by ``repr``. Stored and returned
values are copies, so callers cannot corrupt the cache by mutating a result.

Examples
--------
>>> import pandas as pd
>>> c = ForecastCache()
>>> k = c.key("f", pd.DataFrame({"a": [1, 2]}), 7)
>>> c.get(k) is None
True
>>> c.put(k, pd.DataFrame({"x": [1.0]}))
>>> c.get(k)["x"].tolist()
[1.0]
"""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ForecastCache"]


def _feed(h: hashlib._Hash, obj: Any) -> None:
    if isinstance(obj, pd.DataFrame):
        h.update(b"DF" + repr(list(obj.columns)).encode() + repr(list(obj.dtypes)).encode())
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
    elif isinstance(obj, pd.Series):
        h.update(b"S" + repr(obj.name).encode())
        h.update(pd.util.hash_pandas_object(obj, index=True).to_numpy().tobytes())
    elif isinstance(obj, np.ndarray):
        h.update(b"A" + repr((obj.dtype.str, obj.shape)).encode() + obj.tobytes())
    elif isinstance(obj, Mapping):
        h.update(b"M")
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
    elif isinstance(obj, list | tuple):
        h.update(b"L")
        for v in obj:
            _feed(h, v)
    else:
        h.update(b"R" + repr(obj).encode())


class ForecastCache:
    """In-memory (and optional on-disk) cache of fitted results.

    Parameters
    ----------
    cache_dir : str or Path, optional
        Directory for pickle files; created on first write. Only pass a directory you
        trust: pickle files are code.
    max_items : int
        In-memory entries kept (oldest dropped first).
    """

    def __init__(self, cache_dir: str | os.PathLike | None = None, max_items: int = 64):
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.max_items = int(max_items)
        self._mem: dict[str, Any] = {}

    @staticmethod
    def key(*parts: Any) -> str:
        """SHA-256 hex digest of ``parts`` (frames by value, others by ``repr``)."""
        h = hashlib.sha256()
        for p in parts:
            _feed(h, p)
        return h.hexdigest()

    def get(self, key: str) -> Any | None:
        """The stored value for ``key`` (a copy) or None."""
        if key in self._mem:
            return copy.deepcopy(self._mem[key])
        if self.cache_dir is not None:
            f = self.cache_dir / f"{key}.pkl"
            if f.is_file():
                with f.open("rb") as fh:
                    val = pickle.load(fh)
                self._remember(key, val)
                return copy.deepcopy(val)
        return None

    def put(self, key: str, value: Any) -> None:
        """Store a copy of ``value`` under ``key`` (memory, and disk when configured)."""
        val = copy.deepcopy(value)
        self._remember(key, val)
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_dir / f"{key}.tmp"
            with tmp.open("wb") as fh:
                pickle.dump(val, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self.cache_dir / f"{key}.pkl")

    def _remember(self, key: str, val: Any) -> None:
        self._mem[key] = val
        while len(self._mem) > self.max_items:
            self._mem.pop(next(iter(self._mem)))

    def clear(self) -> None:
        """Drop the in-memory entries (files on disk are kept)."""
        self._mem.clear()

    def __len__(self) -> int:
        return len(self._mem)
