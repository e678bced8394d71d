"""The green lane's rules and the gates' opening hours, as shipped data.

``lane_rules.json`` holds the green list (HS prefixes with validity dates),
the lane each rule sends a truck to, traders' standing, the random-selection
rate, the published target per step and lane, and the release promises for
perishables; ``gate_hours.json`` holds each gate's opening windows on its own
clock. Both are operating values to be agreed between the two sides: a
``citation`` stays empty until an official text confirms the figure.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from pydantic import TypeAdapter

from crossborder.domain.errors import NotFound
from crossborder.domain.lane import GateHours, LaneRules, WorkingCalendar
from crossborder.reference.calendars import calendar_for
from crossborder.reference.gates import gate


def _read(name: str) -> bytes:
    return resources.files("crossborder.reference").joinpath(f"data/{name}").read_bytes()


@cache
def lane_rules() -> LaneRules:
    return LaneRules.model_validate_json(_read("lane_rules.json"))


@cache
def _hours() -> dict[str, GateHours]:
    rows = TypeAdapter(tuple[GateHours, ...]).validate_json(_read("gate_hours.json"))
    return {row.gate: row for row in rows}


def gate_hours(code: str) -> GateHours:
    """The opening hours of gate ``code``; ``GATE_HOURS_UNKNOWN`` if none are recorded."""
    try:
        return _hours()[code]
    except KeyError:
        raise NotFound("GATE_HOURS_UNKNOWN", gate=code) from None


def pair_calendars(code: str) -> tuple[WorkingCalendar, ...]:
    """The working calendars of both sides of gate ``code``: a pair works when both do."""
    return (calendar_for(gate(code).country), calendar_for(gate(gate(code).pair).country))
