"""What a node writes on its disk is its owner's alone, whatever the umask it starts under."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from crossborder.bootstrap import bootstrap
from crossborder.settings import Settings
from tests.factories import SIDES


@pytest.fixture
def open_umask() -> Iterator[None]:
    """Start as a careless service manager might: everything readable and writable by all."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_the_data_folder_database_journals_and_keys_are_not_readable_by_others(
    tmp_path: Path,
) -> None:
    data = tmp_path / "cn-data"
    node = bootstrap(Settings(**SIDES["cn"], base_url="http://127.0.0.1:8401", data_dir=data))
    with node.transaction() as session:  # a write, so that SQLite keeps its WAL files open
        session.execute(text("CREATE TABLE scratch (x INTEGER)"))
        written = {path.name: mode(path) for path in data.rglob("*")}
    node.close()

    assert mode(data) == 0o700
    assert {"node.db", "node.db-wal", "node.db-shm", "keys", "signing.jwk.json"} <= set(written)
    assert written == {name: 0o700 if name == "keys" else 0o600 for name in written}
