"""Deadlines any workflow can set, and the watcher that reminds and escalates.

A workflow registers a deadline (:func:`register`) inside its own transaction,
so a verification request and its reply deadline commit together; it settles
it (:func:`settle`) when the awaited act arrives, or cancels it. Nothing waits
in between: the deadline is a row, and :func:`watch` — run on a schedule by the
``watch_deadlines`` flow, or by ``crossborder deadlines watch`` — takes the
steps that have come due.

Each step happens once, however many watchers run: a watcher claims the
deadline (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock
otherwise) and inserts the step under a unique key before acting, all in one
transaction with the audit entry and whatever the workflow's hook writes (a
case marked overdue, a notice in the outbox).

Every step is audited and told to our duty officer (the node's notifier);
a workflow adds its own steps by rule key, in its ``HANDLERS``::

    HANDLERS = WorkflowHandlers(escalate={REPLY_RULE: verification_overdue})
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Deadline, DeadlineStep
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.deadlines import (
    OVERDUE,
    UNSETTLED,
    DeadlineStatus,
    Step,
    due_at,
    plan,
    step_due,
)
from crossborder.domain.errors import Conflict, InvalidInput, NotFound
from crossborder.reference.agencies import agency
from crossborder.reference.calendars import calendar_for, office_hours_for
from crossborder.reference.deadline_rules import RuleData, deadline_rule
from crossborder.services.node import Node

log = logging.getLogger(__name__)

#: The stored deadline, as workflows' hooks and :func:`list_deadlines` see it.
DeadlineRow: TypeAlias = Deadline


# --- what workflows call, inside their own transaction ---


def _acting_zone(code: str, country: str) -> str:
    """The acting agency's time zone; its country must be the one whose calendar counts."""
    acting = agency(code)
    if acting.country != country:
        raise InvalidInput("DEADLINE_COUNTRY_MISMATCH", agency=code, country=country)
    return acting.time_zone


def _facts(row: Deadline) -> dict[str, Any]:
    """What every entry about a deadline says: its rule, its subject, who must act, by when.

    The due time is kept on the acting side's clock (its offset is stored with
    it); each reader sees it in their own zone.
    """
    return {
        "rule": row.rule_key,
        "subject": row.subject,
        "agency": row.acting_agency,
        "due": row.due_at.astimezone(ZoneInfo(agency(row.acting_agency).time_zone)),
    }


def _find(session: Session, case_id: str, rule_key: str, *, lock: bool = False) -> Deadline | None:
    query = select(Deadline).where(Deadline.case_id == case_id, Deadline.rule_key == rule_key)
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def register(
    session: Session,
    node: Node,
    *,
    case_id: str,
    rule_key: str,
    starts_at: datetime,
    acting_country: Literal["CN", "VN"],
    acting_agency: str,
    subject: str,
    actor: Actor,
    rules: Mapping[str, RuleData] | None = None,
) -> Deadline:
    """Set the deadline ``rule_key`` on a case, counted from ``starts_at``.

    ``acting_agency`` must act; its days are counted in ``acting_country``'s
    calendar and its own time zone. ``rules`` replaces the shipped rule data
    (a workflow's or a test's own rules).
    """
    due, steps = _scheduled(rule_key, rules, starts_at, acting_agency, acting_country)
    if _find(session, case_id, rule_key) is not None:
        raise Conflict("DEADLINE_EXISTS", case_id=case_id, rule_key=rule_key)
    now = node.now()
    row = Deadline(
        case_id=case_id,
        rule_key=rule_key,
        subject=subject,
        acting_agency=acting_agency,
        acting_country=acting_country,
        starts_at=starts_at,
        due_at=due,
        status=DeadlineStatus.OPEN,
        plan=_stored(steps),
        next_step_at=steps[0].at,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        "deadline.registered",
        actor=actor,
        occurred_at=now,
        source_tz=node.timezone,
        case_id=case_id,
        **_facts(row),
    )
    return row


def _scheduled(
    rule_key: str,
    rules: Mapping[str, RuleData] | None,
    starts_at: datetime,
    acting_agency: str,
    acting_country: str,
) -> tuple[datetime, list[Step]]:
    """The due time and the steps of ``rule_key`` from ``starts_at``, on the acting side's clock."""
    rule = deadline_rule(rule_key, rules)
    tz = _acting_zone(acting_agency, acting_country)
    calendar, office = calendar_for(acting_country), office_hours_for(acting_country)  # type: ignore[arg-type]
    due = due_at(starts_at, rule, calendar, tz, office)
    return due, plan(starts_at, due, rule, calendar, tz, office)


