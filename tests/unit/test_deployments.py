"""Every officer workflow is offered as a deployment whose form is its pydantic input."""

from __future__ import annotations

from flows.serve import OFFICER_FLOWS, deployments


def test_each_officer_flow_and_the_watcher_is_deployed() -> None:
    names = [deployment.name for deployment in deployments()]  # type: ignore[attr-defined]
    assert names == [flow.name for flow in OFFICER_FLOWS] + ["deadline-watcher"]


def test_the_reply_form_asks_for_the_reply_model() -> None:
    reply = next(d for d in deployments() if d.name == "reply-origin-verification")  # type: ignore[attr-defined]
    schema = reply._parameter_openapi_schema  # type: ignore[attr-defined]
    assert list(schema.properties) == ["request"]
    assert "VerificationReply" in schema.definitions
