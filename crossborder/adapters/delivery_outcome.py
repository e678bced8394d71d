"""How one delivery attempt ended: the one word the outbound adapter and the outbox share.

A module of its own so that recording an outcome (the outbox, an officer's
command) does not load the HTTP client that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

#: How an error that never reached the counterpart's answer begins: ``NETWORK:ReadTimeout``.
NETWORK = "NETWORK:"


@dataclass(frozen=True)
class DeliveryOutcome:
    kind: Literal["delivered", "retry", "final"]
    #: The counterpart's signed receipt (``delivered``), else why it failed.
    receipt: bytes | None = None
    error: str = ""
    #: What the counterpart said when it did not take the message (``status``, ``code``,
    #: ``message``, ``details``), or our own call's error (``code``, ``params``); JSON.
    answer: dict[str, Any] | None = None
    #: A retry of a refusal that may heal by itself — a 401 even with a fresh token
    #: (clocks apart, our new key not yet fetched there), a receipt signed by a key
    #: we cannot find yet — is limited to ``delivery_max_attempts`` in all, then
    #: final: unlike a counterpart that is down, it may never heal.
    limited: bool = False

    @property
    def unreachable(self) -> bool:
        """The counterpart did not answer at all (refused, reset, timed out)."""
        return self.kind == "retry" and self.error.startswith(NETWORK)
