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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from litestar import Litestar, Request, Response, post, put
from litestar.exceptions import HTTPException
from litestar.params import Body

from adapters.carriers.fedex import tracking_check_digit
from sandbox.core import SandboxContext
from sandbox.labels import invoice_pdf, label_pdf
from sandbox.oas import SpecViolation, load_spec

SERVICE = "fedex"
TOKEN_TTL = 3599

# The life of a parcel: (derived code, event type, description, where).
TIMELINE: tuple[tuple[str, str, str, str], ...] = (
    ("OC", "OC", "Shipment information sent to FedEx", "origin"),
    ("PU", "PU", "Picked up", "origin"),
    ("IT", "DP", "Departed FedEx location", "origin"),
    ("AR", "AR", "Arrived at FedEx location", "destination"),
    ("OD", "OD", "On FedEx vehicle for delivery", "destination"),
    ("DL", "DL", "Delivered", "destination"),
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

SERVICES = (
    # (service type, name, price factor, transit days)
    ("FEDEX_INTERNATIONAL_PRIORITY", "FedEx International Priority", 1.0, 3),
    ("INTERNATIONAL_ECONOMY", "FedEx International Economy", 0.72, 6),
    ("FEDEX_INTERNATIONAL_CONNECT_PLUS", "FedEx International Connect Plus", 0.6, 9),
)
ZONE_BASE_JPY = {"A": 2900, "B": 3600, "C": 4700, "D": 5200}
ZONE_BY_COUNTRY = {
    "KR": "A",
    "CN": "A",
    "TW": "A",
    "HK": "A",
    "SG": "B",
    "TH": "B",
    "AU": "B",
    "US": "C",
    "CA": "C",
    "MX": "C",
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


@dataclass
class Parcel:
    tracking_number: str
    reference: str
    service: str
    created_at: float
    destination_country: str
    shipper_country: str = "JP"
    cancelled: bool = False
    forced_step: int | None = None


@dataclass
class FedexState:
    parcels: dict[str, Parcel] = field(default_factory=dict)
    serials: itertools.count = field(default_factory=lambda: itertools.count(1))
    seconds_per_step: float = 600.0

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


def _scan_events(parcel: Parcel, state: FedexState) -> list[dict[str, Any]]:
    started = datetime.fromtimestamp(parcel.created_at, UTC)
    events = []
    for index in range(state.step_of(parcel) + 1):
        code, event_type, description, where = TIMELINE[index]
        country = parcel.shipper_country if where == "origin" else parcel.destination_country
        events.append(
            {
                "date": (started + timedelta(seconds=index * state.seconds_per_step)).isoformat(),
                "eventType": event_type,
                "eventDescription": description,
                "derivedStatusCode": code,
                "derivedStatus": description,
                "scanLocation": {
                    "city": "TOKYO" if where == "origin" else "GATEWAY",
                    "countryCode": country,
                },
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

    @post("/rate/v1/rates/quotes", status_code=200)
    async def rate(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Quote_Rate", "fedex-rate")
        shipment = body["requestedShipment"]
        country = shipment["recipient"]["address"]["countryCode"]
        if country == shipment["shipper"]["address"]["countryCode"]:
            return _fail(
                400,
                "Service is not available for a domestic shipment from JP.",
                "SERVICE.UNAVAILABLE.ERROR",
            )
        kilos = sum(float(p["weight"]["value"]) for p in shipment["requestedPackageLineItems"])
        base = ZONE_BASE_JPY[ZONE_BY_COUNTRY.get(country, "D")] + 1100 * max(0, kilos - 0.5)
        details = []
        for service, name, factor, days in SERVICES:
            amount = round(base * factor, 0)
            details.append(
                {
                    "serviceType": service,
                    "serviceName": name,
                    "packagingType": "YOUR_PACKAGING",
                    "commit": {"daysInTransit": DAY_WORDS[days]},
                    "ratedShipmentDetails": [
                        {"rateType": "ACCOUNT", "totalNetCharge": amount * 0.85, "currency": "JPY"},
                        {"rateType": "LIST", "totalNetCharge": amount, "currency": "JPY"},
                    ],
                }
            )
        return Response(
            {
                "transactionId": str(uuid.uuid4()),
                "output": {
                    "rateReplyDetails": details,
                    "quoteDate": datetime.now(UTC).date().isoformat(),
                },
            }
        )

    @post("/ship/v1/shipments", status_code=200)
    async def ship(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Ship", "fedex-ship")
        if body["accountNumber"]["value"] != settings.fedex_account_number:
            return _fail(
                403,
                "The account number is not registered to this API key.",
                "ACCOUNTNUMBER.REGISTRATION.REQUIRED",
            )
        shipment = body["requestedShipment"]
        recipient = shipment["recipients"][0]["address"]["countryCode"]
        shipper = shipment["shipper"]["address"]["countryCode"]
        customs = shipment.get("customsClearanceDetail")
        if recipient != shipper and not (customs and customs.get("commodities")):
            return _fail(
                400, "Commodities are required for international shipments.", "COMMODITIES.REQUIRED"
            )
        package = shipment["requestedPackageLineItems"][0]
        reference = next(
            (
                r["value"]
                for r in package.get("customerReferences", [])
                if r.get("customerReferenceType") == "CUSTOMER_REFERENCE"
            ),
            "",
        )
        number = state.new_tracking_number()
        service = shipment["serviceType"]
        state.parcels[number] = Parcel(number, reference, service, time.time(), recipient, shipper)
        ctx.ledger.record(SERVICE, "label_bought", reference or number)
        documents = [
            {
                "contentType": "LABEL",
                "copiesToPrint": 1,
                "docType": "PDF",
                "encodedLabel": base64.b64encode(label_pdf(number, service, shipment)).decode(),
            }
        ]
        shipment_documents = []
        if customs:
            shipment_documents.append(
                {
                    "contentType": "COMMERCIAL_INVOICE",
                    "copiesToPrint": 1,
                    "docType": "PDF",
                    "encodedLabel": base64.b64encode(invoice_pdf(number, shipment)).decode(),
                }
            )
        kilos = float(package["weight"]["value"])
        charge = round(
            ZONE_BASE_JPY[ZONE_BY_COUNTRY.get(recipient, "D")] + 1100 * max(0, kilos - 0.5)
        )
        return Response(
            {
                "transactionId": str(uuid.uuid4()),
                "output": {
                    "transactionShipments": [
                        {
                            "masterTrackingNumber": number,
                            "serviceType": service,
                            "shipDatestamp": shipment.get("shipDatestamp", ""),
                            "serviceName": service.replace("_", " ").title(),
                            "pieceResponses": [
                                {
                                    "trackingNumber": number,
                                    "customerReferences": package.get("customerReferences", []),
                                    "packageDocuments": documents,
                                }
                            ],
                            "shipmentDocuments": shipment_documents,
                            "completedShipmentDetail": {
                                "shipmentRating": {
                                    "shipmentRateDetails": [
                                        {
                                            "rateType": "PAYOR_ACCOUNT_SHIPMENT",
                                            "totalNetCharge": charge,
                                            "currency": "JPY",
                                        },
                                    ]
                                }
                            },
                            "alerts": [],
                        }
                    ]
                },
            }
        )

    @put("/ship/v1/shipments/cancel", status_code=200)
    async def cancel(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        body = await guarded(request, "Full_Schema_Cancel_Shipment", "fedex-ship")
        parcel = state.parcels.get(body["trackingNumber"])
        if parcel is None:
            return _fail(404, "The tracking number was not found.", "TRACKING.NOTFOUND")
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
        results = []
        for info in body["trackingInfo"]:
            number = info["trackingNumberInfo"]["trackingNumber"]
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
            {"transactionId": str(uuid.uuid4()), "output": {"completeTrackResults": results}}
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
                "output": {
                    "completeTrackResults": [{"trackingNumber": value, "trackResults": results}]
                },
            }
        )

    return Litestar(
        [token, rate, ship, cancel, track, track_by_reference],
        openapi_config=None,
        exception_handlers={HTTPException: _http_error, _Refused: _refused},
    )


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
        state.seconds_per_step = seconds
        return {"seconds_per_step": seconds}

    return [advance, fedex_settings]
