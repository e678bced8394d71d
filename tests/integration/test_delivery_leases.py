"""Outbox leases: checked before each send, held by a named run, taken back after a restart.

Two replicas of one agency share one database; each is a node of its own here
(its own run), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from crossborder.adapters.delivery_outcome import DeliveryOutcome
from crossborder.domain.messages import CoShareMessage, CoSharePayload
from crossborder.services.delivery import (
    claim_due,
    deliver_claims,
    deliver_due,
    take_back_earlier_claims,
)
from crossborder.services.node import Node
from crossborder.services.outbox import enqueue, new_message
from crossborder.workers import Workers
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node, wait_for


class Counterpart:
    """Stands in for the counterpart client: notes who posted which message, answers 503.

    An answer, not a time-out: a batch goes on to a counterpart's next message
    after a 503, where it would stop after a counterpart that does not answer.
    """

    def __init__(self, name: str, posts: list[tuple[str, str]]) -> None:
        self.name = name
        self.posts = posts
        self.during_post: Callable[[], Any] = lambda: None

    def deliver(self, agency: str, signed: bytes) -> DeliveryOutcome:
        payload = signed.split(b".")[1]
        message = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
        self.posts.append((self.name, message["message_id"]))
        self.during_post()
        return DeliveryOutcome("retry", error="HTTP_503:NO_ERROR_BODY")

    def close(self) -> None:
        pass


def replica(name: str, url: str, folder: Path, clock: Clock, peer: Node) -> Node:
    # One message at a time: the tests follow a batch's leases from one send to the next.
    node = make_node(
        "cn", url, folder / name, clock, replica=name, port=8401, delivery_concurrency=1
    )
    connect(node, peer, folder)
    return node


def queue(node: Node, recipient: str, count: int, case_id: str | None = None) -> list[str]:
    """``count`` messages to ``recipient``: each of a case of its own, or all of ``case_id``."""
    queued = []
    for n in range(count):
        message = new_message(
            node,
            CoShareMessage,
            recipient=recipient,
            case_id=case_id or f"CN-NNCUS-20261127-00A1B{n}",
            payload=CoSharePayload(certificate=form_e()),
        )
        with node.transaction() as session:
            queued.append(enqueue(session, node, message).message_id)
    return queued


@pytest.fixture
def peer(tmp_path: Path, clock: Clock) -> Any:
    vn = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock)
    yield vn
    vn.close()


def test_a_row_another_replica_took_over_is_not_posted_again(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str], peer: Node
) -> None:
    url = make_db_url("cn")
    a, b = (replica(name, url, tmp_path, clock, peer) for name in ("a", "b"))
    posts: list[tuple[str, str]] = []
    a.__dict__["counterparts"] = slow = Counterpart("a", posts)
    b.__dict__["counterparts"] = Counterpart("b", posts)
    first, second, third = queue(a, peer.agency, 3)
    sends = iter([35, 26])

    def slow_send() -> None:
        clock.advance(seconds=next(sends, 0))
        if clock.now - start >= timedelta(seconds=61):
            # Stuck on the second message (its lease renewed before it went), A has
            # let the batch's lease on the third lapse; the other replica sends it.
            slow.during_post = lambda: None
            deliver_due(b)

    start = clock.now
    slow.during_post = slow_send
    deliver_due(a)

    # B also retries the first, whose attempt A had recorded (it came due again);
    # nobody posts the second twice, and A leaves the third to B.
    assert posts == [("a", first), ("a", second), ("b", first), ("b", third)]
    a.close()
    b.close()


def test_a_lease_running_short_is_renewed_before_the_send(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str], peer: Node
) -> None:
    url = make_db_url("cn")
    a, b = (replica(name, url, tmp_path, clock, peer) for name in ("a", "b"))
    posts: list[tuple[str, str]] = []
    a.__dict__["counterparts"] = slow = Counterpart("a", posts)
    b.__dict__["counterparts"] = Counterpart("b", posts)
    first, second = queue(a, peer.agency, 2)
    sends = iter([45, 20])

    def slow_send() -> None:
        clock.advance(seconds=next(sends, 0))
        if len(posts) == 2:
            # 65 s after the claim, the second message is on its way: its lease, with
            # 15 s left when it went, was renewed first, so B does not take it.
            slow.during_post = lambda: None
            deliver_due(b)

    slow.during_post = slow_send
    deliver_due(a)
    # B retries the first (A had recorded its attempt), not the second.
    assert posts == [("a", first), ("a", second), ("b", first)]
    a.close()
    b.close()


def test_a_restarted_replica_takes_back_its_own_claims_and_only_those(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str], peer: Node
) -> None:
    url = make_db_url("cn")
    crashed, other = (replica(name, url, tmp_path, clock, peer) for name in ("a", "b"))
    queue(crashed, peer.agency, 3)
    # Each holds rows when it dies or while it runs: the crashed run one, the other two.
    (held_by_crashed,) = claim_due(crashed, 1)
    held_by_other = claim_due(other, 2)
    crashed.close()

    restarted = replica("a", url, tmp_path, clock, peer)
    assert take_back_earlier_claims(restarted) == 1
    posts: list[tuple[str, str]] = []
    restarted.__dict__["counterparts"] = Counterpart("a", posts)
    # At once, not after the lease: the row the crashed run held, and only that one.
    assert list(deliver_due(restarted)) == [held_by_crashed.message_id]
    assert [claim.message_id for claim in claim_due(restarted, 5)] == []
    assert len(held_by_other) == 2
    restarted.close()
    other.close()


def test_the_node_takes_back_its_claims_when_its_loops_start(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str], peer: Node
) -> None:
    url = make_db_url("cn")
    crashed = replica("a", url, tmp_path, clock, peer)
    queue(crashed, peer.agency, 1)
    claim_due(crashed, 1)
    crashed.close()

    restarted = replica("a", url, tmp_path, clock, peer)
    posts: list[tuple[str, str]] = []
    restarted.__dict__["counterparts"] = Counterpart("a", posts)
    workers = Workers(restarted)
    workers.start()
    try:
        # The node's clock stands still here: no lease lapses, the row is taken back.
        wait_for(lambda: len(posts) == 1, timeout=5)
    finally:
        workers.stop()
        restarted.close()


def test_a_case_s_messages_go_in_order_whichever_sender_holds_the_first(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock, peer: Node
) -> None:
    """A flow's batch and the node's loop send from one outbox: neither overtakes the other.

    Seen in the green lane's backlog: a truck's arrival, held by one sender,
    was overtaken by its inspection record, sent by another, which the
    counterpart then refused (the truck had not arrived there yet).
    """
    url = make_db_url("cn")
    flow, loop = replica("a", url, tmp_path, clock, peer), replica("b", url, tmp_path, clock, peer)
    arrival, inspection, release = queue(flow, peer.agency, 3, "CN-NNCUS-20261127-00C0DE")
    other_case = queue(flow, peer.agency, 1)

    # The flow holds the arrival; the loop may take only the other case's message.
    held = claim_due(flow, 10, arrival)
    assert [c.message_id for c in held] == [arrival]
    assert [c.message_id for c in claim_due(loop, 10)] == other_case
    # Asked for by itself, a later message of the case does not go either.
    assert claim_due(loop, 10, inspection) == []

    # The arrival was not delivered: it waits out its backoff, and so does the rest.
    flow.__dict__["counterparts"] = Counterpart("a", [])
    deliver_claims(flow, held)
    assert claim_due(loop, 10) == []
    clock.advance(seconds=2)
    # All three due and free again: one claim takes them, to send in the order written.
    assert [c.message_id for c in claim_due(loop, 10)] == [arrival, inspection, release]
    flow.close()
    loop.close()
