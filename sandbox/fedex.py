"""FedEx REST emulator: OAuth, Rate, Ship (real PDF labels and invoices), Cancel, Track by
number and by reference, with shipments that advance through scan events over time.

Controls: `POST /_sandbox/fedex/advance {"tracking_number", "to"}` jumps a shipment to a status;
`POST /_sandbox/fedex/settings {"seconds_per_step"}` sets how fast shipments move on their own.
"""

from __future__ import annotations

import base64
import itertools
import secrets
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

from litestar import Litestar, Request, Response, get, post, put
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath

from adapters.carriers.fedex import tracking_check_digit
from sandbox.core import SandboxContext
from sandbox.fedex_rates import (
    SERVICE_NAMES,
    SERVICES,
    RatingError,
    check_service,
    price,
    rated_detail,
    shipment_rate_detail,
)
from sandbox.labels import invoice_pdf, label_pdf
from sandbox.oas import SpecViolation, load_spec

SERVICE = "fedex"
TOKEN_TTL = 3599
TRACK_LIMIT = 30
"""Tracking numbers per Track request (track.json, `trackingInfo`)."""

# The life of a parcel: (derived code, event type, description, where, location type).
TIMELINE: tuple[tuple[str, str, str, str, str], ...] = (
    ("OC", "OC", "Shipment information sent to FedEx", "origin", "CUSTOMER"),
    ("PU", "PU", "Picked up", "origin", "PICKUP_LOCATION"),
    ("IT", "DP", "Departed FedEx location", "origin_hub", "ORIGIN_AIRPORT"),
    ("AR", "AR", "Arrived at FedEx location", "destination_hub", "DESTINATION_AIRPORT"),
    ("OD", "OD", "On FedEx vehicle for delivery", "destination", "VEHICLE"),
    ("DL", "DL", "Delivered", "destination", "DELIVERY_LOCATION"),
)
CODES = [step[0] for step in TIMELINE]
DAY_WORDS = [
    "",
    "ONE_DAY",
    "TWO_DAYS",
    "THREE_DAYS",
    "FOUR_DAYS",
    "FIVE_DAYS",
    "SIX_DAYS",
    "SEVEN_DAYS",
    "EIGHT_DAYS",
    "NINE_DAYS",
]
# The hub a parcel leaves a country from / arrives in: (city, state or province).
HUBS = {
    "JP": ("NARITA-SHI", "12"),
    "US": ("MEMPHIS", "TN"),
    "CA": ("MISSISSAUGA", "ON"),
    "MX": ("MEXICO CITY", ""),
    "GB": ("STANSTED", ""),
    "DE": ("COLOGNE", ""),
    "FR": ("ROISSY CHARLES DE GAULLE", ""),
    "AU": ("SYDNEY", "NSW"),
    "KR": ("INCHEON", ""),
    "CN": ("GUANGZHOU", ""),
    "HK": ("HONG KONG", ""),
    "TW": ("TAIPEI", ""),
    "SG": ("SINGAPORE", ""),
    "TH": ("BANGKOK", ""),
}
# Local standard-time offsets (hours) for scan times; US and Canada by state or province.
UTC_OFFSET = {"JP": 9, "KR": 9, "CN": 8, "HK": 8, "TW": 8, "SG": 8, "TH": 7, "AU": 10}
UTC_OFFSET |= {"GB": 0, "DE": 1, "FR": 1, "MX": -6, "US": -5, "CA": -5}
STATE_OFFSET = {
    **dict.fromkeys(("CA", "WA", "OR", "NV", "BC"), -8),
    **dict.fromkeys(("AZ", "CO", "UT", "NM", "ID", "MT", "WY", "AB"), -7),
    **dict.fromkeys(("TX", "IL", "TN", "MN", "MO", "WI", "LA", "OK", "KS", "MB"), -6),
    **dict.fromkeys(("AK",), -9),
    **dict.fromkeys(("HI",), -10),
}


