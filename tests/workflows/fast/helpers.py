"""Waiting on a workflow's `status` query without timing assumptions (a bounded poll)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from temporalio.service import RPCError, RPCStatusCode


async def eventually(handle: Any, query: Any, ready: Callable[[Any], bool]) -> Any:
    """The query's answer once `ready` holds (a child may not have been started yet)."""
    status = None
    for _ in range(400):
        try:
            status = await handle.query(query)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
        else:
            if ready(status):
                return status
        await asyncio.sleep(0.025)
    raise AssertionError(f"never reached the expected state: {status}")


async def until(check: Callable[[], bool]) -> None:
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the expected calls never happened")
