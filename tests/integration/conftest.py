"""Fixtures several integration modules share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import make_node, register_staff


@pytest.fixture
def guard_node(tmp_path: Path, clock: Clock) -> Iterator[Node]:
    """A Chinese border-guard node on SQLite, for commands that each open a node of their own."""
    node = make_node("cn", f"sqlite:///{tmp_path / 'cli.db'}", tmp_path, clock, agency="CN-GXBC")
    register_staff(node)
    yield node
    node.close()


@pytest.fixture
def guard_config(guard_node: Node, tmp_path: Path) -> Path:
    """The settings file of :func:`guard_node`, as ``--config`` takes it."""
    path = tmp_path / "cn.env"
    path.write_text(
        "CROSSBORDER_AGENCY=CN-GXBC\nCROSSBORDER_COUNTRY=CN\nCROSSBORDER_TIMEZONE=Asia/Shanghai\n"
        f"CROSSBORDER_BASE_URL=http://127.0.0.1:9\nCROSSBORDER_DATA_DIR={tmp_path / 'cn'}\n"
        f"CROSSBORDER_DATABASE_URL={guard_node.settings.database_url}\n",
        "utf-8",
    )
    return path
