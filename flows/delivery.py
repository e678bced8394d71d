"""Delivering one message now, as a task, with retries only for what may recover."""

from __future__ import annotations

from typing import Any

from prefect import Task, task
from prefect.client.schemas.objects import State, TaskRun

from crossborder.services.delivery import deliver_due
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
    cache_policy=None,
)
def deliver_message(message_id: str) -> str:
    """Send one outbox message; return its status ('delivered')."""
    status = deliver_due(current_node(), message_id=message_id).get(message_id)
    if status is None or status == "pending":
        # Not claimed (the node's own loop holds it) or a retryable failure.
        raise DeliveryDeferred(message_id)
    if status == "failed":
        raise DeliveryRefused(message_id)
    return status


def deliver_or_leave_queued(message_id: str) -> str:
    """Deliver now if possible; a counterpart that stays down leaves it for the node's loop."""
    try:
        return deliver_message(message_id)
    except DeliveryDeferred:
        return "pending"
