"""Rotating the agency's keys, message signing and access tokens together, each step audited.

Two steps (``adapters/oauth/key_ring.py``): publish the next keys, then sign
with them — after the publication period, or when an operator activates them.
The key files change before the audit entry commits: a crash between the two
leaves a rotation that happened without its entry, never an entry for a
rotation that did not happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict
from crossborder.services.node import Node


@dataclass(frozen=True)
class NextKeys:
    signing_kid: str
    token_kid: str
    #: When the node signs with them unless activated before.
    activates_at: datetime


def publish_next_keys(node: Node, actor: Actor) -> NextKeys:
    """Make and publish the next signing and token keys; refused while earlier ones wait."""
    from crossborder.adapters.oauth.key_ring import KeyPending

    rings = (node.signing_keys, node.token_keys)
    for ring in rings:
        waiting = ring.pending()
        if waiting is not None:
            raise Conflict("KEY_ROTATION_PENDING", kid=str(waiting.key.kid))
    with node.transaction() as session:
        try:
            signing, token = (ring.prepare_next() for ring in rings)
        except KeyPending as pending:  # another operator's rotation, a moment ago
            raise Conflict("KEY_ROTATION_PENDING", kid=pending.kid) from pending
        published = NextKeys(
            signing_kid=str(signing.key.kid),
            token_kid=str(token.key.kid),
            activates_at=node.signing_keys.activates_at(signing),
        )
        record(
            session,
            "keys.next_published",
            actor=actor,
            occurred_at=node.now(),
            source_tz=node.timezone,
            signing_kid=published.signing_kid,
            token_kid=published.token_kid,
        )
    return published


def activate_next_keys(node: Node, actor: Actor) -> tuple[str, str]:
    """Sign with the published next keys from now on; returns their key ids."""
    from crossborder.adapters.oauth.key_ring import NoKeyPending

    with node.transaction() as session:
        try:
            signing, token = (ring.activate() for ring in (node.signing_keys, node.token_keys))
        except NoKeyPending as none:
            raise Conflict("KEY_ROTATION_NONE_PENDING") from none
        record(
            session,
            "keys.activated",
            actor=actor,
            occurred_at=node.now(),
            source_tz=node.timezone,
            signing_kid=str(signing.kid),
            token_kid=str(token.kid),
        )
    return str(signing.kid), str(token.kid)
