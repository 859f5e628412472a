"""Completes the OpenAPI document Litestar generates, so that it is the contract schemathesis and
clients can rely on:

1. Request bodies use pydantic's own JSON schema (free strings also say: no NUL). Litestar's
   translation of pydantic models drops `pattern` (SKU, email, tracking number) and turns
   `dict[str, bool]` into an array, so valid requests looked invalid and invalid ones valid.
2. Security says what authenticates each route: the bearer access token. The console's session
   cookie (Litestar's SessionAuth adds it to every operation) authenticates /console only, never
   /api, so it leaves the document; the codec routes also take their own cookie (codecSession).
   Public routes (login, refresh, webhooks, ...) carry no security requirement.
3. Every error a route can answer, as `application/problem+json`.

Litestar documents only a 400 for routes with parameters, with a body shape (`status_code`,
`detail`) that is not what the problem-details plugin sends. This walks the registered routes
once at startup and derives each operation's error statuses from what the route is built from:

- 400 malformed or invalid input (a body or any parameter), 413 body over the size limit;
- 401 without a valid access token (every route not excluded from auth);
- 403 role guards and pending account setup steps;
- 404 path parameters naming nothing;
- 409 state conflicts (every authenticated write, and any route that asks a workflow);
- 422 a body that parses but is refused by the route or the workflow;
- 429 rate limits (every /api route); 503 Temporal or a provider unreachable;
- plus anything a handler declares in `opt["errors"]`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, get_args

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.routes import HTTPRoute
from pydantic import BaseModel

from api.pagination import NO_NUL
from api.routes.temporal_codec import COOKIE as CODEC_COOKIE

REF_TEMPLATE = "#/components/schemas/{model}"
PROBLEM = "Problem"
PROBLEM_MEDIA_TYPE = "application/problem+json"
DEPENDENCIES = {"request", "settings", "temporal", "issuer", "services", "state", "scope"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PROBES = {"/api/health", "/api/ready"}
"""Outside auth and rate limits; /api/ready documents its own 503 body."""

BEARER = "BearerToken"  # JWTAuth's scheme name
CONSOLE_SESSION = "sessionCookie"  # SessionAuth's scheme name (the console's wd_console cookie)
CODEC_SESSION = "codecSession"
CODEC_SESSION_SCHEME = SecurityScheme(
    type="apiKey",
    name=CODEC_COOKIE,
    security_scheme_in="cookie",
    description="Codec session cookie from POST /api/temporal-codec/session (codec routes only)",
)

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["title", "status", "detail"],
    properties={
        "type": Schema(type=OpenAPIType.STRING),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
        "detail": Schema(type=OpenAPIType.STRING),
        "code": Schema(
            type=OpenAPIType.STRING,
            description="A machine-readable reason where one exists, e.g. "
            "password_change_required or two_factor_enrolment_required",
        ),
        "extra": Schema(
            type=[OpenAPIType.ARRAY, OpenAPIType.OBJECT, OpenAPIType.NULL],
            description="Field errors of a refused body or parameter",
        ),
    },
    description="RFC 9457 problem details",
)


def _statuses(route: HTTPRoute, handler: HTTPRouteHandler, method: str) -> set[int]:
    params = set(handler.parsed_fn_signature.parameters)
    inputs = params - DEPENDENCIES
    has_body = "data" in params
    asks_workflow = "temporal" in params
    # Routes outside the JWT middleware may still authenticate in a guard (the codec routes).
    authenticated = not handler.opt.get("exclude_from_auth", False) or bool(
        handler.resolve_guards()
    )
    statuses: set[int] = set(handler.opt.get("errors", ()))
    if inputs or route.path_parameters:
        statuses.add(400)
    if has_body:
        statuses |= {400, 413, 422}
    if authenticated:
        statuses |= {401, 403}
    if route.path_parameters:
        statuses.add(404)
    if (authenticated and method in WRITES) or asks_workflow:
        statuses.add(409)
    if asks_workflow:
        statuses |= {422, 503}
    if route.path.startswith("/api/"):
        statuses.add(429)
    return statuses


def _problem_response(status: int) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase,
        content={
            PROBLEM_MEDIA_TYPE: OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/{PROBLEM}")
            )
        },
    )


def body_model(handler: HTTPRouteHandler) -> type[BaseModel] | None:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    for candidate in (data.annotation, *data.inner_types):
        annotation = getattr(candidate, "annotation", candidate)
        for option in (annotation, *get_args(annotation)):
            if isinstance(option, type) and issubclass(option, BaseModel):
                return option
    return None


def _no_nul(schema: Any) -> None:
    """Every free string in a body says what the parser enforces: no NUL (api.json_limits)."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
            schema["pattern"] = NO_NUL
        if isinstance(names := schema.get("propertyNames"), dict):
            names.setdefault("pattern", NO_NUL)
        for value in schema.values():
            _no_nul(value)
    elif isinstance(schema, list):
        for item in schema:
            _no_nul(item)


def _use_pydantic_schema(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    generated = model.model_json_schema(ref_template=REF_TEMPLATE, mode="validation")
    _no_nul(generated)
    for name, definition in generated.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = generated


def complete_openapi(app: Litestar) -> None:
    """Fix the app's OpenAPI document in place (call once, before it is served)."""
    openapi = app.openapi_schema
    components: Any = openapi.components
    schemas = components.schemas if components.schemas is not None else {}
    schemas[PROBLEM] = PROBLEM_SCHEMA
    components.schemas = schemas
    schemes = dict(components.security_schemes or {})
    schemes.pop(CONSOLE_SESSION, None)
    schemes[CODEC_SESSION] = CODEC_SESSION_SCHEME
    components.security_schemes = schemes
    openapi.security = [{BEARER: []}]
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path_item = (openapi.paths or {}).get(route.path_format or "/")
        if path_item is None:
            continue
        for method, (handler, _) in route.route_handler_map.items():
            operation: Operation | None = getattr(path_item, str(method).lower(), None)
            if operation is None:
                continue
            if handler.opt.get("exclude_from_auth", False):
                # Outside the JWT middleware: public, or a guard reads the token or its cookie.
                guarded = bool(handler.resolve_guards())
                operation.security = [{BEARER: []}, {CODEC_SESSION: []}] if guarded else []
            if route.path in PROBES:
                continue
            if (model := body_model(handler)) is not None:
                _use_pydantic_schema(schemas, model)
            body = handler.parsed_fn_signature.parameters.get("data")
            if (
                body is not None
                and body.has_default
                and isinstance(operation.request_body, RequestBody)
            ):
                operation.request_body.required = False  # e.g. a schedule's pause note
            responses = operation.responses if operation.responses is not None else {}
            declared = {str(code) for code in (handler.responses or {})}
            for code in [c for c in responses if c.isdigit() and int(c) >= 400]:
                if code not in declared:
                    del responses[code]  # Litestar's generic error shape; replaced below
            for status in sorted(_statuses(route, handler, str(method))):
                if str(status) not in declared:
                    responses[str(status)] = _problem_response(status)
            operation.responses = responses
