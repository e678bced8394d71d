"""How one delivery attempt ended: the one word the outbound adapter and the outbox share.

A module of its own so that recording an outcome (the outbox, an officer's
command) does not load the HTTP client that produced it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class DeliveryOutcome:
    kind: Literal["delivered", "retry", "final"]
    #: The counterpart's signed receipt (``delivered``), else why it failed.
    receipt: bytes | None = None
    error: str = ""
    #: What the counterpart said when it did not take the message (``status``, ``code``,
    #: ``message``, ``details``), or our own call's error (``code``, ``params``); JSON.
    answer: dict[str, Any] | None = None
