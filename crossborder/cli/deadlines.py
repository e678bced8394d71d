"""``crossborder deadlines``: what is due and what is late, across every workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    OfficerOption,
    TzOption,
    acting,
    console,
    node_command,
    say,
)
from crossborder.cli.tables import add_id_column
from crossborder.domain.officers import Permission
from crossborder.i18n import N_, format_datetime, normalize_locale, translate
from crossborder.reference.agencies import agency_name
from crossborder.reference.deadline_rules import rule_name_key
from crossborder.services.deadlines import DeadlineRow, is_late, list_deadlines, watch

app = typer.Typer(help=N_("cli.help.deadlines"), no_args_is_help=True)

STATUS_TEXT = {
    "open": N_("deadline.status.open"),
    "met": N_("deadline.status.met"),
    "overdue": N_("deadline.status.overdue"),
    "cancelled": N_("deadline.status.cancelled"),
}
#: The columns after the case id.
COLUMNS = (
    "cli.deadlines.rule",
    "cli.deadlines.subject",
    "cli.deadlines.agency",
    "cli.deadlines.due",
    "cli.deadlines.status",
)


def _shown_status(row: DeadlineRow, now: datetime) -> str:
    """Past its due time is overdue, whether or not the watcher has been round yet."""
    return "overdue" if is_late(row, now) else row.status


@app.command("list", help=N_("cli.help.deadlines.list"))
def list_(
    overdue: Annotated[
        bool, typer.Option("--overdue", help=N_("cli.help.deadlines.list.overdue"))
    ] = False,
    closed: Annotated[bool, typer.Option("--all", help=N_("cli.help.deadlines.list.all"))] = False,
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """List deadlines by due time, in the node's time zone (or ``--tz``)."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        rows = list_deadlines(node, overdue_only=overdue, open_only=not closed)
    if not rows:
        say("cli.deadlines.none", locale)
        return
    zone = tz or node.timezone
    now = node.now()
    table = Table()
    add_id_column(table, translate("cli.deadlines.case", locale), (row.case_id for row in rows))
    for key in COLUMNS:
        # Fold, never cut: a due time with an ellipsis is no use.
        table.add_column(translate(key, locale, tz=zone), overflow="fold")
    for row in rows:
        table.add_row(
            row.case_id,
            translate(rule_name_key(row.rule_key), locale),
            row.subject,
            agency_name(row.acting_agency, locale),
            format_datetime(row.due_at, locale, zone),
            translate(STATUS_TEXT[_shown_status(row, now)], locale),
        )
    console.print(table)


@app.command("watch", help=N_("cli.help.deadlines.watch"))
def watch_once(lang: LangOption = "", config: ConfigOption = None) -> None:
    """Take the reminders and escalations that have come due: one pass of the watcher."""
    with node_command(lang, config) as node:
        result = watch(node)
    say(
        "cli.deadlines.watched",
        lang,
        taken=len(result.taken),
        skipped=result.skipped,
        failed=len(result.failed),
    )
    if result.failed:
        raise typer.Exit(1)
