"""``crossborder lane`` as an officer types it, against two real nodes, on SQLite and PostgreSQL.

Each command is a process of its own, as a person runs it, acting on the node
serving on the same host; a refusal is one coded line and an exit code, never
a traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
    path.write_text("".join(f"CROSSBORDER_{k}={v}\n" for k, v in values.items()), "utf-8")
    return path


Side = tuple[Node, Path]


@pytest.fixture
def sides(make_db_url: Callable[[str], str], tmp_path: Path) -> Iterator[tuple[Side, Side]]:
    """Two nodes serving on loopback with their staff, each with its settings file; real clock."""
    vn = make_node("vn", make_db_url("vn"), tmp_path, lambda: datetime.now(UTC))
    cn = make_node("cn", make_db_url("cn"), tmp_path, lambda: datetime.now(UTC))
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


def lane(config: Path, *arguments: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "crossborder", "lane", *arguments, "--lang", lang],
        env={**os.environ, "CROSSBORDER_SETTINGS_FILE": str(config)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


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

    today = datetime.now(UTC).date()
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
