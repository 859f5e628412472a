"""Deterministic workflow classes: the business processes, nothing else.

Workflows call activities by name only and exchange the plain pydantic models in
`workflows.contracts`; they never import adapters, database engines, httpx or boto3.
"""

from __future__ import annotations


def all_workflows() -> list[type]:
    """Every workflow class, for the worker and the replay tests.

    Imported here rather than at the top of the package: the workflow sandbox re-imports a
    workflow's module (and so this package) for every run, and should not load them all."""
    from workflows.backup import DatabaseBackupWorkflow
    from workflows.bulk_listing import BulkListingWorkflow
    from workflows.email import EmailWorkflow
    from workflows.fulfillment import OrderFulfillmentWorkflow
    from workflows.inspection import InspectionWorkflow
    from workflows.inventory_sync import InventorySyncWorkflow
    from workflows.label import LabelWorkflow
    from workflows.listing import ListingWorkflow
    from workflows.listing_change import ListingChangeWorkflow
    from workflows.order_sync import OrderSyncWorkflow
    from workflows.storage_cleanup import StorageCleanupWorkflow
    from workflows.tracking_refresh import TrackingRefreshWorkflow

    return [
        ListingWorkflow,
        ListingChangeWorkflow,
        BulkListingWorkflow,
        EmailWorkflow,
        OrderSyncWorkflow,
        TrackingRefreshWorkflow,
        InventorySyncWorkflow,
        StorageCleanupWorkflow,
        OrderFulfillmentWorkflow,
        LabelWorkflow,
        InspectionWorkflow,
        DatabaseBackupWorkflow,
    ]
