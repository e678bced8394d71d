"""Finding cases across workflows: what is late or escalated first, then the latest.

The console's case list and ``crossborder case list`` read cases through
:func:`search_cases`, so both show the same cases in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select

from crossborder.adapters.db.tables import Case, Certificate, Consignment, Deadline, LaneTruckRow
from crossborder.domain.deadlines import UNSETTLED, DeadlineStatus
from crossborder.domain.lane import plate_key
from crossborder.services.deadlines import is_late
from crossborder.services.node import Node


@dataclass(frozen=True)
class CaseFilter:
    """What a reader narrows the list by; ``None`` (or empty) lets everything through."""

    workflow: str | None = None
    status: str | None = None
    counterpart: str | None = None
    #: Opened at or after, and before, these instants (a reader's days, in their zone).
    opened_from: datetime | None = None
    opened_before: datetime | None = None
    #: Part of a case id or of its subject (a certificate number, a plate), or a whole
    #: certificate number (Form E or phytosanitary), or a truck's plate however it is written.
    text: str | None = None


@dataclass(frozen=True)
class CaseLine:
    case: Case
    #: A deadline of the case is past (whether or not the watcher has been round yet).
    overdue: bool
    #: The watcher has escalated one of its deadlines.
    escalated: bool
    #: The earliest unsettled deadline of the case, if any.
    next_due: datetime | None


def _where(wanted: CaseFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.workflow:
        conditions.append(Case.workflow == wanted.workflow)
    if wanted.status:
        conditions.append(Case.status == wanted.status)
    if wanted.counterpart:
        conditions.append(Case.counterpart == wanted.counterpart)
    if wanted.opened_from:
        conditions.append(Case.opened_at >= wanted.opened_from)
    if wanted.opened_before:
        conditions.append(Case.opened_at < wanted.opened_before)
    if wanted.text:
        text = wanted.text.strip()
        numbered = select(Certificate.case_id).where(Certificate.number == text)
        consignment = select(Consignment.case_id).where(Consignment.certificate_number == text)
        # A plate as written on a notice or read at the gate: "12C-123.45" is "12C12345".
        truck = select(LaneTruckRow.case_id).where(LaneTruckRow.plate == plate_key(text))
        conditions.append(
            or_(
                Case.id.icontains(text, autoescape=True),
                Case.subject.icontains(text, autoescape=True),
                Case.id.in_(numbered),
                Case.id.in_(consignment),
                Case.id.in_(truck),
            )
        )
    return conditions


def search_cases(node: Node, wanted: CaseFilter | None = None, limit: int = 200) -> list[CaseLine]:
    """Cases that match, escalated first, then overdue, then the most recently updated."""
    query = select(Case).where(*_where(wanted or CaseFilter()))
    query = query.order_by(Case.updated_at.desc()).limit(limit)
    now = node.now()
    with node.sessions() as session:
        cases = list(session.scalars(query))
        unsettled = session.scalars(
            select(Deadline).where(
                Deadline.case_id.in_([case.id for case in cases]),
                Deadline.status.in_(UNSETTLED),
            )
        )
        by_case: dict[str, list[Deadline]] = {}
        for deadline in unsettled:
            by_case.setdefault(deadline.case_id, []).append(deadline)
    lines = [
        CaseLine(
            case=case,
            overdue=any(is_late(d, now) for d in by_case.get(case.id, [])),
            escalated=any(d.status == DeadlineStatus.OVERDUE for d in by_case.get(case.id, [])),
            next_due=min((d.due_at for d in by_case.get(case.id, [])), default=None),
        )
        for case in cases
    ]
    # Stable: within each group, the query's order (latest first) stays.
    return sorted(lines, key=lambda line: (not line.escalated, not line.overdue))


def counterparts_seen(node: Node) -> list[str]:
    """Every agency a case was opened with, for a reader to filter by."""
    with node.sessions() as session:
        return list(session.scalars(select(Case.counterpart).distinct().order_by(Case.counterpart)))
