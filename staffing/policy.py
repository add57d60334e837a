"""Per-channel staffing policy: queueing model, service target, shrinkage and opening hours.

A :class:`ChannelPolicy` is a frozen, validated value object. It says *how* a channel is
staffed (which queueing model, which target) and is shared by requirements
(:mod:`staffing.requirements`), the achieved-KPI model (:mod:`staffing.kpis`) and the shift
solver (opening hours).

Shrinkage is either one share (``0.3``) or a :class:`Shrinkage` table by month or by weekday.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from staffing.queue_models import QUEUE_MODELS

__all__ = [
    "MODELS",
    "ChannelPolicy",
    "PolicyError",
    "Shrinkage",
    "open_mask",
    "parse_clock",
]

MODELS = tuple(QUEUE_MODELS)  # ("erlang_c", "erlang_a", "chat", "deferred")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class PolicyError(ValueError):
    """A staffing policy parameter is invalid (the message names the parameter and value)."""


def parse_clock(value: str | int | float) -> int:
    """Seconds after midnight of a wall-clock time ``"HH:MM"`` (``"24:00"`` allowed).

    Numbers are taken as seconds after midnight already.

    Examples
    --------
    >>> parse_clock("08:30")
    30600
    """
    if isinstance(value, (int, float, np.integer, np.floating)):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            hh, mm = text.split(":")[:2]
            seconds = int(hh) * 3600 + int(mm) * 60
        except ValueError as exc:
            raise PolicyError(f"time of day must be 'HH:MM', got {value!r}") from exc
    if not 0 <= seconds <= 86400:
        raise PolicyError(f"time of day must be within 00:00..24:00, got {value!r}")
    return int(seconds)


def _check_share(name: str, value: float, upper_open: bool = True) -> float:
    value = float(value)
    ok = 0.0 <= value < 1.0 if upper_open else 0.0 < value <= 1.0
    if not (math.isfinite(value) and ok):
        rng = "[0, 1)" if upper_open else "(0, 1]"
        raise PolicyError(f"{name} must be a share in {rng}, got {value!r}")
    return value


def _key_index(key: object, names: tuple[str, ...], base: int) -> int:
    if isinstance(key, str):
        k = key.strip().lower()[:3]
        if k in names:
            return names.index(k)
        try:
            key = int(key)
        except ValueError as exc:
            raise PolicyError(f"unknown shrinkage key {key!r}") from exc
    idx = int(key) - base  # type: ignore[call-overload]
    if not 0 <= idx < len(names):
        raise PolicyError(f"shrinkage key {key!r} out of range")
    return idx


@dataclass(frozen=True)
class Shrinkage:
    """Shrinkage share by month (12 values, January first) or weekday (7 values, Monday first).

    Build with :meth:`monthly` or :meth:`weekly`; ``by="constant"`` holds one value.

    Examples
    --------
    >>> s = Shrinkage.monthly({11: 0.25, 12: 0.35}, default=0.3)
    >>> s.at(pd.to_datetime(["2024-11-05", "2024-12-24", "2024-01-01"])).tolist()
    [0.25, 0.35, 0.3]
    """

    by: str
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        sizes = {"constant": 1, "month": 12, "weekday": 7}
        if self.by not in sizes:
            raise PolicyError(f"Shrinkage.by must be one of {sorted(sizes)}, got {self.by!r}")
        vals = tuple(_check_share("shrinkage", v) for v in self.values)
        if len(vals) != sizes[self.by]:
            raise PolicyError(
                f"Shrinkage by {self.by} needs {sizes[self.by]} values, got {len(vals)}"
            )
        object.__setattr__(self, "values", vals)

    @classmethod
    def monthly(cls, table: Mapping[object, float], default: float = 0.0) -> Shrinkage:
        """Table by month: keys 1..12 or month names (``"Nov"``); others get ``default``."""
        vals = [float(default)] * 12
        for key, v in table.items():
            vals[_key_index(key, _MONTHS, 1)] = float(v)
        return cls("month", tuple(vals))

    @classmethod
    def weekly(cls, table: Mapping[object, float], default: float = 0.0) -> Shrinkage:
        """Table by weekday: keys 0..6 (Monday = 0) or day names (``"Sat"``)."""
        vals = [float(default)] * 7
        for key, v in table.items():
            vals[_key_index(key, _WEEKDAYS, 0)] = float(v)
        return cls("weekday", tuple(vals))

    def at(self, ds: object) -> np.ndarray:
        """Shrinkage share at each timestamp of ``ds`` (array-like of datetimes)."""
        idx = pd.DatetimeIndex(np.atleast_1d(pd.to_datetime(ds)))
        table = np.asarray(self.values, dtype=float)
        if self.by == "constant":
            return np.full(len(idx), table[0])
        if self.by == "month":
            return table[np.asarray(idx.month) - 1]
        return table[np.asarray(idx.day_of_week)]


@dataclass(frozen=True)
class ChannelPolicy:
    """How one channel is staffed.

    Parameters
    ----------
    channel : str
        Channel name as in the contacts/forecast frames (``"voice"``, ``"chat"``, ``"email"``).
    model : {"erlang_c", "erlang_a", "chat", "deferred"}
        Queueing model. ``"erlang_a"`` needs ``patience_s``; ``"deferred"`` needs
        ``response_target_s``; ``"chat"`` uses ``concurrency``.
    target_sl, threshold_s : float
        Service level target: share (0..1] of contacts answered within ``threshold_s`` seconds.
    patience_s : float, optional
        Mean customer patience in seconds (Erlang A abandonment; also used by ``"chat"`` KPIs).
    concurrency : int
        Chats an agent handles at once (``"chat"`` only; AHT is measured at this concurrency).
    response_target_s : float, optional
        Deferred work (email): every item answered within this many seconds.
    shrinkage : float or Shrinkage
        Share of paid time not available for contacts (breaks, training, absence).
        Rostered agents = ceil(agents / (1 - shrinkage)).
    max_occupancy : float, optional
        Cap on agent occupancy in (0, 1].
    open_hours : tuple of str, optional
        ``("08:00", "22:00")`` wall-clock opening hours, every day; ``None`` = 24 h.

    Raises
    ------
    PolicyError
        Any parameter out of range, naming it and its value.

    Examples
    --------
    >>> p = ChannelPolicy("voice", "erlang_a", target_sl=0.8, threshold_s=20, patience_s=120,
    ...                   shrinkage=0.3, open_hours=("08:00", "22:00"))
    >>> p.open_seconds
    (28800, 79200)
    """

    channel: str
    model: str = "erlang_c"
    target_sl: float = 0.8
    threshold_s: float = 20.0
    patience_s: float | None = None
    concurrency: int = 1
    response_target_s: float | None = None
    shrinkage: float | Shrinkage = 0.0
    max_occupancy: float | None = None
    open_hours: tuple[str, str] | None = None
    _open: tuple[int, int] = field(default=(0, 86400), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.channel, str) or not self.channel:
            raise PolicyError(f"channel must be a non-empty string, got {self.channel!r}")
        if self.model not in QUEUE_MODELS:
            raise PolicyError(f"model must be one of {tuple(QUEUE_MODELS)}, got {self.model!r}")
        qm = QUEUE_MODELS[self.model]
        if not qm.deferred:
            _check_share("target_sl", self.target_sl, upper_open=False)
            if not (math.isfinite(self.threshold_s) and self.threshold_s >= 0):
                raise PolicyError(f"threshold_s must be >= 0 seconds, got {self.threshold_s!r}")
        if self.patience_s is not None and not (self.patience_s > 0):
            raise PolicyError(f"patience_s must be > 0 seconds, got {self.patience_s!r}")
        if "patience_s" in qm.needs and self.patience_s is None:
            raise PolicyError(
                f"model {self.model!r} needs patience_s (mean patience in seconds)")
        if int(self.concurrency) != self.concurrency or self.concurrency < 1:
            raise PolicyError(f"concurrency must be an integer >= 1, got {self.concurrency!r}")
        if "response_target_s" in qm.needs:
            if self.response_target_s is None or not self.response_target_s > 0:
                raise PolicyError(
                    f"model 'deferred' needs response_target_s > 0, got {self.response_target_s!r}"
                )
        if isinstance(self.shrinkage, Shrinkage):
            pass
        elif isinstance(self.shrinkage, Mapping):
            raise PolicyError(
                "shrinkage table: use Shrinkage.monthly(...) or Shrinkage.weekly(...)"
            )
        else:
            _check_share("shrinkage", self.shrinkage)
            object.__setattr__(self, "shrinkage", float(self.shrinkage))
        if self.max_occupancy is not None:
            _check_share("max_occupancy", self.max_occupancy, upper_open=False)
        if self.open_hours is not None:
            try:
                start, end = self.open_hours
            except (TypeError, ValueError) as exc:
                raise PolicyError(
                    f"open_hours must be (open, close) like ('08:00', '22:00'), "
                    f"got {self.open_hours!r}"
                ) from exc
            o, c = parse_clock(start), parse_clock(end)
            if c <= o:
                raise PolicyError(f"open_hours close must be after open, got {self.open_hours!r}")
            object.__setattr__(self, "open_hours", (str(start), str(end)))
            object.__setattr__(self, "_open", (o, c))

    @property
    def open_seconds(self) -> tuple[int, int]:
        """Opening hours as seconds after midnight ``(open, close)``."""
        return self._open

    def shrinkage_at(self, ds: object) -> np.ndarray:
        """Shrinkage share at each timestamp in ``ds``."""
        n = len(np.atleast_1d(pd.to_datetime(ds)))
        if isinstance(self.shrinkage, Shrinkage):
            return self.shrinkage.at(ds)
        return np.full(n, float(self.shrinkage))


def open_mask(ds: object, interval_s: int, open_hours: tuple[int, int] | None) -> np.ndarray:
    """True for intervals ``[ds, ds + interval_s)`` that lie inside the opening hours.

    An interval counts as open when it overlaps the opening window at all.
    """
    idx = pd.DatetimeIndex(np.atleast_1d(pd.to_datetime(ds)))
    if open_hours is None:
        return np.ones(len(idx), dtype=bool)
    o, c = open_hours
    sod = np.asarray((idx - idx.normalize()).total_seconds(), dtype=float)
    return (sod + interval_s > o) & (sod < c)
