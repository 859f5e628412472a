"""A tiny Sentry ingest endpoint for tests: SENTRY_DSN points at it, it keeps every envelope it
receives (decompressed, raw bytes and parsed items), so a test sees exactly what would leave the
process."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Envelope:
    raw: bytes
    items: list[tuple[dict[str, Any], Any]]

    def events(self) -> list[dict[str, Any]]:
        return [payload for header, payload in self.items if header.get("type") == "event"]


@dataclass
class SentryRelay:
    dsn: str
    envelopes: list[Envelope] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        return [event for envelope in self.envelopes for event in envelope.events()]

    def raw(self) -> bytes:
        return b"\n".join(envelope.raw for envelope in self.envelopes)

    def wait_for_events(self, count: int, what: str = "events") -> list[dict[str, Any]]:
        import sentry_sdk

        for _ in range(100):
            sentry_sdk.flush(timeout=2)
            if len(self.events()) >= count:
                return self.events()
            time.sleep(0.05)
        raise AssertionError(f"expected {count} {what}, got {len(self.events())}")


def _decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]

        return brotli.decompress(body)
    return body


def parse_envelope(raw: bytes) -> Envelope:
    lines = raw.split(b"\n")
    items: list[tuple[dict[str, Any], Any]] = []
    index = 1  # line 0 is the envelope header
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        header = json.loads(lines[index])
        length = header.get("length")
        if length is not None:
            rest = b"\n".join(lines[index + 1 :])
            payload_bytes = rest[:length]
            consumed = payload_bytes.count(b"\n") + 1
        else:
            payload_bytes = lines[index + 1]
            consumed = 1
        try:
            payload: Any = json.loads(payload_bytes)
        except ValueError:
            payload = payload_bytes
        items.append((header, payload))
        index += 1 + consumed
    return Envelope(raw=raw, items=items)


@contextmanager
def sentry_relay() -> Iterator[SentryRelay]:
    relay = SentryRelay(dsn="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            raw = _decode(body, self.headers.get("Content-Encoding", ""))
            relay.envelopes.append(parse_envelope(raw))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    relay.dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/42"
    try:
        yield relay
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def sentry_reporting_to(relay: SentryRelay, settings: Any, service: str) -> Iterator[None]:
    """Sentry initialised as production code does (observability.configure_sentry), pointed
    at the relay; switched off again afterwards."""
    import sentry_sdk

    from observability import configure_sentry

    configured = settings.model_copy(update={"sentry_dsn": relay.dsn})
    assert configure_sentry(configured, service)
    try:
        yield
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # no DSN: an inactive client, the integrations become no-ops
