"""A message refused for a missing scope, sent again once granted — both nodes running throughout.

Lạng Sơn's plant-protection body (VN-PPD) shares a quarantine result with
Nanning customs (CN-NNCUS), whose operator had registered VN-PPD's client
with ``co:write`` only, as the README's connection example does. Nanning
refuses it (403 ``SCOPE_MISSING``); VN-PPD's officer sees why in the outbox;
Nanning's operator grants ``sps:write`` from a process of their own while the
node keeps serving; the officer sends the same message again; Nanning admits
it once, decides by its rules, and both sides tell the same story.

A second test changes the *sending* side's registration while its node runs:
the wrong address, then the scopes it asks its counterpart for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crossborder.adapters.counterpart import REGISTRATION_CHECK_SECONDS
from crossborder.adapters.db.tables import (
    InboxMessage,
    OutboxMessage,
    QuarantineResultRow,
    RejectedMessage,
)
from crossborder.adapters.ephyto import read_certificate_file
from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, CrossborderError
from crossborder.domain.messages import KNOWN_SCOPES, MessageType
from crossborder.domain.quarantine import QuarantineResult as Result
from crossborder.services import quarantine
from crossborder.services.audit_log import verify_log
from crossborder.services.cases import case_view
from crossborder.services.node import Node
from crossborder.services.outbox_review import OutboxState, list_outbox, outbox_entry, resend
from crossborder.services.registry import add_client, add_counterpart
from tests.conftest import Clock
from tests.factories import connect, free_port, make_node, serving, wait_for

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quarantine"
OFFICER_VN = Actor.officer("nguyen.thi.hoa", "VN-PPD")
OPERATOR_VN = Actor.officer("le.van.binh", "VN-PPD")
OPERATOR_CN = Actor.officer("zhang.min", "CN-NNCUS")


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    """(VN-PPD, CN-NNCUS), connected both ways; Nanning lets VN-PPD send certificates only."""
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock, agency="VN-PPD")
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    connect(vn, cn, tmp_path)
    connect(cn, vn, tmp_path)
    grant(cn, clock, tmp_path, "VN-PPD", "co:write")
    yield vn, cn
    vn.close()
    cn.close()


def elsewhere(node: Node, clock: Clock) -> Node:
    """A process of the operator's own (the CLI) on the node's database and keys."""
    return bootstrap(node.settings, clock=clock, migrate=False)


def grant(cn: Node, clock: Clock, folder: Path, client_id: str, scopes: str) -> None:
    operator = elsewhere(cn, clock)
    try:
        add_client(
            operator,
            client_id=client_id,
            agency=client_id,
            jwks_source=str(folder / f"{client_id}-jwks.json"),
            scopes=scopes,
            actor=OPERATOR_CN,
        )
    finally:
        operator.close()


def send_again(vn: Node, clock: Clock, message_id: str) -> None:
    """The officer's ``crossborder outbox resend``, from a process of its own."""
    officer = elsewhere(vn, clock)
    try:
        resend(officer, message_id, OFFICER_VN)
    finally:
        officer.close()


def count(node: Node, model: type, *where: object) -> int:
    with node.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def events(node: Node, case_id: str) -> list[str]:
    return [entry.event for entry in case_view(node, case_id).audit]


def status(node: Node, case_id: str) -> str:
    return case_view(node, case_id).case.status


def state(node: Node, message_id: str) -> OutboxState | None:
    entry = outbox_entry(node, message_id)
    return entry.state if entry else None


def share(vn: Node, cn: Node) -> tuple[str, str]:
    certificate = read_certificate_file(FIXTURES / "dragon-fruit-certificate.xml").certificate
    quarantine.attach_certificate(vn, certificate, OFFICER_VN, recipient=cn.agency)
    result = Result.model_validate_json((FIXTURES / "dragon-fruit-result.json").read_bytes())
    shared = quarantine.share_result(vn, result, OFFICER_VN)
    return shared.case_id, shared.message_id


