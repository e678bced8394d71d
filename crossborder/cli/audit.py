"""``crossborder audit``: what an auditor runs — verify, prove, checkpoint, export."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from crossborder.cli.common import (
    ConfigOption,
    LangOption,
    OfficerOption,
    TzOption,
    acting,
    node_command,
    say,
)
from crossborder.domain.officers import Permission
from crossborder.i18n import N_, normalize_locale
from crossborder.services.audit_export import ExportFormat, write_audit
from crossborder.services.audit_log import b64, checkpoint, prove_entry, verify_log

app = typer.Typer(help=N_("cli.help.audit"), no_args_is_help=True)


@app.command("verify", help=N_("cli.help.audit.verify"))
def verify(
    officer: OfficerOption = None, lang: LangOption = "", config: ConfigOption = None
) -> None:
    """Recompute every entry's hash and check the log against our signed checkpoints."""
    with node_command(lang, config) as node:
        acting(node, officer, Permission.AUDIT)
        report = verify_log(node)
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
    with node_command(lang, config) as node:
        acting(node, officer, Permission.AUDIT)
        row = checkpoint(node)
    say("cli.audit.checkpoint", lang, tree_size=row.tree_size, root=b64(row.root_hash))


@app.command("prove", help=N_("cli.help.audit.prove"))
def prove(
    seq: Annotated[int, typer.Argument(help=N_("cli.help.audit.prove.seq"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Print an RFC 9162 inclusion proof of one entry, as JSON."""
    with node_command(lang, config) as node:
        acting(node, officer, Permission.AUDIT)
        proof = prove_entry(node, seq)
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
    with node_command(lang, config) as node:
        acting(node, officer, Permission.AUDIT)
        write_audit(node, sys.stdout.buffer, fmt, locale=locale, tz=tz, case_id=case)
