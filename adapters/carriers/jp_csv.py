"""The Japanese CSV hand-off that Yamato and Sagawa share: no public API, so labels are CSV
import files (Shift_JIS, CRLF) that staff import into the carrier's label system (B2 Cloud,
e-Hiden III), tracking numbers come back in an issued-history file (or from staff), rates come
from the published size/zone tariff, and nothing is billed until the carrier scans the parcel,
so cancel only drops it. `DomesticCsvCarrier` is the `Carrier` both subclass.

Tracking numbers of both carriers carry a check digit: see `domain.tracking`.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import httpx

from adapters.carriers.base import (
    Address,
    Label,
    Parcel,
    RateQuote,
    ShipmentRequest,
    TrackingEvent,
    TrackingInfo,
    TrackingStatus,
)
from adapters.errors import AdapterError, PermanentError, classify_status, from_transport_error
from adapters.http import DEFAULT_TIMEOUT
from config import Settings
from domain.tracking import is_jp_tracking_number

ENCODING = "cp932"
log = logging.getLogger(__name__)


def fit_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of Shift_JIS (the carriers count field lengths in
    bytes: 2 per full-width character, 1 per ASCII one), never inside a character, and at the
    last space when the cut would fall inside a Latin word."""
    if len(text.encode(ENCODING, errors="replace")) <= limit:
        return text
    kept, size = [], 0
    for char in text:
        width = len(char.encode(ENCODING, errors="replace"))
        if size + width > limit:
            break
        kept.append(char)
        size += width
    cut = "".join(kept)
    following = text[len(cut)]
    inside_word = cut[-1:].isascii() and cut[-1:].isalnum()
    if inside_word and following.isascii() and following.isalnum() and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-・　")


def fit_row(header: list[str], row: list[str], limits: dict[str, int]) -> list[tuple[str, str]]:
    """Cut each limited field of `row` in place; (column, what was cut off) for each cut."""
    cuts = []
    for index, column in enumerate(header):
        limit = limits.get(column)
        if limit is not None and row[index]:
            fitted = fit_bytes(row[index], limit)
            if fitted != row[index]:
                cuts.append((column, row[index][len(fitted) :].strip()))
                row[index] = fitted
    return cuts


def encode_csv(header: list[str], rows: list[list[str]]) -> bytes:
    """Shift_JIS (CP932) with CRLF line ends, every field quoted, as both carriers import."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(ENCODING, errors="replace")


def decode_csv(data: bytes) -> list[dict[str, str]]:
    """Rows keyed by the header; Shift_JIS first, UTF-8 (with BOM) as carriers' exports vary."""
    try:
        text = data.decode(ENCODING)
    except UnicodeDecodeError:
        text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        raise ValueError("the file is empty")
    header = [h.strip() for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(row)]


def issued_pairs(
    data: bytes, reference_column: str, tracking_column: str, carrier: str
) -> list[tuple[str, str]]:
    """(our reference, tracking number) pairs from an issued-history file."""
    rows = decode_csv(data)
    if rows and (reference_column not in rows[0] or tracking_column not in rows[0]):
        raise ValueError(f"missing the columns {reference_column} / {tracking_column}")
    pairs: list[tuple[str, str]] = []
    for row in rows:
        reference = row[reference_column].strip()
        tracking = re.sub(r"\D", "", row[tracking_column])
        if not reference or not tracking:
            continue
        if not is_jp_tracking_number(tracking):
            raise ValueError(f"{tracking!r} is not a valid {carrier} tracking number")
        pairs.append((reference, tracking))
    return pairs


# --- tariff ---------------------------------------------------------------------------------

