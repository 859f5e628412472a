"""Contracts of the order workflows: fulfillment, label and inspection.

Workflow IDs, update/query/signal names, inputs, results and the activity names. The API starts
and drives these workflows with exactly these models and names.

IDs: `order_id` is our database `Order.id` (a UUID string); `ebay_order_id` is eBay's id;
`shipment_id` is our `Shipment.id`. Inspection media are uploaded by the browser straight to S3
through presigned PUT URLs that the inspection workflow hands out (update `request_upload`);
the API may equally presign keys under `inspection-videos/{order_id}/` itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.contacts import STAFF_NOTIFICATION_EMAIL
from domain.refunds import RefundReason

# --- workflow ids -------------------------------------------------------------------------


def fulfillment_workflow_id(ebay_order_id: str) -> str:
    return f"order-{ebay_order_id}"


def inspection_workflow_id(order_id: str) -> str:
    return f"inspection-{order_id}"


def label_workflow_id(shipment_id: str) -> str:
    return f"label-{shipment_id}"


def label_reference(shipment_id: str) -> str:
    """The idempotency key of the one label bought for a shipment (sent to the carrier)."""
    return f"label:{shipment_id}"


# --- update / query / signal names ----------------------------------------------------------

STATUS_QUERY = "status"
CANCEL_UPDATE = "cancel"  # OrderFulfillmentWorkflow
TRACKING_REFRESH_SIGNAL = "tracking_refresh"  # OrderFulfillmentWorkflow
CHOOSE_RATE_UPDATE = "choose_rate"  # LabelWorkflow
SUBMIT_TRACKING_UPDATE = "submit_tracking"  # LabelWorkflow
IMPORT_ISSUED_HISTORY_UPDATE = "import_issued_history"  # LabelWorkflow
REQUEST_UPLOAD_UPDATE = "request_upload"  # InspectionWorkflow
SUBMIT_RESULT_UPDATE = "submit_result"  # InspectionWorkflow

# --- activity names -------------------------------------------------------------------------

RECORD_ORDER_ACTIVITY = "orders.record"
SET_ORDER_STATUS_ACTIVITY = "orders.set_status"
REFUND_ORDER_ACTIVITY = "orders.refund"
RESTORE_STOCK_ACTIVITY = "orders.restore_stock"

ENSURE_SHIPMENT_ACTIVITY = "shipping.ensure_shipment"
QUOTE_RATES_ACTIVITY = "shipping.quote_rates"
BUY_LABEL_ACTIVITY = "shipping.buy_label"
RECORD_TRACKING_ACTIVITY = "shipping.record_tracking"
IMPORT_ISSUED_HISTORY_ACTIVITY = "shipping.import_issued_history"
UPLOAD_TRACKING_ACTIVITY = "shipping.upload_tracking"
TRACK_SHIPMENT_ACTIVITY = "shipping.track"

CREATE_INSPECTION_ACTIVITY = "inspection.create"
PRESIGN_UPLOADS_ACTIVITY = "inspection.presign_uploads"
CHECK_MEDIA_ACTIVITY = "inspection.check_media"
RECORD_INSPECTION_ACTIVITY = "inspection.record_result"
RECORD_ESCALATION_ACTIVITY = "inspection.record_escalation"

# --- fulfillment ----------------------------------------------------------------------------

FulfillmentStep = Literal[
    "recording",
    "confirming",
    "inspecting",
    "labelling",
    "uploading_tracking",
    "notifying",
    "in_transit",
    "completed",
    "compensating",
    "cancelled",
    "refunded",
]


class FulfillmentResume(BaseModel):
    """What a continued-as-new run needs to go on following the tracking."""

    order_id: str
    shipment_id: str
    carrier: str
    tracking_number: str
    inspection_passed: bool = True
    polls: int = 0


class FulfillOrder(BaseModel):
    """Input of OrderFulfillmentWorkflow (id `order-{ebay_order_id}`)."""

    ebay_order_id: str
    staff_email: str = STAFF_NOTIFICATION_EMAIL
    tracking_poll_seconds: float = Field(default=6 * 3600, gt=0)
    max_tracking_polls: int = Field(
        default=28, ge=1
    )  # ~1 week at 6 h; the order is then left in transit
    polls_per_run: int = Field(default=50, ge=1)  # continue-as-new after this many polls
    inspection_escalation_hours: float = Field(default=24, gt=0)
    max_transit_days: int = Field(default=7, ge=1)
    preferred_carrier: str = ""
    preferred_service: str = ""
    rate_choice_seconds: float = Field(default=0, ge=0)  # window for staff to `choose_rate`
    resume: FulfillmentResume | None = None


class CancelOrder(BaseModel):
    """Update `cancel`: staff cancel before the label is bought."""

    reason: str
    staff_id: str = ""


class CompensationState(BaseModel):
    reason: str = ""
    refunded: bool = False
    refund_id: str = ""
    apology_sent: bool = False
    stock_restored: bool = False
    done: bool = False


class FulfillmentStatus(BaseModel):
    """Query `status` of OrderFulfillmentWorkflow."""

    ebay_order_id: str
    step: FulfillmentStep
    order_id: str = ""
    shipment_id: str = ""
    carrier: str = ""
    tracking_number: str = ""
    tracking_status: str = ""
    inspection_result: Literal["", "passed", "failed"] = ""
    inspection_notes: str = ""
    compensation: CompensationState | None = None
    cancel_reason: str = ""


class FulfillmentResult(BaseModel):
    ebay_order_id: str
    order_id: str
    outcome: Literal["completed", "cancelled", "refunded", "in_transit"]
    shipment_id: str = ""
    carrier: str = ""
    tracking_number: str = ""


# --- order activities ----------------------------------------------------------------------


class RecordOrder(BaseModel):
    ebay_order_id: str
    workflow_id: str = ""


class OrderLine(BaseModel):
    line_item_id: str
    sku: str
    title: str = ""
    quantity: int
    value: str = "0"
    currency: str = "USD"


class OrderRecord(BaseModel):
    """The order as the workflows need it (no personal data beyond what the emails use)."""

    order_id: str
    ebay_order_id: str
    buyer_name: str = ""
    buyer_email: str = ""
    country_code: str = ""
    lines: list[OrderLine] = Field(default_factory=list)
    total_value: str = "0"
    total_currency: str = "USD"
    status: str = "received"


class SetOrderStatus(BaseModel):
    order_id: str
    status: str  # models.OrderStatus value
    cancel_reason: str = ""


class RefundOrder(BaseModel):
    ebay_order_id: str
    amount: str
    currency: str
    reason: RefundReason = RefundReason.buyer_cancelled
    comment: str = ""


class RestoreStock(BaseModel):
    order_id: str


class RestoredStock(BaseModel):
    restored: dict[str, int] = Field(default_factory=dict)  # sku -> quantity added back now
    already_done: bool = False


# --- shipping activities --------------------------------------------------------------------


class EnsureShipment(BaseModel):
    order_id: str


class ShipmentRef(BaseModel):
    shipment_id: str
    domestic: bool
    status: str = "pending"


class LabelInput(BaseModel):
    """Input of LabelWorkflow (id `label-{shipment_id}`)."""

    shipment_id: str
    order_id: str = ""
    max_transit_days: int = Field(default=7, ge=1)
    preferred_carrier: str = ""
    preferred_service: str = ""
    rate_choice_seconds: float = Field(default=0, ge=0)


class Quote(BaseModel):
    carrier: str
    service: str
    service_name: str = ""
    amount: str
    currency: str
    transit_days: int | None = None


class QuoteRates(BaseModel):
    shipment_id: str


class ChooseRate(BaseModel):
    """Update `choose_rate`: staff pick a quoted carrier/service while the window is open."""

    carrier: str
    service: str
    staff_id: str = ""


class BuyLabel(BaseModel):
    shipment_id: str
    carrier: str
    service: str
    amount: str = ""
    currency: str = ""


class BoughtLabel(BaseModel):
    carrier: str
    service: str
    tracking_number: str = ""  # empty for a CSV hand-off until the carrier issues one
    label_key: str = ""  # shipping-labels/{shipment_id}.pdf
    handoff_key: str = ""  # documents/{carrier}/{shipment_id}.csv
    cost_amount: str = ""
    cost_currency: str = ""
    orphans_cancelled: list[str] = Field(default_factory=list)


class SubmitTracking(BaseModel):
    """Update `submit_tracking`: staff type in the number the carrier issued (12 digits, mod 7)."""

    tracking_number: str
    staff_id: str = ""


class ImportIssuedHistory(BaseModel):
    """Update `import_issued_history`: the S3 key of the carrier's issued-history file."""

    key: str


