"""The green lane for fresh farm produce: notice, lane decision, arrival, release.

Exporting side: :func:`notify` opens the truck's case and sends its
pre-arrival notice. Importing side: :func:`admit_notice` opens the same case
inside the receipt's transaction, and :func:`decide` (the react step on the
notice) chooses the lane at once, from the rules in
``reference/data/lane_rules.json`` and the documents this node holds, and sends
it back with every rule that fired. The gate records the arrival
(:func:`arrive`), which starts the release clock; a green truck is released in
the same step when the gate is open, or a rule lets perishables pass outside
its hours. :func:`release` is the one release (or refusal) that closes the
case on both sides. The joint inspection of yellow and red trucks is in
:mod:`crossborder.services.lane_inspection`; measured times in
:mod:`crossborder.services.lane_times`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crossborder.adapters.db.engine import insert_now
from crossborder.adapters.db.tables import Case, InboxMessage, LaneTruckRow
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from crossborder.domain.free_text import FreeText
from crossborder.domain.lane import (
    Draw,
    Facts,
    FiredRule,
    InspectionResult,
    Lane,
    LaneArrivalPayload,
    LaneDecisionPayload,
    LaneNotice,
    LaneNoticePayload,
    LaneReleasePayload,
    LaneRules,
    LaneStatus,
    RefusalReason,
    ReleaseOutcome,
    Standing,
    draw,
    fired_rules,
    lane_for,
    plate_key,
)
from crossborder.domain.messages import (
    Envelope,
    LaneArrivalMessage,
    LaneDecisionMessage,
    LaneNoticeMessage,
    LaneReleaseMessage,
    MessageType,
)
from crossborder.domain.validation import schema_checked
from crossborder.domain.workflows import Workflow
from crossborder.reference.agencies import agency
from crossborder.reference.gates import gate
from crossborder.reference.lane import gate_hours, lane_rules, pair_calendars
from crossborder.services.cases import check_case_new, fresh_case_id, open_case
from crossborder.services.exchange import Sent, note_received, send
from crossborder.services.lane_documents import (
    certificate_of_origin_state,
    lines_off_certificate,
    open_alert_on,
    phytosanitary_state,
)
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import new_message

WORKFLOW = Workflow.LANE
#: A case still moving: neither released nor refused.
OPEN = frozenset(
    {LaneStatus.NOTIFIED, LaneStatus.DECIDED, LaneStatus.ARRIVED, LaneStatus.INSPECTED}
)


@dataclass(frozen=True)
class Arrived:
    case_id: str
    message_ids: tuple[str, ...]
    lane: Lane
    released: bool


#: Every step of a truck reads its case and truck row together, locked: one statement,
#: built once (on this path SQLAlchemy's building of a statement costs more than running
#: it), reading the rows afresh even if the session holds them.
_TRUCK_CASE = (
    select(Case, LaneTruckRow)
    .join(LaneTruckRow, LaneTruckRow.case_id == Case.id)
    .where(Case.id == bindparam("case_id"), Case.workflow == WORKFLOW)
    .with_for_update()
    .execution_options(populate_existing=True)
)


def truck_case(session: Session, case_id: str) -> tuple[Case, LaneTruckRow]:
    """The case and truck ``case_id``, locked; ``LANE_CASE_UNKNOWN`` if there is none."""
    row = session.execute(_TRUCK_CASE, {"case_id": case_id}).one_or_none()
    if row is None:
        raise NotFound("LANE_CASE_UNKNOWN", case_id=case_id)
    return row.Case, row.LaneTruckRow


#: A step's writes, by key: the SET clause is the columns the step passes.
_WRITE_CASE = update(Case).where(Case.id == bindparam("case_key"))
_WRITE_TRUCK = update(LaneTruckRow).where(LaneTruckRow.id == bindparam("truck_key"))


def store_step(
    session: Session,
    case: Case,
    truck: LaneTruckRow,
    at: datetime,
    status: LaneStatus | None = None,
    **columns: Any,
) -> None:
    """Write one step of a truck: its ``columns``, and its case's ``status`` and time.

    Two plain UPDATEs by key, run at once, and the loaded rows take the same
    values without being marked changed. Every message and officer's step of
    the lane passes here, and the unit of work's flush of these two rows at the
    commit cost more than the rest of the step.
    """
    connection = session.connection()
    if columns:
        connection.execute(_WRITE_TRUCK, {"truck_key": truck.id, **columns})
    on_case: dict[str, Any] = {"updated_at": at}
    if status is not None:
        on_case["status"] = status.value
    connection.execute(_WRITE_CASE, {"case_key": case.id, **on_case})
    for row, values in ((truck, columns), (case, on_case)):
        for key, value in values.items():
            set_committed_value(row, key, value)


def _from_importing_side(
    session: Session, node: Node, message: Envelope
) -> tuple[Case, LaneTruckRow]:
    """The case and truck a message is about, which only their importing side may send."""
    case, truck = truck_case(session, message.case_id)
    if truck.exporting_agency != node.agency or case.counterpart != message.sender:
        raise Forbidden("LANE_FROM_WRONG_AGENCY", sender=message.sender)
    return case, truck


def _check_notice(node: Node, notice: LaneNotice, importing_agency: str) -> None:
    """The gate is the importing country's, and every HS code exists."""
    entry = gate(notice.gate)
    if entry.country != agency(importing_agency).country:
        raise InvalidInput("LANE_GATE_NOT_ENTRY", gate=notice.gate)
    for line in notice.lines:
        if not node.reference.hs_code_exists(line.hs_code):
            raise InvalidInput("LANE_HS_CODE_UNKNOWN", hs_code=line.hs_code)


