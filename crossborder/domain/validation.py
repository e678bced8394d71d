"""Turning pydantic's validation errors into violations with stable codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from crossborder.domain.errors import InvalidInput, Violation

#: pydantic's own error types, mapped to our stable codes; our custom errors
#: (``PydanticCustomError("DECISION_REASON_MISSING", …)``) keep their own type as code.
_PYDANTIC_CODES = {
    "missing": "FIELD_MISSING",
    "extra_forbidden": "FIELD_UNKNOWN",
    "literal_error": "VALUE_NOT_ALLOWED",
    "enum": "VALUE_NOT_ALLOWED",
    "union_tag_invalid": "MESSAGE_TYPE_UNKNOWN",
    "union_tag_not_found": "MESSAGE_TYPE_MISSING",
    "string_pattern_mismatch": "VALUE_FORMAT_INVALID",
    "string_too_long": "VALUE_TOO_LONG",
    "string_too_short": "VALUE_TOO_SHORT",
    "too_long": "VALUE_TOO_LONG",
    "too_short": "VALUE_TOO_SHORT",
}


def _path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def violations_from(error: ValidationError, *, tagged_union: bool = False) -> list[Violation]:
    """The violations of ``error``; for a tagged union, paths start below the tag.

    pydantic puts the union's tag (``co.share``) first in every error location;
    a sender wants ``payload.certificate.items[0]``, not the tag in front of it.
    """
    violations = []
    for detail in error.errors(include_url=False, include_input=False):
        kind = detail["type"]
        code = kind if kind.isupper() else _PYDANTIC_CODES.get(kind, "VALUE_INVALID")
        location = tuple(detail["loc"])
        if tagged_union and kind not in ("union_tag_invalid", "union_tag_not_found"):
            location = location[1:]
        violations.append(Violation(code=code, field=_path(location)))
    return violations


@contextmanager
def schema_checked() -> Iterator[None]:
    """A validation error inside the block becomes ``SCHEMA_INVALID`` with its violations."""
    try:
        yield
    except ValidationError as exc:
        raise InvalidInput("SCHEMA_INVALID", violations=violations_from(exc)) from exc
