"""Bounded request field types, shared by every route's body models.

Numbers and booleans are strict: `"price_jpy": "100"` or `"is_active": "yes"` is refused instead
of being coerced, so the OpenAPI types are the contract. Every free-text field and every list
has a size limit (a single 5 MB tag was accepted before)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
MAX_TAGS = 30
SpecificName = Annotated[str, StringConstraints(min_length=1, max_length=65)]
SpecificValue = Annotated[str, StringConstraints(min_length=1, max_length=65)]
MAX_SPECIFICS = 45
MAX_SPECIFIC_VALUES = 30
ChecklistKey = Annotated[str, StringConstraints(min_length=1, max_length=100)]
MediaKey = Annotated[str, StringConstraints(min_length=1, max_length=500)]
FileName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
