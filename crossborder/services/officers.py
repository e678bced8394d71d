"""A node's officers: registering them, and knowing who is at the keyboard.

Every command acts for one officer, found by :func:`acting_officer`: the one it
names (``--officer`` or ``CROSSBORDER_OFFICER``), else the one whose registered
workstation login is the current user's. An unknown or removed officer, or one
whose role does not allow the command, is refused before anything changes.

Changing who the officers are takes an officer whose role may manage officers
(an operator), checked in the same transaction as the change. The one exception
is the very first officer of a node with none: anyone at the node may register
them, and they must be an operator, so that from then on an operator registers
the others (``crossborder officer add ID --name NAME --role operator``).
"""

from __future__ import annotations

import getpass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import AuditHead, OfficerRow
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import Conflict, NotFound, Unauthorized
from crossborder.domain.officers import (
    Officer,
    Permission,
    Role,
    check_an_operator_remains,
    check_belongs,
    check_first_officer,
    check_password_rules,
    check_permitted,
)
from crossborder.services import passwords
from crossborder.services.node import Node

#: How much of a mistyped officer id a failed sign-in records: ids are at most 64.
TYPED_ID_KEPT = 64


def acting_officer(node: Node, permission: Permission, name: str | None = None) -> Actor:
    """The officer at the keyboard, as the audit trail will name them, if they may do this.

    ``name`` is an officer id (``--officer``); ``None`` looks the officer up by the
    workstation login. Raises ``OFFICER_UNKNOWN`` (no such active officer here) or
    ``ROLE_NOT_ALLOWED`` (their role does not allow ``permission``).
    """
    with node.sessions() as session:
        return Actor.person(_acting(session, node, permission, name))


def officer_of(node: Node, officer_id: str) -> Officer:
    """The active officer of this id (the console's signed-in officer); ``OFFICER_UNKNOWN`` else."""
    with node.sessions() as session:
        row = _on_duty(session, node, officer_id)
        if row is None:
            raise Unauthorized("OFFICER_UNKNOWN", name=officer_id)
        return _model(row)


def add_officer(node: Node, officer: Officer, *, by: str | None) -> Officer:
    """Register ``officer``; ``by`` names the operator doing it (see :func:`acting_officer`).

    On a node with no officer at all, no one needs to be named and ``officer``
    must be an operator: it is recorded as registering itself. A registered
    officer is active, whatever ``officer.active`` says.
    """
    check_belongs(officer, node.agency)
    now = node.now()
    with node.transaction() as session:
        _hold_roster(session)
        first = session.scalar(select(func.count()).select_from(OfficerRow)) == 0
        if first:
            check_first_officer(officer)
            actor = Actor.person(officer)
        else:
            actor = Actor.person(_acting(session, node, Permission.MANAGE_OFFICERS, by))
        if session.get(OfficerRow, officer.id) is not None:
            # Even a removed officer's id: the trail names them by it.
            raise Conflict("OFFICER_EXISTS", officer=officer.id)
        if officer.os_login is not None:
            _check_login_free(session, node, officer.os_login)
        session.add(
            OfficerRow(
                id=officer.id,
                full_name=officer.full_name,
                role=officer.role.value,
                agency=officer.agency,
                active=True,
                os_login=officer.os_login,
                added_at=now,
            )
        )
        facts = {
            "officer": officer.id,
            "full_name": officer.full_name,
            "role": officer.role.value,
            "os_login": officer.os_login,
        }
        if first:
            _audit(session, node, "officer.added_first", actor, now, **facts)
        else:
            _audit(session, node, "officer.added", actor, now, **facts)
    return officer.model_copy(update={"active": True})


def list_officers(node: Node, *, by: str | None) -> list[Officer]:
    """Every officer of this node, removed ones included (the trail still names them)."""
    with node.sessions() as session:
        _acting(session, node, Permission.READ, by)
        return [_model(row) for row in _roster(session, node)]


def deactivate_officer(node: Node, officer_id: str, *, by: str | None) -> Officer:
    """Remove an officer: they can no longer act, and the trail keeps naming them."""
    now = node.now()
    with node.transaction() as session:
        _hold_roster(session)
        acting = _acting(session, node, Permission.MANAGE_OFFICERS, by)
        row = _active_row(session, node, officer_id)
        removed = _model(row).model_copy(update={"active": False})
        check_an_operator_remains(map(_model, _roster(session, node)), removed)
        row.active = False
        row.deactivated_at = now
        _audit(
            session,
            node,
            "officer.removed",
            Actor.person(acting),
            now,
            officer=row.id,
            full_name=row.full_name,
            role=row.role,
        )
    return removed


def change_role(node: Node, officer_id: str, role: Role, *, by: str | None) -> Officer:
    """Give an officer another role; entries already recorded keep the role they acted in."""
    now = node.now()
    with node.transaction() as session:
        _hold_roster(session)
        acting = _acting(session, node, Permission.MANAGE_OFFICERS, by)
        row = _active_row(session, node, officer_id)
        if row.role == role.value:
            raise Conflict("ROLE_UNCHANGED", officer=officer_id, role=role.value)
        changed = _model(row).model_copy(update={"role": role})
        check_an_operator_remains(map(_model, _roster(session, node)), changed)
        previous_role, row.role = row.role, role.value
        _audit(
            session,
            node,
            "officer.role_changed",
            Actor.person(acting),
            now,
            officer=row.id,
            full_name=row.full_name,
            previous_role=previous_role,
            role=role.value,
        )
    return changed


