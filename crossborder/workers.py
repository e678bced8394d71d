"""The node's background loops: deliver the outbox, dispatch the inbox, watch deadlines.

They are plain threads, not Prefect flows: they sit on the per-message path,
where a flow run's ~100 ms would cap a node at ten messages a second (DESIGN.md,
"Prefect, measured"). A loop wakes when the API tells it there is work, and
otherwise polls, which also picks up rows written by other processes (the CLI,
a Prefect flow) and retries that have come due.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable

from crossborder.adapters.db.replay import DatabaseReplayStore
from crossborder.services.deadlines import watch
from crossborder.services.delivery import Claim, claim_due, deliver_claims, take_back_earlier_claims
from crossborder.services.dispatch import process_inbox
from crossborder.services.node import Node

log = logging.getLogger(__name__)

#: Rows each pass of a loop takes at most.
DELIVERY_BATCH = 50
DISPATCH_BATCH = 100
DEADLINE_BATCH = 100
#: Expired one-time values (client-assertion ids) are forgotten this often.
HOUSEKEEPING_SECONDS = 60.0
#: How long a thread may hold the GIL while others wait for it. A node's threads
#: give it up at every database call and network read; at CPython's default of
#: 5 ms, a thread back from SQLite waits behind a busy one, many times a message,
#: and the node idles while its requests queue — holding the write lock, when the
#: call was one of its transaction's statements. Measured by ``bench/backlog.py``
#: (2,000 trucks, runs alternating): 0.1 ms gave 33.2 and 32.9 trucks a second,
#: 0.5 ms 29.6 and 30.4, with less CPU per truck.
SWITCH_INTERVAL_SECONDS = 0.0001


class Loop:
    """Runs ``work`` (which handles at most ``batch`` items and says how many) when woken."""

    def __init__(self, name: str, work: Callable[[], int], poll_seconds: float, batch: int) -> None:
        self._name = name
        self._work = work
        self._poll = poll_seconds
        self._batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                full = self._work() >= self._batch
            except Exception:
                # A loop that dies silently stops the node's traffic: log and go on.
                log.exception("%s failed; retrying", self._name)
                full = False
            # Only a full batch can have left work behind. After a smaller one the
            # queue was empty when we looked, and whatever came since has set the
            # wake event already: looking again at once would be an empty query.
            if not full:
                self._wake.wait(self._poll)


class CounterpartSenders:
    """Sends the outbox with one thread per counterpart, so none waits on another.

    The delivery loop claims what is due and hands each counterpart's rows to a
    thread of their own; while one is busy (a counterpart that drops packets
    costs a 10 s time-out), the loop claims around it and the others' messages
    go at once. One thread per counterpart at a time keeps its messages in
    order. The leases are the same as with one thread: whoever claims a row
    sends it, once.
    """

    def __init__(self, node: Node, finished: Callable[[], None]) -> None:
        self._node = node
        # A counterpart's thread is done: what waited for it may be claimed now.
        self._finished = finished
        self._busy: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start_due(self) -> int:
        """Claim what is due for counterparts not busy, start their threads; how many rows."""
        with self._lock:
            busy = set(self._busy)
        claims = claim_due(self._node, DELIVERY_BATCH, skip=busy)
        by_recipient: dict[str, list[Claim]] = {}
        for claim in claims:
            by_recipient.setdefault(claim.recipient, []).append(claim)
        for recipient, own in by_recipient.items():
            thread = threading.Thread(
                target=self._send,
                args=(recipient, own),
                name=f"outbox-delivery-{recipient}",
                daemon=True,
            )
            with self._lock:
                self._busy[recipient] = thread
            thread.start()
        return len(claims)

    def _send(self, recipient: str, claims: list[Claim]) -> None:
        try:
            deliver_claims(self._node, claims)
        except Exception:
            # The rows keep their leases until they lapse, then go again.
            log.exception("delivery to %s failed; retrying", recipient)
        finally:
            with self._lock:
                del self._busy[recipient]
            self._finished()

    def join(self, timeout: float) -> None:
        """Wait, up to ``timeout`` in all, for the sends under way to end."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._busy.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class Workers:
    def __init__(self, node: Node) -> None:
        self._node = node
        poll = node.settings.poll_seconds
        self._senders = CounterpartSenders(node, finished=lambda: self.delivery.wake())
        self.delivery = Loop("outbox-delivery", self._senders.start_due, poll, DELIVERY_BATCH)
        self.dispatch = Loop("inbox-dispatch", lambda: self._dispatch(node), poll, DISPATCH_BATCH)
        # The node watches its own deadlines: escalation must not wait for a
        # separate scheduler to be running (the Prefect flow is a second watcher).
        self.deadlines = Loop(
            "deadline-watcher",
            lambda: self._watch(node),
            node.settings.deadline_poll_seconds,
            DEADLINE_BATCH,
        )
        replay = DatabaseReplayStore(node.engine)
        # One pass clears all that expired; a pass that found some looks once more.
        self.housekeeping = Loop(
            "housekeeping", lambda: replay.forget_expired(node.now()), HOUSEKEEPING_SECONDS, 1
        )

    def _dispatch(self, node: Node) -> int:
        handled = process_inbox(node, DISPATCH_BATCH)
        if handled:
            # Reactions may have queued replies.
            self.delivery.wake()
        return handled

    def _watch(self, node: Node) -> int:
        result = watch(node, limit=DEADLINE_BATCH)
        if result.taken:
            # Escalations may have queued a re-sent message.
            self.delivery.wake()
        return len(result.taken) + result.skipped

    def start(self) -> None:
        # The process that runs a node's loops serves its API: it is the node's own.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        if freed := take_back_earlier_claims(self._node):
            log.info("took back %d messages claimed before a restart", freed)
        self.delivery.start()
        self.dispatch.start()
        self.deadlines.start()
        self.housekeeping.start()

    def stop(self) -> None:
        self.housekeeping.stop()
        self.deadlines.stop()
        self.dispatch.stop()
        self.delivery.stop()
        # A send under way ends within the counterpart client's time-out.
        self._senders.join(timeout=10)
