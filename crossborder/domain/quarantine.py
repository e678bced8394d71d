"""Quarantine results (检疫结果 / kết quả kiểm dịch) of fresh produce, and ISPM 13 notices.

The exporting side's plant-protection body inspects a consignment — a truck of
dragon fruit leaving Lạng Sơn for Youyiguan — certifies it with a
phytosanitary certificate and shares the result it rests on: what was
inspected, what the laboratory found, how the goods were treated and the
verdict. When the importing side finds a problem at the border it answers with
a notification of non-compliance (ISPM 13), which the exporting side must
acknowledge.

Units are explicit: every measure names its unit from a closed list, and a
residue without a unit or without its limit is refused, never guessed.
Scientific names are kept exactly as written; common names are ours to give,
by code, from the catalogs (``commodity.<code>``).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from crossborder.domain.decimals import AboveZeroDecimal, AnyDecimal, NotNegativeDecimal, Percent
from crossborder.domain.free_text import FreeText
from crossborder.domain.phytosanitary import PhytosanitaryCertificate

#: Text kept as written (no whitespace stripping): names a laboratory or an inspector wrote.
_KEPT = ConfigDict(extra="forbid", frozen=True)


class NonComplianceStatus(StrEnum):
    """Where a notice of non-compliance (ISPM 13) stands."""

    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    #: Not acknowledged in time (escalated on our side).
    OVERDUE = "overdue"


class ConsignmentStatus(StrEnum):
    """Where a consignment case stands, on either side."""

    CERTIFIED = "certified"
    RESULT_SHARED = "result_shared"
    RESULT_RECEIVED = "result_received"
    DOCUMENTARY_CHECK = "documentary_check"
    REDUCED_SAMPLING = "reduced_sampling"
    NOT_RECOGNISED = "not_recognised"
    NON_COMPLIANT = "non_compliant"
    NON_COMPLIANCE_ACKNOWLEDGED = "non_compliance_acknowledged"
    NON_COMPLIANCE_ACK_OVERDUE = "non_compliance_ack_overdue"


class Commodity(StrEnum):
    """Fresh produce we name ourselves (``commodity.<code>`` in the catalogs)."""

    DRAGON_FRUIT = "dragon_fruit"
    DURIAN = "durian"
    LYCHEE = "lychee"
    LONGAN = "longan"
    BANANA = "banana"
    MANGO = "mango"
    JACKFRUIT = "jackfruit"


class QuantityUnit(StrEnum):
    KILOGRAM = "kg"
    TONNE = "t"


class ConcentrationUnit(StrEnum):
    MILLIGRAM_PER_KILOGRAM = "mg/kg"


class TemperatureUnit(StrEnum):
    CELSIUS = "°C"


class DurationUnit(StrEnum):
    MINUTE = "min"
    HOUR = "h"
    DAY = "d"


class DoseUnit(StrEnum):
    """Fumigant concentration, irradiation dose, dip concentration."""

    GRAM_PER_CUBIC_METRE = "g/m3"
    GRAY = "Gy"
    MILLIGRAM_PER_LITRE = "mg/L"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"


class LifeStage(StrEnum):
    EGG = "egg"
    LARVA = "larva"
    NYMPH = "nymph"
    PUPA = "pupa"
    ADULT = "adult"


class InspectionMethod(StrEnum):
    VISUAL = "visual"
    FRUIT_CUTTING = "fruit_cutting"
    LABORATORY = "laboratory"
    DOCUMENT_CHECK = "document_check"


class TreatmentType(StrEnum):
    VAPOUR_HEAT = "vapour_heat"
    HOT_WATER = "hot_water"
    COLD = "cold"
    IRRADIATION = "irradiation"
    FUMIGATION = "fumigation"


class Quantity(BaseModel):
    model_config = _KEPT

    value: AboveZeroDecimal
    unit: QuantityUnit


class Temperature(BaseModel):
    model_config = _KEPT

    value: AnyDecimal
    unit: TemperatureUnit


class Duration(BaseModel):
    model_config = _KEPT

    value: AboveZeroDecimal
    unit: DurationUnit


class Dose(BaseModel):
    model_config = _KEPT

    value: AboveZeroDecimal
    unit: DoseUnit


class ConsignmentIdentity(BaseModel):
    """Which goods: the truck or container, the gate, the commodity and its lot."""

    model_config = _KEPT

    truck_plate: str | None = Field(default=None, min_length=1, max_length=20)
    container_number: str | None = Field(default=None, pattern=r"^[A-Z]{4}[0-9]{7}$")
    #: A gate code of ``crossborder.reference.gates`` (the exit gate).
    gate: str = Field(min_length=1, max_length=20)
    hs_code: str = Field(pattern=r"^[0-9]{6}$")
    commodity: Commodity | None = None
    #: The botanical name as the certificate writes it (``Hylocereus undatus``).
    botanical_name: str = Field(min_length=1, max_length=200)
    lot: str = Field(min_length=1, max_length=50)
    quantity: Quantity
    packages: int = Field(ge=1)
    exporter: str = Field(min_length=1, max_length=200)
    packing_house_code: str | None = Field(default=None, min_length=1, max_length=50)
    growing_area_code: str | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _carried_by_something(self) -> ConsignmentIdentity:
        if self.truck_plate is None and self.container_number is None:
            raise PydanticCustomError(
                "CONSIGNMENT_TRANSPORT_MISSING", "a truck plate or a container number is needed"
            )
        return self


class Inspection(BaseModel):
    """What the exporting side inspected, and how much of it."""

    model_config = _KEPT

    inspected_at: AwareDatetime
    methods: tuple[InspectionMethod, ...] = Field(min_length=1)
    packages_inspected: int = Field(ge=0)
    sampling_rate_percent: Percent


class PestFinding(BaseModel):
    """A pest found: its scientific name as the laboratory wrote it."""

    model_config = _KEPT

    scientific_name: str = Field(min_length=1, max_length=200)
    life_stage: LifeStage | None = None
    quarantine_pest: bool
    alive: bool | None = None


class ResidueFinding(BaseModel):
    """A pesticide residue measured against its maximum residue limit, in the same unit."""

    model_config = _KEPT

    substance: str = Field(min_length=1, max_length=200)
    measured: NotNegativeDecimal
    # Optional in the schema only so that their absence gets its own code: a
    # residue without its unit or limit cannot be judged, and the sender must
    # know which is missing. Neither is ever guessed.
    limit: AboveZeroDecimal | None = Field(default=None, description="required")
    unit: ConcentrationUnit | None = Field(default=None, description="required")

    @model_validator(mode="after")
    def _unit_and_limit_given(self) -> ResidueFinding:
        if self.unit is None:
            raise PydanticCustomError("RESIDUE_UNIT_MISSING", "a residue needs its unit")
        if self.limit is None:
            raise PydanticCustomError("RESIDUE_LIMIT_MISSING", "a residue needs its limit")
        return self

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.measured > self.limit


class Treatment(BaseModel):
    model_config = _KEPT

    type: TreatmentType
    temperature: Temperature | None = None
    duration: Duration | None = None
    dose: Dose | None = None


class QuarantineResult(BaseModel):
    """The exporting side's inspection of one consignment, and the verdict it reached."""

    model_config = _KEPT

    #: The exporting body's own reference for this result.
    reference: str = Field(min_length=1, max_length=64)
    #: The phytosanitary certificate the result rests on.
    certificate_number: str = Field(min_length=1, max_length=35)
    consignment: ConsignmentIdentity
    inspection: Inspection
    pests: tuple[PestFinding, ...] = Field(default=(), max_length=100)
    residues: tuple[ResidueFinding, ...] = Field(default=(), max_length=200)
    treatments: tuple[Treatment, ...] = Field(default=(), max_length=10)
    verdict: Verdict

    @model_validator(mode="after")
    def _verdict_matches_findings(self) -> QuarantineResult:
        if self.verdict is Verdict.PASS and (self.quarantine_pests or self.residues_over_limit):
            raise PydanticCustomError(
                "VERDICT_CONTRADICTS_FINDINGS",
                "a pass with a quarantine pest or a residue over its limit",
            )
        return self

    @property
    def quarantine_pests(self) -> tuple[PestFinding, ...]:
        return tuple(pest for pest in self.pests if pest.quarantine_pest)

    @property
    def residues_over_limit(self) -> tuple[ResidueFinding, ...]:
        return tuple(residue for residue in self.residues if residue.over_limit)


