"""The console's sign-in throttle on its own."""

from __future__ import annotations

import pytest

from crossborder.console.throttle import SignInThrottle
from crossborder.domain.errors import RateLimited


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_passwords_throttle_the_account_until_the_window_passes() -> None:
    ticks = Ticks()
    throttle = SignInThrottle(per_account=3, per_address=100, window=60, clock=ticks)
    for _ in range(3):
        throttle.check("li.wei", "10.0.0.1")
        throttle.failed("li.wei", "10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        throttle.check("li.wei", "10.0.0.2")  # another address: the account is held
    assert refused.value.code == "SIGN_IN_THROTTLED"
    assert refused.value.params["retry_after"] == 60
    throttle.check("nguyen.lan", "10.0.0.1")  # another account from the same address may
    ticks.now += 60
    throttle.check("li.wei", "10.0.0.1")


def test_one_address_trying_many_accounts_is_throttled() -> None:
    throttle = SignInThrottle(per_account=100, per_address=2, window=60, clock=Ticks())
    throttle.failed("a1", "10.0.0.9")
    throttle.failed("a2", "10.0.0.9")
    with pytest.raises(RateLimited):
        throttle.check("a3", "10.0.0.9")


def test_a_success_clears_the_account_not_the_address() -> None:
    throttle = SignInThrottle(per_account=1, per_address=2, window=60, clock=Ticks())
    throttle.failed("li.wei", "10.0.0.1")
    throttle.succeeded("li.wei")
    throttle.check("li.wei", "10.0.0.3")
    throttle.failed("x", "10.0.0.1")
    with pytest.raises(RateLimited):
        throttle.check("li.wei", "10.0.0.1")
