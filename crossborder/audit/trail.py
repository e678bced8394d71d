"""Appending to the audit trail, inside the caller's transaction.

Each entry is stored as structured data (an event key and language-neutral
parameters, as CKAN stores activities) and rendered only when read. Its RFC 9162
leaf hash is computed here, once, from a canonical form of the entry, so an
auditor can later prove the log unaltered without trusting the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, bindparam, event, insert, update
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import AuditEntry, AuditHead
from crossborder.adapters.wire.canonical import canonical_json
from crossborder.audit.merkle import leaf_hash
from crossborder.domain.actors import Actor

#: Bumped when the meaning of an event key or of its parameters changes.
CATALOG_VERSION = "1"

#: Parameters that hold an instant (a deadline's due time). :func:`record` takes
#: them as aware datetimes and stores them as ISO 8601 text with the offset they
#: carry (``2027-03-05 23:59:59+08:00``, the acting side's clock); the renderer
#: shows them in the reader's zone and language. The names are declared here,
#: and a datetime under any other name is refused, so that no instant reaches a
#: reader as the writer's raw text. Neither guessing from a value's look (an
#: officer's reference may look like a date) nor a tagged JSON value (it would
#: change the stored form of entries already hashed and witnessed) would do.
INSTANT_PARAMS = frozenset({"due"})


def entry_bytes(entry: AuditEntry) -> bytes:
    """The canonical bytes of an entry: what its leaf hash commits to."""
    return canonical_json(
        {
            "seq": entry.seq,
            "event": entry.event,
            "params": entry.params,
            "actor": [entry.actor_kind, entry.actor_id, entry.actor_agency, entry.actor_role],
            "case_id": entry.case_id,
            "message_id": entry.message_id,
            "message_digest": entry.message_digest,
            "occurred_at": entry.occurred_at.astimezone(UTC).isoformat(),
            "source_tz": entry.source_tz,
            "catalog_version": entry.catalog_version,
        }
    )


def record(
    session: Session,
    event: str,
    *,
    actor: Actor,
    occurred_at: datetime,
    source_tz: str,
    case_id: str | None = None,
    message_id: str | None = None,
    message_digest: str | None = None,
    **params: Any,
) -> AuditEntry:
    """Append one entry; it commits or rolls back with the caller's transaction.

    The entry gets its sequence number and leaf hash just before the commit
    (:func:`_number_pending`), so the lock on ``audit_head`` that keeps numbers
    gapless is held for the end of the transaction only, not for all of it.
    """
    entry = AuditEntry(
        event=event,
        params={name: _stored(name, value) for name, value in params.items()},
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_agency=actor.agency,
        actor_role=actor.role,
        case_id=case_id,
        message_id=message_id,
        message_digest=message_digest,
        occurred_at=occurred_at.astimezone(UTC),
        source_tz=source_tz,
        catalog_version=CATALOG_VERSION,
    )
    session.info.setdefault(_PENDING, []).append(entry)
    return entry


def _stored(name: str, value: Any) -> Any:
    """A parameter as the entry keeps it: an instant as ISO 8601 text with its offset."""
    if name in INSTANT_PARAMS:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"audit parameter {name!r} is an instant: pass an aware datetime")
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, datetime):
        raise TypeError(f"audit parameter {name!r} holds an instant: add it to INSTANT_PARAMS")
    return value


_PENDING = "crossborder.audit.pending"


#: Takes ``:count`` sequence numbers at once and returns the next free one. On
#: PostgreSQL the UPDATE locks the head row until the commit, as SQLite's write
#: lock does, so numbers are gapless and commit in order.
_TAKE_NUMBERS = (
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(next_seq=AuditHead.next_seq + bindparam("count", type_=Integer))
    .returning(AuditHead.next_seq)
)
_COLUMNS = tuple(column.key for column in AuditEntry.__table__.columns)
#: Built once: every transaction of the node appends here, and building the
#: statement and its cache key anew each time cost more than its INSERT.
_APPEND = insert(AuditEntry)


@event.listens_for(Session, "before_commit")
def _number_pending(session: Session) -> None:
    pending: list[AuditEntry] = session.info.pop(_PENDING, [])
    if not pending:
        return
    connection = session.connection()
    end = connection.execute(_TAKE_NUMBERS, {"count": len(pending)}).scalar_one()
    for seq, entry in enumerate(pending, start=end - len(pending)):
        entry.seq = seq
        entry.leaf_hash = leaf_hash(entry_bytes(entry))
    # Plain INSERTs, not the unit of work: every transaction of the node appends
    # here, and the ORM's flush of these rows cost more than the rest of the commit.
    rows = [{key: entry.__dict__[key] for key in _COLUMNS} for entry in pending]
    # One entry, as most transactions append, is one plain INSERT, not an executemany.
    connection.execute(_APPEND, rows[0] if len(rows) == 1 else rows)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
