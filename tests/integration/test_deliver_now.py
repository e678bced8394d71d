"""An officer's command tells how the delivery went, even when the node's loop sent it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from crossborder.adapters.delivery_outcome import DeliveryOutcome
from crossborder.adapters.local_node import wake_delivery
from crossborder.api.app import create_app
from crossborder.domain.messages import CoShareMessage, CoSharePayload
from crossborder.services.delivery import claim_due, deliver_now, record_outcome
from crossborder.services.outbox import enqueue, new_message
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node


def test_a_message_the_nodes_loop_holds_is_reported_as_that_attempt_ended(
    tmp_path: Path, clock: Clock, make_db_url: Callable[[str], str]
) -> None:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(cn, vn, tmp_path)
    message = new_message(
        cn,
        CoShareMessage,
        recipient=vn.agency,
        case_id="CN-NNCUS-20261127-00A1B2",
        payload=CoSharePayload(certificate=form_e()),
    )
    with cn.transaction() as session:
        message_id = enqueue(session, cn, message).message_id
    # The node's own loop claims it first, and is slow to hear back.
    (claim,) = claim_due(cn, 1, message_id)

    def loop_records_a_refusal() -> None:
        time.sleep(0.3)
        record_outcome(cn, claim, DeliveryOutcome("final", error="HTTP_403:SCOPE_MISSING"))

    worker = threading.Thread(target=loop_records_a_refusal)
    worker.start()
    told = deliver_now(cn, message_id)
    worker.join()
    assert (told.status, told.error) == ("failed", "HTTP_403:SCOPE_MISSING")
    cn.close()
    vn.close()


def test_the_outbox_wake_up_is_answered_only_on_the_nodes_own_host(
    tmp_path: Path, clock: Clock
) -> None:
    node = make_node("cn", f"sqlite:///{tmp_path / 'cn.db'}", tmp_path, clock)
    app = create_app(node, run_workers=False)

    def post_from(host: str) -> int:
        async def post() -> int:
            transport = httpx.ASGITransport(app=app, client=(host, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
                return (await client.post("/local/outbox-wake")).status_code

        return asyncio.run(post())

    assert post_from("127.0.0.1") == 204
    assert post_from("::1") == 204
    assert post_from("203.0.113.7") == 404  # another host learns nothing, not even that it exists
    node.close()


def test_with_no_node_running_the_command_delivers_itself(tmp_path: Path, clock: Clock) -> None:
    """Port 9 (discard) answers nobody: the wake-up fails fast and this process sends."""
    assert wake_delivery("127.0.0.1", 9) is False
