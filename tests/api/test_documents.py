"""Files and documents through the API against the real local S3 server: bounded uploads (S3
refuses a file above the ceiling), product images removed/replaced through PATCH, every
document as a short-lived presigned GET for the roles that need it, and the inspection media
downloaded as the exact versions the verdict recorded."""

from __future__ import annotations

import uuid

import anyio.to_thread
import httpx
import pytest

from tests.api.conftest import login
from tests.uploads import apost_upload

PDF = b"%PDF-1.4\n% document\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def storage(settings, sandbox):
    from adapters.s3 import Storage

    store = Storage(settings)
    store.ensure_bucket()
    return store


def _shipment(settings, carrier: str) -> dict[str, str]:
    from models import Order, Shipment
    from models.db import session_scope

    with session_scope(settings) as session:
        order = Order(
            ebay_order_id=f"12-{uuid.uuid4().hex[:5]}-{uuid.uuid4().hex[:5]}",
            buyer_username="buyer",
            buyer_email="buyer@example.com",
            ship_to={"full_name": "Jane Buyer", "country_code": "US"},
            line_items=[{"sku": "WD-1", "title": "Seiko watch", "quantity": 1}],
            total_value="299.00",
            status="shipped",
        )
        session.add(order)
        session.flush()
        shipment = Shipment(order_id=order.id, carrier=carrier, service="X", status="in_transit")
        session.add(shipment)
        session.flush()
        sid = str(shipment.id)
        if carrier == "fedex":
            shipment.label_key = f"shipping-labels/{sid}.pdf"
        else:
            shipment.handoff_key = f"documents/{carrier}/{sid}.csv"
        session.add(shipment)
        return {"order_id": str(order.id), "shipment_id": sid}


def _inspection(settings, order_id: str, keys: list[str], versions: dict[str, str]) -> None:
    from models import Inspection
    from models.db import session_scope

    with session_scope(settings) as session:
        session.add(
            Inspection(
                order_id=uuid.UUID(order_id),
                checklist=[{"key": "matches_photos"}],
                media_keys=keys,
                media_versions=versions,
                result="passed",
            )
        )


async def _fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


