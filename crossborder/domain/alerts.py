"""Alerts between agencies: what is known, how bad, how urgent, and who may read it.

Modelled on OASIS CAP 1.2 (category, severity, urgency, certainty; one info
block per language), on the EU RASFF (alert / information / border-rejection
notifications, follow-ups, closure) and on EU CISE's handling restrictions (the
audience allowed to see an alert, and whether it holds personal data). Text
written by a person is a :class:`FreeText` in the writer's language, with an
optional text in the other side's language; it is never machine-translated.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from crossborder.domain.errors import Forbidden
from crossborder.domain.free_text import FreeText


class AlertCategory(StrEnum):
    FOOD_SAFETY = "food_safety"
    PLANT_PEST = "plant_pest"
    ANIMAL_DISEASE = "animal_disease"
    SMUGGLING = "smuggling"
    SECURITY = "security"
    MARITIME_NAVIGATION = "maritime_navigation"
    MARITIME_SAR = "maritime_sar"


#: Categories whose alerts say where: a vessel in distress or a hazard to navigation.
MARITIME: Final = frozenset({AlertCategory.MARITIME_NAVIGATION, AlertCategory.MARITIME_SAR})


class Severity(StrEnum):
    """CAP ``severity``, worst first."""

    EXTREME = "extreme"
    SEVERE = "severe"
    MODERATE = "moderate"
    MINOR = "minor"


class Urgency(StrEnum):
    """CAP ``urgency``: when action is needed."""

    IMMEDIATE = "immediate"
    EXPECTED = "expected"
    FUTURE = "future"


class Certainty(StrEnum):
    """CAP ``certainty``: how sure the writer is."""

    OBSERVED = "observed"
    LIKELY = "likely"
    POSSIBLE = "possible"
    UNKNOWN = "unknown"


class NotificationKind(StrEnum):
    """RASFF's kinds of notification."""

    ALERT = "alert"
    INFORMATION = "information"
    BORDER_REJECTION = "border_rejection"


class Audience(StrEnum):
    """Who on the receiving side may see an alert (CISE's handling restriction)."""

    ALL = "all"
    CUSTOMS = "customs"
    QUARANTINE = "quarantine"
    BORDER_GUARD = "border_guard"
    MARITIME = "maritime"
    SAR = "sar"
    COAST_GUARD = "coast_guard"


#: Which restrictions an agency of each kind may set: its own audience and the
#: services it works beside on the same ground (a border guard warns the coast
#: guard, a rescue centre the maritime authority). Kinds not listed (a
#: ministry) may send only unrestricted alerts.
RESTRICTIONS_BY_KIND: Final[dict[str, frozenset[Audience]]] = {
    "customs": frozenset({Audience.CUSTOMS}),
    "quarantine": frozenset({Audience.QUARANTINE}),
    "border_guard": frozenset({Audience.BORDER_GUARD, Audience.COAST_GUARD}),
    "coast_guard": frozenset({Audience.COAST_GUARD, Audience.BORDER_GUARD}),
    "maritime": frozenset({Audience.MARITIME, Audience.SAR}),
    "sar": frozenset({Audience.SAR, Audience.MARITIME}),
}


def audience_scope(audience: Audience) -> str:
    """The OAuth scope a sender needs to deliver an alert restricted to ``audience``."""
    return f"alert:{audience.value}"


#: Every restricted audience's scope (``alert:border_guard``…).
AUDIENCE_SCOPES: Final = frozenset(
    audience_scope(audience) for audience in Audience if audience is not Audience.ALL
)


def check_restriction_allowed(sender_kind: str, audience: Audience) -> None:
    """A sender may restrict an alert only to audiences its own kind may address."""
    if audience is not Audience.ALL and audience not in RESTRICTIONS_BY_KIND.get(
        sender_kind, frozenset()
    ):
        raise Forbidden(
            "HANDLING_RESTRICTION_NOT_ALLOWED", audience=audience.value, kind=sender_kind
        )


def visible_to(audience: Audience, role: str | None) -> bool:
    """Whether a reader in ``role`` (an agency kind; ``None``: the node itself) may see it."""
    return audience is Audience.ALL or role is None or role == audience.value


