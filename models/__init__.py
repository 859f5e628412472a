"""SQLModel tables, the engine and sessions, and the Alembic migrations (`models/migrations/`)."""

from models.accounts import Invitation, PasswordResetToken, RefreshToken, Role, User
from models.bulk import BulkBatchItem
from models.catalog import Condition, Product, ProductStatus
from models.email import EmailMessage, Suppression, WebhookEvent
from models.inspections import Inspection, InspectionResult
from models.ops import SyncState
from models.orders import Order, OrderStatus
from models.shipping import LabelPurchase, Shipment, ShipmentStatus
from models.stock import StockMovement

__all__ = [
    "BulkBatchItem",
    "Condition",
    "EmailMessage",
    "Inspection",
    "InspectionResult",
    "Invitation",
    "LabelPurchase",
    "Order",
    "OrderStatus",
    "PasswordResetToken",
    "Product",
    "ProductStatus",
    "RefreshToken",
    "Role",
    "Shipment",
    "ShipmentStatus",
    "StockMovement",
    "Suppression",
    "SyncState",
    "User",
    "WebhookEvent",
]
