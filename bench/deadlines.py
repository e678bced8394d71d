"""The deadline watcher benchmark: many overdue alerts escalated in one pass.

When a counterpart has been unreachable for an hour, the acknowledgement
deadlines of every alert raised meanwhile pass at once, and the next
``watch(node)`` must escalate them all: for each deadline its own transaction
that claims it, inserts the ``overdue`` step, writes ``deadline.overdue`` and
runs the alert's hook (the alert marked for the fallback, re-signed and queued
again, ``alert.ack_overdue_sender`` on the trail).

One node (CN-MRCC, a rescue coordination centre) lives in this process with a
clock the benchmark moves by hand. Its counterpart VN-MRCC is registered but
never started: an escalation only queues. Each round raises ``n`` distress
alerts through the alert service, moves the clock past their deadlines and
times ``watch(node, limit=n)``.

The baseline, in the same run and database, is one audited step per alert:
a transaction that locks the alert's row, adds one row to its thread and writes
one audit entry through ``record``. The ratio between the two is what an
escalation adds to the least a step on the audit trail costs. Watcher and
baseline alternate, and swap which goes first every round, so a noisy neighbour
on a shared machine hits both alike.

Run: ``python bench/deadlines.py [--n 200] [--rounds 5] [--db sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

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
    quantile_ms,
    terminated,
)
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from crossborder.adapters.db.tables import Alert, AlertEntry, Deadline, OutboxMessage
from crossborder.adapters.oauth.keys import generate_signing_key, public_jwks
from crossborder.audit.trail import record
from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.reference.alert_ack_rules import ACK_RULE
from crossborder.services import alerts, deadlines
from crossborder.services.node import Node
from crossborder.services.registry import connect_peer
from crossborder.settings import Settings

AGENCY = "CN-MRCC"
COUNTERPART = "VN-MRCC"
#: A Friday morning; every round starts a day later (case ids are unique per agency and day).
START = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
#: A vessel in distress: the shortest acknowledgement deadline there is.
DISTRESS = {
    "category": "maritime_sar",
    "severity": "extreme",
    "urgency": "immediate",
    "certainty": "observed",
    "description": {"lang": "zh-Hans", "text": "渔船机舱进水，船上九人，请求协助。"},
    "position": {"lat": 21.35, "lon": 108.12},
}
#: Tries at raising one alert: its random case id may, rarely, be one already taken that day.
RAISE_TRIES = 5


# --- the node, its database and its clock --------------------------------------------------------


class ManualClock:
    """The node's clock: moved by hand, so deadlines pass without waiting for them."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def database(kind: str, folder: Path, postgres_url: str) -> Iterator[str]:
    """An empty database: an SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'node.db'}"
        return
    schema = f"bench_deadlines_{uuid.uuid4().hex[:10]}"
    separator = "&" if "?" in postgres_url else "?"
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        engine.dispose()
        raise BenchFailed(f"PostgreSQL is not reachable at {postgres_url}: {error.orig}") from error
    try:
        yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def prepare_node(folder: Path, url: str, clock: ManualClock) -> Node:
    """Our node, with VN-MRCC registered as counterpart (its keys made here; it never runs)."""
    node = bootstrap(
        Settings(
            agency=AGENCY,
            country="CN",
            timezone="Asia/Shanghai",
            base_url=f"http://127.0.0.1:{free_port()}",
            data_dir=folder / "node",
            database_url=url,
        ),
        clock=clock,
    )
    keys = [generate_signing_key(f"{COUNTERPART}-{use}-1") for use in ("sig", "at")]
    jwks_file = folder / f"{COUNTERPART}-jwks.json"
    jwks_file.write_text(json.dumps(public_jwks(keys)), "utf-8")
    connect_peer(
        node,
        agency=COUNTERPART,
        base_url=f"http://127.0.0.1:{free_port()}",
        jwks_source=str(jwks_file),
        actor=Actor.officer("bench", node.agency),
    )
    return node


# --- the alerts and their deadlines --------------------------------------------------------------


def raise_alerts(node: Node, n: int, actor: Actor) -> list[str]:
    """``n`` distress alerts to the counterpart, each with its acknowledgement deadline."""
    content = AlertContent.model_validate(DISTRESS)
    case_ids = []
    for _ in range(n):
        for attempt in range(RAISE_TRIES):
            try:
                case_ids.append(alerts.raise_alert(node, content, COUNTERPART, actor).case_id)
                break
            except IntegrityError:
                if attempt == RAISE_TRIES - 1:
                    raise
    return case_ids


def pass_deadlines(node: Node, clock: ManualClock, case_ids: list[str]) -> None:
    """Move the clock one second past the last of these alerts' acknowledgement deadlines."""
    with node.sessions() as session:
        last = session.scalar(
            select(func.max(Deadline.due_at)).where(
                Deadline.case_id.in_(case_ids), Deadline.rule_key == ACK_RULE
            )
        )
    if last is None:
        raise BenchFailed("the alerts raised have no acknowledgement deadline")
    clock.now = max(clock.now, last) + timedelta(seconds=1)


