"""A nesting limit in front of the JSON parser. msgspec and pydantic recurse once per level, so
a 2 KB body nested ~1,000 deep raised RecursionError (a 500) before any handler or auth ran.
Bodies are measured first (strings removed, brackets counted) and refused with a 400; so is a
string holding NUL, which PostgreSQL text cannot store (the OpenAPI document says so too)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.serialization import decode_json
from litestar.types import Empty

MAX_JSON_DEPTH = 32
"""Deepest legitimate body here is ~4 (item specifics, webhook envelopes)."""

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
# \u0000 not preceded by an escaped backslash (`\\u0000` is the six characters, harmless).
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(body: bytes) -> int:
    """The deepest array/object nesting of a JSON text (brackets inside strings ignored)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_json_depth(body: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    if json_depth(body) > limit:
        raise ClientException(
            status_code=400, detail=f"the JSON body is nested deeper than {limit} levels"
        )
    if _NUL.search(body):
        raise ClientException(status_code=400, detail="text must not contain NUL characters")


def loads_limited(body: bytes, limit: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON body that a handler reads itself (webhooks): depth-checked, 400 if invalid."""
    check_json_depth(body, limit)
    try:
        return decode_json(body)
    except Exception as exc:  # noqa: BLE001 - any decode failure is the client's malformed body
        raise ClientException(status_code=400, detail="the body is not valid JSON") from exc


class LimitedRequest(Request[Any, Any, Any]):
    """Litestar's Request with the depth check before `json()` decodes the body."""

    async def json(self) -> Any:
        if self._json is Empty and self._connection_state.json is Empty:
            check_json_depth(await self.body())
        return await super().json()
