"""Recording what an auditor read at the console.

An auditor's reading is part of the record they check: which pages and which
exports they opened, and when, are audit entries like any step.
"""

from __future__ import annotations

from crossborder.audit.trail import record
from crossborder.domain.actors import Actor
from crossborder.services.node import Node


def record_reading(node: Node, actor: Actor, page: str, case_id: str | None = None) -> None:
    with node.transaction() as session:
        record(
            session,
            "console.read",
            actor=actor,
            occurred_at=node.now(),
            source_tz=node.timezone,
            case_id=case_id,
            page=page,
        )
