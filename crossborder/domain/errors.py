"""Errors with stable codes.

Every failure a user or a counterpart can see is a :class:`CrossborderError`
with a stable ``code`` (``SIGNATURE_INVALID``, ``FORM_E_HS_CODE_UNKNOWN``…).
The code is the contract; the text is rendered in the reader's language from
the catalogs in ``locales/`` under the msgid ``error.<CODE>``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One broken rule: its stable code, where it was found, and its parameters."""

    code: str
    field: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


class CrossborderError(Exception):
    """A failure with a stable code, safe to show to a person or a counterpart."""

    #: HTTP-neutral kind, mapped to a status code by the API layer.
    kind: str = "invalid"

    def __init__(
        self,
        code: str,
        /,
        *,
        violations: list[Violation] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.params = params
        self.violations = violations or []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.params!r})"


class InvalidInput(CrossborderError):
    """The input breaks the contract or a business rule (HTTP 422)."""

    kind = "invalid"


class NotFound(CrossborderError):
    kind = "not_found"


class Conflict(CrossborderError):
    """The input contradicts what is already recorded (HTTP 409)."""

    kind = "conflict"


class Unauthorized(CrossborderError):
    """Missing or bad credentials (HTTP 401)."""

    kind = "unauthorized"


class Forbidden(CrossborderError):
    """Valid credentials, but not for this (HTTP 403)."""

    kind = "forbidden"


class RateLimited(CrossborderError):
    """Too many requests from one caller: try again in ``retry_after`` seconds (HTTP 429)."""

    kind = "rate_limited"


class ConfigurationError(CrossborderError):
    """The node's own settings, database, keys or port are wrong: an operator fixes them."""

    kind = "configuration"
