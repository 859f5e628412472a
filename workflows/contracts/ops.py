"""Contracts of the scheduled workflows: order sync, tracking refresh, inventory sync, cleanup.

Schedule IDs are fixed (ops and the CLI refer to them); see `schedules.py` for the timing.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from domain.contacts import STAFF_NOTIFICATION_EMAIL

ORDER_SYNC_SCHEDULE = "order-sync"
TRACKING_REFRESH_SCHEDULE = "tracking-refresh"
INVENTORY_SYNC_SCHEDULE = "inventory-sync"
STORAGE_CLEANUP_SCHEDULE = "storage-cleanup"

ORDER_SYNC_WORKFLOW = "OrderSyncWorkflow"
TRACKING_REFRESH_WORKFLOW = "TrackingRefreshWorkflow"
INVENTORY_SYNC_WORKFLOW = "InventorySyncWorkflow"
STORAGE_CLEANUP_WORKFLOW = "StorageCleanupWorkflow"

ORDER_SYNC_STATE = "ebay-orders"  # SyncState.name of the order watermark

# --- activity names ---------------------------------------------------------------------------

READ_WATERMARK_ACTIVITY = "sync.read_watermark"
FETCH_ORDERS_ACTIVITY = "sync.fetch_orders"
MARK_ORDERS_STARTED_ACTIVITY = "sync.mark_orders_started"
ADVANCE_WATERMARK_ACTIVITY = "sync.advance_watermark"
REFRESH_TRACKING_ACTIVITY = "sync.refresh_tracking"
SYNC_INVENTORY_PAGE_ACTIVITY = "sync.inventory_page"
CLEANUP_STORAGE_ACTIVITY = "storage.cleanup"

# --- order sync -------------------------------------------------------------------------------


class OrderSyncInput(BaseModel):
    overlap_minutes: float = Field(default=5, ge=0)  # eBay indexes modifications with a delay
    initial_lookback_hours: float = Field(default=24, gt=0)  # first run, no watermark yet
    state_name: str = ORDER_SYNC_STATE
    # passed on to each OrderFulfillmentWorkflow (the schedule fills them from the settings)
    staff_email: str = STAFF_NOTIFICATION_EMAIL
    inspection_escalation_hours: float = Field(default=24, gt=0)
    max_transit_days: int = Field(default=7, ge=1)
    rate_choice_seconds: float = Field(default=0, ge=0)  # RATE_CHOICE_MINUTES, in seconds


class ReadWatermark(BaseModel):
    name: str


class Watermark(BaseModel):
    name: str
    value: datetime | None = None


class FetchOrders(BaseModel):
    start: datetime
    end: datetime


class FetchedOrders(BaseModel):
    fetched: int
    to_start: list[str] = Field(default_factory=list)  # ebay order ids without a workflow yet
    max_modified: datetime | None = None


class MarkOrdersStarted(BaseModel):
    ebay_order_ids: list[str]


class AdvanceWatermark(BaseModel):
    name: str
    value: datetime


class OrderSyncResult(BaseModel):
    window_start: datetime
    window_end: datetime
    fetched: int
    started: list[str] = Field(default_factory=list)
    already_running: list[str] = Field(default_factory=list)


# --- tracking refresh -------------------------------------------------------------------------


class TrackingRefreshInput(BaseModel):
    page_size: int = Field(default=200, ge=1, le=1000)
    # Set by the schedule (and the bench) today: the signals carry the status without asking the
    # `tracking-signal-carries-status` patch, whose marker and billed TemporalChangeVersion
    # upsert every 30-minute run paid. False in the histories from before, which ask it.
    signals_carry_status: bool = False


class RefreshTracking(BaseModel):
    after_id: str = ""  # keyset paging over shipments in transit
    limit: int = 200


class TrackingChange(BaseModel):
    ebay_order_id: str
    shipment_id: str
    tracking_number: str
    status: str
    delivered: bool = False
    last_event: str = ""


class RefreshedTracking(BaseModel):
    checked: int
    changed: list[TrackingChange] = Field(default_factory=list)
    errors: int = 0
    carrier_calls: int = 0  # tracking requests made (FedEx batches 30 numbers a request)
    next_after_id: str = ""  # empty when done


class TrackingRefreshResult(BaseModel):
    checked: int
    changed: int
    signalled: int
    errors: int
    carrier_calls: int = 0


# --- inventory sync ---------------------------------------------------------------------------


class InventorySyncInput(BaseModel):
    page_size: int = Field(default=500, ge=1, le=5000)  # products per activity (20 eBay calls)


class SyncInventoryPage(BaseModel):
    after_sku: str = ""
    limit: int = 500


class InventoryPageResult(BaseModel):
    updated: int
    failed: int
    calls: int
    next_after_sku: str = ""


class InventorySyncResult(BaseModel):
    updated: int
    failed: int
    calls: int


# --- storage cleanup --------------------------------------------------------------------------


class StorageCleanupInput(BaseModel):
    prefix: str = "temp/"
    max_age_hours: float = Field(default=24, gt=0)


class StorageCleanupResult(BaseModel):
    deleted: int


# --- workflow health ----------------------------------------------------------------------------

CHECK_WORKFLOW_HEALTH_ACTIVITY = "ops.check_workflow_health"


class WorkflowHealthCheck(BaseModel):
    """Describe one workflow: is its workflow task failing again and again?"""

    workflow_id: str
    about: str = ""  # what the workflow is for, in the Sentry report ("order 12-34567-89012")
    report: bool = True  # tell Sentry when failing (the caller's first sighting)


class WorkflowHealth(BaseModel):
    workflow_id: str
    running: bool = True
    task_attempt: int = 0  # the pending workflow task's attempt (0: none pending)
    failing: bool = False  # attempt at WORKFLOW_TASK_ALERT_ATTEMPTS or later
    cause: str = ""  # the last WorkflowTaskFailed cause, e.g. NON_DETERMINISTIC_ERROR
    message: str = ""  # its failure message (or "timed out")

    def summary(self) -> str:
        reason = f"{self.cause}: {self.message}" if self.cause else self.message
        return f"workflow task failing (attempt {self.task_attempt}; {reason})"[:500]
