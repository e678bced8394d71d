"""Mutual recognition decided from data: the rule that applies, and the rule files refused."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crossborder.domain.errors import CrossborderError, InvalidInput
from crossborder.domain.quarantine import QuarantineResult
from crossborder.domain.recognition import (
    NonRecognitionReason,
    RecognitionDecision,
    RecognitionOutcome,
    RecognitionRule,
    check_decidable,
    evaluate,
)
from crossborder.reference.recognition_rules import parse_rule_set, shipped_rule_set

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quarantine"
DAY = date(2026, 11, 27)


def result(**changes: Any) -> QuarantineResult:
    data = json.loads((FIXTURES / "dragon-fruit-result.json").read_text("utf-8"))
    data["consignment"].update(changes.pop("consignment", {}))
    return QuarantineResult.model_validate({**data, **changes})


def rule(**fields: Any) -> RecognitionRule:
    base = {
        "id": "R1",
        "hs_prefix": "08",
        "exporting_agency": "VN-PPD",
        "valid_from": "2026-01-01",
        "outcome": "documentary_check",
    }
    return RecognitionRule.model_validate({**base, **fields})


def test_the_longest_hs_prefix_wins() -> None:
    rules = [
        rule(),
        rule(id="R2", hs_prefix="0810", outcome="reduced_sampling", sampling_rate_percent="20"),
    ]
    decision = evaluate(rules, result(), "VN-PPD", DAY)
    assert decision == RecognitionDecision(
        outcome=RecognitionOutcome.REDUCED_SAMPLING,
        sampling_rate_percent=Decimal("20"),
        rule_id="R2",
    )


@pytest.mark.parametrize(
    ("rule_fields", "agency", "day"),
    [
        ({}, "CN-DAPQ", DAY),
        ({"hs_prefix": "0803"}, "VN-PPD", DAY),
        ({"valid_to": "2026-11-26"}, "VN-PPD", DAY),
        ({"valid_from": "2026-11-28"}, "VN-PPD", DAY),
    ],
    ids=["other-body", "other-commodity", "ended", "not-yet"],
)
def test_no_applicable_rule_leaves_the_decision_to_an_officer(
    rule_fields: dict[str, Any], agency: str, day: date
) -> None:
    assert evaluate([rule(**rule_fields)], result(), agency, day) is None


def test_a_rule_applies_on_its_first_and_last_day() -> None:
    one_day = rule(valid_from="2026-11-27", valid_to="2026-11-27")
    assert evaluate([one_day], result(), "VN-PPD", DAY) is not None


def test_a_result_failed_by_its_inspector_is_never_recognised() -> None:
    failed = result(
        verdict="fail",
        pests=[{"scientific_name": "Bactrocera dorsalis (Hendel)", "quarantine_pest": True}],
    )
    decision = evaluate([rule()], failed, "VN-PPD", DAY)
    assert decision is not None
    assert decision.outcome is RecognitionOutcome.NOT_RECOGNISED
    assert decision.reason is NonRecognitionReason.EXPORTER_VERDICT_FAIL
    recognised = RecognitionDecision(outcome=RecognitionOutcome.DOCUMENTARY_CHECK)
    with pytest.raises(InvalidInput) as refused:
        check_decidable(recognised, failed)
    assert refused.value.code == "RECOGNITION_OF_FAILED_RESULT"


def test_the_shipped_seed_is_a_valid_rule_set() -> None:
    seed = shipped_rule_set()
    assert {r.exporting_agency for r in seed.rules} == {"VN-PPD", "CN-DAPQ"}
    decision = evaluate(seed.rules, result(), "VN-PPD", DAY)
    assert decision is not None and decision.rule_id == "VN-PPD-0810-REDUCED"


def rules_file(*rules: dict[str, Any]) -> str:
    base = {
        "id": "R1",
        "hs_prefix": "0810",
        "exporting_agency": "VN-PPD",
        "valid_from": "2026-01-01",
        "valid_to": None,
        "outcome": "documentary_check",
    }
    return json.dumps({"rules": [{**base, **r} for r in rules]})


@pytest.mark.parametrize(
    ("text", "code", "violation"),
    [
        ("{", "JSON_MALFORMED", None),
        (
            rules_file({}, {"id": "R2", "valid_from": "2026-06-01"}),
            "RECOGNITION_RULES_INVALID",
            "RECOGNITION_RULES_OVERLAP",
        ),
        (
            rules_file({}, {"hs_prefix": "0803"}),
            "RECOGNITION_RULES_INVALID",
            "RECOGNITION_RULE_ID_REPEATED",
        ),
        (
            rules_file({"valid_to": "2025-12-31"}),
            "RECOGNITION_RULES_INVALID",
            "RECOGNITION_RULE_DATES_REVERSED",
        ),
        (
            rules_file({"outcome": "reduced_sampling"}),
            "RECOGNITION_RULES_INVALID",
            "RECOGNITION_SAMPLING_RATE_MISMATCH",
        ),
        (
            rules_file({"outcome": "not_recognised"}),
            "RECOGNITION_RULES_INVALID",
            "RECOGNITION_REASON_MISMATCH",
        ),
        (rules_file({"hs_prefix": "8"}), "RECOGNITION_RULES_INVALID", "VALUE_FORMAT_INVALID"),
        (rules_file({"exporting_agency": "VN-NOBODY"}), "AGENCY_UNKNOWN", None),
    ],
    ids=["json", "overlap", "id-twice", "dates", "rate", "reason", "prefix", "agency"],
)
def test_a_bad_rule_file_is_refused_with_a_stable_code(
    text: str, code: str, violation: str | None
) -> None:
    with pytest.raises(CrossborderError) as refused:
        parse_rule_set(text)
    assert refused.value.code == code
    if violation:
        assert violation in [v.code for v in refused.value.violations]


def test_consecutive_rules_for_the_same_commodity_do_not_overlap() -> None:
    text = rules_file(
        {"valid_to": "2026-05-31"},
        {
            "id": "R2",
            "valid_from": "2026-06-01",
            "outcome": "not_recognised",
            "reason": "ARRANGEMENT_SUSPENDED",
        },
    )
    rules = parse_rule_set(text).rules
    decision = evaluate(rules, result(), "VN-PPD", DAY)
    assert decision is not None and decision.reason is NonRecognitionReason.ARRANGEMENT_SUSPENDED