def _stored(steps: list[Step]) -> list[dict[str, str]]:
    return [{"step": step.name, "at": step.at.isoformat()} for step in steps]


def reschedule(
    session: Session,
    node: Node,
    *,
    case_id: str,
    rule_key: str,
    actor: Actor,
    rules: Mapping[str, RuleData] | None = None,
) -> Deadline:
    """Count an open deadline again under ``rules``, from the same start.

    For a deadline whose length depends on what it is about: an alert raised
    from "moderate" to "extreme" is owed an acknowledgement in minutes, not
    hours. Both sides count from the same start, so they agree again. Steps
    already taken are not taken again (their names are kept); a deadline
    already overdue stays overdue, because its escalation has happened.
    """
    row = _unsettled(session, case_id, rule_key)
    if row.status != DeadlineStatus.OPEN:
        return row
    due, steps = _scheduled(rule_key, rules, row.starts_at, row.acting_agency, row.acting_country)
    if due == row.due_at:
        return row
    row.due_at = due
    row.plan = _stored(steps)
    # Possibly in the past: the watcher then takes the latest step due at once.
    row.next_step_at = steps[0].at
    now = node.now()
    record(
        session,
        "deadline.rescheduled",
        actor=actor,
        occurred_at=now,
        source_tz=node.timezone,
        case_id=case_id,
        **_facts(row),
    )
    return row


def _unsettled(session: Session, case_id: str, rule_key: str) -> Deadline:
    row = _find(session, case_id, rule_key, lock=True)
    if row is None:
        raise NotFound("DEADLINE_UNKNOWN", case_id=case_id, rule_key=rule_key)
    if row.status not in UNSETTLED:
        raise Conflict("DEADLINE_CLOSED", case_id=case_id, rule_key=rule_key)
    return row


def _close(row: Deadline, status: DeadlineStatus, now: datetime) -> None:
    row.status = status
    row.closed_at = now
    row.next_step_at = None


def settle(session: Session, node: Node, *, case_id: str, rule_key: str, actor: Actor) -> None:
    """The awaited act happened: the deadline is met (late, if it had passed)."""
    row = _unsettled(session, case_id, rule_key)
    now = node.now()
    late = row.status == DeadlineStatus.OVERDUE or now > row.due_at
    _close(row, DeadlineStatus.MET, now)
    if late:
        record(
            session,
            "deadline.met_late",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            case_id=case_id,
            **_facts(row),
        )
    else:
        record(
            session,
            "deadline.met",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            case_id=case_id,
            **_facts(row),
        )


def cancel(session: Session, node: Node, *, case_id: str, rule_key: str, actor: Actor) -> None:
    """Nothing is awaited any more (the request was withdrawn): no reminder, no escalation."""
    row = _unsettled(session, case_id, rule_key)
    now = node.now()
    _close(row, DeadlineStatus.CANCELLED, now)
    record(
        session,
        "deadline.cancelled",
        actor=actor,
        occurred_at=now,
        source_tz=node.timezone,
        case_id=case_id,
        **_facts(row),
    )


# --- the watcher ---


@dataclass(frozen=True)
class StepTaken:
    case_id: str
    rule_key: str
    step: str


@dataclass(frozen=True)
class WatchResult:
    taken: list[StepTaken] = field(default_factory=list)
    #: Deadlines another watcher held, or had handled since this one looked.
    skipped: int = 0
    #: Deadlines whose step failed (a hook raised); the next pass tries again.
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Notice:
    key: str
    params: dict[str, Any]


def _due_ids(node: Node, now: datetime, limit: int) -> list[int]:
    with node.sessions() as session:
        return list(
            session.scalars(
                select(Deadline.id)
                .where(Deadline.status == DeadlineStatus.OPEN, Deadline.next_step_at <= now)
                .order_by(Deadline.next_step_at, Deadline.id)
                .limit(limit)
            )
        )


def _remind(session: Session, node: Node, row: Deadline, step: str, now: datetime) -> _Notice:
    entry = record(
        session,
        "deadline.reminder",
        actor=Actor.system(node.agency),
        occurred_at=now,
        source_tz=node.timezone,
        case_id=row.case_id,
        step=step,
        **_facts(row),
    )
    notice = _Notice("audit.deadline.reminder", entry.params)
    hook = node.workflows.remind.get(row.rule_key)
    if hook is not None:
        hook(session, node, row, step)
    return notice


