"""A scenario's assumptions as the staffing package's value objects.

:func:`channel_policies` gives one :class:`staffing.policy.ChannelPolicy` per channel,
:func:`shift_rules` the :class:`staffing.shifts.ShiftRules` and :func:`headcount_caps`
the caps the shift planner (or interval staffing) applies; the pipeline, capacity,
risk, live and simulation modules all take a scenario's staffing settings from here.

Examples
--------
>>> from planner.scenario import Scenario
>>> s = Scenario()
>>> sorted(channel_policies(s)), [t.name for t in shift_rules(s).shift_types]
(['chat', 'email', 'voice'], ['8h', '6h', '4h'])
>>> headcount_caps(s) is None
True
"""

from __future__ import annotations

from planner.scenario import Scenario
from staffing.policy import ChannelPolicy, Shrinkage
from staffing.shifts import ALL_CHANNELS, ShiftRules, ShiftType

__all__ = ["channel_policies", "headcount_caps", "shift_rules"]


def channel_policies(scenario: Scenario) -> dict[str, ChannelPolicy]:
    """One :class:`staffing.policy.ChannelPolicy` per scenario channel."""
    out = {}
    for name, c in scenario.channels.items():
        out[name] = ChannelPolicy(
            channel=name,
            model=c.model,
            target_sl=c.target_sl,
            threshold_s=c.threshold_s,
            patience_s=c.patience_s,
            concurrency=c.concurrency,
            response_target_s=c.response_target_s,
            shrinkage=(c.shrinkage if not c.shrinkage_by_month
                       else Shrinkage.monthly(c.shrinkage_by_month, default=c.shrinkage)),
            max_occupancy=c.max_occupancy,
            open_hours=None if c.open_hours is None else tuple(c.open_hours.split("-")),
        )
    return out


def shift_rules(scenario: Scenario) -> ShiftRules:
    """:class:`staffing.shifts.ShiftRules` from the scenario's shift settings.

    Shifts of 6 hours or more get one unpaid break of ``break_min`` minutes starting
    inside ``break_window_h`` (clipped to fit the shift); shorter shifts have none.
    """
    s = scenario.shifts
    types = []
    for length_h in s.lengths_h:
        length = int(round(length_h * 3600))
        brk = int(s.break_min * 60) if length_h >= 6 else 0
        window = None
        if brk:
            lo = int(s.break_window_h[0] * 3600)
            hi = min(int(s.break_window_h[1] * 3600), length - brk - s.start_step_min * 60)
            window = (lo, hi) if 0 < lo <= hi else None
        types.append(ShiftType(f"{length_h:g}h", length, brk, False, window))
    return ShiftRules(
        shift_types=tuple(types),
        start_grid_s=s.start_step_min * 60,
        work_limit=s.time_limit_s,  # CP-SAT's deterministic seconds: same plan on any machine
        understaffing_weight={ch: c.priority for ch, c in scenario.channels.items()},
    )


def headcount_caps(scenario: Scenario) -> dict[str, int] | None:
    """Headcount caps by channel, with the cap over all channels under
    :data:`staffing.shifts.ALL_CHANNELS`; ``None`` when the scenario sets none."""
    caps = {ch: c.headcount_cap for ch, c in scenario.channels.items()
            if c.headcount_cap is not None}
    if scenario.headcount_cap_total is not None:
        caps[ALL_CHANNELS] = scenario.headcount_cap_total
    return caps or None
