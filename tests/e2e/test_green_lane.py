"""The green lane for fresh farm produce between two real nodes, on SQLite and on PostgreSQL.

Lạng Sơn customs (VN-CUSKV6) sends the pre-arrival notice of a truck of dragon
fruit bound for Youyiguan; Nanning customs (CN-NNCUS) decides its lane at once,
records the arrival, writes the one joint inspection record that Lạng Sơn
countersigns, and sends the one release notice that closes the case on both
sides. The clock is the test's: gate hours and release times are measured on it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import InboxMessage, LaneTruckRow
from crossborder.adapters.ephyto import read_certificate_file
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.delivery import InboxStatus
from crossborder.domain.errors import Conflict, InvalidInput
from crossborder.domain.free_text import FreeText
from crossborder.domain.lane import (
    FindingKind,
    InspectionFinding,
    InspectionResult,
    Lane,
    LaneNotice,
    RefusalReason,
    draw,
)
from crossborder.domain.quarantine import QuarantineResult
from crossborder.services import (
    alerts,
    certificate_of_origin,
    lane,
    lane_backlog,
    lane_inspection,
    lane_times,
    quarantine,
    recognition,
)
from crossborder.services.cases import case_view
from crossborder.services.delivery import deliver_due
from crossborder.services.dispatch import process_inbox
from crossborder.services.node import Node
from flows.lane import BacklogBatch, process_lane_backlog
from flows.runtime import use
from tests.conftest import Clock
from tests.factories import (
    EXAMPLES,
    connect,
    form_e_data,
    make_node,
    register_staff,
    serving,
    wait_for,
)

pytestmark = pytest.mark.e2e

OFFICER_VN = Actor.officer("nguyen.lan", "VN-CUSKV6")
OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")
PHYTO = "VNPPD2026LS004512"


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    """(VN-CUSKV6 exporting, CN-NNCUS importing), connected both ways; not yet serving."""
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    connect(vn, cn, tmp_path)
    connect(cn, vn, tmp_path)
    yield vn, cn
    vn.close()
    cn.close()


def notice(**changes: Any) -> LaneNotice:
    data = json.loads((EXAMPLES / "officer" / "lane-notice.json").read_text("utf-8"))
    return LaneNotice.model_validate({**data, **changes})


def status(node: Node, case_id: str) -> str:
    return case_view(node, case_id).case.status


def events(node: Node, case_id: str) -> list[str]:
    """The workflow's own steps (transport receipts and deliveries left out)."""
    return [e.event for e in case_view(node, case_id).audit if e.event.startswith("lane.")]


def truck(node: Node, case_id: str) -> LaneTruckRow:
    with node.sessions() as session:
        return session.scalars(select(LaneTruckRow).where(LaneTruckRow.case_id == case_id)).one()


def notified_and_decided(vn: Node, cn: Node, **changes: Any) -> str:
    sent = lane.notify(vn, notice(**changes), cn.agency, OFFICER_VN)
    deliver_due(vn)
    wait_for(lambda: status(vn, sent.case_id) == "decided")
    return sent.case_id


