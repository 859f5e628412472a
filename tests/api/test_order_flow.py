"""An eBay order through the API, end to end on the real worker: the API triggers the order sync,
the order appears in the list, the inspector uploads media with the API's presigned URLs and
submits the verdict (workflow update), the label PDF is downloaded through the API; a second
order is cancelled by staff through the API (workflow update) and compensated."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.api.conftest import Server, app_settings, free_port, login
from tests.uploads import apost_upload
from tests.workflows.test_fulfillment import import_order, make_product

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
async def api(make_user, worker, temporal_env, clean_sandbox, settings):
    """Base URL of the API under uvicorn (see test_listing_routes for why not in-process)."""
    from adapters.s3 import Storage
    from api.app import create_app

    Storage(settings).ensure_bucket()
    app = create_app(
        app_settings(
            settings,
            temporal_address=temporal_env.client.service_client.config.target_host,
            temporal_task_queue=worker.task_queue,
        )
    )
    port = free_port()
    with Server(app, port):
        yield f"http://127.0.0.1:{port}"


async def _as(api: str, make_user, role: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=api, timeout=30)
    account = await login(client, await make_user(role))
    client.headers.update(account.headers)
    return client


async def _until(client, url: str, check, what: str, seconds: float = 40):
    deadline = asyncio.get_running_loop().time() + seconds
    body = None
    while asyncio.get_running_loop().time() < deadline:
        response = await client.get(url)
        if response.status_code == 200:
            body = response.json()
            if check(body):
                return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"never reached {what}: {body}")


async def _recorded(staff, ebay_order_id: str) -> str:
    found = await _until(
        staff,
        f"/api/orders?q={ebay_order_id}&total=true",
        lambda b: b["total"] == 1,
        "order recorded",
    )
    order_id = found["items"][0]["id"]
    await _until(
        staff,
        f"/api/orders/{order_id}",
        lambda b: b["live"] is not None and b["live"]["step"] == "inspecting",
        "inspecting",
    )
    return order_id


async def _inspect_through_api(inspector, order_id: str) -> None:
    queued = await _until(
        inspector,
        f"/api/inspections/{order_id}",
        lambda b: b["live"] is not None and b["live"]["step"] == "awaiting_result",
        "inspection waiting",
    )
    queue = await inspector.get("/api/inspections", params={"limit": 200})
    assert order_id in [item["order_id"] for item in queue.json()["items"]]
    checklist = [item["key"] for item in queued["live"]["checklist"]]
    targets = await inspector.post(
        f"/api/inspections/{order_id}/media/upload-urls",
        json={"file_names": ["check.mp4"], "content_type": "video/mp4"},
    )
    assert targets.status_code == 200, targets.text
    keys = [t["key"] for t in targets.json()]
    missing_media = await inspector.post(
        f"/api/inspections/{order_id}/result",
        json={"answers": {k: True for k in checklist}, "media_keys": keys},
    )
    assert missing_media.status_code == 422  # nothing uploaded yet: the workflow refuses
    for target in targets.json():
        (await apost_upload(target, b"\x00" * 128)).raise_for_status()
    incomplete = await inspector.post(
        f"/api/inspections/{order_id}/result",
        json={"answers": {checklist[0]: True, "made_up": True}, "media_keys": keys},
    )
    assert incomplete.status_code == 422
    verdict = await inspector.post(
        f"/api/inspections/{order_id}/result",
        json={"answers": {k: True for k in checklist}, "media_keys": keys},
    )
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["passed"] is True
    again = await inspector.post(
        f"/api/inspections/{order_id}/result",
        json={"answers": {k: True for k in checklist}, "media_keys": keys},
    )
    assert again.status_code in (409, 422)  # one verdict per inspection


async def test_sync_inspect_and_cancel_through_the_api(api, make_user, settings, clean_sandbox):
    staff = await _as(api, make_user, "staff")
    inspector = await _as(api, make_user, "inspector")
    try:
        inspected_id = import_order(
            clean_sandbox, make_product(settings), country_code="US", buyer_email="pat@example.com"
        )
        cancelled_id = import_order(
            clean_sandbox,
            make_product(settings, quantity=1),
            country_code="DE",
            buyer_email="kim@example.de",
        )
        sync = await staff.post("/api/operations/order-sync")
        assert sync.status_code in (200, 202), sync.text

        order_id = await _recorded(staff, inspected_id)
        await _inspect_through_api(inspector, order_id)
        after = await _until(
            staff,
            f"/api/orders/{order_id}",
            lambda b: (
                b["inspection"] is not None
                and b["inspection"]["result"] == "passed"
                and b["live"]["inspection_result"] == "passed"
            ),
            "inspection recorded",
        )
        assert after["inspection"]["media_keys"]

        other_id = await _recorded(staff, cancelled_id)
        refused = await inspector.post(f"/api/orders/{other_id}/cancel", json={"reason": "x"})
        assert refused.status_code == 403
        blank = await staff.post(f"/api/orders/{other_id}/cancel", json={"reason": "  "})
        assert blank.status_code in (409, 422)
        cancel = await staff.post(
            f"/api/orders/{other_id}/cancel", json={"reason": "out of stock at the warehouse"}
        )
        assert cancel.status_code == 200, cancel.text
        assert cancel.json()["cancel_reason"] == "out of stock at the warehouse"
        await _until(
            staff, f"/api/orders/{other_id}", lambda b: b["status"] == "cancelled", "cancelled"
        )
        queue = await inspector.get("/api/inspections", params={"limit": 200})
        assert other_id not in [item["order_id"] for item in queue.json()["items"]]
        late = await inspector.post(
            f"/api/inspections/{other_id}/result",
            json={
                "answers": {"matches_photos": True},
                "media_keys": [f"inspection-videos/{other_id}/late.mp4"],
            },
        )
        assert late.status_code == 409 and "cancelled" in late.json()["detail"], late.text
        no_decision = await staff.post(
            f"/api/orders/{other_id}/inspection-decision", json={"refund": "now"}
        )
        assert no_decision.status_code in (404, 409)  # nothing failed: no decision awaited
        status = await staff.get(f"/api/operations/workflows/order-{cancelled_id}")
        assert status.status_code == 200, status.text
        assert status.json()["status"] == "completed"
        unknown = await staff.get(f"/api/operations/workflows/order-{uuid.uuid4().hex}")
        assert unknown.status_code == 404
    finally:
        await staff.aclose()
        await inspector.aclose()


async def test_label_download_after_inspection(api, make_user, settings, clean_sandbox):
    pytest.importorskip("adapters.carriers.registry", reason="carrier adapters not built yet")
    staff = await _as(api, make_user, "staff")
    inspector = await _as(api, make_user, "inspector")
    try:
        ebay_order_id = import_order(
            clean_sandbox, make_product(settings), country_code="US", buyer_email="al@example.com"
        )
        assert (await staff.post("/api/operations/order-sync")).status_code in (200, 202)
        order_id = await _recorded(staff, ebay_order_id)
        await _inspect_through_api(inspector, order_id)
        shipped = await _until(
            staff,
            f"/api/orders/{order_id}",
            lambda b: b["live"] is not None and b["live"]["step"] == "in_transit",
            "in transit",
        )
        shipment_id = shipped["live"]["shipment_id"]
        quotes = await staff.get(f"/api/shipments/{shipment_id}/quotes")
        assert quotes.status_code == 200 and quotes.json()["quotes"]
        label = await staff.get(f"/api/shipments/{shipment_id}/label")
        assert label.status_code == 200, label.text
        async with httpx.AsyncClient() as s3:
            pdf = await s3.get(label.json()["url"])
        assert pdf.content.startswith(b"%PDF")
        too_late = await staff.post(f"/api/orders/{order_id}/cancel", json={"reason": "oops"})
        assert too_late.status_code in (409, 422) and "too late" in too_late.json()["detail"]
    finally:
        await staff.aclose()
        await inspector.aclose()


async def test_domestic_tracking_number_submitted_through_the_api(
    api, make_user, settings, clean_sandbox
):
    """Yamato/Sagawa: staff download the import CSV through the API, the carrier issues the
    number, staff type it in through the API (LabelWorkflow update); a wrong check digit is
    refused."""
    registry = pytest.importorskip(
        "adapters.carriers.registry", reason="carrier adapters not built yet"
    )
    staff = await _as(api, make_user, "staff")
    inspector = await _as(api, make_user, "inspector")
    try:
        ebay_order_id = import_order(
            clean_sandbox, make_product(settings), domestic=True, buyer_email="taro@example.jp"
        )
        assert (await staff.post("/api/operations/order-sync")).status_code in (200, 202)
        order_id = await _recorded(staff, ebay_order_id)
        await _inspect_through_api(inspector, order_id)
        labelling = await _until(
            staff,
            f"/api/orders/{order_id}",
            lambda b: b["live"] is not None and b["live"]["shipment_id"],
            "shipment created",
        )
        shipment_id = labelling["live"]["shipment_id"]
        waiting = await _until(
            staff,
            f"/api/shipments/{shipment_id}",
            lambda b: b["live"] is not None and b["live"]["step"] == "awaiting_tracking",
            "awaiting tracking",
        )
        carrier = waiting["live"]["carrier"]
        assert carrier in ("yamato", "sagawa")
        handoff = await staff.get(f"/api/shipments/{shipment_id}/handoff")
        assert handoff.status_code == 200, handoff.text
        async with httpx.AsyncClient(base_url=clean_sandbox.base_url, timeout=20) as http:
            csv = (await http.get(handoff.json()["url"])).content
            side = "b2" if carrier == "yamato" else "ehiden"
            imported = await http.post(
                f"/_sandbox/{carrier}/{side}/import",
                content=csv,
                headers={"Content-Type": "text/csv"},
            )
            imported.raise_for_status()
            history = await http.get(f"/_sandbox/{carrier}/{side}/history")
            history.raise_for_status()
        parser = registry.all_carriers(settings)[carrier]
        tracking = dict(parser.parse_issued_history(history.content))[f"label:{shipment_id}"]
        bad = tracking[:-1] + str((int(tracking[-1]) + 1) % 10)
        refused = await staff.post(
            f"/api/shipments/{shipment_id}/tracking", json={"tracking_number": bad}
        )
        assert refused.status_code in (409, 422), refused.text
        accepted = await staff.post(
            f"/api/shipments/{shipment_id}/tracking", json={"tracking_number": tracking}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["tracking_number"] == tracking
        await _until(
            staff, f"/api/orders/{order_id}", lambda b: b["status"] == "shipped", "shipped"
        )
    finally:
        await staff.aclose()
        await inspector.aclose()
