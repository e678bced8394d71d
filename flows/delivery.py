"""Delivering one message now, as a task; what cannot go now goes on the outbox's schedule."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from crossborder.domain.delivery import OutboxStatus
from crossborder.services.delivery import deliver_now
from flows.runtime import current_node


class DeliveryRefused(Exception):
    """The counterpart refused the message for good; a person must look at it."""


# No retries of its own: a message the counterpart could not take stays pending in
# the outbox with its next attempt set by the node's delivery policy (backoff, the
# oldest probed every few seconds, all of them due at once when one gets through),
# and the node's delivery loop follows that. A task retrying on a clock of its own
# would be a second schedule, knocking at a counterpart the first one backs off from.
@task(name="deliver-message", cache_policy=NO_CACHE)
def deliver_message(message_id: str) -> str:
    """Try one outbox message once; return its status ('delivered', or 'pending': deferred).

    As an officer's command does: the node running on this host is asked to send
    it (or, with none running, this process sends it), and the task waits for
    how that one attempt ended — also when the node's loop had it in hand already.
    """
    delivery = deliver_now(current_node(), message_id)
    if delivery.status == OutboxStatus.FAILED:
        raise DeliveryRefused(message_id)
    return delivery.status


def deliver_or_leave_queued(message_id: str) -> str:
    """Deliver now if possible; a counterpart that is down leaves it to the node's loop.

    A final refusal is already on the case's audit trail; the officer is told
    ``failed`` rather than shown a stack trace.
    """
    try:
        return deliver_message(message_id)
    except DeliveryRefused:
        return "failed"