def _check_lines(session: Session, notice: LaneNotice) -> None:
    """Every line is goods the Form E the notice names lists, when this node holds that Form E."""
    if off := lines_off_certificate(session, notice):
        raise InvalidInput(
            "LANE_LINES_NOT_ON_CERTIFICATE",
            hs_code=off[0],
            certificate=notice.documents.certificate_of_origin,
        )


def _perishable(notice: LaneNotice, rules: LaneRules, node: Node) -> tuple[bool, bool]:
    """(every line on the green list, any line perishable), on the node's calendar day."""
    day = node.now().astimezone(ZoneInfo(node.timezone)).date()
    covering = [
        [entry for entry in rules.green_list if entry.covers(line.hs_code, day)]
        for line in notice.lines
    ]
    listed = all(covering)
    perishable = any(entry.perishable for entries in covering for entry in entries)
    return listed, perishable


def _new_truck(
    node: Node, case_id: str, notice: LaneNotice, exporting: str, importing: str
) -> LaneTruckRow:
    _, perishable = _perishable(notice, lane_rules(), node)
    return LaneTruckRow(
        case_id=case_id,
        notice_reference=notice.reference,
        exporting_agency=exporting,
        importing_agency=importing,
        gate=notice.gate,
        plate=plate_key(notice.truck.plate),
        trader_id=notice.trader.id,
        perishable=perishable,
        notice=notice.model_dump(mode="json"),
        notified_at=node.now(),
    )


def _notice_facts(notice: LaneNotice) -> dict[str, Any]:
    return {"plate": notice.truck.plate, "gate": notice.gate, "reference": notice.reference}


#: The case of a notice this node already sent under the same reference, if any.
_NOTIFIED_AS = select(LaneTruckRow.case_id).where(
    LaneTruckRow.notice_reference == bindparam("reference"),
    LaneTruckRow.exporting_agency == bindparam("exporting"),
)


def notify(node: Node, notice: LaneNotice, recipient: str, actor: Actor) -> Sent:
    """The exporting side sends the pre-arrival notice of one truck (one declaration)."""
    _check_notice(node, notice, recipient)
    now = node.now()
    with node.transaction() as session:
        taken = session.scalar(
            _NOTIFIED_AS, {"reference": notice.reference, "exporting": node.agency}
        )
        if taken is not None:
            raise Conflict("LANE_NOTICE_ALREADY_SENT", reference=notice.reference, case_id=taken)
        _check_lines(session, notice)
        case_id = fresh_case_id(session, node, now)
        open_case(
            session,
            case_id=case_id,
            workflow=WORKFLOW,
            counterpart=recipient,
            subject=notice.truck.plate,
            status=LaneStatus.NOTIFIED.value,
            at=now,
        )
        insert_now(session, _new_truck(node, case_id, notice, node.agency, recipient))
        queued = send(
            session,
            node,
            new_message(
                node,
                LaneNoticeMessage,
                recipient=recipient,
                case_id=case_id,
                created_at=now,
                payload=LaneNoticePayload(notice=notice),
            ),
            "lane.notice_sent",
            actor,
            recipient=recipient,
            **_notice_facts(notice),
        )
    return Sent(case_id=case_id, message_id=queued.message_id)


