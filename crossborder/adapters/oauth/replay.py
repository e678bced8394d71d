"""Remembering what was already seen, for as long as it could be replayed.

A client assertion (and, elsewhere, a message id) may be used once. Once it has
expired it cannot be replayed anyway, so the store forgets it then: the store
stays as small as the traffic of one validity window.
"""

from __future__ import annotations

import heapq
import threading
from datetime import datetime
from typing import Protocol

from crossborder.adapters.oauth import Clock


class ReplayStore(Protocol):
    def first_seen(self, key: str, expires_at: datetime) -> bool:
        """Record ``key`` until ``expires_at``; ``False`` if it is already recorded.

        Must be atomic: of two concurrent calls with the same key, exactly one
        gets ``True``.
        """
        ...


class InMemoryReplayStore:
    """A :class:`ReplayStore` for one process (tests, a single-process node)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[str, datetime] = {}
        # Soonest expiry first, so forgetting expired keys costs nothing when none have expired.
        self._queue: list[tuple[datetime, str]] = []

    def first_seen(self, key: str, expires_at: datetime) -> bool:
        with self._lock:
            self._forget_expired(self._clock())
            if key in self._expiry:
                return False
            self._expiry[key] = expires_at
            heapq.heappush(self._queue, (expires_at, key))
            return True

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def _forget_expired(self, now: datetime) -> None:
        while self._queue and self._queue[0][0] <= now:
            _, key = heapq.heappop(self._queue)
            del self._expiry[key]
