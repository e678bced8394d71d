"""The published contract, run against a node on loopback: no 5xx, every answer as published.

Requests are generated from ``contracts/openapi.json`` — the document a counterpart
builds against — with a fixed seed and a bounded number of examples per operation.
``POST /v1/messages`` is called with a DPoP-bound access token of a registered
counterpart, so that generated bodies get past the token to the signature check.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contracts.generate import CONTRACTS_DIR
from crossborder.adapters.oauth.client_auth import PrivateKeyJWTAuth
from crossborder.services.node import Node
from tests.conftest import Clock, databases
from tests.factories import connect, make_node, serving

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_path(CONTRACTS_DIR / "openapi.json")
# What a counterpart may send, and what it must not: both get a listed answer.
schema.config.generation.update(modes=list(schemathesis.GenerationMode))
# A JWS compact serialization is text on the wire.
schemathesis.serializer.alias("application/jose", "text/plain")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def nodes(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_available: bool,
) -> Iterator[tuple[Node, Node]]:
    """The node under test (Lạng Sơn), serving, on each database; its counterpart, as a caller."""
    folder = tmp_path_factory.mktemp("fuzzing")
    clock = Clock()
    with databases(request.param, folder, postgres_available) as database:
        cn = make_node("cn", database("cn"), folder, clock)
        # The token endpoint is called more often here than any one address may call it.
        vn = make_node("vn", database("vn"), folder, clock, token_burst=100_000)
        connect(vn, cn, folder)
        with serving(vn, run_workers=False):
            yield cn, vn
        cn.close()
        vn.close()


@pytest.fixture(scope="module")
def counterpart(nodes: tuple[Node, Node]) -> Iterator[httpx.Client]:
    """Calls the node as its counterpart does: a DPoP-bound token, a fresh proof per call."""
    cn, vn = nodes
    auth = PrivateKeyJWTAuth(vn.settings.issuer, cn.agency, cn.signing_key, "co:write", cn.clock)
    with httpx.Client(auth=auth, timeout=30) as client:
        yield client


@schema.parametrize()
@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_node_answers_as_its_contract_says(
    case: schemathesis.Case, nodes: tuple[Node, Node], counterpart: httpx.Client
) -> None:
    base_url = nodes[1].settings.base_url
    if case.path == "/v1/messages":
        request = case.as_transport_kwargs(base_url=base_url)
        response = counterpart.request(
            request["method"],
            request["url"],
            headers=request.get("headers"),
            content=request.get("data"),
        )
        # A string of three base64url parts fits the schema of a JWS, but what they must
        # decode to (a signed message) is beyond a string's schema: such a body is a
        # listed 4xx, not one the node should take.
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
    else:
        case.call_and_validate(base_url=base_url)