def test_a_refused_result_is_sent_again_once_the_scope_is_granted_and_admitted_once(
    pair: tuple[Node, Node], clock: Clock, tmp_path: Path
) -> None:
    vn, cn = pair
    with serving(vn), serving(cn):
        case_id, message_id = share(vn, cn)
        wait_for(lambda: state(vn, message_id) is OutboxState.REFUSED)

        (refused,) = list_outbox(vn, states=[OutboxState.REFUSED])
        assert refused.message_id == message_id and refused.case_id == case_id
        assert refused.answer is not None
        assert (refused.answer.http_status, refused.answer.code) == (403, "SCOPE_MISSING")
        assert refused.answer.message is not None and "sps:write" in refused.answer.message
        # Sharing the result again is no way out: the consignment already has it.
        with pytest.raises(Conflict) as again:
            quarantine.share_result(
                vn,
                Result.model_validate_json((FIXTURES / "dragon-fruit-result.json").read_bytes()),
                OFFICER_VN,
            )
        assert again.value.code == "QUARANTINE_RESULT_ALREADY_SHARED"
        assert count(cn, RejectedMessage, RejectedMessage.claimed_message_id == message_id) == 1
        assert count(cn, InboxMessage) == 0

        grant(cn, clock, tmp_path, vn.agency, "co:write sps:write")
        send_again(vn, clock, message_id)

        # The running nodes: Lạng Sơn's loop delivers it, Nanning admits it and decides by rule.
        wait_for(lambda: state(vn, message_id) is OutboxState.DELIVERED)
        wait_for(lambda: status(vn, case_id) == "reduced_sampling")

    with vn.sessions() as session:
        sent = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        ).one()
    with cn.sessions() as session:
        received = session.scalars(select(InboxMessage)).one()
    assert received.message_id == message_id and received.signed == sent.signed
    assert sent.receipt is not None and sent.digest == received.digest
    assert count(cn, QuarantineResultRow) == 1
    decisions = OutboxMessage.type == MessageType.SPS_RECOGNITION_DECISION.value
    assert count(cn, OutboxMessage, decisions) == 1
    assert status(cn, case_id) == status(vn, case_id) == "reduced_sampling"
    assert [e for e in events(vn, case_id) if e.startswith("message.")] == [
        "message.delivery_failed",
        "message.resend_requested",
        "message.delivered",
        "message.received",
    ]
    assert events(cn, case_id).count("sps.result_received") == 1
    assert events(cn, case_id).count("message.received") == 1

    # And once delivered, there is nothing to send again.
    with pytest.raises(CrossborderError) as delivered:
        resend(vn, message_id, OFFICER_VN)
    assert delivered.value.code == "MESSAGE_ALREADY_DELIVERED"
    assert verify_log(vn).ok and verify_log(cn).ok


def reregister(vn: Node, cn: Node, clock: Clock, folder: Path, **changes: str) -> None:
    """The sending side's operator changes its registration of Nanning, from its own process."""
    operator = elsewhere(vn, clock)
    try:
        add_counterpart(
            operator,
            agency=cn.agency,
            jwks_source=str(folder / f"{cn.agency}-jwks.json"),
            client_id=vn.agency,
            actor=OPERATOR_VN,
            **{
                "base_url": cn.settings.base_url,
                "scope": " ".join(sorted(KNOWN_SCOPES)),
                **changes,
            },
        )
    finally:
        operator.close()


def attempts(node: Node, message_id: str) -> int:
    entry = outbox_entry(node, message_id)
    assert entry is not None
    return entry.attempts


def test_a_running_sender_follows_its_registration_of_the_counterpart(
    pair: tuple[Node, Node], clock: Clock, tmp_path: Path
) -> None:
    vn, cn = pair
    grant(cn, clock, tmp_path, vn.agency, " ".join(sorted(KNOWN_SCOPES)))
    # Registered at a wrong address, and asking Nanning for certificates of origin only.
    wrong = f"http://127.0.0.1:{free_port()}"
    reregister(vn, cn, clock, tmp_path, base_url=wrong, scope="co:write")
    with serving(vn), serving(cn):
        case_id, message_id = share(vn, cn)
        wait_for(lambda: attempts(vn, message_id) > 0)
        entry = outbox_entry(vn, message_id)
        assert entry is not None and entry.state is OutboxState.DEFERRED
        assert entry.answer is not None and entry.answer.code == "NETWORK:ConnectError"

        # The right address: the node, still running, uses it once the retry is due; its
        # token still lacks sps:write, which Nanning now grants but VN-PPD does not ask for.
        reregister(vn, cn, clock, tmp_path, scope="co:write")

        def refused_after_retries() -> bool:
            clock.advance(seconds=5)
            return state(vn, message_id) is OutboxState.REFUSED

        wait_for(refused_after_retries)
        assert count(cn, RejectedMessage) == 1

        # The scope asked for: the node drops the token it had and gets one with it. The
        # officer resends a moment later, as people do (the node looks once a second).
        reregister(vn, cn, clock, tmp_path, scope="co:write sps:write")
        time.sleep(REGISTRATION_CHECK_SECONDS)
        send_again(vn, clock, message_id)
        wait_for(lambda: status(vn, case_id) == "reduced_sampling")

    assert state(vn, message_id) is OutboxState.DELIVERED
    assert count(cn, InboxMessage) == 1 and count(cn, RejectedMessage) == 1
    assert verify_log(vn).ok and verify_log(cn).ok
