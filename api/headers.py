"""The seed's security headers on every response (errors and 404s included, because this runs as
a before-send hook, outside routing). /schema gets a CSP that also admits the docs UIs' CDN.
CORS details are removed from answers to origins that are not allowed; OPTIONS answers list every
method of the route."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

SEED_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval' 'unsafe-inline'; "
    "style-src 'self' 'unsafe-inline';"
)
DOCS_CDNS = "https://cdn.jsdelivr.net https://unpkg.com"
DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'unsafe-eval' 'unsafe-inline' {DOCS_CDNS}; "
    f"style-src 'self' 'unsafe-inline' {DOCS_CDNS} https://fonts.googleapis.com; "
    f"font-src 'self' data: {DOCS_CDNS} https://fonts.gstatic.com; "
    f"img-src 'self' data: {DOCS_CDNS};"
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


def csp_for(path: str) -> str:
    return DOCS_CSP if path == "/schema" or path.startswith("/schema/") else SEED_CSP


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders(message)
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    headers["Content-Security-Policy"] = csp_for(scope.get("path", ""))
    if scope.get("method") == "OPTIONS" and "allow" in headers:
        headers["Allow"] = _allowed_methods(scope) or headers["allow"]
    if "access-control-allow-origin" not in headers:
        # Litestar's CORS middleware lists the allowed methods and headers on every response to
        # a request with an Origin, allowed or not; a refused origin learns nothing.
        for name in CORS_DETAIL_HEADERS:
            if name in headers:
                del headers[name]
