"""Login, tokens, refresh rotation, logout, lockout, two-factor and password change."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pyotp

from api.security import sessions
from tests.api.conftest import PASSWORD, login, next_code


async def test_login_me_and_wrong_password(client, make_user):
    account = await make_user("staff")
    bad = await client.post(
        "/api/auth/login", json={"email": account.email, "password": "not the password"}
    )
    assert bad.status_code == 401
    assert bad.json()["detail"] == "email or password is incorrect"
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@example.com", "password": "whatever123"}
    )
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == bad.json()["detail"]  # no account enumeration
    await login(client, account)
    me = await client.get("/api/auth/me", headers=account.headers)
    assert me.status_code == 200
    assert me.json()["email"] == account.email
    assert me.json()["role"] == "staff"
    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    assert claims["aud"] == "worlddoor-api"
    assert claims["extras"]["typ"] == "access"
    assert jwt.get_unverified_header(account.access_token)["alg"] == "HS512"
    assert 14 * 60 <= claims["exp"] - claims["iat"] <= 15 * 60


async def test_lockout_after_repeated_failures(client, make_user, settings):
    account = await make_user("staff")
    statuses = []
    for _ in range(settings.login_max_failures):
        response = await client.post(
            "/api/auth/login", json={"email": account.email, "password": "wrong password!"}
        )
        statuses.append(response.status_code)
    # The lock is not announced to whoever is guessing (tests/api/test_attacks.py compares the
    # answers with an unknown email's): the account is locked all the same.
    assert statuses == [401] * settings.login_max_failures
    user = await sessions.find_user_by_email(settings, account.email)
    assert user is not None and sessions.locked_until(user) is not None
    # Even the right password is refused while locked.
    locked = await client.post(
        "/api/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert locked.status_code == 401
    assert locked.json()["detail"] == "email or password is incorrect"


async def test_refresh_rotation_and_reuse_revokes_family(client, make_user):
    account = await login(client, await make_user("staff"))
    first = account.refresh_token
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    # Presenting the used token again: reuse -> the whole family (incl. `second`) is revoked.
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    assert "reuse" in reuse.json()["detail"]
    after = await client.post("/api/auth/refresh", json={"refresh_token": second})
    assert after.status_code == 401
    garbage = await client.post("/api/auth/refresh", json={"refresh_token": "x" * 40})
    assert garbage.status_code == 401


async def test_logout_revokes_access_token_and_family(client, make_user):
    account = await login(client, await make_user("inspector"))
    assert (await client.get("/api/auth/me", headers=account.headers)).status_code == 200
    out = await client.post("/api/auth/logout", headers=account.headers)
    assert out.status_code == 204
    assert (await client.get("/api/auth/me", headers=account.headers)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert refresh.status_code == 401


def _forge(settings, account, **changes):
    now = datetime.now(UTC)
    claims = {
        "sub": account.id,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=10)).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "gen": 0,
    }
    key = changes.pop("key", settings.jwt_secret.get_secret_value())
    algorithm = changes.pop("algorithm", "HS512")
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=algorithm)


def _alg_none(claims: dict) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    import json

    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


async def test_bad_tokens_are_refused(client, make_user, settings):
    account = await login(client, await make_user("admin"))
    good = _forge(settings, account)
    assert (
        await client.get("/api/auth/me", headers={"Authorization": f"Bearer {good}"})
    ).status_code == 200  # the forging helper itself produces a valid token
    now = int(datetime.now(UTC).timestamp())
    bad_tokens = {
        "wrong key": _forge(settings, account, key="another-secret" * 6),
        "expired": _forge(settings, account, iat=now - 3600, exp=now - 60),
        "wrong audience": _forge(settings, account, aud="someone-else"),
        "no audience": _forge(settings, account, aud=None),
        "no jti": _forge(settings, account, jti=None),
        "two-factor step": _forge(
            settings, account, aud=f"{settings.jwt_audience}:two-factor", typ="two-factor-step"
        ),
        "step type with api audience": _forge(settings, account, typ="two-factor-step"),
        "HS256": _forge(settings, account, algorithm="HS256"),
        "alg none": _alg_none(
            {
                "sub": account.id,
                "aud": settings.jwt_audience,
                "exp": now + 600,
                "iat": now,
                "jti": "x",
                "typ": "access",
            }
        ),
        "unknown user": _forge(settings, account, sub=str(uuid.uuid4())),
        "garbage": "not.a.token",
    }
    for name, token in bad_tokens.items():
        response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert "traceback" not in response.text.lower()


async def _enable_two_factor(client, account):
    enrol = await client.post("/api/auth/two-factor/enrol", headers=account.headers)
    assert enrol.status_code == 200, enrol.text
    body = enrol.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert base64.b64decode(body["qr_png_base64"]).startswith(b"\x89PNG")
    secret = body["secret"]
    wrong = await client.post(
        "/api/auth/two-factor/confirm", headers=account.headers, json={"code": "000000"}
    )
    assert wrong.status_code == 401
    me = await client.get("/api/auth/me", headers=account.headers)
    assert me.json()["two_factor_enabled"] is False  # only after the first valid code
    code, timecode = next_code(secret)
    confirm = await client.post(
        "/api/auth/two-factor/confirm", headers=account.headers, json={"code": code}
    )
    assert confirm.status_code == 200, confirm.text
    codes = confirm.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, timecode, codes


async def test_two_factor_login_replay_and_recovery(client, make_user, settings):
    account = await login(client, await make_user("staff"))
    secret, used_timecode, recovery = await _enable_two_factor(client, account)

    step = await client.post(
        "/api/auth/login", json={"email": account.email, "password": account.password}
    )
    assert step.status_code == 200
    assert step.json()["two_factor_required"] is True
    assert step.json()["access_token"] is None
    step_token = step.json()["two_factor_token"]
    # The step token is not an access token.
    as_access = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {step_token}"})
    assert as_access.status_code == 401
    # The code used to confirm enrolment cannot be replayed.
    replay_code = pyotp.TOTP(secret).generate_otp(used_timecode)
    replay = await client.post(
        "/api/auth/two-factor/verify", json={"two_factor_token": step_token, "code": replay_code}
    )
    assert replay.status_code == 401
    assert replay.json()["detail"] == "the two-factor code is incorrect or already used"
    code, _ = next_code(secret, after_timecode=used_timecode)
    ok = await client.post(
        "/api/auth/two-factor/verify", json={"two_factor_token": step_token, "code": code}
    )
    assert ok.status_code == 200, ok.text
    tokens = ok.json()
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    # The step token completes one login only.
    again = await client.post(
        "/api/auth/two-factor/verify", json={"two_factor_token": step_token, "code": code}
    )
    assert again.status_code == 401
    # An access token is not a step token either.
    confused = await client.post(
        "/api/auth/two-factor/verify",
        json={"two_factor_token": tokens["access_token"], "code": code},
    )
    assert confused.status_code == 401

    # Recovery code: single use.
    step2 = (
        await client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
    ).json()["two_factor_token"]
    used = await client.post(
        "/api/auth/two-factor/recovery",
        json={"two_factor_token": step2, "recovery_code": recovery[0].upper()},
    )
    assert used.status_code == 200, used.text
    assert used.json()["recovery_codes_left"] == 9
    # /me answers from the account snapshot: the used code is gone from it at once.
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {used.json()['access_token']}"}
    )
    assert me.json()["recovery_codes_left"] == 9
    step3 = (
        await client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
    ).json()["two_factor_token"]
    reused = await client.post(
        "/api/auth/two-factor/recovery",
        json={"two_factor_token": step3, "recovery_code": recovery[0]},
    )
    assert reused.status_code == 401


async def test_two_factor_failures_lock_the_account(client, make_user, settings):
    account = await login(client, await make_user("staff"))
    await _enable_two_factor(client, account)
    step = (
        await client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
    ).json()["two_factor_token"]
    statuses = []
    for _ in range(settings.totp_max_failures):
        response = await client.post(
            "/api/auth/two-factor/verify", json={"two_factor_token": step, "code": "123456"}
        )
        statuses.append(response.status_code)
    assert statuses == [401] * settings.totp_max_failures
    user = await sessions.find_user_by_email(settings, account.email)
    assert user is not None and sessions.locked_until(user) is not None


async def test_password_change_ends_old_sessions(client, make_user):
    account = await login(client, await make_user("staff"))
    changed = await client.post(
        "/api/auth/password",
        headers=account.headers,
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 204
    assert (await client.get("/api/auth/me", headers=account.headers)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert refresh.status_code == 401
    account.password = "a brand new passphrase"
    await login(client, account)


async def test_concurrent_refresh_has_one_winner(client, make_user):
    """Two presentations of one refresh token at once: the atomic update lets one win; the
    other is a reuse, so the family (including the winner's new token) is revoked."""
    account = await login(client, await make_user("staff"))
    body = {"refresh_token": account.refresh_token}
    first, second = await asyncio.gather(
        client.post("/api/auth/refresh", json=body), client.post("/api/auth/refresh", json=body)
    )
    assert sorted([first.status_code, second.status_code]) == [200, 401]
    winner = first if first.status_code == 200 else second
    after = await client.post(
        "/api/auth/refresh", json={"refresh_token": winner.json()["refresh_token"]}
    )
    assert after.status_code == 401
