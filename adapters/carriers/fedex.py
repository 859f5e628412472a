"""FedEx REST (OAuth client credentials, Rate, Ship, Track). The SOAP services with meter
numbers are retired; the older FEDEX_KEY/FEDEX_PASSWORD names map to the REST key pair in config.

Ship is not idempotent (each call buys a label), so every shipment carries our reference as a
CUSTOMER_REFERENCE, and `find_label` looks it up through Track-by-reference after a lost answer.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from adapters.carriers.base import (
    Address,
    Label,
    RateQuote,
    ShipmentRequest,
    TrackingEvent,
    TrackingInfo,
    TrackingStatus,
)
from adapters.errors import AdapterError, AuthenticationError, PermanentError
from adapters.http import DEFAULT_TIMEOUT, TokenCache, call_json
from adapters.quota import vendor_quota
from config import Settings

SERVICE = "fedex"
INTERNATIONAL_SERVICES = (
    "FEDEX_INTERNATIONAL_PRIORITY",
    "INTERNATIONAL_ECONOMY",
    "FEDEX_INTERNATIONAL_CONNECT_PLUS",
)
REFERENCE_TYPE = "CUSTOMER_REFERENCE"
TRACK_BATCH = 30
"""Tracking numbers per Track request (the spec's `trackingInfo` maximum)."""

# FedEx derived status codes (Track API appendix) -> our normalized status.
STATUS_BY_CODE: dict[str, TrackingStatus] = {
    "OC": TrackingStatus.pending,  # label created
    "IN": TrackingStatus.pending,
    "PU": TrackingStatus.picked_up,
    "PX": TrackingStatus.picked_up,
    "IT": TrackingStatus.in_transit,
    "AR": TrackingStatus.in_transit,
    "DP": TrackingStatus.in_transit,
    "AF": TrackingStatus.in_transit,
    "CC": TrackingStatus.in_transit,  # cleared customs
    "CD": TrackingStatus.on_hold,  # clearance delay
    "SE": TrackingStatus.on_hold,
    "DY": TrackingStatus.delivery_delayed,
    "DD": TrackingStatus.delivery_delayed,
    "OD": TrackingStatus.out_for_delivery,
    "DL": TrackingStatus.delivered,
    "DE": TrackingStatus.delivery_failed,
    "HL": TrackingStatus.ready_for_pickup,
    "RS": TrackingStatus.return_to_sender,
    "CA": TrackingStatus.cancelled,
}


def tracking_check_digit(first_eleven: str) -> int:
    """FedEx Express 12-digit numbers: weights 1, 3, 7 from the right, sum mod 11 (10 -> 0)."""
    weights = (1, 3, 7)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(first_eleven)))
    return total % 11 % 10


def is_fedex_tracking_number(number: str) -> bool:
    return (
        len(number) == 12
        and number.isdigit()
        and int(number[11]) == tracking_check_digit(number[:11])
    )


def _parse_error(response: httpx.Response) -> tuple[str, str | None, Any]:
    body = response.json()
    errors = body.get("errors") or []
    if errors:
        first = errors[0]
        return first.get("message", ""), first.get("code"), errors
    return response.text[:500], None, body


