"""Officers and roles as the domain sees them: ids, names, and what each role may do."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from crossborder.domain.errors import Conflict, CrossborderError, Forbidden, InvalidInput
from crossborder.domain.officers import (
    ROLE_PERMISSIONS,
    Officer,
    Permission,
    Role,
    check_an_operator_remains,
    check_belongs,
    check_first_officer,
    check_permitted,
    new_officer,
    parse_role,
)

#: The table written out again: changing what a role may do must change this too.
ALLOWED = {
    Role.OFFICER: {Permission.ACT, Permission.READ},
    Role.SUPERVISOR: {Permission.ACT, Permission.READ, Permission.MANAGE_RULES},
    Role.AUDITOR: {Permission.READ, Permission.AUDIT},
    Role.OPERATOR: {Permission.CONNECT, Permission.MANAGE_OFFICERS, Permission.READ},
}


def officer(**changes: Any) -> Officer:
    fields = {
        "id": "lan.nguyen",
        "full_name": "Nguyễn Thị Lan",
        "role": Role.OFFICER,
        "agency": "VN-CUSKV6",
        **changes,
    }
    return new_officer(**fields)


def violation_codes(error: CrossborderError) -> list[tuple[str, str]]:
    return [(violation.code, violation.field) for violation in error.violations]


@pytest.mark.parametrize(
    "officer_id", ["lan.nguyen", "li_ming", "op-1", "ab", "9to5", "a" * 64, "tran.van.hung-2"]
)
def test_login_like_ids_are_accepted(officer_id: str) -> None:
    assert officer(id=officer_id).id == officer_id


@pytest.mark.parametrize(
    "officer_id",
    [
        "a",  # too short
        "a" * 65,  # too long
        "",
        "Lan.Nguyen",  # uppercase
        "lan nguyen",
        "-lan",  # would read as an option
        ".lan",
        "_lan",
        "lân",  # not ASCII
        "李明",
        "lan/nguyen",
        "lan@vn",
    ],
)
def test_other_ids_are_refused_with_their_code(officer_id: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        officer(id=officer_id)
    assert refused.value.code == "OFFICER_INVALID"
    assert violation_codes(refused.value) == [("OFFICER_ID_INVALID", "id")]


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("Nguyễn Thị Lan", "Nguyễn Thị Lan"),
        ("李明", "李明"),
        ("  Lê Minh Đức ", "Lê Minh Đức"),
        # Decomposed, as some terminals send Vietnamese: one spelling is kept.
        (unicodedata.normalize("NFD", "Phạm Thu Hà"), "Phạm Thu Hà"),
        ("O'Brien [liaison]", "O'Brien [liaison]"),
    ],
)
def test_full_names_are_kept_as_written_in_one_normal_form(written: str, kept: str) -> None:
    name = officer(full_name=written).full_name
    assert name == kept
    assert unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize("full_name", ["", "   ", "Lan\x00", "Lan\nNguyễn", "x" * 201])
def test_unusable_names_are_refused(full_name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        officer(full_name=full_name)
    assert violation_codes(refused.value) == [("OFFICER_NAME_INVALID", "full_name")]


@pytest.mark.parametrize("login", ["", "lan nguyen", "lan\t", "x" * 65])
def test_unusable_logins_are_refused(login: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        officer(os_login=login)
    assert violation_codes(refused.value) == [("OFFICER_LOGIN_INVALID", "os_login")]


def test_every_broken_rule_is_listed_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        officer(id="X", full_name="", agency="customs")
    assert violation_codes(refused.value) == [
        ("OFFICER_ID_INVALID", "id"),
        ("OFFICER_NAME_INVALID", "full_name"),
        ("VALUE_FORMAT_INVALID", "agency"),
    ]


@pytest.mark.parametrize(
    ("typed", "role"),
    [("officer", Role.OFFICER), ("Supervisor", Role.SUPERVISOR), (" auditor ", Role.AUDITOR)],
)
def test_roles_are_read_as_typed(typed: str, role: Role) -> None:
    assert parse_role(typed) is role


def test_an_unknown_role_names_the_roles_there_are() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_role("admin")
    assert refused.value.code == "ROLE_UNKNOWN"
    assert refused.value.params == {
        "role": "admin",
        "roles": "officer, supervisor, auditor, operator",
    }


def test_the_table_covers_every_role_with_known_permissions() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert {role: set(permissions) for role, permissions in ROLE_PERMISSIONS.items()} == ALLOWED


@pytest.mark.parametrize("permission", list(Permission))
@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_allowed_or_refused_each_permission(
    role: Role, permission: Permission
) -> None:
    someone = officer(role=role)
    if permission in ALLOWED[role]:
        check_permitted(someone, permission)
        assert someone.may(permission)
        return
    assert not someone.may(permission)
    with pytest.raises(Forbidden) as refused:
        check_permitted(someone, permission)
    assert refused.value.code == "ROLE_NOT_ALLOWED"
    assert refused.value.params == {
        "officer": "lan.nguyen",
        "role": role.value,
        "permission": permission.value,
    }


def test_a_removed_officer_may_do_nothing() -> None:
    removed = officer(role=Role.OPERATOR, active=False)
    assert not any(removed.may(permission) for permission in Permission)


def test_only_officers_of_the_nodes_agency_are_registered() -> None:
    check_belongs(officer(), "VN-CUSKV6")
    with pytest.raises(InvalidInput) as refused:
        check_belongs(officer(agency="CN-NNCUS"), "VN-CUSKV6")
    assert refused.value.code == "OFFICER_AGENCY_FOREIGN"


@pytest.mark.parametrize("role", [Role.OFFICER, Role.SUPERVISOR, Role.AUDITOR])
def test_the_first_officer_must_be_an_operator(role: Role) -> None:
    check_first_officer(officer(role=Role.OPERATOR))
    with pytest.raises(InvalidInput) as refused:
        check_first_officer(officer(role=role))
    assert (refused.value.code, refused.value.params) == (
        "FIRST_OFFICER_NOT_OPERATOR",
        {"role": role.value},
    )


def test_the_last_active_operator_stays() -> None:
    operator = officer(id="op", role=Role.OPERATOR)
    removed_operator = officer(id="old.op", role=Role.OPERATOR, active=False)
    roster = [operator, removed_operator, officer()]
    for change in (
        operator.model_copy(update={"active": False}),
        operator.model_copy(update={"role": Role.AUDITOR}),
    ):
        with pytest.raises(Conflict) as refused:
            check_an_operator_remains(roster, change)
        assert (refused.value.code, refused.value.params) == ("LAST_OPERATOR", {"officer": "op"})
    second = officer(id="op2", role=Role.OPERATOR)
    check_an_operator_remains([*roster, second], operator.model_copy(update={"active": False}))
    check_an_operator_remains(roster, officer().model_copy(update={"active": False}))
