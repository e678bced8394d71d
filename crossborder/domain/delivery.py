"""Where a message stands in our outbox (sending) and inbox (receiving)."""

from enum import StrEnum


class OutboxStatus(StrEnum):
    #: Waiting for its first attempt, or for a retry after the counterpart was unreachable.
    PENDING = "pending"
    #: The counterpart's signed receipt is held.
    DELIVERED = "delivered"
    #: Refused for good (a 4xx with its reason): an officer may fix the cause and resend.
    FAILED = "failed"


class InboxStatus(StrEnum):
    #: Admitted and receipted; its reaction (if its type has one) is still to run.
    RECEIVED = "received"
    PROCESSED = "processed"
    #: The reaction was refused (an officer decided first, say); the message is kept.
    FAILED = "failed"
