"""The ``crossborder`` command, grouped by who uses it.

An officer waits for every command, so the command line loads only the group it
runs: ``crossborder --help`` imports no service, ``crossborder case list`` no
XML schema, and nothing here imports Prefect (flows run on the Prefect server,
see ``flows/``).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

# Typer carries its own copy of click; its types are the ones its groups use.
from typer._click import ClickException, Command, Context
from typer.core import TyperGroup

from crossborder.cli import common
from crossborder.cli.help import PANEL_TITLES, LocalizedGroup, help_locale, localize
from crossborder.domain.errors import CrossborderError
from crossborder.i18n import N_, translate

#: name → (module, Typer app in it, help key); a group is imported when it runs.
GROUPS: dict[str, tuple[str, str, str]] = {
    "node": ("crossborder.cli.node", "node_app", N_("cli.help.node")),
    "counterpart": ("crossborder.cli.node", "counterpart_app", N_("cli.help.counterpart")),
    "client": ("crossborder.cli.node", "client_app", N_("cli.help.client")),
    "co": ("crossborder.cli.co", "app", N_("cli.help.co")),
    "case": ("crossborder.cli.case", "app", N_("cli.help.case")),
    "audit": ("crossborder.cli.audit", "app", N_("cli.help.audit")),
    "quarantine": ("crossborder.cli.quarantine", "app", N_("cli.help.quarantine")),
    "deadlines": ("crossborder.cli.deadlines", "app", N_("cli.help.deadlines")),
    "alert": ("crossborder.cli.alert", "app", N_("cli.help.alert")),
    "officer": ("crossborder.cli.officers", "officer_app", N_("cli.help.officer")),
    "outbox": ("crossborder.cli.outbox", "app", N_("cli.help.outbox")),
    "lane": ("crossborder.cli.lane", "app", N_("cli.help.lane")),
}
#: The same for commands that stand alone under the root.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": ("crossborder.cli.demo", "app", N_("cli.help.demo")),
}
LAZY = {**GROUPS, **COMMANDS}


def load(name: str) -> Command:
    """Import one group (or command) of the command line and build it, help texts as keys."""
    module, attribute, _ = LAZY[name]
    typer_app = getattr(importlib.import_module(module), attribute)
    # A group of one command stays a group (``counterpart add``), as add_typer keeps it.
    if name in GROUPS:
        command: Command = typer.main.get_group(typer_app)
    else:
        command = typer.main.get_command(typer_app)
    command.name = name
    return command


class CommandLine(LocalizedGroup):
    """The root group: loads a group only to run it, and turns any error into one line."""

    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in self.commands or cmd_name not in LAZY:
            return super().get_command(ctx, cmd_name)
        # Listed on the help screen: its name and one line, without importing it.
        locale = help_locale()
        return TyperGroup(
            name=cmd_name,
            help=translate(LAZY[cmd_name][2], locale),
            rich_help_panel=translate(PANEL_TITLES["commands"], locale),
        )

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        if args and args[0] in LAZY and args[0] not in self.commands:
            command = load(args[0])
            localize(command, help_locale())
            self.commands[args[0]] = command
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ClickException, typer.Exit, typer.Abort):
            raise
        except CrossborderError as error:
            common.fail(error, help_locale())
        except Exception as error:  # noqa: BLE001 — the one place a bug meets a person
            if common.debug:
                raise
            message = translate("cli.unexpected", help_locale(), kind=type(error).__name__)
            common.err_console.print(message, markup=False, highlight=False, soft_wrap=True)
            sys.exit(common.REFUSED)


app = typer.Typer(
    cls=CommandLine,
    help=N_("cli.help.main"),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    debug: bool = typer.Option(False, "--debug", help=N_("cli.help.debug")),
) -> None:
    common.debug = debug
