"""``crossborder audit``: what an auditor runs — verify, prove, checkpoint, export."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from sqlalchemy import select

from crossborder.adapters.db.tables import AuditEntry
from crossborder.audit.render import render
from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    OfficerOption,
    TzOption,
    open_node_for,
    say,
    user_errors,
)
from crossborder.domain.officers import Permission
from crossborder.i18n import N_, normalize_locale
from crossborder.services.audit_log import b64, checkpoint, prove_entry, verify_log


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


app = typer.Typer(help=N_("cli.help.audit"), no_args_is_help=True)


@app.command("verify", help=N_("cli.help.audit.verify"))
def verify(
    officer: OfficerOption = None, lang: LangOption = "", config: ConfigOption = None
) -> None:
    """Recompute every entry's hash and check the log against our signed checkpoints."""
    with user_errors(lang):
        report = verify_log(open_node_for(config, officer, Permission.AUDIT))
    say(
        "cli.audit.verified" if report.ok else "cli.audit.tampered",
        lang,
        entries=report.entries,
        checkpoints=report.checkpoints_checked,
        root=b64(report.root),
    )
    for problem in report.problems:
        typer.echo(f"  - {problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@app.command("checkpoint", help=N_("cli.help.audit.checkpoint"))
def make_checkpoint(
    officer: OfficerOption = None, lang: LangOption = "", config: ConfigOption = None
) -> None:
    """Sign the current tree head and send it to every counterpart to witness."""
    with user_errors(lang):
        row = checkpoint(open_node_for(config, officer, Permission.AUDIT))
    say("cli.audit.checkpoint", lang, tree_size=row.tree_size, root=b64(row.root_hash))


@app.command("prove", help=N_("cli.help.audit.prove"))
def prove(
    seq: Annotated[int, typer.Argument(help=N_("cli.help.audit.prove.seq"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Print an RFC 9162 inclusion proof of one entry, as JSON."""
    with user_errors(lang):
        proof = prove_entry(open_node_for(config, officer, Permission.AUDIT), seq)
    typer.echo(json.dumps(proof.__dict__, indent=2))


@app.command("export", help=N_("cli.help.audit.export"))
def export(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help=N_("cli.help.audit.export.format"))
    ] = ExportFormat.JSONL,
    case: Annotated[str | None, typer.Option(help=N_("cli.help.audit.export.case"))] = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """Write the audit trail to standard output: the stored entry and its text in ``--lang``."""
    locale = normalize_locale(lang)
    with user_errors(lang):
        node = open_node_for(config, officer, Permission.AUDIT)
        with node.sessions() as session:
            query = select(AuditEntry).order_by(AuditEntry.seq)
            if case:
                query = query.where(AuditEntry.case_id == case)
            entries = list(session.scalars(query))
    zone = tz or node.timezone
    columns = ["seq", "occurred_at", "event", "case_id", "actor", "text", "note", "leaf_hash"]
    writer = csv.DictWriter(sys.stdout, columns) if fmt is ExportFormat.CSV else None
    if writer:
        writer.writeheader()
    for entry in entries:
        shown = render(entry, locale, zone)
        row = {
            "seq": entry.seq,
            "occurred_at": entry.occurred_at.isoformat(),
            "event": entry.event,
            "case_id": entry.case_id,
            "actor": shown.actor,
            "text": shown.text,
            "note": shown.note,
            "leaf_hash": b64(entry.leaf_hash),
        }
        if writer:
            writer.writerow(row)
        else:
            typer.echo(json.dumps({**row, "params": entry.params}, ensure_ascii=False))
