"""The security headers (HSTS, framing, sniffing, referrer, CSP) on every response (errors and
404s included, because this runs as a before-send hook, outside routing). /schema gets a CSP
that also admits the docs UIs' CDN."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

API_CSP = (
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


def csp_for(path: str) -> str:
    return DOCS_CSP if path == "/schema" or path.startswith("/schema/") else API_CSP


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders(message)
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    headers["Content-Security-Policy"] = csp_for(scope.get("path", ""))
