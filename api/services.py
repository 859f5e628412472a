"""Adapters the API itself uses (S3 presigning, webhook signature checks), built once per app on
first use so the app starts without them and a missing one fails only its routes (503)."""

from __future__ import annotations

import importlib
import threading
from functools import cached_property
from typing import Any

from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from config import Settings


def adapter(module: str, name: str) -> Any:
    """`adapters.<module>.<name>`, or 503 naming what is missing in this deployment."""
    try:
        return getattr(importlib.import_module(f"adapters.{module}"), name)
    except (ImportError, AttributeError) as exc:
        raise HTTPException(
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"adapters.{module}.{name} is not available in this deployment",
        ) from exc


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    @cached_property
    def storage(self) -> Any:
        with self._lock:
            return adapter("storage", "Storage")(self.settings)

    @cached_property
    def mailer(self) -> Any:
        with self._lock:
            return adapter("mail", "Mailer")(self.settings)

    @cached_property
    def ebay_verifier(self) -> Any:
        with self._lock:
            return adapter("ebay_notifications", "NotificationVerifier")(self.settings)
