"""Fresh-produce quarantine between two real nodes on loopback: on SQLite and on PostgreSQL.

Vietnam's plant-protection body (VN-PPD) certifies and inspects a truck of dragon
fruit leaving Hữu Nghị; Nanning customs (CN-NNCUS) receives the result, decides
by the recognition rules, finds a fruit fly anyway and notifies non-compliance,
which VN-PPD acknowledges — or fails to, and the deadline watcher escalates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import (
    Consignment,
    Deadline,
    InboxMessage,
    NonComplianceNoticeRow,
    OutboxMessage,
    QuarantineResultRow,
)
from crossborder.adapters.ephyto import read_certificate_file
from crossborder.audit.render import render
from crossborder.cli.case import print_case
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, Forbidden
from crossborder.domain.free_text import FreeText
from crossborder.domain.messages import MessageType
from crossborder.domain.quarantine import NonComplianceNotice as Notice
from crossborder.domain.quarantine import QuarantineResult as Result
from crossborder.domain.recognition import (
    NonRecognitionReason,
    RecognitionDecision,
    RecognitionOutcome,
)
from crossborder.services import non_compliance, quarantine, recognition
from crossborder.services.cases import case_view
from crossborder.services.deadlines import watch
from crossborder.services.delivery import deliver_due
from crossborder.services.dispatch import process_inbox
from crossborder.services.node import Node
from flows.quarantine import (
    NonComplianceRequest,
    RecognitionRequest,
    ShareResultRequest,
    decide_recognition,
    notify_non_compliance,
    share_quarantine_result,
)
from flows.runtime import use
from tests.conftest import Clock
from tests.factories import EXAMPLES, connect, make_node, register_staff, serving, wait_for

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quarantine"
SEED = Path(__file__).resolve().parents[2] / "crossborder/reference/data/recognition_rules.json"
OFFICER_VN = Actor.officer("nguyen.thi.hoa", "VN-PPD")
OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    """(VN-PPD, CN-NNCUS), connected both ways; not yet serving."""
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock, agency="VN-PPD")
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    connect(vn, cn, tmp_path)
    connect(cn, vn, tmp_path)
    yield vn, cn
    vn.close()
    cn.close()


def result() -> Result:
    return Result.model_validate_json((FIXTURES / "dragon-fruit-result.json").read_bytes())


def notice() -> Notice:
    example = json.loads((EXAMPLES / "messages" / "sps.non_compliance.json").read_text("utf-8"))
    return Notice.model_validate(example["payload"]["notice"])


def status(node: Node, case_id: str) -> str:
    return case_view(node, case_id).case.status


def events(node: Node, case_id: str) -> list[str]:
    return [entry.event for entry in case_view(node, case_id).audit]


def count(node: Node, model: type, *where: object) -> int:
    with node.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def ack_deadline(node: Node, case_id: str) -> str | None:
    with node.sessions() as session:
        return session.scalar(
            select(Deadline.status).where(
                Deadline.case_id == case_id, Deadline.rule_key == "sps.non_compliance_ack"
            )
        )


def shared_and_decided(vn: Node, cn: Node) -> str:
    """The certificate read from ePhyto XML, the result shared, the rules' decision back."""
    certificate = read_certificate_file(
        FIXTURES / "dragon-fruit-certificate.xml", strict=True
    ).certificate
    attached = quarantine.attach_certificate(vn, certificate, OFFICER_VN, recipient=cn.agency)
    quarantine.share_result(vn, result(), OFFICER_VN)
    deliver_due(vn)
    # Seed rule VN-PPD-0810-REDUCED: dragon fruit (0810 90) from VN-PPD, 20 % sampling.
    wait_for(lambda: status(vn, attached.case_id) == "reduced_sampling")
    return attached.case_id


