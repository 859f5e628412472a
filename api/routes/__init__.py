"""Route groups: each module exposes `routers()` (`routers(settings)` where limits or paths come
from settings)."""

from __future__ import annotations

from litestar import Router

from api.routes import (
    auth,
    inspections,
    invitations,
    operations,
    orders,
    pages,
    products,
    shipments,
    temporal_codec,
    users,
    webhooks,
)
from config import Settings


def build_routers(settings: Settings) -> list[Router]:
    return [
        *auth.routers(settings),
        *invitations.routers(settings),
        *users.routers(),
        *products.routers(),
        *orders.routers(),
        *inspections.routers(),
        *shipments.routers(),
        *operations.routers(),
        *webhooks.routers(settings),
        *temporal_codec.routers(settings),
        *pages.routers(settings),
    ]
