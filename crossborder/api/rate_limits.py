"""Request rates, limited per caller with token buckets, in the memory of one node process.

Each caller — an authenticated client, or an IP address where nobody is
authenticated yet — has its own bucket, so one counterpart's flood empties
only its own. Behind a load balancer each process counts for itself: the
limit a caller meets is then the setting times the number of processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from crossborder.domain.errors import RateLimited

#: Beyond this many callers, those whose bucket has filled up again are forgotten.
MAX_CALLERS = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimit:
    """``rate`` requests per second on average, ``burst`` at once, for each caller."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, caller: str) -> None:
        """Count one request of ``caller``, or raise :class:`RateLimited` if it has none left."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(caller)
            if bucket is None:
                if len(self._buckets) >= MAX_CALLERS:
                    self._forget_idle(now)
                bucket = self._buckets[caller] = _Bucket(tokens=self._burst, at=now)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
            bucket.at = now
            if bucket.tokens < 1:
                raise RateLimited(
                    "RATE_LIMITED", retry_after=math.ceil((1 - bucket.tokens) / self._rate)
                )
            bucket.tokens -= 1

    def _forget_idle(self, now: float) -> None:
        """Drop the callers whose bucket is full again: forgetting them changes nothing."""
        full = self._burst / self._rate
        for caller in [c for c, b in self._buckets.items() if now - b.at >= full]:
            del self._buckets[caller]
