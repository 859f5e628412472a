"""The required security headers on every response (errors and 404s included, because this runs as
a before-send hook, outside routing).

CSP by area: the JSON API keeps the required policy; /schema serves Swagger UI from the installed
swagger-ui-py package (no CDN), so it admits only itself; the console admits no inline script
and no eval at all, plus the object store's origin for direct browser uploads.
CORS details are removed from answers to origins that are not allowed; OPTIONS answers list every
method of the route."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

from config import Settings

API_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline';"
)
# Swagger UI's page boots from one inline script that Litestar renders; its assets are local.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:;"
)

SECURITY_HEADERS = {
    "X-DNS-Prefetch-Control": "on",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "X-XSS-Protection": "1; mode=block",
    "Referrer-Policy": "origin-when-cross-origin",
}


CORS_DETAIL_HEADERS = ("access-control-allow-methods", "access-control-allow-headers")


def _allowed_methods(scope: Scope) -> str | None:
    """Litestar's automatic OPTIONS answer lists the methods known when the path's first handler
    was registered (a GET+POST path answered `Allow: GET, OPTIONS`); list the route's methods."""
    template = scope.get("path_template")
    for route in scope["litestar_app"].routes:
        if isinstance(route, HTTPRoute) and template in (route.path, route.path_format):
            return ", ".join(sorted(route.route_handler_map))
    return None


def console_csp(upload_origins: list[str]) -> str:
    uploads = " ".join(upload_origins)
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data: blob: {uploads}; connect-src 'self' {uploads}; "
        "form-action 'self'; frame-ancestors 'self'; base-uri 'self'; object-src 'none';"
    ).replace("  ", " ")


def storage_origins(settings: Settings) -> list[str]:
    """Where the browser sends presigned uploads: the S3 endpoint, or AWS's regional host."""
    if settings.aws_endpoint_url:
        parts = urlsplit(settings.aws_endpoint_url)
        return [f"{parts.scheme}://{parts.netloc}"]
    return [f"https://s3.{settings.aws_region}.amazonaws.com", "https://*.amazonaws.com"]


def csp_for(path: str, console: str = "") -> str:
    if path == "/schema" or path.startswith(("/schema/", "/_docs/")):
        return DOCS_CSP
    if console and (path == "/" or path == "/console" or path.startswith("/console/")):
        return console
    return API_CSP


def security_headers(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    console = console_csp(storage_origins(settings))

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders(message)
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value
        headers["Content-Security-Policy"] = csp_for(scope.get("path", ""), console)
        if scope.get("method") == "OPTIONS" and "allow" in headers:
            headers["Allow"] = _allowed_methods(scope) or headers["allow"]
        if "access-control-allow-origin" not in headers:
            # Litestar's CORS middleware lists the allowed methods and headers on every response
            # to a request with an Origin, allowed or not; a refused origin learns nothing.
            for name in CORS_DETAIL_HEADERS:
                if name in headers:
                    del headers[name]

    return add_security_headers
