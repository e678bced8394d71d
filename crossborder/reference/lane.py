"""The green lane's rules and the gates' opening hours, as shipped data.

``lane_rules.json`` holds the green list (HS prefixes with validity dates),
the lane each rule sends a truck to, traders' standing, the random-selection
rate, the published target per step and lane, and the release promises for
perishables; ``gate_hours.json`` holds each gate's opening windows on its own
clock. Both are operating values to be agreed between the two sides: a
``citation`` stays empty until an official text confirms the figure. A node
whose agency publishes other targets names its own file of them in its
settings (``CROSSBORDER_LANE_TARGETS_FILE``), read by :func:`lane_targets`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from crossborder.domain.errors import ConfigurationError, NotFound
from crossborder.domain.lane import GateHours, LaneRules, Targets, WorkingCalendar
from crossborder.domain.validation import violations_from
from crossborder.reference.calendars import calendar_for
from crossborder.reference.gates import gate


def _read(name: str) -> bytes:
    return resources.files("crossborder.reference").joinpath(f"data/{name}").read_bytes()


@cache
def lane_rules() -> LaneRules:
    return LaneRules.model_validate_json(_read("lane_rules.json"))


def lane_targets(path: Path | None) -> Targets:
    """The targets a node measures against: its own file's when it names one, else the shipped.

    The file is read at each use, so a new version applies from the next
    command; one that cannot be read as targets is ``LANE_TARGETS_FILE_INVALID``.
    """
    if path is None:
        return lane_rules().targets
    try:
        return TypeAdapter(Targets).validate_json(path.read_bytes())
    except OSError as exc:
        raise ConfigurationError("LANE_TARGETS_FILE_INVALID", path=str(path)) from exc
    except ValidationError as exc:
        raise ConfigurationError(
            "LANE_TARGETS_FILE_INVALID", path=str(path), violations=violations_from(exc)
        ) from None


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
