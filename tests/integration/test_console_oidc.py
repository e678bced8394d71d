"""Signing in to the console through an OpenID Connect provider started for the test.

The provider is authlib's own authorization server, on loopback, with its
discovery document and JWKS; the console is the relying party. A person the
provider vouches for gets in only as a registered officer of the node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from crossborder.adapters.db.tables import AuditEntry, ConsoleSignIn
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import free_port, make_node, register_staff, replica, serving
from tests.integration.test_console import codes
from tests.oidc_provider import Client, Provider

SECRET = "a client secret of the console"


@pytest.fixture
def provider() -> Iterator[Provider]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    made = Provider(issuer, Client("console-cn", SECRET, redirect_uri=""))
    server = uvicorn.Server(
        uvicorn.Config(made.app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield made
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def node(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock, provider: Provider
) -> Iterator[Node]:
    node = make_node(
        "cn",
        make_db_url("cn"),
        tmp_path,
        clock,
        console_secure_cookie=False,
        console_oidc_issuer=provider.issuer,
        console_oidc_client_id="console-cn",
        console_oidc_client_secret=SECRET,
    )
    provider.client.redirect_uri = f"{node.settings.base_url}/console/sign-in/oidc/callback"
    register_staff(node)
    with serving(node, run_workers=False):
        yield node
    node.close()


def events(node: Node) -> list[str]:
    with node.sessions() as session:
        return list(session.scalars(select(AuditEntry.event).order_by(AuditEntry.seq)))


def browser(node: Node) -> httpx.Client:
    return httpx.Client(
        base_url=node.settings.base_url,
        headers={"Accept-Language": "vi"},
        follow_redirects=True,
        timeout=10,
    )


def test_a_registered_officer_signs_in_through_the_agencys_provider(
    node: Node, provider: Provider
) -> None:
    provider.person = "officer"
    with browser(node) as client:
        assert "tài khoản của cơ quan" in client.get("/console/sign-in").text
        page = client.get("/console/sign-in/oidc", params={"next": "/console/alerts"})
    assert page.status_code == 200 and page.url.path == "/console/alerts", (codes(page), page.url)
    assert "Nguyễn" not in page.text and "李明" in page.text  # the CN node's officer
    assert events(node)[-1] == "officer.signed_in_by_provider"


def test_a_person_who_is_no_officer_here_is_refused_and_audited(
    node: Node, provider: Provider
) -> None:
    provider.person = "someone.else"
    with browser(node) as client:
        page = client.get("/console/sign-in/oidc")
        after = client.get("/console/cases")
    assert page.status_code == 401 and codes(page) == ["OIDC_OFFICER_UNKNOWN"]
    assert "someone.else" in page.text and "không phải cán bộ" in page.text
    assert after.url.path == "/console/sign-in"
    assert events(node)[-1] == "officer.provider_sign_in_refused"


def test_an_answer_to_a_sign_in_not_started_here_is_refused(node: Node) -> None:
    with browser(node) as client:
        page = client.get(
            "/console/sign-in/oidc/callback", params={"state": "forged", "code": "stolen"}
        )
    assert page.status_code == 401 and codes(page) == ["OIDC_STATE_INVALID"]


def test_an_id_token_for_another_nonce_is_refused(node: Node, provider: Provider) -> None:
    provider.person = "officer"
    provider.extra_claims = {"nonce": "not the one sent"}
    with browser(node) as client:
        page = client.get("/console/sign-in/oidc")
    assert page.status_code == 401 and codes(page) == ["OIDC_ID_TOKEN_INVALID"]


def test_a_sign_in_started_on_one_replica_is_finished_by_another(
    node: Node, provider: Provider, clock: Clock
) -> None:
    """The provider answers the node's one address; a load balancer may hand it to any replica."""
    provider.person = "officer"
    other = replica(node, clock)
    with serving(other, run_workers=False), httpx.Client(timeout=10) as client:
        to_provider = client.get(f"{node.settings.base_url}/console/sign-in/oidc")
        answer = client.get(to_provider.headers["location"]).headers["location"]
        assert answer.startswith(f"{node.settings.base_url}/console/sign-in/oidc/callback?")
        at_other = answer.replace(node.settings.base_url, f"http://127.0.0.1:{other.settings.port}")
        finished = client.get(at_other)
        assert finished.status_code == 303, codes(finished)
        assert client.get(f"{node.settings.base_url}/console/cases").status_code == 200
        # Used up on every replica: the same answer again is refused.
        again = client.get(answer)
    other.close()
    assert again.status_code == 401 and codes(again) == ["OIDC_STATE_INVALID"]
    with node.sessions() as session:
        assert session.scalars(select(ConsoleSignIn)).all() == []
