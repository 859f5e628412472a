"""The Litestar application: OpenAPI at /schema, JWT auth, role guards, rate limits, the required
security headers, CORS, allowed hosts, body size limit, JSON problem details for every error."""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.allowed_hosts import AllowedHostsConfig
from litestar.config.app import AppConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from temporalio.client import Client

from api import console
from api.change_feed import close_page_caches
from api.db import dispose_read_engines
from api.headers import security_headers
from api.health import health, ready
from api.json_limits import LimitedRequest
from api.metrics import build_metrics_handler, request_metrics_config
from api.openapi_document import complete_openapi
from api.request_log import RequestLogMiddleware, add_request_id, errors_as_responses
from api.routes import build_routers
from api.security import passwords
from api.security.notices import SETTINGS_STATE, TEMPORAL_STATE
from api.security.ratelimit import client_identifier, limiter
from api.security.tokens import PUBLIC_PATHS, TokenIssuer, build_jwt_auth
from api.services import Services
from api.stores import RL_API, build_store_registry
from api.temporal import TemporalGateway
from config import Settings
from observability import configure_logging, configure_sentry, get_logger

log = get_logger(__name__)


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Anything not already an HTTP error: log it here, tell the client nothing internal."""
    # A plain traceback string: renderers that print frame locals could leak request secrets.
    log.error(
        "unhandled error",
        path=request.url.path,
        error_type=type(exc).__name__,
        traceback="".join(traceback.format_exception(exc)),
    )
    return Response(
        {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "an unexpected error occurred; it has been logged",
        },
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
        media_type="application/problem+json",
    )


def _problem(exc: HTTPException) -> ProblemDetailsException:
    """RFC 9457: `title` is the status phrase, `detail` our message, `extra` field errors."""
    return ProblemDetailsException(
        status_code=exc.status_code,
        title=HTTPStatus(exc.status_code).phrase,
        detail=exc.detail,
        extra=exc.extra,
        headers=exc.headers,
    )


DOCS_ASSETS = "/_docs"


def _docs_assets() -> Router:
    import swagger_ui

    return create_static_files_router(
        path=DOCS_ASSETS,
        directories=[Path(swagger_ui.__file__).parent / "static"],
        name="docs_assets",
        include_in_schema=False,
        opt={"exclude_from_auth": True},
    )


def create_app(settings: Settings, *, temporal_client: Client | None = None) -> Litestar:
    if settings.is_production and (problems := settings.production_problems()):
        raise RuntimeError("refusing to start in production:\n- " + "\n- ".join(problems))
    configure_logging(settings, "api")
    configure_sentry(settings, "api")  # before Litestar(): the integration patches its __init__

    jwt_auth = build_jwt_auth(settings)
    session_auth = console.build_session_auth(settings)
    issuer = TokenIssuer(jwt_auth, settings)
    services = Services(settings)
    temporal = TemporalGateway(settings, temporal_client)
    identify = client_identifier(settings.trusted_proxies)
    api_limit = limiter(
        settings.rate_limit_api,
        settings.rate_limit_api_window,
        RL_API,
        settings.trusted_proxies,
        exclude=PUBLIC_PATHS,
    )

    def rate_limit_before_auth(app_config: AppConfig) -> AppConfig:
        # JWTAuth puts its middleware first; putting the limiter in front of it means requests
        # with bad tokens are counted too (otherwise a token-guessing flood is never limited).
        app_config.middleware.insert(0, api_limit.middleware)
        # The limiter and auth raise their 429/401; turn those into responses right here, so
        # the request log and the request metrics outside see the status the client gets
        # (Litestar otherwise handles them outside every middleware: they would count as 500).
        app_config.middleware.insert(0, errors_as_responses)
        app_config.middleware.insert(0, request_metrics_config().middleware)
        # Outermost: one line per request, with the user the auth middleware found.
        app_config.middleware.insert(0, RequestLogMiddleware(identify))
        return app_config

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # In the background and tolerant: the API serves (and /api/ready says "temporal
        # failing") before Temporal is up; routes that need it connect on first use.
        warm_up = asyncio.create_task(temporal.warm_up())
        dummy_hash = asyncio.create_task(passwords.warm_up())  # off the start-up path
        try:
            yield
        finally:
            warm_up.cancel()
            dummy_hash.cancel()
            await dispose_read_engines()
            await close_page_caches()

    app = Litestar(
        route_handlers=[
            health,
            ready,
            build_metrics_handler(settings, temporal),
            *build_routers(settings),
            *console.routers(settings),
            _docs_assets(),
        ],
        # Session auth first so JWTAuth's middleware ends up outermost (each inserts at 0);
        # each excludes the other's paths.
        on_app_init=[session_auth.on_app_init, jwt_auth.on_app_init, rate_limit_before_auth],
        template_config=console.template_config(),
        csrf_config=console.csrf_config(settings),
        dependencies={
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "temporal": Provide(lambda: temporal, use_cache=True, sync_to_thread=False),
            "issuer": Provide(lambda: issuer, use_cache=True, sync_to_thread=False),
            "services": Provide(lambda: services, use_cache=True, sync_to_thread=False),
        },
        stores=build_store_registry(settings),
        state=State({TEMPORAL_STATE: temporal, SETTINGS_STATE: settings}),
        lifespan=[lifespan],
        before_send=[security_headers(settings), add_request_id],
        cors_config=CORSConfig(
            # the Temporal web UI calls the codec endpoint (api/routes/temporal_codec.py)
            allow_origins=[*settings.cors_allow_origins, *settings.temporal_ui_origins],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            # only the codec routes read a cookie (their own); everything else is bearer-only
            allow_credentials=True,
            max_age=600,
        ),
        allowed_hosts=AllowedHostsConfig(allowed_hosts=list(settings.allowed_hosts)),
        request_max_body_size=settings.max_request_body_bytes,
        request_class=LimitedRequest,
        plugins=[
            ProblemDetailsPlugin(
                ProblemDetailsConfig(exception_to_problem_detail_map={HTTPException: _problem})
            )
        ],
        exception_handlers={Exception: _unexpected_error},
        openapi_config=OpenAPIConfig(
            title="The World Door back office API",
            version="1.0.0",
            description="Staff API: products and listings, orders, inspections, shipments, "
            "operations. Authenticate with POST /api/auth/login and send `Authorization: "
            "Bearer <access_token>`.",
            path="/schema",
            # Swagger UI from the installed swagger-ui-py package: /schema works offline.
            render_plugins=[
                SwaggerRenderPlugin(
                    path=["/", "/swagger"],
                    js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{DOCS_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' href='{DOCS_ASSETS}/favicon-32x32.png'>",
                )
            ],
        ),
        logging_config=LoggingConfig(log_exceptions="never", configure_root_logger=False),
        debug=False,
    )
    complete_openapi(app)
    return app
