"""``crossborder outbox``, ``counterpart list|remove``, ``client list|remove``, as run by officers.

The node's state is made through the services; the commands run as separate
invocations on the same database, in the officer's language.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from crossborder.adapters.counterpart import classify
from crossborder.adapters.db.tables import AuditEntry, OutboxMessage
from crossborder.cli.main import app
from crossborder.domain.messages import CoShareMessage, CoSharePayload
from crossborder.services.delivery import claim_due, record_outcome
from crossborder.services.node import Node
from crossborder.services.outbox import enqueue, new_message
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node, register_staff

runner = CliRunner()
CASE_ID = "CN-NNCUS-20261127-00A1B2"
#: The counterpart's own words, with brackets that must not be read as console markup.
WORDS = "Mã thông báo truy cập không cấp phạm vi quyền [bold]sps:write[/bold]."


@pytest.fixture
def cn(tmp_path: Path, clock: Clock) -> Iterator[Node]:
    node = make_node("cn", f"sqlite:///{tmp_path / 'cn.db'}", tmp_path, clock)
    vn = make_node("vn", f"sqlite:///{tmp_path / 'vn.db'}", tmp_path, clock)
    connect(node, vn, tmp_path)
    register_staff(node)
    vn.close()
    yield node
    node.close()


@pytest.fixture
def config(cn: Node, tmp_path: Path) -> Path:
    path = tmp_path / "cn.env"
    path.write_text(
        "CROSSBORDER_AGENCY=CN-NNCUS\nCROSSBORDER_COUNTRY=CN\nCROSSBORDER_TIMEZONE=Asia/Shanghai\n"
        f"CROSSBORDER_BASE_URL=http://127.0.0.1:9\nCROSSBORDER_DATA_DIR={tmp_path / 'cn'}\n"
        f"CROSSBORDER_DATABASE_URL={cn.settings.database_url}\n",
        "utf-8",
    )
    return path


def cli(config: Path, *arguments: str) -> Result:
    """A command as the node's operator runs it: resending and removing are theirs."""
    return runner.invoke(app, [*arguments, "--officer", "operator", "--config", str(config)])


def refused_message(node: Node, recipient: str = "VN-CUSKV6") -> str:
    message = new_message(
        node,
        CoShareMessage,
        recipient=recipient,
        case_id=CASE_ID,
        payload=CoSharePayload(certificate=form_e()),
    )
    with node.transaction() as session:
        message_id = enqueue(session, node, message).message_id
    (claim,) = claim_due(node, 1, message_id)
    answer = {"error": {"code": "SCOPE_MISSING", "message": WORDS, "details": []}}
    record_outcome(node, claim, classify(httpx.Response(403, json=answer)))
    return message_id


def flat(text: str) -> str:
    """Output without its layout: table cells wrap long texts over several lines."""
    return "".join(char for char in text if not char.isspace() and char not in "│┃")


def column(output: str, index: int) -> str:
    """The text of one column of a table's rows, over all the lines its cells wrap onto."""
    rows = [line for line in output.splitlines() if line.startswith("│")]
    return " ".join(line.split("│")[index + 1].strip() for line in rows)


def audit_length(node: Node) -> int:
    with node.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_the_refused_message_is_listed_whole_with_the_counterparts_words(
    cn: Node, config: Path
) -> None:
    message_id = refused_message(cn)

    shown = cli(config, "outbox", "list", "--refused", "--lang", "vi")

    assert shown.exit_code == 0, shown.output
    # Ids whole, each on a line of its own, on an 80-column screen; nothing cut short.
    assert message_id in shown.output and CASE_ID in shown.output
    assert "…" not in shown.output
    assert flat(column(shown.output, 3)).startswith(flat(f"HTTP 403 SCOPE_MISSING {WORDS}"))
    assert flat(column(shown.output, 2)).startswith(flat("C/O mẫu E bị từ chối: cán bộ cần xử lý"))
    assert flat("crossborder outbox resend MESSAGE_ID") in flat(shown.output)


def test_an_empty_selection_says_so_in_the_officers_language(cn: Node, config: Path) -> None:
    refused_message(cn)
    shown = cli(config, "outbox", "list", "--queued", "--lang", "zh_Hans")
    assert shown.exit_code == 0
    assert "发件箱中没有符合条件的报文。" in shown.output


def test_resend_queues_the_message_tries_it_and_says_how_it_went(cn: Node, config: Path) -> None:
    message_id = refused_message(cn)

    resent = cli(config, "outbox", "resend", message_id, "--lang", "en")

    assert resent.exit_code == 0, resent.output
    # Nothing listens at the counterpart's address: back in the queue, retried by the node.
    said = " ".join(resent.output.split())
    assert f"Message {message_id} of case {CASE_ID} is back in the queue" in said
    assert "queued; it will be sent as soon as the counterpart is reachable" in said
    with cn.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        events = list(session.scalars(select(AuditEntry.event).order_by(AuditEntry.seq)))
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "NETWORK:ConnectError")
    assert events[-2:] == ["message.resend_requested", "message.delivery_deferred"]


def test_resend_of_an_unknown_message_is_a_coded_error_and_changes_nothing(
    cn: Node, config: Path
) -> None:
    refused_message(cn)
    before = audit_length(cn)

    refused = cli(
        config, "outbox", "resend", "0196a4c2-0000-7000-8000-00000000ffff", "--lang", "vi"
    )

    assert refused.exit_code == 1
    assert "MESSAGE_UNKNOWN" in refused.stderr and "Nút này không có thông điệp" in refused.stderr
    assert audit_length(cn) == before


def test_counterparts_and_clients_are_listed_and_removed(cn: Node, config: Path) -> None:
    refused_message(cn)

    counterparts = cli(config, "counterpart", "list", "--lang", "en")
    clients = cli(config, "client", "list", "--lang", "vi")

    assert counterparts.exit_code == clients.exit_code == 0, counterparts.output
    assert column(counterparts.output, 0).startswith("VN-CUSKV6 Regional Customs Branch VI")
    assert "VN-CUSKV6-sig-1" in flat(column(counterparts.output, 1))
    assert flat(column(counterparts.output, 3)) == flat("waiting: 0 refused: 1")
    assert column(clients.output, 0).startswith("VN-CUSKV6")
    assert "sps:write" in flat(column(clients.output, 2))

    assert cli(config, "client", "remove", "VN-CUSKV6").exit_code == 0
    assert cli(config, "counterpart", "remove", "VN-CUSKV6").exit_code == 0
    assert "No counterpart agency is registered." in cli(config, "counterpart", "list").output
    gone = cli(config, "client", "remove", "VN-CUSKV6", "--lang", "zh_Hans")
    assert gone.exit_code == 1 and "CLIENT_UNKNOWN" in gone.stderr


def test_a_counterpart_with_queued_messages_is_not_removed(cn: Node, config: Path) -> None:
    message_id = refused_message(cn)
    assert cli(config, "outbox", "resend", message_id).exit_code == 0

    refused = cli(config, "counterpart", "remove", "VN-CUSKV6", "--lang", "en")

    assert refused.exit_code == 1
    assert "COUNTERPART_HAS_QUEUED_MESSAGES" in refused.stderr
    assert "still waiting in the outbox: 1" in " ".join(refused.stderr.split())
