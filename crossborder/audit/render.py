"""Rendering audit entries for a reader: their language, their time zone.

Entries hold keys and neutral parameters; this is the only place that turns
them into sentences. Agency codes become agency names and reason codes become
reasons, from the catalogs. Text a person wrote is shown verbatim with its
language tag: it is never translated silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from crossborder.adapters.db.tables import AuditEntry
from crossborder.i18n import catalog, format_datetime, normalize_locale, translate
from crossborder.reference.agencies import agency_name
from crossborder.reference.deadline_rules import rule_name_key

#: Parameters that hold an agency code, shown by name.
AGENCY_PARAMS = frozenset({"sender", "recipient", "agency", "issuer", "counterpart"})


@dataclass(frozen=True)
class RenderedEntry:
    seq: int
    when: str
    actor: str
    text: str
    note: str | None


def _agency(code: str, locale: str) -> str:
    return agency_name(code, locale) if code else translate("actor.unknown_agency", locale)


def _joined(labels: Iterable[str]) -> str:
    return "; ".join(labels) or "—"


def _params(entry: AuditEntry, locale: str) -> dict[str, Any]:
    params = dict(entry.params)
    for name in AGENCY_PARAMS & params.keys():
        params[name] = _agency(str(params[name]), locale)
    # Lists of codes, each shown by its label.
    if "reasons" in params:
        params["reasons"] = _joined(
            translate(f"reason.{c}", locale) for c in params["reasons"] or []
        )
    if "verification_reasons" in params:
        codes = params["verification_reasons"] or []
        params["verification_reasons"] = _joined(
            translate(f"verification_reason.{c}", locale) for c in codes
        )
    if "documents" in params:
        codes = params["documents"] or []
        params["documents"] = _joined(translate(f"document_kind.{c}", locale) for c in codes)
    if "type" in params:
        params["type"] = translate(f"message_type.{params['type']}", locale)
    if "rule" in params:
        # A deadline rule by its name; one no longer shipped (or a test's own) by its key.
        key = str(params["rule"])
        params["rule"] = catalog(normalize_locale(locale)).get(rule_name_key(key), key)
    if "alert_category" in params:
        params["alert_category"] = translate(f"alert_category.{params['alert_category']}", locale)
    if "alert_severity" in params:
        params["alert_severity"] = translate(f"alert_severity.{params['alert_severity']}", locale)
    if "channel" in params:
        params["channel"] = translate(f"alert_channel.{params['channel']}", locale)
    _label_quarantine_codes(params, locale)
    return params


def _label_quarantine_codes(params: dict[str, Any], locale: str) -> None:
    """Plant quarantine: codes shown by their labels; a commodity we do not name stays unnamed."""
    if "verdict" in params:
        params["verdict"] = translate(f"verdict.{params['verdict']}", locale)
    if "commodity" in params:
        code = params["commodity"]
        params["commodity"] = translate(f"commodity.{code}", locale) if code else "—"
    if params.get("recognition_reason"):
        code = params["recognition_reason"]
        params["recognition_reason"] = translate(f"recognition_reason.{code}", locale)
    if "findings" in params:
        kinds = params["findings"] or []
        params["findings"] = _joined(translate(f"non_compliance_kind.{c}", locale) for c in kinds)
    if "actions" in params:
        codes = params["actions"] or []
        params["actions"] = _joined(translate(f"non_compliance_action.{c}", locale) for c in codes)
    if "reply" in params:
        params["reply"] = translate(f"reply.{params['reply']}", locale)


def _actor(entry: AuditEntry, locale: str) -> str:
    agency = _agency(entry.actor_agency, locale)
    if entry.actor_kind == "person":
        return translate("actor.person", locale, user=entry.actor_id, agency=agency)
    if entry.actor_role == "counterpart":
        return translate("actor.counterpart", locale, agency=agency, client_id=entry.actor_id)
    return translate("actor.system", locale, agency=agency)


def render(entry: AuditEntry, locale: str, tz: str) -> RenderedEntry:
    note = entry.params.get("note")
    return RenderedEntry(
        seq=entry.seq,
        when=format_datetime(entry.occurred_at, locale, tz),
        actor=_actor(entry, locale),
        text=translate(f"audit.{entry.event}", locale, **_params(entry, locale)),
        note=f"[{note['lang']}] {note['text']}" if note else None,
    )
