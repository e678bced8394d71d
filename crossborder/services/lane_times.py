"""Release times as recorded, the inspection queue, and the reason for a late release.

Every figure comes from the moments the node wrote when each step was
recorded (notice, decision, arrival, countersigned inspection, release), never
from a time a person typed: the WCO Time Release Study method that WTO TFA
Art. 7.6 asks members to publish with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crossborder.adapters.db.tables import Case, LaneTruckRow
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict
from crossborder.domain.lane import STEPS, Lane, LaneStatus, StepFigures, step_figures
from crossborder.reference.lane import lane_targets
from crossborder.services.lane import truck_case
from crossborder.services.node import Node

#: A truck waiting longer than this goes to the front with the perishables: new
#: perishables keep arriving after a closure, and must not starve the others.
AGING = timedelta(hours=2)


def _minutes(start: datetime | None, end: datetime | None) -> Decimal | None:
    if start is None or end is None:
        return None
    return Decimal((end - start) / timedelta(seconds=1)) / 60


def release_times(
    node: Node, gate: str | None, since: datetime, until: datetime
) -> list[StepFigures]:
    """Per step and lane: count, median, p90 and share within target, of trucks arrived in range.

    A truck belongs to the period of its arrival, not of its notice: the release
    clock starts when the goods arrive (WCO Time Release Study), and a notice
    sent days ahead must not move a release into the period before.
    """
    query = select(LaneTruckRow).where(
        LaneTruckRow.arrived_at >= since, LaneTruckRow.arrived_at < until
    )
    if gate is not None:
        query = query.where(LaneTruckRow.gate == gate)
    targets = lane_targets(node.settings.lane_targets_file)
    with node.sessions() as session:
        trucks = list(session.scalars(query))
    figures = []
    for step, (start, end) in STEPS.items():
        for lane in Lane:
            minutes = [
                measured
                for truck in trucks
                if truck.lane == lane.value
                and (measured := _minutes(getattr(truck, start), getattr(truck, end))) is not None
            ]
            shown = step_figures(step, lane, minutes, targets.get(step, {}).get(lane))
            if shown is not None:
                figures.append(shown)
    return figures


@dataclass(frozen=True)
class Waiting:
    case_id: str
    plate: str
    lane: Lane
    perishable: bool
    arrived_at: datetime


def inspection_queue(node: Node, gate: str | None = None, limit: int = 100) -> list[Waiting]:
    """Yellow and red trucks at the gate waiting for their joint inspection, in the order to take.

    Perishables first (TFA Art. 7.9), then by arrival; a truck that has waited
    longer than :data:`AGING` counts as first too, so a stream of fruit cannot
    hold a truck of anything else for ever.
    """
    query = (
        select(LaneTruckRow, Case.subject)
        .join(Case, Case.id == LaneTruckRow.case_id)
        .where(
            LaneTruckRow.importing_agency == node.agency,
            LaneTruckRow.arrived_at.is_not(None),
            LaneTruckRow.inspection.is_(None),
            LaneTruckRow.lane.in_((Lane.YELLOW.value, Lane.RED.value)),
            Case.status == LaneStatus.ARRIVED.value,
        )
    )
    if gate is not None:
        query = query.where(LaneTruckRow.gate == gate)
    now = node.now()
    with node.sessions() as session:
        rows = [
            Waiting(truck.case_id, plate, Lane(str(truck.lane)), truck.perishable, truck.arrived_at)
            for truck, plate in session.execute(query)
            if truck.arrived_at is not None
        ]
    rows.sort(key=lambda w: (not (w.perishable or now - w.arrived_at > AGING), w.arrived_at))
    return rows[:limit]


@dataclass(frozen=True)
class LateStep:
    step: str
    minutes: Decimal
    target: int


def delay_reason(node: Node, case_id: str, actor: Actor) -> tuple[list[LateStep], dict[str, Any]]:
    """The written reason for a release later than its target (TFA Art. 7.9), on request.

    Names each step that passed its target, by how much, and what the joint
    inspection found; the request and the answer are on the audit trail.
    """
    targets = lane_targets(node.settings.lane_targets_file)
    with node.transaction() as session:
        case, truck = truck_case(session, case_id)
        if truck.released_at is None or truck.lane is None:
            raise Conflict("LANE_NOT_RELEASED", case_id=case_id)
        lane = Lane(truck.lane)
        late = []
        for step, (start, end) in STEPS.items():
            minutes = _minutes(getattr(truck, start), getattr(truck, end))
            target = targets.get(step, {}).get(lane)
            if minutes is not None and target is not None and minutes > target:
                late.append(LateStep(step, minutes.quantize(Decimal("0.1")), target))
        if not late:
            raise Conflict("LANE_RELEASED_WITHIN_TARGET", case_id=case_id)
        inspection = truck.inspection or {}
        findings = [f["kind"] for f in inspection.get("findings", [])] + [
            f["kind"] for f in truck.added_findings or []
        ]
        record(
            session,
            "lane.delay_reason_given",
            actor=actor,
            occurred_at=node.now(),
            source_tz=node.timezone,
            case_id=case_id,
            plate=case.subject,
            steps=", ".join(step.step for step in late),
        )
    return late, {"lane": lane.value, "findings": findings, "gate": truck.gate}
