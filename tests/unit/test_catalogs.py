"""The message catalogs: complete in zh_Hans, vi and en, and covering every key the code uses.

Message ids are keys (``error.CASE_UNKNOWN``, ``audit.co.shared``, ``cli.demo.done``),
so a key without a text reaches an officer, or a counterpart's logs, as a bare key.
These tests read the keys from the sources themselves — the error codes raised, the
audit events recorded, the texts the command line prints, the enum members rendered
in the audit trail — and fail when one lacks a text in any language, when the
languages disagree on a text's placeholders, or when a text uses a parameter that
the code does not pass.
"""

from __future__ import annotations

import ast
import copy
import re
import string
import unicodedata
from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import get_args

import pytest
from babel.messages.pofile import read_po

from crossborder.audit import render
from crossborder.domain.alert_lifecycle import AlertAction, AlertStatus
from crossborder.domain.alerts import (
    AlertCategory,
    Audience,
    Certainty,
    ClosureReason,
    NotificationKind,
    Severity,
    Urgency,
)
from crossborder.domain.certificate_lifecycle import CertificateStatus, VerificationStatus
from crossborder.domain.certificate_of_origin import (
    IdentifierScheme,
    OriginCriterionCode,
    TransportMode,
)
from crossborder.domain.lane import (
    STEPS,
    FindingKind,
    InspectionResult,
    Lane,
    LaneRule,
    LaneStatus,
    RefusalReason,
)
from crossborder.domain.messages import (
    CertificateDecision,
    DecisionReason,
    DocumentKind,
    MessageType,
    VerificationReason,
    VerificationResult,
)
from crossborder.domain.officers import Permission, Role
from crossborder.domain.quarantine import (
    Commodity,
    ConsignmentStatus,
    NonComplianceAction,
    NonComplianceKind,
    Verdict,
)
from crossborder.domain.recognition import NonRecognitionReason, RecognitionOutcome
from crossborder.domain.workflows import Workflow
from crossborder.i18n import LABELLED_ERROR_PARAMS, LOCALES, LOCALES_DIR
from crossborder.reference.agencies import AgencyKind
from crossborder.services.alert_views import FallbackChannel

PROJECT = LOCALES_DIR.parent
SOURCE_DIRS = (PROJECT / "crossborder", PROJECT / "flows")

#: Traditional-only forms of common characters: zh_Hans must use their simplified forms.
TRADITIONAL = frozenset(
    "證書關檢發審記錄號貨運實據爲為這對應單簽驗來時間與國區邊務計請類檔產價處認員機構編碼態狀"
)

# --- reading and checking the catalogs ---


@dataclass(frozen=True)
class PoFile:
    language: str | None
    #: msgid → its translation; "" when the translation is empty or fuzzy.
    texts: dict[str, str]


def read_po_file(path: Path) -> PoFile:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    texts = {}
    for message in catalog:
        if message.id:
            usable = isinstance(message.string, str) and not message.fuzzy
            texts[str(message.id)] = str(message.string) if usable else ""
    return PoFile(language=catalog.locale_identifier, texts=texts)


def read_catalogs(locales_dir: Path, languages: Iterable[str]) -> dict[str, dict[str, PoFile]]:
    """language → area (the file's stem: errors, audit…) → its catalog."""
    return {
        language: {
            path.stem: read_po_file(path)
            for path in sorted((locales_dir / language / "LC_MESSAGES").glob("*.po"))
        }
        for language in languages
    }


