"""Text written by a person, with its language: never machine-translated.

Its own module so that payload models in other domain modules (alerts) can use
it without importing the message union that imports them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LanguageTag = Literal["zh-Hans", "vi", "en"]


class FreeText(BaseModel):
    """Text written by a person, kept verbatim with its language; never machine-translated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: LanguageTag
    text: str = Field(min_length=1, max_length=4000)
