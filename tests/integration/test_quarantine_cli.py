"""``crossborder quarantine`` on a node: consignments from ePhyto XML, recognition rules, bad input.

Every refusal is a coded error in the officer's language, exit code 2, and
changes nothing: no case, no consignment, no audit entry, no rule version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from crossborder.adapters.db.engine import make_engine
from crossborder.adapters.db.tables import (
    AuditEntry,
    Case,
    Consignment,
    OutboxMessage,
    QuarantineResultRow,
    RecognitionRuleSetRow,
)
from crossborder.bootstrap import bootstrap
from crossborder.cli.common import load_settings
from crossborder.cli.main import app
from crossborder.domain.actors import Actor
from crossborder.domain.errors import NotFound
from crossborder.domain.quarantine import QuarantineResult as QuarantineResultModel
from crossborder.services import quarantine
from tests.factories import staff_node

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CERTIFICATE = FIXTURES / "quarantine" / "dragon-fruit-certificate.xml"
RESULT = FIXTURES / "quarantine" / "dragon-fruit-result.json"
SEED = Path(__file__).resolve().parents[2] / "crossborder/reference/data/recognition_rules.json"
TABLES = (Case, Consignment, QuarantineResultRow, AuditEntry, RecognitionRuleSetRow, OutboxMessage)


@pytest.fixture
def config(tmp_path: Path, make_db_url: Callable[[str], str]) -> Path:
    path = tmp_path / "node.env"
    path.write_text(
        "CROSSBORDER_AGENCY=VN-PPD\nCROSSBORDER_COUNTRY=VN\nCROSSBORDER_TIMEZONE=Asia/Ho_Chi_Minh\n"
        f"CROSSBORDER_BASE_URL=http://127.0.0.1:9\nCROSSBORDER_DATA_DIR={tmp_path / 'vn'}\n"
        f"CROSSBORDER_DATABASE_URL={make_db_url('vn')}\n",
        "utf-8",
    )
    # Counts start from a real database, with the node's staff registered.
    staff_node(path)
    return path


def invoke(config: Path, *arguments: str) -> Result:
    return runner.invoke(app, [*arguments, "--config", str(config)])


def counts(config: Path) -> dict[str, int]:
    engine = make_engine(load_settings(config).db_url)
    with engine.connect() as connection:
        result = {
            table.__tablename__: int(
                connection.scalar(select(func.count()).select_from(table)) or 0
            )
            for table in TABLES
        }
    engine.dispose()
    return result


def test_importing_a_certificate_opens_one_consignment(config: Path) -> None:
    imported = invoke(
        config, "quarantine", "import", str(CERTIFICATE), "--to", "CN-NNCUS", "--strict"
    )
    assert imported.exit_code == 0, imported.stderr
    assert "VNPPD2026LS004512" in imported.stdout
    assert counts(config)["consignments"] == 1
    before = counts(config)

    again = invoke(
        config, "quarantine", "import", str(CERTIFICATE), "--to", "CN-NNCUS", "--lang", "vi"
    )
    assert again.exit_code == 1
    assert "CERTIFICATE_ALREADY_ATTACHED" in again.stderr and "đã được gắn" in again.stderr
    assert counts(config) == before
    # The desk forms work as before, without touching the node.
    dry = invoke(config, "quarantine", "import", str(CERTIFICATE), "--dry-run")
    assert dry.exit_code == 0
    assert json.loads(dry.stdout)["document"]["id"] == "VNPPD2026LS004512"
    assert counts(config) == before


def test_a_certificate_for_another_trade_changes_nothing(config: Path) -> None:
    """Dragon fruit certified for China cannot open a consignment to a Vietnamese body."""
    before = counts(config)
    refused = invoke(
        config, "quarantine", "import", str(CERTIFICATE), "--to", "VN-CUSKV6", "--lang", "vi"
    )
    assert refused.exit_code == 1
    assert "CERTIFICATE_COUNTRY_MISMATCH" in refused.stderr and "đến CN" in refused.stderr
    assert counts(config) == before


#: ePhyto files refused before a node is opened, with the option that makes them so.
BAD_FILES = [
    ("not-sps.xml", [], "SPS_NOT_AN_SPS_CERTIFICATE"),
    ("billion-laughs.xml", [], "SPS_XML_UNSAFE"),
    ("external-entity.xml", [], "SPS_XML_UNSAFE"),
    ("sample-valid.xml", ["--max-bytes", "1000"], "SPS_FILE_TOO_LARGE"),
    ("sample-hub-client.xml", ["--strict"], "SPS_SCHEMA_INVALID"),
]


def test_a_bad_certificate_file_changes_nothing(config: Path) -> None:
    before = counts(config)
    for file, extra, code in BAD_FILES:
        path = str(FIXTURES / "ephyto" / file)
        refused = invoke(
            config, "quarantine", "import", path, "--to", "CN-NNCUS", "--lang", "vi", *extra
        )
        assert refused.exit_code == 1, file
        assert code in refused.stderr and f"error.{code}" not in refused.stderr, file
    assert counts(config) == before


def _result_file(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(RESULT.read_text("utf-8"))
    change(data)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


def _no_unit(data: dict[str, Any]) -> None:
    del data["residues"][0]["unit"]


def _no_limit(data: dict[str, Any]) -> None:
    data["residues"][0]["limit"] = None


def _pest_but_pass(data: dict[str, Any]) -> None:
    data["pests"].append(
        {"scientific_name": "Bactrocera dorsalis (Hendel)", "quarantine_pest": True}
    )


def test_a_bad_result_is_refused_before_anything_is_recorded(tmp_path: Path, config: Path) -> None:
    assert (
        invoke(config, "quarantine", "import", str(CERTIFICATE), "--to", "CN-NNCUS").exit_code == 0
    )
    before = counts(config)
    for change, violation in [
        (_no_unit, "RESIDUE_UNIT_MISSING"),
        (_no_limit, "RESIDUE_LIMIT_MISSING"),
        (_pest_but_pass, "VERDICT_CONTRADICTS_FINDINGS"),
    ]:
        refused = invoke(
            config, "quarantine", "send", str(_result_file(tmp_path, change)), "--lang", "vi"
        )
        assert refused.exit_code == 1
        assert "SCHEMA_INVALID" in refused.stderr and violation in refused.stderr
    assert counts(config) == before


def test_a_result_for_an_unknown_consignment_changes_nothing(config: Path) -> None:
    node = bootstrap(load_settings(config))
    before = counts(config)
    with pytest.raises(NotFound) as refused:
        quarantine.share_result(
            node,
            QuarantineResultModel.model_validate_json(RESULT.read_bytes()),
            Actor.officer("hoa", "VN-PPD"),
        )
    node.close()
    assert refused.value.code == "CONSIGNMENT_UNKNOWN"
    assert counts(config) == before


def test_recognition_rules_are_loaded_as_versions_and_listed(tmp_path: Path, config: Path) -> None:
    listed = invoke(config, "quarantine", "rules", "list", "--lang", "vi")
    assert "phiên bản 0" in listed.stdout and "VN-PPD-0810-REDUCED" in listed.stdout

    rules = json.loads(SEED.read_text("utf-8"))
    rules["rules"] = rules["rules"][:1]
    rules["rules"][0]["valid_to"] = "2026-12-31"
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), "utf-8")
    assert (
        invoke(
            config, "quarantine", "rules", "load", str(path), "--officer", "supervisor"
        ).exit_code
        == 0
    )
    assert (
        invoke(
            config, "quarantine", "rules", "load", str(path), "--officer", "supervisor"
        ).exit_code
        == 0
    )
    listed = invoke(config, "quarantine", "rules", "list")
    assert "version 2" in listed.stdout and "2026-12-31" in listed.stdout
    assert "VN-PPD-080390" not in listed.stdout

    before = counts(config)
    rules["rules"].append({**rules["rules"][0], "id": "VN-PPD-0810-AGAIN"})
    path.write_text(json.dumps(rules), "utf-8")
    refused = invoke(
        config,
        "quarantine",
        "rules",
        "load",
        str(path),
        "--officer",
        "supervisor",
        "--lang",
        "zh_Hans",
    )
    assert refused.exit_code == 1
    assert "RECOGNITION_RULES_OVERLAP" in refused.stderr
    assert counts(config) == before
    assert before["recognition_rule_sets"] == 2


def consignment_case(config: Path) -> str:
    engine = make_engine(load_settings(config).db_url)
    with engine.connect() as connection:
        case_id = str(connection.scalar(select(Consignment.case_id)))
    engine.dispose()
    return case_id


def test_a_corrected_certificate_replaces_the_first_until_the_result_is_shared(
    tmp_path: Path, config: Path
) -> None:
    assert (
        invoke(config, "quarantine", "import", str(CERTIFICATE), "--to", "CN-NNCUS").exit_code == 0
    )
    case_id = consignment_case(config)
    read = invoke(config, "quarantine", "import", str(CERTIFICATE), "--dry-run")
    corrected = json.loads(read.stdout)
    corrected["consignment"]["items"][0]["net_weight"]["value"] = "17950"
    (tmp_path / "corrected.json").write_text(json.dumps(corrected), "utf-8")
    xml = tmp_path / "corrected.xml"
    exported = runner.invoke(
        app, ["quarantine", "export", str(tmp_path / "corrected.json"), "-o", str(xml)]
    )
    assert exported.exit_code == 0

    assert invoke(config, "quarantine", "import", str(xml), "--case", case_id).exit_code == 0
    again = invoke(config, "quarantine", "import", str(xml), "--case", case_id)
    assert "CERTIFICATE_ALREADY_ATTACHED" in again.stderr
    other = invoke(
        config,
        "quarantine",
        "import",
        str(FIXTURES / "ephyto" / "sample-valid.xml"),
        "--case",
        case_id,
    )
    assert "CERTIFICATE_CONSIGNMENT_MISMATCH" in other.stderr

    node = bootstrap(load_settings(config))
    shared = QuarantineResultModel.model_validate_json(RESULT.read_bytes())
    quarantine.share_result(node, shared, Actor.officer("hoa", "VN-PPD"))
    node.close()
    before = counts(config)
    late = invoke(config, "quarantine", "import", str(CERTIFICATE), "--case", case_id)
    assert late.exit_code == 1 and "QUARANTINE_RESULT_ALREADY_SHARED" in late.stderr
    assert counts(config) == before
    engine = make_engine(load_settings(config).db_url)
    with engine.connect() as connection:
        events = list(
            connection.scalars(select(AuditEntry.event).where(AuditEntry.case_id == case_id))
        )
        held = connection.scalar(select(Consignment.certificate))
    engine.dispose()
    assert events == ["sps.certificate_attached", "sps.certificate_replaced", "sps.result_shared"]
    # The result travels with the corrected certificate.
    assert held["consignment"]["items"][0]["net_weight"]["value"] == "17950"
