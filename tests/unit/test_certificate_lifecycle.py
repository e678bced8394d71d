"""The certificate and verification state machines, and their refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from crossborder.domain.certificate_lifecycle import (
    check_amendable,
    check_awaiting_reply,
    check_decidable,
    check_revocable,
)
from crossborder.domain.errors import Conflict
from crossborder.domain.messages import CoVerificationReplyPayload, CoVerificationRequestPayload
from crossborder.domain.validation import violations_from


@pytest.mark.parametrize(
    ("check", "status", "code"),
    [
        (check_decidable, "revoked", "CERTIFICATE_REVOKED"),
        (check_decidable, "accepted", "CERTIFICATE_ALREADY_DECIDED"),
        (check_decidable, "superseded", "CERTIFICATE_ALREADY_DECIDED"),
        (check_amendable, "revoked", "CERTIFICATE_REVOKED"),
        (check_revocable, "revoked", "CERTIFICATE_ALREADY_REVOKED"),
        (check_awaiting_reply, None, "VERIFICATION_UNKNOWN"),
        (check_awaiting_reply, "replied", "VERIFICATION_CLOSED"),
        (check_awaiting_reply, "closed", "VERIFICATION_CLOSED"),
    ],
)
def test_refused_transitions_have_their_code(check: object, status: str | None, code: str) -> None:
    with pytest.raises(Conflict) as refused:
        check(status)  # type: ignore[operator]
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("check", "status"),
    [
        (check_decidable, "received"),
        (check_decidable, "queried"),
        (check_amendable, "accepted"),
        (check_revocable, "accepted"),
        (check_awaiting_reply, "requested"),
        (check_awaiting_reply, "overdue"),
    ],
)
def test_allowed_transitions_pass(check: object, status: str) -> None:
    check(status)  # type: ignore[operator]


def test_a_reply_without_its_result_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        CoVerificationReplyPayload.model_validate(
            {"certificate_number": "E1", "findings": {"lang": "en", "text": "checked"}}
        )
    assert [(v.code, v.field) for v in violations_from(refused.value)] == [
        ("FIELD_MISSING", "result")
    ]


def test_a_request_for_other_reasons_must_say_which() -> None:
    with pytest.raises(ValidationError) as refused:
        CoVerificationRequestPayload(certificate_number="E1", reasons=["OTHER"])  # type: ignore[list-item]
    assert [v.code for v in violations_from(refused.value)] == ["VERIFICATION_NOTE_MISSING"]
