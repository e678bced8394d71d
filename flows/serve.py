"""Serve the officers' workflows as Prefect deployments, and the deadline watcher on a schedule.

``python -m flows.serve`` (with the node's ``CROSSBORDER_*`` settings in the
environment) registers one deployment per workflow; the Prefect UI then shows
each as a form generated from its pydantic input — how a liaison officer
answers a verification request without the CLI.
"""

from __future__ import annotations

from prefect import serve

from crossborder.services import workflows  # noqa: F401  (registers every workflow's deadline hooks)
from flows.alerts import alert_step, handle_incoming_alert, raise_alert
from flows.certificate_of_origin import answer_certificate_of_origin, share_certificate_of_origin
from flows.deadlines import watch_deadlines
from flows.quarantine import (
    acknowledge_non_compliance,
    decide_recognition,
    notify_non_compliance,
    share_quarantine_result,
)
from flows.verification import (
    amend_certificate_of_origin,
    reply_origin_verification,
    request_origin_verification,
    revoke_certificate_of_origin,
)

OFFICER_FLOWS = (
    share_certificate_of_origin,
    answer_certificate_of_origin,
    amend_certificate_of_origin,
    revoke_certificate_of_origin,
    request_origin_verification,
    reply_origin_verification,
    raise_alert,
    handle_incoming_alert,
    alert_step,
    share_quarantine_result,
    decide_recognition,
    notify_non_compliance,
    acknowledge_non_compliance,
)
WATCH_INTERVAL_SECONDS = 300


def deployments() -> list[object]:
    officer = [flow.to_deployment(name=flow.name) for flow in OFFICER_FLOWS]
    watcher = watch_deadlines.to_deployment(
        name="deadline-watcher", interval=WATCH_INTERVAL_SECONDS
    )
    return [*officer, watcher]


if __name__ == "__main__":
    serve(*deployments())  # type: ignore[arg-type]
