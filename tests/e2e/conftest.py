"""Fixtures several end-to-end modules share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import connect, make_node


@pytest.fixture
def three(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node, Node]]:
    """(VN-CUSKV6, VN-PPD, CN-NNCUS): Lạng Sơn's customs and plant protection, Nanning.

    Each of the two is a counterpart of Nanning, and Nanning of each. Nanning
    draws no truck at random (rate 0), so a lane follows from the documents.
    """
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    ppd = make_node("vn", make_db_url("ppd"), tmp_path / "ppd", clock, agency="VN-PPD")
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock, lane_random_selection_percent=0)
    for exporting in (vn, ppd):
        connect(exporting, cn, tmp_path)
        connect(cn, exporting, tmp_path)
    yield vn, ppd, cn
    for node in (vn, ppd, cn):
        node.close()
