"""The node's background loops: deliver the outbox, dispatch the inbox, watch deadlines.

They are plain threads, not Prefect flows: they sit on the per-message path,
where a flow run's ~100 ms would cap a node at ten messages a second (DESIGN.md,
"Prefect, measured"). A loop wakes when the API tells it there is work, and
otherwise polls, which also picks up rows written by other processes (the CLI,
a Prefect flow) and retries that have come due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from crossborder.adapters.db.replay import DatabaseReplayStore
from crossborder.services.deadlines import watch
from crossborder.services.delivery import deliver_due, take_back_earlier_claims
from crossborder.services.dispatch import process_inbox
from crossborder.services.node import Node

log = logging.getLogger(__name__)

#: Rows each pass of a loop takes at most.
DELIVERY_BATCH = 50
DISPATCH_BATCH = 100
DEADLINE_BATCH = 100
#: Expired one-time values (client-assertion ids) are forgotten this often.
HOUSEKEEPING_SECONDS = 60.0


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


class Workers:
    def __init__(self, node: Node) -> None:
        self._node = node
        poll = node.settings.poll_seconds
        self.delivery = Loop(
            "outbox-delivery", lambda: len(deliver_due(node, DELIVERY_BATCH)), poll, DELIVERY_BATCH
        )
        self.dispatch = Loop("inbox-dispatch", lambda: self._dispatch(node), poll, DISPATCH_BATCH)
        # The node watches its own deadlines: escalation must not wait for a
        # separate scheduler to be running (the Prefect flow is a second watcher).
        self.deadlines = Loop(
            "deadline-watcher",
            lambda: self._watch(node),
            node.settings.deadline_poll_seconds,
            DEADLINE_BATCH,
        )
        replay = DatabaseReplayStore(node.sessions)
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
