"""``crossborder case``: follow a case and read its audit trail."""

from __future__ import annotations

import typer
from rich.table import Table

from crossborder.audit.render import render
from crossborder.cli.common import (
    CaseIdArgument,
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
from crossborder.domain.workflows import Workflow
from crossborder.i18n import N_, normalize_locale, translate
from crossborder.services.case_search import search_cases
from crossborder.services.cases import case_view
from crossborder.services.node import Node

app = typer.Typer(help=N_("cli.help.case"), no_args_is_help=True)


def shown_subject(workflow: str, subject: str, locale: str) -> str:
    """A case's subject as a reader reads it: an alert's is its category, shown by its label."""
    if workflow == Workflow.ALERT:
        return translate(f"alert_category.{subject}", locale)
    return subject


def print_case(node: Node, case_id: str, lang: str, tz: str | None = None) -> None:
    """The case's state and its audit trail, in ``lang`` and the reader's time zone."""
    locale = normalize_locale(lang)
    view = case_view(node, case_id)
    zone = tz or node.timezone
    subject = shown_subject(view.case.workflow, view.case.subject, locale)
    say("cli.case.header", locale, case_id=view.case.id, subject=subject)
    say(
        "cli.case.status",
        locale,
        status=translate(f"status.{view.case.status}", locale),
        workflow=translate(f"workflow.{view.case.workflow}", locale),
    )
    table = Table(title=translate("cli.audit.title", locale, agency=node.agency))
    for key in ("cli.audit.seq", "cli.audit.when", "cli.audit.actor", "cli.audit.event"):
        # Fold, never cut: an auditor must see the whole sentence, CJK included.
        table.add_column(translate(key, locale, tz=zone), overflow="fold")
    for entry in view.audit:
        shown = render(entry, locale, zone)
        text = shown.text if shown.note is None else f"{shown.text}\n{shown.note}"
        table.add_row(str(shown.seq), shown.when, shown.actor, text)
    console.print(table)


@app.command("show", help=N_("cli.help.case.show"))
def show(
    case_id: CaseIdArgument,
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """Show a case, its messages and its audit trail."""
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        print_case(node, case_id, lang, tz)


@app.command("list", help=N_("cli.help.case.list"))
def list_(
    officer: OfficerOption = None, lang: LangOption = "", config: ConfigOption = None
) -> None:
    """List cases as the console does: escalated and overdue first, then the latest updated."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        cases = [line.case for line in search_cases(node, limit=50)]
        table = Table()
        add_id_column(table, translate("cli.case.id", locale), (case.id for case in cases))
        for key in ("cli.case.subject", "cli.case.counterpart", "cli.case.state"):
            table.add_column(translate(key, locale), overflow="fold")
        for case in cases:
            table.add_row(
                case.id,
                shown_subject(case.workflow, case.subject, locale),
                case.counterpart,
                translate(f"status.{case.status}", locale),
            )
        console.print(table)