def test_a_truck_without_its_certificate_of_origin_is_inspected_once_and_released_once(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    vn, cn = pair
    with serving(vn), serving(cn):
        documents = {"certificate_of_origin": None, "phytosanitary_certificate": PHYTO}
        case_id = notified_and_decided(vn, cn, documents=documents)
        held = truck(cn, case_id)
        assert held.lane == truck(vn, case_id).lane == Lane.RED.value
        assert held.decision is not None
        codes = [rule["code"] for rule in held.decision["rules"]]
        # No Form E named, and this node holds no quarantine result on the certificate.
        assert codes[:3] == ["ON_GREEN_LIST", "CO_MISSING", "PHYTO_UNKNOWN"]
        # The random draw can be redone by an auditor from what was recorded.
        seed = held.decision["draw"]["seed"]
        assert str(draw(seed, case_id)) == held.decision["draw"]["value"]

        clock.advance(minutes=90)
        arrived = lane.arrive(cn, case_id, OFFICER_CN)
        assert not arrived.released
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "arrived")
        assert [w.case_id for w in lane_times.inspection_queue(cn)] == [case_id]
        with pytest.raises(Conflict) as refused:
            lane.release(cn, case_id, OFFICER_CN)
        assert refused.value.code == "LANE_NOT_INSPECTED"

        clock.advance(minutes=40)
        found = (InspectionFinding(kind=FindingKind.NONE_FOUND),)
        lane_inspection.inspect(cn, case_id, found, InspectionResult.PASSED, OFFICER_CN)
        deliver_due(cn)
        wait_for(lambda: truck(vn, case_id).record_digest is not None)
        clock.advance(minutes=5)
        added = (
            InspectionFinding(
                kind=FindingKind.NONE_FOUND,
                detail=FreeText(lang="vi", text="Niêm phong còn nguyên vẹn."),
            ),
        )
        lane_inspection.countersign(vn, case_id, OFFICER_VN, added)
        deliver_due(vn)
        wait_for(lambda: status(cn, case_id) == "inspected")
        both = truck(cn, case_id), truck(vn, case_id)
        assert both[0].record_digest == both[1].record_digest
        assert both[0].signatures == both[1].signatures
        assert {s["agency"] for s in both[0].signatures or []} == {"CN-NNCUS", "VN-CUSKV6"}
        assert both[0].inspected_at == both[1].inspected_at

        clock.advance(minutes=10)
        lane.release(cn, case_id, OFFICER_CN)
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "released")
    assert status(cn, case_id) == "released"
    assert truck(cn, case_id).released_at == truck(vn, case_id).released_at

    assert events(vn, case_id) == [
        "lane.notice_sent",
        "lane.counterpart_decided_red",
        "lane.counterpart_arrived",
        "lane.inspection_received",
        "lane.countersigned",
        "lane.counterpart_released",
    ]
    assert events(cn, case_id) == [
        "lane.notice_received",
        "lane.decided_red",
        "lane.arrived",
        "lane.inspection_recorded",
        "lane.counterpart_countersigned",
        "lane.released",
    ]

    # Release times come from the recorded steps: 55 minutes from arrival to release.
    day = clock.now - timedelta(days=1)
    figures = {(f.step, f.lane): f for f in lane_times.release_times(cn, "CNYYG", day, clock.now)}
    release = figures[("release", Lane.RED)]
    assert (release.count, release.median_minutes, release.within_target_percent) == (
        1,
        55,
        100,
    )
    assert figures[("inspection", Lane.RED)].median_minutes == 45


def inbox_status(node: Node, case_id: str, kind: str) -> InboxStatus:
    with node.sessions() as session:
        return session.scalars(
            select(InboxMessage.status).where(
                InboxMessage.case_id == case_id, InboxMessage.type == kind
            )
        ).one()


def test_a_message_with_no_reaction_is_done_when_admitted_and_one_with_a_reaction_waits(
    pair: tuple[Node, Node],
) -> None:
    """The notice waits in the inbox for the decision; the decision needs nothing more."""
    vn, cn = pair
    with serving(vn, run_workers=False), serving(cn, run_workers=False):
        sent = lane.notify(vn, notice(), cn.agency, OFFICER_VN)
        deliver_due(vn)
        assert inbox_status(cn, sent.case_id, "lane.notice") == InboxStatus.RECEIVED
        assert status(cn, sent.case_id) == "notified"

        assert process_inbox(cn) == 1
        assert inbox_status(cn, sent.case_id, "lane.notice") == InboxStatus.PROCESSED
        deliver_due(cn)
        # No dispatcher runs on either side: admitting the decision was all there was to do.
        assert inbox_status(vn, sent.case_id, "lane.decision") == InboxStatus.PROCESSED
        assert status(vn, sent.case_id) == "decided"
        assert process_inbox(vn) == 0


