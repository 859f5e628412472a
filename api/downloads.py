"""Short-lived downloads of our S3 objects (labels, hand-off files, invoices, product images):
a presigned GET, valid for `DOWNLOAD_URL_SECONDS`, answered as JSON."""

from __future__ import annotations

import anyio.to_thread
from pydantic import BaseModel

from api.services import Services
from config import Settings


class Download(BaseModel):
    key: str
    url: str
    expires_in: int


async def signed_download(settings: Settings, services: Services, key: str) -> Download:
    seconds = settings.download_url_seconds
    url = await anyio.to_thread.run_sync(lambda: services.storage.presign_get(key, expires=seconds))
    return Download(key=key, url=url, expires_in=seconds)
