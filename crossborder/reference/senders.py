"""Which kinds of agency may send each message type, from ``data/senders.json``.

A signature proves which agency sent a message, and a scope that its client may
send that workflow's messages; neither says the agency is the right body for
the step. A customs branch must not be able to tell the other side that a
consignment passed plant quarantine, nor a border guard to answer for a
certificate of origin. So each message type names the kinds of agency (see
:data:`crossborder.reference.agencies.AgencyKind`) that may send it, or
``"any"``:

- certificates of origin: customs, on both sides (the issuing authority shares,
  amends, revokes and answers a verification; the importing side's customs
  decides, asks for a verification and says when its answer is late);
- quarantine: the exporting side's plant-protection body sends the result and
  acknowledges a notice of non-compliance; the importing side's border
  inspection — customs in China, where the GACC took over entry quarantine,
  or a quarantine body — decides on recognition and notifies non-compliance;
- alerts: any agency (who may restrict an alert to an audience is the finer
  rule of :func:`crossborder.domain.alerts.check_restriction_allowed`);
- audit checkpoints: any agency, every node witnesses its counterpart's log.

Which *side* of a case may take a step is the workflow's own rule; this table
is about the kind of body only. It is checked twice with the same lookup: the
sending node will not queue such a message, and the receiving node refuses one
from a counterpart whose registered agency is of another kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from crossborder.domain.errors import Forbidden, InvalidInput, Violation
from crossborder.domain.messages import MessageType
from crossborder.domain.validation import violations_from
from crossborder.reference.agencies import AgencyKind, agency

#: A row open to every kind of agency.
ANY: Final = "any"

#: Message type → the kinds that may send it; ``None``: any kind.
SenderTable = Mapping[MessageType, frozenset[str] | None]


def _open_row(value: object) -> object:
    """``"any"`` opens a row to every kind; ``null`` does not (it is no list of kinds)."""
    if value is None:
        raise PydanticCustomError("VALUE_INVALID", 'a row is a list of kinds or "any"')
    return None if value == ANY else value


_ROWS = TypeAdapter(
    dict[
        MessageType,
        Annotated[
            Annotated[frozenset[AgencyKind], Field(min_length=1)] | None,
            BeforeValidator(_open_row),
        ],
    ]
)


def parse_sender_table(raw: str | bytes) -> SenderTable:
    """A sender table from JSON, with a row for every message type and known kinds only.

    ``SENDER_TABLE_INVALID`` lists what is wrong: an unknown message type or
    kind, an empty row, or a message type without a row (``FIELD_MISSING`` at
    that type) — a new message type cannot ship without saying who sends it.
    """
    try:
        rows = _ROWS.validate_json(raw)
    except ValidationError as error:
        raise InvalidInput("SENDER_TABLE_INVALID", violations=violations_from(error)) from None
    missing = [
        Violation("FIELD_MISSING", field=message_type.value)
        for message_type in MessageType
        if message_type not in rows
    ]
    if missing:
        raise InvalidInput("SENDER_TABLE_INVALID", violations=missing)
    return MappingProxyType(rows)


@cache
def sender_table() -> SenderTable:
    """The shipped table (``data/senders.json``)."""
    raw = files("crossborder.reference").joinpath("data", "senders.json").read_bytes()
    return parse_sender_table(raw)


def sender_kinds(message_type: MessageType) -> frozenset[str] | None:
    """The kinds of agency that may send ``message_type``; ``None``: any kind."""
    return sender_table()[message_type]


def check_sender(message_type: MessageType, sender: str) -> None:
    """Agency ``sender`` is of a kind that may send ``message_type``.

    ``SENDER_KIND_NOT_ALLOWED`` otherwise; ``AGENCY_UNKNOWN`` when the type is
    not open to any kind and ``sender`` is not in our register, since its kind
    cannot be known. Two dictionary lookups: it runs for every message sent and
    received.
    """
    allowed = sender_table()[message_type]
    if allowed is None:
        return
    kind = agency(sender).kind
    if kind not in allowed:
        raise Forbidden("SENDER_KIND_NOT_ALLOWED", type=message_type.value, kind=kind)
