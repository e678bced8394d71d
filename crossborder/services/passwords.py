"""Hashing officers' console passwords: Argon2id, with a salt of its own per password.

Argon2id is the memory-hard hash RFC 9106 recommends; argon2-cffi keeps the
reference implementation and its defaults follow the RFC's second profile
(3 passes over 64 MiB, 4 lanes). The stored PHC string names its own
parameters, so a hash made with weaker ones is replaced at the next sign-in.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


@cache
def _stand_in() -> str:
    """A hash to check against when the officer has none: the answer then takes as long."""
    return _HASHER.hash("no password is set for this officer")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def matches(stored: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from; ``None`` never matches."""
    try:
        return _HASHER.verify(stored or _stand_in(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def outdated(stored: str) -> bool:
    """Made with weaker parameters than today's: hash the password again."""
    return _HASHER.check_needs_rehash(stored)
