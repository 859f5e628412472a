"""HTML forms onto the JSON API's own request models: the same pydantic model validates a form
and a JSON body, and its errors come back per field in the page's language."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, get_args, get_origin

from litestar.exceptions import HTTPException
from pydantic import BaseModel, ValidationError

from api.console.i18n import gettext
from api.console.labels import N_

M = TypeVar("M", bound=BaseModel)


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _message(error: dict[str, Any], lang: str) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return gettext(lang, "This field is required.")
    if kind == "string_too_short":
        return gettext(lang, "Enter at least %(n)s characters.", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return gettext(lang, "Enter at most %(n)s characters.", n=ctx.get("max_length"))
    if kind in {"int_parsing", "int_from_float"}:
        return gettext(lang, "Enter a whole number.")
    if kind in {"float_parsing", "decimal_parsing"}:
        return gettext(lang, "Enter a number.")
    if kind in {"greater_than_equal", "greater_than"}:
        limit = ctx.get("ge", ctx.get("gt"))
        return gettext(lang, "Enter a number of at least %(n)s.", n=limit)
    if kind in {"less_than_equal", "less_than"}:
        limit = ctx.get("le", ctx.get("lt"))
        return gettext(lang, "Enter a number of at most %(n)s.", n=limit)
    if kind == "string_pattern_mismatch":
        return gettext(lang, "The format is not valid.")
    if kind == "enum":
        return gettext(lang, "Choose one of the listed values.")
    return gettext(lang, "This value is not valid.")


def _kinds(annotation: Any) -> set[Any]:
    """The plain types an annotation admits: `int | None`, `Annotated[float, ...] | None`."""
    if get_origin(annotation) is Annotated:
        return _kinds(get_args(annotation)[0])
    args = get_args(annotation)
    if args:
        return {kind for arg in args for kind in _kinds(arg)}
    return {annotation}


def _typed(model: type[BaseModel], name: str, value: Any) -> Any:
    """A form sends text; the API's numbers take JSON numbers only, so a number field's text
    becomes the number it spells (text that is no number stays text and is refused)."""
    info = model.model_fields.get(name)
    if info is None or not isinstance(value, str):
        return value
    kinds = _kinds(info.annotation)
    text = value.strip()
    try:
        if int in kinds:
            return int(text)
        if float in kinds:
            return float(text)
    except ValueError:
        return value
    return value


def parse(model: type[M], values: dict[str, Any], lang: str) -> M:
    """`model(**values)` with empty strings dropped (so defaults apply); FormInvalid otherwise."""
    cleaned = {k: _typed(model, k, v) for k, v in values.items() if v not in ("", None)}
    try:
        return model.model_validate(cleaned)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error.get("loc") else "__all__"
            errors.setdefault(name, _message(dict(error), lang))
        raise FormInvalid(errors) from exc


def problem(exc: HTTPException, lang: str) -> str:
    """A refusal from a service, led by a sentence in the page's language."""
    leads = {
        400: N_("The request was not accepted."),
        401: N_("Sign-in failed."),
        403: N_("Your role does not allow this."),
        404: N_("Not found."),
        409: N_("This cannot be done in the current state."),
        422: N_("The input was not accepted."),
        423: N_("The account is locked after repeated failures. Try again later."),
        429: N_("Too many attempts. Try again later."),
        503: N_("A service is not reachable right now. Try again shortly."),
    }
    lead = gettext(lang, leads.get(exc.status_code, N_("The request failed.")))
    return f"{lead} ({exc.detail})" if exc.detail else lead
