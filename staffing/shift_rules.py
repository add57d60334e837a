"""Shift rules and shift plans: the value objects of the shift planner.

:class:`ShiftType` (length, break and break window), :class:`ShiftRules` (allowed shifts,
start and break grids, opening hours, multi-skilling, solver limits) and the solver's
result :class:`ShiftPlan`; :func:`staffing.shifts.solve_shifts` turns requirements and
rules into a plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from staffing.policy import ChannelPolicy, parse_clock

__all__ = ["ShiftError", "ShiftPlan", "ShiftRules", "ShiftType", "quality_words"]

_DAY_S = 86400


class ShiftError(ValueError):
    """Invalid shift rules or requirements (the message names the parameter and value)."""


@dataclass(frozen=True)
class ShiftType:
    """One allowed shift.

    Parameters
    ----------
    name : str
        Label, e.g. ``"8h"``.
    length_s : int
        Shift length in seconds from start to end, break included.
    break_s : int
        Break length in seconds (0 for none). The agent does not cover contacts during it.
    break_paid : bool
        Whether the break is paid (counts in paid hours).
    break_window_s : (int, int), optional
        Earliest and latest break *start*, in seconds after the shift start. Defaults to the
        middle third of the shift.
    """

    name: str
    length_s: int
    break_s: int = 0
    break_paid: bool = False
    break_window_s: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not 0 < self.length_s <= _DAY_S or int(self.length_s) != self.length_s:
            raise ShiftError(
                f"length_s must be whole seconds in (0, 86400], got {self.length_s!r}"
            )
        if not 0 <= self.break_s < self.length_s or int(self.break_s) != self.break_s:
            raise ShiftError(
                f"break_s must be whole seconds in [0, length_s), got {self.break_s!r}"
            )
        if self.break_s and self.break_window_s is None:
            third = self.length_s // 3
            window = (third, self.length_s - third - self.break_s)
            object.__setattr__(self, "break_window_s", window)
        if self.break_s:
            lo, hi = (int(v) for v in self.break_window_s)  # type: ignore[union-attr]
            if not 0 < lo <= hi or hi + self.break_s >= self.length_s:
                raise ShiftError(
                    f"break_window_s must satisfy 0 < earliest <= latest and latest + break_s "
                    f"< length_s, got {self.break_window_s!r} for shift {self.name!r}"
                )
            object.__setattr__(self, "break_window_s", (lo, hi))

    @property
    def paid_s(self) -> int:
        """Paid seconds per agent on this shift."""
        return int(self.length_s - (0 if self.break_paid else self.break_s))


def quality_words(optimal: bool, gap: float) -> str:
    """``"optimal"``, or ``"within X % of the best possible"`` for a relative ``gap`` to a
    lower bound (``X`` rounded up to 0.01 %, trailing zeros dropped).

    Examples
    --------
    >>> quality_words(True, 0.0), quality_words(False, 0.00074), quality_words(False, 0.2)
    ('optimal', 'within 0.08 % of the best possible', 'within 20 % of the best possible')
    """
    if optimal:
        return "optimal"
    pct = math.ceil(round(max(gap, 0.0) * 1e4, 6)) / 100
    return f"within {pct:.2f}".rstrip("0").rstrip(".") + " % of the best possible"


def _default_types() -> tuple[ShiftType, ...]:
    return (
        ShiftType("8h", 8 * 3600, 1800, False, (2 * 3600, 5 * 3600)),
        ShiftType("12h", 12 * 3600, 3600, False, (4 * 3600, 7 * 3600)),
    )


@dataclass(frozen=True)
class ShiftRules:
    """What shifts the planner allows.

    Parameters
    ----------
    shift_types : tuple of ShiftType
        Allowed shifts (default: 8 h with a 30-min unpaid break 2-5 h in, 12 h with a 1-h
        unpaid break 4-7 h in).
    start_grid_s : int
        Shift starts every ``start_grid_s`` seconds from midnight (default 30 min).
    break_grid_s : int, optional
        Break start offsets step (default ``start_grid_s``).
    open_hours : mapping channel -> (open, close), optional
        Shifts of a channel start and end inside these wall-clock hours (``"08:00"``,
        ``"22:00"``). A channel not listed takes its policy's hours, else the whole day.
    multiskill : tuple of str
        Channels that a pooled, multi-skilled team may serve (e.g. ``("chat", "voice")``);
        its shifts are reported under the channel ``"chat+voice"``.
    multiskill_cost_factor : float
        Cost of a multi-skilled paid hour relative to a single-skilled one.
    understaffing_penalty : float
        Cost of one uncovered agent-interval, in multiples of that interval's paid time
        (only used under a headcount cap).
    understaffing_weight : mapping channel -> float, optional
        Multiplies ``understaffing_penalty`` per channel, so that under a cap shared by
        several channels the agents go first where a gap costs most (e.g. 0.2 for email,
        which can wait, against 1 for live chat and voice). Not listed: 1.
    work_limit : float
        CP-SAT work limit per solved block (one day, one channel group), in its
        *deterministic* seconds (``max_deterministic_time``: counted work, roughly a second
        of one core, but the same on every machine). When it runs out, the best plan in
        hand is kept and its gap reported, so the plan never depends on machine speed.
    num_workers : int
        CP-SAT workers; more than one interleaves them deterministically
        (``interleave_search``), so the plan stays reproducible.
    seed : int
        CP-SAT's ``random_seed`` (default 1, CP-SAT's own default; on the sample's peak
        quarter seed 0 needed three times the work for a wider gap).
    relative_gap : float
        Stop a block's search once its plan costs at most ``(1 + relative_gap)`` times the
        block's LP lower bound (or CP-SAT's own bound); a plan at ``ceil(LP bound)`` is
        optimal and always stops the search.
    """

    shift_types: tuple[ShiftType, ...] = field(default_factory=_default_types)
    start_grid_s: int = 1800
    break_grid_s: int | None = None
    open_hours: Mapping[str, tuple[str, str]] | tuple = ()
    multiskill: tuple[str, ...] = ()
    multiskill_cost_factor: float = 1.0
    understaffing_penalty: float = 10.0
    understaffing_weight: Mapping[str, float] | tuple = ()
    work_limit: float = 1.0
    num_workers: int = 1
    seed: int = 1
    relative_gap: float = 0.01

    def __post_init__(self) -> None:
        if not self.shift_types:
            raise ShiftError("shift_types must list at least one ShiftType")
        object.__setattr__(self, "shift_types", tuple(self.shift_types))
        for name in ("start_grid_s", "break_grid_s"):
            v = getattr(self, name)
            if v is not None and (int(v) != v or not 0 < v <= _DAY_S):
                raise ShiftError(f"{name} must be whole seconds in (0, 86400], got {v!r}")
        hours = dict(self.open_hours)
        parsed = tuple(
            sorted((str(ch), (parse_clock(o), parse_clock(c))) for ch, (o, c) in hours.items())
        )
        for ch, (o, c) in parsed:
            if c <= o:
                raise ShiftError(f"open_hours[{ch!r}] close must be after open, got {hours[ch]!r}")
        object.__setattr__(self, "open_hours", parsed)
        object.__setattr__(self, "multiskill", tuple(self.multiskill))
        if len(self.multiskill) == 1:
            raise ShiftError(f"multiskill needs two or more channels, got {self.multiskill!r}")
        if not self.multiskill_cost_factor > 0:
            raise ShiftError(
                f"multiskill_cost_factor must be > 0, got {self.multiskill_cost_factor!r}"
            )
        if not self.understaffing_penalty > 0:
            raise ShiftError(
                f"understaffing_penalty must be > 0, got {self.understaffing_penalty!r}"
            )
        weights = tuple(sorted((str(ch), float(w))
                               for ch, w in dict(self.understaffing_weight).items()))
        for ch, w in weights:
            if not w > 0:
                raise ShiftError(f"understaffing_weight[{ch!r}] must be > 0, got {w!r}")
        object.__setattr__(self, "understaffing_weight", weights)
        if not self.work_limit > 0:
            raise ShiftError(f"work_limit must be > 0, got {self.work_limit!r}")
        if int(self.num_workers) != self.num_workers or self.num_workers < 1:
            raise ShiftError(f"num_workers must be an integer >= 1, got {self.num_workers!r}")
        if int(self.seed) != self.seed:
            raise ShiftError(f"seed must be an integer, got {self.seed!r}")
        if not self.relative_gap >= 0:
            raise ShiftError(f"relative_gap must be >= 0, got {self.relative_gap!r}")

    def weight(self, channel: str) -> float:
        """Multiplier of ``understaffing_penalty`` for ``channel`` (1 when not listed)."""
        return dict(self.understaffing_weight).get(channel, 1.0)

    def window(self, channel: str, policy: ChannelPolicy | None = None) -> tuple[int, int]:
        """Opening window ``(open_s, close_s)`` of ``channel`` for shifts."""
        hours = dict(self.open_hours)
        if channel in hours:
            return hours[channel]
        if policy is not None:
            return policy.open_seconds
        return (0, _DAY_S)


@dataclass(frozen=True)
class ShiftPlan:
    """Result of :func:`solve_shifts`.

    Attributes
    ----------
    shift_plan : DataFrame
        ``date, channel, shift, shift_start, shift_end, break_start, break_end, agents,
        paid_hours`` (timestamps; ``paid_hours`` per agent). One row per used column.
    coverage : DataFrame
        ``channel, ds, required, scheduled, gap, short``: ``scheduled`` agents on the floor
        (breaks removed, multi-skilled time allocated), ``gap = scheduled - required`` and
        ``short = max(required - scheduled, 0)``, exactly per interval.
    days : DataFrame
        ``date, group, status, objective_h, lower_bound_h, paid_hours, short_agent_hours,
        source, solver_s`` per solved block: ``status`` is ``"OPTIMAL"`` when no plan of the
        block costs less, else ``"FEASIBLE"``; ``objective_h`` its cost (paid hours, pooled
        hours times ``multiskill_cost_factor``, plus the understaffing penalty) and
        ``lower_bound_h`` the LP relaxation's bound on that cost, both in paid-hour units;
        ``source`` the step that produced the plan (``"rounded LP"`` or ``"CP-SAT"``);
        ``solver_s`` is a timing only (0 for a block reused from a cache).
    interval_s : int
        Interval length of the requirement.
    """

    shift_plan: pd.DataFrame
    coverage: pd.DataFrame
    days: pd.DataFrame
    interval_s: int

    @property
    def paid_hours(self) -> float:
        """Total paid hours of the plan."""
        return float(self.days["paid_hours"].sum())

    @property
    def objective(self) -> float:
        """Total objective in paid-hour units (paid hours + understaffing penalty)."""
        return float(self.days["objective_h"].sum())

    @property
    def lower_bound(self) -> float:
        """Sum over blocks of the LP-relaxation bound on the objective, in hours."""
        return float(self.days["lower_bound_h"].sum())

    @property
    def paid_hours_bound(self) -> float:
        """Lower bound on paid hours: no plan that leaves no more understaffing (penalty
        counted) can pay fewer hours. Per block, the plan's paid hours less its gap to the
        LP bound (``paid_hours - (objective_h - lower_bound_h)``, at least 0); with a
        ``multiskill_cost_factor`` other than 1, pooled hours count at that factor.
        Equals ``paid_hours`` when every block's plan is at its LP bound."""
        d = self.days
        slack = (d["objective_h"] - d["lower_bound_h"]).clip(lower=0.0)
        return float((d["paid_hours"] - slack).clip(lower=0.0).sum())

    @property
    def gap(self) -> float:
        """Relative gap ``objective / lower_bound - 1`` (0 when both are 0)."""
        lb = self.lower_bound
        return 0.0 if lb <= 0 else max(0.0, self.objective / lb - 1.0)

    @property
    def status(self) -> str:
        """``"OPTIMAL"`` when every block was proven optimal, else ``"FEASIBLE"``."""
        return "OPTIMAL" if (self.days["status"] == "OPTIMAL").all() else "FEASIBLE"

    @property
    def quality(self) -> str:
        """The plan's quality in words: ``"optimal"`` when every block was proven
        optimal, else ``"within X % of the best possible"`` with ``X`` the gap to the LP
        bound rounded up to 0.01 % (so the statement holds).

        Examples
        --------
        >>> days = pd.DataFrame({"status": ["FEASIBLE"], "objective_h": [100.5],
        ...                      "lower_bound_h": [100.0], "paid_hours": [100.5]})
        >>> ShiftPlan(pd.DataFrame(), pd.DataFrame(), days, 1800).quality
        'within 0.5 % of the best possible'
        """
        return quality_words(self.status == "OPTIMAL", self.gap)

    @property
    def short_agent_hours(self) -> float:
        """Uncovered requirement in agent-hours."""
        return float(self.coverage["short"].sum() * self.interval_s / 3600)

    @property
    def overstaffing(self) -> float:
        """Scheduled agent-hours above the requirement, as a share of required agent-hours."""
        req = float(self.coverage["required"].sum())
        over = float(np.clip(self.coverage["gap"], 0, None).sum())
        return 0.0 if req <= 0 else over / req
