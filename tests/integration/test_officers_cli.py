"""``crossborder officer`` on a node: register, list, re-role and remove officers.

Success exits 0 with a sentence in the officer's language; a refusal exits 2 with
its code and a sentence, no traceback, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from crossborder.adapters.db.engine import make_engine
from crossborder.adapters.db.tables import AuditEntry, OfficerRow
from crossborder.cli.main import app
from crossborder.i18n import translate

runner = CliRunner()


@pytest.fixture
def acting_officer(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests say who acts in each command themselves."""
    monkeypatch.delenv("CROSSBORDER_OFFICER", raising=False)


@pytest.fixture
def config(tmp_path: Path, make_db_url: Callable[[str], str]) -> Path:
    path = tmp_path / "node.env"
    path.write_text(
        "CROSSBORDER_AGENCY=CN-NNCUS\nCROSSBORDER_COUNTRY=CN\nCROSSBORDER_TIMEZONE=Asia/Shanghai\n"
        f"CROSSBORDER_BASE_URL=http://127.0.0.1:9\nCROSSBORDER_DATA_DIR={tmp_path / 'cn'}\n"
        f"CROSSBORDER_DATABASE_URL={make_db_url('cn')}\n",
        "utf-8",
    )
    return path


def invoke(config: Path, *arguments: str, **environ: str | None) -> Result:
    # No officer named by the developer's own environment, and a login no one registered.
    environ = {"CROSSBORDER_OFFICER": None, "LOGNAME": "nobody.here", **environ}
    return runner.invoke(app, [*arguments, "--config", str(config)], env=environ)


def counts(config: Path) -> tuple[int, int]:
    url = next(
        line.split("=", 1)[1]
        for line in config.read_text("utf-8").splitlines()
        if line.startswith("CROSSBORDER_DATABASE_URL=")
    )
    engine = make_engine(url)
    with engine.connect() as connection:
        officers = connection.scalar(select(func.count()).select_from(OfficerRow))
        entries = connection.scalar(select(func.count()).select_from(AuditEntry))
    engine.dispose()
    return int(officers or 0), int(entries or 0)


def staffed(config: Path) -> None:
    """An operator (``wang.qiang``) who registered themselves, and an officer (``li.ming``)."""
    first = invoke(config, "officer", "add", "wang.qiang", "--name", "王强", "--role", "operator")
    assert first.exit_code == 0, first.output
    second = invoke(
        config,
        *("officer", "add", "li.ming", "--name", "李明", "--role", "officer"),
        *("--login", "liming", "--officer", "wang.qiang"),
    )
    assert second.exit_code == 0, second.output