class FedexCarrier:
    name = SERVICE
    track_batch = TRACK_BATCH

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.base = settings.fedex_api_url
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self.tokens = TokenCache(self._fetch_token, margin=600)
        self.quota = vendor_quota(
            SERVICE,
            settings.fedex_calls_per_second,
            settings.fedex_call_burst,
            settings.redis_url,
            settings.store_namespace,
        )

    # --- auth ---

    def _fetch_token(self) -> tuple[str, float]:
        response = call_json(
            self.http,
            SERVICE,
            "POST",
            f"{self.base}/oauth/token",
            tokens=None,
            parse_error=_parse_error,
            expected=(200,),
            quota=self.quota,
            data={
                "grant_type": "client_credentials",
                "client_id": self.settings.fedex_api_key,
                "client_secret": self.settings.fedex_secret_key.get_secret_value(),
            },
        )
        body = response.json()
        return body["access_token"], float(body.get("expires_in", 3600))

    def check_credentials(self) -> None:
        self.tokens.get()

    def _call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = call_json(
            self.http,
            SERVICE,
            method,
            f"{self.base}{path}",
            tokens=self.tokens,
            parse_error=_parse_error,
            quota=self.quota,
            json=body,
            headers={
                "Content-Type": "application/json",
                "x-locale": "en_US",
                "x-customer-transaction-id": str(uuid.uuid4()),
            },
            expected=(200,),
        )
        return response.json()

    # --- the Carrier protocol ---

    def serves(self, shipper: Address, recipient: Address) -> bool:
        return shipper.country_code == "JP" and recipient.country_code != "JP"

    def rate(self, request: ShipmentRequest) -> list[RateQuote]:
        if not self.serves(request.shipper, request.recipient):
            return []
        body: dict[str, Any] = {
            "accountNumber": {"value": self.settings.fedex_account_number},
            "rateRequestControlParameters": {"returnTransitTimes": True},
            "requestedShipment": {
                "shipper": {"address": _rate_address(request.shipper)},
                "recipient": {"address": _rate_address(request.recipient)},
                "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
                "rateRequestType": ["ACCOUNT", "LIST"],
                "requestedPackageLineItems": [_package(request)],
            },
        }
        if request.customs:
            customs = _customs(request)
            customs.pop("dutiesPayment")  # the Rate API only accepts SENDER here; irrelevant
            body["requestedShipment"]["customsClearanceDetail"] = customs
        output = self._call("POST", "/rate/v1/rates/quotes", body).get("output", {})
        quotes = []
        for detail in output.get("rateReplyDetails", []):
            rated = _preferred_rate(detail.get("ratedShipmentDetails", []))
            if rated is None:
                continue
            transit = (detail.get("commit") or {}).get("daysInTransit") or (
                detail.get("operationalDetail") or {}
            ).get("transitTime")
            quotes.append(
                RateQuote(
                    carrier=SERVICE,
                    service=detail["serviceType"],
                    service_name=detail.get("serviceName", ""),
                    amount=_amount(rated["totalNetCharge"], rated.get("currency", "JPY")),
                    currency=rated.get("currency", "JPY"),
                    transit_days=_days(transit),
                )
            )
        return quotes

    def ship(self, request: ShipmentRequest) -> Label:
        if not self.serves(request.shipper, request.recipient):
            raise PermanentError(SERVICE, "FedEx carries our parcels abroad only")
        if request.customs is None:
            raise PermanentError(SERVICE, "international shipments need customs data")
        service = request.service or INTERNATIONAL_SERVICES[0]
        package = _package(request)
        package["customerReferences"] = [
            {"customerReferenceType": REFERENCE_TYPE, "value": request.reference}
        ]
        body = {
            "labelResponseOptions": "LABEL",
            "accountNumber": {"value": self.settings.fedex_account_number},
            "requestedShipment": {
                "shipDatestamp": (request.ship_date or date.today()).isoformat(),
                "serviceType": service,
                "packagingType": "YOUR_PACKAGING",
                "pickupType": "DROPOFF_AT_FEDEX_LOCATION",
                "shipper": _party(request.shipper),
                "recipients": [_party(request.recipient)],
                "shippingChargesPayment": {"paymentType": "SENDER"},
                "labelSpecification": {"imageType": "PDF", "labelStockType": "PAPER_4X6"},
                "totalWeight": request.parcel.weight_g / 1000,
                "requestedPackageLineItems": [package],
                "customsClearanceDetail": _customs(request),
                "shippingDocumentSpecification": {
                    "shippingDocumentTypes": ["COMMERCIAL_INVOICE"],
                    "commercialInvoiceDetail": {
                        "documentFormat": {"stockType": "PAPER_LETTER", "docType": "PDF"}
                    },
                },
            },
        }
        output = self._call("POST", "/ship/v1/shipments", body)["output"]
        shipment = output["transactionShipments"][0]
        piece = shipment["pieceResponses"][0]
        label = next((d for d in piece.get("packageDocuments", []) if d.get("encodedLabel")), None)
        if label is None:
            raise PermanentError(SERVICE, "FedEx returned no label document")
        invoice = next(
            (
                d
                for d in shipment.get("shipmentDocuments", [])
                if d.get("contentType") == "COMMERCIAL_INVOICE" and d.get("encodedLabel")
            ),
            None,
        )
        rating = (shipment.get("completedShipmentDetail") or {}).get("shipmentRating") or {}
        charge = _actual_rate(rating)
        return Label(
            carrier=SERVICE,
            service=shipment.get("serviceType", service),
            tracking_number=piece.get("trackingNumber") or shipment["masterTrackingNumber"],
            reference=request.reference,
            label_format="PDF",
            label_data=base64.b64decode(label["encodedLabel"]),
            invoice_data=base64.b64decode(invoice["encodedLabel"]) if invoice else None,
            amount=_amount(charge["totalNetCharge"], charge.get("currency", ""))
            if "totalNetCharge" in charge
            else "",
            currency=str(charge.get("currency", "")),
        )

    def find_label(self, reference: str) -> Label | None:
        labels = self.find_labels(reference)
        return labels[0] if labels else None

    def find_labels(self, reference: str) -> list[Label]:
        """Every live (not cancelled) label bought under our reference, oldest first."""
        today = datetime.now(UTC).date()
        body = {
            "referencesInformation": {
                "type": REFERENCE_TYPE,
                "value": reference,
                "accountNumber": self.settings.fedex_account_number,
                "carrierCode": "FDXE",
                "shipDateBegin": (today - timedelta(days=30)).isoformat(),
                "shipDateEndDate": (today + timedelta(days=1)).isoformat(),
            },
            "includeDetailedScans": False,
        }
        output = self._call("POST", "/track/v1/referencenumbers", body).get("output", {})
        labels = []
        for complete in output.get("completeTrackResults", []):
            for result in complete.get("trackResults", []):
                number = (result.get("trackingNumberInfo") or {}).get("trackingNumber")
                status = (result.get("latestStatusDetail") or {}).get("derivedCode", "")
                if number and result.get("error") is None and status != "CA":
                    labels.append(
                        Label(
                            carrier=SERVICE,
                            service=(result.get("serviceDetail") or {}).get("type", ""),
                            tracking_number=number,
                            reference=reference,
                        )
                    )
        return labels

    def parse_issued_history(self, data: bytes) -> list[tuple[str, str]]:
        """FedEx issues the tracking number with the label: there is no history file."""
        raise ValueError("FedEx issues tracking numbers at once and has no issued-history file")

    def cancel(self, tracking_number: str) -> bool:
        output = self._call(
            "PUT",
            "/ship/v1/shipments/cancel",
            {
                "accountNumber": {"value": self.settings.fedex_account_number},
                "senderCountryCode": "JP",
                "deletionControl": "DELETE_ALL_PACKAGES",
                "trackingNumber": tracking_number,
            },
        ).get("output", {})
        return bool(output.get("cancelledShipment"))

    def track(self, tracking_number: str) -> TrackingInfo:
        result = self._track_results([tracking_number])[tracking_number]
        if isinstance(result, AdapterError):
            raise result
        return result

    def track_many(self, tracking_numbers: list[str]) -> dict[str, TrackingInfo | AdapterError]:
        """Up to TRACK_BATCH numbers per Track call (FedEx's limit): one answer per number, a
        number FedEx does not know comes back as its error rather than failing the batch."""
        found: dict[str, TrackingInfo | AdapterError] = {}
        for i in range(0, len(tracking_numbers), TRACK_BATCH):
            found |= self._track_results(tracking_numbers[i : i + TRACK_BATCH])
        return found

    def _track_results(self, numbers: list[str]) -> dict[str, TrackingInfo | AdapterError]:
        body = {
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers],
        }
        output = self._call("POST", "/track/v1/trackingnumbers", body).get("output", {})
        found: dict[str, TrackingInfo | AdapterError] = {}
        for complete in output.get("completeTrackResults", []):
            number = complete.get("trackingNumber", "")
            result = (complete.get("trackResults") or [{}])[0]
            found[number] = _tracking_info(number, result)
        for number in numbers:  # FedEx answers every number; a missing one is an error too
            found.setdefault(number, PermanentError(SERVICE, "no track result", code="MISSING"))
        return found


