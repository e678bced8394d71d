"""The green lane for fresh farm produce (鲜活农产品绿色通道 / luồng xanh nông sản).

"One declaration, one inspection, one release" (三个一): the exporting side's
customs sends a pre-arrival notice for a truck (WTO TFA Art. 7.1); the
importing side decides its lane at once, from rules that are data (Art. 7.4):
green (documents only, released on arrival), yellow (one joint inspection) or
red (full inspection, not eligible for the fast lane). The gate records the
truck's arrival, which starts the release clock; a yellow or red truck gets one
joint inspection record that an officer of each side signs; one release notice
(or a refusal) closes the case on both sides. Times are measured from the
recorded steps (Art. 7.6, the WCO Time Release Study method) and compared with
the published targets.

Plain "luồng xanh" is Vietnam's customs risk channel, another thing: the
catalogs always say "luồng xanh nông sản".
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Protocol, TypeAlias
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from crossborder.domain.free_text import FreeText
from crossborder.domain.quarantine import Quantity

_MODEL = ConfigDict(extra="forbid", frozen=True)


class Lane(StrEnum):
    """The lane a truck takes, from the least to the most checked."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def weight(self) -> int:
        return list(Lane).index(self)


class LaneStatus(StrEnum):
    """Where a truck's case stands, on either side."""

    NOTIFIED = "notified"
    DECIDED = "decided"
    ARRIVED = "arrived"
    INSPECTED = "inspected"
    RELEASED = "released"
    REFUSED = "refused"


# --- the pre-arrival notice ------------------------------------------------------------

#: Chinese plates: the province's character, the issuing office's letter, then five
#: characters (six on new-energy plates); I and O are never used, and a trailer ends in 挂.
_CN_PLATE = re.compile(
    r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
    r"[A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂]$"
)
#: Vietnamese plates: the province number (11–99), a series (a letter, maybe a letter or a
#: digit more), then four digits or five written 123.45 (``12C-123.45`` is Lạng Sơn's).
_VN_PLATE = re.compile(r"^(1[1-9]|[2-9][0-9])[A-Z][A-Z0-9]?-?([0-9]{4}|[0-9]{3}\.?[0-9]{2})$")
_PLATES = {"CN": _CN_PLATE, "VN": _VN_PLATE}


def plate_key(plate: str) -> str:
    """A plate as two writings of it compare: no spaces, hyphens or dots, upper case."""
    return re.sub(r"[\s.\-]", "", plate).upper()


class Driver(BaseModel):
    model_config = _MODEL

    name: str = Field(min_length=1, max_length=200)
    #: Passport or border pass number, as written on it.
    document_number: str = Field(min_length=1, max_length=40)


class Truck(BaseModel):
    """The vehicle, its driver and the seals on its load."""

    model_config = _MODEL

    plate: str = Field(min_length=5, max_length=12, examples=["12C-123.45", "桂F12345"])
    #: The country that registered the plate, whose format it must follow.
    plate_country: Literal["CN", "VN"]
    driver: Driver
    seals: tuple[str, ...] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _plate_of_its_country(self) -> Truck:
        if not _PLATES[self.plate_country].match(self.plate.strip().upper()):
            raise PydanticCustomError(
                "PLATE_FORMAT_INVALID", "the plate does not follow its country's format"
            )
        return self


class Trader(BaseModel):
    """The importer or exporter the truck's goods belong to, by its registered identifier."""

    model_config = _MODEL

    #: China's unified social credit code or Vietnam's tax code.
    id: str = Field(min_length=10, max_length=18)
    name: str = Field(min_length=1, max_length=200)


class CommodityLine(BaseModel):
    model_config = _MODEL

    hs_code: str = Field(pattern=r"^[0-9]{6}$")
    description: str = Field(min_length=1, max_length=200)
    quantity: Quantity
    packages: int = Field(ge=1)


