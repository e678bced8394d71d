"""Mutual recognition of inspection results (查验结果参考互认 / công nhận lẫn nhau).

The importing side decides, for each quarantine result it receives, whether to
rely on the exporting side's inspection: a documentary check only, a reduced
sampling rate, or a full inspection because the result is not recognised.
What it decides by is data — rules per commodity (an HS prefix) and exporting
body, each valid between two dates — so liaison officers change it without a
release. :func:`evaluate` is the whole decision, with no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from crossborder.domain.agencies import AgencyCode
from crossborder.domain.decimals import PercentBetween
from crossborder.domain.errors import InvalidInput
from crossborder.domain.free_text import FreeText
from crossborder.domain.quarantine import QuarantineResult, Verdict


class RecognitionOutcome(StrEnum):
    DOCUMENTARY_CHECK = "documentary_check"
    REDUCED_SAMPLING = "reduced_sampling"
    NOT_RECOGNISED = "not_recognised"


class NonRecognitionReason(StrEnum):
    """Why a result is not recognised (``recognition_reason.<code>`` in the catalogs)."""

    NO_ARRANGEMENT = "NO_ARRANGEMENT"
    ARRANGEMENT_SUSPENDED = "ARRANGEMENT_SUSPENDED"
    EXPORTER_VERDICT_FAIL = "EXPORTER_VERDICT_FAIL"
    RECENT_NON_COMPLIANCE = "RECENT_NON_COMPLIANCE"
    DOCUMENTS_INCONSISTENT = "DOCUMENTS_INCONSISTENT"
    OTHER = "OTHER"


class _Outcome(BaseModel):
    """An outcome with what it needs: a rate for reduced sampling, a reason for a refusal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: RecognitionOutcome
    sampling_rate_percent: PercentBetween | None = None
    reason: NonRecognitionReason | None = None

    @model_validator(mode="after")
    def _complete(self) -> _Outcome:
        reduced = self.outcome is RecognitionOutcome.REDUCED_SAMPLING
        refused = self.outcome is RecognitionOutcome.NOT_RECOGNISED
        if reduced != (self.sampling_rate_percent is not None):
            raise PydanticCustomError(
                "RECOGNITION_SAMPLING_RATE_MISMATCH",
                "a sampling rate goes with reduced sampling, and only with it",
            )
        if refused != (self.reason is not None):
            raise PydanticCustomError(
                "RECOGNITION_REASON_MISMATCH",
                "a reason goes with a refusal of recognition, and only with it",
            )
        return self


class RecognitionRule(_Outcome):
    """One arrangement: this commodity from this exporting body, between these dates."""

    id: str = Field(min_length=1, max_length=64)
    #: HS digits the commodity's code starts with (``0810`` for all of heading 08.10).
    hs_prefix: str = Field(pattern=r"^[0-9]{2,6}$")
    exporting_agency: AgencyCode
    valid_from: date
    #: The last day the rule applies; ``None`` until it is ended.
    valid_to: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> RecognitionRule:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise PydanticCustomError(
                "RECOGNITION_RULE_DATES_REVERSED", "a rule must end after it starts"
            )
        return self

    def applies(self, hs_code: str, exporting_agency: str, on: date) -> bool:
        return (
            hs_code.startswith(self.hs_prefix)
            and exporting_agency == self.exporting_agency
            and self.valid_from <= on
            and (self.valid_to is None or on <= self.valid_to)
        )

    def overlaps(self, other: RecognitionRule) -> bool:
        """Same commodity prefix and body, on at least one common day: which would win?"""
        ends = self.valid_to or date.max
        other_ends = other.valid_to or date.max
        return (
            self.hs_prefix == other.hs_prefix
            and self.exporting_agency == other.exporting_agency
            and self.valid_from <= other_ends
            and other.valid_from <= ends
        )


class RecognitionRuleSet(BaseModel):
    """The rules in force together; at most one may apply per prefix, body and day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[RecognitionRule, ...] = Field(max_length=1000)

    @model_validator(mode="after")
    def _unambiguous(self) -> RecognitionRuleSet:
        ids = [rule.id for rule in self.rules]
        if len(set(ids)) != len(ids):
            raise PydanticCustomError("RECOGNITION_RULE_ID_REPEATED", "a rule id is used twice")
        for index, rule in enumerate(self.rules):
            if any(rule.overlaps(other) for other in self.rules[index + 1 :]):
                raise PydanticCustomError(
                    "RECOGNITION_RULES_OVERLAP",
                    "two rules for the same commodity and body apply on the same day",
                )
        return self


class RecognitionDecision(_Outcome):
    """The importing side's decision on one result, and the rule it came from, if any."""

    rule_id: str | None = Field(default=None, max_length=64)

    @property
    def recognised(self) -> bool:
        return self.outcome is not RecognitionOutcome.NOT_RECOGNISED


def evaluate(
    rules: Sequence[RecognitionRule], result: QuarantineResult, exporting_agency: str, on: date
) -> RecognitionDecision | None:
    """What the rules decide for ``result`` on day ``on``; ``None`` when no rule applies.

    A result the exporting side itself failed is never recognised, whatever the
    rules say. Of the rules that apply, the one with the longest HS prefix wins
    (a rule for dragon fruit beats one for all of chapter 08).
    """
    if result.verdict is Verdict.FAIL:
        return RecognitionDecision(
            outcome=RecognitionOutcome.NOT_RECOGNISED,
            reason=NonRecognitionReason.EXPORTER_VERDICT_FAIL,
        )
    hs_code = result.consignment.hs_code
    applicable = [rule for rule in rules if rule.applies(hs_code, exporting_agency, on)]
    if not applicable:
        return None
    rule = max(applicable, key=lambda candidate: len(candidate.hs_prefix))
    return RecognitionDecision(
        outcome=rule.outcome,
        sampling_rate_percent=rule.sampling_rate_percent,
        reason=rule.reason,
        rule_id=rule.id,
    )


def check_decidable(decision: RecognitionDecision, result: QuarantineResult) -> None:
    """An officer's decision must not recognise a result its own inspector failed."""
    if decision.recognised and result.verdict is Verdict.FAIL:
        raise InvalidInput("RECOGNITION_OF_FAILED_RESULT", reference=result.reference)


class RecognitionDecisionPayload(BaseModel):
    """``sps.recognition_decision``: the importing side's decision, for the exporting side."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    result_reference: str = Field(min_length=1, max_length=64)
    certificate_number: str = Field(min_length=1, max_length=35)
    decision: RecognitionDecision
    note: FreeText | None = None