def set_password(node: Node, officer_id: str, password: str, *, by: str | None) -> None:
    """Give an officer a console password: their own, or anyone's if ``by`` is an operator.

    Only its hash is kept, and the audit entry says that it changed, not what it is.
    """
    check_password_rules(password)
    digest = passwords.hash_password(password)
    now = node.now()
    with node.transaction() as session:
        acting = _acting(session, node, Permission.READ, by)
        if acting.id != officer_id:
            check_permitted(acting, Permission.MANAGE_OFFICERS)
        row = _active_row(session, node, officer_id)
        row.password_hash = digest
        _audit(
            session,
            node,
            "officer.password_set",
            Actor.person(acting),
            now,
            officer=row.id,
            full_name=row.full_name,
        )


def sign_in(node: Node, officer_id: str, password: str, *, address: str) -> Officer:
    """The active officer whose console password this is; ``SIGN_IN_FAILED`` otherwise.

    Every outcome is audited with the address it came from. An unknown id, a
    removed officer, one with no password and a wrong password are one refusal,
    answered in the same time: the answer tells a guesser nothing.
    """
    with node.sessions() as session:
        row = _on_duty(session, node, officer_id)
        stored = row.password_hash if row is not None else None
        officer = _model(row) if row is not None else None
    now = node.now()
    if officer is None or not passwords.matches(stored, password):
        with node.transaction() as session:
            typed = officer_id[:TYPED_ID_KEPT]
            system = Actor.system(node.agency)
            _audit(
                session, node, "officer.sign_in_failed", system, now, officer=typed, address=address
            )
        raise Unauthorized("SIGN_IN_FAILED")
    with node.transaction() as session:
        if stored is not None and passwords.outdated(stored):
            row = session.get(OfficerRow, officer.id)
            if row is not None:
                row.password_hash = passwords.hash_password(password)
        person = Actor.person(officer)
        _audit(session, node, "officer.signed_in", person, now, officer=officer.id, address=address)
    return officer


def sign_in_by_provider(
    node: Node, officer_id: str, *, issuer: str, subject: str, address: str
) -> Officer:
    """The active officer the agency's OpenID provider signed in; ``OIDC_OFFICER_UNKNOWN`` else.

    The provider says who the person is; only this node's roster says they are
    one of its officers. Both outcomes are audited with the provider's subject.
    """
    with node.sessions() as session:
        row = _on_duty(session, node, officer_id) if officer_id else None
        officer = _model(row) if row is not None else None
    now, typed, who = node.now(), officer_id[:TYPED_ID_KEPT], subject[:TYPED_ID_KEPT]
    with node.transaction() as session:
        if officer is None:
            _audit(
                session,
                node,
                "officer.provider_sign_in_refused",
                Actor.system(node.agency),
                now,
                officer=typed,
                issuer=issuer,
                subject=who,
                address=address,
            )
        else:
            _audit(
                session,
                node,
                "officer.signed_in_by_provider",
                Actor.person(officer),
                now,
                officer=typed,
                issuer=issuer,
                subject=who,
                address=address,
            )
    if officer is None:
        raise Unauthorized("OIDC_OFFICER_UNKNOWN", name=officer_id[:TYPED_ID_KEPT])
    return officer


def _on_duty(session: Session, node: Node, officer_id: str) -> OfficerRow | None:
    """The row of an active officer of this node by that id; none for any other id."""
    row = session.get(OfficerRow, officer_id)
    if row is None or not row.active or row.agency != node.agency:
        return None
    return row


def _audit(
    session: Session, node: Node, event: str, actor: Actor, at: datetime, **params: Any
) -> None:
    """One roster or sign-in step on the trail, on the node's clock and in its zone."""
    record(session, event, actor=actor, occurred_at=at, source_tz=node.timezone, **params)


def _hold_roster(session: Session) -> None:
    """Keep other changes to the roster out until this transaction ends.

    Whether the node has no officer yet, or would be left without an operator,
    must not change between the check and the commit. Every such change is
    audited, and appending to the trail locks its head row at commit anyway;
    taking that lock first makes the changes to the roster wait for one another.
    """
    session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()


def _roster(session: Session, node: Node) -> list[OfficerRow]:
    query = select(OfficerRow).where(OfficerRow.agency == node.agency).order_by(OfficerRow.id)
    return list(session.scalars(query))


def _active_row(session: Session, node: Node, officer_id: str) -> OfficerRow:
    row = session.get(OfficerRow, officer_id)
    if row is None or row.agency != node.agency:
        raise NotFound("OFFICER_NOT_FOUND", officer=officer_id)
    if not row.active:
        raise Conflict("OFFICER_INACTIVE", officer=officer_id)
    return row


def _check_login_free(session: Session, node: Node, login: str) -> None:
    """One workstation login stands for one active officer, or no one could tell who acted."""
    holder = session.scalars(
        select(OfficerRow.id).where(
            OfficerRow.os_login == login, OfficerRow.active, OfficerRow.agency == node.agency
        )
    ).first()
    if holder is not None:
        raise Conflict("OFFICER_LOGIN_TAKEN", login=login, officer=holder)


def _workstation_login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        # No login variable and no password entry for this process (a bare container).
        return ""


def _acting(session: Session, node: Node, permission: Permission, name: str | None) -> Officer:
    if name is None:
        login = _workstation_login()
        row = session.scalars(
            select(OfficerRow).where(
                OfficerRow.os_login == login, OfficerRow.active, OfficerRow.agency == node.agency
            )
        ).first()
        shown = login or "-"
    else:
        row, shown = _on_duty(session, node, name), name
    if row is None:
        raise Unauthorized("OFFICER_UNKNOWN", name=shown)
    officer = _model(row)
    check_permitted(officer, permission)
    return officer


def _model(row: OfficerRow) -> Officer:
    return Officer(
        id=row.id,
        full_name=row.full_name,
        role=Role(row.role),
        agency=row.agency,
        active=row.active,
        os_login=row.os_login,
    )
