"""``contracts/``: generated from the models, and every example valid against both.

The examples are written by hand and checked in; they are validated twice, by
the pydantic models (what a node enforces) and by the generated JSON Schemas
(what a counterpart running other software builds against), so a schema that
says less or more than the models shows up here.
"""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, TypeAdapter, ValidationError

import crossborder
from contracts import generate as contracts
from crossborder.adapters.oauth import RegisteredClient
from crossborder.adapters.oauth.authorization_server import AuthorizationServer
from crossborder.adapters.oauth.keys import generate_signing_key, public_jwks
from crossborder.adapters.oauth.replay import InMemoryReplayStore
from crossborder.api.errors import error_body, error_response
from crossborder.domain import errors as domain_errors
from crossborder.domain.alerts import AlertContent, AlertFollowUpPayload, AlertUpdatePayload
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.errors import InvalidInput, Violation
from crossborder.domain.lane import LaneNotice
from crossborder.domain.messages import CoVerificationReplyPayload, Message, MessageType, Receipt
from crossborder.domain.phytosanitary import PhytosanitaryCertificate
from crossborder.domain.quarantine import NonComplianceNotice, QuarantineResult
from crossborder.i18n import catalog

CONTRACTS = contracts.CONTRACTS_DIR
PACKAGE = Path(crossborder.__file__).parent
EXAMPLES = CONTRACTS / "examples"
Json = dict[str, Any]


def load(path: Path) -> Json:
    data: Json = json.loads(path.read_text("utf-8"))
    return data


def schema_file(name: str) -> Json:
    return load(CONTRACTS / "schemas" / name)


def assert_valid(schema: Json, instance: Json) -> None:
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(instance)]
    assert problems == []


def openapi_component(name: str) -> Json:
    """A component of openapi.json as a schema of its own, its ``$ref``s resolving in place."""
    document = load(CONTRACTS / "openapi.json")
    return {
        "$schema": document["jsonSchemaDialect"],
        "components": document["components"],
        "$ref": f"#/components/schemas/{name}",
    }


# --- (1) generated files ------------------------------------------------------------------


def test_checked_in_contract_matches_the_models() -> None:
    drifted = contracts.drift()
    assert drifted == [], (
        f"contracts/ has drifted from the models ({', '.join(drifted)}): "
        f"run `{contracts.REGENERATE}` and commit the result"
    )


def test_drift_finds_changed_missing_and_stale_files(tmp_path: Path) -> None:
    contracts.write(tmp_path)
    assert contracts.drift(tmp_path) == []
    (tmp_path / "contracts" / "openapi.json").write_text("{}\n", "utf-8")
    (tmp_path / "contracts" / "schemas" / "receipt.schema.json").unlink()
    (tmp_path / "contracts" / "schemas" / "co.withdrawn.schema.json").write_text("{}\n", "utf-8")
    (tmp_path / contracts.SERVED).write_text("{}\n", "utf-8")

    assert contracts.drift(tmp_path) == [
        "contracts/openapi.json",
        "contracts/schemas/co.withdrawn.schema.json",
        "contracts/schemas/receipt.schema.json",
        contracts.SERVED,
    ]
    contracts.write(tmp_path)
    assert contracts.drift(tmp_path) == []


def test_check_mode_fails_on_drift_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert contracts.main(["--check"], root=tmp_path) == 1
    assert list(tmp_path.iterdir()) == []
    assert contracts.REGENERATE in capsys.readouterr().err

    assert contracts.main([], root=tmp_path) == 0
    assert contracts.main(["--check"], root=tmp_path) == 0


def test_every_reference_in_the_openapi_document_resolves() -> None:
    document = load(CONTRACTS / "openapi.json")
    references: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            references.extend(v for k, v in node.items() if k == "$ref" and isinstance(v, str))
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    assert references
    for reference in references:
        target: Any = document
        for part in reference.removeprefix("#/").split("/"):
            assert part in target, reference
            target = target[part]


def test_the_error_codes_the_contract_lists_exist() -> None:
    listed = {code for _, codes in contracts.ERROR_CODES_BY_STATUS.values() for code in codes}
    assert sorted(code for code in listed if f"error.{code}" not in catalog("en")) == []


