"""``crossborder lane`` as an officer types it, against two real nodes, on SQLite and PostgreSQL.

Each command is a process of its own, as a person runs it, acting on the node
serving on the same host; a refusal is one coded line and an exit code, never
a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crossborder.adapters.db.tables import (
    AuditEntry,
    Case,
    InboxMessage,
    LaneTruckRow,
    OutboxMessage,
)
from crossborder.domain.actors import Actor
from crossborder.domain.certificate_of_origin import FormE
from crossborder.domain.delivery import InboxStatus, OutboxStatus
from crossborder.domain.free_text import FreeText
from crossborder.domain.lane import FindingKind, InspectionFinding, InspectionResult, LaneNotice
from crossborder.i18n import error_message, translate
from crossborder.services import certificate_of_origin, co_amendment, lane_inspection
from crossborder.services import lane as lane_steps
from crossborder.services.cases import case_view
from crossborder.services.node import Node
from tests.factories import EXAMPLES, connect, make_node, register_staff, serving, wait_for

pytestmark = pytest.mark.e2e

NOTICE = EXAMPLES / "officer" / "lane-notice.json"
FINDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "lane" / "inspection-findings.json"


def settings_file(node: Node, path: Path) -> Path:
    """The settings of a running node, for the commands typed on its host."""
    values = {
        "AGENCY": node.settings.agency,
        "COUNTRY": node.settings.country,
        "TIMEZONE": node.settings.timezone,
        "GATE": node.settings.gate,
        "BASE_URL": node.settings.base_url,
        "DATA_DIR": node.settings.data_dir,
        "DATABASE_URL": node.settings.database_url,
    }
    if node.settings.lane_targets_file is not None:
        values["LANE_TARGETS_FILE"] = str(node.settings.lane_targets_file)
    path.write_text("".join(f"CROSSBORDER_{k}={v}\n" for k, v in values.items()), "utf-8")
    return path


Side = tuple[Node, Path]


@contextmanager
def two_sides(
    make_db_url: Callable[[str], str], tmp_path: Path, **settings: Any
) -> Iterator[tuple[Side, Side]]:
    """Two nodes serving on loopback with their staff, each with its settings file; real clock."""
    vn = make_node("vn", make_db_url("vn"), tmp_path, lambda: datetime.now(UTC), **settings)
    cn = make_node("cn", make_db_url("cn"), tmp_path, lambda: datetime.now(UTC), **settings)
    for node in (vn, cn):
        register_staff(node)
    connect(vn, cn, tmp_path)
    connect(cn, vn, tmp_path)
    with serving(vn), serving(cn):
        yield (
            (vn, settings_file(vn, tmp_path / "vn.env")),
            (cn, settings_file(cn, tmp_path / "cn.env")),
        )
    vn.close()
    cn.close()


@pytest.fixture
def sides(make_db_url: Callable[[str], str], tmp_path: Path) -> Iterator[tuple[Side, Side]]:
    with two_sides(make_db_url, tmp_path) as both:
        yield both


def command(config: Path, *arguments: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "crossborder", *arguments, "--lang", lang],
        # Wide enough that no sentence is folded across lines.
        env={**os.environ, "CROSSBORDER_SETTINGS_FILE": str(config), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def lane(config: Path, *arguments: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    return command(config, "lane", *arguments, lang=lang)


def status(node: Node, case_id: str) -> str:
    return case_view(node, case_id).case.status


def test_an_officer_takes_a_truck_from_notice_to_release_and_reads_the_times(
    sides: tuple[Side, Side],
) -> None:
    (vn_node, vn), (cn_node, cn) = sides
    notified = lane(vn, "notify", str(NOTICE), "--to", "CN-NNCUS")
    assert notified.returncode == 0, notified.stderr
    case_id = re.search(r"VN-CUSKV6-\d{8}-[0-9A-F]{6}", notified.stdout)
    assert case_id is not None, notified.stdout
    case = case_id.group()
    wait_for(lambda: status(vn_node, case) == "decided")

    assert lane(cn, "arrive", case).returncode == 0
    queued = lane(cn, "queue", "--gate", "CNYYG")
    assert queued.returncode == 0 and case in queued.stdout
    # The Form E it names is not held here: yellow, and no release before the joint inspection.
    refused = lane(cn, "release", case)
    assert refused.returncode == 1
    assert "LANE_NOT_INSPECTED" in refused.stdout + refused.stderr

    inspected = lane(cn, "inspect", case, str(FINDINGS), "--result", "passed")
    assert inspected.returncode == 0, inspected.stderr
    wait_for(lambda: status(vn_node, case) == "arrived")
    assert lane(vn, "countersign", case).returncode == 0
    wait_for(lambda: status(cn_node, case) == "inspected")
    assert lane(cn, "release", case).returncode == 0
    wait_for(lambda: status(vn_node, case) == "released")

    # The period is days of the gate's own calendar: after 16:00 UTC, Nanning is a day on.
    today = datetime.now(ZoneInfo(cn_node.timezone)).date()
    period = ["--gate", "CNYYG", "--from", f"{today - timedelta(days=1)}", "--to", f"{today}"]
    table = lane(cn, "stats", *period, lang="zh_Hans")
    assert table.returncode == 0 and "黄" in table.stdout
    csv = lane(cn, "stats", *period, "--format", "csv", lang="vi")
    assert csv.returncode == 0
    header, *rows = csv.stdout.lstrip("\ufeff").splitlines()
    assert "Trung vị" in header or "trung vị" in header.lower(), header
    assert len(rows) >= 3
    svg = lane(cn, "stats", *period, "--format", "svg")
    assert svg.returncode == 0 and svg.stdout.startswith("<svg")

    # Released within every target: there is no delay to explain.
    within = lane(cn, "delay-reason", case)
    assert within.returncode == 1
    assert "LANE_RELEASED_WITHIN_TARGET" in within.stdout + within.stderr
    unknown = lane(cn, "arrive", "CN-NNCUS-20261127-000000")
    assert unknown.returncode == 1


#: Targets a node publishes with no slack for the release: every truck released is late.
#: The other steps keep the shipped targets, so the release alone is to be explained.
NO_SLACK = {
    "decision": {"green": 5, "yellow": 5, "red": 5},
    "inspection": {"yellow": 60, "red": 180},
    "release": {"green": 0, "yellow": 0, "red": 0},
}


@pytest.fixture
def no_slack(make_db_url: Callable[[str], str], tmp_path: Path) -> Iterator[tuple[Side, Side]]:
    """Both nodes measure against :data:`NO_SLACK`, named in their settings."""
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps(NO_SLACK), "utf-8")
    with two_sides(make_db_url, tmp_path, lane_targets_file=targets) as both:
        yield both


def record_held(node: Node, case_id: str) -> bool:
    with node.sessions() as session:
        digest = session.scalar(
            select(LaneTruckRow.record_digest).where(LaneTruckRow.case_id == case_id)
        )
    return digest is not None


def released(vn: Node, cn: Node) -> str:
    """A truck notified, inspected jointly and released, each step as its side records it."""
    notice = LaneNotice.model_validate_json(NOTICE.read_bytes())
    sent = lane_steps.notify(vn, notice, cn.agency, Actor.officer("officer", vn.agency))
    wait_for(lambda: status(vn, sent.case_id) == "decided")
    officer = Actor.officer("officer", cn.agency)
    lane_steps.arrive(cn, sent.case_id, officer)
    found = (InspectionFinding(kind=FindingKind.NONE_FOUND),)
    lane_inspection.inspect(cn, sent.case_id, found, InspectionResult.PASSED, officer)
    wait_for(lambda: record_held(vn, sent.case_id))
    lane_inspection.countersign(vn, sent.case_id, Actor.officer("officer", vn.agency))
    wait_for(lambda: status(cn, sent.case_id) == "inspected")
    lane_steps.release(cn, sent.case_id, officer)
    wait_for(lambda: status(vn, sent.case_id) == "released")
    return sent.case_id


def test_a_release_past_its_target_is_explained_in_writing_in_the_language_asked(
    no_slack: tuple[Side, Side],
) -> None:
    (vn_node, vn), (cn_node, cn) = no_slack
    case = released(vn_node, cn_node)

    # A trader asks Nanning, answered in Vietnamese; then Lạng Sơn, in Chinese: either side can.
    for config, locale in ((cn, "vi"), (vn, "zh_Hans")):
        asked = lane(config, "delay-reason", case, lang=locale)
        assert asked.returncode == 0, asked.stdout + asked.stderr
        lines = asked.stdout.splitlines()
        yellow = translate("lane.yellow", locale)
        assert lines[0] == translate(
            "cli.lane.delay_reason.head", locale, case_id=case, lane=yellow
        )
        # Only the release passed its target, by the minutes it took (whatever they were).
        late = translate(
            "cli.lane.delay_reason.step",
            locale,
            step=translate("lane_step.release", locale),
            minutes="\0",
            target=0,
        )
        before, after = late.split("\0")
        assert lines[1].startswith(before) and lines[1].endswith(after), lines
        assert re.fullmatch(r"\d+\.\d", lines[1][len(before) : -len(after)]), lines
        found = translate("lane_finding.none_found", locale)
        assert lines[2:] == [translate("cli.lane.delay_reason.finding", locale, finding=found)]
    # The request and the answer are on each side's trail.
    for node in (cn_node, vn_node):
        events = [entry.event for entry in case_view(node, case).audit]
        assert "lane.delay_reason_given" in events


def refused(done: subprocess.CompletedProcess[str], code: str) -> None:
    """Refused: exit 1 and the stable code printed (and no traceback, see :func:`command`)."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert code in done.stdout + done.stderr, done.stdout + done.stderr