class DocumentReferences(BaseModel):
    """Documents already exchanged, by number: the node looks them up, never takes them on trust."""

    model_config = _MODEL

    certificate_of_origin: str | None = Field(default=None, min_length=1, max_length=35)
    phytosanitary_certificate: str | None = Field(default=None, min_length=1, max_length=35)


class LaneNotice(BaseModel):
    """What the exporting side tells before the truck leaves (pre-arrival processing)."""

    model_config = _MODEL

    #: The exporting side's reference for the notice.
    reference: str = Field(min_length=1, max_length=64)
    truck: Truck
    #: The importing side's gate the truck will enter by (``CNYYG``).
    gate: str = Field(min_length=1, max_length=20)
    expected_arrival: AwareDatetime
    trader: Trader
    lines: tuple[CommodityLine, ...] = Field(min_length=1, max_length=50)
    documents: DocumentReferences


# --- the lane decision -----------------------------------------------------------------


class LaneRule(StrEnum):
    """A rule that fired on a notice (``lane_rule.<code>`` in the catalogs)."""

    ON_GREEN_LIST = "ON_GREEN_LIST"
    NOT_ON_GREEN_LIST = "NOT_ON_GREEN_LIST"
    CO_VALID = "CO_VALID"
    CO_MISSING = "CO_MISSING"
    CO_UNKNOWN = "CO_UNKNOWN"
    CO_PENDING = "CO_PENDING"
    CO_INVALID = "CO_INVALID"
    PHYTO_RECOGNISED = "PHYTO_RECOGNISED"
    PHYTO_MISSING = "PHYTO_MISSING"
    PHYTO_UNKNOWN = "PHYTO_UNKNOWN"
    PHYTO_PENDING = "PHYTO_PENDING"
    PHYTO_SAMPLING = "PHYTO_SAMPLING"
    PHYTO_INVALID = "PHYTO_INVALID"
    OPEN_ALERT = "OPEN_ALERT"
    TRADER_WATCHED = "TRADER_WATCHED"
    RANDOM_SELECTION = "RANDOM_SELECTION"
    GATE_CLOSED_AT_ARRIVAL = "GATE_CLOSED_AT_ARRIVAL"


class DocumentState(StrEnum):
    """What the importing node holds of a referenced document."""

    #: Accepted (Form E), or recognised for documentary check (quarantine result).
    VALID = "valid"
    MISSING = "missing"
    UNKNOWN = "unknown"
    #: Received, not yet decided.
    PENDING = "pending"
    #: Recognised with reduced sampling: the goods are looked at once, jointly.
    SAMPLING = "sampling"
    #: Rejected, revoked, not recognised, failed.
    INVALID = "invalid"


CO_RULES = {
    DocumentState.VALID: LaneRule.CO_VALID,
    DocumentState.MISSING: LaneRule.CO_MISSING,
    DocumentState.UNKNOWN: LaneRule.CO_UNKNOWN,
    DocumentState.PENDING: LaneRule.CO_PENDING,
    DocumentState.INVALID: LaneRule.CO_INVALID,
}
PHYTO_RULES = {
    DocumentState.VALID: LaneRule.PHYTO_RECOGNISED,
    DocumentState.MISSING: LaneRule.PHYTO_MISSING,
    DocumentState.UNKNOWN: LaneRule.PHYTO_UNKNOWN,
    DocumentState.PENDING: LaneRule.PHYTO_PENDING,
    DocumentState.SAMPLING: LaneRule.PHYTO_SAMPLING,
    DocumentState.INVALID: LaneRule.PHYTO_INVALID,
}


class Standing(StrEnum):
    """A trader's standing with the importing side (data, reviewed by the agency)."""

    GOOD = "good"
    ORDINARY = "ordinary"
    WATCHED = "watched"


