"""Two real nodes on loopback: DPoP-bound tokens, and a key rotation with messages in flight."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from sqlalchemy import func, select

from crossborder.adapters.db.tables import (
    AuditEntry,
    InboxMessage,
    OAuthClient,
    OutboxMessage,
    RejectedMessage,
    SeenKey,
)
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.adapters.oauth.dpop import generate_dpop_key, make_proof
from crossborder.adapters.wire.signing import unverified_header
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict
from crossborder.services import audit_log, certificate_of_origin
from crossborder.services.key_rotation import activate_next_keys, publish_next_keys
from crossborder.services.node import Node
from crossborder.services.registry import add_client, connect_peer
from tests.conftest import Clock
from tests.factories import form_e, make_node, serving, wait_for

pytestmark = pytest.mark.e2e

OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")
OPERATOR = {"CN-NNCUS": Actor.officer("wang.fang", "CN-NNCUS")}
# Longer than an access token lives: after it, both sides fetch new tokens with the new keys.
PUBLICATION_SECONDS = 300


def _connect_by_url(node: Node, other: Node) -> None:
    """Register ``other`` with its JWKS URL, so that its rotations are picked up unaided."""
    connect_peer(
        node,
        agency=other.agency,
        base_url=other.settings.base_url,
        jwks_source=f"{other.settings.base_url}/.well-known/jwks.json",
        actor=Actor.officer("operator", node.agency),
    )


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    cn = make_node(
        "cn", make_db_url("cn"), tmp_path, clock, key_publication_seconds=PUBLICATION_SECONDS
    )
    vn = make_node(
        "vn", make_db_url("vn"), tmp_path, clock, key_publication_seconds=PUBLICATION_SECONDS
    )
    yield cn, vn
    cn.close()
    vn.close()


@contextmanager
def connected_without_workers(cn: Node, vn: Node) -> Iterator[None]:
    """Both nodes served, each knowing the other, and nothing sent but what the test sends."""
    with serving(cn, run_workers=False), serving(vn, run_workers=False):
        _connect_by_url(cn, vn)
        _connect_by_url(vn, cn)
        yield


def _messages_url(node: Node) -> str:
    return f"{node.settings.base_url}/v1/messages"


def test_a_stolen_access_token_opens_nothing_without_its_key(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    with connected_without_workers(cn, vn):
        seen: list[httpx.Request] = []
        auth = PrivateKeyJWTAuth(vn.settings.issuer, cn.agency, cn.signing_key, "co:write", clock)
        with httpx.Client(auth=auth, event_hooks={"request": [seen.append]}) as client:
            genuine = client.post(_messages_url(vn), content=b"x.y.z")
        # The owner got in (its message is refused for what it is, not for its token).
        assert genuine.status_code == 400, genuine.text
        called = seen[-1]
        scheme, token = called.headers["authorization"].split(" ", 1)
        assert scheme == "DPoP"
        claims = jwt.decode(token, vn.token_key).claims
        assert claims["cnf"]["jkt"] == auth._dpop_key.thumbprint()

        def call(headers: dict[str, str]) -> httpx.Response:
            return httpx.post(_messages_url(vn), content=b"x.y.z", headers=headers)

        as_bearer = call({"Authorization": f"Bearer {token}"})
        own_key = call(
            {
                "Authorization": f"DPoP {token}",
                "DPoP": make_proof(
                    generate_dpop_key(), "POST", _messages_url(vn), clock, access_token=token
                ),
            }
        )
        replayed = call({"Authorization": f"DPoP {token}", "DPoP": called.headers["dpop"]})
        no_proof = call({"Authorization": f"DPoP {token}"})

    assert (as_bearer.status_code, as_bearer.json()["error"]["code"]) == (401, "TOKEN_DPOP_BOUND")
    for refused in (own_key, replayed, no_proof):
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            401,
            "DPOP_PROOF_INVALID",
        )
        assert refused.headers["www-authenticate"].startswith('DPoP error="invalid_dpop_proof"')


def test_a_proof_is_accepted_once_whether_its_message_is_admitted_or_repeated(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    """The proof's id is written with the admission: a replay is refused and kept nowhere."""
    cn, vn = pair
    with connected_without_workers(cn, vn):
        message_id = _share(cn, vn, 1)
        with cn.sessions() as session:
            signed = session.scalar(
                select(OutboxMessage.signed).where(OutboxMessage.message_id == message_id)
            )
        assert signed is not None
        seen: list[httpx.Request] = []
        auth = PrivateKeyJWTAuth(vn.settings.issuer, cn.agency, cn.signing_key, "co:write", clock)
        with httpx.Client(auth=auth, event_hooks={"request": [seen.append]}) as client:
            admitted = client.post(_messages_url(vn), content=signed)
            first = seen[-1]
            repeated = client.post(_messages_url(vn), content=signed)
            again = seen[-1]

        def replay(request: httpx.Request) -> httpx.Response:
            return httpx.post(_messages_url(vn), content=signed, headers=dict(request.headers))

        replays = (replay(first), replay(again))

    assert admitted.status_code == 202, admitted.text
    # The same message with a fresh proof is a repeat delivery: the first receipt again.
    assert repeated.status_code == 202, repeated.text
    assert repeated.json() == {"receipt": admitted.json()["receipt"], "duplicate": True}
    for replayed in replays:
        assert (replayed.status_code, replayed.json()["error"]["code"]) == (
            401,
            "DPOP_PROOF_INVALID",
        )
    with vn.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 1
        assert session.scalar(select(func.count()).select_from(RejectedMessage)) == 0
        proofs = session.scalar(
            select(func.count()).select_from(SeenKey).where(SeenKey.key.startswith("dpop:"))
        )
    # The token request's proof, the admission's, and the repeat's (in a transaction of its own).
    assert proofs == 3


