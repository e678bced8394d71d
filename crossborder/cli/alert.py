"""``crossborder alert``: raise alerts, answer them, and see what is open or late."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from crossborder.cli.common import (
    CaseIdArgument,
    ConfigOption,
    LangOption,
    NoteLangOption,
    OfficerOption,
    ReasonLangOption,
    TzOption,
    acting,
    console,
    free_text,
    node_command,
    read_model,
    report_sent,
    say,
    user_errors,
)
from crossborder.cli.tables import add_id_column
from crossborder.domain.alert_lifecycle import AlertAction
from crossborder.domain.alerts import (
    AlertAckPayload,
    AlertClosePayload,
    AlertContent,
    AlertFollowUpPayload,
    AlertUpdatePayload,
    AlertWithdrawPayload,
    Audience,
    ClosureReason,
)
from crossborder.domain.officers import Permission
from crossborder.i18n import N_, format_datetime, normalize_locale, translate
from crossborder.reference.agencies import agency, agency_name
from crossborder.services import alerts
from crossborder.services.alert_views import (
    AlertView,
    FallbackChannel,
    alert_view,
    export,
    list_alerts,
    mark_fallback_printed,
    reconcile,
)
from crossborder.services.exchange import Sent
from crossborder.services.node import Node
from crossborder.services.registry import only_counterpart

app = typer.Typer(help=N_("cli.help.alert"), no_args_is_help=True)

RoleOption = Annotated[str | None, typer.Option("--role", help=N_("cli.help.alert.role"))]
#: The language each country's officers read a fallback notice in.
COUNTRY_LOCALE = {"CN": "zh_Hans", "VN": "vi"}
FALLBACK_FLAGS = {
    "required": "cli.alert.flag.fallback_required",
    "reconciled": "cli.alert.flag.fallback_reconciled",
}


def _report(node: Node, sent: Sent, action: AlertAction, lang: str) -> None:
    locale = normalize_locale(lang)
    shown = translate(f"alert_action.{action.value}", locale)
    report_sent(node, "cli.alert.sent", locale, sent.case_id, sent.message_id, action=shown)


def _step(
    case_id: str,
    step: alerts.ActionPayload,
    action: AlertAction,
    officer: str | None,
    lang: str,
    config: Path | None,
) -> None:
    with node_command(lang, config) as node:
        _report(node, alerts.act(node, case_id, action, step, acting(node, officer)), action, lang)


@app.command("raise", help=N_("cli.help.alert.raise"))
def raise_(
    alert_file: Annotated[Path, typer.Argument(help=N_("cli.help.alert.raise.alert_file"))],
    to: Annotated[str, typer.Option("--to", help=N_("cli.help.alert.raise.to"))] = "",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Raise an alert to the counterpart; prints its case id."""
    with node_command(lang, config) as node:
        content = read_model(alert_file, AlertContent)
        sent = alerts.raise_alert(
            node, content, to or only_counterpart(node), acting(node, officer)
        )
        _report(node, sent, AlertAction.RAISE, lang)


