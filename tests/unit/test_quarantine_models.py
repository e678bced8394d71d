"""Quarantine results and ISPM 13 notices: units explicit, verdicts consistent, names verbatim."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from crossborder.domain.quarantine import (
    NonComplianceNotice,
    QuarantineResult,
    QuarantineResultPayload,
    Verdict,
)
from crossborder.domain.validation import violations_from

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quarantine"
EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples" / "messages"


def result_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "dragon-fruit-result.json").read_text("utf-8"))
    return data


def codes(data: dict[str, Any], model: type[BaseModel] = QuarantineResult) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return [violation.code for violation in violations_from(refused.value)]


def test_a_result_keeps_scientific_names_and_decimals_as_written() -> None:
    data = result_data()
    data["pests"][0]["scientific_name"] = "  Dysmicoccus  neobrevipes Beardsley"
    result = QuarantineResult.model_validate(data)
    assert result.pests[0].scientific_name == "  Dysmicoccus  neobrevipes Beardsley"
    assert result.consignment.botanical_name == "Hylocereus undatus (Haw.) Britton & Rose"
    assert result.residues[0].measured == Decimal("0.05")
    assert result.treatments[0].temperature is not None
    assert result.treatments[0].temperature.unit == "°C"


@pytest.mark.parametrize(
    ("missing", "code"), [("unit", "RESIDUE_UNIT_MISSING"), ("limit", "RESIDUE_LIMIT_MISSING")]
)
def test_a_residue_without_unit_or_limit_is_refused_by_name(missing: str, code: str) -> None:
    data = result_data()
    del data["residues"][0][missing]
    assert codes(data) == [code]
    data["residues"][0][missing] = None
    assert codes(data) == [code]


def test_a_unit_outside_the_list_is_refused() -> None:
    data = result_data()
    data["residues"][0]["unit"] = "ppm"
    data["consignment"]["quantity"]["unit"] = "lbs"
    assert sorted(codes(data)) == ["VALUE_NOT_ALLOWED", "VALUE_NOT_ALLOWED"]


@pytest.mark.parametrize(
    "finding",
    [
        {"pests": [{"scientific_name": "Bactrocera dorsalis (Hendel)", "quarantine_pest": True}]},
        {
            "residues": [
                {"substance": "Chlorpyrifos", "measured": "0.12", "limit": "0.05", "unit": "mg/kg"}
            ]
        },
    ],
    ids=["quarantine-pest", "residue-over-limit"],
)
def test_a_pass_contradicting_the_findings_is_refused(finding: dict[str, Any]) -> None:
    assert codes({**result_data(), **finding}) == ["VERDICT_CONTRADICTS_FINDINGS"]
    failed = QuarantineResult.model_validate({**result_data(), **finding, "verdict": "fail"})
    assert failed.verdict is Verdict.FAIL


def test_a_residue_at_its_limit_and_a_non_quarantine_pest_still_pass() -> None:
    data = result_data()
    data["residues"][0]["measured"] = data["residues"][0]["limit"]
    assert QuarantineResult.model_validate(data).verdict is Verdict.PASS


def test_a_consignment_needs_a_truck_or_a_container() -> None:
    data = result_data()
    del data["consignment"]["truck_plate"]
    assert codes(data) == ["CONSIGNMENT_TRANSPORT_MISSING"]
    data["consignment"]["container_number"] = "MSCU1234567"
    assert QuarantineResult.model_validate(data).consignment.container_number == "MSCU1234567"


def test_the_result_must_name_the_certificate_it_carries() -> None:
    example = json.loads((EXAMPLES / "sps.quarantine_result.json").read_text("utf-8"))
    payload = example["payload"]
    payload["result"]["certificate_number"] = "VNPPD2026LS999999"
    assert codes(payload, QuarantineResultPayload) == ["QUARANTINE_CERTIFICATE_MISMATCH"]


def notice_data() -> dict[str, Any]:
    example = json.loads((EXAMPLES / "sps.non_compliance.json").read_text("utf-8"))
    notice: dict[str, Any] = example["payload"]["notice"]
    return notice


@pytest.mark.parametrize(
    "finding",
    [
        {"kind": "quarantine_pest"},
        {
            "kind": "quarantine_pest",
            "pest": {"scientific_name": "Dysmicoccus", "quarantine_pest": False},
        },
        {
            "kind": "residue_over_limit",
            "residue": {"substance": "X", "measured": "0.01", "limit": "0.05", "unit": "mg/kg"},
        },
        {"kind": "document_mismatch"},
    ],
    ids=["pest-missing", "pest-not-quarantine", "residue-within-limit", "mismatch-unexplained"],
)
def test_a_notice_finding_carries_its_evidence(finding: dict[str, Any]) -> None:
    data = {**notice_data(), "findings": [finding]}
    with pytest.raises(ValidationError) as refused:
        NonComplianceNotice.model_validate(data)
    assert "FINDING_EVIDENCE_MISSING" in [v.code for v in violations_from(refused.value)]


def test_a_notice_needs_a_finding_and_an_action() -> None:
    with pytest.raises(ValidationError) as refused:
        NonComplianceNotice.model_validate({**notice_data(), "findings": [], "actions": []})
    assert [v.code for v in violations_from(refused.value)] == ["VALUE_TOO_SHORT"] * 2
