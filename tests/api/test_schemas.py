"""The e-mail address rule of the request bodies (api/routes/schemas.py) is one rule in every
regex dialect that reads it: pydantic's Rust engine (what we enforce), Python's `re` and the
ECMA dialect of the OpenAPI document (what schemathesis and clients generate from)."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, ValidationError

from api.routes.schemas import EMAIL, EMAIL_PATTERN


class Address(BaseModel):
    email: str = EMAIL


# White space in one dialect or another: U+0085 is \s in Python and Rust, not in ECMA; U+FEFF
# is \s in ECMA only. Each must be refused by every engine alike.
REFUSED = ["\x85", "\ufeff", "\xa0", "\u2028", "\u3000", " ", "\t", "\x00", "\x7f", "\x9f"]


@pytest.mark.parametrize("char", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_white_space_and_controls_are_refused_alike(char: str) -> None:
    address = f"buyer{char}x@example.com"
    assert re.fullmatch(EMAIL_PATTERN, address) is None
    with pytest.raises(ValidationError):
        Address(email=address)


@pytest.mark.parametrize("address", ["a@b", "山田@例え.jp", "ÝÐø@¸", "o'brien+tag@example.com"])
def test_addresses_the_document_allows_are_accepted(address: str) -> None:
    assert re.fullmatch(EMAIL_PATTERN, address)
    assert Address(email=address).email == address
