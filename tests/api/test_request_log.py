"""The request log records the status the client got, also when authentication or a rate limit
(middleware that raise) answered, and every request has a request id."""

from __future__ import annotations

from typing import Any

import pytest

import api.request_log


class Recorder:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append({"event": event, **fields})


@pytest.fixture
def request_lines(monkeypatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(api.request_log, "log", recorder)
    return recorder


async def test_auth_and_rate_limit_refusals_are_logged_with_their_status(
    make_client, request_lines
) -> None:
    async with make_client(rate_limit_api=2) as client:
        statuses = [(await client.get("/api/orders")).status_code for _ in range(3)]
        bad_token = await client.get("/api/orders", headers={"Authorization": "Bearer not.a.token"})
    assert statuses == [401, 401, 429]
    assert bad_token.status_code == 429
    logged = [line["status"] for line in request_lines.lines if line["path"] == "/api/orders"]
    assert logged == [401, 401, 429, 429]
    assert 500 not in logged


async def test_unknown_tokens_are_401_in_the_log(make_client, request_lines) -> None:
    async with make_client() as client:
        response = await client.get("/api/auth/me", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
    assert [line["status"] for line in request_lines.lines] == [401]


async def test_handler_statuses_and_errors_are_logged(make_client, request_lines) -> None:
    async with make_client() as client:
        ok = await client.get("/api/health")
        invalid = await client.post("/api/auth/login", json={"email": "x"})
    assert (ok.status_code, invalid.status_code) == (200, 400)
    assert [line["status"] for line in request_lines.lines] == [200, 400]


async def test_every_response_has_a_request_id(make_client, request_lines) -> None:
    async with make_client() as client:
        refused = await client.get("/api/orders")
        given = await client.get("/api/health", headers={"X-Request-ID": "lb-0123456789abcdef"})
        forged = await client.get("/api/health", headers={"X-Request-ID": "bad id\r\nx"})
    assert len(refused.headers["x-request-id"]) == 32
    assert given.headers["x-request-id"] == "lb-0123456789abcdef"
    assert forged.headers["x-request-id"] not in ("bad id\r\nx", "")
    assert [line["event"] for line in request_lines.lines] == ["request"] * 3
