"""The deadline watcher on a real node, with a clock the test moves: on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crossborder.adapters.db.tables import AuditEntry, Deadline, DeadlineStep
from crossborder.bootstrap import workflows
from crossborder.cli.common import open_node
from crossborder.cli.deadlines import app as deadlines_cli
from crossborder.domain.actors import Actor
from crossborder.domain.errors import CrossborderError
from crossborder.services.deadlines import (
    DeadlineRow,
    StepTaken,
    WatchResult,
    cancel,
    list_deadlines,
    register,
    settle,
    watch,
)
from crossborder.services.node import Node, WorkflowHandlers
from crossborder.workers import Workers
from flows.deadlines import take_due_steps, watch_deadlines
from flows.runtime import use
from tests import factories
from tests.conftest import Clock
from tests.factories import register_staff

RULES: dict[str, dict[str, Any]] = {
    "test.ten_days": {"amount": 10, "counting": "calendar_days", "reminders_before": [7, 2]},
    "test.five_working_days": {"amount": 5, "counting": "working_days", "reminders_before": [2]},
    "test.escalating": {"amount": 10, "counting": "calendar_days", "reminders_before": [7, 2]},
    "test.flaky": {"amount": 1, "counting": "hours"},
    "test.slow_reminder": {"amount": 2, "counting": "hours", "reminders_before": [1]},
    "test.negative": {"amount": -90, "counting": "calendar_days"},
}
CASE = "VN-CUSKV6-20261127-7F3A2C"
OFFICER = Actor.officer("nguyen.van.an", "VN-CUSKV6")

# --- hooks a workflow would register, and what they saw ---

escalated: list[tuple[str, str]] = []
reminded: list[tuple[str, str]] = []
flaky_failures: list[str] = []


def escalate(session: Session, node: Node, deadline: DeadlineRow) -> None:
    escalated.append((deadline.case_id, deadline.status))


def escalate_or_fail(session: Session, node: Node, deadline: DeadlineRow) -> None:
    if flaky_failures:
        raise RuntimeError(flaky_failures.pop())
    escalated.append((deadline.case_id, deadline.status))


def remind_slowly(session: Session, node: Node, deadline: DeadlineRow, step: str) -> None:
    # Long enough for a second watcher to reach the same deadlines meanwhile.
    time.sleep(0.005)
    reminded.append((deadline.case_id, step))


TEST_HOOKS = WorkflowHandlers(
    escalate={"test.escalating": escalate, "test.flaky": escalate_or_fail},
    remind={"test.slow_reminder": remind_slowly},
)


class Notices:
    """A duty officer's pager: what the watcher told them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def notify(self, agency: str, key: str, /, **params: Any) -> None:
        self.sent.append((agency, key, params))


#: Every node of these tests pages here, and runs the test workflow's hooks besides the real ones.
PAGER = Notices()


def make_node(*args: Any, **kwargs: Any) -> Node:
    return factories.make_node(
        *args, notifier=PAGER, load_workflows=lambda: workflows() + TEST_HOOKS, **kwargs
    )


@pytest.fixture(autouse=True)
def notices() -> Iterator[Notices]:
    escalated.clear()
    reminded.clear()
    flaky_failures.clear()
    PAGER.sent.clear()
    yield PAGER


@pytest.fixture
def node(make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock) -> Iterator[Node]:
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    yield vn
    vn.close()


# --- helpers ---


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def register_deadline(
    node: Node,
    rule_key: str,
    *,
    case_id: str = CASE,
    country: Literal["CN", "VN"] = "VN",
    agency: str = "VN-CUSKV6",
    starts_at: datetime | None = None,
) -> Deadline:
    with node.transaction() as session:
        return register(
            session,
            node,
            case_id=case_id,
            rule_key=rule_key,
            starts_at=starts_at or node.now(),
            acting_country=country,
            acting_agency=agency,
            subject="E263000012345",
            actor=OFFICER,
            rules=RULES,
        )


def steps_at(node: Node, clock: Clock, moment: datetime) -> list[str]:
    clock.now = moment
    return [taken.step for taken in watch(node).taken]


def events(node: Node) -> list[str]:
    with node.sessions() as session:
        return list(session.scalars(select(AuditEntry.event).order_by(AuditEntry.seq)))


def count(node: Node, column: Any) -> int:
    with node.sessions() as session:
        return int(session.scalar(select(func.count(column))) or 0)


def status(node: Node, case_id: str = CASE) -> str:
    with node.sessions() as session:
        return str(session.scalar(select(Deadline.status).where(Deadline.case_id == case_id)))


# --- reminders and escalation, day by day ---