def _tracking_info(number: str, result: dict[str, Any]) -> TrackingInfo | AdapterError:
    if result.get("error"):
        error = result["error"]
        return PermanentError(SERVICE, error.get("message", ""), code=error.get("code"))
    latest = result.get("latestStatusDetail") or {}
    # FedEx lists scans newest first; reversed, a stable sort keeps same-second scans in order.
    events = [
        TrackingEvent(
            occurred_at=datetime.fromisoformat(scan["date"]),
            status=STATUS_BY_CODE.get(scan.get("derivedStatusCode", ""), TrackingStatus.unknown),
            code=scan.get("eventType", ""),
            description=scan.get("eventDescription", ""),
            location=_location(scan.get("scanLocation") or {}),
        )
        for scan in reversed(result.get("scanEvents", []))
    ]
    events.sort(key=lambda e: e.occurred_at)
    return TrackingInfo(
        carrier=SERVICE,
        tracking_number=number,
        status=STATUS_BY_CODE.get(latest.get("derivedCode", ""), TrackingStatus.unknown),
        events=events,
    )


def _rate_address(address: Address) -> dict[str, Any]:
    out: dict[str, Any] = {"postalCode": address.postal_code, "countryCode": address.country_code}
    if address.state and address.country_code in ("US", "CA"):
        out["stateOrProvinceCode"] = address.state
    return out