# --- CPU accounting (from /proc on Linux; elsewhere only this process's own time) --------------


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds: this process, PostgreSQL, the whole machine."""

    here: float
    database: float | None
    machine: float | None

    # Reading PostgreSQL's processes costs this process a few milliseconds: it is
    # read first when a round begins and last when it ends, outside what is counted.
    @classmethod
    def before(cls) -> CpuUse:
        database, machine = postgres_cpu_seconds(), machine_cpu_seconds()
        return cls(time.process_time(), database, machine)

    @classmethod
    def after(cls) -> CpuUse:
        here, machine = time.process_time(), machine_cpu_seconds()
        return cls(here, postgres_cpu_seconds(), machine)

    def since(self, start: CpuUse) -> CpuUse:
        return CpuUse(
            self.here - start.here,
            minus(self.database, start.database),
            minus(self.machine, start.machine),
        )


# --- one round of each ---------------------------------------------------------------------------


class Stamps:
    """A notifier that notes when each step reached the duty officer: just after its commit."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.keys: list[str] = []

    def notify(self, agency: str, key: str, /, **params: Any) -> None:
        self.times.append(time.perf_counter())
        self.keys.append(key)


@dataclass(frozen=True)
class Round:
    #: Seconds per deadline (per alert for the baseline), from the end of the one before.
    steps: list[float]
    wall: float
    cpu: CpuUse
    #: Seconds spent in the alert's escalation hook, per deadline (the watcher only).
    hook: list[float]
    #: SQL statements sent to the database during the round.
    statements: int

    @property
    def rate(self) -> float:
        return len(self.steps) / self.wall


def intervals(started: float, stamps: list[float]) -> list[float]:
    return [end - begin for begin, end in pairwise([started, *stamps])]


@contextmanager
def counted(engine: Engine) -> Iterator[list[int]]:
    """How many SQL statements the block sends: a round's database round trips."""
    count = [0]

    def seen(*_: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", seen)


@contextmanager
def timed_hook(node: Node, times: list[float]) -> Iterator[None]:
    """The alert workflow's escalation step, timed, for the length of the block."""
    handlers = node.workflows
    hook = handlers.escalate[ACK_RULE]

    def timed(session: Session, node: Node, row: deadlines.DeadlineRow) -> None:
        started = time.perf_counter()
        hook(session, node, row)
        times.append(time.perf_counter() - started)

    node.workflows = replace(handlers, escalate={**handlers.escalate, ACK_RULE: timed})
    try:
        yield
    finally:
        node.workflows = handlers


def watcher_round(node: Node, case_ids: list[str]) -> Round:
    """One ``watch(node, limit=n)`` over ``n`` overdue deadlines, checked afterwards."""
    stamps, hook = Stamps(), list[float]()
    previous, node.notifier = node.notifier, stamps
    try:
        with timed_hook(node, hook), counted(node.engine) as statements:
            cpu, started = CpuUse.before(), time.perf_counter()
            result = deadlines.watch(node, limit=len(case_ids))
            wall, cpu = time.perf_counter() - started, CpuUse.after().since(cpu)
    finally:
        node.notifier = previous
    steps = {step.step for step in result.taken}
    if len(result.taken) != len(case_ids) or steps != {"overdue"} or result.failed:
        raise BenchFailed(
            f"the watcher took {len(result.taken)} steps ({sorted(steps)}) of {len(case_ids)}, "
            f"skipped {result.skipped}, failed {len(result.failed)}"
        )
    # One notice per escalation, or the times between them are not per deadline.
    if stamps.keys != ["audit.deadline.overdue"] * len(case_ids):
        raise BenchFailed(f"the duty officer was told {len(stamps.keys)} times")
    check_escalated(node, case_ids)
    return Round(intervals(started, stamps.times), wall, cpu, hook, statements[0])


def check_escalated(node: Node, case_ids: list[str]) -> None:
    """Every alert is marked for the fallback and queued a second time."""
    with node.sessions() as session:
        marked = session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.case_id.in_(case_ids), Alert.fallback == "required", Alert.resent == 1)
        )
        queued = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.case_id.in_(case_ids), OutboxMessage.type == "alert.raise")
        )
    if marked != len(case_ids) or queued != 2 * len(case_ids):
        raise BenchFailed(
            f"{marked} of {len(case_ids)} alerts escalated, {queued} raise messages queued"
        )


