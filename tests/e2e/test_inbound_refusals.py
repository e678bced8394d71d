"""What the receiving node refuses, over real HTTP, and that a refusal changes nothing.

Each bad delivery gets its stable code in the one JSON error shape; an
authenticated one is kept in ``rejected_messages`` with an audit entry; no case,
certificate or inbox row appears.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jws
from sqlalchemy import func, select

from crossborder.adapters.db.tables import AuditEntry, Case, InboxMessage, RejectedMessage
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.adapters.oauth.keys import generate_signing_key
from crossborder.adapters.wire.signing import MESSAGE_TYP, sign
from crossborder.domain.messages import CoShareMessage, CoSharePayload
from crossborder.services.node import Node
from crossborder.services.outbox import new_message_id
from tests.conftest import Clock
from tests.factories import connect, form_e, form_e_data, make_node, serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock, max_body_bytes=50_000)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    with serving(vn, run_workers=False):
        yield cn, vn
    cn.close()
    vn.close()


def client_for(cn: Node, vn: Node, clock: Clock) -> httpx.Client:
    auth = PrivateKeyJWTAuth(vn.settings.issuer, cn.agency, cn.signing_key, "co:write", clock)
    return httpx.Client(base_url=vn.settings.base_url, auth=auth)


def share_message(cn: Node, vn: Node, clock: Clock, **form_changes: Any) -> dict[str, Any]:
    message = CoShareMessage(
        message_id=new_message_id(),
        sender=cn.agency,
        recipient=vn.agency,
        case_id="CN-NNCUS-20261127-ABC123",
        created_at=clock(),
        payload=CoSharePayload(certificate=form_e()),
    )
    data = message.model_dump(mode="json")
    data["payload"]["certificate"].update(form_changes)
    return data


def post(client: httpx.Client, body: bytes) -> httpx.Response:
    return client.post("/v1/messages", content=body, headers={"Content-Type": "application/jose"})


def nothing_admitted(vn: Node) -> bool:
    with vn.sessions() as session:
        return not session.scalar(
            select(func.count()).select_from(InboxMessage)
        ) and not session.scalar(select(func.count()).select_from(Case))


def rejections(vn: Node) -> list[str]:
    with vn.sessions() as session:
        return list(
            session.scalars(select(RejectedMessage.error_code).order_by(RejectedMessage.id))
        )


def signed_raw(cn: Node, payload: bytes) -> bytes:
    header = {"alg": "ES256", "kid": cn.signing_key.kid, "typ": MESSAGE_TYP}
    return jws.serialize_compact(header, payload, cn.signing_key).encode()


def _alter(body: bytes) -> bytes:
    header, payload, signature = body.split(b".")
    data = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    data["payload"]["certificate"]["certificate_number"] = "E264510000999999"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")
    return b".".join([header, forged, signature])


CASES: dict[str, tuple[Callable[[Node, Node, Clock], bytes], int, str, str | None]] = {
    # name: (body maker, HTTP status, error code, a violation code expected in details)
    "malformed JSON": (lambda cn, vn, c: signed_raw(cn, b"{not json"), 400, "JSON_MALFORMED", None),
    "not a JWS at all": (lambda cn, vn, c: b'{"message_id": 1}', 400, "JWS_MALFORMED", None),
    "missing field": (
        lambda cn, vn, c: sign(
            {k: v for k, v in share_message(cn, vn, c).items() if k != "case_id"},
            cn.signing_key,
            MESSAGE_TYP,
        ),
        422,
        "SCHEMA_INVALID",
        "FIELD_MISSING",
    ),
    "unknown field": (
        lambda cn, vn, c: sign(
            {**share_message(cn, vn, c), "priority": "high"}, cn.signing_key, MESSAGE_TYP
        ),
        422,
        "SCHEMA_INVALID",
        "FIELD_UNKNOWN",
    ),
    "unknown message type": (
        lambda cn, vn, c: sign(
            {**share_message(cn, vn, c), "type": "co.bribe"}, cn.signing_key, MESSAGE_TYP
        ),
        422,
        "SCHEMA_INVALID",
        "MESSAGE_TYPE_UNKNOWN",
    ),
    "wrong HS code": (
        lambda cn, vn, c: sign(
            _with_item(share_message(cn, vn, c), hs_code="010000"), cn.signing_key, MESSAGE_TYP
        ),
        422,
        "FORM_E_INVALID",
        "FORM_E_HS_CODE_UNKNOWN",
    ),
    "bad exporter identifier": (
        lambda cn, vn, c: sign(
            _with_exporter_id(share_message(cn, vn, c)), cn.signing_key, MESSAGE_TYP
        ),
        422,
        "FORM_E_INVALID",
        "FORM_E_EXPORTER_ID_INVALID",
    ),
    "for another recipient": (
        lambda cn, vn, c: sign(
            {**share_message(cn, vn, c), "recipient": "VN-CUSKV8"}, cn.signing_key, MESSAGE_TYP
        ),
        422,
        "WRONG_RECIPIENT",
        None,
    ),
    "sender is not the caller": (
        lambda cn, vn, c: sign(
            {**share_message(cn, vn, c), "sender": "CN-DXCUS"}, cn.signing_key, MESSAGE_TYP
        ),
        403,
        "UNKNOWN_SENDER",
        None,
    ),
    "signed by the wrong key": (
        lambda cn, vn, c: sign(
            share_message(cn, vn, c), generate_signing_key(cn.signing_key.kid), MESSAGE_TYP
        ),
        403,
        "SIGNATURE_INVALID",
        None,
    ),
    "altered after signing": (
        lambda cn, vn, c: _alter(sign(share_message(cn, vn, c), cn.signing_key, MESSAGE_TYP)),
        403,
        "SIGNATURE_INVALID",
        None,
    ),
    "oversized body": (
        lambda cn, vn, c: sign(
            {**share_message(cn, vn, c), "padding": "x" * 60_000}, cn.signing_key, MESSAGE_TYP
        ),
        413,
        "BODY_TOO_LARGE",
        None,
    ),
}


def _with_item(message: dict[str, Any], **changes: Any) -> dict[str, Any]:
    items = message["payload"]["certificate"]["items"]
    items[0] = {**items[0], **changes}
    return message


def _with_exporter_id(message: dict[str, Any]) -> dict[str, Any]:
    exporter = message["payload"]["certificate"]["exporter"]
    exporter["identifier"] = exporter["identifier"][:-1] + (
        "0" if exporter["identifier"][-1] != "0" else "1"
    )
    return message


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_delivery_is_refused_with_its_code_and_recorded(
    case: str, pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    make_body, status, code, violation = CASES[case]
    with client_for(cn, vn, clock) as client:
        response = post(client, make_body(cn, vn, clock))

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] and error["message"] != f"error.{code}"
    if violation:
        assert violation in [detail["code"] for detail in error["details"]]
    assert nothing_admitted(vn)
    assert rejections(vn) == [code]
    with vn.sessions() as session:
        assert session.scalars(
            select(AuditEntry.event).order_by(AuditEntry.seq.desc())
        ).first() == ("message.rejected")


def test_errors_speak_the_callers_language(pair: tuple[Node, Node], clock: Clock) -> None:
    cn, vn = pair
    body = signed_raw(cn, b"{not json")
    with client_for(cn, vn, clock) as client:
        zh = client.post("/v1/messages", content=body, headers={"Accept-Language": "zh-CN"}).json()
        vi = client.post("/v1/messages", content=body, headers={"Accept-Language": "vi"}).json()
    assert zh["error"]["code"] == vi["error"]["code"] == "JSON_MALFORMED"
    assert zh["error"]["message"] != vi["error"]["message"]


def test_a_certificate_number_reused_with_other_content_is_refused(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    with client_for(cn, vn, clock) as client:
        first = post(client, sign(share_message(cn, vn, clock), cn.signing_key, MESSAGE_TYP))
        assert first.status_code == 202
        changed = share_message(cn, vn, clock)
        changed["case_id"] = "CN-NNCUS-20261127-ABC124"
        _with_item(changed, gross_weight_kg="9999")
        second = post(client, sign(changed, cn.signing_key, MESSAGE_TYP))
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "CERTIFICATE_NUMBER_REUSED"
    assert rejections(vn) == ["CERTIFICATE_NUMBER_REUSED"]
    with vn.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboxMessage)) == 1


def test_a_message_id_reused_for_other_bytes_is_refused(
    pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    message = share_message(cn, vn, clock)
    with client_for(cn, vn, clock) as client:
        assert post(client, sign(message, cn.signing_key, MESSAGE_TYP)).status_code == 202
        other = {**message, "created_at": "2026-11-27T03:00:00Z"}
        response = post(client, sign(other, cn.signing_key, MESSAGE_TYP))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "MESSAGE_ID_REUSED"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "TOKEN_MISSING"),
        ("Bearer not-a-jwt", "TOKEN_MALFORMED"),
        ("Basic Zm9vOmJhcg==", "TOKEN_MISSING"),
    ],
)
def test_no_valid_token_no_entry_and_no_record(
    authorization: str | None, code: str, pair: tuple[Node, Node], clock: Clock
) -> None:
    cn, vn = pair
    headers = {"Authorization": authorization} if authorization else {}
    body = sign(share_message(cn, vn, clock), cn.signing_key, MESSAGE_TYP)
    response = httpx.post(f"{vn.settings.base_url}/v1/messages", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    # An unauthenticated caller cannot fill our audit trail.
    assert rejections(vn) == []
    assert nothing_admitted(vn)


def test_a_client_without_the_scope_is_forbidden(pair: tuple[Node, Node], clock: Clock) -> None:
    cn, vn = pair
    auth = PrivateKeyJWTAuth(vn.settings.issuer, cn.agency, cn.signing_key, "weather:write", clock)
    with httpx.Client(base_url=vn.settings.base_url, auth=auth) as client:
        with pytest.raises(Exception) as refused:
            post(client, sign(share_message(cn, vn, clock), cn.signing_key, MESSAGE_TYP))
    assert "invalid_scope" in str(refused.value) or "TOKEN" in str(refused.value)
    assert nothing_admitted(vn)


def test_form_e_payload_example_is_accepted(pair: tuple[Node, Node], clock: Clock) -> None:
    cn, vn = pair
    assert form_e_data()["issuing_authority"] == cn.agency
    with client_for(cn, vn, clock) as client:
        response = post(client, sign(share_message(cn, vn, clock), cn.signing_key, MESSAGE_TYP))
    assert response.status_code == 202
    assert response.json()["duplicate"] is False