def error_body(status: int, message: str, code: str | None = None) -> dict[str, Any]:
    default = {
        400: "INVALID.INPUT.EXCEPTION",
        401: "NOT.AUTHORIZED.ERROR",
        403: "FORBIDDEN.ERROR",
        404: "NOT.FOUND.ERROR",
        429: "RATE.LIMIT.EXCEEDED",
        500: "INTERNAL.SERVER.ERROR",
        503: "SERVICE.UNAVAILABLE.ERROR",
    }
    return {
        "transactionId": str(uuid.uuid4()),
        "errors": [
            {"code": code or default.get(status, "INTERNAL.SERVER.ERROR"), "message": message}
        ],
    }


def _fail(status: int, message: str, code: str | None = None) -> Response[dict[str, Any]]:
    return Response(error_body(status, message, code), status_code=status)


@dataclass(frozen=True)
class Place:
    city: str
    state: str
    country: str

    @classmethod
    def of(cls, address: dict[str, Any]) -> Place:
        return cls(
            str(address.get("city") or "").upper(),
            str(address.get("stateOrProvinceCode") or ""),
            str(address.get("countryCode") or ""),
        )

    def hub(self) -> Place:
        city, state = HUBS.get(self.country, (self.city, self.state))
        return Place(city, state, self.country)

    def zone(self) -> timezone:
        hours = UTC_OFFSET.get(self.country, 0)
        if self.country in ("US", "CA"):
            hours = STATE_OFFSET.get(self.state, hours)
        return timezone(timedelta(hours=hours))


@dataclass
class Parcel:
    tracking_number: str
    reference: str
    service: str
    created_at: float
    origin: Place
    destination: Place
    account: str = ""
    documents: dict[str, bytes] = field(default_factory=dict)
    cancelled: bool = False
    forced_step: int | None = None