class ImportHistoryRequest(BaseModel):
    shipment_id: str
    carrier: str
    key: str


class RecordTracking(BaseModel):
    shipment_id: str
    carrier: str
    tracking_number: str


LabelStep = Literal["quoting", "choosing", "buying", "awaiting_tracking", "done"]


class LabelStatus(BaseModel):
    shipment_id: str
    step: LabelStep
    quotes: list[Quote] = Field(default_factory=list)
    chosen: Quote | None = None
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""
    label_key: str = ""
    handoff_key: str = ""


class LabelResult(BaseModel):
    shipment_id: str
    carrier: str
    service: str
    tracking_number: str
    label_key: str = ""
    handoff_key: str = ""
    cost_amount: str = ""
    cost_currency: str = ""


class UploadTracking(BaseModel):
    ebay_order_id: str
    shipment_id: str


class TrackShipment(BaseModel):
    shipment_id: str


class TrackingSnapshot(BaseModel):
    status: str  # adapters.carriers.TrackingStatus value
    delivered: bool = False
    last_event: str = ""


# --- inspection ----------------------------------------------------------------------------


class InspectionInput(BaseModel):
    """Input of InspectionWorkflow (id `inspection-{order_id}`)."""

    order_id: str
    ebay_order_id: str = ""
    staff_email: str = STAFF_NOTIFICATION_EMAIL
    escalation_hours: float = Field(default=24, gt=0)