class NonComplianceKind(StrEnum):
    """What the importing side found (ISPM 13 §4)."""

    QUARANTINE_PEST = "quarantine_pest"
    RESIDUE_OVER_LIMIT = "residue_over_limit"
    DOCUMENT_MISMATCH = "document_mismatch"


class NonComplianceAction(StrEnum):
    """What the importing side did with the consignment."""

    REJECTED = "rejected"
    TREATED = "treated"
    DESTROYED = "destroyed"
    RE_EXPORTED = "re_exported"
    RELEASED_WITH_CONDITIONS = "released_with_conditions"


class NonComplianceFinding(BaseModel):
    """One problem found, with the pest or residue it is about."""

    model_config = _KEPT

    kind: NonComplianceKind
    pest: PestFinding | None = None
    residue: ResidueFinding | None = None
    #: For a document mismatch: what differs, as the inspector wrote it.
    detail: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _evidence_matches_kind(self) -> NonComplianceFinding:
        kind = self.kind
        if kind is NonComplianceKind.QUARANTINE_PEST and (
            self.pest is None or not self.pest.quarantine_pest
        ):
            raise PydanticCustomError(
                "FINDING_EVIDENCE_MISSING", "a quarantine-pest finding names the quarantine pest"
            )
        if kind is NonComplianceKind.RESIDUE_OVER_LIMIT and (
            self.residue is None or not self.residue.over_limit
        ):
            raise PydanticCustomError(
                "FINDING_EVIDENCE_MISSING", "a residue finding gives a residue over its limit"
            )
        if kind is NonComplianceKind.DOCUMENT_MISMATCH and self.detail is None:
            raise PydanticCustomError(
                "FINDING_EVIDENCE_MISSING", "a document mismatch says what differs"
            )
        return self


