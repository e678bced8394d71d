"""The backlog benchmark: N queued trucks from notice to release on two real nodes.

Two nodes on loopback (Lạng Sơn customs exporting, Nanning customs importing),
each with its own SQLite database and HTTP server. Every truck takes the whole
path: notice → lane decided by the importing node's react step → arrival →
one joint inspection written on one side and countersigned on the other →
release, with every message delivered and receipted. The Prefect part —
arrivals and releases — runs as one flow run per batch (``process-lane-backlog``)
and, on a smaller number of trucks in the same run, as one flow run per truck
(``release-one-truck``): the comparison is what batching saves.

Run: ``python bench/backlog.py [--n 1000] [--batch 500] [--per-truck 50]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measuring import BenchFailed, out  # noqa: E402
from nodes import OFFICER, connect, make_node, serving  # noqa: E402
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from crossborder.adapters.db.tables import Case, LaneTruckRow, OutboxMessage  # noqa: E402
from crossborder.domain.actors import Actor  # noqa: E402
from crossborder.domain.delivery import OutboxStatus  # noqa: E402
from crossborder.domain.lane import (  # noqa: E402
    FindingKind,
    InspectionFinding,
    InspectionResult,
    LaneNotice,
)
from crossborder.services import lane, lane_inspection  # noqa: E402
from crossborder.services.delivery import deliver_due  # noqa: E402
from crossborder.services.node import Node  # noqa: E402
from flows.lane import BacklogBatch, OneTruck, process_lane_backlog, release_one_truck  # noqa: E402
from flows.runtime import use  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FOUND = (InspectionFinding(kind=FindingKind.NONE_FOUND),)


def notice(reference: str) -> LaneNotice:
    """The officer's example notice (a truck of dragon fruit) under a reference of its own."""
    path = ROOT / "contracts" / "examples" / "officer" / "lane-notice.json"
    data = json.loads(path.read_text("utf-8"))
    return LaneNotice.model_validate({**data, "reference": reference})


def clock() -> datetime:
    # A Friday morning at Youyiguan: the gate is open for the whole run.
    return datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def count(node: Node, status: str) -> int:
    with node.sessions() as session:
        query = select(func.count()).select_from(Case).where(Case.status == status)
        return int(session.scalar(query) or 0)


def drain(node: Node) -> None:
    while deliver_due(node, limit=500):
        pass


def wait(condition: Callable[[], bool], timeout: float = 600) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise BenchFailed("backlog did not drain in time")
        time.sleep(0.05)


def run(vn: Node, cn: Node, n: int, batch: int | None, timings: dict[str, float]) -> list[str]:
    """All N trucks through every step; ``batch`` None means one flow run per truck."""
    officer_vn, officer_cn = Actor.officer(OFFICER, vn.agency), Actor.officer(OFFICER, cn.agency)
    started = time.perf_counter()
    cases = [
        lane.notify(vn, notice(reference=f"BENCH-{batch}-{i}"), cn.agency, officer_vn).case_id
        for i in range(n)
    ]
    drain(vn)
    wait(lambda: all_status(vn, cases, "decided"))
    timings["notice+decision"] = time.perf_counter() - started

    step = time.perf_counter()
    with use(cn):
        if batch is None:
            for case_id in cases:
                release_one_truck(OneTruck(case_id=case_id, officer=OFFICER))
        else:
            for first in range(0, n, batch):
                process_lane_backlog(
                    BacklogBatch(arrived=cases[first : first + batch], officer=OFFICER)
                )
    timings["arrival (Prefect)"] = time.perf_counter() - step

    step = time.perf_counter()
    for case_id in cases:
        lane_inspection.inspect(cn, case_id, FOUND, InspectionResult.PASSED, officer_cn)
    drain(cn)
    wait(lambda: all_recorded(vn, cases))
    for case_id in cases:
        lane_inspection.countersign(vn, case_id, officer_vn)
    drain(vn)
    wait(lambda: count(cn, "inspected") >= n)
    timings["joint inspection"] = time.perf_counter() - step

    step = time.perf_counter()
    with use(cn):
        size = batch or 1
        while count(cn, "inspected"):
            process_lane_backlog(BacklogBatch(release_limit=size, officer=OFFICER))
    wait(lambda: all_status(vn, cases, "released"))
    timings["release (Prefect)"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - started
    return cases


def all_status(node: Node, cases: list[str], status: str) -> bool:
    with node.sessions() as session:
        query = select(func.count()).where(Case.id.in_(cases), Case.status == status)
        return int(session.scalar(query) or 0) == len(cases)


def all_recorded(node: Node, cases: list[str]) -> bool:
    with node.sessions() as session:
        query = select(func.count()).where(
            LaneTruckRow.case_id.in_(cases), LaneTruckRow.record_digest.is_not(None)
        )
        return int(session.scalar(query) or 0) == len(cases)


def report(label: str, n: int, timings: dict[str, float]) -> None:
    out(f"{label}: {n} trucks, {n / timings['total']:.1f} cases/s")
    for name, seconds in timings.items():
        out(f"  {name:<22} {seconds:8.2f} s  {1000 * seconds / n:8.1f} ms/truck")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--per-truck", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="backlog-"))
    vn = make_node("vn", f"sqlite:///{folder}/vn.db", folder, clock)
    cn = make_node("cn", f"sqlite:///{folder}/cn.db", folder, clock)
    connect(vn, cn, folder)
    connect(cn, vn, folder)
    # A sync flow run otherwise waits about a second at its end for the heartbeat thread
    # (DESIGN.md §5): that would be measured as Prefect's cost per run, and it is not.
    no_heartbeat = temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    with prefect_test_harness(server_startup_timeout=60), no_heartbeat, serving(vn), serving(cn):
        batched: dict[str, float] = {}
        cases = run(vn, cn, args.n, args.batch, batched)
        per_truck: dict[str, float] = {}
        cases += run(vn, cn, args.per_truck, None, per_truck)
    report(f"one flow run per batch of {args.batch}", args.n, batched)
    report("one flow run per truck", args.per_truck, per_truck)
    for step in ("arrival (Prefect)", "release (Prefect)"):
        ratio = (per_truck[step] / args.per_truck) / (batched[step] / args.n)
        out(f"{step}: one run per truck takes {ratio:.1f}x the time per truck of batches")
    check_nothing_lost(vn, cn, cases)
    out(f"nothing lost: all {len(cases)} trucks released on both sides, both outboxes delivered")


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
