"""Contract of OrderFulfillmentWorkflow (id `order-{ebay_order_id}`): the order's life from the
eBay sale to delivery, with the order activities it calls (record, status, refund, stock back).

IDs: `order_id` is our database `Order.id` (a UUID string); `ebay_order_id` is eBay's id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from domain.catalog import Condition
from domain.contacts import STAFF_NOTIFICATION_EMAIL
from domain.refunds import RefundReason
from domain.stock import (
    BUYER_CONTACT_HOURS,
    DEFAULT_REFUND_TIMING,
    DEFAULT_UNIT_DISPOSITION,
    FAILED_INSPECTION_DECISION_HOURS,
    RefundTiming,
    UnitDisposition,
)
from workflows.contracts.common import StaffAnswer
from workflows.contracts.label import TrackingSnapshot

FULFILLMENT_WORKFLOW = "OrderFulfillmentWorkflow"


def fulfillment_workflow_id(ebay_order_id: str) -> str:
    return f"order-{ebay_order_id}"


# --- update / signal names ----------------------------------------------------------------

# Staff commands arrive as signals, answered in the `status` query (`StaffAnswer`): an update
# accepted in a workflow task where the main coroutine also emits commands may replay in
# another order (TMPRL1100 after a workflow-task timeout); a signal emits nothing and its rules
# commute with the other events of its task (docs/architecture.md, "Staff commands").
CANCEL_SIGNAL = "request_cancel"
FAILED_INSPECTION_DECISION_SIGNAL = "request_failed_inspection_decision"
# The updates of the same commands: still handled for runs and histories that used them; the
# API no longer sends them.
CANCEL_UPDATE = "cancel"
FAILED_INSPECTION_DECISION_UPDATE = "decide_failed_inspection"
TRACKING_REFRESH_SIGNAL = "tracking_refresh"

# --- activity names -----------------------------------------------------------------------

RECORD_ORDER_ACTIVITY = "orders.record"
SET_ORDER_STATUS_ACTIVITY = "orders.set_status"
REFUND_ORDER_ACTIVITY = "orders.refund"
RESTORE_STOCK_ACTIVITY = "orders.restore_stock"
DISPOSE_UNITS_ACTIVITY = "orders.dispose_units"

# --- models -------------------------------------------------------------------------------

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
    "awaiting_decision",
    "contacting_buyer",
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
    deadline: datetime | None = None  # batched tracking: left in transit after this time
    tracking_status: str = ""  # the last status handled, for the next run's `status` query
    pending: list[TrackingSnapshot] = Field(default_factory=list)  # signalled, not yet handled
    refresh_pending: bool = False  # a `tracking_refresh` without status, not yet handled


class FulfillOrder(BaseModel):
    """Input of OrderFulfillmentWorkflow (id `order-{ebay_order_id}`)."""

    ebay_order_id: str
    staff_email: str = STAFF_NOTIFICATION_EMAIL
    # Batched tracking (the `tracking-refresh` schedule signals the order): the order is left in
    # transit `tracking_poll_seconds` x `max_tracking_polls` after shipping (a week) without a
    # delivery, and continues as new after `polls_per_run` tracking signals. Runs from before
    # the `batched-tracking` patch poll every `tracking_poll_seconds` instead.
    tracking_poll_seconds: float = Field(default=6 * 3600, gt=0)
    max_tracking_polls: int = Field(default=28, ge=1)
    polls_per_run: int = Field(default=50, ge=1)
    inspection_escalation_hours: float = Field(default=24, gt=0)
    # how often the order looks at its inspection child's health while waiting for it
    inspection_watch_minutes: float = Field(default=60, gt=0)
    max_transit_days: int = Field(default=7, ge=1)
    preferred_carrier: str = ""
    preferred_service: str = ""
    rate_choice_seconds: float = Field(default=0, ge=0)  # window for staff to `choose_rate`
    decision_hours: float = Field(default=FAILED_INSPECTION_DECISION_HOURS, gt=0)
    buyer_contact_hours: float = Field(default=BUYER_CONTACT_HOURS, gt=0)
    resume: FulfillmentResume | None = None


class CancelOrder(BaseModel):
    """Signal `request_cancel` (formerly update `cancel`): staff cancel before the label is
    bought. `request_id` names the answer in the status query (`StaffAnswer`)."""

    reason: str
    staff_id: str = ""
    request_id: str = ""


class FailedInspectionDecision(BaseModel):
    """Signal `request_failed_inspection_decision` (formerly update `decide_failed_inspection`):
    what staff decide after a failed inspection.

    `refund`: `now` refunds and apologises at once; `contact_buyer` emails the buyer first and
    refunds after `buyer_contact_hours` unless staff decide `now` earlier. `unit`: what happens to
    the inspected unit(s) (`domain/stock.py`); `condition` is required for `relist`. Without a
    decision within `decision_hours` the defaults apply: refund now, unit written off."""

    refund: RefundTiming = DEFAULT_REFUND_TIMING
    unit: UnitDisposition = DEFAULT_UNIT_DISPOSITION
    condition: Condition | None = None
    note: str = Field(default="", max_length=500)
    staff_id: str = ""
    request_id: str = ""  # names the answer in the status query (signal only)

    @model_validator(mode="after")
    def _relist_needs_condition(self) -> FailedInspectionDecision:
        if self.unit is UnitDisposition.relist and self.condition is None:
            raise ValueError("relisting the unit needs the condition it is relisted under")
        if self.unit is not UnitDisposition.relist and self.condition is not None:
            raise ValueError("a condition is only given when the unit is relisted")
        return self


class DecisionState(BaseModel):
    """The failed-inspection decision as the status query shows it."""

    deadline: str = ""  # ISO time the defaults apply (or the refund goes out after contact)
    refund: RefundTiming | None = None
    unit: UnitDisposition | None = None
    decided_by: str = ""  # staff id, or "default" when the timer decided
    buyer_contacted: bool = False
    received: bool = False  # a decision for the current wait arrived (the next one is refused)


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
    decision: DecisionState | None = None
    cancel_reason: str = ""
    attention: str = ""  # set while a child workflow is stuck on failing workflow tasks
    answers: list[StaffAnswer] = Field(default_factory=list)  # to signalled staff commands


CANCELLABLE_STEPS = ("recording", "confirming", "inspecting")
"""Staff may cancel until the label stage starts (after that a label may be bought)."""

DECIDABLE_STEPS = ("awaiting_decision", "contacting_buyer")


def cancel_refusal(status: FulfillmentStatus, request: CancelOrder) -> str | None:
    """Why the order refuses this cancel now, or None: the one rule, applied by the workflow
    (signal handler and the old update's validator) and read ahead by the API."""
    if not request.reason.strip():
        return "a reason is required to cancel an order"
    if status.cancel_reason:
        return "the order is already being cancelled"
    if status.step not in CANCELLABLE_STEPS:
        return f"too late to cancel: the order is at {status.step} (label stage reached)"
    return None


def decision_refusal(
    status: FulfillmentStatus, request: FailedInspectionDecision, ahead_of_result: bool = False
) -> str | None:
    """Why the order refuses this failed-inspection decision now, or None (same callers).

    `ahead_of_result` (the workflow's signal handler): a decision that comes while the order is
    still `inspecting` is kept for the failure. A status query can run ahead of the workflow task
    that handles the inspection's result (staff then see `awaiting_decision` and decide), and the
    SDK may deliver that result and the signal in one activation on one run and in two on another
    (after a worker restart). Taking the decision either way keeps both runs' commands the same;
    it is dropped if the inspection passes."""
    if status.step not in DECIDABLE_STEPS and not (ahead_of_result and status.step == "inspecting"):
        return f"no decision is awaited: the order is at {status.step}"
    if status.decision is not None and status.decision.received:
        return "a decision was already taken"
    if status.step == "contacting_buyer" and request.refund is not RefundTiming.now:
        return "the buyer was already contacted: the next decision is refund 'now'"
    return None


class FulfillmentResult(BaseModel):
    ebay_order_id: str
    order_id: str
    outcome: Literal["completed", "cancelled", "refunded", "in_transit"]
    shipment_id: str = ""
    carrier: str = ""
    tracking_number: str = ""


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
    reason: str = ""


class DisposeUnits(BaseModel):
    order_id: str
    disposition: UnitDisposition
    condition: Condition | None = None
    note: str = ""


class DisposedUnits(BaseModel):
    disposition: UnitDisposition
    relisted_skus: list[str] = Field(default_factory=list)


class RestoredStock(BaseModel):
    restored: dict[str, int] = Field(default_factory=dict)  # sku -> quantity added back now
    already_done: bool = False
