"""Staffing: queueing models that turn contact volume into agents (pure, vectorised)."""

from ._checks import StaffingInputError
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

__all__ = [
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
]