def raised_statuses() -> dict[str, set[int]]:
    """The HTTP status of each error code, from every place the package raises it.

    Only the kinds of error count: where the base class is raised, the API sets
    the status itself (``INTERNAL_ERROR`` is 500).
    """
    statuses: dict[str, set[int]] = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            error_class = vars(domain_errors).get(node.func.id)
            first = node.args[0]
            if not (
                isinstance(error_class, type)
                and issubclass(error_class, domain_errors.CrossborderError)
                and error_class is not domain_errors.CrossborderError
            ):
                continue
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                status = error_response(error_class(first.value), "en").status_code
                statuses.setdefault(first.value, set()).add(status)
    return statuses


#: Codes the package raises that no caller of the node API meets: they are the command
#: line's, an officer's own steps, or our node's as the client of a counterpart.
NOT_ON_THE_API = {
    # Settings, files and the command line.
    *("CONFIG_FILE_UNREADABLE", "DATABASE_UNREACHABLE", "DATABASE_URL_INVALID"),
    *("DATA_DIR_UNWRITABLE", "FILE_IS_A_MESSAGE", "FILE_UNREADABLE"),
    *("KEY_UNREADABLE", "LANGUAGE_UNKNOWN", "PORT_IN_USE", "SETTINGS_INVALID", "TIMEZONE_UNKNOWN"),
    "LANE_TARGETS_FILE_INVALID",
    # ePhyto XML an officer imports or exports.
    *("SPS_CERTIFICATE_INCOMPLETE", "SPS_FILE_TOO_LARGE", "SPS_FILE_UNREADABLE"),
    *("SPS_FILE_UNWRITABLE", "SPS_NOT_AN_SPS_CERTIFICATE", "SPS_SCHEMA_INVALID"),
    *("SPS_XML_MALFORMED", "SPS_XML_UNSAFE"),
    # Reference data and rules the operator loads.
    *("DEADLINE_RULE_INVALID", "DEADLINE_RULE_UNKNOWN", "RECOGNITION_RULES_INVALID"),
    "SENDER_TABLE_INVALID",
    # Officers, counterparts, clients, keys and the outbox, managed by the operator.
    *("FIRST_OFFICER_NOT_OPERATOR", "LAST_OPERATOR", "OFFICER_AGENCY_FOREIGN", "OFFICER_EXISTS"),
    *("OFFICER_INACTIVE", "OFFICER_INVALID", "OFFICER_LOGIN_TAKEN", "OFFICER_NOT_FOUND"),
    *("OFFICER_UNKNOWN", "ROLE_NOT_ALLOWED", "ROLE_UNCHANGED", "ROLE_UNKNOWN", "CLIENT_UNKNOWN"),
    *("COUNTERPART_HAS_QUEUED_MESSAGES", "JWKS_UNREADABLE", "SCOPE_UNKNOWN"),
    *("KEY_ROTATION_NONE_PENDING", "KEY_ROTATION_PENDING", "MESSAGE_ALREADY_DELIVERED"),
    *("MESSAGE_NOT_OURS", "MESSAGE_NOT_REFUSED", "MESSAGE_UNKNOWN", "RECIPIENT_REQUIRED"),
    *("AUDIT_ENTRY_UNKNOWN", "ALERT_FALLBACK_NOT_REQUIRED"),
    # An officer's step on our side that our own node refuses before sending anything.
    *("CERTIFICATE_NOT_OURS", "DECISION_ON_OWN_CERTIFICATE", "VERIFICATION_OF_OWN_CERTIFICATE"),
    *("NON_COMPLIANCE_BY_EXPORTING_SIDE", "NON_COMPLIANCE_ACK_BY_IMPORTING_SIDE"),
    *("RECOGNITION_BY_EXPORTING_SIDE", "CERTIFICATE_ALREADY_ATTACHED", "CONSIGNMENT_NOT_OURS"),
    *("CERTIFICATE_CONSIGNMENT_MISMATCH", "QUARANTINE_RESULT_ALREADY_SHARED"),
    *("LANE_NOTICE_ALREADY_SENT", "LANE_ARRIVAL_BY_EXPORTING_SIDE", "LANE_NOT_DECIDED"),
    *("LANE_RELEASE_BY_EXPORTING_SIDE", "LANE_NOT_INSPECTED", "LANE_INSPECTION_FAILED"),
    *("LANE_GATE_CLOSED", "LANE_NOT_RELEASED", "LANE_RELEASED_WITHIN_TARGET"),
    # The officer's console: its sign-in, sessions and forms are pages, not the node API.
    *("CSRF_TOKEN_INVALID", "FILE_MISSING", "SESSION_EXPIRED", "SIGN_IN_FAILED"),
    *("SIGN_IN_THROTTLED", "PASSWORD_TOO_LONG", "PASSWORD_TOO_SHORT"),
    *("DOCUMENT_UNKNOWN", "OIDC_NOT_CONFIGURED", "OIDC_PROVIDER_UNAVAILABLE"),
    *(
        "OIDC_STATE_INVALID",
        "OIDC_SIGN_IN_REFUSED",
        "OIDC_ID_TOKEN_INVALID",
        "OIDC_OFFICER_UNKNOWN",
    ),
    # Reactions to a message, after its receipt (a failure is kept on the inbox row).
    "GATE_HOURS_UNKNOWN",
    # Our node as the client of a counterpart: its answers, its token endpoint.
    *("AS_ISSUER_MISMATCH", "AS_METADATA_INVALID", "AS_METADATA_UNAVAILABLE"),
    *("TOKEN_REQUEST_FAILED", "TOKEN_RESPONSE_INVALID", "UNKNOWN_COUNTERPART"),
}
#: Codes the API answers for HTTP itself (``api/errors.py``), with their status.
HTTP_CODES = {"NOT_FOUND": {404}, "METHOD_NOT_ALLOWED": {405}, "INTERNAL_ERROR": {500}}