def test_result_recognition_non_compliance_and_ack_tell_one_story_on_both_sides(
    pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str]
) -> None:
    vn, cn = pair
    with serving(vn), serving(cn):
        case_id = shared_and_decided(vn, cn)
        assert status(cn, case_id) == "reduced_sampling"
        with cn.sessions() as session:
            row = session.scalars(select(QuarantineResultRow)).one()
            held = session.scalars(select(Consignment)).one()
        assert row.decision is not None
        assert row.decision["rule_id"] == "VN-PPD-0810-REDUCED"
        assert row.decision["sampling_rate_percent"] == "20"
        # The importing side can show the certificate the result rests on, exactly as read.
        assert held.certificate is not None
        item = held.certificate["consignment"]["items"][0]
        assert item["scientific_names"][0]["text"] == "Hylocereus undatus (Haw.) Britton & Rose"

        non_compliance.notify(
            cn, notice(), OFFICER_CN, FreeText(lang="zh-Hans", text="截获实蝇幼虫。")
        )
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "non_compliant")
        assert ack_deadline(vn, case_id) == ack_deadline(cn, case_id) == "open"

        non_compliance.acknowledge(
            vn, case_id, OFFICER_VN, FreeText(lang="vi", text="Đã nhận, đang điều tra.")
        )
        deliver_due(vn)
        wait_for(lambda: status(cn, case_id) == "non_compliance_acknowledged")

    assert status(vn, case_id) == "non_compliance_acknowledged"
    assert ack_deadline(vn, case_id) == ack_deadline(cn, case_id) == "met"
    assert [e for e in events(vn, case_id) if e.startswith("sps.")] == [
        "sps.certificate_attached",
        "sps.result_shared",
        "sps.counterpart_recognition_reduced_sampling",
        "sps.non_compliance_received",
        "sps.non_compliance_acknowledged",
    ]
    assert [e for e in events(cn, case_id) if e.startswith("sps.")] == [
        "sps.result_received",
        "sps.recognition_reduced_sampling",
        "sps.non_compliance_notified",
        "sps.counterpart_acknowledged_non_compliance",
    ]
    # The auditor's reading, in Vietnamese: names from the catalogs, scientific names verbatim.
    story = "\n".join(
        render(entry, "vi", "Asia/Ho_Chi_Minh").text for entry in case_view(cn, case_id).audit
    )
    assert "thanh long (Hylocereus undatus (Haw.) Britton & Rose)" in story
    assert "giảm tỷ lệ lấy mẫu xuống 20 %" in story
    assert "đối tượng kiểm dịch thực vật" in story
    assert "audit." not in story and "None" not in story
    chinese = "\n".join(
        render(entry, "zh_Hans", "Asia/Shanghai").text for entry in case_view(vn, case_id).audit
    )
    assert "火龙果" in chinese and "违规通知" in chinese
    print_case(vn, case_id, "vi")
    shown = capsys.readouterr().out
    assert "kiểm dịch thực vật" in shown and "Đã xác nhận thông báo vi phạm" in shown


def test_without_a_rule_an_officer_decides_once(pair: tuple[Node, Node]) -> None:
    vn, cn = pair
    seed = json.loads(SEED.read_text("utf-8"))
    only_chinese_apples = [rule for rule in seed["rules"] if rule["exporting_agency"] == "CN-DAPQ"]
    rules = json.dumps({"rules": only_chinese_apples}).encode()
    assert recognition.load_rules(cn, rules, OFFICER_CN) == 1
    certificate = read_certificate_file(FIXTURES / "dragon-fruit-certificate.xml").certificate
    with serving(vn), serving(cn):
        case_id = quarantine.attach_certificate(
            vn, certificate, OFFICER_VN, recipient=cn.agency
        ).case_id
        quarantine.share_result(vn, result(), OFFICER_VN)
        deliver_due(vn)
        wait_for(lambda: "sps.recognition_awaits_officer" in events(cn, case_id))
        assert status(cn, case_id) == "result_received"

        refused = RecognitionDecision(
            outcome=RecognitionOutcome.NOT_RECOGNISED, reason=NonRecognitionReason.NO_ARRANGEMENT
        )
        with pytest.raises(Forbidden) as exporter:
            recognition.decide(vn, case_id, refused, OFFICER_VN)
        assert exporter.value.code == "RECOGNITION_BY_EXPORTING_SIDE"
        note = FreeText(lang="zh-Hans", text="尚无互认安排，全面查验。")
        recognition.decide(cn, case_id, refused, OFFICER_CN, note)
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "not_recognised")
        with pytest.raises(Conflict) as twice:
            recognition.decide(cn, case_id, refused, OFFICER_CN)
        assert twice.value.code == "RECOGNITION_ALREADY_DECIDED"
    history = [render(entry, "en", "Asia/Ho_Chi_Minh") for entry in case_view(vn, case_id).audit]
    decided = [shown for shown in history if "did not recognise" in shown.text]
    assert len(decided) == 1
    assert "no mutual-recognition arrangement" in decided[0].text
    assert decided[0].note == "[zh-Hans] 尚无互认安排，全面查验。"


