"""Input validation shared by the staffing modules.

Every public staffing function validates its arguments at the boundary with these
helpers, so that a bad value fails loudly with the argument's name and value instead
of turning into NaN deep inside a vectorised formula.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "StaffingInputError",
    "as_agents",
    "as_nonnegative",
    "as_positive",
    "as_share",
]


class StaffingInputError(ValueError):
    """A staffing argument is negative, NaN, infinite, or outside its allowed range.

    The message names the argument and shows the first offending value.
    """


def _as_float(name: str, value: ArrayLike) -> NDArray[np.float64]:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StaffingInputError(f"{name} must be numeric, got {value!r}") from exc
    bad = ~np.isfinite(arr)
    if bad.any():
        raise StaffingInputError(f"{name} must be finite, got {arr[bad].flat[0]!r}")
    return arr


def as_nonnegative(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Return ``value`` as a float array, raising unless every entry is finite and >= 0."""
    arr = _as_float(name, value)
    bad = arr < 0
    if bad.any():
        raise StaffingInputError(f"{name} must be >= 0, got {arr[bad].flat[0]!r}")
    return arr


def as_positive(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Return ``value`` as a float array, raising unless every entry is finite and > 0."""
    arr = _as_float(name, value)
    bad = arr <= 0
    if bad.any():
        raise StaffingInputError(f"{name} must be > 0, got {arr[bad].flat[0]!r}")
    return arr


def as_share(
    name: str, value: ArrayLike, *, low_open: bool = True, high_open: bool = True
) -> NDArray[np.float64]:
    """Return ``value`` as a float array of shares, raising unless inside the interval.

    The interval is (0, 1) by default; ``low_open=False`` admits 0 and ``high_open=False``
    admits 1.
    """
    arr = _as_float(name, value)
    low_bad = arr <= 0 if low_open else arr < 0
    high_bad = arr >= 1 if high_open else arr > 1
    bad = low_bad | high_bad
    if bad.any():
        lo = "(0" if low_open else "[0"
        hi = "1)" if high_open else "1]"
        raise StaffingInputError(f"{name} must be in {lo}, {hi}, got {arr[bad].flat[0]!r}")
    return arr


def as_agents(name: str, value: ArrayLike) -> NDArray[np.float64]:
    """Return a whole number of agents (or slots) as a float array.

    Raises unless every entry is finite, >= 0 and integer-valued (``3.0`` is fine,
    ``2.5`` is not: round productive agents down, or use ``rostered_agents`` first).
    """
    arr = as_nonnegative(name, value)
    bad = arr != np.floor(arr)
    if bad.any():
        raise StaffingInputError(
            f"{name} must be a whole number of agents, got {arr[bad].flat[0]!r}"
        )
    return arr
