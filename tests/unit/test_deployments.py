"""Every officer workflow is offered as a deployment whose form is its pydantic input."""

from __future__ import annotations

from flows.serve import OFFICER_FLOWS, deployments


def test_each_officer_flow_and_the_watcher_is_deployed_under_the_nodes_agency() -> None:
    """Two nodes serve their flows on one Prefect server: deployment names must not collide."""
    served = deployments("VN-CUSKV6")
    assert [d.flow_name for d in served] == [  # type: ignore[attr-defined]
        *(flow.name for flow in OFFICER_FLOWS),
        "watch-deadlines",
    ]
    assert {d.name for d in served} == {"VN-CUSKV6"}  # type: ignore[attr-defined]


def test_the_reply_form_asks_for_the_reply_model() -> None:
    reply = next(d for d in deployments("CN-NNCUS") if d.flow_name == "reply-origin-verification")  # type: ignore[attr-defined]
    schema = reply._parameter_openapi_schema  # type: ignore[attr-defined]
    assert list(schema.properties) == ["request"]
    assert "VerificationReply" in schema.definitions
