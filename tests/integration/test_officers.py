"""A node's officers, on SQLite and PostgreSQL: who may act, and what the audit trail says.

The first officer of a node is an operator who registers themselves; from then on
an operator registers, removes and re-roles the others, and every command acts for
one registered officer whose role allows it. Every refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import AuditEntry, OfficerRow
from crossborder.audit.render import render
from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError
from crossborder.domain.officers import ROLE_PERMISSIONS, Officer, Permission, Role, new_officer
from crossborder.services.audit_log import verify_log
from crossborder.services.node import Node
from crossborder.services.officers import (
    acting_officer,
    add_officer,
    change_role,
    deactivate_officer,
    list_officers,
)
from tests.conftest import Clock
from tests.factories import make_node, register_staff


@pytest.fixture
def node(make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node("vn", make_db_url("vn"), tmp_path, clock)
    yield node
    node.close()


def someone(node: Node, officer_id: str, role: Role, **changes: Any) -> Officer:
    fields = {"full_name": "Nguyễn Thị Lan", "agency": node.agency, **changes}
    return new_officer(id=officer_id, role=role, **fields)


def counts(node: Node) -> tuple[int, int]:
    """Officers and audit entries: what a refusal must leave as it was."""
    with node.sessions() as session:
        officers = session.scalar(select(func.count()).select_from(OfficerRow))
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    return int(officers or 0), int(entries or 0)


def trail(node: Node, locale: str) -> list[tuple[str, str]]:
    with node.sessions() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    shown = [render(entry, locale, node.timezone) for entry in entries]
    return [(entry.actor, entry.text) for entry in shown]


def refused(action: Callable[[], object], node: Node) -> CrossborderError:
    """Run an action that must be refused, and check that it changed nothing."""
    before = counts(node)
    with pytest.raises(CrossborderError) as error:
        action()
    assert counts(node) == before
    return error.value


# --- the first officer ---


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR])
def test_a_node_with_no_officer_starts_with_an_operator(node: Node, role: Role) -> None:
    error = refused(lambda: add_officer(node, someone(node, "lan", role), by=None), node)
    assert error.code == "FIRST_OFFICER_NOT_OPERATOR"
    assert counts(node) == (0, 0)

    add_officer(node, someone(node, "hung", Role.OPERATOR, full_name="Trần Văn Hùng"), by=None)
    assert trail(node, "en") == [
        (
            "hung, operator (Regional Customs Branch VI)",
            "First officer of this node registered: hung (Trần Văn Hùng), operator.",
        )
    ]


def test_after_the_first_an_operator_must_name_themselves(node: Node) -> None:
    add_officer(node, someone(node, "hung", Role.OPERATOR), by=None)
    second = someone(node, "lan", Role.OPERATOR)
    # No one named, and no officer registered with this workstation's login.
    assert refused(lambda: add_officer(node, second, by=None), node).code == "OFFICER_UNKNOWN"
    assert refused(lambda: add_officer(node, second, by="nobody"), node).code == "OFFICER_UNKNOWN"
    add_officer(node, second, by="hung")
    assert [officer.id for officer in list_officers(node, by="lan")] == ["hung", "lan"]


# --- what each role may do ---


@pytest.mark.parametrize("role", list(Role))
def test_each_role_acts_only_within_its_permissions(node: Node, role: Role) -> None:
    staff = register_staff(node)
    for permission in Permission:
        if permission in ROLE_PERMISSIONS[role]:
            actor = acting_officer(node, permission, staff[role])
            assert actor == Actor("person", staff[role], node.agency, role.value)
        else:
            error = refused(lambda p=permission: acting_officer(node, p, staff[role]), node)
            assert (error.code, error.params) == (
                "ROLE_NOT_ALLOWED",
                {"officer": staff[role], "role": role.value, "permission": permission.value},
            )


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR])
def test_only_an_operator_changes_the_officers(node: Node, role: Role) -> None:
    staff = register_staff(node)
    by = staff[role]
    attempts = [
        lambda: add_officer(node, someone(node, "new.one", Role.OFFICER), by=by),
        lambda: deactivate_officer(node, staff[Role.OFFICER], by=by),
        lambda: change_role(node, staff[Role.OFFICER], Role.SUPERVISOR, by=by),
    ]
    for attempt in attempts:
        assert refused(attempt, node).code == "ROLE_NOT_ALLOWED"


def test_the_workstation_login_stands_for_its_officer(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = register_staff(node, login="lnguyen")
    monkeypatch.setenv("LOGNAME", "lnguyen")
    assert acting_officer(node, Permission.ACT).id == staff[Role.OFFICER]
    # A name given wins over the login.
    assert acting_officer(node, Permission.AUDIT, staff[Role.AUDITOR]).role == "auditor"
    monkeypatch.setenv("LOGNAME", "root")
    error = refused(lambda: acting_officer(node, Permission.READ), node)
    assert (error.code, error.params) == ("OFFICER_UNKNOWN", {"name": "root"})


def test_one_login_stands_for_one_active_officer(node: Node) -> None:
    staff = register_staff(node, login="lnguyen")
    twin = someone(node, "lan.twin", Role.OFFICER, os_login="lnguyen")
    error = refused(lambda: add_officer(node, twin, by=staff[Role.OPERATOR]), node)
    assert (error.code, error.params) == (
        "OFFICER_LOGIN_TAKEN",
        {"login": "lnguyen", "officer": "officer"},
    )
    # Once its officer is removed, the login may stand for someone else.
    deactivate_officer(node, staff[Role.OFFICER], by=staff[Role.OPERATOR])
    add_officer(node, twin, by=staff[Role.OPERATOR])


# --- removing, and changing roles ---


def test_a_removed_officer_can_no_longer_act_and_keeps_their_id(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = register_staff(node, login="lnguyen")
    operator = staff[Role.OPERATOR]
    removed = deactivate_officer(node, staff[Role.OFFICER], by=operator)
    assert not removed.active

    error = refused(lambda: acting_officer(node, Permission.ACT, staff[Role.OFFICER]), node)
    assert (error.code, error.params) == ("OFFICER_UNKNOWN", {"name": "officer"})
    monkeypatch.setenv("LOGNAME", "lnguyen")
    assert refused(lambda: acting_officer(node, Permission.READ), node).code == "OFFICER_UNKNOWN"
    # Their id is never given to anyone else, and they cannot be changed any more.
    again = someone(node, staff[Role.OFFICER], Role.OFFICER)
    assert refused(lambda: add_officer(node, again, by=operator), node).code == "OFFICER_EXISTS"
    for attempt in (
        lambda: deactivate_officer(node, staff[Role.OFFICER], by=operator),
        lambda: change_role(node, staff[Role.OFFICER], Role.AUDITOR, by=operator),
    ):
        assert refused(attempt, node).code == "OFFICER_INACTIVE"
    # Still listed, and still named in the trail.
    listed = {officer.id: officer.active for officer in list_officers(node, by=operator)}
    assert listed == {"auditor": True, "officer": False, "operator": True, "supervisor": True}
    assert (
        "operator, người vận hành (Chi cục Hải quan khu vực VI)",
        "Đã hủy đăng ký cán bộ officer (Nguyễn Thị Lan, cán bộ nghiệp vụ): "
        "cán bộ này không còn thao tác được tại nút này.",
    ) in trail(node, "vi")


def test_the_last_operator_stays(node: Node) -> None:
    staff = register_staff(node)
    operator = staff[Role.OPERATOR]
    for attempt in (
        lambda: deactivate_officer(node, operator, by=operator),
        lambda: change_role(node, operator, Role.OFFICER, by=operator),
    ):
        error = refused(attempt, node)
        assert (error.code, error.params) == ("LAST_OPERATOR", {"officer": operator})
    add_officer(node, someone(node, "second.op", Role.OPERATOR), by=operator)
    deactivate_officer(node, operator, by=operator)
    assert acting_officer(node, Permission.MANAGE_OFFICERS, "second.op").id == "second.op"


def test_unknown_or_unchanged_targets_are_refused(node: Node) -> None:
    staff = register_staff(node)
    operator = staff[Role.OPERATOR]
    for attempt, code in (
        (lambda: deactivate_officer(node, "nobody", by=operator), "OFFICER_NOT_FOUND"),
        (lambda: change_role(node, "nobody", Role.AUDITOR, by=operator), "OFFICER_NOT_FOUND"),
        (lambda: change_role(node, "auditor", Role.AUDITOR, by=operator), "ROLE_UNCHANGED"),
    ):
        assert refused(attempt, node).code == code


def test_officers_of_another_agency_are_not_registered(node: Node) -> None:
    staff = register_staff(node)
    foreign = someone(node, "li.ming", Role.OFFICER, agency="CN-NNCUS")
    error = refused(lambda: add_officer(node, foreign, by=staff[Role.OPERATOR]), node)
    assert (error.code, error.params) == (
        "OFFICER_AGENCY_FOREIGN",
        {"officer": "li.ming", "agency": "CN-NNCUS"},
    )


def test_entries_keep_the_role_their_officer_acted_in(node: Node) -> None:
    register_staff(node)
    add_officer(node, someone(node, "second.op", Role.OPERATOR), by="operator")
    add_officer(node, someone(node, "li.ming", Role.OFFICER, full_name="李明"), by="operator")
    change_role(node, "operator", Role.AUDITOR, by="second.op")

    shown = trail(node, "zh_Hans")
    added = ("越南第六区域海关分局运维人员operator", "已登记人员li.ming（李明），角色为经办人员。")
    assert added in shown
    assert shown[-1] == (
        "越南第六区域海关分局运维人员second.op",
        "人员operator（Trần Văn Hùng）的角色由运维人员变更为审计人员。",
    )
    assert acting_officer(node, Permission.AUDIT, "operator").role == "auditor"
    assert verify_log(node).ok


# --- the trail, in each language ---


@pytest.mark.parametrize(
    ("locale", "actor", "text"),
    [
        (
            "en",
            "operator, operator (Regional Customs Branch VI)",
            "Officer supervisor (Lê Minh Đức) registered as supervisor.",
        ),
        (
            "vi",
            "operator, người vận hành (Chi cục Hải quan khu vực VI)",
            "Đã đăng ký cán bộ supervisor (Lê Minh Đức) với vai trò cán bộ phụ trách.",
        ),
        (
            "zh_Hans",
            "越南第六区域海关分局运维人员operator",
            "已登记人员supervisor（Lê Minh Đức），角色为业务主管。",
        ),
    ],
)
def test_the_trail_names_the_officer_and_their_role(
    node: Node, locale: str, actor: str, text: str
) -> None:
    register_staff(node)
    assert (actor, text) in trail(node, locale)


def test_an_officer_acting_is_named_in_their_role(node: Node) -> None:
    staff = register_staff(node)
    actor = acting_officer(node, Permission.ACT, staff[Role.SUPERVISOR])
    with node.transaction() as session:
        record(
            session,
            "registry.client_added",
            actor=actor,
            occurred_at=node.now(),
            source_tz=node.timezone,
            client_id="CN-NNCUS",
            agency="CN-NNCUS",
            scopes="co:write",
        )
    actors = {locale: trail(node, locale)[-1][0] for locale in ("en", "vi", "zh_Hans")}
    assert actors == {
        "en": "supervisor, supervisor (Regional Customs Branch VI)",
        "vi": "supervisor, cán bộ phụ trách (Chi cục Hải quan khu vực VI)",
        "zh_Hans": "越南第六区域海关分局业务主管supervisor",
    }


def test_a_login_the_node_never_registered_is_still_shown_as_before(node: Node) -> None:
    with node.transaction() as session:
        record(
            session,
            "registry.client_added",
            actor=Actor.officer("root", node.agency),
            occurred_at=node.now(),
            source_tz=node.timezone,
            client_id="CN-NNCUS",
            agency="CN-NNCUS",
            scopes="co:write",
        )
    assert trail(node, "vi")[0][0] == "Cán bộ root (Chi cục Hải quan khu vực VI)"
