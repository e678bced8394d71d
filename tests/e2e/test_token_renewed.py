"""Two real nodes: an access token the receiver no longer honours is replaced, not failed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import AuditEntry, OutboxMessage
from crossborder.adapters.oauth.keys import generate_signing_key, save_private_key
from crossborder.domain.actors import Actor
from crossborder.services.certificate_of_origin import share
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node, serving

pytestmark = pytest.mark.e2e


class Recording(httpx.BaseTransport):
    """Real HTTP, noting each call's path and status."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._real.handle_request(request)
        self.calls.append((request.url.path, response.status_code))
        return response

    def close(self) -> None:
        self._real.close()


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node, Recording]]:
    wire = Recording()
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock, transport=wire)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    yield cn, vn, wire
    cn.close()
    vn.close()


def test_a_token_the_receiver_revoked_is_replaced_and_the_message_delivered(
    pair: tuple[Node, Node, Recording],
) -> None:
    cn, vn, wire = pair
    officer = Actor.officer("li.wei", cn.agency)
    with serving(vn, run_workers=False):
        first = share(cn, form_e(certificate_number="E26451000000001"), vn.agency, officer)
        assert deliver_due(cn) == {first.message_id: "delivered"}
        # VN replaces its token key (say it leaked): every token it issued before
        # no longer verifies, the one CN holds included.
        save_private_key(vn.settings.token_key_path, generate_signing_key(f"{vn.agency}-at-1"))
        wire.calls.clear()
        second = share(cn, form_e(certificate_number="E26451000000002"), vn.agency, officer)
        assert deliver_due(cn) == {second.message_id: "delivered"}

    # Refused with the old token, delivered with a new one, in the same attempt.
    assert [call for call in wire.calls if not call[0].startswith("/.well-known")] == [
        ("/v1/messages", 401),
        ("/oauth/token", 200),
        ("/v1/messages", 202),
    ]
    with cn.sessions() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == second.message_id)
        ).one()
        events = session.scalars(
            select(AuditEntry.event).where(AuditEntry.message_id == second.message_id)
        ).all()
    assert (row.attempts, row.last_error) == (1, None)
    assert "message.delivery_deferred" not in events
    assert "message.delivery_failed" not in events
