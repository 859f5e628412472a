"""FedEx adapter against the FedEx emulator over real HTTP."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from pypdf import PdfReader

from adapters.carriers import Address, Commodity, Customs, Parcel, ShipmentRequest, TrackingStatus
from adapters.carriers.fedex import FedexCarrier, is_fedex_tracking_number
from adapters.errors import PermanentError, RateLimitedError, RetryableError

SHIPPER = Address(
    name="The World Door",
    company="The World Door",
    phone="0312345678",
    line1="1-1 Chiyoda",
    city="Chiyoda-ku",
    state="Tokyo",
    postal_code="1000001",
    country_code="JP",
)
BUYER = Address(
    name="Jane Doe",
    phone="+1 415 555 0100",
    line1="1 Market St",
    city="San Francisco",
    state="CA",
    postal_code="94105",
    country_code="US",
    email="jane@example.com",
)


def request(reference: str | None = None, customs: bool = True) -> ShipmentRequest:
    return ShipmentRequest(
        reference=reference or f"label:{uuid.uuid4()}",
        shipper=SHIPPER,
        recipient=BUYER,
        parcel=Parcel(weight_g=1200, length_cm=30, width_cm=20, height_cm=10),
        customs=Customs(
            commodities=[
                Commodity(
                    description="Seiko wristwatch",
                    quantity=1,
                    unit_value="129.00",
                    weight_g=300,
                    hs_code="910211",
                )
            ]
        )
        if customs
        else None,
    )


def faults(sandbox, rule: dict) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"fedex": rule}).raise_for_status()


@pytest.fixture
def fedex(settings, clean_sandbox) -> FedexCarrier:
    return FedexCarrier(settings)


def test_rates_cover_the_international_services(fedex: FedexCarrier) -> None:
    quotes = fedex.rate(request())
    services = {q.service for q in quotes}
    assert {"FEDEX_INTERNATIONAL_PRIORITY", "INTERNATIONAL_ECONOMY"} <= services
    priority = next(q for q in quotes if q.service == "FEDEX_INTERNATIONAL_PRIORITY")
    economy = next(q for q in quotes if q.service == "INTERNATIONAL_ECONOMY")
    assert float(economy.amount) < float(priority.amount) and priority.currency == "JPY"
    assert priority.transit_days is not None and priority.transit_days < economy.transit_days
    assert fedex.rate(request().model_copy(update={"recipient": SHIPPER})) == []


def test_the_label_costs_what_was_quoted_in_whole_yen(fedex: FedexCarrier) -> None:
    req = request()
    quote = next(q for q in fedex.rate(req) if q.service == "FEDEX_INTERNATIONAL_PRIORITY")
    label = fedex.ship(req)
    assert (label.amount, label.currency) == (quote.amount, quote.currency)
    assert quote.amount.isdigit()


def test_ship_returns_a_real_pdf_label_and_invoice(fedex: FedexCarrier, clean_sandbox) -> None:
    req = request()
    label = fedex.ship(req)
    assert is_fedex_tracking_number(label.tracking_number)
    text = PdfReader(io.BytesIO(label.label_data)).pages[0].extract_text()
    assert label.tracking_number in text and "Jane Doe" in text
    invoice = PdfReader(io.BytesIO(label.invoice_data)).pages[0].extract_text()
    assert "COMMERCIAL INVOICE" in invoice and "910211" in invoice
    assert clean_sandbox.ctx.ledger.count("fedex", "label_bought", req.reference) == 1


def test_international_without_customs_is_permanent(fedex: FedexCarrier) -> None:
    with pytest.raises(PermanentError):
        fedex.ship(request(customs=False))


def test_lost_ship_response_is_retryable_and_find_label_recovers_it(
    fedex: FedexCarrier, clean_sandbox
) -> None:
    req = request()
    faults(
        clean_sandbox,
        {"lost_response_rate": 1.0, "times": 1, "path_contains": "/ship/v1/shipments"},
    )
    with pytest.raises(RetryableError):
        fedex.ship(req)
    found = fedex.find_label(req.reference)
    assert found is not None and is_fedex_tracking_number(found.tracking_number)
    assert clean_sandbox.ctx.ledger.count("fedex", "label_bought", req.reference) == 1
    assert fedex.find_label("label:never-bought") is None
    second = fedex.ship(req)  # a racing attempt buys another label under the same reference
    assert [lbl.tracking_number for lbl in fedex.find_labels(req.reference)] == [
        found.tracking_number,
        second.tracking_number,
    ]


def test_cancel_then_the_label_is_no_longer_found(fedex: FedexCarrier, clean_sandbox) -> None:
    req = request()
    label = fedex.ship(req)
    assert fedex.cancel(label.tracking_number) is True
    assert fedex.find_label(req.reference) is None
    assert fedex.track(label.tracking_number).status == TrackingStatus.cancelled
    assert clean_sandbox.ctx.ledger.count("fedex", "label_cancelled", label.tracking_number) == 1


def test_tracking_advances_to_delivered(fedex: FedexCarrier, clean_sandbox) -> None:
    label = fedex.ship(request())
    assert fedex.track(label.tracking_number).status == TrackingStatus.pending
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/fedex/advance",
        json={"tracking_number": label.tracking_number, "to": "out_for_delivery"},
    )
    assert fedex.track(label.tracking_number).status == TrackingStatus.out_for_delivery
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/fedex/advance",
        json={"tracking_number": label.tracking_number, "to": "delivered"},
    )
    info = fedex.track(label.tracking_number)
    assert info.delivered and [e.status for e in info.events][-1] == TrackingStatus.delivered
    assert len(info.events) == 6


def test_unknown_tracking_number_is_permanent(fedex: FedexCarrier) -> None:
    with pytest.raises(PermanentError, match="cannot be found"):
        fedex.track("794600000000")


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(fedex: FedexCarrier, clean_sandbox, status: int) -> None:
    fedex.check_credentials()
    faults(clean_sandbox, {"error_rate": 1.0, "error_status": status, "times": 1})
    with pytest.raises(RetryableError) as err:
        fedex.rate(request())
    assert err.value.status == status and err.value.code
    assert fedex.rate(request())  # the next call goes through


def test_429_is_absorbed_after_its_retry_after(fedex: FedexCarrier, clean_sandbox) -> None:
    """The shared quota pauses for FedEx's Retry-After and the call goes through."""
    fedex.check_credentials()
    assert fedex.quota is not None
    before = fedex.quota.absorbed_429
    faults(clean_sandbox, {"rate_limit_rate": 1.0, "retry_after": 1, "times": 1})
    assert fedex.rate(request())
    assert fedex.quota.absorbed_429 == before + 1


