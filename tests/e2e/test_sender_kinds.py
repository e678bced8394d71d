"""A message type sent by the wrong kind of agency: refused by the sender and by the receiver.

Vietnam's customs branch at Lạng Sơn (VN-CUSKV6) is a registered counterpart of
Nanning customs (CN-NNCUS) with every scope, but a quarantine result is the
plant-protection body's (VN-PPD) to send. Its own node will not queue one, and
a result signed with its keys by other software is refused by the receiver —
while the same result from VN-PPD goes through. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import (
    AuditEntry,
    Case,
    Consignment,
    InboxMessage,
    OutboxMessage,
    QuarantineResultRow,
    RejectedMessage,
)
from crossborder.adapters.ephyto import read_certificate_file
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.adapters.wire.signing import MESSAGE_TYP, sign
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Forbidden
from crossborder.domain.quarantine import QuarantineResult as Result
from crossborder.services import quarantine
from crossborder.services.cases import case_view
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from crossborder.services.outbox import new_message_id
from tests.conftest import Clock
from tests.factories import EXAMPLES, connect, make_node, serving

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quarantine"
TABLES = (Case, Consignment, QuarantineResultRow, OutboxMessage, InboxMessage, AuditEntry)


def counts(node: Node) -> dict[str, int]:
    with node.sessions() as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in TABLES
        }


def test_a_customs_node_may_not_share_a_quarantine_result(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    customs = make_node("vn", make_db_url("vn"), tmp_path, clock)
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    connect(customs, cn, tmp_path)
    connect(cn, customs, tmp_path)
    officer = Actor.officer("tran.van.minh", customs.agency)
    certificate = read_certificate_file(FIXTURES / "dragon-fruit-certificate.xml").certificate
    result = Result.model_validate_json((FIXTURES / "dragon-fruit-result.json").read_bytes())
    try:
        case_id = quarantine.attach_certificate(
            customs, certificate, officer, recipient=cn.agency
        ).case_id
        before = counts(customs)
        with serving(cn, run_workers=False):
            with pytest.raises(Forbidden) as refused:
                quarantine.share_result(customs, result, officer)
            assert deliver_due(customs) == {}
        assert refused.value.code == "SENDER_KIND_NOT_ALLOWED"
        assert refused.value.params == {"type": "sps.quarantine_result", "kind": "customs"}
        # Nothing written: no result, no outbox row, no audit entry, the case as it was.
        assert counts(customs) == before
        assert case_view(customs, case_id).case.status == "certified"
        assert counts(cn)["inbox"] == 0
    finally:
        customs.close()
        cn.close()


def result_message(sender: Node, recipient: Node, clock: Clock) -> bytes:
    """The example quarantine result, as other software would sign it for ``sender``."""
    message: dict[str, Any] = json.loads(
        (EXAMPLES / "messages" / "sps.quarantine_result.json").read_text("utf-8")
    )
    message.update(
        message_id=str(new_message_id()),
        sender=sender.agency,
        recipient=recipient.agency,
        case_id=f"{sender.agency}-20261127-4B7E21",
        created_at=clock().isoformat(),
    )
    return sign(message, sender.signing_key, MESSAGE_TYP)


def post(sender: Node, recipient: Node, body: bytes, clock: Clock) -> httpx.Response:
    auth = PrivateKeyJWTAuth(
        recipient.settings.issuer, sender.agency, sender.signing_key, "sps:write", clock
    )
    with httpx.Client(base_url=recipient.settings.base_url, auth=auth) as client:
        return client.post(
            "/v1/messages",
            content=body,
            headers={"Content-Type": "application/jose", "Accept-Language": "vi"},
        )


def test_a_quarantine_result_from_a_customs_client_is_refused_by_the_receiver(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> None:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    customs = make_node("vn", make_db_url("customs"), tmp_path / "customs", clock)
    ppd = make_node("vn", make_db_url("ppd"), tmp_path / "ppd", clock, agency="VN-PPD")
    connect(cn, customs, tmp_path)
    connect(cn, ppd, tmp_path)
    try:
        with serving(cn, run_workers=False):
            forged = post(customs, cn, result_message(customs, cn, clock), clock)
            refused = counts(cn)
            genuine = post(ppd, cn, result_message(ppd, cn, clock), clock)

        assert forged.status_code == 403, forged.text
        error = forged.json()["error"]
        assert error["code"] == "SENDER_KIND_NOT_ALLOWED"
        assert error["message"] == (
            "Cơ quan loại “hải quan” không được gửi thông điệp loại “kết quả kiểm dịch”."
        )
        assert refused["inbox"] == refused["cases"] == refused["consignments"] == 0
        with cn.sessions() as session:
            rejected = session.scalars(select(RejectedMessage)).one()
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.event == "message.rejected")
            ).one()
        assert (rejected.client_id, rejected.error_code) == (customs.agency, error["code"])
        assert entry.params["error"] == "SENDER_KIND_NOT_ALLOWED"
        assert entry.params["client_id"] == customs.agency

        # The same result from the plant-protection body is admitted.
        assert genuine.status_code == 202, genuine.text
        assert counts(cn)["consignments"] == 1
    finally:
        cn.close()
        customs.close()
        ppd.close()
