"""The adapters an activity may use, created lazily so a worker starts without the network."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from config import Settings

if TYPE_CHECKING:
    from adapters.carriers import Carrier
    from adapters.ebay import EbayClient
    from adapters.openai import ListingWriter
    from adapters.s3 import Storage
    from adapters.sendgrid import Mailer


class Dependencies:
    """One per worker process; adapters are thread-safe and shared by all activities."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def ebay(self) -> EbayClient:
        from adapters.ebay import EbayClient

        return EbayClient(self.settings)

    @cached_property
    def carriers(self) -> dict[str, Carrier]:
        from adapters.carriers.registry import all_carriers

        return all_carriers(self.settings)

    @cached_property
    def mailer(self) -> Mailer:
        from adapters.sendgrid import Mailer

        return Mailer(self.settings)

    @cached_property
    def storage(self) -> Storage:
        from adapters.s3 import Storage

        return Storage(self.settings)

    @cached_property
    def ai(self) -> ListingWriter:
        from adapters.openai import ListingWriter

        return ListingWriter(self.settings)
