"""Slowing down password guessing: wrong passwords counted per officer id and per address.

Past the allowance within the window, sign-in is refused (``SIGN_IN_THROTTLED``)
before any password is checked, until the oldest failure leaves the window. Per
id, so that one officer's account cannot be guessed from many addresses; per
address, so that one machine cannot try every id. Counts live in the node
process's memory, like the API's rates.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from crossborder.domain.errors import RateLimited


class SignInThrottle:
    def __init__(
        self,
        *,
        per_account: int,
        per_address: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"account": per_account, "address": per_address}
        self._window = window
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, account: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            waits = [
                self._wait(("account", account), now),
                self._wait(("address", address), now),
            ]
        longest = max(waits)
        if longest > 0:
            raise RateLimited("SIGN_IN_THROTTLED", retry_after=math.ceil(longest))

    def failed(self, account: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (("account", account), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account), None)

    def _wait(self, key: tuple[str, str], now: float) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        times = self._failures.get(key)
        if times is None:
            return 0.0
        while times and now - times[0] >= self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        if len(times) < self._limits[key[0]]:
            return 0.0
        return self._window - (now - times[-self._limits[key[0]]])
