"""Yamato and Sagawa: CSV hand-off files, the carrier-side import and history, tracking pages."""

from __future__ import annotations

import uuid

import httpx
import pytest

from adapters.carriers import Address, Parcel, ShipmentRequest, TrackingStatus
from adapters.carriers.jp_csv import ENCODING, decode_csv, fit_bytes, size_class
from adapters.carriers.sagawa import SagawaCarrier
from adapters.carriers.yamato import YamatoCarrier
from adapters.errors import PermanentError
from domain.tracking import is_jp_tracking_number, make_jp_tracking_number

SHIPPER = Address(
    name="ザ・ワールドドア",
    company="The World Door",
    phone="0312345678",
    line1="千代田1-1",
    city="千代田区",
    state="東京都",
    postal_code="1000001",
    country_code="JP",
)
OSAKA = Address(
    name="山田太郎",
    phone="0612345678",
    line1="梅田1-2-3",
    line2="梅田ビル501",
    city="大阪市北区",
    state="大阪府",
    postal_code="5300001",
    country_code="JP",
    email="taro@example.jp",
)
SAPPORO = OSAKA.model_copy(
    update={"state": "北海道", "city": "札幌市中央区", "postal_code": "0600001"}
)
ABROAD = OSAKA.model_copy(update={"country_code": "US", "state": "CA"})


def request(recipient: Address = OSAKA) -> ShipmentRequest:
    return ShipmentRequest(
        reference=f"label:{uuid.uuid4()}",
        shipper=SHIPPER,
        recipient=recipient,
        parcel=Parcel(weight_g=1500, length_cm=25, width_cm=20, height_cm=10),
        item_description="腕時計",
    )


CARRIERS = [
    (YamatoCarrier, "b2", 97, "伝票番号"),
    (SagawaCarrier, "ehiden", 74, "お問い合せ送り状No."),
]


@pytest.mark.parametrize(("cls", "_base", "columns", "_col"), CARRIERS)
def test_the_import_file_is_shift_jis_crlf_with_the_layout(settings, cls, _base, columns, _col):
    carrier = cls(settings)
    req = request()
    label = carrier.ship(req)
    assert label.label_format == "CSV" and label.tracking_number == ""
    data = label.label_data
    text = data.decode("cp932")
    assert text.endswith("\r\n") and text.count("\r\n") == 2
    assert len(text.split("\r\n")[0].split(",")) == columns
    row = decode_csv(data)[0]
    assert row["お客様管理番号"] == req.reference
    assert "大阪府" in "".join(row.values()) and "山田太郎" in row.values()


@pytest.mark.parametrize(("cls", "base", "_columns", "_col"), CARRIERS)
def test_round_trip_through_the_carrier_side(settings, clean_sandbox, cls, base, _columns, _col):
    carrier = cls(settings)
    requests = [request(), request(SAPPORO)]
    csv = carrier.export_batch(requests)
    url = f"{clean_sandbox.base_url}/_sandbox/{carrier.name}/{base}"
    assert httpx.post(f"{url}/import", content=csv).status_code == 200
    again = httpx.post(f"{url}/import", content=csv).json()["issued"]  # same refs, same numbers
    history = httpx.get(f"{url}/history").content
    pairs = dict(carrier.parse_issued_history(history))
    assert set(pairs) == {r.reference for r in requests}
    assert all(is_jp_tracking_number(n) for n in pairs.values())
    assert {i["tracking_number"] for i in again} == set(pairs.values())
    for r in requests:
        assert clean_sandbox.ctx.ledger.count(carrier.name, "label_issued", r.reference) == 1


@pytest.mark.parametrize(("cls", "base", "_columns", "_col"), CARRIERS)
def test_the_carrier_side_refuses_bad_files(settings, clean_sandbox, cls, base, _columns, _col):
    carrier = cls(settings)
    url = f"{clean_sandbox.base_url}/_sandbox/{carrier.name}/{base}/import"
    good = carrier.export_batch([request()])
    assert httpx.post(url, content=good.decode("cp932").encode("utf-8")).status_code == 400
    assert httpx.post(url, content=good.replace(b"\r\n", b"\n")).status_code == 400
    short = b"a,b,c\r\n1,2,3\r\n"
    assert "columns" in httpx.post(url, content=short).text


@pytest.mark.parametrize(("cls", "_base", "_columns", "col"), CARRIERS)
def test_history_with_a_bad_check_digit_is_refused(settings, cls, _base, _columns, col):
    carrier = cls(settings)
    good = make_jp_tracking_number(12345)
    bad = good[:11] + str((int(good[11]) + 1) % 10)
    from adapters.carriers.jp_csv import encode_csv

    data = encode_csv(["お客様管理番号", col], [["label:x", bad]])
    with pytest.raises(ValueError, match="not a valid"):
        carrier.parse_issued_history(data)
    with pytest.raises(ValueError, match="missing the columns"):
        carrier.parse_issued_history(encode_csv(["a", "b"], [["1", "2"]]))