def admit_notice(
    session: Session, node: Node, message: LaneNoticeMessage, digest: str, actor: Actor
) -> None:
    """The importing side opens the truck's case (same id) from the received notice."""
    notice = message.payload.notice
    _check_notice(node, notice, node.agency)
    _check_lines(session, notice)
    check_case_new(session, message.case_id)
    open_case(
        session,
        case_id=message.case_id,
        workflow=WORKFLOW,
        counterpart=message.sender,
        subject=notice.truck.plate,
        status=LaneStatus.NOTIFIED.value,
        at=node.now(),
    )
    insert_now(session, _new_truck(node, message.case_id, notice, message.sender, node.agency))
    note_received(
        session,
        node,
        message,
        digest,
        "lane.notice_received",
        actor,
        sender=message.sender,
        **_notice_facts(notice),
    )


def _gate_opens_at(truck: LaneTruckRow, notice: LaneNotice) -> datetime | None:
    """When the gate opens, if the truck is expected while it is closed and may not pass then."""
    hours = gate_hours(truck.gate)
    if truck.perishable and hours.perishables_outside_hours:
        return None
    return hours.next_opening(notice.expected_arrival, pair_calendars(truck.gate))


def decide(session: Session, node: Node, inbox: InboxMessage) -> None:
    """Choose the lane of a received notice at once, and tell the exporting side why."""
    decide_in(session, node, inbox.case_id, secrets.token_hex(16))


def decide_in(session: Session, node: Node, case_id: str, seed: str) -> str:
    """The lane decision with the random draw from ``seed`` (recorded, so it can be redone)."""
    case, truck = truck_case(session, case_id)
    if truck.decision is not None:
        raise Conflict("LANE_ALREADY_DECIDED", case_id=case_id)
    notice = LaneNotice.model_validate(truck.notice)
    rules = lane_rules()
    listed, perishable = _perishable(notice, rules, node)
    opens_at = _gate_opens_at(truck, notice)
    documents = notice.documents
    facts = Facts(
        on_green_list=listed,
        perishable=perishable,
        certificate_of_origin=certificate_of_origin_state(session, documents.certificate_of_origin),
        phytosanitary=phytosanitary_state(session, node, documents.phytosanitary_certificate),
        open_alert=open_alert_on(session, truck, notice),
        standing=rules.traders.get(notice.trader.id, Standing.ORDINARY),
        gate_closed=opens_at is not None,
    )
    drawn = draw(seed, case_id)
    rate = node.settings.lane_random_selection_percent
    if rate is None:
        rate = rules.random_selection_percent
    fired = fired_rules(facts, drawn, rate)
    lane = lane_for(fired, rules)
    promise = next((p.id for p in rules.promises if p.lane is lane and perishable), None)
    payload = LaneDecisionPayload(
        notice_reference=notice.reference,
        lane=lane,
        rules=tuple(FiredRule(code=rule, lane=rules.consequences[rule]) for rule in fired),
        draw=Draw(seed=seed, value=drawn, rate_percent=rate),
        rules_version=rules.version,
        gate_opens_at=opens_at,
        promise=promise,
    )
    now = node.now()
    _store_decision(session, case, truck, payload, now)
    queued = send(
        session,
        node,
        new_message(
            node,
            LaneDecisionMessage,
            recipient=case.counterpart,
            case_id=case_id,
            created_at=now,
            payload=payload,
        ),
        f"lane.decided_{lane.value}",
        Actor.system(node.agency),
        **_decision_facts(payload),
        recipient=case.counterpart,
    )
    if opens_at is not None:
        record(
            session,
            "lane.gate_closed_at_arrival",
            actor=Actor.system(node.agency),
            occurred_at=now,
            source_tz=node.timezone,
            case_id=case_id,
            gate=truck.gate,
            due=opens_at,
        )
    return queued.message_id


def decision_of(node: Node, case_id: str) -> LaneDecisionPayload:
    """The lane decided for truck ``case_id``, with every rule that fired."""
    with node.sessions() as session:
        decision = session.scalar(
            select(LaneTruckRow.decision).where(LaneTruckRow.case_id == case_id)
        )
    if decision is None:
        raise Conflict("LANE_NOT_DECIDED", case_id=case_id)
    return LaneDecisionPayload.model_validate(decision)


def _store_decision(
    session: Session, case: Case, truck: LaneTruckRow, payload: LaneDecisionPayload, now: datetime
) -> None:
    store_step(
        session,
        case,
        truck,
        now,
        LaneStatus.DECIDED,
        lane=payload.lane.value,
        decision=payload.model_dump(mode="json"),
        decided_at=now,
    )