def test_a_refusal_closes_the_case_on_both_sides_too(pair: tuple[Node, Node]) -> None:
    vn, cn = pair
    with serving(vn), serving(cn):
        case_id = notified_and_decided(vn, cn)
        lane.arrive(cn, case_id, OFFICER_CN)
        lane.release(cn, case_id, OFFICER_CN, (RefusalReason.DOCUMENTS_INVALID,))
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "refused")
    assert "lane.counterpart_refused" in events(vn, case_id)
    with pytest.raises(Conflict):
        lane.release(cn, case_id, OFFICER_CN, (RefusalReason.OTHER,))


# --- the lanes a truck may get, with the documents and alerts each rests on ---------------

OFFICER_PPD = Actor.officer("pham.minh", "VN-PPD")
SUPERVISOR_CN = Actor.officer("zhang.hua", "CN-NNCUS")
QUARANTINE = Path(__file__).resolve().parents[1] / "fixtures" / "quarantine"
#: Nanning's own recognition rule for Lạng Sơn's dragon fruit: documents only.
DOCUMENTARY = {
    "rules": [
        {
            "id": "VN-PPD-0810-DOCUMENTARY",
            "hs_prefix": "0810",
            "exporting_agency": "VN-PPD",
            "valid_from": "2026-01-01",
            "valid_to": None,
            "outcome": "documentary_check",
        }
    ]
}


def vietnamese_form_e() -> FormE:
    """The example Form E as Lạng Sơn customs would issue it for Vietnamese dragon fruit."""
    data = form_e_data()
    return FormE.model_validate(
        {
            **data,
            "certificate_number": "VN-CN26/00123",
            "issuing_country": "VN",
            "issuing_authority": "VN-CUSKV6",
            "exporter": data["consignee"],
            "consignee": data["exporter"],
            "transport": {
                **data["transport"],
                "port_of_loading": "VNLGS",
                "port_of_discharge": "CNYYG",
            },
            "declaration": {
                **data["declaration"],
                "place": "Lạng Sơn, Việt Nam",
                "country_of_origin": "VN",
                "importing_country": "CN",
            },
        }
    )


def documents_held(vn: Node, ppd: Node, cn: Node, *, recognised: bool) -> str:
    """The Form E accepted at Nanning, and the quarantine result decided there; its number."""
    if recognised:
        recognition.load_rules(cn, json.dumps(DOCUMENTARY).encode(), SUPERVISOR_CN)
    shared = certificate_of_origin.share(vn, vietnamese_form_e(), cn.agency, OFFICER_VN)
    certificate = read_certificate_file(
        QUARANTINE / "dragon-fruit-certificate.xml", strict=True
    ).certificate
    consignment = quarantine.attach_certificate(ppd, certificate, OFFICER_PPD, recipient=cn.agency)
    quarantine.share_result(
        ppd,
        QuarantineResult.model_validate_json(
            (QUARANTINE / "dragon-fruit-result.json").read_bytes()
        ),
        OFFICER_PPD,
    )
    deliver_due(vn)
    deliver_due(ppd)
    wait_for(lambda: status(vn, shared.case_id) == "accepted")
    outcome = "documentary_check" if recognised else "reduced_sampling"
    wait_for(lambda: status(ppd, consignment.case_id) == outcome)
    return vietnamese_form_e().certificate_number


def fired(node: Node, case_id: str) -> list[str]:
    decision = truck(node, case_id).decision or {}
    return [rule["code"] for rule in decision["rules"]]


