"""Mutual-recognition rules: the seed in ``data/recognition_rules.json``; reading a rule file.

The seed is an example set for a new node, not an agreed arrangement: no
official list of recognised commodities and bodies has been confirmed for us.
Liaison officers load the rules in force with ``crossborder quarantine rules load``;
until they do, the seed decides. A rule file has the seed's shape:
``{"rules": [{"id", "hs_prefix", "exporting_agency", "valid_from", "valid_to",
"outcome", "sampling_rate_percent" | "reason"}, …]}``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from pydantic import ValidationError

from crossborder.domain.errors import InvalidInput
from crossborder.domain.recognition import RecognitionRuleSet
from crossborder.domain.validation import violations_from
from crossborder.reference.agencies import agency


def parse_rule_set(text: str | bytes) -> RecognitionRuleSet:
    """A rule file, checked: its shape, its dates, no two rules competing, known agencies."""
    try:
        rule_set = RecognitionRuleSet.model_validate_json(text)
    except ValidationError as error:
        if any(detail["type"] == "json_invalid" for detail in error.errors()):
            raise InvalidInput("JSON_MALFORMED") from None
        raise InvalidInput("RECOGNITION_RULES_INVALID", violations=violations_from(error)) from None
    for rule in rule_set.rules:
        # Unknown agency codes would make a rule that silently never applies.
        agency(rule.exporting_agency)
    return rule_set


@cache
def shipped_rule_set() -> RecognitionRuleSet:
    text = files("crossborder.reference").joinpath("data", "recognition_rules.json").read_bytes()
    return parse_rule_set(text)
