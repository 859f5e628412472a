"""Buyers' data in Temporal: a workflow started with a buyer's name and address is stored
encrypted on the real dev server (read raw, without our codec), and signed-in staff read it
back through the codec endpoint the web UI uses; nobody else does."""

from __future__ import annotations

import base64
import json
import uuid

from google.protobuf.json_format import MessageToDict, MessageToJson
from temporalio.api.common.v1 import Payloads, WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest

from api.routes.temporal_codec import COOKIE
from tests.api.conftest import login
from workflows.contracts.email import SendEmail


async def _raw_history(client, workflow_id: str):
    """The history exactly as the server stores it (no data converter involved)."""
    response = await client.workflow_service.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
        )
    )
    return response.history


async def test_payloads_are_encrypted_at_rest_and_decoded_for_staff(
    make_client, make_user, temporal_env
) -> None:
    buyer = f"Hanako Yamada {uuid.uuid4().hex[:6]}"
    street = f"{uuid.uuid4().int % 10000} Sakura Dori"
    email = f"hanako.{uuid.uuid4().hex[:6]}@example.com"
    workflow_id = f"codec-test-{uuid.uuid4().hex[:8]}"
    # No worker listens on this queue: the workflow waits, its input sits in the history.
    await temporal_env.client.start_workflow(
        "EmailWorkflow",
        SendEmail(
            template="order_confirmation",
            to_email=email,
            to_name=buyer,
            key=workflow_id,
            data={"ship_to": {"fullName": buyer, "addressLine1": street}},
        ),
        id=workflow_id,
        task_queue=f"codec-{uuid.uuid4().hex[:6]}",
    )
    history = await _raw_history(temporal_env.client, workflow_id)
    raw = history.SerializeToString()
    for secret in (buyer, street, email):
        assert secret.encode() not in raw
        assert secret not in MessageToJson(history)
    started = history.events[0].workflow_execution_started_event_attributes
    (payload,) = started.input.payloads
    assert payload.metadata["encoding"] == b"binary/encrypted"
    assert payload.metadata["encryption-key-id"].decode().startswith("dev-")

    body = MessageToDict(Payloads(payloads=[payload]))
    async with make_client() as client:
        anonymous = await client.post("/api/temporal-codec/decode", json=body)
        assert anonymous.status_code == 401
        inspector = await login(client, await make_user("inspector"))
        refused = await client.post(
            "/api/temporal-codec/decode", json=body, headers=inspector.headers
        )
        assert refused.status_code == 403

        staff = await login(client, await make_user("staff"))
        decoded = await client.post(
            "/api/temporal-codec/decode",
            json=body,
            headers={**staff.headers, "X-Namespace": temporal_env.client.namespace},
        )
        assert decoded.status_code == 200, decoded.text
        (plain,) = decoded.json()["payloads"]
        assert base64.b64decode(plain["metadata"]["encoding"]) == b"json/plain"
        value = json.loads(base64.b64decode(plain["data"]))
        assert value["to_name"] == buyer and value["data"]["ship_to"]["addressLine1"] == street

        # encode -> decode round trip; a foreign namespace and a malformed body are 400s
        encoded = await client.post(
            "/api/temporal-codec/encode", json={"payloads": [plain]}, headers=staff.headers
        )
        assert encoded.status_code == 200
        assert buyer not in encoded.text
        back = await client.post(
            "/api/temporal-codec/decode", json=encoded.json(), headers=staff.headers
        )
        assert back.json()["payloads"] == [plain]
        other = await client.post(
            "/api/temporal-codec/decode",
            json=body,
            headers={**staff.headers, "X-Namespace": "someone-else"},
        )
        assert other.status_code == 400
        bad = await client.post(
            "/api/temporal-codec/decode", json={"payloads": "x"}, headers=staff.headers
        )
        assert bad.status_code == 400
        tampered = MessageToDict(Payloads(payloads=[payload]))
        data = bytearray(base64.b64decode(tampered["payloads"][0]["data"]))
        data[-1] ^= 1
        tampered["payloads"][0]["data"] = base64.b64encode(bytes(data)).decode()
        broken = await client.post(
            "/api/temporal-codec/decode", json=tampered, headers=staff.headers
        )
        assert broken.status_code == 400

        # The browser UI: a codec session cookie from the staff token, then no header needed.
        opened = await client.post("/api/temporal-codec/session", headers=staff.headers)
        assert opened.status_code == 200 and opened.json()["open"] is True
        assert 0 < opened.json()["expires_in"] <= 15 * 60
        assert "httponly" in opened.headers["set-cookie"].lower()
        assert client.cookies.get(COOKIE)
        via_cookie = await client.post("/api/temporal-codec/decode", json=body)
        assert via_cookie.status_code == 200
        assert via_cookie.json()["payloads"] == [plain]
        closed = await client.delete("/api/temporal-codec/session")
        assert closed.status_code == 200 and closed.json() == {"open": False, "expires_in": 0}
        client.cookies.clear()
        assert (await client.post("/api/temporal-codec/decode", json=body)).status_code == 401
        await temporal_env.client.get_workflow_handle(workflow_id).terminate("test done")


async def test_the_web_ui_origin_may_call_the_codec(client, settings) -> None:
    origin = settings.temporal_ui_origins[0]
    preflight = await client.options(
        "/api/temporal-codec/decode",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == origin
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "x-namespace" in preflight.headers["access-control-allow-headers"].lower()


async def test_the_codec_cookie_authenticates_nothing_but_the_codec(client, logged_in) -> None:
    """A valid codec cookie must not stand in for a bearer token. (schemathesis's 'ignored auth'
    findings were not this cookie: the document declared the console's session cookie on every
    /api route, so it sent a made-up one beside the valid token; see test_attacks.)"""
    staff = await logged_in("staff")
    opened = await client.post("/api/temporal-codec/session", headers=staff.headers)
    assert opened.status_code == 200 and client.cookies.get(COOKIE)
    cookie = {"Cookie": f"{COOKIE}={client.cookies.get(COOKIE)}"}
    for headers in (cookie, {**cookie, "Authorization": "Bearer not-a-token"}):
        listed = await client.get("/api/products", headers=headers)
        created = await client.post(
            "/api/products",
            headers=headers,
            json={"sku": f"CK-{uuid.uuid4().hex[:6]}", "title_ja": "テスト", "price_jpy": 1000},
        )
        assert (listed.status_code, created.status_code) == (401, 401), headers
