"""The case list across workflows, and a case's page: its trail, documents, deadlines, actions.

The actions a page offers are those the officer's role allows and the case's
state admits now, asked of the same lifecycle checks the services apply; the
server checks both again when the form comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from crossborder.adapters.db.tables import Verification
from crossborder.audit.render import render
from crossborder.console.desk import Console, Desk
from crossborder.console.sign_in import console_of
from crossborder.domain.actors import Actor
from crossborder.domain.alert_lifecycle import AlertAction, AlertStatus, Side, next_status
from crossborder.domain.alerts import ClosureReason
from crossborder.domain.certificate_lifecycle import (
    check_amendable,
    check_awaiting_reply,
    check_decidable,
    check_revocable,
)
from crossborder.domain.errors import CrossborderError, NotFound, Violation
from crossborder.domain.lane import FindingKind, InspectionResult, Lane, RefusalReason
from crossborder.domain.messages import (
    CertificateDecision,
    DecisionReason,
    DocumentKind,
    VerificationReason,
)
from crossborder.domain.officers import Permission, Role
from crossborder.domain.quarantine import NonComplianceStatus
from crossborder.domain.recognition import NonRecognitionReason, RecognitionOutcome
from crossborder.domain.workflows import Workflow
from crossborder.i18n import N_, zone
from crossborder.services.alert_views import alert_view
from crossborder.services.case_documents import (
    CaseDocuments,
    ConsignmentFacts,
    TruckFacts,
    case_documents,
)
from crossborder.services.case_search import CaseFilter, counterparts_seen, search_cases
from crossborder.services.cases import CaseView, case_view, certificate_view
from crossborder.services.deadlines import list_deadlines
from crossborder.services.reading_log import record_reading

router = APIRouter()

#: A notice of non-compliance the exporting side has still to acknowledge.
UNACKNOWLEDGED = (NonComplianceStatus.NOTIFIED.value, NonComplianceStatus.OVERDUE.value)

#: What the page says after an action went through (``?done=decided``).
DONE = {
    "shared": N_("console.done.shared"),
    "decided": N_("console.done.decided"),
    "amended": N_("console.done.amended"),
    "revoked": N_("console.done.revoked"),
    "verification_requested": N_("console.done.verification_requested"),
    "verification_replied": N_("console.done.verification_replied"),
    "alert_raised": N_("console.done.alert_raised"),
    "alert_acknowledged": N_("console.done.alert_acknowledged"),
    "alert_closed": N_("console.done.alert_closed"),
    "alert_followed_up": N_("console.done.alert_followed_up"),
    "alert_withdrawn": N_("console.done.alert_withdrawn"),
    "result_shared": N_("console.done.result_shared"),
    "recognition_decided": N_("console.done.recognition_decided"),
    "non_compliance_notified": N_("console.done.non_compliance_notified"),
    "non_compliance_acknowledged": N_("console.done.non_compliance_acknowledged"),
    "lane_notified": N_("console.done.lane_notified"),
    "lane_arrived": N_("console.done.lane_arrived"),
    "lane_inspected": N_("console.done.lane_inspected"),
    "lane_countersigned": N_("console.done.lane_countersigned"),
    "lane_released": N_("console.done.lane_released"),
    "lane_refused": N_("console.done.lane_refused"),
}

#: What each document of a case is called on its page.
DOCUMENT_TITLES = {
    "phytosanitary_certificate": N_("console.document.phytosanitary_certificate"),
    "quarantine_result": N_("console.document.quarantine_result"),
    "recognition_decision": N_("console.document.recognition_decision"),
    "non_compliance_notice": N_("console.document.non_compliance_notice"),
    "lane_notice": N_("console.document.lane_notice"),
    "lane_decision": N_("console.document.lane_decision"),
    "inspection_record": N_("console.document.inspection_record"),
    "release_notice": N_("console.document.release_notice"),
    "alert": N_("console.document.alert"),
}
#: The label family of each document's own state.
DOCUMENT_STATUS = {
    "quarantine_result": "verdict",
    "recognition_decision": "recognition_outcome",
    "non_compliance_notice": "status",
    "lane_decision": "lane",
    "inspection_record": "inspection_result",
    "alert": "status",
}


def signed_in(request: Request) -> Desk:
    """Every console page but sign-in needs an officer whose role reads."""
    desk = console_of(request).desk(request)
    desk.actor(Permission.READ)
    if desk.officer.role is Role.AUDITOR:
        record_reading(desk.node, Actor.person(desk.officer), request.url.path)
    return desk


@dataclass(frozen=True)
class Refusal:
    """An action refused: which form, the error, and its broken rules by form field."""

    form: str
    error: CrossborderError

    def beside(self, field: str) -> list[Violation]:
        return [v for v in self.error.violations if v.field.split(".")[0].split("[")[0] == field]

    def elsewhere(self, fields: tuple[str, ...]) -> list[Violation]:
        return [
            v for v in self.error.violations if v.field.split(".")[0].split("[")[0] not in fields
        ]


def _allowed(check: Callable[[], object]) -> bool:
    try:
        check()
    except CrossborderError:
        return False
    return True


def _certificate_actions(desk: Desk, view: CaseView) -> list[str]:
    if not view.certificates:
        return []
    latest = view.certificates[-1]
    verifications = _verifications(desk, view)
    awaiting = verifications[-1].status if verifications else None
    if latest.issuing_agency == desk.node.agency:
        offered = {
            "amend": _allowed(lambda: check_amendable(latest.status)),
            "revoke": _allowed(lambda: check_revocable(latest.status)),
            "verify_reply": _allowed(lambda: check_awaiting_reply(awaiting)),
        }
    else:
        offered = {
            "decide": _allowed(lambda: check_decidable(latest.status)),
            "verify_request": latest.status == "accepted"
            and not _allowed(lambda: check_awaiting_reply(awaiting)),
        }
    return [action for action, ok in offered.items() if ok]


def _alert_actions(desk: Desk, case_id: str) -> list[str]:
    alert = alert_view(desk.node, case_id).alert
    side: Side = "sender" if alert.sender == desk.node.agency else "recipient"
    status = AlertStatus(alert.status)
    offered = {
        "ack": _allowed(lambda: next_status(status, AlertAction.ACK, side)),
        "follow_up": _allowed(lambda: next_status(status, AlertAction.FOLLOW_UP, side)),
        "close": _allowed(lambda: next_status(status, AlertAction.CLOSE, side)),
        "withdraw": _allowed(lambda: next_status(status, AlertAction.WITHDRAW, side)),
    }
    return [action for action, ok in offered.items() if ok]


def _consignment_actions(facts: ConsignmentFacts) -> list[str]:
    if facts.exporting:
        offered = {
            "q_result": not facts.result_held,
            "q_acknowledge": facts.notice in UNACKNOWLEDGED,
        }
    else:
        offered = {
            "q_decide": facts.result_held and not facts.decided,
            "q_notify": facts.result_held and facts.notice is None,
        }
    return [action for action, ok in offered.items() if ok]


def _truck_actions(facts: TruckFacts) -> list[str]:
    inspected_lane = facts.lane in (Lane.YELLOW.value, Lane.RED.value)
    if facts.importing:
        offered = {
            "l_arrive": facts.lane is not None and not facts.arrived and not facts.released,
            "l_inspect": facts.arrived and inspected_lane and not facts.recorded,
            "l_release": facts.releasable and not facts.released,
            # Entry may be refused, with reasons, at any point before release.
            "l_refuse": facts.lane is not None and not facts.released,
        }
    else:
        offered = {"l_countersign": facts.recorded and not facts.signed_here and not facts.released}
    # Either side may be asked why a release passed its target.
    offered["l_delay"] = facts.released
    return [action for action, ok in offered.items() if ok]


def _verifications(desk: Desk, view: CaseView) -> list[Verification]:
    return certificate_view(desk.node, view.case.subject).verifications


def actions_now(desk: Desk, view: CaseView, held: CaseDocuments) -> list[str]:
    """The steps this officer may take on this case now; none for a role that takes no step."""
    if not desk.may(Permission.ACT):
        return []
    if view.case.workflow == Workflow.CERTIFICATE_OF_ORIGIN:
        return _certificate_actions(desk, view)
    if view.case.workflow == Workflow.ALERT:
        return _alert_actions(desk, view.case.id)
    if held.consignment is not None:
        return _consignment_actions(held.consignment)
    if held.truck is not None:
        return _truck_actions(held.truck)
    return []


def case_page(
    console: Console,
    request: Request,
    desk: Desk,
    case_id: str,
    *,
    refusal: Refusal | None = None,
    status: int = 200,
) -> HTMLResponse:
    view = case_view(desk.node, case_id)
    reader = desk.reader
    now = desk.node.now()
    certificate_case = view.case.workflow == Workflow.CERTIFICATE_OF_ORIGIN
    held = case_documents(desk.node, case_id)
    context = {
        "view": view,
        "trail": [render(entry, reader.locale, reader.tz) for entry in view.audit],
        "deadlines": [(d, d.due_at - now) for d in list_deadlines(desk.node, case_id=case_id)],
        "verifications": _verifications(desk, view) if certificate_case else [],
        "documents": held.documents,
        "document_titles": DOCUMENT_TITLES,
        "document_status": DOCUMENT_STATUS,
        "actions": actions_now(desk, view, held),
        "refusal": refusal,
        "done": reader.t(DONE[key]) if (key := request.query_params.get("done")) in DONE else None,
        "decisions": list(CertificateDecision),
        "decision_reasons": list(DecisionReason),
        "verification_reasons": list(VerificationReason),
        "document_kinds": list(DocumentKind),
        "closure_reasons": list(ClosureReason),
        "recognition_outcomes": list(RecognitionOutcome),
        "recognition_reasons": list(NonRecognitionReason),
        "inspection_results": list(InspectionResult),
        "finding_kinds": list(FindingKind),
        "refusal_reasons": list(RefusalReason),
    }
    return console.page(request, "case.html", context, desk=desk, status=status)


def _day(text: str, field: str, tz: str, violations: list[Violation]) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=zone(tz))
    except ValueError:
        violations.append(Violation("VALUE_FORMAT_INVALID", field))
        return None


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/console/cases", status_code=303)


@router.get("/cases")
def case_list(
    request: Request,
    desk: Desk = Depends(signed_in),  # noqa: B008 (FastAPI's way to name a dependency)
    workflow: str = "",
    status: str = "",
    counterpart: str = "",
    opened_from: str = "",
    opened_to: str = "",
    q: str = "",
) -> HTMLResponse:
    violations: list[Violation] = []
    start = _day(opened_from, "opened_from", desk.reader.tz, violations)
    end = _day(opened_to, "opened_to", desk.reader.tz, violations)
    wanted = CaseFilter(
        workflow=workflow or None,
        status=status or None,
        counterpart=counterpart or None,
        opened_from=start,
        # The last day asked for is included: up to the start of the next.
        opened_before=end + timedelta(days=1) if end else None,
        text=q or None,
    )
    context = {
        "lines": search_cases(desk.node, wanted),
        "wanted": wanted,
        "form": {
            "opened_from": opened_from,
            "opened_to": opened_to,
            "q": q,
        },
        "violations": violations,
        "workflows": list(Workflow),
        "counterparts": counterparts_seen(desk.node),
        "now": desk.node.now(),
    }
    return console_of(request).page(
        request, "cases.html", context, desk=desk, status=422 if violations else 200
    )


@router.get("/cases/{case_id}")
def case(request: Request, case_id: str, desk: Desk = Depends(signed_in)) -> HTMLResponse:  # noqa: B008
    return case_page(console_of(request), request, desk, case_id)


@router.get("/cases/{case_id}/documents/{kind}")
def document_file(
    case_id: str,
    kind: str,
    desk: Desk = Depends(signed_in),  # noqa: B008
) -> JSONResponse:
    """One document of the case as this node holds it (our model of it, as JSON)."""
    for document in case_documents(desk.node, case_id).documents:
        if document.kind == kind:
            name = f"{case_id}-{kind}.json"
            return JSONResponse(
                jsonable_encoder(document.content),
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
    raise NotFound("DOCUMENT_UNKNOWN", case_id=case_id, kind=kind)
