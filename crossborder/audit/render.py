"""Rendering audit entries for a reader: their language, their time zone.

Entries hold keys and neutral parameters; this is the only place that turns
them into sentences. Agency codes become agency names and reason codes become
reasons, from the catalogs. Text a person wrote is shown verbatim with its
language tag: it is never translated silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crossborder.adapters.db.tables import AuditEntry
from crossborder.domain.officers import Role
from crossborder.i18n import format_datetime, labelled, translate
from crossborder.reference.agencies import agency_name

#: Parameters that hold an agency code, shown by name.
AGENCY_PARAMS = frozenset({"sender", "recipient", "agency", "issuer", "counterpart"})
#: Parameters that hold a code, or a list of codes, shown by the label of their key family.
LABELLED_PARAMS = {
    "reasons": "reason.",
    "verification_reasons": "verification_reason.",
    "documents": "document_kind.",
    "type": "message_type.",
    # A deadline rule by its name; one no longer shipped (or a test's own) by its key.
    "rule": "deadline_rule.",
    "alert_category": "alert_category.",
    "alert_severity": "alert_severity.",
    "channel": "alert_channel.",
    "verdict": "verdict.",
    "commodity": "commodity.",
    "recognition_reason": "recognition_reason.",
    "findings": "non_compliance_kind.",
    "actions": "non_compliance_action.",
    "reply": "reply.",
    "role": "role.",
    "previous_role": "role.",
}
#: Roles of registered officers; a person recorded in another role is a bare login.
OFFICER_ROLES = frozenset(role.value for role in Role)


@dataclass(frozen=True)
class RenderedEntry:
    seq: int
    when: str
    actor: str
    text: str
    note: str | None


def _agency(code: str, locale: str) -> str:
    return agency_name(code, locale) if code else translate("actor.unknown_agency", locale)


def _params(entry: AuditEntry, locale: str) -> dict[str, Any]:
    params = labelled(entry.params, LABELLED_PARAMS, locale)
    for name in AGENCY_PARAMS & params.keys():
        params[name] = _agency(str(params[name]), locale)
    return params


def _actor(entry: AuditEntry, locale: str) -> str:
    agency = _agency(entry.actor_agency, locale)
    if entry.actor_kind == "person" and entry.actor_role in OFFICER_ROLES:
        # The role recorded with the entry, not the officer's role today: no lookup.
        role = translate(f"role.{entry.actor_role}", locale)
        return translate("actor.officer", locale, user=entry.actor_id, role=role, agency=agency)
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
