"""Staff decisions on shipping through the API, on the real worker and emulators: choosing a
quote before the label is bought (RATE_CHOICE_MINUTES), the charge beside the chosen quote, and
closing a domestic parcel by hand."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.conftest import Server, app_settings, free_port
from tests.api.test_order_flow import _as, _inspect_through_api, _recorded, _until
from tests.workflows.test_fulfillment import import_order, make_product

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
async def api(make_user, worker, temporal_env, clean_sandbox, settings):
    """The API whose order sync gives staff an hour to choose the rate."""
    from adapters.s3 import Storage
    from api.app import create_app

    Storage(settings).ensure_bucket()
    app = create_app(
        app_settings(
            settings,
            temporal_address=temporal_env.client.service_client.config.target_host,
            temporal_task_queue=worker.task_queue,
            rate_choice_minutes=60,
        )
    )
    port = free_port()
    with Server(app, port):
        yield f"http://127.0.0.1:{port}"


async def _choosing(staff, inspector, sandbox, settings, **spec) -> tuple[str, str]:
    ebay_order_id = import_order(sandbox, make_product(settings), **spec)
    assert (await staff.post("/api/operations/order-sync")).status_code in (200, 202)
    order_id = await _recorded(staff, ebay_order_id)
    await _inspect_through_api(inspector, order_id)
    order = await _until(
        staff,
        f"/api/orders/{order_id}",
        lambda b: b["live"] is not None and b["live"]["shipment_id"],
        "shipment created",
    )
    shipment_id = order["live"]["shipment_id"]
    await _until(
        staff,
        f"/api/shipments/{shipment_id}",
        lambda b: b["live"] is not None and b["live"]["step"] == "choosing",
        "rate choice open",
    )
    return order_id, shipment_id


async def test_staff_choose_a_quote_before_the_label_is_bought(
    api, make_user, settings, clean_sandbox
):
    staff = await _as(api, make_user, "staff")
    inspector = await _as(api, make_user, "inspector")
    try:
        order_id, shipment_id = await _choosing(
            staff, inspector, clean_sandbox, settings, country_code="US", buyer_email="a@x.com"
        )
        live = (await staff.get(f"/api/shipments/{shipment_id}")).json()["live"]
        policy = live["chosen"]
        quotes = (await staff.get(f"/api/shipments/{shipment_id}/quotes")).json()["quotes"]
        other = next(q for q in quotes if q["service"] != policy["service"])
        unknown = await staff.post(
            f"/api/shipments/{shipment_id}/rate", json={"carrier": "fedex", "service": "NOPE"}
        )
        assert unknown.status_code == 422 and "was not quoted" in unknown.json()["detail"]
        chosen = await staff.post(
            f"/api/shipments/{shipment_id}/rate",
            json={"carrier": other["carrier"], "service": other["service"]},
        )
        assert chosen.status_code == 200, chosen.text
        again = await staff.post(
            f"/api/shipments/{shipment_id}/rate",
            json={"carrier": policy["carrier"], "service": policy["service"]},
        )
        assert again.status_code == 422 and "no longer be chosen" in again.json()["detail"]
        shipment = await _until(
            staff,
            f"/api/shipments/{shipment_id}",
            lambda b: b["tracking_number"] != "",
            "label bought",
        )
        assert shipment["service"] == other["service"]  # the staff's choice, not the policy's
        assert shipment["status"] == "label_created"  # bought; FedEx has not scanned it yet
        assert float(shipment["quoted_amount"]) == float(other["amount"])
        assert float(shipment["cost_amount"]) == float(other["amount"])  # what FedEx charged
        assert shipment["charge_flag"] == ""
    finally:
        await staff.aclose()
        await inspector.aclose()


async def test_staff_mark_a_domestic_parcel_delivered(api, make_user, settings, clean_sandbox):
    """Yamato: nobody chooses (the cheapest in time is bought when the window closes is shown in
    the fast tier); here staff pick it, type the issued number in and close the parcel by hand;
    the order completes."""
    staff = await _as(api, make_user, "staff")
    inspector = await _as(api, make_user, "inspector")
    try:
        order_id, shipment_id = await _choosing(
            staff, inspector, clean_sandbox, settings, domestic=True, buyer_email="t@x.jp"
        )
        live = (await staff.get(f"/api/shipments/{shipment_id}")).json()["live"]
        policy = live["chosen"]
        early = await staff.post(f"/api/shipments/{shipment_id}/delivered", json={"note": "x"})
        assert early.status_code == 409  # no label yet
        chosen = await staff.post(
            f"/api/shipments/{shipment_id}/rate",
            json={"carrier": policy["carrier"], "service": policy["service"]},
        )
        assert chosen.status_code == 200, chosen.text
        await _until(
            staff,
            f"/api/shipments/{shipment_id}",
            lambda b: b["live"] is not None and b["live"]["step"] == "awaiting_tracking",
            "awaiting tracking",
        )
        carrier = policy["carrier"]
        side = "b2" if carrier == "yamato" else "ehiden"
        handoff = (await staff.get(f"/api/shipments/{shipment_id}/handoff")).json()
        async with httpx.AsyncClient(base_url=clean_sandbox.base_url, timeout=20) as http:
            csv = (await http.get(handoff["url"])).content
            issued = await http.post(
                f"/_sandbox/{carrier}/{side}/import",
                content=csv,
                headers={"Content-Type": "text/csv"},
            )
        tracking = issued.json()["issued"][0]["tracking_number"]
        typed = await staff.post(
            f"/api/shipments/{shipment_id}/tracking", json={"tracking_number": tracking}
        )
        assert typed.status_code == 200, typed.text
        await _until(
            staff, f"/api/orders/{order_id}", lambda b: b["status"] == "shipped", "shipped"
        )
        blank = await staff.post(f"/api/shipments/{shipment_id}/delivered", json={"note": ""})
        assert blank.status_code == 400
        done = await staff.post(
            f"/api/shipments/{shipment_id}/delivered",
            json={"note": "buyer confirmed by phone"},
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "delivered"
        assert "buyer confirmed by phone" in done.json()["events"][-1]["description"]
        await _until(
            staff, f"/api/orders/{order_id}", lambda b: b["status"] == "completed", "completed"
        )
    finally:
        await staff.aclose()
        await inspector.aclose()


async def test_staff_choose_a_quote_in_the_console(api, make_user, settings, clean_sandbox):
    """The console's rate form (session + CSRF, `carrier|service` radios) reaches the same
    update: the label is bought for the quote chosen on the page, not the policy's."""
    from tests.console.conftest import csrf_from

    staff = await _as(api, make_user, "staff")
    inspector = await _as(api, make_user, "inspector")
    person = await make_user("staff")
    async with httpx.AsyncClient(base_url=api, timeout=30, follow_redirects=True) as browser:
        try:
            _, shipment_id = await _choosing(
                staff, inspector, clean_sandbox, settings, country_code="US", buyer_email="c@x.com"
            )
            login = await browser.get("/console/login")
            signed_in = await browser.post(
                "/console/login",
                data={
                    "_csrf_token": csrf_from(login.text),
                    "email": person.email,
                    "password": person.password,
                },
            )
            assert signed_in.status_code == 200 and "/console/login" not in str(signed_in.url)
            page = await browser.get(f"/console/shipments/{shipment_id}")
            policy = (await staff.get(f"/api/shipments/{shipment_id}")).json()["live"]["chosen"]
            radios = re.findall(r'name="rate" id="rate-\d+" value="([^"]+)"', page.text)
            other = next(value for value in radios if value.split("|")[1] != policy["service"])
            chosen = await browser.post(
                f"/console/shipments/{shipment_id}/rate",
                data={"_csrf_token": csrf_from(page.text), "rate": other},
            )
            assert chosen.status_code == 200, chosen.text
            shipment = await _until(
                staff,
                f"/api/shipments/{shipment_id}",
                lambda b: b["tracking_number"] != "",
                "label bought",
            )
            assert shipment["service"] == other.split("|")[1]
        finally:
            await staff.aclose()
            await inspector.aclose()