def case_id_in(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"VN-CUSKV6-\d{8}-[0-9A-F]{6}", done.stdout)
    assert found is not None, done.stdout
    return found.group()


def written(path: Path, data: dict[str, Any]) -> str:
    path.write_text(json.dumps(data), "utf-8")
    return str(path)


def offline_settings(tmp_path: Path, side: str) -> Path:
    """The settings of a node with its staff that is not serving: its commands need no peer."""
    node = make_node(side, f"sqlite:///{tmp_path / side}.db", tmp_path, lambda: datetime.now(UTC))
    register_staff(node)
    node.close()
    return settings_file(node, tmp_path / f"{side}.env")


def test_a_targets_file_that_cannot_be_read_is_one_coded_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.env"
    missing = tmp_path / "no-such-targets.json"
    cn = offline_settings(tmp_path, "cn")
    broken.write_text(cn.read_text("utf-8") + f"CROSSBORDER_LANE_TARGETS_FILE={missing}\n")
    today = f"{datetime.now(UTC).date()}"
    stats = lane(broken, "stats", "--from", today, "--to", today)
    assert stats.returncode == 2
    assert "LANE_TARGETS_FILE_INVALID" in stats.stdout + stats.stderr
    # The node itself does not start on it.
    serve = command(broken, "node", "serve")
    assert serve.returncode == 2
    assert "LANE_TARGETS_FILE_INVALID" in serve.stdout + serve.stderr


