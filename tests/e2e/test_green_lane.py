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
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import LaneTruckRow
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict
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
from crossborder.services import lane, lane_inspection, lane_times
from crossborder.services.cases import case_view
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import EXAMPLES, connect, make_node, serving, wait_for

pytestmark = pytest.mark.e2e

OFFICER_VN = Actor.officer("nguyen.lan", "VN-CUSKV6")
OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")


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
        case_id = notified_and_decided(vn, cn)
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
