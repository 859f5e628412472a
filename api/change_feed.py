"""Pages of the order list kept in memory until PostgreSQL says the orders changed.

A trigger on `orders` and `shipments` (migration 0009) runs `pg_notify('order_list_changed')` in
every statement that writes them, whoever writes: the worker's activities, the API, an operator
in psql. PostgreSQL delivers a notification when (and only if) its transaction commits. Each API
process keeps one connection per event loop LISTENing on that channel (`ChangeFeed`); every
notification, and every (re)connection, moves its `generation` on.

A page is kept with the generation read *before* its query (`PageCache.put`), and served again
only while the feed is listening and the generation has not moved (`PageCache.get`): a change
committed during the query, or while the connection was down, makes the page a miss. So a page
is never older than the last notification this process has read; a commit is read within about
a millisecond on one host (the notification travels from PostgreSQL's listening backend to this
process's event loop). A heartbeat (`SELECT 1` every HEARTBEAT_SECONDS, with TCP keepalives)
notices a connection that died silently; until then, pages of that process could stay up to
that long behind.

On SQLite (the embedded default, one process) there is no LISTEN: nothing is cached."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

import psycopg
from sqlalchemy.engine import make_url

from config import Settings
from observability import get_logger

log = get_logger(__name__)

CHANNEL = "order_list_changed"
"""The channel the migration's trigger notifies (models/migrations/versions/0009_...)."""

HEARTBEAT_SECONDS = 5.0
"""How often an idle LISTEN connection is checked with a query (and how long the check may
take): a connection that died without a word stops serving pages within about twice this."""

RECONNECT_SECONDS = (0.2, 5.0)
"""First and longest wait before connecting again (doubling)."""

_CACHES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, PageCache]] = (
    weakref.WeakKeyDictionary()
)
"""Caches (and their feeds) per event loop and database (a connection belongs to the loop that
opened it)."""


def conninfo(sqlalchemy_url: str) -> str:
    """The libpq URL of a `postgresql+psycopg://` SQLAlchemy URL (password kept)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(False)


class ChangeFeed:
    """This event loop's LISTEN connection to the database: `generation` moves on with every
    notification and every (re)connection; `live` is true only while listening."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.generation = 0
        self.live = False
        self.backend_pid: int | None = None  # of the listening connection (pg_stat_activity)
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run(), name="change-feed")

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        self._lost()

    def stamp(self) -> int | None:
        """The generation a page read from now on belongs to; None while not listening."""
        return self.generation if self.live else None

    def current(self, generation: int) -> bool:
        """Whether nothing has changed since `generation` (and the feed is listening)."""
        return self.live and generation == self.generation

    def _changed(self) -> None:
        self.generation += 1

    def _lost(self) -> None:
        self.live = False
        self._changed()

    async def _run(self) -> None:
        wait = RECONNECT_SECONDS[0]
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError, TimeoutError) as exc:
                log.warning("change feed lost; pages read from the database", error=str(exc))
            finally:
                self._lost()
            await asyncio.sleep(wait)
            wait = min(wait * 2, RECONNECT_SECONDS[1])

    async def _listen(self) -> None:
        connection = await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=int(HEARTBEAT_SECONDS),
            keepalives=1,
            keepalives_idle=int(HEARTBEAT_SECONDS),
            keepalives_interval=2,
            keepalives_count=2,
        )
        async with connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            self.backend_pid = connection.info.backend_pid
            self._changed()  # anything may have been written while nobody listened
            self.live = True
            while True:
                async for _ in connection.notifies(timeout=HEARTBEAT_SECONDS):
                    self._changed()
                # Notifications arriving during the check wait in psycopg's backlog and come
                # out of the next `notifies()` first.
                await asyncio.wait_for(connection.execute("SELECT 1"), HEARTBEAT_SECONDS)


def order_pages(settings: Settings) -> PageCache | None:
    """This event loop's cache of order list pages of the settings' database, its feed started
    on first use; None on SQLite or with ORDER_PAGE_CACHE_ENTRIES=0."""
    url = settings.sqlalchemy_url
    if settings.order_page_cache_entries == 0 or not url.startswith("postgresql+psycopg://"):
        return None
    caches = _CACHES.setdefault(asyncio.get_running_loop(), {})
    cache = caches.get(url)
    if cache is None:
        feed = ChangeFeed(conninfo(url))
        feed.start()
        cache = caches[url] = PageCache(feed, settings.order_page_cache_entries)
    return cache


async def close_page_caches() -> None:
    """Stop this event loop's feeds (the app's shutdown)."""
    for cache in _CACHES.pop(asyncio.get_running_loop(), {}).values():
        await cache.feed.close()


class PageCache:
    """Encoded pages by their parameters, at most `entries` (the least recently used go first),
    each served while the feed's generation has not moved since it was read. Requests for a
    page being read wait for that read (when it started in the current generation) instead of
    each reading it: after a write, one query per page, not one per waiting request."""

    def __init__(self, feed: ChangeFeed, entries: int) -> None:
        self.feed = feed
        self.entries = entries
        self.pages: OrderedDict[Hashable, tuple[int, bytes]] = OrderedDict()
        self.reading: dict[Hashable, tuple[int, asyncio.Future[bytes | None]]] = {}
        self.hits = 0
        self.shared = 0  # requests answered by a read another request made
        self.reads = 0

    async def page(self, key: Hashable, read: Callable[[], Awaitable[bytes]]) -> bytes:
        """The page of `key`: kept, being read, or read now by `read()` (and kept)."""
        found = self.pages.get(key)
        if found is not None and self.feed.current(found[0]):
            self.pages.move_to_end(key)
            self.hits += 1
            return found[1]
        generation = self.feed.stamp()
        pending = self.reading.get(key)
        if generation is not None and pending is not None and pending[0] == generation:
            shared = await asyncio.shield(pending[1])  # a waiter's cancel leaves the read alone
            if shared is not None:
                self.shared += 1
                return shared
            # that read failed: read for ourselves (and fail with our own error, if any)
        return await self._read(key, generation, read)

    async def _read(
        self, key: Hashable, generation: int | None, read: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        self.reads += 1
        if generation is None:  # not listening: nothing is kept or shared
            return await read()
        result: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self.reading[key] = (generation, result)
        page = None
        try:
            page = await read()
        finally:
            result.set_result(page)  # None when the read failed or was cancelled
            if self.reading.get(key, (0, None))[1] is result:
                del self.reading[key]
        assert page is not None
        self.put(key, generation, page)
        return page

    def put(self, key: Hashable, generation: int, page: bytes) -> None:
        """Keep `page`, read after the feed's `stamp()` answered `generation` (unless a page
        read later is kept already: a slow read must not replace a newer one)."""
        kept = self.pages.get(key)
        if kept is not None and kept[0] > generation:
            return
        self.pages[key] = (generation, page)
        self.pages.move_to_end(key)
        while len(self.pages) > self.entries:
            self.pages.popitem(last=False)
