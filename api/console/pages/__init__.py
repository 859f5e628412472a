"""The console's business pages, one module per area. Every read and every action runs the
JSON API route's own function (`handler.fn`): the same validation models, the same database
rules and the same workflow updates, so the console adds pages, not a second business layer.
Guards are the API's guards (the session yields the same `AuthUser` the JWT does). Shared form
and JSON helpers are in `common`; the admin pages are in `api.console.admin`."""

from __future__ import annotations

from litestar import Router

from api.console.pages import (
    batches,
    inspections,
    listings,
    orders,
    products,
    shipments,
    today,
)
from config import Settings


def routers(settings: Settings) -> list[Router]:
    del settings
    return [
        Router(
            path="/console",
            include_in_schema=False,
            route_handlers=[
                *today.ROUTES,
                *products.ROUTES,
                *batches.ROUTES,
                *listings.ROUTES,
                *orders.ROUTES,
                *inspections.ROUTES,
                *shipments.ROUTES,
            ],
        )
    ]
