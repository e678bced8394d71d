"""A backlog after a closure: trucks taken in batches, perishables first, none starved.

When a gate reopens thousands of trucks wait with their lanes already decided.
:func:`release_ready` takes the next batch of trucks that may leave — green
trucks that arrived, yellow and red ones whose joint inspection is complete —
perishables first, then by arrival, a truck waiting longer than
:data:`~crossborder.services.lane_times.AGING` counting as first too. Arrivals
and releases are written :data:`TRUCKS_PER_TRANSACTION` trucks to a transaction,
each truck with its own outbox row and audit entries: one commit (one disk
flush) for them all instead of one each. A failure rolls back only its own
transaction's trucks, which the next batch takes again; a truck a rule holds
back (its inspection failed, the gate closed again) writes nothing and the
others go on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select

from crossborder.adapters.db.tables import Case, LaneTruckRow
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict
from crossborder.domain.lane import Lane, LaneStatus
from crossborder.services import lane
from crossborder.services.lane_times import AGING
from crossborder.services.node import Node

#: Trucks written in one transaction: long enough to share a commit, short enough that
#: the messages arriving meanwhile wait a fraction of a second for the write lock.
TRUCKS_PER_TRANSACTION = 100


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


def _chunks(case_ids: list[str]) -> Iterator[list[str]]:
    for first in range(0, len(case_ids), TRUCKS_PER_TRANSACTION):
        yield case_ids[first : first + TRUCKS_PER_TRANSACTION]


#: Why a ready truck is passed over by a backlog run, which goes on with the others.
_LEFT_FOR_OTHERS = frozenset({"LANE_INSPECTION_FAILED", "LANE_GATE_CLOSED", "LANE_CASE_CLOSED"})


def release_ready(node: Node, gate: str | None, limit: int, actor: Actor) -> list[str]:
    """Release the next ``limit`` trucks that may leave; returns the release messages queued."""
    sent = []
    for chunk in _chunks(_ready(node, gate, limit)):
        with node.transaction() as session:
            for case_id in chunk:
                try:
                    sent.append(lane.release_in(session, node, case_id, actor).message_id)
                except Conflict as refused:
                    # Its inspection failed, or the gate closed again: an officer decides.
                    # Closed: another run of the backlog released it since we looked.
                    if refused.code not in _LEFT_FOR_OTHERS:
                        raise
    return sent


def arrive_all(node: Node, case_ids: list[str], actor: Actor) -> list[str]:
    """Record the arrival of each truck of a batch (the gate's scanner reads them in order)."""
    sent: list[str] = []
    for chunk in _chunks(case_ids):
        with node.transaction() as session:
            for case_id in chunk:
                sent.extend(lane.arrive_in(session, node, case_id, actor).message_ids)
    return sent
