"""A decimal string the contract's pattern allows is one the node takes, and no other."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from crossborder.domain import decimals

KINDS = ["AnyDecimal", "NotNegativeDecimal", "AboveZeroDecimal", "FormEQuantity", "Percent"]
KINDS += ["PercentBetween"]


def adapter(kind: str) -> TypeAdapter[Any]:
    return TypeAdapter(getattr(decimals, kind))


def published_pattern(kind: str) -> str:
    schema = adapter(kind).json_schema(mode="validation")
    (string,) = [branch for branch in schema["anyOf"] if branch["type"] == "string"]
    pattern: str = string["pattern"]
    return pattern


def taken(kind: str, text: str) -> bool:
    try:
        adapter(kind).validate_json(json.dumps(text), strict=True)
    except ValidationError:
        return False
    return True


#: Strings near the edges: signs, zeros, points, exponents, spaces, other digits.
NEAR = st.from_regex(r"\A[-+ ]?[0-9０_]{0,16}(\.[0-9]{0,8})?([eE][-+]?[0-9])?\Z")


@pytest.mark.parametrize("kind", KINDS)
# Generating from a regex is slow at times on a loaded machine: that is no failure here.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_published_pattern_and_the_model_agree(kind: str, data: st.DataObject) -> None:
    pattern = published_pattern(kind)
    allowed = data.draw(st.from_regex(pattern, fullmatch=True))
    assert taken(kind, allowed), allowed
    text = data.draw(NEAR)
    assert taken(kind, text) == bool(re.fullmatch(pattern, text)), text


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("AboveZeroDecimal", "0.000", False),
        ("AboveZeroDecimal", "0.0001", True),
        ("FormEQuantity", "0.000001", True),
        ("FormEQuantity", "0.0000001", False),
        ("FormEQuantity", "12345678901234.5", True),
        ("FormEQuantity", "123456789012345", False),
        ("Percent", "100.00", True),
        ("Percent", "100.01", False),
        ("PercentBetween", "99.99", True),
        ("PercentBetween", "100", False),
        ("AnyDecimal", "-0.5", True),
        ("NotNegativeDecimal", "-0.5", False),
    ],
)
def test_edges(kind: str, text: str, expected: bool) -> None:
    assert taken(kind, text) is expected
    assert bool(re.fullmatch(published_pattern(kind), text)) is expected
