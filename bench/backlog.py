"""The backlog benchmark: N queued trucks from notice to release on two real nodes.

Two nodes on loopback (Lạng Sơn customs exporting, Nanning customs importing),
each a process of its own with its own SQLite database and HTTP server, as
deployed; the officers' steps are taken on their databases, as the command
line does, each step's officers from a process of their own, and this process
runs the Prefect flows. Every truck takes the whole
path: notice → lane decided by the importing node's react step → arrival →
one joint inspection written on one side and countersigned on the other →
release, with every message delivered and receipted. The Prefect part —
arrivals and releases — runs as one flow run per batch (``process-lane-backlog``)
and, on a smaller number of trucks in the same run, as one flow run per truck
(``release-one-truck``): the comparison is what batching saves.

Run: ``python bench/backlog.py [--n 1000] [--batch 100] [--per-truck 50] [--db sqlite|postgresql]``.
"""

from __future__ import annotations

import argparse
import contextvars
import json
import multiprocessing
import os
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measuring import (  # noqa: E402
    POSTGRES_URL,
    BenchFailed,
    cpus,
    machine_cpu_seconds,
    minus,
    out,
    process_cpu_seconds,
    quantile_ms,
)
from nodes import OFFICER, connect, databases, make_node, serving_apart  # noqa: E402
from prefect.server.api.server import SubprocessASGIServer  # noqa: E402
from prefect.settings import (  # noqa: E402
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_SERVER_ANALYTICS_ENABLED,
    temporary_settings,
)
from prefect.testing.utilities import prefect_test_harness  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from crossborder.adapters.db.tables import Case, LaneTruckRow, OutboxMessage  # noqa: E402
from crossborder.adapters.local_node import wake_delivery  # noqa: E402
from crossborder.bootstrap import bootstrap  # noqa: E402
from crossborder.domain.actors import Actor  # noqa: E402
from crossborder.domain.delivery import OutboxStatus  # noqa: E402
from crossborder.domain.lane import (  # noqa: E402
    FindingKind,
    InspectionFinding,
    InspectionResult,
    LaneNotice,
)
from crossborder.services import lane, lane_inspection  # noqa: E402
from crossborder.services.node import Node  # noqa: E402
from crossborder.settings import Settings  # noqa: E402
from flows.lane import BacklogBatch, OneTruck, process_lane_backlog, release_one_truck  # noqa: E402
from flows.runtime import use  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FOUND = (InspectionFinding(kind=FindingKind.NONE_FOUND),)
PASSED = InspectionResult.PASSED
WAKE_EVERY = 20
T = TypeVar("T")


def notice(reference: str) -> LaneNotice:
    """The officer's example notice (a truck of dragon fruit) under a reference of its own."""
    path = ROOT / "contracts" / "examples" / "officer" / "lane-notice.json"
    data = json.loads(path.read_text("utf-8"))
    return LaneNotice.model_validate({**data, "reference": reference})


def clock() -> datetime:
    # A Friday morning at Youyiguan: the gate is open for the whole run.
    return datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def drain(node: Node) -> None:
    """Tell ``node``'s process that its outbox has work, as the command line does."""
    wake_delivery(node.settings.host, node.settings.port)


def wait(condition: Callable[[], bool], timeout: float = 600) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise BenchFailed("backlog did not drain in time")
        # Each look reads the nodes' databases too: often enough, not so often that
        # the looking becomes a share of the work measured.
        time.sleep(0.1)


class Steps:
    """How long each step's worker was busy, and the CPU seconds each group of processes spent.

    The whole machine's busy CPU is read too: what no group of ours spent went
    to the kernel (loopback traffic, disk syncs) and to other processes, and
    together they tell whether the run was bound by the cores or by waiting.
    """

    def __init__(self, pids: dict[str, tuple[int, ...]]) -> None:
        self._pids = {"bench": (os.getpid(),), **pids}
        self.busy: dict[str, float] = dict.fromkeys(STEPS, 0.0)
        self.wall = 0.0
        self.cpu: dict[str, float] = {}
        self.machine: float | None = None

    def _cpu(self) -> dict[str, float]:
        return {
            name: sum(process_cpu_seconds(pid) or 0.0 for pid in pids)
            for name, pids in self._pids.items()
        }

    @contextmanager
    def whole(self) -> Iterator[None]:
        cpu, machine, started = self._cpu(), machine_cpu_seconds(), time.perf_counter()
        yield
        self.wall = time.perf_counter() - started
        self.cpu = {key: spent - cpu[key] for key, spent in self._cpu().items()}
        self.machine = minus(machine_cpu_seconds(), machine)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.busy[name] += time.perf_counter() - started