def test_reminders_and_escalation_across_a_month_boundary(
    node: Node, clock: Clock, notices: Notices
) -> None:
    # 27 Nov 2026, 09:00 in Lạng Sơn; ten calendar days end 7 Dec, 23:59:59 (16:59:59Z).
    register_deadline(node, "test.escalating")
    assert steps_at(node, clock, utc(2026, 11, 27, 2)) == []
    assert steps_at(node, clock, utc(2026, 11, 30, 16, 59, 59)) == []
    assert steps_at(node, clock, utc(2026, 11, 30, 17)) == ["reminder-7"]  # 1 Dec, 00:00 local
    assert steps_at(node, clock, utc(2026, 12, 5, 17)) == ["reminder-2"]
    assert steps_at(node, clock, utc(2026, 12, 7, 16, 59, 59)) == []  # still on time
    assert status(node) == "open"
    assert steps_at(node, clock, utc(2026, 12, 7, 17)) == ["overdue"]
    assert steps_at(node, clock, utc(2026, 12, 20)) == []

    assert status(node) == "overdue"
    assert escalated == [(CASE, "overdue")]  # the workflow's step ran once, after marking
    assert events(node) == [
        "deadline.registered",
        "deadline.reminder",
        "deadline.reminder",
        "deadline.overdue",
    ]
    facts = {
        "rule": "test.escalating",
        "subject": "E263000012345",
        "agency": "VN-CUSKV6",
        "due": "2026-12-07 23:59:59+07:00",
    }
    assert notices.sent == [
        ("VN-CUSKV6", "audit.deadline.reminder", {**facts, "step": "reminder-7"}),
        ("VN-CUSKV6", "audit.deadline.reminder", {**facts, "step": "reminder-2"}),
        ("VN-CUSKV6", "audit.deadline.overdue", facts),
    ]

    # The reply comes late: met, and the trail says so.
    with node.transaction() as session:
        settle(session, node, case_id=CASE, rule_key="test.escalating", actor=OFFICER)
    assert status(node) == "met"
    assert events(node)[-1] == "deadline.met_late"
    assert list_deadlines(node) == []


def test_a_watcher_run_twice_sends_one_reminder(node: Node, clock: Clock, notices: Notices) -> None:
    register_deadline(node, "test.ten_days")
    clock.now = utc(2026, 11, 30, 17)
    first, second = watch(node), watch(node)
    assert first.taken == [StepTaken(CASE, "test.ten_days", "reminder-7")]
    assert second == WatchResult()
    assert count(node, DeadlineStep.id) == 1
    assert events(node).count("deadline.reminder") == 1
    assert len(notices.sent) == 1


def test_a_watcher_that_was_down_sends_only_the_latest_reminder(node: Node, clock: Clock) -> None:
    register_deadline(node, "test.ten_days")
    assert steps_at(node, clock, utc(2026, 12, 6)) == ["reminder-2"]
    assert steps_at(node, clock, utc(2026, 12, 6, 1)) == []
    assert steps_at(node, clock, utc(2026, 12, 8)) == ["overdue"]


