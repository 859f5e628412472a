"""Browser-style uploads through a presigned POST (the contract the API hands out)."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.s3 import UploadForm


def _parts(target: UploadForm | dict[str, Any]) -> tuple[str, dict[str, str], str]:
    if isinstance(target, UploadForm):
        return target.url, target.fields, target.content_type
    return target["url"], target["fields"], target["content_type"]


def post_upload(target: UploadForm | dict[str, Any], data: bytes) -> httpx.Response:
    """POST the policy fields, then the file last, as a browser form does."""
    url, fields, content_type = _parts(target)
    return httpx.post(url, data=fields, files={"file": ("upload", data, content_type)})


async def apost_upload(target: UploadForm | dict[str, Any], data: bytes) -> httpx.Response:
    url, fields, content_type = _parts(target)
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, data=fields, files={"file": ("upload", data, content_type)})