def test_a_green_truck_with_its_documents_held_and_no_draw_is_released_on_arrival(
    three: tuple[Node, Node, Node], clock: Clock
) -> None:
    vn, ppd, cn = three
    with serving(vn), serving(ppd), serving(cn):
        number = documents_held(vn, ppd, cn, recognised=True)
        documents = {"certificate_of_origin": number, "phytosanitary_certificate": PHYTO}
        case_id = notified_and_decided(vn, cn, documents=documents)
        assert truck(vn, case_id).lane == Lane.GREEN.value
        assert fired(cn, case_id) == ["ON_GREEN_LIST", "CO_VALID", "PHYTO_RECOGNISED"]
        # The rate applied is recorded with the draw: the setting's, not the data file's.
        assert truck(cn, case_id).decision["draw"]["rate_percent"] == "0"  # type: ignore[index]

        clock.advance(minutes=80)
        arrived = lane.arrive(cn, case_id, OFFICER_CN)
        assert arrived.released
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "released")
    assert events(vn, case_id)[-2:] == ["lane.counterpart_arrived", "lane.counterpart_released"]
    assert truck(cn, case_id).released_at == truck(vn, case_id).released_at == clock.now


def test_a_notice_whose_goods_its_form_e_does_not_list_is_refused_and_writes_nothing(
    pair: tuple[Node, Node],
) -> None:
    vn, cn = pair
    certificate_of_origin.share(vn, vietnamese_form_e(), cn.agency, OFFICER_VN)
    tomatoes = [{**APPLES[0], "hs_code": "070200", "description": "Fresh tomatoes"}]
    documents = {"certificate_of_origin": vietnamese_form_e().certificate_number}
    with pytest.raises(InvalidInput) as refused:
        lane.notify(vn, notice(lines=tomatoes, documents=documents), cn.agency, OFFICER_VN)
    assert refused.value.code == "LANE_LINES_NOT_ON_CERTIFICATE"
    assert refused.value.params == {"hs_code": "070200", "certificate": "VN-CN26/00123"}
    with vn.sessions() as session:
        assert session.scalars(select(LaneTruckRow)).all() == []


def test_a_result_recognised_with_sampling_sends_the_truck_to_the_yellow_lane(
    three: tuple[Node, Node, Node],
) -> None:
    vn, ppd, cn = three
    with serving(vn), serving(ppd), serving(cn):
        number = documents_held(vn, ppd, cn, recognised=False)
        documents = {"certificate_of_origin": number, "phytosanitary_certificate": PHYTO}
        case_id = notified_and_decided(vn, cn, documents=documents)
        assert truck(vn, case_id).lane == Lane.YELLOW.value
        assert fired(cn, case_id) == ["ON_GREEN_LIST", "CO_VALID", "PHYTO_SAMPLING"]
        arrived = lane.arrive(cn, case_id, OFFICER_CN)
    assert not arrived.released
    assert [w.case_id for w in lane_times.inspection_queue(cn)] == [case_id]


def test_an_open_alert_on_the_vehicle_sends_the_truck_to_red_with_that_rule(
    three: tuple[Node, Node, Node],
) -> None:
    vn, ppd, cn = three
    with serving(vn), serving(ppd), serving(cn):
        number = documents_held(vn, ppd, cn, recognised=True)
        content = AlertContent.model_validate(
            {
                **json.loads((EXAMPLES / "alerts" / "food-safety-information.json").read_text()),
                "vehicle": {"plate": "12C 123 45", "country": "VN"},
            }
        )
        raised = alerts.raise_alert(vn, content, cn.agency, OFFICER_VN)
        deliver_due(vn)
        wait_for(lambda: bool(status(cn, raised.case_id)))
        documents = {"certificate_of_origin": number, "phytosanitary_certificate": PHYTO}
        case_id = notified_and_decided(vn, cn, documents=documents)
    assert truck(vn, case_id).lane == Lane.RED.value
    assert "OPEN_ALERT" in fired(cn, case_id)


def test_a_truck_expected_while_the_gate_is_closed_is_told_when_it_opens(
    pair: tuple[Node, Node],
) -> None:
    vn, cn = pair
    # Pingxiang lets no perishables through outside its hours; 19:00 in Pingxiang on a Friday.
    with serving(vn), serving(cn):
        case_id = notified_and_decided(
            vn, cn, gate="CNPIN", expected_arrival="2026-11-27T11:00:00Z"
        )
    decision = truck(vn, case_id).decision or {}
    assert "GATE_CLOSED_AT_ARRIVAL" in [rule["code"] for rule in decision["rules"]]
    # Monday 08:30 in Pingxiang: the weekend is not a working day.
    opens = datetime.fromisoformat(decision["gate_opens_at"])
    assert opens == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert "lane.gate_closed_at_arrival" in events(cn, case_id)


