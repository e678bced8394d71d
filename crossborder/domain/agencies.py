"""Who takes part: an agency is named by one code everywhere, its country first."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

#: An agency code of this system, its country first: ``CN-NNCUS``.
AgencyCode = Annotated[str, Field(max_length=32, pattern=r"^[A-Z]{2}(-[A-Z0-9]+)+$")]
