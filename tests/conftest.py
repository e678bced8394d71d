"""Shared fixtures: databases (SQLite and PostgreSQL), nodes, a controllable clock.

Storage and end-to-end tests take the ``db_url`` fixture and so run twice, once
on an SQLite file and once on PostgreSQL (each test in a schema of its own).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect.events.clients import NullEventsClient
from prefect.events.worker import EventsWorker
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import create_engine, text

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect logs "Stopping temporary server" at exit, after pytest closed the captured streams.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

PG_BASE = os.environ.get(
    "CROSSBORDER_TEST_POSTGRES", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def prefect_local() -> Iterator[None]:
    """One temporary Prefect server for every test that runs a flow: each start costs seconds.

    Prefect's events go nowhere: no test reads them, and the events client's
    websocket pings draw from the global ``random`` in a background thread for the
    rest of the session, which Hypothesis then reports, rightly, as randomness
    inside the strategies of whichever property test is running at that moment.
    """
    EventsWorker.set_client_override(NullEventsClient)
    try:
        with prefect_test_harness(server_startup_timeout=60):
            yield
    finally:
        EventsWorker.set_client_override(None)


@pytest.fixture(autouse=True)
def acting_officer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands act as the officer ``tests.factories.register_staff`` names ``officer``.

    A test that wants another role says ``--officer operator``; one about who may
    act deletes the variable.
    """
    monkeypatch.setenv("CROSSBORDER_OFFICER", "officer")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    try:
        engine = create_engine(PG_BASE)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return False
    return True


@pytest.fixture
def make_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_available: bool
) -> Iterator[Callable[[str], str]]:
    """Makes empty databases of the kind this test runs on: one per name."""
    kind = request.param if hasattr(request, "param") else "sqlite"
    with databases(kind, tmp_path, postgres_available) as make:
        yield make


@pytest.fixture
def make_postgres_url(tmp_path: Path, postgres_available: bool) -> Iterator[Callable[[str], str]]:
    """Like ``make_db_url``, on PostgreSQL only: for what only PostgreSQL does."""
    with databases("postgresql", tmp_path, postgres_available) as make:
        yield make


@contextmanager
def databases(
    kind: str, tmp_path: Path, postgres_available: bool
) -> Iterator[Callable[[str], str]]:
    schemas: list[str] = []

    def make(name: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / f'{name}.db'}"
        if not postgres_available:
            if os.environ.get("CI"):
                pytest.fail("PostgreSQL is not reachable at " + PG_BASE)
            pytest.skip("PostgreSQL is not reachable")
        schema = f"t_{name}_{uuid.uuid4().hex[:10]}"
        engine = create_engine(PG_BASE)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        schemas.append(schema)
        return f"{PG_BASE}?options=-csearch_path%3D{schema}"

    try:
        yield make
    finally:
        if schemas:
            engine = create_engine(PG_BASE)
            with engine.begin() as connection:
                for schema in schemas:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "make_db_url" in metafunc.fixturenames:
        metafunc.parametrize("make_db_url", ["sqlite", "postgresql"], indirect=True)
