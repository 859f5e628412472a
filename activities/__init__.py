"""Idempotent activities: thin, typed, one adapter call plus its database bookkeeping.

Each module exposes `activities(deps) -> list[callable]`; the worker registers them all.
Activities are sync functions run on the worker's thread pool (the SDKs they use are sync).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from activities.deps import Dependencies
from config import Settings

ACTIVITY_MODULES = (
    "activities.catalog",
    "activities.email",
    "activities.sync",
    "activities.storage_ops",
    "activities.orders",
    "activities.shipping",
    "activities.inspection",
    "activities.backup",
)


def build_activities(
    settings: Settings, deps: Dependencies | None = None
) -> list[Callable[..., Any]]:
    deps = deps or Dependencies(settings)
    found: list[Callable[..., Any]] = []
    for name in ACTIVITY_MODULES:
        found.extend(importlib.import_module(name).activities(deps))
    return found
