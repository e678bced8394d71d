"""Rendering audit entries for a reader: their language, their time zone.

Entries hold keys and neutral parameters; this is the only place that turns
them into sentences. Agency codes become agency names and reason codes become
reasons, from the catalogs; an instant (a due time, stored on the acting side's
clock) is shown in the reader's zone and language, like the time of the entry
itself. Text a person wrote is shown verbatim with its language tag: it is
never translated silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crossborder.adapters.db.tables import AuditEntry
from crossborder.audit.trail import INSTANT_PARAMS
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


def _instant(stored: Any, locale: str, tz: str) -> Any:
    try:
        moment = datetime.fromisoformat(str(stored))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        # Not what ``record`` writes: an altered entry is still shown, as it is stored.
        return stored
    return format_datetime(moment, locale, tz)


def _params(params: Mapping[str, Any], locale: str, tz: str) -> dict[str, Any]:
    shown = labelled(params, LABELLED_PARAMS, locale)
    for name in AGENCY_PARAMS & shown.keys():
        shown[name] = _agency(str(shown[name]), locale)
    for name in INSTANT_PARAMS & shown.keys():
        shown[name] = _instant(shown[name], locale, tz)
    return shown


def sentence(key: str, params: Mapping[str, Any], locale: str, tz: str) -> str:
    """The sentence of an audit key with its stored parameters, for a reader in ``tz``."""
    return translate(key, locale, **_params(params, locale, tz))


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
        text=sentence(f"audit.{entry.event}", entry.params, locale, tz),
        note=f"[{note['lang']}] {note['text']}" if note else None,
    )