async def test_documents_download_by_role(client, make_user, settings, storage):
    from activities.shipping import invoice_key

    staff = await login(client, await make_user("staff"))
    inspector = await login(client, await make_user("inspector"))
    fedex = await anyio.to_thread.run_sync(lambda: _shipment(settings, "fedex"))
    yamato = await anyio.to_thread.run_sync(lambda: _shipment(settings, "yamato"))
    fid, yid = fedex["shipment_id"], yamato["shipment_id"]
    csv = "お届け先,千代田区\r\n".encode("shift_jis")

    def store() -> None:
        storage.put_bytes(f"shipping-labels/{fid}.pdf", PDF, "application/pdf")
        storage.put_bytes(invoice_key("fedex", fid), PDF + b"invoice", "application/pdf")
        storage.put_bytes(f"documents/yamato/{yid}.csv", csv, "text/csv")

    await anyio.to_thread.run_sync(store)
    wanted = {
        f"/api/shipments/{fid}/label": PDF,
        f"/api/shipments/{fid}/invoice": PDF + b"invoice",
        f"/api/shipments/{yid}/handoff": csv,
    }
    for path, content in wanted.items():
        answer = await client.get(path, headers=staff.headers)
        assert answer.status_code == 200, (path, answer.text)
        body = answer.json()
        assert body["expires_in"] == settings.download_url_seconds
        assert f"X-Amz-Expires={settings.download_url_seconds}" in body["url"]
        assert (await _fetch(body["url"])).content == content
        refused = await client.get(path, headers=inspector.headers)
        assert refused.status_code == 403, path
        assert (await client.get(path)).status_code == 401
    assert (
        await client.get(f"/api/shipments/{yid}/invoice", headers=staff.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/shipments/{uuid.uuid4()}/invoice", headers=staff.headers)
    ).status_code == 404


async def test_inspection_media_download_the_recorded_versions(
    client, make_user, settings, storage
):
    staff = await login(client, await make_user("staff"))
    inspector = await login(client, await make_user("inspector"))
    order_id = (await anyio.to_thread.run_sync(lambda: _shipment(settings, "fedex")))["order_id"]
    photo = f"inspection-videos/{order_id}/a1-front.jpg"
    video = f"inspection-videos/{order_id}/b2-unbox.mp4"

    def store() -> dict[str, str]:
        storage.put_bytes(photo, b"\xff\xd8photo", "image/jpeg")
        storage.put_bytes(video, b"\x00\x00\x00\x18ftypmp42", "video/mp4")
        recorded = {photo: storage.version_id(photo), video: storage.version_id(video)}
        storage.put_bytes(photo, b"\xff\xd8written later", "image/jpeg")
        return recorded

    versions = await anyio.to_thread.run_sync(store)
    await anyio.to_thread.run_sync(
        lambda: _inspection(settings, order_id, [photo, video], versions)
    )
    for account in (staff, inspector):
        answer = await client.get(f"/api/inspections/{order_id}/media", headers=account.headers)
        assert answer.status_code == 200, answer.text
        media = {m["key"]: m for m in answer.json()}
        assert media[photo]["version_id"] == versions[photo]
        assert (await _fetch(media[photo]["url"])).content == b"\xff\xd8photo"
        assert (await _fetch(media[video]["url"])).content == b"\x00\x00\x00\x18ftypmp42"
    closed = await client.post(
        f"/api/inspections/{order_id}/media/upload-urls",
        headers=inspector.headers,
        json={"file_names": ["late.mp4"], "content_type": "video/mp4"},
    )
    assert closed.status_code == 409  # evidence closes with the verdict
    assert (await client.get(f"/api/inspections/{order_id}/media")).status_code == 401


async def test_a_result_with_a_malformed_media_key_is_refused_at_once(client, make_user, settings):
    inspector = await login(client, await make_user("inspector"))
    order_id = str(uuid.uuid4())
    for key in (
        f"inspection-videos/{order_id}/../../shipping-labels/x.pdf",
        f"inspection-videos/{order_id}//x.mp4",
    ):
        answer = await client.post(
            f"/api/inspections/{order_id}/result",
            headers=inspector.headers,
            json={"answers": {"matches_photos": True}, "media_keys": [key]},
        )
        assert answer.status_code == 422, answer.text


async def test_uploads_are_bounded_by_s3(make_client, make_user, settings, storage):
    async with make_client(max_image_upload_bytes=200) as client:
        staff = await login(client, await make_user("staff"))
        product = await client.post(
            "/api/products",
            headers=staff.headers,
            json={"sku": f"UP-{uuid.uuid4().hex[:8]}", "title_ja": "茶碗", "price_jpy": 3000},
        )
        target = await client.post(
            f"/api/products/{product.json()['id']}/images/upload-url",
            headers=staff.headers,
            json={"file_name": "big.png", "content_type": "image/png"},
        )
        assert target.status_code == 200, target.text
        form = target.json()
        assert form["method"] == "POST" and form["max_bytes"] == 200
        assert form["fields"]["key"] == form["key"]
        too_large = await apost_upload(form, PNG * 4)
        assert too_large.status_code == 400 and "EntityTooLarge" in too_large.text
        assert not await anyio.to_thread.run_sync(lambda: storage.exists(form["key"]))
        assert (await apost_upload(form, PNG)).status_code == 204


async def test_product_images_removed_replaced_and_validated(client, make_user, settings, storage):
    staff = await login(client, await make_user("staff"))
    sku = f"IMG-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        "/api/products",
        headers=staff.headers,
        json={"sku": sku, "title_ja": "鉄瓶", "price_jpy": 12000},
    )
    pid = created.json()["id"]

    async def upload() -> str:
        target = await client.post(
            f"/api/products/{pid}/images/upload-url",
            headers=staff.headers,
            json={"file_name": "x.png", "content_type": "image/png"},
        )
        (await apost_upload(target.json(), PNG)).raise_for_status()
        return target.json()["key"]

    first, second, third = await upload(), await upload(), await upload()
    for key in (first, second):
        attached = await client.post(
            f"/api/products/{pid}/images", headers=staff.headers, json={"key": key}
        )
        assert attached.status_code == 200
    assert attached.json()["image_keys"] == [first, second]

    replaced = await client.patch(
        f"/api/products/{pid}", headers=staff.headers, json={"image_keys": [third, first]}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["image_keys"] == [third, first]
    removed = await client.patch(
        f"/api/products/{pid}", headers=staff.headers, json={"image_keys": [first]}
    )
    assert removed.json()["image_keys"] == [first]

    bad = [
        [f"product-images/{sku}/../../shipping-labels/x.pdf"],
        [f"product-images/{sku}//x.png"],
        ["product-images/OTHER-SKU/x.png"],
        [f"product-images/{sku}/never-uploaded.png"],
        [first, first],
        ["../../etc/passwd"],
    ]
    for keys in bad:
        answer = await client.patch(
            f"/api/products/{pid}", headers=staff.headers, json={"image_keys": keys}
        )
        assert answer.status_code == 422, (keys, answer.text)
        attach = await client.post(
            f"/api/products/{pid}/images", headers=staff.headers, json={"key": keys[0]}
        )
        assert attach.status_code in (200, 422), (keys, attach.text)
        if keys[0] != first:
            assert attach.status_code == 422, keys
    unknown = await client.patch(
        f"/api/products/{pid}", headers=staff.headers, json={"images": [third]}
    )
    assert unknown.status_code == 400, unknown.text
    final = await client.get(f"/api/products/{pid}", headers=staff.headers)
    assert final.json()["image_keys"] == [first]


async def test_product_image_downloads_by_index_for_staff(client, make_user, settings, storage):
    staff = await login(client, await make_user("staff"))
    inspector = await login(client, await make_user("inspector"))
    created = await client.post(
        "/api/products",
        headers=staff.headers,
        json={"sku": f"IMG-{uuid.uuid4().hex[:8]}", "title_ja": "茶碗", "price_jpy": 9000},
    )
    pid = created.json()["id"]
    keys = []
    for content in (PNG, PNG + b"second"):
        target = await client.post(
            f"/api/products/{pid}/images/upload-url",
            headers=staff.headers,
            json={"file_name": "x.png", "content_type": "image/png"},
        )
        (await apost_upload(target.json(), content)).raise_for_status()
        keys.append(target.json()["key"])
        attached = await client.post(
            f"/api/products/{pid}/images", headers=staff.headers, json={"key": keys[-1]}
        )
        assert attached.status_code == 200, attached.text

    for index, content in enumerate((PNG, PNG + b"second")):
        answer = await client.get(f"/api/products/{pid}/images/{index}", headers=staff.headers)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["key"] == keys[index]
        assert body["expires_in"] == settings.download_url_seconds
        assert (await _fetch(body["url"])).content == content
    for index in (2, -1):
        missing = await client.get(f"/api/products/{pid}/images/{index}", headers=staff.headers)
        assert missing.status_code == 404, (index, missing.text)
        assert "2 images" in missing.json()["detail"]
    unknown = await client.get(f"/api/products/{uuid.uuid4()}/images/0", headers=staff.headers)
    assert unknown.status_code == 404
    assert (
        await client.get(f"/api/products/{pid}/images/0", headers=inspector.headers)
    ).status_code == 403
    assert (await client.get(f"/api/products/{pid}/images/0")).status_code == 401
