"""``crossborder officer``: who may use this node, and in which role.

An operator registers and removes officers and changes their roles; anyone with
a role that reads may list them. A node with no officer yet starts with its
first operator, who registers themselves:
``crossborder officer add ID --name NAME --role operator``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    OfficerOption,
    console,
    node_command,
    say,
    user_errors,
)
from crossborder.domain.officers import Officer, Role, new_officer, parse_role
from crossborder.i18n import N_, normalize_locale, translate
from crossborder.services.officers import (
    add_officer,
    change_role,
    deactivate_officer,
    list_officers,
    set_password,
)

officer_app = typer.Typer(help=N_("cli.help.officer"), no_args_is_help=True)

OfficerIdArgument = Annotated[str, typer.Argument(help=N_("cli.help.officer.officer_id"))]


def _role_label(role: Role, lang: str) -> str:
    return translate(f"role.{role.value}", normalize_locale(lang))


@officer_app.command("add", help=N_("cli.help.officer.add"))
def add(
    officer_id: Annotated[str, typer.Argument(help=N_("cli.help.officer.add.officer_id"))],
    name: Annotated[str, typer.Option("--name", help=N_("cli.help.officer.add.name"))],
    role: Annotated[str, typer.Option("--role", help=N_("cli.help.officer.add.role"))],
    login: Annotated[
        str | None, typer.Option("--login", help=N_("cli.help.officer.add.login"))
    ] = None,
    officer: OfficerOption = None,
    lang: LangOption = "en",
    config: ConfigOption = None,
) -> None:
    """Register an officer of this node's agency."""
    with node_command(lang, config) as node:
        chosen = parse_role(role)
        added = new_officer(
            id=officer_id, full_name=name, role=chosen, agency=node.agency, os_login=login
        )
        add_officer(node, added, by=officer)
        say("cli.officer.added", lang, officer=added.id, role=_role_label(added.role, lang))


@officer_app.command("list", help=N_("cli.help.officer.list"))
def list_(
    officer: OfficerOption = None, lang: LangOption = "en", config: ConfigOption = None
) -> None:
    """Show every officer, with their role and whether they may still act."""
    with node_command(lang, config) as node:
        officers = list_officers(node, by=officer)
    console.print(_table(officers, normalize_locale(lang)))


def _table(officers: list[Officer], locale: str) -> Table:
    table = Table()
    # Ids and logins are typed back into commands, and a role or a status read in
    # two halves is misread: those are never cut or folded; a long name may wrap.
    table.add_column(translate("cli.officer.column.id", locale), no_wrap=True)
    table.add_column(translate("cli.officer.column.name", locale), min_width=10)
    table.add_column(translate("cli.officer.column.role", locale), no_wrap=True)
    table.add_column(translate("cli.officer.column.status", locale), no_wrap=True)
    table.add_column(translate("cli.officer.column.login", locale), no_wrap=True)
    active = translate("cli.officer.status.active", locale)
    removed = translate("cli.officer.status.removed", locale)
    for officer in officers:
        # Names and logins are shown as written, never read as console markup.
        table.add_row(
            officer.id,
            Text(officer.full_name),
            translate(f"role.{officer.role.value}", locale),
            active if officer.active else removed,
            Text(officer.os_login or "—"),
        )
    return table


@officer_app.command("remove", help=N_("cli.help.officer.remove"))
def remove(
    officer_id: OfficerIdArgument,
    officer: OfficerOption = None,
    lang: LangOption = "en",
    config: ConfigOption = None,
) -> None:
    """Remove an officer; the audit trail keeps naming them and their id stays taken."""
    with node_command(lang, config) as node:
        deactivate_officer(node, officer_id, by=officer)
        say("cli.officer.removed", lang, officer=officer_id)


@officer_app.command("role", help=N_("cli.help.officer.role"))
def role(
    officer_id: OfficerIdArgument,
    new_role: Annotated[str, typer.Argument(help=N_("cli.help.officer.role.role"))],
    officer: OfficerOption = None,
    lang: LangOption = "en",
    config: ConfigOption = None,
) -> None:
    """Give an officer another role."""
    with node_command(lang, config) as node:
        chosen = parse_role(new_role)
        change_role(node, officer_id, chosen, by=officer)
        say("cli.officer.role_changed", lang, officer=officer_id, role=_role_label(chosen, lang))


def _read_password(lang: str) -> str:
    """Typed twice at a terminal, unseen; else the first line of standard input (a script)."""
    locale = normalize_locale(lang)
    if sys.stdin.isatty():
        return str(
            typer.prompt(
                translate("cli.officer.password_prompt", locale),
                hide_input=True,
                confirmation_prompt=translate("cli.officer.password_again", locale),
            )
        )
    return sys.stdin.readline().rstrip("\r\n")


@officer_app.command("set-password", help=N_("cli.help.officer.set_password"))
def set_password_(
    officer_id: OfficerIdArgument,
    officer: OfficerOption = None,
    lang: LangOption = "en",
    config: ConfigOption = None,
) -> None:
    """Set an officer's console password: one's own, or anyone's for an operator."""
    with user_errors(lang):
        password = _read_password(lang)
    with node_command(lang, config) as node:
        set_password(node, officer_id, password, by=officer)
    say("cli.officer.password_set", lang, officer=officer_id)
