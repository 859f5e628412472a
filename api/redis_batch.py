"""Commands from concurrent requests to Redis in one pipeline per event-loop turn.

Every authenticated request makes two Redis commands (the rate-limit count and the token check).
Under load most of their cost is the socket round trip, not Redis; so the commands issued
during one turn of the event loop are written together as one non-transactional pipeline and
each caller gets its own reply (or its own error). Each command stays atomic on its own; the
order of one caller's commands is kept. With one request at a time this is one command per
round trip, as before."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

_BATCHERS: weakref.WeakKeyDictionary[Any, Batcher] = weakref.WeakKeyDictionary()


class Batcher:
    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []

    async def execute(self, *args: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.append((args, future))
        if len(self.pending) == 1:  # the first command of this turn schedules the flush
            asyncio.get_running_loop().call_soon(self._start_flush)
        return await future

    def _start_flush(self) -> None:
        batch, self.pending = self.pending, []
        task = asyncio.ensure_future(self._flush(batch))
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)

    async def _flush(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        try:
            if len(batch) == 1:
                results = [await self.redis.execute_command(*batch[0][0])]
            else:
                pipe = self.redis.pipeline(transaction=False)
                for args, _ in batch:
                    pipe.execute_command(*args)
                results = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the error
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # the caller was cancelled
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


_RUNNING: set[asyncio.Task[None]] = set()
"""Flushes in flight (the event loop keeps only weak references to tasks)."""


def batcher(redis: Any) -> Batcher:
    """The batcher of a Redis client (one per client; a client belongs to one event loop)."""
    found = _BATCHERS.get(redis)
    if found is None:
        found = _BATCHERS[redis] = Batcher(redis)
    return found
