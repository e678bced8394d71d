"""The life of a certificate of origin and of a verification, as state machines.

A certificate is shared (issuing side) or received (importing side), then
accepted, queried or rejected; the issuer may amend it (a new version replaces
the old, which becomes superseded) or revoke it, after which nothing else may
happen to it. A verification (retroactive check) is requested, then replied to
or overdue, then closed. Each refused transition has its own stable code.
"""

from __future__ import annotations

from enum import StrEnum

from crossborder.domain.errors import Conflict


class CertificateStatus(StrEnum):
    SHARED = "shared"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    QUERIED = "queried"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class VerificationStatus(StrEnum):
    REQUESTED = "requested"
    REPLIED = "replied"
    OVERDUE = "overdue"
    CLOSED = "closed"


#: A decision is taken on a certificate waiting for one (or queried, then clarified).
DECIDABLE = frozenset({CertificateStatus.RECEIVED, CertificateStatus.QUERIED})
#: A verification still waiting for the issuing side's answer.
AWAITING_REPLY = frozenset({VerificationStatus.REQUESTED, VerificationStatus.OVERDUE})


def check_decidable(status: str) -> None:
    if status == CertificateStatus.REVOKED:
        raise Conflict("CERTIFICATE_REVOKED")
    if status not in DECIDABLE:
        raise Conflict("CERTIFICATE_ALREADY_DECIDED", status=status)


def check_amendable(status: str) -> None:
    if status == CertificateStatus.REVOKED:
        raise Conflict("CERTIFICATE_REVOKED")


def check_revocable(status: str) -> None:
    if status == CertificateStatus.REVOKED:
        raise Conflict("CERTIFICATE_ALREADY_REVOKED")


def check_awaiting_reply(status: str | None) -> None:
    if status is None:
        raise Conflict("VERIFICATION_UNKNOWN")
    if status not in AWAITING_REPLY:
        raise Conflict("VERIFICATION_CLOSED", status=status)