def placeholders(text: str) -> frozenset[str] | None:
    """The ``{name}`` fields of a text; ``None`` if ``str.format`` could not fill it by name."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError:
        return None
    if "" in names or any(name[0].isdigit() for name in names if name):
        return None
    return frozenset(re.split(r"[.\[]", name)[0] for name in names)


def _script_problem(language: str, text: str) -> str | None:
    if language == "vi" and not unicodedata.is_normalized("NFC", text):
        return "is not NFC-normalised"
    traditional = sorted(set(text) & TRADITIONAL) if language == "zh_Hans" else []
    if traditional:
        return f"uses traditional characters {''.join(traditional)}"
    return None


def _message_problems(where: str, msgid: str, texts: dict[str, str]) -> Iterator[str]:
    """One msgid across languages: translated everywhere, same placeholders, right script."""
    fields = {}
    for language, text in texts.items():
        if not text:
            yield f"{language}/{where}: {msgid} has no translation (missing, empty or fuzzy)"
            continue
        fields[language] = placeholders(text)
        if fields[language] is None:
            yield f"{language}/{where}: {msgid} has a malformed or positional placeholder"
        problem = _script_problem(language, text)
        if problem:
            yield f"{language}/{where}: {msgid} {problem}"
    if len(set(fields.values())) > 1:
        shown = ", ".join(f"{lang} {sorted(names or [])}" for lang, names in fields.items())
        yield f"{where}: {msgid} has different placeholders: {shown}"


def _area_problems(area: str, files: dict[str, PoFile | None]) -> Iterator[str]:
    where = f"{area}.po"
    for language, po in files.items():
        if po is None:
            yield f"{language}/{where} is missing"
        elif po.language != language:
            yield f"{language}/{where} declares Language: {po.language}"
    msgids = sorted(set().union(*(po.texts for po in files.values() if po)))
    for msgid in msgids:
        texts = {lang: po.texts.get(msgid, "") if po else "" for lang, po in files.items()}
        yield from _message_problems(where, msgid, texts)


def _duplicate_problems(catalogs: dict[str, dict[str, PoFile]]) -> Iterator[str]:
    """A msgid in two files of one language: the catalogs are merged, so one would silently win."""
    for language, files in catalogs.items():
        seen: dict[str, str] = {}
        for area, po in files.items():
            for msgid in po.texts:
                if msgid in seen:
                    yield f"{language}: {msgid} is in both {seen[msgid]}.po and {area}.po"
                seen[msgid] = area


def catalog_problems(locales_dir: Path, languages: tuple[str, ...] = LOCALES) -> list[str]:
    """Everything wrong with a set of catalogs, as readable lines; empty when complete."""
    catalogs = read_catalogs(locales_dir, languages)
    areas = sorted(set().union(*catalogs.values()))
    problems = []
    for area in areas:
        files = {language: catalogs[language].get(area) for language in languages}
        problems.extend(_area_problems(area, files))
    problems.extend(_duplicate_problems(catalogs))
    return problems


@cache
def project_texts() -> dict[str, dict[str, str]]:
    """language → msgid → translation, over every area of the project's catalogs."""
    catalogs = read_catalogs(LOCALES_DIR, LOCALES)
    return {
        language: {msgid: text for po in files.values() for msgid, text in po.texts.items()}
        for language, files in catalogs.items()
    }


# --- finding the keys the code uses ---

