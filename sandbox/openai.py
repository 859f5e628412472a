"""OpenAI API emulator: chat completions and responses (enough for structured outputs) and the
model list. Output is deterministic listing copy (see `sandbox/openai_listing.py`) that validates
against the schema the caller asked for; strict schemas are checked the way OpenAI checks them.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody

from sandbox.core import SandboxContext
from sandbox.oas import SpecViolation, load_spec
from sandbox.openai_listing import InstanceBuilder, parse_record

SERVICE = "openai"
MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-4.1", "gpt-4.1-mini", "gpt-5-mini")
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "requests",
}
ERROR_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}


def error_body(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """OpenAI's error shape."""
    return {
        "error": {
            "message": message,
            "type": kind or ERROR_TYPES.get(status, "server_error"),
            "param": param,
            "code": code or ERROR_CODES.get(status),
        }
    }


@dataclass
class OpenaiState:
    quota_exhausted: bool = False


def state_of(ctx: SandboxContext) -> OpenaiState:
    state = getattr(ctx, "_openai_state", None)
    if state is None:
        state = OpenaiState()
        ctx._openai_state = state  # type: ignore[attr-defined]
        ctx.reset_hooks.append(lambda: setattr(state, "quota_exhausted", False))
    return state


class ApiError(Exception):
    def __init__(self, status: int, message: str, **kwargs: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, error_body(status, message, **kwargs)


def _headers(request_id: str, started: float) -> dict[str, str]:
    return {
        "x-request-id": request_id,
        "openai-processing-ms": str(int((time.perf_counter() - started) * 1000)),
        "x-ratelimit-limit-requests": "5000",
        "x-ratelimit-remaining-requests": "4999",
        "x-ratelimit-reset-requests": "12ms",
        "x-ratelimit-limit-tokens": "800000",
        "x-ratelimit-remaining-tokens": "799000",
        "x-ratelimit-reset-tokens": "75ms",
    }


def strict_schema_problem(schema: Any, path: str = "") -> str | None:
    """OpenAI's strict mode: every object closed (additionalProperties false) and every
    property required. Returns the first violation, phrased like the API's message."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            if schema.get("additionalProperties") is not False:
                return (
                    f"In context=({path}), 'additionalProperties' is required to be "
                    "supplied and to be false."
                )
            missing = set(schema.get("properties", {})) - set(schema.get("required", []))
            if missing:
                first = sorted(missing)[0]
                return (
                    f"In context=({path}), 'required' is required to be supplied and to be "
                    f"an array including every key in properties. Missing '{first}'."
                )
        for key, value in schema.items():
            problem = strict_schema_problem(value, f"{path}, '{key}'" if path else f"'{key}'")
            if problem:
                return problem
    elif isinstance(schema, list):
        for item in schema:
            problem = strict_schema_problem(item, path)
            if problem:
                return problem
    return None


def _tokens(text: str) -> int:
    """Rough and deterministic: ~4 ASCII characters or 1 CJK character per token."""
    ascii_chars = sum(1 for c in text if ord(c) < 128)
    return max(1, ascii_chars // 4 + (len(text) - ascii_chars))


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


class Generator:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def check(self, request: Request[Any, Any, Any], spec_path: str, body: Any) -> None:
        key = self.ctx.settings.openai_api_key.get_secret_value()
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {key}":
            shown = auth.removeprefix("Bearer ")
            masked = f"{shown[:3]}*****{shown[-4:]}" if len(shown) > 8 else "*****"
            raise ApiError(
                401,
                f"Incorrect API key provided: {masked}. You can find your API "
                "key at https://platform.openai.com/account/api-keys.",
            )
        if spec_path and body is not None:
            try:
                load_spec("openai").validate_request("POST", spec_path, body)
            except SpecViolation as exc:
                param = exc.errors[0].split(":", 1)[0].replace("/", ".")
                raise ApiError(400, f"Invalid request: {exc}", param=param) from exc
        if isinstance(body, dict) and "model" in body and body["model"] not in self.models():
            raise ApiError(
                404,
                f"The model `{body['model']}` does not exist or you do not have access to it.",
                code="model_not_found",
            )
        if spec_path and state_of(self.ctx).quota_exhausted:
            raise ApiError(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                code="insufficient_quota",
                kind="insufficient_quota",
            )

    def models(self) -> list[str]:
        return list(dict.fromkeys([self.ctx.settings.openai_model, *MODELS]))

    def answer(self, schema_format: dict[str, Any] | None, prompt: str) -> str:
        """The assistant's text: a schema instance (as JSON) or a plain translation."""
        record = parse_record(prompt)
        if schema_format is None:
            return record.title()
        schema = schema_format.get("schema") or {}
        if schema_format.get("strict"):
            problem = strict_schema_problem(schema)
            if problem:
                name = schema_format.get("name", "")
                raise ApiError(
                    400,
                    f"Invalid schema for response_format '{name}': {problem}",
                    param="response_format",
                    code="invalid_json_schema",
                )
        instance = InstanceBuilder(schema, record).build(schema)
        errors = list(Draft202012Validator(schema).iter_errors(instance))
        if errors:  # the emulator's own limitation, reported as OpenAI reports its failures
            raise ApiError(500, f"The sandbox could not fill this schema: {errors[0].message}")
        self.ctx.ledger.record(SERVICE, "completion", record.sku or prompt[:40])
        return json.dumps(instance, ensure_ascii=False)


def create_app(ctx: SandboxContext) -> Litestar:
    gen = Generator(ctx)

    async def run(request: Request[Any, Any, Any], spec_path: str, build: Any) -> Response[Any]:
        started = time.perf_counter()
        request_id = "req_" + secrets.token_hex(16)
        try:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw else None
            except ValueError as exc:
                raise ApiError(400, "We could not parse the JSON body of your request.") from exc
            gen.check(request, spec_path, body)
            payload = build(body)
        except ApiError as exc:
            return Response(exc.body, status_code=exc.status, headers=_headers(request_id, started))
        return Response(payload, status_code=200, headers=_headers(request_id, started))

    def chat(body: dict[str, Any]) -> dict[str, Any]:
        messages = body["messages"]
        prompt = "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") == "user")
        everything = "\n".join(_text_of(m.get("content")) for m in messages)
        fmt = body.get("response_format") or {}
        schema_format = fmt.get("json_schema") if fmt.get("type") == "json_schema" else None
        content = gen.answer(schema_format, prompt)
        prompt_tokens, completion_tokens = _tokens(everything), _tokens(content)
        return {
            "id": "chatcmpl-" + secrets.token_urlsafe(21),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_sandbox",
        }

    def responses(body: dict[str, Any]) -> dict[str, Any]:
        given = body.get("input")
        if isinstance(given, list):
            prompt = "\n".join(_text_of(m.get("content")) for m in given if isinstance(m, dict))
        else:
            prompt = str(given or "")
        fmt = (body.get("text") or {}).get("format") or {}
        schema_format = fmt if fmt.get("type") == "json_schema" else None
        content = gen.answer(schema_format, prompt)
        input_tokens = _tokens(prompt + str(body.get("instructions") or ""))
        output_tokens = _tokens(content)
        return {
            "id": "resp_" + secrets.token_hex(24),
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": body["model"],
            "output": [
                {
                    "type": "message",
                    "id": "msg_" + secrets.token_hex(24),
                    "status": "completed",
                    "role": "assistant",
                    "content": [
                        {"type": "output_text", "text": content, "annotations": [], "logprobs": []}
                    ],
                }
            ],
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None},
            "store": bool(body.get("store", True)),
            "temperature": body.get("temperature", 1.0),
            "text": {"format": fmt or {"type": "text"}},
            "tool_choice": "auto",
            "tools": [],
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": input_tokens + output_tokens,
            },
            "metadata": body.get("metadata") or {},
        }

    def model_entry(model: str) -> dict[str, Any]:
        return {"id": model, "object": "model", "created": 1715367049, "owned_by": "system"}

    @post("/v1/chat/completions")
    async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
        return await run(request, "/chat/completions", chat)

    @post("/v1/responses")
    async def create_response(request: Request[Any, Any, Any]) -> Response[Any]:
        return await run(request, "/responses", responses)

    @get("/v1/models")
    async def list_models(request: Request[Any, Any, Any]) -> Response[Any]:
        return await run(
            request,
            "",
            lambda _body: {"object": "list", "data": [model_entry(m) for m in gen.models()]},
        )

    @get("/v1/models/{model:str}")
    async def get_model(request: Request[Any, Any, Any], model: FromPath[str]) -> Response[Any]:
        def one(_body: Any) -> dict[str, Any]:
            if model not in gen.models():
                raise ApiError(404, f"The model '{model}' does not exist", param="model")
            return model_entry(model)

        return await run(request, "", one)

    def vendor_shaped(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
        """Litestar's own refusals (unknown route, wrong method) as OpenAI words them."""
        body = error_body(exc.status_code, str(exc.detail), kind="invalid_request_error")
        if exc.status_code in (404, 405):
            path = request.scope["path"]  # as OpenAI shows it: /v1/...
            body["error"].update(message=f"Invalid URL ({request.method} {path})", code=None)
        return Response(body, status_code=exc.status_code)

    return Litestar(
        [chat_completions, create_response, list_models, get_model],
        openapi_config=None,
        exception_handlers={HTTPException: vendor_shaped},
    )


def control_handlers(ctx: SandboxContext) -> list[Any]:
    state = state_of(ctx)

    @post("/_sandbox/openai/quota", status_code=200)
    async def quota(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        """Body `{"exhausted": bool}`: answer 429 insufficient_quota (billing) until cleared."""
        if not isinstance(data.get("exhausted"), bool):
            raise HTTPException(status_code=400, detail="'exhausted' must be true or false")
        state.quota_exhausted = data["exhausted"]
        return {"exhausted": state.quota_exhausted}

    return [quota]
