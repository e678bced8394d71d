"""Whatever a caller sends, a 4xx and never a 5xx; every authenticated refusal is kept once.

The corpus is what a tester sent a node: nesting bombs in the payload, in a
Form E field and in the protected header, a ``message_id`` that is a deep list,
a ``kid`` that is not a string, a huge header, members named twice. Each is
posted over real HTTP to a node on SQLite and on PostgreSQL; each leaves one
``rejected_messages`` row and one audit entry. Unauthenticated callers (a bad
access token, a bad client assertion) get their 4xx and leave nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc.jws import JWSRegistry
from sqlalchemy import func, select

from crossborder.adapters.db.tables import AuditEntry, InboxMessage, RejectedMessage
from crossborder.adapters.oauth import CLIENT_ASSERTION_JWT_TYPE, CLIENT_ASSERTION_TYPE
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.adapters.wire.signing import MESSAGE_TYP, sign
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.e2e.test_inbound_refusals import share_message
from tests.factories import connect, make_node, serving

pytestmark = pytest.mark.e2e


def b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def compact(header: bytes, payload: bytes, node: Node | None = None) -> bytes:
    """A JWS of exactly these header and payload bytes, signed by ``node`` (else a dummy)."""
    signing_input = b64(header) + b"." + b64(payload)
    if node is None:
        return signing_input + b"." + b64(b"\x00" * 64)
    signature = JWSRegistry.algorithms["ES256"].sign(signing_input, node.signing_key)
    return signing_input + b"." + b64(signature)


def header_of(node: Node, **extra: Any) -> bytes:
    header = {"alg": "ES256", "kid": node.signing_key.kid, "typ": MESSAGE_TYP, **extra}
    return json.dumps(header).encode()


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock, refused_body_budget_bytes=50_000)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    with serving(vn, run_workers=False):
        yield cn, vn
    cn.close()
    vn.close()


def client_for(cn: Node, vn: Node, clock: Clock) -> httpx.Client:
    auth = PrivateKeyJWTAuth(vn.settings.issuer, cn.agency, cn.signing_key, "co:write", clock)
    return httpx.Client(base_url=vn.settings.base_url, auth=auth, timeout=30)


def post(client: httpx.Client, body: bytes) -> httpx.Response:
    return client.post("/v1/messages", content=body, headers={"Content-Type": "application/jose"})


def counts(vn: Node) -> tuple[int, int]:
    """Rows in ``rejected_messages``, entries ``message.rejected`` in the audit trail."""
    with vn.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(RejectedMessage)) or 0
        entries = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.event == "message.rejected")
        )
    return rows, entries or 0


def deep(levels: int, leaf: str = "1") -> str:
    return "[" * levels + leaf + "]" * levels


def _share(cn: Node, vn: Node, c: Clock, **changes: Any) -> bytes:
    return json.dumps({**share_message(cn, vn, c), **changes}).encode()


def _duplicate_sender(cn: Node, vn: Node, c: Clock) -> bytes:
    text = json.dumps(share_message(cn, vn, c))
    return text.replace('"sender": ', f'"sender": "{cn.agency}", "sender": ', 1).encode()


def _deep_form_e_field(cn: Node, vn: Node, c: Clock) -> bytes:
    message = share_message(cn, vn, c)
    message["payload"]["certificate"]["items"][0]["description"] = json.loads(deep(30))
    text = json.dumps(message).replace('"description": ' + deep(30), '"description": ' + deep(5000))
    return text.encode()


Body = Callable[[Node, Node, Clock], bytes]
#: name: (body, the code it is refused with)
CORPUS: dict[str, tuple[Body, str]] = {
    "5,000-deep arrays, signed": (
        lambda cn, vn, c: compact(header_of(cn), deep(5000).encode(), cn),
        "JSON_TOO_DEEP",
    ),
    "50,000 nested objects, signed": (
        lambda cn, vn, c: compact(
            header_of(cn), ('{"a":' * 50_000 + "1" + "}" * 50_000).encode(), cn
        ),
        "JSON_TOO_DEEP",
    ),
    "deep nesting in a Form E field, signed": (
        lambda cn, vn, c: compact(header_of(cn), _deep_form_e_field(cn, vn, c), cn),
        "JSON_TOO_DEEP",
    ),
    "message_id a deep list, signed": (
        lambda cn, vn, c: compact(header_of(cn), f'{{"message_id": {deep(5000)}}}'.encode(), cn),
        "JSON_TOO_DEEP",
    ),
    # Refused for its signature; the record of the refusal reads the claimed id safely.
    "message_id a deep list, unsigned": (
        lambda cn, vn, c: compact(header_of(cn), f'{{"message_id": {deep(5000)}}}'.encode()),
        "SIGNATURE_INVALID",
    ),
    "deep nesting in the protected header": (
        lambda cn, vn, c: compact(
            header_of(cn, x=json.loads(deep(30))).replace(deep(30).encode(), deep(100).encode()),
            _share(cn, vn, c),
        ),
        "JSON_TOO_DEEP",
    ),
    "a 100 kB protected header": (
        lambda cn, vn, c: compact(header_of(cn, x="x" * 100_000), _share(cn, vn, c)),
        "JWS_HEADER_TOO_LARGE",
    ),
    "a header bomb past the header limit": (
        lambda cn, vn, c: compact(deep(5000).encode(), _share(cn, vn, c)),
        "JWS_HEADER_TOO_LARGE",
    ),
    "kid an object": (
        lambda cn, vn, c: compact(header_of(cn, kid={}), _share(cn, vn, c)),
        "JWS_MALFORMED",
    ),
    "kid a list": (
        lambda cn, vn, c: compact(header_of(cn, kid=["a"]), _share(cn, vn, c)),
        "JWS_MALFORMED",
    ),
    "sender named twice, signed": (
        lambda cn, vn, c: compact(header_of(cn), _duplicate_sender(cn, vn, c), cn),
        "JSON_DUPLICATE_MEMBER",
    ),
    "alg named twice in the header": (
        lambda cn, vn, c: compact(
            header_of(cn).replace(b'"alg": "ES256"', b'"alg": "none", "alg": "ES256"'),
            _share(cn, vn, c),
            cn,
        ),
        "JSON_DUPLICATE_MEMBER",
    ),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_the_corpus_is_refused_with_a_4xx_and_recorded_once(
    case: str, pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    make_body, code = CORPUS[case]
    with client_for(cn, vn, clock) as client:
        response = post(client, make_body(cn, vn, clock))
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"] == code
    assert counts(vn) == (1, 1)


def test_a_correctly_signed_form_e_of_175_kb_is_accepted(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    message = share_message(cn, vn, clock)
    first = message["payload"]["certificate"]["items"][0]
    message["payload"]["certificate"]["items"] = [
        {**first, "item_number": n, "description": f"Fresh winter jujubes, lot {n}. " + "x" * 950}
        for n in range(1, 101)
    ]
    body = sign(message, cn.signing_key, MESSAGE_TYP)
    assert len(body) > 175_000
    with client_for(cn, vn, clock) as client:
        response = post(client, body)
    assert response.status_code == 202, response.text
    with vn.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 1


def test_refused_bodies_are_kept_within_the_clients_budget(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    padded = compact(header_of(cn), b"{not json" + b" " * 20_000, cn)
    with client_for(cn, vn, clock) as client:
        for _ in range(3):
            assert post(client, padded).status_code == 400
    with vn.sessions() as session:
        kept = list(
            session.scalars(select(func.length(RejectedMessage.body)).order_by(RejectedMessage.id))
        )
        noted = [
            (entry["body_bytes"], entry["body_kept_bytes"])
            for entry in session.scalars(
                select(AuditEntry.params)
                .where(AuditEntry.event == "message.rejected")
                .order_by(AuditEntry.seq)
            )
        ]
    # 50,000 bytes a day for this client: two bodies fit, the third keeps its first 1 kB.
    assert kept == [len(padded), len(padded), 1024]
    assert noted == [(len(padded), len(padded))] * 2 + [(len(padded), 1024)]


def test_a_client_over_its_rate_is_told_when_to_come_back(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node(
        "vn", make_db_url("vn"), tmp_path, clock, client_rate_per_second=0.01, client_burst=2
    )
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    body = sign(share_message(cn, vn, clock), cn.signing_key, MESSAGE_TYP)
    with serving(vn, run_workers=False), client_for(cn, vn, clock) as client:
        statuses = [post(client, body).status_code for _ in range(3)]
        refused = post(client, body)
    cn.close()
    vn.close()
    assert statuses == [202, 202, 429]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) == 100
    # Over its rate, a client is not read, so it cannot fill the record either.
    assert counts(vn) == (0, 0)


# --- unauthenticated callers ---


def _token_with_header(header: bytes) -> str:
    return compact(header, b'{"sub": "x"}').decode()


TOKENS: dict[str, str | bytes] = {
    "deep header": _token_with_header(deep(5000).encode()),
    "deep header within 512 bytes": _token_with_header(
        b'{"typ": "at+jwt", "x": ' + deep(100).encode() + b"}"
    ),
    "kid an object": _token_with_header(b'{"typ": "at+jwt", "alg": "ES256", "kid": {}}'),
    "kid a list": _token_with_header(b'{"typ": "at+jwt", "alg": "ES256", "kid": ["a"]}'),
    "typ twice": _token_with_header(b'{"typ": "x", "typ": "at+jwt", "alg": "ES256"}'),
    "not ASCII": "é.é.é".encode("latin-1"),
    # Larger headers are refused by the HTTP server itself, before the node sees them.
    "huge": "a" * 12_000,
}


@pytest.mark.parametrize("case", sorted(TOKENS))
def test_a_bad_access_token_is_a_401_and_leaves_nothing(
    case: str, pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    body = sign(share_message(cn, vn, clock), cn.signing_key, MESSAGE_TYP)
    response = httpx.post(
        f"{vn.settings.base_url}/v1/messages",
        content=body,
        headers={"Authorization": b"Bearer " + _bytes(TOKENS[case])},
    )
    assert response.status_code == 401, response.text
    assert counts(vn) == (0, 0)


def _bytes(token: str | bytes) -> bytes:
    return token if isinstance(token, bytes) else token.encode()


def _assertion(header: bytes, claims: bytes) -> str:
    return compact(header, claims).decode()


_TYP = CLIENT_ASSERTION_JWT_TYPE
ASSERTIONS: dict[str, str] = {
    "deep claims": _assertion(
        json.dumps({"alg": "ES256", "typ": _TYP}).encode(), deep(5000).encode()
    ),
    "deep header": _assertion(deep(5000).encode(), b"{}"),
    "kid an object": _assertion(
        json.dumps({"alg": "ES256", "typ": _TYP, "kid": {}}).encode(), b'{"sub": "CN-NNCUS"}'
    ),
    "kid a list": _assertion(
        json.dumps({"alg": "ES256", "typ": _TYP, "kid": ["a"]}).encode(), b'{"sub": "CN-NNCUS"}'
    ),
    "sub twice": _assertion(
        json.dumps({"alg": "ES256", "typ": _TYP}).encode(),
        b'{"sub": "nobody", "sub": "CN-NNCUS"}',
    ),
}


@pytest.mark.parametrize("case", sorted(ASSERTIONS))
def test_a_bad_client_assertion_is_invalid_client(
    case: str, pair: tuple[Node, Node], clock: Clock
) -> None:
    _, vn = pair
    response = httpx.post(
        f"{vn.settings.base_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": ASSERTIONS[case],
        },
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"


def test_a_token_request_field_too_large_is_invalid_request(pair: tuple[Node, Node]) -> None:
    _, vn = pair
    response = httpx.post(
        f"{vn.settings.base_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_assertion": "a" * 100_000},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_token_requests_are_limited_per_address(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    # A refill too slow to matter however long the three requests take.
    vn = make_node(
        "vn", make_db_url("vn"), tmp_path, clock, token_burst=2, token_rate_per_second=0.001
    )
    with serving(vn, run_workers=False):
        url = f"{vn.settings.base_url}/oauth/token"
        statuses = [httpx.post(url, data={"grant_type": "x"}).status_code for _ in range(3)]
        refused = httpx.post(url, data={"grant_type": "x"})
    vn.close()
    assert statuses[:2] != [429, 429] and statuses[2] == 429
    assert refused.status_code == 429 and "Retry-After" in refused.headers


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=3000) | st.text(max_size=500).map(str.encode))
def test_any_signed_payload_gets_a_4xx_or_a_receipt_and_refusals_are_kept(
    pair: tuple[Node, Node], clock: Clock, payload: bytes
) -> None:
    cn, vn = pair
    before = counts(vn)
    with client_for(cn, vn, clock) as client:
        response = post(client, compact(header_of(cn), payload, cn))
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert counts(vn) == (before[0] + 1, before[1] + 1)