def api_statuses() -> dict[str, set[int]]:
    raised = raised_statuses()
    answered = {code: statuses for code, statuses in raised.items() if code not in NOT_ON_THE_API}
    return {**answered, **HTTP_CODES}


def test_every_code_the_api_answers_is_listed_under_its_status_and_no_other() -> None:
    raised = raised_statuses()
    assert raised["SIGNATURE_INVALID"] == {403}
    assert sorted(NOT_ON_THE_API - raised.keys()) == []  # none left behind

    listed: dict[str, set[int]] = {}
    for status, (_, codes) in contracts.ERROR_CODES_BY_STATUS.items():
        for code in codes:
            listed.setdefault(code, set()).add(status)
    assert listed == api_statuses()


# --- (2) examples -------------------------------------------------------------------------


def message_examples() -> list[Path]:
    return sorted((EXAMPLES / "messages").glob("*.json"))


#: Each example folder: the model, the generated schema file (``#`` a definition in it)
#: and the OpenAPI component its files must all satisfy.
FOLDERS: dict[str, tuple[TypeAdapter[Any], str, str]] = {
    "messages": (TypeAdapter(Message), "message.schema.json", "Message"),
    "payloads": (TypeAdapter(FormE), "message.schema.json#/$defs/FormE", "FormE"),
    "alerts": (
        TypeAdapter(AlertContent),
        "message.schema.json#/$defs/AlertContent",
        "AlertContent",
    ),
    "receipts": (TypeAdapter(Receipt), "receipt.schema.json", "Receipt"),
    "errors": (TypeAdapter(contracts.ErrorResponse), "error.schema.json", "ErrorResponse"),
}


def generated_schema(reference: str) -> Json:
    name, _, pointer = reference.partition("#")
    schema = schema_file(name)
    if not pointer:
        return schema
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#{pointer}"}


