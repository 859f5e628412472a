"""One log line per request: method, path, the status the client got, duration, client, user id
and request id. Never bodies, query strings, headers or cookies (they carry passwords, codes and
tokens).

The request id (a safe incoming `X-Request-ID`, else a new one) is bound to the log context for
everything the request logs and returned in the `X-Request-ID` response header (by the
`add_request_id` before-send hook, which also sees error responses made outside this middleware).

Authentication and rate limits run as middleware and *raise* their 401 and 429. Litestar turns
exceptions raised by middleware into responses only in its outermost exception handler, outside
every middleware, so this log (and the request metrics) saw no response and reported 500. The
app therefore puts `errors_as_responses` (Litestar's own exception-handling layer, the one it
puts around every route) just inside this log and the metrics. Should an exception still get
here, the status logged is the one the outer handler will send.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException
from litestar.middleware import ASGIMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from observability import get_logger

log = get_logger("api.request")

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_STATE = "request_id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def errors_as_responses(app: ASGIApp) -> ASGIApp:
    """Middleware: exceptions from the middleware inside become the app's error responses."""
    from litestar._asgi.utils import wrap_in_exception_handler  # what Litestar wraps routes in

    return wrap_in_exception_handler(app=app)


def status_of(exc: BaseException) -> int:
    """The status Litestar's exception handlers answer for an exception escaping the app."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    return HTTP_500_INTERNAL_SERVER_ERROR


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name.decode("latin-1").lower() == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if _SAFE_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestLogMiddleware(ASGIMiddleware):
    def __init__(self, identify: Callable[[Request[Any, Any, Any]], str]) -> None:
        self.identify = identify

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        request_id = request_id_from(scope)
        scope.setdefault("state", {})[REQUEST_ID_STATE] = request_id
        status: int | None = None

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await next_app(scope, receive, capture)
            except BaseException as exc:
                if status is None:
                    status = status_of(exc)
                raise
            finally:
                user = scope.get("user")
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status if status is not None else HTTP_500_INTERNAL_SERVER_ERROR,
                    duration_ms=round((time.perf_counter() - started) * 1000, 1),
                    client=self.identify(Request(scope)),
                    user_id=str(user.id) if hasattr(user, "id") else None,
                )


async def add_request_id(message: Message, scope: Scope) -> None:
    """before-send hook (so error responses made outside the middleware carry it too)."""
    if message["type"] != "http.response.start":
        return
    request_id = (scope.get("state") or {}).get(REQUEST_ID_STATE)
    if request_id:
        MutableScopeHeaders(message)[REQUEST_ID_HEADER] = request_id
