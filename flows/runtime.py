"""The node a flow run works on.

Flow parameters must be plain data (they become the deployment's form), so a
flow cannot be handed a :class:`~crossborder.bootstrap.Node`. A worker process
builds its node once from its environment settings; the CLI, the demo and the
tests install the node they already have with :func:`use`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from pydantic import BaseModel

from crossborder.bootstrap import bootstrap
from crossborder.domain.actors import Actor
from crossborder.domain.officers import Permission
from crossborder.services.node import Node
from crossborder.services.officers import acting_officer
from crossborder.settings import Settings

_current: ContextVar[Node | None] = ContextVar("crossborder_node", default=None)
_from_environment: list[Node] = []


@contextmanager
def use(node: Node) -> Iterator[Node]:
    token = _current.set(node)
    try:
        yield node
    finally:
        _current.reset(token)


def current_node() -> Node:
    node = _current.get()
    if node is not None:
        return node
    if not _from_environment:
        _from_environment.append(bootstrap(Settings()))
    return _from_environment[0]


def named_officer(name: str) -> Actor:
    """The officer a run's form names: registered at this node, and allowed to act.

    A deployment's form is filled in by whoever can reach the Prefect UI, so the
    name is checked like the command line's ``--officer``.
    """
    return acting_officer(current_node(), Permission.ACT, name)


class Sent(BaseModel):
    """What every officer flow returns: the case, the message it sent, how far delivery got."""

    case_id: str
    message_id: str
    delivery: str
