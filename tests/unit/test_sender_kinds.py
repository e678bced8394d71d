"""Which kinds of agency may send each message type: the shipped table and the one rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import pytest

from crossborder.domain.errors import CrossborderError, Forbidden, InvalidInput, NotFound
from crossborder.domain.messages import MessageType
from crossborder.i18n import LOCALES, error_message
from crossborder.reference.agencies import AgencyKind, agencies
from crossborder.reference.senders import (
    check_sender,
    parse_sender_table,
    sender_kinds,
    sender_table,
)

PROJECT = Path(__file__).resolve().parents[2]
SHIPPED = PROJECT / "crossborder" / "reference" / "data" / "senders.json"
EXAMPLES = PROJECT / "contracts" / "examples" / "messages"
KINDS = frozenset(get_args(AgencyKind))

#: One agency of each kind, to send as.
AGENCY_OF_KIND = {kind: next(a.code for a in agencies() if a.kind == kind) for kind in KINDS}

CO = [message_type for message_type in MessageType if message_type.value.startswith("co.")]
ALERTS = [message_type for message_type in MessageType if message_type.value.startswith("alert.")]
#: Who may send what, as the workflows and their tests have it.
EXPECTED: dict[MessageType, frozenset[str]] = {
    **{message_type: frozenset({"customs"}) for message_type in CO},
    MessageType.SPS_QUARANTINE_RESULT: frozenset({"quarantine"}),
    MessageType.SPS_NON_COMPLIANCE_ACK: frozenset({"quarantine"}),
    MessageType.SPS_RECOGNITION_DECISION: frozenset({"customs", "quarantine"}),
    MessageType.SPS_NON_COMPLIANCE: frozenset({"customs", "quarantine"}),
    # The green lane runs between customs; either side's inspectors may sign the joint record.
    MessageType.LANE_NOTICE: frozenset({"customs"}),
    MessageType.LANE_DECISION: frozenset({"customs"}),
    MessageType.LANE_ARRIVAL: frozenset({"customs"}),
    MessageType.LANE_INSPECTION: frozenset({"customs", "quarantine"}),
    MessageType.LANE_COUNTERSIGN: frozenset({"customs", "quarantine"}),
    MessageType.LANE_RELEASE: frozenset({"customs"}),
    **{message_type: KINDS for message_type in ALERTS},
    MessageType.AUDIT_CHECKPOINT: KINDS,
}


def shipped_rows() -> dict[str, Any]:
    rows: dict[str, Any] = json.loads(SHIPPED.read_text("utf-8"))
    return rows


def refusal(raw: dict[str, Any]) -> CrossborderError:
    with pytest.raises(InvalidInput) as refused:
        parse_sender_table(json.dumps(raw))
    assert refused.value.code == "SENDER_TABLE_INVALID"
    return refused.value


@pytest.mark.parametrize("message_type", list(MessageType))
def test_every_message_type_has_a_row(message_type: MessageType) -> None:
    # A new message type without a row makes the shipped table fail to load.
    assert message_type in sender_table()
    assert message_type.value in shipped_rows()


def test_the_expectations_cover_every_message_type() -> None:
    assert set(EXPECTED) == set(MessageType)


@pytest.mark.parametrize("message_type", list(MessageType))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_may_send_exactly_what_its_workflow_gives_it(
    message_type: MessageType, kind: str
) -> None:
    sender = AGENCY_OF_KIND[kind]
    if kind in EXPECTED[message_type]:
        check_sender(message_type, sender)
        return
    with pytest.raises(Forbidden) as refused:
        check_sender(message_type, sender)
    assert refused.value.code == "SENDER_KIND_NOT_ALLOWED"
    assert refused.value.params == {"type": message_type.value, "kind": kind}


def test_customs_may_not_send_a_quarantine_result_but_the_plant_protection_body_may() -> None:
    with pytest.raises(Forbidden) as refused:
        check_sender(MessageType.SPS_QUARANTINE_RESULT, "CN-NNCUS")
    assert refused.value.params == {"type": "sps.quarantine_result", "kind": "customs"}
    check_sender(MessageType.SPS_QUARANTINE_RESULT, "VN-PPD")
    # The body that Vietnam's 2025 restructuring replaced is still a plant-protection body.
    check_sender(MessageType.SPS_QUARANTINE_RESULT, "VN-PPD-OLD")


def test_open_rows_are_open_to_any_kind_and_need_no_register_entry() -> None:
    assert sender_kinds(MessageType.AUDIT_CHECKPOINT) is None
    assert all(sender_kinds(message_type) is None for message_type in ALERTS)
    check_sender(MessageType.AUDIT_CHECKPOINT, "XX-NOWHERE")


def test_an_agency_missing_from_the_register_cannot_send_a_restricted_type() -> None:
    with pytest.raises(NotFound) as refused:
        check_sender(MessageType.CO_SHARE, "XX-NOWHERE")
    assert refused.value.code == "AGENCY_UNKNOWN"


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.json")), ids=lambda path: path.name)
def test_every_contract_example_is_sent_by_an_agency_allowed_to(example: Path) -> None:
    message = json.loads(example.read_text("utf-8"))
    check_sender(MessageType(message["type"]), message["sender"])


@pytest.mark.parametrize("locale", LOCALES)
def test_the_refusal_names_the_kind_and_the_type_by_their_labels(locale: str) -> None:
    with pytest.raises(Forbidden) as refused:
        check_sender(MessageType.SPS_QUARANTINE_RESULT, "VN-CUSKV6")
    text = error_message(refused.value.code, locale, **refused.value.params)
    expected = {
        "en": ("customs", "quarantine result"),
        "vi": ("hải quan", "kết quả kiểm dịch"),
        "zh_Hans": ("海关", "检疫结果"),
    }[locale]
    assert all(label in text for label in expected), text
    assert "sps.quarantine_result" not in text and "{" not in text


def test_a_table_without_a_row_for_a_message_type_is_refused() -> None:
    rows = shipped_rows()
    del rows["sps.non_compliance_ack"]
    violations = refusal(rows).violations
    assert [(v.code, v.field) for v in violations] == [("FIELD_MISSING", "sps.non_compliance_ack")]


@pytest.mark.parametrize(
    ("change", "violation"),
    [
        ({"co.bribe": ["customs"]}, ("VALUE_NOT_ALLOWED", "co.bribe.[key]")),
        ({"co.share": ["customs", "tax_office"]}, ("VALUE_NOT_ALLOWED", "co.share[1]")),
        ({"co.share": []}, ("VALUE_TOO_SHORT", "co.share")),
        ({"co.share": "everyone"}, ("VALUE_INVALID", "co.share")),
        # null is not "any": a row opens to every kind only by saying so.
        ({"co.share": None}, ("VALUE_INVALID", "co.share")),
    ],
    ids=["unknown type", "unknown kind", "empty row", "neither a list nor any", "null"],
)
def test_a_table_with_a_bad_row_is_refused(
    change: dict[str, Any], violation: tuple[str, str]
) -> None:
    violations = refusal({**shipped_rows(), **change}).violations
    assert [(v.code, v.field) for v in violations] == [violation]


def test_the_shipped_table_parses_to_the_loaded_one() -> None:
    assert parse_sender_table(SHIPPED.read_bytes()) == sender_table()
