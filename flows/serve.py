"""Serve the officers' workflows as Prefect deployments, and the deadline watcher on a schedule.

``crossborder node serve`` starts this (``python -m flows.serve``, with the
node's ``CROSSBORDER_*`` settings and ``PREFECT_API_URL`` in the environment)
when ``CROSSBORDER_PREFECT_API_URL`` names a Prefect server. It registers one
deployment per workflow, named after the node's agency so that every node can
share one server; the Prefect UI shows each as a form generated from its
pydantic input, and other systems can start a run through Prefect's API.
"""

from __future__ import annotations

from prefect import serve

from crossborder.settings import Settings
from flows.alerts import alert_step, handle_incoming_alert, raise_alert
from flows.certificate_of_origin import answer_certificate_of_origin, share_certificate_of_origin
from flows.deadlines import watch_deadlines
from flows.lane import process_lane_backlog, release_one_truck
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
    process_lane_backlog,
    release_one_truck,
)
WATCH_INTERVAL_SECONDS = 300


def deployments(agency: str) -> list[object]:
    """Each flow's deployment for one node: ``share-certificate-of-origin/CN-NNCUS``."""
    officer = [flow.to_deployment(name=agency) for flow in OFFICER_FLOWS]
    watcher = watch_deadlines.to_deployment(name=agency, interval=WATCH_INTERVAL_SECONDS)
    return [*officer, watcher]


if __name__ == "__main__":
    serve(*deployments(Settings().agency))  # type: ignore[arg-type]
