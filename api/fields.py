"""Bounded request field types, shared by every route's body models.

Numbers and booleans are strict (JsonInt, JsonNumber, JsonBool): `"price_jpy": "100"` or
`"is_active": "yes"` is refused instead of being coerced, so the OpenAPI types are the
contract. Every free-text field and every list has a size limit (a single 5 MB tag was accepted
before)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def _integer(value: Any) -> Any:
    """A JSON integer; `100.0` is one too (JSON Schema counts numbers by value), `100.5` and
    `"100"` are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a JSON integer")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number")
    return value


def _boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be a JSON boolean (true or false)")
    return value


# Before-validators, because Litestar validates bodies with `model_validate(strict=False)`, which
# overrides pydantic's field-level Strict (`StrictInt` let "100" through).
JsonInt = Annotated[int, BeforeValidator(_integer)]
JsonNumber = Annotated[float, BeforeValidator(_number)]
JsonBool = Annotated[bool, BeforeValidator(_boolean)]


def json_int(**constraints: Any) -> Any:
    """JsonInt with bounds. The bounds come before the validator: after it, pydantic writes them
    into the JSON schema as raw `ge`/`le` keys that no client understands."""
    return Annotated[int, Field(**constraints), BeforeValidator(_integer)]


def json_number(**constraints: Any) -> Any:
    return Annotated[float, Field(**constraints), BeforeValidator(_number)]


class RequestBody(BaseModel):
    """Every request body: unknown fields are refused (400), not silently dropped, so a client's
    typo or a field it may not set (`role` on a profile edit) never passes unnoticed."""

    model_config = ConfigDict(extra="forbid")


Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
MAX_TAGS = 30
SpecificName = Annotated[str, StringConstraints(min_length=1, max_length=65)]
SpecificValue = Annotated[str, StringConstraints(min_length=1, max_length=65)]
MAX_SPECIFICS = 45
MAX_SPECIFIC_VALUES = 30
ChecklistKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]
MediaKey = Annotated[str, StringConstraints(min_length=1, max_length=500)]
FileName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