def _escalate(session: Session, node: Node, row: Deadline, now: datetime) -> _Notice:
    row.status = DeadlineStatus.OVERDUE
    entry = record(
        session,
        "deadline.overdue",
        actor=Actor.system(node.agency),
        occurred_at=now,
        source_tz=node.timezone,
        case_id=row.case_id,
        **_facts(row),
    )
    notice = _Notice("audit.deadline.overdue", entry.params)
    hook = node.workflows.escalate.get(row.rule_key)
    if hook is not None:
        hook(session, node, row)
    return notice


def _take_in(
    session: Session, node: Node, deadline_id: int, now: datetime
) -> tuple[StepTaken, _Notice] | None:
    row = session.scalars(
        select(Deadline)
        .where(
            Deadline.id == deadline_id,
            Deadline.status == DeadlineStatus.OPEN,
            Deadline.next_step_at <= now,
        )
        .with_for_update(skip_locked=True)
    ).one_or_none()
    if row is None:
        return None
    steps = [Step(entry["step"], datetime.fromisoformat(entry["at"])) for entry in row.plan]
    step, row.next_step_at = step_due(steps, now)
    done = set(session.scalars(select(DeadlineStep.step).where(DeadlineStep.deadline_id == row.id)))
    if step is None or step.name in done:
        return None
    session.add(DeadlineStep(deadline_id=row.id, step=step.name, done_at=now))
    # The unique (deadline_id, step) key: if another watcher took this step
    # meanwhile, the insert fails here, before anything is done twice.
    session.flush()
    if step.name == OVERDUE:
        notice = _escalate(session, node, row, now)
    else:
        notice = _remind(session, node, row, step.name, now)
    return StepTaken(row.case_id, row.rule_key, step.name), notice


def take_step(node: Node, deadline_id: int, now: datetime) -> StepTaken | None:
    """Take the step of one deadline that is due at ``now``, in its own transaction.

    ``None`` when another watcher holds the deadline or has already taken the
    step. The duty officer is told only after the commit, so a step that rolls
    back notifies no one.
    """
    with node.transaction() as session:
        outcome = _take_in(session, node, deadline_id, now)
    if outcome is None:
        return None
    taken, notice = outcome
    try:
        node.notifier.notify(node.agency, notice.key, **notice.params)
    except Exception:
        # The step is taken and on the audit trail; only the message to the
        # officer is lost, and retrying the step would repeat the escalation.
        log.exception(
            "deadline %s: %s taken, but the duty officer was not told", deadline_id, taken.step
        )
    return taken


def watch(node: Node, *, limit: int = 100) -> WatchResult:
    """One pass: take every step that has come due, each deadline in its own transaction."""
    now = node.now()
    taken: list[StepTaken] = []
    skipped = 0
    failed: list[int] = []
    for deadline_id in _due_ids(node, now, limit):
        try:
            step = take_step(node, deadline_id, now)
        except IntegrityError:
            step = None
        except Exception:
            # One workflow's broken hook must not hold back every other deadline.
            log.exception("deadline %s: step failed; trying again on the next pass", deadline_id)
            failed.append(deadline_id)
            continue
        if step is None:
            skipped += 1
        else:
            taken.append(step)
    return WatchResult(taken=taken, skipped=skipped, failed=failed)


def is_late(row: Deadline, now: datetime) -> bool:
    """Past its due time: marked overdue, or still open because the watcher has not been round."""
    return row.status == DeadlineStatus.OVERDUE or (
        row.status == DeadlineStatus.OPEN and row.due_at < now
    )


def late_at(now: datetime) -> ColumnElement[bool]:
    """:func:`is_late`, as a condition on the ``deadlines`` table."""
    return or_(
        Deadline.status == DeadlineStatus.OVERDUE,
        and_(Deadline.status == DeadlineStatus.OPEN, Deadline.due_at < now),
    )


def list_deadlines(
    node: Node, *, overdue_only: bool = False, open_only: bool = True, case_id: str | None = None
) -> list[DeadlineRow]:
    """Deadlines by due time: unsettled ones (``open_only``), late ones, or one case's.

    A deadline already past but not yet seen by the watcher counts as overdue.
    """
    query = select(Deadline).order_by(Deadline.due_at, Deadline.id)
    if open_only:
        query = query.where(Deadline.status.in_(UNSETTLED))
    if overdue_only:
        query = query.where(late_at(node.now()))
    if case_id is not None:
        query = query.where(Deadline.case_id == case_id)
    with node.sessions() as session:
        return list(session.scalars(query))
