"""The one parser of JSON nobody has vouched for: depth bounded, one value per member name.

Properties checked with generated JSON: whatever bytes arrive, the parser
answers a value or a stable code, never another exception; within the
depth bound it reads exactly what the standard library reads.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossborder.adapters.wire.untrusted_json import MAX_DEPTH, parse_untrusted
from crossborder.domain.errors import InvalidInput

CODES = {"JSON_MALFORMED", "JSON_TOO_DEEP", "JSON_DUPLICATE_MEMBER"}

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def code_of(data: bytes) -> str:
    with pytest.raises(InvalidInput) as refused:
        parse_untrusted(data)
    return refused.value.code


@settings(max_examples=300, derandomize=True)
@given(json_values)
def test_what_the_standard_library_reads_within_the_bound_is_read_the_same(value: Any) -> None:
    data = json.dumps(value).encode()
    if depth(value) <= MAX_DEPTH:
        assert parse_untrusted(data) == json.loads(data)
    else:
        assert code_of(data) == "JSON_TOO_DEEP"


@settings(max_examples=500, derandomize=True)
@given(st.binary(max_size=2000))
def test_any_bytes_get_a_value_or_a_stable_code(data: bytes) -> None:
    try:
        parse_untrusted(data)
    except InvalidInput as refused:
        assert refused.code in CODES


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet='[]{}":,\\ 1a', max_size=300))
def test_bracket_soup_gets_a_value_or_a_stable_code(text: str) -> None:
    try:
        parse_untrusted(text.encode())
    except InvalidInput as refused:
        assert refused.code in CODES


@pytest.mark.parametrize(
    "bomb",
    [
        b"[" * 5000 + b"]" * 5000,
        b"[" * 500_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"[{" * 20 + b"}]" * 20,
        b'{"message_id":' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
    ids=["arrays", "unclosed", "objects", "mixed", "in a member"],
)
def test_a_nesting_bomb_is_refused_without_recursion(bomb: bytes) -> None:
    assert code_of(bomb) in {"JSON_TOO_DEEP", "JSON_MALFORMED"}


def test_the_depth_bound_is_exact() -> None:
    assert parse_untrusted(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    assert code_of(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)) == "JSON_TOO_DEEP"


def test_brackets_inside_strings_do_not_count() -> None:
    text = '{"note": "' + "[{" * 1000 + '\\"]", "other": "\\\\"}'
    assert parse_untrusted(text.encode())["other"] == "\\"


@pytest.mark.parametrize(
    "data",
    [b'{"sender": "CN-NNCUS", "sender": "CN-DXCUS"}', b'[{"a": {"b": 1, "b": 1}}]'],
)
def test_a_member_named_twice_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_untrusted(data)
    assert refused.value.code == "JSON_DUPLICATE_MEMBER"
    assert refused.value.params["member"] in {"sender", "b"}


def test_a_repeated_name_that_cannot_be_shown_is_shown_replaced() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_untrusted(b'{"\\u0000\\ud800": 1, "\\u0000\\ud800": 2}')
    assert refused.value.params["member"] == "\ufffd\ufffd"