REGIONS: dict[str, tuple[str, ...]] = {
    "北海道": ("北海道",),
    "東北": ("青森県", "岩手県", "秋田県", "宮城県", "山形県", "福島県"),
    "関東": ("茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "山梨県"),
    "信越": ("新潟県", "長野県"),
    "北陸": ("富山県", "石川県", "福井県"),
    "中部": ("静岡県", "愛知県", "三重県", "岐阜県"),
    "関西": ("大阪府", "京都府", "滋賀県", "奈良県", "和歌山県", "兵庫県"),
    "中国": ("岡山県", "広島県", "山口県", "鳥取県", "島根県"),
    "四国": ("香川県", "徳島県", "愛媛県", "高知県"),
    "九州": ("福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県"),
    "沖縄": ("沖縄県",),
}
REGION_ORDER = list(REGIONS)

SIZES: tuple[tuple[int, int, int], ...] = (
    # (size class, max sum of three sides in cm, max weight in g)
    (60, 60, 2_000),
    (80, 80, 5_000),
    (100, 100, 10_000),
    (120, 120, 15_000),
    (140, 140, 20_000),
    (160, 160, 25_000),
)


def region_of(address: Address) -> str:
    text = f"{address.state}{address.city}{address.line1}"
    for region, prefectures in REGIONS.items():
        if any(p in text for p in prefectures):
            return region
    return "関東"


def size_class(parcel: Parcel) -> int:
    total = parcel.length_cm + parcel.width_cm + parcel.height_cm
    for size, max_cm, max_g in SIZES:
        if total <= max_cm and parcel.weight_g <= max_g:
            return size
    raise ValueError(f"parcel of {total:.0f} cm / {parcel.weight_g} g exceeds the 160 size")


def tariff_yen(
    base_by_size: dict[int, int],
    step_yen: int,
    shipper: Address,
    recipient: Address,
    parcel: Parcel,
) -> tuple[int, Decimal]:
    """(size class, price in yen): the same-region price plus a step per region of distance,
    plus three more steps to or from Hokkaido and Okinawa (sea or air legs) — the shape of both
    carriers' published tables. Contracted rates replace `base_by_size` in production."""
    size = size_class(parcel)
    a, b = REGION_ORDER.index(region_of(shipper)), REGION_ORDER.index(region_of(recipient))
    distance = abs(a - b)
    remote = {"北海道", "沖縄"} & {region_of(shipper), region_of(recipient)}
    price = base_by_size[size] + step_yen * (distance + (3 if remote and distance else 0))
    return size, Decimal(price)


def transit_days(shipper: Address, recipient: Address) -> int:
    a, b = REGION_ORDER.index(region_of(shipper)), REGION_ORDER.index(region_of(recipient))
    distance = abs(a - b)
    remote = {"北海道", "沖縄"} & {region_of(shipper), region_of(recipient)}
    days = 1 if distance <= 2 else 2 if distance <= 6 else 3
    return days + (1 if remote and distance else 0)


# --- public tracking pages ----------------------------------------------------------------------

STATUS_WORDS: tuple[tuple[str, str], ...] = (
    # (Japanese status on the public tracking pages, normalized status)
    ("配達完了", "delivered"),
    ("お届け完了", "delivered"),
    ("持戻", "delivery_failed"),
    ("ご不在", "delivery_failed"),
    ("配達中", "out_for_delivery"),
    ("輸送中", "in_transit"),
    ("発送済み", "in_transit"),
    ("作業店通過", "in_transit"),
    ("到着", "in_transit"),
    ("荷物受付", "picked_up"),
    ("集荷", "picked_up"),
    ("返品", "return_to_sender"),
    ("調査中", "on_hold"),
)

_ROW = re.compile(
    r"<tr[^>]*class=\"event\"[^>]*>\s*<td[^>]*>(?P<status>.*?)</td>\s*<td[^>]*>(?P<date>.*?)</td>"
    r"\s*<td[^>]*>(?P<time>.*?)</td>\s*<td[^>]*>(?P<place>.*?)</td>",
    re.S,
)


def normalize_status(text: str) -> str:
    for word, status in STATUS_WORDS:
        if word in text:
            return status
    return "unknown"


def parse_tracking_page(html: str) -> list[tuple[str, ...]]:
    """(status text, date, time, place) rows of the public tracking page's history table."""
    strip = re.compile(r"<[^>]+>")
    return [
        tuple(strip.sub("", m.group(g)).strip() for g in ("status", "date", "time", "place"))
        for m in _ROW.finditer(html)
    ]


# --- the carrier class both share ------------------------------------------------------------

JST_OFFSET_HOURS = 9


class DomesticCsvCarrier(ABC):
    """The `Carrier` of a CSV hand-off; each carrier names its layout and tariff."""

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
    track_batch = 1  # one public tracking page per number

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=True)

    # --- what each carrier defines ---

    @abstractmethod
    def fields(self, request: ShipmentRequest) -> dict[str, str]:
        """The import row's values by column name (columns not named stay empty)."""

    @abstractmethod
    def site_settings(self) -> tuple[str, bool | None]:
        """The carrier's base URL setting ("" = its public site) and tracking switch."""

    @abstractmethod
    def fetch_tracking_page(self, tracking_number: str) -> httpx.Response: ...

    # --- what follows from it ---

    def row(self, request: ShipmentRequest) -> list[str]:
        """One import row in the carrier's column order."""
        values = self.fields(request)
        return [values.get(column, "") for column in self.header]

    @property
    def tracking_base_url(self) -> str:
        return (self.site_settings()[0] or self.public_tracking_base).rstrip("/")

    @property
    def tracking_enabled(self) -> bool:
        return bool(self.site_settings()[1])

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

    def track_many(self, tracking_numbers: list[str]) -> dict[str, TrackingInfo | AdapterError]:
        """One public tracking page per number (the pages we read take one number each)."""
        found: dict[str, TrackingInfo | AdapterError] = {}
        for number in tracking_numbers:
            try:
                found[number] = self.track(number)
            except AdapterError as error:
                found[number] = error
        return found

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
    return local.replace(tzinfo=timezone(timedelta(hours=JST_OFFSET_HOURS)))


def ship_date(request: ShipmentRequest) -> str:
    return (request.ship_date or date.today()).strftime("%Y/%m/%d")
