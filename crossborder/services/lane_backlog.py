"""A backlog after a closure: trucks taken in batches, perishables first, none starved.

When a gate reopens thousands of trucks wait with their lanes already decided.
:func:`release_ready` takes the next batch of trucks that may leave — green
trucks that arrived, yellow and red ones whose joint inspection is complete —
perishables first, then by arrival, a truck waiting longer than
:data:`~crossborder.services.lane_times.AGING` counting as first too — and releases each
in a transaction of its own, so a failure loses nothing already done and the
next batch starts where this one stopped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from crossborder.adapters.db.tables import Case, LaneTruckRow
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict
from crossborder.domain.lane import Lane, LaneStatus
from crossborder.services import lane
from crossborder.services.lane_times import AGING
from crossborder.services.node import Node


def _ready(node: Node, gate: str | None, limit: int) -> list[str]:
    now = node.now()
    query = (
        select(LaneTruckRow.case_id, LaneTruckRow.perishable, LaneTruckRow.arrived_at)
        .join(Case, Case.id == LaneTruckRow.case_id)
        .where(
            LaneTruckRow.importing_agency == node.agency,
            Case.status.in_((LaneStatus.ARRIVED.value, LaneStatus.INSPECTED.value)),
            LaneTruckRow.arrived_at.is_not(None),
            (LaneTruckRow.lane == Lane.GREEN.value) | LaneTruckRow.inspected_at.is_not(None),
        )
    )
    if gate is not None:
        query = query.where(LaneTruckRow.gate == gate)
    with node.sessions() as session:
        rows = [(case_id, perishable, at) for case_id, perishable, at in session.execute(query)]
    rows.sort(key=lambda row: (not (row[1] or now - _at(row[2]) > AGING), _at(row[2])))
    return [case_id for case_id, _, _ in rows[:limit]]


def _at(arrived: datetime | None) -> datetime:
    if arrived is None:  # the query asks for arrived trucks only
        raise ValueError("truck not arrived")
    return arrived


def release_ready(node: Node, gate: str | None, limit: int, actor: Actor) -> list[str]:
    """Release the next ``limit`` trucks that may leave; returns the release messages queued."""
    sent = []
    for case_id in _ready(node, gate, limit):
        try:
            sent.append(lane.release(node, case_id, actor).message_id)
        except Conflict as refused:
            # Its inspection failed, or the gate closed again: an officer decides.
            if refused.code not in ("LANE_INSPECTION_FAILED", "LANE_GATE_CLOSED"):
                raise
    return sent


def arrive_all(node: Node, case_ids: list[str], actor: Actor) -> list[str]:
    """Record the arrival of each truck of a batch (the gate's scanner reads them in order)."""
    sent: list[str] = []
    for case_id in case_ids:
        sent.extend(lane.arrive(node, case_id, actor).message_ids)
    return sent
