"""Mutual recognition of quarantine results: the rules in force, and the decision per result.

The importing side decides once per received result. The node decides by the
rules in force as soon as the result is admitted (:func:`auto_decide`, from
the inbox dispatcher); where no rule covers the commodity and exporting body,
the decision waits for an officer (:func:`decide`). Either way the decision
goes back to the exporting side (:func:`admit_decision`), so both see it on
the case.

The rules in force are the highest version loaded with :func:`load_rules`
(``crossborder quarantine rules load``); a node that never loaded any uses the seed
shipped with the software.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import InboxMessage, RecognitionRuleSetRow
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, Forbidden
from crossborder.domain.free_text import FreeText
from crossborder.domain.messages import MessageType, SpsRecognitionDecisionMessage
from crossborder.domain.quarantine import ConsignmentStatus, QuarantineResult
from crossborder.domain.recognition import (
    RecognitionDecision,
    RecognitionDecisionPayload,
    RecognitionOutcome,
    RecognitionRuleSet,
    check_decidable,
    evaluate,
)
from crossborder.reference.recognition_rules import parse_rule_set, shipped_rule_set
from crossborder.services.exchange import note_received, send
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import new_message
from crossborder.services.quarantine import consignment_case, result_of

#: The version number of the shipped seed, below any version an officer loads.
SEED_VERSION = 0

STATUS_FOR_OUTCOME = {
    RecognitionOutcome.DOCUMENTARY_CHECK: ConsignmentStatus.DOCUMENTARY_CHECK,
    RecognitionOutcome.REDUCED_SAMPLING: ConsignmentStatus.REDUCED_SAMPLING,
    RecognitionOutcome.NOT_RECOGNISED: ConsignmentStatus.NOT_RECOGNISED,
}


@dataclass(frozen=True)
class RulesInForce:
    version: int
    rule_set: RecognitionRuleSet


def rules_in_force(session: Session) -> RulesInForce:
    row = session.scalars(
        select(RecognitionRuleSetRow).order_by(RecognitionRuleSetRow.version.desc()).limit(1)
    ).first()
    if row is None:
        return RulesInForce(SEED_VERSION, shipped_rule_set())
    return RulesInForce(row.version, RecognitionRuleSet.model_validate({"rules": row.rules}))


def current_rules(node: Node) -> RulesInForce:
    with node.sessions() as session:
        return rules_in_force(session)


def load_rules(node: Node, text: bytes, actor: Actor) -> int:
    """Put a new version of the rules in force; returns its version number."""
    rule_set = parse_rule_set(text)
    rules = [rule.model_dump(mode="json") for rule in rule_set.rules]
    digest = hashlib.sha256(text).hexdigest()
    now = node.now()
    with node.transaction() as session:
        # Two officers loading at once both take the next number: the version's primary
        # key lets one commit and refuses the other, rather than a lock on an aggregate.
        latest = session.scalar(select(func.max(RecognitionRuleSetRow.version)))
        version = (latest or SEED_VERSION) + 1
        session.add(
            RecognitionRuleSetRow(
                version=version,
                rules=rules,
                digest=digest,
                loaded_by=actor.id,
                loaded_at=now,
            )
        )
        record(
            session,
            "sps.recognition_rules_loaded",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            version=version,
            count=len(rules),
            digest=digest,
        )
    return version


def auto_decide(session: Session, node: Node, inbox: InboxMessage) -> None:
    """Decide a received result by the rules in force; leave it to an officer if none applies."""
    case, consignment = consignment_case(session, inbox.case_id)
    row = result_of(session, case.id)
    if row.decision is not None:
        return  # an officer was quicker
    result = QuarantineResult.model_validate(row.content)
    in_force = rules_in_force(session)
    local_day = node.now().astimezone(ZoneInfo(node.timezone)).date()
    decision = evaluate(in_force.rule_set.rules, result, consignment.exporting_agency, local_day)
    if decision is None:
        record(
            session,
            "sps.recognition_awaits_officer",
            actor=Actor.system(node.agency),
            occurred_at=node.now(),
            source_tz=node.timezone,
            case_id=case.id,
            certificate_number=consignment.certificate_number,
            version=in_force.version,
        )
        return
    decide_in(session, node, case.id, decision, Actor.system(node.agency), None)


def decide(
    node: Node,
    case_id: str,
    decision: RecognitionDecision,
    actor: Actor,
    note: FreeText | None = None,
) -> str:
    """An officer of the importing side records the decision on a received result."""
    with node.transaction() as session:
        return decide_in(session, node, case_id, decision, actor, note)


def decide_in(
    session: Session,
    node: Node,
    case_id: str,
    decision: RecognitionDecision,
    actor: Actor,
    note: FreeText | None,
) -> str:
    case, consignment = consignment_case(session, case_id)
    if consignment.importing_agency != node.agency:
        raise Forbidden("RECOGNITION_BY_EXPORTING_SIDE", case_id=case_id)
    row = result_of(session, case_id)
    if row.decision is not None:
        raise Conflict("RECOGNITION_ALREADY_DECIDED", case_id=case_id)
    check_decidable(decision, QuarantineResult.model_validate(row.content))
    now = node.now()
    row.decision = decision.model_dump(mode="json")
    row.decided_at = now
    case.status = STATUS_FOR_OUTCOME[decision.outcome].value
    case.updated_at = now
    queued = send(
        session,
        node,
        new_message(
            node,
            SpsRecognitionDecisionMessage,
            recipient=case.counterpart,
            case_id=case_id,
            created_at=now,
            payload=RecognitionDecisionPayload(
                result_reference=row.reference,
                certificate_number=consignment.certificate_number,
                decision=decision,
                note=note,
            ),
        ),
        f"sps.recognition_{decision.outcome.value}",
        actor,
        certificate_number=consignment.certificate_number,
        recipient=case.counterpart,
        sampling_rate=_rate(decision),
        recognition_reason=decision.reason.value if decision.reason else None,
        rule=decision.rule_id or "—",
        note=note.model_dump() if note else None,
    )
    return queued.message_id


def _rate(decision: RecognitionDecision) -> str | None:
    rate = decision.sampling_rate_percent
    return None if rate is None else f"{rate.normalize():f}"


def admit_decision(
    session: Session, node: Node, message: SpsRecognitionDecisionMessage, digest: str, actor: Actor
) -> None:
    """The exporting side learns how the importing side treats its result."""
    case, consignment = consignment_case(session, message.case_id)
    payload = message.payload
    if consignment.exporting_agency != node.agency or case.counterpart != message.sender:
        raise Forbidden("RECOGNITION_FROM_WRONG_AGENCY", sender=message.sender)
    row = result_of(session, case.id)
    if row.reference != payload.result_reference:
        raise Conflict("QUARANTINE_RESULT_UNKNOWN", case_id=case.id)
    if row.decision is not None:
        raise Conflict("RECOGNITION_ALREADY_DECIDED", case_id=case.id)
    now = node.now()
    decision = payload.decision
    row.decision = decision.model_dump(mode="json")
    row.decided_at = now
    case.status = STATUS_FOR_OUTCOME[decision.outcome].value
    case.updated_at = now
    note_received(
        session,
        node,
        message,
        digest,
        f"sps.counterpart_recognition_{message.payload.decision.outcome.value}",
        actor,
        certificate_number=consignment.certificate_number,
        sender=message.sender,
        sampling_rate=_rate(decision),
        recognition_reason=decision.reason.value if decision.reason else None,
        rule=decision.rule_id or "—",
        note=payload.note.model_dump() if payload.note else None,
    )


HANDLERS = WorkflowHandlers(
    admit={MessageType.SPS_RECOGNITION_DECISION: admit_decision},
    # A received quarantine result is decided by the recognition rules in force.
    react={MessageType.SPS_QUARANTINE_RESULT: auto_decide},
)