#: Exception types whose first argument is an error code (msgid ``error.<CODE>``).
ERROR_TYPES = frozenset(
    {
        "CrossborderError",
        "InvalidInput",
        "NotFound",
        "Conflict",
        "Unauthorized",
        "Forbidden",
        "RateLimited",
    }
)
#: Calls whose first argument is a message key and whose keywords are its parameters.
TEXT_CALLS = frozenset({"translate", "say", "N_"})
#: Calls that record an audit event, and the position of the event among their arguments
#: (``record(session, event, …)``; ``send(session, node, message, event, …)``; the
#: officers' ``_audit(session, node, event, …)``; …).
AUDIT_CALLS = {"record": 1, "record_delivery": 1, "send": 3, "note_received": 4, "_audit": 2}
#: Parameters of the text that such a call adds itself (a delivery step names its recipient).
IMPLIED_PARAMS = {"record_delivery": frozenset({"recipient"})}
#: Arguments of ``record`` that are columns of the audit entry, not parameters of its text.
AUDIT_COLUMNS = frozenset(
    {"actor", "occurred_at", "source_tz", "case_id", "message_id", "message_digest"}
)
#: The values an f-string field of an audit event name can take.
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "decision.value": tuple(decision.value for decision in CertificateDecision),
    "payload.result.value": tuple(result.value for result in VerificationResult),
    "message.payload.result.value": tuple(result.value for result in VerificationResult),
    # A recognition decision, sent and received, is recorded under its outcome.
    "decision.outcome.value": tuple(outcome.value for outcome in RecognitionOutcome),
    "message.payload.decision.outcome.value": tuple(
        outcome.value for outcome in RecognitionOutcome
    ),
    # An alert's later steps (its raise is recorded under literal event names).
    "action.value": tuple(
        action.value for action in AlertAction if action is not AlertAction.RAISE
    ),
    # A lane decision, sent and received, is recorded under its lane; a release under its kind.
    "lane.value": tuple(lane.value for lane in Lane),
    "message.payload.lane.value": tuple(lane.value for lane in Lane),
    "_release_event(payload)": ("released", "released_outside_hours", "refused"),
    "_release_event(message.payload)": ("released", "released_outside_hours", "refused"),
}
#: Key families built at run time (``f"reason.{code}"``), checked by what feeds them below;
#: ``error.`` and ``audit.`` are fed by the raises and the ``record`` calls.
FAMILIES = frozenset(
    {
        "error.",
        "audit.",
        "reason.",
        "verification_reason.",
        "document_kind.",
        "message_type.",
        "status.",
        "workflow.",
        "verdict.",
        "commodity.",
        "recognition_outcome.",
        "recognition_reason.",
        "non_compliance_kind.",
        "non_compliance_action.",
        "reply.",
        "alert_category.",
        "alert_severity.",
        "alert_urgency.",
        "alert_certainty.",
        "alert_kind.",
        "alert_audience.",
        "alert_action.",
        "alert_closure.",
        "alert_channel.",
        "alert_step.",
        "agency_kind.",
        "deadline_rule.",
        "role.",
        "permission.",
        "lane.",
        "lane_step.",
        "lane_rule.",
        "lane_finding.",
        "inspection_result.",
        "lane_refusal.",
        "identifier_scheme.",
        "transport_mode.",
        "origin_criterion.",
    }
)
_LITERAL_CLI_KEY = re.compile(r"cli(\.[a-z0-9_]+)+")
_CODE = re.compile(r"[A-Z][A-Z0-9_]+")


@dataclass
class KeyUses:
    """What the sources ask of the catalogs."""

    #: msgid → the parameters every use of it passes; ``None`` when the source cannot tell.
    params: dict[str, frozenset[str] | None] = field(default_factory=dict)
    #: msgid → where it is first used (``path:line``).
    where: dict[str, str] = field(default_factory=dict)
    case_statuses: set[str] = field(default_factory=set)
    #: Uses the scan could not follow: the test must be taught about them.
    problems: list[str] = field(default_factory=list)

    def add(self, key: str, params: frozenset[str] | None, where: str) -> None:
        if key in self.params:
            known = self.params[key]
            params = None if known is None or params is None else known & params
        self.params[key] = params
        self.where.setdefault(key, where)

    def mention(self, key: str, where: str) -> None:
        """A key named outside a call (a constant, a table): parameters unknown unless seen."""
        self.params.setdefault(key, None)
        self.where.setdefault(key, where)


