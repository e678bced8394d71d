"""Green lane flows: a backlog processed in batches, one flow run per batch, not per truck.

A flow run costs about a tenth of a second (DESIGN.md §5): after a closure
with thousands of trucks queued, one run per truck would spend more time in
Prefect than in the work. Each run here takes one batch — arrivals read at the
gate, then the trucks that may leave, perishables first — and each task calls
one service function. ``release_one_truck`` is the per-truck shape, kept for
what a person starts from the Prefect UI for a single truck.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from crossborder.domain.messages import CaseId
from crossborder.services import lane, lane_backlog
from crossborder.services.delivery import deliver_due
from flows.runtime import current_node, named_officer


class BacklogBatch(BaseModel):
    """One batch of the backlog at one gate: trucks read at the gate, then releases."""

    model_config = ConfigDict(extra="forbid")

    gate: str | None = Field(default=None, max_length=20)
    arrived: list[CaseId] = Field(default_factory=list, max_length=10_000)
    release_limit: int = Field(default=500, ge=1, le=10_000)
    officer: str = Field(min_length=1, max_length=100)


class OneTruck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: CaseId
    officer: str = Field(min_length=1, max_length=100)


@task(name="record-arrivals", cache_policy=NO_CACHE)
def record_arrivals(batch: BacklogBatch) -> list[str]:
    return lane_backlog.arrive_all(current_node(), batch.arrived, named_officer(batch.officer))


@task(name="release-ready-trucks", cache_policy=NO_CACHE)
def release_ready_trucks(batch: BacklogBatch) -> list[str]:
    return lane_backlog.release_ready(
        current_node(), batch.gate, batch.release_limit, named_officer(batch.officer)
    )


@task(name="deliver-batch", cache_policy=NO_CACHE)
def deliver_batch() -> int:
    """Deliver everything due now; what fails waits for the node's retries."""
    delivered = 0
    while sent := deliver_due(current_node(), limit=500):
        delivered += len(sent)
    return delivered


@flow(name="process-lane-backlog", flow_run_name="lane-backlog-{batch.gate}")
def process_lane_backlog(batch: BacklogBatch) -> int:
    """Arrivals, then releases, then delivery of everything the batch queued."""
    queued = record_arrivals(batch) + release_ready_trucks(batch)
    deliver_batch()
    return len(queued)


@task(name="arrive-and-release", cache_policy=NO_CACHE)
def arrive_and_release(truck: OneTruck) -> int:
    arrived = lane.arrive(current_node(), truck.case_id, named_officer(truck.officer))
    return len(arrived.message_ids)


@flow(name="release-one-truck", flow_run_name="lane-truck-{truck.case_id}")
def release_one_truck(truck: OneTruck) -> int:
    sent = arrive_and_release(truck)
    deliver_batch()
    return sent
