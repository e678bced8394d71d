"""Registering counterparts and their OAuth clients: the operator's two steps.

A counterpart running other software needs nothing else on our side: its agency
code, API base URL and public keys (to send to it and verify what it signs),
and a client registration at our authorization server (so it may send to us).

Both registrations are listed, changed and removed here, each change with its
audit entry. A running node follows them without a restart: it rebuilds its
client and access token for a counterpart whose version changed
(``adapters/counterpart.py``), and re-reads a client's scopes every second
(``adapters/db/clients.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from crossborder.adapters.db.tables import Counterpart, OAuthClient, OutboxMessage
from crossborder.adapters.oauth.keys import key_set_from_jwks
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.delivery import OutboxStatus
from crossborder.domain.errors import Conflict, InvalidInput, NotFound
from crossborder.domain.messages import KNOWN_SCOPES
from crossborder.services.node import Node


def load_jwks(node: Node, source: str) -> tuple[dict[str, Any], str | None]:
    """A JWKS from a file or an ``http(s)://`` URL; returns the document and the URL, if any."""
    # The HTTP client is loaded only by the operator who registers a URL, not by
    # every officer's command that imports this module.
    from crossborder.adapters.counterpart import fetch_jwks

    try:
        if source.startswith(("http://", "https://")):
            jwks, url = fetch_jwks(source, node.transport), source
        else:
            jwks, url = json.loads(Path(source).read_text(encoding="utf-8")), None
        key_set_from_jwks(jwks)
    except Exception as exc:  # any failure to read or parse is one user error
        raise InvalidInput("JWKS_UNREADABLE", source=source) from exc
    if not jwks.get("keys"):
        raise InvalidInput("JWKS_UNREADABLE", source=source)
    return jwks, url


def add_counterpart(
    node: Node,
    *,
    agency: str,
    base_url: str,
    jwks_source: str,
    client_id: str,
    scope: str,
    actor: Actor,
    issuer: str | None = None,
) -> None:
    jwks, jwks_url = load_jwks(node, jwks_source)
    now = node.now()
    with node.transaction() as session:
        row = session.get(Counterpart, agency)
        if row is None:
            row = Counterpart(agency=agency, added_at=now, version=1)
        else:
            # Counted by the database, so that two operators' changes never share a
            # number: a running node rebuilds its client and token when it sees a new one.
            row.version = Counterpart.version + 1
        row.updated_at = now
        row.base_url = base_url.rstrip("/")
        row.issuer = (issuer or base_url).rstrip("/")
        row.jwks = jwks
        row.jwks_url = jwks_url
        row.client_id = client_id
        row.scope = scope
        session.add(row)
        record(
            session,
            "registry.counterpart_added",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            agency=agency,
            base_url=row.base_url,
        )
    node.counterparts.forget(agency)


def add_client(
    node: Node,
    *,
    client_id: str,
    agency: str,
    jwks_source: str,
    scopes: str,
    actor: Actor,
    bearer_allowed: bool = False,
) -> None:
    """Register (or update) a client; its tokens are DPoP-bound unless ``bearer_allowed``."""
    unknown = set(scopes.split()) - KNOWN_SCOPES
    if unknown or not scopes.split():
        raise InvalidInput("SCOPE_UNKNOWN", scopes=" ".join(sorted(unknown)) or "-")
    jwks, jwks_url = load_jwks(node, jwks_source)
    now = node.now()
    with node.transaction() as session:
        row = session.get(OAuthClient, client_id) or OAuthClient(client_id=client_id, added_at=now)
        # Said in the trail whenever it changes: a bearer token is weaker than a bound one.
        allowance_changed = bool(row.bearer_allowed) != bearer_allowed
        row.bearer_allowed = bearer_allowed
        row.updated_at = now
        row.agency = agency
        row.jwks = jwks
        row.jwks_url = jwks_url
        row.scopes = " ".join(sorted(set(scopes.split())))
        session.add(row)
        record(
            session,
            "registry.client_added",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            client_id=client_id,
            agency=agency,
            scopes=row.scopes,
        )
        if allowance_changed and bearer_allowed:
            record(
                session,
                "keys.bearer_allowed",
                actor=actor,
                occurred_at=now,
                source_tz=node.timezone,
                client_id=client_id,
                agency=agency,
            )
        elif allowance_changed:
            record(
                session,
                "keys.dpop_required",
                actor=actor,
                occurred_at=now,
                source_tz=node.timezone,
                client_id=client_id,
                agency=agency,
            )


def only_counterpart(node: Node) -> str:
    """The recipient when an officer names none: the node's one counterpart, if it has one."""
    with node.sessions() as session:
        agencies = list(session.scalars(select(Counterpart.agency)))
    if len(agencies) != 1:
        raise InvalidInput("RECIPIENT_REQUIRED")
    return agencies[0]


