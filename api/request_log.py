"""One log line per request: method, path, status, duration, client and user id. Never bodies,
query strings, headers or cookies (they carry passwords, codes and tokens)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from litestar import Request
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from observability import get_logger

log = get_logger("api.request")


class RequestLogMiddleware(ASGIMiddleware):
    def __init__(self, identify: Callable[[Request[Any, Any, Any]], str]) -> None:
        self.identify = identify

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, capture)
        finally:
            user = scope.get("user")
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                client=self.identify(Request(scope)),
                user_id=str(user.id) if hasattr(user, "id") else None,
            )