def test_two_watchers_at_once_take_each_step_once(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock, notices: Notices
) -> None:
    url = make_db_url("shared")
    one = make_node("vn", url, tmp_path / "one", clock)
    other = make_node("vn", url, tmp_path / "other", clock)
    cases = [f"VN-CUSKV6-20261127-{n:06X}" for n in range(20)]
    for case_id in cases:
        register_deadline(one, "test.slow_reminder", case_id=case_id)
    clock.advance(hours=1)

    start = threading.Barrier(2)
    results: list[WatchResult] = []

    def run(node: Node) -> None:
        start.wait()
        results.append(watch(node))

    threads = [threading.Thread(target=run, args=(node,)) for node in (one, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(taken.case_id for result in results for taken in result.taken) == cases
    assert sorted(reminded) == [(case_id, "reminder-1") for case_id in cases]
    assert len(notices.sent) == len(cases)
    assert count(one, DeadlineStep.id) == len(cases)
    assert events(one).count("deadline.reminder") == len(cases)
    one.close()
    other.close()


# --- holidays and time zones ---


def test_working_days_across_chinas_national_day(
    make_db_url: Callable[[str], str], tmp_path: Path
) -> None:
    clock = Clock(utc(2026, 9, 29, 2))  # Tuesday 10:00 in Nanning
    node = make_node("vn", make_db_url("vn"), tmp_path, clock)
    register_deadline(node, "test.five_working_days", country="CN", agency="CN-NNCUS")
    # 30 Sep, then 1–7 Oct off, then 8, 9, 10 (a make-up Saturday) and 12 Oct.
    assert steps_at(node, clock, utc(2026, 10, 7)) == []
    assert steps_at(node, clock, utc(2026, 10, 9, 16)) == ["reminder-2"]  # 10 Oct, 00:00 local
    assert steps_at(node, clock, utc(2026, 10, 12, 15, 59, 59)) == []
    assert steps_at(node, clock, utc(2026, 10, 12, 16)) == ["overdue"]  # 13 Oct, 00:00 local
    with node.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.params["due"] == "2026-10-12 23:59:59+08:00"
    node.close()


def test_working_days_across_tet_then_met_in_time(
    make_db_url: Callable[[str], str], tmp_path: Path
) -> None:
    clock = Clock(utc(2027, 2, 3, 3))  # Wednesday 10:00 in Lạng Sơn, the eve of the Tết break
    node = make_node("vn", make_db_url("vn"), tmp_path, clock)
    register_deadline(node, "test.five_working_days")
    # 4–10 Feb are Tết; the five working days are 11, 12, 15, 16 and 17 Feb.
    assert steps_at(node, clock, utc(2027, 2, 10, 12)) == []
    assert steps_at(node, clock, utc(2027, 2, 15, 17)) == ["reminder-2"]  # 16 Feb, 00:00 local
    clock.now = utc(2027, 2, 17, 9)
    with node.transaction() as session:
        settle(session, node, case_id=CASE, rule_key="test.five_working_days", actor=OFFICER)
    assert steps_at(node, clock, utc(2027, 3, 1)) == []
    assert status(node) == "met"
    assert events(node) == ["deadline.registered", "deadline.reminder", "deadline.met"]
    node.close()


def test_the_same_rule_ends_an_hour_apart_in_each_sides_zone(
    make_db_url: Callable[[str], str], tmp_path: Path
) -> None:
    # 16:30Z is already 1 December in Nanning but still 30 November in Lạng Sơn.
    clock = Clock(utc(2026, 11, 30, 16, 30))
    node = make_node("vn", make_db_url("vn"), tmp_path, clock)
    vn_case, cn_case = "VN-CUSKV6-20261130-00000A", "CN-NNCUS-20261201-00000B"
    register_deadline(node, "test.ten_days", case_id=vn_case)
    register_deadline(node, "test.ten_days", case_id=cn_case, country="CN", agency="CN-NNCUS")
    due = {row.case_id: row.due_at for row in list_deadlines(node)}
    assert due == {
        vn_case: utc(2026, 12, 10, 16, 59, 59),  # 10 Dec, 23:59:59 in Lạng Sơn
        cn_case: utc(2026, 12, 11, 15, 59, 59),  # 11 Dec, 23:59:59 in Nanning
    }
    clock.now = utc(2026, 12, 10, 17)  # 00:00 on 11 Dec in Lạng Sơn, 01:00 in Nanning
    taken = {(t.case_id, t.step) for t in watch(node).taken}
    assert taken == {(vn_case, "overdue"), (cn_case, "reminder-2")}
    assert [row.case_id for row in list_deadlines(node, overdue_only=True)] == [vn_case]
    node.close()


# --- bad input and failures ---


@pytest.mark.parametrize(
    ("rule_key", "country", "agency", "code"),
    [
        ("test.no_such_rule", "VN", "VN-CUSKV6", "DEADLINE_RULE_UNKNOWN"),
        ("test.negative", "VN", "VN-CUSKV6", "DEADLINE_RULE_INVALID"),
        ("test.ten_days", "CN", "VN-CUSKV6", "DEADLINE_COUNTRY_MISMATCH"),
        ("test.ten_days", "VN", "VN-NO-SUCH-AGENCY", "AGENCY_UNKNOWN"),
    ],
)
def test_a_bad_registration_gets_its_code_and_changes_nothing(
    node: Node, rule_key: str, country: Literal["CN", "VN"], agency: str, code: str
) -> None:
    with pytest.raises(CrossborderError) as raised:
        register_deadline(node, rule_key, country=country, agency=agency)
    assert raised.value.code == code
    assert count(node, Deadline.id) == 0
    assert events(node) == []


def test_settling_and_cancelling_follow_the_deadlines_state(node: Node) -> None:
    register_deadline(node, "test.ten_days")
    calls: list[Callable[[], Any]] = [
        lambda: register_deadline(node, "test.ten_days"),
        lambda: _settle(node, "VN-CUSKV6-20261127-FFFFFF"),
    ]
    codes = []
    for call in calls:
        with pytest.raises(CrossborderError) as raised:
            call()
        codes.append(raised.value.code)
    assert codes == ["DEADLINE_EXISTS", "DEADLINE_UNKNOWN"]

    with node.transaction() as session:
        cancel(session, node, case_id=CASE, rule_key="test.ten_days", actor=OFFICER)
    with pytest.raises(CrossborderError) as raised:
        _settle(node, CASE)
    assert raised.value.code == "DEADLINE_CLOSED"
    assert status(node) == "cancelled"
    assert events(node) == ["deadline.registered", "deadline.cancelled"]


def _settle(node: Node, case_id: str) -> None:
    with node.transaction() as session:
        settle(session, node, case_id=case_id, rule_key="test.ten_days", actor=OFFICER)


def test_a_cancelled_deadline_is_never_reminded(node: Node, clock: Clock) -> None:
    register_deadline(node, "test.ten_days")
    with node.transaction() as session:
        cancel(session, node, case_id=CASE, rule_key="test.ten_days", actor=OFFICER)
    assert steps_at(node, clock, utc(2027, 1, 1)) == []


def test_a_failing_escalation_leaves_nothing_and_is_tried_again(
    node: Node, clock: Clock, notices: Notices
) -> None:
    deadline = register_deadline(node, "test.flaky")
    flaky_failures.append("the counterpart's notice could not be queued")
    clock.advance(hours=2)
    assert watch(node) == WatchResult(failed=[deadline.id])
    assert (status(node), count(node, DeadlineStep.id), notices.sent) == ("open", 0, [])
    assert events(node) == ["deadline.registered"]

    assert [taken.step for taken in watch(node).taken] == ["overdue"]
    assert escalated == [(CASE, "overdue")]
    assert events(node) == ["deadline.registered", "deadline.overdue"]


def test_a_deadline_passed_before_the_watcher_ran_is_listed_as_overdue(
    node: Node, clock: Clock
) -> None:
    register_deadline(node, "test.ten_days")
    assert list_deadlines(node, overdue_only=True) == []
    clock.now = utc(2026, 12, 8)
    assert [row.case_id for row in list_deadlines(node, overdue_only=True)] == [CASE]
    assert status(node) == "open"


# --- the command line ---


def test_deadlines_list_and_watch_on_the_command_line(tmp_path: Path) -> None:
    env = tmp_path / "vn.env"
    env.write_text(
        "CROSSBORDER_AGENCY=VN-CUSKV6\nCROSSBORDER_COUNTRY=VN\n"
        "CROSSBORDER_TIMEZONE=Asia/Ho_Chi_Minh\nCROSSBORDER_BASE_URL=http://127.0.0.1:9\n"
        f"CROSSBORDER_DATA_DIR={tmp_path / 'vn'}\n",
        "utf-8",
    )
    node = open_node(env)
    register_staff(node)
    # Ten days that ended weeks ago, on the real clock the command uses.
    register_deadline(node, "test.ten_days", starts_at=datetime.now(UTC) - timedelta(days=30))
    node.close()
    runner = CliRunner(env={"COLUMNS": "200"})

    listed = runner.invoke(
        deadlines_cli, ["list", "--overdue", "--lang", "vi", "--config", str(env)]
    )
    assert listed.exit_code == 0, listed.output
    # Past its due time, though the watcher has not been round yet.
    assert CASE in listed.output and "quá hạn" in listed.output
    assert "+07:00" in listed.output  # the due time, in the node's zone

    watched = runner.invoke(deadlines_cli, ["watch", "--lang", "en", "--config", str(env)])
    assert watched.exit_code == 0, watched.output
    assert "1 step(s) taken" in watched.output

    listed = runner.invoke(
        deadlines_cli, ["list", "--overdue", "--lang", "zh_Hans", "--config", str(env)]
    )
    assert "已超期" in listed.output


# --- the scheduled flow ---


def test_the_watch_deadlines_flow_takes_the_due_steps(
    prefect_local: None, tmp_path: Path, clock: Clock
) -> None:
    node = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock)
    register_deadline(node, "test.ten_days")
    clock.now = utc(2026, 11, 30, 17)
    with use(node):
        assert [taken.step for taken in take_due_steps.fn(100).taken] == ["reminder-7"]
        clock.now = utc(2026, 12, 5, 17)
        assert [taken.step for taken in watch_deadlines().taken] == ["reminder-2"]
    node.close()


# --- the node's own watcher ---


def test_a_running_node_escalates_by_itself(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock, notices: Notices
) -> None:
    """No scheduler needed: the node's background loop takes the step within its poll."""
    node = make_node("vn", make_db_url("vn"), tmp_path, clock, deadline_poll_seconds=0.05)
    register_deadline(node, "test.escalating")
    workers = Workers(node)
    workers.start()
    try:
        clock.now = utc(2026, 12, 8)
        deadline = time.monotonic() + 10
        while status(node) != "overdue" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        workers.stop()
    assert status(node) == "overdue"
    assert escalated == [(CASE, "overdue")]
    assert [key for _, key, _ in notices.sent] == ["audit.deadline.overdue"]
    node.close()