#: The files an officer gives the command line (``quarantine send quarantine-result.json``): each
#: the part of a message example the officer writes, with its model and component.
OFFICER_FILES: dict[str, tuple[TypeAdapter[Any], str, str, tuple[str, ...]]] = {
    "form-e-corrected.json": (
        TypeAdapter(FormE),
        "co.amend.json",
        "FormE",
        ("payload", "certificate"),
    ),
    "verification-reply.json": (
        TypeAdapter(CoVerificationReplyPayload),
        "co.verification_reply.json",
        "CoVerificationReplyPayload",
        ("payload",),
    ),
    # dragon-fruit-certificate.xml as ``quarantine import --dry-run`` reads it.
    "dragon-fruit-certificate.json": (
        TypeAdapter(PhytosanitaryCertificate),
        "sps.quarantine_result.json",
        "PhytosanitaryCertificate",
        ("payload", "certificate"),
    ),
    "quarantine-result.json": (
        TypeAdapter(QuarantineResult),
        "sps.quarantine_result.json",
        "QuarantineResult",
        ("payload", "result"),
    ),
    "non-compliance-notice.json": (
        TypeAdapter(NonComplianceNotice),
        "sps.non_compliance.json",
        "NonComplianceNotice",
        ("payload", "notice"),
    ),
    "alert-smuggling.json": (
        TypeAdapter(AlertContent),
        "alert.raise.json",
        "AlertContent",
        ("payload", "alert"),
    ),
    "alert-follow-up.json": (
        TypeAdapter(AlertFollowUpPayload),
        "alert.follow_up.json",
        "AlertFollowUpPayload",
        ("payload",),
    ),
    "lane-notice.json": (
        TypeAdapter(LaneNotice),
        "lane.notice.json",
        "LaneNotice",
        ("payload", "notice"),
    ),
    "alert-update.json": (
        TypeAdapter(AlertUpdatePayload),
        "alert.update.json",
        "AlertUpdatePayload",
        ("payload",),
    ),
}
#: Files in the officer's folder that are not JSON: the certificate the result rests on.
OFFICER_XML = {"dragon-fruit-certificate.xml"}


def test_every_example_is_in_a_folder_that_is_checked() -> None:
    files = [path for path in EXAMPLES.rglob("*") if path.is_file()]
    folders = {path.relative_to(EXAMPLES).parts[0] for path in files}
    assert folders <= {*FOLDERS, "officer"}
    officer = {path.name for path in files if path.parent.name == "officer"}
    assert officer == {*OFFICER_FILES, *OFFICER_XML}


def checked_as(path: Path) -> tuple[TypeAdapter[Any], str, str]:
    if path.parent.name == "officer":
        adapter, _, component, _ = OFFICER_FILES[path.name]
        return adapter, f"message.schema.json#/$defs/{component}", component
    return FOLDERS[path.parent.name]


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("*/*.json")),
    ids=lambda path: path.relative_to(EXAMPLES).as_posix(),
)
def test_an_example_satisfies_the_model_and_the_generated_schemas(path: Path) -> None:
    adapter, schema, component = checked_as(path)
    example = load(path)

    adapter.validate_python(example)
    assert_valid(generated_schema(schema), example)
    assert_valid(openapi_component(component), example)


@pytest.mark.parametrize("path", message_examples(), ids=lambda path: path.name)
def test_a_message_example_is_named_after_its_type_and_satisfies_its_schema(path: Path) -> None:
    example = load(path)

    assert path.name.startswith(f"{example['type']}.")
    assert_valid(schema_file(f"{example['type']}.schema.json"), example)


@pytest.mark.parametrize("name", sorted(OFFICER_FILES))
def test_an_officers_file_is_the_part_of_its_message_example_the_officer_writes(name: str) -> None:
    _, message, _, where = OFFICER_FILES[name]
    part = load(EXAMPLES / "messages" / message)
    for key in where:
        part = part[key]
    assert load(EXAMPLES / "officer" / name) == part


def test_the_share_example_carries_the_form_e_example() -> None:
    share = load(EXAMPLES / "messages" / "co.share.json")
    assert share["payload"]["certificate"] == load(EXAMPLES / "payloads" / "form-e.json")