class HandlingRestriction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    audience: Audience = Audience.ALL
    personal_data: bool = Field(
        default=False, description="The alert names people: keep it from wider distribution"
    )


class Position(BaseModel):
    """WGS 84 degrees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lat: float
    lon: float

    @model_validator(mode="after")
    def _plausible(self) -> Position:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise PydanticCustomError(
                "POSITION_OUT_OF_RANGE", "latitude must be within ±90, longitude within ±180"
            )
        return self


class Vessel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    imo: str | None = Field(default=None, pattern=r"^[0-9]{7}$")
    mmsi: str | None = Field(default=None, pattern=r"^[0-9]{9}$")
    name: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _identified(self) -> Vessel:
        if self.imo is None and self.mmsi is None and self.name is None:
            raise PydanticCustomError("VESSEL_UNIDENTIFIED", "give an IMO number, MMSI or name")
        return self


class Vehicle(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    plate: str = Field(min_length=2, max_length=20)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class ConsignmentReference(BaseModel):
    """Goods the alert is about, by a reference both sides hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reference: str = Field(
        min_length=1, max_length=60, description="Declaration, certificate or container number"
    )
    goods: str | None = Field(default=None, max_length=200)


_REQUIRED_CODES = {
    "category": "ALERT_CATEGORY_MISSING",
    "severity": "ALERT_SEVERITY_MISSING",
}


class AlertContent(BaseModel):
    """What an alert says: in ``alert.raise``, and as it now stands in ``alert.update``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: AlertCategory
    severity: Severity
    urgency: Urgency = Urgency.EXPECTED
    certainty: Certainty = Certainty.UNKNOWN
    kind: NotificationKind = NotificationKind.ALERT
    description: FreeText = Field(description="What is known, in the writer's language")
    description_other: FreeText | None = Field(
        default=None, description="The same, in the other side's language, if the writer has it"
    )
    consignment: ConsignmentReference | None = None
    vessel: Vessel | None = None
    vehicle: Vehicle | None = None
    position: Position | None = None
    measures: FreeText | None = Field(default=None, description="Measures already taken")
    handling: HandlingRestriction = HandlingRestriction()

    @model_validator(mode="before")
    @classmethod
    def _named_missing(cls, data: Any) -> Any:
        # Category and severity choose the acknowledgement deadline: say which is missing.
        if isinstance(data, dict):
            for name, code in _REQUIRED_CODES.items():
                if data.get(name) is None:
                    raise PydanticCustomError(code, "{name} is required", {"name": name})
        return data

    @model_validator(mode="after")
    def _consistent(self) -> AlertContent:
        if self.category in MARITIME and self.position is None:
            raise PydanticCustomError("POSITION_REQUIRED", "a maritime alert needs a position")
        other = self.description_other
        if other is not None and other.lang == self.description.lang:
            raise PydanticCustomError(
                "ALERT_TEXT_SAME_LANGUAGE", "the second text must be in another language"
            )
        return self


class AlertRaisePayload(BaseModel):
    """CAP ``Alert`` / a RASFF original notification."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert: AlertContent
    resent: int = Field(
        default=0, ge=0, le=10, description="Times re-sent because the acknowledgement was late"
    )


class AlertUpdatePayload(BaseModel):
    """CAP ``Update``: the sender's alert as it now stands, and what changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert: AlertContent
    note: FreeText


class AlertFollowUpPayload(BaseModel):
    """A RASFF follow-up: either side adds what it has found or done."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: FreeText
    measures: FreeText | None = None


class AlertAckPayload(BaseModel):
    """CAP ``Ack``: the recipient has read the alert and acts on it (not the transport receipt)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: FreeText | None = None


class ClosureReason(StrEnum):
    RESOLVED = "resolved"
    NO_FURTHER_ACTION = "no_further_action"
    UNFOUNDED = "unfounded"


class AlertClosePayload(BaseModel):
    """The matter is dealt with: no more follow-ups are expected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: ClosureReason
    note: FreeText | None = None


class AlertWithdrawPayload(BaseModel):
    """CAP ``Cancel`` / a RASFF withdrawal: the sender takes back an alert raised in error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: FreeText
