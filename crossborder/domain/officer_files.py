"""What an officer hands a node: a JSON file they wrote, and words in a language they name.

The command line reads them from a path, the console from an upload; both go
through these functions, so a file is judged by the same rules and refused with
the same codes whichever way it came.
"""

from __future__ import annotations

import json
from typing import Any

from crossborder.domain.errors import InvalidInput
from crossborder.domain.free_text import FreeText, LanguageTag
from crossborder.domain.validation import schema_checked

_LANGUAGE_TAGS: dict[str, LanguageTag] = {
    "zh": "zh-Hans",
    "zh-hans": "zh-Hans",
    "vi": "vi",
    "en": "en",
}


def officer_json(raw: bytes, name: str) -> dict[str, Any]:
    """The JSON object of a file named ``name``; the codes say what is wrong with it."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput("FILE_UNREADABLE", path=name) from exc
    except ValueError as exc:
        raise InvalidInput("JSON_MALFORMED") from exc
    if not isinstance(data, dict):
        raise InvalidInput("JSON_MALFORMED")
    if {"message_id", "type", "payload"} <= data.keys():
        # A whole message is what the node builds and signs; the officer gives only
        # the part they write. Said plainly, rather than FIELD_UNKNOWN message_id.
        raise InvalidInput("FILE_IS_A_MESSAGE", path=name, type=str(data["type"]))
    return data


def officer_text(text: str, lang: str) -> FreeText:
    """An officer's words with the language they say they wrote in (``vi``, ``zh-Hans``)."""
    tag = _LANGUAGE_TAGS.get(lang.lower().replace("_", "-"))
    if tag is None:
        raise InvalidInput("LANGUAGE_UNKNOWN", lang=lang)
    with schema_checked():
        return FreeText(lang=tag, text=text)
