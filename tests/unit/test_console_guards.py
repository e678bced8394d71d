"""The console's guards on their own: the sign-in throttle and the end of sessions."""

from __future__ import annotations

import pytest

from crossborder.console.sessions import SessionStore
from crossborder.console.throttle import SignInThrottle
from crossborder.domain.errors import RateLimited, Unauthorized


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


def test_a_session_ends_when_idle_and_after_its_longest_time() -> None:
    ticks = Ticks()
    store = SessionStore(idle=100, longest=250, clock=ticks)
    session = store.start("li.wei")
    ticks.now += 90
    assert store.find(session.id).officer_id == "li.wei"
    ticks.now += 101
    with pytest.raises(Unauthorized, match="SESSION_EXPIRED"):
        store.find(session.id)
    busy = store.start("li.wei")
    for _ in range(2):
        ticks.now += 90
        store.find(busy.id)
    ticks.now += 90
    with pytest.raises(Unauthorized):
        store.find(busy.id)  # 270 s in: past the longest, however busy


def test_each_sign_in_gets_a_new_session_id_and_token() -> None:
    store = SessionStore(idle=100, longest=250, clock=Ticks())
    first, second = store.start("li.wei"), store.start("li.wei")
    assert first.id != second.id and first.csrf != second.csrf
    store.end(first.id)
    with pytest.raises(Unauthorized):
        store.find(first.id)
