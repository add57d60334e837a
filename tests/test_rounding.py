"""Exact rounding of rostered agents and of the occupancy bound.

Reference: exact rational arithmetic with ``fractions.Fraction`` on the decimal the
user typed (``Fraction("0.3") == 3/10``), never floats.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffing import StaffingInputError, required_agents, rostered_agents


def _exact_ceil(num: Fraction) -> int:
    return -((-num.numerator) // num.denominator)


def test_the_float_trap_exists():
    # why this file exists: the float quotient is one ulp above 30
    assert math.ceil(21 / (1 - 0.3)) == 31
    assert rostered_agents(21, 0.3) == 30


def test_rostered_agents_full_grid_of_percent_shrinkage():
    shrink = [f"0.{k:02d}" for k in range(0, 100)]
    agents = np.arange(0, 301)
    for s in shrink:
        got = rostered_agents(agents, float(s))
        want = [_exact_ceil(Fraction(int(n)) / (1 - Fraction(s))) for n in agents]
        assert got.tolist() == want, s


@settings(max_examples=200, deadline=None)
@given(
    agents=st.integers(0, 100_000),
    shrink=st.decimals(min_value=0, max_value="0.9999", places=4),
)
def test_rostered_agents_match_fractions(agents, shrink):
    want = _exact_ceil(Fraction(agents) / (1 - Fraction(str(shrink))))
    assert rostered_agents(agents, float(shrink)) == want


def test_rostered_agents_vectorised_and_typed():
    got = rostered_agents([21, 22, 0, 14], [0.3, 0.3, 0.5, 0.3])
    assert got.dtype == np.int64
    assert got.tolist() == [30, 32, 0, 20]


@pytest.mark.parametrize(("agents", "shrink"), [(-1, 0.3), (2.5, 0.3), (10, 1.0), (10, -0.1)])
def test_rostered_agents_rejects_bad_input(agents, shrink):
    with pytest.raises(StaffingInputError):
        rostered_agents(agents, shrink)


def test_occupancy_bound_is_exact_for_decimal_caps():
    # traffic A (whole Erlangs) with a threshold so generous that the service level never
    # binds: the answer is max(A + 1, ceil(A / cap)), computed here with fractions
    caps = [f"0.{k:02d}" for k in range(50, 100)] + ["1"]
    traffic = np.arange(1, 301)
    for cap in caps:
        got = required_agents(traffic * 900, 1, 900, 0.5, 3600, max_occupancy=float(cap))
        want = [max(int(a) + 1, _exact_ceil(Fraction(int(a)) / Fraction(cap))) for a in traffic]
        assert got.tolist() == want, cap
