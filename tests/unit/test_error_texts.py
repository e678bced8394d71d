"""Error texts name statuses, steps, audiences and agency kinds in words, not codes."""

from __future__ import annotations

import pytest

from crossborder.i18n import error_message, translate


@pytest.mark.parametrize("locale", ["zh_Hans", "vi", "en"])
def test_codes_in_an_error_are_shown_by_their_labels(locale: str) -> None:
    text = error_message("ALERT_TRANSITION_ILLEGAL", locale, status="closed", action="ack")
    assert translate("status.closed", locale) in text
    assert translate("alert_step.ack", locale) in text
    assert "closed" not in text or locale == "en"

    text = error_message(
        "HANDLING_RESTRICTION_NOT_ALLOWED", locale, kind="customs", audience="border_guard"
    )
    assert translate("agency_kind.customs", locale) in text
    assert translate("alert_audience.border_guard", locale) in text
    assert "border_guard" not in text


def test_a_value_without_a_label_is_shown_as_it_is() -> None:
    # The demo reports the step it was waiting for, which is no status code.
    assert "checkpoint" in error_message("DEMO_NOT_ACCEPTED", "en", status="checkpoint")
