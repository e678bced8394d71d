"""The bilateral workflows a case belongs to: one word each, from the CLI to the table."""

from __future__ import annotations

from enum import StrEnum


class Workflow(StrEnum):
    CERTIFICATE_OF_ORIGIN = "certificate_of_origin"
    QUARANTINE = "quarantine"
    ALERT = "alert"
    LANE = "lane"
