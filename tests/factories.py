"""Building real nodes for tests: settings, keys, a database, an HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from crossborder.adapters.oauth.keys import public_jwks
from crossborder.api.app import create_app
from crossborder.bootstrap import bootstrap, workflows
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.errors import NotFound
from crossborder.domain.officers import Role, new_officer
from crossborder.services.node import Node, Notifier, WorkflowHandlers
from crossborder.services.officers import add_officer
from crossborder.services.registry import connect_peer
from crossborder.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[1] / "contracts" / "examples"
SIDES: dict[str, dict[str, Any]] = {
    "cn": {"agency": "CN-NNCUS", "country": "CN", "timezone": "Asia/Shanghai", "gate": "CNYYG"},
    "vn": {
        "agency": "VN-CUSKV6",
        "country": "VN",
        "timezone": "Asia/Ho_Chi_Minh",
        "gate": "VN-HUUNGHI",
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def form_e_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "payloads" / "form-e.json").read_text("utf-8"))
    return data


def form_e(**changes: Any) -> FormE:
    return FormE.model_validate({**form_e_data(), **changes})


def make_node(
    side: str,
    db_url: str,
    folder: Path,
    clock: Callable[[], datetime],
    port: int | None = None,
    notifier: Notifier | None = None,
    load_workflows: Callable[[], WorkflowHandlers] = workflows,
    transport: httpx.BaseTransport | None = None,
    **overrides: Any,
) -> Node:
    port = port or free_port()
    settings = Settings(
        # An override may name another agency of the same side (a border guard, say).
        **{
            # Tests move the clock and run the watcher themselves, when they choose.
            "deadline_poll_seconds": 3600,
            **SIDES[side],
            **overrides,
        },
        base_url=f"http://127.0.0.1:{port}",
        port=port,
        data_dir=folder / side,
        database_url=db_url,
        poll_seconds=0.05,
    )
    return bootstrap(
        settings,
        clock=clock,
        transport=transport,
        notifier=notifier,
        load_workflows=load_workflows,
    )


def replica(node: Node, clock: Callable[[], datetime]) -> Node:
    """Another process of ``node``'s agency, as behind one load balancer: the same database,
    keys and address (``base_url``), listening on a port of its own."""
    return bootstrap(node.settings.model_copy(update={"port": free_port()}), clock=clock)


#: The officers :func:`register_staff` registers, by role: their id, and their full name on
#: each side.
STAFF: dict[Role, tuple[str, dict[str, str]]] = {
    Role.OPERATOR: ("operator", {"cn": "王强", "vn": "Trần Văn Hùng"}),
    Role.OFFICER: ("officer", {"cn": "李明", "vn": "Nguyễn Thị Lan"}),
    Role.SUPERVISOR: ("supervisor", {"cn": "张华", "vn": "Lê Minh Đức"}),
    Role.AUDITOR: ("auditor", {"cn": "陈静", "vn": "Phạm Thu Hà"}),
}


def staff_node(config: Path) -> None:
    """Open the node of a settings file (creating its database) and register its staff."""
    node = bootstrap(Settings(_env_file=config))
    register_staff(node)
    node.close()


def register_staff(node: Node, *, login: str | None = None) -> dict[Role, str]:
    """One officer per role at ``node``, the operator first; returns their ids by role.

    ``login`` is given to the officer (role ``officer``) as workstation login, so a
    command that names no officer acts as them when run under that login.
    """
    side = "cn" if node.settings.country == "CN" else "vn"
    ids = {}
    for role, (officer_id, names) in STAFF.items():
        officer = new_officer(
            id=officer_id,
            full_name=names[side],
            role=role,
            agency=node.agency,
            os_login=login if role is Role.OFFICER else None,
        )
        add_officer(node, officer, by=ids.get(Role.OPERATOR))
        ids[role] = officer_id
    return ids


def connect(node: Node, other: Node, folder: Path) -> None:
    """Register ``other`` at ``node`` as counterpart and as OAuth client."""
    jwks_file = folder / f"{other.agency}-jwks.json"
    jwks_file.write_text(json.dumps(public_jwks([other.signing_key, other.token_key])), "utf-8")
    connect_peer(
        node,
        agency=other.agency,
        base_url=other.settings.base_url,
        jwks_source=str(jwks_file),
        actor=Actor.officer("operator", node.agency),
    )


@contextmanager
def serving(node: Node, *, run_workers: bool = True) -> Iterator[Node]:
    """Serve ``node``'s API over real HTTP on loopback, in a thread, for the block's duration."""
    config = uvicorn.Config(
        create_app(node, run_workers=run_workers),
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
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield node
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _holds(condition: Callable[[], bool]) -> bool:
    try:
        return condition()
    except NotFound:
        # The other node has not recorded the case yet.
        return False


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