@pytest.mark.parametrize(("cls", "base", "_columns", "_col"), CARRIERS)
def test_tracking_pages_when_enabled(settings, clean_sandbox, cls, base, _columns, _col):
    enabled = settings.model_copy(
        update={"yamato_tracking_enabled": True, "sagawa_tracking_enabled": True}
    )
    carrier = cls(enabled)
    req = request()
    url = f"{clean_sandbox.base_url}/_sandbox/{carrier.name}"
    number = httpx.post(f"{url}/{base}/import", content=carrier.export_batch([req])).json()[
        "issued"
    ][0]["tracking_number"]
    assert carrier.track(number).status == TrackingStatus.pending  # issued, not yet picked up
    httpx.post(
        f"{url}/advance", json={"tracking_number": number, "to": "picked_up"}
    ).raise_for_status()
    first = carrier.track(number)
    assert first.status == TrackingStatus.picked_up and first.events[0].description
    httpx.post(
        f"{url}/advance", json={"tracking_number": number, "to": "配達中"}
    ).raise_for_status()
    assert carrier.track(number).status == TrackingStatus.out_for_delivery
    httpx.post(f"{url}/advance", json={"tracking_number": number, "to": "delivered"})
    assert carrier.track(number).delivered
    disabled = settings.model_copy(
        update={"yamato_tracking_enabled": False, "sagawa_tracking_enabled": False}
    )
    assert cls(disabled).track(number).status == TrackingStatus.unknown  # setting off


@pytest.mark.parametrize(("cls", "_base", "_columns", "_col"), CARRIERS)
def test_rates_follow_size_and_distance(settings, cls, _base, _columns, _col):
    carrier = cls(settings)
    near = carrier.rate(request())[0]
    far = carrier.rate(request(SAPPORO))[0]
    assert near.currency == "JPY" and float(far.amount) > float(near.amount)
    assert far.transit_days >= near.transit_days
    assert carrier.rate(request(ABROAD)) == []
    assert not carrier.serves(SHIPPER, ABROAD)
    big = request().model_copy(
        update={"parcel": Parcel(weight_g=30000, length_cm=80, width_cm=60, height_cm=50)}
    )
    with pytest.raises(PermanentError):
        carrier.rate(big)


def test_size_classes() -> None:
    assert size_class(Parcel(weight_g=1000, length_cm=20, width_cm=20, height_cm=20)) == 60
    assert size_class(Parcel(weight_g=6000, length_cm=20, width_cm=20, height_cm=20)) == 100


def test_registry_has_all_three(settings) -> None:
    from adapters.carriers import Carrier
    from adapters.carriers.registry import all_carriers

    carriers = all_carriers(settings)
    assert set(carriers) == {"fedex", "yamato", "sagawa"}
    assert all(isinstance(c, Carrier) for c in carriers.values())


def test_fields_are_cut_in_shift_jis_bytes_on_character_and_word_boundaries() -> None:
    assert fit_bytes("腕時計", 50) == "腕時計"
    assert fit_bytes("南部鉄器の急須", 5) == "南部"  # 4 bytes; a third kanji would make 6
    assert fit_bytes("Iwachu Nambu Tekki Teapot 0.6L", 16) == "Iwachu Nambu"
    assert fit_bytes("岩鋳 Iwachu Teapot", 12) == "岩鋳 Iwachu"
    text = "Iwachu Nambu Tekki cast iron teapot 0.6L with strainer, unused"
    assert len(fit_bytes(text, 50).encode(ENCODING)) <= 50


@pytest.mark.parametrize(("cls", "limit"), [(YamatoCarrier, 50), (SagawaCarrier, 32)])
def test_a_long_item_name_is_cut_and_reported(settings, cls, limit):
    long_name = "Iwachu Nambu Tekki cast iron teapot 0.6L with strainer 岩鋳 南部鉄器 急須"
    label = cls(settings).ship(request().model_copy(update={"item_description": long_name}))
    [row] = decode_csv(label.label_data)
    name = row["品名１"]
    assert len(name.encode(ENCODING)) <= limit and long_name.startswith(name)
    assert name.endswith(name.split()[-1]) and long_name[len(name)] == " "
    [note] = label.warnings
    assert "品名１" in note and f"{limit} bytes" in note
    short = cls(settings).ship(request())
    assert short.warnings == []
