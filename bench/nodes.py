"""Two real nodes for a benchmark: settings, officers, registration, HTTP on loopback.

Each node has its own database, keys and uvicorn server, in a thread of the
benchmark's process (:func:`serving`) or in a process of its own, as deployed
(:func:`serving_apart`); the benchmark calls their services directly, and the
nodes exchange every message over HTTP as in production.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measuring import BenchFailed, free_port  # noqa: E402

from crossborder.adapters.local_node import wake_delivery  # noqa: E402
from crossborder.adapters.oauth.keys import public_jwks  # noqa: E402
from crossborder.api.app import create_app  # noqa: E402
from crossborder.bootstrap import bootstrap  # noqa: E402
from crossborder.domain.actors import Actor  # noqa: E402
from crossborder.domain.officers import Role, new_officer  # noqa: E402
from crossborder.services.node import Node  # noqa: E402
from crossborder.services.officers import add_officer  # noqa: E402
from crossborder.services.registry import connect_peer  # noqa: E402
from crossborder.settings import Settings  # noqa: E402

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
def databases(kind: str, folder: Path, postgres_url: str) -> Iterator[dict[str, str]]:
    """One empty database per node: SQLite files, or fresh PostgreSQL schemas dropped afterwards."""
    if kind == "sqlite":
        yield {side: f"sqlite:///{folder / side / 'node.db'}" for side in ("cn", "vn")}
        return
    schemas = {side: f"bench_{side}_{uuid.uuid4().hex[:10]}" for side in ("cn", "vn")}
    separator = "&" if "?" in postgres_url else "?"
    engine = create_engine(postgres_url)
    try:
        # One transaction: either both schemas exist afterwards or neither does.
        with engine.begin() as connection:
            for schema in schemas.values():
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        engine.dispose()
        raise BenchFailed(f"PostgreSQL is not reachable at {postgres_url}: {error.orig}") from error
    try:
        yield {
            side: f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
            for side, schema in schemas.items()
        }
    finally:
        with engine.begin() as connection:
            for schema in schemas.values():
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


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


@contextmanager
def serving_apart(node: Node, at: datetime, log: Path) -> Iterator[int]:
    """Serve ``node`` from a process of its own, on a clock stopped at ``at``; yields its pid.

    As deployed, each node then has its own interpreter: the two do not share
    one GIL, and each may use a core. The process opens the same database and
    keys as ``node``; its output goes to ``log``.
    """
    command = [sys.executable, __file__, node.settings.model_dump_json(), at.isoformat()]
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not wake_delivery(node.settings.host, node.settings.port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{node.agency} did not start; see {log}")
            time.sleep(0.05)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _serve(settings_json: str, at: str) -> None:
    stopped = datetime.fromisoformat(at)
    node = bootstrap(Settings.model_validate_json(settings_json), clock=lambda: stopped)
    uvicorn.run(
        create_app(node, run_workers=True),
        host="127.0.0.1",
        port=node.settings.port,
        log_level="warning",
    )


if __name__ == "__main__":
    _serve(*sys.argv[1:3])
