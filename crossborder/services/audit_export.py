"""The audit trail taken away: JSON lines for a program, CSV for a spreadsheet.

Both give each entry's text in the reader's language. JSON lines keep the
stored entry beside it (its parameters, its time in UTC) for a program to
check. CSV is for a person opening it in a spreadsheet: its headers are in the
reader's language, each time is given both in the reader's zone and in UTC,
and the file starts with a UTF-8 byte order mark, without which Excel reads
Vietnamese and Chinese in the machine's legacy code page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any, BinaryIO, TextIO

from sqlalchemy import select

from crossborder.adapters.db.tables import AuditEntry
from crossborder.audit.render import render
from crossborder.i18n import translate, zone
from crossborder.services.audit_log import b64
from crossborder.services.node import Node

#: Entries read from the database at a time: a whole log is never held in memory.
BATCH = 500
#: U+FEFF, encoded as EF BB BF: how Excel knows a CSV file is UTF-8.
BOM = "\ufeff"


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


def _csv_header(locale: str, tz: str) -> list[str]:
    return [
        translate("export.audit.seq", locale),
        translate("export.audit.when", locale, tz=tz),
        translate("export.audit.when", locale, tz="UTC"),
        translate("export.audit.event", locale),
        translate("export.audit.case", locale),
        translate("export.audit.actor", locale),
        translate("export.audit.text", locale),
        translate("export.audit.note", locale),
        translate("export.audit.leaf_hash", locale),
    ]


def _spreadsheet_time(moment: datetime, tz: tzinfo) -> str:
    """A time a spreadsheet reads as one; its column header names the zone."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _entries(node: Node, case_id: str | None) -> Iterator[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=BATCH)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    with node.sessions() as session:
        yield from session.scalars(query)


def _write_csv(out: TextIO, entries: Iterable[AuditEntry], locale: str, tz: str) -> None:
    reader_zone = zone(tz)
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(_csv_header(locale, tz))
    for entry in entries:
        shown = render(entry, locale, tz)
        writer.writerow(
            [
                entry.seq,
                _spreadsheet_time(entry.occurred_at, reader_zone),
                _spreadsheet_time(entry.occurred_at, UTC),
                entry.event,
                entry.case_id,
                shown.actor,
                shown.text,
                shown.note,
                b64(entry.leaf_hash),
            ]
        )


def _write_jsonl(out: TextIO, entries: Iterable[AuditEntry], locale: str, tz: str) -> None:
    for entry in entries:
        shown = render(entry, locale, tz)
        row: dict[str, Any] = {
            "seq": entry.seq,
            "occurred_at": entry.occurred_at.isoformat(),
            "event": entry.event,
            "case_id": entry.case_id,
            "actor": shown.actor,
            "text": shown.text,
            "note": shown.note,
            "leaf_hash": b64(entry.leaf_hash),
            "params": entry.params,
        }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_audit(
    node: Node,
    out: BinaryIO,
    fmt: ExportFormat,
    *,
    locale: str,
    tz: str | None = None,
    case_id: str | None = None,
) -> None:
    """Write the trail, or one case's entries, to ``out`` for a reader in ``tz``.

    ``tz`` is the node's zone unless the reader names another; an unknown one
    is refused (``TIMEZONE_UNKNOWN``) before anything is written.
    """
    reader_tz = tz or node.timezone
    zone(reader_tz)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    write = _write_csv if fmt is ExportFormat.CSV else _write_jsonl
    try:
        write(text, _entries(node, case_id), locale, reader_tz)
    finally:
        # ``out`` is the caller's (standard output): flush into it, never close it.
        text.flush()
        text.detach()
