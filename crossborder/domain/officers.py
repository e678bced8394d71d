"""The people who use a node: officers, their role, and what each role may do.

A node knows its officers by name — an id an officer types (``lan.nguyen``), their
full name as they write it, their agency and their role — so that the audit trail
names a person in a role, not whatever login the workstation had. What a role may
do is the table :data:`ROLE_PERMISSIONS`, in this one place; every command asks it
for one :class:`Permission`.

An officer is never deleted: removing one deactivates them, so the entries that
name them stay readable, and their id is never given to anyone else.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from crossborder.domain.agencies import AgencyCode
from crossborder.domain.errors import Conflict, Forbidden, InvalidInput
from crossborder.domain.validation import violations_from


class Role(StrEnum):
    """What an officer is at the node (``role.<value>`` in the catalogs)."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    OPERATOR = "operator"


class Permission(StrEnum):
    """One kind of thing a command does (``permission.<value>`` in the catalogs)."""

    #: A workflow step: share, amend or revoke a certificate, decide, raise or
    #: acknowledge an alert, answer a verification request…
    ACT = "act"
    #: Put a new version of the mutual-recognition rules in force.
    MANAGE_RULES = "manage_rules"
    #: Show and list cases, certificates, consignments, alerts, deadlines, officers.
    READ = "read"
    #: Verify, prove, export and checkpoint the audit trail.
    AUDIT = "audit"
    #: Register counterparts and their clients; resend from the outbox.
    CONNECT = "connect"
    #: Register, remove and change the role of officers.
    MANAGE_OFFICERS = "manage_officers"


_LIAISON = frozenset({Permission.ACT, Permission.READ})

#: What each role may do.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        # Officers carry the workflows with the counterpart, and read what they carry.
        Role.OFFICER: _LIAISON,
        # Recognition rules decide consignments with no one looking: whoever changes
        # them answers for every such decision, so it takes a supervisor.
        Role.SUPERVISOR: _LIAISON | {Permission.MANAGE_RULES},
        # An auditor checks the record and can change nothing in it, or their check
        # would prove nothing.
        Role.AUDITOR: frozenset({Permission.READ, Permission.AUDIT}),
        # An operator runs the node — which agencies it talks to, who may use it —
        # and reads to help the others, but takes no workflow step: granting oneself
        # a role must not be enough to act on a case.
        Role.OPERATOR: frozenset({Permission.CONNECT, Permission.MANAGE_OFFICERS, Permission.READ}),
    }
)

#: Login-like: what an officer types after ``--officer`` and what the trail names.
OFFICER_ID_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
OFFICER_ID_LENGTH = (2, 64)
FULL_NAME_MAX_LENGTH = 200
OS_LOGIN_MAX_LENGTH = 64


def _valid_id(text: str) -> bool:
    shortest, longest = OFFICER_ID_LENGTH
    # A first character that is a letter or a digit: ``-x`` would read as an option.
    return (
        shortest <= len(text) <= longest
        and set(text) <= OFFICER_ID_CHARACTERS
        and text[0].isalnum()
    )


class Officer(BaseModel):
    """A person registered at a node, in one role, for the node's own agency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Lowercase letters, digits, ``.``, ``-`` and ``_``; 2 to 64, starting with a
    #: letter or a digit.
    id: str
    #: As the officer writes it, in any script: ``Nguyễn Thị Lan``, ``李明``.
    full_name: str
    role: Role
    agency: AgencyCode
    active: bool = True
    #: The workstation login that stands for this officer when a command names no one.
    os_login: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _valid_id(value):
            raise PydanticCustomError("OFFICER_ID_INVALID", "not a valid officer id")
        return value

    @field_validator("full_name")
    @classmethod
    def _full_name(cls, value: str) -> str:
        # One spelling per name: a terminal may send Vietnamese decomposed (NFD).
        name = unicodedata.normalize("NFC", value.strip())
        control = any(unicodedata.category(char) == "Cc" for char in name)
        if not name or control or len(name) > FULL_NAME_MAX_LENGTH:
            raise PydanticCustomError("OFFICER_NAME_INVALID", "not a usable full name")
        return name

    @field_validator("os_login")
    @classmethod
    def _os_login(cls, value: str | None) -> str | None:
        if value is None:
            return None
        spaced = any(char.isspace() or unicodedata.category(char) == "Cc" for char in value)
        if not value or spaced or len(value) > OS_LOGIN_MAX_LENGTH:
            raise PydanticCustomError("OFFICER_LOGIN_INVALID", "not a usable login")
        return value

    def may(self, permission: Permission) -> bool:
        return self.active and permission in ROLE_PERMISSIONS[self.role]


def new_officer(**fields: Any) -> Officer:
    """An officer from what a person typed; every broken rule listed under ``OFFICER_INVALID``."""
    try:
        return Officer.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput("OFFICER_INVALID", violations=violations_from(exc)) from exc


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            "ROLE_UNKNOWN", role=text, roles=", ".join(role.value for role in Role)
        ) from None


def check_permitted(officer: Officer, permission: Permission) -> None:
    """The officer's role allows ``permission``."""
    if permission not in ROLE_PERMISSIONS[officer.role]:
        raise Forbidden(
            "ROLE_NOT_ALLOWED",
            officer=officer.id,
            role=officer.role.value,
            permission=permission.value,
        )


def check_belongs(officer: Officer, agency: str) -> None:
    """A node registers officers of its own agency only: it signs as that agency."""
    if officer.agency != agency:
        raise InvalidInput("OFFICER_AGENCY_FOREIGN", officer=officer.id, agency=officer.agency)


def check_first_officer(officer: Officer) -> None:
    """A node's first officer is an operator: the one who can then register the others."""
    if officer.role is not Role.OPERATOR:
        raise InvalidInput("FIRST_OFFICER_NOT_OPERATOR", role=officer.role.value)


def check_an_operator_remains(roster: Iterable[Officer], changed: Officer) -> None:
    """Some active operator is left once ``changed`` replaces its old self in ``roster``.

    Without one, no one could ever register, remove or change an officer again.
    """
    after = [changed if officer.id == changed.id else officer for officer in roster]
    if not any(officer.may(Permission.MANAGE_OFFICERS) for officer in after):
        raise Conflict("LAST_OPERATOR", officer=changed.id)


#: A console password's length, in characters (NIST SP 800-63B: at least 8, long
#: passphrases allowed; we ask for 12, as the node guards a whole agency's exchanges).
PASSWORD_LENGTH = (12, 1024)


def check_password_rules(password: str) -> None:
    """Long enough to resist guessing, short enough that hashing it costs no more than usual."""
    shortest, longest = PASSWORD_LENGTH
    if len(password) < shortest:
        raise InvalidInput("PASSWORD_TOO_SHORT", length=shortest)
    if len(password) > longest:
        raise InvalidInput("PASSWORD_TOO_LONG", length=longest)
