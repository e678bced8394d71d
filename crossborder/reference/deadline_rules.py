"""Deadline rules, from ``data/deadline_rules.json``: how long each side has to act.

The numbers are data, not code, because the legal texts that fix them are not
settled for us. ``co.verification_reply`` (90 calendar days, reminders at 30
and 7 days left) is the value reported for Rule 18 of the 2010 revised ACFTA
Operational Certification Procedures, and ``co.verification_determination``
(180 days) the reported limit for the whole retroactive check; neither is
confirmed against the official text (see ../shared/reference/acfta-rules-of-
origin.md, section (b)), so both ship with an empty ``citation`` until a person
fills it in from that text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from crossborder.domain.deadlines import DeadlineRule
from crossborder.domain.errors import InvalidInput, NotFound
from crossborder.domain.validation import violations_from

#: Rule key → its fields without the key, as in the data file.
RuleData = Mapping[str, Any]


@cache
def _shipped() -> Mapping[str, RuleData]:
    text = files("crossborder.reference").joinpath("data", "deadline_rules.json").read_text("utf-8")
    rules: dict[str, RuleData] = json.loads(text)
    return MappingProxyType(rules)


def _validated(key: str, data: object) -> DeadlineRule:
    if not isinstance(data, Mapping):
        raise InvalidInput("DEADLINE_RULE_INVALID", key=key)
    try:
        return DeadlineRule.model_validate({**data, "key": key})
    except ValidationError as error:
        raise InvalidInput(
            "DEADLINE_RULE_INVALID", violations=violations_from(error), key=key
        ) from None


def deadline_rule(key: str, rules: Mapping[str, RuleData] | None = None) -> DeadlineRule:
    """The rule ``key``, from the shipped data or from ``rules`` (a workflow's or a test's own).

    ``DEADLINE_RULE_UNKNOWN`` if there is none; ``DEADLINE_RULE_INVALID``, with
    every broken constraint, if its data is wrong (a negative amount, a reminder
    after the deadline).
    """
    source = _shipped() if rules is None else rules
    if key not in source:
        raise NotFound("DEADLINE_RULE_UNKNOWN", key=key)
    return _validated(key, source[key])


def deadline_rules() -> tuple[DeadlineRule, ...]:
    """Every shipped rule, validated, in the data file's order."""
    return tuple(_validated(key, data) for key, data in _shipped().items())


def rule_name_key(key: str) -> str:
    """Catalog key of a rule's name, also for a rule no longer shipped (its key then shows)."""
    return f"deadline_rule.{key}"