def audited_step(session: Session, node: Node, case_id: str, actor: Actor) -> None:
    """The least an audited step does: lock a row, add a row, write an audit entry."""
    alert = session.get(Alert, case_id, with_for_update=True)
    if alert is None:
        raise BenchFailed(f"alert {case_id} is gone")
    now = node.now()
    session.add(
        AlertEntry(
            case_id=case_id,
            action="follow_up",
            author=node.agency,
            message_id=None,
            content={},
            recorded_at=now,
        )
    )
    record(
        session,
        "alert.follow_up",
        actor=actor,
        occurred_at=now,
        source_tz=node.timezone,
        case_id=case_id,
        counterpart=alert.recipient,
        note=None,
    )


def baseline_round(node: Node, case_ids: list[str], actor: Actor) -> Round:
    """One audited step per alert, each in its own transaction, checked afterwards."""
    stamps = []
    with counted(node.engine) as statements:
        cpu, started = CpuUse.before(), time.perf_counter()
        for case_id in case_ids:
            with node.transaction() as session:
                audited_step(session, node, case_id, actor)
            stamps.append(time.perf_counter())
        wall, cpu = stamps[-1] - started, CpuUse.after().since(cpu)
    with node.sessions() as session:
        added = session.scalar(
            select(func.count())
            .select_from(AlertEntry)
            .where(AlertEntry.case_id.in_(case_ids), AlertEntry.action == "follow_up")
        )
    if added != len(case_ids):
        raise BenchFailed(f"{added} of {len(case_ids)} baseline steps recorded")
    return Round(intervals(started, stamps), wall, cpu, [], statements[0])


# --- the run -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    n: int
    rounds: int
    warmup: int
    db: str
    postgres_url: str


@dataclass
class Results:
    watcher: list[Round]
    baseline: list[Round]


def run(options: Options, folder: Path) -> Results:
    clock = ManualClock(START)
    with database(options.db, folder, options.postgres_url) as url:
        node = prepare_node(folder, url, clock)
        try:
            return measure(options, node, clock)
        finally:
            node.close()


def measure(options: Options, node: Node, clock: ManualClock) -> Results:
    actor = Actor.officer("bench", node.agency)
    watcher, baseline = [], []
    # The first round is a warm-up (connections, caches, the code paths), not counted.
    for number in range(options.rounds + 1):
        clock.now = START + timedelta(days=number)
        case_ids = raise_alerts(node, options.warmup if number == 0 else options.n, actor)
        pass_deadlines(node, clock, case_ids)
        kinds: dict[str, Callable[[], Round]] = {
            "watcher": partial(watcher_round, node, case_ids),
            "baseline": partial(baseline_round, node, case_ids, actor),
        }
        # Whichever goes second finds the database a little warmer: take turns.
        order = ("watcher", "baseline") if number % 2 else ("baseline", "watcher")
        timed = {kind: kinds[kind]() for kind in order}
        if number:
            watcher.append(timed["watcher"])
            baseline.append(timed["baseline"])
    return Results(watcher, baseline)


# --- the report ----------------------------------------------------------------------------------


def percentile_ms(rounds: list[Round], percent: int) -> float:
    return quantile_ms((step for r in rounds for step in r.steps), percent)


def per_step(rounds: list[Round], total: Callable[[Round], float]) -> float:
    return sum(total(r) for r in rounds) / sum(len(r.steps) for r in rounds)


def cores(rounds: list[Round], part: Callable[[CpuUse], float | None]) -> float | None:
    """Cores kept busy during the rounds (1.0 = one CPU all the time), if every round could tell."""
    values = [part(r.cpu) for r in rounds]
    known = [value for value in values if value is not None]
    return sum(known) / sum(r.wall for r in rounds) if len(known) == len(values) else None


def load(options: Options, rounds: list[Round]) -> str:
    """Who kept the CPUs busy: this process, PostgreSQL, anything else on the machine."""
    here = sum(r.cpu.here for r in rounds) / sum(r.wall for r in rounds)
    machine = cores(rounds, lambda cpu: cpu.machine)
    if machine is None:
        return f"this process {here:.2f}; no /proc here to see the rest"
    split = f"this process {here:.2f}"
    database = 0.0
    if options.db == "postgresql":
        database = cores(rounds, lambda cpu: cpu.database) or 0.0
        split += f" + PostgreSQL {database:.2f}"
    others = max(machine - here - database, 0.0)
    split += f" + other processes {others:.2f} = {machine:.2f} of {os.cpu_count() or 1}"
    if others >= NOISY:
        split += " (others were busy: rerun on a quiet machine)"
    return split


