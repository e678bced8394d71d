"""``crossborder lane``: the green lane for fresh farm produce, from notice to release.

Exporting side: ``notify`` sends a truck's pre-arrival notice; the importing
node answers with the lane at once. Importing side: ``arrive`` at the gate
(a green truck is released there and then), ``queue`` for the joint
inspection, ``inspect`` writes its one record, the other side ``countersign``s
it, ``release`` (or ``--refuse``) closes the case on both sides. ``stats``
publishes the measured release times; ``delay-reason`` answers a trader who
asks why a release passed its target.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from crossborder.cli.common import (
    CaseIdArgument,
    ConfigOption,
    LangOption,
    NoteLangOption,
    OfficerOption,
    acting,
    console,
    free_text,
    node_command,
    read_json,
    read_model,
    report_sent,
    say,
)
from crossborder.domain.lane import (
    InspectionFinding,
    InspectionResult,
    LaneNotice,
    RefusalReason,
    StepFigures,
)
from crossborder.domain.officers import Permission
from crossborder.domain.validation import schema_checked
from crossborder.i18n import N_, normalize_locale, translate
from crossborder.services import lane, lane_inspection, lane_times
from crossborder.services.registry import only_counterpart

app = typer.Typer(help=N_("cli.help.lane"), no_args_is_help=True)


@app.command("notify", help=N_("cli.help.lane.notify"))
def notify(
    notice_file: Annotated[Path, typer.Argument(help=N_("cli.help.lane.notify.notice_file"))],
    to: Annotated[str, typer.Option("--to", help=N_("cli.help.lane.notify.to"))] = "",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Send a truck's pre-arrival notice to the importing side (exporting side)."""
    with node_command(lang, config) as node:
        notice = read_model(notice_file, LaneNotice)
        sent = lane.notify(node, notice, to or only_counterpart(node), acting(node, officer))
        report_sent(node, "cli.lane.notified", lang, sent.case_id, sent.message_id)