def test_429_keeps_retry_after_without_a_quota(settings, clean_sandbox) -> None:
    fedex = FedexCarrier(settings.model_copy(update={"fedex_calls_per_second": 0}))
    assert fedex.quota is None
    fedex.check_credentials()
    faults(clean_sandbox, {"rate_limit_rate": 1.0, "retry_after": 7, "times": 1})
    with pytest.raises(RateLimitedError) as err:
        fedex.rate(request())
    assert err.value.retry_after == 7


def test_timeouts_are_retryable(settings, clean_sandbox) -> None:
    fedex = FedexCarrier(settings, http=httpx.Client(timeout=0.3))
    fedex.check_credentials()
    faults(clean_sandbox, {"latency_ms": 1500, "times": 1})
    with pytest.raises(RetryableError):
        fedex.rate(request())


def test_an_expired_token_is_refreshed_once(fedex: FedexCarrier, clean_sandbox) -> None:
    fedex.rate(request())
    assert fedex.tokens.refresh_count == 1
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/tokens/expire").raise_for_status()
    assert fedex.rate(request())
    assert fedex.tokens.refresh_count == 2


def test_wrong_credentials_are_refused(settings, clean_sandbox) -> None:
    from adapters.errors import AuthenticationError

    wrong = settings.model_copy(update={"fedex_api_key": "nope"})
    with pytest.raises(AuthenticationError):
        FedexCarrier(wrong).check_credentials()


def test_check_digit() -> None:
    from adapters.carriers.fedex import tracking_check_digit

    for body in ("79460000000", "12345678901", "00000000001"):
        number = body + str(tracking_check_digit(body))
        assert is_fedex_tracking_number(number)
        wrong = body + str((tracking_check_digit(body) + 1) % 10)
        assert not is_fedex_tracking_number(wrong)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("OC", TrackingStatus.pending),
        ("PU", TrackingStatus.picked_up),
        ("IT", TrackingStatus.in_transit),
        ("CD", TrackingStatus.on_hold),
        ("OD", TrackingStatus.out_for_delivery),
        ("DL", TrackingStatus.delivered),
        ("DE", TrackingStatus.delivery_failed),
        ("RS", TrackingStatus.return_to_sender),
        ("CA", TrackingStatus.cancelled),
    ],
)
def test_fedex_status_codes_are_normalized(code: str, status: TrackingStatus) -> None:
    from adapters.carriers.fedex import STATUS_BY_CODE

    assert STATUS_BY_CODE[code] == status


def test_track_many_asks_30_numbers_a_request(fedex: FedexCarrier, clean_sandbox) -> None:
    labels = [fedex.ship(request()).tracking_number for _ in range(2)]
    unknown = "794600000000"
    asked = [*labels * 15, unknown, labels[0]]  # 32 numbers: two requests (30 + 2)
    found = fedex.track_many(asked)
    assert clean_sandbox.ctx.ledger.count("fedex", "track_call") == 2
    assert all(found[n].status == TrackingStatus.pending for n in labels)
    assert isinstance(found[unknown], PermanentError)
