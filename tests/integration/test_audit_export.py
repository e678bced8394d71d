"""The audit trail as CSV opens in a spreadsheet, in the reader's language and zone.

Headers are in the reader's language, each time is given in the reader's zone
and in UTC, and the file starts with a UTF-8 byte order mark so that Excel
shows Vietnamese and Chinese as they were written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crossborder.cli.main import app
from crossborder.domain.actors import Actor
from crossborder.domain.alerts import AlertContent
from crossborder.domain.errors import InvalidInput
from crossborder.i18n import LOCALES
from crossborder.services import alerts
from crossborder.services.audit_export import ExportFormat, write_audit
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import make_node, register_staff

OFFICER_VN = Actor.officer("nguyen.van.an", "VN-CUSKV6")
BOM = b"\xef\xbb\xbf"
#: What a Vietnamese officer wrote: it must come back byte for byte, diacritics and all.
VIETNAMESE = "Phát hiện lô thanh long nhiễm khuẩn Salmonella; đề nghị phía bạn phối hợp xử lý."


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def config_file(node: Node, folder: Path) -> Path:
    """The settings of ``node``, as ``--config`` takes them: the command opens the same node."""
    settings = node.settings
    path = folder / f"{settings.agency}.env"
    path.write_text(
        f"CROSSBORDER_AGENCY={settings.agency}\nCROSSBORDER_COUNTRY={settings.country}\n"
        f"CROSSBORDER_TIMEZONE={settings.timezone}\nCROSSBORDER_BASE_URL={settings.base_url}\n"
        f"CROSSBORDER_DATA_DIR={settings.data_dir}\n"
        f"CROSSBORDER_DATABASE_URL={settings.database_url}\n",
        "utf-8",
    )
    return path


def food_alert() -> AlertContent:
    return AlertContent.model_validate(
        {
            "category": "food_safety",
            "severity": "moderate",
            "urgency": "expected",
            "certainty": "likely",
            "kind": "alert",
            "description": {"lang": "vi", "text": VIETNAMESE},
            "handling": {"audience": "all"},
        }
    )


@pytest.fixture
def vn(make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node("vn", make_db_url("vn"), tmp_path, clock)
    yield node
    node.close()


HEADERS = {
    "zh_Hans": [
        "序号",
        "时间（Asia/Ho_Chi_Minh）",
        "时间（UTC）",
        "事件代码",
        "案件编号",
        "执行方",
        "记录内容",
        "附注（原文）",
        "条目哈希值（RFC 9162 叶节点）",
    ],
    "vi": [
        "STT",
        "Thời gian (Asia/Ho_Chi_Minh)",
        "Thời gian (UTC)",
        "Mã sự kiện",
        "Số vụ việc",
        "Bên thực hiện",
        "Nội dung ghi nhận",
        "Ghi chú (nguyên văn)",
        "Giá trị băm của mục (nút lá RFC 9162)",
    ],
    "en": [
        "No.",
        "Time (Asia/Ho_Chi_Minh)",
        "Time (UTC)",
        "Event code",
        "Case",
        "Actor",
        "Entry",
        "Note (as written)",
        "Entry hash (RFC 9162 leaf)",
    ],
}


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM) and not data.startswith(BOM * 2)
    return list(csv.reader(io.StringIO(data[len(BOM) :].decode("utf-8"), newline="")))


@pytest.mark.parametrize("locale", LOCALES)
def test_the_csv_export_speaks_the_readers_language_and_gives_both_times(
    vn: Node, clock: Clock, locale: str
) -> None:
    clock.now = utc(2026, 12, 4, 16, 30)  # 23:30 in Lạng Sơn
    case_id = alerts.raise_alert(vn, food_alert(), "CN-NNCUS", OFFICER_VN).case_id
    out = io.BytesIO()
    write_audit(vn, out, ExportFormat.CSV, locale=locale, tz="Asia/Ho_Chi_Minh")

    header, *rows = read_csv(out.getvalue())
    assert header == HEADERS[locale]
    by_event = {row[3]: row for row in rows}
    raised = by_event["alert.raise"]
    assert raised[1:3] == ["2026-12-04 23:30:00", "2026-12-04 16:30:00"]
    assert raised[4] == case_id
    assert raised[7] == f"[vi] {VIETNAMESE}"
    # The acknowledgement is due on the Chinese side's clock; the reader reads it on theirs.
    due = by_event["deadline.registered"][6]
    assert "(+07:00)" in due and "+08:00" not in due


def test_the_csv_export_from_the_command_line(tmp_path: Path, clock: Clock) -> None:
    # SQLite only: the command opens a node of its own and leaves it.
    vn = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock)
    alerts.raise_alert(vn, food_alert(), "CN-NNCUS", OFFICER_VN)
    register_staff(vn)
    vn.close()
    config = config_file(vn, tmp_path)
    runner = CliRunner(env={"CROSSBORDER_OFFICER": "auditor"})

    exported = runner.invoke(
        app, ["audit", "export", "--format", "csv", "--lang", "vi", "--config", str(config)]
    )
    assert exported.exit_code == 0, exported.output
    header, *rows = read_csv(exported.stdout_bytes)
    # The node's own zone unless the reader names another; 02:00 UTC is 09:00 in Lạng Sơn.
    assert header[1:3] == ["Thời gian (Asia/Ho_Chi_Minh)", "Thời gian (UTC)"]
    assert ["2026-11-27 09:00:00", "2026-11-27 02:00:00"] in [row[1:3] for row in rows]
    assert f"[vi] {VIETNAMESE}" in [row[7] for row in rows]

    lines = runner.invoke(app, ["audit", "export", "--config", str(config)]).stdout_bytes
    assert not lines.startswith(BOM)  # JSON lines are for programs: no mark
    first = json.loads(lines.decode("utf-8").splitlines()[0])
    assert first["occurred_at"] == "2026-11-27T02:00:00+00:00" and "params" in first

    in_nanning = runner.invoke(
        app,
        ["audit", "export", "--format", "csv", "--tz", "Asia/Shanghai", "--config", str(config)],
    )
    header, *rows = read_csv(in_nanning.stdout_bytes)
    assert header[1:3] == ["Time (Asia/Shanghai)", "Time (UTC)"]
    assert ["2026-11-27 10:00:00", "2026-11-27 02:00:00"] in [row[1:3] for row in rows]

    refused = runner.invoke(
        app,
        ["audit", "export", "--format", "csv", "--tz", "Asia/Hanoi_City", "--config", str(config)],
    )
    assert refused.exit_code == 2  # a usage mistake
    assert "TIMEZONE_UNKNOWN" in refused.stderr and "Asia/Hanoi_City" in refused.stderr
    assert refused.stdout_bytes == b""  # refused before anything was written


def test_an_unknown_zone_writes_nothing(vn: Node) -> None:
    out = io.BytesIO()
    with pytest.raises(InvalidInput) as refused:
        write_audit(vn, out, ExportFormat.CSV, locale="vi", tz="Mars/Olympus_Mons")
    assert refused.value.code == "TIMEZONE_UNKNOWN"
    assert out.getvalue() == b""