@app.command("arrive", help=N_("cli.help.lane.arrive"))
def arrive(
    case_id: CaseIdArgument,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Record the truck at the gate; the release clock starts (importing side)."""
    with node_command(lang, config) as node:
        arrived = lane.arrive(node, case_id, acting(node, officer))
        report_sent(node, "cli.lane.arrived", lang, case_id, arrived.message_ids[0])
        if arrived.released:
            report_sent(node, "cli.lane.released", lang, case_id, arrived.message_ids[1])


FindingsArgument = Annotated[Path, typer.Argument(help=N_("cli.help.lane.inspect.findings_file"))]


def _findings(path: Path) -> tuple[InspectionFinding, ...]:
    data = read_json(path)
    with schema_checked():
        return tuple(InspectionFinding.model_validate(item) for item in data.get("findings", []))


@app.command("inspect", help=N_("cli.help.lane.inspect"))
def inspect(
    case_id: CaseIdArgument,
    findings_file: FindingsArgument,
    result: Annotated[InspectionResult, typer.Option(help=N_("cli.help.lane.inspect.result"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Write the one joint inspection record, signed for this side."""
    with node_command(lang, config) as node:
        findings = _findings(findings_file)
        sent = lane_inspection.inspect(node, case_id, findings, result, acting(node, officer))
        report_sent(node, "cli.lane.inspected", lang, case_id, sent.message_id)


@app.command("countersign", help=N_("cli.help.lane.countersign"))
def countersign(
    case_id: CaseIdArgument,
    findings_file: Annotated[
        Path | None, typer.Option("--findings", help=N_("cli.help.lane.countersign.findings"))
    ] = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Sign the record the other side wrote, adding what this side found."""
    with node_command(lang, config) as node:
        findings = _findings(findings_file) if findings_file else ()
        sent = lane_inspection.countersign(node, case_id, acting(node, officer), findings)
        report_sent(node, "cli.lane.countersigned", lang, case_id, sent.message_id)


@app.command("release", help=N_("cli.help.lane.release"))
def release(
    case_id: CaseIdArgument,
    refuse: Annotated[
        list[RefusalReason] | None,
        typer.Option("--refuse", help=N_("cli.help.lane.release.refuse")),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help=N_("cli.help.lane.release.note"))
    ] = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """The one release to both sides, or a refusal with its reasons (importing side)."""
    with node_command(lang, config) as node:
        words = free_text(note, note_lang) if note else None
        sent = lane.release(node, case_id, acting(node, officer), tuple(refuse or ()), words)
        key = "cli.lane.refused" if refuse else "cli.lane.released"
        report_sent(node, key, lang, case_id, sent.message_id)


_QUEUE_COLUMNS = (
    "cli.lane.column.case",
    "cli.lane.column.plate",
    "cli.lane.column.lane",
    "cli.lane.column.perishable",
    "cli.lane.column.arrived",
)


@app.command("queue", help=N_("cli.help.lane.queue"))
def queue(
    gate: Annotated[str | None, typer.Option("--gate", help=N_("cli.help.lane.gate"))] = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Trucks waiting for their joint inspection, perishables first."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        waiting = lane_times.inspection_queue(node, gate)
        table = Table()
        for index, key in enumerate(_QUEUE_COLUMNS):
            # The case id is what the officer types next: never cut; the other columns fold.
            table.add_column(translate(key, locale), overflow="fold", no_wrap=index == 0)
        zone = ZoneInfo(node.timezone)
        for truck in waiting:
            table.add_row(
                truck.case_id,
                truck.plate,
                translate(f"lane.{truck.lane.value}", locale),
                translate("cli.lane.yes" if truck.perishable else "cli.lane.no", locale),
                f"{truck.arrived_at.astimezone(zone):%Y-%m-%d %H:%M}",
            )
        console.print(table)


def _day(text: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(date.fromisoformat(text), time(0), zone)


@app.command("stats", help=N_("cli.help.lane.stats"))
def stats(
    since: Annotated[str, typer.Option("--from", help=N_("cli.help.lane.stats.from"))],
    until: Annotated[str, typer.Option("--to", help=N_("cli.help.lane.stats.to"))],
    gate: Annotated[str | None, typer.Option("--gate", help=N_("cli.help.lane.gate"))] = None,
    output: Annotated[
        str, typer.Option("--format", help=N_("cli.help.lane.stats.format"))
    ] = "table",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Release times per step and lane, measured from the recorded steps (TFA Art. 7.6)."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        zone = ZoneInfo(node.timezone)
        figures = lane_times.release_times(
            node, gate, _day(since, zone), _day(until, zone) + timedelta(days=1)
        )
    if output == "csv":
        sys.stdout.write("\ufeff" + figures_csv(figures, locale))
    elif output == "svg":
        sys.stdout.write(figures_svg(figures, locale))
    else:
        table = Table()
        for header in _headers(locale):
            table.add_column(header)
        for row in _rows(figures, locale):
            table.add_row(*row)
        console.print(table)


_STATS_COLUMNS = (
    "cli.lane.column.step",
    "cli.lane.column.lane",
    "cli.lane.column.count",
    "cli.lane.column.median",
    "cli.lane.column.p90",
    "cli.lane.column.target",
    "cli.lane.column.within",
)


def _headers(locale: str) -> list[str]:
    return [translate(key, locale) for key in _STATS_COLUMNS]


def _rows(figures: list[StepFigures], locale: str) -> list[list[str]]:
    return [
        [
            translate(f"lane_step.{row.step}", locale),
            translate(f"lane.{row.lane.value}", locale),
            str(row.count),
            f"{row.median_minutes}",
            f"{row.p90_minutes}",
            "" if row.target_minutes is None else str(row.target_minutes),
            "" if row.within_target_percent is None else f"{row.within_target_percent}",
        ]
        for row in figures
    ]


def figures_csv(figures: list[StepFigures], locale: str) -> str:
    """The figures as CSV, headers in the reader's language (Excel opens it with the BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_headers(locale))
    writer.writerows(_rows(figures, locale))
    return buffer.getvalue()


_BAR_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}


def figures_svg(figures: list[StepFigures], locale: str) -> str:
    """A bar chart of median minutes per step and lane, the target marked: plain SVG."""
    width, bar, gap, left = 640, 18, 8, 220
    scale_max = max(
        [float(f.median_minutes) for f in figures]
        + [float(f.target_minutes or 0) for f in figures]
        + [1.0]
    )
    height = 40 + len(figures) * (bar + gap)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="8" y="20">{_escape(translate("cli.lane.chart_title", locale))}</text>',
    ]
    for index, row in enumerate(figures):
        y = 32 + index * (bar + gap)
        length = (width - left - 60) * float(row.median_minutes) / scale_max
        step = translate(f"lane_step.{row.step}", locale)
        label = f"{step} · {translate(f'lane.{row.lane.value}', locale)}"
        parts.append(f'<text x="8" y="{y + 13}">{_escape(label)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" '
            f'fill="{_BAR_COLOURS[row.lane.value]}"/>'
        )
        parts.append(f'<text x="{left + length + 4:.1f}" y="{y + 13}">{row.median_minutes}</text>')
        if row.target_minutes is not None:
            x = left + (width - left - 60) * row.target_minutes / scale_max
            parts.append(
                f'<line x1="{x:.1f}" y1="{y - 2}" x2="{x:.1f}" y2="{y + bar + 2}" '
                'stroke="black" stroke-dasharray="3,2"/>'
            )
    parts.append("</svg>\n")
    return "\n".join(parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@app.command("delay-reason", help=N_("cli.help.lane.delay_reason"))
def delay_reason(
    case_id: CaseIdArgument,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Why a release passed its target, written for the trader who asks (TFA Art. 7.9)."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        late, facts = lane_times.delay_reason(node, case_id, acting(node, officer))
    say(
        "cli.lane.delay_reason.head",
        lang,
        case_id=case_id,
        lane=translate(f"lane.{facts['lane']}", locale),
    )
    for step in late:
        say(
            "cli.lane.delay_reason.step",
            lang,
            step=translate(f"lane_step.{step.step}", locale),
            minutes=f"{step.minutes}",
            target=step.target,
        )
    for kind in facts["findings"]:
        say(
            "cli.lane.delay_reason.finding", lang, finding=translate(f"lane_finding.{kind}", locale)
        )