def _party(address: Address) -> dict[str, Any]:
    contact = {"personName": address.name, "phoneNumber": address.phone or "0000000000"}
    if address.company:
        contact["companyName"] = address.company
    if address.email:
        contact["emailAddress"] = address.email
    postal: dict[str, Any] = {
        "streetLines": [line for line in (address.line1, address.line2) if line],
        "city": address.city,
        "postalCode": address.postal_code,
        "countryCode": address.country_code,
        "residential": address.residential,
    }
    if address.state and address.country_code in ("US", "CA"):
        postal["stateOrProvinceCode"] = address.state
    return {"contact": contact, "address": postal}


def _package(request: ShipmentRequest) -> dict[str, Any]:
    parcel = request.parcel
    return {
        "weight": {"units": "KG", "value": round(parcel.weight_g / 1000, 3)},
        "dimensions": {
            "length": max(1, round(parcel.length_cm)),
            "width": max(1, round(parcel.width_cm)),
            "height": max(1, round(parcel.height_cm)),
            "units": "CM",
        },
    }


def _customs(request: ShipmentRequest) -> dict[str, Any]:
    assert request.customs is not None
    customs = request.customs
    currency = customs.commodities[0].currency if customs.commodities else "USD"
    total = sum(Decimal(c.unit_value) * c.quantity for c in customs.commodities)
    return {
        "dutiesPayment": {"paymentType": customs.duties_paid_by},
        "commercialInvoice": {
            "shipmentPurpose": customs.purpose,
            "termsOfSale": customs.terms_of_sale,
        },
        "totalCustomsValue": {"amount": float(total), "currency": currency},
        "commodities": [
            {
                "description": c.description[:450],
                "countryOfManufacture": c.origin_country,
                "quantity": c.quantity,
                "quantityUnits": "PCS",
                "unitPrice": {"amount": float(Decimal(c.unit_value)), "currency": c.currency},
                "customsValue": {
                    "amount": float(Decimal(c.unit_value) * c.quantity),
                    "currency": c.currency,
                },
                "weight": {"units": "KG", "value": round(c.weight_g / 1000, 3)},
                **({"harmonizedCode": c.hs_code} if c.hs_code else {}),
            }
            for c in customs.commodities
        ],
    }


def _amount(value: Any, currency: str) -> str:
    """A charge as text: whole units for JPY (FedEx quotes yen without decimals), else cents."""
    places = Decimal(1) if currency in ("JPY", "JYE") else Decimal("0.01")
    return str(Decimal(str(value)).quantize(places))


def _actual_rate(rating: dict[str, Any]) -> dict[str, Any]:
    """The rate FedEx says it charged (`actualRateType`), else the first one listed."""
    details = rating.get("shipmentRateDetails") or [{}]
    actual = rating.get("actualRateType")
    return next((d for d in details if d.get("rateType") == actual), details[0])


def _preferred_rate(details: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Our negotiated (ACCOUNT) rate when FedEx gives one, else the list rate."""
    by_type = {d.get("rateType"): d for d in details}
    return by_type.get("ACCOUNT") or by_type.get("LIST") or (details[0] if details else None)


def _days(value: Any) -> int | None:
    words = {
        "ONE": 1,
        "TWO": 2,
        "THREE": 3,
        "FOUR": 4,
        "FIVE": 5,
        "SIX": 6,
        "SEVEN": 7,
        "EIGHT": 8,
        "NINE": 9,
        "TEN": 10,
    }
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        value = value.get("maximumTransitTime") or value.get("minimumTransitTime")
    if isinstance(value, str):
        return words.get(value.replace("_DAYS", "").replace("_DAY", ""))
    return None


def _location(scan_location: dict[str, Any]) -> str:
    return ", ".join(p for p in (scan_location.get("city"), scan_location.get("countryCode")) if p)


__all__ = ["AuthenticationError", "FedexCarrier", "is_fedex_tracking_number"]
