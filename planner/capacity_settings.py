"""Capacity settings of a scenario: headcount, attrition, hiring pipeline and levers.

A value object of its own (the scenario's ``capacity`` field) so that
:mod:`planner.scenario` can validate it without importing the capacity planner, which
works on scenario results (:mod:`planner.capacity`, which re-exports it).

Examples
--------
>>> s = CapacitySettings(recruiting_weeks=4, training_weeks=3)
>>> s.lead_weeks, s.ramp
(7, (0.5, 0.7, 0.85))
"""

from __future__ import annotations

import datetime as dt
import math

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["CapacitySettings"]


class CapacitySettings(BaseModel):
    """Headcount, attrition, hiring pipeline and levers of a capacity plan.

    Weeks start on Monday; FTE are full-time equivalents of ``fte_hours_per_week`` paid
    hours (the plan's FTE); money is in the currency of ``cost_per_paid_hour``.

    Attributes
    ----------
    as_of : date, optional
        The day today's headcount is counted and the first decision can be taken (its
        Monday starts the plan); default 16 weeks before the horizon starts.
    headcount : mapping, optional
        Channel -> agents employed today (tenured, in FTE); a channel not listed starts
        with the plan's FTE of its first week.
    attrition_weekly : float
        Share of employed agents leaving each week (0.005 = 0.5 %, about 23 % a year).
    recruiting_weeks, training_weeks : int
        Weeks from the decision to the start of training, and of training (paid, no output).
    ramp : tuple of float
        Output of a new agent as a share of a tenured one's, by week on the floor; 100 %
        after the last listed week (default 50 / 70 / 85 %, then 100 %).
    class_min, class_max, classes_per_week : int
        Size of one hiring class and the classes that can start in one week (all channels).
    overtime_cap, overtime_premium : float
        Overtime as a share of the floor's hours at most, and its extra cost (0.5: time
        and a half).
    bpo_fte, bpo_cost_per_hour : float
        Outsourced capacity per week over all channels (FTE) and its price per hour;
        ``bpo_channels`` the channels it may serve (default: all).
    cost_per_hire : float
        Recruiting and onboarding cost of one hire (wages come on top).
    cross_training_weeks : int, optional
        Weeks an agent moved between channels trains before working in the new one;
        ``None`` (default) disables moves. ``cross_training_cost`` per agent moved.
    short_penalty_per_hour : float
        Price of one FTE-hour left short in the optimisation (reported apart from cost).
    mip_gap : float
        The solver stops once its plan is proven within this share of the least possible
        cost plus penalty (0.005: 0.5 %; 0: prove the optimum, slower on a full peak).
        Deterministic: the same inputs give the same plan, however fast the machine.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    as_of: dt.date | None = None
    headcount: dict[str, float] | None = None
    attrition_weekly: float = Field(default=0.005, ge=0.0, lt=0.5)
    recruiting_weeks: int = Field(default=4, ge=0, le=52)
    training_weeks: int = Field(default=3, ge=0, le=52)
    ramp: tuple[float, ...] = (0.5, 0.7, 0.85)
    class_min: int = Field(default=5, ge=1)
    class_max: int = Field(default=25, ge=1)
    classes_per_week: int = Field(default=2, ge=0, le=50)
    overtime_cap: float = Field(default=0.1, ge=0.0, le=1.0)
    overtime_premium: float = Field(default=0.5, ge=0.0, le=5.0)
    bpo_fte: float = Field(default=0.0, ge=0.0)
    bpo_cost_per_hour: float = Field(default=35.0, ge=0.0)
    bpo_channels: tuple[str, ...] | None = None
    cost_per_hire: float = Field(default=2500.0, ge=0.0)
    cross_training_weeks: int | None = Field(default=None, ge=0, le=52)
    cross_training_cost: float = Field(default=500.0, ge=0.0)
    short_penalty_per_hour: float = Field(default=200.0, gt=0.0)
    mip_gap: float = Field(default=0.005, ge=0.0, le=0.1)

    @field_validator("ramp")
    @classmethod
    def _ramp(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) > 26 or any(not 0.0 <= x <= 1.0 for x in v):
            raise ValueError(f"ramp {v!r}: at most 26 weekly shares, each in 0..1")
        return v

    @field_validator("headcount")
    @classmethod
    def _headcount(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        for ch, n in (v or {}).items():
            if not (n >= 0 and math.isfinite(n)):
                raise ValueError(f"headcount[{ch}] = {n!r} must be a number >= 0")
        return v

    @model_validator(mode="after")
    def _sizes(self) -> CapacitySettings:
        if self.class_max < self.class_min:
            raise ValueError(f"class_max {self.class_max} is below class_min {self.class_min}")
        return self

    @property
    def lead_weeks(self) -> int:
        """Weeks from a class's decision to its first week on the floor (L + T)."""
        return self.recruiting_weeks + self.training_weeks
