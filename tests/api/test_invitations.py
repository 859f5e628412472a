"""Invitations instead of passwords: an admin creates an account, the owner gets a single-use
link (sealed in the welcome email), sets a password and enrols two-factor through the public
invitation routes; resend ends the earlier link; every refusal is a 4xx that changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import sqlalchemy as sa
from sqlmodel import Session, select

from api.security.tokens import hash_opaque
from models import Invitation, User
from models.db import get_engine
from models.types import unseal
from tests.api.conftest import PASSWORD, login, next_code
from workflows.contracts.email import SendEmail

NEW_PASSWORD = "a passphrase of my own 2026"


async def _welcome(
    temporal_client, queue: str, user_email: str, other_than: str | None = None
) -> tuple[str, SendEmail]:
    """The invitation token from the newest welcome email started for that address (one whose
    token is not `other_than`: the list is Temporal's visibility, which shows a workflow just
    started only a moment later, so it is asked again for up to 10 s)."""
    for _ in range(100):
        found: list[tuple[datetime, SendEmail]] = []
        async for execution in temporal_client.list_workflows(
            f"TaskQueue = '{queue}' AND WorkflowType = 'EmailWorkflow'"
        ):
            history = await temporal_client.get_workflow_handle(execution.id).fetch_history()
            started = history.events[0].workflow_execution_started_event_attributes
            (email,) = await temporal_client.data_converter.decode(
                started.input.payloads, [SendEmail]
            )
            if email.to_email == user_email:
                assert execution.id == f"email-welcome-{email.key}"
                found.append((execution.start_time, email))
        if found:
            email = max(found, key=lambda f: f[0])[1]
            link = unseal(email.sealed_data["invitation_url"])
            assert urlparse(link).path == "/console/invitation"
            token = parse_qs(urlparse(link).query)["token"][0]
            if token != other_than:
                return token, email
        await asyncio.sleep(0.1)
    raise AssertionError(f"no new welcome email for {user_email}")


def _user_row(settings, user_id: str) -> User:
    with Session(get_engine(settings)) as session:
        return session.exec(select(User).where(User.id == uuid.UUID(user_id))).one()


async def _invite(client, admin, role: str = "staff") -> dict:
    email = f"invited-{uuid.uuid4().hex[:8]}@theworlddoor.example"
    created = await client.post(
        "/api/users",
        headers=admin.headers,
        json={"email": email, "full_name": "Hanako Invited", "role": role},
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_invited_user_sets_password_and_two_factor(
    make_client, make_user, temporal_env, settings
):
    queue = f"api-invite-{uuid.uuid4().hex[:6]}"  # no worker: the emails wait, we read them
    admin = await make_user("admin")
    async with make_client(
        temporal_client=temporal_env.client, temporal_task_queue=queue
    ) as client:
        await login(client, admin)
        body = await _invite(client, admin)
        assert "password" not in body and body["user"]["invitation_pending"] is True
        expires = datetime.fromisoformat(body["invitation"]["expires_at"])
        assert timedelta(hours=71) < expires - datetime.now(UTC) <= timedelta(hours=72)
        email_address = body["user"]["email"]
        token, email = await _welcome(temporal_env.client, queue, email_address)
        assert email.template == "welcome" and "invitation_url" not in email.data
        history = await temporal_env.client.get_workflow_handle(
            f"email-welcome-{email.key}"
        ).fetch_history()
        assert token not in history.to_json()  # the link is sealed in history
        row = _user_row(settings, body["user"]["id"])
        assert not row.must_change_password and row.invitation_pending
        with Session(get_engine(settings)) as session:
            stored = session.exec(select(Invitation).where(Invitation.user_id == row.id)).one()
        assert stored.token_hash == hash_opaque(token) and token not in stored.token_hash
        nobody = await client.post(
            "/api/auth/login", json={"email": email_address, "password": PASSWORD}
        )
        assert nobody.status_code == 401  # nobody knows a password for it yet

        opened = await client.post("/api/auth/invitation", json={"token": token})
        assert opened.status_code == 200, opened.text
        view = opened.json()
        assert view["email"] == email_address and view["full_name"] == "Hanako Invited"
        assert view["qr_svg"].lstrip().startswith("<") and "<svg" in view["qr_svg"]
        assert view["otpauth_uri"].startswith("otpauth://totp/")
        secret = view["secret"]
        again = await client.post("/api/auth/invitation", json={"token": token})
        assert again.json()["secret"] == secret  # reopening shows the same QR code

        code, timecode = next_code(secret)
        weak = await client.post(
            "/api/auth/invitation/accept",
            json={"token": token, "new_password": "short", "code": code},
        )
        assert weak.status_code == 400
        assert weak.headers["content-type"].startswith("application/problem+json")
        wrong = await client.post(
            "/api/auth/invitation/accept",
            json={"token": token, "new_password": NEW_PASSWORD, "code": "000000"},
        )
        assert wrong.status_code == 401
        unchanged = _user_row(settings, body["user"]["id"])
        assert unchanged.invitation_pending and not unchanged.totp_enabled
        assert unchanged.password_hash == row.password_hash

        accepted = await client.post(
            "/api/auth/invitation/accept",
            json={"token": token, "new_password": NEW_PASSWORD, "code": code},
        )
        assert accepted.status_code == 200, accepted.text
        result = accepted.json()
        assert len(result["recovery_codes"]) == 10
        me = await client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {result['access_token']}"}
        )
        assert me.status_code == 200 and me.json()["two_factor_enabled"] is True
        used = await client.post(
            "/api/auth/invitation/accept",
            json={"token": token, "new_password": NEW_PASSWORD, "code": code},
        )
        assert used.status_code == 409
        assert (await client.post("/api/auth/invitation", json={"token": token})).status_code == 409
        signed = await client.post(
            "/api/auth/login", json={"email": email_address, "password": NEW_PASSWORD}
        )
        assert signed.status_code == 200 and signed.json()["two_factor_required"] is True
        step = signed.json()["two_factor_token"]
        replay = await client.post(
            "/api/auth/two-factor/verify", json={"two_factor_token": step, "code": code}
        )
        assert replay.status_code == 401  # the acceptance code is used up
        fresh = pyotp.TOTP(secret).generate_otp(timecode + 1)
        verified = await client.post(
            "/api/auth/two-factor/verify", json={"two_factor_token": step, "code": fresh}
        )
        assert verified.status_code == 200
        done = await client.get(f"/api/users/{body['user']['id']}", headers=admin.headers)
        assert done.json()["invitation_pending"] is False
        resend_after = await client.post(
            f"/api/users/{body['user']['id']}/invitation", headers=admin.headers
        )
        assert resend_after.status_code == 409


async def test_resend_ends_the_earlier_link(make_client, make_user, temporal_env):
    queue = f"api-invite-{uuid.uuid4().hex[:6]}"
    admin = await make_user("admin")
    async with make_client(
        temporal_client=temporal_env.client, temporal_task_queue=queue
    ) as client:
        await login(client, admin)
        body = await _invite(client, admin, "inspector")
        first, _ = await _welcome(temporal_env.client, queue, body["user"]["email"])
        resent = await client.post(
            f"/api/users/{body['user']['id']}/invitation", headers=admin.headers
        )
        assert resent.status_code == 201, resent.text
        second, _ = await _welcome(
            temporal_env.client, queue, body["user"]["email"], other_than=first
        )
        old = await client.post("/api/auth/invitation", json={"token": first})
        assert old.status_code == 409 and "replaced" in old.json()["detail"]
        assert (
            await client.post("/api/auth/invitation", json={"token": second})
        ).status_code == 200
        missing = await client.post(f"/api/users/{uuid.uuid4()}/invitation", headers=admin.headers)
        assert missing.status_code == 404
        staff = await login(client, await make_user("staff"))
        forbidden = await client.post(
            f"/api/users/{body['user']['id']}/invitation", headers=staff.headers
        )
        assert forbidden.status_code == 403


async def test_unknown_expired_and_bad_input_change_nothing(
    make_client, make_user, temporal_env, settings
):
    queue = f"api-invite-{uuid.uuid4().hex[:6]}"
    admin = await make_user("admin")
    async with make_client(
        temporal_client=temporal_env.client, temporal_task_queue=queue
    ) as client:
        await login(client, admin)
        unknown = await client.post("/api/auth/invitation", json={"token": "x" * 43})
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        short = await client.post("/api/auth/invitation", json={"token": "abc"})
        assert short.status_code == 400
        extra = await client.post(
            "/api/auth/invitation/accept",
            json={"token": "x" * 43, "new_password": NEW_PASSWORD, "code": "123456", "role": 1},
        )
        assert extra.status_code == 400

        body = await _invite(client, admin)
        token, _ = await _welcome(temporal_env.client, queue, body["user"]["email"])
        with Session(get_engine(settings)) as session:
            table = Invitation.__table__
            session.execute(
                sa.update(table)
                .where(table.c.token_hash == hash_opaque(token))
                .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
            )
            session.commit()
        expired = await client.post("/api/auth/invitation", json={"token": token})
        assert expired.status_code == 410 and "expired" in expired.json()["detail"]
        code = pyotp.TOTP(pyotp.random_base32()).now()
        late = await client.post(
            "/api/auth/invitation/accept",
            json={"token": token, "new_password": NEW_PASSWORD, "code": code},
        )
        assert late.status_code == 410
        assert _user_row(settings, body["user"]["id"]).invitation_pending

        # A password in the create body is refused, and no account is made.
        email = f"pw-{uuid.uuid4().hex[:8]}@theworlddoor.example"
        with_password = await client.post(
            "/api/users", headers=admin.headers, json={"email": email, "password": PASSWORD}
        )
        assert with_password.status_code == 400
        listed = await client.get("/api/users", headers=admin.headers, params={"q": email})
        assert listed.json()["total"] == 0


async def test_invitation_routes_are_documented(client):
    schema = (await client.get("/schema/openapi.json")).json()
    accept = schema["paths"]["/api/auth/invitation/accept"]["post"]
    for status in ("400", "401", "404", "409", "410", "429"):
        assert status in accept["responses"], status
    assert "security" not in accept or accept["security"] == []
    resend = schema["paths"]["/api/users/{user_id}/invitation"]["post"]
    assert "201" in resend["responses"] and "409" in resend["responses"]
