"""How soon a backlog drains once the fault is gone: a counterpart, or the node, back.

Two real nodes (Nanning Customs sends, Regional Customs Branch VI receives),
each ``crossborder node serve`` in a process of its own on SQLite, connected
with the command line as the README does it. The backlog is Form E messages
written into the sender's outbox (``share()`` on its database, from this
process); the sender's own delivery loop sends them. Each round measures three
ways the same backlog drains, from the moment the nodes are ready again to the
moment the sender's outbox holds nothing pending:

- **baseline**: nothing failed; the backlog is written while both nodes run.
- **outage**: the receiver is stopped; the backlog is written over
  ``--outage`` seconds (the sender retries and backs off meanwhile); then the
  receiver starts again. Timed from its first answer to ``/v1/health``.
- **sender crash**: the receiver is frozen (SIGSTOP) so that the sender's
  loop is caught holding a batch in flight, the sender is killed (SIGKILL),
  the receiver thawed, and the sender started again. Timed from the sender's
  first answer to ``/v1/health``.

Printed: the median drain of each over ``--rounds`` and the worst time a
message waited (written → delivered). Usage:
``python bench/recovery.py [--outage 60] [--messages 30] [--rounds 3]``;
``--outage 10 --rounds 1`` for a quick run.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from cli import CROSSBORDER, FORM_E, SIDES, connect, environment, port_of, write_settings
from measuring import BenchFailed, free_port, out, terminated
from sqlalchemy import func, select

from crossborder.adapters.db.tables import OutboxMessage
from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_of_origin import FormE
from crossborder.services.certificate_of_origin import share
from crossborder.services.node import Node
from crossborder.settings import Settings

#: What the drain must stay within once the fault is gone.
TARGET_SECONDS = 5.0


class Served:
    """One ``crossborder node serve`` process, which the benchmark stops in several ways."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it; the monotonic time at which it first answered."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*CROSSBORDER, "node", "serve"],
                env=environment(self.config),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port_of(self.config)}/v1/health"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchFailed(self.log.read_text("utf-8", errors="replace")[-2000:])
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return time.monotonic()
            except httpx.TransportError:
                time.sleep(0.05)
        raise BenchFailed(f"{url} did not answer within 60 s")

    def signal(self, number: signal.Signals) -> None:
        if self.process is not None:
            self.process.send_signal(number)

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        self.process.wait(timeout=15)
        self.process = None