def test_a_notice_or_an_arrival_that_cannot_be_is_refused_with_its_code(tmp_path: Path) -> None:
    """Refused on the officer's own node before anything is recorded or sent."""
    offline = {side: offline_settings(tmp_path, side) for side in ("vn", "cn")}
    notice = json.loads(NOTICE.read_text("utf-8"))
    # A gate nobody knows, a gate the truck would leave by, a plate of no country's format.
    for name, changed, code in (
        ("unknown-gate", {**notice, "gate": "CNXXX"}, "GATE_UNKNOWN"),
        ("exit-gate", {**notice, "gate": "VN-HUUNGHI"}, "LANE_GATE_NOT_ENTRY"),
        (
            "bad-plate",
            {**notice, "truck": {**notice["truck"], "plate": "ABC-1"}},
            "PLATE_FORMAT_INVALID",
        ),
    ):
        notice_file = written(tmp_path / f"{name}.json", changed)
        refused(lane(offline["vn"], "notify", notice_file, "--to", "CN-NNCUS"), code)
    # An arrival for a truck never notified.
    refused(lane(offline["cn"], "arrive", "VN-CUSKV6-20261127-000000"), "LANE_CASE_UNKNOWN")


def test_a_second_notice_a_half_signed_record_a_revoked_certificate_and_a_closed_gate(
    sides: tuple[Side, Side], tmp_path: Path
) -> None:
    (vn_node, vn), (cn_node, cn) = sides
    case = case_id_in(lane(vn, "notify", str(NOTICE), "--to", "CN-NNCUS"))
    # The same truck and trip (the notice's reference) notified a second time.
    refused(lane(vn, "notify", str(NOTICE), "--to", "CN-NNCUS"), "LANE_NOTICE_ALREADY_SENT")
    wait_for(lambda: status(vn_node, case) == "decided")
    assert lane(cn, "arrive", case).returncode == 0
    assert lane(cn, "inspect", case, str(FINDINGS), "--result", "passed").returncode == 0
    # A record signed by one side only: its writer cannot sign it twice, and the truck
    # is not released before the other side has signed it too.
    refused(lane(cn, "countersign", case), "LANE_ALREADY_SIGNED")
    refused(lane(cn, "release", case), "LANE_NOT_INSPECTED")

    # A notice naming a certificate of origin that was revoked: red, by that rule.
    form_e = FormE.model_validate_json(
        (EXAMPLES / "payloads" / "form-e-dragon-fruit.json").read_bytes()
    )
    officer = Actor.officer("officer", vn_node.agency)
    shared = certificate_of_origin.share(vn_node, form_e, cn_node.agency, officer)
    wait_for(lambda: status(vn_node, shared.case_id) == "accepted")
    withdrawn = FreeText(lang="vi", text="Cấp nhầm.")
    co_amendment.revoke(vn_node, shared.case_id, withdrawn, officer)
    wait_for(lambda: status(cn_node, shared.case_id) == "revoked")
    notice = json.loads(NOTICE.read_text("utf-8"))
    naming = {
        **notice,
        "reference": "VN-CUSKV6-PAN-2026-1127-0089",
        "documents": {**notice["documents"], "certificate_of_origin": form_e.certificate_number},
    }
    notice_file = written(tmp_path / "revoked.json", naming)
    red = case_id_in(lane(vn, "notify", notice_file, "--to", "CN-NNCUS"))
    wait_for(lambda: status(vn_node, red) == "decided")
    shown = command(vn, "case", "show", red)
    assert shown.returncode == 0 and "red lane" in shown.stdout
    assert "CO_INVALID" in shown.stdout, shown.stdout

    # A truck expected while its gate is closed (19:00 on a Friday at Pingxiang, which lets
    # no perishables through after hours) is not refused: it is told when the gate opens.
    late = {**notice, "reference": "VN-CUSKV6-PAN-2026-1127-0090", "gate": "CNPIN"}
    late["expected_arrival"] = "2026-11-27T11:00:00Z"
    closed = case_id_in(lane(vn, "notify", written(tmp_path / "closed.json", late)))
    wait_for(lambda: status(vn_node, closed) == "decided")
    shown = command(vn, "case", "show", closed)
    assert shown.returncode == 0 and "GATE_CLOSED_AT_ARRIVAL" in shown.stdout, shown.stdout


