"""Password reset: the email goes out through EmailWorkflow (started by name, ID keyed on the
token row); the emailed token is single-use and ends every session."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

from tests.api.conftest import login, visible
from workflows.contracts.email import SendEmail


async def _started_email(client, workflow_id: str) -> SendEmail:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.workflow_type.name == "EmailWorkflow"
    # payloads are encrypted in the history: decode through the client's converter (codec)
    (email,) = await client.data_converter.decode(started.input.payloads, [SendEmail])
    return email


async def test_reset_by_emailed_token(make_client, make_user, temporal_env):
    queue = f"api-reset-{uuid.uuid4().hex[:6]}"  # no worker: the workflow waits, we read its input
    async with make_client(
        temporal_client=temporal_env.client, temporal_task_queue=queue
    ) as client:
        account = await login(client, await make_user("staff"))
        unknown = await client.post("/api/auth/password-reset", json={"email": "no@example.com"})
        asked = await client.post("/api/auth/password-reset", json={"email": account.email})
        assert asked.status_code == unknown.status_code == 202
        assert asked.json() == unknown.json()  # no account enumeration

        async def emails() -> list:
            query = f"TaskQueue = '{queue}' AND WorkflowType = 'EmailWorkflow'"
            return [w async for w in temporal_env.client.list_workflows(query)]

        workflows = await visible(emails, bool)
        assert len(workflows) == 1
        workflow_id = workflows[0].id
        email = await _started_email(temporal_env.client, workflow_id)
        assert email.template == "password_reset" and email.to_email == account.email
        assert workflow_id == f"email-password_reset-{email.key}"
        uuid.UUID(email.key)  # the token row id, not the secret
        assert "reset_url" not in email.data  # the link never sits readable in history
        from models.types import unseal

        link = unseal(email.sealed_data["reset_url"])
        token = parse_qs(urlparse(link).query)["token"][0]
        # PUBLIC_BASE_URL + the console's page (tests/console/test_account_browser.py uses it)
        assert urlparse(link).path == "/console/reset-password/confirm"
        page = await client.get(f"{urlparse(link).path}?{urlparse(link).query}")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert 'action="/console/reset-password/confirm"' in page.text
        assert 'type="password"' in page.text and token not in page.text
        legacy = await client.get(f"/reset-password?token={token}", follow_redirects=False)
        assert legacy.status_code == 303  # links sent before the console page still work
        assert legacy.headers["location"] == f"/console/reset-password/confirm?token={token}"
        assert token not in workflow_id
        history = await temporal_env.client.get_workflow_handle(workflow_id).fetch_history()
        assert token not in history.to_json()

        weak = await client.post(
            "/api/auth/password-reset/confirm", json={"token": token, "new_password": "short"}
        )
        assert weak.status_code == 400
        new_password = "reset passphrase 2026"
        done = await client.post(
            "/api/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
        )
        assert done.status_code == 204
        again = await client.post(
            "/api/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
        )
        assert again.status_code == 422 and "invalid, used or expired" in again.json()["detail"]
        refresh = await client.post(
            "/api/auth/refresh", json={"refresh_token": account.refresh_token}
        )
        assert refresh.status_code == 401  # every session ended
        old = await client.post(
            "/api/auth/login", json={"email": account.email, "password": account.password}
        )
        assert old.status_code == 401
        account.password = new_password
        await login(client, account)


async def test_reset_without_temporal_is_503(client, make_user):
    account = await make_user("staff")
    response = await client.post("/api/auth/password-reset", json={"email": account.email})
    assert response.status_code == 503
    assert "Temporal" in response.json()["detail"]