def connect_peer(node: Node, *, agency: str, base_url: str, jwks_source: str, actor: Actor) -> None:
    """Both operator steps for a counterpart running this same software.

    Such a peer is our counterpart (we send to it, as client ``node.agency``) and
    our client (it sends to us, as client ``agency``), with every scope.
    """
    scopes = " ".join(sorted(KNOWN_SCOPES))
    add_counterpart(
        node,
        agency=agency,
        base_url=base_url,
        jwks_source=jwks_source,
        client_id=node.agency,
        scope=scopes,
        actor=actor,
    )
    add_client(
        node, client_id=agency, agency=agency, jwks_source=jwks_source, scopes=scopes, actor=actor
    )


@dataclass(frozen=True)
class CounterpartView:
    """A registered counterpart as its operator reviews it."""

    agency: str
    base_url: str
    issuer: str
    #: The client id we use at its authorization server, and the scopes we ask for.
    client_id: str
    scope: str
    #: Where its keys come from (``None``: registered from a file) and their ids.
    jwks_url: str | None
    key_ids: tuple[str, ...]
    #: Messages to it still waiting in our outbox, and those it refused.
    queued: int
    refused: int
    added_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ClientView:
    """A counterpart's client registered at our authorization server."""

    client_id: str
    agency: str
    scopes: str
    jwks_url: str | None
    key_ids: tuple[str, ...]
    #: Whether it may use bearer tokens instead of DPoP-bound ones.
    bearer_allowed: bool
    added_at: datetime
    updated_at: datetime


def _key_ids(jwks: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(key.get("kid", "-")) for key in jwks.get("keys", []))


def _outbox_counts(node: Node) -> dict[tuple[str, str], int]:
    """(recipient, status) → messages, over the whole outbox, in one query."""
    with node.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.recipient, OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED)))
            .group_by(OutboxMessage.recipient, OutboxMessage.status)
        ).all()
    return {(recipient, status): count for recipient, status, count in rows}


def list_counterparts(node: Node) -> list[CounterpartView]:
    counts = _outbox_counts(node)
    with node.sessions() as session:
        rows = session.scalars(select(Counterpart).order_by(Counterpart.agency)).all()
        return [
            CounterpartView(
                agency=row.agency,
                base_url=row.base_url,
                issuer=row.issuer,
                client_id=row.client_id,
                scope=row.scope,
                jwks_url=row.jwks_url,
                key_ids=_key_ids(row.jwks),
                queued=counts.get((row.agency, "pending"), 0),
                refused=counts.get((row.agency, "failed"), 0),
                added_at=row.added_at,
                updated_at=row.updated_at,
            )
            for row in rows
        ]


def remove_counterpart(node: Node, agency: str, actor: Actor) -> None:
    """Stop exchanging with ``agency``: refused while messages to it still wait in the outbox.

    Those would otherwise be retried for ever towards an agency we no longer
    know; an officer lets them go out first. Its client at our authorization
    server is a registration of its own (:func:`remove_client`).
    """
    now = node.now()
    with node.transaction() as session:
        row = session.get(Counterpart, agency, with_for_update=True)
        if row is None:
            raise NotFound("UNKNOWN_COUNTERPART", agency=agency)
        waiting = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.recipient == agency, OutboxMessage.status == OutboxStatus.PENDING)
        )
        if waiting:
            raise Conflict("COUNTERPART_HAS_QUEUED_MESSAGES", agency=agency, count=waiting)
        session.delete(row)
        record(
            session,
            "registry.counterpart_removed",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            agency=agency,
            base_url=row.base_url,
        )
    node.counterparts.forget(agency)


def list_clients(node: Node) -> list[ClientView]:
    with node.sessions() as session:
        rows = session.scalars(select(OAuthClient).order_by(OAuthClient.client_id)).all()
        return [
            ClientView(
                client_id=row.client_id,
                agency=row.agency,
                scopes=row.scopes,
                jwks_url=row.jwks_url,
                key_ids=_key_ids(row.jwks),
                bearer_allowed=row.bearer_allowed,
                added_at=row.added_at,
                updated_at=row.updated_at,
            )
            for row in rows
        ]


def remove_client(node: Node, client_id: str, actor: Actor) -> None:
    """Withdraw a client's registration: no new token, and its messages refused within a second."""
    now = node.now()
    with node.transaction() as session:
        row = session.get(OAuthClient, client_id, with_for_update=True)
        if row is None:
            raise NotFound("CLIENT_UNKNOWN", client_id=client_id)
        session.delete(row)
        record(
            session,
            "registry.client_removed",
            actor=actor,
            occurred_at=now,
            source_tz=node.timezone,
            client_id=client_id,
            agency=row.agency,
        )
