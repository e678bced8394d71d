"""Console sessions in the node's database: one browser, two replicas of a node behind one address.

A session opened on one replica is honoured by the other, its form token too;
signing out on either ends it on both; the clock ends it after its idle time
and after its longest time, with the page that says so. The database holds a
hash of the session's id and nothing a browser could sign in or post a form with.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import ConsoleSession
from crossborder.console.sessions import SESSION_COOKIE, SessionStore
from crossborder.domain.errors import Unauthorized
from crossborder.services.node import Node
from crossborder.services.officers import set_password
from tests.conftest import Clock
from tests.factories import make_node, register_staff, replica, serving
from tests.integration.test_console import PASSWORD, codes, token

IDLE_SECONDS = 600


@pytest.fixture
def replicas(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    first = make_node(
        "cn",
        make_db_url("cn"),
        tmp_path,
        clock,
        console_secure_cookie=False,
        console_idle_seconds=IDLE_SECONDS,
    )
    register_staff(first)
    set_password(first, "officer", PASSWORD, by="operator")
    second = replica(first, clock)
    with serving(first, run_workers=False), serving(second, run_workers=False):
        yield first, second
    second.close()
    first.close()


def at(node: Node, path: str) -> str:
    """``path`` on this replica's own port (a load balancer would choose it)."""
    return f"http://127.0.0.1:{node.settings.port}/console{path}"


def signed_in(client: httpx.Client, node: Node) -> None:
    form = client.get(at(node, "/sign-in"))
    answer = client.post(
        at(node, "/sign-in"),
        data={"officer": "officer", "password": PASSWORD, "csrf_token": token(form)},
    )
    assert answer.status_code == 303, answer.text


def stored(node: Node) -> list[ConsoleSession]:
    with node.sessions() as session:
        return list(session.scalars(select(ConsoleSession)))


def test_a_session_opened_on_one_replica_is_honoured_by_the_other_until_signed_out(
    replicas: tuple[Node, Node],
) -> None:
    first, second = replicas
    # One browser: its cookies go to the node's host whichever replica answers.
    with httpx.Client(headers={"Accept-Language": "vi"}, timeout=10) as client:
        signed_in(client, first)
        session_id = client.cookies[SESSION_COOKIE]
        page = client.get(at(second, "/cases"))
        assert page.status_code == 200 and "李明" in page.text
        # A form shown by one replica is accepted by the other: its token is the session's.
        csrf = token(client.get(at(first, "/cases")))
        out = client.post(at(second, "/sign-out"), data={"csrf_token": csrf})
        assert out.status_code == 303
        # The browser forgets the cookie; one copied before is worth nothing now.
        assert SESSION_COOKIE not in client.cookies
        client.cookies.set(SESSION_COOKIE, session_id, path="/console")
        ended = client.get(at(first, "/cases"))
    assert ended.status_code == 401 and codes(ended) == ["SESSION_EXPIRED"]
    assert stored(first) == []


def test_an_idle_session_is_refused_with_the_page_that_says_so_on_every_replica(
    replicas: tuple[Node, Node], clock: Clock
) -> None:
    first, second = replicas
    with httpx.Client(headers={"Accept-Language": "vi"}, timeout=10) as client:
        signed_in(client, first)
        clock.advance(seconds=IDLE_SECONDS - 1)
        assert client.get(at(second, "/cases")).status_code == 200  # a request: idle again from 0
        clock.advance(seconds=IDLE_SECONDS - 1)
        assert client.get(at(first, "/cases")).status_code == 200
        clock.advance(seconds=IDLE_SECONDS)
        ended = client.get(at(second, "/cases"))
    assert ended.status_code == 401 and codes(ended) == ["SESSION_EXPIRED"]
    assert "Phiên làm việc đã kết thúc: hãy đăng nhập lại." in ended.text
    assert 'name="officer"' in ended.text  # the sign-in form, on the same page
    assert stored(first) == []


def test_the_database_keeps_only_a_hash_of_the_session_id_and_not_the_form_token(
    replicas: tuple[Node, Node],
) -> None:
    first, _ = replicas
    with httpx.Client(timeout=10) as client:
        signed_in(client, first)
        session_id = client.cookies[SESSION_COOKIE]
        csrf = token(client.get(at(first, "/cases")))
    (row,) = stored(first)
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    with first.engine.connect() as connection:
        dumped = repr(connection.exec_driver_sql("SELECT * FROM console_sessions").all())
    assert session_id not in dumped and csrf not in dumped


@pytest.fixture
def node(make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node(
        "cn",
        make_db_url("cn"),
        tmp_path,
        clock,
        console_idle_seconds=100,
        console_session_seconds=250,
    )
    register_staff(node)
    yield node
    node.close()


def test_a_session_ends_when_idle_and_after_its_longest_time(node: Node, clock: Clock) -> None:
    store = SessionStore(node)
    session = store.start("officer")
    clock.advance(seconds=90)
    assert store.find(session.id).officer_id == "officer"
    clock.advance(seconds=100)
    with pytest.raises(Unauthorized, match="SESSION_EXPIRED"):
        store.find(session.id)
    busy = store.start("officer")
    for _ in range(2):
        clock.advance(seconds=90)
        store.find(busy.id)
    clock.advance(seconds=90)
    with pytest.raises(Unauthorized):
        store.find(busy.id)  # 270 s in: past the longest, however busy


def test_each_sign_in_gets_a_new_session_id_and_token_and_an_ended_one_is_gone(
    node: Node, clock: Clock
) -> None:
    store = SessionStore(node)
    first, second = store.start("officer"), store.start("officer")
    assert first.id != second.id and first.csrf != second.csrf
    assert store.find(first.id).csrf == first.csrf
    store.end(first.id)
    with pytest.raises(Unauthorized):
        store.find(first.id)
    # Rows of sessions past their time go when the next one starts.
    clock.advance(seconds=101)
    store.start("officer")
    with node.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 1