@app.command("ack", help=N_("cli.help.alert.ack"))
def ack(
    case_id: CaseIdArgument,
    note: Annotated[str | None, typer.Option(help=N_("cli.help.alert.ack.note"))] = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Acknowledge a received alert: it has been read and is being acted on."""
    with user_errors(lang):
        text = free_text(note, note_lang) if note else None
        _step(case_id, AlertAckPayload(note=text), AlertAction.ACK, officer, lang, config)


@app.command("update", help=N_("cli.help.alert.update"))
def update(
    case_id: CaseIdArgument,
    update_file: Annotated[Path, typer.Argument(help=N_("cli.help.alert.update.update_file"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Send the alert as it now stands (sender only), with what changed."""
    with user_errors(lang):
        payload = read_model(update_file, AlertUpdatePayload)
        _step(case_id, payload, AlertAction.UPDATE, officer, lang, config)


@app.command("follow-up", help=N_("cli.help.alert.follow_up"))
def follow_up(
    case_id: CaseIdArgument,
    follow_up_file: Annotated[
        Path, typer.Argument(help=N_("cli.help.alert.follow_up.follow_up_file"))
    ],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Add what your side has found or done (either side)."""
    with user_errors(lang):
        payload = read_model(follow_up_file, AlertFollowUpPayload)
        _step(case_id, payload, AlertAction.FOLLOW_UP, officer, lang, config)


@app.command("close", help=N_("cli.help.alert.close"))
def close(
    case_id: CaseIdArgument,
    reason: Annotated[
        ClosureReason, typer.Option(help=N_("cli.help.alert.close.reason"))
    ] = ClosureReason.RESOLVED,
    note: Annotated[str | None, typer.Option(help=N_("cli.help.alert.close.note"))] = None,
    note_lang: NoteLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Close an alert: the matter is dealt with."""
    with user_errors(lang):
        text = free_text(note, note_lang) if note else None
        _step(
            case_id,
            AlertClosePayload(reason=reason, note=text),
            AlertAction.CLOSE,
            officer,
            lang,
            config,
        )


@app.command("withdraw", help=N_("cli.help.alert.withdraw"))
def withdraw(
    case_id: CaseIdArgument,
    reason: Annotated[str, typer.Option(help=N_("cli.help.alert.withdraw.reason"))],
    reason_lang: ReasonLangOption = "en",
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Withdraw an alert raised in error (sender only)."""
    with user_errors(lang):
        payload = AlertWithdrawPayload(reason=free_text(reason, reason_lang))
        _step(case_id, payload, AlertAction.WITHDRAW, officer, lang, config)


def _due(view: AlertView, locale: str, zone: str) -> str:
    deadline = view.deadline
    return format_datetime(deadline.due_at, locale, zone) if deadline else "—"


def _flags(view: AlertView, locale: str, now: datetime) -> str:
    flags = []
    if view.overdue(now):
        flags.append(translate("cli.alert.flag.overdue", locale))
    if view.alert.escalated_at is not None:
        flags.append(translate("cli.alert.flag.escalated", locale))
    if view.alert.fallback is not None:
        flags.append(translate(FALLBACK_FLAGS[view.alert.fallback], locale))
    return ", ".join(flags)


@app.command("list", help=N_("cli.help.alert.list"))
def list_(
    open_: Annotated[bool, typer.Option("--open", help=N_("cli.help.alert.list.open"))] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help=N_("cli.help.alert.list.overdue"))
    ] = False,
    role: RoleOption = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """The duty officer's picture: escalated alerts first, then the newest."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        views = list_alerts(node, open_only=open_, overdue_only=overdue, role=role)
    if not views:
        say("cli.alert.none", locale)
        return
    zone = tz or node.timezone
    now = node.now()
    table = Table()
    add_id_column(
        table, translate("cli.alert.col.case", locale), (view.alert.case_id for view in views)
    )
    for key in (
        "cli.alert.col.category",
        "cli.alert.col.severity",
        "cli.alert.col.counterpart",
        "cli.alert.col.status",
        "cli.alert.col.due",
        "cli.alert.col.flags",
    ):
        table.add_column(translate(key, locale, tz=zone), overflow="fold")
    for view in views:
        alert = view.alert
        counterpart = alert.recipient if alert.sender == node.agency else alert.sender
        table.add_row(
            alert.case_id,
            translate(f"alert_category.{alert.category}", locale),
            translate(f"alert_severity.{alert.severity}", locale),
            agency_name(counterpart, locale),
            translate(f"status.{alert.status}", locale),
            _due(view, locale, zone),
            _flags(view, locale, now),
        )
    console.print(table)


def _text_line(text: dict[str, str] | None) -> str | None:
    return f"[{text['lang']}] {text['text']}" if text else None


def _print_alert(view: AlertView, locale: str, zone: str) -> None:
    alert, content = view.alert, view.alert.content
    say(
        "cli.alert.header",
        locale,
        case_id=alert.case_id,
        sender=agency_name(alert.sender, locale),
        recipient=agency_name(alert.recipient, locale),
    )
    say(
        "cli.alert.classification",
        locale,
        category=translate(f"alert_category.{content['category']}", locale),
        severity=translate(f"alert_severity.{content['severity']}", locale),
        urgency=translate(f"alert_urgency.{content['urgency']}", locale),
        certainty=translate(f"alert_certainty.{content['certainty']}", locale),
        kind=translate(f"alert_kind.{content['kind']}", locale),
    )
    handling = content["handling"]
    say(
        "cli.alert.handling",
        locale,
        audience=translate(f"alert_audience.{handling['audience']}", locale),
        personal_data=translate(
            "cli.alert.personal_data_yes" if handling["personal_data"] else "cli.alert.no", locale
        ),
    )
    say(
        "cli.alert.times",
        locale,
        status=translate(f"status.{alert.status}", locale),
        raised=format_datetime(alert.raised_at, locale, zone),
        due=_due(view, locale, zone),
    )
    for name in ("description", "description_other"):
        line = _text_line(content.get(name))
        if line:
            console.print(line, highlight=False, markup=False)
    _print_details(content, locale)


def _print_details(content: dict[str, object], locale: str) -> None:
    position = content.get("position")
    if isinstance(position, dict):
        say("cli.alert.position", locale, lat=position["lat"], lon=position["lon"])
    vessel = content.get("vessel")
    if isinstance(vessel, dict):
        say(
            "cli.alert.vessel",
            locale,
            name=vessel.get("name") or "—",
            imo=vessel.get("imo") or "—",
            mmsi=vessel.get("mmsi") or "—",
        )
    vehicle = content.get("vehicle")
    if isinstance(vehicle, dict):
        say("cli.alert.vehicle", locale, plate=vehicle["plate"])
    consignment = content.get("consignment")
    if isinstance(consignment, dict):
        say("cli.alert.consignment", locale, reference=consignment["reference"])
    measures = content.get("measures")
    if isinstance(measures, dict):
        say("cli.alert.measures", locale, text=_text_line(measures))


@app.command("show", help=N_("cli.help.alert.show"))
def show(
    case_id: CaseIdArgument,
    role: RoleOption = None,
    officer: OfficerOption = None,
    lang: LangOption = "",
    tz: TzOption = None,
    config: ConfigOption = None,
) -> None:
    """One alert and its thread, in your language and time zone."""
    locale = normalize_locale(lang)
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        view = alert_view(node, case_id, role)
    zone = tz or node.timezone
    _print_alert(view, locale, zone)
    for entry in view.entries:
        say(
            "cli.alert.entry",
            locale,
            when=format_datetime(entry.recorded_at, locale, zone),
            action=translate(f"alert_action.{entry.action}", locale),
            agency=agency_name(entry.author, locale),
        )
        for value in entry.content.values():
            line = _text_line(value) if isinstance(value, dict) and "lang" in value else None
            if line:
                console.print(f"  {line}", highlight=False, markup=False)


@app.command("export", help=N_("cli.help.alert.export"))
def export_(
    case_id: CaseIdArgument,
    audience: Annotated[Audience, typer.Option(help=N_("cli.help.alert.export.audience"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """The alert as JSON for ``audience``; free text is withheld from other audiences."""
    with node_command(lang, config) as node:
        acting(node, officer, Permission.READ)
        view = alert_view(node, case_id)
    console.print_json(json.dumps(export(view, audience.value), ensure_ascii=False))


@app.command("fallback", help=N_("cli.help.alert.fallback"))
def fallback(
    case_id: CaseIdArgument,
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Print the alert as a notice in both sides' languages, to send by phone, fax or e-mail."""
    with node_command(lang, config) as node:
        view = alert_view(node, case_id)
        mark_fallback_printed(node, case_id, acting(node, officer))
    for code in (view.alert.sender, view.alert.recipient):
        side = agency(code)
        locale = COUNTRY_LOCALE[side.country]
        say("cli.alert.notice_title", locale)
        _print_alert(view, locale, side.time_zone)
        console.print("")


@app.command("reconcile", help=N_("cli.help.alert.reconcile"))
def reconcile_(
    case_id: CaseIdArgument,
    channel: Annotated[FallbackChannel, typer.Option(help=N_("cli.help.alert.reconcile.channel"))],
    reference: Annotated[str, typer.Option(help=N_("cli.help.alert.reconcile.reference"))],
    officer: OfficerOption = None,
    lang: LangOption = "",
    config: ConfigOption = None,
) -> None:
    """Record that an alert went by another channel while the system was down."""
    with node_command(lang, config) as node:
        reconcile(node, case_id, channel, reference, acting(node, officer))
    say("cli.alert.reconciled", lang, case_id=case_id)
