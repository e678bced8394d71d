"""A counterpart that does not answer holds up nobody else's messages.

Three agencies: CN sends to VN, a real node on loopback, and to a third
counterpart whose every request hangs until it times out, as behind a firewall
that drops packets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import OutboxMessage
from crossborder.adapters.oauth.keys import generate_signing_key, public_jwks
from crossborder.domain.actors import Actor
from crossborder.services.certificate_of_origin import share
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from crossborder.services.registry import connect_peer
from tests.conftest import Clock
from tests.factories import connect, form_e, free_port, make_node, serving, wait_for

SILENT = "VN-LSPPD"
#: How long a request to the silent counterpart hangs before it times out, unless
#: the test lets it go sooner.
HANG_SECONDS = 3.0
#: Cases the CN node sends side by side.
CONCURRENCY = 2


class DroppingPackets(httpx.BaseTransport):
    """Real HTTP, except to one port, where a request hangs and then times out.

    It counts the requests hanging at once, and the test may end the hang early
    (``time_out_now``): what the tests check is the order of events, never how
    long they took, so a slow machine cannot make them fail.
    """

    def __init__(self, silent_port: int, hang_seconds: float) -> None:
        self.silent_port = silent_port
        self.hang_seconds = hang_seconds
        self._real = httpx.HTTPTransport()
        self._timed_out = threading.Event()
        self._lock = threading.Lock()
        self.hanging = 0
        self.most_at_once = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.port != self.silent_port:
            return self._real.handle_request(request)
        with self._lock:
            self.hanging += 1
            self.most_at_once = max(self.most_at_once, self.hanging)
        try:
            self._timed_out.wait(self.hang_seconds)
        finally:
            with self._lock:
                self.hanging -= 1
        raise httpx.ReadTimeout("no answer", request=request)

    def time_out_now(self) -> None:
        self._timed_out.set()

    def close(self) -> None:
        self._real.close()


@pytest.fixture
def network() -> DroppingPackets:
    return DroppingPackets(free_port(), HANG_SECONDS)


@pytest.fixture
def nodes(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str], network: DroppingPackets
) -> Iterator[tuple[Node, Node]]:
    cn = make_node(
        "cn",
        make_db_url("cn"),
        tmp_path,
        clock,
        transport=network,
        delivery_concurrency=CONCURRENCY,
    )
    vn = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    jwks = tmp_path / "silent-jwks.json"
    jwks.write_text(json.dumps(public_jwks([generate_signing_key(f"{SILENT}-sig-1")])), "utf-8")
    connect_peer(
        cn,
        agency=SILENT,
        base_url=f"http://127.0.0.1:{network.silent_port}",
        jwks_source=str(jwks),
        actor=Actor.officer("operator", cn.agency),
    )
    yield cn, vn
    cn.close()
    vn.close()


def _share(cn: Node, recipient: str, count: int, first: int) -> list[str]:
    officer = Actor.officer("li.wei", cn.agency)
    return [
        share(
            cn, form_e(certificate_number=f"E26451000{first + n:05d}"), recipient, officer
        ).message_id
        for n in range(count)
    ]


def _rows(node: Node, message_ids: list[str]) -> list[OutboxMessage]:
    with node.sessions() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.message_id.in_(message_ids))
                .order_by(OutboxMessage.id)
            )
        )


def test_a_batch_stops_sending_to_a_counterpart_at_its_first_time_out(
    nodes: tuple[Node, Node], network: DroppingPackets
) -> None:
    cn, vn = nodes
    silent = _share(cn, SILENT, 4, first=0)
    healthy = _share(cn, vn.agency, 2, first=10)
    with serving(vn):
        statuses = deliver_due(cn)
    assert statuses == {
        **dict.fromkeys(silent[:2], "pending"),
        **dict.fromkeys(healthy, "delivered"),
    }
    # Two cases were on their way side by side: both waited out one time-out, together.
    assert network.most_at_once == CONCURRENCY
    tried, rest = _rows(cn, silent)[:CONCURRENCY], _rows(cn, silent)[CONCURRENCY:]
    assert [(row.attempts, row.last_error) for row in tried] == [(1, "NETWORK:ReadTimeout")] * 2
    # Given back untried, due at once: the next pass takes them.
    assert [(row.attempts, row.claimed_by) for row in rest] == [(0, None), (0, None)]
    assert all(row.next_attempt_at <= cn.now() for row in rest)


def test_a_counterpart_that_times_out_does_not_hold_up_the_others(
    nodes: tuple[Node, Node], network: DroppingPackets
) -> None:
    cn, vn = nodes
    # The silent counterpart's messages are older: first in the queue.
    silent = _share(cn, SILENT, 3, first=0)
    # Until the test lets them go: however slow the machine, the others' must pass meanwhile.
    network.hang_seconds = 60
    with serving(vn), serving(cn):
        try:
            wait_for(lambda: network.hanging == CONCURRENCY)
            healthy = _share(cn, vn.agency, 3, first=10)
            wait_for(lambda: {row.status for row in _rows(cn, healthy)} == {"delivered"})
            # All three went while the silent counterpart's first two were still on their way.
            assert network.hanging == CONCURRENCY
            assert [row.attempts for row in _rows(cn, silent)] == [0, 0, 0]
        finally:
            network.time_out_now()
        wait_for(lambda: [row.attempts for row in _rows(cn, silent)][:2] == [1, 1])
    assert {row.status for row in _rows(cn, silent)} == {"pending"}
