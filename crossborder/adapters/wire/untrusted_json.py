"""Parsing JSON that nobody has vouched for yet: bounded in depth, one value per member name.

Everything a node reads before a signature is checked — a message's protected
header, the message id it claims, a client assertion, an access token's
header, a counterpart's answer — goes through :func:`parse_untrusted`.
The standard library's parser recurses once per nesting level, so a 10 kB body
of ``[[[[…`` ends in ``RecursionError``; and it lets the last of two members
with the same name win, where another reader may take the first (I-JSON,
RFC 7493 §2.3, forbids both readings). So the depth is measured first, on the
bytes and without recursion, and a repeated member name is refused.
"""

from __future__ import annotations

import json
import re
from typing import Any

from crossborder.domain.errors import InvalidInput

#: No message of the contract nests deeper than about ten levels (an alert's
#: consignment inside its payload inside the envelope); this leaves room without
#: letting a parser anywhere near the interpreter's recursion limit.
MAX_DEPTH = 32

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")
_NOT_A_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def parse_untrusted(data: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``data``, or :class:`InvalidInput` with a stable code.

    ``JSON_TOO_DEEP`` when arrays and objects nest deeper than ``max_depth``,
    ``JSON_DUPLICATE_MEMBER`` when an object names a member twice,
    ``JSON_MALFORMED`` for anything else that is not JSON.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    check_depth(raw, max_depth)
    try:
        return json.loads(raw, object_pairs_hook=_members)
    except ValueError as exc:  # also UnicodeDecodeError, and an integer of 5,000 digits
        raise InvalidInput("JSON_MALFORMED") from exc


def check_depth(raw: bytes, max_depth: int = MAX_DEPTH) -> None:
    """Refuse JSON nested deeper than ``max_depth``, or with brackets that cannot match.

    Escapes, then strings, are taken out; what is left of the brackets is
    reduced by removing every innermost pair, once per level, in linear
    passes: a well-formed text of depth *d* is empty after exactly *d* passes.
    """
    # An escape outside a string is no JSON either, so taking it out everywhere is safe.
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", raw)).translate(None, _NOT_A_BRACKET)
    if re.search(rb"[\[{]{%d}" % (max_depth + 1), brackets):
        # The usual bomb, ``[[[[…``, told at once rather than after max_depth passes.
        raise InvalidInput("JSON_TOO_DEEP", limit=max_depth)
    for _ in range(max_depth):
        if not brackets:
            return
        reduced = _INNERMOST.sub(b"", brackets)
        if len(reduced) == len(brackets):
            # Unbalanced or crossed brackets (outside strings): not JSON at any depth.
            raise InvalidInput("JSON_MALFORMED")
        brackets = reduced
    if brackets:
        raise InvalidInput("JSON_TOO_DEEP", limit=max_depth)


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise InvalidInput("JSON_DUPLICATE_MEMBER", member=printable(name))
            seen.add(name)
    return members


def printable(text: str, limit: int = 64) -> str:
    """``text`` cut to ``limit``, without what cannot be shown or stored (NUL, lone surrogates)."""
    return "".join(c if c.isprintable() else "\ufffd" for c in text[:limit])