class GreenListEntry(BaseModel):
    """A commodity admitted to the fast lane, by HS prefix, for a period."""

    model_config = _MODEL

    hs_prefix: str = Field(pattern=r"^[0-9]{4,6}$")
    perishable: bool
    valid_from: date
    valid_to: date | None = None

    def covers(self, hs_code: str, on: date) -> bool:
        in_force = self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)
        return in_force and hs_code.startswith(self.hs_prefix)


class Promise(BaseModel):
    """A release time promised for perishables (some FTAs: six hours from arrival)."""

    model_config = _MODEL

    id: str = Field(pattern=r"^[A-Z0-9_]+$")
    hours: int = Field(gt=0)
    #: Only for a truck whose notice came before it arrived and that takes the green lane.
    lane: Lane
    citation: str


#: The steps measured (Art. 7.6), each between two recorded moments of a case: see :data:`STEPS`.
Step: TypeAlias = Literal["decision", "inspection", "release"]
#: Minutes allowed per measured step, by lane, as published; a lane with none has no target.
Targets: TypeAlias = dict[Step, dict[Lane, Annotated[int, Field(ge=0)]]]


class LaneRules(BaseModel):
    """Everything a lane decision depends on, as data (``reference/data/lane_rules.json``)."""

    model_config = _MODEL

    version: str = Field(min_length=1, max_length=32)
    green_list: tuple[GreenListEntry, ...]
    #: The lane each rule sends a truck to, when it fires.
    consequences: dict[LaneRule, Lane]
    #: Trader id → standing; a trader not listed is ordinary.
    traders: dict[str, Standing]
    random_selection_percent: Decimal = Field(ge=0, le=100)
    #: The published targets, unless the node's settings name a targets file of its own.
    targets: Targets
    promises: tuple[Promise, ...]


@dataclass(frozen=True)
class Facts:
    """What the importing node found about a notice, before any rule is applied."""

    on_green_list: bool
    perishable: bool
    certificate_of_origin: DocumentState
    phytosanitary: DocumentState
    open_alert: bool
    standing: Standing
    #: Whether the gate is closed at the expected arrival, and the truck may not wait for it.
    gate_closed: bool


def draw(seed: str, case_id: str) -> Decimal:
    """The random-selection draw in [0, 1): reproducible by an auditor from the recorded seed."""
    value = int.from_bytes(hashlib.sha256(f"{seed}:{case_id}".encode()).digest()[:8], "big")
    return (Decimal(value) / Decimal(2**64)).quantize(Decimal("0.000001"))


def fired_rules(facts: Facts, drawn: Decimal, rate_percent: Decimal) -> tuple[LaneRule, ...]:
    """Every rule that applies to the notice, in the order an officer reads them.

    ``drawn`` is the random draw in [0, 1), selected when under ``rate_percent``.
    """
    fired = [
        LaneRule.ON_GREEN_LIST if facts.on_green_list else LaneRule.NOT_ON_GREEN_LIST,
        CO_RULES[facts.certificate_of_origin],
        PHYTO_RULES[facts.phytosanitary],
    ]
    if facts.open_alert:
        fired.append(LaneRule.OPEN_ALERT)
    if facts.standing is Standing.WATCHED:
        fired.append(LaneRule.TRADER_WATCHED)
    if facts.gate_closed:
        fired.append(LaneRule.GATE_CLOSED_AT_ARRIVAL)
    if drawn * 100 < rate_percent:
        fired.append(LaneRule.RANDOM_SELECTION)
    return tuple(fired)


def lane_for(fired: tuple[LaneRule, ...], rules: LaneRules) -> Lane:
    """The most checked lane any fired rule sends the truck to (green when none does)."""
    lanes = [rules.consequences.get(rule, Lane.GREEN) for rule in fired]
    return max(lanes, key=lambda lane: lane.weight, default=Lane.GREEN)


class FiredRule(BaseModel):
    model_config = _MODEL

    code: LaneRule
    lane: Lane


class Draw(BaseModel):
    """The random selection, as drawn: anyone with the seed and the case id gets the same value."""

    model_config = _MODEL

    seed: str = Field(pattern=r"^[0-9a-f]{32}$")
    value: Decimal = Field(ge=0, lt=1)
    rate_percent: Decimal = Field(ge=0, le=100)


