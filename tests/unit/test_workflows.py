"""The workflows the composition root gives a node: every message type admitted, none twice."""

from __future__ import annotations

import pytest

from crossborder.bootstrap import workflows
from crossborder.domain.messages import MessageType
from crossborder.reference.alert_ack_rules import ACK_RULE
from crossborder.services import alerts, non_compliance
from crossborder.services.node import WorkflowHandlers


def test_every_message_type_of_the_contract_is_admitted_by_a_workflow() -> None:
    assert set(workflows().admit) == set(MessageType)


def test_reactions_and_escalations_belong_to_the_workflows_that_own_them() -> None:
    handlers = workflows()
    assert handlers.react[MessageType.ALERT_RAISE] is alerts.acknowledge_by_rule
    assert handlers.escalate[ACK_RULE] is alerts.escalate
    assert handlers.escalate[non_compliance.ACK_RULE] is non_compliance.escalate


def test_two_workflows_cannot_claim_one_message_type() -> None:
    def admit(*_: object) -> None: ...

    one = WorkflowHandlers(admit={MessageType.CO_SHARE: admit})
    with pytest.raises(ValueError, match="co.share"):
        one + WorkflowHandlers(admit={MessageType.CO_SHARE: admit})
