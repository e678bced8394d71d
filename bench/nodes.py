"""Two real nodes in one benchmark process: settings, officers, registration, HTTP on loopback.

Each node has its own database, keys and uvicorn server in a thread; the
benchmark calls their services directly, and the nodes exchange every message
over HTTP as in production.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import uvicorn
from measuring import free_port

from crossborder.adapters.oauth.keys import public_jwks
from crossborder.api.app import create_app
from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.officers import Role, new_officer
from crossborder.services.node import Node
from crossborder.services.officers import add_officer
from crossborder.services.registry import connect_peer
from crossborder.settings import Settings

SIDES = {
    "cn": {"agency": "CN-NNCUS", "country": "CN", "timezone": "Asia/Shanghai", "gate": "CNYYG"},
    "vn": {
        "agency": "VN-CUSKV6",
        "country": "VN",
        "timezone": "Asia/Ho_Chi_Minh",
        "gate": "VN-HUUNGHI",
    },
}
#: The ids of the two people each node knows: one connects, the other takes the steps.
OPERATOR, OFFICER = "operator", "officer"


def make_node(side: str, url: str, folder: Path, clock: Callable[[], datetime]) -> Node:
    """The node of ``side`` on ``url``, its operator and officer registered."""
    port = free_port()
    node = bootstrap(
        Settings(
            **SIDES[side],
            base_url=f"http://127.0.0.1:{port}",
            port=port,
            data_dir=folder / side,
            database_url=url,
            # The run takes each step itself; the watcher would only compete for the database.
            deadline_poll_seconds=3600,
        ),
        clock=clock,
    )
    staff = ((OPERATOR, Role.OPERATOR, None), (OFFICER, Role.OFFICER, OPERATOR))
    for officer_id, role, by in staff:
        officer = new_officer(id=officer_id, full_name=officer_id, role=role, agency=node.agency)
        add_officer(node, officer, by=by)
    return node


def connect(node: Node, other: Node, folder: Path) -> None:
    """What the two operators do once: register the other as counterpart and as OAuth client."""
    jwks_file = folder / f"{other.agency}-jwks.json"
    jwks_file.write_text(json.dumps(public_jwks([other.signing_key, other.token_key])), "utf-8")
    connect_peer(
        node,
        agency=other.agency,
        base_url=other.settings.base_url,
        jwks_source=str(jwks_file),
        actor=Actor.officer(OPERATOR, node.agency),
    )


@contextmanager
def serving(node: Node) -> Iterator[Node]:
    """Serve ``node``'s API, with its delivery and dispatch loops, for the block's duration."""
    config = uvicorn.Config(
        create_app(node, run_workers=True),
        host="127.0.0.1",
        port=node.settings.port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"{node.agency} did not start")
        time.sleep(0.01)
    try:
        yield node
    finally:
        server.should_exit = True
        thread.join(timeout=10)
