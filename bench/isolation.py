"""How long a message to a healthy counterpart takes while another one is black-holed.

Two real nodes (Nanning Customs sends, Regional Customs Branch VI receives),
each ``crossborder node serve`` in a process of its own on SQLite, connected
with the command line as the README does it; a third counterpart (VN-LSPPD) is
registered at the sender with an address where a socket listens and never
answers, as behind a firewall that drops packets: every request to it waits
out the client's 10 s time-out. Messages are written into the sender's outbox
from this process (``share()``), one every ``--gap`` seconds; the sender's own
delivery loop sends them. Timed per message, written → receipt recorded, on
the sender's clock:

- **nothing failed**: messages to VN only;
- **black hole**: ``--stuck`` messages to VN-LSPPD are written first (and stay
  stuck), then the same number of messages to VN as above.

Printed: the median and the worst latency of each. Usage:
``python bench/isolation.py [--messages 20] [--stuck 20] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cli import FORM_E, SCOPES, SIDES, connect, crossborder, write_settings
from measuring import BenchFailed, free_port, out, terminated
from recovery import Served
from sqlalchemy import select

from crossborder.adapters.db.tables import OutboxMessage
from crossborder.adapters.oauth.keys import generate_signing_key, public_jwks
from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_of_origin import FormE
from crossborder.services.certificate_of_origin import share
from crossborder.services.node import Node
from crossborder.settings import Settings

BLACK_HOLE = "VN-LSPPD"


class Writer:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.data = json.loads(FORM_E.read_text("utf-8"))
        self.actor = Actor.officer("bench", node.agency)
        self.written = 0

    def write(self, recipient: str, count: int, gap: float) -> list[str]:
        ids = []
        for _ in range(count):
            self.written += 1
            form = FormE.model_validate(
                {**self.data, "certificate_number": f"E2645-ISOL-{self.written:07d}"}
            )
            ids.append(share(self.node, form, recipient, self.actor).message_id)
            time.sleep(gap)
        return ids

    def latencies(self, message_ids: list[str], timeout: float = 120) -> list[float]:
        """Written → delivered of each, once all are delivered."""
        deadline = time.monotonic() + timeout
        while True:
            with self.node.sessions() as session:
                rows = session.execute(
                    select(OutboxMessage.created_at, OutboxMessage.delivered_at).where(
                        OutboxMessage.message_id.in_(message_ids)
                    )
                ).all()
            if all(delivered is not None for _, delivered in rows):
                return [(delivered - created).total_seconds() for created, delivered in rows]
            if time.monotonic() > deadline:
                raise BenchFailed(f"not all delivered within {timeout} s")
            time.sleep(0.05)


def run(options: argparse.Namespace, folder: Path) -> tuple[list[float], list[float]]:
    configs = {
        name: write_settings(folder / name, SIDES[name], free_port()) for name in ("cn", "vn")
    }
    connect(configs, folder)
    # The black hole: a socket that listens and never accepts or answers.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(1024)
    jwks = folder / "black-hole-jwks.json"
    jwks.write_text(json.dumps(public_jwks([generate_signing_key(f"{BLACK_HOLE}-sig-1")])))
    crossborder(
        "counterpart", "add", BLACK_HOLE, "--url", f"http://127.0.0.1:{hole.getsockname()[1]}",
        "--jwks", str(jwks), "--client-id", SIDES["cn"]["agency"], "--scope", SCOPES,
        config=configs["cn"], officer="operator.cn",
    )  # fmt: skip
    sender = Served(configs["cn"], folder / "cn.log")
    receiver = Served(configs["vn"], folder / "vn.log")
    node = bootstrap(Settings(_env_file=configs["cn"]))
    writer = Writer(node)
    healthy, hindered = [], []
    try:
        receiver.start()
        sender.start()
        writer.latencies(writer.write(SIDES["vn"]["agency"], 3, 0.0))  # warm: tokens, connections
        for round_number in range(1, options.rounds + 1):
            out(f"  round {round_number} of {options.rounds}: nothing failed")
            sent = writer.write(SIDES["vn"]["agency"], options.messages, options.gap)
            healthy += writer.latencies(sent)
        for round_number in range(1, options.rounds + 1):
            out(f"  round {round_number} of {options.rounds}: a black-holed counterpart")
            writer.write(BLACK_HOLE, options.stuck, 0.0)
            sent = writer.write(SIDES["vn"]["agency"], options.messages, options.gap)
            hindered += writer.latencies(sent)
    finally:
        sender.stop()
        receiver.stop()
        node.close()
        hole.close()
    return healthy, hindered


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20, help="to VN a round (default 20)")
    parser.add_argument("--stuck", type=int, default=20, help="to the black hole a round (20)")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between messages (0.1)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each (default 3)")
    options = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, terminated)
    out(
        f"crossborder isolation benchmark: {options.messages} messages to VN a round, "
        f"{options.stuck} stuck behind a black hole, {options.rounds} rounds of each"
    )
    with tempfile.TemporaryDirectory(prefix="crossborder-isolation-") as folder:
        try:
            healthy, hindered = run(options, Path(folder))
        except BenchFailed as error:
            sys.stderr.write(f"benchmark failed: {error}\n")
            return 1
    out()
    out(f"  {'latency to VN, written → receipt':34} {'median':>8} {'max':>8}")
    for label, values in (
        ("nothing failed", healthy),
        ("another counterpart black-holed", hindered),
    ):
        out(f"  {label:34} {statistics.median(values):7.3f}s {max(values):7.3f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