def test_a_message_without_its_type_is_refused_by_the_schema_as_by_the_model() -> None:
    example = load(EXAMPLES / "messages" / "co.decision.json")
    del example["type"]

    with pytest.raises(ValidationError):
        TypeAdapter(Message).validate_python(example)
    for schema in (schema_file("message.schema.json"), schema_file("co.decision.schema.json")):
        assert not Draft202012Validator(schema).is_valid(example)


# --- (3) one example and one schema per message type --------------------------------------


@pytest.mark.parametrize("message_type", list(MessageType), ids=str)
def test_every_message_type_has_a_schema_and_an_example(message_type: MessageType) -> None:
    assert (CONTRACTS / "schemas" / f"{message_type.value}.schema.json").is_file()
    assert (EXAMPLES / "messages" / f"{message_type.value}.json").is_file()
    assert message_type in contracts.message_models()


# --- what the node answers matches what the contract says ---------------------------------


def conforms(model: type[BaseModel], component: str, document: Json) -> None:
    model.model_validate(document)
    assert_valid(openapi_component(component), document)


def test_the_error_body_of_the_api_matches_the_error_schema() -> None:
    error = InvalidInput("SCHEMA_INVALID", violations=[Violation("FIELD_MISSING", "payload")])

    conforms(contracts.ErrorResponse, "ErrorResponse", error_body(error, "vi"))


class NoClients:
    def get_client(self, client_id: str) -> RegisteredClient | None:
        return None


def test_the_discovery_documents_of_the_node_match_their_schemas() -> None:
    def clock() -> datetime:
        return datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    token_key = generate_signing_key("CN-NNCUS-at-1")
    server = AuthorizationServer(
        "https://cn-nncus.node.test",
        token_key,
        NoClients(),
        InMemoryReplayStore(clock),
        "https://cn-nncus.node.test",
        clock,
        scopes_supported=frozenset({"co:write"}),
    )

    metadata = server.metadata()
    conforms(contracts.AuthorizationServerMetadata, "AuthorizationServerMetadata", metadata)
    signing_key = generate_signing_key("CN-NNCUS-sig-1")
    conforms(contracts.JsonWebKeySet, "JsonWebKeySet", public_jwks([signing_key, token_key]))


@pytest.mark.parametrize(
    "spelling",
    [
        "{01a21f10-0000-7000-8000-0000000000c2}",
        "urn:uuid:01a21f10-0000-7000-8000-0000000000c2",
        "01a21f10-0000-4000-8000-0000000000c2",
    ],
)
def test_a_message_id_is_taken_only_as_the_schema_writes_a_uuid7(spelling: str) -> None:
    example = load(EXAMPLES / "messages" / "co.decision.json")
    assert Draft202012Validator(schema_file("message.schema.json")).is_valid(example)
    example["message_id"] = spelling

    with pytest.raises(ValidationError) as refused:
        TypeAdapter(Message).validate_json(json.dumps(example), strict=True)
    assert refused.value.errors()[0]["type"] == "MESSAGE_ID_NOT_UUID7"
    assert not Draft202012Validator(schema_file("message.schema.json")).is_valid(example)


@pytest.mark.parametrize(
    "spelling",
    [
        "{01a21f10-0000-7000-8000-0000000000c2}",
        "urn:uuid:01a21f10-0000-7000-8000-0000000000c2",
        "01a21f10-0000-4000-8000-0000000000c2",
    ],
)
def test_in_reply_to_is_taken_only_as_a_message_id_is(spelling: str) -> None:
    example = load(EXAMPLES / "messages" / "co.decision.json")
    example["in_reply_to"] = "01a21f10-0000-7000-8000-0000000000c2"
    assert Draft202012Validator(schema_file("message.schema.json")).is_valid(example)
    TypeAdapter(Message).validate_json(json.dumps(example), strict=True)
    example["in_reply_to"] = spelling

    with pytest.raises(ValidationError) as refused:
        TypeAdapter(Message).validate_json(json.dumps(example), strict=True)
    assert refused.value.errors()[0]["type"] == "MESSAGE_ID_NOT_UUID7"
    assert refused.value.errors()[0]["loc"][-1] == "in_reply_to"
    assert not Draft202012Validator(schema_file("message.schema.json")).is_valid(example)
