"""After sharing: amend, revoke, verification request and reply, deadlines — two real nodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import AuditEntry, Deadline, Verification
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, CrossborderError, Forbidden
from crossborder.domain.messages import (
    CertificateDecision,
    CoVerificationReplyPayload,
    CoVerificationRequestPayload,
    DocumentKind,
    DocumentReference,
    FreeText,
    VerificationReason,
    VerificationResult,
)
from crossborder.services import certificate_of_origin, co_amendment, co_verification
from crossborder.services.cases import case_view, certificate_view
from crossborder.services.deadlines import watch
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import connect, form_e, form_e_data, make_node, serving, wait_for

pytestmark = pytest.mark.e2e

OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")
OFFICER_VN = Actor.officer("nguyen.van.an", "VN-CUSKV6")
REASON = FreeText(lang="zh-Hans", text="更正第9栏毛重。")


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    with serving(cn), serving(vn):
        yield cn, vn
    cn.close()
    vn.close()


def status(node: Node, case_id: str) -> str:
    return case_view(node, case_id).case.status


def shared_and_accepted(cn: Node, vn: Node) -> str:
    shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: status(cn, shared.case_id) == "accepted")
    return shared.case_id


def corrected_form_e() -> object:
    data = form_e_data()
    data["items"][0] = {**data["items"][0], "gross_weight_kg": "6650"}
    return form_e(items=data["items"])


def test_an_amendment_is_followed_and_accepted_again(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    case_id = shared_and_accepted(cn, vn)
    co_amendment.amend(cn, case_id, corrected_form_e(), REASON, OFFICER_CN)  # type: ignore[arg-type]
    deliver_due(cn)
    wait_for(lambda: status(cn, case_id) == "accepted" and status(vn, case_id) == "accepted")

    number = form_e().certificate_number
    for node in (cn, vn):
        versions = certificate_view(node, number).versions
        assert [(v.version, v.status) for v in versions] == [(1, "superseded"), (2, "accepted")]
        assert versions[1].note == {"lang": "zh-Hans", "text": "更正第9栏毛重。"}
        assert versions[1].content["items"][0]["gross_weight_kg"] == "6650"


def test_a_revoked_certificate_accepts_nothing_more(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    case_id = shared_and_accepted(cn, vn)
    co_amendment.revoke(cn, case_id, FreeText(lang="en", text="Issued in error."), OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: status(vn, case_id) == "revoked")

    with pytest.raises(Conflict) as decided:
        certificate_of_origin.decide(vn, case_id, CertificateDecision.ACCEPTED, OFFICER_VN)
    assert decided.value.code == "CERTIFICATE_REVOKED"
    with pytest.raises(Conflict) as amended:
        co_amendment.amend(cn, case_id, corrected_form_e(), REASON, OFFICER_CN)  # type: ignore[arg-type]
    assert amended.value.code == "CERTIFICATE_REVOKED"


def test_only_the_issuer_amends(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    case_id = shared_and_accepted(cn, vn)
    with pytest.raises(Forbidden) as refused:
        co_amendment.amend(vn, case_id, corrected_form_e(), REASON, OFFICER_VN)  # type: ignore[arg-type]
    assert refused.value.code == "AMENDMENT_FROM_NON_ISSUER"


def request(vn: Node, case_id: str) -> None:
    co_verification.request(
        vn,
        case_id,
        CoVerificationRequestPayload(
            certificate_number="-",
            reasons=[VerificationReason.ORIGIN_CRITERION_DOUBTFUL],
            documents_requested=[DocumentKind.PRODUCTION_RECORDS],
        ),
        OFFICER_VN,
    )
    deliver_due(vn)


REPLY = CoVerificationReplyPayload(
    certificate_number="-",
    result=VerificationResult.CONFIRMED,
    findings=FreeText(lang="zh-Hans", text="经核查，原产地标准WO属实。"),
    documents=[DocumentReference(kind=DocumentKind.PRODUCTION_RECORDS, reference="VR-2026-0117")],
)


def deadline_status(node: Node, case_id: str) -> str | None:
    with node.sessions() as session:
        return session.scalar(select(Deadline.status).where(Deadline.case_id == case_id))


def verification_status(node: Node, case_id: str) -> str | None:
    with node.sessions() as session:
        return session.scalar(select(Verification.status).where(Verification.case_id == case_id))


def test_a_verification_is_requested_and_answered_in_time(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    case_id = shared_and_accepted(cn, vn)
    request(vn, case_id)
    wait_for(lambda: verification_status(cn, case_id) == "requested")
    assert deadline_status(cn, case_id) == deadline_status(vn, case_id) == "open"

    co_verification.reply(cn, case_id, REPLY, OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: verification_status(vn, case_id) == "replied")
    assert deadline_status(cn, case_id) == deadline_status(vn, case_id) == "met"

    with pytest.raises(Conflict) as again:
        co_verification.reply(cn, case_id, REPLY, OFFICER_CN)
    assert again.value.code == "VERIFICATION_CLOSED"


def test_a_reply_nobody_asked_for_is_refused(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    case_id = shared_and_accepted(cn, vn)
    with pytest.raises(CrossborderError) as refused:
        co_verification.reply(cn, case_id, REPLY, OFFICER_CN)
    assert refused.value.code == "VERIFICATION_UNKNOWN"


def test_an_unanswered_request_escalates_on_both_sides(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    case_id = shared_and_accepted(cn, vn)
    request(vn, case_id)
    wait_for(lambda: verification_status(cn, case_id) == "requested")

    clock.advance(days=61)  # 30 days left: the first reminder, once however often the watcher runs
    watch(cn)
    watch(cn)
    clock.advance(days=31)  # past the 90th day
    watch(vn)
    deliver_due(vn)  # the importing side's overdue notice
    wait_for(lambda: verification_status(cn, case_id) == "overdue")
    watch(cn)

    assert verification_status(vn, case_id) == "overdue"
    assert deadline_status(cn, case_id) == deadline_status(vn, case_id) == "overdue"
    with cn.sessions() as session:
        cn_events = list(
            session.scalars(select(AuditEntry.event).where(AuditEntry.case_id == case_id))
        )
    with vn.sessions() as session:
        vn_events = list(
            session.scalars(select(AuditEntry.event).where(AuditEntry.case_id == case_id))
        )
    assert cn_events.count("deadline.reminder") == 1
    assert "co.verification_overdue_notice_received" in cn_events
    assert "co.verification_overdue_issuer" in cn_events
    assert "co.verification_overdue_importer" in vn_events
    # A late reply is still taken, and closes the matter on both sides.
    co_verification.reply(cn, case_id, REPLY, OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: verification_status(vn, case_id) == "replied")
