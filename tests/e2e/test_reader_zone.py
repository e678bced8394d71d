"""Each side reads the other side's deadline on its own clock — two real nodes.

The Vietnamese customs asks the Chinese issuer to verify a certificate; the
issuer has until a day's end in Nanning. Both trails record that due time on
the issuer's clock; each officer reads it in their own zone and language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from crossborder.adapters.db.tables import AuditEntry, Verification
from crossborder.cli.case import print_case
from crossborder.domain.actors import Actor
from crossborder.domain.messages import (
    CoVerificationRequestPayload,
    DocumentKind,
    VerificationReason,
)
from crossborder.i18n import format_datetime
from crossborder.services import certificate_of_origin, co_verification
from crossborder.services.cases import case_view
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node, serving, wait_for

pytestmark = pytest.mark.e2e

OFFICER_CN = Actor.officer("li.wei", "CN-NNCUS")
OFFICER_VN = Actor.officer("nguyen.van.an", "VN-CUSKV6")


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


def verification_requested(cn: Node, vn: Node) -> str:
    shared = certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER_CN)
    deliver_due(cn)
    wait_for(lambda: case_view(cn, shared.case_id).case.status == "accepted")
    co_verification.request(
        vn,
        shared.case_id,
        CoVerificationRequestPayload(
            certificate_number="-",
            reasons=[VerificationReason.ORIGIN_CRITERION_DOUBTFUL],
            documents_requested=[DocumentKind.PRODUCTION_RECORDS],
        ),
        OFFICER_VN,
    )
    deliver_due(vn)

    def requested() -> bool:
        with cn.sessions() as session:
            status = session.scalar(
                select(Verification.status).where(Verification.case_id == shared.case_id)
            )
        return status == "requested"

    wait_for(requested)
    return shared.case_id


def stored_due(node: Node, case_id: str) -> str:
    with node.sessions() as session:
        params = session.scalars(
            select(AuditEntry.params).where(
                AuditEntry.case_id == case_id, AuditEntry.event == "deadline.registered"
            )
        ).one()
    return str(params["due"])


def test_each_side_reads_the_issuers_deadline_on_its_own_clock(
    pair: tuple[Node, Node], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cn, vn = pair
    case_id = verification_requested(cn, vn)
    # Both trails keep the due time on the acting (Chinese) side's clock.
    due = stored_due(vn, case_id)
    assert due.endswith("+08:00") and stored_due(cn, case_id) == due
    moment = datetime.fromisoformat(due)
    monkeypatch.setenv("COLUMNS", "1000")  # one line per entry: the texts are compared whole

    print_case(vn, case_id, "vi")
    vietnamese = capsys.readouterr().out
    assert format_datetime(moment, "vi", "Asia/Ho_Chi_Minh") in vietnamese
    assert "+08:00" not in vietnamese and due not in vietnamese

    print_case(vn, case_id, "vi", "Asia/Shanghai")  # --tz: the reader chooses
    assert format_datetime(moment, "vi", "Asia/Shanghai") in capsys.readouterr().out

    print_case(cn, case_id, "zh_Hans")
    chinese = capsys.readouterr().out
    assert format_datetime(moment, "zh_Hans", "Asia/Shanghai") in chinese
    assert "+07:00" not in chinese and due not in chinese
