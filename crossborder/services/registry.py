"""Registering counterparts and their OAuth clients: the operator's two steps.

A counterpart running other software needs nothing else on our side: its agency
code, API base URL and public keys (to send to it and verify what it signs),
and a client registration at our authorization server (so it may send to us).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crossborder.adapters.counterpart import fetch_jwks
from crossborder.adapters.db.tables import Counterpart, OAuthClient
from crossborder.adapters.oauth.keys import key_set_from_jwks
from crossborder.audit.trail import Actor, record
from crossborder.bootstrap import Node
from crossborder.domain.errors import InvalidInput
from crossborder.domain.messages import KNOWN_SCOPES


def load_jwks(node: Node, source: str) -> tuple[dict[str, Any], str | None]:
    """A JWKS from a file or an ``http(s)://`` URL; returns the document and the URL, if any."""
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
        row = session.get(Counterpart, agency) or Counterpart(agency=agency, added_at=now)
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
    node: Node, *, client_id: str, agency: str, jwks_source: str, scopes: str, actor: Actor
) -> None:
    unknown = set(scopes.split()) - KNOWN_SCOPES
    if unknown or not scopes.split():
        raise InvalidInput("SCOPE_UNKNOWN", scopes=" ".join(sorted(unknown)) or "-")
    jwks, jwks_url = load_jwks(node, jwks_source)
    now = node.now()
    with node.transaction() as session:
        row = session.get(OAuthClient, client_id) or OAuthClient(client_id=client_id, added_at=now)
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
