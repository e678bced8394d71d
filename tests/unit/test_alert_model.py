"""Alerts: what a valid alert is, the life of one, and the acknowledgement table."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from crossborder.domain.alert_lifecycle import AlertAction, AlertStatus, Side, next_status
from crossborder.domain.alerts import (
    AlertCategory,
    AlertContent,
    Audience,
    Severity,
    check_restriction_allowed,
    visible_to,
)
from crossborder.domain.errors import Conflict, CrossborderError, Forbidden, NotFound
from crossborder.domain.messages import AlertRaiseMessage, required_scopes
from crossborder.domain.validation import schema_checked
from crossborder.reference.alert_ack_rules import ack_rule

VALID: dict[str, Any] = {
    "category": "food_safety",
    "severity": "severe",
    "description": {"lang": "vi", "text": "Lô thanh long nhiễm Salmonella."},
}


def codes(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CrossborderError) as refused, schema_checked():
        AlertContent.model_validate(data)
    assert refused.value.code == "SCHEMA_INVALID"
    return [violation.code for violation in refused.value.violations]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"category": None}, "ALERT_CATEGORY_MISSING"),
        ({"severity": None}, "ALERT_SEVERITY_MISSING"),
        ({"position": {"lat": 91, "lon": 106}}, "POSITION_OUT_OF_RANGE"),
        ({"position": {"lat": 21, "lon": -181}}, "POSITION_OUT_OF_RANGE"),
        ({"category": "maritime_sar"}, "POSITION_REQUIRED"),
        ({"vessel": {}}, "VESSEL_UNIDENTIFIED"),
        (
            {"description_other": {"lang": "vi", "text": "Cùng ngôn ngữ."}},
            "ALERT_TEXT_SAME_LANGUAGE",
        ),
        ({"severity": "catastrophic"}, "VALUE_NOT_ALLOWED"),
    ],
)
def test_a_bad_alert_is_refused_with_a_stable_code(changes: dict[str, Any], code: str) -> None:
    data = {key: value for key, value in {**VALID, **changes}.items() if value is not None}
    assert code in codes(data)


def test_a_maritime_alert_with_a_position_is_valid() -> None:
    alert = AlertContent.model_validate(
        {**VALID, "category": "maritime_sar", "position": {"lat": -90, "lon": 180}}
    )
    assert alert.handling.audience is Audience.ALL


@pytest.mark.parametrize(
    ("current", "action", "side", "expected"),
    [
        (None, AlertAction.RAISE, "sender", AlertStatus.SENT),
        (None, AlertAction.RAISE, "recipient", AlertStatus.RECEIVED),
        (AlertStatus.RECEIVED, AlertAction.ACK, "recipient", AlertStatus.ACKNOWLEDGED),
        (AlertStatus.SENT, AlertAction.ACK, "recipient", AlertStatus.ACKNOWLEDGED),
        (AlertStatus.ACKNOWLEDGED, AlertAction.FOLLOW_UP, "recipient", AlertStatus.ACKNOWLEDGED),
        (AlertStatus.SENT, AlertAction.UPDATE, "sender", AlertStatus.SENT),
        (AlertStatus.ACKNOWLEDGED, AlertAction.CLOSE, "recipient", AlertStatus.CLOSED),
        (AlertStatus.RECEIVED, AlertAction.WITHDRAW, "sender", AlertStatus.WITHDRAWN),
    ],
)
def test_legal_steps(
    current: AlertStatus | None, action: AlertAction, side: Side, expected: AlertStatus
) -> None:
    assert next_status(current, action, side) is expected


@pytest.mark.parametrize(
    ("current", "action", "side", "error", "code"),
    [
        (None, AlertAction.UPDATE, "sender", NotFound, "ALERT_UNKNOWN"),
        (AlertStatus.CLOSED, AlertAction.UPDATE, "sender", Conflict, "ALERT_CLOSED"),
        (AlertStatus.WITHDRAWN, AlertAction.ACK, "recipient", Conflict, "ALERT_WITHDRAWN"),
        (AlertStatus.SENT, AlertAction.ACK, "sender", Forbidden, "ACK_FROM_NON_RECIPIENT"),
        (
            AlertStatus.ACKNOWLEDGED,
            AlertAction.ACK,
            "recipient",
            Conflict,
            "ALERT_TRANSITION_ILLEGAL",
        ),
        (
            AlertStatus.RECEIVED,
            AlertAction.UPDATE,
            "recipient",
            Forbidden,
            "ALERT_ACTION_SENDER_ONLY",
        ),
        (
            AlertStatus.RECEIVED,
            AlertAction.WITHDRAW,
            "recipient",
            Forbidden,
            "ALERT_ACTION_SENDER_ONLY",
        ),
        (AlertStatus.SENT, AlertAction.RAISE, "sender", Conflict, "ALERT_TRANSITION_ILLEGAL"),
    ],
)
def test_illegal_steps_have_stable_codes(
    current: AlertStatus | None,
    action: AlertAction,
    side: Side,
    error: type[CrossborderError],
    code: str,
) -> None:
    with pytest.raises(error) as refused:
        next_status(current, action, side)
    assert refused.value.code == code


def test_restrictions_a_sender_may_set_follow_its_kind() -> None:
    check_restriction_allowed("border_guard", Audience.BORDER_GUARD)
    check_restriction_allowed("customs", Audience.ALL)
    with pytest.raises(Forbidden) as refused:
        check_restriction_allowed("customs", Audience.BORDER_GUARD)
    assert refused.value.code == "HANDLING_RESTRICTION_NOT_ALLOWED"
    with pytest.raises(Forbidden):
        check_restriction_allowed("ministry", Audience.CUSTOMS)


def test_a_restricted_alert_is_visible_to_its_audience_only() -> None:
    assert visible_to(Audience.BORDER_GUARD, "border_guard")
    assert visible_to(Audience.BORDER_GUARD, None)  # the node itself
    assert not visible_to(Audience.BORDER_GUARD, "customs")
    assert visible_to(Audience.ALL, "customs")


def test_a_restricted_alert_needs_the_audience_scope() -> None:
    message = AlertRaiseMessage.model_validate(
        {
            "message_id": "01a21f10-0000-7000-8000-0000000000b1",
            "sender": "CN-GXBC",
            "recipient": "VN-BGLS",
            "case_id": "CN-GXBC-20261127-3B9D10",
            "created_at": "2026-11-27T11:00:00Z",
            "payload": {"alert": {**VALID, "handling": {"audience": "border_guard"}}},
        }
    )
    assert required_scopes(message) == {"alert:write", "alert:border_guard"}
    open_alert = message.model_copy(
        update={"payload": message.payload.model_copy(update={"alert": AlertContent(**VALID)})}
    )
    assert required_scopes(open_alert) == {"alert:write"}


@pytest.mark.parametrize("category", list(AlertCategory))
@pytest.mark.parametrize("severity", list(Severity))
def test_every_category_and_severity_has_a_valid_acknowledgement_rule(
    category: AlertCategory, severity: Severity
) -> None:
    rule = ack_rule(category, severity)
    assert rule.citation == ""  # operating values, not yet confirmed against an arrangement


def test_distress_is_acknowledged_in_minutes_and_food_safety_in_office_time() -> None:
    sar = ack_rule(AlertCategory.MARITIME_SAR, Severity.EXTREME)
    assert (sar.amount, sar.counting) == (15, "minutes")
    food = ack_rule(AlertCategory.FOOD_SAFETY, Severity.SEVERE)
    assert (food.amount, food.counting) == (8, "office_hours")


def test_an_alert_content_is_frozen() -> None:
    with pytest.raises(ValidationError):
        AlertContent.model_validate(VALID).severity = Severity.MINOR  # type: ignore[misc]
