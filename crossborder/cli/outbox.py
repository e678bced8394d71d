"""``crossborder outbox``: what has not gone out to a counterpart, and sending it again.

A message the counterpart refused stays refused until an officer acts: the list
shows why (the counterpart's HTTP status, code and own words), and ``resend``
puts it back in the queue once the cause is fixed.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    OfficerOption,
    TzOption,
    acting,
    agency_shown,
    console,
    node_command,
    report_sent,
    say,
)
from crossborder.domain.officers import Permission
from crossborder.i18n import N_, format_datetime, normalize_locale, translate
from crossborder.services.outbox_review import (
    UNDELIVERED,
    OutboxEntry,
    OutboxState,
    answer_text,
    list_outbox,
    resend,
)

app = typer.Typer(help=N_("cli.help.outbox"), no_args_is_help=True)

COLUMNS = ("cli.outbox.message", "cli.outbox.to", "cli.outbox.state", "cli.outbox.answer")
#: Message and case ids are copied into the next command: kept on one line each, and
#: folded rather than cut if the screen is too narrow even for them.
ID_COLUMN = "cli.outbox.message"


def _state_text(entry: OutboxEntry, locale: str, zone: str) -> str:
    """The message's type, where its delivery stands, and when it was queued."""
    if entry.state is OutboxState.DEFERRED and entry.next_attempt_at is not None:
        state = translate(
            "cli.outbox.state.deferred",
            locale,
            attempts=entry.attempts,
            next=format_datetime(entry.next_attempt_at, locale, zone),
        )
    elif entry.state is OutboxState.DELIVERED and entry.delivered_at is not None:
        state = translate(
            "cli.outbox.state.delivered",
            locale,
            at=format_datetime(entry.delivered_at, locale, zone),
        )
    elif entry.state is OutboxState.REFUSED:
        state = translate("cli.outbox.state.refused", locale)
    else:
        state = translate("cli.outbox.state.queued", locale)
    return "\n".join(
        (
            translate(f"message_type.{entry.type}", locale),
            state,
            translate(
                "cli.outbox.created", locale, at=format_datetime(entry.created_at, locale, zone)
            ),
        )
    )


def print_outbox(entries: list[OutboxEntry], lang: str, zone: str) -> None:
    locale = normalize_locale(lang)
    table = Table()
    for key in COLUMNS:
        table.add_column(translate(key, locale), overflow="fold", no_wrap=key == ID_COLUMN)
    for entry in entries:
        # Text, not markup: the counterpart's words may hold brackets, and are its own.
        table.add_row(
            Text(f"{entry.message_id}\n{entry.case_id}"),
            Text(agency_shown(entry.recipient, locale)),
            Text(_state_text(entry, locale, zone)),
            Text(answer_text(entry.answer, locale)),
        )
    console.print(table)


@app.command("list", help=N_("cli.help.outbox.list"))
def list_(
    refused: Annotated[
        bool, typer.Option("--refused", help=N_("cli.help.outbox.list.refused"))
    ] = False,
    deferred: Annotated[
        bool, typer.Option("--deferred", help=N_("cli.help.outbox.list.deferred"))
    ] = False,
    queued: Annotated[
        bool, typer.Option("--queued", help=N_("cli.help.outbox.list.queued"))
    ] = False,
    delivered: Annotated[
        bool, typer.Option("--delivered", help=N_("cli.help.outbox.list.delivered"))
    ] = False,
    to: Annotated[str | None, typer.Option("--to", help=N_("cli.help.outbox.list.to"))] = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """List outgoing messages: refused first, then deferred, then queued (or those asked for)."""
    asked = {
        OutboxState.REFUSED: refused,
        OutboxState.DEFERRED: deferred,
        OutboxState.QUEUED: queued,
        OutboxState.DELIVERED: delivered,
    }
    states = [state for state, wanted in asked.items() if wanted] or list(UNDELIVERED)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        entries = list_outbox(node, states=states, recipient=to)
    if not entries:
        say("cli.outbox.none", lang)
        return
    print_outbox(entries, lang, tz or node.timezone)
    if any(entry.state is OutboxState.REFUSED for entry in entries):
        say("cli.outbox.resend_hint", lang)


@app.command("resend", help=N_("cli.help.outbox.resend"))
def resend_(
    message_id: Annotated[str, typer.Argument(help=N_("cli.help.outbox.resend.message_id"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """Send a refused message again (the same signed bytes), and try to deliver it now."""
    with node_command(lang, config) as node:
        resent = resend(node, message_id, acting(node, officer, Permission.CONNECT))
        report_sent(node, "cli.outbox.resent", lang, resent.case_id, resent.message_id)