def test_a_green_perishable_is_released_outside_hours_where_the_gate_allows_it(
    three: tuple[Node, Node, Node], clock: Clock
) -> None:
    vn, ppd, cn = three
    with serving(vn), serving(ppd), serving(cn):
        number = documents_held(vn, ppd, cn, recognised=True)
        documents = {"certificate_of_origin": number, "phytosanitary_certificate": PHYTO}
        case_id = notified_and_decided(
            vn, cn, documents=documents, expected_arrival="2026-11-27T15:30:00Z"
        )
        assert truck(cn, case_id).lane == Lane.GREEN.value
        # 23:30 at Youyiguan, after its 22:00 closing: the row lets perishables pass.
        clock.now = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
        assert lane.arrive(cn, case_id, OFFICER_CN).released
        deliver_due(cn)
        wait_for(lambda: status(vn, case_id) == "released")
    assert "lane.released_outside_hours" in events(cn, case_id)
    assert "lane.counterpart_released_outside_hours" in events(vn, case_id)


APPLES = [
    {
        "hs_code": "080810",
        "description": "Fresh apples",
        "quantity": {"value": "12000", "unit": "kg"},
        "packages": 800,
    }
]


def test_the_backlog_takes_perishables_first_without_starving_the_others(
    pair: tuple[Node, Node], clock: Clock, prefect_local: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    vn, cn = pair
    register_staff(cn)
    with serving(vn), serving(cn):
        # Apples are not on the green list (red, not perishable); dragon fruit is perishable.
        apples = notified_and_decided(vn, cn, reference="APPLES-1", lines=APPLES)
        fruit = notified_and_decided(vn, cn, reference="FRUIT-1")
        with use(cn):
            process_lane_backlog(BacklogBatch(arrived=[apples], officer="officer"))
            clock.advance(minutes=30)
            process_lane_backlog(BacklogBatch(arrived=[fruit], officer="officer"))
        assert [w.case_id for w in lane_times.inspection_queue(cn)] == [fruit, apples]
        # Past two hours the apples count as first too, ahead of fruit that came later.
        clock.advance(hours=2)
        later = notified_and_decided(vn, cn, reference="FRUIT-2")
        lane.arrive(cn, later, OFFICER_CN)
        assert [w.case_id for w in lane_times.inspection_queue(cn)] == [apples, fruit, later]
        for case_id in (apples, fruit, later):
            found = (InspectionFinding(kind=FindingKind.NONE_FOUND),)
            lane_inspection.inspect(cn, case_id, found, InspectionResult.PASSED, OFFICER_CN)
        deliver_due(cn)
        # The node's own loop may still hold some of them: wait for all three records.
        wait_for(
            lambda: all(truck(vn, c).record_digest is not None for c in (apples, fruit, later))
        )
        for case_id in (apples, fruit, later):
            lane_inspection.countersign(vn, case_id, OFFICER_VN)
        deliver_due(vn)
        wait_for(lambda: all(status(cn, c) == "inspected" for c in (apples, fruit, later)))
        # One flow run releases a batch of two: the aged apples and the first fruit.
        with use(cn):
            process_lane_backlog(BacklogBatch(release_limit=2, officer="officer"))
        assert [status(cn, c) for c in (apples, fruit, later)] == [
            "released",
            "released",
            "inspected",
        ]
        # A second run that had listed the apples before the first released them
        # passes them over and releases the rest.
        monkeypatch.setattr(lane_backlog, "_ready", lambda *_: [apples, later])
        lane_backlog.release_ready(cn, None, 2, OFFICER_CN)
        assert status(cn, later) == "released"