def _callee(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else ""


def _names(assignment: ast.Assign) -> list[str]:
    return [target.id for target in assignment.targets if isinstance(target, ast.Name)]


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class _Scanner(ast.NodeVisitor):
    """Collects the msgids one module uses, with the parameters it passes them."""

    def __init__(self, module: ast.Module, path: str, uses: KeyUses) -> None:
        self.path = path
        self.uses = uses
        #: The function being read, if any.
        self.function: str | None = None
        self.constants = {
            target.id: value
            for statement in module.body
            if isinstance(statement, ast.Assign) and (value := _string(statement.value)) is not None
            for target in statement.targets
            if isinstance(target, ast.Name)
        }
        self.dict_keys = {
            target.id: frozenset(key for key in map(_string, node.value.keys) if key is not None)
            for node in ast.walk(module)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        # Functions returning one dict literal: ``**_facts(row)`` passes that dict's keys.
        self.returned_keys = {
            node.name: frozenset(key for key in map(_string, returned.keys) if key is not None)
            for node in module.body
            if isinstance(node, ast.FunctionDef)
            and isinstance(last := node.body[-1], ast.Return)
            and isinstance(returned := last.value, ast.Dict)
        }

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    def _at(self, node: ast.AST) -> str:
        return f"{self.path}:{getattr(node, 'lineno', 0)}"

    def _keywords(self, call: ast.Call, ignore: Set[str] = frozenset()) -> frozenset[str] | None:
        names: set[str] = set()
        for keyword in call.keywords:
            if keyword.arg is not None:
                names.add(keyword.arg)
            elif isinstance(keyword.value, ast.Name) and keyword.value.id in self.dict_keys:
                names |= self.dict_keys[keyword.value.id]
            elif (
                isinstance(keyword.value, ast.Call)
                and isinstance(keyword.value.func, ast.Name)
                and keyword.value.func.id in self.returned_keys
            ):
                names |= self.returned_keys[keyword.value.func.id]
            else:
                return None
        return frozenset(names - ignore)

    def _expand(self, node: ast.expr) -> list[str] | None:
        if (text := _string(node)) is not None:
            return [text]
        if not isinstance(node, ast.JoinedStr):
            return None
        keys = [""]
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                values = EXPANSIONS.get(ast.unparse(part.value))
                if values is None:
                    return None
                keys = [key + value for key in keys for value in values]
            else:
                keys = [key + str(_string(part)) for key in keys]
        return keys

    def visit_Call(self, node: ast.Call) -> None:
        name = _callee(node)
        first = node.args[0] if node.args else None
        if name in ERROR_TYPES and (code := _string(first)):
            self.uses.add(f"error.{code}", self._keywords(node, {"violations"}), self._at(node))
        elif name == "PydanticCustomError" and (code := _string(first)):
            # It becomes a violation, which is always rendered with its field.
            self.uses.add(f"error.{code}", frozenset({"field"}), self._at(node))
        elif name in AUDIT_CALLS and len(node.args) > AUDIT_CALLS[name]:
            event = node.args[AUDIT_CALLS[name]]
            # ``send`` passing its own ``event`` on to ``record``: its callers name it.
            if not (isinstance(event, ast.Name) and self.function in AUDIT_CALLS):
                self._audit_event(node, event)
        elif name in TEXT_CALLS and first is not None:
            self._text(node, first)
        elif name == "Case":
            self._case(node)
        elif name == "get" and isinstance(node.func, ast.Attribute):
            self._code_table_default(node, node.func.value)
        self.generic_visit(node)

    def _audit_event(self, call: ast.Call, event: ast.expr) -> None:
        events = self._expand(event)
        if events is None:
            self.uses.problems.append(
                f"{self._at(call)}: which audit events does {ast.unparse(event)} name? "
                "Add to EXPANSIONS"
            )
            return
        params = self._keywords(call, AUDIT_COLUMNS)
        if params is not None:
            params |= IMPLIED_PARAMS.get(_callee(call), frozenset())
        for name in events:
            self.uses.add(f"audit.{name}", params, self._at(call))

    def _text(self, call: ast.Call, key: ast.expr) -> None:
        if (text := _string(key)) is not None:
            self.uses.add(text, self._keywords(call), self._at(call))
        elif isinstance(key, ast.JoinedStr):
            prefix = _string(key.values[0]) if key.values else None
            if prefix not in FAMILIES:
                self.uses.problems.append(
                    f"{self._at(call)}: unknown key family in {ast.unparse(key)}; "
                    "add it to FAMILIES"
                )

    def _case(self, call: ast.Call) -> None:
        for keyword in call.keywords:
            value = _string(keyword.value)
            if value is None and isinstance(keyword.value, ast.Name):
                value = self.constants.get(keyword.value.id)
            if value is not None and keyword.arg == "status":
                self.uses.case_statuses.add(value)

    def _code_table_default(self, call: ast.Call, table: ast.expr) -> None:
        """``_PYDANTIC_CODES.get(kind, "VALUE_INVALID")``: the fallback is a code too."""
        default = _string(call.args[1]) if len(call.args) == 2 else None
        if isinstance(table, ast.Name) and table.id.endswith("_CODES") and default:
            self.uses.mention(f"error.{default}", self._at(call))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        # A Form E rule names its violation code as a class attribute: ``code = "FORM_E_…"``.
        for statement in node.body:
            code = _string(statement.value) if isinstance(statement, ast.Assign) else None
            if code and _CODE.fullmatch(code) and "code" in _names(statement):
                self.uses.mention(f"error.{code}", self._at(statement))
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        # Tables mapping foreign codes to ours (pydantic's error types, HTTP statuses).
        named_codes = any(name.endswith("_CODES") for name in _names(node))
        if named_codes and isinstance(node.value, ast.Dict):
            for value in node.value.values:
                if (code := _string(value)) and _CODE.fullmatch(code):
                    self.uses.mention(f"error.{code}", self._at(node))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _LITERAL_CLI_KEY.fullmatch(node.value):
            self.uses.mention(node.value, self._at(node))


#: In the console's templates, a text is ``r.t("console.cases.title", zone=…)`` and a code
#: shown by its label ``r.label("status", …)``.
_TEMPLATE_TEXT = re.compile(r"""\br\.t\(\s*["']([a-z0-9_.]+)["']""")
_TEMPLATE_LABEL = re.compile(r"""\br\.label\(\s*["']([a-z_]+)["']""")
_KEYWORD = re.compile(r"(\w+)\s*=(?!=)")


def _call_arguments(text: str, start: int) -> str:
    """The rest of a call's arguments from ``start`` to its closing parenthesis."""
    depth = 1
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[start:end]
    return text[start:]


def _top_level(arguments: str) -> str:
    """``arguments`` without what is inside nested calls: their keywords are not the text's."""
    depth, kept = 0, []
    for char in arguments:
        depth += {"(": 1, ")": -1}.get(char, 0)
        kept.append(char if depth == 0 or char == "(" and depth == 1 else " ")
    return "".join(kept)


def scan_template(path: Path, where: str, uses: KeyUses) -> None:
    text = path.read_text(encoding="utf-8")
    for match in _TEMPLATE_TEXT.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        arguments = _top_level(_call_arguments(text, match.end()))
        uses.add(match.group(1), frozenset(_KEYWORD.findall(arguments)), f"{where}:{line}")
    for match in _TEMPLATE_LABEL.finditer(text):
        if f"{match.group(1)}." not in FAMILIES:
            line = text.count("\n", 0, match.start()) + 1
            uses.problems.append(f"{where}:{line}: unknown key family {match.group(1)!r}")


def scan_sources(directories: Iterable[Path]) -> KeyUses:
    uses = KeyUses()
    for directory in directories:
        for path in sorted(directory.rglob("*.py")):
            module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            _Scanner(module, path.relative_to(directory.parent).as_posix(), uses).visit(module)
        for path in sorted(directory.rglob("*.html")):
            scan_template(path, path.relative_to(directory.parent).as_posix(), uses)
    # Keys rendered from data: the enums' members and the states cases are put in.
    # A case takes its certificate's decision as status (``case.status = decision.value``).
    families = {
        "reason": [reason.value for reason in DecisionReason],
        "verification_reason": [reason.value for reason in VerificationReason],
        "document_kind": [kind.value for kind in DocumentKind],
        "message_type": [message_type.value for message_type in MessageType],
        "status": sorted(
            uses.case_statuses
            | {decision.value for decision in CertificateDecision}
            | {status.value for status in CertificateStatus}
            | {status.value for status in VerificationStatus}
            | {status.value for status in ConsignmentStatus}
            | {status.value for status in AlertStatus}
            | {status.value for status in LaneStatus}
        ),
        "workflow": [workflow.value for workflow in Workflow],
        "verdict": [verdict.value for verdict in Verdict],
        "commodity": [commodity.value for commodity in Commodity],
        "recognition_outcome": [outcome.value for outcome in RecognitionOutcome],
        "recognition_reason": [reason.value for reason in NonRecognitionReason],
        "non_compliance_kind": [kind.value for kind in NonComplianceKind],
        "non_compliance_action": [action.value for action in NonComplianceAction],
        "reply": ["expected", "not_expected"],
        "alert_category": [category.value for category in AlertCategory],
        "alert_severity": [severity.value for severity in Severity],
        "alert_urgency": [urgency.value for urgency in Urgency],
        "alert_certainty": [certainty.value for certainty in Certainty],
        "alert_kind": [kind.value for kind in NotificationKind],
        "alert_audience": [audience.value for audience in Audience],
        "alert_action": [action.value for action in AlertAction],
        "alert_closure": [reason.value for reason in ClosureReason],
        "alert_channel": [channel.value for channel in FallbackChannel],
        "alert_step": [action.value for action in AlertAction],
        # Error texts show an agency's kind by its label (``crossborder.i18n.error_message``).
        "agency_kind": list(get_args(AgencyKind)),
        # Officers' roles label audit actors and parameters; roles and permissions, refusals.
        "role": [role.value for role in Role],
        "permission": [permission.value for permission in Permission],
        "lane": [lane.value for lane in Lane],
        "lane_step": list(STEPS),
        "lane_rule": [rule.value for rule in LaneRule],
        "lane_finding": [kind.value for kind in FindingKind],
        "inspection_result": [result.value for result in InspectionResult],
        "lane_refusal": [reason.value for reason in RefusalReason],
        # The Form E fill-in form's lists.
        "identifier_scheme": [scheme.value for scheme in IdentifierScheme],
        "transport_mode": [mode.value for mode in TransportMode],
        "origin_criterion": [code.value for code in OriginCriterionCode],
    }
    for family, values in families.items():
        for value in values:
            uses.add(f"{family}.{value}", frozenset(), "crossborder (rendered from data)")
    return uses


@cache
def project_keys() -> KeyUses:
    return scan_sources(SOURCE_DIRS)


# --- the project's catalogs ---


def test_every_catalog_has_every_message_in_every_language() -> None:
    assert catalog_problems(LOCALES_DIR) == []


def test_the_scan_understands_every_key_the_code_builds() -> None:
    assert project_keys().problems == []


def test_every_family_shown_as_labels_is_one_the_scan_checks() -> None:
    """Codes in audit and error texts are shown by label: their families must be known here."""
    tables = {**render.LABELLED_PARAMS, **LABELLED_ERROR_PARAMS}
    assert {family for family in tables.values() if family not in FAMILIES} == set()


def test_the_scan_finds_keys_of_every_kind() -> None:
    # Guards the scan itself: a scan that finds nothing would pass every other test.
    params = project_keys().params
    expected = {
        "error.SIGNATURE_INVALID": frozenset(),  # raise Unauthorized("SIGNATURE_INVALID")
        "error.CASE_UNKNOWN": frozenset({"case_id"}),
        "error.DECISION_NOTE_MISSING": frozenset({"field"}),  # PydanticCustomError
        "error.FIELD_MISSING": None,  # validation's table of pydantic error types
        "error.VALUE_INVALID": None,  # that table's fallback
        "error.NOT_FOUND": None,  # the API's table of HTTP statuses
        "error.FORM_E_HS_CODE_UNKNOWN": None,  # a rule class's code
        "audit.co.shared": frozenset({"certificate_number", "recipient"}),
        "audit.co.counterpart_queried": frozenset(
            {"certificate_number", "sender", "reasons", "note"}
        ),
        "audit.message.delivered": frozenset({"attempts", "recipient"}),  # record_delivery
        "actor.person": frozenset({"user", "agency"}),
        "cli.case.header": frozenset({"case_id", "subject"}),
        "console.case.due": frozenset({"due", "left", "agency"}),  # a template's r.t(…)
        "console.done.decided": frozenset(),  # N_ in the console's code
        "reason.OTHER": frozenset(),
        "status.shared": frozenset(),
        "workflow.certificate_of_origin": frozenset(),
    }
    assert {key: params.get(key, "not found") for key in expected} == expected


@pytest.mark.parametrize("locale", LOCALES)
def test_every_key_the_code_uses_has_a_text(locale: str) -> None:
    uses, texts = project_keys(), project_texts()[locale]
    missing = [f"{key} ({uses.where[key]})" for key in sorted(uses.params) if not texts.get(key)]
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_texts_use_only_parameters_the_code_always_passes(locale: str) -> None:
    uses, texts = project_keys(), project_texts()[locale]
    unfilled = {}
    for key, passed in uses.params.items():
        used = placeholders(texts.get(key, ""))
        if passed is not None and used is not None and not used <= passed:
            unfilled[f"{key} ({uses.where[key]})"] = sorted(used - passed)
    assert unfilled == {}


# --- the checks themselves, on small catalogs ---

_GOOD = {
    "zh_Hans": {"errors": {"error.X": "证书{number}无效。"}, "cli": {"cli.done": "完成。"}},
    "vi": {"errors": {"error.X": "C/O số {number} không hợp lệ."}, "cli": {"cli.done": "Xong."}},
    "en": {"errors": {"error.X": "Certificate {number} is invalid."}, "cli": {"cli.done": "Done."}},
}


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_catalogs(
    root: Path, catalogs: dict[str, dict[str, dict[str, str]]], fuzzy_in: str = ""
) -> Path:
    for language, areas in catalogs.items():
        folder = root / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        for area, texts in areas.items():
            lines = [
                'msgid ""',
                'msgstr ""',
                f'"Language: {language}\\n"',
                '"Content-Type: text/plain; charset=UTF-8\\n"',
                "",
            ]
            for msgid, text in texts.items():
                lines += ["#, fuzzy"] if language == fuzzy_in else []
                lines += [f"msgid {_po_string(msgid)}", f"msgstr {_po_string(text)}", ""]
            (folder / f"{area}.po").write_text("\n".join(lines), encoding="utf-8")
    return root


def test_complete_catalogs_have_no_problem(tmp_path: Path) -> None:
    assert catalog_problems(_write_catalogs(tmp_path, _GOOD)) == []


def _without(language: str, area: str, msgid: str) -> dict[str, dict[str, dict[str, str]]]:
    catalogs = copy.deepcopy(_GOOD)
    del catalogs[language][area][msgid]
    return catalogs


def _with(language: str, area: str, msgid: str, text: str) -> dict[str, dict[str, dict[str, str]]]:
    catalogs = copy.deepcopy(_GOOD)
    catalogs[language][area][msgid] = text
    return catalogs


def _without_area(language: str, area: str) -> dict[str, dict[str, dict[str, str]]]:
    catalogs = copy.deepcopy(_GOOD)
    del catalogs[language][area]
    return catalogs


@pytest.mark.parametrize(
    ("catalogs", "fuzzy_in", "expected"),
    [
        pytest.param(
            _without("vi", "errors", "error.X"),
            "",
            "vi/errors.po: error.X has no translation",
            id="missing-in-one-language",
        ),
        pytest.param(
            _with("en", "cli", "cli.done", ""),
            "",
            "en/cli.po: cli.done has no translation",
            id="empty",
        ),
        pytest.param(_GOOD, "zh_Hans", "zh_Hans/errors.po: error.X has no translation", id="fuzzy"),
        pytest.param(
            _with("vi", "cli", "cli.new", "Mới."),
            "",
            "zh_Hans/cli.po: cli.new has no translation",
            id="only-in-one-language",
        ),
        pytest.param(_without_area("en", "cli"), "", "en/cli.po is missing", id="file-missing"),
        pytest.param(
            _with("vi", "errors", "error.X", "C/O {num} sai."),
            "",
            "errors.po: error.X has different placeholders",
            id="placeholders-differ",
        ),
        pytest.param(
            _with("en", "errors", "error.X", "Certificate {number is bad."),
            "",
            "en/errors.po: error.X has a malformed or positional placeholder",
            id="unbalanced-brace",
        ),
        pytest.param(
            _with("en", "errors", "error.X", "Certificate {} is bad."),
            "",
            "en/errors.po: error.X has a malformed or positional placeholder",
            id="positional-placeholder",
        ),
        pytest.param(
            _with("zh_Hans", "errors", "error.X", "證書{number}无效。"),
            "",
            "zh_Hans/errors.po: error.X uses traditional characters 書證",
            id="traditional-chinese",
        ),
        pytest.param(
            _with("vi", "errors", "error.X", unicodedata.normalize("NFD", "C/O số {number} sai.")),
            "",
            "vi/errors.po: error.X is not NFC-normalised",
            id="vietnamese-not-nfc",
        ),
        pytest.param(
            _with("en", "cli", "error.X", "Certificate {number} is invalid."),
            "",
            "en: error.X is in both cli.po and errors.po",
            id="same-msgid-in-two-files",
        ),
    ],
)
def test_the_check_reports_each_kind_of_gap(
    tmp_path: Path, catalogs: dict[str, dict[str, dict[str, str]]], fuzzy_in: str, expected: str
) -> None:
    problems = catalog_problems(_write_catalogs(tmp_path, catalogs, fuzzy_in))
    assert any(expected in problem for problem in problems), problems


def test_the_scan_reads_raises_records_and_texts_spread_over_lines(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "handler.py").write_text(
        "def handle(session, decision, number):\n"
        "    common = {'recipient': 'VN-CUSKV6', 'case_id': 'C-1'}\n"
        "    say('cli.done', 'en', case_id='C-1')\n"
        "    record(\n"
        "        session,\n"
        "        f'co.{decision.value}',\n"
        "        actor=None,\n"
        "        certificate_number=number,\n"
        "        **common,\n"
        "    )\n"
        "    raise Conflict(\n"
        "        'CERTIFICATE_NUMBER_REUSED', number=number\n"
        "    )\n",
        encoding="utf-8",
    )
    params = scan_sources([package]).params
    assert params["cli.done"] == {"case_id"}
    assert params["error.CERTIFICATE_NUMBER_REUSED"] == {"number"}
    for decision in CertificateDecision:
        assert params[f"audit.co.{decision.value}"] == {"certificate_number", "recipient"}


def test_the_scan_reads_the_texts_and_labels_of_templates(tmp_path: Path) -> None:
    package = tmp_path / "pkg" / "templates"
    package.mkdir(parents=True)
    (package / "page.html").write_text(
        "<h1>{{ r.t('console.x') }}</h1>\n"
        '<p>{{ r.t("console.due", due=r.when(d.due_at, x=1), left=r.left(left)) }}</p>\n'
        "{{ r.label('status', case.status) }} {{ r.label('colour', c) }}\n",
        encoding="utf-8",
    )
    uses = scan_sources([tmp_path / "pkg"])
    assert uses.params["console.x"] == frozenset()
    assert uses.params["console.due"] == {"due", "left"}
    assert uses.problems == ["pkg/templates/page.html:3: unknown key family 'colour'"]


def test_the_scan_asks_to_be_taught_a_key_it_cannot_expand(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "handler.py").write_text(
        "def handle(session, kind):\n"
        "    record(session, f'alert.{kind}', actor=None)\n"
        "    translate(f'severity.{kind}', 'en')\n",
        encoding="utf-8",
    )
    problems = scan_sources([package]).problems
    assert [problem.split(": ", 1)[1].split(";")[0] for problem in problems] == [
        "which audit events does f'alert.{kind}' name? Add to EXPANSIONS",
        "unknown key family in f'severity.{kind}'",
    ]
