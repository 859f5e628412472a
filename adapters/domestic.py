"""The part of the Carrier protocol that Yamato and Sagawa implement the same way.

"Shipping" with them means handing staff a CSV to import into the carrier's label system (B2
Cloud, e-Hiden III); the tracking number comes back later in the carrier's issued-history file
or from staff. Nothing is billed until the carrier scans the parcel, so cancel only drops it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime

import httpx

from adapters.carriers import (
    Address,
    Label,
    RateQuote,
    ShipmentRequest,
    TrackingEvent,
    TrackingInfo,
    TrackingStatus,
)
from adapters.errors import PermanentError, classify_status, from_transport_error
from adapters.http import DEFAULT_TIMEOUT
from adapters.jp_carriers import (
    encode_csv,
    fit_row,
    is_valid_tracking_number,
    issued_pairs,
    normalize_status,
    parse_tracking_page,
    tariff_yen,
    transit_days,
)
from config import Settings

JST_OFFSET_HOURS = 9
log = logging.getLogger(__name__)


class DomesticCsvCarrier(ABC):
    name: str
    service: str
    service_name: str
    header: list[str]
    reference_column: str
    tracking_column: str
    base_by_size: dict[int, int]
    step_yen: int
    public_tracking_base: str
    field_bytes: dict[str, int]  # the import layout's field lengths, in Shift_JIS bytes

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=True)

    # --- what each carrier defines ---

    @abstractmethod
    def row(self, request: ShipmentRequest) -> list[str]:
        """One import row in the carrier's column order."""

    @property
    @abstractmethod
    def tracking_base_url(self) -> str: ...

    @property
    @abstractmethod
    def tracking_enabled(self) -> bool: ...

    @abstractmethod
    def fetch_tracking_page(self, tracking_number: str) -> httpx.Response: ...

    # --- the protocol ---

    def serves(self, shipper: Address, recipient: Address) -> bool:
        return shipper.country_code == "JP" and recipient.country_code == "JP"

    def rate(self, request: ShipmentRequest) -> list[RateQuote]:
        if not self.serves(request.shipper, request.recipient):
            return []
        try:
            size, price = tariff_yen(
                self.base_by_size,
                self.step_yen,
                request.shipper,
                request.recipient,
                request.parcel,
            )
        except ValueError as exc:
            raise PermanentError(self.name, str(exc)) from exc
        return [
            RateQuote(
                carrier=self.name,
                service=self.service,
                service_name=f"{self.service_name} {size}サイズ",
                amount=str(price),
                currency="JPY",
                transit_days=transit_days(request.shipper, request.recipient),
            )
        ]

    def export_batch(self, requests: list[ShipmentRequest]) -> bytes:
        return self.export_with_cuts(requests)[0]

    def export_with_cuts(self, requests: list[ShipmentRequest]) -> tuple[bytes, list[str]]:
        """The import file, and one line per field cut to the carrier's byte limit."""
        for request in requests:
            if not self.serves(request.shipper, request.recipient):
                raise PermanentError(self.name, f"{request.reference}: domestic (JP) only")
            if len(request.reference) > 50:
                raise PermanentError(self.name, f"{request.reference}: reference over 50 chars")
        rows, notes = [], []
        for request in requests:
            row = self.row(request)
            for column, dropped in fit_row(self.header, row, self.field_bytes):
                limit = self.field_bytes[column]
                notes.append(
                    f"{request.reference}: {column} cut to {limit} bytes, dropped {dropped!r}"
                )
            rows.append(row)
        for note in notes:
            log.warning("%s hand-off: %s", self.name, note)
        return encode_csv(self.header, rows), notes

    def ship(self, request: ShipmentRequest) -> Label:
        data, notes = self.export_with_cuts([request])
        return Label(
            carrier=self.name,
            service=request.service or self.service,
            tracking_number="",
            reference=request.reference,
            label_format="CSV",
            label_data=data,
            warnings=notes,
        )

    def parse_issued_history(self, data: bytes) -> list[tuple[str, str]]:
        return issued_pairs(data, self.reference_column, self.tracking_column, self.name)

    def find_label(self, reference: str) -> Label | None:
        return None  # the carrier issues numbers only when staff import the file

    def find_labels(self, reference: str) -> list[Label]:
        return []

    def cancel(self, tracking_number: str) -> bool:
        return True  # nothing is billed before the carrier scans the parcel

    def is_tracking_number(self, number: str) -> bool:
        return is_valid_tracking_number(number)

    def tracking_url(self, tracking_number: str) -> str:
        raise NotImplementedError

    def track(self, tracking_number: str) -> TrackingInfo:
        if not self.tracking_enabled:
            return TrackingInfo(
                carrier=self.name, tracking_number=tracking_number, status=TrackingStatus.unknown
            )
        try:
            response = self.fetch_tracking_page(tracking_number)
        except httpx.TransportError as exc:
            raise from_transport_error(self.name, exc) from exc
        if response.status_code != 200:
            raise classify_status(self.name, response.status_code, response.text[:200])
        events = [
            TrackingEvent(
                occurred_at=_jst(day, time),
                status=TrackingStatus(normalize_status(status)),
                description=status,
                location=place,
            )
            for status, day, time, place in parse_tracking_page(response.text)
        ]
        status = events[-1].status if events else TrackingStatus.pending
        return TrackingInfo(
            carrier=self.name, tracking_number=tracking_number, status=status, events=events
        )

    def check_credentials(self) -> None:
        """Nothing to check online: the carrier validates the customer code on import."""
        if not self.header:
            raise PermanentError(self.name, "carrier layout missing")


def _jst(day: str, time: str) -> datetime:
    try:
        local = datetime.strptime(f"{day} {time}", "%Y/%m/%d %H:%M")
    except ValueError:
        return datetime.now(UTC)
    from datetime import timedelta, timezone

    return local.replace(tzinfo=timezone(timedelta(hours=JST_OFFSET_HOURS)))


def ship_date(request: ShipmentRequest) -> str:
    return (request.ship_date or date.today()).strftime("%Y/%m/%d")