@dataclass
class FedexState:
    parcels: dict[str, Parcel] = field(default_factory=dict)
    serials: itertools.count = field(default_factory=lambda: itertools.count(1))
    seconds_per_step: float = 600.0
    surcharge_percent: float = 0.0  # added to every label charge (address correction, fuel)

    def new_tracking_number(self) -> str:
        body = f"79{next(self.serials) + secrets.randbelow(10**6) * 1000:09d}"[-11:]
        return body + str(tracking_check_digit(body))

    def step_of(self, parcel: Parcel) -> int:
        if parcel.forced_step is not None:
            return parcel.forced_step
        elapsed = time.time() - parcel.created_at
        return min(int(elapsed // self.seconds_per_step), len(TIMELINE) - 1)


def state_of(ctx: SandboxContext) -> FedexState:
    state = getattr(ctx, "_fedex_state", None)
    if state is None:
        state = FedexState()
        ctx._fedex_state = state  # type: ignore[attr-defined]

        def reset() -> None:
            state.parcels.clear()
            state.seconds_per_step = 600.0

        ctx.reset_hooks.append(reset)
    return state


def _validate(schema: str, spec: str, body: Any) -> None:
    """Against the named component of FedEx's spec (its request bodies are `oneOf` samples)."""
    load_spec(spec)._validate(f"components/schemas/{schema}", body)


def _place_of(parcel: Parcel, where: str) -> Place:
    return {
        "origin": parcel.origin,
        "origin_hub": parcel.origin.hub(),
        "destination_hub": parcel.destination.hub(),
        "destination": parcel.destination,
    }[where]


def _scan_events(parcel: Parcel, state: FedexState) -> list[dict[str, Any]]:
    """Scans along the parcel's route, in local time with seconds and offset, none in the
    future: a parcel pushed ahead by the control endpoint has its scans spread until now."""
    count = state.step_of(parcel) + 1
    now = time.time()
    step = state.seconds_per_step
    if count > 1 and parcel.created_at + (count - 1) * step > now:
        step = max(0.0, (now - parcel.created_at) / (count - 1))
    events = []
    for index in range(count):
        code, event_type, description, where, location_type = TIMELINE[index]
        place = _place_of(parcel, where)
        at = datetime.fromtimestamp(int(parcel.created_at + index * step), UTC)
        location: dict[str, Any] = {
            "city": place.city,
            "countryCode": place.country,
            "residential": False,
        }
        if place.state:
            location["stateOrProvinceCode"] = place.state
        events.append(
            {
                "date": at.astimezone(place.zone()).isoformat(),
                "eventType": event_type,
                "eventDescription": description,
                "derivedStatusCode": code,
                "derivedStatus": description,
                "locationType": location_type,
                "scanLocation": location,
            }
        )
    return list(reversed(events))  # newest first, as FedEx lists them


def _track_result(parcel: Parcel, state: FedexState, detailed: bool) -> dict[str, Any]:
    code = "CA" if parcel.cancelled else CODES[state.step_of(parcel)]
    description = "Shipment cancelled" if parcel.cancelled else TIMELINE[CODES.index(code)][2]
    result: dict[str, Any] = {
        "trackingNumberInfo": {"trackingNumber": parcel.tracking_number, "carrierCode": "FDXE"},
        "latestStatusDetail": {
            "code": code,
            "derivedCode": code,
            "statusByLocale": description,
            "description": description,
        },
        "serviceDetail": {"type": parcel.service},
    }
    if detailed:
        result["scanEvents"] = _scan_events(parcel, state)
    return result


def create_app(ctx: SandboxContext) -> Litestar:
    state = state_of(ctx)
    tokens = ctx.tokens[SERVICE]
    settings = ctx.settings

    def authorized(request: Request[Any, Any, Any]) -> bool:
        return tokens.valid(request.headers.get("authorization"))

    @post("/oauth/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        form = await request.form()
        if form.get("grant_type") != "client_credentials":
            return _fail(400, "The grant type is not supported.", "INVALID.INPUT.EXCEPTION")
        if (
            form.get("client_id") != settings.fedex_api_key
            or form.get("client_secret") != settings.fedex_secret_key.get_secret_value()
        ):
            return _fail(
                401, "The given client credentials were not valid.", "NOT.AUTHORIZED.ERROR"
            )
        return Response(
            {
                "access_token": tokens.issue(TOKEN_TTL),
                "token_type": "bearer",
                "expires_in": TOKEN_TTL,
                "scope": "CXS-TP",
            }
        )

    async def guarded(request: Request[Any, Any, Any], schema: str, spec: str) -> Any:
        if not authorized(request):
            raise _Refused(
                _fail(
                    401,
                    "Access token expired. Please modify your request and try again.",
                    "NOT.AUTHORIZED.ERROR",
                )
            )
        body = await request.json()
        try:
            _validate(schema, spec, body)
        except SpecViolation as exc:
            raise _Refused(
                _fail(400, f"Invalid request: {exc}", "INVALID.INPUT.EXCEPTION")
            ) from exc
        return body

    def check_account(body: dict[str, Any]) -> None:
        if (body.get("accountNumber") or {}).get("value") != settings.fedex_account_number:
            raise _Refused(
                _fail(
                    403,
                    "The account number is not registered to this API key.",
                    "ACCOUNTNUMBER.REGISTRATION.REQUIRED",
                )
            )

    def check_route(service: str | None, shipper: str, recipient: str) -> None:
        try:
            check_service(service, shipper, recipient)
        except RatingError as exc:
            raise _Refused(_fail(400, str(exc), exc.code)) from exc

    @post("/rate/v1/rates/quotes", status_code=200)
    async def rate(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Quote_Rate", "fedex-rate")
        check_account(body)
        shipment = body["requestedShipment"]
        country = shipment["recipient"]["address"]["countryCode"]
        asked = shipment.get("serviceType")
        check_route(asked, shipment["shipper"]["address"]["countryCode"], country)
        packages = shipment["requestedPackageLineItems"]
        kinds = set(shipment.get("rateRequestType") or ["ACCOUNT"])
        preferred = shipment.get("preferredCurrency")
        details = []
        for service, name, _factor, days in SERVICES:
            if asked and service != asked:
                continue
            try:
                rated = [rated_detail(price(service, country, packages, "ACCOUNT"), "ACCOUNT")]
                if "LIST" in kinds:
                    rated.append(rated_detail(price(service, country, packages, "LIST"), "LIST"))
                if "PREFERRED" in kinds and preferred:
                    charge = price(service, country, packages, "ACCOUNT", preferred)
                    rated.append(rated_detail(charge, "PREFERRED_CURRENCY"))
            except RatingError as exc:
                return _fail(400, str(exc), exc.code)
            details.append(
                {
                    "serviceType": service,
                    "serviceName": name,
                    "packagingType": shipment.get("packagingType", "YOUR_PACKAGING"),
                    "customerMessages": [
                        {
                            "code": "SERVICE.TYPE.INTERNATIONAL.MESSAGE",
                            "message": "Rate does not include duties & taxes, clearance entry"
                            " fees or other import fees.",
                        }
                    ],
                    "commit": {
                        "daysInTransit": DAY_WORDS[days],
                        "dateDetail": {
                            "dayOfWeek": _weekday(_commit_date(shipment, days)),
                            "dayCxsFormat": _commit_date(shipment, days),
                        },
                    },
                    "operationalDetail": {
                        "transitTime": DAY_WORDS[days],
                        "commitDate": _commit_date(shipment, days),
                    },
                    "signatureOptionType": "SERVICE_DEFAULT",
                    "ratedShipmentDetails": rated,
                }
            )
        return Response(
            {
                "transactionId": str(uuid.uuid4()),
                **_echo(request),
                "output": {
                    "rateReplyDetails": details,
                    "quoteDate": datetime.now(UTC).date().isoformat(),
                    "encoded": False,
                },
            }
        )

    @post("/ship/v1/shipments", status_code=200)
    async def ship(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Ship", "fedex-ship")
        check_account(body)
        shipment = body["requestedShipment"]
        recipient = Place.of(shipment["recipients"][0]["address"])
        shipper = Place.of(shipment["shipper"]["address"])
        service = shipment["serviceType"]
        check_route(service, shipper.country, recipient.country)
        customs = shipment.get("customsClearanceDetail")
        if not (customs and customs.get("commodities")):
            return _fail(
                400, "Commodities are required for international shipments.", "COMMODITIES.REQUIRED"
            )
        packages = shipment["requestedPackageLineItems"]
        package = packages[0]
        reference = next(
            (
                r["value"]
                for r in package.get("customerReferences", [])
                if r.get("customerReferenceType") == "CUSTOMER_REFERENCE"
            ),
            "",
        )
        account_charge = price(service, recipient.country, packages, "ACCOUNT")
        if state.surcharge_percent:  # set through the controls: billed above the quote
            extra = account_charge.net * Decimal(str(state.surcharge_percent)) / 100
            account_charge = replace(
                account_charge, fuel=account_charge.fuel + extra.quantize(Decimal("0.01"))
            )
        list_charge = price(service, recipient.country, packages, "LIST")
        number = state.new_tracking_number()
        parcel = Parcel(
            number,
            reference,
            service,
            time.time(),
            shipper,
            recipient,
            account=body["accountNumber"]["value"],
        )
        state.parcels[number] = parcel
        ctx.ledger.record(SERVICE, "label_bought", reference or number)
        parcel.documents["LABEL"] = label_pdf(number, service, shipment)
        if customs:
            parcel.documents["COMMERCIAL_INVOICE"] = invoice_pdf(number, shipment)
        url_only = body.get("labelResponseOptions") == "URL_ONLY"
        base = str(request.base_url).rstrip("/")

        def document(kind: str) -> dict[str, Any]:
            out: dict[str, Any] = {"contentType": kind, "copiesToPrint": 1, "docType": "PDF"}
            if url_only:
                out["url"] = f"{base}/document/v1/cache/retrieve/{number}-{kind}.pdf"
            else:
                out["encodedLabel"] = base64.b64encode(parcel.documents[kind]).decode()
            return out

        shipment_documents = [document(k) for k in parcel.documents if k != "LABEL"]
        return Response(
            {
                "transactionId": str(uuid.uuid4()),
                **_echo(request),
                "output": {
                    "transactionShipments": [
                        {
                            "masterTrackingNumber": number,
                            "serviceType": service,
                            "serviceCategory": "EXPRESS",
                            "shipDatestamp": shipment.get("shipDatestamp", ""),
                            "serviceName": SERVICE_NAMES[service],
                            "pieceResponses": [
                                {
                                    "masterTrackingNumber": number,
                                    "trackingNumber": number,
                                    "deliveryDatestamp": _commit_date(
                                        shipment, _transit_days(service)
                                    )[:10],
                                    "customerReferences": package.get("customerReferences", []),
                                    "packageDocuments": [document("LABEL")],
                                }
                            ],
                            "shipmentDocuments": shipment_documents,
                            "completedShipmentDetail": {
                                "carrierCode": "FDXE",
                                "masterTrackingId": {
                                    "trackingIdType": "FEDEX",
                                    "trackingNumber": number,
                                },
                                "shipmentRating": {
                                    "actualRateType": "PAYOR_ACCOUNT_SHIPMENT",
                                    "shipmentRateDetails": [
                                        shipment_rate_detail(
                                            account_charge, "PAYOR_ACCOUNT_SHIPMENT"
                                        ),
                                        shipment_rate_detail(list_charge, "PAYOR_LIST_SHIPMENT"),
                                    ],
                                },
                            },
                            "alerts": [],
                        }
                    ]
                },
            }
        )

    @get("/document/v1/cache/retrieve/{name:str}")
    async def document(name: FromPath[str]) -> Response[Any]:
        number, _, kind = name.removesuffix(".pdf").partition("-")
        parcel = state.parcels.get(number)
        if parcel is None or kind not in parcel.documents:
            return _fail(404, "The requested document was not found.", "NOT.FOUND.ERROR")
        return Response(parcel.documents[kind], media_type="application/pdf")

    @put("/ship/v1/shipments/cancel", status_code=200)
    async def cancel(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Cancel_Shipment", "fedex-ship")
        parcel = state.parcels.get(body["trackingNumber"])
        if parcel is None:
            return _fail(
                404,
                "Error with entered Tracking Number. Please verify the entered Tracking Number.",
                "TRACKINGNUMBER.ENTERED.INVALID",
            )
        if body["accountNumber"]["value"] != parcel.account:
            return _fail(
                403,
                "Requested user is not authorized to perform the operation.",
                "SHIPMENT.USER.UNAUTHORIZED",
            )
        if state.step_of(parcel) >= 1 and not parcel.cancelled:
            return _fail(
                400,
                "The shipment was already tendered and cannot be cancelled.",
                "SHIPMENT.CANCEL.NOTALLOWED",
            )
        if not parcel.cancelled:
            parcel.cancelled = True
            ctx.ledger.record(SERVICE, "label_cancelled", parcel.tracking_number)
        return Response(
            {
                "transactionId": str(uuid.uuid4()),
                **_echo(request),
                "output": {
                    "cancelledShipment": True,
                    "cancelledHistory": True,
                    "message": "Shipment is successfully cancelled",
                },
            }
        )

    @post("/track/v1/trackingnumbers", status_code=200)
    async def track(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Tracking_Numbers", "fedex-track")
        if not 1 <= len(body["trackingInfo"]) <= TRACK_LIMIT:  # the spec: "Maximum limit is 30"
            return _fail(
                400,
                f"trackingInfo takes 1 to {TRACK_LIMIT} tracking numbers per request.",
                "TRACKING.TRACKINGNUMBER.LIMITEXCEEDED",
            )
        ctx.ledger.record(SERVICE, "track_call", str(len(body["trackingInfo"])))
        results = []
        for info in body["trackingInfo"]:
            number = info["trackingNumberInfo"]["trackingNumber"]
            ctx.ledger.record(SERVICE, "tracked", number)
            parcel = state.parcels.get(number)
            result = (
                _track_result(parcel, state, bool(body.get("includeDetailedScans")))
                if parcel
                else {
                    "trackingNumberInfo": {"trackingNumber": number},
                    "error": {
                        "code": "TRACKING.TRACKINGNUMBER.NOTFOUND",
                        "message": "Tracking number cannot be found.",
                    },
                }
            )
            results.append({"trackingNumber": number, "trackResults": [result]})
        return Response(
            {
                "transactionId": str(uuid.uuid4()),
                **_echo(request),
                "output": {"completeTrackResults": results},
            }
        )

    @post("/track/v1/referencenumbers", status_code=200)
    async def track_by_reference(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Tracking_References", "fedex-track")
        value = body["referencesInformation"]["value"]
        found = [p for p in state.parcels.values() if p.reference == value]
        results = [_track_result(p, state, bool(body.get("includeDetailedScans"))) for p in found]
        if not results:
            results = [
                {
                    "error": {
                        "code": "TRACKING.REFERENCENUMBER.NOTFOUND",
                        "message": "Reference number cannot be found.",
                    }
                }
            ]
        return Response(
            {
                "transactionId": str(uuid.uuid4()),
                **_echo(request),
                "output": {
                    "completeTrackResults": [{"trackingNumber": value, "trackResults": results}]
                },
            }
        )

    return Litestar(
        [token, rate, ship, document, cancel, track, track_by_reference],
        openapi_config=None,
        exception_handlers={HTTPException: _http_error, _Refused: _refused},
    )


def _transit_days(service: str) -> int:
    return next(s[3] for s in SERVICES if s[0] == service)


def _commit_date(shipment: dict[str, Any], days: int) -> str:
    """The committed delivery: `days` business days after the ship date, by 18:00."""
    try:
        day = datetime.fromisoformat(str(shipment.get("shipDatestamp"))[:10]).date()
    except ValueError:
        day = datetime.now(UTC).date()
    left = days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return f"{day.isoformat()}T18:00:00"


def _weekday(moment: str) -> str:
    return datetime.fromisoformat(moment).strftime("%a").upper()


def _echo(request: Request[Any, Any, Any]) -> dict[str, str]:
    """FedEx echoes `x-customer-transaction-id` as `customerTransactionId`."""
    value = request.headers.get("x-customer-transaction-id")
    return {"customerTransactionId": value} if value else {}


class _Refused(Exception):
    def __init__(self, response: Response[dict[str, Any]]) -> None:
        super().__init__("refused")
        self.response = response


def _refused(_request: Request[Any, Any, Any], exc: _Refused) -> Response[dict[str, Any]]:
    """A request FedEx would refuse (token, schema): answered in FedEx's error shape."""
    return exc.response


def _http_error(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    return _fail(exc.status_code, str(exc.detail))


def control_handlers(ctx: SandboxContext) -> list[Any]:
    state = state_of(ctx)

    @post("/_sandbox/fedex/advance", status_code=200)
    async def advance(data: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        parcel = state.parcels.get(str(data.get("tracking_number", "")))
        target = {
            "picked_up": "PU",
            "in_transit": "IT",
            "arrived": "AR",
            "out_for_delivery": "OD",
            "delivered": "DL",
        }.get(str(data.get("to", "")), str(data.get("to", "")))
        if parcel is None:
            raise HTTPException(status_code=404, detail="unknown tracking number")
        if target not in CODES:
            raise HTTPException(status_code=400, detail=f"'to' must be one of {CODES}")
        parcel.forced_step = CODES.index(target)
        return {"tracking_number": parcel.tracking_number, "status": target}

    @post("/_sandbox/fedex/settings", status_code=200)
    async def fedex_settings(data: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        seconds = float(data.get("seconds_per_step", state.seconds_per_step))
        if seconds <= 0:
            raise HTTPException(status_code=400, detail="seconds_per_step must be positive")
        surcharge = float(data.get("surcharge_percent", state.surcharge_percent))
        if surcharge < 0:
            raise HTTPException(status_code=400, detail="surcharge_percent must not be negative")
        state.seconds_per_step, state.surcharge_percent = seconds, surcharge
        return {"seconds_per_step": seconds, "surcharge_percent": surcharge}

    return [advance, fedex_settings]