class Backlog:
    """Writes Form E messages into the sender's outbox and watches it drain."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.data = json.loads(FORM_E.read_text("utf-8"))
        self.actor = Actor.officer("bench", node.agency)
        self.written = 0

    def write(self, count: int, over_seconds: float = 0.0) -> None:
        for _ in range(count):
            self.written += 1
            form = FormE.model_validate(
                {**self.data, "certificate_number": f"E2645-RECOV-{self.written:07d}"}
            )
            share(self.node, form, SIDES["vn"]["agency"], self.actor)
            if over_seconds:
                time.sleep(over_seconds / count)

    def pending(self) -> int:
        with self.node.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == "pending")
                )
                or 0
            )

    def held(self) -> int:
        """Pending messages some worker holds a lease on."""
        with self.node.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        OutboxMessage.status == "pending",
                        OutboxMessage.claimed_until.is_not(None),
                    )
                )
                or 0
            )

    def drained_after(self, since: float, timeout: float = 600) -> float:
        deadline = since + timeout
        while self.pending():
            if time.monotonic() > deadline:
                raise BenchFailed(f"{self.pending()} messages still pending after {timeout} s")
            time.sleep(0.02)
        return time.monotonic() - since

    def worst_wait(self, since_written: int) -> float:
        """The longest a message of the last ``since_written`` waited, written → delivered."""
        with self.node.sessions() as session:
            rows = session.execute(
                select(OutboxMessage.created_at, OutboxMessage.delivered_at)
                .order_by(OutboxMessage.id.desc())
                .limit(since_written)
            ).all()
        return max((delivered - created).total_seconds() for created, delivered in rows)


@dataclass
class Drains:
    baseline: list[float]
    outage: list[float]
    crash: list[float]
    worst_outage: list[float]
    worst_crash: list[float]
    held_at_crash: list[int]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise BenchFailed(f"{what} did not happen within {timeout} s")
        time.sleep(0.01)


def run(options: argparse.Namespace, folder: Path) -> Drains:
    configs = {
        name: write_settings(folder / name, SIDES[name], free_port()) for name in ("cn", "vn")
    }
    connect(configs, folder)
    sender = Served(configs["cn"], folder / "cn.log")
    receiver = Served(configs["vn"], folder / "vn.log")
    node = bootstrap(Settings(_env_file=configs["cn"]))
    backlog = Backlog(node)
    drains = Drains([], [], [], [], [], [])
    try:
        receiver.start()
        sender.start()
        for round_number in range(1, options.rounds + 1):
            out(f"  round {round_number} of {options.rounds}")
            # Nothing fails: how long this backlog takes at full speed.
            started = time.monotonic()
            backlog.write(options.messages)
            drains.baseline.append(backlog.drained_after(started))

            # The receiver is down while the backlog is written, then comes back.
            receiver.stop()
            backlog.write(options.messages, over_seconds=options.outage)
            back = receiver.start()
            drains.outage.append(backlog.drained_after(back))
            drains.worst_outage.append(backlog.worst_wait(options.messages))

            # The sender dies while its loop holds a batch on the wire.
            receiver.signal(signal.SIGSTOP)
            backlog.write(options.messages)
            wait_until(lambda: backlog.held() > 0, 10, "a claim by the sender's loop")
            drains.held_at_crash.append(backlog.held())
            sender.stop(kill=True)
            receiver.signal(signal.SIGCONT)
            back = sender.start()
            drains.crash.append(backlog.drained_after(back))
            drains.worst_crash.append(backlog.worst_wait(options.messages))
    finally:
        sender.stop()
        receiver.stop()
        node.close()
    return drains


def report(options: argparse.Namespace, drains: Drains) -> None:
    def median(values: list[float]) -> str:
        return f"{statistics.median(values):6.2f} s"

    def each(values: list[float]) -> str:
        return " ".join(f"{value:.2f}" for value in values)

    out()
    out(f"  {'drain, from back to empty':30} {'median':>8}   per round")
    out(f"  {'baseline (nothing failed)':30} {median(drains.baseline)}   {each(drains.baseline)}")
    outage = f"after a {options.outage:g} s outage"
    out(f"  {outage:30} {median(drains.outage)}   {each(drains.outage)}")
    out(f"  {'after a sender crash':30} {median(drains.crash)}   {each(drains.crash)}")
    out(
        f"  worst wait of a message, written → delivered: outage {max(drains.worst_outage):.1f} s"
        f" (the outage itself {options.outage:g} s), crash {max(drains.worst_crash):.1f} s"
    )
    held = " ".join(map(str, drains.held_at_crash))
    out(f"  messages held by the sender's loop when it was killed: {held}")
    slowest = max(*drains.outage, *drains.crash)
    verdict = "within" if slowest <= TARGET_SECONDS else "beyond"
    out(f"  slowest recovery {slowest:.2f} s: {verdict} the {TARGET_SECONDS:g} s target")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds down (default 60)")
    parser.add_argument("--messages", type=int, default=30, help="backlog size (default 30)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    options = parser.parse_args(argv)
    if options.outage <= 0 or min(options.messages, options.rounds) < 1:
        parser.error("need --outage > 0, --messages >= 1 and --rounds >= 1")
    signal.signal(signal.SIGTERM, terminated)
    out(
        f"crossborder recovery benchmark: {options.messages} messages a backlog, "
        f"{options.outage:g} s outage, {options.rounds} rounds, two nodes on SQLite over loopback"
    )
    with tempfile.TemporaryDirectory(prefix="crossborder-recovery-") as folder:
        try:
            drains = run(options, Path(folder))
        except BenchFailed as error:
            sys.stderr.write(f"benchmark failed: {error}\n")
            return 1
        except KeyboardInterrupt:
            sys.stderr.write("interrupted; nodes stopped\n")
            return 130
    report(options, drains)
    return 0


if __name__ == "__main__":
    sys.exit(main())
