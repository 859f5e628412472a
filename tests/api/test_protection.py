"""Security headers on every response (errors and /schema included), body size limit, CORS,
allowed hosts, rate limits with their headers and separate counters, client identity behind
trusted proxies, and errors that are JSON without internals."""

from __future__ import annotations

from litestar import Request

from api.headers import API_CSP, SECURITY_HEADERS
from api.security.ratelimit import client_identifier


def _assert_security_headers(response, csp: str | None = API_CSP) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.request.url)
    if csp is not None:
        assert response.headers["content-security-policy"] == csp


async def test_security_headers_everywhere(client):
    for path, status in [
        ("/api/health", 200),
        ("/api/nope", 404),
        ("/api/auth/me", 401),
        ("/schema/openapi.json", 200),
    ]:
        response = await client.get(path)
        assert response.status_code == status, path
        _assert_security_headers(response, None if path.startswith("/schema") else API_CSP)
    bad_json = await client.post(
        "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    _assert_security_headers(bad_json)
    docs = await client.get("/schema")
    assert docs.status_code == 200
    _assert_security_headers(docs, None)
    csp = docs.headers["content-security-policy"]
    assert "https://" not in csp  # the docs UI's assets are served locally (/_docs), no CDN
    assert "default-src 'self'" in csp


async def test_errors_are_json_problems_without_internals(client):
    response = await client.post("/api/auth/login", json={"email": "x"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert "password" in str(body)  # names the missing field
    assert "Traceback" not in response.text


async def test_body_size_limit(make_client):
    async with make_client(max_request_body_bytes=2048) as client:
        big = await client.post(
            "/api/auth/login",
            content=b'{"email":"' + b"a" * 5000 + b'","password":"x"}',
            headers={"content-type": "application/json"},
        )
        assert big.status_code == 413
        _assert_security_headers(big)


async def test_cors_allow_list(make_client):
    async with make_client(cors_allow_origins=["https://office.theworlddoor.example"]) as client:
        allowed = await client.options(
            "/api/auth/login",
            headers={
                "Origin": "https://office.theworlddoor.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert allowed.status_code in (200, 204)
        origin = allowed.headers["access-control-allow-origin"]
        assert origin == "https://office.theworlddoor.example"
        refused = await client.options(
            "/api/auth/login",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in refused.headers
        simple = await client.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in simple.headers


async def test_allowed_hosts(make_client):
    async with make_client(allowed_hosts=["api.theworlddoor.example"]) as client:
        wrong = await client.get("/api/health", headers={"Host": "attacker.example"})
        assert wrong.status_code == 400
        right = await client.get("/api/health", headers={"Host": "api.theworlddoor.example"})
        assert right.status_code == 200


async def test_login_and_public_limits_have_separate_counters(make_client, make_user):
    async with make_client(
        rate_limit_login=3, rate_limit_public=6, rate_limit_two_factor=10
    ) as client:
        account = await make_user("staff")
        remaining = []
        for _ in range(3):
            response = await client.post(
                "/api/auth/login", json={"email": "ghost@example.com", "password": "nope nope"}
            )
            assert response.status_code == 401
            remaining.append(int(response.headers["ratelimit-remaining"]))
            assert response.headers["ratelimit-limit"] == "3"  # the stricter limiter shows
        assert remaining == [2, 1, 0]
        limited = await client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
        assert limited.status_code == 429
        assert 0 < int(limited.headers["retry-after"]) <= 15 * 60
        assert limited.headers["ratelimit-remaining"] == "0"
        assert "too many requests" in limited.json()["detail"]
        # The public counter is separate: refresh still answers (401, not 429) ...
        refresh = await client.post("/api/auth/refresh", json={"refresh_token": "unknown"})
        assert refresh.status_code == 401
        assert refresh.headers["ratelimit-limit"] == "6"
        # ... and two-factor codes have their own counter too.
        code = await client.post(
            "/api/auth/two-factor/verify", json={"two_factor_token": "x", "code": "123456"}
        )
        assert code.status_code == 401
        # The public counter saw 4 login attempts + 1 refresh + 1 verify = 6: now exhausted.
        exhausted = await client.post("/api/auth/refresh", json={"refresh_token": "unknown"})
        assert exhausted.status_code == 429
        assert "retry-after" in exhausted.headers
        # Liveness is never limited.
        assert (await client.get("/api/health")).status_code == 200


async def test_signed_in_reads_count_under_the_api_limit_only(make_client, make_user):
    """GET /api/auth/me is a signed-in read: the API limit counts it, the public limit (for
    routes that take a secret or send mail) does not."""
    async with make_client(rate_limit_public=2, rate_limit_api=6) as client:
        account = await make_user("staff")
        login = await client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
        assert login.status_code == 200
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for left in (4, 3, 2, 1, 0):  # the login was the API limit's first request
            me = await client.get("/api/auth/me", headers=auth)
            assert me.status_code == 200
            assert me.headers["ratelimit-limit"] == "6"
            assert me.headers["ratelimit-remaining"] == str(left)
        limited = await client.get("/api/auth/me", headers=auth)
        assert limited.status_code == 429
        assert limited.headers["ratelimit-remaining"] == "0"


async def test_two_factor_limit_is_strict_and_separate(make_client):
    async with make_client(rate_limit_two_factor=2, rate_limit_public=50) as client:
        body = {"two_factor_token": "x", "code": "123456"}
        statuses = [
            (await client.post("/api/auth/two-factor/verify", json=body)).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 429]
        login = await client.post(
            "/api/auth/login", json={"email": "a@example.com", "password": "whatever1"}
        )
        assert login.status_code == 401


async def test_bad_tokens_are_counted_before_auth(make_client):
    """The API limiter sits in front of JWT auth, so a token-guessing flood is limited too."""
    async with make_client(rate_limit_api=4) as client:
        headers = {"Authorization": "Bearer forged.token.value"}
        statuses = [
            (await client.get("/api/products", headers=headers)).status_code for _ in range(5)
        ]
        assert statuses == [401, 401, 401, 401, 429]


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": (peer, 1234),
        "query_string": b"",
    }
    return Request(scope)


def test_client_identity_trusts_only_configured_proxies():
    identify = client_identifier(["10.0.0.0/8"])
    # Direct client: X-Forwarded-For is ignored (it would let anyone pick their own bucket).
    assert identify(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"
    # Through our proxy: the right-most hop that is not a trusted proxy.
    assert identify(_request("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.0.0.9")) == "198.51.100.7"
    assert identify(_request("10.0.0.5")) == "10.0.0.5"
    assert client_identifier([])(_request("10.0.0.5", "1.2.3.4")) == "10.0.0.5"


async def test_request_log_records_no_secrets(client, make_user, monkeypatch):
    import api.request_log

    lines: list[tuple[str, dict]] = []

    class Recorder:
        def info(self, event: str, **fields) -> None:
            lines.append((event, fields))

    monkeypatch.setattr(api.request_log, "log", Recorder())
    account = await make_user("staff")
    secret_password = account.password
    ok = await client.post(
        "/api/auth/login?token=query-secret",
        json={"email": account.email, "password": secret_password},
    )
    token = ok.json()["access_token"]
    await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    await client.post(
        "/api/auth/two-factor/verify", json={"two_factor_token": "step-secret", "code": "654321"}
    )
    assert len(lines) == 3
    text = repr(lines)
    for secret in (secret_password, token, "query-secret", "step-secret", "654321", account.email):
        assert secret not in text
    assert lines[0][1]["path"] == "/api/auth/login" and lines[0][1]["status"] == 200
    assert lines[1][1]["user_id"] == account.id  # who did it, without what they sent


async def test_unexpected_errors_are_problem_json_without_internals(client, make_user, monkeypatch):
    import api.routes.products
    from tests.api.conftest import login

    account = await login(client, await make_user("staff"))

    async def broken(*_args, **_kwargs):
        raise RuntimeError("connection string postgresql://user:hunter2@db/prod")

    monkeypatch.setattr(api.routes.products, "in_session", broken)
    response = await client.get("/api/products", headers=account.headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "an unexpected error occurred; it has been logged"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    _assert_security_headers(response)


async def test_file_store_without_redis(make_client, settings):
    """Without REDIS_URL the stores are files under var/ (one directory per namespace)."""
    async with make_client(redis_url="", rate_limit_login=1) as client:
        body = {"email": "a@example.com", "password": "whatever1"}
        assert (await client.post("/api/auth/login", json=body)).status_code == 401
        assert (await client.post("/api/auth/login", json=body)).status_code == 429
        namespace = client.app.stores.get("rllogin")
        assert str(namespace.path).startswith(str(settings.var_dir / "stores"))
        assert [entry async for entry in namespace.path.iterdir()]
