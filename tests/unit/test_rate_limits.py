"""Token buckets per caller, on a clock the test moves."""

from __future__ import annotations

import pytest

from crossborder.api.rate_limits import RateLimit
from crossborder.domain.errors import RateLimited


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_rate_then_retry_after() -> None:
    clock = Monotonic()
    limit = RateLimit(rate=2.0, burst=3, clock=clock)
    for _ in range(3):
        limit.take("CN-NNCUS")
    with pytest.raises(RateLimited) as refused:
        limit.take("CN-NNCUS")
    assert refused.value.code == "RATE_LIMITED"
    assert refused.value.params["retry_after"] == 1
    clock.now += 0.5  # one request's worth at 2 a second
    limit.take("CN-NNCUS")
    with pytest.raises(RateLimited):
        limit.take("CN-NNCUS")


def test_one_callers_flood_does_not_touch_another() -> None:
    limit = RateLimit(rate=1.0, burst=2, clock=Monotonic())
    for _ in range(2):
        limit.take("flooding")
    for _ in range(50):
        with pytest.raises(RateLimited):
            limit.take("flooding")
    limit.take("VN-CUSKV6")
    limit.take("VN-CUSKV6")


def test_a_slow_rate_says_how_long_to_wait() -> None:
    limit = RateLimit(rate=0.1, burst=1, clock=Monotonic())
    limit.take("a")
    with pytest.raises(RateLimited) as refused:
        limit.take("a")
    assert refused.value.params["retry_after"] == 10


def test_idle_callers_are_forgotten_when_there_are_too_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("crossborder.api.rate_limits.MAX_CALLERS", 3)
    clock = Monotonic()
    limit = RateLimit(rate=1.0, burst=1, clock=clock)
    for caller in "abc":
        limit.take(caller)
    clock.now += 5
    limit.take("d")
    assert set(limit._buckets) == {"d"}
