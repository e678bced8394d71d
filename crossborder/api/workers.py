"""The node's two background loops: deliver the outbox, dispatch the inbox.

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

from crossborder.bootstrap import Node
from crossborder.services.delivery import deliver_due
from crossborder.services.dispatch import process_inbox

log = logging.getLogger(__name__)


class Loop:
    def __init__(self, name: str, work: Callable[[], int], poll_seconds: float) -> None:
        self._name = name
        self._work = work
        self._poll = poll_seconds
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
                busy = self._work() > 0
            except Exception:
                # A loop that dies silently stops the node's traffic: log and go on.
                log.exception("%s failed; retrying", self._name)
                busy = False
            if not busy:
                self._wake.wait(self._poll)


class Workers:
    def __init__(self, node: Node) -> None:
        poll = node.settings.poll_seconds
        self.delivery = Loop("outbox-delivery", lambda: len(deliver_due(node)), poll)
        self.dispatch = Loop("inbox-dispatch", lambda: self._dispatch(node), poll)

    def _dispatch(self, node: Node) -> int:
        handled = process_inbox(node)
        if handled:
            # Reactions may have queued replies.
            self.delivery.wake()
        return handled

    def start(self) -> None:
        self.delivery.start()
        self.dispatch.start()

    def stop(self) -> None:
        self.dispatch.stop()
        self.delivery.stop()
