"""The audit log proves itself: leaf hashes, Merkle root, signed checkpoints, witnesses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from crossborder.adapters.db.tables import AuditCheckpoint, AuditEntry
from crossborder.audit import merkle
from crossborder.domain.actors import Actor
from crossborder.services import certificate_of_origin
from crossborder.services.audit_log import checkpoint, prove_entry, unb64, verify_log
from crossborder.services.delivery import deliver_due
from crossborder.services.node import Node
from tests.conftest import Clock
from tests.factories import connect, form_e, make_node, serving

OFFICER = Actor.officer("li.wei", "CN-NNCUS")


@pytest.fixture
def pair(
    make_db_url: Callable[[str], str], tmp_path: Path, clock: Clock
) -> Iterator[tuple[Node, Node]]:
    cn = make_node("cn", make_db_url("cn"), tmp_path, clock)
    vn = make_node("vn", make_db_url("vn"), tmp_path, clock)
    connect(cn, vn, tmp_path)
    connect(vn, cn, tmp_path)
    yield cn, vn
    cn.close()
    vn.close()


def test_an_untouched_log_verifies_and_proves_each_entry(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER)
    checkpoint(cn)
    report = verify_log(cn)
    assert report.ok and report.entries == 3 and report.checkpoints_checked == 1
    for seq in range(report.entries):
        proof = prove_entry(cn, seq)
        assert merkle.verify_inclusion(
            unb64(proof.leaf_hash),
            seq,
            proof.tree_size,
            [unb64(p) for p in proof.proof],
            report.root,
        )


def test_an_edited_entry_is_found(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER)
    with cn.transaction() as session:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.event == "co.shared")
            .values(actor_id="someone.else")
        )
    report = verify_log(cn)
    assert not report.ok
    assert report.problems == ["entry 2 does not match its leaf hash"]


def test_a_dropped_entry_contradicts_the_signed_checkpoint(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER)
    checkpoint(cn)
    with cn.transaction() as session:
        last = session.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq.desc()))
        session.execute(delete(AuditEntry).where(AuditEntry.seq == last))
    report = verify_log(cn)
    assert "checkpoint of size 3: log is shorter" in report.problems


def test_the_counterpart_witnesses_our_checkpoint(pair: tuple[Node, Node]) -> None:
    cn, vn = pair
    certificate_of_origin.share(cn, form_e(), vn.agency, OFFICER)
    ours = checkpoint(cn)
    with serving(vn, run_workers=False):
        statuses = deliver_due(cn)
    assert set(statuses.values()) == {"delivered"}
    with vn.sessions() as session:
        witnessed = session.scalars(
            select(AuditCheckpoint).where(AuditCheckpoint.agency == cn.agency)
        ).one()
    assert witnessed.tree_size == ours.tree_size and witnessed.root_hash == ours.root_hash
    assert verify_log(vn).ok  # the witness entry is itself on VN's log


def test_a_second_checkpoint_without_new_entries_is_the_same_one(pair: tuple[Node, Node]) -> None:
    cn, _ = pair
    first = checkpoint(cn)
    assert checkpoint(cn).id == first.id
