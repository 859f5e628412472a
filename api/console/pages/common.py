"""What every console page handler shares: reading a form or a JSON body, the redirect with a
message after an action, and the two shapes of a refusal (a page message, a JSON detail)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from pydantic import BaseModel

from api.console.forms import FormInvalid, parse, problem
from api.console.i18n import gettext, language_of
from api.console.labels import N_
from api.console.render import remember

NOT_ANSWERED_YET = N_(
    "Sent; the workflow has not answered yet (it applies the same rules when it runs). "
    "Check the status in a moment."
)
"""A staff command answered 202 (api/workflows.py `command`): the workflow has it, no answer."""

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 50
M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=StrEnum)


async def form_values(request: AnyRequest) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "_csrf_token"}


def pick(values: dict[str, str], names: Iterable[str]) -> dict[str, str]:
    """The named fields of a form ("" where missing), for a request model."""
    return {k: values.get(k, "") for k in names}


def choice(kind: type[E], raw: str) -> E | None:
    """A filter's value, or None when it names no member (an unknown filter shows all)."""
    return kind(raw) if raw in kind.__members__.values() else None


def back(request: AnyRequest, path: str, message: str, kind: str = "ok") -> Redirect:
    remember(request, message, kind)
    return Redirect(path, status_code=303)


async def act(
    request: AnyRequest, here: str, call: Callable[[], Awaitable[Any]], done: str
) -> Redirect:
    """Run a service action and go back to `here` with `done`, or with the refusal."""
    try:
        await call()
    except HTTPException as exc:
        return back(request, here, problem(exc, language_of(request)), "error")
    return back(request, here, done)


async def submit(
    request: AnyRequest,
    here: str,
    call: Callable[[dict[str, str], str], Awaitable[str]],
    again: Callable[[dict[str, str], dict[str, str]], Awaitable[Template]],
) -> Template | Redirect:
    """A form post: `call(values, lang)` validates the form with the API's model, runs the
    service and returns the message id to show; field errors show the page again through
    `again(values, errors)` with what was typed; a refusal goes back to `here` with its reason."""
    lang = language_of(request)
    values = await form_values(request)
    try:
        done = await call(values, lang)
    except FormInvalid as exc:
        return await again(values, exc.errors)
    except HTTPException as exc:
        return back(request, here, problem(exc, lang), "error")
    return back(request, here, gettext(lang, done))


async def json_body(request: AnyRequest) -> dict[str, Any]:
    body = await request.json()
    return body if isinstance(body, dict) else {}


def json_error(exc: HTTPException | FormInvalid, lang: str) -> Response[dict[str, Any]]:
    if isinstance(exc, FormInvalid):
        return Response({"detail": " ".join(exc.errors.values())}, status_code=422)
    return Response({"detail": problem(exc, lang)}, status_code=exc.status_code)


async def json_call(
    request: AnyRequest,
    model: type[M],
    call: Callable[[M], Awaitable[Any]],
    shape: Callable[[Any], Any],
) -> Response[Any]:
    """A script's JSON call: the body validated by the API's model, the service's answer shaped
    for the page, a refusal as `{"detail": ...}` in the page's language."""
    lang = language_of(request)
    try:
        result = await call(parse(model, await json_body(request), lang))
    except (HTTPException, FormInvalid) as exc:
        return json_error(exc, lang)
    return Response(shape(result))
