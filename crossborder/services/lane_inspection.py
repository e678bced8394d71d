"""One joint inspection (一站式查验) of a yellow or red truck: one record, two signatures.

The side whose officers inspect first writes the record (:func:`inspect`):
where, when, the lane, what was found and the result. It is written once; its
digest is what every signature covers. An officer of the other side signs the
same record with their node's key (:func:`countersign`), adding what they
found; both sides then rely on the one record, and the inspection is complete.
Each signature is a JWS by the signing node's key over the record's digest, so
the record stands on its own before an auditor, like a checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Case, Counterpart, LaneTruckRow
from crossborder.adapters.oauth.keys import key_set_from_jwks
from crossborder.adapters.wire.canonical import canonical_json
from crossborder.adapters.wire.signing import sign, verify
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, Forbidden, NotFound
from crossborder.domain.lane import (
    InspectionFinding,
    InspectionResult,
    JointInspectionRecord,
    Lane,
    LaneCountersignPayload,
    LaneInspectionPayload,
    LaneStatus,
    OfficerSignature,
)
from crossborder.domain.messages import (
    LaneCountersignMessage,
    LaneInspectionMessage,
    MessageType,
)
from crossborder.services.exchange import Sent, note_received, send
from crossborder.services.lane import store_step, truck_case
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import new_message

INSPECTION_TYP = "crossborder-inspection+jws"


def record_digest(record: JointInspectionRecord) -> str:
    return hashlib.sha256(canonical_json(record.model_dump(mode="json"))).hexdigest()


def _signature(node: Node, digest: str, case_id: str, actor: Actor) -> OfficerSignature:
    claims = {
        "case_id": case_id,
        "record_digest": digest,
        "agency": node.agency,
        "officer": actor.id,
    }
    jws = sign(claims, node.signing_key, INSPECTION_TYP).decode()
    return OfficerSignature(agency=node.agency, officer=actor.id, jws=jws)


def _sender_keys(session: Session, sender: str) -> KeySet:
    """The sender's public keys as this node holds them, read in the receipt's transaction.

    The message carrying the signature was verified a moment before by the same
    node key, fetched and stored then if it was new. Asking the counterpart
    registry instead would open a second session inside this transaction (on
    SQLite it waits for this very transaction's write lock) and might fetch the
    sender's JWKS over HTTP while the transaction is open.
    """
    stored = session.get(Counterpart, sender)
    if stored is None:
        raise NotFound("UNKNOWN_COUNTERPART", agency=sender)
    return key_set_from_jwks(stored.jwks)


def _check_signature(
    session: Session, node: Node, signature: OfficerSignature, digest: str, sender: str
) -> None:
    """The signature is the sender's, by its published key, over this very record."""
    # Named first: a third agency's officer signs with that agency's key, which the
    # sender's keys cannot verify, and SIGNATURE_INVALID would blame the wrong thing.
    if signature.agency != sender:
        raise Forbidden("LANE_SIGNATURE_MISMATCH", agency=signature.agency)
    signed = signature.jws.encode()
    keys = _sender_keys(session, sender)
    claims = json.loads(
        verify(signed, keys, INSPECTION_TYP, max_bytes=node.settings.max_body_bytes)
    )
    expected = {"record_digest": digest, "agency": sender, "officer": signature.officer}
    if any(claims.get(k) != v for k, v in expected.items()):
        raise Forbidden("LANE_SIGNATURE_MISMATCH", agency=signature.agency)


def _inspectable(case: Case, truck: LaneTruckRow) -> None:
    if truck.lane not in (Lane.YELLOW.value, Lane.RED.value):
        raise Conflict("LANE_NO_INSPECTION", case_id=case.id)
    if truck.arrived_at is None:
        raise Conflict("LANE_NOT_ARRIVED", case_id=case.id)
    if truck.inspection is not None:
        raise Conflict("LANE_INSPECTION_ALREADY_RECORDED", case_id=case.id)


def _store_record(
    session: Session,
    case: Case,
    truck: LaneTruckRow,
    record: JointInspectionRecord,
    digest: str,
    signature: OfficerSignature,
    now: datetime,
) -> None:
    store_step(
        session,
        case,
        truck,
        now,
        inspection=record.model_dump(mode="json"),
        record_digest=digest,
        signatures=[signature.model_dump(mode="json")],
        added_findings=[],
    )


def _record_facts(case: Case, record: JointInspectionRecord) -> dict[str, Any]:
    return {
        "plate": case.subject,
        "gate": record.gate,
        "result": record.result.value,
        "finding_kinds": ", ".join(finding.kind.value for finding in record.findings),
    }


def inspect(
    node: Node,
    case_id: str,
    findings: tuple[InspectionFinding, ...],
    result: InspectionResult,
    actor: Actor,
) -> Sent:
    """Write the joint inspection record once, signed by this side's officer."""
    with node.transaction() as session:
        case, truck = truck_case(session, case_id)
        _inspectable(case, truck)
        now = node.now()
        record = JointInspectionRecord(
            case_id=case_id,
            gate=truck.gate,
            inspected_at=now,
            lane=Lane(str(truck.lane)),
            findings=findings,
            result=result,
        )
        digest = record_digest(record)
        signature = _signature(node, digest, case_id, actor)
        _store_record(session, case, truck, record, digest, signature, now)
        queued = send(
            session,
            node,
            new_message(
                node,
                LaneInspectionMessage,
                recipient=case.counterpart,
                case_id=case_id,
                created_at=now,
                payload=LaneInspectionPayload(record=record, signature=signature),
            ),
            "lane.inspection_recorded",
            actor,
            **_record_facts(case, record),
            recipient=case.counterpart,
        )
    return Sent(case_id, queued.message_id)


def admit_inspection(
    session: Session, node: Node, message: LaneInspectionMessage, digest: str, actor: Actor
) -> None:
    """The other side's record arrives: checked, kept as written, waiting for our signature."""
    case, truck = truck_case(session, message.case_id)
    if case.counterpart != message.sender:
        raise Forbidden("LANE_FROM_WRONG_AGENCY", sender=message.sender)
    record = message.payload.record
    if record.case_id != case.id:
        raise Conflict("LANE_RECORD_OF_ANOTHER_CASE", case_id=case.id)
    _inspectable(case, truck)
    record_hash = record_digest(record)
    _check_signature(session, node, message.payload.signature, record_hash, message.sender)
    _store_record(session, case, truck, record, record_hash, message.payload.signature, node.now())
    note_received(
        session,
        node,
        message,
        digest,
        "lane.inspection_received",
        actor,
        **_record_facts(case, record),
        sender=message.sender,
    )


def _complete(
    session: Session,
    case: Case,
    truck: LaneTruckRow,
    signature: OfficerSignature,
    findings: tuple[InspectionFinding, ...],
    at: datetime,
) -> None:
    if truck.inspection is None or truck.signatures is None:
        raise Conflict("LANE_NO_RECORD", case_id=case.id)
    if any(held["agency"] == signature.agency for held in truck.signatures):
        raise Conflict("LANE_ALREADY_SIGNED", case_id=case.id, agency=signature.agency)
    store_step(
        session,
        case,
        truck,
        at,
        LaneStatus.INSPECTED,
        signatures=[*truck.signatures, signature.model_dump(mode="json")],
        added_findings=[finding.model_dump(mode="json") for finding in findings],
        inspected_at=at,
    )


def countersign(
    node: Node, case_id: str, actor: Actor, findings: tuple[InspectionFinding, ...] = ()
) -> Sent:
    """This side's officer signs the record the other side wrote, with what they found too."""
    with node.transaction() as session:
        case, truck = truck_case(session, case_id)
        if truck.record_digest is None:
            raise Conflict("LANE_NO_RECORD", case_id=case_id)
        now = node.now()
        signature = _signature(node, truck.record_digest, case_id, actor)
        _complete(session, case, truck, signature, findings, now)
        queued = send(
            session,
            node,
            new_message(
                node,
                LaneCountersignMessage,
                recipient=case.counterpart,
                case_id=case_id,
                created_at=now,
                payload=LaneCountersignPayload(
                    record_digest=truck.record_digest, signature=signature, findings=findings
                ),
            ),
            "lane.countersigned",
            actor,
            plate=case.subject,
            added=len(findings),
            recipient=case.counterpart,
        )
    return Sent(case_id, queued.message_id)


def admit_countersign(
    session: Session, node: Node, message: LaneCountersignMessage, digest: str, actor: Actor
) -> None:
    case, truck = truck_case(session, message.case_id)
    payload = message.payload
    if case.counterpart != message.sender:
        raise Forbidden("LANE_FROM_WRONG_AGENCY", sender=message.sender)
    if truck.record_digest != payload.record_digest:
        raise Conflict("LANE_RECORD_MISMATCH", case_id=case.id)
    _check_signature(session, node, payload.signature, payload.record_digest, message.sender)
    # Both sides date the inspection from the countersignature, on the signer's clock.
    _complete(session, case, truck, payload.signature, payload.findings, message.created_at)
    note_received(
        session,
        node,
        message,
        digest,
        "lane.counterpart_countersigned",
        actor,
        plate=case.subject,
        added=len(payload.findings),
        sender=message.sender,
    )


HANDLERS = WorkflowHandlers(
    admit={
        MessageType.LANE_INSPECTION: admit_inspection,
        MessageType.LANE_COUNTERSIGN: admit_countersign,
    }
)
