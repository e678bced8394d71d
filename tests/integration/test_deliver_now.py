"""An officer's command tells how the delivery went, even when the node's loop sent it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from crossborder.adapters.counterpart import DeliveryOutcome
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
