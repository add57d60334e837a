"""Chat staffing with concurrency: agents who each handle up to ``concurrency`` chats.

Model
-----
An agent has ``c = concurrency`` chat slots. ``N`` agents give ``N c`` slots, and the
chat queue is an Erlang C (M/M/s) queue on slots, ``s = N c``:

* chats arrive as a Poisson stream and wait in one FIFO queue for any free slot;
* ``aht_s`` is the handle time of one chat *measured at that concurrency* (the elapsed
  time from pick-up to close while the agent runs ``c`` chats), exponentially
  distributed and the same whether the agent currently holds 1 or ``c`` chats;
* no abandonment; slots (and agents) are interchangeable.

The traffic ``A = volume * aht_s / interval_s`` is in slot-Erlangs. The minimal slot
count ``s*`` meeting the target comes from :func:`staffing.erlang.required_agents`, and
the minimal agents is the exact integer ``ceil(s* / c)``: N agents meet the target if
and only if ``N c >= s*``, because the service level rises with the slot count.

Assumption to keep in mind: at low load an agent holding fewer than ``c`` chats usually
works them faster than ``aht_s``; using the full-concurrency handle time throughout is
conservative (it slightly over-staffs quiet intervals). Occupancy is slot utilisation,
``A / (N c)``.

References
----------
Erlang C on the pooled slots; see :mod:`staffing.erlang`. The "handle time measured at
concurrency" convention follows common WFM practice for chat (e.g. Call Centre Helper,
"How to Calculate Staffing for Webchat"), stated here as an assumption.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import StaffingInputError, as_agents, as_positive
from .erlang import average_speed_of_answer, occupancy, required_agents, service_level
from .erlang_kernel import as_output as _out

__all__ = [
    "chat_average_speed_of_answer",
    "chat_occupancy",
    "chat_required_agents",
    "chat_service_level",
]


def _concurrency(concurrency: ArrayLike) -> NDArray:
    c = as_agents("concurrency", concurrency)
    if np.any(c < 1):
        raise StaffingInputError(f"concurrency must be >= 1, got {c[c < 1].flat[0]!r}")
    return c


def _slots(agents: ArrayLike, concurrency: ArrayLike) -> NDArray:
    return as_agents("agents", agents) * _concurrency(concurrency)


def chat_service_level(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    threshold_s: ArrayLike,
    concurrency: ArrayLike,
) -> NDArray:
    """Share of chats picked up within ``threshold_s`` with ``agents * concurrency`` slots.

    Parameters
    ----------
    volume : array_like
        Chats offered in the interval (>= 0).
    aht_s : array_like
        Handle time of one chat at full concurrency, seconds (> 0).
    interval_s : array_like
        Interval length in seconds (> 0).
    agents : array_like
        Productive chat agents (whole numbers >= 0).
    threshold_s : array_like
        Threshold in seconds (>= 0).
    concurrency : array_like
        Chats per agent at once (whole number >= 1).

    Returns
    -------
    ndarray of float
        Erlang C service level on the slots, in [0, 1].

    Raises
    ------
    StaffingInputError
        For invalid inputs (``concurrency`` must be a whole number >= 1).

    Examples
    --------
    >>> round(float(chat_service_level(300, 360, 1800, 25, 30, 3)), 4)
    0.9885
    """
    return service_level(volume, aht_s, interval_s, _slots(agents, concurrency), threshold_s)


def chat_average_speed_of_answer(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    concurrency: ArrayLike,
) -> NDArray:
    """Mean wait before pick-up in seconds (``inf`` when slots <= traffic).

    Examples
    --------
    >>> round(float(chat_average_speed_of_answer(300, 360, 1800, 25, 3)), 2)
    0.97
    """
    return average_speed_of_answer(volume, aht_s, interval_s, _slots(agents, concurrency))


def chat_occupancy(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    agents: ArrayLike,
    concurrency: ArrayLike,
) -> NDArray:
    """Slot utilisation ``min(A / (N c), 1)``; 0 with no volume.

    Examples
    --------
    >>> float(chat_occupancy(300, 360, 1800, 25, 3))
    0.8
    """
    return occupancy(volume, aht_s, interval_s, _slots(agents, concurrency))


def chat_required_agents(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_s: ArrayLike,
    target_sl: ArrayLike,
    threshold_s: ArrayLike,
    concurrency: ArrayLike,
    max_occupancy: ArrayLike | None = None,
) -> NDArray:
    """Minimal chat agents: ``ceil(s* / concurrency)`` for the minimal slot count ``s*``.

    Parameters
    ----------
    volume, aht_s, interval_s, threshold_s, concurrency
        As :func:`chat_service_level`.
    target_sl : array_like
        Target share in (0, 1).
    max_occupancy : array_like, optional
        Cap on slot utilisation in (0, 1].

    Returns
    -------
    ndarray of int64
        Agents per interval; 0 where volume is 0.

    Raises
    ------
    StaffingInputError
        For invalid inputs.

    Examples
    --------
    >>> chat_required_agents([0, 300, 3000], 360, 1800, 0.8, 30, 3).tolist()
    [0, 23, 204]
    """
    c = as_positive("concurrency", _concurrency(concurrency)).astype(np.int64)
    slots = required_agents(volume, aht_s, interval_s, target_sl, threshold_s, max_occupancy)
    return _out(np.asarray(-((-np.asarray(slots)) // c), dtype=np.int64))