class LaneDecisionPayload(BaseModel):
    """``lane.decision``: the importing side's lane for a notified truck, with every rule."""

    model_config = _MODEL

    notice_reference: str = Field(min_length=1, max_length=64)
    lane: Lane
    rules: tuple[FiredRule, ...] = Field(min_length=1, max_length=30)
    draw: Draw
    rules_version: str = Field(min_length=1, max_length=32)
    #: When the gate opens, if the truck is expected while it is closed.
    gate_opens_at: AwareDatetime | None = None
    #: The release promise that holds for this truck, if any.
    promise: str | None = Field(default=None, max_length=40)


class LaneNoticePayload(BaseModel):
    """``lane.notice``: the pre-arrival notice of one truck."""

    model_config = _MODEL

    notice: LaneNotice


class LaneArrivalPayload(BaseModel):
    """``lane.arrival``: the truck is at the gate; the release clock runs from here."""

    model_config = _MODEL

    gate: str = Field(min_length=1, max_length=20)
    arrived_at: AwareDatetime


# --- one joint inspection (一站式查验) ------------------------------------------------


class FindingKind(StrEnum):
    SEAL_BROKEN = "seal_broken"
    GOODS_MISMATCH = "goods_mismatch"
    QUANTITY_MISMATCH = "quantity_mismatch"
    PEST_FOUND = "pest_found"
    DECAY = "decay"
    NONE_FOUND = "none_found"


class InspectionFinding(BaseModel):
    model_config = _MODEL

    kind: FindingKind
    detail: FreeText | None = None


class InspectionResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"


class JointInspectionRecord(BaseModel):
    """The one record of the one inspection: written once, relied on by both sides."""

    model_config = _MODEL

    case_id: str = Field(min_length=1, max_length=48)
    gate: str = Field(min_length=1, max_length=20)
    inspected_at: AwareDatetime
    lane: Lane
    findings: tuple[InspectionFinding, ...] = Field(min_length=1, max_length=50)
    result: InspectionResult


class OfficerSignature(BaseModel):
    """An officer's signature on the record: a JWS by their node's key over the record's digest."""

    model_config = _MODEL

    agency: str = Field(min_length=1, max_length=32)
    officer: str = Field(min_length=1, max_length=100)
    jws: str = Field(max_length=4000, description="JWS compact, typ crossborder-inspection+jws")


class LaneInspectionPayload(BaseModel):
    """``lane.inspection``: the record, signed by the officer of the side that wrote it."""

    model_config = _MODEL

    record: JointInspectionRecord
    signature: OfficerSignature


class LaneCountersignPayload(BaseModel):
    """``lane.countersign``: the other side's officer signs the same record, adding findings."""

    model_config = _MODEL

    record_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    signature: OfficerSignature
    findings: tuple[InspectionFinding, ...] = Field(default=(), max_length=50)


# --- one release -----------------------------------------------------------------------


class ReleaseOutcome(StrEnum):
    RELEASED = "released"
    REFUSED = "refused"


class RefusalReason(StrEnum):
    INSPECTION_FAILED = "INSPECTION_FAILED"
    DOCUMENTS_INVALID = "DOCUMENTS_INVALID"
    SEAL_BROKEN = "SEAL_BROKEN"
    GOODS_MISMATCH = "GOODS_MISMATCH"
    OTHER = "OTHER"


class LaneReleasePayload(BaseModel):
    """``lane.release``: the one release notice, or the refusal, that closes the case."""

    model_config = _MODEL

    outcome: ReleaseOutcome
    released_at: AwareDatetime
    reasons: tuple[RefusalReason, ...] = Field(default=(), max_length=10)
    #: Released outside the gate's hours, as a rule allows for perishables (TFA Art. 7.9).
    outside_hours: bool = False
    note: FreeText | None = None

    @model_validator(mode="after")
    def _refusal_has_reasons(self) -> LaneReleasePayload:
        if (self.outcome is ReleaseOutcome.REFUSED) != bool(self.reasons):
            raise PydanticCustomError(
                "RELEASE_REASONS_MISMATCH", "a refusal gives its reasons; a release gives none"
            )
        return self


