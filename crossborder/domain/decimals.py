"""Decimal numbers on the wire: a JSON number, or a string written plainly.

A node sends decimals as strings (``"0.05"``), so that no float rounds them;
it also takes JSON numbers. A string must be written as a plain decimal — digits,
one optional point, a leading minus only where the value may be negative, no
exponent, no spaces, no ``_``, no leading zeros — and the pattern the contract
publishes for each kind of value below is the one the model checks, so a string
the schema allows is a string the node takes. (Left to itself, pydantic would
also read ``" 1_000 "`` or full-width digits, which a schema cannot say.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_FRACTION = r"(\.[0-9]+)?"
_ABOVE_ZERO_FRACTION = r"0\.0*[1-9][0-9]*"


@dataclass(frozen=True)
class PlainDecimal:
    """Refuses a decimal string that does not match ``pattern``, and publishes the pattern."""

    pattern: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        compiled = re.compile(self.pattern)

        def read(value: Any) -> Any:
            # Read here, so that strict validation (of a message) meets a Decimal;
            # the checks that follow (finite, bounds, digits) are pydantic's.
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return Decimal(str(value))
            if not isinstance(value, str):
                return value
            if not compiled.fullmatch(value):
                raise PydanticCustomError(
                    "VALUE_FORMAT_INVALID", "a decimal string must be written plainly"
                )
            return Decimal(value)

        return core_schema.no_info_before_validator_function(read, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        published = handler(schema)
        for branch in published.get("anyOf", [published]):
            if branch.get("type") == "string":
                branch["pattern"] = self.pattern
        return published


def _above_zero(whole_digits: int | None = None, places: int | None = None) -> str:
    """Greater than zero: a whole part from 1, or ``0.`` and a fraction that is not all zeros."""
    whole = "[1-9][0-9]*" if whole_digits is None else f"[1-9][0-9]{{0,{whole_digits - 1}}}"
    if places is None:
        return rf"^({whole}{_FRACTION}|{_ABOVE_ZERO_FRACTION})$"
    # Each way a fraction of at most ``places`` digits holds a digit other than 0.
    fractions = "|".join(
        f"{'0' * zeros}[1-9][0-9]{{0,{places - 1 - zeros}}}" for zeros in range(places)
    )
    return rf"^({whole}(\.[0-9]{{1,{places}}})?|0\.({fractions}))$"


SIGNED = rf"^-?(0|[1-9][0-9]*){_FRACTION}$"
NOT_NEGATIVE = rf"^(0|[1-9][0-9]*){_FRACTION}$"
ABOVE_ZERO = _above_zero()
#: 0 to 100 inclusive.
PERCENT = rf"^(100(\.0+)?|[1-9]?[0-9]{_FRACTION})$"
#: Above 0 and below 100.
PERCENT_BETWEEN = rf"^([1-9][0-9]?{_FRACTION}|{_ABOVE_ZERO_FRACTION})$"

AnyDecimal = Annotated[Decimal, PlainDecimal(SIGNED)]
NotNegativeDecimal = Annotated[Decimal, Field(ge=0), PlainDecimal(NOT_NEGATIVE)]
AboveZeroDecimal = Annotated[Decimal, Field(gt=0), PlainDecimal(ABOVE_ZERO)]
#: A quantity of the Form E: above zero, at most 20 digits, 6 of them after the point.
FormEQuantity = Annotated[
    Decimal, Field(gt=0, max_digits=20, decimal_places=6), PlainDecimal(_above_zero(14, 6))
]
Percent = Annotated[Decimal, Field(ge=0, le=100), PlainDecimal(PERCENT)]
PercentBetween = Annotated[Decimal, Field(gt=0, lt=100), PlainDecimal(PERCENT_BETWEEN)]
