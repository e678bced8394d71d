"""What a counterpart answered when it did not take a message: kept for the officer, bounded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from crossborder.adapters.counterpart import (
    ANSWER_DETAILS_LIMIT,
    ANSWER_TEXT_LIMIT,
    DeliveryOutcome,
    classify,
)


def answer_of(status: int, **body: Any) -> DeliveryOutcome:
    return classify(httpx.Response(status, **body))


def test_a_refusal_keeps_status_code_words_and_broken_rules() -> None:
    outcome = answer_of(
        422,
        json={
            "error": {
                "code": "SCHEMA_INVALID",
                "message": "Thông điệp không đúng lược đồ.",
                "details": [{"code": "FIELD_MISSING", "field": "case_id", "message": "Thiếu."}],
            }
        },
    )
    assert (outcome.kind, outcome.error) == ("final", "HTTP_422:SCHEMA_INVALID")
    assert outcome.answer == {
        "status": 422,
        "code": "SCHEMA_INVALID",
        "message": "Thông điệp không đúng lược đồ.",
        "details": [{"code": "FIELD_MISSING", "field": "case_id", "message": "Thiếu."}],
    }


@pytest.mark.parametrize(
    ("status", "kind"), [(403, "final"), (409, "final"), (429, "retry"), (503, "retry")]
)
def test_retries_and_refusals_both_keep_the_answer(status: int, kind: str) -> None:
    outcome = answer_of(status, json={"error": {"code": "X", "message": "m", "details": []}})
    assert outcome.kind == kind
    assert outcome.answer is not None and outcome.answer["status"] == status


@pytest.mark.parametrize(
    "body",
    [
        {"content": b"<html>Bad gateway</html>"},
        {"json": {"error": "access_denied"}},
        {"json": ["not", "an", "object"]},
        {"json": {"error": {"code": 7, "message": None, "details": "none"}}},
    ],
    ids=["html", "oauth-style", "list", "wrong types"],
)
def test_an_answer_outside_the_contract_is_kept_as_far_as_it_is_one(body: dict[str, Any]) -> None:
    outcome = answer_of(403, **body)
    assert outcome.error == "HTTP_403:NO_ERROR_BODY"
    assert outcome.answer == {
        "status": 403,
        "code": "NO_ERROR_BODY",
        "message": None,
        "details": [],
    }


def test_a_long_answer_is_cut_to_what_an_officer_reads() -> None:
    details = [{"code": "C", "field": "f" * 1000, "message": "m" * 10_000}] * 1000
    outcome = answer_of(
        422, json={"error": {"code": "X" * 500, "message": "w" * 100_000, "details": details}}
    )
    answer = outcome.answer
    assert answer is not None
    assert len(answer["code"]) == 64 and len(answer["message"]) == ANSWER_TEXT_LIMIT
    assert len(answer["details"]) == ANSWER_DETAILS_LIMIT
    assert {len(detail["message"]) for detail in answer["details"]} == {ANSWER_TEXT_LIMIT}
    assert {len(detail["field"]) for detail in answer["details"]} == {200}


def test_a_receipt_has_no_answer() -> None:
    outcome = answer_of(202, json={"receipt": "a.b.c", "duplicate": False})
    assert (outcome.kind, outcome.receipt, outcome.answer) == ("delivered", b"a.b.c", None)


#: Every status a counterpart (or a proxy before it) may answer, and what the sender does:
#: deliver, retry (it or the way to it is down, busy or slow), retry a limited number of
#: times (a token a fresh one did not cure), or stop (the message itself is refused).
CLASSIFIED = [
    (202, "delivered", False),
    (200, "delivered", False),
    (400, "final", False),
    (401, "retry", True),  # a fresh token was tried already: clocks, or keys not yet seen
    (403, "final", False),
    (404, "final", False),
    (405, "final", False),
    (408, "retry", False),  # a proxy gave up waiting: the counterpart may be slow
    (409, "final", False),
    (413, "final", False),
    (415, "final", False),
    (422, "final", False),
    (429, "retry", False),
    (500, "retry", False),
    (502, "retry", False),
    (503, "retry", False),
    (504, "retry", False),
]


@pytest.mark.parametrize(("status", "kind", "limited"), CLASSIFIED)
def test_each_status_is_delivered_retried_or_final(status: int, kind: str, limited: bool) -> None:
    body = {"receipt": "a.b.c"} if kind == "delivered" else {"error": {"code": "X"}}
    outcome = answer_of(status, json=body)
    assert (outcome.kind, outcome.limited) == (kind, limited)
    if kind != "delivered":
        assert outcome.error == f"HTTP_{status}:X"
