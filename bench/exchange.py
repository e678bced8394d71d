"""The exchange benchmark: one Form E from ``share()`` to a recorded receipt, over real HTTP.

The sending node (CN-NNCUS) lives in this process; the receiving node
(VN-CUSKV6) is a separate ``crossborder node serve`` process with its own
database and keys, as in production. Each message is timed from ``share()``
(rules, signature, case, certificate, outbox row and audit entry in one
transaction) through ``deliver_due(message_id=...)`` (access token, POST, the
receiver's verification and admission transaction, its signed receipt, our
check of that receipt and the outbox update).

The baseline is a FastAPI endpoint that does nothing, in its own process under
the same uvicorn settings, called with the same signed bytes over the same kind
of ``httpx.Client`` at the same concurrency: the ratio between the two is what
crossborder adds to a bare HTTP round trip. Exchange and baseline rounds
alternate, so a noisy neighbour on a shared machine hits both alike.

Run: ``python bench/exchange.py [--n 300] [--concurrency 8] [--db sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from measuring import (
    NOISY,
    POSTGRES_URL,
    SATURATED,
    BenchFailed,
    cpus,
    free_port,
    machine_cpu_seconds,
    median_rate,
    minus,
    out,
    postgres_cpu_seconds,
    process_cpu_seconds,
    quantile_ms,
    terminated,
)
from nodes import databases
from sqlalchemy import create_engine, func, select

from crossborder.adapters.db.tables import Certificate, InboxMessage, OutboxMessage
from crossborder.adapters.oauth.keys import public_jwks
from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.rules import validate_form_e
from crossborder.services.certificate_of_origin import share
from crossborder.services.delivery import claim_due, deliver_due, record_outcome
from crossborder.services.node import Node
from crossborder.services.registry import connect_peer
from crossborder.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FORM_E_EXAMPLE = ROOT / "contracts" / "examples" / "payloads" / "form-e.json"
RECEIVER = {
    "agency": "VN-CUSKV6",
    "country": "VN",
    "timezone": "Asia/Ho_Chi_Minh",
    "gate": "VN-HUUNGHI",
}
MESSAGE_CONTENT_TYPE = "application/jose"
#: Messages timed one at a time for the "where the time goes" split.
PROFILE_MESSAGES = 15

Item = TypeVar("Item")


# --- the two nodes, their databases and processes ------------------------------------------------


def write_receiver_settings(folder: Path, port: int, database_url: str) -> Path:
    values = {
        **RECEIVER,
        "base_url": f"http://127.0.0.1:{port}",
        "port": str(port),
        "data_dir": str(folder),
        "database_url": database_url,
        "auto_accept_certificates": "false",
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "node.env"
    path.write_text("".join(f"CROSSBORDER_{k.upper()}={v}\n" for k, v in values.items()), "utf-8")
    return path


def connect(node: Node, other: Node, folder: Path) -> None:
    """What the two operators do once: register the other as counterpart and as OAuth client."""
    jwks_file = folder / f"{other.agency}-jwks.json"
    jwks_file.write_text(json.dumps(public_jwks([other.signing_key, other.token_key])), "utf-8")
    connect_peer(
        node,
        agency=other.agency,
        base_url=other.settings.base_url,
        jwks_source=str(jwks_file),
        actor=Actor.officer("bench", node.agency),
    )


class TimedTransport(httpx.HTTPTransport):
    """The real network, noting how long each thread's last message POST waited for its answer.

    It is the sender's outbound transport (the node's own injection point), so
    the time a delivery spends on the wire and in the receiver can be told
    apart from the sender's own database work while ``deliver_due`` runs whole.
    """

    def __init__(self) -> None:
        super().__init__()
        self._last = threading.local()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path == "/v1/messages":
            self._last.post = time.perf_counter() - started
        return response

    def last_post(self) -> float:
        return float(getattr(self._last, "post", 0.0))


def prepare_nodes(folder: Path, urls: dict[str, str]) -> tuple[Node, Path, str]:
    """The sender (bootstrapped here), the receiver's settings file and URL; registered both ways.

    The receiver is bootstrapped here once (migrations, keys) and closed again:
    its server process then opens the same database and key files.
    """
    receiver_config = write_receiver_settings(folder / "vn", free_port(), urls["vn"])
    receiver = bootstrap(Settings(_env_file=receiver_config))
    sender = bootstrap(
        Settings(
            agency="CN-NNCUS",
            country="CN",
            timezone="Asia/Shanghai",
            gate="CNYYG",
            # Not served in this run: the receiver sends nothing back.
            base_url=f"http://127.0.0.1:{free_port()}",
            data_dir=folder / "cn",
            database_url=urls["cn"],
        ),
        transport=TimedTransport(),
    )
    connect(sender, receiver, folder)
    connect(receiver, sender, folder)
    receiver.close()
    return sender, receiver_config, receiver.settings.base_url


def child_environment(**extra: str) -> dict[str, str]:
    """Our environment without stray node settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSBORDER_")}
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env.update(extra)
    return env


