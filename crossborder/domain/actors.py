"""Who did a thing: the one idea the audit trail, the services, the flows and the CLI share."""

from __future__ import annotations

from dataclasses import dataclass

from crossborder.domain.officers import Officer


@dataclass(frozen=True)
class Actor:
    """Who did it: a person (an officer) or a system (a node, a counterpart node).

    A registered officer is recorded with their id and role (:meth:`person`), so
    the trail names them in that role for good, whatever role they hold later.
    """

    kind: str
    id: str
    agency: str
    role: str

    @classmethod
    def system(cls, agency: str) -> Actor:
        return cls(kind="system", id=agency, agency=agency, role="node")

    @classmethod
    def officer(cls, user: str, agency: str) -> Actor:
        """A person known only by a name the node has not registered (a workstation login)."""
        return cls(kind="person", id=user, agency=agency, role="liaison_officer")

    @classmethod
    def person(cls, officer: Officer) -> Actor:
        """A registered officer, in the role they hold now."""
        return cls(kind="person", id=officer.id, agency=officer.agency, role=officer.role.value)
