"""The replay store on the node's database: one use per value, forgotten once expired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from crossborder.adapters.db.engine import make_engine
from crossborder.adapters.db.migrate import upgrade
from crossborder.adapters.db.replay import DatabaseReplayStore


def test_a_value_is_taken_once_until_it_expires(make_db_url: Callable[[str], str]) -> None:
    engine = make_engine(make_db_url("replay"))
    upgrade(engine)
    store = DatabaseReplayStore(engine)
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    assert store.first_seen("client-assertion:CN-NNCUS:j1", now + timedelta(seconds=120))
    assert not store.first_seen("client-assertion:CN-NNCUS:j1", now + timedelta(seconds=120))
    assert store.forget_expired(now) == 0
    assert store.forget_expired(now + timedelta(seconds=121)) == 1
    assert store.first_seen("client-assertion:CN-NNCUS:j1", now + timedelta(seconds=300))
    engine.dispose()