def assert_refused(result: Result, code: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(code)
    assert f"error.{code}" not in result.stderr  # a sentence, not the bare key
    assert "Traceback" not in result.output + result.stderr


def test_the_first_operator_then_the_others(config: Path) -> None:
    first = invoke(
        config,
        *("officer", "add", "wang.qiang", "--name", "王强", "--role", "operator"),
        *("--lang", "zh_Hans"),
    )
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "已登记人员wang.qiang，角色为运维人员。"

    second = invoke(
        config,
        *("officer", "add", "lan.nguyen", "--name", "Nguyễn Thị Lan", "--role", "supervisor"),
        *("--login", "lnguyen", "--lang", "vi"),
        CROSSBORDER_OFFICER="wang.qiang",
    )
    assert second.exit_code == 0, second.output
    assert second.stdout.strip() == "Đã đăng ký cán bộ lan.nguyen với vai trò cán bộ phụ trách."
    assert counts(config) == (2, 2)


def test_list_shows_every_officer_in_the_readers_language(config: Path) -> None:
    staffed(config)
    assert invoke(config, "officer", "remove", "li.ming", "--officer", "wang.qiang").exit_code == 0
    # li.ming was removed: the login they had no longer acts for anyone.
    assert_refused(invoke(config, "officer", "list", LOGNAME="liming"), "OFFICER_UNKNOWN")

    shown = invoke(config, "officer", "list", "--lang", "vi", "--officer", "wang.qiang")
    assert shown.exit_code == 0, shown.output
    rows = {line.split("│")[1].strip(): line for line in shown.stdout.splitlines() if "│" in line}
    assert {"wang.qiang", "li.ming"} <= rows.keys()
    assert "người vận hành" in rows["wang.qiang"] and "đang hoạt động" in rows["wang.qiang"]
    assert "cán bộ nghiệp vụ" in rows["li.ming"] and "đã hủy đăng ký" in rows["li.ming"]
    assert "李明" in rows["li.ming"] and "liming" in rows["li.ming"]


def test_the_workstation_login_names_the_officer(config: Path) -> None:
    staffed(config)
    shown = invoke(config, "officer", "list", "--lang", "en", LOGNAME="liming")
    assert shown.exit_code == 0, shown.output
    assert translate("role.operator", "en") in shown.stdout


def test_role_and_remove(config: Path) -> None:
    staffed(config)
    changed = invoke(
        config, "officer", "role", "li.ming", "auditor", "--officer", "wang.qiang", "--lang", "en"
    )
    assert changed.exit_code == 0, changed.output
    assert changed.stdout.strip() == "Officer li.ming is now auditor."
    removed = invoke(config, "officer", "remove", "li.ming", CROSSBORDER_OFFICER="wang.qiang")
    assert removed.exit_code == 0, removed.output
    assert removed.stdout.strip() == "Officer li.ming removed."
    assert counts(config) == (2, 4)


@pytest.mark.parametrize(
    ("arguments", "code", "violation"),
    [
        # An officer may not manage officers.
        (
            ("officer", "add", "chen.jing", "--name", "陈静", "--role", "auditor"),
            "ROLE_NOT_ALLOWED",
            None,
        ),
        (("officer", "remove", "wang.qiang"), "ROLE_NOT_ALLOWED", None),
        (("officer", "role", "wang.qiang", "officer"), "ROLE_NOT_ALLOWED", None),
        (("officer", "role", "li.ming", "admin"), "ROLE_UNKNOWN", None),
        (
            ("officer", "add", "Chen Jing", "--name", "陈静", "--role", "auditor"),
            "OFFICER_INVALID",
            "OFFICER_ID_INVALID",
        ),
    ],
    ids=["add", "remove", "role", "unknown-role", "bad-id"],
)
def test_refusals_say_why_and_change_nothing(
    config: Path, arguments: tuple[str, ...], code: str, violation: str | None
) -> None:
    staffed(config)
    before = counts(config)
    result = invoke(config, *arguments, "--lang", "vi", LOGNAME="liming")
    assert_refused(result, code)
    if violation:
        assert violation in result.stderr
    assert counts(config) == before


def test_a_node_with_no_officer_starts_with_an_operator(config: Path) -> None:
    result = invoke(
        config,
        *("officer", "add", "li.ming", "--name", "李明", "--role", "officer", "--lang", "en"),
    )
    assert_refused(result, "FIRST_OFFICER_NOT_OPERATOR")
    assert "--role operator" in result.stderr
    assert counts(config) == (0, 0)


def test_an_unknown_officer_is_told_how_to_register(config: Path) -> None:
    staffed(config)
    result = invoke(config, "officer", "list", "--officer", "ghost", "--lang", "en")
    assert_refused(result, "OFFICER_UNKNOWN")
    assert "ghost" in result.stderr and "crossborder officer add" in result.stderr


def _password_of(config: Path, officer: str) -> str | None:
    url = next(
        line.split("=", 1)[1]
        for line in config.read_text("utf-8").splitlines()
        if line.startswith("CROSSBORDER_DATABASE_URL=")
    )
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(select(OfficerRow.password_hash).where(OfficerRow.id == officer))
    engine.dispose()
    return stored


def test_set_password_reads_standard_input_and_keeps_only_a_hash(config: Path) -> None:
    invoke(config, "officer", "add", "wang.fang", "--name", "王芳", "--role", "operator")
    invoke(
        config,
        "officer",
        "add",
        "li.wei",
        "--name",
        "李伟",
        "--role",
        "officer",
        "--officer",
        "wang.fang",
    )
    runner_input = "a long enough passphrase\n"
    by_operator = runner.invoke(
        app,
        ["officer", "set-password", "li.wei", "--officer", "wang.fang", "--config", str(config)],
        input=runner_input,
    )
    assert by_operator.exit_code == 0, by_operator.output
    stored = _password_of(config, "li.wei")
    assert stored is not None and stored.startswith("$argon2id$")
    assert "passphrase" not in stored
    too_short = runner.invoke(
        app,
        ["officer", "set-password", "li.wei", "--officer", "li.wei", "--config", str(config)],
        input="short\n",
    )
    assert too_short.exit_code == 1 and "PASSWORD_TOO_SHORT" in too_short.output
    # An officer sets their own; another's takes an operator.
    not_theirs = runner.invoke(
        app,
        ["officer", "set-password", "wang.fang", "--officer", "li.wei", "--config", str(config)],
        input=runner_input,
    )
    assert not_theirs.exit_code == 1 and "ROLE_NOT_ALLOWED" in not_theirs.output
    assert _password_of(config, "wang.fang") is None
