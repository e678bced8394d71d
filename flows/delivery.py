"""Delivering one message now, as a task, with retries only for what may recover."""

from __future__ import annotations

from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun

from crossborder.domain.delivery import OutboxStatus
from crossborder.services.delivery import deliver_due, outbox_status
from flows.runtime import current_node


class DeliveryDeferred(Exception):
    """The counterpart could not take the message now; it stays in the outbox."""


class DeliveryRefused(Exception):
    """The counterpart refused the message for good; a person must look at it."""


def _retryable(_task: Task[..., Any], _run: TaskRun, state: State[Any]) -> bool:
    try:
        state.result()
    except DeliveryDeferred:
        return True
    except Exception:
        return False
    return False


@task(
    name="deliver-message",
    retries=4,
    retry_delay_seconds=[1, 2, 4, 8],
    retry_condition_fn=_retryable,
    cache_policy=NO_CACHE,
)
def deliver_message(message_id: str) -> str:
    """Send one outbox message; return its status ('delivered')."""
    node = current_node()
    # Not claimed means the node's own delivery loop holds it: see how that went.
    status = deliver_due(node, message_id=message_id).get(message_id) or outbox_status(
        node, message_id
    )
    if status in (None, OutboxStatus.PENDING):
        raise DeliveryDeferred(message_id)
    if status == OutboxStatus.FAILED:
        raise DeliveryRefused(message_id)
    return status


def deliver_or_leave_queued(message_id: str) -> str:
    """Deliver now if possible; a counterpart that stays down leaves it for the node's loop.

    A final refusal is already on the case's audit trail; the officer is told
    ``failed`` rather than shown a stack trace.
    """
    try:
        return deliver_message(message_id)
    except DeliveryDeferred:
        return "pending"
    except DeliveryRefused:
        return "failed"
