"""One ASGI app serving every emulator under its prefix, plus the `/_sandbox/` controls.

Each emulator module (`sandbox/ebay.py`, `sandbox/fedex.py`, ...) exposes:
- `create_app(ctx: SandboxContext) -> ASGIApp`: a Litestar app for that service;
- `error_body(status: int, message: str) -> dict`: the vendor's error shape, used for faults;
- `control_handlers(ctx) -> list`: extra Litestar handlers mounted under `/_sandbox/`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from litestar import Litestar, Request, delete, get, post
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.params import Body, FromQuery
from litestar.types import ASGIApp, Receive, Scope, Send

from config import Settings
from sandbox import ebay, fedex, openai, sagawa, sendgrid, yamato
from sandbox.core import FaultMiddleware, FaultRule, Quota, SandboxContext, send_json

EMULATORS = {
    "ebay": ebay,
    "fedex": fedex,
    "yamato": yamato,
    "sagawa": sagawa,
    "sendgrid": sendgrid,
    "openai": openai,
}
"""Each emulator module under the URL prefix it serves."""
SERVICES = tuple(EMULATORS)


def _control_app(ctx: SandboxContext, extra: list[Any]) -> Litestar:
    @get("/_sandbox/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "services": list(SERVICES)}

    @get("/_sandbox/ledger")
    async def ledger() -> dict[str, Any]:
        return {"ledger": ctx.ledger.snapshot(), "duplicates": ctx.ledger.duplicates()}

    @post("/_sandbox/faults", status_code=200)
    async def set_faults(data: Annotated[dict[str, dict[str, Any]], Body()]) -> dict[str, Any]:
        """Body: `{"fedex": {"error_rate": 0.5, "error_status": 503, ...}, ...}`."""
        allowed = set(FaultRule.__dataclass_fields__)
        for service, rule in data.items():
            if service not in SERVICES:
                raise HTTPException(status_code=400, detail=f"unknown service {service!r}")
            unknown = set(rule) - allowed
            if unknown:
                raise HTTPException(
                    status_code=400, detail=f"unknown fault fields {sorted(unknown)}"
                )
            ctx.faults[service] = FaultRule(**rule)
        return {"faults": {s: asdict(r) for s, r in ctx.faults.items()}}

    @get("/_sandbox/faults")
    async def get_faults() -> dict[str, Any]:
        return {"faults": {s: asdict(r) for s, r in ctx.faults.items()}}

    @delete("/_sandbox/faults", status_code=200)
    async def clear_faults() -> dict[str, Any]:
        ctx.faults.clear()
        return {"faults": {}}

    @post("/_sandbox/quotas", status_code=200)
    async def set_quotas(data: Annotated[dict[str, int], Body()]) -> dict[str, Any]:
        """Body: `{"fedex": 5}`: at most 5 requests a second, the rest 429 with Retry-After."""
        for service, per_second in data.items():
            if service not in SERVICES or per_second < 1:
                raise HTTPException(status_code=400, detail=f"bad quota {service!r}: {per_second}")
            ctx.quotas[service] = Quota(per_second)
        return {"quotas": {s: q.per_second for s, q in ctx.quotas.items()}}

    @post("/_sandbox/daily_quotas", status_code=200)
    async def set_daily_quotas(
        data: Annotated[dict[str, dict[str, int]], Body()],
    ) -> dict[str, Any]:
        """Body: `{"ebay": {"sell.inventory": 50}}`: 50 calls to that API family a Pacific day,
        the rest 429 with Retry-After up to the next day (eBay's daily call limits)."""
        for service, limits in data.items():
            if service not in SERVICES or any(n < 0 for n in limits.values()):
                raise HTTPException(status_code=400, detail=f"bad daily quota {service!r}")
            ctx.daily_quotas[service] = dict(limits)
        return {"daily_quotas": ctx.daily_quotas}

    @get("/_sandbox/meter")
    async def meter(service: FromQuery[str]) -> dict[str, Any]:
        """Requests to `service`: `{"seconds": [[unix second, served, refused]], "days":
        [[API family, Pacific date, served, refused]]}`."""
        return {
            "seconds": [[t, *n] for t, n in ctx.meter.per_second(service).items()],
            "days": ctx.meter.per_day(service),
        }

    @post("/_sandbox/reset", status_code=200)
    async def reset() -> dict[str, str]:
        ctx.reset()
        return {"status": "reset"}

    @post("/_sandbox/tokens/expire", status_code=200)
    async def expire_tokens() -> dict[str, str]:
        for book in ctx.tokens.values():
            book.expire_all()
        return {"status": "expired"}

    return Litestar(
        [
            health,
            ledger,
            set_faults,
            get_faults,
            clear_faults,
            set_quotas,
            set_daily_quotas,
            meter,
            reset,
            expire_tokens,
            *extra,
        ],
        openapi_config=None,
    )


def create_sandbox_app(settings: Settings, ctx: SandboxContext | None = None) -> SandboxDispatcher:
    ctx = ctx or SandboxContext(settings=settings)
    apps: dict[str, ASGIApp] = {}
    extra: list[Any] = []
    for service, module in EMULATORS.items():
        apps[service] = FaultMiddleware(module.create_app(ctx), ctx, service, module.error_body)
        extra.extend(module.control_handlers(ctx))
    return SandboxDispatcher(ctx, apps, _control_app(ctx, extra))


class SandboxDispatcher:
    """Routes `/ebay/...` to the eBay emulator (with the prefix stripped), and so on."""

    def __init__(self, ctx: SandboxContext, apps: dict[str, ASGIApp], control: ASGIApp) -> None:
        self.ctx, self.apps, self.control = ctx, apps, control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # type: ignore[comparison-overlap]
            await self.control(scope, receive, send)
            return
        path: str = scope.get("path", "/")
        prefix = path.split("/", 2)[1] if path.count("/") >= 1 else ""
        app = self.apps.get(prefix)
        if app is None:
            if prefix == "_sandbox":
                await self.control(scope, receive, send)
                return
            if scope["type"] == ScopeType.HTTP:
                await send_json(send, 404, {"error": f"no emulator at /{prefix}"})
            return
        child = dict(scope)
        child["path"] = path[len(prefix) + 1 :] or "/"
        child["raw_path"] = str(child["path"]).encode()
        child["root_path"] = scope.get("root_path", "") + "/" + prefix
        await app(child, receive, send)  # type: ignore[arg-type]


__all__ = ["Request", "SandboxDispatcher", "create_sandbox_app"]