def _decision_facts(payload: LaneDecisionPayload) -> dict[str, Any]:
    return {
        "rules": ", ".join(rule.code.value for rule in payload.rules),
        "draw": f"{payload.draw.value:f}",
        "seed": payload.draw.seed,
        "rate": f"{payload.draw.rate_percent:f}",
        "version": payload.rules_version,
    }


def admit_decision(
    session: Session, node: Node, message: LaneDecisionMessage, digest: str, actor: Actor
) -> None:
    """The exporting side learns the lane, and every rule that chose it."""
    case, truck = _from_importing_side(session, node, message)
    if truck.decision is not None:
        raise Conflict("LANE_ALREADY_DECIDED", case_id=case.id)
    _store_decision(session, case, truck, message.payload, node.now())
    note_received(
        session,
        node,
        message,
        digest,
        f"lane.counterpart_decided_{message.payload.lane.value}",
        actor,
        **_decision_facts(message.payload),
        sender=message.sender,
    )


# --- arrival and release -----------------------------------------------------------------


def _release_payload(
    truck: LaneTruckRow,
    now: datetime,
    reasons: tuple[RefusalReason, ...] = (),
    note: FreeText | None = None,
) -> LaneReleasePayload:
    hours = gate_hours(truck.gate)
    outside = not hours.is_open(now, pair_calendars(truck.gate))
    if outside and not (truck.perishable and hours.perishables_outside_hours) and not reasons:
        raise Conflict("LANE_GATE_CLOSED", gate=truck.gate)
    with schema_checked():
        return LaneReleasePayload(
            outcome=ReleaseOutcome.REFUSED if reasons else ReleaseOutcome.RELEASED,
            released_at=now,
            reasons=reasons,
            outside_hours=outside,
            note=note,
        )


def _green_releasable(truck: LaneTruckRow, now: datetime) -> bool:
    if truck.lane != Lane.GREEN.value:
        return False
    hours = gate_hours(truck.gate)
    return hours.is_open(now, pair_calendars(truck.gate)) or (
        truck.perishable and hours.perishables_outside_hours
    )


def arrive(node: Node, case_id: str, actor: Actor) -> Arrived:
    """The gate records the truck's arrival; a green truck is released in the same step."""
    with node.transaction() as session:
        return arrive_in(session, node, case_id, actor)


def arrive_in(session: Session, node: Node, case_id: str, actor: Actor) -> Arrived:
    case, truck = truck_case(session, case_id)
    if truck.importing_agency != node.agency:
        raise Forbidden("LANE_ARRIVAL_BY_EXPORTING_SIDE", case_id=case_id)
    if truck.decision is None:
        raise Conflict("LANE_NOT_DECIDED", case_id=case_id)
    if truck.arrived_at is not None:
        raise Conflict("LANE_ALREADY_ARRIVED", case_id=case_id)
    now = node.now()
    store_step(session, case, truck, now, LaneStatus.ARRIVED, arrived_at=now)
    queued = send(
        session,
        node,
        new_message(
            node,
            LaneArrivalMessage,
            recipient=case.counterpart,
            case_id=case_id,
            created_at=now,
            payload=LaneArrivalPayload(gate=truck.gate, arrived_at=now),
        ),
        "lane.arrived",
        actor,
        plate=case.subject,
        gate=truck.gate,
        recipient=case.counterpart,
    )
    sent = [queued.message_id]
    released = _green_releasable(truck, now)
    if released:
        sent.append(_release_in(session, node, case, truck, _release_payload(truck, now), actor))
    return Arrived(case_id, tuple(sent), Lane(truck.lane or Lane.GREEN), released)


def admit_arrival(
    session: Session, node: Node, message: LaneArrivalMessage, digest: str, actor: Actor
) -> None:
    case, truck = _from_importing_side(session, node, message)
    if truck.arrived_at is not None:
        raise Conflict("LANE_ALREADY_ARRIVED", case_id=case.id)
    # The importing gate's clock: both sides measure the release from the same moment.
    arrived_at = message.payload.arrived_at
    store_step(session, case, truck, node.now(), LaneStatus.ARRIVED, arrived_at=arrived_at)
    note_received(
        session,
        node,
        message,
        digest,
        "lane.counterpart_arrived",
        actor,
        plate=case.subject,
        gate=truck.gate,
        sender=message.sender,
    )