def limit(options: Options, watcher: list[Round]) -> str:
    """A one-line verdict from how busy the machine and this process's one thread were."""
    here = sum(r.cpu.here for r in watcher) / sum(r.wall for r in watcher)
    if here >= SATURATED:
        return (
            "this process's CPU: deadlines are taken one after another, in one thread, "
            "so the statements and their ORM work add up"
        )
    machine = cores(watcher, lambda cpu: cpu.machine)
    if machine is not None and machine >= SATURATED * cpus():
        return "the machine's CPU: every core was busy, so the watcher waited for one too"
    waiting = "SQLite's commits" if options.db == "sqlite" else "PostgreSQL: round trips, commits"
    return f"waiting on {waiting} ({1 - here:.0%} of the time), not this process's CPU"


def time_split(rounds: list[Round]) -> tuple[float, float]:
    """Median milliseconds per escalation in the alert's hook, and in everything else."""
    hook = [h for r in rounds for h in r.hook]
    rest = [step - h for r in rounds for step, h in zip(r.steps, r.hook, strict=True)]
    return statistics.median(hook) * 1000, statistics.median(rest) * 1000


def report(options: Options, results: Results) -> None:
    watcher, baseline = results.watcher, results.baseline
    out(
        f"crossborder deadline watcher benchmark: {options.n} overdue alerts per round, "
        f"{options.rounds} rounds, database {options.db}, {os.cpu_count() or 1} CPUs"
    )
    out(
        f"  node {AGENCY} in this process; counterpart {COUNTERPART} registered, "
        f"not running (an escalation only queues)"
    )
    out(
        f"  watcher: watch(node, limit={options.n}) over {options.n} overdue acknowledgement "
        f"deadlines of maritime_sar / extreme alerts"
    )
    out(
        "  baseline: per alert one transaction locking its row, adding one row to its thread "
        "and one audit entry (record)"
    )
    out()
    out(f"  {'':9} {'steps/s':>8} {'p50 ms':>8} {'p95 ms':>8}   rate per round")
    for name, rounds in (("watcher", watcher), ("baseline", baseline)):
        per_round = " ".join(f"{r.rate:.0f}" for r in rounds)
        out(
            f"  {name:9} {median_rate(rounds):8.1f} {percentile_ms(rounds, 50):8.2f}"
            f" {percentile_ms(rounds, 95):8.2f}   {per_round}"
        )
    out(
        f"  ratios: watcher p50 / baseline p50 = "
        f"{percentile_ms(watcher, 50) / percentile_ms(baseline, 50):.1f}x; "
        f"baseline rate / watcher rate = {median_rate(baseline) / median_rate(watcher):.1f}x"
    )
    out()
    whole = statistics.median(r.wall for r in watcher)
    out(
        f"  {options.n} overdue alerts escalated in {whole:.2f} s "
        f"(median of {options.rounds} rounds)"
    )
    hook, rest = time_split(watcher)
    out(
        f"  per escalation, p50: the alert's hook (marked, re-signed, queued, audited) "
        f"{hook:.2f} ms; the watcher's own work (claim, step, deadline.overdue, commit) "
        f"{rest:.2f} ms"
    )
    out(
        f"  per step: CPU of this process {per_step(watcher, lambda r: r.cpu.here) * 1000:.2f} ms "
        f"against {per_step(baseline, lambda r: r.cpu.here) * 1000:.2f} ms; SQL statements "
        f"{per_step(watcher, lambda r: r.statements):.1f} against "
        f"{per_step(baseline, lambda r: r.statements):.1f}"
    )
    out(f"  cores busy, watcher: {load(options, watcher)}")
    out(f"  cores busy, baseline: {load(options, baseline)}")
    out(f"  what limits the watcher: {limit(options, watcher)}")


# --- command line --------------------------------------------------------------------------------


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--n", type=int, default=200, help="overdue deadlines per round (default 200)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument(
        "--warmup", type=int, default=20, help="deadlines of the uncounted first round (20)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="server for --db postgresql")
    args = parser.parse_args(argv)
    if args.n < 2 or args.rounds < 1 or args.warmup < 1:
        parser.error("need --n >= 2, --rounds >= 1 and --warmup >= 1")
    return Options(args.n, args.rounds, args.warmup, args.db, args.postgres_url)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    signal.signal(signal.SIGTERM, terminated)
    with tempfile.TemporaryDirectory(prefix="crossborder-bench-") as folder:
        try:
            results = run(options, Path(folder))
        except BenchFailed as error:
            sys.stderr.write(f"benchmark failed: {error}\n")
            return 1
        except KeyboardInterrupt:
            sys.stderr.write("interrupted; database removed\n")
            return 130
    report(options, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
