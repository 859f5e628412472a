"""Adapters the API itself uses (S3 presigning, webhook signature checks), built once per app on
first use so the app starts without them."""

from __future__ import annotations

import threading
from functools import cached_property

from adapters.ebay_notifications import NotificationVerifier
from adapters.s3 import Storage
from adapters.sendgrid import Mailer
from config import Settings


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    @cached_property
    def storage(self) -> Storage:
        with self._lock:
            return Storage(self.settings)

    @cached_property
    def mailer(self) -> Mailer:
        with self._lock:
            return Mailer(self.settings)

    @cached_property
    def ebay_verifier(self) -> NotificationVerifier:
        with self._lock:
            return NotificationVerifier(self.settings)