def test_a_result_delivered_twice_is_recorded_and_decided_once(pair: tuple[Node, Node]) -> None:
    vn, cn = pair
    certificate = read_certificate_file(FIXTURES / "dragon-fruit-certificate.xml").certificate
    attached = quarantine.attach_certificate(vn, certificate, OFFICER_VN, recipient=cn.agency)
    quarantine.share_result(vn, result(), OFFICER_VN)
    with vn.sessions() as session:
        signed = session.scalars(select(OutboxMessage.signed)).one()
    with serving(cn, run_workers=False):
        first = vn.counterparts.deliver(cn.agency, signed)
        second = vn.counterparts.deliver(cn.agency, signed)
    assert first.kind == second.kind == "delivered"
    assert first.receipt == second.receipt
    process_inbox(cn)
    process_inbox(cn)

    assert count(cn, InboxMessage) == 1
    assert count(cn, Consignment) == count(cn, QuarantineResultRow) == 1
    decision = MessageType.SPS_RECOGNITION_DECISION.value
    assert count(cn, OutboxMessage, OutboxMessage.type == decision) == 1
    assert events(cn, attached.case_id).count("sps.result_received") == 1


def test_an_unacknowledged_notice_escalates_on_both_sides(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    vn, cn = pair
    with serving(vn), serving(cn):
        case_id = shared_and_decided(vn, cn)
        non_compliance.notify(cn, notice(), OFFICER_CN)
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "non_compliant")

        # Three working days from Friday 27 November: due Wednesday 2 December, reminded
        # a working day before, once however often the watcher runs.
        clock.advance(days=5)
        watch(vn)
        watch(vn)
        clock.advance(days=2)
        watch(vn)
        watch(cn)
        assert ack_deadline(vn, case_id) == ack_deadline(cn, case_id) == "overdue"
        assert status(vn, case_id) == status(cn, case_id) == "non_compliance_ack_overdue"
        assert events(vn, case_id).count("deadline.reminder") == 1
        assert "sps.non_compliance_ack_overdue_exporter" in events(vn, case_id)
        assert "sps.non_compliance_ack_overdue_importer" in events(cn, case_id)

        # A late acknowledgement is still taken, and closes the matter on both sides.
        non_compliance.acknowledge(vn, case_id, OFFICER_VN)
        deliver_due(vn)
        wait_for(lambda: status(cn, case_id) == "non_compliance_acknowledged")
    assert ack_deadline(vn, case_id) == ack_deadline(cn, case_id) == "met"
    with cn.sessions() as session:
        assert session.scalars(select(NonComplianceNoticeRow.status)).one() == "acknowledged"


def test_the_officers_flows_share_decide_and_notify(
    prefect_local: None, tmp_path: Path, clock: Clock
) -> None:
    vn = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock, agency="VN-PPD")
    cn = make_node("cn", f"sqlite:///{tmp_path / 'cn.db'}", tmp_path, clock)
    connect(vn, cn, tmp_path)
    connect(cn, vn, tmp_path)
    register_staff(vn)
    register_staff(cn)
    # No rule for VN-PPD's fruit: the decision is the officer's, through the flow.
    recognition.load_rules(cn, b'{"rules": []}', OFFICER_CN)
    certificate = read_certificate_file(FIXTURES / "dragon-fruit-certificate.xml").certificate
    try:
        with serving(vn), serving(cn):
            case_id = quarantine.attach_certificate(
                vn, certificate, OFFICER_VN, recipient=cn.agency
            ).case_id
            with use(vn):
                shared = share_quarantine_result(
                    ShareResultRequest(result=result(), officer="officer")
                )
            assert (shared.case_id, shared.delivery) == (case_id, "delivered")
            wait_for(lambda: "sps.recognition_awaits_officer" in events(cn, case_id))
            decision = RecognitionDecision(outcome=RecognitionOutcome.DOCUMENTARY_CHECK)
            with use(cn):
                decided = decide_recognition(
                    RecognitionRequest(case_id=case_id, decision=decision, officer="officer")
                )
                notified = notify_non_compliance(
                    NonComplianceRequest(notice=notice(), officer="officer")
                )
            assert decided.delivery == notified.delivery == "delivered"
            wait_for(lambda: status(vn, case_id) == "non_compliant")
        assert "sps.counterpart_recognition_documentary_check" in events(vn, case_id)
    finally:
        vn.close()
        cn.close()
