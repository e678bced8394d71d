"""The Prefect flows, run for real in Prefect's local mode, against two real nodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import Case, OutboxMessage
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Unauthorized
from crossborder.domain.messages import (
    CertificateDecision,
    CoVerificationReplyPayload,
    CoVerificationRequestPayload,
    DecisionReason,
    FreeText,
    VerificationReason,
    VerificationResult,
)
from crossborder.services.cases import case_view
from crossborder.services.certificate_of_origin import share
from crossborder.services.delivery import backoff, outbox_status
from crossborder.services.node import Node
from flows.certificate_of_origin import (
    CertificateDecisionRequest,
    ShareCertificateRequest,
    answer_certificate_of_origin,
    share_certificate_of_origin,
)
from flows.delivery import deliver_message
from flows.runtime import use
from flows.verification import (
    VerificationReply,
    VerificationRequest,
    reply_origin_verification,
    request_origin_verification,
)
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node, register_staff, serving, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def pair(tmp_path: Path, clock: Clock) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", f"sqlite:///{tmp_path / 'cn.db'}", tmp_path, clock)
    vn = make_node(
        "vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock, auto_accept_certificates=False
    )
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    register_staff(cn)
    register_staff(vn)
    yield cn, vn
    cn.close()
    vn.close()


def test_share_and_answer_flows(prefect_local: None, pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    with serving(cn), serving(vn):
        with use(cn):
            shared = share_certificate_of_origin(
                ShareCertificateRequest(
                    certificate=form_e(), recipient=vn.agency, officer="officer"
                )
            )
        assert shared.delivery == "delivered"
        wait_for(lambda: case_view(vn, shared.case_id).case.status == "received")
        with use(vn):
            answered = answer_certificate_of_origin(
                CertificateDecisionRequest(
                    case_id=shared.case_id,
                    decision=CertificateDecision.QUERIED,
                    reasons=[DecisionReason.ORIGIN_CRITERION_DOUBTFUL],
                    officer="officer",
                )
            )
        assert answered.delivery == "delivered"
        wait_for(lambda: case_view(cn, shared.case_id).case.status == "queried")


def test_a_deferred_delivery_goes_back_to_the_outbox_schedule(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    shared = share(cn, form_e(), vn.agency, Actor.officer("li.wei", cn.agency))
    # VN is not serving: one attempt, no retries of the task's own.
    assert deliver_message.retries == 0
    with use(cn):
        assert deliver_message.fn(shared.message_id) == "pending"
    with cn.sessions() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.message_id == shared.message_id)
        ).one()
    assert row.attempts == 1
    assert row.last_error == "NETWORK:ConnectError"
    # Due again when the outbox's policy says, and then sent by the node's own loop.
    assert row.next_attempt_at == clock.now + backoff(1)
    with serving(vn), serving(cn):
        clock.advance(seconds=1)
        wait_for(lambda: outbox_status(cn, shared.message_id) == "delivered")


def test_flow_inputs_are_validated_before_a_run() -> None:
    with pytest.raises(ValueError):
        CertificateDecisionRequest(case_id="not a case", decision="accepted", officer="x")  # type: ignore[arg-type]


_unused: Callable[[], None] | None = None


def test_verification_request_and_reply_flows(prefect_local: None, pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    with serving(cn), serving(vn):
        with use(cn):
            shared = share_certificate_of_origin(
                ShareCertificateRequest(
                    certificate=form_e(), recipient=vn.agency, officer="officer"
                )
            )
        wait_for(lambda: case_view(vn, shared.case_id).case.status == "received")
        with use(vn):
            asked = request_origin_verification(
                VerificationRequest(
                    case_id=shared.case_id,
                    request=CoVerificationRequestPayload(
                        certificate_number="-", reasons=[VerificationReason.RANDOM_CHECK]
                    ),
                    officer="officer",
                )
            )
        assert asked.delivery == "delivered"
        with use(cn):
            answered = reply_origin_verification(
                VerificationReply(
                    case_id=shared.case_id,
                    reply=CoVerificationReplyPayload(
                        certificate_number="-",
                        result=VerificationResult.CONFIRMED,
                        findings=FreeText(lang="zh-Hans", text="经核查属实。"),
                    ),
                    officer="officer",
                )
            )
        assert answered.delivery == "delivered"


def test_a_run_for_an_officer_the_node_does_not_know_records_nothing(
    prefect_local: None, pair: tuple[Node, Node]
) -> None:
    """A deployment's form can be filled in by anyone who reaches the Prefect UI."""
    cn, vn = pair
    request = ShareCertificateRequest(certificate=form_e(), recipient=vn.agency, officer="nobody")
    with use(cn), pytest.raises(Unauthorized) as refused:
        share_certificate_of_origin(request)
    assert refused.value.code == "OFFICER_UNKNOWN"
    with cn.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
