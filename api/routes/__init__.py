"""Route groups. Each module exposes `routers(settings)` so limits and paths come from settings."""

from __future__ import annotations

from importlib import import_module

from litestar import Router

from config import Settings

MODULES = (
    "auth",
    "users",
    "products",
    "orders",
    "inspections",
    "shipments",
    "operations",
    "webhooks",
    "temporal_codec",
)


def build_routers(settings: Settings) -> list[Router]:
    routers: list[Router] = []
    for name in MODULES:
        routers.extend(import_module(f"api.routes.{name}").routers(settings))
    return routers