class OfficersReads:
    """How long an officer's look at a truck's case waits while the backlog runs.

    Each sample reads the same case twice on the importing node's database, in
    turn: in a reading session, as the command line and the console read, and in
    a session opened to write, which queues for the write lock as every session
    did before reads were told apart. Same run, same load: the ratio is the gain.
    The read is one row by its key, so that the sampling itself costs the run
    next to nothing.
    """

    EVERY = 0.2

    def __init__(self, node: Node) -> None:
        self._node = node
        self.reading: list[float] = []
        self.queued: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        first = select(Case.id).order_by(Case.id).limit(1)
        case_id = None
        while case_id is None and not self._stop.wait(self.EVERY):
            with self._node.sessions() as session:
                case_id = session.scalar(first)
        waiting = select(Case.status).where(Case.id == case_id)
        while not self._stop.wait(self.EVERY):
            started = time.perf_counter()
            with self._node.sessions() as session:
                session.scalar(waiting)
            self.reading.append(time.perf_counter() - started)
            started = time.perf_counter()
            with self._node.sessions.begin() as session:
                session.scalar(waiting)
            self.queued.append(time.perf_counter() - started)

    @contextmanager
    def sampling(self) -> Iterator[None]:
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()

    def report(self) -> None:
        if len(self.reading) < 2:
            return
        out(f"an officer's look at a case during the backlog ({len(self.reading)} samples, ms):")
        for label, seconds in (("reading session", self.reading), ("queued to write", self.queued)):
            median, p95 = quantile_ms(seconds, 50), quantile_ms(seconds, 95)
            out(f"  {label:<16} median {median:7.2f}  p95 {p95:8.2f}")
        ratio = quantile_ms(self.queued, 95) / quantile_ms(self.reading, 95)
        out(f"  p95 queued to write / reading: {ratio:.1f}x")


#: Groups of trucks waiting for a step; None says there are no more.
Groups = queue.Queue[list[str] | None]
STEPS = (
    "notice+decision",
    "arrival (Prefect)",
    "joint inspection",
    "countersignature",
    "release (Prefect)",
)


#: In an officers' process: the two nodes' databases and keys, opened as a command opens them.
_desk: dict[str, Node] = {}


def _open_desk(settings: dict[str, str]) -> None:
    for side, settings_json in settings.items():
        _desk[side] = bootstrap(Settings.model_validate_json(settings_json), clock=clock)


def _pid() -> int:
    return os.getpid()


def _notify_all(references: list[str]) -> list[str]:
    vn, cn = _desk["vn"], _desk["cn"]
    officer = Actor.officer(OFFICER, vn.agency)
    return each(
        vn, references, lambda ref: lane.notify(vn, notice(ref), cn.agency, officer).case_id
    )


def _inspect_all(cases: list[str]) -> None:
    cn = _desk["cn"]
    officer = Actor.officer(OFFICER, cn.agency)
    each(cn, cases, lambda case: lane_inspection.inspect(cn, case, FOUND, PASSED, officer))


def _countersign_all(cases: list[str]) -> None:
    vn = _desk["vn"]
    officer = Actor.officer(OFFICER, vn.agency)
    each(vn, cases, lambda case: lane_inspection.countersign(vn, case, officer))


class Desks:
    """The officers of each step that officers take, in a process of their own.

    Officers' commands are processes of their own beside the node, each with
    its own interpreter: taken from threads of this process, which also runs
    the flows, each step would wait for the others' share of one GIL while
    holding its node's write lock, and the figures would measure that.
    """

    STEPS = ("notice", "inspection", "countersignature")

    def __init__(self, stack: ExitStack, vn: Node, cn: Node) -> None:
        settings = {"vn": vn.settings.model_dump_json(), "cn": cn.settings.model_dump_json()}
        spawn = multiprocessing.get_context("spawn")
        self.pools = {
            step: stack.enter_context(
                ProcessPoolExecutor(1, spawn, initializer=_open_desk, initargs=(settings,))
            )
            for step in self.STEPS
        }
        self.pids = tuple(pool.submit(_pid).result() for pool in self.pools.values())