def test_a_notice_whose_goods_its_form_e_does_not_list_is_refused_in_the_officer_s_language(
    sides: tuple[Side, Side], tmp_path: Path
) -> None:
    """Refused at Lạng Sơn, which holds the Form E it names: nothing queued, no case opened."""
    (vn_node, vn), (cn_node, _) = sides
    form_e = FormE.model_validate_json(
        (EXAMPLES / "payloads" / "form-e-dragon-fruit.json").read_bytes()
    )
    officer = Actor.officer("officer", vn_node.agency)
    shared = certificate_of_origin.share(vn_node, form_e, cn_node.agency, officer)
    wait_for(lambda: status(vn_node, shared.case_id) == "accepted")
    notice = json.loads(NOTICE.read_text("utf-8"))
    # The Form E lists dragon fruit (0810.90); the truck is declared to carry tomatoes.
    tomatoes = {**notice["lines"][0], "hs_code": "070200", "description": "Cà chua tươi"}
    naming = {
        **notice,
        "lines": [tomatoes],
        "documents": {**notice["documents"], "certificate_of_origin": form_e.certificate_number},
    }
    # Every message of the Form E's exchange delivered and acted on, on both sides.
    wait_for(lambda: settled(vn_node) and settled(cn_node))
    before = {node.agency: held_rows(node) for node in (vn_node, cn_node)}

    done = lane(
        vn, "notify", written(tmp_path / "tomatoes.json", naming), "--to", "CN-NNCUS", lang="vi"
    )

    refused(done, "LANE_LINES_NOT_ON_CERTIFICATE")
    said = error_message(
        "LANE_LINES_NOT_ON_CERTIFICATE", "vi", hs_code="070200", certificate="VN-CN26/00123"
    )
    assert f"LANE_LINES_NOT_ON_CERTIFICATE: {said}" in done.stderr, done.stderr
    assert said != error_message(
        "LANE_LINES_NOT_ON_CERTIFICATE", "en", hs_code="070200", certificate="VN-CN26/00123"
    )
    assert {node.agency: held_rows(node) for node in (vn_node, cn_node)} == before
    # No truck on either side, and no notice queued for Nanning.
    assert before["VN-CUSKV6"]["lane_trucks"] == before["CN-NNCUS"]["lane_trucks"] == 0
    with vn_node.sessions() as session:
        assert "lane.notice" not in session.scalars(select(OutboxMessage.type)).all()


def settled(node: Node) -> bool:
    """Nothing left for ``node``'s loops: no message waiting to go out or to be acted on."""
    with node.sessions() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING)
        )
        unprocessed = session.scalar(
            select(func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.status == InboxStatus.RECEIVED)
        )
    return waiting == unprocessed == 0


def held_rows(node: Node) -> dict[str, int]:
    """How many cases, trucks, outbox and audit rows ``node`` holds."""
    tables = (Case, LaneTruckRow, OutboxMessage, AuditEntry)
    with node.sessions() as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in tables
        }
