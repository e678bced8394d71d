"""How long the recipient of an alert has to acknowledge it, by category and severity.

``data/alert_ack_rules.json`` holds one deadline rule per category × severity:
minutes for a vessel in distress, hours for security, office hours or a working
day for food safety. These are operating values agreed between duty desks, not
figures from a treaty, so every ``citation`` is empty until a person fills it
in from the bilateral arrangement. The rules are counted in the recipient's
calendar, office hours and time zone (``crossborder.services.deadlines``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from crossborder.domain.alerts import AlertCategory, NotificationKind, Severity
from crossborder.domain.deadlines import DeadlineRule
from crossborder.reference.deadline_rules import RuleData, deadline_rule

#: The one deadline rule key of an alert's acknowledgement; its length comes from this table.
ACK_RULE = "alert.ack"


@cache
def _shipped() -> Mapping[str, Mapping[str, RuleData]]:
    text = (
        files("crossborder.reference").joinpath("data", "alert_ack_rules.json").read_text("utf-8")
    )
    table: dict[str, dict[str, RuleData]] = json.loads(text)
    return MappingProxyType(table)


def ack_rule_data(category: AlertCategory, severity: Severity) -> RuleData:
    """The acknowledgement rule's fields for one alert, to register as :data:`ACK_RULE`."""
    return _shipped()[category.value][severity.value]


def ack_rule(category: AlertCategory, severity: Severity) -> DeadlineRule:
    """The validated rule (``DEADLINE_RULE_INVALID`` if the data is wrong)."""
    return deadline_rule(ACK_RULE, {ACK_RULE: ack_rule_data(category, severity)})


class AutoAckRule(BaseModel):
    """Alerts the recipient's node acknowledges itself; ``None`` matches every value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: NotificationKind
    categories: frozenset[AlertCategory] | None = None
    severities: frozenset[Severity] | None = None

    def covers(self, kind: NotificationKind, category: AlertCategory, severity: Severity) -> bool:
        return (
            kind is self.kind
            and (self.categories is None or category in self.categories)
            and (self.severities is None or severity in self.severities)
        )


@cache
def _auto_ack() -> tuple[AutoAckRule, ...]:
    text = files("crossborder.reference").joinpath("data", "alert_auto_ack.json").read_text("utf-8")
    return tuple(AutoAckRule.model_validate(rule) for rule in json.loads(text)["rules"])


def acknowledged_by_rule(
    kind: NotificationKind, category: AlertCategory, severity: Severity
) -> bool:
    """Whether the recipient's node acknowledges such an alert itself (``alert_auto_ack.json``).

    A RASFF "information" notice of low severity asks for attention, not action:
    "received and noted" needs no person, and a duty officer's time goes to the
    alerts that do. Anything not listed waits for a person.
    """
    return any(rule.covers(kind, category, severity) for rule in _auto_ack())