def check_releasable(truck: LaneTruckRow, case_id: str) -> None:
    """A truck is released once arrived and, off the green lane, inspected and passed by both."""
    if truck.arrived_at is None:
        raise Conflict("LANE_NOT_ARRIVED", case_id=case_id)
    if truck.lane != Lane.GREEN.value:
        if truck.inspected_at is None:
            raise Conflict("LANE_NOT_INSPECTED", case_id=case_id)
        if (truck.inspection or {}).get("result") == InspectionResult.FAILED.value:
            raise Conflict("LANE_INSPECTION_FAILED", case_id=case_id)


def release(
    node: Node,
    case_id: str,
    actor: Actor,
    reasons: tuple[RefusalReason, ...] = (),
    note: FreeText | None = None,
) -> Sent:
    """The one release notice (or a refusal, with its reasons) to both sides; the case closes."""
    with node.transaction() as session:
        return release_in(session, node, case_id, actor, reasons, note)


def release_in(
    session: Session,
    node: Node,
    case_id: str,
    actor: Actor,
    reasons: tuple[RefusalReason, ...] = (),
    note: FreeText | None = None,
) -> Sent:
    """:func:`release` in the caller's transaction; a refusal of it writes nothing."""
    case, truck = truck_case(session, case_id)
    if truck.importing_agency != node.agency:
        raise Forbidden("LANE_RELEASE_BY_EXPORTING_SIDE", case_id=case_id)
    if not reasons:
        check_releasable(truck, case_id)
    payload = _release_payload(truck, node.now(), reasons, note)
    return Sent(case_id, _release_in(session, node, case, truck, payload, actor))


def _release_facts(case: Case, truck: LaneTruckRow, payload: LaneReleasePayload) -> dict[str, Any]:
    minutes = None
    if truck.arrived_at is not None:
        minutes = int((payload.released_at - truck.arrived_at) / timedelta(minutes=1))
    return {
        "plate": case.subject,
        "gate": truck.gate,
        "minutes": minutes,
        "refusal_reasons": ", ".join(reason.value for reason in payload.reasons) or None,
        "note": payload.note.model_dump() if payload.note else None,
    }


def _store_release(
    session: Session, case: Case, truck: LaneTruckRow, payload: LaneReleasePayload
) -> None:
    if case.status not in OPEN:
        raise Conflict("LANE_CASE_CLOSED", case_id=case.id)
    released = payload.outcome is ReleaseOutcome.RELEASED
    store_step(
        session,
        case,
        truck,
        payload.released_at,
        LaneStatus.RELEASED if released else LaneStatus.REFUSED,
        release=payload.model_dump(mode="json"),
        released_at=payload.released_at,
    )


def _release_event(payload: LaneReleasePayload) -> str:
    if payload.outcome is ReleaseOutcome.REFUSED:
        return "refused"
    return "released_outside_hours" if payload.outside_hours else "released"


def _release_in(
    session: Session,
    node: Node,
    case: Case,
    truck: LaneTruckRow,
    payload: LaneReleasePayload,
    actor: Actor,
) -> str:
    _store_release(session, case, truck, payload)
    queued = send(
        session,
        node,
        new_message(
            node,
            LaneReleaseMessage,
            recipient=case.counterpart,
            case_id=case.id,
            created_at=payload.released_at,
            payload=payload,
        ),
        f"lane.{_release_event(payload)}",
        actor,
        **_release_facts(case, truck, payload),
        recipient=case.counterpart,
    )
    return queued.message_id


def admit_release(
    session: Session, node: Node, message: LaneReleaseMessage, digest: str, actor: Actor
) -> None:
    """The exporting side learns of the one release, or the refusal; its case closes too."""
    case, truck = _from_importing_side(session, node, message)
    _store_release(session, case, truck, message.payload)
    note_received(
        session,
        node,
        message,
        digest,
        f"lane.counterpart_{_release_event(message.payload)}",
        actor,
        **_release_facts(case, truck, message.payload),
        sender=message.sender,
    )


HANDLERS = WorkflowHandlers(
    admit={
        MessageType.LANE_NOTICE: admit_notice,
        MessageType.LANE_DECISION: admit_decision,
        MessageType.LANE_ARRIVAL: admit_arrival,
        MessageType.LANE_RELEASE: admit_release,
    },
    # A received notice is decided at once, before the truck arrives (TFA Art. 7.1).
    react={MessageType.LANE_NOTICE: decide},
)