def run(vn: Node, cn: Node, n: int, batch: int | None, steps: Steps, desks: Desks) -> list[str]:
    """All N trucks through every step; ``batch`` None means one flow run per truck.

    The trucks go in groups (a batch, or ten trucks one flow run each), and the
    steps work side by side, each on the next group the step before has done,
    as at a gate where trucks are notified, arrive, are inspected and leave at
    the same time: both nodes are busy at once, as they would be.
    """
    size = batch or 10
    officers = desks.pools

    def notified(references: list[str]) -> list[str]:
        cases = officers["notice"].submit(_notify_all, references).result()
        wait(lambda: all_status(vn, cases, ("decided",)))
        return cases

    def arrived(cases: list[str]) -> list[str]:
        with use(cn):
            if batch is None:
                for case_id in cases:
                    release_one_truck(OneTruck(case_id=case_id, officer=OFFICER))
            else:
                process_lane_backlog(BacklogBatch(arrived=cases, officer=OFFICER))
        return cases

    def inspected(cases: list[str]) -> list[str]:
        officers["inspection"].submit(_inspect_all, cases).result()
        wait(lambda: all_recorded(vn, cases))
        return cases

    def countersigned(cases: list[str]) -> list[str]:
        officers["countersignature"].submit(_countersign_all, cases).result()
        wait(lambda: all_status(cn, cases, ("inspected", "released")))
        return cases

    def released(cases: list[str]) -> list[str]:
        with use(cn):
            # Each run releases the most urgent inspected trucks: these, or ones before them.
            while not all_status(cn, cases, ("released",)):
                process_lane_backlog(BacklogBatch(release_limit=batch or 1, officer=OFFICER))
        wait(lambda: all_status(vn, cases, ("released",)))
        return cases

    references = [f"BENCH-{batch}-{i}" for i in range(n)]
    groups = [references[first : first + size] for first in range(0, n, size)]
    with steps.whole():
        workers = (notified, arrived, inspected, countersigned, released)
        work = dict(zip(STEPS, workers, strict=True))
        done = pipeline(groups, work, steps)
    return [case for group in done for case in group]


def pipeline(
    groups: list[list[str]], work: dict[str, Callable[[list[str]], list[str]]], steps: Steps
) -> list[list[str]]:
    """Each group through each step in turn, one thread a step; the groups that came out."""
    queues: list[queue.Queue[list[str] | None]] = [queue.Queue() for _ in range(len(work) + 1)]
    failures: list[BaseException] = []

    def worker(
        name: str, take: queue.Queue[list[str] | None], give: queue.Queue[list[str] | None]
    ) -> None:
        while (group := take.get()) is not None:
            try:
                with steps.step(name):
                    give.put(work[name](group))
            except BaseException as failure:  # noqa: BLE001 (told to the main thread below)
                failures.append(failure)
                break
        give.put(None)

    # Each thread in a copy of this one's context: Prefect's settings (its server, no
    # heartbeat) are context variables, which a new thread would not see.
    threads = [
        threading.Thread(
            target=contextvars.copy_context().run,
            args=(worker, name, queues[i], queues[i + 1]),
            daemon=True,
        )
        for i, name in enumerate(work)
    ]
    for thread in threads:
        thread.start()
    for group in groups:
        queues[0].put(group)
    queues[0].put(None)
    for thread in threads:
        thread.join()
    if failures:
        raise BenchFailed(f"a step failed: {failures[0]!r}") from failures[0]
    done = []
    while (group := queues[-1].get()) is not None:
        done.append(group)
    return done


def each(node: Node, items: list[str], step: Callable[[str], T]) -> list[T]:
    """An officer's ``step`` on every item, on ``node``, whose outbox is told it has work.

    Officers' commands each tell their node; here every twentieth step does,
    which keeps this process's share of the work small.
    """
    done = []
    for i, item in enumerate(items):
        done.append(step(item))
        if i % WAKE_EVERY == 0:
            drain(node)
    drain(node)
    return done


def all_status(node: Node, cases: list[str], statuses: tuple[str, ...]) -> bool:
    with node.sessions() as session:
        query = select(func.count()).where(Case.id.in_(cases), Case.status.in_(statuses))
        return int(session.scalar(query) or 0) == len(cases)


