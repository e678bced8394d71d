"""Counterparts and clients listed, changed and removed, and a running node following the changes.

Changes are made the way an operator makes them: through the services, from
another process (here: another node object on the same database), so the
running node learns of them only from the database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from sqlalchemy import func, select

from crossborder.adapters.counterpart import CounterpartClient
from crossborder.adapters.db.clients import JWKS_REFRESH_SECONDS, DatabaseClientRegistry, Sender
from crossborder.adapters.db.tables import AuditEntry, Counterpart, OAuthClient
from crossborder.adapters.oauth.keys import generate_signing_key, public_jwks
from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError
from crossborder.domain.messages import KNOWN_SCOPES, CoShareMessage, CoSharePayload
from crossborder.services.node import Node
from crossborder.services.outbox import enqueue, new_message
from crossborder.services.registry import (
    add_client,
    add_counterpart,
    list_clients,
    list_counterparts,
    remove_client,
    remove_counterpart,
)
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node

OPERATOR = Actor.officer("tran.minh", "CN-NNCUS")


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(cn, vn, tmp_path)
    yield cn, vn
    cn.close()
    vn.close()


@pytest.fixture
def operator(pair: tuple[Node, Node], clock: Clock) -> Iterator[Node]:
    """The operator's own process on the sending node's database (the CLI, say)."""
    other = bootstrap(pair[0].settings, clock=clock, migrate=False)
    yield other
    other.close()


def queue(node: Node, recipient: str, number: int) -> str:
    message = new_message(
        node,
        CoShareMessage,
        recipient=recipient,
        case_id=f"CN-NNCUS-20261127-{number:06X}",
        payload=CoSharePayload(certificate=form_e()),
    )
    with node.transaction() as session:
        return enqueue(session, node, message).message_id


def audit_length(node: Node) -> int:
    with node.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def last_event(node: Node) -> AuditEntry:
    with node.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    return entry


def jwks_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(public_jwks([generate_signing_key(f"{name}-1")])), "utf-8")
    return str(path)


def reregister(node: Node, vn: Node, tmp_path: Path, **changes: str) -> None:
    fields = {
        "agency": vn.agency,
        "base_url": vn.settings.base_url,
        "jwks_source": str(tmp_path / f"{vn.agency}-jwks.json"),
        "client_id": node.agency,
        "scope": "co:write",
        **changes,
    }
    add_counterpart(node, actor=OPERATOR, **fields)


def test_counterparts_are_listed_with_what_waits_for_them(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    queue(cn, vn.agency, 1)
    queue(cn, vn.agency, 2)

    (listed,) = list_counterparts(cn)

    assert (listed.agency, listed.base_url, listed.client_id) == (
        vn.agency,
        vn.settings.base_url,
        cn.agency,
    )
    assert listed.key_ids == (vn.signing_key.kid, vn.token_key.kid)
    assert (listed.queued, listed.refused) == (2, 0)
    assert listed.jwks_url is None


def test_every_change_of_a_counterpart_gets_a_new_version(
    pair: tuple[Node, Node], operator: Node, tmp_path: Path
) -> None:
    cn, vn = pair

    def version() -> int:
        with cn.sessions() as session:
            return int(session.scalar(select(Counterpart.version)) or 0)

    assert version() == 1
    reregister(operator, vn, tmp_path, scope="co:write sps:write")
    reregister(operator, vn, tmp_path, scope="co:write sps:write")
    assert version() == 3
    assert list_counterparts(cn)[0].scope == "co:write sps:write"


def test_a_counterpart_with_messages_waiting_is_not_removed(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    queue(cn, vn.agency, 1)
    queue(cn, vn.agency, 2)
    before = audit_length(cn)

    with pytest.raises(CrossborderError) as refused:
        remove_counterpart(cn, vn.agency, OPERATOR)

    assert refused.value.code == "COUNTERPART_HAS_QUEUED_MESSAGES"
    assert refused.value.params == {"agency": vn.agency, "count": 2}
    assert len(list_counterparts(cn)) == 1 and audit_length(cn) == before


def test_a_removed_counterpart_is_neither_listed_nor_sent_to(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    cn.counterparts.keys(vn.agency)  # something cached, as in a running node

    remove_counterpart(cn, vn.agency, OPERATOR)

    assert list_counterparts(cn) == []
    entry = last_event(cn)
    assert (entry.event, entry.params) == (
        "registry.counterpart_removed",
        {"agency": vn.agency, "base_url": vn.settings.base_url},
    )
    outcome = cn.counterparts.deliver(vn.agency, b"a.b.c")
    assert (outcome.kind, outcome.error) == ("retry", "UNKNOWN_COUNTERPART")


@pytest.mark.parametrize(
    ("remove", "code"),
    [
        (lambda node: remove_counterpart(node, "VN-BGLS", OPERATOR), "UNKNOWN_COUNTERPART"),
        (lambda node: remove_client(node, "VN-BGLS", OPERATOR), "CLIENT_UNKNOWN"),
    ],
    ids=["counterpart", "client"],
)
def test_removing_what_is_not_registered_is_refused(
    pair: tuple[Node, Node], remove: Callable[[Node], None], code: str
) -> None:
    cn, _ = pair
    before = audit_length(cn)
    with pytest.raises(CrossborderError) as refused:
        remove(cn)
    assert refused.value.code == code
    assert audit_length(cn) == before
    assert len(list_counterparts(cn)) == len(list_clients(cn)) == 1


def test_clients_are_listed_and_removed(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    (client,) = list_clients(cn)
    assert (client.client_id, client.agency) == (vn.agency, vn.agency)
    assert "sps:write" in client.scopes.split()

    remove_client(cn, vn.agency, OPERATOR)

    assert list_clients(cn) == [] and cn.clients.get_client(vn.agency) is None
    entry = last_event(cn)
    assert (entry.event, entry.params) == (
        "registry.client_removed",
        {"client_id": vn.agency, "agency": vn.agency},
    )
    with cn.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OAuthClient)) == 0


def test_the_inbox_sees_a_clients_new_scopes_and_removal_within_a_second(
    pair: tuple[Node, Node], operator: Node, tmp_path: Path
) -> None:
    cn, vn = pair
    ticker = Ticker()
    registry = DatabaseClientRegistry(cn.sessions, monotonic=ticker)
    jwks = str(tmp_path / f"{vn.agency}-jwks.json")
    add_client(
        operator,
        client_id=vn.agency,
        agency=vn.agency,
        jwks_source=jwks,
        scopes="co:write",
        actor=OPERATOR,
    )
    assert registry.sender(vn.agency) == Sender(vn.agency, frozenset({"co:write"}))

    add_client(
        operator,
        client_id=vn.agency,
        agency=vn.agency,
        jwks_source=jwks,
        scopes="co:write sps:write",
        actor=OPERATOR,
    )
    assert registry.sender(vn.agency) == Sender(vn.agency, frozenset({"co:write"}))
    granted = Sender(vn.agency, frozenset({"co:write", "sps:write"}))
    # Asked afresh (before refusing a scope the token holds), it is seen at once.
    assert registry.sender(vn.agency, fresh=True) == granted
    ticker.now += 1.0
    assert registry.sender(vn.agency) == granted

    remove_client(operator, vn.agency, OPERATOR)
    ticker.now += 1.0
    assert registry.sender(vn.agency) is None


def test_token_requests_after_a_rotation_all_see_the_one_fetch_of_the_new_keys(
    pair: tuple[Node, Node],
) -> None:
    """A node that has just rotated asks for several tokens at once (one per case it
    delivers): each must see the keys the first request fetched, not be refused
    while that fetch is in flight; and the URL is still fetched once per interval."""
    cn, vn = pair
    rotated = generate_signing_key(f"{vn.agency}-sig-2")
    fetches: list[str] = []
    in_flight, go_on = threading.Event(), threading.Event()

    def jwks_url(request: httpx.Request) -> httpx.Response:
        fetches.append(str(request.url))
        in_flight.set()
        go_on.wait(timeout=10)
        return httpx.Response(200, json=public_jwks([rotated]))

    with cn.sessions.begin() as session:
        row = session.get(OAuthClient, vn.agency)
        assert row is not None
        row.jwks_url = "https://vn.node.test/.well-known/jwks.json"
    ticker = Ticker()
    registry = DatabaseClientRegistry(
        cn.sessions, monotonic=ticker, transport=httpx.MockTransport(jwks_url)
    )
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(registry.refreshed, vn.agency)
        assert in_flight.wait(timeout=10)
        others = [pool.submit(registry.refreshed, vn.agency) for _ in range(2)]
        go_on.set()
        answers = [first.result(timeout=10), *(other.result(timeout=10) for other in others)]

    for answer in answers:
        assert answer is not None
        assert [key["kid"] for key in answer.jwks["keys"]] == [f"{vn.agency}-sig-2"]
    assert len(fetches) == 1
    # Within the interval, made-up key ids read what is stored and fetch nothing.
    ticker.now += JWKS_REFRESH_SECONDS - 1
    assert registry.refreshed(vn.agency) == answers[0]
    assert len(fetches) == 1
    ticker.now += 1
    registry.refreshed(vn.agency)
    assert len(fetches) == 2


class FakeCounterpart:
    """Any counterpart at any address, faked at the transport: it records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        form = dict(parse_qsl(request.content.decode())) if request.method == "POST" else {}
        self.calls.append((origin, request.url.path, form.get("scope")))
        if request.url.path == "/.well-known/oauth-authorization-server":
            return httpx.Response(
                200, json={"issuer": origin, "token_endpoint": f"{origin}/oauth/token"}
            )
        if request.url.path == "/oauth/token":
            token = {"access_token": "t", "token_type": "Bearer", "expires_in": 300}
            return httpx.Response(200, json={**token, "scope": form.get("scope")})
        return httpx.Response(503, json={"error": {"code": "INTERNAL_ERROR"}})


