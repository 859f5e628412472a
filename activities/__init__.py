"""Idempotent activities: thin, typed, one adapter call plus its database bookkeeping.

Each module holds one class whose `__init__` takes the worker's `Dependencies` and whose
`@activity.defn` methods are the activities (registered under the names in
`workflows.contracts`). Activities are sync methods run on the worker's thread pool (the SDKs
they use are sync).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio.client import Client

from activities.backup import BackupActivities
from activities.catalog import CatalogActivities
from activities.deps import Dependencies
from activities.email import EmailActivities
from activities.health import HealthActivities
from activities.inspection import InspectionActivities
from activities.orders import OrderActivities
from activities.shipping import ShippingActivities
from activities.storage_ops import StorageActivities
from activities.sync import SyncActivities
from config import Settings


def build_activities(
    settings: Settings, deps: Dependencies | None = None, client: Client | None = None
) -> list[Callable[..., Any]]:
    """Every activity the worker registers, bound to one shared set of adapters (and the
    worker's Temporal client for the health check; it connects itself without one)."""
    deps = deps or Dependencies(settings)
    health = HealthActivities(settings, client)
    catalog = CatalogActivities(deps)
    email = EmailActivities(deps)
    sync = SyncActivities(deps)
    storage = StorageActivities(deps)
    orders = OrderActivities(deps)
    shipping = ShippingActivities(deps)
    inspection = InspectionActivities(deps)
    backup = BackupActivities(deps)
    return [
        catalog.load_product,
        catalog.set_status,
        catalog.generate_copy,
        catalog.apply_edit,
        catalog.resolve_images,
        catalog.ensure_location,
        catalog.put_inventory_item,
        catalog.create_offer,
        catalog.publish_offer,
        catalog.bulk_create_offers,
        catalog.bulk_publish_offers,
        catalog.prepare_chunk,
        catalog.push_offer,
        catalog.end_listing,
        catalog.relist,
        email.is_suppressed,
        email.record_suppressed,
        email.send_email,
        email.confirm,
        sync.read_watermark,
        sync.advance_watermark,
        sync.fetch_orders,
        sync.mark_orders_started,
        sync.refresh_tracking,
        sync.sync_inventory_page,
        storage.cleanup_storage,
        orders.record_order,
        orders.set_order_status,
        orders.refund_order,
        orders.restore_stock,
        orders.dispose_units,
        shipping.ensure_shipment,
        shipping.quote_rates,
        shipping.buy_label,
        shipping.record_tracking,
        shipping.import_issued_history,
        shipping.upload_tracking,
        shipping.track_shipment,
        inspection.create_inspection,
        inspection.presign_uploads,
        inspection.check_media,
        inspection.check_media_versions,
        inspection.record_inspection,
        inspection.record_escalation,
        backup.create_backup,
        backup.apply_retention,
        health.check_workflow_health,
    ]