def all_recorded(node: Node, cases: list[str]) -> bool:
    with node.sessions() as session:
        query = select(func.count()).where(
            LaneTruckRow.case_id.in_(cases), LaneTruckRow.record_digest.is_not(None)
        )
        return int(session.scalar(query) or 0) == len(cases)


def report(label: str, n: int, steps: Steps) -> None:
    out(f"{label}: {n} trucks in {steps.wall:.1f} s, {n / steps.wall:.1f} cases/s")
    cpu = ", ".join(f"{name} {1000 * spent / n:.1f}" for name, spent in steps.cpu.items())
    out(f"  CPU ms/truck: {cpu}")
    if steps.machine is not None:
        ours = " + ".join(f"{name} {spent / steps.wall:.2f}" for name, spent in steps.cpu.items())
        others = (steps.machine - sum(steps.cpu.values())) / steps.wall
        busy = steps.machine / steps.wall
        out(f"  cores busy: {ours} + rest of the machine {others:.2f} = {busy:.2f} of {cpus()}")
    out(f"  {'step, its worker busy':<26} {'s':>7} {'ms/truck':>9}")
    for name, seconds in steps.busy.items():
        out(f"  {name:<26} {seconds:7.2f} {1000 * seconds / n:9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--per-truck", type=int, default=50)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="server for --db postgresql")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="backlog-"))
    # A sync flow run otherwise waits about a second at its end for the heartbeat thread
    # (DESIGN.md §5): that would be measured as Prefect's cost per run, and it is not.
    # The throwaway server's telemetry would only fail to reach the internet.
    quiet = temporary_settings(
        {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_SERVER_ANALYTICS_ENABLED: False}
    )
    with databases(args.db, folder, args.postgres_url) as urls:
        vn = make_node("vn", urls["vn"], folder, clock)
        cn = make_node("cn", urls["cn"], folder, clock)
        connect(vn, cn, folder)
        connect(cn, vn, folder)
        with (
            quiet,
            prefect_test_harness(server_startup_timeout=60),
            serving_apart(vn, clock(), folder / "vn.log") as vn_pid,
            serving_apart(cn, clock(), folder / "cn.log") as cn_pid,
            ExitStack() as stack,
        ):
            desks = Desks(stack, vn, cn)
            pids = {
                "officers": desks.pids,
                "vn": (vn_pid,),
                "cn": (cn_pid,),
                "prefect server": prefect_server_pids(),
            }
            batched = Steps(pids)
            reads = OfficersReads(cn)
            with reads.sampling():
                cases = run(vn, cn, args.n, args.batch, batched, desks)
            per_truck = Steps(pids)
            cases += run(vn, cn, args.per_truck, None, per_truck, desks)
        check_nothing_lost(vn, cn, cases)
        vn.close()
        cn.close()
    out(f"{args.db}, each node a process of its own")
    report(f"one flow run per batch of {args.batch}", args.n, batched)
    reads.report()
    report("one flow run per truck", args.per_truck, per_truck)
    for step in ("arrival (Prefect)", "release (Prefect)"):
        ratio = (per_truck.busy[step] / args.per_truck) / (batched.busy[step] / args.n)
        out(f"{step}: one run per truck takes {ratio:.1f}x the time per truck of batches")
    out(f"nothing lost: all {len(cases)} trucks released on both sides, both outboxes delivered")


def prefect_server_pids() -> tuple[int, ...]:
    """The throwaway Prefect server's process: the API every flow and task run reports to."""
    # The harness registers its server as the default one, which this returns.
    process = SubprocessASGIServer().server_process
    return () if process is None else (process.pid,)


def check_nothing_lost(vn: Node, cn: Node, cases: list[str]) -> None:
    """Every truck released on both sides, once, and every message delivered with its receipt."""
    for node in (vn, cn):
        with node.sessions() as session:
            released = session.scalar(
                select(func.count()).where(Case.id.in_(cases), Case.status == "released")
            )
            undelivered = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != OutboxStatus.DELIVERED)
            )
        if released != len(cases) or undelivered:
            raise BenchFailed(
                f"{node.agency}: {released} of {len(cases)} released, {undelivered} undelivered"
            )


if __name__ == "__main__":
    main()
