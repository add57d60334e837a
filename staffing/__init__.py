"""Staffing: queueing models that turn contact volume into agents (pure, vectorised)."""

from ._checks import StaffingInputError
from .chat import (
    chat_average_speed_of_answer,
    chat_occupancy,
    chat_required_agents,
    chat_service_level,
)
from .deferred import (
    DeferredInfeasibleError,
    deferred_backlog,
    deferred_max_wait,
    deferred_required_agents,
    deferred_waits,
)
from .erlang import (
    abandon_rate,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    occupancy,
    required_agents,
    rostered_agents,
    service_level,
    traffic_erlangs,
)
from .erlang_a import ErlangAMetrics, erlang_a_metrics
from .kpis import achieved_kpis, daily_kpis
from .policy import ChannelPolicy, Shrinkage
from .requirements import compute_requirements, fte_hours
from .roster import Roster, weekly_roster
from .shifts import ShiftPlan, ShiftRules, ShiftType, solve_shifts

__all__ = [
    "DeferredInfeasibleError",
    "deferred_backlog",
    "deferred_max_wait",
    "deferred_required_agents",
    "deferred_waits",
    "StaffingInputError",
    "abandon_rate",
    "average_speed_of_answer",
    "erlang_b",
    "erlang_c",
    "occupancy",
    "required_agents",
    "rostered_agents",
    "service_level",
    "traffic_erlangs",
    "ErlangAMetrics",
    "chat_average_speed_of_answer",
    "chat_occupancy",
    "chat_required_agents",
    "chat_service_level",
    "erlang_a_metrics",
    "ChannelPolicy",
    "ShiftPlan",
    "ShiftRules",
    "ShiftType",
    "Shrinkage",
    "achieved_kpis",
    "compute_requirements",
    "daily_kpis",
    "fte_hours",
    "solve_shifts",
    "Roster",
    "weekly_roster",
]