def test_a_running_sender_rebuilds_client_token_and_keys_when_the_registration_changes(
    pair: tuple[Node, Node], operator: Node, tmp_path: Path, clock: Clock
) -> None:
    cn, vn = pair
    ticker, counterpart = Ticker(), FakeCounterpart()
    counterparts = CounterpartClient(
        cn.sessions, cn.signing_key, clock, httpx.MockTransport(counterpart), monotonic=ticker
    )
    old, new = vn.settings.base_url, "http://127.0.0.1:9"
    keys = counterparts.keys(vn.agency)
    counterparts.deliver(vn.agency, b"a.b.c")
    counterparts.deliver(vn.agency, b"a.b.c")
    scopes = " ".join(sorted(KNOWN_SCOPES))
    assert counterpart.calls == [
        (old, "/.well-known/oauth-authorization-server", None),
        (old, "/oauth/token", scopes),
        (old, "/v1/messages", None),
        (old, "/v1/messages", None),
    ]

    counterpart.calls.clear()
    rotated = jwks_file(tmp_path, "vn-rotated")
    reregister(operator, vn, tmp_path, jwks_source=rotated, base_url=new, scope="sps:write")
    # Within the second, the node keeps what it built: no database read per message.
    assert counterparts.keys(vn.agency) is keys
    ticker.now += 1.0
    assert [key.kid for key in counterparts.keys(vn.agency).keys] == ["vn-rotated-1"]
    counterparts.deliver(vn.agency, b"a.b.c")
    # A new client: the new address, and a new token asked with the new scope.
    assert counterpart.calls == [
        (new, "/.well-known/oauth-authorization-server", None),
        (new, "/oauth/token", "sps:write"),
        (new, "/v1/messages", None),
    ]
    counterparts.close()