def test_a_client_gets_a_bearer_token_only_when_its_operator_allows_it(
    pair: tuple[Node, Node], clock: Clock, tmp_path: Path
) -> None:
    cn, vn = pair
    with serving(cn, run_workers=False), serving(vn, run_workers=False):
        _connect_by_url(vn, cn)
        jwks_source = f"{cn.settings.base_url}/.well-known/jwks.json"
        auth = PrivateKeyJWTAuth(vn.settings.issuer, cn.agency, cn.signing_key, "co:write", clock)

        def token_request() -> httpx.Response:
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": auth._client_assertion(),
            }
            return httpx.post(f"{vn.settings.issuer}/oauth/token", data=form)

        refused = token_request()
        add_client(
            vn,
            client_id=cn.agency,
            agency=cn.agency,
            jwks_source=jwks_source,
            scopes="co:write",
            actor=Actor.officer("operator", vn.agency),
            bearer_allowed=True,
        )
        allowed = token_request()

    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_dpop_proof")
    assert (allowed.status_code, allowed.json()["token_type"]) == (200, "Bearer")
    assert "cnf" not in jwt.decode(allowed.json()["access_token"], vn.token_key).claims
    with vn.sessions() as session:
        events = list(session.scalars(select(AuditEntry.event).order_by(AuditEntry.seq)))
    assert events[-1] == "keys.bearer_allowed"


def _share(cn: Node, vn: Node, number: int) -> str:
    certificate = form_e(certificate_number=f"E2645100001{number:05d}")
    return certificate_of_origin.share(cn, certificate, vn.agency, OFFICER_CN).message_id


def _delivered(node: Node, message_ids: list[str]) -> bool:
    with node.sessions() as session:
        statuses = session.scalars(
            select(OutboxMessage.status).where(OutboxMessage.message_id.in_(message_ids))
        ).all()
    return len(statuses) == len(message_ids) and set(statuses) == {"delivered"}


def _kids(node: Node, model: type[OutboxMessage] | type[InboxMessage]) -> set[str]:
    with node.sessions() as session:
        return {
            str(unverified_header(signed)["kid"])
            for signed in session.scalars(select(model.signed))
        }


def test_keys_rotate_on_both_sides_while_messages_are_in_flight(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    with serving(cn), serving(vn):
        _connect_by_url(cn, vn)
        _connect_by_url(vn, cn)
        before = [_share(cn, vn, number) for number in range(3)]
        audit_log.checkpoint(cn)  # signed with the first key, witnessed by VN
        # CN: publish and activate at once, while the first messages are still going out.
        published = publish_next_keys(cn, OPERATOR["CN-NNCUS"])
        with pytest.raises(Conflict) as pending:
            publish_next_keys(cn, OPERATOR["CN-NNCUS"])
        assert pending.value.code == "KEY_ROTATION_PENDING"
        assert published.signing_kid == "CN-NNCUS-sig-2"
        activate_next_keys(cn, OPERATOR["CN-NNCUS"])
        after = [_share(cn, vn, number) for number in range(3, 6)]
        # VN: publish only; its receipts switch to the new key when the period is over.
        publish_next_keys(vn, Actor.officer("operator", vn.agency))
        wait_for(lambda: _delivered(cn, before), timeout=30)
        clock.advance(seconds=PUBLICATION_SECONDS + 1)
        later = [_share(cn, vn, number) for number in range(6, 9)]
        wait_for(lambda: _delivered(cn, before + after + later), timeout=30)
        cn_checkpoint = audit_log.checkpoint(cn)
        vn_checkpoint = audit_log.checkpoint(vn)
        wait_for(
            lambda: audit_log.witnesses(vn, cn.agency) and audit_log.witnesses(cn, vn.agency),
            timeout=30,
        )
        wait_for(
            lambda: _delivered(cn, _outbox_ids(cn)) and _delivered(vn, _outbox_ids(vn)), timeout=30
        )

    # Every message was admitted, old key and new; every receipt verified on delivery.
    assert _kids(cn, OutboxMessage) >= {"CN-NNCUS-sig-1", "CN-NNCUS-sig-2"}
    assert len(_inbox_ids(vn)) >= 9
    assert unverified_header(cn_checkpoint.signed)["kid"] == "CN-NNCUS-sig-2"
    assert unverified_header(vn_checkpoint.signed)["kid"] == "VN-CUSKV6-sig-2"
    for node in (cn, vn):
        report = audit_log.verify_log(node)
        assert report.ok, report.problems
        assert report.checkpoints_checked >= 1
    # Both JWKS keep the old keys beside the new; the key files stay the owner's alone.
    assert [key.kid for key in cn.signing_keys.public_keys()] == [
        "CN-NNCUS-sig-1",
        "CN-NNCUS-sig-2",
    ]
    for path in (cn.settings.data_dir / "keys").iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
    with cn.sessions() as session:
        events = set(session.scalars(select(AuditEntry.event)))
    assert {"keys.next_published", "keys.activated"} <= events
    # VN's authorization server fetched CN's keys again for its first assertion by the new key.
    with vn.sessions() as session:
        client = session.get(OAuthClient, cn.agency)
        assert client is not None
        assert "CN-NNCUS-sig-2" in {key["kid"] for key in client.jwks["keys"]}


def _outbox_ids(node: Node) -> list[str]:
    with node.sessions() as session:
        return list(session.scalars(select(OutboxMessage.message_id)))


def _inbox_ids(node: Node) -> list[str]:
    with node.sessions() as session:
        return list(session.scalars(select(InboxMessage.message_id)))
