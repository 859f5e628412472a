"""Helpers for the account browser tests: the emailed links, read from the SendGrid emulator's
accepted messages (what the real worker sent)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def emailed_link(sandbox_url: str, to: str, key: str, wait_s: float = 120) -> str:
    """The `key` value (a link) of the newest email to `to` the emulator accepted (the worker
    sends it through the EmailWorkflow; on a busy machine its first attempt may be retried)."""
    messages: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=10) as http:
        for _ in range(int(wait_s / 0.25)):
            messages = (await http.get("/_sandbox/sendgrid/messages")).json()["messages"]
            for message in reversed(messages):
                data = message.get("dynamic_template_data") or {}
                if message["email"].lower() == to.lower() and key in data:
                    return str(data[key])
            await asyncio.sleep(0.25)
    seen = [(m["email"], sorted(m.get("dynamic_template_data") or {})) for m in messages]
    raise AssertionError(f"no email with {key} to {to}; the emulator accepted {seen}")
