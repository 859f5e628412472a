"""Liveness (/api/health: the process answers) and readiness (/api/ready: the database, the store
and Temporal answer; 503 names whatever does not)."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio.to_thread
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from pydantic import BaseModel

from api.stores import HEALTH
from api.temporal import TemporalGateway
from config import Settings
from models.db import database_ok


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    failing: list[str]


@get("/api/health", exclude_from_auth=True, tags=["health"], summary="Liveness")
async def health() -> Health:
    return Health(status="ok")


async def _check_database(settings: Settings) -> None:
    await asyncio.wait_for(anyio.to_thread.run_sync(database_ok, settings), timeout=5)


async def _check_store(request: Request[Any, Any, Any]) -> None:
    store = request.app.stores.get(HEALTH)
    await asyncio.wait_for(store.set("ping", b"1", expires_in=30), timeout=3)


@get(
    "/api/ready",
    exclude_from_auth=True,
    tags=["health"],
    summary="Readiness: database, store and Temporal",
    responses={
        HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
            data_container=Readiness, description="A dependency is failing (named in `failing`)"
        )
    },
)
async def ready(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    temporal: NamedDependency[TemporalGateway],
) -> Response[Readiness]:
    checks: dict[str, str] = {}
    for name, probe in (
        ("database", _check_database(settings)),
        ("store", _check_store(request)),
    ):
        try:
            await probe
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - report the part, not the trace
            checks[name] = f"failing: {type(exc).__name__}"
    checks["temporal"] = "ok" if await temporal.healthy() else "failing: not reachable"
    failing = [name for name, value in checks.items() if value != "ok"]
    body = Readiness(status="ok" if not failing else "unavailable", checks=checks, failing=failing)
    return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE if failing else HTTP_200_OK)
