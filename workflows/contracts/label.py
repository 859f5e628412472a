"""Contract of LabelWorkflow (id `label-{shipment_id}`): rate shopping and exactly one label,
with the shipping activities (shipment row, quotes, label, tracking upload, tracking).

`shipment_id` is our `Shipment.id`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from workflows.contracts.common import StaffAnswer

LABEL_WORKFLOW = "LabelWorkflow"


def label_workflow_id(shipment_id: str) -> str:
    return f"label-{shipment_id}"


def label_reference(shipment_id: str) -> str:
    """The idempotency key of the one label bought for a shipment (sent to the carrier)."""
    return f"label:{shipment_id}"


# --- update / signal names ----------------------------------------------------------------

CHOOSE_RATE_SIGNAL = "request_rate_choice"
"""The API's way to choose a rate: a signal answered in the status query (`answers`). The update
below is kept for runs that received it: accepted in the task where the main coroutine enters
`choosing` (an upsert and the window's timer) or leaves it (the timer fired: buying), it may
replay in another order (docs/architecture.md, "Staff commands")."""
CHOOSE_RATE_UPDATE = "choose_rate"
SUBMIT_TRACKING_UPDATE = "submit_tracking"
IMPORT_ISSUED_HISTORY_UPDATE = "import_issued_history"

# --- activity names -----------------------------------------------------------------------

ENSURE_SHIPMENT_ACTIVITY = "shipping.ensure_shipment"
QUOTE_RATES_ACTIVITY = "shipping.quote_rates"
BUY_LABEL_ACTIVITY = "shipping.buy_label"
RECORD_TRACKING_ACTIVITY = "shipping.record_tracking"
IMPORT_ISSUED_HISTORY_ACTIVITY = "shipping.import_issued_history"
UPLOAD_TRACKING_ACTIVITY = "shipping.upload_tracking"
TRACK_SHIPMENT_ACTIVITY = "shipping.track"

# --- models -------------------------------------------------------------------------------


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
    # Set by the orders that start it today: `BusinessStatus` is upserted only for the steps a
    # label waits in (choosing, awaiting_tracking) and label_ready, without asking the
    # `label-every-step-searchable` patch; the order shows `labelling` meanwhile. False in the
    # histories from before, which take the patch check.
    lean: bool = False


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
    """Signal `request_rate_choice` (formerly update `choose_rate`): staff pick a quoted
    carrier/service while the window is open."""

    carrier: str
    service: str
    staff_id: str = ""
    request_id: str = ""  # names the answer in the status query


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


LabelStep = Literal["quoting", "choosing", "buying", "awaiting_tracking", "label_ready"]
"""One word per state: the `status` query's step and the `BusinessStatus` search attribute."""


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
    staff_chose: bool = False  # a staff choice was taken (the next one is refused)
    answers: list[StaffAnswer] = Field(default_factory=list)  # to signalled staff commands


def rate_choice_refusal(status: LabelStatus, choice: ChooseRate) -> str | None:
    """Why the label refuses this rate choice now, or None: the one rule, applied by the
    workflow (signal handler, the old update's validator) and read ahead by the API."""
    if status.step != "choosing" or status.staff_chose:
        return f"the rate can no longer be chosen (step {status.step})"
    if not any(q.carrier == choice.carrier and q.service == choice.service for q in status.quotes):
        offered = ", ".join(f"{q.carrier}/{q.service}" for q in status.quotes)
        return f"{choice.carrier}/{choice.service} was not quoted (quoted: {offered})"
    return None


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
