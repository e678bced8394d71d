"""The audit log as a whole: verify it, sign checkpoints, witness the counterpart's.

Each entry's RFC 9162 leaf hash commits to its content; the Merkle root over
all leaf hashes commits to the whole log in order. A checkpoint is the agency's
signature over (tree size, root). We send each checkpoint to our counterparts,
who keep it as witnesses: after that, editing or dropping an old entry changes
the root, and the counterpart holds the signed proof of what it was.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from joserfc.jwk import KeySet
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import AuditCheckpoint, AuditEntry, Counterpart
from crossborder.adapters.wire.signing import sign, verify
from crossborder.audit import merkle
from crossborder.audit.trail import entry_bytes, record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Forbidden, InvalidInput
from crossborder.domain.messages import (
    AuditCheckpointMessage,
    AuditCheckpointPayload,
    MessageType,
    new_case_id,
)
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.services.outbox import enqueue, new_message

CHECKPOINT_TYP = "crossborder-checkpoint+jws"


class TreeHead(BaseModel):
    """What a checkpoint signs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency: str
    tree_size: int
    root_hash: str
    signed_at: str


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class LogReport:
    """What :func:`verify_log` found; ``ok`` only when every check passed."""

    entries: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def verify_log(node: Node) -> LogReport:
    """Recompute every leaf from its entry and check the log against our signed checkpoints."""
    report = LogReport()
    with node.sessions() as session:
        entries = _entries(session)
        checkpoints = list(
            session.scalars(
                select(AuditCheckpoint)
                .where(AuditCheckpoint.agency == node.agency)
                .order_by(AuditCheckpoint.tree_size)
            )
        )
    leaves = []
    for position, entry in enumerate(entries):
        if entry.seq != position:
            report.problems.append(f"gap: entry {entry.seq} at position {position}")
        if merkle.leaf_hash(entry_bytes(entry)) != entry.leaf_hash:
            report.problems.append(f"entry {entry.seq} does not match its leaf hash")
        leaves.append(merkle.leaf_hash(entry_bytes(entry)))
    report.entries = len(entries)
    report.root = merkle.root(leaves)
    # Every key we signed with, not only today's: a checkpoint is checked by its kid.
    own_keys = node.signing_keys.verification_keys()
    for checkpoint in checkpoints:
        report.checkpoints_checked += 1
        head = _open_checkpoint(checkpoint.signed, own_keys, node.settings.max_body_bytes)
        if checkpoint.tree_size > len(leaves):
            report.problems.append(f"checkpoint of size {checkpoint.tree_size}: log is shorter")
        elif merkle.root(leaves[: checkpoint.tree_size]) != unb64(head.root_hash):
            report.problems.append(f"checkpoint of size {checkpoint.tree_size}: root differs")
    return report


def _open_checkpoint(signed: bytes, keys: KeySet, max_bytes: int) -> TreeHead:
    try:
        return TreeHead.model_validate_json(
            verify(signed, keys, CHECKPOINT_TYP, max_bytes=max_bytes)
        )
    except ValidationError as exc:
        raise InvalidInput("CHECKPOINT_MALFORMED") from exc


def checkpoint(node: Node) -> AuditCheckpoint:
    """Sign the current tree head, keep it, and send it to every counterpart as a witness."""
    now = node.now()
    with node.transaction() as session:
        leaves = [entry.leaf_hash for entry in _entries(session)]
        head = TreeHead(
            agency=node.agency,
            tree_size=len(leaves),
            root_hash=b64(merkle.root(leaves)),
            signed_at=now.isoformat(),
        )
        signed = sign(head.model_dump(), node.signing_key, CHECKPOINT_TYP)
        row = session.scalars(
            select(AuditCheckpoint).where(
                AuditCheckpoint.agency == node.agency, AuditCheckpoint.tree_size == len(leaves)
            )
        ).one_or_none()
        if row is not None:
            return row  # nothing appended since the last checkpoint
        row = AuditCheckpoint(
            agency=node.agency,
            tree_size=head.tree_size,
            root_hash=merkle.root(leaves),
            signed=signed,
            signed_at=now,
        )
        session.add(row)
        for agency in session.scalars(select(Counterpart.agency)):
            enqueue(
                session,
                node,
                new_message(
                    node,
                    AuditCheckpointMessage,
                    recipient=agency,
                    # The sender's log of the day: its own calendar day, as in its case ids.
                    case_id=new_case_id(node.agency, now, "000000", node.timezone),
                    created_at=now,
                    payload=AuditCheckpointPayload(
                        tree_size=head.tree_size,
                        root_hash=head.root_hash,
                        checkpoint=signed.decode(),
                    ),
                ),
            )
    return row


def witnesses(node: Node, agency: str) -> bool:
    """Whether we hold a signed head of ``agency``'s log, as its witness."""
    with node.sessions() as session:
        found = select(AuditCheckpoint.id).where(AuditCheckpoint.agency == agency).limit(1)
        return session.scalar(found) is not None


def admit_checkpoint(
    session: Session, node: Node, message: AuditCheckpointMessage, digest: str, actor: Actor
) -> None:
    """Keep a counterpart's signed tree head; refuse one that contradicts an earlier one."""
    signed = message.payload.checkpoint.encode()
    # The keys the message's own signature was just checked with, fetched again then
    # if its kid was new: no JWKS request from inside the admission's transaction,
    # which holds the database's write lock on SQLite.
    keys = node.counterparts.keys(message.sender)
    head = _open_checkpoint(signed, keys, node.settings.max_body_bytes)
    if (
        head.agency != message.sender
        or head.tree_size != message.payload.tree_size
        or head.root_hash != message.payload.root_hash
    ):
        raise Forbidden("CHECKPOINT_MISMATCH")
    earlier = session.scalars(
        select(AuditCheckpoint).where(
            AuditCheckpoint.agency == message.sender, AuditCheckpoint.tree_size == head.tree_size
        )
    ).one_or_none()
    if earlier is not None:
        if earlier.root_hash != unb64(head.root_hash):
            # Two different logs of the same size signed by one agency: say so loudly.
            raise InvalidInput("CHECKPOINT_CONFLICT", tree_size=head.tree_size)
        return
    session.add(
        AuditCheckpoint(
            agency=message.sender,
            tree_size=head.tree_size,
            root_hash=unb64(head.root_hash),
            signed=message.payload.checkpoint.encode(),
            signed_at=node.now(),
        )
    )
    record(
        session,
        "audit.checkpoint_witnessed",
        actor=actor,
        occurred_at=node.now(),
        source_tz=node.timezone,
        message_id=str(message.message_id),
        message_digest=digest,
        sender=message.sender,
        tree_size=head.tree_size,
    )


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    leaf_hash: str
    tree_size: int
    root_hash: str
    proof: list[str]


def prove_entry(node: Node, seq: int) -> InclusionProof:
    """An RFC 9162 inclusion proof of one entry in the current log."""
    with node.sessions() as session:
        leaves = [entry.leaf_hash for entry in _entries(session)]
    if not 0 <= seq < len(leaves):
        raise InvalidInput("AUDIT_ENTRY_UNKNOWN", seq=seq)
    return InclusionProof(
        seq=seq,
        leaf_hash=b64(leaves[seq]),
        tree_size=len(leaves),
        root_hash=b64(merkle.root(leaves)),
        proof=[b64(step) for step in merkle.inclusion_proof(leaves, seq)],
    )


HANDLERS = WorkflowHandlers(admit={MessageType.AUDIT_CHECKPOINT: admit_checkpoint})