# --- gate hours ------------------------------------------------------------------------


class WorkingCalendar(Protocol):
    def is_working_day(self, day: date) -> bool: ...


class OpeningWindow(BaseModel):
    """Hours a gate works on its own clock: on working days of both countries, or every day."""

    model_config = _MODEL

    kind: Literal["normal", "extended", "round_the_clock"]
    days: Literal["working_days", "every_day"]
    opens: time
    closes: time


class GateHours(BaseModel):
    """One gate's opening hours as data, and whether perishables may pass outside them."""

    model_config = _MODEL

    gate: str = Field(min_length=1, max_length=20)
    time_zone: str
    windows: tuple[OpeningWindow, ...] = Field(min_length=1)
    #: TFA Art. 7.9: perishables may be released outside business hours (exceptional cases).
    perishables_outside_hours: bool
    citation: str

    def _open_on(self, day: date, calendars: tuple[WorkingCalendar, ...]) -> list[OpeningWindow]:
        working = all(calendar.is_working_day(day) for calendar in calendars)
        return [w for w in self.windows if w.days == "every_day" or working]

    def is_open(self, at: datetime, calendars: tuple[WorkingCalendar, ...]) -> bool:
        local = at.astimezone(ZoneInfo(self.time_zone))
        return any(
            window.kind == "round_the_clock" or window.opens <= local.time() < window.closes
            for window in self._open_on(local.date(), calendars)
        )

    def next_opening(self, at: datetime, calendars: tuple[WorkingCalendar, ...]) -> datetime | None:
        """When the gate next opens after ``at``; None if open then (or closed for 30 days)."""
        if self.is_open(at, calendars):
            return None
        zone = ZoneInfo(self.time_zone)
        local = at.astimezone(zone)
        for offset in range(31):
            day = local.date() + timedelta(days=offset)
            starts = sorted(
                datetime.combine(day, window.opens, zone)
                for window in self._open_on(day, calendars)
            )
            for start in starts:
                if start > local:
                    return start
        return None


# --- measured times (TFA Art. 7.6) -----------------------------------------------------

#: The steps measured, each between two recorded moments of a case.
STEPS: dict[Step, tuple[str, str]] = {
    "decision": ("notified_at", "decided_at"),
    "inspection": ("arrived_at", "inspected_at"),
    "release": ("arrived_at", "released_at"),
}


@dataclass(frozen=True)
class StepFigures:
    step: str
    lane: Lane
    count: int
    median_minutes: Decimal
    p90_minutes: Decimal
    within_target_percent: Decimal | None
    target_minutes: int | None


def percentile(sorted_minutes: list[Decimal], share: Decimal) -> Decimal:
    """The nearest-rank percentile (no interpolation): a time some truck actually took."""
    rank = max(1, int(-(-len(sorted_minutes) * share // 100)))
    return sorted_minutes[rank - 1]


def step_figures(
    step: str, lane: Lane, minutes: list[Decimal], target: int | None
) -> StepFigures | None:
    if not minutes:
        return None
    ordered = sorted(minutes)
    within = None
    if target is not None:
        share = Decimal(sum(1 for m in ordered if m <= target) * 100) / len(ordered)
        within = share.quantize(Decimal("0.1"))
    return StepFigures(
        step=step,
        lane=lane,
        count=len(ordered),
        median_minutes=percentile(ordered, Decimal(50)).quantize(Decimal("0.1")),
        p90_minutes=percentile(ordered, Decimal(90)).quantize(Decimal("0.1")),
        within_target_percent=within,
        target_minutes=target,
    )
