"""The Temporal dev server's own count of the requests it served (its Prometheus
`service_requests` counter), by service and operation: what each side of a benchmark asks of
the server per order (polls, completions, queries, heartbeats, signals), beside its CPU."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import httpx

_SAMPLE = re.compile(
    r"^service_requests\{(?P<labels>[^}]*)\}\s+(?P<value>[0-9.eE+-]+)$", re.MULTILINE
)
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def served(metrics_url: str) -> dict[str, float]:
    """`service.Operation` -> requests served so far (all namespaces)."""
    text = httpx.get(metrics_url, timeout=10).text
    totals: dict[str, float] = {}
    for sample in _SAMPLE.finditer(text):
        labels = dict(_LABEL.findall(sample["labels"]))
        key = f"{labels.get('service_name', '?')}.{labels.get('operation', '?')}"
        totals[key] = totals.get(key, 0.0) + float(sample["value"])
    return totals


REPORT_SECONDS = 1.2
"""The server publishes its counters once a second: a reading waits for the next report."""


@contextlib.asynccontextmanager
async def requests_into(totals: dict[str, float], metrics_url: str) -> AsyncIterator[None]:
    """Adds the requests the server served inside the block to `totals` (nothing when the
    server has no metrics URL). Each reading waits for the server's next report, so keep CPU
    and time measurements inside this block, not around it."""
    if not metrics_url:
        yield
        return
    await asyncio.sleep(REPORT_SECONDS)
    before = served(metrics_url)
    yield
    await asyncio.sleep(REPORT_SECONDS)
    for key, count in served(metrics_url).items():
        totals[key] = totals.get(key, 0.0) + count - before.get(key, 0.0)


def differences(
    ours: dict[str, float], ceiling: dict[str, float], service: str = "frontend"
) -> list[tuple[str, float, float]]:
    """(operation, ours, ceiling) per order for one service, the largest gap first."""
    keys = {k for k in ours | ceiling if k.startswith(f"{service}.")}
    rows = [(k.split(".", 1)[1], ours.get(k, 0.0), ceiling.get(k, 0.0)) for k in keys]
    return sorted(rows, key=lambda row: abs(row[1] - row[2]), reverse=True)