class ChecklistItem(BaseModel):
    key: str  # e.g. "matches_photos"
    label: str


class CreateInspection(BaseModel):
    order_id: str
    workflow_id: str = ""


class InspectionSetup(BaseModel):
    inspection_id: str
    checklist: list[ChecklistItem]
    result: Literal["pending", "passed", "failed"] = "pending"


class RequestUpload(BaseModel):
    """Update `request_upload`: file names -> presigned PUT URLs (inspection-videos/{order_id}/)."""

    file_names: list[str]
    content_type: str = "video/mp4"


class PresignUploads(BaseModel):
    order_id: str
    file_names: list[str]
    content_type: str = "video/mp4"


class UploadTarget(BaseModel):
    file_name: str
    key: str
    url: str
    content_type: str


class InspectionSubmission(BaseModel):
    """Update `submit_result`. Every checklist key answered; passed only if every answer is True."""

    answers: dict[str, bool]
    media_keys: list[str]
    inspector_id: str
    notes: str = ""


class CheckMedia(BaseModel):
    order_id: str
    keys: list[str]


class RecordInspection(BaseModel):
    order_id: str
    passed: bool
    answers: dict[str, bool]
    media_keys: list[str]
    inspector_id: str
    notes: str = ""


class RecordEscalation(BaseModel):
    order_id: str
    count: int


class InspectionOutcome(BaseModel):
    order_id: str
    passed: bool
    notes: str = ""
    inspector_id: str = ""
    media_keys: list[str] = Field(default_factory=list)


class InspectionStatus(BaseModel):
    order_id: str
    step: Literal["creating", "awaiting_result", "recording", "done"]
    checklist: list[ChecklistItem] = Field(default_factory=list)
    escalations: int = 0
    result: Literal["pending", "passed", "failed"] = "pending"
    notes: str = ""