class NonComplianceNotice(BaseModel):
    """A notification of non-compliance (ISPM 13) for one consignment."""

    model_config = _KEPT

    #: The importing body's reference for the notice.
    reference: str = Field(min_length=1, max_length=64)
    certificate_number: str = Field(min_length=1, max_length=35)
    findings: tuple[NonComplianceFinding, ...] = Field(min_length=1, max_length=50)
    actions: tuple[NonComplianceAction, ...] = Field(min_length=1, max_length=5)
    #: Whether the importing side expects an investigation report, beyond the acknowledgement.
    reply_expected: bool


# --- what travels between the two plant-protection bodies ---


class QuarantineResultPayload(BaseModel):
    """``sps.quarantine_result``: the result, with the certificate it rests on, for the importer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    result: QuarantineResult
    certificate: PhytosanitaryCertificate

    @model_validator(mode="after")
    def _same_certificate(self) -> QuarantineResultPayload:
        if self.certificate.document.id != self.result.certificate_number:
            raise PydanticCustomError(
                "QUARANTINE_CERTIFICATE_MISMATCH",
                "the result names another certificate than the one it carries",
            )
        return self


class NonCompliancePayload(BaseModel):
    """``sps.non_compliance``: the importing side's ISPM 13 notice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notice: NonComplianceNotice
    note: FreeText | None = None


class NonComplianceAckPayload(BaseModel):
    """``sps.non_compliance_ack``: the exporting side has received the notice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notice_reference: str = Field(min_length=1, max_length=64)
    certificate_number: str = Field(min_length=1, max_length=35)
    note: FreeText | None = None