@contextmanager
def spawned(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process that is stopped when the block ends, however it ends.

    It gets a process group of its own, so a Ctrl-C reaches only this process,
    which then stops the children itself, after the messages in flight.
    """
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, process_group=0
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text("utf-8", errors="replace")[-2000:]
            raise BenchFailed(f"{url} exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise BenchFailed(f"{url} did not start within {timeout:.0f} s")


def serve_baseline(port: int) -> None:
    """The baseline endpoint: reads the body, answers 202 with a fixed small JSON, nothing else."""
    app = FastAPI(docs_url=None, redoc_url=None)

    @app.post("/v1/messages", status_code=202)
    async def accept(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"accepted": True}, status_code=202)

    @app.get("/v1/health")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    # The same uvicorn settings as ``crossborder node serve``.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- CPU accounting (from /proc on Linux; elsewhere only this process's own time) --------------


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds: this process, the server it calls, PostgreSQL, the whole machine."""

    here: float
    server: float | None
    database: float | None
    machine: float | None

    @classmethod
    def now(cls, server_pid: int) -> CpuUse:
        return cls(
            time.process_time(),
            process_cpu_seconds(server_pid),
            postgres_cpu_seconds(),
            machine_cpu_seconds(),
        )

    def since(self, start: CpuUse) -> CpuUse:
        return CpuUse(
            self.here - start.here,
            minus(self.server, start.server),
            minus(self.database, start.database),
            minus(self.machine, start.machine),
        )


# --- one message, one round ----------------------------------------------------------------------


class Certificates:
    """Valid Form E certificates, each with a number of its own (a number is shared once)."""

    def __init__(self) -> None:
        self._data = json.loads(FORM_E_EXAMPLE.read_text("utf-8"))
        self._serial = itertools.count(1)

    def take(self, count: int) -> list[FormE]:
        return [
            FormE.model_validate({**self._data, "certificate_number": f"E2645-BENCH-{n:07d}"})
            for n in itertools.islice(self._serial, count)
        ]


@dataclass(frozen=True)
class Sample:
    #: Seconds from the start of the operation to its end.
    total: float
    #: Exchange only: the part spent in ``share()``, and in the POST (wire and receiver).
    share: float = 0.0
    post: float = 0.0


@dataclass(frozen=True)
class Round:
    wall: float
    samples: list[Sample]
    cpu: CpuUse

    @property
    def rate(self) -> float:
        return len(self.samples) / self.wall


def exchange_one(sender: Node, form: FormE, actor: Actor) -> Sample:
    started = time.perf_counter()
    shared = share(sender, form, RECEIVER["agency"], actor)
    shared_at = time.perf_counter()
    result = deliver_due(sender, message_id=shared.message_id)
    finished = time.perf_counter()
    if result.get(shared.message_id) != "delivered":
        raise BenchFailed(f"{shared.message_id} not delivered: {result} ({last_error(sender)})")
    post = sender.transport.last_post() if isinstance(sender.transport, TimedTransport) else 0.0
    return Sample(finished - started, shared_at - started, post)


def last_error(sender: Node) -> str | None:
    with sender.sessions() as session:
        return session.scalars(
            select(OutboxMessage.last_error)
            .where(OutboxMessage.last_error.is_not(None))
            .order_by(OutboxMessage.id.desc())
        ).first()


def baseline_one(client: httpx.Client, body: bytes) -> Sample:
    started = time.perf_counter()
    response = client.post(
        "/v1/messages", content=body, headers={"Content-Type": MESSAGE_CONTENT_TYPE}
    )
    finished = time.perf_counter()
    if response.status_code != 202:
        raise BenchFailed(f"baseline answered {response.status_code}")
    return Sample(finished - started)


def run_round(
    work: Callable[[Item], Sample], items: Sequence[Item], concurrency: int, server_pid: int
) -> Round:
    cpu = CpuUse.now(server_pid)
    started = time.perf_counter()
    pool = ThreadPoolExecutor(concurrency)
    try:
        futures = [pool.submit(work, item) for item in items]
        samples = [future.result() for future in futures]
    finally:
        # On an error or Ctrl-C, drop what has not started rather than finish the round.
        pool.shutdown(wait=True, cancel_futures=True)
    wall = time.perf_counter() - started
    return Round(wall, samples, CpuUse.now(server_pid).since(cpu))


def wait_receiver_idle(receiver_db: str, expected: int, timeout: float = 30) -> None:
    """Until the receiver holds every certificate and its dispatcher has processed every message.

    This checks, from the receiver's own database, that the exchange did what the
    receipts say; and it keeps the receiver's after-work out of the next baseline round.
    """
    engine = create_engine(receiver_db)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with engine.connect() as connection:
                stored = connection.scalar(select(func.count()).select_from(Certificate))
                waiting = connection.scalar(
                    select(func.count())
                    .select_from(InboxMessage)
                    .where(InboxMessage.status == "received")
                )
            if stored == expected and waiting == 0:
                return
            if time.monotonic() > deadline:
                raise BenchFailed(f"receiver holds {stored}/{expected}, {waiting} not dispatched")
            time.sleep(0.05)
    finally:
        engine.dispose()


# --- where the time goes -------------------------------------------------------------------------


def profile(
    sender: Node, forms: list[FormE], actor: Actor, baseline: httpx.Client, body: bytes
) -> dict[str, float]:
    """Median milliseconds of each step of a message sent alone, ``deliver_due``'s steps apart."""
    steps: dict[str, list[float]] = {}

    def timed(step: str, started: float) -> float:
        now = time.perf_counter()
        steps.setdefault(step, []).append((now - started) * 1000)
        return now

    for form in forms:
        mark = time.perf_counter()
        validate_form_e(form, sender.reference)
        mark = timed("rules", mark)
        shared = share(sender, form, RECEIVER["agency"], actor)
        mark = timed("share", mark)
        (claim,) = claim_due(sender, 1, shared.message_id)
        mark = timed("claim", mark)
        outcome = sender.counterparts.deliver(claim.recipient, claim.signed)
        mark = timed("post", mark)
        if record_outcome(sender, claim, outcome) != "delivered":
            raise BenchFailed(f"{claim.message_id} not delivered: {outcome.error}")
        mark = timed("record", mark)
        baseline_one(baseline, body)
        timed("bare", mark)
    return {step: statistics.median(values) for step, values in steps.items()}


# --- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    n: int
    concurrency: int
    db: str
    rounds: int
    warmup: int
    postgres_url: str


@dataclass
class Results:
    exchange: list[Round]
    baseline: list[Round]
    steps: dict[str, float]
    body_bytes: int
    #: SQLite only: the median commit, in ms, by ``synchronous`` mode.
    commit_ms: dict[str, float] | None = None


#: Commits timed per ``synchronous`` mode, in alternating batches.
COMMITS = 200


def commit_cost(folder: Path) -> dict[str, float]:
    """What one small SQLite commit costs in WAL mode, with FULL (the node's) and NORMAL.

    FULL syncs the WAL to disk at each commit, so that a receipt never acknowledges
    a commit a power cut could roll back; NORMAL syncs only at checkpoints. Timed on
    the disk the nodes' databases are on, the modes taking turns.
    """
    timings: dict[str, list[float]] = {"FULL": [], "NORMAL": []}
    connection = sqlite3.connect(folder / "commit-cost.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)")
    body = os.urandom(3000)
    for _ in range(4):
        for mode, times in timings.items():
            connection.execute(f"PRAGMA synchronous={mode}")
            for _ in range(COMMITS // 4):
                started = time.perf_counter()
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO t (body) VALUES (?)", (body,))
                connection.execute("COMMIT")
                times.append(time.perf_counter() - started)
    connection.close()
    return {mode: statistics.median(times) * 1000 for mode, times in timings.items()}


def run(options: Options, folder: Path) -> Results:
    with ExitStack() as stack:
        urls = stack.enter_context(databases(options.db, folder, options.postgres_url))
        sender, receiver_config, receiver_url = prepare_nodes(folder, urls)
        stack.callback(sender.close)
        baseline_port = free_port()
        receiver_log, baseline_log = folder / "receiver.log", folder / "baseline.log"
        serve = ["node", "serve", "--config", str(receiver_config)]
        receiver = stack.enter_context(
            spawned(
                [sys.executable, "-m", "crossborder", *serve],
                child_environment(CROSSBORDER_AUTO_ACCEPT_CERTIFICATES="false"),
                receiver_log,
            )
        )
        this_file = str(Path(__file__).resolve())
        baseline_server = stack.enter_context(
            spawned(
                [sys.executable, this_file, "--serve-baseline", str(baseline_port)],
                child_environment(),
                baseline_log,
            )
        )
        baseline_url = f"http://127.0.0.1:{baseline_port}"
        wait_healthy(receiver_url, receiver, receiver_log)
        wait_healthy(baseline_url, baseline_server, baseline_log)
        client = stack.enter_context(httpx.Client(base_url=baseline_url, timeout=10.0))
        results = measure(options, sender, urls["vn"], client, (receiver.pid, baseline_server.pid))
        if options.db == "sqlite":
            results.commit_ms = commit_cost(folder)
        return results


def round_sizes(n: int, rounds: int) -> list[int]:
    """``n`` messages split as evenly as can be into ``rounds`` rounds."""
    size, extra = divmod(n, rounds)
    return [size + (1 if i < extra else 0) for i in range(rounds)]


def measure(
    options: Options, sender: Node, receiver_db: str, client: httpx.Client, pids: tuple[int, int]
) -> Results:
    certificates = Certificates()
    actor = Actor.officer("bench", sender.agency)
    send = partial(exchange_one, sender, actor=actor)
    # The first message alone fetches the metadata, the access token and the connection;
    # then a few at full concurrency, not counted.
    run_round(send, certificates.take(1), 1, pids[0])
    run_round(send, certificates.take(options.warmup), options.concurrency, pids[0])
    with sender.sessions() as session:
        body = session.scalars(select(OutboxMessage.signed).limit(1)).one()
    post = partial(baseline_one, client)
    run_round(post, [body] * options.warmup, options.concurrency, pids[1])
    sent = 1 + options.warmup
    wait_receiver_idle(receiver_db, sent)

    exchange, baseline = [], []
    for size in round_sizes(options.n, options.rounds):
        exchange.append(run_round(send, certificates.take(size), options.concurrency, pids[0]))
        sent += size
        wait_receiver_idle(receiver_db, sent)
        baseline.append(run_round(post, [body] * size, options.concurrency, pids[1]))
    steps = profile(sender, certificates.take(PROFILE_MESSAGES), actor, client, body)
    return Results(exchange, baseline, steps, len(body))


# --- the report ----------------------------------------------------------------------------------


def percentile_ms(rounds: list[Round], percent: int) -> float:
    return quantile_ms((sample.total for r in rounds for sample in r.samples), percent)


def report(options: Options, results: Results) -> None:
    out(
        f"crossborder exchange benchmark: {options.n} messages in {options.rounds} rounds, "
        f"concurrency {options.concurrency}, database {options.db}, {cpus()} CPUs"
    )
    out(
        "  receiver VN-CUSKV6: its own process, database and keys, with "
        "CROSSBORDER_AUTO_ACCEPT_CERTIFICATES=false (no business replies compete)"
    )
    out("  sender CN-NNCUS: in this process; per message share() then deliver_due(message_id=...)")
    out(
        f"  baseline: a do-nothing FastAPI endpoint (own process) answering 202, "
        f"same {results.body_bytes / 1000:.1f} kB signed body, client and concurrency"
    )
    out()
    out(f"  {'':9} {'msg/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}   rate per round")
    for name, rounds in (("exchange", results.exchange), ("baseline", results.baseline)):
        per_round = " ".join(f"{r.rate:.0f}" for r in rounds)
        out(
            f"  {name:9} {median_rate(rounds):8.1f} {percentile_ms(rounds, 50):8.1f}"
            f" {percentile_ms(rounds, 90):8.1f} {percentile_ms(rounds, 99):8.1f}   {per_round}"
        )
    out(
        f"  ratios: exchange p50 / baseline p50 = "
        f"{percentile_ms(results.exchange, 50) / percentile_ms(results.baseline, 50):.1f}x; "
        f"baseline rate / exchange rate = "
        f"{median_rate(results.baseline) / median_rate(results.exchange):.1f}x"
    )
    out()
    report_time_split(options, results)
    if results.commit_ms is not None:
        full, normal = results.commit_ms["FULL"], results.commit_ms["NORMAL"]
        out(
            f"  durable commits: an SQLite commit takes {full:.2f} ms with synchronous=FULL "
            f"(the node's) against {normal:.2f} ms with NORMAL, +{full - normal:.2f} ms; "
            "a message commits 3 times at the sender and once at the receiver before its receipt"
        )
    out(f"  what limits it: {limit(options, results)}")
    out(f"  {most_waiting(results)}")


def report_time_split(options: Options, results: Results) -> None:
    steps = results.steps
    alone = steps["share"] + steps["claim"] + steps["post"] + steps["record"]
    out(f"  where the time goes, one message alone (median of {PROFILE_MESSAGES}): {alone:.1f} ms")
    out(f"    share()         {steps['share']:6.1f} ms  (Form E rules: {steps['rules']:.1f} ms)")
    out(f"    claim           {steps['claim']:6.1f} ms")
    out(
        f"    POST            {steps['post']:6.1f} ms  (a bare round trip {steps['bare']:.1f} ms: "
        f"the receiver's work ~ {steps['post'] - steps['bare']:.1f} ms)"
    )
    out(f"    record receipt  {steps['record']:6.1f} ms")
    loaded = under_load(results)
    out(
        f"  under load, p50: share() {loaded['share']:.1f} ms, POST {loaded['post']:.1f} ms, "
        f"claim + record {loaded['claim + record']:.1f} ms"
    )
    out(f"  {cpu_line(options, results.exchange)}")


#: The parts of a message's time, and whose work each one waits on.
PARTS = {
    "share": "share() (the sender's database)",
    "post": "the POST (the receiver)",
    "claim + record": "claim + record (the sender's database)",
}


def under_load(results: Results) -> dict[str, float]:
    """Median milliseconds of each part of a message at the run's concurrency."""
    samples = [s for r in results.exchange for s in r.samples]

    def p50(part: Callable[[Sample], float]) -> float:
        return statistics.median(part(sample) * 1000 for sample in samples)

    return {
        "share": p50(lambda s: s.share),
        "post": p50(lambda s: s.post),
        "claim + record": p50(lambda s: s.total - s.share - s.post),
    }


def most_waiting(results: Results) -> str:
    """The part that grows most from a message alone to a message under load: where they queue."""
    steps = results.steps
    alone = {
        "share": steps["share"],
        "post": steps["post"],
        "claim + record": steps["claim"] + steps["record"],
    }
    loaded = under_load(results)
    part = max(PARTS, key=lambda name: loaded[name] - alone[name])
    return (
        f"messages wait longest in {PARTS[part]}: p50 {loaded[part]:.1f} ms under load "
        f"against {alone[part]:.1f} ms alone"
    )


def _per_second(values: list[float | None], wall: float) -> float | None:
    """Seconds of CPU per second of wall time (cores busy), if every round could tell."""
    known = [value for value in values if value is not None]
    return sum(known) / wall if len(known) == len(values) else None


@dataclass(frozen=True)
class Load:
    """Cores kept busy while the exchange rounds ran (1.0 = one CPU all the time)."""

    sender: float
    receiver: float | None
    database: float | None
    #: Every process on the machine: the nodes, PostgreSQL, anything else running.
    machine: float | None
    messages: int
    wall: float

    @classmethod
    def of(cls, rounds: list[Round]) -> Load:
        wall = sum(r.wall for r in rounds)
        return cls(
            sender=sum(r.cpu.here for r in rounds) / wall,
            receiver=_per_second([r.cpu.server for r in rounds], wall),
            database=_per_second([r.cpu.database for r in rounds], wall),
            machine=_per_second([r.cpu.machine for r in rounds], wall),
            messages=sum(len(r.samples) for r in rounds),
            wall=wall,
        )

    def per_message_ms(self, cores: float) -> float:
        return cores * self.wall / self.messages * 1000


def cpu_line(options: Options, rounds: list[Round]) -> str:
    load = Load.of(rounds)
    parts = [f"sender {load.per_message_ms(load.sender):.1f} ms"]
    if load.receiver is not None:
        parts.append(f"receiver {load.per_message_ms(load.receiver):.1f} ms")
    if options.db == "postgresql" and load.database is not None:
        parts.append(f"PostgreSQL {load.per_message_ms(load.database):.1f} ms")
    return "CPU per message: " + ", ".join(parts)


def limit(options: Options, results: Results) -> str:
    """A one-line verdict from the CPU used while the exchange rounds ran."""
    load = Load.of(results.exchange)
    if load.receiver is None or load.database is None or load.machine is None:
        return f"sender {load.sender:.2f} cores busy; no /proc here to see the rest"
    database = load.database if options.db == "postgresql" else 0.0
    others = max(load.machine - load.sender - load.receiver - database, 0.0)
    split = f"sender {load.sender:.2f} + receiver {load.receiver:.2f}"
    if options.db == "postgresql":
        split += f" + PostgreSQL {database:.2f}"
    split = f"cores busy: {split} + other processes {others:.2f} = {load.machine:.2f} of {cpus()}"
    if others >= NOISY:
        split += "; other processes were busy too, so rerun on a quiet machine"
    if load.machine >= SATURATED * cpus():
        return f"the machine's CPU ({split})"
    busy, name = max((load.sender, "sender"), (load.receiver, "receiver"))
    if busy >= SATURATED:
        return (
            f"the {name} process's CPU: a Python process runs one thread at a time (GIL), "
            f"so more concurrency does not help it ({split})"
        )
    lock = (
        "SQLite lets one writer at a time into each node's database"
        if options.db == "sqlite"
        else "every audited transaction holds the audit trail's head row until it commits"
    )
    return f"waiting on locks, not CPU ({split}): {lock}"


# --- command line --------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> tuple[Options, int | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=300, help="messages timed (default 300)")
    parser.add_argument("--concurrency", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--rounds", type=int, default=3, help="the n messages run in this many rounds (default 3)"
    )
    parser.add_argument("--warmup", type=int, default=16, help="uncounted messages first")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="server for --db postgresql")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.concurrency, args.rounds) < 1 or args.n < max(2, args.rounds) or args.warmup < 0:
        parser.error("need --concurrency, --rounds >= 1, --n >= 2 and >= --rounds, --warmup >= 0")
    options = Options(
        args.n, args.concurrency, args.db, args.rounds, args.warmup, args.postgres_url
    )
    return options, args.serve_baseline


def main(argv: Sequence[str] | None = None) -> int:
    options, baseline_port = parse(argv)
    if baseline_port is not None:
        serve_baseline(baseline_port)
        return 0
    signal.signal(signal.SIGTERM, terminated)
    with tempfile.TemporaryDirectory(prefix="crossborder-bench-") as folder:
        try:
            results = run(options, Path(folder))
        except BenchFailed as error:
            sys.stderr.write(f"benchmark failed: {error}\n")
            return 1
        except KeyboardInterrupt:
            sys.stderr.write("interrupted; nodes stopped, databases removed\n")
            return 130
    report(options, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
