"""Fake activities registered under the real activity names: the workflows run unchanged on the
time-skipping Temporal server, while every activity call is recorded (name + argument) and
answered from canned values, with no database, emulator or S3 behind them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from workflows.contracts.email import (
    IS_SUPPRESSED_ACTIVITY,
    RECORD_SUPPRESSED_ACTIVITY,
    SEND_EMAIL_ACTIVITY,
    EmailResult,
    SendEmail,
)
from workflows.contracts.fulfillment import (
    DISPOSE_UNITS_ACTIVITY,
    RECORD_ORDER_ACTIVITY,
    REFUND_ORDER_ACTIVITY,
    RESTORE_STOCK_ACTIVITY,
    SET_ORDER_STATUS_ACTIVITY,
    DisposedUnits,
    DisposeUnits,
    OrderLine,
    OrderRecord,
    RecordOrder,
    RefundOrder,
    RestoredStock,
    RestoreStock,
    SetOrderStatus,
)
from workflows.contracts.inspection import (
    CHECK_MEDIA_ACTIVITY,
    CHECK_MEDIA_VERSIONS_ACTIVITY,
    CREATE_INSPECTION_ACTIVITY,
    PRESIGN_UPLOADS_ACTIVITY,
    RECORD_ESCALATION_ACTIVITY,
    RECORD_INSPECTION_ACTIVITY,
    ChecklistItem,
    CheckMedia,
    CreateInspection,
    InspectionSetup,
    MediaCheck,
    PresignUploads,
    RecordEscalation,
    RecordInspection,
    UploadTarget,
)
from workflows.contracts.label import (
    BUY_LABEL_ACTIVITY,
    ENSURE_SHIPMENT_ACTIVITY,
    IMPORT_ISSUED_HISTORY_ACTIVITY,
    QUOTE_RATES_ACTIVITY,
    RECORD_TRACKING_ACTIVITY,
    TRACK_SHIPMENT_ACTIVITY,
    UPLOAD_TRACKING_ACTIVITY,
    BoughtLabel,
    BuyLabel,
    EnsureShipment,
    ImportHistoryRequest,
    Quote,
    QuoteRates,
    RecordTracking,
    ShipmentRef,
    TrackingSnapshot,
    TrackShipment,
    UploadTracking,
)
from workflows.contracts.listing import (
    APPLY_EDIT_ACTIVITY,
    CREATE_OFFER_ACTIVITY,
    ENSURE_LOCATION_ACTIVITY,
    GENERATE_COPY_ACTIVITY,
    LOAD_PRODUCT_ACTIVITY,
    PUBLISH_OFFER_ACTIVITY,
    PUT_INVENTORY_ITEM_ACTIVITY,
    RESOLVE_IMAGES_ACTIVITY,
    SET_PRODUCT_STATUS_ACTIVITY,
    ApplyEdit,
    ImageUrls,
    ListingCopyResult,
    ProductRef,
    ProductSnapshot,
    PublishOffer,
    PutInventoryItem,
    SetProductStatus,
)
from workflows.contracts.listing_change import (
    END_LISTING_ACTIVITY,
    PUSH_OFFER_ACTIVITY,
    RELIST_ACTIVITY,
    OfferPush,
    OfferPushed,
)

QUOTES = [
    Quote(
        carrier="fedex",
        service="INTERNATIONAL_ECONOMY",
        amount="6200",
        currency="JPY",
        transit_days=6,
    ),
    Quote(
        carrier="fedex",
        service="INTERNATIONAL_PRIORITY",
        amount="9800",
        currency="JPY",
        transit_days=3,
    ),
]


@dataclass
class Call:
    name: str
    arg: Any = None


@dataclass
class FakeActivities:
    """One per test. `calls` is the order the workflows called activities in."""

    calls: list[Call] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=lambda: list(QUOTES))
    tracking_number: str = "794600000001"
    delivered: bool = True
    hold_create: asyncio.Event | None = None
    """When set, `inspection.create` answers only once the event is set."""

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def args(self, name: str) -> list[Any]:
        return [c.arg for c in self.calls if c.name == name]

    def _note(self, name: str, arg: Any = None) -> None:
        self.calls.append(Call(name, arg))

    # --- orders --------------------------------------------------------------------------------

    @activity.defn(name=RECORD_ORDER_ACTIVITY)
    async def record_order(self, request: RecordOrder) -> OrderRecord:
        self._note(RECORD_ORDER_ACTIVITY, request)
        return OrderRecord(
            order_id=f"id-{request.ebay_order_id}",
            ebay_order_id=request.ebay_order_id,
            buyer_name="Pat Buyer",
            buyer_email="pat@example.com",
            country_code="US",
            lines=[OrderLine(line_item_id="1", sku="CAM-1", title="Camera", quantity=1)],
            total_value="200.00",
        )

    @activity.defn(name=SET_ORDER_STATUS_ACTIVITY)
    async def set_order_status(self, request: SetOrderStatus) -> None:
        self._note(SET_ORDER_STATUS_ACTIVITY, request)

    @activity.defn(name=REFUND_ORDER_ACTIVITY)
    async def refund_order(self, request: RefundOrder) -> str:
        self._note(REFUND_ORDER_ACTIVITY, request)
        return "refund-1"

    @activity.defn(name=DISPOSE_UNITS_ACTIVITY)
    async def dispose_units(self, request: DisposeUnits) -> DisposedUnits:
        self._note(DISPOSE_UNITS_ACTIVITY, request)
        return DisposedUnits(disposition=request.disposition)

    @activity.defn(name=RESTORE_STOCK_ACTIVITY)
    async def restore_stock(self, request: RestoreStock) -> RestoredStock:
        self._note(RESTORE_STOCK_ACTIVITY, request)
        return RestoredStock(restored={"CAM-1": 1})

    # --- shipping ------------------------------------------------------------------------------

    @activity.defn(name=ENSURE_SHIPMENT_ACTIVITY)
    async def ensure_shipment(self, request: EnsureShipment) -> ShipmentRef:
        self._note(ENSURE_SHIPMENT_ACTIVITY, request)
        return ShipmentRef(shipment_id=f"ship-{request.order_id}", domestic=False)

    @activity.defn(name=QUOTE_RATES_ACTIVITY)
    async def quote_rates(self, request: QuoteRates) -> list[Quote]:
        self._note(QUOTE_RATES_ACTIVITY, request)
        return self.quotes

    @activity.defn(name=BUY_LABEL_ACTIVITY)
    async def buy_label(self, request: BuyLabel) -> BoughtLabel:
        self._note(BUY_LABEL_ACTIVITY, request)
        return BoughtLabel(
            carrier=request.carrier,
            service=request.service,
            tracking_number=self.tracking_number,
            label_key=f"shipping-labels/{request.shipment_id}.pdf",
            cost_amount=request.amount,
            cost_currency=request.currency,
        )

    @activity.defn(name=RECORD_TRACKING_ACTIVITY)
    async def record_tracking(self, request: RecordTracking) -> None:
        self._note(RECORD_TRACKING_ACTIVITY, request)

    @activity.defn(name=IMPORT_ISSUED_HISTORY_ACTIVITY)
    async def import_issued_history(self, request: ImportHistoryRequest) -> str:
        self._note(IMPORT_ISSUED_HISTORY_ACTIVITY, request)
        return self.tracking_number

    @activity.defn(name=UPLOAD_TRACKING_ACTIVITY)
    async def upload_tracking(self, request: UploadTracking) -> str:
        self._note(UPLOAD_TRACKING_ACTIVITY, request)
        return "fulfillment-1"

    @activity.defn(name=TRACK_SHIPMENT_ACTIVITY)
    async def track_shipment(self, request: TrackShipment) -> TrackingSnapshot:
        self._note(TRACK_SHIPMENT_ACTIVITY, request)
        status = "delivered" if self.delivered else "in_transit"
        return TrackingSnapshot(status=status, delivered=self.delivered)

    # --- inspection ----------------------------------------------------------------------------

    @activity.defn(name=CREATE_INSPECTION_ACTIVITY)
    async def create_inspection(self, request: CreateInspection) -> InspectionSetup:
        self._note(CREATE_INSPECTION_ACTIVITY, request)
        if self.hold_create is not None:
            await self.hold_create.wait()
        return InspectionSetup(
            inspection_id="insp-1",
            checklist=[ChecklistItem(key="matches_photos", label="Matches the photos")],
        )

    @activity.defn(name=PRESIGN_UPLOADS_ACTIVITY)
    async def presign_uploads(self, request: PresignUploads) -> list[UploadTarget]:
        self._note(PRESIGN_UPLOADS_ACTIVITY, request)
        return []

    @activity.defn(name=CHECK_MEDIA_ACTIVITY)
    async def check_media(self, request: CheckMedia) -> list[str]:
        self._note(CHECK_MEDIA_ACTIVITY, request)
        return []

    @activity.defn(name=CHECK_MEDIA_VERSIONS_ACTIVITY)
    async def check_media_versions(self, request: CheckMedia) -> MediaCheck:
        self._note(CHECK_MEDIA_VERSIONS_ACTIVITY, request)
        return MediaCheck(problems=[], versions={key: f"v-{key}" for key in request.keys})

    @activity.defn(name=RECORD_INSPECTION_ACTIVITY)
    async def record_inspection(self, request: RecordInspection) -> None:
        self._note(RECORD_INSPECTION_ACTIVITY, request)

    @activity.defn(name=RECORD_ESCALATION_ACTIVITY)
    async def record_escalation(self, request: RecordEscalation) -> None:
        self._note(RECORD_ESCALATION_ACTIVITY, request)

    # --- email ---------------------------------------------------------------------------------

    @activity.defn(name=IS_SUPPRESSED_ACTIVITY)
    async def is_suppressed(self, email: str) -> bool:
        self._note(IS_SUPPRESSED_ACTIVITY, email)
        return False

    @activity.defn(name=RECORD_SUPPRESSED_ACTIVITY)
    async def record_suppressed(self, request: SendEmail) -> EmailResult:
        self._note(RECORD_SUPPRESSED_ACTIVITY, request)
        return EmailResult(status="suppressed")

    @activity.defn(name=SEND_EMAIL_ACTIVITY)
    async def send_email(self, request: SendEmail) -> EmailResult:
        self._note(SEND_EMAIL_ACTIVITY, request)
        return EmailResult(status="sent", message_id=f"msg-{len(self.calls)}")

    # --- catalog -------------------------------------------------------------------------------

    @activity.defn(name=LOAD_PRODUCT_ACTIVITY)
    async def load_product(self, ref: ProductRef) -> ProductSnapshot:
        self._note(LOAD_PRODUCT_ACTIVITY, ref)
        return ProductSnapshot(
            product_id=ref.product_id, sku="CAM-1", status="draft", title_ja="カメラ"
        )

    @activity.defn(name=SET_PRODUCT_STATUS_ACTIVITY)
    async def set_product_status(self, change: SetProductStatus) -> None:
        self._note(SET_PRODUCT_STATUS_ACTIVITY, change)

    @activity.defn(name=GENERATE_COPY_ACTIVITY)
    async def generate_copy(self, ref: ProductRef) -> ListingCopyResult:
        self._note(GENERATE_COPY_ACTIVITY, ref)
        return ListingCopyResult(title="Vintage camera", description_html="<p>Camera</p>")

    @activity.defn(name=APPLY_EDIT_ACTIVITY)
    async def apply_edit(self, edit: ApplyEdit) -> ListingCopyResult:
        self._note(APPLY_EDIT_ACTIVITY, edit)
        return ListingCopyResult(title=edit.review.title or "", description_html="<p>Camera</p>")

    @activity.defn(name=RESOLVE_IMAGES_ACTIVITY)
    async def resolve_images(self, ref: ProductRef) -> ImageUrls:
        self._note(RESOLVE_IMAGES_ACTIVITY, ref)
        return ImageUrls(urls=["https://images.example/cam-1.jpg"])

    @activity.defn(name=ENSURE_LOCATION_ACTIVITY)
    async def ensure_location(self) -> None:
        self._note(ENSURE_LOCATION_ACTIVITY)

    @activity.defn(name=PUT_INVENTORY_ITEM_ACTIVITY)
    async def put_inventory_item(self, request: PutInventoryItem) -> None:
        self._note(PUT_INVENTORY_ITEM_ACTIVITY, request)

    @activity.defn(name=CREATE_OFFER_ACTIVITY)
    async def create_offer(self, ref: ProductRef) -> str:
        self._note(CREATE_OFFER_ACTIVITY, ref)
        return "offer-1"

    @activity.defn(name=PUBLISH_OFFER_ACTIVITY)
    async def publish_offer(self, request: PublishOffer) -> str:
        self._note(PUBLISH_OFFER_ACTIVITY, request)
        return "listing-1"

    @activity.defn(name=PUSH_OFFER_ACTIVITY)
    async def push_offer(self, request: OfferPush) -> OfferPushed:
        self._note(PUSH_OFFER_ACTIVITY, request)
        return OfferPushed(sku="CAM-1", quantity=2, price_usd="129.00")

    @activity.defn(name=END_LISTING_ACTIVITY)
    async def end_listing(self, ref: ProductRef) -> str:
        self._note(END_LISTING_ACTIVITY, ref)
        return "listing-1"

    @activity.defn(name=RELIST_ACTIVITY)
    async def relist(self, ref: ProductRef) -> str:
        self._note(RELIST_ACTIVITY, ref)
        return "listing-1"

    def all(self) -> list[Any]:
        """Every fake, for the worker."""
        return [
            getattr(self, name)
            for name in dir(type(self))
            if not name.startswith("_")
            and name not in ("all", "names", "args")
            and callable(getattr(type(self), name))
        ]
