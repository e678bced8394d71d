"""OAuth 2.0 between nodes, on a FAPI 2.0-style machine-to-machine profile.

Each node runs its own authorization server (:mod:`.authorization_server`) and
resource server (:mod:`.resource_server`); a counterpart node is a client of
both and authenticates with ``private_key_jwt`` (:mod:`.client_auth`). This
package holds the vocabulary the three share: the clock they read and the
clients a node has registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

#: RFC 7523 §2.2: the ``client_assertion_type`` of a ``private_key_jwt`` token request.
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The explicit ``typ`` of a client assertion (draft-ietf-oauth-rfc7523bis), so that no
#: other JWT a client signed (a message, an ID token) can be passed off as one.
CLIENT_ASSERTION_JWT_TYPE = "client-authentication+jwt"
#: FAPI 2.0: a client assertion is valid for one minute at most.
MAX_ASSERTION_LIFETIME = timedelta(seconds=60)
#: Tolerated difference between two nodes' clocks.
CLOCK_SKEW = timedelta(seconds=60)

#: Returns the current instant as an aware UTC datetime. Tests pass a controllable one,
#: so token lifetimes and replay windows are checked without sleeping.
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RegisteredClient:
    """A counterpart agency allowed to ask this node's authorization server for tokens."""

    client_id: str
    agency: str
    #: The client's public JWKS (JSON), against which its client assertions are verified.
    jwks: dict[str, Any]
    #: Everything this client may ever be granted; a token carries a subset.
    scopes: frozenset[str]
    #: Whether it may get a bearer token, without a DPoP proof (a counterpart whose
    #: software cannot do DPoP yet). Off unless an operator allows it for this client.
    bearer_allowed: bool = False


class ClientRegistry(Protocol):
    def get_client(self, client_id: str) -> RegisteredClient | None: ...


def numeric_date(value: object) -> datetime | None:
    """A JWT NumericDate (RFC 7519 §2) as a UTC instant; ``None`` if it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError):  # NaN, infinity, beyond year 9999
        return None
